//! Techo's core: the encrypted vault, the cross-facility FHIR record, import and export.
//!
//! Invariants (checked by `tests/it/architecture.rs` over `cargo metadata`): no dependency on
//! tauri, yew, reqwest or any HTTP stack; no printing (callers decide what a person sees);
//! errors never carry health data, passphrases or keys.

mod error;
mod export;
mod import;
mod keys;
pub mod keystore;
mod platform;
mod schema;
mod secret;
mod store;
mod vault;

#[cfg(test)]
mod tests;

pub use error::{Error, Result};
pub use export::ExportFormat;
pub use import::{ImportOptions, ImportProgress, ImportReport};
pub use keys::KdfParams;
pub use keystore::{KeyStore, MemoryKeyring, NoKeyring, OsKeyring};
pub use platform::default_vault_dir;
pub use secret::Key32;
pub use store::{
    Person, PersonSummary, ProvenanceEntry, RecordDetail, ResourceRow, SearchQuery, SourceInfo, Stats,
    TimelineCursor, TimelineQuery, VersionInfo,
};
pub use vault::{KeyringStatus, Unlock, Vault, DB_FILE};

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    schema::latest()
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
