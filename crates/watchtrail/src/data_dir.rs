//! The data directory: one process at a time, and the root credentials kept in it.

use std::path::Path;

use watchtrail_protocol::credentials::{CredentialSource, CREDENTIALS_FILE};
use watchtrail_protocol::RootCredentials;

/// An exclusive lock on `DATA/LOCK`, held for the life of the process, so a server and an import
/// (or two servers) never write the same WAL and catalog at once.
pub struct DataDirLock {
    _file: std::fs::File,
}

impl DataDirLock {
    pub fn acquire(data_dir: &Path) -> anyhow::Result<DataDirLock> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| anyhow::anyhow!("creating data directory {}: {e}", data_dir.display()))?;
        let path = data_dir.join("LOCK");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
        file.try_lock().map_err(|_| {
            anyhow::anyhow!(
                "{} is in use by another watchtrail process (serve or import)",
                data_dir.display()
            )
        })?;
        Ok(DataDirLock { _file: file })
    }
}

/// Loads or generates the root credentials; freshly generated ones are printed once to stdout,
/// never through tracing, so the secret cannot end up in stored logs.
pub fn root_credentials(
    data_dir: &Path,
    region: &str,
) -> anyhow::Result<(RootCredentials, CredentialSource)> {
    let (root, source) = RootCredentials::load_or_generate(data_dir, |k| std::env::var(k).ok())
        .map_err(|e| anyhow::anyhow!(e))?;
    if source == CredentialSource::Generated {
        println!(
            "Generated root credentials (stored in {} with mode 0600):",
            data_dir.join(CREDENTIALS_FILE).display()
        );
        println!("  export AWS_ACCESS_KEY_ID={}", root.access_key_id);
        println!("  export AWS_SECRET_ACCESS_KEY={}", root.secret_access_key);
        println!("  export AWS_DEFAULT_REGION={region}");
    }
    Ok((root, source))
}
