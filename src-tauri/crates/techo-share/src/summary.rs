//! The printable summary: one HTML page a clinician reads in two minutes, made from any FHIR
//! Bundle Techo shares: an IPS document (the first entry a `Composition` whose sections, coded
//! by LOINC, say which entry goes where), or a `collection` of a person's records (each record
//! classified by its type, status and category), or a single resource (a one-entry collection).
//!
//! **Order** (what a clinician needs first): header (title, name in kanji and kana, birth date
//! and age on `today`, sex, the date made, the withheld notice), allergies and intolerances
//! (high criticality first and highlighted), active problems, current medications, recent
//! results with trends (the [`MAX_RESULT_TESTS`] most recently measured tests: latest value,
//! range, H/L flag, the [`MAX_PREVIOUS_VALUES`] values before it, an arrow and a sparkline),
//! the latest vital signs, immunizations, procedures, past problems, the sources, a footer.
//! Every list is capped (the constants below) and says how many rows it left out, so the
//! page stays about two A4 pages however large the record.
//!
//! **Sources.** Each `Provenance` in the Bundle names a facility (`agent[].who.display`, or
//! the `Organization` it refers to) and the entries it covers (`target`). A row shows the
//! facilities of its records; without a Provenance, an `Organization` the record itself names
//! (requester, performer, recorder, asserter, information source) stands in. Every facility
//! named is listed under Sources.
//!
//! **Withheld.** `Bundle.meta.tag` holding [`crate::WITHHELD_TAG_SYSTEM`] |
//! [`crate::WITHHELD_TAG_CODE`] puts a notice under the header that something was held back
//! at the person's request; never what.
//!
//! **Safe by construction.** The page is written by one small writer ([`W`]): markup comes
//! only from `&'static str` (tag names, attribute names and values, the style sheet), numbers
//! it formats itself (the sparkline's coordinates), and every other string, from the Bundle or
//! not, goes through [`escape_into`], which escapes `& < > " ' \` = :` and drops control and
//! bidirectional-override characters. No string from the data reaches an attribute, so no URL
//! from the data can become a link; there is no script, no event handler, no external
//! resource; elements open and close in one call, so the output is balanced. The resources'
//! own narrative (`text.div`) is never read. All of the style sheet's rules are scoped under
//! `.techo-summary`.
//!
//! IO-free and deterministic: no files, no network, no clock (`today` is given), no printing;
//! the same input gives the same bytes. Odd input (missing fields, wrong types, numbers as
//! strings) is skipped or shown as text, never a panic; the work is linear in the Bundle's size
//! (one pass to index, one to classify, one grouping of results).

use crate::{Lang, WITHHELD_TAG_CODE, WITHHELD_TAG_SYSTEM};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// Tests shown under recent results (the most recently measured first).
pub const MAX_RESULT_TESTS: usize = 12;
/// Earlier values shown beside a test's latest.
pub const MAX_PREVIOUS_VALUES: usize = 3;
/// Values drawn in a test's sparkline (the most recent, oldest on the left).
pub const MAX_SPARK_POINTS: usize = 8;
/// Rows of allergies, of active problems, of current medications.
pub const MAX_ROWS: usize = 40;
/// Vital signs shown (one row per kind, the latest reading).
pub const MAX_VITALS: usize = 10;
/// Rows of immunizations, of procedures, of past problems.
pub const MAX_COMPACT: usize = 20;
/// Facilities listed under Sources.
pub const MAX_SOURCES: usize = 30;
/// The longest text shown from the data (characters; longer ones end with `…`).
pub const MAX_TEXT: usize = 160;
const MAX_FACILITIES_PER_ROW: usize = 3;
/// How deep nested sections and panels (`hasMember`, `DiagnosticReport.result`) are followed.
const MAX_DEPTH: usize = 6;

/// How to make a summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SummaryOptions {
    /// The language of the page's own words (headings, labels); the data is shown as written.
    pub lang: Lang,
    /// The date the summary is made, `YYYY-MM-DD` (ages are computed on it; medications whose
    /// period ended before it are not current).
    pub today: String,
    /// The page's title (e.g. the package label); a default one in `lang` otherwise.
    pub title: Option<String>,
}

/// The summary as a self-contained fragment: a `<style>` (every rule scoped under
/// `.techo-summary`) followed by `<div class="techo-summary">…</div>`. Safe to embed as raw
/// HTML (see the module docs).
pub fn summary_fragment(bundle: &Value, opts: &SummaryOptions) -> String {
    let mut w = W::default();
    w.el("style", "", |w| w.raw(SUMMARY_CSS));
    fragment_into(&mut w, bundle, opts);
    w.out
}

/// The fragment without its `<style>`, for a page that links [`SUMMARY_CSS`] as a style sheet
/// (the app: its Content-Security-Policy allows no inline style).
pub fn summary_body(bundle: &Value, opts: &SummaryOptions) -> String {
    let mut w = W::default();
    fragment_into(&mut w, bundle, opts);
    w.out
}

/// The summary as a full page (for a file, or to print or save as PDF from a browser): the
/// fragment inside a document whose Content-Security-Policy allows nothing but inline styles
/// and `data:` images.
pub fn summary_document(bundle: &Value, opts: &SummaryOptions) -> String {
    let words = Words::of(opts.lang);
    let mut w = W::default();
    w.raw("<!doctype html>\n");
    w.el_attrs("html", &[("lang", words.lang_code)], |w| {
        w.el("head", "", |w| {
            w.void("meta", &[("charset", "utf-8")]);
            w.void("meta", &[("http-equiv", "Content-Security-Policy"), ("content", CSP)]);
            w.void("meta", &[("name", "viewport"), ("content", "width=device-width, initial-scale=1")]);
            w.el("title", "", |w| w.text(title_of(opts, words)));
            w.el("style", "", |w| {
                w.raw(PAGE_CSS);
                w.raw(SUMMARY_CSS)
            });
        });
        w.el("body", "", |w| fragment_into(w, bundle, opts));
    });
    w.out
}

/// The page's Content-Security-Policy.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The full page's own rules (not part of the fragment, which the app embeds).
const PAGE_CSS: &str = "@page{size:A4;margin:12mm 13mm}\
body{margin:0;padding:1.5em;background:#fff;color:#1a1a1a}\
@media print{body{padding:0}}";

/// The fragment's rules, all under `.techo-summary`: neutral colours and `currentColor`, so it
/// reads on the app's light and dark themes; black on white when printed.
pub const SUMMARY_CSS: &str = include_str!("summary.css");

// =============================================================================================
// The writer: the only way anything reaches the output.
// =============================================================================================

/// Writes HTML. Markup only from `&'static str`; text only through [`escape_into`]; an element
/// opens and closes in one call ([`W::el`]), so tags always balance.
#[derive(Default)]
struct W {
    out: String,
}

impl W {
    /// Static markup (the doctype, the style sheets).
    fn raw(&mut self, s: &'static str) {
        self.out.push_str(s);
    }

    fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &'static str)]) {
        self.out.push('<');
        self.out.push_str(tag);
        for (k, v) in attrs {
            debug_assert!(!v.contains(['"', '<', '>', '&']));
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(v);
            self.out.push('"');
        }
        self.out.push('>');
    }

    /// `<tag class="class">…</tag>` (no class attribute when `class` is empty).
    fn el(&mut self, tag: &'static str, class: &'static str, body: impl FnOnce(&mut W)) {
        if class.is_empty() {
            self.el_attrs(tag, &[], body)
        } else {
            self.el_attrs(tag, &[("class", class)], body)
        }
    }

    fn el_attrs(&mut self, tag: &'static str, attrs: &[(&'static str, &'static str)], body: impl FnOnce(&mut W)) {
        self.open(tag, attrs);
        body(self);
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// A void element (`meta`).
    fn void(&mut self, tag: &'static str, attrs: &[(&'static str, &'static str)]) {
        self.open(tag, attrs);
    }

    /// Text, escaped; at most [`MAX_TEXT`] characters of it.
    fn text(&mut self, s: &str) {
        match s.char_indices().nth(MAX_TEXT) {
            Some((end, _)) => {
                escape_into(&mut self.out, &s[..end]);
                self.out.push('…');
            }
            None => escape_into(&mut self.out, s),
        }
    }

    /// A tiny static SVG line of `values` (oldest first), numbers only.
    fn sparkline(&mut self, values: &[f64]) {
        let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if values.len() < 2 {
            return;
        }
        let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let (width, height, pad) = (64.0_f64, 18.0_f64, 2.0_f64);
        let step = (width - 2.0 * pad) / (values.len() - 1) as f64;
        let span = hi - lo;
        let pts: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let y = if span.is_finite() && span > 0.0 { height - pad - (v - lo) / span * (height - 2.0 * pad) } else { height / 2.0 };
                (pad + step * i as f64, y)
            })
            .collect();
        self.open(
            "svg",
            &[("class", "ts-spark"), ("viewBox", "0 0 64 18"), ("width", "64"), ("height", "18"), ("aria-hidden", "true"), ("focusable", "false")],
        );
        self.out.push_str("<polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.2\" stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"");
        for (i, (x, y)) in pts.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            let _ = write!(self.out, "{x:.1},{y:.1}");
        }
        self.out.push_str("\"></polyline>");
        if let Some((x, y)) = pts.last() {
            let _ = write!(self.out, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"1.8\" fill=\"currentColor\"></circle>");
        }
        self.out.push_str("</svg>");
    }
}

/// The one escaping function: safe in text and in quoted attributes alike. Escapes
/// `& < > " ' \` = :` (the last two so that neither `javascript:` nor `on…=` ever appears in
/// the output, even as text) and drops control characters (but tab and newline) and the
/// bidirectional overrides that could make text read differently from what it is.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            '=' => out.push_str("&#61;"),
            ':' => out.push_str("&#58;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' => {}
            c => out.push(c),
        }
    }
}

/// `s` trimmed, at most [`MAX_TEXT`] characters (a longer one ends with `…`).
fn clip(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= MAX_TEXT {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(MAX_TEXT - 1).collect();
    t.push('…');
    t
}

// =============================================================================================
// Words
// =============================================================================================

struct Words {
    lang: Lang,
    lang_code: &'static str,
    title: &'static str,
    name_unknown: &'static str,
    born: &'static str,
    sex: &'static str,
    made: &'static str,
    male: &'static str,
    female: &'static str,
    other: &'static str,
    unknown: &'static str,
    withheld: &'static str,
    allergies: &'static str,
    problems: &'static str,
    meds: &'static str,
    results: &'static str,
    vitals: &'static str,
    immunizations: &'static str,
    procedures: &'static str,
    past: &'static str,
    sources: &'static str,
    footer: &'static str,
    none: &'static str,
    c_substance: &'static str,
    c_type: &'static str,
    c_reaction: &'static str,
    c_criticality: &'static str,
    c_problem: &'static str,
    c_onset: &'static str,
    c_med: &'static str,
    c_dose: &'static str,
    c_since: &'static str,
    c_test: &'static str,
    c_latest: &'static str,
    c_date: &'static str,
    c_range: &'static str,
    c_previous: &'static str,
    c_trend: &'static str,
    c_measure: &'static str,
    c_value: &'static str,
    crit_high: &'static str,
    crit_low: &'static str,
    crit_unable: &'static str,
    sev_mild: &'static str,
    sev_moderate: &'static str,
    sev_severe: &'static str,
    cat_food: &'static str,
    cat_medication: &'static str,
    cat_environment: &'static str,
    cat_biologic: &'static str,
    type_allergy: &'static str,
    type_intolerance: &'static str,
    v_bp: &'static str,
    v_sys: &'static str,
    v_dia: &'static str,
    v_hr: &'static str,
    v_temp: &'static str,
    v_spo2: &'static str,
    v_rr: &'static str,
    v_weight: &'static str,
    v_height: &'static str,
    v_bmi: &'static str,
    v_glucose: &'static str,
    v_waist: &'static str,
}

const EN: Words = Words {
    lang: Lang::En,
    lang_code: "en",
    title: "Health summary",
    name_unknown: "Name not recorded",
    born: "Born",
    sex: "Sex",
    made: "Made",
    male: "male",
    female: "female",
    other: "other",
    unknown: "unknown",
    withheld: "Some information was withheld at the person's request.",
    allergies: "Allergies and intolerances",
    problems: "Active problems",
    meds: "Current medications",
    results: "Recent results with trends",
    vitals: "Latest vital signs",
    immunizations: "Immunizations",
    procedures: "Procedures",
    past: "Past problems",
    sources: "Sources",
    footer: "Made by Techo from the person's record; not a complete record.",
    none: "None in the shared records.",
    c_substance: "Substance",
    c_type: "Type",
    c_reaction: "Reaction",
    c_criticality: "Criticality",
    c_problem: "Problem",
    c_onset: "Onset",
    c_med: "Medication",
    c_dose: "Dose",
    c_since: "Since",
    c_test: "Test",
    c_latest: "Latest",
    c_date: "Date",
    c_range: "Range",
    c_previous: "Previous",
    c_trend: "Trend",
    c_measure: "Measure",
    c_value: "Value",
    crit_high: "High",
    crit_low: "Low",
    crit_unable: "Unable to assess",
    sev_mild: "mild",
    sev_moderate: "moderate",
    sev_severe: "severe",
    cat_food: "Food",
    cat_medication: "Medication",
    cat_environment: "Environment",
    cat_biologic: "Biologic",
    type_allergy: "allergy",
    type_intolerance: "intolerance",
    v_bp: "Blood pressure",
    v_sys: "Systolic blood pressure",
    v_dia: "Diastolic blood pressure",
    v_hr: "Heart rate",
    v_temp: "Body temperature",
    v_spo2: "Oxygen saturation (SpO₂)",
    v_rr: "Respiratory rate",
    v_weight: "Body weight",
    v_height: "Body height",
    v_bmi: "BMI",
    v_glucose: "Blood glucose",
    v_waist: "Waist circumference",
};

const JA: Words = Words {
    lang: Lang::Ja,
    lang_code: "ja",
    title: "健康情報サマリー",
    name_unknown: "氏名の記録なし",
    born: "生年月日",
    sex: "性別",
    made: "作成日",
    male: "男性",
    female: "女性",
    other: "その他",
    unknown: "不明",
    withheld: "ご本人の希望により、一部の情報は共有されていません。",
    allergies: "アレルギー・不耐性",
    problems: "現在の傷病名",
    meds: "服用中の薬",
    results: "最近の検査結果と推移",
    vitals: "バイタルサイン(最新)",
    immunizations: "予防接種",
    procedures: "処置・手術",
    past: "既往歴",
    sources: "情報源",
    footer: "Techo がご本人の記録から作成しました。すべての記録を含むものではありません。",
    none: "共有された記録にはありません。",
    c_substance: "原因物質",
    c_type: "種類",
    c_reaction: "症状・重症度",
    c_criticality: "危険度",
    c_problem: "傷病名",
    c_onset: "発症日",
    c_med: "薬剤",
    c_dose: "用法・用量",
    c_since: "開始日",
    c_test: "検査項目",
    c_latest: "最新値",
    c_date: "検査日",
    c_range: "基準値",
    c_previous: "前回まで",
    c_trend: "推移",
    c_measure: "項目",
    c_value: "値",
    crit_high: "高",
    crit_low: "低",
    crit_unable: "評価不能",
    sev_mild: "軽度",
    sev_moderate: "中等度",
    sev_severe: "重度",
    cat_food: "食物",
    cat_medication: "薬剤",
    cat_environment: "環境",
    cat_biologic: "生物製剤",
    type_allergy: "アレルギー",
    type_intolerance: "不耐性",
    v_bp: "血圧",
    v_sys: "収縮期血圧",
    v_dia: "拡張期血圧",
    v_hr: "脈拍",
    v_temp: "体温",
    v_spo2: "酸素飽和度(SpO₂)",
    v_rr: "呼吸数",
    v_weight: "体重",
    v_height: "身長",
    v_bmi: "BMI",
    v_glucose: "血糖",
    v_waist: "腹囲",
};

impl Words {
    fn of(lang: Lang) -> &'static Words {
        match lang {
            Lang::En => &EN,
            Lang::Ja => &JA,
        }
    }

    fn age(&self, years: i32) -> String {
        match self.lang {
            Lang::En => format!(" (age {years})"),
            Lang::Ja => format!("({years}歳)"),
        }
    }

    fn more(&self, n: usize) -> String {
        match self.lang {
            Lang::En if n == 1 => "1 more not shown".to_owned(),
            Lang::En => format!("{n} more not shown"),
            Lang::Ja => format!("ほか {n} 件は省略しています"),
        }
    }

    /// A remark after a name: ` (dose 2)`, `(2回目)`.
    fn aside(&self, s: &str) -> String {
        match self.lang {
            Lang::En => format!(" ({s})"),
            Lang::Ja => format!("({s})"),
        }
    }

    fn dose_number(&self, n: &str) -> String {
        match self.lang {
            Lang::En => format!("dose {n}"),
            Lang::Ja => format!("{n}回目"),
        }
    }
}

fn title_of<'o>(opts: &'o SummaryOptions, words: &'static Words) -> &'o str {
    opts.title.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or(words.title)
}

// =============================================================================================
// Reading the Bundle
// =============================================================================================

fn rtype(v: &Value) -> Option<&str> {
    v.get("resourceType")?.as_str().filter(|s| !s.is_empty())
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// The code of a status: a string (`status`) or a CodeableConcept's first code (R4's
/// `clinicalStatus`, `verificationStatus`), lower-cased.
fn status_code(v: Option<&Value>) -> Option<String> {
    let v = v?;
    if let Some(t) = v.as_str() {
        return Some(t.trim().to_ascii_lowercase());
    }
    arr(v, "coding").iter().find_map(|c| s(c, "code")).map(str::to_ascii_lowercase)
}

/// What a CodeableConcept says to people: its text, else the first coding's display, else its
/// `system|code`.
fn concept_label(cc: &Value) -> Option<String> {
    if let Some(t) = s(cc, "text") {
        return Some(clip(t));
    }
    let codings = arr(cc, "coding");
    if let Some(d) = codings.iter().find_map(|c| s(c, "display")) {
        return Some(clip(d));
    }
    codings.iter().find_map(|c| {
        let code = s(c, "code")?;
        Some(clip(&match s(c, "system") {
            Some(sys) => format!("{sys}|{code}"),
            None => code.to_owned(),
        }))
    })
}

/// What identifies a concept for grouping: its LOINC code, else its first `system|code`, else
/// its label lower-cased.
fn concept_key(cc: &Value) -> Option<String> {
    let codings = arr(cc, "coding");
    if let Some(c) = codings.iter().find(|c| s(c, "system") == Some(LOINC) && s(c, "code").is_some()) {
        return s(c, "code").map(|code| format!("{LOINC}|{code}"));
    }
    if let Some(k) = codings.iter().find_map(|c| Some(format!("{}|{}", s(c, "system").unwrap_or(""), s(c, "code")?))) {
        return Some(k);
    }
    concept_label(cc).map(|l| l.to_lowercase())
}

const LOINC: &str = "http://loinc.org";

/// The codes of a CodeableConcept (any system).
fn codes(cc: &Value) -> impl Iterator<Item = &str> {
    arr(cc, "coding").iter().filter_map(|c| s(c, "code"))
}

/// A date or dateTime as shown: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; empty when not one.
fn show_date(d: &str) -> String {
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-') && digits(8..10) {
        d[..10].to_owned()
    } else if digits(0..4) && (b.len() == 4 || (b.len() == 7 && b[4] == b'-' && digits(5..7))) {
        d.to_owned()
    } else {
        String::new()
    }
}

/// A date-like string usable as a sort key (starts with a four-digit year), else "".
fn sort_key(d: Option<&str>) -> &str {
    match d {
        Some(d) if d.len() >= 4 && d.as_bytes()[..4].iter().all(u8::is_ascii_digit) => d.get(..d.len().min(40)).unwrap_or(""),
        _ => "",
    }
}

fn ymd(d: &str) -> Option<(i32, u32, u32)> {
    let shown = show_date(d);
    if shown.len() != 10 {
        return None;
    }
    let y: i32 = shown[..4].parse().ok()?;
    let m: u32 = shown[5..7].parse().ok()?;
    let day: u32 = shown[8..10].parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&day)).then_some((y, m, day))
}

/// Completed years from `birth` to `today` (both `YYYY-MM-DD`).
fn age_on(birth: &str, today: &str) -> Option<i32> {
    let (by, bm, bd) = ymd(birth)?;
    let (ty, tm, td) = ymd(today)?;
    let years = ty - by - i32::from((tm, td) < (bm, bd));
    (0..=150).contains(&years).then_some(years)
}

/// A number from JSON as written (`7.20` stays `7.20`) and its value; a string holding a
/// number counts too.
fn number(v: &Value) -> Option<(String, Option<f64>)> {
    match v {
        Value::Number(n) => {
            let text = n.to_string();
            let x = n.as_f64().or_else(|| text.parse().ok()).filter(|x: &f64| x.is_finite());
            let text = if text.len() > 20 { x.map(fmt_num).unwrap_or_else(|| clip(&text)) } else { text };
            Some((text, x))
        }
        Value::String(t) if !t.trim().is_empty() => {
            let x = t.trim().parse::<f64>().ok().filter(|x| x.is_finite());
            Some((clip(t), x))
        }
        _ => None,
    }
}

fn fmt_num(x: f64) -> String {
    if x.abs() >= 1e9 {
        return format!("{x:e}");
    }
    let t = format!("{x:.3}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" { "0".to_owned() } else { t.to_owned() }
}

/// A Quantity's unit for people: `unit`, else its code, made readable (`mm[Hg]` → `mmHg`).
fn unit_of(q: &Value) -> String {
    let u = s(q, "unit").or_else(|| s(q, "code")).unwrap_or("");
    clip(match u {
        "mm[Hg]" => "mmHg",
        "Cel" => "°C",
        "[degF]" => "°F",
        "kg/m2" => "kg/m²",
        "{beats}/min" | "/min" => "/min",
        u => u,
    })
}

fn is_kana(t: &str) -> bool {
    let mut any = false;
    for c in t.chars() {
        match c {
            '\u{3040}'..='\u{30FF}' | '\u{FF65}'..='\u{FF9F}' => any = true,
            ' ' | '\u{3000}' => {}
            _ => return false,
        }
    }
    any
}

fn has_cjk(t: &str) -> bool {
    t.chars().any(|c| matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF65}'..='\u{FF9F}'))
}

/// A HumanName as text: `text`, else family and given names (family first for Japanese,
/// Chinese, Korean names; given first otherwise).
fn name_text(n: &Value) -> Option<String> {
    if let Some(t) = s(n, "text") {
        return Some(clip(t));
    }
    let family = s(n, "family").unwrap_or("");
    let given: Vec<&str> = arr(n, "given").iter().filter_map(Value::as_str).map(str::trim).filter(|g| !g.is_empty()).collect();
    let given = given.join(" ");
    let t = if has_cjk(family) || has_cjk(&given) { format!("{family} {given}") } else { format!("{given} {family}") };
    let t = t.trim();
    (!t.is_empty()).then(|| clip(t))
}

/// The iso21090-EN-representation of a name (`IDE` ideographic, `SYL` syllabic, `ABC`).
fn name_representation(n: &Value) -> Option<&str> {
    arr(n, "extension").iter().find_map(|e| {
        let code = s(e, "valueCode")?;
        let url = s(e, "url").unwrap_or("");
        (url.ends_with("iso21090-EN-representation") || matches!(code, "IDE" | "SYL" | "ABC")).then_some(code)
    })
}

// =============================================================================================
// The model: what the page shows, worked out before any HTML is written.
// =============================================================================================

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Sec {
    Allergies,
    Problems,
    Meds,
    Results,
    Vitals,
    Immunizations,
    Procedures,
    Past,
}

fn section_of_loinc(code: &str) -> Option<Sec> {
    Some(match code {
        "48765-2" => Sec::Allergies,
        "11450-4" => Sec::Problems,
        "10160-0" => Sec::Meds,
        "30954-2" => Sec::Results,
        "8716-3" => Sec::Vitals,
        "11369-6" => Sec::Immunizations,
        "47519-4" => Sec::Procedures,
        "11348-0" => Sec::Past,
        _ => return None,
    })
}

/// The vital signs Techo names itself: (order, key, label).
fn vital_kind(code: &Value, words: &'static Words) -> Option<(u8, &'static str, &'static str)> {
    codes(code).find_map(|c| {
        Some(match c {
            "85354-9" | "55284-4" | "35094-2" => (0, "bp", words.v_bp),
            "8480-6" => (1, "sys", words.v_sys),
            "8462-4" => (2, "dia", words.v_dia),
            "8867-4" => (3, "hr", words.v_hr),
            "8310-5" | "8331-1" => (4, "temp", words.v_temp),
            "59408-5" | "2708-6" => (5, "spo2", words.v_spo2),
            "9279-1" => (6, "rr", words.v_rr),
            "29463-7" | "3141-9" => (7, "weight", words.v_weight),
            "8302-2" | "8306-3" => (8, "height", words.v_height),
            "39156-5" => (9, "bmi", words.v_bmi),
            "8280-0" => (10, "waist", words.v_waist),
            "2339-0" | "15074-8" | "41653-7" => (11, "glucose", words.v_glucose),
            _ => return None,
        })
    })
}

/// The Bundle indexed: its resources, references to them, and the facilities they came from.
struct Ctx<'a> {
    res: Vec<&'a Value>,
    by_ref: HashMap<String, usize>,
    fac_names: Vec<String>,
    fac_index: HashMap<String, usize>,
    /// The facilities of each resource (from the Provenances that target it).
    fac_of: Vec<Vec<usize>>,
    words: &'static Words,
    today: String,
}

impl<'a> Ctx<'a> {
    fn new(input: &'a Value, words: &'static Words, today: &str) -> Ctx<'a> {
        let mut entries: Vec<(Option<&'a str>, &'a Value)> = Vec::new();
        if rtype(input) == Some("Bundle") {
            for e in arr(input, "entry") {
                if let Some(r) = e.get("resource").filter(|r| rtype(r).is_some()) {
                    entries.push((s(e, "fullUrl"), r));
                }
            }
        } else if rtype(input).is_some() {
            entries.push((None, input));
        }
        let mut by_ref = HashMap::with_capacity(entries.len() * 2);
        for (i, (full_url, r)) in entries.iter().enumerate() {
            if let Some(u) = full_url {
                by_ref.entry((*u).to_owned()).or_insert(i);
            }
            if let (Some(t), Some(id)) = (rtype(r), s(r, "id")) {
                by_ref.entry(format!("{t}/{id}")).or_insert(i);
            }
        }
        let res: Vec<&'a Value> = entries.into_iter().map(|(_, r)| r).collect();
        let today = if ymd(today).is_some() { show_date(today) } else { String::new() };
        let mut ctx = Ctx { fac_of: vec![Vec::new(); res.len()], res, by_ref, fac_names: Vec::new(), fac_index: HashMap::new(), words, today };
        let provenances: Vec<&'a Value> = ctx.res.iter().copied().filter(|r| rtype(r) == Some("Provenance")).collect();
        for p in provenances {
            let Some(name) = ctx.provenance_facility(p) else { continue };
            let f = ctx.facility(&name);
            for t in arr(p, "target") {
                if let Some((Some(i), _)) = ctx.resolve(p, t) {
                    if !ctx.fac_of[i].contains(&f) {
                        ctx.fac_of[i].push(f);
                    }
                }
            }
        }
        ctx
    }

    /// The resource a Reference points to: in the Bundle (by `fullUrl`, or by `Type/id`, also
    /// at the end of an absolute URL) or contained in `from` (`#id`).
    fn resolve(&self, from: &'a Value, reference: &Value) -> Option<(Option<usize>, &'a Value)> {
        let r = s(reference, "reference")?;
        if let Some(id) = r.strip_prefix('#') {
            let c = arr(from, "contained").iter().find(|c| s(c, "id") == Some(id) && rtype(c).is_some())?;
            return Some((None, c));
        }
        let i = self.lookup(r)?;
        Some((Some(i), self.res[i]))
    }

    fn lookup(&self, r: &str) -> Option<usize> {
        if let Some(&i) = self.by_ref.get(r) {
            return Some(i);
        }
        let r = match r.find("/_history/") {
            Some(p) => &r[..p],
            None => r,
        };
        let mut parts = r.rsplitn(3, '/');
        let id = parts.next()?;
        let t = parts.next()?;
        self.by_ref.get(&format!("{t}/{id}")).copied()
    }

    fn facility(&mut self, name: &str) -> usize {
        let name = clip(name);
        if let Some(&f) = self.fac_index.get(&name) {
            return f;
        }
        self.fac_names.push(name.clone());
        self.fac_index.insert(name, self.fac_names.len() - 1);
        self.fac_names.len() - 1
    }

    fn provenance_facility(&self, p: &'a Value) -> Option<String> {
        arr(p, "agent").iter().find_map(|a| {
            let who = a.get("who")?;
            s(who, "display")
                .map(str::to_owned)
                .or_else(|| self.organization_name(p, who))
                .or_else(|| a.get("onBehalfOf").and_then(|o| s(o, "display")).map(str::to_owned))
        })
    }

    /// The name of the Organization a Reference points to (in the Bundle), or its display when
    /// the reference is to an Organization.
    fn organization_name(&self, from: &'a Value, reference: &Value) -> Option<String> {
        if let Some((_, org)) = self.resolve(from, reference) {
            return (rtype(org) == Some("Organization")).then(|| s(org, "name").map(str::to_owned)).flatten();
        }
        let r = s(reference, "reference").unwrap_or("");
        let is_org = r.starts_with("Organization/") || r.contains("/Organization/") || s(reference, "type") == Some("Organization");
        if is_org { s(reference, "display").map(str::to_owned) } else { None }
    }

    /// The facilities a row's record came from: its Provenances', else an Organization the
    /// record names.
    fn facilities_of(&mut self, idx: usize) -> Vec<usize> {
        if !self.fac_of[idx].is_empty() {
            return self.fac_of[idx].clone();
        }
        let r = self.res[idx];
        for field in ["requester", "informationSource", "performer", "recorder", "asserter"] {
            let Some(v) = r.get(field) else { continue };
            let refs: Vec<&'a Value> = match v {
                Value::Array(a) => a.iter().flat_map(|x| [Some(x), x.get("actor")]).flatten().collect(),
                x => [Some(x), x.get("actor")].into_iter().flatten().collect(),
            };
            if let Some(name) = refs.into_iter().find_map(|x| self.organization_name(r, x)) {
                return vec![self.facility(&name)];
            }
        }
        Vec::new()
    }

    /// Which resources go in which section: the Composition's sections when the Bundle is a
    /// document whose sections Techo knows, else each resource by its type and category.
    fn pick(&self) -> Vec<(Sec, usize)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        if let Some(comp) = self.res.first().copied().filter(|r| rtype(r) == Some("Composition")) {
            let mut known = false;
            self.walk_sections(comp, arr(comp, "section"), 0, &mut known, &mut out, &mut seen);
            if known {
                return out;
            }
            out.clear();
            seen.clear();
        }
        for (i, r) in self.res.iter().enumerate() {
            let sec = match rtype(r).unwrap_or("") {
                "AllergyIntolerance" => Sec::Allergies,
                "Condition" => Sec::Problems,
                "MedicationStatement" | "MedicationRequest" => Sec::Meds,
                "Immunization" => Sec::Immunizations,
                "Procedure" => Sec::Procedures,
                "Observation" => match self.observation_section(r) {
                    Some(sec) => sec,
                    None => continue,
                },
                _ => continue,
            };
            out.push((sec, i));
        }
        out
    }

    fn observation_section(&self, r: &Value) -> Option<Sec> {
        let cats: Vec<&str> = arr(r, "category").iter().flat_map(codes).collect();
        if cats.contains(&"laboratory") {
            return Some(Sec::Results);
        }
        if cats.contains(&"vital-signs") {
            return Some(Sec::Vitals);
        }
        if !cats.is_empty() || !has_value(r) {
            return None;
        }
        let code = r.get("code").unwrap_or(&Value::Null);
        Some(if vital_kind(code, self.words).is_some() { Sec::Vitals } else { Sec::Results })
    }

    fn walk_sections(&self, comp: &'a Value, sections: &'a [Value], depth: usize, known: &mut bool, out: &mut Vec<(Sec, usize)>, seen: &mut HashSet<(Sec, usize)>) {
        for section in sections {
            let sec = section.get("code").and_then(|c| codes(c).find_map(section_of_loinc));
            if let Some(sec) = sec {
                *known = true;
                for e in arr(section, "entry") {
                    if let Some((Some(i), _)) = self.resolve(comp, e) {
                        self.place(sec, i, 0, out, seen);
                    }
                }
            }
            if depth < MAX_DEPTH {
                self.walk_sections(comp, arr(section, "section"), depth + 1, known, out, seen);
            }
        }
    }

    fn place(&self, sec: Sec, i: usize, depth: usize, out: &mut Vec<(Sec, usize)>, seen: &mut HashSet<(Sec, usize)>) {
        let r = self.res[i];
        let t = rtype(r).unwrap_or("");
        let fits = matches!(
            (sec, t),
            (Sec::Allergies, "AllergyIntolerance")
                | (Sec::Problems | Sec::Past, "Condition")
                | (Sec::Meds, "MedicationStatement" | "MedicationRequest")
                | (Sec::Immunizations, "Immunization")
                | (Sec::Procedures, "Procedure")
        ) || (matches!(sec, Sec::Results | Sec::Vitals) && t == "Observation" && has_value(r));
        if fits && seen.insert((sec, i)) {
            out.push((sec, i));
        }
        if depth >= MAX_DEPTH || !matches!(sec, Sec::Results | Sec::Vitals) {
            return;
        }
        let members = match t {
            "Observation" => arr(r, "hasMember"),
            "DiagnosticReport" => arr(r, "result"),
            _ => &[],
        };
        for m in members {
            if let Some((Some(j), _)) = self.resolve(r, m) {
                if j != i {
                    self.place(sec, j, depth + 1, out, seen);
                }
            }
        }
    }
}

fn has_value(r: &Value) -> bool {
    ["valueQuantity", "valueString", "valueCodeableConcept", "valueInteger", "valueBoolean", "valueRange"].iter().any(|k| r.get(*k).is_some())
        || !arr(r, "component").is_empty()
}

/// A value as shown, with its number when it has one.
struct Reading {
    text: String,
    x: Option<f64>,
    unit: String,
}

fn reading(r: &Value) -> Option<Reading> {
    if let Some(q) = r.get("valueQuantity") {
        let (text, x) = q.get("value").and_then(number)?;
        return Some(Reading { text, x, unit: unit_of(q) });
    }
    if let Some((text, x)) = r.get("valueInteger").and_then(number) {
        return Some(Reading { text, x, unit: String::new() });
    }
    if let Some(t) = s(r, "valueString") {
        return Some(Reading { text: clip(t), x: None, unit: String::new() });
    }
    if let Some(t) = r.get("valueCodeableConcept").and_then(concept_label) {
        return Some(Reading { text: t, x: None, unit: String::new() });
    }
    if let Some(b) = r.get("valueBoolean").and_then(Value::as_bool) {
        return Some(Reading { text: if b { "+".into() } else { "−".into() }, x: None, unit: String::new() });
    }
    if let Some(range) = r.get("valueRange") {
        let lo = range.get("low").and_then(|l| l.get("value")).and_then(number).map(|n| n.0).unwrap_or_default();
        let hi = range.get("high").and_then(|l| l.get("value")).and_then(number).map(|n| n.0).unwrap_or_default();
        let unit = range.get("low").or_else(|| range.get("high")).map(unit_of).unwrap_or_default();
        return Some(Reading { text: format!("{lo}–{hi}"), x: None, unit });
    }
    None
}

/// The value of an Observation's component with one of `codes`.
fn component(r: &Value, wanted: &[&str]) -> Option<Reading> {
    arr(r, "component").iter().find(|c| c.get("code").is_some_and(|cc| codes(cc).any(|k| wanted.contains(&k)))).and_then(reading)
}

/// An Observation's value as text with its unit: a blood pressure from its components
/// (`142/88 mmHg`), another value as written, or its components' values.
fn observation_text(r: &Value) -> Option<(String, Option<f64>, String)> {
    if let (Some(sys), Some(dia)) = (component(r, &["8480-6"]), component(r, &["8462-4"])) {
        let unit = if sys.unit.is_empty() { "mmHg".to_owned() } else { sys.unit };
        return Some((format!("{}/{}", sys.text, dia.text), None, unit));
    }
    if let Some(v) = reading(r) {
        return Some((v.text, v.x, v.unit));
    }
    let parts: Vec<String> = arr(r, "component")
        .iter()
        .take(4)
        .filter_map(|c| {
            let v = reading(c)?;
            let label = c.get("code").and_then(concept_label).unwrap_or_default();
            Some(format!("{label} {} {}", v.text, v.unit).trim().to_owned())
        })
        .collect();
    (!parts.is_empty()).then(|| (parts.join("; "), None, String::new()))
}

fn with_unit(text: &str, unit: &str) -> String {
    if unit.is_empty() { text.to_owned() } else { format!("{text} {unit}") }
}

/// The flag an Observation's interpretation gives: `Some(Some(letter))` abnormal,
/// `Some(None)` normal, `None` not said.
fn interpretation(r: &Value) -> Option<Option<&'static str>> {
    for cc in arr(r, "interpretation") {
        for c in codes(cc) {
            let f = match c.to_ascii_uppercase().as_str() {
                "H" | "HU" | ">" => Some("H"),
                "HH" => Some("HH"),
                "L" | "LU" | "<" => Some("L"),
                "LL" => Some("LL"),
                "A" => Some("A"),
                "AA" => Some("AA"),
                "N" => None,
                _ => continue,
            };
            return Some(f);
        }
    }
    None
}

struct Range {
    text: String,
    low: Option<f64>,
    high: Option<f64>,
}

fn reference_range(r: &Value) -> Option<Range> {
    arr(r, "referenceRange").iter().find_map(|rr| {
        let low = rr.get("low").and_then(|l| l.get("value")).and_then(number);
        let high = rr.get("high").and_then(|l| l.get("value")).and_then(number);
        let text = match (s(rr, "text"), &low, &high) {
            (Some(t), _, _) => clip(t),
            (None, Some(l), Some(h)) => format!("{}–{}", l.0, h.0),
            (None, Some(l), None) => format!("≥ {}", l.0),
            (None, None, Some(h)) => format!("≤ {}", h.0),
            (None, None, None) => return None,
        };
        Some(Range { text, low: low.and_then(|l| l.1), high: high.and_then(|h| h.1) })
    })
}

fn flag_of(r: &Value, x: Option<f64>, range: Option<&Range>) -> Option<&'static str> {
    if let Some(f) = interpretation(r) {
        return f;
    }
    let (x, range) = (x?, range?);
    if range.low.is_some_and(|l| x < l) {
        Some("L")
    } else if range.high.is_some_and(|h| x > h) {
        Some("H")
    } else {
        None
    }
}

fn effective(r: &Value) -> Option<&str> {
    s(r, "effectiveDateTime")
        .or_else(|| s(r, "effectiveInstant"))
        .or_else(|| r.get("effectivePeriod").and_then(|p| s(p, "start").or_else(|| s(p, "end"))))
        .or_else(|| s(r, "issued"))
}

struct AllergyRow {
    label: String,
    key: String,
    kind: String,
    reaction: String,
    crit: u8,
    crit_text: &'static str,
    sort: String,
    fac: Vec<usize>,
}

struct ProblemRow {
    label: String,
    key: String,
    onset: String,
    end: String,
    sort: String,
    fac: Vec<usize>,
}

struct MedRow {
    label: String,
    key: String,
    dose: String,
    since: String,
    latest: String,
    fac: Vec<usize>,
}

struct Previous {
    text: String,
    flag: Option<&'static str>,
    date: String,
}

struct TestRow {
    label: String,
    latest: String,
    flag: Option<&'static str>,
    date: String,
    range: String,
    previous: Vec<Previous>,
    arrow: Option<(&'static str, &'static str)>,
    spark: Vec<f64>,
    fac: Vec<usize>,
}

struct VitalRow {
    label: String,
    value: String,
    date: String,
    fac: Vec<usize>,
}

struct SimpleRow {
    label: String,
    date: String,
    extra: String,
    sort: String,
    fac: Vec<usize>,
}

struct Header {
    name: Option<String>,
    kana: Option<String>,
    birth: String,
    age: Option<i32>,
    sex: Option<&'static str>,
}

struct Model {
    header: Header,
    withheld: bool,
    allergies: (Vec<AllergyRow>, usize),
    problems: (Vec<ProblemRow>, usize),
    meds: (Vec<MedRow>, usize),
    results: (Vec<TestRow>, usize),
    vitals: (Vec<VitalRow>, usize),
    immunizations: (Vec<SimpleRow>, usize),
    procedures: (Vec<SimpleRow>, usize),
    past: (Vec<SimpleRow>, usize),
    sources: Vec<String>,
}

/// Keeps the first `cap` rows; returns them with how many were left out.
fn capped<T>(mut rows: Vec<T>, cap: usize) -> (Vec<T>, usize) {
    let more = rows.len().saturating_sub(cap);
    rows.truncate(cap);
    (rows, more)
}

fn merge_fac(into: &mut Vec<usize>, from: &[usize]) {
    for f in from {
        if !into.contains(f) {
            into.push(*f);
        }
    }
}

fn is_withheld(input: &Value) -> bool {
    input
        .get("meta")
        .map(|m| arr(m, "tag"))
        .unwrap_or(&[])
        .iter()
        .any(|t| s(t, "system") == Some(WITHHELD_TAG_SYSTEM) && s(t, "code") == Some(WITHHELD_TAG_CODE))
}

impl Model {
    fn build(input: &Value, words: &'static Words, today: &str) -> Model {
        let mut ctx = Ctx::new(input, words, today);
        let picked = ctx.pick();
        let mut by_sec: HashMap<Sec, Vec<usize>> = HashMap::new();
        for (sec, i) in picked {
            by_sec.entry(sec).or_default().push(i);
        }
        let mut take = |sec| by_sec.remove(&sec).unwrap_or_default();
        let (allergies, problems, past_forced, meds, results, vitals, imms, procs) = (
            take(Sec::Allergies),
            take(Sec::Problems),
            take(Sec::Past),
            take(Sec::Meds),
            take(Sec::Results),
            take(Sec::Vitals),
            take(Sec::Immunizations),
            take(Sec::Procedures),
        );
        let header = header(&ctx);
        let allergies = capped(allergy_rows(&mut ctx, &allergies), MAX_ROWS);
        let (active, past) = problem_rows(&mut ctx, &problems, &past_forced);
        let problems = capped(active, MAX_ROWS);
        let past = capped(past, MAX_COMPACT);
        let meds = capped(med_rows(&mut ctx, &meds), MAX_ROWS);
        let results = test_rows(&mut ctx, &results);
        let vitals = vital_rows(&mut ctx, &vitals);
        let immunizations = capped(immunization_rows(&mut ctx, &imms), MAX_COMPACT);
        let procedures = capped(procedure_rows(&mut ctx, &procs), MAX_COMPACT);
        Model {
            header,
            withheld: is_withheld(input),
            allergies,
            problems,
            meds,
            results,
            vitals,
            immunizations,
            procedures,
            past,
            sources: ctx.fac_names,
        }
    }
}

fn header(ctx: &Ctx<'_>) -> Header {
    // The Composition's subject first, then every Patient in order.
    let mut patients: Vec<&Value> = Vec::new();
    if let Some(comp) = ctx.res.first().copied().filter(|r| rtype(r) == Some("Composition")) {
        if let Some((_, p)) = comp.get("subject").and_then(|sub| ctx.resolve(comp, sub)).filter(|(_, p)| rtype(p) == Some("Patient")) {
            patients.push(p);
        }
    }
    patients.extend(ctx.res.iter().copied().filter(|r| rtype(r) == Some("Patient")).take(20));
    let (mut ide, mut syl, mut abc, mut official, mut plain, mut plain_kana) = (None, None, None, None, None, None);
    for p in &patients {
        for n in arr(p, "name") {
            if s(n, "use") == Some("old") {
                continue;
            }
            let Some(t) = name_text(n) else { continue };
            match name_representation(n) {
                Some("IDE") => ide = ide.or(Some(t)),
                Some("SYL") => syl = syl.or(Some(t)),
                Some("ABC") => abc = abc.or(Some(t)),
                _ if is_kana(&t) => plain_kana = plain_kana.or(Some(t)),
                _ if s(n, "use") == Some("official") => official = official.or(Some(t)),
                _ => plain = plain.or(Some(t)),
            }
        }
    }
    let name = ide.or(official).or(plain).or(abc);
    let kana = syl.or(plain_kana).filter(|k| Some(k) != name.as_ref());
    let (name, kana) = if name.is_none() { (kana, None) } else { (name, kana) };
    let birth = patients.iter().find_map(|p| s(p, "birthDate")).map(show_date).unwrap_or_default();
    let sex = patients.iter().find_map(|p| s(p, "gender")).map(|g| match g {
        "male" => ctx.words.male,
        "female" => ctx.words.female,
        "other" => ctx.words.other,
        _ => ctx.words.unknown,
    });
    Header { name, kana, age: age_on(&birth, &ctx.today), birth, sex }
}

fn allergy_rows(ctx: &mut Ctx<'_>, idx: &[usize]) -> Vec<AllergyRow> {
    let words = ctx.words;
    let mut rows: Vec<AllergyRow> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for &i in idx {
        let r = ctx.res[i];
        if matches!(status_code(r.get("verificationStatus")).as_deref(), Some("refuted" | "entered-in-error"))
            || matches!(status_code(r.get("clinicalStatus")).as_deref(), Some("inactive" | "resolved"))
        {
            continue;
        }
        let reactions = arr(r, "reaction");
        let substance = r.get("code").or_else(|| reactions.iter().find_map(|x| x.get("substance")));
        let Some(label) = substance.and_then(concept_label) else { continue };
        let key = substance.and_then(concept_key).unwrap_or_else(|| label.to_lowercase());
        let cat: Vec<&str> = arr(r, "category")
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|c| match c {
                "food" => Some(words.cat_food),
                "medication" => Some(words.cat_medication),
                "environment" => Some(words.cat_environment),
                "biologic" => Some(words.cat_biologic),
                _ => None,
            })
            .collect();
        let ty = match s(r, "type") {
            Some("allergy") => Some(words.type_allergy),
            Some("intolerance") => Some(words.type_intolerance),
            _ => None,
        };
        let kind = cat.into_iter().chain(ty).collect::<Vec<_>>().join(" · ");
        let mut manifest: Vec<String> = Vec::new();
        let mut severity = None;
        for x in reactions.iter().take(4) {
            for m in arr(x, "manifestation").iter().take(4) {
                if let Some(l) = concept_label(m) {
                    if !manifest.contains(&l) {
                        manifest.push(l);
                    }
                }
            }
            let sev = match s(x, "severity") {
                Some("severe") => Some((3, words.sev_severe)),
                Some("moderate") => Some((2, words.sev_moderate)),
                Some("mild") => Some((1, words.sev_mild)),
                _ => None,
            };
            if sev.is_some_and(|(n, _)| severity.is_none_or(|(m, _)| n > m)) {
                severity = sev;
            }
        }
        let mut reaction = manifest.join(", ");
        if let Some((_, sev)) = severity {
            reaction = match (reaction.is_empty(), words.lang) {
                (true, _) => sev.to_owned(),
                (false, Lang::En) => format!("{reaction} ({sev})"),
                (false, Lang::Ja) => format!("{reaction}({sev})"),
            };
        }
        let (crit, crit_text) = match s(r, "criticality") {
            Some("high") => (3, words.crit_high),
            Some("unable-to-assess") => (2, words.crit_unable),
            Some("low") => (1, words.crit_low),
            _ => (0, ""),
        };
        let sort = sort_key(s(r, "recordedDate").or_else(|| s(r, "onsetDateTime")).or_else(|| s(r, "lastOccurrence"))).to_owned();
        let fac = ctx.facilities_of(i);
        if let Some(&k) = by_key.get(&key) {
            let row = &mut rows[k];
            merge_fac(&mut row.fac, &fac);
            if crit > row.crit {
                (row.crit, row.crit_text) = (crit, crit_text);
            }
            if row.reaction.is_empty() {
                row.reaction = reaction;
            }
            if row.kind.is_empty() {
                row.kind = kind;
            }
            if sort > row.sort {
                row.sort = sort;
            }
            continue;
        }
        by_key.insert(key.clone(), rows.len());
        rows.push(AllergyRow { label, key, kind, reaction, crit, crit_text, sort, fac });
    }
    rows.sort_by(|a, b| b.crit.cmp(&a.crit).then_with(|| b.sort.cmp(&a.sort)).then_with(|| a.label.cmp(&b.label)).then_with(|| a.key.cmp(&b.key)));
    rows
}

/// Active and past problems. A Condition is past when it is in the past-illness section, or
/// its clinical status is inactive, remission or resolved, or (without a status) it abated.
fn problem_rows(ctx: &mut Ctx<'_>, problems: &[usize], past_forced: &[usize]) -> (Vec<ProblemRow>, Vec<SimpleRow>) {
    let mut active: Vec<ProblemRow> = Vec::new();
    let mut active_key: HashMap<String, usize> = HashMap::new();
    let mut past: Vec<ProblemRow> = Vec::new();
    let mut past_key: HashMap<String, usize> = HashMap::new();
    let all = problems.iter().map(|&i| (i, false)).chain(past_forced.iter().map(|&i| (i, true)));
    let mut done = HashSet::new();
    for (i, forced) in all {
        if !done.insert(i) {
            continue;
        }
        let r = ctx.res[i];
        if matches!(status_code(r.get("verificationStatus")).as_deref(), Some("refuted" | "entered-in-error")) {
            continue;
        }
        let Some(label) = r.get("code").and_then(concept_label) else { continue };
        let key = r.get("code").and_then(concept_key).unwrap_or_else(|| label.to_lowercase());
        let clinical = status_code(r.get("clinicalStatus"));
        let abatement = s(r, "abatementDateTime")
            .or_else(|| r.get("abatementPeriod").and_then(|p| s(p, "end").or_else(|| s(p, "start"))))
            .or_else(|| s(r, "abatementString"));
        let is_past = forced
            || matches!(clinical.as_deref(), Some("inactive" | "remission" | "resolved"))
            || (clinical.is_none() && (abatement.is_some() || r.get("abatementBoolean").and_then(Value::as_bool) == Some(true)));
        let onset_raw = s(r, "onsetDateTime").or_else(|| r.get("onsetPeriod").and_then(|p| s(p, "start"))).or_else(|| s(r, "onsetString"));
        let onset = onset_raw.map(|o| if show_date(o).is_empty() { clip(o) } else { show_date(o) }).unwrap_or_default();
        let end = abatement.map(|a| if show_date(a).is_empty() { clip(a) } else { show_date(a) }).unwrap_or_default();
        let sort = sort_key(onset_raw.or_else(|| s(r, "recordedDate"))).to_owned();
        let fac = ctx.facilities_of(i);
        let (rows, keys) = if is_past { (&mut past, &mut past_key) } else { (&mut active, &mut active_key) };
        if let Some(&k) = keys.get(&key) {
            let row = &mut rows[k];
            merge_fac(&mut row.fac, &fac);
            if !sort.is_empty() && (row.sort.is_empty() || sort < row.sort) {
                (row.sort, row.onset) = (sort, onset);
            }
            if row.end.is_empty() {
                row.end = end;
            }
            continue;
        }
        keys.insert(key.clone(), rows.len());
        rows.push(ProblemRow { label, key, onset, end, sort, fac });
    }
    let order = |a: &ProblemRow, b: &ProblemRow| b.sort.cmp(&a.sort).then_with(|| a.label.cmp(&b.label)).then_with(|| a.key.cmp(&b.key));
    active.sort_by(order);
    past.sort_by(order);
    let past = past
        .into_iter()
        .map(|p| {
            let date = match (p.onset.is_empty(), p.end.is_empty()) {
                (false, false) => format!("{} – {}", p.onset, p.end),
                (false, true) => p.onset,
                (true, false) => format!("– {}", p.end),
                (true, true) => String::new(),
            };
            SimpleRow { label: p.label, date, extra: String::new(), sort: p.sort, fac: p.fac }
        })
        .collect();
    (active, past)
}

fn med_rows(ctx: &mut Ctx<'_>, idx: &[usize]) -> Vec<MedRow> {
    let mut rows: Vec<MedRow> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for &i in idx {
        let r = ctx.res[i];
        let statement = rtype(r) == Some("MedicationStatement");
        if matches!(
            status_code(r.get("status")).as_deref(),
            Some("completed" | "stopped" | "cancelled" | "entered-in-error" | "not-taken" | "draft" | "revoked")
        ) {
            continue;
        }
        let period_end = r.get("effectivePeriod").and_then(|p| s(p, "end")).map(show_date).unwrap_or_default();
        if !period_end.is_empty() && !ctx.today.is_empty() && period_end.len() == 10 && period_end < ctx.today {
            continue;
        }
        let concept = r.get("medicationCodeableConcept").or_else(|| {
            let m = r.get("medicationReference")?;
            match ctx.resolve(r, m) {
                Some((_, med)) if rtype(med) == Some("Medication") => med.get("code"),
                _ => None,
            }
        });
        let label = concept
            .and_then(concept_label)
            .or_else(|| r.get("medicationReference").and_then(|m| s(m, "display")).map(clip));
        let Some(label) = label else { continue };
        let key = concept.and_then(concept_key).unwrap_or_else(|| label.to_lowercase());
        let dosages = arr(r, if statement { "dosage" } else { "dosageInstruction" });
        let dose = dosages.iter().take(2).filter_map(dosage_text).collect::<Vec<_>>().join("; ");
        let since_raw = if statement {
            r.get("effectivePeriod").and_then(|p| s(p, "start")).or_else(|| s(r, "effectiveDateTime")).or_else(|| s(r, "dateAsserted"))
        } else {
            s(r, "authoredOn").or_else(|| r.get("dispenseRequest").and_then(|d| d.get("validityPeriod")).and_then(|p| s(p, "start")))
        };
        let since = sort_key(since_raw).to_owned();
        let fac = ctx.facilities_of(i);
        if let Some(&k) = by_key.get(&key) {
            let row = &mut rows[k];
            merge_fac(&mut row.fac, &fac);
            if since > row.latest {
                row.latest = since.clone();
                if !dose.is_empty() {
                    row.dose = dose;
                }
            } else if row.dose.is_empty() {
                row.dose = dose;
            }
            if !since.is_empty() && (row.since.is_empty() || since < row.since) {
                row.since = since;
            }
            continue;
        }
        by_key.insert(key.clone(), rows.len());
        rows.push(MedRow { label, key, dose, latest: since.clone(), since, fac });
    }
    rows.sort_by(|a, b| b.latest.cmp(&a.latest).then_with(|| a.label.cmp(&b.label)).then_with(|| a.key.cmp(&b.key)));
    rows
}

fn dosage_text(d: &Value) -> Option<String> {
    if let Some(t) = s(d, "text") {
        return Some(clip(t));
    }
    let dose = arr(d, "doseAndRate").iter().find_map(|x| {
        let q = x.get("doseQuantity")?;
        let (v, _) = q.get("value").and_then(number)?;
        Some(with_unit(&v, &unit_of(q)))
    });
    let timing = d.get("timing").and_then(|t| t.get("code")).and_then(concept_label);
    let parts: Vec<String> = dose.into_iter().chain(timing).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Points of one test, newest first.
struct Point<'a> {
    sort: &'a str,
    idx: usize,
}

fn test_rows(ctx: &mut Ctx<'_>, idx: &[usize]) -> (Vec<TestRow>, usize) {
    // One pass: group by code; the groups in the order first met.
    let mut groups: Vec<Vec<Point<'_>>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for &i in idx {
        let r = ctx.res[i];
        if matches!(status_code(r.get("status")).as_deref(), Some("entered-in-error" | "cancelled")) {
            continue;
        }
        let Some(key) = r.get("code").and_then(concept_key) else { continue };
        let g = *by_key.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(Point { sort: sort_key(effective(r)), idx: i });
    }
    // Each group's points newest first; the groups by their latest point, newest first.
    for g in &mut groups {
        g.sort_by(|a, b| b.sort.cmp(a.sort).then_with(|| b.idx.cmp(&a.idx)));
    }
    let mut order: Vec<(usize, &str, String)> = groups
        .iter()
        .enumerate()
        .filter_map(|(gi, g)| {
            let p = g.first()?;
            let label = ctx.res[p.idx].get("code").and_then(concept_label).unwrap_or_default();
            Some((gi, p.sort, label))
        })
        .collect();
    order.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.2.cmp(&b.2)).then_with(|| a.0.cmp(&b.0)));
    let more = order.len().saturating_sub(MAX_RESULT_TESTS);
    let mut rows = Vec::new();
    for (gi, _, label) in order.into_iter().take(MAX_RESULT_TESTS) {
        let points = &groups[gi];
        let first = points[0].idx;
        let r = ctx.res[first];
        let (text, x, unit) = observation_text(r).unwrap_or_else(|| ("—".to_owned(), None, String::new()));
        let range = reference_range(r);
        let flag = flag_of(r, x, range.as_ref());
        let mut previous = Vec::new();
        let mut prev_x = None;
        for p in points.iter().skip(1).take(MAX_PREVIOUS_VALUES) {
            let pr = ctx.res[p.idx];
            let Some((t, px, pu)) = observation_text(pr) else { continue };
            if prev_x.is_none() && pu == unit {
                prev_x = px;
            }
            let pflag = flag_of(pr, px, reference_range(pr).as_ref());
            let text = if pu == unit { t } else { with_unit(&t, &pu) };
            previous.push(Previous { text, flag: pflag, date: show_date(effective(pr).unwrap_or("")) });
        }
        let arrow = match (x, prev_x) {
            (Some(now), Some(before)) => {
                let threshold = (before.abs() * 0.02).max(1e-9);
                Some(if now - before > threshold {
                    ("↑", "ts-up")
                } else if before - now > threshold {
                    ("↓", "ts-down")
                } else {
                    ("→", "ts-flat")
                })
            }
            _ => None,
        };
        let mut spark: Vec<f64> = points
            .iter()
            .take(MAX_SPARK_POINTS * 2)
            .filter_map(|p| {
                let (_, px, pu) = observation_text(ctx.res[p.idx])?;
                if pu == unit { px } else { None }
            })
            .take(MAX_SPARK_POINTS)
            .collect();
        spark.reverse();
        let fac = ctx.facilities_of(first);
        rows.push(TestRow {
            label,
            latest: with_unit(&text, &unit),
            flag,
            date: show_date(effective(r).unwrap_or("")),
            range: range.map(|r| r.text).unwrap_or_default(),
            previous,
            arrow,
            spark,
            fac,
        });
    }
    (rows, more)
}

fn vital_rows(ctx: &mut Ctx<'_>, idx: &[usize]) -> (Vec<VitalRow>, usize) {
    let words = ctx.words;
    // The latest reading of each kind.
    let mut latest: Vec<(u8, String, &str, usize)> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for &i in idx {
        let r = ctx.res[i];
        if matches!(status_code(r.get("status")).as_deref(), Some("entered-in-error" | "cancelled")) {
            continue;
        }
        let Some(code) = r.get("code") else { continue };
        let (order, key) = match vital_kind(code, words) {
            Some((order, key, _)) => (order, key.to_owned()),
            None => match concept_key(code) {
                Some(k) => (u8::MAX, k),
                None => continue,
            },
        };
        let sort = sort_key(effective(r));
        match by_key.get(&key) {
            Some(&k) => {
                if sort > latest[k].2 {
                    latest[k].2 = sort;
                    latest[k].3 = i;
                }
            }
            None => {
                by_key.insert(key.clone(), latest.len());
                latest.push((order, key, sort, i));
            }
        }
    }
    latest.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.2.cmp(a.2)).then_with(|| a.1.cmp(&b.1)));
    let more = latest.len().saturating_sub(MAX_VITALS);
    let mut rows = Vec::new();
    for (_, _, _, i) in latest.into_iter().take(MAX_VITALS) {
        let r = ctx.res[i];
        let code = r.get("code").unwrap_or(&Value::Null);
        let label = vital_kind(code, words).map(|v| v.2.to_owned()).or_else(|| concept_label(code)).unwrap_or_default();
        let value = observation_text(r).map(|(t, _, u)| with_unit(&t, &u)).unwrap_or_else(|| "—".to_owned());
        let fac = ctx.facilities_of(i);
        rows.push(VitalRow { label, value, date: show_date(effective(r).unwrap_or("")), fac });
    }
    (rows, more)
}

fn immunization_rows(ctx: &mut Ctx<'_>, idx: &[usize]) -> Vec<SimpleRow> {
    let words = ctx.words;
    let mut rows = Vec::new();
    for &i in idx {
        let r = ctx.res[i];
        if matches!(status_code(r.get("status")).as_deref(), Some("not-done" | "entered-in-error")) {
            continue;
        }
        let Some(label) = r.get("vaccineCode").and_then(concept_label) else { continue };
        let when = s(r, "occurrenceDateTime").or_else(|| s(r, "recorded"));
        let dose = arr(r, "protocolApplied").iter().find_map(|p| p.get("doseNumberPositiveInt").or_else(|| p.get("doseNumberString")).and_then(number));
        let extra = dose.map(|(n, _)| words.dose_number(&n)).unwrap_or_default();
        let fac = ctx.facilities_of(i);
        rows.push(SimpleRow { label, date: when.map(show_date).unwrap_or_default(), extra, sort: sort_key(when).to_owned(), fac });
    }
    sort_simple(&mut rows);
    rows
}

fn procedure_rows(ctx: &mut Ctx<'_>, idx: &[usize]) -> Vec<SimpleRow> {
    let mut rows = Vec::new();
    for &i in idx {
        let r = ctx.res[i];
        if matches!(status_code(r.get("status")).as_deref(), Some("not-done" | "entered-in-error")) {
            continue;
        }
        let Some(label) = r.get("code").and_then(concept_label) else { continue };
        let when = s(r, "performedDateTime").or_else(|| r.get("performedPeriod").and_then(|p| s(p, "start").or_else(|| s(p, "end"))));
        let fac = ctx.facilities_of(i);
        rows.push(SimpleRow { label, date: when.map(show_date).unwrap_or_default(), extra: String::new(), sort: sort_key(when).to_owned(), fac });
    }
    sort_simple(&mut rows);
    rows
}

fn sort_simple(rows: &mut [SimpleRow]) {
    rows.sort_by(|a, b| b.sort.cmp(&a.sort).then_with(|| a.label.cmp(&b.label)).then_with(|| a.extra.cmp(&b.extra)));
}

// =============================================================================================
// Rendering
// =============================================================================================

fn fragment_into(w: &mut W, input: &Value, opts: &SummaryOptions) {
    let words = Words::of(opts.lang);
    let model = Model::build(input, words, &opts.today);
    let today = if ymd(&opts.today).is_some() { show_date(&opts.today) } else { String::new() };
        w.el_attrs("div", &[("class", "techo-summary"), ("lang", words.lang_code)], |w| {
        render_header(w, &model, words, title_of(opts, words), &today);
        render_allergies(w, &model, words);
        render_problems(w, &model, words);
        render_meds(w, &model, words);
        render_results(w, &model, words);
        render_vitals(w, &model, words);
        render_simple(w, &model, words, words.immunizations, "ts-immunizations", &model.immunizations);
        render_simple(w, &model, words, words.procedures, "ts-procedures", &model.procedures);
        render_simple(w, &model, words, words.past, "ts-past", &model.past);
        render_sources(w, &model, words);
        w.el("p", "ts-foot", |w| w.text(words.footer));
    });
}

fn render_header(w: &mut W, m: &Model, words: &Words, title: &str, today: &str) {
    w.el("header", "ts-head", |w| {
        w.el("h1", "", |w| w.text(title));
        w.el("p", "ts-patient", |w| {
            w.el("span", "ts-name", |w| w.text(m.header.name.as_deref().unwrap_or(words.name_unknown)));
            if let Some(k) = &m.header.kana {
                w.el("span", "ts-kana", |w| w.text(k));
            }
        });
        w.el("p", "ts-facts", |w| {
            if !m.header.birth.is_empty() {
                w.el("span", "ts-fact", |w| {
                    w.el("span", "ts-k", |w| w.text(words.born));
                    w.text(&m.header.birth);
                    if let Some(a) = m.header.age {
                        w.text(&words.age(a));
                    }
                });
            }
            if let Some(sex) = m.header.sex {
                w.el("span", "ts-fact", |w| {
                    w.el("span", "ts-k", |w| w.text(words.sex));
                    w.text(sex);
                });
            }
            if !today.is_empty() {
                w.el("span", "ts-fact", |w| {
                    w.el("span", "ts-k", |w| w.text(words.made));
                    w.text(today);
                });
            }
        });
        if m.withheld {
            w.el_attrs("p", &[("class", "ts-withheld"), ("role", "note")], |w| w.text(words.withheld));
        }
    });
}

/// A small line naming a row's facilities.
fn facility_line(w: &mut W, m: &Model, fac: &[usize]) {
    let names: Vec<&str> = fac.iter().take(MAX_FACILITIES_PER_ROW).filter_map(|&f| m.sources.get(f)).map(String::as_str).collect();
    if !names.is_empty() {
        w.el("div", "ts-src", |w| w.text(&names.join(", ")));
    }
}

fn section(w: &mut W, class: &'static str, heading: &str, body: impl FnOnce(&mut W)) {
    w.el("section", class, |w| {
        w.el("h2", "", |w| w.text(heading));
        body(w);
    });
}

fn table(w: &mut W, headers: &[&str], rows: impl FnOnce(&mut W)) {
    w.el("table", "", |w| {
        w.el("thead", "", |w| {
            w.el("tr", "", |w| {
                for h in headers {
                    w.el_attrs("th", &[("scope", "col")], |w| w.text(h));
                }
            })
        });
        w.el("tbody", "", rows);
    });
}

fn none_or_more(w: &mut W, words: &Words, empty: bool, more: usize) {
    if empty {
        w.el("p", "ts-none", |w| w.text(words.none));
    }
    if more > 0 {
        w.el("p", "ts-more", |w| w.text(&words.more(more)));
    }
}

fn render_allergies(w: &mut W, m: &Model, words: &Words) {
    let (rows, more) = &m.allergies;
    section(w, "ts-allergies", words.allergies, |w| {
        if !rows.is_empty() {
            table(w, &[words.c_substance, words.c_type, words.c_reaction, words.c_criticality], |w| {
                for a in rows {
                    let high = a.crit == 3;
                    w.el("tr", if high { "ts-crit-high" } else { "" }, |w| {
                        w.el("td", if high { "ts-strong" } else { "" }, |w| {
                            w.text(&a.label);
                            facility_line(w, m, &a.fac);
                        });
                        w.el("td", "", |w| w.text(&a.kind));
                        w.el("td", "", |w| w.text(&a.reaction));
                        w.el("td", if high { "ts-strong" } else { "" }, |w| w.text(a.crit_text));
                    });
                }
            });
        }
        none_or_more(w, words, rows.is_empty(), *more);
    });
}

fn render_problems(w: &mut W, m: &Model, words: &Words) {
    let (rows, more) = &m.problems;
    section(w, "ts-problems", words.problems, |w| {
        if !rows.is_empty() {
            table(w, &[words.c_problem, words.c_onset], |w| {
                for p in rows {
                    w.el("tr", "", |w| {
                        w.el("td", "", |w| {
                            w.text(&p.label);
                            facility_line(w, m, &p.fac);
                        });
                        w.el("td", "ts-val", |w| w.text(&p.onset));
                    });
                }
            });
        }
        none_or_more(w, words, rows.is_empty(), *more);
    });
}

fn render_meds(w: &mut W, m: &Model, words: &Words) {
    let (rows, more) = &m.meds;
    section(w, "ts-meds", words.meds, |w| {
        if !rows.is_empty() {
            table(w, &[words.c_med, words.c_dose, words.c_since], |w| {
                for r in rows {
                    w.el("tr", "", |w| {
                        w.el("td", "", |w| {
                            w.text(&r.label);
                            facility_line(w, m, &r.fac);
                        });
                        w.el("td", "", |w| w.text(&r.dose));
                        w.el("td", "ts-num", |w| w.text(&show_date(&r.since)));
                    });
                }
            });
        }
        none_or_more(w, words, rows.is_empty(), *more);
    });
}

fn flag_badge(w: &mut W, flag: Option<&'static str>) {
    if let Some(f) = flag {
        w.el("span", "ts-flag", |w| w.text(f));
    }
}

fn render_results(w: &mut W, m: &Model, words: &Words) {
    let (rows, more) = &m.results;
    section(w, "ts-results", words.results, |w| {
        if !rows.is_empty() {
            table(w, &[words.c_test, words.c_latest, words.c_date, words.c_range, words.c_previous, words.c_trend], |w| {
                for t in rows {
                    w.el("tr", "", |w| {
                        w.el("td", "", |w| {
                            w.text(&t.label);
                            facility_line(w, m, &t.fac);
                        });
                        w.el("td", "ts-val ts-latest", |w| {
                            w.el("span", if t.flag.is_some() { "ts-strong" } else { "" }, |w| w.text(&t.latest));
                            flag_badge(w, t.flag);
                        });
                        w.el("td", "ts-num", |w| w.text(&t.date));
                        w.el("td", "ts-val", |w| w.text(&t.range));
                        w.el("td", "", |w| {
                            for p in &t.previous {
                                w.el("span", "ts-prev", |w| {
                                    w.text(&p.text);
                                    flag_badge(w, p.flag);
                                    if !p.date.is_empty() {
                                        w.el("span", "ts-d", |w| w.text(&p.date));
                                    }
                                });
                            }
                        });
                        w.el("td", "ts-trend", |w| {
                            if let Some((arrow, class)) = t.arrow {
                                w.el("span", arrow_class(class), |w| w.text(arrow));
                            }
                            w.sparkline(&t.spark);
                        });
                    });
                }
            });
        }
        none_or_more(w, words, rows.is_empty(), *more);
    });
}

fn arrow_class(c: &'static str) -> &'static str {
    match c {
        "ts-up" => "ts-arrow ts-up",
        "ts-down" => "ts-arrow ts-down",
        _ => "ts-arrow ts-flat",
    }
}

fn render_vitals(w: &mut W, m: &Model, words: &Words) {
    let (rows, more) = &m.vitals;
    if rows.is_empty() {
        return;
    }
    section(w, "ts-vitals", words.vitals, |w| {
        table(w, &[words.c_measure, words.c_value, words.c_date], |w| {
            for v in rows {
                w.el("tr", "", |w| {
                    w.el("td", "", |w| {
                        w.text(&v.label);
                        facility_line(w, m, &v.fac);
                    });
                    w.el("td", "ts-val", |w| w.text(&v.value));
                    w.el("td", "ts-num", |w| w.text(&v.date));
                });
            }
        });
        none_or_more(w, words, false, *more);
    });
}

fn render_simple(w: &mut W, m: &Model, words: &Words, heading: &str, class: &'static str, rows: &(Vec<SimpleRow>, usize)) {
    let (rows, more) = rows;
    if rows.is_empty() {
        return;
    }
    section(w, class, heading, |w| {
        w.el("ul", "ts-list", |w| {
            for r in rows {
                w.el("li", "", |w| {
                    w.text(&r.label);
                    if !r.extra.is_empty() {
                        w.text(&words.aside(&r.extra));
                    }
                    if !r.date.is_empty() {
                        w.el("span", "ts-d", |w| w.text(&r.date));
                    }
                    facility_line(w, m, &r.fac);
                });
            }
        });
        none_or_more(w, words, false, *more);
    });
}

fn render_sources(w: &mut W, m: &Model, words: &Words) {
    if m.sources.is_empty() {
        return;
    }
    section(w, "ts-sources-sec", words.sources, |w| {
        w.el("ul", "ts-list ts-sources", |w| {
            for name in m.sources.iter().take(MAX_SOURCES) {
                w.el("li", "", |w| w.text(name));
            }
        });
        none_or_more(w, words, false, m.sources.len().saturating_sub(MAX_SOURCES));
    });
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use serde_json::json;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, s);
        out
    }

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(esc("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(esc("\"><img src=x onerror=alert(1)>"), "&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;");
        assert_eq!(esc("javascript:alert('x')"), "javascript&#58;alert(&#39;x&#39;)");
        assert_eq!(esc("a&b`c"), "a&amp;b&#96;c");
        assert_eq!(esc("]]></style>"), "]]&gt;&lt;/style&gt;");
        assert_eq!(esc("田中\u{0}\u{202E}太郎\u{7}"), "田中太郎");
        assert_eq!(esc("line\tone\nline two"), "line\tone\nline two");
    }

    #[test]
    fn long_text_is_clipped() {
        let long = "あ".repeat(1000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), MAX_TEXT);
        assert!(c.ends_with('…'));
        assert_eq!(clip("  short  "), "short");
    }

    #[test]
    fn age_counts_completed_years() {
        assert_eq!(age_on("1958-04-12", "2025-06-01"), Some(67));
        assert_eq!(age_on("1958-04-12", "2025-04-11"), Some(66));
        assert_eq!(age_on("1958-04-12", "2025-04-12"), Some(67));
        assert_eq!(age_on("2000-02-29", "2025-02-28"), Some(24));
        assert_eq!(age_on("2000-02-29", "2025-03-01"), Some(25));
        assert_eq!(age_on("2024-12-31", "2025-01-01"), Some(0));
        assert_eq!(age_on("1958", "2025-06-01"), None);
        assert_eq!(age_on("1958-04-12", "tomorrow"), None);
        assert_eq!(age_on("2030-01-01", "2025-06-01"), None);
    }

    #[test]
    fn dates_are_shown_only_when_they_are_dates() {
        assert_eq!(show_date("2024-05-01T09:30:00+09:00"), "2024-05-01");
        assert_eq!(show_date("2024-05"), "2024-05");
        assert_eq!(show_date("2024"), "2024");
        assert_eq!(show_date("<b>2024</b>"), "");
        assert_eq!(show_date("20240501"), "");
        assert_eq!(show_date("２０２４"), "");
    }

    #[test]
    fn concepts_prefer_text_then_display_then_system_code() {
        assert_eq!(concept_label(&json!({"text":"T","coding":[{"display":"D"}]})).as_deref(), Some("T"));
        assert_eq!(concept_label(&json!({"coding":[{"code":"c"},{"display":"D"}]})).as_deref(), Some("D"));
        assert_eq!(concept_label(&json!({"coding":[{"system":"http://s","code":"c"}]})).as_deref(), Some("http://s|c"));
        assert_eq!(concept_label(&json!({"coding":"nope"})), None);
        assert_eq!(concept_key(&json!({"coding":[{"system":"urn:x","code":"1"},{"system":LOINC,"code":"4548-4"}]})).as_deref(), Some("http://loinc.org|4548-4"));
    }

    #[test]
    fn numbers_keep_their_written_form_and_strings_count() {
        assert_eq!(number(&serde_json::from_str("7.20").unwrap()).map(|n| n.0), Some("7.20".to_owned()));
        assert_eq!(number(&json!("6.5")).and_then(|n| n.1), Some(6.5));
        assert_eq!(number(&json!("high")).and_then(|n| n.1), None);
        assert_eq!(number(&json!(true)).map(|n| n.0), None);
        let huge: Value = serde_json::from_str("1e400").unwrap();
        let (t, x) = number(&huge).unwrap();
        assert!(t.len() <= MAX_TEXT && x.is_none_or(f64::is_finite));
    }

    #[test]
    fn references_resolve_by_full_url_type_id_absolute_url_and_contained() {
        let b = json!({"resourceType":"Bundle","entry":[
            {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Medication","id":"m1"}},
            {"resource":{"resourceType":"Organization","id":"o1","name":"Org"}},
            {"resource":{"resourceType":"MedicationRequest","id":"r","contained":[{"resourceType":"Medication","id":"c"}]}}
        ]});
        let ctx = Ctx::new(&b, &EN, "2025-01-01");
        let from = ctx.res[2];
        let r = |x: &'static str| json!({ "reference": x });
        for (reference, want) in [("urn:uuid:1", Some(0)), ("Medication/m1", Some(0)), ("https://x.example/fhir/Organization/o1/_history/3", Some(1)), ("Organization/zz", None)] {
            assert_eq!(ctx.resolve(from, &r(reference)).and_then(|x| x.0), want, "{reference}");
        }
        assert_eq!(ctx.resolve(from, &r("#c")).map(|x| (x.0, rtype(x.1))), Some((None, Some("Medication"))));
    }

    #[test]
    fn the_style_sheet_is_scoped_and_has_print_rules() {
        // Every selector of every rule, also inside @media print, starts with .techo-summary.
        let css = SUMMARY_CSS.split_once("*/").map_or(SUMMARY_CSS, |(_, rules)| rules); // after the file's comment
        assert!(css.contains("@media print{"));
        let mut rest = css;
        let mut depth = 0;
        let mut selectors = 0;
        while let Some(open) = rest.find('{') {
            let head = rest[..open].trim_start_matches('}').trim();
            if head.starts_with("@media") {
                assert_eq!(head, "@media print");
                depth += 1;
            } else {
                for sel in head.split(',') {
                    assert!(sel.trim().starts_with(".techo-summary"), "unscoped selector {sel:?}");
                    selectors += 1;
                }
                let close = rest[open..].find('}').expect("rule closes");
                rest = &rest[open + close..];
                continue;
            }
            rest = &rest[open + 1..];
        }
        assert_eq!(depth, 1);
        assert!(selectors > 20);
        assert!(!css.contains("url(") && !css.contains("@import") && !css.contains('<'));
    }

    #[test]
    fn sparkline_is_numbers_only_and_skips_nonfinite() {
        let mut w = W::default();
        w.sparkline(&[1.0, f64::NAN, 3.0, 2.0]);
        assert!(w.out.starts_with("<svg class=\"ts-spark\""));
        assert!(w.out.contains("points=\"2.0,16.0 32.0,2.0 62.0,9.0\""), "{}", w.out);
        let mut w = W::default();
        w.sparkline(&[5.0]);
        assert!(w.out.is_empty());
        let mut w = W::default();
        w.sparkline(&[5.0, 5.0]);
        assert!(w.out.contains("2.0,9.0 62.0,9.0"));
    }

    #[test]
    fn kana_is_told_from_kanji() {
        assert!(is_kana("ヤマダ ハナコ"));
        assert!(is_kana("やまだ はなこ"));
        assert!(!is_kana("山田 花子"));
        assert!(!is_kana("Yamada"));
        assert!(!is_kana(" "));
        assert_eq!(name_text(&json!({"family":"山田","given":["花子"]})).as_deref(), Some("山田 花子"));
        assert_eq!(name_text(&json!({"family":"Smith","given":["Jane","Q"]})).as_deref(), Some("Jane Q Smith"));
    }
}
