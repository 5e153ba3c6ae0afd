//! Pure helpers for the sources screen (endpoints, sign-in, sync): no browser APIs, tested
//! natively. Everything here turns counts, states and names into plain words; nothing reads
//! or formats health data.

use crate::view::format_count;
use techo_ipc::{EndpointState, PersonSummary, SyncProgress, SyncReport};

/// How many of a report's errors the screen lists before "and N more".
pub const REPORT_ERRORS_SHOWN: usize = 3;

/// The interval select's words: `None` → "Off", 60 → "every hour", 180 → "every 3 hours".
pub fn interval_label(minutes: Option<u32>) -> String {
    let Some(m) = minutes else {
        return "Off".to_string();
    };
    let (n, unit) = if m > 0 && m % 1440 == 0 {
        (m / 1440, "day")
    } else if m > 0 && m % 60 == 0 {
        (m / 60, "hour")
    } else {
        (m, "minute")
    };
    if n == 1 {
        format!("every {unit}")
    } else {
        format!("every {n} {unit}s")
    }
}

/// The value of an interval `<option>`: `"off"` or the minutes.
pub fn interval_value(minutes: Option<u32>) -> String {
    minutes.map_or_else(|| "off".to_string(), |m| m.to_string())
}

/// The interval an `<option>` value stands for (`Some(None)`: off); `None` for anything else.
pub fn parse_interval(value: &str) -> Option<Option<u32>> {
    match value {
        "off" => Some(None),
        v => v.parse::<u32>().ok().map(Some),
    }
}

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {one}s", format_count(n))
    }
}

/// A wait in words, rounded up to the minute: "less than a minute", "14 minutes",
/// "1 hour", "2 hours 5 minutes".
pub fn wait_words(seconds: u64) -> String {
    if seconds < 60 {
        return "less than a minute".to_string();
    }
    let minutes = seconds.div_ceil(60);
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => plural(m, "minute"),
        (h, 0) => plural(h, "hour"),
        (h, m) => format!("{} {}", plural(h, "hour"), plural(m, "minute")),
    }
}

/// "next sync in 14 minutes".
pub fn next_sync_label(seconds: u64) -> String {
    format!("next sync in {}", wait_words(seconds))
}

/// How long a run took: "0.4 s", "12 s", "2 min 5 s", "1 h 3 min".
pub fn duration_label(ms: u64) -> String {
    if ms < 10_000 {
        // One decimal, rounded: 350 ms → "0.4 s".
        let tenths = (ms + 50) / 100;
        return format!("{}.{} s", tenths / 10, tenths % 10);
    }
    let s = (ms + 500) / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        match s % 60 {
            0 => format!("{} min", s / 60),
            r => format!("{} min {r} s", s / 60),
        }
    } else {
        match (s % 3600) / 60 {
            0 => format!("{} h", s / 3600),
            m => format!("{} h {m} min", s / 3600),
        }
    }
}

/// A report's outcome in words.
pub fn outcome_label(outcome: &str) -> String {
    match outcome {
        "ok" => "Synced".to_string(),
        "partial" => "Partly synced".to_string(),
        "failed" => "Sync failed".to_string(),
        "needs_sign_in" => "Needs sign-in".to_string(),
        other => other.replace('_', " "),
    }
}

/// The CSS class of a report's outcome (`ok`, `partial`, `failed`, `needs-sign-in`).
pub fn outcome_class(outcome: &str) -> String {
    match outcome {
        "ok" | "partial" | "failed" | "needs_sign_in" => outcome.replace('_', "-"),
        _ => "other".to_string(),
    }
}

/// "1,234 received: 1,000 new, 200 updated, 34 unchanged" (", 2 refused" when some were).
pub fn report_summary(r: &SyncReport) -> String {
    let mut s = format!(
        "{} received: {} new, {} updated, {} unchanged",
        format_count(r.received),
        format_count(r.new),
        format_count(r.updated),
        format_count(r.unchanged)
    );
    if r.refused > 0 {
        s.push_str(&format!(", {} refused", format_count(r.refused)));
    }
    s
}

/// The first errors of a report, and how many more there are.
pub fn first_errors(r: &SyncReport) -> (&[String], usize) {
    let shown = r.errors.len().min(REPORT_ERRORS_SHOWN);
    (&r.errors[..shown], r.errors.len() - shown)
}

/// An endpoint's state badge.
pub fn state_label(state: EndpointState) -> &'static str {
    match state {
        EndpointState::Ready => "Ready",
        EndpointState::NeedsSignIn => "Needs sign-in",
        EndpointState::Error => "Problem",
    }
}

/// The CSS class of an endpoint's state badge.
pub fn state_class(state: EndpointState) -> &'static str {
    match state {
        EndpointState::Ready => "ready",
        EndpointState::NeedsSignIn => "needs-sign-in",
        EndpointState::Error => "error",
    }
}

/// Whether an endpoint offers "Sign in": it wants a SMART sign-in and has none that works.
pub fn offers_sign_in(smart: bool, signed_in: bool, state: EndpointState) -> bool {
    smart && (!signed_in || state == EndpointState::NeedsSignIn)
}

/// Whose record an endpoint feeds: the person's name, else "person N".
pub fn person_name(persons: &[PersonSummary], id: i64) -> String {
    persons
        .iter()
        .find(|p| p.id == id)
        .map_or_else(|| format!("person {id}"), |p| p.display_name.clone())
}

/// When an endpoint last synced; `local` turns an RFC 3339 instant into the local
/// `(day, time)` (the browser's time zone in the app). Unparsable text is shown as it is.
pub fn last_sync_label(at: Option<&str>, local: impl Fn(&str) -> Option<(String, String)>) -> String {
    match at.map(str::trim) {
        None | Some("") => "never".to_string(),
        Some(at) => local(at).map_or_else(|| at.to_string(), |(day, time)| format!("{day} {time}")),
    }
}

/// One endpoint's line in the progress area:
/// "Demo hospital: Observation, page 3 (400 so far) · 1,234 received in all".
pub fn progress_line(p: &SyncProgress) -> String {
    let total = format!("{} received in all", format_count(p.total_received));
    if p.resource_type.trim().is_empty() {
        return format!("{}: starting · {total}", p.endpoint);
    }
    format!(
        "{}: {}, page {} ({} so far) · {total}",
        p.endpoint,
        p.resource_type,
        format_count(p.pages),
        format_count(p.received)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use techo_ipc::SYNC_INTERVALS;

    fn report(received: u64, new: u64, updated: u64, unchanged: u64, refused: u64, errors: usize) -> SyncReport {
        SyncReport {
            endpoint_id: 1,
            endpoint: "Demo hospital".into(),
            outcome: "ok".into(),
            started_at: "2025-01-02T03:04:05Z".into(),
            duration_ms: 1234,
            received,
            new,
            updated,
            unchanged,
            refused,
            errors: (0..errors).map(|i| format!("Error {i}.")).collect(),
        }
    }

    #[test]
    fn interval_labels_are_words() {
        assert_eq!(interval_label(None), "Off");
        assert_eq!(interval_label(Some(15)), "every 15 minutes");
        assert_eq!(interval_label(Some(1)), "every minute");
        assert_eq!(interval_label(Some(60)), "every hour");
        assert_eq!(interval_label(Some(180)), "every 3 hours");
        assert_eq!(interval_label(Some(1440)), "every day");
        assert_eq!(interval_label(Some(2880)), "every 2 days");
        assert_eq!(interval_label(Some(90)), "every 90 minutes");
        // Every offered interval has words of its own and survives its <option> value.
        let labels: Vec<_> = SYNC_INTERVALS.iter().map(|m| interval_label(Some(*m))).collect();
        for (i, l) in labels.iter().enumerate() {
            assert!(l.starts_with("every "), "{l}");
            assert!(!labels[..i].contains(l), "{l} twice");
        }
        for m in SYNC_INTERVALS.iter().copied().map(Some).chain([None]) {
            assert_eq!(parse_interval(&interval_value(m)), Some(m));
        }
        assert_eq!(parse_interval("soon"), None);
        assert_eq!(parse_interval(""), None);
    }

    #[test]
    fn next_sync_waits_round_up_to_the_minute() {
        assert_eq!(next_sync_label(0), "next sync in less than a minute");
        assert_eq!(wait_words(59), "less than a minute");
        assert_eq!(wait_words(60), "1 minute");
        assert_eq!(wait_words(61), "2 minutes");
        assert_eq!(wait_words(14 * 60 + 30), "15 minutes");
        assert_eq!(wait_words(3600), "1 hour");
        assert_eq!(wait_words(3599), "1 hour");
        assert_eq!(wait_words(3 * 3600 + 5 * 60), "3 hours 5 minutes");
        assert_eq!(wait_words(86_400), "24 hours");
    }

    #[test]
    fn run_durations() {
        assert_eq!(duration_label(0), "0.0 s");
        assert_eq!(duration_label(350), "0.4 s");
        assert_eq!(duration_label(9_940), "9.9 s");
        assert_eq!(duration_label(12_400), "12 s");
        assert_eq!(duration_label(60_000), "1 min");
        assert_eq!(duration_label(125_000), "2 min 5 s");
        assert_eq!(duration_label(3_600_000), "1 h");
        assert_eq!(duration_label(3_780_000), "1 h 3 min");
    }

    #[test]
    fn outcomes_in_words() {
        assert_eq!(outcome_label("ok"), "Synced");
        assert_eq!(outcome_label("partial"), "Partly synced");
        assert_eq!(outcome_label("failed"), "Sync failed");
        assert_eq!(outcome_label("needs_sign_in"), "Needs sign-in");
        assert_eq!(outcome_label("something_new"), "something new");
        assert_eq!(outcome_class("needs_sign_in"), "needs-sign-in");
        assert_eq!(outcome_class("ok"), "ok");
        assert_eq!(outcome_class("<b>"), "other");
    }

    #[test]
    fn report_summaries() {
        assert_eq!(
            report_summary(&report(1234, 1000, 200, 34, 0, 0)),
            "1,234 received: 1,000 new, 200 updated, 34 unchanged"
        );
        assert_eq!(
            report_summary(&report(5, 0, 0, 3, 2, 0)),
            "5 received: 0 new, 0 updated, 3 unchanged, 2 refused"
        );
        let r = report(0, 0, 0, 0, 0, 5);
        let (shown, more) = first_errors(&r);
        assert_eq!((shown.len(), more), (REPORT_ERRORS_SHOWN, 2));
        assert_eq!(shown[0], "Error 0.");
        let r = report(0, 0, 0, 0, 0, 1);
        assert_eq!(first_errors(&r).1, 0);
    }

    #[test]
    fn endpoint_states_and_sign_in() {
        assert_eq!(state_label(EndpointState::Ready), "Ready");
        assert_eq!(state_label(EndpointState::NeedsSignIn), "Needs sign-in");
        assert_eq!(state_label(EndpointState::Error), "Problem");
        assert_eq!(state_class(EndpointState::NeedsSignIn), "needs-sign-in");
        assert!(offers_sign_in(true, false, EndpointState::NeedsSignIn));
        assert!(
            offers_sign_in(true, true, EndpointState::NeedsSignIn),
            "an expired sign-in"
        );
        assert!(!offers_sign_in(true, true, EndpointState::Ready));
        assert!(!offers_sign_in(false, false, EndpointState::Ready), "an open server");
    }

    #[test]
    fn names_times_and_progress() {
        let persons = [PersonSummary {
            id: 7,
            display_name: "山田 花子".into(),
            relationship: None,
            resource_count: 0,
            by_type: vec![],
        }];
        assert_eq!(person_name(&persons, 7), "山田 花子");
        assert_eq!(person_name(&persons, 8), "person 8");
        let local = |s: &str| (s == "2025-01-02T03:04:05Z").then(|| ("2025-01-02".to_string(), "12:04".to_string()));
        assert_eq!(last_sync_label(None, local), "never");
        assert_eq!(last_sync_label(Some(""), local), "never");
        assert_eq!(last_sync_label(Some("2025-01-02T03:04:05Z"), local), "2025-01-02 12:04");
        assert_eq!(last_sync_label(Some("yesterday"), local), "yesterday");
        let mut p = SyncProgress {
            endpoint_id: 3,
            endpoint: "Demo hospital".into(),
            resource_type: "Observation".into(),
            pages: 3,
            received: 400,
            total_received: 1234,
        };
        assert_eq!(
            progress_line(&p),
            "Demo hospital: Observation, page 3 (400 so far) · 1,234 received in all"
        );
        p.resource_type.clear();
        assert_eq!(progress_line(&p), "Demo hospital: starting · 1,234 received in all");
    }
}
