//! Every vital kind: Reading → Observation (codes, units, category, profile) → Reading.

use crate::{at, now, SUBJECT};
use serde_json::Value;
use techo_vitals::*;

const VITALSIGNS: &str = "http://hl7.org/fhir/StructureDefinition/vitalsigns";
const JP_CORE: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_VitalSigns";

struct Row {
    kind: VitalKind,
    measurement: Measurement,
    /// `Observation.code.coding[].code`, in order.
    loinc: &'static [&'static str],
    /// UCUM codes of the value (or of the quantity components, in order).
    ucum: &'static [&'static str],
    /// `valueQuantity.value` (or the components') as JSON text.
    values: &'static [&'static str],
    category: &'static str,
    vital_profiles: bool,
    text_ja: &'static str,
}

fn table() -> Vec<Row> {
    vec![
        Row {
            kind: VitalKind::BloodPressure,
            measurement: Measurement::BloodPressure(BloodPressure {
                systolic: 128.0,
                diastolic: 82.0,
                pulse: Some(70.0),
                context: Some(BpContext::Morning),
                arm: Some(Arm::Left),
                position: Some(Position::Sitting),
            }),
            loinc: &["85354-9"],
            ucum: &["mm[Hg]", "mm[Hg]", "/min"],
            values: &["128", "82", "70"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "血圧",
        },
        Row {
            kind: VitalKind::HeartRate,
            measurement: Measurement::HeartRate { per_min: 64.0 },
            loinc: &["8867-4"],
            ucum: &["/min"],
            values: &["64"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "脈拍数",
        },
        Row {
            kind: VitalKind::BodyTemperature,
            measurement: Measurement::BodyTemperature { celsius: 37.0 },
            loinc: &["8310-5"],
            ucum: &["Cel"],
            values: &["37.0"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "体温",
        },
        Row {
            kind: VitalKind::BodyWeight,
            measurement: Measurement::BodyWeight { kg: 65.4 },
            loinc: &["29463-7"],
            ucum: &["kg"],
            values: &["65.4"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "体重",
        },
        Row {
            kind: VitalKind::BodyHeight,
            measurement: Measurement::BodyHeight { cm: 170.2 },
            loinc: &["8302-2"],
            ucum: &["cm"],
            values: &["170.2"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "身長",
        },
        Row {
            kind: VitalKind::Bmi,
            measurement: Measurement::Bmi { kg_m2: 22.6 },
            loinc: &["39156-5"],
            ucum: &["kg/m2"],
            values: &["22.6"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "BMI",
        },
        Row {
            kind: VitalKind::FastingGlucose,
            measurement: Measurement::BloodGlucose {
                mg_dl: 98.0,
                timing: GlucoseTiming::Fasting,
            },
            loinc: &["1558-6"],
            ucum: &["mg/dL"],
            values: &["98"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "空腹時血糖",
        },
        Row {
            kind: VitalKind::BloodGlucose,
            measurement: Measurement::BloodGlucose {
                mg_dl: 142.0,
                timing: GlucoseTiming::PostMeal,
            },
            loinc: &["2339-0"],
            ucum: &["mg/dL"],
            values: &["142"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "食後血糖",
        },
        Row {
            kind: VitalKind::SpO2,
            measurement: Measurement::SpO2 { percent: 97.0 },
            loinc: &["59408-5", "2708-6"],
            ucum: &["%"],
            values: &["97"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "SpO2 (経皮的動脈血酸素飽和度)",
        },
        Row {
            kind: VitalKind::PeakFlow,
            measurement: Measurement::PeakFlow { l_min: 420.0 },
            loinc: &["19935-6"],
            ucum: &["L/min"],
            values: &["420"],
            category: "vital-signs",
            vital_profiles: true,
            text_ja: "ピークフロー",
        },
        Row {
            kind: VitalKind::Steps,
            measurement: Measurement::Steps { count: 8532.0 },
            loinc: &["55423-8"],
            ucum: &["{steps}"],
            values: &["8532"],
            category: "activity",
            vital_profiles: false,
            text_ja: "歩数",
        },
        Row {
            kind: VitalKind::SleepDuration,
            measurement: Measurement::SleepDuration { hours: 7.25 },
            loinc: &["93832-4"],
            ucum: &["h"],
            values: &["7.25"],
            category: "activity",
            vital_profiles: false,
            text_ja: "睡眠時間",
        },
        Row {
            kind: VitalKind::PainSeverity,
            measurement: Measurement::PainSeverity {
                score: 4.0,
                site: Some("右膝".into()),
            },
            loinc: &["72514-3"],
            ucum: &["{score}"],
            values: &["4"],
            category: "survey",
            vital_profiles: false,
            text_ja: "痛みの強さ",
        },
    ]
}

fn strs(v: &Value, path: &[&str]) -> Vec<String> {
    // Collects `path` under every element of an array.
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            path.iter()
                .fold(e, |acc, k| &acc[*k])
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[test]
fn every_kind_round_trips_through_an_observation() {
    let rows = table();
    let kinds: Vec<VitalKind> = rows.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        VitalKind::ALL.to_vec(),
        "the table must list every kind, in order"
    );

    for row in rows {
        let name = format!("{:?}", row.kind);
        let reading = Reading::new(at(2026, 11, 27, 7, 30), row.measurement.clone());
        let checked = reading
            .check(now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            checked.warnings.is_empty(),
            "{name}: {:?}",
            checked.warnings
        );
        assert_eq!(checked.reading.kind(), row.kind);
        let obs =
            to_observation(&checked.reading, SUBJECT, Some("RelatedPerson/daughter")).unwrap();

        assert_eq!(obs["resourceType"], "Observation", "{name}");
        assert_eq!(obs["status"], "final", "{name}");
        // code
        assert_eq!(strs(&obs["code"]["coding"], &["code"]), row.loinc, "{name}");
        assert!(
            strs(&obs["code"]["coding"], &["system"])
                .iter()
                .all(|s| s == "http://loinc.org"),
            "{name}"
        );
        assert!(
            strs(&obs["code"]["coding"], &["display"])
                .iter()
                .all(|s| !s.is_empty()),
            "{name}"
        );
        assert_eq!(obs["code"]["text"], row.text_ja, "{name}");
        // category
        assert_eq!(
            obs["category"][0]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/observation-category"
        );
        assert_eq!(
            obs["category"][0]["coding"][0]["code"], row.category,
            "{name}"
        );
        // profiles
        if row.vital_profiles {
            assert_eq!(
                obs["meta"]["profile"],
                serde_json::json!([VITALSIGNS, JP_CORE]),
                "{name}"
            );
        } else {
            assert!(obs.get("meta").is_none(), "{name}");
        }
        // units and values
        let quantities: Vec<&Value> = if row.kind == VitalKind::BloodPressure {
            obs["component"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c.get("valueQuantity"))
                .collect()
        } else {
            vec![&obs["valueQuantity"]]
        };
        let ucum: Vec<&str> = quantities
            .iter()
            .map(|q| q["code"].as_str().unwrap())
            .collect();
        assert_eq!(ucum, row.ucum, "{name}");
        assert!(
            quantities
                .iter()
                .all(|q| q["system"] == "http://unitsofmeasure.org"),
            "{name}"
        );
        let values: Vec<String> = quantities.iter().map(|q| q["value"].to_string()).collect();
        assert_eq!(values, row.values, "{name}: decimals as written");
        // who, when, identifier, narrative
        assert_eq!(obs["subject"]["reference"], SUBJECT);
        assert_eq!(obs["performer"][0]["reference"], "RelatedPerson/daughter");
        assert_eq!(obs["effectiveDateTime"], "2026-11-27T07:30:00+09:00");
        assert_eq!(obs["identifier"][0]["system"], "urn:techo:home-entry");
        assert_eq!(
            obs["identifier"][0]["value"],
            checked.reading.identifier_value(SUBJECT)
        );
        let div = obs["text"]["div"].as_str().unwrap();
        assert!(
            div.starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\">"),
            "{name}"
        );
        assert!(div.contains(row.text_ja), "{name}: {div}");
        assert_eq!(obs["text"]["status"], "generated");

        // …and back.
        let parsed = from_observation(&obs).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.reading, checked.reading, "{name}");
        assert_eq!(
            parsed.reading.effective.offset(),
            checked.reading.effective.offset(),
            "{name}"
        );
        assert_eq!(parsed.status, "final");
        assert!(parsed.is_current());
        assert_eq!(parsed.subject.as_deref(), Some(SUBJECT));
        assert_eq!(parsed.performer.as_deref(), Some("RelatedPerson/daughter"));
        assert_eq!(
            parsed.identifier,
            Some(checked.reading.identifier_value(SUBJECT))
        );
    }
}

#[test]
fn spec_table_names_in_japanese() {
    let ja: Vec<&str> = VitalKind::ALL.iter().map(|k| k.spec().name_ja).collect();
    for want in [
        "血圧",
        "脈拍数",
        "体温",
        "体重",
        "身長",
        "BMI",
        "空腹時血糖",
        "血糖値",
        "ピークフロー",
        "歩数",
        "睡眠時間",
        "痛みの強さ",
    ] {
        assert!(ja.contains(&want), "{want}");
    }
    let bp = VitalKind::BloodPressure.spec();
    let comps: Vec<(&str, &str)> = bp.values.iter().map(|v| (v.code.code, v.name_ja)).collect();
    assert_eq!(
        comps,
        [
            ("8480-6", "収縮期血圧"),
            ("8462-4", "拡張期血圧"),
            ("8867-4", "脈拍数")
        ]
    );
}

#[test]
fn readings_serialize_for_ipc() {
    let r = Reading::new(
        at(2026, 11, 27, 7, 30),
        Measurement::BloodPressure(BloodPressure {
            systolic: 128.0,
            diastolic: 82.0,
            pulse: None,
            context: Some(BpContext::Morning),
            arm: None,
            position: None,
        }),
    );
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["measurement"]["kind"], "blood-pressure");
    assert_eq!(v["measurement"]["context"], "morning");
    assert_eq!(serde_json::from_value::<Reading>(v).unwrap(), r);
}
