//! No import cycles between the files of the services crate or the store crate:
//! the modules form layers, each file using only files below it. A cycle is
//! legal Rust but means neither file can be read (or moved) without the other.
//!
//! The graph is read from the source text: an edge A → B when A names an item of
//! B through `use crate::…`, `use super::…`, `use self::…`, a relative `use` of
//! a child module, or such a path inline in code (`crate::x::f()`, `super::y::Z`,
//! `child::f()`). A path goes to the file of its longest module prefix. `mod x;`
//! declarations are not edges (a parent owning its children is not a use), and
//! naming a re-export counts as using the re-exporting file. Unit-test modules
//! count like any other code. Comments and string literals are skipped.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// One file's module path below the crate root (`[]` for lib.rs, `["http", "auth"]`).
type ModPath = Vec<String>;

/// The edges of one file: target file → the paths that named it.
type Edges = BTreeMap<PathBuf, BTreeSet<String>>;

/// Every `.rs` file under `src` (binaries in `src/bin/` are crates of their
/// own and left out), by module path.
fn modules(src: &Path) -> BTreeMap<ModPath, PathBuf> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<ModPath, PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read the source dir").flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let path = e.path();
            if path.is_dir() {
                if path != src.join("bin") {
                    walk(&path, src, out);
                }
                continue;
            }
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut segs: ModPath = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            if matches!(segs.last().map(String::as_str), Some("mod")) || rel == Path::new("lib") {
                segs.pop();
            }
            out.insert(segs, path);
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The source with comments, string and char literals blanked out.
fn code_only(text: &str) -> Vec<char> {
    let s: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(s.len());
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (i == 0 || !ident(s[i - 1]) || s[i - 1] == 'b') && matches!(next, Some('"' | '#')) {
            // A raw string r"…", r#"…"#, br"…" (or a raw identifier r#name).
            let mut j = i + 1;
            while s.get(j) == Some(&'#') {
                j += 1;
            }
            if s.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            j += 1;
            while j < s.len() && !(s[j] == '"' && (1..=hashes).all(|k| s.get(j + k) == Some(&'#'))) {
                j += 1;
            }
            i = j + 1 + hashes;
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < s.len() && s[i] != '"' {
                i += if s[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' && next == Some('\\') {
            i += 3;
            while i < s.len() && s[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' && s.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push(' ');
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Identifiers, `::` and single punctuation characters.
fn tokens(code: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let c = code[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < code.len() && (code[i].is_alphanumeric() || code[i] == '_') {
                i += 1;
            }
            out.push(code[start..i].iter().collect());
        } else if c == ':' && code.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else if c.is_whitespace() || c.is_ascii_digit() {
            i += 1;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// The paths of a `use` tree starting at `toks[*i]`, up to its `;`.
fn use_tree(toks: &[String], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    while *i < toks.len() {
        let t = toks[*i].as_str();
        match t {
            "::" => *i += 1,
            "{" => {
                *i += 1;
                loop {
                    use_tree(toks, i, &path, out);
                    match toks.get(*i).map(String::as_str) {
                        Some(",") => *i += 1,
                        _ => break,
                    }
                    if toks.get(*i).map(String::as_str) == Some("}") {
                        break;
                    }
                }
                *i += 1; // the `}`
                return;
            }
            "," | "}" | ";" => break,
            "as" => *i += 2,
            "*" => *i += 1,
            "self" if !path.is_empty() => *i += 1,
            _ => {
                path.push(t.to_owned());
                *i += 1;
            }
        }
    }
    out.push(path);
}

/// Where each file's paths lead: file → (file → the paths naming it).
fn graph(src: &Path) -> BTreeMap<PathBuf, Edges> {
    let modules = modules(src);
    let is_module = |p: &[String]| modules.contains_key(p);
    let mut graph = BTreeMap::new();
    for (file_mod, file) in &modules {
        let toks = tokens(&code_only(&std::fs::read_to_string(file).expect("read a source file")));
        let mut edges = Edges::new();
        // Inline `mod name {` scopes: (name, the brace depth they close at).
        let mut scopes: Vec<(String, usize)> = Vec::new();
        let mut depth = 0;
        let mut i = 0;
        while i < toks.len() {
            let here: ModPath = file_mod.iter().cloned().chain(scopes.iter().map(|(n, _)| n.clone())).collect();
            let t = toks[i].as_str();
            let prev = if i > 0 { toks[i - 1].as_str() } else { "" };
            let mut found: Vec<Vec<String>> = Vec::new();
            match t {
                "{" => depth += 1,
                "}" => {
                    if scopes.last().is_some_and(|(_, d)| *d == depth) {
                        scopes.pop();
                    }
                    depth -= 1;
                }
                "mod" if toks.get(i + 2).map(String::as_str) == Some("{") => {
                    scopes.push((toks[i + 1].clone(), depth + 1));
                }
                "pub" if toks.get(i + 1).map(String::as_str) == Some("(") => {
                    // `pub(in crate::x)` restricts visibility; it names no item.
                    while i < toks.len() && toks[i] != ")" {
                        i += 1;
                    }
                }
                "use" => {
                    i += 1;
                    use_tree(&toks, &mut i, &[], &mut found);
                    // Relative `use child::…` is a use of a child module; other
                    // first segments are external crates.
                    found.retain(|p| {
                        let first = p.first().map(String::as_str).unwrap_or("");
                        matches!(first, "crate" | "super" | "self")
                            || is_module(&[here.clone(), vec![first.into()]].concat())
                    });
                    for p in &mut found {
                        if !matches!(p[0].as_str(), "crate" | "super" | "self") {
                            p.insert(0, "self".into());
                        }
                    }
                }
                _ if prev != "::"
                    && prev != "$"
                    && toks.get(i + 1).map(String::as_str) == Some("::")
                    && (matches!(t, "crate" | "super" | "self")
                        || is_module(&[here.clone(), vec![t.to_owned()]].concat())) =>
                {
                    let mut p = vec![t.to_owned()];
                    let mut j = i + 1;
                    while toks.get(j).map(String::as_str) == Some("::")
                        && toks.get(j + 1).is_some_and(|n| n.starts_with(|c: char| c.is_alphabetic() || c == '_'))
                    {
                        p.push(toks[j + 1].clone());
                        j += 2;
                    }
                    if p[0] != "crate" && p[0] != "super" && p[0] != "self" {
                        p.insert(0, "self".into());
                    }
                    found.push(p);
                }
                _ => {}
            }
            for p in found {
                let shown = p.join("::");
                let mut abs = here.clone();
                let mut rest = p.as_slice();
                match rest.first().map(String::as_str) {
                    Some("crate") => {
                        abs.clear();
                        rest = &rest[1..];
                    }
                    Some("self") => rest = &rest[1..],
                    _ => {}
                }
                while rest.first().map(String::as_str) == Some("super") {
                    abs.pop();
                    rest = &rest[1..];
                }
                abs.extend(rest.iter().cloned());
                let target = (0..=abs.len()).rev().find_map(|n| modules.get(&abs[..n]));
                if let Some(target) = target.filter(|t| *t != file) {
                    edges.entry(target.clone()).or_default().insert(shown);
                }
            }
            i += 1;
        }
        graph.insert(file.clone(), edges);
    }
    graph
}

/// Each import cycle under `src`, as a readable path `a.rs -(names)-> b.rs -> … -> a.rs`.
fn cycles(src: &Path) -> Vec<String> {
    cycles_by_files(src).into_iter().map(|(_, text)| text).collect()
}

/// Each import cycle under `src`: its files (relative, sorted, space-separated) and its path.
fn cycles_by_files(src: &Path) -> Vec<(String, String)> {
    let graph = graph(src);
    let rel = |p: &Path| p.strip_prefix(src).unwrap_or(p).display().to_string();
    let mut reported: BTreeSet<BTreeSet<PathBuf>> = BTreeSet::new();
    let mut out = Vec::new();
    for start in graph.keys() {
        // The shortest way from `start` back to itself, if any.
        let mut came_from: BTreeMap<&PathBuf, &PathBuf> = BTreeMap::new();
        let mut queue: VecDeque<&PathBuf> = graph[start].keys().collect();
        for n in graph[start].keys() {
            came_from.insert(n, start);
        }
        while let Some(n) = queue.pop_front() {
            if n == start {
                break;
            }
            for m in graph.get(n).into_iter().flat_map(|e| e.keys()) {
                if !came_from.contains_key(m) {
                    came_from.insert(m, n);
                    queue.push_back(m);
                }
            }
        }
        if !came_from.contains_key(start) {
            continue;
        }
        let mut back = Vec::new();
        let mut at = came_from[start];
        while at != start {
            back.push(at);
            at = came_from[at];
        }
        let ring: Vec<&PathBuf> = std::iter::once(start).chain(back.into_iter().rev()).collect();
        if !reported.insert(ring.iter().map(|p| (*p).clone()).collect()) {
            continue;
        }
        let mut text = rel(start);
        for pair in ring.iter().chain([&start]).collect::<Vec<_>>().windows(2) {
            let names: Vec<_> = graph[*pair[0]][*pair[1]].iter().cloned().collect();
            text.push_str(&format!(" -({})-> {}", names.join(", "), rel(pair[1])));
        }
        let mut files: Vec<String> = ring.iter().map(|p| rel(p)).collect();
        files.sort();
        out.push((files.join(" "), text));
    }
    out
}

fn assert_no_cycles(src: &Path) {
    assert!(src.join("lib.rs").exists(), "{} is a crate's src", src.display());
    let found = cycles(src);
    assert!(found.is_empty(), "import cycles under {}:\n{}", src.display(), found.join("\n"));
}

#[test]
fn the_services_crate_has_no_import_cycle() {
    assert_no_cycles(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
}

/// The store's cycles when this check was written (a parent module and its
/// children using each other; the SQL engine and its parts). The store is being
/// restructured separately: remove each line as its cycle goes; a cycle not
/// listed here fails the test.
const KNOWN_STORE_CYCLES: &[&str] = &[
    "conversations.rs engine.rs",
    "filter.rs sql.rs",
    "lib.rs postgres/mod.rs",
    "postgres/log.rs postgres/mod.rs",
    "rows.rs sql.rs",
    "sqlite/log.rs sqlite/mod.rs",
    "lib.rs sqlite/mod.rs",
    "engine.rs writer.rs",
];

#[test]
fn the_store_crate_has_no_new_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../todo-store/src");
    assert!(src.join("lib.rs").exists(), "{} is a crate's src", src.display());
    let new: Vec<String> = cycles_by_files(&src)
        .into_iter()
        .filter(|(files, _)| !KNOWN_STORE_CYCLES.contains(&files.as_str()))
        .map(|(_, text)| text)
        .collect();
    assert!(new.is_empty(), "import cycles under {}:\n{}", src.display(), new.join("\n"));
}

/// A small crate written to a temporary directory.
fn planted(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("module-cycles-{}-{}", std::process::id(), rand::random::<u64>()));
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn the_checker_finds_cycles_and_only_cycles() {
    let acyclic = planted(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub use a::A;\n"),
        ("a.rs", "use crate::b::B; // crate::c::C in a comment\npub struct A(B);\nconst S: &str = \"crate::c::C\";\n"),
        ("b/mod.rs", "pub mod inner;\npub use self::inner::B;\n"),
        ("b/inner.rs", "pub struct B;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::c::C;\n}\n"),
        ("c.rs", "pub struct C;\nfn f() -> char { '\"' }\nfn g<'a>(x: &'a str) -> &'a str { x }\n"),
        ("bin/tool.rs", "use todo::a::A;\n"),
    ]);
    assert_eq!(cycles(&acyclic), Vec::<String>::new());
    std::fs::remove_dir_all(acyclic).unwrap();

    let cyclic = planted(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n"),
        ("a.rs", "use crate::b::{self, B};\npub struct A;\n"),
        ("b/mod.rs", "pub mod inner;\npub use inner::B;\n"),
        ("b/inner.rs", "pub struct B;\nfn f() { let _ = super::super::c::make(); }\n"),
        ("c.rs", "pub fn make() -> crate::a::A { crate::a::A }\n"),
    ]);
    let found = cycles(&cyclic);
    std::fs::remove_dir_all(&cyclic).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    for part in ["a.rs", "b/mod.rs", "b/inner.rs", "c.rs", "crate::a::A", "super::super::c::make"] {
        assert!(found[0].contains(part), "{part} in {}", found[0]);
    }

    // A parent module using its child while the child uses the parent is a cycle.
    let parent_child = planted(&[
        ("lib.rs", "pub mod http;\n"),
        ("http/mod.rs", "pub mod error;\npub const LIMIT: usize = 1;\npub fn f() { error::fail() }\n"),
        ("http/error.rs", "pub fn fail() { let _ = super::LIMIT; }\n"),
    ]);
    let found = cycles(&parent_child);
    std::fs::remove_dir_all(&parent_child).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
}
