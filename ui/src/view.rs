//! Pure helpers for rendering: no browser APIs, tested natively.

use techo_ipc::{PersonSummary, TypeCount};

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

    #[test]
    fn labels() {
        assert_eq!(relationship_label(None), "—");
        assert_eq!(relationship_label(Some("  ")), "—");
        assert_eq!(relationship_label(Some("child")), "child");
        assert_eq!(persons_label(1), "1 person");
        assert_eq!(persons_label(3), "3 persons");
    }
}
