//! Architecture rules, checked on the resolved dependency graph (`cargo metadata`):
//!
//! - the core crates (techo-fhir, techo-core, techo-vitals, techo-consent, techo-pseudo,
//!   techo-share, techo-gen, techo-ipc) never depend — directly or
//!   transitively, through normal dependencies on any target — on a GUI/web/network stack
//!   (tauri, wry, tao, yew, reqwest, hyper);
//! - techo-fhir, techo-vitals, techo-consent, techo-pseudo, techo-ipc and techo-gen never depend
//!   on rusqlite (IO-free / DB-free);
//! - techo-ipc depends on nothing beyond serde (+ serde_core, serde_derive and serde_derive's
//!   proc-macro dependencies), so the wasm UI and the shell share a tiny crate;
//! - only the binaries techo-cli, techo-bench and techo-app may depend on anyhow (directly;
//!   core crates not even transitively);
//! - techo-sync (the only library with an HTTP client) has no GUI stack and never reaches the
//!   test peers (techo-demo); techo-demo (the demo hospital, the fault proxy) knows nothing of
//!   the vault (no techo-core, no SQLite) and no GUI.

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, PackageId};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::OnceLock;
use techo_tests::repo_root;

const CORE: [&str; 8] = ["techo-fhir", "techo-core", "techo-vitals", "techo-consent", "techo-pseudo", "techo-share", "techo-gen", "techo-ipc"];
const NO_SQLITE: [&str; 7] = ["techo-fhir", "techo-vitals", "techo-consent", "techo-pseudo", "techo-share", "techo-ipc", "techo-gen"];
const ANYHOW_ALLOWED: [&str; 3] = ["techo-cli", "techo-bench", "techo-app"];

fn metadata() -> &'static Metadata {
    static M: OnceLock<Metadata> = OnceLock::new();
    M.get_or_init(|| {
        MetadataCommand::new()
            .manifest_path(repo_root().join("Cargo.toml"))
            .exec()
            .expect("cargo metadata")
    })
}

struct Graph<'a> {
    meta: &'a Metadata,
    /// Normal (non-dev, non-build) edges, on every target platform.
    edges: HashMap<&'a PackageId, Vec<&'a PackageId>>,
}

impl<'a> Graph<'a> {
    fn new(meta: &'a Metadata) -> Self {
        let resolve = meta.resolve.as_ref().expect("cargo metadata resolves the graph");
        let mut edges = HashMap::new();
        for n in &resolve.nodes {
            let deps = n
                .deps
                .iter()
                .filter(|d| d.dep_kinds.iter().any(|k| k.kind == DependencyKind::Normal))
                .map(|d| &d.pkg)
                .collect();
            edges.insert(&n.id, deps);
        }
        Graph { meta, edges }
    }

    fn name(&self, id: &PackageId) -> &'a str {
        self.meta[id].name.as_str()
    }

    fn workspace_id(&self, name: &str) -> &'a PackageId {
        self.meta
            .workspace_members
            .iter()
            .find(|id| self.meta[*id].name.as_str() == name)
            .unwrap_or_else(|| panic!("workspace member {name} not found"))
    }

    /// Every package reachable from `root` (excluding it), with one path to it.
    fn closure(&self, root: &'a PackageId) -> HashMap<&'a PackageId, Vec<&'a str>> {
        let mut seen: HashMap<&PackageId, Vec<&str>> = HashMap::new();
        let mut q = VecDeque::from([(root, vec![self.name(root)])]);
        while let Some((id, path)) = q.pop_front() {
            for d in self.edges.get(id).into_iter().flatten() {
                if *d != root && !seen.contains_key(d) {
                    let mut p = path.clone();
                    p.push(self.name(d));
                    seen.insert(d, p.clone());
                    q.push_back((d, p));
                }
            }
        }
        seen
    }

    fn direct(&self, root: &PackageId) -> Vec<&'a str> {
        self.edges.get(root).into_iter().flatten().map(|d| self.name(d)).collect()
    }
}

fn gui_stack(name: &str) -> bool {
    let fam = |base: &str| name == base || name.starts_with(&format!("{base}-")) || name.starts_with(&format!("{base}_"));
    fam("tauri") || fam("wry") || fam("tao") || fam("yew")
}

fn forbidden_stack(name: &str) -> bool {
    let fam = |base: &str| name == base || name.starts_with(&format!("{base}-")) || name.starts_with(&format!("{base}_"));
    fam("tauri") || fam("wry") || fam("tao") || fam("yew") || name == "reqwest" || fam("hyper")
}

#[test]
fn core_crates_have_no_gui_or_network_stack() {
    let g = Graph::new(metadata());
    let mut problems = Vec::new();
    for c in CORE {
        for (id, path) in g.closure(g.workspace_id(c)) {
            if forbidden_stack(g.name(id)) {
                problems.push(path.join(" -> "));
            }
        }
    }
    problems.sort();
    assert!(problems.is_empty(), "core crates must not pull a GUI/web/network stack:\n{}", problems.join("\n"));
}

#[test]
fn io_free_crates_have_no_sqlite() {
    let g = Graph::new(metadata());
    let mut problems = Vec::new();
    for c in NO_SQLITE {
        for (id, path) in g.closure(g.workspace_id(c)) {
            let n = g.name(id);
            if n == "rusqlite" || n == "libsqlite3-sys" {
                problems.push(path.join(" -> "));
            }
        }
    }
    problems.sort();
    assert!(problems.is_empty(), "these crates must not depend on SQLite:\n{}", problems.join("\n"));
}

#[test]
fn ipc_depends_only_on_serde() {
    let g = Graph::new(metadata());
    let ipc = g.workspace_id("techo-ipc");
    let mut allowed: BTreeSet<&str> = ["serde", "serde_core", "serde_derive"].into();
    // serde_derive's own (proc-macro) dependencies: proc-macro2, quote, syn, unicode-ident…
    if let Some(sd) = g.meta.packages.iter().find(|p| p.name.as_str() == "serde_derive") {
        for id in g.closure(&sd.id).keys() {
            allowed.insert(g.name(id));
        }
    }
    let mut extra: Vec<String> = g
        .closure(ipc)
        .into_iter()
        .filter(|(id, _)| !allowed.contains(g.name(id)))
        .map(|(_, path)| path.join(" -> "))
        .collect();
    extra.sort();
    assert!(extra.is_empty(), "techo-ipc may depend only on serde:\n{}", extra.join("\n"));
}

#[test]
fn only_binaries_depend_on_anyhow() {
    let g = Graph::new(metadata());
    let mut problems = Vec::new();
    for id in &g.meta.workspace_members {
        let name = g.name(id);
        if ANYHOW_ALLOWED.contains(&name) {
            continue;
        }
        if g.direct(id).contains(&"anyhow") {
            problems.push(format!("{name} depends on anyhow directly"));
        }
    }
    for c in CORE {
        for (id, path) in g.closure(g.workspace_id(c)) {
            if g.name(id) == "anyhow" {
                problems.push(path.join(" -> "));
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "only techo-cli, techo-bench and techo-app may use anyhow (libraries use thiserror):\n{}",
        problems.join("\n")
    );
}

#[test]
fn workspace_has_the_expected_crates() {
    let g = Graph::new(metadata());
    for c in CORE.iter().chain(ANYHOW_ALLOWED.iter()) {
        g.workspace_id(c);
    }
}

/// Guards the checks above against passing vacuously (e.g. a graph with no edges).
#[test]
fn checker_sees_known_edges() {
    let g = Graph::new(metadata());
    let names = |c: &str| -> BTreeSet<&str> { g.closure(g.workspace_id(c)).keys().map(|id| g.name(id)).collect() };
    assert!(names("techo-app").contains("tauri"), "techo-app should reach tauri");
    assert!(names("techo-app").iter().any(|n| forbidden_stack(n)));
    assert!(names("techo-core").contains("rusqlite"), "techo-core should reach rusqlite");
    assert!(names("techo-ipc").contains("serde"), "techo-ipc should reach serde");
    assert!(g.direct(g.workspace_id("techo-cli")).contains(&"anyhow"), "techo-cli uses anyhow");
}

#[test]
fn sync_and_demo_stay_in_their_lanes() {
    let g = Graph::new(metadata());
    let mut problems = Vec::new();
    for (id, path) in g.closure(g.workspace_id("techo-sync")) {
        let n = g.name(id);
        if gui_stack(n) || n == "techo-demo" {
            problems.push(path.join(" -> "));
        }
    }
    for (id, path) in g.closure(g.workspace_id("techo-demo")) {
        let n = g.name(id);
        if gui_stack(n) || n == "techo-core" || n == "rusqlite" || n == "libsqlite3-sys" {
            problems.push(path.join(" -> "));
        }
    }
    problems.sort();
    assert!(problems.is_empty(), "techo-sync / techo-demo reach what they must not:\n{}", problems.join("\n"));
    let sync: BTreeSet<&str> = g.closure(g.workspace_id("techo-sync")).keys().map(|id| g.name(id)).collect();
    assert!(sync.contains("reqwest") && sync.contains("techo-core"), "the checker sees techo-sync's edges");
}
