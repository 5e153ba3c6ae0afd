//! techo-bench: one run measures
//!
//! (a) import throughput of a large one-person record (a single Bundle made by techo-gen)
//!     into an encrypted, indexed vault, by running the real `techo` CLI as a child process;
//! (b) a baseline in the same run: the `sqlite3` CLI loading the same file into one plaintext
//!     table with `json_each`, in one transaction; and (a′) the floors: the same load through
//!     the bundled SQLCipher, plaintext, encrypted, then encrypted with WAL and FULL syncs
//!     ([`floor`]) — what the required storage costs with none of Techo's own work;
//! (c) the peak RSS of the Techo import at that size and at a bigger file;
//! (d) query latency (timeline page, full-text search) on a big vault, in-process through
//!     techo-core;
//! (e) home-vitals CSV import: a deterministic file of home blood-pressure readings (Japanese
//!     headers) through `techo vitals import`, rows/s, then the same file again (must add 0);
//! (f) sync: `techo sync` pulling a big record from a loopback FHIR peer (Medplum under node,
//!     `tests/peers/fhir-server.mjs`) vs a plain HTTP client fetching the same pages, with the
//!     client's CPU share of wall time ([`sync`]), and (f′) the floors: the plain client storing
//!     each page's text with a cursor, plaintext and encrypted.
//!
//! It prints a Markdown report and writes it to `target/bench/report.md`. Output holds counts
//! and timings only. Run it through `scripts/bench.sh`, which builds what it needs.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use secrecy::SecretString;
use techo_gen::{GenConfig, GenFormat};

mod floor;
mod sync;

/// The bench vaults' passphrase (synthetic data only).
const PASSPHRASE: &str = "techo-bench synthetic vault passphrase";

// Goals
const GOAL_RATIO: f64 = 0.5;
const GOAL_RSS_MB: f64 = 150.0;
const GOAL_TIMELINE_MS: f64 = 5.0;
const GOAL_SEARCH_MS: f64 = 50.0;

/// Search terms: a 2-character Japanese term, a 3-character one, a Latin one.
const SEARCH_TERMS: &[(&str, &str)] = &[("血圧", "ja 2 chars"), ("高血圧", "ja 3 chars"), ("HbA1c", "latin")];

// ------------------------------------------------------------------------------ options

struct Opts {
    resources: usize,
    rss_factor: f64,
    big: usize,
    big_persons: usize,
    runs: usize,
    import_runs: usize,
    warmup: usize,
    seed: u64,
    techo: PathBuf,
    sqlite3: String,
    work: PathBuf,
    report: PathBuf,
    keep: bool,
    reuse_big: bool,
    csv_rows: usize,
    sync_resources: usize,
    sync_page_size: u32,
    node: String,
    peers: PathBuf,
}

const USAGE: &str = "usage: techo-bench [--resources N] [--big N] [--big-persons N] [--rss-factor F] [--runs N]
                   [--import-runs N] [--warmup N] [--seed N] [--techo PATH] [--sqlite3 PATH] [--work DIR] [--report FILE]
                   [--keep] [--reuse-big] [--csv-rows N] [--sync-resources N] [--sync-page-size N]
                   [--node PATH] [--peers DIR]
  --resources N    size of the import record, one person, one Bundle (default 100000)
  --rss-factor F   the RSS check also imports a record F times bigger (default 2.5; 0 = skip)
  --big N          size of the query vault (default 1000000; 0 = skip the query part)
  --big-persons N  persons in the query vault (default 1: the hardest timeline)
  --runs N         timed runs per query (default 50), after --warmup N runs (default 5)
  --import-runs N  rounds of Techo import, sqlite3 baseline and floors for each import record; each
                   figure is the median of its rounds (default 3)
  --techo PATH     the techo CLI (default: `techo` beside this binary)
  --work DIR       scratch folder (default target/bench/work; emptied unless --keep)
  --report FILE    the Markdown report (default target/bench/report.md)
  --reuse-big      keep the query vault between runs and reuse it when it is there
  --csv-rows N     rows of the home blood-pressure CSV imported by `techo vitals import` (default 10000; 0 = skip)
  --sync-resources N  resources `techo sync` pulls from a loopback FHIR peer (Medplum under node; default
                   50000; 0 = skip); needs node ≥ 20.19 and `npm ci` in tests/peers
  --sync-page-size N  `techo sync --page-size` and the baseline's `_count` (default 500, Techo's default)
  --node PATH      the node binary for the peer (default `node`)
  --peers DIR      the folder of fhir-server.mjs and its node_modules (default tests/peers)";

fn parse_opts() -> Result<Opts> {
    let exe_dir = std::env::current_exe()?.parent().map(Path::to_path_buf).unwrap_or_default();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    let mut o = Opts {
        resources: 100_000,
        rss_factor: 2.5,
        big: 1_000_000,
        big_persons: 1,
        runs: 50,
        import_runs: 3,
        warmup: 5,
        seed: 20_251_101,
        techo: exe_dir.join("techo"),
        sqlite3: "sqlite3".into(),
        work: target.join("bench").join("work"),
        report: target.join("bench").join("report.md"),
        keep: false,
        reuse_big: false,
        csv_rows: 10_000,
        sync_resources: 50_000,
        sync_page_size: 500, // techo sync's default (techo_sync::DEFAULT_PAGE_SIZE)
        node: "node".into(),
        peers: {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/peers");
            p.canonicalize().unwrap_or(p)
        },
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().ok_or_else(|| anyhow!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--resources" => o.resources = v()?.parse()?,
            "--rss-factor" => o.rss_factor = v()?.parse()?,
            "--big" => o.big = v()?.parse()?,
            "--big-persons" => o.big_persons = v()?.parse::<usize>()?.max(1),
            "--runs" => o.runs = v()?.parse::<usize>()?.max(1),
            "--import-runs" => o.import_runs = v()?.parse::<usize>()?.max(1),
            "--warmup" => o.warmup = v()?.parse()?,
            "--seed" => o.seed = v()?.parse()?,
            "--techo" => o.techo = v()?.into(),
            "--sqlite3" => o.sqlite3 = v()?,
            "--work" => o.work = v()?.into(),
            "--report" => o.report = v()?.into(),
            "--keep" => o.keep = true,
            "--reuse-big" => o.reuse_big = true,
            "--csv-rows" => o.csv_rows = v()?.parse()?,
            "--sync-resources" => o.sync_resources = v()?.parse()?,
            "--sync-page-size" => o.sync_page_size = v()?.parse::<u32>()?.clamp(1, 1000),
            "--node" => o.node = v()?,
            "--peers" => o.peers = v()?.into(),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => bail!("unknown argument {a}\n{USAGE}"),
        }
    }
    if o.resources < 100 {
        bail!("--resources must be at least 100");
    }
    Ok(o)
}

// ------------------------------------------------------------------------------ the CLI

/// Every invocation of the `techo` CLI, in one place.
struct Techo {
    bin: PathBuf,
}

impl Techo {
    fn base(&self, vault: &Path) -> Command {
        let mut c = Command::new(&self.bin);
        // headless: no OS keyring; the passphrase comes on stdin
        c.env("TECHO_KEYRING", "none").arg("--vault").arg(vault).arg("--passphrase-stdin");
        c
    }
    /// `techo --vault DIR --passphrase-stdin init --no-keyring`
    fn init(&self, vault: &Path) -> Command {
        let mut c = self.base(vault);
        c.args(["init", "--no-keyring"]);
        c
    }
    /// `techo --vault DIR --passphrase-stdin unlock` (opens and closes: the Argon2id cost alone)
    fn unlock(&self, vault: &Path) -> Command {
        let mut c = self.base(vault);
        c.arg("unlock");
        c
    }
    /// `techo --vault DIR --passphrase-stdin import FILE`
    fn import(&self, vault: &Path, file: &Path) -> Command {
        let mut c = self.base(vault);
        c.arg("import").arg(file);
        c
    }
    /// `techo --vault DIR --passphrase-stdin person add NAME`
    fn person_add(&self, vault: &Path, name: &str) -> Command {
        let mut c = self.base(vault);
        c.args(["person", "add", name]);
        c
    }
    /// `techo --vault DIR --passphrase-stdin vitals import FILE`
    fn vitals_import(&self, vault: &Path, file: &Path) -> Command {
        let mut c = self.base(vault);
        c.args(["vitals", "import"]).arg(file);
        c
    }
}

/// A finished child: wall time and its own peak RSS.
pub(crate) struct Run {
    wall: Duration,
    max_rss_kb: u64,
    /// user + system CPU time of the child
    cpu: Duration,
}

/// Runs `cmd` with `stdin` piped in, stdout+stderr to `log`; measures wall time and, through
/// wait4(2), the child's peak resident set size.
fn run_measured(cmd: &mut Command, stdin: &str, log: &Path) -> Result<Run> {
    let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    spawn_measured(cmd, stdin, out, err, log)
}

/// [`run_measured`] with stdout to `stdout` and stderr to `log`.
pub(crate) fn run_measured_split(cmd: &mut Command, stdin: &str, stdout: &Path, log: &Path) -> Result<Run> {
    let out = File::create(stdout).with_context(|| format!("creating {}", stdout.display()))?;
    let err = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    spawn_measured(cmd, stdin, out, err, log)
}

/// Spawns `cmd` with `stdin` piped in and waits for it; `log` (where its stderr goes) is quoted
/// when it fails.
fn spawn_measured(cmd: &mut Command, stdin: &str, out: File, err: File, log: &Path) -> Result<Run> {
    let prog = format!("{:?}", cmd.get_program());
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .with_context(|| format!("starting {prog}"))?;
    {
        let mut si = child.stdin.take().expect("piped stdin");
        // a child that exits before reading is not our failure to report here
        let _ = si.write_all(stdin.as_bytes());
    }
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(anyhow!("wait4 on {prog}: {e}"));
        }
    }
    let wall = start.elapsed();
    // the child is reaped; std's handle must not wait on it again
    std::mem::forget(child);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        let code = if libc::WIFEXITED(status) { format!("exit {}", libc::WEXITSTATUS(status)) } else { format!("signal {}", libc::WTERMSIG(status)) };
        let text = fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
        bail!("{prog} failed ({code}); last lines of {}:\n{}", log.display(), tail.join("\n"));
    }
    // ru_maxrss is in KiB on Linux
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64);
    Ok(Run { wall, max_rss_kb: ru.ru_maxrss.max(0) as u64, cpu: tv(ru.ru_utime) + tv(ru.ru_stime) })
}

// ------------------------------------------------------------------------------ helpers

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn human_bytes(b: u64) -> String {
    if b >= 1 << 30 {
        format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
    }
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(p) else { return fs::metadata(p).map(|m| m.len()).unwrap_or(0) };
    rd.filter_map(|e| e.ok())
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

/// The 1-minute load average: other work on the machine skews wall times.
fn loadavg() -> f64 {
    fs::read_to_string("/proc/loadavg").ok().and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok())).unwrap_or(f64::NAN)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "**MISSED**"
    }
}

fn say(msg: impl AsRef<str>) {
    eprintln!("bench: {}", msg.as_ref());
}

fn generate(cfg: &GenConfig, format: GenFormat, one_person: bool, path: &Path) -> Result<(u64, Duration)> {
    let t = Instant::now();
    let mut f = BufWriter::with_capacity(1 << 20, File::create(path).with_context(|| format!("creating {}", path.display()))?);
    let n = if one_person { techo_gen::write_person(cfg, 0, format, &mut f)? } else { techo_gen::write(cfg, format, &mut f)? };
    f.flush()?;
    Ok((n, t.elapsed()))
}

fn open_vault(dir: &Path) -> Result<techo_core::Vault> {
    let pass = SecretString::from(PASSPHRASE);
    techo_core::Vault::open(dir, techo_core::Unlock::Passphrase(&pass)).map_err(|e| anyhow!("opening the vault: {e}"))
}

// ------------------------------------------------------------------------------ measurements

struct ImportResult {
    label: String,
    resources: u64,
    file_bytes: u64,
    init: Duration,
    unlock: Duration,
    load_before: f64,
    /// The median round (peak RSS: the highest of all rounds).
    import: Run,
    /// Every round's wall time, in order.
    import_walls: Vec<Duration>,
    stored: Option<u64>,
    vault_bytes: u64,
    baseline: Option<(Run, u64)>,
    baseline_walls: Vec<Duration>,
    baseline_err: Option<String>,
    /// The storage floors (with the baseline only): the same load, in-process, one step of
    /// the vault's set-up at a time.
    floors: Vec<floor::ImportFloor>,
    floor_err: Option<String>,
}

impl ImportResult {
    fn techo_rate(&self) -> f64 {
        self.resources as f64 / secs(self.import.wall)
    }
    fn techo_rate_no_unlock(&self) -> f64 {
        self.resources as f64 / (secs(self.import.wall) - secs(self.unlock)).max(1e-6)
    }
    fn base_rate(&self) -> Option<f64> {
        self.baseline.as_ref().map(|(r, _)| self.resources as f64 / secs(r.wall))
    }
}

/// The run of median wall time; its peak RSS is the highest of all (the goal's conservative
/// reading). `runs` is not empty.
fn median_run(mut runs: Vec<Run>) -> Run {
    let max_rss_kb = runs.iter().map(|r| r.max_rss_kb).max().unwrap_or(0);
    runs.sort_by_key(|r| r.wall);
    let mid = runs.swap_remove(runs.len() / 2);
    Run { max_rss_kb, ..mid }
}

/// The Techo import of `file` into a new vault; with `with_baseline`, `o.import_runs` rounds,
/// each a Techo import (a new vault each time), the sqlite3 baseline and the floors, one after
/// the other, and each figure is the median of its rounds (the walls of every round are kept
/// for the report). Returns the last round's vault.
fn import_once(o: &Opts, techo: &Techo, label: &str, file: &Path, resources: u64, with_baseline: bool) -> Result<(ImportResult, PathBuf)> {
    let vault = o.work.join(format!("vault-{label}"));
    let logs = o.work.join("logs");
    fs::create_dir_all(&logs)?;
    let stdin = format!("{PASSPHRASE}\n");
    let rounds = if with_baseline { o.import_runs } else { 1 };
    let (mut imports, mut baselines, mut floors) = (Vec::new(), Vec::new(), Vec::new());
    let (mut init, mut unlock, mut load_before) = (Duration::ZERO, Duration::ZERO, 0.0);
    let (mut baseline_err, mut floor_err, mut baseline_rows) = (None, None, 0);
    for round in 1..=rounds {
        let _ = fs::remove_dir_all(&vault);
        let tag = if rounds > 1 { format!(" (round {round} of {rounds})") } else { String::new() };
        say(format!("[{label}] techo init{tag}"));
        let i = run_measured(&mut techo.init(&vault), &stdin, &logs.join(format!("{label}-init.log")))?;
        if round == 1 {
            init = i.wall;
            say(format!("[{label}] techo unlock (Argon2id cost alone)"));
            unlock = run_measured(&mut techo.unlock(&vault), &stdin, &logs.join(format!("{label}-unlock.log")))?.wall;
            load_before = loadavg();
        }
        say(format!("[{label}] techo import of {resources} resources ({}){tag}", human_bytes(fs::metadata(file)?.len())));
        let import = run_measured(&mut techo.import(&vault, file), &stdin, &logs.join(format!("{label}-import.log")))?;
        say(format!("[{label}]   {:.2} s (CPU {:.2} s), peak RSS {:.1} MiB", secs(import.wall), secs(import.cpu), mb(import.max_rss_kb)));
        imports.push(import);
        if !with_baseline {
            continue;
        }
        say(format!("[{label}] baseline: sqlite3 json_each load{tag}"));
        match baseline(o, label, file) {
            Ok((b, rows)) => {
                say(format!("[{label}]   {:.2} s, peak RSS {:.1} MiB", secs(b.wall), mb(b.max_rss_kb)));
                baselines.push(b);
                baseline_rows = rows;
            }
            Err(e) => {
                say(format!("[{label}]   baseline failed: {e:#}"));
                baseline_err = Some(format!("{e:#}"));
            }
        }
        for (k, store) in floor::Store::ALL.into_iter().enumerate() {
            say(format!("[{label}] floor: {}{tag}", store.label()));
            match floor::import_floor(file, &o.work.join(format!("floor-{label}.db")), store, &logs.join(format!("{label}-floor.log"))) {
                Ok(f) => {
                    say(format!("[{label}]   {:.2} s", secs(f.run.wall)));
                    if floors.len() <= k {
                        floors.push(Vec::new());
                    }
                    floors[k].push(f);
                }
                Err(e) => {
                    say(format!("[{label}]   floor failed: {e:#}"));
                    floor_err = Some(format!("{e:#}"));
                    break;
                }
            }
        }
    }
    let stored = open_vault(&vault).and_then(|v| v.stats().map_err(|e| anyhow!("{e}"))).map(|s| s.resources).ok();
    let import_walls = imports.iter().map(|r| r.wall).collect();
    let baseline_walls = baselines.iter().map(|r| r.wall).collect();
    let res = ImportResult {
        label: label.to_string(),
        resources,
        file_bytes: fs::metadata(file)?.len(),
        init,
        unlock,
        load_before,
        import: median_run(imports),
        import_walls,
        stored,
        vault_bytes: dir_size(&vault),
        baseline: (!baselines.is_empty()).then(|| (median_run(baselines), baseline_rows)),
        baseline_walls,
        baseline_err,
        floors: floors
            .into_iter()
            .filter(|runs| !runs.is_empty())
            .map(|mut runs| {
                let store = runs[0].store;
                let (rows, bytes) = (runs[0].rows, runs[0].bytes);
                let run = median_run(runs.drain(..).map(|f| f.run).collect());
                floor::ImportFloor { store, run, rows, bytes }
            })
            .collect(),
        floor_err,
    };
    Ok((res, vault))
}

/// The plain-SQLite baseline: one table, one transaction, `json_each` over the Bundle entries.
fn baseline(o: &Opts, label: &str, file: &Path) -> Result<(Run, u64)> {
    let db = o.work.join(format!("baseline-{label}.db"));
    let _ = fs::remove_file(&db);
    let path = file.canonicalize()?.display().to_string().replace('\'', "''");
    let sql = format!(
        "CREATE TABLE r(id INTEGER PRIMARY KEY, resource TEXT);\n\
         BEGIN;\n\
         INSERT INTO r(resource) SELECT json_extract(value, '$.resource') FROM json_each(readfile('{path}'), '$.entry');\n\
         COMMIT;\n"
    );
    let mut cmd = Command::new(&o.sqlite3);
    cmd.arg(&db);
    let run = run_measured(&mut cmd, &sql, &o.work.join("logs").join(format!("{label}-sqlite3.log")))?;
    let out = Command::new(&o.sqlite3).arg(&db).arg("SELECT count(*) FROM r;").output()?;
    let rows: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().context("counting the baseline rows")?;
    if !o.keep {
        let _ = fs::remove_file(&db);
    }
    Ok((run, rows))
}

// ------------------------------------------------------------------------------ (e) vitals CSV

struct CsvResult {
    rows: usize,
    file_bytes: u64,
    unlock: Duration,
    first: Run,
    stored_after_first: u64,
    second: Run,
    added_by_second: i64,
}

impl CsvResult {
    fn rate(&self, r: &Run) -> f64 {
        self.rows as f64 / secs(r.wall)
    }
    fn rate_no_unlock(&self, r: &Run) -> f64 {
        self.rows as f64 / (secs(r.wall) - secs(self.unlock)).max(1e-6)
    }
}

/// `rows` home blood-pressure readings as a CSV with Japanese headers (測定日, 時刻, 最高血圧,
/// 最低血圧, 脈拍), deterministic for (rows, seed): evenly spaced from 2000-01-01 (at most every
/// 12 hours) so that every reading lies before 2025 (the CLI refuses future readings).
fn write_bp_csv(path: &Path, rows: usize, seed: u64) -> Result<u64> {
    use chrono::{Duration as CDuration, NaiveDate};
    let start = NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(7, 0, 0)).expect("a valid start");
    let end = NaiveDate::from_ymd_opt(2025, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("a valid end");
    let span_min = (end - start).num_minutes();
    let step = (span_min / rows.max(1) as i64).clamp(1, 720);
    let mut f = BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?);
    writeln!(f, "測定日,時刻,最高血圧,最低血圧,脈拍")?;
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = |m: u64| {
        // xorshift64*: deterministic, no dependency
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % m
    };
    for i in 0..rows {
        let t = start + CDuration::minutes(step * i as i64);
        let sys = 105 + next(50);
        let dia = 60 + next(35); // below every systolic (≥ 105)
        let pulse = 55 + next(40);
        writeln!(f, "{},{},{sys},{dia},{pulse}", t.format("%Y/%m/%d"), t.format("%-H:%M"))?;
    }
    f.flush()?;
    Ok(fs::metadata(path)?.len())
}

fn csv_import(o: &Opts, techo: &Techo) -> Result<CsvResult> {
    let rows = o.csv_rows;
    let file = o.work.join(format!("home-bp-{rows}.csv"));
    say(format!("[csv] generating {rows} rows of home blood pressure"));
    let file_bytes = write_bp_csv(&file, rows, o.seed)?;
    let vault = o.work.join("vault-csv");
    let _ = fs::remove_dir_all(&vault);
    let logs = o.work.join("logs");
    fs::create_dir_all(&logs)?;
    let stdin = format!("{PASSPHRASE}\n");
    run_measured(&mut techo.init(&vault), &stdin, &logs.join("csv-init.log"))?;
    run_measured(&mut techo.person_add(&vault, "ベンチ 花子"), &stdin, &logs.join("csv-person.log"))?;
    let unlock = run_measured(&mut techo.unlock(&vault), &stdin, &logs.join("csv-unlock.log"))?.wall;
    let stored = || -> Result<u64> { open_vault(&vault)?.stats().map(|s| s.resources).map_err(|e| anyhow!("stats: {e}")) };
    say(format!("[csv] techo vitals import ({})", human_bytes(file_bytes)));
    let first = run_measured(&mut techo.vitals_import(&vault, &file), &stdin, &logs.join("csv-import-1.log"))?;
    let stored_after_first = stored()?;
    say(format!("[csv]   {:.2} s, {:.0} rows/s, {stored_after_first} readings stored", secs(first.wall), rows as f64 / secs(first.wall)));
    say("[csv] the same file again");
    let second = run_measured(&mut techo.vitals_import(&vault, &file), &stdin, &logs.join("csv-import-2.log"))?;
    let added_by_second = stored()? as i64 - stored_after_first as i64;
    say(format!("[csv]   {:.2} s, {added_by_second} added", secs(second.wall)));
    if !o.keep {
        let _ = fs::remove_dir_all(&vault);
        let _ = fs::remove_file(&file);
    }
    if stored_after_first != rows as u64 {
        bail!("the CSV import stored {stored_after_first} readings for {rows} rows");
    }
    Ok(CsvResult { rows, file_bytes, unlock, first, stored_after_first, second, added_by_second })
}

struct QueryResult {
    vault: String,
    query: String,
    goal_ms: f64,
    hits: usize,
    first_ms: f64,
    median_ms: f64,
    p95_ms: f64,
}

fn time_query(o: &Opts, mut f: impl FnMut() -> Result<usize>) -> Result<(usize, f64, f64, f64)> {
    let t = Instant::now();
    let hits = f()?;
    let first = ms(t.elapsed());
    for _ in 0..o.warmup {
        f()?;
    }
    let mut samples = Vec::with_capacity(o.runs);
    for _ in 0..o.runs {
        let t = Instant::now();
        let n = f()?;
        samples.push(ms(t.elapsed()));
        if n != hits {
            bail!("a query's result count changed between runs ({hits} then {n})");
        }
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    Ok((hits, first, percentile(&samples, 50.0), percentile(&samples, 95.0)))
}

fn queries(o: &Opts, label: &str, dir: &Path) -> Result<(Vec<QueryResult>, u64)> {
    let vault = open_vault(dir)?;
    let persons = vault.person_summaries().map_err(|e| anyhow!("person_summaries: {e}"))?;
    let p = persons.iter().max_by_key(|p| p.resource_count).ok_or_else(|| anyhow!("the vault has no person"))?;
    let (person, count) = (p.id, p.resource_count);
    say(format!("[{label}] queries on the person with {count} resources ({} runs after {} warm-up)", o.runs, o.warmup));
    let mut out = Vec::new();
    let tq = techo_core::TimelineQuery { person, limit: 100, ..Default::default() };
    let (hits, first, med, p95) = time_query(o, || vault.timeline(&tq).map(|v| v.len()).map_err(|e| anyhow!("timeline: {e}")))?;
    out.push(QueryResult { vault: label.into(), query: "timeline, newest 100".into(), goal_ms: GOAL_TIMELINE_MS, hits, first_ms: first, median_ms: med, p95_ms: p95 });
    // the second page, through the keyset cursor
    if let Some(last) = vault.timeline(&tq).map_err(|e| anyhow!("timeline: {e}"))?.last() {
        let q2 = techo_core::TimelineQuery {
            after: Some(techo_core::TimelineCursor { clinical_date: last.clinical_date.clone(), record_id: last.record_id }),
            ..tq.clone()
        };
        let (hits, first, med, p95) = time_query(o, || vault.timeline(&q2).map(|v| v.len()).map_err(|e| anyhow!("timeline: {e}")))?;
        out.push(QueryResult { vault: label.into(), query: "timeline, next 100 (cursor)".into(), goal_ms: GOAL_TIMELINE_MS, hits, first_ms: first, median_ms: med, p95_ms: p95 });
    }
    for (term, kind) in SEARCH_TERMS {
        let sq = techo_core::SearchQuery { person: Some(person), text: (*term).into(), limit: 50 };
        let (hits, first, med, p95) = time_query(o, || vault.search(&sq).map(|v| v.len()).map_err(|e| anyhow!("search: {e}")))?;
        out.push(QueryResult { vault: label.into(), query: format!("search \"{term}\" ({kind}), top 50"), goal_ms: GOAL_SEARCH_MS, hits, first_ms: first, median_ms: med, p95_ms: p95 });
    }
    for q in &out {
        say(format!("[{label}]   {}: median {:.2} ms, p95 {:.2} ms ({} rows)", q.query, q.median_ms, q.p95_ms, q.hits));
    }
    Ok((out, count))
}

// ------------------------------------------------------------------------------ report

fn env_line(o: &Opts) -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map(|kb| format!("{:.0} GiB RAM", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let git = Command::new("git").args(["rev-parse", "--short", "HEAD"]).output().ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let dirty = Command::new("git").args(["status", "--porcelain", "--untracked-files=no"]).output().ok().map(|o| !o.stdout.is_empty()).unwrap_or(false);
    let sqlite = Command::new(&o.sqlite3).arg("--version").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().next().unwrap_or("?").to_string()).unwrap_or_else(|| "?".into());
    format!(
        "{cpu}, {cores} cores, {mem}; 1-min load average {:.1} at the report; commit {}{}; sqlite3 {sqlite}; seed {}",
        loadavg(),
        git.unwrap_or_else(|| "?".into()),
        if dirty { " (+ uncommitted changes)" } else { "" },
        o.seed
    )
}

#[allow(clippy::too_many_arguments)]
fn render(
    o: &Opts,
    imports: &[ImportResult],
    import_errs: &[String],
    big: Option<&ImportResult>,
    big_note: &str,
    qs: &[QueryResult],
    q_errs: &[String],
    gen: &[(String, u64, Duration)],
    csv: &std::result::Result<Option<CsvResult>, String>,
    sync: &std::result::Result<Option<sync::SyncResult>, String>,
) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "# Techo benchmark\n");
    let _ = writeln!(r, "{}\n", env_line(o));
    let _ = writeln!(r, "Synthetic records from techo-gen (Japanese, multi-facility, JP Core codes). Times are wall clock; RSS is the child's peak resident set (wait4 ru_maxrss).\n");

    let _ = writeln!(r, "## (a, b) Import throughput: Techo vs a plain sqlite3 load\n");
    let _ = writeln!(r, "One person, one Bundle. Techo = `techo import` into a new encrypted (SQLCipher), indexed vault, as a child process; its time includes one Argon2id unlock (measured alone as `techo unlock`). Baseline = the `sqlite3` CLI, one plaintext table, `INSERT … SELECT json_extract(value,'$.resource') FROM json_each(readfile(FILE),'$.entry')` in one transaction. Each record is measured in {} rounds (Techo import into a new vault, baseline, floors, in turn); every figure is the median of its rounds, and each round's time is listed below the table.\n", o.import_runs);
    let _ = writeln!(r, "| record | file | Techo import | Techo res/s | Techo res/s w/o unlock | unlock | baseline | baseline res/s | Techo/baseline | goal ≥ {GOAL_RATIO} |");
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|---|");
    for i in imports {
        let (bw, br, ratio, v) = match (&i.baseline, i.base_rate()) {
            (Some((b, _)), Some(rate)) => {
                let ratio = i.techo_rate() / rate;
                (format!("{:.2} s", secs(b.wall)), format!("{rate:.0}"), format!("{ratio:.2}"), verdict(ratio >= GOAL_RATIO).to_string())
            }
            _ => ("failed".into(), "–".into(), "–".into(), "–".into()),
        };
        let _ = writeln!(
            r,
            "| {} resources | {} | {:.2} s | {:.0} | {:.0} | {:.2} s | {bw} | {br} | {ratio} | {v} |",
            i.resources,
            human_bytes(i.file_bytes),
            secs(i.import.wall),
            i.techo_rate(),
            i.techo_rate_no_unlock(),
            secs(i.unlock)
        );
    }
    for e in import_errs {
        let _ = writeln!(r, "\nImport failed: `{e}`");
    }
    let _ = writeln!(r);
    for i in imports {
        let stored = i.stored.map(|s| s.to_string()).unwrap_or_else(|| "?".into());
        let base_rows = i.baseline.as_ref().map(|(_, n)| n.to_string()).unwrap_or_else(|| "?".into());
        let _ = writeln!(
            r,
            "- {} resources: the Techo import used {:.2} s of CPU for {:.2} s of wall time ({:.0}% busy{}); vault holds {stored} resources afterwards, {} on disk ({:.0} bytes/resource; the file is {:.0}); baseline table holds {base_rows} rows; `techo init` took {:.2} s.",
            i.resources,
            secs(i.import.cpu),
            secs(i.import.wall),
            secs(i.import.cpu) / secs(i.import.wall) * 100.0,
            if secs(i.import.cpu) < 0.6 * secs(i.import.wall) {
                format!(": mostly waiting, on disk syncs or for a CPU other processes held; load average {:.1} at its start", i.load_before)
            } else {
                String::new()
            },
            human_bytes(i.vault_bytes),
            i.vault_bytes as f64 / i.resources as f64,
            i.file_bytes as f64 / i.resources as f64,
            secs(i.init)
        );
        if i.import_walls.len() > 1 {
            let list = |w: &[Duration]| w.iter().map(|d| format!("{:.2}", secs(*d))).collect::<Vec<_>>().join(", ");
            let _ = writeln!(r, "  Rounds: Techo {} s; baseline {} s.", list(&i.import_walls), list(&i.baseline_walls));
        }
        if let Some(e) = &i.baseline_err {
            let _ = writeln!(r, "  baseline failed: `{e}`");
        }
    }

    render_floors(&mut r, imports);

    let _ = writeln!(r, "\n## (c) Peak RSS of the import\n");
    let _ = writeln!(r, "| record | file | Techo peak RSS | sqlite3 baseline peak RSS | goal < {GOAL_RSS_MB:.0} MB |");
    let _ = writeln!(r, "|---|---|---|---|---|");
    let mut rss_rows: Vec<&ImportResult> = imports.iter().collect();
    if let Some(b) = big {
        rss_rows.push(b);
    }
    for i in &rss_rows {
        let b = i.baseline.as_ref().map(|(b, _)| format!("{:.1} MiB", mb(b.max_rss_kb))).unwrap_or_else(|| "–".into());
        let rss_mb = i.import.max_rss_kb as f64 * 1024.0 / 1e6;
        let _ = writeln!(r, "| {} resources ({}) | {} | {:.1} MiB | {b} | {} |", i.resources, i.label, human_bytes(i.file_bytes), mb(i.import.max_rss_kb), verdict(rss_mb < GOAL_RSS_MB));
    }
    if rss_rows.len() >= 2 {
        let (a, z) = (rss_rows[0], rss_rows[rss_rows.len() - 1]);
        let _ = writeln!(
            r,
            "\nFrom {} to {} resources ({:.1}× the file) the Techo peak RSS went from {:.1} to {:.1} MiB ({:+.0}%).",
            a.resources,
            z.resources,
            z.file_bytes as f64 / a.file_bytes as f64,
            mb(a.import.max_rss_kb),
            mb(z.import.max_rss_kb),
            (z.import.max_rss_kb as f64 / a.import.max_rss_kb as f64 - 1.0) * 100.0
        );
    }

    let _ = writeln!(r, "\n## (d) Query latency\n");
    if !big_note.is_empty() {
        let _ = writeln!(r, "{big_note}\n");
    }
    let _ = writeln!(r, "In-process through techo-core (`Vault::timeline`, `Vault::search`) on the person with the most resources; {} timed runs after {} warm-up runs. \"first\" is the first call after opening the vault.\n", o.runs, o.warmup);
    let _ = writeln!(r, "| vault | query | rows | first | median | p95 | goal | median/goal | p95/goal | |");
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|---|");
    for q in qs {
        let _ = writeln!(
            r,
            "| {} | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | < {:.0} ms | {:.2} | {:.2} | {} |",
            q.vault,
            q.query,
            q.hits,
            q.first_ms,
            q.median_ms,
            q.p95_ms,
            q.goal_ms,
            q.median_ms / q.goal_ms,
            q.p95_ms / q.goal_ms,
            verdict(q.p95_ms < q.goal_ms)
        );
    }
    for e in q_errs {
        let _ = writeln!(r, "\nQueries failed: `{e}`");
    }

    let _ = writeln!(r, "\n## (e) Home vitals: CSV import\n");
    match csv {
        Ok(None) => {
            let _ = writeln!(r, "Skipped (--csv-rows 0).");
        }
        Err(e) => {
            let _ = writeln!(r, "CSV import failed: `{e}`");
        }
        Ok(Some(c)) => {
            let _ = writeln!(r, "`techo vitals import` of a generated CSV of home blood pressure (Japanese headers 測定日, 時刻, 最高血圧, 最低血圧, 脈拍; deterministic for the seed) into a new vault: each row parsed, validated, turned into a FHIR Observation and stored through the import (one transaction, identifiers, full text). Then the same file again: every reading is recognised by its identifier. Times include one Argon2id unlock ({:.2} s).\n", secs(c.unlock));
            let _ = writeln!(r, "| run | rows | file | time | rows/s | rows/s w/o unlock | peak RSS | readings added |");
            let _ = writeln!(r, "|---|---|---|---|---|---|---|---|");
            let _ = writeln!(r, "| first import | {} | {} | {:.2} s | {:.0} | {:.0} | {:.1} MiB | {} |", c.rows, human_bytes(c.file_bytes), secs(c.first.wall), c.rate(&c.first), c.rate_no_unlock(&c.first), mb(c.first.max_rss_kb), c.stored_after_first);
            let _ = writeln!(r, "| same file again | {} | {} | {:.2} s | {:.0} | {:.0} | {:.1} MiB | {} {} |", c.rows, human_bytes(c.file_bytes), secs(c.second.wall), c.rate(&c.second), c.rate_no_unlock(&c.second), mb(c.second.max_rss_kb), c.added_by_second, verdict(c.added_by_second == 0));
        }
    }

    sync::render(&mut r, o, sync);

    let _ = writeln!(r, "\n## Generated inputs\n");
    for (name, n, d) in gen {
        let _ = writeln!(r, "- {name}: {n} resources generated in {:.1} s ({:.0} res/s)", secs(*d), *n as f64 / secs(*d));
    }
    r
}

/// (a′): the storage floors beside the baseline and Techo, for the records that had a baseline.
fn render_floors(r: &mut String, imports: &[ImportResult]) {
    for i in imports.iter().filter(|i| !i.floors.is_empty() || i.floor_err.is_some()) {
        let Some(base) = i.base_rate() else { continue };
        let _ = writeln!(r, "\n### (a′) Where the time goes: the required storage alone, {} resources\n", i.resources);
        let _ = writeln!(r, "The same file loaded the baseline's way (`json_each` over the Bundle's text, one table of resource text, one transaction) by a child process (`techo-bench --floor-import`) through the bundled SQLCipher Techo uses, adding one requirement of the vault at a time. No parsing, checking, indexes, full text, provenance or de-duplication: what the storage costs by itself. Time = reading the file, loading, committing and closing (a WAL is checkpointed on close, as in `techo import`). A raw key: no KDF. Medians of the rounds, as above.\n");
        let _ = writeln!(r, "| storage | time | res/s | CPU | peak RSS | file size | vs sqlite3 baseline (goal for Techo ≥ {GOAL_RATIO}) |");
        let _ = writeln!(r, "|---|---|---|---|---|---|---|");
        if let Some((b, _)) = &i.baseline {
            let _ = writeln!(r, "| `sqlite3` CLI baseline (a, b) | {:.2} s | {base:.0} | {:.2} s | {:.1} MiB | – | 1.00 |", secs(b.wall), secs(b.cpu), mb(b.max_rss_kb));
        }
        for f in &i.floors {
            let _ = writeln!(r, "| {} | {:.2} s | {:.0} | {:.2} s | {:.1} MiB | {} | {:.2} |", f.store.label(), secs(f.run.wall), f.rate(), secs(f.run.cpu), mb(f.run.max_rss_kb), human_bytes(f.bytes), f.rate() / base);
        }
        let _ = writeln!(r, "| **Techo import** (parsing, checks, the records and their 3 indexes, provenance and its 2, codes, identifiers, full text, de-duplication; an Argon2id unlock and process start) | {:.2} s | {:.0} | {:.2} s | {:.1} MiB | {} | {:.2} |", secs(i.import.wall), i.techo_rate(), secs(i.import.cpu), mb(i.import.max_rss_kb), human_bytes(i.vault_bytes), i.techo_rate() / base);
        if let Some(e) = &i.floor_err {
            let _ = writeln!(r, "\nFloor failed: `{e}`");
        }
        let find = |st| i.floors.iter().find(|f| f.store == st);
        if let (Some(plain), Some(wal), Some((b, _))) = (find(floor::Store::Plain), find(floor::Store::EncryptedWal), &i.baseline) {
            // the in-process load does the baseline's work through another build of SQLite: the
            // factor between its rows is what encryption, WAL and FULL syncs cost
            let factor = secs(wal.run.wall) / secs(plain.run.wall);
            let floor_wall = secs(b.wall) * factor;
            let goal_wall = i.resources as f64 / (GOAL_RATIO * base);
            let _ = writeln!(
                r,
                "\nSQLCipher, WAL and FULL syncs make the same load {factor:.2}× slower (same process, same build). Applied to the sqlite3 baseline, the required storage alone takes about {floor_wall:.2} s ({:.2}× the baseline). Reaching {GOAL_RATIO}× ({goal_wall:.2} s) would leave Techo {:.2} s of wall time beyond that floor for everything it does on top, unlock included; it takes {:.2} s.",
                secs(b.wall) / floor_wall,
                goal_wall - floor_wall,
                secs(i.import.wall) - floor_wall
            );
        }
    }
}

// ------------------------------------------------------------------------------ main

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--floor-import") {
        if let Err(e) = floor::child_main(&args[2..]) {
            eprintln!("bench: floor: {e:#}");
            std::process::exit(1);
        }
        return;
    }
    match real_main() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("bench: error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn real_main() -> Result<i32> {
    let o = parse_opts()?;
    if !o.techo.is_file() {
        bail!("no techo CLI at {} (build it: cargo build --release -p techo-cli)", o.techo.display());
    }
    Command::new(&o.sqlite3).arg("--version").output().map_err(|e| anyhow!("no `{}` ({e}); install the sqlite3 CLI (scripts/setup.sh --cli)", o.sqlite3))?;
    // before anything long: the sync part needs node and the peers' npm packages
    let node = if o.sync_resources > 0 { Some(sync::preflight(&o)?) } else { None };
    fs::create_dir_all(&o.work)?;
    if let Some(p) = o.report.parent() {
        fs::create_dir_all(p)?;
    }
    let techo = Techo { bin: o.techo.clone() };
    let mut gen_log = Vec::new();
    let mut imports = Vec::new();
    let mut import_errs = Vec::new();
    let mut qs = Vec::new();
    let mut q_errs = Vec::new();

    // (a)(b)(c): the import record and a bigger one
    let mut sizes = vec![o.resources];
    if o.rss_factor > 0.0 {
        sizes.push((o.resources as f64 * o.rss_factor).round() as usize);
    }
    let mut first_vault: Option<PathBuf> = None;
    for (k, &n) in sizes.iter().enumerate() {
        let cfg = GenConfig { seed: o.seed, persons: 1, resources: n, facilities: 4 };
        let file = o.work.join(format!("record-{n}.json"));
        say(format!("generating a one-person Bundle of {n} resources"));
        let (written, d) = generate(&cfg, GenFormat::Bundle, true, &file)?;
        gen_log.push((format!("one-person Bundle, {}", human_bytes(fs::metadata(&file)?.len())), written, d));
        let label = if k == 0 { "import".to_string() } else { format!("import×{}", o.rss_factor) };
        match import_once(&o, &techo, &label, &file, written, true) {
            Ok((res, vault)) => {
                imports.push(res);
                if k == 0 {
                    first_vault = Some(vault);
                } else if !o.keep {
                    let _ = fs::remove_dir_all(&vault);
                }
            }
            Err(e) => {
                say(format!("[{label}] failed: {e:#}"));
                import_errs.push(format!("{label}: {e:#}"));
            }
        }
        if !o.keep {
            let _ = fs::remove_file(&file);
        }
    }
    // queries on the import vault too: cheap, and a second point for how latency scales
    if let Some(v) = &first_vault {
        match queries(&o, &format!("{} res", o.resources), v) {
            Ok((q, _)) => qs.extend(q),
            Err(e) => q_errs.push(format!("{e:#}")),
        }
        if !o.keep {
            let _ = fs::remove_dir_all(v);
        }
    }

    // (e): home vitals CSV
    let csv = if o.csv_rows == 0 {
        Ok(None)
    } else {
        match csv_import(&o, &techo) {
            Ok(c) => Ok(Some(c)),
            Err(e) => {
                say(format!("[csv] failed: {e:#}"));
                Err(format!("{e:#}"))
            }
        }
    };

    // (f): sync from the loopback FHIR peer
    let sync = match &node {
        None => Ok(None),
        Some((major, version)) => match sync::run(&o, &techo, *major, version) {
            Ok(s) => Ok(Some(s)),
            Err(e) => {
                say(format!("[sync] failed: {e:#}"));
                Err(format!("{e:#}"))
            }
        },
    };

    // (d): the big vault
    let mut big: Option<ImportResult> = None;
    let mut big_note = String::new();
    if o.big > 0 {
        let label = format!("big-{}-p{}-s{}", o.big, o.big_persons, o.seed);
        let vault = o.work.join(format!("vault-{label}"));
        let marker = o.work.join(format!("{label}.complete"));
        let reused = o.reuse_big && marker.is_file() && vault.is_dir();
        if reused {
            big_note = format!("Reused the vault of an earlier run ({}).", fs::read_to_string(&marker).unwrap_or_default().trim());
            say(format!("reusing {}", vault.display()));
        } else {
            let _ = fs::remove_file(&marker);
            let cfg = GenConfig { seed: o.seed, persons: o.big_persons, resources: o.big, facilities: 4 };
            let file = o.work.join(format!("{label}.ndjson"));
            say(format!("generating {} resources of {} person(s) as NDJSON", o.big, o.big_persons));
            let (written, d) = generate(&cfg, GenFormat::Ndjson, false, &file)?;
            gen_log.push((format!("query vault NDJSON, {} person(s), {}", o.big_persons, human_bytes(fs::metadata(&file)?.len())), written, d));
            match import_once(&o, &techo, &label, &file, written, false) {
                Ok((res, _)) => {
                    big_note = format!(
                        "The query vault: {} resources of {} person(s) imported from one NDJSON file ({}) in {:.1} s ({:.0} res/s, peak RSS {:.1} MiB); {} on disk.",
                        res.resources,
                        o.big_persons,
                        human_bytes(res.file_bytes),
                        secs(res.import.wall),
                        res.techo_rate(),
                        mb(res.import.max_rss_kb),
                        human_bytes(res.vault_bytes)
                    );
                    if o.reuse_big {
                        fs::write(&marker, &big_note)?;
                    }
                    big = Some(res);
                }
                Err(e) => {
                    say(format!("[{label}] failed: {e:#}"));
                    q_errs.push(format!("importing the query vault: {e:#}"));
                }
            }
            if !o.keep {
                let _ = fs::remove_file(&file);
            }
        }
        if big.is_some() || reused {
            match queries(&o, &format!("{} res", o.big), &vault) {
                Ok((q, _)) => qs.extend(q),
                Err(e) => q_errs.push(format!("{e:#}")),
            }
        }
        if !o.keep && !o.reuse_big {
            let _ = fs::remove_dir_all(&vault);
        }
    } else {
        big_note = "The big query vault was skipped (--big 0); only the import vault was queried.".into();
    }

    let report = render(&o, &imports, &import_errs, big.as_ref(), &big_note, &qs, &q_errs, &gen_log, &csv, &sync);
    fs::write(&o.report, &report)?;
    println!("{report}");
    say(format!("report written to {}", o.report.display()));
    let failed = !import_errs.is_empty()
        || !q_errs.is_empty()
        || csv.as_ref().is_err()
        || csv.as_ref().is_ok_and(|c| c.as_ref().is_some_and(|c| c.added_by_second != 0))
        || sync.is_err();
    Ok(if failed { 1 } else { 0 })
}
