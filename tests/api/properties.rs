//! Property tests of the parsers that take raw input: slugs, tags, `X-Fields` masks, search words
//! and date ranges (pure), and through the whole service, query strings, JSON bodies and multipart
//! forms: whatever a client sends, no panic, no 5xx, and every error is JSON.

use axum::body::Body;
use axum::http::{Method, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rudata::api::mask::Mask;
use rudata::domain::dataset::normalize_tags;
use rudata::domain::search::{MAX_WORDS, SearchQuery, parse_date_range};
use rudata::domain::slug::{make_slug, slugify};
use serde_json::{Value, json};

use crate::helpers::{Part, TestApp, TestResponse};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Text with what clients really send: ASCII words and punctuation, accents, other scripts,
/// control characters, emoji.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        "[a-zA-Z0-9 àéèçôÉœßØ'._/-]{0,40}",
        any::<String>(),
        "[\\x00-\\x1f\u{7f}\u{200b}\u{feff}\u{1f600}\u{4e2d}\u{0645}]{0,20}",
    ]
}

#[test]
fn slugify_yields_only_slug_characters_and_is_idempotent() {
    runner(512)
        .run(&(text(), any::<bool>()), |(t, keep_dots)| {
            let s = slugify(&t, keep_dots);
            prop_assert!(
                s.chars().all(|c| c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || c == '-'
                    || (keep_dots && c == '.')),
                "{t:?} → {s:?}"
            );
            prop_assert!(!s.starts_with('-') && !s.ends_with('-'), "{t:?} → {s:?}");
            prop_assert!(!s.contains("--"), "{t:?} → {s:?}");
            prop_assert_eq!(
                slugify(&s, keep_dots),
                s.clone(),
                "not idempotent on {:?}",
                t
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_made_slug_is_never_empty_and_at_most_255_characters() {
    runner(512)
        .run(
            &prop_oneof![text(), "[a-z]{200,300}( [a-z]{1,80}){0,5}"],
            |t| {
                let s = make_slug(&t);
                prop_assert!(
                    !s.is_empty() && s.len() <= 255 + "-uuid".len(),
                    "{t:?} → {s:?}"
                );
                prop_assert!(
                    s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                );
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn tags_become_sorted_unique_slugs_of_3_to_96_characters_or_an_error() {
    runner(512)
        .run(&prop::collection::vec(text(), 0..8), |raw| {
            match normalize_tags(&raw) {
                Ok(tags) => {
                    let mut sorted = tags.clone();
                    sorted.sort();
                    sorted.dedup();
                    prop_assert_eq!(&sorted, &tags);
                    for tag in &tags {
                        prop_assert!((3..=96).contains(&tag.chars().count()), "{tag:?}");
                        prop_assert_eq!(slugify(tag, false), tag.clone());
                    }
                }
                Err(message) => prop_assert!(message.contains("between 3 and 96"), "{message}"),
            }
            Ok(())
        })
        .unwrap();
}

/// A dataset-like answer, nested objects and a list of objects included.
fn answer() -> Value {
    json!({
        "id": "1", "title": "t", "private": false, "tags": ["a"],
        "organization": {"id": "o", "name": "n", "permissions": {"edit": true}},
        "owner": null,
        "resources": [{"id": "r1", "url": "u", "checksum": {"type": "sha1"}}, {"id": "r2"}],
    })
}

fn mask_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_*{}, :\\-]{0,30}",
        "(id|title|resources|organization|owner|tags|\\*)(\\{(id|url|name|\\*)(,(id|url|checksum\\{type\\}))*\\})?(,(id|title|resources\\{id\\}|organization\\{name\\}|owner\\{id\\}))*",
        any::<String>(),
    ]
}

#[test]
fn masks_parse_and_apply_without_panicking_and_keep_only_what_they_name() {
    runner(1024)
        .run(&mask_text(), |text| {
            let Ok(mask) = Mask::parse(&text) else {
                return Ok(());
            };
            for answer in [
                answer(),
                json!([answer(), answer()]),
                json!("text"),
                json!(null),
            ] {
                let Ok(masked) = mask.apply_to_answer(answer.clone()) else {
                    continue;
                };
                let Value::Object(out) = &masked else {
                    continue;
                };
                // Only fields of the answer: a mask never invents one.
                let original = answer.as_object().unwrap();
                prop_assert!(
                    out.keys().all(|k| original.contains_key(k)),
                    "{text:?}: {masked}"
                );
                if !text.contains('*') {
                    prop_assert!(
                        out.keys().all(|k| text.contains(k.as_str())),
                        "{text:?}: {masked}"
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn search_words_and_date_ranges_parse_without_panicking() {
    runner(1024)
        .run(&(text(), text()), |(q, range)| {
            if let Ok(Some(query)) = SearchQuery::parse(&q) {
                prop_assert!(query.terms().count() <= MAX_WORDS);
                prop_assert!(
                    query
                        .terms()
                        .all(|(w, _)| !w.is_empty() && !w.contains(' '))
                );
            }
            if let Some((from, to)) = parse_date_range(&range) {
                prop_assert_eq!(range.len(), 21);
                let _ = (from, to);
            }
            Ok(())
        })
        .unwrap();
}

/// Every answer to a client's input: below 500, and JSON when it is an error.
fn check_answer(what: &str, r: &TestResponse) -> Result<(), TestCaseError> {
    prop_assert!(r.status.as_u16() < 500, "{what}: {} {}", r.status, r.text());
    if r.status.is_client_error() {
        let body: Value = serde_json::from_slice(&r.body)
            .map_err(|e| TestCaseError::fail(format!("{what}: not JSON ({e}): {}", r.text())))?;
        prop_assert!(
            body.get("message").is_some()
                || body.get("errors").is_some()
                || body.get("error").is_some(),
            "{what}: {body}"
        );
    }
    Ok(())
}

/// A query string of parameters the list endpoints read, and others, with any value, encoded.
fn query_string() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("q"),
        Just("page"),
        Just("page_size"),
        Just("sort"),
        Just("tag"),
        Just("license"),
        Just("format"),
        Just("organization"),
        Just("owner"),
        Just("featured"),
        Just("private"),
        Just("deleted"),
        Just("temporal_coverage"),
        Just("facets"),
        Just("size"),
        Just("badge"),
        Just("last_update_range"),
        Just("producer_type"),
        Just("type"),
        Just("access_type"),
        Just("zzz"),
    ];
    let value = prop_oneof![text(), "-?[0-9_ +]{0,25}", Just(String::new())];
    prop::collection::vec((key, value), 0..6).prop_map(|pairs| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    })
}

#[test]
fn query_strings_never_get_a_server_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::new());
    let dataset = rt.block_on(app.dataset(&app.admin_key, "Property dataset"));
    let id = dataset["id"].as_str().unwrap().to_string();
    let paths = [
        "/api/1/datasets/".to_string(),
        "/api/2/datasets/search/".to_string(),
        "/api/2/organizations/search/".to_string(),
        "/api/1/organizations/".to_string(),
        "/api/1/datasets/suggest/".to_string(),
        "/api/1/tags/suggest/".to_string(),
        format!("/api/2/datasets/{id}/resources/"),
        format!("/api/1/organizations/{id}/datasets/"),
    ];
    runner(256)
        .run(
            &(0..paths.len(), query_string(), any::<bool>()),
            |(i, qs, keyed)| {
                let uri = format!("{}?{qs}", paths[i]);
                let key = keyed.then_some(app.admin_key.as_str());
                let r = rt.block_on(app.get(&uri, key));
                check_answer(&uri, &r)
            },
        )
        .unwrap();
}

/// A JSON body of a dataset's fields (and others) with values of any type.
fn dataset_body() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let field = prop_oneof![
        Just("title"),
        Just("description"),
        Just("tags"),
        Just("license"),
        Just("frequency"),
        Just("private"),
        Just("organization"),
        Just("extras"),
        Just("temporal_coverage"),
        Just("spatial"),
        Just("resources"),
        Just("acronym"),
        Just("deleted"),
        Just("archived"),
        Just("frequency_date"),
        Just("access_type"),
        Just("url"),
        Just("filetype"),
        Just("checksum"),
        Just("filesize"),
        Just("type"),
        Just("schema"),
        Just("id"),
    ];
    prop::collection::vec((field, value), 0..6).prop_map(|pairs| {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    })
}

#[test]
fn json_bodies_of_any_shape_never_get_a_server_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::new());
    let dataset = rt.block_on(app.dataset(&app.admin_key, "Property dataset"));
    let id = dataset["id"].as_str().unwrap().to_string();
    let targets = [
        (Method::POST, "/api/1/datasets/".to_string()),
        (Method::PUT, format!("/api/1/datasets/{id}/")),
        (Method::POST, format!("/api/1/datasets/{id}/resources/")),
        (Method::PUT, format!("/api/1/datasets/{id}/resources/")),
        (Method::PUT, format!("/api/2/datasets/{id}/extras/")),
        (Method::POST, "/api/1/organizations/".to_string()),
        (Method::PUT, "/api/1/me/".to_string()),
        (Method::POST, "/api/1/me/api_tokens/".to_string()),
    ];
    let wrapped = prop_oneof![
        dataset_body(),
        dataset_body().prop_map(|v| json!([v])),
        dataset_body().prop_map(|v| json!({"title": "T", "description": "D", "resources": [v]})),
    ];
    runner(256)
        .run(&(0..targets.len(), wrapped), |(i, body)| {
            let (method, path) = &targets[i];
            let r =
                rt.block_on(app.request(method.clone(), path, Some(&app.admin_key), Some(&body)));
            check_answer(&format!("{method} {path} {body}"), &r)
        })
        .unwrap();
}

#[test]
fn bodies_that_are_not_json_get_a_json_400() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::new());
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        "[{}\\[\\]\",:a-z0-9 ]{1,30}".prop_map(String::into_bytes),
    ];
    runner(256)
        .run(&bytes, |body| {
            prop_assume!(serde_json::from_slice::<Value>(&body).is_err());
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/1/datasets/")
                .header("host", "rudata.test")
                .header("content-type", "application/json")
                .header("X-API-KEY", &app.admin_key)
                .body(Body::from(body.clone()))
                .unwrap();
            let r = rt.block_on(app.send(req));
            prop_assert_eq!(r.status.as_u16(), 400, "{:?}: {}", body, r.text());
            check_answer("invalid JSON", &r)
        })
        .unwrap();
}

#[test]
fn multipart_forms_of_any_fields_never_get_a_server_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::new());
    let dataset = rt.block_on(app.dataset(&app.admin_key, "Property dataset"));
    let id = dataset["id"].as_str().unwrap().to_string();
    let field_name = prop_oneof![
        Just("uuid"),
        Just("partindex"),
        Just("partbyteoffset"),
        Just("totalparts"),
        Just("chunksize"),
        Just("totalfilesize"),
        Just("filename"),
        Just("x"),
    ];
    let field_value = prop_oneof![
        text(),
        "-?[0-9]{1,25}",
        Just("6f1c4a3e-1111-4222-8333-444455556666".to_string()),
    ];
    let fields = prop::collection::vec((field_name, field_value), 0..5);
    let file = prop::option::of((
        prop_oneof![text(), "[a-zA-Z0-9 ._-]{1,20}\\.(csv|json|txt|svg|exe|)"],
        prop::collection::vec(any::<u8>(), 0..64),
    ));
    runner(128)
        .run(&(fields, file, any::<bool>()), |(fields, file, replace)| {
            let mut parts: Vec<Part<'_>> = fields
                .iter()
                .map(|(name, value)| Part::Field {
                    name,
                    value: value.clone(),
                })
                .collect();
            // A file name cannot hold a quote or a line break in a Content-Disposition header.
            let file =
                file.map(|(name, bytes)| (name.replace(['"', '\r', '\n', '\\'], "_"), bytes));
            if let Some((filename, bytes)) = &file {
                parts.push(Part::File {
                    name: "file",
                    filename,
                    bytes,
                });
            }
            let path = if replace {
                let r = rt
                    .block_on(app.get(&format!("/api/1/datasets/{id}/"), None))
                    .json();
                match r["resources"][0]["id"].as_str() {
                    Some(rid) => format!("/api/1/datasets/{id}/resources/{rid}/upload/"),
                    None => format!("/api/1/datasets/{id}/upload/"),
                }
            } else {
                format!("/api/1/datasets/{id}/upload/")
            };
            let r = rt.block_on(app.multipart(&path, Some(&app.admin_key), &parts));
            check_answer(
                &format!("upload {fields:?} {:?}", file.as_ref().map(|f| &f.0)),
                &r,
            )
        })
        .unwrap();
}
