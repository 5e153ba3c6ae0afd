//! Japanese records: full-text search finds 2-character kanji terms (血圧), longer ones (高血圧)
//! and katakana names (タナカ); `list --code` finds a JP Core coded condition (MEDIS 病名管理番号).

use serde_json::{json, Value};
use std::sync::OnceLock;
use techo_tests::*;

const MEDIS_DISEASE: &str = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";

fn records() -> Value {
    let patient = json!({
        "resourceType": "Patient",
        "id": "jp-pat-1",
        "identifier": [{"system": PATIENT_ID_SYSTEM, "value": "00000010"}],
        "name": [
            {
                "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "IDE"}],
                "use": "official", "text": "田中 太郎", "family": "田中", "given": ["太郎"]
            },
            {
                "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "SYL"}],
                "use": "official", "text": "タナカ タロウ", "family": "タナカ", "given": ["タロウ"]
            }
        ],
        "gender": "male",
        "birthDate": "1960-04-01"
    });
    let hypertension = json!({
        "resourceType": "Condition",
        "id": "jp-cond-ht",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "code": {
            "coding": [{"system": MEDIS_DISEASE, "code": "20061593", "display": "高血圧症"}],
            "text": "高血圧症"
        },
        "subject": {"reference": "Patient/jp-pat-1"},
        "onsetDateTime": "2019-06-01",
        "recordedDate": "2019-06-01"
    });
    let diabetes = json!({
        "resourceType": "Condition",
        "id": "jp-cond-dm",
        "code": {
            "coding": [{"system": MEDIS_DISEASE, "code": "20060646", "display": "２型糖尿病"}],
            "text": "２型糖尿病"
        },
        "subject": {"reference": "Patient/jp-pat-1"},
        "recordedDate": "2020-01-15"
    });
    bundle("collection", &[patient, hypertension, diabetes])
}

struct Fx {
    vault: TempVault,
    /// record_id by FHIR id.
    ids: Vec<(String, Value)>,
}

fn fx() -> &'static Fx {
    static F: OnceLock<Fx> = OnceLock::new();
    F.get_or_init(|| {
        let v = TempVault::uninitialised_in(Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))));
        v.run(["init"]).ok();
        let f = v.input("jp.json", to_bytes(&records()));
        v.import(&[&f], None).ok();
        let ids = v
            .list(&[])
            .into_iter()
            .map(|row| {
                let rid = row["record_id"].clone();
                let fhir_id = v.show(&rid)["id"].as_str().unwrap_or_default().to_owned();
                (fhir_id, rid)
            })
            .collect();
        Fx { vault: v, ids }
    })
}

fn record_id(fhir_id: &str) -> Value {
    fx().ids
        .iter()
        .find(|(f, _)| f == fhir_id)
        .unwrap_or_else(|| panic!("{fhir_id} was not imported"))
        .1
        .clone()
}

fn search(text: &str) -> Vec<Value> {
    match fx().vault.run(["--json", "search", text]).ok().json() {
        Value::Array(a) => a.into_iter().map(|r| r["record_id"].clone()).collect(),
        other => panic!("search --json should print an array, got a {}", kind(&other)),
    }
}

#[rstest::rstest]
#[case::two_kanji("血圧", "jp-cond-ht", Some("jp-cond-dm"))]
#[case::three_kanji("高血圧", "jp-cond-ht", Some("jp-cond-dm"))]
#[case::whole_term("高血圧症", "jp-cond-ht", Some("jp-cond-dm"))]
#[case::katakana_name("タナカ", "jp-pat-1", None)]
#[case::kanji_name("田中", "jp-pat-1", None)]
#[case::other_condition_two_chars("糖尿", "jp-cond-dm", Some("jp-cond-ht"))]
fn japanese_search_finds_the_record(#[case] text: &str, #[case] finds: &str, #[case] not: Option<&str>) {
    let hits = search(text);
    assert!(
        hits.contains(&record_id(finds)),
        "search for a {}-character term should find {finds} ({} hits)",
        text.chars().count(),
        hits.len()
    );
    if let Some(n) = not {
        assert!(!hits.contains(&record_id(n)), "search should not find {n}");
    }
}

#[test]
fn japanese_search_without_match_finds_nothing() {
    assert!(search("喘息").is_empty(), "no record mentions 喘息");
}

#[test]
fn list_by_jp_core_code_finds_the_condition() {
    let rows = fx().vault.list(&["--code", &format!("{MEDIS_DISEASE}|20061593")]);
    let ids: Vec<Value> = rows.iter().map(|r| r["record_id"].clone()).collect();
    assert_eq!(ids, vec![record_id("jp-cond-ht")], "list --code MEDIS|20061593");
    let none = fx().vault.list(&["--code", &format!("{MEDIS_DISEASE}|99999999")]);
    assert!(none.is_empty(), "an unknown code lists nothing");
}

#[test]
fn japanese_text_round_trips() {
    let shown = fx().vault.show(&record_id("jp-pat-1"));
    let expected = &records()["entry"][0]["resource"];
    if let Some(d) = techo_fhir::equality::fhir_diff(expected, &shown) {
        panic!("the Japanese Patient came back different: {d}");
    }
}
