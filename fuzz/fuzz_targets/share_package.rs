//! Share links and packages from elsewhere: `parse_shlink` on arbitrary text, and `open` /
//! `open_link` on arbitrary package bytes. None may panic; errors are fine.
//!
//! The input is used three ways: as a link; as a package for a fixed key and a fixed link;
//! and, when it has a newline, as `link\npackage` (so the fuzzer can pair a link it made with
//! a package, e.g. the seeds' real sealed ones). No passcode is given: the passcode path's
//! Argon2id costs are bounded by design and would only slow the search down.
#![no_main]

use libfuzzer_sys::fuzz_target;
use techo_share::{open, open_link, parse_shlink, ShareKey};

/// A link to `https://fuzz.invalid/p` with an all-zero key and no expiry.
const LINK: &str = "shlink:/eyJ1cmwiOiJodHRwczovL2Z1enouaW52YWxpZC9wIiwia2V5IjoiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQSIsInYiOjF9";
const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = parse_shlink(&text) {
        // What parses keeps its promises.
        assert!(!p.url.is_empty());
        assert!(p.label.as_deref().map_or(0, |l| l.chars().count()) <= techo_share::MAX_LABEL);
        let _ = p.has_flag('P');
    }

    let key = ShareKey::from_base64url("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").expect("a valid key");
    let _ = open(data, &key, None);
    let _ = open_link(LINK, data, None, NOW);

    if let Some(i) = data.iter().position(|&b| b == b'\n') {
        let link = String::from_utf8_lossy(&data[..i]);
        let package = &data[i + 1..];
        let _ = open_link(&link, package, None, NOW);
        let _ = open_link(&link, package, None, i64::MIN);
        let _ = open_link(&link, package, None, i64::MAX);
    }
});
