//! The must-show test: 0 direct identifiers in pseudonymised output, codes and values kept.
//! See `tests/common/mod.rs` for what is collected and how it is matched.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use common::*;
use serde_json::Value;
use techo_pseudo::{Config, Pseudonymiser};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")
}

fn pseudo() -> Pseudonymiser {
    Pseudonymiser::new(Config::research_profile(), [0x5a; 32]).expect("profile compiles")
}

#[derive(Default)]
struct Tally {
    records: usize,
    needles: usize,
    codes: usize,
    quantities: usize,
    failures: Vec<String>,
}

/// Pseudonymises `inputs` (one record: same person key) and checks the output.
fn check_record(p: &Pseudonymiser, name: &str, person: &str, inputs: &[Value], t: &mut Tally) {
    let mut needles = Needles::default();
    for i in inputs {
        needles.extend(collect(i));
    }
    needles.dedup();
    t.records += 1;
    t.needles += needles.len();
    for (n, input) in inputs.iter().enumerate() {
        let out = match p.pseudonymise(input, person, today()) {
            Ok(o) => o,
            Err(e) => {
                t.failures.push(format!("{name}#{n}: error {e}"));
                continue;
            }
        };
        for l in leaks(&needles, &out) {
            t.failures.push(format!("{name}#{n}: LEAK {l}"));
        }
        let (cin, qin) = codes_and_quantities(input);
        let (cout, qout) = codes_and_quantities(&out);
        t.codes += cin.len();
        t.quantities += qin.len();
        for c in cin.difference(&cout) {
            t.failures.push(format!("{name}#{n}: code lost {c:?}"));
        }
        for q in qin.difference(&qout) {
            t.failures.push(format!("{name}#{n}: quantity lost {q:?}"));
        }
        if out["resourceType"] != input["resourceType"] {
            t.failures.push(format!("{name}#{n}: resourceType changed"));
        }
        let mut empty = Vec::new();
        find_empty(&out, "", &mut empty);
        for e in empty {
            t.failures.push(format!("{name}#{n}: empty object/array at {e}"));
        }
    }
}

fn report(label: &str, t: &Tally, started: Instant) {
    eprintln!(
        "{label}: {} records, {} identifier needles, {} codes, {} quantities checked in {:.2?}; {} failures",
        t.records,
        t.needles,
        t.codes,
        t.quantities,
        started.elapsed(),
        t.failures.len()
    );
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for f in &t.failures {
        let k = f.split_once(": ").map(|x| x.1).unwrap_or(f);
        *kinds.entry(k.to_string()).or_default() += 1;
    }
    for (k, n) in kinds.iter().take(200) {
        eprintln!("  {n:6} x {k}");
    }
    let shown: Vec<&String> = t.failures.iter().take(60).collect();
    assert!(t.failures.is_empty(), "{label}: {} failures, first ones:\n{shown:#?}", t.failures.len());
}

fn check_folder(label: &str, dir: &Path) {
    let p = pseudo();
    let started = Instant::now();
    let mut t = Tally::default();
    for f in json_files(dir) {
        let text = std::fs::read_to_string(&f).expect("read");
        let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
        if v.get("resourceType").and_then(Value::as_str).is_none() {
            continue;
        }
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        check_record(&p, &name, &name, &[v], &mut t);
    }
    assert!(t.records > 0, "{label}: no JSON resources in {}", dir.display());
    report(label, &t, started);
}

/// Always available: our own fixtures (`tests/data`: persons of every kind, JP Core style names)
/// and the project's vendored official examples (`tests/data/r4-subset`, CC0).
fn vendored() -> [PathBuf; 2] {
    [Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"), workspace_root().join("tests/data/r4-subset")]
}

#[test]
fn zero_direct_identifiers_in_vendored_examples() {
    let [own, subset] = vendored();
    check_folder("our fixtures", &own);
    check_folder("vendored R4 subset", &subset);
}

#[test]
fn zero_direct_identifiers_in_official_r4_examples() {
    let ws = workspace_root();
    match data_dir("TECHO_R4_EXAMPLES", &[ws.join("../shared/data/r4-examples"), ws.join(".cache/r4-examples/examples")]) {
        Some(dir) => check_folder("official R4 examples", &dir),
        None => {
            eprintln!("SKIP: official R4 examples not found (set TECHO_R4_EXAMPLES); checking the vendored set only");
            vendored().iter().for_each(|d| check_folder("vendored examples", d));
        }
    }
}

#[test]
fn zero_direct_identifiers_in_jp_examples() {
    let ws = workspace_root();
    match data_dir("TECHO_JP_EXAMPLES", &[ws.join("../shared/data/jp")]) {
        Some(dir) => check_folder("JP examples", &dir),
        None => eprintln!("SKIP: JP examples not found (set TECHO_JP_EXAMPLES)"),
    }
}

#[test]
fn zero_direct_identifiers_in_large_generated_record() {
    let cfg = techo_gen::GenConfig::new(7, 10, 20_000);
    let p = pseudo();
    let started = Instant::now();
    let mut t = Tally::default();
    let mut total = 0usize;
    for i in 0..cfg.persons {
        let person = cfg.patient_id(i);
        let inputs: Vec<Value> = techo_gen::person_resources(&cfg, i).collect();
        total += inputs.len();
        check_record(&p, &format!("person {i}"), &person, &inputs, &mut t);
    }
    assert!(total >= 20_000, "generated {total}");
    eprintln!("generated: {total} resources");
    report("generated record", &t, started);
}
