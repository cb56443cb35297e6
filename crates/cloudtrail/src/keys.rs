//! Digest signing keys: one RSA-2048 key pair at a time per account and region, rotated after a
//! fixed period. Private keys live only in `DATA/cloudtrail/keys/` (mode 0600); only public keys
//! (DER PKCS#1, as ListPublicKeys returns them) ever leave this module.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use md5::{Digest as _, Md5};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::persist::{read_checked, write_checked};

const KEY_BITS: usize = 2048;

/// A public key as ListPublicKeys describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// DER-encoded PKCS#1 `RSAPublicKey`.
    pub der: Vec<u8>,
    /// Hex MD5 of `der`; digests name their key by it.
    pub fingerprint: String,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    /// Base64 DER PKCS#1 private key. Never logged: `StoredKey` has no Debug.
    private_der: String,
    public_der: String,
    fingerprint: String,
    valid_from_ms: i64,
    /// Set when the key was retired; until then the key is valid to `valid_from_ms + rotation`.
    retired_ms: Option<i64>,
}

/// A signature made with the current key of an account and region.
pub struct DigestSignature {
    pub signature_hex: String,
    pub fingerprint: String,
}

pub struct KeyRing {
    dir: PathBuf,
    rotation_ms: i64,
    /// (account, region) → keys, oldest first; the last one signs.
    cache: Mutex<HashMap<(String, String), Vec<StoredKey>>>,
}

impl KeyRing {
    pub fn open(dir: &Path, rotation: std::time::Duration) -> std::io::Result<KeyRing> {
        std::fs::create_dir_all(dir)?;
        restrict_dir(dir)?;
        Ok(KeyRing {
            dir: dir.to_path_buf(),
            rotation_ms: rotation.as_millis().max(1000) as i64,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn file(&self, account: &str, region: &str) -> PathBuf {
        self.dir.join(format!("{account}_{region}.json"))
    }

    fn load(&self, account: &str, region: &str) -> std::io::Result<Vec<StoredKey>> {
        let key = (account.to_string(), region.to_string());
        if let Some(keys) = self.cache.lock().unwrap().get(&key) {
            return Ok(keys.clone());
        }
        let keys: Vec<StoredKey> = match read_checked(&self.file(account, region))? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            None => Vec::new(),
        };
        self.cache.lock().unwrap().insert(key, keys.clone());
        Ok(keys)
    }

    fn store(&self, account: &str, region: &str, keys: Vec<StoredKey>) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(&keys).map_err(std::io::Error::other)?;
        write_checked(&self.file(account, region), &bytes, true)?;
        self.cache
            .lock()
            .unwrap()
            .insert((account.to_string(), region.to_string()), keys);
        Ok(())
    }

    /// The signing key for `now`, generating or rotating it if needed. Key generation takes a
    /// noticeable fraction of a second, so callers run this off the async reactor.
    fn current(&self, account: &str, region: &str, now_ms: i64) -> std::io::Result<StoredKey> {
        let mut keys = self.load(account, region)?;
        if let Some(last) = keys.last() {
            if now_ms < last.valid_from_ms + self.rotation_ms {
                return Ok(last.clone());
            }
        }
        if let Some(last) = keys.last_mut() {
            last.retired_ms = Some(now_ms);
        }
        let fresh = generate(now_ms)?;
        keys.push(fresh.clone());
        self.store(account, region, keys)?;
        tracing::info!(account, region, fingerprint = %fresh.fingerprint, "generated a digest signing key");
        Ok(fresh)
    }

    /// Retires the current key now so the next signature uses a new one.
    pub fn rotate(&self, account: &str, region: &str, now_ms: i64) -> std::io::Result<String> {
        let mut keys = self.load(account, region)?;
        if let Some(last) = keys.last_mut() {
            last.retired_ms = Some(now_ms);
        }
        let fresh = generate(now_ms)?;
        let fingerprint = fresh.fingerprint.clone();
        keys.push(fresh);
        self.store(account, region, keys)?;
        Ok(fingerprint)
    }

    pub fn sign(
        &self,
        account: &str,
        region: &str,
        now_ms: i64,
        message: &[u8],
    ) -> std::io::Result<DigestSignature> {
        let key = self.current(account, region, now_ms)?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(&key.private_der)
            .map_err(std::io::Error::other)?;
        let private = RsaPrivateKey::from_pkcs1_der(&der).map_err(std::io::Error::other)?;
        let signing = SigningKey::<Sha256>::new(private);
        let signature = signing
            .try_sign(message)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(DigestSignature {
            signature_hex: hex::encode(signature.to_bytes()),
            fingerprint: key.fingerprint,
        })
    }

    /// Public keys whose validity overlaps `[start_ms, end_ms]`, oldest first. Makes sure a
    /// current key exists, so a fresh account can already answer ListPublicKeys.
    pub fn public_keys(
        &self,
        account: &str,
        region: &str,
        now_ms: i64,
        start_ms: i64,
        end_ms: i64,
    ) -> std::io::Result<Vec<PublicKeyInfo>> {
        self.current(account, region, now_ms)?;
        let keys = self.load(account, region)?;
        let mut out = Vec::new();
        for key in keys {
            let valid_until_ms = key
                .retired_ms
                .unwrap_or(key.valid_from_ms + self.rotation_ms);
            if key.valid_from_ms <= end_ms && valid_until_ms >= start_ms {
                out.push(PublicKeyInfo {
                    der: base64::engine::general_purpose::STANDARD
                        .decode(&key.public_der)
                        .map_err(std::io::Error::other)?,
                    fingerprint: key.fingerprint,
                    valid_from_ms: key.valid_from_ms,
                    valid_until_ms,
                });
            }
        }
        Ok(out)
    }
}

fn generate(now_ms: i64) -> std::io::Result<StoredKey> {
    let mut rng = rsa::rand_core::OsRng;
    let private = RsaPrivateKey::new(&mut rng, KEY_BITS).map_err(std::io::Error::other)?;
    let public_der = private
        .to_public_key()
        .to_pkcs1_der()
        .map_err(std::io::Error::other)?
        .as_bytes()
        .to_vec();
    let private_der = private.to_pkcs1_der().map_err(std::io::Error::other)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(StoredKey {
        private_der: b64.encode(private_der.as_bytes()),
        fingerprint: fingerprint(&public_der),
        public_der: b64.encode(&public_der),
        valid_from_ms: now_ms,
        retired_ms: None,
    })
}

/// CloudTrail's key fingerprint: hex MD5 of the DER PKCS#1 public key.
pub fn fingerprint(public_der: &[u8]) -> String {
    hex::encode(Md5::digest(public_der))
}

#[cfg(unix)]
fn restrict_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn restrict_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    #[test]
    fn signs_with_a_key_listed_by_fingerprint_and_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::open(dir.path(), std::time::Duration::from_secs(3600)).unwrap();
        let signed = ring
            .sign("123456789012", "us-east-1", 1_000_000, b"hello")
            .unwrap();
        let keys = ring
            .public_keys("123456789012", "us-east-1", 1_000_000, 0, 2_000_000)
            .unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].fingerprint, signed.fingerprint);
        assert_eq!(keys[0].fingerprint, fingerprint(&keys[0].der));
        let public = rsa::RsaPublicKey::from_pkcs1_der(&keys[0].der).unwrap();
        let signature =
            Signature::try_from(hex::decode(&signed.signature_hex).unwrap().as_slice()).unwrap();
        VerifyingKey::<Sha256>::new(public)
            .verify(b"hello", &signature)
            .unwrap();

        // After the rotation period a new key signs; both stay listed for their windows.
        let later = 1_000_000 + 3_600_000 + 1;
        let rotated = ring.sign("123456789012", "us-east-1", later, b"x").unwrap();
        assert_ne!(rotated.fingerprint, signed.fingerprint);
        let both = ring
            .public_keys("123456789012", "us-east-1", later, 0, later)
            .unwrap();
        assert_eq!(both.len(), 2);
        let recent = ring
            .public_keys("123456789012", "us-east-1", later, later + 1, later + 1)
            .unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].fingerprint, rotated.fingerprint);

        // The key file is private and reloads.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("123456789012_us-east-1.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let reopened = KeyRing::open(dir.path(), std::time::Duration::from_secs(3600)).unwrap();
        let again = reopened
            .public_keys("123456789012", "us-east-1", later, 0, later)
            .unwrap();
        assert_eq!(again, both);
    }
}
