//! Shared helpers for Techo's integration tests (`tests/it/*.rs`).
//!
//! - [`techo_bin`]: the `techo` CLI under test (`$TECHO_BIN`, or `<target>/debug/techo` next to
//!   the test binary; build it first with `cargo build -p techo-cli`).
//! - [`TempVault`]: a vault in a fresh temporary folder, with the CLI run against it in an
//!   isolated environment (`TECHO_KEYRING=none`, `HOME`, XDG dirs and `TMPDIR` inside the
//!   temporary folder, so stray files can be found and scanned).
//! - [`Out`]: what a CLI run gave back, with assertions for the error contract
//!   (exit code, exactly one `techo: error: …` line on stderr).
//! - File helpers: whole-folder snapshots and byte scans that report paths, lengths and offsets
//!   only — never file contents (test output ends up in CI logs; the data is health data).
//! - Small FHIR builders for test records.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The passphrase every test vault is created with. A test value, not a secret.
pub const PASSPHRASE: &str = "test-only passphrase 0f5e (not a secret)";

/// Identifier system used for test patients (JP Core style hospital patient id OID).
pub const PATIENT_ID_SYSTEM: &str = "urn:oid:1.2.392.100495.20.3.51.11312345670";

/// Exit codes of the CLI contract.
pub mod exit {
    pub const OK: i32 = 0;
    pub const INTERNAL: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const WRONG_PASSPHRASE: i32 = 3;
    pub const NO_VAULT: i32 = 4;
    pub const CORRUPT: i32 = 5;
    pub const NEWER: i32 = 6;
    pub const BAD_INPUT: i32 = 7;
    pub const NOT_FOUND: i32 = 8;
}

/// Longest a single CLI run may take before the test kills it and fails
/// (override with `TECHO_IT_TIMEOUT_SECS`).
fn run_timeout() -> Duration {
    let secs = std::env::var("TECHO_IT_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    Duration::from_secs(secs)
}

/// The repository root (the workspace root).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `tests/data`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// The `techo` binary under test: `$TECHO_BIN`, else `<target dir>/debug/techo` derived from the
/// running test binary (`target/debug/deps/integration-xxxx` → `target/debug/techo`).
pub fn techo_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TECHO_BIN") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "TECHO_BIN={} is not a file", p.display());
        return p;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().expect("test binary has a folder").to_path_buf();
    if dir.file_name() == Some(OsStr::new("deps")) {
        dir.pop();
    }
    let bin = dir.join(format!("techo{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        panic!(
            "build the CLI first: cargo build -p techo-cli (looked for {})",
            bin.display()
        );
    }
    bin
}

/// What one CLI run gave back.
#[derive(Debug)]
pub struct Out {
    /// The exit code, or -1 when the process was killed by a signal.
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// The command line (arguments are paths and options, never data).
    pub what: String,
}

fn clip(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl Out {
    /// Panics (with the exit code and the CLI's own error message) unless the run exited 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        if self.code != 0 {
            panic!(
                "`{}` exited {} (expected 0); stderr ({} bytes): {}",
                self.what,
                self.code,
                self.stderr.len(),
                clip(&self.stderr, 600)
            );
        }
        self
    }

    /// Panics unless the run exited with `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        if self.code != code {
            panic!(
                "`{}` exited {} (expected {}); stderr ({} bytes): {}",
                self.what,
                self.code,
                code,
                self.stderr.len(),
                clip(&self.stderr, 600)
            );
        }
        self
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stdout parsed as JSON (panics with the length only, never the contents).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}`: stdout ({} bytes) is not JSON: line {} column {}",
                self.what,
                self.stdout.len(),
                e.line(),
                e.column()
            )
        })
    }

    /// Asserts the error contract: stderr is exactly one line starting `techo: error:`, and
    /// returns that line.
    #[track_caller]
    pub fn error_line(&self) -> &str {
        let s = self.stderr.strip_suffix('\n').unwrap_or(&self.stderr);
        let s = s.strip_suffix('\r').unwrap_or(s);
        assert!(
            !s.is_empty() && !s.contains('\n'),
            "`{}`: stderr should be exactly one line, got {} lines ({} bytes): {}",
            self.what,
            self.stderr.lines().count(),
            self.stderr.len(),
            clip(&self.stderr, 600)
        );
        assert!(
            s.starts_with("techo: error: "),
            "`{}`: stderr should start with `techo: error: `: {}",
            self.what,
            clip(s, 600)
        );
        s
    }
}

/// The decimal numbers that appear in `s` as whole tokens (`entry 12:` → 12).
pub fn numbers_in(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// A record id from `list --json` as a CLI argument (numbers and strings both work).
pub fn id_arg(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs `cmd`, feeding `stdin` (then closing it), collecting stdout/stderr, with a timeout.
pub fn run_command(mut cmd: Command, stdin: &[u8], what: String) -> Out {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let input = stdin.to_vec();
    let mut child_stdin = child.stdin.take().expect("stdin piped");
    // A process that exits without reading stdin gives EPIPE here: that is fine.
    let writer = std::thread::spawn(move || {
        let _ = child_stdin.write_all(&input);
    });
    let mut so = child.stdout.take().expect("stdout piped");
    let mut se = child.stderr.take().expect("stderr piped");
    let r_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let r_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + run_timeout();
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` did not finish within {:?}; killed", run_timeout());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let stdout = r_out.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&r_err.join().expect("stderr reader")).into_owned();
    Out {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
        what,
    }
}

fn describe<I, S>(args: I) -> (Vec<OsString>, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let v: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut s = String::from("techo");
    for a in &v {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    (v, s)
}

/// A vault in a fresh temporary folder `root/`:
/// `root/vault` (the vault), `root/inputs` (files to import), `root/tmp` (the CLI's `TMPDIR`),
/// `root/home` (the CLI's `HOME` and XDG dirs). The folder is removed on drop.
pub struct TempVault {
    root: tempfile::TempDir,
    /// The vault folder passed as `--vault`.
    pub dir: PathBuf,
    /// The passphrase fed on stdin by [`TempVault::run`].
    pub passphrase: String,
}

impl TempVault {
    /// A temporary folder with no vault yet (`dir` does not exist).
    pub fn uninitialised() -> Self {
        Self::uninitialised_in(None)
    }

    /// Like [`TempVault::uninitialised`], under `parent` when given (e.g. `CARGO_TARGET_TMPDIR`).
    pub fn uninitialised_in(parent: Option<&Path>) -> Self {
        let mut b = tempfile::Builder::new();
        b.prefix("techo-it-");
        let root = match parent {
            Some(p) => {
                std::fs::create_dir_all(p).expect("create temp parent");
                b.tempdir_in(p)
            }
            None => b.tempdir(),
        }
        .expect("create temp dir");
        for sub in ["inputs", "tmp", "home"] {
            std::fs::create_dir_all(root.path().join(sub)).expect("create temp subdir");
        }
        let dir = root.path().join("vault");
        TempVault {
            root,
            dir,
            passphrase: PASSPHRASE.to_owned(),
        }
    }

    /// A new, empty vault (`techo init`).
    pub fn new() -> Self {
        let v = Self::uninitialised();
        v.run(["init"]).ok();
        v
    }

    /// A byte-for-byte copy of another vault's folder (cheap way to reuse an expensive setup).
    /// The source must not be in use by a running CLI.
    pub fn copy_of(other: &TempVault) -> Self {
        let v = Self::uninitialised();
        copy_tree(&other.dir, &v.dir);
        TempVault {
            passphrase: other.passphrase.clone(),
            ..v
        }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The CLI's `TMPDIR`.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    /// The CLI's `HOME` (XDG dirs are under it).
    pub fn home_dir(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// Writes `bytes` to `root/inputs/<name>` and returns the path.
    pub fn input(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.root.path().join("inputs").join(name);
        std::fs::write(&p, bytes).expect("write input file");
        p
    }

    /// The `techo` command with the isolated environment and no arguments.
    pub fn command(&self) -> Command {
        let mut c = Command::new(techo_bin());
        let home = self.home_dir();
        c.env("TECHO_KEYRING", "none")
            .env("TMPDIR", self.tmp_dir())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env_remove("TECHO_VAULT")
            .env_remove("TECHO_PASSPHRASE")
            .current_dir(self.root.path());
        c
    }

    /// `techo --vault <dir> --passphrase-stdin <args…>` with the passphrase on stdin.
    pub fn run<I, S>(&self, args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let stdin = format!("{}\n", self.passphrase);
        self.run_stdin(stdin.as_bytes(), args)
    }

    /// Like [`TempVault::run`] with another passphrase.
    pub fn run_with_passphrase<I, S>(&self, passphrase: &str, args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_stdin(format!("{passphrase}\n").as_bytes(), args)
    }

    /// `techo --vault <dir> --passphrase-stdin <args…>` with `stdin` as given.
    pub fn run_stdin<I, S>(&self, stdin: &[u8], args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_at(&self.dir.clone(), stdin, args)
    }

    /// `techo --vault <vault_path> --passphrase-stdin <args…>` for any path (a file, a
    /// non-vault folder…), in this vault's isolated environment.
    pub fn run_at<I, S>(&self, vault_path: &Path, stdin: &[u8], args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let (args, what) = describe(args);
        let mut c = self.command();
        c.arg("--vault").arg(vault_path).arg("--passphrase-stdin").args(&args);
        run_command(c, stdin, what)
    }

    /// Starts `techo --vault <dir> --passphrase-stdin <args…>`, feeds the passphrase and closes
    /// stdin; stdout/stderr are discarded. For tests that kill the process.
    pub fn spawn<I, S>(&self, args: I) -> Child
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let (args, what) = describe(args);
        let mut c = self.command();
        c.arg("--vault")
            .arg(&self.dir)
            .arg("--passphrase-stdin")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
        let mut stdin = child.stdin.take().expect("stdin piped");
        let _ = stdin.write_all(format!("{}\n", self.passphrase).as_bytes());
        drop(stdin);
        child
    }

    /// `stats --json`.
    #[track_caller]
    pub fn stats(&self) -> Value {
        self.run(["--json", "stats"]).ok().json()
    }

    /// `person add NAME`; returns the new person id.
    #[track_caller]
    pub fn add_person(&self, name: &str) -> String {
        let out = self.run(["person", "add", name]).ok();
        let id = out.stdout_str().trim().to_owned();
        assert!(
            !id.is_empty() && !id.contains(char::is_whitespace),
            "`person add` should print one id, got {} bytes",
            out.stdout.len()
        );
        id
    }

    /// `import FILE… [--person ID]` (exit code not checked).
    pub fn import(&self, files: &[&Path], person: Option<&str>) -> Out {
        let mut args: Vec<OsString> = vec!["import".into()];
        args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
        if let Some(p) = person {
            args.push("--person".into());
            args.push(p.into());
        }
        self.run(args)
    }

    /// `--json list <extra…>` as an array.
    #[track_caller]
    pub fn list(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["--json", "list"];
        args.extend_from_slice(extra);
        match self.run(args).ok().json() {
            Value::Array(a) => a,
            other => panic!("`list --json` should print an array, got a {}", kind(&other)),
        }
    }

    /// `show RECORD_ID` parsed.
    #[track_caller]
    pub fn show(&self, record_id: &Value) -> Value {
        self.run(["show", &id_arg(record_id)]).ok().json()
    }

    /// `export --format ndjson [--person ID]` parsed line by line.
    #[track_caller]
    pub fn export_ndjson(&self, person: Option<&str>) -> Vec<Value> {
        let mut args = vec!["export", "--format", "ndjson"];
        if let Some(p) = person {
            args.extend_from_slice(&["--person", p]);
        }
        let out = self.run(args).ok();
        parse_ndjson(&out.stdout, &out.what)
    }

    /// All files under the vault folder (see [`snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        snapshot(&self.dir)
    }
}

impl Default for TempVault {
    fn default() -> Self {
        Self::new()
    }
}

/// Parses NDJSON (blank lines ignored); panics with line numbers only.
#[track_caller]
pub fn parse_ndjson(bytes: &[u8], what: &str) -> Vec<Value> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(i, l)| {
            serde_json::from_slice(l).unwrap_or_else(|e| {
                panic!(
                    "`{what}`: NDJSON line {} ({} bytes) is not JSON (column {})",
                    i + 1,
                    l.len(),
                    e.column()
                )
            })
        })
        .collect()
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Recursive copy of a folder.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy target");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("dir entry");
        let t = e.file_type().expect("file type");
        let dst = to.join(e.file_name());
        if t.is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).expect("copy file");
        }
    }
}

/// Every file (recursively) under a folder, by relative path → bytes. Folders are recorded as
/// entries ending in `/` with no bytes. A missing folder gives an empty snapshot.
pub type Snapshot = BTreeMap<PathBuf, Vec<u8>>;

pub fn snapshot(dir: &Path) -> Snapshot {
    fn walk(base: &Path, dir: &Path, out: &mut Snapshot) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).expect("under base").to_path_buf();
            if p.is_dir() {
                out.insert(PathBuf::from(format!("{}/", rel.display())), Vec::new());
                walk(base, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    let mut out = Snapshot::new();
    if dir.is_file() {
        out.insert(PathBuf::from("."), std::fs::read(dir).unwrap_or_default());
    } else {
        walk(dir, dir, &mut out);
    }
    out
}

/// Panics if the two snapshots differ, naming the files and (for changed ones) lengths and the
/// first differing offset — never contents.
#[track_caller]
pub fn assert_same_files(before: &Snapshot, after: &Snapshot, context: &str) {
    let mut problems = Vec::new();
    for (p, b) in before {
        match after.get(p) {
            None => problems.push(format!("{} was removed", p.display())),
            Some(a) if a != b => {
                let off = a
                    .iter()
                    .zip(b.iter())
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.len().min(b.len()));
                problems.push(format!(
                    "{} changed (length {} -> {}, first difference at byte {})",
                    p.display(),
                    b.len(),
                    a.len(),
                    off
                ));
            }
            _ => {}
        }
    }
    for p in after.keys() {
        if !before.contains_key(p) {
            problems.push(format!("{} was created", p.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "{context}: the files changed: {}",
        problems.join("; ")
    );
}

/// Every file under `root` (recursively) that contains `needle`, with the first offset.
/// A missing `root` gives no hits.
pub fn find_in_tree(root: &Path, needle: &[u8]) -> Vec<(PathBuf, usize)> {
    let mut hits = Vec::new();
    let finder = memchr::memmem::Finder::new(needle);
    fn walk(p: &Path, f: &memchr::memmem::Finder<'_>, hits: &mut Vec<(PathBuf, usize)>) {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    walk(&e.path(), f, hits);
                }
            }
        } else if let Ok(bytes) = std::fs::read(p) {
            if let Some(off) = f.find(&bytes) {
                hits.push((p.to_path_buf(), off));
            }
        }
    }
    walk(root, &finder, &mut hits);
    hits
}

// ---------------------------------------------------------------------------------------------
// FHIR builders for test records.

/// A Patient with one identifier (system [`PATIENT_ID_SYSTEM`]) and one name.
pub fn patient(id: &str, identifier: &str, family: &str, given: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "id": id,
        "identifier": [{"system": PATIENT_ID_SYSTEM, "value": identifier}],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": "female",
        "birthDate": "1970-01-01"
    })
}

/// An Observation about `Patient/<patient_id>` with a LOINC code and a quantity.
pub fn observation(id: &str, patient_id: &str, loinc: &str, value: &str, date: &str) -> Value {
    let v: Value = serde_json::from_str(value).expect("value is a JSON number");
    json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": format!("Patient/{patient_id}")},
        "effectiveDateTime": date,
        "valueQuantity": {"value": v, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}
    })
}

/// A Bundle of `type` holding `resources` as entries with `fullUrl`s.
pub fn bundle(ty: &str, resources: &[Value]) -> Value {
    let entry: Vec<Value> = resources
        .iter()
        .map(|r| {
            json!({
                "fullUrl": format!("http://example.org/fhir/{}/{}",
                    r["resourceType"].as_str().unwrap_or("X"), r["id"].as_str().unwrap_or("x")),
                "resource": r
            })
        })
        .collect();
    json!({"resourceType": "Bundle", "type": ty, "entry": entry})
}

/// NDJSON bytes, one resource per line.
pub fn ndjson(resources: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in resources {
        serde_json::to_writer(&mut out, r).expect("serialise");
        out.push(b'\n');
    }
    out
}

/// Pretty JSON bytes.
pub fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("serialise")
}
