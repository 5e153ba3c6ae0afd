//! The FHIR import reader on arbitrary bytes (a file the person picked: Bundle, NDJSON or a
//! single resource), detected and forced to NDJSON, then the index extraction of every
//! resource it hands out. Neither may panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use techo_fhir::reader::{read, FormatHint};

fuzz_target!(|data: &[u8]| {
    for hint in [FormatHint::Detect, FormatHint::Ndjson] {
        let _ = read(Cursor::new(data), hint, |item| {
            let entry = techo_fhir::index::extract(&item.resource);
            std::hint::black_box(entry);
            let _ = techo_fhir::index::text(&item.resource);
            Ok::<(), ()>(())
        });
    }
});
