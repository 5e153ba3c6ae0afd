//! The per-person streaming generator and the shared facilities.
//!
//! A person is generated as: Patient, the facilities' Organizations and Practitioners
//! (identical content and ids for every person: they are the same real-world
//! facilities), then "visit groups" in chronological order: an Encounter followed by
//! the resources recorded at that visit. Every reference points backwards (to the
//! Patient, the facilities, the group's Encounter, an earlier resource of the group or
//! a Condition of an earlier group), so any prefix of the stream is closed under
//! references, which lets the last group be cut to hit the resource budget exactly.
//! Memory is bounded by one visit group whatever the size.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::data::*;

/// Base of the Bundle entries' fullUrl (a reserved, never-resolving host).
pub const BASE_URL: &str = "https://gen.techo.invalid/fhir/";

/// The last clinical date of every generated record (fixed: output never depends on the clock).
const END_YEAR: i32 = 2025;

// ------------------------------------------------------------------ hashing / ids

pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn mix(a: u64, b: u64) -> u64 {
    splitmix64(a ^ splitmix64(b ^ 0x5851_F42D_4C95_7F2D))
}

/// A deterministic UUID-v4-shaped id for (seed, namespace, n).
pub(crate) fn uuid(seed: u64, ns: u64, n: u64) -> String {
    let a = splitmix64(mix(seed, ns) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let b = splitmix64(a ^ 0xD1B5_4A32_D192_ED03);
    let hi = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
    let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

const NS_FACILITY: u64 = 0xFAC1_1171_0000_0000;

fn person_ns(pidx: usize) -> u64 {
    pidx as u64 + 1
}

// ------------------------------------------------------------------ small helpers

pub(crate) fn dec(s: &str) -> Value {
    Value::Number(s.parse::<serde_json::Number>().expect("decimal literal"))
}

fn dec_f(v: f64, decimals: usize) -> (Value, String) {
    let s = format!("{:.*}", decimals, v);
    (dec(&s), s)
}

fn int(v: i64) -> Value {
    Value::Number(v.into())
}

fn dt(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+09:00").to_string()
}

fn instant(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+09:00").to_string()
}

fn date(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn jdate(t: NaiveDateTime) -> String {
    format!("{}年{}月{}日", t.year(), t.month(), t.day())
}

fn esc(s: &str) -> String {
    if !s.contains(['<', '>', '&', '"']) {
        return s.to_string();
    }
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn narrative(body: &str) -> Value {
    json!({
        "status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{body}</div>"),
    })
}

fn reference(rtype: &str, id: &str) -> Value {
    json!({ "reference": format!("{rtype}/{id}") })
}

fn reference_d(rtype: &str, id: &str, display: &str) -> Value {
    json!({ "reference": format!("{rtype}/{id}"), "display": display })
}

fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = rng.gen_range(1e-12..1.0);
    let u2: f64 = rng.gen();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { B64[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { B64[n as usize & 63] as char } else { '=' });
    }
    out
}

fn fullwidth_digits(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap() } else { c })
        .collect()
}

fn human_name(family: (&str, &str), given: (&str, &str)) -> Value {
    json!([
        {
            "extension": [{ "url": EXT_EN_REPRESENTATION, "valueCode": "IDE" }],
            "use": "official",
            "text": format!("{} {}", family.0, given.0),
            "family": family.0,
            "given": [given.0],
        },
        {
            "extension": [{ "url": EXT_EN_REPRESENTATION, "valueCode": "SYL" }],
            "use": "official",
            "text": format!("{} {}", family.1, given.1),
            "family": family.1,
            "given": [given.1],
        }
    ])
}

fn meta(rng: &mut ChaCha8Rng, profile: &str, t: NaiveDateTime) -> Value {
    let version = match rng.gen_range(0..100) {
        0..=84 => 1,
        85..=96 => 2,
        _ => 3,
    };
    let updated = t + TimeDelta::minutes(rng.gen_range(5..4320));
    json!({
        "versionId": version.to_string(),
        "lastUpdated": instant(updated),
        "profile": [format!("{PROFILE_BASE}{profile}")],
    })
}

// ------------------------------------------------------------------ facilities

#[derive(Clone, Debug)]
pub(crate) struct Practitioner {
    pub k: usize,
    pub id: String,
    pub name: String,
    pub family: (&'static str, &'static str),
    pub given: (&'static str, &'static str),
    pub female: bool,
    pub pharmacist: bool,
    pub staff_no: String,
    pub license: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Facility {
    pub idx: usize,
    pub kind: FacKind,
    pub id: String,
    pub name: String,
    pub place: usize,
    /// 10-digit medical institution number: prefecture(2) + fee table(1) + code(7)
    pub inst10: String,
    pub code7: String,
    pub dept: (&'static str, &'static str),
    pub pracs: Vec<Practitioner>,
    pub established: NaiveDateTime,
}

pub(crate) fn facility_kind(i: usize) -> FacKind {
    match i % 3 {
        0 => FacKind::Hospital,
        1 => FacKind::Clinic,
        _ => FacKind::Pharmacy,
    }
}

pub(crate) fn build_facilities(seed: u64, n: usize) -> Vec<Facility> {
    let offset = (mix(seed, NS_FACILITY) % 997) as usize;
    (0..n.max(1))
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, NS_FACILITY + i as u64));
            let kind = facility_kind(i);
            let round = i / 3;
            let (names, table) = match kind {
                FacKind::Hospital => (HOSPITAL_NAMES, '1'),
                FacKind::Clinic => (CLINIC_NAMES, '1'),
                FacKind::Pharmacy => (PHARMACY_NAMES, '4'),
            };
            let base = names[(round + offset) % names.len()];
            let name = if round < names.len() { base.to_string() } else { format!("{base} 第{}分院", round / names.len() + 1) };
            let place = rng.gen_range(0..PLACES.len());
            let code7 = format!("{:07}", rng.gen_range(1_000_000..9_999_999) / 10 * 10 + (i % 10));
            let inst10 = format!("{}{}{}", PLACES[place].0, table, code7);
            let n_pracs = match kind {
                FacKind::Hospital => 2,
                _ => 1,
            };
            let pracs = (0..n_pracs)
                .map(|k| {
                    let female = rng.gen_bool(0.4);
                    let family = *pick(&mut rng, FAMILY);
                    let given = if female { *pick(&mut rng, GIVEN_FEMALE) } else { *pick(&mut rng, GIVEN_MALE) };
                    Practitioner {
                        k,
                        id: uuid(seed, NS_FACILITY + i as u64, 100 + k as u64),
                        name: format!("{} {}", family.0, given.0),
                        family,
                        given,
                        female,
                        pharmacist: kind == FacKind::Pharmacy,
                        staff_no: format!("{}{:04}", if kind == FacKind::Pharmacy { 'P' } else { 'D' }, rng.gen_range(1..9999)),
                        license: format!("{:06}", rng.gen_range(100_000..999_999)),
                    }
                })
                .collect();
            let dept = match kind {
                FacKind::Hospital => DEPARTMENTS[rng.gen_range(0..DEPARTMENTS.len())],
                FacKind::Clinic => CLINIC_DEPARTMENTS[(round + offset) % names.len()],
                FacKind::Pharmacy => ("", ""),
            };
            let established = NaiveDate::from_ymd_opt(2019, 1 + rng.gen_range(0..12), 1 + rng.gen_range(0..28))
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap();
            Facility { idx: i, kind, id: uuid(seed, NS_FACILITY + i as u64, 0), name, place, inst10, code7, dept, pracs, established }
        })
        .collect()
}

fn organization(f: &Facility, seed: u64) -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, NS_FACILITY + 0x1_0000 + f.idx as u64));
    let p = PLACES[f.place];
    let kind_text = match f.kind {
        FacKind::Hospital => "病院",
        FacKind::Clinic => "診療所",
        FacKind::Pharmacy => "保険薬局",
    };
    let line = format!("{}{}-{}-{}", p.3, rng.gen_range(1..6), rng.gen_range(1..30), rng.gen_range(1..20));
    let address = format!("{}{}{}", p.1, p.2, line);
    let phone = format!("{}-{:04}-{:04}", p.5, rng.gen_range(1000..9999), rng.gen_range(0..9999));
    json!({
        "resourceType": "Organization",
        "id": f.id,
        "meta": meta(&mut rng, "JP_Organization", f.established),
        "text": narrative(&format!("<p>{}（{}）</p><p>{}</p>", esc(&f.name), kind_text, esc(&address))),
        "extension": [
            { "url": EXT_ORG_PREFECTURE, "valueCoding": { "system": SYS_PREFECTURE, "code": p.0 } },
            { "url": EXT_ORG_CATEGORY, "valueCoding": { "system": SYS_FEE_SCORE_TYPE, "code": if f.kind == FacKind::Pharmacy { "4" } else { "1" } } },
            { "url": EXT_ORG_NO, "valueIdentifier": { "system": SYS_MEDICAL_ORG_ID, "value": f.code7 } },
        ],
        "identifier": [{ "system": SYS_INSTITUTION_NO, "value": f.inst10 }],
        "active": true,
        "type": [{
            "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider" }],
            "text": kind_text,
        }],
        "name": f.name,
        "telecom": [{ "system": "phone", "value": phone, "use": "work" }],
        "address": [{
            "text": address,
            "line": [line],
            "city": p.2,
            "state": p.1,
            "postalCode": format!("{}-{:04}", p.4, rng.gen_range(0..9999)),
            "country": "JP",
        }],
    })
}

fn practitioner(f: &Facility, pr: &Practitioner, seed: u64) -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, NS_FACILITY + 0x2_0000 + (f.idx as u64) * 64 + pr.k as u64));
    let qual = if pr.pharmacist { "薬剤師" } else { "医師" };
    let mut identifier = vec![json!({ "system": format!("{SYS_STAFF_PREFIX}{}", f.inst10), "value": pr.staff_no })];
    if !pr.pharmacist {
        identifier.push(json!({ "system": SYS_MEDICAL_LICENSE, "value": pr.license }));
    }
    json!({
        "resourceType": "Practitioner",
        "id": pr.id,
        "meta": meta(&mut rng, "JP_Practitioner", f.established),
        "text": narrative(&format!("<p>{}（{}）{}</p>", esc(&pr.name), qual, esc(&f.name))),
        "identifier": identifier,
        "active": true,
        "name": human_name(pr.family, pr.given),
        "gender": if pr.female { "female" } else { "male" },
        "qualification": [{ "code": { "text": qual } }],
    })
}

/// The shared resources (Organizations, Practitioners) in emission order.
pub(crate) fn shared_resources(facs: &[Facility], seed: u64) -> Vec<Value> {
    let mut v = Vec::new();
    for f in facs {
        v.push(organization(f, seed));
        for p in &f.pracs {
            v.push(practitioner(f, p, seed));
        }
    }
    v
}

pub(crate) fn shared_count(facs: &[Facility]) -> usize {
    facs.iter().map(|f| 1 + f.pracs.len()).sum()
}

// ------------------------------------------------------------------ the person

struct Chronic {
    disease: usize,
    cond_id: Option<String>,
}

pub(crate) struct PersonGen {
    seed: u64,
    pidx: usize,
    rng: ChaCha8Rng,
    facs: Arc<Vec<Facility>>,
    budget_left: usize,
    stage: u8,
    seq: u64,
    queue: VecDeque<Value>,
    patient_id: String,
    patient_name: String,
    female: bool,
    mrns: Vec<String>,
    chronic: Vec<Chronic>,
    n_allergies: usize,
    groups: u64,
    t: NaiveDateTime,
    end: NaiveDateTime,
    last_flu_year: i32,
    weight: f64,
    height: f64,
    family: (&'static str, &'static str),
    given: (&'static str, &'static str),
    birth: NaiveDateTime,
    place: usize,
}

/// Rough mean size of a visit group, used to spread the visits over the record's years.
const AVG_GROUP: usize = 11;

pub(crate) fn min_person_budget(facs: &[Facility]) -> usize {
    1 + shared_count(facs) + 1
}

impl PersonGen {
    pub(crate) fn new(seed: u64, pidx: usize, budget: usize, facs: Arc<Vec<Facility>>) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, person_ns(pidx)));
        let budget = budget.max(min_person_budget(&facs));
        let female = rng.gen_bool(0.5);
        let family = *pick(&mut rng, FAMILY);
        let given = if female { *pick(&mut rng, GIVEN_FEMALE) } else { *pick(&mut rng, GIVEN_MALE) };
        let birth = NaiveDate::from_ymd_opt(rng.gen_range(1938..=1975), rng.gen_range(1..=12), rng.gen_range(1..=28))
            .unwrap()
            .and_hms_opt(rng.gen_range(0..24), rng.gen_range(0..60), 0)
            .unwrap();
        let place = rng.gen_range(0..PLACES.len());
        let visits = budget.saturating_sub(min_person_budget(&facs)) / AVG_GROUP;
        let span_years = (visits / 250).clamp(2, 25) as i32;
        let end = NaiveDate::from_ymd_opt(END_YEAR, 10, 31).unwrap().and_hms_opt(18, 0, 0).unwrap();
        let start = NaiveDate::from_ymd_opt(END_YEAR - span_years, rng.gen_range(1..=12), rng.gen_range(1..=28))
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        // chronic conditions: the first person always has hypertension (stable search terms)
        let mut chronic = Vec::new();
        if pidx == 0 || rng.gen_bool(0.6) {
            chronic.push(Chronic { disease: 0, cond_id: None });
        }
        let extra = rng.gen_range(1..=3);
        for _ in 0..extra {
            let d = rng.gen_range(1..FIRST_ACUTE);
            debug_assert!(DISEASES[d].chronic && !DISEASES[FIRST_ACUTE].chronic);
            if !chronic.iter().any(|c| c.disease == d) {
                chronic.push(Chronic { disease: d, cond_id: None });
            }
        }
        let n_allergies = rng.gen_range(0..=2);
        let mrns = (0..facs.len()).map(|_| format!("{:08}", rng.gen_range(1..99_999_999))).collect();
        let height = if female { normal(&mut rng, 157.0, 6.0) } else { normal(&mut rng, 170.0, 6.0) };
        let weight = height * height / 10_000.0 * normal(&mut rng, 23.0, 2.5);
        PersonGen {
            seed,
            pidx,
            rng,
            facs,
            budget_left: budget,
            stage: 0,
            seq: 0,
            queue: VecDeque::with_capacity(64),
            patient_id: uuid(seed, person_ns(pidx), 0),
            patient_name: format!("{} {}", family.0, given.0),
            female,
            mrns,
            chronic,
            n_allergies,
            groups: 0,
            t: start,
            end,
            last_flu_year: 0,
            weight,
            height,
            family,
            given,
            birth,
            place,
        }
    }

    fn next_id(&mut self) -> String {
        self.seq += 1;
        uuid(self.seed, person_ns(self.pidx), self.seq)
    }

    fn subject(&self) -> Value {
        reference_d("Patient", &self.patient_id, &self.patient_name)
    }

    fn patient(&mut self) -> Value {
        let rng = &mut self.rng;
        let p = PLACES[self.place];
        let mut identifier: Vec<Value> = self
            .facs
            .iter()
            .zip(&self.mrns)
            .map(|(f, mrn)| json!({ "system": format!("{SYS_MRN_PREFIX}{}", f.inst10), "value": mrn }))
            .collect();
        const SYMBOLS: &[&str] = &["あいう", "かきく", "ＡＢ", "さしす", "東", "みどり"];
        let insurer = format!("{:02}{}{:04}", [6, 1, 31, 39][rng.gen_range(0..4)], p.0, rng.gen_range(0..9999));
        identifier.push(json!({
            "system": SYS_INSURANCE_MEMBER,
            "value": format!("{insurer}:{}:{}:{:02}", pick(rng, SYMBOLS), fullwidth_digits(&rng.gen_range(1..9999).to_string()), rng.gen_range(0..4)),
        }));
        identifier.push(json!({ "system": SYS_INSURER_NUMBER, "value": insurer }));
        let line = format!("{}{}-{}-{}", p.3, rng.gen_range(1..6), rng.gen_range(1..30), rng.gen_range(1..20));
        let address = format!("{}{}{}", p.1, p.2, line);
        let birth_date = self.birth.date().format("%Y-%m-%d").to_string();
        let name = self.patient_name.clone();
        let kana = format!("{} {}", self.family.1, self.given.1);
        let t0 = self.t;
        let mut v = json!({
            "resourceType": "Patient",
            "id": self.patient_id,
            "meta": meta(rng, "JP_Patient", t0),
            "text": narrative(&format!(
                "<p>{}（{}）</p><p>{}生 {}</p><p>{}</p>",
                esc(&name), esc(&kana), jdate(self.birth), if self.female { "女性" } else { "男性" }, esc(&address)
            )),
            "identifier": identifier,
            "active": true,
            "name": human_name(self.family, self.given),
            "telecom": [{ "system": "phone", "value": format!("090-{:04}-{:04}", rng.gen_range(0..9999), rng.gen_range(0..9999)), "use": "mobile" }],
            "gender": if self.female { "female" } else { "male" },
            "birthDate": birth_date,
            "_birthDate": { "extension": [{ "url": EXT_BIRTH_TIME, "valueDateTime": dt(self.birth) }] },
            "address": [{
                "use": "home",
                "text": address,
                "line": [line],
                "city": p.2,
                "state": p.1,
                "postalCode": format!("{}-{:04}", p.4, rng.gen_range(0..9999)),
                "country": "JP",
            }],
            "communication": [{
                "language": { "coding": [{ "system": "urn:ietf:bcp:47", "code": "ja", "display": "Japanese" }] },
                "preferred": true,
            }],
        });
        if rng.gen_bool(0.5) {
            v["maritalStatus"] = json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M", "display": "Married" }], "text": "既婚" });
        }
        v
    }

    // -------------------------------------------------------------- one visit group

    fn gen_group(&mut self) -> Vec<Value> {
        let remaining = self.budget_left;
        let groups_left = (remaining / AVG_GROUP).max(1) as i64;
        let span = (self.end - self.t).num_minutes().max(groups_left * 60);
        let step = span / groups_left;
        let jitter = self.rng.gen_range(step / 2..=step + step / 2).max(30);
        let prev = self.t;
        self.t += TimeDelta::minutes(jitter);
        // office hours when that keeps the visits in order
        let (h, m) = (self.rng.gen_range(8..17), self.rng.gen_range(0..60));
        let office = self.t.date().and_hms_opt(h, m, 0).unwrap();
        if office > prev {
            self.t = office;
        }
        self.groups += 1;

        // facility: clinics most often, hospitals otherwise; pharmacies never host visits
        let providers: Vec<usize> = (0..self.facs.len()).filter(|&i| self.facs[i].kind != FacKind::Pharmacy).collect();
        let clinics: Vec<usize> = providers.iter().copied().filter(|&i| self.facs[i].kind == FacKind::Clinic).collect();
        let fi = if !clinics.is_empty() && self.rng.gen_bool(0.55) { *pick(&mut self.rng, &clinics) } else { *pick(&mut self.rng, &providers) };
        let pharmacy = (0..self.facs.len()).filter(|&i| self.facs[i].kind == FacKind::Pharmacy).nth(self.pidx % 2).or_else(|| {
            (0..self.facs.len()).find(|&i| self.facs[i].kind == FacKind::Pharmacy)
        });
        let facs = self.facs.clone();
        let fac = &facs[fi];
        let doc = &fac.pracs[self.rng.gen_range(0..fac.pracs.len())];
        let class = if fac.kind == FacKind::Hospital {
            match self.rng.gen_range(0..100) {
                0..=5 => "IMP",
                6..=11 => "EMER",
                _ => "AMB",
            }
        } else {
            "AMB"
        };
        let t = self.t;
        let end_t = match class {
            "IMP" => t + TimeDelta::days(self.rng.gen_range(3..15)) + TimeDelta::hours(2),
            "EMER" => t + TimeDelta::minutes(self.rng.gen_range(60..300)),
            _ => t + TimeDelta::minutes(self.rng.gen_range(10..45)),
        };

        let mut out: Vec<Value> = Vec::with_capacity(24);
        let enc_id = self.next_id();

        // what happens at this visit
        let acute = if class != "AMB" || self.rng.gen_bool(0.15) {
            Some(if class == "EMER" && self.rng.gen_bool(0.4) { DISEASES.len() - 1 } else { self.rng.gen_range(FIRST_ACUTE..DISEASES.len() - 1) })
        } else {
            None
        };
        let intro = self.chronic.iter().position(|c| c.cond_id.is_none());
        let known: Vec<(usize, String)> =
            self.chronic.iter().filter_map(|c| c.cond_id.clone().map(|id| (c.disease, id))).collect();

        // ---- Encounter
        {
            let (class_display, type_text) = match class {
                "IMP" => ("入院", "入院"),
                "EMER" => ("救急", "救急外来"),
                _ => ("外来", if self.groups == 1 { "初診" } else { "再診" }),
            };
            let reason: Option<&(usize, String)> = if acute.is_none() && !known.is_empty() { Some(&known[self.rng.gen_range(0..known.len())]) } else { None };
            let reason_text = match (acute, reason) {
                (Some(a), _) => DISEASES[a].name,
                (None, Some((d, _))) => DISEASES[*d].name,
                _ => "健康相談",
            };
            let mut e = json!({
                "resourceType": "Encounter",
                "id": enc_id,
                "meta": meta(&mut self.rng, "JP_Encounter", end_t),
                "text": narrative(&format!(
                    "<p>{} {}（{}）</p><p>{} {} 担当: {}</p>",
                    jdate(t), type_text, esc(reason_text), esc(&fac.name), fac.dept.1, esc(&doc.name)
                )),
                "identifier": [{ "system": "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier", "value": format!("{}-{}", fac.inst10, self.seq) }],
                "status": "finished",
                "class": { "system": SYS_ACTCODE, "code": class, "display": class_display },
                "type": [{ "text": type_text }],
                "serviceType": { "coding": [{ "system": SYS_DEPARTMENT, "code": fac.dept.0, "display": fac.dept.1 }] },
                "subject": self.subject(),
                "participant": [{ "individual": reference_d("Practitioner", &doc.id, &doc.name) }],
                "period": { "start": dt(t), "end": dt(end_t) },
            });
            if let Some((_, cid)) = reason {
                e["reasonReference"] = json!([reference("Condition", cid)]);
            } else {
                e["reasonCode"] = json!([{ "text": reason_text }]);
            }
            if class == "IMP" {
                e["hospitalization"] = json!({
                    "admitSource": { "text": "外来より入院" },
                    "dischargeDisposition": { "text": "自宅退院" },
                });
            }
            e["serviceProvider"] = reference_d("Organization", &fac.id, &fac.name);
            out.push(e);
        }
        let enc_ref = reference("Encounter", &enc_id);
        let doc_ref = reference_d("Practitioner", &doc.id, &doc.name);
        let org_ref = reference_d("Organization", &fac.id, &fac.name);

        // ---- allergies at the first visit
        if self.groups == 1 {
            for k in 0..self.n_allergies {
                let a = ALLERGIES[(self.pidx * 3 + k * 2 + 1) % ALLERGIES.len()];
                let id = self.next_id();
                out.push(json!({
                    "resourceType": "AllergyIntolerance",
                    "id": id,
                    "meta": meta(&mut self.rng, "JP_AllergyIntolerance", t),
                    "text": narrative(&format!("<p>アレルギー: {}（{}）</p>", a.2, a.4)),
                    "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active", "display": "Active" }] },
                    "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed", "display": "Confirmed" }] },
                    "type": "allergy",
                    "category": [a.3],
                    "criticality": if a.4 == "呼吸困難" { "high" } else { "low" },
                    "code": { "coding": [{ "system": a.0, "code": a.1, "display": a.2 }], "text": a.2 },
                    "patient": self.subject(),
                    "encounter": enc_ref,
                    "recordedDate": dt(t),
                    "recorder": doc_ref,
                    "reaction": [{ "manifestation": [{ "text": a.4 }], "severity": if a.4 == "呼吸困難" { "severe" } else { "mild" } }],
                }));
            }
        }

        // ---- conditions
        let mut visit_diseases: Vec<usize> = known.iter().map(|k| k.0).collect();
        let mut treat = known.clone();
        let mut acute_cond: Option<String> = None;
        if let Some(ci) = intro {
            let d = &DISEASES[self.chronic[ci].disease];
            let id = self.next_id();
            out.push(self.condition(&id, d, "problem-list-item", t, None, &enc_ref, &doc_ref));
            visit_diseases.push(self.chronic[ci].disease);
            treat.push((self.chronic[ci].disease, id.clone()));
            self.chronic[ci].cond_id = Some(id);
        }
        if let Some(a) = acute {
            let id = self.next_id();
            let abate = t + TimeDelta::days(self.rng.gen_range(5..21));
            let resolved = abate < self.end;
            out.push(self.condition(&id, &DISEASES[a], "encounter-diagnosis", t, resolved.then_some(abate), &enc_ref, &doc_ref));
            visit_diseases.push(a);
            acute_cond = Some(id);
        }
        let hypertensive = self.chronic.iter().any(|c| c.disease == 0 && c.cond_id.is_some());

        // ---- vital signs
        let sys = if hypertensive { normal(&mut self.rng, 142.0, 12.0) } else { normal(&mut self.rng, 118.0, 10.0) }.round() as i64;
        let dia = (sys as f64 * 0.62 + normal(&mut self.rng, 0.0, 5.0)).round() as i64;
        let febrile = acute.is_some() && self.rng.gen_bool(0.6);
        let temp = if febrile { normal(&mut self.rng, 37.8, 0.5) } else { normal(&mut self.rng, 36.5, 0.25) };
        self.weight += normal(&mut self.rng, 0.0, 0.15);
        {
            let id = self.next_id();
            out.push(self.vital_bp(&id, t, sys, dia, &enc_ref, &doc_ref));
        }
        if self.rng.gen_bool(0.8) {
            let id = self.next_id();
            let hr = normal(&mut self.rng, 72.0, 8.0).round() as i64;
            out.push(self.vital(&id, t, "8867-4", "Heart rate", "脈拍数", int(hr), &hr.to_string(), "回/分", "/min", &enc_ref, &doc_ref));
        }
        if febrile || self.rng.gen_bool(0.4) {
            let id = self.next_id();
            let (v, s) = dec_f(temp, 1);
            out.push(self.vital(&id, t, "8310-5", "Body temperature", "体温", v, &s, "℃", "Cel", &enc_ref, &doc_ref));
        }
        if self.rng.gen_bool(0.35) {
            let id = self.next_id();
            let (v, s) = dec_f(self.weight, 1);
            out.push(self.vital(&id, t, "29463-7", "Body weight", "体重", v, &s, "kg", "kg", &enc_ref, &doc_ref));
            if self.rng.gen_bool(0.25) {
                let id = self.next_id();
                let (v, s) = dec_f(self.height, 1);
                out.push(self.vital(&id, t, "8302-2", "Body height", "身長", v, &s, "cm", "cm", &enc_ref, &doc_ref));
                let id = self.next_id();
                let (v, s) = dec_f(self.weight / (self.height * self.height / 10_000.0), 1);
                out.push(self.vital(&id, t, "39156-5", "Body mass index (BMI) [Ratio]", "BMI", v, &s, "kg/m2", "kg/m2", &enc_ref, &doc_ref));
            }
        }
        if acute.is_some() && self.rng.gen_bool(0.5) {
            let id = self.next_id();
            let s = normal(&mut self.rng, 97.0, 1.2).round().min(100.0) as i64;
            out.push(self.vital(&id, t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "SpO2", int(s), &s.to_string(), "%", "%", &enc_ref, &doc_ref));
        }

        // ---- labs + report
        if class == "IMP" || class == "EMER" || self.rng.gen_bool(0.35) {
            let mut labs: Vec<usize> = Vec::with_capacity(16);
            for d in &visit_diseases {
                for l in DISEASES[*d].labs {
                    if !labs.contains(l) {
                        labs.push(*l);
                    }
                }
            }
            let want = self.rng.gen_range(4..=12usize);
            let mut k = self.rng.gen_range(0..GENERAL_PANEL.len());
            while labs.len() < want {
                let l = GENERAL_PANEL[k % GENERAL_PANEL.len()];
                if !labs.contains(&l) {
                    labs.push(l);
                }
                k += 1;
                if k > 64 {
                    break;
                }
            }
            labs.truncate(want.max(4));
            let drawn = t + TimeDelta::minutes(self.rng.gen_range(5..30));
            let issued = drawn + TimeDelta::minutes(self.rng.gen_range(40..240));
            let mut results = Vec::with_capacity(labs.len());
            let mut abnormal: Vec<String> = Vec::new();
            for l in labs {
                let id = self.next_id();
                let (obs, flag) = self.lab(&id, l, fac, drawn, issued, &enc_ref, &visit_diseases);
                if let Some(f) = flag {
                    abnormal.push(f);
                }
                out.push(obs);
                results.push(reference("Observation", &id));
            }
            let id = self.next_id();
            let conclusion = if abnormal.is_empty() { "特記すべき異常所見なし。".to_string() } else { format!("{}。経過観察。", abnormal.join("、")) };
            out.push(json!({
                "resourceType": "DiagnosticReport",
                "id": id,
                "meta": meta(&mut self.rng, "JP_DiagnosticReport_LabResult", issued),
                "text": narrative(&format!("<p>{} 検体検査結果（{}項目）</p><p>{}</p>", jdate(drawn), results.len(), esc(&conclusion))),
                "status": "final",
                "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB", "display": "Laboratory" }] }],
                "code": { "coding": [{ "system": SYS_LOINC, "code": "11502-2", "display": "Laboratory report" }], "text": "検体検査結果報告" },
                "subject": self.subject(),
                "encounter": enc_ref,
                "effectiveDateTime": dt(drawn),
                "issued": instant(issued),
                "performer": [org_ref],
                "result": results,
                "conclusion": conclusion,
            }));
        }

        // ---- procedures (+ report)
        let proc_p = match (fac.kind, class) {
            (_, "IMP") => 0.7,
            (FacKind::Hospital, _) => 0.12,
            _ => 0.03,
        };
        if self.rng.gen_bool(proc_p) {
            let p = *pick(&mut self.rng, PROCEDURES);
            let id = self.next_id();
            let pt = t + TimeDelta::minutes(self.rng.gen_range(20..180));
            out.push(json!({
                "resourceType": "Procedure",
                "id": id,
                "meta": meta(&mut self.rng, "JP_Procedure", pt),
                "text": narrative(&format!("<p>{} {}</p><p>{}</p>", jdate(pt), p.1, p.2)),
                "status": "completed",
                "code": { "coding": [{ "system": SYS_SNOMED, "code": p.0 }], "text": p.1 },
                "subject": self.subject(),
                "encounter": enc_ref,
                "performedDateTime": dt(pt),
                "recorder": doc_ref,
                "performer": [{ "actor": doc_ref, "onBehalfOf": org_ref }],
                "note": [{ "text": p.2 }],
            }));
            if self.rng.gen_bool(0.7) {
                let id = self.next_id();
                let issued = pt + TimeDelta::hours(self.rng.gen_range(1..48));
                out.push(json!({
                    "resourceType": "DiagnosticReport",
                    "id": id,
                    "meta": meta(&mut self.rng, "JP_DiagnosticReport_Common", issued),
                    "text": narrative(&format!("<p>{} {} 報告書</p><p>{}</p>", jdate(pt), p.1, p.2)),
                    "status": "final",
                    "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": p.5 }] }],
                    "code": { "coding": [{ "system": SYS_LOINC, "code": p.3, "display": p.4 }], "text": format!("{}報告書", p.1) },
                    "subject": self.subject(),
                    "encounter": enc_ref,
                    "effectiveDateTime": dt(pt),
                    "issued": instant(issued),
                    "performer": [org_ref],
                    "resultsInterpreter": [doc_ref],
                    "conclusion": p.2,
                }));
            }
        }

        // ---- prescriptions and pharmacy dispenses
        let mut rx: Vec<(String, usize, u32)> = Vec::new();
        let mut rp = 0;
        for (d, cid) in &treat {
            if !self.rng.gen_bool(0.5) {
                continue;
            }
            for &m in DISEASES[*d].meds {
                rp += 1;
                let id = self.next_id();
                let days = MEDS[m].days * if class == "IMP" { 1 } else { self.rng.gen_range(1..=3) };
                out.push(self.med_request(&id, m, rp, days, t, cid, &enc_ref, &doc_ref));
                rx.push((id, m, days));
            }
        }
        if let (Some(a), Some(cid)) = (acute, acute_cond.as_ref()) {
            for &m in DISEASES[a].meds {
                rp += 1;
                let id = self.next_id();
                out.push(self.med_request(&id, m, rp, MEDS[m].days, t, cid, &enc_ref, &doc_ref));
                rx.push((id, m, MEDS[m].days));
            }
        }
        if let Some(pi) = pharmacy {
            if class != "IMP" {
                let ph = &facs[pi];
                let pharmacist = &ph.pracs[0];
                let handed = end_t + TimeDelta::minutes(self.rng.gen_range(15..120));
                for (rid, m, days) in &rx {
                    let id = self.next_id();
                    out.push(self.med_dispense(&id, *m, *days, handed, rid, &enc_ref, ph, pharmacist));
                }
            }
        }

        // ---- immunizations
        let flu_season = t.month() >= 10 && t.year() != self.last_flu_year;
        if (flu_season && self.rng.gen_bool(0.7)) || self.rng.gen_bool(0.01) {
            let v = if flu_season { VACCINES[0] } else { *pick(&mut self.rng, &VACCINES[1..]) };
            if flu_season {
                self.last_flu_year = t.year();
            }
            let id = self.next_id();
            let lot = format!("{}{:05}", ["HK", "KM", "BK", "DN"][self.rng.gen_range(0..4)], self.rng.gen_range(0..99999));
            let (site_code, site_text) = if self.rng.gen_bool(0.5) { ("LA", "左上腕") } else { ("RA", "右上腕") };
            out.push(json!({
                "resourceType": "Immunization",
                "id": id,
                "meta": meta(&mut self.rng, "JP_Immunization", t),
                "text": narrative(&format!("<p>{} {} 接種（{}、ロット {}）</p>", jdate(t), v.2, site_text, lot)),
                "status": "completed",
                "vaccineCode": { "coding": [{ "system": SYS_YJ, "code": v.0, "display": v.2 }, { "system": SYS_CVX, "code": v.1 }], "text": v.2 },
                "patient": self.subject(),
                "encounter": enc_ref,
                "occurrenceDateTime": dt(t + TimeDelta::minutes(10)),
                "recorded": dt(t + TimeDelta::minutes(15)),
                "primarySource": true,
                "lotNumber": lot,
                "site": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActSite", "code": site_code }], "text": site_text },
                "route": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration", "code": if v.1 == "141" { "SC" } else { "IM" } }] },
                "doseQuantity": { "value": dec(v.3), "unit": "mL", "system": SYS_UCUM, "code": "mL" },
                "performer": [{ "actor": doc_ref }],
                "protocolApplied": [{ "doseNumberPositiveInt": 1 }],
            }));
        }

        // ---- clinical note
        if class != "AMB" || self.rng.gen_bool(0.25) {
            let (code, display, title) = match class {
                "IMP" => ("18842-5", "Discharge summary", "退院時サマリー"),
                "EMER" => ("34111-5", "Emergency department Note", "救急外来記録"),
                _ if self.rng.gen_bool(0.08) => ("57133-1", "Referral note", "診療情報提供書"),
                _ => ("11506-3", "Progress note", "外来診療記録"),
            };
            let mut text = String::with_capacity(512);
            text.push_str(&format!("{} {} {}\n", jdate(t), fac.name, fac.dept.1));
            text.push_str(pick::<&str>(&mut self.rng, NOTE_OPENINGS));
            text.push('\n');
            text.push_str(&format!("主訴: {}\n", match acute { Some(a) => DISEASES[a].name, None => *pick(&mut self.rng, SYMPTOMS) }));
            text.push_str(&format!("血圧 {sys}/{dia} mmHg、体温 {temp:.1}℃。\n"));
            for d in &visit_diseases {
                text.push_str(&format!("#{}: {}\n", DISEASES[*d].name, DISEASES[*d].note));
            }
            text.push_str(pick::<&str>(&mut self.rng, NOTE_PLANS));
            text.push_str(&format!("\n記載: {}", doc.name));
            let id = self.next_id();
            let when = end_t + TimeDelta::minutes(self.rng.gen_range(5..120));
            let summary: String = text.lines().take(4).map(esc).collect::<Vec<_>>().join("</p><p>");
            out.push(json!({
                "resourceType": "DocumentReference",
                "id": id,
                "meta": meta(&mut self.rng, "JP_DocumentReference", when),
                "text": narrative(&format!("<p>{}</p><p>{}</p>", title, summary)),
                "status": "current",
                "docStatus": "final",
                "type": { "coding": [{ "system": SYS_LOINC, "code": code, "display": display }], "text": title },
                "category": [{ "text": "診療記録" }],
                "subject": self.subject(),
                "date": instant(when),
                "author": [doc_ref],
                "custodian": org_ref,
                "description": format!("{} {}", title, jdate(t)),
                "content": [{
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "language": "ja",
                        "data": base64(text.as_bytes()),
                        "title": title,
                        "creation": dt(when),
                    }
                }],
                "context": { "encounter": [enc_ref], "period": { "start": dt(t), "end": dt(end_t) } },
            }));
        }

        if class == "IMP" {
            self.t = end_t;
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn condition(&mut self, id: &str, d: &Disease, category: &str, t: NaiveDateTime, abate: Option<NaiveDateTime>, enc: &Value, doc: &Value) -> Value {
        let mut c = json!({
            "resourceType": "Condition",
            "id": id,
            "meta": meta(&mut self.rng, "JP_Condition", t),
            "text": narrative(&format!("<p>{}（ICD-10: {}）</p><p>{}発症 {}</p>", d.name, d.icd10, jdate(t), if abate.is_some() { "治癒" } else { "継続中" })),
            "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": if abate.is_some() { "resolved" } else { "active" } }] },
            "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed" }] },
            "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": category }] }],
            "code": {
                "coding": [
                    { "system": SYS_MEDIS_DISEASE_EXCODE, "code": d.excode, "display": d.name },
                    { "system": SYS_MEDIS_DISEASE_KEYNO, "code": d.keyno, "display": d.name },
                    { "system": SYS_ICD10, "code": d.icd10, "display": d.icd10_display },
                ],
                "text": d.name,
            },
            "subject": self.subject(),
            "encounter": enc,
            "onsetDateTime": date(t),
        });
        if let Some(a) = abate {
            c["abatementDateTime"] = json!(date(a));
        }
        c["recordedDate"] = json!(dt(t));
        c["recorder"] = doc.clone();
        c["note"] = json!([{ "text": d.note }]);
        c
    }

    fn vital_common(&mut self, id: &str, t: NaiveDateTime, body: String) -> Value {
        json!({
            "resourceType": "Observation",
            "id": id,
            "meta": meta(&mut self.rng, "JP_Observation_VitalSigns", t),
            "text": narrative(&body),
            "status": "final",
            "category": [{ "coding": [
                { "system": SYS_OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs" },
                { "system": SYS_JP_OBS_CATEGORY, "code": "vital-signs" },
            ] }],
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn vital(&mut self, id: &str, t: NaiveDateTime, loinc: &str, loinc_display: &str, name: &str, value: Value, value_text: &str, unit: &str, ucum: &str, enc: &Value, doc: &Value) -> Value {
        let mut v = self.vital_common(id, t, format!("<p>{} {}: {} {}</p>", jdate(t), name, value_text, unit));
        v["code"] = json!({ "coding": [{ "system": SYS_LOINC, "code": loinc, "display": loinc_display }], "text": name });
        self.vital_tail(&mut v, t, enc, doc);
        v["valueQuantity"] = json!({ "value": value, "unit": unit, "system": SYS_UCUM, "code": ucum });
        v
    }

    fn vital_bp(&mut self, id: &str, t: NaiveDateTime, sys: i64, dia: i64, enc: &Value, doc: &Value) -> Value {
        let mut v = self.vital_common(id, t, format!("<p>{} 血圧: {}/{} mmHg</p>", jdate(t), sys, dia));
        v["code"] = json!({ "coding": [{ "system": SYS_LOINC, "code": "85354-9", "display": "Blood pressure panel with all children optional" }], "text": "血圧" });
        self.vital_tail(&mut v, t, enc, doc);
        let interp = if sys >= 140 || dia >= 90 { Some(("H", "High")) } else { None };
        v["component"] = json!([
            {
                "code": { "coding": [{ "system": SYS_LOINC, "code": "8480-6", "display": "Systolic blood pressure" }], "text": "収縮期血圧" },
                "valueQuantity": { "value": sys, "unit": "mmHg", "system": SYS_UCUM, "code": "mm[Hg]" },
            },
            {
                "code": { "coding": [{ "system": SYS_LOINC, "code": "8462-4", "display": "Diastolic blood pressure" }], "text": "拡張期血圧" },
                "valueQuantity": { "value": dia, "unit": "mmHg", "system": SYS_UCUM, "code": "mm[Hg]" },
            },
        ]);
        if let Some((c, d)) = interp {
            v["interpretation"] = json!([{ "coding": [{ "system": SYS_INTERPRETATION, "code": c, "display": d }] }]);
        }
        v
    }

    fn vital_tail(&mut self, v: &mut Value, t: NaiveDateTime, enc: &Value, doc: &Value) {
        v["subject"] = self.subject();
        v["encounter"] = enc.clone();
        v["effectiveDateTime"] = json!(dt(t));
        if self.rng.gen_bool(0.3) {
            v["_effectiveDateTime"] = json!({ "extension": [{ "url": EXT_TZ_CODE, "valueCode": "Asia/Tokyo" }] });
        }
        v["performer"] = json!([doc]);
    }

    #[allow(clippy::too_many_arguments)]
    fn lab(&mut self, id: &str, l: usize, fac: &Facility, drawn: NaiveDateTime, issued: NaiveDateTime, enc: &Value, diseases: &[usize]) -> (Value, Option<String>) {
        let lab = &LABS[l];
        let mut mean = lab.mean;
        if let Some((d, shift)) = lab.shifted_by {
            if diseases.contains(&d) {
                mean += shift;
            }
        }
        let raw = normal(&mut self.rng, mean, lab.sd).max(if lab.decimals == 0 { 1.0 } else { 0.01 });
        let (value, text) = dec_f(raw, lab.decimals);
        let v: f64 = text.parse().unwrap();
        let (lo, hi): (f64, f64) = (lab.low.parse().unwrap(), lab.high.parse().unwrap());
        let flag = if v > hi { Some(("H", "High")) } else if v < lo { Some(("L", "Low")) } else { None };
        let mut o = json!({
            "resourceType": "Observation",
            "id": id,
            "meta": meta(&mut self.rng, "JP_Observation_LabResult", issued),
            "text": narrative(&format!(
                "<p>{} {}: {} {}{}（基準値 {}-{}）</p>",
                jdate(drawn), esc(lab.name), text, esc(lab.unit), flag.map(|f| format!(" {}", f.0)).unwrap_or_default(), lab.low, lab.high
            )),
            "identifier": [{ "system": "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier", "value": format!("{}-{}-{}", fac.inst10, self.seq, lab.local) }],
            "status": "final",
            "category": [{ "coding": [
                { "system": SYS_OBS_CATEGORY, "code": "laboratory", "display": "Laboratory" },
                { "system": SYS_JP_OBS_CATEGORY, "code": "laboratory" },
            ] }],
            "code": {
                "coding": [
                    { "system": format!("urn:oid:1.2.392.200119.6.102.1{}", fac.inst10), "code": lab.local, "display": lab.name },
                    { "system": SYS_JLAC10, "code": lab.jlac10, "display": lab.name },
                    { "system": SYS_LOINC, "code": lab.loinc, "display": lab.loinc_display },
                ],
                "text": lab.name,
            },
            "subject": self.subject(),
            "encounter": enc,
            "effectiveDateTime": dt(drawn),
            "issued": instant(issued),
            "performer": [reference_d("Organization", &fac.id, &fac.name)],
            "valueQuantity": { "value": value, "unit": lab.unit, "system": SYS_UCUM, "code": lab.ucum },
        });
        if let Some((c, d)) = flag {
            o["interpretation"] = json!([{ "coding": [{ "system": SYS_INTERPRETATION, "code": c, "display": d }], "text": c }]);
        }
        o["referenceRange"] = json!([{
            "low": { "value": dec(lab.low), "unit": lab.unit, "system": SYS_UCUM, "code": lab.ucum },
            "high": { "value": dec(lab.high), "unit": lab.unit, "system": SYS_UCUM, "code": lab.ucum },
            "text": format!("{}-{} {}", lab.low, lab.high, lab.unit),
        }]);
        let note = flag.map(|f| format!("{} {} {}（{}）", lab.name, text, lab.unit, if f.0 == "H" { "高値" } else { "低値" }));
        (o, note)
    }

    #[allow(clippy::too_many_arguments)]
    fn med_request(&mut self, id: &str, m: usize, rp: usize, days: u32, t: NaiveDateTime, cond_id: &str, enc: &Value, doc: &Value) -> Value {
        let med = &MEDS[m];
        let per_day = format!("{}", med.dose.parse::<f64>().unwrap() * f64::from(med.times_per_day));
        let total_s = med_total(med, days);
        let status = if t + TimeDelta::days(i64::from(days)) < self.end { "completed" } else { "active" };
        json!({
            "resourceType": "MedicationRequest",
            "id": id,
            "meta": meta(&mut self.rng, "JP_MedicationRequest", t),
            "text": narrative(&format!(
                "<p>{} 処方: {}</p><p>{} 1回{}{} {}日分</p>",
                jdate(t), esc(med.name), esc(med.usage_text), med.dose, med.unit, days
            )),
            "identifier": [{ "system": SYS_RP_GROUP, "value": rp.to_string() }],
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": med_concept(med),
            "subject": self.subject(),
            "encounter": enc,
            "authoredOn": dt(t),
            "requester": doc,
            "reasonReference": [reference("Condition", cond_id)],
            "dosageInstruction": [{
                "text": med.usage_text,
                "timing": { "code": { "coding": [{ "system": SYS_JAMI_USAGE, "code": med.usage_code }], "text": med.usage_text } },
                "route": { "coding": [{ "system": SYS_ROUTE, "code": med.route.0, "display": med.route.1 }] },
                "doseAndRate": [{
                    "doseQuantity": { "value": dec(med.dose), "unit": med.unit, "system": SYS_MERIT9_UNIT, "code": med.unit_code },
                    "rateRatio": {
                        "numerator": { "value": dec(&per_day), "unit": med.unit, "system": SYS_MERIT9_UNIT, "code": med.unit_code },
                        "denominator": { "value": 1, "unit": "日", "system": SYS_UCUM, "code": "d" },
                    },
                }],
            }],
            "dispenseRequest": {
                "quantity": { "value": dec(&total_s), "unit": med.unit, "system": SYS_MERIT9_UNIT, "code": med.unit_code },
                "expectedSupplyDuration": { "value": days, "unit": "日", "system": SYS_UCUM, "code": "d" },
            },
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn med_dispense(&mut self, id: &str, m: usize, days: u32, handed: NaiveDateTime, rx_id: &str, enc: &Value, ph: &Facility, pharmacist: &Practitioner) -> Value {
        let med = &MEDS[m];
        let total_s = med_total(med, days);
        let prepared = handed - TimeDelta::minutes(self.rng.gen_range(5..30));
        json!({
            "resourceType": "MedicationDispense",
            "id": id,
            "meta": meta(&mut self.rng, "JP_MedicationDispense", handed),
            "text": narrative(&format!("<p>{} 調剤: {} {}{}（{}日分）</p><p>{}</p>", jdate(handed), esc(med.name), total_s, med.unit, days, esc(&ph.name))),
            "status": "completed",
            "medicationCodeableConcept": med_concept(med),
            "subject": self.subject(),
            "context": enc,
            "performer": [
                { "actor": reference_d("Practitioner", &pharmacist.id, &pharmacist.name) },
                { "actor": reference_d("Organization", &ph.id, &ph.name) },
            ],
            "authorizingPrescription": [reference("MedicationRequest", rx_id)],
            "quantity": { "value": dec(&total_s), "unit": med.unit, "system": SYS_MERIT9_UNIT, "code": med.unit_code },
            "daysSupply": { "value": days, "unit": "日", "system": SYS_UCUM, "code": "d" },
            "whenPrepared": dt(prepared),
            "whenHandedOver": dt(handed),
            "dosageInstruction": [{ "text": med.usage_text }],
        })
    }
}

impl Iterator for PersonGen {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(v) = self.queue.pop_front() {
                return Some(v);
            }
            if self.budget_left == 0 {
                return None;
            }
            match self.stage {
                0 => {
                    self.stage = 1;
                    self.budget_left -= 1;
                    return Some(self.patient());
                }
                1 => {
                    self.stage = 2;
                    let shared = shared_resources(&self.facs, self.seed);
                    self.budget_left = self.budget_left.saturating_sub(shared.len());
                    self.queue.extend(shared);
                }
                _ => {
                    let mut g = self.gen_group();
                    g.truncate(self.budget_left);
                    self.budget_left -= g.len();
                    self.queue.extend(g);
                }
            }
        }
    }
}

/// The medicine as HOT9 and YJ codings (the same in a prescription and its dispense).
fn med_concept(med: &Med) -> Value {
    json!({
        "coding": [
            { "system": SYS_HOT9, "code": med.hot9, "display": med.name },
            { "system": SYS_YJ, "code": med.yj, "display": med.name },
        ],
        "text": med.name,
    })
}

/// The total amount for `days` days, as written on a prescription: grams to one decimal,
/// other units as whole numbers.
fn med_total(med: &Med, days: u32) -> String {
    let total = med.dose.parse::<f64>().unwrap() * f64::from(med.times_per_day) * f64::from(days);
    if med.unit_code == "g" {
        format!("{total:.1}")
    } else {
        format!("{}", total.round() as i64)
    }
}
