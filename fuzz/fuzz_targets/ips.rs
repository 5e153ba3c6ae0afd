//! The International Patient Summary from arbitrary records: the input JSON is taken as a
//! Bundle's resources (a Bundle's `entry[].resource`, an array of resources, or one resource),
//! built into an IPS and a JP six-item summary, and the result checked by the validator. None
//! may panic. The same records also go through the bounded `IpsCollector` (as their JSON
//! text, plus the raw input text under every type it reads).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use techo_share::ips::{build_ips, IpsCollector, IpsOptions, IpsVariant, SourcedResource};
use techo_share::ips_check::{check_document, check_ips, check_jp_six};
use techo_share::Lang;

const TYPES: &[&str] = &["Patient", "Condition", "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Observation", "Procedure", "Immunization", "Organization", "Encounter"];

fn options(variant: IpsVariant, lang: Lang, withheld: bool) -> IpsOptions {
    IpsOptions {
        lang,
        variant,
        timestamp: "2026-01-01T09:00:00+09:00".to_owned(),
        document_id: "6f1c1e0a-3a51-4a8e-9f3e-2b7d5c9a0e11".to_owned(),
        withheld,
        author: "Techo".to_owned(),
    }
}

fn build_and_check(resources: &[SourcedResource]) {
    for (variant, lang, withheld) in [(IpsVariant::Ips, Lang::En, false), (IpsVariant::Ips, Lang::Ja, true), (IpsVariant::JpSix, Lang::Ja, false)] {
        if let Ok(doc) = build_ips(resources, &options(variant, lang, withheld)) {
            let _ = check_document(&doc);
            match variant {
                IpsVariant::Ips => std::hint::black_box(check_ips(&doc)),
                IpsVariant::JpSix => std::hint::black_box(check_jp_six(&doc)),
            };
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let values: Vec<Value> = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => items,
        Ok(v) if v.get("entry").is_some_and(Value::is_array) => {
            v["entry"].as_array().into_iter().flatten().filter_map(|e| e.get("resource").cloned()).collect()
        }
        Ok(v) => vec![v],
        Err(_) => Vec::new(),
    };
    let resources: Vec<SourcedResource> = values
        .iter()
        .enumerate()
        .map(|(i, v)| SourcedResource { resource: v.clone(), sources: if i % 2 == 0 { vec!["Fuzz Clinic".to_owned()] } else { Vec::new() } })
        .collect();
    build_and_check(&resources);

    let mut collector = IpsCollector::new();
    for (i, v) in values.iter().enumerate() {
        let rtype = v.get("resourceType").and_then(Value::as_str).unwrap_or("Observation");
        let _ = collector.offer(i as i64, rtype, &v.to_string(), vec!["Fuzz Clinic".to_owned()]);
    }
    for (i, t) in TYPES.iter().enumerate() {
        let _ = collector.offer(-(i as i64) - 1, t, &text, Vec::new());
    }
    let (collected, keys) = collector.into_input();
    assert_eq!(collected.len(), keys.len());
    build_and_check(&collected);
});
