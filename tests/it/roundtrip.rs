//! Round trip of the official FHIR R4 examples: every file imported with `--person` into a vault
//! and exported as NDJSON gives back every input resource `fhir_eq`-equal.
//!
//! - Bundles: each entry's resource is stored as its own resource and the Bundle itself is not
//!   (lead decision); entries without a resource (transaction GET/DELETE) store nothing; entries
//!   without an `id` (only a `fullUrl`) are matched by content (the stored copy may or may not
//!   have been given an id). A Bundle entry that is itself a Bundle is an ordinary resource.
//! - A file holding the same type+id twice with different content is expected to be rejected
//!   (exit 7, the importer's rule); the same type+id twice with identical content is stored once.
//! - The importer de-duplicates within a person by type + business identifier and by content
//!   (ignoring id/meta/text). Resources of one file that collide so are a group of which at least
//!   one must come back (equal to a member); batches never mix files that share such keys.
//! - Files are imported in batches (one `import f1 f2 … --person P` per batch, one person per
//!   batch) so that no type+id occurs twice within a person; a batch that fails is redone one
//!   file per person to name the file.
//! - Every exported resource must come from the input (no extras).
//!
//! The vendored `tests/data/r4-subset` always runs; the full set comes from `$TECHO_R4_EXAMPLES`,
//! `../shared/data/r4-examples` or `.cache/r4-examples/examples` (`scripts/fetch-r4-examples.sh`).

use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use techo_fhir::equality::{fhir_diff, fhir_eq};
use techo_tests::*;

struct Expected {
    rtype: String,
    id: Option<String>,
    resource: Value,
    /// `file` or `file entry[i]`, for failure messages.
    origin: String,
    /// Set when another resource of the same file has the same type and business identifier, or
    /// the same content apart from id/meta/text: the importer de-duplicates such resources
    /// (one record, two provenances), so only one of the group has to come back.
    group: Option<usize>,
    /// How the importer names the resource within its source: a server `fullUrl` (without
    /// `/_history/…`), else `Type/id`.
    key: Option<String>,
}

struct FileCase {
    name: String,
    path: PathBuf,
    is_bundle: bool,
    expected: Vec<Expected>,
    keys: HashSet<String>,
    /// The same type+id twice with different content: the import must be refused.
    expect_reject: bool,
}

fn load(path: &Path) -> Option<FileCase> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let bytes = std::fs::read(path).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let rtype = v.get("resourceType")?.as_str()?.to_owned();
    let mut raw: Vec<Expected> = Vec::new();
    let is_bundle = rtype == "Bundle";
    if is_bundle {
        for (i, e) in v.get("entry").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(r @ Value::Object(_)) = e.get("resource") {
                let rtype = r["resourceType"].as_str().unwrap_or("?").to_owned();
                let id = r.get("id").and_then(Value::as_str).map(str::to_owned);
                let server_url = e
                    .get("fullUrl")
                    .and_then(Value::as_str)
                    .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                    .map(|u| u.split("/_history/").next().unwrap_or(u).to_owned());
                let key = server_url.or_else(|| id.as_ref().map(|id| format!("{rtype}/{id}")));
                raw.push(Expected { rtype, id, resource: r.clone(), origin: format!("{name} entry[{i}]"), group: None, key });
            }
        }
    } else {
        let id = v.get("id").and_then(Value::as_str).map(str::to_owned);
        let key = id.as_ref().map(|id| format!("{rtype}/{id}"));
        raw.push(Expected { rtype, id, resource: v.clone(), origin: name.clone(), group: None, key });
    }
    let mut expected: Vec<Expected> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut expect_reject = false;
    let version = |r: &Value| r.get("meta").and_then(|m| m.get("versionId")).and_then(Value::as_str).map(str::to_owned);
    for e in raw {
        if let Some(k) = &e.key {
            if let Some(&j) = seen.get(k) {
                if !fhir_eq(&expected[j].resource, &e.resource) {
                    let (a, b) = (version(&expected[j].resource), version(&e.resource));
                    if a.is_some() && b.is_some() && a != b {
                        // Two versions of one resource: the later one is current, the earlier
                        // is kept as a version (not exported).
                        expected[j] = e;
                    } else {
                        expect_reject = true;
                    }
                }
                continue;
            }
            seen.insert(k.clone(), expected.len());
        }
        expected.push(e);
    }
    // Keys for batching: no two files in one person may share a type+id, a business identifier
    // or a content hash (the importer would merge them across sources).
    let mut keys: HashSet<String> = expected
        .iter()
        .filter_map(|e| e.id.as_ref().map(|id| format!("id {}/{id}", e.rtype)))
        .collect();
    let mut owner: HashMap<String, usize> = HashMap::new();
    let mut next_group = 0;
    for i in 0..expected.len() {
        for k in dedup_keys(&expected[i]) {
            keys.insert(k.clone());
            match owner.get(&k) {
                Some(&j) => {
                    let g = expected[j].group.or(expected[i].group).unwrap_or_else(|| {
                        next_group += 1;
                        next_group
                    });
                    let (old_i, old_j) = (expected[i].group, expected[j].group);
                    for e in expected.iter_mut() {
                        if e.group.is_some() && (e.group == old_i || e.group == old_j) {
                            e.group = Some(g);
                        }
                    }
                    expected[i].group = Some(g);
                    expected[j].group = Some(g);
                }
                None => {
                    owner.insert(k, i);
                }
            }
        }
    }
    Some(FileCase { name, path: path.to_path_buf(), is_bundle, expected, keys, expect_reject })
}

/// Canonical JSON text: keys sorted, numbers as their text.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut ks: Vec<&String> = m.keys().collect();
            ks.sort();
            out.push('{');
            for k in ks {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for x in a {
                canonical(x, out);
                out.push(',');
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What the importer de-duplicates on: type + business identifier, type + content without
/// id/meta/text.
fn dedup_keys(e: &Expected) -> Vec<String> {
    let mut keys = Vec::new();
    let one = |i: &Value| -> Option<String> {
        let value = i.get("value")?.as_str().filter(|v| !v.is_empty())?;
        let system = i.get("system").and_then(Value::as_str).unwrap_or("");
        Some(format!("ident {} {system}|{value}", e.rtype))
    };
    match e.resource.get("identifier") {
        Some(Value::Array(a)) => keys.extend(a.iter().filter_map(one)),
        Some(i @ Value::Object(_)) => keys.extend(one(i)),
        _ => {}
    }
    let mut stripped = e.resource.clone();
    if let Some(m) = stripped.as_object_mut() {
        for k in ["id", "meta", "text"] {
            m.remove(k);
        }
    }
    let mut c = format!("hash {} ", e.rtype);
    canonical(&stripped, &mut c);
    keys.push(c);
    keys
}

fn without_id(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("id");
    }
    v
}

/// Matches the expected resources against one person's export; returns (matched, merged).
fn compare(expected: &[&Expected], exported: &[Value], failures: &mut Vec<String>) -> (usize, usize) {
    let mut by_key: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, r) in exported.iter().enumerate() {
        if let (Some(t), Some(id)) = (r["resourceType"].as_str(), r.get("id").and_then(Value::as_str)) {
            by_key.entry((t.to_owned(), id.to_owned())).or_default().push(i);
        }
    }
    let mut used = vec![false; exported.len()];
    let (mut matched, mut merged) = (0, 0);
    // Members of a de-duplication group (per file origin) that did come back.
    let group_key = |e: &Expected| e.group.map(|g| (e.origin.split(' ').next().unwrap_or("").to_owned(), g));
    let group_members = |e: &Expected| -> Vec<&Expected> {
        let k = group_key(e);
        expected.iter().copied().filter(|x| k.is_some() && group_key(x) == k).collect()
    };
    let mut present_groups = HashSet::new();
    let mut absent: Vec<&Expected> = Vec::new();
    for e in expected.iter().filter(|e| e.id.is_some()) {
        let id = e.id.as_deref().unwrap();
        let cands: Vec<usize> = by_key
            .get(&(e.rtype.clone(), id.to_owned()))
            .map(|v| v.iter().copied().filter(|&i| !used[i]).collect())
            .unwrap_or_default();
        if cands.is_empty() {
            if e.group.is_some() {
                absent.push(e);
            } else {
                failures.push(format!("{}: {}/{} is missing from the export", e.origin, e.rtype, id));
            }
            continue;
        }
        let equal = |i: usize| {
            fhir_eq(&e.resource, &exported[i])
                || (e.group.is_some() && group_members(e).iter().any(|m| {
                    fhir_eq(&m.resource, &exported[i]) || fhir_eq(&m.resource, &without_id(&exported[i]))
                }))
        };
        match cands.iter().copied().find(|&i| equal(i)) {
            Some(i) => {
                used[i] = true;
                matched += 1;
                present_groups.extend(group_key(e));
            }
            None => {
                used[cands[0]] = true;
                let d = fhir_diff(&e.resource, &exported[cands[0]]).unwrap_or_default();
                failures.push(format!("{}: {}/{} came back different: {d}", e.origin, e.rtype, id));
            }
        }
    }
    for e in expected.iter().filter(|e| e.id.is_none()) {
        let hit = (0..exported.len()).find(|&i| {
            !used[i]
                && exported[i]["resourceType"] == e.rtype.as_str()
                && (fhir_eq(&e.resource, &exported[i]) || fhir_eq(&e.resource, &without_id(&exported[i])))
        });
        match hit {
            Some(i) => {
                used[i] = true;
                matched += 1;
                present_groups.extend(group_key(e));
            }
            None if e.group.is_some() => absent.push(e),
            None => failures.push(format!(
                "{}: the {} without an id is not in the export unchanged",
                e.origin, e.rtype
            )),
        }
    }
    for e in absent {
        if present_groups.contains(&group_key(e).expect("grouped")) {
            merged += 1;
        } else {
            failures.push(format!(
                "{}: {}/{} is missing and so is every resource it could have been merged with",
                e.origin,
                e.rtype,
                e.id.as_deref().unwrap_or("(no id)")
            ));
        }
    }
    for (i, u) in used.iter().enumerate() {
        if !u {
            failures.push(format!(
                "export has a resource no input had: {}/{}",
                exported[i]["resourceType"].as_str().unwrap_or("?"),
                exported[i]["id"].as_str().unwrap_or("(no id)")
            ));
        }
    }
    (matched, merged)
}

#[derive(Default)]
struct Report {
    files: usize,
    bundles: usize,
    skipped: usize,
    resources: usize,
    matched: usize,
    merged: usize,
    without_id: usize,
    rejected_as_expected: usize,
    batches: usize,
    failures: Vec<String>,
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn roundtrip_folder(dir: &Path, label: &str) -> Report {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    let mut r = Report::default();
    let mut cases = Vec::new();
    for p in &paths {
        match load(p) {
            Some(c) => cases.push(c),
            None => r.skipped += 1,
        }
    }
    r.files = cases.len();
    r.bundles = cases.iter().filter(|c| c.is_bundle).count();
    r.resources = cases.iter().filter(|c| !c.expect_reject).map(|c| c.expected.len()).sum();
    r.without_id = cases.iter().filter(|c| !c.expect_reject).flat_map(|c| &c.expected).filter(|e| e.id.is_none()).count();

    let v = TempVault::new();

    // Files the importer must refuse.
    for c in cases.iter().filter(|c| c.expect_reject) {
        let person = v.add_person(&format!("{label} {}", c.name));
        let out = v.import(&[&c.path], Some(&person));
        if out.code != exit::BAD_INPUT {
            r.failures.push(format!(
                "{}: holds the same type+id twice with different content; import should exit 7, exited {}",
                c.name, out.code
            ));
        } else if !first_line(&out.stderr).contains(&c.name) {
            r.failures.push(format!("{}: the error does not name the file: {}", c.name, first_line(&out.stderr)));
        } else {
            r.rejected_as_expected += 1;
        }
        let left = v.export_ndjson(Some(&person)).len();
        if left != 0 {
            r.failures.push(format!("{}: a refused file left {left} resources", c.name));
        }
    }

    // Batches with no type+id in common.
    const MAX_BATCH: usize = 150;
    let mut batches: Vec<(HashSet<String>, Vec<&FileCase>)> = Vec::new();
    for c in cases.iter().filter(|c| !c.expect_reject) {
        let slot = batches
            .iter()
            .position(|(keys, files)| files.len() < MAX_BATCH && keys.is_disjoint(&c.keys));
        let i = slot.unwrap_or_else(|| {
            batches.push((HashSet::new(), Vec::new()));
            batches.len() - 1
        });
        batches[i].0.extend(c.keys.iter().cloned());
        batches[i].1.push(c);
    }
    r.batches = batches.len();
    for (k, (_, files)) in batches.iter().enumerate() {
        let person = v.add_person(&format!("{label} batch {k}"));
        let paths: Vec<&Path> = files.iter().map(|c| c.path.as_path()).collect();
        let mut args: Vec<OsString> = vec!["import".into()];
        args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
        args.extend(["--person".into(), person.clone().into()]);
        let out = v.run(&args);
        // One file = one transaction: a refused file stores nothing and the others go on. The
        // refused ones are named in `techo: error: … <path> …` lines.
        let error_lines: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("techo: error:")).collect();
        let refused: Vec<&FileCase> = files
            .iter()
            .copied()
            .filter(|c| error_lines.iter().any(|l| l.contains(&*c.path.to_string_lossy())))
            .collect();
        for c in &refused {
            let line = error_lines.iter().find(|l| l.contains(&*c.path.to_string_lossy())).unwrap();
            r.failures.push(format!("{}: import refused it: {line}", c.name));
        }
        if out.code != 0 && refused.is_empty() {
            r.failures.push(format!(
                "batch {k} ({} files) exited {} without naming a file: {}",
                files.len(),
                out.code,
                error_lines.first().copied().unwrap_or(first_line(&out.stderr))
            ));
            continue;
        }
        if out.code == 0 && !refused.is_empty() {
            r.failures.push(format!("batch {k} refused {} files but exited 0", refused.len()));
        }
        let files: Vec<&FileCase> = files.iter().copied().filter(|c| !refused.iter().any(|x| x.name == c.name)).collect();
        let exported = v.export_ndjson(Some(&person));
        let exp: Vec<&Expected> = files.iter().flat_map(|c| c.expected.iter()).collect();
        let (m, g) = compare(&exp, &exported, &mut r.failures);
        r.matched += m;
        r.merged += g;
    }
    r
}

#[track_caller]
fn finish(label: &str, r: Report) {
    println!(
        "{label}: {} files ({} Bundles, {} non-resource files skipped), {} resources expected, {} came back equal \
         ({} without an id), {} merged with a same-file duplicate, {} files rejected as expected, {} import batches, \
         {} failures",
        r.files,
        r.bundles,
        r.skipped,
        r.resources,
        r.matched,
        r.without_id,
        r.merged,
        r.rejected_as_expected,
        r.batches,
        r.failures.len()
    );
    if !r.failures.is_empty() {
        for f in r.failures.iter().take(80) {
            println!("  FAIL {f}");
        }
        if r.failures.len() > 80 {
            println!("  … and {} more", r.failures.len() - 80);
        }
        panic!("{label}: {} round-trip failures (listed above)", r.failures.len());
    }
}

#[test]
fn roundtrip_vendored_r4_subset() {
    let dir = data_dir().join("r4-subset");
    let r = roundtrip_folder(&dir, "r4-subset");
    assert!(r.files >= 10, "the vendored subset should have 10+ files, found {}", r.files);
    finish("r4-subset", r);
}

/// The official examples folder, if one is available.
fn official_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TECHO_R4_EXAMPLES") {
        let p = PathBuf::from(p);
        assert!(p.is_dir(), "TECHO_R4_EXAMPLES={} is not a folder", p.display());
        return Some(p);
    }
    let root = repo_root();
    [root.join("../shared/data/r4-examples"), root.join(".cache/r4-examples/examples")]
        .into_iter()
        .find(|p| p.is_dir())
}

#[test]
fn roundtrip_official_r4_examples() {
    let Some(dir) = official_dir() else {
        println!(
            "SKIP roundtrip_official_r4_examples: no R4 examples folder (set TECHO_R4_EXAMPLES or run \
             scripts/fetch-r4-examples.sh); only the vendored tests/data/r4-subset is checked"
        );
        return;
    };
    let r = roundtrip_folder(&dir, "r4-examples");
    assert!(r.files >= 100, "{} holds only {} example files", dir.display(), r.files);
    finish("r4-examples", r);
}
