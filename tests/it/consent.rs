//! Consent, the one policy gate, research copies and the audit log, end to end through the
//! `techo` CLI (issue 6).
//!
//! - every exit (`techo_core::Exit`, matched exhaustively) goes through the gate: what leaves
//!   is what the consent permits, and each exit is in the audit log with its counts;
//! - a caregiver grant, its expiry and its revocation change what the caregiver gets, and each
//!   change is audited;
//! - an opt-out withdraws the copies not yet sent and stops every later copy;
//! - pseudonymised research copies hold none of the record's direct identifiers;
//! - the audit chain verifies through the CLI (changes and removals behind the database's back are
//!   found by techo-core's `audit_tests`).
//!
//! Pushing to a third-party FHIR server is in `sync_peers.rs` (it needs the Medplum peer).

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use techo_core::Exit;
use techo_tests::*;

const PATIENT: &str = r#"{"resourceType":"Patient","id":"pt1","identifier":[{"system":"urn:oid:1.2.392.100495.20.3.51.11311234567","value":"00987654"}],
 "name":[{"family":"山田","given":["花子"],"text":"山田 花子"},{"family":"Yamada","given":["Hanako"]}],
 "telecom":[{"system":"phone","value":"090-1234-5678"}],"address":[{"line":["千代田区丸の内1-2-3"],"city":"千代田区","postalCode":"100-0005","country":"JP"}],
 "birthDate":"1961-07-14"}"#;

fn condition(id: &str, code: &str, display: &str, onset: &str) -> String {
    format!(
        r#"{{"resourceType":"Condition","id":"{id}","subject":{{"reference":"Patient/pt1","display":"山田 花子"}},"code":{{"coding":[{{"system":"http://hl7.org/fhir/sid/icd-10","code":"{code}","display":"{display}"}}]}},"onsetDateTime":"{onset}","note":[{{"text":"山田 花子さんから電話 090-1234-5678"}}]}}"#
    )
}

fn observation(id: &str, value: f64, when: &str) -> String {
    format!(
        r#"{{"resourceType":"Observation","id":"{id}","status":"final","subject":{{"reference":"Patient/pt1"}},"code":{{"coding":[{{"system":"http://loinc.org","code":"2345-7","display":"Glucose"}}]}},"effectiveDateTime":"{when}","valueQuantity":{{"value":{value},"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}}}"#
    )
}

fn bundle(entries: &[String]) -> String {
    let e: Vec<String> = entries.iter().map(|r| format!("{{\"resource\":{r}}}")).collect();
    format!("{{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{}]}}", e.join(","))
}

/// A vault with one person: 6 resources from "Sakura Hospital" (one a depression diagnosis,
/// F32.9) and 2 from "Kaede Clinic".
fn vault() -> TempVault {
    let v = TempVault::new();
    let a = v.input(
        "sakura.json",
        bundle(&[
            PATIENT.to_owned(),
            condition("c1", "F32.9", "うつ病", "2024-03-01"),
            condition("c2", "E11.9", "2型糖尿病", "2019-06-10"),
            observation("o1", 120.0, "2024-01-05T09:00:00+09:00"),
            observation("o2", 131.0, "2025-02-05T09:00:00+09:00"),
            observation("o3", 99.0, "2025-08-05T09:00:00+09:00"),
        ]),
    );
    let b = v.input("kaede.json", bundle(&[observation("k1", 101.0, "2023-05-01T10:00:00+09:00"), observation("k2", 104.0, "2023-06-01T10:00:00+09:00")]));
    v.run(["import", a.to_str().unwrap(), "--source", "Sakura Hospital"]).ok();
    v.run(["import", b.to_str().unwrap(), "--source", "Kaede Clinic", "--person", "1"]).ok();
    assert_eq!(v.stats()["resources"].as_u64(), Some(8));
    v
}

fn audit(v: &TempVault) -> Vec<Value> {
    match v.run(["--json", "audit", "list", "--limit", "1000"]).ok().json() {
        Value::Array(a) => a,
        other => panic!("audit list should be an array, got {}", kind(&other)),
    }
}

fn last_audit(v: &TempVault) -> Value {
    audit(v).pop().expect("an audit entry")
}

/// The counts an audit event states: (disclosed, held back).
fn audit_counts(e: &Value) -> (u64, u64) {
    let d = e["event"]["entity"][1]["description"].as_str().unwrap_or_else(|| panic!("a disclosure event has a description: {e}"));
    let n = numbers_in(d);
    (n[0], n[1])
}

fn share(v: &TempVault, args: &[&str]) -> (Vec<Value>, Value) {
    let out = v.tmp_dir().join("share.ndjson");
    let mut a = vec!["--json", "share", "--format", "ndjson", "--out", out.to_str().unwrap()];
    a.extend_from_slice(args);
    let report = v.run(a).ok().json();
    let lines = parse_ndjson(&std::fs::read(&out).expect("the share file"), "share");
    (lines, report)
}

fn ids(resources: &[Value]) -> BTreeSet<String> {
    resources.iter().map(|r| r["id"].as_str().unwrap_or("").to_owned()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Every exit, one by one (a new `Exit` variant fails to compile here until it is tested):
/// what leaves is what the policy permits, and the audit log says so with the right counts.
#[test]
fn every_exit_goes_through_the_policy_and_is_audited() {
    let v = vault();
    v.run(["consent", "deny", "category", "mental-health"]).ok();
    v.run(["consent", "deny", "facility", "kaede clinic "]).ok();
    v.run(["consent", "caregiver", "grant", "taro", "--name", "山田 太郎", "--relationship", "夫"]).ok();
    for exit in Exit::ALL {
        let before = audit(&v).len();
        match exit {
            Exit::Export => {
                // The person's own export: everything, consent exceptions are about others.
                let all = v.export_ndjson(None);
                assert_eq!(all.len(), 8);
                assert_eq!(audit_counts(&last_audit(&v)), (8, 0));
            }
            Exit::VitalsExport => {
                let out = v.run(["vitals", "export"]).ok();
                let readings = parse_ndjson(&out.stdout, "vitals export");
                let e = last_audit(&v);
                assert_eq!(e["kind"], "export");
                assert_eq!(audit_counts(&e).0, readings.len() as u64);
            }
            Exit::Share => {
                let (got, report) = share(&v, &["--with", "Sakura Hospital"]);
                assert_eq!(ids(&got), set(&["pt1", "c2", "o1", "o2", "o3", "k1", "k2"]), "all but the depression diagnosis");
                assert_eq!(report["held_back"]["sharing.deny_category"], 1, "{report}");
                assert_eq!(audit_counts(&last_audit(&v)), (7, 1));
                let (got, _) = share(&v, &["--with", "KAEDE CLINIC"]);
                assert!(got.is_empty(), "a refused facility gets nothing");
                let e = last_audit(&v);
                assert_eq!((e["kind"].as_str(), audit_counts(&e)), (Some("share"), (0, 8)));
            }
            Exit::CaregiverView => {
                let (got, _) = share(&v, &["--caregiver", "taro"]);
                assert_eq!(got.len(), 8, "a granted caregiver sees the whole record");
                let (got, _) = share(&v, &["--caregiver", "someone-else"]);
                assert!(got.is_empty(), "no grant, nothing");
                assert_eq!(last_audit(&v)["kind"], "caregiver-view");
            }
            Exit::ResearchCopy => {
                let r = v.run(["--json", "research", "run", "--delay-days", "0"]).ok().json();
                assert_eq!(r["made"], 8, "{r}");
                let e = last_audit(&v);
                assert_eq!((e["kind"].as_str(), audit_counts(&e)), (Some("research-copy"), (8, 0)));
            }
        }
        assert!(audit(&v).len() > before, "{exit:?} left no audit entry");
    }
    v.run(["audit", "verify"]).ok();
}

#[test]
fn period_and_record_exceptions_hold_back_those_records_until_removed() {
    let v = vault();
    v.run(["consent", "deny", "period", "2025-01-01", "2025-12-31"]).ok();
    let (got, _) = share(&v, &["--with", "Sakura Hospital"]);
    assert_eq!(ids(&got), set(&["pt1", "c1", "c2", "o1", "k1", "k2"]), "the 2025 readings are held back");
    let o1 = v.list(&["--type", "Observation"]).into_iter().find(|r| v.show(&r["record_id"])["id"] == "o1").expect("o1");
    v.run(["consent", "deny", "record", &id_arg(&o1["record_id"])]).ok();
    let (got, _) = share(&v, &["--with", "Sakura Hospital"]);
    assert!(!ids(&got).contains("o1"));
    // Removing the exceptions by id shares them again.
    let state = v.run(["--json", "consent", "show"]).ok().json();
    for x in state["sharing"]["exceptions"].as_array().expect("exceptions") {
        v.run(["consent", "allow", x["id"].as_str().unwrap()]).ok();
    }
    let (got, _) = share(&v, &["--with", "Sakura Hospital"]);
    assert_eq!(got.len(), 8);
    // Each change is a consent version and an audit entry.
    let history = v.run(["--json", "consent", "history"]).ok().json();
    assert_eq!(history.as_array().map(Vec::len), Some(4));
    assert_eq!(audit(&v).iter().filter(|e| e["kind"] == "consent-change").count(), 4);
    // A wrong exception id is refused in one line, and nothing changes.
    let out = v.run(["consent", "allow", "x99"]).expect_code(7);
    assert!(out.error_line().contains("x99"), "{}", out.error_line());
    assert_eq!(v.run(["--json", "consent", "history"]).ok().json().as_array().map(Vec::len), Some(4));
}

#[test]
fn a_caregiver_grant_its_expiry_and_its_revocation_change_what_the_caregiver_gets() {
    let v = vault();
    let (got, _) = share(&v, &["--caregiver", "hanako"]);
    assert!(got.is_empty(), "before any grant");
    // A grant that ends in 3 seconds.
    let ends = (chrono_now() + 3).to_string();
    let expires = format!("@{ends}");
    let expires = rfc3339_from_unix(&expires);
    v.run(["consent", "caregiver", "grant", "hanako", "--name", "山田 花子", "--relationship", "娘", "--expires", &expires]).ok();
    let (got, _) = share(&v, &["--caregiver", "hanako"]);
    assert_eq!(got.len(), 8, "during the grant");
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let (got, report) = share(&v, &["--caregiver", "hanako"]);
    assert!(got.is_empty(), "after the expiry");
    assert_eq!(report["held_back"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()), Some(vec!["caregiver.expired".to_owned()]), "{report}");
    // A new grant without expiry, then revoked.
    let out = v.run(["consent", "caregiver", "grant", "hanako", "--name", "山田 花子", "--relationship", "娘"]);
    if out.code != 0 {
        // The id is taken by the expired grant: use another.
        v.run(["consent", "caregiver", "grant", "hanako2", "--name", "山田 花子", "--relationship", "娘", "--access", "full"]).ok();
    }
    let id = if out.code == 0 { "hanako" } else { "hanako2" };
    let (got, _) = share(&v, &["--caregiver", id]);
    assert_eq!(got.len(), 8);
    v.run(["consent", "caregiver", "revoke", id]).ok();
    let (got, report) = share(&v, &["--caregiver", id]);
    assert!(got.is_empty(), "after the revocation");
    assert!(report["held_back"]["caregiver.revoked"].as_u64() == Some(8), "{report}");
    // Every grant and revocation is in the audit log, in words.
    let changes: Vec<String> = audit(&v).iter().filter(|e| e["kind"] == "consent-change").map(|e| e["event"]["outcomeDesc"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(changes.iter().all(|c| c.contains(id) || c.contains("hanako")), "{changes:?}");
    v.run(["audit", "verify"]).ok();
}

fn chrono_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

/// `@<unix seconds>` as RFC 3339 (UTC), without a date crate in the test binary.
fn rfc3339_from_unix(s: &str) -> String {
    let secs: i64 = s.trim_start_matches('@').parse().expect("seconds");
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[test]
fn an_opt_out_withdraws_unsent_copies_and_stops_every_later_copy() {
    let v = vault();
    let r = v.run(["--json", "research", "run", "--delay-days", "0"]).ok().json();
    assert_eq!(r["made"], 8);
    let out = v.run(["--json", "consent", "research", "opt-out"]).ok().json();
    assert_eq!(out["withdrawn"], 8, "{out}");
    // New data after the opt-out: never copied, whatever the delay.
    let more = v.input("more.json", bundle(&[observation("o9", 140.0, "2026-01-01T09:00:00+09:00")]));
    v.run(["import", more.to_str().unwrap(), "--person", "1", "--source", "Sakura Hospital"]).ok();
    let r = v.run(["--json", "research", "run", "--delay-days", "0"]).ok().json();
    assert_eq!(r["made"], 0, "{r}");
    let dir = v.tmp_dir().join("research");
    let sent = v.run(["--json", "research", "export", "--out", dir.to_str().unwrap()]).ok().json();
    assert_eq!(sent["sent"], 0, "withdrawn copies are never written out");
    let status = v.run(["--json", "research", "status"]).ok().json();
    assert_eq!((status["pending"].as_u64(), status["withdrawn"].as_u64()), (Some(0), Some(8)));
    // Opting back in consents to what arrives from then on, not to what came before.
    v.run(["consent", "research", "opt-in"]).ok();
    let r = v.run(["--json", "research", "run", "--delay-days", "0"]).ok().json();
    assert_eq!(r["made"], 0, "nothing that arrived before the opt-in: {r}");
    let newer = v.input("newer.json", bundle(&[observation("o10", 141.0, "2026-02-01T09:00:00+09:00")]));
    v.run(["import", newer.to_str().unwrap(), "--person", "1", "--source", "Sakura Hospital"]).ok();
    let r = v.run(["--json", "research", "run", "--delay-days", "0"]).ok().json();
    assert_eq!(r["made"], 1, "{r}");
}

/// The delay: nothing is copied before it passes.
#[test]
fn nothing_is_copied_before_its_delay() {
    let v = vault();
    let r = v.run(["--json", "research", "run"]).ok().json();
    assert_eq!((r["made"].as_u64(), r["waiting"].as_u64()), (Some(0), Some(8)), "the default delay is 30 days: {r}");
    v.run(["research", "delay", "0"]).ok();
    let r = v.run(["--json", "research", "run"]).ok().json();
    assert_eq!(r["made"], 8);
    // A second run copies nothing again.
    let r = v.run(["--json", "research", "run"]).ok().json();
    assert_eq!(r["made"], 0);
}

/// Every string of the input's names, identifiers, telecom, address lines and full birth date.
fn identifiers_in(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match k.as_str() {
                    "name" if x.is_array() => collect_strings(x, out),
                    "telecom" | "line" | "postalCode" => collect_strings(x, out),
                    "identifier" => {
                        for id in x.as_array().into_iter().flatten() {
                            collect_strings(&id["value"], out);
                        }
                    }
                    "birthDate" => collect_strings(x, out),
                    _ => identifiers_in(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| identifiers_in(x, out)),
        _ => {}
    }
}

fn collect_strings(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if s.chars().count() >= 2 && s != "phone" && s != "JP" => {
            out.insert(s.clone());
        }
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

#[test]
fn research_copies_hold_no_direct_identifier_and_keep_codes_and_values() {
    let v = vault();
    let input: Vec<Value> = v.export_ndjson(None);
    let mut secrets = BTreeSet::new();
    input.iter().for_each(|r| identifiers_in(r, &mut secrets));
    for must in ["山田", "花子", "Yamada", "00987654", "090-1234-5678", "千代田区丸の内1-2-3", "1961-07-14", "100-0005"] {
        assert!(secrets.contains(must), "the collector found {must}");
    }
    v.run(["research", "run", "--delay-days", "0"]).ok();
    let dir = v.tmp_dir().join("research");
    let sent = v.run(["--json", "research", "export", "--out", dir.to_str().unwrap()]).ok().json();
    assert_eq!(sent["sent"], 8);
    let mut text = String::new();
    let mut copies = vec![];
    for f in std::fs::read_dir(&dir).expect("research dir") {
        let p = f.expect("entry").path();
        let bytes = std::fs::read(&p).expect("read");
        text.push_str(&String::from_utf8(bytes.clone()).expect("utf-8"));
        copies.extend(parse_ndjson(&bytes, "research copy"));
    }
    assert_eq!(copies.len(), 8);
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a direct identifier ({} chars) is in the research copies", s.chars().count());
    }
    // Birth year kept, codes and values kept, references consistent.
    let patient = copies.iter().find(|c| c["resourceType"] == "Patient").expect("the Patient copy");
    assert!(patient["birthDate"].as_str().is_none_or(|b| b.len() == 4), "birth date → year");
    let pid = patient["id"].as_str().expect("pseudonymous id");
    assert_ne!(pid, "pt1");
    for c in copies.iter().filter(|c| c["resourceType"] != "Patient") {
        assert_eq!(c["subject"]["reference"].as_str(), Some(format!("Patient/{pid}").as_str()), "references follow the pseudonym");
    }
    let values: BTreeSet<String> = copies.iter().filter_map(|c| c["valueQuantity"]["value"].as_f64()).map(|x| format!("{x}")).collect();
    assert_eq!(values, ["101", "104", "120", "131", "99"].iter().map(|s| s.to_string()).collect());
    let codes: BTreeSet<&str> = copies.iter().filter_map(|c| c["code"]["coding"][0]["code"].as_str()).collect();
    assert_eq!(codes, ["2345-7", "E11.9", "F32.9"].into_iter().collect());
    // The same vault makes the same pseudonyms again (a later copy links to an earlier one).
    let status = v.run(["--json", "research", "status"]).ok().json();
    assert_eq!(status["sent"], 8);
    // The export is audited as a send.
    assert!(audit(&v).iter().any(|e| e["kind"] == "research-send"));
    let _ = Path::new(&dir);
}

#[test]
fn audit_verify_reports_an_intact_chain_with_its_length() {
    let v = vault();
    v.run(["consent", "deny", "facility", "Kaede Clinic"]).ok();
    v.export_ndjson(None);
    let out = v.run(["--json", "audit", "verify"]).ok().json();
    assert_eq!((out["ok"].as_bool(), out["entries"].as_u64()), (Some(true), Some(2)));
}

/// The other half of "no exit bypasses the gate", on the core's sources: every method that
/// writes to a caller's `Write` goes through the gate (`gated(` or `disclose(`), or writes only
/// research copies (made by the gate). A new writer that does not fails here.
#[test]
fn no_writer_in_the_core_bypasses_the_gate() {
    let src = repo_root().join("src-tauri/crates/techo-core/src");
    let mut writers = vec![];
    let mut problems = vec![];
    for entry in std::fs::read_dir(&src).expect("core sources") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        if !name.ends_with(".rs") || name.contains("tests") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read source");
        // Each `fn` from its signature to the next `fn` at the same or a lower indent.
        let fns: Vec<(usize, &str)> = text.match_indices("fn ").filter(|(i, _)| *i == 0 || text.as_bytes()[i - 1] == b' ').collect();
        for (k, (start, _)) in fns.iter().enumerate() {
            let end = fns.get(k + 1).map_or(text.len(), |(e, _)| *e);
            let body = &text[*start..end];
            let sig = body.split('{').next().unwrap_or("");
            let fn_name = sig.trim_start_matches("fn ").split(['(', '<']).next().unwrap_or("").to_owned();
            if sig.contains("dyn Write") || sig.contains("impl Write") || sig.contains("Path") && body.contains("create_new(true)") {
                writers.push(format!("{name}::{fn_name}"));
                let gated = body.contains(".gated(") || body.contains(".disclose(") || body.contains("gate(");
                let research_only = body.contains("research_batch(");
                if !(gated || research_only) {
                    problems.push(format!("{name}::{fn_name} writes records without the disclosure gate"));
                }
            }
        }
    }
    writers.sort();
    // The scan sees the known exits (so it cannot pass vacuously).
    for known in ["export.rs::export", "vitals.rs::export_vitals", "disclosure.rs::disclose", "research.rs::write_research_ndjson"] {
        assert!(writers.iter().any(|w| w == known), "the scan should see {known}; it saw {writers:?}");
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
