//! Offline structural checks of a patient summary document Bundle: the rules of FHIR documents
//! and of the IPS implementation guide (`Bundle-uv-ips`, `Composition-uv-ips`, `ips-comp-1`,
//! `bdl-ips-1`) that need no terminology server and no profile snapshots, plus the six sections
//! of the Japanese variant ([`check_jp_six`]).
//!
//! Every function returns the issues found (empty: passes). An issue names a `rule` (a stable
//! id), a `path` into the Bundle (`entry[3].resource.subject`) and a message; messages name
//! rules, paths, codes and resource types, never resource content.
//!
//! - [`check_document`]: the Bundle and reference rules any document meets: `type` document,
//!   `identifier`, `timestamp` (an instant), entries with a `resource` with a `resourceType` and a
//!   unique absolute `fullUrl`, no resource twice, the Composition first and alone, and every
//!   reference in every resource resolving to an entry's fullUrl (or `#` to a contained
//!   resource; display- or identifier-only references have nothing to resolve).
//! - [`check_ips`]: [`check_document`], the Composition's required elements (status, type
//!   LOINC 60591-5, subject → the Patient entry, date, author, title, sections), the required
//!   sections (problems 11450-4, medications 10160-0, allergies 48765-2), each IPS section at most
//!   once, and the section rules below.
//! - [`check_jp_six`]: [`check_document`], the same Composition elements (any type), and the six
//!   sections of [`crate::ips::JP_SIX_SECTIONS`] with their codes and titles, 薬剤禁忌 holding
//!   only contraindications (category medication, criticality high) and 感染症 only infection
//!   tests.
//!
//! Section rules: a title, a code, a `text` whose `div` is well-formed XHTML with the XHTML
//! namespace and nothing FHIR narrative forbids, entries (each a reference resolving to an entry
//! of a type the section allows) or an `emptyReason` but not both, no nested sections (IPS); the
//! subject/patient of every clinical resource is the Composition's subject.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::ips::{is_drug_contraindication, is_infection_test, is_instant, SectionSpec, IPS_SECTIONS, JP_SIX_SECTIONS, LOINC, PATIENT_SUMMARY_LOINC};

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpsIssue {
    /// Where, as a path into the Bundle (`entry[0].resource.section[2].text`).
    pub path: String,
    /// Which rule (a stable id such as `reference-resolves`).
    pub rule: &'static str,
    pub message: String,
}

impl std::fmt::Display for IpsIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}: {}", self.rule, self.path, self.message)
    }
}

/// Resource types whose subject/patient is the person the document is about.
fn subject_key(rtype: &str) -> Option<&'static str> {
    match rtype {
        "AllergyIntolerance" | "Immunization" => Some("patient"),
        "Condition" | "Observation" | "MedicationStatement" | "MedicationRequest" | "MedicationAdministration" | "MedicationDispense"
        | "Procedure" | "DiagnosticReport" | "CarePlan" | "DeviceUseStatement" | "ClinicalImpression" | "Flag" => Some("subject"),
        _ => None,
    }
}

struct Issues(Vec<IpsIssue>);

impl Issues {
    fn add(&mut self, path: impl Into<String>, rule: &'static str, message: impl Into<String>) {
        self.0.push(IpsIssue { path: path.into(), rule, message: message.into() });
    }
}

fn st<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k)?.as_str()
}

fn has_coding(cc: Option<&Value>, system: &str, code: &str) -> bool {
    cc.and_then(|c| c.get("coding")).and_then(Value::as_array).into_iter().flatten().any(|c| st(c, "system") == Some(system) && st(c, "code") == Some(code))
}

/// What the document-level checks learn, for the Composition checks.
struct Doc<'a> {
    entries: Vec<&'a Value>,
    /// fullUrl → entry index.
    urls: HashMap<&'a str, usize>,
}

impl<'a> Doc<'a> {
    fn resource(&self, i: usize) -> Option<&'a Value> {
        self.entries.get(i).and_then(|e| e.get("resource"))
    }

    /// The entry a reference string resolves to.
    fn target(&self, r: &str) -> Option<usize> {
        if let Some(&i) = self.urls.get(r) {
            return Some(i);
        }
        // A relative `Type/id` resolves against a RESTful fullUrl ending in it.
        if !r.contains(':') && r.matches('/').count() == 1 {
            let suffix = format!("/{r}");
            return self.urls.iter().filter(|(u, _)| u.starts_with("http") && u.ends_with(&suffix)).map(|(_, &i)| i).min();
        }
        None
    }
}

/// The document rules (see the module documentation).
pub fn check_document(bundle: &Value) -> Vec<IpsIssue> {
    let mut is = Issues(Vec::new());
    document(bundle, &mut is);
    is.0
}

/// The IPS rules (see the module documentation).
pub fn check_ips(bundle: &Value) -> Vec<IpsIssue> {
    let mut is = Issues(Vec::new());
    if let Some(doc) = document(bundle, &mut is) {
        if let Some(comp) = composition(&doc, &mut is) {
            ips_sections(&doc, comp, &mut is);
        }
    }
    is.0
}

/// The rules of the Japanese six-item variant (see the module documentation).
pub fn check_jp_six(bundle: &Value) -> Vec<IpsIssue> {
    let mut is = Issues(Vec::new());
    if let Some(doc) = document(bundle, &mut is) {
        if let Some(comp) = composition(&doc, &mut is) {
            jp_sections(&doc, comp, &mut is);
        }
    }
    is.0
}

fn document<'a>(bundle: &'a Value, is: &mut Issues) -> Option<Doc<'a>> {
    if !bundle.is_object() {
        is.add("", "bundle", "the document is not a JSON object");
        return None;
    }
    if st(bundle, "resourceType") != Some("Bundle") {
        is.add("resourceType", "bundle", "the resource is not a Bundle");
        return None;
    }
    if st(bundle, "type") != Some("document") {
        is.add("type", "bundle-type", "Bundle.type must be `document`");
    }
    match bundle.get("identifier") {
        Some(i) if st(i, "system").is_some_and(|s| !s.is_empty()) && st(i, "value").is_some_and(|s| !s.is_empty()) => {}
        _ => is.add("identifier", "bundle-identifier", "a document Bundle needs an identifier with a system and a value"),
    }
    match st(bundle, "timestamp") {
        Some(t) if is_instant(t) => {}
        Some(_) => is.add("timestamp", "bundle-timestamp", "Bundle.timestamp is not an instant (date-time with seconds and a time zone)"),
        None => is.add("timestamp", "bundle-timestamp", "a document Bundle needs a timestamp"),
    }
    let entries: Vec<&Value> = match bundle.get("entry").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => a.iter().collect(),
        _ => {
            is.add("entry", "bundle-entry", "a document Bundle needs entries (the Composition first)");
            return None;
        }
    };
    let mut doc = Doc { entries, urls: HashMap::new() };
    let mut ids: HashSet<(String, String)> = HashSet::new();
    let mut contents: HashSet<String> = HashSet::new();
    for (i, e) in doc.entries.iter().enumerate() {
        let p = format!("entry[{i}]");
        for k in ["request", "response", "search"] {
            if e.get(k).is_some() {
                is.add(format!("{p}.{k}"), "entry-transaction", format!("a document entry has no `{k}`"));
            }
        }
        match st(e, "fullUrl") {
            Some(u) if is_absolute(u) => {
                if doc.urls.insert(u, i).is_some() {
                    is.add(format!("{p}.fullUrl"), "full-url-unique", "two entries have the same fullUrl");
                }
            }
            Some(_) => is.add(format!("{p}.fullUrl"), "full-url", "fullUrl is not an absolute URI (urn:uuid:, urn:oid: or http(s))"),
            None => is.add(format!("{p}.fullUrl"), "full-url", "the entry has no fullUrl"),
        }
        let Some(r) = e.get("resource").filter(|r| r.is_object()) else {
            is.add(format!("{p}.resource"), "entry-resource", "the entry has no resource");
            continue;
        };
        let Some(t) = st(r, "resourceType").filter(|t| !t.is_empty()) else {
            is.add(format!("{p}.resource.resourceType"), "resource-type", "the resource has no resourceType");
            continue;
        };
        if let Some(id) = st(r, "id") {
            if !ids.insert((t.to_owned(), id.to_owned())) {
                is.add(format!("{p}.resource.id"), "entry-duplicate", format!("a {t} with this id is in the Bundle twice"));
            }
        } else if !contents.insert(r.to_string()) {
            is.add(format!("{p}.resource"), "entry-duplicate", format!("this {t} is in the Bundle twice"));
        }
        if let (Some(u), Some(id)) = (st(e, "fullUrl"), st(r, "id")) {
            if u.starts_with("http") && !u.split("/_history/").next().unwrap_or(u).ends_with(&format!("/{t}/{id}")) {
                is.add(format!("{p}.fullUrl"), "full-url-id", "a RESTful fullUrl must end with the resource's type and id");
            }
        }
    }
    match doc.resource(0).and_then(|r| st(r, "resourceType")) {
        Some("Composition") => {}
        _ => is.add("entry[0].resource", "first-entry-composition", "the first entry of a document must be its Composition"),
    }
    for i in 1..doc.entries.len() {
        if doc.resource(i).and_then(|r| st(r, "resourceType")) == Some("Composition") {
            is.add(format!("entry[{i}].resource"), "single-composition", "a patient summary has no Composition besides the first (bdl-ips-1)");
        }
    }
    // Every reference resolves.
    for i in 0..doc.entries.len() {
        let Some(r) = doc.resource(i) else { continue };
        let contained: HashSet<&str> = r.get("contained").and_then(Value::as_array).into_iter().flatten().filter_map(|c| st(c, "id")).collect();
        let mut refs = Vec::new();
        walk_refs(r, &format!("entry[{i}].resource"), &mut refs);
        for (path, target) in refs {
            if let Some(id) = target.strip_prefix('#') {
                if !id.is_empty() && !contained.contains(id) {
                    is.add(path, "contained-reference", "a #reference names no contained resource of this resource");
                }
            } else if doc.target(target).is_none() {
                is.add(path, "reference-resolves", "the reference does not resolve to an entry of the Bundle");
            }
        }
    }
    Some(doc)
}

fn is_absolute(u: &str) -> bool {
    let uuid = u.strip_prefix("urn:uuid:").is_some_and(|x| {
        let parts: Vec<&str> = x.split('-').collect();
        parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    uuid || u.strip_prefix("urn:oid:").is_some_and(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        || u.starts_with("http://")
        || u.starts_with("https://")
}

/// `(path, reference)` of every `reference` string under `v` (narrative excluded).
fn walk_refs<'v>(v: &'v Value, path: &str, out: &mut Vec<(String, &'v str)>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("reference") {
                out.push((format!("{path}.reference"), r));
            }
            for (k, x) in o {
                if k != "div" && k != "reference" {
                    walk_refs(x, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk_refs(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The Composition's required elements; returns the Composition when there is one.
fn composition<'a>(doc: &Doc<'a>, is: &mut Issues) -> Option<&'a Value> {
    let c = doc.resource(0).filter(|r| st(r, "resourceType") == Some("Composition"))?;
    let p = "entry[0].resource";
    match st(c, "status") {
        Some("preliminary" | "final" | "amended") => {}
        Some(_) => is.add(format!("{p}.status"), "composition-status", "Composition.status must be preliminary, final or amended"),
        None => is.add(format!("{p}.status"), "composition-status", "the Composition has no status"),
    }
    if !has_coding(c.get("type"), LOINC, PATIENT_SUMMARY_LOINC) {
        is.add(format!("{p}.type"), "composition-type", "Composition.type must be LOINC 60591-5 (Patient summary Document)");
    }
    match c.get("subject").and_then(|s| st(s, "reference")) {
        Some(r) => match doc.target(r).and_then(|i| doc.resource(i)).and_then(|x| st(x, "resourceType")) {
            Some("Patient") => {}
            Some(_) => is.add(format!("{p}.subject"), "composition-subject", "Composition.subject must reference the Patient entry"),
            None => is.add(format!("{p}.subject"), "composition-subject", "Composition.subject does not resolve to an entry"),
        },
        None => is.add(format!("{p}.subject"), "composition-subject", "the Composition has no subject reference"),
    }
    match st(c, "date") {
        Some(d) if d.len() >= 10 && d.as_bytes()[4] == b'-' => {}
        _ => is.add(format!("{p}.date"), "composition-date", "the Composition has no date"),
    }
    if c.get("author").and_then(Value::as_array).is_none_or(|a| a.is_empty()) {
        is.add(format!("{p}.author"), "composition-author", "the Composition needs at least one author");
    }
    if st(c, "title").is_none_or(|t| t.trim().is_empty()) {
        is.add(format!("{p}.title"), "composition-title", "the Composition has no title");
    }
    if c.get("section").and_then(Value::as_array).is_none_or(|a| a.is_empty()) {
        is.add(format!("{p}.section"), "composition-section", "the Composition has no section");
    }
    clinical_subjects(doc, c, is);
    Some(c)
}

/// The subject/patient of every clinical resource is the Composition's subject; those a section
/// lists must say so.
fn clinical_subjects(doc: &Doc, c: &Value, is: &mut Issues) {
    let Some(subject) = c.get("subject").and_then(|s| st(s, "reference")) else { return };
    let subject_entry = doc.target(subject);
    let listed: HashSet<usize> = c
        .get("section")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(all_sections)
        .flat_map(|s| s.get("entry").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|e| st(e, "reference"))
        .filter_map(|r| doc.target(r))
        .collect();
    for i in 1..doc.entries.len() {
        let Some(r) = doc.resource(i) else { continue };
        let Some(k) = st(r, "resourceType").and_then(subject_key) else { continue };
        let path = format!("entry[{i}].resource.{k}");
        match r.get(k).and_then(|s| st(s, "reference")) {
            Some(x) if doc.target(x).is_some() && doc.target(x) == subject_entry => {}
            Some(_) => is.add(path, "subject-is-patient", "the resource's subject/patient is not the Composition's subject"),
            None if listed.contains(&i) => is.add(path, "subject-is-patient", "a resource listed in a section must reference the Composition's subject"),
            None => {}
        }
    }
}

fn all_sections(s: &Value) -> Vec<&Value> {
    let mut v = vec![s];
    for sub in s.get("section").and_then(Value::as_array).into_iter().flatten() {
        v.extend(all_sections(sub));
    }
    v
}

/// Rules every section meets; `allowed` the entry types of its kind when known.
fn section_rules(doc: &Doc, s: &Value, path: &str, allowed: Option<&[&str]>, is: &mut Issues) {
    if st(s, "title").is_none_or(|t| t.trim().is_empty()) {
        is.add(format!("{path}.title"), "section-title", "the section has no title");
    }
    let has_code = s.get("code").and_then(|c| c.get("coding")).and_then(Value::as_array).is_some_and(|a| a.iter().any(|c| st(c, "code").is_some()));
    if !has_code {
        is.add(format!("{path}.code"), "section-code", "the section has no coded code");
    }
    match s.get("text").and_then(|t| st(t, "div")) {
        Some(div) => {
            if let Some(problem) = xhtml_problem(div) {
                is.add(format!("{path}.text.div"), "section-text", format!("the section narrative is not valid FHIR XHTML: {problem}"));
            }
            if s.get("text").and_then(|t| st(t, "status")).is_none() {
                is.add(format!("{path}.text.status"), "section-text", "the section narrative has no status");
            }
        }
        None => is.add(format!("{path}.text"), "section-text", "the section has no narrative text"),
    }
    let entries: Vec<&Value> = s.get("entry").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let empty_reason = s.get("emptyReason").is_some();
    if entries.is_empty() && !empty_reason {
        is.add(path, "section-empty", "a section without entries needs an emptyReason (ips-comp-1)");
    }
    if !entries.is_empty() && empty_reason {
        is.add(format!("{path}.emptyReason"), "section-empty", "a section with entries must not have an emptyReason");
    }
    for (j, e) in entries.iter().enumerate() {
        let ep = format!("{path}.entry[{j}]");
        let Some(r) = st(e, "reference") else {
            is.add(ep, "section-entry-reference", "a section entry must be a reference to an entry");
            continue;
        };
        let Some(t) = doc.target(r).and_then(|i| doc.resource(i)).and_then(|x| st(x, "resourceType")) else {
            // reference-resolves reports it.
            continue;
        };
        if let Some(allowed) = allowed {
            if !allowed.contains(&t) {
                is.add(ep, "section-entry-type", format!("a {t} is not allowed in this section (allowed: {})", allowed.join(", ")));
            }
        }
    }
}

fn spec_of<'s>(s: &Value, specs: &'s [SectionSpec]) -> Option<&'s SectionSpec> {
    specs.iter().find(|spec| has_coding(s.get("code"), spec.system(), spec.code()))
}

fn ips_sections(doc: &Doc, c: &Value, is: &mut Issues) {
    let sections: Vec<&Value> = c.get("section").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, s) in sections.iter().enumerate() {
        let path = format!("entry[0].resource.section[{i}]");
        let spec = spec_of(s, IPS_SECTIONS);
        if let Some(spec) = spec {
            *seen.entry(spec.key).or_default() += 1;
            if seen[spec.key] == 2 {
                is.add(format!("{path}.code"), "section-cardinality", format!("the IPS has at most one section with LOINC {}", spec.code()));
            }
        }
        if s.get("section").is_some() {
            is.add(format!("{path}.section"), "section-nested", "IPS sections have no sub-sections");
        }
        section_rules(doc, s, &path, spec.map(|x| x.entry_types), is);
    }
    for spec in IPS_SECTIONS.iter().filter(|s| s.required) {
        if !seen.contains_key(spec.key) {
            is.add("entry[0].resource.section", "required-section", format!("the IPS needs the {} section (LOINC {})", spec.title_en, spec.code()));
        }
    }
}

fn jp_sections(doc: &Doc, c: &Value, is: &mut Issues) {
    let sections: Vec<&Value> = c.get("section").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, s) in sections.iter().enumerate() {
        let path = format!("entry[0].resource.section[{i}]");
        let spec = spec_of(s, JP_SIX_SECTIONS);
        section_rules(doc, s, &path, spec.map(|x| x.entry_types), is);
        let Some(spec) = spec else { continue };
        if !seen.insert(spec.key) {
            is.add(format!("{path}.code"), "section-cardinality", format!("the six-item summary has one {} section", spec.title_ja));
        }
        if st(s, "title") != Some(spec.title_ja) {
            is.add(format!("{path}.title"), "jp-six-title", format!("the section with code {} must be titled {}", spec.code(), spec.title_ja));
        }
        for (j, e) in s.get("entry").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let Some(r) = st(e, "reference").and_then(|r| doc.target(r)).and_then(|x| doc.resource(x)) else { continue };
            let ep = format!("{path}.entry[{j}]");
            match spec.key {
                "jp-contraindications" if !is_drug_contraindication(r) => {
                    is.add(ep, "jp-six-contraindication", "薬剤禁忌 lists only AllergyIntolerances with category medication and criticality high")
                }
                "jp-allergies" if is_drug_contraindication(r) => is.add(ep, "jp-six-contraindication", "a drug contraindication belongs in 薬剤禁忌, not アレルギー"),
                "jp-infections" if !is_infection_test(r) => is.add(ep, "jp-six-infection", "感染症 lists only the infection tests (HBs, HCV, HIV, syphilis)"),
                "jp-labs" if is_infection_test(r) => is.add(ep, "jp-six-infection", "an infection test belongs in 感染症, not 検査"),
                _ => {}
            }
        }
    }
    for spec in JP_SIX_SECTIONS {
        if !seen.contains(spec.key) {
            is.add("entry[0].resource.section", "jp-six-section", format!("the six-item summary needs the {} section ({} {})", spec.title_ja, spec.system(), spec.code()));
        }
    }
}

/// Why a narrative `div` is not the XHTML FHIR allows (None: it is).
fn xhtml_problem(div: &str) -> Option<String> {
    let root = div.trim();
    if !root.starts_with("<div") {
        return Some("it does not start with a div element".into());
    }
    let Some(first_end) = root.find('>') else { return Some("the div tag is not closed".into()) };
    if !root[..first_end].contains("xmlns=\"http://www.w3.org/1999/xhtml\"") && !root[..first_end].contains("xmlns='http://www.w3.org/1999/xhtml'") {
        return Some("the div lacks the XHTML namespace".into());
    }
    const FORBIDDEN: &[&str] = &["script", "form", "iframe", "frame", "frameset", "object", "embed", "applet", "head", "body", "base", "link", "meta", "style", "input", "button"];
    let b = root.as_bytes();
    let mut stack: Vec<&str> = Vec::new();
    let mut i = 0;
    let mut closed_root = false;
    while i < b.len() {
        match b[i] {
            b'<' => {
                if closed_root {
                    return Some("content after the root div".into());
                }
                if root[i..].starts_with("<!--") {
                    let Some(end) = root[i..].find("-->") else { return Some("a comment is not closed".into()) };
                    i += end + 3;
                    continue;
                }
                // The tag's end, quotes respected.
                let mut j = i + 1;
                let mut quote: Option<u8> = None;
                while j < b.len() {
                    match (quote, b[j]) {
                        (None, b'"' | b'\'') => quote = Some(b[j]),
                        (Some(q), c) if c == q => quote = None,
                        (None, b'>') => break,
                        (None, b'<') => return Some("a tag is not closed".into()),
                        _ => {}
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return Some("a tag is not closed".into());
                }
                let tag = &root[i + 1..j];
                if let Some(name) = tag.strip_prefix('/') {
                    let name = name.trim();
                    match stack.pop() {
                        Some(open) if open == name => {}
                        _ => return Some(format!("</{name}> does not close the open element")),
                    }
                    if stack.is_empty() {
                        closed_root = true;
                    }
                } else {
                    let self_closing = tag.ends_with('/');
                    let body = tag.trim_end_matches('/');
                    let name = body.split(|c: char| c.is_whitespace()).next().unwrap_or("");
                    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b':' || c == b'-' || c == b'_') {
                        return Some("a tag has no valid name".into());
                    }
                    if FORBIDDEN.contains(&name.to_ascii_lowercase().as_str()) {
                        return Some(format!("<{name}> is not allowed in FHIR narrative"));
                    }
                    for attr in body[name.len()..].split_whitespace() {
                        if attr.to_ascii_lowercase().starts_with("on") && attr.contains('=') {
                            return Some("event attributes are not allowed in FHIR narrative".into());
                        }
                    }
                    if !self_closing {
                        stack.push(name);
                    } else if stack.is_empty() {
                        closed_root = true;
                    }
                }
                i = j + 1;
            }
            b'&' => {
                let rest = &root[i + 1..];
                let Some(end) = rest.find(';') else { return Some("an & is not the start of an entity".into()) };
                let ent = &rest[..end];
                let ok = (!ent.is_empty() && ent.bytes().all(|c| c.is_ascii_alphanumeric()) && ent.as_bytes()[0].is_ascii_alphabetic())
                    || ent.strip_prefix("#x").is_some_and(|h| !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()))
                    || ent.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()));
                if !ok {
                    return Some("an & is not the start of an entity".into());
                }
                i += end + 2;
            }
            c => {
                if closed_root && !c.is_ascii_whitespace() {
                    return Some("content after the root div".into());
                }
                i += 1;
            }
        }
    }
    if !stack.is_empty() || !closed_root {
        return Some("an element is not closed".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P: &str = "urn:uuid:00000000-0000-4000-8000-000000000001";
    const C: &str = "urn:uuid:00000000-0000-4000-8000-000000000002";
    const A: &str = "urn:uuid:00000000-0000-4000-8000-000000000003";
    const M: &str = "urn:uuid:00000000-0000-4000-8000-000000000004";
    const O: &str = "urn:uuid:00000000-0000-4000-8000-000000000005";
    const ORG: &str = "urn:uuid:00000000-0000-4000-8000-000000000006";
    const DOC: &str = "urn:uuid:00000000-0000-4000-8000-000000000000";

    fn text(s: &str) -> Value {
        json!({ "status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{s}</p></div>") })
    }

    fn sec(code: &str, title: &str, entries: &[&str]) -> Value {
        json!({
            "title": title,
            "code": { "coding": [{ "system": "http://loinc.org", "code": code }] },
            "text": text(title),
            "entry": entries.iter().map(|e| json!({ "reference": e })).collect::<Vec<_>>(),
        })
    }

    /// A small valid IPS written by hand (independent of the builder).
    fn valid() -> Value {
        json!({
            "resourceType": "Bundle",
            "identifier": { "system": "urn:ietf:rfc:3986", "value": DOC },
            "type": "document",
            "timestamp": "2025-01-01T09:00:00+09:00",
            "entry": [
                { "fullUrl": DOC, "resource": {
                    "resourceType": "Composition", "id": "c", "status": "final",
                    "type": { "coding": [{ "system": "http://loinc.org", "code": "60591-5" }] },
                    "subject": { "reference": P }, "date": "2025-01-01T09:00:00+09:00",
                    "author": [{ "display": "Techo" }], "title": "International Patient Summary",
                    "section": [
                        sec("11450-4", "Problems", &[C]),
                        sec("10160-0", "Medications", &[M]),
                        sec("48765-2", "Allergies", &[A]),
                        sec("30954-2", "Results", &[O]),
                    ],
                }},
                { "fullUrl": P, "resource": { "resourceType": "Patient", "id": "p", "name": [{ "text": "X" }] } },
                { "fullUrl": C, "resource": { "resourceType": "Condition", "id": "c1", "code": { "text": "x" }, "subject": { "reference": P } } },
                { "fullUrl": M, "resource": { "resourceType": "MedicationStatement", "id": "m1", "status": "active",
                    "medicationCodeableConcept": { "text": "x" }, "subject": { "reference": P },
                    "informationSource": { "reference": ORG }, "derivedFrom": [{ "display": "an old prescription" }] } },
                { "fullUrl": A, "resource": { "resourceType": "AllergyIntolerance", "id": "a1", "patient": { "reference": P },
                    "contained": [{ "resourceType": "Practitioner", "id": "r1" }], "recorder": { "reference": "#r1" } } },
                { "fullUrl": O, "resource": { "resourceType": "Observation", "id": "o1", "status": "final", "code": { "text": "x" }, "subject": { "reference": P } } },
                { "fullUrl": ORG, "resource": { "resourceType": "Organization", "id": "org", "name": "A" } },
            ],
        })
    }

    fn rules(issues: &[IpsIssue]) -> Vec<&'static str> {
        issues.iter().map(|i| i.rule).collect()
    }

    /// `f` breaks the valid bundle; the checker must report `rule`.
    fn fails(rule: &'static str, f: impl FnOnce(&mut Value)) {
        let mut b = valid();
        f(&mut b);
        let issues = check_ips(&b);
        assert!(rules(&issues).contains(&rule), "expected {rule}, got {:?}", rules(&issues));
    }

    fn comp(b: &mut Value) -> &mut Value {
        &mut b["entry"][0]["resource"]
    }

    #[test]
    fn the_hand_written_ips_passes() {
        let issues = check_ips(&valid());
        assert!(issues.is_empty(), "{issues:?}");
        assert!(check_document(&valid()).is_empty());
    }

    #[test]
    fn not_a_document() {
        fails("bundle-type", |b| b["type"] = json!("collection"));
        assert_eq!(rules(&check_ips(&json!({ "resourceType": "Patient" }))), ["bundle"]);
        assert_eq!(rules(&check_ips(&json!([1]))), ["bundle"]);
    }

    #[test]
    fn missing_identifier() {
        fails("bundle-identifier", |b| {
            b.as_object_mut().unwrap().remove("identifier");
        });
    }

    #[test]
    fn bad_timestamp() {
        fails("bundle-timestamp", |b| b["timestamp"] = json!("2025-01-01"));
        fails("bundle-timestamp", |b| {
            b.as_object_mut().unwrap().remove("timestamp");
        });
    }

    #[test]
    fn missing_full_url() {
        fails("full-url", |b| {
            b["entry"][2].as_object_mut().unwrap().remove("fullUrl");
        });
        fails("full-url", |b| b["entry"][2]["fullUrl"] = json!("Condition/c1"));
    }

    #[test]
    fn duplicate_full_url() {
        fails("full-url-unique", |b| b["entry"][6]["fullUrl"] = json!(O));
    }

    #[test]
    fn entry_without_resource() {
        fails("entry-resource", |b| {
            b["entry"][6].as_object_mut().unwrap().remove("resource");
        });
    }

    #[test]
    fn resource_without_type() {
        fails("resource-type", |b| {
            b["entry"][6]["resource"].as_object_mut().unwrap().remove("resourceType");
        });
    }

    #[test]
    fn duplicated_entry() {
        fails("entry-duplicate", |b| {
            let mut dup = b["entry"][6].clone();
            dup["fullUrl"] = json!("urn:uuid:00000000-0000-4000-8000-0000000000ff");
            b["entry"].as_array_mut().unwrap().push(dup);
        });
    }

    #[test]
    fn composition_not_first_or_twice() {
        fails("first-entry-composition", |b| b["entry"].as_array_mut().unwrap().swap(0, 1));
        fails("single-composition", |b| {
            let mut c = b["entry"][0].clone();
            c["fullUrl"] = json!("urn:uuid:00000000-0000-4000-8000-0000000000fe");
            c["resource"]["id"] = json!("c2");
            b["entry"].as_array_mut().unwrap().push(c);
        });
    }

    #[test]
    fn dangling_reference_anywhere() {
        // In a section…
        fails("reference-resolves", |b| comp(b)["section"][0]["entry"][0]["reference"] = json!("urn:uuid:00000000-0000-4000-8000-0000000000aa"));
        // …and deep inside a resource.
        fails("reference-resolves", |b| b["entry"][3]["resource"]["informationSource"]["reference"] = json!("Organization/elsewhere"));
        fails("contained-reference", |b| b["entry"][4]["resource"]["recorder"]["reference"] = json!("#nobody"));
    }

    #[test]
    fn composition_elements() {
        fails("composition-status", |b| {
            comp(b).as_object_mut().unwrap().remove("status");
        });
        fails("composition-type", |b| comp(b)["type"]["coding"][0]["code"] = json!("34133-9"));
        fails("composition-subject", |b| comp(b)["subject"]["reference"] = json!(ORG));
        fails("composition-subject", |b| {
            comp(b).as_object_mut().unwrap().remove("subject");
        });
        fails("composition-date", |b| {
            comp(b).as_object_mut().unwrap().remove("date");
        });
        fails("composition-author", |b| comp(b)["author"] = json!([]));
        fails("composition-title", |b| comp(b)["title"] = json!(" "));
        fails("composition-section", |b| comp(b)["section"] = json!([]));
    }

    #[test]
    fn missing_required_section() {
        fails("required-section", |b| {
            comp(b)["section"].as_array_mut().unwrap().remove(2);
        });
    }

    #[test]
    fn section_twice() {
        fails("section-cardinality", |b| {
            let s = comp(b)["section"][3].clone();
            comp(b)["section"].as_array_mut().unwrap().push(s);
        });
    }

    #[test]
    fn wrong_entry_type_in_a_section() {
        // A Condition among the allergies.
        fails("section-entry-type", |b| comp(b)["section"][2]["entry"][0]["reference"] = json!(C));
        fails("section-entry-type", |b| comp(b)["section"][1]["entry"][0]["reference"] = json!(O));
    }

    #[test]
    fn section_without_text_title_or_code() {
        fails("section-text", |b| {
            comp(b)["section"][0].as_object_mut().unwrap().remove("text");
        });
        fails("section-title", |b| {
            comp(b)["section"][0].as_object_mut().unwrap().remove("title");
        });
        fails("section-code", |b| {
            comp(b)["section"][3].as_object_mut().unwrap().remove("code");
        });
    }

    #[test]
    fn narrative_must_be_xhtml() {
        for (div, why) in [
            ("<div><p>x</p></div>", "no namespace"),
            ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</div>", "unbalanced"),
            ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a & b</p></div>", "raw ampersand"),
            ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x</script></div>", "script"),
            ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">x</p></div>", "event attribute"),
            ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</p></div><p>after</p>", "content after the root"),
            ("<p xmlns=\"http://www.w3.org/1999/xhtml\">x</p>", "not a div"),
            ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>1 < 2</p></div>", "raw less-than"),
        ] {
            fails("section-text", |b| comp(b)["section"][0]["text"]["div"] = json!(div));
            assert!(xhtml_problem(div).is_some(), "{why}");
        }
        assert_eq!(xhtml_problem("<div xmlns=\"http://www.w3.org/1999/xhtml\"><br/><p>a &amp; b &#12354; &#x3042;</p><!-- c --></div>"), None);
    }

    #[test]
    fn section_without_entries_or_empty_reason() {
        fails("section-empty", |b| comp(b)["section"][0]["entry"] = json!([]));
        fails("section-empty", |b| comp(b)["section"][0]["emptyReason"] = json!({ "text": "x" }));
        // Display-only entries are not section entries.
        fails("section-entry-reference", |b| comp(b)["section"][0]["entry"][0] = json!({ "display": "x" }));
        // With an emptyReason instead of entries it passes.
        let mut b = valid();
        comp(&mut b)["section"][0]["entry"] = json!(null);
        comp(&mut b)["section"][0].as_object_mut().unwrap().remove("entry");
        comp(&mut b)["section"][0]["emptyReason"] = json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": "unavailable" }] });
        // The Condition is then listed nowhere, which is allowed.
        assert!(check_ips(&b).is_empty(), "{:?}", check_ips(&b));
    }

    #[test]
    fn nested_sections() {
        fails("section-nested", |b| comp(b)["section"][3]["section"] = json!([sec("8716-3", "Vitals", &[O])]));
    }

    #[test]
    fn subject_must_be_the_patient() {
        fails("subject-is-patient", |b| b["entry"][2]["resource"]["subject"]["reference"] = json!(ORG));
        fails("subject-is-patient", |b| {
            b["entry"][4]["resource"].as_object_mut().unwrap().remove("patient");
        });
    }

    #[test]
    fn transaction_leftovers() {
        fails("entry-transaction", |b| b["entry"][2]["request"] = json!({ "method": "POST", "url": "Condition" }));
    }

    #[test]
    fn restful_full_urls_resolve_relative_references() {
        let mut b = valid();
        b["entry"][6]["fullUrl"] = json!("https://example.org/fhir/Organization/org");
        b["entry"][3]["resource"]["informationSource"]["reference"] = json!("Organization/org");
        assert!(check_ips(&b).is_empty(), "{:?}", check_ips(&b));
        b["entry"][6]["fullUrl"] = json!("https://example.org/fhir/Organization/other");
        let r = rules(&check_ips(&b));
        assert!(r.contains(&"full-url-id") && r.contains(&"reference-resolves"), "{r:?}");
    }

    fn jp_valid() -> Value {
        let mut b = valid();
        let jp = |spec: &SectionSpec, entries: &[&str]| {
            let mut s = json!({
                "title": spec.title_ja,
                "code": { "coding": [{ "system": spec.system(), "code": spec.code() }] },
                "text": text(spec.title_ja),
            });
            if entries.is_empty() {
                s["emptyReason"] = json!({ "text": "情報はありません。" });
            } else {
                s["entry"] = json!(entries.iter().map(|e| json!({ "reference": e })).collect::<Vec<_>>());
            }
            s
        };
        let med = json!({ "resourceType": "MedicationRequest", "id": "m1", "status": "completed", "intent": "order",
            "medicationCodeableConcept": { "text": "x" }, "subject": { "reference": P } });
        b["entry"][3]["resource"] = med;
        b["entry"][4]["resource"]["category"] = json!(["medication"]);
        b["entry"][4]["resource"]["criticality"] = json!("high");
        let s = &JP_SIX_SECTIONS;
        comp(&mut b)["section"] = json!([jp(&s[0], &[C]), jp(&s[1], &[]), jp(&s[2], &[A]), jp(&s[3], &[]), jp(&s[4], &[O]), jp(&s[5], &[M])]);
        comp(&mut b)["title"] = json!("患者サマリー");
        b
    }

    #[test]
    fn the_hand_written_jp_six_passes_and_can_fail() {
        let b = jp_valid();
        assert!(check_jp_six(&b).is_empty(), "{:?}", check_jp_six(&b));
        // It is not an IPS (no LOINC sections), and check_ips says so.
        assert!(rules(&check_ips(&b)).contains(&"required-section"));

        let mut x = jp_valid();
        comp(&mut x)["section"].as_array_mut().unwrap().remove(3);
        assert!(rules(&check_jp_six(&x)).contains(&"jp-six-section"));

        let mut x = jp_valid();
        comp(&mut x)["section"][2]["title"] = json!("アレルギー");
        assert!(rules(&check_jp_six(&x)).contains(&"jp-six-title"));

        let mut x = jp_valid();
        x["entry"][4]["resource"]["criticality"] = json!("low");
        assert!(rules(&check_jp_six(&x)).contains(&"jp-six-contraindication"));

        let mut x = jp_valid();
        comp(&mut x)["section"][5]["entry"][0]["reference"] = json!(C);
        assert!(rules(&check_jp_six(&x)).contains(&"section-entry-type"));

        let mut x = jp_valid();
        comp(&mut x)["section"][3]["entry"] = json!([{ "reference": O }]);
        comp(&mut x)["section"][3].as_object_mut().unwrap().remove("emptyReason");
        assert!(rules(&check_jp_six(&x)).contains(&"jp-six-infection"));

        let mut x = jp_valid();
        x["entry"][5]["resource"]["code"] = json!({ "coding": [{ "system": "urn:oid:1.2.392.200119.4.504", "code": "5F016141002305111" }] });
        assert!(rules(&check_jp_six(&x)).contains(&"jp-six-infection"));
    }

    #[test]
    fn messages_hold_no_content() {
        let mut b = valid();
        b["entry"][2]["resource"]["code"]["text"] = json!("CANARY-DIAGNOSIS");
        b["entry"][2]["resource"]["subject"]["reference"] = json!("Patient/CANARY-ID");
        comp(&mut b)["section"][0]["text"]["div"] = json!("<div>CANARY</div>");
        let issues = check_ips(&b);
        assert!(!issues.is_empty());
        for i in &issues {
            assert!(!i.to_string().contains("CANARY"), "{i}");
        }
    }
}
