//! Home vitals and diaries through the CLI: every kind entered, stored and exported as FHIR
//! (LOINC + UCUM); CSV with Japanese headers imported twice (the second adds nothing); a CSV
//! with one bad row stores nothing and names the row; edits keep history; deletion marks
//! `entered-in-error` and hides the reading; duplicates are caught; bad inputs are refused
//! with one line, the right exit code, no typed value in the message, and nothing stored.
//!
//! Times are relative to today (the CLI refuses readings in the future), at least two days
//! back so that any local UTC offset keeps them in the past.

use serde_json::Value;
use techo_tests::*;

// --- dates -------------------------------------------------------------------------------------

/// The UTC calendar date `days` days before today (negative: after).
fn date_days_ago(days: i64) -> (i64, u32, u32) {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs() as i64;
    // Howard Hinnant's civil_from_days.
    let z = secs.div_euclid(86_400) - days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD HH:MM`, `days` days ago.
fn at(days: i64, hh: u32, mm: u32) -> String {
    let (y, m, d) = date_days_ago(days);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}")
}

fn run_ok(v: &TempVault, args: &[&str]) -> Out {
    v.run(args).ok()
}

/// `--json <args>` → the outcome's record id.
#[track_caller]
fn add(v: &TempVault, args: &[&str]) -> String {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let out = v.run(&a).ok();
    let j = out.json();
    assert_eq!(j["status"], "new", "`{}` should store a new record", out.what);
    id_arg(&j["record_id"])
}

fn show(v: &TempVault, id: &str) -> Value {
    v.run(["show", id]).ok().json()
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[track_caller]
fn assert_close(actual: &Value, expected: f64, what: &str) {
    assert!((number(actual) - expected).abs() < 1e-9, "{what}: the stored value differs from the expected one");
}

fn list_json(v: &TempVault, extra: &[&str]) -> Vec<Value> {
    let mut a = vec!["--json", "vitals", "list"];
    a.extend_from_slice(extra);
    match v.run(&a).ok().json() {
        Value::Array(a) => a,
        other => panic!("`vitals list --json` should print an array, got a {}", kind(&other)),
    }
}

fn person_vault() -> TempVault {
    let v = TempVault::new();
    v.add_person("テスト 花子");
    v
}

// --- every kind ---------------------------------------------------------------------------------

/// (CLI words after `vitals add`, LOINC code, UCUM code, stored value in that unit).
/// Blood pressure is checked through its components below.
const KINDS: &[(&[&str], &str, &str, f64)] = &[
    (&["heart-rate", "72"], "8867-4", "/min", 72.0),
    (&["temperature", "98.6F"], "8310-5", "Cel", 37.0),
    (&["temperature", "36.4℃"], "8310-5", "Cel", 36.4),
    (&["weight", "62.5kg"], "29463-7", "kg", 62.5),
    (&["weight", "150lb"], "29463-7", "kg", 68.0),
    (&["height", "165cm"], "8302-2", "cm", 165.0),
    (&["height", "60in"], "8302-2", "cm", 152.4),
    (&["bmi", "22.9"], "39156-5", "kg/m2", 22.9),
    (&["glucose", "5.6mmol/L", "--fasting"], "1558-6", "mg/dL", 101.0),
    (&["glucose", "140", "--post-meal"], "2339-0", "mg/dL", 140.0),
    (&["glucose", "6.0mmol/L"], "2339-0", "mg/dL", 108.0),
    (&["spo2", "97"], "59408-5", "%", 97.0),
    (&["pef", "420"], "19935-6", "L/min", 420.0),
    (&["steps", "8,000"], "55423-8", "{steps}", 8000.0),
    (&["sleep", "7.5h"], "93832-4", "h", 7.5),
    (&["sleep", "450min"], "93832-4", "h", 7.5),
    (&["pain", "4", "--site", "腰"], "72514-3", "{score}", 4.0),
];

#[test]
fn every_vital_kind_round_trips_through_entry_store_and_export() {
    let v = person_vault();
    // Each at its own time (the same kind twice would otherwise be one reading).
    let mut entered: Vec<(String, &str, &str, f64, String)> = Vec::new();
    for (i, (words, loinc, ucum, value)) in KINDS.iter().enumerate() {
        let when = at(2 + i as i64, 7, 30);
        let mut args = vec!["vitals", "add"];
        args.extend_from_slice(words);
        args.extend_from_slice(&["--at", &when]);
        let id = add(&v, &args);
        entered.push((id, loinc, ucum, *value, words.join(" ")));
    }
    let bp_when = at(2, 7, 0);
    let bp = add(
        &v,
        &["vitals", "add", "bp", "128/82", "--pulse", "70", "--at", &bp_when, "--arm", "left", "--position", "sitting", "--context", "morning"],
    );

    let out = run_ok(&v, &["vitals", "export"]);
    let exported = parse_ndjson(&out.stdout, &out.what);
    assert_eq!(exported.len(), KINDS.len() + 1, "one exported Observation per reading");
    let by_id = |id: &str| -> Value {
        let stored = show(&v, id);
        let rid = stored["id"].as_str().expect("a stored home entry has an id").to_owned();
        let e = exported.iter().find(|e| e["id"] == rid.as_str()).unwrap_or_else(|| panic!("record {id} is not in the export"));
        assert_eq!(e, &stored, "record {id}: the export is not the stored resource");
        e.clone()
    };
    for (id, loinc, ucum, value, what) in &entered {
        let o = by_id(id);
        assert_eq!(o["resourceType"], "Observation", "{what}");
        assert_eq!(o["status"], "final", "{what}");
        assert_eq!(o["code"]["coding"][0]["system"], "http://loinc.org", "{what}");
        assert_eq!(o["code"]["coding"][0]["code"], *loinc, "{what}: LOINC");
        assert_eq!(o["valueQuantity"]["system"], "http://unitsofmeasure.org", "{what}");
        assert_eq!(o["valueQuantity"]["code"], *ucum, "{what}: UCUM");
        assert_close(&o["valueQuantity"]["value"], *value, what);
        assert_eq!(o["identifier"][0]["system"], "urn:techo:home-entry", "{what}");
        assert!(o["subject"]["reference"].as_str().is_some_and(|s| s.starts_with("Patient/")), "{what}: subject");
        assert!(o["effectiveDateTime"].as_str().is_some(), "{what}: effectiveDateTime");
    }
    let o = by_id(&bp);
    assert_eq!(o["code"]["coding"][0]["code"], "85354-9", "blood pressure panel");
    let comp = |code: &str| -> Value {
        o["component"]
            .as_array()
            .expect("components")
            .iter()
            .find(|c| c["code"]["coding"][0]["code"] == code)
            .unwrap_or_else(|| panic!("no component {code}"))
            .clone()
    };
    for (code, ucum, value) in [("8480-6", "mm[Hg]", 128.0), ("8462-4", "mm[Hg]", 82.0), ("8867-4", "/min", 70.0)] {
        let c = comp(code);
        assert_eq!(c["valueQuantity"]["code"], ucum, "component {code}: UCUM");
        assert_close(&c["valueQuantity"]["value"], value, code);
    }
    assert_eq!(comp("8361-8")["valueCodeableConcept"]["coding"][0]["code"], "33586001", "sitting");
    assert_eq!(o["bodySite"]["coding"][0]["code"], "368208006", "left upper arm");

    // The same records are in the vault-wide export, and each kind is listed with its LOINC.
    let all = v.export_ndjson(None);
    assert_eq!(all.iter().filter(|r| r["resourceType"] == "Observation").count(), KINDS.len() + 1);
    let listed = list_json(&v, &[]);
    assert_eq!(listed.len(), KINDS.len() + 1);
    assert!(listed.iter().all(|e| e["source"] == "Home entries" && e["home"] == true));
    let bp_list = list_json(&v, &["--kind", "bp"]);
    assert_eq!(bp_list.len(), 1);
    let glucose = list_json(&v, &["--kind", "glucose"]);
    assert_eq!(glucose.len(), 3, "glucose lists fasting, post-meal and random readings");
}

// --- CSV ----------------------------------------------------------------------------------------

/// 30 days of morning and evening home blood pressure (weight in the morning), Japanese
/// headers, dates alternately `YYYY/MM/DD` and 令和 era dates.
fn japanese_csv(days: i64) -> (String, usize) {
    let mut s = String::from("測定日,時刻,最高血圧,最低血圧,脈拍,体重(kg)\n");
    let mut readings = 0;
    for i in 0..days {
        let (y, m, d) = date_days_ago(2 + i);
        let date = if i % 2 == 0 { format!("{y}/{m:02}/{d:02}") } else { format!("令和{}年{m}月{d}日", y - 2018) };
        let sys = 118 + (i * 7) % 25;
        let dia = 72 + (i * 3) % 15;
        s.push_str(&format!("{date},7:{:02},{sys},{dia},{},{}.{}\n", i % 60, 60 + i % 9, 60 + i % 5, i % 10));
        s.push_str(&format!("{date},21:{:02},{},{},{},\n", (i * 7) % 60, sys + 4, dia + 2, 64 + i % 7));
        readings += 3;
    }
    (s, readings)
}

#[test]
fn csv_with_japanese_headers_imports_once() {
    let v = person_vault();
    let (csv, readings) = japanese_csv(30);
    let f = v.input("家庭血圧.csv", csv.as_bytes());
    let f = f.to_str().expect("utf-8 path");

    let preview = v.run(["--json", "vitals", "import", f, "--preview"]).ok().json();
    assert_eq!(preview["mapping"]["systolic"], 3, "最高血圧 is proposed as systolic (column 3)");
    assert_eq!(preview["mapping"]["date"], 1);
    assert_eq!(preview["units"]["body weight"], "kg");
    assert_eq!(v.stats()["resources"], 0, "a preview stores nothing");

    let first = v.run(["--json", "vitals", "import", f]).ok().json();
    assert_eq!(first["new"], readings as u64);
    assert_eq!(first["duplicates"], 0);
    let second = v.run(["--json", "vitals", "import", f]).ok().json();
    assert_eq!(second["new"], 0, "re-importing the same file adds nothing");
    assert_eq!(second["duplicates"], readings as u64);
    assert_eq!(v.stats()["resources"], readings as u64);

    assert_eq!(list_json(&v, &["--kind", "bp"]).len(), 60);
    assert_eq!(list_json(&v, &["--kind", "weight"]).len(), 30);
    let weeks = v.run(["--json", "vitals", "handbook", "--weeks", "8"]).ok().json();
    let weeks = weeks.as_array().expect("weeks");
    assert!((4..=8).contains(&weeks.len()), "30 days of readings span 4 to 8 weeks");
    assert!(weeks.iter().all(|w| w["morning"]["count"].as_u64().is_some() || w["evening"]["count"].as_u64().is_some()));
    let table = v.run(["vitals", "handbook"]).ok().stdout_str();
    assert!(table.starts_with("week of"), "the handbook is a text table");
    // In the timeline and search like hospital data.
    assert!(!v.run(["search", "収縮期血圧"]).ok().stdout.is_empty(), "home readings are found by full-text search");
    assert!(v.list(&["--type", "Observation", "--source", "Home entries"]).len() >= 10);
}

#[test]
fn csv_with_one_bad_row_stores_nothing_and_names_the_row() {
    let v = person_vault();
    let (mut csv, _) = japanese_csv(10);
    // Make data row 7 (file line 8) impossible: systolic 412.
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    let cells: Vec<&str> = lines[7].split(',').collect();
    let mut cells: Vec<String> = cells.iter().map(|c| (*c).to_owned()).collect();
    cells[2] = "412".into();
    lines[7] = cells.join(",");
    csv = lines.join("\n") + "\n";
    let f = v.input("bad.csv", csv.as_bytes());
    let before = v.stats();
    let out = v.run([&"vitals".to_string(), &"import".to_string(), &f.display().to_string()]).expect_code(exit::BAD_INPUT);
    let line = out.error_line().to_owned();
    assert!(line.contains("row 8"), "the error names the row: {line}");
    assert!(line.contains("最高血圧"), "the error names the column: {line}");
    assert!(!line.contains("412"), "the error does not repeat the value");
    assert_eq!(v.stats(), before, "nothing was stored");

    // Two bad rows: every row error, one line each, then the summary.
    lines[3] = lines[3].replacen(",7:", ",25:", 1);
    let f2 = v.input("bad2.csv", (lines.join("\n") + "\n").as_bytes());
    let out = v.run(["vitals".to_string(), "import".into(), f2.display().to_string()]).expect_code(exit::BAD_INPUT);
    let errs: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(errs.len(), 3, "two row errors and a summary");
    assert!(errs.iter().all(|l| l.starts_with("techo: error: ")));
    assert!(errs[0].contains("row 4") && errs[1].contains("row 8"));
    assert_eq!(v.stats(), before, "nothing was stored");
}

// --- edit, delete, duplicates ------------------------------------------------------------------

#[test]
fn edit_keeps_history() {
    let v = person_vault();
    let when = at(3, 7, 30);
    let id = add(&v, &["vitals", "add", "bp", "128/82", "--pulse", "70", "--at", &when, "--context", "morning"]);
    let out = v.run(["--json", "vitals", "edit", &id, "130/85"]).ok().json();
    assert_eq!(out["status"], "updated");
    assert_eq!(id_arg(&out["record_id"]), id, "an edit is a new version of the same record");

    let sys = |o: &Value| number(&o["component"][0]["valueQuantity"]["value"]);
    let current = show(&v, &id);
    let v1: Value = serde_json::from_slice(&v.run(["show", &id, "--version", "1"]).ok().stdout).expect("version 1 is JSON");
    assert!(sys(&current) == 130.0 && sys(&v1) == 128.0, "the current version has the new value, version 1 the old one");
    assert_eq!(current["id"], v1["id"], "the same resource");
    let pulse = |o: &Value| o["component"].as_array().unwrap().iter().any(|c| c["code"]["coding"][0]["code"] == "8867-4");
    assert!(pulse(&current), "what the edit did not give is kept (pulse)");
    let prov = v.run(["show", &id, "--provenance"]).ok().json();
    assert_eq!(prov["versions"].as_array().map(Vec::len), Some(1));
    assert_eq!(prov["row"]["version"], 2);

    // Only the time changes: another version.
    let later = at(3, 7, 45);
    v.run(["vitals", "edit", &id, "--at", &later]).ok();
    assert_eq!(v.run(["show", &id, "--provenance"]).ok().json()["row"]["version"], 3);
    assert_eq!(list_json(&v, &[]).len(), 1, "still one reading");
    assert_eq!(v.stats()["versions"], 2);
}

#[test]
fn delete_marks_entered_in_error_and_hides_it() {
    let v = person_vault();
    let id = add(&v, &["vitals", "add", "weight", "62.5kg", "--at", &at(4, 7, 0)]);
    let keep = add(&v, &["vitals", "add", "weight", "62.3kg", "--at", &at(3, 7, 0)]);
    v.run(["vitals", "delete", &id]).ok();
    let current = show(&v, &id);
    assert_eq!(current["status"], "entered-in-error");
    let v1: Value = serde_json::from_slice(&v.run(["show", &id, "--version", "1"]).ok().stdout).expect("JSON");
    assert_eq!(v1["status"], "final", "the history keeps the reading as it was");
    let listed = list_json(&v, &[]);
    assert_eq!(listed.len(), 1, "a deleted reading is hidden from the list");
    assert_eq!(id_arg(&listed[0]["record_id"]), keep);
    assert_eq!(list_json(&v, &["--include-deleted"]).len(), 2);
    let exported = run_ok(&v, &["vitals", "export"]);
    assert_eq!(parse_ndjson(&exported.stdout, &exported.what).len(), 1, "nor exported as a reading");
    assert_eq!(v.stats()["resources"], 2, "but still in the vault");
    // Deleting again changes nothing; so is the handbook without readings.
    v.run(["vitals", "delete", &id]).ok();
    assert_eq!(v.stats()["versions"], 1);
    // A diary entry is deleted the same way.
    let d = add(&v, &["diary", "add", "mood", "--mood", "4", "--at", &at(3, 21, 0)]);
    v.run(["diary", "delete", &d]).ok();
    assert!(v.run(["--json", "diary", "list"]).ok().json().as_array().is_some_and(Vec::is_empty));
}

#[test]
fn duplicate_entry_is_caught() {
    let v = person_vault();
    let when = at(2, 8, 0);
    let id = add(&v, &["vitals", "add", "temperature", "37.0", "--at", &when]);
    let before = v.stats();
    // The same reading typed in °F is the same reading.
    for value in ["37.0", "98.6F", "37"] {
        let out = v.run(["vitals", "add", "temperature", value, "--at", &when]).expect_code(exit::BAD_INPUT);
        let line = out.error_line();
        assert!(line.contains("already stored") && numbers_in(line).contains(&id.parse().unwrap()), "the error names the stored record: {line}");
    }
    assert_eq!(v.stats(), before);
    // A CSV holding it counts it as a duplicate.
    let (y, m, d) = date_days_ago(2);
    let f = v.input("t.csv", format!("日付,時刻,体温\n{y}/{m}/{d},8:00,37.0\n"));
    let r = v.run(["--json".to_string(), "vitals".into(), "import".into(), f.display().to_string()]).ok().json();
    assert_eq!((r["new"].as_u64(), r["duplicates"].as_u64()), (Some(0), Some(1)));
    // Diaries: the same diary at the same moment is one entry (a new version if it changed).
    let dwhen = at(2, 21, 0);
    let d1 = add(&v, &["diary", "add", "asthma", "--daytime-symptoms", "1", "--pef-morning", "420", "--at", &dwhen]);
    let again = v.run(["--json", "diary", "add", "asthma", "--daytime-symptoms", "1", "--pef-morning", "420", "--at", &dwhen]).ok().json();
    assert_eq!((again["status"].as_str(), id_arg(&again["record_id"])), (Some("unchanged"), d1.clone()));
    let changed = v.run(["--json", "diary", "add", "asthma", "--daytime-symptoms", "2", "--at", &dwhen]).ok().json();
    assert_eq!((changed["status"].as_str(), id_arg(&changed["record_id"])), (Some("updated"), d1));
    let diaries = v.run(["--json", "diary", "list"]).ok().json();
    assert_eq!(diaries.as_array().map(Vec::len), Some(1));
}

// --- bad inputs ---------------------------------------------------------------------------------

/// (arguments, expected exit code, text the one error line must contain, typed text it must not).
type Case = (Vec<String>, i32, &'static str, &'static str);

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn bad_inputs_are_refused_with_one_line_and_nothing_stored() {
    let v = TempVault::new();
    let f = v.input(
        "hospital.json",
        to_bytes(&bundle("collection", &[patient("p-vit", "VIT-0001", "Test", "Hanako"), observation("o-vit", "p-vit", "2345-7", "95", "2024-01-02")])),
    );
    v.import(&[&f], None).ok();
    let hospital = id_arg(&v.list(&["--type", "Observation"])[0]["record_id"]);
    let home = add(&v, &["vitals", "add", "bp", "120/80", "--at", &at(2, 7, 0)]);
    add(&v, &["vitals", "add", "bp", "121/80", "--at", &at(2, 7, 1)]);
    let before = (v.stats(), list_json(&v, &["--include-deleted"]), v.list(&[]));

    let tomorrow = at(-2, 7, 0);
    let past = at(2, 9, 0);
    let csv = |name: &str, body: &[u8]| v.input(name, body).display().to_string();
    let (y, m, d) = date_days_ago(3);
    let one_bad_row = csv("one-bad.csv", format!("日付,最高血圧,最低血圧\n{y}/{m}/{d},130,85\n{y}/{m}/{d},85,130\n").as_bytes());
    let sjis = csv("sjis.csv", b"\x93\xfa\x95\x74,\x91\xcc\x8f\x64\n2026/11/01,60\n");
    let empty = csv("empty.csv", b"");
    let header_only = csv("header.csv", "日付,体重\n".as_bytes());
    let no_value = csv("novalue.csv", format!("日付,メモ\n{y}/{m}/{d},x\n").as_bytes());
    let future_row = csv("future.csv", format!("日付,時刻,体重\n{},62.0\n", tomorrow.replace(' ', ",")).as_bytes());
    let bad_date = csv("baddate.csv", "日付,体重\n2026/02/30,62.0\n".as_bytes());
    let good = csv("good.csv", format!("日付,体重\n{y}/{m}/{d},62.0\n").as_bytes());

    let cases: Vec<Case> = vec![
        (args(&["vitals", "add", "bp", "82/128", "--at", &past]), 7, "systolic", "82"),
        (args(&["vitals", "add", "bp", "412/80", "--at", &past]), 7, "possible range", "412"),
        (args(&["vitals", "add", "bp", "128", "--at", &past]), 7, "diastolic", "128"),
        (args(&["vitals", "add", "bp", "abc/80", "--at", &past]), 7, "not a number", "abc"),
        (args(&["vitals", "add", "bp", "12x/80", "--at", &past]), 7, "not recognised", "12x"),
        (args(&["vitals", "add", "weight", "62.5parsec", "--at", &past]), 7, "not recognised", "62.5"),
        (args(&["vitals", "add", "weight", "62.5mmHg", "--at", &past]), 7, "not a unit for body weight", "62.5"),
        (args(&["vitals", "add", "temperature", "98.6", "--at", &past]), 7, "30–45 °C", "98.6"),
        (args(&["vitals", "add", "spo2", "101", "--at", &past]), 7, "SpO2", "101"),
        (args(&["vitals", "add", "steps", "2.5", "--at", &past]), 7, "whole number", "2.5"),
        (args(&["vitals", "add", "pain", "11", "--at", &past]), 7, "0–10", "11"),
        (args(&["vitals", "add", "sleep", "25h", "--at", &past]), 7, "sleep duration", "25"),
        (args(&["vitals", "add", "weight", "-5", "--at", &past]), 7, "negative", "-5"),
        (args(&["vitals", "add", "glucose", "0.1mmol/L", "--at", &past]), 7, "possible range", "0.1"),
        (args(&["vitals", "add", "height", "1.65m", "--at", &past]), 7, "not recognised", "1.65"),
        (args(&["vitals", "add", "heart-rate", "72", "--performer", "my mum", "--at", &past]), 7, "reference", "mum"),
        (args(&["vitals", "add", "bp", "120/80", "--at", &tomorrow]), 7, "future", ""),
        (args(&["vitals", "add", "bp", "120/80", "--at", "昨日の朝"]), 7, "recognised format", "昨日"),
        (args(&["vitals", "add", "bp", "120/80", "--at", "2026-02-30 07:00"]), 7, "recognised format", ""),
        (args(&["vitals", "add", "bp", "120/80", "--at", &at(2, 7, 0)]), 7, "already stored", ""),
        (args(&["vitals", "add", "weight", "60", "--arm", "left", "--at", &past]), 2, "--arm", ""),
        (args(&["vitals", "add", "bp", "120/80", "--arm", "up", "--at", &past]), 2, "--arm", "up"),
        (args(&["vitals", "add", "blood-sugar", "100"]), 2, "invalid value", "100"),
        (args(&["vitals", "add", "bp", "120/80", "70", "--at", &past]), 2, "unexpected", "70"),
        (args(&["vitals", "add", "glucose", "5.6", "--fasting", "--post-meal"]), 2, "--fasting", ""),
        (args(&["diary", "add", "mood", "--at", &past]), 7, "no answers", ""),
        (args(&["diary", "add", "mood", "--mood", "9", "--at", &past]), 7, "1–5", "9"),
        (args(&["diary", "add", "asthma", "--pef-morning", "2000", "--at", &past]), 7, "pef-morning", "2000"),
        (args(&["diary", "add", "joint", "--sites", "ひじ", "--at", &past]), 7, "joint", "ひじ"),
        (args(&["diary", "add", "mood", "--severity", "3", "--at", &past]), 2, "does not belong", ""),
        (args(&["diary", "add", "mood", "--mood", "3", "--at", &tomorrow]), 7, "future", ""),
        (args(&["diary", "add", "mood", "--mood", "abc"]), 2, "--mood", "abc"),
        (args(&["vitals", "import", &one_bad_row]), 7, "row 3", "85"),
        (args(&["vitals", "import", &sjis]), 7, "UTF-8", ""),
        (args(&["vitals", "import", &empty]), 7, "empty", ""),
        (args(&["vitals", "import", &header_only]), 7, "no data rows", ""),
        (args(&["vitals", "import", &no_value]), 7, "measurement", ""),
        (args(&["vitals", "import", &future_row]), 7, "future", ""),
        (args(&["vitals", "import", &bad_date]), 7, "row 2", ""),
        (args(&["vitals", "import", &good, "--map", "colour=2"]), 2, "--map", ""),
        (args(&["vitals", "import", &good, "--map", "date=1,weight=5"]), 7, "column 5", ""),
        (args(&["vitals", "import", "missing.csv"]), 7, "no such file", ""),
        (args(&["vitals", "edit", "999999", "130/85"]), 8, "not found", ""),
        (args(&["vitals", "edit", &home, "82/128"]), 7, "systolic", "82"),
        (args(&["vitals", "edit", &home, "121/80", "--at", &at(2, 7, 1)]), 7, "already stored", ""),
        (args(&["vitals", "edit", &home, "--site", "腰"]), 2, "--site", ""),
        (args(&["vitals", "delete", &hospital]), 7, "home", ""),
        (args(&["vitals", "edit", &hospital, "100"]), 7, "not a vital-sign reading", ""),
        (args(&["vitals", "handbook", "--target", "85/135"]), 7, "--target", ""),
    ];
    assert!(cases.len() >= 20);
    for (a, code, must, must_not) in &cases {
        let out = v.run(a).expect_code(*code);
        let line = out.error_line().to_owned();
        assert!(line.contains(must), "`{}`: the error should say {must:?}: {line}", out.what);
        if !must_not.is_empty() {
            let msg = line.trim_start_matches("techo: error: ");
            assert!(!msg.contains(must_not), "`{}`: the error repeats what was typed", out.what);
        }
        assert!(out.stdout.is_empty(), "`{}`: nothing on stdout", out.what);
        let after = (v.stats(), list_json(&v, &["--include-deleted"]), v.list(&[]));
        assert!(after == before, "`{}`: something was stored", out.what);
    }
}
