//! Pseudonymised copies for research (secondary use), NeXEHRS-style: a record is copied once
//! its delay has passed (default 30 days after it arrived), only while the person's research
//! consent permits (`techo_consent::plan_research_copies` and the policy gate), pseudonymised
//! by techo-pseudo's research profile with this vault's own secret. Copies wait in
//! `research_copies` until they are written out (NDJSON) or pushed (techo-sync); an opt-out
//! withdraws those not yet sent.

use crate::disclosure::{gate, Disclosure, Exit};
use crate::error::{Error, Result};
use crate::settings::Setting;
use crate::vault::Vault;
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use techo_consent::{plan_research_copies, Candidate, Purpose, Recipient};
use techo_pseudo::{Config, Pseudonymiser};

const SECRET_KEY: &str = "research.secret";
/// The default delay before a record may be copied, in days.
pub const DEFAULT_RESEARCH_DELAY_DAYS: i64 = 30;
/// Records pseudonymised per transaction.
const CHUNK: usize = 2000;

/// What one research run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResearchRun {
    /// Copies made (now waiting to be sent).
    pub made: u64,
    /// Records not copied yet: their delay has not passed.
    pub waiting: u64,
    /// Records the person's research consent keeps out (opted out, or arrived before an opt-out).
    pub held_back: u64,
}

/// The queue, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResearchStatus {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    pub withdrawn: u64,
    pub delay_days: i64,
    /// The failed copies (at most 100): id, type, tries, the reason.
    pub failures: Vec<ResearchFailure>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ResearchFailure {
    pub id: i64,
    pub rtype: String,
    pub attempts: i64,
    pub reason: String,
}

/// One copy to send.
#[derive(Clone, Debug)]
pub struct ResearchItem {
    pub id: i64,
    pub rtype: String,
    /// The pseudonymised resource's id.
    pub pseudonym: String,
    /// The pseudonymised resource, JSON text.
    pub resource: String,
}

/// What a send (file or push) did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResearchSent {
    pub sent: u64,
    pub failed: u64,
    /// Files written (NDJSON export).
    pub files: Vec<PathBuf>,
}

impl Vault {
    /// Days a record waits before it may be copied for research.
    pub fn research_delay_days(&self) -> Result<i64> {
        Ok(self.setting_i64(Setting::ResearchDelayDays)?.unwrap_or(DEFAULT_RESEARCH_DELAY_DAYS))
    }

    /// This vault's pseudonymisation secret (random, made on first use, kept in the encrypted
    /// database): pseudonyms are stable across runs and unlinkable across vaults.
    fn research_secret(&mut self) -> Result<[u8; 32]> {
        let have: Option<String> = self.conn.query_row("SELECT value FROM vault_meta WHERE key = ?1", [SECRET_KEY], |r| r.get(0)).optional()?;
        let text = match have {
            Some(t) => t,
            None => {
                let mut b = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
                let t = hex::encode(b);
                self.conn.execute("INSERT INTO vault_meta(key, value) VALUES (?1, ?2)", params![SECRET_KEY, t])?;
                t
            }
        };
        let bytes = hex::decode(text).map_err(|_| Error::Corrupt("the research secret is unreadable".into()))?;
        bytes.try_into().map_err(|_| Error::Corrupt("the research secret has the wrong length".into()))
    }

    /// Makes the research copies that are due: for each person, the records whose delay has
    /// passed and that have no copy of their current version, if the research consent permits
    /// now (and permitted since the record arrived). `config`: the pseudonymisation rules
    /// (default: techo-pseudo's research profile).
    pub fn make_research_copies(&mut self, delay: chrono::Duration, config: Option<Config>) -> Result<ResearchRun> {
        let secret = self.research_secret()?;
        let config = match config {
            Some(c) => c,
            None => Config::research_profile(),
        };
        let pseudo = Pseudonymiser::new(config, secret)?;
        let now = chrono::Utc::now();
        let today = now.date_naive();
        let persons: Vec<i64> = self.persons()?.into_iter().map(|p| p.id).collect();
        let mut run = ResearchRun::default();
        for person in persons {
            let (state, _) = crate::consent::load(&self.conn, person)?;
            let candidates = self.research_candidates(person)?;
            let due = plan_research_copies(&state, &candidates, &|_| false, delay, now);
            let due_set: HashSet<i64> = due.iter().copied().collect();
            for c in &candidates {
                if !due_set.contains(&c.key) {
                    if c.entered_at + delay > now {
                        run.waiting += 1;
                    } else {
                        run.held_back += 1;
                    }
                }
            }
            let person_key = format!("person:{person}");
            for chunk in due.chunks(CHUNK) {
                let only: HashSet<i64> = chunk.iter().copied().collect();
                let d = Disclosure {
                    exit: Exit::ResearchCopy,
                    recipient: Recipient::Research { destination: "the research queue".into() },
                    purpose: Purpose::Research,
                    person: Some(person),
                    scope: crate::Scope::default(),
                };
                let tx = self.conn.unchecked_transaction()?;
                let made_at = crate::now();
                let gated = {
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO research_copies(record_id, version, person_id, made_at, rtype, pseudonym, resource, state)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
                    )?;
                    gate(&tx, &d, Some(&only), &mut |row| {
                        let mut v: Value = serde_json::from_str(&row.text).map_err(|_| Error::Corrupt(format!("record {} is not JSON", row.record_id)))?;
                        if v.get("id").and_then(Value::as_str).is_none() {
                            // Resources stored without an id get one from the vault, so their
                            // pseudonym is stable too.
                            if let Some(o) = v.as_object_mut() {
                                o.insert("id".into(), Value::String(format!("techo-{}", row.record_id)));
                            }
                        }
                        let out = pseudo.pseudonymise(&v, &person_key, today)?;
                        let pseudonym = out.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                        insert.execute(params![row.record_id, row.version, person, made_at, row.rtype, pseudonym, crate::pack(&out.to_string())])?;
                        Ok(())
                    })?
                };
                let report = gated.audit(&tx, &d, true)?;
                tx.commit()?;
                run.made += report.disclosed;
                run.held_back += report.denied_total();
            }
        }
        Ok(run)
    }

    fn research_candidates(&self, person: i64) -> Result<Vec<Candidate>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.updated_at FROM records r WHERE r.person_id = ?1
             AND NOT EXISTS (SELECT 1 FROM research_copies c WHERE c.record_id = r.id AND c.version = r.version) ORDER BY r.id",
        )?;
        let rows = stmt.query_map([person], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = vec![];
        for row in rows {
            let (key, at) = row?;
            let entered_at = chrono::DateTime::parse_from_rfc3339(&at)
                .map_err(|_| Error::Corrupt(format!("record {key} has an unreadable arrival time")))?
                .with_timezone(&chrono::Utc);
            out.push(Candidate { key, entered_at });
        }
        Ok(out)
    }

    /// Copies waiting to be sent (pending, or failed before), oldest first, after `after_id`.
    pub fn research_batch(&self, after_id: i64, limit: u32) -> Result<Vec<ResearchItem>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, rtype, pseudonym, resource FROM research_copies WHERE state IN ('pending', 'failed') AND id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_id, limit], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Vec<u8>>(3)?)))?;
        let mut out = vec![];
        for row in rows {
            let (id, rtype, pseudonym, blob) = row?;
            out.push(ResearchItem { id, rtype, pseudonym, resource: crate::unpack(&blob)? });
        }
        Ok(out)
    }

    /// Records what happened to copies sent to `destination`: `sent` went, `failed` did not
    /// (with the reason, in words without health data). Sent copies are audited per person.
    pub fn research_results(&mut self, destination: &str, sent: &[i64], failed: &[(i64, String)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        let now = crate::now();
        let mut by_person: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        {
            let mut ok = tx.prepare_cached(
                "UPDATE research_copies SET state = 'sent', sent_at = ?2, destination = ?3, attempts = attempts + 1, last_error = NULL
                 WHERE id = ?1 AND state IN ('pending', 'failed') RETURNING person_id, record_id",
            )?;
            for id in sent {
                let row: Option<(i64, i64)> = ok.query_row(params![id, now, destination], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                if let Some((person, record)) = row {
                    by_person.entry(person).or_default().push(record);
                }
            }
            let mut bad = tx.prepare_cached(
                "UPDATE research_copies SET state = 'failed', attempts = attempts + 1, last_error = ?2, destination = ?3 WHERE id = ?1 AND state IN ('pending', 'failed')",
            )?;
            for (id, why) in failed {
                bad.execute(params![id, why, destination])?;
            }
        }
        for (person, records) in &by_person {
            crate::audit::append(
                &tx,
                &crate::audit::AuditInput {
                    kind: crate::audit::AuditKind::ResearchSend,
                    person_id: Some(*person),
                    recipient: &format!("research: {destination}"),
                    purpose: "HRESCH",
                    why: "pseudonymised copies sent",
                    records,
                    denied: 0,
                    scope: None,
                },
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The queue, counted, with the failures' reasons.
    pub fn research_status(&self) -> Result<ResearchStatus> {
        let mut s = ResearchStatus { delay_days: self.research_delay_days()?, ..Default::default() };
        let mut stmt = self.conn.prepare("SELECT state, count(*) FROM research_copies GROUP BY state")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))? {
            let (state, n) = row?;
            match state.as_str() {
                "pending" => s.pending = n,
                "sent" => s.sent = n,
                "failed" => s.failed = n,
                _ => s.withdrawn = n,
            }
        }
        let mut stmt = self.conn.prepare("SELECT id, rtype, attempts, COALESCE(last_error, '') FROM research_copies WHERE state = 'failed' ORDER BY id LIMIT 100")?;
        s.failures = stmt
            .query_map([], |r| Ok(ResearchFailure { id: r.get(0)?, rtype: r.get(1)?, attempts: r.get(2)?, reason: r.get(3)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(s)
    }

    /// Writes every copy waiting to be sent as NDJSON, one file per resource type
    /// (`<Type>-<time>.ndjson` in `dir`, each written whole and synced before the copies count
    /// as sent), and marks them sent.
    pub fn write_research_ndjson(&mut self, dir: &Path) -> Result<ResearchSent> {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ").to_string();
        let mut files: BTreeMap<String, (PathBuf, std::io::BufWriter<std::fs::File>)> = BTreeMap::new();
        let mut ids = vec![];
        let mut after = 0;
        loop {
            let batch = self.research_batch(after, 1000)?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for item in batch {
                if !files.contains_key(&item.rtype) {
                    let path = dir.join(format!("{}-{stamp}.ndjson", item.rtype));
                    let f = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(Error::io(&path))?;
                    files.insert(item.rtype.clone(), (path, std::io::BufWriter::new(f)));
                }
                let (path, w) = files.get_mut(&item.rtype).expect("just inserted");
                w.write_all(item.resource.as_bytes()).and_then(|_| w.write_all(b"\n")).map_err(Error::io(path.clone()))?;
                ids.push(item.id);
            }
        }
        let mut written = vec![];
        for (_, (path, w)) in files {
            let f = w.into_inner().map_err(|e| Error::Io { path: path.clone(), source: e.into_error() })?;
            f.sync_all().map_err(Error::io(&path))?;
            written.push(path);
        }
        let destination = format!("file:{}", dir.display());
        self.research_results(&destination, &ids, &[])?;
        Ok(ResearchSent { sent: ids.len() as u64, failed: 0, files: written })
    }
}
