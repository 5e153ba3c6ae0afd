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
},
Migration {
    version: 3,
    description: "consent per person (versioned), the append-only hash-chained audit log, the research copy queue",
    sql: r#"
-- Every version of a person's consent: the whole state (techo_consent::ConsentState, JSON) after
-- each change, and the change in words (no health data). The latest version is in force.
CREATE TABLE consent_versions(
    person_id INTEGER NOT NULL REFERENCES persons(id),
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    change TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY(person_id, version)
) WITHOUT ROWID;

-- The audit log: one FHIR AuditEvent per disclosure or consent change, hash-chained
-- (hash = SHA-256 over the previous hash, seq, recorded_at and the event text). The database
-- itself refuses to change or remove a row; `audit.head` in vault_meta holds the last seq and
-- hash, so a removed last row is detected too.
CREATE TABLE audit_log(
    seq INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    person_id INTEGER,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
CREATE INDEX audit_log_person ON audit_log(person_id, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be changed'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be removed'); END;

-- Pseudonymised copies for research: one per record version, made once (techo-pseudo), then
-- written out or pushed. The copy is stored (packed) so a retry sends exactly what was made.
CREATE TABLE research_copies(
    id INTEGER PRIMARY KEY,
    record_id INTEGER NOT NULL REFERENCES records(id),
    version INTEGER NOT NULL,
    person_id INTEGER NOT NULL REFERENCES persons(id),
    made_at TEXT NOT NULL,
    rtype TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    resource BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'withdrawn')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    destination TEXT,
    UNIQUE(record_id, version)
);
CREATE INDEX research_copies_state ON research_copies(state, id);
"#,
},
Migration {
    version: 4,
    description: "the client key of an endpoint whose authorization server wants private_key_jwt",
    sql: r#"
-- A confidential client's signing key (SMART private_key_jwt): the private JWK lives only here,
-- inside the encrypted vault; the public JWKS is what the person registers with the hospital.
CREATE TABLE endpoint_client_keys(
    source_id INTEGER PRIMARY KEY REFERENCES endpoints(source_id),
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    public_jwks TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"#,
},
Migration {
    version: 5,
    description: "share packages: a person's stable sharing id, and who shared a person's record into this vault",
    sql: r#"
-- The sender side: a random id a person's packages carry (`Bundle.meta.source`), so that the
-- caregiver's Techo recognises the next package from the same person. Made on first use.
ALTER TABLE persons ADD COLUMN share_uuid TEXT;
-- The receiving side: the name of the person who shared this record (a family member kept by a
-- caregiver from packages); NULL for a record the vault's own sources fill.
ALTER TABLE persons ADD COLUMN shared_by TEXT;
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
