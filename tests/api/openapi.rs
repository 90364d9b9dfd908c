//! The OpenAPI documents: they list exactly the routes of `app::router` (the drift guard), describe
//! the API key and the tokens, and the Swagger UI page and its files are served with their types.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::TestApp;

/// `(METHOD, path)` of every route of the route table, read from `src/app.rs` itself: each
/// `.route("<path>", <method>(...)...)` call, with `{*rest}` written `{rest}` as OpenAPI does.
/// The web site's pages (`/`, `/fr/…`, `/en/…`, `/static/…`) are not API operations: left out.
fn router_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../../src/app.rs");
    let mut routes = BTreeSet::new();
    for call in source.split(".route(").skip(1) {
        let Some(path) = call
            .trim_start()
            .strip_prefix('"')
            .and_then(|p| p.split('"').next())
        else {
            continue;
        };
        if is_site_page(path) {
            continue;
        }
        // The call's arguments: up to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(call.len(), |(i, _)| i);
        let args = &call[..end];
        for method in ["get", "post", "put", "delete", "patch"] {
            let called = args.match_indices(&format!("{method}(")).any(|(i, _)| {
                i == 0 || !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if called {
                routes.insert((method.to_uppercase(), path.replace("{*", "{")));
            }
        }
    }
    routes
}

/// Whether a route is one of the web site's pages (see `app::router`).
fn is_site_page(path: &str) -> bool {
    matches!(path, "/" | "/fr" | "/en")
        || ["/fr/", "/en/", "/static/"]
            .iter()
            .any(|p| path.starts_with(p))
}

/// `(METHOD, path)` of every operation of a document, paths without their trailing slash (the
/// router sees them so).
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let path = match path.trim_end_matches('/') {
            "" => "/",
            p => p,
        };
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.to_uppercase(), path.to_string()));
        }
    }
    ops
}

#[tokio::test]
async fn the_documents_list_exactly_the_routes_of_the_router() {
    let app = TestApp::new().await;
    let v1 = app.get("/api/1/swagger.json", None).await;
    assert_eq!(v1.status, 200);
    let v2 = app.get("/api/2/swagger.json", None).await;
    assert_eq!(v2.status, 200);
    let mut in_docs = documented(&v1.json());
    let in_v2 = documented(&v2.json());
    assert!(
        in_v2.iter().all(|(_, p)| p.starts_with("/api/2/")),
        "{in_v2:?}"
    );
    in_docs.extend(in_v2);
    let in_router = router_routes();
    // The reading of app.rs itself is checked: it finds the routes we know.
    assert!(in_router.len() > 60, "{in_router:?}");
    assert!(in_router.contains(&("DELETE".into(), "/api/1/me/api_tokens/{id}".into())));
    assert!(in_router.contains(&("GET".into(), "/s/{key}".into())));
    let undocumented: Vec<_> = in_router.difference(&in_docs).collect();
    let unrouted: Vec<_> = in_docs.difference(&in_router).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI documents (src/api/openapi/v1.rs, v2.rs): {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "operations documented but not routed: {unrouted:?}"
    );
}

#[tokio::test]
async fn every_documented_operation_is_answered_by_its_route() {
    let app = TestApp::new().await;
    for version in ["1", "2"] {
        let doc = app
            .get(&format!("/api/{version}/swagger.json"), None)
            .await
            .json();
        for (method, path) in documented(&doc) {
            // Path parameters filled with a value that names nothing.
            let concrete = path
                .split('/')
                .map(|s| if s.starts_with('{') { "nothing" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let method = axum::http::Method::from_bytes(method.as_bytes()).unwrap();
            let r = app
                .request(method.clone(), &concrete, Some(&app.admin_key), None)
                .await;
            assert_ne!(r.status, 405, "{method} {path}");
            assert!(r.status.as_u16() < 500, "{method} {path}: {}", r.status);
        }
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_api_key_and_the_error_shapes() {
    let app = TestApp::new().await;
    let doc = app.get("/api/1/swagger.json", None).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let scheme = &doc["components"]["securitySchemes"]["apikey"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "X-API-KEY");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Message"]["required"],
        serde_json::json!(["message"])
    );
    assert!(schemas["ValidationErrors"]["properties"]["errors"].is_object());
    // Tokens: scopes and expiry.
    let token = &schemas["ApiToken"]["properties"];
    assert!(
        token["scopes"]["items"]["pattern"]
            .as_str()
            .unwrap()
            .contains("organization:")
    );
    assert!(token["expires_at"].is_object());
    assert!(schemas["ApiTokenInput"]["properties"]["scopes"].is_object());
    // An operation that needs a key says so; a read takes one or none.
    let create = &doc["paths"]["/api/1/datasets/"]["post"];
    assert_eq!(create["security"], serde_json::json!([{"apikey": []}]));
    let list = &doc["paths"]["/api/1/datasets/"]["get"];
    assert_eq!(list["security"], serde_json::json!([{}, {"apikey": []}]));
    assert!(list["responses"]["400"].is_object());
    let upload = &doc["paths"]["/api/1/datasets/{id}/upload/"]["post"];
    assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object());
}

#[tokio::test]
async fn swagger_ui_is_served_with_its_files_and_their_types() {
    let app = TestApp::new().await;
    for path in ["/api/1/", "/api/1"] {
        let page = app.get(path, None).await;
        assert_eq!(page.status, 200);
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(page.text().contains("swagger-ui-bundle.js"));
        let policy = page.header("content-security-policy").unwrap();
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert_eq!(page.header("x-content-type-options").unwrap(), "nosniff");
    }
    for (file, kind) in [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui-standalone-preset.js", "text/javascript"),
        ("rudata-init.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("LICENSE", "text/plain"),
    ] {
        let r = app.get(&format!("/api/1/swagger-ui/{file}"), None).await;
        assert_eq!(r.status, 200, "{file}");
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{file}"
        );
        assert!(r.body.len() > 100, "{file}");
    }
    let init = app
        .get("/api/1/swagger-ui/rudata-init.js", None)
        .await
        .text();
    assert!(init.contains("/api/1/swagger.json") && init.contains("/api/2/swagger.json"));
    // The page sends nothing to a third party (Swagger UI's default validator badge would).
    assert!(init.contains("validatorUrl: null"));
    let missing = app.get("/api/1/swagger-ui/../../secret.key", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        app.get("/api/1/swagger-ui/index.js", None).await.status,
        404
    );
}
