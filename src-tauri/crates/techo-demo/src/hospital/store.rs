//! The hospital's resource store: current versions only, ordered per type by
//! (meta.lastUpdated, id), with a store-wide clock so that every write gets a
//! `lastUpdated` strictly later than any before.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::util::{format_instant, now_ms, patient_ref_id, random_token, valid_id};
use crate::DemoError;

/// What [`crate::Hospital::upsert`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upserted {
    pub resource_type: String,
    pub id: String,
    /// The new `meta.versionId` (`"1"` for a new resource).
    pub version_id: String,
    /// The new `meta.lastUpdated` (UTC, milliseconds).
    pub last_updated: String,
}

/// One stored resource (the current version).
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) version: u64,
    pub(crate) last_updated: i64,
    /// The resource as served (compact JSON, meta set).
    pub(crate) json: Arc<str>,
    /// Ids of the Patients this resource references (for a Patient: its own id).
    patients: Vec<String>,
}

/// Sort key within a type: (lastUpdated ms, id).
pub(crate) type Key = (i64, String);

#[derive(Default)]
pub(crate) struct Store {
    by_type: BTreeMap<String, BTreeMap<Key, Arc<Entry>>>,
    /// "Type/id" → current entry.
    index: HashMap<String, Arc<Entry>>,
    /// Ids of the Patient resources held.
    patient_ids: HashSet<String>,
    /// The last `lastUpdated` handed out (ms).
    clock: i64,
    /// The latest time stamped on a search result (a Bundle's `meta.lastUpdated`): later writes
    /// are stamped after it, so a client may use either as its watermark.
    served: AtomicI64,
    /// While the initial record is loaded: stamp from `clock` on, 1 ms apart (not from now).
    loading: bool,
}

/// A search over one type, already validated.
pub(crate) struct Query<'a> {
    pub(crate) patient: Option<&'a str>,
    pub(crate) ids: Option<&'a [String]>,
    /// `[start, end)` on lastUpdated ms.
    pub(crate) start: i64,
    pub(crate) end: i64,
    /// Resume strictly after this key.
    pub(crate) after: Option<Key>,
    pub(crate) count: usize,
}

pub(crate) struct Page {
    pub(crate) total: usize,
    pub(crate) entries: Vec<Arc<Entry>>,
    /// Key of the last entry, when more matches follow it.
    pub(crate) next: Option<Key>,
}

fn valid_type(t: &str) -> bool {
    let mut c = t.chars();
    matches!(c.next(), Some(f) if f.is_ascii_uppercase())
        && c.all(|c| c.is_ascii_alphabetic())
        && t.len() <= 64
}

/// Ids of the Patients `v` references (`Patient/x`, `…/Patient/x`, `Patient/x/_history/n`).
fn collect_patient_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "reference" {
                    if let Some(id) = v.as_str().and_then(patient_ref_id) {
                        if !out.iter().any(|p| p == id) {
                            out.push(id.to_owned());
                        }
                    }
                } else {
                    collect_patient_refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_patient_refs(v, out)),
        _ => {}
    }
}

impl Store {
    /// An empty store for the initial record: its writes are stamped `start_ms`, `start_ms + 1`…
    /// until [`Store::loaded`]; later writes are stamped from now on.
    pub(crate) fn new(start_ms: i64) -> Store {
        Store {
            clock: start_ms - 1,
            loading: true,
            ..Store::default()
        }
    }

    /// The initial record is in: from now on writes are stamped with the current time.
    pub(crate) fn loaded(&mut self) {
        self.loading = false;
    }

    fn tick(&mut self) -> i64 {
        if self.loading {
            self.clock += 1;
            return self.clock;
        }
        self.clock = (self.clock + 1)
            .max(now_ms())
            .max(self.served.load(Ordering::SeqCst) + 1);
        self.clock
    }

    /// The time to stamp on a search result now; every later write is stamped after it.
    pub(crate) fn stamp_served(&self) -> i64 {
        let now = now_ms().max(self.clock);
        self.served.fetch_max(now, Ordering::SeqCst);
        now
    }

    /// Stores `resource` as a new version: `meta.versionId` = previous + 1 (or 1),
    /// `meta.lastUpdated` = strictly later than anything stored before. A resource without an
    /// `id` gets a fresh one.
    pub(crate) fn upsert(&mut self, resource: Value) -> Result<Upserted, DemoError> {
        let Value::Object(mut obj) = resource else {
            return Err(DemoError::BadResource("not a JSON object"));
        };
        let rtype = match obj.get("resourceType").and_then(Value::as_str) {
            Some(t) if valid_type(t) => t.to_owned(),
            _ => return Err(DemoError::BadResource("missing or invalid resourceType")),
        };
        if rtype == "Bundle" {
            return Err(DemoError::BadResource(
                "a Bundle is not stored as a resource",
            ));
        }
        let id = match obj.get("id") {
            None | Some(Value::Null) => {
                let id = format!("demo-{}", &random_token()[..22]).replace('_', "-");
                obj.insert("id".into(), Value::String(id.clone()));
                id
            }
            Some(Value::String(s)) if valid_id(s) => s.clone(),
            Some(_) => return Err(DemoError::BadResource("invalid id")),
        };
        let key = format!("{rtype}/{id}");
        let version = self.index.get(&key).map_or(1, |e| e.version + 1);
        let ms = self.tick();
        let last_updated = format_instant(ms);
        let version_id = version.to_string();
        if !obj.get("meta").is_some_and(Value::is_object) {
            obj.insert("meta".into(), Value::Object(Map::new()));
        }
        if let Some(Value::Object(meta)) = obj.get_mut("meta") {
            meta.insert("versionId".into(), Value::String(version_id.clone()));
            meta.insert("lastUpdated".into(), Value::String(last_updated.clone()));
        }
        let resource = Value::Object(obj);
        let mut patients = Vec::new();
        if rtype == "Patient" {
            patients.push(id.clone());
        } else {
            collect_patient_refs(&resource, &mut patients);
        }
        let json: Arc<str> = Arc::from(resource.to_string());
        let entry = Arc::new(Entry {
            id: id.clone(),
            version,
            last_updated: ms,
            json,
            patients,
        });
        let per_type = self.by_type.entry(rtype.clone()).or_default();
        if let Some(old) = self.index.insert(key, entry.clone()) {
            per_type.remove(&(old.last_updated, old.id.clone()));
        }
        per_type.insert((ms, id.clone()), entry);
        if rtype == "Patient" {
            self.patient_ids.insert(id.clone());
        }
        Ok(Upserted {
            resource_type: rtype,
            id,
            version_id,
            last_updated,
        })
    }

    /// Every resource's `Type/id` and `meta.lastUpdated` (tests).
    #[cfg(test)]
    pub(crate) fn last_updated_all(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> =
            self.index.iter().map(|(k, e)| (k.clone(), crate::util::format_instant(e.last_updated))).collect();
        all.sort();
        all
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// The types that hold at least one resource, sorted.
    pub(crate) fn types(&self) -> Vec<String> {
        self.by_type
            .iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(t, _)| t.clone())
            .collect()
    }

    pub(crate) fn has_type(&self, t: &str) -> bool {
        self.by_type.get(t).is_some_and(|m| !m.is_empty())
    }

    pub(crate) fn get(&self, rtype: &str, id: &str) -> Option<Arc<Entry>> {
        self.index.get(&format!("{rtype}/{id}")).cloned()
    }

    /// Does `e` (of type `rtype`) belong to `patient`'s record? A Patient: itself. A resource
    /// that references Patients: when one of them is `patient`. A resource that references none
    /// (the facilities' Organizations, Practitioners): shared by every Patient held.
    pub(crate) fn belongs_to(&self, rtype: &str, e: &Entry, patient: &str) -> bool {
        if rtype == "Patient" || !e.patients.is_empty() {
            e.patients.iter().any(|p| p == patient)
        } else {
            self.patient_ids.contains(patient)
        }
    }

    pub(crate) fn search(&self, rtype: &str, q: &Query<'_>) -> Page {
        let Some(all) = self.by_type.get(rtype) else {
            return Page {
                total: 0,
                entries: Vec::new(),
                next: None,
            };
        };
        if q.start >= q.end {
            return Page {
                total: 0,
                entries: Vec::new(),
                next: None,
            };
        }
        let matches = |e: &Entry| {
            q.patient.is_none_or(|p| self.belongs_to(rtype, e, p))
                && q.ids.is_none_or(|ids| ids.contains(&e.id))
        };
        let range = all.range((
            Bound::Included((q.start, String::new())),
            Bound::Excluded((q.end, String::new())),
        ));
        let mut total = 0;
        let mut entries = Vec::new();
        let mut more = false;
        for (k, e) in range {
            if !matches(e) {
                continue;
            }
            total += 1;
            if q.after.as_ref().is_some_and(|a| k <= a) {
                continue;
            }
            if entries.len() < q.count {
                entries.push(e.clone());
            } else {
                more = true;
            }
        }
        let next = if more {
            entries.last().map(|e| (e.last_updated, e.id.clone()))
        } else {
            None
        };
        Page {
            total,
            entries,
            next,
        }
    }
}

/// Sort key of `Patient/$everything`: (lastUpdated ms, type, id).
pub(crate) type EverythingKey = (i64, String, String);

/// A page of `Patient/$everything`.
pub(crate) struct EverythingPage {
    pub(crate) total: usize,
    pub(crate) entries: Vec<(String, Arc<Entry>)>,
    pub(crate) next: Option<EverythingKey>,
}

impl Store {
    /// Everything in `patient`'s record (the resources that belong to it, see
    /// [`Store::belongs_to`]) changed after `since` (ms, exclusive), in (lastUpdated, type, id)
    /// order, `count` at a time after `after`.
    pub(crate) fn everything(&self, patient: &str, since: i64, after: Option<&EverythingKey>, count: usize) -> EverythingPage {
        let mut all: Vec<(EverythingKey, &Arc<Entry>)> = Vec::new();
        for (t, m) in &self.by_type {
            for ((lu, id), e) in m.range((Bound::Excluded((since, String::from("\u{10FFFF}"))), Bound::Unbounded)) {
                if *lu > since && self.belongs_to(t, e, patient) {
                    all.push(((*lu, t.clone(), id.clone()), e));
                }
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let total = all.len();
        let rest: Vec<&(EverythingKey, &Arc<Entry>)> = all.iter().filter(|(k, _)| after.is_none_or(|a| k > a)).collect();
        let more = rest.len() > count;
        let entries: Vec<(String, Arc<Entry>)> = rest.iter().take(count).map(|(k, e)| (k.1.clone(), (*e).clone())).collect();
        let next = if more { rest.get(count.saturating_sub(1)).map(|(k, _)| k.clone()) } else { None };
        EverythingPage { total, entries, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upsert_versions_and_clock() {
        let mut s = Store::new(now_ms() + 60_000);
        let a = s
            .upsert(
                json!({"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p"}}),
            )
            .unwrap();
        let b = s
            .upsert(
                json!({"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p"}}),
            )
            .unwrap();
        assert_eq!((a.version_id.as_str(), b.version_id.as_str()), ("1", "2"));
        assert!(b.last_updated > a.last_updated);
        assert_eq!(s.len(), 1);
        let c = s.upsert(json!({"resourceType":"Observation"})).unwrap();
        assert!(valid_id(&c.id));
        assert!(s.upsert(json!([1])).is_err());
        assert!(s.upsert(json!({"resourceType":"bad type"})).is_err());
        assert!(s
            .upsert(json!({"resourceType":"Observation","id":"no/slash"}))
            .is_err());
    }
}
