//! techo-demo: loopback peers for Techo's sync.
//!
//! * [`hospital`]: the built-in **demo hospital**, a FHIR R4 server with a SMART App Launch
//!   authorization server (authorization code + PKCE S256, refresh-token rotation) serving one
//!   synthetic patient's multi-facility record from `techo-gen`. A new user syncs from it
//!   without a real hospital; the sync tests use it as a fast, controllable peer (upserts,
//!   token revocation and expiry, a request log).
//! * [`faults`]: a **fault-injecting HTTP/1.1 reverse proxy** the tests put between the sync
//!   client and a FHIR server (this demo hospital or a Node one): status codes, resets, hangs,
//!   slow and truncated bodies, malformed or misleading responses.
//!
//! Invariants:
//!
//! * **Loopback only.** Every listener binds `127.0.0.1`; the proxy forwards only to a loopback
//!   upstream; the sign-in helper only talks to loopback origins. Plain HTTP, no TLS.
//! * **Never logs health data or tokens.** Nothing here prints. The request logs that tests read
//!   ([`hospital::LoggedRequest`], [`faults::ProxiedRequest`]) hold the method, the path and
//!   query (with the values of `code`, `code_verifier`, `access_token`, `refresh_token` and
//!   `client_secret` redacted), the status and counts — never bodies or tokens. Error messages
//!   and OperationOutcomes never quote resource content. The hospital keeps only SHA-256
//!   digests of the codes and tokens it issues.
//! * **Synthetic data only.** The hospital's record is generated (`techo-gen`); its sign-in page
//!   says so.
//! * Each server runs on its own thread with its own single-threaded tokio runtime, so callers
//!   (tests, the app) stay synchronous; dropping the handle stops the server and closes its
//!   connections.

pub mod faults;
pub mod hospital;
mod runtime;
mod util;

pub use faults::{Fault, FaultProxy, ProxiedRequest, Rule};
pub use hospital::{Auth, Hospital, HospitalConfig, LoggedRequest, Upserted};

/// Errors of this crate's synchronous helpers. Messages never contain resource content or
/// tokens.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A resource given to [`Hospital::try_upsert`] is unusable.
    #[error("the resource cannot be stored: {0}")]
    BadResource(&'static str),
    /// A URL given to a helper is not a plain-HTTP loopback URL.
    #[error("not a plain-HTTP loopback URL: {0}")]
    NotLoopback(&'static str),
    /// The peer answered something the helper did not expect.
    #[error("unexpected answer from the demo peer: {0}")]
    Unexpected(String),
    /// Network error talking to a loopback peer.
    #[error("could not talk to the loopback peer: {0}")]
    Io(#[from] std::io::Error),
}
