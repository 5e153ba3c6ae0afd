//! Helpers shared by the integration tests: a plain blocking client, PKCE, playing the browser.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::blocking::{Client, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};
use techo_demo::{Auth, Hospital, HospitalConfig};

pub const CLIENT_ID: &str = "techo-test";
pub const REDIRECT: &str = "http://127.0.0.1:53682/callback";

pub fn client() -> Client {
    client_with_timeout(Duration::from_secs(30))
}

pub fn client_with_timeout(t: Duration) -> Client {
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(t)
        .build()
        .expect("client")
}

pub fn open_hospital(resources: usize) -> Hospital {
    Hospital::start(HospitalConfig {
        seed: 7,
        resources,
        facilities: 3,
        auth: Auth::Open,
        port: 0,
        name: "Test Hospital".into(),
        stamped_from_ms: None,
        everything: false,
    })
    .expect("hospital starts")
}

pub fn smart_hospital(ttl: Duration) -> Hospital {
    Hospital::start(HospitalConfig {
        seed: 7,
        resources: 150,
        facilities: 2,
        auth: Auth::Smart { access_ttl: ttl },
        port: 0,
        name: "Test <Hospital> & Co".into(),
        stamped_from_ms: None,
        everything: false,
    })
    .expect("hospital starts")
}

pub fn json(r: Response) -> Value {
    let text = r.text().expect("body");
    serde_json::from_str(&text).expect("JSON body")
}

pub fn get_json(c: &Client, url: &str) -> (u16, Value) {
    let r = c.get(url).send().expect("request");
    let s = r.status().as_u16();
    (s, json(r))
}

/// (verifier, S256 challenge)
pub fn pkce() -> (String, String) {
    let verifier = format!("verifier-{}", "x".repeat(50));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn authorize_url(origin: &str, challenge: &str, state: &str, scope: &str) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", state)
        .append_pair("aud", &format!("{origin}/fhir"))
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{origin}/authorize?{q}")
}

pub fn query_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// Plays the browser with reqwest: GET the page, POST the form; returns the redirect Location.
pub fn browse_and_allow(c: &Client, origin: &str, url: &str) -> String {
    let page = c.get(url).send().expect("authorize");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().expect("page");
    assert!(
        html.contains("Demo Hospital — synthetic data, no real patient"),
        "{html}"
    );
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("form") + marker.len();
    let rid = &html[start..start + html[start..].find('"').expect("end quote")];
    let r = c
        .post(format!("{origin}/authorize/approve"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("request_id={rid}&decision=allow"))
        .send()
        .expect("approve");
    assert_eq!(r.status().as_u16(), 302);
    r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

/// Signs in and returns the code.
pub fn code_for(c: &Client, origin: &str, challenge: &str, scope: &str) -> String {
    let loc = browse_and_allow(c, origin, &authorize_url(origin, challenge, "st-1", scope));
    assert!(loc.starts_with(REDIRECT), "redirected to the client");
    let q = query_of(&loc);
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"));
    q.get("code").expect("code").clone()
}

pub fn token_request(c: &Client, origin: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let r = c
        .post(format!("{origin}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .expect("token request");
    let s = r.status().as_u16();
    (s, json(r))
}

pub fn exchange(c: &Client, origin: &str, code: &str, verifier: &str) -> (u16, Value) {
    token_request(
        c,
        origin,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
            ("code_verifier", verifier),
        ],
    )
}

pub fn refresh(c: &Client, origin: &str, refresh_token: &str) -> (u16, Value) {
    token_request(
        c,
        origin,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
        ],
    )
}

/// Every entry of a search, following next links; asserts links stay on `base`'s origin.
pub fn fetch_all(
    c: &Client,
    first_url: &str,
    base: &str,
    bearer: Option<&str>,
) -> (Vec<Value>, usize) {
    let mut url = first_url.to_owned();
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let mut rq = c.get(&url);
        if let Some(t) = bearer {
            rq = rq.bearer_auth(t);
        }
        let r = rq.send().expect("search");
        assert_eq!(r.status().as_u16(), 200, "{url}");
        let b = json(r);
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "searchset");
        pages += 1;
        for e in b["entry"].as_array().expect("entry array") {
            out.push(e["resource"].clone());
        }
        let next = b["link"]
            .as_array()
            .and_then(|ls| ls.iter().find(|l| l["relation"] == "next"))
            .map(|l| l["url"].as_str().expect("url").to_owned());
        match next {
            Some(n) => {
                assert!(
                    n.starts_with(&format!("{base}/")),
                    "next link {n} is on {base}"
                );
                url = n;
            }
            None => break,
        }
        assert!(pages < 10_000, "paging terminates");
    }
    (out, pages)
}

pub fn types_of(c: &Client, base: &str) -> Vec<String> {
    let (s, cs) = get_json(c, &format!("{base}/metadata"));
    assert_eq!(s, 200);
    cs["rest"][0]["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["type"].as_str().expect("type").to_owned())
        .collect()
}
