//! The printable summary of a Bundle someone shared: arbitrary JSON in, HTML out. It must not
//! panic, and no input may get script into the page.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use techo_share::summary::{summary_body, summary_document, summary_fragment, SummaryOptions};
use techo_share::Lang;

fn assert_inert(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a <script in the summary");
    assert!(!lower.contains("javascript:"), "a javascript: in the summary");
}

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = serde_json::from_slice::<Value>(data) else { return };
    for (lang, today, title) in [
        (Lang::En, "2026-01-01", None),
        (Lang::Ja, "2026-01-01", Some("<script>javascript:alert(1)</script>".to_owned())),
        // An odd `today` must not break the age or the current medications either.
        (Lang::En, "0000-13-40", Some(String::new())),
    ] {
        let opts = SummaryOptions { lang, today: today.to_owned(), title };
        assert_inert(&summary_body(&bundle, &opts));
        assert_inert(&summary_document(&bundle, &opts));
        // The fragment's <style> is static; the rest is the body again.
        assert_inert(&summary_fragment(&bundle, &opts));
    }
});
