//! techo-vitals integration tests (one binary, ripgrep-style).

mod bad_inputs;
mod conversions;
mod csv;
mod diary;
mod handbook;
mod kinds;
mod observation;

use chrono::{DateTime, FixedOffset, TimeZone};

pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap()
}

/// A JST date-time.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<FixedOffset> {
    jst().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// "Now" for every test: 2026-12-01 12:00 JST.
pub fn now() -> DateTime<FixedOffset> {
    at(2026, 12, 1, 12, 0)
}

pub const SUBJECT: &str = "Patient/abc";
