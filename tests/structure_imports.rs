//! The house's shape, checked: no import cycle between the files of a crate (`src/` of the
//! library, the `throttlebox` binary, `mock-backend/src/`), and no source file over
//! [`MAX_LINES`] lines (ARCHITECTURE.md, "Folders and what they may import").
//!
//! Every `use` tree and every `crate::`/`super::`/`self::` path in code is resolved, with
//! `syn`, to the file that defines the item it names: a `pub use` re-export is followed to its
//! source rather than counted as a dependency of the re-exporting `mod.rs` (a module's facade
//! is not a use of its children), and `mod x;` declarations are not edges. A strongly
//! connected component of more than one file is a cycle; the failure lists each edge in it with
//! the path that makes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The largest a source file may grow (the "~600 lines").
const MAX_LINES: usize = 600;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One crate: its root file and the crate's own name for absolute paths from other crates.
struct Crate {
    root: &'static str,
    name: &'static str,
}

const CRATES: [Crate; 3] = [
    Crate {
        root: "src/lib.rs",
        name: "throttlebox",
    },
    Crate {
        root: "src/main.rs",
        name: "crate",
    },
    Crate {
        root: "mock-backend/src/lib.rs",
        name: "aoai_mock",
    },
];

/// A module path inside one crate (`["report", "html"]`; empty for the crate root).
type ModPath = Vec<String>;

/// What one module defines: its file, the names of its items, and its re-exports.
#[derive(Default)]
struct Module {
    file: PathBuf,
    items: BTreeSet<String>,
    /// Re-exported name → absolute path of its source.
    reexports: BTreeMap<String, Vec<String>>,
    /// Absolute sources of `pub use path::*`.
    glob_reexports: Vec<Vec<String>>,
    /// Names re-exported from another crate (`pub use aoai_mock::seed`): no edge in this one.
    external_reexports: BTreeSet<String>,
    /// Absolute paths this module's code names, with the text shown in a failure.
    uses: Vec<(Vec<String>, String)>,
}

/// Loads every module of a crate from its root file, following `mod x;` to files.
fn load_crate(krate: &Crate) -> BTreeMap<ModPath, Module> {
    let mut modules = BTreeMap::new();
    load_file(
        &Path::new(ROOT).join(krate.root),
        Vec::new(),
        krate,
        &mut modules,
    );
    modules
}

fn load_file(file: &Path, path: ModPath, krate: &Crate, modules: &mut BTreeMap<ModPath, Module>) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let syntax = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let dir = if file.ends_with("mod.rs") || file.ends_with("lib.rs") || file.ends_with("main.rs") {
        file.parent().expect("a parent").to_path_buf()
    } else {
        file.with_extension("")
    };
    load_items(&syntax.items, file, &dir, path, krate, modules);
}

fn load_items(
    items: &[syn::Item],
    file: &Path,
    dir: &Path,
    path: ModPath,
    krate: &Crate,
    modules: &mut BTreeMap<ModPath, Module>,
) {
    let mut module = Module {
        file: file.to_path_buf(),
        ..Module::default()
    };
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                let name = m.ident.to_string();
                module.items.insert(name.clone());
                let mut child = path.clone();
                child.push(name.clone());
                match &m.content {
                    Some((_, inner)) => {
                        load_items(inner, file, &dir.join(&name), child, krate, modules)
                    }
                    None => {
                        let flat = dir.join(format!("{name}.rs"));
                        let nested = dir.join(&name).join("mod.rs");
                        let child_file = match path_attribute(&m.attrs) {
                            // `#[path]` is relative to the folder of the declaring file.
                            Some(explicit) => file.parent().expect("a parent").join(explicit),
                            None if flat.exists() => flat,
                            None => nested,
                        };
                        load_file(&child_file, child, krate, modules);
                    }
                }
            }
            syn::Item::Use(u) => {
                let public = !matches!(u.vis, syn::Visibility::Inherited);
                let mut leaves = Vec::new();
                use_leaves(&u.tree, Vec::new(), &mut leaves);
                for (segments, alias) in leaves {
                    let Some(absolute) = absolute(&segments, &path, krate) else {
                        if let (true, Some(name)) = (public, alias) {
                            module.external_reexports.insert(name);
                        }
                        continue;
                    };
                    match (public, alias) {
                        (true, Some(name)) if name == "*" => module.glob_reexports.push(absolute),
                        (true, Some(name)) => {
                            module.reexports.insert(name, absolute);
                        }
                        _ => module
                            .uses
                            .push((absolute, format!("use {}", segments.join("::")))),
                    }
                }
            }
            other => {
                if let Some(name) = item_name(other) {
                    module.items.insert(name);
                }
                let mut paths = PathCollector::default();
                paths.visit_item(other);
                for segments in paths.paths {
                    if let Some(absolute) = absolute(&segments, &path, krate) {
                        module.uses.push((absolute, segments.join("::")));
                    }
                }
            }
        }
    }
    modules.insert(path, module);
}

/// The value of a `#[path = "…"]` attribute.
fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Macro(i) => i.ident.as_ref()?,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// The leaves of a `use` tree: (full path, the name it is bound to; `*` for a glob).
fn use_leaves(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let with = |name: String| {
        let mut p = prefix.clone();
        p.push(name);
        p
    };
    match tree {
        syn::UseTree::Path(p) => use_leaves(&p.tree, with(p.ident.to_string()), out),
        syn::UseTree::Name(n) if n.ident == "self" => {
            let name = prefix.last().cloned();
            out.push((prefix, name));
        }
        syn::UseTree::Name(n) => out.push((with(n.ident.to_string()), Some(n.ident.to_string()))),
        syn::UseTree::Rename(r) => {
            out.push((with(r.ident.to_string()), Some(r.rename.to_string())))
        }
        syn::UseTree::Glob(_) => out.push((prefix, Some("*".to_string()))),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                use_leaves(item, prefix.clone(), out);
            }
        }
    }
}

/// Every path in code that starts at `crate`, `super`, `self` or the crate's own name.
#[derive(Default)]
struct PathCollector {
    paths: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            self.paths.push(segments);
        }
        syn::visit::visit_path(self, path);
    }

    // A `mod` nested in an item (rare) is its own scope: not followed.
    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}
}

/// `segments` as a path from the crate root, or `None` when it leaves the crate.
fn absolute(segments: &[String], from: &ModPath, krate: &Crate) -> Option<Vec<String>> {
    let mut base = from.clone();
    let mut rest = segments;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some(name) if name == krate.name => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The module that defines what `path` names, following re-exports (bounded, for safety).
fn defining_module<'m>(
    path: &[String],
    modules: &'m BTreeMap<ModPath, Module>,
    depth: usize,
) -> Option<&'m ModPath> {
    if depth > 16 {
        return None;
    }
    let (module_path, module) = (0..=path.len())
        .rev()
        .find_map(|n| modules.get_key_value(&path[..n]))?;
    let Some(name) = path.get(module_path.len()) else {
        return Some(module_path);
    };
    if module.external_reexports.contains(name) {
        return None;
    }
    if let Some(source) = module.reexports.get(name) {
        let mut source = source.clone();
        source.extend(path[module_path.len() + 1..].iter().cloned());
        return defining_module(&source, modules, depth + 1);
    }
    if !module.items.contains(name) {
        for glob in &module.glob_reexports {
            let mut candidate = glob.clone();
            candidate.extend(path[module_path.len()..].iter().cloned());
            if let Some(found) = defining_module(&candidate, modules, depth + 1) {
                if found != module_path {
                    return Some(found);
                }
            }
        }
    }
    Some(module_path)
}

/// file → (file it uses → the first path that makes the edge).
type Graph = BTreeMap<PathBuf, BTreeMap<PathBuf, String>>;

fn file_graph(modules: &BTreeMap<ModPath, Module>) -> Graph {
    let mut graph = Graph::new();
    for module in modules.values() {
        let edges = graph.entry(module.file.clone()).or_default();
        for (path, shown) in &module.uses {
            let Some(target) = defining_module(path, modules, 0) else {
                continue;
            };
            let target = &modules[target].file;
            if *target != module.file {
                edges.entry(target.clone()).or_insert_with(|| shown.clone());
            }
        }
    }
    graph
}

/// The strongly connected components of more than one file (Tarjan's algorithm).
fn cycles(graph: &Graph) -> Vec<Vec<PathBuf>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g PathBuf, (usize, usize)>,
        stack: Vec<&'g PathBuf>,
        on_stack: BTreeSet<&'g PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, file: &'g PathBuf) {
            let n = self.index.len();
            self.index.insert(file, (n, n));
            self.stack.push(file);
            self.on_stack.insert(file);
            for next in self.graph.get(file).into_iter().flat_map(|e| e.keys()) {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.index[next].1.min(self.index[file].1);
                    self.index.get_mut(file).expect("visited").1 = low;
                } else if self.on_stack.contains(next) {
                    let low = self.index[next].0.min(self.index[file].1);
                    self.index.get_mut(file).expect("visited").1 = low;
                }
            }
            let (index, low) = self.index[file];
            if index == low {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    component.push(top.clone());
                    if top == file {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for file in graph.keys() {
        if !tarjan.index.contains_key(file) {
            tarjan.visit(file);
        }
    }
    tarjan.found
}

fn relative(file: &Path) -> String {
    file.strip_prefix(ROOT)
        .unwrap_or(file)
        .display()
        .to_string()
}

fn describe(cycle: &[PathBuf], graph: &Graph) -> String {
    let members: BTreeSet<&PathBuf> = cycle.iter().collect();
    let mut lines = vec![format!(
        "cycle among {}:",
        cycle
            .iter()
            .map(|f| relative(f))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    for file in cycle {
        for (target, shown) in &graph[file] {
            if members.contains(target) {
                lines.push(format!(
                    "  {} -> {} ({shown})",
                    relative(file),
                    relative(target)
                ));
            }
        }
    }
    lines.join("\n")
}

#[test]
fn no_import_cycle_between_the_files_of_a_crate() {
    let mut found = Vec::new();
    for krate in &CRATES {
        let modules = load_crate(krate);
        let graph = file_graph(&modules);
        assert!(
            graph.len() > 5,
            "{}: {} files read",
            krate.root,
            graph.len()
        );
        found.extend(cycles(&graph).iter().map(|c| describe(c, &graph)));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_checker_finds_a_cycle_and_follows_reexports() {
    let file = |name: &str| PathBuf::from(name);
    let mut graph = Graph::new();
    graph
        .entry(file("a.rs"))
        .or_default()
        .insert(file("b.rs"), "use crate::b::B".into());
    graph
        .entry(file("b.rs"))
        .or_default()
        .insert(file("c.rs"), "use crate::c::C".into());
    graph
        .entry(file("c.rs"))
        .or_default()
        .insert(file("a.rs"), "use crate::a::A".into());
    graph
        .entry(file("d.rs"))
        .or_default()
        .insert(file("a.rs"), "use crate::a::A".into());
    assert_eq!(
        cycles(&graph),
        vec![vec![file("a.rs"), file("b.rs"), file("c.rs")]]
    );

    let mut modules = BTreeMap::new();
    let module = |file: &str, items: &[&str], reexports: &[(&str, &[&str])]| Module {
        file: PathBuf::from(file),
        items: items.iter().map(|s| s.to_string()).collect(),
        reexports: reexports
            .iter()
            .map(|(name, path)| {
                (
                    name.to_string(),
                    path.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect(),
        ..Module::default()
    };
    modules.insert(vec![], module("lib.rs", &["report"], &[]));
    modules.insert(
        vec!["report".to_string()],
        module(
            "report/mod.rs",
            &["summary"],
            &[("Summary", &["report", "summary", "Summary"])],
        ),
    );
    modules.insert(
        vec!["report".to_string(), "summary".to_string()],
        module("report/summary.rs", &["Summary"], &[]),
    );
    let path: Vec<String> = ["report", "Summary"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let found = defining_module(&path, &modules, 0).expect("resolved");
    assert_eq!(modules[found].file, file("report/summary.rs"));
}

#[test]
fn no_source_file_is_over_the_size_limit() {
    let mut long = Vec::new();
    for dir in ["src", "mock-backend/src"] {
        let mut stack = vec![Path::new(ROOT).join(dir)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("source folder") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let lines = std::fs::read_to_string(&path)
                        .expect("source")
                        .lines()
                        .count();
                    if lines > MAX_LINES {
                        long.push(format!("{}: {lines} lines", relative(&path)));
                    }
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines (split by responsibility): {long:?}"
    );
}

/// The folder (or top-level file) of the crate a file belongs to: `src/report/`,
/// `mock-backend/src/seed.rs`.
fn unit_of(file: &Path) -> String {
    let relative = relative(file);
    let (crate_src, rest) = match relative.strip_prefix("mock-backend/src/") {
        Some(rest) => ("mock-backend/src/", rest),
        None => ("src/", relative.strip_prefix("src/").unwrap_or(&relative)),
    };
    match rest.split_once('/') {
        Some((folder, _)) => format!("{crate_src}{folder}/"),
        None => format!("{crate_src}{rest}"),
    }
}

/// ARCHITECTURE.md's folder table: unit → the units of the same crate it may import.
fn allowed_imports() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md at the repository root");
    let mut table = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `src/report/` | owns … | `metrics/`, `seed.rs` |
        let [_, unit, _, may_import, _] = cells.as_slice() else {
            continue;
        };
        let Some(unit) = unit.strip_prefix('`').and_then(|u| u.strip_suffix('`')) else {
            continue;
        };
        let crate_src = if unit.starts_with("mock-backend/") {
            "mock-backend/src/"
        } else {
            "src/"
        };
        let allowed = may_import
            .split(',')
            .filter_map(|name| name.trim().strip_prefix('`')?.strip_suffix('`'))
            .map(|name| format!("{crate_src}{name}"))
            .collect();
        table.insert(unit.to_string(), allowed);
    }
    table
}

#[test]
fn every_folder_imports_only_what_architecture_md_allows() {
    let allowed = allowed_imports();
    assert!(allowed.len() > 10, "folder table rows read: {allowed:?}");
    let mut wrong = BTreeSet::new();
    for krate in &CRATES {
        let modules = load_crate(krate);
        for (file, targets) in file_graph(&modules) {
            let from = unit_of(&file);
            if file.ends_with("lib.rs") || file.ends_with("main.rs") {
                continue; // crate roots declare and re-export; they use nothing
            }
            let Some(may) = allowed.get(&from) else {
                wrong.insert(format!(
                    "{from} has no row in ARCHITECTURE.md's folder table"
                ));
                continue;
            };
            for (target, shown) in targets {
                let to = unit_of(&target);
                if to != from && !may.contains(&to) {
                    wrong.insert(format!(
                        "{} imports {to} ({shown}), which {from} may not",
                        relative(&file)
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{}",
        wrong.into_iter().collect::<Vec<_>>().join("\n")
    );
}
