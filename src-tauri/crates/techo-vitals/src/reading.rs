//! Readings: what was measured, when; validation, warnings, identity.

use crate::error::{Span, VitalsError};
use crate::kind::{KindSpec, Range, ValueSpec, VitalKind, DIASTOLIC, PULSE, SYSTOLIC};
use crate::units::{convert, format_decimal, round_to, Unit};
use chrono::{DateTime, Duration, FixedOffset, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How far in the future (device clocks drift) a measurement time may be.
pub const CLOCK_SKEW_TOLERANCE_MINUTES: i64 = 5;

/// Longest accepted pain body-site text, in characters.
pub const MAX_SITE_CHARS: usize = 200;

/// Morning or evening home blood pressure (Japanese guidelines: 朝/晩).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BpContext {
    Morning,
    Evening,
}

/// Which upper arm the cuff was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arm {
    Left,
    Right,
}

/// Body position during the measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    Sitting,
    Standing,
    Lying,
}

/// When glucose was measured relative to meals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GlucoseTiming {
    Fasting,
    PostMeal,
    Random,
}

/// A home blood pressure reading (mmHg; pulse /min).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BloodPressure {
    pub systolic: f64,
    pub diastolic: f64,
    pub pulse: Option<f64>,
    pub context: Option<BpContext>,
    pub arm: Option<Arm>,
    pub position: Option<Position>,
}

/// What was measured, **in the kind's canonical unit** (mmHg, /min, °C, kg, cm, kg/m2, mg/dL,
/// %, L/min, steps, h, score). Use [`Measurement::from_quantity`] / [`to_canonical`] to
/// convert from other units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Measurement {
    BloodPressure(BloodPressure),
    HeartRate { per_min: f64 },
    BodyTemperature { celsius: f64 },
    BodyWeight { kg: f64 },
    BodyHeight { cm: f64 },
    Bmi { kg_m2: f64 },
    BloodGlucose { mg_dl: f64, timing: GlucoseTiming },
    SpO2 { percent: f64 },
    PeakFlow { l_min: f64 },
    Steps { count: f64 },
    SleepDuration { hours: f64 },
    PainSeverity { score: f64, site: Option<String> },
}

/// A measurement at a time. `effective` keeps the offset the person was in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub effective: DateTime<FixedOffset>,
    pub measurement: Measurement,
}

/// A reading that passed [`Reading::check`], with its warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    pub reading: Reading,
    pub warnings: Vec<Warning>,
}

/// Above or below the usual range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Above,
    Below,
}

/// A possible but unusual value: accepted, flagged for the person to double-check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub field: String,
    pub direction: Direction,
    pub usual_min: f64,
    pub usual_max: f64,
    pub unit: Unit,
}

impl Warning {
    /// Stable code: `above_usual_range` or `below_usual_range`.
    pub fn code(&self) -> &'static str {
        match self.direction {
            Direction::Above => "above_usual_range",
            Direction::Below => "below_usual_range",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.direction {
            Direction::Above => "above",
            Direction::Below => "below",
        };
        write!(
            f,
            "{} is {dir} the usual range {}; it was saved, but please double-check the reading",
            self.field,
            Span(self.usual_min, self.usual_max, self.unit.symbol())
        )
    }
}

/// Converts an entered value to `kind`'s canonical unit and rounds it to the kind's decimals
/// (whole-number kinds are not rounded, so 2.5 steps stays an error). Rejects NaN/±inf,
/// negative values and units that do not measure the kind. For blood pressure this is the
/// systolic/diastolic value (mmHg only).
pub fn to_canonical(kind: VitalKind, value: f64, unit: Unit) -> Result<f64, VitalsError> {
    let spec = kind.spec();
    convert_input(spec, spec.value(), value, unit)
}

pub(crate) fn convert_input(
    spec: &KindSpec,
    v: &ValueSpec,
    value: f64,
    unit: Unit,
) -> Result<f64, VitalsError> {
    if !value.is_finite() {
        return Err(VitalsError::NotFinite { field: v.field });
    }
    if value < 0.0 {
        return Err(VitalsError::Negative { field: v.field });
    }
    if !spec.units.contains(&unit) {
        return Err(VitalsError::UnitNotAllowed {
            unit: unit_name(unit),
            kind: spec.name_en,
            allowed: spec.units_text,
        });
    }
    let c = convert(value, unit, v.unit).ok_or(VitalsError::UnitNotAllowed {
        unit: unit_name(unit),
        kind: spec.name_en,
        allowed: spec.units_text,
    })?;
    Ok(if v.whole { c } else { round_to(c, v.decimals) })
}

fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Score => "score",
        _ => u.symbol(),
    }
}

impl Measurement {
    /// A blood pressure reading in mmHg (pulse in /min) without context, arm or position.
    pub fn blood_pressure(systolic: f64, diastolic: f64, pulse: Option<f64>) -> Measurement {
        Measurement::BloodPressure(BloodPressure {
            systolic,
            diastolic,
            pulse,
            context: None,
            arm: None,
            position: None,
        })
    }

    /// A single-number measurement entered in any unit the kind accepts (°F, lb, mmol/L…).
    /// Blood pressure needs two numbers: use [`Measurement::blood_pressure`]. Glucose kinds
    /// get timing `Fasting` (for [`VitalKind::FastingGlucose`]) or `Random`; pain gets no site.
    pub fn from_quantity(
        kind: VitalKind,
        value: f64,
        unit: Unit,
    ) -> Result<Measurement, VitalsError> {
        let v = to_canonical(kind, value, unit)?;
        Ok(match kind {
            VitalKind::BloodPressure => {
                return Err(VitalsError::MissingValue { field: "diastolic" })
            }
            VitalKind::HeartRate => Measurement::HeartRate { per_min: v },
            VitalKind::BodyTemperature => Measurement::BodyTemperature { celsius: v },
            VitalKind::BodyWeight => Measurement::BodyWeight { kg: v },
            VitalKind::BodyHeight => Measurement::BodyHeight { cm: v },
            VitalKind::Bmi => Measurement::Bmi { kg_m2: v },
            VitalKind::FastingGlucose => Measurement::BloodGlucose {
                mg_dl: v,
                timing: GlucoseTiming::Fasting,
            },
            VitalKind::BloodGlucose => Measurement::BloodGlucose {
                mg_dl: v,
                timing: GlucoseTiming::Random,
            },
            VitalKind::SpO2 => Measurement::SpO2 { percent: v },
            VitalKind::PeakFlow => Measurement::PeakFlow { l_min: v },
            VitalKind::Steps => Measurement::Steps { count: v },
            VitalKind::SleepDuration => Measurement::SleepDuration { hours: v },
            VitalKind::PainSeverity => Measurement::PainSeverity {
                score: v,
                site: None,
            },
        })
    }

    /// Glucose in mg/dL or mmol/L.
    pub fn glucose(
        value: f64,
        unit: Unit,
        timing: GlucoseTiming,
    ) -> Result<Measurement, VitalsError> {
        let kind = if timing == GlucoseTiming::Fasting {
            VitalKind::FastingGlucose
        } else {
            VitalKind::BloodGlucose
        };
        Ok(Measurement::BloodGlucose {
            mg_dl: to_canonical(kind, value, unit)?,
            timing,
        })
    }

    pub fn kind(&self) -> VitalKind {
        match self {
            Measurement::BloodPressure(_) => VitalKind::BloodPressure,
            Measurement::HeartRate { .. } => VitalKind::HeartRate,
            Measurement::BodyTemperature { .. } => VitalKind::BodyTemperature,
            Measurement::BodyWeight { .. } => VitalKind::BodyWeight,
            Measurement::BodyHeight { .. } => VitalKind::BodyHeight,
            Measurement::Bmi { .. } => VitalKind::Bmi,
            Measurement::BloodGlucose {
                timing: GlucoseTiming::Fasting,
                ..
            } => VitalKind::FastingGlucose,
            Measurement::BloodGlucose { .. } => VitalKind::BloodGlucose,
            Measurement::SpO2 { .. } => VitalKind::SpO2,
            Measurement::PeakFlow { .. } => VitalKind::PeakFlow,
            Measurement::Steps { .. } => VitalKind::Steps,
            Measurement::SleepDuration { .. } => VitalKind::SleepDuration,
            Measurement::PainSeverity { .. } => VitalKind::PainSeverity,
        }
    }

    /// The numbers with their specs (blood pressure: systolic, diastolic, then pulse if any).
    pub fn values(&self) -> Vec<(&'static ValueSpec, f64)> {
        let one = |v: f64| vec![(self.kind().spec().value(), v)];
        match self {
            Measurement::BloodPressure(bp) => {
                let mut out = vec![(&SYSTOLIC, bp.systolic), (&DIASTOLIC, bp.diastolic)];
                if let Some(p) = bp.pulse {
                    out.push((&PULSE, p));
                }
                out
            }
            Measurement::HeartRate { per_min: v }
            | Measurement::BodyTemperature { celsius: v }
            | Measurement::BodyWeight { kg: v }
            | Measurement::BodyHeight { cm: v }
            | Measurement::Bmi { kg_m2: v }
            | Measurement::BloodGlucose { mg_dl: v, .. }
            | Measurement::SpO2 { percent: v }
            | Measurement::PeakFlow { l_min: v }
            | Measurement::Steps { count: v }
            | Measurement::SleepDuration { hours: v }
            | Measurement::PainSeverity { score: v, .. } => one(*v),
        }
    }

    fn values_mut(&mut self) -> Vec<(&'static ValueSpec, &mut f64)> {
        let spec = self.kind().spec().value();
        match self {
            Measurement::BloodPressure(bp) => {
                let mut out = vec![
                    (&SYSTOLIC, &mut bp.systolic),
                    (&DIASTOLIC, &mut bp.diastolic),
                ];
                if let Some(p) = bp.pulse.as_mut() {
                    out.push((&PULSE, p));
                }
                out
            }
            Measurement::HeartRate { per_min: v }
            | Measurement::BodyTemperature { celsius: v }
            | Measurement::BodyWeight { kg: v }
            | Measurement::BodyHeight { cm: v }
            | Measurement::Bmi { kg_m2: v }
            | Measurement::BloodGlucose { mg_dl: v, .. }
            | Measurement::SpO2 { percent: v }
            | Measurement::PeakFlow { l_min: v }
            | Measurement::Steps { count: v }
            | Measurement::SleepDuration { hours: v }
            | Measurement::PainSeverity { score: v, .. } => vec![(spec, v)],
        }
    }

    /// Rounds to the kind's decimals (not whole-number kinds) and tidies text.
    pub(crate) fn normalize(&mut self) {
        for (spec, v) in self.values_mut() {
            if !spec.whole && v.is_finite() {
                *v = round_to(*v, spec.decimals);
            }
        }
        if let Measurement::PainSeverity { site, .. } = self {
            *site = crate::text::clean(site.as_deref());
        }
    }

    /// Checks the values (not the time): finite, not negative, whole where required, inside
    /// the possible range, systolic > diastolic, text length. Returns the warnings.
    pub fn validate(&self) -> Result<Vec<Warning>, VitalsError> {
        let mut warnings = Vec::new();
        for (spec, v) in self.values() {
            if !v.is_finite() {
                return Err(VitalsError::NotFinite { field: spec.field });
            }
            if v < 0.0 {
                return Err(VitalsError::Negative { field: spec.field });
            }
            if spec.whole && v.fract() != 0.0 {
                return Err(VitalsError::NotWholeNumber { field: spec.field });
            }
            if !spec.possible.contains(v) {
                return Err(out_of_range(spec));
            }
            if let Some(w) = unusual(spec, v) {
                warnings.push(w);
            }
        }
        match self {
            Measurement::BloodPressure(bp) if bp.systolic <= bp.diastolic => {
                return Err(VitalsError::SystolicNotAboveDiastolic)
            }
            Measurement::PainSeverity { site: Some(s), .. }
                if s.chars().count() > MAX_SITE_CHARS =>
            {
                return Err(VitalsError::TextTooLong {
                    field: "pain body site",
                    max: MAX_SITE_CHARS,
                })
            }
            _ => {}
        }
        Ok(warnings)
    }
}

pub(crate) fn out_of_range(spec: &ValueSpec) -> VitalsError {
    VitalsError::OutOfRange {
        field: spec.field,
        min: spec.possible.min,
        max: spec.possible.max,
        unit: spec.unit.symbol(),
    }
}

fn unusual(spec: &ValueSpec, v: f64) -> Option<Warning> {
    let Range { min, max } = spec.usual;
    let direction = if v > max {
        Direction::Above
    } else if v < min {
        Direction::Below
    } else {
        return None;
    };
    Some(Warning {
        field: spec.field.to_string(),
        direction,
        usual_min: min,
        usual_max: max,
        unit: spec.unit,
    })
}

impl Reading {
    pub fn new(effective: DateTime<FixedOffset>, measurement: Measurement) -> Reading {
        Reading {
            effective,
            measurement,
        }
    }

    pub fn kind(&self) -> VitalKind {
        self.measurement.kind()
    }

    /// Normalizes (rounds values to the kind's decimals, drops sub-second time, trims text)
    /// and validates: values as in [`Measurement::validate`], and a time no more than
    /// [`CLOCK_SKEW_TOLERANCE_MINUTES`] after `now`.
    pub fn check(mut self, now: DateTime<FixedOffset>) -> Result<Checked, VitalsError> {
        self.effective = self.effective.with_nanosecond(0).unwrap_or(self.effective);
        self.measurement.normalize();
        let warnings = self.measurement.validate()?;
        if self.effective > now + Duration::minutes(CLOCK_SKEW_TOLERANCE_MINUTES) {
            return Err(VitalsError::FutureTime {
                tolerance_minutes: CLOCK_SKEW_TOLERANCE_MINUTES,
            });
        }
        Ok(Checked {
            reading: self,
            warnings,
        })
    }

    /// `kind|UTC instant|values`, e.g. `blood-pressure|2026-11-26T22:30:00Z|128/82/70`: equal
    /// for the same reading however it was entered (any offset, any input unit, any source
    /// file). Text (pain site) and qualifiers (arm, position) are not part of it.
    pub fn identity_key(&self) -> String {
        let when = self
            .effective
            .with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%SZ");
        let mut vals: Vec<String> = self
            .measurement
            .values()
            .iter()
            .map(|(s, v)| format_decimal(*v, s.decimals))
            .collect();
        if let Measurement::BloodPressure(BloodPressure { pulse: None, .. }) = self.measurement {
            vals.push("-".into());
        }
        format!("{}|{}|{}", self.kind().slug(), when, vals.join("/"))
    }

    /// The value of the `urn:techo:home-entry` identifier: `subject|identity_key`.
    pub fn identifier_value(&self, subject: &str) -> String {
        format!("{subject}|{}", self.identity_key())
    }
}

/// BMI (kg/m2, 1 decimal) from weight in kg and height in cm; `None` unless both are positive
/// and finite.
pub fn bmi(weight_kg: f64, height_cm: f64) -> Option<f64> {
    if !(weight_kg.is_finite() && height_cm.is_finite() && weight_kg > 0.0 && height_cm > 0.0) {
        return None;
    }
    let m = height_cm / 100.0;
    Some(round_to(weight_kg / (m * m), 1))
}

/// A BMI reading for a weight reading, at the weight's time, using the latest height measured
/// at or before it (or, when there is none, the earliest one after it: adult height rarely
/// changes, and people often enter it once, later). `None` if `weight` is not a weight or no
/// height is given.
pub fn bmi_reading(weight: &Reading, heights: &[Reading]) -> Option<Reading> {
    let Measurement::BodyWeight { kg } = weight.measurement else {
        return None;
    };
    let cm_of = |r: &Reading| match r.measurement {
        Measurement::BodyHeight { cm } => Some((r.effective, cm)),
        _ => None,
    };
    let all = heights.iter().filter_map(cm_of);
    let before = all
        .clone()
        .filter(|(t, _)| *t <= weight.effective)
        .max_by_key(|(t, _)| *t);
    let (_, cm) = before.or_else(|| all.min_by_key(|(t, _)| *t))?;
    Some(Reading::new(
        weight.effective,
        Measurement::Bmi {
            kg_m2: bmi(kg, cm)?,
        },
    ))
}

impl Measurement {
    /// The reading as a short English phrase (`128/82 mmHg, pulse 70/min, morning`), for lists.
    pub fn describe(&self) -> String {
        match self {
            Measurement::BloodPressure(bp) => {
                let mut s = format!("{}/{} mmHg", format_decimal(bp.systolic, 0), format_decimal(bp.diastolic, 0));
                if let Some(p) = bp.pulse {
                    s.push_str(&format!(", pulse {}/min", format_decimal(p, 0)));
                }
                if let Some(c) = bp.context {
                    s.push_str(if c == BpContext::Morning { ", morning" } else { ", evening" });
                }
                if let Some(a) = bp.arm {
                    s.push_str(if a == Arm::Left { ", left arm" } else { ", right arm" });
                }
                if let Some(p) = bp.position {
                    s.push_str(match p {
                        Position::Sitting => ", sitting",
                        Position::Standing => ", standing",
                        Position::Lying => ", lying",
                    });
                }
                s
            }
            Measurement::PainSeverity { score, site } => {
                let mut s = format!("{}/10", format_decimal(*score, 0));
                if let Some(site) = site {
                    s.push_str(&format!(" ({})", one_line(site)));
                }
                s
            }
            other => {
                let (spec, v) = other.values()[0];
                let mut s = format!("{} {}", format_decimal(v, spec.decimals), spec.unit.symbol());
                if let Measurement::BloodGlucose { timing, .. } = other {
                    s.push_str(match timing {
                        GlucoseTiming::Fasting => " (fasting)",
                        GlucoseTiming::PostMeal => " (after a meal)",
                        GlucoseTiming::Random => "",
                    });
                }
                s
            }
        }
    }
}

/// Text on one line, runs of whitespace as one space.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
