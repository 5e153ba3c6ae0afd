//! The audit log: every disclosure (data leaving the vault) and every consent change, as a FHIR
//! R4 `AuditEvent`, appended to a hash chain.
//!
//! Each row's hash is SHA-256 over the previous row's hash, its sequence number, its time and
//! its event text, so changing or removing a row breaks the chain from there on; `audit.head`
//! in `vault_meta` names the last row, so removing the last rows is detected too. The database
//! refuses `UPDATE` and `DELETE` on the table itself (triggers in schema version 3). Events name
//! records by reference and count them; they never hold resource content.

use crate::error::{Error, Result};
use crate::vault::Vault;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const HEAD_KEY: &str = "audit.head";
/// Our code system for what happened (`AuditEvent.subtype`).
pub const AUDIT_SUBTYPE_SYSTEM: &str = "urn:techo:audit-event";
/// At most this many record references are listed in one event; above it the event holds the
/// count and a SHA-256 over the list instead.
const MAX_LISTED: usize = 1000;

/// What an audit event records. The names are stored: renaming one is a format change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// The person (or the vault's keeper) exported a record to a file.
    Export,
    /// Records shared with a provider (treatment).
    Share,
    /// Records shown or given to a caregiver under their grant.
    CaregiverView,
    /// Pseudonymised copies made for research.
    ResearchCopy,
    /// Pseudonymised copies written out or pushed to a research destination.
    ResearchSend,
    /// A consent change (provider sharing, a caregiver grant, research opt-out/in).
    ConsentChange,
}

impl AuditKind {
    pub const ALL: [AuditKind; 6] = [
        AuditKind::Export,
        AuditKind::Share,
        AuditKind::CaregiverView,
        AuditKind::ResearchCopy,
        AuditKind::ResearchSend,
        AuditKind::ConsentChange,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditKind::Export => "export",
            AuditKind::Share => "share",
            AuditKind::CaregiverView => "caregiver-view",
            AuditKind::ResearchCopy => "research-copy",
            AuditKind::ResearchSend => "research-send",
            AuditKind::ConsentChange => "consent-change",
        }
    }

    pub fn from_code(code: &str) -> Option<AuditKind> {
        AuditKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// DICOM audit event type (`AuditEvent.type`) and the ISO 21089 lifecycle event.
    fn fhir_type(self) -> (&'static str, &'static str, &'static str) {
        match self {
            AuditKind::Export => ("110106", "Export", "disclose"),
            AuditKind::Share | AuditKind::CaregiverView => ("110106", "Export", "disclose"),
            AuditKind::ResearchCopy => ("110106", "Export", "pseudonymize"),
            AuditKind::ResearchSend => ("110106", "Export", "transmit"),
            AuditKind::ConsentChange => ("110110", "Patient Record", "amend"),
        }
    }
}

/// What a caller asks to record. `records` are the vault's record ids disclosed (empty for a
/// consent change); `denied` how many the policy held back.
#[derive(Clone, Debug)]
pub struct AuditInput<'a> {
    pub kind: AuditKind,
    pub person_id: Option<i64>,
    /// Who received the data (or who changed the consent), in words: "the person", a facility
    /// name, a caregiver's name, a research destination.
    pub recipient: &'a str,
    /// The purpose code (v3 ActReason: TREAT, HRESCH, CAREMGT, PATRQT…).
    pub purpose: &'a str,
    /// Why, in words (no health data).
    pub why: &'a str,
    pub records: &'a [i64],
    pub denied: u64,
    /// What part of the record was asked for, in words (a disclosure's [`crate::Scope`]);
    /// `None` for a consent change.
    pub scope: Option<&'a str>,
}

/// One row of the log.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub seq: i64,
    pub recorded_at: String,
    pub person_id: Option<i64>,
    pub kind: String,
    /// The FHIR `AuditEvent`.
    pub event: Value,
    pub hash: String,
}

/// The result of `Vault::verify_audit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditVerification {
    /// Rows checked.
    pub entries: u64,
    /// The first problem found, as (sequence number, what is wrong); `None` = the chain holds.
    pub problem: Option<(i64, String)>,
}

impl AuditVerification {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

fn chain_hash(prev: &[u8], seq: i64, recorded_at: &str, event: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"techo-audit-v1\0");
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(recorded_at.as_bytes());
    h.update([0u8]);
    h.update(event.as_bytes());
    h.finalize().to_vec()
}

fn record_list(records: &[i64]) -> Value {
    if records.len() <= MAX_LISTED {
        let refs: Vec<String> = records.iter().map(|r| format!("urn:techo:record:{r}")).collect();
        json!({ "type": "records", "valueString": refs.join(" ") })
    } else {
        let mut h = Sha256::new();
        for r in records {
            h.update(r.to_be_bytes());
        }
        json!({ "type": "records-sha256", "valueString": hex::encode(h.finalize()) })
    }
}

fn event_json(input: &AuditInput<'_>, recorded_at: &str) -> Value {
    let (code, display, lifecycle) = input.kind.fhir_type();
    let mut entity = vec![];
    if let Some(p) = input.person_id {
        entity.push(json!({
            "what": { "reference": format!("urn:techo:person:{p}") },
            "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person" },
            "role": { "system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient" }
        }));
    }
    if input.kind != AuditKind::ConsentChange {
        let mut what = format!("{} disclosed, {} held back by consent", input.records.len(), input.denied);
        if let Some(scope) = input.scope {
            what.push_str(&format!("; scope: {scope}"));
        }
        let mut object = json!({
            "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object" },
            "description": what,
            "detail": [record_list(input.records)]
        });
        if let Some(scope) = input.scope {
            object["name"] = json!(scope);
        }
        entity.push(object);
    }
    json!({
        "resourceType": "AuditEvent",
        "type": { "system": "http://dicom.nema.org/resources/ontology/DCM", "code": code, "display": display },
        "subtype": [
            { "system": AUDIT_SUBTYPE_SYSTEM, "code": input.kind.code() },
            { "system": "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle", "code": lifecycle }
        ],
        "action": if input.kind == AuditKind::ConsentChange { "U" } else { "R" },
        "recorded": recorded_at,
        "outcome": "0",
        "outcomeDesc": input.why,
        "purposeOfEvent": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": input.purpose }] }],
        "agent": [
            { "type": { "coding": [{ "system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110153", "display": "Source Role ID" }] },
              "who": { "display": "Techo" }, "requestor": true },
            { "type": { "coding": [{ "system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110152", "display": "Destination Role ID" }] },
              "who": { "display": input.recipient }, "requestor": false }
        ],
        "source": { "observer": { "display": "Techo" }, "type": [{ "system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "1", "display": "User Device" }] },
        "entity": entity
    })
}

fn head(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>> {
    let v: Option<String> = conn.query_row("SELECT value FROM vault_meta WHERE key = ?1", [HEAD_KEY], |r| r.get(0)).optional()?;
    let Some(v) = v else { return Ok(None) };
    let bad = || Error::Corrupt("the audit log's head entry is unreadable".into());
    let (seq, hash) = v.split_once(':').ok_or_else(bad)?;
    Ok(Some((seq.parse().map_err(|_| bad())?, hex::decode(hash).map_err(|_| bad())?)))
}

/// Appends one event inside the caller's transaction (so a disclosure and its audit row commit
/// together, or neither). Returns the new sequence number.
pub(crate) fn append(conn: &Connection, input: &AuditInput<'_>) -> Result<i64> {
    let recorded_at = crate::now();
    let event = event_json(input, &recorded_at).to_string();
    let (seq, prev) = match head(conn)? {
        Some((s, h)) => (s + 1, h),
        None => (1, vec![0u8; 32]),
    };
    let hash = chain_hash(&prev, seq, &recorded_at, &event);
    conn.execute(
        "INSERT INTO audit_log(seq, recorded_at, person_id, kind, event, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq, recorded_at, input.person_id, input.kind.code(), event, prev, hash],
    )?;
    conn.execute(
        "INSERT INTO vault_meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![HEAD_KEY, format!("{seq}:{}", hex::encode(&hash))],
    )?;
    Ok(seq)
}

/// Rows of `seq, recorded_at, person_id, kind, event, hash` as entries.
fn entries(mut rows: rusqlite::Rows<'_>) -> Result<Vec<AuditEntry>> {
    let mut out = vec![];
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let event: String = r.get(4)?;
        let event = serde_json::from_str(&event).map_err(|_| Error::Corrupt(format!("audit event {seq} is not JSON")))?;
        out.push(AuditEntry { seq, recorded_at: r.get(1)?, person_id: r.get(2)?, kind: r.get(3)?, event, hash: hex::encode(r.get::<_, Vec<u8>>(5)?) });
    }
    Ok(out)
}

impl Vault {
    /// Records one event in its own transaction.
    pub fn audit(&mut self, input: &AuditInput<'_>) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let seq = append(&tx, input)?;
        tx.commit()?;
        Ok(seq)
    }

    /// The log, oldest first, after `after_seq`, at most `limit` rows; optionally one person's.
    pub fn audit_log(&self, person: Option<i64>, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, recorded_at, person_id, kind, event, hash FROM audit_log
             WHERE seq > ?1 AND (?2 IS NULL OR person_id = ?2) ORDER BY seq LIMIT ?3",
        )?;
        let out = entries(stmt.query(params![after_seq, person, limit])?);
        out
    }

    /// The log newest first: at most `limit` rows older than `before_seq` (all when `None`);
    /// optionally one person's. For paging back through a long log.
    pub fn audit_log_newest(&self, person: Option<i64>, before_seq: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, recorded_at, person_id, kind, event, hash FROM audit_log
             WHERE seq < ?1 AND (?2 IS NULL OR person_id = ?2) ORDER BY seq DESC LIMIT ?3",
        )?;
        let out = entries(stmt.query(params![before_seq.unwrap_or(i64::MAX), person, limit])?);
        out
    }

    /// Walks the whole chain: every row's hash recomputed, the sequence without gaps, each row
    /// linked to the one before, the last one matching the head. Any edit or removal shows.
    pub fn verify_audit(&self) -> Result<AuditVerification> {
        let head = head(&self.conn)?;
        let mut stmt = self.conn.prepare("SELECT seq, recorded_at, event, prev_hash, hash FROM audit_log ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut prev = vec![0u8; 32];
        let mut expected = 1i64;
        let mut n = 0u64;
        let fail = |n, seq, why: &str| Ok(AuditVerification { entries: n, problem: Some((seq, why.to_string())) });
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let recorded_at: String = r.get(1)?;
            let event: String = r.get(2)?;
            let prev_hash: Vec<u8> = r.get(3)?;
            let hash: Vec<u8> = r.get(4)?;
            n += 1;
            if seq != expected {
                return fail(n, expected, "this entry is missing (removed from the log)");
            }
            if prev_hash != prev {
                return fail(n, seq, "this entry does not link to the one before it (an entry was removed or replaced)");
            }
            if chain_hash(&prev, seq, &recorded_at, &event) != hash {
                return fail(n, seq, "this entry was changed after it was written");
            }
            prev = hash;
            expected += 1;
        }
        let last = expected - 1;
        match head {
            None if last == 0 => {}
            None => return fail(n, last, "the log's head is missing"),
            Some((s, h)) => {
                if s != last || h != prev {
                    let first_gone = last + 1;
                    return fail(n, first_gone.min(s), "the last entries of the log were removed or the head was changed");
                }
            }
        }
        Ok(AuditVerification { entries: n, problem: None })
    }
}
