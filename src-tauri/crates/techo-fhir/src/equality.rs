//! FHIR-aware JSON equality, for round-trip tests ("what went in comes out").
//!
//! The rules, chosen to be strict wherever FHIR gives the bytes a meaning:
//!
//! - **Object key order is ignored** (JSON objects are unordered; FHIR's canonical order is not
//!   something a store has to keep).
//! - **Arrays are ordered** (FHIR repetitions are ordered, e.g. `name[0]` is the preferred name).
//! - **Numbers are compared by their exact decimal text.** The workspace enables serde_json's
//!   `arbitrary_precision`, so a `Number` keeps the text it was parsed from. FHIR says a decimal's
//!   precision is significant, so `1.50` ≠ `1.5`, `100` ≠ `1e2` and `0` ≠ `-0`. Without
//!   `arbitrary_precision` this degrades to serde_json's own number equality.
//! - **Strings are compared exactly**, including the XHTML of `text.div`: no whitespace or
//!   entity normalisation (a store must give back the narrative byte for byte).
//! - **Absent ≠ empty ≠ null**: `{}` vs `{"a": []}`, `{"a": {}}` or `{"a": null}` are all different.
//!   (FHIR forbids empty arrays/objects and nulls outside `_x` primitive-extension arrays, so a
//!   store that adds or drops them changed the document.)
//!
//! [`fhir_diff`] names the first difference as a JSON path (`$.name[0].given[1]`) plus what kind of
//! difference it is. It never prints a value: the inputs are health records, and test output ends
//! up in CI logs. Object keys are FHIR element names and are printed (non-identifier keys are
//! quoted, `$["a b"]`), array lengths and byte offsets are printed; string and number contents
//! are not.

use serde_json::Value;
use std::fmt::Write as _;

/// `true` when `a` and `b` are the same FHIR JSON under the rules in the module docs.
pub fn fhir_eq(a: &Value, b: &Value) -> bool {
    diff_at(a, b, &mut String::from("$")).is_none()
}

/// The first difference between `a` and `b` as `"<json path>: <what differs>"`, or `None` when
/// they are [`fhir_eq`]. Object members are visited in sorted key order so the answer is
/// deterministic; no string or number value is ever included.
pub fn fhir_diff(a: &Value, b: &Value) -> Option<String> {
    diff_at(a, b, &mut String::from("$"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !key.as_bytes()[0].is_ascii_digit();
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        // Keys are element names, not data; still escape them so the path stays one line.
        path.push('[');
        path.push_str(&Value::String(key.to_owned()).to_string());
        path.push(']');
    }
}

/// Byte offset of the first difference between two strings (or the shorter length).
fn first_byte_diff(a: &str, b: &str) -> usize {
    a.bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.len().min(b.len()))
}

fn diff_at(a: &Value, b: &Value, path: &mut String) -> Option<String> {
    match (a, b) {
        (Value::Null, Value::Null) => None,
        (Value::Bool(x), Value::Bool(y)) => (x != y).then(|| format!("{path}: boolean differs")),
        (Value::Number(x), Value::Number(y)) => {
            // With arbitrary_precision, Display gives back the exact source text.
            let (tx, ty) = (x.to_string(), y.to_string());
            (tx != ty).then(|| {
                format!(
                    "{path}: number differs (text lengths {} vs {})",
                    tx.len(),
                    ty.len()
                )
            })
        }
        (Value::String(x), Value::String(y)) => (x != y).then(|| {
            format!(
                "{path}: string differs at byte {} (lengths {} vs {})",
                first_byte_diff(x, y),
                x.len(),
                y.len()
            )
        }),
        (Value::Array(xs), Value::Array(ys)) => {
            let base = path.len();
            for (i, (x, y)) in xs.iter().zip(ys.iter()).enumerate() {
                let _ = write!(path, "[{i}]");
                if let Some(d) = diff_at(x, y, path) {
                    return Some(d);
                }
                path.truncate(base);
            }
            (xs.len() != ys.len())
                .then(|| format!("{path}: array length {} vs {}", xs.len(), ys.len()))
        }
        (Value::Object(xm), Value::Object(ym)) => {
            let mut keys: Vec<&String> = xm.keys().chain(ym.keys()).collect();
            keys.sort_unstable();
            keys.dedup();
            let base = path.len();
            for k in keys {
                push_key(path, k);
                let d = match (xm.get(k.as_str()), ym.get(k.as_str())) {
                    (Some(x), Some(y)) => diff_at(x, y, path),
                    (Some(_), None) => Some(format!("{path}: only in the first value")),
                    (None, Some(_)) => Some(format!("{path}: only in the second value")),
                    (None, None) => unreachable!("key came from one of the maps"),
                };
                if d.is_some() {
                    return d;
                }
                path.truncate(base);
            }
            None
        }
        _ => Some(format!("{path}: type differs ({} vs {})", kind(a), kind(b))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn v(s: &str) -> Value {
        serde_json::from_str(s).expect("test JSON parses")
    }

    #[rstest]
    #[case::identical(r#"{"resourceType":"Patient","id":"a"}"#, r#"{"resourceType":"Patient","id":"a"}"#)]
    #[case::key_order(r#"{"a":1,"b":{"x":true,"y":null}}"#, r#"{"b":{"y":null,"x":true},"a":1}"#)]
    #[case::whitespace_outside_strings("{ \"a\" : [ 1 , 2 ] }", r#"{"a":[1,2]}"#)]
    #[case::same_decimal_text(r#"{"value":1.50}"#, r#"{"value":1.50}"#)]
    #[case::big_decimal(
        r#"{"value":3.14159265358979323846264338327950288419716939937510}"#,
        r#"{"value":3.14159265358979323846264338327950288419716939937510}"#
    )]
    #[case::unicode(r#"{"text":"高血圧症 タナカ"}"#, r#"{"text":"高血圧症 タナカ"}"#)]
    #[case::escaped_vs_raw_unicode(r#"{"t":"\u9ad8"}"#, r#"{"t":"高"}"#)]
    #[case::primitive_extension_nulls(
        r#"{"given":["A",null],"_given":[null,{"extension":[]}]}"#,
        r#"{"_given":[null,{"extension":[]}],"given":["A",null]}"#
    )]
    #[case::empty_both(r#"{}"#, r#"{}"#)]
    #[case::scalars("true", "true")]
    fn equal(#[case] a: &str, #[case] b: &str) {
        let (a, b) = (v(a), v(b));
        assert!(fhir_eq(&a, &b));
        assert!(fhir_eq(&b, &a));
        assert_eq!(fhir_diff(&a, &b), None);
    }

    #[rstest]
    #[case::decimal_precision(r#"{"value":1.50}"#, r#"{"value":1.5}"#, "$.value: number differs")]
    #[case::exponent(r#"{"value":100}"#, r#"{"value":1e2}"#, "$.value: number differs")]
    #[case::negative_zero(r#"{"value":0}"#, r#"{"value":-0}"#, "$.value: number differs")]
    #[case::int_vs_decimal(r#"{"value":1}"#, r#"{"value":1.0}"#, "$.value: number differs")]
    #[case::number_vs_string(r#"{"value":1}"#, r#"{"value":"1"}"#, "$.value: type differs (number vs string)")]
    #[case::array_order(r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#, "$.a[0]: number differs")]
    #[case::array_longer(r#"{"a":[1]}"#, r#"{"a":[1,2]}"#, "$.a: array length 1 vs 2")]
    #[case::missing_key(r#"{"a":1,"b":2}"#, r#"{"a":1}"#, "$.b: only in the first value")]
    #[case::extra_key(r#"{"a":1}"#, r#"{"a":1,"b":2}"#, "$.b: only in the second value")]
    #[case::empty_array_vs_absent(r#"{"a":1,"e":[]}"#, r#"{"a":1}"#, "$.e: only in the first value")]
    #[case::empty_object_vs_absent(r#"{"e":{}}"#, r#"{}"#, "$.e: only in the first value")]
    #[case::null_vs_absent(r#"{"e":null}"#, r#"{}"#, "$.e: only in the first value")]
    #[case::empty_array_vs_object(r#"{"e":[]}"#, r#"{"e":{}}"#, "$.e: type differs (array vs object)")]
    #[case::nested_string(
        r#"{"name":[{"given":["Taro","X"]}]}"#,
        r#"{"name":[{"given":["Taro","Y"]}]}"#,
        "$.name[0].given[1]: string differs at byte 0 (lengths 1 vs 1)"
    )]
    #[case::xhtml_whitespace(
        r#"{"text":{"div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a</p></div>"}}"#,
        r#"{"text":{"div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">\n<p>a</p></div>"}}"#,
        "$.text.div: string differs at byte 42 (lengths 56 vs 57)"
    )]
    #[case::xhtml_entity(
        r#"{"div":"<div>&lt;</div>"}"#,
        r#"{"div":"<div>&#60;</div>"}"#,
        "$.div: string differs at byte 6"
    )]
    #[case::bool(r#"{"active":true}"#, r#"{"active":false}"#, "$.active: boolean differs")]
    #[case::odd_key(r#"{"a b":1}"#, r#"{"a b":2}"#, r#"$["a b"]: number differs"#)]
    #[case::first_in_key_order(r#"{"z":1,"a":1}"#, r#"{"z":2,"a":2}"#, "$.a: number differs")]
    #[case::top_level_type("[]", "{}", "$: type differs (array vs object)")]
    fn different(#[case] a: &str, #[case] b: &str, #[case] expected_prefix: &str) {
        let (a, b) = (v(a), v(b));
        assert!(!fhir_eq(&a, &b));
        assert!(!fhir_eq(&b, &a));
        let d = fhir_diff(&a, &b).expect("a difference");
        assert!(
            d.starts_with(expected_prefix),
            "diff {d:?} should start with {expected_prefix:?}"
        );
        assert!(fhir_diff(&b, &a).is_some());
    }

    #[test]
    fn diff_never_prints_values() {
        let a = v(r#"{"name":[{"family":"CANARY-SECRET-1"}],"v":12345.678}"#);
        let b = v(r#"{"name":[{"family":"CANARY-SECRET-2"}],"v":98765.4321}"#);
        let d = fhir_diff(&a, &b).unwrap();
        assert!(!d.contains("CANARY"), "{}", d.len());
        let c = v(r#"{"name":[{"family":"CANARY-SECRET-1"}],"v":98765.4321}"#);
        let d = fhir_diff(&a, &c).unwrap();
        assert!(!d.contains("12345") && !d.contains("98765"), "{}", d.len());
        let d = fhir_diff(&a, &v(r#"{"name":"CANARY-SECRET-3"}"#)).unwrap();
        assert!(!d.contains("CANARY"), "{}", d.len());
    }

    #[test]
    fn deep_documents_compare() {
        // Deep, but within serde_json's default recursion limit of 128.
        let open = "[".repeat(100);
        let close = "]".repeat(100);
        let a = v(&format!("{open}1{close}"));
        let b = v(&format!("{open}2{close}"));
        assert!(fhir_eq(&a, &a.clone()));
        let d = fhir_diff(&a, &b).unwrap();
        assert!(d.ends_with("[0]: number differs (text lengths 1 vs 1)"));
    }
}
