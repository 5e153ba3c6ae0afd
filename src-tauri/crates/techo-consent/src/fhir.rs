//! The consent state as FHIR R4 `Consent` resources: [`to_fhir`].
//!
//! Three kinds of Consent, all with `category` LOINC 59284-0 "Patient Consent", `patient`,
//! `policyRule` (system [`POLICY_SYSTEM`]) and a deterministic `id`:
//!
//! * `techo-sharing`: scope `patient-privacy`, status `active`, top provision `permit`; each
//!   exception is a nested `deny` provision whose `id` is the exception id and whose
//!   `period.start` is when it was added:
//!   - facility: `actor` with role v3-ParticipationType `IRCP` (information recipient) and a
//!     `Reference` of type `Organization` with the facility name as `display`;
//!   - category: `securityLabel` with the v3-ActCode sensitivity codes of
//!     [`crate::Category::security_labels`] (PSY/BH, ETH, STD/HIV, SEX, GDIS);
//!   - period: `dataPeriod` (FHIR's "timeframe for data controlled by this rule": the clinical
//!     date; `provision.period` is when the rule itself is in force), inclusive dates;
//!   - record: `data` with meaning `instance` and reference `urn:techo:record:<id>`.
//! * `techo-caregiver-<id>` per grant: scope `patient-privacy`, status `active` (`inactive`
//!   once revoked; expiry is expressed by `provision.period.end`, as this function has no
//!   clock), provision `permit` for a `RelatedPerson` actor (role `IRCP`, identifier system
//!   `urn:techo:caregiver`), `action` consentaction `use` (and `correct` for full access).
//! * `techo-research`: scope `research`, provision with purpose v3-ActReason `HRESCH`,
//!   `permit` or `deny` as currently chosen, `period.start` at the last choice; each past
//!   refusal window that an opt-in ended is a nested `deny` provision with its `period`.
//!
//! Output is deterministic: the same state gives the same JSON.

use serde_json::{json, Map, Value};

use crate::model::{Access, Actor, CaregiverGrant, ConsentState, ExceptionKind, ResearchChoice, SharingException};

/// `Consent.scope` code system.
pub const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
/// HL7 v3 ActCode (sensitivity codes).
pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// HL7 v3 ActReason (purpose of use, `HRESCH`).
pub const V3_ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
/// HL7 v3 ParticipationType (actor role `IRCP`).
pub const V3_PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
/// Consent actions (`use`, `correct`).
pub const CONSENT_ACTION: &str = "http://terminology.hl7.org/CodeSystem/consentaction";
/// Techo's own policy-rule codes (`provider-sharing`, `caregiver`, `research`).
pub const POLICY_SYSTEM: &str = "urn:techo:consent-policy";
/// Identifier system of caregiver ids.
pub const CAREGIVER_SYSTEM: &str = "urn:techo:caregiver";
/// Prefix of record references.
pub const RECORD_URN_PREFIX: &str = "urn:techo:record:";

fn scope(code: &str, display: &str) -> Value {
    json!({"coding": [{"system": CONSENT_SCOPE, "code": code, "display": display}]})
}

fn category() -> Value {
    json!([{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}])
}

fn policy_rule(code: &str, text: &str) -> Value {
    json!({"coding": [{"system": POLICY_SYSTEM, "code": code}], "text": text})
}

fn recipient_role() -> Value {
    json!({"coding": [{"system": V3_PARTICIPATION_TYPE, "code": "IRCP", "display": "information recipient"}]})
}

fn research_purpose() -> Value {
    json!([{"system": V3_ACT_REASON, "code": "HRESCH", "display": "healthcare research"}])
}

fn performer(actor: &Actor, patient_reference: &str) -> Value {
    match actor {
        Actor::Person => json!({"reference": patient_reference}),
        Actor::Guardian { name } => json!({"type": "RelatedPerson", "display": name}),
    }
}

fn fhir_instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A valid FHIR id from a fixed prefix and a caller-supplied slug (`[A-Za-z0-9-.]{1,64}`).
fn fhir_id(prefix: &str, slug: &str) -> String {
    let cleaned: String = slug
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .collect();
    let mut id = format!("{prefix}{cleaned}");
    id.truncate(64);
    id
}

fn base(id: String, status: &str, scope: Value, patient_reference: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Consent"));
    m.insert("id".into(), json!(id));
    m.insert("status".into(), json!(status));
    m.insert("scope".into(), scope);
    m.insert("category".into(), category());
    m.insert("patient".into(), json!({"reference": patient_reference}));
    m
}

fn exception_provision(x: &SharingException) -> Value {
    let mut p = Map::new();
    p.insert("id".into(), json!(fhir_id("", &x.id)));
    p.insert("type".into(), json!("deny"));
    p.insert("period".into(), json!({"start": fhir_instant(x.added_at)}));
    match &x.kind {
        ExceptionKind::Facility { name } => {
            p.insert(
                "actor".into(),
                json!([{"role": recipient_role(), "reference": {"type": "Organization", "display": name.trim()}}]),
            );
        }
        ExceptionKind::Category { category } => {
            let labels: Vec<Value> = category
                .security_labels()
                .iter()
                .map(|(code, display)| json!({"system": V3_ACT_CODE, "code": code, "display": display}))
                .collect();
            p.insert("securityLabel".into(), Value::Array(labels));
        }
        ExceptionKind::Period { from, to } => {
            p.insert("dataPeriod".into(), json!({"start": from.to_string(), "end": to.to_string()}));
        }
        ExceptionKind::Record { record_id } => {
            p.insert(
                "data".into(),
                json!([{"meaning": "instance", "reference": {"reference": format!("{RECORD_URN_PREFIX}{record_id}")}}]),
            );
        }
    }
    Value::Object(p)
}

fn sharing_consent(state: &ConsentState, patient_reference: &str) -> Value {
    let mut c = base("techo-sharing".into(), "active", scope("patient-privacy", "Privacy Consent"), patient_reference);
    if let Some(t) = state.sharing.updated_at {
        c.insert("dateTime".into(), json!(fhir_instant(t)));
    }
    let mut performers: Vec<&Actor> = Vec::new();
    for x in &state.sharing.exceptions {
        if !performers.contains(&&x.by) {
            performers.push(&x.by);
        }
    }
    if !performers.is_empty() {
        c.insert("performer".into(), Value::Array(performers.iter().map(|a| performer(a, patient_reference)).collect()));
    }
    c.insert(
        "policyRule".into(),
        policy_rule(
            "provider-sharing",
            "Opt-out with exceptions: the record is shared with the person's providers unless the person refuses.",
        ),
    );
    let mut provision = Map::new();
    provision.insert("type".into(), json!("permit"));
    let nested: Vec<Value> = state.sharing.exceptions.iter().map(exception_provision).collect();
    if !nested.is_empty() {
        provision.insert("provision".into(), Value::Array(nested));
    }
    c.insert("provision".into(), Value::Object(provision));
    Value::Object(c)
}

fn caregiver_consent(g: &CaregiverGrant, patient_reference: &str) -> Value {
    let status = if g.revoked_at.is_some() { "inactive" } else { "active" };
    let mut c = base(fhir_id("techo-caregiver-", &g.id), status, scope("patient-privacy", "Privacy Consent"), patient_reference);
    c.insert("dateTime".into(), json!(fhir_instant(g.revoked_at.unwrap_or(g.granted_at))));
    c.insert("performer".into(), json!([performer(&g.granted_by, patient_reference)]));
    c.insert(
        "policyRule".into(),
        policy_rule("caregiver", "The person lets this caregiver see (and with full access, add to) the record."),
    );
    let end = match (g.expires_at, g.revoked_at) {
        (Some(e), Some(r)) => Some(e.min(r)),
        (e, r) => e.or(r),
    };
    let mut period = Map::new();
    period.insert("start".into(), json!(fhir_instant(g.granted_at)));
    if let Some(end) = end {
        period.insert("end".into(), json!(fhir_instant(end)));
    }
    let mut actions = vec![json!({"coding": [{"system": CONSENT_ACTION, "code": "use"}]})];
    if g.access == Access::Full {
        actions.push(json!({"coding": [{"system": CONSENT_ACTION, "code": "correct"}]}));
    }
    let display = format!("{} ({})", g.display_name, g.relationship);
    c.insert(
        "provision".into(),
        json!({
            "type": "permit",
            "period": Value::Object(period),
            "actor": [{
                "role": recipient_role(),
                "reference": {
                    "type": "RelatedPerson",
                    "identifier": {"system": CAREGIVER_SYSTEM, "value": g.id},
                    "display": display
                }
            }],
            "action": actions
        }),
    );
    Value::Object(c)
}

fn research_consent(state: &ConsentState, patient_reference: &str) -> Value {
    let mut c = base("techo-research".into(), "active", scope("research", "Research"), patient_reference);
    // The history as `apply` builds it: in order. Sort defensively by time (stable).
    let mut events: Vec<_> = state.research.events.iter().collect();
    events.sort_by_key(|e| e.at);
    let last = events.last();
    if let Some(e) = last {
        c.insert("dateTime".into(), json!(fhir_instant(e.at)));
        c.insert("performer".into(), json!([performer(&e.by, patient_reference)]));
    }
    c.insert(
        "policyRule".into(),
        policy_rule(
            "research",
            "Pseudonymised research copies after a delay unless the person opts out. An opt-out stops all later copies of \
             anything already in the vault; opting back in covers only records that enter the vault afterwards.",
        ),
    );
    let mut provision = Map::new();
    let current = last.map(|e| e.choice).unwrap_or(ResearchChoice::OptIn);
    provision.insert("type".into(), json!(if current == ResearchChoice::OptOut { "deny" } else { "permit" }));
    if let Some(e) = last {
        provision.insert("period".into(), json!({"start": fhir_instant(e.at)}));
    }
    provision.insert("purpose".into(), research_purpose());
    // Past refusal windows: an opt-out followed by an opt-in.
    let mut windows = Vec::new();
    let mut open: Option<chrono::DateTime<chrono::Utc>> = None;
    for e in &events {
        match (e.choice, open) {
            (ResearchChoice::OptOut, None) => open = Some(e.at),
            (ResearchChoice::OptIn, Some(start)) => {
                windows.push(json!({
                    "type": "deny",
                    "period": {"start": fhir_instant(start), "end": fhir_instant(e.at)},
                    "purpose": research_purpose()
                }));
                open = None;
            }
            _ => {}
        }
    }
    if !windows.is_empty() {
        provision.insert("provision".into(), Value::Array(windows));
    }
    c.insert("provision".into(), Value::Object(provision));
    Value::Object(c)
}

/// The state as FHIR R4 Consent resources: provider sharing first, then one per caregiver
/// grant (in grant order), then research. `patient_reference` is the `Patient` reference to
/// write (e.g. `Patient/123` or `urn:uuid:…`).
pub fn to_fhir(state: &ConsentState, patient_reference: &str) -> Vec<Value> {
    let mut out = vec![sharing_consent(state, patient_reference)];
    out.extend(state.caregivers.iter().map(|g| caregiver_consent(g, patient_reference)));
    out.push(research_consent(state, patient_reference));
    out
}
