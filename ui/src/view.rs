//! Pure helpers for rendering: no browser APIs, tested natively.

use techo_ipc::{PersonSummary, RecordRow, TypeCount};

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

/// The relationship column: the core's label, or a dash when there is none.
pub fn relationship_label(relationship: Option<&str>) -> String {
    match relationship.map(str::trim) {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => "—".to_string(),
    }
}

/// Total resources across all persons.
pub fn total_resources(persons: &[PersonSummary]) -> u64 {
    persons.iter().map(|p| p.resource_count).sum()
}

/// "1 person" / "3 persons".
pub fn persons_label(n: usize) -> String {
    if n == 1 {
        "1 person".to_string()
    } else {
        format!("{} persons", format_count(n as u64))
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

/// What the window says after the vault locked itself.
pub fn auto_lock_note(seconds: u64) -> String {
    let when = if seconds >= 60 && seconds % 60 == 0 {
        let m = seconds / 60;
        if m == 1 { "1 minute".to_string() } else { format!("{m} minutes") }
    } else if seconds == 1 {
        "1 second".to_string()
    } else {
        format!("{seconds} seconds")
    };
    format!("Techo locked your vault after {when} without use. Enter your passphrase to continue.")
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
    fn auto_lock_notes() {
        assert!(auto_lock_note(600).contains("after 10 minutes without use"));
        assert!(auto_lock_note(60).contains("after 1 minute without"));
        assert!(auto_lock_note(3).contains("after 3 seconds"));
    }

    #[test]
    fn labels() {
        assert_eq!(relationship_label(None), "—");
        assert_eq!(relationship_label(Some("  ")), "—");
        assert_eq!(relationship_label(Some("child")), "child");
        assert_eq!(persons_label(1), "1 person");
        assert_eq!(persons_label(3), "3 persons");
    }
}
