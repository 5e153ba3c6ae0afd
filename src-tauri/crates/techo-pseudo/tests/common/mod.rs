//! Shared test helpers: the direct-identifier collector and the leak checker.
//!
//! The collector deliberately does not use the crate's own type detection: it walks the
//! INPUT with its own simple rules and gathers every string of a HumanName (family,
//! given, text; prefixes/suffixes such as "Mr." are not identifying and are skipped),
//! every Identifier.value, ContactPoint.value, Address line/text/city/postalCode, every
//! full birthDate (YYYY-MM-DD) and every Reference.display of a reference to a
//! Patient/Practitioner/RelatedPerson/Person.
//!
//! Matching in the OUTPUT: Latin-script needles are compared as whole values and as
//! whole tokens (split on anything not alphanumeric, case-insensitive); tokens shorter
//! than 3 characters are ignored because initials and short words ("J", "Jr", "de") also
//! occur in kept clinical text and codes and identify nobody on their own. CJK needles
//! are strict: the whole value and every token of 2 or more characters must not occur as
//! a substring of any output string (CJK text has no word boundaries); a single kanji is
//! only checked as a whole value. Full birth dates are checked as substrings.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

#[derive(Default, Debug)]
pub struct Needles {
    /// (needle, what it was) for reporting.
    pub latin_values: Vec<(String, &'static str)>,
    pub latin_tokens: Vec<(String, &'static str)>,
    pub cjk: Vec<(String, &'static str)>,
    pub dates: Vec<String>,
}

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x3000..=0x303F)
}

fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty())
}

/// Role words that appear in person references' display ("Patient Peter") and in kept
/// structure (resource type names): not identifying on their own.
/// Also generic words that person references' display strings carry besides names
/// ("Annie Proband, female, born 1966", "Molecular Diagnostic Laboratory").
const ROLE_WORDS: &[&str] = &[
    "patient", "practitioner", "person", "relatedperson", "doctor", "nurse", "midwife", "the", "and", "mrs", "miss",
    "female", "male", "born", "laboratory", "molecular", "diagnostic", "diagnostics", "department", "hospital", "clinic",
    "center", "centre", "service", "services", "team", "unit", "患者",
];

/// How a collected value is matched.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Names: the whole value and every token.
    Words,
    /// Address lines/text: the whole value and every alphabetic token (house numbers
    /// alone identify nothing and collide with clinical numbers).
    AddressWords,
    /// Reference.display: the whole value and every capitalised alphabetic token.
    Display,
    /// Identifier and telecom values: the whole value only (an identifier identifies as
    /// a whole; its parts, such as `urn`, `oid` or a year, do not).
    Whole,
}

impl Needles {
    pub fn add(&mut self, s: &str, what: &'static str) {
        self.add_kind(s, what, Kind::Words)
    }

    pub fn add_kind(&mut self, s: &str, what: &'static str, kind: Kind) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        if s.chars().any(is_cjk) {
            if ROLE_WORDS.contains(&s) {
                return;
            }
            self.cjk.push((s.to_string(), what));
            if kind != Kind::Whole {
                for t in s.split(|c: char| c.is_whitespace() || c == '\u{3000}') {
                    if t.chars().count() >= 2 && t != s && !ROLE_WORDS.contains(&t) {
                        self.cjk.push((t.to_string(), what));
                    }
                }
            }
            return;
        }
        if s.chars().count() >= 3 && !ROLE_WORDS.contains(&s.to_lowercase().as_str()) {
            self.latin_values.push((s.to_lowercase(), what));
        }
        if kind == Kind::Whole {
            return;
        }
        for t in tokens(s) {
            let lt = t.to_lowercase();
            if t.chars().count() >= 3
                && !ROLE_WORDS.contains(&lt.as_str())
                && (kind == Kind::Words || t.chars().all(char::is_alphabetic))
                && (kind != Kind::Display || t.starts_with(char::is_uppercase))
            {
                self.latin_tokens.push((lt, what));
            }
        }
    }

    /// Sorts and removes duplicates.
    pub fn dedup(&mut self) {
        for v in [&mut self.latin_values, &mut self.latin_tokens, &mut self.cjk] {
            v.sort();
            v.dedup_by(|a, b| a.0 == b.0);
        }
        self.dates.sort();
        self.dates.dedup();
    }

    pub fn len(&self) -> usize {
        self.latin_values.len() + self.latin_tokens.len() + self.cjk.len() + self.dates.len()
    }

    pub fn extend(&mut self, o: Needles) {
        self.latin_values.extend(o.latin_values);
        self.latin_tokens.extend(o.latin_tokens);
        self.cjk.extend(o.cjk);
        self.dates.extend(o.dates);
    }
}

fn strings_of<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings_of(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings_of(x, out)),
        _ => {}
    }
}

const PERSON_TYPES: &[&str] = &["Patient", "Practitioner", "RelatedPerson", "Person"];

const DEFINITIONAL: &[&str] = &[
    "ActivityDefinition", "PlanDefinition", "Library", "Measure", "Questionnaire", "EventDefinition", "ResearchDefinition",
    "ResearchElementDefinition", "Evidence", "EvidenceVariable", "EffectEvidenceSynthesis", "RiskEvidenceSynthesis",
    "ChargeItemDefinition", "ObservationDefinition", "SpecimenDefinition", "CodeSystem", "ValueSet", "NamingSystem",
];

fn collect_into(key: &str, v: &Value, n: &mut Needles) {
    // Business identifiers of canonical (definitional) resources, which have a root
    // `url`, identify artifacts such as an ActivityDefinition, not people.
    let definitional = v.get("resourceType").and_then(Value::as_str).is_some_and(|t| DEFINITIONAL.contains(&t));
    if definitional || (v.get("resourceType").is_some() && v.get("url").is_some_and(Value::is_string)) {
        let mut sub = Needles::default();
        if let Value::Object(m) = v {
            for (k, x) in m {
                collect_into(k, x, &mut sub);
            }
        }
        sub.latin_values.retain(|x| x.1 != "Identifier.value");
        sub.cjk.retain(|x| x.1 != "Identifier.value");
        n.extend(sub);
        return;
    }
    match v {
        Value::Array(a) => a.iter().for_each(|x| collect_into(key, x, n)),
        Value::String(s) if key == "birthDate" && s.len() == 10 => n.dates.push(s.clone()),
        Value::Object(m) => {
            collect_object(key, m, n);
            for (k, x) in m {
                collect_into(k, x, n);
            }
        }
        _ => {}
    }
}

fn collect_object(key: &str, m: &Map<String, Value>, n: &mut Needles) {
    let s = |k: &str| m.get(k).and_then(Value::as_str);
    let human_name = (key == "name" || key == "valueHumanName") || m.contains_key("family") || m.get("given").is_some_and(Value::is_array);
    if human_name && !m.contains_key("resourceType") {
        for k in ["family", "text"] {
            if let Some(x) = s(k) {
                n.add(x, "HumanName");
            }
        }
        if let Some(Value::Array(g)) = m.get("given") {
            g.iter().filter_map(Value::as_str).for_each(|x| n.add(x, "HumanName.given"));
        }
    }
    if key.ends_with("dentifier") || key == "identifier" {
        if let Some(x) = s("value") {
            n.add_kind(x, "Identifier.value", Kind::Whole);
        }
    }
    if key == "telecom" || key == "valueContactPoint" {
        if let Some(x) = s("value") {
            n.add_kind(x, "ContactPoint.value", Kind::Whole);
        }
    }
    if key == "address" || key == "valueAddress" {
        for k in ["text", "city", "postalCode"] {
            if let Some(x) = s(k) {
                n.add_kind(x, "Address", if k == "text" { Kind::AddressWords } else { Kind::Whole });
            }
        }
        if let Some(Value::Array(l)) = m.get("line") {
            l.iter().filter_map(Value::as_str).for_each(|x| n.add_kind(x, "Address.line", Kind::AddressWords));
        }
    }
    if let Some(d) = s("display") {
        let to_person = s("reference").is_some_and(|r| PERSON_TYPES.iter().any(|t| r.starts_with(&format!("{t}/")) || r.contains(&format!("/{t}/"))))
            || s("type").is_some_and(|t| PERSON_TYPES.contains(&t));
        if to_person && !m.contains_key("code") {
            n.add_kind(d, "Reference.display", Kind::Display);
        }
    }
}

/// Every direct identifier of `input`.
pub fn collect(input: &Value) -> Needles {
    let mut n = Needles::default();
    collect_into("", input, &mut n);
    n
}

fn paths_of(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((path.to_string(), s.clone())),
        Value::Array(a) => a.iter().for_each(|x| paths_of(x, path, out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            // Mark terminology text: the display of a Coding.
            let p = if k == "display" && m.contains_key("code") { format!("{path}.coding.display") } else { format!("{path}.{k}") };
            paths_of(x, &p, out)
        }),
        _ => {}
    }
}

/// Where `needle` occurs in `output` (for failure messages).
pub fn whereabouts(needle: &str, output: &Value) -> String {
    let mut all = Vec::new();
    paths_of(output, "", &mut all);
    let n = needle.to_lowercase();
    all.iter()
        .filter(|(p, s)| !p.ends_with("coding.display") && s.to_lowercase().contains(&n))
        .take(2)
        .map(|(p, s)| format!("{p}={:?}", s.chars().take(80).collect::<String>()))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The leaks of `needles` in `output`, as readable lines (empty = none).
///
/// Terminology text is not the person's: inside a Coding `display` a CJK needle is only
/// a leak when it is a full name (has a space or 4+ characters) equal to the display, and identifier/telecom values are not
/// compared with Coding `code`s (a claim identifier `123456` and a diagnosis code
/// `123456` are unrelated).
pub fn leaks(needles: &Needles, output: &Value) -> Vec<String> {
    let mut with_paths = Vec::new();
    paths_of(output, "", &mut with_paths);
    let strs: Vec<&str> = with_paths.iter().filter(|(p, _)| !p.ends_with("coding.display")).map(|(_, s)| s.as_str()).collect();
    let displays: HashSet<&str> = with_paths.iter().filter(|(p, _)| p.ends_with("coding.display")).map(|(_, s)| s.trim()).collect();
    let values: HashSet<String> = with_paths.iter().map(|(_, s)| s.trim().to_lowercase()).collect();
    let non_code_values: HashSet<String> =
        with_paths.iter().filter(|(p, _)| !p.ends_with(".code")).map(|(_, s)| s.trim().to_lowercase()).collect();
    let toks: HashSet<String> = with_paths.iter().flat_map(|(_, s)| tokens(s)).map(str::to_lowercase).collect();
    let mut found = BTreeSet::new();
    for (v, what) in &needles.latin_values {
        let set = if *what == "Identifier.value" || *what == "ContactPoint.value" { &non_code_values } else { &values };
        if set.contains(v) {
            found.insert(format!("{what}: whole value {v:?} at {}", whereabouts(v, output)));
        }
    }
    for (t, what) in &needles.latin_tokens {
        if toks.contains(t) {
            found.insert(format!("{what}: token {t:?} at {}", whereabouts(t, output)));
        }
    }
    let joined = strs.join("\u{1}");
    for (c, what) in &needles.cjk {
        let single = c.chars().count() < 2;
        let hit = if single { strs.iter().any(|s| s.trim() == c) } else { joined.contains(c.as_str()) };
        // In terminology text only a full name (with a space, or 4+ characters) counts: a
        // 2-character family name can be a clinical word (健診 = health check-up).
        let full = c.contains(char::is_whitespace) || c.chars().count() >= 4;
        if hit || (full && displays.contains(c.as_str())) {
            found.insert(format!("{what}: CJK {c:?} at {}", whereabouts(c, output)));
        }
    }
    for d in &needles.dates {
        if joined.contains(d.as_str()) {
            found.insert(format!("birthDate {d:?}"));
        }
    }
    found.into_iter().collect()
}

/// Keys whose subtrees the research profile removes on purpose (so their codes and
/// quantities are not expected in the output).
const REMOVED_ZONES: &[&str] = &["contact", "document", "attachment", "presentedForm", "telecom", "address", "note", "photo", "link", "signature", "udiCarrier", "position"];

fn codes_into(key: &str, v: &Value, codes: &mut BTreeSet<(String, String)>, qty: &mut BTreeSet<(String, String)>) {
    if REMOVED_ZONES.contains(&key) || (key == "name" && v.is_object()) || (key == "text" && v.get("div").is_some()) {
        return;
    }
    match v {
        Value::Array(a) => a.iter().for_each(|x| codes_into(key, x, codes, qty)),
        Value::Object(m) => {
            if let (Some(Value::String(s)), Some(Value::String(c))) = (m.get("system"), m.get("code")) {
                codes.insert((s.clone(), c.clone()));
            }
            if let (Some(Value::Number(x)), Some(u)) = (m.get("value"), m.get("unit").or(m.get("code")).and_then(Value::as_str)) {
                qty.insert((x.to_string(), u.to_string()));
            }
            for (k, x) in m {
                codes_into(k, x, codes, qty);
            }
        }
        _ => {}
    }
}

/// (system, code) pairs and (quantity value, unit) pairs outside removed zones.
pub type Pairs = BTreeSet<(String, String)>;

pub fn codes_and_quantities(v: &Value) -> (Pairs, Pairs) {
    let (mut c, mut q) = (BTreeSet::new(), BTreeSet::new());
    codes_into("", v, &mut c, &mut q);
    (c, q)
}

/// Empty objects / arrays anywhere (the output must be pruned).
pub fn find_empty(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.is_empty() {
                out.push(path.to_string());
            }
            for (k, x) in m {
                find_empty(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            if a.is_empty() {
                out.push(path.to_string());
            }
            for x in a {
                find_empty(x, path, out);
            }
        }
        _ => {}
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// The first existing folder of: env `var`, then the candidates.
pub fn data_dir(var: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(var) {
        let p = PathBuf::from(v);
        if p.is_dir() {
            return Some(p);
        }
    }
    candidates.iter().find(|p| p.is_dir()).cloned()
}

/// All `*.json` files under `dir`, recursively, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
