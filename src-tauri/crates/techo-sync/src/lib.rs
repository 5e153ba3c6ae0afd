//! Techo's sync: pulls a person's record from hospital FHIR endpoints into the vault.
//!
//! - [`smart`]: discovery and SMART App Launch (standalone patient launch, authorization code +
//!   PKCE S256 through the `oauth2` crate, loopback redirect, refresh tokens).
//! - [`engine`]: incremental, paged, resumable sync; each page committed with its cursor.
//! - [`http`]: the polite HTTP client (retries, `Retry-After`, per-host limit, body limits).
//!
//! Invariants: tokens go only into the vault (never logs, errors or files); a token is sent
//! only to the endpoint's own origin (redirects are not followed, next links on another origin
//! are refused); nothing here prints. The vault is reached only through `techo-core`'s API.

pub mod client_key;
pub mod engine;
mod error;
pub mod http;
pub mod push;
pub mod relay;
pub mod setup;
pub mod smart;

pub use engine::{sync, sync_one, EVERYTHING, VaultAccess, EndpointReport, Progress, RunOutcome, SyncOptions, TypeReport, DEFAULT_PAGE_SIZE};
pub use client_key::{client_assertion, generate_client_key};
pub use error::{Result, SyncError};
pub use http::{Http, HttpOptions};
pub use push::{push_research, PushReport};
pub use setup::{complete_sign_in, plan_endpoint, AddRequest};
pub use smart::{begin_sign_in, discover, Discovery, PendingSignIn, SignedIn, SmartConfig};
