//! The consent screen's and the audit view's commands: a person's consent (provider sharing
//! and its exceptions, caregiver grants, research use) and its changes, the audit log in words,
//! checking the log's chain, and the research queue's counts. Thin: the window's fields become
//! techo-consent types, then techo-core's `consent` / `change_consent` / `audit_log` /
//! `verify_audit` / `research_status`. The audit events hold no record content; nothing here
//! logs anything.

use crate::commands::{core_error, with_vault_mut};
use chrono::{DateTime, Local, NaiveDate, SecondsFormat, TimeZone, Utc};
use tauri::AppHandle;
use techo_core::techo_consent::{
    research_permitted_at, Access, Actor, CaregiverGrant, Category, ConsentChange, ConsentState, ExceptionKind, GrantInactive,
};
use techo_core::{AuditEntry, Vault};
use techo_ipc::{
    AuditListArgs, AuditPage, AuditProblem, AuditRow, AuditVerdict, CaregiverView, ConsentChangeRequest, ConsentChangedView,
    ConsentHistoryRow, ConsentView, ExceptionView, IpcError, ResearchStatusView, ResearchView,
};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn date(s: &str) -> Result<NaiveDate, IpcError> {
    techo_ipc::validate_date(s)?;
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| IpcError::invalid_input("That date does not exist: check the month and the day."))
}

fn category(code: &str) -> Result<Category, IpcError> {
    Category::ALL.into_iter().find(|c| c.as_str() == code).ok_or_else(|| IpcError::invalid_input("Choose the category from the list."))
}

/// The instant access ends when it lasts through `day` on this computer's clock: the start of
/// the next local day.
fn end_of_local_day(day: NaiveDate) -> Result<DateTime<Utc>, IpcError> {
    let next = day.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).ok_or_else(|| IpcError::invalid_input("Choose an earlier expiry date."))?;
    Local
        .from_local_datetime(&next)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| IpcError::invalid_input("That expiry does not exist on this computer's clock: choose another day."))
}

/// The window's request → techo-consent's change (checked first as the window checks it).
fn to_change(req: ConsentChangeRequest) -> Result<ConsentChange, IpcError> {
    techo_ipc::validate_consent_change(&req)?;
    Ok(match req {
        ConsentChangeRequest::DenyFacility { name } => ConsentChange::DenyFacility { name: name.trim().to_owned() },
        ConsentChangeRequest::DenyCategory { category: c } => ConsentChange::DenyCategory { category: category(&c)? },
        ConsentChangeRequest::DenyPeriod { from, to } => ConsentChange::DenyPeriod { from: date(&from)?, to: date(&to)? },
        ConsentChangeRequest::DenyRecord { record_id } => ConsentChange::DenyRecord { record_id },
        ConsentChangeRequest::RemoveException { id } => ConsentChange::RemoveException { id },
        ConsentChangeRequest::GrantCaregiver { id, display_name, relationship, access, expires_on } => ConsentChange::GrantCaregiver {
            id,
            display_name: display_name.trim().to_owned(),
            relationship: relationship.trim().to_owned(),
            access: if access == "full" { Access::Full } else { Access::ReadOnly },
            expires_at: expires_on.as_deref().map(date).transpose()?.map(end_of_local_day).transpose()?,
        },
        ConsentChangeRequest::RevokeCaregiver { id } => ConsentChange::RevokeCaregiver { id },
        ConsentChangeRequest::ResearchOptOut => ConsentChange::ResearchOptOut,
        ConsentChangeRequest::ResearchOptIn => ConsentChange::ResearchOptIn,
    })
}

fn actor(guardian: Option<String>) -> Result<Actor, IpcError> {
    let guardian = guardian.filter(|g| !g.trim().is_empty());
    techo_ipc::validate_guardian(guardian.as_deref())?;
    Ok(match guardian {
        None => Actor::Person,
        Some(name) => Actor::Guardian { name: name.trim().to_owned() },
    })
}

fn kind_code(k: &ExceptionKind) -> &'static str {
    match k {
        ExceptionKind::Facility { .. } => "facility",
        ExceptionKind::Category { .. } => "category",
        ExceptionKind::Period { .. } => "period",
        ExceptionKind::Record { .. } => "record",
    }
}

/// An exception in Japanese (the English is techo-consent's `describe`).
fn describe_ja(k: &ExceptionKind) -> String {
    match k {
        ExceptionKind::Facility { name } => format!("「{}」には共有しない", name.trim()),
        ExceptionKind::Category { category } => format!("{}の記録は共有しない", category.label_ja()),
        ExceptionKind::Period { from, to } => format!("{from}〜{to}の記録は共有しない"),
        ExceptionKind::Record { record_id } => format!("記録 {record_id} は共有しない"),
    }
}

fn caregiver_state(g: &CaregiverGrant, now: DateTime<Utc>) -> &'static str {
    match g.status_at(now) {
        Ok(()) => "active",
        Err(GrantInactive::Revoked) => "revoked",
        Err(GrantInactive::Expired) => "expired",
        Err(GrantInactive::NotYetActive) => "not_yet_active",
    }
}

/// The consent state → the window's view (history newest first).
fn to_view(person: i64, state: &ConsentState, history: Vec<techo_core::ConsentVersion>, delay_days: i64, now: DateTime<Utc>) -> ConsentView {
    ConsentView {
        person,
        exceptions: state
            .sharing
            .exceptions
            .iter()
            .map(|x| ExceptionView {
                id: x.id.clone(),
                kind: kind_code(&x.kind).to_owned(),
                description_en: techo_ipc::as_sentence(&x.kind.describe()),
                description_ja: format!("{}。", describe_ja(&x.kind)),
                added_at: rfc3339(x.added_at),
                by: x.by.to_string(),
            })
            .collect(),
        caregivers: state
            .caregivers
            .iter()
            .map(|g| CaregiverView {
                id: g.id.clone(),
                display_name: g.display_name.clone(),
                relationship: g.relationship.clone(),
                access: match g.access {
                    Access::ReadOnly => "read_only",
                    Access::Full => "full",
                }
                .to_owned(),
                state: caregiver_state(g, now).to_owned(),
                granted_at: rfc3339(g.granted_at),
                expires_at: g.expires_at.map(rfc3339),
                revoked_at: g.revoked_at.map(rfc3339),
                granted_by: g.granted_by.to_string(),
            })
            .collect(),
        research: ResearchView {
            permitted: research_permitted_at(state, now),
            changed_at: state.research.events.iter().map(|e| e.at).max().map(rfc3339),
            delay_days,
        },
        history: history
            .into_iter()
            .rev()
            .map(|h| ConsentHistoryRow { version: h.version, change: h.change, changed_at: h.changed_at })
            .collect(),
    }
}

fn consent_view(v: &Vault, person: i64) -> Result<ConsentView, IpcError> {
    let state = v.consent(person).map_err(core_error)?;
    let history = v.consent_history(person).map_err(core_error)?;
    let delay = v.research_delay_days().map_err(core_error)?;
    Ok(to_view(person, &state, history, delay, Utc::now()))
}

/// A person's consent in force, with its history (parameters = `techo_ipc::ConsentGetArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn consent_get(app: AppHandle, person: i64) -> Result<ConsentView, IpcError> {
    with_vault_mut(app, move |v| consent_view(v, person)).await
}

/// One change of a person's consent, by the person or a guardian (parameters =
/// `techo_ipc::ConsentChangeArgs`); answers what changed and the consent now.
#[tauri::command(rename_all = "snake_case")]
pub async fn consent_change(app: AppHandle, person: i64, change: ConsentChangeRequest, guardian: Option<String>) -> Result<ConsentChangedView, IpcError> {
    let change = to_change(change)?;
    let actor = actor(guardian)?;
    with_vault_mut(app, move |v| {
        let done = v.change_consent(person, change, actor).map_err(core_error)?;
        Ok(ConsentChangedView { version: done.version, change: done.change, withdrawn: done.withdrawn, consent: consent_view(v, person)? })
    })
    .await
}

/// An audit entry in words: who received it, the counts or the change, the purpose.
fn to_row(e: &AuditEntry) -> AuditRow {
    let text = |ptr: &str| e.event.pointer(ptr).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let what = text("/entity/1/description");
    AuditRow {
        seq: e.seq,
        recorded_at: e.recorded_at.clone(),
        person: e.person_id,
        kind: e.kind.clone(),
        recipient: text("/agent/1/who/display"),
        what: (!what.is_empty()).then_some(what),
        why: text("/outcomeDesc"),
        purpose: text("/purposeOfEvent/0/coding/0/code"),
    }
}

/// The page of at most `limit` entries before `before` (newest first), reading one row more
/// to know whether there is an older page.
fn audit_page(v: &Vault, person: Option<i64>, before: Option<i64>, limit: u32) -> Result<AuditPage, IpcError> {
    let mut entries = v.audit_log_newest(person, before, limit + 1).map_err(core_error)?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let rows: Vec<AuditRow> = entries.iter().map(to_row).collect();
    let next_before = if more { rows.last().map(|r| r.seq) } else { None };
    Ok(AuditPage { rows, next_before })
}

/// One page of the audit log, newest first (parameters = `techo_ipc::AuditListArgs`).
#[tauri::command(rename_all = "snake_case")]
pub async fn audit_list(app: AppHandle, person: Option<i64>, before_seq: Option<i64>, limit: u32) -> Result<AuditPage, IpcError> {
    techo_ipc::validate_audit_list(&AuditListArgs { person, before_seq, limit })?;
    with_vault_mut(app, move |v| audit_page(v, person, before_seq, limit)).await
}

fn verdict(r: techo_core::AuditVerification) -> AuditVerdict {
    AuditVerdict {
        entries: r.entries,
        ok: r.ok(),
        problem: r.problem.map(|(seq, what)| AuditProblem { seq, what: techo_ipc::as_sentence(&what) }),
    }
}

/// Walks the audit log's whole hash chain.
#[tauri::command]
pub async fn audit_verify(app: AppHandle) -> Result<AuditVerdict, IpcError> {
    with_vault_mut(app, |v| v.verify_audit().map(verdict).map_err(core_error)).await
}

/// The research queue, counted.
#[tauri::command]
pub async fn research_status(app: AppHandle) -> Result<ResearchStatusView, IpcError> {
    with_vault_mut(app, |v| {
        let s = v.research_status().map_err(core_error)?;
        Ok(ResearchStatusView { pending: s.pending, sent: s.sent, failed: s.failed, withdrawn: s.withdrawn, delay_days: s.delay_days })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use techo_ipc::ErrorCode;

    #[test]
    fn the_window_offers_exactly_the_core_categories() {
        let codes: Vec<&str> = techo_ipc::CONSENT_CATEGORIES.iter().map(|(c, _, _)| *c).collect();
        let core: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, core);
        for (code, en, ja) in techo_ipc::CONSENT_CATEGORIES {
            let c = category(code).unwrap();
            assert_eq!((c.label_en(), c.label_ja()), (*en, *ja));
        }
    }

    #[test]
    fn requests_become_consent_changes() {
        let c = to_change(ConsentChangeRequest::DenyCategory { category: "mental_health".into() }).unwrap();
        assert_eq!(c, ConsentChange::DenyCategory { category: Category::MentalHealth });
        let p = to_change(ConsentChangeRequest::DenyPeriod { from: "2024-01-01".into(), to: "2024-03-31".into() }).unwrap();
        assert_eq!(p, ConsentChange::DenyPeriod { from: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(), to: NaiveDate::from_ymd_opt(2024, 3, 31).unwrap() });
        let f = to_change(ConsentChangeRequest::DenyFacility { name: "  さくら病院 ".into() }).unwrap();
        assert_eq!(f, ConsentChange::DenyFacility { name: "さくら病院".into() });
        let g = to_change(ConsentChangeRequest::GrantCaregiver {
            id: "hanako".into(),
            display_name: " 山田 花子 ".into(),
            relationship: "娘".into(),
            access: "full".into(),
            expires_on: Some("2027-03-31".into()),
        })
        .unwrap();
        match g {
            ConsentChange::GrantCaregiver { display_name, access, expires_at: Some(end), .. } => {
                assert_eq!((display_name.as_str(), access), ("山田 花子", Access::Full));
                // Access lasts through 31 March on this computer's clock.
                let local = end.with_timezone(&Local).naive_local();
                assert_eq!(local.format("%Y-%m-%d %H:%M").to_string(), "2027-04-01 00:00");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(to_change(ConsentChangeRequest::ResearchOptOut).unwrap(), ConsentChange::ResearchOptOut);
    }

    #[test]
    fn bad_requests_are_sentences() {
        let cases = [
            ConsentChangeRequest::DenyCategory { category: "cardiology".into() },
            ConsentChangeRequest::DenyPeriod { from: "2024-05-01".into(), to: "2024-04-01".into() },
            ConsentChangeRequest::DenyPeriod { from: "2023-02-29".into(), to: "2024-04-01".into() },
            ConsentChangeRequest::GrantCaregiver { id: "Bad Id".into(), display_name: "A".into(), relationship: "b".into(), access: "full".into(), expires_on: None },
        ];
        for c in cases {
            let e = to_change(c.clone()).expect_err("refused");
            assert_eq!(e.code, ErrorCode::InvalidInput, "{c:?}");
            assert!(e.message.ends_with('.') && !e.message.contains('{'), "{}", e.message);
        }
        assert_eq!(actor(None).unwrap(), Actor::Person);
        assert_eq!(actor(Some("  ".into())).unwrap(), Actor::Person, "an empty guardian field is the person");
        assert_eq!(actor(Some(" 山田 太郎 ".into())).unwrap(), Actor::Guardian { name: "山田 太郎".into() });
        assert!(actor(Some("名".repeat(200))).is_err());
    }

    #[test]
    fn core_consent_errors_reach_the_window_as_invalid_input() {
        let mut state = ConsentState::default();
        let err = state.apply(ConsentChange::ResearchOptIn, Actor::Person, Utc::now()).unwrap_err();
        let e = core_error(techo_core::Error::Consent(err));
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("already permitted"), "{}", e.message);
    }

    #[test]
    fn the_view_says_state_in_both_languages() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap();
        let mut state = ConsentState::default();
        state.apply(ConsentChange::DenyCategory { category: Category::MentalHealth }, Actor::Person, t0).unwrap();
        state.apply(ConsentChange::DenyFacility { name: "さくら病院".into() }, Actor::Guardian { name: "山田 太郎".into() }, t0).unwrap();
        let grant = |id: &str, expires_at| ConsentChange::GrantCaregiver {
            id: id.into(),
            display_name: "山田 花子".into(),
            relationship: "娘".into(),
            access: Access::ReadOnly,
            expires_at,
        };
        state.apply(grant("active", None), Actor::Person, t0).unwrap();
        state.apply(grant("short", Some(t0 + chrono::Duration::days(1))), Actor::Person, t0).unwrap();
        state.apply(grant("gone", None), Actor::Person, t0).unwrap();
        state.apply(ConsentChange::RevokeCaregiver { id: "gone".into() }, Actor::Person, t0 + chrono::Duration::hours(1)).unwrap();
        state.apply(ConsentChange::ResearchOptOut, Actor::Person, t0 + chrono::Duration::hours(2)).unwrap();
        let now = t0 + chrono::Duration::days(3);
        let history = vec![
            techo_core::ConsentVersion { version: 1, change: "first".into(), changed_at: "2026-01-10T00:00:00Z".into() },
            techo_core::ConsentVersion { version: 2, change: "second".into(), changed_at: "2026-01-10T00:00:01Z".into() },
        ];
        let v = to_view(1, &state, history, 30, now);
        assert_eq!(v.exceptions.len(), 2);
        assert_eq!(v.exceptions[0].kind, "category");
        assert_eq!(v.exceptions[0].description_en, "Do not share mental health records.");
        assert_eq!(v.exceptions[0].description_ja, "精神・心の健康の記録は共有しない。");
        assert_eq!(v.exceptions[1].description_ja, "「さくら病院」には共有しない。");
        assert_eq!(v.exceptions[1].by, "guardian 山田 太郎");
        let states: Vec<(&str, &str)> = v.caregivers.iter().map(|c| (c.id.as_str(), c.state.as_str())).collect();
        assert_eq!(states, [("active", "active"), ("short", "expired"), ("gone", "revoked")]);
        assert_eq!(v.caregivers[0].access, "read_only");
        assert!(!v.research.permitted);
        assert_eq!(v.research.changed_at.as_deref(), Some("2026-01-10T02:00:00Z"));
        assert_eq!(v.research.delay_days, 30);
        assert_eq!(v.history.iter().map(|h| h.version).collect::<Vec<_>>(), [2, 1], "newest first");
    }

    /// A real vault: changes through the core, the view and the audit pages read back (newest
    /// first, paged, one person's or everyone's), and the chain verifies.
    #[test]
    fn changes_are_read_back_and_the_log_pages_newest_first() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let pass = secrecy::SecretString::from("correct horse battery staple");
        let (mut v, _) = Vault::create(&tmp.path().join("vault"), &pass, None).expect("a new vault");
        let a = v.add_person("山田 花子", Some("self"), &[]).unwrap();
        let b = v.add_person("山田 太郎", Some("father"), &[]).unwrap();
        let change = |v: &mut Vault, person, req| v.change_consent(person, to_change(req).unwrap(), Actor::Person).unwrap();
        for (i, person) in [a, b, a, b, a, b, a].into_iter().enumerate() {
            change(&mut v, person, ConsentChangeRequest::DenyFacility { name: format!("Clinic {i}") });
        }
        let out = change(&mut v, a, ConsentChangeRequest::ResearchOptOut);
        assert_eq!(out.withdrawn, 0);
        let view = consent_view(&v, a).unwrap();
        assert_eq!(view.exceptions.len(), 4);
        assert!(!view.research.permitted);
        assert_eq!(view.history.len(), 5);
        assert!(view.history[0].change.to_lowercase().contains("research"), "newest first: {}", view.history[0].change);

        let everyone = audit_page(&v, None, None, 3).unwrap();
        assert_eq!(everyone.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [8, 7, 6]);
        assert_eq!(everyone.next_before, Some(6));
        let older = audit_page(&v, None, Some(6), 3).unwrap();
        assert_eq!(older.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [5, 4, 3]);
        let oldest = audit_page(&v, None, Some(3), 3).unwrap();
        assert_eq!((oldest.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), oldest.next_before), (vec![2, 1], None));
        let whole = audit_page(&v, None, None, 8).unwrap();
        assert_eq!((whole.rows.len(), whole.next_before), (8, None), "exactly one page: no older page");
        let mine = audit_page(&v, Some(b), None, 10).unwrap();
        assert_eq!(mine.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [6, 4, 2]);
        assert!(mine.rows.iter().all(|r| r.kind == "consent-change" && r.person == Some(b) && r.what.is_none() && r.why.contains("Clinic")));
        let verdict = verdict(v.verify_audit().unwrap());
        assert_eq!((verdict.entries, verdict.ok), (8, true));
    }

    #[test]
    fn audit_rows_say_who_what_and_why_from_the_event() {
        let event = serde_json::json!({
            "resourceType": "AuditEvent",
            "outcomeDesc": "treatment at Sakura Hospital",
            "purposeOfEvent": [{ "coding": [{ "code": "TREAT" }] }],
            "agent": [{ "who": { "display": "Techo" } }, { "who": { "display": "Sakura Hospital" } }],
            "entity": [{ "what": {} }, { "description": "5 disclosed, 1 held back by consent" }]
        });
        let e = AuditEntry { seq: 4, recorded_at: "2026-01-10T00:00:00Z".into(), person_id: Some(1), kind: "share".into(), event, hash: "00".into() };
        let r = to_row(&e);
        assert_eq!((r.seq, r.kind.as_str(), r.recipient.as_str(), r.purpose.as_str()), (4, "share", "Sakura Hospital", "TREAT"));
        assert_eq!(r.what.as_deref(), Some("5 disclosed, 1 held back by consent"));
        assert_eq!(r.why, "treatment at Sakura Hospital");
        let change = serde_json::json!({ "outcomeDesc": "Research opt-out (by the person).", "agent": [{}, { "who": { "display": "the vault" } }], "entity": [{}] });
        let e = AuditEntry { seq: 5, recorded_at: "t".into(), person_id: Some(1), kind: "consent-change".into(), event: change, hash: "00".into() };
        let r = to_row(&e);
        assert_eq!((r.what, r.recipient.as_str(), r.purpose.as_str()), (None, "the vault", ""));
        let v = verdict(techo_core::AuditVerification { entries: 3, problem: Some((2, "this entry was changed".into())) });
        assert_eq!((v.entries, v.ok), (3, false));
        assert_eq!(v.problem, Some(AuditProblem { seq: 2, what: "This entry was changed.".into() }));
    }
}
