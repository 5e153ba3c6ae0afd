//! Pure helpers of the lab results view: the words of a result (value, range, flag), the test
//! select's values, and the trend chart of one test (scaled like the vitals chart, with the
//! reference range as a band). No browser APIs; tested natively.

use crate::vitals_view::{coord, y_range, Frame};
use techo_ipc::{LabCode, Language, LabRow, LabTest};

/// A number as written for people: at most 3 decimals, no trailing zeros (`7.2`, `120`).
pub fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// The value with its unit (`7.2 %`), the text of a value that is not a number, else a dash.
pub fn value_label(r: &LabRow) -> String {
    match (r.value, &r.value_text) {
        (Some(v), _) => match r.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => format!("{} {u}", number(v)),
            None => number(v),
        },
        (None, Some(t)) if !t.trim().is_empty() => t.trim().to_string(),
        _ => "—".to_string(),
    }
}

/// The reference range: its text, else `low–high`, `≥ low`, `≤ high`; a dash without one.
pub fn range_label(r: &LabRow) -> String {
    if let Some(t) = r.range_text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        return t.to_string();
    }
    match (r.low, r.high) {
        (Some(l), Some(h)) => format!("{}–{}", number(l), number(h)),
        (Some(l), None) => format!("≥ {}", number(l)),
        (None, Some(h)) => format!("≤ {}", number(h)),
        (None, None) => "—".to_string(),
    }
}

/// The flag's words (in `lang`: High/高, Low/低, Abnormal/異常) and CSS class (`high`, `low`,
/// `abnormal`); `None` when normal or unknown.
pub fn flag_label(lang: Language, flag: Option<&str>) -> Option<(&'static str, &'static str)> {
    let class = match flag? {
        "H" | "HH" | "HU" | ">" => "high",
        "L" | "LL" | "LU" | "<" => "low",
        "N" => return None,
        _ => "abnormal",
    };
    Some((crate::i18n_record::tr(lang, &format!("flag.{class}")), class))
}

/// The test select's value of a code: `system|code`.
pub fn test_key(c: &LabCode) -> String {
    format!("{}|{}", c.system, c.code)
}

/// The test of a select value.
pub fn test_of<'a>(tests: &'a [LabTest], key: &str) -> Option<&'a LabTest> {
    tests.iter().find(|t| test_key(&t.code) == key)
}

/// The test select's words: `HbA1c(NGSP) (12)`.
pub fn test_option(t: &LabTest) -> String {
    format!("{} ({})", t.display, t.count)
}

/// The first test worth charting: the one with the most numbers (ties: by name, as listed).
pub fn default_test(tests: &[LabTest]) -> Option<&LabTest> {
    tests.iter().filter(|t| t.numeric > 0).fold(None, |best: Option<&LabTest>, t| match best {
        Some(b) if b.numeric >= t.numeric => Some(b),
        _ => Some(t),
    })
}

/// One drawn result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendPoint {
    pub x: f64,
    pub y: f64,
    /// The result's index in the rows given to [`trend`].
    pub index: usize,
}

/// The trend of one test over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    pub frame: Frame,
    /// Oldest first.
    pub points: Vec<TrendPoint>,
    /// The reference range as a band: `(y of high, y of low)`, top first; when the results
    /// share one range (the newest result's).
    pub band: Option<(f64, f64)>,
    /// The indexes of the oldest and newest result drawn.
    pub oldest: usize,
    pub newest: usize,
}

/// The trend of `rows` (one test, any order; the shell sends them newest first). `time` reads
/// a result's date (ms since the epoch; `None`: left out). Results without a number are left
/// out. The value axis covers the values and the reference range (the newest result's with
/// both bounds). `None` when nothing can be drawn.
pub fn trend(rows: &[LabRow], time: impl Fn(&str) -> Option<f64>) -> Option<Trend> {
    let mut drawn: Vec<(f64, f64, usize)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let t = r.clinical_date.as_deref().and_then(&time).filter(|t| t.is_finite())?;
            let v = r.value.filter(|v| v.is_finite())?;
            Some((t, v, i))
        })
        .collect();
    drawn.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.2.cmp(&a.2)));
    let (first, last) = (*drawn.first()?, *drawn.last()?);
    let range = rows[last.2].low.zip(rows[last.2].high).filter(|(l, h)| l.is_finite() && h.is_finite() && l < h);
    let bounds = range.map(|(l, h)| [l, h]).unwrap_or_default();
    let (lo, hi) = y_range(drawn.iter().map(|d| d.1).chain(range.iter().flat_map(|_| bounds)))?;
    let frame = Frame { t0: first.0, t1: last.0, lo, hi };
    Some(Trend {
        points: drawn.iter().map(|&(t, v, index)| TrendPoint { x: frame.x(t), y: frame.y(v), index }).collect(),
        band: range.map(|(l, h)| (frame.y(h), frame.y(l))),
        oldest: first.2,
        newest: last.2,
        frame,
    })
}

/// The polyline through the points.
pub fn trend_line(points: &[TrendPoint]) -> String {
    points.iter().map(|p| format!("{},{}", coord(p.x), coord(p.y))).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vitals_view::{PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT, PLOT_TOP};

    fn lab(date: Option<&str>, value: Option<f64>, low: Option<f64>, high: Option<f64>) -> LabRow {
        LabRow {
            record_id: 1,
            test: "HbA1c".into(),
            code: Some(LabCode { system: "http://loinc.org".into(), code: "4548-4".into() }),
            value,
            value_text: None,
            unit: Some("%".into()),
            low,
            high,
            range_text: None,
            flag: None,
            clinical_date: date.map(Into::into),
            source: "Sakura".into(),
        }
    }

    /// Days since 2024-01-01 as the time (enough for the tests).
    fn day(s: &str) -> Option<f64> {
        let m: f64 = s.get(5..7)?.parse().ok()?;
        let d: f64 = s.get(8..10)?.parse().ok()?;
        Some((m - 1.0) * 31.0 + d)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn words_of_a_result() {
        let mut r = lab(None, Some(7.2), Some(4.9), Some(6.0));
        assert_eq!(value_label(&r), "7.2 %");
        assert_eq!(range_label(&r), "4.9–6");
        r.range_text = Some("4.9-6.0 %".into());
        assert_eq!(range_label(&r), "4.9-6.0 %");
        r.value = None;
        assert_eq!(value_label(&r), "—");
        r.value_text = Some("陰性".into());
        assert_eq!(value_label(&r), "陰性");
        assert_eq!(range_label(&lab(None, None, None, Some(30.0))), "≤ 30");
        assert_eq!(number(120.0), "120");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(flag_label(Language::En, Some("H")), Some(("High", "high")));
        assert_eq!(flag_label(Language::En, Some("LL")), Some(("Low", "low")));
        assert_eq!(flag_label(Language::En, Some("A")), Some(("Abnormal", "abnormal")));
        assert_eq!(flag_label(Language::En, Some("N")), None);
        assert_eq!(flag_label(Language::En, None), None);
        assert_eq!(flag_label(Language::Ja, Some("H")), Some(("高", "high")));
        assert_eq!(flag_label(Language::Ja, Some("<")), Some(("低", "low")));
        assert_eq!(flag_label(Language::Ja, Some("AA")), Some(("異常", "abnormal")));
    }

    #[test]
    fn tests_in_the_select() {
        let t = |code: &str, numeric: u64| LabTest {
            code: LabCode { system: "http://loinc.org".into(), code: code.into() },
            display: code.into(),
            unit: None,
            count: numeric + 1,
            numeric,
        };
        let tests = [t("a", 2), t("b", 5), t("c", 5), t("d", 0)];
        assert_eq!(test_key(&tests[1].code), "http://loinc.org|b");
        assert_eq!(test_of(&tests, "http://loinc.org|c").map(|t| t.display.as_str()), Some("c"));
        assert!(test_of(&tests, "x|c").is_none());
        assert_eq!(default_test(&tests).map(|t| t.display.as_str()), Some("b"), "most numbers, first by name");
        assert!(default_test(&[t("d", 0)]).is_none());
        assert_eq!(test_option(&tests[0]), "a (3)");
    }

    #[test]
    fn the_trend_scales_time_left_to_right_and_values_upward_with_the_range_band() {
        // Newest first, as the shell sends them; one without a number, one without a date.
        let rows = [
            lab(Some("2024-03-01"), Some(7.0), Some(4.9), Some(6.0)),
            lab(Some("2024-02-01"), None, Some(4.9), Some(6.0)),
            lab(None, Some(9.0), None, None),
            lab(Some("2024-01-01"), Some(5.0), Some(4.9), Some(6.0)),
        ];
        let t = trend(&rows, day).expect("a trend");
        assert_eq!(t.points.iter().map(|p| p.index).collect::<Vec<_>>(), [3, 0], "oldest first; no number or date left out");
        assert_eq!((t.oldest, t.newest), (3, 0));
        assert!(close(t.points[0].x, PLOT_LEFT) && close(t.points[1].x, PLOT_RIGHT));
        assert!(t.points[1].y < t.points[0].y, "the larger value is higher up");
        // The axis covers the values and the range (4.9..7.0, padded by 10 % of the span).
        assert!(close(t.frame.lo, 4.9 - 0.21) && close(t.frame.hi, 7.0 + 0.21), "{:?}", t.frame);
        let (top, bottom) = t.band.expect("the reference band");
        assert!(close(top, t.frame.y(6.0)) && close(bottom, t.frame.y(4.9)) && top < bottom);
        assert!(t.points.iter().all(|p| (PLOT_TOP..=PLOT_BOTTOM).contains(&p.y)));
        assert_eq!(trend_line(&t.points).split(' ').count(), 2);
        // One result: in the middle; no range: no band.
        let one = trend(&[lab(Some("2024-01-05"), Some(5.0), None, None)], day).unwrap();
        assert!(close(one.points[0].x, (PLOT_LEFT + PLOT_RIGHT) / 2.0) && one.band.is_none());
        // Nothing with a number and a date: no chart.
        assert!(trend(&[lab(None, Some(1.0), None, None), lab(Some("2024-01-01"), None, None, None)], day).is_none());
    }
}
