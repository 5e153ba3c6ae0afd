//! Techo's UI: a Yew app built to wasm32 and embedded by the Tauri shell.
//!
//! It talks to the shell only through the typed commands of `techo-ipc` (see `ipc.rs`).
//! The browser-only parts compile for wasm32 only, so that a native `cargo build/test` of the
//! workspace stays cheap; the pure view helpers in `view.rs`, `sources_view.rs`,
//! `vitals_view.rs`, `consent_view.rs` and `narrative.rs` are unit-tested natively.

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod consent;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod consent_view;
#[cfg(target_arch = "wasm32")]
mod first_run;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod i18n;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod i18n_errors;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod i18n_record;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod i18n_sources;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod i18n_vitals;
#[cfg(target_arch = "wasm32")]
mod import;
#[cfg(target_arch = "wasm32")]
mod ipc;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod labs;
#[cfg(target_arch = "wasm32")]
mod labs_screen;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod narrative;
#[cfg(target_arch = "wasm32")]
mod persons;
#[cfg(target_arch = "wasm32")]
mod record;
#[cfg(target_arch = "wasm32")]
mod settings;
#[cfg(target_arch = "wasm32")]
mod share;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod share_view;
#[cfg(target_arch = "wasm32")]
mod sources;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod sources_view;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod view;
#[cfg(target_arch = "wasm32")]
mod vitals;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm32 app only
mod vitals_view;

fn main() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<app::App>::new().render();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("techo-ui runs in the Techo app's window: build it with scripts/build-ui.sh");
}
