//! The contract: `openapi.yaml` and the server agree. Every route of the server is documented,
//! every documented path is served, and every response any test receives validates against the
//! documented schema for its method, path and status.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).expect("openapi.yaml");
        serde_yaml_ng::from_str(&text).expect("openapi.yaml parses")
    })
}

/// Matches a concrete path (query stripped) against the spec's templates.
fn template_for(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    let paths = spec()["paths"].as_object()?;
    // Prefer templates with fewer parameters (literal segments win).
    let mut candidates: Vec<&String> = paths
        .keys()
        .filter(|t| {
            let tp: Vec<&str> = t.split('/').collect();
            tp.len() == parts.len() && tp.iter().zip(&parts).all(|(a, b)| (a.starts_with('{') && a.ends_with('}')) || a == b)
        })
        .collect();
    candidates.sort_by_key(|t| t.matches('{').count());
    candidates.first().map(|s| s.to_string())
}

type Validators = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

fn validator(pointer: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Validators> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(pointer) {
        return v.clone();
    }
    let schema = spec().pointer(pointer).unwrap_or_else(|| panic!("no schema at {pointer}")).clone();
    let mut root = json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "components": spec()["components"].clone() });
    if let Value::Object(map) = schema {
        for (k, v) in map {
            root[k] = v;
        }
    }
    let v = Arc::new(
        jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema at {pointer} does not compile: {e}")),
    );
    cache.lock().unwrap().insert(pointer.to_string(), v.clone());
    v
}

fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Panics unless the response is documented and its JSON body validates.
pub fn check_response(method: &str, path: &str, status: u16, content_type: &str, body: &Value) {
    let Some(template) = template_for(path) else {
        // Undocumented paths must be the server's problem+json 404.
        assert_eq!(status, 404, "{method} {path} is not in openapi.yaml but answered {status}");
        return;
    };
    let op = format!("/paths/{}/{}", escape(&template), method.to_lowercase());
    let Some(responses) = spec().pointer(&format!("{op}/responses")) else {
        // A method the path does not serve falls through to the problem+json 404.
        assert_eq!((status, body["code"].as_str()), (404, Some("route_not_found")), "{method} {template} is not documented");
        return;
    };
    let status_key = status.to_string();
    let response = responses
        .get(&status_key)
        .unwrap_or_else(|| panic!("{method} {template} answered {status}, which openapi.yaml does not document: {body}"));
    let response = resolve(response);
    let media = content_type.split(';').next().unwrap_or("").trim();
    let content = &response["content"];
    if content.is_null() {
        return;
    }
    let Some(media_obj) = content.get(media) else {
        panic!(
            "{method} {template} {status}: content type {media:?} is not documented (have {:?})",
            content.as_object().map(|o| o.keys().collect::<Vec<_>>())
        );
    };
    if !media.contains("json") {
        return;
    }
    let resolved_ptr = if response_ptr_is_ref(&responses[&status_key]) {
        format!("{}/content/{}/schema", ref_ptr(&responses[&status_key]), escape(media))
    } else {
        format!("{op}/responses/{status_key}/content/{}/schema", escape(media))
    };
    assert!(media_obj.get("schema").is_some(), "{method} {template} {status} has no schema");
    let v = validator(&resolved_ptr);
    let errors: Vec<String> = v.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{method} {path} {status}: response does not match openapi.yaml:\n{}\nbody: {body}", errors.join("\n"));
}

fn response_ptr_is_ref(v: &Value) -> bool {
    v.get("$ref").is_some()
}

fn ref_ptr(v: &Value) -> String {
    v["$ref"].as_str().unwrap().trim_start_matches('#').to_string()
}

fn resolve(v: &Value) -> &Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => spec().pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("unresolved {r}")),
        None => v,
    }
}

#[test]
fn every_route_is_documented_and_every_documented_path_is_served() {
    let served: BTreeSet<(String, String)> = fieldproof::http::route_table().into_iter().map(|(m, p)| (m.to_lowercase(), p)).collect();
    let mut documented = BTreeSet::new();
    for (path, item) in spec()["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(undocumented.is_empty(), "served but not in openapi.yaml: {undocumented:?}");
    assert!(unserved.is_empty(), "in openapi.yaml but not served: {unserved:?}");
}

#[test]
fn every_schema_compiles_and_every_ref_resolves() {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(spec(), &mut all);
    for r in &all {
        assert!(spec().pointer(r.trim_start_matches('#')).is_some(), "unresolved {r}");
    }
    for name in spec()["components"]["schemas"].as_object().unwrap().keys() {
        validator(&format!("/components/schemas/{}", escape(name)));
    }
}

/// The values of a string enum schema of the spec.
fn spec_enum(schema: &str) -> BTreeSet<String> {
    let values =
        spec()["components"]["schemas"][schema]["enum"].as_array().unwrap_or_else(|| panic!("{schema} has no enum in openapi.yaml"));
    values.iter().map(|v| v.as_str().expect("a string enum").to_string()).collect()
}

/// Every problem `code` the source can send: the codes given to the error constructors
/// (`AppError::invalid("…")`, `ApiError::new(StatusCode::…, "…")`, `code: "…"`) and the arms of
/// the `code()` mappings, in the layers that answer clients (`app`, `http`, `media`; the
/// repository's and the store's own codes never reach a client: they become 503 or 500).
fn codes_in_source() -> BTreeSet<String> {
    let call = regex::Regex::new(
        r#"\b(?:forbidden|not_found|conflict|invalid|bad_request|unprocessable|new)\(\s*(?:[\w:]*StatusCode::\w+,\s*)?"([a-z0-9_]+)""#,
    )
    .unwrap();
    let field = regex::Regex::new(r#"\bcode:\s*"([a-z0-9_]+)""#).unwrap();
    let arm = regex::Regex::new(r#"=>\s*"([a-z0-9_]+)""#).unwrap();
    let mappings = ["app/error.rs", "http/error.rs", "media/error.rs"];
    let mut codes = BTreeSet::new();
    for (rel, code) in crate::helpers::source_files() {
        if !["app/", "http/", "media/"].iter().any(|layer| rel.starts_with(layer)) {
            continue;
        }
        codes.extend(call.captures_iter(&code).chain(field.captures_iter(&code)).map(|c| c[1].to_string()));
        if mappings.contains(&rel.as_str()) {
            codes.extend(arm.captures_iter(&code).map(|c| c[1].to_string()));
        }
    }
    codes
}

#[test]
fn every_finding_code_and_error_code_is_in_the_spec() {
    let findings: BTreeSet<String> = fieldproof::domain::finding::FindingCode::ALL.iter().map(|c| c.as_str().to_string()).collect();
    assert_eq!(findings, spec_enum("FindingCode"), "FindingCode in openapi.yaml and the server's finding codes differ");
    // Every problem response the tests receive is validated against `ErrorCode` by
    // `check_response`; this also holds the codes no test happens to provoke.
    let source = codes_in_source();
    let documented = spec_enum("ErrorCode");
    assert!(source.len() > 50, "the scan found too few codes to be right: {source:?}");
    let undocumented: Vec<_> = source.difference(&documented).collect();
    let unused: Vec<_> = documented.difference(&source).collect();
    assert!(undocumented.is_empty(), "error codes the server sends but openapi.yaml's ErrorCode lacks: {undocumented:?}");
    assert!(unused.is_empty(), "ErrorCode values no code sends: {unused:?}");
}
