//! Unit tests of the vault and the store, through the public API where possible.

use crate::keystore::{MemoryKeyring, NoKeyring};
use crate::*;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

static_assertions::assert_not_impl_any!(Key32: serde::Serialize, std::fmt::Display);
static_assertions::assert_not_impl_any!(Vault: serde::Serialize);
static_assertions::assert_not_impl_any!(ClientKey: serde::Serialize, std::fmt::Display);

const PASS: &str = "correct horse battery";

fn pass() -> SecretString {
    SecretString::from(PASS)
}

/// "Me" and an open endpoint for them (patient p1), as the sync-page tests need.
fn open_endpoint(v: &mut Vault) -> crate::Endpoint {
    let person = v.add_person("Me", Some("self"), &[]).unwrap();
    v.add_endpoint(&NewEndpoint {
        name: "H".into(),
        base_url: "http://127.0.0.1:1000/fhir".into(),
        person_id: person,
        facility: None,
        patient_id: Some("p1".into()),
        auth: EndpointAuth::Open,
    })
    .unwrap()
}

fn new_vault() -> (tempfile::TempDir, PathBuf, Vault) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vault");
    let (v, status) = Vault::create(&dir, &pass(), None).unwrap();
    assert!(matches!(status, KeyringStatus::Unavailable(_)));
    (tmp, dir, v)
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn import(v: &mut Vault, path: &Path, person: Option<i64>) -> Result<ImportReport> {
    v.import_file(path, &ImportOptions { person, source_name: None }, &mut |_| {})
}

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:oid:1.2.392.100495.20.3.51.11311234567","value":"00012345"}],
  "name":[{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation","valueCode":"IDE"}],"text":"田中 太郎","family":"田中","given":["太郎"]},
          {"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation","valueCode":"SYL"}],"text":"タナカ タロウ"}],
  "birthDate":"1960-04-01","_birthDate":{"extension":[{"url":"http://example.org/precision","valueCode":"day"}]}}"#;

fn bundle(entries: &[&str]) -> String {
    let e: Vec<String> = entries.iter().map(|r| format!("{{\"resource\":{r}}}")).collect();
    format!("{{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{}]}}", e.join(","))
}

fn condition(id: &str, text: &str, onset: &str) -> String {
    format!(
        r#"{{"resourceType":"Condition","id":"{id}","subject":{{"reference":"Patient/p1"}},"code":{{"coding":[{{"system":"urn:oid:1.2.392.200119.4.101.6","code":"8833421","display":"{text}"}}],"text":"{text}"}},"onsetDateTime":"{onset}"}}"#
    )
}

#[test]
fn create_then_open_with_passphrase_and_lock() {
    let (_t, dir, v) = new_vault();
    let id = v.vault_id().to_owned();
    v.lock();
    let v = Vault::open(&dir, Unlock::Passphrase(&pass())).unwrap();
    assert_eq!(v.vault_id(), id);
    let t: i64 = v.conn.query_row("PRAGMA temp_store", [], |r| r.get(0)).unwrap();
    assert_eq!(t, 2, "temp tables stay in memory");
    let mode: String = v.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = v.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    assert_eq!(sync, 2, "synchronous = FULL");
}

#[test]
fn wrong_passphrase_changes_nothing() {
    let (_t, dir, v) = new_vault();
    drop(v);
    // A clean close leaves no -wal; a wrong passphrase must not create one.
    let before = snapshot(&dir);
    assert!(!dir.join("techo.db-wal").exists());
    let e = Vault::open(&dir, Unlock::Passphrase(&SecretString::from("wrong horse battery"))).unwrap_err();
    assert!(matches!(e, Error::WrongPassphrase));
    assert_eq!(e.code(), "wrong_passphrase");
    assert_eq!(snapshot(&dir), before);
    assert!(!dir.join("techo.db-wal").exists());
}

#[test]
fn the_database_file_is_not_plain_sqlite() {
    let (_t, dir, v) = new_vault();
    drop(v);
    let head = std::fs::read(dir.join(DB_FILE)).unwrap();
    assert!(!head.starts_with(b"SQLite format 3"));
}

#[test]
fn keyring_unlocks_and_its_absence_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    let ks = MemoryKeyring::default();
    let (v, status) = Vault::create(&dir, &pass(), Some(&ks)).unwrap();
    assert_eq!(status, KeyringStatus::Stored);
    drop(v);
    Vault::open(&dir, Unlock::Keyring(&ks)).unwrap();
    let none = NoKeyring("no Secret Service".into());
    assert!(matches!(Vault::open(&dir, Unlock::Keyring(&none)), Err(Error::KeyringUnavailable(_))));
    let other = MemoryKeyring::default();
    assert!(matches!(Vault::open(&dir, Unlock::Keyring(&other)), Err(Error::KeyringNoKey)));
    // Forget, then only the passphrase works.
    let mut v = Vault::open(&dir, Unlock::Passphrase(&pass())).unwrap();
    v.forget_keyring(&ks).unwrap();
    drop(v);
    assert!(matches!(Vault::open(&dir, Unlock::Keyring(&ks)), Err(Error::KeyringNoKey)));
    // Remember again.
    let mut v = Vault::open(&dir, Unlock::Passphrase(&pass())).unwrap();
    v.remember_in_keyring(&ks).unwrap();
    drop(v);
    Vault::open(&dir, Unlock::Keyring(&ks)).unwrap();
}

#[test]
fn creating_without_a_keyring_service_falls_back_to_the_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    let (_v, status) = Vault::create(&dir, &pass(), Some(&NoKeyring("no D-Bus session".into()))).unwrap();
    assert_eq!(status, KeyringStatus::Unavailable("no D-Bus session".into()));
}

#[test]
fn plaintext_sqlite_at_the_vault_path_is_refused_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    // A real plaintext SQLite database, made with SQLite itself (no key).
    let file = tmp.path().join("plain.db");
    {
        let c = rusqlite::Connection::open(&file).unwrap();
        c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES ('data');").unwrap();
    }
    let before = std::fs::read(&file).unwrap();
    assert!(matches!(Vault::open(&file, Unlock::Passphrase(&pass())), Err(Error::PlaintextDatabase(_))));
    assert!(matches!(Vault::create(&file, &pass(), None), Err(Error::PlaintextDatabase(_))));
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // And as techo.db inside a vault folder.
    let dir = tmp.path().join("v");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&file, dir.join(DB_FILE)).unwrap();
    assert!(matches!(Vault::open(&dir, Unlock::Passphrase(&pass())), Err(Error::PlaintextDatabase(_))));
    assert!(matches!(Vault::create(&dir, &pass(), None), Err(Error::PlaintextDatabase(_))));
    assert_eq!(std::fs::read(dir.join(DB_FILE)).unwrap(), before);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "nothing was created beside it");
}

#[test]
fn not_a_vault_no_vault_and_existing() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(matches!(Vault::open(&tmp.path().join("nope"), Unlock::Passphrase(&pass())), Err(Error::NoVault(_))));
    let f = write(tmp.path(), "notes.txt", "hello");
    assert!(matches!(Vault::open(&f, Unlock::Passphrase(&pass())), Err(Error::NotAVault { .. })));
    let d = tmp.path().join("d");
    std::fs::create_dir(&d).unwrap();
    write(&d, "x.txt", "x");
    assert!(matches!(Vault::open(&d, Unlock::Passphrase(&pass())), Err(Error::NotAVault { .. })));
    assert!(matches!(Vault::create(&d, &pass(), None), Err(Error::VaultExists(_))));
    write(&d, "keys.json", "{not json");
    std::fs::write(d.join(DB_FILE), vec![7u8; 4096]).unwrap();
    assert!(matches!(Vault::open(&d, Unlock::Passphrase(&pass())), Err(Error::NotAVault { .. })));
}

#[test]
fn weak_new_passphrases_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let e = Vault::create(&tmp.path().join("v"), &SecretString::from("short"), None).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(!tmp.path().join("v").exists());
}

#[test]
fn a_vault_from_a_newer_version_is_refused() {
    let (_t, dir, v) = new_vault();
    v.conn.execute("INSERT INTO schema_version(version, description, applied_at) VALUES (999, 'future', 'x')", []).unwrap();
    drop(v);
    match Vault::open(&dir, Unlock::Passphrase(&pass())) {
        Err(Error::NewerVersion { found: 999, .. }) => {}
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn tampered_pages_are_detected() {
    let (tmp, dir, mut v) = new_vault();
    let p = write(tmp.path(), "b.json", &bundle(&[PATIENT, &condition("c1", "高血圧症", "2019-04-01")]));
    import(&mut v, &p, None).unwrap();
    drop(v);
    let db = dir.join(DB_FILE);
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 3 * 4096);
    // Flip bytes inside page 3 (not the first page, so the key check itself passes).
    for b in &mut bytes[2 * 4096 + 100..2 * 4096 + 140] {
        *b ^= 0x5A;
    }
    std::fs::write(&db, &bytes).unwrap();
    let r = Vault::open(&dir, Unlock::Passphrase(&pass())).and_then(|v| {
        v.check_integrity()?;
        v.stats()
    });
    assert!(matches!(r, Err(Error::Corrupt(_))), "{:?}", r.map(|_| ()));
    // Page 1 damaged: the key is right but the database refuses it.
    bytes[100] ^= 0xFF;
    std::fs::write(&db, &bytes).unwrap();
    assert!(matches!(Vault::open(&dir, Unlock::Passphrase(&pass())), Err(Error::Corrupt(_))));
}

#[test]
fn change_passphrase() {
    let (_t, dir, mut v) = new_vault();
    let new = SecretString::from("a much better passphrase");
    assert!(matches!(v.change_passphrase(&SecretString::from("wrong passphrase"), &new), Err(Error::WrongPassphrase)));
    v.change_passphrase(&pass(), &new).unwrap();
    drop(v);
    assert!(matches!(Vault::open(&dir, Unlock::Passphrase(&pass())), Err(Error::WrongPassphrase)));
    Vault::open(&dir, Unlock::Passphrase(&new)).unwrap();
}

#[test]
fn rekey_rotates_the_data_key_and_keeps_the_data() {
    let (tmp, dir, mut v) = new_vault();
    let ks = MemoryKeyring::default();
    v.remember_in_keyring(&ks).unwrap();
    let p = write(tmp.path(), "b.json", &bundle(&[PATIENT, &condition("c1", "高血圧症", "2019-04-01")]));
    import(&mut v, &p, None).unwrap();
    let old_key = v.data_key().clone();
    let old_keys = std::fs::read_to_string(dir.join("keys.json")).unwrap();
    v.rekey(&pass(), Some(&ks)).unwrap();
    assert_ne!(v.data_key().expose(), old_key.expose());
    assert_eq!(v.stats().unwrap().resources, 2);
    let new_keys = std::fs::read_to_string(dir.join("keys.json")).unwrap();
    drop(v);
    // The old key no longer opens the database; the passphrase and the keyring do.
    assert!(crate::vault::tests_support::opens(&dir, &old_key).is_none());
    assert_eq!(Vault::open(&dir, Unlock::Passphrase(&pass())).unwrap().stats().unwrap().resources, 2);
    assert_eq!(Vault::open(&dir, Unlock::Keyring(&ks)).unwrap().stats().unwrap().resources, 2);

    // A rekey interrupted after the database was rewritten but before keys.json was: the
    // pending wraps open it, and opening finishes the job.
    let old: serde_json::Value = serde_json::from_str(&old_keys).unwrap();
    let new: serde_json::Value = serde_json::from_str(&new_keys).unwrap();
    let mut interrupted = old.clone();
    interrupted["pending"] = new["current"].clone();
    std::fs::write(dir.join("keys.json"), serde_json::to_string(&interrupted).unwrap()).unwrap();
    assert_eq!(Vault::open(&dir, Unlock::Passphrase(&pass())).unwrap().stats().unwrap().resources, 2);
    let healed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("keys.json")).unwrap()).unwrap();
    assert!(healed.get("pending").is_none());
    assert_eq!(healed["current"], new["current"]);
}

#[test]
fn import_creates_the_person_and_reimport_changes_nothing() {
    let (tmp, _dir, mut v) = new_vault();
    let p = write(tmp.path(), "b.json", &bundle(&[PATIENT, &condition("c1", "高血圧症", "2019-04-01"), &condition("c2", "気管支喘息", "2021-06-01")]));
    let r = import(&mut v, &p, None).unwrap();
    assert_eq!((r.resources, r.new), (3, 3));
    let persons = v.person_summaries().unwrap();
    assert_eq!(persons.len(), 1);
    assert_eq!(persons[0].display_name, "田中 太郎");
    assert_eq!(persons[0].relationship.as_deref(), Some("self"));
    assert_eq!(persons[0].resource_count, 3);
    let r = import(&mut v, &p, None).unwrap();
    assert_eq!((r.new, r.updated, r.unchanged), (0, 0, 3));
    assert_eq!(v.stats().unwrap().resources, 3);
}

#[test]
fn lossless_round_trip_of_extensions_primitives_and_decimals() {
    let (tmp, _dir, mut v) = new_vault();
    let obs = r#"{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"K"},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":4.10,"unit":"mmol/L"},"_status":{"extension":[{"url":"http://x","valueString":"y"}]},"unknownElement":{"nested":[1,2.50,"三"]},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">カリウム &lt;b&gt;</div>"}}"#;
    let p = write(tmp.path(), "b.json", &bundle(&[PATIENT, obs, r#"{"resourceType":"FutureResource","id":"f1","anything":true}"#]));
    import(&mut v, &p, None).unwrap();
    let rows = v.timeline(&TimelineQuery { person: 1, limit: 10, ..Default::default() }).unwrap();
    let o = rows.iter().find(|r| r.resource_type == "Observation").unwrap();
    assert_eq!(v.record(o.record_id).unwrap().resource, obs.replace('\n', ""));
    assert!(rows.iter().any(|r| r.resource_type == "FutureResource"));
}

#[test]
fn an_update_keeps_the_earlier_version() {
    let (tmp, _dir, mut v) = new_vault();
    let p = write(tmp.path(), "b.json", &bundle(&[PATIENT, &condition("c1", "高血圧症", "2019-04-01")]));
    import(&mut v, &p, None).unwrap();
    let p2 = write(tmp.path(), "b.json", &bundle(&[PATIENT, &condition("c1", "本態性高血圧症", "2019-04-01")]));
    let r = import(&mut v, &p2, None).unwrap();
    assert_eq!(r.updated, 1);
    let row = v.search(&SearchQuery { person: None, text: "本態性".into(), limit: 5 }).unwrap();
    assert_eq!(row.len(), 1);
    let d = v.record(row[0].record_id).unwrap();
    assert_eq!(d.row.version, 2);
    assert_eq!(d.versions.len(), 1);
    assert!(v.record_version(row[0].record_id, 1).unwrap().contains("\"高血圧症\""));
    // The old text is no longer found, the new one is.
    assert!(v.search(&SearchQuery { person: None, text: "\"text\":\"高血圧症".into(), limit: 5 }).unwrap().is_empty());
}

#[test]
fn the_same_record_from_two_sources_is_one_record_with_both_sources() {
    let (tmp, _dir, mut v) = new_vault();
    let a = write(tmp.path(), "hospital.json", &bundle(&[PATIENT, &condition("c1", "高血圧症", "2019-04-01")]));
    // The clinic has its own ids for the same patient and condition.
    let b = write(tmp.path(), "clinic.json", &bundle(&[&PATIENT.replace("\"p1\"", "\"x9\""), &condition("zz", "高血圧症", "2019-04-01")]));
    import(&mut v, &a, None).unwrap();
    let r = import(&mut v, &b, None).unwrap();
    assert_eq!(r.merged, 2, "Patient and Condition merged");
    assert_eq!(v.stats().unwrap().resources, 2);
    let row = &v.timeline(&TimelineQuery { person: 1, types: vec!["Condition".into()], limit: 5, ..Default::default() }).unwrap()[0];
    let d = v.record(row.record_id).unwrap();
    let sources: Vec<_> = d.provenance.iter().map(|p| (p.source.as_str(), p.source_ref.as_str())).collect();
    assert_eq!(sources, vec![("hospital.json", "Condition/c1"), ("clinic.json", "Condition/zz")]);
}

#[test]
fn a_bad_entry_rolls_the_whole_file_back() {
    let (tmp, _dir, mut v) = new_vault();
    let good = write(tmp.path(), "good.json", &bundle(&[PATIENT, &condition("c1", "高血圧症", "2019-04-01")]));
    import(&mut v, &good, None).unwrap();
    let before = v.stats().unwrap();
    let bad = write(tmp.path(), "bad.json", &bundle(&[PATIENT, &condition("c2", "糖尿病", "2020-01-01"), r#"{"resourceType":"Condition"}"#]));
    let e = import(&mut v, &bad, None).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("bad.json") && msg.contains("entry 2"), "{msg}");
    let after = v.stats().unwrap();
    assert_eq!((after.resources, after.sources, after.persons), (before.resources, before.sources, before.persons));
}

#[test]
fn two_patients_in_one_file_need_person() {
    let (tmp, _dir, mut v) = new_vault();
    let other = r#"{"resourceType":"Patient","id":"p2","identifier":[{"system":"urn:x","value":"2"}],"name":[{"text":"鈴木 花子"}]}"#;
    let f = write(tmp.path(), "mixed.json", &bundle(&[PATIENT, other]));
    let e = import(&mut v, &f, None).unwrap_err();
    assert!(e.to_string().contains("second, different patient"), "{e}");
    assert_eq!(v.stats().unwrap().persons, 0);
    let id = v.add_person("家族", Some("family"), &[]).unwrap();
    import(&mut v, &f, Some(id)).unwrap();
    assert_eq!(v.person_summaries().unwrap()[0].resource_count, 2);
}

#[test]
fn patient_after_other_resources_is_found_by_a_first_pass() {
    let (tmp, _dir, mut v) = new_vault();
    let nd = format!("{}\n{}\n", condition("c1", "高血圧症", "2019-04-01"), PATIENT.replace('\n', ""));
    let f = write(tmp.path(), "late.ndjson", &nd);
    let r = import(&mut v, &f, None).unwrap();
    assert_eq!(r.new, 2);
    assert_eq!(v.persons().unwrap()[0].display_name, "田中 太郎");
    // A file with no Patient, referring to the known patient, lands in the same person.
    v.add_person("二人目", None, &[]).unwrap();
    let f = write(tmp.path(), "more.ndjson", &format!("{}\n", condition("c9", "脂質異常症", "2022-01-01")));
    let r = import(&mut v, &f, None).unwrap();
    assert_eq!(r.person_id, 1);
}

#[test]
fn japanese_search_inside_words_and_timeline_paging() {
    let (tmp, _dir, mut v) = new_vault();
    let mut entries = vec![PATIENT.to_string()];
    for i in 0..30 {
        entries.push(condition(&format!("c{i}"), if i % 2 == 0 { "高血圧症" } else { "Asthma bronchiale" }, &format!("2020-01-{:02}", i + 1)));
    }
    let refs: Vec<&str> = entries.iter().map(String::as_str).collect();
    let f = write(tmp.path(), "b.json", &bundle(&refs));
    import(&mut v, &f, None).unwrap();
    for (q, n) in [("血圧", 15), ("高血圧", 15), ("高血圧症", 15), ("asthma", 15), ("ASTHMA BRONCH", 15), ("タナカ", 1), ("田中", 1), ("血糖", 0)] {
        let hits = v.search(&SearchQuery { person: Some(1), text: q.into(), limit: 100 }).unwrap();
        assert_eq!(hits.len(), n, "{q}");
    }
    assert!(v.search(&SearchQuery { person: None, text: "血".into(), limit: 5 }).is_err());
    // Newest first, paged by cursor without overlap.
    let page1 = v.timeline(&TimelineQuery { person: 1, types: vec!["Condition".into()], limit: 10, ..Default::default() }).unwrap();
    assert_eq!(page1[0].clinical_date.as_deref(), Some("2020-01-30T00:00:00Z"));
    let last = page1.last().unwrap();
    let page2 = v
        .timeline(&TimelineQuery {
            person: 1,
            types: vec!["Condition".into()],
            limit: 100,
            after: Some(TimelineCursor { clinical_date: last.clinical_date.clone(), record_id: last.record_id }),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page1.len() + page2.len(), 30);
    assert!(page2[0].clinical_date < last.clinical_date);
    let coded = v
        .timeline(&TimelineQuery { person: 1, code: Some(("urn:oid:1.2.392.200119.4.101.6".into(), "8833421".into())), limit: 100, ..Default::default() })
        .unwrap();
    assert_eq!(coded.len(), 30);
    let ranged = v
        .timeline(&TimelineQuery { person: 1, from: Some("2020-01-10".into()), to: Some("2020-01-20".into()), limit: 100, ..Default::default() })
        .unwrap();
    assert_eq!(ranged.len(), 10);
    assert!(v.timeline(&TimelineQuery { person: 1, from: Some("yesterday".into()), limit: 1, ..Default::default() }).is_err());
}

#[test]
fn export_streams_every_record_of_a_person() {
    let (tmp, _dir, mut v) = new_vault();
    let f = write(tmp.path(), "b.json", &bundle(&[PATIENT, &condition("c1", "高血圧症", "2019-04-01")]));
    import(&mut v, &f, None).unwrap();
    let mut out = Vec::new();
    assert_eq!(v.export(Some(1), ExportFormat::Ndjson, &mut out).unwrap(), 2);
    let lines: Vec<serde_json::Value> = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[1]["id"], "c1");
    let mut out = Vec::new();
    v.export(None, ExportFormat::Bundle, &mut out).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(b["entry"].as_array().unwrap().len(), 2);
}

/// The real OS keyring (Secret Service on Linux). `scripts/test.sh` runs this inside a private
/// D-Bus session with an unlocked gnome-keyring and sets TECHO_TEST_OS_KEYRING=1.
#[test]
fn os_keyring_stores_and_unlocks() {
    if std::env::var_os("TECHO_TEST_OS_KEYRING").is_none() {
        eprintln!("skipped: runs under scripts/test.sh's D-Bus session (TECHO_TEST_OS_KEYRING=1)");
        return;
    }
    let ks = OsKeyring::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    let (v, status) = Vault::create(&dir, &pass(), Some(&ks)).unwrap();
    assert_eq!(status, KeyringStatus::Stored);
    let id = v.vault_id().to_owned();
    drop(v);
    let mut v = Vault::open(&dir, Unlock::Keyring(&ks)).unwrap();
    v.forget_keyring(&ks).unwrap();
    assert!(ks.get(&id).unwrap().is_none());
}

#[test]
fn two_versions_in_one_file_are_both_kept_and_servers_are_told_apart() {
    let (tmp, _dir, mut v) = new_vault();
    let b = r#"{"resourceType":"Bundle","type":"collection","entry":[
      {"fullUrl":"http://example.org/fhir/Patient/45","resource":{"resourceType":"Patient","id":"45","meta":{"versionId":"1"},"name":[{"text":"A"}]}},
      {"fullUrl":"http://example.org/fhir/Patient/45","resource":{"resourceType":"Patient","id":"45","meta":{"versionId":"2"},"name":[{"text":"B"}]}},
      {"fullUrl":"http://example.org/fhir/Observation/14","resource":{"resourceType":"Observation","id":"14","status":"final","code":{"text":"x"}}},
      {"fullUrl":"http://example.org/fhir-2/Observation/14","resource":{"resourceType":"Observation","id":"14","status":"final","code":{"text":"y"}}}]}"#;
    let f = write(tmp.path(), "b.json", b);
    let r = import(&mut v, &f, None).unwrap();
    assert_eq!((r.new, r.updated), (3, 1));
    let p = v.timeline(&TimelineQuery { person: 1, types: vec!["Patient".into()], limit: 5, ..Default::default() }).unwrap();
    assert_eq!(p[0].version, 2);
    assert!(v.record_version(p[0].record_id, 1).unwrap().contains("\"A\""));
    // The same id and version twice with different content is ambiguous.
    let bad = b.replace("\"versionId\":\"2\"", "\"versionId\":\"1\"");
    let f = write(tmp.path(), "bad.json", &bad);
    let e = import(&mut v, &f, None).unwrap_err().to_string();
    assert!(e.contains("entry 1") && e.contains("appears twice"), "{e}");
}

#[test]
fn importing_for_a_person_who_does_not_exist_is_not_found() {
    let (tmp, _dir, mut v) = new_vault();
    let f = write(tmp.path(), "b.json", &bundle(&[PATIENT]));
    assert_eq!(import(&mut v, &f, Some(99)).unwrap_err().code(), "not_found");
}

#[test]
fn search_checks_each_candidate_against_its_own_text() {
    let (tmp, _dir, mut v) = new_vault();
    // Both hold every bigram of 高血圧症 (高血, 血圧, 圧症); only the second holds the word.
    let apart = condition("c1", "高血圧の疑い、低血圧症", "2020-01-01");
    let together = condition("c2", "本態性高血圧症", "2020-01-02");
    let f = write(tmp.path(), "b.json", &bundle(&[PATIENT, &apart, &together]));
    import(&mut v, &f, None).unwrap();
    let hits = v.search(&SearchQuery { person: Some(1), text: "高血圧症".into(), limit: 10 }).unwrap();
    assert_eq!(hits.iter().map(|h| h.resource_id.as_deref()).collect::<Vec<_>>(), [Some("c2")]);
    assert_eq!(v.search(&SearchQuery { person: Some(1), text: "低血圧".into(), limit: 10 }).unwrap().len(), 1);
    // Dates and the subject's name are not searchable text; a Patient's own name is.
    assert!(v.search(&SearchQuery { person: Some(1), text: "2020-01".into(), limit: 10 }).unwrap().is_empty());
    assert!(v.search(&SearchQuery { person: None, text: "-".into(), limit: 10 }).is_err());
}

#[test]
fn an_update_moves_the_records_codes_and_identifiers() {
    let (tmp, _dir, mut v) = new_vault();
    let version = |n: u32, code: &str, id: &str| {
        format!(
            r#"{{"resourceType":"Observation","id":"o1","meta":{{"versionId":"{n}","lastUpdated":"2024-01-0{n}T00:00:00Z"}},"identifier":[{{"system":"urn:example:lab","value":"{id}"}}],"status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"{code}"}}]}},"subject":{{"reference":"Patient/p1"}},"effectiveDateTime":"2024-01-01"}}"#
        )
    };
    let f = write(tmp.path(), "v1.json", &bundle(&[PATIENT, &version(1, "4548-4", "L-1")]));
    import(&mut v, &f, None).unwrap();
    let f = write(tmp.path(), "v1.json", &bundle(&[PATIENT, &version(2, "17856-6", "L-2")]));
    assert_eq!(import(&mut v, &f, None).unwrap().updated, 1);
    let coded = |code: &str| {
        v.timeline(&TimelineQuery { person: 1, code: Some(("http://loinc.org".into(), code.into())), limit: 10, ..Default::default() })
            .unwrap()
            .len()
    };
    assert_eq!((coded("4548-4"), coded("17856-6")), (0, 1));
    let by_code_only =
        v.timeline(&TimelineQuery { person: 1, code: Some((String::new(), "17856-6".into())), limit: 10, ..Default::default() }).unwrap();
    assert_eq!(by_code_only.len(), 1);
    let ids: Vec<(String, i64)> = v
        .conn
        .prepare("SELECT value, record_id FROM record_identifiers WHERE rtype = 'Observation' ORDER BY value")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(ids.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>(), ["L-2"]);
    // Imports run with foreign-key checks off; the integrity check proves nothing dangles.
    v.check_integrity().unwrap();
}

#[test]
fn a_vault_keeps_the_page_size_it_was_made_with() {
    let (_tmp, dir, v) = new_vault();
    // SQLCipher answers `PRAGMA page_size` as text.
    let size: String = v.conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    assert_eq!(size, crate::keys::PAGE_SIZE.to_string());
    drop(v);
    let mut kf: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("keys.json")).unwrap()).unwrap();
    assert_eq!(kf["page_size"], 16384);
    // A key file that names another page size cannot open this database.
    kf["page_size"] = 4096.into();
    std::fs::write(dir.join("keys.json"), serde_json::to_vec(&kf).unwrap()).unwrap();
    assert!(Vault::open(&dir, Unlock::Passphrase(&pass())).is_err());
    kf["page_size"] = 1000.into();
    std::fs::write(dir.join("keys.json"), serde_json::to_vec(&kf).unwrap()).unwrap();
    assert!(matches!(Vault::open(&dir, Unlock::Passphrase(&pass())), Err(Error::NotAVault { .. })));
}

#[test]
fn stored_resources_are_compressed_and_damage_is_reported() {
    let text = r#"{"resourceType":"Observation","code":{"text":"血圧"},"note":[{"text":"血圧 血圧 血圧 血圧 血圧 血圧"}]}"#;
    let packed = crate::pack(text);
    assert!(packed.len() < text.len());
    assert_eq!(crate::unpack(&packed).unwrap(), text);
    for bad in [&b""[..], &b"\x01"[..], &packed[..packed.len() - 3], &b"\xff\xff\xff\x7fxxxx"[..]] {
        assert!(matches!(crate::unpack(bad), Err(Error::Corrupt(_))));
    }
}

#[test]
fn settings_persist_and_clear() {
    let (_tmp, dir, mut v) = new_vault();
    assert_eq!(v.setting(Setting::SyncIntervalMinutes).unwrap(), None);
    v.set_setting(Setting::SyncIntervalMinutes, Some("60")).unwrap();
    v.set_setting(Setting::SyncIntervalMinutes, Some("30")).unwrap();
    v.set_setting(Setting::DemoEndpoint, Some("not a number")).unwrap();
    assert!(v.set_setting(Setting::DemoEndpoint, Some(&"x".repeat(1001))).is_err());
    drop(v);
    let mut v = Vault::open(&dir, Unlock::Passphrase(&pass())).unwrap();
    assert_eq!(v.setting_i64(Setting::SyncIntervalMinutes).unwrap(), Some(30));
    assert_eq!(v.setting_i64(Setting::DemoEndpoint).unwrap(), None, "a value that is not a number reads as unset");
    v.set_setting(Setting::SyncIntervalMinutes, None).unwrap();
    assert_eq!(v.setting(Setting::SyncIntervalMinutes).unwrap(), None);
}

#[test]
fn an_endpoint_moves_to_a_new_address_keeping_its_cursors_but_not_its_next_link() {
    let (_tmp, _dir, mut v) = new_vault();
    let person = v.add_person("Me", Some("self"), &[]).unwrap();
    let new = |url: &str| NewEndpoint {
        name: url.into(),
        base_url: url.into(),
        person_id: person,
        facility: None,
        patient_id: Some("p1".into()),
        auth: EndpointAuth::Open,
    };
    let a = v.add_endpoint(&new("http://127.0.0.1:1000/fhir")).unwrap();
    let b = v.add_endpoint(&new("http://127.0.0.1:2000/fhir")).unwrap();
    let cursor = SyncCursor {
        since: Some("2026-01-01T00:00:00Z".into()),
        next_url: Some("http://127.0.0.1:1000/fhir/Observation?page=2".into()),
        pass_max: Some("2026-02-01T00:00:00Z".into()),
    };
    v.commit_sync_page(a.id, "Observation", Vec::new(), &cursor).unwrap();
    let moved = v.set_endpoint_base_url(a.id, "http://127.0.0.1:3000/fhir/").unwrap();
    assert_eq!(moved.base_url, "http://127.0.0.1:3000/fhir");
    let c = v.sync_cursor(a.id, "Observation").unwrap();
    assert_eq!((c.since.as_deref(), c.next_url), (Some("2026-01-01T00:00:00Z"), None));
    let err = v.set_endpoint_base_url(a.id, &b.base_url).unwrap_err();
    assert!(err.to_string().contains("already"), "{err}");
    assert_eq!(v.endpoint(a.id).unwrap().base_url, "http://127.0.0.1:3000/fhir", "a refused move changes nothing");
}

/// A sync page handed over parsed (`commit_sync_page_resources`, what the engine does) stores
/// exactly what the same page as NDJSON stores: the same texts, reports, cursor and errors.
#[test]
fn a_parsed_sync_page_is_stored_as_its_ndjson_would_be() {
    let lines = [
        r#"{"resourceType":"Observation","id":"o1","meta":{"lastUpdated":"2026-01-01T00:00:00.000+09:00"},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"収縮期血圧"},"valueQuantity":{"value":1.50,"unit":"mmHg"},"note":[{"text":"tab\there \"quoted\" \u00e9 \/ \u001f"}]}"#,
        r#"{"id":"c1","resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003","display":"高血圧症"}]},"onsetDateTime":"2020-04"}"#,
        r#"{"resourceType":"Observation","id":"o1","meta":{"lastUpdated":"2026-01-02T00:00:00Z","versionId":"2"},"status":"amended","subject":{"reference":"Patient/p1"},"valueQuantity":{"value":1e2}}"#,
    ];
    let setup = || {
        let (tmp, dir, mut v) = new_vault();
        let ep = open_endpoint(&mut v);
        (tmp, dir, v, ep.id)
    };
    let stored = |v: &Vault| -> Vec<(String, Option<String>, i64, String)> {
        let mut st = v.conn.prepare("SELECT rtype, resource_id, version, resource FROM records ORDER BY id").unwrap();
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Vec<u8>>(3)?))).unwrap();
        rows.map(|r| r.unwrap()).map(|(a, b, c, d)| (a, b, c, crate::unpack(&d).unwrap())).collect()
    };
    let cursor = SyncCursor { since: None, next_url: Some("http://127.0.0.1:1000/fhir/Observation?page=2".into()), pass_max: Some("2026-01-02T00:00:00Z".into()) };
    let (_t1, _d1, mut a, ea) = setup();
    let (_t2, _d2, mut b, eb) = setup();
    for page in [&lines[..2], &lines[2..]] {
        let nd: String = page.iter().map(|l| format!("{l}\n")).collect();
        let values: Vec<serde_json::Value> = page.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let ra = a.commit_sync_page(ea, "Observation", nd.into_bytes(), &cursor).unwrap();
        let rb = b.commit_sync_page_resources(eb, "Observation", values, &cursor).unwrap();
        assert_eq!(ra, rb);
    }
    assert_eq!(stored(&a), stored(&b));
    assert_eq!(stored(&b)[1].3, lines[1], "stored exactly as received");
    assert_eq!(stored(&b)[0].2, 2, "the second page's version of o1");
    assert_eq!(a.sync_cursor(ea, "Observation").unwrap(), b.sync_cursor(eb, "Observation").unwrap());
    let q = SearchQuery { person: None, text: "血圧".into(), limit: 10 };
    assert_eq!(b.search(&q).unwrap().len(), 1, "高血圧症 is found by 血圧 (o1's second version has no text)");
    assert_eq!(a.search(&q).unwrap().len(), 1);

    // A bad resource: the same error (named by its line), and nothing of the page is kept.
    let bad = r#"{"resourceType":"Observation","id":"not an id!","subject":{"reference":"Patient/p1"}}"#;
    let good = r#"{"resourceType":"Observation","id":"o9","subject":{"reference":"Patient/p1"}}"#;
    let ea_err = a.commit_sync_page(ea, "Observation", format!("{good}\n{bad}\n").into_bytes(), &SyncCursor::default()).unwrap_err();
    let before = stored(&b);
    let values = vec![serde_json::from_str(good).unwrap(), serde_json::from_str(bad).unwrap()];
    let eb_err = b.commit_sync_page_resources(eb, "Observation", values, &SyncCursor::default()).unwrap_err();
    assert_eq!(ea_err.to_string(), eb_err.to_string());
    assert!(eb_err.to_string().contains("line 2"), "{eb_err}");
    assert_eq!(stored(&b), before);
    assert_eq!(b.sync_cursor(eb, "Observation").unwrap(), cursor, "the cursor stays with the last good page");
    // An empty page only moves the cursor.
    let r = b.commit_sync_page_resources(eb, "Observation", Vec::new(), &SyncCursor::default()).unwrap();
    assert_eq!((r.new, r.resources), (0, 0));
    assert_eq!(b.sync_cursor(eb, "Observation").unwrap(), SyncCursor::default());
}

/// Regression (the first sync of 50k resources took 136 s instead of 18 s): committing a sync
/// page asked `records` whether the person had records from another source, which scanned all
/// of the person's records once per page. A page's cost must not grow with the record's size.
/// Measured in SQLite VM steps (deterministic), not time.
#[test]
fn a_sync_page_costs_the_same_whatever_the_records_size() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let (_tmp, _dir, mut v) = new_vault();
    let ep = open_endpoint(&mut v);
    let page = |from: usize, n: usize| -> Vec<u8> {
        (from..from + n)
            .map(|i| {
                format!(
                    r#"{{"resourceType":"Observation","id":"o{i}","status":"final","subject":{{"reference":"Patient/p1"}},"code":{{"text":"体重"}},"effectiveDateTime":"2026-01-01T00:00:00Z","valueQuantity":{{"value":{i},"unit":"kg"}}}}"#
                ) + "\n"
            })
            .collect::<String>()
            .into_bytes()
    };
    let steps = Arc::new(AtomicU64::new(0));
    let cost_of_page = |v: &mut Vault, from: usize| -> u64 {
        let s = steps.clone();
        v.conn.progress_handler(1, Some(move || {
            s.fetch_add(1, Ordering::Relaxed);
            false
        }))
        .unwrap();
        let before = steps.load(Ordering::Relaxed);
        let r = v.commit_sync_page(ep.id, "Observation", page(from, 5), &SyncCursor::default()).unwrap();
        assert_eq!(r.new, 5);
        v.conn.progress_handler(1, None::<fn() -> bool>).unwrap();
        steps.load(Ordering::Relaxed) - before
    };
    v.commit_sync_page(ep.id, "Observation", page(0, 200), &SyncCursor::default()).unwrap();
    let small = cost_of_page(&mut v, 200);
    for from in (205..2205).step_by(250) {
        v.commit_sync_page(ep.id, "Observation", page(from, 250), &SyncCursor::default()).unwrap();
    }
    let big = cost_of_page(&mut v, 5000);
    // Before the fix: 1,934 steps beside 205 records, 11,959 beside 2,205.
    assert!(big * 10 < small * 13, "a 5-resource page cost {small} VM steps beside 205 records and {big} beside 2,205");
}
