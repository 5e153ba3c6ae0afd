//! Home vitals and diaries in the vault: entry, edits, deletion (`entered-in-error`), CSV
//! import, chart listings and the blood-pressure handbook, over the IO-free `techo-vitals`.
//!
//! - **A source of their own.** Everything entered or imported at home is written by the one
//!   source of kind `home` (uri [`HOME_SOURCE_URI`]) **through the ordinary import**
//!   ([`Vault::import_reader`] over an in-memory NDJSON of the built resources). So home entries
//!   get provenance, versions, indexes, full text and export exactly like hospital data, and
//!   one call (one CSV file) is one transaction.
//! - **Subject.** `Patient/<id>` of the person's first stored Patient record, else
//!   `Patient/techo-person-<person id>`. Duplicate checks try every subject the person's
//!   entries may have been written with, so importing a hospital Patient later does not make
//!   old readings look new.
//! - **Duplicates.** A reading's identifier (`urn:techo:home-entry`, see
//!   [`techo_vitals::Reading::identity_key`]) already on one of the person's records means
//!   "already stored": [`Vault::add_reading`] returns [`EntryStatus::Duplicate`] and writes
//!   nothing; CSV rows are counted as duplicates. Exception: a reading the person deleted
//!   (`entered-in-error`) and now enters again by hand is restored (a new version of that record);
//!   a CSV re-import does not undo deletions. The same diary at the same moment is one record
//!   (a new version when the answers change).
//! - **Resource ids** are `home-<32 hex of SHA-256(identifier value)>`, so even a race
//!   between two writers lands on one record; when that id is taken (by a record since edited
//!   to other values) a random one is used.
//! - **History.** Edits and deletions are new versions of the same record (the import's
//!   replace path: the old version stays in `record_versions`). Only home entries can be
//!   edited or deleted; hospital data belongs to the facility that sent it.
//! - **Charts** read home and hospital Observations alike (by LOINC code through
//!   `record_codes`, then [`techo_vitals::from_observation`]); `entered-in-error` and other
//!   non-current statuses are left out unless asked for. The handbook uses home entries only
//!   (office readings are not home blood pressure).

use crate::error::{Error, Result};
use crate::import::{ImportOptions, ImportReport};
use crate::key64;
use crate::vault::Vault;
use chrono::{DateTime, Duration, FixedOffset};
use rusqlite::{params, params_from_iter, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::io::Write;
use techo_fhir::reader::FormatHint;
use techo_vitals::{
    from_observation, from_questionnaire_response, mark_entered_in_error, to_observation,
    to_questionnaire_response, weekly_bp_averages, BpTarget, Checked, CsvFile, CsvOptions, Diary,
    DiaryKind, Mapping, Reading, VitalKind, Warning, WeekSummary, IDENTIFIER_SYSTEM,
};

/// `sources.kind` of home entries.
pub const HOME_SOURCE_KIND: &str = "home";
/// `sources.uri` of the vault's one home source.
pub const HOME_SOURCE_URI: &str = "techo:home";
/// `sources.name` of the home source (what lists show as the source).
pub const HOME_SOURCE_NAME: &str = "Home entries";

const ENTERED_IN_ERROR: &str = "entered-in-error";
const OBSERVATION: &str = "Observation";
const QUESTIONNAIRE_RESPONSE: &str = "QuestionnaireResponse";
/// At most this many of the person's Patient ids are tried as earlier subjects.
const MAX_SUBJECTS: usize = 32;

/// What an entry, edit or deletion did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryStatus {
    /// A new record.
    New,
    /// Already stored as it is: nothing was written (`record_id` is the stored one).
    Duplicate,
    /// A deleted (`entered-in-error`) record came back as a new version.
    Restored,
    /// A new version of the record.
    Updated,
    /// The record already said exactly this: nothing was written.
    Unchanged,
}

/// The result of [`Vault::add_reading`], [`Vault::edit_reading`], [`Vault::add_diary`] and
/// [`Vault::delete_entry`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AddOutcome {
    pub record_id: i64,
    pub status: EntryStatus,
    /// Values outside the usual range (accepted; the person should double-check them).
    pub warnings: Vec<Warning>,
}

/// One reading for a chart or a list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VitalEntry {
    pub record_id: i64,
    pub version: i64,
    pub reading: Reading,
    /// The Observation's status (`final`, `amended`, `entered-in-error`, …).
    pub status: String,
    /// The name of the source of the current version (`Home entries`, a file name, …).
    pub source: String,
    /// `home`, `file`, `endpoint` or `share`.
    pub source_kind: String,
    /// Entered or imported at home (it carries a `urn:techo:home-entry` identifier).
    pub home: bool,
    pub performer: Option<String>,
}

/// One diary entry for a list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiaryRecord {
    pub record_id: i64,
    pub version: i64,
    pub diary: Diary,
    pub status: String,
    pub source: String,
    pub author: Option<String>,
}

/// What [`Vault::vitals_query`] and [`Vault::export_vitals`] select.
#[derive(Clone, Debug, Default)]
pub struct VitalsQuery {
    pub person: i64,
    /// One kind, or every kind.
    pub kind: Option<VitalKind>,
    /// Inclusive lower bound, a FHIR date or dateTime.
    pub from: Option<String>,
    /// Exclusive upper bound, a FHIR date or dateTime.
    pub to: Option<String>,
    /// Also readings marked `entered-in-error` (and other non-current statuses).
    pub include_deleted: bool,
    /// Only readings entered or imported at home.
    pub home_only: bool,
}

/// How [`Vault::import_vitals_csv`] reads and attributes a file.
#[derive(Clone, Debug)]
pub struct VitalsCsvOptions {
    /// The offset for times without one, and "now" (later readings are refused).
    pub csv: CsvOptions,
    /// Shown in messages and recorded with the import (e.g. the file name).
    pub file_name: String,
    /// `performer` of every reading (a FHIR reference), if not the person.
    pub performer: Option<String>,
}

/// A warning about one CSV reading.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CsvWarning {
    /// The file's 1-based line.
    pub line: u64,
    pub warning: Warning,
}

/// The result of [`Vault::import_vitals_csv`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VitalsCsvReport {
    /// Data rows in the file.
    pub rows: usize,
    /// Distinct readings in the file (a row with blood pressure and weight gives two).
    pub readings: usize,
    /// Readings stored now.
    pub new: u64,
    /// Readings already stored (an earlier import or entry): not stored again.
    pub duplicates: u64,
    /// Readings repeated within the file: stored once.
    pub in_file_duplicates: usize,
    pub warnings: Vec<CsvWarning>,
}

/// A record of the person already holding one of the identifier values tried.
struct Existing {
    record_id: i64,
    status: Option<String>,
    source_kind: String,
    resource_id: Option<String>,
    /// The subject whose identifier matched.
    subject: String,
}

impl Existing {
    fn deleted(&self) -> bool {
        self.status.as_deref() == Some(ENTERED_IN_ERROR)
    }
}

/// person, rtype, resource id, resource, source kind, source name.
type EntryRow = (i64, String, Option<String>, Vec<u8>, String, String);

/// A home entry's current version.
struct HomeEntry {
    person: i64,
    rtype: String,
    resource_id: String,
    json: Value,
}

/// A FHIR id (`[A-Za-z0-9\-.]{1,64}`).
fn is_fhir_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `resource` with `id` right after `resourceType`.
fn with_id(resource: Value, id: &str) -> Value {
    let Value::Object(m) = resource else { return resource };
    let mut out = Map::new();
    for (k, v) in m {
        if k == "id" {
            continue;
        }
        let first = k == "resourceType";
        out.insert(k, v);
        if first {
            out.insert("id".into(), Value::String(id.to_owned()));
        }
    }
    Value::Object(out)
}

/// Appends `resource` as one NDJSON line.
fn push_ndjson(buf: &mut Vec<u8>, resource: &Value) {
    serde_json::to_writer(&mut *buf, resource).expect("a JSON value serializes");
    buf.push(b'\n');
}

fn derived_id(identifier_value: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(identifier_value.as_bytes());
    format!("home-{}", &hex::encode(d)[..32])
}

fn date_bound(s: &str) -> Result<String> {
    techo_fhir::index::normalize_date(s).ok_or_else(|| {
        Error::InvalidInput(format!("{s:?} is not a date; use YYYY, YYYY-MM, YYYY-MM-DD or a full date and time"))
    })
}

/// The LOINC codes under which readings of `kind` (or of every kind) may be stored.
fn codes_of(kind: Option<VitalKind>) -> Vec<&'static str> {
    let kinds: Vec<VitalKind> = match kind {
        Some(k) => vec![k],
        None => VitalKind::ALL.to_vec(),
    };
    let mut codes = BTreeSet::new();
    for k in kinds {
        let s = k.spec();
        codes.extend(s.codes.iter().filter(|c| c.system == techo_vitals::kind::LOINC).map(|c| c.code));
        codes.extend(s.read_codes.iter().copied());
    }
    codes.into_iter().collect()
}

/// Kinds an edit may turn a reading of `a` into (glucose may change its timing).
fn same_family(a: VitalKind, b: VitalKind) -> bool {
    let glucose = |k| matches!(k, VitalKind::FastingGlucose | VitalKind::BloodGlucose);
    a == b || (glucose(a) && glucose(b))
}

impl Vault {
    /// The subject home entries of `person` are written with now, and every subject they
    /// may have been written with (the current one first).
    /// The FHIR reference that stands for `person` in home entries: their (first) Patient
    /// record, else `Patient/techo-person-N`. A caregiver's entries for someone else name the
    /// caregiver this way as `performer` / `author`.
    pub fn person_reference(&self, person: i64) -> Result<String> {
        self.person(person)?;
        Ok(self.home_subjects(person)?.0)
    }

    fn home_subjects(&self, person: i64) -> Result<(String, Vec<String>)> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT resource_id FROM records WHERE person_id = ?1 AND rtype = 'Patient' AND resource_id IS NOT NULL ORDER BY id",
        )?;
        let ids: Vec<String> = stmt.query_map([person], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<_>>()?;
        let mut all: Vec<String> = Vec::new();
        for id in ids.iter().filter(|i| is_fhir_id(i)).take(MAX_SUBJECTS) {
            let s = format!("Patient/{id}");
            if !all.contains(&s) {
                all.push(s);
            }
        }
        all.push(format!("Patient/techo-person-{person}"));
        Ok((all[0].clone(), all))
    }

    fn home_source_id(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM sources WHERE kind = ?1 AND uri = ?2")?
            .query_row(params![HOME_SOURCE_KIND, HOME_SOURCE_URI], |r| r.get(0))
            .optional()?)
    }

    /// The record the home source stored as `rtype/id`.
    fn home_record(&self, source: Option<i64>, rtype: &str, id: &str) -> Result<Option<i64>> {
        let Some(source) = source else { return Ok(None) };
        let sref = format!("{rtype}/{id}");
        Ok(self
            .conn
            .prepare_cached("SELECT record_id FROM provenance WHERE source_id = ?1 AND ref_key = ?2 AND rtype = ?3 AND source_ref = ?4")?
            .query_row(params![source, key64(&[rtype, &sref]), rtype, sref], |r| r.get(0))
            .optional()?)
    }

    /// A resource id for a new home entry with this identifier value.
    fn fresh_id(&self, source: Option<i64>, rtype: &str, identifier_value: &str) -> Result<String> {
        let id = derived_id(identifier_value);
        if self.home_record(source, rtype, &id)?.is_none() {
            return Ok(id);
        }
        Ok(format!("home-{}", uuid::Uuid::new_v4().simple()))
    }

    /// The person's records of `rtype` holding a `urn:techo:home-entry` identifier
    /// `subject|key` for one of `subjects`.
    fn existing(&self, person: i64, rtype: &str, subjects: &[String], key: &dyn Fn(&str) -> String) -> Result<Vec<Existing>> {
        // Two plain look-ups rather than one join: the join was re-planned on every call.
        let mut ids = self.conn.prepare_cached(
            "SELECT record_id FROM record_identifiers WHERE person_id = ?1 AND id_key = ?2 AND rtype = ?3 AND system = ?4 AND value = ?5",
        )?;
        let mut out = Vec::new();
        for subject in subjects {
            let value = key(subject);
            let id_key = key64(&[rtype, IDENTIFIER_SYSTEM, &value]);
            let found: Vec<i64> =
                ids.query_map(params![person, id_key, rtype, IDENTIFIER_SYSTEM, value], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            for record_id in found {
                let (status, source_kind, resource_id) = self.conn.prepare_cached(
                    "SELECT r.status, s.kind, r.resource_id FROM records r JOIN sources s ON s.id = r.source_id WHERE r.id = ?1",
                )?
                .query_row([record_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                out.push(Existing { record_id, status, source_kind, resource_id, subject: subject.clone() });
            }
        }
        Ok(out)
    }

    /// Stores built resources as the home source, in one transaction (the ordinary import).
    fn write_home(&mut self, person: i64, shown: &str, resources: &[Value]) -> Result<ImportReport> {
        let mut buf = Vec::new();
        for r in resources {
            push_ndjson(&mut buf, r);
        }
        self.write_home_ndjson(person, shown, buf)
    }

    /// [`Vault::write_home`] for resources already written as NDJSON.
    fn write_home_ndjson(&mut self, person: i64, shown: &str, buf: Vec<u8>) -> Result<ImportReport> {
        let len = buf.len() as u64;
        let opts = ImportOptions { person: Some(person), source_name: None };
        self.import_reader(
            shown,
            HOME_SOURCE_KIND,
            HOME_SOURCE_NAME,
            HOME_SOURCE_URI,
            std::io::Cursor::new(buf),
            len,
            FormatHint::Ndjson,
            &opts,
            &mut |_| {},
        )
    }

    /// Writes one resource with the given id and returns its record.
    fn write_one(&mut self, person: i64, rtype: &str, id: &str, resource: Value) -> Result<(i64, ImportReport)> {
        let report = self.write_home(person, "the home entry", &[with_id(resource, id)])?;
        let source = self.home_source_id()?;
        let rid = self
            .home_record(source, rtype, id)?
            .ok_or_else(|| Error::Database("a home entry was stored but its record was not found".into()))?;
        Ok((rid, report))
    }

    /// A home entry's current version; refuses records of other sources.
    fn home_entry(&self, record_id: i64) -> Result<HomeEntry> {
        let row: Option<EntryRow> = self
            .conn
            .query_row(
                "SELECT r.person_id, r.rtype, r.resource_id, r.resource, s.kind, s.name FROM records r JOIN sources s ON s.id = r.source_id WHERE r.id = ?1",
                [record_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let Some((person, rtype, resource_id, packed, kind, name)) = row else {
            return Err(Error::NotFound(format!("record {record_id}")));
        };
        let not_home = || {
            Error::InvalidInput(format!(
                "record {record_id} came from {name:?}, not from home entries; only readings and diaries entered or imported at home can be changed"
            ))
        };
        if kind != HOME_SOURCE_KIND {
            return Err(not_home());
        }
        let resource_id = resource_id.ok_or_else(not_home)?;
        if self.home_record(self.home_source_id()?, &rtype, &resource_id)? != Some(record_id) {
            return Err(not_home());
        }
        let json: Value = serde_json::from_str(&crate::unpack(&packed)?)
            .map_err(|_| Error::Corrupt(format!("record {record_id} is not valid JSON")))?;
        Ok(HomeEntry { person, rtype, resource_id, json })
    }

    /// Stores a reading entered at home (validated with [`Reading::check`] against `now`).
    /// The same reading already stored gives [`EntryStatus::Duplicate`] and writes nothing;
    /// one the person had deleted is restored. `performer` is a FHIR reference (a caregiver's
    /// `RelatedPerson/…`), or `None` for the person.
    pub fn add_reading(&mut self, person_id: i64, reading: Reading, performer: Option<&str>, now: DateTime<FixedOffset>) -> Result<AddOutcome> {
        self.person(person_id)?;
        let Checked { reading, warnings } = reading.check(now)?;
        let (subject, subjects) = self.home_subjects(person_id)?;
        let key = reading.identity_key();
        let existing = self.existing(person_id, OBSERVATION, &subjects, &|s| format!("{s}|{key}"))?;
        if let Some(e) = existing.iter().find(|e| !e.deleted() || e.source_kind != HOME_SOURCE_KIND) {
            return Ok(AddOutcome { record_id: e.record_id, status: EntryStatus::Duplicate, warnings });
        }
        let source = self.home_source_id()?;
        let (id, subject, status) = match existing.into_iter().find_map(|e| Some((e.resource_id?, e.subject))) {
            Some((id, subject)) => (id, subject, EntryStatus::Restored),
            None => (self.fresh_id(source, OBSERVATION, &reading.identifier_value(&subject))?, subject, EntryStatus::New),
        };
        let obs = to_observation(&reading, &subject, performer)?;
        let (record_id, _) = self.write_one(person_id, OBSERVATION, &id, obs)?;
        Ok(AddOutcome { record_id, status, warnings })
    }

    /// Replaces a home reading with `reading` as a new version of the same record (the old one
    /// stays in its history). `performer` `None` keeps the current one. The kind cannot change
    /// (except a glucose reading's timing); a deleted reading cannot be edited.
    pub fn edit_reading(&mut self, record_id: i64, reading: Reading, performer: Option<&str>, now: DateTime<FixedOffset>) -> Result<AddOutcome> {
        let cur = self.home_entry(record_id)?;
        if cur.rtype != OBSERVATION {
            return Err(Error::InvalidInput(format!("record {record_id} is a diary entry, not a reading; add the diary again for the same time to change it")));
        }
        let old = from_observation(&cur.json)?;
        if old.status == ENTERED_IN_ERROR {
            return Err(Error::InvalidInput(format!(
                "record {record_id} was deleted (marked entered-in-error); add the reading again instead of editing it"
            )));
        }
        if !same_family(old.reading.kind(), reading.kind()) {
            return Err(Error::InvalidInput(format!(
                "record {record_id} is a {} reading; an edit cannot change the kind — delete it and add a new reading instead",
                old.reading.kind().spec().name_en
            )));
        }
        let Checked { reading, warnings } = reading.check(now)?;
        let subject = match old.subject.filter(|s| s.starts_with("Patient/")) {
            Some(s) => s,
            None => self.home_subjects(cur.person)?.0,
        };
        let performer = performer.map(str::to_owned).or(old.performer);
        let key = reading.identity_key();
        let clash = self.existing(cur.person, OBSERVATION, std::slice::from_ref(&subject), &|s| format!("{s}|{key}"))?;
        if let Some(e) = clash.iter().find(|e| e.record_id != record_id && !e.deleted()) {
            return Err(Error::DuplicateEntry(e.record_id));
        }
        let obs = to_observation(&reading, &subject, performer.as_deref())?;
        let (rid, report) = self.write_one(cur.person, OBSERVATION, &cur.resource_id, obs)?;
        let status = if report.updated > 0 { EntryStatus::Updated } else { EntryStatus::Unchanged };
        Ok(AddOutcome { record_id: rid, status, warnings })
    }

    /// Marks a home reading or diary entry `entered-in-error`: a new version of the record, so
    /// it stays in the vault and its history but leaves lists and charts. Already marked:
    /// [`EntryStatus::Unchanged`].
    pub fn delete_entry(&mut self, record_id: i64) -> Result<AddOutcome> {
        let cur = self.home_entry(record_id)?;
        let status = cur.json.get("status").and_then(Value::as_str);
        if status == Some(ENTERED_IN_ERROR) {
            return Ok(AddOutcome { record_id, status: EntryStatus::Unchanged, warnings: vec![] });
        }
        let marked = match cur.rtype.as_str() {
            OBSERVATION => mark_entered_in_error(&cur.json)?,
            QUESTIONNAIRE_RESPONSE => {
                let mut j = cur.json.clone();
                if let Some(o) = j.as_object_mut() {
                    o.insert("status".into(), Value::String(ENTERED_IN_ERROR.into()));
                }
                j
            }
            _ => return Err(Error::InvalidInput(format!("record {record_id} is not a reading or a diary entry"))),
        };
        let (rid, _) = self.write_one(cur.person, &cur.rtype, &cur.resource_id, marked)?;
        Ok(AddOutcome { record_id: rid, status: EntryStatus::Updated, warnings: vec![] })
    }

    /// Stores a diary entry (validated with [`Diary::check`] against `now`). The same diary for
    /// the same moment is one record: different answers make a new version
    /// ([`EntryStatus::Updated`]), the same ones change nothing ([`EntryStatus::Unchanged`]).
    /// `author` is a FHIR reference, or `None` for the person.
    pub fn add_diary(&mut self, person_id: i64, diary: Diary, author: Option<&str>, now: DateTime<FixedOffset>) -> Result<AddOutcome> {
        self.person(person_id)?;
        let diary = diary.check(now)?;
        let (subject, subjects) = self.home_subjects(person_id)?;
        let existing = self.existing(person_id, QUESTIONNAIRE_RESPONSE, &subjects, &|s| diary.identifier_value(s))?;
        let source = self.home_source_id()?;
        let home = existing.iter().find(|e| e.source_kind == HOME_SOURCE_KIND && e.resource_id.is_some());
        let (id, subject, was_deleted) = match home {
            Some(e) => (e.resource_id.clone().expect("checked"), e.subject.clone(), e.deleted()),
            None => {
                if let Some(e) = existing.iter().find(|e| !e.deleted()) {
                    return Ok(AddOutcome { record_id: e.record_id, status: EntryStatus::Duplicate, warnings: vec![] });
                }
                (self.fresh_id(source, QUESTIONNAIRE_RESPONSE, &diary.identifier_value(&subject))?, subject, false)
            }
        };
        let qr = to_questionnaire_response(&diary, &subject, author)?;
        let (record_id, report) = self.write_one(person_id, QUESTIONNAIRE_RESPONSE, &id, qr)?;
        let status = match (report.new, report.updated, was_deleted) {
            (n, _, _) if n > 0 => EntryStatus::New,
            (_, u, true) if u > 0 => EntryStatus::Restored,
            (_, u, false) if u > 0 => EntryStatus::Updated,
            _ => EntryStatus::Unchanged,
        };
        Ok(AddOutcome { record_id, status, warnings: vec![] })
    }

    /// Imports a CSV file of readings, all or nothing, in one transaction: any bad row (or a
    /// bad mapping) gives [`Error::VitalsCsv`] with every row error and stores nothing.
    /// `mapping` `None` uses the one proposed from the header. Readings already stored are
    /// counted as duplicates, so importing the same file again adds nothing.
    pub fn import_vitals_csv(&mut self, person_id: i64, bytes: &[u8], mapping: Option<&Mapping>, options: &VitalsCsvOptions) -> Result<VitalsCsvReport> {
        self.person(person_id)?;
        let file = CsvFile::from_bytes(bytes)?;
        let proposed;
        let mapping = match mapping {
            Some(m) => m,
            None => {
                proposed = file.propose_mapping();
                &proposed
            }
        };
        let parsed = file.parse_all(mapping, &options.csv).map_err(Error::VitalsCsv)?;
        let mut report = VitalsCsvReport {
            rows: file.row_count(),
            readings: parsed.readings.len(),
            in_file_duplicates: parsed.duplicates.len(),
            ..Default::default()
        };
        let (subject, subjects) = self.home_subjects(person_id)?;
        let source = self.home_source_id()?;
        // The Observations go straight into one NDJSON buffer (no tree of them all in memory).
        let mut ndjson = Vec::with_capacity(parsed.readings.len() * 2048);
        let mut to_store = 0usize;
        let mut ids = BTreeSet::new();
        for r in parsed.readings {
            let key = r.reading.identity_key();
            if !self.existing(person_id, OBSERVATION, &subjects, &|s| format!("{s}|{key}"))?.is_empty() {
                report.duplicates += 1;
                continue;
            }
            let mut id = self.fresh_id(source, OBSERVATION, &r.reading.identifier_value(&subject))?;
            if !ids.insert(id.clone()) {
                id = format!("home-{}", uuid::Uuid::new_v4().simple());
                ids.insert(id.clone());
            }
            let obs = to_observation(&r.reading, &subject, options.performer.as_deref())?;
            push_ndjson(&mut ndjson, &with_id(obs, &id));
            to_store += 1;
            report.warnings.extend(r.warnings.into_iter().map(|warning| CsvWarning { line: r.line, warning }));
        }
        if to_store > 0 {
            let imported = self.write_home_ndjson(person_id, &options.file_name, ndjson)?;
            report.new = imported.new;
            report.duplicates += imported.unchanged + imported.merged + imported.updated;
        }
        Ok(report)
    }

    /// A person's readings of `kind` (or of every kind) from home and hospital sources alike,
    /// newest first; `from` inclusive, `to` exclusive (FHIR dates or dateTimes). Deleted
    /// (`entered-in-error`) and other non-current readings are left out.
    pub fn vitals(&self, person_id: i64, kind: Option<VitalKind>, from: Option<&str>, to: Option<&str>) -> Result<Vec<VitalEntry>> {
        self.vitals_query(&VitalsQuery {
            person: person_id,
            kind,
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            ..Default::default()
        })
    }

    /// [`Vault::vitals`] with every option.
    pub fn vitals_query(&self, q: &VitalsQuery) -> Result<Vec<VitalEntry>> {
        let mut out = Vec::new();
        self.each_vital(q, &mut |e, _| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    /// One reading (any source), for showing or editing it.
    pub fn vital(&self, record_id: i64) -> Result<VitalEntry> {
        let row: Option<(i64, i64, String, Vec<u8>, String, String)> = self
            .conn
            .query_row(
                "SELECT r.id, r.version, r.rtype, r.resource, s.name, s.kind FROM records r JOIN sources s ON s.id = r.source_id WHERE r.id = ?1",
                [record_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let Some((id, version, rtype, packed, source, source_kind)) = row else {
            return Err(Error::NotFound(format!("record {record_id}")));
        };
        let not_vital = || Error::InvalidInput(format!("record {record_id} is not a vital-sign reading"));
        if rtype != OBSERVATION {
            return Err(not_vital());
        }
        let json: Value = serde_json::from_str(&crate::unpack(&packed)?).map_err(|_| not_vital())?;
        let p = from_observation(&json).map_err(|_| not_vital())?;
        Ok(VitalEntry { record_id: id, version, home: p.identifier.is_some(), reading: p.reading, status: p.status, source, source_kind, performer: p.performer })
    }

    /// Calls `f` with each reading `q` selects (and its stored JSON text), newest first.
    fn each_vital(&self, q: &VitalsQuery, f: &mut dyn FnMut(VitalEntry, &str) -> Result<()>) -> Result<()> {
        self.person(q.person)?;
        let codes = codes_of(q.kind);
        let keys: Vec<i64> = codes.iter().map(|c| key64(&[c])).collect();
        let mut sql = format!(
            "SELECT r.id, r.version, r.resource, s.name, s.kind FROM records r JOIN sources s ON s.id = r.source_id
             WHERE r.person_id = ? AND r.rtype = 'Observation' AND r.id IN
               (SELECT record_id FROM record_codes WHERE code_key IN ({}) AND system = '{}' AND code IN ({}))",
            vec!["?"; keys.len()].join(","),
            techo_vitals::kind::LOINC,
            vec!["?"; codes.len()].join(",")
        );
        let mut args: Vec<rusqlite::types::Value> = vec![q.person.into()];
        args.extend(keys.iter().map(|k| (*k).into()));
        args.extend(codes.iter().map(|c| (*c).to_owned().into()));
        if let Some(from) = &q.from {
            sql.push_str(" AND r.clinical_date >= ?");
            args.push(date_bound(from)?.into());
        }
        if let Some(to) = &q.to {
            sql.push_str(" AND r.clinical_date < ?");
            args.push(date_bound(to)?.into());
        }
        if !q.include_deleted {
            sql.push_str(" AND r.status IS NOT 'entered-in-error'");
        }
        if q.home_only {
            sql.push_str(" AND s.kind = 'home'");
        }
        sql.push_str(" ORDER BY r.clinical_date DESC, r.id DESC");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        while let Some(r) = rows.next()? {
            let text = crate::unpack(&r.get::<_, Vec<u8>>(2)?)?;
            let Ok(json) = serde_json::from_str::<Value>(&text) else { continue };
            // Hospital Observations with a date only, or values this app cannot read, are
            // left out of charts (they stay in the timeline).
            let Ok(p) = from_observation(&json) else { continue };
            if q.kind.is_some_and(|k| k != p.reading.kind()) || (!q.include_deleted && !p.is_current()) {
                continue;
            }
            let entry = VitalEntry {
                record_id: r.get(0)?,
                version: r.get(1)?,
                home: p.identifier.is_some(),
                reading: p.reading,
                status: p.status,
                source: r.get(3)?,
                source_kind: r.get(4)?,
                performer: p.performer,
            };
            f(entry, &text)?;
        }
        Ok(())
    }

    /// Writes the stored Observations `q` selects as FHIR NDJSON (exactly as stored), oldest
    /// first. Returns how many were written.
    pub fn export_vitals(&mut self, q: &VitalsQuery, out: &mut dyn Write) -> Result<u64> {
        // Which readings, in which order; their text comes through the disclosure gate.
        let mut ids = Vec::new();
        self.each_vital(q, &mut |e, _| {
            ids.push(e.record_id);
            Ok(())
        })?;
        let only: std::collections::HashSet<i64> = ids.iter().copied().collect();
        let mut texts: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        let d = crate::disclosure::Disclosure {
            exit: crate::disclosure::Exit::VitalsExport,
            recipient: techo_consent::Recipient::Person,
            purpose: techo_consent::Purpose::PersonalUse,
            person: Some(q.person),
            scope: crate::Scope::named("home readings"),
        };
        if !only.is_empty() {
            self.gated(&d, Some(&only), &mut |row| {
                texts.insert(row.record_id, row.text.clone());
                Ok(())
            })?;
        }
        let io = |e: std::io::Error| Error::Io { path: "the export output".into(), source: e };
        let mut n = 0u64;
        for id in ids.iter().rev() {
            if let Some(t) = texts.get(id) {
                out.write_all(t.as_bytes()).map_err(io)?;
                out.write_all(b"\n").map_err(io)?;
                n += 1;
            }
        }
        out.flush().map_err(io)?;
        Ok(n)
    }

    /// The home blood-pressure handbook: weekly morning/evening averages of the readings
    /// entered or imported at home, for the `weeks` calendar weeks (Monday to Sunday) ending
    /// with the latest week that has a reading; oldest week first. Weeks without readings are
    /// not listed.
    pub fn bp_handbook(&self, person_id: i64, weeks: usize, target: BpTarget) -> Result<Vec<WeekSummary>> {
        let q = VitalsQuery { person: person_id, kind: Some(VitalKind::BloodPressure), ..Default::default() };
        let readings: Vec<Reading> = self.vitals_query(&q)?.into_iter().filter(|e| e.home).map(|e| e.reading).collect();
        let all = weekly_bp_averages(&readings, target);
        let Some(last) = all.last().map(|w| w.week_start) else { return Ok(vec![]) };
        let first = last - Duration::weeks(weeks.saturating_sub(1).min(10_000) as i64);
        Ok(all.into_iter().filter(|w| w.week_start >= first).collect())
    }

    /// A person's diary entries (of one kind or all), newest first; `from` inclusive, `to`
    /// exclusive. Deleted entries only with `include_deleted`.
    pub fn diaries(&self, person_id: i64, kind: Option<DiaryKind>, from: Option<&str>, to: Option<&str>, include_deleted: bool) -> Result<Vec<DiaryRecord>> {
        self.person(person_id)?;
        let mut sql = String::from(
            "SELECT r.id, r.version, r.resource, s.name FROM records r JOIN sources s ON s.id = r.source_id
             WHERE r.person_id = ? AND r.rtype = 'QuestionnaireResponse'",
        );
        let mut args: Vec<rusqlite::types::Value> = vec![person_id.into()];
        if let Some(from) = from {
            sql.push_str(" AND r.clinical_date >= ?");
            args.push(date_bound(from)?.into());
        }
        if let Some(to) = to {
            sql.push_str(" AND r.clinical_date < ?");
            args.push(date_bound(to)?.into());
        }
        if !include_deleted {
            sql.push_str(" AND r.status IS NOT 'entered-in-error'");
        }
        sql.push_str(" ORDER BY r.clinical_date DESC, r.id DESC");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let text = crate::unpack(&r.get::<_, Vec<u8>>(2)?)?;
            let Ok(json) = serde_json::from_str::<Value>(&text) else { continue };
            // Another app's QuestionnaireResponses are not diaries of this one.
            let Ok(p) = from_questionnaire_response(&json) else { continue };
            if kind.is_some_and(|k| k != p.diary.entry.kind()) {
                continue;
            }
            out.push(DiaryRecord { record_id: r.get(0)?, version: r.get(1)?, diary: p.diary, status: p.status, source: r.get(3)?, author: p.author });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use secrecy::SecretString;
    use techo_vitals::{BpContext, Field, Measurement, MoodDiary, VitalsError};

    fn jst() -> FixedOffset {
        FixedOffset::east_opt(9 * 3600).unwrap()
    }

    fn at(d: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
        jst().with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    fn now() -> DateTime<FixedOffset> {
        at(28, 12, 0)
    }

    fn vault() -> (tempfile::TempDir, Vault, i64) {
        let tmp = tempfile::tempdir().unwrap();
        let (mut v, _) = Vault::create(&tmp.path().join("v"), &SecretString::from("vitals unit tests"), None).unwrap();
        let p = v.add_person("テスト 花子", Some("self"), &[]).unwrap();
        (tmp, v, p)
    }

    fn bp(s: f64, d: f64, when: DateTime<FixedOffset>) -> Reading {
        Reading::new(when, Measurement::blood_pressure(s, d, Some(70.0)))
    }

    #[test]
    fn a_caregivers_entry_names_the_caregiver_as_performer() {
        let (_t, mut v, me) = vault();
        let mother = v.add_person("テスト 母", Some("mother"), &[]).unwrap();
        let caregiver = v.person_reference(me).unwrap();
        assert_eq!(caregiver, format!("Patient/techo-person-{me}"), "a person without a Patient record");
        let a = v.add_reading(mother, bp(150.0, 95.0, at(27, 7, 30)), Some(&caregiver), now()).unwrap();
        let e = v.vital(a.record_id).unwrap();
        assert_eq!(e.performer.as_deref(), Some(caregiver.as_str()));
        assert!(v.person_reference(9999).is_err(), "an unknown person");
    }

    #[test]
    fn add_is_idempotent_and_edit_and_delete_keep_history() {
        let (_t, mut v, p) = vault();
        let a = v.add_reading(p, bp(128.0, 82.0, at(27, 7, 30)), None, now()).unwrap();
        assert_eq!(a.status, EntryStatus::New);
        let again = v.add_reading(p, bp(128.0, 82.0, at(27, 7, 30)), None, now()).unwrap();
        assert_eq!((again.status, again.record_id), (EntryStatus::Duplicate, a.record_id));
        assert_eq!(v.stats().unwrap().resources, 1);

        let e = v.edit_reading(a.record_id, bp(130.0, 85.0, at(27, 7, 30)), None, now()).unwrap();
        assert_eq!((e.status, e.record_id), (EntryStatus::Updated, a.record_id));
        let d = v.record(a.record_id).unwrap();
        assert_eq!(d.row.version, 2);
        assert_eq!(d.versions.len(), 1);
        let list = v.vitals(p, Some(VitalKind::BloodPressure), None, None).unwrap();
        assert_eq!(list.len(), 1);
        assert!(matches!(&list[0].reading.measurement, Measurement::BloodPressure(b) if b.systolic == 130.0));
        assert_eq!(list[0].source, HOME_SOURCE_NAME);

        // The original values again: a new record (the old id is taken by the edited one).
        let back = v.add_reading(p, bp(128.0, 82.0, at(27, 7, 30)), None, now()).unwrap();
        assert_eq!(back.status, EntryStatus::New);
        assert_ne!(back.record_id, a.record_id);
        assert_eq!(v.record(a.record_id).unwrap().row.version, 2, "the edited record is untouched");

        let del = v.delete_entry(a.record_id).unwrap();
        assert_eq!(del.status, EntryStatus::Updated);
        assert_eq!(v.delete_entry(a.record_id).unwrap().status, EntryStatus::Unchanged);
        assert_eq!(v.vitals(p, None, None, None).unwrap().len(), 1);
        let all = v.vitals_query(&VitalsQuery { person: p, include_deleted: true, ..Default::default() }).unwrap();
        assert_eq!(all.len(), 2);
        assert!(matches!(v.edit_reading(a.record_id, bp(131.0, 85.0, at(27, 7, 30)), None, now()), Err(Error::InvalidInput(_))));
        // Entered again by hand: restored as a new version.
        let r = v.add_reading(p, bp(130.0, 85.0, at(27, 7, 30)), None, now()).unwrap();
        assert_eq!((r.status, r.record_id), (EntryStatus::Restored, a.record_id));
        assert_eq!(v.record(a.record_id).unwrap().row.version, 4);
    }

    #[test]
    fn edit_to_another_stored_reading_is_a_duplicate() {
        let (_t, mut v, p) = vault();
        let a = v.add_reading(p, bp(120.0, 80.0, at(27, 7, 0)), None, now()).unwrap();
        let b = v.add_reading(p, bp(121.0, 80.0, at(27, 7, 0)), None, now()).unwrap();
        let Err(e) = v.edit_reading(b.record_id, bp(120.0, 80.0, at(27, 7, 0)), None, now()) else { panic!("accepted") };
        assert!(matches!(e, Error::DuplicateEntry(id) if id == a.record_id));
        assert_eq!(e.code(), "duplicate_entry");
        assert_eq!(e.general_code(), "invalid_input");
    }

    #[test]
    fn invalid_readings_keep_their_code_and_store_nothing() {
        let (_t, mut v, p) = vault();
        let cases = [
            bp(82.0, 128.0, at(27, 7, 0)),
            bp(400.0, 80.0, at(27, 7, 0)),
            bp(120.0, 80.0, now() + Duration::hours(2)),
        ];
        let codes = ["systolic_not_above_diastolic", "impossible_value", "future_time"];
        for (r, code) in cases.into_iter().zip(codes) {
            let Err(e) = v.add_reading(p, r, None, now()) else { panic!("accepted ({code})") };
            assert_eq!(e.code(), code);
            assert!(matches!(e, Error::Vitals(_)));
            assert!(!e.to_string().contains("400"), "no values in messages");
        }
        let Err(e) = v.add_reading(p, bp(120.0, 80.0, at(27, 7, 0)), Some("not a reference"), now()) else { panic!("accepted") };
        assert_eq!(e.code(), "invalid_reference");
        assert_eq!(v.stats().unwrap().resources, 0);
    }

    #[test]
    fn hospital_patient_becomes_the_subject_and_old_entries_still_match() {
        let (t, mut v, p) = vault();
        v.add_reading(p, bp(120.0, 80.0, at(27, 7, 0)), None, now()).unwrap();
        let f = t.path().join("h.ndjson");
        std::fs::write(
            &f,
            concat!(
                r#"{"resourceType":"Patient","id":"hosp-1","name":[{"text":"テスト 花子"}]}"#,
                "\n",
                r#"{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/hosp-1"},"effectiveDateTime":"2026-11-20T10:00:00+09:00","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":142,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":90,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}"#,
                "\n"
            ),
        )
        .unwrap();
        v.import_file(&f, &ImportOptions { person: Some(p), source_name: Some("Clinic".into()) }, &mut |_| {}).unwrap();
        let dup = v.add_reading(p, bp(120.0, 80.0, at(27, 7, 0)), None, now()).unwrap();
        assert_eq!(dup.status, EntryStatus::Duplicate);
        let n = v.add_reading(p, bp(125.0, 80.0, at(27, 19, 0)), None, now()).unwrap();
        let obs: Value = serde_json::from_str(&v.record(n.record_id).unwrap().resource).unwrap();
        assert_eq!(obs["subject"]["reference"], "Patient/hosp-1");
        let list = v.vitals(p, Some(VitalKind::BloodPressure), None, None).unwrap();
        assert_eq!(list.len(), 3, "home and hospital readings");
        assert_eq!(list.iter().filter(|e| !e.home).count(), 1);
        assert_eq!(list.last().unwrap().source, "Clinic", "newest first");
        // The clinic's reading is not home blood pressure, and cannot be edited.
        let weeks = v.bp_handbook(p, 8, BpTarget::default()).unwrap();
        let counted: usize = weeks.iter().map(|w| w.morning.as_ref().map_or(0, |s| s.count) + w.evening.as_ref().map_or(0, |s| s.count) + w.unclassified).sum();
        assert_eq!(counted, 2);
        let clinic = list.last().unwrap().record_id;
        assert!(matches!(v.delete_entry(clinic), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn csv_is_all_or_nothing_and_reimports_add_nothing() {
        let (_t, mut v, p) = vault();
        let opts = VitalsCsvOptions { csv: CsvOptions { default_offset: jst(), now: now() }, file_name: "bp.csv".into(), performer: None };
        let good = "日付,時刻,最高血圧,最低血圧,脈拍\n2026/11/26,7:00,128,82,70\n2026/11/26,21:00,131,84,72\n2026/11/27,7:05,126,80,68\n";
        let r = v.import_vitals_csv(p, good.as_bytes(), None, &opts).unwrap();
        assert_eq!((r.rows, r.readings, r.new, r.duplicates), (3, 3, 3, 0));
        let r = v.import_vitals_csv(p, good.as_bytes(), None, &opts).unwrap();
        assert_eq!((r.new, r.duplicates), (0, 3));
        let bad = "日付,時刻,最高血圧,最低血圧\n2026/11/20,7:00,128,82\n2026/11/20,21:00,82,128\n2026/11/21,7:00,abc,80\n";
        let Err(Error::VitalsCsv(errors)) = v.import_vitals_csv(p, bad.as_bytes(), None, &opts) else { panic!("accepted") };
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![Some(3), Some(4)]);
        assert_eq!(v.stats().unwrap().resources, 3);
        // An explicit mapping (0-based columns).
        let m = Mapping::new().with(Field::DateTime, 0).with(Field::Weight, 1);
        let r = v.import_vitals_csv(p, "when,kg\n2026-11-27 07:10,62.5\n".as_bytes(), Some(&m), &opts).unwrap();
        assert_eq!(r.new, 1);
        assert_eq!(v.vitals(p, Some(VitalKind::BodyWeight), None, None).unwrap().len(), 1);
        let Err(e) = v.import_vitals_csv(p, b"\xff\xfe", None, &opts) else { panic!("accepted") };
        assert!(matches!(e, Error::Vitals(VitalsError::NotUtf8 { .. })));
    }

    #[test]
    fn handbook_limits_weeks_and_uses_context() {
        let (_t, mut v, p) = vault();
        for (d, s) in [(2u32, 150.0), (9, 140.0), (16, 130.0), (23, 120.0)] {
            let mut r = bp(s, 80.0, at(d, 7, 0));
            if let Measurement::BloodPressure(b) = &mut r.measurement {
                b.context = Some(BpContext::Morning);
            }
            v.add_reading(p, r, None, now()).unwrap();
        }
        let w = v.bp_handbook(p, 2, BpTarget::default()).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].morning.as_ref().unwrap().systolic, 120.0);
        assert!(w[0].morning.as_ref().unwrap().systolic == 130.0 && !w[0].morning.as_ref().unwrap().above_target);
        assert_eq!(v.bp_handbook(p, 8, BpTarget::default()).unwrap().len(), 4);
    }

    #[test]
    fn diaries_are_one_record_per_moment() {
        let (_t, mut v, p) = vault();
        let d = |mood| Diary::new(at(27, 21, 0), techo_vitals::DiaryEntry::Mood(MoodDiary { mood: Some(mood), symptoms: None, note: Some("よく眠れた".into()) }));
        let a = v.add_diary(p, d(4), None, now()).unwrap();
        assert_eq!(a.status, EntryStatus::New);
        assert_eq!(v.add_diary(p, d(4), None, now()).unwrap().status, EntryStatus::Unchanged);
        let b = v.add_diary(p, d(2), None, now()).unwrap();
        assert_eq!((b.status, b.record_id), (EntryStatus::Updated, a.record_id));
        let list = v.diaries(p, None, Some("2026-11-01"), None, false).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].version, 2);
        let Err(e) = v.add_diary(p, Diary::new(at(27, 22, 0), techo_vitals::DiaryEntry::Mood(MoodDiary::default())), None, now()) else { panic!("accepted") };
        assert_eq!(e.code(), "empty_diary_entry");
        v.delete_entry(a.record_id).unwrap();
        assert!(v.diaries(p, None, None, None, false).unwrap().is_empty());
        assert_eq!(v.diaries(p, None, None, None, true).unwrap().len(), 1);
        // Full text finds the note.
        let hits = v.search(&crate::SearchQuery { person: Some(p), text: "眠れ".into(), limit: 10 }).unwrap();
        assert_eq!(hits.len(), 1);
    }
}
