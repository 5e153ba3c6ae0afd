//! The sync of endpoints into the vault.
//!
//! Per endpoint and resource type: `GET [type]?patient=ID&_lastUpdated=gt{since}&_count=N`,
//! following the Bundle's `next` links **only on the base URL's origin**. Each page is
//! committed with its cursor in one transaction ([`Vault::commit_sync_page`]), so a sync killed
//! at any point resumes at the page after the last one stored; pages fetched again are
//! recognised by the import (same resource, same content: unchanged), never duplicated.
//!
//! - `since` is the highest `meta.lastUpdated` of the last complete pass, so the next sync of an
//!   unchanged server receives no resources.
//! - A resource that names another patient than the endpoint's is refused and reported; the
//!   rest of its page is stored.
//! - 401 → one refresh and the request again; a refused refresh marks the endpoint "needs
//!   sign-in" (what was pulled stays). Retries of transient failures: [`crate::http`].
//! - One thread per endpoint; a failing endpoint never stops the others; requests per host are
//!   bounded ([`crate::http::HttpOptions::per_host`]).
//! - Pages are pipelined: page k+1 is fetched, checked and prepared for storing (parsed,
//!   indexed, hashed) while page k is committed (one commit at a time, in page order), so the
//!   server's time, the preparation and the database work overlap.

use crate::error::{Result, SyncError};
use crate::http::{Fetched, Http, HttpOptions};
use crate::smart::{self, RefreshError};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use techo_core::{Endpoint, EndpointAuth, EndpointStatus, EndpointTokens, SyncCursor, Vault};

/// The `_count` a sync asks for unless told otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// `_count` asked of the server (servers clamp it to their own maximum). Each page is one
    /// transaction, so larger pages mean fewer commits: 50k resources from the demo hospital took
    /// 6.2 s of CPU at 200, 4.8 s at 500, 4.6 s at 1000; 500 keeps a page of large resources
    /// well under the 64 MiB body limit.
    pub page_size: u32,
    pub http: HttpOptions,
    /// Only these resource types (default: every type the server can search by patient).
    pub types: Option<Vec<String>>,
    /// Use `Patient/{id}/$everything?_since=` when the server offers it and no types were
    /// asked for: one paged pass over the whole record instead of one search per type.
    pub everything: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions { page_size: DEFAULT_PAGE_SIZE, http: HttpOptions::default(), types: None, everything: true }
    }
}

/// Progress of one endpoint, after each page.
#[derive(Clone, Debug)]
pub struct Progress {
    pub endpoint_id: i64,
    pub endpoint: String,
    pub rtype: String,
    pub pages: u64,
    pub received: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TypeReport {
    pub pages: u64,
    /// Resources the server sent.
    pub received: u64,
    pub new: u64,
    pub updated: u64,
    /// Already stored as they are (or an older version than stored).
    pub unchanged: u64,
    /// Linked to the same resource another source had sent.
    pub merged: u64,
    /// Refused: another patient's, or without an id.
    pub refused: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Ok,
    /// Some resource types failed; the others were synced.
    Partial,
    Failed,
    NeedsSignIn,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Ok => "ok",
            RunOutcome::Partial => "partial",
            RunOutcome::Failed => "failed",
            RunOutcome::NeedsSignIn => "needs_sign_in",
        }
    }
}

/// The report of one endpoint's sync: counts and messages only (no health data, no tokens).
#[derive(Clone, Debug, Serialize)]
pub struct EndpointReport {
    pub endpoint_id: i64,
    pub endpoint: String,
    pub outcome: RunOutcome,
    pub started_at: String,
    pub duration_ms: u64,
    pub types: BTreeMap<String, TypeReport>,
    /// One sentence per failure.
    pub errors: Vec<String>,
    /// `Type/id` of refused resources, with why.
    pub refused: Vec<String>,
    /// Stable codes of the failures (for the app and scripts).
    pub error_codes: Vec<String>,
}

impl EndpointReport {
    pub fn totals(&self) -> TypeReport {
        let mut t = TypeReport::default();
        for r in self.types.values() {
            t.pages += r.pages;
            t.received += r.received;
            t.new += r.new;
            t.updated += r.updated;
            t.unchanged += r.unchanged;
            t.merged += r.merged;
            t.refused += r.refused;
        }
        t
    }
}

/// Syncs the endpoints (all of them when `ids` is empty), concurrently, and returns one report each.
pub fn sync<V: VaultAccess>(vault: &V, ids: &[i64], opts: &SyncOptions, progress: &(dyn Fn(&Progress) + Sync)) -> Result<Vec<EndpointReport>> {
    let endpoints: Vec<Endpoint> = {
        let all = vault.with(|v| v.endpoints())??;
        if ids.is_empty() {
            all
        } else {
            ids.iter().map(|id| all.iter().find(|e| e.id == *id).cloned().ok_or_else(|| techo_core::Error::NotFound(format!("endpoint {id}")))).collect::<std::result::Result<_, _>>()?
        }
    };
    let http = Http::new(opts.http.clone())?;
    let reports = std::thread::scope(|s| {
        let handles: Vec<_> = endpoints.into_iter().map(|ep| {
            let http = &http;
            s.spawn(move || sync_one(vault, http, ep, opts, progress))
        }).collect();
        handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
    });
    let mut out = Vec::new();
    for r in reports {
        match r {
            Ok(r) => out.push(r),
            Err(p) => std::panic::resume_unwind(p),
        }
    }
    Ok(out)
}

/// How the sync reaches the vault: through [`VaultAccess::with`], for one short step at a time
/// (a page's commit, a token's save), so the vault stays usable by others while a sync runs.
pub trait VaultAccess: Sync {
    /// Runs `f` on the vault, or fails with `techo_core::Error::Locked` when the vault has been
    /// locked meanwhile (the app's auto-lock): the sync then stops, keeping every committed page.
    fn with<R>(&self, f: impl FnOnce(&mut Vault) -> R) -> std::result::Result<R, techo_core::Error>;
}

/// The CLI's vault: open for the whole run.
impl VaultAccess for Mutex<Vault> {
    fn with<R>(&self, f: impl FnOnce(&mut Vault) -> R) -> std::result::Result<R, techo_core::Error> {
        Ok(f(&mut self.lock().unwrap_or_else(|e| e.into_inner())))
    }
}

/// The app's vault: `None` while locked.
impl VaultAccess for Mutex<Option<Vault>> {
    fn with<R>(&self, f: impl FnOnce(&mut Vault) -> R) -> std::result::Result<R, techo_core::Error> {
        let mut guard = self.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_mut().map(f).ok_or(techo_core::Error::Locked)
    }
}

/// Syncs one endpoint and records the run in the vault.
pub fn sync_one<V: VaultAccess>(vault: &V, http: &Http, ep: Endpoint, opts: &SyncOptions, progress: &(dyn Fn(&Progress) + Sync)) -> EndpointReport {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut report = EndpointReport {
        endpoint_id: ep.id,
        endpoint: ep.name.clone(),
        outcome: RunOutcome::Ok,
        started_at: started_at.clone(),
        duration_ms: 0,
        types: BTreeMap::new(),
        errors: Vec::new(),
        refused: Vec::new(),
        error_codes: Vec::new(),
    };
    let mut session = Session { vault, http, ep: ep.clone(), tokens: None };
    let result = session.run(opts, &mut report, progress);
    if let Err(e) = result {
        report.outcome = if matches!(e, SyncError::NeedsSignIn { .. }) { RunOutcome::NeedsSignIn } else { RunOutcome::Failed };
        report.error_codes.push(e.code().to_owned());
        report.errors.push(e.to_string());
    } else if !report.errors.is_empty() {
        report.outcome = if report.types.values().any(|t| t.pages > 0) { RunOutcome::Partial } else { RunOutcome::Failed };
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    let json = serde_json::to_string(&report).unwrap_or_else(|_| "{}".into());
    let status = match report.outcome {
        RunOutcome::Ok => (EndpointStatus::Ready, None),
        RunOutcome::NeedsSignIn => (EndpointStatus::NeedsSignIn, report.errors.last().cloned()),
        RunOutcome::Partial | RunOutcome::Failed => (EndpointStatus::Error, report.errors.first().cloned()),
    };
    let saved = vault.with(|v| v.set_endpoint_status(ep.id, status.0, status.1.as_deref()).and_then(|_| v.record_sync_run(ep.id, &started_at, report.outcome.as_str(), &json).map(|_| ())));
    if let Err(e) = saved.and_then(|r| r) {
        report.errors.push(format!("the sync report could not be saved: {e}"));
        report.error_codes.push(e.general_code().to_owned());
    }
    report
}

struct Session<'a, V> {
    vault: &'a V,
    http: &'a Http,
    ep: Endpoint,
    tokens: Option<EndpointTokens>,
}

impl<V: VaultAccess> Session<'_, V> {
    fn run(&mut self, opts: &SyncOptions, report: &mut EndpointReport, progress: &(dyn Fn(&Progress) + Sync)) -> Result<()> {
        if matches!(self.ep.auth, EndpointAuth::Smart { .. }) {
            self.tokens = self.vault.with(|v| v.endpoint_tokens(self.ep.id))??;
            if self.tokens.is_none() {
                return Err(self.needs_sign_in("not signed in yet".into()));
            }
        }
        let patient = self.ep.patient_id.clone().ok_or_else(|| SyncError::NoPatient { endpoint: self.ep.name.clone() })?;
        let types = match &opts.types {
            Some(t) => t.clone(),
            None => {
                let d = smart::discover(self.http, &self.ep.name, &self.ep.base_url)?;
                if opts.everything && d.everything {
                    let mut tr = TypeReport::default();
                    let r = self.sync_type(EVERYTHING, &patient, opts, &mut tr, report, progress);
                    let fell_back = tr.pages == 0 && matches!(&r, Err(SyncError::Status { status: 400 | 404 | 405 | 501, .. }));
                    if !fell_back {
                        report.types.insert(EVERYTHING.to_owned(), tr);
                        return match r {
                            Ok(()) => Ok(()),
                            Err(e @ (SyncError::NeedsSignIn { .. } | SyncError::Vault(_))) => Err(e),
                            Err(e) => {
                                report.error_codes.push(e.code().to_owned());
                                report.errors.push(format!("{EVERYTHING}: {e}"));
                                Ok(())
                            }
                        };
                    }
                    // The server advertises $everything but refuses it: search type by type.
                }
                d.patient_types
            }
        };
        for rtype in types {
            let mut tr = TypeReport::default();
            let r = self.sync_type(&rtype, &patient, opts, &mut tr, report, progress);
            report.types.insert(rtype.clone(), tr);
            match r {
                Ok(()) => {}
                // Without a valid sign-in nothing else can be fetched either.
                Err(e @ SyncError::NeedsSignIn { .. }) => return Err(e),
                Err(e @ SyncError::Vault(_)) => return Err(e),
                Err(e) => {
                    report.error_codes.push(e.code().to_owned());
                    report.errors.push(format!("{rtype}: {e}"));
                }
            }
        }
        Ok(())
    }

    fn needs_sign_in(&self, reason: String) -> SyncError {
        SyncError::NeedsSignIn { endpoint: self.ep.name.clone(), id: self.ep.id, reason }
    }

    /// GETs a page with the endpoint's token: one refresh on 401 (or when the token has
    /// expired), then "needs sign-in".
    fn fetch(&mut self, url: &url::Url) -> Result<Value> {
        if self.tokens.as_ref().is_some_and(|t| t.expires_at.is_some_and(|x| x <= chrono::Utc::now().timestamp() + 5)) {
            self.refresh()?;
        }
        let mut refreshed = false;
        loop {
            let token = self.tokens.as_ref().map(|t| &t.access_token);
            match self.http.get_fhir(&self.ep.name, url, token)? {
                Fetched::Json(v) => return Ok(v),
                Fetched::Unauthorized if self.tokens.is_none() => {
                    return Err(SyncError::Status {
                        endpoint: self.ep.name.clone(),
                        status: 401,
                        detail: String::new(),
                        advice: "the server wants a sign-in — add it again as a SMART endpoint",
                    })
                }
                Fetched::Unauthorized if refreshed => return Err(self.needs_sign_in("the server refused the renewed sign-in".into())),
                Fetched::Unauthorized => {
                    self.refresh()?;
                    refreshed = true;
                }
            }
        }
    }

    fn refresh(&mut self) -> Result<()> {
        let Some(current) = self.tokens.as_ref() else { return Err(self.needs_sign_in("not signed in yet".into())) };
        let key = self.vault.with(|v| v.endpoint_client_key(self.ep.id))??;
        match smart::refresh(self.http, &self.ep, current, key.as_ref()) {
            Ok(signed) => {
                self.vault.with(|v| v.save_endpoint_tokens(self.ep.id, &signed.tokens))??;
                self.tokens = Some(signed.tokens);
                Ok(())
            }
            Err(RefreshError::Refused(reason)) => {
                self.vault.with(|v| v.forget_endpoint_tokens(self.ep.id))??;
                Err(self.needs_sign_in(reason))
            }
            Err(RefreshError::Failed(e)) => Err(e),
        }
    }

    fn sync_type(
        &mut self,
        rtype: &str,
        patient: &str,
        opts: &SyncOptions,
        tr: &mut TypeReport,
        report: &mut EndpointReport,
        progress: &(dyn Fn(&Progress) + Sync),
    ) -> Result<()> {
        let cursor = self.vault.with(|v| v.sync_cursor(self.ep.id, rtype))??;
        let base = url::Url::parse(&self.ep.base_url)
            .map_err(|e| SyncError::Unreachable { endpoint: self.ep.name.clone(), reason: format!("the address is not a valid URL ({e})") })?;
        let mut url = match cursor.next_url.as_deref().and_then(|u| url::Url::parse(u).ok()).filter(|u| same_origin(u, &base)) {
            Some(u) => u,
            None if rtype == EVERYTHING => everything_first_page(&self.ep.name, &self.ep.base_url, patient, cursor.since.as_deref(), opts.page_size)?,
            None => first_page(&self.ep.name, &self.ep.base_url, rtype, patient, cursor.since.as_deref(), opts.page_size)?,
        };
        let mut pass_max = if cursor.next_url.is_some() { cursor.pass_max.clone() } else { None };
        // Pages are pipelined: while page k is committed (on a helper thread), page k+1 is
        // fetched, checked and prepared here, so the server's time and the vault's overlap instead of
        // adding up. Commits stay in page order, each with its own cursor, and page k+1 is
        // committed only after page k's commit has returned: a sync stopped anywhere still
        // resumes after the last stored page. (A token refresh during a fetch waits for the
        // vault like any other step.)
        let vault = self.vault;
        let ep_id = self.ep.id;
        let ep_name = self.ep.name.clone();
        std::thread::scope(|s| {
            let mut in_flight: Option<std::thread::ScopedJoinHandle<'_, Result<Stored>>> = None;
            // Waits for the page being committed and counts it (its error comes first).
            let settle = |in_flight: &mut Option<std::thread::ScopedJoinHandle<'_, Result<Stored>>>, tr: &mut TypeReport, report: &mut EndpointReport| -> Result<()> {
                let Some(h) = in_flight.take() else { return Ok(()) };
                let stored = h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                stored.tally(tr, report);
                progress(&Progress { endpoint_id: ep_id, endpoint: ep_name.clone(), rtype: rtype.to_owned(), pages: tr.pages, received: tr.received });
                Ok(())
            };
            loop {
                // fetched, checked and prepared for storing (parsing, indexing, hashing:
                // techo_core::PreparedPage) while the previous page is committed; the resources'
                // JSON is freed here, by the thread that parsed it
                let fetched = self.fetch(&url).and_then(|bundle| read_page(&self.ep.name, bundle, rtype, patient)).map(|mut page| {
                    let prepared = techo_core::PreparedPage::new(std::mem::take(&mut page.resources));
                    (page, prepared)
                });
                settle(&mut in_flight, tr, report)?;
                let (page, prepared) = fetched?;
                let next = match page.next.as_deref() {
                    None => None,
                    Some(n) => match url::Url::parse(n).or_else(|_| url.join(n)) {
                        Ok(n) if same_origin(&n, &base) => Some(n),
                        Ok(n) => {
                            let origin = n.origin().ascii_serialization();
                            // Keep this page; the next sync starts the pass again from `since`.
                            let c = SyncCursor { since: cursor.since.clone(), next_url: None, pass_max: None };
                            commit_prepared(vault, ep_id, rtype, prepared, page.received, page.refused, c)?.tally(tr, report);
                            return Err(SyncError::ForeignLink { endpoint: self.ep.name.clone(), origin });
                        }
                        Err(_) => return Err(SyncError::Garbage { endpoint: self.ep.name.clone(), what: "a next-page link that is not a URL".into() }),
                    },
                };
                pass_max = later(pass_max, page.max_last_updated.clone());
                let new_cursor = match &next {
                    Some(n) => SyncCursor { since: cursor.since.clone(), next_url: Some(n.to_string()), pass_max: pass_max.clone() },
                    None => SyncCursor { since: later(cursor.since.clone(), pass_max.clone()), next_url: None, pass_max: None },
                };
                match next {
                    Some(n) => {
                        let (received, refused) = (page.received, page.refused);
                        in_flight = Some(s.spawn(move || commit_prepared(vault, ep_id, rtype, prepared, received, refused, new_cursor)));
                        url = n;
                    }
                    None => {
                        commit_prepared(vault, ep_id, rtype, prepared, page.received, page.refused, new_cursor)?.tally(tr, report);
                        progress(&Progress { endpoint_id: ep_id, endpoint: self.ep.name.clone(), rtype: rtype.to_owned(), pages: tr.pages, received: tr.received });
                        return Ok(());
                    }
                }
            }
        })
    }
}

/// A page as stored: what the import made of it, and what the page check refused.
struct Stored {
    import: techo_core::ImportReport,
    received: u64,
    refused: Vec<String>,
}

impl Stored {
    fn tally(self, tr: &mut TypeReport, report: &mut EndpointReport) {
        tr.pages += 1;
        tr.received += self.received;
        tr.new += self.import.new;
        tr.updated += self.import.updated;
        tr.unchanged += self.import.unchanged;
        tr.merged += self.import.merged;
        tr.refused += self.refused.len() as u64;
        if report.refused.len() < 1000 {
            report.refused.extend(self.refused);
        }
    }
}

/// Commits a checked, prepared page with its cursor, in one transaction (the database work only).
fn commit_prepared<V: VaultAccess>(
    vault: &V,
    ep_id: i64,
    rtype: &str,
    prepared: techo_core::PreparedPage,
    received: u64,
    refused: Vec<String>,
    cursor: SyncCursor,
) -> Result<Stored> {
    let import = vault.with(|v| v.commit_sync_page_prepared(ep_id, rtype, prepared, &cursor))??;
    Ok(Stored { import, received, refused })
}

/// The cursor and report key of a pass over `Patient/{id}/$everything`.
pub const EVERYTHING: &str = "Patient/$everything";

/// The first page of a `$everything` pass: `Patient/{id}/$everything?_since=…&_count=…`.
pub fn everything_first_page(name: &str, base: &str, patient: &str, since: Option<&str>, count: u32) -> Result<url::Url> {
    let mut url = smart::join(name, base, &format!("Patient/{patient}/$everything"))?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(s) = since {
            q.append_pair("_since", s);
        }
        q.append_pair("_count", &count.to_string());
    }
    Ok(url)
}

/// The first page of a pass.
pub fn first_page(name: &str, base: &str, rtype: &str, patient: &str, since: Option<&str>, count: u32) -> Result<url::Url> {
    let mut url = smart::join(name, base, rtype)?;
    {
        let mut q = url.query_pairs_mut();
        if rtype == "Patient" {
            q.append_pair("_id", patient);
        } else {
            q.append_pair("patient", patient);
        }
        if let Some(s) = since {
            q.append_pair("_lastUpdated", &format!("gt{s}"));
        }
        q.append_pair("_count", &count.to_string());
    }
    Ok(url)
}

pub fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// The later of two FHIR instants (compared as instants, kept as the server wrote them).
pub fn later(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (pa, pb) = (chrono::DateTime::parse_from_rfc3339(&a).ok(), chrono::DateTime::parse_from_rfc3339(&b).ok());
            match (pa, pb) {
                (Some(x), Some(y)) => Some(if y > x { b } else { a }),
                (None, Some(_)) => Some(b),
                _ => Some(a),
            }
        }
        (a, None) => a,
        (None, b) => b,
    }
}

/// One page, checked (IO-free).
#[derive(Debug, Default)]
pub struct Page {
    /// The accepted resources, as received (key order and decimal text kept), taken out of the
    /// page's Bundle: the import stores them without parsing them again.
    pub resources: Vec<Value>,
    pub accepted: u64,
    /// Resources the server sent (accepted or refused).
    pub received: u64,
    pub refused: Vec<String>,
    pub max_last_updated: Option<String>,
    pub next: Option<String>,
}

/// Checks a search-result page: a Bundle whose resources belong to `patient`. The accepted
/// resources are moved out of `bundle`.
pub fn read_page(name: &str, mut bundle: Value, rtype: &str, patient: &str) -> Result<Page> {
    let garbage = |what: String| SyncError::Garbage { endpoint: name.to_owned(), what };
    let found = bundle.get("resourceType").and_then(Value::as_str);
    if found != Some("Bundle") {
        let what = match found {
            Some(t) => format!("a {t} where a search-result Bundle was expected"),
            None if bundle.is_object() => "JSON without a resourceType where a search-result Bundle was expected".into(),
            None => "JSON that is not an object where a search-result Bundle was expected".into(),
        };
        return Err(garbage(what));
    }
    if let Some(t) = bundle.get("type").and_then(Value::as_str) {
        if t != "searchset" {
            return Err(garbage(format!("a {t} Bundle where a search result was expected")));
        }
    }
    let mut page = Page { next: next_link(&bundle), ..Default::default() };
    let entries = match bundle.get_mut("entry") {
        None | Some(Value::Null) => return Ok(page),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(garbage("a Bundle whose entry is not a list".into())),
    };
    for (i, e) in entries.iter_mut().enumerate() {
        let Some(res) = e.get("resource") else {
            return Err(garbage(format!("Bundle entry {i} has no resource")));
        };
        let Some(t) = res.get("resourceType").and_then(Value::as_str) else {
            return Err(garbage(format!("Bundle entry {i} is not a FHIR resource (no resourceType)")));
        };
        if t == "OperationOutcome" || e.pointer("/search/mode").and_then(Value::as_str) == Some("outcome") {
            continue;
        }
        page.received += 1;
        let id = res.get("id").and_then(Value::as_str).filter(|s| valid_id(s));
        let Some(id) = id else {
            page.refused.push(format!("{t} (entry {i}): no valid id"));
            continue;
        };
        let included = e.pointer("/search/mode").and_then(Value::as_str) == Some("include");
        if t != rtype && !included && rtype != EVERYTHING {
            page.refused.push(format!("{t}/{id}: not a {rtype}, though the search asked for {rtype}"));
            continue;
        }
        if let Some(other) = other_patient(res, t, id, patient) {
            page.refused.push(format!("{t}/{id}: {other}"));
            continue;
        }
        let lu = res.pointer("/meta/lastUpdated").and_then(Value::as_str).map(str::to_owned);
        page.max_last_updated = later(page.max_last_updated.take(), lu);
        page.accepted += 1;
        let res = e.get_mut("resource").map(Value::take).expect("checked above");
        page.resources.push(res);
    }
    Ok(page)
}

fn next_link(bundle: &Value) -> Option<String> {
    bundle
        .get("link")?
        .as_array()?
        .iter()
        .find(|l| l.get("relation").and_then(Value::as_str) == Some("next"))?
        .get("url")?
        .as_str()
        .map(str::to_owned)
}

/// FHIR ids: `[A-Za-z0-9\-\.]{1,64}`.
fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Why a resource is not this patient's: a Patient with another id, or a reference to another Patient.
pub fn other_patient(res: &Value, rtype: &str, id: &str, patient: &str) -> Option<String> {
    if rtype == "Patient" && id != patient {
        return Some("another patient than the one signed in".into());
    }
    let mut bad = false;
    walk_refs(res, &mut |r| {
        if let Some(pid) = patient_ref_id(r) {
            if pid != patient {
                bad = true;
            }
        }
    });
    bad.then(|| "it names another patient than the one signed in".into())
}

fn walk_refs(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "reference" {
                    if let Some(s) = x.as_str() {
                        f(s);
                    }
                } else if k != "contained" {
                    walk_refs(x, f);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk_refs(x, f)),
        _ => {}
    }
}

/// The Patient id a reference names (`Patient/1`, `https://…/Patient/1/_history/2`).
fn patient_ref_id(r: &str) -> Option<&str> {
    let r = r.split("/_history/").next().unwrap_or(r);
    let mut parts = r.rsplit('/');
    let id = parts.next()?;
    (parts.next()? == "Patient").then_some(id)
}

/// How long to wait between scheduled syncs (the app's setting), clamped to a sane range.
pub fn clamp_interval(minutes: u64) -> Duration {
    Duration::from_secs(minutes.clamp(15, 24 * 60) * 60)
}

/// When the next scheduled sync is due: `interval` after the oldest of the endpoints' last
/// syncs (now, for an endpoint never synced); `None` without endpoints. IO-free.
pub fn next_scheduled(
    last_syncs: &[Option<chrono::DateTime<chrono::Utc>>],
    interval: Duration,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let interval = chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::MAX);
    last_syncs.iter().map(|l| l.map_or(now, |t| t.checked_add_signed(interval).unwrap_or(t))).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle(entries: Vec<Value>, next: Option<&str>) -> Value {
        let mut b = json!({"resourceType": "Bundle", "type": "searchset", "entry": entries.into_iter().map(|r| json!({"resource": r, "search": {"mode": "match"}})).collect::<Vec<_>>()});
        if let Some(n) = next {
            b["link"] = json!([{"relation": "self", "url": "http://h/fhir/Observation"}, {"relation": "next", "url": n}]);
        }
        b
    }

    #[test]
    fn the_next_scheduled_sync_follows_the_stalest_endpoint() {
        use chrono::TimeZone;
        let t = |h: u32, m: u32| chrono::Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).unwrap();
        let hour = Duration::from_secs(3600);
        assert_eq!(next_scheduled(&[], hour, t(12, 0)), None, "nothing to sync");
        assert_eq!(next_scheduled(&[Some(t(11, 30)), Some(t(10, 45))], hour, t(12, 0)), Some(t(11, 45)));
        assert_eq!(next_scheduled(&[Some(t(11, 30)), None], hour, t(12, 0)), Some(t(12, 0)), "never synced: now");
        assert_eq!(next_scheduled(&[Some(t(11, 30))], Duration::MAX, t(12, 0)), Some(t(11, 30)), "no overflow");
    }

    #[test]
    fn a_page_keeps_the_patients_resources_and_refuses_the_others() {
        let b = bundle(
            vec![
                serde_json::from_str(r#"{"resourceType": "Observation", "id": "o1", "meta": {"lastUpdated": "2024-05-01T10:00:00.000+09:00"}, "subject": {"reference": "Patient/p1"}, "valueQuantity": {"value": 1.50}}"#).unwrap(),
                json!({"resourceType": "Observation", "id": "o2", "meta": {"lastUpdated": "2024-05-01T02:00:00.001Z"}, "subject": {"reference": "Patient/p2"}}),
                json!({"resourceType": "Observation", "id": "o3", "performer": [{"reference": "http://h/fhir/Patient/p9/_history/1"}], "subject": {"reference": "Patient/p1"}}),
                json!({"resourceType": "Observation", "subject": {"reference": "Patient/p1"}}),
                json!({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}),
                json!({"resourceType": "OperationOutcome", "issue": []}),
            ],
            Some("http://h/fhir/Observation?page=2"),
        );
        let p = read_page("H", b, "Observation", "p1").unwrap();
        assert_eq!(p.accepted, 1);
        assert_eq!(p.received, 5);
        assert_eq!(p.refused.len(), 4, "{:?}", p.refused);
        assert!(p.refused[0].starts_with("Observation/o2"));
        assert!(p.refused[1].starts_with("Observation/o3"));
        assert!(p.refused[2].contains("no valid id"));
        assert!(p.refused[3].starts_with("Condition/c1"));
        // Exactly as received: key order and decimal text kept.
        assert_eq!(p.resources.len(), 1);
        assert_eq!(serde_json::to_string(&p.resources[0]).unwrap() + "\n", "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"lastUpdated\":\"2024-05-01T10:00:00.000+09:00\"},\"subject\":{\"reference\":\"Patient/p1\"},\"valueQuantity\":{\"value\":1.50}}\n");
        assert_eq!(p.max_last_updated.as_deref(), Some("2024-05-01T10:00:00.000+09:00"));
        assert_eq!(p.next.as_deref(), Some("http://h/fhir/Observation?page=2"));
    }

    #[test]
    fn a_patient_page_accepts_only_the_signed_in_patient() {
        let b = bundle(vec![json!({"resourceType": "Patient", "id": "p1"}), json!({"resourceType": "Patient", "id": "p2"})], None);
        let p = read_page("H", b, "Patient", "p1").unwrap();
        assert_eq!((p.accepted, p.refused.len()), (1, 1));
        assert_eq!(p.next, None);
    }

    #[test]
    fn garbage_pages_are_errors_naming_what_came() {
        for (v, want) in [
            (json!({"resourceType": "Patient", "id": "p1"}), "a Patient where a search-result Bundle"),
            (json!([1, 2]), "not an object"),
            (json!({"resourceType": "Bundle", "type": "transaction"}), "a transaction Bundle"),
            (json!({"resourceType": "Bundle", "type": "searchset", "entry": {"x": 1}}), "entry is not a list"),
            (json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"fullUrl": "x"}]}), "entry 0 has no resource"),
            (json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"id": "x"}}]}), "no resourceType"),
        ] {
            let e = read_page("H", v, "Observation", "p1").unwrap_err();
            assert_eq!(e.code(), "bad_reply");
            assert!(e.to_string().contains(want), "{e}");
        }
    }

    #[test]
    fn the_first_page_asks_for_later_changes_only() {
        let u = first_page("H", "https://h.example/fhir/", "Observation", "p1", Some("2024-05-01T10:00:00.000+09:00"), 50).unwrap();
        assert_eq!(u.as_str(), "https://h.example/fhir/Observation?patient=p1&_lastUpdated=gt2024-05-01T10%3A00%3A00.000%2B09%3A00&_count=50");
        let u = first_page("H", "https://h.example/fhir", "Patient", "p1", None, 50).unwrap();
        assert_eq!(u.as_str(), "https://h.example/fhir/Patient?_id=p1&_count=50");
    }

    #[test]
    fn origins_and_instants_compare_as_they_mean() {
        let p = |s: &str| url::Url::parse(s).unwrap();
        assert!(same_origin(&p("https://h.example/fhir"), &p("https://h.example:443/other?x")));
        assert!(!same_origin(&p("https://h.example/fhir"), &p("http://h.example/fhir")));
        assert!(!same_origin(&p("http://127.0.0.1:8080/fhir"), &p("http://127.0.0.1:8081/fhir")));
        assert!(!same_origin(&p("http://127.0.0.1:8080/fhir"), &p("http://127.0.0.2:8080/fhir")));
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(later(s("2024-05-01T10:00:00+09:00"), s("2024-05-01T02:00:00Z")), s("2024-05-01T02:00:00Z"));
        assert_eq!(later(s("2024-05-01T10:00:00+09:00"), s("2024-05-01T00:59:59Z")), s("2024-05-01T10:00:00+09:00"));
        assert_eq!(later(None, s("x")), s("x"));
        assert_eq!(later(s("2024-01-01T00:00:00Z"), None), s("2024-01-01T00:00:00Z"));
    }
}

/// The page pipeline, seen from the server: while a page is being committed, the next page is
/// already being fetched; and commits still happen one at a time, in page order, so the vault
/// ends up holding exactly what the server sent.
#[cfg(test)]
mod pipeline_tests {
    use super::*;
    use secrecy::SecretString;
    use serde_json::json;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use techo_core::{EndpointAuth, NewEndpoint};

    const PAGES: usize = 6;
    const PER_PAGE: usize = 20;

    /// A loopback FHIR server with `PAGES` pages of Observations for patient p1, each page
    /// linking the next; counts the requests it has answered.
    fn serve(answered: Arc<AtomicUsize>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/fhir", listener.local_addr().unwrap());
        let base2 = base.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                        break;
                    }
                }
                let page: usize = line.split("page=").nth(1).and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next()).and_then(|s| s.parse().ok()).unwrap_or(0);
                let entries: Vec<Value> = (0..PER_PAGE)
                    .map(|i| {
                        let n = page * PER_PAGE + i;
                        json!({"resource": {"resourceType": "Observation", "id": format!("o{n}"), "status": "final",
                            "meta": {"versionId": "1", "lastUpdated": format!("2026-01-01T00:00:{:02}Z", n % 60)},
                            "code": {"text": "weight"}, "subject": {"reference": "Patient/p1"}, "valueQuantity": {"value": n}}})
                    })
                    .collect();
                let mut bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": entries});
                if page + 1 < PAGES {
                    bundle["link"] = json!([{"relation": "next", "url": format!("{base2}/Observation?patient=p1&page={}", page + 1)}]);
                }
                let body = bundle.to_string();
                answered.fetch_add(1, Ordering::SeqCst);
                let _ = write!(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        base
    }

    /// The server, a new vault and an open endpoint on it for patient p1. Keep the folder alive.
    fn setup() -> (Arc<AtomicUsize>, tempfile::TempDir, Vault, techo_core::Endpoint) {
        let answered = Arc::new(AtomicUsize::new(0));
        let base = serve(answered.clone());
        let tmp = tempfile::tempdir().unwrap();
        let (mut v, _) = Vault::create(&tmp.path().join("vault"), &SecretString::from("correct horse battery"), None).unwrap();
        let person = v.add_person("Me", Some("self"), &[]).unwrap();
        let ep = v
            .add_endpoint(&NewEndpoint { name: "H".into(), base_url: base, person_id: person, facility: None, patient_id: Some("p1".into()), auth: EndpointAuth::Open })
            .unwrap();
        (answered, tmp, v, ep)
    }

    /// The vault, slowed down: each step takes 400 ms more, and notes whether the server
    /// answered a request meanwhile.
    struct SlowVault {
        inner: Mutex<Vault>,
        answered: Arc<AtomicUsize>,
        steps: Mutex<Vec<bool>>,
    }

    impl VaultAccess for SlowVault {
        fn with<R>(&self, f: impl FnOnce(&mut Vault) -> R) -> std::result::Result<R, techo_core::Error> {
            let before = self.answered.load(Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(400));
            let r = self.inner.with(f);
            let during = self.answered.load(Ordering::SeqCst) > before;
            self.steps.lock().unwrap().push(during);
            r
        }
    }

    #[test]
    fn the_next_page_is_fetched_while_a_page_is_committed_and_every_page_is_stored_once() {
        let (answered, _tmp, v, ep) = setup();
        let vault = SlowVault { inner: Mutex::new(v), answered: answered.clone(), steps: Mutex::new(Vec::new()) };
        let http = Http::new(HttpOptions::default()).unwrap();
        let opts = SyncOptions { types: Some(vec!["Observation".into()]), everything: false, ..SyncOptions::default() };
        let report = sync_one(&vault, &http, ep, &opts, &|_| {});
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let t = &report.types["Observation"];
        assert_eq!((t.pages, t.received, t.new), (PAGES as u64, (PAGES * PER_PAGE) as u64, (PAGES * PER_PAGE) as u64));
        assert_eq!(answered.load(Ordering::SeqCst), PAGES, "one request per page");
        // Pages 1..PAGES-1 are committed while the next page is fetched (the last page has no
        // next). A sequential sync would have the server idle during every vault step.
        let overlapped = vault.steps.lock().unwrap().iter().filter(|d| **d).count();
        assert!(overlapped >= (PAGES - 1) / 2, "only {overlapped} of {} page commits overlapped a fetch", PAGES - 1);
        let mut v = vault.inner.into_inner().unwrap();
        assert_eq!(v.stats().unwrap().resources, (PAGES * PER_PAGE) as u64);
        // the cursor moved past the whole pass
        let c = v.sync_cursor(report.endpoint_id, "Observation").unwrap();
        assert!(c.next_url.is_none() && c.since.is_some(), "the pass ended with its cursor");
        let _ = &mut v;
    }

    /// The app locks the vault (auto-lock) in the middle of a pipelined sync: the sync stops
    /// with the vault's error, the pages committed before stay with their cursor, and the page
    /// fetched meanwhile is not stored.
    #[test]
    fn a_vault_locked_mid_sync_stops_it_and_keeps_every_committed_page() {
        let (answered, _tmp, v, ep) = setup();
        let ep_id = ep.id;
        let app: Mutex<Option<Vault>> = Mutex::new(Some(v));
        let taken: Mutex<Option<Vault>> = Mutex::new(None);
        let http = Http::new(HttpOptions::default()).unwrap();
        let opts = SyncOptions { types: Some(vec!["Observation".into()]), everything: false, ..SyncOptions::default() };
        let lock_after_page_3 = |p: &Progress| {
            if p.pages == 3 {
                *taken.lock().unwrap() = app.lock().unwrap().take();
            }
        };
        let report = sync_one(&app, &http, ep, &opts, &lock_after_page_3);
        assert_eq!(report.outcome, RunOutcome::Failed, "{:?}", report.errors);
        assert_eq!(report.error_codes.first().map(String::as_str), Some(techo_core::Error::Locked.general_code()), "{:?}", report.error_codes);
        assert_eq!(report.types["Observation"].pages, 3);
        let v = taken.lock().unwrap().take().expect("the vault was locked after page 3");
        assert_eq!(v.stats().unwrap().resources, (3 * PER_PAGE) as u64, "exactly the three committed pages");
        let c = v.sync_cursor(ep_id, "Observation").unwrap();
        assert!(c.next_url.as_deref().is_some_and(|u| u.ends_with("page=3")), "the cursor points at the first page not stored: {:?}", c.next_url);
        assert!(answered.load(Ordering::SeqCst) <= 5, "at most the page after the lock was fetched");
    }
}
