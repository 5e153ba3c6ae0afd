//! What the store indexes about a resource. Pure functions of the resource's JSON.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Full-text pieces are cut at this many bytes per resource (the stored resource is not).
pub const MAX_TEXT_BYTES: usize = 2 * 1024;
const MAX_CODES: usize = 64;

/// The index fields of one resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexEntry {
    /// The clinical date as a sortable UTC instant `YYYY-MM-DDTHH:MM:SSZ` (partial dates are
    /// taken at their start).
    pub clinical_date: Option<String>,
    pub status: Option<String>,
    /// `(system, code)` of every Coding in the resource (outside `meta`), de-duplicated.
    pub codes: Vec<(String, String)>,
    /// `(system, value)` of the resource's business identifiers.
    pub identifiers: Vec<(String, String)>,
    /// References naming the patient the resource is about (subject, patient, beneficiary).
    pub patient_refs: Vec<String>,
    /// A short human label for lists.
    pub display: Option<String>,
    /// Text for the full-text index: the resource's human-readable strings, one per line,
    /// ending with a newline.
    pub text: String,
}

/// Paths tried in order for the clinical date; the first that holds a date wins.
const DATE_PATHS: &[&[&str]] = &[
    &["effectiveDateTime"],
    &["effectiveInstant"],
    &["effectivePeriod", "start"],
    &["occurrenceDateTime"],
    &["occurrencePeriod", "start"],
    &["performedDateTime"],
    &["performedPeriod", "start"],
    &["onsetDateTime"],
    &["onsetPeriod", "start"],
    &["authoredOn"],
    &["authored"],
    &["issued"],
    &["recordedDate"],
    &["recorded"],
    &["dateAsserted"],
    &["whenHandedOver"],
    &["whenPrepared"],
    &["period", "start"],
    &["date"],
    &["created"],
    &["sent"],
    &["birthDate"],
];

/// Extracts the index fields of `resource`.
pub fn extract(resource: &Value) -> IndexEntry {
    let Some(obj) = resource.as_object() else { return IndexEntry::default() };
    let clinical_date = DATE_PATHS.iter().find_map(|p| get_path(obj, p).and_then(Value::as_str).and_then(normalize_date));
    let status = obj
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| first_code(obj.get("clinicalStatus")));
    let mut codes = Vec::new();
    collect_codes(resource, &mut codes, true);
    codes.sort();
    codes.dedup();
    codes.truncate(MAX_CODES);
    let identifiers = identifiers(obj.get("identifier"));
    let patient_refs = ["subject", "patient", "beneficiary"]
        .iter()
        .filter_map(|k| obj.get(*k)?.get("reference")?.as_str().map(str::to_owned))
        .collect();
    IndexEntry { clinical_date, status, codes, identifiers, patient_refs, display: display(obj), text: text(resource) }
}

/// The full-text index's text of a resource (as in [`IndexEntry::text`]): its human-readable
/// strings, one per line, each ending with a newline, at most [`MAX_TEXT_BYTES`]. Left out as
/// noise: machine strings (ids, systems, URLs, units…), dates and times (the timeline filters
/// by date), and the name of the person the resource is about (`subject.display`: it is in
/// every resource of the record, so it would match them all).
pub fn text(resource: &Value) -> String {
    let mut text = String::new();
    let mut seen = Vec::new();
    collect_text(resource, None, &mut text, &mut seen);
    text
}

fn get_path<'a>(obj: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let mut cur = obj.get(path[0])?;
    for k in &path[1..] {
        cur = cur.get(*k)?;
    }
    Some(cur)
}

fn first_code(cc: Option<&Value>) -> Option<String> {
    cc?.get("coding")?.as_array()?.iter().find_map(|c| c.get("code")?.as_str().map(str::to_owned))
}

/// Normalises a FHIR date, dateTime or instant to a sortable UTC instant. Returns `None` for
/// text that is not a FHIR date.
pub fn normalize_date(s: &str) -> Option<String> {
    let fmt = |d: DateTime<Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    match s.len() {
        4 => {
            let y: i32 = s.parse().ok()?;
            Some(fmt(NaiveDate::from_ymd_opt(y, 1, 1)?.and_hms_opt(0, 0, 0)?.and_utc()))
        }
        7 => {
            let d = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?;
            Some(fmt(d.and_hms_opt(0, 0, 0)?.and_utc()))
        }
        10 => {
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
            Some(fmt(d.and_hms_opt(0, 0, 0)?.and_utc()))
        }
        _ => {
            let d: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(s).ok()?;
            Some(fmt(d.with_timezone(&Utc)))
        }
    }
}

fn collect_codes(v: &Value, out: &mut Vec<(String, String)>, top: bool) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::String(system)), Some(Value::String(code))) = (m.get("system"), m.get("code")) {
                if system != "http://unitsofmeasure.org" && !code.is_empty() {
                    out.push((system.clone(), code.clone()));
                }
            }
            for (k, child) in m {
                if top && (k == "meta" || k == "text" || k == "contained") {
                    continue;
                }
                collect_codes(child, out, false);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_codes(c, out, false)),
        _ => {}
    }
}

fn identifiers(v: Option<&Value>) -> Vec<(String, String)> {
    let one = |i: &Value| -> Option<(String, String)> {
        let value = i.get("value")?.as_str()?;
        let system = i.get("system").and_then(Value::as_str).unwrap_or("");
        (!value.is_empty()).then(|| (system.to_owned(), value.to_owned()))
    };
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(one).collect(),
        Some(i @ Value::Object(_)) => one(i).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Keys whose string values are machine text, not words a person would search for.
const NOT_TEXT: &[&str] = &[
    "resourceType", "id", "reference", "system", "url", "fullUrl", "version", "versionId",
    "lastUpdated", "profile", "contentType", "language", "data", "hash", "status", "use",
    "mode", "type", "gender", "unit", "comparator",
];

/// `seen` holds hashes of the pieces already added: a display repeated in `code.text`, the
/// coding and the narrative is indexed once.
fn collect_text(v: &Value, key: Option<&str>, out: &mut String, seen: &mut Vec<u64>) {
    if out.len() >= MAX_TEXT_BYTES {
        return;
    }
    match v {
        Value::String(s) => {
            if key == Some("div") {
                push_text(out, &strip_xhtml(s), seen);
            } else if !key.is_some_and(|k| NOT_TEXT.contains(&k)) && !is_date_or_time(s) {
                push_text(out, s, seen);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_text(c, key, out, seen)),
        Value::Object(m) => {
            for (k, child) in m {
                if matches!(k.as_str(), "meta" | "subject" | "patient" | "beneficiary") {
                    continue;
                }
                collect_text(child, Some(k), out, seen);
            }
        }
        _ => {}
    }
}

/// Case-folds `s` for the full-text index and its checks (character by character, the same way
/// for indexed text, search terms and the check of a candidate).
pub fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The full-text index's tokens for `text` (an [`IndexEntry::text`]), space-separated: every
/// pair of neighbouring characters inside a word, case-folded, where a word is a run of letters
/// and digits of any script ("収縮期血圧" → "収縮 縮期 期血 血圧", "HbA1c" → "hb ba a1 1c").
/// Bigrams find Japanese words inside compounds without a dictionary; the store's search
/// checks every candidate against the text itself, so a bigram index never returns a record
/// that does not contain the search term. Tokens hold no ASCII punctuation or space, so the
/// index's `ascii` tokenizer keeps each one whole.
pub fn fts_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    push_bigrams(&fold(text), &mut out);
    out
}

/// [`fts_tokens`] without repeats (the index keeps no counts, so a repeat is only work).
///
/// The same tokens as `fts_tokens`, sorted, without the intermediate folded string: ASCII and
/// the CJK ideographs (U+4E00..=U+9FFF: all letters, their own lower case) are folded and
/// classified without Unicode tables; every other character goes through `char::to_lowercase`
/// and `char::is_alphanumeric` as in [`fold`].
pub fn fts_token_set(text: &str) -> String {
    // a pair of characters as one integer: sorts as the (char, char) tuple does
    let mut pairs: Vec<u64> = Vec::with_capacity(text.len());
    let mut prev: Option<char> = None;
    let mut push = |c: char, prev: &mut Option<char>| {
        if is_alphanumeric_fast(c) {
            if let Some(p) = *prev {
                pairs.push((p as u64) << 32 | c as u64);
            }
            *prev = Some(c);
        } else {
            *prev = None;
        }
    };
    for c in text.chars() {
        if c.is_ascii() {
            push(c.to_ascii_lowercase(), &mut prev);
        } else if is_plain_ideograph(c) {
            push(c, &mut prev);
        } else {
            for l in c.to_lowercase() {
                push(l, &mut prev);
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = String::with_capacity(pairs.len() * 7);
    for p in pairs {
        out.push(char::from_u32((p >> 32) as u32).expect("a char"));
        out.push(char::from_u32(p as u32).expect("a char"));
        out.push(' ');
    }
    out
}

/// CJK Unified Ideographs: letters (so alphanumeric) without case.
#[inline]
fn is_plain_ideograph(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

#[inline]
fn is_alphanumeric_fast(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        is_plain_ideograph(c) || c.is_alphanumeric()
    }
}

/// The tokens a search term must all match (see [`fts_tokens`]), de-duplicated; empty when the
/// term has no two letters or digits side by side.
pub fn term_tokens(term: &str) -> Vec<String> {
    let mut out = String::new();
    push_bigrams(&fold(term), &mut out);
    let mut tokens: Vec<String> = out.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect();
    tokens.sort();
    tokens.dedup();
    tokens
}

fn push_bigrams(folded: &str, out: &mut String) {
    let mut prev: Option<char> = None;
    for c in folded.chars() {
        if c.is_alphanumeric() {
            if let Some(p) = prev {
                out.push(p);
                out.push(c);
                out.push(' ');
            }
            prev = Some(c);
        } else {
            prev = None;
        }
    }
}

/// A FHIR date, dateTime, instant (`2024`, `2024-05`, `2024-05-01T09:30:00+09:00`) or time
/// (`09:30:00`).
fn is_date_or_time(s: &str) -> bool {
    let b = s.as_bytes();
    let date = b.len() >= 7 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5].is_ascii_digit();
    let time = b.len() >= 5 && b[..2].iter().all(u8::is_ascii_digit) && b[2] == b':' && b[3].is_ascii_digit();
    (date || time) && b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b':' | b'T' | b'.' | b'+' | b'Z'))
}

fn push_text(out: &mut String, s: &str, seen: &mut Vec<u64>) {
    let s = s.trim();
    if s.is_empty() || s.starts_with("urn:") || s.starts_with("http://") || s.starts_with("https://") {
        return;
    }
    // FNV-1a: pieces are short and few, and this runs for every string of every resource.
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    if seen.contains(&h) {
        return;
    }
    seen.push(h);
    let room = MAX_TEXT_BYTES.saturating_sub(out.len());
    let mut end = s.len().min(room);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    // One piece per line, and every piece ends with a newline: the search relies on a
    // character following every indexed word (see techo-core's search).
    out.extend(s[..end].chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }));
    out.push('\n');
}

/// The text of an XHTML narrative: tags dropped, common entities decoded, space collapsed.
pub fn strip_xhtml(div: &str) -> String {
    let mut out = String::with_capacity(div.len());
    let mut in_tag = false;
    let mut chars = div.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            '&' => {
                let mut ent = String::new();
                while let Some(&n) = chars.peek() {
                    if n == ';' || ent.len() > 10 {
                        break;
                    }
                    ent.push(n);
                    chars.next();
                }
                if chars.peek() == Some(&';') {
                    chars.next();
                }
                let decoded = match ent.as_str() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "nbsp" => Some(' '),
                    e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
                    e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
                    _ => None,
                };
                out.push(decoded.unwrap_or(' '));
            }
            _ => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn display(obj: &Map<String, Value>) -> Option<String> {
    for k in ["code", "vaccineCode", "medicationCodeableConcept", "type", "category"] {
        let cc = match obj.get(k) {
            Some(Value::Array(a)) => a.first(),
            other => other,
        };
        if let Some(cc) = cc {
            if let Some(t) = cc.get("text").and_then(Value::as_str) {
                return Some(t.to_owned());
            }
            if let Some(d) = cc
                .get("coding")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().find_map(|c| c.get("display")?.as_str()))
            {
                return Some(d.to_owned());
            }
        }
    }
    if let Some(n) = obj.get("name") {
        let n = match n {
            Value::Array(a) => a.first(),
            other => Some(other),
        };
        if let Some(n) = n {
            if let Some(s) = n.as_str() {
                return Some(s.to_owned());
            }
            if let Some(t) = n.get("text").and_then(Value::as_str) {
                return Some(t.to_owned());
            }
            let family = n.get("family").and_then(Value::as_str).unwrap_or("");
            let given: Vec<&str> = n
                .get("given")
                .and_then(Value::as_array)
                .map(|g| g.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let s = format!("{} {}", family, given.join(" ")).trim().to_owned();
            if !s.is_empty() {
                return Some(s);
            }
        }
    }
    for k in ["title", "description"] {
        if let Some(s) = obj.get(k).and_then(Value::as_str) {
            return Some(s.chars().take(200).collect());
        }
    }
    None
}

/// A hash of the resource's clinical content: everything but `id`, `meta` and the narrative,
/// with object keys in sorted order. Two copies of one record from two sources hash equal.
pub fn content_hash(resource: &Value) -> [u8; 32] {
    let mut h = HashWriter(Sha256::new());
    match resource {
        Value::Object(m) => canonical_object(m, &mut h, true),
        other => canonical(other, &mut h),
    }
    h.0.finalize().into()
}

/// Feeds JSON text straight into the hash, without building strings.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn canonical_object(m: &Map<String, Value>, h: &mut HashWriter, top: bool) {
    // the members sorted by key, values alongside (keys are unique: no look-up needed)
    let mut members: Vec<(&String, &Value)> =
        m.iter().filter(|(k, _)| !(top && matches!(k.as_str(), "id" | "meta" | "text"))).collect();
    members.sort_unstable_by(|a, b| a.0.cmp(b.0));
    h.0.update(b"{");
    for (k, v) in members {
        serde_json::to_writer(&mut *h, k).expect("hashing cannot fail");
        h.0.update(b":");
        canonical(v, h);
        h.0.update(b",");
    }
    h.0.update(b"}");
}

fn canonical(v: &Value, h: &mut HashWriter) {
    match v {
        Value::Object(m) => canonical_object(m, h, false),
        Value::Array(a) => {
            h.0.update(b"[");
            for c in a {
                canonical(c, h);
                h.0.update(b",");
            }
            h.0.update(b"]");
        }
        other => serde_json::to_writer(&mut *h, other).expect("hashing cannot fail"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_normalise_to_utc() {
        assert_eq!(normalize_date("2020").as_deref(), Some("2020-01-01T00:00:00Z"));
        assert_eq!(normalize_date("2020-05").as_deref(), Some("2020-05-01T00:00:00Z"));
        assert_eq!(normalize_date("2020-05-03").as_deref(), Some("2020-05-03T00:00:00Z"));
        assert_eq!(normalize_date("2020-05-03T09:00:00+09:00").as_deref(), Some("2020-05-03T00:00:00Z"));
        assert_eq!(normalize_date("2020-05-03T09:00:00.123Z").as_deref(), Some("2020-05-03T09:00:00Z"));
        assert_eq!(normalize_date("yesterday"), None);
        assert_eq!(normalize_date("2020-13"), None);
    }

    #[test]
    fn extracts_index_fields_of_a_japanese_condition() {
        let r = json!({
            "resourceType": "Condition", "id": "c1",
            "meta": {"tag": [{"system": "s", "code": "t"}]},
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">高血圧症 &amp; 経過観察</div>"},
            "identifier": [{"system": "urn:oid:1.2.392.100495.20.3.51.1", "value": "123"}],
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": "urn:oid:1.2.392.200119.4.101.6", "code": "8833421", "display": "高血圧症"}], "text": "高血圧症"},
            "subject": {"reference": "Patient/p1"},
            "onsetDateTime": "2019-04-01T10:00:00+09:00"
        });
        let ix = extract(&r);
        assert_eq!(ix.clinical_date.as_deref(), Some("2019-04-01T01:00:00Z"));
        assert_eq!(ix.status.as_deref(), Some("active"));
        assert!(ix.codes.contains(&("urn:oid:1.2.392.200119.4.101.6".into(), "8833421".into())));
        assert!(!ix.codes.iter().any(|(s, _)| s == "s"), "meta tags are not clinical codes");
        assert_eq!(ix.identifiers, vec![("urn:oid:1.2.392.100495.20.3.51.1".into(), "123".into())]);
        assert_eq!(ix.patient_refs, vec!["Patient/p1".to_string()]);
        assert_eq!(ix.display.as_deref(), Some("高血圧症"));
        assert!(ix.text.contains("高血圧症 & 経過観察"));
        assert!(ix.text.ends_with('\n'));
        assert!(!ix.text.contains("Patient/p1"));
    }

    #[test]
    fn content_hash_ignores_id_meta_narrative_and_key_order() {
        let p = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        let a = p(r#"{"resourceType":"Observation","id":"a","meta":{"versionId":"1"},"status":"final","valueQuantity":{"value":1.50,"unit":"mg"}}"#);
        let b = p(r#"{"valueQuantity":{"unit":"mg","value":1.50},"status":"final","resourceType":"Observation","id":"zz"}"#);
        let c: Value = serde_json::from_str(r#"{"resourceType":"Observation","status":"final","valueQuantity":{"value":1.5,"unit":"mg"}}"#).unwrap();
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c), "decimal precision is content");
    }

    #[test]
    fn text_leaves_out_dates_and_the_subjects_name() {
        let r = json!({
            "resourceType": "Observation",
            "code": {"text": "血圧"},
            "subject": {"reference": "Patient/p1", "display": "田中 太郎"},
            "performer": [{"reference": "Practitioner/d1", "display": "山崎 翔太"}],
            "effectiveDateTime": "2024-05-01T09:30:00+09:00",
            "note": [{"text": "2024-05 was fine", "time": "2024-05-02"}],
            "valueTime": "09:30:00"
        });
        assert_eq!(text(&r), "血圧\n山崎 翔太\n2024-05 was fine\n");
    }

    /// The token set as first written: fold the whole text, pair, sort, dedup.
    fn token_set_reference(text: &str) -> String {
        let folded = fold(text);
        let mut pairs: Vec<(char, char)> = Vec::new();
        let mut prev: Option<char> = None;
        for c in folded.chars() {
            if c.is_alphanumeric() {
                if let Some(p) = prev {
                    pairs.push((p, c));
                }
                prev = Some(c);
            } else {
                prev = None;
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs.iter().map(|(a, b)| format!("{a}{b} ")).collect()
    }

    #[test]
    fn the_fast_token_set_is_the_folded_one() {
        // the ideograph block is all letters without case, as the fast path assumes
        for c in ('\u{4E00}'..='\u{9FFF}').filter(|c| is_plain_ideograph(*c)) {
            assert!(c.is_alphanumeric(), "{c:?}");
            assert_eq!(c.to_lowercase().collect::<String>(), c.to_string(), "{c:?}");
        }
        for t in ["", "a", "İstanbul ΣΊΣΥΦΟΣ ẞ ǅ", "収縮期血圧 血圧 HbA1c", "2型糖尿病 ＨｂＡ１ｃ 7.2 %", "ｶﾀｶﾅ・カタカナー ㋿ ⅧⅨ", "x\u{10FFFF}y\u{1F600}z"] {
            assert_eq!(fts_token_set(t), token_set_reference(t), "{t}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_token_set_matches_the_reference(t in "\\PC{0,40}", u in "[a-zA-Z0-9 ぁ-ゟ一-龥ＡＢｃ１İẞΣ.-]{0,40}") {
            proptest::prop_assert_eq!(fts_token_set(&t), token_set_reference(&t));
            proptest::prop_assert_eq!(fts_token_set(&u), token_set_reference(&u));
        }
    }

    #[test]
    fn tokens_are_bigrams_of_words_in_any_script() {
        assert_eq!(fts_tokens("収縮期血圧\nHbA1c 8867-4\n"), "収縮 縮期 期血 血圧 hb ba a1 1c 88 86 67 ");
        assert_eq!(term_tokens("血圧"), ["血圧"]);
        assert_eq!(fts_token_set("血圧 血圧計"), "圧計 血圧 ");
        let tokens = fts_tokens("収縮期血圧 血圧 HbA1c");
        let mut all: Vec<&str> = tokens.split(' ').filter(|t| !t.is_empty()).collect();
        all.sort();
        all.dedup();
        assert_eq!(fts_token_set("収縮期血圧 血圧 HbA1c"), all.iter().map(|t| format!("{t} ")).collect::<String>());
        assert_eq!(term_tokens("HbA"), ["ba", "hb"]);
        assert_eq!(term_tokens("a-b"), Vec::<String>::new(), "no two letters side by side");
        // Every token of a term is a token of any text that contains the term.
        let text = "2型糖尿病 ＨｂＡ１ｃ 7.2 %";
        let all = fts_tokens(text);
        for term in ["糖尿", "型糖尿病", "ｈｂａ１", "ＨｂＡ１ｃ"] {
            for t in term_tokens(term) {
                assert!(all.split(' ').any(|x| x == t), "{term}: {t}");
            }
        }
    }

    #[test]
    fn text_is_capped() {
        let r = json!({"resourceType":"Basic","id":"x","note":[{"text": "あ".repeat(10_000)}]});
        assert!(extract(&r).text.len() <= MAX_TEXT_BYTES + 1);
    }
}

/// Format stability: content hashes are stored in every vault (`records.content_hash`, and the
/// key derived from it) and compared with those of later imports, so the hash of a given
/// resource must never change between versions of Techo. These values were computed once and
/// are pinned; if this test fails, the change breaks de-duplication in existing vaults.
#[cfg(test)]
mod stability {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn content_hashes_of_stored_resources_never_change() {
        let cases = [
            r#"{"resourceType":"Observation","id":"o1","meta":{"versionId":"3"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"収縮期血圧"}],"text":"最高血圧"},"valueQuantity":{"value":128.50,"unit":"mmHg"},"_status":{"extension":[{"url":"u","valueString":"\u0001\"q\"\\"}]},"note":[{"text":"a"},{"text":"b"}],"component":[]}"#,
            r#"{"resourceType":"Patient","name":[{"family":"田中","given":["拓也"],"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation","valueCode":"SYL"}]}],"birthDate":"1967-05-05","active":true,"deceasedBoolean":false,"multipleBirthInteger":-2,"z":null}"#,
            r#"{"resourceType":"Basic","nested":{"b":{"d":[1,{"y":2,"x":1e3}],"c":"\u00e9"},"a":[]},"id":"kept-out"}"#,
        ];
        let got: Vec<String> = cases.iter().map(|c| hex(&content_hash(&serde_json::from_str(c).unwrap()))).collect();
        let pinned = PINNED.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(got, pinned);
    }

    const PINNED: [&str; 3] = [
        "5ea422ef2b883f9d1d2109017346cd9af992b107fe711d3b4cbf513b548e6b82",
        "7ee2b7b0c5c5fb92a39d67cc93517d8f5dd932d510e6b2a0ac0a14798cf68cbb",
        "0c13238c1011e529976a0f1aab6b843dbfb6af05b2e795108aadce3a976eaf82",
    ];
}
