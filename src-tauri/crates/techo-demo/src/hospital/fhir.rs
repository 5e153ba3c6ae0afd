//! The FHIR side: CapabilityStatement, SMART configuration, search and read.

use std::sync::atomic::Ordering;
use std::sync::PoisonError;

use http::StatusCode;
use serde_json::{json, Value};

use super::store::{Key, Query};
use super::{Reply, Shared};
use crate::util::{format_instant, instant_span, now_ms};
use crate::util::{patient_ref_id, valid_id};

/// Default and largest page sizes.
pub(crate) const DEFAULT_COUNT: usize = 50;
pub(crate) const MAX_COUNT: usize = 500;

/// Types that exist in R4 and may be asked for even while this server holds none of them
/// (they answer an empty Bundle). Types holding data are accepted too; anything else is 404.
const KNOWN_TYPES: &[&str] = &[
    "AllergyIntolerance",
    "CarePlan",
    "CareTeam",
    "ClinicalImpression",
    "Composition",
    "Condition",
    "Coverage",
    "Device",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "FamilyMemberHistory",
    "Goal",
    "ImagingStudy",
    "Immunization",
    "Location",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Organization",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "QuestionnaireResponse",
    "ServiceRequest",
    "Specimen",
];

pub(crate) fn capability_statement(shared: &Shared) -> Reply {
    let types = shared
        .store
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .types();
    let resources: Vec<Value> = types
        .iter()
        .map(|t| {
            let mut params = vec![
                json!({"name": "patient", "type": "reference", "documentation": "The patient whose record it is (id or Patient/id)"}),
                json!({"name": "_lastUpdated", "type": "date"}),
                json!({"name": "_count", "type": "number"}),
                json!({"name": "_id", "type": "token"}),
            ];
            if t == "Patient" {
                params[0] = json!({"name": "patient", "type": "reference", "documentation": "Same as _id"});
            }
            let mut r = json!({
                "type": t,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "versioning": "versioned",
                "readHistory": false,
                "searchParam": params,
            });
            if t == "Patient" && shared.everything {
                r["operation"] = json!([{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]);
            }
            r
        })
        .collect();
    let mut rest = json!({"mode": "server", "resource": resources});
    if shared.auth.is_some() {
        rest["security"] = json!({
            "cors": false,
            "service": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                "code": "SMART-on-FHIR"
            }]}],
            "extension": [{
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [
                    {"url": "authorize", "valueUri": format!("{}/authorize", shared.origin)},
                    {"url": "token", "valueUri": format!("{}/token", shared.origin)}
                ]
            }]
        });
    }
    let cs = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": format_instant(now_ms()),
        "publisher": "Techo (synthetic demo data)",
        "kind": "instance",
        "software": {"name": "techo-demo hospital", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": shared.name, "url": shared.base},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [rest],
    });
    Reply::fhir(StatusCode::OK, cs.to_string())
}

pub(crate) fn smart_configuration(shared: &Shared) -> Reply {
    if shared.auth.is_none() {
        return Reply::outcome(
            StatusCode::NOT_FOUND,
            "not-found",
            "This server is open: it has no SMART configuration.",
        );
    }
    let o = &shared.origin;
    let cfg = json!({
        "issuer": shared.base,
        "authorization_endpoint": format!("{o}/authorize"),
        "token_endpoint": format!("{o}/token"),
        "token_endpoint_auth_methods_supported": ["none"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": [
            "launch/patient", "openid", "fhirUser", "offline_access", "online_access",
            "patient/*.read", "patient/*.rs"
        ],
        "capabilities": [
            "launch-standalone", "client-public", "context-standalone-patient",
            "permission-offline", "permission-patient"
        ],
    });
    Reply::json(StatusCode::OK, &cfg)
}

fn bad_request(diagnostics: &str) -> Reply {
    Reply::outcome(StatusCode::BAD_REQUEST, "invalid", diagnostics)
}

/// `GET /fhir/{rest}?{query}`; `token_patient` is the SMART token's patient, if any.
pub(crate) fn get(shared: &Shared, rest: &str, query: &str, token_patient: Option<&str>) -> Reply {
    let segments: Vec<&str> = rest.split('/').collect();
    let rtype = segments[0];
    let store = shared.store.read().unwrap_or_else(PoisonError::into_inner);
    if !(store.has_type(rtype) || KNOWN_TYPES.contains(&rtype)) {
        return Reply::outcome(
            StatusCode::NOT_FOUND,
            "not-supported",
            "Unknown resource type.",
        );
    }
    match segments.as_slice() {
        [_] | [_, ""] => {}
        [_, id] => {
            let found = store
                .get(rtype, id)
                .filter(|e| token_patient.is_none_or(|p| store.belongs_to(rtype, e, p)));
            return match found {
                Some(e) => {
                    let mut r = Reply::fhir(StatusCode::OK, e.json.to_string())
                        .header("etag", &format!("W/\"{}\"", e.version))
                        .header("last-modified", &httpdate_ms(e.last_updated));
                    r.resources = 1;
                    r
                }
                None => Reply::outcome(StatusCode::NOT_FOUND, "not-found", "No such resource."),
            };
        }
        ["Patient", id, "$everything"] if shared.everything => {
            let id = (*id).to_owned();
            drop(store);
            return everything(shared, &id, query, token_patient);
        }
        _ => {
            return Reply::outcome(
                StatusCode::NOT_FOUND,
                "not-supported",
                "Unsupported operation.",
            )
        }
    }

    // Search.
    let mut patient: Option<String> = None;
    let mut ids: Option<Vec<String>> = None;
    let mut count = DEFAULT_COUNT;
    let mut count_seen = false;
    let mut start = i64::MIN;
    let mut end = i64::MAX;
    let mut after: Option<Key> = None;
    // Kept for the next link (everything but _count and _cursor, which it sets itself).
    let mut carried: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "patient" | "subject" => {
                if patient.is_some() {
                    return bad_request("Parameter 'patient' given more than once.");
                }
                let id = if valid_id(&v) {
                    Some(&*v)
                } else {
                    patient_ref_id(&v)
                };
                match id {
                    Some(id) => patient = Some(id.to_owned()),
                    None => {
                        return bad_request("Parameter 'patient' is not a Patient id or reference.")
                    }
                }
                carried.push((k.into_owned(), v.into_owned()));
            }
            "_id" => {
                if ids.is_some() {
                    return bad_request("Parameter '_id' given more than once.");
                }
                let list: Vec<String> = v.split(',').map(|s| s.trim().to_owned()).collect();
                if !list.iter().all(|i| valid_id(i)) {
                    return bad_request("Parameter '_id' is not a list of ids.");
                }
                ids = Some(list);
                carried.push((k.into_owned(), v.into_owned()));
            }
            "_lastUpdated" => {
                let (prefix, value) = match v.get(..2) {
                    Some(p @ ("gt" | "ge" | "lt" | "le" | "eq" | "sa" | "eb" | "ne" | "ap")) => {
                        (p, &v[2..])
                    }
                    _ => ("eq", &*v),
                };
                let Some((s, e)) = instant_span(value) else {
                    return bad_request(
                        "Parameter '_lastUpdated' is not a FHIR date or instant (with time zone).",
                    );
                };
                match prefix {
                    "gt" | "sa" => start = start.max(e),
                    "ge" => start = start.max(s),
                    "lt" | "eb" => end = end.min(s),
                    "le" => end = end.min(e),
                    "eq" => {
                        start = start.max(s);
                        end = end.min(e);
                    }
                    _ => {
                        return bad_request(
                            "Parameter '_lastUpdated': prefixes ne and ap are not supported.",
                        )
                    }
                }
                carried.push((k.into_owned(), v.into_owned()));
            }
            "_count" => {
                if count_seen {
                    return bad_request("Parameter '_count' given more than once.");
                }
                count_seen = true;
                match v.trim().parse::<usize>() {
                    Ok(n) => count = n.min(MAX_COUNT),
                    Err(_) => {
                        return bad_request("Parameter '_count' is not a non-negative integer.")
                    }
                }
            }
            "_cursor" => match parse_cursor(&v) {
                Some(c) => after = Some(c),
                None => {
                    return bad_request(
                        "Parameter '_cursor' is not valid; copy it from a next link.",
                    )
                }
            },
            "_format" => {
                if !(v == "json" || v.contains("fhir+json") || v == "application/json") {
                    return Reply::outcome(
                        StatusCode::NOT_ACCEPTABLE,
                        "not-supported",
                        "Only JSON is served.",
                    );
                }
                carried.push((k.into_owned(), v.into_owned()));
            }
            _ => {
                return bad_request(&format!(
                    "Unknown or unsupported search parameter '{}'.",
                    clip(&k)
                ))
            }
        }
    }
    if let Some(tp) = token_patient {
        match &patient {
            Some(p) if p != tp => {
                return Reply::outcome(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "The token does not grant access to that patient.",
                )
            }
            _ => patient = Some(tp.to_owned()),
        }
    }
    let page = store.search(
        rtype,
        &Query {
            patient: patient.as_deref(),
            ids: ids.as_deref(),
            start,
            end,
            after: after.clone(),
            count,
        },
    );
    let stamp = store.stamp_served();
    drop(store);

    let type_url = format!("{}/{rtype}", shared.base);
    let self_url = if query.is_empty() {
        type_url.clone()
    } else {
        format!("{type_url}?{query}")
    };
    let next = page.next.as_ref().map(|n| format!("{}.{}", n.0, n.1));
    let entries = page.entries.iter().map(|e| (format!("{type_url}/{}", e.id), &*e.json));
    searchset(shared, "search", stamp, page.total, self_url, &type_url, &carried, count, next, entries)
}

/// A searchset Bundle: `self` and (when `next_cursor`) an absolute `next` link carrying the
/// other parameters, `_count` and `_cursor`; the stored JSON texts spliced in as entries
/// without re-parsing them.
#[allow(clippy::too_many_arguments)]
fn searchset<'a>(
    shared: &Shared,
    kind: &str,
    stamp: i64,
    total: usize,
    self_url: String,
    next_base: &str,
    carried: &[(String, String)],
    count: usize,
    next_cursor: Option<String>,
    entries: impl ExactSizeIterator<Item = (String, &'a str)>,
) -> Reply {
    let mut links = vec![json!({"relation": "self", "url": self_url})];
    if let Some(cursor) = next_cursor {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in carried {
            ser.append_pair(k, v);
        }
        ser.append_pair("_count", &count.to_string());
        ser.append_pair("_cursor", &cursor);
        links.push(json!({"relation": "next", "url": format!("{next_base}?{}", ser.finish())}));
    }
    let seq = shared.bundle_seq.fetch_add(1, Ordering::Relaxed);
    let head = json!({
        "resourceType": "Bundle",
        "id": format!("{kind}-{seq}"),
        "meta": {"lastUpdated": format_instant(stamp)},
        "type": "searchset",
        "total": total,
        "link": links,
    })
    .to_string();
    let n = entries.len();
    let mut body = String::with_capacity(head.len() + n * 1200);
    body.push_str(&head[..head.len() - 1]);
    body.push_str(",\"entry\":[");
    for (i, (full_url, json)) in entries.enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str("{\"fullUrl\":");
        body.push_str(&Value::String(full_url).to_string());
        body.push_str(",\"resource\":");
        body.push_str(json);
        body.push_str(",\"search\":{\"mode\":\"match\"}}");
    }
    body.push_str("]}");
    let mut r = Reply::fhir(StatusCode::OK, body);
    r.resources = n;
    r
}

/// `GET Patient/{id}/$everything?_since=…&_count=…`: the patient's whole record (what belongs
/// to it, and the shared facility resources) changed after `_since` (exclusive), as a searchset
/// in (lastUpdated, type, id) order with absolute `next` links (`_cursor=<ms>.<type>.<id>`).
fn everything(shared: &Shared, patient: &str, query: &str, token_patient: Option<&str>) -> Reply {
    if token_patient.is_some_and(|p| p != patient) {
        return Reply::outcome(StatusCode::FORBIDDEN, "forbidden", "The token does not grant access to that patient.");
    }
    let mut since = i64::MIN;
    let mut count = DEFAULT_COUNT;
    let mut after = None;
    let mut carried: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "_since" => {
                let Some((_, e)) = instant_span(&v) else {
                    return bad_request("Parameter '_since' is not a FHIR instant (with time zone).");
                };
                // "Resources updated after this time": after the whole instant at its precision.
                since = e - 1;
                carried.push((k.into_owned(), v.into_owned()));
            }
            "_count" => match v.trim().parse::<usize>() {
                Ok(n) => count = n.clamp(1, MAX_COUNT),
                Err(_) => return bad_request("Parameter '_count' is not a non-negative integer."),
            },
            "_cursor" => {
                let mut parts = v.splitn(3, '.');
                let key = (|| {
                    let ms: i64 = parts.next()?.parse().ok()?;
                    let t = parts.next()?.to_owned();
                    let id = parts.next()?.to_owned();
                    valid_id(&id).then_some((ms, t, id))
                })();
                match key {
                    Some(k) => after = Some(k),
                    None => return bad_request("Parameter '_cursor' is not valid; copy it from a next link."),
                }
            }
            _ => return bad_request(&format!("Unknown or unsupported parameter of $everything '{}'.", clip(&k))),
        }
    }
    let store = shared.store.read().unwrap_or_else(PoisonError::into_inner);
    if store.get("Patient", patient).is_none() {
        return Reply::outcome(StatusCode::NOT_FOUND, "not-found", "No such patient.");
    }
    let page = store.everything(patient, since, after.as_ref(), count);
    let stamp = store.stamp_served();
    drop(store);
    let op_url = format!("{}/Patient/{patient}/$everything", shared.base);
    let self_url = if query.is_empty() { op_url.clone() } else { format!("{op_url}?{query}") };
    let next = page.next.as_ref().map(|(ms, t, id)| format!("{ms}.{t}.{id}"));
    let entries = page.entries.iter().map(|(t, e)| (format!("{}/{t}/{}", shared.base, e.id), &*e.json));
    searchset(shared, "everything", stamp, page.total, self_url, &op_url, &carried, count, next, entries)
}

/// `<ms>.<id>` → key.
fn parse_cursor(v: &str) -> Option<Key> {
    let (ms, id) = v.split_once('.')?;
    let ms: i64 = ms.parse().ok()?;
    valid_id(id).then(|| (ms, id.to_owned()))
}

/// At most 40 characters of a client-sent name, for a diagnostic.
fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// RFC 7231 date for `Last-Modified`.
fn httpdate_ms(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}
