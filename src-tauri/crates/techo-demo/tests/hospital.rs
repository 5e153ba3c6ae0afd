//! The demo hospital seen by a plain HTTP client: FHIR search and read, SMART sign-in.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use serde_json::json;
use techo_demo::hospital::{sign_in, Decision};

#[test]
fn metadata_lists_every_type_with_search_params() {
    let h = open_hospital(200);
    let c = client();
    let r = c.get(format!("{}/metadata", h.base_url())).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/fhir+json"));
    let cs = json(r);
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert_eq!(cs["rest"][0]["mode"], "server");
    assert!(
        cs["rest"][0].get("security").is_none(),
        "an open server advertises no OAuth"
    );
    let listed = types_of(&c, &h.base_url());
    assert_eq!(listed, h.resource_types());
    for t in [
        "Patient",
        "Observation",
        "Encounter",
        "Organization",
        "Practitioner",
    ] {
        assert!(listed.iter().any(|l| l == t), "{t} listed");
    }
    for r in cs["rest"][0]["resource"].as_array().unwrap() {
        let names: Vec<&str> = r["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for p in ["patient", "_lastUpdated", "_count"] {
            assert!(names.contains(&p), "{} has {p}", r["type"]);
        }
    }
    // Open: no SMART endpoints.
    assert_eq!(
        c.get(format!("{}/.well-known/smart-configuration", h.base_url()))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        c.get(h.authorize_url()).send().unwrap().status().as_u16(),
        404
    );
}

#[test]
fn smart_metadata_and_configuration() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let (s, cs) = get_json(&c, &format!("{}/metadata", h.base_url()));
    assert_eq!(s, 200, "metadata needs no token");
    let ext = &cs["rest"][0]["security"]["extension"][0];
    assert_eq!(
        ext["url"],
        "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    );
    let uris: Vec<(&str, &str)> = ext["extension"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["url"].as_str().unwrap(), e["valueUri"].as_str().unwrap()))
        .collect();
    assert!(uris.contains(&("authorize", h.authorize_url().as_str())));
    assert!(uris.contains(&("token", h.token_url().as_str())));

    let (s, sc) = get_json(
        &c,
        &format!("{}/.well-known/smart-configuration", h.base_url()),
    );
    assert_eq!(s, 200, "smart-configuration needs no token");
    assert_eq!(sc["authorization_endpoint"], h.authorize_url());
    assert_eq!(sc["token_endpoint"], h.token_url());
    assert_eq!(sc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        sc["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    for cap in [
        "launch-standalone",
        "client-public",
        "context-standalone-patient",
        "permission-offline",
        "permission-patient",
    ] {
        assert!(
            sc["capabilities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == cap),
            "{cap}"
        );
    }
    assert!(sc["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "offline_access"));
}

#[test]
fn paging_visits_every_resource_exactly_once() {
    let h = open_hospital(400);
    let c = client();
    let base = h.base_url();
    let pid = h.patient_id();
    let mut seen = HashSet::new();
    let mut stamps = HashSet::new();
    let mut pages_total = 0;
    let mut first_pages = 0;
    for t in types_of(&c, &base) {
        let first = format!("{base}/{t}?patient={pid}&_count=37");
        let (total_s, b) = get_json(&c, &first);
        assert_eq!(total_s, 200);
        let total = b["total"].as_u64().unwrap() as usize;
        first_pages += b["entry"].as_array().unwrap().len();
        assert_eq!(b["link"][0]["relation"], "self");
        let (all, pages) = fetch_all(&c, &first, &base, None);
        pages_total += pages;
        assert_eq!(all.len(), total, "{t}: total matches what paging returned");
        assert_eq!(pages, total.div_ceil(37).max(1), "{t}: pages of 37");
        let mut prev: Option<(String, String)> = None;
        for r in &all {
            assert_eq!(r["resourceType"], t.as_str());
            let id = r["id"].as_str().unwrap().to_owned();
            let lu = r["meta"]["lastUpdated"].as_str().unwrap().to_owned();
            assert_eq!(r["meta"]["versionId"], "1");
            assert!(
                lu.len() == 24 && lu.ends_with('Z') && &lu[19..20] == ".",
                "instant with ms, UTC: {lu}"
            );
            let key = (lu.clone(), id.clone());
            if let Some(p) = &prev {
                assert!(*p < key, "{t}: ordered by (lastUpdated, id)");
            }
            prev = Some(key);
            assert!(seen.insert(format!("{t}/{id}")), "{t}/{id} seen twice");
            assert!(stamps.insert(lu), "lastUpdated unique across the store");
        }
    }
    assert_eq!(seen.len(), h.resource_count(), "every resource visited");
    assert!(pages_total > 10);
    // The log counted the entries returned.
    let logged: usize = h
        .log()
        .iter()
        .filter(|l| l.path_and_query.contains("_count=37"))
        .map(|l| l.resources)
        .sum();
    assert_eq!(
        logged,
        seen.len() + first_pages,
        "first pages fetched twice, counted each time"
    );
}

#[test]
fn last_updated_gt_after_upsert_returns_only_that_resource() {
    let h = open_hospital(150);
    let c = client();
    let base = h.base_url();
    let pid = h.patient_id();
    let types = types_of(&c, &base);
    let mut max_lu = String::new();
    let mut an_observation = None;
    for t in &types {
        let (all, _) = fetch_all(
            &c,
            &format!("{base}/{t}?patient={pid}&_count=500"),
            &base,
            None,
        );
        for r in all {
            let lu = r["meta"]["lastUpdated"].as_str().unwrap().to_owned();
            max_lu = max_lu.max(lu);
            if t == "Observation" && an_observation.is_none() {
                an_observation = Some(r);
            }
        }
    }
    let count_before = h.resource_count();
    let mut obs = an_observation.expect("an Observation");
    obs["status"] = json!("amended");
    let u = h.upsert(obs.clone());
    assert_eq!(u.version_id, "2");
    assert!(u.last_updated > max_lu);
    let mut found = Vec::new();
    for t in &types {
        let (s, b) = get_json(
            &c,
            &format!("{base}/{t}?patient=Patient/{pid}&_lastUpdated=gt{max_lu}"),
        );
        assert_eq!(s, 200);
        for e in b["entry"].as_array().unwrap() {
            found.push(e["resource"].clone());
        }
        assert_eq!(
            b["total"].as_u64().unwrap() as usize,
            b["entry"].as_array().unwrap().len()
        );
    }
    assert_eq!(found.len(), 1, "only the changed resource");
    assert_eq!(found[0]["id"], obs["id"]);
    assert_eq!(found[0]["status"], "amended");
    assert_eq!(found[0]["meta"]["versionId"], "2");
    assert_eq!(found[0]["meta"]["lastUpdated"], u.last_updated.as_str());
    // ge includes the instant itself, gt excludes it.
    let (_, b) = get_json(
        &c,
        &format!(
            "{base}/Observation?patient={pid}&_lastUpdated=ge{}",
            u.last_updated
        ),
    );
    assert_eq!(b["total"], 1);
    let (_, b) = get_json(
        &c,
        &format!(
            "{base}/Observation?patient={pid}&_lastUpdated=gt{}",
            u.last_updated
        ),
    );
    assert_eq!(b["total"], 0);
    // A brand-new resource of a new type becomes searchable and listed.
    let n = h.upsert(json!({"resourceType": "Goal", "subject": {"reference": format!("Patient/{pid}")}, "lifecycleStatus": "active"}));
    assert_eq!(n.version_id, "1");
    assert!(n.last_updated > u.last_updated);
    assert!(types_of(&c, &base).contains(&"Goal".to_owned()));
    let (_, b) = get_json(
        &c,
        &format!(
            "{base}/Goal?patient={pid}&_lastUpdated=gt{}",
            u.last_updated
        ),
    );
    assert_eq!(b["entry"][0]["resource"]["id"], n.id.as_str());
    assert_eq!(
        h.resource_count(),
        count_before + 1,
        "one new resource, one new version"
    );
}

#[test]
fn a_search_bundle_timestamp_is_a_safe_watermark() {
    let h = open_hospital(100);
    let c = client();
    let pid = h.patient_id();
    let mut obs = get_json(
        &c,
        &format!("{}/Observation?patient={pid}&_count=1", h.base_url()),
    )
    .1["entry"][0]["resource"]
        .clone();
    for i in 0..20 {
        let (_, b) = get_json(
            &c,
            &format!("{}/Observation?patient={pid}&_count=1", h.base_url()),
        );
        let stamp = b["meta"]["lastUpdated"].as_str().unwrap().to_owned();
        obs["status"] = json!(if i % 2 == 0 { "amended" } else { "final" });
        let u = h.upsert(obs.clone());
        assert!(
            u.last_updated > stamp,
            "a write right after a search is stamped after it"
        );
        let (_, b) = get_json(
            &c,
            &format!(
                "{}/Observation?patient={pid}&_lastUpdated=gt{stamp}",
                h.base_url()
            ),
        );
        assert_eq!(b["total"], 1);
    }
}

#[test]
fn patient_search_read_and_other_patients() {
    let h = open_hospital(120);
    let c = client();
    let base = h.base_url();
    let pid = h.patient_id();
    let (s, b) = get_json(&c, &format!("{base}/Patient?_id={pid}"));
    assert_eq!(s, 200);
    assert_eq!(b["total"], 1);
    assert_eq!(b["entry"][0]["resource"]["id"], pid.as_str());
    assert_eq!(b["entry"][0]["fullUrl"], format!("{base}/Patient/{pid}"));
    let (_, b) = get_json(&c, &format!("{base}/Patient?patient={pid}"));
    assert_eq!(b["total"], 1, "Patient search returns the Patient itself");
    let r = c.get(format!("{base}/Patient/{pid}")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["etag"], "W/\"1\"");
    assert_eq!(json(r)["resourceType"], "Patient");
    let (_, b) = get_json(&c, &format!("{base}/Observation?patient=someone-else"));
    assert_eq!(b["total"], 0, "another patient's search is empty");
    let (_, b) = get_json(
        &c,
        &format!("{base}/Observation?patient=Patient/{pid}&_count=0"),
    );
    assert!(b["total"].as_u64().unwrap() > 0);
    assert_eq!(
        b["entry"].as_array().unwrap().len(),
        0,
        "_count=0: total only"
    );
    let (_, b) = get_json(&c, &format!("{base}/Observation?patient={pid}"));
    assert!(
        b["entry"].as_array().unwrap().len() <= 50,
        "default page is 50"
    );
    let (_, b) = get_json(
        &c,
        &format!("{base}/Observation?patient={pid}&_count=100000"),
    );
    if let Some(next) = b["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
    {
        assert!(
            next["url"].as_str().unwrap().contains("_count=500"),
            "_count capped at 500"
        );
    }
    assert!(b["entry"].as_array().unwrap().len() <= 500);
    // A shared facility resource belongs to the patient's record.
    let (_, b) = get_json(&c, &format!("{base}/Organization?patient={pid}"));
    assert!(b["total"].as_u64().unwrap() >= 1);
}

#[test]
fn unknown_types_and_bad_parameters_get_operation_outcomes() {
    let h = open_hospital(100);
    let c = client();
    let base = h.base_url();
    let cases = [
        ("Spaceship?patient=x", 404),
        ("Observation/no-such-id", 404),
        ("Observation?colour=blue", 400),
        ("Observation?_count=many", 400),
        ("Observation?_count=-1", 400),
        ("Observation?_lastUpdated=gtyesterday", 400),
        ("Observation?_lastUpdated=ne2025-01-01", 400),
        ("Observation?patient=a/b/c", 400),
        ("Observation?_cursor=garbage", 400),
    ];
    for (q, want) in cases {
        let (s, b) = get_json(&c, &format!("{base}/{q}"));
        assert_eq!(s, want, "{q}");
        assert_eq!(b["resourceType"], "OperationOutcome", "{q}");
        assert_eq!(b["issue"][0]["severity"], "error");
    }
    // A known R4 type without data: an empty Bundle, not 404.
    let (s, b) = get_json(&c, &format!("{base}/CarePlan?patient={}", h.patient_id()));
    assert_eq!((s, b["total"].as_u64()), (200, Some(0)));
    let r = c
        .post(format!("{base}/Observation"))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    // Every request is logged with its status.
    let statuses: Vec<u16> = h.log().iter().map(|l| l.status).collect();
    assert_eq!(
        &statuses[..9],
        &[404, 404, 400, 400, 400, 400, 400, 400, 400]
    );
    h.clear_log();
    assert!(h.log().is_empty());
}

#[test]
fn pkce_happy_path() {
    let h = smart_hospital(Duration::from_secs(300));
    let c = client();
    let origin = h.origin();
    let (verifier, challenge) = pkce();
    let code = code_for(
        &c,
        &origin,
        &challenge,
        "launch/patient patient/*.read offline_access",
    );
    let (s, t) = exchange(&c, &origin, &code, &verifier);
    assert_eq!(s, 200, "{t}");
    let access = t["access_token"].as_str().unwrap().to_owned();
    assert!(access.len() >= 43, "≥ 32 random bytes, base64url");
    assert!(access
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 300);
    assert_eq!(t["patient"], h.patient_id().as_str());
    assert_eq!(t["scope"], "launch/patient patient/*.read offline_access");
    let refresh_token = t["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh_token, access);

    let url = format!(
        "{}/Observation?patient={}&_count=5",
        h.base_url(),
        h.patient_id()
    );
    let r = c.get(&url).bearer_auth(&access).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(json(r)["resourceType"], "OperationOutcome");
    // Paging with the token works; next links stay on the hospital.
    let (all, _) = fetch_all(&c, &url, &h.base_url(), Some(&access));
    assert!(all.len() > 5);
    // The token is the patient's: another patient is forbidden.
    let r = c
        .get(format!("{}/Observation?patient=someone-else", h.base_url()))
        .bearer_auth(&access)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);

    let log = h.log();
    assert!(log
        .iter()
        .any(|l| l.bearer && l.status == 200 && l.resources == 5));
    assert!(log.iter().any(|l| !l.bearer && l.status == 401));
    for l in &log {
        for secret in [&access, &refresh_token, &code, &verifier] {
            assert!(
                !l.path_and_query.contains(secret.as_str()),
                "log holds no codes or tokens"
            );
        }
    }
}

#[test]
fn wrong_verifier_gives_invalid_grant() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let (_, challenge) = pkce();
    let code = code_for(&c, &h.origin(), &challenge, "launch/patient patient/*.read");
    let (s, e) = exchange(&c, &h.origin(), &code, &"w".repeat(60));
    assert_eq!(s, 400);
    assert_eq!(e["error"], "invalid_grant");
    assert!(e.get("access_token").is_none());
}

#[test]
fn code_reuse_gives_invalid_grant_and_revokes() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let (verifier, challenge) = pkce();
    let code = code_for(
        &c,
        &h.origin(),
        &challenge,
        "launch/patient patient/*.read offline_access",
    );
    let (s, t) = exchange(&c, &h.origin(), &code, &verifier);
    assert_eq!(s, 200);
    let (s, e) = exchange(&c, &h.origin(), &code, &verifier);
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    // RFC 6749 §4.1.2: what the replayed code produced is revoked.
    let r = c
        .get(format!("{}/Patient", h.base_url()))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (s, e) = refresh(&c, &h.origin(), t["refresh_token"].as_str().unwrap());
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
}

#[test]
fn code_is_bound_to_client_and_redirect_uri() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let (verifier, challenge) = pkce();
    let code = code_for(&c, &h.origin(), &challenge, "patient/*.read");
    let (s, e) = token_request(
        &c,
        &h.origin(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/other"),
            ("client_id", CLIENT_ID),
            ("code_verifier", &verifier),
        ],
    );
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    let code = code_for(&c, &h.origin(), &challenge, "patient/*.read");
    let (s, e) = token_request(
        &c,
        &h.origin(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "someone-else"),
            ("code_verifier", &verifier),
        ],
    );
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    // Without offline_access: no refresh token.
    let code = code_for(&c, &h.origin(), &challenge, "patient/*.read");
    let (s, t) = exchange(&c, &h.origin(), &code, &verifier);
    assert_eq!(s, 200);
    assert!(t.get("refresh_token").is_none());
}

#[test]
fn token_endpoint_errors() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let o = h.origin();
    let (s, e) = token_request(&c, &o, &[("grant_type", "password"), ("username", "x")]);
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, e) = token_request(&c, &o, &[("code", "x")]);
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")));
    let (s, e) = token_request(
        &c,
        &o,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
        ],
    );
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_request")),
        "PKCE verifier required"
    );
    let (s, e) = exchange(&c, &o, "made-up-code", &"v".repeat(43));
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    let (s, e) = refresh(&c, &o, "made-up-refresh-token");
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    let r = c
        .post(format!("{o}/token"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(json(r)["error"], "invalid_request");
}

#[test]
fn refresh_rotation() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let (verifier, challenge) = pkce();
    let code = code_for(
        &c,
        &h.origin(),
        &challenge,
        "launch/patient patient/*.read offline_access",
    );
    let (_, t1) = exchange(&c, &h.origin(), &code, &verifier);
    let r1 = t1["refresh_token"].as_str().unwrap();
    let (s, t2) = refresh(&c, &h.origin(), r1);
    assert_eq!(s, 200, "{t2}");
    let r2 = t2["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "rotated");
    assert_ne!(t1["access_token"], t2["access_token"]);
    assert_eq!(t2["patient"], h.patient_id().as_str());
    let (s, e) = refresh(&c, &h.origin(), r1);
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "the old refresh token stopped working"
    );
    let (s, t3) = refresh(&c, &h.origin(), r2);
    assert_eq!(s, 200);
    let r = c
        .get(format!("{}/Patient", h.base_url()))
        .bearer_auth(t3["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Narrowing the scope is fine, widening is not.
    let (s, e) = token_request(
        &c,
        &h.origin(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t3["refresh_token"].as_str().unwrap()),
            ("scope", "user/*.write"),
        ],
    );
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_scope")));
}

#[test]
fn revoke_makes_refresh_fail() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let (verifier, challenge) = pkce();
    let code = code_for(
        &c,
        &h.origin(),
        &challenge,
        "launch/patient patient/*.read offline_access",
    );
    let (_, t) = exchange(&c, &h.origin(), &code, &verifier);
    h.revoke_refresh_tokens();
    let (s, e) = refresh(&c, &h.origin(), t["refresh_token"].as_str().unwrap());
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    // The access token itself still works until it expires.
    let r = c
        .get(format!("{}/Patient", h.base_url()))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[test]
fn expired_access_tokens_get_401() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let (verifier, challenge) = pkce();
    let code = code_for(
        &c,
        &h.origin(),
        &challenge,
        "launch/patient patient/*.read offline_access",
    );
    let (_, t) = exchange(&c, &h.origin(), &code, &verifier);
    let url = format!("{}/Patient/{}", h.base_url(), h.patient_id());
    assert_eq!(
        c.get(&url)
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    h.expire_access_tokens();
    let r = c
        .get(&url)
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    // A refresh gives a working one again.
    let (s, t2) = refresh(&c, &h.origin(), t["refresh_token"].as_str().unwrap());
    assert_eq!(s, 200);
    assert_eq!(
        c.get(&url)
            .bearer_auth(t2["access_token"].as_str().unwrap())
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[test]
fn access_tokens_expire_after_their_ttl() {
    let h = smart_hospital(Duration::from_millis(1200));
    let c = client();
    let (verifier, challenge) = pkce();
    let code = code_for(&c, &h.origin(), &challenge, "patient/*.read");
    let (_, t) = exchange(&c, &h.origin(), &code, &verifier);
    assert_eq!(t["expires_in"], 1);
    let url = format!("{}/Patient", h.base_url());
    assert_eq!(
        c.get(&url)
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    std::thread::sleep(Duration::from_millis(1400));
    assert_eq!(
        c.get(&url)
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
}

#[test]
fn authorize_validates_and_escapes() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let o = h.origin();
    let (_, challenge) = pkce();
    // Redirect URI not on loopback http: a 400 page, no redirect.
    let bad = authorize_url(&o, &challenge, "s", "patient/*.read").replace(
        "http%3A%2F%2F127.0.0.1%3A53682",
        "https%3A%2F%2Fevil.example",
    );
    let r = c.get(&bad).send().unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // Missing PKCE method: back to the client with error and state.
    let no_method = authorize_url(&o, &challenge, "st<x>", "patient/*.read")
        .replace("&code_challenge_method=S256", "");
    let r = c.get(&no_method).send().unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "st<x>");
    // Missing state: error without state.
    let no_state = authorize_url(&o, &challenge, "", "patient/*.read");
    let r = c.get(&no_state).send().unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "invalid_request"
    );
    // response_type must be code.
    let token_flow = authorize_url(&o, &challenge, "s", "patient/*.read")
        .replace("response_type=code", "response_type=token");
    let r = c.get(&token_flow).send().unwrap();
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "unsupported_response_type"
    );
    // Echoed text is escaped: client_id and the hospital's own name.
    let evil = authorize_url(&o, &challenge, "s", "patient/*.read<b>").replace(
        "client_id=techo-test",
        "client_id=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    );
    let html = c.get(&evil).send().unwrap().text().unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Test &lt;Hospital&gt; &amp; Co"));
    assert!(html.contains("patient/*.read&lt;b&gt;"));
    // An unknown or replayed form submission is refused.
    let r = c
        .post(format!("{o}/authorize/approve"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("request_id=nope&decision=allow")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[test]
fn sign_in_helper_allows_and_denies() {
    let h = smart_hospital(Duration::from_secs(60));
    let c = client();
    let (verifier, challenge) = pkce();
    let loc = sign_in(
        &authorize_url(
            &h.origin(),
            &challenge,
            "abc",
            "patient/*.read offline_access",
        ),
        Decision::Allow,
    )
    .unwrap();
    let q = query_of(&loc);
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(q["state"], "abc");
    let (s, _) = exchange(&c, &h.origin(), &q["code"], &verifier);
    assert_eq!(s, 200);
    let loc = sign_in(
        &authorize_url(&h.origin(), &challenge, "abc", "patient/*.read"),
        Decision::Deny,
    )
    .unwrap();
    assert_eq!(query_of(&loc)["error"], "access_denied");
    assert!(
        sign_in("http://example.com/authorize", Decision::Allow).is_err(),
        "loopback only"
    );
}

#[test]
fn shutdown_closes_the_port() {
    let h = open_hospital(100);
    let base = h.base_url();
    let c = client_with_timeout(Duration::from_secs(3));
    assert!(c.get(format!("{base}/metadata")).send().is_ok());
    h.shutdown();
    assert!(c.get(format!("{base}/metadata")).send().is_err());
}
