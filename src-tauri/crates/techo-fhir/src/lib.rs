//! IO-free FHIR R4 JSON logic for Techo.
//!
//! Invariants: no database, no network, no filesystem paths. Everything here works on
//! `serde_json::Value`s and on any `std::io::Read` handed in by the caller, so it can be fuzzed
//! and property-tested in isolation.
//!
//! - [`reader`]: a streaming reader for Bundles (any type), NDJSON and single resources with
//!   per-resource size limits and error positions (entry index / line number).
//! - [`index`]: what the store indexes: clinical date, status, codes, identifiers, patient
//!   references, full-text, and a content hash for cross-source de-duplication.
//! - [`equality`]: FHIR-aware JSON equality for round-trip tests.

pub mod equality;
pub mod index;
pub mod reader;

/// Escapes text for XHTML (a narrative's `div`) or HTML element content and quoted attribute
/// values: `& < > " '`, and the characters XML 1.0 does not allow become spaces. The one
/// escaping of generated narratives (IPS sections, home readings) and the demo's pages.
pub fn escape_xhtml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push(' '),
            '\u{FFFE}' | '\u{FFFF}' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// FHIR `id` rule: 1–64 of `[A-Za-z0-9\-\.]`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// A resource type name as FHIR spells them: an ASCII capital then ASCII letters, ≤ 64.
/// Unknown but well-formed types are accepted (stored losslessly).
pub fn is_valid_resource_type(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_uppercase()
        && b.iter().all(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_xhtml_escapes_markup_quotes_and_xml_invalid_characters() {
        assert_eq!(super::escape_xhtml(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(super::escape_xhtml("a\u{1}b\tc\u{FFFF}"), "a b\tc ");
        assert_eq!(super::escape_xhtml("高血圧症"), "高血圧症");
    }

    use super::*;

    #[test]
    fn ids() {
        assert!(is_valid_id("example-1.2"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id(&"a".repeat(65)));
        assert!(!is_valid_id("患者"));
    }

    #[test]
    fn types() {
        assert!(is_valid_resource_type("Observation"));
        assert!(is_valid_resource_type("FutureThing"));
        assert!(!is_valid_resource_type("observation"));
        assert!(!is_valid_resource_type("Obs1"));
        assert!(!is_valid_resource_type(""));
    }
}
