//! Sharing and the package viewer: the Share screen's commands (make a package of a summary or
//! of records, through consent and the audit; the printable summary) and the viewer's (open a
//! package someone shared, read-only, in memory; keep it as a family member's record).
//!
//! Thin: the package content comes from `Vault::share_document` (the disclosure gate), the
//! encryption and the summary page from techo-share. The viewer never opens the vault and never
//! writes: the package's plaintext lives only in [`ViewerState`] until the viewer closes. Files
//! are chosen in native dialogs opened here (the window has no file capability); tests set
//! `TECHO_SHARE_DIR` (where packages are saved) and `TECHO_PACKAGE_FILE` (the package to open).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use secrecy::SecretString;
use serde_json::Value;
use tauri::{AppHandle, Manager};
use techo_core::techo_consent::{Purpose, Recipient};
use techo_core::techo_share::{self, summary, Lang, Package, SealOptions, ShareError, FHIR_JSON};
use techo_core::{Disclosure, Exit, Scope, ShareDoc};
use techo_ipc::{
    ErrorCode, IpcError, PackageKept, PackageRow, PackageRows, PackageView, RecordCategory, ShareContent, ShareCreated, ShareRecipient, SummaryHtml,
    MAX_PAGE,
};
use zeroize::Zeroizing;

use crate::commands::{core_error, with_vault_mut};

/// Where packages are saved without a dialog (tests, scripts).
pub const SHARE_DIR_ENV: &str = "TECHO_SHARE_DIR";
/// The package the viewer opens without a dialog (tests, scripts).
pub const PACKAGE_FILE_ENV: &str = "TECHO_PACKAGE_FILE";

/// The package open in the viewer, in memory only.
#[derive(Default)]
pub struct ViewerState {
    open: Mutex<Option<OpenPackage>>,
}

struct OpenPackage {
    plaintext: Zeroizing<Vec<u8>>,
    doc: Value,
    /// Indexes of the entries shown as the package's resources (not the sources' Provenance).
    shown: Vec<usize>,
    /// Facility of each entry's fullUrl, from the Provenance entries.
    facility_of: std::collections::HashMap<String, String>,
}

impl ViewerState {
    fn open(&self) -> MutexGuard<'_, Option<OpenPackage>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn lang_of(code: &str) -> Result<Lang, IpcError> {
    match code {
        "en" => Ok(Lang::En),
        "ja" => Ok(Lang::Ja),
        _ => Err(IpcError::invalid_input("The language must be en or ja.")),
    }
}

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

fn share_error(e: ShareError) -> IpcError {
    IpcError::new(ErrorCode::InvalidInput, techo_ipc::as_sentence(&e.to_string()))
}

/// The summary of a Bundle, without its style (the window links `summary.css`).
fn summary_html(doc: &Value, lang: Lang, title: Option<String>) -> String {
    summary::summary_body(doc, &summary::SummaryOptions { lang, today: today(), title })
}

fn file_name_now() -> String {
    format!("techo-share-{}.jwe", chrono::Local::now().format("%Y%m%d-%H%M%S"))
}

/// Where to save a new package: `TECHO_SHARE_DIR`, else a native save dialog. `None`: cancelled.
fn pick_save_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(SHARE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join(file_name_now()));
    }
    rfd::FileDialog::new()
        .set_title("Save the encrypted share package")
        .set_file_name(file_name_now())
        .add_filter("Share package", &["jwe"])
        .save_file()
}

/// The package to open: `TECHO_PACKAGE_FILE`, else a native dialog. `None`: cancelled.
fn pick_package() -> Option<PathBuf> {
    if let Some(f) = std::env::var_os(PACKAGE_FILE_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(f));
    }
    rfd::FileDialog::new()
        .set_title("Open a share package")
        .add_filter("Share package", &["jwe", "shl", "json"])
        .add_filter("All files", &["*"])
        .pick_file()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IpcError> {
    techo_core::write_file_atomically(path, bytes)
        .map_err(|e| IpcError::invalid_input(format!("The package could not be saved to {} ({}). Choose another place.", path.display(), e.kind())))
}

fn qr_svg(link: &str) -> Option<String> {
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    Some(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).quiet_zone(true).build())
}

/// Makes a package (parameters = `techo_ipc::ShareCreateArgs`).
#[allow(clippy::too_many_arguments)]
#[tauri::command(rename_all = "snake_case")]
pub async fn share_create(
    app: AppHandle,
    person_id: i64,
    recipient: ShareRecipient,
    content: ShareContent,
    categories: Vec<String>,
    from: Option<String>,
    to: Option<String>,
    lang: String,
    label: Option<String>,
    expires_days: Option<u32>,
    passcode: Option<SecretString>,
    relay: Option<String>,
) -> Result<ShareCreated, IpcError> {
    use secrecy::ExposeSecret;
    let lang = lang_of(&lang)?;
    let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    if label.as_ref().is_some_and(|l| l.chars().count() > techo_share::MAX_LABEL) {
        return Err(IpcError::invalid_input("The label may have at most 80 characters."));
    }
    let passcode = passcode.filter(|p| !p.expose_secret().is_empty());
    if passcode.as_ref().is_some_and(|p| p.expose_secret().chars().count() < 6) {
        return Err(IpcError::invalid_input("The passcode must have at least 6 characters."));
    }
    if expires_days.is_some_and(|d| d > 3650) {
        return Err(IpcError::invalid_input("A link may last at most 3650 days."));
    }
    let mut types = std::collections::BTreeSet::new();
    for c in &categories {
        let cat = RecordCategory::from_slug(c).ok_or_else(|| IpcError::invalid_input("Unknown kind of record."))?;
        types.extend(cat.types().iter().map(|t| t.to_string()));
    }
    let (exit, to_whom, purpose) = match &recipient {
        ShareRecipient::Provider { facility } => {
            let f = facility.trim();
            if f.is_empty() || f.chars().count() > 200 {
                return Err(IpcError::invalid_input("Name the provider (1 to 200 characters)."));
            }
            (Exit::Share, Recipient::Provider { facility: f.to_owned() }, Purpose::Treatment)
        }
        ShareRecipient::Caregiver { grant_id } => (Exit::CaregiverView, Recipient::Caregiver { id: grant_id.clone() }, Purpose::CaregiverAccess),
    };
    let doc = match content {
        ShareContent::Summary => ShareDoc::Ips(lang),
        ShareContent::JapaneseSummary => ShareDoc::JpSix,
        ShareContent::Records => ShareDoc::Records,
    };
    let name = match content {
        ShareContent::Summary => Some("International Patient Summary".to_owned()),
        ShareContent::JapaneseSummary => Some("Japanese patient summary (six items)".to_owned()),
        ShareContent::Records => None,
    };
    let scope = Scope { types: (!types.is_empty()).then_some(types), from, to, name };
    scope.validate().map_err(core_error)?;
    let d = Disclosure { exit, recipient: to_whom, purpose, person: Some(person_id), scope };
    let relay = relay.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if let Some(r) = &relay {
        techo_sync::relay::check_url(r).map_err(|e| IpcError::invalid_input(techo_ipc::as_sentence(&e.to_string())))?;
        if passcode.is_some() {
            return Err(IpcError::invalid_input("A package with a passcode cannot go through a relay; save it as a file instead, or leave the passcode out."));
        }
    }

    let path = match &relay {
        Some(_) => None,
        None => Some(
            tauri::async_runtime::spawn_blocking(pick_save_path)
                .await
                .map_err(|_| IpcError::internal())?
                .ok_or_else(|| IpcError::invalid_input("No file was chosen, so nothing was shared."))?,
        ),
    };
    let (plaintext, report) = with_vault_mut(app, move |v| v.share_document(&d, doc).map_err(core_error)).await?;
    let exp = expires_days.map(|days| chrono::Utc::now().timestamp() + i64::from(days) * 86_400);
    let opts = SealOptions { label: label.clone(), exp, passcode: passcode.as_ref(), content_type: FHIR_JSON.to_owned() };
    let (file, key) = Package::seal(&plaintext, &opts).map_err(share_error)?;
    drop(plaintext);
    let url = match (&path, relay) {
        (Some(path), _) => {
            write_atomically(path, file.as_bytes())?;
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        }
        (None, Some(r)) => tauri::async_runtime::spawn_blocking(move || techo_sync::relay::upload(&r, file.as_bytes()))
            .await
            .map_err(|_| IpcError::internal())?
            .map_err(|e| IpcError::invalid_input(techo_ipc::as_sentence(&e.to_string())))?,
        (None, None) => return Err(IpcError::internal()),
    };
    let flags = if passcode.is_some() { "P" } else { "U" };
    let link = techo_share::shlink(&url, &key, exp, flags, label.as_deref()).map_err(share_error)?;
    Ok(ShareCreated {
        qr_svg: qr_svg(&link),
        link: link.to_string(),
        saved_to: path.map_or_else(|| url.clone(), |p| p.display().to_string()),
        shared: report.disclosed,
        held_back: report.denied_total(),
        passcode: passcode.is_some(),
        expires: exp.and_then(|e| chrono::DateTime::from_timestamp(e, 0)).map(|t| t.to_rfc3339()),
    })
}

/// The printable summary of a person's own record (personal use; audited like an export).
#[tauri::command(rename_all = "snake_case")]
pub async fn share_summary(app: AppHandle, person_id: i64, lang: String) -> Result<SummaryHtml, IpcError> {
    let lang = lang_of(&lang)?;
    let d = Disclosure {
        exit: Exit::Export,
        recipient: Recipient::Person,
        purpose: Purpose::PersonalUse,
        person: Some(person_id),
        scope: Scope::named("printable summary"),
    };
    let bytes = with_vault_mut(app, move |v| v.share_document(&d, ShareDoc::Ips(lang)).map(|(b, _)| b).map_err(core_error)).await?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| IpcError::internal())?;
    Ok(SummaryHtml { html: summary_html(&doc, lang, None) })
}

fn facilities(doc: &Value) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    for e in doc["entry"].as_array().into_iter().flatten() {
        let r = &e["resource"];
        if r["resourceType"] != "Provenance" {
            continue;
        }
        let Some(who) = r.pointer("/agent/0/who/display").and_then(Value::as_str) else { continue };
        for t in r["target"].as_array().into_iter().flatten() {
            if let Some(u) = t["reference"].as_str() {
                out.entry(u.to_owned()).or_insert_with(|| who.to_owned());
            }
        }
    }
    out
}

fn view_of(p: &OpenPackage, file_name: String, link: &techo_share::ShlinkPayload, lang: Lang) -> PackageView {
    let doc = &p.doc;
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let mut patient = None;
    for &i in &p.shown {
        let r = &doc["entry"][i]["resource"];
        let t = r["resourceType"].as_str().unwrap_or("?").to_owned();
        if t == "Patient" && patient.is_none() {
            patient = Some(techo_core::patient_display_name(r));
        }
        *counts.entry(t).or_default() += 1;
    }
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut sources: Vec<String> = p.facility_of.values().cloned().collect();
    sources.sort();
    sources.dedup();
    let withheld = doc.pointer("/meta/tag").and_then(Value::as_array).is_some_and(|t| {
        t.iter().any(|t| t["system"].as_str() == Some(techo_share::WITHHELD_TAG_SYSTEM) && t["code"].as_str() == Some(techo_share::WITHHELD_TAG_CODE))
    });
    let kind = doc["type"].as_str().unwrap_or("").to_owned();
    let keepable = kind == "collection" && doc.pointer("/meta/source").and_then(Value::as_str).is_some_and(|s| s.starts_with(techo_core::PERSON_URN));
    PackageView {
        file_name,
        label: link.label.clone(),
        expires: link.exp.and_then(|e| chrono::DateTime::from_timestamp(e, 0)).map(|t| t.to_rfc3339()),
        patient,
        kind,
        withheld,
        sources,
        total: p.shown.len() as u64,
        counts,
        summary_html: summary_html(doc, lang, link.label.clone()),
        keepable,
    }
}

/// Opens a package in the viewer (parameters = `techo_ipc::PackageOpenArgs`). No vault needed.
#[tauri::command(rename_all = "snake_case")]
pub async fn package_open(app: AppHandle, link: String, passcode: Option<SecretString>, lang: String) -> Result<PackageView, IpcError> {
    let lang = lang_of(&lang)?;
    let parsed = techo_share::parse_shlink(&link).map_err(share_error)?;
    // A link to a relay (https://…) brings its package; otherwise the person picks the file.
    let relayed = parsed.url.starts_with("https://") || parsed.url.starts_with("http://");
    let path = if relayed {
        None
    } else {
        Some(
            tauri::async_runtime::spawn_blocking(pick_package)
                .await
                .map_err(|_| IpcError::internal())?
                .ok_or_else(|| IpcError::invalid_input("No package was chosen."))?,
        )
    };
    let url = parsed.url.clone();
    tauri::async_runtime::spawn_blocking(move || {
        use std::io::Read;
        let (file_name, bytes) = match &path {
            None => {
                let bytes = techo_sync::relay::fetch(&url, "Techo viewer").map_err(|e| IpcError::invalid_input(techo_ipc::as_sentence(&e.to_string())))?;
                (url.rsplit('/').next().unwrap_or("").chars().take(12).collect::<String>() + "…", bytes)
            }
            Some(path) => {
                let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let f = std::fs::File::open(path).map_err(|e| IpcError::invalid_input(format!("The package {file_name} could not be opened ({}).", e.kind())))?;
                let mut bytes = Vec::new();
                f.take(techo_share::MAX_PACKAGE as u64 + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| IpcError::invalid_input(format!("The package {file_name} could not be read ({}).", e.kind())))?;
                (file_name, bytes)
            }
        };
        if bytes.len() > techo_share::MAX_PACKAGE {
            return Err(share_error(ShareError::NotAPackage("it is larger than 512 MiB")));
        }
        let opened = techo_share::open_link(&link, &bytes, passcode.as_ref(), chrono::Utc::now().timestamp()).map_err(share_error)?;
        let doc: Value = serde_json::from_slice(&opened.plaintext)
            .map_err(|_| IpcError::invalid_input("The package opened, but it does not hold FHIR JSON."))?;
        let doc = match doc["resourceType"].as_str() {
            Some("Bundle") => doc,
            Some(_) => serde_json::json!({ "resourceType": "Bundle", "type": "collection", "entry": [{ "resource": doc }] }),
            None => return Err(IpcError::invalid_input("The package opened, but it does not hold a FHIR resource.")),
        };
        let shown = doc["entry"]
            .as_array()
            .map(|e| e.iter().enumerate().filter(|(_, e)| e["resource"].is_object() && !techo_core::is_sources_provenance(&e["resource"])).map(|(i, _)| i).collect())
            .unwrap_or_default();
        let facility_of = facilities(&doc);
        let p = OpenPackage { plaintext: Zeroizing::new(opened.plaintext.to_vec()), doc, shown, facility_of };
        let view = view_of(&p, file_name, &parsed, lang);
        *app.state::<ViewerState>().open() = Some(p);
        Ok(view)
    })
    .await
    .map_err(|_| IpcError::internal())?
}

fn with_open<T>(app: &AppHandle, f: impl FnOnce(&OpenPackage) -> Result<T, IpcError>) -> Result<T, IpcError> {
    let state = app.state::<ViewerState>();
    let guard = state.open();
    let p = guard.as_ref().ok_or_else(|| IpcError::invalid_input("No package is open; open one first."))?;
    f(p)
}

/// The open package's summary in another language.
#[tauri::command(rename_all = "snake_case")]
pub async fn package_summary(app: AppHandle, lang: String) -> Result<SummaryHtml, IpcError> {
    let lang = lang_of(&lang)?;
    with_open(&app, |p| Ok(SummaryHtml { html: summary_html(&p.doc, lang, None) }))
}

/// A page of the open package's resources.
#[tauri::command(rename_all = "snake_case")]
pub async fn package_rows(app: AppHandle, offset: u32, limit: u32) -> Result<PackageRows, IpcError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(IpcError::invalid_input("A page holds 1 to 200 rows."));
    }
    with_open(&app, |p| {
        let rows = p
            .shown
            .iter()
            .enumerate()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(n, &i)| {
                let e = &p.doc["entry"][i];
                let r = &e["resource"];
                let ix = techo_core::techo_fhir::index::extract(r);
                PackageRow {
                    index: n as u32,
                    resource_type: r["resourceType"].as_str().unwrap_or("?").to_owned(),
                    display: ix.display,
                    date: ix.clinical_date.map(|d| d.chars().take(10).collect()),
                    source: e["fullUrl"].as_str().and_then(|u| p.facility_of.get(u).cloned()),
                }
            })
            .collect();
        Ok(PackageRows { rows, total: p.shown.len() as u32 })
    })
}

/// One resource of the open package as JSON text (shown as text, never run).
#[tauri::command(rename_all = "snake_case")]
pub async fn package_resource(app: AppHandle, index: u32) -> Result<String, IpcError> {
    with_open(&app, |p| {
        let i = *p.shown.get(index as usize).ok_or_else(|| IpcError::invalid_input("There is no such resource in the package."))?;
        serde_json::to_string_pretty(&p.doc["entry"][i]["resource"]).map_err(|_| IpcError::internal())
    })
}

/// The viewer forgets the package.
#[tauri::command]
pub async fn package_close(app: AppHandle) -> Result<(), IpcError> {
    app.state::<ViewerState>().open().take();
    Ok(())
}

/// Keeps the open package in the unlocked vault as a family member's record.
#[tauri::command]
pub async fn package_keep(app: AppHandle) -> Result<PackageKept, IpcError> {
    let (bytes, name) = with_open(&app, |p| Ok((p.plaintext.clone(), "the shared package".to_owned())))?;
    let done = with_vault_mut(app, move |v| v.import_package(&bytes, &name).map_err(core_error)).await?;
    Ok(PackageKept {
        person_id: done.person_id,
        new_person: done.new_person,
        new: done.report.new,
        updated: done.report.updated,
        unchanged: done.report.unchanged + done.report.merged,
    })
}
