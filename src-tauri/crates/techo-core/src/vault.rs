//! The encrypted vault: a folder with `techo.db` (SQLCipher 4, WAL) and `keys.json` (the data
//! key's wraps). Opening never writes anything before the key is proven right, so a wrong
//! passphrase leaves every byte as it was and creates no `-wal` file.

use crate::error::{Error, Result};
use crate::keys::{self, KdfParams, KeyFile, KeyringWrap, PassphraseWrap, Wraps};
use crate::keystore::{KeyStore, KeyStoreError};
use crate::schema;
use crate::secret::Key32;
use rusqlite::{Connection, OpenFlags};
use secrecy::SecretString;
use std::path::{Path, PathBuf};

pub const DB_FILE: &str = "techo.db";
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const APPLICATION: &str = "techo";

/// How to unlock a vault.
pub enum Unlock<'a> {
    Passphrase(&'a SecretString),
    Keyring(&'a dyn KeyStore),
}

/// What happened to the keyring at creation or when asked to remember the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringStatus {
    Stored,
    Unavailable(String),
}

/// An unlocked vault. Dropping it (or [`Vault::lock`]) closes the database and zeroizes the key.
pub struct Vault {
    dir: PathBuf,
    pub(crate) conn: Connection,
    keys: KeyFile,
    data_key: Key32,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("dir", &self.dir).field("key", &"[REDACTED]").finish()
    }
}

fn has_sqlite_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == SQLITE_MAGIC
}

/// Says what is at `dir` without changing anything: a vault, nothing, or something Techo must
/// not touch.
fn inspect(dir: &Path) -> Result<()> {
    let meta = match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NoVault(dir.to_owned())),
        Err(e) => return Err(Error::Io { path: dir.to_owned(), source: e }),
        Ok(m) => m,
    };
    if !meta.is_dir() {
        if has_sqlite_magic(dir) {
            return Err(Error::PlaintextDatabase(dir.to_owned()));
        }
        return Err(Error::NotAVault { path: dir.to_owned(), reason: "it is a file, not a vault folder".into() });
    }
    let db = dir.join(DB_FILE);
    if has_sqlite_magic(&db) {
        return Err(Error::PlaintextDatabase(db));
    }
    if !dir.join(keys::KEY_FILE).is_file() {
        if db.exists() {
            return Err(Error::NotAVault { path: dir.to_owned(), reason: "its keys.json is missing".into() });
        }
        let empty = std::fs::read_dir(dir).map_err(Error::io(dir))?.next().is_none();
        if empty {
            return Err(Error::NoVault(dir.to_owned()));
        }
        return Err(Error::NotAVault { path: dir.to_owned(), reason: "the folder holds no keys.json".into() });
    }
    if !db.is_file() {
        return Err(Error::NotAVault { path: dir.to_owned(), reason: "its techo.db is missing".into() });
    }
    Ok(())
}

/// Opens the database with `key`. `Ok(None)`: the key does not open it.
fn open_db(path: &Path, key: &Key32, page_size: u32, create: bool) -> Result<Option<Connection>> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    // SQLCipher logs HMAC failures to stderr by default; a wrong key is ours to report.
    let _ = conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()));
    let pragma = zeroize::Zeroizing::new(format!("PRAGMA key = \"{}\";", key.sqlcipher_literal().as_str()));
    conn.execute_batch(&pragma)?;
    conn.execute_batch(&format!("PRAGMA cipher_page_size = {page_size};"))?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(Some(conn)),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ffi::ErrorCode::NotADatabase) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The page cache of a vault connection, as `PRAGMA cache_size` (negative: KiB): 32 MiB.
pub const CACHE_SIZE: i64 = -32768;

fn configure(conn: &Connection) -> Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Database(format!("could not switch to WAL journal (got {mode})")));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = {CACHE_SIZE};
         PRAGMA busy_timeout = 5000;"
    ))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl Vault {
    /// Whether a vault (its key file) is at `dir`.
    pub fn exists(dir: &Path) -> bool {
        dir.join(keys::KEY_FILE).is_file()
    }

    /// Creates a new vault in `dir` (which must not exist, or be empty). The data key is
    /// wrapped by the recovery passphrase and, when `keystore` works, by the OS keyring.
    pub fn create(dir: &Path, passphrase: &SecretString, keystore: Option<&dyn KeyStore>) -> Result<(Vault, KeyringStatus)> {
        match std::fs::metadata(dir) {
            Ok(m) if !m.is_dir() => {
                if has_sqlite_magic(dir) {
                    return Err(Error::PlaintextDatabase(dir.to_owned()));
                }
                return Err(Error::VaultExists(dir.to_owned()));
            }
            Ok(_) => {
                if has_sqlite_magic(&dir.join(DB_FILE)) {
                    return Err(Error::PlaintextDatabase(dir.join(DB_FILE)));
                }
                if std::fs::read_dir(dir).map_err(Error::io(dir))?.next().is_some() {
                    return Err(Error::VaultExists(dir.to_owned()));
                }
            }
            Err(_) => {}
        }
        keys::check_new_passphrase(passphrase)?;
        crate::platform::create_private_dir(dir).map_err(Error::io(dir))?;
        let vault_id = uuid::Uuid::new_v4().to_string();
        let data_key = Key32::random();
        let passphrase_wrap = PassphraseWrap::new(&vault_id, passphrase, &data_key, KdfParams::DEFAULT)?;
        let (keyring, status) = match keystore {
            None => (None, KeyringStatus::Unavailable("not asked to use the keyring".into())),
            Some(ks) => {
                let kek = Key32::random();
                match ks.set(&vault_id, &kek) {
                    Ok(()) => (Some(KeyringWrap::new(&vault_id, &kek, &data_key)), KeyringStatus::Stored),
                    Err(KeyStoreError::Unavailable(why)) => (None, KeyringStatus::Unavailable(why)),
                }
            }
        };
        let keys = KeyFile::new(vault_id.clone(), Wraps { passphrase: passphrase_wrap, keyring });
        keys.store(dir)?;
        let mut conn = open_db(&dir.join(DB_FILE), &data_key, keys.page_size, true)?
            .ok_or_else(|| Error::Database("a new database did not accept its key".into()))?;
        let cipher: Option<String> = conn.query_row("PRAGMA cipher_version", [], |r| r.get(0)).ok();
        if cipher.is_none() {
            return Err(Error::Database("this build of Techo lacks SQLCipher; refusing to create an unencrypted vault".into()));
        }
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        conn.execute(
            "INSERT INTO vault_meta(key, value) VALUES ('application', ?1), ('vault_id', ?2), ('created_at', ?3)",
            rusqlite::params![APPLICATION, vault_id, crate::now()],
        )?;
        Ok((Vault { dir: dir.to_owned(), conn, keys, data_key }, status))
    }

    /// Opens and unlocks the vault at `dir`.
    pub fn open(dir: &Path, unlock: Unlock<'_>) -> Result<Vault> {
        inspect(dir)?;
        let mut keys = KeyFile::load(dir)?;
        let id = keys.vault_id.clone();
        let unwrap = |w: &Wraps| -> Result<Key32> {
            match &unlock {
                Unlock::Passphrase(p) => w.passphrase.unwrap_key(&id, p),
                Unlock::Keyring(ks) => {
                    let wrap = w.keyring.as_ref().ok_or(Error::KeyringNoKey)?;
                    let kek = match ks.get(&id) {
                        Ok(Some(k)) => k,
                        Ok(None) => return Err(Error::KeyringNoKey),
                        Err(KeyStoreError::Unavailable(why)) => return Err(Error::KeyringUnavailable(why)),
                    };
                    wrap.unwrap_key(&id, &kek).ok_or(Error::KeyringNoKey)
                }
            }
        };
        let current = unwrap(&keys.current);
        let pending = keys.pending.as_ref().map(&unwrap);
        let db = dir.join(DB_FILE);
        let mut opened = None;
        if let Ok(k) = &current {
            if let Some(conn) = open_db(&db, k, keys.page_size, false)? {
                opened = Some((conn, k.clone(), false));
            }
        }
        if opened.is_none() {
            if let Some(Ok(k)) = &pending {
                if let Some(conn) = open_db(&db, k, keys.page_size, false)? {
                    opened = Some((conn, k.clone(), true));
                }
            }
        }
        let Some((mut conn, data_key, rekeyed)) = opened else {
            // The key file unwrapped, yet the database refuses the key: its first page is damaged.
            return Err(match (current, pending) {
                (Err(e), None | Some(Err(_))) => e,
                _ => Error::Corrupt("the database's first page failed its integrity check".into()),
            });
        };
        match schema::current(&conn)? {
            None => {
                return Err(Error::NotAVault { path: dir.to_owned(), reason: "its database has no Techo schema".into() })
            }
            Some(v) if v > schema::latest() => {
                return Err(Error::NewerVersion { found: v, supported: schema::latest() })
            }
            Some(_) => {}
        }
        let (app_name, app_vault): (Option<String>, Option<String>) = conn.query_row(
            "SELECT (SELECT value FROM vault_meta WHERE key='application'), (SELECT value FROM vault_meta WHERE key='vault_id')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let app = app_name.zip(app_vault);
        match app {
            Some((a, v)) if a == APPLICATION && v == id => {}
            _ => return Err(Error::NotAVault { path: dir.to_owned(), reason: "keys.json belongs to another vault".into() }),
        }
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        if keys.pending.is_some() {
            // Finish (or forget) an interrupted rekey.
            if rekeyed {
                keys.current = keys.pending.take().expect("pending");
            } else {
                keys.pending = None;
            }
            keys.store(dir)?;
        }
        Ok(Vault { dir: dir.to_owned(), conn, keys, data_key })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn vault_id(&self) -> &str {
        &self.keys.vault_id
    }

    /// Whether the key file holds a keyring wrap.
    pub fn has_keyring_wrap(&self) -> bool {
        self.keys.current.keyring.is_some()
    }

    /// Closes the database and forgets the key.
    pub fn lock(self) {
        drop(self);
    }

    /// Re-wraps the data key under a new recovery passphrase (the database is not rewritten).
    pub fn change_passphrase(&mut self, old: &SecretString, new: &SecretString) -> Result<()> {
        keys::check_new_passphrase(new)?;
        let k = self.keys.current.passphrase.unwrap_key(&self.keys.vault_id, old)?;
        if k.expose() != self.data_key.expose() {
            return Err(Error::WrongPassphrase);
        }
        let mut next = self.keys.clone();
        next.current.passphrase = PassphraseWrap::new(&next.vault_id, new, &self.data_key, self.keys.current.passphrase.params)?;
        next.store(&self.dir)?;
        self.keys = next;
        Ok(())
    }

    /// Stores a key-encryption key in the OS keyring so that later unlocks need no passphrase.
    pub fn remember_in_keyring(&mut self, ks: &dyn KeyStore) -> Result<()> {
        let kek = Key32::random();
        ks.set(&self.keys.vault_id, &kek).map_err(|KeyStoreError::Unavailable(w)| Error::KeyringUnavailable(w))?;
        let mut next = self.keys.clone();
        next.current.keyring = Some(KeyringWrap::new(&next.vault_id, &kek, &self.data_key));
        next.store(&self.dir)?;
        self.keys = next;
        Ok(())
    }

    /// Removes the keyring's key; the passphrase is then the only way in.
    pub fn forget_keyring(&mut self, ks: &dyn KeyStore) -> Result<()> {
        let mut next = self.keys.clone();
        next.current.keyring = None;
        next.store(&self.dir)?;
        self.keys = next;
        ks.delete(&self.keys.vault_id).map_err(|KeyStoreError::Unavailable(w)| Error::KeyringUnavailable(w))
    }

    /// Rotates the data key: the whole database is re-encrypted under a fresh random key and both
    /// wraps are replaced, in one step. Crash-safe: until the database is rewritten, `keys.json`
    /// holds the new key as `pending` beside the current one, and opening picks whichever opens
    /// the database.
    pub fn rekey(&mut self, passphrase: &SecretString, ks: Option<&dyn KeyStore>) -> Result<()> {
        let id = self.keys.vault_id.clone();
        let k = self.keys.current.passphrase.unwrap_key(&id, passphrase)?;
        if k.expose() != self.data_key.expose() {
            return Err(Error::WrongPassphrase);
        }
        let new_key = Key32::random();
        let keyring = match (ks, &self.keys.current.keyring) {
            (Some(ks), Some(_)) => match ks.get(&id) {
                Ok(Some(kek)) => Some(KeyringWrap::new(&id, &kek, &new_key)),
                _ => None,
            },
            _ => None,
        };
        let pending = Wraps {
            passphrase: PassphraseWrap::new(&id, passphrase, &new_key, self.keys.current.passphrase.params)?,
            keyring,
        };
        let mut next = self.keys.clone();
        next.pending = Some(pending.clone());
        next.store(&self.dir)?;
        self.keys = next;

        let _: (i64, i64, i64) = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let _: String = self.conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        let pragma = zeroize::Zeroizing::new(format!("PRAGMA rekey = \"{}\";", new_key.sqlcipher_literal().as_str()));
        self.conn.execute_batch(&pragma)?;
        let _: String = self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;

        let mut done = self.keys.clone();
        done.current = pending;
        done.pending = None;
        done.store(&self.dir)?;
        self.keys = done;
        self.data_key = new_key;
        Ok(())
    }

    /// Checks every encrypted page's HMAC and the database's structure.
    pub fn check_integrity(&self) -> Result<()> {
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let bad: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
        if !bad.is_empty() {
            return Err(Error::Corrupt(format!("{} encrypted page(s) failed their integrity check", bad.len())));
        }
        let ok: String = self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if ok != "ok" {
            return Err(Error::Corrupt("the database structure check failed".into()));
        }
        // Imports insert with foreign-key checks off (they create the rows they refer to);
        // this proves they did.
        let dangling: i64 = self.conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
        if dangling != 0 {
            return Err(Error::Corrupt(format!("{dangling} row(s) refer to rows that do not exist")));
        }
        Ok(())
    }

    /// Test hook: the current data key (never leaves the crate otherwise).
    #[cfg(test)]
    pub(crate) fn data_key(&self) -> &Key32 {
        &self.data_key
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    /// Whether `key` opens the vault's database (`Some(())`) or not.
    pub fn opens(dir: &Path, key: &Key32) -> Option<()> {
        let page_size = crate::keys::KeyFile::load(dir).map_or(crate::keys::PAGE_SIZE, |k| k.page_size);
        open_db(&dir.join(DB_FILE), key, page_size, false).ok().flatten().map(|_| ())
    }
}
