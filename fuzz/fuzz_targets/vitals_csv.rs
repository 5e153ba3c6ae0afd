//! A vitals CSV export from a device or an app: parsed, its columns guessed from the header,
//! previewed and turned into readings, each reading made into an Observation and read back.
//! None may panic.
#![no_main]

use chrono::{FixedOffset, TimeZone};
use libfuzzer_sys::fuzz_target;
use techo_vitals::{from_observation, to_observation, CsvFile, CsvOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(file) = CsvFile::from_bytes(data) else { return };
    let _ = (file.delimiter(), file.header(), file.row_count(), file.width());
    let mapping = file.propose_mapping();
    let jst = FixedOffset::east_opt(9 * 3600).expect("JST");
    let opts = CsvOptions { default_offset: jst, now: jst.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap() };
    let _ = file.preview(&mapping, &opts, 5);
    if let Ok(readings) = file.parse_all(&mapping, &opts) {
        for r in readings.into_readings() {
            if let Ok(obs) = to_observation(&r, "Patient/fuzz", None) {
                let _ = from_observation(&obs);
            }
        }
    }
});
