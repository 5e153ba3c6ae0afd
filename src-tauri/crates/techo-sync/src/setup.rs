//! Adding an endpoint and finishing a sign-in: the decisions the CLI and the app share.

use crate::engine::VaultAccess;
use crate::http::Http;
use crate::smart::{self, Discovery, SignedIn};
use crate::{Result, SyncError};
use techo_core::{Endpoint, EndpointAuth, NewEndpoint};

/// What a person asks for when adding an endpoint.
#[derive(Clone, Debug)]
pub struct AddRequest {
    /// The FHIR base URL (normalised by `techo_core::normalize_base_url`).
    pub url: String,
    /// Shown name; default: the server's software and host, else the host.
    pub name: Option<String>,
    pub person_id: i64,
    pub facility: Option<String>,
    /// The server's patient id: required for open servers, learnt at sign-in for SMART ones.
    pub patient: Option<String>,
    /// The client id registered with the hospital's authorization server.
    pub client_id: String,
    /// Scopes to ask for (default: [`smart::default_scope`]).
    pub scope: Option<String>,
    /// Treat it as open (no sign-in), even if it offers SMART.
    pub open: bool,
}

/// Discovers the server (`/metadata`, `/.well-known/smart-configuration`) and decides how to
/// reach it: SMART when it offers sign-in (with PKCE S256), else open with a known patient id.
/// Nothing is stored; the caller adds the returned endpoint to the vault.
pub fn plan_endpoint(http: &Http, req: &AddRequest) -> Result<(NewEndpoint, Discovery)> {
    let base = techo_core::normalize_base_url(&req.url)?;
    let host = url::Url::parse(&base).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| base.clone());
    let shown = req.name.clone().unwrap_or_else(|| host.clone());
    let d = smart::discover(http, &shown, &base)?;
    let unsupported = |reason: &str| SyncError::Setup { endpoint: shown.clone(), reason: reason.to_owned() };
    let auth = match (&d.smart, req.open) {
        (Some(s), false) => {
            if !s.code_challenge_methods_supported.is_empty() && !s.code_challenge_methods_supported.iter().any(|m| m == "S256") {
                return Err(unsupported(
                    "it does not offer PKCE with S256, which Techo requires for sign-in; ask the facility, or add it as open (--open) if it needs no sign-in",
                ));
            }
            EndpointAuth::Smart {
                client_id: req.client_id.clone(),
                scope: req.scope.clone().unwrap_or_else(|| smart::default_scope(s)),
                authorize_url: s.authorization_endpoint.clone(),
                token_url: s.token_endpoint.clone(),
            }
        }
        _ => {
            if req.patient.as_deref().is_none_or(|p| p.trim().is_empty()) {
                return Err(unsupported(
                    "it has no SMART sign-in, so Techo cannot learn whose record to pull; give the server's patient id (--patient)",
                ));
            }
            EndpointAuth::Open
        }
    };
    let name = req.name.clone().or(d.software.clone().map(|s| format!("{s} ({host})"))).unwrap_or(host);
    let new = NewEndpoint {
        name,
        base_url: base,
        person_id: req.person_id,
        facility: req.facility.clone(),
        patient_id: req.patient.clone().filter(|p| !p.trim().is_empty()),
        auth,
    };
    Ok((new, d))
}

/// Stores a finished sign-in: the patient in context (which must not change between sign-ins)
/// and the tokens, inside the vault. On a refusal nothing is stored.
pub fn complete_sign_in<V: VaultAccess>(vault: &V, ep: &Endpoint, signed: &SignedIn) -> Result<()> {
    let fail = |reason: &str| SyncError::SignIn { endpoint: ep.name.clone(), reason: reason.to_owned() };
    match (&signed.patient, &ep.patient_id) {
        (Some(p), Some(old)) if p != old => {
            return Err(fail(
                "the hospital signed you in as another patient than before; nothing was stored — sign in with the same account, or add the endpoint again for the other person",
            ))
        }
        (None, None) => return Err(fail("the hospital did not say which patient you are (no patient context); nothing was stored — tell the facility")),
        _ => {}
    }
    vault.with(|v| {
        if let (Some(p), None) = (&signed.patient, &ep.patient_id) {
            v.set_endpoint_patient(ep.id, p)?;
        }
        v.save_endpoint_tokens(ep.id, &signed.tokens)?;
        v.set_endpoint_status(ep.id, techo_core::EndpointStatus::Ready, None)
    })??;
    Ok(())
}
