//! The home vitals screen's commands: enter a reading or a diary entry for a person, and read
//! a kind's readings (home and hospital together) for its chart and list.
//!
//! Readings are health data: they travel only in answers to the person's own window, and the
//! shell never logs them.

use crate::{Command, IpcError};
use serde::{Deserialize, Serialize};

/// `vital_kinds`: what can be entered, with units (canonical first).
pub struct VitalKindsCmd;
impl Command for VitalKindsCmd {
    const NAME: &'static str = "vital_kinds";
    type Args = crate::NoArgs;
    type Output = Vec<VitalKindInfo>;
}

/// `add_vital`: store a reading entered at home (as an `Observation` of the vital-signs
/// profile, from the vault's home source).
pub struct AddVitalCmd;
impl Command for AddVitalCmd {
    const NAME: &'static str = "add_vital";
    type Args = AddVitalArgs;
    type Output = VitalAdded;
}

/// `vitals`: a person's readings of one kind, newest first, at most [`MAX_VITAL_POINTS`].
pub struct VitalsCmd;
impl Command for VitalsCmd {
    const NAME: &'static str = "vitals";
    type Args = VitalsArgs;
    type Output = Vec<VitalPoint>;
}

/// `add_diary`: store a symptom / mood diary entry (a `QuestionnaireResponse`).
pub struct AddDiaryCmd;
impl Command for AddDiaryCmd {
    const NAME: &'static str = "add_diary";
    type Args = AddDiaryArgs;
    type Output = DiaryAdded;
}

/// `diaries`: a person's diary entries, newest first, at most [`MAX_VITAL_POINTS`].
pub struct DiariesCmd;
impl Command for DiariesCmd {
    const NAME: &'static str = "diaries";
    type Args = PersonIdArgs;
    type Output = Vec<DiaryView>;
}

/// `diary_options`: the choices the diary forms offer (the joints of the joint-pain diary).
pub struct DiaryOptionsCmd;
impl Command for DiaryOptionsCmd {
    const NAME: &'static str = "diary_options";
    type Args = crate::NoArgs;
    type Output = DiaryOptions;
}

/// `bp_handbook`: the home blood-pressure handbook — morning and evening averages per week
/// (Monday to Sunday, newest first) against the vault's target.
pub struct BpHandbookCmd;
impl Command for BpHandbookCmd {
    const NAME: &'static str = "bp_handbook";
    type Args = HandbookArgs;
    type Output = BpHandbook;
}

/// `set_bp_target`: the home blood-pressure target the handbook and the chart use (kept in
/// the vault; default 135/85, the Japanese home target).
pub struct SetBpTargetCmd;
impl Command for SetBpTargetCmd {
    const NAME: &'static str = "set_bp_target";
    type Args = BpTargetArgs;
    type Output = BpTargetArgs;
}

/// `delete_entry`: delete a home reading or diary entry the person entered by mistake: it is
/// marked `entered-in-error` (a new version; the vault keeps it and its history) and leaves
/// lists, charts and the handbook. Hospital records cannot be deleted.
pub struct DeleteEntryCmd;
impl Command for DeleteEntryCmd {
    const NAME: &'static str = "delete_entry";
    type Args = RecordIdArgs;
    type Output = RecordIdArgs;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordIdArgs {
    pub record_id: i64,
}

/// The most weeks one handbook answer carries.
pub const MAX_HANDBOOK_WEEKS: u32 = 52;

/// The most readings (or diary entries) one answer carries.
pub const MAX_VITAL_POINTS: usize = 500;
/// Longest diary text (symptoms, note), in characters.
pub const MAX_DIARY_TEXT_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalKindInfo {
    /// Stable machine name (`blood-pressure`, `body-temperature`, …).
    pub slug: String,
    pub name_en: String,
    pub name_ja: String,
    /// Units accepted on entry, canonical first (`mmHg`, `Cel`/`[degF]`, …), as UCUM codes.
    pub units: Vec<String>,
    /// The units as people write them (`°C`, `°F`, …), same order.
    pub unit_labels: Vec<String>,
    /// Systolic / diastolic / pulse instead of one value.
    pub blood_pressure: bool,
    /// Decimals shown.
    pub decimals: u8,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddVitalArgs {
    pub person_id: i64,
    /// A [`VitalKindInfo::slug`].
    pub kind: String,
    /// When it was measured, local wall-clock time `YYYY-MM-DDTHH:MM` (an `<input
    /// type=datetime-local>`); `None`: now.
    pub at: Option<String>,
    /// The value of a one-value kind.
    pub value: Option<f64>,
    /// One of the kind's units (UCUM code); `None`: the canonical unit.
    pub unit: Option<String>,
    pub systolic: Option<f64>,
    pub diastolic: Option<f64>,
    pub pulse: Option<f64>,
    /// Blood pressure: `morning` or `evening`.
    pub context: Option<String>,
}

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VitalAdded {
    pub record_id: i64,
    /// The same reading was already there: nothing new was stored.
    pub duplicate: bool,
    /// Values outside the usual range, as sentences (stored anyway).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VitalsArgs {
    pub person_id: i64,
    pub kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonIdArgs {
    pub person_id: i64,
}

/// One reading for the chart and the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalPoint {
    pub record_id: i64,
    /// When it was measured (RFC 3339 with the offset it was taken at).
    pub at: String,
    /// In the canonical unit: `[systolic, diastolic]` (and pulse when given) for blood
    /// pressure, else one value.
    pub values: Vec<f64>,
    /// The canonical unit's label (`mmHg`, `°C`, …).
    pub unit: String,
    /// The reading as a short phrase (`128/82 mmHg, pulse 70/min, morning`).
    pub label: String,
    /// Entered or imported at home (else from a hospital, a clinic or a file).
    pub home: bool,
    /// Where it came from (`Home entries`, a facility's name, a file).
    pub source: String,
}

/// A diary entry: which diary (`kind`) and its answers; the fields of the other diaries stay
/// empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddDiaryArgs {
    pub person_id: i64,
    /// `mood` (default), `asthma` or `joint-pain`.
    pub kind: Option<String>,
    /// Local wall-clock time `YYYY-MM-DDTHH:MM`; `None`: now.
    pub at: Option<String>,
    /// Mood diary: 1 very bad … 5 very good.
    pub mood: Option<u8>,
    /// Mood diary: symptoms in words.
    pub symptoms: Option<String>,
    /// Any diary: a note.
    pub note: Option<String>,
    /// Asthma diary: daytime symptoms 0 none … 3 severe.
    pub daytime_symptoms: Option<u8>,
    pub night_awakenings: Option<u32>,
    pub reliever_puffs: Option<u32>,
    /// L/min.
    pub pef_morning: Option<u32>,
    pub pef_evening: Option<u32>,
    /// Joint-pain diary: joint codes from [`DiaryOptions::joints`].
    pub joints: Vec<String>,
    /// Joint-pain diary: 0–10.
    pub severity: Option<u8>,
    pub morning_stiffness_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiaryOptions {
    /// (code, label) of every joint, e.g. (`left-knee`, `左膝`).
    pub joints: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandbookArgs {
    pub person_id: i64,
    /// How many weeks back from this one (1–[`MAX_HANDBOOK_WEEKS`]).
    pub weeks: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpTargetArgs {
    /// mmHg, 90–200.
    pub systolic: u32,
    /// mmHg, 50–130, below the systolic.
    pub diastolic: u32,
}

/// Morning or evening readings of one week, averaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAvg {
    pub readings: u32,
    pub systolic: f64,
    pub diastolic: f64,
    pub pulse: Option<f64>,
    pub above_target: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandbookWeek {
    /// The Monday, `YYYY-MM-DD`.
    pub week_start: String,
    pub morning: Option<SessionAvg>,
    pub evening: Option<SessionAvg>,
    /// Readings at neither time of day (no morning/evening given, taken around midday).
    pub unclassified: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BpHandbook {
    pub target: BpTargetArgs,
    /// Newest week first; weeks without readings are left out.
    pub weeks: Vec<HandbookWeek>,
}

/// Checks a blood-pressure target.
pub fn validate_bp_target(t: &BpTargetArgs) -> Result<(), IpcError> {
    if !(90..=200).contains(&t.systolic) || !(50..=130).contains(&t.diastolic) || t.diastolic >= t.systolic {
        return Err(IpcError::invalid_input("Give a target between 90 and 200 mmHg for the upper value and 50 to 130 mmHg for the lower, the lower below the upper."));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiaryAdded {
    pub record_id: i64,
    pub duplicate: bool,
}

/// One diary entry for the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiaryView {
    pub record_id: i64,
    pub at: String,
    /// `asthma`, `joint-pain` or `mood`.
    pub kind: String,
    /// The diary's title (`体調・気分日誌`, …).
    pub title: String,
    /// The entry as one line (`mood 4/5; symptoms: …`).
    pub summary: String,
}

/// Checks a `YYYY-MM-DDTHH:MM` (seconds allowed) local time's shape; the shell checks the rest.
pub fn validate_local_time(s: &str) -> Result<(), IpcError> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b.get(i).is_some_and(|c| c.is_ascii_digit()));
    let ok = (b.len() == 16 || b.len() == 19)
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && (b.len() == 16 || (b[16] == b':' && digits(17..19)));
    if ok {
        Ok(())
    } else {
        Err(IpcError::invalid_input("Give the time as a date and a time (for example 2026-11-28 07:30)."))
    }
}

/// Checks a diary entry before it is sent: a known diary, something to store, numbers and
/// text within bounds. (The shell checks again, with the diary's own rules.)
pub fn validate_diary(args: &AddDiaryArgs) -> Result<(), IpcError> {
    fn text(t: &Option<String>) -> Option<&str> {
        t.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }
    if let Some(at) = &args.at {
        validate_local_time(at)?;
    }
    let kind = args.kind.as_deref().unwrap_or("mood");
    if !["mood", "asthma", "joint-pain"].contains(&kind) {
        return Err(IpcError::invalid_input("Choose a diary: mood, asthma or joint pain."));
    }
    if args.mood.is_some_and(|m| !(1..=5).contains(&m)) {
        return Err(IpcError::invalid_input("Choose a mood from 1 (very bad) to 5 (very good)."));
    }
    if args.daytime_symptoms.is_some_and(|m| m > 3) {
        return Err(IpcError::invalid_input("Choose daytime symptoms from 0 (none) to 3 (severe)."));
    }
    if args.severity.is_some_and(|m| m > 10) {
        return Err(IpcError::invalid_input("Choose a pain severity from 0 to 10."));
    }
    if args.joints.len() > 40 {
        return Err(IpcError::invalid_input("Choose at most 40 joints."));
    }
    let answered = match kind {
        "asthma" => {
            args.daytime_symptoms.is_some() || args.night_awakenings.is_some() || args.reliever_puffs.is_some() || args.pef_morning.is_some() || args.pef_evening.is_some()
        }
        "joint-pain" => !args.joints.is_empty() || args.severity.is_some() || args.morning_stiffness_minutes.is_some(),
        _ => args.mood.is_some() || text(&args.symptoms).is_some(),
    };
    for t in [text(&args.symptoms), text(&args.note)].into_iter().flatten() {
        if t.chars().count() > MAX_DIARY_TEXT_CHARS {
            return Err(IpcError::invalid_input(format!("Write at most {MAX_DIARY_TEXT_CHARS} characters in a diary field.")));
        }
    }
    if !answered && text(&args.note).is_none() {
        return Err(IpcError::invalid_input("The diary entry is empty: answer a question or write a note."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn local_times_are_a_date_and_a_time() {
        for ok in ["2026-11-28T07:30", "2026-11-28T07:30:15"] {
            assert!(validate_local_time(ok).is_ok(), "{ok}");
        }
        for bad in ["", "2026-11-28", "2026-11-28 07:30", "2026-11-28T7:30", "2026-11-28T07:30+09:00", "２０２６-11-28T07:30", "yesterday"] {
            assert_eq!(validate_local_time(bad).map_err(|e| e.code), Err(ErrorCode::InvalidInput), "{bad}");
        }
    }

    #[test]
    fn a_diary_entry_needs_content_within_bounds() {
        let entry = |mood, symptoms: &str| AddDiaryArgs { person_id: 1, mood, symptoms: Some(symptoms.to_owned()), ..Default::default() };
        assert!(validate_diary(&entry(Some(3), "")).is_ok());
        assert!(validate_diary(&entry(None, "頭痛")).is_ok());
        assert!(validate_diary(&entry(None, "  ")).is_err(), "only spaces is empty");
        assert!(validate_diary(&entry(Some(0), "x")).is_err());
        assert!(validate_diary(&entry(Some(6), "x")).is_err());
        assert!(validate_diary(&entry(None, &"痛".repeat(MAX_DIARY_TEXT_CHARS + 1))).is_err());
        assert!(validate_diary(&entry(None, &"痛".repeat(MAX_DIARY_TEXT_CHARS))).is_ok(), "the limit counts characters, not bytes");
        let bad_time = AddDiaryArgs { at: Some("tomorrow".into()), ..entry(Some(3), "") };
        assert!(validate_diary(&bad_time).is_err());
        let diary = |kind: &str| AddDiaryArgs { person_id: 1, kind: Some(kind.into()), ..Default::default() };
        assert!(validate_diary(&diary("asthma")).is_err(), "an empty asthma diary");
        assert!(validate_diary(&AddDiaryArgs { pef_morning: Some(420), ..diary("asthma") }).is_ok());
        assert!(validate_diary(&AddDiaryArgs { daytime_symptoms: Some(4), ..diary("asthma") }).is_err());
        assert!(validate_diary(&AddDiaryArgs { mood: Some(4), ..diary("asthma") }).is_err(), "a mood does not fill an asthma diary");
        assert!(validate_diary(&AddDiaryArgs { joints: vec!["left-knee".into()], ..diary("joint-pain") }).is_ok());
        assert!(validate_diary(&AddDiaryArgs { severity: Some(11), ..diary("joint-pain") }).is_err());
        assert!(validate_diary(&AddDiaryArgs { note: Some("よく眠れた".into()), ..diary("joint-pain") }).is_ok(), "a note alone is an entry");
        assert!(validate_diary(&diary("sleep")).is_err(), "an unknown diary");
        // Older windows send no kind: a mood diary.
        let old: AddDiaryArgs = serde_json::from_value(serde_json::json!({"person_id": 1, "mood": 3})).unwrap();
        assert!(old.kind.is_none() && validate_diary(&old).is_ok());
    }

    #[test]
    fn a_bp_target_is_plausible() {
        assert!(validate_bp_target(&BpTargetArgs { systolic: 135, diastolic: 85 }).is_ok());
        assert!(validate_bp_target(&BpTargetArgs { systolic: 125, diastolic: 75 }).is_ok());
        for (s, d) in [(80, 60), (210, 85), (135, 40), (135, 140), (100, 100)] {
            assert!(validate_bp_target(&BpTargetArgs { systolic: s, diastolic: d }).is_err(), "{s}/{d}");
        }
    }

    #[test]
    fn wire_shapes_are_stable() {
        let args = AddVitalArgs {
            person_id: 1,
            kind: "blood-pressure".into(),
            at: Some("2026-11-28T07:30".into()),
            value: None,
            unit: None,
            systolic: Some(128.0),
            diastolic: Some(82.0),
            pulse: None,
            context: Some("morning".into()),
        };
        let v = serde_json::to_value(&args).unwrap();
        assert_eq!(v["kind"], "blood-pressure");
        assert_eq!(v["systolic"], 128.0);
        assert!(v["pulse"].is_null());
        assert_eq!(serde_json::from_value::<AddVitalArgs>(v).unwrap(), args);
    }
}
