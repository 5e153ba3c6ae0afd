//! Sync end to end through the `techo` CLI against loopback peers started by the tests:
//! techo-demo's hospital (FHIR R4 + SMART, synthetic data, a request log) and the fault proxy
//! in front of it. Third-party peers (Medplum, oauth2-mock-server) are in `sync_peers.rs`.
//!
//! What is shown here: a full sync stores exactly what the server holds; the second sync of an
//! unchanged server transfers 0 resources (the server's own log); edits and additions
//! propagate exactly; SMART sign-in with PKCE, refresh on 401, "needs sign-in" when the refresh
//! is refused, the data kept; every fault ends with one clear message and nothing lost; a sync
//! killed at random points resumes to the same vault as a clean sync; no token on disk.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};
use techo_demo::hospital::{sign_in, Decision};
use techo_demo::{Auth, Fault, FaultProxy, Hospital, HospitalConfig, Rule};
use techo_tests::*;

fn hospital(resources: usize, auth: Auth) -> Hospital {
    Hospital::start(HospitalConfig { resources, auth, name: "Test Hospital".into(), ..HospitalConfig::default() }).expect("start the demo hospital")
}

fn open_hospital(resources: usize) -> Hospital {
    hospital(resources, Auth::Open)
}

/// `endpoint add URL --open --patient P`; returns the endpoint id.
#[track_caller]
fn add_open(v: &TempVault, url: &str, patient: &str) -> String {
    let out = v.run(["endpoint", "add", url, "--open", "--patient", patient, "--name", "Test Hospital"]).ok();
    out.stdout_str().trim().to_owned()
}

/// Fast retries so fault tests finish quickly.
const FAST: &[&str] = &["--timeout", "3", "--attempts", "3", "--backoff-ms", "50"];

/// `sync --json` with `extra` args; the one report.
fn sync(v: &TempVault, extra: &[&str]) -> (Out, Value) {
    let mut args = vec!["--json", "sync"];
    args.extend_from_slice(FAST);
    if !extra.contains(&"--page-size") {
        args.extend_from_slice(&["--page-size", "100"]);
    }
    args.extend_from_slice(extra);
    let out = v.run(&args);
    let reports = out.json();
    let one = reports.as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Null);
    (out, one)
}

fn totals(report: &Value) -> BTreeMap<&'static str, u64> {
    let mut t = BTreeMap::new();
    for k in ["received", "new", "updated", "unchanged", "merged", "refused"] {
        let n: u64 = report["types"].as_object().map(|m| m.values().map(|c| c[k].as_u64().unwrap_or(0)).sum()).unwrap_or(0);
        t.insert(k, n);
    }
    t
}

/// Resources the hospital sent since its log was last cleared.
fn transferred(h: &Hospital) -> usize {
    h.log().iter().map(|r| r.resources).sum()
}

/// The vault's record as `Type/id → meta.versionId`, from an export.
fn record_versions(v: &TempVault) -> BTreeMap<String, String> {
    v.export_ndjson(None)
        .into_iter()
        .map(|r| {
            let key = format!("{}/{}", r["resourceType"].as_str().unwrap_or("?"), r["id"].as_str().unwrap_or("?"));
            (key, r.pointer("/meta/versionId").and_then(Value::as_str).unwrap_or("").to_owned())
        })
        .collect()
}

#[test]
fn a_sync_pulls_everything_then_only_what_changed() {
    let h = open_hospital(1500);
    let n = h.resource_count();
    let v = TempVault::new();
    add_open(&v, &h.base_url(), &h.patient_id());

    let (out, r) = sync(&v, &[]);
    out.ok();
    let t = totals(&r);
    assert_eq!(r["outcome"], "ok", "{r}");
    assert_eq!((t["received"], t["new"], t["refused"]), (n as u64, n as u64, 0));
    assert_eq!(v.stats()["resources"].as_u64(), Some(n as u64), "every resource stored once");
    assert_eq!(transferred(&h), n);

    // The second sync of an unchanged server moves nothing (the server's own log).
    h.clear_log();
    let (out, r) = sync(&v, &[]);
    out.ok();
    assert_eq!(totals(&r)["received"], 0, "{r}");
    assert_eq!(transferred(&h), 0, "the server sent resources again: {:?}", h.log());
    assert!(h.log().iter().all(|l| l.path_and_query.contains("_lastUpdated=gt") || l.path_and_query.contains("metadata") || l.path_and_query.contains("smart-configuration")));

    // Edit three resources and add two: exactly those come.
    let exported = v.export_ndjson(None);
    let obs: Vec<&Value> = exported.iter().filter(|r| r["resourceType"] == "Observation").take(3).collect();
    assert_eq!(obs.len(), 3);
    for o in &obs {
        let mut o = (*o).clone();
        o["note"] = json!([{"text": "再検査の結果を追記"}]);
        h.upsert(o);
    }
    for i in 0..2 {
        let mut o = obs[0].clone();
        o["id"] = json!(format!("added-{i}"));
        o["note"] = json!([{"text": format!("追加の測定 {i}")}]);
        h.upsert(o);
    }
    h.clear_log();
    let (out, r) = sync(&v, &[]);
    out.ok();
    let t = totals(&r);
    assert_eq!((t["received"], t["updated"], t["new"]), (5, 3, 2), "{r}");
    assert_eq!(transferred(&h), 5);
    assert_eq!(v.stats()["resources"].as_u64(), Some(n as u64 + 2));
    let hits = v.run(["--json", "search", "再検査の結果を追記"]).ok().json();
    assert_eq!(hits.as_array().map(Vec::len), Some(3), "the edits are searchable");
}

/// A server offering `Patient/$everything?_since=`: the whole record comes in one paged pass
/// (no per-type searches), the same vault as a type-by-type sync; the second sync asks
/// `_since` and moves nothing; edits come exactly; `--no-everything` searches type by type.
#[test]
fn everything_pulls_the_whole_record_in_one_pass_then_only_what_changed() {
    let h = Hospital::start(HospitalConfig { resources: 1200, auth: Auth::Open, name: "Test Hospital".into(), everything: true, ..HospitalConfig::default() })
        .expect("start the demo hospital");
    let n = h.resource_count();
    let v = TempVault::new();
    add_open(&v, &h.base_url(), &h.patient_id());
    let (out, r) = sync(&v, &[]);
    out.ok();
    let t = totals(&r);
    assert_eq!(r["outcome"], "ok", "{r}");
    assert_eq!((t["received"], t["new"], t["refused"]), (n as u64, n as u64, 0), "{r}");
    assert_eq!(r["types"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()), Some(vec!["Patient/$everything".to_owned()]));
    let fhir_calls: Vec<String> = h.log().iter().map(|l| l.path_and_query.clone()).filter(|p| !p.contains("metadata") && !p.contains("smart-configuration")).collect();
    assert!(fhir_calls.iter().all(|p| p.contains("/Patient/") && p.contains("$everything")), "only $everything pages: {fhir_calls:?}");
    assert_eq!(fhir_calls.len(), n.div_ceil(100), "pages of 100");
    // The same record as a type-by-type sync of the same server.
    let w = TempVault::new();
    add_open(&w, &h.base_url(), &h.patient_id());
    let (out, r2) = sync(&w, &["--no-everything"]);
    out.ok();
    assert!(r2["types"].as_object().is_some_and(|m| m.len() > 3), "type by type: {r2}");
    assert_eq!(record_versions(&v), record_versions(&w));

    h.clear_log();
    let (out, r) = sync(&v, &[]);
    out.ok();
    assert_eq!(totals(&r)["received"], 0, "{r}");
    assert_eq!(transferred(&h), 0);
    assert!(h.log().iter().filter(|l| l.path_and_query.contains("$everything")).all(|l| l.path_and_query.contains("_since=")), "{:?}", h.log());

    let obs: Vec<Value> = v.export_ndjson(None).into_iter().filter(|r| r["resourceType"] == "Observation").take(2).collect();
    for o in &obs {
        let mut o = o.clone();
        o["note"] = json!([{"text": "追記"}]);
        h.upsert(o);
    }
    h.clear_log();
    let (out, r) = sync(&v, &[]);
    out.ok();
    let t = totals(&r);
    assert_eq!((t["received"], t["updated"], t["new"]), (2, 2, 0), "{r}");
    assert_eq!(transferred(&h), 2);
}

/// Drives `endpoint sign-in --print-url` as the user's browser would: reads the URL, allows
/// (or denies) on the hospital's page, follows the redirect to Techo's loopback listener.
fn sign_in_via_cli(v: &TempVault, endpoint: &str, decision: Decision) -> Out {
    let mut c = v.command();
    c.arg("--vault").arg(&v.dir).arg("--passphrase-stdin").args(["endpoint", "sign-in", endpoint, "--print-url", "--timeout", "30"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("start techo endpoint sign-in");
    child.stdin.take().expect("stdin").write_all(format!("{}\n", v.passphrase).as_bytes()).expect("passphrase");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = String::new();
    stdout.read_line(&mut url).expect("the sign-in URL");
    assert!(url.starts_with("http://127.0.0.1:"), "sign-in should print the authorize URL first");
    let back = sign_in(url.trim(), decision).expect("the hospital's sign-in page");
    assert!(back.starts_with("http://127.0.0.1:"), "the hospital redirects to Techo's loopback listener");
    let page = reqwest::blocking::get(&back).expect("Techo's redirect listener answers");
    assert_eq!(page.status().as_u16(), 200);
    let output = child.wait_with_output().expect("sign-in finishes");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        what: format!("techo endpoint sign-in {endpoint}"),
    }
}

#[test]
fn smart_sign_in_refresh_and_needs_sign_in_keep_the_data() {
    let h = hospital(400, Auth::Smart { access_ttl: Duration::from_secs(3600) });
    let n = h.resource_count() as u64;
    let v = TempVault::new();
    let id = v.run(["endpoint", "add", &h.base_url(), "--name", "Test Hospital"]).ok().stdout_str().trim().to_owned();

    // Before sign-in: a clear "needs sign-in", exit 10, nothing fetched.
    let (out, r) = sync(&v, &[]);
    out.expect_code(10);
    assert_eq!(r["outcome"], "needs_sign_in");

    // A denied sign-in stores nothing.
    let out = sign_in_via_cli(&v, &id, Decision::Deny);
    out.expect_code(12);
    let eps = v.run(["--json", "endpoint", "list"]).ok().json();
    assert_eq!(eps[0]["signed_in"], false);

    sign_in_via_cli(&v, &id, Decision::Allow).ok();
    let eps = v.run(["--json", "endpoint", "list"]).ok().json();
    assert_eq!(eps[0]["signed_in"], true);
    assert_eq!(eps[0]["patient_id"].as_str(), Some(h.patient_id().as_str()), "the patient comes from the token response");

    let (out, r) = sync(&v, &[]);
    out.ok();
    assert_eq!(totals(&r)["new"], n, "{r}");
    assert!(h.log().iter().filter(|l| l.path_and_query.starts_with("/fhir/") && !l.path_and_query.contains("metadata") && !l.path_and_query.contains("smart-configuration")).all(|l| l.bearer));

    // The access token dies mid-life: one refresh, and the sync goes on.
    h.expire_access_tokens();
    let extra = json!({"resourceType": "Observation", "id": "after-expiry", "status": "final", "code": {"text": "体温"}, "subject": {"reference": format!("Patient/{}", h.patient_id())}});
    h.upsert(extra);
    let (out, r) = sync(&v, &[]);
    out.ok();
    assert_eq!(totals(&r)["new"], 1, "{r}");

    // The refresh is refused: "needs sign-in", exit 10, the data stays.
    h.expire_access_tokens();
    h.revoke_refresh_tokens();
    let before = v.stats();
    let (out, r) = sync(&v, &[]);
    let out = out.expect_code(10);
    assert_eq!(r["outcome"], "needs_sign_in");
    assert!(out.stderr.contains("sign in again"), "one clear message");
    assert_eq!(v.stats(), before, "nothing lost");
    let eps = v.run(["--json", "endpoint", "list"]).ok().json();
    assert_eq!(eps[0]["status"], "needs_sign_in");
    assert_eq!(eps[0]["signed_in"], false);

    // Signing in again brings it back.
    sign_in_via_cli(&v, &id, Decision::Allow).ok();
    sync(&v, &[]).0.ok();
}

#[test]
fn every_fault_ends_with_a_clear_message_and_nothing_lost() {
    let h = open_hospital(600);
    let n = h.resource_count() as u64;
    let proxy = FaultProxy::start(&h.base_url()).expect("start the fault proxy");
    let v = TempVault::new();
    add_open(&v, &proxy.base_url(), &h.patient_id());
    let clean = TempVault::new();
    add_open(&clean, &h.base_url(), &h.patient_id());
    sync(&clean, &[]).0.ok();
    let want = record_versions(&clean);
    assert_eq!(want.len() as u64, n);

    // Transient faults: retried, the sync ends complete.
    for fault in [
        Fault::Status { code: 429, retry_after: Some(1) },
        Fault::Status { code: 503, retry_after: Some(0) },
        Fault::Status { code: 500, retry_after: None },
        Fault::Status { code: 502, retry_after: None },
        Fault::Reset,
        Fault::Truncate { keep: 200 },
        Fault::Hang,
    ] {
        let t = TempVault::new();
        add_open(&t, &proxy.base_url(), &h.patient_id());
        proxy.clear();
        proxy.add(Rule::once(fault.clone()).on("/Observation"));
        let started = Instant::now();
        let (out, r) = sync(&t, &[]);
        eprintln!("{fault:?}: exit {} after {:?}", out.code, started.elapsed());
        out.ok();
        assert_eq!(r["outcome"], "ok", "{fault:?}: {r}");
        assert_eq!(record_versions(&t), want, "{fault:?}: the vault equals a clean sync");
        assert!(proxy.log().iter().any(|l| l.fault.is_some()), "{fault:?} was injected");
    }

    // Faults that last: one clear error naming the endpoint; the other types still sync;
    // then, the fault gone, the next sync completes with nothing lost or duplicated.
    for (fault, want_msg) in [
        (Fault::Status { code: 503, retry_after: Some(3600) }, "wait 3600 s"),
        (Fault::Status { code: 500, retry_after: None }, "HTTP 500"),
        (Fault::HtmlErrorPage, "HTML page"),
        (Fault::InvalidJson, "invalid JSON"),
        (Fault::OperationOutcome, "HTTP 500"),
        (Fault::WrongResourceType, "a Patient where a search-result Bundle"),
        (Fault::Truncate { keep: 100 }, "cut off"),
        (Fault::SlowBody { bytes_per_sec: 2000 }, "timed out"),
        (Fault::Reset, "could not reach"),
        (Fault::ForeignNextLink, "another site"),
        (Fault::Status { code: 404, retry_after: None }, "HTTP 404"),
    ] {
        let t = TempVault::copy_of(&v);
        proxy.clear();
        proxy.add(Rule::always(fault.clone()).on("/Observation"));
        let started = Instant::now();
        let (out, r) = sync(&t, &[]);
        eprintln!("{fault:?}: exit {} after {:?}", out.code, started.elapsed());
        assert_eq!(out.code, 11, "{fault:?}: {r}");
        let errors: Vec<&str> = r["errors"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        assert!(errors.iter().any(|e| e.contains(want_msg) && e.contains("Test Hospital")), "{fault:?}: {errors:?}");
        assert!(out.stderr.lines().filter(|l| l.starts_with("techo: error:")).count() >= 1);
        assert!(totals(&r)["new"] > 0, "{fault:?}: the other types still sync");
        let got = record_versions(&t);
        assert!(got.iter().all(|(k, ver)| want.get(k) == Some(ver)), "{fault:?}: only the server's resources, none changed");
        proxy.clear();
        sync(&t, &[]).0.ok();
        assert_eq!(record_versions(&t), want, "{fault:?}: after the fault, the vault equals a clean sync");
    }

    // Another patient's resources: refused and reported; the rest stored.
    let t = TempVault::new();
    add_open(&t, &proxy.base_url(), &h.patient_id());
    proxy.clear();
    proxy.add(Rule::always(Fault::OtherPatient { patient_id: "someone-else".into() }).on("/Condition"));
    let (out, r) = sync(&t, &[]);
    out.ok();
    let conditions = want.keys().filter(|k| k.starts_with("Condition/")).count() as u64;
    assert!(conditions > 0);
    assert_eq!(totals(&r)["refused"], conditions, "{r}");
    assert_eq!(record_versions(&t).len() as u64, n - conditions);
    proxy.clear();
}

#[test]
fn a_killed_sync_resumes_to_the_same_vault_as_a_clean_sync() {
    // Each kill point is tried on a fresh vault: SIGKILL part-way, then a resumed sync, which
    // must give exactly the vault of a clean sync and fetch less than a full sync again.
    let points: usize = std::env::var("TECHO_KILL_POINTS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let h = open_hospital(600);
    let n = h.resource_count();
    let page = ["--page-size", "15"];
    let empty = TempVault::new();
    add_open(&empty, &h.base_url(), &h.patient_id());
    let clean = TempVault::copy_of(&empty);
    let t0 = Instant::now();
    clean.run(["stats"]).ok();
    let startup = t0.elapsed();
    let t0 = Instant::now();
    sync(&clean, &page).0.ok();
    let full = t0.elapsed();
    let want = record_versions(&clean);
    assert_eq!(want.len(), n);

    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let (mut partial, mut refetched) = (0, 0);
    for i in 0..points {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Spread over the sync itself (after the unlock), jittered, reproducible.
        let frac = (i as f64 + (seed % 1000) as f64 / 1000.0) / points as f64;
        let at = startup.mul_f64(0.8) + full.saturating_sub(startup).mul_f64(frac);
        let v = TempVault::copy_of(&empty);
        let mut child = v.spawn(["sync", "--page-size", "15"]);
        std::thread::sleep(at);
        let _ = child.kill();
        child.wait().expect("reap");
        v.run(["check"]).ok();
        let stored = v.stats()["resources"].as_u64().unwrap_or(0) as usize;
        if stored > 0 && stored < n {
            partial += 1;
        }
        h.clear_log();
        sync(&v, &page).0.ok();
        let again = transferred(&h);
        assert!(again <= n - stored + 15 * want.keys().map(|k| k.split('/').next()).collect::<std::collections::BTreeSet<_>>().len(), "kill point {i}: the resume fetched {again} resources with {stored} of {n} stored");
        refetched += again;
        assert_eq!(record_versions(&v), want, "kill point {i} ({stored} of {n} stored): after the resume the vault equals a clean sync");
        assert_eq!(v.stats()["resources"].as_u64(), Some(n as u64), "kill point {i}: nothing duplicated");
    }
    assert!(partial >= points / 2, "only {partial} of {points} kills landed mid-sync (timing: startup {startup:?}, full {full:?})");
    assert!(refetched < points * n, "resumes fetched as much as full syncs");
}

#[test]
fn endpoint_mistakes_get_one_clear_line() {
    let h = open_hospital(100);
    let v = TempVault::new();
    for (args, code, msg) in [
        (vec!["endpoint", "add", "ftp://x"], 7, "http:// or https://"),
        (vec!["endpoint", "add", "http://127.0.0.1:9/fhir", "--open", "--patient", "p"], 11, "could not reach"),
        (vec!["sync"], 1, "no endpoint"),
        (vec!["endpoint", "sign-in", "nope"], 8, "not found"),
    ] {
        let out = v.run(&args).expect_code(code);
        assert!(out.error_line().contains(msg), "{args:?}: {}", out.error_line());
    }
    let base = h.base_url();
    let out = v.run(["endpoint", "add", &base]).expect_code(1);
    assert!(out.error_line().contains("--patient"), "an open server needs the patient id: {}", out.error_line());
    add_open(&v, &base, &h.patient_id());
    let out = v.run(["endpoint", "add", &base, "--open", "--patient", "x"]).expect_code(7);
    assert!(out.error_line().contains("already added"));
}
