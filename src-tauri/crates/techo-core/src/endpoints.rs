//! FHIR endpoints a person's record is synced from: what the vault keeps about each (its sign-in,
//! tokens, per-type cursors, the runs) and the one write a sync makes, [`Vault::commit_sync_page`].
//!
//! - **An endpoint is a source** of kind `endpoint` whose `uri` is the FHIR base URL, so synced
//!   resources get provenance, versions, de-duplication across facilities and indexes exactly
//!   like imported files. Within the endpoint a resource is known by `Type/id`.
//! - **A page and its cursor land together**: the page's resources go through the ordinary
//!   import and the cursor is written inside the same transaction. A sync killed at any point
//!   leaves either the page with its cursor or neither.
//! - **Tokens live only here**, inside the encrypted database, as [`SecretString`]s (redacted
//!   `Debug`, zeroized on drop); nothing in this module logs or returns them in errors.
//! - HTTP is not here (techo-core knows no network): `techo-sync` does the talking.

use crate::error::{Error, Result};
use crate::import::{ImportOptions, ImportReport};
use crate::vault::Vault;
use rusqlite::{params, OptionalExtension};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use techo_fhir::reader::FormatHint;

/// `sources.kind` of FHIR endpoints.
pub const ENDPOINT_SOURCE_KIND: &str = "endpoint";

/// How Techo signs in to an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndpointAuth {
    /// An open server (test and demo endpoints): no token.
    Open,
    /// SMART App Launch (standalone patient launch, authorization code + PKCE).
    Smart {
        client_id: String,
        scope: String,
        authorize_url: String,
        token_url: String,
    },
}

/// Whether an endpoint can be synced now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStatus {
    Ready,
    /// Its sign-in expired or was refused: the person must sign in again (data already pulled stays).
    NeedsSignIn,
    /// The last sync failed (the message says why); the next sync tries again.
    Error,
}

impl EndpointStatus {
    fn as_str(self) -> &'static str {
        match self {
            EndpointStatus::Ready => "ready",
            EndpointStatus::NeedsSignIn => "needs_sign_in",
            EndpointStatus::Error => "error",
        }
    }

    fn parse(s: &str) -> EndpointStatus {
        match s {
            "needs_sign_in" => EndpointStatus::NeedsSignIn,
            "error" => EndpointStatus::Error,
            _ => EndpointStatus::Ready,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// The source id (`techo sources`), also the endpoint's id.
    pub id: i64,
    pub name: String,
    /// The FHIR base URL, without a trailing slash.
    pub base_url: String,
    pub person_id: i64,
    pub facility: Option<String>,
    /// The server's id of the person's Patient (from the sign-in, or given when added).
    pub patient_id: Option<String>,
    pub auth: EndpointAuth,
    pub status: EndpointStatus,
    pub status_message: Option<String>,
    pub last_sync_at: Option<String>,
    pub created_at: String,
    /// Whether tokens are stored (never the tokens themselves).
    pub signed_in: bool,
}

/// A new endpoint.
#[derive(Clone, Debug)]
pub struct NewEndpoint {
    pub name: String,
    pub base_url: String,
    pub person_id: i64,
    pub facility: Option<String>,
    pub patient_id: Option<String>,
    pub auth: EndpointAuth,
}

/// An endpoint's tokens. Not `Serialize`; `Debug` shows no token.
pub struct EndpointTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds when the access token expires, when the server said.
    pub expires_at: Option<i64>,
    pub scope: Option<String>,
}

impl std::fmt::Debug for EndpointTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointTokens")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[redacted]"))
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// A confidential client's signing key for SMART `private_key_jwt` client authentication. Not
/// `Serialize`; `Debug` shows no key material.
pub struct ClientKey {
    /// The key id (`kid`) the assertions carry and the hospital finds in the public JWKS.
    pub kid: String,
    /// The JWS algorithm (`ES384` or `RS384`, as SMART asks).
    pub alg: String,
    /// The private key as a JWK (JSON).
    pub private_jwk: SecretString,
    /// The public key set (JSON) to register with the hospital.
    pub public_jwks: String,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey").field("kid", &self.kid).field("alg", &self.alg).field("private_jwk", &"[redacted]").finish()
    }
}

/// Where the sync of one resource type stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncCursor {
    /// The highest `meta.lastUpdated` of the last complete pass: the next pass asks for later ones.
    pub since: Option<String>,
    /// The pass under way: the next page to fetch (same origin as the base URL).
    pub next_url: Option<String>,
    /// The pass under way: the highest `meta.lastUpdated` it has stored so far.
    pub pass_max: Option<String>,
}

/// One finished sync of one endpoint, as kept in the vault (counts and messages, no health data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncRun {
    pub id: i64,
    pub endpoint_id: i64,
    pub started_at: String,
    pub finished_at: String,
    /// `ok`, `partial` (some types failed), `failed`, `needs_sign_in`.
    pub outcome: String,
    /// The run's report as JSON (per type: new, updated, unchanged, refused; errors; duration).
    pub report: String,
}

/// Trims a base URL to its canonical form (no trailing slash) and checks it is http(s).
pub fn normalize_base_url(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !u.contains(char::is_whitespace) && !u.contains(['?', '#']) => Ok(u.to_owned()),
        _ => Err(Error::InvalidInput(
            "a FHIR endpoint is an http:// or https:// base URL without spaces, query or fragment (for example https://fhir.example-hospital.jp/r4)".into(),
        )),
    }
}

impl Vault {
    /// Adds an endpoint to sync a person's record from.
    pub fn add_endpoint(&mut self, new: &NewEndpoint) -> Result<Endpoint> {
        let base = normalize_base_url(&new.base_url)?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::InvalidInput("an endpoint needs a name of 1 to 200 characters".into()));
        }
        self.person(new.person_id).map_err(|_| Error::NotFound(format!("person {} (see `techo person list`)", new.person_id)))?;
        let tx = self.conn.transaction()?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT e.source_id FROM endpoints e JOIN sources s ON s.id = e.source_id WHERE s.uri = ?1",
                [&base],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Err(Error::InvalidInput(format!("{base} is already added (endpoint {id}); sync it with `techo sync {id}`")));
        }
        let found: Option<i64> =
            tx.query_row("SELECT id FROM sources WHERE kind = ?1 AND uri = ?2", params![ENDPOINT_SOURCE_KIND, base], |r| r.get(0)).optional()?;
        let id = match found {
            Some(id) => {
                tx.execute("UPDATE sources SET name = ?1 WHERE id = ?2", params![name, id])?;
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO sources(kind, name, uri, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![ENDPOINT_SOURCE_KIND, name, base, crate::now()],
                )?;
                tx.last_insert_rowid()
            }
        };
        let auth = serde_json::to_string(&new.auth).map_err(|e| Error::Database(e.to_string()))?;
        tx.execute(
            "INSERT INTO endpoints(source_id, person_id, facility, patient_id, auth, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'ready', ?6)",
            params![id, new.person_id, new.facility, new.patient_id, auth, crate::now()],
        )?;
        tx.commit()?;
        self.endpoint(id)
    }

    /// Every endpoint, oldest first.
    pub fn endpoints(&self) -> Result<Vec<Endpoint>> {
        let mut stmt = self.conn.prepare(
            "SELECT e.source_id, s.name, s.uri, e.person_id, e.facility, e.patient_id, e.auth, e.status, e.status_message,
                    e.last_sync_at, e.created_at, EXISTS(SELECT 1 FROM endpoint_tokens t WHERE t.source_id = e.source_id)
             FROM endpoints e JOIN sources s ON s.id = e.source_id ORDER BY e.source_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, String>(10)?,
                r.get::<_, bool>(11)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, base_url, person_id, facility, patient_id, auth, status, status_message, last_sync_at, created_at, signed_in) = row?;
            let auth = serde_json::from_str(&auth).map_err(|e| Error::Corrupt(format!("endpoint {id}'s sign-in settings: {e}")))?;
            out.push(Endpoint {
                id,
                name,
                base_url,
                person_id,
                facility,
                patient_id,
                auth,
                status: EndpointStatus::parse(&status),
                status_message,
                last_sync_at,
                created_at,
                signed_in,
            });
        }
        Ok(out)
    }

    pub fn endpoint(&self, id: i64) -> Result<Endpoint> {
        self.endpoints()?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| Error::NotFound(format!("endpoint {id} (see `techo endpoint list`)")))
    }

    /// The endpoint named by its id, its name or its base URL.
    pub fn find_endpoint(&self, which: &str) -> Result<Endpoint> {
        let all = self.endpoints()?;
        let which_url = normalize_base_url(which).ok();
        let hits: Vec<&Endpoint> = all
            .iter()
            .filter(|e| which.parse::<i64>().ok() == Some(e.id) || e.name == which.trim() || which_url.as_deref() == Some(&e.base_url))
            .collect();
        match hits.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::NotFound(format!("an endpoint called {which:?} (see `techo endpoint list`)"))),
            _ => Err(Error::InvalidInput(format!("several endpoints are called {which:?}; name it by its id (see `techo endpoint list`)"))),
        }
    }

    /// Changes how Techo signs in to the endpoint.
    pub fn set_endpoint_auth(&mut self, id: i64, auth: &EndpointAuth) -> Result<()> {
        let json = serde_json::to_string(auth).map_err(|e| Error::Database(e.to_string()))?;
        self.update_endpoint(id, "UPDATE endpoints SET auth = ?1 WHERE source_id = ?2", &json)
    }

    /// Records the server's id of the person's Patient (from the sign-in).
    pub fn set_endpoint_patient(&mut self, id: i64, patient_id: &str) -> Result<()> {
        self.update_endpoint(id, "UPDATE endpoints SET patient_id = ?1 WHERE source_id = ?2", patient_id)
    }

    /// Moves the endpoint to another base URL (a server that changed address, e.g. the app's
    /// demo hospital on another loopback port). Its records, cursors and tokens stay; a next
    /// link saved mid-pass on the old address is dropped (the pass restarts from its cursor,
    /// and the old origin never gets the token).
    pub fn set_endpoint_base_url(&mut self, id: i64, base_url: &str) -> Result<Endpoint> {
        let base = normalize_base_url(base_url)?;
        let current = self.endpoint(id)?;
        if current.base_url == base {
            return Ok(current);
        }
        let tx = self.conn.transaction()?;
        let taken: Option<i64> = tx.query_row("SELECT id FROM sources WHERE uri = ?1 AND id != ?2", params![base, id], |r| r.get(0)).optional()?;
        if let Some(other) = taken {
            return Err(Error::InvalidInput(format!("{base} is already the address of source {other}")));
        }
        tx.execute("UPDATE sources SET uri = ?1 WHERE id = ?2", params![base, id])?;
        tx.execute("UPDATE sync_cursors SET next_url = NULL WHERE source_id = ?1", [id])?;
        tx.commit()?;
        self.endpoint(id)
    }

    /// Marks the endpoint ready, needing sign-in, or failed (with a message for the person).
    pub fn set_endpoint_status(&mut self, id: i64, status: EndpointStatus, message: Option<&str>) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE endpoints SET status = ?1, status_message = ?2 WHERE source_id = ?3",
            params![status.as_str(), message, id],
        )?;
        if n == 0 {
            return Err(Error::NotFound(format!("endpoint {id}")));
        }
        Ok(())
    }

    fn update_endpoint(&mut self, id: i64, sql: &str, value: &str) -> Result<()> {
        if self.conn.execute(sql, params![value, id])? == 0 {
            return Err(Error::NotFound(format!("endpoint {id}")));
        }
        Ok(())
    }

    /// Stores the endpoint's tokens (replacing any before) and marks it ready.
    pub fn save_endpoint_tokens(&mut self, id: i64, tokens: &EndpointTokens) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO endpoint_tokens(source_id, access_token, refresh_token, expires_at, scope, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(source_id) DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token,
                 expires_at = excluded.expires_at, scope = excluded.scope, updated_at = excluded.updated_at",
            params![
                id,
                tokens.access_token.expose_secret(),
                tokens.refresh_token.as_ref().map(|t| t.expose_secret().to_owned()),
                tokens.expires_at,
                tokens.scope,
                crate::now()
            ],
        )?;
        tx.execute("UPDATE endpoints SET status = 'ready', status_message = NULL WHERE source_id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// The endpoint's tokens, if it is signed in.
    pub fn endpoint_tokens(&self, id: i64) -> Result<Option<EndpointTokens>> {
        Ok(self
            .conn
            .query_row(
                "SELECT access_token, refresh_token, expires_at, scope FROM endpoint_tokens WHERE source_id = ?1",
                [id],
                |r| {
                    Ok(EndpointTokens {
                        access_token: SecretString::from(r.get::<_, String>(0)?),
                        refresh_token: r.get::<_, Option<String>>(1)?.map(SecretString::from),
                        expires_at: r.get(2)?,
                        scope: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Stores the endpoint's client key (replacing any before): from now on its token requests
    /// authenticate with `private_key_jwt`.
    pub fn save_endpoint_client_key(&mut self, id: i64, key: &ClientKey) -> Result<()> {
        self.endpoint(id)?;
        self.conn.execute(
            "INSERT INTO endpoint_client_keys(source_id, kid, alg, private_jwk, public_jwks, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(source_id) DO UPDATE SET kid = excluded.kid, alg = excluded.alg, private_jwk = excluded.private_jwk,
                 public_jwks = excluded.public_jwks, created_at = excluded.created_at",
            params![id, key.kid, key.alg, key.private_jwk.expose_secret(), key.public_jwks, crate::now()],
        )?;
        Ok(())
    }

    /// The endpoint's client key, when it authenticates with `private_key_jwt`.
    pub fn endpoint_client_key(&self, id: i64) -> Result<Option<ClientKey>> {
        Ok(self
            .conn
            .query_row("SELECT kid, alg, private_jwk, public_jwks FROM endpoint_client_keys WHERE source_id = ?1", [id], |r| {
                Ok(ClientKey { kid: r.get(0)?, alg: r.get(1)?, private_jwk: SecretString::from(r.get::<_, String>(2)?), public_jwks: r.get(3)? })
            })
            .optional()?)
    }

    /// Forgets the endpoint's tokens (sign out); the records already pulled stay.
    pub fn forget_endpoint_tokens(&mut self, id: i64) -> Result<()> {
        self.conn.execute("DELETE FROM endpoint_tokens WHERE source_id = ?1", [id])?;
        Ok(())
    }

    /// Where the sync of every resource type of the endpoint stands.
    pub fn sync_cursors(&self, id: i64) -> Result<Vec<(String, SyncCursor)>> {
        let mut stmt = self.conn.prepare("SELECT rtype, since, next_url, pass_max FROM sync_cursors WHERE source_id = ?1 ORDER BY rtype")?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, SyncCursor { since: r.get(1)?, next_url: r.get(2)?, pass_max: r.get(3)? })))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn sync_cursor(&self, id: i64, rtype: &str) -> Result<SyncCursor> {
        Ok(self
            .conn
            .query_row(
                "SELECT since, next_url, pass_max FROM sync_cursors WHERE source_id = ?1 AND rtype = ?2",
                params![id, rtype],
                |r| Ok(SyncCursor { since: r.get(0)?, next_url: r.get(1)?, pass_max: r.get(2)? }),
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Stores one page of a sync: `ndjson` (the page's resources, one per line, already checked
    /// to be this endpoint's patient's) goes through the import into the endpoint's person, and
    /// `cursor` is written in the same transaction. An empty page only moves the cursor.
    pub fn commit_sync_page(&mut self, id: i64, rtype: &str, ndjson: Vec<u8>, cursor: &SyncCursor) -> Result<ImportReport> {
        let ep = self.endpoint(id)?;
        let write_cursor = |tx: &rusqlite::Connection| write_sync_cursor(tx, id, rtype, cursor);
        if ndjson.iter().all(u8::is_ascii_whitespace) {
            let tx = self.conn.transaction()?;
            write_cursor(&tx)?;
            tx.commit()?;
            return Ok(ImportReport { file: format!("{} {rtype}", ep.name), person_id: ep.person_id, ..Default::default() });
        }
        let len = ndjson.len() as u64;
        let opts = ImportOptions { person: Some(ep.person_id), source_name: Some(ep.name.clone()) };
        let shown = format!("{} ({rtype} page)", ep.name);
        self.import_reader_then(
            &shown,
            ENDPOINT_SOURCE_KIND,
            &ep.name,
            &ep.base_url,
            std::io::Cursor::new(ndjson),
            len,
            FormatHint::Ndjson,
            &opts,
            &mut |_| {},
            &mut |tx, source_id| {
                if source_id != id {
                    return Err(Error::Database(format!("endpoint {id} wrote through source {source_id}")));
                }
                write_cursor(tx)
            },
        )
    }

    /// [`Vault::commit_sync_page`] for a page whose resources are already parsed (the sync
    /// engine parsed the HTTP body to check the page): the same import, cursor and transaction,
    /// without writing the resources out as NDJSON and parsing them again.
    pub fn commit_sync_page_resources(&mut self, id: i64, rtype: &str, resources: Vec<serde_json::Value>, cursor: &SyncCursor) -> Result<ImportReport> {
        self.commit_sync_page_prepared(id, rtype, crate::PreparedPage::new(resources), cursor)
    }

    /// [`Vault::commit_sync_page_resources`] for a page prepared beforehand, on another thread
    /// ([`crate::PreparedPage::new`]): this does only the database work.
    pub fn commit_sync_page_prepared(&mut self, id: i64, rtype: &str, page: crate::PreparedPage, cursor: &SyncCursor) -> Result<ImportReport> {
        let ep = self.endpoint(id)?;
        let write_cursor = |tx: &rusqlite::Connection| write_sync_cursor(tx, id, rtype, cursor);
        let shown = format!("{} ({rtype} page)", ep.name);
        if page.is_empty_and_valid() {
            let tx = self.conn.transaction()?;
            write_cursor(&tx)?;
            tx.commit()?;
            return Ok(ImportReport { file: format!("{} {rtype}", ep.name), person_id: ep.person_id, ..Default::default() });
        }
        let opts = ImportOptions { person: Some(ep.person_id), source_name: Some(ep.name.clone()) };
        self.import_prepared_then(&shown, ENDPOINT_SOURCE_KIND, &ep.name, &ep.base_url, page, &opts, &mut |tx, source_id| {
            if source_id != id {
                return Err(Error::Database(format!("endpoint {id} wrote through source {source_id}")));
            }
            write_cursor(tx)
        })
    }

    /// Records a finished sync run and the endpoint's last-sync time.
    pub fn record_sync_run(&mut self, id: i64, started_at: &str, outcome: &str, report_json: &str) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let now = crate::now();
        tx.execute(
            "INSERT INTO sync_runs(source_id, started_at, finished_at, outcome, report) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, started_at, now, outcome, report_json],
        )?;
        let run = tx.last_insert_rowid();
        tx.execute("UPDATE endpoints SET last_sync_at = ?1 WHERE source_id = ?2", params![now, id])?;
        tx.commit()?;
        Ok(run)
    }

    /// The endpoint's latest sync runs, newest first.
    pub fn sync_runs(&self, id: i64, limit: usize) -> Result<Vec<SyncRun>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, source_id, started_at, finished_at, outcome, report FROM sync_runs WHERE source_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![id, limit as i64], |r| {
            Ok(SyncRun { id: r.get(0)?, endpoint_id: r.get(1)?, started_at: r.get(2)?, finished_at: r.get(3)?, outcome: r.get(4)?, report: r.get(5)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A sync page's cursor, written in the page's transaction.
fn write_sync_cursor(tx: &rusqlite::Connection, id: i64, rtype: &str, cursor: &SyncCursor) -> Result<()> {
    tx.execute(
        "INSERT INTO sync_cursors(source_id, rtype, since, next_url, pass_max, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(source_id, rtype) DO UPDATE SET since = excluded.since, next_url = excluded.next_url,
             pass_max = excluded.pass_max, updated_at = excluded.updated_at",
        params![id, rtype, cursor.since, cursor.next_url, cursor.pass_max, crate::now()],
    )?;
    Ok(())
}
