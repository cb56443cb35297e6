//! Known signing keys and the principals they belong to.

use std::collections::HashMap;
use std::path::Path;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Who signed a request, as CloudTrail's `userIdentity` will describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    /// `Root` or `IAMUser`.
    pub identity_type: String,
    pub arn: String,
    pub principal_id: String,
    pub user_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CredentialEntry {
    pub secret_access_key: String,
    pub principal: Principal,
}

/// Access key id → secret and principal.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    entries: HashMap<String, CredentialEntry>,
}

impl CredentialStore {
    pub fn with_root(access_key_id: &str, secret_access_key: &str, account_id: &str) -> Self {
        let mut store = CredentialStore::default();
        store.entries.insert(
            access_key_id.to_string(),
            CredentialEntry {
                secret_access_key: secret_access_key.to_string(),
                principal: Principal {
                    account_id: account_id.to_string(),
                    identity_type: "Root".into(),
                    arn: format!("arn:aws:iam::{account_id}:root"),
                    principal_id: account_id.to_string(),
                    user_name: None,
                },
            },
        );
        store
    }

    pub fn lookup(&self, access_key_id: &str) -> Option<&CredentialEntry> {
        self.entries.get(access_key_id)
    }
}

/// The root credentials of a watchtrail installation.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RootCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
}

impl std::fmt::Debug for RootCredentials {
    // The secret must never reach a log line, even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("account_id", &self.account_id)
            .finish()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum CredentialSource {
    Environment,
    /// Loaded from the data directory, generated on an earlier start.
    DataDir,
    /// Generated now; the caller prints them once.
    Generated,
}

pub const CREDENTIALS_FILE: &str = "root-credentials.json";

impl RootCredentials {
    pub fn validate_account_id(account_id: &str) -> Result<(), String> {
        if account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(format!("account id must be 12 digits, got {account_id:?}"))
        }
    }

    /// Environment first (`WATCHTRAIL_ROOT_ACCESS_KEY_ID`, `WATCHTRAIL_ROOT_SECRET_ACCESS_KEY`,
    /// `WATCHTRAIL_ACCOUNT_ID`), then the data directory, else generate and persist with 0600.
    pub fn load_or_generate(
        data_dir: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(RootCredentials, CredentialSource), String> {
        let key = env("WATCHTRAIL_ROOT_ACCESS_KEY_ID").filter(|v| !v.is_empty());
        let secret = env("WATCHTRAIL_ROOT_SECRET_ACCESS_KEY").filter(|v| !v.is_empty());
        let account = env("WATCHTRAIL_ACCOUNT_ID").filter(|v| !v.is_empty());
        match (key, secret) {
            (Some(access_key_id), Some(secret_access_key)) => {
                let account_id = account.unwrap_or_else(|| "000000000000".to_string());
                Self::validate_account_id(&account_id)?;
                return Ok((
                    RootCredentials { access_key_id, secret_access_key, account_id },
                    CredentialSource::Environment,
                ));
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err("set both WATCHTRAIL_ROOT_ACCESS_KEY_ID and WATCHTRAIL_ROOT_SECRET_ACCESS_KEY, or neither".into())
            }
            (None, None) => {}
        }
        let path = data_dir.join(CREDENTIALS_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            let creds: RootCredentials = serde_json::from_str(&text)
                .map_err(|e| format!("parsing {}: {e}", path.display()))?;
            Self::validate_account_id(&creds.account_id)?;
            return Ok((creds, CredentialSource::DataDir));
        }
        let mut rng = rand::rng();
        const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const SECRET_ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let access_key_id: String = "AKIA"
            .chars()
            .chain((0..16).map(|_| KEY_ALPHABET[rng.random_range(0..KEY_ALPHABET.len())] as char))
            .collect();
        let secret_access_key: String = (0..40)
            .map(|_| SECRET_ALPHABET[rng.random_range(0..SECRET_ALPHABET.len())] as char)
            .collect();
        let account_id = match account {
            Some(a) => {
                Self::validate_account_id(&a)?;
                a
            }
            None => {
                let mut digits: String = (0..12)
                    .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                    .collect();
                if digits.starts_with('0') {
                    digits.replace_range(0..1, "1");
                }
                digits
            }
        };
        let creds = RootCredentials {
            access_key_id,
            secret_access_key,
            account_id,
        };
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
        write_private_file(
            &path,
            &serde_json::to_vec_pretty(&creds).expect("serializable"),
        )?;
        Ok((creds, CredentialSource::Generated))
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    file.write_all(contents)
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("renaming to {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reloaded_with_private_mode() {
        let dir = std::env::temp_dir().join(format!("wt-creds-{}", uuid::Uuid::new_v4()));
        let (first, source) = RootCredentials::load_or_generate(&dir, |_| None).unwrap();
        assert_eq!(source, CredentialSource::Generated);
        assert_eq!(first.access_key_id.len(), 20);
        assert_eq!(first.secret_access_key.len(), 40);
        RootCredentials::validate_account_id(&first.account_id).unwrap();
        let (second, source) = RootCredentials::load_or_generate(&dir, |_| None).unwrap();
        assert_eq!(source, CredentialSource::DataDir);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(CREDENTIALS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{first:?}").contains(&first.secret_access_key));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn environment_wins_and_account_is_validated() {
        let dir = std::env::temp_dir().join(format!("wt-creds-{}", uuid::Uuid::new_v4()));
        let env = |k: &str| match k {
            "WATCHTRAIL_ROOT_ACCESS_KEY_ID" => Some("AKIAENV".to_string()),
            "WATCHTRAIL_ROOT_SECRET_ACCESS_KEY" => Some("secret".to_string()),
            "WATCHTRAIL_ACCOUNT_ID" => Some("12345".to_string()),
            _ => None,
        };
        assert!(RootCredentials::load_or_generate(&dir, env).is_err());
        assert!(
            !dir.exists(),
            "nothing is written when the environment supplies credentials"
        );
    }
}
