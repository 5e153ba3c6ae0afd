//! `techo consent …`, `techo share …`, `techo research …`, `techo audit …`: the person's consent
//! (provider sharing with exceptions, caregiver grants, research opt-out), the exits that obey
//! it (share with a provider or a caregiver, pseudonymised research copies) and the audit log.

use crate::{resolve_person, Ctx, Format};
use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use techo_core::techo_consent::{Access, Actor, Category, ConsentChange, Purpose, Recipient};
use techo_core::{Disclosure, Exit, ExportFormat, Setting};

#[derive(Subcommand)]
pub enum ConsentCmd {
    /// What the person's consent says now (--fhir: as FHIR R4 Consent resources).
    Show {
        #[arg(long)]
        person: Option<i64>,
        #[arg(long)]
        fhir: bool,
    },
    /// Every change of the person's consent, oldest first.
    History {
        #[arg(long)]
        person: Option<i64>,
    },
    /// Add a provider-sharing exception: a facility, a category, a period or one record.
    Deny {
        #[command(subcommand)]
        what: DenyWhat,
        #[arg(long, global = true)]
        person: Option<i64>,
        /// Made by a guardian for the person (a child's consent), named here.
        #[arg(long, global = true)]
        guardian: Option<String>,
    },
    /// Remove a provider-sharing exception (by its id, e.g. x1; see `consent show`).
    Allow {
        id: String,
        #[arg(long)]
        person: Option<i64>,
        #[arg(long)]
        guardian: Option<String>,
    },
    /// Caregivers: grant read-only or full access, with an optional expiry; revoke.
    Caregiver {
        #[command(subcommand)]
        cmd: CaregiverCmd,
        #[arg(long, global = true)]
        person: Option<i64>,
        #[arg(long, global = true)]
        guardian: Option<String>,
    },
    /// Research (pseudonymised copies after a delay): opt out, or opt back in.
    Research {
        #[arg(value_enum)]
        choice: ResearchChoiceArg,
        #[arg(long)]
        person: Option<i64>,
        #[arg(long)]
        guardian: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DenyWhat {
    /// Do not share with this facility.
    Facility { name: String },
    /// Do not share records of this category with any provider.
    Category {
        #[arg(value_enum)]
        category: CategoryArg,
    },
    /// Do not share records dated in this period (YYYY-MM-DD, both days included).
    Period { from: String, to: String },
    /// Do not share this record (its id, see `techo list`).
    Record { record_id: i64 },
}

#[derive(Subcommand)]
pub enum CaregiverCmd {
    /// Give a caregiver access to the person's record.
    Grant {
        /// A short id for the caregiver: lowercase letters, digits and dashes (e.g. hanako).
        id: String,
        #[arg(long)]
        name: String,
        /// How they relate to the person (e.g. daughter, 娘).
        #[arg(long)]
        relationship: String,
        #[arg(long, value_enum, default_value_t = AccessArg::Read)]
        access: AccessArg,
        /// Access ends at this date (YYYY-MM-DD, start of the day, UTC) or RFC 3339 time.
        #[arg(long)]
        expires: Option<String>,
    },
    /// End a caregiver's access now.
    Revoke { id: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ResearchChoiceArg {
    OptOut,
    OptIn,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AccessArg {
    Read,
    Full,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CategoryArg {
    MentalHealth,
    SubstanceUse,
    SexualHealth,
    Reproductive,
    Genetics,
}

impl CategoryArg {
    fn category(self) -> Category {
        match self {
            CategoryArg::MentalHealth => Category::MentalHealth,
            CategoryArg::SubstanceUse => Category::SubstanceUse,
            CategoryArg::SexualHealth => Category::SexualHealth,
            CategoryArg::Reproductive => Category::Reproductive,
            CategoryArg::Genetics => Category::Genetics,
        }
    }
}

fn actor(guardian: Option<String>) -> Actor {
    match guardian {
        Some(name) => Actor::Guardian { name },
        None => Actor::Person,
    }
}

fn date(s: &str, what: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| techo_core::Error::InvalidInput(format!("{what} must be a date like 2026-04-01")).into())
}

fn time(s: &str, what: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    Ok(date(s, what)?.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

pub fn run_consent(ctx: &mut Ctx, cmd: ConsentCmd) -> anyhow::Result<u8> {
    let mut v = ctx.open()?;
    let (person, change, guardian) = match cmd {
        ConsentCmd::Show { person, fhir } => {
            let p = resolve_person(&v, person)?;
            if fhir {
                ctx.print_json(&v.consent_fhir(p)?)?;
            } else if ctx.json {
                ctx.print_json(&v.consent(p)?)?;
            } else {
                print_state(&v.consent(p)?)?;
            }
            return Ok(0);
        }
        ConsentCmd::History { person } => {
            let p = resolve_person(&v, person)?;
            let h = v.consent_history(p)?;
            if ctx.json {
                ctx.print_json(&h)?;
            } else {
                let mut out = std::io::stdout().lock();
                for c in h {
                    writeln!(out, "{}\t{}\t{}", c.version, c.changed_at, c.change)?;
                }
            }
            return Ok(0);
        }
        ConsentCmd::Deny { what, person, guardian } => {
            let change = match what {
                DenyWhat::Facility { name } => ConsentChange::DenyFacility { name },
                DenyWhat::Category { category } => ConsentChange::DenyCategory { category: category.category() },
                DenyWhat::Period { from, to } => ConsentChange::DenyPeriod { from: date(&from, "the first day")?, to: date(&to, "the last day")? },
                DenyWhat::Record { record_id } => ConsentChange::DenyRecord { record_id },
            };
            (person, change, guardian)
        }
        ConsentCmd::Allow { id, person, guardian } => (person, ConsentChange::RemoveException { id }, guardian),
        ConsentCmd::Caregiver { cmd, person, guardian } => {
            let change = match cmd {
                CaregiverCmd::Grant { id, name, relationship, access, expires } => ConsentChange::GrantCaregiver {
                    id,
                    display_name: name,
                    relationship,
                    access: match access {
                        AccessArg::Read => Access::ReadOnly,
                        AccessArg::Full => Access::Full,
                    },
                    expires_at: expires.as_deref().map(|e| time(e, "--expires")).transpose()?,
                },
                CaregiverCmd::Revoke { id } => ConsentChange::RevokeCaregiver { id },
            };
            (person, change, guardian)
        }
        ConsentCmd::Research { choice, person, guardian } => {
            let change = match choice {
                ResearchChoiceArg::OptOut => ConsentChange::ResearchOptOut,
                ResearchChoiceArg::OptIn => ConsentChange::ResearchOptIn,
            };
            (person, change, guardian)
        }
    };
    let p = match (&change, person) {
        // A record exception belongs to the record's person.
        (ConsentChange::DenyRecord { record_id }, None) => v.record(*record_id)?.row.person_id,
        (ConsentChange::DenyRecord { record_id }, Some(p)) => {
            if v.record(*record_id)?.row.person_id != p {
                bail!(techo_core::Error::InvalidInput(format!("record {record_id} is not in person {p}'s record")));
            }
            p
        }
        _ => resolve_person(&v, person)?,
    };
    let done = v.change_consent(p, change, actor(guardian))?;
    if ctx.json {
        ctx.print_json(&done)?;
    } else {
        eprintln!("techo: {} (consent version {})", done.change, done.version);
        if done.withdrawn > 0 {
            eprintln!("techo: {} research copies not yet sent were withdrawn; they will never be sent", done.withdrawn);
        }
    }
    Ok(0)
}

fn print_state(s: &techo_core::techo_consent::ConsentState) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "Sharing with providers: permitted, except:")?;
    if s.sharing.exceptions.is_empty() {
        writeln!(out, "  (no exceptions)")?;
    }
    for x in &s.sharing.exceptions {
        writeln!(out, "  {}\t{}", x.id, x.kind.describe())?;
    }
    writeln!(out, "Caregivers:")?;
    if s.caregivers.is_empty() {
        writeln!(out, "  (none)")?;
    }
    let now = chrono::Utc::now();
    for g in &s.caregivers {
        let state = match g.status_at(now) {
            Ok(()) => "active".to_owned(),
            Err(why) => format!("{why:?}").to_lowercase(),
        };
        let access = match g.access {
            Access::ReadOnly => "read-only",
            Access::Full => "full",
        };
        let until = g.expires_at.map(|e| format!(" until {}", e.to_rfc3339())).unwrap_or_default();
        writeln!(out, "  {}\t{} ({})\t{access}{until}\t{state}", g.id, g.display_name, g.relationship)?;
    }
    let permitted = techo_core::techo_consent::research_permitted_at(s, now);
    writeln!(out, "Research (pseudonymised copies): {}", if permitted { "permitted" } else { "opted out" })?;
    Ok(())
}

#[derive(clap::Args)]
pub struct ShareArgs {
    /// Whose record.
    #[arg(long)]
    person: Option<i64>,
    /// Share with this provider (facility name), for treatment.
    #[arg(long, conflicts_with = "caregiver", required_unless_present = "caregiver")]
    with: Option<String>,
    /// Give this caregiver (grant id) the record their grant allows.
    #[arg(long)]
    caregiver: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Bundle)]
    format: Format,
    /// The file to write.
    #[arg(long)]
    out: PathBuf,
}

pub fn run_share(ctx: &mut Ctx, a: ShareArgs) -> anyhow::Result<u8> {
    let mut v = ctx.open()?;
    let person = resolve_person(&v, a.person)?;
    let (exit, recipient, purpose) = match (&a.with, &a.caregiver) {
        (Some(f), _) => (Exit::Share, Recipient::Provider { facility: f.clone() }, Purpose::Treatment),
        (None, Some(c)) => (Exit::CaregiverView, Recipient::Caregiver { id: c.clone() }, Purpose::CaregiverAccess),
        (None, None) => bail!("say who gets the record: --with FACILITY or --caregiver ID"),
    };
    let d = Disclosure { exit, recipient, purpose, person: Some(person), scope: techo_core::Scope::default() };
    let format = if a.format == Format::Ndjson { ExportFormat::Ndjson } else { ExportFormat::Bundle };
    let tmp = a.out.with_extension("partial");
    let f = std::fs::File::create(&tmp).with_context(|| format!("could not create {}", tmp.display()))?;
    let mut w = std::io::BufWriter::new(f);
    let report = match v.disclose(&d, format, &mut w) {
        Ok(r) => r,
        Err(e) => {
            drop(w);
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, &a.out)?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({ "shared": report.disclosed, "held_back": report.denied }))?;
    } else {
        eprintln!("techo: shared {} resources; {} held back by consent", report.disclosed, report.denied_total());
        for (rule, n) in &report.denied {
            eprintln!("techo:   {n} by {rule}");
        }
    }
    Ok(0)
}

#[derive(Subcommand)]
pub enum ResearchCmd {
    /// Make the pseudonymised copies that are due (delay passed, research permitted).
    Run {
        /// Override the delay, in days (default: the vault's setting, 30 unless changed).
        #[arg(long)]
        delay_days: Option<i64>,
        /// A pseudonymisation config file (JSON, anonymizer-style rules) instead of the built-in research profile.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// The queue: pending, sent, failed (with reasons), withdrawn.
    Status,
    /// Write the copies waiting to be sent as NDJSON files (one per type) into DIR.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Push the copies waiting to be sent to a research FHIR server (batch PUTs).
    Push {
        /// The research server's FHIR base URL.
        url: String,
    },
    /// Set the delay before a record may be copied, in days.
    Delay { days: i64 },
}

pub fn run_research(ctx: &mut Ctx, cmd: ResearchCmd) -> anyhow::Result<u8> {
    let mut v = ctx.open()?;
    match cmd {
        ResearchCmd::Run { delay_days, config } => {
            let days = match delay_days {
                Some(d) => d,
                None => v.research_delay_days()?,
            };
            if !(0..=3650).contains(&days) {
                bail!(techo_core::Error::InvalidInput("the delay must be between 0 and 3650 days".into()));
            }
            let config = match config {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
                    Some(techo_core::techo_pseudo::Config::from_json(&text).map_err(techo_core::Error::from)?)
                }
                None => None,
            };
            let run = v.make_research_copies(chrono::Duration::days(days), config)?;
            if ctx.json {
                ctx.print_json(&run)?;
            } else {
                eprintln!("techo: made {} research copies; {} still waiting for their delay ({days} days); {} kept out by consent", run.made, run.waiting, run.held_back);
            }
        }
        ResearchCmd::Status => {
            let s = v.research_status()?;
            if ctx.json {
                ctx.print_json(&s)?;
            } else {
                let mut out = std::io::stdout().lock();
                writeln!(out, "pending\t{}\nsent\t{}\nfailed\t{}\nwithdrawn\t{}\ndelay_days\t{}", s.pending, s.sent, s.failed, s.withdrawn, s.delay_days)?;
                for f in &s.failures {
                    writeln!(out, "failed\t{}\t{}\t{} tries\t{}", f.id, f.rtype, f.attempts, f.reason)?;
                }
            }
        }
        ResearchCmd::Export { out } => {
            let sent = v.write_research_ndjson(&out)?;
            if ctx.json {
                ctx.print_json(&sent)?;
            } else {
                eprintln!("techo: wrote {} research copies into {} files in {}", sent.sent, sent.files.len(), out.display());
            }
        }
        ResearchCmd::Push { url } => {
            let base = url::Url::parse(&url).map_err(|_| techo_core::Error::InvalidInput(format!("{url} is not a URL; give the research server's FHIR base, e.g. https://research.example/fhir")))?;
            if !matches!(base.scheme(), "https" | "http") {
                bail!(techo_core::Error::InvalidInput("the research server's address must start with https://".into()));
            }
            let http = techo_sync::Http::new(techo_sync::HttpOptions::default())?;
            let name = base.host_str().unwrap_or("the research server").to_owned();
            let report = techo_sync::push_research(&mut v, &http, &base, &name)?;
            if ctx.json {
                ctx.print_json(&report)?;
            } else {
                eprintln!("techo: pushed {} research copies in {} batches; {} refused (see `techo research status`)", report.pushed, report.batches, report.failed);
            }
            if report.failed > 0 {
                return Ok(1);
            }
        }
        ResearchCmd::Delay { days } => {
            if !(0..=3650).contains(&days) {
                bail!(techo_core::Error::InvalidInput("the delay must be between 0 and 3650 days".into()));
            }
            v.set_setting(Setting::ResearchDelayDays, Some(&days.to_string()))?;
            eprintln!("techo: records wait {days} days before a research copy is made");
        }
    }
    Ok(0)
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// The audit log (FHIR AuditEvents), oldest first.
    List {
        #[arg(long)]
        person: Option<i64>,
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Check the whole hash chain: any changed or removed entry is found.
    Verify,
}

pub fn run_audit(ctx: &mut Ctx, cmd: AuditCmd) -> anyhow::Result<u8> {
    let v = ctx.open()?;
    match cmd {
        AuditCmd::List { person, after, limit } => {
            let log = v.audit_log(person, after, limit)?;
            if ctx.json {
                let events: Vec<serde_json::Value> = log
                    .iter()
                    .map(|e| serde_json::json!({ "seq": e.seq, "recorded_at": e.recorded_at, "person": e.person_id, "kind": e.kind, "hash": e.hash, "event": e.event }))
                    .collect();
                ctx.print_json(&events)?;
            } else {
                let mut out = std::io::stdout().lock();
                for e in log {
                    let to = e.event.pointer("/agent/1/who/display").and_then(|d| d.as_str()).unwrap_or("");
                    let what = e.event.pointer("/entity/1/description").or_else(|| e.event.get("outcomeDesc")).and_then(|d| d.as_str()).unwrap_or("");
                    writeln!(out, "{}\t{}\t{}\t{}\t{}", e.seq, e.recorded_at, e.kind, to, what)?;
                }
            }
            Ok(0)
        }
        AuditCmd::Verify => {
            let r = v.verify_audit()?;
            if ctx.json {
                ctx.print_json(&serde_json::json!({ "entries": r.entries, "ok": r.ok(), "problem": r.problem.as_ref().map(|(s, w)| serde_json::json!({ "seq": s, "what": w })) }))?;
            }
            match &r.problem {
                None => {
                    eprintln!("techo: the audit log holds: {} entries, each linked to the one before", r.entries);
                    Ok(0)
                }
                Some((seq, what)) => {
                    eprintln!("techo: error: the audit log was tampered with at entry {seq}: {what}; restore the vault from a backup");
                    Ok(5)
                }
            }
        }
    }
}
