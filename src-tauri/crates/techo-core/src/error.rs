//! The core's one error type. Every message is a plain sentence that says what happened and
//! what to do; none contains health data, passphrases or keys.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the passphrase is not right for this vault; nothing was changed — try again")]
    WrongPassphrase,
    #[error("there is no Techo vault at {0}; create one with `techo init`")]
    NoVault(PathBuf),
    #[error("{path} is not a Techo vault ({reason}); choose the folder `techo init` created")]
    NotAVault { path: PathBuf, reason: String },
    #[error("{0} is an unencrypted SQLite database; Techo never opens, changes or overwrites it — move it away or choose another vault path")]
    PlaintextDatabase(PathBuf),
    #[error("the vault is damaged or was changed outside Techo ({0}); restore it from a backup")]
    Corrupt(String),
    #[error("this vault was written by a newer Techo (schema {found}; this Techo knows up to {supported}); update Techo to open it")]
    NewerVersion { found: i64, supported: i64 },
    #[error("the vault is locked; unlock it first")]
    Locked,
    #[error("{0} already holds a vault or other files; choose an empty or new folder")]
    VaultExists(PathBuf),
    #[error("no OS keyring is available here ({0}); unlock with your recovery passphrase")]
    KeyringUnavailable(String),
    #[error("the OS keyring holds no key for this vault; unlock with your recovery passphrase")]
    KeyringNoKey,
    #[error("cannot import {file}: {reason}; nothing from this file was stored")]
    Import { file: String, reason: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0} was not found")]
    NotFound(String),
    #[error("could not read or write {path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },
    #[error("internal database error ({0}); please report it")]
    Database(String),
    /// A home reading or diary entry was refused (impossible value, wrong unit, future time,
    /// empty diary…). The message names the field and the allowed range, never the value.
    #[error("{0}")]
    Vitals(#[from] techo_vitals::VitalsError),
    /// A CSV file of readings was refused as a whole: every row error, in file order.
    #[error("{}", csv_message(.0))]
    VitalsCsv(Vec<techo_vitals::RowError>),
    /// The same reading or diary entry (same kind, time and values) is already stored.
    #[error("the same entry is already stored as record {0}; nothing was added (to change it, use edit)")]
    DuplicateEntry(i64),
    /// A consent change was refused (an unknown exception or grant, a period that ends before
    /// it starts…); nothing was changed.
    #[error("{0}; the consent was not changed")]
    Consent(#[from] techo_consent::ConsentError),
    /// The research profile or a pseudonymisation rule failed.
    #[error("nothing to share: {0}; no package was made")]
    NothingToShare(String),
    #[error("{0}; no research copy was made")]
    Pseudonymise(#[from] techo_pseudo::PseudoError),
}

fn csv_message(errors: &[techo_vitals::RowError]) -> String {
    let first = errors.first().map_or_else(String::new, |e| e.to_string());
    match errors.len() {
        0 | 1 => format!("the CSV file was not imported ({first}); nothing was stored — fix it and import it again"),
        n => format!(
            "the CSV file was not imported: {n} problems, the first: {first}; nothing was stored — fix them and import it again"
        ),
    }
}

impl Error {
    /// A stable, machine-readable code (CLI exit codes and IPC errors are derived from it).
    pub fn code(&self) -> &'static str {
        match self {
            Error::WrongPassphrase => "wrong_passphrase",
            Error::NoVault(_) => "no_vault",
            Error::NotAVault { .. } => "not_a_vault",
            Error::PlaintextDatabase(_) => "plaintext_database",
            Error::Corrupt(_) => "corrupt",
            Error::NewerVersion { .. } => "newer_version",
            Error::Locked => "locked",
            Error::VaultExists(_) => "vault_exists",
            Error::KeyringUnavailable(_) | Error::KeyringNoKey => "keyring_unavailable",
            Error::Import { .. } | Error::InvalidInput(_) => "invalid_input",
            Error::NotFound(_) => "not_found",
            Error::Io { .. } => "io",
            Error::Database(_) => "internal",
            Error::Vitals(e) => e.code(),
            Error::VitalsCsv(_) => "invalid_csv",
            Error::DuplicateEntry(_) => "duplicate_entry",
            Error::Consent(e) => e.code(),
            Error::Pseudonymise(e) => e.code(),
            Error::NothingToShare(_) => "nothing_to_share",
        }
    }

    /// The broad class of [`Error::code`]: the same code, except that the detailed codes of
    /// refused home entries (`impossible_value`, `future_time`, `invalid_csv`,
    /// `duplicate_entry`…) are all `invalid_input`. CLI exit codes and IPC codes map on this.
    pub fn general_code(&self) -> &'static str {
        match self {
            Error::Vitals(_) | Error::VitalsCsv(_) | Error::DuplicateEntry(_) | Error::Consent(_) | Error::NothingToShare(_) => "invalid_input",
            Error::Pseudonymise(_) => "internal",
            other => other.code(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
                Error::Corrupt("an encrypted page failed its integrity check".into())
            }
            // rusqlite's Display for SQL errors names the SQL problem, never bound values.
            _ => Error::Database(e.to_string()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
