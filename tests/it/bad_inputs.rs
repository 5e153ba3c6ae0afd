//! Bad inputs: every one is refused with the right exit code and ONE plain `techo: error:` line
//! that names the file (and the entry index / line number where there is one), and nothing is
//! stored — `stats --json` and `list --json` are identical before and after, and an earlier
//! import is intact. Then the vault-level ones: plaintext SQLite, non-vaults, tampered key
//! files, damaged databases, wrong passphrases.

use rstest::rstest;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use techo_fhir::equality::fhir_diff;
use techo_tests::*;

/// A vault holding one earlier import (a Patient and two Observations), made once and copied
/// for every case, with what `stats`, `list` and `show` said about it.
struct Baseline {
    vault: TempVault,
    stats: Value,
    list: Vec<Value>,
    record_id: Value,
    record: Value,
}

fn baseline() -> &'static Baseline {
    static B: OnceLock<Baseline> = OnceLock::new();
    B.get_or_init(|| {
        let v = TempVault::uninitialised_in(Some(Path::new(env!("CARGO_TARGET_TMPDIR"))));
        v.run(["init"]).ok();
        let f = v.input(
            "baseline.json",
            to_bytes(&bundle(
                "collection",
                &[
                    patient("p-base", "BASE-0001", "Baseline", "Hanako"),
                    observation("o-base-1", "p-base", "2345-7", "95", "2024-01-02"),
                    observation("o-base-2", "p-base", "2345-7", "101.50", "2024-02-03"),
                ],
            )),
        );
        v.import(&[&f], None).ok();
        let stats = v.stats();
        assert_eq!(stats["persons"], json!(1), "baseline: one person from the Patient");
        assert_eq!(stats["resources"], json!(3), "baseline: three resources");
        let list = v.list(&[]);
        assert_eq!(list.len(), 3, "baseline: list shows the three resources");
        let record_id = list
            .iter()
            .find(|r| r["resource_type"] == "Observation")
            .expect("an Observation in the list")["record_id"]
            .clone();
        let record = v.show(&record_id);
        Baseline { vault: v, stats, list, record_id, record }
    })
}

/// A fresh copy of the baseline vault.
fn vault() -> TempVault {
    TempVault::copy_of(&baseline().vault)
}

#[track_caller]
fn assert_nothing_stored(v: &TempVault, context: &str) {
    let b = baseline();
    let stats = v.stats();
    assert_eq!(stats, b.stats, "{context}: stats --json changed");
    let list = v.list(&[]);
    assert!(
        list == b.list,
        "{context}: list --json changed ({} records before, {} after)",
        b.list.len(),
        list.len()
    );
    let rec = v.show(&b.record_id);
    if let Some(d) = fhir_diff(&b.record, &rec) {
        panic!("{context}: the earlier import changed: {d}");
    }
}

/// Where the error should point.
#[derive(Clone, Debug)]
enum Pos {
    /// Nothing specific (the file as a whole).
    Any,
    /// `Bundle.entry[i]` (0-based; "entry i" or, 1-based, "entry i+1" both accepted), any of these.
    Entry(&'static [usize]),
    /// NDJSON line (1-based).
    Line(u64),
}

#[track_caller]
fn assert_points_at(line: &str, pos: &Pos) {
    let lower = line.to_lowercase();
    let nums = numbers_in(line);
    match pos {
        Pos::Any => {}
        Pos::Entry(idx) => {
            assert!(lower.contains("entry"), "the error should name the entry: {line}");
            assert!(
                idx.iter().any(|&i| nums.contains(&(i as u64)) || nums.contains(&(i as u64 + 1))),
                "the error should give entry index {idx:?}: {line}"
            );
        }
        Pos::Line(n) => {
            assert!(lower.contains("line"), "the error should name the line: {line}");
            assert!(nums.contains(n), "the error should give line {n}: {line}");
        }
    }
}

/// Imports `file` (exit code `code` expected), checks the error line, that it names the file and
/// points at `pos`, and that nothing was stored.
#[track_caller]
fn assert_import_rejected(v: &TempVault, file: &Path, person: Option<&str>, code: i32, pos: &Pos) {
    let out = v.import(&[file], person).expect_code(code);
    let line = out.error_line().to_owned();
    let name = file.file_name().expect("file name").to_string_lossy().into_owned();
    assert!(line.contains(&name), "the error should name the file {name}: {line}");
    assert_points_at(&line, pos);
    assert_nothing_stored(v, &format!("after the rejected import of {name}"));
}

// --- generators --------------------------------------------------------------------------------

fn obs(id: &str) -> Value {
    observation(id, "p-base", "2345-7", "99", "2024-03-04")
}

fn obs_bytes(id: &str) -> Vec<u8> {
    to_bytes(&obs(id))
}

/// A collection Bundle of good Observations with `extra` entries (raw JSON values) appended.
fn bundle_with(good: usize, extra: &[Value]) -> Vec<u8> {
    let mut b = bundle("collection", &(0..good).map(|i| obs(&format!("ok-{i}"))).collect::<Vec<_>>());
    let entries = b["entry"].as_array_mut().expect("entries");
    entries.extend(extra.iter().cloned());
    to_bytes(&b)
}

fn truncated_bundle() -> Vec<u8> {
    // Four good entries; the file is cut in the middle of the fourth (index 3).
    let full = bundle_with(4, &[]);
    let s = String::from_utf8(full).expect("utf8");
    let starts: Vec<usize> = s.match_indices("\"resourceType\": \"Observation\"").map(|(i, _)| i).collect();
    assert_eq!(starts.len(), 4);
    s.as_bytes()[..starts[3] + 40].to_vec()
}

fn big_string(len: usize) -> String {
    "A".repeat(len)
}

const SEVENTEEN_MIB: usize = 17 * 1024 * 1024;

fn single_over_limit() -> Vec<u8> {
    let mut p = patient("big", "BIG-1", "Big", "Bertha");
    p["text"] = json!({"status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>", big_string(SEVENTEEN_MIB))});
    serde_json::to_vec(&p).unwrap()
}

fn ndjson_over_limit() -> Vec<u8> {
    let mut big = obs("big");
    big["note"] = json!([{"text": big_string(SEVENTEEN_MIB)}]);
    ndjson(&[obs("l1"), big, obs("l3")])
}

fn ndjson_bad_middle() -> Vec<u8> {
    let mut out = ndjson(&[obs("l1"), obs("l2")]);
    out.extend_from_slice(b"{\"resourceType\":\"Observation\",\"id\":\"l3\",\"status\":\n");
    out.extend(ndjson(&[obs("l4"), obs("l5")]));
    out
}

fn ndjson_truncated_last() -> Vec<u8> {
    let mut out = ndjson(&[obs("l1"), obs("l2"), obs("l3")]);
    let l4 = serde_json::to_vec(&obs("l4")).unwrap();
    out.extend_from_slice(&l4[..l4.len() / 2]);
    out
}

fn ndjson_missing_id() -> Vec<u8> {
    let mut no_id = obs("x");
    no_id.as_object_mut().unwrap().remove("id");
    ndjson(&[obs("l1"), no_id, obs("l3")])
}

fn ndjson_line_is_array() -> Vec<u8> {
    let mut out = ndjson(&[obs("l1")]);
    out.extend_from_slice(b"[1,2,3]\n");
    out.extend(ndjson(&[obs("l3")]));
    out
}

fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

fn with(mut v: Value, key: &str, val: Value) -> Value {
    v[key] = val;
    v
}

fn deep_nesting() -> Vec<u8> {
    let n = 100_000;
    let mut s = String::from(r#"{"resourceType":"Patient","id":"deep","extension":"#);
    s.push_str(&"[".repeat(n));
    s.push_str(&"]".repeat(n));
    s.push('}');
    s.into_bytes()
}

fn utf16_bom() -> Vec<u8> {
    let s = String::from_utf8(obs_bytes("u16")).unwrap();
    let mut out = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

fn invalid_utf8() -> Vec<u8> {
    let mut out = br#"{"resourceType":"Observation","id":"bad-utf8","status":"final","code":{"text":""#.to_vec();
    out.extend_from_slice(&[0xC3, 0x28, 0xFF, 0xFE]);
    out.extend_from_slice(br#""},"subject":{"reference":"Patient/p-base"}}"#);
    out
}

fn nul_byte() -> Vec<u8> {
    let mut out = br#"{"resourceType":"Observation","id":"nul","#.to_vec();
    out.push(0);
    out.extend_from_slice(br#""status":"final","code":{"text":"x"}}"#);
    out
}

fn gzip() -> Vec<u8> {
    // A gzip header followed by deflate-looking bytes: someone imported an export.json.gz.
    let mut out = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03];
    out.extend((0u32..2000).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    out
}

fn two_patients() -> Vec<u8> {
    to_bytes(&bundle(
        "collection",
        &[
            patient("pa", "TWO-A", "Alpha", "Ai"),
            patient("pb", "TWO-B", "Beta", "Bunta"),
            observation("oa", "pa", "2345-7", "90", "2024-01-01"),
        ],
    ))
}

fn duplicate_ids() -> Vec<u8> {
    let first = obs("dup");
    let second = with(obs("dup"), "status", json!("amended"));
    to_bytes(&bundle("collection", &[obs("ok-0"), first, second]))
}

fn entry_with(resource: Value) -> Value {
    json!({"fullUrl": "urn:uuid:6f1d8c5e-2b0c-4d6e-9b57-0d7a1c2e3f40", "resource": resource})
}

// --- the table ---------------------------------------------------------------------------------

#[rstest]
#[case::invalid_json("invalid.json", br#"{"resourceType": "Observation", "id": "x" "status": "final"}"#.to_vec(), Pos::Any)]
#[case::truncated_bundle("truncated-bundle.json", truncated_bundle(), Pos::Any)]
#[case::empty_file("empty.json", Vec::new(), Pos::Any)]
#[case::whitespace_only("blank.json", b"  \n\t\r\n   \n".to_vec(), Pos::Any)]
#[case::xml_resource("patient.xml", br#"<?xml version="1.0" encoding="UTF-8"?><Patient xmlns="http://hl7.org/fhir"><id value="x"/></Patient>"#.to_vec(), Pos::Any)]
#[case::html_error_page("download.json", b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n".to_vec(), Pos::Any)]
#[case::invalid_utf8("latin.json", invalid_utf8(), Pos::Any)]
#[case::utf16_with_bom("utf-sixteen.json", utf16_bom(), Pos::Any)]
#[case::top_level_array("array.json", format!("[{}]", String::from_utf8(obs_bytes("arr")).unwrap()).into_bytes(), Pos::Any)]
#[case::top_level_number("number.json", b"42\n".to_vec(), Pos::Any)]
#[case::top_level_string("string.json", b"\"Observation\"\n".to_vec(), Pos::Any)]
#[case::top_level_null("null.json", b"null".to_vec(), Pos::Any)]
#[case::missing_resource_type("no-type.json", to_bytes(&without(obs("nt"), "resourceType")), Pos::Any)]
#[case::resource_type_not_a_string("type-number.json", to_bytes(&with(obs("tn"), "resourceType", json!(5))), Pos::Any)]
#[case::resource_type_lowercase("type-lower.json", to_bytes(&with(obs("tl"), "resourceType", json!("observation"))), Pos::Any)]
#[case::resource_type_empty("type-empty.json", to_bytes(&with(obs("te"), "resourceType", json!(""))), Pos::Any)]
#[case::single_resource_missing_id("no-id.json", to_bytes(&without(obs("x"), "id")), Pos::Any)]
#[case::id_with_illegal_characters("bad-id.json", to_bytes(&with(obs("x"), "id", json!("a b/../c"))), Pos::Any)]
#[case::id_too_long("long-id.json", to_bytes(&with(obs("x"), "id", json!("a".repeat(65)))), Pos::Any)]
#[case::bundle_entry_not_an_object("entry-scalar.json", bundle_with(2, &[json!(5)]), Pos::Entry(&[2]))]
#[case::bundle_entry_without_resource("entry-no-resource.json", bundle_with(1, &[json!({"fullUrl": "urn:uuid:0c3c0f37-5d0e-4c5e-b1de-6c3b6f0f5a11"})]), Pos::Entry(&[1]))]
#[case::bundle_entry_resource_not_an_object("entry-resource-array.json", bundle_with(1, &[entry_with(json!([1, 2]))]), Pos::Entry(&[1]))]
#[case::bundle_entry_missing_id_and_full_url("entry-no-id.json", bundle_with(1, &[json!({"resource": without(obs("x"), "id")})]), Pos::Entry(&[1]))]
#[case::bundle_entry_bad_id("entry-bad-id.json", bundle_with(2, &[entry_with(with(obs("x"), "id", json!("has space")))]), Pos::Entry(&[2]))]
#[case::bundle_entry_missing_resource_type("entry-no-type.json", bundle_with(1, &[entry_with(without(obs("nt"), "resourceType"))]), Pos::Entry(&[1]))]
#[case::bundle_entry_not_an_array("entry-object.json", to_bytes(&json!({"resourceType": "Bundle", "type": "collection", "entry": {"resource": obs("x")}})), Pos::Any)]
#[case::duplicate_ids_in_one_bundle("duplicate-ids.json", duplicate_ids(), Pos::Entry(&[1, 2]))]
#[case::nesting_100k_deep("deep.json", deep_nesting(), Pos::Any)]
#[case::single_resource_over_16_mib("huge.json", single_over_limit(), Pos::Any)]
#[case::ndjson_line_over_16_mib("huge-line.ndjson", ndjson_over_limit(), Pos::Line(2))]
#[case::ndjson_bad_line_in_the_middle("bad-middle.ndjson", ndjson_bad_middle(), Pos::Line(3))]
#[case::ndjson_truncated_last_line("cut.ndjson", ndjson_truncated_last(), Pos::Line(4))]
#[case::ndjson_line_missing_id("line-no-id.ndjson", ndjson_missing_id(), Pos::Line(2))]
#[case::ndjson_line_is_an_array("line-array.ndjson", ndjson_line_is_array(), Pos::Line(2))]
#[case::two_patients_without_person("two-patients.json", two_patients(), Pos::Any)]
#[case::nul_byte("nul.json", nul_byte(), Pos::Any)]
#[case::trailing_garbage("trailing.json", { let mut b = serde_json::to_vec(&obs("tg")).unwrap(); b.extend_from_slice(b" } trailing"); b }, Pos::Any)]
#[case::gzip_compressed("export.json", gzip(), Pos::Any)]
fn bad_import_is_refused_and_stores_nothing(
    #[case] name: &str,
    #[case] bytes: Vec<u8>,
    #[case] pos: Pos,
) {
    let v = vault();
    let f = v.input(name, &bytes);
    assert_import_rejected(&v, &f, None, exit::BAD_INPUT, &pos);
}

#[test]
fn bad_file_among_good_ones_stores_only_the_good_files() {
    // One file = one transaction: the good files before and after are stored, the bad one not.
    let v = vault();
    let good1 = v.input("good-one.ndjson", ndjson(&[obs("g1")]));
    let bad = v.input("bad-two.ndjson", ndjson_bad_middle());
    let good3 = v.input("good-three.ndjson", ndjson(&[obs("g3")]));
    let out = v.import(&[&good1, &bad, &good3], None);
    assert_eq!(out.code, exit::BAD_INPUT, "an import with a bad file exits 7");
    // Progress lines for the good files may come first; exactly one error line.
    let errors: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("techo: error:")).collect();
    assert_eq!(errors.len(), 1, "one `techo: error:` line, got {}", errors.len());
    assert!(errors[0].contains("bad-two.ndjson"), "the error should name the bad file: {}", errors[0]);
    let after = v.stats();
    let before = baseline().stats["resources"].as_u64().unwrap();
    let n = after["resources"].as_u64().unwrap();
    // good-one and good-three hold one resource each; the bad file four good lines.
    assert!(
        n >= before && n <= before + 2,
        "nothing from the bad file may be stored: {before} resources before, {n} after"
    );
}

#[test]
fn unknown_but_well_formed_type_is_accepted() {
    let v = vault();
    let r = json!({
        "resourceType": "FutureThing",
        "id": "ft-1",
        "subject": {"reference": "Patient/p-base"},
        "value": 1.50
    });
    let f = v.input("future.json", to_bytes(&r));
    v.import(&[&f], None).ok();
    let stats = v.stats();
    assert_eq!(
        stats["resources"].as_u64().unwrap(),
        baseline().stats["resources"].as_u64().unwrap() + 1
    );
    let rows = v.list(&["--type", "FutureThing"]);
    assert_eq!(rows.len(), 1, "list --type FutureThing");
    let shown = v.show(&rows[0]["record_id"]);
    let expect: Value = serde_json::from_slice(&to_bytes(&r)).unwrap();
    if let Some(d) = fhir_diff(&expect, &shown) {
        panic!("FutureThing did not come back as imported: {d}");
    }
}

#[test]
fn import_file_that_is_a_directory() {
    let v = vault();
    let d = v.root().join("inputs").join("a-folder.json");
    std::fs::create_dir(&d).unwrap();
    assert_import_rejected(&v, &d, None, exit::BAD_INPUT, &Pos::Any);
}

#[test]
fn import_nonexistent_file() {
    let v = vault();
    let f = v.root().join("inputs").join("missing-file.json");
    assert_import_rejected(&v, &f, None, exit::BAD_INPUT, &Pos::Any);
}

#[test]
fn import_to_unknown_person_is_not_found() {
    let v = vault();
    let f = v.input("to-nobody.ndjson", ndjson(&[obs("n1")]));
    let out = v.import(&[&f], Some("999999")).expect_code(exit::NOT_FOUND);
    out.error_line();
    assert_nothing_stored(&v, "import --person 999999");
}

#[test]
fn no_patient_and_two_persons_without_person_is_refused() {
    let v = vault();
    v.add_person("Second Person");
    let stats = v.stats();
    // They refer to a patient the vault does not know, so only --person could place them.
    let orphan = |id: &str| observation(id, "not-in-this-vault", "2345-7", "99", "2024-03-04");
    let f = v.input("orphans.ndjson", ndjson(&[orphan("o1"), orphan("o2")]));
    let out = v.import(&[&f], None).expect_code(exit::BAD_INPUT);
    let line = out.error_line().to_owned();
    assert!(line.contains("orphans.ndjson"), "the error should name the file: {line}");
    assert_eq!(v.stats(), stats, "nothing stored");
}

#[test]
fn wrong_passphrase_on_import_stores_nothing() {
    let v = vault();
    let before = v.snapshot();
    let f = v.input("good.ndjson", ndjson(&[obs("w1")]));
    let out = v.run_with_passphrase("not the passphrase at all", [OsArg::from("import"), f.into()]);
    out.expect_code(exit::WRONG_PASSPHRASE).error_line();
    assert_same_files(&before, &v.snapshot(), "wrong passphrase on import");
    assert_nothing_stored(&v, "wrong passphrase on import");
}

type OsArg = std::ffi::OsString;

// --- vault-level bad inputs ----------------------------------------------------------------------

/// A file that starts with the SQLite header and is padded to one 4096-byte page.
fn fake_sqlite() -> Vec<u8> {
    let mut b = b"SQLite format 3\0".to_vec();
    b.resize(4096, 0);
    b[16] = 0x10; // page size 4096 (big-endian u16 at offset 16)
    b[17] = 0x00;
    b
}

/// A real plaintext SQLite database made by the `sqlite3` CLI, if it is installed.
fn real_sqlite(path: &Path) -> bool {
    let ok = std::process::Command::new("sqlite3")
        .arg(path)
        .arg("CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES ('plain');")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        println!("SKIP part: the sqlite3 CLI is not installed; only the fake SQLite header is tested");
    }
    ok
}

/// Commands that must all be refused at `path` with `code`, leaving its bytes untouched.
#[track_caller]
fn assert_refused_untouched(v: &TempVault, path: &Path, code: i32, include_init: bool) {
    let good = v.input("good.ndjson", ndjson(&[obs("g")]));
    let mut cmds: Vec<Vec<std::ffi::OsString>> = vec![
        vec!["stats".into()],
        vec!["--json".into(), "list".into()],
        vec!["unlock".into()],
        vec!["check".into()],
        vec!["export".into()],
        vec!["import".into(), good.clone().into()],
    ];
    if include_init {
        cmds.push(vec!["init".into()]);
    }
    let before = snapshot(path);
    for args in cmds {
        let stdin = format!("{PASSPHRASE}\n");
        let out = v.run_at(path, stdin.as_bytes(), &args).expect_code(code);
        out.error_line();
        assert_same_files(&before, &snapshot(path), &out.what);
        // Nothing created next to a plaintext file given as the vault path either.
        if path.is_file() {
            let parent = path.parent().unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            for suffix in ["-wal", "-shm", "-journal"] {
                assert!(!parent.join(format!("{name}{suffix}")).exists(), "{}: {name}{suffix} was created", out.what);
            }
            assert!(!parent.join("keys.json").exists(), "{}: keys.json was created", out.what);
        }
    }
}

#[rstest]
#[case::fake_header(false)]
#[case::made_by_sqlite3(true)]
fn plaintext_sqlite_file_as_vault_is_refused_untouched(#[case] real: bool) {
    let v = TempVault::uninitialised();
    let p = v.root().join("records.db");
    if real {
        if !real_sqlite(&p) {
            return;
        }
    } else {
        std::fs::write(&p, fake_sqlite()).unwrap();
    }
    assert_refused_untouched(&v, &p, exit::NO_VAULT, true);
}

#[rstest]
#[case::fake_header(false)]
#[case::made_by_sqlite3(true)]
fn plaintext_techo_db_in_vault_folder_is_refused_untouched(#[case] real: bool) {
    let v = TempVault::uninitialised();
    std::fs::create_dir(&v.dir).unwrap();
    let db = v.dir.join("techo.db");
    if real {
        if !real_sqlite(&db) {
            return;
        }
    } else {
        std::fs::write(&db, fake_sqlite()).unwrap();
    }
    assert_refused_untouched(&v, &v.dir.clone(), exit::NO_VAULT, true);
}

#[test]
fn plaintext_techo_db_next_to_real_keys_is_refused_untouched() {
    // A real vault whose techo.db was swapped for a plaintext SQLite file.
    let v = vault();
    let db = v.dir.join("techo.db");
    for f in ["techo.db-wal", "techo.db-shm"] {
        let _ = std::fs::remove_file(v.dir.join(f));
    }
    std::fs::write(&db, fake_sqlite()).unwrap();
    assert_refused_untouched(&v, &v.dir.clone(), exit::NO_VAULT, true);
}

#[test]
fn non_vault_file_at_vault_path_is_refused_untouched() {
    let v = TempVault::uninitialised();
    let p = v.root().join("notes.txt");
    std::fs::write(&p, b"shopping list: eggs, milk\n").unwrap();
    assert_refused_untouched(&v, &p, exit::NO_VAULT, true);
}

#[test]
fn folder_that_is_not_a_vault_is_refused_untouched() {
    let v = TempVault::uninitialised();
    std::fs::create_dir(&v.dir).unwrap();
    std::fs::write(v.dir.join("README.txt"), b"my documents\n").unwrap();
    assert_refused_untouched(&v, &v.dir.clone(), exit::NO_VAULT, true);
}

#[test]
fn missing_vault_folder_is_refused_and_not_created() {
    let v = TempVault::uninitialised();
    for args in [vec!["stats"], vec!["--json", "list"], vec!["unlock"], vec!["check"]] {
        let out = v.run(&args).expect_code(exit::NO_VAULT);
        out.error_line();
        assert!(!v.dir.exists(), "`{}` created the vault folder", out.what);
    }
}

#[test]
fn init_over_an_existing_vault_is_refused_untouched() {
    let v = vault();
    let before = v.snapshot();
    let out = v.run(["init"]).expect_code(exit::NO_VAULT);
    out.error_line();
    assert_same_files(&before, &v.snapshot(), "init over a vault");
    assert_nothing_stored(&v, "init over a vault");
}

/// Sets every Argon2 memory-cost field of `keys.json` to `value`; returns how many were found.
fn set_memory_cost(v: &mut Value, value: u64) -> usize {
    let mut n = 0;
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let kl = k.to_lowercase();
                let is_mem = kl == "m" || kl.starts_with("m_") || kl.contains("mem");
                if is_mem && x.is_number() {
                    *x = json!(value);
                    n += 1;
                } else {
                    n += set_memory_cost(x, value);
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                n += set_memory_cost(x, value);
            }
        }
        _ => {}
    }
    n
}

fn key_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                key_names(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| key_names(x, out)),
        _ => {}
    }
}

fn read_keys(v: &TempVault) -> Value {
    let bytes = std::fs::read(v.dir.join("keys.json")).expect("the vault has a keys.json");
    serde_json::from_slice(&bytes).expect("keys.json is JSON")
}

#[test]
fn keys_json_with_weakened_argon2_is_refused_untouched() {
    let v = vault();
    let mut keys = read_keys(&v);
    let n = set_memory_cost(&mut keys, 8);
    if n == 0 {
        let mut names = Vec::new();
        key_names(&keys, &mut names);
        panic!("keys.json has no Argon2 memory-cost field this test recognises (keys: {names:?})");
    }
    std::fs::write(v.dir.join("keys.json"), to_bytes(&keys)).unwrap();
    let before = v.snapshot();
    for args in [vec!["stats"], vec!["unlock"], vec!["check"]] {
        let out = v.run(&args).expect_code(exit::CORRUPT);
        out.error_line();
        assert_same_files(&before, &v.snapshot(), &out.what);
    }
}

#[test]
fn keys_json_from_a_newer_techo_is_refused_untouched() {
    let v = vault();
    let mut keys = read_keys(&v);
    let Some(ver) = keys.get_mut("version").filter(|x| x.is_number()) else {
        println!("SKIP: keys.json has no top-level numeric `version`");
        return;
    };
    *ver = json!(999);
    std::fs::write(v.dir.join("keys.json"), to_bytes(&keys)).unwrap();
    let before = v.snapshot();
    for args in [vec!["stats"], vec!["unlock"]] {
        let out = v.run(&args).expect_code(exit::NEWER);
        out.error_line();
        assert_same_files(&before, &v.snapshot(), &out.what);
    }
}

/// The vault's techo.db after checking no WAL still holds pages (so a change to the main file is
/// what the next reader sees).
fn db_path_without_wal(v: &TempVault) -> PathBuf {
    let wal = v.dir.join("techo.db-wal");
    if let Ok(m) = std::fs::metadata(&wal) {
        assert_eq!(
            m.len(),
            0,
            "techo.db-wal still holds {} bytes after the CLI exited: the CLI should checkpoint on close",
            m.len()
        );
    }
    v.dir.join("techo.db")
}

#[test]
fn flipped_bytes_in_page_two_are_detected_by_check() {
    let v = vault();
    // More data, so the database has more than a handful of pages.
    let more = v.input("more.ndjson", ndjson(&(0..300).map(|i| obs(&format!("m{i}"))).collect::<Vec<_>>()));
    v.import(&[&more], None).ok();
    v.run(["check"]).ok();
    let db = db_path_without_wal(&v);
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() >= 3 * 4096, "techo.db is only {} bytes", bytes.len());
    for b in &mut bytes[4096 + 1000..4096 + 1016] {
        *b ^= 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = v.run(["check"]).expect_code(exit::CORRUPT);
    out.error_line();
}

#[test]
fn truncated_database_is_detected_by_check() {
    let v = vault();
    let more = v.input("more.ndjson", ndjson(&(0..300).map(|i| obs(&format!("m{i}"))).collect::<Vec<_>>()));
    v.import(&[&more], None).ok();
    let db = db_path_without_wal(&v);
    let bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() >= 4 * 4096, "techo.db is only {} bytes", bytes.len());
    let cut = bytes.len() / 2 + 100; // not on a page boundary
    std::fs::write(&db, &bytes[..cut]).unwrap();
    let out = v.run(["check"]);
    assert_eq!(out.code, exit::CORRUPT, "`check` on a truncated database; stderr: {}", out.stderr.trim_end());
    out.error_line();
}

#[test]
fn wrong_passphrase_is_exit_3() {
    let v = vault();
    let before = v.snapshot();
    let out = v.run_with_passphrase("definitely wrong passphrase", ["stats"]).expect_code(exit::WRONG_PASSPHRASE);
    out.error_line();
    assert_same_files(&before, &v.snapshot(), "wrong passphrase");
}
