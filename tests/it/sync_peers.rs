//! Sync end to end through the `techo` CLI against third-party peers, none of them written by
//! us: a FHIR R4 server on Medplum's engine (`tests/peers/fhir-server.mjs`: `FhirRouter` +
//! `MemoryRepository`) and a SMART authorization server on oauth2-mock-server
//! (`tests/peers/auth-server.mjs`). See `tests/peers/README.md`. Both run under `node`, on
//! loopback, started here and killed on drop.
//!
//! What is shown here, against those peers: a full sync stores exactly what the server holds,
//! type by type; the second sync of an unchanged server transfers 0 resources (the server's own
//! log); edits and additions made through the server's FHIR API come exactly; the fault matrix
//! of `sync.rs` with the fault proxy in front of Medplum; SMART sign-in with PKCE, refresh after
//! expiry (proactive) and after a 401 (reactive) with rotating refresh tokens, "needs sign-in"
//! with the data kept; no token on disk or in the CLI's output.
//!
//! Needs `node` (20.19+) and `npm ci` done in `tests/peers` (`scripts/setup.sh` does both).
//! Without them the tests print one line and pass, unless `CI` is set: then they fail.

use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use techo_demo::{Fault, FaultProxy, Rule};
use techo_tests::*;

/// The name every test gives its endpoint; errors must name it.
const NAME: &str = "Medplum Peer";

// ---------------------------------------------------------------------------------------------
// Are the peers runnable here?

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The major version of `node` on PATH, or why the peers cannot run.
fn node_major() -> &'static Result<u32, String> {
    static NODE: OnceLock<Result<u32, String>> = OnceLock::new();
    NODE.get_or_init(|| {
        let out = Command::new("node").arg("--version").stdin(Stdio::null()).output().map_err(|e| format!("`node` is not runnable ({e})"))?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let major: u32 = v.trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).ok_or_else(|| format!("`node --version` printed {v:?}"))?;
        let minor: u32 = v.trim_start_matches('v').split('.').nth(1).and_then(|m| m.parse().ok()).unwrap_or(0);
        if major < 20 || (major == 20 && minor < 19) {
            return Err(format!("node {v} is too old for the peers (they need 20.19 or later)"));
        }
        for dep in ["@medplum/fhir-router", "@medplum/core", "oauth2-mock-server", "jose"] {
            if !peers_dir().join("node_modules").join(dep).join("package.json").is_file() {
                return Err(format!("tests/peers/node_modules lacks {dep} (run `npm ci` in tests/peers)"));
            }
        }
        Ok(major)
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether the peers can run. If not: fails under CI (CI must run these tests), else prints one
/// line on stderr and the test returns early.
fn peers_ready(test: &str) -> bool {
    match node_major() {
        Ok(_) => true,
        Err(why) if in_ci() => panic!("{test}: the Node sync peers cannot run: {why}. CI must run them: scripts/setup.sh installs node and runs `npm ci` in tests/peers"),
        Err(why) => {
            // Straight to stderr, past the test harness's capture of `eprintln!`.
            let _ = writeln!(std::io::stderr(), "skipping {test}: {why}; scripts/setup.sh installs them (with CI set this is a failure)");
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The peers: node processes, killed on drop

/// A `node` process running one of the peers. Killed (and reaped) on drop.
struct NodePeer {
    name: &'static str,
    child: Child,
    /// The URL of its `LISTENING` line.
    url: String,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl NodePeer {
    fn start(name: &'static str, script: &str, args: &[&str]) -> NodePeer {
        let major = *node_major().as_ref().expect("peers_ready was checked");
        let dir = tempfile::Builder::new().prefix("techo-peer-").tempdir().expect("temp dir");
        let stderr = dir.path().join("stderr");
        let mut c = Command::new("node");
        if script == "fhir-server.mjs" && major < 22 {
            // @medplum/core needs the global WebSocket, behind this flag before Node 22.
            c.arg("--experimental-websocket");
        }
        c.arg(peers_dir().join(script))
            .args(args)
            .current_dir(peers_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("peer stderr file"));
        let mut child = c.spawn().unwrap_or_else(|e| panic!("cannot start node {script}: {e}"));
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            // Nothing more is printed; drain anyway until the process ends.
            let _ = std::io::copy(&mut r, &mut std::io::sink());
        });
        let mut peer = NodePeer { name, child, url: String::new(), stderr, _dir: dir };
        let started = Instant::now();
        match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(line) if line.starts_with("LISTENING http://127.0.0.1:") => peer.url = line["LISTENING ".len()..].trim().to_owned(),
            Ok(line) => panic!("{name} did not start: stdout {:?}; {}", line.trim(), peer.stderr_tail()),
            Err(_) => panic!("{name} printed no LISTENING line in {:?}; {}", started.elapsed(), peer.stderr_tail()),
        }
        eprintln!("{name} ready in {:.1} s", started.elapsed().as_secs_f64());
        peer
    }

    /// The end of its stderr (the peers never print tokens or resource contents there).
    fn stderr_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        format!("{} stderr: {}", self.name, lines[lines.len().saturating_sub(10)..].join(" | "))
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Plain HTTP to the peers and to Techo's redirect listener: no redirects followed.
fn http() -> &'static reqwest::blocking::Client {
    static C: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    C.get_or_init(|| {
        reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(120)).build().expect("HTTP client")
    })
}

/// Sends a request; returns (status, body as JSON or Null). Panics only with the URL path.
fn call(req: reqwest::blocking::RequestBuilder, what: &str) -> (u16, Value) {
    let resp = req.send().unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = resp.status().as_u16();
    let body = resp.bytes().unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The Medplum FHIR server (`fhir-server.mjs`).
struct Medplum {
    peer: NodePeer,
}

impl Medplum {
    fn start(issuer: Option<&str>) -> Medplum {
        let mut args = vec!["--port", "0"];
        if let Some(i) = issuer {
            args.extend_from_slice(&["--issuer", i]);
        }
        Medplum { peer: NodePeer::start("fhir-server.mjs (Medplum)", "fhir-server.mjs", &args) }
    }

    /// `http://127.0.0.1:PORT/fhir/R4`
    fn base(&self) -> &str {
        &self.peer.url
    }

    fn origin(&self) -> &str {
        self.base().strip_suffix("/fhir/R4").expect("the FHIR base ends with /fhir/R4")
    }

    /// `POST /__admin/load`; returns how many resources were stored.
    fn load(&self, resources: &[Value]) -> u64 {
        let (status, body) = call(http().post(format!("{}/__admin/load", self.origin())).header("Content-Type", "application/x-ndjson").body(ndjson(resources)), "POST /__admin/load");
        assert_eq!(status, 200, "POST /__admin/load: {}", body.get("failed").cloned().unwrap_or(Value::Null));
        body["loaded"].as_u64().expect("loaded")
    }

    fn log(&self) -> Vec<Value> {
        match call(http().get(format!("{}/__admin/log", self.origin())), "GET /__admin/log") {
            (200, Value::Array(a)) => a,
            (s, _) => panic!("GET /__admin/log: HTTP {s}"),
        }
    }

    fn clear_log(&self) {
        assert_eq!(call(http().post(format!("{}/__admin/log/clear", self.origin())), "POST /__admin/log/clear").0, 200);
    }

    /// Resources the server sent since its log was last cleared.
    fn transferred(&self) -> u64 {
        self.log().iter().map(|l| l["resources"].as_u64().unwrap_or(0)).sum()
    }

    /// FHIR `PUT [type]/[id]` (open server); the stored resource.
    fn put(&self, r: &Value) -> Value {
        let path = format!("{}/{}", r["resourceType"].as_str().expect("resourceType"), r["id"].as_str().expect("id"));
        let (status, body) = call(http().put(format!("{}/{path}", self.base())).header("Content-Type", "application/fhir+json").body(serde_json::to_vec(r).expect("JSON")), &format!("PUT {path}"));
        assert!(status == 200 || status == 201, "PUT {path}: HTTP {status}");
        body
    }

    /// FHIR `POST [type]` (open server; the server picks the id); the stored resource.
    fn post(&self, r: &Value) -> Value {
        let ty = r["resourceType"].as_str().expect("resourceType");
        let (status, body) = call(http().post(format!("{}/{ty}", self.base())).header("Content-Type", "application/fhir+json").body(serde_json::to_vec(r).expect("JSON")), &format!("POST {ty}"));
        assert_eq!(status, 201, "POST {ty}");
        body
    }

    /// From `/metadata`: the types Techo syncs (Patient and the types searchable by `patient`).
    fn patient_types(&self) -> BTreeSet<String> {
        let (status, cs) = call(http().get(format!("{}/metadata", self.base())), "GET /metadata");
        assert_eq!(status, 200, "GET /metadata");
        let mut out = BTreeSet::new();
        for r in cs.pointer("/rest/0/resource").and_then(Value::as_array).expect("rest[0].resource") {
            let ty = r["type"].as_str().expect("type");
            let by_patient = r["searchParam"].as_array().is_some_and(|a| a.iter().any(|p| p["name"] == "patient"));
            if ty == "Patient" || by_patient {
                out.insert(ty.to_owned());
            }
        }
        out
    }

    /// `GET [type]?…&_summary=count` (open server): the server's `total`.
    fn count(&self, ty: &str, query: &str) -> u64 {
        let (status, b) = call(http().get(format!("{}/{ty}?{query}&_summary=count", self.base())), &format!("GET {ty}?_summary=count"));
        assert_eq!(status, 200, "GET {ty}?_summary=count");
        b["total"].as_u64().expect("total")
    }
}

/// The SMART authorization server (`auth-server.mjs`, oauth2-mock-server).
struct AuthServer {
    peer: NodePeer,
}

/// The tokens an authorization server issued (`GET /__admin/issued`). Never printed.
struct Issued {
    access: Vec<String>,
    refresh: Vec<String>,
    id: Vec<String>,
}

impl AuthServer {
    fn start(patient: &str, access_ttl_secs: u64) -> AuthServer {
        let ttl = access_ttl_secs.to_string();
        AuthServer { peer: NodePeer::start("auth-server.mjs (oauth2-mock-server)", "auth-server.mjs", &["--port", "0", "--patient", patient, "--access-ttl", &ttl, "--client-id", "techo"]) }
    }

    /// A confidential-client server: token requests must carry a `private_key_jwt` assertion
    /// signed by a key of the JWKS in `jwks_file` (read at each request).
    fn start_confidential(patient: &str, access_ttl_secs: u64, jwks_file: &Path) -> AuthServer {
        let ttl = access_ttl_secs.to_string();
        let file = jwks_file.to_str().expect("a UTF-8 path");
        AuthServer {
            peer: NodePeer::start(
                "auth-server.mjs (oauth2-mock-server, private_key_jwt)",
                "auth-server.mjs",
                &["--port", "0", "--patient", patient, "--access-ttl", &ttl, "--client-id", "techo", "--client-jwks", file],
            ),
        }
    }

    fn issuer(&self) -> &str {
        &self.peer.url
    }

    /// `[(grant_type, ok)]` of every `POST /token` since the last clear.
    fn log(&self) -> Vec<(String, bool)> {
        let (status, v) = call(http().get(format!("{}/__admin/log", self.issuer())), "GET auth /__admin/log");
        assert_eq!(status, 200);
        v.as_array().expect("array").iter().map(|e| (e["grant_type"].as_str().unwrap_or("null").to_owned(), e["ok"] == true)).collect()
    }

    fn clear_log(&self) {
        assert_eq!(call(http().post(format!("{}/__admin/log/clear", self.issuer())), "POST auth /__admin/log/clear").0, 200);
    }

    /// Every refresh token becomes invalid.
    fn revoke(&self) -> u64 {
        let (status, v) = call(http().post(format!("{}/__admin/revoke", self.issuer())), "POST /__admin/revoke");
        assert_eq!(status, 200);
        v["revoked"].as_u64().expect("revoked")
    }

    fn issued(&self) -> Issued {
        let (status, v) = call(http().get(format!("{}/__admin/issued", self.issuer())), "GET /__admin/issued");
        assert_eq!(status, 200, "GET /__admin/issued (the test-only endpoint of auth-server.mjs)");
        let list = |k: &str| -> Vec<String> { v[k].as_array().expect(k).iter().filter_map(Value::as_str).map(str::to_owned).collect() };
        Issued { access: list("access_tokens"), refresh: list("refresh_tokens"), id: list("id_tokens") }
    }
}

// ---------------------------------------------------------------------------------------------
// Data and CLI helpers (the style of sync.rs)

/// A synthetic record of one person (techo-gen), and its Patient id.
fn record(seed: u64, resources: usize) -> (Vec<Value>, String) {
    let cfg = techo_gen::GenConfig { seed, persons: 1, resources, facilities: 2 };
    (techo_gen::resources(&cfg).collect(), cfg.patient_id(0))
}

/// `Type/id` of the resources Techo syncs from a server with `types` searchable by patient.
fn synced_keys(data: &[Value], types: &BTreeSet<String>) -> BTreeSet<String> {
    data.iter()
        .filter(|r| r["resourceType"].as_str().is_some_and(|t| types.contains(t)))
        .map(|r| format!("{}/{}", r["resourceType"].as_str().unwrap_or("?"), r["id"].as_str().unwrap_or("?")))
        .collect()
}

/// Every CLI output of a test, to search for tokens at the end.
#[derive(Default)]
struct Outputs(RefCell<Vec<Vec<u8>>>);

impl Outputs {
    fn keep(&self, out: Out) -> Out {
        let mut all = self.0.borrow_mut();
        all.push(out.stdout.clone());
        all.push(out.stderr.clone().into_bytes());
        out
    }
}

struct Cli<'a> {
    v: &'a TempVault,
    seen: &'a Outputs,
}

/// Fast retries so fault tests finish quickly.
const FAST: &[&str] = &["--timeout", "3", "--attempts", "3", "--backoff-ms", "50"];

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> Out {
        self.seen.keep(self.v.run(args))
    }

    /// `sync --json` with `extra` args; the one report.
    fn sync(&self, extra: &[&str]) -> (Out, Value) {
        let mut args = vec!["--json", "sync"];
        args.extend_from_slice(FAST);
        if !extra.contains(&"--page-size") {
            args.extend_from_slice(&["--page-size", "100"]);
        }
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let one = out.json().as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Null);
        (out, one)
    }

    fn endpoints(&self) -> Value {
        self.run(&["--json", "endpoint", "list"]).ok().json()
    }

    fn stats(&self) -> Value {
        self.run(&["--json", "stats"]).ok().json()
    }

    /// `endpoint add URL --open --patient P`; the endpoint id.
    #[track_caller]
    fn add_open(&self, url: &str, patient: &str) -> String {
        self.run(&["endpoint", "add", url, "--open", "--patient", patient, "--name", NAME]).ok().stdout_str().trim().to_owned()
    }

    /// `endpoint add URL` (a SMART server); the endpoint id.
    #[track_caller]
    fn add_smart(&self, url: &str) -> String {
        self.run(&["endpoint", "add", url, "--name", NAME]).ok().stdout_str().trim().to_owned()
    }

    /// Like [`Cli::sign_in`] when the token exchange is refused: the CLI's error line (exit 12).
    fn sign_in_refused(&self, endpoint: &str) -> String {
        let out = self.sign_in(endpoint);
        assert_eq!(out.code, 12, "sign-in should fail with exit 12; stderr: {}", out.stderr);
        out.error_line().to_owned()
    }

    /// `endpoint sign-in ID --print-url`, with the test as the browser: GET the authorize URL
    /// (oauth2-mock-server approves at once with a 302), then GET its Location, which is Techo's
    /// loopback listener with the code.
    fn sign_in(&self, endpoint: &str) -> Out {
        let v = self.v;
        let mut c = v.command();
        c.arg("--vault").arg(&v.dir).arg("--passphrase-stdin").args(["endpoint", "sign-in", endpoint, "--print-url", "--timeout", "60"]);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("start techo endpoint sign-in");
        child.stdin.take().expect("stdin").write_all(format!("{}\n", v.passphrase).as_bytes()).expect("passphrase");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut url = String::new();
        stdout.read_line(&mut url).expect("the sign-in URL");
        if !url.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let out = child.wait_with_output().expect("reap");
            panic!("sign-in printed no authorize URL first; stderr: {}", String::from_utf8_lossy(&out.stderr));
        }
        let resp = http().get(url.trim()).send().expect("GET the authorize URL");
        assert_eq!(resp.status().as_u16(), 302, "the authorization server approves with a redirect");
        let back = resp.headers().get("location").and_then(|l| l.to_str().ok()).expect("a Location").to_owned();
        assert!(back.starts_with("http://127.0.0.1:") && back.contains("/callback?"), "the redirect goes to Techo's loopback listener");
        assert!(back.contains("code=") && back.contains("state="), "the redirect carries a code and the state");
        let page = http().get(&back).send().expect("Techo's redirect listener answers");
        assert_eq!(page.status().as_u16(), 200);
        let mut rest = Vec::new();
        let _ = stdout.read_to_end(&mut rest);
        let output = child.wait_with_output().expect("sign-in finishes");
        let mut all_stdout = url.into_bytes();
        all_stdout.extend_from_slice(&rest);
        self.seen.keep(Out {
            code: output.status.code().unwrap_or(-1),
            stdout: all_stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            what: format!("techo endpoint sign-in {endpoint}"),
        })
    }
}

fn totals(report: &Value) -> BTreeMap<&'static str, u64> {
    let mut t = BTreeMap::new();
    for k in ["received", "new", "updated", "unchanged", "merged", "refused"] {
        let n: u64 = report["types"].as_object().map(|m| m.values().map(|c| c[k].as_u64().unwrap_or(0)).sum()).unwrap_or(0);
        t.insert(k, n);
    }
    t
}

/// The vault's record as `Type/id → meta.versionId`, from an export.
fn record_versions(v: &TempVault) -> BTreeMap<String, String> {
    v.export_ndjson(None)
        .into_iter()
        .map(|r| {
            let key = format!("{}/{}", r["resourceType"].as_str().unwrap_or("?"), r["id"].as_str().unwrap_or("?"));
            (key, r.pointer("/meta/versionId").and_then(Value::as_str).unwrap_or("").to_owned())
        })
        .collect()
}

/// `stats --json` → `by_type` as a map.
fn by_type(stats: &Value) -> BTreeMap<String, u64> {
    stats["by_type"].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn medplum_sync_counts_second_sync_and_edits() {
    if !peers_ready("medplum_sync_counts_second_sync_and_edits") {
        return;
    }
    let (data, patient) = record(11, 300);
    let fhir = Medplum::start(None);
    assert_eq!(fhir.load(&data), data.len() as u64, "the server stored every generated resource");

    // What the server holds for this patient, type by type (its own counts).
    let types = fhir.patient_types();
    let mut want_types = BTreeMap::new();
    for ty in &types {
        let n = if ty == "Patient" { fhir.count(ty, &format!("_id={patient}")) } else { fhir.count(ty, &format!("patient={patient}")) };
        assert_eq!(n, fhir.count(ty, "_count=0"), "{ty}: every resource of the server is this patient's");
        want_types.insert(ty.clone(), n);
    }
    let want_keys = synced_keys(&data, &types);
    let n = want_keys.len() as u64;
    assert_eq!(want_types.values().sum::<u64>(), n);
    assert!(n >= 250 && types.len() >= 8, "a record of {n} resources over {} types", types.len());

    let seen = Outputs::default();
    let v = TempVault::new();
    let cli = Cli { v: &v, seen: &seen };
    cli.add_open(fhir.base(), &patient);

    let (out, r) = cli.sync(&[]);
    out.ok();
    let t = totals(&r);
    assert_eq!(r["outcome"], "ok", "{r}");
    assert_eq!((t["received"], t["new"], t["refused"]), (n, n, 0), "{r}");
    let stats = cli.stats();
    assert_eq!(stats["resources"].as_u64(), Some(n), "every resource stored once");
    assert_eq!(by_type(&stats), want_types, "per type, the vault holds what the server holds");
    let versions = record_versions(&v);
    assert_eq!(versions.keys().cloned().collect::<BTreeSet<_>>(), want_keys, "exactly the server's resources");
    assert_eq!(fhir.transferred(), n, "the server sent each resource once");

    // The second sync of an unchanged server moves nothing (the server's own log).
    fhir.clear_log();
    let (out, r) = cli.sync(&[]);
    out.ok();
    assert_eq!(totals(&r)["received"], 0, "{r}");
    let log = fhir.log();
    assert_eq!(fhir.transferred(), 0, "the server sent resources again");
    let searches: Vec<&Value> = log.iter().filter(|l| !l["path"].as_str().is_some_and(|p| p.ends_with("/metadata") || p.contains("smart-configuration"))).collect();
    assert_eq!(searches.len(), types.len(), "one search per type");
    assert!(searches.iter().all(|l| l["query"].as_str().is_some_and(|q| q.contains("_lastUpdated=gt")) && l["status"] == 200), "incremental searches only");

    // Through the server's FHIR API: change three Observations (PUT), add two (POST, and a PUT
    // that creates). Exactly those five come, and the server sends exactly five.
    let exported = v.export_ndjson(None);
    let obs: Vec<Value> = exported.iter().filter(|r| r["resourceType"] == "Observation").take(3).cloned().collect();
    assert_eq!(obs.len(), 3);
    let mut changed = BTreeMap::new();
    for o in &obs {
        let mut o = o.clone();
        o["note"] = json!([{"text": "再検査の結果を追記"}]);
        let stored = fhir.put(&o);
        changed.insert(format!("Observation/{}", o["id"].as_str().unwrap_or("?")), stored.pointer("/meta/versionId").and_then(Value::as_str).unwrap_or("").to_owned());
    }
    let mut fresh = obs[0].clone();
    fresh.as_object_mut().expect("object").remove("id");
    fresh["note"] = json!([{"text": "追加の測定 POST"}]);
    let posted = fhir.post(&fresh);
    let posted_id = posted["id"].as_str().expect("the server's id").to_owned();
    let mut put_new = obs[0].clone();
    put_new["id"] = json!("added-by-put");
    put_new["note"] = json!([{"text": "追加の測定 PUT"}]);
    fhir.put(&put_new);
    fhir.clear_log();
    let (out, r) = cli.sync(&[]);
    out.ok();
    let t = totals(&r);
    assert_eq!((t["received"], t["updated"], t["new"], t["refused"]), (5, 3, 2, 0), "{r}");
    assert_eq!(fhir.transferred(), 5, "the server sent exactly the five");
    assert_eq!(cli.stats()["resources"].as_u64(), Some(n + 2));
    let after = record_versions(&v);
    for (k, ver) in &changed {
        assert_eq!(after.get(k), Some(ver), "{k}: the vault has the server's new version");
    }
    assert!(after.contains_key(&format!("Observation/{posted_id}")) && after.contains_key("Observation/added-by-put"));
    assert_eq!(after.len() as u64, n + 2);
    let hits = cli.run(&["--json", "search", "再検査の結果を追記"]).ok().json();
    assert_eq!(hits.as_array().map(Vec::len), Some(3), "the edits are searchable");
}

#[test]
fn medplum_faults_end_with_a_clear_message_and_nothing_lost() {
    if !peers_ready("medplum_faults_end_with_a_clear_message_and_nothing_lost") {
        return;
    }
    let (data, patient) = record(12, 300);
    let fhir = Medplum::start(None);
    fhir.load(&data);
    let n = synced_keys(&data, &fhir.patient_types()).len() as u64;
    let proxy = FaultProxy::start(fhir.base()).expect("start the fault proxy");
    let seen = Outputs::default();

    // A vault with the endpoint (through the proxy) and nothing synced, copied for each case.
    let empty = TempVault::new();
    Cli { v: &empty, seen: &seen }.add_open(&proxy.base_url(), &patient);
    let clean = TempVault::new();
    let c = Cli { v: &clean, seen: &seen };
    c.add_open(fhir.base(), &patient);
    c.sync(&[]).0.ok();
    let want = record_versions(&clean);
    assert_eq!(want.len() as u64, n);

    // Transient faults: retried, the sync ends complete.
    for fault in [
        Fault::Status { code: 429, retry_after: Some(1) },
        Fault::Status { code: 503, retry_after: Some(0) },
        Fault::Status { code: 500, retry_after: None },
        Fault::Status { code: 502, retry_after: None },
        Fault::Reset,
        Fault::Truncate { keep: 200 },
        Fault::Hang,
    ] {
        let t = TempVault::copy_of(&empty);
        proxy.clear();
        proxy.clear_log();
        proxy.add(Rule::once(fault.clone()).on("/Observation"));
        let started = Instant::now();
        let (out, r) = Cli { v: &t, seen: &seen }.sync(&[]);
        eprintln!("{fault:?}: exit {} after {:?}", out.code, started.elapsed());
        out.ok();
        assert_eq!(r["outcome"], "ok", "{fault:?}: {r}");
        assert_eq!(record_versions(&t), want, "{fault:?}: the vault equals a clean sync");
        assert!(proxy.log().iter().any(|l| l.fault.is_some()), "{fault:?} was injected");
    }

    // Faults that last: one clear error naming the endpoint; the other types still sync;
    // then, the fault gone, the next sync completes with nothing lost or duplicated.
    for (fault, want_msg) in [
        (Fault::Status { code: 503, retry_after: Some(3600) }, "wait 3600 s"),
        (Fault::Status { code: 500, retry_after: None }, "HTTP 500"),
        (Fault::HtmlErrorPage, "HTML page"),
        (Fault::InvalidJson, "invalid JSON"),
        (Fault::OperationOutcome, "HTTP 500"),
        (Fault::WrongResourceType, "a Patient where a search-result Bundle"),
        (Fault::Truncate { keep: 100 }, "cut off"),
        (Fault::SlowBody { bytes_per_sec: 2000 }, "timed out"),
        (Fault::Reset, "could not reach"),
        (Fault::ForeignNextLink, "another site"),
        (Fault::Status { code: 404, retry_after: None }, "HTTP 404"),
    ] {
        let t = TempVault::copy_of(&empty);
        let cli = Cli { v: &t, seen: &seen };
        proxy.clear();
        proxy.add(Rule::always(fault.clone()).on("/Observation"));
        let started = Instant::now();
        let (out, r) = cli.sync(&[]);
        eprintln!("{fault:?}: exit {} after {:?}", out.code, started.elapsed());
        assert_eq!(out.code, 11, "{fault:?}: {r}");
        let errors: Vec<&str> = r["errors"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        assert!(errors.iter().any(|e| e.contains(want_msg) && e.contains(NAME)), "{fault:?}: {errors:?}");
        assert!(out.stderr.lines().any(|l| l.starts_with("techo: error:") && l.contains(NAME)), "{fault:?}: the error is on stderr");
        assert!(totals(&r)["new"] > 0, "{fault:?}: the other types still sync");
        let got = record_versions(&t);
        assert!(got.iter().all(|(k, ver)| want.get(k) == Some(ver)), "{fault:?}: only the server's resources, none changed");
        proxy.clear();
        cli.sync(&[]).0.ok();
        assert_eq!(record_versions(&t), want, "{fault:?}: after the fault, the vault equals a clean sync");
    }

    // Another patient's resources: refused and reported; the rest stored.
    let t = TempVault::copy_of(&empty);
    proxy.clear();
    proxy.add(Rule::always(Fault::OtherPatient { patient_id: "someone-else".into() }).on("/Condition"));
    let (out, r) = Cli { v: &t, seen: &seen }.sync(&[]);
    out.ok();
    let conditions = want.keys().filter(|k| k.starts_with("Condition/")).count() as u64;
    assert!(conditions > 0);
    assert_eq!(totals(&r)["refused"], conditions, "{r}");
    let refused: Vec<&str> = r["refused"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    assert_eq!(refused.len() as u64, conditions, "each refused resource is reported");
    assert!(refused.iter().all(|s| s.starts_with("Condition/") && s.contains("another patient")), "{refused:?}");
    assert_eq!(record_versions(&t).len() as u64, n - conditions);
    proxy.clear();
}

#[test]
fn pkce_against_oauth2_mock_server_with_refresh_after_expiry() {
    if !peers_ready("pkce_against_oauth2_mock_server_with_refresh_after_expiry") {
        return;
    }
    const TTL: u64 = 2;
    let (data, patient) = record(13, 200);
    let auth = AuthServer::start(&patient, TTL);
    let fhir = Medplum::start(Some(auth.issuer()));
    fhir.load(&data);
    let n = synced_keys(&data, &fhir.patient_types()).len() as u64;
    let seen = Outputs::default();
    let v = TempVault::new();
    let cli = Cli { v: &v, seen: &seen };

    // Discovery finds SMART (Medplum's smart-configuration points at oauth2-mock-server).
    let id = cli.add_smart(fhir.base());
    let eps = cli.endpoints();
    assert_eq!(eps[0]["signed_in"], false);
    assert!(eps[0]["patient_id"].is_null(), "the patient comes from the sign-in");
    let (out, r) = cli.sync(&[]);
    out.expect_code(10);
    assert_eq!(r["outcome"], "needs_sign_in", "{r}");

    cli.sign_in(&id).ok();
    assert_eq!(auth.log(), vec![("authorization_code".to_owned(), true)], "one code exchange (PKCE checked by the server)");
    let eps = cli.endpoints();
    assert_eq!(eps[0]["signed_in"], true);
    assert_eq!(eps[0]["patient_id"].as_str(), Some(patient.as_str()), "the patient comes from the token response");

    let (out, r) = cli.sync(&[]);
    out.ok();
    assert_eq!((totals(&r)["new"], totals(&r)["refused"]), (n, 0), "{r}");

    // The access token expires; a resource is added; the sync goes on through a refresh.
    std::thread::sleep(Duration::from_secs(TTL + 1));
    let extra = json!({"resourceType": "Observation", "id": "after-expiry", "status": "final", "code": {"text": "体温"}, "subject": {"reference": format!("Patient/{patient}")}});
    fhir.load(&[extra]);
    auth.clear_log();
    fhir.clear_log();
    let (out, r) = cli.sync(&[]);
    out.ok();
    assert_eq!((totals(&r)["received"], totals(&r)["new"]), (1, 1), "{r}");
    let grants = auth.log();
    assert!(grants.contains(&("refresh_token".to_owned(), true)), "a refresh_token grant succeeded: {grants:?}");
    assert!(grants.iter().all(|(g, ok)| g == "refresh_token" && *ok), "only good refreshes (rotation kept across runs): {grants:?}");
    assert_eq!(cli.stats()["resources"].as_u64(), Some(n + 1));

    // The refresh tokens are revoked and the access token expires: "needs sign-in", the data stays.
    assert!(auth.revoke() >= 1);
    std::thread::sleep(Duration::from_secs(TTL + 1));
    let before = cli.stats();
    auth.clear_log();
    let (out, r) = cli.sync(&[]);
    let out = out.expect_code(10);
    assert_eq!(r["outcome"], "needs_sign_in", "{r}");
    assert!(out.stderr.contains("sign in again") && out.stderr.contains(NAME), "one clear message naming the endpoint: {}", out.stderr);
    assert!(auth.log().contains(&("refresh_token".to_owned(), false)), "the refresh was tried and refused");
    assert_eq!(cli.stats(), before, "nothing lost");
    let eps = cli.endpoints();
    assert_eq!(eps[0]["status"], "needs_sign_in");
    assert_eq!(eps[0]["signed_in"], false);
    assert_eq!(record_versions(&v).len() as u64, n + 1);
    // Many tokens went by (a 2 s token is renewed before each request): none was written down.
    assert_no_token_anywhere(&auth, &v, &seen);
}

#[test]
fn no_token_on_disk() {
    if !peers_ready("no_token_on_disk") {
        return;
    }
    let (data, patient) = record(14, 150);
    let auth = AuthServer::start(&patient, 3600);
    let fhir = Medplum::start(Some(auth.issuer()));
    fhir.load(&data);
    // Through the fault proxy, to get a real 401 mid-sync (the access token is long-lived).
    let proxy = FaultProxy::start(fhir.base()).expect("start the fault proxy");
    let seen = Outputs::default();
    let v = TempVault::new();
    let cli = Cli { v: &v, seen: &seen };
    let id = cli.add_smart(&proxy.base_url());

    cli.sign_in(&id).ok();
    cli.sync(&[]).0.ok();
    // A 401 on a search: one refresh (rotation), the request again, the sync completes.
    fhir.load(&[json!({"resourceType": "Observation", "id": "after-401", "status": "final", "code": {"text": "脈拍"}, "subject": {"reference": format!("Patient/{patient}")}})]);
    auth.clear_log();
    proxy.add(Rule::once(Fault::Unauthorized).on("/Observation"));
    let (out, r) = cli.sync(&[]);
    out.ok();
    assert_eq!(totals(&r)["new"], 1, "{r}");
    assert_eq!(auth.log(), vec![("refresh_token".to_owned(), true)], "exactly one refresh, on the 401");
    proxy.clear();
    // Refused refresh → needs sign-in (the tokens are forgotten); then a second sign-in.
    auth.revoke();
    proxy.add(Rule::once(Fault::Unauthorized).on("/Observation"));
    cli.sync(&[]).0.expect_code(10);
    proxy.clear();
    cli.sign_in(&id).ok();
    cli.sync(&[]).0.ok();
    cli.run(&["--json", "endpoint", "list"]).ok();
    cli.run(&["endpoint", "runs", &id, "--json"]).ok();

    let issued = auth.issued();
    assert!(issued.access.len() >= 3 && issued.refresh.len() >= 3, "sign-in, refresh, sign-in: {} access and {} refresh tokens", issued.access.len(), issued.refresh.len());
    assert_no_token_anywhere(&auth, &v, &seen);
}

/// No piece of any token `auth` issued (access, refresh, id), nor anything JWT-shaped, in any
/// file under the test's folder (the vault, and the TMPDIR and HOME the CLI ran with), nor in
/// any stdout or stderr of the CLI runs kept in `seen`.
#[track_caller]
fn assert_no_token_anywhere(auth: &AuthServer, v: &TempVault, seen: &Outputs) {
    let issued = auth.issued();
    let tokens: Vec<&str> = issued.access.iter().chain(&issued.refresh).chain(&issued.id).map(String::as_str).collect();
    assert!(!issued.access.is_empty() && !issued.refresh.is_empty(), "tokens were issued");
    assert!(tokens.iter().all(|t| t.len() >= 40), "tokens are long enough to search for");
    let secrets = TokenPieces::new(&tokens);
    let files = snapshot(v.root());
    assert!(files.keys().any(|p| p.starts_with("vault/")), "the vault is under the scanned folder");
    for (path, bytes) in &files {
        if let Some(off) = secrets.find(bytes) {
            panic!("{}: a piece of an issued token at byte {off}", path.display());
        }
        if let Some(off) = jwt_like(bytes) {
            panic!("{}: something JWT-shaped at byte {off}", path.display());
        }
    }
    let outputs = seen.0.borrow();
    assert!(outputs.len() >= 16, "the CLI's outputs were kept (stdout and stderr of each run)");
    for (i, o) in outputs.iter().enumerate() {
        assert!(secrets.find(o).is_none() && jwt_like(o).is_none(), "CLI output #{i} holds a token");
    }
    eprintln!("{} files and {} CLI outputs searched for {} tokens: none found", files.len(), outputs.len(), tokens.len());
}

// ---------------------------------------------------------------------------------------------
// Searching bytes for tokens (reports offsets only)

/// Every 24-character substring of some tokens: a leak of 24 characters or more of any token
/// (whole, a JWT segment, a part) is found.
struct TokenPieces(HashSet<Vec<u8>>);

const PIECE: usize = 24;

impl TokenPieces {
    fn new(tokens: &[&str]) -> Self {
        let mut set = HashSet::new();
        for t in tokens {
            for w in t.as_bytes().windows(PIECE) {
                set.insert(w.to_vec());
            }
        }
        TokenPieces(set)
    }

    /// The offset of the first piece in `bytes`. Tokens are base64url with dots, so only runs
    /// of those characters are looked at.
    fn find(&self, bytes: &[u8]) -> Option<usize> {
        let token_char = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
        let mut i = 0;
        while i < bytes.len() {
            if !token_char(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && token_char(bytes[i]) {
                i += 1;
            }
            if i - start >= PIECE {
                if let Some(off) = bytes[start..i].windows(PIECE).position(|w| self.0.contains(w)) {
                    return Some(start + off);
                }
            }
        }
        None
    }
}

/// The offset of anything shaped like a JWT (`eyJ…` base64url, a dot, `eyJ…`), whoever issued it.
fn jwt_like(bytes: &[u8]) -> Option<usize> {
    let b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let mut from = 0;
    while let Some(off) = memchr_find(&bytes[from..], b"eyJ") {
        let start = from + off;
        let mut i = start;
        while i < bytes.len() && b64(bytes[i]) {
            i += 1;
        }
        if i - start >= 10 && bytes.get(i) == Some(&b'.') && bytes[i + 1..].starts_with(b"eyJ") {
            return Some(start);
        }
        from = start + 3;
    }
    None
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn token_searches_find_what_they_look_for() {
    // The searches above must be able to fail: a token, a segment or a 24-character part of one
    // is found, wherever it sits; unrelated text is not.
    let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xIiwic3ViIjoiam9obmRvZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJl";
    let refresh = "q0sYJ8x0m3V1l2eQ4b9Z7d6c5a4S3r2P1o0N9m8L7k6";
    let p = TokenPieces::new(&[jwt, refresh]);
    let wrap = |s: &str| [b"\x00\x01binary{\"t\":\"".as_slice(), s.as_bytes(), b"\"}\xff".as_slice()].concat();
    assert_eq!(p.find(&wrap(jwt)), Some(14));
    assert!(p.find(&wrap(&refresh[5..35])).is_some());
    assert!(p.find(&wrap(jwt.split('.').nth(2).unwrap())).is_some());
    assert!(p.find(&wrap(&refresh[..20])).is_none(), "shorter than a piece");
    assert!(p.find(b"nothing to see here, just a long_run_of_token_characters_here").is_none());
    assert_eq!(jwt_like(&wrap(jwt)), Some(14));
    assert!(jwt_like(b"eyJzb21ldGhpbmc no dot").is_none());
}

// ---------------------------------------------------------------------------------------------
// Research copies pushed to a third-party FHIR server (issue 6)

/// A record's research copies pushed to Medplum: the server holds exactly what was queued, type
/// by type; pushing again sends nothing (the server's log is empty); a server that cannot be
/// reached leaves the copies failed with a reason, and the next push delivers them.
#[test]
fn research_copies_push_to_medplum_once() {
    if !peers_ready("research_copies_push_to_medplum_once") {
        return;
    }
    let v = TempVault::new();
    let (data, _) = record(11, 400);
    let file = v.input("record.ndjson", ndjson(&data));
    v.run(["import", file.to_str().unwrap()]).ok();
    let made = v.run(["--json", "research", "run", "--delay-days", "0"]).ok().json();
    let queued = made["made"].as_u64().expect("made");
    assert!(queued >= 400, "{made}");
    let status = v.run(["--json", "research", "status"]).ok().json();
    assert_eq!(status["pending"].as_u64(), Some(queued));

    // First, a research server that is not there: a clear error, nothing lost.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        format!("http://127.0.0.1:{port}/fhir")
    };
    let out = v.run(["research", "push", &dead]);
    assert_ne!(out.code, 0);
    assert!(out.error_line().contains("could not reach"), "{}", out.error_line());
    let status = v.run(["--json", "research", "status"]).ok().json();
    assert!(status["failed"].as_u64().unwrap_or(0) > 0, "the batch in flight is marked failed: {status}");
    assert!(status["failures"][0]["reason"].as_str().unwrap_or("").contains("could not reach"), "{status}");
    assert_eq!(status["sent"].as_u64(), Some(0));

    let medplum = Medplum::start(None);
    medplum.clear_log();
    let pushed = v.run(["--json", "research", "push", medplum.base()]).ok().json();
    assert_eq!(pushed["pushed"].as_u64(), Some(queued), "pushed = queued: {pushed}");
    assert_eq!(pushed["failed"].as_u64(), Some(0), "{pushed}");
    // The server holds each copy once, type by type.
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    for e in medplum.log() {
        assert_eq!(e["method"], "POST", "only batch POSTs: {e}");
    }
    let status = v.run(["--json", "research", "status"]).ok().json();
    assert_eq!((status["sent"].as_u64(), status["pending"].as_u64(), status["failed"].as_u64()), (Some(queued), Some(0), Some(0)));
    let types: BTreeSet<String> = {
        let stats = v.stats();
        by_type_names(&stats)
    };
    let mut total = 0;
    for ty in &types {
        let n = medplum.count(ty, "_count=0");
        by_type.insert(ty.clone(), n);
        total += n;
    }
    assert_eq!(total, queued, "the server holds exactly the pushed copies: {by_type:?}");
    eprintln!("research push: {queued} copies queued, {} pushed in {} batches; Medplum holds {total} ({} types)", pushed["pushed"], pushed["batches"], by_type.len());
    // Copies carry no original id: the server's Patient is a pseudonym.
    let (_, patients) = call(http().get(format!("{}/Patient?_count=10", medplum.base())), "GET Patient");
    let pid = patients.pointer("/entry/0/resource/id").and_then(Value::as_str).expect("a Patient");
    assert!(pid.len() >= 32, "a keyed pseudonym, not the hospital's id");

    // Again: nothing to send, nothing sent.
    medplum.clear_log();
    let again = v.run(["--json", "research", "push", medplum.base()]).ok().json();
    assert_eq!((again["pushed"].as_u64(), again["batches"].as_u64()), (Some(0), Some(0)), "{again}");
    assert!(medplum.log().is_empty(), "a second push makes no request");
    // Every send is audited, and the chain holds.
    let log = v.run(["--json", "audit", "list", "--limit", "1000"]).ok().json();
    assert!(log.as_array().expect("log").iter().any(|e| e["kind"] == "research-send"));
    v.run(["audit", "verify"]).ok();
}

fn by_type_names(stats: &Value) -> BTreeSet<String> {
    by_type(stats).into_keys().collect()
}

/// A confidential client (SMART `private_key_jwt`): `endpoint add --private-key-jwt` makes an
/// ES384 key in the vault and prints nothing secret; its public JWKS (`endpoint jwks`) is
/// registered with oauth2-mock-server, which then verifies (with `jose`) the signed assertion of
/// the code exchange and of each refresh; another key's assertions are refused with a clear
/// line, nothing stored.
#[test]
fn private_key_jwt_sign_in_and_refresh_against_oauth2_mock_server() {
    if !peers_ready("private_key_jwt_sign_in_and_refresh_against_oauth2_mock_server") {
        return;
    }
    const TTL: u64 = 2;
    let (data, patient) = record(17, 120);
    let keys = tempfile::tempdir().expect("temp dir");
    let jwks = keys.path().join("client-jwks.json");
    let auth = AuthServer::start_confidential(&patient, TTL, &jwks);
    let fhir = Medplum::start(Some(auth.issuer()));
    fhir.load(&data);
    let n = synced_keys(&data, &fhir.patient_types()).len() as u64;
    let seen = Outputs::default();
    let v = TempVault::new();
    let cli = Cli { v: &v, seen: &seen };

    let id = cli.run(&["endpoint", "add", fhir.base(), "--name", NAME, "--private-key-jwt"]).ok().stdout_str().trim().to_owned();
    // Before the key is registered: the server refuses the client, nothing is stored.
    let refused = cli.sign_in_refused(&id);
    assert!(refused.contains("invalid_client"), "one clear line: {refused}");
    assert_eq!(auth.log(), vec![("authorization_code".to_owned(), false)]);
    assert_eq!(cli.endpoints()[0]["signed_in"], false);

    // Another vault's key registered: still refused (the assertion is checked, not just present).
    let other = TempVault::new();
    other.run(["endpoint", "add", fhir.base(), "--name", NAME, "--private-key-jwt"]).ok();
    let other_jwks = other.run(["endpoint", "jwks", "1"]).ok().stdout_str();
    std::fs::write(&jwks, &other_jwks).expect("register the other key");
    auth.clear_log();
    assert!(cli.sign_in_refused(&id).contains("invalid_client"));

    // This vault's public key set registered: sign-in, sync, refresh after expiry.
    let public = cli.run(&["endpoint", "jwks", &id]).ok().stdout_str();
    let set: Value = serde_json::from_str(&public).expect("a JWKS");
    let key = &set["keys"][0];
    assert_eq!((key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str(), key["use"].as_str()), (Some("EC"), Some("P-384"), Some("ES384"), Some("sig")));
    assert!(key.get("d").is_none(), "the public set holds no private part");
    std::fs::write(&jwks, &public).expect("register the key");
    auth.clear_log();
    let out = cli.sign_in(&id);
    assert_eq!(out.code, 0, "sign-in with the registered key: {}; {}", out.error_line(), auth.peer.stderr_tail());
    assert_eq!(auth.log(), vec![("authorization_code".to_owned(), true)], "the code exchange with a valid assertion");
    let (out, r) = cli.sync(&[]);
    out.ok();
    assert_eq!(totals(&r)["new"], n, "{r}");
    std::thread::sleep(Duration::from_secs(TTL + 1));
    fhir.load(&[json!({"resourceType": "Observation", "id": "after-refresh", "status": "final", "code": {"text": "脈拍"}, "subject": {"reference": format!("Patient/{patient}")}})]);
    auth.clear_log();
    let (out, r) = cli.sync(&[]);
    out.ok();
    assert_eq!(totals(&r)["new"], 1, "{r}");
    let grants = auth.log();
    assert!(!grants.is_empty() && grants.iter().all(|(g, ok)| g == "refresh_token" && *ok), "refreshes with fresh assertions (each jti used once): {grants:?}");
    // The private key is only in the vault: not in any output, not on disk in the clear.
    for o in seen.0.borrow().iter() {
        assert!(memchr_find(o, b"\"d\":").is_none(), "no output carries a private key");
    }
    assert_no_token_anywhere(&auth, &v, &seen);
}
