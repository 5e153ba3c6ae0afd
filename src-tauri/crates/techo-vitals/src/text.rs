//! Small text helpers: full-width → ASCII, XHTML escaping, references.

/// Full-width ASCII variants (U+FF01–U+FF5E) and the ideographic space become ASCII, so
/// `１２０`, `ＳｐＯ２` and `２０２６／１１／２７` read like their half-width forms.
pub fn halfwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// A narrative `div` from already-escaped paragraphs.
pub(crate) fn narrative(paragraphs: &[String]) -> serde_json::Value {
    let mut div = String::from("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
    for p in paragraphs {
        div.push_str(p);
    }
    div.push_str("</div>");
    serde_json::json!({ "status": "generated", "div": div })
}

/// A literal FHIR reference `Type/id` (type: an ASCII capital then letters; id: 1–64 of
/// `[A-Za-z0-9-.]`) or `urn:uuid:<uuid>`.
pub(crate) fn is_reference(r: &str) -> bool {
    if let Some(u) = r.strip_prefix("urn:uuid:") {
        return u.len() == 36 && u.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    }
    let Some((ty, id)) = r.split_once('/') else {
        return false;
    };
    let tb = ty.as_bytes();
    !tb.is_empty()
        && tb.len() <= 64
        && tb[0].is_ascii_uppercase()
        && tb.iter().all(|b| b.is_ascii_alphabetic())
        && !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Trims; `None` when nothing is left.
pub(crate) fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(halfwidth("１２０．５　ｋｇ"), "120.5 kg");
        assert_eq!(techo_fhir::escape_xhtml("<a&\"'>"), "&lt;a&amp;&quot;&#39;&gt;");
        assert!(is_reference("Patient/abc-1.2"));
        assert!(is_reference(
            "urn:uuid:123e4567-e89b-12d3-a456-426614174000"
        ));
        assert!(!is_reference("patient/abc"));
        assert!(!is_reference("Patient/"));
        assert!(!is_reference("Patient/a b"));
        assert!(!is_reference("abc"));
        assert_eq!(clean(Some("  ")), None);
        assert_eq!(clean(Some(" 腰 ")), Some("腰".into()));
    }
}
