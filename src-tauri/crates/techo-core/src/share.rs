//! Share packages, as far as the vault is concerned: what a person's package holds (read
//! through the disclosure gate, so consent decides and the audit records it), and a package a
//! caregiver receives (kept as a family member "shared by …"). The encryption is techo-share's.
//!
//! A package's Bundle is a `collection` whose `meta.source` is `urn:techo:person:{uuid}` (the
//! sender's stable sharing id, [`Vault::person_share_uuid`]), whose entries are named
//! `urn:techo:record:{uuid}:{record id}` (so two facilities' `Condition/1` stay apart, and the
//! next package from the same person updates the same records), and which ends with one
//! `Provenance` per facility (tagged `urn:techo:share|sources`) naming where each record came
//! from. When consent held something back, `Bundle.meta.tag` says so, never what.

use crate::disclosure::{Disclosure, DisclosureReport};
use crate::error::{Error, Result};
use crate::import::{ImportOptions, ImportReport};
use crate::vault::Vault;
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Cursor;
use zeroize::Zeroizing;

/// The prefix of a package entry's `fullUrl`.
pub(crate) const RECORD_URN: &str = "urn:techo:record:";
/// The prefix of a package Bundle's `meta.source`.
pub const PERSON_URN: &str = "urn:techo:person:";
/// The tag system of what Techo adds to a package (`withheld`, `sources`).
pub const SHARE_TAG_SYSTEM: &str = "urn:techo:share";
/// The tag code of the Provenance entries that name the facilities.
pub const SOURCES_TAG_CODE: &str = "sources";
/// The tag code saying that consent held something back.
pub const WITHHELD_TAG_CODE: &str = "withheld";

/// One record on its way into a package, with the facilities it came from.
#[derive(Clone, Debug)]
pub struct SharedRecord {
    pub record_id: i64,
    pub rtype: String,
    /// The resource's JSON text, as stored.
    pub text: String,
    /// Facility (or source) names, sorted.
    pub facilities: Vec<String>,
}

/// What a package (or a printable summary) holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShareDoc {
    /// The International Patient Summary (a FHIR document Bundle) in a language.
    Ips(techo_share::Lang),
    /// The Japanese summary of the six items of Japan's record-sharing service.
    JpSix,
    /// The records themselves (a collection Bundle), e.g. for a caregiver to keep.
    Records,
}

/// What a received package did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageImport {
    pub person_id: i64,
    /// The person was made for this package (the sender's first package).
    pub new_person: bool,
    /// Whose record it is, as the package names them.
    pub shared_by: String,
    pub report: ImportReport,
}

impl Vault {
    /// A person's stable sharing id (a random UUID, made on first use): the caregiver's Techo
    /// knows the sender's next package by it. It says nothing about the person.
    pub fn person_share_uuid(&mut self, person: i64) -> Result<String> {
        self.person(person)?;
        let read = |v: &Vault| v.conn.query_row("SELECT share_uuid FROM persons WHERE id = ?1", [person], |r| r.get::<_, Option<String>>(0));
        if let Some(u) = read(self)? {
            return Ok(u);
        }
        let u = uuid::Uuid::new_v4().to_string();
        self.conn.execute("UPDATE persons SET share_uuid = ?1 WHERE id = ?2 AND share_uuid IS NULL", params![u, person])?;
        read(self)?.ok_or_else(|| Error::Database("the sharing id was not stored".into()))
    }

    /// The records `d` may send (one person's, within `d.scope`, as consent permits; audited),
    /// with the facilities each came from.
    pub fn shared_records(&mut self, d: &Disclosure) -> Result<(Vec<SharedRecord>, DisclosureReport)> {
        d.scope.validate()?;
        let person = d.person.ok_or_else(|| Error::InvalidInput("a share is made from one person's record; choose the person".into()))?;
        self.person(person)?;
        let facilities = Facilities::of(&self.conn, person)?;
        let mut rows = Vec::new();
        let report = self.gated(d, None, &mut |row| {
            rows.push(SharedRecord { record_id: row.record_id, rtype: row.rtype.clone(), text: row.text.clone(), facilities: facilities.names(row.record_id) });
            Ok(())
        })?;
        Ok((rows, report))
    }

    /// The package Bundle of `d` (see the module's documentation), in memory.
    pub fn share_bundle(&mut self, d: &Disclosure) -> Result<(Zeroizing<Vec<u8>>, DisclosureReport)> {
        let person = d.person.ok_or_else(|| Error::InvalidInput("a share is made from one person's record; choose the person".into()))?;
        let sender = self.person_share_uuid(person)?;
        let (records, report) = self.shared_records(d)?;
        refuse_empty(&records, &report)?;
        let bundle = package_bundle(&sender, &records, report.denied_total() > 0, &crate::now());
        Ok((bundle, report))
    }

    /// The content of a package for `d`: the records, or a summary document built from them
    /// (duplicates merged, every reference resolving inside the Bundle; techo-share's IPS).
    /// A summary carries the same `meta.source` and withheld tag as a records package.
    pub fn share_document(&mut self, d: &Disclosure, doc: ShareDoc) -> Result<(Zeroizing<Vec<u8>>, DisclosureReport)> {
        let (lang, variant) = match doc {
            ShareDoc::Records => return self.share_bundle(d),
            ShareDoc::Ips(lang) => (lang, techo_share::ips::IpsVariant::Ips),
            ShareDoc::JpSix => (techo_share::Lang::Ja, techo_share::ips::IpsVariant::JpSix),
        };
        let person = d.person.ok_or_else(|| Error::InvalidInput("a share is made from one person's record; choose the person".into()))?;
        let sender = self.person_share_uuid(person)?;
        d.scope.validate()?;
        self.person(person)?;
        // The summary reads a bounded part of the record (techo-share's collector), so memory
        // stays small for any record size; the records are read through the gate as always.
        let facilities = Facilities::of(&self.conn, person)?;
        let mut collector = techo_share::ips::IpsCollector::new();
        let mut care = 0u64;
        let mut walked = crate::disclosure::gate(&self.conn, d, None, &mut |row| {
            if !crate::disclosure::SUPPORTING.contains(&row.rtype.as_str()) {
                care += 1;
            }
            collector
                .offer(row.record_id, &row.rtype, &row.text, facilities.names(row.record_id))
                .map_err(|_| Error::Corrupt(format!("record {} is not JSON", row.record_id)))
        })?;
        // Audited as what the document stands for (its entries and what merged into them), not
        // every record it was built from; an attempt that makes nothing is audited as nothing.
        let audit = |v: &mut Vault, walked: crate::disclosure::Gated| -> Result<DisclosureReport> {
            let tx = v.conn.transaction()?;
            let r = walked.audit(&tx, d, false);
            tx.commit()?;
            r
        };
        let held = walked.report().clone();
        if care == 0 {
            walked.keep_only(&HashSet::new());
            audit(self, walked)?;
            return Err(nothing_to_share(&held));
        }
        let (input, keys) = collector.into_input();
        let opts = techo_share::ips::IpsOptions {
            lang,
            variant,
            timestamp: crate::now(),
            document_id: uuid::Uuid::new_v4().to_string(),
            withheld: held.denied_total() > 0,
            author: "Techo".into(),
        };
        let (mut bundle, included) = match techo_share::ips::build_ips_tracked(&input, &opts) {
            Ok(built) => built,
            Err(e) => {
                walked.keep_only(&HashSet::new());
                audit(self, walked)?;
                return Err(Error::InvalidInput(format!("the summary could not be made: {e}")));
            }
        };
        drop(input);
        walked.keep_only(&included.iter().map(|&i| keys[i]).collect());
        let report = audit(self, walked)?;
        if let Some(meta) = bundle.as_object_mut().map(|b| b.entry("meta").or_insert_with(|| json!({}))) {
            meta["source"] = json!(format!("{PERSON_URN}{sender}"));
        }
        let bytes = serde_json::to_vec(&bundle).map_err(|_| Error::Database("the summary could not be written".into()))?;
        Ok((Zeroizing::new(bytes), report))
    }

    /// Keeps a received package (already opened: its Bundle in `plaintext`) as a family
    /// member's record: the person this sender's packages went to before, or a new person
    /// marked "shared by …". The package is one source (`shared by {name}`), so the next
    /// package from the same person updates the same records, without duplicates. One package
    /// is one transaction. `shown` names the package in messages.
    pub fn import_package(&mut self, plaintext: &[u8], shown: &str) -> Result<PackageImport> {
        let fail = |reason: &str| Error::Import { file: shown.to_owned(), reason: reason.to_owned() };
        let mut doc: Value = serde_json::from_slice(plaintext).map_err(|_| fail("it does not hold FHIR JSON"))?;
        if doc.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return Err(fail("it holds no FHIR Bundle"));
        }
        let sender = doc
            .pointer("/meta/source")
            .and_then(Value::as_str)
            .and_then(|s| s.strip_prefix(PERSON_URN))
            .and_then(|u| uuid::Uuid::parse_str(u).ok())
            .ok_or_else(|| fail("it is not a record package from Techo (a summary is for reading: open it in the viewer instead)"))?
            .to_string();
        let Some(entries) = doc.get_mut("entry").and_then(Value::as_array_mut) else {
            return Err(fail("it holds no records"));
        };
        // The facilities' Provenance entries describe the package; they are not the person's records.
        entries.retain(|e| !is_sources_provenance(&e["resource"]));
        let name = entries
            .iter()
            .map(|e| &e["resource"])
            .find(|r| r.get("resourceType").and_then(Value::as_str) == Some("Patient"))
            .map(crate::import::patient_name)
            .ok_or_else(|| fail("it names no patient"))?;
        let bytes = Zeroizing::new(serde_json::to_vec(&doc).map_err(|_| fail("it could not be read back"))?);
        drop(doc);
        let uri = format!("urn:techo:share:{sender}");
        let existing: Option<i64> = self
            .conn
            .query_row(
                "SELECT i.person_id FROM imports i JOIN sources s ON s.id = i.source_id
                  WHERE s.kind = 'share' AND s.uri = ?1 AND i.person_id IS NOT NULL ORDER BY i.id DESC LIMIT 1",
                [&uri],
                |r| r.get(0),
            )
            .optional()?;
        let (person, new_person) = match existing {
            Some(p) => (p, false),
            None => {
                let tx = self.conn.transaction()?;
                tx.execute(
                    "INSERT INTO persons(display_name, relationship, created_at, shared_by) VALUES (?1, 'family', ?2, ?1)",
                    params![name, crate::now()],
                )?;
                let p = tx.last_insert_rowid();
                tx.commit()?;
                (p, true)
            }
        };
        let opts = ImportOptions { person: Some(person), source_name: None };
        let len = bytes.len() as u64;
        let result = self.import_reader(
            shown,
            "share",
            &format!("shared by {name}"),
            &uri,
            Cursor::new(&bytes[..]),
            len,
            techo_fhir::reader::FormatHint::Detect,
            &opts,
            &mut |_| {},
        );
        match result {
            Ok(report) => Ok(PackageImport { person_id: person, new_person, shared_by: name, report }),
            Err(e) => {
                if new_person {
                    // Nothing of the package was stored; the person made for it goes too.
                    let _ = self.conn.execute("DELETE FROM persons WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM records WHERE person_id = ?1)", [person]);
                }
                Err(e)
            }
        }
    }
}

/// The facility (or source) names of each of a person's records, read once.
struct Facilities {
    names: Vec<String>,
    of_record: HashMap<i64, Vec<u32>>,
}

impl Facilities {
    fn of(conn: &rusqlite::Connection, person: i64) -> Result<Facilities> {
        let mut names: Vec<String> = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut of_record: HashMap<i64, Vec<u32>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT p.record_id, COALESCE(e.facility, s.name)
               FROM provenance p JOIN records r ON r.id = p.record_id JOIN sources s ON s.id = p.source_id
               LEFT JOIN endpoints e ON e.source_id = p.source_id
              WHERE r.person_id = ?1",
        )?;
        let mut q = stmt.query([person])?;
        while let Some(r) = q.next()? {
            let name: String = r.get(1)?;
            let i = *index.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                (names.len() - 1) as u32
            });
            of_record.entry(r.get(0)?).or_default().push(i);
        }
        Ok(Facilities { names, of_record })
    }

    /// A record's facility names, sorted.
    fn names(&self, record: i64) -> Vec<String> {
        let set: BTreeSet<&str> = self.of_record.get(&record).into_iter().flatten().map(|&i| self.names[i as usize].as_str()).collect();
        set.into_iter().map(str::to_owned).collect()
    }
}

/// A package with no care records in it is refused, saying why (a revoked or expired caregiver
/// grant, consent holding back everything in the scope, or an empty scope).
pub fn refuse_empty(records: &[SharedRecord], report: &DisclosureReport) -> Result<()> {
    if records.iter().any(|r| !crate::disclosure::SUPPORTING.contains(&r.rtype.as_str())) {
        return Ok(());
    }
    Err(nothing_to_share(report))
}

/// Why a share holds no care records, as the error that refuses it.
fn nothing_to_share(report: &DisclosureReport) -> Error {
    use techo_consent::rule;
    let held = |r: &str| report.denied.contains_key(r);
    let why = if held(rule::CAREGIVER_REVOKED) {
        "the caregiver's access was revoked (grant it again in consent settings to share with them)"
    } else if held(rule::CAREGIVER_EXPIRED) {
        "the caregiver's access has expired (grant it again to share with them)"
    } else if held(rule::CAREGIVER_NOT_YET_ACTIVE) {
        "the caregiver's access has not started yet"
    } else if held(rule::CAREGIVER_NO_GRANT) || held(rule::CAREGIVER_AMBIGUOUS) {
        "this caregiver has no access to the record (grant it first)"
    } else if report.denied_total() > 0 {
        "the person's consent holds back every record in the chosen scope"
    } else {
        "the chosen scope holds no records (choose other kinds of records or dates)"
    };
    Error::NothingToShare(why.into())
}

/// Whether a resource is one of the Provenance entries Techo adds to name a package's facilities.
pub fn is_sources_provenance(r: &Value) -> bool {
    r.get("resourceType").and_then(Value::as_str) == Some("Provenance")
        && r.pointer("/meta/tag").and_then(Value::as_array).is_some_and(|tags| {
            tags.iter().any(|t| t["system"].as_str() == Some(SHARE_TAG_SYSTEM) && t["code"].as_str() == Some(SOURCES_TAG_CODE))
        })
}

/// The package Bundle: the records exactly as stored, then one Provenance per facility.
fn package_bundle(sender: &str, records: &[SharedRecord], withheld: bool, now: &str) -> Zeroizing<Vec<u8>> {
    let mut meta = json!({ "source": format!("{PERSON_URN}{sender}") });
    if withheld {
        meta["tag"] = json!([{ "system": SHARE_TAG_SYSTEM, "code": WITHHELD_TAG_CODE, "display": "Some records were held back by the person's consent" }]);
    }
    let mut out = Zeroizing::new(Vec::with_capacity(records.iter().map(|r| r.text.len() + 64).sum::<usize>() + 1024));
    let head = json!({ "resourceType": "Bundle", "type": "collection", "timestamp": now, "meta": meta });
    let head = head.to_string();
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    out.extend_from_slice(b",\"entry\":[");
    let mut by_facility: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let url = format!("{RECORD_URN}{sender}:{}", r.record_id);
        out.extend_from_slice(format!("\n{{\"fullUrl\":{},\"resource\":", Value::from(url.as_str())).as_bytes());
        out.extend_from_slice(r.text.as_bytes());
        out.push(b'}');
        for f in &r.facilities {
            by_facility.entry(f).or_default().push(json!({ "reference": url }));
        }
    }
    for (n, (facility, targets)) in by_facility.into_iter().enumerate() {
        let prov = json!({
            "resourceType": "Provenance",
            "id": format!("techo-sources-{}", n + 1),
            "meta": { "tag": [{ "system": SHARE_TAG_SYSTEM, "code": SOURCES_TAG_CODE }] },
            "target": targets,
            "recorded": now,
            "agent": [{ "who": { "display": facility } }]
        });
        if !out.ends_with(b"[") {
            out.push(b',');
        }
        let url = format!("urn:techo:sources:{sender}:{}", n + 1);
        out.extend_from_slice(format!("\n{{\"fullUrl\":{},\"resource\":{}}}", Value::from(url.as_str()), prov).as_bytes());
    }
    out.extend_from_slice(b"\n]}\n");
    out
}
