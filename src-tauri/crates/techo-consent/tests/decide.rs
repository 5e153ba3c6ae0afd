//! decide(): one table row per rule, plus the time edges of caregiver grants.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rstest::rstest;
use techo_consent::{
    decide, rule, Access, Action, Actor, Category, ConsentChange, ConsentState, Decision, Purpose, Recipient, Request,
    ResourceFacts,
};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("base time") + Duration::minutes(minutes)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date")
}

fn provider(name: &str) -> Recipient {
    Recipient::Provider { facility: name.into() }
}

fn caregiver(id: &str) -> Recipient {
    Recipient::Caregiver { id: id.into() }
}

fn research() -> Recipient {
    Recipient::Research { destination: "techo-research".into() }
}

/// The resource used unless a row says otherwise.
struct Res {
    record_id: i64,
    clinical_date: Option<&'static str>,
    categories: BTreeSet<Category>,
    entered_at: DateTime<Utc>,
}

fn res() -> Res {
    Res { record_id: 1, clinical_date: Some("2024-05-01"), categories: BTreeSet::new(), entered_at: t(0) }
}

fn check(state: &ConsentState, recipient: Recipient, purpose: Purpose, action: Action, r: &Res, now: DateTime<Utc>) -> Decision {
    let req = Request { recipient: &recipient, purpose, action };
    let facts = ResourceFacts {
        record_id: r.record_id,
        rtype: "Condition",
        facility: Some("Origin Hospital"),
        clinical_date: r.clinical_date,
        categories: &r.categories,
        entered_at: r.entered_at,
    };
    let d = decide(state, &req, &facts, now);
    assert!(rule::ALL.contains(&d.rule), "unlisted rule code {}", d.rule);
    assert!(d.reason.ends_with('.'), "reason is a sentence: {}", d.reason);
    d
}

fn state_with(changes: Vec<ConsentChange>) -> ConsentState {
    let mut s = ConsentState::default();
    for (i, c) in changes.into_iter().enumerate() {
        let at = t(i64::try_from(i).expect("small") + 1);
        s.apply(c, Actor::Person, at).expect("valid change");
    }
    s
}

fn mental() -> BTreeSet<Category> {
    BTreeSet::from([Category::MentalHealth])
}

#[rstest]
// The person.
#[case::personal_read(vec![], Recipient::Person, Purpose::PersonalUse, Action::Read, res(), true, rule::PERSONAL_OWNER)]
#[case::personal_write(vec![ConsentChange::DenyRecord { record_id: 1 }], Recipient::Person, Purpose::PersonalUse, Action::Write, res(), true, rule::PERSONAL_OWNER)]
// Provider sharing.
#[case::sharing_default(vec![], provider("Sakura Clinic"), Purpose::Treatment, Action::Read, res(), true, rule::SHARING_DEFAULT)]
#[case::sharing_write_denied(vec![], provider("Sakura Clinic"), Purpose::Treatment, Action::Write, res(), false, rule::SHARING_READ_ONLY)]
#[case::sharing_empty_facility(vec![], provider("  "), Purpose::Treatment, Action::Read, res(), false, rule::SHARING_UNKNOWN_FACILITY)]
#[case::deny_facility(vec![ConsentChange::DenyFacility { name: "Sakura Clinic".into() }], provider("  sakura CLINIC "), Purpose::Treatment, Action::Read, res(), false, rule::SHARING_DENY_FACILITY)]
#[case::deny_facility_other_facility(vec![ConsentChange::DenyFacility { name: "Sakura Clinic".into() }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), true, rule::SHARING_DEFAULT)]
#[case::deny_facility_is_about_recipient_not_origin(vec![ConsentChange::DenyFacility { name: "Origin Hospital".into() }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), true, rule::SHARING_DEFAULT)]
#[case::deny_category_mental_health(vec![ConsentChange::DenyCategory { category: Category::MentalHealth }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { categories: mental(), ..res() }, false, rule::SHARING_DENY_CATEGORY)]
#[case::deny_category_other_category(vec![ConsentChange::DenyCategory { category: Category::Genetics }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { categories: mental(), ..res() }, true, rule::SHARING_DEFAULT)]
#[case::deny_category_uncategorised(vec![ConsentChange::DenyCategory { category: Category::MentalHealth }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), true, rule::SHARING_DEFAULT)]
#[case::deny_period_inside(vec![ConsentChange::DenyPeriod { from: day(2024, 4, 1), to: day(2024, 6, 30) }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), false, rule::SHARING_DENY_PERIOD)]
#[case::deny_period_first_day(vec![ConsentChange::DenyPeriod { from: day(2024, 5, 1), to: day(2024, 6, 30) }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), false, rule::SHARING_DENY_PERIOD)]
#[case::deny_period_last_day_datetime(vec![ConsentChange::DenyPeriod { from: day(2024, 4, 1), to: day(2024, 5, 1) }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { clinical_date: Some("2024-05-01T23:30:00+09:00"), ..res() }, false, rule::SHARING_DENY_PERIOD)]
#[case::deny_period_day_after(vec![ConsentChange::DenyPeriod { from: day(2024, 4, 1), to: day(2024, 4, 30) }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), true, rule::SHARING_DEFAULT)]
#[case::deny_period_partial_year_overlaps(vec![ConsentChange::DenyPeriod { from: day(2024, 4, 1), to: day(2024, 4, 30) }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { clinical_date: Some("2024"), ..res() }, false, rule::SHARING_DENY_PERIOD)]
#[case::deny_period_month_outside(vec![ConsentChange::DenyPeriod { from: day(2024, 4, 1), to: day(2024, 4, 30) }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { clinical_date: Some("2024-03"), ..res() }, true, rule::SHARING_DEFAULT)]
#[case::deny_period_no_clinical_date(vec![ConsentChange::DenyPeriod { from: day(2024, 4, 1), to: day(2024, 6, 30) }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { clinical_date: None, ..res() }, true, rule::SHARING_DEFAULT)]
#[case::deny_period_unreadable_date(vec![ConsentChange::DenyPeriod { from: day(2024, 4, 1), to: day(2024, 6, 30) }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { clinical_date: Some("令和6年5月1日"), ..res() }, false, rule::SHARING_UNREADABLE_DATE)]
#[case::unreadable_date_without_period_exception(vec![], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { clinical_date: Some("garbage"), ..res() }, true, rule::SHARING_DEFAULT)]
#[case::deny_record(vec![ConsentChange::DenyRecord { record_id: 1 }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), false, rule::SHARING_DENY_RECORD)]
#[case::deny_record_other_record(vec![ConsentChange::DenyRecord { record_id: 2 }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), true, rule::SHARING_DEFAULT)]
#[case::removed_exception_no_longer_applies(vec![ConsentChange::DenyRecord { record_id: 1 }, ConsentChange::RemoveException { id: "x1".into() }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, res(), true, rule::SHARING_DEFAULT)]
#[case::first_exception_wins(vec![ConsentChange::DenyCategory { category: Category::MentalHealth }, ConsentChange::DenyRecord { record_id: 1 }], provider("Ume Hospital"), Purpose::Treatment, Action::Read, Res { categories: mental(), ..res() }, false, rule::SHARING_DENY_CATEGORY)]
// Exceptions are about provider sharing only.
#[case::exceptions_do_not_bind_caregivers(vec![ConsentChange::DenyRecord { record_id: 1 }, ConsentChange::GrantCaregiver { id: "hanako".into(), display_name: "Hanako".into(), relationship: "daughter".into(), access: Access::ReadOnly, expires_at: None }], caregiver("hanako"), Purpose::CaregiverAccess, Action::Read, res(), true, rule::CAREGIVER_GRANTED)]
// Caregivers.
#[case::caregiver_no_grant(vec![], caregiver("hanako"), Purpose::CaregiverAccess, Action::Read, res(), false, rule::CAREGIVER_NO_GRANT)]
#[case::caregiver_read_only_write(vec![ConsentChange::GrantCaregiver { id: "hanako".into(), display_name: "Hanako".into(), relationship: "daughter".into(), access: Access::ReadOnly, expires_at: None }], caregiver("hanako"), Purpose::CaregiverAccess, Action::Write, res(), false, rule::CAREGIVER_READ_ONLY)]
#[case::caregiver_full_write(vec![ConsentChange::GrantCaregiver { id: "hanako".into(), display_name: "Hanako".into(), relationship: "daughter".into(), access: Access::Full, expires_at: None }], caregiver("hanako"), Purpose::CaregiverAccess, Action::Write, res(), true, rule::CAREGIVER_GRANTED)]
#[case::caregiver_other_id(vec![ConsentChange::GrantCaregiver { id: "hanako".into(), display_name: "Hanako".into(), relationship: "daughter".into(), access: Access::Full, expires_at: None }], caregiver("taro"), Purpose::CaregiverAccess, Action::Read, res(), false, rule::CAREGIVER_NO_GRANT)]
// Research.
#[case::research_default(vec![], research(), Purpose::Research, Action::Read, res(), true, rule::RESEARCH_PERMITTED)]
#[case::research_write(vec![], research(), Purpose::Research, Action::Write, res(), false, rule::RESEARCH_READ_ONLY)]
#[case::research_no_destination(vec![], Recipient::Research { destination: " ".into() }, Purpose::Research, Action::Read, res(), false, rule::RESEARCH_NO_DESTINATION)]
#[case::research_opted_out(vec![ConsentChange::ResearchOptOut], research(), Purpose::Research, Action::Read, res(), false, rule::RESEARCH_OPTED_OUT)]
#[case::research_opt_in_not_retroactive(vec![ConsentChange::ResearchOptOut, ConsentChange::ResearchOptIn], research(), Purpose::Research, Action::Read, res(), false, rule::RESEARCH_EXCLUDED_BY_OPT_OUT)]
#[case::research_entered_after_opt_in(vec![ConsentChange::ResearchOptOut, ConsentChange::ResearchOptIn], research(), Purpose::Research, Action::Read, Res { entered_at: t(5), ..res() }, true, rule::RESEARCH_PERMITTED)]
#[case::research_entered_while_opted_out(vec![ConsentChange::ResearchOptOut, ConsentChange::DenyRecord { record_id: 99 }, ConsentChange::ResearchOptIn], research(), Purpose::Research, Action::Read, Res { entered_at: t(2), ..res() }, false, rule::RESEARCH_EXCLUDED_BY_OPT_OUT)]
// Combinations that do not fit: fail closed.
#[case::treatment_to_caregiver(vec![], caregiver("hanako"), Purpose::Treatment, Action::Read, res(), false, rule::REQUEST_UNSUPPORTED)]
#[case::treatment_to_person(vec![], Recipient::Person, Purpose::Treatment, Action::Read, res(), false, rule::REQUEST_UNSUPPORTED)]
#[case::research_to_provider(vec![], provider("Ume Hospital"), Purpose::Research, Action::Read, res(), false, rule::REQUEST_UNSUPPORTED)]
#[case::personal_use_by_provider(vec![], provider("Ume Hospital"), Purpose::PersonalUse, Action::Read, res(), false, rule::REQUEST_UNSUPPORTED)]
#[case::caregiver_access_to_research(vec![], research(), Purpose::CaregiverAccess, Action::Read, res(), false, rule::REQUEST_UNSUPPORTED)]
#[case::treatment_to_research(vec![], research(), Purpose::Treatment, Action::Read, res(), false, rule::REQUEST_UNSUPPORTED)]
fn decide_table(
    #[case] changes: Vec<ConsentChange>,
    #[case] recipient: Recipient,
    #[case] purpose: Purpose,
    #[case] action: Action,
    #[case] resource: Res,
    #[case] permit: bool,
    #[case] rule_code: &str,
) {
    let state = state_with(changes);
    let d = check(&state, recipient, purpose, action, &resource, t(1000));
    assert_eq!((d.permit, d.rule), (permit, rule_code), "{}", d.reason);
}

/// Grant at 10 (state_with gives change i the time i+1, so build it by hand), expiring at 100.
fn expiring_grant(access: Access) -> ConsentState {
    let mut s = ConsentState::default();
    s.apply(
        ConsentChange::GrantCaregiver {
            id: "hanako".into(),
            display_name: "Hanako".into(),
            relationship: "daughter".into(),
            access,
            expires_at: Some(t(100)),
        },
        Actor::Person,
        t(10),
    )
    .expect("grant");
    s
}

#[rstest]
#[case::before_grant(t(10) - Duration::seconds(1), false, rule::CAREGIVER_NOT_YET_ACTIVE)]
#[case::at_grant(t(10), true, rule::CAREGIVER_GRANTED)]
#[case::just_before_expiry(t(100) - Duration::seconds(1), true, rule::CAREGIVER_GRANTED)]
#[case::at_expiry(t(100), false, rule::CAREGIVER_EXPIRED)]
#[case::after_expiry(t(100) + Duration::seconds(1), false, rule::CAREGIVER_EXPIRED)]
fn caregiver_expiry_edges(#[case] now: DateTime<Utc>, #[case] permit: bool, #[case] rule_code: &str) {
    let s = expiring_grant(Access::ReadOnly);
    let d = check(&s, caregiver("hanako"), Purpose::CaregiverAccess, Action::Read, &res(), now);
    assert_eq!((d.permit, d.rule), (permit, rule_code), "{}", d.reason);
}

#[rstest]
#[case::just_before_revocation(t(50) - Duration::seconds(1), true, rule::CAREGIVER_GRANTED)]
#[case::at_revocation(t(50), false, rule::CAREGIVER_REVOKED)]
#[case::after_revocation(t(60), false, rule::CAREGIVER_REVOKED)]
#[case::revoked_then_expired_reports_revoked(t(200), false, rule::CAREGIVER_REVOKED)]
fn caregiver_revocation_changes_the_answer(#[case] now: DateTime<Utc>, #[case] permit: bool, #[case] rule_code: &str) {
    let mut s = expiring_grant(Access::Full);
    let before = check(&s, caregiver("hanako"), Purpose::CaregiverAccess, Action::Write, &res(), t(40));
    assert!(before.permit, "full access writes before revocation");
    s.apply(ConsentChange::RevokeCaregiver { id: "hanako".into() }, Actor::Person, t(50)).expect("revoke");
    for action in [Action::Read, Action::Write] {
        let d = check(&s, caregiver("hanako"), Purpose::CaregiverAccess, action, &res(), now);
        assert_eq!((d.permit, d.rule), (permit, rule_code), "{}", d.reason);
    }
}

#[test]
fn write_needs_full_access() {
    let ro = expiring_grant(Access::ReadOnly);
    let full = expiring_grant(Access::Full);
    let now = t(20);
    assert!(check(&ro, caregiver("hanako"), Purpose::CaregiverAccess, Action::Read, &res(), now).permit);
    assert!(!check(&ro, caregiver("hanako"), Purpose::CaregiverAccess, Action::Write, &res(), now).permit);
    assert!(check(&full, caregiver("hanako"), Purpose::CaregiverAccess, Action::Read, &res(), now).permit);
    assert!(check(&full, caregiver("hanako"), Purpose::CaregiverAccess, Action::Write, &res(), now).permit);
}

#[test]
fn duplicate_stored_grant_ids_fail_closed() {
    let mut s = expiring_grant(Access::Full);
    let copy = s.caregivers[0].clone();
    s.caregivers.push(copy);
    let d = check(&s, caregiver("hanako"), Purpose::CaregiverAccess, Action::Read, &res(), t(20));
    assert_eq!((d.permit, d.rule), (false, rule::CAREGIVER_AMBIGUOUS));
}

#[test]
fn treatment_of_a_mental_health_record_is_denied_when_that_category_is_excepted() {
    let mut s = ConsentState::default();
    let condition = serde_json::json!({
        "resourceType": "Condition",
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "F32.1", "display": "Moderate depressive episode"}]}
    });
    let categories = techo_consent::classify(&condition);
    let r = Res { categories, ..res() };
    assert!(check(&s, provider("Ume Hospital"), Purpose::Treatment, Action::Read, &r, t(5)).permit);
    s.apply(ConsentChange::DenyCategory { category: Category::MentalHealth }, Actor::Person, t(6)).expect("deny");
    let d = check(&s, provider("Ume Hospital"), Purpose::Treatment, Action::Read, &r, t(7));
    assert_eq!((d.permit, d.rule), (false, rule::SHARING_DENY_CATEGORY));
    assert!(!d.reason.contains("depress"), "no health data in reasons: {}", d.reason);
    assert!(d.reason.contains("x1"), "{}", d.reason);
    // The person still sees it.
    assert!(check(&s, Recipient::Person, Purpose::PersonalUse, Action::Read, &r, t(7)).permit);
}

#[test]
fn rule_codes_are_distinct() {
    let set: BTreeSet<&str> = rule::ALL.iter().copied().collect();
    assert_eq!(set.len(), rule::ALL.len());
}

#[rstest]
#[case::year("2024", Some((day(2024, 1, 1), day(2024, 12, 31))))]
#[case::leap_february("2024-02", Some((day(2024, 2, 1), day(2024, 2, 29))))]
#[case::december("2023-12", Some((day(2023, 12, 1), day(2023, 12, 31))))]
#[case::date("2024-05-01", Some((day(2024, 5, 1), day(2024, 5, 1))))]
#[case::datetime_as_written("2024-05-01T23:30:00+09:00", Some((day(2024, 5, 1), day(2024, 5, 1))))]
#[case::bad_month("2024-13", None)]
#[case::bad_day("2024-02-30", None)]
#[case::short_year("24-05-01", None)]
#[case::year_with_time("2024T10:00", None)]
#[case::japanese("令和6年5月1日", None)]
#[case::empty("", None)]
fn clinical_dates(#[case] text: &str, #[case] expected: Option<(NaiveDate, NaiveDate)>) {
    assert_eq!(techo_consent::clinical_days(text), expected);
}
