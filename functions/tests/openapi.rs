//! The OpenAPI document against the route table (the single source), and the
//! docs page's independence from any CDN.

use std::collections::BTreeSet;

use functions::routes::Access;
use functions::{ROUTES, openapi};
use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(openapi::json()).expect("the document is JSON")
}

#[test]
fn the_served_copy_is_what_the_types_generate() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, openapi::json()).expect("write src/openapi.json");
    }
    let committed: Value = serde_json::from_str(openapi::COMMITTED).expect("src/openapi.json is JSON");
    assert!(
        committed == document(),
        "src/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo nextest run -p functions --test openapi`"
    );
}

#[test]
fn the_document_has_exactly_the_routes_of_the_table() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut in_doc = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            in_doc.insert((method.to_uppercase(), path.clone()));
        }
    }
    let in_table: BTreeSet<(String, String)> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    assert_eq!(in_doc, in_table);
}

#[test]
fn protected_operations_declare_the_bearer_token_and_401() {
    let doc = document();
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    for r in ROUTES {
        let op = &doc["paths"][r.path][r.method.to_lowercase()];
        assert_eq!(op["operationId"], r.function, "operation ids are the functions' names, so unique");
        let secured = op["security"].is_array();
        assert_eq!(secured, r.access == Access::Token, "{r:?}");
        assert_eq!(op["responses"]["401"].is_object(), r.access == Access::Token, "{r:?}");
        assert!(op["responses"]["200"].is_object(), "{r:?} documents its answer");
        for (param, _) in r.param_names().map(|p| (p, ())) {
            let params = op["parameters"].as_array().unwrap_or_else(|| panic!("{r:?} has parameters"));
            assert!(params.iter().any(|p| p["name"] == param && p["in"] == "path"), "{r:?} documents {param}");
        }
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&doc, &mut refs);
    assert!(refs.len() > 20);
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
        assert!(schemas.contains_key(name), "{r} is defined");
    }
    for name in ["EnqueueRequest", "UserTaskRequest", "EnqueueReply", "JobView", "ValidationBody", "ErrorBody"] {
        assert!(schemas.contains_key(name), "{name}");
    }
}

#[test]
fn the_job_schema_lists_every_field_the_api_sends() {
    let doc = document();
    let props: BTreeSet<&str> =
        doc["components"]["schemas"]["JobView"]["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    let job = taskq::Job::from_hash(
        "8b0c5ab4-3f7a-4d39-9e1e-1f6f1b2f4a10",
        [
            ("status", "queued"),
            ("task", "long_task"),
            ("queue", "default"),
            ("args", "{}"),
            ("created_at", "2026-11-29T10:49:28.123456Z"),
            ("timeout", "600"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    )
    .unwrap()
    .unwrap();
    let sent = serde_json::to_value(functions::views::JobView::from(job)).unwrap();
    let sent: BTreeSet<&str> = sent.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(props, sent);
}

#[test]
fn the_docs_page_loads_nothing_from_elsewhere() {
    let page = functions::handlers::docs::PAGE;
    for outside in ["http://", "https://", "//cdn", "<link", "src="] {
        assert!(!page.contains(outside), "the docs page refers to {outside}");
    }
    assert!(page.contains("openapi.json"));
}
