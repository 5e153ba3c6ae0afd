//! (a′) and (f′) The floors: what the storage the issues require costs by itself, with none of
//! Techo's own work (no parsing, checking, indexes, full text, provenance or de-duplication).
//!
//! Each floor stores resource JSON text into one table through rusqlite and the same bundled
//! SQLCipher Techo uses, one step of the vault's set-up at a time:
//!
//! - [`Store::Plain`]: a plaintext SQLite file, rollback journal, `synchronous=FULL` (the
//!   defaults of the `sqlite3` CLI baseline, through the library: a check that the two agree);
//! - [`Store::Encrypted`]: the same with SQLCipher 4 and Techo's page size (a raw key: no KDF);
//! - [`Store::EncryptedWal`]: and WAL with `synchronous=FULL` and Techo's cache size — the
//!   storage the foundation issue asks for, holding the text alone.
//!
//! Import floor: a child process (`techo-bench --floor-import`) loads the whole Bundle through
//! `json_each(?1, '$.entry')` in one transaction, as the baseline does with `readfile`. Sync
//! floor ([`crate::sync`]): each page's entries the same way, committed with a cursor row, one
//! transaction per page.

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::secs;

/// A fixed, synthetic 256-bit key (raw key: SQLCipher's KDF is skipped, as for Techo's data key).
const RAW_KEY: &str = "x'6a1f0c4be07d2a9952e8c3a1d4f6b7089e1c2d3a4b5c6d7e8f9a0b1c2d3e4f50'";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Plain,
    Encrypted,
    EncryptedWal,
}

impl Store {
    pub const ALL: [Store; 3] = [Store::Plain, Store::Encrypted, Store::EncryptedWal];

    pub fn label(self) -> &'static str {
        match self {
            Store::Plain => "plaintext SQLite, rollback journal (the baseline's load, through the library)",
            Store::Encrypted => "+ SQLCipher (Techo's page size)",
            Store::EncryptedWal => "+ WAL, synchronous=FULL, Techo's cache (the required storage)",
        }
    }
}

/// A new database at `path` (any old one and its journals removed first), set up as `store`,
/// with `r(id, resource)` and `cursor(type, next)`.
pub fn open(path: &Path, store: Store) -> Result<Connection> {
    for ext in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let c = Connection::open(path).with_context(|| format!("creating {}", path.display()))?;
    if store != Store::Plain {
        c.execute_batch(&format!("PRAGMA key = \"{RAW_KEY}\"; PRAGMA cipher_page_size = {};", techo_core::PAGE_SIZE))?;
    }
    if store == Store::EncryptedWal {
        let mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "WAL refused ({mode})");
        c.execute_batch(&format!("PRAGMA cache_size = {};", techo_core::CACHE_SIZE))?;
    }
    c.execute_batch(
        "PRAGMA synchronous = FULL;
         CREATE TABLE r(id INTEGER PRIMARY KEY, resource TEXT);
         CREATE TABLE cursor(type TEXT PRIMARY KEY, next TEXT);",
    )?;
    Ok(c)
}

/// Stores the `entry[].resource` texts of the Bundle `json` (and, when given, a cursor row) in
/// one transaction; returns how many were stored.
pub fn store_entries(c: &mut Connection, json: &str, cursor: Option<(&str, Option<&str>)>) -> Result<u64> {
    let tx = c.transaction()?;
    let n = tx.execute("INSERT INTO r(resource) SELECT json_extract(value, '$.resource') FROM json_each(?1, '$.entry')", [json])?;
    if let Some((t, next)) = cursor {
        tx.execute("INSERT OR REPLACE INTO cursor(type, next) VALUES (?1, ?2)", rusqlite::params![t, next])?;
    }
    tx.commit()?;
    Ok(n as u64)
}

/// One import floor: the file loaded as one transaction into a new database, by a child
/// process (this binary, `--floor-import`), measured like the baseline (wait4).
pub struct ImportFloor {
    pub store: Store,
    /// Process start, reading the file, loading, committing and closing (a WAL checkpointed).
    pub run: crate::Run,
    pub rows: u64,
    pub bytes: u64,
}

impl ImportFloor {
    pub fn rate(&self) -> f64 {
        self.rows as f64 / secs(self.run.wall)
    }
}

impl Store {
    fn arg(self) -> &'static str {
        match self {
            Store::Plain => "plain",
            Store::Encrypted => "encrypted",
            Store::EncryptedWal => "encrypted-wal",
        }
    }
}

/// The child's side: `techo-bench --floor-import STORE FILE DB` loads FILE into DB and prints
/// the rows stored and the database's size.
pub fn child_main(args: &[String]) -> Result<()> {
    let [store, file, db] = args else { anyhow::bail!("usage: techo-bench --floor-import STORE FILE DB") };
    let store = Store::ALL.into_iter().find(|s| s.arg() == store).ok_or_else(|| anyhow::anyhow!("unknown store {store}"))?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    let mut c = open(Path::new(db), store)?;
    let rows = store_entries(&mut c, &text, None)?;
    drop(text);
    c.close().map_err(|(_, e)| e)?;
    let bytes = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    println!("{rows} {bytes}");
    Ok(())
}

/// Loads `file` (a Bundle) into a new database at `db` set up as `store`, in a child process.
pub fn import_floor(file: &Path, db: &Path, store: Store, log: &Path) -> Result<ImportFloor> {
    let me = std::env::current_exe().context("finding techo-bench itself")?;
    let out = log.with_extension("out");
    let mut cmd = std::process::Command::new(me);
    cmd.arg("--floor-import").arg(store.arg()).arg(file).arg(db);
    let run = crate::run_measured_split(&mut cmd, "", &out, log)?;
    let printed = std::fs::read_to_string(&out).unwrap_or_default();
    let mut it = printed.split_whitespace().map(str::parse::<u64>);
    let (Some(Ok(rows)), Some(Ok(bytes))) = (it.next(), it.next()) else {
        anyhow::bail!("the floor load failed: {}", std::fs::read_to_string(log).unwrap_or_default().trim());
    };
    for ext in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    Ok(ImportFloor { store, run, rows, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each floor stores every entry, and the encrypted ones really are: no SQLite header, no
    /// plaintext resource text in the files, WAL when asked for.
    #[test]
    fn every_floor_stores_the_entries_and_the_encrypted_ones_hold_no_plaintext() {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = r#"{"resourceType":"Bundle","type":"collection","entry":[
            {"resource":{"resourceType":"Observation","id":"a","note":[{"text":"floor-canary-a"}]}},
            {"resource":{"resourceType":"Observation","id":"b","note":[{"text":"floor-canary-b"}]}}]}"#;
        for store in Store::ALL {
            let db = tmp.path().join(format!("{store:?}.db"));
            let mut c = open(&db, store).unwrap();
            assert_eq!(store_entries(&mut c, bundle, Some(("Observation", Some("next")))).unwrap(), 2);
            let journal: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
            assert_eq!(journal.eq_ignore_ascii_case("wal"), store == Store::EncryptedWal, "{store:?}: {journal}");
            let n: i64 = c.query_row("SELECT count(*) FROM r WHERE resource LIKE '%floor-canary%'", [], |r| r.get(0)).unwrap();
            assert_eq!(n, 2);
            c.close().map_err(|(_, e)| e).unwrap();
            let bytes = std::fs::read(&db).unwrap();
            let plain = bytes.starts_with(b"SQLite format 3") || bytes.windows(12).any(|w| w == b"floor-canary");
            assert_eq!(plain, store == Store::Plain, "{store:?}");
        }
    }
}
