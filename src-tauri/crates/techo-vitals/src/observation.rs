//! Reading ⇄ FHIR R4 Observation JSON.
//!
//! Written Observations look like this (keys in FHIR's order):
//! `resourceType`, `meta.profile` (vital-signs kinds), `text` (Japanese XHTML narrative),
//! `identifier` (`urn:techo:home-entry`), `status`, `category`, `code` (LOINC codings with
//! English displays, Japanese `text`), `subject`, `effectiveDateTime`, `performer`,
//! `valueQuantity` (UCUM), `bodySite`, `component`.
//!
//! Blood pressure is one panel (85354-9) with components systolic 8480-6, diastolic 8462-4,
//! pulse 8867-4 (a component, not a separate Observation), body position 8361-8 (SNOMED value),
//! and the morning/evening context (a Techo-coded component, text 測定タイミング). The arm is
//! `bodySite` (SNOMED 368208006 / 368209003). Glucose timing is the same context component.
//! No extensions are used.

use crate::error::VitalsError;
use crate::kind::{
    Code, KindSpec, ValueSpec, VitalKind, BODY_POSITION, CONTEXT_COMPONENT, DIASTOLIC, LOINC,
    OBSERVATION_CATEGORY, PULSE, SNOMED, SYSTOLIC, TECHO_CONTEXT_SYSTEM, UCUM,
};
use crate::reading::{
    Arm, BloodPressure, BpContext, GlucoseTiming, Measurement, Position, Reading,
};
use crate::text::{is_reference, narrative};
use techo_fhir::escape_xhtml as xhtml_escape;
use crate::units::{convert, format_decimal, round_to, Unit};
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde_json::{json, Map, Number, Value};

/// `Identifier.system` of everything entered or imported at home.
pub const IDENTIFIER_SYSTEM: &str = "urn:techo:home-entry";

/// An Observation read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedObservation {
    pub reading: Reading,
    /// `final`, `amended`, `entered-in-error`, …
    pub status: String,
    pub subject: Option<String>,
    /// The first performer reference.
    pub performer: Option<String>,
    /// The `urn:techo:home-entry` identifier value, when there is one.
    pub identifier: Option<String>,
}

impl ParsedObservation {
    /// Whether charts should show it (`final`, `amended`, `corrected`, `preliminary`).
    pub fn is_current(&self) -> bool {
        matches!(
            self.status.as_str(),
            "final" | "amended" | "corrected" | "preliminary"
        )
    }
}

// --- writing -----------------------------------------------------------------------------

fn coding(c: &Code) -> Value {
    json!({ "system": c.system, "code": c.code, "display": c.display })
}

fn decimal(v: f64, decimals: u8) -> Value {
    let n: Number = format_decimal(v, decimals)
        .parse()
        .expect("a formatted finite decimal is a JSON number");
    Value::Number(n)
}

fn quantity(spec: &ValueSpec, v: f64) -> Value {
    json!({
        "value": decimal(v, spec.decimals),
        "unit": if spec.unit == Unit::Score { "{score}" } else { spec.unit.symbol() },
        "system": UCUM,
        "code": spec.unit.ucum(),
    })
}

fn value_component(spec: &ValueSpec, v: f64) -> Value {
    json!({
        "code": { "coding": [coding(&spec.code)], "text": spec.name_ja },
        "valueQuantity": quantity(spec, v),
    })
}

fn concept(system: &str, code: &str, display: &str, text: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code, "display": display }], "text": text })
}

fn context_component(code: &str, display: &str, ja: &str) -> Value {
    json!({
        "code": { "coding": [coding(&CONTEXT_COMPONENT)], "text": "測定タイミング" },
        "valueCodeableConcept": concept(TECHO_CONTEXT_SYSTEM, code, display, ja),
    })
}

pub(crate) fn bp_context_parts(c: BpContext) -> (&'static str, &'static str, &'static str) {
    match c {
        BpContext::Morning => ("morning", "Morning", "朝"),
        BpContext::Evening => ("evening", "Evening", "晩"),
    }
}

fn glucose_parts(t: GlucoseTiming) -> (&'static str, &'static str, &'static str) {
    match t {
        GlucoseTiming::Fasting => ("fasting", "Fasting", "空腹時"),
        GlucoseTiming::PostMeal => ("post-meal", "After a meal", "食後"),
        GlucoseTiming::Random => ("random", "Random", "随時"),
    }
}

fn arm_parts(a: Arm) -> (&'static str, &'static str, &'static str) {
    match a {
        Arm::Left => ("368208006", "Left upper arm structure", "左上腕"),
        Arm::Right => ("368209003", "Right upper arm structure", "右上腕"),
    }
}

fn position_parts(p: Position) -> (&'static str, &'static str, &'static str) {
    match p {
        Position::Sitting => ("33586001", "Sitting position", "座位"),
        Position::Standing => ("10904000", "Orthostatic body position", "立位"),
        Position::Lying => ("102538003", "Recumbent body position", "臥位"),
    }
}

/// The Japanese name shown for a reading (glucose says 食後血糖 after a meal).
pub fn display_name_ja(m: &Measurement) -> &'static str {
    match m {
        Measurement::BloodGlucose {
            timing: GlucoseTiming::PostMeal,
            ..
        } => "食後血糖",
        _ => m.kind().spec().name_ja,
    }
}

fn narrative_for(reading: &Reading) -> Value {
    let m = &reading.measurement;
    let name = display_name_ja(m);
    let line = match m {
        Measurement::BloodPressure(bp) => {
            let mut s = format!(
                "{name} {}/{} mmHg",
                format_decimal(bp.systolic, 0),
                format_decimal(bp.diastolic, 0)
            );
            if let Some(p) = bp.pulse {
                s.push_str(&format!("、脈拍数 {} /min", format_decimal(p, 0)));
            }
            let quals: Vec<&str> = [
                bp.context.map(|c| bp_context_parts(c).2),
                bp.arm.map(|a| arm_parts(a).2),
                bp.position.map(|p| position_parts(p).2),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !quals.is_empty() {
                s.push_str(&format!("（{}）", quals.join("、")));
            }
            s
        }
        Measurement::PainSeverity { score, site } => {
            let mut s = format!("{name} {}/10", format_decimal(*score, 0));
            if let Some(site) = site {
                s.push_str(&format!("（部位: {site}）"));
            }
            s
        }
        _ => {
            let (spec, v) = m.values()[0];
            let unit = spec.unit.symbol();
            let sep = if unit.starts_with('°') || unit == "%" {
                ""
            } else {
                " "
            };
            format!("{name} {}{sep}{unit}", format_decimal(v, spec.decimals))
        }
    };
    let when = reading.effective.format("%Y-%m-%d %H:%M (%:z)").to_string();
    narrative(&[
        format!("<p>{}</p>", xhtml_escape(&line)),
        format!("<p>測定日時: {}</p>", xhtml_escape(&when)),
    ])
}

fn check_reference(r: &str, field: &'static str) -> Result<(), VitalsError> {
    if is_reference(r) {
        Ok(())
    } else {
        Err(VitalsError::InvalidReference { field })
    }
}

/// A FHIR `dateTime` with seconds and the reading's own offset.
pub(crate) fn fhir_date_time(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Builds the Observation for a reading. `subject` must be `Patient/<id>` (or `urn:uuid:`);
/// `performer` is who measured/entered it (the patient, or e.g. `RelatedPerson/<id>` for a
/// caregiver). The values are validated again (not the time: that needs `now`, see
/// [`Reading::check`]); pass checked readings.
pub fn to_observation(
    reading: &Reading,
    subject: &str,
    performer: Option<&str>,
) -> Result<Value, VitalsError> {
    check_reference(subject, "subject")?;
    if !(subject.starts_with("Patient/") || subject.starts_with("urn:uuid:")) {
        return Err(VitalsError::InvalidReference { field: "subject" });
    }
    if let Some(p) = performer {
        check_reference(p, "performer")?;
    }
    reading.measurement.validate()?;
    let m = &reading.measurement;
    let spec: &KindSpec = m.kind().spec();

    let mut o = Map::new();
    o.insert("resourceType".into(), json!("Observation"));
    if !spec.profiles.is_empty() {
        o.insert("meta".into(), json!({ "profile": spec.profiles }));
    }
    o.insert("text".into(), narrative_for(reading));
    o.insert(
        "identifier".into(),
        json!([{ "system": IDENTIFIER_SYSTEM, "value": reading.identifier_value(subject) }]),
    );
    o.insert("status".into(), json!("final"));
    let cat = spec.category;
    o.insert(
        "category".into(),
        json!([concept(
            OBSERVATION_CATEGORY,
            cat.code(),
            cat.display(),
            cat.name_ja()
        )]),
    );
    o.insert(
        "code".into(),
        json!({ "coding": spec.codes.iter().map(coding).collect::<Vec<_>>(), "text": display_name_ja(m) }),
    );
    o.insert("subject".into(), json!({ "reference": subject }));
    o.insert(
        "effectiveDateTime".into(),
        json!(fhir_date_time(&reading.effective)),
    );
    if let Some(p) = performer {
        o.insert("performer".into(), json!([{ "reference": p }]));
    }

    match m {
        Measurement::BloodPressure(bp) => {
            if let Some(a) = bp.arm {
                let (c, d, t) = arm_parts(a);
                o.insert("bodySite".into(), concept(SNOMED, c, d, t));
            }
            let mut comps = vec![
                value_component(&SYSTOLIC, bp.systolic),
                value_component(&DIASTOLIC, bp.diastolic),
            ];
            if let Some(p) = bp.pulse {
                comps.push(value_component(&PULSE, p));
            }
            if let Some(p) = bp.position {
                let (c, d, t) = position_parts(p);
                comps.push(json!({
                    "code": { "coding": [coding(&BODY_POSITION)], "text": "測定時の姿勢" },
                    "valueCodeableConcept": concept(SNOMED, c, d, t),
                }));
            }
            if let Some(c) = bp.context {
                let (c, d, t) = bp_context_parts(c);
                comps.push(context_component(c, d, t));
            }
            o.insert("component".into(), Value::Array(comps));
        }
        Measurement::BloodGlucose { mg_dl, timing } => {
            o.insert("valueQuantity".into(), quantity(spec.value(), *mg_dl));
            let (c, d, t) = glucose_parts(*timing);
            o.insert("component".into(), json!([context_component(c, d, t)]));
        }
        Measurement::PainSeverity { score, site } => {
            o.insert("valueQuantity".into(), quantity(spec.value(), *score));
            if let Some(site) = site {
                o.insert("bodySite".into(), json!({ "text": site }));
            }
        }
        _ => {
            let (vs, v) = m.values()[0];
            o.insert("valueQuantity".into(), quantity(vs, v));
        }
    }
    Ok(Value::Object(o))
}

/// A copy of an Observation with `status` = `entered-in-error` (the store keeps the old
/// version; nothing is deleted).
pub fn mark_entered_in_error(observation: &Value) -> Result<Value, VitalsError> {
    let mut o = observation.clone();
    let obj = o
        .as_object_mut()
        .filter(|m| m.get("resourceType").and_then(Value::as_str) == Some("Observation"))
        .ok_or(VitalsError::WrongResourceType {
            expected: "Observation",
        })?;
    obj.insert("status".into(), json!("entered-in-error"));
    Ok(o)
}

// --- reading -----------------------------------------------------------------------------

fn loinc_codes(concept: Option<&Value>) -> Vec<&str> {
    codes_in(concept, LOINC)
}

fn codes_in<'a>(concept: Option<&'a Value>, system: &str) -> Vec<&'a str> {
    concept
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("system").and_then(Value::as_str) == Some(system))
        .filter_map(|c| c.get("code").and_then(Value::as_str))
        .collect()
}

/// Parses a FHIR `dateTime`/`instant` that has a time and an offset.
pub(crate) fn parse_fhir_date_time(
    s: &str,
    element: &'static str,
) -> Result<DateTime<FixedOffset>, VitalsError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    // FHIR dates without a time (2026, 2026-11, 2026-11-27) are valid but too imprecise.
    let b = s.as_bytes();
    let date_like =
        matches!(b.len(), 4 | 7 | 10) && b.iter().all(|c| c.is_ascii_digit() || *c == b'-');
    if date_like {
        Err(VitalsError::ImpreciseTime { element })
    } else {
        Err(VitalsError::InvalidElement { element })
    }
}

fn effective(o: &Map<String, Value>) -> Result<DateTime<FixedOffset>, VitalsError> {
    if let Some(v) = o.get("effectiveDateTime") {
        let s = v.as_str().ok_or(VitalsError::InvalidElement {
            element: "effectiveDateTime",
        })?;
        return parse_fhir_date_time(s, "effectiveDateTime");
    }
    if let Some(v) = o.get("effectiveInstant") {
        let s = v.as_str().ok_or(VitalsError::InvalidElement {
            element: "effectiveInstant",
        })?;
        return parse_fhir_date_time(s, "effectiveInstant");
    }
    if let Some(s) = o.get("effectivePeriod").and_then(|p| p.get("start")) {
        let s = s.as_str().ok_or(VitalsError::InvalidElement {
            element: "effectivePeriod.start",
        })?;
        return parse_fhir_date_time(s, "effectivePeriod.start");
    }
    Err(VitalsError::MissingElement {
        element: "effective[x]",
    })
}

/// A Quantity's value in the spec's canonical unit, rounded to its decimals. The unit comes
/// from the UCUM `code`, else from the `unit` text; any unit of the same dimension is
/// converted (g → kg, [degF] → Cel, mmol/L → mg/dL for glucose).
fn read_quantity(
    q: Option<&Value>,
    spec: &ValueSpec,
    kind: &KindSpec,
    element: &'static str,
) -> Result<f64, VitalsError> {
    let q = q.ok_or(VitalsError::MissingElement { element })?;
    let value = q
        .get("value")
        .ok_or(VitalsError::MissingElement { element })?
        .as_f64()
        .ok_or(VitalsError::InvalidElement { element })?;
    let code = q.get("code").and_then(Value::as_str);
    let system = q.get("system").and_then(Value::as_str);
    let unit = match (code, system) {
        (Some(c), None) | (Some(c), Some(UCUM)) => Unit::from_ucum(c).or_else(|| Unit::parse(c)),
        _ => None,
    }
    .or_else(|| q.get("unit").and_then(Value::as_str).and_then(Unit::parse));
    let unit = match unit {
        Some(u) => u,
        None if code.is_none() && q.get("unit").is_none() => {
            return Err(VitalsError::MissingElement {
                element: "valueQuantity.code",
            })
        }
        None => {
            return Err(VitalsError::UnknownUnit {
                kind: kind.name_en,
                allowed: kind.units_text,
            })
        }
    };
    let c = convert(value, unit, spec.unit).ok_or(VitalsError::UnitNotAllowed {
        unit: unit.symbol(),
        kind: kind.name_en,
        allowed: kind.units_text,
    })?;
    if !c.is_finite() {
        return Err(VitalsError::NotFinite { field: spec.field });
    }
    Ok(round_to(c, spec.decimals))
}

fn components(o: &Map<String, Value>) -> &[Value] {
    o.get("component")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn component_with<'a>(o: &'a Map<String, Value>, system: &str, code: &str) -> Option<&'a Value> {
    components(o)
        .iter()
        .find(|c| codes_in(c.get("code"), system).contains(&code))
}

fn context_code(o: &Map<String, Value>) -> Option<&str> {
    let c = component_with(o, CONTEXT_COMPONENT.system, CONTEXT_COMPONENT.code)?;
    codes_in(c.get("valueCodeableConcept"), TECHO_CONTEXT_SYSTEM)
        .first()
        .copied()
}

fn first_reference(v: Option<&Value>) -> Option<String> {
    let v = match v {
        Some(Value::Array(a)) => a.first(),
        other => other,
    };
    v.and_then(|r| r.get("reference"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Reads an Observation — Techo's own or another system's — with a LOINC code of one of the
/// kinds (or an alias in [`KindSpec::read_codes`]). Values are converted to the canonical unit
/// and rounded to the kind's decimals; ranges are **not** checked (hospital data is kept as
/// is; call [`Reading::check`] if needed). Dates without a time or offset are refused
/// (`imprecise_time`).
pub fn from_observation(observation: &Value) -> Result<ParsedObservation, VitalsError> {
    let o = observation
        .as_object()
        .filter(|m| m.get("resourceType").and_then(Value::as_str) == Some("Observation"))
        .ok_or(VitalsError::WrongResourceType {
            expected: "Observation",
        })?;
    let status = o
        .get("status")
        .and_then(Value::as_str)
        .ok_or(VitalsError::MissingElement { element: "status" })?
        .to_string();
    let codes = loinc_codes(o.get("code"));
    let kind = codes
        .iter()
        .find_map(|c| VitalKind::from_loinc(c))
        .ok_or(VitalsError::UnsupportedCode)?;
    let spec = kind.spec();
    let effective = effective(o)?;

    let measurement = match kind {
        VitalKind::BloodPressure => {
            let comp = |v: &ValueSpec, el: &'static str| -> Result<Option<f64>, VitalsError> {
                match component_with(o, LOINC, v.code.code) {
                    None => Ok(None),
                    Some(c) => read_quantity(c.get("valueQuantity"), v, spec, el).map(Some),
                }
            };
            let systolic = comp(&SYSTOLIC, "systolic component valueQuantity")?.ok_or(
                VitalsError::MissingElement {
                    element: "systolic component (8480-6)",
                },
            )?;
            let diastolic = comp(&DIASTOLIC, "diastolic component valueQuantity")?.ok_or(
                VitalsError::MissingElement {
                    element: "diastolic component (8462-4)",
                },
            )?;
            let pulse = comp(&PULSE, "pulse component valueQuantity")?;
            let position = component_with(o, LOINC, BODY_POSITION.code)
                .map(|c| codes_in(c.get("valueCodeableConcept"), SNOMED))
                .and_then(|cs| {
                    [Position::Sitting, Position::Standing, Position::Lying]
                        .into_iter()
                        .find(|p| cs.contains(&position_parts(*p).0))
                });
            let site = codes_in(o.get("bodySite"), SNOMED);
            let arm = [Arm::Left, Arm::Right]
                .into_iter()
                .find(|a| site.contains(&arm_parts(*a).0));
            let context = match context_code(o) {
                Some("morning") => Some(BpContext::Morning),
                Some("evening") => Some(BpContext::Evening),
                _ => None,
            };
            Measurement::BloodPressure(BloodPressure {
                systolic,
                diastolic,
                pulse,
                context,
                arm,
                position,
            })
        }
        _ => {
            let v = read_quantity(o.get("valueQuantity"), spec.value(), spec, "valueQuantity")?;
            match kind {
                VitalKind::FastingGlucose => Measurement::BloodGlucose {
                    mg_dl: v,
                    timing: GlucoseTiming::Fasting,
                },
                VitalKind::BloodGlucose => {
                    let timing = match context_code(o) {
                        Some("fasting") => GlucoseTiming::Fasting,
                        Some("post-meal") => GlucoseTiming::PostMeal,
                        _ => GlucoseTiming::Random,
                    };
                    Measurement::BloodGlucose { mg_dl: v, timing }
                }
                VitalKind::PainSeverity => Measurement::PainSeverity {
                    score: v,
                    site: crate::text::clean(
                        o.get("bodySite")
                            .and_then(|b| b.get("text"))
                            .and_then(Value::as_str),
                    ),
                },
                VitalKind::HeartRate => Measurement::HeartRate { per_min: v },
                VitalKind::BodyTemperature => Measurement::BodyTemperature { celsius: v },
                VitalKind::BodyWeight => Measurement::BodyWeight { kg: v },
                VitalKind::BodyHeight => Measurement::BodyHeight { cm: v },
                VitalKind::Bmi => Measurement::Bmi { kg_m2: v },
                VitalKind::SpO2 => Measurement::SpO2 { percent: v },
                VitalKind::PeakFlow => Measurement::PeakFlow { l_min: v },
                VitalKind::Steps => Measurement::Steps { count: v },
                VitalKind::SleepDuration => Measurement::SleepDuration { hours: v },
                VitalKind::BloodPressure => unreachable!("handled above"),
            }
        }
    };

    let identifier = o
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|i| i.get("system").and_then(Value::as_str) == Some(IDENTIFIER_SYSTEM))
        .and_then(|i| i.get("value"))
        .and_then(Value::as_str)
        .map(str::to_string);

    Ok(ParsedObservation {
        reading: Reading {
            effective,
            measurement,
        },
        status,
        subject: first_reference(o.get("subject")),
        performer: first_reference(o.get("performer")),
        identifier,
    })
}
