//! Sensitive categories of a FHIR resource from its codes: [`classify`].
//!
//! Table-driven; a resource can fall in several categories, and when in doubt the classifier
//! errs towards a category (a category only ever narrows provider sharing). Sources:
//!
//! 1. **Security labels** — `meta.security` codings with system v3-ActCode (or its OID, or no
//!    system) and a code of [`SECURITY_LABELS`].
//! 2. **ICD-10 codes** — by code prefix, table [`ICD10_RANGES`]. In a `Condition`, every
//!    coding of `code` whose code looks like ICD-10 (a letter, two digits, optional
//!    `.`/suffix: `F32`, `F32.9`, `F329`) counts, whatever the system (JP Core uses several
//!    Japanese ICD-10 / MEDIS systems). Elsewhere (`reasonCode`, `code`,
//!    `valueCodeableConcept`, `conclusionCode`) only codings whose system mentions ICD-10
//!    (`icd-10`, `icd10`) count.
//! 3. **SNOMED CT** — a few common concepts, table [`SNOMED`] (system `http://snomed.info/sct`).
//! 4. **Genetics** — any `MolecularSequence`; an `Observation` or `DiagnosticReport` with a
//!    category coded `genetics` (any system) or v2-0074 `GE`; or a LOINC code of
//!    [`GENETIC_LOINC`].

use std::collections::BTreeSet;

use serde_json::Value;

use crate::model::Category;

/// v3-ActCode sensitivity codes in `meta.security` and their categories. `SEX` (sexuality and
/// reproductive health) maps to both SexualHealth and Reproductive.
pub const SECURITY_LABELS: &[(&str, &[Category])] = &[
    ("PSY", &[Category::MentalHealth]),
    ("PSYTHPN", &[Category::MentalHealth]),
    ("BH", &[Category::MentalHealth]),
    ("ETH", &[Category::SubstanceUse]),
    ("ETHUD", &[Category::SubstanceUse]),
    ("OPIOIDUD", &[Category::SubstanceUse]),
    ("STD", &[Category::SexualHealth]),
    ("HIV", &[Category::SexualHealth]),
    ("SEX", &[Category::SexualHealth, Category::Reproductive]),
    ("GDIS", &[Category::Genetics]),
];

/// ICD-10 three-character ranges (letter, first, last inclusive) and their category.
/// F10–F19 come before F00–F99 so that substance use is not also counted as mental health.
pub const ICD10_RANGES: &[(char, u8, u8, Category)] = &[
    ('F', 10, 19, Category::SubstanceUse),
    ('F', 0, 9, Category::MentalHealth),
    ('F', 20, 99, Category::MentalHealth),
    ('A', 50, 64, Category::SexualHealth),
    ('B', 20, 24, Category::SexualHealth),
    ('Z', 21, 21, Category::SexualHealth),
    ('O', 0, 8, Category::Reproductive),
    ('Z', 30, 33, Category::Reproductive),
    ('Q', 90, 99, Category::Genetics),
];

/// A few common SNOMED CT concepts.
pub const SNOMED: &[(&str, Category)] = &[
    ("35489007", Category::MentalHealth),  // Depressive disorder
    ("58214004", Category::MentalHealth),  // Schizophrenia
    ("13746004", Category::MentalHealth),  // Bipolar disorder
    ("197480006", Category::MentalHealth), // Anxiety disorder
    ("66590003", Category::SubstanceUse),  // Alcohol dependence
    ("7200002", Category::SubstanceUse),   // Alcoholism
    ("86406008", Category::SexualHealth),  // Human immunodeficiency virus infection
    ("8098009", Category::SexualHealth),   // Sexually transmitted infectious disease
    ("77386006", Category::Reproductive),  // Pregnancy
];

/// LOINC codes of genetic tests.
pub const GENETIC_LOINC: &[&str] = &[
    "51969-4", // Genetic analysis report
    "55233-1", // Genetic analysis master panel
    "81247-9", // Master HL7 genetic variant reporting panel
    "69548-6", // Genetic variant assessment
    "48018-6", // Gene studied [ID]
    "81252-9", // Discrete genetic variant
    "53037-8", // Genetic variation clinical significance [Imp]
    "48004-6", // DNA change (c.HGVS)
    "48005-3", // Amino acid change (p.HGVS)
];

const SNOMED_SYSTEM: &str = "http://snomed.info/sct";
const LOINC_SYSTEM: &str = "http://loinc.org";

fn codings(concept: &Value) -> impl Iterator<Item = &Value> {
    concept.get("coding").and_then(Value::as_array).into_iter().flatten()
}

/// The concepts of a field that is a CodeableConcept or an array of them.
fn concepts<'a>(resource: &'a Value, field: &str) -> Vec<&'a Value> {
    match resource.get(field) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

fn str_field<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str)
}

/// The ICD-10 category of a code, if any: a letter and two digits, then optionally `.`
/// and more letters/digits (or `-`, `+`, `*`, `†`).
pub fn icd10_category(code: &str) -> Option<Category> {
    let code = code.trim();
    let mut chars = code.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let d1 = chars.next()?.to_digit(10)?;
    let d2 = chars.next()?.to_digit(10)?;
    if !letter.is_ascii_uppercase() || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '*' | '†')) {
        return None;
    }
    let n = u8::try_from(d1 * 10 + d2).ok()?;
    ICD10_RANGES.iter().find(|(l, lo, hi, _)| *l == letter && (*lo..=*hi).contains(&n)).map(|(_, _, _, c)| *c)
}

fn is_icd10_system(system: &str) -> bool {
    let s = system.to_ascii_lowercase();
    s.contains("icd-10") || s.contains("icd10")
}

fn is_v3_act_code(system: Option<&str>) -> bool {
    matches!(
        system,
        None | Some("http://terminology.hl7.org/CodeSystem/v3-ActCode") | Some("urn:oid:2.16.840.1.113883.5.4") | Some("http://hl7.org/fhir/v3/ActCode")
    )
}

/// The sensitive categories of a FHIR resource (see the module docs). Never fails: anything
/// it cannot read is ignored.
pub fn classify(resource: &Value) -> BTreeSet<Category> {
    let mut out = BTreeSet::new();
    let rtype = str_field(resource, "resourceType").unwrap_or("");

    // 1. Security labels.
    if let Some(labels) = resource.get("meta").and_then(|m| m.get("security")).and_then(Value::as_array) {
        for label in labels {
            if !is_v3_act_code(str_field(label, "system")) {
                continue;
            }
            let Some(code) = str_field(label, "code") else { continue };
            if let Some((_, cats)) = SECURITY_LABELS.iter().find(|(c, _)| c.eq_ignore_ascii_case(code.trim())) {
                out.extend(cats.iter().copied());
            }
        }
    }

    // 2 and 3. Clinical codes.
    for field in ["code", "reasonCode", "valueCodeableConcept", "conclusionCode"] {
        for concept in concepts(resource, field) {
            for coding in codings(concept) {
                let Some(code) = str_field(coding, "code") else { continue };
                let system = str_field(coding, "system").unwrap_or("");
                if system == SNOMED_SYSTEM {
                    if let Some((_, c)) = SNOMED.iter().find(|(s, _)| *s == code.trim()) {
                        out.insert(*c);
                    }
                } else if (rtype == "Condition" && field == "code") || is_icd10_system(system) {
                    if let Some(c) = icd10_category(code) {
                        out.insert(c);
                    }
                }
                if system == LOINC_SYSTEM && GENETIC_LOINC.contains(&code.trim()) {
                    out.insert(Category::Genetics);
                }
            }
        }
    }

    // 4. Genetics by resource type and category.
    if rtype == "MolecularSequence" {
        out.insert(Category::Genetics);
    }
    if rtype == "Observation" || rtype == "DiagnosticReport" {
        let genetic_category = concepts(resource, "category").into_iter().flat_map(codings).any(|coding| {
            let code = str_field(coding, "code").unwrap_or("").trim();
            let system = str_field(coding, "system").unwrap_or("");
            code.eq_ignore_ascii_case("genetics") || (code == "GE" && system.ends_with("v2-0074"))
        });
        if genetic_category {
            out.insert(Category::Genetics);
        }
    }
    out
}
