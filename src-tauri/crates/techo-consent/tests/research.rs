//! The research rule: unit cases and the property "opt-out at T ⇒ no copy of anything after T".

use std::cell::RefCell;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use techo_consent::{
    plan_research_copies, research_copy_allowed, research_permitted_at, Actor, Candidate, ConsentChange, ConsentState,
    ResearchChoice, ResearchEvent,
};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("base time") + Duration::minutes(minutes)
}

fn state(events: &[(i64, ResearchChoice)]) -> ConsentState {
    let mut s = ConsentState::default();
    s.research.events = events.iter().map(|&(m, choice)| ResearchEvent { at: t(m), choice, by: Actor::Person }).collect();
    s
}

use ResearchChoice::{OptIn, OptOut};

#[test]
fn default_is_permitted() {
    let s = ConsentState::default();
    assert!(research_permitted_at(&s, t(0)));
    assert!(research_copy_allowed(&s, t(0), t(10)));
    assert!(!research_copy_allowed(&s, t(10), t(0)), "no copy before the resource entered");
}

#[test]
fn opt_out_stops_copies_of_resources_whose_delay_expires_later() {
    let s = state(&[(10, OptOut)]);
    assert!(research_permitted_at(&s, t(9)));
    assert!(!research_permitted_at(&s, t(10)));
    // Entered at 0 with a delay of 30: due at 30, after the opt-out at 10: never copied.
    let c = [Candidate { key: 1, entered_at: t(0) }];
    assert_eq!(plan_research_copies(&s, &c, &|_| false, Duration::minutes(30), t(30)), Vec::<i64>::new());
    // Before the opt-out with the delay elapsed, it would have been.
    assert_eq!(plan_research_copies(&s, &c, &|_| false, Duration::minutes(5), t(9)), vec![1]);
}

#[test]
fn opt_in_is_not_retroactive() {
    let s = state(&[(10, OptOut), (20, OptIn)]);
    assert!(research_permitted_at(&s, t(20)));
    assert!(!research_copy_allowed(&s, t(5), t(30)), "entered before the opt-out");
    assert!(!research_copy_allowed(&s, t(10), t(30)), "entered at the opt-out");
    assert!(!research_copy_allowed(&s, t(15), t(30)), "entered while opted out");
    assert!(research_copy_allowed(&s, t(20), t(30)), "entered at the opt-in");
    assert!(research_copy_allowed(&s, t(25), t(30)), "entered after the opt-in");
}

#[test]
fn same_instant_opt_out_then_opt_in_still_excludes_older_resources() {
    let s = state(&[(10, OptOut), (10, OptIn)]);
    assert!(research_permitted_at(&s, t(10)));
    assert!(!research_copy_allowed(&s, t(5), t(30)));
    assert!(!research_copy_allowed(&s, t(10), t(30)));
    assert!(research_copy_allowed(&s, t(11), t(30)));
}

#[test]
fn apply_builds_the_history_the_rule_reads() {
    let mut s = ConsentState::default();
    s.apply(ConsentChange::ResearchOptOut, Actor::Person, t(10)).expect("out");
    s.apply(ConsentChange::ResearchOptIn, Actor::Guardian { name: "Taro".into() }, t(20)).expect("in");
    let got: Vec<(DateTime<Utc>, ResearchChoice)> = s.research.events.iter().map(|e| (e.at, e.choice)).collect();
    assert_eq!(got, vec![(t(10), OptOut), (t(20), OptIn)]);
    assert_eq!(s.research.events[1].by, Actor::Guardian { name: "Taro".into() });
    assert!(!research_copy_allowed(&s, t(0), t(30)));
    assert!(research_copy_allowed(&s, t(21), t(30)));
}

#[test]
fn planner_skips_copied_duplicates_and_not_yet_due() {
    let s = ConsentState::default();
    let c = [
        Candidate { key: 1, entered_at: t(0) },
        Candidate { key: 2, entered_at: t(0) },
        Candidate { key: 1, entered_at: t(0) },
        Candidate { key: 3, entered_at: t(50) },
    ];
    assert_eq!(plan_research_copies(&s, &c, &|k| k == 2, Duration::minutes(30), t(30)), vec![1]);
    // Delay boundary: due exactly at entered_at + delay.
    assert_eq!(plan_research_copies(&s, &c[3..], &|_| false, Duration::minutes(30), t(80)), vec![3]);
    assert_eq!(plan_research_copies(&s, &c[3..], &|_| false, Duration::minutes(30), t(79)), Vec::<i64>::new());
    // A negative delay counts as zero: nothing from the future.
    assert_eq!(plan_research_copies(&s, &c[3..], &|_| false, Duration::minutes(-30), t(49)), Vec::<i64>::new());
}

/// A random scenario on a small minute grid so that ties are common.
#[derive(Debug, Clone)]
struct Scenario {
    /// entered_at (minutes) of resource `i` (key = i).
    entries: Vec<i64>,
    delay: i64,
    /// Research events, sorted by time (ties kept in generated order).
    events: Vec<(i64, ResearchChoice)>,
    /// Scheduler run times, sorted.
    runs: Vec<i64>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(0i64..200, 0..25),
        0i64..60,
        prop::collection::vec((0i64..250, prop::bool::ANY), 0..6),
        prop::collection::vec(0i64..300, 1..20),
    )
        .prop_map(|(entries, delay, mut events, mut runs)| {
            events.sort_by_key(|e| e.0);
            runs.sort_unstable();
            let events = events.into_iter().map(|(m, out)| (m, if out { OptOut } else { OptIn })).collect();
            Scenario { entries, delay, events, runs }
        })
}

/// Runs the scheduler at each run time; returns key → copy time (minutes). Panics on a
/// double copy.
fn simulate(s: &ConsentState, sc: &Scenario) -> BTreeMap<i64, i64> {
    let copies: RefCell<BTreeMap<i64, i64>> = RefCell::new(BTreeMap::new());
    for &run in &sc.runs {
        // The vault at `run` holds what has entered by then.
        let candidates: Vec<Candidate> = sc
            .entries
            .iter()
            .enumerate()
            .filter(|(_, &e)| e <= run)
            .map(|(i, &e)| Candidate { key: i64::try_from(i).expect("small"), entered_at: t(e) })
            .collect();
        let due = {
            let copied = copies.borrow();
            let already = |k: i64| copied.contains_key(&k);
            plan_research_copies(s, &candidates, &already, Duration::minutes(sc.delay), t(run))
        };
        let mut copied = copies.borrow_mut();
        for k in due {
            assert!(copied.insert(k, run).is_none(), "resource {k} copied twice");
        }
    }
    copies.into_inner()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn opt_out_at_t_means_no_copy_of_anything_after_t(sc in scenario()) {
        let s = state(&sc.events);
        let copies = simulate(&s, &sc);
        let last_run = *sc.runs.last().expect("at least one run");

        for (&key, &c) in &copies {
            let e = sc.entries[usize::try_from(key).expect("key")];
            // Research was permitted when the copy was made.
            prop_assert!(research_permitted_at(&s, t(c)), "copy of {key} at {c} while opted out");
            // The delay had elapsed.
            prop_assert!(e + sc.delay <= c, "copy of {key} at {c} before its delay ended");
            // Rule (a): nothing entered at or before an opt-out T is copied at or after T, and
            // nothing that entered while research was refused is ever copied.
            for &(at, choice) in &sc.events {
                if choice == OptOut {
                    prop_assert!(!(e <= at && c >= at), "copy of {key} (entered {e}) at {c} after the opt-out at {at}");
                }
            }
            prop_assert!(research_permitted_at(&s, t(e)), "copy of {key} that entered while opted out");
        }

        // Liveness: anything allowed throughout [entered, last run] whose delay ended by the
        // last run has been copied; with no opt-out at all, that is everything due.
        let no_opt_out = sc.events.iter().all(|&(_, c)| c != OptOut);
        for (i, &e) in sc.entries.iter().enumerate() {
            let key = i64::try_from(i).expect("small");
            if e + sc.delay <= last_run && research_copy_allowed(&s, t(e), t(last_run)) {
                prop_assert!(copies.contains_key(&key), "resource {key} (entered {e}) was never copied");
            }
            if no_opt_out && e + sc.delay <= last_run {
                prop_assert!(copies.contains_key(&key), "no opt-out, but resource {key} was never copied");
            }
        }
    }
}
