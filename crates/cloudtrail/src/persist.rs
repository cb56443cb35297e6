//! Small durable files: written whole to a temporary file, fsynced, renamed over the old one, and
//! prefixed with the SHA-256 of their content so a damaged file is refused instead of half-read.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Reads a file written by [`write_checked`]; `None` if it does not exist.
pub fn read_checked(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let newline = bytes.iter().position(|&b| b == b'\n').ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} has no checksum line", path.display()),
        )
    })?;
    let (header, body) = (&bytes[..newline], &bytes[newline + 1..]);
    if header != hex::encode(Sha256::digest(body)).as_bytes() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is corrupt: checksum mismatch", path.display()),
        ));
    }
    Ok(Some(body.to_vec()))
}

/// Atomically replaces `path` with `body`; `private` files get mode 0600.
pub fn write_checked(path: &Path, body: &[u8], private: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut file = options.open(&tmp)?;
        file.write_all(hex::encode(Sha256::digest(body)).as_bytes())?;
        file.write_all(b"\n")?;
        file.write_all(body)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(read_checked(&path).unwrap(), None);
        write_checked(&path, b"{\"a\":1}", false).unwrap();
        assert_eq!(read_checked(&path).unwrap().unwrap(), b"{\"a\":1}");
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] = b'2';
        std::fs::write(&path, bytes).unwrap();
        assert!(read_checked(&path).is_err());
    }
}
