//! The audit chain: it verifies as written, the database refuses edits, and any edit or removal
//! made behind the database's back (triggers dropped) is found by `verify_audit`.

use crate::*;
use secrecy::SecretString;

fn vault_with_log(n: usize) -> (tempfile::TempDir, Vault) {
    let tmp = tempfile::tempdir().unwrap();
    let (mut v, _) = Vault::create(&tmp.path().join("v"), &SecretString::from("correct horse battery"), None).unwrap();
    let p = v.add_person("A", None, &[]).unwrap();
    for i in 0..n {
        let records: Vec<i64> = (0..i as i64).collect();
        v.audit(&AuditInput {
            kind: AuditKind::ALL[i % AuditKind::ALL.len()],
            person_id: Some(p),
            recipient: "the person",
            purpose: "PATRQT",
            why: "test",
            records: &records,
            denied: 0,
            scope: None,
        })
        .unwrap();
    }
    (tmp, v)
}

fn unprotect(v: &Vault) {
    v.conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;").unwrap();
}

#[test]
fn a_written_chain_verifies_and_reads_back_as_audit_events() {
    let (_t, v) = vault_with_log(8);
    let r = v.verify_audit().unwrap();
    assert_eq!(r, AuditVerification { entries: 8, problem: None });
    let log = v.audit_log(None, 0, 100).unwrap();
    assert_eq!(log.len(), 8);
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1);
        assert_eq!(e.event["resourceType"], "AuditEvent");
        assert_eq!(e.event["subtype"][0]["code"], AuditKind::ALL[i % 6].code());
        assert!(e.event["recorded"].is_string());
    }
    // Newest first, paged back.
    let newest: Vec<i64> = v.audit_log_newest(None, None, 3).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(newest, vec![8, 7, 6]);
    let older: Vec<i64> = v.audit_log_newest(None, Some(6), 100).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(older, vec![5, 4, 3, 2, 1]);
    // Paging and the person filter.
    assert_eq!(v.audit_log(None, 6, 100).unwrap().len(), 2);
    assert_eq!(v.audit_log(Some(999), 0, 100).unwrap().len(), 0);
}

#[test]
fn an_empty_log_verifies() {
    let (_t, v) = vault_with_log(0);
    assert!(v.verify_audit().unwrap().ok());
}

#[test]
fn the_database_refuses_to_change_or_remove_a_row() {
    let (_t, v) = vault_with_log(3);
    for sql in ["UPDATE audit_log SET event = '{}' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 3", "DELETE FROM audit_log"] {
        let e = v.conn.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert!(v.verify_audit().unwrap().ok());
}

/// Every way of tampering, each on every row position: found, at the right row.
#[test]
fn any_edit_or_removal_is_detected() {
    let n = 5;
    for seq in 1..=n as i64 {
        for how in ["edit-event", "edit-time", "edit-hash", "delete", "swap-event"] {
            let (_t, v) = vault_with_log(n);
            unprotect(&v);
            let sql = match how {
                "edit-event" => format!("UPDATE audit_log SET event = replace(event, 'Techo', 'Tech0') WHERE seq = {seq}"),
                "edit-time" => format!("UPDATE audit_log SET recorded_at = '2000-01-01T00:00:00.000Z' WHERE seq = {seq}"),
                "edit-hash" => format!("UPDATE audit_log SET hash = zeroblob(32) WHERE seq = {seq}"),
                "delete" => format!("DELETE FROM audit_log WHERE seq = {seq}"),
                _ => format!("UPDATE audit_log SET event = (SELECT event FROM audit_log WHERE seq = {}) WHERE seq = {seq}", if seq == 1 { 2 } else { 1 }),
            };
            assert_eq!(v.conn.execute(&sql, []).unwrap(), 1, "{how} {seq}");
            let r = v.verify_audit().unwrap();
            let (bad, why) = r.problem.clone().unwrap_or_else(|| panic!("{how} of entry {seq} went unnoticed"));
            assert!(bad <= seq + 1 && bad >= seq.min(n as i64), "{how} of {seq} reported at {bad}: {why}");
        }
    }
}

#[test]
fn removing_the_last_entries_is_detected_through_the_head() {
    let (_t, v) = vault_with_log(4);
    unprotect(&v);
    v.conn.execute("DELETE FROM audit_log WHERE seq >= 3", []).unwrap();
    let r = v.verify_audit().unwrap();
    assert_eq!(r.problem.as_ref().map(|p| p.0), Some(3), "{r:?}");
    // And removing everything.
    v.conn.execute("DELETE FROM audit_log", []).unwrap();
    assert!(!v.verify_audit().unwrap().ok());
}

#[test]
fn a_long_record_list_is_summarised_by_its_hash() {
    let (_t, mut v) = vault_with_log(0);
    let records: Vec<i64> = (1..=5000).collect();
    v.audit(&AuditInput { kind: AuditKind::Export, person_id: None, recipient: "the person", purpose: "PATRQT", why: "export", records: &records, denied: 2, scope: None }).unwrap();
    let e = &v.audit_log(None, 0, 1).unwrap()[0].event;
    let detail = &e["entity"][0]["detail"][0];
    assert_eq!(detail["type"], "records-sha256");
    assert_eq!(e["entity"][0]["description"], "5000 disclosed, 2 held back by consent");
}
