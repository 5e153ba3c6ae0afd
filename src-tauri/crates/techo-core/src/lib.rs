//! Techo's core: the encrypted vault, the cross-facility FHIR record, import and export.
//!
//! Invariants (checked by `tests/it/architecture.rs` over `cargo metadata`): no dependency on
//! tauri, yew, reqwest or any HTTP stack; no printing (callers decide what a person sees);
//! errors never carry health data, passphrases or keys. Home vitals and diaries (`vitals.rs`)
//! are stored through the same import as hospital data, as the vault's `home` source.

mod audit;
mod consent;
mod disclosure;
mod endpoints;
mod error;
mod export;
mod import;
mod keys;
mod labs;
pub mod keystore;
mod platform;
mod research;
mod schema;
mod secret;
mod settings;
mod share;
mod store;
mod vault;
mod vitals;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod audit_tests;

pub use audit::{AuditEntry, AuditInput, AuditKind, AuditVerification, AUDIT_SUBTYPE_SYSTEM};
pub use consent::{ConsentChanged, ConsentVersion};
pub use disclosure::{Disclosure, DisclosureReport, Exit, Scope};
pub use research::{ResearchFailure, ResearchItem, ResearchRun, ResearchSent, ResearchStatus, DEFAULT_RESEARCH_DELAY_DAYS};
/// The IO-free consent model and policy engine the vault's gate asks.
pub use techo_consent;
/// The IO-free pseudonymisation the research copies use.
pub use techo_pseudo;
pub use techo_share;
pub use techo_fhir;
pub use import::patient_name as patient_display_name;
pub use endpoints::{
    normalize_base_url, ClientKey, Endpoint, EndpointAuth, EndpointStatus, EndpointTokens, NewEndpoint, SyncCursor, SyncRun, ENDPOINT_SOURCE_KIND,
};
pub use error::{Error, Result};
pub use export::ExportFormat;
pub use import::{ImportOptions, ImportProgress, ImportReport, PreparedPage};
pub use keys::KdfParams;
pub use labs::{lab_value, LabTest, LabValue, OBSERVATION_CATEGORY};
pub use keystore::{KeyStore, MemoryKeyring, NoKeyring, OsKeyring};
pub use platform::{default_vault_dir, write_file_atomically};
pub use secret::Key32;
pub use settings::Setting;
pub use share::{is_sources_provenance, PackageImport, ShareDoc, SharedRecord, PERSON_URN, SHARE_TAG_SYSTEM, SOURCES_TAG_CODE, WITHHELD_TAG_CODE};
pub use store::{
    Person, PersonSummary, ProvenanceEntry, RecordDetail, ResourceRow, SearchQuery, SourceInfo, Stats,
    TimelineCursor, TimelineQuery, VersionInfo,
};
pub use vault::{KeyringStatus, Unlock, Vault, CACHE_SIZE, DB_FILE};
/// The page size of new vaults (SQLCipher's `cipher_page_size`).
pub use keys::PAGE_SIZE;
pub use vitals::{
    AddOutcome, CsvWarning, DiaryRecord, EntryStatus, VitalEntry, VitalsCsvOptions, VitalsCsvReport, VitalsQuery, HOME_SOURCE_KIND,
    HOME_SOURCE_NAME, HOME_SOURCE_URI,
};
/// The IO-free home-vitals crate the vault's vitals API speaks (readings, diaries, CSV, units).
pub use techo_vitals;

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    schema::latest()
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A 64-bit look-up key: the first 8 bytes of SHA-256 over the parts (NUL-separated). Random
/// keys (a source's resource ids, identifiers, codes) are indexed through these, so the indexes
/// stay small; the full values are always compared as well.
/// Stored resources are LZ4-compressed JSON text (the uncompressed size first): FHIR JSON
/// shrinks by about a third even one resource at a time, which cuts what an import writes
/// (twice: to the WAL, then to the database) and the vault's size, at a cost far below a JSON
/// parse either way (zstd packed a little smaller but took a quarter of a big import's time).
pub(crate) fn pack(text: &str) -> Vec<u8> {
    lz4_flex::block::compress_prepend_size(text.as_bytes())
}

/// The JSON text of a stored resource.
pub(crate) fn unpack(blob: &[u8]) -> Result<String> {
    let bad = || Error::Corrupt("a stored resource could not be decompressed".into());
    let size = blob.get(..4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))).ok_or_else(bad)?;
    if size > 64 * 1024 * 1024 {
        return Err(bad());
    }
    let bytes = lz4_flex::block::decompress_size_prepended(blob).map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}

pub(crate) fn key64(parts: &[&str]) -> i64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Format stability: 64-bit look-up keys are stored in every vault (provenance, codes,
/// identifiers, content keys) and recomputed for every later import; a change would make
/// existing records unfindable. Pinned values, computed once.
#[cfg(test)]
mod key_stability {
    #[test]
    fn stored_lookup_keys_never_change() {
        assert_eq!(super::key64(&["Observation", "https://h.example/fhir|Observation/o1"]), KEYS[0]);
        assert_eq!(super::key64(&["8480-6"]), KEYS[1]);
        assert_eq!(super::key64(&["Patient", "urn:oid:1.2.392.100495.20.3.51.1", "00012345"]), KEYS[2]);
        assert_eq!(super::key64(&["高血圧症"]), KEYS[3]);
    }

    // (also computed independently: SHA-256 over the parts, each followed by a NUL byte; the
    // first 8 bytes, big-endian, signed)
    const KEYS: [i64; 4] = [963939078184867540, -6369013381536395415, 7706808346118722144, 8494972006060625564];
}
