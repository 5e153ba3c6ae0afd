//! ConsentState::apply: validation, ids, audit summaries.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rstest::rstest;
use techo_consent::{Access, Actor, Category, ConsentChange, ConsentError, ConsentState};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("base time") + Duration::minutes(minutes)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date")
}

fn grant(id: &str, access: Access, expires_at: Option<DateTime<Utc>>) -> ConsentChange {
    ConsentChange::GrantCaregiver {
        id: id.into(),
        display_name: "Hanako".into(),
        relationship: "daughter".into(),
        access,
        expires_at,
    }
}

/// A state with one facility exception (x1), one caregiver (hanako, revoked at 3) and an
/// opt-out at 5.
fn sample() -> ConsentState {
    let mut s = ConsentState::default();
    s.apply(ConsentChange::DenyFacility { name: " Sakura Clinic ".into() }, Actor::Person, t(1)).expect("facility");
    s.apply(grant("hanako", Access::ReadOnly, None), Actor::Person, t(2)).expect("grant");
    s.apply(ConsentChange::RevokeCaregiver { id: "hanako".into() }, Actor::Person, t(3)).expect("revoke");
    s.apply(ConsentChange::ResearchOptOut, Actor::Person, t(5)).expect("opt out");
    s
}

#[rstest]
#[case::unknown_exception(ConsentChange::RemoveException { id: "x9".into() }, "consent.unknown_exception")]
#[case::duplicate_facility_other_case(ConsentChange::DenyFacility { name: "SAKURA clinic".into() }, "consent.duplicate_exception")]
#[case::empty_facility(ConsentChange::DenyFacility { name: "   ".into() }, "consent.empty_facility")]
#[case::long_facility(ConsentChange::DenyFacility { name: "a".repeat(201) }, "consent.too_long")]
#[case::period_reversed(ConsentChange::DenyPeriod { from: day(2021, 1, 2), to: day(2021, 1, 1) }, "consent.period_reversed")]
#[case::bad_slug(grant("Hanako!", Access::Full, None), "consent.invalid_caregiver_id")]
#[case::slug_dash_start(grant("-a", Access::Full, None), "consent.invalid_caregiver_id")]
#[case::slug_too_long(grant(&"a".repeat(49), Access::Full, None), "consent.invalid_caregiver_id")]
#[case::duplicate_caregiver_even_revoked(grant("hanako", Access::Full, None), "consent.duplicate_caregiver")]
#[case::expiry_at_grant(grant("taro", Access::Full, Some(t(10))), "consent.expiry_not_after_grant")]
#[case::expiry_before_grant(grant("taro", Access::Full, Some(t(9))), "consent.expiry_not_after_grant")]
#[case::empty_name(ConsentChange::GrantCaregiver { id: "taro".into(), display_name: " ".into(), relationship: "son".into(), access: Access::Full, expires_at: None }, "consent.empty_caregiver_name")]
#[case::empty_relationship(ConsentChange::GrantCaregiver { id: "taro".into(), display_name: "Taro".into(), relationship: "".into(), access: Access::Full, expires_at: None }, "consent.empty_relationship")]
#[case::unknown_caregiver(ConsentChange::RevokeCaregiver { id: "nobody".into() }, "consent.unknown_caregiver")]
#[case::already_revoked(ConsentChange::RevokeCaregiver { id: "hanako".into() }, "consent.already_revoked")]
#[case::already_opted_out(ConsentChange::ResearchOptOut, "consent.already_opted_out")]
fn invalid_changes_are_refused_and_leave_the_state_unchanged(#[case] change: ConsentChange, #[case] code: &str) {
    let mut s = sample();
    let before = s.clone();
    let err = s.apply(change, Actor::Person, t(10)).expect_err("must be refused");
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(s, before);
    let msg = err.to_string();
    assert!(msg.ends_with('.'), "a sentence: {msg}");
    assert!(!msg.to_lowercase().contains("sakura"), "no facility names in errors: {msg}");
}

#[test]
fn opt_in_when_permitted_and_out_of_order_choices_are_refused() {
    let mut s = ConsentState::default();
    let err = s.apply(ConsentChange::ResearchOptIn, Actor::Person, t(1)).expect_err("already permitted");
    assert_eq!(err, ConsentError::NotOptedOut);
    assert_eq!(err.code(), "consent.not_opted_out");
    s.apply(ConsentChange::ResearchOptOut, Actor::Person, t(10)).expect("opt out");
    let err = s.apply(ConsentChange::ResearchOptIn, Actor::Person, t(9)).expect_err("before the opt-out");
    assert_eq!(err.code(), "consent.research_out_of_order");
    // Same instant is fine.
    s.apply(ConsentChange::ResearchOptIn, Actor::Person, t(10)).expect("opt in at the same instant");
    assert_eq!(s.research.events.len(), 2);
}

#[test]
fn guardian_without_name_is_refused() {
    let mut s = ConsentState::default();
    let err = s
        .apply(ConsentChange::DenyCategory { category: Category::Genetics }, Actor::Guardian { name: " ".into() }, t(1))
        .expect_err("guardian needs a name");
    assert_eq!(err.code(), "consent.empty_guardian_name");
    assert_eq!(s, ConsentState::default());
}

#[test]
fn exception_ids_are_sequential_and_never_reused() {
    let mut s = ConsentState::default();
    let a = s.apply(ConsentChange::DenyRecord { record_id: 7 }, Actor::Person, t(1)).expect("x1");
    let b = s.apply(ConsentChange::DenyCategory { category: Category::Genetics }, Actor::Person, t(2)).expect("x2");
    assert_eq!(a.subject_id.as_deref(), Some("x1"));
    assert_eq!(b.subject_id.as_deref(), Some("x2"));
    let r = s.apply(ConsentChange::RemoveException { id: "x2".into() }, Actor::Person, t(3)).expect("remove");
    assert_eq!(r.kind, "sharing.exception_removed");
    let c = s.apply(ConsentChange::DenyCategory { category: Category::Genetics }, Actor::Person, t(4)).expect("x3");
    assert_eq!(c.subject_id.as_deref(), Some("x3"));
    assert_eq!(s.sharing.updated_at, Some(t(4)));
    // A stored counter behind the stored ids does not cause reuse.
    s.sharing.last_exception_seq = 0;
    let d = s.apply(ConsentChange::DenyRecord { record_id: 8 }, Actor::Person, t(5)).expect("x4");
    assert_eq!(d.subject_id.as_deref(), Some("x4"));
}

#[test]
fn facility_names_are_stored_trimmed() {
    let s = sample();
    assert_eq!(s.sharing.exceptions[0].kind, techo_consent::ExceptionKind::Facility { name: "Sakura Clinic".into() });
}

#[test]
fn guardian_actor_is_recorded_everywhere() {
    let guardian = Actor::Guardian { name: "山田 太郎".into() };
    let mut s = ConsentState::default();
    let a = s.apply(ConsentChange::DenyCategory { category: Category::Reproductive }, guardian.clone(), t(1)).expect("deny");
    s.apply(grant("hanako", Access::Full, Some(t(100))), guardian.clone(), t(2)).expect("grant");
    s.apply(ConsentChange::RevokeCaregiver { id: "hanako".into() }, guardian.clone(), t(3)).expect("revoke");
    let o = s.apply(ConsentChange::ResearchOptOut, guardian.clone(), t(4)).expect("opt out");
    assert_eq!(a.actor, guardian);
    assert!(a.summary.contains("guardian 山田 太郎"), "{}", a.summary);
    assert_eq!(s.sharing.exceptions[0].by, guardian);
    assert_eq!(s.caregivers[0].granted_by, guardian);
    assert_eq!(s.caregivers[0].revoked_by.as_ref(), Some(&guardian));
    assert_eq!(s.research.events[0].by, guardian);
    assert_eq!(o.kind, "research.opted_out");
    assert_eq!(o.at, t(4));
}

#[rstest]
#[case::facility(ConsentChange::DenyFacility { name: "Sakura Clinic".into() }, "sharing.exception_added", "Added sharing exception x1: do not share with facility \"Sakura Clinic\" (by the person).")]
#[case::category(ConsentChange::DenyCategory { category: Category::MentalHealth }, "sharing.exception_added", "Added sharing exception x1: do not share mental health records (by the person).")]
#[case::period(ConsentChange::DenyPeriod { from: day(2020, 1, 1), to: day(2020, 6, 30) }, "sharing.exception_added", "Added sharing exception x1: do not share records dated 2020-01-01 to 2020-06-30 (by the person).")]
#[case::record(ConsentChange::DenyRecord { record_id: 42 }, "sharing.exception_added", "Added sharing exception x1: do not share record 42 (by the person).")]
#[case::grant(grant("hanako", Access::ReadOnly, None), "caregiver.granted", "Granted read-only caregiver access to hanako (by the person).")]
#[case::opt_out(ConsentChange::ResearchOptOut, "research.opted_out", "Refused research use: no further research copies will be made (by the person).")]
fn audit_summaries(#[case] change: ConsentChange, #[case] kind: &str, #[case] summary: &str) {
    let mut s = ConsentState::default();
    let applied = s.apply(change, Actor::Person, t(1)).expect("apply");
    assert_eq!(applied.kind, kind);
    assert_eq!(applied.summary, summary);
    assert_eq!(applied.actor, Actor::Person);
    assert_eq!(applied.at, t(1));
}

#[test]
fn every_error_code_is_distinct_and_namespaced() {
    let errors = [
        ConsentError::UnknownException { id: "x".into() },
        ConsentError::DuplicateException { existing: "x".into() },
        ConsentError::EmptyFacility,
        ConsentError::TooLong { field: "f", max: 1 },
        ConsentError::PeriodReversed,
        ConsentError::InvalidCaregiverId,
        ConsentError::EmptyCaregiverName,
        ConsentError::EmptyRelationship,
        ConsentError::DuplicateCaregiver { id: "x".into() },
        ConsentError::ExpiryNotAfterGrant,
        ConsentError::UnknownCaregiver { id: "x".into() },
        ConsentError::AlreadyRevoked { id: "x".into() },
        ConsentError::AlreadyOptedOut,
        ConsentError::NotOptedOut,
        ConsentError::ResearchOutOfOrder,
        ConsentError::EmptyGuardianName,
    ];
    let codes: std::collections::BTreeSet<&str> = errors.iter().map(ConsentError::code).collect();
    assert_eq!(codes.len(), errors.len());
    assert!(codes.iter().all(|c| c.starts_with("consent.")));
}
