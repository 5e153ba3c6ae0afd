//! `techo`: the command-line interface over techo-core, for scripting, tests and benchmarks.
//!
//! Conventions scripts can rely on: `--vault DIR` on every command (default: `TECHO_VAULT`, then
//! the platform data folder); the passphrase from the terminal or, with `--passphrase-stdin`,
//! from standard input (first line; `passphrase change` reads old then new); `--json` for
//! machine-readable output; data on stdout, messages on stderr; one line per error, prefixed
//! `techo: error:`; stable exit codes (see [`exit_code`]).

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use techo_core::{keystore, Error, ExportFormat, ImportOptions, KeyringStatus, SearchQuery, TimelineQuery, Unlock, Vault};

mod consent;
mod package;
mod sync;
mod vitals;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "techo", version, about = "Techo (手帳): your whole health record, encrypted, on your own computer")]
struct Cli {
    /// The vault folder (default: $TECHO_VAULT, then the platform data folder).
    #[arg(long, global = true, value_name = "DIR")]
    vault: Option<PathBuf>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    json: bool,
    /// Read the passphrase from standard input (first line) instead of the terminal.
    #[arg(long, global = true)]
    passphrase_stdin: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a new vault (asks for a recovery passphrase; stores a key in the OS keyring when there is one).
    Init {
        /// Do not use the OS keyring.
        #[arg(long)]
        no_keyring: bool,
    },
    /// Check that the vault unlocks; --remember stores a key in the OS keyring for passphrase-free unlocks.
    Unlock {
        #[arg(long)]
        remember: bool,
        /// Remove the key from the OS keyring.
        #[arg(long, conflicts_with = "remember")]
        forget: bool,
    },
    /// Persons in the vault (self and family members).
    Person {
        #[command(subcommand)]
        cmd: PersonCmd,
    },
    /// Import FHIR R4 files: Bundles (any type), NDJSON, single resources. One file = one transaction.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Whose record the files are (default: matched by the Patient's identifiers).
        #[arg(long)]
        person: Option<i64>,
        /// A name for the source (default: the file name).
        #[arg(long)]
        source: Option<String>,
    },
    /// List a person's records, newest first.
    List {
        #[arg(long)]
        person: Option<i64>,
        /// Resource type (repeatable).
        #[arg(long = "type")]
        types: Vec<String>,
        /// From this date (inclusive).
        #[arg(long)]
        from: Option<String>,
        /// Up to this date (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// SYSTEM|CODE, or just CODE.
        #[arg(long)]
        code: Option<String>,
        /// A source's name or URI.
        #[arg(long)]
        source: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Print one record's resource exactly as stored (or a version, or its provenance).
    Show {
        record_id: i64,
        #[arg(long)]
        version: Option<i64>,
        /// Print the record's sources and versions instead (JSON).
        #[arg(long)]
        provenance: bool,
    },
    /// Full-text search (Japanese matches inside words).
    Search {
        #[arg(required = true)]
        text: Vec<String>,
        #[arg(long)]
        person: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Export a person's record (or everyone's) as a collection Bundle or NDJSON.
    Export {
        #[arg(long)]
        person: Option<i64>,
        #[arg(long, value_enum, default_value_t = Format::Bundle)]
        format: Format,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Home vitals: record, edit, delete, list, import (CSV), export readings; the blood-pressure handbook.
    Vitals {
        #[command(subcommand)]
        cmd: vitals::VitalsCmd,
    },
    /// Diaries: asthma, joint pain, mood.
    Diary {
        #[command(subcommand)]
        cmd: vitals::DiaryCmd,
    },
    /// FHIR endpoints (hospitals, clinics, pharmacies) to sync from: add, list, sign in, sign out, runs.
    Endpoint {
        #[command(subcommand)]
        cmd: sync::EndpointCmd,
    },
    /// The person's consent: sharing with providers (exceptions), caregivers, research opt-out.
    Consent {
        #[command(subcommand)]
        cmd: consent::ConsentCmd,
    },
    /// Share a person's record with a provider or a caregiver, as their consent allows (audited).
    Share(consent::ShareArgs),
    /// The printable summary of a person's record (HTML, Japanese or English), or with --ips the
    /// International Patient Summary as FHIR JSON. Audited as an export.
    Summary {
        #[arg(long)]
        person: Option<i64>,
        /// en or ja.
        #[arg(long, default_value = "en", value_parser = ["en", "ja"])]
        lang: String,
        /// Write the IPS (a FHIR document Bundle) instead of the HTML page.
        #[arg(long)]
        ips: bool,
        /// Write the Japanese six-item summary (FHIR document Bundle).
        #[arg(long)]
        jp_six: bool,
        /// Write to this file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Encrypted share packages with a SMART Health Link: create one (audited), open one (no vault needed).
    Package {
        #[command(subcommand)]
        cmd: package::PackageCmd,
    },
    /// Pseudonymised copies for research: make those due, see the queue, write or push them.
    Research {
        #[command(subcommand)]
        cmd: consent::ResearchCmd,
    },
    /// The audit log of every disclosure and consent change; verify its hash chain.
    Audit {
        #[command(subcommand)]
        cmd: consent::AuditCmd,
    },
    /// Pull updates from the endpoints (all of them, or those named): incremental, paged, resumable.
    Sync(sync::SyncArgs),
    /// Serve the built-in demo hospital (synthetic data, SMART sign-in) on 127.0.0.1 until stopped.
    DemoHospital {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Resources in the demo patient's record.
        #[arg(long, default_value_t = 1000)]
        resources: usize,
        /// Facilities the record spans.
        #[arg(long, default_value_t = 4)]
        facilities: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// No sign-in (an open server).
        #[arg(long)]
        open: bool,
        /// Offer Patient/$everything?_since= (advertised in /metadata).
        #[arg(long)]
        everything: bool,
    },
    /// Counts of persons, resources, versions and sources.
    Stats,
    /// The sources records came from.
    Sources,
    /// Change the recovery passphrase.
    Passphrase {
        #[command(subcommand)]
        cmd: PassphraseCmd,
    },
    /// Rotate the data key: re-encrypt the whole vault under a new random key.
    Rekey,
    /// Check every encrypted page and the database structure.
    Check,
    /// Generate a deterministic synthetic record (for tests, demos and benchmarks; no vault needed).
    Gen {
        #[arg(long, default_value_t = 1)]
        persons: usize,
        #[arg(long, default_value_t = 1000)]
        resources: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 4)]
        facilities: usize,
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// One file (all persons).
        #[arg(long, conflicts_with = "out_dir")]
        out: Option<PathBuf>,
        /// One file per person, named person-N.ndjson / person-N.json.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PersonCmd {
    /// Add a person; prints the new person's id.
    Add {
        name: String,
        /// e.g. self, mother, father, child, spouse.
        #[arg(long)]
        relationship: Option<String>,
        /// SYSTEM|VALUE (repeatable): identifiers that match this person's Patient records on import.
        #[arg(long)]
        identifier: Vec<String>,
    },
    /// List persons with resource counts.
    List,
    /// Rename a person.
    Rename {
        id: i64,
        name: String,
        #[arg(long)]
        relationship: Option<String>,
    },
}

#[derive(Subcommand)]
enum PassphraseCmd {
    /// Change it (asks for the current one, then the new one twice).
    Change,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Bundle,
    Ndjson,
}

/// Stable exit codes, by the core's (general) error code.
fn exit_code(code: &str) -> u8 {
    match code {
        "wrong_passphrase" => 3,
        "no_vault" | "not_a_vault" | "plaintext_database" | "vault_exists" => 4,
        "corrupt" => 5,
        "newer_version" => 6,
        "invalid_input" => 7,
        "not_found" => 8,
        "keyring_unavailable" => 9,
        _ => 1,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
                e.exit();
            }
            eprintln!("techo: error: {}; see --help", usage_line(&e));
            return ExitCode::from(2);
        }
    };
    let mut ctx = Ctx { cli_vault: cli.vault.clone(), json: cli.json, stdin_pass: cli.passphrase_stdin, stdin_lines: None };
    match run(&mut ctx, cli.cmd) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = if e.downcast_ref::<vitals::Usage>().is_some() {
                2
            } else if let Some(e) = e.downcast_ref::<techo_share::ShareError>() {
                package::exit_code(e)
            } else if let Some(e) = e.downcast_ref::<techo_sync::SyncError>() {
                sync::exit_code(e)
            } else if e.downcast_ref::<techo_core::techo_vitals::VitalsError>().is_some() {
                exit_code("invalid_input")
            } else {
                e.downcast_ref::<Error>().map_or(1, |e| exit_code(e.general_code()))
            };
            eprintln!("techo: error: {}", one_line(&e.to_string()));
            ExitCode::from(code)
        }
    }
}

/// A clap error as one line that does not echo what was typed as a value (it may be a reading).
fn usage_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(a)) => Some(a.clone()),
        Some(ContextValue::Strings(a)) => Some(a.join(", ")),
        _ => None,
    };
    let valid = match e.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(v)) if !v.is_empty() => format!(" (use one of: {})", v.join(", ")),
        _ => String::new(),
    };
    match (e.kind(), arg) {
        (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(a)) => format!("invalid value for {a}{valid}"),
        (ErrorKind::UnknownArgument, Some(a)) if !a.starts_with('-') => "an unexpected extra argument".to_owned(),
        (ErrorKind::MissingRequiredArgument, Some(a)) => format!("missing {a}"),
        _ => {
            let text = e.render().to_string();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid arguments");
            one_line(first.trim_start_matches("error:").trim())
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Ctx {
    cli_vault: Option<PathBuf>,
    json: bool,
    stdin_pass: bool,
    stdin_lines: Option<std::vec::IntoIter<SecretString>>,
}

impl Ctx {
    fn vault_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(v) = &self.cli_vault {
            return Ok(v.clone());
        }
        if let Some(v) = std::env::var_os("TECHO_VAULT").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(v));
        }
        techo_core::default_vault_dir().ok_or_else(|| anyhow!("cannot tell where your data folder is; pass --vault DIR"))
    }

    /// The next passphrase: the next stdin line with --passphrase-stdin, else asked on the terminal.
    fn passphrase(&mut self, prompt: &str) -> anyhow::Result<SecretString> {
        if self.stdin_pass {
            if self.stdin_lines.is_none() {
                let mut lines = Vec::new();
                for line in std::io::stdin().lock().lines().take(3) {
                    let line = zeroize::Zeroizing::new(line.context("could not read the passphrase from standard input")?);
                    lines.push(SecretString::from(line.trim_end_matches('\r').to_owned()));
                }
                self.stdin_lines = Some(lines.into_iter());
            }
            return self
                .stdin_lines
                .as_mut()
                .and_then(Iterator::next)
                .ok_or_else(|| anyhow!("standard input has no passphrase line; pipe it in or drop --passphrase-stdin"));
        }
        if !std::io::stdin().is_terminal() && std::env::var_os("TECHO_FORCE_TTY").is_none() {
            bail!("there is no terminal to ask for the passphrase; use --passphrase-stdin");
        }
        let p = rpassword::prompt_password(prompt).context("could not read the passphrase from the terminal")?;
        Ok(SecretString::from(p))
    }

    fn new_passphrase(&mut self) -> anyhow::Result<SecretString> {
        let p = self.passphrase("New recovery passphrase: ")?;
        if !self.stdin_pass {
            let again = self.passphrase("Repeat it: ")?;
            use secrecy::ExposeSecret;
            if again.expose_secret() != p.expose_secret() {
                bail!("the two passphrases differ; nothing was changed");
            }
        }
        Ok(p)
    }

    /// Opens the vault: the OS keyring first (unless the passphrase comes on stdin), then the passphrase.
    fn open(&mut self) -> anyhow::Result<Vault> {
        let dir = self.vault_dir()?;
        if !self.stdin_pass {
            let ks = keystore::from_env();
            match Vault::open(&dir, Unlock::Keyring(ks.as_ref())) {
                Ok(v) => return Ok(v),
                Err(Error::KeyringUnavailable(why)) => {
                    eprintln!("techo: note: no OS keyring is available ({why}); using your recovery passphrase");
                }
                Err(Error::KeyringNoKey) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let p = self.passphrase("Recovery passphrase: ")?;
        Ok(Vault::open(&dir, Unlock::Passphrase(&p))?)
    }

    fn print_json<T: serde::Serialize>(&self, v: &T) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, v)?;
        writeln!(out)?;
        Ok(())
    }
}

fn run(ctx: &mut Ctx, cmd: Cmd) -> anyhow::Result<u8> {
    match cmd {
        Cmd::Init { no_keyring } => {
            let dir = ctx.vault_dir()?;
            let p = ctx.new_passphrase()?;
            let ks = keystore::from_env();
            let (_vault, status) = Vault::create(&dir, &p, if no_keyring { None } else { Some(ks.as_ref()) })?;
            eprintln!("techo: created an encrypted vault at {}", dir.display());
            match status {
                KeyringStatus::Stored => eprintln!("techo: the OS keyring will unlock it on this computer; keep your recovery passphrase safe"),
                KeyringStatus::Unavailable(why) if !no_keyring => {
                    eprintln!("techo: note: no OS keyring is available ({why}); unlock with your recovery passphrase")
                }
                KeyringStatus::Unavailable(_) => {}
            }
            Ok(0)
        }
        Cmd::Unlock { remember, forget } => {
            let mut v = ctx.open()?;
            if remember {
                v.remember_in_keyring(keystore::from_env().as_ref())?;
                eprintln!("techo: the OS keyring now unlocks this vault on this computer");
            } else if forget {
                v.forget_keyring(keystore::from_env().as_ref())?;
                eprintln!("techo: removed this vault's key from the OS keyring; the passphrase is now the only way in");
            } else {
                eprintln!("techo: the vault unlocks");
            }
            Ok(0)
        }
        Cmd::Person { cmd } => person(ctx, cmd),
        Cmd::Import { files, person, source } => import(ctx, files, person, source),
        Cmd::List { person, types, from, to, code, source, limit } => {
            let v = ctx.open()?;
            let person = resolve_person(&v, person)?;
            let code = code.map(|c| match c.split_once('|') {
                Some((s, c)) => (s.to_owned(), c.to_owned()),
                None => (String::new(), c),
            });
            let rows = v.timeline(&TimelineQuery { person, types, from, to, code, source, source_kind: None, after: None, limit })?;
            print_rows(ctx, &rows)?;
            Ok(0)
        }
        Cmd::Show { record_id, version, provenance } => {
            let v = ctx.open()?;
            let mut out = std::io::stdout().lock();
            if provenance {
                drop(out);
                ctx.print_json(&v.record(record_id)?)?;
            } else {
                let text = match version {
                    Some(n) => v.record_version(record_id, n)?,
                    None => v.record(record_id)?.resource,
                };
                writeln!(out, "{text}")?;
            }
            Ok(0)
        }
        Cmd::Search { text, person, limit } => {
            let v = ctx.open()?;
            let rows = v.search(&SearchQuery { person, text: text.join(" "), limit })?;
            print_rows(ctx, &rows)?;
            Ok(0)
        }
        Cmd::Export { person, format, out } => {
            let mut v = ctx.open()?;
            let format = if format == Format::Ndjson { ExportFormat::Ndjson } else { ExportFormat::Bundle };
            let n = match &out {
                Some(path) => {
                    let tmp = path.with_extension("partial");
                    let f = std::fs::File::create(&tmp).with_context(|| format!("could not create {}", tmp.display()))?;
                    let mut w = std::io::BufWriter::new(f);
                    let n = v.export(person, format, &mut w)?;
                    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                    std::fs::rename(&tmp, path)?;
                    n
                }
                None => {
                    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
                    v.export(person, format, &mut w)?
                }
            };
            eprintln!("techo: exported {n} resources");
            Ok(0)
        }
        Cmd::Vitals { cmd } => vitals::run_vitals(ctx, cmd),
        Cmd::Diary { cmd } => vitals::run_diary(ctx, cmd),
        Cmd::Endpoint { cmd } => sync::run_endpoint(ctx, cmd),
        Cmd::Sync(args) => sync::run_sync(ctx, args),
        Cmd::Consent { cmd } => consent::run_consent(ctx, cmd),
        Cmd::Share(args) => consent::run_share(ctx, args),
        Cmd::Package { cmd } => package::run(ctx, cmd),
        Cmd::Summary { person, lang, ips, jp_six, out } => package::summary(ctx, person, &lang, ips, jp_six, out.as_deref()),
        Cmd::Research { cmd } => consent::run_research(ctx, cmd),
        Cmd::Audit { cmd } => consent::run_audit(ctx, cmd),
        Cmd::DemoHospital { port, resources, facilities, seed, open, everything } => sync::demo_hospital(port, resources, facilities, seed, open, everything),
        Cmd::Stats => {
            let v = ctx.open()?;
            let s = v.stats()?;
            if ctx.json {
                ctx.print_json(&s)?;
            } else {
                println!("persons\t{}\nresources\t{}\nversions\t{}\nsources\t{}", s.persons, s.resources, s.versions, s.sources);
                for (t, n) in &s.by_type {
                    println!("  {t}\t{n}");
                }
            }
            Ok(0)
        }
        Cmd::Sources => {
            let v = ctx.open()?;
            let s = v.sources()?;
            if ctx.json {
                ctx.print_json(&s)?;
            } else {
                for s in s {
                    println!("{}\t{}\t{}\t{} records\t{}", s.id, s.kind, s.name, s.records, s.uri);
                }
            }
            Ok(0)
        }
        Cmd::Passphrase { cmd: PassphraseCmd::Change } => {
            let dir = ctx.vault_dir()?;
            let old = ctx.passphrase("Current recovery passphrase: ")?;
            let mut v = Vault::open(&dir, Unlock::Passphrase(&old))?;
            let new = ctx.new_passphrase()?;
            v.change_passphrase(&old, &new)?;
            eprintln!("techo: the recovery passphrase was changed");
            Ok(0)
        }
        Cmd::Rekey => {
            let dir = ctx.vault_dir()?;
            let p = ctx.passphrase("Recovery passphrase: ")?;
            let mut v = Vault::open(&dir, Unlock::Passphrase(&p))?;
            v.rekey(&p, Some(keystore::from_env().as_ref()))?;
            eprintln!("techo: the vault was re-encrypted under a new data key");
            Ok(0)
        }
        Cmd::Check => {
            let v = ctx.open()?;
            v.check_integrity()?;
            eprintln!("techo: every encrypted page and the database structure check out");
            Ok(0)
        }
        Cmd::Gen { persons, resources, seed, facilities, format, out, out_dir } => gen(persons, resources, seed, facilities, format, out, out_dir),
    }
}

pub(crate) fn resolve_person(v: &Vault, person: Option<i64>) -> anyhow::Result<i64> {
    if let Some(p) = person {
        return Ok(v.person(p)?.id);
    }
    let all = v.persons()?;
    match all.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("the vault has no person yet; import a record or add one with `techo person add`"),
        _ => Err(Error::InvalidInput("the vault holds several persons; say whose record with --person (see `techo person list`)".into()).into()),
    }
}

fn print_rows(ctx: &Ctx, rows: &[techo_core::ResourceRow]) -> anyhow::Result<()> {
    if ctx.json {
        return ctx.print_json(&rows);
    }
    let mut out = std::io::stdout().lock();
    for r in rows {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            r.record_id,
            r.clinical_date.as_deref().map_or("-", |d| &d[..10]),
            r.resource_type,
            r.display.as_deref().unwrap_or(""),
            r.source
        )?;
    }
    Ok(())
}

fn person(ctx: &mut Ctx, cmd: PersonCmd) -> anyhow::Result<u8> {
    let mut v = ctx.open()?;
    match cmd {
        PersonCmd::Add { name, relationship, identifier } => {
            let ids = identifier
                .iter()
                .map(|i| {
                    i.split_once('|')
                        .map(|(s, v)| (s.to_owned(), v.to_owned()))
                        .ok_or_else(|| Error::InvalidInput(format!("identifier {i:?} is not SYSTEM|VALUE")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let id = v.add_person(&name, relationship.as_deref(), &ids)?;
            println!("{id}");
        }
        PersonCmd::List => {
            let s = v.person_summaries()?;
            if ctx.json {
                ctx.print_json(&s)?;
            } else {
                for p in s {
                    let shared = p.shared_by.as_deref().map(|s| format!("\tshared by {s}")).unwrap_or_default();
                    println!("{}\t{}\t{}\t{} resources{shared}", p.id, p.display_name, p.relationship.as_deref().unwrap_or("-"), p.resource_count);
                }
            }
        }
        PersonCmd::Rename { id, name, relationship } => {
            v.rename_person(id, &name, relationship.as_deref())?;
        }
    }
    Ok(0)
}

fn import(ctx: &mut Ctx, files: Vec<PathBuf>, person: Option<i64>, source: Option<String>) -> anyhow::Result<u8> {
    let mut v = ctx.open()?;
    let opts = ImportOptions { person, source_name: source };
    let mut reports = Vec::new();
    let mut failed = 0;
    let mut last_error: Option<Error> = None;
    for f in &files {
        let bar = progress_bar(f);
        let res = v.import_file(f, &opts, &mut |p| {
            if let Some(b) = &bar {
                b.set_length(p.total_bytes.max(1));
                b.set_position(p.bytes_read);
                b.set_message(format!("{} resources", p.resources));
            }
        });
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        match res {
            Ok(r) => {
                eprintln!(
                    "techo: imported {}: {} resources ({} new, {} updated, {} unchanged, {} merged from other sources{})",
                    f.display(),
                    r.resources,
                    r.new,
                    r.updated,
                    r.unchanged,
                    r.merged,
                    if r.skipped > 0 { format!(", {} request-only entries skipped", r.skipped) } else { String::new() }
                );
                reports.push(r);
            }
            Err(e) => {
                failed += 1;
                if files.len() == 1 {
                    return Err(e.into());
                }
                eprintln!("techo: error: {}", one_line(&e.to_string()));
                last_error = Some(e);
            }
        }
    }
    if ctx.json {
        ctx.print_json(&reports)?;
    }
    match last_error {
        Some(e) if failed > 0 => Ok(exit_code(e.general_code())),
        _ => Ok(0),
    }
}

fn progress_bar(file: &Path) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(1);
    b.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})")
            .expect("template")
            .progress_chars("=> "),
    );
    b.set_prefix(file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    Some(b)
}

fn gen(
    persons: usize,
    resources: usize,
    seed: u64,
    facilities: usize,
    format: Option<Format>,
    out: Option<PathBuf>,
    out_dir: Option<PathBuf>,
) -> anyhow::Result<u8> {
    if persons == 0 || resources < persons {
        return Err(Error::InvalidInput("need at least one person and one resource per person".into()).into());
    }
    let cfg = techo_gen::GenConfig { seed, persons, resources, facilities: facilities.max(1) };
    let pick = |p: Option<&Path>| match format {
        Some(Format::Ndjson) => techo_gen::GenFormat::Ndjson,
        Some(Format::Bundle) => techo_gen::GenFormat::Bundle,
        None if p.and_then(|p| p.extension()).is_some_and(|e| e == "json") => techo_gen::GenFormat::Bundle,
        None => techo_gen::GenFormat::Ndjson,
    };
    let write_to = |path: &Path, f: &dyn Fn(&mut dyn Write) -> std::io::Result<u64>| -> anyhow::Result<u64> {
        let file = std::fs::File::create(path).with_context(|| format!("could not create {}", path.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let n = f(&mut w)?;
        w.flush()?;
        Ok(n)
    };
    let total = if let Some(dir) = out_dir {
        std::fs::create_dir_all(&dir)?;
        let fmt = pick(None);
        let ext = if fmt == techo_gen::GenFormat::Bundle { "json" } else { "ndjson" };
        let mut total = 0;
        for i in 0..persons {
            let path = dir.join(format!("person-{}.{ext}", i + 1));
            total += write_to(&path, &|w| techo_gen::write_person(&cfg, i, fmt, w))?;
        }
        total
    } else if let Some(path) = out {
        let fmt = pick(Some(&path));
        write_to(&path, &|w| techo_gen::write(&cfg, fmt, w))?
    } else {
        let fmt = pick(None);
        let mut w = std::io::BufWriter::new(std::io::stdout().lock());
        let n = techo_gen::write(&cfg, fmt, &mut w)?;
        w.flush()?;
        n
    };
    eprintln!("techo: generated {total} synthetic resources");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Regression: `summary` once showed the `package` command's description and `package` none
    /// (a doc comment on the wrong variant). Every command says what it does, in its own words.
    #[test]
    fn every_command_has_its_own_description() {
        let cli = Cli::command();
        let mut seen = std::collections::BTreeSet::new();
        for sub in cli.get_subcommands() {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            assert!(!about.trim().is_empty(), "`techo {}` has no description", sub.get_name());
            assert!(seen.insert(about.clone()), "`techo {}` repeats another command's description", sub.get_name());
        }
        let about = |name: &str| cli.find_subcommand(name).and_then(|s| s.get_about()).map(|a| a.to_string()).unwrap_or_default();
        assert!(about("package").contains("package") && !about("summary").contains("package"), "summary: {:?}; package: {:?}", about("summary"), about("package"));
    }
}
