//! The layer picture of the README holds: no cycle between source files, and no arrow from a
//! lower layer up — `domain`, `media` and `storage` use nothing of ours, `db` only `domain`,
//! `app` no `sqlx` and no `actix`. Read from the source's `crate::`/`super::` paths (test
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

/// The files a file's paths name: the longest module prefix of each `crate::…`/`super::…` path.
fn edges(mods: &BTreeMap<Vec<String>, (String, String)>) -> BTreeMap<String, BTreeSet<String>> {
    let path = regex::Regex::new(r"\b((?:crate|super|self)(?:::\w+)+)(?:::\{([^}]*)\})?").unwrap();
    let mut out = BTreeMap::new();
    for (module, (rel, code)) in mods {
        let mut targets = BTreeSet::new();
        for c in path.captures_iter(code) {
            let segments: Vec<&str> = c[1].split("::").collect();
            let mut names: Vec<Vec<&str>> = vec![segments.clone()];
            if let Some(group) = c.get(2) {
                names = group
                    .as_str()
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or(""))
                    .filter(|n| !n.is_empty() && *n != "self")
                    .map(|n| [segments.clone(), vec![n]].concat())
                    .collect();
            }
            for name in names {
                let mut full: Vec<String> = match name[0] {
                    "crate" => Vec::new(),
                    _ => module.clone(),
                };
                for s in &name {
                    match *s {
                        "crate" | "self" => {}
                        "super" => {
                            full.pop();
                        }
                        other => full.push(other.to_string()),
                    }
                }
                if let Some(target) = (1..=full.len()).rev().find_map(|n| mods.get(&full[..n])) {
                    if &target.0 != rel {
                        targets.insert(target.0.clone());
                    }
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
