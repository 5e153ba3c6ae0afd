//! Discovery (`/metadata`, `/.well-known/smart-configuration`) and SMART App Launch 2,
//! standalone patient launch: authorization code + PKCE (S256) through the `oauth2` crate, the
//! redirect caught by a loopback listener on 127.0.0.1 with a random port (RFC 8252), `state`
//! checked, the patient taken from the token response, `offline_access` refresh tokens.
//!
//! Tokens go from the token response straight into [`EndpointTokens`] (secret types) and from
//! there into the vault; they are never logged or put in an error.

use crate::error::{Result, SyncError};
use crate::http::{Fetched, Http};
use oauth2::basic::{BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use crate::client_key::{client_assertion, ASSERTION_TYPE};
use techo_core::{ClientKey, Endpoint, EndpointAuth, EndpointTokens};

/// What a server says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub fhir_version: Option<String>,
    pub software: Option<String>,
    /// Resource types that can be searched by patient (Patient itself included when offered).
    pub patient_types: Vec<String>,
    pub everything: bool,
    pub smart: Option<SmartConfig>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartConfig {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// How clients authenticate at the token endpoint (`none` for public clients,
    /// `private_key_jwt` for SMART confidential asymmetric clients).
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

impl SmartConfig {
    /// The server takes only confidential clients with a key (no public clients).
    pub fn wants_private_key_jwt(&self) -> bool {
        let m = &self.token_endpoint_auth_methods_supported;
        m.iter().any(|x| x == "private_key_jwt") && !m.iter().any(|x| x == "none")
    }
}

/// The patient-compartment types synced when a server's CapabilityStatement does not say
/// which types it can search by patient.
pub const DEFAULT_TYPES: &[&str] = &[
    "AllergyIntolerance",
    "CarePlan",
    "Condition",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "Immunization",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationDispense",
    "Observation",
    "Procedure",
    "ServiceRequest",
];

/// Reads `/metadata` and, when present, `/.well-known/smart-configuration`.
pub fn discover(http: &Http, name: &str, base_url: &str) -> Result<Discovery> {
    let url = join(name, base_url, "metadata")?;
    let cs = match http.get_fhir(name, &url, None)? {
        Fetched::Json(v) => v,
        Fetched::Unauthorized => {
            return Err(SyncError::Status { endpoint: name.into(), status: 401, detail: " for /metadata".into(), advice: "the server must publish its CapabilityStatement without sign-in — check the address" })
        }
    };
    let mut d = read_capability_statement(name, &cs)?;
    let smart_url = join(name, base_url, ".well-known/smart-configuration")?;
    d.smart = match http.get_fhir(name, &smart_url, None) {
        Ok(Fetched::Json(v)) => serde_json::from_value::<SmartConfig>(v).ok().filter(|s| !s.authorization_endpoint.is_empty()),
        _ => smart_from_capability_statement(&cs),
    };
    Ok(d)
}

/// The parts of a CapabilityStatement sync needs (IO-free).
pub fn read_capability_statement(name: &str, cs: &Value) -> Result<Discovery> {
    if cs.get("resourceType").and_then(Value::as_str) != Some("CapabilityStatement") {
        let found = cs.get("resourceType").and_then(Value::as_str).unwrap_or("no resourceType");
        return Err(SyncError::Garbage { endpoint: name.into(), what: format!("/metadata returned {found}, not a CapabilityStatement") });
    }
    let fhir_version = cs.get("fhirVersion").and_then(Value::as_str).map(str::to_owned);
    if let Some(v) = &fhir_version {
        if !v.starts_with("4.0") {
            return Err(SyncError::Garbage { endpoint: name.into(), what: format!("FHIR version {v}; Techo syncs FHIR R4 (4.0.x)") });
        }
    }
    let software = cs.pointer("/software/name").and_then(Value::as_str).map(str::to_owned);
    let mut patient_types = Vec::new();
    let mut everything = false;
    for rest in cs.get("rest").and_then(Value::as_array).into_iter().flatten() {
        if rest.get("mode").and_then(Value::as_str).is_some_and(|m| m != "server") {
            continue;
        }
        for r in rest.get("resource").and_then(Value::as_array).into_iter().flatten() {
            let Some(t) = r.get("type").and_then(Value::as_str) else { continue };
            let params: Vec<&str> = r
                .get("searchParam")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|p| p.get("name").and_then(Value::as_str)).collect())
                .unwrap_or_default();
            if t == "Patient" {
                patient_types.push(t.to_owned());
                let ops = r.get("operation").and_then(Value::as_array);
                everything |= ops.is_some_and(|a| a.iter().any(|o| o.get("name").and_then(Value::as_str) == Some("everything")));
            } else if params.contains(&"patient") {
                patient_types.push(t.to_owned());
            }
        }
        everything |= rest
            .get("operation")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|o| o.get("name").and_then(Value::as_str) == Some("everything")));
    }
    if patient_types.iter().all(|t| t == "Patient") {
        patient_types = std::iter::once("Patient").chain(DEFAULT_TYPES.iter().copied()).map(str::to_owned).collect();
    }
    // The Patient first: it names the person.
    patient_types.sort_by_key(|t| (t != "Patient", t.clone()));
    patient_types.dedup();
    Ok(Discovery { fhir_version, software, patient_types, everything, smart: None })
}

fn smart_from_capability_statement(cs: &Value) -> Option<SmartConfig> {
    let security = cs.pointer("/rest/0/security/extension")?.as_array()?;
    let uris = security.iter().find(|e| e.get("url").and_then(Value::as_str) == Some("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"))?;
    let mut cfg = SmartConfig::default();
    for e in uris.get("extension")?.as_array()? {
        let v = e.get("valueUri").and_then(Value::as_str).unwrap_or("").to_owned();
        match e.get("url").and_then(Value::as_str) {
            Some("authorize") => cfg.authorization_endpoint = v,
            Some("token") => cfg.token_endpoint = v,
            _ => {}
        }
    }
    (!cfg.authorization_endpoint.is_empty() && !cfg.token_endpoint.is_empty()).then_some(cfg)
}

/// `base/path` as a URL (base without a trailing slash).
pub fn join(name: &str, base: &str, path: &str) -> Result<url::Url> {
    url::Url::parse(&format!("{}/{}", base.trim_end_matches('/'), path))
        .map_err(|e| SyncError::Unreachable { endpoint: name.into(), reason: format!("the address is not a valid URL ({e})") })
}

/// The scopes Techo asks for: read access to the patient's record, the patient context, and a
/// refresh token. SMART v2 `.rs` scopes when the server lists them, v1 `.read` otherwise.
pub fn default_scope(cfg: &SmartConfig) -> String {
    let v2 = cfg.scopes_supported.iter().any(|s| s.ends_with(".rs") || s.contains(".cruds") || s.contains(".r"))
        || cfg.capabilities.iter().any(|c| c == "permission-v2");
    let read = if v2 && !cfg.scopes_supported.iter().any(|s| s.ends_with(".read")) { "patient/*.rs" } else { "patient/*.read" };
    format!("launch/patient openid fhirUser offline_access {read}")
}

/// SMART's extra token-response fields.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct SmartTokenFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
}
impl ExtraTokenFields for SmartTokenFields {}

type SmartTokenResponse = StandardTokenResponse<SmartTokenFields, BasicTokenType>;
type SmartClient = oauth2::Client<
    BasicErrorResponse,
    SmartTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The HTTP error of the token requests (oauth2 wants an `Error` type).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TokenHttpError(String);

/// oauth2's HTTP client over our reqwest client (no redirects followed).
fn token_http(http: &Http) -> impl Fn(oauth2::HttpRequest) -> std::result::Result<oauth2::HttpResponse, TokenHttpError> + '_ {
    move |req: oauth2::HttpRequest| {
        let (parts, body) = req.into_parts();
        let mut rb = http.client().request(parts.method, parts.uri.to_string()).body(body);
        for (k, v) in &parts.headers {
            rb = rb.header(k, v);
        }
        let resp = rb.send().map_err(|e| TokenHttpError(if e.is_timeout() { "no answer in time".into() } else { "could not reach it".into() }))?;
        let mut out = http::Response::builder().status(resp.status());
        for (k, v) in resp.headers() {
            out = out.header(k, v);
        }
        let body = resp.bytes().map_err(|_| TokenHttpError("the reply was cut off".into()))?.to_vec();
        out.body(body).map_err(|e| TokenHttpError(e.to_string()))
    }
}

fn client(name: &str, auth: &EndpointAuth, redirect: Option<&str>) -> Result<SmartClient> {
    let EndpointAuth::Smart { client_id, authorize_url, token_url, .. } = auth else {
        return Err(SyncError::SignIn { endpoint: name.into(), reason: "this endpoint is open; it needs no sign-in".into() });
    };
    let bad = |what: &str| SyncError::SignIn { endpoint: name.into(), reason: format!("the server's {what} address is not a valid URL") };
    let mut c = oauth2::Client::new(ClientId::new(client_id.clone()))
        .set_auth_uri(AuthUrl::new(authorize_url.clone()).map_err(|_| bad("authorization"))?)
        .set_token_uri(TokenUrl::new(token_url.clone()).map_err(|_| bad("token"))?)
        .set_auth_type(oauth2::AuthType::RequestBody);
    if let Some(r) = redirect {
        c = c.set_redirect_uri(RedirectUrl::new(r.to_owned()).map_err(|_| bad("redirect"))?);
    }
    Ok(c)
}

/// What a successful sign-in brings back.
pub struct SignedIn {
    pub tokens: EndpointTokens,
    /// The patient in context (SMART `patient`), when the server sent one.
    pub patient: Option<String>,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn").field("tokens", &self.tokens).field("patient", &self.patient.as_ref().map(|_| "[set]")).finish()
    }
}

fn tokens_of(resp: &SmartTokenResponse, previous_refresh: Option<&SecretString>) -> SignedIn {
    let expires_at = resp.expires_in().map(|d| chrono::Utc::now().timestamp() + d.as_secs() as i64);
    let scope = resp.scopes().map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "));
    let refresh_token = resp
        .refresh_token()
        .map(|r| SecretString::from(r.secret().clone()))
        // A server that does not rotate refresh tokens keeps the old one valid.
        .or_else(|| previous_refresh.map(|p| SecretString::from(p.expose_secret().to_owned())));
    SignedIn {
        tokens: EndpointTokens { access_token: SecretString::from(resp.access_token().secret().clone()), refresh_token, expires_at, scope },
        patient: resp.extra_fields().patient.clone(),
    }
}

/// A sign-in under way: the browser is to open [`PendingSignIn::authorize_url`]; then
/// [`PendingSignIn::finish`] waits for the redirect on the loopback listener.
pub struct PendingSignIn {
    name: String,
    auth: EndpointAuth,
    listener: TcpListener,
    redirect: String,
    authorize_url: url::Url,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
    client_key: Option<ClientKey>,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn").field("endpoint", &self.name).field("redirect", &self.redirect).finish_non_exhaustive()
    }
}

/// Starts a sign-in: binds the loopback listener and builds the authorize URL (PKCE S256,
/// random `state`, `aud` = the FHIR base URL as SMART requires). `client_key`: the endpoint's
/// key when its server wants `private_key_jwt` (`Vault::endpoint_client_key`).
pub fn begin_sign_in(endpoint: &Endpoint, client_key: Option<ClientKey>) -> Result<PendingSignIn> {
    let name = endpoint.name.clone();
    let EndpointAuth::Smart { scope, .. } = &endpoint.auth else {
        return Err(SyncError::SignIn { endpoint: name, reason: "this endpoint is open; it needs no sign-in".into() });
    };
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| SyncError::SignIn { endpoint: name.clone(), reason: format!("could not listen on 127.0.0.1 for the redirect ({e})") })?;
    let port = listener.local_addr().map_err(|e| SyncError::SignIn { endpoint: name.clone(), reason: e.to_string() })?.port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let c = client(&name, &endpoint.auth, Some(&redirect))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state) = c
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scope.split_whitespace().map(|s| Scope::new(s.to_owned())))
        .add_extra_param("aud", endpoint.base_url.clone())
        .set_pkce_challenge(challenge)
        .url();
    Ok(PendingSignIn { name, auth: endpoint.auth.clone(), listener, redirect, authorize_url, state, verifier, client_key })
}

impl PendingSignIn {
    /// The URL the system browser opens.
    pub fn authorize_url(&self) -> &str {
        self.authorize_url.as_str()
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect
    }

    /// Waits (up to `timeout`) for the browser to come back with the code, checks `state`,
    /// and exchanges the code (with the PKCE verifier) for tokens.
    pub fn finish(self, http: &Http, timeout: Duration) -> Result<SignedIn> {
        let fail = |reason: String| SyncError::SignIn { endpoint: self.name.clone(), reason };
        let deadline = Instant::now() + timeout;
        self.listener.set_nonblocking(true).map_err(|e| fail(e.to_string()))?;
        let params = loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(p) = read_callback(stream, deadline)? {
                        break p;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(fail("no answer came back from the browser in time; start the sign-in again".into()));
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(e) => return Err(fail(format!("the redirect listener failed ({e})"))),
            }
        };
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("state") != Some(self.state.secret().as_str()) {
            return Err(fail("the answer did not carry this sign-in's state (a stale or forged redirect); nothing was stored — start again".into()));
        }
        if let Some(err) = get("error") {
            let err: String = err.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(60).collect();
            let why = if err == "access_denied" { "access was not allowed".to_owned() } else { format!("the server said {err}") };
            return Err(fail(format!("{why}; nothing was stored")));
        }
        let code = get("code").ok_or_else(|| fail("the answer carried no authorization code; start again".into()))?;
        let c = client(&self.name, &self.auth, Some(&self.redirect))?;
        let assertion = assertion_for(&self.name, &self.auth, self.client_key.as_ref())?;
        let mut req = c.exchange_code(AuthorizationCode::new(code.to_owned())).set_pkce_verifier(self.verifier);
        if let Some(a) = &assertion {
            req = req.add_extra_param("client_assertion_type", ASSERTION_TYPE).add_extra_param("client_assertion", a.expose_secret().to_owned());
        }
        let resp = req.request(&token_http(http)).map_err(|e| fail(token_error(&e)))?;
        Ok(tokens_of(&resp, None))
    }
}

/// Reads one request from the browser; answers it; `None` for requests that are not the callback.
fn read_callback(stream: TcpStream, deadline: Instant) -> Result<Option<Vec<(String, String)>>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100))));
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.by_ref().take(8192).read_line(&mut line).is_err() {
        return Ok(None);
    }
    // Drain the headers.
    let mut h = String::new();
    while reader.by_ref().take(8192).read_line(&mut h).is_ok_and(|n| n > 2) {
        h.clear();
    }
    let mut stream = reader.into_inner();
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else { return Ok(None) };
    if url.path() != "/callback" {
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return Ok(None);
    }
    let params: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let ok = params.iter().any(|(k, _)| k == "code");
    let body = if ok {
        "<!doctype html><meta charset=utf-8><title>Techo</title><p>Signed in. You can close this window and go back to Techo.</p>"
    } else {
        "<!doctype html><meta charset=utf-8><title>Techo</title><p>The sign-in did not complete. Go back to Techo and try again.</p>"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    Ok(Some(params))
}

fn token_error<E: std::error::Error>(e: &oauth2::RequestTokenError<E, BasicErrorResponse>) -> String {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => format!("the server refused the token request ({})", r.error()),
        oauth2::RequestTokenError::Request(inner) => format!("the token request failed ({inner})"),
        oauth2::RequestTokenError::Parse(_, _) => "the token response was not valid".into(),
        oauth2::RequestTokenError::Other(s) => s.clone(),
    }
}

/// The client assertion of a token request, when the endpoint authenticates with a key.
fn assertion_for(name: &str, auth: &EndpointAuth, key: Option<&ClientKey>) -> Result<Option<SecretString>> {
    match (auth, key) {
        (EndpointAuth::Smart { client_id, token_url, .. }, Some(k)) => Ok(Some(client_assertion(name, k, client_id, token_url)?)),
        _ => Ok(None),
    }
}

/// Why a refresh failed.
pub enum RefreshError {
    /// The server refused the refresh token, or there is none: the person must sign in again.
    Refused(String),
    /// The server could not be reached; try later.
    Failed(SyncError),
}

/// Trades the refresh token for new tokens (kept refresh token when the server does not rotate).
pub fn refresh(http: &Http, endpoint: &Endpoint, current: &EndpointTokens, client_key: Option<&ClientKey>) -> std::result::Result<SignedIn, RefreshError> {
    let Some(rt) = current.refresh_token.as_ref() else {
        return Err(RefreshError::Refused("the sign-in expired and gave no refresh token".into()));
    };
    let c = client(&endpoint.name, &endpoint.auth, None).map_err(RefreshError::Failed)?;
    let assertion = assertion_for(&endpoint.name, &endpoint.auth, client_key).map_err(RefreshError::Failed)?;
    let refresh_token = RefreshToken::new(rt.expose_secret().to_owned());
    let mut req = c.exchange_refresh_token(&refresh_token);
    if let Some(a) = &assertion {
        req = req.add_extra_param("client_assertion_type", ASSERTION_TYPE).add_extra_param("client_assertion", a.expose_secret().to_owned());
    }
    match req.request(&token_http(http)) {
        Ok(resp) => Ok(tokens_of(&resp, Some(rt))),
        Err(oauth2::RequestTokenError::ServerResponse(r)) => Err(RefreshError::Refused(format!("the server refused to renew the sign-in ({})", r.error()))),
        Err(e) => Err(RefreshError::Failed(SyncError::Unreachable { endpoint: endpoint.name.clone(), reason: token_error(&e) })),
    }
}
