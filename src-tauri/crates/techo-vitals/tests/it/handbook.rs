//! Weekly morning/evening BP averages, checked against hand-computed numbers.

use crate::at;
use chrono::{FixedOffset, NaiveDate, TimeZone};
use techo_vitals::handbook::{monday_of, session_of};
use techo_vitals::*;

fn bp(
    t: chrono::DateTime<FixedOffset>,
    sys: f64,
    dia: f64,
    pulse: Option<f64>,
    ctx: Option<BpContext>,
) -> Reading {
    Reading::new(
        t,
        Measurement::BloodPressure(BloodPressure {
            systolic: sys,
            diastolic: dia,
            pulse,
            context: ctx,
            arm: None,
            position: None,
        }),
    )
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn readings() -> Vec<Reading> {
    let utc = FixedOffset::east_opt(0).unwrap();
    vec![
        // Week of Monday 2026-11-23.
        bp(at(2026, 11, 23, 7, 0), 130.0, 80.0, Some(70.0), None), // morning
        bp(at(2026, 11, 24, 6, 30), 140.0, 90.0, Some(74.0), None), // morning
        bp(at(2026, 11, 25, 11, 59), 136.0, 84.0, None, None),     // morning (last minute)
        bp(
            at(2026, 11, 28, 13, 0),
            132.0,
            86.0,
            Some(72.0),
            Some(BpContext::Morning),
        ), // explicit
        bp(at(2026, 11, 23, 21, 0), 120.0, 76.0, Some(66.0), None), // evening
        bp(at(2026, 11, 24, 1, 30), 126.0, 78.0, Some(68.0), None), // Monday's evening
        bp(at(2026, 11, 30, 2, 0), 150.0, 95.0, None, None),       // Sunday 29th's evening
        bp(at(2026, 11, 28, 14, 0), 118.0, 70.0, None, None),      // midday: unclassified
        Reading::new(at(2026, 11, 23, 7, 0), Measurement::BodyWeight { kg: 60.0 }), // ignored
        // Week of Monday 2026-11-30.
        bp(at(2026, 12, 1, 7, 0), 128.0, 78.0, None, None), // morning
        // 23:30 local in UTC (08:30 JST on 12-01): evening of Monday 30th in its own offset.
        bp(
            utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap(),
            138.0,
            88.0,
            Some(80.0),
            None,
        ),
    ]
}

#[test]
fn weekly_averages_match_hand_computation() {
    let weeks = weekly_bp_averages(&readings(), BpTarget::default());
    assert_eq!(weeks.len(), 2);

    let w = &weeks[0];
    assert_eq!(w.week_start, day(2026, 11, 23));
    assert_eq!(w.unclassified, 1);
    let m = w.morning.as_ref().unwrap();
    // (130+140+136+132)/4 = 134.5; (80+90+84+86)/4 = 85.0; pulse (70+74+72)/3 = 72.0
    assert_eq!(
        (m.count, m.systolic, m.diastolic, m.pulse, m.pulse_count),
        (4, 134.5, 85.0, Some(72.0), 3)
    );
    assert!(m.above_target, "diastolic 85.0 ≥ 85");
    let e = w.evening.as_ref().unwrap();
    // (120+126+150)/3 = 132.0; (76+78+95)/3 = 83.0; pulse (66+68)/2 = 67.0
    assert_eq!(
        (e.count, e.systolic, e.diastolic, e.pulse, e.pulse_count),
        (3, 132.0, 83.0, Some(67.0), 2)
    );
    assert!(!e.above_target);

    let w = &weeks[1];
    assert_eq!(w.week_start, day(2026, 11, 30));
    assert_eq!(w.unclassified, 0);
    let m = w.morning.as_ref().unwrap();
    assert_eq!(
        (m.count, m.systolic, m.diastolic, m.pulse, m.above_target),
        (1, 128.0, 78.0, None, false)
    );
    let e = w.evening.as_ref().unwrap();
    assert_eq!(
        (e.count, e.systolic, e.diastolic, e.pulse, e.above_target),
        (1, 138.0, 88.0, Some(80.0), true)
    );
}

#[test]
fn target_is_configurable() {
    let t = BpTarget {
        systolic: 125.0,
        diastolic: 80.0,
    };
    let weeks = weekly_bp_averages(&readings(), t);
    assert!(weeks[0].evening.as_ref().unwrap().above_target); // 132.0 ≥ 125
    assert!(weeks[1].morning.as_ref().unwrap().above_target); // 128 ≥ 125
    let lax = BpTarget {
        systolic: 200.0,
        diastolic: 120.0,
    };
    assert!(weekly_bp_averages(&readings(), lax).iter().all(|w| {
        [&w.morning, &w.evening]
            .iter()
            .all(|s| s.as_ref().is_none_or(|s| !s.above_target))
    }));
}

#[test]
fn sessions_and_weeks() {
    let r = bp(at(2026, 11, 24, 3, 59), 120.0, 80.0, None, None);
    assert_eq!(
        session_of(&r),
        Some((day(2026, 11, 23), BpContext::Evening))
    );
    let r = bp(at(2026, 11, 24, 4, 0), 120.0, 80.0, None, None);
    assert_eq!(
        session_of(&r),
        Some((day(2026, 11, 24), BpContext::Morning))
    );
    let r = bp(at(2026, 11, 24, 12, 0), 120.0, 80.0, None, None);
    assert_eq!(session_of(&r), None);
    let r = bp(at(2026, 11, 24, 18, 0), 120.0, 80.0, None, None);
    assert_eq!(
        session_of(&r),
        Some((day(2026, 11, 24), BpContext::Evening))
    );
    assert_eq!(monday_of(day(2026, 11, 29)), day(2026, 11, 23));
    assert_eq!(monday_of(day(2026, 11, 30)), day(2026, 11, 30));
    assert!(weekly_bp_averages(&[], BpTarget::default()).is_empty());
}
