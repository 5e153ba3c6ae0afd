use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::*;

fn ndjson(cfg: &GenConfig) -> Vec<u8> {
    let mut buf = Vec::new();
    write(cfg, GenFormat::Ndjson, &mut buf).unwrap();
    buf
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "reference" {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn key(v: &Value) -> String {
    format!("{}/{}", v["resourceType"].as_str().unwrap(), v["id"].as_str().unwrap())
}

fn has_kanji(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

fn has_katakana(s: &str) -> bool {
    s.chars().any(|c| ('\u{30A0}'..='\u{30FF}').contains(&c))
}

#[test]
fn same_seed_gives_identical_bytes_and_other_seed_differs() {
    let cfg = GenConfig { seed: 7, persons: 3, resources: 3000, facilities: 4 };
    let a = ndjson(&cfg);
    let b = ndjson(&cfg);
    assert_eq!(a, b);
    let mut ba = Vec::new();
    let mut bb = Vec::new();
    write(&cfg, GenFormat::Bundle, &mut ba).unwrap();
    write(&cfg, GenFormat::Bundle, &mut bb).unwrap();
    assert_eq!(ba, bb);
    let other = ndjson(&GenConfig { seed: 8, ..cfg.clone() });
    assert_ne!(a, other);
}

#[test]
fn counts_are_exact() {
    for (persons, resources, facilities) in [(1, 1000, 4), (3, 3001, 4), (5, 6_000, 6), (2, 500, 1), (1, 57, 2)] {
        let cfg = GenConfig { seed: 1, persons, resources, facilities };
        assert_eq!(cfg.total_resources(), resources as u64, "{cfg:?}");
        assert_eq!(super::resources(&cfg).count(), resources, "{cfg:?}");
        let buf = ndjson(&cfg);
        assert_eq!(buf.iter().filter(|&&b| b == b'\n').count(), resources);
        let mut sink = Vec::new();
        assert_eq!(write(&cfg, GenFormat::Bundle, &mut sink).unwrap(), resources as u64);
        let bundle: Value = serde_json::from_slice(&sink).unwrap();
        assert_eq!(bundle["entry"].as_array().unwrap().len(), resources);
        for i in 0..persons {
            let mut one = Vec::new();
            let n = write_person(&cfg, i, GenFormat::Ndjson, &mut one).unwrap();
            assert_eq!(n, cfg.person_resources(i) as u64);
        }
    }
}

#[test]
fn tiny_share_is_raised_to_the_minimum() {
    let cfg = GenConfig { seed: 1, persons: 4, resources: 4, facilities: 4 };
    let min = cfg.min_resources_per_person();
    assert_eq!(min, 1 + (4 + 2 + 1 + 1 + 2) + 1);
    assert_eq!(resources(&cfg).count(), 4 * min);
    assert_eq!(cfg.total_resources(), (4 * min) as u64);
}

#[test]
fn every_resource_has_type_id_meta_and_japanese_narrative() {
    let cfg = GenConfig { seed: 3, persons: 2, resources: 4000, facilities: 4 };
    for r in resources(&cfg) {
        let t = r["resourceType"].as_str().expect("resourceType");
        let id = r["id"].as_str().expect("id");
        assert!(!id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
        assert!(r["meta"]["versionId"].is_string(), "{t}");
        assert!(r["meta"]["lastUpdated"].is_string(), "{t}");
        assert_eq!(r["text"]["status"], "generated", "{t}");
        let div = r["text"]["div"].as_str().unwrap();
        assert!(div.starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\">") && div.ends_with("</div>"));
        assert!(has_kanji(div) || has_katakana(div), "{t}: {div}");
    }
}

#[test]
fn all_resource_types_appear() {
    let cfg = GenConfig { seed: 11, persons: 1, resources: 6000, facilities: 4 };
    let mut by_type: HashMap<String, usize> = HashMap::new();
    for r in resources(&cfg) {
        *by_type.entry(r["resourceType"].as_str().unwrap().to_string()).or_default() += 1;
    }
    for t in [
        "Patient", "Organization", "Practitioner", "Encounter", "Condition", "Observation", "MedicationRequest",
        "MedicationDispense", "AllergyIntolerance", "Immunization", "Procedure", "DiagnosticReport", "DocumentReference",
    ] {
        assert!(by_type.get(t).copied().unwrap_or(0) > 0, "no {t}: {by_type:?}");
    }
    assert_eq!(by_type["Patient"], 1);
    assert_eq!(by_type["Organization"], 4);
}

#[test]
fn references_resolve_backwards_within_each_person_and_persons_are_contiguous() {
    let cfg = GenConfig { seed: 5, persons: 4, resources: 8000, facilities: 5 };
    let mut seen_global: HashMap<String, Value> = HashMap::new();
    let mut person_seen: HashSet<String> = HashSet::new();
    let mut patients: Vec<String> = Vec::new();
    let mut current_patient: Option<String> = None;
    for r in resources(&cfg) {
        let k = key(&r);
        let t = r["resourceType"].as_str().unwrap();
        if t == "Patient" {
            assert!(!patients.contains(&k), "a person appears twice");
            patients.push(k.clone());
            current_patient = Some(k.clone());
            person_seen.clear();
        }
        let cur = current_patient.clone().expect("the first resource is a Patient");
        let mut refs = Vec::new();
        collect_refs(&r, &mut refs);
        for rf in &refs {
            assert!(person_seen.contains(rf), "{k} -> {rf} is not an earlier resource of the same person");
            if rf.starts_with("Patient/") {
                assert_eq!(rf, &cur, "{k} belongs to another person");
            }
        }
        if !matches!(t, "Patient" | "Organization" | "Practitioner") {
            assert!(refs.contains(&cur), "{k} does not reference its Patient");
            if t != "Encounter" {
                assert!(refs.iter().any(|x| x.starts_with("Encounter/")), "{k} has no Encounter");
            }
        }
        match seen_global.get(&k) {
            // shared facilities recur per person with identical content; nothing else recurs
            Some(prev) => {
                assert!(t == "Organization" || t == "Practitioner", "duplicate id {k}");
                assert_eq!(prev, &r, "{k} differs between persons");
            }
            None => {
                seen_global.insert(k.clone(), r.clone());
            }
        }
        person_seen.insert(k);
    }
    assert_eq!(patients.len(), 4);
    assert_eq!(patients[2], format!("Patient/{}", cfg.patient_id(2)));
}

#[test]
fn write_person_is_that_persons_slice_of_write() {
    let cfg = GenConfig { seed: 9, persons: 3, resources: 2400, facilities: 4 };
    let all = ndjson(&cfg);
    let mut concat = Vec::new();
    for i in 0..3 {
        write_person(&cfg, i, GenFormat::Ndjson, &mut concat).unwrap();
    }
    assert_eq!(all, concat);
    let mut b = Vec::new();
    write_person(&cfg, 1, GenFormat::Bundle, &mut b).unwrap();
    let bundle: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), cfg.person_resources(1));
    assert_eq!(entries[0]["resource"]["resourceType"], "Patient");
    assert_eq!(entries[0]["resource"]["id"].as_str().unwrap(), cfg.patient_id(1));
    for e in entries {
        assert_eq!(e["fullUrl"].as_str().unwrap(), format!("{BASE_URL}{}", key(&e["resource"])));
    }
    let mut nothing = Vec::new();
    assert_eq!(write_person(&cfg, 3, GenFormat::Ndjson, &mut nothing).unwrap(), 0);
}

#[test]
fn japanese_names_with_ide_and_syl() {
    let cfg = GenConfig { seed: 2, persons: 5, resources: 500, facilities: 3 };
    let mut patients = 0;
    for r in resources(&cfg).filter(|r| r["resourceType"] == "Patient" || r["resourceType"] == "Practitioner") {
        let names = r["name"].as_array().unwrap();
        let ide = names.iter().find(|n| n["extension"][0]["valueCode"] == "IDE").expect("IDE name");
        let syl = names.iter().find(|n| n["extension"][0]["valueCode"] == "SYL").expect("SYL name");
        assert_eq!(ide["extension"][0]["url"], "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation");
        assert!(has_kanji(ide["family"].as_str().unwrap()));
        assert!(has_katakana(syl["family"].as_str().unwrap()));
        assert!(has_katakana(syl["given"][0].as_str().unwrap()));
        if r["resourceType"] == "Patient" {
            patients += 1;
            let ids = r["identifier"].as_array().unwrap();
            let mrns = ids.iter().filter(|i| i["system"].as_str().unwrap().starts_with("urn:oid:1.2.392.100495.20.3.51.1")).count();
            assert_eq!(mrns, 3, "one MRN per facility");
            assert!(ids.iter().any(|i| i["system"] == "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"));
            assert!(r["_birthDate"]["extension"][0]["valueDateTime"].is_string());
        }
    }
    assert_eq!(patients, 5);
}

#[test]
fn exact_decimal_text_survives() {
    let cfg = GenConfig { seed: 4, persons: 12, resources: 12_000, facilities: 4 };
    let buf = ndjson(&cfg);
    let text = std::str::from_utf8(&buf).unwrap();
    // trailing-zero decimals are written as such: doses, lab values, reference ranges
    for lit in ["\"value\":1.50,", "\"value\":0.65,", "\"value\":6.0,", "\"value\":60.0,"] {
        assert!(text.contains(lit), "{lit} missing");
    }
    let two_digit_zero = text.match_indices("\"value\":0.").filter(|(i, _)| text[i + 10..].starts_with(|c: char| c.is_ascii_digit()) && text[i + 11..].starts_with("0,")).count();
    assert!(two_digit_zero > 0, "no 0.x0 values");
    // and survive a parse + serialise round trip (serde_json arbitrary_precision)
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), line);
    }
}

#[test]
fn jp_core_code_systems_are_used() {
    let cfg = GenConfig { seed: 6, persons: 1, resources: 5000, facilities: 4 };
    let buf = ndjson(&cfg);
    let text = std::str::from_utf8(&buf).unwrap();
    for sys in [
        "urn:oid:1.2.392.200119.4.101.6",
        "urn:oid:1.2.392.200119.4.504",
        "urn:oid:1.2.392.200119.4.403.1",
        "urn:oid:1.2.392.100495.20.1.73",
        "http://hl7.org/fhir/sid/icd-10",
        "http://loinc.org",
        "http://unitsofmeasure.org",
        "urn:oid:1.2.392.100495.20.3.51.1",
        "http://hl7.org/fhir/StructureDefinition/tz-code",
    ] {
        assert!(text.contains(sys), "{sys} missing");
    }
}

#[test]
fn bench_search_terms_are_in_every_first_person() {
    // person 0 always has hypertension, and every lab panel has HbA1c
    for seed in [0, 1, 6, 42, 20_251_101] {
        let cfg = GenConfig { seed, persons: 1, resources: 3000, facilities: 4 };
        let text = String::from_utf8(ndjson(&cfg)).unwrap();
        for term in ["高血圧", "血圧", "HbA1c"] {
            assert!(text.matches(term).count() >= 5, "seed {seed}: {term} missing");
        }
    }
}

#[test]
fn clinical_dates_spread_over_years() {
    let cfg = GenConfig { seed: 12, persons: 1, resources: 30_000, facilities: 4 };
    let mut years = HashSet::new();
    let mut prev = String::new();
    let mut in_order = 0usize;
    let mut encounters = 0usize;
    for r in resources(&cfg).filter(|r| r["resourceType"] == "Encounter") {
        let start = r["period"]["start"].as_str().unwrap().to_string();
        years.insert(start[..4].to_string());
        if start >= prev {
            in_order += 1;
        }
        encounters += 1;
        prev = start;
    }
    assert!(years.len() >= 10, "{years:?}");
    assert!(prev.starts_with("2025"), "the record runs up to 2025: {prev}");
    assert!(in_order * 100 >= encounters * 99, "visits are chronological");
}

#[test]
fn generation_is_lazy() {
    // a billion-resource config starts at once: nothing is materialised up front
    let cfg = GenConfig { seed: 1, persons: 1, resources: 1_000_000_000, facilities: 4 };
    let t = std::time::Instant::now();
    assert_eq!(resources(&cfg).take(2000).count(), 2000);
    assert!(t.elapsed().as_secs() < 20);
}

#[test]
fn base64_matches_rfc4648_vectors() {
    use crate::person::base64;
    for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
        assert_eq!(base64(i.as_bytes()), o);
    }
}
