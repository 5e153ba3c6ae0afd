//! Techo's IPC commands. Each one is listed in `techo_ipc::COMMAND_NAMES` (the build script
//! checks that the capability allows exactly those) and its parameters are the fields of the
//! command's `techo_ipc::Command::Args`.
//!
//! The vault work (key derivation, SQLCipher) blocks, so every command runs on Tauri's blocking
//! thread pool, never on the main (UI) thread.

use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tauri::{AppHandle, Manager};
use techo_core::{keystore, Unlock, Vault};
use techo_ipc::{
    ErrorCode, IpcError, PersonSummary, RecordRow, RecordView, SourceEntry, TimelineCursor, TimelinePage, TypeCount,
    VaultStatus,
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
    idle_limit: Duration,
}

impl VaultState {
    /// The vault folder comes from `TECHO_VAULT`, else the platform default.
    pub fn from_env() -> Self {
        let dir = std::env::var_os(VAULT_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(techo_core::default_vault_dir);
        let idle_limit = std::env::var(AUTOLOCK_ENV)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map_or(DEFAULT_AUTOLOCK, Duration::from_secs);
        VaultState {
            dir,
            vault: Mutex::new(None),
            last_used: Mutex::new(Instant::now()),
            idle_limit,
        }
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
        if self.idle() < self.idle_limit {
            return false;
        }
        let mut guard = self.vault();
        // Again under the vault's lock: an unlock (which holds it through the key derivation)
        // or a command may have used the vault while this waited for it. Without this second
        // look, an unlock that began after a long idle was undone the moment it finished.
        if self.idle() < self.idle_limit {
            return false;
        }
        guard.take().is_some()
    }

    fn idle(&self) -> Duration {
        self.last_used.lock().unwrap_or_else(PoisonError::into_inner).elapsed()
    }

    /// A poisoned lock only means a command panicked; `Option<Vault>` is still consistent.
    fn vault(&self) -> MutexGuard<'_, Option<Vault>> {
        self.vault.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn status_with(&self, guard: &Option<Vault>) -> VaultStatus {
        VaultStatus {
            vault_path: self.dir.as_deref().map(|d| d.display().to_string()),
            exists: self.dir.as_deref().is_some_and(Vault::exists),
            unlocked: guard.is_some(),
            auto_lock_seconds: self.idle_limit.as_secs(),
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
            *guard = Some(Vault::open(dir, unlock).map_err(core_error)?);
        }
        self.touch();
        Ok(self.status_with(&guard))
    }

    fn existing_dir(&self) -> Result<&Path, IpcError> {
        match self.dir.as_deref() {
            Some(d) if Vault::exists(d) => Ok(d),
            Some(_) => Err(IpcError::new(
                ErrorCode::NoVault,
                "There is no vault at the configured location. Create one with the techo command-line tool first.",
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
async fn on_state<T, F>(app: AppHandle, f: F) -> Result<T, IpcError>
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

/// One page of a person's timeline (parameters = `techo_ipc::TimelineArgs`).
// Parameter names as in techo-ipc (snake_case), not Tauri's default camelCase.
#[tauri::command(rename_all = "snake_case")]
pub async fn timeline(
    app: AppHandle,
    person_id: i64,
    after: Option<TimelineCursor>,
    limit: u32,
) -> Result<TimelinePage, IpcError> {
    techo_ipc::validate_limit(limit)?;
    with_vault(app, move |v| {
        v.person(person_id).map_err(core_error)?;
        let rows = v
            .timeline(&techo_core::TimelineQuery {
                person: person_id,
                limit: limit as usize,
                after: after.map(|c| techo_core::TimelineCursor { clinical_date: c.clinical_date, record_id: c.record_id }),
                ..Default::default()
            })
            .map_err(core_error)?;
        let next = (rows.len() == limit as usize)
            .then(|| rows.last().map(|r| TimelineCursor { clinical_date: r.clinical_date.clone(), record_id: r.record_id }))
            .flatten();
        Ok(TimelinePage { rows: rows.into_iter().map(to_row).collect(), next })
    })
    .await
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

/// One record in full (parameters = `techo_ipc::RecordArgs`).
// Parameter names as in techo-ipc (snake_case), not Tauri's default camelCase.
#[tauri::command(rename_all = "snake_case")]
pub async fn record(app: AppHandle, record_id: i64) -> Result<RecordView, IpcError> {
    with_vault(app, move |v| {
        let d = v.record(record_id).map_err(core_error)?;
        let json = serde_json::from_str::<serde_json::Value>(&d.resource)
            .ok()
            .and_then(|j| serde_json::to_string_pretty(&j).ok())
            .unwrap_or(d.resource);
        Ok(RecordView {
            row: to_row(d.row),
            json,
            sources: d
                .provenance
                .into_iter()
                .map(|p| SourceEntry { source: p.source, kind: p.source_kind, version_id: p.version_id, received_at: p.received_at })
                .collect(),
            earlier_versions: d.versions.len() as u32,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

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
            idle_limit: Duration::from_secs(5),
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
