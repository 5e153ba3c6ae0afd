//! The sources screen's commands: FHIR endpoints, sign-in, sync with progress, the schedule.
//! Counts, names and sentences only: no health data and never a token.

use crate::{Command, IpcError, NoArgs};
use serde::{Deserialize, Serialize};

/// `endpoints`: the vault's FHIR endpoints with their state.
pub struct EndpointsCmd;
impl Command for EndpointsCmd {
    const NAME: &'static str = "endpoints";
    type Args = NoArgs;
    type Output = Vec<EndpointView>;
}

/// `add_demo_hospital`: start the built-in demo hospital (synthetic data, on 127.0.0.1) and add
/// it as an endpoint of the person; answers the existing one when it is there already.
pub struct AddDemoHospitalCmd;
impl Command for AddDemoHospitalCmd {
    const NAME: &'static str = "add_demo_hospital";
    type Args = PersonArgs;
    type Output = EndpointView;
}

/// `add_endpoint`: discover a FHIR server and add it as an endpoint of the person.
pub struct AddEndpointCmd;
impl Command for AddEndpointCmd {
    const NAME: &'static str = "add_endpoint";
    type Args = AddEndpointArgs;
    type Output = EndpointView;
}

/// `begin_sign_in`: opens the system browser at the hospital's sign-in page; the shell waits
/// for the redirect in the background (watch `sync_status`'s `sign_in`).
pub struct BeginSignInCmd;
impl Command for BeginSignInCmd {
    const NAME: &'static str = "begin_sign_in";
    type Args = EndpointArgs;
    type Output = SignInState;
}

/// `sign_out`: forget an endpoint's tokens (its records stay).
pub struct SignOutCmd;
impl Command for SignOutCmd {
    const NAME: &'static str = "sign_out";
    type Args = EndpointArgs;
    type Output = Vec<EndpointView>;
}

/// `sync_now`: start syncing (all endpoints when the list is empty) in the background; a
/// sync already running is left to finish. Answers the status (watch it with `sync_status`).
pub struct SyncNowCmd;
impl Command for SyncNowCmd {
    const NAME: &'static str = "sync_now";
    type Args = SyncNowArgs;
    type Output = SyncStatus;
}

/// `sync_status`: whether a sync runs and how far it got, the latest report of each endpoint,
/// the schedule and a pending sign-in.
pub struct SyncStatusCmd;
impl Command for SyncStatusCmd {
    const NAME: &'static str = "sync_status";
    type Args = NoArgs;
    type Output = SyncStatus;
}

/// `set_sync_interval`: sync in the background every so many minutes while the vault is
/// unlocked (`None`: only on demand). Kept in the vault.
pub struct SetSyncIntervalCmd;
impl Command for SetSyncIntervalCmd {
    const NAME: &'static str = "set_sync_interval";
    type Args = SyncIntervalArgs;
    type Output = SyncStatus;
}

/// The intervals the app offers, in minutes.
pub const SYNC_INTERVALS: &[u32] = &[15, 30, 60, 180, 360, 720, 1440];

/// Longest FHIR base URL accepted.
pub const MAX_URL_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonArgs {
    /// Whose record; `None`: the vault's only person (or a new "Me" in an empty vault).
    pub person_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointArgs {
    pub endpoint_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddEndpointArgs {
    pub url: String,
    /// Shown name; default: the server's software and host.
    pub name: Option<String>,
    pub person_id: Option<i64>,
    /// The server's patient id, for servers without sign-in.
    pub patient: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncNowArgs {
    pub endpoint_ids: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncIntervalArgs {
    /// One of [`SYNC_INTERVALS`], or `None` for no scheduled sync.
    pub minutes: Option<u32>,
}

/// An endpoint's state as the person sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointState {
    Ready,
    NeedsSignIn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: i64,
    pub name: String,
    pub base_url: String,
    pub facility: Option<String>,
    pub person_id: i64,
    /// Whether the server wants a SMART sign-in (else it is open).
    pub smart: bool,
    pub signed_in: bool,
    pub state: EndpointState,
    /// What went wrong last, as a sentence.
    pub message: Option<String>,
    pub last_sync_at: Option<String>,
    /// The app's built-in demo hospital.
    pub demo: bool,
}

/// How far a running sync got at one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub endpoint_id: i64,
    pub endpoint: String,
    /// The resource type being pulled.
    pub resource_type: String,
    /// Pages and resources of that type so far.
    pub pages: u64,
    pub received: u64,
    /// Resources received from this endpoint in this run, all types.
    pub total_received: u64,
}

/// The report of an endpoint's latest sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub endpoint_id: i64,
    pub endpoint: String,
    /// `ok`, `partial`, `failed` or `needs_sign_in`.
    pub outcome: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub received: u64,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub refused: u64,
    /// One sentence per failure.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInPhase {
    /// The browser is open at the hospital's page; waiting for it to come back.
    Waiting,
    Done,
    Failed,
}

/// A sign-in started from the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInState {
    pub endpoint_id: i64,
    pub endpoint: String,
    pub phase: SignInPhase,
    /// The hospital's sign-in page (opened in the system browser; shown in case it did not open).
    pub authorize_url: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub running: bool,
    /// One entry per endpoint of the running sync.
    pub progress: Vec<SyncProgress>,
    /// Each endpoint's latest report (also from earlier sessions: they are kept in the vault).
    pub reports: Vec<SyncReport>,
    pub interval_minutes: Option<u32>,
    /// Seconds until the next scheduled sync, when one is scheduled.
    pub next_sync_in_seconds: Option<u64>,
    pub sign_in: Option<SignInState>,
    /// Why the latest run could not start at all (each endpoint's own errors are in `reports`).
    pub error: Option<String>,
}

pub fn validate_interval(minutes: Option<u32>) -> Result<(), IpcError> {
    match minutes {
        Some(m) if !SYNC_INTERVALS.contains(&m) => Err(IpcError::invalid_input(format!(
            "Choose one of the offered intervals ({} minutes).",
            SYNC_INTERVALS.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
        ))),
        _ => Ok(()),
    }
}

pub fn validate_endpoint_url(url: &str) -> Result<(), IpcError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(IpcError::invalid_input("Enter the FHIR address the facility gave you (it starts with https://)."));
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(IpcError::invalid_input(format!("That address is too long: use at most {MAX_URL_CHARS} characters.")));
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(IpcError::invalid_input("A FHIR address starts with https:// (or http:// on this computer)."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use serde_json::json;

    #[test]
    fn sync_wire_shapes_are_stable() {
        let status = SyncStatus {
            running: true,
            progress: vec![SyncProgress {
                endpoint_id: 3,
                endpoint: "Demo".into(),
                resource_type: "Observation".into(),
                pages: 2,
                received: 400,
                total_received: 450,
            }],
            reports: vec![],
            interval_minutes: Some(60),
            next_sync_in_seconds: None,
            sign_in: Some(SignInState {
                endpoint_id: 3,
                endpoint: "Demo".into(),
                phase: SignInPhase::Waiting,
                authorize_url: "http://127.0.0.1:1/authorize".into(),
                message: None,
            }),
            error: None,
        };
        let wire = serde_json::to_value(&status).unwrap();
        assert_eq!(wire["sign_in"]["phase"], "waiting");
        assert_eq!(wire["progress"][0]["total_received"], 450);
        assert_eq!(serde_json::from_value::<SyncStatus>(wire).unwrap(), status);
        assert_eq!(serde_json::to_value(EndpointState::NeedsSignIn).unwrap(), json!("needs_sign_in"));
        assert_eq!(serde_json::to_value(SyncIntervalArgs { minutes: None }).unwrap(), json!({"minutes": null}));
    }

    #[test]
    fn intervals_and_addresses_are_checked() {
        assert!(validate_interval(None).is_ok());
        assert!(validate_interval(Some(60)).is_ok());
        assert_eq!(validate_interval(Some(1)).unwrap_err().code, ErrorCode::InvalidInput);
        assert!(validate_endpoint_url("https://fhir.example.jp/r4").is_ok());
        for bad in ["", "  ", "ftp://x", "fhir.example.jp"] {
            assert_eq!(validate_endpoint_url(bad).unwrap_err().code, ErrorCode::InvalidInput, "{bad:?}");
        }
        assert!(validate_endpoint_url(&format!("https://{}", "a".repeat(MAX_URL_CHARS))).is_err());
    }
}
