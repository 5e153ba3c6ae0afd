//! Datatype detection for JSON nodes (JSON carries no types): element-name table plus
//! shape heuristics, and FHIR date / dateTime / instant parsing.

use serde_json::{Map, Value};

/// The datatypes `nodesByType(...)` understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Resource,
    HumanName,
    Address,
    ContactPoint,
    ContactDetail,
    Identifier,
    Attachment,
    Annotation,
    Reference,
    Narrative,
    Extension,
    Coding,
    CodeableConcept,
    Quantity,
    Age,
    Period,
    Meta,
    Date,
    DateTime,
    Instant,
}

impl Ty {
    pub(crate) fn from_name(s: &str) -> Option<Ty> {
        Some(match s {
            "Resource" => Ty::Resource,
            "HumanName" => Ty::HumanName,
            "Address" => Ty::Address,
            "ContactPoint" => Ty::ContactPoint,
            "ContactDetail" => Ty::ContactDetail,
            "Identifier" => Ty::Identifier,
            "Attachment" => Ty::Attachment,
            "Annotation" => Ty::Annotation,
            "Reference" => Ty::Reference,
            "Narrative" => Ty::Narrative,
            "Extension" => Ty::Extension,
            "Coding" => Ty::Coding,
            "CodeableConcept" => Ty::CodeableConcept,
            "Quantity" => Ty::Quantity,
            "Age" => Ty::Age,
            "Period" => Ty::Period,
            "Meta" => Ty::Meta,
            "date" => Ty::Date,
            "dateTime" => Ty::DateTime,
            "instant" => Ty::Instant,
            _ => return None,
        })
    }

    /// `nodesByType(self)` selects a node of type `actual` (an Age is a Quantity).
    pub(crate) fn selects(self, actual: Ty) -> bool {
        self == actual || (self == Ty::Quantity && actual == Ty::Age)
    }

    pub(crate) fn is_date(self) -> bool {
        matches!(self, Ty::Date | Ty::DateTime | Ty::Instant)
    }
}

/// FHIR datatype names that end choice elements (`value[x]` → `valueString`).
const CHOICE_SUFFIXES: &[&str] = &[
    "Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal", "Id", "Instant", "Integer",
    "Markdown", "Oid", "PositiveInt", "String", "Time", "UnsignedInt", "Uri", "Url", "Uuid", "Address", "Age",
    "Annotation", "Attachment", "CodeableConcept", "Coding", "ContactPoint", "Count", "Distance", "Duration",
    "HumanName", "Identifier", "Money", "Period", "Quantity", "Range", "Ratio", "Reference", "SampledData",
    "Signature", "Timing", "ContactDetail", "Contributor", "DataRequirement", "Expression", "ParameterDefinition",
    "RelatedArtifact", "TriggerDefinition", "UsageContext", "Dosage", "Meta",
];

/// `Some(suffix)` when `key` is a choice element `<base><Type>`.
pub(crate) fn choice_suffix(key: &str) -> Option<&str> {
    let first_upper = key.char_indices().find(|(_, c)| c.is_ascii_uppercase())?.0;
    if first_upper == 0 {
        return None;
    }
    let suffix = &key[first_upper..];
    CHOICE_SUFFIXES.contains(&suffix).then_some(suffix)
}

/// A rule step (`value`) selects a key (`value`, `valueQuantity`, …).
pub(crate) fn step_selects(step: &str, key: &str) -> bool {
    if step == key {
        return true;
    }
    key.len() > step.len() && key.starts_with(step) && CHOICE_SUFFIXES.contains(&&key[step.len()..])
}

fn keys_within(m: &Map<String, Value>, allowed: &[&str]) -> bool {
    m.keys().all(|k| {
        let k = k.strip_prefix('_').unwrap_or(k);
        allowed.contains(&k)
    })
}

const CP_SYSTEMS: &[&str] = &["phone", "fax", "email", "pager", "url", "sms", "other"];

/// The datatype of an object found under element `key` (`depth` of the node: 1 = child of
/// the resource root).
pub(crate) fn object_type(key: &str, m: &Map<String, Value>, depth: usize) -> Option<Ty> {
    let type_name = |t: &str| t.starts_with(|c: char| c.is_ascii_uppercase()) && t.chars().all(|c| c.is_ascii_alphanumeric());
    if m.get("resourceType").and_then(Value::as_str).is_some_and(type_name) {
        return Some(Ty::Resource);
    }
    // `family`/`given` exist in no other datatype: a strong signal, whatever the element
    // name and extra keys.
    if m.contains_key("family") || m.contains_key("given") {
        return Some(Ty::HumanName);
    }
    if let Some(s) = choice_suffix(key) {
        let t = match s {
            "HumanName" => Some(Ty::HumanName),
            "Address" => Some(Ty::Address),
            "ContactPoint" => Some(Ty::ContactPoint),
            "ContactDetail" => Some(Ty::ContactDetail),
            "Identifier" => Some(Ty::Identifier),
            "Attachment" => Some(Ty::Attachment),
            "Annotation" => Some(Ty::Annotation),
            "Reference" => Some(Ty::Reference),
            "Coding" => Some(Ty::Coding),
            "CodeableConcept" => Some(Ty::CodeableConcept),
            "Quantity" => Some(Ty::Quantity),
            "Age" => Some(Ty::Age),
            "Period" => Some(Ty::Period),
            "Meta" => Some(Ty::Meta),
            _ => None,
        };
        if t.is_some() {
            return t;
        }
    }
    let has = |k: &str| m.contains_key(k);
    let str_of = |k: &str| m.get(k).and_then(Value::as_str);
    match key {
        "meta" if depth == 1 => return Some(Ty::Meta),
        "extension" | "modifierExtension" => return Some(Ty::Extension),
        "telecom" => return Some(Ty::ContactPoint),
        "identifier" | "masterIdentifier" | "accessionIdentifier" | "groupIdentifier" if has("value") || has("system") => {
            return Some(Ty::Identifier)
        }
        "photo" | "presentedForm" | "attachment" => return Some(Ty::Attachment),
        "note" => return Some(Ty::Annotation),
        "address" => return Some(Ty::Address),
        "name" if keys_within(m, HUMAN_NAME) => return Some(Ty::HumanName),
        "period" if keys_within(m, &["start", "end", "id", "extension"]) => return Some(Ty::Period),
        _ => {}
    }
    // Shapes.
    if has("div") && keys_within(m, &["status", "div", "id", "extension"]) {
        return Some(Ty::Narrative);
    }
    if ["line", "city", "postalCode", "district", "state", "country"].iter().any(|k| has(k)) && keys_within(m, ADDRESS) {
        return Some(Ty::Address);
    }
    if has("value")
        && str_of("system").is_some_and(|s| CP_SYSTEMS.contains(&s))
        && keys_within(m, &["system", "value", "use", "rank", "period", "id", "extension"])
    {
        return Some(Ty::ContactPoint);
    }
    if has("coding") && keys_within(m, &["coding", "text", "id", "extension"]) {
        return Some(Ty::CodeableConcept);
    }
    if m.get("value").is_some_and(Value::is_number)
        && keys_within(m, &["value", "comparator", "unit", "system", "code", "id", "extension"])
    {
        return Some(Ty::Quantity);
    }
    if (has("code") || has("system"))
        && !has("value")
        && keys_within(m, &["system", "version", "code", "display", "userSelected", "id", "extension"])
    {
        return Some(Ty::Coding);
    }
    if str_of("value").is_some()
        && (has("system") || has("type"))
        && keys_within(m, &["use", "type", "system", "value", "period", "assigner", "id", "extension"])
    {
        return Some(Ty::Identifier);
    }
    if (has("reference") || has("display") || has("identifier"))
        && keys_within(m, &["reference", "type", "identifier", "display", "id", "extension"])
    {
        return Some(Ty::Reference);
    }
    if (has("data") || has("contentType"))
        && keys_within(m, &["contentType", "language", "data", "url", "size", "hash", "title", "creation", "id", "extension"])
    {
        return Some(Ty::Attachment);
    }
    if str_of("text").is_some()
        && (has("authorReference") || has("authorString") || has("time"))
        && keys_within(m, &["authorReference", "authorString", "time", "text", "id", "extension"])
    {
        return Some(Ty::Annotation);
    }
    if str_of("name").is_some() && keys_within(m, &["name", "telecom", "id", "extension"]) {
        return Some(Ty::ContactDetail);
    }
    if str_of("url").is_some() && m.keys().all(|k| k == "url" || k == "id" || k == "extension" || step_selects("value", k)) {
        return Some(Ty::Extension);
    }
    if (has("start") || has("end")) && keys_within(m, &["start", "end", "id", "extension"]) {
        return Some(Ty::Period);
    }
    None
}

const HUMAN_NAME: &[&str] = &["use", "text", "family", "given", "prefix", "suffix", "period", "id", "extension"];
const ADDRESS: &[&str] = &[
    "use", "type", "text", "line", "city", "district", "state", "postalCode", "country", "period", "id", "extension",
];

/// Elements declared as instants in R4.
const INSTANT_KEYS: &[&str] = &["issued", "lastUpdated", "recorded", "timestamp", "when"];
/// Elements declared as date or dateTime in R4 (besides the `…Date`/`…DateTime` choices).
const DATE_KEYS: &[&str] = &[
    "date", "authoredOn", "start", "end", "created", "time", "sent", "received", "dateWritten", "whenHandedOver",
    "whenPrepared", "lastOccurrence", "dateAsserted", "occurrence", "onset", "abatement", "performed", "effective",
    "deceased", "dateTime", "lastPeriod", "assertedDate", "birthDate", "dateOfDiagnosis", "decisionDate",
];

/// The date type of string `s` under element `key`: a declared date element holding a
/// valid FHIR date/dateTime/instant, or any string that is a valid date with at least a day.
pub(crate) fn string_date_type(key: &str, s: &str) -> Option<Ty> {
    let p = parse_date(s)?;
    if INSTANT_KEYS.contains(&key) || key.ends_with("Instant") {
        return Some(Ty::Instant);
    }
    let declared_dt = key.ends_with("DateTime") || (DATE_KEYS.contains(&key) && key != "birthDate");
    if declared_dt {
        return Some(if p.time.is_empty() { Ty::Date } else { Ty::DateTime });
    }
    if key.ends_with("Date") {
        return Some(Ty::Date);
    }
    if p.day.is_some() {
        return Some(if p.time.is_empty() { Ty::Date } else { Ty::DateTime });
    }
    None
}

/// A parsed FHIR date / dateTime / instant. `time` is everything from `T` on (kept verbatim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedDate<'a> {
    pub year: i32,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub time: &'a str,
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.f+]][Z|±hh:mm]`.
pub(crate) fn parse_date(s: &str) -> Option<ParsedDate<'_>> {
    let (date, time) = match s.find('T') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let mut parts = date.split('-');
    let y = parts.next()?;
    if y.len() != 4 || !digits(y) {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    let month = match parts.next() {
        Some(m) if m.len() == 2 && digits(m) => Some(m.parse::<u32>().ok().filter(|m| (1..=12).contains(m))?),
        Some(_) => return None,
        None => None,
    };
    let day = match parts.next() {
        Some(d) if d.len() == 2 && digits(d) => {
            let d: u32 = d.parse().ok()?;
            chrono::NaiveDate::from_ymd_opt(year, month?, d)?;
            Some(d)
        }
        Some(_) => return None,
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    if !time.is_empty() && (day.is_none() || !valid_time(&time[1..])) {
        return None;
    }
    Some(ParsedDate { year, month, day, time })
}

fn valid_time(t: &str) -> bool {
    let (clock, tz) = match t.find(['Z', '+', '-']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let clock_main = clock.split('.').next().unwrap_or("");
    let frac_ok = clock.split('.').nth(1).is_none_or(digits);
    let mut f = clock_main.split(':');
    let ok_num = |p: Option<&str>, max: u32| p.is_some_and(|p| p.len() == 2 && digits(p) && p.parse::<u32>().is_ok_and(|v| v <= max));
    let hh = ok_num(f.next(), 23);
    let mm = ok_num(f.next(), 59);
    let ss = match f.next() {
        Some(s) => ok_num(Some(s), 60),
        None => true,
    };
    let tz_ok = tz.is_empty() || tz == "Z" || {
        let r = &tz[1..];
        r.len() == 5 && &r[2..3] == ":" && digits(&r[..2]) && digits(&r[3..])
    };
    hh && mm && ss && frac_ok && f.next().is_none() && tz_ok
}

/// Shifts the day of a date/dateTime by `days`, keeping precision, time and offset.
/// Year-only and year-month values are returned unchanged (coarser than any shift).
pub(crate) fn shift_date(s: &str, days: i64) -> Option<String> {
    let p = parse_date(s)?;
    let (Some(m), Some(d)) = (p.month, p.day) else {
        return Some(s.to_string());
    };
    let date = chrono::NaiveDate::from_ymd_opt(p.year, m, d)?;
    let shifted = date.checked_add_signed(chrono::Duration::try_days(days)?)?;
    let y = chrono::Datelike::year(&shifted);
    if !(1..=9999).contains(&y) {
        return None;
    }
    Some(format!("{}{}", shifted.format("%Y-%m-%d"), p.time))
}
