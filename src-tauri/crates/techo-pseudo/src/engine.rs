//! The walk: rules applied node by node, keyed pseudonyms, reference rewriting.

use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use serde_json::{Map, Number, Value};
use sha2::Sha256;

use crate::config::{Config, Granularity, Parameters};
use crate::rules::{compile, CompiledRule, Op};
use crate::types::{object_type, parse_date, shift_date, string_date_type, Ty};
use crate::PseudoError;

type HmacSha256 = Hmac<Sha256>;

/// The per-vault research secret. `Debug` never shows it; it is not `Serialize`.
#[derive(Clone)]
pub struct ResearchSecret([u8; 32]);

impl ResearchSecret {
    pub fn new(bytes: [u8; 32]) -> Self {
        ResearchSecret(bytes)
    }
}

impl From<[u8; 32]> for ResearchSecret {
    fn from(b: [u8; 32]) -> Self {
        ResearchSecret(b)
    }
}

impl std::fmt::Debug for ResearchSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResearchSecret(<redacted>)")
    }
}

/// The v3 ObservationValue system of the `PSEUDED` security label.
pub const PSEUDED_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

/// Applies a compiled config with a research secret. Cheap to share (`&self` only).
#[derive(Clone)]
pub struct Pseudonymiser {
    rules: Vec<CompiledRule>,
    params: Parameters,
    mac: HmacSha256,
    _secret: ResearchSecret,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymiser").field("rules", &self.rules.len()).field("secret", &"<redacted>").finish()
    }
}

impl Pseudonymiser {
    /// Compiles the rules once. Errors name the rule index and the reason.
    pub fn new(config: Config, secret: impl Into<ResearchSecret>) -> Result<Self, PseudoError> {
        let secret = secret.into();
        if config.fhir_version != "R4" {
            return Err(PseudoError::Config(format!("fhirVersion `{}` is not supported (only R4)", config.fhir_version)));
        }
        let rules = config.fhir_path_rules.iter().enumerate().map(|(i, r)| compile(i, r)).collect::<Result<Vec<_>, _>>()?;
        let mac = match HmacSha256::new_from_slice(&secret.0) {
            Ok(m) => m,
            Err(_) => return Err(PseudoError::Config("secret rejected by HMAC".into())),
        };
        Ok(Pseudonymiser { rules, params: config.parameters, mac, _secret: secret })
    }

    fn hmac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.mac.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The pseudonymous id of `rtype/id`: the first 32 hex digits (128 bits) of
    /// HMAC-SHA256(secret, "ResourceType/id"). A valid FHIR id.
    pub fn pseudonym(&self, rtype: &str, id: &str) -> String {
        let h = self.hmac(&[rtype.as_bytes(), b"/", id.as_bytes()]);
        hex::encode(&h[..16])
    }

    /// The id of a contained resource (`#id` references use the same mapping).
    fn local_id(&self, id: &str) -> String {
        hex::encode(&self.hmac(&[b"#", id.as_bytes()])[..16])
    }

    /// A version-4-shaped UUID for `urn:uuid:` (and other `urn:`) references.
    fn uuid_for(&self, urn: &str) -> String {
        let mut b = [0u8; 16];
        b.copy_from_slice(&self.hmac(&[b"urn:", urn.to_ascii_lowercase().as_bytes()])[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex::encode(b);
        format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    }

    /// The `cryptoHash` method: HMAC-SHA256(secret, "cryptoHash:" + value), 64 hex digits.
    pub fn crypto_hash(&self, value: &str) -> String {
        hex::encode(self.hmac(&[b"cryptoHash:", value.as_bytes()]))
    }

    /// The day shift of one person: from HMAC(secret, "dateshift:" + person_key), in
    /// `[-dateShiftRange, +dateShiftRange]`, never 0 (unless the range is 0).
    pub fn date_shift_days(&self, person_key: &str) -> i64 {
        let r = i64::from(self.params.date_shift_range);
        if r == 0 {
            return 0;
        }
        let h = self.hmac(&[b"dateshift:", person_key.as_bytes()]);
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[..8]);
        let k = (u64::from_le_bytes(b) % (2 * r as u64)) as i64; // 0..2r
        if k < r {
            k - r // -r..-1
        } else {
            k - r + 1 // 1..r
        }
    }

    /// Rewrites a reference string with the pseudonym mapping; `None` when it cannot be
    /// understood (the caller then drops it).
    pub fn rewrite_reference(&self, r: &str) -> Option<String> {
        if r.is_empty() {
            return None;
        }
        if let Some(local) = r.strip_prefix('#') {
            return Some(if local.is_empty() { "#".to_string() } else { format!("#{}", self.local_id(local)) });
        }
        if let Some(u) = r.strip_prefix("urn:uuid:") {
            return Some(format!("urn:uuid:{}", self.uuid_for(&format!("uuid:{u}"))));
        }
        if let Some(other) = r.strip_prefix("urn:") {
            return Some(format!("urn:uuid:{}", self.uuid_for(other)));
        }
        if let Some((head, query)) = r.split_once('?') {
            let (base, ty) = match head.rfind('/') {
                Some(i) => (&head[..=i], &head[i + 1..]),
                None => ("", head),
            };
            return is_type_name(ty).then(|| format!("{base}{ty}/{}", self.pseudonym(ty, &format!("?{query}"))));
        }
        let core = match r.find("/_history/") {
            Some(i) => &r[..i],
            None => r,
        };
        let mut it = core.rsplitn(3, '/');
        let id = it.next().unwrap_or("");
        match (it.next(), it.next()) {
            (Some(ty), base) if is_type_name(ty) && !id.is_empty() => {
                let base = base.map(|b| format!("{b}/")).unwrap_or_default();
                Some(format!("{base}{ty}/{}", self.pseudonym(ty, id)))
            }
            (None, _) if is_type_name(id) => Some(id.to_string()),
            _ => None,
        }
    }

    /// Pseudonymises one resource (a Bundle's entries and `contained` resources too).
    ///
    /// `person_key` selects the date shift (use the same key for every resource of a
    /// person, e.g. the Patient's vault id); `reference_date` is "today" for age rules.
    pub fn pseudonymise(&self, resource: &Value, person_key: &str, reference_date: NaiveDate) -> Result<Value, PseudoError> {
        let Value::Object(m) = resource else {
            return Err(PseudoError::NotAnObject);
        };
        match m.get("resourceType").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => {}
            _ => return Err(PseudoError::NoResourceType),
        }
        let mut w = Walk {
            p: self,
            person: person_key,
            shift: self.date_shift_days(person_key),
            reference: reference_date,
            rtype: "",
            res_id: "",
            path: Vec::new(),
            types: Vec::new(),
        };
        Ok(w.resource(m, false))
    }
}

fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

struct Walk<'p, 'a> {
    p: &'p Pseudonymiser,
    person: &'p str,
    shift: i64,
    reference: NaiveDate,
    rtype: &'a str,
    res_id: &'a str,
    /// Element names from the current resource's root (`_x` companions as `x`).
    path: Vec<&'a str>,
    /// Types of the nodes on the path; `types[0]` is the resource.
    types: Vec<Option<Ty>>,
}

struct Visited {
    out: Option<Value>,
    drop_companion: bool,
}

impl<'p, 'a> Walk<'p, 'a> {
    fn first_match(&self, below: Option<usize>) -> Option<usize> {
        let limit = below.unwrap_or(self.p.rules.len());
        self.p.rules[..limit].iter().position(|r| r.path.selects(self.rtype, &self.path, &self.types))
    }

    fn op(&self, eff: Option<usize>) -> Option<&'p Op> {
        let p: &'p Pseudonymiser = self.p;
        eff.map(|i| &p.rules[i].op)
    }

    fn resource(&mut self, m: &'a Map<String, Value>, contained: bool) -> Value {
        let rtype = m.get("resourceType").and_then(Value::as_str).unwrap_or("");
        let saved = (
            std::mem::replace(&mut self.rtype, rtype),
            std::mem::replace(&mut self.res_id, m.get("id").and_then(Value::as_str).unwrap_or("")),
            std::mem::take(&mut self.path),
            std::mem::replace(&mut self.types, vec![Some(Ty::Resource)]),
        );
        let eff = self.first_match(None);
        let mut out = self.object(m, eff, Some(Ty::Resource), true, contained);
        if !out.contains_key("meta") {
            let meta = reduce_meta(None);
            // Keep `resourceType` and `id` first.
            let pos = out.keys().take_while(|k| *k == "resourceType" || *k == "id").count();
            let mut rebuilt = Map::with_capacity(out.len() + 1);
            let mut rest = std::mem::take(&mut out).into_iter();
            for _ in 0..pos {
                if let Some((k, v)) = rest.next() {
                    rebuilt.insert(k, v);
                }
            }
            rebuilt.insert("meta".into(), meta);
            rebuilt.extend(rest);
            out = rebuilt;
        }
        (self.rtype, self.res_id, self.path, self.types) = saved;
        Value::Object(out)
    }

    fn object(&mut self, m: &'a Map<String, Value>, eff: Option<usize>, ty: Option<Ty>, root: bool, contained: bool) -> Map<String, Value> {
        let mut results: Vec<Option<Value>> = Vec::with_capacity(m.len());
        let mut dropped: Vec<&str> = Vec::new();
        for (k, v) in m {
            if k.starts_with('_') {
                results.push(None);
                continue;
            }
            let r = if root && k == "resourceType" {
                Some(v.clone())
            } else if root && k == "id" {
                v.as_str().map(|id| Value::String(if contained { self.p.local_id(id) } else { self.p.pseudonym(self.rtype, id) }))
            } else if root && k == "meta" {
                Some(reduce_meta(Some(v)))
            } else {
                let is_ref = ty == Some(Ty::Reference) && k == "reference" || self.is_bundle_url(k);
                let vis = if is_ref { self.reference(k, v, eff) } else { self.child(k, v, eff, false) };
                if vis.drop_companion {
                    dropped.push(k);
                }
                vis.out
            };
            results.push(r);
        }
        for (i, (k, v)) in m.iter().enumerate() {
            if let Some(base) = k.strip_prefix('_') {
                if root && base == "id" || dropped.contains(&base) || (ty == Some(Ty::Reference) && base == "reference") {
                    continue;
                }
                // A companion whose value was removed entirely goes too.
                if m.contains_key(base) && !results_has(m, &results, base) {
                    continue;
                }
                results[i] = self.child(base, v, eff, true).out;
            }
        }
        let mut out = Map::with_capacity(m.len());
        for ((k, _), r) in m.iter().zip(results) {
            if let Some(v) = r {
                out.insert(k.clone(), v);
            }
        }
        out
    }

    /// A reference string: rewritten with the pseudonym mapping whatever the rule, unless
    /// the rule redacts it.
    fn reference(&mut self, key: &'a str, v: &'a Value, inherited: Option<usize>) -> Visited {
        self.path.push(key);
        self.types.push(None);
        let eff = self.first_match(inherited).or(inherited);
        let out = match (self.op(eff), v.as_str()) {
            (Some(Op::Redact), _) | (_, None) => None,
            (_, Some(s)) => self.p.rewrite_reference(s).map(Value::String),
        };
        self.path.pop();
        self.types.pop();
        Visited { out, drop_companion: true }
    }

    fn is_bundle_url(&self, k: &str) -> bool {
        self.rtype == "Bundle"
            && matches!(
                (self.path.as_slice(), k),
                (["entry"], "fullUrl") | (["entry", "request"], "url") | (["entry", "response"], "location")
            )
    }

    /// Visits the value of element `key` (each item of an array is a node).
    fn child(&mut self, key: &'a str, v: &'a Value, eff: Option<usize>, companion: bool) -> Visited {
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut drop_companion = false;
                for it in items {
                    let vis = self.node(key, it, eff, companion);
                    drop_companion |= vis.drop_companion;
                    match vis.out {
                        Some(x) => out.push(x),
                        // Keep the positions of `_given`-style companion arrays aligned.
                        None if companion => out.push(Value::Null),
                        None => {}
                    }
                }
                let out = (!out.is_empty() && !out.iter().all(Value::is_null)).then_some(Value::Array(out));
                Visited { out, drop_companion }
            }
            _ => self.node(key, v, eff, companion),
        }
    }

    fn node(&mut self, key: &'a str, v: &'a Value, inherited: Option<usize>, companion: bool) -> Visited {
        let depth = self.path.len() + 1;
        let ty = match v {
            Value::Object(m) => object_type(key, m, depth),
            Value::String(s) if !companion => string_date_type(key, s),
            _ => None,
        };
        self.path.push(key);
        self.types.push(ty);
        let own = self.first_match(inherited);
        let eff = own.or(inherited);
        let op = self.op(eff);
        let out = match v {
            Value::Object(m) => {
                if ty == Some(Ty::Resource) {
                    match op {
                        Some(Op::Redact) => None,
                        _ => Some(self.resource(m, key == "contained")),
                    }
                } else if let (Some(Op::Substitute(with)), true) = (op, own.is_some()) {
                    Some(with.clone())
                } else if matches!(op, Some(Op::Redact)) && ty == Some(Ty::Age) && self.p.params.enable_partial_ages_for_redact {
                    let young = m.get("value").and_then(Value::as_f64).is_some_and(|a| a <= 89.0);
                    young.then(|| v.clone())
                } else {
                    let o = self.object(m, eff, ty, false, false);
                    let empty = o.is_empty()
                        || (ty == Some(Ty::Extension) && o.keys().all(|k| k == "url" || k == "id"))
                        || o.keys().all(|k| k == "id");
                    (!empty).then_some(Value::Object(o))
                }
            }
            Value::Array(_) => self.child(key, v, eff, companion).out,
            _ => self.leaf(key, v, op, ty),
        };
        self.path.pop();
        self.types.pop();
        Visited { out, drop_companion: op.is_some_and(Op::drops_companion) }
    }

    fn leaf(&self, key: &str, v: &Value, op: Option<&Op>, ty: Option<Ty>) -> Option<Value> {
        let Some(op) = op else {
            return Some(v.clone());
        };
        match op {
            Op::Keep => Some(v.clone()),
            Op::Redact => self.redact_leaf(key, v, ty),
            Op::DateShift => match (v, ty) {
                (Value::String(s), Some(t)) if t.is_date() => shift_date(s, self.shift).map(Value::String),
                _ => Some(v.clone()),
            },
            Op::CryptoHash => match v {
                Value::String(s) => Some(Value::String(self.p.crypto_hash(s))),
                _ => Some(v.clone()),
            },
            Op::Substitute(with) => Some(with.clone()),
            Op::Perturb { span, proportional, round_to } => match v {
                Value::Number(n) => Some(self.perturb(n, *span, *proportional, *round_to)),
                _ => Some(v.clone()),
            },
            Op::Generalize { cases, keep_others, truncate, max_age } => {
                let other = || keep_others.then(|| v.clone());
                match v {
                    Value::Number(n) => {
                        let Some(x) = n.as_f64() else { return other() };
                        match cases.iter().find(|c| c.holds(x)) {
                            Some(c) => Some(case_output(&c.output, v)),
                            None => other(),
                        }
                    }
                    Value::String(s) => match (truncate, parse_date(s)) {
                        (Some(g), Some(p)) => Some(Value::String(self.truncate(&p, *g, *max_age))),
                        _ => other(),
                    },
                    _ => other(),
                }
            }
        }
    }

    fn truncate(&self, p: &crate::types::ParsedDate<'_>, g: Granularity, max_age: Option<u32>) -> String {
        match (g, p.month) {
            (Granularity::Year, _) | (Granularity::Month, None) => {
                let mut y = p.year;
                if let Some(max) = max_age {
                    y = y.max(self.reference.year() - max as i32 - 1);
                }
                format!("{y:04}")
            }
            (Granularity::Month, Some(m)) => format!("{:04}-{m:02}", p.year),
        }
    }

    fn age_over_89(&self, s: &str) -> bool {
        let Some(p) = parse_date(s) else { return true };
        let r = self.reference;
        let (m, d) = (p.month.unwrap_or(1), p.day.unwrap_or(1));
        let mut age = r.year() - p.year;
        if (r.month(), r.day()) < (m, d) {
            age -= 1;
        }
        age > 89
    }

    fn redact_leaf(&self, key: &str, v: &Value, ty: Option<Ty>) -> Option<Value> {
        let prm = &self.p.params;
        if let (Value::String(s), Some(t)) = (v, ty) {
            if prm.enable_partial_dates_for_redact && t.is_date() {
                if key == "birthDate" && self.age_over_89(s) {
                    return None;
                }
                return s.get(..4).map(|y| Value::String(y.to_string()));
            }
        }
        let parent = self.types.len().checked_sub(2).and_then(|i| self.types[i]);
        if let (Value::String(s), "postalCode", Some(Ty::Address), true) = (v, key, parent, prm.enable_partial_zip_codes_for_redact) {
            let d: String = s.chars().filter(char::is_ascii_digit).take(3).collect();
            if d.len() == 3 {
                let restricted = prm.restricted_zip_code_tabulation_areas.contains(&d);
                return Some(Value::String(if restricted { "000".into() } else { d }));
            }
        }
        None
    }

    fn perturb(&self, n: &Number, span: f64, proportional: bool, round_to: u32) -> Value {
        let Some(x) = n.as_f64().filter(|x| x.is_finite()) else {
            return Value::Number(n.clone());
        };
        let path = self.path.join(".");
        let raw = n.to_string();
        let h = self.p.hmac(&[
            b"perturb:",
            self.person.as_bytes(),
            b"\0",
            self.rtype.as_bytes(),
            b"/",
            self.res_id.as_bytes(),
            b"\0",
            path.as_bytes(),
            b"\0",
            raw.as_bytes(),
        ]);
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[..8]);
        let u = (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        let half = if proportional { span * x.abs() / 2.0 } else { span / 2.0 };
        let y = x + (2.0 * u - 1.0) * half;
        let text = format!("{:.*}", round_to as usize, y);
        let text = if text.starts_with("-") && text.trim_start_matches(['-', '0', '.']).is_empty() { text[1..].to_string() } else { text };
        match text.parse::<Number>() {
            Ok(num) => Value::Number(num),
            Err(_) => Value::Number(n.clone()),
        }
    }
}

/// Was element `base` kept (its result slot non-empty)?
fn results_has(m: &Map<String, Value>, results: &[Option<Value>], base: &str) -> bool {
    m.keys().position(|k| k == base).and_then(|i| results.get(i)).is_some_and(Option::is_some)
}

/// A generalize case output: `'text'` is unquoted, `$this` is the input value.
fn case_output(out: &Value, input: &Value) -> Value {
    match out {
        Value::String(s) if s == "$this" => input.clone(),
        Value::String(s) if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') => Value::String(s[1..s.len() - 1].to_string()),
        _ => out.clone(),
    }
}

/// `meta` keeps `profile`, `tag` and `security`, gains the `PSEUDED` label, loses the rest.
fn reduce_meta(meta: Option<&Value>) -> Value {
    let mut out = Map::new();
    let mut security = Vec::new();
    if let Some(Value::Object(m)) = meta {
        for k in ["profile", "tag"] {
            if let Some(v) = m.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
        if let Some(Value::Array(s)) = m.get("security") {
            security.extend(s.iter().cloned());
        }
    }
    let labelled = security.iter().any(|c| c.get("system").and_then(Value::as_str) == Some(PSEUDED_SYSTEM) && c.get("code").and_then(Value::as_str) == Some("PSEUDED"));
    if !labelled {
        security.push(serde_json::json!({ "system": PSEUDED_SYSTEM, "code": "PSEUDED", "display": "pseudonymized" }));
    }
    out.insert("security".into(), Value::Array(security));
    Value::Object(out)
}
