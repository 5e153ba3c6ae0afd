//! Property and robustness tests for the document path of the streaming reader, plus an
//! opt-in throughput measurement (`TECHO_READER_BENCH=/path/to/bundle.json`).

use proptest::prelude::*;
use serde_json::Value;
use std::io::Cursor;
use techo_fhir::reader::{
    read, Failure, FormatHint, InputKind, Item, Position, ReadError, Summary,
};

fn run(input: &[u8]) -> Result<(Summary, Vec<Item>), ReadError> {
    let mut items = Vec::new();
    match read(Cursor::new(input), FormatHint::Detect, |i| {
        items.push(i);
        Ok::<(), ()>(())
    }) {
        Ok(s) => Ok((s, items)),
        Err(Failure::Read(e)) => Err(e),
        Err(Failure::Handler(())) => unreachable!(),
    }
}

fn texts<'a>(values: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    values.into_iter().map(|v| serde_json::to_string(v).unwrap()).collect()
}

/// The resources of a Bundle as serde_json sees them parsing the whole document at once.
fn reference_resources(doc: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(doc).expect("generated documents are valid JSON");
    // A Bundle may have no entries at all (here: when a corrupted byte renamed the key).
    let Some(entries) = v.get("entry") else { return Vec::new() };
    texts(entries.as_array().expect("entry list").iter().map(|e| &e["resource"]))
}

/// Compares without printing either side (they stand in for health data).
fn assert_same(got: &[String], want: &[String]) {
    assert_eq!(got.len(), want.len(), "number of resources");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g == w, "resource {i} differs ({} vs {} bytes)", g.len(), w.len());
    }
}

/// A generated document; shrunk failures show its length only.
#[derive(Clone)]
struct Doc(String);

impl std::fmt::Debug for Doc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<a document of {} bytes>", self.0.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Generators: JSON text (not `Value`s) so that number spellings, escapes and whitespace vary.

fn ws() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", " ", "\n", "\r\n", "\t", "  \n    "])
}

fn json_string() -> impl Strategy<Value = String> {
    let parts = prop::sample::select(vec![
        "a",
        "Zz",
        "0",
        " ",
        "]}",
        "}]",
        "{[",
        ",",
        ":",
        "\\\"",
        "\\\\",
        "\\/",
        "\\n",
        "\\t",
        "\\b\\f\\r",
        "\\u00e9",
        "\\u0022",
        "\\u005C",
        "\\ud83d\\ude00",
        "\u{e9}",
        "\u{65e5}\u{672c}",
        "\u{1F600}",
        "\\\\\\\"",
        "\\\\\\\\",
        "\\\"]}\\\"",
        "'",
    ]);
    prop::collection::vec(parts, 0..8).prop_map(|p| format!("\"{}\"", p.concat()))
}

fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "-0",
            "1",
            "-1",
            "1.50",
            "-0.0e+5",
            "1e10",
            "2E-3",
            "3.14159",
            "0.000",
            "12345678901234567890123456789",
            "-9.999999999999999999e-300",
        ])
        .prop_map(String::from),
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<i32>(), 0u32..100_000, 0usize..6).prop_map(|(a, b, w)| format!("{a}.{b:0w$}")),
    ]
}

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => json_number(),
        3 => json_string(),
        1 => prop::sample::select(vec!["true", "false", "null"]).prop_map(String::from),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec((ws(), inner.clone(), ws()), 0..6).prop_map(|xs| {
                let items: Vec<String> =
                    xs.into_iter().map(|(a, v, b)| format!("{a}{v}{b}")).collect();
                format!("[{}]", items.join(","))
            }),
            prop::collection::vec((ws(), json_string(), ws(), inner, ws()), 0..6).prop_map(|xs| {
                let members: Vec<String> =
                    xs.into_iter().map(|(a, k, b, v, c)| format!("{a}{k}{b}:{v}{c}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// A resource and how many members its object has.
fn resource_with_size(index: usize) -> impl Strategy<Value = (String, usize)> {
    (ws(), prop::collection::vec((json_string(), ws(), json_value()), 0..5)).prop_map(
        move |(w, fields)| {
            let members = 2 + fields.len();
            let mut s = format!("{{{w}\"resourceType\"{w}:{w}\"Basic\",\"id\":{w}\"r{index}\"");
            for (k, w2, v) in fields {
                // Keys are generated from fragments that never spell `id` or `resourceType`.
                s.push_str(&format!(",{w2}{k}{w2}:{w2}{v}"));
            }
            s.push_str(w);
            s.push('}');
            (s, members)
        },
    )
}

fn resource(index: usize) -> impl Strategy<Value = String> {
    resource_with_size(index).prop_map(|(s, _)| s)
}

fn entry(index: usize) -> impl Strategy<Value = String> {
    (resource(index), prop::option::of(json_value()), any::<bool>(), ws()).prop_map(
        move |(res, extra, before, w)| {
            let extra = extra.map(|v| format!("\"search\":{w}{v}"));
            let mut members =
                vec![format!("\"fullUrl\":\"urn:uuid:{index}\""), format!("\"resource\":{w}{res}")];
            if let Some(x) = extra {
                if before {
                    members.insert(0, x);
                } else {
                    members.push(x);
                }
            }
            format!("{{{w}{}{w}}}", members.join(&format!(",{w}")))
        },
    )
}

fn bundle() -> impl Strategy<Value = Doc> {
    (0usize..8)
        .prop_flat_map(|n| {
            let entries: Vec<_> = (0..n).map(|i| (ws(), entry(i), ws())).collect();
            (entries, prop::option::of(json_value()), prop::option::of(json_value()), ws())
        })
        .prop_map(|(entries, meta, signature, w)| {
            let mut s =
                format!("{w}{{{w}\"resourceType\":{w}\"Bundle\",{w}\"type\":\"collection\"");
            if let Some(m) = meta {
                s.push_str(&format!(",\"meta\":{w}{m}"));
            }
            let entries: Vec<String> =
                entries.into_iter().map(|(a, e, b)| format!("{a}{e}{b}")).collect();
            s.push_str(&format!(",{w}\"entry\"{w}:{w}[{}]", entries.join(",")));
            if let Some(x) = signature {
                s.push_str(&format!(",\"signature\":{x}{w}"));
            }
            s.push('}');
            s.push_str(w);
            Doc(s)
        })
}

/// Replaces one byte with something likely to break the JSON.
fn corrupt(doc: &str, at: usize, with: u8) -> Vec<u8> {
    let mut b = doc.as_bytes().to_vec();
    let i = at % b.len();
    b[i] = with;
    b
}

proptest! {
    // 512 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    /// The scanner-based read yields exactly the values serde_json finds parsing the whole
    /// document, in order and with their positions.
    #[test]
    fn bundles_read_as_serde_json_parses_them(doc in bundle()) {
        let doc = doc.0;
        let want = reference_resources(doc.as_bytes());
        let Ok((summary, items)) = run(doc.as_bytes()) else { panic!("refused a valid Bundle") };
        prop_assert_eq!(summary.kind, InputKind::Bundle { bundle_type: Some("collection".into()) });
        prop_assert_eq!(summary.resources as usize, want.len());
        for (i, item) in items.iter().enumerate() {
            prop_assert_eq!(item.position, Position::Entry(i));
            prop_assert_eq!(item.full_url.clone(), Some(format!("urn:uuid:{i}")));
        }
        assert_same(&texts(items.iter().map(|i| &i.resource)), &want);
    }

    /// A single resource reads as the whole document; a key twice in it is refused.
    #[test]
    fn single_resources_read_as_serde_json_parses_them(
        (doc, members) in resource_with_size(7).prop_map(|(s, n)| (Doc(s), n)),
    ) {
        let doc = doc.0;
        let want: Value = serde_json::from_str(&doc).unwrap();
        let unique = want.as_object().unwrap().len() == members;
        match run(doc.as_bytes()) {
            Ok((summary, items)) => {
                prop_assert!(unique, "accepted a key twice");
                prop_assert_eq!(summary.kind, InputKind::Resource);
                assert_same(&texts([&items[0].resource]), &texts([&want]));
            }
            Err(e) => prop_assert!(!unique && matches!(e, ReadError::DuplicateKey { .. }), "{}", e),
        }
    }

    /// One broken byte: refused exactly when serde_json refuses the whole document, and a syntax
    /// error is where serde_json finds it.
    #[test]
    fn corrupted_bundles_fail_like_serde_json(
        doc in bundle(),
        at in any::<usize>(),
        with in prop::sample::select(b"{}[],:\"\\x0-. \n\xff".to_vec()),
    ) {
        let bytes = corrupt(&doc.0, at, with);
        let whole = serde_json::from_slice::<Value>(&bytes);
        match (run(&bytes), whole) {
            (Ok((summary, items)), Ok(v)) => {
                let got = texts(items.iter().map(|i| &i.resource));
                match summary.kind {
                    InputKind::Bundle { .. } => assert_same(&got, &reference_resources(&bytes)),
                    InputKind::Resource => assert_same(&got, &texts([&v])),
                    InputKind::Ndjson => panic!("a Bundle read as NDJSON"),
                }
            }
            (Ok(_), Err(_)) => panic!("accepted what serde_json refuses"),
            (Err(e), Ok(_)) => prop_assert!(
                !matches!(e, ReadError::Syntax { .. } | ReadError::Truncated { .. }
                    | ReadError::TrailingData { .. } | ReadError::NotUtf8 { .. } | ReadError::TooDeep { .. }),
                "a JSON error for valid JSON: {}", e
            ),
            (Err(ReadError::Syntax { line, column, detail, .. }), Err(w)) => {
                let wd = w.to_string();
                prop_assert_eq!((line, column), (w.line(), w.column()), "{} vs {}", detail, wd);
                prop_assert!(wd.starts_with(&detail), "{} vs {}", detail, wd);
            }
            (Err(ReadError::TrailingData { line, column }), Err(w)) => {
                prop_assert_eq!((line, column), (w.line(), w.column()));
            }
            (Err(_), Err(_)) => {}
        }
    }
}

#[test]
fn brackets_and_escapes_inside_strings_do_not_confuse_the_scanner() {
    // Strings holding `]}`, `{[`, `\"`, `\\`, `\\\"` and a string ending in an escaped backslash,
    // as values and as keys, inside entries and in the Bundle around them.
    let doc = r#"{"resourceType":"Bundle","type":"]}","meta":{"]}":"{[","\"":"\\"},"entry":[
        {"fullUrl":"]}","resource":{"resourceType":"Basic","id":"a","t":"]}","u":"\\\"","v":"\\"}},
        {"resource":{"resourceType":"Basic","id":"b","t":"\"]},{\"","w":["]","}",["\\"],{"}":"]"}]}},
        {"resource":{"resourceType":"Basic","id":"c","\"]}\\":"x\\\\\"]}"}}
    ],"signature":{"data":"]}\"]}"}}"#;
    let want = reference_resources(doc.as_bytes());
    let Ok((summary, items)) = run(doc.as_bytes()) else { panic!("refused") };
    assert_eq!(summary.kind, InputKind::Bundle { bundle_type: Some("]}".into()) });
    assert_eq!(summary.resources, 3);
    assert_eq!(items[0].full_url.as_deref(), Some("]}"));
    assert_same(&texts(items.iter().map(|i| &i.resource)), &want);
}

#[test]
fn every_truncation_of_a_small_bundle_is_an_error() {
    let doc = "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\n\"entry\":[\n  \
        {\"fullUrl\":\"urn:uuid:1\",\"resource\":{\"resourceType\":\"Basic\",\"id\":\"a\",\n   \
        \"n\":[1.50,-0.0e+5,true,false,null],\"s\":\"]}\\\"\\\\\\u00e9\u{65e5}\"}},\n  \
        {\"request\":{\"method\":\"DELETE\"}}\n],\"total\":2}";
    let (summary, _) = run(doc.as_bytes()).expect("the whole input reads");
    assert_eq!((summary.resources, summary.skipped), (1, 1));
    for cut in 0..doc.len() {
        let prefix = &doc.as_bytes()[..cut];
        let Err(err) = run(prefix) else { panic!("accepted a prefix of {cut} bytes") };
        if cut == 0 {
            assert!(matches!(err, ReadError::Empty), "{cut}: {err}");
            continue;
        }
        let ReadError::Truncated { line, column, .. } = err else { panic!("{cut}: {err}") };
        // Where the input ends, counted as serde_json counts.
        let lines = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
        let last = prefix.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        assert_eq!((line, column), (lines, cut - last), "prefix of {cut} bytes");
    }
}

/// Throughput of `read` over a big file with a no-op callback. Run with
/// `TECHO_READER_BENCH=/tmp/big.json cargo test --release -p techo-fhir --test reader_props -- --nocapture reader_throughput`.
#[test]
fn reader_throughput() {
    let Ok(path) = std::env::var("TECHO_READER_BENCH") else {
        println!("skipped: set TECHO_READER_BENCH");
        return;
    };
    // CPU time of this thread (Linux), steadier than wall time on a busy machine.
    fn cpu_seconds() -> Option<f64> {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
    }
    let len = std::fs::metadata(&path).expect("bench input").len();
    let mb = len as f64 / 1e6;
    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    for round in 0..3 {
        let file = std::fs::File::open(&path).expect("bench input");
        let cpu = cpu_seconds();
        let t = std::time::Instant::now();
        let summary = match read(file, FormatHint::Detect, |_item| Ok::<(), ()>(())) {
            Ok(s) => s,
            Err(Failure::Read(e)) => panic!("read failed: {e}"),
            Err(Failure::Handler(())) => unreachable!(),
        };
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu.zip(cpu_seconds()).map_or(f64::NAN, |(a, b)| b - a);
        best = best.min(secs);
        best_cpu = best_cpu.min(cpu);
        println!(
            "round {round}: {len} bytes, {} resources, wall {secs:.3} s = {:.1} MB/s, \
             cpu {cpu:.3} s = {:.1} MB/s",
            summary.resources,
            mb / secs,
            mb / cpu
        );
    }
    println!("best: wall {:.1} MB/s, cpu {:.1} MB/s", mb / best, mb / best_cpu);
}
