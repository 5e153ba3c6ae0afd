//! The one gate every record passes on its way out of the vault.
//!
//! Every exit ([`Exit`]) reads the records it sends through [`Vault::gated`], which asks
//! `techo_consent::decide` for each record (person, recipient, purpose, the record's facts) and
//! hands on only what is permitted; then one audit event per person says what left, to whom
//! and why, and how many records consent held back. Nothing else in this crate reads a stored
//! resource for output (`tests/it/consent.rs` checks the exits one by one, and a source scan
//! checks that no other module reads `records.resource` for an exit).

use crate::audit::{self, AuditInput, AuditKind};
use crate::error::{Error, Result};
use crate::vault::Vault;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use techo_consent::{decide, Action, ConsentState, Purpose, Recipient, Request, ResourceFacts};

/// Every way records leave the vault. A new exit must be added here, and the exits test
/// matches on this enum exhaustively, so it cannot be forgotten there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exit {
    /// `techo export`: the person's own record to a file (personal use).
    Export,
    /// `techo vitals export`: the person's own readings (personal use).
    VitalsExport,
    /// `techo share --with FACILITY`: to a provider, for treatment.
    Share,
    /// `techo share --caregiver ID`: to a caregiver, under their grant.
    CaregiverView,
    /// `techo research run`: pseudonymised copies made for research.
    ResearchCopy,
}

impl Exit {
    pub const ALL: [Exit; 5] = [Exit::Export, Exit::VitalsExport, Exit::Share, Exit::CaregiverView, Exit::ResearchCopy];

    pub fn audit_kind(self) -> AuditKind {
        match self {
            Exit::Export | Exit::VitalsExport => AuditKind::Export,
            Exit::Share => AuditKind::Share,
            Exit::CaregiverView => AuditKind::CaregiverView,
            Exit::ResearchCopy => AuditKind::ResearchCopy,
        }
    }

    fn purpose_code(purpose: Purpose) -> &'static str {
        match purpose {
            Purpose::Treatment => "TREAT",
            Purpose::Research => "HRESCH",
            Purpose::CaregiverAccess => "CAREMGT",
            Purpose::PersonalUse => "PATRQT",
        }
    }
}

/// Who gets the records, and why.
#[derive(Clone, Debug)]
pub struct Disclosure {
    pub exit: Exit,
    pub recipient: Recipient,
    pub purpose: Purpose,
    /// Whose records; `None` = every person in the vault (each with their own consent).
    pub person: Option<i64>,
    /// Which part of the record is asked for (before consent has its say).
    pub scope: Scope,
}

/// The part of a person's record an exit asks for: every record, or some resource types and
/// a range of clinical dates. Records outside the scope are not asked about (neither sent nor
/// counted as held back); the audit names the scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Only these resource types; `None`: every type. The person's `Patient` and the resources
    /// records point at (organizations, practitioners, medications, locations) always go along.
    pub types: Option<BTreeSet<String>>,
    /// Clinical dates from (inclusive, `YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
    pub from: Option<String>,
    /// Clinical dates up to (inclusive).
    pub to: Option<String>,
    /// What the person chose, in words, when it has a name ("International Patient Summary").
    pub name: Option<String>,
}

/// Resources that describe who and what records point at, rather than care: they go along with
/// any scope (a package without its Patient names no one).
pub(crate) const SUPPORTING: [&str; 7] = ["Patient", "Organization", "Practitioner", "PractitionerRole", "Location", "Medication", "Device"];

impl Scope {
    /// The whole record, under a name for the audit log.
    pub fn named(name: &str) -> Scope {
        Scope { name: Some(name.to_owned()), ..Scope::default() }
    }

    /// Checks the dates; a scope that could match nothing by mistake is refused.
    pub fn validate(&self) -> Result<()> {
        for d in [&self.from, &self.to].into_iter().flatten() {
            if !valid_partial_date(d) {
                return Err(Error::InvalidInput(format!("{d:?} is not a date; write it as YYYY-MM-DD (or YYYY-MM, YYYY)")));
            }
        }
        if let (Some(f), Some(t)) = (&self.from, &self.to) {
            if f.as_str() > t.as_str() {
                return Err(Error::InvalidInput(format!("the date range starts ({f}) after it ends ({t}); swap the dates")));
            }
        }
        if self.types.as_ref().is_some_and(|t| t.is_empty()) {
            return Err(Error::InvalidInput("choose at least one kind of record to share".into()));
        }
        Ok(())
    }

    /// The scope in words, for the audit log.
    pub fn label(&self) -> String {
        let mut parts = vec![];
        if let Some(n) = &self.name {
            parts.push(n.clone());
        }
        if let Some(t) = &self.types {
            parts.push(format!("types: {}", t.iter().cloned().collect::<Vec<_>>().join(", ")));
        }
        match (&self.from, &self.to) {
            (Some(f), Some(t)) => parts.push(format!("dates {f} to {t}")),
            (Some(f), None) => parts.push(format!("dates from {f}")),
            (None, Some(t)) => parts.push(format!("dates up to {t}")),
            (None, None) => {}
        }
        if parts.is_empty() {
            "the whole record".into()
        } else {
            parts.join("; ")
        }
    }

    /// Whether a record of this type and clinical date is inside the scope.
    pub(crate) fn admits(&self, rtype: &str, clinical_date: Option<&str>) -> bool {
        if SUPPORTING.contains(&rtype) {
            return true;
        }
        if self.types.as_ref().is_some_and(|t| !t.contains(rtype)) {
            return false;
        }
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(date) = clinical_date else { return false };
        // Compare as many characters as the bound has: 2024 admits 2024-05-01T10:00.
        if let Some(f) = &self.from {
            let n = f.len().min(date.len());
            if date[..n] < f[..n] {
                return false;
            }
        }
        if let Some(t) = &self.to {
            let n = t.len().min(date.len());
            if date[..n] > t[..n] {
                return false;
            }
        }
        true
    }
}

fn valid_partial_date(d: &str) -> bool {
    let full = match d.len() {
        4 => format!("{d}-01-01"),
        7 => format!("{d}-01"),
        10 => d.to_owned(),
        _ => return false,
    };
    chrono::NaiveDate::parse_from_str(&full, "%Y-%m-%d").is_ok()
}

impl Disclosure {
    fn recipient_label(&self) -> String {
        match &self.recipient {
            Recipient::Person => "the person".into(),
            Recipient::Provider { facility } => format!("provider: {facility}"),
            Recipient::Caregiver { id } => format!("caregiver: {id}"),
            Recipient::Research { destination } => format!("research: {destination}"),
        }
    }
}

/// What went out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisclosureReport {
    pub disclosed: u64,
    /// Records held back, by the consent rule that held them (`sharing.deny_category`…).
    pub denied: BTreeMap<String, u64>,
}

impl DisclosureReport {
    pub fn denied_total(&self) -> u64 {
        self.denied.values().sum()
    }
}

/// One record as the gate sees it.
pub(crate) struct GateRow {
    pub record_id: i64,
    pub version: i64,
    pub rtype: String,
    /// The resource's JSON text.
    pub text: String,
}

/// Record ids a caller limits the gate to (research: the copies that are due).
pub(crate) type Only<'a> = Option<&'a HashSet<i64>>;

impl Vault {
    /// A person's consent in force, or the default (share with providers, research permitted)
    /// when the person never changed it.
    pub fn consent(&self, person_id: i64) -> Result<ConsentState> {
        self.person(person_id)?;
        crate::consent::load(&self.conn, person_id).map(|(s, _)| s)
    }

    /// Walks the records of `d.person` (or of everyone), asks the policy about each, passes the
    /// permitted ones to `sink`, and audits what left (in its own transaction, even when the
    /// output failed part-way: what reached the sink may have left). Returns what went out and
    /// what was held.
    pub(crate) fn gated(&mut self, d: &Disclosure, only: Only<'_>, sink: &mut dyn FnMut(&GateRow) -> Result<()>) -> Result<DisclosureReport> {
        let walked = gate(&self.conn, d, only, sink)?;
        let tx = self.conn.transaction()?;
        let result = walked.audit(&tx, d, only.is_some());
        tx.commit()?;
        result
    }
    /// Writes `d.person`'s records (or everyone's) that the policy lets `d.recipient` have, as
    /// a collection Bundle or NDJSON, streamed. The one implementation behind export, share and
    /// the caregiver view.
    pub fn disclose(&mut self, d: &Disclosure, format: crate::ExportFormat, out: &mut dyn Write) -> Result<DisclosureReport> {
        if let Some(p) = d.person {
            self.person(p)?;
        }
        let io = |e: std::io::Error| Error::Io { path: "the export output".into(), source: e };
        let bundle = format == crate::ExportFormat::Bundle;
        if bundle {
            write!(out, "{{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"timestamp\":\"{}\",\"entry\":[", crate::now()).map_err(io)?;
        }
        let mut n = 0u64;
        let report = self.gated(d, None, &mut |row| {
            if bundle {
                if n > 0 {
                    out.write_all(b",").map_err(io)?;
                }
                out.write_all(b"\n{\"resource\":").map_err(io)?;
                out.write_all(row.text.as_bytes()).map_err(io)?;
                out.write_all(b"}").map_err(io)?;
            } else {
                out.write_all(row.text.as_bytes()).map_err(io)?;
                out.write_all(b"\n").map_err(io)?;
            }
            n += 1;
            Ok(())
        })?;
        if bundle {
            out.write_all(b"\n]}\n").map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(report)
    }
}

/// What one pass of the gate did, to be audited.
pub(crate) struct Gated {
    report: DisclosureReport,
    per_person: Vec<(i64, Vec<i64>, u64)>,
    failure: Option<Error>,
}

impl Gated {
    /// Keeps, of what the walk passed on, only the records in `ids` as disclosed (a summary
    /// built from the records discloses those it stands for, not every record it read).
    /// What the walk passed on and held back so far.
    pub(crate) fn report(&self) -> &DisclosureReport {
        &self.report
    }

    pub(crate) fn keep_only(&mut self, ids: &HashSet<i64>) {
        let mut n = 0u64;
        for (_, sent, _) in &mut self.per_person {
            sent.retain(|id| ids.contains(id));
            n += sent.len() as u64;
        }
        self.report.disclosed = n;
    }

    /// Appends one audit event per person on `conn` (the caller's transaction); returns the
    /// report, or the error that stopped the output.
    pub(crate) fn audit(self, conn: &rusqlite::Connection, d: &Disclosure, skip_empty: bool) -> Result<DisclosureReport> {
        let label = d.recipient_label();
        let scope = d.scope.label();
        for (person, sent, denied) in &self.per_person {
            if skip_empty && sent.is_empty() && *denied == 0 && self.failure.is_none() {
                continue; // e.g. a research run with nothing due for this person
            }
            let why = match &self.failure {
                None => format!("{:?}", d.exit),
                Some(_) => format!("{:?}, stopped by an error part-way", d.exit),
            };
            audit::append(
                conn,
                &AuditInput {
                    kind: d.exit.audit_kind(),
                    person_id: Some(*person),
                    recipient: &label,
                    purpose: Exit::purpose_code(d.purpose),
                    why: &why,
                    records: sent,
                    denied: *denied,
                    scope: Some(&scope),
                },
            )?;
        }
        match self.failure {
            Some(e) => Err(e),
            None => Ok(self.report),
        }
    }
}

/// The gate itself: every exit's records come through here. Reads only; the caller audits.
pub(crate) fn gate(conn: &rusqlite::Connection, d: &Disclosure, only: Only<'_>, sink: &mut dyn FnMut(&GateRow) -> Result<()>) -> Result<Gated> {
    let now = chrono::Utc::now();
    let persons: Vec<i64> = match d.person {
        Some(p) => vec![p],
        None => {
            let mut stmt = conn.prepare("SELECT id FROM persons ORDER BY id")?;
            let ids = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        }
    };
    let req = Request { recipient: &d.recipient, purpose: d.purpose, action: Action::Read };
    let mut report = DisclosureReport::default();
    let mut per_person = vec![];
    let mut failure = None;
    for person in persons {
        let (state, _) = crate::consent::load(conn, person)?;
        let mut sent = vec![];
        let mut denied = 0u64;
        let walked = walk(conn, person, &state, &req, now, only, &d.scope, &mut |row, decision| {
            if decision.permit {
                sink(row)?;
                sent.push(row.record_id);
            } else {
                *report.denied.entry(decision.rule.to_string()).or_default() += 1;
                denied += 1;
            }
            Ok(())
        });
        report.disclosed += sent.len() as u64;
        per_person.push((person, sent, denied));
        if let Err(e) = walked {
            failure = Some(e);
            break;
        }
    }
    Ok(Gated { report, per_person, failure })
}

/// A person's record ids in order: from the person's index, only the ids are sorted (ordering
/// the whole rows instead made SQLite's sorter hold every record, about 1.2 KB each, in memory).
const WALK_IDS_SQL: &str = "SELECT id FROM records WHERE person_id = ?1 ORDER BY id";

/// One record, with where it came from as a facility name: the endpoint's facility, else the
/// source's name.
const WALK_ROW_SQL: &str = "SELECT r.id, r.version, r.rtype, r.resource, r.clinical_date, r.updated_at, COALESCE(e.facility, s.name)
     FROM records r JOIN sources s ON s.id = r.source_id LEFT JOIN endpoints e ON e.source_id = r.source_id
     WHERE r.id = ?1";

#[allow(clippy::too_many_arguments)]
fn walk(
    conn: &rusqlite::Connection,
    person: i64,
    state: &ConsentState,
    req: &Request<'_>,
    now: chrono::DateTime<chrono::Utc>,
    only: Only<'_>,
    scope: &Scope,
    each: &mut dyn FnMut(&GateRow, &techo_consent::Decision) -> Result<()>,
) -> Result<()> {
    let ids: Vec<i64> = {
        let mut stmt = conn.prepare(WALK_IDS_SQL)?;
        let ids = stmt.query_map([person], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        ids
    };
    let mut stmt = conn.prepare(WALK_ROW_SQL)?;
    for record_id in ids {
        if only.is_some_and(|o| !o.contains(&record_id)) {
            continue;
        }
        let mut rows = stmt.query([record_id])?;
        let Some(r) = rows.next()? else { continue };
        let rtype: String = r.get(2)?;
        let clinical_date: Option<String> = r.get(4)?;
        if !scope.admits(&rtype, clinical_date.as_deref()) {
            continue;
        }
        let text = crate::unpack(&r.get::<_, Vec<u8>>(3)?)?;
        let updated_at: String = r.get(5)?;
        let facility: Option<String> = r.get(6)?;
        let entered_at = chrono::DateTime::parse_from_rfc3339(&updated_at)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| Error::Corrupt(format!("record {record_id} has an unreadable arrival time")))?;
        let categories: BTreeSet<techo_consent::Category> = match serde_json::from_str(&text) {
            Ok(v) => techo_consent::classify(&v),
            Err(_) => return Err(Error::Corrupt(format!("record {record_id} is not JSON"))),
        };
        let facts = ResourceFacts {
            record_id,
            rtype: &rtype,
            facility: facility.as_deref(),
            clinical_date: clinical_date.as_deref(),
            categories: &categories,
            entered_at,
        };
        let decision = decide(state, req, &facts, now);
        let row = GateRow { record_id, version: r.get(1)?, rtype, text };
        each(&row, &decision)?;
    }
    Ok(())
}
