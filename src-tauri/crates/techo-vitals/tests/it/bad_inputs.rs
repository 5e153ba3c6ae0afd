//! Bad inputs: each is refused with the expected error code, and no message carries the value.

use crate::{at, jst, now, SUBJECT};
use chrono::Duration;
use rstest::rstest;
use serde_json::json;
use techo_vitals::*;

fn check(m: Measurement) -> Result<(), VitalsError> {
    Reading::new(at(2026, 11, 27, 7, 30), m)
        .check(now())
        .map(|_| ())
}

fn bp(sys: f64, dia: f64) -> Result<(), VitalsError> {
    check(Measurement::blood_pressure(sys, dia, None))
}

fn quantity(kind: VitalKind, v: f64, unit: Unit) -> Result<(), VitalsError> {
    check(Measurement::from_quantity(kind, v, unit)?)
}

fn diary(entry: DiaryEntry) -> Result<(), VitalsError> {
    Diary::new(at(2026, 11, 27, 21, 0), entry)
        .check(now())
        .map(|_| ())
}

fn opts() -> CsvOptions {
    CsvOptions {
        default_offset: jst(),
        now: now(),
    }
}

/// Parses `csv` with its proposed mapping; the first error.
fn csv(text: &[u8]) -> Result<(), VitalsError> {
    let f = CsvFile::from_bytes(text)?;
    let m = f.propose_mapping();
    f.parse_all(&m, &opts())
        .map(|_| ())
        .map_err(|errs| errs[0].error.clone())
}

#[rstest]
#[case::systolic_400(bp(400.0, 80.0), "impossible_value")]
#[case::systolic_30(bp(30.0, 20.0), "impossible_value")]
#[case::temperature_10c(
    quantity(VitalKind::BodyTemperature, 10.0, Unit::Celsius),
    "impossible_value"
)]
#[case::temperature_50f(
    quantity(VitalKind::BodyTemperature, 50.0, Unit::Fahrenheit),
    "impossible_value"
)]
#[case::diastolic_equals_systolic(bp(120.0, 120.0), "systolic_not_above_diastolic")]
#[case::diastolic_above_systolic(bp(80.0, 120.0), "systolic_not_above_diastolic")]
#[case::kg_for_temperature(
    quantity(VitalKind::BodyTemperature, 36.5, Unit::Kilogram),
    "unit_not_allowed"
)]
#[case::mmol_for_weight(
    quantity(VitalKind::BodyWeight, 60.0, Unit::MmolPerL),
    "unit_not_allowed"
)]
#[case::mmhg_for_pulse(quantity(VitalKind::HeartRate, 60.0, Unit::MmHg), "unit_not_allowed")]
#[case::nan_weight(
    quantity(VitalKind::BodyWeight, f64::NAN, Unit::Kilogram),
    "not_finite"
)]
#[case::infinite_temperature(check(Measurement::BodyTemperature { celsius: f64::INFINITY }), "not_finite")]
#[case::nan_systolic(bp(f64::NAN, 80.0), "not_finite")]
#[case::negative_weight(quantity(VitalKind::BodyWeight, -60.0, Unit::Kilogram), "negative_value")]
#[case::negative_steps(check(Measurement::Steps { count: -1.0 }), "negative_value")]
#[case::zero_weight(check(Measurement::BodyWeight { kg: 0.0 }), "impossible_value")]
#[case::spo2_101(check(Measurement::SpO2 { percent: 101.0 }), "impossible_value")]
#[case::pain_11(check(Measurement::PainSeverity { score: 11.0, site: None }), "impossible_value")]
#[case::pain_fraction(check(Measurement::PainSeverity { score: 2.5, site: None }), "not_whole_number")]
#[case::steps_fraction(check(Measurement::Steps { count: 10.5 }), "not_whole_number")]
#[case::sleep_25h(check(Measurement::SleepDuration { hours: 25.0 }), "impossible_value")]
#[case::long_pain_site(check(Measurement::PainSeverity { score: 3.0, site: Some("膝".repeat(201)) }), "text_too_long")]
#[case::future_time(
    Reading::new(now() + Duration::minutes(6), Measurement::BodyWeight { kg: 60.0 }).check(now()).map(|_| ()),
    "future_time"
)]
#[case::empty_diary(diary(DiaryEntry::Asthma(AsthmaDiary::default())), "empty_diary_entry")]
#[case::blank_text_diary(diary(DiaryEntry::Mood(MoodDiary { mood: None, symptoms: Some("  ".into()), note: None })), "empty_diary_entry")]
#[case::joint_pain_11(diary(DiaryEntry::JointPain(JointPainDiary { severity: Some(11), ..Default::default() })), "impossible_value")]
#[case::mood_0(diary(DiaryEntry::Mood(MoodDiary { mood: Some(0), ..Default::default() })), "impossible_value")]
#[case::asthma_symptoms_4(diary(DiaryEntry::Asthma(AsthmaDiary { daytime_symptoms: Some(4), ..Default::default() })), "impossible_value")]
#[case::future_diary(
    Diary::new(now() + Duration::hours(1), DiaryEntry::Mood(MoodDiary { mood: Some(3), ..Default::default() })).check(now()).map(|_| ()),
    "future_time"
)]
#[case::bad_subject(to_observation(&Reading::new(now(), Measurement::BodyWeight { kg: 60.0 }), "abc", None).map(|_| ()), "invalid_reference")]
#[case::subject_not_a_patient(to_observation(&Reading::new(now(), Measurement::BodyWeight { kg: 60.0 }), "Practitioner/x", None).map(|_| ()), "invalid_reference")]
#[case::not_an_observation(from_observation(&json!({"resourceType": "Patient"})).map(|_| ()), "wrong_resource_type")]
#[case::unknown_questionnaire(from_questionnaire_response(&json!({"resourceType": "QuestionnaireResponse", "questionnaire": "http://example.org/Questionnaire/x|1", "status": "completed", "authored": "2026-11-27T21:00:00+09:00"})).map(|_| ()), "unknown_questionnaire")]
#[case::csv_missing_date_column(csv("最高血圧,最低血圧\n120,80\n".as_bytes()), "missing_column")]
#[case::csv_missing_diastolic_column(csv("日付,最高血圧\n2026/11/27,120\n".as_bytes()), "missing_column")]
#[case::csv_no_value_columns(csv("日付,メモ\n2026/11/27,x\n".as_bytes()), "no_value_columns")]
#[case::csv_malformed_number(csv("日付,体重\n2026/11/27,6O.5\n".as_bytes()), "malformed_number")]
#[case::csv_unknown_unit_in_cell(csv("日付,体重\n2026/11/27,65 stone\n".as_bytes()), "malformed_number")]
#[case::csv_wrong_unit_in_cell(csv("日付,体重\n2026/11/27,65℃\n".as_bytes()), "unit_not_allowed")]
#[case::csv_bad_date(csv("日付,体重\n2026/13/45,60\n".as_bytes()), "bad_date_time")]
#[case::csv_era_out_of_range(csv("日付,体重\nR1/4/1,60\n".as_bytes()), "era_out_of_range")]
#[case::csv_too_few_columns(csv("日付,体重,体温\n2026/11/27,60,36.5\n2026/11/28,61\n".as_bytes()), "too_few_columns")]
#[case::csv_not_utf8(csv(b"\x93\xfa\x95\x74,\x91\xcc\x8f\x64\n2026/11/27,60\n"), "not_utf8")]
#[case::csv_empty(csv(b""), "empty_file")]
#[case::csv_blank_lines_only(csv(b"\n\n  \n"), "empty_file")]
#[case::csv_header_only(csv("日付,最高血圧,最低血圧\n".as_bytes()), "no_data_rows")]
#[case::csv_missing_half_of_bp(csv("日付,最高血圧,最低血圧\n2026/11/27,120,\n".as_bytes()), "missing_value")]
#[case::csv_bad_context(csv("日付,最高血圧,最低血圧,朝/晩\n2026/11/27,120,80,昼\n".as_bytes()), "unrecognised_value")]
#[case::csv_no_values_anywhere(csv("日付,体重\n2026/11/27,\n".as_bytes()), "no_readings")]
fn refused(#[case] result: Result<(), VitalsError>, #[case] code: &str) {
    let err = result.expect_err("must be refused");
    assert_eq!(err.code(), code, "{err}");
    assert!(!err.to_string().is_empty());
}

#[test]
fn messages_name_the_field_and_range_but_not_the_value() {
    let e = bp(400.0, 80.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "systolic is outside the possible range 40–300 mmHg; check the reading"
    );
    assert!(!e.to_string().contains("400"));
    let e = quantity(VitalKind::BodyTemperature, 36.5, Unit::Kilogram).unwrap_err();
    assert_eq!(
        e.to_string(),
        "kg is not a unit for body temperature; use °C or °F"
    );
    let e = quantity(VitalKind::BodyTemperature, 10.0, Unit::Celsius).unwrap_err();
    assert_eq!(
        e.to_string(),
        "body temperature is outside the possible range 30–45 °C; check the reading"
    );
    let e = check(Measurement::PainSeverity {
        score: 11.0,
        site: None,
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "pain severity is outside the possible range 0–10; check the reading"
    );
    // CSV row errors: row, column, header; not the cell.
    let f = CsvFile::parse("日付,体重\n2026/11/27,6O.5kg\n").unwrap();
    let errs = f.parse_all(&f.propose_mapping(), &opts()).unwrap_err();
    let msg = errs[0].to_string();
    assert!(
        msg.starts_with("row 2, column 2 (体重): body weight is not a number"),
        "{msg}"
    );
    assert!(!msg.contains("6O.5"), "{msg}");
}

#[test]
fn every_code_is_snake_case_and_distinct() {
    let samples = [
        VitalsError::EmptyFile,
        VitalsError::NoDataRows,
        VitalsError::ReadFailed,
        VitalsError::NoReadings,
        VitalsError::UnknownItem,
        VitalsError::UnsupportedCode,
        VitalsError::SystolicNotAboveDiastolic,
        VitalsError::EmptyDiaryEntry,
        VitalsError::UnknownQuestionnaire,
        VitalsError::NoValueColumns,
    ];
    let codes: std::collections::BTreeSet<&str> = samples.iter().map(|e| e.code()).collect();
    assert_eq!(codes.len(), samples.len());
    assert!(codes
        .iter()
        .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
}

#[test]
fn subject_reference_is_checked_for_diaries_too() {
    let d = Diary::new(
        at(2026, 11, 27, 21, 0),
        DiaryEntry::Mood(MoodDiary {
            mood: Some(3),
            ..Default::default()
        }),
    );
    assert_eq!(
        to_questionnaire_response(&d, "abc", None)
            .unwrap_err()
            .code(),
        "invalid_reference"
    );
    assert_eq!(
        to_questionnaire_response(&d, SUBJECT, Some("not a ref"))
            .unwrap_err()
            .code(),
        "invalid_reference"
    );
}
