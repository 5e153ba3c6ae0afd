//! The vault's schema. Migrations are append-only: never edit a published one, add the next.

use crate::error::{Error, Result};
use rusqlite::Connection;

pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
Migration {
    version: 1,
    description: "persons, sources, records with versions and provenance, codes, identifiers, bigram full text",
    sql: r#"
CREATE TABLE vault_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE persons(
    id INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL,
    relationship TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE person_identifiers(
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES persons(id),
    PRIMARY KEY(system, value)
) WITHOUT ROWID;

CREATE TABLE sources(
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'endpoint', 'home', 'share')),
    name TEXT NOT NULL,
    uri TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE(kind, uri)
);

CREATE TABLE imports(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    person_id INTEGER REFERENCES persons(id),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    resources INTEGER NOT NULL DEFAULT 0,
    new INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE records(
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES persons(id),
    rtype TEXT NOT NULL,
    resource_id TEXT,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    version INTEGER NOT NULL,
    resource BLOB NOT NULL,             -- the JSON text, LZ4-compressed (crate::pack)
    content_hash BLOB NOT NULL,
    content_key INTEGER NOT NULL,
    clinical_date TEXT,
    status TEXT,
    display TEXT,
    last_updated TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX records_timeline ON records(person_id, clinical_date DESC, id DESC);
CREATE INDEX records_type ON records(person_id, rtype, clinical_date DESC, id DESC);
CREATE INDEX records_hash ON records(person_id, content_key);

CREATE TABLE record_versions(
    record_id INTEGER NOT NULL REFERENCES records(id),
    version INTEGER NOT NULL,
    resource BLOB NOT NULL,             -- the JSON text, LZ4-compressed (crate::pack)
    source_id INTEGER NOT NULL REFERENCES sources(id),
    superseded_at TEXT NOT NULL,
    PRIMARY KEY(record_id, version)
) WITHOUT ROWID;

-- Random keys (a source's resource ids, content hashes, identifiers) are looked up through
-- 64-bit integer keys (the first 8 bytes of a SHA-256), so these indexes stay small enough for
-- the page cache when one import brings a million resources; the full values are compared too.
CREATE TABLE provenance(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    rtype TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    ref_key INTEGER NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records(id),
    version_id TEXT,
    last_updated TEXT,
    received_at TEXT NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports(id)
);
CREATE INDEX provenance_key ON provenance(source_id, ref_key);
CREATE INDEX provenance_record ON provenance(record_id);

-- Codes and identifiers have no index by record: when a record changes, the rows of its old
-- version are found from that version's JSON (one B-tree insert per code instead of two).
-- `code_key` is the 64-bit key of the code alone: codes are looked up with or without their system.
CREATE TABLE record_codes(
    code_key INTEGER NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records(id),
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY(code_key, record_id, system)
) WITHOUT ROWID;

CREATE TABLE record_identifiers(
    person_id INTEGER NOT NULL,
    id_key INTEGER NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records(id),
    rtype TEXT NOT NULL,
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY(person_id, id_key, record_id)
) WITHOUT ROWID;

-- Full text: the bigrams of each record's indexed text (techo_fhir::index::fts_tokens), without
-- positions; the search checks each candidate against the record itself.
CREATE VIRTUAL TABLE record_fts USING fts5(tokens, content='', contentless_delete=1, detail=none, tokenize='ascii');
"#,
},
Migration {
    version: 2,
    description: "FHIR endpoints to sync from: their sign-in, tokens, per-type cursors and sync runs",
    sql: r#"
-- An endpoint is a source of kind 'endpoint' (sources.uri is its FHIR base URL).
CREATE TABLE endpoints(
    source_id INTEGER PRIMARY KEY REFERENCES sources(id),
    person_id INTEGER NOT NULL REFERENCES persons(id),
    facility TEXT,
    patient_id TEXT,                    -- the server's id of the person's Patient
    auth TEXT NOT NULL,                 -- JSON (endpoints::EndpointAuth)
    status TEXT NOT NULL CHECK (status IN ('ready', 'needs_sign_in', 'error')),
    status_message TEXT,
    last_sync_at TEXT,
    created_at TEXT NOT NULL
);
-- Tokens live only here, inside the encrypted vault.
CREATE TABLE endpoint_tokens(
    source_id INTEGER PRIMARY KEY REFERENCES endpoints(source_id),
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    expires_at INTEGER,                 -- unix seconds
    scope TEXT,
    updated_at TEXT NOT NULL
);
-- Per endpoint and resource type: `since` is the high-water mark of the last complete pass;
-- `next_url` and `pass_max` are the pass under way (committed with each page).
CREATE TABLE sync_cursors(
    source_id INTEGER NOT NULL REFERENCES endpoints(source_id),
    rtype TEXT NOT NULL,
    since TEXT,
    next_url TEXT,
    pass_max TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY(source_id, rtype)
) WITHOUT ROWID;
CREATE TABLE sync_runs(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES endpoints(source_id),
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    report TEXT NOT NULL                -- JSON, counts and messages only (no health data)
);
CREATE INDEX sync_runs_source ON sync_runs(source_id, id DESC);
"#,
}];

pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The schema version of an opened vault, or `None` when it has no version table.
pub fn current(conn: &Connection) -> Result<Option<i64>> {
    let has: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version')",
        [],
        |r| r.get(0),
    )?;
    if !has {
        return Ok(None);
    }
    Ok(Some(conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| r.get(0))?))
}

/// Brings the schema up to date, each migration in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )?;
    let have = current(conn)?.unwrap_or(0);
    if have > latest() {
        return Err(Error::NewerVersion { found: have, supported: latest() });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > have) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_version(version, description, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.description, crate::now()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_one_by_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
    }
}
