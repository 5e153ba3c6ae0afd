//! Consent storage: every version of a person's consent (`consent_versions`), each change
//! audited in the same transaction. The rules themselves are techo-consent's (IO-free).

use crate::audit::{self, AuditInput, AuditKind};
use crate::error::{Error, Result};
use crate::vault::Vault;
use rusqlite::{params, Connection, OptionalExtension};
use techo_consent::{Actor, ConsentChange, ConsentState};

/// One version of a person's consent.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConsentVersion {
    pub version: i64,
    /// What changed, in words.
    pub change: String,
    pub changed_at: String,
}

/// What `Vault::change_consent` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConsentChanged {
    pub version: i64,
    pub change: String,
    /// Research copies made but not yet sent that an opt-out withdrew (never sent).
    pub withdrawn: u64,
}

/// The consent in force and its version (0 = never changed: the defaults).
pub(crate) fn load(conn: &Connection, person: i64) -> Result<(ConsentState, i64)> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT state, version FROM consent_versions WHERE person_id = ?1 ORDER BY version DESC LIMIT 1",
            [person],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok((ConsentState::default(), 0)),
        Some((text, v)) => {
            let state = serde_json::from_str(&text).map_err(|_| Error::Corrupt(format!("consent version {v} of person {person} is unreadable")))?;
            Ok((state, v))
        }
    }
}

impl Vault {
    /// Applies one consent change for `person` (by the person or a guardian), stores the new
    /// version and audits it, in one transaction. An opt-out from research also withdraws the
    /// person's research copies not yet sent, so nothing made before it leaves after it.
    pub fn change_consent(&mut self, person: i64, change: ConsentChange, actor: Actor) -> Result<ConsentChanged> {
        self.person(person)?;
        let now = chrono::Utc::now();
        let tx = self.conn.transaction()?;
        let (mut state, version) = load(&tx, person)?;
        let opt_out = matches!(change, ConsentChange::ResearchOptOut);
        let applied = state.apply(change, actor, now)?;
        let description = applied.summary.clone();
        let text = serde_json::to_string(&state).map_err(|e| Error::Database(format!("consent could not be written: {e}")))?;
        let version = version + 1;
        tx.execute(
            "INSERT INTO consent_versions(person_id, version, state, change, changed_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![person, version, text, description, crate::now()],
        )?;
        let withdrawn = if opt_out {
            tx.execute("UPDATE research_copies SET state = 'withdrawn', last_error = NULL WHERE person_id = ?1 AND state IN ('pending', 'failed')", [person])? as u64
        } else {
            0
        };
        audit::append(
            &tx,
            &AuditInput {
                kind: AuditKind::ConsentChange,
                person_id: Some(person),
                recipient: "the vault",
                purpose: "PATADMIN",
                why: &description,
                records: &[],
                denied: 0,
                scope: None,
            },
        )?;
        tx.commit()?;
        Ok(ConsentChanged { version, change: description, withdrawn })
    }

    /// Every version of a person's consent, oldest first.
    pub fn consent_history(&self, person: i64) -> Result<Vec<ConsentVersion>> {
        self.person(person)?;
        let mut stmt = self.conn.prepare("SELECT version, change, changed_at FROM consent_versions WHERE person_id = ?1 ORDER BY version")?;
        let rows = stmt.query_map([person], |r| Ok(ConsentVersion { version: r.get(0)?, change: r.get(1)?, changed_at: r.get(2)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The consent in force as FHIR R4 `Consent` resources.
    pub fn consent_fhir(&self, person: i64) -> Result<Vec<serde_json::Value>> {
        let state = self.consent(person)?;
        Ok(techo_consent::to_fhir(&state, &format!("urn:techo:person:{person}")))
    }
}
