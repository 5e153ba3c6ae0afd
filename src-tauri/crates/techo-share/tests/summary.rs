//! The printable summary over hand-written fixtures: a Japanese patient (kanji and kana) with
//! records from three facilities, as a plain collection and as an IPS document; hostile and odd
//! input; a large collection. No test prints health data.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use techo_share::summary::{escape_into, summary_body, summary_document, summary_fragment, SummaryOptions, MAX_RESULT_TESTS};
use techo_share::Lang;

const LOINC: &str = "http://loinc.org";
const HOSPITAL: &str = "さくら総合病院";
const CLINIC: &str = "みどり内科クリニック";
const EYE: &str = "あおば眼科";
const EN_REP: &str = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

fn opts(lang: Lang) -> SummaryOptions {
    SummaryOptions { lang, today: "2025-06-01".into(), title: Some("For Dr. Sato".into()) }
}

// ---------------------------------------------------------------------------------------------
// Fixture: one person's records from three facilities.
// ---------------------------------------------------------------------------------------------

fn status(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

#[allow(clippy::too_many_arguments)]
fn allergy(id: &str, code: &str, name: &str, category: &str, ty: &str, crit: &str, reaction: &str, severity: &str, recorded: &str) -> Value {
    json!({
        "resourceType": "AllergyIntolerance", "id": id,
        "clinicalStatus": status("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active"),
        "verificationStatus": status("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed"),
        "type": ty, "category": [category], "criticality": crit,
        "code": { "coding": [{ "system": "urn:oid:1.2.392.200119.4.403.1", "code": code, "display": name }] },
        "patient": { "reference": "Patient/p1" },
        "recordedDate": recorded,
        "reaction": [{ "manifestation": [{ "text": reaction }], "severity": severity }]
    })
}

fn condition(id: &str, code: &str, name: &str, clinical: &str, onset: &str, abatement: Option<&str>) -> Value {
    let mut c = json!({
        "resourceType": "Condition", "id": id,
        "clinicalStatus": status("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical),
        "verificationStatus": status("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
        "category": [status("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")],
        "code": { "coding": [{ "system": "http://jpfhir.jp/fhir/core/CodeSystem/JP_ConditionDiseaseCodeMEDIS_CS", "code": code, "display": name }] },
        "subject": { "reference": "Patient/p1" },
        "onsetDateTime": onset
    });
    if let Some(a) = abatement {
        c["abatementDateTime"] = json!(a);
    }
    c
}

fn medication(id: &str, code: &str, name: &str) -> Value {
    json!({ "resourceType": "Medication", "id": id,
            "code": { "coding": [{ "system": "urn:oid:1.2.392.100495.20.2.74", "code": code, "display": name }] } })
}

fn request(id: &str, status: &str, med: &str, authored: &str, dosage: Value) -> Value {
    json!({ "resourceType": "MedicationRequest", "id": id, "status": status, "intent": "order",
            "medicationReference": { "reference": format!("Medication/{med}") },
            "subject": { "reference": "Patient/p1" }, "authoredOn": authored, "dosageInstruction": [dosage] })
}

#[allow(clippy::too_many_arguments)]
fn lab(id: &str, code: &str, name: &str, date: &str, value: &str, unit: &str, low: Option<&str>, high: Option<&str>, interp: Option<&str>) -> Value {
    let mut o = json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "category": [status("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")],
        "code": { "coding": [{ "system": LOINC, "code": code, "display": name }] },
        "subject": { "reference": "Patient/p1" },
        "effectiveDateTime": date,
        "valueQuantity": { "value": num(value), "unit": unit, "system": "http://unitsofmeasure.org" }
    });
    let mut range = Map::new();
    if let Some(l) = low {
        range.insert("low".into(), json!({ "value": num(l), "unit": unit }));
    }
    if let Some(h) = high {
        range.insert("high".into(), json!({ "value": num(h), "unit": unit }));
    }
    if !range.is_empty() {
        o["referenceRange"] = json!([Value::Object(range)]);
    }
    if let Some(f) = interp {
        o["interpretation"] = json!([status("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", f)]);
    }
    o
}

/// A JSON number as written (`61` stays `61`, `7.0` stays `7.0`).
fn num(literal: &str) -> Value {
    serde_json::from_str(literal).expect("a number")
}

fn vital(id: &str, code: &str, name: &str, date: &str, value: &str, unit: &str, ucum: &str) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "category": [status("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs")],
        "code": { "coding": [{ "system": LOINC, "code": code, "display": name }] },
        "subject": { "reference": "Patient/p1" }, "effectiveDateTime": date,
        "valueQuantity": { "value": num(value), "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum }
    })
}

fn bp(id: &str, date: &str, sys: u32, dia: u32) -> Value {
    let comp = |code: &str, name: &str, v: u32| {
        json!({ "code": { "coding": [{ "system": LOINC, "code": code, "display": name }] },
                "valueQuantity": { "value": v, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]" } })
    };
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "category": [status("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs")],
        "code": { "coding": [{ "system": LOINC, "code": "85354-9", "display": "Blood pressure panel" }] },
        "subject": { "reference": "Patient/p1" }, "effectiveDateTime": date,
        "component": [comp("8480-6", "Systolic blood pressure", sys), comp("8462-4", "Diastolic blood pressure", dia)]
    })
}

fn provenance(id: &str, facility: &str, targets: &[&str]) -> Value {
    json!({ "resourceType": "Provenance", "id": id, "recorded": "2025-05-31T10:00:00+09:00",
            "target": targets.iter().map(|t| json!({ "reference": t })).collect::<Vec<_>>(),
            "agent": [{ "who": { "display": facility } }] })
}

/// The person's records, each with the facility it came from.
fn records() -> Vec<(Value, Option<&'static str>)> {
    let h = Some(HOSPITAL);
    let c = Some(CLINIC);
    let e = Some(EYE);
    vec![
        (json!({
            "resourceType": "Patient", "id": "p1",
            "name": [
                { "extension": [{ "url": EN_REP, "valueCode": "IDE" }], "use": "official", "text": "山田 花子", "family": "山田", "given": ["花子"] },
                { "extension": [{ "url": EN_REP, "valueCode": "SYL" }], "use": "official", "text": "ヤマダ ハナコ", "family": "ヤマダ", "given": ["ハナコ"] }
            ],
            "gender": "female", "birthDate": "1958-04-12",
            "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">NARRATIVE-ONLY-TEXT</div>" }
        }), None),
        (allergy("a1", "1001", "ペニシリン系抗菌薬", "medication", "allergy", "high", "アナフィラキシー", "severe", "2010-05-10"), h),
        (allergy("a2", "2001", "えび", "food", "allergy", "low", "じんましん", "mild", "2018-02-01"), c),
        (allergy("a3", "1002", "ロキソプロフェン(NSAIDs)", "medication", "intolerance", "unable-to-assess", "喘息発作", "moderate", "2020-09-01"), c),
        ({
            let mut a = allergy("a4", "3001", "ラテックス", "environment", "allergy", "low", "発赤", "mild", "2015-01-01");
            a["verificationStatus"] = status("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "refuted");
            a
        }, h),
        (condition("c1", "B0EL", "2型糖尿病", "active", "2015-06-01", None), c),
        (condition("c2", "8833", "高血圧症", "active", "2012-03-15", None), c),
        (condition("c3", "KCPJ", "脂質異常症", "active", "2016-11-20", None), h),
        (condition("c4", "TPT2", "急性虫垂炎", "resolved", "1990-07-01", Some("1990-07-20")), h),
        (condition("c5", "ULLS", "白内障(右眼)", "resolved", "2020-10-01", Some("2021-02-10")), e),
        (medication("m-met", "3962002F1ZZZ", "メトホルミン塩酸塩錠250mg"), None),
        (medication("m-ros", "2189017F1ZZZ", "ロスバスタチン錠2.5mg"), None),
        (medication("m-vog", "3969003F1ZZZ", "ボグリボース錠0.2mg"), None),
        (request("mr1", "active", "m-met", "2024-09-01", json!({ "text": "1回1錠 1日2回 朝夕食後" })), c),
        (request("mr2", "active", "m-met", "2025-03-01", json!({ "text": "1回2錠 1日2回 朝夕食後" })), c),
        (json!({ "resourceType": "MedicationStatement", "id": "ms1", "status": "active",
                 "medicationCodeableConcept": { "text": "アムロジピン錠5mg" },
                 "subject": { "reference": "Patient/p1" }, "effectivePeriod": { "start": "2012-04-01" },
                 "dosage": [{ "text": "1日1回 朝食後" }] }), c),
        (request("mr3", "active", "m-ros", "2025-01-15", json!({
            "timing": { "code": { "text": "1日1回 夕食後" } },
            "doseAndRate": [{ "doseQuantity": { "value": 2.5, "unit": "mg" } }] })), h),
        (request("mr4", "stopped", "m-vog", "2019-05-01", json!({ "text": "1回1錠 1日3回 毎食直前" })), c),
        (lab("hba1c-1", "4548-4", "HbA1c", "2024-06-01", "6.6", "%", Some("4.6"), Some("6.2"), None), c),
        (lab("hba1c-2", "4548-4", "HbA1c", "2024-09-01", "6.8", "%", Some("4.6"), Some("6.2"), None), c),
        (lab("hba1c-3", "4548-4", "HbA1c", "2024-12-01", "7.0", "%", Some("4.6"), Some("6.2"), None), c),
        (lab("hba1c-4", "4548-4", "HbA1c", "2025-03-01", "7.4", "%", Some("4.6"), Some("6.2"), None), c),
        (lab("egfr-1", "33914-3", "eGFR", "2024-01-10", "72", "mL/min/1.73m2", Some("60"), None, None), h),
        (lab("egfr-2", "33914-3", "eGFR", "2024-07-10", "68", "mL/min/1.73m2", Some("60"), None, None), h),
        (lab("egfr-3", "33914-3", "eGFR", "2025-01-15", "65", "mL/min/1.73m2", Some("60"), None, None), h),
        (lab("egfr-4", "33914-3", "eGFR", "2025-05-20", "61", "mL/min/1.73m2", Some("60"), None, None), h),
        (lab("ldl-1", "13457-7", "LDLコレステロール", "2024-07-10", "165", "mg/dL", None, None, Some("H")), h),
        (lab("ldl-2", "13457-7", "LDLコレステロール", "2025-01-15", "150", "mg/dL", None, None, Some("H")), h),
        (lab("ldl-3", "13457-7", "LDLコレステロール", "2025-05-20", "142", "mg/dL", None, None, Some("H")), h),
        (lab("cre-1", "2160-0", "クレアチニン", "2025-01-15", "0.82", "mg/dL", Some("0.46"), Some("0.79"), None), h),
        (lab("cre-2", "2160-0", "クレアチニン", "2025-05-20", "0.83", "mg/dL", Some("0.46"), Some("0.79"), None), h),
        (bp("bp-1", "2025-01-10", 138, 86), c),
        (bp("bp-2", "2025-04-01", 142, 88), c),
        (vital("wt-1", "29463-7", "Body weight", "2025-04-01", "58.2", "kg", "kg"), c),
        (vital("spo2-1", "59408-5", "Oxygen saturation", "2025-04-01", "97", "%", "%"), c),
        (json!({ "resourceType": "Immunization", "id": "im1", "status": "completed",
                 "vaccineCode": { "text": "インフルエンザHAワクチン" }, "patient": { "reference": "Patient/p1" },
                 "occurrenceDateTime": "2024-11-01" }), c),
        (json!({ "resourceType": "Immunization", "id": "im2", "status": "completed",
                 "vaccineCode": { "text": "新型コロナワクチン" }, "patient": { "reference": "Patient/p1" },
                 "occurrenceDateTime": "2023-10-15", "protocolApplied": [{ "doseNumberPositiveInt": 7 }] }), h),
        (json!({ "resourceType": "Procedure", "id": "pr1", "status": "completed",
                 "code": { "text": "白内障手術(右眼)" }, "subject": { "reference": "Patient/p1" },
                 "performedDateTime": "2021-02-10" }), e),
    ]
}

fn type_id(r: &Value) -> String {
    format!("{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap())
}

/// The records as a `collection` (no fullUrls, `Type/id` references), with one Provenance per
/// facility.
fn collection() -> Value {
    let recs = records();
    let mut entries: Vec<Value> = recs.iter().map(|(r, _)| json!({ "resource": r })).collect();
    for (i, fac) in [HOSPITAL, CLINIC, EYE].into_iter().enumerate() {
        let targets: Vec<String> = recs.iter().filter(|(_, f)| *f == Some(fac)).map(|(r, _)| type_id(r)).collect();
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        entries.push(json!({ "resource": provenance(&format!("prov-{i}"), fac, &targets) }));
    }
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}

fn rewrite_refs(v: &mut Value, map: &std::collections::HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                match (k.as_str(), x.as_str().and_then(|s| map.get(s))) {
                    ("reference", Some(u)) => *x = json!(u),
                    _ => rewrite_refs(x, map),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, map)),
        _ => {}
    }
}

/// The same records as an IPS document: a Composition first, `urn:uuid:` fullUrls and
/// references, the lab results listed through a DiagnosticReport.
fn ips_document(withheld: bool) -> Value {
    let mut resources: Vec<Value> = collection()["entry"].as_array().unwrap().iter().map(|e| e["resource"].clone()).collect();
    let lab_ids = ["hba1c-1", "hba1c-2", "hba1c-3", "hba1c-4", "egfr-1", "egfr-2", "egfr-3", "egfr-4", "cre-1", "cre-2"];
    let results: Vec<Value> = lab_ids.iter().map(|id| json!({ "reference": format!("Observation/{id}") })).collect();
    resources.push(json!({ "resourceType": "DiagnosticReport", "id": "dr1", "status": "final", "code": { "text": "血液検査" }, "result": results }));
    let map: std::collections::HashMap<String, String> =
        resources.iter().enumerate().map(|(i, r)| (type_id(r), format!("urn:uuid:00000000-0000-4000-8000-{i:012}"))).collect();
    let refs = |ids: &[&str]| -> Vec<Value> {
        ids.iter()
            .map(|id| {
                let r = resources.iter().find(|r| r["id"] == json!(id)).unwrap();
                json!({ "reference": map[&type_id(r)] })
            })
            .collect()
    };
    let section = |code: &str, title: &str, ids: &[&str]| {
        json!({ "title": title, "code": { "coding": [{ "system": LOINC, "code": code }] }, "entry": refs(ids) })
    };
    let composition = json!({
        "resourceType": "Composition", "id": "comp", "status": "final",
        "type": { "coding": [{ "system": LOINC, "code": "60591-5" }] },
        "subject": { "reference": map["Patient/p1"] }, "date": "2025-06-01", "title": "Patient Summary",
        "section": [
            section("48765-2", "Allergies", &["a1", "a2", "a3", "a4"]),
            section("11450-4", "Problems", &["c1", "c2", "c3"]),
            section("10160-0", "Medications", &["mr1", "mr2", "ms1", "mr3", "mr4"]),
            section("30954-2", "Results", &["dr1", "ldl-1", "ldl-2", "ldl-3"]),
            section("8716-3", "Vital signs", &["bp-1", "bp-2", "wt-1", "spo2-1"]),
            section("11369-6", "Immunizations", &["im1", "im2"]),
            section("47519-4", "Procedures", &["pr1"]),
            section("11348-0", "Past illness", &["c4", "c5"]),
        ]
    });
    let mut entries = vec![json!({ "fullUrl": "urn:uuid:00000000-0000-4000-8000-ffffffffffff", "resource": composition })];
    for r in &resources {
        let mut r = r.clone();
        let url = map[&type_id(&r)].clone();
        rewrite_refs(&mut r, &map);
        entries.push(json!({ "fullUrl": url, "resource": r }));
    }
    let mut b = json!({ "resourceType": "Bundle", "type": "document", "entry": entries });
    if withheld {
        b["meta"] = json!({ "tag": [{ "system": "urn:techo:share", "code": "withheld" }] });
    }
    b
}

// ---------------------------------------------------------------------------------------------
// Helpers over the HTML.
// ---------------------------------------------------------------------------------------------

/// The `<tag …>…</tag>` (a `tr` or `li`) that contains `needle`; panics (without the page) if none.
fn row<'h>(html: &'h str, tag: &str, needle: &str) -> &'h str {
    let at = html.find(needle).unwrap_or_else(|| panic!("no row holds the expected text"));
    let start = html[..at].rfind(&format!("<{tag}")).expect("row start");
    let end = at + html[at..].find(&format!("</{tag}>")).expect("row end");
    &html[start..end]
}

fn pos(html: &str, needle: &str) -> usize {
    html.find(needle).unwrap_or_else(|| panic!("missing {needle:?}"))
}

/// The section between `<h2>heading</h2>` and the next `</section>`.
fn section_of<'h>(html: &'h str, heading: &str) -> &'h str {
    let start = pos(html, &format!("<h2>{heading}</h2>"));
    let end = start + html[start..].find("</section>").expect("section end");
    &html[start..end]
}

const ALLOWED_TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "div", "header", "h1", "h2", "p", "span", "section", "table", "thead", "tbody", "tr", "th",
    "td", "ul", "li", "svg", "polyline", "circle",
];
const ALLOWED_ATTRS: &[&str] = &[
    "lang", "charset", "http-equiv", "content", "name", "class", "role", "scope", "viewbox", "width", "height", "aria-hidden", "focusable", "fill",
    "stroke", "stroke-width", "stroke-linejoin", "stroke-linecap", "points", "cx", "cy", "r",
];

/// A small HTML check: every tag is one of ours with our attributes only (none `on…`, no
/// `href`/`src`), every attribute is double-quoted and holds no `<` nor `javascript:`,
/// elements nest and close properly (`meta` is void), text holds no raw `<` or `>`.
fn check_html(html: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    if let Some(rest) = html.strip_prefix("<!doctype html>") {
        i = html.len() - rest.len();
    }
    loop {
        let Some(off) = html[i..].find('<') else {
            if html[i..].contains('>') {
                return Err("a raw > in text".into());
            }
            break;
        };
        if html[i..i + off].contains('>') {
            return Err("a raw > in text".into());
        }
        let start = i + off;
        let end = start + html[start..].find('>').ok_or("a tag does not end")?;
        let inner = &html[start + 1..end];
        let (closing, inner) = match inner.strip_prefix('/') {
            Some(x) => (true, x),
            None => (false, inner),
        };
        let name_len = inner.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(inner.len());
        let name = inner[..name_len].to_ascii_lowercase();
        if !ALLOWED_TAGS.contains(&name.as_str()) {
            return Err(format!("tag <{name}> is not allowed"));
        }
        if closing {
            if name_len != inner.len() {
                return Err(format!("closing tag </{name}> has more in it"));
            }
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            i = end + 1;
            continue;
        }
        let mut attrs = &inner[name_len..];
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                break;
            }
            let eq = attrs.find('=').ok_or("an attribute without a value")?;
            let key = attrs[..eq].to_ascii_lowercase();
            if key.starts_with("on") || !ALLOWED_ATTRS.contains(&key.as_str()) {
                return Err(format!("attribute {key} is not allowed"));
            }
            let rest = attrs[eq + 1..].strip_prefix('"').ok_or("an unquoted attribute")?;
            let close = rest.find('"').ok_or("an attribute does not end")?;
            let value = rest[..close].to_ascii_lowercase();
            if value.contains('<') || value.contains("javascript:") {
                return Err(format!("attribute {key} holds markup or a script URL"));
            }
            attrs = &rest[close + 1..];
        }
        i = end + 1;
        if name == "meta" {
            continue;
        }
        if name == "style" {
            // Raw text up to its end tag; ours holds no markup.
            let close = html[i..].find("</style>").ok_or("style does not end")?;
            if html[i..i + close].contains('<') {
                return Err("markup inside a style".into());
            }
            i += close + "</style>".len();
            continue;
        }
        stack.push(name);
    }
    if stack.is_empty() { Ok(()) } else { Err(format!("unclosed {stack:?}")) }
}

/// What no output may ever contain.
fn assert_safe(html: &str) {
    if let Err(e) = check_html(html) {
        panic!("the HTML check failed: {e}");
    }
    let lower = html.to_ascii_lowercase();
    for bad in ["<script", "<img", "<iframe", "<object", "<embed", "<link", "<a ", "javascript:", "onerror=", "onload=", "onmouseover=", "href=", "src=", "url(", "@import"] {
        assert!(!lower.contains(bad), "the output contains {bad:?}");
    }
    assert_eq!(lower.matches("<style>").count(), lower.matches("</style>").count());
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn sections_come_in_clinical_order() {
    let html = summary_fragment(&collection(), &opts(Lang::En));
    assert_safe(&html);
    let order = [
        "<h1>For Dr. Sato</h1>",
        "<h2>Allergies and intolerances</h2>",
        "<h2>Active problems</h2>",
        "<h2>Current medications</h2>",
        "<h2>Recent results with trends</h2>",
        "<h2>Latest vital signs</h2>",
        "<h2>Immunizations</h2>",
        "<h2>Procedures</h2>",
        "<h2>Past problems</h2>",
        "<h2>Sources</h2>",
        "Made by Techo from the person&#39;s record; not a complete record.",
    ];
    let at: Vec<usize> = order.iter().map(|h| pos(&html, h)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "sections out of order: {at:?}");
    assert!(html.starts_with("<style>/*") && html.contains("*/\n.techo-summary{"));
    assert!(html[html.find("</style>").unwrap()..].starts_with("</style><div class=\"techo-summary\" lang=\"en\">"));
    assert!(html.ends_with("</div>"));
}

#[test]
fn japanese_page_has_japanese_headings_names_and_age() {
    let html = summary_fragment(&collection(), &opts(Lang::Ja));
    assert_safe(&html);
    let headings = ["アレルギー・不耐性", "現在の傷病名", "服用中の薬", "最近の検査結果と推移", "バイタルサイン(最新)", "予防接種", "処置・手術", "既往歴", "情報源"];
    let at: Vec<usize> = headings.iter().map(|h| pos(&html, &format!("<h2>{h}</h2>"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]));
    assert!(html.contains("lang=\"ja\""));
    assert!(html.contains("<span class=\"ts-name\">山田 花子</span><span class=\"ts-kana\">ヤマダ ハナコ</span>"));
    assert!(html.contains("1958-04-12(67歳)"));
    assert!(html.contains("女性"));
    assert!(html.contains("作成日</span>2025-06-01"));
    assert!(html.contains("Techo がご本人の記録から作成しました。"));
    assert!(!html.contains("Allergies"));
    // The default title when none is given.
    let html = summary_fragment(&collection(), &SummaryOptions { title: None, ..opts(Lang::Ja) });
    assert!(html.contains("<h1>健康情報サマリー</h1>"));
}

#[test]
fn age_is_computed_from_today() {
    let on = |today: &str| summary_fragment(&collection(), &SummaryOptions { today: today.into(), ..opts(Lang::En) });
    assert!(on("2025-04-11").contains("1958-04-12 (age 66)"));
    assert!(on("2025-04-12").contains("1958-04-12 (age 67)"));
    assert!(on("2030-01-01").contains("1958-04-12 (age 71)"));
    let bad = on("not a date");
    assert!(bad.contains("1958-04-12") && !bad.contains("(age"));
    assert!(on("2025-06-01").contains("Sex</span>female"));
}

#[test]
fn latest_results_trend_arrows_and_flags() {
    let html = summary_fragment(&collection(), &opts(Lang::En));
    let results = section_of(&html, "Recent results with trends");
    // HbA1c: latest 7.4 %, above 6.2 so H (computed from the range), rising, three before it.
    let hba1c = row(results, "tr", "HbA1c");
    assert!(hba1c.contains("7.4 %</span><span class=\"ts-flag\">H</span>"));
    assert!(hba1c.contains("2025-03-01") && hba1c.contains("4.6–6.2"));
    assert!(hba1c.contains("<span class=\"ts-arrow ts-up\">↑</span>"));
    assert!(hba1c.contains("7.0<span class=\"ts-flag\">H</span><span class=\"ts-d\">2024-12-01</span>"));
    assert!(hba1c.contains("6.6<span class=\"ts-flag\">H</span><span class=\"ts-d\">2024-06-01</span>"));
    assert_eq!(hba1c.matches("class=\"ts-prev\"").count(), 3);
    assert!(hba1c.contains("<svg class=\"ts-spark\""));
    assert_eq!(hba1c.matches(',').count(), 4, "four points in the sparkline (and nothing else in the row has a comma)");
    // eGFR: falling, still within its range (≥ 60): no flag.
    let egfr = row(results, "tr", "eGFR");
    assert!(egfr.contains("61 mL/min/1.73m2") && egfr.contains("≥ 60"));
    assert!(egfr.contains("↓") && !egfr.contains("ts-flag"));
    // LDL: H from the interpretation (no range given), falling.
    let ldl = row(results, "tr", "LDLコレステロール");
    assert!(ldl.contains("142 mg/dL</span><span class=\"ts-flag\">H</span>") && ldl.contains("↓"));
    // Creatinine: 0.82 → 0.83 is steady (under 2 %), above its range.
    let cre = row(results, "tr", "クレアチニン");
    assert!(cre.contains("0.83 mg/dL</span><span class=\"ts-flag\">H</span>") && cre.contains("→"));
    // The most recently measured first.
    assert!(pos(results, "eGFR") < pos(results, "HbA1c"));
    assert!(pos(results, "LDLコレステロール") < pos(results, "HbA1c"));
}

#[test]
fn results_are_capped_to_the_most_recently_measured_tests() {
    let n = MAX_RESULT_TESTS + 8;
    let mut entries: Vec<Value> = (0..n)
        .map(|i| json!({ "resource": lab(&format!("t{i}"), &format!("9{i:03}-0"), &format!("TEST{i:02}X"), &format!("2024-01-{:02}", i + 1), "1", "U", None, None, None) }))
        .collect();
    entries.reverse();
    let b = json!({ "resourceType": "Bundle", "type": "collection", "entry": entries });
    let html = summary_fragment(&b, &opts(Lang::En));
    assert_safe(&html);
    for i in 0..n {
        assert_eq!(html.contains(&format!("TEST{i:02}X")), i >= 8, "test {i}");
    }
    assert!(html.contains("8 more not shown"));
    let ja = summary_fragment(&b, &opts(Lang::Ja));
    assert!(ja.contains("ほか 8 件は省略しています"));
}

#[test]
fn each_row_names_its_facility_and_sources_list_them_all() {
    let html = summary_fragment(&collection(), &opts(Lang::En));
    let src = |f: &str| format!("<div class=\"ts-src\">{f}</div>");
    assert!(row(&html, "tr", "ペニシリン系抗菌薬").contains(&src(HOSPITAL)));
    assert!(row(&html, "tr", "えび").contains(&src(CLINIC)));
    assert!(row(&html, "tr", "脂質異常症").contains(&src(HOSPITAL)));
    assert!(row(&html, "tr", "2型糖尿病").contains(&src(CLINIC)));
    assert!(row(&html, "tr", "ロスバスタチン錠2.5mg").contains(&src(HOSPITAL)));
    assert!(row(&html, "tr", "HbA1c").contains(&src(CLINIC)));
    assert!(row(&html, "tr", "eGFR").contains(&src(HOSPITAL)));
    assert!(row(&html, "li", "白内障手術(右眼)").contains(&src(EYE)));
    assert!(row(&html, "li", "新型コロナワクチン").contains(&src(HOSPITAL)));
    let sources = section_of(&html, "Sources");
    for f in [HOSPITAL, CLINIC, EYE] {
        assert!(sources.contains(&format!("<li>{f}</li>")));
    }
    // Without Provenance: an Organization the record names stands in.
    let b = json!({ "resourceType": "Bundle", "type": "collection", "entry": [
        { "resource": { "resourceType": "Organization", "id": "o1", "name": "ひまわり病院" } },
        { "resource": condition("c9", "X", "気管支喘息", "active", "2001-01-01", None) },
        { "resource": { "resourceType": "MedicationRequest", "id": "r9", "status": "active", "medicationCodeableConcept": { "text": "吸入薬A" },
                        "requester": { "reference": "Organization/o1" } } }
    ]});
    let html = summary_fragment(&b, &opts(Lang::En));
    assert!(row(&html, "tr", "吸入薬A").contains(&src("ひまわり病院")));
    assert!(!row(&html, "tr", "気管支喘息").contains("ts-src"));
    assert!(section_of(&html, "Sources").contains("<li>ひまわり病院</li>"));
}

#[test]
fn withheld_notice_only_when_the_bundle_is_tagged() {
    let notice = "Some information was withheld at the person&#39;s request.";
    let with = summary_fragment(&ips_document(true), &opts(Lang::En));
    let without = summary_fragment(&ips_document(false), &opts(Lang::En));
    assert!(with.contains(notice) && !without.contains(notice));
    assert!(pos(&with, notice) < pos(&with, "<h2>"), "near the top");
    assert!(!without.contains("ts-withheld\""));
    let ja = summary_fragment(&ips_document(true), &opts(Lang::Ja));
    assert!(ja.contains("ご本人の希望により、一部の情報は共有されていません。"));
    // A tag with another code or system says nothing.
    let mut other = ips_document(false);
    other["meta"] = json!({ "tag": [{ "system": "urn:techo:share", "code": "other" }, { "system": "urn:x", "code": "withheld" }] });
    assert!(!summary_fragment(&other, &opts(Lang::En)).contains(notice));
    let mut coll = collection();
    coll["meta"] = json!({ "tag": [{ "system": "urn:techo:share", "code": "withheld" }] });
    assert!(summary_fragment(&coll, &opts(Lang::En)).contains(notice));
}

#[test]
fn ips_document_and_collection_render_the_same() {
    for lang in [Lang::En, Lang::Ja] {
        let a = summary_fragment(&collection(), &opts(lang));
        let b = summary_fragment(&ips_document(false), &opts(lang));
        assert_safe(&b);
        assert!(a == b, "the document's page differs from the collection's");
    }
}

#[test]
fn composition_sections_decide_membership() {
    // A document whose results section lists only LDL: the other labs are not shown, although
    // they are in the Bundle; a resource of the wrong type in a section is ignored.
    let mut doc = ips_document(false);
    let entries = doc["entry"].as_array_mut().unwrap();
    let sections = entries[0]["resource"]["section"].as_array_mut().unwrap();
    let ldl_only: Vec<Value> = sections[3]["entry"].as_array().unwrap()[1..].to_vec();
    sections[3]["entry"] = json!(ldl_only);
    let allergy_ref = sections[0]["entry"][0].clone();
    sections[1]["entry"].as_array_mut().unwrap().push(allergy_ref);
    let html = summary_fragment(&doc, &opts(Lang::En));
    let results = section_of(&html, "Recent results with trends");
    assert!(results.contains("LDLコレステロール") && !results.contains("HbA1c") && !results.contains("eGFR"));
    assert!(!section_of(&html, "Active problems").contains("ペニシリン"));
    // A document with no section Techo knows falls back to classifying its resources.
    let mut doc = ips_document(false);
    for s in doc["entry"][0]["resource"]["section"].as_array_mut().unwrap() {
        s["code"] = json!({ "coding": [{ "system": LOINC, "code": "00000-0" }] });
    }
    assert_eq!(summary_fragment(&doc, &opts(Lang::En)), summary_fragment(&collection(), &opts(Lang::En)));
}

#[test]
fn medication_references_resolve_and_repeats_merge() {
    let html = summary_fragment(&collection(), &opts(Lang::En));
    let meds = section_of(&html, "Current medications");
    // Two prescriptions of metformin: one row, the latest dose, since the first.
    assert_eq!(meds.matches("メトホルミン塩酸塩錠250mg").count(), 1);
    let met = row(meds, "tr", "メトホルミン塩酸塩錠250mg");
    assert!(met.contains("1回2錠 1日2回 朝夕食後") && met.contains("2024-09-01") && !met.contains("1回1錠"));
    let ros = row(meds, "tr", "ロスバスタチン錠2.5mg");
    assert!(ros.contains("2.5 mg 1日1回 夕食後") && ros.contains("2025-01-15"));
    assert!(row(meds, "tr", "アムロジピン錠5mg").contains("1日1回 朝食後"));
    // Stopped: not current.
    assert!(!meds.contains("ボグリボース"));
    // A statement whose period ended before today is not current either.
    let b = json!({ "resourceType": "MedicationStatement", "status": "active", "medicationCodeableConcept": { "text": "OLDMED" },
                    "effectivePeriod": { "start": "2020-01-01", "end": "2021-01-01" } });
    let html = summary_fragment(&b, &opts(Lang::En));
    assert!(!html.contains("OLDMED") && section_of(&html, "Current medications").contains("None in the shared records."));
    // A contained Medication.
    let b = json!({ "resourceType": "MedicationRequest", "status": "active", "contained": [{ "resourceType": "Medication", "id": "m", "code": { "text": "CONTAINEDMED" } }],
                    "medicationReference": { "reference": "#m" } });
    assert!(summary_fragment(&b, &opts(Lang::En)).contains("CONTAINEDMED"));
}

#[test]
fn resolved_problems_are_past_and_refuted_allergies_hidden() {
    let html = summary_fragment(&collection(), &opts(Lang::En));
    let active = section_of(&html, "Active problems");
    let past = section_of(&html, "Past problems");
    for p in ["2型糖尿病", "高血圧症", "脂質異常症"] {
        assert!(active.contains(p) && !past.contains(p));
    }
    assert!(row(active, "tr", "2型糖尿病").contains("2015-06-01"));
    assert!(past.contains("急性虫垂炎") && !active.contains("急性虫垂炎"));
    assert!(row(past, "li", "白内障(右眼)").contains("2020-10-01 – 2021-02-10"));
    assert!(!html.contains("ラテックス"));
}

#[test]
fn high_criticality_allergy_is_first_and_highlighted() {
    let html = summary_fragment(&collection(), &opts(Lang::En));
    let allergies = section_of(&html, "Allergies and intolerances");
    let pen = row(allergies, "tr", "ペニシリン系抗菌薬");
    assert!(pen.starts_with("<tr class=\"ts-crit-high\">"));
    assert!(pen.contains("Medication · allergy") && pen.contains("アナフィラキシー (severe)") && pen.contains(">High<"));
    assert!(pos(allergies, "ペニシリン系抗菌薬") < pos(allergies, "ロキソプロフェン") && pos(allergies, "ロキソプロフェン") < pos(allergies, "えび"));
    let nsaid = row(allergies, "tr", "ロキソプロフェン");
    assert!(nsaid.contains("Medication · intolerance") && nsaid.contains("喘息発作 (moderate)") && nsaid.contains("Unable to assess"));
    assert!(!row(allergies, "tr", "えび").contains("ts-crit-high"));
    let ja = summary_fragment(&collection(), &opts(Lang::Ja));
    let pen = row(&ja, "tr", "ペニシリン系抗菌薬");
    assert!(pen.contains("薬剤 · アレルギー") && pen.contains("アナフィラキシー(重度)") && pen.contains(">高<"));
}

#[test]
fn latest_vitals_show_blood_pressure_from_components() {
    let html = summary_fragment(&collection(), &opts(Lang::En));
    let vitals = section_of(&html, "Latest vital signs");
    let bp = row(vitals, "tr", "Blood pressure");
    assert!(bp.contains("142/88 mmHg") && bp.contains("2025-04-01") && !vitals.contains("138/86"));
    assert!(row(vitals, "tr", "Body weight").contains("58.2 kg"));
    assert!(row(vitals, "tr", "Oxygen saturation").contains("97 %"));
    assert!(pos(vitals, "Blood pressure") < pos(vitals, "Oxygen saturation") && pos(vitals, "Oxygen saturation") < pos(vitals, "Body weight"));
    let ja = summary_fragment(&collection(), &opts(Lang::Ja));
    assert!(row(&ja, "tr", "<td>血圧").contains("142/88 mmHg"));
}

#[test]
fn output_is_deterministic() {
    for lang in [Lang::En, Lang::Ja] {
        let a = summary_document(&collection(), &opts(lang));
        for _ in 0..3 {
            assert!(a == summary_document(&collection(), &opts(lang)));
        }
    }
}

#[test]
fn document_wraps_the_fragment_with_a_strict_csp() {
    let o = opts(Lang::Ja);
    let doc = summary_document(&collection(), &o);
    let frag = summary_fragment(&collection(), &o);
    assert_safe(&doc);
    assert!(doc.starts_with("<!doctype html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"));
    assert!(doc.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"));
    assert!(doc.contains("<title>For Dr. Sato</title>"));
    assert!(doc.contains("@page{size:A4"));
    // The page's head carries the style sheet; its body is the fragment without its <style>.
    let body = summary_body(&collection(), &o);
    assert!(doc.ends_with(&format!("<body>{body}</body></html>")));
    assert!(frag.starts_with("<style>") && frag.ends_with(&body), "the fragment = its style + the body");
    assert!(doc.contains(".techo-summary .ts-fact") && !body.contains("<style"));
}

#[test]
fn narrative_is_never_read() {
    let html = summary_document(&collection(), &opts(Lang::En));
    assert!(!html.contains("NARRATIVE-ONLY-TEXT"));
}

#[test]
fn single_resource_is_a_one_entry_collection() {
    let obs = lab("x", "4548-4", "HbA1c", "2025-03-01", "7.4", "%", Some("4.6"), Some("6.2"), None);
    let html = summary_fragment(&obs, &opts(Lang::En));
    assert_safe(&html);
    assert!(row(&html, "tr", "HbA1c").contains("7.4 %</span><span class=\"ts-flag\">H</span>"));
    assert!(html.contains("Name not recorded"));
    let pat = &records()[0].0;
    let html = summary_fragment(pat, &opts(Lang::En));
    assert!(html.contains("山田 花子") && html.contains("None in the shared records."));
}

#[test]
fn kana_in_a_second_name_without_extension() {
    let p = json!({ "resourceType": "Patient", "name": [
        { "use": "official", "family": "佐藤", "given": ["一郎"] },
        { "use": "official", "family": "サトウ", "given": ["イチロウ"] } ], "birthDate": "1970-01-31", "gender": "male" });
    let html = summary_fragment(&p, &opts(Lang::Ja));
    assert!(html.contains("<span class=\"ts-name\">佐藤 一郎</span><span class=\"ts-kana\">サトウ イチロウ</span>"));
    assert!(html.contains("1970-01-31(55歳)") && html.contains("男性"));
    // Kana first, kanji second: still kanji as the name.
    let p = json!({ "resourceType": "Patient", "name": [ { "text": "さとう いちろう" }, { "text": "佐藤 一郎" } ] });
    assert!(summary_fragment(&p, &opts(Lang::Ja)).contains("<span class=\"ts-name\">佐藤 一郎</span><span class=\"ts-kana\">さとう いちろう</span>"));
    // A Western name: given names first.
    let p = json!({ "resourceType": "Patient", "name": [ { "family": "Smith", "given": ["Jane"] } ] });
    assert!(summary_fragment(&p, &opts(Lang::En)).contains("<span class=\"ts-name\">Jane Smith</span></p>"));
}

const HOSTILE: [&str; 8] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "</style><script>alert(2)</script>",
    "]]><svg onload=alert(3)>",
    "' onmouseover='alert(4)",
    "<a href=\"javascript:alert(5)\">x</a>",
    "<!-- --><iframe src=//evil>",
];

fn hostile_bundle(h: &str) -> Value {
    let cc = json!({ "text": h, "coding": [{ "system": h, "code": h, "display": h }] });
    let q = json!({ "value": h, "unit": h, "code": h });
    json!({
        "resourceType": "Bundle", "type": "collection",
        "meta": { "tag": [{ "system": "urn:techo:share", "code": "withheld" }] },
        "entry": [
            { "fullUrl": h, "resource": { "resourceType": "Patient", "id": "p", "name": [{ "text": h }, { "family": h, "given": [h], "extension": [{ "url": EN_REP, "valueCode": "SYL" }] }],
                "birthDate": h, "gender": h, "text": { "div": h } } },
            { "resource": { "resourceType": "AllergyIntolerance", "id": "a", "code": cc, "category": [h], "type": h, "criticality": "high",
                "reaction": [{ "manifestation": [cc], "severity": h }], "recordedDate": h } },
            { "resource": { "resourceType": "Condition", "id": "c", "code": cc, "onsetDateTime": h, "onsetString": h } },
            { "resource": { "resourceType": "Condition", "id": "c2", "code": { "text": format!("{h}2") }, "clinicalStatus": "resolved", "onsetString": h, "abatementString": h } },
            { "resource": { "resourceType": "Medication", "id": "m", "code": cc } },
            { "resource": { "resourceType": "MedicationRequest", "id": "r", "status": "active", "medicationReference": { "reference": "Medication/m", "display": h },
                "authoredOn": h, "dosageInstruction": [{ "text": h }, { "doseAndRate": [{ "doseQuantity": q }], "timing": { "code": cc } }] } },
            { "resource": { "resourceType": "MedicationStatement", "id": "s", "status": "active", "medicationReference": { "reference": h, "display": h } } },
            { "resource": { "resourceType": "Observation", "id": "o1", "status": "final", "category": [{ "coding": [{ "code": "laboratory" }] }], "code": cc,
                "effectiveDateTime": "2025-01-01", "valueQuantity": q, "referenceRange": [{ "text": h, "low": q }], "interpretation": [cc] } },
            { "resource": { "resourceType": "Observation", "id": "o2", "status": "final", "category": [{ "coding": [{ "code": "laboratory" }] }], "code": cc,
                "effectiveDateTime": "2024-01-01", "valueQuantity": { "value": 5, "unit": h } } },
            { "resource": { "resourceType": "Observation", "id": "o3", "category": [{ "coding": [{ "code": "laboratory" }] }], "code": { "text": format!("{h}3") },
                "valueString": h, "effectiveDateTime": h } },
            { "resource": { "resourceType": "Observation", "id": "v", "category": [{ "coding": [{ "code": "vital-signs" }] }],
                "code": { "coding": [{ "system": LOINC, "code": "85354-9" }] },
                "component": [{ "code": { "coding": [{ "code": "8480-6" }] }, "valueQuantity": q }, { "code": { "coding": [{ "code": "8462-4" }] }, "valueQuantity": q }] } },
            { "resource": { "resourceType": "Observation", "id": "v2", "category": [{ "coding": [{ "code": "vital-signs" }] }], "code": cc, "valueCodeableConcept": cc } },
            { "resource": { "resourceType": "Immunization", "id": "i", "vaccineCode": cc, "occurrenceDateTime": h, "protocolApplied": [{ "doseNumberString": h }] } },
            { "resource": { "resourceType": "Procedure", "id": "pr", "code": cc, "performedDateTime": h } },
            { "resource": { "resourceType": "Organization", "id": "org", "name": h } },
            { "resource": { "resourceType": "Procedure", "id": "pr2", "code": { "text": "x" }, "performer": [{ "actor": { "reference": "Organization/org" } }] } },
            { "resource": { "resourceType": "Provenance", "target": [{ "reference": "Condition/c" }, { "reference": h }], "agent": [{ "who": { "display": h } }] } },
            { "resource": { "resourceType": "Provenance", "target": [{ "reference": "Observation/o1" }], "agent": [{ "who": { "reference": "Organization/org" } }] } }
        ]
    })
}

#[test]
fn hostile_bundle_is_escaped_everywhere() {
    for h in HOSTILE {
        let b = hostile_bundle(h);
        for lang in [Lang::En, Lang::Ja] {
            let o = SummaryOptions { lang, today: "2025-06-01".into(), title: Some(h.into()) };
            let frag = summary_fragment(&b, &o);
            let doc = summary_document(&b, &o);
            assert_safe(&frag);
            assert_safe(&doc);
            // The data is shown, as text: the title, and the facility under Sources.
            let mut e = String::new();
            escape_into(&mut e, h);
            assert!(frag.contains(&format!("<h1>{e}</h1>")) && frag.contains(&format!("<li>{e}</li>")));
            assert_eq!(frag.matches("<style>").count(), 1);
        }
    }
    let frag = summary_fragment(&hostile_bundle(HOSTILE[0]), &opts(Lang::En));
    assert!(frag.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(frag.contains("<div class=\"ts-src\">&lt;script&gt;"), "a hostile facility name is shown escaped");
}

#[test]
fn odd_input_never_panics() {
    let odd = [
        json!(null),
        json!([]),
        json!("Bundle"),
        json!(42),
        json!({}),
        json!({ "resourceType": 7 }),
        json!({ "resourceType": "Bundle", "entry": "nope" }),
        json!({ "resourceType": "Bundle", "entry": [null, 1, "x", [], { "resource": "x" }, { "resource": { "resourceType": null } }] }),
        json!({ "resourceType": "Bundle", "meta": { "tag": "withheld" }, "entry": [
            { "resource": { "resourceType": "Composition", "section": [{ "code": "11450-4", "entry": "x" }, { "code": { "coding": [{ "code": "11450-4" }] }, "entry": [{ "reference": 5 }, { "reference": "Condition/none" }] }] } },
            { "resource": { "resourceType": "Patient", "name": "Taro", "birthDate": 19580412, "gender": ["male"] } } ] }),
        json!({ "resourceType": "Bundle", "entry": [
            { "resource": { "resourceType": "Observation", "category": "laboratory", "code": { "coding": [{ "code": "1" }] }, "valueQuantity": { "value": "7.5", "unit": 3 },
                            "referenceRange": [{ "low": { "value": "x" }, "high": { "value": "6" } }], "interpretation": "H", "effectiveDateTime": 2024 } },
            { "resource": { "resourceType": "Observation", "code": { "coding": [{ "code": "2" }] }, "valueQuantity": { "value": "1e999" } } },
            { "resource": { "resourceType": "Observation", "code": { "coding": [{ "code": "3" }] }, "valueQuantity": { "value": -0.0 } } },
            { "resource": { "resourceType": "Observation", "code": "x", "valueInteger": "12" } },
            { "resource": { "resourceType": "Condition", "code": { "text": 5 }, "clinicalStatus": { "coding": "active" } } },
            { "resource": { "resourceType": "AllergyIntolerance", "reaction": "x" } },
            { "resource": { "resourceType": "MedicationRequest", "medicationReference": { "reference": "Medication/self" }, "dosageInstruction": [1, "x", null] } },
            { "resource": { "resourceType": "Provenance", "target": { "reference": "x" }, "agent": [{ "who": "x" }] } } ] }),
    ];
    for v in &odd {
        for lang in [Lang::En, Lang::Ja] {
            for today in ["2025-06-01", "", "9999-99-99", "2025-02-30"] {
                let o = SummaryOptions { lang, today: today.into(), title: None };
                assert_safe(&summary_fragment(v, &o));
                assert_safe(&summary_document(v, &o));
            }
        }
    }
    // A number as a string is read as a number: 7.5 is above 6.
    let html = summary_fragment(&odd[9], &opts(Lang::En));
    assert!(html.contains("7.5</span><span class=\"ts-flag\">H</span>"));
    // An Observation whose members include itself, and a deep chain of nested sections.
    let mut section = json!({ "code": { "coding": [{ "code": "30954-2" }] }, "entry": [{ "reference": "Observation/o" }] });
    for _ in 0..100 {
        section = json!({ "code": { "coding": [{ "code": "30954-2" }] }, "section": [section] });
    }
    let b = json!({ "resourceType": "Bundle", "entry": [
        { "resource": { "resourceType": "Composition", "section": [section] } },
        { "resource": { "resourceType": "Observation", "id": "o", "code": { "text": "LOOP" }, "valueInteger": 1, "hasMember": [{ "reference": "Observation/o" }] } } ] });
    assert_safe(&summary_fragment(&b, &opts(Lang::En)));
}

#[test]
fn hundred_thousand_resources_render_linearly_and_bounded() {
    let mut entries = Vec::with_capacity(100_001);
    let mut targets = Vec::with_capacity(50_000);
    for i in 0..50_000u32 {
        let (code, day) = (i % 500, i / 500);
        let date = format!("{}-{:02}-{:02}", 2000 + day / 12, day % 12 + 1, code % 28 + 1);
        targets.push(json!({ "reference": format!("Observation/o{i}") }));
        entries.push(json!({ "resource": {
            "resourceType": "Observation", "id": format!("o{i}"), "status": "final",
            "category": [{ "coding": [{ "code": "laboratory" }] }],
            "code": { "coding": [{ "system": LOINC, "code": format!("{code}-0"), "display": format!("Synthetic test {code}") }] },
            "effectiveDateTime": date, "valueQuantity": { "value": f64::from(i % 97) / 7.0, "unit": "U/L" },
            "referenceRange": [{ "low": { "value": 1 }, "high": { "value": 10 } }] } }));
    }
    for i in 0..20_000u32 {
        entries.push(json!({ "resource": condition(&format!("c{i}"), &format!("C{i}"), &format!("Synthetic problem {i}"), if i % 2 == 0 { "active" } else { "resolved" }, "2010-01-01", None) }));
    }
    for i in 0..20_000u32 {
        entries.push(json!({ "resource": { "resourceType": "MedicationStatement", "id": format!("s{i}"), "status": "active",
            "medicationCodeableConcept": { "coding": [{ "system": "urn:x", "code": format!("{}", i % 5_000), "display": format!("Synthetic drug {}", i % 5_000) }] },
            "effectiveDateTime": format!("2020-01-{:02}", i % 28 + 1) } }));
    }
    for i in 0..10_000u32 {
        entries.push(json!({ "resource": allergy(&format!("a{i}"), &format!("{i}"), &format!("Synthetic substance {i}"), "food", "allergy", "low", "rash", "mild", "2001-01-01") }));
    }
    entries.push(json!({ "resource": provenance("p", "Synthetic Hospital", &[]) }));
    entries.last_mut().unwrap()["resource"]["target"] = json!(targets);
    let b = json!({ "resourceType": "Bundle", "type": "collection", "entry": entries });
    let html = summary_document(&b, &opts(Lang::En));
    assert_safe(&html);
    assert!(html.len() < 1_000_000, "the page has {} bytes", html.len());
    assert!(html.contains(&format!("{} more not shown", 500 - MAX_RESULT_TESTS)));
    assert_eq!(section_of(&html, "Recent results with trends").matches("<tr>").count(), MAX_RESULT_TESTS + 1);
    assert!(section_of(&html, "Recent results with trends").contains("Synthetic Hospital"));
}

// ---------------------------------------------------------------------------------------------
// Arbitrary JSON
// ---------------------------------------------------------------------------------------------

const KEYS: &[&str] = &[
    "resourceType", "entry", "resource", "fullUrl", "reference", "id", "code", "coding", "system", "display", "text", "valueQuantity", "value", "unit",
    "valueString", "valueCodeableConcept", "valueInteger", "effectiveDateTime", "effectivePeriod", "start", "end", "category", "status", "clinicalStatus",
    "verificationStatus", "section", "name", "given", "family", "use", "extension", "valueCode", "url", "birthDate", "gender", "target", "agent", "who",
    "meta", "tag", "component", "referenceRange", "low", "high", "interpretation", "medicationReference", "medicationCodeableConcept", "dosage",
    "dosageInstruction", "doseAndRate", "doseQuantity", "reaction", "manifestation", "severity", "criticality", "type", "hasMember", "result",
    "contained", "subject", "onsetDateTime", "abatementDateTime", "authoredOn", "vaccineCode", "occurrenceDateTime", "performedDateTime",
    "protocolApplied", "doseNumberPositiveInt", "requester", "performer", "actor",
];
const STRINGS: &[&str] = &[
    "Bundle", "Composition", "Patient", "Observation", "Condition", "AllergyIntolerance", "MedicationRequest", "MedicationStatement", "Medication",
    "Provenance", "Immunization", "Procedure", "DiagnosticReport", "Organization", "http://loinc.org", "4548-4", "8716-3", "30954-2", "48765-2",
    "11450-4", "10160-0", "11369-6", "47519-4", "11348-0", "laboratory", "vital-signs", "85354-9", "8480-6", "8462-4", "active", "resolved",
    "stopped", "high", "H", "L", "N", "IDE", "SYL", "official", "urn:techo:share", "withheld", "Patient/1", "Observation/1", "Medication/1",
    "Organization/1", "#1", "urn:uuid:1", "1", "2024-05-01", "2025-06-01T09:00:00+09:00", "7.5", "山田 花子", "ヤマダ",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "</style>", "]]>",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop::sample::select(STRINGS).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// A Bundle of resources of known types with arbitrary fields.
fn any_bundle() -> impl Strategy<Value = Value> {
    let resource = (prop::sample::select(&STRINGS[..14]), prop::collection::vec((prop::sample::select(KEYS), any_json()), 0..10)).prop_map(|(t, kv)| {
        let mut o: Map<String, Value> = kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        o.insert("resourceType".into(), json!(t));
        json!({ "fullUrl": "urn:uuid:1", "resource": o })
    });
    (prop::collection::vec(resource, 0..12), any::<bool>()).prop_map(|(entries, tagged)| {
        let mut b = json!({ "resourceType": "Bundle", "entry": entries });
        if tagged {
            b["meta"] = json!({ "tag": [{ "system": "urn:techo:share", "code": "withheld" }] });
        }
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_renders_safe_and_balanced(v in any_json(), ja in any::<bool>()) {
        let o = SummaryOptions { lang: if ja { Lang::Ja } else { Lang::En }, today: "2025-06-01".into(), title: None };
        assert_safe(&summary_document(&v, &o));
    }

    #[test]
    fn arbitrary_bundles_render_safe_and_balanced(b in any_bundle(), ja in any::<bool>()) {
        let o = SummaryOptions { lang: if ja { Lang::Ja } else { Lang::En }, today: "2025-06-01".into(), title: Some("t".into()) };
        let frag = summary_fragment(&b, &o);
        assert_safe(&frag);
        prop_assert_eq!(frag.contains("class=\"ts-withheld\""), b.get("meta").is_some());
        prop_assert!(frag.len() < 1_000_000);
    }
}
