//! Build script of the Techo app: runs tauri-build against the repository-root tauri.conf.json
//! and enforces the app's security rules, so that a loosened capability or CSP fails the build:
//! - the permissions file defines exactly one `allow-…` permission per Techo command
//!   (`techo_ipc::COMMAND_NAMES`) and nothing else;
//! - the capabilities grant only those permissions: no plugins, no wildcards, no remote URLs;
//! - the CSP has no `'unsafe-eval'`, no `'unsafe-inline'`, no remote origins, and there is no
//!   `devUrl`.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

const CONFIG: &str = "tauri.conf.json";
const CAPABILITIES_DIR: &str = "src-tauri/capabilities";
const PERMISSIONS_FILE: &str = "src-tauri/permissions/techo.toml";

fn main() {
    for p in [CONFIG, CAPABILITIES_DIR, PERMISSIONS_FILE] {
        println!("cargo:rerun-if-changed={p}");
    }
    if let Err(msg) = check_security() {
        panic!("Techo's security rules are broken: {msg}");
    }

    let attrs = tauri_build::Attributes::new()
        .config_path("./tauri.conf.json")
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(
            tauri_build::AppManifest::new()
                .permissions_path_pattern("./src-tauri/permissions/**/*"),
        );
    if let Err(e) = tauri_build::try_build(attrs) {
        panic!("tauri-build failed: {e:#}");
    }
}

fn allowed_permissions() -> BTreeSet<String> {
    techo_ipc::COMMAND_NAMES
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect()
}

fn check_security() -> Result<(), String> {
    check_permissions_file()?;
    check_capabilities()?;
    check_config()
}

/// Lines `commands.allow = ["x"]` of the permissions file must name exactly Techo's commands.
fn check_permissions_file() -> Result<(), String> {
    let text =
        fs::read_to_string(PERMISSIONS_FILE).map_err(|e| format!("{PERMISSIONS_FILE}: {e}"))?;
    let mut allowed = BTreeSet::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        if let Some(list) = line.strip_prefix("commands.allow") {
            for name in list.split('"').skip(1).step_by(2) {
                allowed.insert(name.to_string());
            }
        }
        if line.starts_with("commands.deny") || line.starts_with("[[scope") {
            return Err(format!(
                "{PERMISSIONS_FILE}: only plain allow permissions are expected"
            ));
        }
    }
    let expected: BTreeSet<String> = techo_ipc::COMMAND_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    if allowed != expected {
        return Err(format!(
            "{PERMISSIONS_FILE} allows {allowed:?}, techo_ipc::COMMAND_NAMES is {expected:?}"
        ));
    }
    for p in allowed_permissions() {
        if !text.contains(&format!("identifier = \"{p}\"")) {
            return Err(format!("{PERMISSIONS_FILE}: permission {p} is missing"));
        }
    }
    Ok(())
}

/// Every capability grants only `allow-<techo command>` and is local-only; together they
/// grant all of Techo's commands.
fn check_capabilities() -> Result<(), String> {
    let allowed = allowed_permissions();
    let mut granted = BTreeSet::new();
    let entries = fs::read_dir(CAPABILITIES_DIR).map_err(|e| format!("{CAPABILITIES_DIR}: {e}"))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.display().to_string();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            return Err(format!("{name}: capabilities must be .json files"));
        }
        let cap: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?)
                .map_err(|e| format!("{name}: {e}"))?;
        if cap.get("remote").is_some() {
            return Err(format!("{name}: remote capabilities are not allowed"));
        }
        if cap.get("local").and_then(|v| v.as_bool()) == Some(false) {
            return Err(format!("{name}: capabilities must be local"));
        }
        for w in cap
            .get("windows")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if w.as_str().is_none_or(|w| w.contains('*')) {
                return Err(format!("{name}: window labels must be explicit, got {w}"));
            }
        }
        let perms = cap
            .get("permissions")
            .and_then(|v| v.as_array())
            .ok_or(format!("{name}: no permissions"))?;
        for p in perms {
            let Some(p) = p.as_str() else {
                return Err(format!(
                    "{name}: scoped permission objects are not allowed: {p}"
                ));
            };
            if !allowed.contains(p) {
                return Err(format!(
                    "{name}: permission {p:?} is not one of Techo's commands {allowed:?}"
                ));
            }
            granted.insert(p.to_string());
        }
    }
    if granted != allowed {
        return Err(format!(
            "capabilities grant {granted:?}, expected {allowed:?}"
        ));
    }
    Ok(())
}

/// The CSP must be strict and present; no dev server URL.
fn check_config() -> Result<(), String> {
    let conf: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(CONFIG).map_err(|e| format!("{CONFIG}: {e}"))?)
            .map_err(|e| format!("{CONFIG}: {e}"))?;
    if conf.pointer("/build/devUrl").is_some() {
        return Err(format!("{CONFIG}: build.devUrl must not be set"));
    }
    let security = conf
        .pointer("/app/security")
        .ok_or(format!("{CONFIG}: app.security missing"))?;
    let csp = match security.get("csp") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => return Err(format!("{CONFIG}: app.security.csp must be a string")),
    };
    let mut directives = BTreeSet::new();
    for directive in csp.split(';').map(str::trim).filter(|d| !d.is_empty()) {
        let mut tokens = directive.split_ascii_whitespace();
        let name = tokens.next().unwrap_or_default();
        directives.insert(name.to_string());
        for t in tokens {
            let bad = matches!(
                t,
                "'unsafe-eval'"
                    | "'unsafe-inline'"
                    | "'unsafe-hashes'"
                    | "*"
                    | "data:"
                    | "blob:"
                    | "https:"
                    | "http:"
            ) && !(name == "img-src" && t == "data:");
            let remote =
                (t.starts_with("http://") || t.starts_with("https://") || t.starts_with("ws"))
                    && t != "http://ipc.localhost";
            if bad || remote {
                return Err(format!("{CONFIG}: CSP source {t} in {name} is not allowed"));
            }
        }
    }
    for required in [
        "default-src",
        "script-src",
        "object-src",
        "base-uri",
        "frame-ancestors",
    ] {
        if !directives.contains(required) {
            return Err(format!("{CONFIG}: CSP needs a {required} directive"));
        }
    }
    for key in [
        "dangerousDisableAssetCspModification",
        "dangerousRemoteDomainIpcAccess",
    ] {
        if security.get(key).is_some() {
            return Err(format!("{CONFIG}: app.security.{key} must not be set"));
        }
    }
    if !Path::new("ui/dist/index.html").exists() {
        println!("cargo:warning=ui/dist is not built yet: run scripts/build-ui.sh first");
    }
    Ok(())
}
