//! template.yaml, the route table, the OpenAPI document and local/env.json
//! describe the same API: every route has exactly one function in the
//! template with its method, path and binary, and nothing else is there.
//!
//! The template is read with a YAML parser that drops CloudFormation's short
//! tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`): a tagged scalar reads as its text,
//! a tagged list as the list, which is all these checks need.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use functions::ROUTES;
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Yaml {
    let text = std::fs::read_to_string(repo().join("template.yaml")).expect("template.yaml");
    YamlLoader::load_from_str(&text).expect("template.yaml is YAML").remove(0)
}

/// (method, path, binary) of one function in the template.
type Endpoint = (String, String, String);

/// Every `AWS::Serverless::Function` of the template: its logical id and endpoint.
fn template_functions(t: &Yaml) -> Vec<(String, Endpoint)> {
    let resources = t["Resources"].as_hash().expect("Resources");
    let mut found = Vec::new();
    for (id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().expect("logical id").to_owned();
        assert_eq!(resource["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{id}: BuildMethod");
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary"));
        let events = resource["Properties"]["Events"].as_hash().unwrap_or_else(|| panic!("{id}: Events"));
        assert_eq!(events.len(), 1, "{id}: one event per function");
        let event = events.values().next().expect("one event");
        assert_eq!(event["Type"].as_str(), Some("HttpApi"), "{id}: an HTTP API event");
        let props = &event["Properties"];
        assert_eq!(props["ApiId"].as_str(), Some("HttpApi"), "{id}: on the stack's HTTP API");
        let method = props["Method"].as_str().unwrap_or_else(|| panic!("{id}: Method"));
        let path = props["Path"].as_str().unwrap_or_else(|| panic!("{id}: Path"));
        found.push((id, (method.to_uppercase(), path.to_owned(), binary.to_owned())));
    }
    found
}

/// `enqueue_task_a` -> `EnqueueTaskAFunction`: the logical id local/env.json uses.
fn logical_id(binary: &str) -> String {
    let camel: String = binary
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    camel + "Function"
}

fn route_endpoints() -> BTreeSet<Endpoint> {
    ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned(), r.function.to_owned())).collect()
}

fn differences<T: Ord + std::fmt::Debug>(left: &BTreeSet<T>, right: &BTreeSet<T>) -> String {
    format!(
        "only in the route table: {:?}\nonly in the other: {:?}",
        left.difference(right).collect::<Vec<_>>(),
        right.difference(left).collect::<Vec<_>>()
    )
}

#[test]
fn every_route_has_its_function_and_no_other() {
    let functions = template_functions(&template());
    let in_template: BTreeSet<Endpoint> = functions.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(in_template.len(), functions.len(), "two functions in the template serve the same endpoint");
    let routes = route_endpoints();
    assert_eq!(
        routes,
        in_template,
        "template.yaml and functions/src/routes.rs differ:\n{}",
        differences(&routes, &in_template)
    );
}

#[test]
fn functions_are_named_after_their_binaries() {
    for (id, (_, _, binary)) in template_functions(&template()) {
        assert_eq!(id, logical_id(&binary), "the function building {binary}");
        let main = repo().join("functions/src/bin").join(format!("{binary}.rs"));
        assert!(main.is_file(), "{id} builds {binary}, but {} does not exist", main.display());
    }
}

#[test]
fn openapi_lists_the_same_operations() {
    let doc = functions::openapi::document();
    let mut documented = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, op) in methods {
            if op.is_some() {
                documented.insert((method.to_owned(), path.clone()));
            }
        }
    }
    let in_template: BTreeSet<(String, String)> =
        template_functions(&template()).into_iter().map(|(_, (method, path, _))| (method, path)).collect();
    assert_eq!(
        in_template,
        documented,
        "template.yaml and the OpenAPI document differ:\n{}",
        differences(&in_template, &documented)
    );
}

#[test]
fn sam_local_environment_covers_every_function() {
    let text = std::fs::read_to_string(repo().join("local/env.json")).expect("local/env.json");
    let env: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).expect("local/env.json is JSON");
    let in_env: BTreeSet<String> = env.keys().cloned().collect();
    let ids: BTreeSet<String> = template_functions(&template()).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, in_env, "local/env.json needs one entry per function:\n{}", differences(&ids, &in_env));
    let declared = template()["Globals"]["Function"]["Environment"]["Variables"]
        .as_hash()
        .expect("Globals.Function.Environment.Variables")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect::<BTreeSet<_>>();
    for (id, vars) in &env {
        let vars: BTreeSet<String> = vars.as_object().expect("variables").keys().cloned().collect();
        // `sam local` only sets the variables the template declares.
        assert!(vars.is_subset(&declared), "{id}: {:?} are not in the template", vars.difference(&declared));
        assert!(vars.contains("REDIS_URL"), "{id}: REDIS_URL");
    }
}

#[test]
fn logical_ids_are_camel_case() {
    assert_eq!(logical_id("health"), "HealthFunction");
    assert_eq!(logical_id("enqueue_task_a"), "EnqueueTaskAFunction");
}

/// The function names in the `"options": [...]` list of a VS Code file
/// (JSON with comments, so read as text).
fn vscode_function_options(file: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let start = text.find("\"options\": [").unwrap_or_else(|| panic!("{file}: no options list")) + 12;
    let end = start + text[start..].find(']').unwrap_or_else(|| panic!("{file}: options list not closed"));
    text[start..end].split(',').map(|s| s.trim().trim_matches('"').to_owned()).filter(|s| !s.is_empty()).collect()
}

#[test]
fn vscode_pick_lists_name_every_function() {
    let binaries: BTreeSet<String> = ROUTES.iter().map(|r| r.function.to_owned()).collect();
    for file in [".vscode/launch.json", ".vscode/tasks.json"] {
        let listed = vscode_function_options(file);
        assert_eq!(binaries, listed, "{file} lists other functions:\n{}", differences(&binaries, &listed));
    }
}
