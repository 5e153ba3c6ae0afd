//! The one error type of this crate.
//!
//! Messages are plain sentences that say what to do. They name fields, columns, row numbers
//! and allowed ranges, but never a measured value or any text the person typed (those are
//! health data, and error messages end up on stderr and in bug reports).

use std::fmt;

/// Everything that can go wrong in this crate. [`VitalsError::code`] is stable (snake_case);
/// the UI, CLI and IPC map on it, so renaming one is a breaking change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VitalsError {
    // --- values -------------------------------------------------------------------------
    /// NaN or ±infinity.
    #[error("{field} is not a finite number; enter the reading as a plain number")]
    NotFinite { field: &'static str },

    #[error("{field} cannot be negative; check the reading")]
    Negative { field: &'static str },

    /// Outside what is physically possible for a living person (or outside the scale).
    #[error("{field} is outside the possible range {}; check the reading", Span(*min, *max, unit))]
    OutOfRange {
        field: &'static str,
        min: f64,
        max: f64,
        unit: &'static str,
    },

    #[error("{field} must be a whole number; check the reading")]
    NotWholeNumber { field: &'static str },

    #[error("systolic (upper) blood pressure must be higher than diastolic (lower); check that the two values are not swapped")]
    SystolicNotAboveDiastolic,

    #[error("the measurement time is more than {tolerance_minutes} minutes in the future; check the date, the time and the device clock")]
    FutureTime { tolerance_minutes: i64 },

    /// A recognised unit that does not measure this kind (e.g. kg for a temperature).
    #[error("{unit} is not a unit for {kind}; use {allowed}")]
    UnitNotAllowed {
        unit: &'static str,
        kind: &'static str,
        allowed: &'static str,
    },

    /// A unit text this crate does not recognise at all.
    #[error("the unit given for {kind} is not recognised; use {allowed}")]
    UnknownUnit {
        kind: &'static str,
        allowed: &'static str,
    },

    #[error("{field} is longer than {max} characters; shorten it")]
    TextTooLong { field: &'static str, max: usize },

    #[error("the {field} reference is not a FHIR reference such as Patient/abc; pass a Type/id reference")]
    InvalidReference { field: &'static str },

    // --- FHIR resources -----------------------------------------------------------------
    #[error("the resource is not a FHIR {expected}; pass a {expected} resource")]
    WrongResourceType { expected: &'static str },

    #[error("the Observation has no LOINC code for a home vital this app understands; it cannot be charted as one")]
    UnsupportedCode,

    #[error("the resource has no {element}; it cannot be read without it")]
    MissingElement { element: &'static str },

    #[error("{element} is malformed; it must follow the FHIR R4 data type")]
    InvalidElement { element: &'static str },

    #[error("{element} has no time of day or no UTC offset; a reading needs a full date and time")]
    ImpreciseTime { element: &'static str },

    // --- diaries ------------------------------------------------------------------------
    #[error("the diary entry has no answers; fill in at least one question")]
    EmptyDiaryEntry,

    #[error("the QuestionnaireResponse is not for one of this app's diaries (or for an unknown version of one)")]
    UnknownQuestionnaire,

    #[error("the answer to {item} is not one of the allowed choices; pick one from the list")]
    UnknownAnswer { item: &'static str },

    #[error(
        "the diary has an item this version does not know; it cannot be read without losing data"
    )]
    UnknownItem,

    // --- CSV ----------------------------------------------------------------------------
    #[error("the file is not UTF-8 text (the first bad byte is on line {line}); save it as UTF-8 (Shift_JIS is not supported) and try again")]
    NotUtf8 { line: u64 },

    #[error("the file could not be read; check that it is still there and try again")]
    ReadFailed,

    #[error("the file is empty; choose a CSV file with a header row and at least one data row")]
    EmptyFile,

    #[error("the file has no data rows, only a header; choose a file with readings in it")]
    NoDataRows,

    #[error("the file is not valid CSV near line {line}; check quoting and delimiters")]
    CsvSyntax { line: u64 },

    #[error("no column is mapped to {field}; choose which column holds it")]
    MissingColumn { field: &'static str },

    #[error("{field} is mapped to column {column}, but the file has only {columns} columns; choose another column")]
    ColumnOutOfRange {
        field: &'static str,
        column: usize,
        columns: usize,
    },

    #[error("column {column} is mapped to more than one field; map each column once")]
    ColumnMappedTwice { column: usize },

    #[error("no column is mapped to a measurement (blood pressure, weight, temperature…); map at least one")]
    NoValueColumns,

    #[error("the row has {found} columns but the mapping needs {expected}; check the row or the delimiter")]
    TooFewColumns { expected: usize, found: usize },

    #[error(
        "{field} is not a number; write it like 120 or 36.5 (optionally followed by its unit)"
    )]
    MalformedNumber { field: &'static str },

    #[error("the {field} is not in a recognised format; use e.g. 2026-11-27 07:30, 2026/11/27 7:30, 2026年11月27日 7時30分 or 令和8年11月27日")]
    BadDateTime { field: &'static str },

    #[error("the date is outside the {era} era ({from} to {to}); check the era name and year")]
    EraOutOfRange {
        era: &'static str,
        from: &'static str,
        to: &'static str,
    },

    #[error(
        "{field} is empty while the other half of the reading is given; fill in both or neither"
    )]
    MissingValue { field: &'static str },

    #[error("the {field} value is not recognised; use one of {allowed}")]
    UnrecognisedValue {
        field: &'static str,
        allowed: &'static str,
    },

    #[error("no row has a value in the mapped columns; check the column mapping")]
    NoReadings,
}

impl VitalsError {
    /// A stable snake_case code for each variant.
    pub fn code(&self) -> &'static str {
        use VitalsError::*;
        match self {
            NotFinite { .. } => "not_finite",
            Negative { .. } => "negative_value",
            OutOfRange { .. } => "impossible_value",
            NotWholeNumber { .. } => "not_whole_number",
            SystolicNotAboveDiastolic => "systolic_not_above_diastolic",
            FutureTime { .. } => "future_time",
            UnitNotAllowed { .. } => "unit_not_allowed",
            UnknownUnit { .. } => "unknown_unit",
            TextTooLong { .. } => "text_too_long",
            InvalidReference { .. } => "invalid_reference",
            WrongResourceType { .. } => "wrong_resource_type",
            UnsupportedCode => "unsupported_code",
            MissingElement { .. } => "missing_element",
            InvalidElement { .. } => "invalid_element",
            ImpreciseTime { .. } => "imprecise_time",
            EmptyDiaryEntry => "empty_diary_entry",
            UnknownQuestionnaire => "unknown_questionnaire",
            UnknownAnswer { .. } => "unknown_answer",
            UnknownItem => "unknown_item",
            NotUtf8 { .. } => "not_utf8",
            ReadFailed => "read_failed",
            EmptyFile => "empty_file",
            NoDataRows => "no_data_rows",
            CsvSyntax { .. } => "csv_syntax",
            MissingColumn { .. } => "missing_column",
            ColumnOutOfRange { .. } => "column_out_of_range",
            ColumnMappedTwice { .. } => "column_mapped_twice",
            NoValueColumns => "no_value_columns",
            TooFewColumns { .. } => "too_few_columns",
            MalformedNumber { .. } => "malformed_number",
            BadDateTime { .. } => "bad_date_time",
            EraOutOfRange { .. } => "era_out_of_range",
            MissingValue { .. } => "missing_value",
            UnrecognisedValue { .. } => "unrecognised_value",
            NoReadings => "no_readings",
        }
    }

    /// The value field an error is about, when it is about one (used to point at a CSV column).
    pub fn field(&self) -> Option<&'static str> {
        use VitalsError::*;
        match self {
            NotFinite { field }
            | Negative { field }
            | OutOfRange { field, .. }
            | NotWholeNumber { field }
            | TextTooLong { field, .. }
            | MalformedNumber { field }
            | MissingValue { field }
            | UnrecognisedValue { field, .. } => Some(field),
            SystolicNotAboveDiastolic => Some("systolic"),
            _ => None,
        }
    }
}

/// `40–300 mmHg`, `0–10` (no unit), `35–38.5 °C`.
pub(crate) struct Span<'a>(pub f64, pub f64, pub &'a str);

impl fmt::Display for Span<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.0, self.1)?;
        if !self.2.is_empty() {
            write!(f, " {}", self.2)?;
        }
        Ok(())
    }
}
