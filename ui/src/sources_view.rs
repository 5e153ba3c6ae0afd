//! Pure helpers for the sources screen (endpoints, sign-in, sync): no browser APIs, tested
//! natively. Everything here turns counts, states and names into plain words; nothing reads
//! or formats health data.

use crate::i18n_sources::{tr, trf};
use crate::view::format_count;
use techo_ipc::{EndpointState, Language, PersonSummary, SyncProgress, SyncReport};

/// How many of a report's errors the screen lists before "and N more".
pub const REPORT_ERRORS_SHOWN: usize = 3;

/// The interval select's words: `None` → "Off", 60 → "every hour", 180 → "every 3 hours".
pub fn interval_label(lang: Language, minutes: Option<u32>) -> String {
    let Some(m) = minutes else {
        return tr(lang, "off").to_string();
    };
    let (n, unit) = if m > 0 && m % 1440 == 0 {
        (m / 1440, "day")
    } else if m > 0 && m % 60 == 0 {
        (m / 60, "hour")
    } else {
        (m, "minute")
    };
    if n == 1 {
        tr(lang, &format!("every_{unit}")).to_string()
    } else {
        trf(lang, &format!("every_{unit}s"), &[&n])
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

fn plural(lang: Language, n: u64, one: &str) -> String {
    if n == 1 {
        tr(lang, one).to_string()
    } else {
        trf(lang, &format!("{one}s"), &[&format_count(n)])
    }
}

/// A wait in words, rounded up to the minute: "less than a minute", "14 minutes",
/// "1 hour", "2 hours 5 minutes".
pub fn wait_words(lang: Language, seconds: u64) -> String {
    if seconds < 60 {
        return tr(lang, "under_a_minute").to_string();
    }
    let minutes = seconds.div_ceil(60);
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => plural(lang, m, "minute"),
        (h, 0) => plural(lang, h, "hour"),
        (h, m) => format!("{} {}", plural(lang, h, "hour"), plural(lang, m, "minute")),
    }
}

/// "next sync in 14 minutes", "次の同期まで 14 分".
pub fn next_sync_label(lang: Language, seconds: u64) -> String {
    trf(lang, "next_sync_in", &[&wait_words(lang, seconds)])
}

/// How long a run took: "0.4 s", "12 s", "2 min 5 s", "1 h 3 min".
pub fn duration_label(lang: Language, ms: u64) -> String {
    if ms < 10_000 {
        // One decimal, rounded: 350 ms → "0.4 s".
        let tenths = (ms + 50) / 100;
        return trf(lang, "dur_s", &[&format!("{}.{}", tenths / 10, tenths % 10)]);
    }
    let s = (ms + 500) / 1000;
    if s < 60 {
        trf(lang, "dur_s", &[&s])
    } else if s < 3600 {
        match s % 60 {
            0 => trf(lang, "dur_min", &[&(s / 60)]),
            r => trf(lang, "dur_min_s", &[&(s / 60), &r]),
        }
    } else {
        match (s % 3600) / 60 {
            0 => trf(lang, "dur_h", &[&(s / 3600)]),
            m => trf(lang, "dur_h_min", &[&(s / 3600), &m]),
        }
    }
}

/// A report's outcome in words.
pub fn outcome_label(lang: Language, outcome: &str) -> String {
    match outcome {
        "ok" | "partial" | "failed" | "needs_sign_in" => tr(lang, &format!("outcome.{outcome}")).to_string(),
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
pub fn report_summary(lang: Language, r: &SyncReport) -> String {
    let mut s = trf(
        lang,
        "summary",
        &[&format_count(r.received), &format_count(r.new), &format_count(r.updated), &format_count(r.unchanged)],
    );
    if r.refused > 0 {
        s.push_str(&trf(lang, "summary_refused", &[&format_count(r.refused)]));
    }
    s
}

/// The first errors of a report, and how many more there are.
pub fn first_errors(r: &SyncReport) -> (&[String], usize) {
    let shown = r.errors.len().min(REPORT_ERRORS_SHOWN);
    (&r.errors[..shown], r.errors.len() - shown)
}

/// An endpoint's state badge.
pub fn state_label(lang: Language, state: EndpointState) -> &'static str {
    match state {
        EndpointState::Ready => tr(lang, "state.ready"),
        EndpointState::NeedsSignIn => tr(lang, "state.needs_sign_in"),
        EndpointState::Error => tr(lang, "state.error"),
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
pub fn person_name(lang: Language, persons: &[PersonSummary], id: i64) -> String {
    persons
        .iter()
        .find(|p| p.id == id)
        .map_or_else(|| trf(lang, "person_n", &[&id]), |p| p.display_name.clone())
}

/// When an endpoint last synced; `local` turns an RFC 3339 instant into the local
/// `(day, time)` (the browser's time zone in the app). Unparsable text is shown as it is.
pub fn last_sync_label(lang: Language, at: Option<&str>, local: impl Fn(&str) -> Option<(String, String)>) -> String {
    match at.map(str::trim) {
        None | Some("") => tr(lang, "never").to_string(),
        Some(at) => local(at).map_or_else(|| at.to_string(), |(day, time)| format!("{day} {time}")),
    }
}

/// One endpoint's line in the progress area:
/// "Demo hospital: Observation, page 3 (400 so far) · 1,234 received in all".
pub fn progress_line(lang: Language, p: &SyncProgress) -> String {
    let total = trf(lang, "progress_total", &[&format_count(p.total_received)]);
    if p.resource_type.trim().is_empty() {
        return trf(lang, "progress_starting", &[&p.endpoint, &total]);
    }
    trf(
        lang,
        "progress_page",
        &[&p.endpoint, &p.resource_type, &format_count(p.pages), &format_count(p.received), &total],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use techo_ipc::Language::{En, Ja};
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
        assert_eq!(interval_label(En, None), "Off");
        assert_eq!(interval_label(En, Some(15)), "every 15 minutes");
        assert_eq!(interval_label(En, Some(1)), "every minute");
        assert_eq!(interval_label(En, Some(60)), "every hour");
        assert_eq!(interval_label(En, Some(180)), "every 3 hours");
        assert_eq!(interval_label(En, Some(1440)), "every day");
        assert_eq!(interval_label(En, Some(2880)), "every 2 days");
        assert_eq!(interval_label(En, Some(90)), "every 90 minutes");
        // Every offered interval has words of its own and survives its <option> value.
        let labels: Vec<_> = SYNC_INTERVALS.iter().map(|m| interval_label(En, Some(*m))).collect();
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
        assert_eq!(next_sync_label(En, 0), "next sync in less than a minute");
        assert_eq!(wait_words(En, 59), "less than a minute");
        assert_eq!(wait_words(En, 60), "1 minute");
        assert_eq!(wait_words(En, 61), "2 minutes");
        assert_eq!(wait_words(En, 14 * 60 + 30), "15 minutes");
        assert_eq!(wait_words(En, 3600), "1 hour");
        assert_eq!(wait_words(En, 3599), "1 hour");
        assert_eq!(wait_words(En, 3 * 3600 + 5 * 60), "3 hours 5 minutes");
        assert_eq!(wait_words(En, 86_400), "24 hours");
    }

    #[test]
    fn run_durations() {
        assert_eq!(duration_label(En, 0), "0.0 s");
        assert_eq!(duration_label(En, 350), "0.4 s");
        assert_eq!(duration_label(En, 9_940), "9.9 s");
        assert_eq!(duration_label(En, 12_400), "12 s");
        assert_eq!(duration_label(En, 60_000), "1 min");
        assert_eq!(duration_label(En, 125_000), "2 min 5 s");
        assert_eq!(duration_label(En, 3_600_000), "1 h");
        assert_eq!(duration_label(En, 3_780_000), "1 h 3 min");
    }

    #[test]
    fn outcomes_in_words() {
        assert_eq!(outcome_label(En, "ok"), "Synced");
        assert_eq!(outcome_label(En, "partial"), "Partly synced");
        assert_eq!(outcome_label(En, "failed"), "Sync failed");
        assert_eq!(outcome_label(En, "needs_sign_in"), "Needs sign-in");
        assert_eq!(outcome_label(En, "something_new"), "something new");
        assert_eq!(outcome_class("needs_sign_in"), "needs-sign-in");
        assert_eq!(outcome_class("ok"), "ok");
        assert_eq!(outcome_class("<b>"), "other");
    }

    #[test]
    fn report_summaries() {
        assert_eq!(
            report_summary(En, &report(1234, 1000, 200, 34, 0, 0)),
            "1,234 received: 1,000 new, 200 updated, 34 unchanged"
        );
        assert_eq!(
            report_summary(En, &report(5, 0, 0, 3, 2, 0)),
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
        assert_eq!(state_label(En, EndpointState::Ready), "Ready");
        assert_eq!(state_label(En, EndpointState::NeedsSignIn), "Needs sign-in");
        assert_eq!(state_label(En, EndpointState::Error), "Problem");
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
            shared_by: None,
            resource_count: 0,
            by_type: vec![],
        }];
        assert_eq!(person_name(En, &persons, 7), "山田 花子");
        assert_eq!(person_name(En, &persons, 8), "person 8");
        let local = |s: &str| (s == "2025-01-02T03:04:05Z").then(|| ("2025-01-02".to_string(), "12:04".to_string()));
        assert_eq!(last_sync_label(En, None, local), "never");
        assert_eq!(last_sync_label(En, Some(""), local), "never");
        assert_eq!(last_sync_label(En, Some("2025-01-02T03:04:05Z"), local), "2025-01-02 12:04");
        assert_eq!(last_sync_label(En, Some("yesterday"), local), "yesterday");
        let mut p = SyncProgress {
            endpoint_id: 3,
            endpoint: "Demo hospital".into(),
            resource_type: "Observation".into(),
            pages: 3,
            received: 400,
            total_received: 1234,
        };
        assert_eq!(
            progress_line(En, &p),
            "Demo hospital: Observation, page 3 (400 so far) · 1,234 received in all"
        );
        p.resource_type.clear();
        assert_eq!(progress_line(En, &p), "Demo hospital: starting · 1,234 received in all");
    }

    #[test]
    fn japanese_words() {
        assert_eq!(interval_label(Ja, None), "オフ");
        assert_eq!(interval_label(Ja, Some(15)), "15 分ごと");
        assert_eq!(interval_label(Ja, Some(60)), "1 時間ごと");
        assert_eq!(interval_label(Ja, Some(180)), "3 時間ごと");
        assert_eq!(interval_label(Ja, Some(1440)), "毎日");
        let labels: Vec<_> = SYNC_INTERVALS.iter().map(|m| interval_label(Ja, Some(*m))).collect();
        for (i, l) in labels.iter().enumerate() {
            assert!(!labels[..i].contains(l), "{l} twice");
        }
        assert_eq!(next_sync_label(Ja, 14 * 60), "次の同期まで 14 分");
        assert_eq!(wait_words(Ja, 30), "1 分未満");
        assert_eq!(wait_words(Ja, 3 * 3600 + 5 * 60), "3 時間 5 分");
        assert_eq!(duration_label(Ja, 350), "0.4 秒");
        assert_eq!(duration_label(Ja, 125_000), "2 分 5 秒");
        assert_eq!(duration_label(Ja, 3_780_000), "1 時間 3 分");
        assert_eq!(outcome_label(Ja, "ok"), "同期しました");
        assert_eq!(outcome_label(Ja, "needs_sign_in"), "サインインが必要");
        assert_eq!(outcome_label(Ja, "something_new"), "something new");
        assert_eq!(report_summary(Ja, &report(1234, 1000, 200, 34, 2, 0)), "1,234 件受信: 新規 1,000 · 更新 200 · 変更なし 34 · 受け付けず 2");
        assert_eq!(state_label(Ja, EndpointState::NeedsSignIn), "サインインが必要");
        assert_eq!(person_name(Ja, &[], 8), "利用者 8");
        assert_eq!(last_sync_label(Ja, None, |_| None), "未同期");
        let p = SyncProgress { endpoint_id: 3, endpoint: "デモ病院".into(), resource_type: "Observation".into(), pages: 3, received: 400, total_received: 1234 };
        assert_eq!(progress_line(Ja, &p), "デモ病院: Observation、3 ページ目(これまで 400 件)· 合計 1,234 件受信");
    }
}
