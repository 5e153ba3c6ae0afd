//! techo-gen: deterministic synthetic multi-facility FHIR R4 records.
//!
//! * Japanese patients (kanji + kana names as JP Core does with the
//!   `iso21090-EN-representation` IDE/SYL extension), Japanese narratives and notes.
//! * Several facilities (hospitals, clinics, pharmacies) each with its own MRN system
//!   `urn:oid:1.2.392.100495.20.3.51.1<institution no.>`.
//! * JP Core code systems: MEDIS disease exchange codes / key numbers, ICD-10, JLAC10 and
//!   LOINC for labs, LOINC + UCUM for vitals, HOT9 and YJ for medications, JFAGY for food
//!   allergens, CVX for vaccines.
//! * Exact decimals (`1.50`, `0.80`) and `_`-primitive extensions (`_birthDate`,
//!   `_effectiveDateTime`).
//!
//! Output is a pure function of [`GenConfig`]: the same config gives byte-identical
//! output. Generation streams: memory is bounded by one visit group, whatever the size.
//!
//! Stream layout, per person, in order: the Patient; the facilities' Organizations and
//! Practitioners (the same ids and content for every person, as they are the same
//! real-world facilities); then visits in chronological order, each an Encounter
//! followed by what was recorded at it. Persons follow one another. References always
//! point to resources earlier in the same person's stream.

mod data;
mod person;

use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use serde_json::Value;

pub use person::BASE_URL;
use person::{build_facilities, min_person_budget, uuid, PersonGen};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenConfig {
    pub seed: u64,
    /// Number of persons (each gets one Patient and their own record).
    pub persons: usize,
    /// Total resources across all persons. Exact, as long as every person's share is at
    /// least [`GenConfig::min_resources_per_person`]; a smaller share is raised to it.
    pub resources: usize,
    /// Facilities (hospital, clinic, pharmacy, hospital, clinic, pharmacy, …). Default 4.
    pub facilities: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig { seed: 42, persons: 1, resources: 1000, facilities: 4 }
    }
}

impl GenConfig {
    pub fn new(seed: u64, persons: usize, resources: usize) -> Self {
        GenConfig { seed, persons, resources, ..Default::default() }
    }

    /// The smallest record of one person: Patient + the facilities' Organizations and
    /// Practitioners + one Encounter.
    pub fn min_resources_per_person(&self) -> usize {
        min_person_budget(&build_facilities(self.seed, self.facilities))
    }

    /// How many resources person `i` gets (what [`write_person`] writes for it).
    pub fn person_resources(&self, i: usize) -> usize {
        if i >= self.persons {
            return 0;
        }
        let base = self.resources / self.persons;
        let extra = usize::from(i < self.resources % self.persons);
        (base + extra).max(self.min_resources_per_person())
    }

    /// How many resources [`write`] writes in all.
    pub fn total_resources(&self) -> u64 {
        (0..self.persons).map(|i| self.person_resources(i) as u64).sum()
    }

    /// The id of person `i`'s Patient resource.
    pub fn patient_id(&self, i: usize) -> String {
        uuid(self.seed, i as u64 + 1, 0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenFormat {
    /// One resource per line.
    Ndjson,
    /// One `collection` Bundle (entries with `fullUrl` under [`BASE_URL`]).
    Bundle,
}

/// The resources of all persons, in the order [`write`] writes them.
pub fn resources(cfg: &GenConfig) -> impl Iterator<Item = Value> + Send + 'static {
    let facs = Arc::new(build_facilities(cfg.seed, cfg.facilities));
    let cfg = cfg.clone();
    (0..cfg.persons).flat_map(move |i| PersonGen::new(cfg.seed, i, cfg.person_resources(i), facs.clone()))
}

/// The resources of person `person_index` alone (Patient first), as [`write_person`] writes them.
pub fn person_resources(cfg: &GenConfig, person_index: usize) -> impl Iterator<Item = Value> + Send + 'static {
    let facs = Arc::new(build_facilities(cfg.seed, cfg.facilities));
    let n = if person_index < cfg.persons { 1 } else { 0 };
    let cfg = cfg.clone();
    (0..n).flat_map(move |_| PersonGen::new(cfg.seed, person_index, cfg.person_resources(person_index), facs.clone()))
}

/// Streams all persons' resources to `out`, constant memory whatever the size.
/// Returns the number of resources written.
pub fn write(cfg: &GenConfig, format: GenFormat, out: &mut dyn Write) -> io::Result<u64> {
    let bundle_id = uuid(cfg.seed, u64::MAX, 0);
    write_iter(resources(cfg), &bundle_id, format, out)
}

/// Streams one person's record (exactly that person's Patient and resources, with the
/// facilities they reference) to `out`. Returns the number of resources written.
pub fn write_person(cfg: &GenConfig, person_index: usize, format: GenFormat, out: &mut dyn Write) -> io::Result<u64> {
    let bundle_id = uuid(cfg.seed, u64::MAX, person_index as u64 + 1);
    write_iter(person_resources(cfg, person_index), &bundle_id, format, out)
}

fn write_iter(it: impl Iterator<Item = Value>, bundle_id: &str, format: GenFormat, out: &mut dyn Write) -> io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 18, out);
    let mut n = 0u64;
    match format {
        GenFormat::Ndjson => {
            for r in it {
                serde_json::to_writer(&mut w, &r)?;
                w.write_all(b"\n")?;
                n += 1;
            }
        }
        GenFormat::Bundle => {
            write!(
                w,
                "{{\"resourceType\":\"Bundle\",\"id\":\"{bundle_id}\",\"meta\":{{\"lastUpdated\":\"2025-11-01T09:00:00.000+09:00\"}},\
                 \"type\":\"collection\",\"timestamp\":\"2025-11-01T09:00:00+09:00\",\"entry\":["
            )?;
            for r in it {
                let rtype = r["resourceType"].as_str().unwrap_or("Resource");
                let id = r["id"].as_str().unwrap_or("");
                if n > 0 {
                    w.write_all(b",")?;
                }
                write!(w, "\n{{\"fullUrl\":\"{BASE_URL}{rtype}/{id}\",\"resource\":")?;
                serde_json::to_writer(&mut w, &r)?;
                w.write_all(b"}")?;
                n += 1;
            }
            w.write_all(b"\n]}\n")?;
        }
    }
    w.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests;
