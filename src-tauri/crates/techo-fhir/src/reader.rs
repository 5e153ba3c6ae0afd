//! Streaming reader for FHIR R4 JSON input: Bundles of any type, NDJSON and single resources.
//!
//! Memory does not grow with the input: a Bundle's `entry` array is walked one entry at a time
//! and every entry (or NDJSON line, or single resource) is limited to [`MAX_RESOURCE_BYTES`].
//! Every error says where it happened (the entry index, the line number, or the JSON
//! line/column) and never quotes the input: it may be health data.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::rc::Rc;

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
/// Bundle entries without a resource whose request is DELETE/GET/HEAD are skipped (Techo never
/// deletes on import); any other entry without a resource is an error.
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
            if let Some(limit) = io_too_large(&e) {
                return ReadError::TooLarge { at, limit };
            }
            // serde_json reports bad UTF-8 from a reader as an IO error of kind InvalidData.
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

fn io_too_large(e: &serde_json::Error) -> Option<u64> {
    if e.to_string().contains(TOO_LARGE_MARK) {
        Some(MAX_RESOURCE_BYTES >> 20)
    } else {
        None
    }
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
// The document path: one JSON object, walked with serde so that `entry` streams.

const TOO_LARGE_MARK: &str = "techo: resource over the size limit";

/// Counts bytes and refuses to give more than the limit past the current mark.
struct Counting<R> {
    inner: R,
    pos: Rc<Cell<u64>>,
    mark: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let pos = self.pos.get() + n as u64;
        self.pos.set(pos);
        if pos - self.mark.get() > MAX_RESOURCE_BYTES + 64 {
            return Err(io::Error::other(TOO_LARGE_MARK));
        }
        Ok(n)
    }
}

struct DocState<'h, E, F> {
    handle: &'h mut F,
    handler_error: Option<E>,
    read_error: Option<ReadError>,
    current: Position,
    resources: u64,
    skipped: u64,
    entries_before_type: bool,
    pos: Rc<Cell<u64>>,
    mark: Rc<Cell<u64>>,
}

fn read_document<R: Read, E, F>(input: BufReader<R>, handle: &mut F) -> Result<Summary, Failure<E>>
where
    F: FnMut(Item) -> Result<(), E>,
{
    let pos = Rc::new(Cell::new(0));
    let mark = Rc::new(Cell::new(0));
    let reader = Counting { inner: input, pos: pos.clone(), mark: mark.clone() };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut state = DocState {
        handle,
        handler_error: None,
        read_error: None,
        current: Position::Whole,
        resources: 0,
        skipped: 0,
        entries_before_type: false,
        pos,
        mark,
    };
    let top = de.deserialize_map(TopVisitor { state: &mut state });
    let top = match top {
        Ok(top) => top,
        Err(e) => {
            if let Some(h) = state.handler_error.take() {
                return Err(Failure::Handler(h));
            }
            if let Some(r) = state.read_error.take() {
                return Err(r.into());
            }
            return Err(json_error(e, state.current).into());
        }
    };
    if let Err(e) = de.end() {
        return Err(ReadError::TrailingData { line: e.line(), column: e.column() }.into());
    }
    let Top { object, resource_type } = top;
    match resource_type.as_deref() {
        Some("Bundle") => {
            let bundle_type = object.get("type").and_then(Value::as_str).map(str::to_owned);
            Ok(Summary {
                kind: InputKind::Bundle { bundle_type },
                resources: state.resources,
                skipped: state.skipped,
            })
        }
        _ if state.entries_before_type => Err(ReadError::EntriesBeforeType.into()),
        _ => {
            let item = to_item(Value::Object(object), Position::Whole, None)?;
            (state.handle)(item).map_err(Failure::Handler)?;
            Ok(Summary { kind: InputKind::Resource, resources: 1, skipped: 0 })
        }
    }
}

struct Top {
    object: Map<String, Value>,
    resource_type: Option<String>,
}

struct TopVisitor<'s, 'h, E, F> {
    state: &'s mut DocState<'h, E, F>,
}

impl<'de, E, F> Visitor<'de> for TopVisitor<'_, '_, E, F>
where
    F: FnMut(Item) -> Result<(), E>,
{
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a FHIR resource (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut object = Map::new();
        let mut resource_type: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let streams = key == "entry"
                && resource_type.as_deref().is_none_or(|t| t == "Bundle");
            if streams {
                if resource_type.is_none() {
                    self.state.entries_before_type = true;
                }
                map.next_value_seed(EntriesSeed { state: &mut *self.state })?;
                // Whatever follows the entries gets a fresh size budget.
                self.state.mark.set(self.state.pos.get());
                self.state.current = Position::Whole;
                continue;
            }
            let value: Value = map.next_value()?;
            if key == "resourceType" {
                if let Value::String(t) = &value {
                    resource_type = Some(t.clone());
                }
            }
            if object.contains_key(&key) {
                self.state.read_error =
                    Some(ReadError::DuplicateKey { at: Position::Whole, key: key.clone() });
                return Err(de::Error::custom("duplicate key"));
            }
            object.insert(key, value);
        }
        Ok(Top { object, resource_type })
    }
}

struct EntriesSeed<'s, 'h, E, F> {
    state: &'s mut DocState<'h, E, F>,
}

impl<'de, E, F> DeserializeSeed<'de> for EntriesSeed<'_, '_, E, F>
where
    F: FnMut(Item) -> Result<(), E>,
{
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, E, F> Visitor<'de> for EntriesSeed<'_, '_, E, F>
where
    F: FnMut(Item) -> Result<(), E>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Bundle entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.state;
        let mut index = 0usize;
        loop {
            state.current = Position::Entry(index);
            state.mark.set(state.pos.get());
            let Some(entry) = seq.next_element::<Value>()? else { break };
            let at = Position::Entry(index);
            match entry_item(entry, at) {
                Ok(Some(item)) => {
                    if let Err(e) = (state.handle)(item) {
                        state.handler_error = Some(e);
                        return Err(de::Error::custom("stopped by the importer"));
                    }
                    state.resources += 1;
                }
                Ok(None) => state.skipped += 1,
                Err(e) => {
                    state.read_error = Some(e);
                    return Err(de::Error::custom("bad entry"));
                }
            }
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<(), A::Error> {
        self.not_array()
    }
    fn visit_str<Er: de::Error>(self, _v: &str) -> Result<(), Er> {
        self.not_array()
    }
    fn visit_bool<Er: de::Error>(self, _v: bool) -> Result<(), Er> {
        self.not_array()
    }
    fn visit_i64<Er: de::Error>(self, _v: i64) -> Result<(), Er> {
        self.not_array()
    }
    fn visit_u64<Er: de::Error>(self, _v: u64) -> Result<(), Er> {
        self.not_array()
    }
    fn visit_f64<Er: de::Error>(self, _v: f64) -> Result<(), Er> {
        self.not_array()
    }
    fn visit_unit<Er: de::Error>(self) -> Result<(), Er> {
        self.not_array()
    }
}

impl<E, F> EntriesSeed<'_, '_, E, F> {
    fn not_array<Er: de::Error>(self) -> Result<(), Er> {
        self.state.read_error = Some(ReadError::EntryNotArray);
        Err(Er::custom("entry is not an array"))
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
            if matches!(method, "DELETE" | "GET" | "HEAD") {
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
