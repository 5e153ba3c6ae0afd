//! Share packages through a relay (issue 7): the encrypted package is `PUT` at
//! `{relay}/{random id}` and the SMART Health Link (flag `U`) points there; a recipient's
//! viewer `GET`s it back (`?recipient=…`, as the SHL specification asks). The relay only ever
//! sees the ciphertext: the key travels in the link, never to the relay. The id carries 256
//! random bits, as SHL asks of a link's URL.
//!
//! Relays are `https://`, or `http://` on this computer only (loopback: tests, the demo).
//! Redirects are not followed; replies are size-limited.

use crate::error::SyncError;
use std::io::Read;
use std::time::Duration;
use url::Url;

/// The largest package fetched from a relay.
pub const MAX_FETCH: u64 = 512 << 20;

fn err(relay: &Url, reason: impl Into<String>) -> SyncError {
    SyncError::Relay { relay: relay.origin().ascii_serialization(), reason: reason.into() }
}

/// Checks a relay's or a link's address: https, or http on loopback.
pub fn check_url(u: &str) -> Result<Url, SyncError> {
    let bad = |reason: &str| SyncError::Relay { relay: "address".into(), reason: reason.into() };
    let url = Url::parse(u).map_err(|_| bad("is not a valid URL; give it as https://host/path"))?;
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(a)) if a.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(a)) if a.is_loopback())
        || url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(bad("must use https:// (plain http only on this computer)")),
        _ => Err(bad("must be an https:// address")),
    }
}

fn client() -> Result<reqwest::blocking::Client, SyncError> {
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Techo/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SyncError::Relay { relay: "client".into(), reason: format!("could not set up HTTP: {e}") })
}

/// A fresh random id of 256 bits (64 hex digits).
fn new_id() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Uploads an encrypted package (a compact JWE) to the relay at `relay_base`; returns the URL
/// the link points at.
pub fn upload(relay_base: &str, package: &[u8]) -> Result<String, SyncError> {
    let base = check_url(relay_base)?;
    let url = Url::parse(&format!("{}/{}", base.as_str().trim_end_matches('/'), new_id())).map_err(|_| err(&base, "gave an unusable address"))?;
    let resp = client()?
        .put(url.clone())
        .header("Content-Type", "application/jose")
        .body(package.to_vec())
        .send()
        .map_err(|e| err(&base, format!("could not be reached ({})", if e.is_timeout() { "timed out" } else { "connection failed" })))?;
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(err(&base, format!("refused the package (HTTP {status}); nothing was shared through it")));
    }
    Ok(url.to_string())
}

/// Fetches a package from the link's URL (`GET url?recipient=…`).
pub fn fetch(link_url: &str, recipient: &str) -> Result<Vec<u8>, SyncError> {
    let mut url = check_url(link_url)?;
    url.query_pairs_mut().append_pair("recipient", recipient);
    let resp = client()?
        .get(url.clone())
        .send()
        .map_err(|e| err(&url, format!("could not be reached ({})", if e.is_timeout() { "timed out" } else { "connection failed" })))?;
    let status = resp.status().as_u16();
    match status {
        200..=299 => {}
        404 | 410 => return Err(err(&url, format!("no longer holds this package (HTTP {status}); ask the sender for a new link"))),
        _ => return Err(err(&url, format!("answered HTTP {status}; try again later"))),
    }
    let mut body = Vec::new();
    resp.take(MAX_FETCH + 1).read_to_end(&mut body).map_err(|_| err(&url, "cut the package off; try again"))?;
    if body.len() as u64 > MAX_FETCH {
        return Err(err(&url, "sent more than 512 MiB; that is no Techo package"));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_are_https_or_loopback() {
        assert!(check_url("https://relay.example/shl").is_ok());
        assert!(check_url("http://127.0.0.1:8080/relay").is_ok());
        assert!(check_url("http://[::1]:8080/relay").is_ok());
        assert!(check_url("http://localhost/relay").is_ok());
        assert_eq!(check_url("http://relay.example/shl").unwrap_err().code(), "relay_failed");
        assert!(check_url("ftp://relay.example/").is_err());
        assert!(check_url("not a url").is_err());
        let a = new_id();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_id());
    }
}
