//! The catalog web site through HTTP: the pages and their status codes, both slash forms, the
//! API's visibility rules (private 404, deleted 410, old slugs 308), the resource permalink, the
//! languages, and the site's size.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, TestResponse, id_of, sha1_hex};

/// A page's answer, checked to be HTML.
pub async fn page(app: &TestApp, path: &str) -> TestResponse {
    let r = app.get(path, None).await;
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{path}: {:?} {}",
        r.header("content-type"),
        r.text()
    );
    r
}

/// A page in a language (`Accept-Language`).
pub async fn page_in(app: &TestApp, path: &str, accept: &str) -> TestResponse {
    app.raw(
        Method::GET,
        path,
        None,
        &[("accept-language", accept)],
        Vec::new(),
    )
    .await
}

async fn publish(app: &TestApp, body: serde_json::Value) -> serde_json::Value {
    let r = app.post("/api/1/datasets/", &app.admin_key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn every_page_answers_in_both_slash_forms_and_in_both_languages() {
    let app = TestApp::new().await;
    let org = app.organization(&app.admin_key, "Ville de Test").await;
    let ds = publish(
        &app,
        json!({"title": "Budget municipal", "description": "Les **dépenses**.",
               "organization": org, "tags": ["budget"], "license": "lov2", "frequency": "annual"}),
    )
    .await;
    let slug = ds["slug"].as_str().unwrap();
    let org_slug = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json()["slug"]
        .as_str()
        .unwrap()
        .to_string();
    for lang in ["fr", "en"] {
        for path in [
            format!("/{lang}/"),
            format!("/{lang}/datasets/"),
            format!("/{lang}/datasets/?q=budget"),
            format!("/{lang}/datasets/{slug}/"),
            format!("/{lang}/organizations/{org_slug}/"),
        ] {
            for form in [
                path.clone(),
                path.replacen("/?", "?", 1)
                    .trim_end_matches('/')
                    .to_string(),
            ] {
                let r = page(&app, &form).await;
                assert_eq!(r.status, StatusCode::OK, "{form}: {}", r.text());
                let body = r.text();
                assert!(body.starts_with("<!doctype html>"), "{form}");
                assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{form}");
                assert_eq!(r.header("content-language").unwrap(), lang);
                assert!(body.contains("Budget municipal"), "{form}");
                // The landmarks and the skip link of every page.
                for landmark in [
                    "<header",
                    "<main id=\"main\"",
                    "<footer",
                    "<nav aria-label=",
                    "class=\"skip\" href=\"#main\"",
                ] {
                    assert!(body.contains(landmark), "{form}: {landmark}");
                }
                let csp = r.header("content-security-policy").unwrap();
                assert!(
                    csp.contains("default-src 'none'") && !csp.contains("script-src"),
                    "{csp}"
                );
            }
        }
    }
    let home = page(&app, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("name=\"q\""));
    let css = app.get("/static/site.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(home.text().contains("/static/site.css?v="));
}

#[tokio::test]
async fn the_dataset_page_shows_its_facts_its_files_and_their_history() {
    let app = TestApp::new().await;
    let org = app.organization(&app.admin_key, "Ville de Test").await;
    let ds = publish(
        &app,
        json!({"title": "Budget municipal", "description": "Les dépenses.",
               "organization": org, "tags": ["budget", "finances"], "license": "lov2",
               "frequency": "annual"}),
    )
    .await;
    let (id, slug) = (id_of(&ds), ds["slug"].as_str().unwrap().to_string());
    let first = app
        .upload(&id, &app.admin_key, "budget-2024.csv", b"a,b\n1,2\n")
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let rid = id_of(&first.json());
    let old_url = first.json()["url"].as_str().unwrap().to_string();
    let second = app
        .replace_file(
            &id,
            &rid,
            &app.admin_key,
            "budget-2025.csv",
            b"a,b\n1,2\n3,4\n",
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text());
    let current = app
        .get(&format!("/api/1/datasets/{id}/resources/{rid}/"), None)
        .await
        .json();
    let body = page(&app, &format!("/fr/datasets/{slug}/")).await.text();
    // License, frequency, organization, tags.
    assert!(body.contains("Licence Ouverte"), "{body}");
    assert!(body.contains("Annuelle"), "{body}");
    assert!(
        body.contains("Ville de Test") && body.contains("/fr/organizations/"),
        "{body}"
    );
    assert!(
        body.contains("href=\"/fr/datasets/?tag=finances\""),
        "{body}"
    );
    // The resource: its download link (the current file), format, size, checksum, availability.
    let url = current["url"].as_str().unwrap();
    assert!(body.contains(&format!("href=\"{url}\" download")), "{body}");
    assert!(body.contains(">csv<"), "{body}");
    assert!(body.contains("12\u{a0}o"), "{body}");
    let sha1 = current["checksum"]["value"].as_str().unwrap();
    assert!(body.contains(&format!("sha1:{sha1}")), "{body}");
    assert!(body.contains("Non vérifiée"), "{body}");
    assert!(
        body.contains(&format!("href=\"/fr/datasets/r/{rid}\"")),
        "{body}"
    );
    // The history: the first file, still downloadable.
    assert!(
        body.contains("Versions précédentes <span class=\"count\">(1)</span>"),
        "{body}"
    );
    assert!(
        body.contains(&format!("href=\"{old_url}\" download>budget-2024.csv<")),
        "{body}"
    );
    let old = app.get(&TestApp::path_of(&old_url), None).await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(&old.body[..], b"a,b\n1,2\n");
    // English labels.
    let en = page(&app, &format!("/en/datasets/{slug}/")).await.text();
    assert!(
        en.contains("Annually") && en.contains("Previous versions") && en.contains("Not checked")
    );
}

#[tokio::test]
async fn the_dataset_page_shows_its_change_history_from_the_activity_log() {
    let app = TestApp::new().await;
    let ds = publish(
        &app,
        json!({"title": "Budget municipal", "description": "Les dépenses."}),
    )
    .await;
    let (id, slug) = (id_of(&ds), ds["slug"].as_str().unwrap().to_string());
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/"),
            &app.admin_key,
            json!({"description": "Les dépenses <b>votées</b>."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let up = app
        .upload(&id, &app.admin_key, "comptes <2025>.csv", b"a,b\n1,2\n")
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    let rid = id_of(&up.json());
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/resources/{rid}/"),
            &app.admin_key,
            json!({"title": "Comptes <2025>"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = page(&app, &format!("/fr/datasets/{slug}/")).await.text();
    let history = &body[body.find("Historique des modifications").expect(&body)..];
    // Newest first: the file's new title, the file, the edit (with its field), the creation.
    let renamed = history.find("Fichier modifié").expect(history);
    let added = history.find("Fichier ajouté").expect(history);
    let updated = history.find("Jeu de données modifié").expect(history);
    let created = history.find("Jeu de données créé").expect(history);
    assert!(
        renamed < added && added < updated && updated < created,
        "{history}"
    );
    assert!(history.contains("<code>description</code>"), "{history}");
    assert!(history.contains("comptes-2025-.csv"), "{history}");
    // A title as the entry recorded it, escaped.
    assert!(history.contains("Comptes &lt;2025&gt;"), "{history}");
    assert!(!history.contains("<2025>"), "{history}");
    assert!(
        history.contains(&format!("/api/1/activity/?related_to={id}")),
        "{history}"
    );
    let en = page(&app, &format!("/en/datasets/{slug}/")).await.text();
    assert!(
        en.contains("Change history") && en.contains("File added"),
        "{en}"
    );
}

#[tokio::test]
async fn a_page_number_past_any_offset_is_a_404_whatever_page_size_says() {
    let app = TestApp::new().await;
    let org = app.organization(&app.admin_key, "Ville de Test").await;
    let ds = publish(
        &app,
        json!({"title": "Budget", "description": "d", "organization": org}),
    )
    .await;
    let slug = ds["slug"].as_str().unwrap();
    let org_slug = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json()["slug"]
        .as_str()
        .unwrap()
        .to_string();
    // page × page_size fits in an integer, page × the site's 20 does not.
    let huge = "page=4611686018427387904&page_size=1";
    for path in [
        format!("/fr/datasets/{slug}/?{huge}"),
        format!("/fr/organizations/{org_slug}/?{huge}"),
        format!("/fr/datasets/?{huge}"),
    ] {
        let r = app.get(&path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
    }
}

#[tokio::test]
async fn availability_comes_from_the_remote_checks() {
    let app = crate::checks::app().await;
    let remote = crate::checks::Remote::start().await;
    remote.serve("/up.csv", crate::checks::Served::ok("a\n1\n"));
    remote.serve("/down.csv", crate::checks::Served::status(404));
    let ds = publish(&app, json!({"title": "Checked", "description": "d"})).await;
    let id = id_of(&ds);
    for (title, path) in [("Up", "/up.csv"), ("Down", "/down.csv")] {
        let r = app
            .post(
                &format!("/api/1/datasets/{id}/resources/"),
                &app.admin_key,
                json!({"title": title, "filetype": "remote", "url": remote.url(path), "format": "csv"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    crate::checks::run_checks(&app).await;
    let body = page(
        &app,
        &format!("/en/datasets/{}/", ds["slug"].as_str().unwrap()),
    )
    .await
    .text();
    let up = body.find("<h3>Up</h3>").unwrap();
    let down = body.find("<h3>Down</h3>").unwrap();
    let (up_part, down_part) = if up < down {
        (&body[up..down], &body[down..])
    } else {
        (&body[up..], &body[down..up])
    };
    assert!(up_part.contains("class=\"ok\">Available<"), "{up_part}");
    assert!(up_part.contains("checked on"), "{up_part}");
    assert!(
        down_part.contains("class=\"ko\">Unavailable<"),
        "{down_part}"
    );
    // A remote file's link is the publisher's URL, without `download`.
    assert!(
        up_part.contains(&format!("href=\"{}\">", remote.url("/up.csv"))),
        "{up_part}"
    );
}

#[tokio::test]
async fn private_and_deleted_datasets_follow_the_apis_rules() {
    let app = TestApp::new().await;
    let private = publish(
        &app,
        json!({"title": "Secret", "description": "d", "private": true}),
    )
    .await;
    let deleted = publish(&app, json!({"title": "Removed", "description": "d"})).await;
    let r = app
        .delete(
            &format!("/api/1/datasets/{}/", id_of(&deleted)),
            &app.admin_key,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for lang in ["fr", "en"] {
        let r = page(
            &app,
            &format!("/{lang}/datasets/{}/", private["slug"].as_str().unwrap()),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(!r.text().contains("Secret"));
        let r = page(&app, &format!("/{lang}/datasets/{}/", id_of(&private))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = page(
            &app,
            &format!("/{lang}/datasets/{}/", deleted["slug"].as_str().unwrap()),
        )
        .await;
        assert_eq!(r.status, StatusCode::GONE);
        assert!(r.text().contains(&format!("lang=\"{lang}\"")));
        let r = page(&app, &format!("/{lang}/datasets/no-such-dataset/")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // Neither shows in the lists of the site.
    for path in [
        "/fr/",
        "/fr/datasets/",
        "/fr/datasets/?q=secret",
        "/fr/datasets/?q=removed",
    ] {
        let body = page(&app, path).await.text();
        assert!(
            !body.contains("Secret") && !body.contains("Removed"),
            "{path}"
        );
    }
    // An old slug moves to the new one, in the site's shape.
    let ds = publish(&app, json!({"title": "Old name", "description": "d"})).await;
    let r = app
        .put(
            &format!("/api/1/datasets/{}/", id_of(&ds)),
            &app.admin_key,
            json!({"title": "New name"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let new_slug = r.json()["slug"].as_str().unwrap().to_string();
    assert_ne!(new_slug, ds["slug"]);
    let moved = app
        .get(
            &format!("/fr/datasets/{}/", ds["slug"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(moved.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        moved.header("location").unwrap(),
        format!("/fr/datasets/{new_slug}")
    );
}

#[tokio::test]
async fn organizations_have_a_page_and_a_deleted_one_is_gone() {
    let app = TestApp::new().await;
    let org = app.organization(&app.admin_key, "Région Test").await;
    publish(
        &app,
        json!({"title": "Public one", "description": "d", "organization": org}),
    )
    .await;
    publish(
        &app,
        json!({"title": "Hidden one", "description": "d", "organization": org, "private": true}),
    )
    .await;
    let slug = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json()["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let r = page(&app, &format!("/en/organizations/{slug}/")).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.text();
    assert!(body.contains("<h1>Région Test"), "{body}");
    assert!(
        body.contains("Public one") && !body.contains("Hidden one"),
        "{body}"
    );
    assert_eq!(
        page(&app, "/en/organizations/nobody/").await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .delete(&format!("/api/1/organizations/{org}/"), &app.admin_key)
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    assert_eq!(
        page(&app, &format!("/fr/organizations/{slug}/"))
            .await
            .status,
        StatusCode::GONE
    );
}

#[tokio::test]
async fn the_permalink_behaves_as_the_apis() {
    let app = TestApp::new().await;
    let ds = publish(&app, json!({"title": "Files", "description": "d"})).await;
    let r = app
        .upload(&id_of(&ds), &app.admin_key, "data.csv", b"x,y\n")
        .await;
    let rid = id_of(&r.json());
    let api = app.get(&format!("/api/1/datasets/r/{rid}"), None).await;
    assert_eq!(api.status, StatusCode::FOUND);
    for path in [
        format!("/fr/datasets/r/{rid}"),
        format!("/fr/datasets/r/{rid}/"),
        format!("/en/datasets/r/{rid}"),
    ] {
        let r = app.get(&path, None).await;
        assert_eq!(r.status, StatusCode::FOUND, "{path}");
        assert_eq!(r.header("location"), api.header("location"), "{path}");
    }
    let file = app
        .get(&TestApp::path_of(&api.header("location").unwrap()), None)
        .await;
    assert_eq!(&file.body[..], b"x,y\n");
    // A resource of a private dataset: 404 to the public, as the API answers.
    let private = publish(
        &app,
        json!({"title": "P", "description": "d", "private": true}),
    )
    .await;
    let r = app
        .upload(&id_of(&private), &app.admin_key, "p.csv", b"p\n")
        .await;
    let hidden = id_of(&r.json());
    let site = app.get(&format!("/fr/datasets/r/{hidden}"), None).await;
    let api = app.get(&format!("/api/1/datasets/r/{hidden}"), None).await;
    assert_eq!(site.status, StatusCode::NOT_FOUND);
    assert_eq!(
        (site.status, site.body.clone()),
        (api.status, api.body.clone())
    );
    assert_eq!(
        app.get("/fr/datasets/r/not-an-id", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_home_page_speaks_the_visitors_language_and_links_to_the_other() {
    let app = TestApp::new().await;
    let r = page_in(&app, "/", "en-GB,en;q=0.9,fr;q=0.5").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("<html lang=\"en\">"));
    assert!(r.text().contains("Latest datasets"));
    assert_eq!(r.header("content-language").unwrap(), "en");
    assert!(
        r.header("vary").unwrap().contains("Accept-Language"),
        "{:?}",
        r.header("vary")
    );
    // The language switch links to the same page in the other language.
    assert!(
        r.text()
            .contains("href=\"/fr/\" hreflang=\"fr\" lang=\"fr\">Français</a>")
    );
    let r = page_in(&app, "/", "de, fr;q=0.8, en;q=0.5").await;
    assert!(
        r.text().contains("<html lang=\"fr\">") && r.text().contains("Derniers jeux de données")
    );
    // Kept apart by the response cache: the same URL, another language.
    let again = page_in(&app, "/", "en").await;
    assert!(again.text().contains("<html lang=\"en\">"));
    let none = app.get("/", None).await;
    assert!(none.text().contains("<html lang=\"fr\">"));
    // A page's URL decides its language, whatever the visitor's.
    let r = page_in(&app, "/fr/datasets/", "en").await;
    assert!(r.text().contains("<html lang=\"fr\">"));
    assert!(
        r.text()
            .contains("href=\"/en/datasets/\" hreflang=\"en\" lang=\"en\">English</a>")
    );
    let r = page_in(&app, "/en/datasets/?q=a+b&tag=x", "fr").await;
    assert!(
        r.text().contains("href=\"/fr/datasets/?q=a+b&amp;tag=x\""),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn the_search_page_searches_filters_and_counts() {
    let app = TestApp::new().await;
    let org = app.organization(&app.admin_key, "Ville de Test").await;
    publish(&app, json!({"title": "Budget primitif", "description": "d", "tags": ["budget"], "organization": org})).await;
    publish(
        &app,
        json!({"title": "Budget annexe", "description": "d", "tags": ["budget", "eau"]}),
    )
    .await;
    publish(
        &app,
        json!({"title": "Arbres", "description": "d", "tags": ["nature"]}),
    )
    .await;
    let body = page(&app, "/en/datasets/?q=budget").await.text();
    assert!(body.contains("2 datasets"), "{body}");
    assert!(
        body.contains("Budget primitif")
            && body.contains("Budget annexe")
            && !body.contains("Arbres")
    );
    // The facets: tags and organizations with their counts, each a link adding the filter.
    assert!(
        body.contains(
            "href=\"/en/datasets/?q=budget&amp;tag=eau\">eau <span class=\"count\">(1)</span>"
        ),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "href=\"/en/datasets/?q=budget&amp;organization={org}\">Ville de Test"
        )),
        "{body}"
    );
    let body = page(&app, "/en/datasets/?q=budget&tag=eau").await.text();
    assert!(
        body.contains("1 dataset<")
            && body.contains("Budget annexe")
            && !body.contains("Budget primitif")
    );
    // The active filter can be removed; the form keeps it.
    assert!(
        body.contains("href=\"/en/datasets/?q=budget\">Tag\u{a0}: eau"),
        "{body}"
    );
    assert!(
        body.contains("<input type=\"hidden\" name=\"tag\" value=\"eau\">"),
        "{body}"
    );
    // Paging: 20 a page.
    for i in 0..21 {
        publish(
            &app,
            json!({"title": format!("Série {i}"), "description": "d", "tags": ["serie"]}),
        )
        .await;
    }
    let first = page(&app, "/fr/datasets/?tag=serie").await.text();
    assert!(
        first.contains("21 jeux de données")
            && first.contains("rel=\"next\" href=\"/fr/datasets/?tag=serie&amp;page=2\""),
        "{first}"
    );
    let second = page(&app, "/fr/datasets/?tag=serie&page=2").await.text();
    assert!(second.contains("Page 2 sur 2") && second.contains("rel=\"prev\""));
    // A bad parameter is the API's 400, as a page.
    let bad = page(&app, "/fr/datasets/?page=zero").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("Requête invalide"));
    let bad = page(&app, "/fr/datasets/?sort=nonsense").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_dataset_page_is_small() {
    let app = TestApp::new().await;
    let ds = publish(
        &app,
        json!({"title": "Small", "description": "A dataset with many files, each replaced often."}),
    )
    .await;
    let id = id_of(&ds);
    // More files than a page shows, each with more versions than the page lists: the largest page.
    for i in 0..22 {
        let name = format!("a-rather-long-file-name-for-the-statistics-of-{i}.csv");
        let r = app.upload(&id, &app.admin_key, &name, b"a\n").await;
        assert_eq!(r.status, StatusCode::CREATED);
        let rid = id_of(&r.json());
        if i < 20 {
            for v in 0..6 {
                let r = app
                    .replace_file(
                        &id,
                        &rid,
                        &app.admin_key,
                        &name,
                        format!("v{v}\n").as_bytes(),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK);
            }
        }
    }
    let path = format!("/fr/datasets/{}/", ds["slug"].as_str().unwrap());
    let first = page(&app, &path).await;
    let css = app.get("/static/site.css", None).await;
    let total = first.body.len() + css.body.len();
    assert!(total < 100_000, "{total} bytes");
    let body = first.text();
    assert_eq!(body.matches("class=\"resource\"").count(), 20);
    // Six older files each: the five newest listed, and a link to the API for the rest (the page
    // reads no more of a history than it shows, however long).
    assert!(
        body.contains("Versions précédentes <span class=\"count\">(5+)</span>"),
        "{body}"
    );
    let history = body.split("class=\"history\"").nth(1).unwrap();
    let history = &history[..history.find("</details>").unwrap()];
    assert_eq!(history.matches(" download>").count(), 5, "{history}");
    // The newest: v4 down to v0 (v5 is the current file), not the first upload.
    for v in 0..5 {
        let sha1 = sha1_hex(format!("v{v}\n").as_bytes());
        assert!(history.contains(&format!("sha1:{sha1}")), "v{v}: {history}");
    }
    assert!(!history.contains(&sha1_hex(b"a\n")), "{history}");
    assert!(history.contains("/versions/\">…</a>"), "{history}");
    // The rest on the next page.
    assert!(
        body.contains(&format!("rel=\"next\" href=\"{path}?page=2\"")),
        "{body}"
    );
    let second = page(&app, &format!("{path}?page=2")).await.text();
    assert_eq!(second.matches("class=\"resource\"").count(), 2);
    assert_eq!(
        page(&app, &format!("{path}?page=3")).await.status,
        StatusCode::NOT_FOUND
    );
}
