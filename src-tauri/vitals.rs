//! The home vitals screen's commands: entering a reading or a diary entry, and a kind's
//! readings (home and hospital together) for the chart. Thin: parsing the window's fields into
//! techo-vitals types, then techo-core's `add_reading` / `add_diary` / `vitals` / `diaries`.
//! Readings are health data: nothing here logs them.

use crate::commands::{core_error, with_vault_mut};
use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone};
use tauri::AppHandle;
use techo_core::techo_vitals::{
    AsthmaDiary, BloodPressure, BpContext, BpTarget, Diary, DiaryEntry, GlucoseTiming, Joint, JointPainDiary, Measurement, MoodDiary,
    Reading, SessionAverage, Unit, VitalKind,
};
use techo_core::{EntryStatus, Setting, Vault, VitalsQuery};
use techo_ipc::{
    AddDiaryArgs, BpHandbook, BpTargetArgs, DiaryAdded, DiaryOptions, DiaryView, HandbookWeek, IpcError, SessionAvg, VitalAdded,
    VitalKindInfo, VitalPoint, MAX_HANDBOOK_WEEKS, MAX_VITAL_POINTS,
};

fn kind_by_slug(slug: &str) -> Result<VitalKind, IpcError> {
    VitalKind::ALL
        .into_iter()
        .find(|k| k.slug() == slug)
        .ok_or_else(|| IpcError::invalid_input("Choose what you measured from the list."))
}

/// `YYYY-MM-DDTHH:MM[:SS]` on this computer's clock → an instant with the local offset then.
fn local_time(at: Option<&str>, now: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, IpcError> {
    let Some(at) = at else { return Ok(now) };
    techo_ipc::validate_local_time(at)?;
    let fmt = if at.len() == 16 { "%Y-%m-%dT%H:%M" } else { "%Y-%m-%dT%H:%M:%S" };
    let naive = NaiveDateTime::parse_from_str(at, fmt)
        .map_err(|_| IpcError::invalid_input("That date or time does not exist: check the day and the hour."))?;
    // A time skipped by a daylight-saving change has no local instant; a repeated one takes the first.
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
        .ok_or_else(|| IpcError::invalid_input("That time does not exist on this computer's clock (a daylight-saving change): choose another."))
}

/// The window's fields → a reading of `kind` (checked for plausibility by the core).
fn measurement(kind: VitalKind, args: &techo_ipc::AddVitalArgs) -> Result<Measurement, IpcError> {
    let need = |v: Option<f64>, what: &str| {
        v.filter(|v| v.is_finite()).ok_or_else(|| IpcError::invalid_input(format!("Enter the {what} as a number.")))
    };
    if kind == VitalKind::BloodPressure {
        let context = match args.context.as_deref() {
            None | Some("") => None,
            Some("morning") => Some(BpContext::Morning),
            Some("evening") => Some(BpContext::Evening),
            Some(_) => return Err(IpcError::invalid_input("Choose morning, evening or neither.")),
        };
        let pulse = match args.pulse {
            None => None,
            Some(p) => Some(need(Some(p), "pulse")?),
        };
        return Ok(Measurement::BloodPressure(BloodPressure {
            systolic: need(args.systolic, "upper (systolic) pressure")?,
            diastolic: need(args.diastolic, "lower (diastolic) pressure")?,
            pulse,
            context,
            arm: None,
            position: None,
        }));
    }
    let spec = kind.spec();
    let value = need(args.value, "value")?;
    let unit = match args.unit.as_deref() {
        None | Some("") => spec.units[0],
        Some(u) => spec
            .units
            .iter()
            .copied()
            .find(|x| x.ucum() == u)
            .or_else(|| Unit::parse(u).filter(|x| spec.units.contains(x)))
            .ok_or_else(|| IpcError::invalid_input(format!("Use {} for {}.", spec.units_text, spec.name_en.to_lowercase())))?,
    };
    let m = match kind {
        VitalKind::FastingGlucose => Measurement::glucose(value, unit, GlucoseTiming::Fasting),
        VitalKind::BloodGlucose => Measurement::glucose(value, unit, GlucoseTiming::Random),
        _ => Measurement::from_quantity(kind, value, unit),
    };
    m.map_err(|e| core_error(e.into()))
}

/// Who enters for `person_id`: `None` when it is the vault's own person ("self") or when the
/// vault has none; else the self person's reference, recorded as the entry's performer (a
/// caregiver entering a parent's or child's reading).
fn caregiver(v: &Vault, person_id: i64) -> Result<Option<String>, IpcError> {
    let persons = v.persons().map_err(core_error)?;
    match persons.iter().find(|p| p.relationship.as_deref() == Some("self")) {
        Some(me) if me.id != person_id => v.person_reference(me.id).map(Some).map_err(core_error),
        _ => Ok(None),
    }
}

/// What can be entered.
#[tauri::command]
pub async fn vital_kinds() -> Result<Vec<VitalKindInfo>, IpcError> {
    Ok(VitalKind::ALL
        .into_iter()
        // BMI is computed from weight and height, never typed in.
        .filter(|k| *k != VitalKind::Bmi)
        .map(|k| {
            let s = k.spec();
            VitalKindInfo {
                slug: s.slug.to_owned(),
                name_en: s.name_en.to_owned(),
                name_ja: s.name_ja.to_owned(),
                units: s.units.iter().map(|u| u.ucum().to_owned()).collect(),
                unit_labels: s.units.iter().map(|u| u.symbol().to_owned()).collect(),
                blood_pressure: k == VitalKind::BloodPressure,
                decimals: s.value().decimals,
            }
        })
        .collect())
}

/// Stores a reading entered in the window (parameters = `techo_ipc::AddVitalArgs`).
#[tauri::command(rename_all = "snake_case")]
#[allow(clippy::too_many_arguments)] // one parameter per field of techo_ipc::AddVitalArgs
pub async fn add_vital(
    app: AppHandle,
    person_id: i64,
    kind: String,
    at: Option<String>,
    value: Option<f64>,
    unit: Option<String>,
    systolic: Option<f64>,
    diastolic: Option<f64>,
    pulse: Option<f64>,
    context: Option<String>,
) -> Result<VitalAdded, IpcError> {
    let args = techo_ipc::AddVitalArgs { person_id, kind, at, value, unit, systolic, diastolic, pulse, context };
    let kind = kind_by_slug(&args.kind)?;
    let now = Local::now().fixed_offset();
    let effective = local_time(args.at.as_deref(), now)?;
    let reading = Reading::new(effective, measurement(kind, &args)?);
    with_vault_mut(app, move |v| {
        let performer = caregiver(v, person_id)?;
        let out = v.add_reading(person_id, reading, performer.as_deref(), now).map_err(core_error)?;
        Ok(VitalAdded {
            record_id: out.record_id,
            duplicate: out.status == EntryStatus::Duplicate,
            warnings: out.warnings.iter().map(|w| techo_ipc::as_sentence(&w.to_string())).collect(),
        })
    })
    .await
}

fn to_point(e: techo_core::VitalEntry) -> VitalPoint {
    let m = &e.reading.measurement;
    let values: Vec<f64> = m.values().into_iter().map(|(_, v)| v).collect();
    VitalPoint {
        record_id: e.record_id,
        at: e.reading.effective.to_rfc3339(),
        values,
        unit: e.reading.kind().spec().value().unit.symbol().to_owned(),
        label: m.describe(),
        home: e.home,
        source: e.source,
    }
}

/// A person's readings of one kind, newest first (parameters = `techo_ipc::VitalsArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn vitals(app: AppHandle, person_id: i64, kind: String) -> Result<Vec<VitalPoint>, IpcError> {
    let kind = kind_by_slug(&kind)?;
    with_vault_mut(app, move |v| {
        let mut list = v.vitals_query(&VitalsQuery { person: person_id, kind: Some(kind), ..Default::default() }).map_err(core_error)?;
        list.retain(|e| e.status != "entered-in-error");
        list.sort_by(|a, b| b.reading.effective.cmp(&a.reading.effective).then(b.record_id.cmp(&a.record_id)));
        list.truncate(MAX_VITAL_POINTS);
        Ok(list.into_iter().map(to_point).collect())
    })
    .await
}

/// The window's diary fields → a diary entry of the chosen kind.
fn diary_entry(args: &AddDiaryArgs) -> Result<DiaryEntry, IpcError> {
    techo_ipc::validate_diary(args)?;
    let filled = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(match args.kind.as_deref().unwrap_or("mood") {
        "asthma" => DiaryEntry::Asthma(AsthmaDiary {
            daytime_symptoms: args.daytime_symptoms,
            night_awakenings: args.night_awakenings,
            reliever_puffs: args.reliever_puffs,
            pef_morning: args.pef_morning,
            pef_evening: args.pef_evening,
            note: filled(&args.note),
        }),
        "joint-pain" => DiaryEntry::JointPain(JointPainDiary {
            sites: args
                .joints
                .iter()
                .map(|c| Joint::from_code(c).ok_or_else(|| IpcError::invalid_input("Choose the joints from the list.")))
                .collect::<Result<_, _>>()?,
            severity: args.severity,
            morning_stiffness_minutes: args.morning_stiffness_minutes,
            note: filled(&args.note),
        }),
        _ => DiaryEntry::Mood(MoodDiary { mood: args.mood, symptoms: filled(&args.symptoms), note: filled(&args.note) }),
    })
}

/// Stores a diary entry: mood, asthma or joint pain (parameters = `techo_ipc::AddDiaryArgs`).
#[tauri::command(rename_all = "snake_case")]
#[allow(clippy::too_many_arguments)] // one parameter per field of techo_ipc::AddDiaryArgs
pub async fn add_diary(
    app: AppHandle,
    person_id: i64,
    kind: Option<String>,
    at: Option<String>,
    mood: Option<u8>,
    symptoms: Option<String>,
    note: Option<String>,
    daytime_symptoms: Option<u8>,
    night_awakenings: Option<u32>,
    reliever_puffs: Option<u32>,
    pef_morning: Option<u32>,
    pef_evening: Option<u32>,
    joints: Option<Vec<String>>,
    severity: Option<u8>,
    morning_stiffness_minutes: Option<u32>,
) -> Result<DiaryAdded, IpcError> {
    let args = AddDiaryArgs {
        person_id,
        kind,
        at,
        mood,
        symptoms,
        note,
        daytime_symptoms,
        night_awakenings,
        reliever_puffs,
        pef_morning,
        pef_evening,
        joints: joints.unwrap_or_default(),
        severity,
        morning_stiffness_minutes,
    };
    let entry = diary_entry(&args)?;
    let now = Local::now().fixed_offset();
    let authored = local_time(args.at.as_deref(), now)?;
    let diary = Diary { authored, entry };
    with_vault_mut(app, move |v| {
        let author = caregiver(v, person_id)?;
        let out = v.add_diary(person_id, diary, author.as_deref(), now).map_err(core_error)?;
        Ok(DiaryAdded { record_id: out.record_id, duplicate: out.status == EntryStatus::Duplicate || out.status == EntryStatus::Unchanged })
    })
    .await
}

/// The joints the joint-pain diary offers.
#[tauri::command]
pub async fn diary_options() -> Result<DiaryOptions, IpcError> {
    Ok(DiaryOptions { joints: Joint::all().map(|j| (j.code().to_owned(), j.label_ja().to_owned())).collect() })
}

/// The vault's home blood-pressure target (135/85 unless set).
fn bp_target(v: &Vault) -> Result<BpTargetArgs, IpcError> {
    let stored = v.setting(Setting::BpTarget).map_err(core_error)?;
    let parsed = stored.as_deref().and_then(|s| s.split_once('/')).and_then(|(a, b)| Some(BpTargetArgs { systolic: a.parse().ok()?, diastolic: b.parse().ok()? }));
    let d = BpTarget::default();
    Ok(parsed.filter(|t| techo_ipc::validate_bp_target(t).is_ok()).unwrap_or(BpTargetArgs { systolic: d.systolic as u32, diastolic: d.diastolic as u32 }))
}

fn session(s: Option<SessionAverage>) -> Option<SessionAvg> {
    s.map(|s| SessionAvg { readings: s.count as u32, systolic: s.systolic, diastolic: s.diastolic, pulse: s.pulse, above_target: s.above_target })
}

/// The home blood-pressure handbook (parameters = `techo_ipc::HandbookArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn bp_handbook(app: AppHandle, person_id: i64, weeks: u32) -> Result<BpHandbook, IpcError> {
    if !(1..=MAX_HANDBOOK_WEEKS).contains(&weeks) {
        return Err(IpcError::invalid_input(format!("Ask for 1 to {MAX_HANDBOOK_WEEKS} weeks.")));
    }
    with_vault_mut(app, move |v| {
        let target = bp_target(v)?;
        let t = BpTarget { systolic: f64::from(target.systolic), diastolic: f64::from(target.diastolic) };
        let mut list = v.bp_handbook(person_id, weeks as usize, t).map_err(core_error)?;
        list.retain(|w| w.morning.is_some() || w.evening.is_some() || w.unclassified > 0);
        list.sort_by_key(|w| std::cmp::Reverse(w.week_start));
        let weeks = list
            .into_iter()
            .map(|w| HandbookWeek {
                week_start: w.week_start.format("%Y-%m-%d").to_string(),
                morning: session(w.morning),
                evening: session(w.evening),
                unclassified: w.unclassified as u32,
            })
            .collect();
        Ok(BpHandbook { target, weeks })
    })
    .await
}

/// Sets the home blood-pressure target (parameters = `techo_ipc::BpTargetArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn set_bp_target(app: AppHandle, systolic: u32, diastolic: u32) -> Result<BpTargetArgs, IpcError> {
    let t = BpTargetArgs { systolic, diastolic };
    techo_ipc::validate_bp_target(&t)?;
    with_vault_mut(app, move |v| {
        v.set_setting(Setting::BpTarget, Some(&format!("{systolic}/{diastolic}"))).map_err(core_error)?;
        Ok(t)
    })
    .await
}

/// Deletes a home reading or diary entry: marked `entered-in-error`, kept in its history
/// (parameters = `techo_ipc::RecordIdArgs`). The core refuses anything that is not a home entry.
#[tauri::command(rename_all = "snake_case")]
pub async fn delete_entry(app: AppHandle, record_id: i64) -> Result<techo_ipc::RecordIdArgs, IpcError> {
    with_vault_mut(app, move |v| {
        let out = v.delete_entry(record_id).map_err(core_error)?;
        Ok(techo_ipc::RecordIdArgs { record_id: out.record_id })
    })
    .await
}

/// A person's diary entries, newest first (parameters = `techo_ipc::PersonIdArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn diaries(app: AppHandle, person_id: i64) -> Result<Vec<DiaryView>, IpcError> {
    with_vault_mut(app, move |v| {
        let mut list = v.diaries(person_id, None, None, None, false).map_err(core_error)?;
        list.sort_by(|a, b| b.diary.authored.cmp(&a.diary.authored).then(b.record_id.cmp(&a.record_id)));
        list.truncate(MAX_VITAL_POINTS);
        Ok(list
            .into_iter()
            .map(|d| DiaryView {
                record_id: d.record_id,
                at: d.diary.authored.to_rfc3339(),
                kind: d.diary.entry.kind().slug().to_owned(),
                title: d.diary.entry.kind().title_ja().to_owned(),
                summary: d.diary.entry.summary(),
            })
            .collect())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(kind: &str) -> techo_ipc::AddVitalArgs {
        techo_ipc::AddVitalArgs { person_id: 1, kind: kind.into(), ..Default::default() }
    }

    #[test]
    fn every_enterable_kind_has_a_slug_the_shell_reads_back() {
        let kinds = tauri::async_runtime::block_on(vital_kinds()).unwrap();
        assert_eq!(kinds.len(), VitalKind::ALL.len() - 1, "all but BMI");
        for k in &kinds {
            assert!(kind_by_slug(&k.slug).is_ok(), "{}", k.slug);
            assert_eq!(k.units.len(), k.unit_labels.len());
        }
        assert!(kind_by_slug("bmi").is_ok() && kind_by_slug("blood sugar").is_err());
    }

    #[test]
    fn fields_become_readings_in_the_right_units() {
        let bp = techo_ipc::AddVitalArgs { systolic: Some(128.0), diastolic: Some(82.0), pulse: Some(70.0), context: Some("morning".into()), ..args("blood-pressure") };
        match measurement(VitalKind::BloodPressure, &bp).unwrap() {
            Measurement::BloodPressure(b) => assert_eq!((b.systolic, b.diastolic, b.pulse, b.context), (128.0, 82.0, Some(70.0), Some(BpContext::Morning))),
            m => panic!("{m:?}"),
        }
        let slug = VitalKind::BodyTemperature.slug();
        let f = techo_ipc::AddVitalArgs { value: Some(98.6), unit: Some("[degF]".into()), ..args(slug) };
        let (_, celsius) = measurement(VitalKind::BodyTemperature, &f).unwrap().values()[0];
        assert!((celsius - 37.0).abs() < 0.05, "°F is stored as °C: {celsius}");
        let default_unit = techo_ipc::AddVitalArgs { value: Some(36.8), ..args(slug) };
        assert_eq!(measurement(VitalKind::BodyTemperature, &default_unit).unwrap().values()[0].1, 36.8);
    }

    #[test]
    fn bad_fields_are_sentences_not_readings() {
        let slug = VitalKind::BodyTemperature.slug();
        let cases = [
            (VitalKind::BloodPressure, techo_ipc::AddVitalArgs { systolic: Some(128.0), ..args("blood-pressure") }, "lower (diastolic)"),
            (VitalKind::BloodPressure, techo_ipc::AddVitalArgs { systolic: Some(f64::NAN), diastolic: Some(80.0), ..args("blood-pressure") }, "upper (systolic)"),
            (VitalKind::BloodPressure, techo_ipc::AddVitalArgs { systolic: Some(120.0), diastolic: Some(80.0), context: Some("noon".into()), ..args("blood-pressure") }, "morning, evening"),
            (VitalKind::BodyTemperature, args(slug), "value as a number"),
            (VitalKind::BodyTemperature, techo_ipc::AddVitalArgs { value: Some(36.8), unit: Some("kg".into()), ..args(slug) }, "°C"),
            (VitalKind::BodyTemperature, techo_ipc::AddVitalArgs { value: Some(10.0), ..args(slug) }, ""),
        ];
        for (kind, a, says) in cases {
            let e = measurement(kind, &a).and_then(|m| {
                let now = Local::now().fixed_offset();
                Reading::new(now, m).check(now).map(|_| ()).map_err(|e| core_error(e.into()))
            });
            let e = e.expect_err(says);
            assert_eq!(e.code, techo_ipc::ErrorCode::InvalidInput, "{says}: {}", e.message);
            assert!(e.message.contains(says), "{:?} should say {says:?}", e.message);
        }
    }

    #[test]
    fn diary_fields_become_the_chosen_diary() {
        let base = |kind: &str| AddDiaryArgs { person_id: 1, kind: Some(kind.into()), ..Default::default() };
        let asthma = AddDiaryArgs { daytime_symptoms: Some(1), pef_morning: Some(420), note: Some("  夜は咳  ".into()), ..base("asthma") };
        match diary_entry(&asthma).unwrap() {
            DiaryEntry::Asthma(a) => assert_eq!((a.daytime_symptoms, a.pef_morning, a.pef_evening, a.note.as_deref()), (Some(1), Some(420), None, Some("夜は咳"))),
            e => panic!("{e:?}"),
        }
        let joints = AddDiaryArgs { joints: vec!["left-knee".into()], severity: Some(5), ..base("joint-pain") };
        match diary_entry(&joints).unwrap() {
            DiaryEntry::JointPain(j) => assert_eq!((j.sites.iter().map(|s| s.code()).collect::<Vec<_>>(), j.severity), (vec!["left-knee"], Some(5))),
            e => panic!("{e:?}"),
        }
        let unknown_joint = AddDiaryArgs { joints: vec!["left-wing".into()], ..base("joint-pain") };
        assert_eq!(diary_entry(&unknown_joint).unwrap_err().code, techo_ipc::ErrorCode::InvalidInput);
        let mood = AddDiaryArgs { person_id: 1, mood: Some(4), ..Default::default() };
        assert!(matches!(diary_entry(&mood).unwrap(), DiaryEntry::Mood(m) if m.mood == Some(4)), "no kind: a mood diary");
        let options = tauri::async_runtime::block_on(diary_options()).unwrap();
        assert!(options.joints.iter().all(|(code, _)| Joint::from_code(code).is_some()) && options.joints.len() > 10);
    }

    #[test]
    fn local_times_read_on_this_computers_clock() {
        let now = Local::now().fixed_offset();
        assert_eq!(local_time(None, now).unwrap(), now);
        let t = local_time(Some("2026-11-28T07:30"), now).unwrap();
        assert_eq!(t.naive_local().format("%Y-%m-%d %H:%M").to_string(), "2026-11-28 07:30");
        assert!(local_time(Some("2026-02-30T07:30"), now).is_err(), "no 30 February");
        assert!(local_time(Some("2026-11-28T25:00"), now).is_err());
        assert!(local_time(Some("28/11/2026 07:30"), now).is_err());
    }
}
