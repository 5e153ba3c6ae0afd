//! `keys.json`: the vault's data key, wrapped twice (recovery passphrase through Argon2id, and a
//! key-encryption key held by the OS keyring). AES-256-GCM with the vault id and the wrap's kind
//! as associated data, so a wrap cannot be moved to another vault or slot.
//!
//! The file is replaced atomically (write to a temporary file, fsync, rename, fsync the folder).

use crate::error::{Error, Result};
use crate::secret::Key32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

pub const KEY_FILE: &str = "keys.json";
const FORMAT: &str = "techo-vault-keys";
const VERSION: u32 = 1;

/// Argon2id parameters. The minimums are checked on every unlock, so a key file edited to
/// weaker settings is refused rather than used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl KdfParams {
    pub const MIN: KdfParams = KdfParams { m_kib: 64 * 1024, t: 3, p: 1 };
    /// Upper bounds keep a hostile key file from making unlock take minutes or all memory.
    const MAX: KdfParams = KdfParams { m_kib: 2 * 1024 * 1024, t: 64, p: 16 };
    pub const DEFAULT: KdfParams = KdfParams { m_kib: 64 * 1024, t: 3, p: 1 };

    fn check(&self) -> Result<()> {
        let ok = (Self::MIN.m_kib..=Self::MAX.m_kib).contains(&self.m_kib)
            && (Self::MIN.t..=Self::MAX.t).contains(&self.t)
            && (Self::MIN.p..=Self::MAX.p).contains(&self.p)
            && self.m_kib >= 8 * self.p;
        if ok {
            Ok(())
        } else {
            Err(Error::Corrupt(
                "the key file asks for Argon2id settings outside what Techo allows; it may have been tampered with".into(),
            ))
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PassphraseWrap {
    pub kdf: String,
    #[serde(flatten)]
    pub params: KdfParams,
    pub salt: String,
    pub nonce: String,
    pub ciphertext: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyringWrap {
    pub nonce: String,
    pub ciphertext: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Wraps {
    pub passphrase: PassphraseWrap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring: Option<KeyringWrap>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyFile {
    pub format: String,
    pub version: u32,
    pub vault_id: String,
    pub current: Wraps,
    /// Present only while a rekey is under way: the new data key's wraps. If the database opens
    /// with this key and not the current one, the rekey finished and the file is updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Wraps>,
    /// The database's SQLCipher page size, which must be given before every open. Key files
    /// without it (vaults made before it was recorded) use SQLCipher's default, 4096.
    #[serde(default = "legacy_page_size")]
    pub page_size: u32,
}

/// The page size of new vaults: 16 KiB pages cut per-page encryption, HMAC and B-tree work
/// about in half on big imports compared with SQLCipher's default of 4 KiB.
pub const PAGE_SIZE: u32 = 16 * 1024;

fn legacy_page_size() -> u32 {
    4096
}

fn aad(vault_id: &str, slot: &str) -> Vec<u8> {
    format!("techo-vault-keys/v1/{vault_id}/{slot}").into_bytes()
}

fn seal(kek: &Key32, data_key: &Key32, aad: &[u8]) -> (String, String) {
    let cipher = Aes256Gcm::new_from_slice(kek.expose()).expect("32-byte key");
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: data_key.expose(), aad })
        .expect("AES-GCM encryption of 32 bytes cannot fail");
    (hex::encode(nonce), hex::encode(ct))
}

fn open(kek: &Key32, nonce: &str, ct: &str, aad: &[u8]) -> Option<Key32> {
    let cipher = Aes256Gcm::new_from_slice(kek.expose()).ok()?;
    let nonce = hex::decode(nonce).ok().filter(|n| n.len() == 12)?;
    let ct = hex::decode(ct).ok()?;
    let pt = zeroize::Zeroizing::new(cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad }).ok()?);
    Key32::from_bytes(&pt)
}

fn derive(passphrase: &SecretString, salt: &[u8], p: KdfParams) -> Result<Key32> {
    let params = argon2::Params::new(p.m_kib, p.t, p.p, Some(32))
        .map_err(|_| Error::Corrupt("the key file's Argon2id settings are invalid".into()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, &mut out[..])
        .map_err(|_| Error::Corrupt("the key file's Argon2id salt is invalid".into()))?;
    Ok(Key32::from_bytes(&out[..]).expect("32 bytes"))
}

/// Rules for a new recovery passphrase.
pub fn check_new_passphrase(p: &SecretString) -> Result<()> {
    let s = p.expose_secret();
    if s.chars().count() < 8 {
        return Err(Error::InvalidInput("the recovery passphrase must be at least 8 characters long".into()));
    }
    if s.len() > 1024 {
        return Err(Error::InvalidInput("the recovery passphrase must be at most 1024 bytes long".into()));
    }
    if s.trim() != s {
        return Err(Error::InvalidInput("the recovery passphrase must not start or end with a space".into()));
    }
    Ok(())
}

impl PassphraseWrap {
    pub fn new(vault_id: &str, passphrase: &SecretString, data_key: &Key32, params: KdfParams) -> Result<Self> {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let kek = derive(passphrase, &salt, params)?;
        let (nonce, ciphertext) = seal(&kek, data_key, &aad(vault_id, "passphrase"));
        Ok(PassphraseWrap { kdf: "argon2id".into(), params, salt: hex::encode(salt), nonce, ciphertext })
    }

    pub fn unwrap_key(&self, vault_id: &str, passphrase: &SecretString) -> Result<Key32> {
        if self.kdf != "argon2id" {
            return Err(Error::Corrupt("the key file names an unknown key-derivation function".into()));
        }
        self.params.check()?;
        let salt = hex::decode(&self.salt)
            .ok()
            .filter(|s| s.len() >= 16)
            .ok_or_else(|| Error::Corrupt("the key file's salt is invalid".into()))?;
        let kek = derive(passphrase, &salt, self.params)?;
        open(&kek, &self.nonce, &self.ciphertext, &aad(vault_id, "passphrase")).ok_or(Error::WrongPassphrase)
    }
}

impl KeyringWrap {
    pub fn new(vault_id: &str, kek: &Key32, data_key: &Key32) -> Self {
        let (nonce, ciphertext) = seal(kek, data_key, &aad(vault_id, "keyring"));
        KeyringWrap { nonce, ciphertext }
    }

    pub fn unwrap_key(&self, vault_id: &str, kek: &Key32) -> Option<Key32> {
        open(kek, &self.nonce, &self.ciphertext, &aad(vault_id, "keyring"))
    }
}

impl KeyFile {
    pub fn new(vault_id: String, current: Wraps) -> Self {
        KeyFile { format: FORMAT.into(), version: VERSION, vault_id, current, pending: None, page_size: PAGE_SIZE }
    }

    pub fn load(dir: &Path) -> Result<KeyFile> {
        let path = dir.join(KEY_FILE);
        let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
        if bytes.len() > 64 * 1024 {
            return Err(Error::NotAVault { path: dir.to_owned(), reason: "keys.json is far too large".into() });
        }
        let kf: KeyFile = serde_json::from_slice(&bytes).map_err(|_| Error::NotAVault {
            path: dir.to_owned(),
            reason: "keys.json is not a Techo key file".into(),
        })?;
        if kf.format != FORMAT {
            return Err(Error::NotAVault { path: dir.to_owned(), reason: "keys.json is not a Techo key file".into() });
        }
        if kf.version > VERSION {
            return Err(Error::NewerVersion { found: kf.version as i64, supported: VERSION as i64 });
        }
        if !matches!(kf.page_size, 1024 | 2048 | 4096 | 8192 | 16384 | 32768 | 65536) {
            return Err(Error::NotAVault { path: dir.to_owned(), reason: "keys.json names an impossible page size".into() });
        }
        Ok(kf)
    }

    /// Replaces `keys.json` atomically and durably.
    pub fn store(&self, dir: &Path) -> Result<()> {
        let path = dir.join(KEY_FILE);
        let tmp = dir.join(".keys.json.tmp");
        let json = serde_json::to_vec_pretty(self).expect("key file serializes");
        {
            let mut f = std::fs::File::create(&tmp).map_err(Error::io(&tmp))?;
            f.write_all(&json).map_err(Error::io(&tmp))?;
            f.sync_all().map_err(Error::io(&tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(Error::io(&path))?;
        crate::platform::sync_dir(dir).map_err(Error::io(dir))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_wrap_round_trip_and_wrong_passphrase() {
        let k = Key32::random();
        let w = PassphraseWrap::new("v1", &SecretString::from("correct horse"), &k, KdfParams::DEFAULT).unwrap();
        let back = w.unwrap_key("v1", &SecretString::from("correct horse")).unwrap();
        assert_eq!(back.expose(), k.expose());
        assert!(matches!(w.unwrap_key("v1", &SecretString::from("wrong horse")), Err(Error::WrongPassphrase)));
        // Bound to the vault id.
        assert!(matches!(w.unwrap_key("v2", &SecretString::from("correct horse")), Err(Error::WrongPassphrase)));
    }

    #[test]
    fn weakened_parameters_are_refused() {
        let k = Key32::random();
        let mut w = PassphraseWrap::new("v", &SecretString::from("correct horse"), &k, KdfParams::DEFAULT).unwrap();
        for weak in [KdfParams { m_kib: 8, t: 3, p: 1 }, KdfParams { m_kib: 65536, t: 1, p: 1 }, KdfParams { m_kib: 65536, t: 3, p: 0 }] {
            w.params = weak;
            assert!(matches!(w.unwrap_key("v", &SecretString::from("correct horse")), Err(Error::Corrupt(_))));
        }
    }

    #[test]
    fn keyring_wrap_round_trip() {
        let k = Key32::random();
        let kek = Key32::random();
        let w = KeyringWrap::new("v", &kek, &k);
        assert_eq!(w.unwrap_key("v", &kek).unwrap().expose(), k.expose());
        assert!(w.unwrap_key("v", &Key32::random()).is_none());
    }

    #[test]
    fn new_passphrase_rules() {
        assert!(check_new_passphrase(&SecretString::from("short")).is_err());
        assert!(check_new_passphrase(&SecretString::from(" leading space")).is_err());
        assert!(check_new_passphrase(&SecretString::from("長いパスフレーズです")).is_ok());
    }
}
