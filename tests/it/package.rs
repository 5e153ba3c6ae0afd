//! Encrypted share packages shaped as SMART Health Links (`techo package create|open`,
//! techo-share), end to end through the CLI:
//!
//! - a Techo package opens in an independent JOSE implementation (`jose`, Node, in
//!   `tests/peers/shl-jose.mjs`) with the key from the link, and its plaintext is the Bundle the
//!   disclosure gate let out; a `jose`-made package opens in `techo package open`;
//! - a wrong key, a changed byte, an expired link, a wrong passcode, a file that is no package
//!   and a malformed link each give one clear line and an exit code of their own;
//! - the viewer needs no vault and changes none, and no plaintext reaches any file;
//! - a package is a disclosure: consent exceptions hold records back, and the audit log has it.
//!
//! The `jose` tests need node ≥ 20.19 and `npm ci` in tests/peers; without them they print one
//! line and pass, unless `CI` is set: then they fail.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use techo_tests::*;

/// A string that appears only in the Patient's name: it must never reach a file in clear.
const CANARY: &str = "Qzv7canary";

fn patient_json() -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"pt1","identifier":[{{"system":"urn:oid:1.2.392.100495.20.3.51.11311234567","value":"00987654"}}],"name":[{{"family":"山田","given":["花子"],"text":"山田 花子 {CANARY}"}}],"birthDate":"1961-07-14"}}"#
    )
}

fn condition(id: &str, code: &str, display: &str) -> String {
    format!(
        r#"{{"resourceType":"Condition","id":"{id}","subject":{{"reference":"Patient/pt1"}},"code":{{"coding":[{{"system":"http://hl7.org/fhir/sid/icd-10","code":"{code}","display":"{display}"}}]}},"onsetDateTime":"2024-03-01"}}"#
    )
}

fn glucose(id: &str, value: f64) -> String {
    format!(
        r#"{{"resourceType":"Observation","id":"{id}","status":"final","subject":{{"reference":"Patient/pt1"}},"code":{{"coding":[{{"system":"http://loinc.org","code":"2345-7"}}]}},"effectiveDateTime":"2025-02-05","valueQuantity":{{"value":{value},"unit":"mg/dL"}}}}"#
    )
}

fn bundle_of(entries: &[String]) -> String {
    let e: Vec<String> = entries.iter().map(|r| format!("{{\"resource\":{r}}}")).collect();
    format!("{{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{}]}}", e.join(","))
}

/// A vault with one person and 5 records from "Sakura Hospital" (one a depression diagnosis,
/// F32.9); the imported file is removed, so the canary is only in the encrypted vault.
fn vault() -> TempVault {
    let v = TempVault::new();
    let f = v.input(
        "sakura.json",
        bundle_of(&[patient_json(), condition("c1", "F32.9", "うつ病"), condition("c2", "E11.9", "2型糖尿病"), glucose("o1", 120.0), glucose("o2", 131.0)]),
    );
    v.run(["import", f.to_str().unwrap(), "--source", "Sakura Hospital"]).ok();
    std::fs::remove_file(&f).unwrap();
    assert_eq!(v.stats()["resources"].as_u64(), Some(5));
    v
}

/// `techo package create …` → (the link, the package path).
fn create(v: &TempVault, name: &str, extra: &[&str]) -> (String, PathBuf) {
    let out = v.root().join(name);
    let mut a = vec!["package", "create", "--with", "Sakura Hospital", "--out", out.to_str().unwrap()];
    a.extend_from_slice(extra);
    let o = v.run(a).ok();
    let link = o.stdout_str().trim().to_owned();
    assert!(link.starts_with("shlink:/") && !link.contains('\n'), "stdout is the link alone");
    assert!(!o.stderr.contains(&link), "the link (and its key) goes to stdout only");
    (link, out)
}

/// `techo package open FILE --link LINK …` with `stdin`, against a vault path that does not
/// exist (the viewer needs none).
fn open(v: &TempVault, file: &Path, link: &str, stdin: &[u8], extra: &[&str]) -> Out {
    let mut a = vec!["package", "open", file.to_str().unwrap(), "--link", link];
    a.extend_from_slice(extra);
    v.run_at(&v.root().join("no-vault-here"), stdin, a)
}

// ---------------------------------------------------------------------------------------------
// base64url and the link payload (written here so the test does not trust techo-share)

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64url_encode(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            s.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    s
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let vals: Vec<u32> = s.bytes().map(|c| B64.iter().position(|&b| b == c).expect("base64url") as u32).collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, v)| n | (v << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn payload(link: &str) -> Value {
    let body = link.split_once("shlink:/").expect("a shlink").1;
    serde_json::from_slice(&b64url_decode(body)).expect("the link's payload is JSON")
}

fn link_for(url: &str, key: &str, exp: Option<i64>) -> String {
    let mut p = serde_json::json!({ "url": url, "key": key, "flag": "U", "v": 1 });
    if let Some(e) = exp {
        p["exp"] = e.into();
    }
    format!("shlink:/{}", b64url_encode(p.to_string().as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// node + jose

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

fn node_ok() -> &'static Result<(), String> {
    static NODE: OnceLock<Result<(), String>> = OnceLock::new();
    NODE.get_or_init(|| {
        let out = Command::new("node").arg("--version").stdin(Stdio::null()).output().map_err(|e| format!("`node` is not runnable ({e})"))?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let mut it = v.trim_start_matches('v').split('.').map(|n| n.parse::<u32>().unwrap_or(0));
        let (major, minor) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
        if major < 20 || (major == 20 && minor < 19) {
            return Err(format!("node {v} is too old (20.19 or later is needed)"));
        }
        if !peers_dir().join("node_modules/jose/package.json").is_file() {
            return Err("tests/peers/node_modules lacks jose (run `npm ci` in tests/peers)".into());
        }
        Ok(())
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether `jose` can run; if not, fails under CI, else prints one line (the test then passes).
fn jose_ready(test: &str) -> bool {
    match node_ok() {
        Ok(()) => true,
        Err(why) if in_ci() => panic!("{test}: the jose peer cannot run: {why}; scripts/setup.sh installs node and runs `npm ci` in tests/peers"),
        Err(why) => {
            let _ = writeln!(std::io::stderr(), "skipping {test}: {why} (with CI set this is a failure)");
            false
        }
    }
}

fn jose(args: &[&str], stdin: &[u8]) -> Out {
    let mut c = Command::new("node");
    c.arg(peers_dir().join("shl-jose.mjs")).args(args).current_dir(peers_dir());
    run_command(c, stdin, format!("node shl-jose.mjs {}", args.first().unwrap_or(&"")))
}

/// The ids of a package's records (not the Provenance entries that name the facilities).
fn ids(bundle: &Value) -> BTreeSet<String> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| !techo_core::is_sources_provenance(&e["resource"]))
        .map(|e| e["resource"]["id"].as_str().unwrap_or("").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------

/// (a), (e): Techo's package opens in jose with the key from the link; the plaintext is the
/// Bundle the gate let out (the excepted category held back), and the audit log has the share.
#[test]
fn techo_package_opens_in_jose_and_is_the_gated_bundle() {
    let v = vault();
    v.run(["consent", "deny", "category", "mental-health"]).ok();
    let audits_before = audit(&v).len();
    let (link, file) = create(&v, "for-sakura.jwe", &["--label", "For Dr. Sato", "--expires", "7"]);

    let p = payload(&link);
    assert_eq!(p["url"], "for-sakura.jwe");
    assert_eq!(p["flag"], "U");
    assert_eq!(p["label"], "For Dr. Sato");
    assert_eq!(p["v"], 1);
    let key = p["key"].as_str().expect("a key").to_owned();
    assert_eq!(key.len(), 43);
    let exp = p["exp"].as_i64().expect("an exp");
    let now = chrono_now();
    assert!((now + 7 * 86_400 - 120..=now + 7 * 86_400 + 5).contains(&exp), "exp is 7 days ahead");

    // The viewer's plaintext (in memory, on stdout) and jose's, compared by hash.
    let plain = open(&v, &file, &link, b"", &["--json"]).ok().stdout;
    let bundle: Value = serde_json::from_slice(&plain).expect("the package holds JSON");
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    assert_eq!(ids(&bundle), ["c2", "o1", "o2", "pt1"].iter().map(|s| s.to_string()).collect(), "the F32 condition is held back");

    // Audit: one share event to the provider, for treatment, 4 out and 1 held back.
    let log = audit(&v);
    assert_eq!(log.len(), audits_before + 1, "one audit event per package");
    let e = log.last().unwrap();
    assert_eq!(e["kind"], "share");
    assert_eq!(e["event"]["purposeOfEvent"][0]["coding"][0]["code"], "TREAT");
    assert!(e["event"].to_string().contains("provider: Sakura Hospital"), "the audit names the recipient");
    let d = e["event"]["entity"][1]["description"].as_str().expect("counts");
    assert_eq!(&numbers_in(d)[..2], &[4, 1]);

    if !jose_ready("techo_package_opens_in_jose_and_is_the_gated_bundle") {
        return;
    }
    let j = jose(&["decrypt", file.to_str().unwrap(), &key], b"").ok().json();
    assert_eq!(j["resourceType"], "Bundle");
    assert_eq!(j["cty"], "application/fhir+json");
    let ours = jose(&["sha256"], &plain).ok().stdout_str().trim().to_owned();
    assert_eq!(j["sha256"].as_str(), Some(ours.as_str()), "jose's plaintext is byte-for-byte the viewer's");
    // Another key: jose refuses too.
    let other = b64url_encode(&[7u8; 32]);
    assert_eq!(jose(&["decrypt", file.to_str().unwrap(), &other], b"").code, 1);
}

/// (b): a package made by jose (fresh key) opens in `techo package open`, also from a viewer URL.
#[test]
fn jose_package_opens_in_techo() {
    if !jose_ready("jose_package_opens_in_techo") {
        return;
    }
    let v = TempVault::uninitialised();
    let plain = bundle_of(&[
        r#"{"resourceType":"Patient","id":"x","name":[{"given":["Taro"],"family":"Suzuki"}]}"#.to_owned(),
        r#"{"resourceType":"Observation","id":"y","status":"final","code":{"text":"bp"}}"#.to_owned(),
        r#"{"resourceType":"Observation","id":"z","status":"final","code":{"text":"bp"}}"#.to_owned(),
    ]);
    let pt = v.input("plain.json", &plain);
    let file = v.root().join("from-jose.jwe");
    let key = jose(&["encrypt", pt.to_str().unwrap(), file.to_str().unwrap()], b"").ok().stdout_str().trim().to_owned();
    assert_eq!(key.len(), 43);
    let link = link_for("from-jose.jwe", &key, None);

    let summary = open(&v, &file, &link, b"", &[]).ok().stdout_str();
    assert!(summary.contains("patient\tTaro Suzuki"), "viewer summary: {}", shape(&summary));
    assert!(summary.contains("resources\t3"), "viewer summary: {}", shape(&summary));
    assert!(summary.contains("  Observation\t2"), "viewer summary: {}", shape(&summary));
    let viewer = format!("https://viewer.example/#{link}");
    let out = open(&v, &file, &viewer, b"", &["--json"]).ok().stdout;
    assert_eq!(String::from_utf8(out).unwrap().trim_end(), plain);
    // jose's package has no kid: a wrong key cannot be told from a changed file, but it is refused.
    let wrong = link_for("from-jose.jwe", &b64url_encode(&[9u8; 32]), None);
    let o = open(&v, &file, &wrong, b"", &[]).expect_code(21);
    assert!(o.error_line().contains("key"), "{}", o.error_line());
    assert!(!v.dir.exists(), "no vault was made");
}

/// (c): each failure is one line with an exit code of its own.
#[test]
fn each_failure_has_one_line_and_its_own_exit_code() {
    let v = vault();
    let (link1, file1) = create(&v, "one.jwe", &[]);
    let (link2, _file2) = create(&v, "two.jwe", &[]);
    let mut codes = BTreeSet::new();
    let mut check = |o: Out, code: i32, words: &str| {
        let o = o.expect_code(code);
        let line = o.error_line().to_owned();
        assert!(line.contains(words), "{line}");
        assert!(!line.contains(CANARY));
        codes.insert(code);
    };

    // Wrong key: the other package's link.
    check(open(&v, &file1, &link2, b"", &[]), 21, "key does not open");

    // One changed byte in the middle of the ciphertext.
    let text = std::fs::read_to_string(&file1).unwrap();
    let parts: Vec<&str> = text.split('.').collect();
    let ct_start = parts[0].len() + parts[1].len() + parts[2].len() + 3;
    let mut changed = text.clone().into_bytes();
    let i = ct_start + parts[3].len() / 2;
    changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
    let tampered = v.root().join("changed.jwe");
    std::fs::write(&tampered, &changed).unwrap();
    check(open(&v, &tampered, &link1, b"", &[]), 22, "changed");

    // Expired: --expires 0 ends the link at once.
    let (link0, file0) = create(&v, "expired.jwe", &["--expires", "0"]);
    check(open(&v, &file0, &link0, b"", &[]), 23, "expired");

    // A passcode package: right, wrong, missing.
    let out = v.root().join("pass.jwe");
    let stdin = format!("{}\ncorrect-horse\n", v.passphrase);
    let o = v.run_stdin(stdin.as_bytes(), ["package", "create", "--with", "Sakura Hospital", "--out", out.to_str().unwrap(), "--passcode"]).ok();
    let linkp = o.stdout_str().trim().to_owned();
    assert_eq!(payload(&linkp)["flag"], "P");
    assert!(!std::fs::read_to_string(&out).unwrap().contains("correct-horse"));
    assert!(open(&v, &out, &linkp, b"correct-horse\n", &["--passcode"]).ok().stdout_str().contains("resources\t5"));
    check(open(&v, &out, &linkp, b"wrong-horse\n", &["--passcode"]), 24, "passcode is wrong");
    let o = open(&v, &out, &linkp, b"", &[]).expect_code(24);
    assert!(o.error_line().contains("passcode"), "{}", o.error_line());

    // Not a package; a malformed link.
    let notpkg = v.input("plain.json", b"{\"resourceType\":\"Bundle\"}");
    check(open(&v, &notpkg, &link1, b"", &[]), 20, "not a share package");
    check(open(&v, &file1, "shlink:/%%%", b"", &[]), 25, "not a SMART Health Link");
    check(open(&v, &file1, "https://example.org/", b"", &[]), 25, "not a SMART Health Link");
    assert_eq!(codes.len(), 6, "six distinct exit codes: {codes:?}");

    // A too-long label is refused before anything is read: no file, no audit event.
    let before = audit(&v).len();
    let long = "x".repeat(81);
    let o = v.run(["package", "create", "--with", "Sakura Hospital", "--out", v.root().join("long.jwe").to_str().unwrap(), "--label", &long]).expect_code(7);
    assert!(o.error_line().contains("at most 80"));
    assert!(!v.root().join("long.jwe").exists());
    assert_eq!(audit(&v).len(), before);
}

/// (d): the viewer opens no vault and changes none; no plaintext reaches any file.
#[test]
fn viewer_changes_no_vault_and_writes_no_plaintext() {
    let v = vault();
    let (link, file) = create(&v, "pkg.jwe", &["--label", "家族へ"]);
    let before = v.snapshot();
    // With --vault pointing at the real vault: it is not opened (no passphrase on stdin either).
    let summary = v.run_stdin(b"", ["package", "open", file.to_str().unwrap(), "--link", &link]).ok().stdout_str();
    assert!(summary.contains(&format!("patient\t山田 花子 {CANARY}")), "the summary names the patient");
    assert!(summary.contains("label\t家族へ"), "viewer summary: {}", shape(&summary));
    assert!(summary.contains("resources\t5"), "viewer summary: {}", shape(&summary));
    let json = v.run_stdin(b"", ["package", "open", file.to_str().unwrap(), "--link", &link, "--json"]).ok();
    assert!(json.stdout_str().contains(CANARY), "the plaintext is on stdout");
    assert_same_files(&before, &v.snapshot(), "techo package open");
    let hits = find_in_tree(v.root(), CANARY.as_bytes());
    assert!(hits.is_empty(), "plaintext reached a file: {:?}", hits.iter().map(|(p, o)| format!("{} at {o}", p.display())).collect::<Vec<_>>());
    let key = payload(&link)["key"].as_str().unwrap().to_owned();
    assert!(find_in_tree(v.root(), key.as_bytes()).is_empty(), "the key reached a file");
}

/// The viewer's summary for a failure message: each line's field and its counts, never the
/// patient's name, the label or a facility.
fn shape(summary: &str) -> String {
    summary
        .lines()
        .map(|l| {
            let (field, rest) = l.split_once('\t').unwrap_or((l, ""));
            if rest.chars().all(|c| c.is_ascii_digit()) { format!("{field}={rest}") } else { format!("{field}=…") }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn audit(v: &TempVault) -> Vec<Value> {
    match v.run(["--json", "audit", "list", "--limit", "1000"]).ok().json() {
        Value::Array(a) => a,
        other => panic!("audit list should be an array, got {}", kind(&other)),
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The package names each record's facility (one Provenance per facility, targets resolving to
/// the records' fullUrls) and says that consent withheld something, not what; a scope limits
/// the kinds of records and dates, and the audit names recipient, scope and purpose.
#[test]
fn a_scoped_share_names_its_sources_and_the_audit_has_recipient_scope_and_purpose() {
    let v = vault();
    v.run(["consent", "deny", "category", "mental-health"]).ok();
    let (link, file) = create(&v, "conditions.jwe", &["--types", "Condition", "--from", "2024-01"]);
    let bundle: Value = serde_json::from_slice(&open(&v, &file, &link, b"", &["--json"]).ok().stdout).unwrap();
    assert_eq!(ids(&bundle), ["c2", "pt1"].iter().map(|s| s.to_string()).collect(), "only conditions (and the Patient); F32 withheld");
    let tags = bundle["meta"]["tag"].to_string();
    assert!(tags.contains("withheld") && !tags.contains("mental"), "withheld is said, not what: {tags}");
    let entries = bundle["entry"].as_array().unwrap();
    let urls: BTreeSet<&str> = entries.iter().filter_map(|e| e["fullUrl"].as_str()).collect();
    assert_eq!(urls.len(), entries.len(), "every entry has its own fullUrl");
    let prov: Vec<&Value> = entries.iter().map(|e| &e["resource"]).filter(|r| techo_core::is_sources_provenance(r)).collect();
    assert_eq!(prov.len(), 1, "one facility");
    assert_eq!(prov[0]["agent"][0]["who"]["display"], "Sakura Hospital");
    let targets: Vec<&str> = prov[0]["target"].as_array().unwrap().iter().map(|t| t["reference"].as_str().unwrap()).collect();
    assert_eq!(targets.len(), 2);
    assert!(targets.iter().all(|t| urls.contains(t)), "provenance targets resolve inside the Bundle");
    let summary = open(&v, &file, &link, b"", &[]).ok().stdout_str();
    assert!(summary.contains("source\tSakura Hospital") && summary.contains("withheld"), "viewer summary: {}", shape(&summary));

    let e = audit(&v).pop().unwrap();
    assert_eq!(e["kind"], "share");
    assert_eq!(e["event"]["agent"][1]["who"]["display"], "provider: Sakura Hospital");
    assert_eq!(e["event"]["purposeOfEvent"][0]["coding"][0]["code"], "TREAT");
    assert_eq!(e["event"]["entity"][1]["name"], "types: Condition; dates from 2024-01");
    let d = e["event"]["entity"][1]["description"].as_str().unwrap();
    assert!(d.starts_with("2 disclosed, 1 held back by consent; scope: types: Condition"), "{d}");

    // A scope that is wrong is refused before anything is read; an empty one makes no package.
    let bad = v.root().join("bad.jwe");
    let o = v.run(["package", "create", "--with", "Sakura Hospital", "--out", bad.to_str().unwrap(), "--from", "2024-13-01"]).expect_code(7);
    assert!(o.error_line().contains("YYYY-MM-DD"), "{}", o.error_line());
    let o = v.run(["package", "create", "--with", "Sakura Hospital", "--out", bad.to_str().unwrap(), "--types", "Immunization"]).expect_code(7);
    assert!(o.error_line().contains("nothing to share") && o.error_line().contains("scope holds no records"), "{}", o.error_line());
    assert!(!bad.exists());
}

/// Caregiver exchange: a person's package kept by the caregiver's Techo as a family member
/// "shared by …"; a newer package updates the same records without duplicates; revoking the
/// caregiver's access stops further packages.
#[test]
fn a_caregiver_keeps_a_shared_record_a_newer_package_updates_it_and_revocation_stops_packages() {
    let mother = vault();
    mother.run(["consent", "caregiver", "grant", "hanako", "--name", "娘", "--relationship", "娘"]).ok();
    let carer = TempVault::new();
    carer.run(["person", "add", "Carer Self", "--relationship", "self"]).ok();
    let package = |name: &str| -> (String, PathBuf) {
        let out = mother.root().join(name);
        let o = mother.run(["package", "create", "--caregiver", "hanako", "--out", out.to_str().unwrap()]).ok();
        (o.stdout_str().trim().to_owned(), out)
    };
    let keep = |file: &Path, link: &str| -> Value {
        carer.run(["--json", "package", "import", file.to_str().unwrap(), "--link", link]).ok().json()
    };

    let (link, file) = package("first.jwe");
    let r = keep(&file, &link);
    assert_eq!(r["new_person"], true);
    let counts = |r: &Value| format!("resources {} new {} updated {} unchanged {}", r["resources"], r["new"], r["updated"], r["unchanged"]);
    assert_eq!((r["resources"].as_u64(), r["new"].as_u64()), (Some(5), Some(5)), "{}", counts(&r));
    let person = r["person"].as_i64().unwrap();
    let persons = carer.run(["--json", "person", "list"]).ok().json();
    let p = persons.as_array().unwrap().iter().find(|p| p["id"].as_i64() == Some(person)).expect("the new person").clone();
    assert!(p["shared_by"].as_str().is_some_and(|s| s.contains("山田")), "marked as shared by the sender");
    assert_eq!(p["resource_count"], 5);
    assert_eq!(persons.as_array().unwrap().len(), 2);

    // The same package again changes nothing; a newer one (one record changed, one added) updates.
    let again = keep(&file, &link);
    assert_eq!((again["new_person"].as_bool(), again["new"].as_u64(), again["unchanged"].as_u64()), (Some(false), Some(0), Some(5)), "{}", counts(&again));
    // The same file again (the same source), with c2 changed and o3 added.
    let f = mother.input(
        "sakura.json",
        bundle_of(&[patient_json(), condition("c2", "E11.65", "2型糖尿病（高血糖を伴う）"), glucose("o3", 142.0)]),
    );
    mother.run(["import", f.to_str().unwrap(), "--source", "Sakura Hospital"]).ok();
    let (link2, file2) = package("second.jwe");
    let r2 = keep(&file2, &link2);
    assert_eq!(r2["person"].as_i64(), Some(person), "the same person");
    assert_eq!((r2["new"].as_u64(), r2["updated"].as_u64()), (Some(1), Some(1)), "{}", counts(&r2));
    let persons = carer.run(["--json", "person", "list"]).ok().json();
    assert_eq!(persons.as_array().unwrap().len(), 2, "no second person");
    let p = persons.as_array().unwrap().iter().find(|p| p["id"].as_i64() == Some(person)).unwrap().clone();
    assert_eq!(p["resource_count"], 6, "no duplicates");
    let found = carer.run(["--json", "search", "高血糖", "--person", &person.to_string()]).ok().json();
    assert_eq!(found.as_array().map(Vec::len), Some(1), "the updated condition is the current version");

    let before = carer.stats()["resources"].clone();

    // Revoked: no package is made, and the attempt is audited with nothing disclosed.
    mother.run(["consent", "caregiver", "revoke", "hanako"]).ok();
    let out = mother.root().join("third.jwe");
    let o = mother.run(["package", "create", "--caregiver", "hanako", "--out", out.to_str().unwrap()]).expect_code(7);
    assert!(o.error_line().contains("revoked"), "{}", o.error_line());
    assert!(o.stdout_str().trim().is_empty() && !out.exists(), "no link, no file");
    let e = audit(&mother).pop().unwrap();
    assert_eq!(e["kind"], "caregiver-view");
    assert!(e["event"]["entity"][1]["description"].as_str().unwrap().starts_with("0 disclosed"));
    assert_eq!(carer.stats()["resources"], before);
}

/// The International Patient Summary made from a vault (through the gate, so consent applies)
/// passes the offline IPS structural rules; what consent withheld is out of it, and the
/// document says something was withheld, not what. The same as a package opens in jose; the
/// printable page is made in both languages and is audited as the person's own use.
#[test]
fn the_ips_of_a_generated_record_passes_the_ips_rules_and_travels_as_a_package() {
    let v = TempVault::new();
    let rec = v.root().join("gen.json");
    v.run(["gen", "--persons", "1", "--resources", "5000", "--facilities", "3", "--out", rec.to_str().unwrap()]).ok();
    v.run(["import", rec.to_str().unwrap()]).ok();
    std::fs::remove_file(&rec).unwrap();
    let f = v.input("sakura.json", bundle_of(&[patient_json(), condition("c1", "F32.9", "うつ病"), condition("c2", "E11.9", "2型糖尿病")]));
    v.run(["import", f.to_str().unwrap(), "--source", "Sakura Hospital", "--person", "1"]).ok();

    let ips: Value = v.run(["summary", "--ips"]).ok().json();
    let issues = techo_core::techo_share::ips_check::check_ips(&ips);
    assert!(issues.is_empty(), "IPS rules: {:?}", issues.iter().map(|i| format!("{} {}", i.rule, i.path)).collect::<Vec<_>>());
    let n = ips["entry"].as_array().unwrap().len();
    assert!((20..2000).contains(&n), "a readable document, not the whole record: {n} entries");
    assert!(ips.to_string().contains("E11.9"), "the diabetes condition is summarised");
    let jp: Value = v.run(["summary", "--jp-six"]).ok().json();
    let mut issues = techo_core::techo_share::ips_check::check_jp_six(&jp);
    issues.retain(|i| !i.rule.starts_with("ips-"));
    assert!(issues.is_empty(), "JP six-item rules: {:?}", issues.iter().map(|i| format!("{} {}", i.rule, i.path)).collect::<Vec<_>>());

    // Consent withholds mental health: out of the shared IPS, which says something was withheld.
    v.run(["consent", "deny", "category", "mental-health"]).ok();
    let (link, file) = create(&v, "ips.jwe", &["--ips", "--lang", "ja", "--label", "佐藤先生へ"]);
    let shared: Value = serde_json::from_slice(&open(&v, &file, &link, b"", &["--json"]).ok().stdout).unwrap();
    assert!(techo_core::techo_share::ips_check::check_ips(&shared).is_empty());
    let text = shared.to_string();
    assert!(!text.contains("F32.9") && text.contains("E11.9"), "the withheld category is out");
    assert!(shared["meta"]["tag"].to_string().contains("withheld"));
    assert!(text.contains("urn:techo:section") && !text.contains("mental"), "a withheld section that does not say what");
    let summary = open(&v, &file, &link, b"", &[]).ok().stdout_str();
    assert!(summary.contains("Composition\t1"), "viewer summary: {}", shape(&summary));
    let e = audit(&v).pop().unwrap();
    assert_eq!(e["event"]["entity"][1]["name"], "International Patient Summary");
    // Audited as what the document stands for, not the 5,000 records it was built from.
    let counts = numbers_in(e["event"]["entity"][1]["description"].as_str().unwrap());
    assert!((20..2000).contains(&counts[0]) && counts[1] == 1, "disclosed {}, held back {}", counts[0], counts[1]);

    // The printable page: English and Japanese, no script, audited as the person's own export.
    let html_en = v.run(["summary"]).ok().stdout_str();
    let html_ja = v.run(["summary", "--lang", "ja"]).ok().stdout_str();
    assert!(html_en.starts_with("<!doctype html>") && html_en.contains("Content-Security-Policy"));
    assert!(html_ja.contains("lang=\"ja\""), "a Japanese page");
    for h in [&html_en, &html_ja] {
        assert!(!h.contains("<script") && !h.contains("http://") && !h.contains("https://"), "no script, no remote content");
    }
    let e = audit(&v).pop().unwrap();
    assert_eq!((e["kind"].as_str(), e["event"]["entity"][1]["name"].as_str()), (Some("export"), Some("printable summary")));

    if !jose_ready("the_ips_of_a_generated_record_passes_the_ips_rules_and_travels_as_a_package") {
        return;
    }
    let key = payload(&link)["key"].as_str().unwrap().to_owned();
    let j = jose(&["decrypt", file.to_str().unwrap(), &key], b"").ok().json();
    assert_eq!(j["resourceType"], "Bundle", "jose opens the IPS package");
}

/// A share through a relay (the demo hospital's, on loopback): the package is uploaded and the
/// link points at it, so the recipient needs only the link; the relay only ever held
/// ciphertext; the viewer fetches it (`?recipient=`) and opens it; jose decrypts what the relay
/// holds; a relay that is not https (off this computer), a passcode with a relay, and a package
/// the relay no longer has are clear errors.
#[test]
fn a_share_through_a_relay_needs_only_the_link_and_the_relay_sees_only_ciphertext() {
    use techo_demo::{Auth, Hospital, HospitalConfig};
    let relay = Hospital::start(HospitalConfig { resources: 10, auth: Auth::Open, name: "Relay".into(), ..HospitalConfig::default() }).expect("start the relay");
    let v = vault();
    let o = v.run(["package", "create", "--with", "Sakura Hospital", "--relay", &relay.relay_url(), "--ips", "--label", "For Dr. Sato"]).ok();
    let link = o.stdout_str().trim().to_owned();
    let p = payload(&link);
    let url = p["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/", relay.relay_url())) && url.len() > relay.relay_url().len() + 64, "the link points at the relay, with 256 random bits");
    assert_eq!(p["flag"], "U");
    let held = relay.relayed();
    assert_eq!(held.len(), 1, "one package on the relay");
    assert_eq!(held[0].iter().filter(|&&b| b == b'.').count(), 4, "a compact JWE");
    assert!(!held[0].windows(CANARY.len()).any(|w| w == CANARY.as_bytes()), "the relay holds ciphertext only");
    let key = p["key"].as_str().unwrap();
    assert!(!held[0].windows(key.len()).any(|w| w == key.as_bytes()), "the key never went to the relay");
    assert!(relay.log().iter().all(|r| !r.path_and_query.contains(key)));

    // The viewer, with the link only.
    let summary = v.run_at(&v.root().join("no-vault-here"), b"", ["package", "open", "--link", &link]).ok().stdout_str();
    assert!(summary.contains("label\tFor Dr. Sato") && summary.contains("Composition\t1"), "viewer summary: {}", shape(&summary));
    assert!(relay.log().iter().any(|r| r.method == "GET" && r.path_and_query.contains("recipient=")), "fetched as SHL asks");
    assert!(!v.root().join("no-vault-here").exists());
    if jose_ready("a_share_through_a_relay_needs_only_the_link_and_the_relay_sees_only_ciphertext") {
        let f = v.root().join("relayed.jwe");
        std::fs::write(&f, &held[0]).unwrap();
        assert_eq!(jose(&["decrypt", f.to_str().unwrap(), key], b"").ok().json()["resourceType"], "Bundle");
    }

    // Refusals: plain http off this computer; a passcode with a relay; a package gone.
    let o = v.run(["package", "create", "--with", "Sakura Hospital", "--relay", "http://relay.example/shl"]).expect_code(11);
    assert!(o.error_line().contains("https"), "{}", o.error_line());
    let o = v.run(["package", "create", "--with", "Sakura Hospital", "--relay", &relay.relay_url(), "--passcode"]).expect_code(2);
    assert!(o.error_line().contains("--passcode") || o.error_line().contains("cannot be used"), "{}", o.error_line());
    let gone = link_for(&format!("{}/{}", relay.relay_url(), "0".repeat(64)), key, None);
    let o = v.run_at(&v.root().join("no-vault-here"), b"", ["package", "open", "--link", &gone]).expect_code(11);
    assert!(o.error_line().contains("no longer holds this package"), "{}", o.error_line());
    assert_eq!(relay.relayed().len(), 1, "refused shares uploaded nothing");
}
