//! Lab results: the person's laboratory Observations (category `laboratory`) with their values,
//! units, reference ranges and flags read from the stored FHIR, and the tests they hold (for a
//! trend per test). Read-only views over the store; viewing by the vault's keeper is not a
//! disclosure.

use crate::error::Result;
use crate::store::{ResourceRow, TimelineQuery};
use crate::vault::Vault;
use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The code system of Observation categories.
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const LOINC: &str = "http://loinc.org";
/// JLAC10 (Japan's laboratory test codes).
const JLAC10: &str = "urn:oid:1.2.392.200119.4.504";
/// At most this many lab results are read to list the tests.
const MAX_READ: usize = 100_000;

/// What one lab Observation says.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LabValue {
    /// The test's name (`code.text`, else a coding's display).
    pub test: Option<String>,
    /// The test's code, `(system, code)`: LOINC, else JLAC10, else the first coding, so that
    /// the same test from several facilities (each with its own local codes) is one test.
    pub code: Option<(String, String)>,
    /// `valueQuantity.value`.
    pub value: Option<f64>,
    /// A value that is not a quantity (`valueString`, a coded value's text).
    pub value_text: Option<String>,
    /// `valueQuantity.unit` (else its `code`).
    pub unit: Option<String>,
    /// The first reference range's bounds and text.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub range_text: Option<String>,
    /// The interpretation's code (`H`, `L`, `HH`, `LL`, `A` …); without one, `H`/`L` when the
    /// value lies outside the reference range.
    pub flag: Option<String>,
}

/// One test among a person's lab results.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LabTest {
    pub system: String,
    pub code: String,
    pub display: String,
    pub unit: Option<String>,
    /// How many results, how many with a number (can be charted).
    pub count: u64,
    pub numeric: u64,
}

fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn text_of(cc: &Value) -> Option<String> {
    if let Some(t) = cc.get("text").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) {
        return Some(t.to_owned());
    }
    cc.get("coding")?.as_array()?.iter().find_map(|c| c.get("display")?.as_str().map(str::to_owned))
}

/// The test's preferred code: LOINC, else JLAC10, else the first coding with a system and code.
fn preferred_code(cc: &Value) -> Option<(String, String)> {
    let codings: Vec<(String, String)> = cc
        .get("coding")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|c| Some((c.get("system")?.as_str()?.to_owned(), c.get("code")?.as_str()?.to_owned())))
        .filter(|(s, c)| !s.is_empty() && !c.is_empty())
        .collect();
    [LOINC, JLAC10]
        .iter()
        .find_map(|sys| codings.iter().find(|(s, _)| s == sys).cloned())
        .or_else(|| codings.first().cloned())
}

/// Reads a lab Observation's test, value, unit, reference range and flag.
pub fn lab_value(resource: &Value) -> LabValue {
    let code = resource.get("code");
    let q = resource.get("valueQuantity");
    let value = number(q.and_then(|q| q.get("value")));
    let unit = q.and_then(|q| q.get("unit").or_else(|| q.get("code"))).and_then(Value::as_str).map(str::to_owned);
    let value_text = if value.is_some() {
        None
    } else {
        resource
            .get("valueString")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| resource.get("valueCodeableConcept").and_then(text_of))
    };
    let range = resource.get("referenceRange").and_then(|r| r.as_array()?.first());
    let low = number(range.and_then(|r| r.get("low")?.get("value")));
    let high = number(range.and_then(|r| r.get("high")?.get("value")));
    let range_text = range.and_then(|r| r.get("text")?.as_str().map(str::to_owned));
    let interpreted = resource.get("interpretation").and_then(|i| i.as_array()?.first()).and_then(|cc| {
        cc.get("coding")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find_map(|c| c.get("code")?.as_str().map(str::to_owned)))
            .or_else(|| cc.get("text")?.as_str().map(str::to_owned))
    });
    let flag = interpreted.filter(|f| f != "N").or_else(|| match (value, low, high) {
        (Some(v), _, Some(h)) if v > h => Some("H".to_owned()),
        (Some(v), Some(l), _) if v < l => Some("L".to_owned()),
        _ => None,
    });
    LabValue { test: code.and_then(text_of), code: code.and_then(preferred_code), value, value_text, unit, low, high, range_text, flag }
}

impl Vault {
    /// A page of the person's lab results (Observations of category `laboratory`, or of the
    /// test `q.code` when given), newest first, with what each says. `q.types` is ignored.
    pub fn lab_results(&self, q: &TimelineQuery) -> Result<Vec<(ResourceRow, LabValue)>> {
        let mut q = q.clone();
        q.types = vec!["Observation".into()];
        if q.code.is_none() {
            q.code = Some((OBSERVATION_CATEGORY.into(), "laboratory".into()));
        }
        let rows = self.timeline(&q)?;
        let mut stmt = self.conn.prepare_cached("SELECT resource FROM records WHERE id = ?1")?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let packed: Option<Vec<u8>> = stmt.query_row([row.record_id], |r| r.get(0)).optional()?;
            let value = match packed {
                Some(p) => serde_json::from_str::<Value>(&crate::unpack(&p)?).map(|j| lab_value(&j)).unwrap_or_default(),
                None => LabValue::default(),
            };
            out.push((row, value));
        }
        Ok(out)
    }

    /// The tests among the person's lab results, by name.
    pub fn lab_tests(&self, person: i64) -> Result<Vec<LabTest>> {
        self.person(person)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.resource FROM records r WHERE r.person_id = ?1 AND r.rtype = 'Observation' AND r.id IN
               (SELECT record_id FROM record_codes WHERE code_key = ?2 AND code = 'laboratory' AND system = ?3)
             ORDER BY r.clinical_date DESC LIMIT ?4",
        )?;
        let mut rows = stmt.query(rusqlite::params![person, crate::key64(&["laboratory"]), OBSERVATION_CATEGORY, MAX_READ as i64])?;
        let mut tests: BTreeMap<(String, String), LabTest> = BTreeMap::new();
        while let Some(r) = rows.next()? {
            let Ok(json) = serde_json::from_str::<Value>(&crate::unpack(&r.get::<_, Vec<u8>>(0)?)?) else { continue };
            let v = lab_value(&json);
            let Some((system, code)) = v.code.clone() else { continue };
            let t = tests.entry((system.clone(), code.clone())).or_insert_with(|| LabTest {
                display: v.test.clone().unwrap_or_else(|| code.clone()),
                system,
                code,
                unit: v.unit.clone(),
                count: 0,
                numeric: 0,
            });
            t.count += 1;
            t.numeric += u64::from(v.value.is_some());
        }
        let mut out: Vec<LabTest> = tests.into_values().collect();
        out.sort_by(|a, b| a.display.cmp(&b.display).then_with(|| a.code.cmp(&b.code)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lab(value: Value, interpretation: Option<&str>) -> Value {
        let mut o = json!({
            "resourceType": "Observation",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}],
            "code": {"coding": [
                {"system": "urn:oid:1.2.392.200119.6.102.11234567890", "code": "0620", "display": "HbA1c(NGSP)"},
                {"system": JLAC10, "code": "3D046000001906202"},
                {"system": LOINC, "code": "4548-4", "display": "Hemoglobin A1c"}
            ], "text": "HbA1c(NGSP)"},
            "referenceRange": [{"low": {"value": 4.9}, "high": {"value": 6.0}, "text": "4.9-6.0 %"}]
        });
        o["valueQuantity"] = value;
        if let Some(i) = interpretation {
            o["interpretation"] = json!([{"coding": [{"code": i}]}]);
        }
        o
    }

    #[test]
    fn a_lab_result_reads_value_unit_range_and_flag() {
        let v = lab_value(&lab(json!({"value": 7.2, "unit": "%"}), Some("H")));
        assert_eq!(v.test.as_deref(), Some("HbA1c(NGSP)"));
        assert_eq!(v.code, Some((LOINC.into(), "4548-4".into())), "LOINC first, not the facility's local code");
        assert_eq!((v.value, v.unit.as_deref()), (Some(7.2), Some("%")));
        assert_eq!((v.low, v.high, v.range_text.as_deref()), (Some(4.9), Some(6.0), Some("4.9-6.0 %")));
        assert_eq!(v.flag.as_deref(), Some("H"));
        // No interpretation: the flag comes from the range; inside it, none.
        assert_eq!(lab_value(&lab(json!({"value": 4.1}), None)).flag.as_deref(), Some("L"));
        assert_eq!(lab_value(&lab(json!({"value": 6.4}), None)).flag.as_deref(), Some("H"));
        assert_eq!(lab_value(&lab(json!({"value": 5.5}), Some("N"))).flag, None);
        // Not a number: no value, and the text when there is one.
        let mut s = lab(Value::Null, None);
        s.as_object_mut().unwrap().remove("valueQuantity");
        s["valueString"] = json!("陰性");
        let v = lab_value(&s);
        assert_eq!((v.value, v.value_text.as_deref(), v.flag), (None, Some("陰性"), None));
        // Only a local code: that one.
        let v = lab_value(&json!({"code": {"coding": [{"system": "urn:x", "code": "1", "display": "Na"}]}}));
        assert_eq!((v.code, v.test.as_deref()), (Some(("urn:x".into(), "1".into())), Some("Na")));
    }

    /// Through the vault: lab results page by the category (vital signs are not labs), by one
    /// test, and by the kind of source; the tests list counts per test.
    #[test]
    fn lab_results_and_tests_from_a_vault() {
        use crate::{ImportOptions, TimelineQuery};
        let tmp = tempfile::tempdir().unwrap();
        let (mut v, _) = Vault::create(&tmp.path().join("vault"), &secrecy::SecretString::from("correct horse battery"), None).unwrap();
        let mut entries = vec![json!({"resourceType": "Patient", "id": "p"})];
        for (i, x) in [5.4, 6.8, 4.5].iter().enumerate() {
            let mut o = lab(json!({"value": x, "unit": "%"}), None);
            o["id"] = json!(format!("l{i}"));
            o["effectiveDateTime"] = json!(format!("2024-0{}-01", i + 1));
            entries.push(o);
        }
        entries.push(json!({"resourceType": "Observation", "id": "bp", "effectiveDateTime": "2024-05-01",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": "8867-4"}], "text": "脈拍"}, "valueQuantity": {"value": 70}}));
        let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": entries.into_iter().map(|r| json!({"resource": r})).collect::<Vec<_>>()});
        let file = tmp.path().join("b.json");
        std::fs::write(&file, bundle.to_string()).unwrap();
        v.import_file(&file, &ImportOptions { person: None, source_name: Some("Sakura Hospital".into()) }, &mut |_| {}).unwrap();
        let person = v.persons().unwrap()[0].id;
        let q = TimelineQuery { person, limit: 10, ..Default::default() };
        let all = v.lab_results(&q).unwrap();
        assert_eq!(all.iter().map(|(_, l)| l.value.unwrap()).collect::<Vec<_>>(), [4.5, 6.8, 5.4], "labs only, newest first");
        assert_eq!(all[1].1.flag.as_deref(), Some("H"));
        let one = v.lab_results(&TimelineQuery { code: Some((LOINC.into(), "4548-4".into())), limit: 2, ..q.clone() }).unwrap();
        assert_eq!(one.len(), 2, "paged");
        let tests = v.lab_tests(person).unwrap();
        assert_eq!(tests.len(), 1);
        assert_eq!((tests[0].code.as_str(), tests[0].display.as_str(), tests[0].count, tests[0].numeric), ("4548-4", "HbA1c(NGSP)", 3, 3));
        // The kind of source: a file import is `file`, not `home`.
        assert_eq!(v.timeline(&TimelineQuery { source_kind: Some("file".into()), ..q.clone() }).unwrap().len(), 5);
        assert!(v.timeline(&TimelineQuery { source_kind: Some("home".into()), ..q.clone() }).unwrap().is_empty());
    }
}
