//! Observation details: BP qualifiers, identifiers, hospital data, entered-in-error, warnings.

use crate::{at, jst, now, SUBJECT};
use chrono::{FixedOffset, TimeZone};
use serde_json::json;
use techo_vitals::*;

fn bp(sys: f64, dia: f64) -> Measurement {
    Measurement::blood_pressure(sys, dia, None)
}

#[test]
fn blood_pressure_qualifiers_are_coded() {
    let m = Measurement::BloodPressure(BloodPressure {
        systolic: 131.0,
        diastolic: 79.0,
        pulse: Some(66.0),
        context: Some(BpContext::Evening),
        arm: Some(Arm::Right),
        position: Some(Position::Lying),
    });
    let r = Reading::new(at(2026, 11, 27, 21, 0), m)
        .check(now())
        .unwrap()
        .reading;
    let o = to_observation(&r, SUBJECT, None).unwrap();
    assert_eq!(
        o["bodySite"]["coding"][0]["system"],
        "http://snomed.info/sct"
    );
    assert_eq!(o["bodySite"]["coding"][0]["code"], "368209003");
    assert_eq!(o["bodySite"]["text"], "右上腕");
    let comps = o["component"].as_array().unwrap();
    let pos = comps
        .iter()
        .find(|c| c["code"]["coding"][0]["code"] == "8361-8")
        .unwrap();
    assert_eq!(
        pos["valueCodeableConcept"]["coding"][0]["code"],
        "102538003"
    );
    assert_eq!(pos["valueCodeableConcept"]["text"], "臥位");
    let ctx = comps
        .iter()
        .find(|c| c["code"]["coding"][0]["code"] == "measurement-context")
        .unwrap();
    assert_eq!(ctx["valueCodeableConcept"]["coding"][0]["code"], "evening");
    assert!(o.get("performer").is_none());
    assert!(o.get("valueQuantity").is_none());
    let div = o["text"]["div"].as_str().unwrap();
    assert!(
        div.contains("血圧 131/79 mmHg、脈拍数 66 /min（晩、右上腕、臥位）"),
        "{div}"
    );
    assert_eq!(from_observation(&o).unwrap().reading, r);
}

#[test]
fn identifier_is_the_same_however_the_reading_was_entered() {
    // 98.6 °F at 07:30 JST vs 37.0 °C at 22:30 UTC the day before.
    let f = Reading::new(
        at(2026, 11, 27, 7, 30),
        Measurement::from_quantity(VitalKind::BodyTemperature, 98.6, Unit::Fahrenheit).unwrap(),
    );
    let utc = FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 22, 30, 0)
        .unwrap();
    let c = Reading::new(utc, Measurement::BodyTemperature { celsius: 37.0 });
    let (f, c) = (
        f.check(now()).unwrap().reading,
        c.check(now()).unwrap().reading,
    );
    assert_eq!(
        f.identity_key(),
        "body-temperature|2026-11-26T22:30:00Z|37.0"
    );
    assert_eq!(f.identifier_value(SUBJECT), c.identifier_value(SUBJECT));
    let (of, oc) = (
        to_observation(&f, SUBJECT, None).unwrap(),
        to_observation(&c, SUBJECT, None).unwrap(),
    );
    assert_eq!(of["identifier"], oc["identifier"]);
    // A different value, person or time is a different identifier.
    let other = Reading::new(f.effective, Measurement::BodyTemperature { celsius: 37.1 });
    assert_ne!(other.identifier_value(SUBJECT), f.identifier_value(SUBJECT));
    assert_ne!(
        f.identifier_value("Patient/other"),
        f.identifier_value(SUBJECT)
    );
    let later = Reading::new(
        at(2026, 11, 27, 7, 31),
        Measurement::BodyTemperature { celsius: 37.0 },
    );
    assert_ne!(later.identifier_value(SUBJECT), f.identifier_value(SUBJECT));
}

#[test]
fn unusual_values_are_accepted_with_a_warning() {
    let c = Reading::new(at(2026, 11, 27, 7, 30), bp(185.0, 95.0))
        .check(now())
        .unwrap();
    assert_eq!(c.warnings.len(), 1);
    let w = &c.warnings[0];
    assert_eq!(
        (w.code(), w.field.as_str(), w.direction),
        ("above_usual_range", "systolic", Direction::Above)
    );
    assert_eq!(w.to_string(), "systolic is above the usual range 80–180 mmHg; it was saved, but please double-check the reading");
    let low = Reading::new(at(2026, 11, 27, 7, 30), Measurement::SpO2 { percent: 88.0 })
        .check(now())
        .unwrap();
    assert_eq!(low.warnings[0].code(), "below_usual_range");
    let fever = Reading::new(
        at(2026, 11, 27, 7, 30),
        Measurement::BodyTemperature { celsius: 39.2 },
    )
    .check(now())
    .unwrap();
    assert_eq!(fever.warnings[0].code(), "above_usual_range");
}

#[test]
fn values_are_rounded_to_the_kinds_decimals() {
    let r = Reading::new(
        at(2026, 11, 27, 7, 30),
        Measurement::BloodPressure(BloodPressure {
            systolic: 127.6,
            diastolic: 81.2,
            pulse: Some(69.5),
            context: None,
            arm: None,
            position: None,
        }),
    )
    .check(now())
    .unwrap()
    .reading;
    assert_eq!(
        r.measurement,
        Measurement::blood_pressure(128.0, 81.0, Some(70.0))
    );
    let w = Measurement::from_quantity(VitalKind::BodyWeight, 150.0, Unit::Pound).unwrap();
    assert_eq!(w, Measurement::BodyWeight { kg: 68.0 });
    let g = Measurement::glucose(5.5, Unit::MmolPerL, GlucoseTiming::Fasting).unwrap();
    assert_eq!(
        g,
        Measurement::BloodGlucose {
            mg_dl: 99.0,
            timing: GlucoseTiming::Fasting
        }
    );
    assert_eq!(g.kind(), VitalKind::FastingGlucose);
    let s = Measurement::from_quantity(VitalKind::SleepDuration, 435.0, Unit::Minute).unwrap();
    assert_eq!(s, Measurement::SleepDuration { hours: 7.25 });
    let h = Measurement::from_quantity(VitalKind::BodyHeight, 67.0, Unit::Inch).unwrap();
    assert_eq!(h, Measurement::BodyHeight { cm: 170.2 });
}

#[test]
fn bmi_uses_the_latest_height_before_the_weight() {
    assert_eq!(bmi(65.0, 170.0), Some(22.5));
    assert_eq!(bmi(65.0, 0.0), None);
    let w = Reading::new(at(2026, 11, 27, 7, 0), Measurement::BodyWeight { kg: 72.0 });
    let heights = [
        Reading::new(at(2020, 1, 1, 9, 0), Measurement::BodyHeight { cm: 150.0 }),
        Reading::new(at(2026, 4, 1, 9, 0), Measurement::BodyHeight { cm: 180.0 }),
        Reading::new(
            at(2026, 11, 30, 9, 0),
            Measurement::BodyHeight { cm: 160.0 },
        ),
    ];
    let b = bmi_reading(&w, &heights).unwrap();
    assert_eq!(b.measurement, Measurement::Bmi { kg_m2: 22.2 }); // 72 / 1.8²
    assert_eq!(b.effective, w.effective);
    // Only a later height: use the earliest later one.
    let b = bmi_reading(&w, &heights[2..]).unwrap();
    assert_eq!(b.measurement, Measurement::Bmi { kg_m2: 28.1 }); // 72 / 1.6²
    assert_eq!(bmi_reading(&w, &[]), None);
    assert_eq!(bmi_reading(&heights[0], &heights), None);
}

#[test]
fn narrative_escapes_typed_text() {
    let m = Measurement::PainSeverity {
        score: 6.0,
        site: Some("<b>膝 & \"足\"</b>".into()),
    };
    let r = Reading::new(at(2026, 11, 27, 7, 30), m)
        .check(now())
        .unwrap()
        .reading;
    let o = to_observation(&r, SUBJECT, None).unwrap();
    let div = o["text"]["div"].as_str().unwrap();
    assert!(
        div.contains("&lt;b&gt;膝 &amp; &quot;足&quot;&lt;/b&gt;"),
        "{div}"
    );
    assert!(!div.contains("<b>"));
    assert_eq!(o["bodySite"]["text"], "<b>膝 & \"足\"</b>");
}

#[test]
fn entered_in_error_marks_a_copy() {
    let r = Reading::new(
        at(2026, 11, 27, 7, 30),
        Measurement::BodyWeight { kg: 60.0 },
    );
    let o = to_observation(&r, SUBJECT, None).unwrap();
    let e = mark_entered_in_error(&o).unwrap();
    assert_eq!(o["status"], "final");
    assert_eq!(e["status"], "entered-in-error");
    assert_eq!(e["identifier"], o["identifier"]);
    let p = from_observation(&e).unwrap();
    assert!(!p.is_current());
    assert_eq!(
        mark_entered_in_error(&json!({"resourceType": "Patient"}))
            .unwrap_err()
            .code(),
        "wrong_resource_type"
    );
}

#[test]
fn hospital_observations_are_read_in_canonical_units() {
    let weight = json!({
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "3141-9"}]},
        "subject": {"reference": "Patient/h1"},
        "effectiveDateTime": "2026-10-01T10:15:00+09:00",
        "valueQuantity": {"value": 64250, "unit": "g", "system": "http://unitsofmeasure.org", "code": "g"}
    });
    let p = from_observation(&weight).unwrap();
    assert_eq!(p.reading.measurement, Measurement::BodyWeight { kg: 64.3 });
    assert_eq!(p.identifier, None);

    let temp = json!({
        "resourceType": "Observation", "status": "amended",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "effectivePeriod": {"start": "2026-10-01T10:15:00Z"},
        "valueQuantity": {"value": 100.4, "unit": "degF", "system": "http://unitsofmeasure.org", "code": "[degF]"}
    });
    let p = from_observation(&temp).unwrap();
    assert_eq!(
        p.reading.measurement,
        Measurement::BodyTemperature { celsius: 38.0 }
    );
    assert!(p.is_current());

    let glucose = json!({
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://jlac10", "code": "3D010"}, {"system": "http://loinc.org", "code": "15074-8"}]},
        "effectiveDateTime": "2026-10-01T10:15:00+09:00",
        "valueQuantity": {"value": 6.1, "unit": "mmol/L"}
    });
    let p = from_observation(&glucose).unwrap();
    assert_eq!(
        p.reading.measurement,
        Measurement::BloodGlucose {
            mg_dl: 110.0,
            timing: GlucoseTiming::Random
        }
    );

    // A BP panel as many EHRs send it (55284-4), without pulse.
    let panel = json!({
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "55284-4"}]},
        "effectiveDateTime": "2026-10-01T10:15:00.123+09:00",
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 78, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 122, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}
        ]
    });
    let p = from_observation(&panel).unwrap();
    assert_eq!(p.reading.measurement, bp(122.0, 78.0));
    assert_eq!(p.reading.effective.offset(), &jst());
}

#[test]
fn unreadable_observations_say_why() {
    let base = || {
        json!({
            "resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "effectiveDateTime": "2026-10-01T10:15:00+09:00",
            "valueQuantity": {"value": 60, "system": "http://unitsofmeasure.org", "code": "kg"}
        })
    };
    let code = |v: serde_json::Value| from_observation(&v).unwrap_err().code();
    let mut v = base();
    v["effectiveDateTime"] = json!("2026-10-01");
    assert_eq!(code(v), "imprecise_time");
    let mut v = base();
    v["effectiveDateTime"] = json!("yesterday");
    assert_eq!(code(v), "invalid_element");
    let mut v = base();
    v.as_object_mut().unwrap().remove("effectiveDateTime");
    assert_eq!(code(v), "missing_element");
    let mut v = base();
    v["valueQuantity"]["code"] = json!("Cel");
    assert_eq!(code(v), "unit_not_allowed");
    let mut v = base();
    v["valueQuantity"] = json!({"value": 60});
    assert_eq!(code(v), "missing_element");
    let mut v = base();
    v["code"]["coding"][0]["code"] = json!("718-7");
    assert_eq!(code(v), "unsupported_code");
    let mut v = base();
    v["code"] = json!({"coding": [{"system": "http://loinc.org", "code": "85354-9"}]});
    v.as_object_mut().unwrap().remove("valueQuantity");
    assert_eq!(code(v), "missing_element");
}
