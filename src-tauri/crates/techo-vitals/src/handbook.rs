//! The home blood-pressure handbook (家庭血圧手帳): weekly morning/evening averages.
//!
//! - A reading's session is its explicit context ([`BpContext`]) if it has one; otherwise
//!   its local time (in the reading's own offset): morning 04:00–11:59, evening 18:00–03:59.
//!   Readings between 12:00 and 17:59 without a context are not averaged (counted as
//!   `unclassified`).
//! - An evening reading taken after midnight (00:00–03:59) belongs to the previous day's
//!   evening, so to the previous day's week.
//! - Weeks start on Monday, in local time.
//! - "Above target" means the mean systolic ≥ target systolic **or** the mean diastolic ≥
//!   target diastolic (the Japanese guideline threshold for home BP is ≥ 135/85).

use crate::reading::{BpContext, Measurement, Reading};
use chrono::{Datelike, Duration, NaiveDate, Timelike};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The threshold; default 135/85 mmHg.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BpTarget {
    pub systolic: f64,
    pub diastolic: f64,
}

impl Default for BpTarget {
    fn default() -> Self {
        BpTarget {
            systolic: 135.0,
            diastolic: 85.0,
        }
    }
}

/// Averages of one session (morning or evening) in one week. Means are not rounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAverage {
    pub count: usize,
    pub systolic: f64,
    pub diastolic: f64,
    /// Mean pulse over the readings that have one.
    pub pulse: Option<f64>,
    pub pulse_count: usize,
    pub above_target: bool,
}

/// One week (Monday to Sunday).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekSummary {
    pub week_start: NaiveDate,
    pub morning: Option<SessionAverage>,
    pub evening: Option<SessionAverage>,
    /// Blood-pressure readings in neither window and without a context.
    pub unclassified: usize,
}

/// The session and the day it belongs to, or `None` for an unclassified (midday) reading.
pub fn session_of(reading: &Reading) -> Option<(NaiveDate, BpContext)> {
    let Measurement::BloodPressure(bp) = &reading.measurement else {
        return None;
    };
    let local = reading.effective.naive_local();
    let hour = local.hour();
    let session = match bp.context {
        Some(c) => c,
        None if (4..12).contains(&hour) => BpContext::Morning,
        None if !(4..18).contains(&hour) => BpContext::Evening,
        None => return None,
    };
    let day = if session == BpContext::Evening && hour < 4 {
        local.date() - Duration::days(1)
    } else {
        local.date()
    };
    Some((day, session))
}

#[derive(Default)]
struct Acc {
    n: usize,
    sys: f64,
    dia: f64,
    pulse: f64,
    pn: usize,
}

impl Acc {
    fn finish(&self, target: BpTarget) -> Option<SessionAverage> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        let (systolic, diastolic) = (self.sys / n, self.dia / n);
        Some(SessionAverage {
            count: self.n,
            systolic,
            diastolic,
            pulse: (self.pn > 0).then(|| self.pulse / self.pn as f64),
            pulse_count: self.pn,
            above_target: systolic >= target.systolic || diastolic >= target.diastolic,
        })
    }
}

/// Weekly morning/evening averages of the blood-pressure readings among `readings` (other
/// kinds are ignored), oldest week first. Weeks without any BP reading are not listed.
pub fn weekly_bp_averages(readings: &[Reading], target: BpTarget) -> Vec<WeekSummary> {
    let mut weeks: BTreeMap<NaiveDate, (Acc, Acc, usize)> = BTreeMap::new();
    for r in readings {
        let Measurement::BloodPressure(bp) = &r.measurement else {
            continue;
        };
        let (day, session) = match session_of(r) {
            Some(s) => s,
            None => {
                let d = r.effective.naive_local().date();
                weeks.entry(monday_of(d)).or_default().2 += 1;
                continue;
            }
        };
        let w = weeks.entry(monday_of(day)).or_default();
        let acc = if session == BpContext::Morning {
            &mut w.0
        } else {
            &mut w.1
        };
        acc.n += 1;
        acc.sys += bp.systolic;
        acc.dia += bp.diastolic;
        if let Some(p) = bp.pulse {
            acc.pulse += p;
            acc.pn += 1;
        }
    }
    weeks
        .into_iter()
        .map(|(week_start, (m, e, unclassified))| WeekSummary {
            week_start,
            morning: m.finish(target),
            evening: e.finish(target),
            unclassified,
        })
        .collect()
}

/// The Monday on or before `d`.
pub fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}
