//! HTTP for sync: one GET of FHIR JSON with the retry policy a polite client needs.
//!
//! - 429 and 503 honour `Retry-After` (seconds or an HTTP date) up to [`HttpOptions::max_wait`];
//!   longer is [`SyncError::TooBusy`].
//! - 5xx, timeouts, resets and cut-off bodies are retried with exponential backoff and full
//!   jitter, at most [`HttpOptions::attempts`] times in all.
//! - 401 is handed back ([`Fetched::Unauthorized`]) so the caller can refresh the token once.
//! - A body that is HTML, not JSON, too big, or an `OperationOutcome` is a clear error.
//! - At most [`HttpOptions::per_host`] requests run at once against one host, whatever the
//!   number of endpoints syncing.
//!
//! The retry decision ([`decide`]) is IO-free and unit-tested.

use crate::error::{Result, SyncError};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Connecting.
    pub connect_timeout: Duration,
    /// One whole request, body included (a server that hangs or trickles its body).
    pub timeout: Duration,
    /// Tries in all for transient failures (5xx, timeouts, resets, cut-off bodies).
    pub attempts: u32,
    /// The first backoff; doubled each time, with full jitter.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured.
    pub max_wait: Duration,
    /// The largest body accepted (one page).
    pub max_body: u64,
    /// Requests at once per host.
    pub per_host: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            attempts: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(15),
            max_wait: Duration::from_secs(120),
            max_body: 64 << 20,
            per_host: 2,
        }
    }
}

/// What one try came to, for [`decide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Status { status: u16, retry_after: Option<u64> },
    Timeout,
    /// Connection refused/reset, or a body cut off.
    Transport,
}

/// What to do after a try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Done,
    RetryAfter(Duration),
    GiveUp,
    /// The server asked for a wait longer than allowed.
    TooLong(u64),
}

/// The retry policy: `attempt` is the number of tries made so far (1 after the first);
/// `jitter` in [0, 1) picks the backoff within its window.
pub fn decide(outcome: &Outcome, attempt: u32, opts: &HttpOptions, jitter: f64) -> Action {
    let backoff = || {
        let exp = opts.backoff.saturating_mul(1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX));
        let cap = exp.min(opts.max_backoff);
        // Full jitter, but never less than a tenth of the window.
        cap.mul_f64(0.1 + 0.9 * jitter.clamp(0.0, 1.0))
    };
    let more = attempt < opts.attempts;
    match outcome {
        Outcome::Ok => Action::Done,
        Outcome::Status { status: 429 | 503, retry_after: Some(s) } => {
            if Duration::from_secs(*s) > opts.max_wait {
                Action::TooLong(*s)
            } else if more {
                Action::RetryAfter(Duration::from_secs(*s))
            } else {
                Action::GiveUp
            }
        }
        Outcome::Status { status, .. } if *status == 429 || *status >= 500 => {
            if more {
                Action::RetryAfter(backoff())
            } else {
                Action::GiveUp
            }
        }
        Outcome::Status { .. } => Action::GiveUp,
        Outcome::Timeout | Outcome::Transport => {
            if more {
                Action::RetryAfter(backoff())
            } else {
                Action::GiveUp
            }
        }
    }
}

/// `Retry-After` as seconds from now: delta-seconds or an HTTP date.
pub fn parse_retry_after(v: &str, now: SystemTime) -> Option<u64> {
    let v = v.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(s);
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let now: chrono::DateTime<chrono::Utc> = now.into();
    Some((when.with_timezone(&chrono::Utc) - now).num_seconds().max(0) as u64)
}

/// Counts requests in flight per host.
#[derive(Default)]
pub struct HostLimiter {
    inflight: Mutex<HashMap<String, usize>>,
    freed: Condvar,
}

pub struct HostPermit<'a> {
    limiter: &'a HostLimiter,
    host: String,
}

impl HostLimiter {
    pub fn acquire(&self, host: &str, limit: usize) -> HostPermit<'_> {
        let mut map = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        while map.get(host).copied().unwrap_or(0) >= limit.max(1) {
            map = self.freed.wait(map).unwrap_or_else(|e| e.into_inner());
        }
        *map.entry(host.to_owned()).or_default() += 1;
        HostPermit { limiter: self, host: host.to_owned() }
    }

    /// The most requests seen in flight against one host at once (for tests).
    pub fn in_flight(&self, host: &str) -> usize {
        self.inflight.lock().unwrap_or_else(|e| e.into_inner()).get(host).copied().unwrap_or(0)
    }
}

impl Drop for HostPermit<'_> {
    fn drop(&mut self) {
        let mut map = self.limiter.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.host) {
            *n = n.saturating_sub(1);
        }
        self.limiter.freed.notify_all();
    }
}

/// The result of [`Http::get_fhir`].
pub enum Fetched {
    Json(Value),
    /// 401: the token expired or was revoked.
    Unauthorized,
}

/// The HTTP client of a sync run (shared by every endpoint of the run).
#[derive(Clone)]
pub struct Http {
    client: reqwest::blocking::Client,
    pub opts: HttpOptions,
    limiter: Arc<HostLimiter>,
    /// Bytes of bodies received (for the benchmark's report).
    received: Arc<std::sync::atomic::AtomicU64>,
}

impl Http {
    pub fn new(opts: HttpOptions) -> Result<Http> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            // Never follow redirects: a redirect to another origin would carry the token there.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Techo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Unreachable { endpoint: "the network".into(), reason: format!("could not set up HTTP: {e}") })?;
        Ok(Http { client, opts, limiter: Arc::new(HostLimiter::default()), received: Default::default() })
    }

    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.client
    }

    pub fn limiter(&self) -> &HostLimiter {
        &self.limiter
    }

    pub fn bytes_received(&self) -> u64 {
        self.received.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// GETs FHIR JSON from `url`, retrying transient failures; `endpoint` names the server in errors.
    pub fn get_fhir(&self, endpoint: &str, url: &url::Url, token: Option<&SecretString>) -> Result<Fetched> {
        self.send_fhir(endpoint, url, None, token)
    }

    /// POSTs a FHIR JSON body (a batch Bundle of idempotent `PUT`s: safe to send again) with the
    /// same retry policy; the reply must be FHIR JSON.
    pub fn post_fhir(&self, endpoint: &str, url: &url::Url, body: &[u8], token: Option<&SecretString>) -> Result<Fetched> {
        self.send_fhir(endpoint, url, Some(body), token)
    }

    fn send_fhir(&self, endpoint: &str, url: &url::Url, body: Option<&[u8]>, token: Option<&SecretString>) -> Result<Fetched> {
        let host = url.host_str().unwrap_or("").to_owned();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tried = {
                let _permit = self.limiter.acquire(&host, self.opts.per_host);
                self.try_once(endpoint, url, body, token)
            };
            let (outcome, err) = match tried {
                Ok(Try::Json(v)) => return Ok(Fetched::Json(v)),
                Ok(Try::Unauthorized) => return Ok(Fetched::Unauthorized),
                Err((outcome, err)) => (outcome, err),
            };
            match decide(&outcome, attempt, &self.opts, rand::random::<f64>()) {
                Action::Done => unreachable!("errors are never done"),
                Action::RetryAfter(d) => {
                    log::debug!("{endpoint}: retrying in {} ms after {:?}", d.as_millis(), outcome);
                    std::thread::sleep(d);
                }
                Action::GiveUp => return Err(err),
                Action::TooLong(s) => return Err(SyncError::TooBusy { endpoint: endpoint.to_owned(), seconds: s }),
            }
        }
    }

    fn try_once(&self, endpoint: &str, url: &url::Url, body: Option<&[u8]>, token: Option<&SecretString>) -> std::result::Result<Try, (Outcome, SyncError)> {
        let ep = || endpoint.to_owned();
        let req = match body {
            None => self.client.get(url.clone()),
            Some(b) => self.client.post(url.clone()).header("Content-Type", "application/fhir+json").body(b.to_vec()),
        };
        let mut req = req.header("Accept", "application/fhir+json, application/json;q=0.9");
        if let Some(t) = token {
            req = req.bearer_auth(t.expose_secret());
        }
        let started = std::time::Instant::now();
        let resp = req.send().map_err(|e| transport_error(endpoint, &e))?;
        let status = resp.status().as_u16();
        if status == 401 {
            return Ok(Try::Unauthorized);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let content_type = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if let Some(len) = resp.content_length() {
            if len > self.opts.max_body {
                return Err((
                    Outcome::Status { status: 413, retry_after: None },
                    SyncError::Garbage { endpoint: ep(), what: format!("a reply of {len} bytes, more than the {} MiB a page may have", self.opts.max_body >> 20) },
                ));
            }
        }
        let mut body = Vec::new();
        let read = read_body(resp, self.opts.max_body + 1, started + self.opts.timeout, &mut body);
        self.received.fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = read {
            let timeout = is_timeout_io(&e);
            let err = if timeout {
                SyncError::Timeout { endpoint: ep(), reason: "the reply stopped coming".into() }
            } else {
                SyncError::Garbage { endpoint: ep(), what: "the reply was cut off".into() }
            };
            return Err((if timeout { Outcome::Timeout } else { Outcome::Transport }, err));
        }
        if body.len() as u64 > self.opts.max_body {
            return Err((
                Outcome::Status { status: 413, retry_after: None },
                SyncError::Garbage { endpoint: ep(), what: format!("a reply of more than {} MiB", self.opts.max_body >> 20) },
            ));
        }
        if !(200..300).contains(&status) {
            let detail = outcome_detail(&body);
            let advice = match status {
                404 | 410 => "the address may be wrong or the server no longer offers it — check the endpoint",
                403 => "the server refuses access — check what you allowed when signing in",
                429 | 503 => "the server is busy — sync again later",
                s if s >= 500 => "the server had a problem — sync again later",
                _ => "the server refused the request — tell the facility",
            };
            return Err((Outcome::Status { status, retry_after }, SyncError::Status { endpoint: ep(), status, detail, advice }));
        }
        let garbage = |what: String| (Outcome::Status { status: 200, retry_after: None }, SyncError::Garbage { endpoint: ep(), what });
        let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
        if content_type.starts_with("text/html") || first == Some(b'<') {
            return Err(garbage("an HTML page instead of FHIR JSON".into()));
        }
        let value: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            // The whole body came (its length was right) but the JSON stops early: a server
            // fault, possibly passing; tried again like a cut-off reply.
            Err(e) if e.is_eof() => {
                return Err((
                    Outcome::Transport,
                    SyncError::Garbage { endpoint: ep(), what: format!("invalid JSON: it stops early, at line {} column {}", e.line(), e.column()) },
                ));
            }
            Err(e) => return Err(garbage(format!("invalid JSON at line {} column {}", e.line(), e.column()))),
        };
        if value.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome") {
            let detail = outcome_detail(&body);
            return Err(garbage(format!("an OperationOutcome instead of data{detail}")));
        }
        Ok(Try::Json(value))
    }
}

/// Reads a body up to `limit` bytes, failing with `TimedOut` once `deadline` passes (reqwest's
/// timeout is per read, so a server trickling its body would otherwise hold a sync for ever).
fn read_body(resp: impl Read, limit: u64, deadline: std::time::Instant, body: &mut Vec<u8>) -> std::io::Result<()> {
    let mut r = resp.take(limit);
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        body.extend_from_slice(&buf[..n]);
        if std::time::Instant::now() > deadline {
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the body took too long"));
        }
    }
}

enum Try {
    Json(Value),
    Unauthorized,
}

/// ` (issue code: …)` from an OperationOutcome body; never its free text (it may quote data).
fn outcome_detail(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return String::new() };
    if v.get("resourceType").and_then(Value::as_str) != Some("OperationOutcome") {
        return String::new();
    }
    let codes: Vec<&str> = v
        .get("issue")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|i| i.get("code").and_then(Value::as_str)).take(3).collect())
        .unwrap_or_default();
    if codes.is_empty() {
        String::new()
    } else {
        format!(" (issue: {})", codes.join(", "))
    }
}

fn is_timeout_io(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::TimedOut {
        return true;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|r| r as &(dyn std::error::Error + 'static));
    while let Some(s) = src {
        if let Some(re) = s.downcast_ref::<reqwest::Error>() {
            if re.is_timeout() {
                return true;
            }
        }
        if s.to_string().contains("timed out") {
            return true;
        }
        src = s.source();
    }
    false
}

fn transport_error(endpoint: &str, e: &reqwest::Error) -> (Outcome, SyncError) {
    if e.is_timeout() {
        return (Outcome::Timeout, SyncError::Timeout { endpoint: endpoint.to_owned(), reason: "no answer in time".into() });
    }
    let reason = if e.is_connect() {
        "the connection was refused or failed".to_owned()
    } else {
        // Walk to the root cause, without the URL (it is the endpoint's, already named).
        let mut s: &dyn std::error::Error = e;
        while let Some(next) = s.source() {
            s = next;
        }
        format!("the connection broke: {s}")
    };
    (Outcome::Transport, SyncError::Unreachable { endpoint: endpoint.to_owned(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> HttpOptions {
        HttpOptions { attempts: 4, backoff: Duration::from_millis(100), max_backoff: Duration::from_millis(500), max_wait: Duration::from_secs(30), ..Default::default() }
    }

    #[test]
    fn retry_after_is_honoured_within_the_limit() {
        let o = opts();
        assert_eq!(decide(&Outcome::Status { status: 429, retry_after: Some(2) }, 1, &o, 0.5), Action::RetryAfter(Duration::from_secs(2)));
        assert_eq!(decide(&Outcome::Status { status: 503, retry_after: Some(0) }, 1, &o, 0.5), Action::RetryAfter(Duration::ZERO));
        assert_eq!(decide(&Outcome::Status { status: 503, retry_after: Some(31) }, 1, &o, 0.5), Action::TooLong(31));
        assert_eq!(decide(&Outcome::Status { status: 429, retry_after: Some(2) }, 4, &o, 0.5), Action::GiveUp);
    }

    #[test]
    fn transient_failures_back_off_exponentially_with_jitter_and_stop() {
        let o = opts();
        let d = |attempt, j| match decide(&Outcome::Status { status: 502, retry_after: None }, attempt, &o, j) {
            Action::RetryAfter(d) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(d(1, 1.0), Duration::from_millis(100));
        assert_eq!(d(2, 1.0), Duration::from_millis(200));
        assert_eq!(d(3, 1.0), Duration::from_millis(400));
        assert_eq!(d(1, 0.0), Duration::from_millis(10));
        assert!(d(2, 0.5) < d(2, 0.9));
        assert_eq!(decide(&Outcome::Timeout, 4, &o, 0.5), Action::GiveUp);
        assert_eq!(decide(&Outcome::Transport, 2, &o, 0.5), Action::RetryAfter(Duration::from_millis(110)));
        // Capped.
        let big = HttpOptions { attempts: 40, ..o.clone() };
        assert_eq!(decide(&Outcome::Timeout, 39, &big, 1.0), Action::RetryAfter(Duration::from_millis(500)));
    }

    #[test]
    fn client_errors_are_not_retried() {
        let o = opts();
        for s in [400, 403, 404, 410, 422] {
            assert_eq!(decide(&Outcome::Status { status: s, retry_after: Some(1) }, 1, &o, 0.5), Action::GiveUp, "{s}");
        }
        assert_eq!(decide(&Outcome::Ok, 1, &o, 0.5), Action::Done);
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(7));
        let date = chrono::DateTime::<chrono::Utc>::from(now + Duration::from_secs(90)).to_rfc2822();
        assert_eq!(parse_retry_after(&date, now), Some(90));
        assert_eq!(parse_retry_after("Tue, 14 Nov 2000 22:13:20 GMT", now), Some(0));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn host_limiter_bounds_requests_per_host() {
        let l = Arc::new(HostLimiter::default());
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..8 {
                let (l, peak) = (l.clone(), peak.clone());
                s.spawn(move || {
                    for _ in 0..20 {
                        let _p = l.acquire("h", 2);
                        peak.fetch_max(l.in_flight("h"), std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                    }
                });
            }
        });
        assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(l.in_flight("h"), 0);
    }
}
