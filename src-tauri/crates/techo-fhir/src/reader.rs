//! Streaming reader for FHIR R4 JSON input: Bundles of any type, NDJSON and single resources.
//!
//! Memory does not grow with the input: a Bundle's `entry` array is walked one entry at a time
//! and every entry (or NDJSON line, or single resource) is limited to [`MAX_RESOURCE_BYTES`].
//! Every error says where it happened (the entry index, the line number, or the JSON
//! line/column) and never quotes the input: it may be health data.

use serde::de;
use serde_json::{Map, Value};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// The largest single resource (a Bundle entry, an NDJSON line, or a whole single-resource file).
pub const MAX_RESOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// serde_json's own nesting limit; deeper input is refused with [`ReadError::TooDeep`].
pub const MAX_DEPTH: usize = 128;

/// What the caller knows about the format (from the file name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatHint {
    /// `.ndjson` / `.jsonl`: one resource per line.
    Ndjson,
    /// Anything else: detect (a JSON document, or NDJSON when the first line is a whole object
    /// and more objects follow).
    Detect,
}

/// Where in the input something is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// The file as a whole (a single resource, or the Bundle itself).
    Whole,
    /// `Bundle.entry[i]`, counted from 0 as FHIRPath does.
    Entry(usize),
    /// An NDJSON line, counted from 1.
    Line(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Whole => f.write_str("the document"),
            Position::Entry(i) => write!(f, "entry {i}"),
            Position::Line(n) => write!(f, "line {n}"),
        }
    }
}

/// One resource read from the input.
#[derive(Debug)]
pub struct Item {
    pub position: Position,
    pub resource_type: String,
    pub id: Option<String>,
    /// `Bundle.entry.fullUrl`, when the resource came from a Bundle.
    pub full_url: Option<String>,
    /// The resource exactly as read (key order and decimal text preserved).
    pub resource: Value,
}

/// What kind of input it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputKind {
    Bundle { bundle_type: Option<String> },
    Ndjson,
    Resource,
}

/// What the reader saw, once it is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub kind: InputKind,
    /// Resources handed to the callback.
    pub resources: u64,
    /// Bundle entries without a resource that only carry a request (DELETE/GET/HEAD): skipped.
    pub skipped: u64,
}

/// Why the input could not be read. Messages name the place, never the content.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("could not read the file: {0}")]
    Io(#[source] io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("the file is UTF-16 encoded; FHIR JSON must be UTF-8 (save it as UTF-8 and import again)")]
    Utf16,
    #[error("the file is {0}, not FHIR JSON (Techo imports FHIR JSON: Bundles, NDJSON or single resources)")]
    NotJson(&'static str),
    #[error("{at}: expected a JSON object (a FHIR resource) but found {found}")]
    NotAnObject { at: Position, found: &'static str },
    #[error("{at}: invalid JSON at line {line}, column {column} ({detail})")]
    Syntax { at: Position, line: usize, column: usize, detail: String },
    #[error("{at}: the file ends in the middle of the JSON (line {line}, column {column}); it may be truncated")]
    Truncated { at: Position, line: usize, column: usize },
    #[error("{at}: nested more than {MAX_DEPTH} levels deep; no FHIR resource is that deep")]
    TooDeep { at: Position },
    #[error("{at}: larger than the {limit} MiB limit for one resource")]
    TooLarge { at: Position, limit: u64 },
    #[error("{at}: not valid UTF-8 text")]
    NotUtf8 { at: Position },
    #[error("{at}: has no resourceType; every FHIR resource names its type")]
    MissingResourceType { at: Position },
    #[error("{at}: resourceType is not a valid FHIR type name")]
    BadResourceType { at: Position },
    #[error("{at}: the resource has no id (and no fullUrl); Techo needs one to keep its provenance")]
    MissingId { at: Position },
    #[error("{at}: the resource id is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)")]
    BadId { at: Position },
    #[error("{at}: a Bundle entry has no resource")]
    EntryWithoutResource { at: Position },
    #[error("Bundle.entry is not a list of entries")]
    EntryNotArray,
    #[error("the Bundle's entries come before its resourceType; put resourceType first")]
    EntriesBeforeType,
    #[error("{at}: the key {key:?} appears twice in one object")]
    DuplicateKey { at: Position, key: String },
    #[error("unexpected data after the end of the JSON document (line {line}, column {column})")]
    TrailingData { line: usize, column: usize },
}

impl ReadError {
    /// Where the error is, when it concerns one place.
    pub fn position(&self) -> Option<Position> {
        use ReadError::*;
        match self {
            NotAnObject { at, .. } | Syntax { at, .. } | Truncated { at, .. } | TooDeep { at }
            | TooLarge { at, .. } | NotUtf8 { at } | MissingResourceType { at }
            | BadResourceType { at } | MissingId { at } | BadId { at }
            | EntryWithoutResource { at } | DuplicateKey { at, .. } => Some(*at),
            _ => None,
        }
    }
}

/// Either the input was bad, or the callback stopped the read with its own error.
#[derive(Debug)]
pub enum Failure<E> {
    Read(ReadError),
    Handler(E),
}

impl<E> From<ReadError> for Failure<E> {
    fn from(e: ReadError) -> Self {
        Failure::Read(e)
    }
}

/// Reads every resource of `input`, calling `handle` for each in order.
///
/// Bundle entries without a resource whose request is DELETE/GET/HEAD, or that only carry a
/// `response` (batch/transaction responses), are skipped (Techo never deletes on import); any
/// other entry without a resource is an error.
pub fn read<R, E, F>(input: R, hint: FormatHint, mut handle: F) -> Result<Summary, Failure<E>>
where
    R: Read + Seek,
    F: FnMut(Item) -> Result<(), E>,
{
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let start = skip_bom(&mut input)?;
    let first = first_significant_byte(&mut input)?;
    match first {
        None => return Err(ReadError::Empty.into()),
        Some(b'{') => {}
        Some(b'<') => {
            let head = peek_text(&mut input, 512)?;
            let lower = head.to_ascii_lowercase();
            let what = if lower.contains("<html") || lower.contains("<!doctype html") {
                "an HTML page"
            } else {
                "XML"
            };
            return Err(ReadError::NotJson(what).into());
        }
        Some(b'[') => {
            return Err(ReadError::NotAnObject { at: Position::Whole, found: "a JSON array" }.into())
        }
        Some(b'"') => {
            return Err(ReadError::NotAnObject { at: Position::Whole, found: "a JSON string" }.into())
        }
        Some(b'-' | b'0'..=b'9') => {
            return Err(ReadError::NotAnObject { at: Position::Whole, found: "a JSON number" }.into())
        }
        Some(_) => return Err(ReadError::NotJson("not JSON text").into()),
    }
    let ndjson = match hint {
        FormatHint::Ndjson => true,
        FormatHint::Detect => looks_like_ndjson(&mut input)?,
    };
    input.seek(SeekFrom::Start(start)).map_err(ReadError::Io)?;
    if ndjson {
        read_ndjson(input, &mut handle)
    } else {
        read_document(input, &mut handle)
    }
}

fn skip_bom<R: Read + Seek>(input: &mut BufReader<R>) -> Result<u64, ReadError> {
    let buf = input.fill_buf().map_err(ReadError::Io)?;
    if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        input.consume(3);
        return Ok(3);
    }
    if buf.starts_with(&[0xFF, 0xFE]) || buf.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16);
    }
    Ok(0)
}

/// The first byte that is not JSON whitespace, without consuming it... by consuming the
/// whitespace before it (the caller seeks back to the start afterwards anyway).
fn first_significant_byte<R: Read>(input: &mut BufReader<R>) -> Result<Option<u8>, ReadError> {
    loop {
        let buf = input.fill_buf().map_err(ReadError::Io)?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(i) = buf.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
            let b = buf[i];
            input.consume(i);
            return Ok(Some(b));
        }
        let n = buf.len();
        input.consume(n);
    }
}

fn peek_text<R: Read>(input: &mut BufReader<R>, n: usize) -> Result<String, ReadError> {
    let buf = input.fill_buf().map_err(ReadError::Io)?;
    Ok(String::from_utf8_lossy(&buf[..buf.len().min(n)]).into_owned())
}

/// NDJSON when the first line alone is a complete JSON object and another object follows.
fn looks_like_ndjson<R: Read>(input: &mut BufReader<R>) -> Result<bool, ReadError> {
    let mut line = Vec::new();
    let n = input
        .by_ref()
        .take(MAX_RESOURCE_BYTES + 1)
        .read_until(b'\n', &mut line)
        .map_err(ReadError::Io)?;
    if n as u64 > MAX_RESOURCE_BYTES || !line.ends_with(b"\n") {
        return Ok(false);
    }
    if serde_json::from_slice::<de::IgnoredAny>(&line).is_err() {
        return Ok(false);
    }
    Ok(first_significant_byte(input)? == Some(b'{'))
}

fn read_ndjson<R: Read, E, F>(input: BufReader<R>, handle: &mut F) -> Result<Summary, Failure<E>>
where
    F: FnMut(Item) -> Result<(), E>,
{
    let mut input = input;
    let mut line = Vec::with_capacity(64 * 1024);
    let mut lineno = 0u64;
    let mut resources = 0u64;
    loop {
        line.clear();
        lineno += 1;
        let n = (&mut input)
            .take(MAX_RESOURCE_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(ReadError::Io)?;
        if n == 0 {
            break;
        }
        let at = Position::Line(lineno);
        if n as u64 > MAX_RESOURCE_BYTES {
            return Err(ReadError::TooLarge { at, limit: MAX_RESOURCE_BYTES >> 20 }.into());
        }
        let trimmed = trim_ascii(&line);
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.first() != Some(&b'{') {
            return Err(ReadError::NotAnObject { at, found: describe_start(trimmed[0]) }.into());
        }
        let value: Value = serde_json::from_slice(trimmed).map_err(|e| json_error(e, at))?;
        let item = to_item(value, at, None)?;
        handle(item).map_err(Failure::Handler)?;
        resources += 1;
    }
    if resources == 0 {
        return Err(ReadError::Empty.into());
    }
    Ok(Summary { kind: InputKind::Ndjson, resources, skipped: 0 })
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |i| i + 1);
    &b[s..e]
}

fn describe_start(b: u8) -> &'static str {
    match b {
        b'[' => "a JSON array",
        b'"' => "a JSON string",
        b'-' | b'0'..=b'9' => "a JSON number",
        b't' | b'f' => "a JSON boolean",
        b'n' => "null",
        _ => "text that is not JSON",
    }
}

fn json_error(e: serde_json::Error, at: Position) -> ReadError {
    let msg = e.to_string();
    if msg.contains("recursion limit exceeded") {
        return ReadError::TooDeep { at };
    }
    match e.classify() {
        serde_json::error::Category::Eof => {
            ReadError::Truncated { at, line: e.line(), column: e.column() }
        }
        serde_json::error::Category::Io => {
            // Not expected: every parse here is from a slice. (From a reader, serde_json reports
            // bad UTF-8 as an IO error of kind InvalidData.)
            if e.io_error_kind() == Some(io::ErrorKind::InvalidData) {
                return ReadError::NotUtf8 { at };
            }
            ReadError::Io(io::Error::new(e.io_error_kind().unwrap_or(io::ErrorKind::Other), msg))
        }
        _ => {
            if msg.contains("unicode") || msg.contains("UTF-8") {
                return ReadError::NotUtf8 { at };
            }
            // serde_json's message names the JSON problem ("expected `,` or `}`" ...); strip the
            // position it appends, we report it separately. It never contains input text.
            let detail = msg.split(" at line ").next().unwrap_or("syntax error").to_string();
            ReadError::Syntax { at, line: e.line(), column: e.column(), detail }
        }
    }
}

/// One resource that arrived already parsed (a sync page's entry), checked as a line of NDJSON
/// is: an object with a valid `resourceType` and `id`. `at` names it in errors.
pub fn item_from_value(value: Value, at: Position) -> Result<Item, ReadError> {
    to_item(value, at, None)
}

/// Turns one parsed value into an [`Item`], checking what every resource needs.
fn to_item(value: Value, at: Position, full_url: Option<String>) -> Result<Item, ReadError> {
    let Value::Object(obj) = &value else {
        return Err(ReadError::NotAnObject { at, found: describe_value(&value) });
    };
    let resource_type = match obj.get("resourceType") {
        None => return Err(ReadError::MissingResourceType { at }),
        Some(Value::String(t)) if crate::is_valid_resource_type(t) => t.clone(),
        Some(_) => return Err(ReadError::BadResourceType { at }),
    };
    let id = match obj.get("id") {
        None => None,
        Some(Value::String(id)) if crate::is_valid_id(id) => Some(id.clone()),
        Some(_) => return Err(ReadError::BadId { at }),
    };
    if id.is_none() && full_url.is_none() {
        return Err(ReadError::MissingId { at });
    }
    Ok(Item { position: at, resource_type, id, full_url, resource: value })
}

fn describe_value(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a JSON number",
        Value::String(_) => "a JSON string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
}

// ---------------------------------------------------------------------------------------------
// The document path: one JSON object. A small byte scanner finds where each top-level value
// (and each Bundle entry) begins and ends, copies its bytes into a reusable buffer and
// serde_json parses that slice; so `entry` streams one entry at a time.
//
// The scanner knows just enough JSON to find the end of a value: whitespace, strings (with
// escapes: `\"` does not end one), and nesting, counted without recursion so deep input is
// refused at once. It does not validate: serde_json does, on each slice. It never looks at
// UTF-8 either; serde_json reports invalid UTF-8 inside strings, and any other non-ASCII byte
// outside a string is a syntax error.
//
// Error lines and columns are for the whole file (after a BOM), counted as serde_json counts
// them when it parses the whole file: lines from 1, columns in bytes from 1.

/// Bytes that matter outside strings: a string starts, a structure opens or closes, a line ends.
const STRUCTURAL: [bool; 256] = byte_table(b"\"{}[]\n");
/// Bytes that matter inside a string.
const IN_STRING: [bool; 256] = byte_table(b"\"\\\n");
/// Bytes that end a bare value (number, true, false, null).
const ENDS_SCALAR: [bool; 256] = byte_table(b" \t\r\n,:{}[]\"");

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of the lowest byte of `v` equal to `b` is set (higher bytes may be flagged
/// wrongly after a match, so only the lowest flag counts).
#[inline(always)]
fn flag_byte(v: u64, b: u8) -> u64 {
    let x = v ^ (ONES * b as u64);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The first index from `i` of a byte that matters inside a string, eight bytes at a time.
#[inline(always)]
fn skip_in_string(buf: &[u8], mut i: usize) -> usize {
    while let Some(word) = buf.get(i..i + 8) {
        let v = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let m = flag_byte(v, b'"') | flag_byte(v, b'\\') | flag_byte(v, b'\n');
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < buf.len() && !IN_STRING[buf[i] as usize] {
        i += 1;
    }
    i
}

/// The first index from `i` of a structural byte (see [`STRUCTURAL`]), eight bytes at a time.
#[inline(always)]
fn skip_structure(buf: &[u8], mut i: usize) -> usize {
    while let Some(word) = buf.get(i..i + 8) {
        let v = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        // `[`/`{` and `]`/`}` differ only in bit 5.
        let w = v & (ONES * 0xDF);
        let m = flag_byte(w, b'[') | flag_byte(w, b']') | flag_byte(v, b'"') | flag_byte(v, b'\n');
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < buf.len() && !STRUCTURAL[buf[i] as usize] {
        i += 1;
    }
    i
}

const fn byte_table(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

/// How far the scanner has read.
struct ScanPos {
    /// Bytes consumed, from the start of the JSON text.
    offset: u64,
    /// Line of the next byte, from 1.
    line: usize,
    /// Offset of the first byte of that line.
    line_start: u64,
}

impl ScanPos {
    /// Line and column (from 1) of the next byte.
    fn here(&self) -> (usize, usize) {
        (self.line, (self.offset - self.line_start) as usize + 1)
    }

    /// Line and column of the last byte read: where the input ends, when it ends early.
    fn end(&self) -> (usize, usize) {
        (self.line, (self.offset - self.line_start) as usize)
    }
}

/// Where the scanner is inside a value that may span several buffer fills.
struct ScanState {
    /// Open `{`/`[` inside the value.
    level: usize,
    in_string: bool,
    /// The previous byte was the `\` of an escape inside a string.
    escaped: bool,
}

/// Scans `buf` (which starts at `cur.offset`) for the end of a value. Returns how many bytes of
/// `buf` belong to the value and whether it ended there. `depth` is the number of structures
/// the value sits in; reaching `MAX_DEPTH` levels in all is refused as serde_json does.
#[inline]
fn scan(
    buf: &[u8],
    st: &mut ScanState,
    cur: &mut ScanPos,
    depth: usize,
    at: Position,
) -> Result<(usize, bool), ReadError> {
    let n = buf.len();
    let mut i = 0;
    while i < n {
        if st.in_string {
            if st.escaped {
                st.escaped = false;
                if buf[i] == b'\n' {
                    cur.line += 1;
                    cur.line_start = cur.offset + i as u64 + 1;
                }
                i += 1;
                continue;
            }
            i = skip_in_string(buf, i);
            if i == n {
                break;
            }
            match buf[i] {
                b'"' => {
                    st.in_string = false;
                    if st.level == 0 {
                        return Ok((i + 1, true));
                    }
                }
                b'\\' => st.escaped = true,
                _ => {
                    cur.line += 1;
                    cur.line_start = cur.offset + i as u64 + 1;
                }
            }
            i += 1;
        } else {
            i = skip_structure(buf, i);
            if i == n {
                break;
            }
            match buf[i] {
                b'"' => st.in_string = true,
                b'{' | b'[' => {
                    st.level += 1;
                    if depth + st.level >= MAX_DEPTH {
                        return Err(ReadError::TooDeep { at });
                    }
                }
                b'}' | b']' => {
                    st.level -= 1;
                    if st.level == 0 {
                        return Ok((i + 1, true));
                    }
                }
                _ => {
                    cur.line += 1;
                    cur.line_start = cur.offset + i as u64 + 1;
                }
            }
            i += 1;
        }
    }
    Ok((n, false))
}

/// Where a captured value starts, to turn serde_json's positions in the slice into positions
/// in the file.
struct Span {
    line: usize,
    /// Bytes before the value on its first line.
    column0: usize,
    /// A bare value: a number or literal (or something malformed in their place).
    bare: bool,
    /// A bare value that ran into the end of the input.
    at_eof: bool,
}

struct Scanner<R> {
    input: BufReader<R>,
    cur: ScanPos,
}

impl<R: Read> Scanner<R> {
    fn new(input: BufReader<R>) -> Self {
        Scanner { input, cur: ScanPos { offset: 0, line: 1, line_start: 0 } }
    }

    /// Consumes one byte already peeked at, which is not a newline.
    fn bump(&mut self) {
        self.input.consume(1);
        self.cur.offset += 1;
    }

    fn advance(&mut self, n: usize) {
        self.input.consume(n);
        self.cur.offset += n as u64;
    }

    /// Skips whitespace and returns the next byte without consuming it (`None` at the end).
    fn skip_ws(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            let buf = self.input.fill_buf().map_err(ReadError::Io)?;
            if buf.is_empty() {
                return Ok(None);
            }
            let mut i = 0;
            while i < buf.len() {
                match buf[i] {
                    b' ' | b'\t' | b'\r' => i += 1,
                    b'\n' => {
                        i += 1;
                        self.cur.line += 1;
                        self.cur.line_start = self.cur.offset + i as u64;
                    }
                    b => {
                        self.advance(i);
                        return Ok(Some(b));
                    }
                }
            }
            self.advance(i);
        }
    }

    /// The next byte after whitespace; the end of the input here means it is truncated.
    fn next_token(&mut self, at: Position) -> Result<u8, ReadError> {
        self.skip_ws()?.ok_or_else(|| self.truncated(at))
    }

    fn truncated(&self, at: Position) -> ReadError {
        let (line, column) = self.cur.end();
        ReadError::Truncated { at, line, column }
    }

    /// A syntax error at the next byte; `detail` is worded as serde_json words it.
    fn syntax(&self, at: Position, detail: &str) -> ReadError {
        let (line, column) = self.cur.here();
        ReadError::Syntax { at, line, column, detail: detail.to_string() }
    }

    /// Copies the JSON value that starts at the next byte (not whitespace) into `out`.
    /// `depth` is the number of structures it sits in; more than `limit` bytes is refused
    /// before `out` grows past it.
    fn capture(
        &mut self,
        out: &mut Vec<u8>,
        depth: usize,
        limit: u64,
        at: Position,
    ) -> Result<Span, ReadError> {
        out.clear();
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let first = self.next_token(at)?;
        let mut span = Span {
            line: self.cur.line,
            column0: (self.cur.offset - self.cur.line_start) as usize,
            bare: !matches!(first, b'"' | b'{' | b'['),
            at_eof: false,
        };
        if span.bare && ENDS_SCALAR[first as usize] {
            return Err(self.syntax(at, "expected value"));
        }
        let too_large = || ReadError::TooLarge { at, limit: MAX_RESOURCE_BYTES >> 20 };
        if !span.bare {
            let mut st = ScanState { level: 0, in_string: false, escaped: false };
            loop {
                let buf = self.input.fill_buf().map_err(ReadError::Io)?;
                if buf.is_empty() {
                    return Err(self.truncated(at));
                }
                let (used, done) = scan(buf, &mut st, &mut self.cur, depth, at)?;
                if out.len() + used > limit {
                    return Err(too_large());
                }
                out.extend_from_slice(&buf[..used]);
                self.advance(used);
                if done {
                    return Ok(span);
                }
            }
        }
        // A bare value: up to the next structural byte or whitespace.
        loop {
            let buf = self.input.fill_buf().map_err(ReadError::Io)?;
            if buf.is_empty() {
                span.at_eof = true;
                return Ok(span);
            }
            let end = buf.iter().position(|&b| ENDS_SCALAR[b as usize]);
            let used = end.unwrap_or(buf.len());
            if out.len() + used > limit {
                return Err(too_large());
            }
            out.extend_from_slice(&buf[..used]);
            self.advance(used);
            if end.is_some() {
                return Ok(span);
            }
        }
    }

    /// Parses what `capture` copied into `bytes`, with errors placed in the file and worded as
    /// serde_json places and words them when it parses the whole file. `then` is what serde_json
    /// expects after the value (it says so when a bare value runs into other text).
    fn parse<T: serde::de::DeserializeOwned>(
        &mut self,
        bytes: &mut Vec<u8>,
        span: &Span,
        at: Position,
        then: &str,
    ) -> Result<T, ReadError> {
        let mut e = match serde_json::from_slice(bytes) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if span.at_eof {
            // A number or literal cut off by the end of the file.
            return Err(self.truncated(at));
        }
        // serde_json reading the whole file would look at the bytes after the value before
        // giving up on a malformed one (`tru`, `-`, a `\u` escape cut short by a quote), so show
        // it a few of them too (consumed: the read ends with this error) to get the same error
        // at the same place.
        let len = bytes.len();
        let mut ended = false;
        while bytes.len() < len + 8 {
            let buf = self.input.fill_buf().map_err(ReadError::Io)?;
            if buf.is_empty() {
                ended = true;
                break;
            }
            let n = buf.len().min(len + 8 - bytes.len());
            bytes.extend_from_slice(&buf[..n]);
            self.advance(n);
        }
        if let Err(again) = serde_json::from_slice::<T>(bytes) {
            e = again;
        }
        let (line, column) = match e.line() {
            0 => (span.line, span.column0 + 1),
            1 => (span.line, span.column0 + e.column()),
            l => (span.line + l - 1, e.column()),
        };
        Err(match json_error(e, at) {
            ReadError::Syntax { detail, .. } if span.bare && detail == "trailing characters" => {
                ReadError::Syntax { at, line, column, detail: then.to_string() }
            }
            ReadError::Syntax { detail, .. } => ReadError::Syntax { at, line, column, detail },
            ReadError::Truncated { .. } if ended => ReadError::Truncated { at, line, column },
            ReadError::Truncated { .. } => {
                ReadError::Syntax { at, line, column, detail: "invalid value".into() }
            }
            other => other,
        })
    }
}

/// serde_json's words for what may follow a value in an object, and in an array.
const OBJECT_NEXT: &str = "expected `,` or `}`";
const ARRAY_NEXT: &str = "expected `,` or `]`";

fn read_document<R: Read, E, F>(input: BufReader<R>, handle: &mut F) -> Result<Summary, Failure<E>>
where
    F: FnMut(Item) -> Result<(), E>,
{
    let whole = Position::Whole;
    let mut sc = Scanner::new(input);
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut object = Map::new();
    let mut resource_type: Option<String> = None;
    let mut entries = Entries { resources: 0, skipped: 0 };
    let mut streamed = false;
    let mut entries_before_type = false;
    // Bytes of the keys and values kept in `object`: the document less its streamed entries.
    let mut held = 0u64;

    match sc.skip_ws()? {
        Some(b'{') => sc.bump(),
        Some(b) => {
            return Err(ReadError::NotAnObject { at: whole, found: describe_start(b) }.into())
        }
        None => return Err(ReadError::Empty.into()),
    }
    let mut first = true;
    loop {
        match sc.next_token(whole)? {
            b'"' => {}
            b'}' if first => {
                sc.bump();
                break;
            }
            b'}' => return Err(sc.syntax(whole, "trailing comma").into()),
            _ => return Err(sc.syntax(whole, "key must be a string").into()),
        }
        let span = sc.capture(&mut buf, 1, MAX_RESOURCE_BYTES - held, whole)?;
        let key: String = sc.parse(&mut buf, &span, whole, "expected `:`")?;
        held += buf.len() as u64;
        match sc.next_token(whole)? {
            b':' => sc.bump(),
            _ => return Err(sc.syntax(whole, "expected `:`").into()),
        }
        if object.contains_key(&key) || (streamed && key == "entry") {
            return Err(ReadError::DuplicateKey { at: whole, key }.into());
        }
        let streams = key == "entry" && resource_type.as_deref().is_none_or(|t| t == "Bundle");
        if streams {
            if resource_type.is_none() {
                entries_before_type = true;
            }
            streamed = true;
            stream_entries(&mut sc, &mut buf, &mut entries, handle)?;
        } else {
            let span = sc.capture(&mut buf, 1, MAX_RESOURCE_BYTES - held, whole)?;
            let value: Value = sc.parse(&mut buf, &span, whole, OBJECT_NEXT)?;
            held += buf.len() as u64;
            if key == "resourceType" {
                if let Value::String(t) = &value {
                    resource_type = Some(t.clone());
                }
            }
            object.insert(key, value);
        }
        match sc.next_token(whole)? {
            b',' => sc.bump(),
            b'}' => {
                sc.bump();
                break;
            }
            _ => return Err(sc.syntax(whole, OBJECT_NEXT).into()),
        }
        first = false;
    }
    if sc.skip_ws()?.is_some() {
        let (line, column) = sc.cur.here();
        return Err(ReadError::TrailingData { line, column }.into());
    }
    match resource_type.as_deref() {
        Some("Bundle") => {
            let bundle_type = object.get("type").and_then(Value::as_str).map(str::to_owned);
            Ok(Summary {
                kind: InputKind::Bundle { bundle_type },
                resources: entries.resources,
                skipped: entries.skipped,
            })
        }
        _ if entries_before_type => Err(ReadError::EntriesBeforeType.into()),
        _ => {
            let item = to_item(Value::Object(object), whole, None)?;
            handle(item).map_err(Failure::Handler)?;
            Ok(Summary { kind: InputKind::Resource, resources: 1, skipped: 0 })
        }
    }
}

struct Entries {
    resources: u64,
    skipped: u64,
}

/// Walks `Bundle.entry` (the scanner is at its value), handing each resource to `handle`.
fn stream_entries<R: Read, E, F>(
    sc: &mut Scanner<R>,
    buf: &mut Vec<u8>,
    entries: &mut Entries,
    handle: &mut F,
) -> Result<(), Failure<E>>
where
    F: FnMut(Item) -> Result<(), E>,
{
    let whole = Position::Whole;
    match sc.next_token(whole)? {
        b'[' => sc.bump(),
        b'{' => return Err(ReadError::EntryNotArray.into()),
        _ => {
            // A string, number or literal: a malformed one is a syntax error first.
            let span = sc.capture(buf, 1, MAX_RESOURCE_BYTES, whole)?;
            sc.parse::<Value>(buf, &span, whole, OBJECT_NEXT)?;
            return Err(ReadError::EntryNotArray.into());
        }
    }
    let mut index = 0usize;
    if sc.next_token(Position::Entry(0))? == b']' {
        sc.bump();
        return Ok(());
    }
    loop {
        let at = Position::Entry(index);
        let span = sc.capture(buf, 2, MAX_RESOURCE_BYTES, at)?;
        let entry: Value = sc.parse(buf, &span, at, ARRAY_NEXT)?;
        match entry_item(entry, at)? {
            Some(item) => {
                handle(item).map_err(Failure::Handler)?;
                entries.resources += 1;
            }
            None => entries.skipped += 1,
        }
        index += 1;
        let next = Position::Entry(index);
        match sc.next_token(next)? {
            b',' => sc.bump(),
            b']' => {
                sc.bump();
                return Ok(());
            }
            _ => return Err(sc.syntax(next, ARRAY_NEXT).into()),
        }
        if sc.next_token(next)? == b']' {
            return Err(sc.syntax(next, "trailing comma").into());
        }
    }
}

fn entry_item(entry: Value, at: Position) -> Result<Option<Item>, ReadError> {
    let Value::Object(mut entry) = entry else {
        return Err(ReadError::NotAnObject { at, found: describe_value(&entry) });
    };
    let full_url = match entry.get("fullUrl") {
        Some(Value::String(u)) if !u.is_empty() => Some(u.clone()),
        _ => None,
    };
    match entry.remove("resource") {
        Some(resource @ Value::Object(_)) => to_item(resource, at, full_url).map(Some),
        Some(other) => Err(ReadError::NotAnObject { at, found: describe_value(&other) }),
        None => {
            let method = entry
                .get("request")
                .and_then(|r| r.get("method"))
                .and_then(Value::as_str)
                .unwrap_or("");
            // A request that carries no resource (DELETE/GET/HEAD), or a batch/transaction
            // response entry that only reports a status: nothing to store.
            if matches!(method, "DELETE" | "GET" | "HEAD") || entry.contains_key("response") {
                Ok(None)
            } else {
                Err(ReadError::EntryWithoutResource { at })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn run(input: &[u8], hint: FormatHint) -> Result<(Summary, Vec<Item>), ReadError> {
        let mut items = Vec::new();
        let r = read(Cursor::new(input.to_vec()), hint, |i| {
            items.push(i);
            Ok::<(), ()>(())
        });
        match r {
            Ok(s) => Ok((s, items)),
            Err(Failure::Read(e)) => Err(e),
            Err(Failure::Handler(())) => unreachable!(),
        }
    }

    #[test]
    fn bundle_streams_entries_in_order_and_keeps_text() {
        let b = br#"{"resourceType":"Bundle","type":"collection","entry":[
            {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"p","name":[{"text":"x"}]}},
            {"resource":{"resourceType":"Observation","id":"o","valueQuantity":{"value":1.50}}},
            {"request":{"method":"DELETE","url":"Patient/9"}}
        ]}"#;
        let (s, items) = run(b, FormatHint::Detect).unwrap();
        assert_eq!(s.kind, InputKind::Bundle { bundle_type: Some("collection".into()) });
        assert_eq!((s.resources, s.skipped), (2, 1));
        assert_eq!(items[0].full_url.as_deref(), Some("urn:uuid:1"));
        assert_eq!(items[1].position, Position::Entry(1));
        assert_eq!(
            serde_json::to_string(&items[1].resource).unwrap(),
            r#"{"resourceType":"Observation","id":"o","valueQuantity":{"value":1.50}}"#
        );
    }

    #[test]
    fn ndjson_detected_and_line_numbers() {
        let b = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n\n{\"resourceType\":\"Patient\",\"id\":\"b\"}\n";
        let (s, items) = run(b, FormatHint::Detect).unwrap();
        assert_eq!(s.kind, InputKind::Ndjson);
        assert_eq!(items[1].position, Position::Line(3));
        let bad = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"id\":\n";
        match run(bad, FormatHint::Detect) {
            Err(ReadError::Truncated { at: Position::Line(2), .. }) => {}
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn single_resource_and_bom() {
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice(br#"{"resourceType":"Basic","id":"x","_id":{"extension":[]}}"#);
        let (s, items) = run(&b, FormatHint::Detect).unwrap();
        assert_eq!(s.kind, InputKind::Resource);
        assert_eq!(items[0].resource_type, "Basic");
    }

    #[test]
    fn list_entries_are_not_bundle_entries() {
        let b = br#"{"resourceType":"List","id":"l","status":"current","mode":"working","entry":[{"item":{"reference":"Patient/1"}}]}"#;
        let (s, items) = run(b, FormatHint::Detect).unwrap();
        assert_eq!(s.kind, InputKind::Resource);
        assert_eq!(items[0].resource["entry"][0]["item"]["reference"], "Patient/1");
    }

    #[test]
    fn bad_inputs_have_clear_errors() {
        let cases: Vec<(&[u8], &str)> = vec![
            (b"", "empty"),
            (b"  \n ", "empty"),
            (b"<?xml version=\"1.0\"?><Patient/>", "XML"),
            (b"<!DOCTYPE html><html><body>502</body></html>", "HTML"),
            (b"[1,2]", "array"),
            (b"42", "number"),
            (b"{\"id\":\"x\"}", "no resourceType"),
            (b"{\"resourceType\":5,\"id\":\"x\"}", "not a valid FHIR type"),
            (b"{\"resourceType\":\"Patient\"}", "no id"),
            (b"{\"resourceType\":\"Patient\",\"id\":\"a b\"}", "not a valid FHIR id"),
            (b"{\"resourceType\":\"Bundle\",\"entry\":{}}", "not a list"),
            (b"{\"resourceType\":\"Bundle\",\"entry\":[1]}", "entry 0: expected a JSON object"),
            (b"{\"resourceType\":\"Bundle\",\"entry\":[{\"fullUrl\":\"x\"}]}", "entry 0: a Bundle entry has no resource"),
            (b"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"a\"}},{\"resource\":{\"resourceType\":\"Pat", "entry 1: the file ends"),
            (b"{\"resourceType\":\"Patient\",\"id\":\"a\"} x", "unexpected data"),
            (b"{\"resourceType\":\"Patient\",\"id\":\"a\",\"id\":\"b\"}", "appears twice"),
            (b"\xFF\xFE{\x00", "UTF-16"),
            (b"{\"resourceType\":\"Patient\",\"id\":\"a\",\"name\":[{\"text\":\"\xC3\x28\"}]}", "UTF-8"),
        ];
        for (input, want) in cases {
            let Err(err) = run(input, FormatHint::Detect) else { panic!("accepted: {want}") };
            let err = err.to_string();
            assert!(err.contains(want), "{want:?} not in {err:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_stack_overflow() {
        let mut s = String::from("{\"resourceType\":\"Basic\",\"id\":\"x\",\"a\":");
        s.push_str(&"[".repeat(100_000));
        s.push_str(&"]".repeat(100_000));
        s.push('}');
        let Err(err) = run(s.as_bytes(), FormatHint::Detect) else { panic!("accepted") };
        assert!(matches!(err, ReadError::TooDeep { .. }), "{err:?}");
    }

    #[test]
    fn oversized_ndjson_line_is_refused() {
        let mut s = String::from("{\"resourceType\":\"Basic\",\"id\":\"x\",\"t\":\"");
        s.push_str(&"a".repeat(MAX_RESOURCE_BYTES as usize + 10));
        s.push_str("\"}\n{\"resourceType\":\"Basic\",\"id\":\"y\"}\n");
        let Err(err) = run(s.as_bytes(), FormatHint::Ndjson) else { panic!("accepted") };
        assert!(matches!(err, ReadError::TooLarge { at: Position::Line(1), .. }), "{err:?}");
    }

    #[test]
    fn oversized_bundle_entry_is_refused() {
        let mut s = String::from("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Basic\",\"id\":\"x\",\"t\":\"");
        s.push_str(&"a".repeat(MAX_RESOURCE_BYTES as usize + 1000));
        s.push_str("\"}}]}");
        let Err(err) = run(s.as_bytes(), FormatHint::Detect) else { panic!("accepted") };
        assert!(matches!(err, ReadError::TooLarge { at: Position::Entry(0), .. }), "{err:?}");
    }

    /// What a read produced, to compare runs without printing any of it.
    fn outcome(r: Result<Summary, Failure<()>>, items: &[Item]) -> String {
        match r {
            Ok(s) => {
                let mut out = format!("{s:?}");
                for i in items {
                    out.push_str(&format!("|{:?}|{:?}|", i.position, i.full_url));
                    out.push_str(&serde_json::to_string(&i.resource).unwrap());
                }
                out
            }
            Err(Failure::Read(e)) => format!("error: {e}"),
            Err(Failure::Handler(())) => unreachable!(),
        }
    }

    fn read_document_with_capacity(input: &[u8], capacity: usize) -> String {
        let mut items = Vec::new();
        let r = read_document(BufReader::with_capacity(capacity, Cursor::new(input)), &mut |i| {
            items.push(i);
            Ok::<(), ()>(())
        });
        outcome(r, &items)
    }

    #[test]
    fn tiny_buffers_give_the_same_result() {
        // Every value, escape and newline ends up split across buffer fills somewhere.
        let good = "{\"resourceType\" : \"Bundle\",\r\n \"type\":\"batch\",\"meta\":{\"tag\":[\"]}\\\\\",\"\\\"]}\"]},\n\"entry\":[\n\
            {\"fullUrl\":\"urn:uuid:\\u0031\",\"resource\":{\"resourceType\":\"Basic\",\"id\":\"a\",\"x\":[1.50,-0.0e+5,true,null,{\"\\\\\":\"\\\"\\\\\\\"\"}]}} ,\n\
            {\"request\":{\"method\":\"DELETE\"}},{\"resource\":{\"resourceType\":\"Basic\",\"id\":\"b\",\"t\":\"\u{65e5}\u{672c} \\ud83d\\ude00\"}}\n\
            ] , \"signature\" :{\"data\":\"}]\"} }\n";
        let bad_inner = good.replace("-0.0e+5", "-0.0e+");
        let bad_escape = good.replace("\\u0031\"", "\\u0\"31\"");
        let bad_literal = good.replace("true,", "tru,");
        let bad_tail = good.replace(" ,\n", " ;\n");
        let cut = &good[..good.len() - 40];
        let deep = format!(
            "{{\"resourceType\":\"Basic\",\"id\":\"x\",\"a\":{}1{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        for bad in [&bad_inner, &bad_escape, &bad_literal, &bad_tail] {
            assert!(bad.as_str() != good);
        }
        for doc in [good, &bad_inner, &bad_escape, &bad_literal, &bad_tail, cut, &deep] {
            let want = read_document_with_capacity(doc.as_bytes(), 256 * 1024);
            for capacity in 1..=17 {
                let got = read_document_with_capacity(doc.as_bytes(), capacity);
                assert!(got == want, "capacity {capacity} differs (input of {} bytes)", doc.len());
            }
        }
        assert!(read_document_with_capacity(good.as_bytes(), 1).starts_with("Summary"));
    }

    #[test]
    fn syntax_errors_point_into_the_whole_file() {
        let doc = "{\"resourceType\":\"Bundle\",\n\"entry\":[\n {\"resource\":{\"resourceType\":\"Basic\",\"id\":\"a\"}},\n {\"resource\":{\"resourceType\":\"Basic\",\n   \"id\":\"b\",\n   \"x\": [1, 2 3]}}]}";
        let whole = serde_json::from_str::<Value>(doc).unwrap_err();
        let Err(err) = run(doc.as_bytes(), FormatHint::Detect) else { panic!("accepted") };
        let ReadError::Syntax { at, line, column, .. } = err else { panic!("{err}") };
        assert_eq!(at, Position::Entry(1));
        assert_eq!((line, column), (whole.line(), whole.column()));
        assert_eq!(line, 6);
    }

    #[test]
    fn nesting_limit_is_the_one_serde_json_has() {
        for levels in 120..135 {
            // The Bundle, its entry list, the entry and the resource are 4 levels.
            let inner = levels - 4;
            let doc = format!(
                "{{\"resourceType\":\"Bundle\",\"entry\":[{{\"resource\":{{\"resourceType\":\"Basic\",\"id\":\"a\",\"x\":{}{}}}}}]}}",
                "[".repeat(inner),
                "]".repeat(inner)
            );
            let whole_ok = serde_json::from_str::<Value>(&doc).is_ok();
            let ours = run(doc.as_bytes(), FormatHint::Detect);
            assert_eq!(ours.is_ok(), whole_ok, "{levels} levels");
            if let Err(e) = ours {
                assert!(
                    matches!(e, ReadError::TooDeep { at: Position::Entry(0) }),
                    "{levels}: {e}"
                );
            }
        }
    }

    #[test]
    fn oversized_top_level_values_are_refused() {
        let big = "a".repeat(MAX_RESOURCE_BYTES as usize + 10);
        let single = format!("{{\"resourceType\":\"Basic\",\"id\":\"x\",\"t\":\"{big}\"}}");
        let Err(err) = run(single.as_bytes(), FormatHint::Detect) else { panic!("accepted") };
        assert!(matches!(err, ReadError::TooLarge { at: Position::Whole, .. }), "{err}");
        // Several values that are each under the limit but together over it.
        let half = "a".repeat(MAX_RESOURCE_BYTES as usize / 2);
        let split = format!(
            "{{\"resourceType\":\"Basic\",\"id\":\"x\",\"t\":\"{half}\",\"u\":\"{half}\"}}"
        );
        let Err(err) = run(split.as_bytes(), FormatHint::Detect) else { panic!("accepted") };
        assert!(matches!(err, ReadError::TooLarge { at: Position::Whole, .. }), "{err}");
        let meta =
            format!("{{\"resourceType\":\"Bundle\",\"meta\":{{\"t\":\"{big}\"}},\"entry\":[]}}");
        let Err(err) = run(meta.as_bytes(), FormatHint::Detect) else { panic!("accepted") };
        assert!(matches!(err, ReadError::TooLarge { at: Position::Whole, .. }), "{err}");
        // Entries have their own budget each.
        let entry = format!(
            "{{\"resource\":{{\"resourceType\":\"Basic\",\"id\":\"x\",\"t\":\"{half}\"}}}}"
        );
        let ok = format!("{{\"resourceType\":\"Bundle\",\"entry\":[{entry},{entry},{entry}]}}");
        let (s, _) = run(ok.as_bytes(), FormatHint::Detect).unwrap();
        assert_eq!(s.resources, 3);
    }

    #[test]
    fn top_level_structure_errors() {
        let cases: Vec<(&[u8], &str)> = vec![
            (b"{\"resourceType\":\"Bundle\",\"entry\":[],\"entry\":[]}", "appears twice"),
            (b"{\"resourceType\":\"Bundle\",\"entry\":\"x\"}", "not a list"),
            (b"{\"resourceType\":\"Bundle\",\"entry\":tru}", "invalid JSON"),
            (
                b"{\"resourceType\":\"Bundle\",\"entry\":[,]}",
                "entry 0: invalid JSON at line 1, column 35 (expected value)",
            ),
            (
                b"{\"resourceType\":\"Bundle\",\"entry\":[{\"request\":{\"method\":\"GET\"}},]}",
                "entry 1: invalid JSON at line 1, column 64 (trailing comma)",
            ),
            (
                b"{\"resourceType\":\"Bundle\",\"entry\":[{\"request\":{\"method\":\"GET\"}} {}]}",
                "entry 1: invalid JSON at line 1, column 64 (expected `,` or `]`)",
            ),
            (b"{\"resourceType\":\"Bundle\" \"entry\":[]}", "column 26 (expected `,` or `}`)"),
            (b"{\"resourceType\" \"Bundle\"}", "column 17 (expected `:`)"),
            (b"{\"resourceType\":\"Bundle\",}", "column 26 (trailing comma)"),
            (b"{\"resourceType\":\"Bundle\",1:2}", "column 26 (key must be a string)"),
            (b"{\"entry\":[],\"resourceType\":\"Bundle\",\"type\":\"x\"}", ""),
            (b"{\"entry\":[],\"resourceType\":\"List\"}", "put resourceType first"),
            (b"{\"resourceType\":\"Basic\",\"id\":\"a\"}\n\n  }", "(line 3, column 3)"),
            (
                b"{\"resourceType\":\"Basic\",\n\"id\":\"a\",\"n\":1",
                "the file ends in the middle of the JSON (line 2, column 14)",
            ),
            (b"{\"resourceType\":\"Basic\",\"id\":\"a\",\"n\":tr", "the file ends"),
            (b"{\"resourceType\":\"Basic\",\"id\":\"a\",\"n\":-", "the file ends"),
        ];
        for (input, want) in cases {
            let whole = serde_json::from_slice::<Value>(input);
            match run(input, FormatHint::Detect) {
                Ok(_) => assert!(want.is_empty(), "accepted: {want}"),
                Err(err) => {
                    let err = err.to_string();
                    assert!(!want.is_empty() && err.contains(want), "{want:?} not in {err:?}");
                }
            }
            // Where serde_json finds a syntax error in the whole file, ours is at the same place.
            if let (Err(w), Err(ReadError::Syntax { line, column, .. })) =
                (whole, run(input, FormatHint::Detect))
            {
                assert_eq!((line, column), (w.line(), w.column()), "{want}");
            }
        }
    }

    #[test]
    fn handler_error_stops_the_read() {
        let b = br#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"a"}},{"resource":{"resourceType":"Patient","id":"b"}}]}"#;
        let mut n = 0;
        let r = read(Cursor::new(b.to_vec()), FormatHint::Detect, |_| {
            n += 1;
            Err::<(), _>("stop")
        });
        assert!(matches!(r, Err(Failure::Handler("stop"))));
        assert_eq!(n, 1);
    }
}

#[cfg(test)]
mod response_entries {
    use super::*;

    #[test]
    fn response_only_entries_are_skipped() {
        let b = br#"{"resourceType":"Bundle","type":"transaction-response","entry":[
            {"response":{"status":"201 Created","location":"Patient/1/_history/1"}},
            {"resource":{"resourceType":"Patient","id":"1"},"response":{"status":"200 OK"}}]}"#;
        let mut n = 0;
        let s = read(std::io::Cursor::new(b.to_vec()), FormatHint::Detect, |_| {
            n += 1;
            Ok::<(), ()>(())
        });
        let Ok(s) = s else { panic!("refused") };
        assert_eq!((s.resources, s.skipped, n), (1, 1, 1));
    }
}
