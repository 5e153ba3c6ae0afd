//! CSV import, as pure parsing: bytes in, readings (or every row error) out.
//!
//! 1. [`CsvFile::from_bytes`] / [`CsvFile::from_reader`]: UTF-8 only (a BOM is skipped;
//!    **Shift_JIS is not supported** — non-UTF-8 bytes are refused with the line number),
//!    delimiter detected (`,` `;` or tab), header row detected.
//! 2. [`CsvFile::propose_mapping`]: columns matched by header name, English or Japanese
//!    (日付, 時刻, 測定日時, 最高血圧/収縮期, 最低血圧/拡張期, 脈拍, 体重, 体温, 血糖値, …); units in
//!    brackets are honoured (`体重(lb)`, `体温(℉)`, `血糖値(mmol/L)`).
//! 3. [`CsvFile::preview`]: the first rows, each parsed on its own, for the mapping screen.
//! 4. [`CsvFile::parse_all`]: all or nothing. Either every row is valid and you get all
//!    readings (duplicates within the file reported and kept once), or you get **every**
//!    row error and no readings.
//!
//! Row numbers are the file's 1-based line numbers (the header is line 1); columns are
//! 0-based indexes (shown 1-based in messages).

use crate::datetime::{parse_date, parse_date_time, parse_time};
use crate::error::VitalsError;
use crate::kind::{KindSpec, ValueSpec, VitalKind, DIASTOLIC, PULSE, SYSTOLIC};
use crate::reading::{
    convert_input, BloodPressure, BpContext, Checked, GlucoseTiming, Measurement, Reading, Warning,
};
use crate::text::halfwidth;
use crate::units::Unit;
use chrono::{DateTime, FixedOffset, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

/// A column meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    /// Date and time in one column.
    DateTime,
    Date,
    Time,
    Systolic,
    Diastolic,
    Pulse,
    /// 朝/晩 (morning/evening) for blood pressure.
    Context,
    Weight,
    Height,
    Temperature,
    /// Random glucose.
    Glucose,
    FastingGlucose,
    PostMealGlucose,
    SpO2,
    PeakFlow,
    Steps,
    Sleep,
}

/// The value fields, in the order readings are produced from a row.
pub const VALUE_FIELDS: [Field; 13] = [
    Field::Systolic,
    Field::Diastolic,
    Field::Pulse,
    Field::Weight,
    Field::Height,
    Field::Temperature,
    Field::Glucose,
    Field::FastingGlucose,
    Field::PostMealGlucose,
    Field::SpO2,
    Field::PeakFlow,
    Field::Steps,
    Field::Sleep,
];

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::DateTime => "date and time",
            Field::Date => "date",
            Field::Time => "time",
            Field::Systolic => "systolic",
            Field::Diastolic => "diastolic",
            Field::Pulse => "pulse",
            Field::Context => "morning/evening",
            Field::Weight => "body weight",
            Field::Height => "body height",
            Field::Temperature => "body temperature",
            Field::Glucose => "blood glucose",
            Field::FastingGlucose => "fasting glucose",
            Field::PostMealGlucose => "post-meal glucose",
            Field::SpO2 => "SpO2",
            Field::PeakFlow => "peak flow",
            Field::Steps => "steps",
            Field::Sleep => "sleep duration",
        }
    }

    /// The kind whose units the column accepts, and its value spec.
    fn value_spec(self) -> Option<(&'static KindSpec, &'static ValueSpec)> {
        let k = |k: VitalKind| Some((k.spec(), k.spec().value()));
        match self {
            Field::Systolic => Some((VitalKind::BloodPressure.spec(), &SYSTOLIC)),
            Field::Diastolic => Some((VitalKind::BloodPressure.spec(), &DIASTOLIC)),
            Field::Pulse => Some((VitalKind::HeartRate.spec(), &PULSE)),
            Field::Weight => k(VitalKind::BodyWeight),
            Field::Height => k(VitalKind::BodyHeight),
            Field::Temperature => k(VitalKind::BodyTemperature),
            Field::Glucose | Field::PostMealGlucose => k(VitalKind::BloodGlucose),
            Field::FastingGlucose => k(VitalKind::FastingGlucose),
            Field::SpO2 => k(VitalKind::SpO2),
            Field::PeakFlow => k(VitalKind::PeakFlow),
            Field::Steps => k(VitalKind::Steps),
            Field::Sleep => k(VitalKind::SleepDuration),
            Field::DateTime | Field::Date | Field::Time | Field::Context => None,
        }
    }

    /// Header names (compared after lower-casing, removing spaces, `_`, `-` and any bracketed
    /// unit, full-width → ASCII).
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::DateTime => &[
                "datetime",
                "date/time",
                "timestamp",
                "measuredat",
                "測定日時",
                "日時",
                "計測日時",
                "記録日時",
                "測定日時刻",
            ],
            Field::Date => &[
                "date",
                "day",
                "日付",
                "測定日",
                "年月日",
                "計測日",
                "記録日",
            ],
            Field::Time => &["time", "時刻", "測定時刻", "計測時刻", "記録時刻"],
            Field::Systolic => &[
                "systolic",
                "sys",
                "sbp",
                "systolicbp",
                "最高血圧",
                "収縮期",
                "収縮期血圧",
                "上の血圧",
                "最高",
                "血圧(上)",
                "血圧上",
            ],
            Field::Diastolic => &[
                "diastolic",
                "dia",
                "dbp",
                "diastolicbp",
                "最低血圧",
                "拡張期",
                "拡張期血圧",
                "下の血圧",
                "最低",
                "血圧(下)",
                "血圧下",
            ],
            Field::Pulse => &[
                "pulse",
                "heartrate",
                "hr",
                "bpm",
                "pulserate",
                "脈拍",
                "脈拍数",
                "心拍",
                "心拍数",
            ],
            Field::Context => &[
                "context",
                "timing",
                "session",
                "朝晩",
                "朝/晩",
                "朝夜",
                "朝/夜",
                "測定タイミング",
                "タイミング",
                "区分",
            ],
            Field::Weight => &["weight", "bodyweight", "体重"],
            Field::Height => &["height", "bodyheight", "身長"],
            Field::Temperature => &["temperature", "temp", "bodytemperature", "bodytemp", "体温"],
            Field::Glucose => &[
                "glucose",
                "bloodglucose",
                "bloodsugar",
                "randomglucose",
                "血糖",
                "血糖値",
                "随時血糖",
                "随時血糖値",
            ],
            Field::FastingGlucose => &[
                "fastingglucose",
                "fastingbloodglucose",
                "空腹時血糖",
                "空腹時血糖値",
            ],
            Field::PostMealGlucose => &[
                "postmealglucose",
                "postprandialglucose",
                "食後血糖",
                "食後血糖値",
            ],
            Field::SpO2 => &[
                "spo2",
                "oxygensaturation",
                "酸素飽和度",
                "経皮的動脈血酸素飽和度",
                "血中酸素",
                "血中酸素濃度",
            ],
            Field::PeakFlow => &["peakflow", "pef", "peakexpiratoryflow", "ピークフロー"],
            Field::Steps => &["steps", "stepcount", "歩数"],
            Field::Sleep => &["sleep", "sleephours", "sleepduration", "睡眠", "睡眠時間"],
        }
    }

    const ALL: [Field; 17] = [
        Field::DateTime,
        Field::Date,
        Field::Time,
        Field::Systolic,
        Field::Diastolic,
        Field::Pulse,
        Field::Context,
        Field::Weight,
        Field::Height,
        Field::Temperature,
        Field::Glucose,
        Field::FastingGlucose,
        Field::PostMealGlucose,
        Field::SpO2,
        Field::PeakFlow,
        Field::Steps,
        Field::Sleep,
    ];
}

/// Which column holds which field, and in which unit (default: the canonical unit; a unit
/// written in a cell, like `65.2kg`, wins over both).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub columns: BTreeMap<Field, usize>,
    pub units: BTreeMap<Field, Unit>,
}

impl Mapping {
    pub fn new() -> Mapping {
        Mapping::default()
    }

    /// Builder: map `field` to 0-based `column`.
    pub fn with(mut self, field: Field, column: usize) -> Mapping {
        self.columns.insert(field, column);
        self
    }

    /// Builder: the unit of a value column.
    pub fn with_unit(mut self, field: Field, unit: Unit) -> Mapping {
        self.units.insert(field, unit);
        self
    }

    pub fn column(&self, field: Field) -> Option<usize> {
        self.columns.get(&field).copied()
    }

    /// Every problem with this mapping for a file `width` columns wide.
    pub fn problems(&self, width: usize) -> Vec<VitalsError> {
        let mut out = Vec::new();
        let has = |f| self.columns.contains_key(&f);
        if !has(Field::DateTime) && !has(Field::Date) {
            out.push(VitalsError::MissingColumn { field: "date" });
        }
        if has(Field::Systolic) && !has(Field::Diastolic) {
            out.push(VitalsError::MissingColumn { field: "diastolic" });
        }
        if has(Field::Diastolic) && !has(Field::Systolic) {
            out.push(VitalsError::MissingColumn { field: "systolic" });
        }
        if !VALUE_FIELDS.iter().any(|f| has(*f)) {
            out.push(VitalsError::NoValueColumns);
        }
        let mut seen: HashMap<usize, Field> = HashMap::new();
        for (f, c) in &self.columns {
            if *c >= width {
                out.push(VitalsError::ColumnOutOfRange {
                    field: f.name(),
                    column: c + 1,
                    columns: width,
                });
            }
            if seen.insert(*c, *f).is_some() {
                out.push(VitalsError::ColumnMappedTwice { column: c + 1 });
            }
        }
        for (f, u) in &self.units {
            if let Some((kind, _)) = f.value_spec() {
                if !kind.units.contains(u) {
                    out.push(VitalsError::UnitNotAllowed {
                        unit: u.symbol(),
                        kind: kind.name_en,
                        allowed: kind.units_text,
                    });
                }
            }
        }
        out
    }

    fn needed_width(&self) -> usize {
        self.columns.values().map(|c| c + 1).max().unwrap_or(0)
    }
}

/// Caller context for turning rows into readings.
#[derive(Debug, Clone, Copy)]
pub struct CsvOptions {
    /// For date-times without an offset (Japan: +09:00).
    pub default_offset: FixedOffset,
    /// Readings after `now` (plus the clock-skew tolerance) are refused.
    pub now: DateTime<FixedOffset>,
}

/// An error in one row (or, with `line` = `None`, in the mapping).
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// 1-based line number in the file; `None` for mapping problems.
    pub line: Option<u64>,
    /// 0-based column index.
    pub column: Option<usize>,
    /// The column's header text, if the file has a header.
    pub column_name: Option<String>,
    pub error: VitalsError,
}

impl RowError {
    pub fn code(&self) -> &'static str {
        self.error.code()
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => {
                write!(f, "row {l}, column {}", c + 1)?;
                if let Some(n) = &self.column_name {
                    write!(f, " ({n})")?;
                }
                write!(f, ": {}", self.error)
            }
            (Some(l), None) => write!(f, "row {l}: {}", self.error),
            _ => write!(f, "{}", self.error),
        }
    }
}

impl std::error::Error for RowError {}

/// One reading from a row.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedReading {
    pub line: u64,
    pub reading: Reading,
    pub warnings: Vec<Warning>,
}

/// A reading that appeared before in the same file (same [`Reading::identity_key`]); it is
/// left out of [`CsvReadings::readings`].
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateRow {
    pub line: u64,
    pub first_line: u64,
    pub kind: VitalKind,
    pub key: String,
}

/// The result of a successful [`CsvFile::parse_all`].
#[derive(Debug, Clone, PartialEq)]
pub struct CsvReadings {
    pub readings: Vec<ImportedReading>,
    pub duplicates: Vec<DuplicateRow>,
}

impl CsvReadings {
    pub fn into_readings(self) -> Vec<Reading> {
        self.readings.into_iter().map(|r| r.reading).collect()
    }
}

/// One row of [`CsvFile::preview`].
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRow {
    pub line: u64,
    pub cells: Vec<String>,
    pub result: Result<Vec<Checked>, Vec<RowError>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    line: u64,
    cells: Vec<String>,
}

/// A parsed CSV file: delimiter, optional header, data rows (blank rows dropped).
#[derive(Debug, Clone, PartialEq)]
pub struct CsvFile {
    delimiter: u8,
    header: Option<Vec<String>>,
    rows: Vec<Row>,
}

fn detect_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in first.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if *d == b {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

fn header_key(s: &str) -> (String, Option<Unit>) {
    let h = halfwidth(s.trim());
    // A unit in brackets: 体重(kg), 体温（℉）, Weight [lb].
    let mut unit = None;
    let mut name = h.clone();
    for (open, close) in [('(', ')'), ('[', ']'), ('（', '）'), ('【', '】')] {
        if let (Some(i), Some(j)) = (h.find(open), h.rfind(close)) {
            if i < j {
                let inner = &h[i + open.len_utf8()..j];
                if let Some(u) = Unit::parse(inner) {
                    unit = Some(u);
                    name = format!("{}{}", &h[..i], &h[j + close.len_utf8()..]);
                }
                break;
            }
        }
    }
    let key: String = name
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '・'))
        .collect::<String>()
        .to_lowercase();
    (key, unit)
}

fn field_for_header(s: &str) -> Option<(Field, Option<Unit>)> {
    let (key, unit) = header_key(s);
    Field::ALL
        .into_iter()
        .find(|f| f.synonyms().contains(&key.as_str()))
        .map(|f| (f, unit))
}

fn is_blank(s: &str) -> bool {
    matches!(halfwidth(s).trim(), "" | "-" | "--" | "—" | "ー" | "―")
}

fn looks_like_data(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && (parse_number(s).is_some()
            || parse_date_time(s, FixedOffset::east_opt(0).expect("UTC")).is_ok())
}

/// A number with an optional unit after it: `120`, `36.5℃`, `65.2 kg`, `8,532`, `１２０`.
fn parse_number(s: &str) -> Option<(f64, Option<&'static str>)> {
    let s = halfwidth(s.trim());
    let end = s
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_digit() || *c == '.' || *c == ',' || (*i == 0 && (*c == '-' || *c == '+')))
        })
        .map_or(s.len(), |(i, _)| i);
    let (num, rest) = s.split_at(end);
    let digits = if num.contains(',') {
        // Only thousands separators: 1,234 or 12,345,678(.5)
        let (int, frac) = num
            .split_once('.')
            .map_or((num, None), |(a, b)| (a, Some(b)));
        let groups: Vec<&str> = int.trim_start_matches(['-', '+']).split(',').collect();
        let ok = groups.first().is_some_and(|g| (1..=3).contains(&g.len()))
            && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return None;
        }
        let mut d = int.replace(',', "");
        if let Some(f) = frac {
            d.push('.');
            d.push_str(f);
        }
        d
    } else {
        num.to_string()
    };
    let v: f64 = digits.parse().ok()?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Some((v, None));
    }
    // Keep the unit text only as a recognised unit (never echo cell text anywhere).
    Unit::parse(rest).map(|u| (v, Some(u.ucum())))
}

impl CsvFile {
    /// Reads everything from `r` (the caller opened it) and parses it.
    pub fn from_reader<R: Read>(mut r: R) -> Result<CsvFile, VitalsError> {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes)
            .map_err(|_| VitalsError::ReadFailed)?;
        CsvFile::from_bytes(&bytes)
    }

    /// UTF-8 bytes (a BOM is skipped). Anything else is refused with the first bad line.
    pub fn from_bytes(bytes: &[u8]) -> Result<CsvFile, VitalsError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64
                + 1;
            VitalsError::NotUtf8 { line }
        })?;
        CsvFile::parse(text)
    }

    /// Parses CSV text.
    pub fn parse(text: &str) -> Result<CsvFile, VitalsError> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(VitalsError::EmptyFile);
        }
        let delimiter = detect_delimiter(text);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| VitalsError::CsvSyntax {
                line: e.position().map_or(0, |p| p.line()),
            })?;
            let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
            if cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            rows.push(Row {
                line: rec.position().map_or(0, |p| p.line()),
                cells,
            });
        }
        if rows.is_empty() {
            return Err(VitalsError::EmptyFile);
        }
        let first = &rows[0].cells;
        let is_header = first.iter().any(|c| field_for_header(c).is_some())
            || first
                .iter()
                .filter(|c| !c.is_empty())
                .all(|c| !looks_like_data(c));
        let header = if is_header {
            Some(rows.remove(0).cells)
        } else {
            None
        };
        if rows.is_empty() {
            return Err(VitalsError::NoDataRows);
        }
        Ok(CsvFile {
            delimiter,
            header,
            rows,
        })
    }

    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// Number of data rows.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Columns: the header's width, or the widest row.
    pub fn width(&self) -> usize {
        self.header.as_ref().map_or_else(
            || self.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0),
            Vec::len,
        )
    }

    /// A mapping guessed from the header names (empty without a header). The first column
    /// matching a field wins.
    pub fn propose_mapping(&self) -> Mapping {
        let mut m = Mapping::new();
        for (i, h) in self.header.iter().flatten().enumerate() {
            if let Some((f, unit)) = field_for_header(h) {
                if m.columns.contains_key(&f) {
                    continue;
                }
                m.columns.insert(f, i);
                if let (Some(u), Some((kind, _))) = (unit, f.value_spec()) {
                    if kind.units.contains(&u) {
                        m.units.insert(f, u);
                    }
                }
            }
        }
        m
    }

    fn mapping_errors(&self, mapping: &Mapping) -> Vec<RowError> {
        mapping
            .problems(self.width())
            .into_iter()
            .map(|error| RowError {
                line: None,
                column: None,
                column_name: None,
                error,
            })
            .collect()
    }

    /// The first `n` data rows, each parsed on its own (no all-or-nothing, no duplicate
    /// detection). Mapping problems are returned as the error.
    pub fn preview(
        &self,
        mapping: &Mapping,
        opts: &CsvOptions,
        n: usize,
    ) -> Result<Vec<PreviewRow>, Vec<RowError>> {
        let errs = self.mapping_errors(mapping);
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(self
            .rows
            .iter()
            .take(n)
            .map(|row| PreviewRow {
                line: row.line,
                cells: row.cells.clone(),
                result: self.parse_row(row, mapping, opts),
            })
            .collect())
    }

    /// Every row → readings, all or nothing. On success, readings in file order (a row with
    /// blood pressure and weight gives two), duplicates (same identity key as an earlier
    /// row's reading) listed and left out. On failure, every error of every row.
    pub fn parse_all(
        &self,
        mapping: &Mapping,
        opts: &CsvOptions,
    ) -> Result<CsvReadings, Vec<RowError>> {
        let errs = self.mapping_errors(mapping);
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut errors = Vec::new();
        let mut readings = Vec::new();
        let mut duplicates = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for row in &self.rows {
            match self.parse_row(row, mapping, opts) {
                Err(mut e) => errors.append(&mut e),
                Ok(checked) => {
                    for Checked { reading, warnings } in checked {
                        let key = reading.identity_key();
                        if let Some(first) = seen.get(&key) {
                            duplicates.push(DuplicateRow {
                                line: row.line,
                                first_line: *first,
                                kind: reading.kind(),
                                key,
                            });
                        } else {
                            seen.insert(key, row.line);
                            readings.push(ImportedReading {
                                line: row.line,
                                reading,
                                warnings,
                            });
                        }
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if readings.is_empty() {
            return Err(vec![RowError {
                line: None,
                column: None,
                column_name: None,
                error: VitalsError::NoReadings,
            }]);
        }
        Ok(CsvReadings {
            readings,
            duplicates,
        })
    }

    fn err(&self, line: u64, column: Option<usize>, error: VitalsError) -> RowError {
        let column_name = column.and_then(|c| self.header.as_ref().and_then(|h| h.get(c)).cloned());
        RowError {
            line: Some(line),
            column,
            column_name,
            error,
        }
    }

    fn row_time(
        &self,
        row: &Row,
        m: &Mapping,
        opts: &CsvOptions,
    ) -> Result<DateTime<FixedOffset>, RowError> {
        let cell = |c: usize| row.cells.get(c).map(String::as_str).unwrap_or("");
        if let Some(c) = m.column(Field::DateTime) {
            return parse_date_time(cell(c), opts.default_offset)
                .map_err(|e| self.err(row.line, Some(c), e));
        }
        let dc = m.column(Field::Date).expect("checked by Mapping::problems");
        match m
            .column(Field::Time)
            .filter(|t| !cell(*t).trim().is_empty())
        {
            None => parse_date_time(cell(dc), opts.default_offset)
                .map_err(|e| self.err(row.line, Some(dc), e)),
            Some(tc) => {
                let date = parse_date(cell(dc)).map_err(|e| self.err(row.line, Some(dc), e));
                let time = parse_time(cell(tc)).map_err(|e| self.err(row.line, Some(tc), e));
                let (date, time) = (date?, time?);
                opts.default_offset
                    .from_local_datetime(&date.and_time(time))
                    .single()
                    .ok_or_else(|| {
                        self.err(
                            row.line,
                            Some(tc),
                            VitalsError::BadDateTime { field: "time" },
                        )
                    })
            }
        }
    }

    fn parse_row(
        &self,
        row: &Row,
        m: &Mapping,
        opts: &CsvOptions,
    ) -> Result<Vec<Checked>, Vec<RowError>> {
        let need = m.needed_width();
        if row.cells.len() < need {
            return Err(vec![self.err(
                row.line,
                None,
                VitalsError::TooFewColumns {
                    expected: need,
                    found: row.cells.len(),
                },
            )]);
        }
        let mut errors = Vec::new();
        let when = self.row_time(row, m, opts).map_err(|e| errors.push(e)).ok();

        let mut vals: BTreeMap<Field, f64> = BTreeMap::new();
        let mut failed: Vec<Field> = Vec::new();
        for f in VALUE_FIELDS {
            let Some(c) = m.column(f) else { continue };
            let cell = &row.cells[c];
            if is_blank(cell) {
                continue;
            }
            let (kind, spec) = f.value_spec().expect("value fields have a spec");
            let res = parse_number(cell)
                .ok_or(VitalsError::MalformedNumber { field: spec.field })
                .and_then(|(v, cell_unit)| {
                    let unit = match cell_unit {
                        Some(u) => Unit::from_ucum(u).expect("from a Unit"),
                        None => m.units.get(&f).copied().unwrap_or(spec.unit),
                    };
                    convert_input(kind, spec, v, unit)
                });
            match res {
                Ok(v) => {
                    vals.insert(f, v);
                }
                Err(e) => {
                    failed.push(f);
                    errors.push(self.err(row.line, Some(c), e));
                }
            }
        }
        let context = match m.column(Field::Context).map(|c| (c, row.cells[c].trim())) {
            None => None,
            Some((_, s)) if is_blank(s) => None,
            Some((c, s)) => match parse_context(s) {
                Some(x) => Some(x),
                None => {
                    errors.push(self.err(
                        row.line,
                        Some(c),
                        VitalsError::UnrecognisedValue {
                            field: "morning/evening",
                            allowed: "朝, 晩, 夜, morning, evening",
                        },
                    ));
                    None
                }
            },
        };

        // Build measurements with the column each one points at.
        let mut ms: Vec<(Measurement, Field)> = Vec::new();
        match (vals.get(&Field::Systolic), vals.get(&Field::Diastolic)) {
            (Some(s), Some(d)) => ms.push((
                Measurement::BloodPressure(BloodPressure {
                    systolic: *s,
                    diastolic: *d,
                    pulse: vals.get(&Field::Pulse).copied(),
                    context,
                    arm: None,
                    position: None,
                }),
                Field::Systolic,
            )),
            (Some(_), None) if !failed.contains(&Field::Diastolic) => errors.push(self.err(
                row.line,
                m.column(Field::Diastolic),
                VitalsError::MissingValue { field: "diastolic" },
            )),
            (None, Some(_)) if !failed.contains(&Field::Systolic) => errors.push(self.err(
                row.line,
                m.column(Field::Systolic),
                VitalsError::MissingValue { field: "systolic" },
            )),
            (None, None) => {
                if let Some(p) = vals.get(&Field::Pulse) {
                    ms.push((Measurement::HeartRate { per_min: *p }, Field::Pulse));
                }
            }
            _ => {}
        }
        let single = |f: Field| vals.get(&f).copied();
        if let Some(v) = single(Field::Weight) {
            ms.push((Measurement::BodyWeight { kg: v }, Field::Weight));
        }
        if let Some(v) = single(Field::Height) {
            ms.push((Measurement::BodyHeight { cm: v }, Field::Height));
        }
        if let Some(v) = single(Field::Temperature) {
            ms.push((
                Measurement::BodyTemperature { celsius: v },
                Field::Temperature,
            ));
        }
        for (f, timing) in [
            (Field::Glucose, GlucoseTiming::Random),
            (Field::FastingGlucose, GlucoseTiming::Fasting),
            (Field::PostMealGlucose, GlucoseTiming::PostMeal),
        ] {
            if let Some(v) = single(f) {
                ms.push((Measurement::BloodGlucose { mg_dl: v, timing }, f));
            }
        }
        if let Some(v) = single(Field::SpO2) {
            ms.push((Measurement::SpO2 { percent: v }, Field::SpO2));
        }
        if let Some(v) = single(Field::PeakFlow) {
            ms.push((Measurement::PeakFlow { l_min: v }, Field::PeakFlow));
        }
        if let Some(v) = single(Field::Steps) {
            ms.push((Measurement::Steps { count: v }, Field::Steps));
        }
        if let Some(v) = single(Field::Sleep) {
            ms.push((Measurement::SleepDuration { hours: v }, Field::Sleep));
        }

        let mut out = Vec::new();
        for (mut meas, primary) in ms {
            let checked = match when {
                Some(when) => Reading::new(when, meas).check(opts.now),
                // No usable time: still report what is wrong with the values.
                None => {
                    meas.normalize();
                    match meas.validate() {
                        Ok(_) => continue,
                        Err(e) => Err(e),
                    }
                }
            };
            match checked {
                Ok(c) => out.push(c),
                Err(e) => {
                    let col = match (&e, e.field()) {
                        (VitalsError::FutureTime { .. }, _) => {
                            m.column(Field::DateTime).or_else(|| m.column(Field::Date))
                        }
                        (_, Some("diastolic")) => m.column(Field::Diastolic),
                        (_, Some("pulse")) => m.column(Field::Pulse),
                        _ => m.column(primary),
                    };
                    errors.push(self.err(row.line, col, e));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(out)
    }
}

fn parse_context(s: &str) -> Option<BpContext> {
    match halfwidth(s).trim().to_lowercase().as_str() {
        "朝" | "起床後" | "起床時" | "am" | "morning" | "m" => Some(BpContext::Morning),
        "晩" | "夜" | "就寝前" | "夕" | "pm" | "evening" | "night" | "e" => {
            Some(BpContext::Evening)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("120"), Some((120.0, None)));
        assert_eq!(parse_number("36.5℃"), Some((36.5, Some("Cel"))));
        assert_eq!(parse_number("65.2 kg"), Some((65.2, Some("kg"))));
        assert_eq!(parse_number("8,532"), Some((8532.0, None)));
        assert_eq!(parse_number("１２０"), Some((120.0, None)));
        assert_eq!(parse_number("-3"), Some((-3.0, None)));
        assert_eq!(parse_number("12,34"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("12abc"), None);
        assert_eq!(parse_number("1.2.3"), None);
    }

    #[test]
    fn headers() {
        assert_eq!(
            field_for_header("最高血圧(mmHg)"),
            Some((Field::Systolic, Some(Unit::MmHg)))
        );
        assert_eq!(
            field_for_header("体温（℉）"),
            Some((Field::Temperature, Some(Unit::Fahrenheit)))
        );
        assert_eq!(
            field_for_header(" Body Weight [lb] "),
            Some((Field::Weight, Some(Unit::Pound)))
        );
        assert_eq!(field_for_header("ＳｐＯ２"), Some((Field::SpO2, None)));
        assert_eq!(field_for_header("メモ"), None);
        assert_eq!(detect_delimiter("a;b;c\n1;2;3"), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("\"a;b\",c"), b',');
    }
}
