//! Pushing the vault's research copies to a research FHIR server: batch Bundles of `PUT
//! Type/pseudonym` (idempotent: a copy sent twice is one resource on the server), each entry's
//! outcome recorded in the vault's queue (sent, or failed with the reason, tried again next
//! time). Copies are already pseudonymised (techo-core's research queue); nothing else leaves.

use crate::error::{Result, SyncError};
use crate::http::{Fetched, Http};
use serde_json::{json, Value};
use techo_core::Vault;

/// Entries per batch Bundle.
pub const PUSH_BATCH: u32 = 100;

/// What a push did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PushReport {
    /// Copies the server accepted.
    pub pushed: u64,
    /// Copies the server refused (each kept as failed, with the reason, for the next push).
    pub failed: u64,
    /// Batch requests sent.
    pub batches: u64,
}

/// Pushes every copy waiting in the queue (pending or failed before) to the FHIR server at
/// `base`. A server that cannot be reached or answers garbage stops the push with a clear error;
/// the batch in flight is marked failed with that reason and what was sent before stays sent.
pub fn push_research(vault: &mut Vault, http: &Http, base: &url::Url, name: &str) -> Result<PushReport> {
    let mut report = PushReport::default();
    let destination = base.as_str().trim_end_matches('/').to_owned();
    let mut after = 0;
    loop {
        let batch = vault.research_batch(after, PUSH_BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let mut entries = Vec::with_capacity(batch.len());
        for item in &batch {
            let resource: Value = serde_json::from_str(&item.resource)
                .map_err(|_| techo_core::Error::Corrupt(format!("research copy {} is not JSON", item.id)))?;
            entries.push(json!({
                "resource": resource,
                "request": { "method": "PUT", "url": format!("{}/{}", item.rtype, item.pseudonym) }
            }));
        }
        let body = serde_json::to_vec(&json!({ "resourceType": "Bundle", "type": "batch", "entry": entries }))
            .map_err(|e| techo_core::Error::Database(format!("a batch could not be written: {e}")))?;
        report.batches += 1;
        let reply = match http.post_fhir(name, base, &body, None) {
            Ok(Fetched::Json(v)) => v,
            Ok(Fetched::Unauthorized) => {
                let why = "the research server refused the request (401: it needs a sign-in Techo does not have)".to_owned();
                let failed: Vec<(i64, String)> = batch.iter().map(|i| (i.id, why.clone())).collect();
                vault.research_results(&destination, &[], &failed)?;
                return Err(SyncError::Status { endpoint: name.to_owned(), status: 401, detail: String::new(), advice: "the research server needs a sign-in; use an open research endpoint or ask its operator" });
            }
            Err(e) => {
                let why = e.to_string();
                let failed: Vec<(i64, String)> = batch.iter().map(|i| (i.id, why.clone())).collect();
                vault.research_results(&destination, &[], &failed)?;
                return Err(e);
            }
        };
        let answers = reply.get("entry").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if reply.get("resourceType").and_then(Value::as_str) != Some("Bundle") || answers.len() != batch.len() {
            let why = format!("the server's reply to a batch of {} did not answer each entry", batch.len());
            let failed: Vec<(i64, String)> = batch.iter().map(|i| (i.id, why.clone())).collect();
            vault.research_results(&destination, &[], &failed)?;
            return Err(SyncError::Garbage { endpoint: name.to_owned(), what: why });
        }
        let mut sent = vec![];
        let mut failed = vec![];
        for (item, answer) in batch.iter().zip(answers) {
            let status = answer.pointer("/response/status").and_then(Value::as_str).unwrap_or("");
            let code: u16 = status.split_whitespace().next().and_then(|c| c.parse().ok()).unwrap_or(0);
            if (200..300).contains(&code) {
                sent.push(item.id);
            } else {
                // The status and the OperationOutcome's issue codes; never its free text.
                let issues: Vec<&str> = answer
                    .pointer("/response/outcome/issue")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|i| i.get("code").and_then(Value::as_str)).take(3).collect())
                    .unwrap_or_default();
                let why = if issues.is_empty() {
                    format!("the server answered {}", if status.is_empty() { "nothing" } else { status })
                } else {
                    format!("the server answered {status} (issue: {})", issues.join(", "))
                };
                failed.push((item.id, why));
            }
        }
        report.pushed += sent.len() as u64;
        report.failed += failed.len() as u64;
        vault.research_results(&destination, &sent, &failed)?;
    }
    Ok(report)
}
