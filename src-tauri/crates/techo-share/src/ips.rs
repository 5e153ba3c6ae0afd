//! The International Patient Summary (IPS) of one person, built from everything of theirs that
//! consent lets out: [`build_ips`] turns any number of resources of any type, from any number of
//! facilities, into one FHIR **document Bundle** shaped by the IPS implementation guide
//! (hl7.org/fhir/uv/ips, `Bundle-uv-ips` / `Composition-uv-ips`), or into its Japanese variant
//! covering the six items Japan's 電子カルテ情報共有サービス shares ([`IpsVariant::JpSix`]).
//!
//! **What is selected** (see the constants for the bounds):
//! - problems (11450-4): Conditions whose status is current (active, recurrence, relapse, or no
//!   status and no abatement); the others go to the history of past illness (11348-0);
//! - medications (10160-0): MedicationStatements (active, intended, on-hold) and MedicationRequests
//!   (active, on-hold), with the Medication resources they reference;
//! - allergies (48765-2): every AllergyIntolerance (drug contraindications included);
//! - immunizations (11369-6): all, newest first (at most [`MAX_IMMUNIZATIONS`]);
//! - results (30954-2): laboratory, imaging and procedure Observations: the latest
//!   [`RESULTS_PER_CODE`] per test code taken within [`RESULTS_WINDOW_DAYS`] of the record's latest
//!   result, for at most [`MAX_RESULT_CODES`] test codes;
//! - vital signs (8716-3): the latest [`VITALS_PER_CODE`] per code;
//! - procedures (47519-4): the latest [`PROCEDURES_PER_CODE`] per code, for at most
//!   [`MAX_PROCEDURE_CODES`] codes;
//! - devices (46264-8): DeviceUseStatements; plan of care (18776-5): active CarePlans; social
//!   history (29762-2) and pregnancy (10162-6): the latest Observation per code.
//!
//! **The six-item variant** ([`IpsVariant::JpSix`], 患者サマリー): 傷病名 (confirmed diagnoses,
//! current first), アレルギー (allergies that are not contraindications), 薬剤禁忌
//! (AllergyIntolerances with category `medication` and criticality `high`, as JP-CLINS marks
//! them), 感染症 (the HBs, HCV, HIV and syphilis tests JP-CLINS lists, by its JLAC10 codes or
//! LOINC: the latest [`RESULTS_PER_CODE`] per code, whatever their age), 検査 (the other
//! laboratory results, bounded as results are) and 処方 (the latest MedicationRequest of each
//! medicine, any status but draft, within [`PRESCRIPTIONS_WINDOW_DAYS`], at most
//! [`MAX_PRESCRIPTIONS`]). All six sections are always present. It is not an IPS (no LOINC
//! section codes, no IPS profile) but the same kind of document Bundle.
//!
//! Entered-in-error (and refuted, cancelled) records are never selected. The three required
//! sections are always present; when one has nothing, it carries `emptyReason` `unavailable`
//! (IPS `ips-comp-1`); optional sections are left out when empty.
//!
//! **Duplicates** (the same condition, allergy substance, medication, vaccination or result
//! recorded by several facilities under different ids) are merged: records sharing any coding
//! (`system|code`; the text when uncoded) form one group, whose most relevant member (current
//! before past, high criticality first, then the most recent, then the most complete) stands for
//! all; references to any member lead to it, and its sources are all the members' sources.
//!
//! **References.** Every reference in every included resource (walked through the whole JSON,
//! contained resources too) is rewritten to the `urn:uuid:` fullUrl of the entry it points at
//! (`Type/id`, absolute URLs, `urn:uuid:` ids and conditional `Type?identifier=system|value`
//! references are understood). Practitioners, PractitionerRoles, Organizations, Medications,
//! Devices, Substances and Specimens that selected resources reference are included; a reference
//! to anything else that is not in the document (an Encounter, an older result) becomes a
//! display-only reference (`reference` dropped, `display` kept or set to a short "not included"
//! text). `#contained` references stay. The subject/patient of every clinical resource is the one
//! merged Patient (all input is one person's).
//!
//! **The Patient.** All Patient resources are merged onto the most complete one: identifiers,
//! names (kanji and kana as JP Core's `iso21090-EN-representation` IDE/SYL name extensions),
//! telecoms, addresses and communications are united without duplicates; missing elements are
//! taken from the others.
//!
//! **Sources.** One Provenance per facility name: `target` the entries that came from it,
//! `agent[0].who.display` the facility's name, `recorded` the document's timestamp.
//!
//! **Determinism.** Output is a pure function of the input and the options: the fullUrls are
//! UUIDs derived (SHA-256) from the caller's document id and each entry's identity, and nothing
//! reads a clock. IO-free: no files, no network, no printing. Errors never hold health data.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::{Lang, WITHHELD_TAG_CODE, WITHHELD_TAG_SYSTEM};

// ------------------------------------------------------------------ public API

/// One input resource and the names of the facilities it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct SourcedResource {
    pub resource: Value,
    /// Facility names (as the person knows them). Each becomes a Provenance.
    pub sources: Vec<String>,
}

/// Gathers one person's records for [`build_ips`] in bounded memory, whatever the record's
/// size: only the resource types a summary can use are parsed and kept, and of the kinds that
/// repeat (observations, prescriptions and medication statements, procedures) only the latest
/// [`KEEP_PER_CODE`] per code — a superset of what any section selects
/// ([`RESULTS_PER_CODE`], [`VITALS_PER_CODE`], [`PROCEDURES_PER_CODE`], the latest prescription
/// per medicine). A record of 100,000 resources then needs a few thousand in memory.
#[derive(Default)]
pub struct IpsCollector {
    kept: Vec<(i64, SourcedResource)>,
    /// Per (type, code): the latest resources, as (date, key, resource), newest last.
    repeating: HashMap<(String, String), Vec<Dated>>,
    offered: u64,
}

/// A collected record with its date (for keeping the latest) and the caller's key.
type Dated = (String, i64, SourcedResource);

/// How many of each repeating kind of record, per code, the collector keeps.
pub const KEEP_PER_CODE: usize = 20;

/// The resource types a summary reads (its sections' entries and what they point at).
const COLLECTED: &[&str] = &[
    "Patient", "Condition", "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Medication", "Immunization", "Observation",
    "Procedure", "DeviceUseStatement", "Device", "CarePlan", "Practitioner", "PractitionerRole", "Organization", "Substance", "Specimen",
];

impl IpsCollector {
    pub fn new() -> IpsCollector {
        IpsCollector::default()
    }

    /// Offers one record (its JSON text, as stored) under the caller's `key` (e.g. its record
    /// id). Records of other types are not parsed. A record that is not a JSON object is an
    /// error naming its position among those offered.
    pub fn offer(&mut self, key: i64, resource_type: &str, text: &str, sources: Vec<String>) -> Result<(), IpsError> {
        let index = self.offered as usize;
        self.offered += 1;
        if !COLLECTED.contains(&resource_type) {
            return Ok(());
        }
        let resource: Value = serde_json::from_str(text).map_err(|_| IpsError::NotAResource { index })?;
        if !resource.is_object() {
            return Err(IpsError::NotAResource { index });
        }
        // Immunizations are kept whole: a history the summary shows up to its own cap.
        let repeating = matches!(resource_type, "Observation" | "MedicationRequest" | "MedicationStatement" | "Procedure");
        let item = SourcedResource { resource, sources };
        if !repeating {
            self.kept.push((key, item));
            return Ok(());
        }
        let r = &item.resource;
        let concept = ["code", "medicationCodeableConcept", "vaccineCode"].iter().find_map(|k| r.get(*k));
        let code = concept
            .and_then(|c| {
                c.get("coding").and_then(Value::as_array).and_then(|cs| cs.first()).map(|c| {
                    format!("{}|{}", c.get("system").and_then(Value::as_str).unwrap_or(""), c.get("code").and_then(Value::as_str).unwrap_or(""))
                })
            })
            .or_else(|| concept.and_then(|c| c.get("text")).and_then(Value::as_str).map(str::to_owned))
            .or_else(|| r.pointer("/medicationReference/reference").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        let date = ["effectiveDateTime", "effectiveInstant", "issued", "authoredOn", "occurrenceDateTime", "performedDateTime", "dateAsserted", "recorded"]
            .iter()
            .find_map(|k| r.get(*k).and_then(Value::as_str))
            .or_else(|| ["effectivePeriod", "performedPeriod"].iter().find_map(|k| r.get(*k).and_then(|p| p.get("start")).and_then(Value::as_str)))
            .unwrap_or("")
            .to_owned();
        let slot = self.repeating.entry((resource_type.to_owned(), code)).or_default();
        let at = slot.partition_point(|(d, _, _)| d.as_str() <= date.as_str());
        slot.insert(at, (date, key, item));
        if slot.len() > KEEP_PER_CODE {
            slot.remove(0);
        }
        Ok(())
    }

    /// How many records were offered.
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// The records kept, for [`build_ips`], with their keys at the same positions (in a
    /// stable order: the others as offered, then the repeating kinds by type and code, oldest
    /// first).
    pub fn into_input(self) -> (Vec<SourcedResource>, Vec<i64>) {
        let mut groups: Vec<_> = self.repeating.into_iter().collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let (mut keys, mut out): (Vec<i64>, Vec<SourcedResource>) = self.kept.into_iter().unzip();
        for (_, slot) in groups {
            for (_, k, r) in slot {
                keys.push(k);
                out.push(r);
            }
        }
        (out, keys)
    }
}

/// Which document to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum IpsVariant {
    /// The International Patient Summary (IPS IG sections, LOINC codes, `Composition-uv-ips`).
    #[default]
    Ips,
    /// 患者サマリー: the six items of Japan's 電子カルテ情報共有サービス (傷病名, アレルギー,
    /// 薬剤禁忌, 感染症, 検査, 処方) with JP-CLINS section codes. Always in Japanese: `lang` is
    /// not used for it.
    JpSix,
}

/// How to build the document. Everything that would otherwise come from the environment (the
/// time, an id) is given here, so the same input always gives the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpsOptions {
    /// The language of titles and narrative (`IpsVariant::JpSix` is always Japanese).
    pub lang: Lang,
    pub variant: IpsVariant,
    /// When the document is made: an RFC 3339 date-time with seconds and a time zone
    /// (`Bundle.timestamp`, `Composition.date`, `Provenance.recorded`).
    pub timestamp: String,
    /// A UUID (`8-4-4-4-12` hex) naming the document (`Bundle.identifier`); every entry's
    /// fullUrl is derived from it.
    pub document_id: String,
    /// The person's consent held something back: the Bundle gets the withheld tag and the
    /// Composition a section saying so (never what).
    pub withheld: bool,
    /// Who made the document (`Composition.author` display), e.g. "Techo".
    pub author: String,
}

/// Why no document was built. The messages are plain sentences without any health data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpsError {
    #[error("there is no Patient resource among the records; a patient summary needs the person it is about")]
    NoPatient,
    #[error("input record {index} is not a FHIR resource (it has no resourceType)")]
    NotAResource { index: usize },
    #[error("the timestamp is not an RFC 3339 date-time with seconds and a time zone")]
    BadTimestamp,
    #[error("the document id is not a UUID")]
    BadDocumentId,
    #[error("the author is empty")]
    NoAuthor,
}

impl IpsError {
    /// A stable code (for IPC and exit codes).
    pub fn code(&self) -> &'static str {
        match self {
            IpsError::NoPatient => "no_patient",
            IpsError::NotAResource { .. } => "not_a_resource",
            IpsError::BadTimestamp => "bad_timestamp",
            IpsError::BadDocumentId => "bad_document_id",
            IpsError::NoAuthor => "no_author",
        }
    }
}

/// Results kept per test code (the latest ones).
pub const RESULTS_PER_CODE: usize = 3;
/// Results older than this many days before the record's latest result are left out.
pub const RESULTS_WINDOW_DAYS: i64 = 3 * 365 + 1;
/// At most this many test codes (the most recently measured) in the results section.
pub const MAX_RESULT_CODES: usize = 100;
/// Vital signs kept per code (the latest).
pub const VITALS_PER_CODE: usize = 1;
/// Procedures kept per code (the latest).
pub const PROCEDURES_PER_CODE: usize = 3;
/// At most this many procedure codes (the most recent).
pub const MAX_PROCEDURE_CODES: usize = 100;
/// At most this many immunizations (the most recent).
pub const MAX_IMMUNIZATIONS: usize = 200;
/// JpSix 処方: prescriptions (the latest per medicine) older than this many days before the
/// record's latest prescription are left out.
pub const PRESCRIPTIONS_WINDOW_DAYS: i64 = 3 * 365 + 1;
/// JpSix 処方: at most this many medicines.
pub const MAX_PRESCRIPTIONS: usize = 100;

pub const LOINC: &str = "http://loinc.org";
/// JP-CLINS 電子カルテ情報共有サービス文書共通セクション区分コード.
pub const JP_CLINS_SECTION_SYSTEM: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
/// Techo's own section codes (the withheld section; 薬剤禁忌, which JP-CLINS carries inside its
/// allergy section and has no code of its own for).
pub const TECHO_SECTION_SYSTEM: &str = "urn:techo:section";
pub const IPS_COMPOSITION_PROFILE: &str = "http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips";
pub const IPS_BUNDLE_PROFILE: &str = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips";
pub const EMPTY_REASON_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/list-empty-reason";
/// The LOINC code of a patient summary document (`Composition.type`).
pub const PATIENT_SUMMARY_LOINC: &str = "60591-5";

/// A section of the document: its codes, titles and what its entries may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionSpec {
    pub key: &'static str,
    /// `(system, code, display)`; the first is the section's identifying code.
    pub codings: &'static [(&'static str, &'static str, &'static str)],
    pub title_en: &'static str,
    pub title_ja: &'static str,
    /// Present in every document (with `emptyReason` when there is nothing).
    pub required: bool,
    /// Resource types its entries may reference.
    pub entry_types: &'static [&'static str],
}

impl SectionSpec {
    pub fn system(&self) -> &'static str {
        self.codings[0].0
    }
    pub fn code(&self) -> &'static str {
        self.codings[0].1
    }
    pub fn title(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.title_en,
            Lang::Ja => self.title_ja,
        }
    }
}

const MEDS_TYPES: &[&str] = &["MedicationStatement", "MedicationRequest", "MedicationAdministration", "MedicationDispense", "DocumentReference"];

/// The IPS sections (Composition-uv-ips slices) this builder writes, in document order.
pub const IPS_SECTIONS: &[SectionSpec] = &[
    SectionSpec { key: "problems", codings: &[(LOINC, "11450-4", "Problem list - Reported")], title_en: "Active Problems", title_ja: "現在の問題", required: true, entry_types: &["Condition", "DocumentReference"] },
    SectionSpec { key: "medications", codings: &[(LOINC, "10160-0", "History of Medication use Narrative")], title_en: "Medication Summary", title_ja: "服薬サマリー", required: true, entry_types: MEDS_TYPES },
    SectionSpec { key: "allergies", codings: &[(LOINC, "48765-2", "Allergies and adverse reactions Document")], title_en: "Allergies and Intolerances", title_ja: "アレルギー・不耐性", required: true, entry_types: &["AllergyIntolerance", "DocumentReference"] },
    SectionSpec { key: "immunizations", codings: &[(LOINC, "11369-6", "History of Immunization Narrative")], title_en: "Immunizations", title_ja: "予防接種歴", required: false, entry_types: &["Immunization", "DocumentReference"] },
    SectionSpec { key: "results", codings: &[(LOINC, "30954-2", "Relevant diagnostic tests/laboratory data Narrative")], title_en: "Results", title_ja: "検査結果", required: false, entry_types: &["Observation", "DiagnosticReport", "Media", "DocumentReference"] },
    SectionSpec { key: "vital-signs", codings: &[(LOINC, "8716-3", "Vital signs")], title_en: "Vital Signs", title_ja: "バイタルサイン", required: false, entry_types: &["Observation", "DocumentReference"] },
    SectionSpec { key: "procedures", codings: &[(LOINC, "47519-4", "History of Procedures Document")], title_en: "History of Procedures", title_ja: "処置歴", required: false, entry_types: &["Procedure", "DocumentReference"] },
    SectionSpec { key: "past-illness", codings: &[(LOINC, "11348-0", "History of Past illness Narrative")], title_en: "History of Past Illness", title_ja: "既往歴", required: false, entry_types: &["Condition", "DocumentReference"] },
    SectionSpec { key: "devices", codings: &[(LOINC, "46264-8", "History of medical device use")], title_en: "Medical Devices", title_ja: "医療機器", required: false, entry_types: &["DeviceUseStatement", "DocumentReference"] },
    SectionSpec { key: "plan-of-care", codings: &[(LOINC, "18776-5", "Plan of care note")], title_en: "Plan of Care", title_ja: "診療計画", required: false, entry_types: &["CarePlan", "DocumentReference"] },
    SectionSpec { key: "social-history", codings: &[(LOINC, "29762-2", "Social history Narrative")], title_en: "Social History", title_ja: "社会歴・生活習慣", required: false, entry_types: &["Observation", "DocumentReference"] },
    SectionSpec { key: "pregnancy", codings: &[(LOINC, "10162-6", "History of pregnancies Narrative")], title_en: "History of Pregnancy", title_ja: "妊娠歴", required: false, entry_types: &["Observation", "DocumentReference"] },
];

/// The six sections of [`IpsVariant::JpSix`], in document order. Codes from JP-CLINS's
/// `document-section` code system (340 傷病名・主訴, 510 アレルギー・不耐性反応, 520 感染症情報,
/// 620 検査結果, 430 投薬指示); 薬剤禁忌 has no JP-CLINS section of its own (JP-CLINS records it as
/// an AllergyIntolerance with category `medication` and criticality `high`), so it has Techo's.
pub const JP_SIX_SECTIONS: &[SectionSpec] = &[
    SectionSpec { key: "jp-diagnoses", codings: &[(JP_CLINS_SECTION_SYSTEM, "340", "傷病名・主訴セクション")], title_en: "Diagnoses", title_ja: "傷病名", required: true, entry_types: &["Condition"] },
    SectionSpec { key: "jp-allergies", codings: &[(JP_CLINS_SECTION_SYSTEM, "510", "アレルギー・不耐性反応セクション")], title_en: "Allergies", title_ja: "アレルギー", required: true, entry_types: &["AllergyIntolerance"] },
    SectionSpec { key: "jp-contraindications", codings: &[(TECHO_SECTION_SYSTEM, "drug-contraindications", "薬剤禁忌")], title_en: "Drug contraindications", title_ja: "薬剤禁忌", required: true, entry_types: &["AllergyIntolerance"] },
    SectionSpec { key: "jp-infections", codings: &[(JP_CLINS_SECTION_SYSTEM, "520", "感染症情報セクション")], title_en: "Infections", title_ja: "感染症", required: true, entry_types: &["Observation"] },
    SectionSpec { key: "jp-labs", codings: &[(JP_CLINS_SECTION_SYSTEM, "620", "検査結果セクション")], title_en: "Laboratory results", title_ja: "検査", required: true, entry_types: &["Observation", "DiagnosticReport"] },
    SectionSpec { key: "jp-prescriptions", codings: &[(JP_CLINS_SECTION_SYSTEM, "430", "投薬指示セクション")], title_en: "Prescriptions", title_ja: "処方", required: true, entry_types: &["MedicationRequest"] },
];

/// The section saying that something was withheld (never what).
pub const WITHHELD_SECTION: SectionSpec = SectionSpec {
    key: "withheld",
    codings: &[(TECHO_SECTION_SYSTEM, "withheld", "Withheld information")],
    title_en: "Information withheld",
    title_ja: "非開示の情報",
    required: false,
    entry_types: &[],
};

/// Whether an AllergyIntolerance is a drug contraindication as JP-CLINS marks one (薬剤禁忌:
/// category `medication` and criticality `high`).
pub fn is_drug_contraindication(r: &Value) -> bool {
    let medication = r.get("category").and_then(Value::as_array).is_some_and(|c| c.iter().any(|x| x.as_str() == Some("medication")));
    medication && r.get("criticality").and_then(Value::as_str) == Some("high")
}

/// JLAC10 analyte/identification prefixes of the infection tests JP-CLINS shares (感染症: HBs
/// antigen and antibody, HCV, HIV-1/HIV-2/HIV-1+2, syphilis STS, TP antibody and 梅毒反応),
/// from its `JP_CLINS_ObsLabResult_InfectionLabo_CS` code list.
const INFECTION_JLAC10_PREFIXES: &[&str] = &["5F016141", "5F016143", "5F360", "5F500", "5F550", "5F560", "5E071", "5E074", "5E075"];
/// LOINC codes of the same tests (HBs antigen, HCV antibody, HIV, syphilis).
const INFECTION_LOINC: &[&str] = &["5195-3", "5196-1", "5197-9", "7905-3", "16128-1", "13955-0", "7917-8", "56888-1", "75622-1", "20507-0", "22587-0"];

/// Whether an Observation is one of the infection tests of JP-CLINS's 感染症 item.
pub fn is_infection_test(r: &Value) -> bool {
    codings(r.get("code")).any(|(system, code)| {
        system.contains("InfectionLabo")
            || (code.len() == 17 && is_jlac10_system(system) && INFECTION_JLAC10_PREFIXES.iter().any(|p| code.starts_with(p)))
            || (system == LOINC && INFECTION_LOINC.contains(&code))
    })
}

fn is_jlac10_system(system: &str) -> bool {
    system.contains("JLAC10") || system == "urn:oid:1.2.392.200119.4.504" || system.contains("CoreLabo")
}

/// Builds the document. See the module documentation for what it selects and how.
pub fn build_ips(resources: &[SourcedResource], opts: &IpsOptions) -> Result<Value, IpsError> {
    build_ips_tracked(resources, opts).map(|(doc, _)| doc)
}

/// [`build_ips`], and the indexes (into `resources`, ascending) of the inputs the document
/// stands for: its entries, the duplicates merged into them and the Patients merged into one —
/// what a disclosure of the document discloses.
pub fn build_ips_tracked(resources: &[SourcedResource], opts: &IpsOptions) -> Result<(Value, Vec<usize>), IpsError> {
    if !is_instant(&opts.timestamp) {
        return Err(IpsError::BadTimestamp);
    }
    if !is_uuid(&opts.document_id) {
        return Err(IpsError::BadDocumentId);
    }
    if opts.author.trim().is_empty() {
        return Err(IpsError::NoAuthor);
    }
    let ix = Index::new(resources)?;
    if ix.by_type("Patient").is_empty() {
        return Err(IpsError::NoPatient);
    }
    let lang = match opts.variant {
        IpsVariant::Ips => opts.lang,
        IpsVariant::JpSix => Lang::Ja,
    };
    let plan = match opts.variant {
        IpsVariant::Ips => plan_ips(&ix),
        IpsVariant::JpSix => plan_jp_six(&ix),
    };
    Ok(Builder::new(&ix, opts, lang).build(plan))
}

// ------------------------------------------------------------------ small JSON helpers

fn st<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k)?.as_str()
}

/// `(system, code)` of each coding of a CodeableConcept (absent parts as "").
fn codings(cc: Option<&Value>) -> impl Iterator<Item = (&str, &str)> {
    cc.and_then(|c| c.get("coding")).and_then(Value::as_array).into_iter().flatten().filter_map(|c| {
        let code = st(c, "code")?;
        Some((st(c, "system").unwrap_or(""), code))
    })
}

/// A CodeableConcept for people: its text, else a coding's display, else a code.
fn cc_text(cc: Option<&Value>) -> Option<String> {
    let cc = cc?;
    if let Some(t) = st(cc, "text").filter(|t| !t.trim().is_empty()) {
        return Some(t.to_owned());
    }
    let cs = cc.get("coding").and_then(Value::as_array)?;
    cs.iter().find_map(|c| st(c, "display").filter(|d| !d.trim().is_empty())).or_else(|| cs.iter().find_map(|c| st(c, "code"))).map(str::to_owned)
}

/// The first coding's code of a status CodeableConcept (`clinicalStatus`, `verificationStatus`).
fn status_cc<'a>(r: &'a Value, k: &str) -> Option<&'a str> {
    codings(r.get(k)).map(|(_, c)| c).next()
}

fn has_category(r: &Value, code: &str) -> bool {
    r.get("category").and_then(Value::as_array).into_iter().flatten().any(|c| codings(Some(c)).any(|(_, x)| x == code))
}

/// Codes that stand for "no standard code" (grouping by them would merge unrelated records).
fn is_placeholder_code(system: &str, code: &str) -> bool {
    matches!(code, "NOCODED" | "UNK" | "unknown" | "OTH" | "NI" | "NA") || system.to_ascii_lowercase().contains("nocoded")
}

/// Grouping keys of a CodeableConcept: `system|code` of each real coding, else its text.
fn concept_keys(cc: Option<&Value>) -> Vec<String> {
    let mut keys: Vec<String> = codings(cc).filter(|(s, c)| !is_placeholder_code(s, c)).map(|(s, c)| format!("{s}|{c}")).collect();
    if keys.is_empty() {
        if let Some(t) = cc.and_then(|c| st(c, "text")).map(|t| t.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|t| !t.is_empty()) {
            keys.push(format!("text:{t}"));
        }
    }
    keys
}

/// The date that says how recent a record is (ISO text; "" when unknown).
fn date_of(r: &Value) -> &str {
    let paths: &[&[&str]] = match st(r, "resourceType").unwrap_or("") {
        "Condition" => &[&["recordedDate"], &["onsetDateTime"], &["onsetPeriod", "start"], &["abatementDateTime"]],
        "AllergyIntolerance" => &[&["recordedDate"], &["onsetDateTime"], &["lastOccurrence"], &["onsetPeriod", "start"]],
        "MedicationRequest" => &[&["authoredOn"], &["dispenseRequest", "validityPeriod", "start"]],
        "MedicationStatement" => &[&["effectiveDateTime"], &["effectivePeriod", "start"], &["dateAsserted"]],
        "MedicationDispense" => &[&["whenHandedOver"], &["whenPrepared"]],
        "MedicationAdministration" => &[&["effectiveDateTime"], &["effectivePeriod", "start"]],
        "Observation" | "DiagnosticReport" => &[&["effectiveDateTime"], &["effectivePeriod", "start"], &["effectiveInstant"], &["issued"]],
        "Immunization" => &[&["occurrenceDateTime"], &["recorded"]],
        "Procedure" => &[&["performedDateTime"], &["performedPeriod", "start"], &["performedPeriod", "end"]],
        "CarePlan" => &[&["period", "start"], &["created"]],
        "DeviceUseStatement" => &[&["timingDateTime"], &["timingPeriod", "start"], &["recordedOn"]],
        _ => &[],
    };
    for p in paths {
        let mut v = r;
        let mut ok = true;
        for k in *p {
            match v.get(*k) {
                Some(x) => v = x,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            if let Some(s) = v.as_str() {
                return s;
            }
        }
    }
    r.get("meta").and_then(|m| st(m, "lastUpdated")).unwrap_or("")
}

/// Days since 1970-01-01 of an ISO date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD…`).
fn days(d: &str) -> Option<i64> {
    let y: i64 = d.get(0..4)?.parse().ok()?;
    let m: i64 = d.get(5..7).and_then(|x| x.parse().ok()).unwrap_or(1);
    let dd: i64 = d.get(8..10).and_then(|x| x.parse().ok()).unwrap_or(1);
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// How complete a record is (a tie-breaker): the number of elements, one level down.
fn completeness(r: &Value) -> usize {
    r.as_object().map_or(0, |o| o.values().map(|v| v.as_array().map_or(1, Vec::len)).sum())
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// An RFC 3339 / FHIR `instant`: `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`.
pub(crate) fn is_instant(s: &str) -> bool {
    let b = s.as_bytes();
    if !s.is_ascii() || b.len() < 20 || !digits(&s[0..4], 4) || b[4] != b'-' || !digits(&s[5..7], 2) || b[7] != b'-' || !digits(&s[8..10], 2) {
        return false;
    }
    if !(b[10] == b'T' || b[10] == b't') || !digits(&s[11..13], 2) || b[13] != b':' || !digits(&s[14..16], 2) || b[16] != b':' || !digits(&s[17..19], 2) {
        return false;
    }
    let (mo, d, h, mi, se) = (&s[5..7], &s[8..10], &s[11..13], &s[14..16], &s[17..19]);
    if !("01"..="12").contains(&mo) || !("01"..="31").contains(&d) || h > "23" || mi > "59" || se > "60" {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        "Z" | "z" => true,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) => digits(&tz[1..3], 2) && &tz[3..4] == ":" && digits(&tz[4..6], 2) && &tz[1..3] <= "23" && &tz[4..6] <= "59",
        _ => false,
    }
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A UUID (RFC 9562 version 8: application-defined) derived from the document id and a name.
fn derived_uuid(document_id: &str, name: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"techo-ips\0");
    h.update(document_id.to_ascii_lowercase().as_bytes());
    h.update([0]);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

fn narrative(body: &str) -> Value {
    json!({ "status": "generated", "div": format!("<div xmlns=\"{XHTML_NS}\">{body}</div>") })
}

// ------------------------------------------------------------------ the input index

/// Resource types a document includes when a selected resource references them.
const SUPPORTING: &[&str] = &["Practitioner", "PractitionerRole", "Organization", "Medication", "Device", "Substance", "Specimen"];

/// Where each clinical type keeps its patient.
fn subject_key(rtype: &str) -> Option<&'static str> {
    match rtype {
        "AllergyIntolerance" | "Immunization" => Some("patient"),
        "Condition" | "Observation" | "MedicationStatement" | "MedicationRequest" | "MedicationAdministration" | "MedicationDispense"
        | "Procedure" | "DiagnosticReport" | "CarePlan" | "DeviceUseStatement" | "DocumentReference" | "ClinicalImpression" | "Flag" => {
            Some("subject")
        }
        _ => None,
    }
}

struct Index<'a> {
    items: &'a [SourcedResource],
    types: Vec<&'a str>,
    /// `(Type, id)` → the first input with it.
    by_ref: HashMap<(&'a str, &'a str), usize>,
    /// id → the first input with it (for `urn:uuid:` references).
    by_id: HashMap<&'a str, usize>,
    /// `Type|system|value` of supporting resources' identifiers.
    by_identifier: HashMap<String, usize>,
    by_type: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(items: &'a [SourcedResource]) -> Result<Self, IpsError> {
        let mut ix = Index {
            items,
            types: Vec::with_capacity(items.len()),
            by_ref: HashMap::with_capacity(items.len()),
            by_id: HashMap::with_capacity(items.len()),
            by_identifier: HashMap::new(),
            by_type: HashMap::new(),
        };
        for (i, it) in items.iter().enumerate() {
            let t = st(&it.resource, "resourceType").filter(|t| !t.is_empty()).ok_or(IpsError::NotAResource { index: i })?;
            ix.types.push(t);
            ix.by_type.entry(t).or_default().push(i);
            if let Some(id) = st(&it.resource, "id") {
                ix.by_ref.entry((t, id)).or_insert(i);
                ix.by_id.entry(id).or_insert(i);
            }
            if SUPPORTING.contains(&t) || t == "Patient" {
                for idf in it.resource.get("identifier").and_then(Value::as_array).into_iter().flatten() {
                    if let (Some(s), Some(v)) = (st(idf, "system"), st(idf, "value")) {
                        ix.by_identifier.entry(format!("{t}|{s}|{v}")).or_insert(i);
                    }
                }
            }
        }
        Ok(ix)
    }

    fn res(&self, i: usize) -> &'a Value {
        &self.items[i].resource
    }

    fn by_type(&self, t: &str) -> &[usize] {
        self.by_type.get(t).map_or(&[], Vec::as_slice)
    }

    /// The input a reference string points at, if it is among the inputs.
    fn resolve(&self, r: &str) -> Option<usize> {
        if r.starts_with('#') {
            return None;
        }
        if let Some(id) = r.strip_prefix("urn:uuid:") {
            return self.by_id.get(id).copied();
        }
        if let Some((t, q)) = r.split_once('?') {
            let t = t.rsplit('/').next().unwrap_or(t);
            let v = q.split('&').find_map(|p| p.strip_prefix("identifier="))?;
            let v = v.replace("%7C", "|").replace("%7c", "|");
            let (sys, val) = v.split_once('|')?;
            return self.by_identifier.get(&format!("{t}|{sys}|{val}")).copied();
        }
        let r = r.split("/_history/").next().unwrap_or(r);
        let mut segs = r.rsplit('/');
        let id = segs.next()?;
        let t = segs.next()?;
        if !t.starts_with(|c: char| c.is_ascii_uppercase()) {
            return None;
        }
        self.by_ref.get(&(t, id)).copied()
    }

    /// The resource type a reference names (its `type`, its text, or its target).
    fn ref_type(&self, reference: &Map<String, Value>) -> Option<String> {
        if let Some(t) = reference.get("type").and_then(Value::as_str) {
            return Some(t.to_owned());
        }
        let r = reference.get("reference")?.as_str()?;
        if let Some(i) = self.resolve(r) {
            return Some(self.types[i].to_owned());
        }
        if r.starts_with("urn:") {
            return None;
        }
        let r = r.split('?').next().unwrap_or(r);
        let r = r.split("/_history/").next().unwrap_or(r);
        let mut segs = r.rsplit('/');
        let last = segs.next()?;
        let t = if r.contains('/') { segs.next()? } else { last };
        t.starts_with(|c: char| c.is_ascii_uppercase()).then(|| t.to_owned())
    }

    /// The medicine of a medication record (its CodeableConcept, or its Medication's code).
    fn med_concept(&self, i: usize) -> Option<&'a Value> {
        let r = self.res(i);
        if let Some(cc) = r.get("medicationCodeableConcept") {
            return Some(cc);
        }
        let reference = r.get("medicationReference")?;
        let target = st(reference, "reference")?;
        if let Some(id) = target.strip_prefix('#') {
            return r.get("contained")?.as_array()?.iter().find(|c| st(c, "id") == Some(id))?.get("code");
        }
        self.resolve(target).and_then(|j| self.res(j).get("code"))
    }
}

// ------------------------------------------------------------------ selection

/// One entry of a section: the record that stands for it and every input it stands for.
#[derive(Clone, Debug)]
struct Sel {
    rep: usize,
    members: Vec<usize>,
}

struct PlannedSection {
    spec: SectionSpec,
    sels: Vec<Sel>,
}

/// Union-find grouping: records sharing any key form one group. Groups come in the order of
/// their first member; members keep the input order.
fn group_by_keys(items: &[usize], keys: impl Fn(usize) -> Vec<String>) -> Vec<Vec<usize>> {
    let n = items.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut first: HashMap<String, usize> = HashMap::new();
    for (pos, &i) in items.iter().enumerate() {
        for k in keys(i) {
            match first.get(&k) {
                Some(&other) => {
                    let (a, b) = (find(&mut parent, pos), find(&mut parent, other));
                    if a != b {
                        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                        parent[hi] = lo;
                    }
                }
                None => {
                    first.insert(k, pos);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (pos, &i) in items.iter().enumerate() {
        let root = find(&mut parent, pos);
        groups.entry(root).or_default().push(i);
    }
    groups.into_values().collect()
}

/// Ranks a record within its group: higher is better.
fn rank<'a>(ix: &Index<'a>, i: usize, current: bool) -> (u8, u8, &'a str, usize) {
    let r = ix.res(i);
    let crit = u8::from(r.get("criticality").and_then(Value::as_str) == Some("high"));
    (u8::from(current), crit, date_of(r), completeness(r))
}

fn best(ix: &Index, members: &[usize], current: impl Fn(usize) -> bool) -> usize {
    let mut b = members[0];
    let mut br = rank(ix, b, current(b));
    for &m in &members[1..] {
        let r = rank(ix, m, current(m));
        if r > br {
            b = m;
            br = r;
        }
    }
    b
}

fn erroneous(r: &Value) -> bool {
    matches!(st(r, "status"), Some("entered-in-error" | "cancelled"))
        || matches!(status_cc(r, "verificationStatus"), Some("entered-in-error" | "refuted"))
        || matches!(status_cc(r, "clinicalStatus"), Some("entered-in-error"))
}

fn condition_current(r: &Value) -> bool {
    match status_cc(r, "clinicalStatus") {
        Some(s) => matches!(s, "active" | "recurrence" | "relapse"),
        None => r.get("abatementDateTime").is_none() && r.get("abatementPeriod").is_none() && r.get("abatementString").is_none() && r.get("abatementAge").is_none(),
    }
}

fn allergy_current(r: &Value) -> bool {
    !matches!(status_cc(r, "clinicalStatus"), Some("inactive" | "resolved"))
}

/// Newest first; ties by the record's position.
fn sort_newest(ix: &Index, sels: &mut [Sel]) {
    sels.sort_by(|a, b| date_of(ix.res(b.rep)).cmp(date_of(ix.res(a.rep))).then(a.rep.cmp(&b.rep)));
}

fn grouped(ix: &Index, items: &[usize], keys: impl Fn(usize) -> Vec<String>, current: impl Fn(usize) -> bool + Copy) -> Vec<Sel> {
    group_by_keys(items, keys).into_iter().map(|members| Sel { rep: best(ix, &members, current), members }).collect()
}

fn live(ix: &Index, t: &str) -> Vec<usize> {
    ix.by_type(t).iter().copied().filter(|&i| !erroneous(ix.res(i))).collect()
}

fn condition_groups(ix: &Index) -> Vec<Sel> {
    let items = live(ix, "Condition");
    grouped(ix, &items, |i| concept_keys(ix.res(i).get("code")), |i| condition_current(ix.res(i)))
}

fn allergy_groups(ix: &Index) -> Vec<Sel> {
    let items = live(ix, "AllergyIntolerance");
    grouped(ix, &items, |i| concept_keys(ix.res(i).get("code")), |i| allergy_current(ix.res(i)))
}

fn med_keys(ix: &Index, i: usize) -> Vec<String> {
    concept_keys(ix.med_concept(i))
}

/// Per code (grouped by shared codings), the latest `per_code` records of distinct dates (records
/// of the same code and date from several facilities are one); codes ordered newest first and cut
/// at `max_codes`; within `window_days` of the latest date when given.
fn latest_per_code(ix: &Index, items: &[usize], per_code: usize, max_codes: usize, window_days: Option<i64>) -> Vec<Vec<Sel>> {
    let cutoff = window_days.and_then(|w| items.iter().filter_map(|&i| days(date_of(ix.res(i)))).max().map(|latest| latest - w));
    let items: Vec<usize> = match cutoff {
        Some(c) => items.iter().copied().filter(|&i| days(date_of(ix.res(i))).is_some_and(|d| d >= c)).collect(),
        None => items.to_vec(),
    };
    let mut per: Vec<Vec<Sel>> = Vec::new();
    for members in group_by_keys(&items, |i| concept_keys(ix.res(i).get("code"))) {
        let mut by_date: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for m in members {
            by_date.entry(date_of(ix.res(m))).or_default().push(m);
        }
        let sels: Vec<Sel> = by_date
            .into_iter()
            .rev()
            .take(per_code)
            .map(|(_, ms)| Sel { rep: best(ix, &ms, |_| true), members: ms })
            .collect();
        per.push(sels);
    }
    per.sort_by(|a, b| date_of(ix.res(b[0].rep)).cmp(date_of(ix.res(a[0].rep))).then(a[0].rep.cmp(&b[0].rep)));
    per.truncate(max_codes);
    per
}

/// Flattens per-code selections, ordered by the test's name, then newest first.
fn by_name(ix: &Index, per: Vec<Vec<Sel>>) -> Vec<Sel> {
    let mut per = per;
    per.sort_by_cached_key(|sels| (cc_text(ix.res(sels[0].rep).get("code")).unwrap_or_default(), sels[0].rep));
    per.into_iter().flatten().collect()
}

const VITAL_LOINC: &[&str] = &[
    "85353-1", "9279-1", "8867-4", "2708-6", "59408-5", "8310-5", "8302-2", "9843-4", "29463-7", "39156-5", "85354-9", "8480-6", "8462-4", "8478-0",
];
const PREGNANCY_LOINC: &[&str] = &[
    "82810-3", "11778-8", "11779-6", "11780-4", "11636-8", "11637-6", "11638-4", "11639-2", "11640-0", "11612-9", "11613-7", "11614-5", "33065-4",
];

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum ObsKind {
    Vital,
    Lab,
    Social,
    Pregnancy,
    Other,
}

fn obs_kind(r: &Value) -> ObsKind {
    let loinc: Vec<&str> = codings(r.get("code")).filter(|(s, _)| *s == LOINC).map(|(_, c)| c).collect();
    if loinc.iter().any(|c| PREGNANCY_LOINC.contains(c)) {
        ObsKind::Pregnancy
    } else if has_category(r, "vital-signs") || loinc.iter().any(|c| VITAL_LOINC.contains(c)) {
        ObsKind::Vital
    } else if has_category(r, "social-history") {
        ObsKind::Social
    } else if has_category(r, "laboratory") || has_category(r, "imaging") || has_category(r, "procedure") {
        ObsKind::Lab
    } else {
        ObsKind::Other
    }
}

/// The Observations of each kind (erroneous and not-yet-resulted ones left out).
fn observations(ix: &Index) -> HashMap<ObsKind, Vec<usize>> {
    let mut m: HashMap<ObsKind, Vec<usize>> = HashMap::new();
    for &i in ix.by_type("Observation") {
        let r = ix.res(i);
        if !erroneous(r) && st(r, "status") != Some("registered") {
            m.entry(obs_kind(r)).or_default().push(i);
        }
    }
    m
}

fn section(spec: SectionSpec, sels: Vec<Sel>) -> PlannedSection {
    PlannedSection { spec, sels }
}

fn spec(key: &str) -> SectionSpec {
    *IPS_SECTIONS.iter().chain(JP_SIX_SECTIONS).find(|s| s.key == key).expect("a known section")
}

fn plan_ips(ix: &Index) -> Vec<PlannedSection> {
    // Conditions: current ones are problems, the others past illness.
    let (mut problems, mut past): (Vec<Sel>, Vec<Sel>) = condition_groups(ix).into_iter().partition(|s| condition_current(ix.res(s.rep)));
    sort_newest(ix, &mut problems);
    sort_newest(ix, &mut past);

    let mut meds: Vec<usize> = ix.by_type("MedicationStatement").iter().copied().filter(|&i| matches!(st(ix.res(i), "status"), Some("active" | "intended" | "on-hold"))).collect();
    meds.extend(ix.by_type("MedicationRequest").iter().copied().filter(|&i| matches!(st(ix.res(i), "status"), Some("active" | "on-hold"))));
    let mut meds = grouped(ix, &meds, |i| med_keys(ix, i), |_| true);
    sort_newest(ix, &mut meds);

    let mut allergies = allergy_groups(ix);
    allergies.sort_by(|a, b| {
        let (ra, rb) = (ix.res(a.rep), ix.res(b.rep));
        allergy_current(rb).cmp(&allergy_current(ra)).then(date_of(rb).cmp(date_of(ra))).then(a.rep.cmp(&b.rep))
    });

    let imms = live(ix, "Immunization");
    let mut imms = grouped(
        ix,
        &imms,
        |i| {
            let r = ix.res(i);
            let day: String = date_of(r).chars().take(10).collect();
            concept_keys(r.get("vaccineCode")).into_iter().map(|k| format!("{k}@{day}")).collect()
        },
        |_| true,
    );
    sort_newest(ix, &mut imms);
    imms.truncate(MAX_IMMUNIZATIONS);

    let obs = observations(ix);
    let of = |k: ObsKind| obs.get(&k).map_or(&[][..], Vec::as_slice);
    let results = by_name(ix, latest_per_code(ix, of(ObsKind::Lab), RESULTS_PER_CODE, MAX_RESULT_CODES, Some(RESULTS_WINDOW_DAYS)));
    let vitals = by_name(ix, latest_per_code(ix, of(ObsKind::Vital), VITALS_PER_CODE, usize::MAX, None));
    let social = by_name(ix, latest_per_code(ix, of(ObsKind::Social), 1, usize::MAX, None));
    let pregnancy = by_name(ix, latest_per_code(ix, of(ObsKind::Pregnancy), 1, usize::MAX, None));

    let procs: Vec<usize> = ix.by_type("Procedure").iter().copied().filter(|&i| !erroneous(ix.res(i)) && !matches!(st(ix.res(i), "status"), Some("not-done" | "preparation"))).collect();
    let mut procedures: Vec<Sel> = latest_per_code(ix, &procs, PROCEDURES_PER_CODE, MAX_PROCEDURE_CODES, None).into_iter().flatten().collect();
    sort_newest(ix, &mut procedures);

    let devs = live(ix, "DeviceUseStatement");
    let mut devices: Vec<Sel> = devs.into_iter().map(|i| Sel { rep: i, members: vec![i] }).collect();
    sort_newest(ix, &mut devices);

    let plans: Vec<usize> = ix.by_type("CarePlan").iter().copied().filter(|&i| matches!(st(ix.res(i), "status"), Some("active" | "on-hold"))).collect();
    let mut plans = grouped(
        ix,
        &plans,
        |i| {
            let r = ix.res(i);
            let mut k: Vec<String> = r.get("category").and_then(Value::as_array).into_iter().flatten().flat_map(|c| concept_keys(Some(c))).collect();
            if let Some(t) = st(r, "title") {
                k.push(format!("title:{t}"));
            }
            k
        },
        |_| true,
    );
    sort_newest(ix, &mut plans);

    vec![
        section(spec("problems"), problems),
        section(spec("medications"), meds),
        section(spec("allergies"), allergies),
        section(spec("immunizations"), imms),
        section(spec("results"), results),
        section(spec("vital-signs"), vitals),
        section(spec("procedures"), procedures),
        section(spec("past-illness"), past),
        section(spec("devices"), devices),
        section(spec("plan-of-care"), plans),
        section(spec("social-history"), social),
        section(spec("pregnancy"), pregnancy),
    ]
}

fn plan_jp_six(ix: &Index) -> Vec<PlannedSection> {
    // 傷病名: the diagnoses (JP-CLINS registers confirmed ones: suspected, provisional and
    // differential diagnoses are left out), current ones first.
    let confirmed = |s: &Sel| !matches!(status_cc(ix.res(s.rep), "verificationStatus"), Some("unconfirmed" | "provisional" | "differential"));
    let (mut current, mut past): (Vec<Sel>, Vec<Sel>) = condition_groups(ix).into_iter().filter(confirmed).partition(|s| condition_current(ix.res(s.rep)));
    sort_newest(ix, &mut current);
    sort_newest(ix, &mut past);
    current.extend(past);

    // アレルギー / 薬剤禁忌: a group whose chosen record is a contraindication is one.
    let (mut contra, mut allergies): (Vec<Sel>, Vec<Sel>) = allergy_groups(ix).into_iter().partition(|s| is_drug_contraindication(ix.res(s.rep)));
    sort_newest(ix, &mut contra);
    sort_newest(ix, &mut allergies);

    let labs = observations(ix).remove(&ObsKind::Lab).unwrap_or_default();
    let (infections, others): (Vec<usize>, Vec<usize>) = labs.into_iter().partition(|&i| is_infection_test(ix.res(i)));
    let infections = by_name(ix, latest_per_code(ix, &infections, RESULTS_PER_CODE, MAX_RESULT_CODES, None));
    let labs = by_name(ix, latest_per_code(ix, &others, RESULTS_PER_CODE, MAX_RESULT_CODES, Some(RESULTS_WINDOW_DAYS)));

    // 処方: the latest prescription of each medicine.
    let rx: Vec<usize> = ix.by_type("MedicationRequest").iter().copied().filter(|&i| !erroneous(ix.res(i)) && st(ix.res(i), "status") != Some("draft")).collect();
    let cutoff = rx.iter().filter_map(|&i| days(date_of(ix.res(i)))).max().map(|d| d - PRESCRIPTIONS_WINDOW_DAYS);
    let mut rx = grouped(ix, &rx, |i| med_keys(ix, i), |_| true);
    if let Some(c) = cutoff {
        rx.retain(|s| days(date_of(ix.res(s.rep))).is_some_and(|d| d >= c));
    }
    sort_newest(ix, &mut rx);
    rx.truncate(MAX_PRESCRIPTIONS);

    vec![
        section(spec("jp-diagnoses"), current),
        section(spec("jp-allergies"), allergies),
        section(spec("jp-contraindications"), contra),
        section(spec("jp-infections"), infections),
        section(spec("jp-labs"), labs),
        section(spec("jp-prescriptions"), rx),
    ]
}

// ------------------------------------------------------------------ the document

struct Builder<'a, 'b> {
    ix: &'b Index<'a>,
    opts: &'b IpsOptions,
    lang: Lang,
    /// Input → the fullUrl of the entry that stands for it.
    url: HashMap<usize, String>,
    used_names: HashSet<String>,
}

/// An entry of the output before its resource is written.
struct Planned {
    url: String,
    /// The record written (None: the merged Patient).
    rep: Option<usize>,
    members: Vec<usize>,
}

impl<'a, 'b> Builder<'a, 'b> {
    fn new(ix: &'b Index<'a>, opts: &'b IpsOptions, lang: Lang) -> Self {
        Builder { ix, opts, lang, url: HashMap::new(), used_names: HashSet::new() }
    }

    /// A fresh fullUrl for an entry named `name` (made unique if two inputs share a name).
    fn new_url(&mut self, name: &str) -> String {
        let mut n = name.to_owned();
        let mut k = 1;
        while !self.used_names.insert(n.clone()) {
            k += 1;
            n = format!("{name}#{k}");
        }
        format!("urn:uuid:{}", derived_uuid(&self.opts.document_id, &n))
    }

    fn name_of(&self, i: usize) -> String {
        match st(self.ix.res(i), "id") {
            Some(id) => format!("{}/{}", self.ix.types[i], id),
            None => format!("{}#input{}", self.ix.types[i], i),
        }
    }

    fn not_included(&self, rtype: Option<&str>) -> String {
        match (self.lang, rtype) {
            (Lang::En, Some(t)) => format!("{t} (not included in this summary)"),
            (Lang::En, None) => "Not included in this summary".to_owned(),
            (Lang::Ja, Some(t)) => format!("{t}（このサマリーには含まれていません）"),
            (Lang::Ja, None) => "このサマリーには含まれていません".to_owned(),
        }
    }

    /// The document, and the inputs it stands for (entries, the duplicates merged into them,
    /// the Patients merged into one).
    fn build(mut self, plan: Vec<PlannedSection>) -> (Value, Vec<usize>) {
        let ix = self.ix;
        let composition_url = self.new_url("Composition");
        let patient_url = self.new_url("Patient");
        let patients = ix.by_type("Patient").to_vec();
        for &p in &patients {
            self.url.insert(p, patient_url.clone());
        }
        let mut planned: Vec<Planned> = vec![Planned { url: patient_url.clone(), rep: None, members: patients.clone() }];

        // Section entries.
        let mut section_urls: Vec<Vec<String>> = Vec::with_capacity(plan.len());
        for s in &plan {
            let mut urls = Vec::with_capacity(s.sels.len());
            for sel in &s.sels {
                if let Some(u) = self.url.get(&sel.rep) {
                    // Already in an earlier section (never by construction; kept safe).
                    urls.push(u.clone());
                    continue;
                }
                let u = self.new_url(&self.name_of(sel.rep));
                for &m in &sel.members {
                    self.url.entry(m).or_insert_with(|| u.clone());
                }
                urls.push(u.clone());
                planned.push(Planned { url: u, rep: Some(sel.rep), members: sel.members.clone() });
            }
            section_urls.push(urls);
        }

        // Supporting resources the selected ones reference (transitively).
        let mut queue: VecDeque<usize> = patients.iter().copied().chain(planned.iter().filter_map(|p| p.rep)).collect();
        let mut supporting: Vec<usize> = Vec::new();
        while let Some(i) = queue.pop_front() {
            let mut refs = Vec::new();
            collect_refs(ix.res(i), &mut refs);
            for r in refs {
                if let Some(j) = ix.resolve(r) {
                    if !self.url.contains_key(&j) && SUPPORTING.contains(&ix.types[j]) {
                        let u = self.new_url(&self.name_of(j));
                        self.url.insert(j, u);
                        supporting.push(j);
                        queue.push_back(j);
                    }
                }
            }
        }
        supporting.sort_by_key(|&j| (SUPPORTING.iter().position(|t| *t == ix.types[j]), j));
        for j in supporting {
            planned.push(Planned { url: self.url[&j].clone(), rep: Some(j), members: vec![j] });
        }

        // The resources.
        let patient = self.merged_patient(&patients, &patient_url);
        let mut written: Vec<(String, Value)> = Vec::with_capacity(planned.len());
        written.push((patient_url.clone(), patient));
        for p in &planned[1..] {
            let rep = p.rep.expect("only the Patient has no record");
            written.push((p.url.clone(), self.write_resource(rep, &p.url, &patient_url)));
        }
        let by_url: HashMap<&str, &Value> = written.iter().map(|(u, r)| (u.as_str(), r)).collect();

        // The Composition.
        let mut sections: Vec<Value> = Vec::new();
        for (s, urls) in plan.iter().zip(&section_urls) {
            if urls.is_empty() && !s.spec.required {
                continue;
            }
            let entries: Vec<&Value> = urls.iter().filter_map(|u| by_url.get(u.as_str()).copied()).collect();
            sections.push(self.section_json(&s.spec, urls, &entries, &by_url));
        }
        if self.opts.withheld {
            sections.push(self.withheld_section());
        }
        let patient_display = by_url.get(patient_url.as_str()).and_then(|p| person_name(p));
        let composition = self.composition(&composition_url, &patient_url, patient_display, sections);

        // Provenance: one per facility.
        let mut per_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for p in &planned {
            let mut seen: HashSet<&str> = HashSet::new();
            for &m in &p.members {
                for s in &ix.items[m].sources {
                    let s = s.trim();
                    if !s.is_empty() && seen.insert(s) {
                        per_source.entry(s).or_default().push(p.url.as_str());
                    }
                }
            }
        }
        let provenances: Vec<(String, Value)> = per_source
            .into_iter()
            .map(|(facility, targets)| {
                let url = format!("urn:uuid:{}", derived_uuid(&self.opts.document_id, &format!("Provenance|{facility}")));
                let id = url.trim_start_matches("urn:uuid:").to_owned();
                let r = json!({
                    "resourceType": "Provenance",
                    "id": id,
                    "target": targets.iter().map(|t| json!({ "reference": t })).collect::<Vec<_>>(),
                    "recorded": self.opts.timestamp,
                    "agent": [{ "who": { "display": facility } }],
                });
                (url, r)
            })
            .collect();

        let mut entries: Vec<Value> = Vec::with_capacity(written.len() + provenances.len() + 1);
        entries.push(json!({ "fullUrl": composition_url, "resource": composition }));
        for (u, r) in written.into_iter().chain(provenances) {
            entries.push(json!({ "fullUrl": u, "resource": r }));
        }

        let mut bundle = Map::new();
        bundle.insert("resourceType".into(), json!("Bundle"));
        bundle.insert("id".into(), json!(self.opts.document_id.to_ascii_lowercase()));
        let mut meta = Map::new();
        if self.opts.variant == IpsVariant::Ips {
            meta.insert("profile".into(), json!([IPS_BUNDLE_PROFILE]));
        }
        if self.opts.withheld {
            let display = match self.lang {
                Lang::En => "Some information was withheld at the person's request",
                Lang::Ja => "本人の希望により一部の情報を含めていません",
            };
            meta.insert("tag".into(), json!([{ "system": WITHHELD_TAG_SYSTEM, "code": WITHHELD_TAG_CODE, "display": display }]));
        }
        if !meta.is_empty() {
            bundle.insert("meta".into(), Value::Object(meta));
        }
        bundle.insert("language".into(), json!(lang_code(self.lang)));
        bundle.insert("identifier".into(), json!({ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", self.opts.document_id.to_ascii_lowercase()) }));
        bundle.insert("type".into(), json!("document"));
        bundle.insert("timestamp".into(), json!(self.opts.timestamp));
        bundle.insert("entry".into(), Value::Array(entries));
        let mut included: Vec<usize> = self.url.keys().copied().collect();
        included.sort_unstable();
        (Value::Object(bundle), included)
    }

    /// A copy of input `i` as an entry: its id the fullUrl's UUID, every reference rewritten,
    /// its subject the merged Patient.
    fn write_resource(&self, i: usize, url: &str, patient_url: &str) -> Value {
        let mut r = self.ix.res(i).clone();
        let key = subject_key(self.ix.types[i]);
        // The subject is the merged Patient whatever the record said (all input is one person's):
        // set aside before the rewrite so that a reference the rewrite cannot resolve does not
        // leave a "not included" display on it.
        let old_subject = key.and_then(|k| r.as_object_mut()?.remove(k));
        if let Some(o) = r.as_object_mut() {
            o.insert("id".into(), json!(url.trim_start_matches("urn:uuid:")));
        }
        self.rewrite(&mut r);
        if let (Some(k), Some(o)) = (key, r.as_object_mut()) {
            let mut subject = Map::new();
            subject.insert("reference".into(), json!(patient_url));
            if let Some(Value::Object(old)) = old_subject {
                for (f, v) in old {
                    if f != "reference" && f != "type" {
                        subject.insert(f, v);
                    }
                }
            }
            o.insert(k.into(), Value::Object(subject));
        }
        r
    }

    /// Rewrites every reference under `v` (see the module documentation).
    fn rewrite(&self, v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("reference") {
                    if !r.starts_with('#') {
                        match self.ix.resolve(r).and_then(|j| self.url.get(&j)) {
                            Some(u) => {
                                o.insert("reference".into(), json!(u));
                            }
                            None => {
                                let t = self.ix.ref_type(o);
                                o.remove("reference");
                                if o.get("display").and_then(Value::as_str).is_none_or(|d| d.trim().is_empty()) && o.get("identifier").is_none() {
                                    o.insert("display".into(), json!(self.not_included(t.as_deref())));
                                }
                            }
                        }
                    }
                }
                for (k, x) in o.iter_mut() {
                    // Narrative is XHTML, not FHIR elements.
                    if k != "div" {
                        self.rewrite(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.rewrite(x)),
            _ => {}
        }
    }

    /// The Patients merged onto the most complete one.
    fn merged_patient(&self, patients: &[usize], url: &str) -> Value {
        let ix = self.ix;
        let score = |i: usize| {
            let r = ix.res(i);
            let names = r.get("name").and_then(Value::as_array).map_or(0, Vec::len);
            (names.min(1), completeness(r))
        };
        let mut order: Vec<usize> = patients.to_vec();
        // The most complete first (stable: ties keep the input order).
        order.sort_by_key(|&i| std::cmp::Reverse(score(i)));
        let base = order[0];
        let mut p = ix.res(base).clone();
        let o = p.as_object_mut().expect("a resource is an object");
        o.insert("id".into(), json!(url.trim_start_matches("urn:uuid:")));
        // Links point at the Patients merged here; the narrative is rewritten below.
        o.remove("link");
        o.remove("text");
        for &other in &order[1..] {
            let r = ix.res(other);
            let Some(ro) = r.as_object() else { continue };
            for (k, v) in ro {
                match k.as_str() {
                    "id" | "meta" | "text" | "link" | "contained" => {}
                    "identifier" | "name" | "telecom" | "address" | "communication" | "contact" | "generalPractitioner" | "extension" | "photo" => {
                        let Some(add) = v.as_array() else { continue };
                        let list = o.entry(k.clone()).or_insert_with(|| json!([]));
                        if let Some(list) = list.as_array_mut() {
                            for x in add {
                                if list.iter().any(|y| same_item(k, x, y)) {
                                    continue;
                                }
                                // A kanji/kana-marked name replaces the same name unmarked.
                                match list.iter().position(|y| k == "name" && same_item(k, y, x)) {
                                    Some(at) => list[at] = x.clone(),
                                    None => list.push(x.clone()),
                                }
                            }
                        }
                    }
                    _ => {
                        if !o.contains_key(k) {
                            o.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
        self.rewrite(&mut p);
        if let Some(o) = p.as_object_mut() {
            let body = self.patient_narrative(o);
            // `text` right after the id/meta, as FHIR orders it.
            let mut out = Map::new();
            let after_key = if o.contains_key("meta") { "meta" } else { "id" };
            for (k, v) in std::mem::take(o) {
                let after = k == after_key;
                out.insert(k.clone(), v);
                if after && !out.contains_key("text") {
                    out.insert("text".into(), narrative(&body));
                }
            }
            if !out.contains_key("text") {
                out.insert("text".into(), narrative(&body));
            }
            *o = out;
        }
        p
    }

    fn patient_narrative(&self, o: &Map<String, Value>) -> String {
        let names: Vec<String> = o.get("name").and_then(Value::as_array).into_iter().flatten().filter_map(name_text).collect();
        let mut body = String::new();
        if !names.is_empty() {
            body.push_str(&format!("<p>{}</p>", techo_fhir::escape_xhtml(&names.join(" / "))));
        }
        let mut line = Vec::new();
        if let Some(b) = o.get("birthDate").and_then(Value::as_str) {
            line.push(format!("{}: {}", self.word("born"), b));
        }
        if let Some(g) = o.get("gender").and_then(Value::as_str) {
            line.push(self.gender(g).to_owned());
        }
        if !line.is_empty() {
            body.push_str(&format!("<p>{}</p>", techo_fhir::escape_xhtml(&line.join(" "))));
        }
        if body.is_empty() {
            body = format!("<p>{}</p>", techo_fhir::escape_xhtml(self.word("patient")));
        }
        body
    }

    fn composition(&self, url: &str, patient_url: &str, patient_display: Option<String>, sections: Vec<Value>) -> Value {
        let jp = self.opts.variant == IpsVariant::JpSix;
        let title = match (jp, self.lang) {
            (true, _) => "患者サマリー",
            (false, Lang::En) => "International Patient Summary",
            (false, Lang::Ja) => "国際患者サマリー",
        };
        let mut c = Map::new();
        c.insert("resourceType".into(), json!("Composition"));
        c.insert("id".into(), json!(url.trim_start_matches("urn:uuid:")));
        if !jp {
            c.insert("meta".into(), json!({ "profile": [IPS_COMPOSITION_PROFILE] }));
        }
        c.insert("language".into(), json!(lang_code(self.lang)));
        let date_word = self.word("date");
        c.insert(
            "text".into(),
            narrative(&format!("<h1>{}</h1><p>{}: {}</p>", techo_fhir::escape_xhtml(title), techo_fhir::escape_xhtml(date_word), techo_fhir::escape_xhtml(&self.opts.timestamp))),
        );
        c.insert("identifier".into(), json!({ "system": "urn:ietf:rfc:3986", "value": url }));
        c.insert("status".into(), json!("final"));
        let type_text = if self.lang == Lang::Ja { "患者サマリー" } else { "Patient summary" };
        c.insert("type".into(), json!({ "coding": [{ "system": LOINC, "code": PATIENT_SUMMARY_LOINC, "display": "Patient summary Document" }], "text": type_text }));
        let mut subject = Map::new();
        subject.insert("reference".into(), json!(patient_url));
        if let Some(d) = patient_display {
            subject.insert("display".into(), json!(d));
        }
        c.insert("subject".into(), Value::Object(subject));
        c.insert("date".into(), json!(self.opts.timestamp));
        c.insert("author".into(), json!([{ "display": self.opts.author.trim() }]));
        c.insert("title".into(), json!(title));
        c.insert("confidentiality".into(), json!("N"));
        c.insert("section".into(), Value::Array(sections));
        Value::Object(c)
    }

    fn section_json(&self, spec: &SectionSpec, urls: &[String], entries: &[&Value], by_url: &HashMap<&str, &Value>) -> Value {
        let mut s = Map::new();
        s.insert("title".into(), json!(spec.title(self.lang)));
        s.insert("code".into(), json!({ "coding": spec.codings.iter().map(|(sys, code, display)| json!({ "system": sys, "code": code, "display": display })).collect::<Vec<_>>() }));
        if urls.is_empty() {
            s.insert("text".into(), narrative(&format!("<p>{}</p>", techo_fhir::escape_xhtml(self.word("none")))));
            s.insert("emptyReason".into(), json!({ "coding": [{ "system": EMPTY_REASON_SYSTEM, "code": "unavailable", "display": "Unavailable" }], "text": self.word("none") }));
        } else {
            s.insert("text".into(), narrative(&self.table(spec, entries, by_url)));
            s.insert("entry".into(), Value::Array(urls.iter().map(|u| json!({ "reference": u })).collect()));
        }
        Value::Object(s)
    }

    fn withheld_section(&self) -> Value {
        let text = match self.lang {
            Lang::En => "Some information in the record was withheld from this summary at the person's request.",
            Lang::Ja => "本人の希望により、記録の一部はこのサマリーに含まれていません。",
        };
        json!({
            "title": WITHHELD_SECTION.title(self.lang),
            "code": { "coding": [{ "system": TECHO_SECTION_SYSTEM, "code": "withheld", "display": WITHHELD_SECTION.codings[0].2 }] },
            "text": narrative(&format!("<p>{}</p>", techo_fhir::escape_xhtml(text))),
            "emptyReason": { "coding": [{ "system": EMPTY_REASON_SYSTEM, "code": "withheld", "display": "Information Withheld" }], "text": text },
        })
    }

    // -------------------------------------------------------------- narrative

    fn table(&self, spec: &SectionSpec, entries: &[&Value], by_url: &HashMap<&str, &Value>) -> String {
        let head = self.headers(spec.key);
        let mut t = String::from("<table><thead><tr>");
        for h in head {
            t.push_str(&format!("<th>{}</th>", techo_fhir::escape_xhtml(h)));
        }
        t.push_str("</tr></thead><tbody>");
        for r in entries {
            let [a, b, c] = self.row(r, by_url);
            t.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", techo_fhir::escape_xhtml(&a), techo_fhir::escape_xhtml(&b), techo_fhir::escape_xhtml(&c)));
        }
        t.push_str("</tbody></table>");
        t
    }

    fn headers(&self, key: &str) -> [&'static str; 3] {
        let en = self.lang == Lang::En;
        match key {
            "problems" | "past-illness" | "jp-diagnoses" => if en { ["Problem", "Status", "Onset"] } else { ["傷病名", "状態", "発症日"] },
            "allergies" | "jp-allergies" | "jp-contraindications" => if en { ["Substance", "Details", "Recorded"] } else { ["原因物質", "詳細", "記録日"] },
            "medications" | "jp-prescriptions" => if en { ["Medication", "Dosage and status", "Date"] } else { ["薬剤", "用法・状態", "日付"] },
            "immunizations" => if en { ["Vaccine", "Status", "Date"] } else { ["ワクチン", "状態", "接種日"] },
            "procedures" => if en { ["Procedure", "Status", "Date"] } else { ["処置", "状態", "実施日"] },
            "devices" => if en { ["Device", "Status", "Date"] } else { ["機器", "状態", "日付"] },
            "plan-of-care" => if en { ["Plan", "Status", "Date"] } else { ["計画", "状態", "日付"] },
            _ => if en { ["Test", "Result", "Date"] } else { ["検査項目", "結果", "日付"] },
        }
    }

    fn row(&self, r: &Value, by_url: &HashMap<&str, &Value>) -> [String; 3] {
        let t = st(r, "resourceType").unwrap_or("");
        let dash = "—".to_owned();
        let date: String = {
            let d = match t {
                "Condition" => st(r, "onsetDateTime").unwrap_or_else(|| date_of(r)),
                _ => date_of(r),
            };
            d.chars().take(10).collect()
        };
        let date = if date.is_empty() { dash.clone() } else { date };
        let (name, details) = match t {
            "Condition" => {
                let mut d = status_cc(r, "clinicalStatus").map(|s| self.status(t, s).to_owned()).unwrap_or_default();
                if let Some(a) = st(r, "abatementDateTime") {
                    d = format!("{d} ({}: {})", self.word("until"), a.chars().take(10).collect::<String>());
                }
                (cc_text(r.get("code")), d)
            }
            "AllergyIntolerance" => {
                let mut parts: Vec<String> = Vec::new();
                for c in r.get("category").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                    parts.push(self.status(t, c).to_owned());
                }
                if let Some(c) = st(r, "criticality") {
                    parts.push(format!("{}: {}", self.word("criticality"), self.status(t, c)));
                }
                let reactions: Vec<String> = r
                    .get("reaction")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(|x| x.get("manifestation").and_then(Value::as_array).into_iter().flatten())
                    .filter_map(|m| cc_text(Some(m)))
                    .collect();
                if !reactions.is_empty() {
                    parts.push(format!("{}: {}", self.word("reaction"), reactions.join(", ")));
                }
                if let Some(s) = status_cc(r, "clinicalStatus") {
                    parts.push(self.status(t, s).to_owned());
                }
                (cc_text(r.get("code")), parts.join("; "))
            }
            "MedicationStatement" | "MedicationRequest" | "MedicationDispense" | "MedicationAdministration" => {
                let name = cc_text(r.get("medicationCodeableConcept")).or_else(|| {
                    let m = r.get("medicationReference")?;
                    st(m, "reference").and_then(|u| by_url.get(u)).and_then(|med| cc_text(med.get("code"))).or_else(|| st(m, "display").map(str::to_owned))
                });
                let dosage = ["dosageInstruction", "dosage"]
                    .iter()
                    .find_map(|k| r.get(*k).and_then(Value::as_array).and_then(|a| a.first()).and_then(|d| st(d, "text")))
                    .map(str::to_owned);
                let status = st(r, "status").map(|s| self.status(t, s).to_owned());
                (name, [dosage, status].into_iter().flatten().collect::<Vec<_>>().join("; "))
            }
            "Observation" => (cc_text(r.get("code")), obs_value(r)),
            "Immunization" => (cc_text(r.get("vaccineCode")), st(r, "status").map(|s| self.status(t, s).to_owned()).unwrap_or_default()),
            "Procedure" => (cc_text(r.get("code")), st(r, "status").map(|s| self.status(t, s).to_owned()).unwrap_or_default()),
            "CarePlan" => {
                let name = st(r, "title")
                    .map(str::to_owned)
                    .or_else(|| r.get("category").and_then(Value::as_array).and_then(|a| a.first()).and_then(|c| cc_text(Some(c))))
                    .or_else(|| st(r, "description").map(str::to_owned));
                (name, st(r, "status").map(|s| self.status(t, s).to_owned()).unwrap_or_default())
            }
            "DeviceUseStatement" => {
                let name = r.get("device").and_then(|d| {
                    st(d, "reference")
                        .and_then(|u| by_url.get(u))
                        .and_then(|dev| cc_text(dev.get("type")).or_else(|| dev.get("deviceName")?.as_array()?.first().and_then(|n| st(n, "name")).map(str::to_owned)))
                        .or_else(|| st(d, "display").map(str::to_owned))
                });
                (name, st(r, "status").map(|s| self.status(t, s).to_owned()).unwrap_or_default())
            }
            _ => (cc_text(r.get("code")), String::new()),
        };
        let name = name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| dash.clone());
        let details = if details.trim().is_empty() { dash } else { details };
        [name, details, date]
    }

    fn word(&self, w: &str) -> &'static str {
        let en = self.lang == Lang::En;
        match w {
            "none" => if en { "No information available." } else { "情報はありません。" },
            "born" => if en { "Born" } else { "生年月日" },
            "patient" => if en { "Patient" } else { "患者" },
            "date" => if en { "Date" } else { "作成日時" },
            "until" => if en { "until" } else { "終了" },
            "criticality" => if en { "criticality" } else { "重篤度" },
            "reaction" => if en { "reaction" } else { "症状" },
            _ => "",
        }
    }

    fn gender(&self, g: &str) -> &'static str {
        match (self.lang, g) {
            (Lang::En, "male") => "male",
            (Lang::En, "female") => "female",
            (Lang::En, "other") => "other",
            (Lang::En, _) => "gender unknown",
            (Lang::Ja, "male") => "男性",
            (Lang::Ja, "female") => "女性",
            (Lang::Ja, "other") => "その他",
            (Lang::Ja, _) => "性別不明",
        }
    }

    /// Status and category codes for people (the words depend on what has the status).
    fn status<'s>(&self, rtype: &str, s: &'s str) -> &'s str {
        if self.lang == Lang::En {
            return s;
        }
        let specific = match (rtype, s) {
            ("Condition", "active") => Some("継続中"),
            ("Condition", "resolved") => Some("治癒"),
            ("AllergyIntolerance", "resolved") => Some("解消"),
            ("MedicationStatement" | "MedicationRequest", "active") => Some("服用中"),
            ("Immunization", "completed") => Some("接種済"),
            ("Immunization", "not-done") => Some("未接種"),
            ("Procedure", "completed") => Some("実施済"),
            ("CarePlan" | "DeviceUseStatement", "active") => Some("実施中"),
            _ => None,
        };
        if let Some(w) = specific {
            return w;
        }
        match s {
            "active" => "有効",
            "recurrence" => "再発",
            "relapse" => "再燃",
            "inactive" => "非活動",
            "remission" => "寛解",
            "resolved" => "解決",
            "completed" => "完了",
            "stopped" => "中止",
            "on-hold" => "保留",
            "intended" => "予定",
            "not-taken" => "未服用",
            "not-done" => "未実施",
            "in-progress" => "実施中",
            "draft" => "下書き",
            "revoked" => "取消",
            "unknown" => "不明",
            "entered-in-error" => "誤入力",
            "food" => "食物",
            "medication" => "医薬品",
            "environment" => "環境",
            "biologic" => "生物学的製剤",
            "high" => "高",
            "low" => "低",
            "unable-to-assess" => "評価不能",
            other => other,
        }
    }
}

fn lang_code(l: Lang) -> &'static str {
    match l {
        Lang::En => "en",
        Lang::Ja => "ja",
    }
}

/// Whether two list items of a Patient element say the same thing.
fn same_item(k: &str, a: &Value, b: &Value) -> bool {
    match k {
        "identifier" => st(a, "system") == st(b, "system") && st(a, "value") == st(b, "value") && st(a, "value").is_some(),
        "telecom" => st(a, "system") == st(b, "system") && st(a, "value") == st(b, "value") && st(a, "value").is_some(),
        "name" => {
            // The same written name is the same name; one without the kanji/kana mark adds
            // nothing to one with it.
            let repr = |n: &Value| {
                n.get("extension").and_then(Value::as_array).into_iter().flatten().find(|e| st(e, "url") == Some("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation")).and_then(|e| st(e, "valueCode")).map(str::to_owned)
            };
            let (ra, rb) = (repr(a), repr(b));
            (name_text(a).is_some() && name_text(a) == name_text(b) && (ra == rb || ra.is_none())) || a == b
        }
        "address" => (st(a, "text").is_some_and(|t| !t.trim().is_empty()) && st(a, "text") == st(b, "text")) || a == b,
        _ => a == b,
    }
}

/// A HumanName as one line: its text, else family and given names.
fn name_text(n: &Value) -> Option<String> {
    if let Some(t) = st(n, "text").filter(|t| !t.trim().is_empty()) {
        return Some(t.to_owned());
    }
    let mut parts: Vec<&str> = Vec::new();
    if let Some(f) = st(n, "family") {
        parts.push(f);
    }
    parts.extend(n.get("given").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str));
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The person's name for a reference display (the first name of the Patient).
fn person_name(p: &Value) -> Option<String> {
    p.get("name")?.as_array()?.iter().find_map(name_text)
}

/// An Observation's value for people.
fn obs_value(r: &Value) -> String {
    fn one(o: &Value) -> Option<String> {
        if let Some(q) = o.get("valueQuantity") {
            let v = q.get("value").map(|n| match n {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let unit = st(q, "unit").or_else(|| st(q, "code"));
            return v.map(|v| match unit {
                Some(u) => format!("{v} {u}"),
                None => v,
            });
        }
        if let Some(cc) = o.get("valueCodeableConcept") {
            return cc_text(Some(cc));
        }
        for k in ["valueString", "valueDateTime", "valueTime"] {
            if let Some(s) = st(o, k) {
                return Some(s.to_owned());
            }
        }
        for k in ["valueInteger", "valueBoolean"] {
            if let Some(v) = o.get(k) {
                return Some(v.to_string());
            }
        }
        if let Some(rg) = o.get("valueRange") {
            let lo = rg.get("low").and_then(|q| q.get("value")).map(Value::to_string).unwrap_or_default();
            let hi = rg.get("high").and_then(|q| q.get("value")).map(Value::to_string).unwrap_or_default();
            return Some(format!("{lo}–{hi}"));
        }
        o.get("dataAbsentReason").and_then(|d| cc_text(Some(d)))
    }
    let mut out = one(r).unwrap_or_default();
    let comps: Vec<String> = r
        .get("component")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| Some(format!("{} {}", cc_text(c.get("code"))?, one(c)?)))
        .collect();
    if !comps.is_empty() {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&comps.join("; "));
    }
    if let Some(i) = r.get("interpretation").and_then(Value::as_array).and_then(|a| a.first()).and_then(|c| codings(Some(c)).map(|(_, c)| c).next()) {
        out.push_str(&format!(" ({i})"));
    }
    out
}

/// Every reference string under `v` (narrative excluded).
fn collect_refs<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("reference") {
                out.push(r);
            }
            for (k, x) in o {
                if k != "div" {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}
