//! `techo package create|open`: encrypted share packages shaped as SMART Health Links
//! (techo-share).
//!
//! `create` gets the record through the disclosure gate (`Vault::disclose`: the consent policy
//! and the audit apply, as for `techo share`), into memory, seals it under a fresh key, writes
//! the package atomically and prints the `shlink:/…` link — which carries the key — on stdout
//! only (and as a QR code on stderr when that is a terminal); it is never logged. `open` is the
//! viewer: it needs no vault and opens none, decrypts in memory and prints a summary (or, with
//! `--json`, the Bundle) on stdout; it never writes plaintext to disk.

use crate::{resolve_person, Ctx};
use anyhow::{bail, Context};
use clap::Subcommand;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use techo_core::techo_consent::{Purpose, Recipient};
use techo_core::{Disclosure, Exit, ShareDoc};
use techo_share::{Package, SealOptions, ShareError, FHIR_JSON};

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum PackageCmd {
    /// Make an encrypted package of a person's record for a provider or a caregiver (as their
    /// consent allows; audited) and print its SMART Health Link (it holds the key: hand it over
    /// separately from the file).
    Create {
        /// Whose record.
        #[arg(long)]
        person: Option<i64>,
        /// For this provider (facility name), for treatment.
        #[arg(long, conflicts_with = "caregiver", required_unless_present = "caregiver")]
        with: Option<String>,
        /// For this caregiver (grant id): the records their grant allows.
        #[arg(long)]
        caregiver: Option<String>,
        /// The package file to write (e.g. record.jwe).
        #[arg(long, required_unless_present = "relay")]
        out: Option<PathBuf>,
        /// Upload the encrypted package to this share relay (https://…; it only ever sees the
        /// ciphertext) and point the link at it, so the recipient needs only the link.
        #[arg(long, value_name = "URL", conflicts_with_all = ["passcode", "url"])]
        relay: Option<String>,
        /// A short description for the recipient (at most 80 characters; goes into the link).
        #[arg(long)]
        label: Option<String>,
        /// The link expires after this many days (0: at once).
        #[arg(long, value_name = "DAYS")]
        expires: Option<u32>,
        /// Also protect the package with a passcode (asked for; with --passphrase-stdin, the
        /// second line). Only Techo opens such a package offline.
        #[arg(long)]
        passcode: bool,
        /// Where the recipient will find the package (default: the file's name).
        #[arg(long)]
        url: Option<String>,
        /// Only these kinds of records (FHIR resource types, comma-separated: Condition,
        /// AllergyIntolerance,MedicationRequest…); the Patient always goes along.
        #[arg(long, value_delimiter = ',', value_name = "TYPES")]
        types: Vec<String>,
        /// Only records dated from (YYYY-MM-DD, YYYY-MM or YYYY).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Only records dated up to (inclusive).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Share the International Patient Summary (a FHIR document for a clinician) instead of
        /// the records.
        #[arg(long, conflicts_with = "jp_six")]
        ips: bool,
        /// Share the Japanese summary of the six items (傷病名, アレルギー, 感染症, 薬剤禁忌, 検査, 処方).
        #[arg(long)]
        jp_six: bool,
        /// The summary's language: en or ja.
        #[arg(long, default_value = "en", value_parser = ["en", "ja"])]
        lang: String,
    },
    /// Open a package with its link (viewer mode: no vault needed, nothing written to disk).
    Open {
        /// The package file (default: fetched from the link's https:// address).
        file: Option<PathBuf>,
        /// The SMART Health Link (`shlink:/…`, or a viewer URL ending in `#shlink:/…`).
        #[arg(long)]
        link: String,
        /// Ask for the package's passcode (with --passphrase-stdin: the first line).
        #[arg(long)]
        passcode: bool,
    },
    /// Keep a package someone shared with you (a caregiver's copy of a family member's
    /// record): a new person marked "shared by …", or the same person again when a newer
    /// package from them arrives (updated, never duplicated). Needs the vault.
    Import {
        /// The package file.
        file: PathBuf,
        /// The SMART Health Link that came with it.
        #[arg(long)]
        link: String,
        /// Ask for the package's passcode (with --passphrase-stdin: after the vault's passphrase).
        #[arg(long)]
        passcode: bool,
    },
}

/// Stable exit codes of package errors (10–12 are sync's).
pub fn exit_code(e: &ShareError) -> u8 {
    match e.code() {
        "not_a_package" | "unsupported_package" => 20,
        "wrong_key" | "cannot_open" => 21,
        "tampered" => 22,
        "expired" => 23,
        "wrong_passcode" | "passcode_needed" => 24,
        "bad_link" => 25,
        other => crate::exit_code(other),
    }
}

pub fn run(ctx: &mut Ctx, cmd: PackageCmd) -> anyhow::Result<u8> {
    match cmd {
        PackageCmd::Create { person, with, caregiver, out, relay, label, expires, passcode, url, types, from, to, ips, jp_six, lang } => {
            let (doc, name) = if jp_six {
                (ShareDoc::JpSix, Some("Japanese patient summary (six items)".to_owned()))
            } else if ips {
                (ShareDoc::Ips(lang_of(&lang)), Some("International Patient Summary".to_owned()))
            } else {
                (ShareDoc::Records, None)
            };
            let scope = techo_core::Scope { types: (!types.is_empty()).then(|| types.into_iter().map(|t| t.trim().to_owned()).collect()), from, to, name };
            create(ctx, Create { person, with, caregiver, out, relay, label, expires, passcode, url, scope, doc })
        }
        PackageCmd::Open { file, link, passcode } => open(ctx, file.as_deref(), &link, passcode),
        PackageCmd::Import { file, link, passcode } => import(ctx, &file, &link, passcode),
    }
}

struct Create {
    person: Option<i64>,
    with: Option<String>,
    caregiver: Option<String>,
    out: Option<PathBuf>,
    relay: Option<String>,
    label: Option<String>,
    expires: Option<u32>,
    passcode: bool,
    url: Option<String>,
    scope: techo_core::Scope,
    doc: ShareDoc,
}

pub fn lang_of(code: &str) -> techo_share::Lang {
    if code == "ja" {
        techo_share::Lang::Ja
    } else {
        techo_share::Lang::En
    }
}

/// `techo summary`: the printable summary (HTML) of a person's own record, or with `--ips` the
/// International Patient Summary itself (FHIR JSON). Personal use: through the gate, audited.
pub fn summary(ctx: &mut Ctx, person: Option<i64>, lang: &str, ips: bool, jp_six: bool, out: Option<&Path>) -> anyhow::Result<u8> {
    let mut v = ctx.open()?;
    let person = resolve_person(&v, person)?;
    let lang = lang_of(lang);
    let doc = if jp_six { ShareDoc::JpSix } else { ShareDoc::Ips(lang) };
    let what = if ips || jp_six { "patient summary (FHIR)" } else { "printable summary" };
    let d = Disclosure { exit: Exit::Export, recipient: Recipient::Person, purpose: Purpose::PersonalUse, person: Some(person), scope: techo_core::Scope::named(what) };
    let (bytes, _) = v.share_document(&d, doc)?;
    drop(v);
    let text = if ips || jp_six {
        zeroize::Zeroizing::new(bytes.to_vec())
    } else {
        let bundle: serde_json::Value = serde_json::from_slice(&bytes)?;
        let opts = techo_share::summary::SummaryOptions { lang, today: chrono::Local::now().format("%Y-%m-%d").to_string(), title: None };
        zeroize::Zeroizing::new(techo_share::summary::summary_document(&bundle, &opts).into_bytes())
    };
    match out {
        Some(path) => {
            write_atomically(path, &text)?;
            eprintln!("techo: wrote the {what} to {}", path.display());
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(&text)?;
            o.flush()?;
        }
    }
    Ok(0)
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

fn create(ctx: &mut Ctx, a: Create) -> anyhow::Result<u8> {
    // Everything that can be refused is checked before the vault is read (and so audited).
    if let Some(l) = &a.label {
        let len = l.chars().count();
        if len > techo_share::MAX_LABEL {
            return Err(ShareError::LabelTooLong { len }.into());
        }
    }
    if let Some(r) = &a.relay {
        techo_sync::relay::check_url(r)?;
    }
    let url = match (&a.url, &a.out) {
        (Some(u), _) => u.clone(),
        (None, Some(out)) => out.file_name().map(|n| n.to_string_lossy().into_owned()).context("--out must name a file")?,
        (None, None) => String::new(), // the relay's address, once uploaded
    };
    let exp = a.expires.map(|d| now_unix() + i64::from(d) * 86_400);
    a.scope.validate()?;
    let (exit, recipient, purpose) = match (&a.with, &a.caregiver) {
        (Some(f), _) => (Exit::Share, Recipient::Provider { facility: f.clone() }, Purpose::Treatment),
        (None, Some(c)) => (Exit::CaregiverView, Recipient::Caregiver { id: c.clone() }, Purpose::CaregiverAccess),
        (None, None) => bail!("say who gets the package: --with FACILITY or --caregiver ID"),
    };
    let mut v = ctx.open()?;
    let person = resolve_person(&v, a.person)?;
    let passcode = if a.passcode { Some(read_new_passcode(ctx)?) } else { None };

    let d = Disclosure { exit, recipient, purpose, person: Some(person), scope: a.scope.clone() };
    let (plaintext, report) = v.share_document(&d, a.doc)?;
    drop(v);
    let opts = SealOptions { label: a.label.clone(), exp, passcode: passcode.as_ref(), content_type: FHIR_JSON.to_owned() };
    let (file, key) = Package::seal(&plaintext, &opts)?;
    drop(plaintext);
    if let Some(out) = &a.out {
        write_atomically(out, file.as_bytes())?;
    }
    let url = match &a.relay {
        Some(r) => techo_sync::relay::upload(r, file.as_bytes())?,
        None => url,
    };
    let flags = if passcode.is_some() { "P" } else { "U" };
    let link = techo_share::shlink(&url, &key, exp, flags, a.label.as_deref())?;

    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "link": &*link,
            "file": a.out.as_ref().map(|o| o.display().to_string()),
            "url": url,
            "exp": exp,
            "passcode": passcode.is_some(),
            "shared": report.disclosed,
            "held_back": report.denied,
        }))?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", &*link)?;
        out.flush()?;
        drop(out);
        let place = match (&a.out, &a.relay) {
            (Some(o), Some(_)) => format!("{} and uploaded it to the relay", o.display()),
            (Some(o), None) => o.display().to_string(),
            (None, _) => "to the relay".to_owned(),
        };
        eprintln!(
            "techo: wrote the encrypted package {} ({} resources; {} held back by consent)",
            place,
            report.disclosed,
            report.denied_total()
        );
        for (rule, n) in &report.denied {
            eprintln!("techo:   {n} by {rule}");
        }
        eprintln!("techo: the link above holds the package's key: give it to the recipient separately from the file");
        if passcode.is_some() {
            eprintln!("techo: the package also needs its passcode; only Techo (`techo package open`) opens passcode packages offline");
        }
        if std::io::stderr().is_terminal() {
            show_qr(&link);
        }
    }
    Ok(0)
}

fn read_new_passcode(ctx: &mut Ctx) -> anyhow::Result<SecretString> {
    let p = ctx.passphrase("Passcode for the package: ")?;
    if !ctx.stdin_pass {
        let again = ctx.passphrase("Repeat it: ")?;
        if again.expose_secret() != p.expose_secret() {
            bail!("the two passcodes differ; no package was made");
        }
    }
    if p.expose_secret().chars().count() < 6 {
        return Err(ShareError::Invalid("the passcode must have at least 6 characters; no package was made").into());
    }
    Ok(p)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    techo_core::write_file_atomically(path, bytes).with_context(|| format!("could not write {}", path.display()))
}

fn show_qr(link: &str) {
    use qrcode::render::unicode::Dense1x2;
    match qrcode::QrCode::new(link.as_bytes()) {
        Ok(code) => {
            let art = code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build();
            eprintln!("{art}");
        }
        Err(_) => eprintln!("techo: note: the link is too long for a QR code"),
    }
}

fn open(ctx: &mut Ctx, file: Option<&Path>, link: &str, passcode: bool) -> anyhow::Result<u8> {
    // Viewer mode: no vault is opened; the plaintext stays in memory.
    let bytes = match file {
        Some(f) => read_package(f)?,
        None => {
            let payload = techo_share::parse_shlink(link)?;
            techo_sync::relay::fetch(&payload.url, "Techo viewer")?
        }
    };
    let passcode = if passcode { Some(ctx.passphrase("Passcode: ")?) } else { None };
    let opened = techo_share::open_link(link, &bytes, passcode.as_ref(), now_unix())?;
    if ctx.json {
        let mut out = std::io::stdout().lock();
        out.write_all(&opened.plaintext)?;
        if !opened.plaintext.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(0);
    }
    let doc: serde_json::Value = serde_json::from_slice(&opened.plaintext).map_err(|_| anyhow::anyhow!("the package opened, but it does not hold FHIR JSON"))?;
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    let mut patient = None;
    let resources: Vec<&serde_json::Value> = match doc["resourceType"].as_str() {
        Some("Bundle") => doc["entry"].as_array().map(|e| e.iter().map(|e| &e["resource"]).collect()).unwrap_or_default(),
        Some(_) => vec![&doc],
        None => bail!("the package opened, but it does not hold a FHIR resource"),
    };
    let mut sources = std::collections::BTreeSet::new();
    for r in &resources {
        if techo_core::is_sources_provenance(r) {
            if let Some(f) = r.pointer("/agent/0/who/display").and_then(|d| d.as_str()) {
                sources.insert(crate::one_line(f));
            }
            continue;
        }
        let t = r["resourceType"].as_str().unwrap_or("(no type)");
        *by_type.entry(t.to_owned()).or_default() += 1;
        if t == "Patient" && patient.is_none() {
            patient = patient_name(r);
        }
    }
    let mut out = std::io::stdout().lock();
    if let Some(l) = &opened.link.label {
        writeln!(out, "label\t{l}")?;
    }
    if let Some(p) = &patient {
        writeln!(out, "patient\t{p}")?;
    }
    if let Some(exp) = opened.link.exp {
        let when = chrono::DateTime::from_timestamp(exp, 0).map_or_else(|| exp.to_string(), |t| t.to_rfc3339());
        writeln!(out, "expires\t{when}")?;
    }
    if doc.pointer("/meta/tag").and_then(|t| t.as_array()).is_some_and(|t| t.iter().any(|t| t["code"].as_str() == Some(techo_core::WITHHELD_TAG_CODE))) {
        writeln!(out, "note\tsome records were withheld at the person's request")?;
    }
    writeln!(out, "resources\t{}", by_type.values().sum::<u64>())?;
    for (t, n) in &by_type {
        writeln!(out, "  {t}\t{n}")?;
    }
    for s in &sources {
        writeln!(out, "source\t{s}")?;
    }
    Ok(0)
}

fn import(ctx: &mut Ctx, file: &Path, link: &str, passcode: bool) -> anyhow::Result<u8> {
    let bytes = read_package(file)?;
    let mut v = ctx.open()?;
    let passcode = if passcode { Some(ctx.passphrase("Passcode: ")?) } else { None };
    let opened = techo_share::open_link(link, &bytes, passcode.as_ref(), now_unix())?;
    let shown = file.display().to_string();
    let done = v.import_package(&opened.plaintext, &shown)?;
    let r = &done.report;
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "person": done.person_id, "new_person": done.new_person, "shared_by": done.shared_by,
            "resources": r.resources, "new": r.new, "updated": r.updated, "unchanged": r.unchanged, "merged": r.merged,
        }))?;
    } else {
        let whose = if done.new_person { "a new person, marked as shared with you" } else { "the same person as the sender's earlier packages" };
        eprintln!(
            "techo: kept the package as person {} ({whose}): {} resources, {} new, {} updated, {} unchanged",
            done.person_id,
            r.resources,
            r.new,
            r.updated,
            r.unchanged + r.merged
        );
    }
    Ok(0)
}

fn read_package(file: &Path) -> anyhow::Result<Vec<u8>> {
    let f = std::fs::File::open(file).with_context(|| format!("could not open {}", file.display()))?;
    let mut bytes = Vec::new();
    f.take(techo_share::MAX_PACKAGE as u64 + 1).read_to_end(&mut bytes).with_context(|| format!("could not read {}", file.display()))?;
    if bytes.len() > techo_share::MAX_PACKAGE {
        return Err(ShareError::NotAPackage("it is larger than 512 MiB").into());
    }
    Ok(bytes)
}

/// The Patient's first name as written (`text`, else given names and family).
fn patient_name(p: &serde_json::Value) -> Option<String> {
    let n = p["name"].as_array()?.first()?;
    if let Some(t) = n["text"].as_str().filter(|t| !t.trim().is_empty()) {
        return Some(crate::one_line(t));
    }
    let mut parts: Vec<&str> = n["given"].as_array().map(|g| g.iter().filter_map(|s| s.as_str()).collect()).unwrap_or_default();
    if let Some(f) = n["family"].as_str() {
        parts.push(f);
    }
    (!parts.is_empty()).then(|| crate::one_line(&parts.join(" ")))
}
