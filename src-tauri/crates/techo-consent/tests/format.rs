//! Format stability: JSON written by this version must keep deserializing.

use chrono::{DateTime, NaiveDate, Utc};
use techo_consent::{
    Access, Actor, Category, ConsentChange, ConsentState, ExceptionKind, ResearchChoice,
};

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test timestamp").with_timezone(&Utc)
}

/// Written by the first version of the crate. Do not edit: add a new fixture instead.
const STATE_V1: &str = r#"{
  "sharing": {
    "exceptions": [
      {"id": "x1", "added_at": "2025-01-02T03:04:05Z", "by": "person", "kind": {"facility": {"name": "Sakura Clinic"}}},
      {"id": "x2", "added_at": "2025-01-03T00:00:00Z", "by": {"guardian": {"name": "山田 花子"}}, "kind": {"category": {"category": "mental_health"}}},
      {"id": "x4", "added_at": "2025-01-04T00:00:00Z", "by": "person", "kind": {"period": {"from": "2020-01-01", "to": "2020-12-31"}}},
      {"id": "x5", "added_at": "2025-01-05T00:00:00Z", "by": "person", "kind": {"record": {"record_id": 9007199254740993}}}
    ],
    "last_exception_seq": 5,
    "updated_at": "2025-01-05T00:00:00Z"
  },
  "caregivers": [
    {"id": "hanako", "display_name": "山田 花子", "relationship": "娘", "access": "read_only",
     "granted_at": "2025-02-01T00:00:00Z", "expires_at": "2026-02-01T00:00:00Z", "revoked_at": null,
     "granted_by": "person", "revoked_by": null},
    {"id": "care-manager", "display_name": "Sato", "relationship": "care manager", "access": "full",
     "granted_at": "2025-02-01T00:00:00Z", "revoked_at": "2025-03-01T00:00:00Z",
     "granted_by": {"guardian": {"name": "Taro"}}, "revoked_by": "person"}
  ],
  "research": {
    "events": [
      {"at": "2025-04-01T00:00:00Z", "choice": "opt_out", "by": "person"},
      {"at": "2025-05-01T00:00:00Z", "choice": "opt_in", "by": {"guardian": {"name": "Taro"}}}
    ]
  }
}"#;

#[test]
fn fixed_v1_state_still_deserializes() {
    let s: ConsentState = serde_json::from_str(STATE_V1).expect("v1 state must deserialize");
    assert_eq!(s.sharing.exceptions.len(), 4);
    assert_eq!(s.sharing.exceptions[0].kind, ExceptionKind::Facility { name: "Sakura Clinic".into() });
    assert_eq!(s.sharing.exceptions[1].kind, ExceptionKind::Category { category: Category::MentalHealth });
    assert_eq!(s.sharing.exceptions[1].by, Actor::Guardian { name: "山田 花子".into() });
    assert_eq!(
        s.sharing.exceptions[2].kind,
        ExceptionKind::Period {
            from: NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
            to: NaiveDate::from_ymd_opt(2020, 12, 31).expect("date")
        }
    );
    // Beyond f64 precision: survives with the workspace's arbitrary_precision serde_json.
    assert_eq!(s.sharing.exceptions[3].kind, ExceptionKind::Record { record_id: 9_007_199_254_740_993 });
    assert_eq!(s.sharing.last_exception_seq, 5);
    assert_eq!(s.sharing.updated_at, Some(ts("2025-01-05T00:00:00Z")));
    assert_eq!(s.caregivers[0].access, Access::ReadOnly);
    assert_eq!(s.caregivers[0].expires_at, Some(ts("2026-02-01T00:00:00Z")));
    assert_eq!(s.caregivers[1].access, Access::Full);
    assert_eq!(s.caregivers[1].expires_at, None);
    assert_eq!(s.caregivers[1].revoked_by, Some(Actor::Person));
    assert_eq!(s.research.events[0].choice, ResearchChoice::OptOut);
    assert_eq!(s.research.events[1].choice, ResearchChoice::OptIn);

    // And it round-trips unchanged.
    let again: ConsentState = serde_json::from_str(&serde_json::to_string(&s).expect("serialize")).expect("deserialize");
    assert_eq!(again, s);
}

#[test]
fn empty_object_is_the_default_state() {
    let s: ConsentState = serde_json::from_str("{}").expect("empty state");
    assert_eq!(s, ConsentState::default());
}

#[test]
fn serialized_names_are_stable() {
    let mut s = ConsentState::default();
    s.apply(ConsentChange::DenyCategory { category: Category::SubstanceUse }, Actor::Person, ts("2025-01-01T00:00:00Z"))
        .expect("apply");
    s.apply(ConsentChange::ResearchOptOut, Actor::Guardian { name: "Taro".into() }, ts("2025-01-02T00:00:00Z"))
        .expect("apply");
    let v = serde_json::to_value(&s).expect("serialize");
    assert_eq!(v["sharing"]["exceptions"][0]["kind"]["category"]["category"], "substance_use");
    assert_eq!(v["sharing"]["exceptions"][0]["by"], "person");
    assert_eq!(v["research"]["events"][0]["choice"], "opt_out");
    assert_eq!(v["research"]["events"][0]["by"]["guardian"]["name"], "Taro");
    let names: Vec<String> = Category::ALL
        .iter()
        .map(|c| serde_json::to_value(c).expect("serialize").as_str().expect("string").to_string())
        .collect();
    assert_eq!(names, ["mental_health", "substance_use", "sexual_health", "reproductive", "genetics"]);
    for c in Category::ALL {
        assert_eq!(serde_json::to_value(c).expect("serialize"), c.as_str());
    }
}

#[test]
fn consent_change_deserializes_from_caller_json() {
    let c: ConsentChange = serde_json::from_str(r#"{"deny_record": {"record_id": 42}}"#).expect("change");
    assert_eq!(c, ConsentChange::DenyRecord { record_id: 42 });
    let c: ConsentChange = serde_json::from_str(r#""research_opt_out""#).expect("change");
    assert_eq!(c, ConsentChange::ResearchOptOut);
}
