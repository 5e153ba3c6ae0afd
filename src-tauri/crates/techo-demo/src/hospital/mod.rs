//! The built-in demo hospital: a loopback FHIR R4 server and SMART App Launch authorization
//! server over one synthetic patient's multi-facility record (`techo-gen`).
//!
//! Endpoints (`{base}` = [`Hospital::base_url`], `http://127.0.0.1:PORT/fhir`):
//!
//! | request | answer |
//! |---|---|
//! | `GET {base}/metadata` | CapabilityStatement (FHIR 4.0.1; each type holding data, with `patient`, `_lastUpdated`, `_count`; SMART `oauth-uris` when [`Auth::Smart`]) |
//! | `GET {base}/.well-known/smart-configuration` | SMART configuration ([`Auth::Smart`] only) |
//! | `GET {base}/{type}?patient=…&_lastUpdated=gt…&_count=…` | searchset Bundle in (meta.lastUpdated, id) order, `total`, `self` and absolute `next` links; `next` carries `_cursor` (see below) |
//! | `GET {base}/Patient?_id=…`, `GET {base}/{type}/{id}` | the Patient / one resource |
//! | `GET {base}/Patient/{id}/$everything?_since=…&_count=…` | the whole record changed after `_since`, one searchset in (lastUpdated, type, id) order with `next` links (only with `HospitalConfig::everything`) |
//! | `GET /authorize?…` | the sign-in page (HTML form posting to `/authorize/approve`) |
//! | `POST /authorize/approve` | `302` to `redirect_uri?code=…&state=…` (or `error=access_denied`) |
//! | `POST /token` | authorization_code (PKCE S256) and refresh_token (rotating) grants |
//!
//! Search parameters: `patient` (also `subject`; `ID`, `Patient/ID` or an absolute reference),
//! `_id` (comma-separated), `_lastUpdated` (prefixes `gt`, `ge`, `lt`, `le`, `eq`, `sa`, `eb`;
//! repeatable), `_count` (default 50, at most 500; `0` = total only), `_format` (JSON only)
//! and `_cursor` (opaque page position; only copy it from a `next` link). Anything else is a
//! `400` OperationOutcome, an unknown type a `404`.
//!
//! Paging is by position in (lastUpdated, id) order, so a resource changed while a client pages
//! moves to the end and is seen again there; nothing is skipped.
//!
//! With [`Auth::Smart`], every FHIR call except `metadata` and the SMART configuration needs a
//! valid unexpired Bearer token (else `401` with `WWW-Authenticate: Bearer
//! error="invalid_token"`) and sees only the token's patient.
//!
//! The sign-in form has a hidden `request_id` field and two submit buttons named `decision`
//! (`allow`, `deny`). [`sign_in`] plays the browser for tests.

mod browser;
mod fhir;
mod smart;
mod store;

use std::convert::Infallible;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use techo_gen::GenConfig;

use crate::runtime::ServerHandle;
use crate::util::{now_ms, redact_path_and_query};
use crate::DemoError;

pub use browser::{sign_in, Decision};
pub use store::Upserted;

/// How the hospital is set up.
#[derive(Clone, Debug)]
pub struct HospitalConfig {
    /// Seed of the synthetic record (`techo-gen`): the same seed gives the same record.
    pub seed: u64,
    /// Resources of the one patient (raised to `techo-gen`'s minimum for a record).
    pub resources: usize,
    /// Facilities the record spans (at least 1).
    pub facilities: usize,
    pub auth: Auth,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Shown on the sign-in page and in the CapabilityStatement.
    pub name: String,
    /// Stamp the generated record from this instant (ms since the Unix epoch) instead of just
    /// before now: a hospital restarted with the same config then serves the same
    /// `meta.lastUpdated`, so a client's incremental sync finds nothing new (the app's demo).
    pub stamped_from_ms: Option<i64>,
    /// Offer `Patient/{id}/$everything?_since=` (advertised in the CapabilityStatement), so a
    /// client can pull the whole record in one paged pass instead of one search per type.
    pub everything: bool,
}

impl Default for HospitalConfig {
    /// What the app offers a new user: 1,000 resources over 4 facilities, SMART sign-in with
    /// one-hour access tokens, a random port.
    fn default() -> Self {
        HospitalConfig {
            seed: 42,
            resources: 1000,
            facilities: 4,
            auth: Auth::Smart {
                access_ttl: Duration::from_secs(3600),
            },
            port: 0,
            name: "Techo Demo Hospital".to_owned(),
            stamped_from_ms: None,
            everything: false,
        }
    }
}

/// Whether FHIR calls need a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No authorization: every FHIR call is answered.
    Open,
    /// SMART App Launch (standalone, public client, PKCE S256); access tokens live `access_ttl`.
    Smart { access_ttl: Duration },
}

/// One request as the hospital's log keeps it: no bodies, no tokens (secret query values are
/// redacted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path_and_query: String,
    pub status: u16,
    /// Resources returned (Bundle entries, or 1 for a read).
    pub resources: usize,
    /// Whether the request carried an `Authorization: Bearer` header.
    pub bearer: bool,
}

/// State shared by the handle and the server thread.
pub(crate) struct Shared {
    pub(crate) name: String,
    /// `http://127.0.0.1:PORT`
    pub(crate) origin: String,
    /// `{origin}/fhir`
    pub(crate) base: String,
    pub(crate) patient_id: String,
    pub(crate) store: RwLock<Store>,
    pub(crate) auth: Option<Mutex<smart::AuthState>>,
    log: Mutex<Vec<LoggedRequest>>,
    pub(crate) bundle_seq: AtomicU64,
    pub(crate) everything: bool,
    /// The share relay: encrypted packages by their random id (ciphertext only, in memory).
    relay: Mutex<std::collections::HashMap<String, Bytes>>,
}

/// The most a relayed package may weigh.
const RELAY_MAX: usize = 64 << 20;

use store::Store;

/// Locks ignoring poisoning: the guarded data stays consistent between statements.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running demo hospital. Stops on [`Hospital::shutdown`] or drop.
pub struct Hospital {
    shared: Arc<Shared>,
    server: ServerHandle,
}

impl Hospital {
    /// Generates the record, binds `127.0.0.1:cfg.port` and starts serving on its own thread.
    pub fn start(cfg: HospitalConfig) -> std::io::Result<Hospital> {
        let listener = ServerHandle::bind(cfg.port)?;
        let port = listener.local_addr()?.port();
        let origin = format!("http://127.0.0.1:{port}");
        let gen = GenConfig {
            seed: cfg.seed,
            persons: 1,
            resources: cfg.resources,
            facilities: cfg.facilities.max(1),
        };
        let n = gen.person_resources(0) as i64;
        // Stamp the record in the past (just before now, or from the configured instant), one
        // millisecond apart, so later upserts (stamped "now") follow it.
        let mut store = Store::new(cfg.stamped_from_ms.filter(|t| *t + n + 1000 < now_ms()).unwrap_or(now_ms() - n - 1000));
        for r in techo_gen::person_resources(&gen, 0) {
            store.upsert(r).map_err(std::io::Error::other)?;
        }
        store.loaded();
        let auth = match cfg.auth {
            Auth::Open => None,
            Auth::Smart { access_ttl } => Some(Mutex::new(smart::AuthState::new(access_ttl))),
        };
        let shared = Arc::new(Shared {
            name: cfg.name,
            base: format!("{origin}/fhir"),
            origin,
            patient_id: gen.patient_id(0),
            store: RwLock::new(store),
            auth,
            log: Mutex::new(Vec::new()),
            bundle_seq: AtomicU64::new(0),
            everything: cfg.everything,
            relay: Mutex::new(std::collections::HashMap::new()),
        });
        let for_server = shared.clone();
        let server = ServerHandle::start("hospital", listener, move |stream| {
            let shared = for_server.clone();
            async move {
                let svc = service_fn(move |req| handle(shared.clone(), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            }
        })?;
        Ok(Hospital { shared, server })
    }

    /// `http://127.0.0.1:PORT/fhir` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        self.shared.origin.clone()
    }

    /// The SMART authorization endpoint (`{origin}/authorize`).
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.shared.origin)
    }

    /// The SMART token endpoint (`{origin}/token`).
    pub fn token_url(&self) -> String {
        format!("{}/token", self.shared.origin)
    }

    /// The id of the Patient the record belongs to.
    pub fn patient_id(&self) -> String {
        self.shared.patient_id.clone()
    }

    /// Stores a new or changed resource: `meta.versionId` becomes the previous one + 1 (or 1),
    /// `meta.lastUpdated` strictly later than any before; a resource without `id` gets one.
    ///
    /// # Panics
    /// When the resource is not storable (not an object, no valid `resourceType`, an invalid
    /// `id`): this is a test-control call; use [`Hospital::try_upsert`] to get the error.
    pub fn upsert(&self, resource: Value) -> Upserted {
        match self.try_upsert(resource) {
            Ok(u) => u,
            Err(e) => panic!("Hospital::upsert: {e}"),
        }
    }

    /// [`Hospital::upsert`], returning the error instead of panicking.
    pub fn try_upsert(&self, resource: Value) -> Result<Upserted, DemoError> {
        self.shared
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .upsert(resource)
    }

    /// Resources held (current versions).
    pub fn resource_count(&self) -> usize {
        self.shared
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The resource types that hold data, sorted (what the CapabilityStatement lists).
    pub fn resource_types(&self) -> Vec<String> {
        self.shared
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .types()
    }

    /// Every request answered so far (oldest first).
    pub fn log(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// The packages held by the share relay (`{origin}/relay/{id}`), as stored: what the relay
    /// ever saw of a share.
    pub fn relayed(&self) -> Vec<Vec<u8>> {
        lock(&self.shared.relay).values().map(|b| b.to_vec()).collect()
    }

    /// The share relay's base URL: `{origin}/relay` (packages are PUT at `/relay/{id}`).
    pub fn relay_url(&self) -> String {
        format!("{}/relay", self.shared.origin)
    }

    /// Every refresh token issued so far stops working.
    pub fn revoke_refresh_tokens(&self) {
        if let Some(a) = &self.shared.auth {
            lock(a).revoke_refresh_tokens();
        }
    }

    /// Every access token issued so far gets `401` from now on.
    pub fn expire_access_tokens(&self) {
        if let Some(a) = &self.shared.auth {
            lock(a).expire_access_tokens();
        }
    }

    /// Stops the server and closes its connections (also done on drop).
    pub fn shutdown(mut self) {
        self.server.stop();
    }
}

impl std::fmt::Debug for Hospital {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hospital")
            .field("base_url", &self.shared.base)
            .finish_non_exhaustive()
    }
}

/// An answer before it becomes an HTTP response.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
    /// Resources in the answer (for the log).
    pub(crate) resources: usize,
}

pub(crate) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

impl Reply {
    pub(crate) fn new(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.into(),
            resources: 0,
        }
    }

    pub(crate) fn fhir(status: StatusCode, body: impl Into<Bytes>) -> Reply {
        Reply::new(status, FHIR_JSON, body)
    }

    pub(crate) fn json(status: StatusCode, v: &Value) -> Reply {
        Reply::new(status, "application/json", v.to_string())
    }

    pub(crate) fn html(status: StatusCode, page: String) -> Reply {
        Reply::new(status, "text/html; charset=utf-8", page)
            .header("cache-control", "no-store")
            .header(
                "content-security-policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            )
            .header("x-frame-options", "DENY")
    }

    /// An OperationOutcome with one error issue. `diagnostics` must not quote health data.
    pub(crate) fn outcome(status: StatusCode, code: &str, diagnostics: &str) -> Reply {
        Reply::fhir(status, operation_outcome(code, diagnostics).to_string())
    }

    pub(crate) fn redirect(location: String) -> Reply {
        Reply::new(StatusCode::FOUND, "text/plain; charset=utf-8", "")
            .header("location", &location)
            .header("cache-control", "no-store")
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut r = Response::new(Full::new(self.body));
        *r.status_mut() = self.status;
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                r.headers_mut().append(k, v);
            }
        }
        r
    }
}

/// `{"resourceType":"OperationOutcome","issue":[{severity error, code, diagnostics}]}`.
pub(crate) fn operation_outcome(code: &str, diagnostics: &str) -> Value {
    serde_json::json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": "error", "code": code, "diagnostics": diagnostics }]
    })
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let reply = if parts.method == Method::POST || parts.method == Method::PUT {
        let limit = if parts.method == Method::PUT { RELAY_MAX } else { 1 << 20 };
        match Limited::new(body, limit).collect().await {
            Ok(b) => route(
                &shared,
                &parts.method,
                &parts.uri,
                &parts.headers,
                &b.to_bytes(),
            ),
            Err(_) => Reply::outcome(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-long",
                "The request body is too large or incomplete.",
            ),
        }
    } else {
        route(&shared, &parts.method, &parts.uri, &parts.headers, &[])
    };
    lock(&shared.log).push(LoggedRequest {
        method: parts.method.to_string(),
        path_and_query: redact_path_and_query(&pq),
        status: reply.status.as_u16(),
        resources: reply.resources,
        bearer: has_bearer(&parts.headers),
    });
    Ok(reply.into_response())
}

/// The share relay: `PUT /relay/{id}` stores an encrypted package (a compact JWE: five
/// base64url parts), `GET /relay/{id}` serves it (`application/jose`), as a SMART Health Link
/// with flag `U` expects. The id must carry at least 256 bits (43 base64url characters). It
/// refuses anything that is not a JWE, so it never holds plaintext.
fn relay(shared: &Shared, method: &Method, id: &str, body: &[u8]) -> Reply {
    let id_ok = id.len() >= 43 && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        return Reply::outcome(StatusCode::NOT_FOUND, "not-found", "No such package.");
    }
    match *method {
        Method::PUT => {
            let text = std::str::from_utf8(body).unwrap_or("");
            let parts: Vec<&str> = text.trim().split('.').collect();
            let jwe = parts.len() == 5
                && parts.iter().enumerate().all(|(i, p)| (i == 1 || !p.is_empty()) && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            if !jwe {
                return Reply::outcome(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid", "The relay keeps encrypted packages (compact JWE) only.");
            }
            let mut relay = lock(&shared.relay);
            if relay.contains_key(id) {
                return Reply::outcome(StatusCode::CONFLICT, "conflict", "A package already has this id.");
            }
            relay.insert(id.to_owned(), Bytes::copy_from_slice(text.trim().as_bytes()));
            Reply::new(StatusCode::CREATED, "text/plain; charset=utf-8", "stored\n")
        }
        Method::GET | Method::HEAD => match lock(&shared.relay).get(id) {
            Some(b) => Reply::new(StatusCode::OK, "application/jose", b.clone()).header("cache-control", "no-store"),
            None => Reply::outcome(StatusCode::NOT_FOUND, "not-found", "No such package."),
        },
        _ => Reply::outcome(StatusCode::METHOD_NOT_ALLOWED, "not-supported", "Method not allowed here."),
    }
}

fn route(
    shared: &Shared,
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    let get = *method == Method::GET || *method == Method::HEAD;
    match path {
        "/authorize" | "/authorize/approve" | "/token" if shared.auth.is_none() => Reply::outcome(
            StatusCode::NOT_FOUND,
            "not-found",
            "This server is open: it has no authorization endpoints.",
        ),
        "/authorize" if get => smart::authorize(shared, query),
        "/authorize/approve" if *method == Method::POST => smart::approve(shared, headers, body),
        "/token" if *method == Method::POST => smart::token(shared, headers, body),
        "/authorize" | "/authorize/approve" | "/token" => Reply::outcome(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            "Method not allowed here.",
        ),
        _ if path.starts_with("/relay/") => relay(shared, method, &path["/relay/".len()..], body),
        "/fhir/metadata" if get => fhir::capability_statement(shared),
        "/fhir/.well-known/smart-configuration" if get => fhir::smart_configuration(shared),
        _ if path.starts_with("/fhir/") => {
            if !get {
                return Reply::outcome(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "not-supported",
                    "This server is read-only.",
                );
            }
            let token_patient = match &shared.auth {
                None => None,
                Some(a) => match lock(a).check_bearer(headers) {
                    Ok(p) => Some(p),
                    Err(reply) => return reply,
                },
            };
            fhir::get(
                shared,
                &path["/fhir/".len()..],
                query,
                token_patient.as_deref(),
            )
        }
        _ => Reply::outcome(
            StatusCode::NOT_FOUND,
            "not-found",
            "Nothing here; the FHIR base is /fhir.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_loads_the_generated_record_with_fresh_meta() {
        let h = Hospital::start(HospitalConfig {
            resources: 120,
            auth: Auth::Open,
            ..HospitalConfig::default()
        })
        .unwrap();
        assert!(h.resource_count() >= 120);
        assert!(h.base_url().starts_with("http://127.0.0.1:") && h.base_url().ends_with("/fhir"));
        let types = h.resource_types();
        assert!(types.iter().any(|t| t == "Patient") && types.iter().any(|t| t == "Observation"));
        h.shutdown();
    }

    #[test]
    fn a_restarted_hospital_with_a_fixed_stamp_serves_the_same_last_updated() {
        let cfg = HospitalConfig {
            resources: 60,
            auth: Auth::Open,
            stamped_from_ms: Some(1_767_225_600_000), // 2026-01-01T00:00:00Z
            ..HospitalConfig::default()
        };
        let stamps = |h: &Hospital| {
            let store = h.shared.store.read().unwrap_or_else(PoisonError::into_inner);
            store.last_updated_all()
        };
        let a = Hospital::start(cfg.clone()).unwrap();
        let first = stamps(&a);
        a.shutdown();
        let b = Hospital::start(cfg).unwrap();
        assert_eq!(stamps(&b), first, "same record, same meta.lastUpdated");
        assert!(first.iter().all(|(_, t)| t.starts_with("2026-01-01T00:00:")), "{:?}", first.first());
        b.shutdown();
    }
}
