//! The SMART App Launch side: authorization page, code grant with PKCE S256, refresh-token
//! rotation, Bearer checks. Codes and tokens are kept only as SHA-256 digests.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use http::{HeaderMap, StatusCode};
use serde_json::json;

use super::{lock, Reply, Shared};
use crate::util::{is_loopback_host, random_token, sha256_b64url};

/// How long the sign-in page and an authorization code stay usable.
const PENDING_TTL: Duration = Duration::from_secs(600);
const CODE_TTL: Duration = Duration::from_secs(300);
/// Scope granted when the request names none.
const DEFAULT_SCOPE: &str = "launch/patient patient/*.read";

struct Pending {
    client_id: String,
    redirect_uri: String,
    state: String,
    scope: String,
    code_challenge: String,
    created: Instant,
}

struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    scope: String,
    created: Instant,
    used: bool,
    family: u64,
}

struct AccessGrant {
    expires: Instant,
    patient: String,
    family: u64,
}

struct RefreshGrant {
    client_id: String,
    scope: String,
    patient: String,
    family: u64,
}

/// Everything the authorization server remembers. Keys of `codes`, `access` and `refresh` are
/// [`sha256_b64url`] digests, never the secrets themselves.
pub(crate) struct AuthState {
    access_ttl: Duration,
    pending: HashMap<String, Pending>,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    /// Tokens descending from one authorization code share a family (revoked together when the
    /// code is replayed).
    next_family: u64,
}

impl AuthState {
    pub(crate) fn new(access_ttl: Duration) -> AuthState {
        AuthState {
            access_ttl,
            pending: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            next_family: 1,
        }
    }

    pub(crate) fn revoke_refresh_tokens(&mut self) {
        self.refresh.clear();
    }

    pub(crate) fn expire_access_tokens(&mut self) {
        self.access.clear();
    }

    fn revoke_family(&mut self, family: u64) {
        self.access.retain(|_, g| g.family != family);
        self.refresh.retain(|_, g| g.family != family);
    }

    /// The patient of the request's valid Bearer token, or the `401` to answer.
    pub(crate) fn check_bearer(&mut self, headers: &HeaderMap) -> Result<String, Reply> {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                (v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ")).then(|| v[7..].trim())
            })
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(unauthorized("A Bearer access token is required."));
        };
        let key = sha256_b64url(token);
        match self.access.get(&key) {
            Some(g) if g.expires > Instant::now() => Ok(g.patient.clone()),
            Some(_) => {
                self.access.remove(&key);
                Err(unauthorized("The access token has expired."))
            }
            None => Err(unauthorized("The access token is not valid.")),
        }
    }

    /// Issues an access token (and a refresh token when `offline_access` is granted).
    fn issue(&mut self, client_id: &str, scope: &str, patient: &str, family: u64) -> Reply {
        let access = random_token();
        self.access.insert(
            sha256_b64url(&access),
            AccessGrant {
                expires: Instant::now() + self.access_ttl,
                patient: patient.to_owned(),
                family,
            },
        );
        let mut body = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_ttl.as_secs(),
            "scope": scope,
            "patient": patient,
        });
        if scope.split(' ').any(|s| s == "offline_access") {
            let refresh = random_token();
            self.refresh.insert(
                sha256_b64url(&refresh),
                RefreshGrant {
                    client_id: client_id.to_owned(),
                    scope: scope.to_owned(),
                    patient: patient.to_owned(),
                    family,
                },
            );
            body["refresh_token"] = json!(refresh);
        }
        Reply::json(StatusCode::OK, &body)
            .header("cache-control", "no-store")
            .header("pragma", "no-cache")
    }
}

fn unauthorized(diagnostics: &str) -> Reply {
    Reply::outcome(StatusCode::UNAUTHORIZED, "login", diagnostics)
        .header("www-authenticate", "Bearer error=\"invalid_token\"")
}

/// The query or form pairs; `None` when a name repeats.
fn single_params(s: &[u8]) -> Option<HashMap<String, String>> {
    let mut m = HashMap::new();
    for (k, v) in form_urlencoded::parse(s) {
        if m.insert(k.into_owned(), v.into_owned()).is_some() {
            return None;
        }
    }
    Some(m)
}

/// A redirect URI the hospital sends codes to: plain HTTP on loopback (`127.0.0.1`, `[::1]`
/// or `localhost`, any port), no fragment, no credentials.
fn valid_redirect_uri(s: &str) -> Option<url::Url> {
    let u = url::Url::parse(s).ok()?;
    let ok = u.scheme() == "http"
        && u.host().is_some_and(|h| is_loopback_host(&h))
        && u.fragment().is_none()
        && u.username().is_empty()
        && u.password().is_none();
    ok.then_some(u)
}

/// `redirect_uri` with `pairs` appended to its query.
fn redirect_with(mut uri: url::Url, pairs: &[(&str, &str)]) -> Reply {
    {
        let mut q = uri.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    Reply::redirect(uri.into())
}

fn error_redirect(uri: url::Url, error: &str, description: &str, state: Option<&str>) -> Reply {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    redirect_with(uri, &pairs)
}

fn page(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:36em;margin:3em auto}}.note{{color:#a33}}</style></head>\
         <body>{body_html}</body></html>\n",
        techo_fhir::escape_xhtml(title)
    )
}

fn error_page(status: StatusCode, message: &str) -> Reply {
    Reply::html(
        status,
        page(
            "Demo Hospital — sign-in error",
            &format!("<h1>Sign-in error</h1><p>{}</p>", techo_fhir::escape_xhtml(message)),
        ),
    )
}

fn is_code_challenge(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 code_verifier syntax: 43–128 unreserved characters.
fn is_code_verifier(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// `GET /authorize`: validates the request and shows the sign-in page.
pub(crate) fn authorize(shared: &Shared, query: &str) -> Reply {
    let Some(p) = single_params(query.as_bytes()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "A parameter is given more than once.",
        );
    };
    let client_id = p.get("client_id").map(String::as_str).unwrap_or("");
    if client_id.is_empty() {
        return error_page(StatusCode::BAD_REQUEST, "The request names no client_id.");
    }
    let Some(redirect) = p.get("redirect_uri").and_then(|r| valid_redirect_uri(r)) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The redirect_uri is missing or not allowed: it must be http://127.0.0.1:PORT/… or http://localhost:PORT/….",
        );
    };
    let state = p.get("state").map(String::as_str).filter(|s| !s.is_empty());
    let Some(state) = state else {
        return error_redirect(redirect, "invalid_request", "state is required", None);
    };
    if p.get("response_type").map(String::as_str) != Some("code") {
        return error_redirect(
            redirect,
            "unsupported_response_type",
            "response_type must be code",
            Some(state),
        );
    }
    if p.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return error_redirect(
            redirect,
            "invalid_request",
            "code_challenge_method must be S256",
            Some(state),
        );
    }
    let Some(challenge) = p.get("code_challenge").filter(|c| is_code_challenge(c)) else {
        return error_redirect(
            redirect,
            "invalid_request",
            "code_challenge is missing or malformed",
            Some(state),
        );
    };
    let scope = p
        .get("scope")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let scope = if scope.is_empty() {
        DEFAULT_SCOPE.to_owned()
    } else {
        scope
    };
    let Some(auth) = &shared.auth else {
        return error_page(
            StatusCode::NOT_FOUND,
            "This server is open: it has no sign-in.",
        );
    };
    let request_id = random_token();
    {
        let mut a = lock(auth);
        a.pending.retain(|_, p| p.created.elapsed() < PENDING_TTL);
        a.pending.insert(
            request_id.clone(),
            Pending {
                client_id: client_id.to_owned(),
                redirect_uri: redirect.to_string(),
                state: state.to_owned(),
                scope: scope.clone(),
                code_challenge: challenge.clone(),
                created: Instant::now(),
            },
        );
    }
    let body = format!(
        "<h1>{name}</h1>\
         <p class=\"note\"><strong>Demo Hospital — synthetic data, no real patient.</strong></p>\
         <p>The app <strong>{client}</strong> asks to read this demo patient's record.</p>\
         <p>Access asked for: <code>{scope}</code></p>\
         <form method=\"post\" action=\"/authorize/approve\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{rid}\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
         </form>",
        name = techo_fhir::escape_xhtml(&shared.name),
        client = techo_fhir::escape_xhtml(client_id),
        scope = techo_fhir::escape_xhtml(&scope),
        rid = techo_fhir::escape_xhtml(&request_id),
    );
    Reply::html(
        StatusCode::OK,
        page(&format!("{} — sign in", shared.name), &body),
    )
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// `POST /authorize/approve`: the sign-in form. Redirects back with a code (or
/// `error=access_denied`).
pub(crate) fn approve(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Reply {
    if !is_form(headers) {
        return error_page(StatusCode::BAD_REQUEST, "Expected a form submission.");
    }
    let Some(p) = single_params(body) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "A form field is given more than once.",
        );
    };
    let Some(auth) = &shared.auth else {
        return error_page(
            StatusCode::NOT_FOUND,
            "This server is open: it has no sign-in.",
        );
    };
    let mut a = lock(auth);
    let pending = p
        .get("request_id")
        .and_then(|id| a.pending.remove(id))
        .filter(|p| p.created.elapsed() < PENDING_TTL);
    let Some(pending) = pending else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in request has expired or was already used. Start again from the app.",
        );
    };
    let Some(redirect) = valid_redirect_uri(&pending.redirect_uri) else {
        return error_page(StatusCode::BAD_REQUEST, "The redirect_uri is not allowed.");
    };
    match p.get("decision").map(String::as_str) {
        None | Some("allow") => {}
        Some("deny") => {
            return error_redirect(
                redirect,
                "access_denied",
                "the user denied access",
                Some(&pending.state),
            )
        }
        Some(_) => return error_page(StatusCode::BAD_REQUEST, "Unknown decision."),
    }
    let code = random_token();
    let family = a.next_family;
    a.next_family += 1;
    a.codes.retain(|_, c| c.created.elapsed() < CODE_TTL * 4);
    a.codes.insert(
        sha256_b64url(&code),
        CodeGrant {
            client_id: pending.client_id,
            redirect_uri: pending.redirect_uri,
            code_challenge: pending.code_challenge,
            scope: pending.scope,
            created: Instant::now(),
            used: false,
            family,
        },
    );
    redirect_with(redirect, &[("code", &code), ("state", &pending.state)])
}

/// An RFC 6749 §5.2 error.
fn token_error(error: &str, description: &str) -> Reply {
    let status = if error == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    Reply::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
    .header("cache-control", "no-store")
    .header("pragma", "no-cache")
}

/// `POST /token`.
pub(crate) fn token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Reply {
    if !is_form(headers) {
        return token_error(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    }
    let Some(p) = single_params(body) else {
        return token_error("invalid_request", "a parameter is given more than once");
    };
    let Some(auth) = &shared.auth else {
        return token_error("invalid_request", "this server is open");
    };
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let mut a = lock(auth);
    match get("grant_type") {
        Some("authorization_code") => {
            let (Some(code), Some(redirect_uri), Some(client_id)) =
                (get("code"), get("redirect_uri"), get("client_id"))
            else {
                return token_error(
                    "invalid_request",
                    "code, redirect_uri and client_id are required",
                );
            };
            let Some(verifier) = get("code_verifier") else {
                return token_error("invalid_request", "code_verifier is required (PKCE)");
            };
            let key = sha256_b64url(code);
            let Some(grant) = a.codes.get_mut(&key) else {
                return token_error("invalid_grant", "the authorization code is not valid");
            };
            if grant.used {
                // A replayed code: revoke what it produced (RFC 6749 §4.1.2).
                let family = grant.family;
                a.revoke_family(family);
                return token_error("invalid_grant", "the authorization code was already used");
            }
            // Single use, whatever happens next.
            grant.used = true;
            if grant.created.elapsed() >= CODE_TTL {
                return token_error("invalid_grant", "the authorization code has expired");
            }
            if grant.client_id != client_id {
                return token_error("invalid_grant", "the code was issued to another client");
            }
            if grant.redirect_uri != redirect_uri
                && valid_redirect_uri(redirect_uri)
                    .map(String::from)
                    .as_deref()
                    != Some(&grant.redirect_uri)
            {
                return token_error(
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                );
            }
            if !is_code_verifier(verifier) || sha256_b64url(verifier) != grant.code_challenge {
                return token_error("invalid_grant", "PKCE verification failed");
            }
            let (scope, family) = (grant.scope.clone(), grant.family);
            a.issue(client_id, &scope, &shared.patient_id, family)
        }
        Some("refresh_token") => {
            let Some(refresh) = get("refresh_token") else {
                return token_error("invalid_request", "refresh_token is required");
            };
            let key = sha256_b64url(refresh);
            let Some(grant) = a.refresh.get(&key) else {
                return token_error("invalid_grant", "the refresh token is not valid");
            };
            if get("client_id").is_some_and(|c| c != grant.client_id) {
                return token_error(
                    "invalid_grant",
                    "the refresh token was issued to another client",
                );
            }
            let scope = match get("scope") {
                None => grant.scope.clone(),
                Some(s) => {
                    let granted: Vec<&str> = grant.scope.split(' ').collect();
                    if !s.split_whitespace().all(|x| granted.contains(&x)) {
                        return token_error(
                            "invalid_scope",
                            "the scope asked for exceeds what was granted",
                        );
                    }
                    s.split_whitespace().collect::<Vec<_>>().join(" ")
                }
            };
            // Rotate: the presented token stops working.
            let Some(grant) = a.refresh.remove(&key) else {
                return token_error("invalid_grant", "the refresh token is not valid");
            };
            a.issue(&grant.client_id, &scope, &grant.patient, grant.family)
        }
        Some(_) => token_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ),
        None => token_error("invalid_request", "grant_type is required"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_loopback_http() {
        assert!(valid_redirect_uri("http://127.0.0.1:8765/callback").is_some());
        assert!(valid_redirect_uri("http://localhost/cb").is_some());
        assert!(valid_redirect_uri("http://[::1]:9/cb").is_some());
        assert!(valid_redirect_uri("https://127.0.0.1/cb").is_none());
        assert!(valid_redirect_uri("http://example.com/cb").is_none());
        assert!(valid_redirect_uri("http://127.0.0.1/cb#frag").is_none());
        assert!(valid_redirect_uri("http://user@127.0.0.1/cb").is_none());
        assert!(valid_redirect_uri("not a url").is_none());
    }

    #[test]
    fn verifier_and_challenge_syntax() {
        assert!(is_code_verifier(&"a".repeat(43)));
        assert!(!is_code_verifier(&"a".repeat(42)));
        assert!(!is_code_verifier(&format!("{}!", "a".repeat(43))));
        assert!(is_code_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_code_challenge("short"));
    }
}
