//! Pure helpers for rendering: no browser APIs, tested natively.

use crate::i18n_record as ir;
use techo_ipc::{Language, PersonSummary, RecordRow, TypeCount};

/// `1234567` → `"1,234,567"`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Resource types by count, largest first; ties by name.
pub fn sorted_types(by_type: &[TypeCount]) -> Vec<TypeCount> {
    let mut v = by_type.to_vec();
    v.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.resource_type.cmp(&b.resource_type))
    });
    v
}

/// The relationship column: the core's label (in `lang`), or a dash when there is none.
pub fn relationship_label(lang: Language, relationship: Option<&str>) -> String {
    match relationship.map(str::trim) {
        Some(r) if !r.is_empty() => ir::relationship(lang, r),
        _ => "—".to_string(),
    }
}

/// Total resources across all persons.
pub fn total_resources(persons: &[PersonSummary]) -> u64 {
    persons.iter().map(|p| p.resource_count).sum()
}

/// "1 person" / "3 persons" ("3 人").
pub fn persons_label(lang: Language, n: usize) -> String {
    if n == 1 {
        ir::tr(lang, "count.person1").to_string()
    } else {
        ir::count(lang, "count.persons", n as u64)
    }
}

/// Rows grouped by day, in the order given (newest first). `local` turns a row's UTC instant
/// into the person's local `(day, time)` (the browser's time zone in the app); rows without a
/// date go under "Undated".
pub fn day_groups(rows: &[RecordRow], local: impl Fn(&str) -> Option<(String, String)>) -> Vec<(String, Vec<(String, &RecordRow)>)> {
    let mut groups: Vec<(String, Vec<(String, &RecordRow)>)> = Vec::new();
    for r in rows {
        let (day, time) = r.clinical_date.as_deref().and_then(&local).unwrap_or_else(|| ("Undated".to_string(), String::new()));
        match groups.last_mut() {
            Some((d, items)) if *d == day => items.push((time, r)),
            _ => groups.push((day, vec![(time, r)])),
        }
    }
    groups
}

/// The label of a row: its display text, else its resource type.
pub fn row_label(r: &RecordRow) -> String {
    match r.display.as_deref().map(str::trim) {
        Some(d) if !d.is_empty() => d.to_string(),
        _ => r.resource_type.clone(),
    }
}

/// One line of the virtualized timeline: a day's heading or an entry (`rows[index]`, its time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Day(String),
    Entry { time: String, index: usize },
}

/// The timeline's lines: a heading before each day's entries (newest day first; "Undated" last,
/// as the shell sends them), then the entries.
pub fn lines(rows: &[RecordRow], local: impl Fn(&str) -> Option<(String, String)>) -> Vec<Line> {
    let mut out = Vec::with_capacity(rows.len() + rows.len() / 4 + 1);
    let mut day_now: Option<String> = None;
    for (index, r) in rows.iter().enumerate() {
        let (day, time) = r.clinical_date.as_deref().and_then(&local).unwrap_or_else(|| ("Undated".to_string(), String::new()));
        if day_now.as_deref() != Some(day.as_str()) {
            out.push(Line::Day(day.clone()));
            day_now = Some(day);
        }
        out.push(Line::Entry { time, index });
    }
    out
}

/// Height of one line of the virtualized timeline, in CSS pixels (headings and entries alike).
pub const LINE_PX: f64 = 40.0;
/// Lines rendered above and below the visible ones.
pub const OVERSCAN: usize = 8;
/// Ask for the next page when the last rendered line is this close to the end.
pub const LOAD_AHEAD: usize = 40;

/// The lines to render, `start..end`, for a list of `len` lines of `line_px` each, scrolled to
/// `scroll_top` in a viewport `viewport_px` high, with `overscan` lines on either side.
pub fn virtual_window(scroll_top: f64, viewport_px: f64, line_px: f64, len: usize, overscan: usize) -> (usize, usize) {
    if len == 0 || line_px <= 0.0 {
        return (0, 0);
    }
    let top = if scroll_top.is_finite() { scroll_top.max(0.0) } else { 0.0 };
    let height = if viewport_px.is_finite() { viewport_px.max(0.0) } else { 0.0 };
    let first = ((top / line_px).floor() as usize).min(len - 1);
    let visible = (height / line_px).ceil() as usize + 1;
    let start = first.saturating_sub(overscan);
    let end = (first + visible + overscan).min(len);
    (start, end)
}

/// The spacers' heights above and below the rendered lines `start..end` of `len`.
pub fn spacers(start: usize, end: usize, len: usize, line_px: f64) -> (f64, f64) {
    (start as f64 * line_px, len.saturating_sub(end) as f64 * line_px)
}

/// Whether to ask for the next page: there is one, none is on its way, and the rendered lines
/// reach within `ahead` lines of the end of what is loaded.
pub fn wants_next_page(end: usize, len: usize, has_next: bool, busy: bool, ahead: usize) -> bool {
    has_next && !busy && end + ahead >= len
}

/// Keeps the newest request: each `begin` gets a number, and only the answer to the latest
/// one is shown (search as you type: an answer to "血" arriving after "血圧" is dropped; a
/// debounced request whose wait ends after a newer keystroke is not sent).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Latest(u64);

impl Latest {
    pub fn begin(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }

    pub fn is_current(&self, ticket: u64) -> bool {
        self.0 == ticket
    }

    /// The latest ticket, without starting a new request (a next page belongs to its load).
    pub fn current(&self) -> u64 {
        self.0
    }
}

/// How long search waits after the last keystroke, in milliseconds.
pub const SEARCH_DEBOUNCE_MS: u32 = 250;

/// What the search box holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchInput {
    /// Nothing: show the timeline.
    Empty,
    /// One character: say "type at least 2 characters".
    TooShort,
    /// Search for this (trimmed).
    Ready(String),
}

pub fn search_input(text: &str) -> SearchInput {
    let t = text.trim();
    match t.chars().filter(|c| !c.is_whitespace()).count() {
        0 => SearchInput::Empty,
        1 => SearchInput::TooShort,
        _ => SearchInput::Ready(t.to_string()),
    }
}

/// The filter's category select: `(value, words)`, "All records" first.
pub fn category_options(lang: Language) -> Vec<(&'static str, &'static str)> {
    std::iter::once(("", ir::tr(lang, "cat.all")))
        .chain(techo_ipc::RecordCategory::ALL.iter().map(|c| (c.slug(), ir::category_label(lang, *c))))
        .collect()
}

/// A summary of what the timeline shows: `"1,234 records loaded; more as you scroll"`.
pub fn loaded_label(lang: Language, n: usize, more: bool, filtered: bool) -> String {
    let key = match (filtered, more) {
        (false, false) => "loaded.records",
        (true, false) => "loaded.matching",
        (false, true) => "loaded.records_more",
        (true, true) => "loaded.matching_more",
    };
    ir::count(lang, key, n as u64)
}

/// What the window says after the vault locked itself.
pub fn auto_lock_note(lang: Language, seconds: u64) -> String {
    let when = if seconds >= 60 && seconds % 60 == 0 {
        let m = seconds / 60;
        if m == 1 { ir::tr(lang, "lock.minutes1").to_string() } else { ir::trf(lang, "lock.minutes", &[&m]) }
    } else if seconds == 1 {
        ir::tr(lang, "lock.second1").to_string()
    } else {
        ir::trf(lang, "lock.seconds", &[&seconds])
    };
    ir::trf(lang, "lock.note", &[&when])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(t: &str, n: u64) -> TypeCount {
        TypeCount {
            resource_type: t.into(),
            count: n,
        }
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(1234567), "1,234,567");
    }

    #[test]
    fn types_sort_by_count_then_name() {
        let s = sorted_types(&[tc("B", 1), tc("C", 5), tc("A", 1)]);
        let names: Vec<_> = s.iter().map(|t| t.resource_type.as_str()).collect();
        assert_eq!(names, ["C", "A", "B"]);
    }

    fn row(id: i64, date: Option<&str>, display: Option<&str>) -> RecordRow {
        RecordRow {
            record_id: id,
            resource_type: "Observation".into(),
            display: display.map(Into::into),
            clinical_date: date.map(Into::into),
            status: None,
            source: "s".into(),
            version: 1,
        }
    }

    /// JST: UTC+9, the way the app shows a Japanese person's record.
    fn jst(iso: &str) -> Option<(String, String)> {
        let h: u32 = iso.get(11..13)?.parse().ok()?;
        let d: u32 = iso.get(8..10)?.parse().ok()?;
        let (d, h) = if h + 9 >= 24 { (d + 1, h + 9 - 24) } else { (d, h + 9) };
        Some((format!("{}-{:02}", &iso[..7], d), format!("{:02}:{}", h, &iso[14..16])))
    }

    #[test]
    fn rows_group_by_local_day() {
        let rows = [
            row(3, Some("2024-05-01T23:30:00Z"), Some("血圧")),
            row(2, Some("2024-05-01T01:00:00Z"), None),
            row(1, Some("2024-04-30T14:59:00Z"), Some(" ")),
            row(0, None, Some("x")),
        ];
        let g = day_groups(&rows, jst);
        let days: Vec<_> = g.iter().map(|(d, items)| (d.as_str(), items.len())).collect();
        assert_eq!(days, [("2024-05-02", 1), ("2024-05-01", 1), ("2024-04-30", 1), ("Undated", 1)]);
        assert_eq!(g[0].1[0].0, "08:30");
        assert_eq!(row_label(&rows[0]), "血圧");
        assert_eq!(row_label(&rows[2]), "Observation");
    }

    #[test]
    fn lines_put_a_heading_before_each_day_and_undated_last() {
        let rows = [
            row(3, Some("2024-05-01T23:30:00Z"), None),
            row(2, Some("2024-05-01T14:00:00Z"), None),
            row(1, Some("2024-05-01T01:00:00Z"), None),
            row(0, None, None),
        ];
        let l = lines(&rows, jst);
        assert_eq!(
            l,
            [
                Line::Day("2024-05-02".into()),
                Line::Entry { time: "08:30".into(), index: 0 },
                Line::Day("2024-05-01".into()),
                Line::Entry { time: "23:00".into(), index: 1 },
                Line::Entry { time: "10:00".into(), index: 2 },
                Line::Day("Undated".into()),
                Line::Entry { time: String::new(), index: 3 },
            ]
        );
        assert!(lines(&[], jst).is_empty());
    }

    #[test]
    fn the_virtual_window_covers_the_viewport_and_overscan() {
        // 100,000 lines of 40 px, a 600 px viewport.
        assert_eq!(virtual_window(0.0, 600.0, 40.0, 100_000, 8), (0, 24));
        // Scrolled to line 1,000 (40,000 px): 8 above, 16 visible, 8 below.
        assert_eq!(virtual_window(40_000.0, 600.0, 40.0, 100_000, 8), (992, 1024));
        // Halfway through a line.
        assert_eq!(virtual_window(40_020.0, 600.0, 40.0, 100_000, 8), (992, 1024));
        // The end clamps; scrolled past it (a shorter list after a filter) keeps the last line.
        assert_eq!(virtual_window(1e9, 600.0, 40.0, 50, 8), (41, 50));
        assert_eq!(virtual_window(0.0, 600.0, 40.0, 5, 8), (0, 5));
        assert_eq!(virtual_window(0.0, 600.0, 40.0, 0, 8), (0, 0));
        assert_eq!(virtual_window(f64::NAN, -3.0, 40.0, 10, 0), (0, 1));
        // Rendered lines plus spacers always make the full height.
        let (s, e) = virtual_window(40_000.0, 600.0, 40.0, 100_000, 8);
        let (above, below) = spacers(s, e, 100_000, 40.0);
        assert_eq!(above + below + (e - s) as f64 * 40.0, 100_000.0 * 40.0);
        assert_eq!(above, 992.0 * 40.0);
    }

    #[test]
    fn the_next_page_is_asked_for_near_the_end_once() {
        assert!(wants_next_page(90, 110, true, false, 40));
        assert!(!wants_next_page(20, 110, true, false, 40), "far from the end");
        assert!(!wants_next_page(90, 110, true, true, 40), "a page is on its way");
        assert!(!wants_next_page(110, 110, false, false, 40), "nothing more");
    }

    #[test]
    fn only_the_latest_request_counts() {
        let mut latest = Latest::default();
        let a = latest.begin(); // "血"
        let b = latest.begin(); // "血圧"
        assert!(!latest.is_current(a), "the answer to the older request is dropped");
        assert!(latest.is_current(b));
        let c = latest.begin(); // the box was cleared
        assert!(!latest.is_current(b) && latest.is_current(c));
        assert_eq!(latest.current(), c, "a next page keeps its load's ticket");
    }

    #[test]
    fn search_input_needs_two_characters() {
        assert_eq!(search_input("  "), SearchInput::Empty);
        assert_eq!(search_input("血"), SearchInput::TooShort);
        assert_eq!(search_input(" 血 "), SearchInput::TooShort);
        assert_eq!(search_input("血圧 "), SearchInput::Ready("血圧".into()));
        assert_eq!(search_input("ab"), SearchInput::Ready("ab".into()));
    }

    #[test]
    fn categories_in_the_select() {
        let o = category_options(Language::En);
        assert_eq!(o[0], ("", "All records"));
        assert_eq!(o.len(), 11);
        assert!(o.contains(&("lab_results", "Lab results")) && o.contains(&("documents", "Documents & notes")));
        assert_eq!(techo_ipc::RecordCategory::from_slug("medications").map(|c| c.types().len()), Some(3));
        assert_eq!(loaded_label(Language::En, 1234, true, false), "1,234 records loaded; more as you scroll");
        assert_eq!(loaded_label(Language::En, 3, false, true), "3 matching records");
        assert_eq!(loaded_label(Language::En, 2000, false, false), "2,000 records");
        let ja = category_options(Language::Ja);
        assert_eq!(ja[0], ("", "すべての記録"));
        assert!(ja.contains(&("lab_results", "検査結果")) && ja.contains(&("immunizations", "予防接種")));
        assert_eq!(loaded_label(Language::Ja, 2000, false, false), "2,000 件の記録");
        assert_eq!(loaded_label(Language::Ja, 3, false, true), "該当する記録 3 件");
        assert!(loaded_label(Language::Ja, 1234, true, false).starts_with("1,234 件の記録を表示中"));
    }

    #[test]
    fn auto_lock_notes() {
        assert!(auto_lock_note(Language::En, 600).contains("after 10 minutes without use"));
        assert!(auto_lock_note(Language::En, 60).contains("after 1 minute without"));
        assert!(auto_lock_note(Language::En, 3).contains("after 3 seconds"));
        assert!(auto_lock_note(Language::Ja, 600).starts_with("操作のない状態が 10 分続いたため"));
    }

    #[test]
    fn labels() {
        assert_eq!(relationship_label(Language::En, None), "—");
        assert_eq!(relationship_label(Language::En, Some("  ")), "—");
        assert_eq!(relationship_label(Language::En, Some("child")), "child");
        assert_eq!(relationship_label(Language::Ja, Some("child")), "子");
        assert_eq!(persons_label(Language::En, 1), "1 person");
        assert_eq!(persons_label(Language::En, 3), "3 persons");
        assert_eq!(persons_label(Language::Ja, 1), "1 人");
        assert_eq!(persons_label(Language::Ja, 2000), "2,000 人");
    }
}
