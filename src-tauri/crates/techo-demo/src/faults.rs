//! The fault-injecting proxy: a loopback HTTP/1.1 reverse proxy the sync tests put between
//! Techo's sync client and a FHIR server (the demo hospital or a Node one).
//!
//! It works on bytes: it reads each request itself, forwards it upstream on a fresh connection
//! (`Connection: close`, no `Accept-Encoding`, so the answer comes back uncompressed), reads the
//! whole answer (`Content-Length`, chunked or to EOF), replaces the upstream origin with the
//! proxy's in headers and body (so `next` links and SMART endpoints point at the proxy), and
//! answers the client with a `Content-Length` body on a keep-alive connection. Faults replace or
//! distort that answer, down to the TCP level (reset, hang, slow or truncated body).
//!
//! For each request the [`Rule`]s are consulted in order: a rule whose `path_contains` matches
//! counts the request; once it has let `skip` matching requests through, it faults the next
//! `times` ones. The first rule that decides to fault wins (later rules do not count that
//! request). Every request goes to [`FaultProxy::log`].
//!
//! Loopback only: the proxy listens on 127.0.0.1 and forwards only to a loopback upstream.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::hospital::lock;
use crate::runtime::ServerHandle;
use crate::util::{
    dechunk, is_loopback_host, patient_ref_id, redact_path_and_query, replace_bytes,
};

/// Largest request or response head read, and largest body.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 256 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(120);

/// What to do to a request instead of (or on top of) forwarding it faithfully.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer `code` (e.g. 429, 500, 502, 503) with a small OperationOutcome, and `Retry-After:
    /// seconds` when given. Not forwarded.
    Status { code: u16, retry_after: Option<u64> },
    /// Close the connection without an answer, with a TCP RST (`SO_LINGER` 0). Not forwarded.
    Reset,
    /// Read the request, never answer (until the client gives up). Not forwarded.
    Hang,
    /// Forward, then send the real answer's body at about `bytes_per_sec` (at least 1).
    SlowBody { bytes_per_sec: usize },
    /// Forward, then send the head (with the real `Content-Length`) and only the first `keep`
    /// body bytes, and close the connection.
    Truncate { keep: usize },
    /// `200 text/html` "Service Unavailable" page. Not forwarded.
    HtmlErrorPage,
    /// `200 application/fhir+json` whose body is not JSON. Not forwarded.
    InvalidJson,
    /// `500` with an OperationOutcome. Not forwarded.
    OperationOutcome,
    /// `200` with a valid Patient resource where a searchset Bundle is expected. Not forwarded.
    WrongResourceType,
    /// Forward, but point the Bundle's `next` link at another origin
    /// (`http://127.0.0.2:PROXYPORT/…`, same path and query); a Bundle without one gets one.
    ForeignNextLink,
    /// Forward, but rewrite every `Patient/<id>` reference (`"reference"` values) in the body to
    /// `Patient/<patient_id>`.
    OtherPatient { patient_id: String },
    /// `401` with `WWW-Authenticate: Bearer error="invalid_token"`. Not forwarded.
    Unauthorized,
}

impl Fault {
    /// Short label as logged: `Status(503)`, `Reset`, `Truncate(10)`, …
    pub fn label(&self) -> String {
        match self {
            Fault::Status { code, .. } => format!("Status({code})"),
            Fault::Reset => "Reset".into(),
            Fault::Hang => "Hang".into(),
            Fault::SlowBody { bytes_per_sec } => format!("SlowBody({bytes_per_sec})"),
            Fault::Truncate { keep } => format!("Truncate({keep})"),
            Fault::HtmlErrorPage => "HtmlErrorPage".into(),
            Fault::InvalidJson => "InvalidJson".into(),
            Fault::OperationOutcome => "OperationOutcome".into(),
            Fault::WrongResourceType => "WrongResourceType".into(),
            Fault::ForeignNextLink => "ForeignNextLink".into(),
            Fault::OtherPatient { .. } => "OtherPatient".into(),
            Fault::Unauthorized => "Unauthorized".into(),
        }
    }
}

/// When to inject a fault. See the module docs for how rules are consulted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Only requests whose path and query contain this (`None`: every request).
    pub path_contains: Option<String>,
    /// Let the first `skip` matching requests through.
    pub skip: usize,
    /// Then fault this many (`usize::MAX`: every one after).
    pub times: usize,
    pub fault: Fault,
}

impl Rule {
    /// Faults the next matching request (any path), once.
    pub fn once(fault: Fault) -> Rule {
        Rule {
            path_contains: None,
            skip: 0,
            times: 1,
            fault,
        }
    }

    /// Faults every matching request.
    pub fn always(fault: Fault) -> Rule {
        Rule {
            path_contains: None,
            skip: 0,
            times: usize::MAX,
            fault,
        }
    }

    /// Only requests whose path and query contain `s`.
    pub fn on(mut self, s: &str) -> Rule {
        self.path_contains = Some(s.to_owned());
        self
    }

    pub fn skip(mut self, n: usize) -> Rule {
        self.skip = n;
        self
    }

    pub fn times(mut self, n: usize) -> Rule {
        self.times = n;
        self
    }
}

/// One request as the proxy saw it (secret query values redacted, no bodies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedRequest {
    pub method: String,
    pub path_and_query: String,
    /// The injected fault's [`Fault::label`], if any.
    pub fault: Option<String>,
    /// The status the client was sent; `None` when it got none (reset, hang).
    pub status: Option<u16>,
}

struct Upstream {
    /// `host:port` to connect to and send as `Host`.
    authority: String,
    /// Origins (`http://127.0.0.1:P`, `http://localhost:P`) rewritten to the proxy's.
    origins: Vec<String>,
}

struct ProxyShared {
    upstream: Upstream,
    origin: String,
    port: u16,
    rules: Mutex<Vec<(Rule, usize)>>,
    log: Mutex<Vec<ProxiedRequest>>,
}

impl ProxyShared {
    fn pick(&self, path_and_query: &str) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        for (rule, seen) in rules.iter_mut() {
            if rule
                .path_contains
                .as_deref()
                .is_some_and(|p| !path_and_query.contains(p))
            {
                continue;
            }
            let n = *seen;
            *seen += 1;
            if n >= rule.skip && n - rule.skip < rule.times {
                return Some(rule.fault.clone());
            }
        }
        None
    }

    fn record(&self, req: &ClientRequest, fault: Option<&Fault>, status: Option<u16>) {
        lock(&self.log).push(ProxiedRequest {
            method: req.method.clone(),
            path_and_query: redact_path_and_query(&req.target),
            fault: fault.map(Fault::label),
            status,
        });
    }
}

/// A running fault proxy. Stops on [`FaultProxy::shutdown`] or drop.
pub struct FaultProxy {
    base_url: String,
    shared: Arc<ProxyShared>,
    server: ServerHandle,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

impl FaultProxy {
    /// Starts a proxy on a free 127.0.0.1 port in front of `upstream_base` (a plain-HTTP
    /// loopback URL such as `http://127.0.0.1:8080/fhir`).
    pub fn start(upstream_base: &str) -> io::Result<FaultProxy> {
        let u =
            url::Url::parse(upstream_base).map_err(|_| invalid("upstream_base is not a URL"))?;
        if u.scheme() != "http" {
            return Err(invalid("upstream_base must be plain http"));
        }
        let host = u
            .host()
            .ok_or_else(|| invalid("upstream_base has no host"))?;
        if !is_loopback_host(&host) {
            return Err(invalid("upstream_base must be on loopback"));
        }
        let port = u.port_or_known_default().unwrap_or(80);
        let host_text = match host {
            url::Host::Ipv6(a) => format!("[{a}]"),
            h => h.to_string(),
        };
        let authority = format!("{host_text}:{port}");
        let mut origins = vec![format!("http://{authority}")];
        for alt in [
            format!("http://127.0.0.1:{port}"),
            format!("http://localhost:{port}"),
            format!("http://[::1]:{port}"),
        ] {
            if !origins.contains(&alt) {
                origins.push(alt);
            }
        }
        if u.port().is_none() {
            origins.push(format!("http://{host_text}"));
        }
        let listener = ServerHandle::bind(0)?;
        let proxy_port = listener.local_addr()?.port();
        let origin = format!("http://127.0.0.1:{proxy_port}");
        let path = u.path().trim_end_matches('/');
        let base_url = format!("{origin}{path}");
        let shared = Arc::new(ProxyShared {
            upstream: Upstream { authority, origins },
            origin,
            port: proxy_port,
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
        });
        let for_server = shared.clone();
        let server = ServerHandle::start("fault-proxy", listener, move |stream| {
            serve_connection(for_server.clone(), stream)
        })?;
        Ok(FaultProxy {
            base_url,
            shared,
            server,
        })
    }

    /// The upstream base path on the proxy's origin: `http://127.0.0.1:PROXYPORT/fhir`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// `http://127.0.0.1:PROXYPORT`.
    pub fn origin(&self) -> String {
        self.shared.origin.clone()
    }

    /// Appends a rule (consulted after the ones already there).
    pub fn add(&self, rule: Rule) {
        lock(&self.shared.rules).push((rule, 0));
    }

    /// Removes every rule: from now on everything is forwarded faithfully.
    pub fn clear(&self) {
        lock(&self.shared.rules).clear();
    }

    /// Every request seen so far (oldest first).
    pub fn log(&self) -> Vec<ProxiedRequest> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// Stops the proxy and closes its connections (also done on drop).
    pub fn shutdown(mut self) {
        self.server.stop();
    }
}

type Headers = Vec<(String, Vec<u8>)>;

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

fn header_has_token(headers: &Headers, name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .any(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        })
}

fn content_length(headers: &Headers) -> io::Result<Option<usize>> {
    match header(headers, "content-length") {
        None => Ok(None),
        Some(v) => std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .filter(|n| *n <= MAX_BODY)
            .map(Some)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length")),
    }
}

struct ClientRequest {
    method: String,
    /// Origin-form path and query.
    target: String,
    headers: Headers,
    body: Vec<u8>,
    /// Close after answering (HTTP/1.0 or `Connection: close`).
    close: bool,
}

async fn read_more(s: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = s.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

/// Reads a body framed by `headers` that starts at `buf[start..]`; returns it and the end
/// offset in `buf`.
async fn read_body(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    start: usize,
    headers: &Headers,
    to_eof: bool,
) -> io::Result<(Vec<u8>, usize)> {
    if header_has_token(headers, "transfer-encoding", "chunked") {
        loop {
            match dechunk(&buf[start..]) {
                Ok(Some((body, used))) => return Ok((body, start + used)),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            if buf.len() - start > MAX_BODY {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
            }
            if read_more(s, buf).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
    if let Some(n) = content_length(headers)? {
        while buf.len() < start + n {
            if read_more(s, buf).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        return Ok((buf[start..start + n].to_vec(), start + n));
    }
    if to_eof {
        while read_more(s, buf).await? > 0 {
            if buf.len() - start > MAX_BODY {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
            }
        }
        return Ok((buf[start..].to_vec(), buf.len()));
    }
    Ok((Vec::new(), start))
}

fn owned_headers(hs: &[httparse::Header<'_>]) -> Headers {
    hs.iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect()
}

/// The next request on a client connection; `Ok(None)` at a clean EOF between requests.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Option<ClientRequest>> {
    let (head_len, method, target, minor, headers) = loop {
        if !buf.is_empty() {
            let mut hs = [httparse::EMPTY_HEADER; 100];
            let mut req = httparse::Request::new(&mut hs);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    break (
                        n,
                        req.method.unwrap_or("GET").to_owned(),
                        req.path.unwrap_or("/").to_owned(),
                        req.version.unwrap_or(1),
                        owned_headers(req.headers),
                    );
                }
                Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => {}
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "bad request head",
                    ))
                }
            }
        }
        if read_more(s, buf).await? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
    };
    let (body, end) = read_body(s, buf, head_len, &headers, false).await?;
    buf.drain(..end);
    // Absolute-form targets (`http://host/path`) become origin-form.
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest
            .find('/')
            .map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned()),
        None => target,
    };
    let close = minor == 0 || header_has_token(&headers, "connection", "close");
    Ok(Some(ClientRequest {
        method,
        target,
        headers,
        body,
        close,
    }))
}

struct UpstreamResponse {
    status: u16,
    reason: String,
    headers: Headers,
    body: Vec<u8>,
}

/// Hop-by-hop and framing headers the proxy sets itself.
const DROP_REQUEST_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "content-length",
    "accept-encoding",
];
const DROP_RESPONSE_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "content-length",
    "trailer",
    "upgrade",
];

async fn forward(up: &Upstream, req: &ClientRequest) -> io::Result<UpstreamResponse> {
    let mut s = timeout(CONNECT_TIMEOUT, TcpStream::connect(up.authority.as_str()))
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    let _ = s.set_nodelay(true);
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\n",
        req.method, req.target, up.authority
    )
    .into_bytes();
    for (k, v) in &req.headers {
        if DROP_REQUEST_HEADERS
            .iter()
            .any(|d| k.eq_ignore_ascii_case(d))
        {
            continue;
        }
        head.extend_from_slice(k.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(v);
        head.extend_from_slice(b"\r\n");
    }
    if !req.body.is_empty() || matches!(req.method.as_str(), "POST" | "PUT" | "PATCH") {
        head.extend_from_slice(format!("Content-Length: {}\r\n", req.body.len()).as_bytes());
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    head.extend_from_slice(&req.body);
    s.write_all(&head).await?;
    s.flush().await?;

    let mut buf = Vec::new();
    loop {
        let parsed = {
            let mut hs = [httparse::EMPTY_HEADER; 100];
            let mut resp = httparse::Response::new(&mut hs);
            match resp.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => Some((
                    n,
                    resp.code.unwrap_or(502),
                    resp.reason.unwrap_or("").to_owned(),
                    owned_headers(resp.headers),
                )),
                Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => None,
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "bad response head",
                    ))
                }
            }
        };
        if let Some((n, status, reason, headers)) = parsed {
            if (100..200).contains(&status) && status != 101 {
                // An interim answer (100 Continue): skip it.
                buf.drain(..n);
                continue;
            }
            let no_body = req.method == "HEAD" || status == 204 || status == 304;
            let body = if no_body {
                Vec::new()
            } else {
                read_body(&mut s, &mut buf, n, &headers, true).await?.0
            };
            return Ok(UpstreamResponse {
                status,
                reason,
                headers,
                body,
            });
        }
        if read_more(&mut s, &mut buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// An answer to send: status, headers (without framing ones) and body.
struct Answer {
    status: u16,
    reason: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Answer {
    fn synthetic(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            reason: reason(status),
            headers: vec![("Content-Type".into(), content_type.as_bytes().to_vec())],
            body: body.into(),
        }
    }

    fn with_header(mut self, k: &str, v: &str) -> Answer {
        self.headers.push((k.to_owned(), v.as_bytes().to_vec()));
        self
    }

    /// The head, announcing `content_length` body bytes.
    fn head(&self, content_length: usize, close: bool) -> Vec<u8> {
        let mut h = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).into_bytes();
        for (k, v) in &self.headers {
            h.extend_from_slice(k.as_bytes());
            h.extend_from_slice(b": ");
            h.extend_from_slice(v);
            h.extend_from_slice(b"\r\n");
        }
        h.extend_from_slice(format!("Content-Length: {content_length}\r\n").as_bytes());
        if close {
            h.extend_from_slice(b"Connection: close\r\n");
        }
        h.extend_from_slice(b"\r\n");
        h
    }
}

fn reason(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Status")
        .to_owned()
}

fn outcome_body(code: &str, diagnostics: &str) -> Vec<u8> {
    crate::hospital::operation_outcome(code, diagnostics)
        .to_string()
        .into_bytes()
}

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// The upstream answer as the client should see it: framing headers dropped, the upstream
/// origin replaced by the proxy's in header values and (uncompressed) bodies.
fn rewrite(shared: &ProxyShared, r: UpstreamResponse) -> Answer {
    let proxy = shared.origin.as_bytes();
    let headers = r
        .headers
        .into_iter()
        .filter(|(k, _)| {
            !DROP_RESPONSE_HEADERS
                .iter()
                .any(|d| k.eq_ignore_ascii_case(d))
        })
        .map(|(k, mut v)| {
            for o in &shared.upstream.origins {
                v = replace_bytes(&v, o.as_bytes(), proxy);
            }
            (k, v)
        })
        .collect::<Headers>();
    let encoded =
        header(&headers, "content-encoding").is_some_and(|v| !v.eq_ignore_ascii_case(b"identity"));
    let mut body = r.body;
    if !encoded {
        for o in &shared.upstream.origins {
            body = replace_bytes(&body, o.as_bytes(), proxy);
        }
    }
    Answer {
        status: r.status,
        reason: r.reason,
        headers,
        body,
    }
}

/// `ForeignNextLink`: the Bundle's next link moved to `http://127.0.0.2:PROXYPORT`.
fn foreign_next_link(body: &[u8], port: u16, origin: &str, target: &str) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    let Some(obj) = v.as_object_mut() else {
        return body.to_vec();
    };
    let foreign = |u: &str| -> String {
        match url::Url::parse(u) {
            Ok(mut parsed) => {
                let _ = parsed.set_scheme("http");
                let _ = parsed.set_host(Some("127.0.0.2"));
                let _ = parsed.set_port(Some(port));
                parsed.into()
            }
            Err(_) => format!("http://127.0.0.2:{port}{target}"),
        }
    };
    let links = obj
        .entry("link")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !links.is_array() {
        *links = Value::Array(Vec::new());
    }
    let mut found = false;
    if let Some(arr) = links.as_array_mut() {
        for l in arr.iter_mut() {
            if l.get("relation").and_then(Value::as_str) == Some("next") {
                let new = foreign(l.get("url").and_then(Value::as_str).unwrap_or(""));
                l["url"] = Value::String(new);
                found = true;
            }
        }
        if !found {
            arr.push(json!({"relation": "next", "url": foreign(&format!("{origin}{target}"))}));
        }
    }
    v.to_string().into_bytes()
}

/// `OtherPatient`: every `"reference": "…Patient/<id>…"` now names `patient_id`.
fn other_patient(body: &[u8], patient_id: &str) -> Vec<u8> {
    fn walk(v: &mut Value, new_id: &str) {
        match v {
            Value::Object(m) => {
                for (k, v) in m.iter_mut() {
                    if k == "reference" {
                        if let Some(r) = v.as_str() {
                            if let Some(old) = patient_ref_id(r) {
                                let replaced = r.replacen(
                                    &format!("Patient/{old}"),
                                    &format!("Patient/{new_id}"),
                                    1,
                                );
                                *v = Value::String(replaced);
                            }
                        }
                    } else {
                        walk(v, new_id);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| walk(v, new_id)),
            _ => {}
        }
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    walk(&mut v, patient_id);
    v.to_string().into_bytes()
}

async fn serve_connection(shared: Arc<ProxyShared>, mut client: TcpStream) {
    let mut buf = Vec::new();
    loop {
        let req = match read_request(&mut client, &mut buf).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(_) => {
                let a = Answer::synthetic(400, "text/plain", "bad request\n");
                let _ = client
                    .write_all(&[a.head(a.body.len(), true), a.body].concat())
                    .await;
                return;
            }
        };
        let fault = shared.pick(&req.target);
        match answer(&shared, &mut client, &req, fault).await {
            Ok(true) if !req.close => continue,
            _ => return,
        }
    }
}

/// Answers one request; `Ok(true)` when the connection may serve another.
async fn answer(
    shared: &ProxyShared,
    client: &mut TcpStream,
    req: &ClientRequest,
    fault: Option<Fault>,
) -> io::Result<bool> {
    let close = req.close;
    let synthetic = match &fault {
        Some(Fault::Reset) => {
            shared.record(req, fault.as_ref(), None);
            // SO_LINGER 0: closing sends RST instead of FIN.
            let _ = socket2::SockRef::from(&*client).set_linger(Some(Duration::ZERO));
            return Ok(false);
        }
        Some(Fault::Hang) => {
            shared.record(req, fault.as_ref(), None);
            let mut sink = [0u8; 4096];
            while client.read(&mut sink).await? > 0 {}
            return Ok(false);
        }
        Some(Fault::Status { code, retry_after }) => {
            let a = Answer::synthetic(*code, FHIR_JSON, outcome_body("transient", "Injected fault: try again later."));
            Some(match retry_after {
                Some(s) => a.with_header("Retry-After", &s.to_string()),
                None => a,
            })
        }
        Some(Fault::HtmlErrorPage) => Some(Answer::synthetic(
            200,
            "text/html; charset=utf-8",
            "<!doctype html><html><head><title>Service Unavailable</title></head>\
             <body><h1>Service Unavailable</h1><p>The server is down for maintenance.</p></body></html>\n",
        )),
        Some(Fault::InvalidJson) => Some(Answer::synthetic(200, FHIR_JSON, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":")),
        Some(Fault::OperationOutcome) => {
            Some(Answer::synthetic(500, FHIR_JSON, outcome_body("exception", "Injected fault: internal server error.")))
        }
        Some(Fault::WrongResourceType) => Some(Answer::synthetic(
            200,
            FHIR_JSON,
            json!({
                "resourceType": "Patient",
                "id": "wrong-resource-type",
                "meta": {"versionId": "1", "lastUpdated": "2025-01-01T00:00:00.000Z"},
                "active": true
            })
            .to_string(),
        )),
        Some(Fault::Unauthorized) => Some(
            Answer::synthetic(401, FHIR_JSON, outcome_body("login", "Injected fault: the access token is not valid."))
                .with_header("WWW-Authenticate", "Bearer error=\"invalid_token\""),
        ),
        None | Some(Fault::SlowBody { .. } | Fault::Truncate { .. } | Fault::ForeignNextLink | Fault::OtherPatient { .. }) => None,
    };
    if let Some(a) = synthetic {
        shared.record(req, fault.as_ref(), Some(a.status));
        client
            .write_all(&[a.head(a.body.len(), close), a.body].concat())
            .await?;
        return Ok(true);
    }

    let upstream = match timeout(UPSTREAM_TIMEOUT, forward(&shared.upstream, req)).await {
        Ok(Ok(r)) => r,
        _ => {
            let a = Answer::synthetic(
                502,
                FHIR_JSON,
                outcome_body(
                    "transient",
                    "The proxy could not reach the upstream server.",
                ),
            );
            shared.record(req, fault.as_ref(), Some(a.status));
            client
                .write_all(&[a.head(a.body.len(), close), a.body].concat())
                .await?;
            return Ok(true);
        }
    };
    let mut a = rewrite(shared, upstream);
    match &fault {
        Some(Fault::ForeignNextLink) => {
            a.body = foreign_next_link(&a.body, shared.port, &shared.origin, &req.target)
        }
        Some(Fault::OtherPatient { patient_id }) => a.body = other_patient(&a.body, patient_id),
        _ => {}
    }
    shared.record(req, fault.as_ref(), Some(a.status));
    let body_len = if req.method == "HEAD" {
        0
    } else {
        a.body.len()
    };
    match fault {
        Some(Fault::Truncate { keep }) => {
            client.write_all(&a.head(body_len, false)).await?;
            client.write_all(&a.body[..keep.min(a.body.len())]).await?;
            client.flush().await?;
            let _ = client.shutdown().await;
            Ok(false)
        }
        Some(Fault::SlowBody { bytes_per_sec }) => {
            let bps = bytes_per_sec.max(1);
            let chunk = (bps / 10).max(1);
            let pause = Duration::from_secs_f64(chunk as f64 / bps as f64);
            client.write_all(&a.head(body_len, close)).await?;
            for piece in a.body.chunks(chunk) {
                client.write_all(piece).await?;
                client.flush().await?;
                tokio::time::sleep(pause).await;
            }
            Ok(true)
        }
        _ => {
            client
                .write_all(&[a.head(body_len, close), a.body].concat())
                .await?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_skip_then_fault_then_pass() {
        let s = ProxyShared {
            upstream: Upstream {
                authority: "127.0.0.1:1".into(),
                origins: vec![],
            },
            origin: "http://127.0.0.1:2".into(),
            port: 2,
            rules: Mutex::new(vec![
                (
                    Rule::once(Fault::Reset).on("/Observation").skip(1).times(2),
                    0,
                ),
                (Rule::always(Fault::Hang), 0),
            ]),
            log: Mutex::new(vec![]),
        };
        // Second rule catches everything the first lets through.
        assert_eq!(s.pick("/fhir/Observation?x"), Some(Fault::Hang));
        assert_eq!(s.pick("/fhir/Observation?x"), Some(Fault::Reset));
        assert_eq!(s.pick("/fhir/Patient"), Some(Fault::Hang));
        assert_eq!(s.pick("/fhir/Observation?x"), Some(Fault::Reset));
        assert_eq!(s.pick("/fhir/Observation?x"), Some(Fault::Hang));
        lock(&s.rules).clear();
        assert_eq!(s.pick("/fhir/Observation?x"), None);
    }

    #[test]
    fn body_rewrites() {
        let b = br#"{"resourceType":"Bundle","link":[{"relation":"self","url":"http://127.0.0.1:9/fhir/O"},{"relation":"next","url":"http://127.0.0.1:9/fhir/O?_cursor=1"}],"entry":[{"resource":{"subject":{"reference":"Patient/abc"},"performer":[{"reference":"Practitioner/p"}]}}]}"#;
        let f =
            String::from_utf8(foreign_next_link(b, 9, "http://127.0.0.1:9", "/fhir/O")).unwrap();
        assert!(
            f.contains(r#""url":"http://127.0.0.2:9/fhir/O?_cursor=1""#),
            "{f}"
        );
        assert!(f.contains(r#""url":"http://127.0.0.1:9/fhir/O""#));
        let o = String::from_utf8(other_patient(b, "zzz")).unwrap();
        assert!(
            o.contains(r#""reference":"Patient/zzz""#)
                && o.contains("Practitioner/p")
                && !o.contains("Patient/abc")
        );
        assert_eq!(other_patient(b"not json", "z"), b"not json");
    }
}
