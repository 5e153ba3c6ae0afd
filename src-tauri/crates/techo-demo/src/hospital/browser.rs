//! Playing the user's browser on the demo hospital's sign-in page, for tests: GET the
//! authorization URL, then submit the form. Plain blocking HTTP/1.1 over std, loopback only.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::util::{dechunk, is_loopback_host};
use crate::DemoError;

/// Which button the "user" presses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

/// Opens `authorize_url` (the full SMART authorization request, on the hospital or on a
/// [`crate::FaultProxy`] in front of it), presses `decision` on the sign-in page, and returns
/// the URL the browser would be sent to: the client's `redirect_uri?code=…&state=…`, or
/// `…?error=…` (also when the authorization request itself is refused with a redirect).
///
/// The returned URL carries a live authorization code: do not log it.
pub fn sign_in(authorize_url: &str, decision: Decision) -> Result<String, DemoError> {
    let url = url::Url::parse(authorize_url).map_err(|_| DemoError::NotLoopback("not a URL"))?;
    if url.scheme() != "http" {
        return Err(DemoError::NotLoopback("not http"));
    }
    if !url.host().is_some_and(|h| is_loopback_host(&h)) {
        return Err(DemoError::NotLoopback("not a loopback host"));
    }
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let page = request(&host, port, "GET", &target, None)?;
    match page.status {
        200 => {}
        302 | 303 => {
            return page
                .location
                .ok_or_else(|| DemoError::Unexpected("redirect without Location".into()))
        }
        s => {
            return Err(DemoError::Unexpected(format!(
                "the sign-in page answered HTTP {s}"
            )))
        }
    }
    let html = String::from_utf8_lossy(&page.body);
    let marker = "name=\"request_id\" value=\"";
    let Some(start) = html.find(marker).map(|i| i + marker.len()) else {
        return Err(DemoError::Unexpected("no sign-in form on the page".into()));
    };
    let request_id = html[start..].split('"').next().unwrap_or("");
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("request_id", request_id)
        .append_pair(
            "decision",
            if decision == Decision::Allow {
                "allow"
            } else {
                "deny"
            },
        )
        .finish();
    let done = request(&host, port, "POST", "/authorize/approve", Some(&form))?;
    match (done.status, done.location) {
        (302 | 303, Some(l)) => Ok(l),
        (s, _) => Err(DemoError::Unexpected(format!(
            "the sign-in form answered HTTP {s}"
        ))),
    }
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

fn request(
    host: &str,
    port: u16,
    method: &str,
    target: &str,
    form: Option<&str>,
) -> Result<Answer, DemoError> {
    let host_port = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut s = TcpStream::connect(host_port.as_str())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\nAccept: text/html\r\n");
    if let Some(f) = form {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            f.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(f) = form {
        req.push_str(f);
    }
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(&raw) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return Err(DemoError::Unexpected("malformed HTTP response".into())),
    };
    let status = resp.code.unwrap_or(0);
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
    };
    let location = header("location");
    let chunked =
        header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let rest = &raw[head_len..];
    let body = if chunked {
        match dechunk(rest) {
            Ok(Some((b, _))) => b,
            _ => return Err(DemoError::Unexpected("malformed chunked body".into())),
        }
    } else {
        let n = header("content-length")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(rest.len());
        rest[..n.min(rest.len())].to_vec()
    };
    Ok(Answer {
        status,
        location,
        body,
    })
}
