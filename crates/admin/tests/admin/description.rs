//! The OpenAPI description: served, generated from the handlers, and matching MAS's contract
//! (`tests/contract/mas-admin-api-contract.json`, MAS 1.22's paths, operations, parameters and
//! schemas with the prose removed), operation by operation, and serving all of them.

use axum::http::StatusCode;
use serde_json::Value;

fn contract() -> Value {
    serde_json::from_str(include_str!("../contract/mas-admin-api-contract.json"))
        .expect("the contract is JSON")
}

/// The names of an operation's parameters, sorted; without our extensions, which say so.
fn parameter_names(operation: &Value) -> Vec<String> {
    let mut names: Vec<String> = operation["parameters"]
        .as_array()
        .map(|parameters| {
            parameters
                .iter()
                .filter(|p| {
                    !p["description"]
                        .as_str()
                        .is_some_and(|d| d.contains("not part of MAS"))
                })
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The status codes an operation answers with, sorted.
fn statuses(operation: &Value) -> Vec<String> {
    let mut codes: Vec<String> = operation["responses"]
        .as_object()
        .map(|responses| responses.keys().cloned().collect())
        .unwrap_or_default();
    codes.sort();
    codes
}

admin_test!(
    async fn the_description_is_served_and_matches_the_contract_operation_by_operation(
        world: World,
    ) {
        // The description needs no token: it says how to get one.
        let (status, spec) = world.call("GET", "/api/spec.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(spec["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
        assert!(spec["components"]["securitySchemes"]["oauth2"].is_object());
        let contract = contract();
        let ours = spec["paths"].as_object().expect("paths");
        assert!(!ours.is_empty());
        let mut compared = 0;
        for (path, item) in ours {
            // Our extensions, documented as such.
            if [
                "/api/admin/v1/users/{id}/allow-cross-signing-reset",
                "/api/admin/v1/users/{id}/remove-second-factors",
                "/api/admin/v1/users/{id}/login-tokens",
                "/api/admin/v1/login-tokens/{id}",
            ]
            .contains(&path.as_str())
            {
                for operation in item.as_object().expect("a path item").values() {
                    let description = operation["description"].as_str().unwrap_or_default();
                    assert!(description.contains("not part of MAS"), "{path}: {item}");
                }
                continue;
            }
            let theirs = &contract["paths"][path];
            assert!(theirs.is_object(), "{path} is not in MAS's Admin API");
            for (method, operation) in item.as_object().expect("a path item") {
                let expected = &theirs[method];
                assert!(
                    expected.is_object(),
                    "{method} {path} is not in MAS's Admin API"
                );
                assert_eq!(
                    operation["operationId"], expected["operationId"],
                    "{method} {path}"
                );
                assert_eq!(
                    parameter_names(operation),
                    parameter_names(expected),
                    "{method} {path}"
                );
                // Every status MAS documents; beyond them, only 400 for malformed input and 409
                // for a conflict MAS leaves undocumented.
                let ours = statuses(operation);
                let theirs = statuses(expected);
                assert!(
                    theirs.iter().all(|code| ours.contains(code))
                        && ours
                            .iter()
                            .all(|code| theirs.contains(code) || code == "400" || code == "409"),
                    "{method} {path}: {ours:?} against MAS's {theirs:?}"
                );
                assert_eq!(
                    operation["requestBody"].is_object(),
                    expected["requestBody"].is_object(),
                    "{method} {path}"
                );
                compared += 1;
            }
        }
        // And every operation of MAS's Admin API is served.
        let mut missing = Vec::new();
        let mut theirs = 0;
        for (path, item) in contract["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("a path item").keys() {
                theirs += 1;
                if !ours.get(path).is_some_and(|ours| ours[method].is_object()) {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        assert_eq!(
            missing,
            Vec::<String>::new(),
            "operations of MAS not served"
        );
        assert_eq!(compared, theirs);

        let (status, page) = world.call("GET", "/api/doc/", None, None).await;
        assert_eq!(status, StatusCode::OK);
        let page = page.as_str().expect("a page");
        assert!(page.contains("SwaggerUIBundle") && page.contains("/api/spec.json"));
    }
);
