//! Pure helpers for the home vitals screen (entering readings and diary entries, the chart):
//! no browser APIs, tested natively. Readings are health data: nothing here logs or prints.

use techo_ipc::{validate_diary, validate_local_time, AddDiaryArgs, AddVitalArgs, VitalAdded, VitalKindInfo, VitalPoint};

/// The kind the screen opens on.
pub const DEFAULT_KIND: &str = "blood-pressure";
/// How many readings (and diary entries) the lists show, newest first.
pub const LIST_MAX: usize = 20;
/// The Japanese home blood-pressure targets (JSH 2019), upper and lower, in mmHg.
pub const HOME_BP_TARGETS: [f64; 2] = [135.0, 85.0];
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
pub fn required_number(text: &str, what: &str) -> Result<f64, String> {
    match parse_number(text) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(format!("Enter the {what}.")),
        Err(()) => Err(format!("The {what} is not a number: write it with digits, for example 36.8 or 36,8.")),
    }
}

/// A number the reading may have: `None` when blank, an error sentence when not a number.
pub fn optional_number(text: &str, what: &str) -> Result<Option<f64>, String> {
    parse_number(text).map_err(|()| format!("The {what} is not a number: write it with digits, or leave it empty."))
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

/// A kind's name as a select shows it: its English name, capitalised (`Blood pressure`).
pub fn kind_label(kind: &VitalKindInfo) -> String {
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
pub fn vital_args(person_id: i64, kind: &VitalKindInfo, form: &VitalForm) -> Result<AddVitalArgs, String> {
    let mut args = AddVitalArgs {
        person_id,
        kind: kind.slug.clone(),
        at: None,
        value: None,
        unit: None,
        systolic: None,
        diastolic: None,
        pulse: None,
        context: None,
    };
    if kind.blood_pressure {
        args.systolic = Some(required_number(&form.systolic, "upper (systolic) pressure")?);
        args.diastolic = Some(required_number(&form.diastolic, "lower (diastolic) pressure")?);
        args.pulse = optional_number(&form.pulse, "pulse")?;
        args.context = match form.context.trim() {
            "" => None,
            c @ ("morning" | "evening") => Some(c.to_string()),
            _ => return Err("Choose morning, evening or nothing for when it was measured.".to_string()),
        };
    } else {
        args.value = Some(required_number(&form.value, &kind.name_en)?);
        let unit = form.unit.trim();
        args.unit = match unit {
            "" => None,
            u if kind.units.iter().any(|k| k == u) => Some(u.to_string()),
            _ => return Err(format!("Choose one of the units offered for {}.", kind.name_en)),
        };
    }
    args.at = local_time(&form.at)?;
    Ok(args)
}

/// The mood select's value: `""` → none, `"1"`…`"5"`.
pub fn parse_mood(value: &str) -> Result<Option<u8>, String> {
    match value.trim() {
        "" => Ok(None),
        v => v
            .parse::<u8>()
            .ok()
            .filter(|m| (1..=5).contains(m))
            .map(Some)
            .ok_or_else(|| "Choose a mood from 1 (very bad) to 5 (very good).".to_string()),
    }
}

/// The `add_diary` arguments of a filled diary form (checked with [`validate_diary`]), or the
/// sentence saying what to fix. Blank texts are left out.
pub fn diary_args(person_id: i64, mood: &str, symptoms: &str, note: &str, at: &str) -> Result<AddDiaryArgs, String> {
    let text = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty());
    let args = AddDiaryArgs { person_id, at: local_time(at)?, mood: parse_mood(mood)?, symptoms: text(symptoms), note: text(note), ..Default::default() };
    validate_diary(&args).map_err(|e| e.message)?;
    Ok(args)
}

/// The lines of the note after a reading was sent: saved (or already there), then each warning.
pub fn vital_saved_lines(added: &VitalAdded) -> Vec<String> {
    let head = if added.duplicate { "Already stored: this reading was entered before." } else { "Saved." };
    std::iter::once(head.to_string()).chain(added.warnings.iter().cloned()).collect()
}

/// The note after a diary entry was sent.
pub fn diary_saved_line(duplicate: bool) -> &'static str {
    if duplicate {
        "Already stored: this diary entry was entered before."
    } else {
        "Saved."
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
/// diastolic with the home targets, other kinds their one value. `None` when nothing can be drawn.
pub fn chart(points: &[VitalPoint], blood_pressure: bool, time: impl Fn(&str) -> Option<f64>) -> Option<Chart> {
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
    let targets: &[f64] = if blood_pressure { &HOME_BP_TARGETS } else { &[] };
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
        assert_eq!(required_number("82", "lower pressure"), Ok(82.0));
        assert_eq!(required_number("", "lower pressure"), Err("Enter the lower pressure.".to_string()));
        assert!(required_number("x", "lower pressure").unwrap_err().contains("lower pressure is not a number"));
        assert_eq!(optional_number("", "pulse"), Ok(None));
        assert_eq!(optional_number("70", "pulse"), Ok(Some(70.0)));
        assert!(optional_number("seventy", "pulse").unwrap_err().contains("pulse"));
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
        assert_eq!(kind_label(&kinds[1]), "Blood pressure");
        assert_eq!(unit_options(&kinds[0]), [("Cel".to_string(), "°C".to_string()), ("[degF]".to_string(), "°F".to_string())]);
        let mut no_labels = temp_kind();
        no_labels.unit_labels.truncate(1);
        assert_eq!(unit_options(&no_labels)[1], ("[degF]".to_string(), "[degF]".to_string()));
    }

    #[test]
    fn blood_pressure_args() {
        let form = VitalForm { at: "2026-11-28T07:30".into(), systolic: "128".into(), diastolic: "82".into(), pulse: "70".into(), context: "morning".into(), ..Default::default() };
        let args = vital_args(7, &bp_kind(), &form).unwrap();
        assert_eq!(args.person_id, 7);
        assert_eq!(args.kind, "blood-pressure");
        assert_eq!((args.systolic, args.diastolic, args.pulse), (Some(128.0), Some(82.0), Some(70.0)));
        assert_eq!(args.context.as_deref(), Some("morning"));
        assert_eq!(args.at.as_deref(), Some("2026-11-28T07:30"));
        assert_eq!((args.value, args.unit), (None, None), "a one-value field left over is not sent");

        let no_pulse = VitalForm { pulse: "".into(), context: "".into(), ..form.clone() };
        let args = vital_args(7, &bp_kind(), &no_pulse).unwrap();
        assert_eq!((args.pulse, args.context), (None, None));

        let missing = VitalForm { diastolic: " ".into(), ..form.clone() };
        assert!(vital_args(7, &bp_kind(), &missing).unwrap_err().contains("lower (diastolic)"));
        let junk = VitalForm { systolic: "12o".into(), ..form.clone() };
        assert!(vital_args(7, &bp_kind(), &junk).unwrap_err().contains("upper (systolic) pressure is not a number"));
        let bad_pulse = VitalForm { pulse: "?".into(), ..form.clone() };
        assert!(vital_args(7, &bp_kind(), &bad_pulse).is_err());
        let bad_context = VitalForm { context: "noon".into(), ..form.clone() };
        assert!(vital_args(7, &bp_kind(), &bad_context).is_err());
        let bad_time = VitalForm { at: "2026-11-28 07:30".into(), ..form.clone() };
        assert!(vital_args(7, &bp_kind(), &bad_time).unwrap_err().contains("date and a time"));
        let now = VitalForm { at: "".into(), ..form };
        assert_eq!(vital_args(7, &bp_kind(), &now).unwrap().at, None, "blank: the shell takes now");
    }

    #[test]
    fn one_value_args() {
        let form = VitalForm { at: "2026-11-28T21:05".into(), value: "36,8".into(), unit: "Cel".into(), systolic: "120".into(), ..Default::default() };
        let args = vital_args(1, &temp_kind(), &form).unwrap();
        assert_eq!(args.value, Some(36.8));
        assert_eq!(args.unit.as_deref(), Some("Cel"));
        assert_eq!(args.systolic, None, "a blood-pressure field left over is not sent");
        assert_eq!(vital_args(1, &temp_kind(), &VitalForm { unit: "".into(), ..form.clone() }).unwrap().unit, None);
        assert!(vital_args(1, &temp_kind(), &VitalForm { unit: "kg".into(), ..form.clone() }).is_err());
        assert_eq!(vital_args(1, &temp_kind(), &VitalForm { value: "".into(), ..form.clone() }).unwrap_err(), "Enter the body temperature.");
        assert!(vital_args(1, &temp_kind(), &VitalForm { value: "warm".into(), ..form }).is_err());
    }

    #[test]
    fn moods_and_diary_args() {
        assert_eq!(MOODS.map(|(m, _)| m), [1, 2, 3, 4, 5]);
        assert_eq!(MOODS[0].1, "1 very bad");
        assert_eq!(MOODS[4].1, "5 very good");
        for (m, label) in MOODS {
            assert!(label.starts_with(&m.to_string()), "{label}");
            assert_eq!(parse_mood(&m.to_string()), Ok(Some(m)), "each option's value is read back");
        }
        assert_eq!(parse_mood(""), Ok(None));
        assert!(parse_mood("6").is_err());
        assert!(parse_mood("x").is_err());

        let args = diary_args(3, "4", " 朝から少し頭痛 ", "  ", "2026-11-28T08:00").unwrap();
        assert_eq!(args.mood, Some(4));
        assert_eq!(args.symptoms.as_deref(), Some("朝から少し頭痛"));
        assert_eq!(args.note, None, "blank text is left out");
        assert_eq!(args.at.as_deref(), Some("2026-11-28T08:00"));
        assert!(diary_args(3, "", "", " ", "2026-11-28T08:00").unwrap_err().contains("empty"));
        assert!(diary_args(3, "4", "", "", "tomorrow").is_err());
        assert!(diary_args(3, "", "", &"痛".repeat(techo_ipc::MAX_DIARY_TEXT_CHARS + 1), "").is_err());
        assert_eq!(diary_args(3, "2", "", "", "").unwrap().at, None);
    }

    #[test]
    fn saved_notes() {
        let added = VitalAdded { record_id: 1, duplicate: false, warnings: vec!["High.".into(), "Check it.".into()] };
        assert_eq!(vital_saved_lines(&added), ["Saved.", "High.", "Check it."]);
        let dup = VitalAdded { duplicate: true, warnings: vec![], ..added };
        assert_eq!(vital_saved_lines(&dup), ["Already stored: this reading was entered before."]);
        assert_eq!(diary_saved_line(false), "Saved.");
        assert!(diary_saved_line(true).starts_with("Already stored"));
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
        let c = chart(&points, true, t).unwrap();
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
        let c = chart(&points, true, t).unwrap();
        assert!(c.frame.hi > 135.0, "the 135 target is inside the chart: {}", c.frame.hi);
    }

    #[test]
    fn one_value_charts_without_dividing_by_zero() {
        let single = [point(1, "t5000", &[36.6], true)];
        let c = chart(&single, false, t).unwrap();
        assert_eq!(c.series.len(), 1);
        assert_eq!(c.series[0].class, "value");
        let p = c.series[0].points[0];
        assert!(p.x.is_finite() && p.y.is_finite());
        assert!(close(p.x, (PLOT_LEFT + PLOT_RIGHT) / 2.0));
        assert!(c.targets.is_empty(), "targets are for blood pressure only");
        assert_eq!(c.oldest, c.newest);

        let equal = [point(1, "t1000", &[60.0], true), point(2, "t2000", &[60.0], false)];
        let c = chart(&equal, false, t).unwrap();
        assert!(c.series[0].points.iter().all(|p| p.x.is_finite() && p.y.is_finite()));
        assert!(close(c.series[0].points[0].y, c.series[0].points[1].y));
        assert!(!c.frame.ticks().is_empty());

        let same_time = [point(1, "t1000", &[60.0], true), point(2, "t1000", &[61.0], true)];
        let c = chart(&same_time, false, t).unwrap();
        assert!(c.series[0].points.iter().all(|p| close(p.x, (PLOT_LEFT + PLOT_RIGHT) / 2.0)));

        assert_eq!(chart(&[], true, t), None);
        assert_eq!(chart(&[point(1, "t1", &[], true)], false, t), None, "nothing to draw");
        assert_eq!(chart(&[point(1, "never", &[1.0], true)], false, t), None);
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
}
