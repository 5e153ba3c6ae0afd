//! The vital kinds: one data table ([`VitalKind::spec`]) with codes, units, names, categories,
//! profiles and ranges. Everything else in the crate reads this table.

use crate::units::Unit;
use serde::{Deserialize, Serialize};

pub const LOINC: &str = "http://loinc.org";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// The FHIR R4 base vital-signs profile.
pub const VITALSIGNS_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/vitalsigns";
/// JP Core's vital-signs profile.
pub const JP_CORE_VITALSIGNS_PROFILE: &str =
    "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_VitalSigns";
/// Techo's own code system for component codes that have no standard code.
pub const TECHO_COMPONENT_SYSTEM: &str =
    "http://techo.example/fhir/CodeSystem/observation-component";
/// Techo's code system for measurement contexts (morning/evening, fasting/post-meal/random).
pub const TECHO_CONTEXT_SYSTEM: &str = "http://techo.example/fhir/CodeSystem/measurement-context";

/// One coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub system: &'static str,
    pub code: &'static str,
    pub display: &'static str,
}

const fn loinc(code: &'static str, display: &'static str) -> Code {
    Code {
        system: LOINC,
        code,
        display,
    }
}

/// A closed interval in the canonical unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    pub fn contains(&self, v: f64) -> bool {
        v >= self.min && v <= self.max
    }
}

const fn r(min: f64, max: f64) -> Range {
    Range { min, max }
}

/// One measured number of a kind (blood pressure has three: systolic, diastolic, pulse).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueSpec {
    /// The field name used in errors and warnings (`systolic`, `body temperature`).
    pub field: &'static str,
    /// Its LOINC code (the component code for blood pressure; the Observation code otherwise).
    pub code: Code,
    pub name_ja: &'static str,
    /// The canonical unit: what is stored.
    pub unit: Unit,
    /// Decimals kept in the canonical unit.
    pub decimals: u8,
    /// Only whole numbers are valid (steps, pain score); such values are never rounded.
    pub whole: bool,
    /// Outside this: rejected as impossible.
    pub possible: Range,
    /// Outside this (but possible): accepted with a [`crate::Warning`].
    pub usual: Range,
}

/// Observation category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    VitalSigns,
    Activity,
    Survey,
}

impl Category {
    pub fn code(self) -> &'static str {
        match self {
            Category::VitalSigns => "vital-signs",
            Category::Activity => "activity",
            Category::Survey => "survey",
        }
    }
    pub fn display(self) -> &'static str {
        match self {
            Category::VitalSigns => "Vital Signs",
            Category::Activity => "Activity",
            Category::Survey => "Survey",
        }
    }
    pub fn name_ja(self) -> &'static str {
        match self {
            Category::VitalSigns => "バイタルサイン",
            Category::Activity => "活動",
            Category::Survey => "問診",
        }
    }
}

/// A kind of home measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VitalKind {
    BloodPressure,
    HeartRate,
    BodyTemperature,
    BodyWeight,
    BodyHeight,
    Bmi,
    /// Fasting glucose (LOINC 1558-6).
    FastingGlucose,
    /// Post-meal or random glucose (LOINC 2339-0; the timing is a component).
    BloodGlucose,
    SpO2,
    PeakFlow,
    Steps,
    SleepDuration,
    PainSeverity,
}

/// Everything about one kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindSpec {
    pub kind: VitalKind,
    /// Stable machine name (used in identifiers: changing one breaks re-import idempotence).
    pub slug: &'static str,
    pub name_en: &'static str,
    pub name_ja: &'static str,
    /// `Observation.code.coding`, in order (SpO2 has two).
    pub codes: &'static [Code],
    /// Further LOINC codes recognised when reading other systems' Observations.
    pub read_codes: &'static [&'static str],
    pub category: Category,
    /// `meta.profile`.
    pub profiles: &'static [&'static str],
    /// The measured numbers; for blood pressure: systolic, diastolic, pulse.
    pub values: &'static [ValueSpec],
    /// Units accepted on input, canonical first.
    pub units: &'static [Unit],
    /// The same, for messages ("°C or °F").
    pub units_text: &'static str,
}

impl KindSpec {
    /// The (first) value spec.
    pub fn value(&self) -> &'static ValueSpec {
        &self.values[0]
    }
}

const VITAL_PROFILES: &[&str] = &[VITALSIGNS_PROFILE, JP_CORE_VITALSIGNS_PROFILE];

pub(crate) const BP_PANEL: Code =
    loinc("85354-9", "Blood pressure panel with all children optional");
pub(crate) const BODY_POSITION: Code = loinc("8361-8", "Body position with respect to gravity");
pub(crate) const CONTEXT_COMPONENT: Code = Code {
    system: TECHO_COMPONENT_SYSTEM,
    code: "measurement-context",
    display: "Measurement context",
};

const HR_CODE: Code = loinc("8867-4", "Heart rate");

pub(crate) static SYSTOLIC: ValueSpec = ValueSpec {
    field: "systolic",
    code: loinc("8480-6", "Systolic blood pressure"),
    name_ja: "収縮期血圧",
    unit: Unit::MmHg,
    decimals: 0,
    whole: false,
    possible: r(40.0, 300.0),
    usual: r(80.0, 180.0),
};
pub(crate) static DIASTOLIC: ValueSpec = ValueSpec {
    field: "diastolic",
    code: loinc("8462-4", "Diastolic blood pressure"),
    name_ja: "拡張期血圧",
    unit: Unit::MmHg,
    decimals: 0,
    whole: false,
    possible: r(20.0, 200.0),
    usual: r(40.0, 110.0),
};
pub(crate) static PULSE: ValueSpec = ValueSpec {
    field: "pulse",
    code: HR_CODE,
    name_ja: "脈拍数",
    unit: Unit::PerMinute,
    decimals: 0,
    whole: false,
    possible: r(20.0, 300.0),
    usual: r(40.0, 120.0),
};
static BP_VALUES: [ValueSpec; 3] = [SYSTOLIC, DIASTOLIC, PULSE];
static HR_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "heart rate",
    ..PULSE
}];
static TEMP_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "body temperature",
    code: loinc("8310-5", "Body temperature"),
    name_ja: "体温",
    unit: Unit::Celsius,
    decimals: 1,
    whole: false,
    possible: r(30.0, 45.0),
    usual: r(35.0, 38.0),
}];
static WEIGHT_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "body weight",
    code: loinc("29463-7", "Body weight"),
    name_ja: "体重",
    unit: Unit::Kilogram,
    decimals: 1,
    whole: false,
    possible: r(0.2, 500.0),
    usual: r(2.0, 200.0),
}];
static HEIGHT_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "body height",
    code: loinc("8302-2", "Body height"),
    name_ja: "身長",
    unit: Unit::Centimetre,
    decimals: 1,
    whole: false,
    possible: r(20.0, 272.0),
    usual: r(45.0, 210.0),
}];
static BMI_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "BMI",
    code: loinc("39156-5", "Body mass index (BMI) [Ratio]"),
    name_ja: "BMI",
    unit: Unit::KgPerM2,
    decimals: 1,
    whole: false,
    possible: r(5.0, 150.0),
    usual: r(15.0, 40.0),
}];
static FASTING_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "fasting glucose",
    code: loinc("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"),
    name_ja: "空腹時血糖",
    unit: Unit::MgPerDl,
    decimals: 0,
    whole: false,
    possible: r(10.0, 2000.0),
    usual: r(60.0, 160.0),
}];
static GLUCOSE_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "blood glucose",
    code: loinc("2339-0", "Glucose [Mass/volume] in Blood"),
    name_ja: "血糖値",
    unit: Unit::MgPerDl,
    decimals: 0,
    whole: false,
    possible: r(10.0, 2000.0),
    usual: r(60.0, 250.0),
}];
static SPO2_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "SpO2",
    code: loinc(
        "59408-5",
        "Oxygen saturation in Arterial blood by Pulse oximetry",
    ),
    name_ja: "SpO2 (経皮的動脈血酸素飽和度)",
    unit: Unit::Percent,
    decimals: 0,
    whole: false,
    possible: r(50.0, 100.0),
    usual: r(90.0, 100.0),
}];
static PEF_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "peak flow",
    code: loinc(
        "19935-6",
        "Maximum expiratory gas flow Respiratory system airway by Peak flow meter",
    ),
    name_ja: "ピークフロー",
    unit: Unit::LitrePerMinute,
    decimals: 0,
    whole: false,
    possible: r(30.0, 1000.0),
    usual: r(100.0, 800.0),
}];
static STEPS_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "steps",
    code: loinc("55423-8", "Number of steps in unspecified time Pedometer"),
    name_ja: "歩数",
    unit: Unit::Steps,
    decimals: 0,
    whole: true,
    possible: r(0.0, 200_000.0),
    usual: r(0.0, 50_000.0),
}];
static SLEEP_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "sleep duration",
    code: loinc("93832-4", "Sleep duration"),
    name_ja: "睡眠時間",
    unit: Unit::Hour,
    decimals: 2,
    whole: false,
    possible: r(0.0, 24.0),
    usual: r(3.0, 14.0),
}];
static PAIN_VALUES: [ValueSpec; 1] = [ValueSpec {
    field: "pain severity",
    code: loinc(
        "72514-3",
        "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
    ),
    name_ja: "痛みの強さ",
    unit: Unit::Score,
    decimals: 0,
    whole: true,
    possible: r(0.0, 10.0),
    usual: r(0.0, 10.0),
}];

static SPECS: [KindSpec; 13] = [
    KindSpec {
        kind: VitalKind::BloodPressure,
        slug: "blood-pressure",
        name_en: "blood pressure",
        name_ja: "血圧",
        codes: &[BP_PANEL],
        read_codes: &["55284-4", "35094-2"],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &BP_VALUES,
        units: &[Unit::MmHg],
        units_text: "mmHg",
    },
    KindSpec {
        kind: VitalKind::HeartRate,
        slug: "heart-rate",
        name_en: "heart rate",
        name_ja: "脈拍数",
        codes: &[HR_CODE],
        read_codes: &[],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &HR_VALUES,
        units: &[Unit::PerMinute],
        units_text: "/min (beats per minute)",
    },
    KindSpec {
        kind: VitalKind::BodyTemperature,
        slug: "body-temperature",
        name_en: "body temperature",
        name_ja: "体温",
        codes: &[TEMP_VALUES[0].code],
        read_codes: &[],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &TEMP_VALUES,
        units: &[Unit::Celsius, Unit::Fahrenheit],
        units_text: "°C or °F",
    },
    KindSpec {
        kind: VitalKind::BodyWeight,
        slug: "body-weight",
        name_en: "body weight",
        name_ja: "体重",
        codes: &[WEIGHT_VALUES[0].code],
        read_codes: &["3141-9"],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &WEIGHT_VALUES,
        units: &[Unit::Kilogram, Unit::Pound, Unit::Gram],
        units_text: "kg, lb or g",
    },
    KindSpec {
        kind: VitalKind::BodyHeight,
        slug: "body-height",
        name_en: "body height",
        name_ja: "身長",
        codes: &[HEIGHT_VALUES[0].code],
        read_codes: &["3137-7"],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &HEIGHT_VALUES,
        units: &[Unit::Centimetre, Unit::Inch],
        units_text: "cm or in",
    },
    KindSpec {
        kind: VitalKind::Bmi,
        slug: "bmi",
        name_en: "BMI",
        name_ja: "BMI",
        codes: &[BMI_VALUES[0].code],
        read_codes: &[],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &BMI_VALUES,
        units: &[Unit::KgPerM2],
        units_text: "kg/m2",
    },
    KindSpec {
        kind: VitalKind::FastingGlucose,
        slug: "fasting-glucose",
        name_en: "fasting glucose",
        name_ja: "空腹時血糖",
        codes: &[FASTING_VALUES[0].code],
        read_codes: &[],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &FASTING_VALUES,
        units: &[Unit::MgPerDl, Unit::MmolPerL],
        units_text: "mg/dL or mmol/L",
    },
    KindSpec {
        kind: VitalKind::BloodGlucose,
        slug: "blood-glucose",
        name_en: "blood glucose",
        name_ja: "血糖値",
        codes: &[GLUCOSE_VALUES[0].code],
        read_codes: &["2345-7", "15074-8", "41653-7"],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &GLUCOSE_VALUES,
        units: &[Unit::MgPerDl, Unit::MmolPerL],
        units_text: "mg/dL or mmol/L",
    },
    KindSpec {
        kind: VitalKind::SpO2,
        slug: "spo2",
        name_en: "SpO2",
        name_ja: "SpO2 (経皮的動脈血酸素飽和度)",
        codes: &[
            SPO2_VALUES[0].code,
            loinc("2708-6", "Oxygen saturation in Arterial blood"),
        ],
        read_codes: &[],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &SPO2_VALUES,
        units: &[Unit::Percent],
        units_text: "%",
    },
    KindSpec {
        kind: VitalKind::PeakFlow,
        slug: "peak-flow",
        name_en: "peak expiratory flow",
        name_ja: "ピークフロー",
        codes: &[PEF_VALUES[0].code],
        read_codes: &[],
        category: Category::VitalSigns,
        profiles: VITAL_PROFILES,
        values: &PEF_VALUES,
        units: &[Unit::LitrePerMinute],
        units_text: "L/min",
    },
    KindSpec {
        kind: VitalKind::Steps,
        slug: "steps",
        name_en: "steps",
        name_ja: "歩数",
        codes: &[STEPS_VALUES[0].code],
        read_codes: &["41950-7"],
        category: Category::Activity,
        profiles: &[],
        values: &STEPS_VALUES,
        units: &[Unit::Steps],
        units_text: "steps",
    },
    KindSpec {
        kind: VitalKind::SleepDuration,
        slug: "sleep-duration",
        name_en: "sleep duration",
        name_ja: "睡眠時間",
        codes: &[SLEEP_VALUES[0].code],
        read_codes: &[],
        category: Category::Activity,
        profiles: &[],
        values: &SLEEP_VALUES,
        units: &[Unit::Hour, Unit::Minute],
        units_text: "h or min",
    },
    KindSpec {
        kind: VitalKind::PainSeverity,
        slug: "pain-severity",
        name_en: "pain severity",
        name_ja: "痛みの強さ",
        codes: &[PAIN_VALUES[0].code],
        read_codes: &[],
        category: Category::Survey,
        profiles: &[],
        values: &PAIN_VALUES,
        units: &[Unit::Score],
        units_text: "a score from 0 to 10",
    },
];

impl VitalKind {
    pub const ALL: [VitalKind; 13] = [
        VitalKind::BloodPressure,
        VitalKind::HeartRate,
        VitalKind::BodyTemperature,
        VitalKind::BodyWeight,
        VitalKind::BodyHeight,
        VitalKind::Bmi,
        VitalKind::FastingGlucose,
        VitalKind::BloodGlucose,
        VitalKind::SpO2,
        VitalKind::PeakFlow,
        VitalKind::Steps,
        VitalKind::SleepDuration,
        VitalKind::PainSeverity,
    ];

    /// The kind's row of the data table.
    pub fn spec(self) -> &'static KindSpec {
        &SPECS[self as usize]
    }

    pub fn slug(self) -> &'static str {
        self.spec().slug
    }

    /// The kind an Observation with this LOINC code is read as (written codes first, then
    /// [`KindSpec::read_codes`]). The BP component codes are not kinds, except 8867-4.
    pub fn from_loinc(code: &str) -> Option<VitalKind> {
        SPECS
            .iter()
            .find(|s| s.codes.iter().any(|c| c.code == code))
            .or_else(|| SPECS.iter().find(|s| s.read_codes.contains(&code)))
            .map(|s| s.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_kind_and_consistent() {
        for k in VitalKind::ALL {
            let s = k.spec();
            assert_eq!(s.kind, k);
            assert_eq!(VitalKind::from_loinc(s.codes[0].code), Some(k));
            assert_eq!(s.units[0], s.value().unit, "{k:?}: canonical unit first");
            for v in s.values {
                assert!(
                    v.possible.min <= v.usual.min && v.usual.max <= v.possible.max,
                    "{k:?}"
                );
            }
        }
        let slugs: std::collections::BTreeSet<_> =
            VitalKind::ALL.iter().map(|k| k.slug()).collect();
        assert_eq!(slugs.len(), VitalKind::ALL.len());
    }
}
