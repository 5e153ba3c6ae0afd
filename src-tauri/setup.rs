//! First run, import and settings: creating the vault (a chosen passphrase or a generated
//! recovery key), importing files the person picks in a native dialog opened here (the window
//! never gets a path-picking capability), and the app's settings kept in the vault.
//!
//! Thin like the rest of the shell: the vault is made by `Vault::create`, files are read by
//! `Vault::import_file`, settings are `techo_core::Setting`s; the checks are techo-ipc's. Nothing
//! here logs a passphrase, a key or a file's content.

use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rand::RngCore;
use tauri::{AppHandle, Manager};
use techo_core::{keystore, ImportOptions, KeyringStatus, Setting, Vault};
use techo_ipc::{
    AppSettings, CreatedVault, ErrorCode, GeneratedKey, ImportFile, ImportOutcome, ImportStatus, IpcError, Language, Theme,
    DEFAULT_AUTO_LOCK_MINUTES, IMPORT_FILES_ENV, RECOVERY_KEY_BITS, RECOVERY_KEY_CHARS,
};

use crate::commands::{core_error, on_state, with_vault_mut, VaultState};

/// What this module keeps between commands: the recovery key shown but not yet used (only in
/// memory, zeroized on drop), and the import under way.
#[derive(Default)]
pub struct SetupState {
    pending_key: Mutex<Option<SecretString>>,
    import: Mutex<ImportStatus>,
}

impl SetupState {
    fn import(&self) -> MutexGuard<'_, ImportStatus> {
        self.import.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn pending_key(&self) -> MutexGuard<'_, Option<SecretString>> {
        self.pending_key.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The vault's auto-lock in minutes (absent or out of range: the default).
pub(crate) fn auto_lock_minutes(v: &Vault) -> u32 {
    v.setting_i64(Setting::AutoLockMinutes)
        .ok()
        .flatten()
        .and_then(|m| u32::try_from(m).ok())
        .filter(|m| techo_ipc::validate_auto_lock_minutes(*m).is_ok())
        .unwrap_or(DEFAULT_AUTO_LOCK_MINUTES)
}

fn already_exists() -> IpcError {
    IpcError::invalid_input("A vault already exists at this location: unlock it instead.")
}

/// The folder for a new vault: configured, and holding no vault yet.
fn new_vault_dir(s: &VaultState) -> Result<PathBuf, IpcError> {
    let dir = s.dir().ok_or_else(|| {
        IpcError::new(ErrorCode::NoVault, "Techo could not determine where to keep your vault. Set TECHO_VAULT to a folder and restart Techo.")
    })?;
    if Vault::exists(dir) {
        return Err(already_exists());
    }
    Ok(dir.to_owned())
}

/// A new recovery key: 30 base32 characters from the OS's random source (150 bits).
fn new_recovery_key() -> SecretString {
    let mut bytes = [0u8; RECOVERY_KEY_CHARS];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = techo_ipc::format_recovery_key(&bytes);
    bytes.fill(0);
    SecretString::from(key)
}

/// A new random recovery key, shown once: the shell keeps it in memory only until the vault is
/// created with it (or another is generated, or the app quits).
#[tauri::command]
pub async fn generate_recovery_key(app: AppHandle) -> Result<GeneratedKey, IpcError> {
    on_state(app.clone(), move |s| {
        new_vault_dir(s)?;
        let key = new_recovery_key();
        let shown = key.expose_secret().to_owned();
        *app.state::<SetupState>().pending_key() = Some(key);
        Ok(GeneratedKey { key: shown, bits: RECOVERY_KEY_BITS })
    })
    .await
}

/// Which secret a new vault is made with, checked.
fn choose_secret(
    pending: Option<&SecretString>,
    passphrase: Option<&SecretString>,
    repeat: Option<&SecretString>,
    key_confirmation: Option<&SecretString>,
) -> Result<SecretString, IpcError> {
    match passphrase {
        Some(p) => {
            let repeat = repeat.map(|r| r.expose_secret()).unwrap_or_default();
            techo_ipc::validate_new_passphrase(p.expose_secret(), repeat)?;
            Ok(p.clone())
        }
        None => {
            let key = pending.ok_or_else(|| IpcError::invalid_input("Generate a recovery key first, or choose a passphrase."))?;
            let typed = key_confirmation.map(|c| c.expose_secret()).unwrap_or_default();
            if !techo_ipc::recovery_key_confirms(key.expose_secret(), typed) {
                return Err(IpcError::invalid_input(
                    "That does not match your recovery key: type it again (all of it, or its last two groups) as you wrote it down.",
                ));
            }
            Ok(key.clone())
        }
    }
}

/// Creates the vault at the configured location with a chosen passphrase (typed twice) or the
/// generated recovery key (confirmed), and keeps it unlocked. The OS keyring gets a key of its
/// own when it works (`TECHO_KEYRING=none` turns it off), as `techo init` does.
#[tauri::command(rename_all = "snake_case")]
pub async fn create_vault(
    app: AppHandle,
    passphrase: Option<SecretString>,
    repeat: Option<SecretString>,
    key_confirmation: Option<SecretString>,
) -> Result<CreatedVault, IpcError> {
    if let Some(p) = &passphrase {
        techo_ipc::validate_passphrase(p.expose_secret())?;
    }
    let setup = app.clone();
    on_state(app, move |s| {
        let setup = setup.state::<SetupState>();
        let mut pending = setup.pending_key();
        let secret = choose_secret(pending.as_ref(), passphrase.as_ref(), repeat.as_ref(), key_confirmation.as_ref())?;
        let mut guard = s.vault();
        if guard.is_some() {
            return Err(already_exists());
        }
        let dir = new_vault_dir(s)?;
        let keyring = keystore::from_env();
        let (vault, status) = Vault::create(&dir, &secret, Some(keyring.as_ref())).map_err(create_error)?;
        drop(secret);
        // The key now lives only as the wrap in keys.json (and in the person's hands).
        *pending = None;
        s.apply_vault_settings(&vault);
        *guard = Some(vault);
        s.touch_now();
        let (keyring, keyring_note) = match status {
            KeyringStatus::Stored => (true, None),
            KeyringStatus::Unavailable(why) => (false, Some(techo_ipc::as_sentence(&format!("the OS keyring could not be used: {why}")))),
        };
        Ok(CreatedVault { status: s.status_with(&guard), keyring, keyring_note })
    })
    .await
}

/// `vault_exists` has no IPC code of its own: it reads as invalid input.
fn create_error(e: techo_core::Error) -> IpcError {
    if e.code() == "vault_exists" {
        return already_exists();
    }
    core_error(e)
}

// ---------------------------------------------------------------------------------------------
// Import

/// The files to import: `TECHO_IMPORT_FILES` when set (tests, scripts), else a native dialog.
/// `None`: the person closed the dialog.
fn pick_files() -> Option<Vec<PathBuf>> {
    if let Some(v) = std::env::var_os(IMPORT_FILES_ENV).filter(|v| !v.is_empty()) {
        let sep = if cfg!(windows) { ';' } else { ':' };
        return Some(techo_ipc::split_import_files(&v.to_string_lossy(), sep).into_iter().map(PathBuf::from).collect());
    }
    rfd::FileDialog::new()
        .set_title("Import records into Techo")
        .add_filter("FHIR (JSON, NDJSON)", &["json", "ndjson", "jsonl"])
        .add_filter("All files", &["*"])
        .pick_files()
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Starts an import (parameters = `techo_ipc::StartImportArgs`): the shell opens the file
/// dialog and imports the chosen files one by one on a thread of its own; the window polls
/// `import_status`. Answers the status at once.
#[tauri::command(rename_all = "snake_case")]
pub async fn start_import(app: AppHandle, person_id: Option<i64>) -> Result<ImportStatus, IpcError> {
    // The person must exist (and the vault be unlocked).
    with_vault_mut(app.clone(), move |v| match person_id {
        Some(id) => v.person(id).map(|_| ()).map_err(core_error),
        None => Ok(()),
    })
    .await?;
    let state = app.state::<SetupState>();
    {
        let mut st = state.import();
        if st.choosing || st.running {
            return Ok(st.clone());
        }
        *st = ImportStatus { choosing: true, ..Default::default() };
    }
    let worker = app.clone();
    std::thread::spawn(move || run_import(&worker, person_id));
    let status = state.import().clone();
    Ok(status)
}

/// The import under way or the last one. A poll: never postpones the auto-lock.
#[tauri::command]
pub async fn import_status(app: AppHandle) -> Result<ImportStatus, IpcError> {
    Ok(app.state::<SetupState>().import().clone())
}

fn run_import(app: &AppHandle, person: Option<i64>) {
    let setup = app.state::<SetupState>();
    let vs = app.state::<VaultState>();
    let Some(paths) = pick_files().filter(|p| !p.is_empty()) else {
        let mut st = setup.import();
        st.choosing = false;
        st.cancelled = true;
        return;
    };
    let sizes: Vec<u64> = paths.iter().map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).collect();
    {
        let mut st = setup.import();
        st.choosing = false;
        st.running = true;
        st.total_bytes = sizes.iter().sum();
        st.files = paths.iter().map(|p| ImportFile { name: file_name(p), outcome: ImportOutcome::Waiting }).collect();
    }
    let opts = ImportOptions { person, source_name: None };
    let mut done_bytes = 0u64;
    for (i, path) in paths.iter().enumerate() {
        setup.import().files[i].outcome = ImportOutcome::Reading;
        // One file is one transaction: the vault is held for its length, so a Lock waits for
        // the file to finish (or roll back) and the next files are not read.
        let outcome = {
            let mut guard = vs.vault();
            match guard.as_mut() {
                None => ImportOutcome::Stopped,
                Some(v) => {
                    let mut progress = |p: &techo_core::ImportProgress| {
                        setup.import().bytes_read = done_bytes + p.bytes_read.min(sizes[i]);
                    };
                    match v.import_file(path, &opts, &mut progress) {
                        Ok(r) => ImportOutcome::Done {
                            person_id: r.person_id,
                            resources: r.resources,
                            new: r.new,
                            updated: r.updated,
                            unchanged: r.unchanged,
                            merged: r.merged,
                            skipped: r.skipped,
                        },
                        Err(e) => ImportOutcome::Failed { message: techo_ipc::as_sentence(&e.to_string()) },
                    }
                }
            }
        };
        // Importing is using the vault: it postpones the auto-lock.
        vs.touch_if_unlocked();
        done_bytes += sizes[i];
        let mut st = setup.import();
        st.bytes_read = done_bytes;
        st.files[i].outcome = outcome;
    }
    setup.import().running = false;
}

// ---------------------------------------------------------------------------------------------
// Settings

fn read_settings(s: &VaultState, v: &Vault) -> Result<AppSettings, IpcError> {
    Ok(AppSettings {
        auto_lock_minutes: auto_lock_minutes(v),
        theme: Theme::parse(&v.setting(Setting::Theme).map_err(core_error)?.unwrap_or_default()),
        language: Language::parse(&v.setting(Setting::Language).map_err(core_error)?.unwrap_or_default()),
        auto_lock_override_seconds: s.idle_override(),
    })
}

/// The app's settings stored in the vault.
#[tauri::command]
pub async fn app_settings(app: AppHandle) -> Result<AppSettings, IpcError> {
    on_state(app, |s| {
        let guard = s.vault();
        let v = guard.as_ref().ok_or_else(IpcError::locked)?;
        read_settings(s, v)
    })
    .await
}

/// Stores the settings (parameters = `techo_ipc::SetAppSettingsArgs`) and applies the
/// auto-lock at once.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_app_settings(app: AppHandle, auto_lock_minutes: u32, theme: Theme, language: Language) -> Result<AppSettings, IpcError> {
    techo_ipc::validate_auto_lock_minutes(auto_lock_minutes)?;
    on_state(app, move |s| {
        let mut guard = s.vault();
        let v = guard.as_mut().ok_or_else(IpcError::locked)?;
        s.touch_now();
        v.set_setting(Setting::AutoLockMinutes, Some(&auto_lock_minutes.to_string())).map_err(core_error)?;
        v.set_setting(Setting::Theme, Some(theme.as_str())).map_err(core_error)?;
        v.set_setting(Setting::Language, Some(language.as_str())).map_err(core_error)?;
        s.set_idle_minutes(auto_lock_minutes);
        read_settings(s, v)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_random_well_formed_and_strong() {
        let a = new_recovery_key();
        let b = new_recovery_key();
        assert!(techo_ipc::is_recovery_key(a.expose_secret()));
        assert_eq!(techo_ipc::canonical_recovery_key(a.expose_secret()).as_deref(), Some(a.expose_secret()));
        assert_ne!(a.expose_secret(), b.expose_secret());
        // The core accepts it as a recovery passphrase.
        assert!(techo_ipc::check_new_passphrase(a.expose_secret()).is_ok());
        assert!(!format!("{a:?}").contains(a.expose_secret()), "redacted Debug");
    }

    #[test]
    fn the_secret_of_a_new_vault_is_chosen_and_checked() {
        let s = |x: &str| SecretString::from(x.to_owned());
        let key = new_recovery_key();
        let last_two: String = key.expose_secret()[24..].to_owned();
        // A generated key, confirmed by its last two groups or all of it.
        let got = choose_secret(Some(&key), None, None, Some(&s(&last_two))).expect("confirmed");
        assert_eq!(got.expose_secret(), key.expose_secret());
        assert!(choose_secret(Some(&key), None, None, Some(&s(&key.expose_secret().to_lowercase()))).is_ok());
        let wrong = choose_secret(Some(&key), None, None, Some(&s("AAAAA-AAAAA"))).unwrap_err();
        assert_eq!(wrong.code, ErrorCode::InvalidInput);
        assert!(choose_secret(Some(&key), None, None, None).is_err());
        assert!(choose_secret(None, None, None, Some(&s(&last_two))).is_err(), "no key was generated");
        // A chosen passphrase, typed twice.
        let p = s("tulip harbour 47 quietly");
        assert!(choose_secret(None, Some(&p), Some(&p), None).is_ok());
        assert!(choose_secret(None, Some(&p), Some(&s("tulip harbour 47 quietlY")), None).is_err());
        assert!(choose_secret(None, Some(&p), None, None).is_err());
        assert!(choose_secret(None, Some(&s("password")), Some(&s("password")), None).is_err());
    }

    #[test]
    fn a_vault_made_with_the_key_opens_with_it_and_keeps_its_settings() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("vault");
        let key = new_recovery_key();
        let (mut v, status) = Vault::create(&dir, &key, None).expect("a new vault");
        assert!(matches!(status, KeyringStatus::Unavailable(_)));
        assert_eq!(auto_lock_minutes(&v), DEFAULT_AUTO_LOCK_MINUTES);
        v.set_setting(Setting::AutoLockMinutes, Some("5")).unwrap();
        assert_eq!(auto_lock_minutes(&v), 5);
        v.set_setting(Setting::AutoLockMinutes, Some("500")).unwrap();
        assert_eq!(auto_lock_minutes(&v), DEFAULT_AUTO_LOCK_MINUTES, "out of range reads as the default");
        drop(v);
        let typed = SecretString::from(key.expose_secret().to_owned());
        assert!(Vault::open(&dir, techo_core::Unlock::Passphrase(&typed)).is_ok());
        let Err(exists) = Vault::create(&dir, &key, None) else { panic!("a second vault over the first") };
        assert_eq!(create_error(exists).code, ErrorCode::InvalidInput);
    }

    #[test]
    fn file_names_not_folders_are_shown() {
        assert_eq!(file_name(Path::new("/home/a/records/export.ndjson")), "export.ndjson");
    }
}
