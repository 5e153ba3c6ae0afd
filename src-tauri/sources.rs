//! The sources screen's commands: FHIR endpoints, the built-in demo hospital, signing in,
//! syncing on demand and on a schedule, with progress.
//!
//! Thin like the rest of the shell: what to add, how to sign in and how to sync are decided by
//! `techo-sync` (`plan_endpoint`, `begin_sign_in`, `complete_sign_in`, `sync`) and `techo-core`;
//! this module runs them on their own threads (HTTP never runs on the UI thread or inside
//! Tauri's async runtime) and keeps what the window polls: the progress of the sync under way
//! and the state of the sign-in under way. Finished runs are read back from the vault.
//!
//! The sync takes the vault one short step at a time (`techo_sync::VaultAccess` on
//! `Mutex<Option<Vault>>`), so the window stays usable, and when the vault locks itself
//! meanwhile the sync stops, keeping every page already committed.
//!
//! The demo hospital (`techo-demo`) runs inside the app, on 127.0.0.1, once the vault holds it
//! (the endpoint id is the vault's `Setting::DemoEndpoint`). It keeps no state between runs of
//! the app: its record is the same every time (fixed seed and stamps, so an incremental sync
//! finds nothing new), but it forgets sign-ins, so after a restart of Techo the demo asks for
//! a new sign-in. Nothing here logs tokens, codes or health data.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tauri::{AppHandle, Manager};
use techo_core::{Endpoint, EndpointAuth, EndpointStatus, Setting, Vault};
use techo_ipc::{
    EndpointState, EndpointView, ErrorCode, IpcError, SignInPhase, SignInState, SyncProgress, SyncReport, SyncStatus,
};
use techo_sync::{HttpOptions, SyncError, SyncOptions, VaultAccess};

use crate::commands::{core_error, VaultState};

/// The demo hospital's port when it is free (else any free port): a fixed one keeps the demo
/// endpoint's address the same between runs. `TECHO_DEMO_PORT` overrides it.
const DEMO_PORT: u16 = 47474;
const DEMO_PORT_ENV: &str = "TECHO_DEMO_PORT";
/// Set (to anything) to not open the system browser for a sign-in (tests, kiosks): the window
/// shows the address to open instead.
const NO_BROWSER_ENV: &str = "TECHO_NO_BROWSER";
const DEMO_NAME: &str = "Techo Demo Hospital";
/// Not the demo vault's seed (42), so the demo hospital's record is not a copy of a person
/// already in the demo vault.
const DEMO_SEED: u64 = 7;
const DEMO_RESOURCES: usize = 1500;
const DEMO_FACILITIES: usize = 4;
/// 2026-01-01T00:00:00Z: the demo record's `meta.lastUpdated` starts here on every run.
const DEMO_STAMPED_FROM_MS: i64 = 1_767_225_600_000;
/// The client id the app signs in with (public client, PKCE).
const CLIENT_ID: &str = "techo";
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);
/// How often the timer looks whether a scheduled sync is due.
const CHECK_EVERY: Duration = Duration::from_secs(10);
/// A scheduled sync never starts sooner than this after the last attempt (a failing source
/// is not hammered; its next try is the interval after its last sync anyway).
const MIN_GAP: Duration = Duration::from_secs(60);

/// What the window polls while the sources screen is open.
#[derive(Default)]
pub struct SyncState {
    inner: Mutex<Inner>,
    demo: Mutex<Option<techo_demo::Hospital>>,
}

#[derive(Default)]
struct Inner {
    running: bool,
    /// Per endpoint: its name, the type under way and per type the resources received.
    progress: BTreeMap<i64, Running>,
    sign_in: Option<SignInState>,
    /// Bumped by every sign-in started: a late answer to an older one changes nothing shown.
    sign_in_generation: u64,
    last_attempt: Option<Instant>,
    last_check: Option<Instant>,
    /// Why the last sync could not run at all (per-source failures are in the reports).
    error: Option<String>,
}

#[derive(Default)]
struct Running {
    name: String,
    rtype: String,
    pages: u64,
    received: u64,
    by_type: BTreeMap<String, u64>,
}

impl SyncState {
    fn guard(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the demo hospital unless it runs; answers its base URL and whether it started now.
    fn start_demo(&self) -> Result<(String, bool), IpcError> {
        let mut demo = self.demo.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(h) = demo.as_ref() {
            return Ok((h.base_url(), false));
        }
        let port = std::env::var(DEMO_PORT_ENV).ok().and_then(|p| p.parse().ok()).unwrap_or(DEMO_PORT);
        let config = |port| techo_demo::HospitalConfig {
            seed: DEMO_SEED,
            resources: DEMO_RESOURCES,
            facilities: DEMO_FACILITIES,
            auth: techo_demo::Auth::Smart { access_ttl: Duration::from_secs(3600) },
            port,
            name: DEMO_NAME.to_owned(),
            stamped_from_ms: Some(DEMO_STAMPED_FROM_MS),
            everything: false,
        };
        let hospital = techo_demo::Hospital::start(config(port))
            .or_else(|_| techo_demo::Hospital::start(config(0)))
            .map_err(|e| {
                IpcError::new(ErrorCode::EndpointUnusable, format!("The demo hospital could not start ({e}). Restart Techo and try again."))
            })?;
        let base = hospital.base_url();
        *demo = Some(hospital);
        Ok((base, true))
    }
}

/// Runs `f` on a plain thread of its own (reqwest's blocking client and the demo hospital's
/// runtime must not run inside Tauri's async runtime), awaited from the command.
async fn off_runtime<T, F>(app: AppHandle, f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(AppHandle) -> Result<T, IpcError> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(move || std::thread::spawn(move || f(app)).join().unwrap_or_else(|_| Err(IpcError::internal())))
        .await
        .unwrap_or_else(|_| Err(IpcError::internal()))
}

/// Runs `f` on the unlocked vault (answers "locked" otherwise).
fn with_vault<R>(vs: &VaultState, f: impl FnOnce(&mut Vault) -> techo_core::Result<R>) -> Result<R, IpcError> {
    vs.vault.with(f).map_err(core_error)?.map_err(core_error)
}

/// Sync errors on the wire: sign-in trouble as `sign_in_failed`, a server Techo cannot use as
/// `endpoint_unusable`, the vault's own errors as the vault's codes. The sentences are
/// techo-sync's (endpoint name, status, what to do; never a token or health data).
fn sync_error(e: SyncError) -> IpcError {
    match e {
        SyncError::Vault(e) => core_error(e),
        e @ (SyncError::SignIn { .. } | SyncError::NeedsSignIn { .. } | SyncError::NoPatient { .. }) => {
            IpcError::new(ErrorCode::SignInFailed, techo_ipc::as_sentence(&e.to_string()))
        }
        e => IpcError::new(ErrorCode::EndpointUnusable, techo_ipc::as_sentence(&e.to_string())),
    }
}

/// Whether Techo can pull from the endpoint without asking the person first.
fn can_sync(ep: &Endpoint) -> bool {
    (matches!(ep.auth, EndpointAuth::Open) || ep.signed_in) && ep.status != EndpointStatus::NeedsSignIn
}

fn to_view(ep: &Endpoint, demo: Option<i64>) -> EndpointView {
    let smart = matches!(ep.auth, EndpointAuth::Smart { .. });
    EndpointView {
        id: ep.id,
        name: ep.name.clone(),
        base_url: ep.base_url.clone(),
        facility: ep.facility.clone(),
        person_id: ep.person_id,
        smart,
        signed_in: ep.signed_in,
        state: match ep.status {
            // A SMART source nobody has signed in to yet cannot sync: it is not "ready".
            EndpointStatus::Ready if smart && !ep.signed_in => EndpointState::NeedsSignIn,
            EndpointStatus::Ready => EndpointState::Ready,
            EndpointStatus::NeedsSignIn => EndpointState::NeedsSignIn,
            EndpointStatus::Error => EndpointState::Error,
        },
        message: ep.status_message.clone(),
        last_sync_at: ep.last_sync_at.clone(),
        demo: Some(ep.id) == demo,
    }
}

/// The demo endpoint's id, when the vault holds one (and it still exists).
fn demo_endpoint(v: &Vault) -> techo_core::Result<Option<Endpoint>> {
    let Some(id) = v.setting_i64(Setting::DemoEndpoint)? else { return Ok(None) };
    Ok(v.endpoints()?.into_iter().find(|e| e.id == id))
}

/// Makes sure the demo hospital runs when the vault holds it, at the endpoint's address. When
/// it starts now, sign-ins from an earlier run of Techo are void: they are forgotten and the
/// endpoint asks for a new sign-in (its records stay).
fn ensure_demo(app: &AppHandle) -> Result<(), IpcError> {
    let vs = app.state::<VaultState>();
    let Some(ep) = with_vault(&vs, |v| demo_endpoint(v))? else { return Ok(()) };
    let (base, started) = app.state::<SyncState>().start_demo()?;
    with_vault(&vs, |v| {
        if ep.base_url != base {
            v.set_endpoint_base_url(ep.id, &base)?;
        }
        if started && ep.signed_in {
            v.forget_endpoint_tokens(ep.id)?;
            v.set_endpoint_status(
                ep.id,
                EndpointStatus::NeedsSignIn,
                Some("The demo hospital restarted with Techo and forgot your sign-in: sign in again (the records already pulled stay)."),
            )?;
        }
        Ok(())
    })
}

fn endpoint_views(vs: &VaultState) -> Result<Vec<EndpointView>, IpcError> {
    with_vault(vs, |v| {
        let demo = v.setting_i64(Setting::DemoEndpoint)?;
        Ok(v.endpoints()?.iter().map(|e| to_view(e, demo)).collect())
    })
}

/// The person a new source is for: the one asked for, else the vault's own person ("self"),
/// else the first; a new "Me" in an empty vault.
fn choose_person(vs: &VaultState, asked: Option<i64>) -> Result<i64, IpcError> {
    with_vault(vs, |v| {
        if let Some(p) = asked {
            return v.person(p).map(|p| p.id);
        }
        let persons = v.persons()?;
        match persons.iter().find(|p| p.relationship.as_deref() == Some("self")).or(persons.first()) {
            Some(p) => Ok(p.id),
            None => v.add_person("Me", Some("self"), &[]),
        }
    })
}

fn http(attempts: u32) -> Result<techo_sync::Http, IpcError> {
    techo_sync::Http::new(HttpOptions { attempts, ..Default::default() }).map_err(sync_error)
}

/// Discovers the server, then stores the endpoint (nothing is stored when discovery fails).
fn add(app: &AppHandle, req: techo_sync::AddRequest, demo: bool) -> Result<EndpointView, IpcError> {
    let vs = app.state::<VaultState>();
    let (new, _) = techo_sync::plan_endpoint(&http(2)?, &req).map_err(sync_error)?;
    let ep = with_vault(&vs, |v| {
        let ep = v.add_endpoint(&new)?;
        if demo {
            v.set_setting(Setting::DemoEndpoint, Some(&ep.id.to_string()))?;
        }
        v.endpoint(ep.id)
    })?;
    Ok(to_view(&ep, demo.then_some(ep.id)))
}

/// The sources (FHIR endpoints) of the vault, every person's.
#[tauri::command]
pub async fn endpoints(app: AppHandle) -> Result<Vec<EndpointView>, IpcError> {
    off_runtime(app, |app| {
        let vs = app.state::<VaultState>();
        vs.touch_if_unlocked();
        ensure_demo(&app)?;
        endpoint_views(&vs)
    })
    .await
}

/// Adds the built-in demo hospital for a person (default: the vault's own person) and starts
/// it; when the vault holds it already, answers that one.
#[tauri::command(rename_all = "snake_case")]
pub async fn add_demo_hospital(app: AppHandle, person_id: Option<i64>) -> Result<EndpointView, IpcError> {
    off_runtime(app, move |app| {
        let vs = app.state::<VaultState>();
        vs.touch_if_unlocked();
        if let Some(ep) = with_vault(&vs, |v| demo_endpoint(v))? {
            ensure_demo(&app)?;
            let ep = with_vault(&vs, |v| v.endpoint(ep.id))?;
            return Ok(to_view(&ep, Some(ep.id)));
        }
        let person = choose_person(&vs, person_id)?;
        let (base, _) = app.state::<SyncState>().start_demo()?;
        let req = techo_sync::AddRequest {
            url: base,
            name: Some(DEMO_NAME.to_owned()),
            person_id: person,
            facility: None,
            patient: None,
            client_id: CLIENT_ID.to_owned(),
            scope: None,
            open: false,
        };
        add(&app, req, true)
    })
    .await
}

/// Adds a FHIR endpoint by its base URL (discovered first: SMART sign-in when it offers it,
/// else an open server, which needs the patient id).
#[tauri::command(rename_all = "snake_case")]
pub async fn add_endpoint(
    app: AppHandle,
    url: String,
    name: Option<String>,
    person_id: Option<i64>,
    patient: Option<String>,
) -> Result<EndpointView, IpcError> {
    techo_ipc::validate_endpoint_url(&url)?;
    let filled = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (name, patient) = (filled(name), filled(patient));
    if name.as_deref().is_some_and(|n| n.chars().count() > 200) || patient.as_deref().is_some_and(|p| p.chars().count() > 200) {
        return Err(IpcError::invalid_input("Use at most 200 characters for the name and the patient id."));
    }
    off_runtime(app, move |app| {
        let vs = app.state::<VaultState>();
        vs.touch_if_unlocked();
        let person = choose_person(&vs, person_id)?;
        let req = techo_sync::AddRequest {
            url: url.trim().to_owned(),
            name,
            person_id: person,
            facility: None,
            patient,
            client_id: CLIENT_ID.to_owned(),
            scope: None,
            open: false,
        };
        add(&app, req, false)
    })
    .await
}

/// Starts a sign-in: opens the system browser on the hospital's sign-in page (unless
/// `TECHO_NO_BROWSER` is set) and waits, on a thread of its own, for the browser to come back
/// to the loopback redirect. The window follows it in `sync_status().sign_in`.
#[tauri::command(rename_all = "snake_case")]
pub async fn begin_sign_in(app: AppHandle, endpoint_id: i64) -> Result<SignInState, IpcError> {
    off_runtime(app, move |app| {
        let vs = app.state::<VaultState>();
        vs.touch_if_unlocked();
        ensure_demo(&app)?;
        let (ep, key) = with_vault(&vs, |v| Ok((v.endpoint(endpoint_id)?, v.endpoint_client_key(endpoint_id)?)))?;
        let pending = techo_sync::begin_sign_in(&ep, key).map_err(sync_error)?;
        let url = pending.authorize_url().to_owned();
        let opened = std::env::var_os(NO_BROWSER_ENV).is_none() && webbrowser::open(&url).is_ok();
        let message = if opened {
            format!("Sign in to {} in the browser window that opened; Techo waits up to 5 minutes.", ep.name)
        } else {
            format!("Open the address below in your browser and sign in to {}; Techo waits up to 5 minutes.", ep.name)
        };
        let state = SignInState {
            endpoint_id,
            endpoint: ep.name.clone(),
            phase: SignInPhase::Waiting,
            authorize_url: url,
            message: Some(message),
        };
        let generation = {
            let ss = app.state::<SyncState>();
            let mut inner = ss.guard();
            inner.sign_in_generation += 1;
            inner.sign_in = Some(state.clone());
            inner.sign_in_generation
        };
        let waiting = app.clone();
        std::thread::spawn(move || finish_sign_in(waiting, ep, pending, generation));
        Ok(state)
    })
    .await
}

fn finish_sign_in(app: AppHandle, ep: Endpoint, pending: techo_sync::PendingSignIn, generation: u64) {
    let vs = app.state::<VaultState>();
    let result = techo_sync::Http::new(HttpOptions::default())
        .and_then(|http| pending.finish(&http, SIGN_IN_TIMEOUT))
        .and_then(|signed| techo_sync::complete_sign_in(&vs.vault, &ep, &signed));
    let ss = app.state::<SyncState>();
    let mut inner = ss.guard();
    if inner.sign_in_generation != generation {
        return;
    }
    if let Some(s) = inner.sign_in.as_mut() {
        match result {
            Ok(()) => {
                s.phase = SignInPhase::Done;
                s.message = Some(format!("Signed in to {}. Sync now to pull your records.", ep.name));
            }
            Err(e) => {
                s.phase = SignInPhase::Failed;
                s.message = Some(sync_error(e).message);
            }
        }
    }
}

/// Forgets an endpoint's tokens (its records stay).
#[tauri::command(rename_all = "snake_case")]
pub async fn sign_out(app: AppHandle, endpoint_id: i64) -> Result<Vec<EndpointView>, IpcError> {
    off_runtime(app, move |app| {
        let vs = app.state::<VaultState>();
        vs.touch_if_unlocked();
        with_vault(&vs, |v| {
            v.endpoint(endpoint_id)?;
            v.forget_endpoint_tokens(endpoint_id)
        })?;
        endpoint_views(&vs)
    })
    .await
}

/// Starts a sync in the background (no-op while one runs) of these endpoints, or of every one
/// that can be synced without a sign-in when the list is empty. Answers at once; the window
/// follows the progress with `sync_status`.
#[tauri::command(rename_all = "snake_case")]
pub async fn sync_now(app: AppHandle, endpoint_ids: Vec<i64>) -> Result<SyncStatus, IpcError> {
    if endpoint_ids.len() > 1000 {
        return Err(IpcError::invalid_input("Choose fewer sources to sync at once."));
    }
    off_runtime(app, move |app| {
        let vs = app.state::<VaultState>();
        vs.touch_if_unlocked();
        ensure_demo(&app)?;
        let all = with_vault(&vs, |v| v.endpoints())?;
        let chosen: Vec<i64> = if endpoint_ids.is_empty() {
            let ready: Vec<i64> = all.iter().filter(|e| can_sync(e)).map(|e| e.id).collect();
            if ready.is_empty() && all.is_empty() {
                return Err(IpcError::invalid_input("There is no source to sync yet: add one, or the demo hospital, first."));
            }
            if ready.is_empty() {
                return Err(IpcError::new(ErrorCode::SignInFailed, "Every source needs a sign-in first: press Sign in next to it."));
            }
            ready
        } else {
            let mut ids = Vec::new();
            for id in endpoint_ids {
                let ep = all
                    .iter()
                    .find(|e| e.id == id)
                    .ok_or_else(|| IpcError::new(ErrorCode::NotFound, "That source is not in this vault any more. Reopen the sources screen."))?;
                if !can_sync(ep) {
                    return Err(IpcError::new(ErrorCode::SignInFailed, format!("Sign in to {} first: press Sign in next to it.", ep.name)));
                }
                ids.push(id);
            }
            ids
        };
        start_sync(&app, chosen);
        status(&app)
    })
    .await
}

/// Starts the sync thread unless a sync runs.
fn start_sync(app: &AppHandle, ids: Vec<i64>) -> bool {
    {
        let ss = app.state::<SyncState>();
        let mut inner = ss.guard();
        if inner.running {
            return false;
        }
        inner.running = true;
        inner.progress.clear();
        inner.error = None;
        inner.last_attempt = Some(Instant::now());
    }
    let app = app.clone();
    std::thread::spawn(move || {
        let vs = app.state::<VaultState>();
        let ss = app.state::<SyncState>();
        let progress = |p: &techo_sync::Progress| {
            let mut inner = ss.guard();
            let r = inner.progress.entry(p.endpoint_id).or_default();
            r.name.clone_from(&p.endpoint);
            r.rtype.clone_from(&p.rtype);
            r.pages = p.pages;
            r.received = p.received;
            r.by_type.insert(p.rtype.clone(), p.received);
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            techo_sync::sync(&vs.vault, &ids, &SyncOptions::default(), &progress)
        }));
        let mut inner = ss.guard();
        inner.running = false;
        inner.progress.clear();
        inner.error = match result {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(sync_error(e).message),
            Err(_) => Some("The sync stopped on an internal error; what it had pulled is kept. Sync again.".to_owned()),
        };
    });
    true
}

/// The schedule's interval, when one is set (a stored value that is not offered reads as off).
fn interval(v: &Vault) -> techo_core::Result<Option<u32>> {
    Ok(v
        .setting_i64(Setting::SyncIntervalMinutes)?
        .and_then(|m| u32::try_from(m).ok())
        .filter(|m| techo_ipc::SYNC_INTERVALS.contains(m)))
}

/// When the scheduled sync of these endpoints is due (IO-free rule: techo-sync's `next_scheduled`).
fn due(eps: &[&Endpoint], minutes: u32, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
    let last: Vec<_> = eps
        .iter()
        .map(|e| e.last_sync_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc()))
        .collect();
    techo_sync::engine::next_scheduled(&last, techo_sync::engine::clamp_interval(u64::from(minutes)), now)
}

/// A stored run report (techo-sync's `EndpointReport` as JSON) as the window shows it.
fn to_report(run: &techo_core::SyncRun, name: &str) -> SyncReport {
    let r: serde_json::Value = serde_json::from_str(&run.report).unwrap_or_default();
    let n = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let mut report = SyncReport {
        endpoint_id: run.endpoint_id,
        endpoint: name.to_owned(),
        outcome: run.outcome.clone(),
        started_at: run.started_at.clone(),
        duration_ms: n(&r, "duration_ms"),
        received: 0,
        new: 0,
        updated: 0,
        unchanged: 0,
        refused: 0,
        errors: r
            .get("errors")
            .and_then(serde_json::Value::as_array)
            .map(|a| a.iter().filter_map(|e| e.as_str().map(techo_ipc::as_sentence)).collect())
            .unwrap_or_default(),
    };
    for t in r.get("types").and_then(serde_json::Value::as_object).into_iter().flat_map(|m| m.values()) {
        report.received += n(t, "received");
        report.new += n(t, "new");
        report.updated += n(t, "updated");
        report.unchanged += n(t, "unchanged") + n(t, "merged");
        report.refused += n(t, "refused");
    }
    report
}

fn status(app: &AppHandle) -> Result<SyncStatus, IpcError> {
    let vs = app.state::<VaultState>();
    let ss = app.state::<SyncState>();
    let (running, progress, sign_in, error, last_attempt) = {
        let inner = ss.guard();
        let progress = inner
            .progress
            .iter()
            .map(|(id, r)| SyncProgress {
                endpoint_id: *id,
                endpoint: r.name.clone(),
                resource_type: r.rtype.clone(),
                pages: r.pages,
                received: r.received,
                total_received: r.by_type.values().sum(),
            })
            .collect::<Vec<_>>();
        (inner.running, progress, inner.sign_in.clone(), inner.error.clone(), inner.last_attempt)
    };
    let (reports, minutes, next) = with_vault(&vs, |v| {
        let eps = v.endpoints()?;
        let mut reports = Vec::new();
        for e in &eps {
            if let Some(run) = v.sync_runs(e.id, 1)?.first() {
                reports.push(to_report(run, &e.name));
            }
        }
        let minutes = interval(v)?;
        let ready: Vec<&Endpoint> = eps.iter().filter(|e| can_sync(e)).collect();
        let next = minutes.and_then(|m| due(&ready, m, chrono::Utc::now()));
        Ok((reports, minutes, next))
    })?;
    let next_sync_in_seconds = next.filter(|_| !running).map(|at| {
        let by_schedule = (at - chrono::Utc::now()).num_seconds().max(0) as u64;
        let by_gap = last_attempt.map_or(0, |t| MIN_GAP.saturating_sub(t.elapsed()).as_secs());
        by_schedule.max(by_gap)
    });
    Ok(SyncStatus { running, progress, reports, interval_minutes: minutes, next_sync_in_seconds, sign_in, error })
}

/// The sync's state for the window (polled; not counted as use, so it never postpones the
/// auto-lock).
#[tauri::command]
pub async fn sync_status(app: AppHandle) -> Result<SyncStatus, IpcError> {
    off_runtime(app, |app| status(&app)).await
}

/// Sets the schedule: a sync every so many minutes (one of `SYNC_INTERVALS`), or none.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_sync_interval(app: AppHandle, minutes: Option<u32>) -> Result<SyncStatus, IpcError> {
    techo_ipc::validate_interval(minutes)?;
    off_runtime(app, move |app| {
        let vs = app.state::<VaultState>();
        vs.touch_if_unlocked();
        with_vault(&vs, |v| v.set_setting(Setting::SyncIntervalMinutes, minutes.map(|m| m.to_string()).as_deref()))?;
        app.state::<SyncState>().guard().last_check = None;
        status(&app)
    })
    .await
}

/// The schedule, called every second by the shell's timer: while the vault is unlocked and a
/// schedule is set, starts a sync of the endpoints that need no sign-in when the stalest is due.
pub fn tick(app: &AppHandle) {
    {
        let ss = app.state::<SyncState>();
        let mut inner = ss.guard();
        if inner.running || inner.last_check.is_some_and(|t| t.elapsed() < CHECK_EVERY) {
            return;
        }
        inner.last_check = Some(Instant::now());
        if inner.last_attempt.is_some_and(|t| t.elapsed() < MIN_GAP) {
            return;
        }
    }
    let vs = app.state::<VaultState>();
    if !vs.is_unlocked() {
        return;
    }
    // The demo hospital runs while its vault is open, also for a scheduled sync.
    if ensure_demo(app).is_err() {
        return;
    }
    let now = chrono::Utc::now();
    let ids = with_vault(&vs, |v| {
        let Some(minutes) = interval(v)? else { return Ok(Vec::new()) };
        let eps = v.endpoints()?;
        let ready: Vec<&Endpoint> = eps.iter().filter(|e| can_sync(e)).collect();
        Ok(match due(&ready, minutes, now) {
            Some(at) if at <= now => ready.iter().map(|e| e.id).collect(),
            _ => Vec::new(),
        })
    });
    if let Ok(ids) = ids {
        if !ids.is_empty() {
            start_sync(app, ids);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn endpoint(id: i64, auth: EndpointAuth, signed_in: bool, status: EndpointStatus, last: Option<&str>) -> Endpoint {
        Endpoint {
            id,
            name: format!("E{id}"),
            base_url: format!("http://127.0.0.1:{}/fhir", 1000 + id),
            person_id: 1,
            facility: None,
            patient_id: Some("p".into()),
            auth,
            status,
            status_message: None,
            last_sync_at: last.map(str::to_owned),
            created_at: "2026-11-28T00:00:00.000Z".into(),
            signed_in,
        }
    }

    fn smart() -> EndpointAuth {
        EndpointAuth::Smart { client_id: "techo".into(), scope: "x".into(), authorize_url: "a".into(), token_url: "t".into() }
    }

    #[test]
    fn only_sources_that_need_no_sign_in_are_synced_unasked() {
        assert!(can_sync(&endpoint(1, EndpointAuth::Open, false, EndpointStatus::Ready, None)));
        assert!(can_sync(&endpoint(2, smart(), true, EndpointStatus::Error, None)), "a failed source is tried again");
        assert!(!can_sync(&endpoint(3, smart(), false, EndpointStatus::Ready, None)), "never signed in");
        assert!(!can_sync(&endpoint(4, smart(), true, EndpointStatus::NeedsSignIn, None)), "its sign-in expired");
    }

    #[test]
    fn a_smart_source_never_signed_in_to_shows_as_needing_sign_in() {
        let state = |auth, signed_in, status| to_view(&endpoint(1, auth, signed_in, status, None), None).state;
        assert_eq!(state(smart(), false, EndpointStatus::Ready), EndpointState::NeedsSignIn, "just added, not signed in yet");
        assert_eq!(state(smart(), true, EndpointStatus::Ready), EndpointState::Ready);
        assert_eq!(state(EndpointAuth::Open, false, EndpointStatus::Ready), EndpointState::Ready, "an open server needs no sign-in");
        assert_eq!(state(smart(), true, EndpointStatus::Error), EndpointState::Error);
        assert_eq!(state(smart(), true, EndpointStatus::NeedsSignIn), EndpointState::NeedsSignIn);
    }

    #[test]
    fn the_schedule_reads_the_vaults_times() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let a = endpoint(1, EndpointAuth::Open, false, EndpointStatus::Ready, Some("2026-11-28T11:30:00.000Z"));
        let b = endpoint(2, EndpointAuth::Open, false, EndpointStatus::Ready, Some("2026-11-28T10:45:00.000Z"));
        assert_eq!(due(&[&a, &b], 60, now), Some(chrono::Utc.with_ymd_and_hms(2026, 11, 28, 11, 45, 0).unwrap()));
        let never = endpoint(3, EndpointAuth::Open, false, EndpointStatus::Ready, None);
        assert_eq!(due(&[&a, &never], 60, now), Some(now), "a source never synced is due now");
        let garbled = endpoint(4, EndpointAuth::Open, false, EndpointStatus::Ready, Some("yesterday"));
        assert_eq!(due(&[&garbled], 60, now), Some(now), "an unreadable time counts as never");
        assert_eq!(due(&[], 60, now), None);
    }

    #[test]
    fn a_stored_report_reads_as_totals() {
        let run = techo_core::SyncRun {
            id: 1,
            endpoint_id: 3,
            started_at: "2026-11-28T11:00:00.000Z".into(),
            finished_at: "2026-11-28T11:00:02.000Z".into(),
            outcome: "partial".into(),
            report: serde_json::json!({
                "duration_ms": 2000,
                "types": {
                    "Observation": {"pages": 2, "received": 300, "new": 250, "updated": 10, "unchanged": 30, "merged": 5, "refused": 5},
                    "Condition": {"pages": 1, "received": 20, "new": 20, "updated": 0, "unchanged": 0, "merged": 0, "refused": 0}
                },
                "errors": ["the server answered HTTP 503"]
            })
            .to_string(),
        };
        let r = to_report(&run, "Demo");
        assert_eq!((r.received, r.new, r.updated, r.unchanged, r.refused, r.duration_ms), (320, 270, 10, 35, 5, 2000));
        assert_eq!((r.outcome.as_str(), r.endpoint.as_str(), r.errors.len()), ("partial", "Demo", 1));
        let broken = techo_core::SyncRun { report: "not json".into(), ..run };
        assert_eq!(to_report(&broken, "Demo").received, 0, "an unreadable report shows zeros, not an error");
    }
}
