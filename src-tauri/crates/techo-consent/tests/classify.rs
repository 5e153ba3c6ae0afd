//! classify(): table-driven.

use std::collections::BTreeSet;

use rstest::rstest;
use serde_json::{json, Value};
use techo_consent::classify;
use techo_consent::classify::icd10_category;
use techo_consent::Category::{self, Genetics, MentalHealth, Reproductive, SexualHealth, SubstanceUse};

fn condition(system: &str, code: &str) -> Value {
    json!({"resourceType": "Condition", "code": {"coding": [{"system": system, "code": code}]}})
}

const ICD: &str = "http://hl7.org/fhir/sid/icd-10";
const MEDIS_ICD: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full";

#[rstest]
#[case::depression(condition(ICD, "F32.1"), &[MentalHealth])]
#[case::dementia_f00(condition(ICD, "F00"), &[MentalHealth])]
#[case::f09(condition(ICD, "F09"), &[MentalHealth])]
#[case::schizophrenia_jp_system_no_dot(condition(MEDIS_ICD, "F209"), &[MentalHealth])]
#[case::alcohol(condition(ICD, "F10.2"), &[SubstanceUse])]
#[case::f19(condition(ICD, "F19"), &[SubstanceUse])]
#[case::f20_is_mental(condition(ICD, "F20"), &[MentalHealth])]
#[case::syphilis(condition(ICD, "A51.0"), &[SexualHealth])]
#[case::a64(condition(ICD, "A64"), &[SexualHealth])]
#[case::a65_not(condition(ICD, "A65"), &[])]
#[case::hiv(condition(ICD, "B20"), &[SexualHealth])]
#[case::hiv_b24(condition(ICD, "B24"), &[SexualHealth])]
#[case::b25_not(condition(ICD, "B25"), &[])]
#[case::asymptomatic_hiv(condition(ICD, "Z21"), &[SexualHealth])]
#[case::ectopic(condition(ICD, "O00.1"), &[Reproductive])]
#[case::o09_not(condition(ICD, "O09"), &[])]
#[case::contraception(condition(ICD, "Z30.0"), &[Reproductive])]
#[case::pregnant_state(condition(ICD, "Z33"), &[Reproductive])]
#[case::down_syndrome(condition(ICD, "Q90.9"), &[Genetics])]
#[case::hypertension(condition(ICD, "I10"), &[])]
#[case::lowercase(condition(ICD, "f32"), &[MentalHealth])]
#[case::medis_disease_code_not_icd(condition("http://medis.or.jp/CodeSystem/master-disease-keyNumber", "20054271"), &[])]
#[case::snomed_depression(condition("http://snomed.info/sct", "35489007"), &[MentalHealth])]
#[case::snomed_hiv(condition("http://snomed.info/sct", "86406008"), &[SexualHealth])]
#[case::snomed_unknown(condition("http://snomed.info/sct", "38341003"), &[])]
#[case::icd_in_encounter_reason(json!({"resourceType": "Encounter", "reasonCode": [{"coding": [{"system": ICD, "code": "F41.1"}]}]}), &[MentalHealth])]
#[case::icd_lookalike_outside_condition_without_icd_system(json!({"resourceType": "Observation", "code": {"coding": [{"system": "urn:local", "code": "F41"}]}}), &[])]
#[case::security_psy(json!({"resourceType": "Observation", "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]}}), &[MentalHealth])]
#[case::security_eth(json!({"resourceType": "Observation", "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "ETH"}]}}), &[SubstanceUse])]
#[case::security_hiv_and_gdis(json!({"resourceType": "DocumentReference", "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIV"}, {"code": "GDIS"}]}}), &[SexualHealth, Genetics])]
#[case::security_sex(json!({"resourceType": "Observation", "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "SEX"}]}}), &[SexualHealth, Reproductive])]
#[case::security_confidentiality_ignored(json!({"resourceType": "Observation", "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]}}), &[])]
#[case::security_other_system_ignored(json!({"resourceType": "Observation", "meta": {"security": [{"system": "urn:other", "code": "PSY"}]}}), &[])]
#[case::molecular_sequence(json!({"resourceType": "MolecularSequence", "type": "dna"}), &[Genetics])]
#[case::observation_genetics_category(json!({"resourceType": "Observation", "category": [{"coding": [{"system": "http://example.org", "code": "genetics"}]}]}), &[Genetics])]
#[case::report_ge_category(json!({"resourceType": "DiagnosticReport", "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "GE"}]}]}), &[Genetics])]
#[case::genetic_loinc(json!({"resourceType": "Observation", "code": {"coding": [{"system": "http://loinc.org", "code": "81247-9"}]}}), &[Genetics])]
#[case::vital_sign(json!({"resourceType": "Observation", "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}], "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}}), &[])]
#[case::several(json!({"resourceType": "Condition", "code": {"coding": [{"system": ICD, "code": "F10.2"}, {"system": "http://snomed.info/sct", "code": "35489007"}]}}), &[SubstanceUse, MentalHealth])]
#[case::garbage(json!({"resourceType": 5, "code": "F32", "meta": {"security": "PSY"}}), &[])]
#[case::not_an_object(json!([1, 2, 3]), &[])]
fn classify_table(#[case] resource: Value, #[case] expected: &[Category]) {
    let expected: BTreeSet<Category> = expected.iter().copied().collect();
    assert_eq!(classify(&resource), expected);
}

#[rstest]
#[case("F32", Some(MentalHealth))]
#[case("F32.9", Some(MentalHealth))]
#[case("F329", Some(MentalHealth))]
#[case(" F10.20 ", Some(SubstanceUse))]
#[case("F3", None)]
#[case("32", None)]
#[case("FF2", None)]
#[case("F32 depression", None)]
#[case("", None)]
#[case("8867-4", None)]
fn icd10_codes(#[case] code: &str, #[case] expected: Option<Category>) {
    assert_eq!(icd10_category(code), expected);
}
