//! Persons and the views over the record: timeline, search, detail, stats.

use crate::error::{Error, Result};
use crate::vault::Vault;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub display_name: String,
    pub relationship: Option<String>,
    /// Who shared this record into the vault (a caregiver keeps it from their packages).
    pub shared_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PersonSummary {
    pub id: i64,
    pub display_name: String,
    pub relationship: Option<String>,
    /// Who shared this record into the vault, when it came from share packages.
    pub shared_by: Option<String>,
    pub resource_count: u64,
    /// Resource counts by type, most frequent first.
    pub by_type: Vec<(String, u64)>,
}

/// One line of a list: enough to show and to open the record.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ResourceRow {
    pub record_id: i64,
    pub person_id: i64,
    pub resource_type: String,
    /// The resource's own `id` as the source sent it.
    pub resource_id: Option<String>,
    /// The source of the current version.
    pub source: String,
    pub clinical_date: Option<String>,
    pub status: Option<String>,
    pub display: Option<String>,
    pub version: i64,
}

/// Keyset cursor: the last row of the previous page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineCursor {
    pub clinical_date: Option<String>,
    pub record_id: i64,
}

#[derive(Clone, Debug, Default)]
pub struct TimelineQuery {
    pub person: i64,
    /// Resource types to include; empty = all.
    pub types: Vec<String>,
    /// Inclusive lower bound, a FHIR date or dateTime.
    pub from: Option<String>,
    /// Exclusive upper bound, a FHIR date or dateTime.
    pub to: Option<String>,
    /// `(system, code)`; an empty system matches any system.
    pub code: Option<(String, String)>,
    /// A source by name or URI.
    pub source: Option<String>,
    /// Only records one source of this kind (`file`, `endpoint`, `home`, `share`) sent.
    pub source_kind: Option<String>,
    pub after: Option<TimelineCursor>,
    pub limit: usize,
}

#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub person: Option<i64>,
    pub text: String,
    pub limit: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProvenanceEntry {
    pub source: String,
    pub source_kind: String,
    pub source_uri: String,
    pub source_ref: String,
    pub version_id: Option<String>,
    pub last_updated: Option<String>,
    pub received_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct VersionInfo {
    pub version: i64,
    pub source: String,
    pub superseded_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecordDetail {
    pub row: ResourceRow,
    /// The current version, exactly as stored.
    pub resource: String,
    pub provenance: Vec<ProvenanceEntry>,
    /// Earlier versions, oldest first.
    pub versions: Vec<VersionInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceInfo {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub uri: String,
    pub records: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub persons: u64,
    pub resources: u64,
    pub versions: u64,
    pub sources: u64,
    pub by_type: BTreeMap<String, u64>,
}

const ROW_COLUMNS: &str = "r.id, r.person_id, r.rtype, r.resource_id, s.name, r.clinical_date, r.status, r.display, r.version";
const ROW_COLUMN_COUNT: usize = 9;
/// At most this many full-text candidates are checked one by one against their text.
const MAX_CHECKED: usize = 20_000;

fn row(r: &Row<'_>) -> rusqlite::Result<ResourceRow> {
    Ok(ResourceRow {
        record_id: r.get(0)?,
        person_id: r.get(1)?,
        resource_type: r.get(2)?,
        resource_id: r.get(3)?,
        source: r.get(4)?,
        clinical_date: r.get(5)?,
        status: r.get(6)?,
        display: r.get(7)?,
        version: r.get(8)?,
    })
}

fn date_bound(s: &str) -> Result<String> {
    techo_fhir::index::normalize_date(s).ok_or_else(|| {
        Error::InvalidInput(format!("{s:?} is not a date; use YYYY, YYYY-MM, YYYY-MM-DD or a full date and time"))
    })
}

/// Makes an FTS5 string literal of `s`.
fn fts_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Vault {
    pub fn add_person(&mut self, display_name: &str, relationship: Option<&str>, identifiers: &[(String, String)]) -> Result<i64> {
        let name = display_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::InvalidInput("a person's name must be 1 to 200 characters".into()));
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO persons(display_name, relationship, created_at) VALUES (?1, ?2, ?3)",
            params![name, relationship, crate::now()],
        )?;
        let id = tx.last_insert_rowid();
        for (system, value) in identifiers {
            let owner: Option<i64> = tx
                .query_row("SELECT person_id FROM person_identifiers WHERE system=?1 AND value=?2", params![system, value], |r| r.get(0))
                .optional()?;
            if owner.is_some() {
                return Err(Error::InvalidInput("that identifier already belongs to another person in this vault".into()));
            }
            tx.execute("INSERT INTO person_identifiers(system, value, person_id) VALUES (?1, ?2, ?3)", params![system, value, id])?;
        }
        tx.commit()?;
        Ok(id)
    }

    pub fn rename_person(&mut self, id: i64, display_name: &str, relationship: Option<&str>) -> Result<()> {
        let name = display_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::InvalidInput("a person's name must be 1 to 200 characters".into()));
        }
        let n = self.conn.execute(
            "UPDATE persons SET display_name=?1, relationship=COALESCE(?2, relationship) WHERE id=?3",
            params![name, relationship, id],
        )?;
        if n == 0 {
            return Err(Error::NotFound(format!("person {id}")));
        }
        Ok(())
    }

    pub fn persons(&self) -> Result<Vec<Person>> {
        let mut stmt = self.conn.prepare_cached("SELECT id, display_name, relationship, shared_by FROM persons ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok(Person { id: r.get(0)?, display_name: r.get(1)?, relationship: r.get(2)?, shared_by: r.get(3)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn person(&self, id: i64) -> Result<Person> {
        self.persons()?.into_iter().find(|p| p.id == id).ok_or_else(|| Error::NotFound(format!("person {id}")))
    }

    /// Every person with their resource counts (in total and by type).
    pub fn person_summaries(&self) -> Result<Vec<PersonSummary>> {
        let mut out: Vec<PersonSummary> = self
            .persons()?
            .into_iter()
            .map(|p| PersonSummary {
                id: p.id,
                display_name: p.display_name,
                relationship: p.relationship,
                shared_by: p.shared_by,
                resource_count: 0,
                by_type: vec![],
            })
            .collect();
        let mut stmt = self.conn.prepare_cached("SELECT person_id, rtype, count(*) FROM records GROUP BY person_id, rtype")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (pid, t, n): (i64, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if let Some(p) = out.iter_mut().find(|p| p.id == pid) {
                p.resource_count += n as u64;
                p.by_type.push((t, n as u64));
            }
        }
        for p in &mut out {
            p.by_type.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        Ok(out)
    }

    /// A page of a person's record, newest clinical date first (undated records last).
    pub fn timeline(&self, q: &TimelineQuery) -> Result<Vec<ResourceRow>> {
        let mut sql = format!("SELECT {ROW_COLUMNS} FROM records r JOIN sources s ON s.id = r.source_id WHERE r.person_id = ?");
        let mut args: Vec<rusqlite::types::Value> = vec![q.person.into()];
        if !q.types.is_empty() {
            sql.push_str(&format!(" AND r.rtype IN ({})", vec!["?"; q.types.len()].join(",")));
            args.extend(q.types.iter().map(|t| t.clone().into()));
        }
        if let Some(from) = &q.from {
            sql.push_str(" AND r.clinical_date >= ?");
            args.push(date_bound(from)?.into());
        }
        if let Some(to) = &q.to {
            sql.push_str(" AND r.clinical_date < ?");
            args.push(date_bound(to)?.into());
        }
        if let Some((system, code)) = &q.code {
            sql.push_str(" AND r.id IN (SELECT record_id FROM record_codes WHERE code_key = ? AND code = ?");
            args.push(crate::key64(&[code]).into());
            args.push(code.clone().into());
            if !system.is_empty() {
                sql.push_str(" AND system = ?");
                args.push(system.clone().into());
            }
            sql.push(')');
        }
        if let Some(source) = &q.source {
            sql.push_str(" AND r.id IN (SELECT p.record_id FROM provenance p JOIN sources s2 ON s2.id = p.source_id WHERE s2.name = ? OR s2.uri = ?)");
            args.push(source.clone().into());
            args.push(source.clone().into());
        }
        if let Some(kind) = &q.source_kind {
            sql.push_str(" AND r.id IN (SELECT p.record_id FROM provenance p JOIN sources s3 ON s3.id = p.source_id WHERE s3.kind = ?)");
            args.push(kind.clone().into());
        }
        if let Some(c) = &q.after {
            match &c.clinical_date {
                Some(d) => {
                    sql.push_str(" AND (r.clinical_date < ? OR (r.clinical_date = ? AND r.id < ?) OR r.clinical_date IS NULL)");
                    args.push(d.clone().into());
                    args.push(d.clone().into());
                    args.push(c.record_id.into());
                }
                None => {
                    sql.push_str(" AND r.clinical_date IS NULL AND r.id < ?");
                    args.push(c.record_id.into());
                }
            }
        }
        sql.push_str(" ORDER BY r.clinical_date DESC, r.id DESC LIMIT ?");
        args.push((q.limit.clamp(1, 10_000) as i64).into());
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Full-text search over every indexed string, Japanese included (words match inside
    /// compounds: 血圧 finds 収縮期血圧): every whitespace-separated term must occur in the
    /// record's indexed text, case-insensitively. The index holds the bigrams of that text
    /// (`techo_fhir::index::fts_tokens`) without positions; the records holding all of a term's
    /// bigrams are candidates, and each is checked against its own text, newest first, until
    /// `limit` are found.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<ResourceRow>> {
        let terms: Vec<String> = q.text.split_whitespace().map(techo_fhir::index::fold).collect();
        if terms.is_empty() {
            return Err(Error::InvalidInput("type something to search for".into()));
        }
        let mut tokens = BTreeSet::new();
        for term in &terms {
            let t = techo_fhir::index::term_tokens(term);
            if t.is_empty() {
                return Err(Error::InvalidInput(
                    "each search term needs at least two letters or digits side by side".into(),
                ));
            }
            tokens.extend(t);
        }
        let expr = tokens.iter().map(|t| fts_quote(t)).collect::<Vec<_>>().join(" AND ");
        let limit = q.limit.clamp(1, 1000);
        let mut sql = format!(
            "SELECT {ROW_COLUMNS}, r.resource FROM record_fts f JOIN records r ON r.id = f.rowid JOIN sources s ON s.id = r.source_id WHERE record_fts MATCH ?1"
        );
        if q.person.is_some() {
            sql.push_str(" AND r.person_id = ?2");
        }
        sql.push_str(" ORDER BY f.rowid DESC");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = match q.person {
            Some(p) => stmt.query(params![expr, p])?,
            None => stmt.query(params![expr])?,
        };
        let mut found = Vec::new();
        let mut checked = 0usize;
        while let Some(r) = rows.next()? {
            // Bounded, so that a query whose bigrams are everywhere but never together cannot
            // read the whole vault.
            checked += 1;
            if checked > MAX_CHECKED {
                break;
            }
            let resource = crate::unpack(&r.get::<_, Vec<u8>>(ROW_COLUMN_COUNT)?)?;
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&resource) else { continue };
            let text = techo_fhir::index::fold(&techo_fhir::index::text(&value));
            if !terms.iter().all(|t| text.contains(t.as_str())) {
                continue;
            }
            found.push(row(r)?);
            if found.len() >= limit {
                break;
            }
        }
        Ok(found)
    }

    /// One record with its sources and versions.
    pub fn record(&self, record_id: i64) -> Result<RecordDetail> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {ROW_COLUMNS}, r.resource FROM records r JOIN sources s ON s.id = r.source_id WHERE r.id = ?1"))?;
        let (row, packed) = stmt
            .query_row([record_id], |r| Ok((row(r)?, r.get::<_, Vec<u8>>(9)?)))
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("record {record_id}")))?;
        let resource = crate::unpack(&packed)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.name, s.kind, s.uri, p.source_ref, p.version_id, p.last_updated, p.received_at
             FROM provenance p JOIN sources s ON s.id = p.source_id WHERE p.record_id = ?1 ORDER BY p.received_at",
        )?;
        let provenance = stmt
            .query_map([record_id], |r| {
                Ok(ProvenanceEntry {
                    source: r.get(0)?,
                    source_kind: r.get(1)?,
                    source_uri: r.get(2)?,
                    source_ref: r.get(3)?,
                    version_id: r.get(4)?,
                    last_updated: r.get(5)?,
                    received_at: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.version, s.name, v.superseded_at FROM record_versions v JOIN sources s ON s.id = v.source_id WHERE v.record_id = ?1 ORDER BY v.version",
        )?;
        let versions = stmt
            .query_map([record_id], |r| Ok(VersionInfo { version: r.get(0)?, source: r.get(1)?, superseded_at: r.get(2)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(RecordDetail { row, resource, provenance, versions })
    }

    /// The text of one version of a record (the current one included).
    pub fn record_version(&self, record_id: i64, version: i64) -> Result<String> {
        let cur: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row("SELECT version, resource FROM records WHERE id = ?1", [record_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match cur {
            None => Err(Error::NotFound(format!("record {record_id}"))),
            Some((v, packed)) if v == version => crate::unpack(&packed),
            Some(_) => {
                let packed: Vec<u8> = self
                    .conn
                    .query_row("SELECT resource FROM record_versions WHERE record_id = ?1 AND version = ?2", [record_id, version], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| Error::NotFound(format!("version {version} of record {record_id}")))?;
                crate::unpack(&packed)
            }
        }
    }

    pub fn sources(&self) -> Result<Vec<SourceInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, s.kind, s.name, s.uri, (SELECT count(*) FROM provenance p WHERE p.source_id = s.id) FROM sources s ORDER BY s.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceInfo { id: r.get(0)?, kind: r.get(1)?, name: r.get(2)?, uri: r.get(3)?, records: r.get::<_, i64>(4)? as u64 })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn stats(&self) -> Result<Stats> {
        let one = |sql: &str| -> Result<u64> { Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
        let mut by_type = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached("SELECT rtype, count(*) FROM records GROUP BY rtype")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            by_type.insert(r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64);
        }
        Ok(Stats {
            persons: one("SELECT count(*) FROM persons")?,
            resources: by_type.values().sum(),
            versions: one("SELECT count(*) FROM record_versions")?,
            sources: one("SELECT count(*) FROM sources")?,
            by_type,
        })
    }
}
