//! The record screen's filters, lab results, sources and versions.

use crate::{validate_limit, Command, IpcError, TimelineCursor};
use serde::{Deserialize, Serialize};

/// What a person filters the timeline by: one category of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordCategory {
    Conditions,
    Medications,
    Allergies,
    LabResults,
    VitalSigns,
    Immunizations,
    Procedures,
    Encounters,
    Documents,
    /// Entered or imported at home (the vault's `home` source).
    Home,
}

/// The code system of Observation categories (lab results and vital signs are told apart by it).
pub const OBSERVATION_CATEGORY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

impl RecordCategory {
    pub const ALL: [RecordCategory; 10] = [
        RecordCategory::Conditions,
        RecordCategory::Medications,
        RecordCategory::Allergies,
        RecordCategory::LabResults,
        RecordCategory::VitalSigns,
        RecordCategory::Immunizations,
        RecordCategory::Procedures,
        RecordCategory::Encounters,
        RecordCategory::Documents,
        RecordCategory::Home,
    ];

    /// The wire name (as serde writes it), also the select's value.
    pub const fn slug(self) -> &'static str {
        match self {
            RecordCategory::Conditions => "conditions",
            RecordCategory::Medications => "medications",
            RecordCategory::Allergies => "allergies",
            RecordCategory::LabResults => "lab_results",
            RecordCategory::VitalSigns => "vital_signs",
            RecordCategory::Immunizations => "immunizations",
            RecordCategory::Procedures => "procedures",
            RecordCategory::Encounters => "encounters",
            RecordCategory::Documents => "documents",
            RecordCategory::Home => "home",
        }
    }

    pub fn from_slug(slug: &str) -> Option<RecordCategory> {
        RecordCategory::ALL.into_iter().find(|c| c.slug() == slug)
    }

    /// Words for people.
    pub const fn label(self) -> &'static str {
        match self {
            RecordCategory::Conditions => "Conditions",
            RecordCategory::Medications => "Medications",
            RecordCategory::Allergies => "Allergies",
            RecordCategory::LabResults => "Lab results",
            RecordCategory::VitalSigns => "Vital signs",
            RecordCategory::Immunizations => "Immunizations",
            RecordCategory::Procedures => "Procedures",
            RecordCategory::Encounters => "Encounters",
            RecordCategory::Documents => "Documents & notes",
            RecordCategory::Home => "Home entries",
        }
    }

    /// The FHIR resource types of the category (empty: any type).
    pub const fn types(self) -> &'static [&'static str] {
        match self {
            RecordCategory::Conditions => &["Condition"],
            RecordCategory::Medications => &["MedicationRequest", "MedicationStatement", "MedicationDispense"],
            RecordCategory::Allergies => &["AllergyIntolerance"],
            RecordCategory::LabResults | RecordCategory::VitalSigns => &["Observation"],
            RecordCategory::Immunizations => &["Immunization"],
            RecordCategory::Procedures => &["Procedure"],
            RecordCategory::Encounters => &["Encounter"],
            RecordCategory::Documents => &["DocumentReference", "DiagnosticReport", "Composition"],
            RecordCategory::Home => &[],
        }
    }

    /// The Observation category code the records must carry
    /// ([`OBSERVATION_CATEGORY_SYSTEM`]), if any.
    pub const fn observation_category(self) -> Option<&'static str> {
        match self {
            RecordCategory::LabResults => Some("laboratory"),
            RecordCategory::VitalSigns => Some("vital-signs"),
            _ => None,
        }
    }

    /// Only records from the vault's home source.
    pub const fn home_only(self) -> bool {
        matches!(self, RecordCategory::Home)
    }
}

/// The timeline's filters; they combine (all must hold). Empty: the whole record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineFilter {
    pub category: Option<RecordCategory>,
    /// A source (facility, endpoint, file, home) by its name, as [`RecordSourcesCmd`] lists them.
    pub source: Option<String>,
    /// First day included, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day included, `YYYY-MM-DD`.
    pub to: Option<String>,
}

impl TimelineFilter {
    pub fn is_empty(&self) -> bool {
        *self == TimelineFilter::default()
    }
}

/// Longest source name in a filter, in characters.
pub const MAX_SOURCE_NAME_CHARS: usize = 500;

/// A `YYYY-MM-DD` day as `(year, month, day)`, when it is a real day.
pub fn parse_day(s: &str) -> Option<(i32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (s[0..4].parse::<i32>().ok()?, s[5..7].parse::<u32>().ok()?, s[8..10].parse::<u32>().ok()?);
    if !s[0..4].bytes().chain(s[5..7].bytes()).chain(s[8..10].bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    (y >= 1 && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day after a `YYYY-MM-DD` day (an inclusive last day becomes the store's exclusive bound).
pub fn next_day(s: &str) -> Option<String> {
    let (y, m, d) = parse_day(s)?;
    let (y, m, d) = if d < days_in_month(y, m) {
        (y, m, d + 1)
    } else if m < 12 {
        (y, m + 1, 1)
    } else {
        (y + 1, 1, 1)
    };
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// Checks a filter: real days, the first not after the last, a source name of sane length.
pub fn validate_filter(f: &TimelineFilter) -> Result<(), IpcError> {
    for (what, day) in [("first", &f.from), ("last", &f.to)] {
        if let Some(day) = day {
            if parse_day(day).is_none() {
                return Err(IpcError::invalid_input(format!("The {what} day must be a date written YYYY-MM-DD.")));
            }
        }
    }
    if let (Some(from), Some(to)) = (&f.from, &f.to) {
        if from > to {
            return Err(IpcError::invalid_input("The first day must not be after the last day."));
        }
    }
    if let Some(s) = &f.source {
        let n = s.chars().count();
        if n == 0 || n > MAX_SOURCE_NAME_CHARS {
            return Err(IpcError::invalid_input("Choose the source from the list."));
        }
    }
    Ok(())
}

/// `record_sources`: the vault's sources (facilities, endpoints, files, home) for the filter.
pub struct RecordSourcesCmd;
impl Command for RecordSourcesCmd {
    const NAME: &'static str = "record_sources";
    type Args = RecordSourcesArgs;
    type Output = Vec<RecordSource>;
}

/// Arguments of `record_sources`: the first `limit` sources after the source `after_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSourcesArgs {
    pub after_id: Option<i64>,
    /// 1 ..= [`crate::MAX_PAGE`].
    pub limit: u32,
}

/// One source of records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSource {
    pub id: i64,
    pub name: String,
    /// `file`, `endpoint`, `home` or `share`.
    pub kind: String,
    /// How many records it sent.
    pub records: u64,
}

/// `record_version`: one version of a record, its JSON (pretty-printed text).
pub struct RecordVersionCmd;
impl Command for RecordVersionCmd {
    const NAME: &'static str = "record_version";
    type Args = RecordVersionArgs;
    type Output = RecordVersionView;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordVersionArgs {
    pub record_id: i64,
    /// 1 ..= the record's current version.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordVersionView {
    pub record_id: i64,
    pub version: i64,
    pub json: String,
}

/// An earlier version of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry {
    pub version: i64,
    /// The source that sent it.
    pub source: String,
    /// When a newer version replaced it.
    pub superseded_at: String,
}

/// Checks a version number.
pub fn validate_version(version: i64) -> Result<(), IpcError> {
    if version < 1 {
        return Err(IpcError::invalid_input("Versions are numbered from 1."));
    }
    Ok(())
}

/// `lab_tests`: the tests among a person's lab results (for the trend chart), by name.
pub struct LabTestsCmd;
impl Command for LabTestsCmd {
    const NAME: &'static str = "lab_tests";
    type Args = LabTestsArgs;
    type Output = LabTestsPage;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabTestsArgs {
    pub person_id: i64,
    /// Tests skipped (paging).
    pub offset: u32,
    /// 1 ..= [`crate::MAX_PAGE`].
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabTestsPage {
    pub tests: Vec<LabTest>,
    /// All the person's tests (more pages when above `offset + tests.len()`).
    pub total: u32,
}

/// A test: its code (LOINC, else JLAC10, else a local code) and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabTest {
    pub code: LabCode,
    pub display: String,
    pub unit: Option<String>,
    pub count: u64,
    /// Results with a number (drawn on the chart).
    pub numeric: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LabCode {
    pub system: String,
    pub code: String,
}

/// `lab_results`: a page of a person's lab results (of one test, or all), newest first.
pub struct LabResultsCmd;
impl Command for LabResultsCmd {
    const NAME: &'static str = "lab_results";
    type Args = LabResultsArgs;
    type Output = LabPage;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabResultsArgs {
    pub person_id: i64,
    /// One test; `None`: every lab result.
    pub test: Option<LabCode>,
    /// Source and days apply; the category is lab results anyway.
    pub filter: Option<TimelineFilter>,
    pub after: Option<TimelineCursor>,
    /// 1 ..= [`crate::MAX_PAGE`].
    pub limit: u32,
}

/// Checks a test code.
pub fn validate_lab_code(c: &LabCode) -> Result<(), IpcError> {
    let ok = |s: &str, max: usize| !s.trim().is_empty() && s.chars().count() <= max;
    if !ok(&c.system, 500) || !ok(&c.code, 200) {
        return Err(IpcError::invalid_input("Choose the test from the list."));
    }
    Ok(())
}

/// Checks `lab_results`' arguments.
pub fn validate_lab_results(a: &LabResultsArgs) -> Result<(), IpcError> {
    validate_limit(a.limit)?;
    if let Some(t) = &a.test {
        validate_lab_code(t)?;
    }
    if let Some(f) = &a.filter {
        validate_filter(f)?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabPage {
    pub rows: Vec<LabRow>,
    pub next: Option<TimelineCursor>,
}

/// One lab result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabRow {
    pub record_id: i64,
    pub test: String,
    pub code: Option<LabCode>,
    pub value: Option<f64>,
    /// A value that is not a number (`陰性` …).
    pub value_text: Option<String>,
    pub unit: Option<String>,
    /// The reference range.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub range_text: Option<String>,
    /// `H`, `L`, `HH`, `LL`, `A` …; `None` when normal or unknown.
    pub flag: Option<String>,
    pub clinical_date: Option<String>,
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn categories_map_to_types_and_round_trip() {
        for c in RecordCategory::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), json!(c.slug()));
            assert_eq!(RecordCategory::from_slug(c.slug()), Some(c));
        }
        assert_eq!(RecordCategory::Medications.types(), ["MedicationRequest", "MedicationStatement", "MedicationDispense"]);
        assert_eq!(RecordCategory::Documents.types(), ["DocumentReference", "DiagnosticReport", "Composition"]);
        assert_eq!(RecordCategory::LabResults.observation_category(), Some("laboratory"));
        assert_eq!(RecordCategory::VitalSigns.observation_category(), Some("vital-signs"));
        assert!(RecordCategory::Home.home_only() && RecordCategory::Home.types().is_empty());
        assert_eq!(RecordCategory::from_slug("everything"), None);
    }

    #[test]
    fn filters_are_checked() {
        let f = |from: Option<&str>, to: Option<&str>| TimelineFilter { from: from.map(Into::into), to: to.map(Into::into), ..Default::default() };
        assert!(validate_filter(&TimelineFilter::default()).is_ok());
        assert!(validate_filter(&f(Some("2024-01-01"), Some("2024-12-31"))).is_ok());
        assert!(validate_filter(&f(Some("2024-02-30"), None)).is_err(), "no such day");
        assert!(validate_filter(&f(None, Some("yesterday"))).is_err());
        assert!(validate_filter(&f(Some("2024-05-02"), Some("2024-05-01"))).is_err(), "from after to");
        let empty_source = TimelineFilter { source: Some(String::new()), ..Default::default() };
        assert!(validate_filter(&empty_source).is_err());
        assert_eq!(next_day("2024-02-28").as_deref(), Some("2024-02-29"));
        assert_eq!(next_day("2023-02-28").as_deref(), Some("2023-03-01"));
        assert_eq!(next_day("2024-12-31").as_deref(), Some("2025-01-01"));
        assert_eq!(next_day("2024-1-31"), None);
        let wire = serde_json::to_value(TimelineFilter { category: Some(RecordCategory::LabResults), ..f(Some("2024-01-01"), None) }).unwrap();
        assert_eq!(wire, json!({"category": "lab_results", "source": null, "from": "2024-01-01", "to": null}));
    }

    #[test]
    fn lab_and_version_inputs_are_checked() {
        assert!(validate_version(0).is_err());
        assert!(validate_version(1).is_ok());
        let mut a = LabResultsArgs { person_id: 1, test: None, filter: None, after: None, limit: 100 };
        assert!(validate_lab_results(&a).is_ok());
        a.test = Some(LabCode { system: "http://loinc.org".into(), code: " ".into() });
        assert!(validate_lab_results(&a).is_err());
        a.test = Some(LabCode { system: "http://loinc.org".into(), code: "4548-4".into() });
        a.limit = 0;
        assert!(validate_lab_results(&a).is_err());
    }
}
