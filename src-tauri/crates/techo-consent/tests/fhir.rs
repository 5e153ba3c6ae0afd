//! to_fhir: well-formed FHIR R4 Consent resources, deterministic.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::Value;
use techo_consent::{to_fhir, Access, Actor, Category, ConsentChange, ConsentState};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("base time") + Duration::minutes(minutes)
}

fn full_state() -> ConsentState {
    let mut s = ConsentState::default();
    let guardian = Actor::Guardian { name: "山田 太郎".into() };
    let changes = vec![
        (ConsentChange::DenyFacility { name: "Sakura Clinic".into() }, Actor::Person),
        (ConsentChange::DenyCategory { category: Category::MentalHealth }, guardian.clone()),
        (
            ConsentChange::DenyPeriod {
                from: NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
                to: NaiveDate::from_ymd_opt(2020, 12, 31).expect("date"),
            },
            Actor::Person,
        ),
        (ConsentChange::DenyRecord { record_id: 42 }, Actor::Person),
        (
            ConsentChange::GrantCaregiver {
                id: "hanako".into(),
                display_name: "山田 花子".into(),
                relationship: "娘".into(),
                access: Access::ReadOnly,
                expires_at: Some(t(10_000)),
            },
            Actor::Person,
        ),
        (
            ConsentChange::GrantCaregiver {
                id: "care-manager".into(),
                display_name: "Sato".into(),
                relationship: "care manager".into(),
                access: Access::Full,
                expires_at: None,
            },
            guardian.clone(),
        ),
        (ConsentChange::RevokeCaregiver { id: "care-manager".into() }, Actor::Person),
        (ConsentChange::ResearchOptOut, Actor::Person),
        (ConsentChange::ResearchOptIn, Actor::Person),
    ];
    for (i, (c, a)) in changes.into_iter().enumerate() {
        s.apply(c, a, t(i64::try_from(i).expect("small") * 60)).expect("valid");
    }
    s
}

fn codes(concept: &Value) -> Vec<&str> {
    concept["coding"].as_array().map(|a| a.iter().filter_map(|c| c["code"].as_str()).collect()).unwrap_or_default()
}

fn is_fhir_datetime(s: &str) -> bool {
    DateTime::parse_from_rfc3339(s).is_ok() || NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Checks the required elements and invariants of an R4 provision, recursively.
fn check_provision(p: &Value) {
    let ty = p["type"].as_str().expect("provision.type");
    assert!(ty == "permit" || ty == "deny", "{ty}");
    for key in ["period", "dataPeriod"] {
        if let Some(period) = p.get(key) {
            for end in ["start", "end"] {
                if let Some(v) = period.get(end) {
                    assert!(is_fhir_datetime(v.as_str().expect("string")), "{key}.{end}: {v}");
                }
            }
        }
    }
    for actor in p["actor"].as_array().into_iter().flatten() {
        assert!(!codes(&actor["role"]).is_empty(), "actor.role is required");
        assert!(actor["reference"].is_object(), "actor.reference is required");
    }
    for data in p["data"].as_array().into_iter().flatten() {
        let meaning = data["meaning"].as_str().expect("data.meaning is required");
        assert!(["instance", "related", "dependents", "authoredby"].contains(&meaning));
        assert!(data["reference"]["reference"].is_string(), "data.reference is required");
    }
    for label in p["securityLabel"].as_array().into_iter().flatten() {
        assert_eq!(label["system"], "http://terminology.hl7.org/CodeSystem/v3-ActCode");
        assert!(label["code"].is_string());
    }
    for nested in p["provision"].as_array().into_iter().flatten() {
        check_provision(nested);
    }
}

fn check_consent(c: &Value, patient: &str) {
    assert_eq!(c["resourceType"], "Consent");
    let id = c["id"].as_str().expect("id");
    assert!(!id.is_empty() && id.len() <= 64 && id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.'), "{id}");
    let status = c["status"].as_str().expect("status");
    assert!(["draft", "proposed", "active", "rejected", "inactive", "entered-in-error"].contains(&status));
    assert_eq!(c["scope"]["coding"][0]["system"], "http://terminology.hl7.org/CodeSystem/consentscope");
    let scope = c["scope"]["coding"][0]["code"].as_str().expect("scope");
    assert!(scope == "patient-privacy" || scope == "research");
    assert!(c["category"].as_array().is_some_and(|a| !a.is_empty()), "category 1..*");
    assert!(c["category"][0]["coding"].as_array().expect("coding").iter().any(|x| x["system"] == "http://loinc.org" && x["code"] == "59284-0"));
    // ppc-2/ppc-3: privacy and research consents need a patient.
    assert_eq!(c["patient"]["reference"], patient);
    // ppc-1: a policy or a policyRule.
    assert!(c["policyRule"].is_object() || c["policy"].is_array());
    if let Some(dt) = c.get("dateTime") {
        assert!(is_fhir_datetime(dt.as_str().expect("string")));
    }
    check_provision(&c["provision"]);
}

#[test]
fn consents_are_well_formed() {
    let s = full_state();
    let out = to_fhir(&s, "Patient/p1");
    assert_eq!(out.len(), 4, "sharing, two caregivers, research");
    for c in &out {
        check_consent(c, "Patient/p1");
    }
    let ids: Vec<&str> = out.iter().map(|c| c["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["techo-sharing", "techo-caregiver-hanako", "techo-caregiver-care-manager", "techo-research"]);
}

#[test]
fn default_state_gives_permit_consents() {
    let out = to_fhir(&ConsentState::default(), "Patient/p1");
    assert_eq!(out.len(), 2);
    for c in &out {
        check_consent(c, "Patient/p1");
        assert_eq!(c["provision"]["type"], "permit");
    }
    assert_eq!(codes(&out[1]["scope"]), ["research"]);
    assert_eq!(out[1]["provision"]["purpose"][0]["code"], "HRESCH");
}

#[test]
fn sharing_exceptions_become_deny_provisions() {
    let out = to_fhir(&full_state(), "Patient/p1");
    let sharing = &out[0];
    assert_eq!(codes(&sharing["scope"]), ["patient-privacy"]);
    assert_eq!(sharing["provision"]["type"], "permit");
    let nested = sharing["provision"]["provision"].as_array().expect("nested");
    assert_eq!(nested.len(), 4);
    assert!(nested.iter().all(|p| p["type"] == "deny"));
    assert_eq!(nested[0]["id"], "x1");
    assert_eq!(nested[0]["actor"][0]["reference"]["type"], "Organization");
    assert_eq!(nested[0]["actor"][0]["reference"]["display"], "Sakura Clinic");
    assert_eq!(nested[0]["actor"][0]["role"]["coding"][0]["code"], "IRCP");
    let labels: Vec<&str> = nested[1]["securityLabel"].as_array().expect("labels").iter().filter_map(|l| l["code"].as_str()).collect();
    assert_eq!(labels, ["PSY", "BH"]);
    assert_eq!(nested[2]["dataPeriod"]["start"], "2020-01-01");
    assert_eq!(nested[2]["dataPeriod"]["end"], "2020-12-31");
    assert_eq!(nested[3]["data"][0]["reference"]["reference"], "urn:techo:record:42");
    assert_eq!(nested[3]["data"][0]["meaning"], "instance");
    // Both actors who made exceptions are performers; the guardian by name.
    let performers = sharing["performer"].as_array().expect("performers");
    assert_eq!(performers[0]["reference"], "Patient/p1");
    assert_eq!(performers[1]["type"], "RelatedPerson");
    assert_eq!(performers[1]["display"], "山田 太郎");
}

#[test]
fn caregiver_consents() {
    let out = to_fhir(&full_state(), "Patient/p1");
    let hanako = &out[1];
    assert_eq!(hanako["status"], "active");
    assert_eq!(hanako["provision"]["type"], "permit");
    let actor = &hanako["provision"]["actor"][0]["reference"];
    assert_eq!(actor["type"], "RelatedPerson");
    assert_eq!(actor["identifier"]["value"], "hanako");
    assert_eq!(hanako["provision"]["period"]["end"], "2025-01-07T22:40:00Z");
    let actions: Vec<&str> = hanako["provision"]["action"].as_array().expect("actions").iter().flat_map(codes).collect();
    assert_eq!(actions, ["use"]);
    let manager = &out[2];
    assert_eq!(manager["status"], "inactive", "revoked");
    assert_eq!(manager["provision"]["period"]["end"], "2025-01-01T06:00:00Z");
    let actions: Vec<&str> = manager["provision"]["action"].as_array().expect("actions").iter().flat_map(codes).collect();
    assert_eq!(actions, ["use", "correct"]);
    assert_eq!(manager["performer"][0]["display"], "山田 太郎", "granted by the guardian");
}

#[test]
fn research_consent_tracks_opt_out_and_back_in() {
    let mut s = ConsentState::default();
    s.apply(ConsentChange::ResearchOptOut, Actor::Person, t(60)).expect("out");
    let out = to_fhir(&s, "Patient/p1");
    let r = out.last().expect("research");
    assert_eq!(codes(&r["scope"]), ["research"]);
    assert_eq!(r["provision"]["type"], "deny");
    assert_eq!(r["provision"]["purpose"][0]["code"], "HRESCH");
    assert_eq!(r["provision"]["purpose"][0]["system"], "http://terminology.hl7.org/CodeSystem/v3-ActReason");
    assert_eq!(r["provision"]["period"]["start"], "2025-01-01T01:00:00Z");
    assert_eq!(r["dateTime"], "2025-01-01T01:00:00Z");

    s.apply(ConsentChange::ResearchOptIn, Actor::Person, t(120)).expect("in");
    let out = to_fhir(&s, "Patient/p1");
    let r = out.last().expect("research");
    check_consent(r, "Patient/p1");
    assert_eq!(r["provision"]["type"], "permit");
    assert_eq!(r["provision"]["period"]["start"], "2025-01-01T02:00:00Z");
    let window = &r["provision"]["provision"][0];
    assert_eq!(window["type"], "deny");
    assert_eq!(window["period"]["start"], "2025-01-01T01:00:00Z");
    assert_eq!(window["period"]["end"], "2025-01-01T02:00:00Z");
}

#[test]
fn output_is_deterministic() {
    let s = full_state();
    let a = serde_json::to_string(&to_fhir(&s, "Patient/p1")).expect("serialize");
    let b = serde_json::to_string(&to_fhir(&s, "Patient/p1")).expect("serialize");
    assert_eq!(a, b);
    // Also after a storage round trip.
    let stored: ConsentState = serde_json::from_str(&serde_json::to_string(&s).expect("store")).expect("load");
    let c = serde_json::to_string(&to_fhir(&stored, "Patient/p1")).expect("serialize");
    assert_eq!(a, c);
}

#[test]
fn odd_stored_caregiver_ids_still_give_valid_fhir_ids() {
    let mut s = full_state();
    s.caregivers[0].id = "花子 / daughter".repeat(10);
    for c in to_fhir(&s, "Patient/p1") {
        check_consent(&c, "Patient/p1");
    }
}
