//! Home vitals and diaries for Techo: the IO-free core.
//!
//! # Invariants
//!
//! - **IO-free.** No files, database, network, clock or printing. Inputs are values, `&str`,
//!   bytes or an `io::Read` the caller opened; "now" and the default UTC offset are passed in.
//! - **No health data in errors.** [`VitalsError`] messages name the field, the CSV row and
//!   column, and the allowed range, never a measured value or typed text. Its
//!   [`code`](VitalsError::code) is stable. Nothing here panics on input.
//! - **Canonical units.** A [`Reading`] holds its numbers in the kind's canonical unit
//!   (mmHg, /min, °C, kg, cm, kg/m2, mg/dL, %, L/min, steps, h, score), rounded to the kind's
//!   decimals (temperature, weight, height, BMI 1 dp; BP, pulse, glucose in mg/dL, SpO2, PEF
//!   0 dp; sleep 2 dp; steps and pain are whole numbers). Input in °F, lb, g, in, mmol/L
//!   (glucose only, 18.016 mg/dL per mmol/L) or minutes is converted on entry; **the
//!   originally entered unit is not stored** (conversions are property-tested to round-trip
//!   within rounding instead). The data table is [`VitalKind::spec`].
//! - **Impossible vs unusual.** Values outside a kind's possible range are refused;
//!   values outside its usual range are accepted with a [`Warning`]. Systolic must exceed
//!   diastolic; times more than [`CLOCK_SKEW_TOLERANCE_MINUTES`] after `now` are refused.
//! - **Idempotent re-imports.** Every Observation and QuestionnaireResponse written here carries
//!   an identifier with system [`IDENTIFIER_SYSTEM`] (`urn:techo:home-entry`) whose value is
//!   deterministic: `subject|kind|UTC instant|values` for readings
//!   ([`Reading::identity_key`]), `subject|diary|UTC instant` for diaries. Entering or importing
//!   the same reading twice (any offset, any input unit, any file) gives the same identifier,
//!   so the store's identifier match de-duplicates it; duplicates inside one CSV are reported
//!   by [`CsvFile::parse_all`].
//! - **FHIR R4, no extensions.** Observations use LOINC codes, UCUM units, the
//!   `vital-signs`/`activity`/`survey` categories, the R4 vital-signs and JP Core vital-signs
//!   profiles (vital-signs kinds), Japanese `code.text` and a Japanese XHTML narrative.
//!   Blood pressure is one panel with components (pulse included); see [`observation`].
//!   [`from_observation`] also reads other systems' Observations with the same LOINC codes.
//!
//! # Modules
//!
//! - [`kind`], [`units`], [`reading`]: the table, conversions, readings and validation.
//! - [`observation`]: Reading ⇄ Observation JSON, `entered-in-error`.
//! - [`diary`]: asthma, joint-pain and mood diaries as QuestionnaireResponses; the shipped
//!   Questionnaires.
//! - [`csv_import`]: CSV parsing, column mapping, preview, all-or-nothing import.
//!   UTF-8 only (with or without BOM); Shift_JIS is not supported and is refused clearly.
//! - [`datetime`]: ISO, slash, Japanese and era (令和/平成/昭和, R/H/S) dates.
//! - [`handbook`]: weekly morning/evening home blood-pressure averages.

pub mod csv_import;
pub mod datetime;
pub mod diary;
pub mod error;
pub mod handbook;
pub mod kind;
pub mod observation;
pub mod reading;
mod text;
/// Full-width digits, letters and punctuation as ASCII (what the CSV reader accepts, for other inputs too).
pub use text::halfwidth;
pub mod units;

pub use csv_import::{
    CsvFile, CsvOptions, CsvReadings, DuplicateRow, Field, ImportedReading, Mapping, PreviewRow,
    RowError,
};
pub use diary::{
    from_questionnaire_response, questionnaires, to_questionnaire_response, AsthmaDiary, Diary,
    DiaryEntry, DiaryKind, Joint, JointPainDiary, MoodDiary, ParsedDiary,
};
pub use error::VitalsError;
pub use handbook::{weekly_bp_averages, BpTarget, SessionAverage, WeekSummary};
pub use kind::{Category, KindSpec, ValueSpec, VitalKind};
pub use observation::{
    from_observation, mark_entered_in_error, to_observation, ParsedObservation, IDENTIFIER_SYSTEM,
};
pub use reading::{
    bmi, bmi_reading, to_canonical, Arm, BloodPressure, BpContext, Checked, Direction,
    GlucoseTiming, Measurement, Position, Reading, Warning, CLOCK_SKEW_TOLERANCE_MINUTES,
};
pub use units::Unit;
