//! Techo desktop app: the Tauri v2 shell.
//!
//! A thin IPC layer over `techo-core`: the commands in `commands.rs` check their input, call the
//! core, and turn its errors into `techo_ipc::IpcError`. No business logic lives here.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod consent;
mod setup;
mod share;
mod sources;
mod vitals;

use tauri::Manager;

fn main() {
    let state = commands::VaultState::from_env();
    let result = tauri::Builder::default()
        .manage(state)
        .manage(sources::SyncState::default())
        .manage(setup::SetupState::default())
        .manage(share::ViewerState::default())
        // Once a second: lock a vault left unused for the idle limit, then run the sync
        // schedule (a locked vault is never synced).
        .setup(|app| {
            let handle = app.handle().clone();
            std::thread::spawn(move || loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                handle.state::<commands::VaultState>().lock_if_idle();
                sources::tick(&handle);
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::vault_status,
            commands::unlock_with_keyring,
            commands::unlock_with_passphrase,
            commands::lock,
            commands::person_summaries,
            commands::timeline,
            commands::search,
            commands::record,
            commands::record_version,
            commands::record_sources,
            commands::lab_tests,
            commands::lab_results,
            commands::keep_alive,
            commands::add_person,
            commands::rename_person,
            sources::endpoints,
            sources::add_demo_hospital,
            sources::add_endpoint,
            sources::begin_sign_in,
            sources::sign_out,
            sources::sync_now,
            sources::sync_status,
            sources::set_sync_interval,
            vitals::vital_kinds,
            vitals::add_vital,
            vitals::vitals,
            vitals::add_diary,
            vitals::diaries,
            vitals::diary_options,
            vitals::bp_handbook,
            vitals::set_bp_target,
            vitals::delete_entry,
            consent::consent_get,
            consent::consent_change,
            consent::audit_list,
            consent::audit_verify,
            consent::research_status,
            setup::generate_recovery_key,
            setup::create_vault,
            setup::start_import,
            setup::import_status,
            setup::app_settings,
            setup::set_app_settings,
            share::share_create,
            share::share_summary,
            share::package_open,
            share::package_summary,
            share::package_rows,
            share::package_resource,
            share::package_close,
            share::package_keep,
        ])
        .run(tauri::generate_context!("tauri.conf.json"));
    if let Err(e) = result {
        eprintln!("techo-app: the window could not be started: {e}");
        std::process::exit(1);
    }
}
