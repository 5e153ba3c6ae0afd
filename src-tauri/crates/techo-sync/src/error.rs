//! Sync errors: plain sentences saying what happened and what to do. They name the endpoint and
//! what went wrong (status, kind of garbage, URL origin), never a token, never a resource's content.

use thiserror::Error;

pub type Result<T, E = SyncError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("could not reach {endpoint} ({reason}); check the address and the connection, then sync again")]
    Unreachable { endpoint: String, reason: String },
    #[error("{endpoint} timed out ({reason}); the server may be busy — sync again later")]
    Timeout { endpoint: String, reason: String },
    #[error("{endpoint} answered HTTP {status}{detail}; {advice}")]
    Status { endpoint: String, status: u16, detail: String, advice: &'static str },
    #[error("{endpoint} sent a reply that is not usable FHIR ({what}); nothing from it was stored — sync again later or tell the facility")]
    Garbage { endpoint: String, what: String },
    #[error("{endpoint} asks Techo to wait {seconds} s before asking again, longer than a sync waits; sync again later")]
    TooBusy { endpoint: String, seconds: u64 },
    #[error("{endpoint} pointed the next page at another site ({origin}); Techo never follows it (your sign-in is sent only to {endpoint}); the pages before it are kept — tell the facility")]
    ForeignLink { endpoint: String, origin: String },
    #[error("{endpoint} needs you to sign in again ({reason}); the records already pulled stay — run `techo endpoint sign-in {id}` or use Sign in in the app")]
    NeedsSignIn { endpoint: String, id: i64, reason: String },
    #[error("{endpoint} cannot be added: {reason}")]
    Setup { endpoint: String, reason: String },
    #[error("sign-in to {endpoint} failed: {reason}")]
    SignIn { endpoint: String, reason: String },
    #[error("{endpoint} knows no patient for this record; sign in again, or add the endpoint with its patient id (--patient)")]
    NoPatient { endpoint: String },
    #[error("the share relay {relay} {reason}")]
    Relay { relay: String, reason: String },
    #[error(transparent)]
    Vault(#[from] techo_core::Error),
}

impl SyncError {
    /// A stable, machine-readable code (CLI exit codes and IPC errors are derived from it).
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Unreachable { .. } => "unreachable",
            SyncError::Timeout { .. } => "timeout",
            SyncError::Status { .. } => "server_error",
            SyncError::Garbage { .. } => "bad_reply",
            SyncError::TooBusy { .. } => "server_busy",
            SyncError::ForeignLink { .. } => "foreign_link",
            SyncError::NeedsSignIn { .. } => "needs_sign_in",
            SyncError::Setup { .. } => "endpoint_setup",
            SyncError::SignIn { .. } => "sign_in_failed",
            SyncError::NoPatient { .. } => "no_patient",
            SyncError::Relay { .. } => "relay_failed",
            SyncError::Vault(e) => e.general_code(),
        }
    }
}
