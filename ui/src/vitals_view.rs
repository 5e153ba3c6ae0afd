//! Pure helpers for the home vitals screen (entering readings and diary entries, the chart):
//! no browser APIs, tested natively. Readings are health data: nothing here logs or prints.

use crate::i18n_vitals::{tr, trf};
use std::collections::BTreeMap;
use techo_ipc::{
    validate_bp_target, validate_diary, validate_local_time, AddDiaryArgs, AddVitalArgs, BpTargetArgs, Language, SessionAvg, VitalAdded, VitalKindInfo, VitalPoint,
};

/// The kind the screen opens on.
pub const DEFAULT_KIND: &str = "blood-pressure";
/// How many readings (and diary entries) the lists show, newest first.
pub const LIST_MAX: usize = 20;
/// The Japanese home blood-pressure targets (JSH 2019), upper and lower, in mmHg.
pub const HOME_BP_TARGETS: [f64; 2] = [135.0, 85.0];
/// The diaries: value of `select#diary-kind` (the `kind` sent, the CSS class of its calendar
/// marks) and words.
pub const DIARY_KINDS: [(&str, &str); 3] = [("mood", "Mood / symptoms"), ("asthma", "Asthma"), ("joint-pain", "Joint pain")];
/// The asthma diary's daytime symptoms: value and words.
pub const DAYTIME_SYMPTOMS: [(u8, &str); 4] = [(0, "none"), (1, "mild"), (2, "moderate"), (3, "severe")];
/// How many weeks the blood-pressure handbook shows, newest first.
pub const HANDBOOK_WEEKS: u32 = 12;
/// The mood select: value and words.
pub const MOODS: [(u8, &str); 5] = [(1, "1 very bad"), (2, "2 bad"), (3, "3 so-so"), (4, "4 good"), (5, "5 very good")];

/// The chart's viewBox and the plot area inside it (room for the ticks left, the dates below).
pub const VIEW_W: f64 = 640.0;
pub const VIEW_H: f64 = 240.0;
pub const PLOT_LEFT: f64 = 48.0;
pub const PLOT_RIGHT: f64 = VIEW_W - 16.0;
pub const PLOT_TOP: f64 = 12.0;
pub const PLOT_BOTTOM: f64 = VIEW_H - 30.0;

/// A number typed by a person: `"36.8"`, `"36,8"` (comma as decimal separator), full-width
/// digits from a Japanese keyboard. `Ok(None)` when blank; `Err(())` when it is not a plain
/// decimal number (no exponents, no thousands separators, no `inf`/`NaN`).
pub fn parse_number(text: &str) -> Result<Option<f64>, ()> {
    let t: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            ',' | '，' | '．' => '.',
            '－' | '−' => '-',
            c => c,
        })
        .collect();
    if t.is_empty() {
        return Ok(None);
    }
    let digits = t.strip_prefix('-').unwrap_or(&t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int.len() + frac.len() == 0 || !plain(int) || !plain(frac) {
        return Err(());
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some).ok_or(())
}

/// A number the reading needs: an error sentence naming the field when it is blank or not a number.
pub fn required_number(lang: Language, text: &str, what: &str) -> Result<f64, String> {
    match parse_number(text) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(trf(lang, "err.enter", &[&what])),
        Err(()) => Err(trf(lang, "err.not_number", &[&what])),
    }
}

/// A number the reading may have: `None` when blank, an error sentence when not a number.
pub fn optional_number(lang: Language, text: &str, what: &str) -> Result<Option<f64>, String> {
    parse_number(text).map_err(|()| trf(lang, "err.not_number_optional", &[&what]))
}

/// The value of an `<input type=datetime-local>`: `YYYY-MM-DDTHH:MM` (`month` from 1).
pub fn local_input_time(year: u32, month: u32, day: u32, hour: u32, minute: u32) -> String {
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}")
}

/// The kind to open on: blood pressure when there is one, else the first.
pub fn default_kind(kinds: &[VitalKindInfo]) -> Option<&VitalKindInfo> {
    kinds.iter().find(|k| k.slug == DEFAULT_KIND).or_else(|| kinds.first())
}

/// The kind of a slug, else the default one.
pub fn chosen_kind<'a>(kinds: &'a [VitalKindInfo], slug: &str) -> Option<&'a VitalKindInfo> {
    kinds.iter().find(|k| k.slug == slug).or_else(|| default_kind(kinds))
}

/// A kind's name as a select shows it: its English name, capitalised (`Blood pressure`), or
/// its Japanese name (`血圧`, from the shell's `vital_kinds`; the English one when it has none).
pub fn kind_label(lang: Language, kind: &VitalKindInfo) -> String {
    if lang == Language::Ja && !kind.name_ja.trim().is_empty() {
        return kind.name_ja.clone();
    }
    let mut chars = kind.name_en.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => kind.slug.clone(),
    }
}

/// A kind's units as `(UCUM code, label)`, canonical first; a missing label shows the code.
pub fn unit_options(kind: &VitalKindInfo) -> Vec<(String, String)> {
    kind.units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.clone(), kind.unit_labels.get(i).cloned().unwrap_or_else(|| u.clone())))
        .collect()
}

/// What the reading form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VitalForm {
    pub at: String,
    pub value: String,
    pub unit: String,
    pub systolic: String,
    pub diastolic: String,
    pub pulse: String,
    pub context: String,
}

fn local_time(at: &str) -> Result<Option<String>, String> {
    let at = at.trim();
    if at.is_empty() {
        return Ok(None); // the shell takes "now"
    }
    validate_local_time(at).map_err(|e| e.message)?;
    Ok(Some(at.to_string()))
}

/// The `add_vital` arguments of a filled form, or the sentence saying what to fix.
pub fn vital_args(lang: Language, person_id: i64, kind: &VitalKindInfo, form: &VitalForm) -> Result<AddVitalArgs, String> {
    let mut args = AddVitalArgs { person_id, kind: kind.slug.clone(), ..Default::default() };
    if kind.blood_pressure {
        args.systolic = Some(required_number(lang, &form.systolic, tr(lang, "what.systolic"))?);
        args.diastolic = Some(required_number(lang, &form.diastolic, tr(lang, "what.diastolic"))?);
        args.pulse = optional_number(lang, &form.pulse, tr(lang, "what.pulse"))?;
        args.context = match form.context.trim() {
            "" => None,
            c @ ("morning" | "evening") => Some(c.to_string()),
            _ => return Err(tr(lang, "err.context").to_string()),
        };
    } else {
        let name = match lang {
            Language::Ja if !kind.name_ja.trim().is_empty() => &kind.name_ja,
            _ => &kind.name_en,
        };
        args.value = Some(required_number(lang, &form.value, name)?);
        let unit = form.unit.trim();
        args.unit = match unit {
            "" => None,
            u if kind.units.iter().any(|k| k == u) => Some(u.to_string()),
            _ => return Err(trf(lang, "err.unit", &[name])),
        };
    }
    args.at = local_time(&form.at)?;
    Ok(args)
}

/// The mood select's value: `""` → none, `"1"`…`"5"`.
pub fn parse_mood(lang: Language, value: &str) -> Result<Option<u8>, String> {
    match value.trim() {
        "" => Ok(None),
        v => v
            .parse::<u8>()
            .ok()
            .filter(|m| (1..=5).contains(m))
            .map(Some)
            .ok_or_else(|| tr(lang, "err.mood").to_string()),
    }
}

/// A whole number a diary may have (a count, L/min, minutes): `None` when blank, an error
/// sentence naming the field when it is not a whole number ≥ 0.
pub fn whole_number(lang: Language, text: &str, what: &str) -> Result<Option<u32>, String> {
    let bad = || trf(lang, "err.not_whole", &[&what]);
    match parse_number(text) {
        Ok(None) => Ok(None),
        Ok(Some(v)) if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) => Ok(Some(v as u32)),
        _ => Err(bad()),
    }
}

/// The daytime-symptoms select's value: `""` → none, `"0"`…`"3"`.
pub fn parse_daytime(lang: Language, value: &str) -> Result<Option<u8>, String> {
    match value.trim() {
        "" => Ok(None),
        v => v
            .parse::<u8>()
            .ok()
            .filter(|m| *m <= 3)
            .map(Some)
            .ok_or_else(|| tr(lang, "err.daytime").to_string()),
    }
}

/// A pain severity 0–10 (blank: not answered).
pub fn parse_severity(lang: Language, text: &str) -> Result<Option<u8>, String> {
    match whole_number(lang, text, tr(lang, "what.severity"))? {
        None => Ok(None),
        Some(v) => u8::try_from(v).ok().filter(|v| *v <= 10).map(Some).ok_or_else(|| tr(lang, "err.severity").to_string()),
    }
}

/// The diary of a `select#diary-kind` value (`""`: the mood diary), or the sentence saying so.
pub fn diary_kind(lang: Language, value: &str) -> Result<&'static str, String> {
    match value.trim() {
        "" => Ok(DIARY_KINDS[0].0),
        v => DIARY_KINDS.iter().map(|k| k.0).find(|k| *k == v).ok_or_else(|| tr(lang, "err.diary_kind").to_string()),
    }
}

/// What the diary form holds, as typed; only the chosen diary's fields are read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiaryForm {
    /// `mood`, `asthma` or `joint-pain`.
    pub kind: String,
    pub at: String,
    pub note: String,
    pub mood: String,
    pub symptoms: String,
    pub daytime: String,
    pub night: String,
    pub puffs: String,
    pub pef_morning: String,
    pub pef_evening: String,
    /// The ticked joints' codes.
    pub joints: Vec<String>,
    pub severity: String,
    pub stiffness: String,
}

/// The `add_diary` arguments of a filled diary form (checked with [`validate_diary`]), or the
/// sentence saying what to fix. Blank fields are left out, and so are the other diaries'.
pub fn diary_args(lang: Language, person_id: i64, form: &DiaryForm) -> Result<AddDiaryArgs, String> {
    let text = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty());
    let kind = diary_kind(lang, &form.kind)?;
    let mut args = AddDiaryArgs { person_id, kind: Some(kind.to_string()), at: local_time(&form.at)?, note: text(&form.note), ..Default::default() };
    match kind {
        "asthma" => {
            args.daytime_symptoms = parse_daytime(lang, &form.daytime)?;
            args.night_awakenings = whole_number(lang, &form.night, tr(lang, "what.night"))?;
            args.reliever_puffs = whole_number(lang, &form.puffs, tr(lang, "what.puffs"))?;
            args.pef_morning = whole_number(lang, &form.pef_morning, tr(lang, "what.pef_morning"))?;
            args.pef_evening = whole_number(lang, &form.pef_evening, tr(lang, "what.pef_evening"))?;
        }
        "joint-pain" => {
            for j in form.joints.iter().map(|j| j.trim()).filter(|j| !j.is_empty()) {
                if !args.joints.iter().any(|have| have == j) {
                    args.joints.push(j.to_string());
                }
            }
            args.severity = parse_severity(lang, &form.severity)?;
            args.morning_stiffness_minutes = whole_number(lang, &form.stiffness, tr(lang, "what.stiffness"))?;
        }
        _ => {
            args.mood = parse_mood(lang, &form.mood)?;
            args.symptoms = text(&form.symptoms);
        }
    }
    validate_diary(&args).map_err(|e| e.message)?;
    Ok(args)
}

/// The calendar-mark class of a diary entry's kind (an unknown one counts as the mood diary).
pub fn diary_class(kind: &str) -> &'static str {
    DIARY_KINDS.iter().map(|k| k.0).find(|k| *k == kind).unwrap_or(DIARY_KINDS[0].0)
}

/// A diary's words for its kind (`Asthma`, `ぜんそく日誌`).
pub fn diary_kind_label(lang: Language, kind: &str) -> &'static str {
    match diary_class(kind) {
        "asthma" => tr(lang, "diary.asthma"),
        "joint-pain" => tr(lang, "diary.joint-pain"),
        _ => tr(lang, "diary.mood"),
    }
}

/// A mood option's words (`4 good`, `4 良い`).
pub fn mood_label(lang: Language, mood: u8) -> &'static str {
    match mood {
        1 => tr(lang, "mood.1"),
        2 => tr(lang, "mood.2"),
        3 => tr(lang, "mood.3"),
        4 => tr(lang, "mood.4"),
        _ => tr(lang, "mood.5"),
    }
}

/// A daytime-symptoms option's words (`mild`, `軽い`).
pub fn daytime_label(lang: Language, level: u8) -> &'static str {
    match level {
        0 => tr(lang, "daytime.0"),
        1 => tr(lang, "daytime.1"),
        2 => tr(lang, "daytime.2"),
        _ => tr(lang, "daytime.3"),
    }
}

/// Whether a year has 29 February (Gregorian).
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The days of a month (`month` from 1).
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The weekday of a date, Monday 0 … Sunday 6 (Gregorian; `month` from 1).
pub fn weekday(year: i32, month: u32, day: u32) -> u32 {
    const T: [i64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = i64::from(year) - i64::from(month < 3);
    let m = month.clamp(1, 12) as usize - 1;
    let sunday_first = (y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400) + T[m] + i64::from(day)).rem_euclid(7);
    ((sunday_first + 6) % 7) as u32
}

/// The empty cells before the 1st in a Monday-first calendar.
pub fn first_weekday_offset(year: i32, month: u32) -> u32 {
    weekday(year, month, 1)
}

/// The month `delta` months from a month: `(year, month)`.
pub fn add_months(year: i32, month: u32, delta: i32) -> (i32, u32) {
    let index = i64::from(year) * 12 + i64::from(month.clamp(1, 12)) - 1 + i64::from(delta);
    (index.div_euclid(12) as i32, index.rem_euclid(12) as u32 + 1)
}

/// The calendar's heading of a month: `2026-11`, `2026年11月`.
pub fn month_label(lang: Language, year: i32, month: u32) -> String {
    crate::i18n_vitals::month_label(lang, year, month)
}

/// The key of a local day, as [`crate::record::local`] writes it: `2026-11-28`.
pub fn day_key(year: i32, month: u32, day: u32) -> String {
    format!("{year:04}-{month:02}-{day:02}")
}

/// A month's calendar: weeks (Monday first) of day numbers, `None` outside the month.
pub fn month_grid(year: i32, month: u32) -> Vec<[Option<u32>; 7]> {
    let offset = first_weekday_offset(year, month);
    let days = days_in_month(year, month);
    let cells = (offset + days).div_ceil(7) * 7;
    let day_of = |cell: u32| (cell >= offset && cell - offset < days).then(|| cell - offset + 1);
    (0..cells / 7).map(|w| std::array::from_fn(|i| day_of(w * 7 + i as u32))).collect()
}

/// Diary entries per local day: each day (`YYYY-MM-DD`, already in local time) → the indexes
/// of its entries, in the list's order. Entries without a readable day are left out.
pub fn entries_per_day(days: impl IntoIterator<Item = Option<String>>) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, day) in days.into_iter().enumerate() {
        if let Some(day) = day {
            out.entry(day).or_default().push(i);
        }
    }
    out
}

/// How many entries of each diary (calendar-mark class, count), in [`DIARY_KINDS`] order,
/// diaries without entries left out.
pub fn kind_counts<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Vec<(&'static str, usize)> {
    let mut counts = [0usize; DIARY_KINDS.len()];
    for k in kinds {
        let class = diary_class(k);
        if let Some(i) = DIARY_KINDS.iter().position(|d| d.0 == class) {
            counts[i] += 1;
        }
    }
    DIARY_KINDS.iter().zip(counts).filter(|(_, n)| *n > 0).map(|(k, n)| (k.0, n)).collect()
}

/// The `set_bp_target` arguments of the target fields, or the sentence saying what to fix.
pub fn target_args(lang: Language, systolic: &str, diastolic: &str) -> Result<BpTargetArgs, String> {
    let field = |text: &str, what: &str| whole_number(lang, text, what)?.ok_or_else(|| trf(lang, "err.enter", &[&what]));
    let target = BpTargetArgs { systolic: field(systolic, tr(lang, "what.target_systolic"))?, diastolic: field(diastolic, tr(lang, "what.target_diastolic"))? };
    validate_bp_target(&target).map_err(|e| e.message)?;
    Ok(target)
}

/// The chart's dashed target lines: the vault's target once known, else the Japanese home targets.
pub fn bp_targets(target: Option<BpTargetArgs>) -> [f64; 2] {
    target.map_or(HOME_BP_TARGETS, |t| [f64::from(t.systolic), f64::from(t.diastolic)])
}

/// A whole mmHg (or /min) of an average, halves rounded up.
fn whole(v: f64) -> String {
    format!("{:.0}", v.round())
}

/// A handbook cell: `128/82 (3)` (average upper/lower and how many readings), with the
/// average pulse when there is one (`128/82 (3), pulse 70`).
pub fn session_text(lang: Language, s: &SessionAvg) -> String {
    let head = format!("{}/{} ({})", whole(s.systolic), whole(s.diastolic), s.readings);
    match s.pulse.filter(|p| p.is_finite()) {
        Some(p) => trf(lang, "session_pulse", &[&head, &whole(p)]),
        None => head,
    }
}

/// The note after a home entry was deleted.
pub fn deleted_note(lang: Language) -> &'static str {
    tr(lang, "deleted")
}

/// The lines of the note after a reading was sent: saved (or already there), then each
/// warning (the shell's sentences, as they are).
pub fn vital_saved_lines(lang: Language, added: &VitalAdded) -> Vec<String> {
    let head = if added.duplicate { tr(lang, "vital_duplicate") } else { tr(lang, "saved") };
    std::iter::once(head.to_string()).chain(added.warnings.iter().cloned()).collect()
}

/// The note after a diary entry was sent.
pub fn diary_saved_line(lang: Language, duplicate: bool) -> &'static str {
    if duplicate {
        tr(lang, "diary_duplicate")
    } else {
        tr(lang, "saved")
    }
}

/// The series a kind's chart draws: `(class, index into VitalPoint::values)`.
pub fn series_of(blood_pressure: bool) -> &'static [(&'static str, usize)] {
    if blood_pressure {
        &[("systolic", 0), ("diastolic", 1)]
    } else {
        &[("value", 0)]
    }
}

/// The value range a chart shows: the data's (and the targets') min and max, padded by 10 %
/// of the span; one value, or all equal, get a band around them instead (never an empty range).
/// A range of values that are all ≥ 0 does not reach below 0. `None` without a finite value.
pub fn y_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v)))))?;
    let span = hi - lo;
    let pad = if span > 0.0 { span * 0.1 } else { (hi.abs() * 0.1).max(1.0) };
    let bottom = if lo >= 0.0 { (lo - pad).max(0.0) } else { lo - pad };
    Some((bottom, hi + pad))
}

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` intervals on `span`.
pub fn nice_step(span: f64, count: u32) -> f64 {
    if !(span.is_finite() && span > 0.0) || count == 0 {
        return 1.0;
    }
    let raw = span / f64::from(count);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A tick's words: as many decimals as the step needs (`120`, `36.5`), never `-0`.
pub fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 || step <= 0.0 { 0 } else { (-step.log10()).ceil().max(0.0) as usize };
    let s = format!("{value:.decimals$}");
    if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// Where things go on the chart: times and values scaled into the plot area of the viewBox.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Oldest and newest time (ms since the epoch).
    pub t0: f64,
    pub t1: f64,
    /// The value range shown, bottom to top (`lo < hi`).
    pub lo: f64,
    pub hi: f64,
}

impl Frame {
    /// The x of a time; all readings at one time stand in the middle.
    pub fn x(&self, t: f64) -> f64 {
        if self.t1 > self.t0 {
            PLOT_LEFT + (t - self.t0) / (self.t1 - self.t0) * (PLOT_RIGHT - PLOT_LEFT)
        } else {
            (PLOT_LEFT + PLOT_RIGHT) / 2.0
        }
    }

    /// The y of a value (larger values higher up).
    pub fn y(&self, v: f64) -> f64 {
        if self.hi > self.lo {
            PLOT_TOP + (self.hi - v) / (self.hi - self.lo) * (PLOT_BOTTOM - PLOT_TOP)
        } else {
            (PLOT_TOP + PLOT_BOTTOM) / 2.0
        }
    }

    /// The y-axis ticks: `(value, words)`, bottom to top, about four intervals.
    pub fn ticks(&self) -> Vec<(f64, String)> {
        let step = nice_step(self.hi - self.lo, 4);
        let mut out = Vec::new();
        let mut v = (self.lo / step).ceil() * step;
        while v <= self.hi + step * 1e-9 && out.len() < 20 {
            out.push((v, tick_label(v, step)));
            v += step;
        }
        out
    }
}

/// One drawn reading of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plotted {
    pub x: f64,
    pub y: f64,
    /// The reading's index in the slice given to [`chart`].
    pub index: usize,
}

/// One line of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// `systolic`, `diastolic` or `value` (its CSS class).
    pub class: &'static str,
    /// Oldest first, left to right.
    pub points: Vec<Plotted>,
}

/// A chart of a kind's readings.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub frame: Frame,
    pub series: Vec<Series>,
    /// Dashed target lines: `(y, value)`.
    pub targets: Vec<(f64, f64)>,
    /// The indexes of the oldest and the newest reading drawn (for the dates under the axis).
    pub oldest: usize,
    pub newest: usize,
}

/// The chart of `points` (in any order; the shell sends them newest first). `time` reads a
/// reading's `at` (ms since the epoch; `None`: left out). Blood pressure draws systolic and
/// diastolic with the home targets `bp_targets` (upper, lower; see [`bp_targets`]), other kinds
/// their one value. `None` when nothing can be drawn.
pub fn chart(points: &[VitalPoint], blood_pressure: bool, bp_targets: [f64; 2], time: impl Fn(&str) -> Option<f64>) -> Option<Chart> {
    let mut timed: Vec<(f64, usize)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| time(&p.at).filter(|t| t.is_finite()).map(|t| (t, i)))
        .collect();
    timed.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let series = series_of(blood_pressure);
    let value = |i: usize, s: usize| points[i].values.get(s).copied().filter(|v| v.is_finite());
    let drawn: Vec<(f64, usize)> = timed.into_iter().filter(|&(_, i)| series.iter().any(|&(_, s)| value(i, s).is_some())).collect();
    let (first, last) = (drawn.first()?, drawn.last()?);
    let targets: &[f64] = if blood_pressure { &bp_targets } else { &[] };
    let all = drawn.iter().flat_map(|&(_, i)| series.iter().filter_map(move |&(_, s)| value(i, s)));
    let (lo, hi) = y_range(all.chain(targets.iter().copied()))?;
    let frame = Frame { t0: first.0, t1: last.0, lo, hi };
    Some(Chart {
        series: series
            .iter()
            .map(|&(class, s)| Series {
                class,
                points: drawn.iter().filter_map(|&(t, i)| value(i, s).map(|v| Plotted { x: frame.x(t), y: frame.y(v), index: i })).collect(),
            })
            .collect(),
        targets: targets.iter().map(|&v| (frame.y(v), v)).collect(),
        oldest: first.1,
        newest: last.1,
        frame,
    })
}

/// A polyline's `points` attribute: `x,y x,y …`, one decimal.
pub fn polyline(points: &[Plotted]) -> String {
    points.iter().map(|p| format!("{:.1},{:.1}", p.x, p.y)).collect::<Vec<_>>().join(" ")
}

/// A coordinate for an SVG attribute, one decimal.
pub fn coord(v: f64) -> String {
    format!("{v:.1}")
}

/// The tooltip of a reading on the chart: its words and when (`128/82 mmHg · 2026-11-28 07:30`).
pub fn point_title(label: &str, when: Option<(String, String)>) -> String {
    match when {
        Some((day, time)) => format!("{label} · {day} {time}"),
        None => label.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use techo_ipc::Language::{self, En};

    fn kind(slug: &str, bp: bool, units: &[(&str, &str)]) -> VitalKindInfo {
        VitalKindInfo {
            slug: slug.into(),
            name_en: slug.replace('-', " "),
            name_ja: String::new(),
            units: units.iter().map(|u| u.0.to_string()).collect(),
            unit_labels: units.iter().map(|u| u.1.to_string()).collect(),
            blood_pressure: bp,
            decimals: 1,
        }
    }

    fn bp_kind() -> VitalKindInfo {
        kind("blood-pressure", true, &[("mm[Hg]", "mmHg")])
    }

    fn temp_kind() -> VitalKindInfo {
        kind("body-temperature", false, &[("Cel", "°C"), ("[degF]", "°F")])
    }

    fn point(id: i64, at: &str, values: &[f64], home: bool) -> VitalPoint {
        VitalPoint { record_id: id, at: at.into(), values: values.to_vec(), unit: "mmHg".into(), label: format!("reading {id}"), home, source: "s".into() }
    }

    /// Test times: `"t<ms>"` → ms.
    fn t(at: &str) -> Option<f64> {
        at.strip_prefix('t')?.parse().ok()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn numbers_accept_a_decimal_comma() {
        assert_eq!(parse_number("36,8"), Ok(Some(36.8)));
        assert_eq!(parse_number(" 36.8 "), Ok(Some(36.8)));
        assert_eq!(parse_number("128"), Ok(Some(128.0)));
        assert_eq!(parse_number("３６．８"), Ok(Some(36.8)), "full-width digits from a Japanese keyboard");
        assert_eq!(parse_number("-1,5"), Ok(Some(-1.5)));
        assert_eq!(parse_number(".5"), Ok(Some(0.5)));
        assert_eq!(parse_number("5."), Ok(Some(5.0)));
        assert_eq!(parse_number(""), Ok(None));
        assert_eq!(parse_number("   "), Ok(None));
        for junk in ["abc", "12a", "1,2,3", "1.2.3", "1e3", "inf", "NaN", "-", ".", "+5", "1 000", "12/80"] {
            assert_eq!(parse_number(junk), Err(()), "{junk}");
        }
    }

    #[test]
    fn required_and_optional_numbers_say_what_is_wrong() {
        assert_eq!(required_number(En, "82", "lower pressure"), Ok(82.0));
        assert_eq!(required_number(En, "", "lower pressure"), Err("Enter the lower pressure.".to_string()));
        assert!(required_number(En, "x", "lower pressure").unwrap_err().contains("lower pressure is not a number"));
        assert_eq!(optional_number(En, "", "pulse"), Ok(None));
        assert_eq!(optional_number(En, "70", "pulse"), Ok(Some(70.0)));
        assert!(optional_number(En, "seventy", "pulse").unwrap_err().contains("pulse"));
    }

    #[test]
    fn datetime_local_values() {
        assert_eq!(local_input_time(2026, 1, 2, 7, 5), "2026-01-02T07:05");
        assert_eq!(local_input_time(2026, 12, 31, 23, 59), "2026-12-31T23:59");
        assert!(validate_local_time(&local_input_time(2026, 11, 28, 0, 0)).is_ok());
    }

    #[test]
    fn kinds_units_and_labels() {
        let kinds = [temp_kind(), bp_kind()];
        assert_eq!(default_kind(&kinds).map(|k| k.slug.as_str()), Some("blood-pressure"));
        assert_eq!(default_kind(&kinds[..1]).map(|k| k.slug.as_str()), Some("body-temperature"));
        assert_eq!(default_kind(&[]), None);
        assert_eq!(chosen_kind(&kinds, "body-temperature").map(|k| k.slug.as_str()), Some("body-temperature"));
        assert_eq!(chosen_kind(&kinds, "gone").map(|k| k.slug.as_str()), Some("blood-pressure"));
        assert_eq!(kind_label(En, &kinds[1]), "Blood pressure");
        assert_eq!(unit_options(&kinds[0]), [("Cel".to_string(), "°C".to_string()), ("[degF]".to_string(), "°F".to_string())]);
        let mut no_labels = temp_kind();
        no_labels.unit_labels.truncate(1);
        assert_eq!(unit_options(&no_labels)[1], ("[degF]".to_string(), "[degF]".to_string()));
    }

    #[test]
    fn blood_pressure_args() {
        let form = VitalForm { at: "2026-11-28T07:30".into(), systolic: "128".into(), diastolic: "82".into(), pulse: "70".into(), context: "morning".into(), ..Default::default() };
        let args = vital_args(En, 7, &bp_kind(), &form).unwrap();
        assert_eq!(args.person_id, 7);
        assert_eq!(args.kind, "blood-pressure");
        assert_eq!((args.systolic, args.diastolic, args.pulse), (Some(128.0), Some(82.0), Some(70.0)));
        assert_eq!(args.context.as_deref(), Some("morning"));
        assert_eq!(args.at.as_deref(), Some("2026-11-28T07:30"));
        assert_eq!((args.value, args.unit), (None, None), "a one-value field left over is not sent");

        let no_pulse = VitalForm { pulse: "".into(), context: "".into(), ..form.clone() };
        let args = vital_args(En, 7, &bp_kind(), &no_pulse).unwrap();
        assert_eq!((args.pulse, args.context), (None, None));

        let missing = VitalForm { diastolic: " ".into(), ..form.clone() };
        assert!(vital_args(En, 7, &bp_kind(), &missing).unwrap_err().contains("lower (diastolic)"));
        let junk = VitalForm { systolic: "12o".into(), ..form.clone() };
        assert!(vital_args(En, 7, &bp_kind(), &junk).unwrap_err().contains("upper (systolic) pressure is not a number"));
        let bad_pulse = VitalForm { pulse: "?".into(), ..form.clone() };
        assert!(vital_args(En, 7, &bp_kind(), &bad_pulse).is_err());
        let bad_context = VitalForm { context: "noon".into(), ..form.clone() };
        assert!(vital_args(En, 7, &bp_kind(), &bad_context).is_err());
        let bad_time = VitalForm { at: "2026-11-28 07:30".into(), ..form.clone() };
        assert!(vital_args(En, 7, &bp_kind(), &bad_time).unwrap_err().contains("date and a time"));
        let now = VitalForm { at: "".into(), ..form };
        assert_eq!(vital_args(En, 7, &bp_kind(), &now).unwrap().at, None, "blank: the shell takes now");
    }

    #[test]
    fn one_value_args() {
        let form = VitalForm { at: "2026-11-28T21:05".into(), value: "36,8".into(), unit: "Cel".into(), systolic: "120".into(), ..Default::default() };
        let args = vital_args(En, 1, &temp_kind(), &form).unwrap();
        assert_eq!(args.value, Some(36.8));
        assert_eq!(args.unit.as_deref(), Some("Cel"));
        assert_eq!(args.systolic, None, "a blood-pressure field left over is not sent");
        assert_eq!(vital_args(En, 1, &temp_kind(), &VitalForm { unit: "".into(), ..form.clone() }).unwrap().unit, None);
        assert!(vital_args(En, 1, &temp_kind(), &VitalForm { unit: "kg".into(), ..form.clone() }).is_err());
        assert_eq!(vital_args(En, 1, &temp_kind(), &VitalForm { value: "".into(), ..form.clone() }).unwrap_err(), "Enter the body temperature.");
        assert!(vital_args(En, 1, &temp_kind(), &VitalForm { value: "warm".into(), ..form }).is_err());
    }

    #[test]
    fn moods_and_diary_args() {
        assert_eq!(MOODS.map(|(m, _)| m), [1, 2, 3, 4, 5]);
        assert_eq!(MOODS[0].1, "1 very bad");
        assert_eq!(MOODS[4].1, "5 very good");
        for (m, label) in MOODS {
            assert!(label.starts_with(&m.to_string()), "{label}");
            assert_eq!(parse_mood(En, &m.to_string()), Ok(Some(m)), "each option's value is read back");
        }
        assert_eq!(parse_mood(En, ""), Ok(None));
        assert!(parse_mood(En, "6").is_err());
        assert!(parse_mood(En, "x").is_err());

        let mood = |m: &str, symptoms: &str, note: &str, at: &str| DiaryForm { kind: "mood".into(), mood: m.into(), symptoms: symptoms.into(), note: note.into(), at: at.into(), ..Default::default() };
        let args = diary_args(En, 3, &mood("4", " 朝から少し頭痛 ", "  ", "2026-11-28T08:00")).unwrap();
        assert_eq!(args.kind.as_deref(), Some("mood"));
        assert_eq!(args.mood, Some(4));
        assert_eq!(args.symptoms.as_deref(), Some("朝から少し頭痛"));
        assert_eq!(args.note, None, "blank text is left out");
        assert_eq!(args.at.as_deref(), Some("2026-11-28T08:00"));
        assert!(diary_args(En, 3, &mood("", "", " ", "2026-11-28T08:00")).unwrap_err().contains("empty"));
        assert!(diary_args(En, 3, &mood("4", "", "", "tomorrow")).is_err());
        assert!(diary_args(En, 3, &mood("", "", &"痛".repeat(techo_ipc::MAX_DIARY_TEXT_CHARS + 1), "")).is_err());
        assert_eq!(diary_args(En, 3, &mood("2", "", "", "")).unwrap().at, None);
        assert_eq!(diary_args(En, 3, &DiaryForm { kind: "".into(), ..mood("2", "", "", "") }).unwrap().kind.as_deref(), Some("mood"), "no kind: the mood diary");
        assert!(diary_args(En, 3, &DiaryForm { kind: "sleep".into(), ..mood("2", "", "", "") }).unwrap_err().contains("Choose a diary"));
    }

    #[test]
    fn diary_kinds_and_their_words() {
        assert_eq!(DIARY_KINDS.map(|k| k.0), ["mood", "asthma", "joint-pain"]);
        assert_eq!(DIARY_KINDS.map(|k| k.1), ["Mood / symptoms", "Asthma", "Joint pain"]);
        for (k, _) in DIARY_KINDS {
            assert_eq!(diary_kind(En, k), Ok(k), "each option's value is read back");
            assert_eq!(diary_class(k), k);
        }
        assert_eq!(diary_class("something-new"), "mood");
        assert_eq!(diary_kind_label(En, "joint-pain"), "Joint pain");
        assert_eq!(DAYTIME_SYMPTOMS.map(|d| d.1), ["none", "mild", "moderate", "severe"]);
        for (v, _) in DAYTIME_SYMPTOMS {
            assert_eq!(parse_daytime(En, &v.to_string()), Ok(Some(v)));
        }
        assert_eq!(parse_daytime(En, ""), Ok(None));
        assert!(parse_daytime(En, "4").is_err() && parse_daytime(En, "x").is_err());
    }

    #[test]
    fn whole_numbers_for_counts_and_minutes() {
        assert_eq!(whole_number(En, "3", "puffs"), Ok(Some(3)));
        assert_eq!(whole_number(En, " ４２０ ", "PEF"), Ok(Some(420)), "full-width digits");
        assert_eq!(whole_number(En, "0", "puffs"), Ok(Some(0)));
        assert_eq!(whole_number(En, "", "puffs"), Ok(None));
        for junk in ["2.5", "-1", "abc", "1e3", "99999999999"] {
            assert!(whole_number(En, junk, "reliever puffs").unwrap_err().contains("reliever puffs is not a whole number"), "{junk}");
        }
        assert_eq!(parse_severity(En, "10"), Ok(Some(10)));
        assert_eq!(parse_severity(En, ""), Ok(None));
        assert_eq!(parse_severity(En, "11"), Err("Choose a pain severity from 0 to 10.".to_string()));
        assert!(parse_severity(En, "300").is_err(), "beyond a u8 too");
        assert!(parse_severity(En, "five").unwrap_err().contains("pain severity"));
    }

    #[test]
    fn asthma_diary_args() {
        let form = DiaryForm { kind: "asthma".into(), daytime: "1".into(), night: "0".into(), puffs: "2".into(), pef_morning: "420".into(), pef_evening: "".into(), note: " 寒い朝 ".into(), mood: "4".into(), joints: vec!["left-knee".into()], ..Default::default() };
        let args = diary_args(En, 5, &form).unwrap();
        assert_eq!(args.kind.as_deref(), Some("asthma"));
        assert_eq!((args.daytime_symptoms, args.night_awakenings, args.reliever_puffs), (Some(1), Some(0), Some(2)));
        assert_eq!((args.pef_morning, args.pef_evening), (Some(420), None), "blank: not answered");
        assert_eq!(args.note.as_deref(), Some("寒い朝"));
        assert_eq!((args.mood, args.joints.len()), (None, 0), "the other diaries' fields are not sent");
        let err = diary_args(En, 5, &DiaryForm { pef_evening: "4OO".into(), ..form.clone() }).unwrap_err();
        assert!(err.contains("evening peak flow is not a whole number"), "{err}");
        assert!(diary_args(En, 5, &DiaryForm { puffs: "1.5".into(), ..form.clone() }).unwrap_err().contains("reliever puffs"));
        assert!(diary_args(En, 5, &DiaryForm { daytime: "7".into(), ..form.clone() }).is_err());
        let empty = DiaryForm { kind: "asthma".into(), mood: "4".into(), ..Default::default() };
        assert!(diary_args(En, 5, &empty).unwrap_err().contains("empty"), "a mood does not fill an asthma diary");
        assert!(diary_args(En, 5, &DiaryForm { note: "ok".into(), ..empty }).is_ok(), "a note alone is an entry");
    }

    #[test]
    fn joint_pain_diary_args() {
        let form = DiaryForm { kind: "joint-pain".into(), joints: vec!["left-knee".into(), " ".into(), "right-wrist".into(), "left-knee".into()], severity: "5".into(), stiffness: "30".into(), pef_morning: "420".into(), ..Default::default() };
        let args = diary_args(En, 5, &form).unwrap();
        assert_eq!(args.kind.as_deref(), Some("joint-pain"));
        assert_eq!(args.joints, ["left-knee", "right-wrist"], "blank and repeated codes dropped");
        assert_eq!((args.severity, args.morning_stiffness_minutes), (Some(5), Some(30)));
        assert_eq!(args.pef_morning, None, "the asthma field left over is not sent");
        assert!(diary_args(En, 5, &DiaryForm { severity: "12".into(), ..form.clone() }).unwrap_err().contains("0 to 10"));
        assert!(diary_args(En, 5, &DiaryForm { stiffness: "half an hour".into(), ..form.clone() }).unwrap_err().contains("morning stiffness"));
        let only_joint = DiaryForm { kind: "joint-pain".into(), joints: vec!["left-knee".into()], ..Default::default() };
        assert!(diary_args(En, 5, &only_joint).is_ok());
        assert!(diary_args(En, 5, &DiaryForm { kind: "joint-pain".into(), ..Default::default() }).unwrap_err().contains("empty"));
    }

    #[test]
    fn months_days_and_leap_years() {
        assert!(is_leap_year(2024) && is_leap_year(2000) && !is_leap_year(1900) && !is_leap_year(2026));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2026, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!((1..=12).map(|m| days_in_month(2026, m)).collect::<Vec<_>>(), [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
        assert_eq!(weekday(2026, 11, 1), 6, "1 November 2026 is a Sunday");
        assert_eq!(weekday(2024, 2, 1), 3, "1 February 2024 is a Thursday");
        assert_eq!(weekday(2026, 6, 1), 0, "1 June 2026 is a Monday");
        assert_eq!(weekday(2024, 2, 29), 3);
        assert_eq!(weekday(2000, 1, 1), 5, "1 January 2000 is a Saturday");
        assert_eq!(first_weekday_offset(2026, 11), 6);
        assert_eq!(add_months(2026, 11, 1), (2026, 12));
        assert_eq!(add_months(2026, 12, 1), (2027, 1));
        assert_eq!(add_months(2026, 1, -1), (2025, 12));
        assert_eq!(add_months(2026, 3, -14), (2025, 1));
        assert_eq!(add_months(2026, 5, 0), (2026, 5));
        assert_eq!(month_label(En, 2026, 11), "2026-11");
        assert_eq!(day_key(2026, 3, 7), "2026-03-07");
    }

    #[test]
    fn month_grids_start_on_monday() {
        let nov = month_grid(2026, 11);
        assert_eq!(nov.len(), 6, "a Sunday 1st and 30 days take six weeks");
        assert_eq!(nov[0], [None, None, None, None, None, None, Some(1)]);
        assert_eq!(nov[1][0], Some(2));
        assert_eq!(nov[5][0], Some(30));
        assert_eq!(nov[5][1..], [None; 6]);
        let days: Vec<u32> = nov.iter().flatten().flatten().copied().collect();
        assert_eq!(days, (1..=30).collect::<Vec<_>>(), "each day once, in order");
        let june = month_grid(2026, 6);
        assert_eq!(june[0][0], Some(1));
        assert_eq!(june.len(), 5);
        // February 2021: starts on a Monday, 28 days: exactly four weeks.
        let feb = month_grid(2021, 2);
        assert_eq!(feb.len(), 4);
        assert_eq!((feb[0][0], feb[3][6]), (Some(1), Some(28)));
        let leap = month_grid(2024, 2);
        assert_eq!(leap.iter().flatten().flatten().max(), Some(&29));
        assert_eq!(leap[0][3], Some(1));
    }

    #[test]
    fn diary_entries_grouped_per_local_day() {
        let days = vec![Some("2026-11-28".to_string()), Some("2026-11-28".to_string()), None, Some("2026-11-27".to_string())];
        let per_day = entries_per_day(days);
        assert_eq!(per_day.len(), 2);
        assert_eq!(per_day["2026-11-28"], [0, 1], "the list's order kept");
        assert_eq!(per_day["2026-11-27"], [3]);
        assert!(entries_per_day(Vec::new()).is_empty());
        assert_eq!(kind_counts(["asthma", "mood", "joint-pain", "asthma"]), [("mood", 1), ("asthma", 2), ("joint-pain", 1)]);
        assert_eq!(kind_counts(["joint-pain"]), [("joint-pain", 1)]);
        assert_eq!(kind_counts(["unknown"]), [("mood", 1)]);
        assert!(kind_counts([]).is_empty());
    }

    #[test]
    fn bp_targets_and_handbook_cells() {
        assert_eq!(target_args(En, "125", " 75 "), Ok(BpTargetArgs { systolic: 125, diastolic: 75 }));
        assert_eq!(target_args(En, "", "75"), Err("Enter the upper (systolic) target.".to_string()));
        assert!(target_args(En, "125", "7x").unwrap_err().contains("lower (diastolic) target is not a whole number"));
        assert!(target_args(En, "80", "60").unwrap_err().contains("between 90 and 200"));
        assert!(target_args(En, "120", "125").is_err(), "the lower below the upper");
        assert_eq!(bp_targets(None), HOME_BP_TARGETS);
        assert_eq!(bp_targets(Some(BpTargetArgs { systolic: 125, diastolic: 75 })), [125.0, 75.0]);
        let avg = SessionAvg { readings: 3, systolic: 127.6, diastolic: 82.4, pulse: None, above_target: false };
        assert_eq!(session_text(En, &avg), "128/82 (3)");
        assert_eq!(session_text(En, &SessionAvg { pulse: Some(69.5), ..avg.clone() }), "128/82 (3), pulse 70");
        assert_eq!(session_text(En, &SessionAvg { systolic: 128.5, diastolic: 81.5, readings: 2, ..avg }), "129/82 (2)", "halves round up");
    }

    #[test]
    fn targets_from_the_vault_move_the_chart_lines() {
        let points = [point(1, "t1", &[128.0, 82.0], true), point(2, "t2", &[130.0, 84.0], true)];
        let c = chart(&points, true, [125.0, 75.0], t).unwrap();
        assert_eq!(c.targets.iter().map(|t| t.1).collect::<Vec<_>>(), [125.0, 75.0]);
        assert!(c.frame.lo < 75.0, "the lower target is in view");
        assert!(chart(&points, false, [125.0, 75.0], t).unwrap().targets.is_empty());
    }

    #[test]
    fn saved_notes() {
        let added = VitalAdded { record_id: 1, duplicate: false, warnings: vec!["High.".into(), "Check it.".into()] };
        assert_eq!(vital_saved_lines(En, &added), ["Saved.", "High.", "Check it."]);
        let dup = VitalAdded { duplicate: true, warnings: vec![], ..added };
        assert_eq!(vital_saved_lines(En, &dup), ["Already stored: this reading was entered before."]);
        assert_eq!(diary_saved_line(En, false), "Saved.");
        assert!(diary_saved_line(En, true).starts_with("Already stored"));
    }

    #[test]
    fn y_ranges_are_padded_and_never_empty() {
        let (lo, hi) = y_range([100.0, 200.0]).unwrap();
        assert!(close(lo, 90.0) && close(hi, 210.0), "{lo} {hi}");
        let (lo, hi) = y_range([36.5]).unwrap();
        assert!(lo < 36.5 && hi > 36.5);
        let (lo, hi) = y_range([0.0, 0.0]).unwrap();
        assert!(close(lo, 0.0) && close(hi, 1.0), "zero gets a band, not below 0: {lo} {hi}");
        let (lo, _) = y_range([0.5, 10.0]).unwrap();
        assert!(close(lo, 0.0), "values ≥ 0 stay ≥ 0: {lo}");
        let (lo, hi) = y_range([-2.0, -1.0]).unwrap();
        assert!(close(lo, -2.1) && close(hi, -0.9));
        assert_eq!(y_range([]), None);
        assert_eq!(y_range([f64::NAN]), None);
    }

    #[test]
    fn ticks_are_nice_and_inside_the_range() {
        assert!(close(nice_step(100.0, 4), 20.0));
        assert!(close(nice_step(2.0, 4), 0.5));
        assert!(close(nice_step(0.0, 4), 1.0));
        let frame = Frame { t0: 0.0, t1: 1.0, lo: 63.0, hi: 147.0 };
        let ticks: Vec<_> = frame.ticks().into_iter().map(|(_, l)| l).collect();
        assert_eq!(ticks, ["80", "100", "120", "140"]);
        let frame = Frame { t0: 0.0, t1: 1.0, lo: 35.9, hi: 37.3 };
        let ticks = frame.ticks();
        assert!(ticks.len() >= 3 && ticks.len() <= 8, "{ticks:?}");
        assert!(ticks.iter().all(|(v, _)| (35.9..=37.3).contains(v)));
        assert!(ticks.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(ticks[0].1, "36.0");
        assert_eq!(tick_label(-0.0001, 0.5), "0.0");
        assert_eq!(tick_label(36.25, 0.05), "36.25");
    }

    #[test]
    fn frames_scale_into_the_plot_area() {
        let f = Frame { t0: 1000.0, t1: 3000.0, lo: 50.0, hi: 150.0 };
        assert!(close(f.x(1000.0), PLOT_LEFT) && close(f.x(3000.0), PLOT_RIGHT));
        assert!(close(f.x(2000.0), (PLOT_LEFT + PLOT_RIGHT) / 2.0));
        assert!(close(f.y(150.0), PLOT_TOP) && close(f.y(50.0), PLOT_BOTTOM), "larger values higher up");
        let one = Frame { t0: 5.0, t1: 5.0, lo: 1.0, hi: 1.0 };
        assert!(one.x(5.0).is_finite() && one.y(1.0).is_finite(), "no division by zero");
    }

    #[test]
    fn blood_pressure_chart() {
        // Newest first, as the shell sends them; one without a time it can read.
        let points = [point(3, "t3000", &[150.0, 95.0, 70.0], true), point(9, "garbage", &[1.0, 1.0], true), point(2, "t1000", &[120.0, 80.0], false), point(1, "t2000", &[130.0, 85.0], true)];
        let c = chart(&points, true, HOME_BP_TARGETS, t).unwrap();
        let classes: Vec<_> = c.series.iter().map(|s| s.class).collect();
        assert_eq!(classes, ["systolic", "diastolic"]);
        let order: Vec<_> = c.series[0].points.iter().map(|p| points[p.index].record_id).collect();
        assert_eq!(order, [2, 1, 3], "oldest to newest, left to right; the unreadable time left out");
        assert!(c.series[0].points.windows(2).all(|w| w[0].x < w[1].x));
        assert!(close(c.series[0].points[0].x, PLOT_LEFT) && close(c.series[0].points[2].x, PLOT_RIGHT));
        assert!(c.series[0].points.iter().zip(&c.series[1].points).all(|(s, d)| s.y < d.y), "systolic above diastolic");
        assert_eq!((points[c.oldest].record_id, points[c.newest].record_id), (2, 3));
        let target_values: Vec<_> = c.targets.iter().map(|t| t.1).collect();
        assert_eq!(target_values, HOME_BP_TARGETS);
        assert!(c.targets.iter().all(|(y, _)| (PLOT_TOP..=PLOT_BOTTOM).contains(y)));
        assert!(c.frame.lo < 80.0 && c.frame.hi > 150.0);
        // The pulse (a third value) is not drawn.
        assert!(c.series.iter().all(|s| s.points.len() == 3));
    }

    #[test]
    fn targets_stay_in_view_of_low_readings() {
        let points = [point(1, "t1", &[110.0, 70.0], true), point(2, "t2", &[112.0, 72.0], true)];
        let c = chart(&points, true, HOME_BP_TARGETS, t).unwrap();
        assert!(c.frame.hi > 135.0, "the 135 target is inside the chart: {}", c.frame.hi);
    }

    #[test]
    fn one_value_charts_without_dividing_by_zero() {
        let single = [point(1, "t5000", &[36.6], true)];
        let c = chart(&single, false, HOME_BP_TARGETS, t).unwrap();
        assert_eq!(c.series.len(), 1);
        assert_eq!(c.series[0].class, "value");
        let p = c.series[0].points[0];
        assert!(p.x.is_finite() && p.y.is_finite());
        assert!(close(p.x, (PLOT_LEFT + PLOT_RIGHT) / 2.0));
        assert!(c.targets.is_empty(), "targets are for blood pressure only");
        assert_eq!(c.oldest, c.newest);

        let equal = [point(1, "t1000", &[60.0], true), point(2, "t2000", &[60.0], false)];
        let c = chart(&equal, false, HOME_BP_TARGETS, t).unwrap();
        assert!(c.series[0].points.iter().all(|p| p.x.is_finite() && p.y.is_finite()));
        assert!(close(c.series[0].points[0].y, c.series[0].points[1].y));
        assert!(!c.frame.ticks().is_empty());

        let same_time = [point(1, "t1000", &[60.0], true), point(2, "t1000", &[61.0], true)];
        let c = chart(&same_time, false, HOME_BP_TARGETS, t).unwrap();
        assert!(c.series[0].points.iter().all(|p| close(p.x, (PLOT_LEFT + PLOT_RIGHT) / 2.0)));

        assert_eq!(chart(&[], true, HOME_BP_TARGETS, t), None);
        assert_eq!(chart(&[point(1, "t1", &[], true)], false, HOME_BP_TARGETS, t), None, "nothing to draw");
        assert_eq!(chart(&[point(1, "never", &[1.0], true)], false, HOME_BP_TARGETS, t), None);
    }

    #[test]
    fn svg_text() {
        let pts = [Plotted { x: 48.0, y: 10.04, index: 0 }, Plotted { x: 100.25, y: 20.0, index: 1 }];
        assert_eq!(polyline(&pts), "48.0,10.0 100.2,20.0");
        assert_eq!(polyline(&[]), "");
        assert_eq!(coord(1.26), "1.3");
        assert_eq!(point_title("128/82 mmHg", Some(("2026-11-28".into(), "07:30".into()))), "128/82 mmHg · 2026-11-28 07:30");
        assert_eq!(point_title("36.8 °C", None), "36.8 °C");
    }

    #[test]
    fn japanese_labels_and_sentences() {
        let ja = Language::Ja;
        let mut bp = bp_kind();
        bp.name_ja = "血圧".into();
        assert_eq!(kind_label(ja, &bp), "血圧");
        assert_eq!(kind_label(En, &bp), "Blood pressure");
        assert_eq!(kind_label(ja, &temp_kind()), "Body temperature", "no Japanese name: the English one");
        assert_eq!(month_label(ja, 2026, 11), "2026年11月");
        assert_eq!(DIARY_KINDS.map(|k| diary_kind_label(ja, k.0)), ["気分・症状", "ぜんそく日誌", "関節痛日誌"]);
        for (k, en) in DIARY_KINDS {
            assert_eq!(diary_kind_label(En, k), en, "the English words stay");
        }
        for (m, en) in MOODS {
            assert_eq!(mood_label(En, m), en);
            assert!(mood_label(ja, m).starts_with(&m.to_string()));
        }
        assert_eq!(mood_label(ja, 5), "5 とても良い");
        for (v, en) in DAYTIME_SYMPTOMS {
            assert_eq!(daytime_label(En, v), en);
        }
        assert_eq!(daytime_label(ja, 0), "なし");
        let form = VitalForm { systolic: "".into(), diastolic: "82".into(), ..Default::default() };
        assert_eq!(vital_args(ja, 1, &bp, &form).unwrap_err(), "最高血圧(収縮期)を入力してください。");
        let mut temp = temp_kind();
        temp.name_ja = "体温".into();
        assert_eq!(vital_args(ja, 1, &temp, &VitalForm { value: "warm".into(), ..Default::default() }).unwrap_err(), "体温が数値ではありません。36.8 のように数字で入力してください。");
        assert_eq!(parse_severity(ja, "11"), Err("痛みの強さは 0 から 10 の中から選んでください。".to_string()));
        assert!(whole_number(ja, "2.5", "発作止めの吸入回数").unwrap_err().starts_with("発作止めの吸入回数が整数ではありません"));
        assert_eq!(target_args(ja, "", "75"), Err("最高血圧の目標値を入力してください。".to_string()));
        let avg = SessionAvg { readings: 3, systolic: 127.6, diastolic: 82.4, pulse: Some(69.5), above_target: false };
        assert_eq!(session_text(ja, &avg), "128/82 (3)、脈拍 70");
        let added = VitalAdded { record_id: 1, duplicate: false, warnings: vec!["High.".into()] };
        assert_eq!(vital_saved_lines(ja, &added), ["保存しました。", "High."], "the shell's warnings stay as they are");
        assert!(diary_saved_line(ja, true).starts_with("記録済み"));
        assert!(deleted_note(ja).starts_with("削除しました"));
        assert!(deleted_note(En).starts_with("Deleted."));
    }
}
