//! Pseudonyms, references, date shifting, generalization, perturbation, each method,
//! config errors, and property tests.

use chrono::NaiveDate;
use proptest::prelude::*;
use rstest::rstest;
use serde_json::{json, Value};
use techo_pseudo::{Config, Method, PseudoError, Pseudonymiser, ResearchSecret, Rule, PSEUDED_SYSTEM};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")
}

fn research(secret: u8) -> Pseudonymiser {
    Pseudonymiser::new(Config::research_profile(), [secret; 32]).expect("profile")
}

fn one_rule(rule: Value, params: Value) -> Result<Pseudonymiser, PseudoError> {
    let cfg = Config::from_value(json!({ "fhirVersion": "R4", "fhirPathRules": [rule], "parameters": params }))?;
    Pseudonymiser::new(cfg, [1u8; 32])
}

#[test]
fn pseudonyms_are_stable_and_keyed() {
    let a = research(1);
    let b = research(1);
    let c = research(2);
    let pa = a.pseudonym("Patient", "123");
    assert_eq!(pa, b.pseudonym("Patient", "123"));
    assert_ne!(pa, c.pseudonym("Patient", "123"));
    assert_ne!(pa, a.pseudonym("Observation", "123"));
    assert_eq!(pa.len(), 32);
    assert!(pa.chars().all(|c| c.is_ascii_hexdigit()));
    let r = json!({ "resourceType": "Patient", "id": "123" });
    assert_eq!(a.pseudonymise(&r, "k", today()).expect("ok")["id"], pa);
    assert_eq!(b.pseudonymise(&r, "k", today()).expect("ok"), a.pseudonymise(&r, "k", today()).expect("ok"));
}

#[test]
fn secret_debug_is_redacted() {
    let s = ResearchSecret::new([0xAB; 32]);
    assert_eq!(format!("{s:?}"), "ResearchSecret(<redacted>)");
    let p = research(0xAB);
    assert!(!format!("{p:?}").to_lowercase().contains("abab"));
}

#[test]
fn references_are_rewritten_consistently() {
    let p = research(3);
    let pat = p.pseudonymise(&json!({ "resourceType": "Patient", "id": "pat1" }), "pat1", today()).expect("ok");
    let obs = json!({
        "resourceType": "Observation", "id": "o1", "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8867-4" }] },
        "subject": { "reference": "Patient/pat1", "display": "Peter Chalmers" },
        "performer": [{ "reference": "http://example.org/fhir/Patient/pat1/_history/2" }, { "reference": "#pr" }],
        "contained": [{ "resourceType": "Practitioner", "id": "pr", "name": [{ "family": "Careful" }] }],
        "hasMember": [{ "reference": "urn:uuid:AAAA0000-0000-4000-8000-000000000001" }, { "reference": "Observation?identifier=x|1" }]
    });
    let out = p.pseudonymise(&obs, "pat1", today()).expect("ok");
    let pid = pat["id"].as_str().expect("id");
    assert_eq!(out["subject"]["reference"], format!("Patient/{pid}"));
    assert!(out["subject"].get("display").is_none());
    assert_eq!(out["performer"][0]["reference"], format!("http://example.org/fhir/Patient/{pid}"));
    let local = out["contained"][0]["id"].as_str().expect("contained id");
    assert_eq!(out["performer"][1]["reference"], format!("#{local}"));
    assert!(out["contained"][0].get("name").is_none());
    let urn = out["hasMember"][0]["reference"].as_str().expect("urn");
    assert!(urn.starts_with("urn:uuid:") && urn.len() == 45 && !urn.contains("aaaa0000"), "{urn}");
    let cond = out["hasMember"][1]["reference"].as_str().expect("cond");
    assert!(cond.starts_with("Observation/") && !cond.contains("identifier"), "{cond}");
    // meta reduced and labelled
    assert_eq!(out["meta"]["security"][0]["system"], PSEUDED_SYSTEM);
    assert_eq!(out["meta"]["security"][0]["code"], "PSEUDED");
}

#[test]
fn bundle_full_urls_match_references() {
    let p = research(4);
    let b = json!({ "resourceType": "Bundle", "id": "b", "type": "collection",
        "meta": { "versionId": "3", "lastUpdated": "2020-01-01T00:00:00Z", "source": "x", "profile": ["http://p"] },
        "entry": [
            { "fullUrl": "http://ex.org/fhir/Patient/p9", "resource": { "resourceType": "Patient", "id": "p9" } },
            { "fullUrl": "urn:uuid:11111111-2222-4333-8444-555555555555",
              "resource": { "resourceType": "Observation", "id": "o", "status": "final",
                "subject": { "reference": "http://ex.org/fhir/Patient/p9" },
                "focus": [{ "reference": "urn:uuid:11111111-2222-4333-8444-555555555555" }] } }
        ] });
    let out = p.pseudonymise(&b, "p9", today()).expect("ok");
    assert_eq!(out["meta"]["profile"][0], "http://p");
    assert!(out["meta"].get("versionId").is_none() && out["meta"].get("lastUpdated").is_none() && out["meta"].get("source").is_none());
    let e = &out["entry"];
    assert_eq!(e[0]["fullUrl"], format!("http://ex.org/fhir/Patient/{}", e[0]["resource"]["id"].as_str().expect("id")));
    assert_eq!(e[1]["resource"]["subject"]["reference"], e[0]["fullUrl"]);
    assert_eq!(e[1]["resource"]["focus"][0]["reference"], e[1]["fullUrl"]);
}

#[test]
fn date_shift_keeps_intervals_and_precision() {
    let p = research(5);
    let shift = p.date_shift_days("person-A");
    assert!(shift != 0 && shift.abs() <= 30, "{shift}");
    let enc = json!({ "resourceType": "Encounter", "id": "e", "status": "finished",
        "period": { "start": "2020-03-01T09:30:00+09:00", "end": "2020-03-04T10:15:00+09:00" } });
    let cond = json!({ "resourceType": "Condition", "id": "c", "onsetDateTime": "2019", "recordedDate": "2020-03-02",
        "abatementString": "2020-05" });
    let e = p.pseudonymise(&enc, "person-A", today()).expect("ok");
    let c = p.pseudonymise(&cond, "person-A", today()).expect("ok");
    let start = e["period"]["start"].as_str().expect("start");
    let end = e["period"]["end"].as_str().expect("end");
    assert!(start.ends_with("T09:30:00+09:00") && end.ends_with("T10:15:00+09:00"), "{start} {end}");
    let d = |s: &str| NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").expect("date");
    assert_eq!(d(end) - d(start), chrono::Duration::days(3));
    assert_eq!(d(start) - NaiveDate::from_ymd_opt(2020, 3, 1).expect("d"), chrono::Duration::days(shift));
    assert_eq!(d(c["recordedDate"].as_str().expect("rd")) - d(start), chrono::Duration::days(1));
    assert_eq!(c["onsetDateTime"], "2019", "year-only stays year-only");
    // the same person gets the same shift in another resource and another run
    assert_eq!(research(5).date_shift_days("person-A"), shift);
    assert_ne!((0..20).map(|i| p.date_shift_days(&format!("x{i}"))).collect::<std::collections::BTreeSet<_>>().len(), 1);
}

#[test]
fn birth_date_is_year_only_and_old_ages_are_capped() {
    let p = research(6);
    let young = json!({ "resourceType": "Patient", "id": "a", "birthDate": "1980-04-01",
        "_birthDate": { "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1980-04-01T05:00:00+09:00" }] } });
    let out = p.pseudonymise(&young, "a", today()).expect("ok");
    assert_eq!(out["birthDate"], "1980");
    assert!(out.get("_birthDate").is_none(), "birth time goes with the generalized date");
    let old = json!({ "resourceType": "Patient", "id": "b", "birthDate": "1920-05-01" });
    assert_eq!(p.pseudonymise(&old, "b", today()).expect("ok")["birthDate"], "1935", "over 89 → age 90 bucket");
    let just89 = json!({ "resourceType": "Patient", "id": "c", "birthDate": "1935-06-01" });
    assert_eq!(p.pseudonymise(&just89, "c", today()).expect("ok")["birthDate"], "1935");
}

#[test]
fn perturb_stays_within_span_and_is_reproducible() {
    let p = one_rule(json!({ "path": "Observation.valueQuantity.value", "method": "perturb", "span": 2, "rangeType": "fixed", "roundTo": 2 }), json!({}))
        .expect("cfg");
    let q = one_rule(json!({ "path": "Observation.value", "method": "perturb", "span": 0.1, "rangeType": "proportional", "roundTo": 1 }), json!({}))
        .expect("cfg");
    let mut moved = 0;
    for i in 0..200 {
        let x = 50.0 + f64::from(i) * 0.37;
        let obs = json!({ "resourceType": "Observation", "id": format!("o{i}"), "valueQuantity": { "value": x, "unit": "kg" } });
        let a = p.pseudonymise(&obs, "k", today()).expect("ok");
        let y = a["valueQuantity"]["value"].as_f64().expect("num");
        assert!((y - x).abs() <= 1.0 + 0.005, "{x} → {y}");
        moved += usize::from((y - x).abs() > 1e-9);
        assert_eq!(a, p.pseudonymise(&obs, "k", today()).expect("ok"));
        assert_eq!(a["valueQuantity"]["unit"], "kg");
        let b = q.pseudonymise(&obs, "k", today()).expect("ok");
        let z = b["valueQuantity"]["value"].as_f64().expect("num");
        assert!((z - x).abs() <= 0.05 * x + 0.05, "{x} → {z}");
    }
    assert!(moved > 150, "noise is applied ({moved})");
}

fn tiny() -> Value {
    json!({ "resourceType": "Observation", "id": "o1", "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "29463-7", "display": "Body weight" }] },
        "effectiveDateTime": "2020-02-03T04:05:06Z", "valueQuantity": { "value": 72.5, "unit": "kg" },
        "valueInteger": 15, "comment": "seen by Dr Who" })
}

#[rstest]
#[case::redact(json!({"path": "Observation.comment", "method": "redact"}), "/comment", None)]
#[case::keep(json!({"path": "Observation.comment", "method": "keep"}), "/comment", Some(json!("seen by Dr Who")))]
#[case::date_shift(json!({"path": "nodesByType('dateTime')", "method": "dateShift"}), "/effectiveDateTime", Some(json!("2020-02-05T04:05:06Z")))]
#[case::crypto_hash(json!({"path": "Observation.comment", "method": "cryptoHash"}), "/comment", Some(json!("HASH")))]
#[case::generalize_cases(json!({"path": "Observation.valueInteger", "method": "generalize", "cases": {"$this < 18": "'child'", "$this >= 18": "'adult'"}}), "/valueInteger", Some(json!("child")))]
#[case::generalize_no_case(json!({"path": "Observation.valueInteger", "method": "generalize", "cases": {"$this > 100": "'old'"}}), "/valueInteger", None)]
#[case::generalize_keep_others(json!({"path": "Observation.valueInteger", "method": "generalize", "cases": {"$this > 100": "'old'"}, "otherValues": "keep"}), "/valueInteger", Some(json!(15)))]
#[case::generalize_month(json!({"path": "Observation.effective", "method": "generalize", "truncateTo": "month"}), "/effectiveDateTime", Some(json!("2020-02")))]
#[case::substitute_leaf(json!({"path": "Observation.status", "method": "substitute", "replaceWith": "unknown"}), "/status", Some(json!("unknown")))]
#[case::substitute_object(json!({"path": "Observation.valueQuantity", "method": "substitute", "replaceWith": {"value": 0}}), "/valueQuantity", Some(json!({"value": 0})))]
#[case::perturb_zero_span(json!({"path": "Observation.valueQuantity.value", "method": "perturb", "span": 0, "roundTo": 1}), "/valueQuantity/value", Some(json!(72.5)))]
#[case::redact_object_keep_before(json!({"path": "nodesByType('Quantity')", "method": "redact"}), "/valueQuantity", None)]
fn each_method_on_a_tiny_resource(#[case] rule: Value, #[case] pointer: &str, #[case] expected: Option<Value>) {
    // date shift of exactly +2 days: find a person key with that shift
    let p = one_rule(rule, json!({ "dateShiftRange": 2 })).expect("cfg");
    let key = (0..1000).map(|i| format!("k{i}")).find(|k| p.date_shift_days(k) == 2).expect("a key with shift 2");
    let out = p.pseudonymise(&tiny(), &key, today()).expect("ok");
    let got = out.pointer(pointer).cloned();
    match expected {
        Some(Value::String(s)) if s == "HASH" => assert_eq!(got, Some(json!(p.crypto_hash("seen by Dr Who")))),
        e => assert_eq!(got, e, "{out:#}"),
    }
    // what no rule touches is kept
    assert_eq!(out["code"]["coding"][0]["code"], "29463-7");
    assert_eq!(out["resourceType"], "Observation");
}

#[test]
fn first_matching_rule_wins_and_empty_parts_are_pruned() {
    let cfg = Config::from_json(r#"{ "fhirPathRules": [
        { "path": "nodesByType('Address').country", "method": "keep" },
        { "path": "nodesByType('Address')", "method": "redact" },
        { "path": "nodesByType('HumanName')", "method": "redact" } ] }"#)
    .expect("cfg");
    let p = Pseudonymiser::new(cfg, [9u8; 32]).expect("p");
    let r = json!({ "resourceType": "Patient", "id": "x", "name": [{ "family": "A" }],
        "address": [{ "line": ["1 Road"], "city": "C", "country": "JP" }, { "line": ["2 Road"] }] });
    let out = p.pseudonymise(&r, "x", today()).expect("ok");
    assert_eq!(out["address"], json!([{ "country": "JP" }]));
    assert!(out.get("name").is_none());
}

#[test]
fn partial_redaction_parameters() {
    let p = one_rule(json!({ "path": "Patient.address.postalCode", "method": "redact" }),
        json!({ "enablePartialZipCodesForRedact": true, "restrictedZipCodeTabulationAreas": ["036"] })).expect("cfg");
    let out = p.pseudonymise(&json!({ "resourceType": "Patient", "address": [{ "postalCode": "781-8125" }, { "postalCode": "03601" }] }), "k", today()).expect("ok");
    assert_eq!(out["address"], json!([{ "postalCode": "781" }, { "postalCode": "000" }]));
    let p = one_rule(json!({ "path": "nodesByType('date')", "method": "redact" }), json!({ "enablePartialDatesForRedact": true })).expect("cfg");
    let out = p.pseudonymise(&json!({ "resourceType": "Patient", "birthDate": "1980-01-02", "deceasedDateTime": "2020-01-02" }), "k", today()).expect("ok");
    assert_eq!(out["birthDate"], "1980");
    let p = one_rule(json!({ "path": "nodesByType('Age')", "method": "redact" }), json!({ "enablePartialAgesForRedact": true })).expect("cfg");
    let c = json!({ "resourceType": "Condition", "onsetAge": { "value": 45, "unit": "a" } });
    assert_eq!(p.pseudonymise(&c, "k", today()).expect("ok")["onsetAge"]["value"], 45);
    let c = json!({ "resourceType": "Condition", "onsetAge": { "value": 95, "unit": "a" } });
    assert!(p.pseudonymise(&c, "k", today()).expect("ok").get("onsetAge").is_none());
}

#[rstest]
#[case::unknown_method(r#"{"fhirPathRules":[{"path":"Patient.name","method":"redact"},{"path":"Patient.x","method":"scramble"}]}"#, "rule 1")]
#[case::bad_path(r#"{"fhirPathRules":[{"path":"Patient.name.where(use='official')","method":"redact"}]}"#, "rule 0")]
#[case::bad_type(r#"{"fhirPathRules":[{"path":"nodesByType('Foo')","method":"redact"}]}"#, "rule 0")]
#[case::missing_span(r#"{"fhirPathRules":[{"path":"Observation.value","method":"keep"},{"path":"Observation.value","method":"keep"},{"path":"Observation.value","method":"perturb"}]}"#, "rule 2")]
#[case::bad_case(r#"{"fhirPathRules":[{"path":"Observation.value","method":"generalize","cases":{"$this ~ 3":"x"}}]}"#, "rule 0")]
#[case::stray_param(r#"{"fhirPathRules":[{"path":"Observation.value","method":"redact","span":3}]}"#, "rule 0")]
#[case::key_in_config(r#"{"fhirPathRules":[],"parameters":{"cryptoHashKey":"abc"}}"#, "cryptoHashKey")]
#[case::version(r#"{"fhirVersion":"STU3","fhirPathRules":[]}"#, "STU3")]
#[case::not_json(r#"{"fhirPathRules": ["#, "not valid")]
fn bad_config_gives_a_clear_error(#[case] text: &str, #[case] mentions: &str) {
    let err = Config::from_json(text).and_then(|c| Pseudonymiser::new(c, [0u8; 32])).expect_err("must fail");
    assert!(err.to_string().contains(mentions), "{err}");
    assert!(err.code().starts_with("pseudo."));
}

#[test]
fn bad_input_errors_do_not_echo_content() {
    let p = research(1);
    let e = p.pseudonymise(&json!(["Yamada Taro"]), "k", today()).expect_err("array");
    assert_eq!(e.code(), "pseudo.not_an_object");
    let e = p.pseudonymise(&json!({ "name": "Yamada Taro" }), "k", today()).expect_err("no type");
    assert_eq!(e.code(), "pseudo.no_resource_type");
    assert!(!e.to_string().contains("Yamada"));
}

#[test]
fn research_profile_round_trips_and_builds_rules() {
    let c = Config::research_profile();
    assert!(c.fhir_path_rules.len() > 20);
    assert_eq!(Config::from_json(&c.to_json()).expect("round trip"), c);
    let mut c2 = c.clone();
    c2.fhir_path_rules.push(Rule::new("Patient.gender", Method::Redact));
    assert!(Pseudonymiser::new(c2, [0u8; 32]).is_ok());
}

#[test]
fn jp_core_names_and_extensions_go() {
    let p = research(7);
    let r = json!({ "resourceType": "Patient", "id": "jp",
        "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName", "valueString": "鈴木" }],
        "name": [
            { "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "IDE" }], "text": "山田 太郎", "family": "山田", "given": ["太郎"] },
            { "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "SYL" }], "text": "ヤマダ タロウ", "family": "ヤマダ", "given": ["タロウ"] } ],
        "gender": "male" });
    let out = p.pseudonymise(&r, "jp", today()).expect("ok");
    let s = out.to_string();
    for bad in ["山田", "太郎", "ヤマダ", "タロウ", "鈴木"] {
        assert!(!s.contains(bad), "{bad} in {s}");
    }
    assert_eq!(out["gender"], "male");
    assert!(out.get("extension").is_none(), "an extension left with only its url is pruned");
}

const TYPES: &[&str] = &["Patient", "Observation", "Bundle", "Practitioner", "Condition", "Encounter", "X"];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        (-1e9f64..1e9).prop_map(|f| json!(f)),
        "[a-zA-Z0-9 ぁ-ん亜-熙:/#?.-]{0,12}".prop_map(Value::String),
        prop_oneof![Just("2020-01-02"), Just("2020"), Just("2020-13-40"), Just("2020-01-02T03:04:05+09:00"), Just("Patient/1"), Just("urn:uuid:x"), Just("#a")]
            .prop_map(|s| Value::String(s.to_string())),
    ];
    let keys = prop_oneof![
        Just("name"), Just("family"), Just("given"), Just("text"), Just("reference"), Just("display"), Just("value"),
        Just("system"), Just("code"), Just("telecom"), Just("address"), Just("line"), Just("identifier"), Just("extension"),
        Just("url"), Just("valueString"), Just("birthDate"), Just("_birthDate"), Just("contained"), Just("entry"),
        Just("resource"), Just("resourceType"), Just("id"), Just("meta"), Just("div"), Just("coding"), Just("period"),
        Just("start"), Just("fullUrl"), Just("_given"), Just("note"), Just("valueQuantity"), Just("unit")
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Every string inside a HumanName-shaped object (`family`/`given`) of the input
/// (into `out`), every other string into `others`.
fn human_name_split(v: &Value, under_name: bool, out: &mut Vec<String>, others: &mut Vec<String>) {
    match v {
        Value::String(s) if under_name && s.chars().count() >= 3 => out.push(s.clone()),
        Value::String(s) if !under_name => others.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| human_name_split(x, under_name, out, others)),
        Value::Object(m) => {
            // (a nested resource's own `family` key is not a HumanName element)
            let is_resource = m.get("resourceType").and_then(Value::as_str).is_some_and(|t| t.starts_with(|c: char| c.is_ascii_uppercase()));
            let is_name = !is_resource && (m.contains_key("family") || m.contains_key("given"));
            for (k, x) in m {
                human_name_split(x, under_name || (is_name && (k == "family" || k == "given" || k == "text")), out, others);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_drops_names(rt in prop::sample::select(TYPES), body in prop::collection::vec((
            prop_oneof![Just("name"), Just("contact"), Just("subject"), Just("valueString"), Just("extension"), Just("component"), Just("entry"), Just("contained")],
            arb_json()), 0..6),
        family in "[A-Z][a-z]{3,8}", given in "[ぁ-ん]{2,4}") {
        let mut m = serde_json::Map::new();
        m.insert("resourceType".into(), json!(rt));
        for (k, v) in body {
            m.insert(k.to_string(), v);
        }
        m.insert("name".into(), json!([{ "family": family, "given": [given] }]));
        let input = Value::Object(m);
        let p = research(1);
        let out = p.pseudonymise(&input, "k", today()).expect("object with resourceType");
        prop_assert_eq!(&out["resourceType"], &json!(rt));
        // Strings that also occur outside any HumanName in the input may legitimately stay.
        let (mut names, mut others) = (Vec::new(), Vec::new());
        human_name_split(&input, false, &mut names, &mut others);
        names.retain(|n| !others.contains(n));
        let text = out.to_string();
        for n in names {
            prop_assert!(!text.contains(&serde_json::to_string(&n).unwrap_or_default()), "{} in {}", n, text);
        }
    }
}
