//! Streaming import: one file is one transaction. Resources are matched to a person, de-duplicated
//! across sources, versioned, indexed and given provenance as they stream by; any error rolls the
//! whole file back, so the vault is exactly as before.

use crate::error::{Error, Result};
use crate::key64;
use crate::vault::Vault;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use techo_fhir::index;
use techo_fhir::reader::{self, Failure, FormatHint, Item, Position, ReadError};

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Put every resource of the file into this person's record (no patient matching).
    pub person: Option<i64>,
    /// A display name for the source (default: the file name).
    pub source_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub file: String,
    pub person_id: i64,
    /// Resources read from the file.
    pub resources: u64,
    /// New records.
    pub new: u64,
    /// Records that got a new version.
    pub updated: u64,
    /// Resources already stored as they are (re-imports), or older than what is stored.
    pub unchanged: u64,
    /// Resources that another source had already sent: linked to that record, not duplicated.
    pub merged: u64,
    /// Bundle entries without a resource (DELETE/GET requests), not imported.
    pub skipped: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ImportProgress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub resources: u64,
}

/// Counts bytes read, for progress.
struct Counted<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        let p = self.inner.seek(pos)?;
        self.n.store(p, Ordering::Relaxed);
        Ok(p)
    }
}

/// Why a pass stopped.
enum Stop {
    /// The first resource is not a Patient: the person must be found by a first pass.
    NeedPrescan,
    Fail(String),
    Db(Error),
}

impl From<rusqlite::Error> for Stop {
    fn from(e: rusqlite::Error) -> Self {
        Stop::Db(e.into())
    }
}

/// The source's name for a resource. In a Bundle whose `fullUrl` is a server URL, that URL
/// (without `/_history/…`) tells apart two servers' `Observation/14`; otherwise `Type/id`, or
/// the `urn:uuid:` fullUrl of a resource without an id. A Techo share package names each record
/// `urn:techo:record:{sender}:{record}` (two facilities' `Condition/1` travel in one package).
fn source_ref(item: &Item) -> String {
    if let Some(url) = item.full_url.as_deref().filter(|u| u.starts_with(crate::share::RECORD_URN)) {
        return url.to_owned();
    }
    if let Some(url) = item.full_url.as_deref().filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
        let url = url.split("/_history/").next().unwrap_or(url);
        return url.to_owned();
    }
    match &item.id {
        Some(id) => format!("{}/{}", item.resource_type, id),
        None => item.full_url.clone().unwrap_or_default(),
    }
}

fn content_key(hash: &[u8; 32]) -> i64 {
    i64::from_be_bytes(hash[..8].try_into().expect("8 bytes"))
}

fn meta_str(r: &Value, k: &str) -> Option<String> {
    r.get("meta")?.get(k)?.as_str().map(str::to_owned)
}

/// A provenance row found for an incoming resource: its id, record, import, lastUpdated, versionId.
type ProvRow = (i64, i64, i64, Option<String>, Option<String>);

/// A distinct Patient seen by the prescan: its source ref, identifiers and place.
type SeenPatient = (String, BTreeSet<(String, String)>, Position);

/// What is known about the patient of this file while it streams.
#[derive(Default)]
struct PatientCtx {
    person: Option<i64>,
    fixed: bool,
    /// Found by the prescan: a new person to create (inside the transaction) from this name.
    create: Option<String>,
    seen_patient: bool,
    refs: BTreeSet<String>,
    identifiers: BTreeSet<(String, String)>,
}

impl Vault {
    /// Imports one file: a Bundle of any type, NDJSON, or a single resource.
    pub fn import_file(&mut self, path: &Path, opts: &ImportOptions, progress: &mut dyn FnMut(&ImportProgress)) -> Result<ImportReport> {
        let shown = path.display().to_string();
        let fail = |reason: String| Error::Import { file: shown.clone(), reason };
        let meta = std::fs::metadata(path).map_err(|e| fail(format!("could not open it ({})", io_reason(&e))))?;
        if meta.is_dir() {
            return Err(fail("it is a folder, not a file".into()));
        }
        let file = std::fs::File::open(path).map_err(|e| fail(format!("could not open it ({})", io_reason(&e))))?;
        let hint = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("ndjson" | "jsonl") => FormatHint::Ndjson,
            _ => FormatHint::Detect,
        };
        let uri = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()).display().to_string();
        let name = opts
            .source_name
            .clone()
            .unwrap_or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| shown.clone()));
        self.import_reader(&shown, "file", &name, &uri, file, meta.len(), hint, opts, progress)
    }

    /// Imports from any seekable reader (the file path is only used in messages).
    #[allow(clippy::too_many_arguments)]
    pub fn import_reader<R: Read + Seek + Send>(
        &mut self,
        shown: &str,
        source_kind: &str,
        source_name: &str,
        source_uri: &str,
        input: R,
        total_bytes: u64,
        hint: FormatHint,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport> {
        // The import inserts only rows whose parents it has just found or created, so the
        // per-row foreign-key look-ups (a tenth of a big import's time) are off while it runs
        // (the pragma cannot change inside a transaction); `Vault::check_integrity` runs
        // `foreign_key_check` over the whole vault.
        self.import_reader_then(shown, source_kind, source_name, source_uri, input, total_bytes, hint, opts, progress, &mut |_, _| Ok(()))
    }

    /// [`Vault::import_reader`], running `before_commit` inside the file's transaction after the
    /// last resource (a sync page commits its cursor there, so page and cursor land together).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn import_reader_then<R: Read + Seek + Send>(
        &mut self,
        shown: &str,
        source_kind: &str,
        source_name: &str,
        source_uri: &str,
        input: R,
        total_bytes: u64,
        hint: FormatHint,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(&ImportProgress),
        before_commit: &mut dyn FnMut(&Transaction<'_>, i64) -> Result<()>,
    ) -> Result<ImportReport> {
        let counter = Arc::new(AtomicU64::new(0));
        let source = Source::Stream { input: Counted { inner: input, n: counter.clone() }, hint, counter };
        self.import_source(shown, source_kind, source_name, source_uri, source, total_bytes, opts, progress, before_commit)
    }

    /// [`Vault::import_reader_then`] for resources that arrived already parsed and were
    /// prepared beforehand ([`PreparedPage`]: a sync page). Only the database work happens here,
    /// on this thread. `opts.person` must be set (no prescan).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn import_prepared_then(
        &mut self,
        shown: &str,
        source_kind: &str,
        source_name: &str,
        source_uri: &str,
        page: PreparedPage,
        opts: &ImportOptions,
        before_commit: &mut dyn FnMut(&Transaction<'_>, i64) -> Result<()>,
    ) -> Result<ImportReport> {
        debug_assert!(opts.person.is_some(), "a page is imported into a named person's record");
        let n = page.len() as u64;
        self.import_source::<std::io::Empty>(shown, source_kind, source_name, source_uri, Source::Prepared(Some(page)), n, opts, &mut |_| {}, before_commit)
    }

    #[allow(clippy::too_many_arguments)]
    fn import_source<R: Read + Seek + Send>(
        &mut self,
        shown: &str,
        source_kind: &str,
        source_name: &str,
        source_uri: &str,
        source: Source<R>,
        total_bytes: u64,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(&ImportProgress),
        before_commit: &mut dyn FnMut(&Transaction<'_>, i64) -> Result<()>,
    ) -> Result<ImportReport> {
        self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        let result = self.import_stream(shown, source_kind, source_name, source_uri, source, total_bytes, opts, progress, before_commit);
        let restored = self.conn.execute_batch("PRAGMA foreign_keys = ON");
        let report = result?;
        restored?;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn import_stream<R: Read + Seek + Send>(
        &mut self,
        shown: &str,
        source_kind: &str,
        source_name: &str,
        source_uri: &str,
        mut source: Source<R>,
        total_bytes: u64,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(&ImportProgress),
        before_commit: &mut dyn FnMut(&Transaction<'_>, i64) -> Result<()>,
    ) -> Result<ImportReport> {
        let fail = |reason: String| Error::Import { file: shown.to_owned(), reason };

        let mut ctx = PatientCtx::default();
        if let Some(p) = opts.person {
            self.person(p).map_err(|_| Error::NotFound(format!("person {p} (see `techo person list`)")))?;
            ctx.person = Some(p);
            ctx.fixed = true;
        }
        let mut prescanned = false;
        loop {
            if let Source::Stream { input, .. } = &mut source {
                input.seek(std::io::SeekFrom::Start(0)).map_err(|e| fail(format!("could not read it ({})", io_reason(&e))))?;
            }
            let tx = self.conn.transaction()?;
            let source_id = ensure_source(&tx, source_kind, source_name, source_uri)?;
            tx.execute("INSERT INTO imports(source_id, started_at) VALUES (?1, ?2)", params![source_id, crate::now()])?;
            let import_id = tx.last_insert_rowid();
            if let Some(name) = &ctx.create {
                ctx.person = Some(insert_person(&tx, name)?);
            }
            let mut report = ImportReport { file: shown.to_owned(), ..Default::default() };
            let sent_before: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM provenance WHERE source_id = ?1)", [source_id], |r| r.get(0))?;
            let mut pass = Pass {
                tx: &tx,
                others: None,
                source_id,
                import_id,
                ctx: &mut ctx,
                report: &mut report,
                now: crate::now(),
                seen: (!sent_before).then(RefFilter::new),
            };
            let mut last_progress = 0u64;
            let counter = source.counter();
            let mut on_item = |prepared: &Prepared| {
                pass.item(prepared)?;
                let n = pass.report.resources;
                if n - last_progress >= 500 {
                    last_progress = n;
                    let bytes_read = counter.as_ref().map_or(n, |c| c.load(Ordering::Relaxed));
                    progress(&ImportProgress { bytes_read, total_bytes, resources: n });
                }
                Ok(())
            };
            let result = match &mut source {
                Source::Prepared(page) => store_prepared(page.take().unwrap_or(PreparedPage(Ok(Vec::new()))), &mut on_item),
                _ => read_prepared(source.reader(), &mut on_item),
            };
            match result {
                Ok(summary) => {
                    report.skipped = summary.skipped;
                    let person = match ctx.person {
                        Some(p) => p,
                        None => return Err(fail("it holds no resources".into())),
                    };
                    report.person_id = person;
                    tx.execute(
                        "UPDATE imports SET person_id=?1, finished_at=?2, resources=?3, new=?4, updated=?5, unchanged=?6 WHERE id=?7",
                        params![person, crate::now(), report.resources as i64, report.new as i64, report.updated as i64, (report.unchanged + report.merged) as i64, import_id],
                    )?;
                    before_commit(&tx, source_id)?;
                    tx.commit()?;
                    progress(&ImportProgress { bytes_read: total_bytes, total_bytes, resources: report.resources });
                    return Ok(report);
                }
                Err(Failure::Handler(Stop::NeedPrescan)) if !prescanned => {
                    drop(tx);
                    prescanned = true;
                    let Source::Stream { input, hint, .. } = &mut source else {
                        unreachable!("a prepared page comes with its person: no prescan");
                    };
                    input.seek(std::io::SeekFrom::Start(0)).map_err(|e| fail(format!("could not read it ({})", io_reason(&e))))?;
                    ctx = match self.prescan(input, *hint, shown)? {
                        Ok(person) => PatientCtx { person: Some(person), ..Default::default() },
                        Err(name) => PatientCtx { create: Some(name), ..Default::default() },
                    };
                    continue;
                }
                Err(Failure::Handler(Stop::NeedPrescan)) => unreachable!("the person is known after a prescan"),
                Err(Failure::Handler(Stop::Fail(reason))) => return Err(fail(reason)),
                Err(Failure::Handler(Stop::Db(e))) => return Err(e),
                Err(Failure::Read(ReadError::Io(e))) => return Err(fail(format!("could not read it ({})", io_reason(&e)))),
                Err(Failure::Read(e)) => return Err(fail(e.to_string())),
            }
        }
    }

    /// First pass for files that do not start with their Patient: finds whose record it is.
    /// `Ok(Ok(person))`, or `Ok(Err(name))`: a new person to create from the file's Patient.
    fn prescan<R: Read + Seek>(&mut self, input: &mut R, hint: FormatHint, shown: &str) -> Result<std::result::Result<i64, String>> {
        let fail = |reason: String| Error::Import { file: shown.to_owned(), reason };
        let mut patients: Vec<SeenPatient> = Vec::new();
        let mut first_name = None;
        let mut refs: BTreeSet<String> = BTreeSet::new();
        let r = reader::read(input, hint, |item| {
            if item.resource_type == "Patient" {
                let ids: BTreeSet<_> = index::extract(&item.resource).identifiers.into_iter().collect();
                let sref = source_ref(&item);
                if !patients.iter().any(|(r, i, _)| *r == sref || !i.is_disjoint(&ids)) {
                    if patients.is_empty() {
                        first_name = Some(patient_name(&item.resource));
                    }
                    patients.push((sref, ids, item.position));
                }
                if patients.len() > 1 {
                    return Err(());
                }
            } else if refs.len() < 64 {
                for r in index::extract(&item.resource).patient_refs {
                    refs.insert(r);
                }
            }
            Ok(())
        });
        match r {
            Ok(_) => {}
            Err(Failure::Handler(())) => {
                let at = patients[1].2;
                return Err(fail(format!("{at}: a second, different patient; a file must hold one person's record, or name the person with --person")));
            }
            Err(Failure::Read(ReadError::Io(e))) => return Err(fail(format!("could not read it ({})", io_reason(&e)))),
            Err(Failure::Read(e)) => return Err(fail(e.to_string())),
        }
        if let Some((sref, ids, _)) = patients.first() {
            return Ok(match self.match_person(ids, Some(sref))? {
                Some(p) => Ok(p),
                None => Err(first_name.unwrap_or_else(|| "Unnamed person".into())),
            });
        }
        // No Patient in the file: the references may name a patient already in the vault.
        let mut persons = BTreeSet::new();
        for r in &refs {
            let id = r.rsplit('/').next().unwrap_or(r);
            let found: Option<i64> = self
                .conn
                .query_row(
                    "SELECT r.person_id FROM provenance p JOIN records r ON r.id = p.record_id
                     WHERE p.source_id IN (SELECT id FROM sources) AND p.ref_key IN (?1, ?2) AND p.rtype = 'Patient' AND p.source_ref IN (?3, ?4) LIMIT 1",
                    params![key64(&["Patient", r]), key64(&["Patient", &format!("Patient/{id}")]), r, format!("Patient/{id}")],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(p) = found {
                persons.insert(p);
            }
        }
        match persons.len() {
            1 => return Ok(Ok(*persons.first().expect("one"))),
            0 => {}
            _ => return Err(fail("its resources refer to patients of two different persons; pass --person".into())),
        }
        let all = self.persons()?;
        match all.len() {
            1 => Ok(Ok(all[0].id)),
            0 => Err(fail("it names no patient and the vault has no person yet; add one with `techo person add` or import the Patient first".into())),
            _ => Err(fail("it names no patient and the vault holds several persons; say whose record it is with --person".into())),
        }
    }

    /// The person whose identifiers (or earlier Patient record) match.
    fn match_person(&self, ids: &BTreeSet<(String, String)>, sref: Option<&str>) -> Result<Option<i64>> {
        match_person(&self.conn, ids, sref)
    }
}

fn match_person(conn: &rusqlite::Connection, ids: &BTreeSet<(String, String)>, sref: Option<&str>) -> Result<Option<i64>> {
    let mut found = BTreeSet::new();
    let mut stmt = conn.prepare_cached("SELECT person_id FROM person_identifiers WHERE system = ?1 AND value = ?2")?;
    for (s, v) in ids {
        if let Some(p) = stmt.query_row(params![s, v], |r| r.get::<_, i64>(0)).optional()? {
            found.insert(p);
        }
    }
    if found.len() > 1 {
        return Err(Error::InvalidInput("this patient's identifiers belong to two different persons in the vault; pass --person".into()));
    }
    if let Some(p) = found.first() {
        return Ok(Some(*p));
    }
    if let Some(sref) = sref {
        let p: Option<i64> = conn
            .query_row(
                "SELECT r.person_id FROM provenance p JOIN records r ON r.id = p.record_id
                 WHERE p.source_id IN (SELECT id FROM sources) AND p.ref_key = ?1 AND p.rtype = 'Patient' AND p.source_ref = ?2 LIMIT 1",
                params![key64(&["Patient", sref]), sref],
                |r| r.get(0),
            )
            .optional()?;
        return Ok(p);
    }
    Ok(None)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn ensure_source(tx: &Transaction<'_>, kind: &str, name: &str, uri: &str) -> Result<i64> {
    if let Some(id) = tx
        .query_row("SELECT id FROM sources WHERE kind = ?1 AND uri = ?2", params![kind, uri], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    tx.execute(
        "INSERT INTO sources(kind, name, uri, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![kind, name, uri, crate::now()],
    )?;
    Ok(tx.last_insert_rowid())
}

/// A new person; the vault's first person is "self".
fn insert_person(tx: &rusqlite::Connection, name: &str) -> Result<i64> {
    let first: i64 = tx.query_row("SELECT count(*) FROM persons", [], |r| r.get(0))?;
    tx.execute(
        "INSERT INTO persons(display_name, relationship, created_at) VALUES (?1, ?2, ?3)",
        params![name, if first == 0 { Some("self") } else { None }, crate::now()],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The display name of a Patient resource, for a new person.
pub fn patient_name(r: &Value) -> String {
    let n = r.get("name").and_then(|n| n.as_array()).and_then(|a| {
        // Prefer the kanji (IDE) or official name; JP Core marks the kana name SYL.
        a.iter()
            .find(|n| {
                n.get("extension").and_then(Value::as_array).is_some_and(|e| {
                    e.iter().any(|x| x.get("valueCode").and_then(Value::as_str) == Some("IDE"))
                })
            })
            .or_else(|| a.iter().find(|n| n.get("use").and_then(Value::as_str) == Some("official")))
            .or_else(|| a.first())
    });
    let Some(n) = n else { return "Unnamed person".into() };
    if let Some(t) = n.get("text").and_then(Value::as_str) {
        if !t.trim().is_empty() {
            return t.trim().chars().take(200).collect();
        }
    }
    let family = n.get("family").and_then(Value::as_str).unwrap_or("");
    let given: Vec<&str> = n.get("given").and_then(Value::as_array).map(|g| g.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let s = format!("{} {}", family, given.join(" ")).trim().to_owned();
    if s.is_empty() {
        "Unnamed person".into()
    } else {
        s.chars().take(200).collect()
    }
}

/// A resource read and worked out away from the database: everything the store needs that
/// does not depend on what is already stored.
struct Prepared {
    /// The resource as read; its JSON (`item.resource`) is kept for Patients only.
    item: Item,
    ix: index::IndexEntry,
    /// The look-up keys of `ix.codes` and `ix.identifiers`, in their order.
    code_keys: Vec<i64>,
    id_keys: Vec<i64>,
    /// The full-text tokens of `ix.text`.
    tokens: String,
    /// The resource's text (compact JSON, key order and decimal text as read), and as stored.
    text: String,
    packed: Vec<u8>,
    hash: [u8; 32],
    sref: String,
    ref_key: i64,
    version_id: Option<String>,
    last_updated: Option<String>,
}

fn prepare(mut item: Item) -> Prepared {
    let ix = index::extract(&item.resource);
    let tokens = index::fts_token_set(&ix.text);
    let text = serde_json::to_string(&item.resource).expect("a JSON value serializes");
    let packed = crate::pack(&text);
    let hash = index::content_hash(&item.resource);
    let sref = source_ref(&item);
    let ref_key = key64(&[&item.resource_type, &sref]);
    let code_keys = ix.codes.iter().map(|(_, c)| key64(&[c])).collect();
    let id_keys = ix.identifiers.iter().map(|(s, v)| key64(&[&item.resource_type, s, v])).collect();
    let version_id = meta_str(&item.resource, "versionId");
    let last_updated = meta_str(&item.resource, "lastUpdated");
    // Only a Patient's JSON is needed further on (for the person's name). The others are
    // freed here, on the thread that allocated them, which is far cheaper for the allocator.
    if item.resource_type != "Patient" {
        item.resource = Value::Null;
    }
    Prepared { item, ix, code_keys, id_keys, tokens, text, packed, hash, sref, ref_key, version_id, last_updated }
}

/// A page of resources that arrived already parsed (a sync page), checked as NDJSON lines are
/// (`Position::Line`, from 1) and prepared for storing — parsing, indexing, hashing and
/// compressing — on the thread that calls [`PreparedPage::new`], away from the vault. The sync
/// does this on its fetching thread, so a page's commit does only the database work, and each
/// resource's JSON is freed by the thread that parsed it. IO-free.
pub struct PreparedPage(std::result::Result<Vec<Prepared>, ReadError>);

impl PreparedPage {
    /// Prepares `values`; the first one that is not a FHIR resource makes the whole page an
    /// error (reported, as for an NDJSON file, when the page is committed: nothing is stored).
    pub fn new(values: Vec<Value>) -> PreparedPage {
        let mut out = Vec::with_capacity(values.len());
        for (i, value) in values.into_iter().enumerate() {
            match reader::item_from_value(value, Position::Line(i as u64 + 1)) {
                Ok(item) => out.push(prepare(item)),
                Err(e) => return PreparedPage(Err(e)),
            }
        }
        PreparedPage(Ok(out))
    }

    /// Resources on the page (0 for a page that is an error).
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// No resources, and not an error: only the cursor is stored.
    pub(crate) fn is_empty_and_valid(&self) -> bool {
        matches!(&self.0, Ok(v) if v.is_empty())
    }
}

/// Stores the resources of a [`PreparedPage`] on this thread, as [`read_prepared`] stores those
/// it reads.
fn store_prepared<F>(page: PreparedPage, mut handle: F) -> std::result::Result<reader::Summary, Failure<Stop>>
where
    F: FnMut(&Prepared) -> std::result::Result<(), Stop>,
{
    let items = page.0.map_err(Failure::Read)?;
    for p in &items {
        handle(p).map_err(Failure::Handler)?;
    }
    Ok(reader::Summary { kind: reader::InputKind::Ndjson, resources: items.len() as u64, skipped: 0 })
}

/// Reads and prepares resources on a second thread while `handle` stores them on this one:
/// parsing, indexing and hashing take about as long as the database work, and run beside it.
/// When `handle` fails, the reader stops at its next batch.
///
/// Resources travel in batches of [`BATCH`] (one channel hand-off, and at most one wake-up of
/// the other thread, per batch instead of per resource), and the stored batches go back to the
/// reader, which frees them: memory is freed on the thread that allocated it, which is far
/// cheaper for the allocator than freeing it on the writer. At most [`BATCHES`] batches wait,
/// so memory stays bounded whatever the file's size.
fn read_prepared<P, F>(produce: P, mut handle: F) -> std::result::Result<reader::Summary, Failure<Stop>>
where
    P: FnOnce(&mut dyn FnMut(Item) -> std::result::Result<(), ()>) -> std::result::Result<reader::Summary, Failure<()>> + Send,
    F: FnMut(&Prepared) -> std::result::Result<(), Stop>,
{
    const BATCH: usize = 32;
    const BATCHES: usize = 8;
    std::thread::scope(|s| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Prepared>>(BATCHES);
        let (give_back, returned) = std::sync::mpsc::sync_channel::<Vec<Prepared>>(BATCHES);
        let reader = s.spawn(move || {
            let mut batch: Vec<Prepared> = Vec::with_capacity(BATCH);
            let read = produce(&mut |item| {
                batch.push(prepare(item));
                if batch.len() == BATCH {
                    // a stored batch, if one came back, is dropped here and its Vec reused
                    let next = match returned.try_recv() {
                        Ok(mut old) => {
                            old.clear();
                            old
                        }
                        Err(_) => Vec::with_capacity(BATCH),
                    };
                    send.send(std::mem::replace(&mut batch, next)).map_err(|_| ())?;
                }
                Ok(())
            });
            // what was read before the end (or before a read error) is stored first, as
            // when resources travelled one by one
            if !batch.is_empty() {
                let _ = send.send(batch);
            }
            read
        });
        let mut stopped = None;
        'batches: for batch in receive.iter() {
            for prepared in &batch {
                if let Err(e) = handle(prepared) {
                    stopped = Some(e);
                    break 'batches;
                }
            }
            // full: the reader has not taken back the last ones yet; this one is freed here
            let _ = give_back.try_send(batch);
        }
        drop(receive);
        let read = reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        if let Some(e) = stopped {
            return Err(Failure::Handler(e));
        }
        read.map_err(|e| match e {
            Failure::Read(e) => Failure::Read(e),
            Failure::Handler(()) => unreachable!("the receiver lives until the reader ends"),
        })
    })
}

/// Where an import's resources come from.
enum Source<R> {
    /// A file or page, read (and re-read for a prescan) from the start.
    Stream { input: Counted<R>, hint: FormatHint, counter: Arc<AtomicU64> },
    /// Resources already parsed and prepared ([`PreparedPage`]); taken by the one pass.
    Prepared(Option<PreparedPage>),
}

impl<R: Read + Seek + Send> Source<R> {
    fn counter(&self) -> Option<Arc<AtomicU64>> {
        match self {
            Source::Stream { counter, .. } => Some(counter.clone()),
            Source::Prepared(_) => None,
        }
    }

    /// The reader of one pass, for [`read_prepared`]'s thread.
    #[allow(clippy::type_complexity)]
    fn reader(
        &mut self,
    ) -> impl FnOnce(&mut dyn FnMut(Item) -> std::result::Result<(), ()>) -> std::result::Result<reader::Summary, Failure<()>> + Send + '_ {
        let (input, hint) = match self {
            Source::Stream { input, hint, .. } => (input, *hint),
            Source::Prepared(_) => unreachable!("a prepared page is stored without a reader"),
        };
        move |handle: &mut dyn FnMut(Item) -> std::result::Result<(), ()>| reader::read(input, hint, handle)
    }
}

struct Pass<'a, 't> {
    tx: &'a Transaction<'t>,
    /// Whether the person has records whose current version came from another source: when
    /// not, no cross-source match is possible and the look-ups are skipped.
    others: Option<bool>,
    source_id: i64,
    import_id: i64,
    ctx: &'a mut PatientCtx,
    report: &'a mut ImportReport,
    now: String,
    /// For a source that had sent nothing before this import: the refs this file has brought
    /// so far. A ref not in it has no provenance row yet, so its look-up is skipped.
    seen: Option<RefFilter>,
}

/// A set of 64-bit ref keys that may answer "maybe" for keys not in it (never "no" for a key
/// in it): one bit per key's low 24 bits, 2 MiB whatever the file's size.
struct RefFilter(Vec<u64>);

impl RefFilter {
    const BITS: usize = 1 << 24;

    fn new() -> Self {
        RefFilter(vec![0; Self::BITS / 64])
    }

    /// Adds `key`; whether it may have been added before.
    fn insert(&mut self, key: i64) -> bool {
        let bit = (key as u64 as usize) & (Self::BITS - 1);
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        let maybe = self.0[word] & mask != 0;
        self.0[word] |= mask;
        maybe
    }
}

impl Pass<'_, '_> {
    fn item(&mut self, p: &Prepared) -> std::result::Result<(), Stop> {
        // A file's reader refuses a bigger resource before it is parsed; resources that came
        // parsed (a sync page) are held to the same limit here.
        if p.text.len() as u64 > reader::MAX_RESOURCE_BYTES {
            let at = p.item.position;
            return Err(Stop::Fail(ReadError::TooLarge { at, limit: reader::MAX_RESOURCE_BYTES >> 20 }.to_string()));
        }
        if p.item.resource_type == "Patient" {
            self.patient(&p.item, &p.ix)?;
        } else if self.ctx.person.is_none() {
            return Err(Stop::NeedPrescan);
        }
        let person = self.ctx.person.expect("person resolved");
        self.report.resources += 1;
        self.upsert(person, p)
    }

    /// Resolves (first Patient) or checks (later ones) whose record this file is.
    fn patient(&mut self, item: &Item, ix: &index::IndexEntry) -> std::result::Result<(), Stop> {
        let ids: BTreeSet<(String, String)> = ix.identifiers.iter().cloned().collect();
        let sref = source_ref(item);
        let at = item.position;
        match self.ctx.person {
            None => {
                let person = match match_person(self.tx, &ids, Some(&sref)).map_err(Stop::Db)? {
                    Some(p) => p,
                    None => insert_person(self.tx, &patient_name(&item.resource)).map_err(Stop::Db)?,
                };
                self.ctx.person = Some(person);
            }
            // The prescan already found this file's one patient.
            Some(_) if !self.ctx.fixed && !self.ctx.seen_patient => {}
            Some(person) if !self.ctx.fixed => {
                let same = self.ctx.refs.contains(&sref)
                    || !self.ctx.identifiers.is_disjoint(&ids)
                    || match_person(self.tx, &ids, None).map_err(Stop::Db)? == Some(person);
                if !same {
                    return Err(Stop::Fail(format!(
                        "{at}: a second, different patient; a file must hold one person's record, or name the person with --person"
                    )));
                }
            }
            Some(_) => {}
        }
        let person = self.ctx.person.expect("set");
        self.ctx.seen_patient = true;
        self.ctx.refs.insert(sref);
        for (s, v) in &ids {
            self.ctx.identifiers.insert((s.clone(), v.clone()));
            self.tx.execute(
                "INSERT OR IGNORE INTO person_identifiers(system, value, person_id) VALUES (?1, ?2, ?3)",
                params![s, v, person],
            )?;
        }
        Ok(())
    }

    fn upsert(&mut self, person: i64, p: &Prepared) -> std::result::Result<(), Stop> {
        let tx = self.tx;
        let Prepared { item, ix, text, hash, sref, ref_key, version_id, last_updated, .. } = p;
        let (text, hash, sref, ref_key) = (text.as_str(), *hash, sref.as_str(), *ref_key);
        let rtype = item.resource_type.as_str();
        let ckey = content_key(&hash);
        let maybe_stored = self.seen.as_mut().is_none_or(|seen| seen.insert(ref_key));
        let prov: Option<ProvRow> = if !maybe_stored {
            None
        } else {
            tx.prepare_cached(
                "SELECT id, record_id, import_id, last_updated, version_id FROM provenance
                 WHERE source_id = ?1 AND ref_key = ?2 AND rtype = ?3 AND source_ref = ?4",
            )?
            .query_row(params![self.source_id, ref_key, rtype, sref], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()?
        };
        if let Some((prov_id, rid, import_id, prev_lu, prev_vid)) = prov {
            let current: Vec<u8> = tx.prepare_cached("SELECT resource FROM records WHERE id = ?1")?.query_row([rid], |r| r.get(0))?;
            let current = crate::unpack(&current).map_err(Stop::Db)?;
            if import_id == self.import_id {
                if current == text {
                    self.report.unchanged += 1;
                    return Ok(());
                }
                // Two versions of one resource in one file (distinct meta.versionId) are
                // stored in order; two different contents under one id are ambiguous.
                if version_id.is_none() || *version_id == prev_vid {
                    return Err(Stop::Fail(format!(
                        "{}: {sref} appears twice in this file with different content",
                        item.position
                    )));
                }
            }
            tx.prepare_cached("UPDATE provenance SET import_id = ?1 WHERE id = ?2")?.execute(params![self.import_id, prov_id])?;
            let older = matches!((&last_updated, &prev_lu), (Some(new), Some(old)) if is_older(new, old));
            if current == text || older {
                self.report.unchanged += 1;
                return Ok(());
            }
            self.replace(rid, p)?;
            tx.prepare_cached("UPDATE provenance SET version_id = ?1, last_updated = ?2, received_at = ?3 WHERE id = ?4")?
                .execute(params![version_id, last_updated, self.now, prov_id])?;
            self.report.updated += 1;
            return Ok(());
        }

        // Another source may have sent the same record: by business identifier, or by content.
        // Within one source, its own ids tell resources apart (two dispenses may share a
        // prescription number), so only records this source has not sent are candidates.
        let others = match self.others {
            Some(o) => o,
            None => {
                // Asked of `imports` (every record is written by an import of its person and
                // source), not of `records`: there it scanned all of the person's records, once
                // per sync page, which made a big first sync quadratic. An import whose
                // resources all merged into other records still counts: a superset is safe, it
                // only enables the look-ups below.
                let o = tx
                    .prepare_cached("SELECT EXISTS(SELECT 1 FROM imports WHERE person_id = ?1 AND source_id != ?2)")?
                    .query_row(params![person, self.source_id], |r| r.get::<_, bool>(0))?;
                self.others = Some(o);
                o
            }
        };
        let mut same: Option<(i64, bool)> = None;
        if others {
            let mut stmt = tx.prepare_cached(
                "SELECT i.record_id FROM record_identifiers i
                 WHERE i.person_id = ?1 AND i.id_key = ?2 AND i.rtype = ?3 AND i.system = ?4 AND i.value = ?5
                 AND NOT EXISTS (SELECT 1 FROM provenance p WHERE p.record_id = i.record_id AND p.source_id = ?6) LIMIT 1",
            )?;
            for ((s, v), k) in ix.identifiers.iter().zip(&p.id_keys) {
                if let Some(rid) = stmt.query_row(params![person, k, rtype, s, v, self.source_id], |r| r.get::<_, i64>(0)).optional()? {
                    same = Some((rid, true));
                    break;
                }
            }
        }
        if others && same.is_none() {
            same = tx
                .prepare_cached(
                    "SELECT r.id FROM records r WHERE r.person_id = ?1 AND r.content_key = ?2 AND r.rtype = ?3 AND r.content_hash = ?4
                     AND NOT EXISTS (SELECT 1 FROM provenance p WHERE p.record_id = r.id AND p.source_id = ?5) LIMIT 1",
                )?
                .query_row(params![person, ckey, rtype, &hash[..], self.source_id], |r| r.get::<_, i64>(0))
                .optional()?
                .map(|rid| (rid, false));
        }
        if let Some((rid, by_identifier)) = same {
            self.insert_provenance(rid, p)?;
            if by_identifier {
                let (cur_hash, cur_lu): (Vec<u8>, Option<String>) = tx
                    .prepare_cached("SELECT content_hash, last_updated FROM records WHERE id = ?1")?
                    .query_row([rid], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let newer = match (&last_updated, &cur_lu) {
                    (Some(new), Some(old)) => is_older(old, new),
                    (Some(_), None) => true,
                    _ => false,
                };
                if cur_hash != hash && newer {
                    self.replace(rid, p)?;
                    self.report.updated += 1;
                    return Ok(());
                }
            }
            self.report.merged += 1;
            return Ok(());
        }

        tx.prepare_cached(
            "INSERT INTO records(person_id, rtype, resource_id, source_id, version, resource, content_hash, content_key, clinical_date, status, display, last_updated, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        )?
        .execute(params![
            person, rtype, item.id, self.source_id, p.packed, &hash[..], ckey, ix.clinical_date, ix.status, ix.display, last_updated, self.now
        ])?;
        let rid = tx.last_insert_rowid();
        self.index(rid, person, p)?;
        self.insert_provenance(rid, p)?;
        self.report.new += 1;
        Ok(())
    }

    fn insert_provenance(&self, rid: i64, p: &Prepared) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO provenance(source_id, rtype, source_ref, ref_key, record_id, version_id, last_updated, received_at, import_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![self.source_id, p.item.resource_type, p.sref, p.ref_key, rid, p.version_id, p.last_updated, self.now, self.import_id])?;
        Ok(())
    }

    fn index(&self, rid: i64, person: i64, p: &Prepared) -> rusqlite::Result<()> {
        let Prepared { ix, code_keys, id_keys, tokens, .. } = p;
        let rtype = p.item.resource_type.as_str();
        let tx = self.tx;
        let mut codes = tx.prepare_cached("INSERT OR IGNORE INTO record_codes(code_key, record_id, system, code) VALUES (?1, ?2, ?3, ?4)")?;
        for ((s, c), k) in ix.codes.iter().zip(code_keys) {
            codes.execute(params![k, rid, s, c])?;
        }
        let mut ids = tx.prepare_cached(
            "INSERT OR IGNORE INTO record_identifiers(person_id, rtype, system, value, id_key, record_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for ((s, v), k) in ix.identifiers.iter().zip(id_keys) {
            ids.execute(params![person, rtype, s, v, k, rid])?;
        }
        if !tokens.is_empty() {
            tx.prepare_cached("INSERT INTO record_fts(rowid, tokens) VALUES (?1, ?2)")?.execute(params![rid, tokens])?;
        }
        Ok(())
    }

    /// Keeps the current version in `record_versions` and stores the new one.
    fn replace(&self, rid: i64, p: &Prepared) -> std::result::Result<(), Stop> {
        let tx = self.tx;
        let Prepared { item, ix, packed, hash, last_updated, .. } = p;
        tx.prepare_cached(
            "INSERT INTO record_versions(record_id, version, resource, source_id, superseded_at) SELECT id, version, resource, source_id, ?2 FROM records WHERE id = ?1",
        )?
        .execute(params![rid, self.now])?;
        let (person, rtype, old_packed): (i64, String, Vec<u8>) = tx
            .prepare_cached("SELECT person_id, rtype, resource FROM records WHERE id = ?1")?
            .query_row([rid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        tx.prepare_cached(
            "UPDATE records SET version = version + 1, resource = ?2, content_hash = ?3, content_key = ?11, clinical_date = ?4, status = ?5,
             display = ?6, last_updated = ?7, updated_at = ?8, source_id = ?9, resource_id = COALESCE(?10, resource_id) WHERE id = ?1",
        )?
        .execute(params![rid, packed, &hash[..], ix.clinical_date, ix.status, ix.display, last_updated, self.now, self.source_id, item.id, content_key(hash)])?;
        // The old version's index rows, found from its own JSON (there is no index by record).
        let old_text = crate::unpack(&old_packed).map_err(Stop::Db)?;
        let old = serde_json::from_str::<Value>(&old_text).map(|v| index::extract(&v)).unwrap_or_default();
        let mut codes = tx.prepare_cached("DELETE FROM record_codes WHERE code_key = ?1 AND record_id = ?2 AND system = ?3")?;
        for (s, c) in &old.codes {
            codes.execute(params![key64(&[c]), rid, s])?;
        }
        let mut ids = tx.prepare_cached("DELETE FROM record_identifiers WHERE person_id = ?1 AND id_key = ?2 AND record_id = ?3")?;
        for (s, v) in &old.identifiers {
            ids.execute(params![person, key64(&[&rtype, s, v]), rid])?;
        }
        tx.prepare_cached("DELETE FROM record_fts WHERE rowid = ?1")?.execute([rid])?;
        Ok(self.index(rid, person, p)?)
    }
}

/// Whether FHIR instant `a` is before `b` (unparseable values are never "older").
fn is_older(a: &str, b: &str) -> bool {
    match (index::normalize_date(a), index::normalize_date(b)) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

