//! Techo's IPC commands. Each one is listed in `techo_ipc::COMMAND_NAMES` (the build script
//! checks that the capability allows exactly those) and its parameters are the fields of the
//! command's `techo_ipc::Command::Args`.
//!
//! The vault work (key derivation, SQLCipher) blocks, so every command runs on Tauri's blocking
//! thread pool, never on the main (UI) thread.

use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tauri::{AppHandle, Manager};
use techo_core::{keystore, Unlock, Vault};
use techo_ipc::{
    ErrorCode, IpcError, LabCode, LabPage, LabResultsArgs, LabRow, LabTest, LabTestsPage, PersonSummary, RecordRow, RecordSource,
    RecordVersionView, RecordView, SourceEntry, TimelineCursor, TimelineFilter, TimelinePage, TypeCount, VaultStatus, VersionEntry,
};

/// The environment variable that overrides the vault's folder.
pub const VAULT_ENV: &str = "TECHO_VAULT";
/// Seconds without use after which the vault locks itself (default 10 minutes).
pub const AUTOLOCK_ENV: &str = "TECHO_AUTOLOCK_SECONDS";
const DEFAULT_AUTOLOCK: Duration = Duration::from_secs(10 * 60);

/// The shell's state: where the vault is, and the vault itself while it is unlocked.
/// Dropping the `Vault` locks it (the core closes its connections and forgets the key).
pub struct VaultState {
    dir: Option<PathBuf>,
    /// `pub(crate)`: the sync (sources.rs) takes it one short step at a time through
    /// `techo_sync::VaultAccess`.
    pub(crate) vault: Mutex<Option<Vault>>,
    /// When a person last used the unlocked vault (a command, or a keep-alive from the window).
    last_used: Mutex<Instant>,
    /// The idle limit in seconds: the vault's `Setting::AutoLockMinutes` once unlocked
    /// (default 10 minutes), unless `TECHO_AUTOLOCK_SECONDS` overrides it.
    idle_limit: AtomicU64,
    idle_override: bool,
}

impl VaultState {
    /// The vault folder comes from `TECHO_VAULT`, else the platform default.
    pub fn from_env() -> Self {
        let dir = std::env::var_os(VAULT_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(techo_core::default_vault_dir);
        let idle_override = std::env::var(AUTOLOCK_ENV)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|s| *s > 0);
        VaultState {
            dir,
            vault: Mutex::new(None),
            last_used: Mutex::new(Instant::now()),
            idle_limit: AtomicU64::new(idle_override.unwrap_or(DEFAULT_AUTOLOCK.as_secs())),
            idle_override: idle_override.is_some(),
        }
    }

    /// The vault's folder (configured; it may hold no vault yet).
    pub(crate) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The idle limit now in force.
    pub(crate) fn idle_limit(&self) -> Duration {
        Duration::from_secs(self.idle_limit.load(Ordering::Relaxed))
    }

    /// `TECHO_AUTOLOCK_SECONDS` when it overrides the vault's setting.
    pub(crate) fn idle_override(&self) -> Option<u64> {
        self.idle_override.then(|| self.idle_limit().as_secs())
    }

    /// Applies an auto-lock in minutes (the vault's setting) unless the environment overrides it.
    pub(crate) fn set_idle_minutes(&self, minutes: u32) {
        if !self.idle_override {
            self.idle_limit.store(u64::from(minutes) * 60, Ordering::Relaxed);
        }
    }

    /// Applies the opened vault's auto-lock setting (absent or out of range: the default).
    pub(crate) fn apply_vault_settings(&self, v: &Vault) {
        self.set_idle_minutes(crate::setup::auto_lock_minutes(v));
    }

    /// Notes that the vault is in use now (e.g. right after it was created).
    pub(crate) fn touch_now(&self) {
        self.touch();
    }

    /// Notes that the vault is in use now.
    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// Notes a use when the vault is unlocked (a command the person gave; never a poll).
    pub(crate) fn touch_if_unlocked(&self) {
        if self.vault().is_some() {
            self.touch();
        }
    }

    pub(crate) fn is_unlocked(&self) -> bool {
        self.vault().is_some()
    }

    /// Locks the vault when it has not been used for the idle limit: the `Vault` is dropped,
    /// which closes it and forgets its key. Called every second by the shell's timer.
    pub fn lock_if_idle(&self) -> bool {
        if self.idle() < self.idle_limit() {
            return false;
        }
        let mut guard = self.vault();
        // Again under the vault's lock: an unlock (which holds it through the key derivation)
        // or a command may have used the vault while this waited for it. Without this second
        // look, an unlock that began after a long idle was undone the moment it finished.
        if self.idle() < self.idle_limit() {
            return false;
        }
        guard.take().is_some()
    }

    fn idle(&self) -> Duration {
        self.last_used.lock().unwrap_or_else(PoisonError::into_inner).elapsed()
    }

    /// A poisoned lock only means a command panicked; `Option<Vault>` is still consistent.
    pub(crate) fn vault(&self) -> MutexGuard<'_, Option<Vault>> {
        self.vault.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn status_with(&self, guard: &Option<Vault>) -> VaultStatus {
        VaultStatus {
            vault_path: self.dir.as_deref().map(|d| d.display().to_string()),
            exists: self.dir.as_deref().is_some_and(Vault::exists),
            unlocked: guard.is_some(),
            auto_lock_seconds: self.idle_limit().as_secs(),
        }
    }

    fn status(&self) -> VaultStatus {
        let guard = self.vault();
        self.status_with(&guard)
    }

    /// Opens the vault unless it is open already. The lock is held while opening, so two
    /// unlock requests can't race each other.
    fn unlock(&self, unlock: Unlock<'_>) -> Result<VaultStatus, IpcError> {
        let mut guard = self.vault();
        if guard.is_none() {
            let dir = self.existing_dir()?;
            let vault = Vault::open(dir, unlock).map_err(core_error)?;
            self.apply_vault_settings(&vault);
            *guard = Some(vault);
        }
        self.touch();
        Ok(self.status_with(&guard))
    }

    fn existing_dir(&self) -> Result<&Path, IpcError> {
        match self.dir.as_deref() {
            Some(d) if Vault::exists(d) => Ok(d),
            Some(_) => Err(IpcError::new(
                ErrorCode::NoVault,
                "There is no vault at the configured location yet. Create one on the first-run screen (or with techo init).",
            )),
            None => Err(IpcError::new(
                ErrorCode::NoVault,
                "Techo could not determine where to keep your vault. Set TECHO_VAULT to a folder and restart Techo.",
            )),
        }
    }
}

/// Maps a core error to the wire: its stable code and its `Display` (the core writes those as
/// plain sentences without health data or secrets), never `Debug`. Codes the UI does not know
/// (e.g. the core's `io`) travel as `internal` with the core's sentence.
pub(crate) fn core_error(e: techo_core::Error) -> IpcError {
    // Vitals errors carry their own detailed codes; on the wire they are `invalid_input`.
    let code = ErrorCode::from_code(e.general_code());
    if code == ErrorCode::Internal {
        eprintln!("techo-app: a command failed with core code `{}`", e.code());
    }
    IpcError::new(code, techo_ipc::as_sentence(&e.to_string()))
}

fn to_ipc_summary(p: techo_core::PersonSummary) -> PersonSummary {
    PersonSummary {
        id: p.id,
        display_name: p.display_name,
        relationship: p.relationship,
        shared_by: p.shared_by,
        resource_count: p.resource_count,
        by_type: p
            .by_type
            .into_iter()
            .map(|(resource_type, count)| TypeCount {
                resource_type,
                count,
            })
            .collect(),
    }
}

/// Runs `f` with the shell's state on the blocking thread pool.
pub(crate) async fn on_state<T, F>(app: AppHandle, f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(&VaultState) -> Result<T, IpcError> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<VaultState>()))
        .await
        .unwrap_or_else(|_| Err(IpcError::internal()))
}

/// Whether a vault exists at the configured path and whether it is unlocked.
#[tauri::command]
pub async fn vault_status(app: AppHandle) -> Result<VaultStatus, IpcError> {
    on_state(app, |s| Ok(s.status())).await
}

/// Unlocks with the key the OS keyring holds for this vault (`TECHO_KEYRING=none` turns the
/// keyring off, as for the CLI).
#[tauri::command]
pub async fn unlock_with_keyring(app: AppHandle) -> Result<VaultStatus, IpcError> {
    on_state(app, |s| {
        let keyring = keystore::from_env();
        s.unlock(Unlock::Keyring(keyring.as_ref()))
    })
    .await
}

/// Unlocks with the passphrase. It arrives straight into a `SecretString` (zeroized on drop,
/// redacted in `Debug`); parameter name = `techo_ipc::UnlockWithPassphraseArgs::passphrase`.
#[tauri::command]
pub async fn unlock_with_passphrase(
    app: AppHandle,
    passphrase: SecretString,
) -> Result<VaultStatus, IpcError> {
    techo_ipc::validate_passphrase(passphrase.expose_secret())?;
    on_state(app, move |s| s.unlock(Unlock::Passphrase(&passphrase))).await
}

/// Locks: drops the vault, which closes it and forgets its key.
#[tauri::command]
pub async fn lock(app: AppHandle) -> Result<VaultStatus, IpcError> {
    on_state(app, |s| {
        let mut guard = s.vault();
        let vault = guard.take();
        drop(vault);
        Ok(s.status_with(&guard))
    })
    .await
}

/// The persons of the unlocked vault with their resource counts, in total and by type.
#[tauri::command]
pub async fn person_summaries(app: AppHandle) -> Result<Vec<PersonSummary>, IpcError> {
    on_state(app, |s| {
        let guard = s.vault();
        let vault = guard.as_ref().ok_or_else(IpcError::locked)?;
        s.touch();
        summaries(vault)
    })
    .await
}

/// Runs `f` with the unlocked vault, mutably (a person's details, a home entry); a command is
/// activity (it postpones the auto-lock).
pub(crate) async fn with_vault_mut<T, F>(app: AppHandle, f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(&mut Vault) -> Result<T, IpcError> + Send + 'static,
{
    on_state(app, |s| {
        let mut guard = s.vault();
        let vault = guard.as_mut().ok_or_else(IpcError::locked)?;
        s.touch();
        f(vault)
    })
    .await
}

fn summaries(v: &Vault) -> Result<Vec<PersonSummary>, IpcError> {
    Ok(v.person_summaries().map_err(core_error)?.into_iter().map(to_ipc_summary).collect())
}

/// Adds a person (parameters = `techo_ipc::PersonFields`); answers the persons.
#[tauri::command(rename_all = "snake_case")]
pub async fn add_person(app: AppHandle, display_name: String, relationship: Option<String>) -> Result<Vec<PersonSummary>, IpcError> {
    techo_ipc::validate_person(&display_name, relationship.as_deref())?;
    with_vault_mut(app, move |v| {
        v.add_person(display_name.trim(), relationship.as_deref(), &[]).map_err(core_error)?;
        summaries(v)
    })
    .await
}

/// Renames a person or changes their relationship (parameters = `techo_ipc::RenamePersonArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn rename_person(
    app: AppHandle,
    person_id: i64,
    display_name: String,
    relationship: Option<String>,
) -> Result<Vec<PersonSummary>, IpcError> {
    techo_ipc::validate_person(&display_name, relationship.as_deref())?;
    with_vault_mut(app, move |v| {
        v.rename_person(person_id, display_name.trim(), relationship.as_deref()).map_err(core_error)?;
        summaries(v)
    })
    .await
}

fn to_row(r: techo_core::ResourceRow) -> RecordRow {
    RecordRow {
        record_id: r.record_id,
        resource_type: r.resource_type,
        display: r.display,
        clinical_date: r.clinical_date,
        status: r.status,
        source: r.source,
        version: r.version,
    }
}

/// Runs `f` with the unlocked vault, or answers "locked".
async fn with_vault<T, F>(app: AppHandle, f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(&Vault) -> Result<T, IpcError> + Send + 'static,
{
    on_state(app, |s| {
        let guard = s.vault();
        let vault = guard.as_ref().ok_or_else(IpcError::locked)?;
        s.touch();
        f(vault)
    })
    .await
}

/// The person is using the window (typing, clicking, scrolling): postpones the auto-lock.
/// Answers the status, so the window learns when the vault has locked itself.
#[tauri::command]
pub async fn keep_alive(app: AppHandle) -> Result<VaultStatus, IpcError> {
    on_state(app, |s| {
        let guard = s.vault();
        if guard.is_some() {
            s.touch();
        }
        Ok(s.status_with(&guard))
    })
    .await
}

/// The store's query for a person's filtered timeline (checks the filter; the last day is
/// included, so the store's exclusive bound is the day after it).
fn timeline_query(person_id: i64, filter: Option<&TimelineFilter>, after: Option<TimelineCursor>, limit: u32) -> Result<techo_core::TimelineQuery, IpcError> {
    techo_ipc::validate_limit(limit)?;
    let mut q = techo_core::TimelineQuery {
        person: person_id,
        limit: limit as usize,
        after: after.map(|c| techo_core::TimelineCursor { clinical_date: c.clinical_date, record_id: c.record_id }),
        ..Default::default()
    };
    if let Some(f) = filter {
        techo_ipc::validate_filter(f)?;
        if let Some(c) = f.category {
            q.types = c.types().iter().map(|t| (*t).to_owned()).collect();
            if let Some(code) = c.observation_category() {
                q.code = Some((techo_ipc::OBSERVATION_CATEGORY_SYSTEM.to_owned(), code.to_owned()));
            }
            if c.home_only() {
                q.source_kind = Some(techo_core::HOME_SOURCE_KIND.to_owned());
            }
        }
        q.source = f.source.clone();
        q.from = f.from.clone();
        q.to = match &f.to {
            Some(day) => Some(techo_ipc::next_day(day).ok_or_else(|| IpcError::invalid_input("The last day must be a date written YYYY-MM-DD."))?),
            None => None,
        };
    }
    Ok(q)
}

/// The cursor of the page after `rows` when the page was full.
fn next_cursor(n: usize, limit: u32, last: Option<(&Option<String>, i64)>) -> Option<TimelineCursor> {
    (n == limit as usize).then(|| last.map(|(d, id)| TimelineCursor { clinical_date: d.clone(), record_id: id })).flatten()
}

fn timeline_page(v: &Vault, q: &techo_core::TimelineQuery, limit: u32) -> Result<TimelinePage, IpcError> {
    v.person(q.person).map_err(core_error)?;
    let rows = v.timeline(q).map_err(core_error)?;
    let next = next_cursor(rows.len(), limit, rows.last().map(|r| (&r.clinical_date, r.record_id)));
    Ok(TimelinePage { rows: rows.into_iter().map(to_row).collect(), next })
}

/// One page of a person's timeline, filtered (parameters = `techo_ipc::TimelineArgs`).
// Parameter names as in techo-ipc (snake_case), not Tauri's default camelCase.
#[tauri::command(rename_all = "snake_case")]
pub async fn timeline(
    app: AppHandle,
    person_id: i64,
    after: Option<TimelineCursor>,
    limit: u32,
    filter: Option<TimelineFilter>,
) -> Result<TimelinePage, IpcError> {
    let q = timeline_query(person_id, filter.as_ref(), after, limit)?;
    with_vault(app, move |v| timeline_page(v, &q, limit)).await
}

/// Full-text search in one person's records (parameters = `techo_ipc::SearchArgs`).
// Parameter names as in techo-ipc (snake_case), not Tauri's default camelCase.
#[tauri::command(rename_all = "snake_case")]
pub async fn search(app: AppHandle, person_id: i64, text: String, limit: u32) -> Result<Vec<RecordRow>, IpcError> {
    techo_ipc::validate_limit(limit)?;
    techo_ipc::validate_search(&text)?;
    with_vault(app, move |v| {
        v.person(person_id).map_err(core_error)?;
        let rows = v
            .search(&techo_core::SearchQuery { person: Some(person_id), text, limit: limit as usize })
            .map_err(core_error)?;
        Ok(rows.into_iter().map(to_row).collect())
    })
    .await
}

/// A record's JSON pretty-printed for reading (the stored text when it does not parse).
fn pretty(json: String) -> String {
    serde_json::from_str::<serde_json::Value>(&json).ok().and_then(|j| serde_json::to_string_pretty(&j).ok()).unwrap_or(json)
}

fn record_view(v: &Vault, record_id: i64) -> Result<RecordView, IpcError> {
    let d = v.record(record_id).map_err(core_error)?;
    Ok(RecordView {
        row: to_row(d.row),
        json: pretty(d.resource),
        sources: d
            .provenance
            .into_iter()
            .map(|p| SourceEntry { source: p.source, kind: p.source_kind, version_id: p.version_id, received_at: p.received_at })
            .collect(),
        earlier_versions: d.versions.len() as u32,
        versions: d.versions.into_iter().map(|x| VersionEntry { version: x.version, source: x.source, superseded_at: x.superseded_at }).collect(),
    })
}

/// One record in full (parameters = `techo_ipc::RecordArgs`).
// Parameter names as in techo-ipc (snake_case), not Tauri's default camelCase.
#[tauri::command(rename_all = "snake_case")]
pub async fn record(app: AppHandle, record_id: i64) -> Result<RecordView, IpcError> {
    with_vault(app, move |v| record_view(v, record_id)).await
}

fn version_view(v: &Vault, record_id: i64, version: i64) -> Result<RecordVersionView, IpcError> {
    techo_ipc::validate_version(version)?;
    let json = v.record_version(record_id, version).map_err(core_error)?;
    Ok(RecordVersionView { record_id, version, json: pretty(json) })
}

/// One version of a record, as text (parameters = `techo_ipc::RecordVersionArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn record_version(app: AppHandle, record_id: i64, version: i64) -> Result<RecordVersionView, IpcError> {
    techo_ipc::validate_version(version)?;
    with_vault(app, move |v| version_view(v, record_id, version)).await
}

fn sources_page(v: &Vault, after_id: Option<i64>, limit: u32) -> Result<Vec<RecordSource>, IpcError> {
    techo_ipc::validate_limit(limit)?;
    Ok(v.sources()
        .map_err(core_error)?
        .into_iter()
        .filter(|s| after_id.is_none_or(|a| s.id > a))
        .take(limit as usize)
        .map(|s| RecordSource { id: s.id, name: s.name, kind: s.kind, records: s.records })
        .collect())
}

/// The vault's sources, by id, a page at a time (parameters = `techo_ipc::RecordSourcesArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn record_sources(app: AppHandle, after_id: Option<i64>, limit: u32) -> Result<Vec<RecordSource>, IpcError> {
    techo_ipc::validate_limit(limit)?;
    with_vault(app, move |v| sources_page(v, after_id, limit)).await
}

fn lab_tests_page(v: &Vault, person_id: i64, offset: u32, limit: u32) -> Result<LabTestsPage, IpcError> {
    techo_ipc::validate_limit(limit)?;
    let all = v.lab_tests(person_id).map_err(core_error)?;
    let total = all.len() as u32;
    let tests = all
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|t| LabTest { code: LabCode { system: t.system, code: t.code }, display: t.display, unit: t.unit, count: t.count, numeric: t.numeric })
        .collect();
    Ok(LabTestsPage { tests, total })
}

/// The tests among a person's lab results (parameters = `techo_ipc::LabTestsArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn lab_tests(app: AppHandle, person_id: i64, offset: u32, limit: u32) -> Result<LabTestsPage, IpcError> {
    techo_ipc::validate_limit(limit)?;
    with_vault(app, move |v| lab_tests_page(v, person_id, offset, limit)).await
}

fn lab_page(v: &Vault, a: &LabResultsArgs) -> Result<LabPage, IpcError> {
    techo_ipc::validate_lab_results(a)?;
    // The category is lab results whatever the filter says; source and days apply.
    let filter = a.filter.clone().map(|f| TimelineFilter { category: None, ..f });
    let mut q = timeline_query(a.person_id, filter.as_ref(), a.after.clone(), a.limit)?;
    q.code = a.test.as_ref().map(|t| (t.system.clone(), t.code.clone()));
    v.person(a.person_id).map_err(core_error)?;
    let rows = v.lab_results(&q).map_err(core_error)?;
    let next = next_cursor(rows.len(), a.limit, rows.last().map(|(r, _)| (&r.clinical_date, r.record_id)));
    let rows = rows
        .into_iter()
        .map(|(r, l)| LabRow {
            record_id: r.record_id,
            test: l.test.or(r.display).unwrap_or_else(|| r.resource_type.clone()),
            code: l.code.map(|(system, code)| LabCode { system, code }),
            value: l.value,
            value_text: l.value_text,
            unit: l.unit,
            low: l.low,
            high: l.high,
            range_text: l.range_text,
            flag: l.flag,
            clinical_date: r.clinical_date,
            source: r.source,
        })
        .collect();
    Ok(LabPage { rows, next })
}

/// A page of a person's lab results, of one test or all (parameters = `techo_ipc::LabResultsArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn lab_results(
    app: AppHandle,
    person_id: i64,
    test: Option<LabCode>,
    filter: Option<TimelineFilter>,
    after: Option<TimelineCursor>,
    limit: u32,
) -> Result<LabPage, IpcError> {
    let args = LabResultsArgs { person_id, test, filter, after, limit };
    techo_ipc::validate_lab_results(&args)?;
    with_vault(app, move |v| lab_page(v, &args)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vault with one person: two lab results (one updated once), a vital sign and a
    /// condition from "Sakura Hospital", a condition from "Kaede Clinic".
    fn record_vault() -> (tempfile::TempDir, Vault, i64) {
        use serde_json::json;
        let tmp = tempfile::tempdir().expect("temp dir");
        let (mut v, _) = Vault::create(&tmp.path().join("vault"), &SecretString::from("correct horse battery staple"), None).expect("vault");
        let lab = |id: &str, day: &str, value: f64| json!({"resourceType": "Observation", "id": id, "status": "final", "effectiveDateTime": day,
            "category": [{"coding": [{"system": techo_ipc::OBSERVATION_CATEGORY_SYSTEM, "code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}], "text": "HbA1c"},
            "valueQuantity": {"value": value, "unit": "%"}, "referenceRange": [{"low": {"value": 4.9}, "high": {"value": 6.0}}]});
        let vital = json!({"resourceType": "Observation", "id": "v1", "effectiveDateTime": "2024-03-02",
            "category": [{"coding": [{"system": techo_ipc::OBSERVATION_CATEGORY_SYSTEM, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "脈拍"}, "valueQuantity": {"value": 70}});
        let cond = |id: &str, text: &str| json!({"resourceType": "Condition", "id": id, "onsetDateTime": "2024-01-15", "code": {"text": text}});
        let patient = json!({"resourceType": "Patient", "id": "p", "identifier": [{"system": "urn:x", "value": "1"}]});
        let files = [
            ("Sakura Hospital", vec![patient.clone(), lab("l1", "2024-02-01", 5.5), lab("l2", "2024-03-01", 6.2), vital, cond("c1", "糖尿病")]),
            ("Sakura Hospital", vec![patient.clone(), lab("l1", "2024-02-01", 5.6)]),
            ("Kaede Clinic", vec![patient, cond("c2", "高血圧症")]),
        ];
        for (i, (source, resources)) in files.into_iter().enumerate() {
            let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": resources.into_iter().map(|r| json!({"resource": r})).collect::<Vec<_>>()});
            // The same file again is the same source: its changed resource is a new version.
            let file = tmp.path().join(format!("{}.json", if i < 2 { "sakura" } else { "kaede" }));
            std::fs::write(&file, bundle.to_string()).expect("write");
            v.import_file(&file, &techo_core::ImportOptions { person: None, source_name: Some(source.into()) }, &mut |_| {}).expect("import");
        }
        let person = v.persons().expect("persons")[0].id;
        (tmp, v, person)
    }

    fn filtered(v: &Vault, person: i64, f: TimelineFilter) -> Result<Vec<RecordRow>, IpcError> {
        let q = timeline_query(person, Some(&f), None, 50)?;
        Ok(timeline_page(v, &q, 50)?.rows)
    }

    #[test]
    fn the_timeline_filters_combine_and_are_checked() {
        let (_tmp, v, p) = record_vault();
        let labs = filtered(&v, p, TimelineFilter { category: Some(techo_ipc::RecordCategory::LabResults), ..Default::default() }).unwrap();
        assert_eq!(labs.len(), 2, "lab results only, not the vital sign");
        assert!(labs.iter().all(|r| r.resource_type == "Observation"));
        let conditions = TimelineFilter { category: Some(techo_ipc::RecordCategory::Conditions), ..Default::default() };
        assert_eq!(filtered(&v, p, conditions.clone()).unwrap().len(), 2);
        let kaede = TimelineFilter { source: Some("Kaede Clinic".into()), ..conditions.clone() };
        assert_eq!(filtered(&v, p, kaede).unwrap().iter().map(|r| r.display.clone().unwrap_or_default()).collect::<Vec<_>>(), ["高血圧症"]);
        // The last day is included.
        let march = TimelineFilter { from: Some("2024-03-01".into()), to: Some("2024-03-01".into()), ..Default::default() };
        assert_eq!(filtered(&v, p, march).unwrap().len(), 1);
        let home = TimelineFilter { category: Some(techo_ipc::RecordCategory::Home), ..Default::default() };
        assert!(filtered(&v, p, home).unwrap().is_empty());
        // Refused before the vault is asked.
        for bad in [
            TimelineFilter { from: Some("2024-13-01".into()), ..Default::default() },
            TimelineFilter { from: Some("2024-05-02".into()), to: Some("2024-05-01".into()), ..Default::default() },
            TimelineFilter { source: Some(String::new()), ..Default::default() },
        ] {
            assert_eq!(timeline_query(p, Some(&bad), None, 50).unwrap_err().code, ErrorCode::InvalidInput);
        }
        assert_eq!(timeline_query(p, None, None, techo_ipc::MAX_PAGE + 1).unwrap_err().code, ErrorCode::InvalidInput);
        assert_eq!(timeline_page(&v, &timeline_query(p + 100, None, None, 10).unwrap(), 10).unwrap_err().code, ErrorCode::NotFound);
    }

    #[test]
    fn a_records_versions_open_and_bad_versions_are_refused() {
        let (_tmp, v, p) = record_vault();
        let labs = filtered(&v, p, TimelineFilter { category: Some(techo_ipc::RecordCategory::LabResults), ..Default::default() }).unwrap();
        let updated = labs.iter().find(|r| r.version == 2).expect("the updated lab result");
        let view = record_view(&v, updated.record_id).unwrap();
        assert_eq!(view.versions.len(), 1);
        assert_eq!((view.versions[0].version, view.versions[0].source.as_str()), (1, "Sakura Hospital"));
        let first = version_view(&v, updated.record_id, 1).unwrap();
        assert!(first.json.contains("5.5") && !first.json.contains("5.6"), "version 1 is the first value");
        assert!(version_view(&v, updated.record_id, 2).unwrap().json.contains("5.6"));
        assert_eq!(version_view(&v, updated.record_id, 0).unwrap_err().code, ErrorCode::InvalidInput);
        assert_eq!(version_view(&v, updated.record_id, 9).unwrap_err().code, ErrorCode::NotFound);
        assert_eq!(version_view(&v, 999_999, 1).unwrap_err().code, ErrorCode::NotFound);
    }

    #[test]
    fn sources_and_lab_results_come_in_pages() {
        let (_tmp, v, p) = record_vault();
        let names: Vec<String> = sources_page(&v, None, 10).unwrap().into_iter().map(|s| s.name).collect();
        assert!(names.contains(&"Sakura Hospital".to_string()) && names.contains(&"Kaede Clinic".to_string()), "{names:?}");
        let first = sources_page(&v, None, 1).unwrap();
        assert_eq!(first.len(), 1);
        assert!(sources_page(&v, Some(first[0].id), 10).unwrap().iter().all(|s| s.id > first[0].id));
        assert_eq!(sources_page(&v, None, 0).unwrap_err().code, ErrorCode::InvalidInput);
        let tests = lab_tests_page(&v, p, 0, 10).unwrap();
        assert_eq!((tests.total, tests.tests[0].code.code.as_str(), tests.tests[0].numeric), (1, "4548-4", 2));
        let args = LabResultsArgs { person_id: p, test: Some(tests.tests[0].code.clone()), filter: None, after: None, limit: 1 };
        let page = lab_page(&v, &args).unwrap();
        assert_eq!((page.rows[0].value, page.rows[0].flag.as_deref(), page.rows[0].low, page.rows[0].high), (Some(6.2), Some("H"), Some(4.9), Some(6.0)));
        let page2 = lab_page(&v, &LabResultsArgs { after: page.next.clone(), ..args.clone() }).unwrap();
        assert_eq!(page2.rows[0].value, Some(5.6));
        assert_eq!(lab_page(&v, &LabResultsArgs { limit: 0, ..args.clone() }).unwrap_err().code, ErrorCode::InvalidInput);
        let bad = LabResultsArgs { test: Some(LabCode { system: String::new(), code: "x".into() }), ..args };
        assert_eq!(lab_page(&v, &bad).unwrap_err().code, ErrorCode::InvalidInput);
    }

    /// Regression: the idle timer read "idle for too long" just before an unlock began, then
    /// waited for the vault's lock while the unlock derived the key, and took the vault the
    /// moment the unlock finished (seen in the e2e test `an_unused_vault_locks_itself`: the
    /// second unlock after an auto-lock showed "The vault is locked").
    #[test]
    fn an_unlock_after_a_long_idle_is_not_undone_by_the_idle_timer() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("vault");
        let pass = SecretString::from("correct horse battery staple");
        drop(Vault::create(&dir, &pass, None).expect("a new vault"));
        let state = std::sync::Arc::new(VaultState {
            dir: Some(dir),
            vault: Mutex::new(None),
            last_used: Mutex::new(Instant::now() - Duration::from_secs(60)),
            idle_limit: AtomicU64::new(5),
            idle_override: true,
        });
        // The unlock holds the vault's lock through Argon2id (hundreds of milliseconds).
        let unlocking = {
            let state = state.clone();
            let pass = pass.clone();
            std::thread::spawn(move || state.unlock(Unlock::Passphrase(&pass)).map(|s| s.unlocked))
        };
        // Wait until the unlock holds the lock, then let the timer fire: it sees a stale
        // "last used" and queues behind the unlock.
        let deadline = Instant::now() + Duration::from_secs(10);
        while state.vault.try_lock().is_ok() {
            assert!(Instant::now() < deadline, "the unlock never took the vault's lock");
            std::thread::yield_now();
        }
        let locked = state.lock_if_idle();
        assert_eq!(unlocking.join().expect("unlock thread"), Ok(true));
        assert!(!locked, "the idle timer locked the vault that was just unlocked");
        assert!(state.is_unlocked());
        // Idle for real: the timer still locks.
        *state.last_used.lock().unwrap() = Instant::now() - Duration::from_secs(60);
        assert!(state.lock_if_idle());
        assert!(!state.is_unlocked());
    }
}
