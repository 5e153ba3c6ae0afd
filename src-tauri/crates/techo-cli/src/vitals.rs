//! `techo vitals …` and `techo diary …`: home readings and diaries over techo-core.
//!
//! Values are a number with an optional unit right after it (`62.5kg`, `98.6F`, `5.6mmol/L`,
//! `7.5h`, `450min`); blood pressure is `SYS/DIA` or `SYS/DIA/PULSE` (mmHg). Without a unit the
//! kind's canonical unit is meant (mmHg, /min, °C, kg, cm, kg/m2, mg/dL, %, L/min, steps, h).
//! Times (`--at`) are `2026-11-27 07:30`, `2026/11/27 7:30`, `2026年11月27日 7時30分`,
//! `令和8年11月27日` … in this computer's UTC offset unless they carry one; default: now.
//! Refused values exit 7 with one `techo: error:` line that names the field and the allowed
//! range, never the value; options that do not fit the kind exit 2.

use crate::{exit_code, one_line, resolve_person, Ctx};
use anyhow::bail;
use chrono::{DateTime, FixedOffset, Local};
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use techo_core::techo_vitals::{
    halfwidth,
    self, csv_import::VALUE_FIELDS, kind::KindSpec, units::format_decimal, Arm, AsthmaDiary, BloodPressure, BpContext, BpTarget,
    CsvFile, CsvOptions, Diary, DiaryEntry, DiaryKind, Field, GlucoseTiming, Joint, JointPainDiary, Mapping, Measurement, MoodDiary,
    Position, Reading, Unit, VitalKind, VitalsError,
};
use techo_core::{AddOutcome, EntryStatus, Error, VitalsCsvOptions, VitalsQuery};

/// A usage mistake found after parsing (an option that does not fit the kind): exit 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    Usage(msg.into()).into()
}

#[derive(Subcommand)]
pub enum VitalsCmd {
    /// Record a reading: `bp 128/82`, `weight 62.5kg`, `temperature 98.6F`, `glucose 5.6mmol/L --fasting`,
    /// `spo2 97`, `pef 420`, `steps 8000`, `sleep 7.5h`, `pain 4 --site 腰`, `heart-rate 72`, `height 165cm`, `bmi 22.4`.
    Add {
        #[arg(value_enum)]
        kind: KindArg,
        /// The value, with an optional unit right after it; blood pressure SYS/DIA[/PULSE].
        #[arg(allow_hyphen_values = true)]
        value: String,
        #[command(flatten)]
        opts: EntryOpts,
        #[arg(long)]
        person: Option<i64>,
    },
    /// Correct a home reading: a new version of the same record (the old one stays in its history).
    /// Anything not given is kept.
    Edit {
        record_id: i64,
        /// The new value (as for `add`; the kind is the record's).
        #[arg(allow_hyphen_values = true)]
        value: Option<String>,
        #[command(flatten)]
        opts: EntryOpts,
    },
    /// Delete a home reading or diary entry: it is marked entered-in-error (kept in the vault and its history, hidden from lists).
    Delete { record_id: i64 },
    /// A person's readings (home and hospital), newest first.
    List {
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        /// From this date (inclusive).
        #[arg(long)]
        from: Option<String>,
        /// Up to this date (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Also readings marked entered-in-error.
        #[arg(long)]
        include_deleted: bool,
        #[arg(long)]
        person: Option<i64>,
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
    /// The home blood-pressure handbook: weekly morning/evening averages.
    Handbook {
        /// How many weeks, ending with the latest week that has a reading.
        #[arg(long, default_value_t = 8)]
        weeks: usize,
        /// SYS/DIA: weeks whose mean is at or above it are flagged (Japanese guideline: 135/85).
        #[arg(long, default_value = "135/85")]
        target: String,
        #[arg(long)]
        person: Option<i64>,
    },
    /// Import readings from a CSV file (UTF-8; Japanese headers and era dates understood). All or nothing.
    Import {
        file: PathBuf,
        /// FIELD=COLUMN[:UNIT],… (columns from 1), e.g. date=1,time=2,systolic=3,diastolic=4,pulse=5,weight=6:lb.
        /// Replaces the mapping proposed from the header.
        #[arg(long)]
        map: Option<String>,
        /// Show the proposed mapping and the first rows; store nothing.
        #[arg(long)]
        preview: bool,
        /// Who measured (a FHIR reference such as RelatedPerson/…), if not the person.
        #[arg(long)]
        performer: Option<String>,
        #[arg(long)]
        person: Option<i64>,
    },
    /// Write readings as FHIR R4 NDJSON (the Observations exactly as stored) to standard output.
    Export {
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        include_deleted: bool,
        #[arg(long)]
        person: Option<i64>,
    },
}

#[derive(Args, Default)]
pub struct EntryOpts {
    /// When it was measured (default: now).
    #[arg(long)]
    at: Option<String>,
    /// Blood pressure: the pulse (/min).
    #[arg(long, allow_hyphen_values = true)]
    pulse: Option<String>,
    /// Blood pressure: the arm.
    #[arg(long, value_enum)]
    arm: Option<ArmArg>,
    /// Blood pressure: the body position.
    #[arg(long, value_enum)]
    position: Option<PositionArg>,
    /// Blood pressure: morning or evening (朝/晩) for the handbook.
    #[arg(long, value_enum)]
    context: Option<ContextArg>,
    /// Glucose: measured fasting.
    #[arg(long, conflicts_with_all = ["post_meal", "random"])]
    fasting: bool,
    /// Glucose: measured after a meal.
    #[arg(long, conflicts_with = "random")]
    post_meal: bool,
    /// Glucose: any time (the default).
    #[arg(long)]
    random: bool,
    /// Pain: where it hurts (free text).
    #[arg(long)]
    site: Option<String>,
    /// Who measured, if not the person: a FHIR reference such as RelatedPerson/<id> (a caregiver).
    #[arg(long)]
    performer: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum KindArg {
    #[value(alias = "blood-pressure", alias = "血圧")]
    Bp,
    #[value(alias = "hr", alias = "pulse", alias = "脈拍")]
    HeartRate,
    #[value(alias = "temp", alias = "body-temperature", alias = "体温")]
    Temperature,
    #[value(alias = "body-weight", alias = "体重")]
    Weight,
    #[value(alias = "body-height", alias = "身長")]
    Height,
    Bmi,
    /// Blood glucose (--fasting, --post-meal or --random).
    #[value(alias = "blood-glucose", alias = "血糖")]
    Glucose,
    /// The same as `glucose --fasting`.
    #[value(alias = "空腹時血糖")]
    FastingGlucose,
    #[value(alias = "oxygen", alias = "酸素飽和度")]
    Spo2,
    #[value(alias = "peak-flow", alias = "ピークフロー")]
    Pef,
    #[value(alias = "歩数")]
    Steps,
    #[value(alias = "sleep-duration", alias = "睡眠")]
    Sleep,
    #[value(alias = "pain-severity", alias = "痛み")]
    Pain,
}

impl KindArg {
    fn kinds(self) -> &'static [VitalKind] {
        match self {
            KindArg::Bp => &[VitalKind::BloodPressure],
            KindArg::HeartRate => &[VitalKind::HeartRate],
            KindArg::Temperature => &[VitalKind::BodyTemperature],
            KindArg::Weight => &[VitalKind::BodyWeight],
            KindArg::Height => &[VitalKind::BodyHeight],
            KindArg::Bmi => &[VitalKind::Bmi],
            KindArg::Glucose => &[VitalKind::BloodGlucose, VitalKind::FastingGlucose],
            KindArg::FastingGlucose => &[VitalKind::FastingGlucose],
            KindArg::Spo2 => &[VitalKind::SpO2],
            KindArg::Pef => &[VitalKind::PeakFlow],
            KindArg::Steps => &[VitalKind::Steps],
            KindArg::Sleep => &[VitalKind::SleepDuration],
            KindArg::Pain => &[VitalKind::PainSeverity],
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum ArmArg {
    #[value(alias = "左")]
    Left,
    #[value(alias = "右")]
    Right,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum PositionArg {
    #[value(alias = "座位")]
    Sitting,
    #[value(alias = "立位")]
    Standing,
    #[value(alias = "臥位")]
    Lying,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum ContextArg {
    #[value(alias = "朝")]
    Morning,
    #[value(alias = "晩", alias = "夜")]
    Evening,
}

#[derive(Subcommand)]
pub enum DiaryCmd {
    /// Write a diary entry: `asthma --daytime-symptoms 1 --pef-morning 420`, `joint --sites left-knee,右膝 --severity 5`,
    /// `mood --mood 4 --note …`. The same diary for the same time again makes a new version of that entry.
    Add {
        #[arg(value_enum)]
        kind: DiaryArg,
        /// When (default: now).
        #[arg(long)]
        at: Option<String>,
        /// Asthma: daytime symptoms 0 (none) to 3 (severe).
        #[arg(long)]
        daytime_symptoms: Option<u32>,
        /// Asthma: times woken by asthma last night.
        #[arg(long)]
        night_awakenings: Option<u32>,
        /// Asthma: reliever inhaler puffs.
        #[arg(long)]
        reliever_puffs: Option<u32>,
        /// Asthma: morning peak flow (L/min).
        #[arg(long)]
        pef_morning: Option<u32>,
        /// Asthma: evening peak flow (L/min).
        #[arg(long)]
        pef_evening: Option<u32>,
        /// Joint pain: joints, comma-separated (left-knee, right-wrist, lower-back … or 左膝, 右手首, 腰 …).
        #[arg(long)]
        sites: Option<String>,
        /// Joint pain: severity 0 to 10.
        #[arg(long)]
        severity: Option<u32>,
        /// Joint pain: morning stiffness in minutes.
        #[arg(long)]
        stiffness: Option<u32>,
        /// Mood: 1 (very bad) to 5 (very good).
        #[arg(long)]
        mood: Option<u32>,
        /// Mood: symptoms (free text).
        #[arg(long)]
        symptoms: Option<String>,
        /// A note (free text).
        #[arg(long)]
        note: Option<String>,
        /// Who wrote it, if not the person: a FHIR reference such as RelatedPerson/<id>.
        #[arg(long)]
        author: Option<String>,
        #[arg(long)]
        person: Option<i64>,
    },
    /// A person's diary entries, newest first.
    List {
        #[arg(long, value_enum)]
        kind: Option<DiaryArg>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        include_deleted: bool,
        #[arg(long)]
        person: Option<i64>,
    },
    /// Delete a diary entry (marked entered-in-error; kept in its history).
    Delete { record_id: i64 },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum DiaryArg {
    #[value(alias = "喘息")]
    Asthma,
    #[value(alias = "joint-pain", alias = "関節痛")]
    Joint,
    #[value(alias = "気分")]
    Mood,
}

impl DiaryArg {
    fn kind(self) -> DiaryKind {
        match self {
            DiaryArg::Asthma => DiaryKind::Asthma,
            DiaryArg::Joint => DiaryKind::JointPain,
            DiaryArg::Mood => DiaryKind::Mood,
        }
    }
}

// ------------------------------------------------------------------------- parsing values

fn now() -> DateTime<FixedOffset> {
    Local::now().fixed_offset()
}

fn local_offset() -> FixedOffset {
    *now().offset()
}

/// `62.5kg` → (62.5, Some(kg)); `8,000` → (8000, None). Errors name `field` only.
fn number_and_unit(text: &str, field: &'static str, spec: &KindSpec) -> Result<(f64, Option<Unit>), VitalsError> {
    let s = halfwidth(text.trim());
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || c == ',' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(s.len(), |(i, _)| i);
    let (num, rest) = s.split_at(end);
    let malformed = VitalsError::MalformedNumber { field };
    let digits = if num.contains(',') {
        let (int, frac) = num.split_once('.').map_or((num, None), |(a, b)| (a, Some(b)));
        let groups: Vec<&str> = int.trim_start_matches(['-', '+']).split(',').collect();
        let ok = groups.first().is_some_and(|g| (1..=3).contains(&g.len())) && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return Err(malformed);
        }
        let mut d = int.replace(',', "");
        if let Some(f) = frac {
            d.push('.');
            d.push_str(f);
        }
        d
    } else {
        num.to_owned()
    };
    let v: f64 = digits.parse().map_err(|_| malformed)?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok((v, None));
    }
    let unit = Unit::parse(rest).ok_or(VitalsError::UnknownUnit { kind: spec.name_en, allowed: spec.units_text })?;
    Ok((v, Some(unit)))
}

fn single(kind: VitalKind, text: &str) -> Result<(f64, Unit), VitalsError> {
    let spec = kind.spec();
    let (v, unit) = number_and_unit(text, spec.value().field, spec)?;
    Ok((v, unit.unwrap_or(spec.units[0])))
}

/// A blood-pressure part (systolic, diastolic or pulse) in mmHg or /min.
fn bp_part(text: &str, field: &'static str, kind: VitalKind) -> Result<f64, VitalsError> {
    if text.trim().is_empty() {
        return Err(VitalsError::MissingValue { field });
    }
    let spec = kind.spec();
    let (v, unit) = number_and_unit(text, field, spec)?;
    let unit = unit.unwrap_or(spec.units[0]);
    techo_vitals::to_canonical(kind, v, unit).map_err(|e| rename_field(e, field))
}

/// Errors from converting one part of a blood pressure name that part.
fn rename_field(e: VitalsError, field: &'static str) -> VitalsError {
    match e {
        VitalsError::NotFinite { .. } => VitalsError::NotFinite { field },
        VitalsError::Negative { .. } => VitalsError::Negative { field },
        other => other,
    }
}

/// `128/82`, `128/82/70`, `128/82mmHg`.
fn parse_bp(text: &str) -> Result<(f64, f64, Option<f64>), VitalsError> {
    let s = halfwidth(text.trim());
    let s = s.strip_suffix("mmHg").or_else(|| s.strip_suffix("mmhg")).unwrap_or(&s).trim().to_owned();
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [one] if one.trim().is_empty() => Err(VitalsError::MissingValue { field: "systolic" }),
        [_] => Err(VitalsError::MissingValue { field: "diastolic" }),
        [sys, dia] => Ok((bp_part(sys, "systolic", VitalKind::BloodPressure)?, bp_part(dia, "diastolic", VitalKind::BloodPressure)?, None)),
        [sys, dia, pulse] => Ok((
            bp_part(sys, "systolic", VitalKind::BloodPressure)?,
            bp_part(dia, "diastolic", VitalKind::BloodPressure)?,
            Some(bp_part(pulse, "pulse", VitalKind::HeartRate)?),
        )),
        _ => Err(VitalsError::MalformedNumber { field: "blood pressure" }),
    }
}

fn timing(opts: &EntryOpts) -> Option<GlucoseTiming> {
    if opts.fasting {
        Some(GlucoseTiming::Fasting)
    } else if opts.post_meal {
        Some(GlucoseTiming::PostMeal)
    } else if opts.random {
        Some(GlucoseTiming::Random)
    } else {
        None
    }
}

/// Refuses options that do not fit `kind`.
fn check_options(kind: VitalKind, opts: &EntryOpts) -> anyhow::Result<()> {
    let name = kind.spec().name_en;
    let is_bp = kind == VitalKind::BloodPressure;
    let bp_only = [
        ("--pulse", opts.pulse.is_some()),
        ("--arm", opts.arm.is_some()),
        ("--position", opts.position.is_some()),
        ("--context", opts.context.is_some()),
    ];
    for (flag, given) in bp_only {
        if given && !is_bp {
            return Err(usage(format!("{flag} applies to blood pressure only, not to {name}")));
        }
    }
    let glucose = matches!(kind, VitalKind::BloodGlucose | VitalKind::FastingGlucose);
    if timing(opts).is_some() && !glucose {
        return Err(usage(format!("--fasting, --post-meal and --random apply to glucose only, not to {name}")));
    }
    if opts.site.is_some() && kind != VitalKind::PainSeverity {
        return Err(usage(format!("--site applies to pain only, not to {name}")));
    }
    Ok(())
}

/// The measurement for `kind` from `value`, or (editing) from `old` with the options applied.
fn measurement(kind: VitalKind, value: Option<&str>, opts: &EntryOpts, old: Option<&Measurement>) -> anyhow::Result<Measurement> {
    check_options(kind, opts)?;
    let mut m = match (value, old) {
        (Some(text), _) => match kind {
            VitalKind::BloodPressure => {
                let (systolic, diastolic, pulse) = parse_bp(text)?;
                let mut bp = match old {
                    Some(Measurement::BloodPressure(b)) => b.clone(),
                    _ => BloodPressure { systolic, diastolic, pulse: None, context: None, arm: None, position: None },
                };
                bp.systolic = systolic;
                bp.diastolic = diastolic;
                if pulse.is_some() {
                    bp.pulse = pulse;
                }
                if pulse.is_some() && opts.pulse.is_some() {
                    return Err(usage("the pulse is given twice (SYS/DIA/PULSE and --pulse); give it once"));
                }
                Measurement::BloodPressure(bp)
            }
            VitalKind::BloodGlucose | VitalKind::FastingGlucose => {
                let (v, unit) = single(kind, text)?;
                let old_timing = match old {
                    Some(Measurement::BloodGlucose { timing, .. }) => Some(*timing),
                    _ => None,
                };
                let t = timing(opts).or(old_timing).unwrap_or(if kind == VitalKind::FastingGlucose {
                    GlucoseTiming::Fasting
                } else {
                    GlucoseTiming::Random
                });
                Measurement::glucose(v, unit, t)?
            }
            VitalKind::PainSeverity => {
                let (v, unit) = single(kind, text)?;
                let mut m = Measurement::from_quantity(kind, v, unit)?;
                if let (Measurement::PainSeverity { site, .. }, Some(Measurement::PainSeverity { site: old_site, .. })) = (&mut m, old) {
                    site.clone_from(old_site);
                }
                m
            }
            _ => {
                let (v, unit) = single(kind, text)?;
                Measurement::from_quantity(kind, v, unit)?
            }
        },
        (None, Some(old)) => old.clone(),
        (None, None) => unreachable!("add always has a value"),
    };
    match &mut m {
        Measurement::BloodPressure(bp) => {
            if let Some(p) = &opts.pulse {
                bp.pulse = Some(bp_part(p, "pulse", VitalKind::HeartRate)?);
            }
            if let Some(a) = opts.arm {
                bp.arm = Some(match a {
                    ArmArg::Left => Arm::Left,
                    ArmArg::Right => Arm::Right,
                });
            }
            if let Some(p) = opts.position {
                bp.position = Some(match p {
                    PositionArg::Sitting => Position::Sitting,
                    PositionArg::Standing => Position::Standing,
                    PositionArg::Lying => Position::Lying,
                });
            }
            if let Some(c) = opts.context {
                bp.context = Some(match c {
                    ContextArg::Morning => BpContext::Morning,
                    ContextArg::Evening => BpContext::Evening,
                });
            }
        }
        Measurement::BloodGlucose { timing: t, .. } => {
            if let Some(new) = timing(opts) {
                *t = new;
            }
        }
        Measurement::PainSeverity { site, .. } => {
            if let Some(s) = &opts.site {
                *site = Some(s.clone());
            }
        }
        _ => {}
    }
    Ok(m)
}

fn parse_at(at: Option<&str>) -> Result<Option<DateTime<FixedOffset>>, VitalsError> {
    at.map(|s| techo_vitals::datetime::parse_date_time(s, local_offset())).transpose()
}

/// A `--from`/`--to` bound: a FHIR date or dateTime as given, or any date the CSV import
/// understands (`2026/11/01`, `令和8年11月1日`) as `YYYY-MM-DD`.
fn date_arg(s: Option<String>) -> anyhow::Result<Option<String>> {
    let Some(s) = s else { return Ok(None) };
    if techo_fhir::index::normalize_date(&s).is_some() {
        return Ok(Some(s));
    }
    match techo_vitals::datetime::parse_date(&s) {
        Ok(d) => Ok(Some(d.format("%Y-%m-%d").to_string())),
        Err(_) => Err(Error::InvalidInput("the --from/--to date is not a date; use e.g. 2026-11-01 or 2026/11/01".into()).into()),
    }
}

// ------------------------------------------------------------------------- showing values

/// `128/82 mmHg, pulse 70/min, morning, left arm, sitting`; `62.5 kg`; `98 mg/dL (fasting)`.
fn when(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M %:z").to_string()
}

fn report_outcome(ctx: &Ctx, what: &str, o: &AddOutcome) -> anyhow::Result<()> {
    if ctx.json {
        ctx.print_json(o)?;
    } else {
        println!("{}", o.record_id);
    }
    let id = o.record_id;
    match o.status {
        EntryStatus::New => eprintln!("techo: stored the {what} as record {id}"),
        EntryStatus::Restored => eprintln!("techo: restored record {id} (the {what} had been deleted)"),
        EntryStatus::Updated => eprintln!("techo: updated record {id} (the {what}); the earlier version is kept in its history"),
        EntryStatus::Unchanged => eprintln!("techo: record {id} already says this; nothing changed"),
        EntryStatus::Duplicate => eprintln!("techo: the {what} is already stored as record {id}"),
    }
    for w in &o.warnings {
        eprintln!("techo: warning: {w}");
    }
    Ok(())
}

// ------------------------------------------------------------------------- commands

pub fn run_vitals(ctx: &mut Ctx, cmd: VitalsCmd) -> anyhow::Result<u8> {
    match cmd {
        VitalsCmd::Add { kind, value, opts, person } => {
            let vk = match kind {
                KindArg::Glucose if opts.fasting => VitalKind::FastingGlucose,
                KindArg::FastingGlucose if opts.post_meal || opts.random => {
                    return Err(usage("fasting-glucose is fasting; use `glucose --post-meal` or `glucose --random` instead"))
                }
                k => k.kinds()[0],
            };
            let m = measurement(vk, Some(&value), &opts, None)?;
            let at = parse_at(opts.at.as_deref())?;
            let now = now();
            let mut v = ctx.open()?;
            let person = resolve_person(&v, person)?;
            let o = v.add_reading(person, Reading::new(at.unwrap_or(now), m), opts.performer.as_deref(), now)?;
            if o.status == EntryStatus::Duplicate {
                return Err(Error::DuplicateEntry(o.record_id).into());
            }
            report_outcome(ctx, &format!("{} reading", vk.spec().name_en), &o)?;
            Ok(0)
        }
        VitalsCmd::Edit { record_id, value, opts } => {
            if value.is_none()
                && opts.at.is_none()
                && opts.pulse.is_none()
                && opts.arm.is_none()
                && opts.position.is_none()
                && opts.context.is_none()
                && timing(&opts).is_none()
                && opts.site.is_none()
                && opts.performer.is_none()
            {
                return Err(usage("give what to change: a new value, --at, --pulse, --arm, --position, --context, --fasting/--post-meal/--random, --site or --performer"));
            }
            let mut v = ctx.open()?;
            let old = v.vital(record_id)?;
            let mut kind = old.reading.kind();
            if kind == VitalKind::BloodGlucose || kind == VitalKind::FastingGlucose {
                kind = if timing(&opts) == Some(GlucoseTiming::Fasting) { VitalKind::FastingGlucose } else { VitalKind::BloodGlucose };
            }
            let m = measurement(kind, value.as_deref(), &opts, Some(&old.reading.measurement))?;
            let at = parse_at(opts.at.as_deref())?.unwrap_or(old.reading.effective);
            let o = v.edit_reading(record_id, Reading::new(at, m), opts.performer.as_deref(), now())?;
            report_outcome(ctx, &format!("{} reading", old.reading.kind().spec().name_en), &o)?;
            Ok(0)
        }
        VitalsCmd::Delete { record_id } => delete(ctx, record_id),
        VitalsCmd::List { kind, from, to, include_deleted, person, limit } => {
            let (from, to) = (date_arg(from)?, date_arg(to)?);
            let v = ctx.open()?;
            let person = resolve_person(&v, person)?;
            let kinds: Vec<Option<VitalKind>> = match kind {
                Some(k) => k.kinds().iter().map(|k| Some(*k)).collect(),
                None => vec![None],
            };
            let mut all = Vec::new();
            for k in kinds {
                all.extend(v.vitals_query(&VitalsQuery { person, kind: k, from: from.clone(), to: to.clone(), include_deleted, home_only: false })?);
            }
            all.sort_by(|a, b| b.reading.effective.cmp(&a.reading.effective).then(b.record_id.cmp(&a.record_id)));
            all.truncate(limit.max(1));
            if ctx.json {
                return ctx.print_json(&all).map(|_| 0);
            }
            let mut out = std::io::stdout().lock();
            for e in &all {
                let status = if e.status == "final" { String::new() } else { format!("\t[{}]", e.status) };
                writeln!(out, "{}\t{}\t{}\t{}\t{}{status}", e.record_id, when(&e.reading.effective), e.reading.kind().slug(), e.reading.measurement.describe(), e.source)?;
            }
            Ok(0)
        }
        VitalsCmd::Handbook { weeks, target, person } => {
            if weeks == 0 || weeks > 520 {
                return Err(usage("--weeks must be from 1 to 520"));
            }
            let (systolic, diastolic, pulse) = parse_bp(&target)?;
            if pulse.is_some() || systolic <= diastolic {
                return Err(Error::InvalidInput("--target must be SYS/DIA with SYS above DIA, e.g. 135/85".into()).into());
            }
            let v = ctx.open()?;
            let person = resolve_person(&v, person)?;
            let target = BpTarget { systolic, diastolic };
            let weeks = v.bp_handbook(person, weeks, target)?;
            if ctx.json {
                return ctx.print_json(&weeks).map(|_| 0);
            }
            print_handbook(&weeks, target)?;
            Ok(0)
        }
        VitalsCmd::Import { file, map, preview, performer, person } => import(ctx, file, map, preview, performer, person),
        VitalsCmd::Export { kind, from, to, include_deleted, person } => {
            let (from, to) = (date_arg(from)?, date_arg(to)?);
            let mut v = ctx.open()?;
            let person = resolve_person(&v, person)?;
            let kinds: Vec<Option<VitalKind>> = match kind {
                Some(k) => k.kinds().iter().map(|k| Some(*k)).collect(),
                None => vec![None],
            };
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            let mut n = 0;
            for k in kinds {
                n += v.export_vitals(&VitalsQuery { person, kind: k, from: from.clone(), to: to.clone(), include_deleted, home_only: false }, &mut w)?;
            }
            w.flush()?;
            eprintln!("techo: exported {n} readings");
            Ok(0)
        }
    }
}

fn delete(ctx: &mut Ctx, record_id: i64) -> anyhow::Result<u8> {
    let mut v = ctx.open()?;
    let o = v.delete_entry(record_id)?;
    if ctx.json {
        ctx.print_json(&o)?;
    }
    match o.status {
        EntryStatus::Unchanged => eprintln!("techo: record {record_id} was already marked entered-in-error"),
        _ => eprintln!("techo: record {record_id} is marked entered-in-error (kept in the vault and its history; hidden from lists)"),
    }
    Ok(0)
}

fn print_handbook(weeks: &[techo_vitals::WeekSummary], target: BpTarget) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "week of     morning 朝            evening 晩            other")?;
    let cell = |s: &Option<techo_vitals::SessionAverage>| match s {
        None => format!("{:<22}", "-"),
        Some(a) => {
            let pulse = a.pulse.map_or(String::new(), |p| format!(" {}/min", format_decimal(p, 0)));
            let flag = if a.above_target { "*" } else { "" };
            format!("{:<22}", format!("{}× {}/{}{pulse}{flag}", a.count, format_decimal(a.systolic, 0), format_decimal(a.diastolic, 0)))
        }
    };
    for w in weeks {
        writeln!(out, "{}  {}{}{}", w.week_start, cell(&w.morning), cell(&w.evening), w.unclassified)?;
    }
    if weeks.is_empty() {
        writeln!(out, "(no home blood-pressure readings yet)")?;
    }
    writeln!(
        out,
        "* mean at or above the target {}/{} mmHg. Means of home readings; morning 04:00–11:59, evening 18:00–03:59 unless marked --context.",
        format_decimal(target.systolic, 0),
        format_decimal(target.diastolic, 0)
    )?;
    Ok(())
}

// ------------------------------------------------------------------------- CSV

fn field_by_name(name: &str) -> Option<Field> {
    let n = name.trim().to_ascii_lowercase().replace('_', "-");
    Some(match n.as_str() {
        "datetime" | "date-time" => Field::DateTime,
        "date" => Field::Date,
        "time" => Field::Time,
        "systolic" | "sys" => Field::Systolic,
        "diastolic" | "dia" => Field::Diastolic,
        "pulse" | "heart-rate" => Field::Pulse,
        "context" | "session" => Field::Context,
        "weight" => Field::Weight,
        "height" => Field::Height,
        "temperature" | "temp" => Field::Temperature,
        "glucose" => Field::Glucose,
        "fasting-glucose" => Field::FastingGlucose,
        "post-meal-glucose" => Field::PostMealGlucose,
        "spo2" => Field::SpO2,
        "pef" | "peak-flow" => Field::PeakFlow,
        "steps" => Field::Steps,
        "sleep" => Field::Sleep,
        _ => return None,
    })
}

const FIELD_NAMES: &str = "date-time, date, time, systolic, diastolic, pulse, context, weight, height, temperature, glucose, fasting-glucose, post-meal-glucose, spo2, pef, steps, sleep";

/// `date=1,systolic=3,weight=6:lb` (columns from 1).
fn parse_map(s: &str) -> anyhow::Result<Mapping> {
    let mut m = Mapping::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((field, col)) = part.split_once('=') else {
            return Err(usage(format!("--map takes FIELD=COLUMN pairs (e.g. date=1,systolic=2); {part:?} has no '='")));
        };
        let f = field_by_name(field).ok_or_else(|| usage(format!("--map: {field:?} is not a field; use one of {FIELD_NAMES}")))?;
        let (col, unit) = col.split_once(':').map_or((col, None), |(c, u)| (c, Some(u)));
        let col: usize = col.trim().parse().ok().filter(|c| *c >= 1).ok_or_else(|| usage(format!("--map: the column of {field} must be a number from 1")))?;
        if m.columns.insert(f, col - 1).is_some() {
            return Err(usage(format!("--map: {field} is mapped twice")));
        }
        if let Some(u) = unit {
            let unit = Unit::parse(u).ok_or_else(|| usage(format!("--map: the unit of {field} is not recognised")))?;
            m.units.insert(f, unit);
        }
    }
    if m.columns.is_empty() {
        return Err(usage("--map is empty; give FIELD=COLUMN pairs"));
    }
    Ok(m)
}

fn field_name(f: Field) -> &'static str {
    f.name()
}

fn print_row_errors(errors: &[techo_vitals::RowError]) {
    const MAX: usize = 50;
    for e in errors.iter().take(MAX) {
        eprintln!("techo: error: {}", one_line(&e.to_string()));
    }
    if errors.len() > MAX {
        eprintln!("techo: error: … and {} more problems", errors.len() - MAX);
    }
}

fn import(ctx: &mut Ctx, file: PathBuf, map: Option<String>, preview: bool, performer: Option<String>, person: Option<i64>) -> anyhow::Result<u8> {
    let shown = file.display().to_string();
    let mapping = map.as_deref().map(parse_map).transpose()?;
    let bytes = std::fs::read(&file).map_err(|e| Error::Import {
        file: shown.clone(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "could not open it (no such file)".into(),
            std::io::ErrorKind::IsADirectory => "it is a folder, not a file".into(),
            _ => format!("could not open it ({e})"),
        },
    })?;
    let csv = CsvOptions { default_offset: local_offset(), now: now() };
    if preview {
        return preview_csv(ctx, &bytes, mapping, &csv);
    }
    let mut v = ctx.open()?;
    let person = resolve_person(&v, person)?;
    let name = file.file_name().map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let opts = VitalsCsvOptions { csv, file_name: name, performer };
    let r = match v.import_vitals_csv(person, &bytes, mapping.as_ref(), &opts) {
        Ok(r) => r,
        Err(Error::VitalsCsv(errors)) => {
            if errors.len() > 1 {
                print_row_errors(&errors);
            }
            let e = Error::VitalsCsv(errors);
            eprintln!("techo: error: {}", one_line(&e.to_string()));
            return Ok(exit_code(e.general_code()));
        }
        Err(e) => return Err(e.into()),
    };
    if ctx.json {
        ctx.print_json(&r)?;
    }
    eprintln!(
        "techo: imported {shown}: {} rows, {} readings: {} new, {} already stored{}",
        r.rows,
        r.readings,
        r.new,
        r.duplicates,
        if r.in_file_duplicates > 0 { format!(", {} repeated within the file (stored once)", r.in_file_duplicates) } else { String::new() }
    );
    for w in r.warnings.iter().take(20) {
        eprintln!("techo: warning: row {}: {}", w.line, w.warning);
    }
    if r.warnings.len() > 20 {
        eprintln!("techo: warning: … and {} more unusual values", r.warnings.len() - 20);
    }
    Ok(0)
}

fn preview_csv(ctx: &Ctx, bytes: &[u8], mapping: Option<Mapping>, opts: &CsvOptions) -> anyhow::Result<u8> {
    let file = CsvFile::from_bytes(bytes).map_err(Error::Vitals)?;
    let proposed = mapping.is_none();
    let mapping = mapping.unwrap_or_else(|| file.propose_mapping());
    let header = file.header().map(<[String]>::to_vec);
    let rows = file.preview(&mapping, opts, 5);
    if ctx.json {
        let cols: serde_json::Map<String, serde_json::Value> =
            mapping.columns.iter().map(|(f, c)| (field_name(*f).to_owned(), serde_json::json!(c + 1))).collect();
        let units: serde_json::Map<String, serde_json::Value> =
            mapping.units.iter().map(|(f, u)| (field_name(*f).to_owned(), serde_json::json!(u.ucum()))).collect();
        let rows_json = match &rows {
            Ok(rows) => rows
                .iter()
                .map(|r| match &r.result {
                    Ok(c) => serde_json::json!({ "line": r.line, "readings": c.iter().map(|c| &c.reading).collect::<Vec<_>>() }),
                    Err(e) => serde_json::json!({ "line": r.line, "errors": e.iter().map(|e| serde_json::json!({"code": e.code(), "message": e.to_string()})).collect::<Vec<_>>() }),
                })
                .collect::<Vec<_>>(),
            Err(_) => vec![],
        };
        ctx.print_json(&serde_json::json!({
            "proposed": proposed,
            "header": header,
            "rows_in_file": file.row_count(),
            "mapping": cols,
            "units": units,
            "preview": rows_json,
        }))?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} data rows; {}", file.row_count(), if header.is_some() { "a header row" } else { "no header row" })?;
        writeln!(out, "{} mapping:", if proposed { "proposed" } else { "given" })?;
        for c in 0..file.width() {
            let name = header.as_ref().and_then(|h| h.get(c)).map(|h| format!(" ({})", one_line(h))).unwrap_or_default();
            let fields: Vec<String> = mapping
                .columns
                .iter()
                .filter(|(_, col)| **col == c)
                .map(|(f, _)| match mapping.units.get(f) {
                    Some(u) => format!("{} in {}", field_name(*f), u.symbol()),
                    None => field_name(*f).to_owned(),
                })
                .collect();
            let to = if fields.is_empty() { "(not used)".to_owned() } else { fields.join(", ") };
            writeln!(out, "  column {}{name} → {to}", c + 1)?;
        }
        if !VALUE_FIELDS.iter().any(|f| mapping.columns.contains_key(f)) {
            writeln!(out, "  (no measurement column is mapped)")?;
        }
        if let Ok(rows) = &rows {
            writeln!(out, "first rows:")?;
            for r in rows {
                match &r.result {
                    Ok(readings) if readings.is_empty() => writeln!(out, "  row {}: (no values)", r.line)?,
                    Ok(readings) => {
                        for c in readings {
                            writeln!(out, "  row {}: {}  {}  {}", r.line, when(&c.reading.effective), c.reading.kind().slug(), c.reading.measurement.describe())?;
                        }
                    }
                    Err(errors) => {
                        for e in errors {
                            writeln!(out, "  {e}")?;
                        }
                    }
                }
            }
        }
    }
    if let Err(errors) = rows {
        if errors.len() > 1 {
            print_row_errors(&errors);
        }
        bail!(Error::VitalsCsv(errors));
    }
    eprintln!("techo: preview only; nothing was stored");
    Ok(0)
}

// ------------------------------------------------------------------------- diaries

const JOINT_NAMES: &str = "neck, jaw, left-/right-shoulder, -elbow, -wrist, -fingers, -hip, -knee, -ankle, -toes, lower-back (or 首, 左膝, 腰 …)";

fn joint(s: &str) -> Result<Joint, VitalsError> {
    let t = s.trim();
    Joint::from_code(&t.to_ascii_lowercase())
        .or_else(|| Joint::all().find(|j| j.label_ja() == t))
        .ok_or(VitalsError::UnrecognisedValue { field: "joint", allowed: JOINT_NAMES })
}

fn small(v: Option<u32>) -> Option<u8> {
    v.map(|v| u8::try_from(v).unwrap_or(u8::MAX))
}

pub fn run_diary(ctx: &mut Ctx, cmd: DiaryCmd) -> anyhow::Result<u8> {
    match cmd {
        DiaryCmd::Add {
            kind,
            at,
            daytime_symptoms,
            night_awakenings,
            reliever_puffs,
            pef_morning,
            pef_evening,
            sites,
            severity,
            stiffness,
            mood,
            symptoms,
            note,
            author,
            person,
        } => {
            let k = kind.kind();
            let asthma = [daytime_symptoms.is_some(), night_awakenings.is_some(), reliever_puffs.is_some(), pef_morning.is_some(), pef_evening.is_some()];
            let joint_opts = [sites.is_some(), severity.is_some(), stiffness.is_some()];
            let mood_opts = [mood.is_some(), symptoms.is_some()];
            let misplaced = match k {
                DiaryKind::Asthma => joint_opts.iter().chain(&mood_opts).any(|b| *b),
                DiaryKind::JointPain => asthma.iter().chain(&mood_opts).any(|b| *b),
                DiaryKind::Mood => asthma.iter().chain(&joint_opts).any(|b| *b),
            };
            if misplaced {
                return Err(usage(format!(
                    "an option does not belong to the {} diary (asthma: --daytime-symptoms, --night-awakenings, --reliever-puffs, --pef-morning, --pef-evening; joint: --sites, --severity, --stiffness; mood: --mood, --symptoms; all: --note)",
                    k.slug().trim_end_matches("-diary")
                )));
            }
            let entry = match k {
                DiaryKind::Asthma => DiaryEntry::Asthma(AsthmaDiary {
                    daytime_symptoms: small(daytime_symptoms),
                    night_awakenings,
                    reliever_puffs,
                    pef_morning,
                    pef_evening,
                    note,
                }),
                DiaryKind::JointPain => DiaryEntry::JointPain(JointPainDiary {
                    sites: sites.as_deref().map_or(Ok(vec![]), |s| s.split([',', '、']).filter(|p| !p.trim().is_empty()).map(joint).collect())?,
                    severity: small(severity),
                    morning_stiffness_minutes: stiffness,
                    note,
                }),
                DiaryKind::Mood => DiaryEntry::Mood(MoodDiary { mood: small(mood), symptoms, note }),
            };
            let at = parse_at(at.as_deref())?;
            let now = now();
            let mut v = ctx.open()?;
            let person = resolve_person(&v, person)?;
            let o = v.add_diary(person, Diary::new(at.unwrap_or(now), entry), author.as_deref(), now)?;
            if o.status == EntryStatus::Duplicate {
                return Err(Error::DuplicateEntry(o.record_id).into());
            }
            report_outcome(ctx, &format!("{} entry", k.title_ja()), &o)?;
            Ok(0)
        }
        DiaryCmd::List { kind, from, to, include_deleted, person } => {
            let (from, to) = (date_arg(from)?, date_arg(to)?);
            let v = ctx.open()?;
            let person = resolve_person(&v, person)?;
            let list = v.diaries(person, kind.map(DiaryArg::kind), from.as_deref(), to.as_deref(), include_deleted)?;
            if ctx.json {
                return ctx.print_json(&list).map(|_| 0);
            }
            let mut out = std::io::stdout().lock();
            for d in &list {
                let status = if d.status == "completed" { String::new() } else { format!("\t[{}]", d.status) };
                writeln!(out, "{}\t{}\t{}\t{}\t{}{status}", d.record_id, when(&d.diary.authored), d.diary.entry.kind().slug(), d.diary.entry.summary(), d.source)?;
            }
            Ok(0)
        }
        DiaryCmd::Delete { record_id } => delete(ctx, record_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_units() {
        let k = VitalKind::BodyWeight;
        assert_eq!(single(k, "62.5kg").unwrap(), (62.5, Unit::Kilogram));
        assert_eq!(single(k, "１３８ lb").unwrap(), (138.0, Unit::Pound));
        assert_eq!(single(VitalKind::Steps, "8,000").unwrap(), (8000.0, Unit::Steps));
        assert_eq!(single(k, "62.5 parsecs").unwrap_err().code(), "unknown_unit");
        assert_eq!(single(k, "abc").unwrap_err().code(), "malformed_number");
        assert_eq!(single(k, "8,00").unwrap_err().code(), "malformed_number");
        assert_eq!(parse_bp("128/82").unwrap(), (128.0, 82.0, None));
        assert_eq!(parse_bp("128／82／70").unwrap(), (128.0, 82.0, Some(70.0)));
        assert_eq!(parse_bp("128").unwrap_err().code(), "missing_value");
        assert_eq!(parse_bp("128/").unwrap_err().code(), "missing_value");
        assert_eq!(parse_bp("128/82kg").unwrap_err().code(), "unit_not_allowed");
        assert_eq!(parse_bp("1/2/3/4").unwrap_err().code(), "malformed_number");
    }

    #[test]
    fn maps() {
        let m = parse_map("date=1, systolic=2,diastolic=3,weight=4:lb").unwrap();
        assert_eq!(m.column(Field::Weight), Some(3));
        assert_eq!(m.units.get(&Field::Weight), Some(&Unit::Pound));
        for bad in ["date", "date=0", "colour=1", "date=1,date=2", "weight=2:parsec", ""] {
            assert!(parse_map(bad).is_err(), "{bad}");
        }
    }
}
