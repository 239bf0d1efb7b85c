//! The layer picture of the README holds: no cycle between source files, and no arrow from a
//! lower layer up — `domain`, `media` and `storage` use nothing of ours, `db` only `domain`,
//! `app` no `sqlx` and no `actix`, `http` only `app` and `domain`. Read from the source's `crate::`/`super::` paths (test
//! modules left out), with `db/sql/` placed where it is compiled (`db::sqlite::sql`).

use std::collections::{BTreeMap, BTreeSet};

/// Every source file by its module path (`["app", "photos"]` for `src/app/photos.rs`).
fn modules() -> BTreeMap<Vec<String>, (String, String)> {
    let mut out = BTreeMap::new();
    for (rel, code) in crate::helpers::source_files() {
        let Some(stem) = rel.strip_suffix(".rs") else { continue };
        let mut parts: Vec<String> = stem.split('/').map(String::from).collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            parts.pop();
        }
        if parts.first().map(String::as_str) == Some("db") && parts.get(1).map(String::as_str) == Some("sql") {
            parts.splice(0..2, ["db".to_string(), "sqlite".to_string(), "sql".to_string()]);
        }
        let code: String = code.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        out.insert(parts, (rel, code));
    }
    out
}

/// The files a file's paths name: the longest module prefix of each `crate::…`, `super::…` or
/// `self::…` path, of each name in a `use …::{a, b}` group, and of each path that starts with one
/// of the file's own child modules (`pub use error::AppError` in `app/mod.rs`).
fn edges(mods: &BTreeMap<Vec<String>, (String, String)>) -> BTreeMap<String, BTreeSet<String>> {
    let group = regex::Regex::new(r"\b((?:crate|super|self)(?:::\w+)*)::\{([^}]*)\}").unwrap();
    let path = regex::Regex::new(r"\b(?:crate|super|self)(?:::\w+)+").unwrap();
    let child = regex::Regex::new(r"(?m)^\s*(?:pub(?:\([a-z]+\))? )?mod (\w+);").unwrap();
    let mut out = BTreeMap::new();
    for (module, (rel, code)) in mods {
        let resolve = |segments: &[&str]| -> Option<String> {
            let mut full: Vec<String> = match segments.first() {
                Some(&"crate") => Vec::new(),
                _ => module.clone(),
            };
            for s in segments {
                match *s {
                    "crate" | "self" => {}
                    "super" => {
                        full.pop();
                    }
                    other => full.push(other.to_string()),
                }
            }
            (1..=full.len()).rev().find_map(|n| mods.get(&full[..n])).map(|t| t.0.clone())
        };
        let mut paths: Vec<Vec<String>> = Vec::new();
        for c in group.captures_iter(code) {
            for name in c[2].split(',') {
                let name = name.trim().split("::").next().unwrap_or("").trim_start_matches('{').trim();
                if !name.is_empty() && name != "self" && name != "*" {
                    paths.push(c[1].split("::").chain([name]).map(String::from).collect());
                }
            }
        }
        paths.extend(path.find_iter(code).map(|m| m.as_str().split("::").map(String::from).collect()));
        // Paths from a child module of this file, written without `self::`.
        let children: Vec<String> = child.captures_iter(code).map(|c| c[1].to_string()).collect();
        if !children.is_empty() {
            let relative = regex::Regex::new(&format!(r"(?:^|[^:\w])((?:{})(?:::\w+)*)::", children.join("|"))).unwrap();
            for c in relative.captures_iter(code) {
                paths.push(["self"].into_iter().chain(c[1].split("::")).map(String::from).collect());
            }
        }
        let mut targets = BTreeSet::new();
        for p in paths {
            let segments: Vec<&str> = p.iter().map(String::as_str).collect();
            if let Some(target) = resolve(&segments) {
                if &target != rel {
                    targets.insert(target);
                }
            }
        }
        out.insert(rel.clone(), targets);
    }
    out
}

fn layer(file: &str) -> &str {
    file.split('/').next().unwrap_or(file).trim_end_matches(".rs")
}

#[test]
fn no_file_depends_on_itself_through_others() {
    let graph = edges(&modules());
    // Depth-first search for a back edge; report the cycle it closes.
    fn visit<'a>(
        f: &'a str,
        g: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(f, 1);
        stack.push(f);
        for t in g.get(f).into_iter().flatten() {
            match state.get(t.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|s| *s == t).unwrap_or(0);
                    return Some(stack[from..].iter().map(|s| s.to_string()).chain([t.clone()]).collect());
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(t, g, state, stack) {
                        return Some(cycle);
                    }
                }
            }
        }
        stack.pop();
        state.insert(f, 2);
        None
    }
    let mut state = BTreeMap::new();
    for f in graph.keys() {
        if !state.contains_key(f.as_str()) {
            if let Some(cycle) = visit(f, &graph, &mut state, &mut Vec::new()) {
                panic!("a cycle between source files: {}", cycle.join(" → "));
            }
        }
    }
    assert!(
        graph.len() > 50 && graph["app/photos.rs"].contains("app/evidence.rs"),
        "the scan reads the tree: {:?}",
        graph.get("app/photos.rs")
    );
}

#[test]
fn every_arrow_points_down() {
    let allowed: BTreeMap<&str, &[&str]> = [
        ("domain", &[][..]),
        ("media", &[]),
        ("storage", &[]),
        ("db", &["domain"]),
        ("app", &["domain", "media", "db", "storage", "metrics"]),
        // The entry points: the API through the use cases only; the worker drives the job
        // queue's own records (claim, heartbeat, fail) through `db` and runs each job in `app`.
        ("http", &["app", "domain"]),
        ("jobs", &["app", "config", "db"]),
    ]
    .into_iter()
    .collect();
    let mods = modules();
    let mut wrong = Vec::new();
    for (file, targets) in edges(&mods) {
        let Some(may) = allowed.get(layer(&file)) else { continue };
        for t in targets {
            if layer(&t) != layer(&file) && !may.contains(&layer(&t)) {
                wrong.push(format!("{file} → {t}"));
            }
        }
    }
    for (rel, code) in mods.values() {
        if layer(rel) == "app" && ["sqlx::", "actix_web::", "actix_multipart::"].iter().any(|c| code.contains(c)) {
            wrong.push(format!("{rel} names sqlx or actix"));
        }
    }
    assert!(wrong.is_empty(), "arrows up the layers:\n{}", wrong.join("\n"));
}
