//! Small shared helpers: random tokens, digests, HTML escaping, log redaction, instants,
//! chunked decoding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes from the OS, base64url without padding (43 characters).
pub(crate) fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// BASE64URL-NOPAD(SHA256(s)): the PKCE S256 transform, also how the hospital keys the codes
/// and tokens it has issued (it never keeps them in clear).
pub(crate) fn sha256_b64url(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(s.as_bytes()))
}

/// Query parameters whose values are secrets: their values never reach a log.
const SECRET_PARAMS: [&str; 5] = [
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "client_secret",
];

/// The path and query as a log may keep it: secret parameter values replaced by `REDACTED`.
pub(crate) fn redact_path_and_query(pq: &str) -> String {
    let Some((path, query)) = pq.split_once('?') else {
        return pq.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(k)) => {
                format!("{k}=REDACTED")
            }
            _ => kv.to_owned(),
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

/// A FHIR instant in UTC with milliseconds: `2025-11-01T00:00:00.123Z`.
pub(crate) fn format_instant(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The span `[start, end)` in epoch milliseconds that a FHIR date or dateTime search value
/// stands for (`2025-11-01` is the whole UTC day, `…T09:00:00Z` one second,
/// `…T09:00:00.123Z` one millisecond). `None` when it is neither.
pub(crate) fn instant_span(v: &str) -> Option<(i64, i64)> {
    // An unencoded `+` in a query string arrives as a space.
    let v = v.trim().replace(' ', "+");
    if v.len() == 10 {
        let d = NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok()?;
        let start = d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
        return Some((start, start + 86_400_000));
    }
    let t = DateTime::parse_from_rfc3339(&v).ok()?;
    let ms = t.timestamp_millis();
    let after_t = v.split_once(['T', 't']).map(|(_, r)| r).unwrap_or("");
    let digits = after_t
        .split_once('.')
        .map(|(_, f)| f.chars().take_while(char::is_ascii_digit).count())
        .unwrap_or(0);
    let width = match digits {
        0 => 1000,
        1 => 100,
        2 => 10,
        _ => 1,
    };
    Some((ms, ms + width))
}

/// Decodes a complete `Transfer-Encoding: chunked` body at the start of `buf`.
/// `Ok(None)`: more bytes are needed. `Ok(Some((body, consumed)))`: done.
pub(crate) fn dechunk(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, &'static str> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(line_end) = find(&buf[pos..], b"\r\n") else {
            return if buf.len() - pos > 1024 {
                Err("chunk size line too long")
            } else {
                Ok(None)
            };
        };
        let line = std::str::from_utf8(&buf[pos..pos + line_end]).map_err(|_| "bad chunk size")?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        pos += line_end + 2;
        if size == 0 {
            // Trailers, then an empty line.
            loop {
                let Some(e) = find(&buf[pos..], b"\r\n") else {
                    return Ok(None);
                };
                pos += e + 2;
                if e == 0 {
                    return Ok(Some((body, pos)));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF");
        }
        pos += size + 2;
    }
}

/// Position of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `hay` with every `needle` replaced by `with`.
pub(crate) fn replace_bytes(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(i) = find(rest, needle) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(with);
        rest = &rest[i + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// FHIR id: `[A-Za-z0-9\-\.]{1,64}`.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `Patient/x`, `http://…/Patient/x`, `Patient/x/_history/2` → `x`.
pub(crate) fn patient_ref_id(r: &str) -> Option<&str> {
    let i = if r.starts_with("Patient/") {
        0
    } else {
        r.rfind("/Patient/")? + 1
    };
    let id = r[i + "Patient/".len()..].split('/').next()?;
    valid_id(id).then_some(id)
}

/// Is `host` a loopback name or address?
pub(crate) fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_refs_are_recognised() {
        assert_eq!(patient_ref_id("Patient/abc"), Some("abc"));
        assert_eq!(
            patient_ref_id("http://x/fhir/Patient/abc/_history/2"),
            Some("abc")
        );
        assert_eq!(patient_ref_id("Practitioner/abc"), None);
        assert_eq!(patient_ref_id("Patient/"), None);
    }


    #[test]
    fn redaction_hides_secret_values_only() {
        assert_eq!(
            redact_path_and_query("/cb?code=abc&state=s&refresh_token=r"),
            "/cb?code=REDACTED&state=s&refresh_token=REDACTED"
        );
        assert_eq!(redact_path_and_query("/fhir/Patient"), "/fhir/Patient");
    }

    #[test]
    fn instant_spans_follow_precision() {
        let (s, e) = instant_span("2025-11-01T09:00:00.123Z").unwrap();
        assert_eq!(e - s, 1);
        assert_eq!(format_instant(s), "2025-11-01T09:00:00.123Z");
        let (s2, e2) = instant_span("2025-11-01T18:00:00 09:00").unwrap();
        assert_eq!(e2 - s2, 1000);
        assert_eq!(format_instant(s2), "2025-11-01T09:00:00.000Z");
        let (s3, e3) = instant_span("2025-11-01").unwrap();
        assert_eq!(e3 - s3, 86_400_000);
        assert!(instant_span("yesterday").is_none());
        assert!(instant_span("2025-11-01T09:00:00").is_none());
    }

    #[test]
    fn dechunk_decodes_and_waits_for_more() {
        let b = b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\nNEXT";
        let (body, used) = dechunk(b).unwrap().unwrap();
        assert_eq!(body, b"Wikipedia");
        assert_eq!(&b[used..], b"NEXT");
        assert!(dechunk(b"4\r\nWi").unwrap().is_none());
        assert!(dechunk(b"zz\r\n").is_err());
    }

    #[test]
    fn replace_bytes_replaces_all() {
        assert_eq!(replace_bytes(b"a-b-c", b"-", b"+="), b"a+=b+=c");
        assert_eq!(replace_bytes(b"abc", b"x", b"y"), b"abc");
    }

    #[test]
    fn pkce_transform_matches_rfc7636_example() {
        assert_eq!(
            sha256_b64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
