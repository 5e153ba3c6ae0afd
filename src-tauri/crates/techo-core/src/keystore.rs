//! Where the keyring's key-encryption key lives: the OS keyring (Secret Service, macOS Keychain,
//! Windows Credential Manager), or nowhere (headless machines, CI, `TECHO_KEYRING=none`).

use crate::secret::Key32;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// No keyring service on this machine, or it refused access.
    #[error("{0}")]
    Unavailable(String),
}

/// A place that keeps one key-encryption key per vault.
pub trait KeyStore: Send + Sync {
    fn get(&self, vault_id: &str) -> Result<Option<Key32>, KeyStoreError>;
    fn set(&self, vault_id: &str, kek: &Key32) -> Result<(), KeyStoreError>;
    fn delete(&self, vault_id: &str) -> Result<(), KeyStoreError>;
}

const SERVICE: &str = "jp.techo.vault";

/// The operating system's keyring, through the `keyring` crate's native backend.
#[derive(Debug, Default)]
pub struct OsKeyring;

impl OsKeyring {
    pub fn new() -> Self {
        OsKeyring
    }

    fn entry(vault_id: &str) -> Result<keyring::Entry, KeyStoreError> {
        keyring::Entry::new(SERVICE, &format!("vault-{vault_id}")).map_err(unavailable)
    }
}

fn unavailable(e: keyring::Error) -> KeyStoreError {
    // keyring's messages name the platform problem (no D-Bus session, locked collection…),
    // never a secret.
    let why = match e {
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            "no keyring service answered".to_string()
        }
        other => other.to_string(),
    };
    KeyStoreError::Unavailable(why)
}

impl KeyStore for OsKeyring {
    fn get(&self, vault_id: &str) -> Result<Option<Key32>, KeyStoreError> {
        match Self::entry(vault_id)?.get_password() {
            Ok(hex) => {
                let hex = zeroize::Zeroizing::new(hex);
                Ok(Key32::from_hex(&hex))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn set(&self, vault_id: &str, kek: &Key32) -> Result<(), KeyStoreError> {
        Self::entry(vault_id)?.set_password(&kek.to_hex()).map_err(unavailable)
    }

    fn delete(&self, vault_id: &str) -> Result<(), KeyStoreError> {
        match Self::entry(vault_id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// No keyring at all: every call says so.
#[derive(Debug)]
pub struct NoKeyring(pub String);

impl KeyStore for NoKeyring {
    fn get(&self, _: &str) -> Result<Option<Key32>, KeyStoreError> {
        Err(KeyStoreError::Unavailable(self.0.clone()))
    }
    fn set(&self, _: &str, _: &Key32) -> Result<(), KeyStoreError> {
        Err(KeyStoreError::Unavailable(self.0.clone()))
    }
    fn delete(&self, _: &str) -> Result<(), KeyStoreError> {
        Err(KeyStoreError::Unavailable(self.0.clone()))
    }
}

/// An in-memory keyring for tests.
#[derive(Debug, Default)]
pub struct MemoryKeyring(Mutex<HashMap<String, Key32>>);

impl KeyStore for MemoryKeyring {
    fn get(&self, vault_id: &str) -> Result<Option<Key32>, KeyStoreError> {
        Ok(self.0.lock().unwrap().get(vault_id).cloned())
    }
    fn set(&self, vault_id: &str, kek: &Key32) -> Result<(), KeyStoreError> {
        self.0.lock().unwrap().insert(vault_id.to_owned(), kek.clone());
        Ok(())
    }
    fn delete(&self, vault_id: &str) -> Result<(), KeyStoreError> {
        self.0.lock().unwrap().remove(vault_id);
        Ok(())
    }
}

/// The keyring to use: `TECHO_KEYRING=none` turns it off (scripts, CI), anything else uses the
/// OS keyring.
pub fn from_env() -> Box<dyn KeyStore> {
    match std::env::var("TECHO_KEYRING").as_deref() {
        Ok("none") | Ok("off") => Box::new(NoKeyring("turned off by TECHO_KEYRING=none".into())),
        _ => Box::new(OsKeyring::new()),
    }
}
