//! The International Patient Summary builder against the offline checker: a large generated
//! record (always), the Synthea patients and the JP-CLINS / JP Core examples (when the shared
//! data is present), and small hand-made records for merging, references, the withheld mark,
//! Japanese and determinism.
//!
//! Test output never shows resource content: failures list rule ids and paths only.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};
use techo_share::ips::{build_ips, IpsError, IpsOptions, IpsVariant, SourcedResource, IPS_SECTIONS, JP_SIX_SECTIONS, RESULTS_PER_CODE};
use techo_share::ips_check::{check_document, check_ips, check_jp_six, IpsIssue};
use techo_share::{Lang, WITHHELD_TAG_CODE, WITHHELD_TAG_SYSTEM};

const DOC_ID: &str = "6f1c1e0a-3a51-4a8e-9f3e-2b7d5c9a0e11";
const TS: &str = "2025-11-01T10:00:00+09:00";

fn opts(variant: IpsVariant, lang: Lang) -> IpsOptions {
    IpsOptions { lang, variant, timestamp: TS.into(), document_id: DOC_ID.into(), withheld: false, author: "Techo".into() }
}

/// Rule ids and paths only (never content).
fn show(issues: &[IpsIssue]) -> String {
    issues.iter().take(40).map(|i| format!("  {} at {}", i.rule, i.path)).collect::<Vec<_>>().join("\n")
}

fn assert_passes(label: &str, issues: &[IpsIssue]) {
    assert!(issues.is_empty(), "{label}: {} issues\n{}", issues.len(), show(issues));
}

fn sourced(resources: Vec<Value>, source: &str) -> Vec<SourcedResource> {
    resources.into_iter().map(|r| SourcedResource { resource: r, sources: vec![source.to_owned()] }).collect()
}

fn entries(b: &Value) -> &Vec<Value> {
    b["entry"].as_array().expect("entries")
}

fn composition(b: &Value) -> &Value {
    &b["entry"][0]["resource"]
}

/// The section whose code is `(system, code)`.
fn section<'a>(b: &'a Value, system: &str, code: &str) -> Option<&'a Value> {
    composition(b)["section"].as_array()?.iter().find(|s| {
        s["code"]["coding"].as_array().into_iter().flatten().any(|c| c["system"] == system && c["code"] == code)
    })
}

fn resource_by_url<'a>(b: &'a Value, url: &str) -> Option<&'a Value> {
    entries(b).iter().find(|e| e["fullUrl"] == url).map(|e| &e["resource"])
}

/// The resources a section lists.
fn section_resources<'a>(b: &'a Value, system: &str, code: &str) -> Vec<&'a Value> {
    section(b, system, code)
        .and_then(|s| s["entry"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e["reference"].as_str().and_then(|u| resource_by_url(b, u)))
        .collect()
}

fn type_counts(b: &Value) -> String {
    let mut m: std::collections::BTreeMap<&str, usize> = Default::default();
    for e in entries(b) {
        *m.entry(e["resource"]["resourceType"].as_str().unwrap_or("?")).or_default() += 1;
    }
    m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

fn provenance_facilities(b: &Value) -> Vec<(String, BTreeSet<String>)> {
    entries(b)
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Provenance")
        .map(|e| {
            let r = &e["resource"];
            let targets = r["target"].as_array().unwrap().iter().map(|t| t["reference"].as_str().unwrap().to_owned()).collect();
            (r["agent"][0]["who"]["display"].as_str().unwrap().to_owned(), targets)
        })
        .collect()
}

// ------------------------------------------------------------------ the generated record

/// One generated person's record, each resource with the facility it came from (the
/// Encounter's service provider, the pharmacy of a dispense, the Organization itself; the
/// Patient is registered at every facility).
fn generated(resources: usize) -> Vec<SourcedResource> {
    let cfg = techo_gen::GenConfig::new(7, 1, resources);
    let all: Vec<Value> = techo_gen::person_resources(&cfg, 0).collect();
    let org_name: HashMap<String, String> = all
        .iter()
        .filter(|r| r["resourceType"] == "Organization")
        .map(|r| (format!("Organization/{}", r["id"].as_str().unwrap()), r["name"].as_str().unwrap().to_owned()))
        .collect();
    let disp = |v: &Value| v["reference"].as_str().and_then(|r| org_name.get(r)).cloned();
    let mut enc_fac: HashMap<String, String> = HashMap::new();
    let mut prac_fac: HashMap<String, String> = HashMap::new();
    for r in &all {
        match r["resourceType"].as_str().unwrap() {
            "Encounter" => {
                let f = disp(&r["serviceProvider"]).expect("an encounter's facility");
                enc_fac.insert(format!("Encounter/{}", r["id"].as_str().unwrap()), f.clone());
                for p in r["participant"].as_array().into_iter().flatten() {
                    prac_fac.entry(p["individual"]["reference"].as_str().unwrap().to_owned()).or_insert_with(|| f.clone());
                }
            }
            "MedicationDispense" => {
                let f = r["performer"].as_array().unwrap().iter().find_map(|p| disp(&p["actor"])).expect("a pharmacy");
                for p in r["performer"].as_array().unwrap() {
                    prac_fac.entry(p["actor"]["reference"].as_str().unwrap().to_owned()).or_insert_with(|| f.clone());
                }
            }
            _ => {}
        }
    }
    let mut facilities: Vec<String> = org_name.values().cloned().collect();
    facilities.sort();
    all.into_iter()
        .map(|r| {
            let key = format!("{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap());
            let sources = match r["resourceType"].as_str().unwrap() {
                "Patient" => facilities.clone(),
                "Organization" => vec![org_name[&key].clone()],
                "Practitioner" => prac_fac.get(&key).cloned().into_iter().collect(),
                "Encounter" => vec![enc_fac[&key].clone()],
                "MedicationDispense" => vec![r["performer"].as_array().unwrap().iter().find_map(|p| disp(&p["actor"])).unwrap()],
                _ => {
                    let enc = r["encounter"]["reference"].as_str().or(r["context"]["reference"].as_str()).or(r["context"]["encounter"][0]["reference"].as_str());
                    enc.and_then(|e| enc_fac.get(e)).cloned().into_iter().collect()
                }
            };
            SourcedResource { resource: r, sources }
        })
        .collect()
}

#[test]
fn large_generated_record_gives_a_bounded_ips_that_passes() {
    let input = generated(20_000);
    assert!(input.len() >= 20_000);
    assert!(input.iter().all(|r| !r.sources.is_empty()), "every generated resource has a facility");
    let started = Instant::now();
    let ips = build_ips(&input, &opts(IpsVariant::Ips, Lang::En)).expect("an IPS");
    let took = started.elapsed();
    assert_passes("IPS of the generated record", &check_ips(&ips));
    let n = entries(&ips).len();
    eprintln!("generated record: {} resources -> IPS of {n} entries ({}) in {took:.2?}", input.len(), type_counts(&ips));
    assert!(n < 600, "the IPS of a large record stays readable ({n} entries)");
    // Every section the generator feeds is there, with entries.
    for code in ["11450-4", "10160-0", "48765-2", "11369-6", "30954-2", "8716-3", "47519-4", "11348-0"] {
        let s = section(&ips, "http://loinc.org", code).unwrap_or_else(|| panic!("section {code}"));
        assert!(s["entry"].as_array().is_some_and(|a| !a.is_empty()) || s.get("emptyReason").is_some(), "section {code}");
    }
    for code in ["11450-4", "30954-2", "8716-3", "11369-6"] {
        assert!(!section_resources(&ips, "http://loinc.org", code).is_empty(), "section {code} has entries");
    }
    // Results: at most RESULTS_PER_CODE per test (grouped by LOINC), vitals one per code.
    let mut per_code: HashMap<String, usize> = HashMap::new();
    for r in section_resources(&ips, "http://loinc.org", "30954-2") {
        let loinc = r["code"]["coding"].as_array().unwrap().iter().find(|c| c["system"] == "http://loinc.org").unwrap()["code"].as_str().unwrap().to_owned();
        *per_code.entry(loinc).or_default() += 1;
    }
    assert!(per_code.values().all(|&n| n <= RESULTS_PER_CODE), "{per_code:?}");
    // Problems are current, past illness is not, and no code appears twice among problems.
    let problems = section_resources(&ips, "http://loinc.org", "11450-4");
    assert!(problems.iter().all(|c| c["clinicalStatus"]["coding"][0]["code"] == "active"));
    let codes: BTreeSet<&str> = problems.iter().map(|c| c["code"]["coding"][0]["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), problems.len(), "duplicate problems merged");
    assert!(section_resources(&ips, "http://loinc.org", "11348-0").iter().all(|c| c["clinicalStatus"]["coding"][0]["code"] != "active"));
    // Medications are current.
    assert!(section_resources(&ips, "http://loinc.org", "10160-0").iter().all(|m| m["status"] == "active"));
    // One Provenance per facility, naming it, each target an entry.
    let prov = provenance_facilities(&ips);
    assert!(prov.len() >= 2, "several facilities");
    let urls: BTreeSet<&str> = entries(&ips).iter().map(|e| e["fullUrl"].as_str().unwrap()).collect();
    for (f, targets) in &prov {
        assert!(!f.is_empty() && !targets.is_empty());
        assert!(targets.iter().all(|t| urls.contains(t.as_str())));
    }

    let started = Instant::now();
    let jp = build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).expect("a six-item summary");
    let took = started.elapsed();
    assert_passes("JpSix of the generated record", &check_jp_six(&jp));
    assert_passes("JpSix document rules", &check_document(&jp));
    eprintln!("generated record: JpSix of {} entries ({}) in {took:.2?}", entries(&jp).len(), type_counts(&jp));
    assert!(entries(&jp).len() < 600);
    let clins = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
    assert!(!section_resources(&jp, clins, "340").is_empty(), "傷病名");
    assert!(!section_resources(&jp, clins, "620").is_empty(), "検査");
    let rx = section_resources(&jp, clins, "430");
    assert!(!rx.is_empty() && rx.iter().all(|r| r["resourceType"] == "MedicationRequest"), "処方");
}

// ------------------------------------------------------------------ shared data

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// The shared data folder: `TECHO_SHARED_DATA`, else `../shared/data` beside the checkout (or
/// beside the folder of worktrees).
fn data_dir(sub: &str) -> Option<PathBuf> {
    let ws = workspace_root();
    let mut candidates: Vec<PathBuf> = std::env::var_os("TECHO_SHARED_DATA").map(PathBuf::from).into_iter().collect();
    candidates.push(ws.join("../shared/data"));
    candidates.push(ws.join("../../shared/data"));
    candidates.into_iter().map(|c| c.join(sub)).find(|p| p.is_dir())
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("JSON")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).expect("dir").flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    v.sort();
    v
}

fn bundle_resources(b: &Value) -> Vec<Value> {
    b["entry"].as_array().into_iter().flatten().filter_map(|e| e.get("resource").cloned()).collect()
}

#[test]
fn the_merged_large_synthea_record_gives_a_bounded_ips() {
    let Some(dir) = data_dir("perf") else {
        eprintln!("SKIP: ../shared/data/perf not found (set TECHO_SHARED_DATA)");
        return;
    };
    let input = sourced(bundle_resources(&read_json(&dir.join("merged-large-patient.json"))), "Synthea hospital");
    let started = Instant::now();
    let ips = build_ips(&input, &opts(IpsVariant::Ips, Lang::En)).expect("an IPS");
    let took = started.elapsed();
    assert_passes("merged large Synthea record", &check_ips(&ips));
    let jp = build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).expect("JpSix");
    assert_passes("merged large Synthea record JpSix", &check_jp_six(&jp));
    eprintln!("merged large Synthea record: {} resources -> IPS of {} entries ({}) in {took:.2?}; JpSix {} entries", input.len(), entries(&ips).len(), type_counts(&ips), entries(&jp).len());
    assert!(entries(&ips).len() < 600);
}

#[test]
fn every_synthea_patient_gives_a_passing_ips() {
    let Some(dir) = data_dir("synthea") else {
        eprintln!("SKIP: ../shared/data/synthea not found (set TECHO_SHARED_DATA)");
        return;
    };
    let files = json_files(&dir);
    let mut extra: Vec<SourcedResource> = Vec::new();
    for f in files.iter().filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(|c: char| c.is_ascii_lowercase())) {
        extra.extend(sourced(bundle_resources(&read_json(f)), "Synthea directory"));
    }
    let mut n = 0;
    for f in files.iter().filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(|c: char| c.is_ascii_uppercase())) {
        let mut input = sourced(bundle_resources(&read_json(f)), "Synthea hospital");
        let own = input.len();
        input.extend(extra.iter().cloned());
        let started = Instant::now();
        let ips = build_ips(&input, &opts(IpsVariant::Ips, Lang::En)).expect("an IPS");
        let took = started.elapsed();
        assert_passes(&format!("Synthea patient {n}"), &check_ips(&ips));
        let jp = build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).expect("JpSix");
        assert_passes(&format!("Synthea patient {n} JpSix"), &check_jp_six(&jp));
        eprintln!("Synthea patient {n}: {own} resources (+{} directory) -> IPS of {} entries ({}) in {took:.2?}; JpSix {} entries", extra.len(), entries(&ips).len(), type_counts(&ips), entries(&jp).len());
        n += 1;
    }
    assert_eq!(n, 16, "the 16 Synthea patients");
}

/// Every JP-CLINS example: the single resources and the resources inside its Bundles, each
/// from its file (as a vault would have them: ids kept, references as written).
fn clins_input(dir: &Path) -> Vec<SourcedResource> {
    let mut input = Vec::new();
    for f in json_files(dir) {
        let v = read_json(&f);
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let source = if name.contains("Referral") { "紹介元病院" } else if name.contains("PCS") { "かかりつけ診療所" } else { "JP-CLINS 医療機関" };
        if v["resourceType"] == "Bundle" {
            input.extend(sourced(bundle_resources(&v), source));
        } else {
            input.extend(sourced(vec![v], source));
        }
    }
    input
}

#[test]
fn jp_clins_examples_give_a_passing_ips_and_six_item_summary() {
    let Some(dir) = data_dir("jp/clins") else {
        eprintln!("SKIP: ../shared/data/jp/clins not found (set TECHO_SHARED_DATA)");
        return;
    };
    let input = clins_input(&dir);
    let ips = build_ips(&input, &opts(IpsVariant::Ips, Lang::Ja)).expect("an IPS");
    assert_passes("JP-CLINS IPS", &check_ips(&ips));
    eprintln!("JP-CLINS: {} resources -> IPS of {} entries ({})", input.len(), entries(&ips).len(), type_counts(&ips));

    let jp = build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).expect("JpSix");
    assert_passes("JP-CLINS JpSix", &check_jp_six(&jp));
    eprintln!("JP-CLINS: JpSix of {} entries ({})", entries(&jp).len(), type_counts(&jp));
    let clins = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";

    // 薬剤禁忌: the contraindication example (identified by its JFAGY medicine code: its record
    // identifier is shared with an allergy example) is there.
    let contra = section_resources(&jp, "urn:techo:section", "drug-contraindications");
    let has_code = |r: &&Value, v: &str| r["code"]["coding"].as_array().into_iter().flatten().any(|c| c["code"] == v);
    assert!(contra.iter().any(|r| has_code(r, "YCM2260701F1271")), "the DrugContraindications example lands in 薬剤禁忌");
    assert!(contra.iter().all(|r| r["criticality"] == "high"));
    // アレルギー: the food allergies, not the contraindication.
    let allergies = section_resources(&jp, clins, "510");
    assert!(!allergies.is_empty() && !allergies.iter().any(|r| has_code(r, "YCM2260701F1271")));
    // 傷病名: one entry per distinct diagnosis of the input.
    let distinct_conditions: BTreeSet<String> = input
        .iter()
        .filter(|r| r.resource["resourceType"] == "Condition")
        .map(|r| {
            let c = &r.resource["code"];
            c["coding"].as_array().and_then(|a| a.first()).map(|x| format!("{}|{}", x["system"], x["code"])).unwrap_or_else(|| c["text"].to_string())
        })
        .collect();
    let diagnoses = section_resources(&jp, clins, "340");
    assert!(!diagnoses.is_empty() && diagnoses.len() <= distinct_conditions.len(), "{} of {}", diagnoses.len(), distinct_conditions.len());
    // 処方: MedicationRequests.
    let rx = section_resources(&jp, clins, "430");
    assert!(!rx.is_empty() && rx.iter().all(|r| r["resourceType"] == "MedicationRequest"));
    // 検査: the lab results.
    assert!(!section_resources(&jp, clins, "620").is_empty());
    // The six sections, titled in Japanese.
    for s in JP_SIX_SECTIONS {
        assert_eq!(section(&jp, s.system(), s.code()).unwrap()["title"], s.title_ja);
    }
    // The Patients (three examples and the Bundles' ones) are one, kanji and kana kept.
    let patients: Vec<&Value> = entries(&jp).iter().map(|e| &e["resource"]).filter(|r| r["resourceType"] == "Patient").collect();
    assert_eq!(patients.len(), 1);
    let reprs: BTreeSet<&str> = patients[0]["name"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["extension"].as_array().into_iter().flatten())
        .filter_map(|e| e["valueCode"].as_str())
        .collect();
    assert!(reprs.contains("IDE") && reprs.contains("SYL"), "kanji (IDE) and kana (SYL) names");
}

#[test]
fn other_japanese_examples_give_passing_documents() {
    let mut any = false;
    for sub in ["jp/jpcore", "jp/ereferral", "jp/echeckup"] {
        let Some(dir) = data_dir(sub) else {
            eprintln!("SKIP: ../shared/data/{sub} not found");
            continue;
        };
        any = true;
        let mut input = Vec::new();
        for f in json_files(&dir) {
            let v = read_json(&f);
            if v["resourceType"] == "Bundle" {
                input.extend(sourced(bundle_resources(&v), sub));
            } else if v.get("resourceType").is_some() {
                input.extend(sourced(vec![v], sub));
            }
        }
        let ips = build_ips(&input, &opts(IpsVariant::Ips, Lang::Ja)).expect("an IPS");
        assert_passes(sub, &check_ips(&ips));
        let jp = build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).expect("JpSix");
        assert_passes(sub, &check_jp_six(&jp));
        eprintln!("{sub}: {} resources -> IPS of {} entries, JpSix of {}", input.len(), entries(&ips).len(), entries(&jp).len());
    }
    if !any {
        eprintln!("SKIP: no Japanese examples found");
    }
}

/// A robustness check: every official R4 example (122 types, odd references, Bundles of every
/// type) as if it were one person's record.
#[test]
fn official_r4_examples_as_one_record_give_passing_documents() {
    let Some(dir) = data_dir("r4-examples") else {
        eprintln!("SKIP: ../shared/data/r4-examples not found (set TECHO_SHARED_DATA)");
        return;
    };
    let mut input = Vec::new();
    for f in json_files(&dir) {
        let v = read_json(&f);
        if v.get("resourceType").is_none() {
            continue;
        }
        if v["resourceType"] == "Bundle" {
            input.extend(sourced(bundle_resources(&v), "R4 bundles"));
        }
        input.extend(sourced(vec![v], "R4 examples"));
    }
    for (variant, lang) in [(IpsVariant::Ips, Lang::En), (IpsVariant::Ips, Lang::Ja), (IpsVariant::JpSix, Lang::Ja)] {
        let b = build_ips(&input, &opts(variant, lang)).expect("a document");
        let issues = if variant == IpsVariant::Ips { check_ips(&b) } else { check_jp_six(&b) };
        assert_passes("R4 examples", &issues);
        eprintln!("R4 examples: {} resources -> {variant:?} of {} entries ({})", input.len(), entries(&b).len(), type_counts(&b));
    }
}

// ------------------------------------------------------------------ small hand-made records

fn patient(id: &str, names: Value, extra: Value) -> Value {
    let mut p = json!({ "resourceType": "Patient", "id": id, "name": names });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn kanji_kana() -> Value {
    let ext = |c: &str| json!([{ "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": c }]);
    json!([
        { "extension": ext("IDE"), "use": "official", "text": "山田 太郎", "family": "山田", "given": ["太郎"] },
        { "extension": ext("SYL"), "use": "official", "text": "ヤマダ タロウ", "family": "ヤマダ", "given": ["タロウ"] }
    ])
}

fn condition(id: &str, code: &str, status: &str, date: &str) -> Value {
    json!({
        "resourceType": "Condition", "id": id,
        "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status }] },
        "code": { "coding": [{ "system": "http://hl7.org/fhir/sid/icd-10", "code": code }], "text": format!("condition {code}") },
        "subject": { "reference": format!("Patient/p-{id}") },
        "recordedDate": date,
    })
}

/// Two facilities: the same person (kanji + kana at one, an identifier at the other) and the
/// same condition under different ids.
fn two_facilities() -> Vec<SourcedResource> {
    let a = vec![
        patient("pa", kanji_kana(), json!({ "identifier": [{ "system": "urn:oid:1.2.392.100495.20.3.51.11111111111", "value": "123" }], "gender": "male" })),
        condition("ca", "I10", "active", "2024-01-10"),
    ];
    let b = vec![
        patient("pb", json!([{ "text": "山田 太郎", "family": "山田", "given": ["太郎"] }]), json!({ "identifier": [{ "system": "urn:oid:1.2.392.100495.20.3.51.12222222222", "value": "9" }], "birthDate": "1960-04-01", "telecom": [{ "system": "phone", "value": "090-0000-0000" }] })),
        condition("cb", "I10", "active", "2024-06-02"),
    ];
    let mut v = sourced(a, "さくら内科クリニック");
    v.extend(sourced(b, "東京中央総合病院"));
    v
}

#[test]
fn the_same_condition_from_two_facilities_is_one_entry_sourced_from_both() {
    let ips = build_ips(&two_facilities(), &opts(IpsVariant::Ips, Lang::En)).unwrap();
    assert_passes("two facilities", &check_ips(&ips));
    let problems = section_resources(&ips, "http://loinc.org", "11450-4");
    assert_eq!(problems.len(), 1, "one merged problem");
    assert!(problems[0]["recordedDate"] == "2024-06-02", "the most recent record stands for both");
    let url = composition(&ips)["section"][0]["entry"][0]["reference"].as_str().unwrap().to_owned();
    let prov = provenance_facilities(&ips);
    let names: Vec<&str> = prov.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["さくら内科クリニック", "東京中央総合病院"]);
    for (_, targets) in &prov {
        assert!(targets.contains(&url), "each facility's Provenance targets the merged condition");
    }
    // Provenance shape the printable summary reads.
    let p = entries(&ips).iter().find(|e| e["resource"]["resourceType"] == "Provenance").unwrap();
    assert_eq!(p["resource"]["recorded"], TS);
    assert!(p["resource"]["agent"][0]["who"]["display"].is_string());
    // One Patient, merged: both identifiers, the kanji and kana names, telecom, birthDate.
    let pats: Vec<&Value> = entries(&ips).iter().map(|e| &e["resource"]).filter(|r| r["resourceType"] == "Patient").collect();
    assert_eq!(pats.len(), 1);
    let p = pats[0];
    assert_eq!(p["identifier"].as_array().unwrap().len(), 2);
    assert!(p["birthDate"] == "1960-04-01", "birthDate from the second facility");
    assert!(p["gender"] == "male", "gender from the first facility");
    assert!(p["telecom"][0]["value"] == "090-0000-0000", "telecom from the second facility");
    let texts: Vec<&str> = p["name"].as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert!(texts.len() == 2 && texts.contains(&"山田 太郎") && texts.contains(&"ヤマダ タロウ"), "kanji and kana names kept, the plain copy dropped");
    // The condition's subject is the merged Patient.
    assert_eq!(problems[0]["subject"]["reference"], composition(&ips)["subject"]["reference"]);
}

#[test]
fn withheld_adds_the_tag_and_a_section_and_only_then() {
    let mut o = opts(IpsVariant::Ips, Lang::En);
    let plain = build_ips(&two_facilities(), &o).unwrap();
    assert!(plain["meta"].get("tag").is_none());
    assert!(section(&plain, "urn:techo:section", "withheld").is_none());

    o.withheld = true;
    for (lang, variant) in [(Lang::En, IpsVariant::Ips), (Lang::Ja, IpsVariant::Ips), (Lang::Ja, IpsVariant::JpSix)] {
        o.lang = lang;
        o.variant = variant;
        let b = build_ips(&two_facilities(), &o).unwrap();
        let tags = b["meta"]["tag"].as_array().expect("tags");
        assert!(tags.iter().any(|t| t["system"] == WITHHELD_TAG_SYSTEM && t["code"] == WITHHELD_TAG_CODE && t["display"].is_string()));
        let s = section(&b, "urn:techo:section", "withheld").expect("the withheld section");
        let div = s["text"]["div"].as_str().unwrap();
        match (lang, variant) {
            (Lang::En, _) => assert!(div.contains("withheld") && div.contains("request")),
            _ => assert!(div.contains("本人の希望")),
        }
        assert!(s.get("entry").is_none(), "never what was withheld");
        let issues = if variant == IpsVariant::Ips { check_ips(&b) } else { check_jp_six(&b) };
        assert_passes("withheld", &issues);
    }
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let input = generated(3_000);
    let o = opts(IpsVariant::Ips, Lang::Ja);
    let a = serde_json::to_string(&build_ips(&input, &o).unwrap()).unwrap();
    let b = serde_json::to_string(&build_ips(&input, &o).unwrap()).unwrap();
    assert!(a == b, "the same IPS twice");
    let j1 = serde_json::to_string(&build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).unwrap()).unwrap();
    let j2 = serde_json::to_string(&build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).unwrap()).unwrap();
    assert!(j1 == j2, "the same JpSix twice");
    // Another document id: other fullUrls, same content otherwise.
    let mut o2 = o.clone();
    o2.document_id = "0b8f4c2e-9d1a-4f6b-8e3c-5a7d9f1b2c4d".into();
    let c = build_ips(&input, &o2).unwrap();
    let urls = |s: &str| -> BTreeSet<String> { serde_json::from_str::<Value>(s).unwrap()["entry"].as_array().unwrap().iter().map(|e| e["fullUrl"].as_str().unwrap().to_owned()).collect() };
    assert!(urls(&a).is_disjoint(&entries(&c).iter().map(|e| e["fullUrl"].as_str().unwrap().to_owned()).collect()));
    assert_eq!(entries(&c).len(), urls(&a).len());
}

#[test]
fn japanese_titles_narrative_and_names() {
    let ja = build_ips(&two_facilities(), &opts(IpsVariant::Ips, Lang::Ja)).unwrap();
    assert_passes("Japanese IPS", &check_ips(&ja));
    assert_eq!(ja["language"], "ja");
    assert_eq!(composition(&ja)["title"], "国際患者サマリー");
    for spec in IPS_SECTIONS.iter().filter(|s| s.required) {
        let s = section(&ja, spec.system(), spec.code()).unwrap();
        assert_eq!(s["title"], spec.title_ja);
    }
    // An empty required section says so in Japanese.
    let meds = section(&ja, "http://loinc.org", "10160-0").unwrap();
    assert!(meds["text"]["div"].as_str().unwrap().contains("情報はありません"));
    assert_eq!(meds["emptyReason"]["coding"][0]["code"], "unavailable");
    // Kanji and kana names on the Patient and in its narrative.
    let p = entries(&ja).iter().map(|e| &e["resource"]).find(|r| r["resourceType"] == "Patient").unwrap();
    let div = p["text"]["div"].as_str().unwrap();
    assert!(div.contains("山田 太郎") && div.contains("ヤマダ タロウ"));
    assert!(div.contains("男性"));
    // The base Patient (the most complete) has the kanji name unmarked; the other facility's
    // marked kanji and kana names replace it and join it.
    let input = vec![
        SourcedResource {
            resource: patient("x", json!([{ "text": "山田 太郎" }]), json!({ "gender": "male", "birthDate": "1960-04-01", "telecom": [{ "system": "phone", "value": "1" }], "address": [{ "text": "a" }] })),
            sources: vec!["A".into()],
        },
        SourcedResource { resource: patient("y", kanji_kana(), json!({})), sources: vec!["B".into()] },
    ];
    let b = build_ips(&input, &opts(IpsVariant::Ips, Lang::Ja)).unwrap();
    let p = entries(&b).iter().map(|e| &e["resource"]).find(|r| r["resourceType"] == "Patient").unwrap();
    let names = p["name"].as_array().unwrap();
    assert!(names.len() == 2 && names.iter().all(|n| n["extension"][0]["valueCode"].is_string()), "the marked names, not the unmarked copy");
    assert!(p["telecom"].is_array() && p["address"].is_array(), "the base's other elements stay");
    // The English one is in English.
    let en = build_ips(&two_facilities(), &opts(IpsVariant::Ips, Lang::En)).unwrap();
    assert_eq!(composition(&en)["title"], "International Patient Summary");
    assert_eq!(section(&en, "http://loinc.org", "11450-4").unwrap()["title"], "Active Problems");
    // JpSix is Japanese whatever the language asked.
    let jp = build_ips(&two_facilities(), &opts(IpsVariant::JpSix, Lang::En)).unwrap();
    assert_eq!(composition(&jp)["title"], "患者サマリー");
    assert_eq!(jp["language"], "ja");
}

#[test]
fn references_resolve_or_become_display_only() {
    let mut input = two_facilities();
    let org = json!({ "resourceType": "Organization", "id": "o1", "identifier": [{ "system": "urn:test:org", "value": "42" }], "name": "Lab" });
    let prac = json!({ "resourceType": "Practitioner", "id": "dr", "name": [{ "text": "Dr" }] });
    let med = json!({ "resourceType": "Medication", "id": "m1", "code": { "coding": [{ "system": "urn:oid:1.2.392.200119.4.403.1", "code": "100" }], "text": "drug" } });
    let cond = json!({
        "resourceType": "Condition", "id": "c9",
        "clinicalStatus": { "coding": [{ "code": "active" }] },
        "code": { "text": "an uncoded problem" },
        "subject": { "reference": "https://hospital.example/fhir/Patient/pb/_history/3" },
        "encounter": { "reference": "Encounter/e1" },
        "recorder": { "reference": "https://hospital.example/fhir/Practitioner/dr" },
        "asserter": { "reference": "urn:uuid:9b2f1c3e-0000-4000-8000-000000000000", "display": "someone" },
        "contained": [{ "resourceType": "Practitioner", "id": "n1" }],
        "evidence": [{ "detail": [{ "reference": "#n1" }] }],
        "extension": [{ "url": "urn:test:x", "valueReference": { "reference": "Organization?identifier=urn:test:org|42" } }],
    });
    let rx = json!({
        "resourceType": "MedicationRequest", "id": "r1", "status": "active", "intent": "order",
        "medicationReference": { "reference": "Medication/m1" },
        "subject": { "reference": "Patient/pa" },
        "reasonReference": [{ "reference": "Condition/ca" }, { "reference": "Condition/cb" }],
        "authoredOn": "2024-06-02",
    });
    let enc = json!({ "resourceType": "Encounter", "id": "e1", "status": "finished", "class": { "code": "AMB" } });
    input.extend(sourced(vec![org, prac, med, cond, rx, enc], "東京中央総合病院"));
    let ips = build_ips(&input, &opts(IpsVariant::Ips, Lang::En)).unwrap();
    assert_passes("references", &check_ips(&ips));
    let types: BTreeSet<&str> = entries(&ips).iter().filter_map(|e| e["resource"]["resourceType"].as_str()).collect();
    for t in ["Organization", "Practitioner", "Medication", "MedicationRequest"] {
        assert!(types.contains(t), "{t} included");
    }
    assert!(!types.contains("Encounter"), "Encounters are not included");
    let c = section_resources(&ips, "http://loinc.org", "11450-4").into_iter().find(|c| c["code"]["text"] == "an uncoded problem").unwrap();
    assert!(c["encounter"].get("reference").is_none() && c["encounter"]["display"].as_str().unwrap().contains("Encounter"));
    assert!(c["asserter"] == json!({ "display": "someone" }), "a dangling reference keeps its display");
    assert_eq!(c["evidence"][0]["detail"][0]["reference"], "#n1", "contained references stay");
    let org_url = entries(&ips).iter().find(|e| e["resource"]["resourceType"] == "Organization").unwrap()["fullUrl"].clone();
    assert_eq!(c["extension"][0]["valueReference"]["reference"], org_url, "conditional reference resolved");
    assert!(c["recorder"]["reference"].as_str().unwrap().starts_with("urn:uuid:"), "absolute reference resolved");
    // The prescription's reasons both lead to the one merged condition.
    let m = section_resources(&ips, "http://loinc.org", "10160-0")[0];
    assert_eq!(m["reasonReference"][0]["reference"], m["reasonReference"][1]["reference"]);
    assert!(m["medicationReference"]["reference"].as_str().unwrap().starts_with("urn:uuid:"));
    // The narrative names the Medication's drug.
    assert!(section(&ips, "http://loinc.org", "10160-0").unwrap()["text"]["div"].as_str().unwrap().contains("drug"));
}

#[test]
fn selection_rules() {
    let mut input = two_facilities();
    let obs = |id: &str, date: &str, v: &str| {
        json!({
            "resourceType": "Observation", "id": id, "status": "final",
            "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory" }] }],
            "code": { "coding": [{ "system": "http://loinc.org", "code": "4548-4" }], "text": "HbA1c" },
            "effectiveDateTime": date,
            "valueQuantity": { "value": v.parse::<serde_json::Number>().unwrap(), "unit": "%" },
        })
    };
    let mut labs: Vec<Value> = (0..10).map(|i| obs(&format!("o{i}"), &format!("2024-0{}-01", i % 9 + 1), "6.1")).collect();
    // The same result at two facilities (same code and time): one entry.
    labs.push(obs("dup", "2024-09-01", "6.1"));
    // Ten years older than the rest: outside the window.
    labs.push(obs("old", "2010-01-01", "5.0"));
    input.extend(sourced(labs, "東京中央総合病院"));
    input.extend(sourced(
        vec![
            condition("past", "J20.9", "resolved", "2023-01-01"),
            condition("err", "E11", "active", "2023-01-01"),
            json!({ "resourceType": "AllergyIntolerance", "id": "ax", "verificationStatus": { "coding": [{ "code": "entered-in-error" }] }, "code": { "text": "x" }, "patient": { "reference": "Patient/pa" } }),
            json!({ "resourceType": "MedicationRequest", "id": "done", "status": "completed", "intent": "order", "medicationCodeableConcept": { "text": "old drug" }, "subject": { "reference": "Patient/pa" } }),
        ],
        "さくら内科クリニック",
    ));
    input.iter_mut().find(|r| r.resource["id"] == "err").unwrap().resource["verificationStatus"] = json!({ "coding": [{ "code": "entered-in-error" }] });
    let ips = build_ips(&input, &opts(IpsVariant::Ips, Lang::En)).unwrap();
    assert_passes("selection", &check_ips(&ips));
    let results = section_resources(&ips, "http://loinc.org", "30954-2");
    assert_eq!(results.len(), RESULTS_PER_CODE);
    let dates: Vec<&str> = results.iter().map(|r| r["effectiveDateTime"].as_str().unwrap()).collect();
    assert!(dates == ["2024-09-01", "2024-08-01", "2024-07-01"], "the latest per code, newest first, the duplicate once");
    let past = section_resources(&ips, "http://loinc.org", "11348-0");
    assert_eq!(past.len(), 1, "resolved condition in past illness");
    let problems = section_resources(&ips, "http://loinc.org", "11450-4");
    assert_eq!(problems.len(), 1, "entered-in-error left out");
    assert!(section(&ips, "http://loinc.org", "48765-2").unwrap().get("emptyReason").is_some(), "the erroneous allergy is not an allergy");
    assert!(section(&ips, "http://loinc.org", "10160-0").unwrap().get("emptyReason").is_some(), "completed prescriptions are not current medication");
    // In the six-item summary the completed prescription is a prescription.
    let jp = build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).unwrap();
    assert_passes("selection JpSix", &check_jp_six(&jp));
    assert_eq!(section_resources(&jp, "http://jpfhir.jp/fhir/clins/CodeSystem/document-section", "430").len(), 1);
    assert_eq!(section_resources(&jp, "http://jpfhir.jp/fhir/clins/CodeSystem/document-section", "340").len(), 2, "current and past diagnoses");
}

#[test]
fn infection_tests_and_contraindications_in_the_six_item_summary() {
    let mut input = two_facilities();
    input.extend(sourced(
        vec![
            json!({ "resourceType": "Observation", "id": "hbs", "status": "final",
                "category": [{ "coding": [{ "system": "http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS", "code": "laboratory" }] }],
                "code": { "coding": [{ "system": "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS", "code": "5F016141002305111" }], "text": "HBs抗原" },
                "effectiveDateTime": "2015-01-01", "valueCodeableConcept": { "text": "陰性" } }),
            json!({ "resourceType": "Observation", "id": "k", "status": "final",
                "category": [{ "coding": [{ "code": "laboratory" }] }],
                "code": { "coding": [{ "system": "http://medis.or.jp/CodeSystem/master-JLAC10-17digits", "code": "3H015000002326101" }], "text": "カリウム" },
                "effectiveDateTime": "2024-01-01", "valueQuantity": { "value": 4.1, "unit": "mmol/L" } }),
            json!({ "resourceType": "AllergyIntolerance", "id": "iod", "category": ["medication"], "criticality": "high",
                "clinicalStatus": { "coding": [{ "code": "active" }] }, "code": { "text": "ヨード造影剤" }, "patient": { "reference": "Patient/pa" } }),
            json!({ "resourceType": "AllergyIntolerance", "id": "saba", "category": ["food"], "criticality": "low",
                "clinicalStatus": { "coding": [{ "code": "active" }] }, "code": { "text": "さば" }, "patient": { "reference": "Patient/pa" } }),
        ],
        "東京中央総合病院",
    ));
    let jp = build_ips(&input, &opts(IpsVariant::JpSix, Lang::Ja)).unwrap();
    assert_passes("JpSix", &check_jp_six(&jp));
    let clins = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
    let texts = |v: Vec<&Value>| v.iter().map(|r| r["code"]["text"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert!(texts(section_resources(&jp, clins, "520")) == ["HBs抗原"], "感染症 holds the infection test, whatever its age");
    assert!(texts(section_resources(&jp, clins, "620")) == ["カリウム"], "検査 holds the other lab result");
    assert!(texts(section_resources(&jp, "urn:techo:section", "drug-contraindications")) == ["ヨード造影剤"], "薬剤禁忌 holds the contraindication");
    assert!(texts(section_resources(&jp, clins, "510")) == ["さば"], "アレルギー holds the food allergy");
    // The IPS has both in its allergy section.
    let ips = build_ips(&input, &opts(IpsVariant::Ips, Lang::Ja)).unwrap();
    assert_passes("IPS", &check_ips(&ips));
    assert_eq!(section_resources(&ips, "http://loinc.org", "48765-2").len(), 2);
}

#[test]
fn a_record_with_only_the_patient_has_the_required_sections_empty() {
    let input = sourced(vec![patient("p", kanji_kana(), json!({}))], "さくら内科クリニック");
    for variant in [IpsVariant::Ips, IpsVariant::JpSix] {
        let b = build_ips(&input, &opts(variant, Lang::En)).unwrap();
        if variant == IpsVariant::Ips {
            assert_passes("only a Patient", &check_ips(&b));
            let codes: Vec<&str> = composition(&b)["section"].as_array().unwrap().iter().map(|s| s["code"]["coding"][0]["code"].as_str().unwrap()).collect();
            assert_eq!(codes, ["11450-4", "10160-0", "48765-2"]);
        } else {
            assert_passes("only a Patient, JpSix", &check_jp_six(&b));
            assert_eq!(composition(&b)["section"].as_array().unwrap().len(), 6);
        }
        for s in composition(&b)["section"].as_array().unwrap() {
            assert_eq!(s["emptyReason"]["coding"][0]["code"], "unavailable");
        }
    }
}

#[test]
fn errors_are_plain_and_hold_no_content() {
    let canary = sourced(vec![condition("CANARY-1", "CANARY", "active", "2024-01-01")], "CANARY-HOSPITAL");
    let e = build_ips(&canary, &opts(IpsVariant::Ips, Lang::En)).unwrap_err();
    assert_eq!(e, IpsError::NoPatient);
    let mut bad = two_facilities();
    bad.push(SourcedResource { resource: json!({ "CANARY": true }), sources: vec![] });
    assert_eq!(build_ips(&bad, &opts(IpsVariant::Ips, Lang::En)).unwrap_err(), IpsError::NotAResource { index: 4 });
    let mut o = opts(IpsVariant::Ips, Lang::En);
    o.timestamp = "2025-11-01".into();
    assert_eq!(build_ips(&two_facilities(), &o).unwrap_err(), IpsError::BadTimestamp);
    o.timestamp = "２０２５-11-01T10:00:00+09:00".into();
    assert_eq!(build_ips(&two_facilities(), &o).unwrap_err(), IpsError::BadTimestamp, "full-width digits");
    o.timestamp = "2025-11-01T10:00:00".into();
    assert_eq!(build_ips(&two_facilities(), &o).unwrap_err(), IpsError::BadTimestamp, "a time zone is needed");
    let mut o = opts(IpsVariant::Ips, Lang::En);
    o.document_id = "CANARY".into();
    assert_eq!(build_ips(&two_facilities(), &o).unwrap_err(), IpsError::BadDocumentId);
    let mut o = opts(IpsVariant::Ips, Lang::En);
    o.author = " ".into();
    assert_eq!(build_ips(&two_facilities(), &o).unwrap_err(), IpsError::NoAuthor);
    for e in [IpsError::NoPatient, IpsError::NotAResource { index: 4 }, IpsError::BadTimestamp, IpsError::BadDocumentId, IpsError::NoAuthor] {
        let m = e.to_string();
        assert!(!m.contains("CANARY") && m.ends_with(|c: char| c.is_alphanumeric() || c == ')'));
        assert!(!e.code().is_empty());
    }
}

#[test]
fn document_shape() {
    let b = build_ips(&two_facilities(), &opts(IpsVariant::Ips, Lang::En)).unwrap();
    assert_eq!(b["type"], "document");
    assert_eq!(b["timestamp"], TS);
    assert_eq!(b["identifier"]["value"], format!("urn:uuid:{DOC_ID}"));
    assert_eq!(b["meta"]["profile"][0], "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips");
    let c = composition(&b);
    assert_eq!(c["resourceType"], "Composition");
    assert_eq!(c["status"], "final");
    assert_eq!(c["type"]["coding"][0]["code"], "60591-5");
    assert_eq!(c["date"], TS);
    assert_eq!(c["author"][0]["display"], "Techo");
    assert_eq!(c["confidentiality"], "N");
    for e in entries(&b) {
        let u = e["fullUrl"].as_str().unwrap();
        assert!(u.starts_with("urn:uuid:") && u.len() == 45);
        assert_eq!(e["resource"]["id"].as_str().unwrap(), &u[9..], "the id is the fullUrl's UUID");
    }
    for s in c["section"].as_array().unwrap() {
        assert!(s["text"]["div"].as_str().unwrap().starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\">"));
    }
}

#[test]
fn narrative_is_escaped() {
    let mut input = two_facilities();
    for i in [1, 3] {
        input[i].resource["code"]["text"] = json!("<script>alert(1)</script> & \"x\"");
    }
    let b = build_ips(&input, &opts(IpsVariant::Ips, Lang::En)).unwrap();
    assert_passes("escaped narrative", &check_ips(&b));
    let div = section(&b, "http://loinc.org", "11450-4").unwrap()["text"]["div"].as_str().unwrap().to_owned();
    assert!(div.contains("&lt;script&gt;") && div.contains("&amp;") && !div.contains("<script>"));
}


/// The collector (bounded memory for any record size) keeps everything any section selects:
/// the summary built from what it kept has the same entries, section by section, as the one
/// built from the whole record, in both variants; and it keeps far fewer resources.
#[test]
fn the_bounded_collector_changes_no_section() {
    let all = generated(20_000);
    let mut c = techo_share::ips::IpsCollector::new();
    for (i, r) in all.iter().enumerate() {
        c.offer(i as i64, r.resource["resourceType"].as_str().unwrap(), &r.resource.to_string(), r.sources.clone()).unwrap();
    }
    assert_eq!(c.offered(), all.len() as u64);
    let (kept, keys) = c.into_input();
    assert_eq!(kept.len(), keys.len());
    assert!(kept.iter().zip(&keys).all(|(r, &k)| r.resource == all[k as usize].resource), "each kept record under its own key");
    assert!(kept.len() * 3 < all.len(), "the collector keeps a bounded part: {} of {}", kept.len(), all.len());
    // An entry as the section shows it: type, what it is (code or text) and when.
    let key = |r: &Value| {
        let what = ["code", "medicationCodeableConcept", "vaccineCode"].iter().find_map(|k| r.get(*k)).map(|c| c.to_string()).unwrap_or_default();
        let when = ["effectiveDateTime", "authoredOn", "occurrenceDateTime", "performedDateTime", "onsetDateTime", "recordedDate"]
            .iter()
            .find_map(|k| r.get(*k).and_then(Value::as_str))
            .unwrap_or("");
        format!("{}|{what}|{when}", r["resourceType"].as_str().unwrap_or(""))
    };
    for (variant, sections) in [(IpsVariant::Ips, IPS_SECTIONS), (IpsVariant::JpSix, JP_SIX_SECTIONS)] {
        let whole = build_ips(&all, &opts(variant, Lang::En)).unwrap();
        let bounded = build_ips(&kept, &opts(variant, Lang::En)).unwrap();
        for s in sections {
            let a: BTreeSet<String> = section_resources(&whole, s.system(), s.code()).into_iter().map(key).collect();
            let b: BTreeSet<String> = section_resources(&bounded, s.system(), s.code()).into_iter().map(key).collect();
            assert_eq!(a.len(), b.len(), "{variant:?} section {} has as many entries", s.key);
            assert!(a == b, "{variant:?} section {}: the same entries", s.key);
        }
    }
    // A record that is not JSON is an error with its position, never its content.
    let mut c = techo_share::ips::IpsCollector::new();
    c.offer(1, "Condition", "{}", vec![]).unwrap();
    assert!(matches!(c.offer(2, "Observation", "{not json", vec![]), Err(IpsError::NotAResource { index: 1 })));
    assert!(c.offer(3, "Encounter", "{not json", vec![]).is_ok(), "types a summary does not read are not parsed");

    // What the document stands for: its entries and what merged into them, by input position.
    let (doc, included) = techo_share::ips::build_ips_tracked(&kept, &opts(IpsVariant::Ips, Lang::En)).unwrap();
    let entries = doc["entry"].as_array().unwrap().len();
    assert!(included.len() >= entries - 2 && included.len() < kept.len(), "{} inputs for {entries} entries of {}", included.len(), kept.len());
    assert!(included.windows(2).all(|w| w[0] < w[1]) && included.iter().all(|&i| i < kept.len()));
}
