//! The fault proxy in front of the demo hospital (and a raw chunking upstream): faithful
//! forwarding and every fault kind, as a client observes them.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use techo_demo::hospital::{sign_in, Decision};
use techo_demo::{Fault, FaultProxy, Hospital, Rule};

fn setup() -> (Hospital, FaultProxy) {
    let h = open_hospital(150);
    let p = FaultProxy::start(&h.base_url()).expect("proxy starts");
    (h, p)
}

fn obs_url(base: &str, h: &Hospital) -> String {
    format!("{base}/Observation?patient={}&_count=5", h.patient_id())
}

/// Sends one raw HTTP/1.1 GET and returns (head, body bytes read until EOF or error, error).
fn raw_get(base: &str, path: &str) -> (String, Vec<u8>, Option<std::io::Error>) {
    let addr = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let err = loop {
        match s.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => break Some(e),
        }
    };
    match raw.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (
            String::from_utf8_lossy(&raw[..i]).into_owned(),
            raw[i + 4..].to_vec(),
            err,
        ),
        None => (String::from_utf8_lossy(&raw).into_owned(), Vec::new(), err),
    }
}

#[test]
fn forwards_faithfully_and_rewrites_next_links() {
    let (h, p) = setup();
    let c = client();
    assert!(p.base_url().ends_with("/fhir") && p.base_url() != h.base_url());
    let (direct, _) = fetch_all(&c, &obs_url(&h.base_url(), &h), &h.base_url(), None);
    let (proxied, pages) = fetch_all(&c, &obs_url(&p.base_url(), &h), &p.base_url(), None);
    assert!(pages > 1);
    assert_eq!(
        direct, proxied,
        "same resources, byte for byte after parsing"
    );
    let (s, b) = get_json(&c, &format!("{}/Patient/{}", p.base_url(), h.patient_id()));
    assert_eq!((s, b["id"].as_str()), (200, Some(h.patient_id().as_str())));
    let (s, b) = get_json(&c, &format!("{}/Nope", p.base_url()));
    assert_eq!(
        (s, b["resourceType"].as_str()),
        (404, Some("OperationOutcome")),
        "errors forwarded too"
    );
    let log = p.log();
    assert_eq!(log.len(), pages + 2);
    assert!(log.iter().all(|l| l.fault.is_none() && l.method == "GET"));
    assert_eq!(log.last().unwrap().status, Some(404));
    // The hospital saw the same requests.
    assert_eq!(h.log().len(), pages * 2 + 2);
}

#[test]
fn status_faults_with_retry_after() {
    let (h, p) = setup();
    let c = client();
    p.add(
        Rule::once(Fault::Status {
            code: 503,
            retry_after: Some(7),
        })
        .on("/Observation"),
    );
    p.add(
        Rule::once(Fault::Status {
            code: 429,
            retry_after: Some(2),
        })
        .on("/Observation"),
    );
    p.add(
        Rule::once(Fault::Status {
            code: 500,
            retry_after: None,
        })
        .on("/Observation"),
    );
    let url = obs_url(&p.base_url(), &h);
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "7");
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert!(r.headers().get("retry-after").is_none());
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "rules used up: forwarded again");
    let faults: Vec<Option<String>> = p.log().into_iter().map(|l| l.fault).collect();
    assert_eq!(
        faults,
        vec![
            Some("Status(503)".into()),
            Some("Status(429)".into()),
            Some("Status(500)".into()),
            None
        ]
    );
    assert!(
        h.log().len() == 1,
        "faulted requests never reached the hospital"
    );
}

#[test]
fn skip_and_times_count_matching_requests() {
    let (h, p) = setup();
    let c = client();
    p.add(Rule {
        path_contains: Some("/Observation".into()),
        skip: 1,
        times: 2,
        fault: Fault::Status {
            code: 502,
            retry_after: None,
        },
    });
    let url = obs_url(&p.base_url(), &h);
    let patient = format!("{}/Patient/{}", p.base_url(), h.patient_id());
    let mut got = Vec::new();
    for u in [&url, &patient, &url, &url, &url] {
        got.push(c.get(u).send().unwrap().status().as_u16());
    }
    assert_eq!(got, vec![200, 200, 502, 502, 200]);
    p.add(Rule::always(Fault::Status {
        code: 503,
        retry_after: None,
    }));
    assert_eq!(c.get(&patient).send().unwrap().status().as_u16(), 503);
    p.clear();
    assert_eq!(c.get(&patient).send().unwrap().status().as_u16(), 200);
}

#[test]
fn reset_closes_without_response() {
    let (h, p) = setup();
    p.add(Rule::once(Fault::Reset));
    let path = format!("/fhir/Patient/{}", h.patient_id());
    let (head, body, err) = raw_get(&p.base_url(), &path);
    assert!(head.is_empty() && body.is_empty(), "no response bytes");
    assert_eq!(
        err.map(|e| e.kind()),
        Some(ErrorKind::ConnectionReset),
        "RST, not FIN"
    );
    // A client library sees an error too.
    p.add(Rule::once(Fault::Reset));
    assert!(client()
        .get(format!("{}{path}", p.origin()))
        .send()
        .is_err());
    let log = p.log();
    assert_eq!(log[0].fault.as_deref(), Some("Reset"));
    assert_eq!(log[0].status, None);
}

#[test]
fn hang_makes_the_client_time_out() {
    let (h, p) = setup();
    p.add(Rule::once(Fault::Hang));
    let c = client_with_timeout(Duration::from_millis(700));
    let t0 = Instant::now();
    let e = c.get(obs_url(&p.base_url(), &h)).send().unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(t0.elapsed() >= Duration::from_millis(650));
    assert_eq!(p.log()[0].fault.as_deref(), Some("Hang"));
    assert_eq!(p.log()[0].status, None);
    // The proxy still serves others meanwhile.
    assert_eq!(
        client()
            .get(obs_url(&p.base_url(), &h))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[test]
fn slow_body_delivers_the_real_body_slowly() {
    let (h, p) = setup();
    let c = client();
    let url = format!("{}/Patient/{}", p.base_url(), h.patient_id());
    let fast = c.get(&url).send().unwrap().bytes().unwrap();
    let bps = fast.len().max(2000) / 2; // about two seconds
    p.add(Rule::once(Fault::SlowBody { bytes_per_sec: bps }));
    let t0 = Instant::now();
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let slow = r.bytes().unwrap();
    let took = t0.elapsed();
    assert_eq!(slow, fast, "the real body");
    assert!(took >= Duration::from_millis(1500), "took {took:?}");
    // A client with a short timeout gives up.
    p.add(Rule::once(Fault::SlowBody { bytes_per_sec: 50 }));
    let r = client_with_timeout(Duration::from_millis(800))
        .get(&url)
        .send()
        .and_then(|r| r.bytes());
    assert!(r.is_err());
}

#[test]
fn truncate_keeps_content_length_and_cuts_the_body() {
    let (h, p) = setup();
    p.add(Rule::once(Fault::Truncate { keep: 10 }));
    let path = format!("/fhir/Observation?patient={}&_count=5", h.patient_id());
    let (head, body, err) = raw_get(&p.base_url(), &path);
    assert!(err.is_none(), "closed with FIN");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let announced: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    assert!(announced > 100);
    assert_eq!(body.len(), 10);
    p.add(Rule::once(Fault::Truncate { keep: 50 }));
    let r = client()
        .get(format!("{}{path}", p.origin()))
        .send()
        .unwrap();
    assert!(r.bytes().is_err(), "a client sees an incomplete body");
    assert_eq!(p.log()[1].fault.as_deref(), Some("Truncate(50)"));
}

#[test]
fn html_error_page_invalid_json_and_operation_outcome() {
    let (h, p) = setup();
    let c = client();
    let url = obs_url(&p.base_url(), &h);
    p.add(Rule::once(Fault::HtmlErrorPage));
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let text = r.text().unwrap();
    assert!(text.contains("Service Unavailable") && text.starts_with("<!doctype html><html>"));

    p.add(Rule::once(Fault::InvalidJson));
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/fhir+json"));
    assert!(serde_json::from_str::<serde_json::Value>(&r.text().unwrap()).is_err());

    p.add(Rule::once(Fault::OperationOutcome));
    let (s, b) = get_json(&c, &url);
    assert_eq!(s, 500);
    assert_eq!(b["resourceType"], "OperationOutcome");
    assert_eq!(b["issue"][0]["severity"], "error");
}

#[test]
fn wrong_resource_type_is_a_patient() {
    let (h, p) = setup();
    p.add(Rule::once(Fault::WrongResourceType).on("/Observation"));
    let (s, b) = get_json(&client(), &obs_url(&p.base_url(), &h));
    assert_eq!(s, 200);
    assert_eq!(b["resourceType"], "Patient");
    assert!(b.get("entry").is_none());
}

#[test]
fn foreign_next_link_points_elsewhere() {
    let (h, p) = setup();
    p.add(Rule::once(Fault::ForeignNextLink));
    let (s, b) = get_json(&client(), &obs_url(&p.base_url(), &h));
    assert_eq!(s, 200);
    let port = p.origin().rsplit(':').next().unwrap().to_owned();
    let next = b["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        next.starts_with(&format!("http://127.0.0.2:{port}/fhir/Observation?")),
        "{next}"
    );
    assert!(next.contains("_cursor="), "same path and query");
    assert!(
        b["link"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&p.origin()),
        "self link left on the proxy"
    );
    assert_eq!(b["entry"].as_array().unwrap().len(), 5, "entries untouched");
    // The last page (no next link) gets one too.
    p.add(Rule::once(Fault::ForeignNextLink));
    let (_, b) = get_json(
        &client(),
        &format!("{}/Patient?_id={}", p.base_url(), h.patient_id()),
    );
    let next = b["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .unwrap();
    assert!(next["url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.2:"));
}

#[test]
fn other_patient_rewrites_references() {
    let (h, p) = setup();
    let real = h.patient_id();
    p.add(Rule::once(Fault::OtherPatient {
        patient_id: "intruder".into(),
    }));
    let (s, b) = get_json(&client(), &obs_url(&p.base_url(), &h));
    assert_eq!(s, 200);
    let text = b.to_string();
    assert!(
        !text.contains(&format!("Patient/{real}")),
        "no reference to the real patient left"
    );
    for e in b["entry"].as_array().unwrap() {
        assert_eq!(e["resource"]["subject"]["reference"], "Patient/intruder");
    }
    assert_eq!(p.log()[0].fault.as_deref(), Some("OtherPatient"));
}

#[test]
fn unauthorized_fault() {
    let (h, p) = setup();
    p.add(Rule::once(Fault::Unauthorized));
    let r = client().get(obs_url(&p.base_url(), &h)).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(json(r)["resourceType"], "OperationOutcome");
}

#[test]
fn smart_sign_in_and_sync_through_the_proxy() {
    let h = smart_hospital(Duration::from_secs(60));
    let p = FaultProxy::start(&h.base_url()).unwrap();
    let c = client();
    let (s, sc) = get_json(
        &c,
        &format!("{}/.well-known/smart-configuration", p.base_url()),
    );
    assert_eq!(s, 200);
    assert_eq!(
        sc["authorization_endpoint"],
        format!("{}/authorize", p.origin()),
        "endpoints point at the proxy"
    );
    assert_eq!(sc["token_endpoint"], format!("{}/token", p.origin()));
    let (verifier, challenge) = pkce();
    let loc = sign_in(
        &authorize_url(
            &p.origin(),
            &challenge,
            "s1",
            "patient/*.read offline_access",
        ),
        Decision::Allow,
    )
    .unwrap();
    let q = query_of(&loc);
    let (s, t) = exchange(&c, &p.origin(), &q["code"], &verifier);
    assert_eq!(s, 200);
    let token = t["access_token"].as_str().unwrap();
    let (all, pages) = fetch_all(&c, &obs_url(&p.base_url(), &h), &p.base_url(), Some(token));
    assert!(pages > 1 && !all.is_empty());
    // The POST bodies went through intact; the proxy log holds no code or token.
    for l in p.log() {
        assert!(
            !l.path_and_query.contains(token) && !l.path_and_query.contains(q["code"].as_str())
        );
    }
    // A token refresh lost on the way back: the server rotated, the client never saw it.
    p.add(Rule::once(Fault::Truncate { keep: 0 }).on("/token"));
    let r = c
        .post(format!("{}/token", p.origin()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=refresh_token&refresh_token={}",
            t["refresh_token"].as_str().unwrap()
        ))
        .send()
        .and_then(|r| r.bytes());
    assert!(r.is_err());
    let (s, e) = refresh(&c, &p.origin(), t["refresh_token"].as_str().unwrap());
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
}

#[test]
fn chunked_upstream_is_dechunked_and_rewritten() {
    // A raw upstream that answers chunked and keeps its own origin in the body.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        let mut req = Vec::new();
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            req.extend_from_slice(&buf[..n]);
        }
        let body = format!("{{\"resourceType\":\"Bundle\",\"link\":[{{\"relation\":\"next\",\"url\":\"http://localhost:{port}/fhir/x?page=2\"}}]}}");
        let (a, b) = body.split_at(10);
        write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n", a.len(), b.len()).unwrap();
        String::from_utf8_lossy(&req).into_owned()
    });
    let p = FaultProxy::start(&format!("http://localhost:{port}/fhir")).unwrap();
    let r = client()
        .get(format!("{}/x", p.base_url()))
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let b = json(r);
    assert_eq!(b["link"][0]["url"], format!("{}/fhir/x?page=2", p.origin()));
    let seen = server.join().unwrap().to_ascii_lowercase();
    assert!(seen.starts_with("get /fhir/x http/1.1\r\n"));
    assert!(seen.contains(&format!("host: localhost:{port}")));
    assert!(
        !seen.contains("accept-encoding"),
        "asks for an uncompressed answer"
    );
    assert!(seen.contains("connection: close"));
}

#[test]
fn upstream_down_gives_502_and_non_loopback_is_refused() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let p = FaultProxy::start(&format!("http://127.0.0.1:{port}/fhir")).unwrap();
    let r = client()
        .get(format!("{}/metadata", p.base_url()))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 502);
    assert!(FaultProxy::start("http://example.com/fhir").is_err());
    assert!(FaultProxy::start("https://127.0.0.1:1/fhir").is_err());
}
