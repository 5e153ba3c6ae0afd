//! `techo endpoint …` and `techo sync`: FHIR endpoints to pull a record from, their sign-in, and
//! the sync itself (progress on stderr, the report on stdout).

use crate::Ctx;
use anyhow::bail;
use clap::Subcommand;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;
use techo_core::EndpointAuth;
use techo_sync::{EndpointReport, HttpOptions, RunOutcome, SyncOptions};

#[derive(Subcommand)]
pub enum EndpointCmd {
    /// Add a FHIR endpoint (reads its /metadata and SMART configuration first).
    Add {
        /// The FHIR base URL, e.g. https://fhir.example-hospital.jp/r4
        url: String,
        /// A name for it (default: the server's software name, else the host).
        #[arg(long)]
        name: Option<String>,
        /// Whose record it holds (default: the only person in the vault; a new "Me" in an empty vault).
        #[arg(long)]
        person: Option<i64>,
        /// The facility's name, for display.
        #[arg(long)]
        facility: Option<String>,
        /// The server's id of the patient (needed for open servers; SMART servers tell it at sign-in).
        #[arg(long)]
        patient: Option<String>,
        /// The client id registered with the hospital's authorization server.
        #[arg(long, default_value = "techo")]
        client_id: String,
        /// The scopes to ask for (default: patient read access, patient context, offline_access).
        #[arg(long)]
        scope: Option<String>,
        /// Treat it as an open server (no sign-in), even if it offers SMART.
        #[arg(long)]
        open: bool,
        /// A confidential client: make a signing key here and authenticate token requests with
        /// private_key_jwt (automatic when the server takes only that). Register the public key
        /// set (`techo endpoint jwks ID`) with the hospital.
        #[arg(long, conflicts_with = "open")]
        private_key_jwt: bool,
    },
    /// Print the public key set (JWKS) of an endpoint's client key, to register with the
    /// hospital; --new makes (or replaces) the key first.
    Jwks {
        endpoint: String,
        #[arg(long)]
        new: bool,
    },
    /// The endpoints, their status and last sync.
    List,
    /// Sign in (SMART App Launch): opens the browser and waits for it to come back.
    SignIn {
        endpoint: String,
        /// Do not open a browser: print the sign-in URL on stdout (for scripts and tests).
        #[arg(long)]
        print_url: bool,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Forget the endpoint's tokens (the records already pulled stay).
    SignOut { endpoint: String },
    /// The latest sync runs of an endpoint.
    Runs {
        endpoint: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
}

#[derive(clap::Args)]
pub struct SyncArgs {
    /// Endpoints to sync (id, name or URL); default: every endpoint.
    endpoints: Vec<String>,
    /// Only these resource types (comma-separated).
    #[arg(long, value_delimiter = ',')]
    types: Option<Vec<String>>,
    /// Resources per page asked of the server (each page is one transaction).
    #[arg(long, default_value_t = techo_sync::DEFAULT_PAGE_SIZE)]
    page_size: u32,
    /// Seconds before one request times out.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Tries for a transient failure (5xx, timeout, reset).
    #[arg(long, default_value_t = 5)]
    attempts: u32,
    /// The first backoff between tries, in milliseconds (doubled each time, with jitter).
    #[arg(long, default_value_t = 500)]
    backoff_ms: u64,
    /// Search type by type even where the server offers Patient/$everything.
    #[arg(long)]
    no_everything: bool,
}

pub fn run_endpoint(ctx: &mut Ctx, cmd: EndpointCmd) -> anyhow::Result<u8> {
    match cmd {
        EndpointCmd::Add { url, name, person, facility, patient, client_id, scope, open, private_key_jwt } => {
            let mut v = ctx.open()?;
            // Check the address before anything else (a clear line, nothing stored).
            techo_core::normalize_base_url(&url)?;
            let person = match person {
                Some(p) => {
                    v.person(p).map_err(|_| techo_core::Error::NotFound(format!("person {p} (see `techo person list`)")))?;
                    p
                }
                None if v.persons()?.is_empty() => 0,
                None => crate::resolve_person(&v, None)?,
            };
            let http = techo_sync::Http::new(HttpOptions { attempts: 2, ..Default::default() })?;
            let req = techo_sync::AddRequest { url, name, person_id: person, facility, patient, client_id, scope, open };
            let (mut new, d) = techo_sync::plan_endpoint(&http, &req)?;
            if new.person_id == 0 {
                new.person_id = v.add_person("Me", Some("self"), &[])?;
            }
            let ep = v.add_endpoint(&new)?;
            let wants_key = d.smart.as_ref().is_some_and(|c| c.wants_private_key_jwt());
            if matches!(ep.auth, EndpointAuth::Smart { .. }) && (private_key_jwt || wants_key) {
                v.save_endpoint_client_key(ep.id, &techo_sync::generate_client_key(&ep.name)?)?;
                eprintln!("techo: made a signing key for {}; register its public key set (`techo endpoint jwks {}`) with the hospital before signing in", ep.name, ep.id);
            }
            if ctx.json {
                ctx.print_json(&ep)?;
            } else {
                println!("{}", ep.id);
            }
            let next = if matches!(ep.auth, EndpointAuth::Smart { .. }) {
                format!("sign in with `techo endpoint sign-in {}`, then `techo sync`", ep.id)
            } else {
                "sync it with `techo sync`".to_owned()
            };
            eprintln!("techo: added {} as endpoint {} ({} resource types); {next}", ep.name, ep.id, d.patient_types.len());
            Ok(0)
        }
        EndpointCmd::List => {
            let v = ctx.open()?;
            let all = v.endpoints()?;
            if ctx.json {
                ctx.print_json(&all)?;
            } else {
                for e in all {
                    let auth = if matches!(e.auth, EndpointAuth::Open) { "open" } else if e.signed_in { "signed in" } else { "not signed in" };
                    println!(
                        "{}\t{}\t{}\t{:?}\t{}\tlast sync {}\t{}",
                        e.id,
                        e.name,
                        e.base_url,
                        e.status,
                        auth,
                        e.last_sync_at.as_deref().unwrap_or("never"),
                        e.status_message.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(0)
        }
        EndpointCmd::SignIn { endpoint, print_url, timeout } => {
            let v = ctx.open()?;
            let ep = v.find_endpoint(&endpoint)?;
            let pending = techo_sync::begin_sign_in(&ep, v.endpoint_client_key(ep.id)?)?;
            if print_url {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", pending.authorize_url())?;
                out.flush()?;
            } else {
                eprintln!("techo: opening your browser to sign in to {}; if it does not open, visit:\n{}", ep.name, pending.authorize_url());
                if let Err(e) = webbrowser::open(pending.authorize_url()) {
                    eprintln!("techo: note: could not open a browser ({e}); open the address above yourself");
                }
            }
            let http = techo_sync::Http::new(HttpOptions::default())?;
            let signed = pending.finish(&http, Duration::from_secs(timeout))?;
            techo_sync::complete_sign_in(&std::sync::Mutex::new(v), &ep, &signed)?;
            eprintln!("techo: signed in to {}; sync with `techo sync {}`", ep.name, ep.id);
            Ok(0)
        }
        EndpointCmd::Jwks { endpoint, new } => {
            let mut v = ctx.open()?;
            let ep = v.find_endpoint(&endpoint)?;
            if !matches!(ep.auth, EndpointAuth::Smart { .. }) {
                bail!(techo_core::Error::InvalidInput(format!("{} is an open server; it needs no client key", ep.name)));
            }
            if new {
                v.save_endpoint_client_key(ep.id, &techo_sync::generate_client_key(&ep.name)?)?;
                eprintln!("techo: made a new signing key for {}; register the key set below with the hospital (the old key no longer signs)", ep.name);
            }
            match v.endpoint_client_key(ep.id)? {
                Some(k) => println!("{}", k.public_jwks),
                None => bail!(techo_core::Error::NotFound(format!("a client key for {} (it signs in as a public client; make one with --new)", ep.name))),
            }
            Ok(0)
        }
        EndpointCmd::SignOut { endpoint } => {
            let mut v = ctx.open()?;
            let ep = v.find_endpoint(&endpoint)?;
            v.forget_endpoint_tokens(ep.id)?;
            eprintln!("techo: signed out of {}; its records stay in the vault", ep.name);
            Ok(0)
        }
        EndpointCmd::Runs { endpoint, limit } => {
            let v = ctx.open()?;
            let ep = v.find_endpoint(&endpoint)?;
            let runs = v.sync_runs(ep.id, limit)?;
            if ctx.json {
                let reports: Vec<serde_json::Value> = runs.iter().filter_map(|r| serde_json::from_str(&r.report).ok()).collect();
                ctx.print_json(&reports)?;
            } else {
                for r in runs {
                    println!("{}\t{}\t{}\t{}", r.id, r.started_at, r.finished_at, r.outcome);
                }
            }
            Ok(0)
        }
    }
}

pub fn run_sync(ctx: &mut Ctx, args: SyncArgs) -> anyhow::Result<u8> {
    let v = ctx.open()?;
    let ids = args.endpoints.iter().map(|e| v.find_endpoint(e).map(|e| e.id)).collect::<Result<Vec<_>, _>>()?;
    if v.endpoints()?.is_empty() {
        bail!("there is no endpoint to sync; add one with `techo endpoint add URL`");
    }
    let vault = Mutex::new(v);
    let opts = SyncOptions {
        page_size: args.page_size.clamp(1, 1000),
        types: args.types,
        everything: !args.no_everything,
        http: HttpOptions {
            timeout: Duration::from_secs(args.timeout.max(1)),
            attempts: args.attempts.max(1),
            backoff: Duration::from_millis(args.backoff_ms),
            ..Default::default()
        },
    };
    let quiet = ctx.json || !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let progress = |p: &techo_sync::Progress| {
        if !quiet {
            eprint!("\rtecho: {}: {} — {} resources, {} pages        ", p.endpoint, p.rtype, p.received, p.pages);
        }
    };
    let reports = techo_sync::sync(&vault, &ids, &opts, &progress)?;
    if !quiet {
        eprintln!();
    }
    print_reports(ctx, &reports)?;
    let code = if reports.iter().any(|r| r.outcome == RunOutcome::NeedsSignIn) {
        10
    } else if reports.iter().any(|r| r.outcome != RunOutcome::Ok) {
        11
    } else {
        0
    };
    Ok(code)
}

fn print_reports(ctx: &Ctx, reports: &[EndpointReport]) -> anyhow::Result<()> {
    if ctx.json {
        ctx.print_json(&reports)?;
        for r in reports {
            for e in &r.errors {
                eprintln!("techo: error: {}: {}", r.endpoint, crate::one_line(e));
            }
        }
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for r in reports {
        let t = r.totals();
        writeln!(
            out,
            "{}\t{}\t{}\t{} received\t{} new\t{} updated\t{} unchanged\t{} refused\t{:.1} s",
            r.endpoint_id,
            r.endpoint,
            r.outcome.as_str(),
            t.received,
            t.new,
            t.updated,
            t.unchanged + t.merged,
            t.refused,
            r.duration_ms as f64 / 1000.0
        )?;
        for (ty, c) in &r.types {
            if c.received > 0 || c.refused > 0 {
                writeln!(out, "  {ty}\t{} new\t{} updated\t{} unchanged\t{} refused", c.new, c.updated, c.unchanged + c.merged, c.refused)?;
            }
        }
        for e in &r.errors {
            eprintln!("techo: error: {}: {}", r.endpoint, crate::one_line(e));
        }
        if !r.refused.is_empty() {
            eprintln!("techo: {}: refused {} resources that are not this patient's (see `techo endpoint runs {} --json`)", r.endpoint, t.refused, r.endpoint_id);
        }
    }
    Ok(())
}

/// Exit codes of sync errors.
pub fn exit_code(e: &techo_sync::SyncError) -> u8 {
    match e.code() {
        "needs_sign_in" => 10,
        "sign_in_failed" => 12,
        "no_patient" => 7,
        "unreachable" | "timeout" | "server_error" | "bad_reply" | "server_busy" | "foreign_link" | "relay_failed" => 11,
        other => crate::exit_code(other),
    }
}

/// `techo demo-hospital`: prints the FHIR base URL and the patient id on stdout, serves until killed.
pub fn demo_hospital(port: u16, resources: usize, facilities: usize, seed: u64, open: bool, everything: bool) -> anyhow::Result<u8> {
    use techo_demo::{Auth, Hospital, HospitalConfig};
    let auth = if open { Auth::Open } else { HospitalConfig::default().auth };
    let h = Hospital::start(HospitalConfig { seed, resources, facilities: facilities.max(1), auth, port, everything, ..HospitalConfig::default() })
        .map_err(|e| anyhow::anyhow!("could not start the demo hospital on 127.0.0.1:{port} ({e}); choose another --port"))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}\t{}", h.base_url(), h.patient_id())?;
        out.flush()?;
    }
    eprintln!(
        "techo: the demo hospital serves {} synthetic resources at {} (stop with Ctrl-C); add it with `techo endpoint add {}{}`",
        h.resource_count(),
        h.base_url(),
        h.base_url(),
        if open { format!(" --open --patient {}", h.patient_id()) } else { String::new() }
    );
    loop {
        std::thread::park();
    }
}
