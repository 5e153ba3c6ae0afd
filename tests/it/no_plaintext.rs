//! No plaintext on disk: a canary string imported into the vault (Patient name, narrative, note,
//! person name) is never found in any file under the vault folder, the CLI's TMPDIR or HOME —
//! after a normal import, and after a SIGKILL in the middle of a large import. The killed
//! import stores nothing; the vault still opens and a re-import succeeds.

use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use techo_tests::*;

const CANARY: &str = "CANARY-TECHO-7f3a";

/// Every place the CLI may write: the vault, its TMPDIR and its HOME.
#[track_caller]
fn assert_no_canary(v: &TempVault, context: &str) {
    // Control: the scan does find the canary where it is in plaintext (the input files).
    assert!(
        !find_in_tree(&v.root().join("inputs"), CANARY.as_bytes()).is_empty(),
        "{context}: the scanner should find the canary in the input files"
    );
    let mut hits = Vec::new();
    for dir in [v.dir.clone(), v.tmp_dir(), v.home_dir()] {
        hits.extend(find_in_tree(&dir, CANARY.as_bytes()));
        // Also as UTF-16LE, in case something writes wide strings.
        let wide: Vec<u8> = CANARY.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        hits.extend(find_in_tree(&dir, &wide));
    }
    let report: Vec<String> = hits
        .iter()
        .map(|(p, off)| format!("{} at byte {off}", p.strip_prefix(v.root()).unwrap_or(p).display()))
        .collect();
    assert!(report.is_empty(), "{context}: the canary is in plaintext in: {}", report.join(", "));
    let head = std::fs::read(v.dir.join("techo.db")).map(|b| b[..b.len().min(16)].to_vec()).unwrap_or_default();
    assert!(
        !head.starts_with(b"SQLite format 3"),
        "{context}: techo.db starts with the plaintext SQLite header"
    );
}

fn canary_records() -> Value {
    let mut p = patient("p-canary", "CANARY-ID-0001", CANARY, "Hanako");
    p["text"] = json!({
        "status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{CANARY} &amp; family</p></div>")
    });
    let condition = json!({
        "resourceType": "Condition",
        "id": "c-canary",
        "subject": {"reference": "Patient/p-canary"},
        "code": {"text": format!("condition {CANARY}")},
        "note": [{"text": format!("note: {CANARY} private")}],
        "recordedDate": "2024-04-01"
    });
    let mut o = observation("o-canary", "p-canary", "2345-7", "101.50", "2024-04-02");
    o["note"] = json!([{"text": format!("{CANARY} in an observation note")}]);
    bundle("collection", &[p, condition, o])
}

#[test]
fn canary_is_never_on_disk_in_plaintext() {
    let v = TempVault::new();
    v.add_person(&format!("{CANARY} person"));
    let f = v.input("canary.json", to_bytes(&canary_records()));
    v.import(&[&f], None).ok();
    let stats = v.stats();
    assert!(stats["resources"].as_u64().unwrap_or(0) >= 3, "the records were stored");
    // Touch every read path too (search index, export) before scanning.
    v.run(["--json", "search", CANARY]).ok();
    v.run(["export", "--format", "ndjson"]).ok();
    v.run(["check"]).ok();
    assert_no_canary(&v, "after import");
}

/// NDJSON of `n` Observations (no Patient: they go to `--person`), a canary in each.
fn big_canary_ndjson(path: &Path, n: usize) {
    use std::io::Write;
    let f = std::fs::File::create(path).expect("create big input");
    let mut w = std::io::BufWriter::new(f);
    for i in 0..n {
        let line = json!({
            "resourceType": "Observation",
            "id": format!("big-{i}"),
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}], "text": format!("{CANARY} glucose {i}")},
            "subject": {"reference": "Patient/p-kill"},
            "effectiveDateTime": format!("20{:02}-{:02}-{:02}", 10 + i % 15, 1 + i % 12, 1 + i % 28),
            "valueQuantity": {"value": 90 + (i % 50), "unit": "mg/dL"},
            "note": [{"text": format!("{CANARY} note {i}")}]
        });
        serde_json::to_writer(&mut w, &line).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn sigkill_mid_import_leaves_no_plaintext_and_no_partial_data() {
    let n: usize = std::env::var("TECHO_IT_KILL_RESOURCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let v = TempVault::new();
    let f0 = v.input("first.json", to_bytes(&bundle("collection", &[patient("p-kill", "KILL-0001", "Kill", "Test")])));
    v.import(&[&f0], None).ok();
    let person = id_arg(&v.run(["--json", "person", "list"]).ok().json()[0]["id"]);
    let before = v.stats();
    let before_list = v.list(&[]);

    let big = v.root().join("inputs").join("big.ndjson");
    big_canary_ndjson(&big, n);

    let start = Instant::now();
    let mut child = v.spawn([
        std::ffi::OsStr::new("import"),
        big.as_os_str(),
        std::ffi::OsStr::new("--person"),
        std::ffi::OsStr::new(&person),
    ]);
    // Kill once the transaction has spilled pages into the WAL (more than its 32-byte header
    // plus a few frames), so the scan covers uncommitted encrypted pages; at the latest after 40 s.
    let wal = v.dir.join("techo.db-wal");
    let mut saw_wal = false;
    let mut wal_max = 0;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            panic!(
                "the import of {n} resources finished ({st}) after {:?}, before it could be killed; \
                 set TECHO_IT_KILL_RESOURCES higher",
                start.elapsed()
            );
        }
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        wal_max = wal_max.max(wal_len);
        saw_wal |= wal_len > 256 * 1024;
        if (saw_wal && start.elapsed() >= Duration::from_secs(1)) || start.elapsed() >= Duration::from_secs(40) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL the import"); // std's kill() is SIGKILL on Unix
    let st = child.wait().unwrap();
    println!(
        "killed the import after {:?} (WAL frames seen: {saw_wal}, largest WAL {wal_max} bytes, status {st}); vault files: {:?}",
        start.elapsed(),
        snapshot(&v.dir).iter().map(|(p, b)| (p.display().to_string(), b.len())).collect::<Vec<_>>()
    );

    assert_no_canary(&v, "right after SIGKILL");

    // The vault opens, shows the previous state, passes its check.
    assert_eq!(v.stats(), before, "the killed import must store nothing");
    assert!(v.list(&[]) == before_list, "list changed after the killed import");
    v.run(["check"]).ok();
    assert_no_canary(&v, "after reopening");

    // A re-import succeeds.
    let t = Instant::now();
    v.import(&[&big], Some(&person)).ok();
    println!("re-import of {n} resources took {:?}", t.elapsed());
    let after = v.stats();
    assert_eq!(
        after["resources"].as_u64().unwrap(),
        before["resources"].as_u64().unwrap() + n as u64,
        "all {n} resources after the re-import"
    );
    assert_no_canary(&v, "after the re-import");
}
