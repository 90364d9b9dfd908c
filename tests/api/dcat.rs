//! DCAT-AP documents (`/api/1/site/catalog`, `/api/1/datasets/{id}/rdf`,
//! `/api/1/organizations/{org}/catalog`): udata's suffixes and content negotiation, Hydra paging,
//! public datasets only, the EU vocabularies and SPDX checksums. The SHACL validation of the same
//! documents is `tests/dcat/validate.py`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use oxrdfio::{RdfFormat, RdfParser};
use serde_json::json;

use crate::dataset_helpers::{created, soft_delete};
use crate::helpers::{TestApp, TestResponse, id_of};

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";
const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
const SPDX: &str = "http://spdx.org/rdf/terms#";
const FOAF: &str = "http://xmlns.com/foaf/0.1/";

/// Triples as `(subject, predicate, object)` in N-Triples' term syntax (`<iri>`, `"lit"^^<dt>`).
type Triples = Vec<(String, String, String)>;

fn parse(r: &TestResponse) -> Triples {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mime = r.header("content-type").unwrap();
    let format = RdfFormat::from_media_type(&mime).unwrap_or_else(|| panic!("{mime}"));
    RdfParser::from_format(format)
        .for_slice(&r.body)
        .map(|q| {
            let q = q.unwrap();
            (
                q.subject.to_string(),
                q.predicate.as_str().to_string(),
                q.object.to_string(),
            )
        })
        .collect()
}

fn objects(t: &Triples, s: &str, p: &str) -> Vec<String> {
    t.iter()
        .filter(|(ts, tp, _)| ts == s && tp == p)
        .map(|(_, _, o)| o.clone())
        .collect()
}

fn one(t: &Triples, s: &str, p: &str) -> String {
    let mut all = objects(t, s, p);
    assert_eq!(all.len(), 1, "{s} {p}: {all:?}");
    all.remove(0)
}

fn iri(s: &str) -> String {
    format!("<{s}>")
}

fn dataset_node(id: &str) -> String {
    iri(&format!("http://rudata.test/api/1/datasets/{id}/"))
}

async fn get_accept(app: &TestApp, path: &str, accept: &str) -> TestResponse {
    let req = Request::get(path)
        .header("host", "rudata.test")
        .header("accept", accept)
        .body(Body::empty())
        .unwrap();
    app.send(req).await
}

async fn public_dataset(app: &TestApp, body: serde_json::Value) -> String {
    id_of(&created(app, &app.admin_key, body).await)
}

#[tokio::test]
async fn rdf_redirects_to_the_format_accept_asks_for() {
    let app = TestApp::new().await;
    let id = public_dataset(&app, json!({"title": "T", "description": "D"})).await;
    let base = format!("/api/1/datasets/{id}/rdf");
    for (accept, suffix) in [
        ("", "json"),
        ("text/html,*/*", "json"),
        ("text/turtle", "ttl"),
        ("application/rdf+xml;q=0.5, application/n-triples", "nt"),
        (
            "application/ld+json;q=0.2, application/rdf+xml;q=0.9",
            "xml",
        ),
    ] {
        let r = get_accept(&app, &format!("{base}?x=1"), accept).await;
        assert_eq!(r.status, StatusCode::FOUND, "{accept}");
        assert_eq!(
            r.header("location").unwrap(),
            format!("{base}.{suffix}?x=1"),
            "{accept}"
        );
    }
    for path in ["/api/1/site/catalog", "/api/1/site/catalog/"] {
        let r = get_accept(&app, path, "text/turtle").await;
        assert_eq!(r.status, StatusCode::FOUND);
        assert_eq!(r.header("location").unwrap(), "/api/1/site/catalog.ttl");
    }
}

#[tokio::test]
async fn every_suffix_gives_the_same_graph_with_its_media_type() {
    let app = TestApp::new().await;
    let id = public_dataset(
        &app,
        json!({"title": "Budget", "description": "Le budget", "tags": ["aaa", "bbb"],
               "resources": [{"title": "csv", "url": "https://example.org/a.csv", "filetype": "remote", "format": "csv"}]}),
    )
    .await;
    let mut sizes = Vec::new();
    for (suffix, mime) in [
        ("jsonld", "application/ld+json"),
        ("json", "application/ld+json"),
        ("ttl", "text/turtle"),
        ("rdf", "application/rdf+xml"),
        ("xml", "application/rdf+xml"),
        ("nt", "application/n-triples"),
        ("n3", "text/n3"),
        ("trig", "application/trig"),
    ] {
        let r = app
            .get(&format!("/api/1/datasets/{id}/rdf.{suffix}"), None)
            .await;
        assert_eq!(r.header("content-type").unwrap(), mime, "{suffix}");
        let t = parse(&r);
        let node = dataset_node(&id);
        assert_eq!(one(&t, &node, RDF_TYPE), iri(&format!("{DCAT}Dataset")));
        assert_eq!(one(&t, &node, &format!("{DCT}title")), "\"Budget\"");
        assert_eq!(objects(&t, &node, &format!("{DCAT}keyword")).len(), 2);
        sizes.push(t.len());
        let r = app
            .get(&format!("/api/1/site/catalog.{suffix}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{suffix}");
    }
    assert!(sizes.iter().all(|n| *n == sizes[0]), "{sizes:?}");
    for path in [
        format!("/api/1/datasets/{id}/rdf.html"),
        "/api/1/site/catalog.csv".to_string(),
        format!("/api/1/datasets/{id}/rdf."),
    ] {
        assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn licenses_frequencies_formats_and_checksums_use_the_eu_vocabularies() {
    let app = TestApp::new().await;
    let id = public_dataset(
        &app,
        json!({"title": "T", "description": "D", "license": "odc-odbl", "frequency": "semiannual",
               "resources": [{"title": "remote", "url": "https://example.org/a.csv", "filetype": "remote",
                              "format": "CSV", "mime": "text/csv", "type": "main"},
                             {"title": "api", "url": "https://example.org/api", "filetype": "remote",
                              "type": "api"}]}),
    )
    .await;
    let up = app
        .upload(&id, &app.admin_key, "data.json", b"{\"a\": 1}\n")
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    let up = up.json();
    let rid = up["id"].as_str().unwrap().to_string();
    let t = parse(&app.get(&format!("/api/1/datasets/{id}/rdf.nt"), None).await);
    let node = dataset_node(&id);
    let freq = "http://publications.europa.eu/resource/authority/frequency/ANNUAL_2";
    assert_eq!(
        one(&t, &node, &format!("{DCT}accrualPeriodicity")),
        iri(freq)
    );
    assert_eq!(
        one(&t, &iri(freq), RDF_TYPE),
        iri(&format!("{DCT}Frequency"))
    );
    // Its page on the web site, which answers.
    let slug = app
        .get(&format!("/api/1/datasets/{id}/"), None)
        .await
        .json()["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let page = format!("http://rudata.test/fr/datasets/{slug}/");
    assert_eq!(one(&t, &node, &format!("{DCAT}landingPage")), iri(&page));
    assert_eq!(
        one(&t, &iri(&page), RDF_TYPE),
        iri(&format!("{FOAF}Document"))
    );
    let web = app.get(&format!("/fr/datasets/{slug}/"), None).await;
    assert_eq!(web.status, StatusCode::OK);
    let dists = objects(&t, &node, &format!("{DCAT}distribution"));
    assert_eq!(dists.len(), 3);
    let licence = iri("http://publications.europa.eu/resource/authority/licence/ODC_BL");
    for d in &dists {
        assert_eq!(one(&t, d, &format!("{DCT}license")), licence);
        let rid = one(&t, d, &format!("{DCT}identifier"));
        let rid = rid.trim_matches('"');
        assert_eq!(
            one(&t, d, &format!("{DCAT}accessURL")),
            iri(&format!("http://rudata.test/api/1/datasets/r/{rid}"))
        );
    }
    let title = |d: &String| one(&t, d, &format!("{DCT}title"));
    let remote = dists.iter().find(|d| title(d) == "\"remote\"").unwrap();
    assert_eq!(
        one(&t, remote, &format!("{DCT}format")),
        iri("http://publications.europa.eu/resource/authority/file-type/CSV")
    );
    assert_eq!(
        one(&t, remote, &format!("{DCAT}mediaType")),
        iri("https://www.iana.org/assignments/media-types/text/csv")
    );
    assert_eq!(
        one(&t, remote, &format!("{DCAT}downloadURL")),
        iri("https://example.org/a.csv")
    );
    let api = dists.iter().find(|d| title(d) == "\"api\"").unwrap();
    assert!(objects(&t, api, &format!("{DCAT}downloadURL")).is_empty());
    let file = dists
        .iter()
        .find(|d| d.contains(&rid))
        .expect("the uploaded resource");
    assert_eq!(
        one(&t, file, &format!("{DCAT}downloadURL")),
        iri(up["url"].as_str().unwrap())
    );
    assert_eq!(
        one(&t, file, &format!("{DCAT}byteSize")),
        "\"9\"^^<http://www.w3.org/2001/XMLSchema#decimal>"
    );
    let sum = one(&t, file, &format!("{SPDX}checksum"));
    assert_eq!(
        one(&t, &sum, &format!("{SPDX}algorithm")),
        iri(&format!("{SPDX}checksumAlgorithm_sha1"))
    );
    let sha1 = up["checksum"]["value"].as_str().unwrap();
    assert_eq!(up["checksum"]["type"], "sha1");
    assert_eq!(
        one(&t, &sum, &format!("{SPDX}checksumValue")),
        format!("\"{sha1}\"^^<http://www.w3.org/2001/XMLSchema#hexBinary>")
    );
}

#[tokio::test]
async fn hidden_datasets_follow_the_read_rule_and_stay_out_of_catalogs() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let public = public_dataset(&app, json!({"title": "Public", "description": "D"})).await;
    let private = public_dataset(
        &app,
        json!({"title": "P", "description": "D", "private": true}),
    )
    .await;
    let deleted = public_dataset(&app, json!({"title": "Del", "description": "D"})).await;
    soft_delete(&app, &deleted, &key).await;
    let archived = public_dataset(
        &app,
        json!({"title": "A", "description": "D", "archived": "2024-01-02T03:04:05"}),
    )
    .await;
    for path in [
        format!("/api/1/datasets/{private}/rdf.ttl"),
        format!("/api/1/datasets/{private}/rdf"),
        "/api/1/datasets/nope/rdf.ttl".to_string(),
    ] {
        assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    }
    let r = app
        .get(&format!("/api/1/datasets/{deleted}/rdf.ttl"), None)
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    // The owner (here the admin) reads them.
    for id in [&private, &deleted] {
        let r = app
            .get(&format!("/api/1/datasets/{id}/rdf.ttl"), Some(&key))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // Even for a sysadmin, the catalog is the public one.
    let t = parse(&app.get("/api/1/site/catalog.nt", Some(&key)).await);
    let catalog = iri("http://rudata.test/api/1/site/catalog");
    assert_eq!(
        objects(&t, &catalog, &format!("{DCAT}dataset")),
        vec![dataset_node(&public)]
    );
    for hidden in [&private, &deleted, &archived] {
        assert!(t.iter().all(|(s, _, _)| *s != dataset_node(hidden)));
    }
}

#[tokio::test]
async fn catalogs_are_paged_with_hydra() {
    let app = TestApp::new().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(public_dataset(&app, json!({"title": format!("D{n}"), "description": "x"})).await);
    }
    let catalog = iri("http://rudata.test/api/1/site/catalog");
    let page = |n: i64| {
        iri(&format!(
            "http://rudata.test/api/1/site/catalog.ttl?page_size=2&page={n}"
        ))
    };
    let t = parse(&app.get("/api/1/site/catalog.ttl?page_size=2", None).await);
    let first_page = objects(&t, &catalog, &format!("{DCAT}dataset"));
    assert_eq!(first_page.len(), 2);
    let total = "\"3\"^^<http://www.w3.org/2001/XMLSchema#integer>";
    assert_eq!(one(&t, &catalog, &format!("{HYDRA}totalItems")), total);
    let view = one(&t, &catalog, &format!("{HYDRA}view"));
    assert_eq!(view, page(1));
    let types = objects(&t, &view, RDF_TYPE);
    assert!(
        types.contains(&iri(&format!("{HYDRA}PagedCollection"))),
        "{types:?}"
    );
    assert_eq!(one(&t, &view, &format!("{HYDRA}totalItems")), total);
    assert_eq!(one(&t, &view, &format!("{HYDRA}first")), page(1));
    assert_eq!(one(&t, &view, &format!("{HYDRA}last")), page(2));
    assert_eq!(one(&t, &view, &format!("{HYDRA}next")), page(2));
    assert!(objects(&t, &view, &format!("{HYDRA}previous")).is_empty());

    let t = parse(
        &app.get("/api/1/site/catalog.ttl?page=2&page_size=2", None)
            .await,
    );
    let second_page = objects(&t, &catalog, &format!("{DCAT}dataset"));
    assert_eq!(second_page.len(), 1);
    let view = one(&t, &catalog, &format!("{HYDRA}view"));
    assert_eq!(one(&t, &view, &format!("{HYDRA}previous")), page(1));
    assert!(objects(&t, &view, &format!("{HYDRA}next")).is_empty());
    let mut seen: Vec<String> = first_page.into_iter().chain(second_page).collect();
    seen.sort();
    let mut expected: Vec<String> = ids.iter().map(|i| dataset_node(i)).collect();
    expected.sort();
    assert_eq!(seen, expected);
    // A bad page is udata's 400; the default page is 100 datasets.
    let r = app.get("/api/1/site/catalog.ttl?page=0", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let t = parse(&app.get("/api/1/site/catalog.nt", None).await);
    let view = one(&t, &catalog, &format!("{HYDRA}view"));
    assert_eq!(
        one(&t, &view, &format!("{HYDRA}itemsPerPage")),
        "\"100\"^^<http://www.w3.org/2001/XMLSchema#integer>"
    );
}

#[tokio::test]
async fn an_organizations_catalog_holds_its_public_datasets() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let org = app.organization(&key, "Acme Data").await;
    let mine = created(
        &app,
        &key,
        json!({"title": "Org data", "description": "D", "organization": org}),
    )
    .await;
    let mine = id_of(&mine);
    created(
        &app,
        &key,
        json!({"title": "Hidden", "description": "D", "organization": org, "private": true}),
    )
    .await;
    public_dataset(&app, json!({"title": "Elsewhere", "description": "D"})).await;
    let r = get_accept(
        &app,
        &format!("/api/1/organizations/{org}/catalog"),
        "application/n-triples",
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let location = r.header("location").unwrap();
    assert_eq!(location, format!("/api/1/organizations/{org}/catalog.nt"));
    let t = parse(&app.get(&location, None).await);
    let catalog = iri(&format!(
        "http://rudata.test/api/1/organizations/{org}/catalog"
    ));
    assert_eq!(
        objects(&t, &catalog, &format!("{DCAT}dataset")),
        vec![dataset_node(&mine)]
    );
    let org_node = iri(&format!("http://rudata.test/api/1/organizations/{org}/"));
    assert_eq!(one(&t, &catalog, &format!("{DCT}publisher")), org_node);
    assert_eq!(
        one(&t, &dataset_node(&mine), &format!("{DCT}publisher")),
        org_node
    );
    assert_eq!(
        one(&t, &org_node, "http://xmlns.com/foaf/0.1/name"),
        "\"Acme Data\""
    );
    for path in [
        "/api/1/organizations/nope/catalog".to_string(),
        "/api/1/organizations/nope/catalog.ttl".to_string(),
        format!("/api/1/organizations/{org}/catalog.pdf"),
    ] {
        assert_eq!(
            app.get(&path, None).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_host_that_makes_no_iri_is_refused() {
    let app = TestApp::new().await;
    let id = public_dataset(&app, json!({"title": "T", "description": "D"})).await;
    for path in [
        "/api/1/site/catalog.ttl".to_string(),
        format!("/api/1/datasets/{id}/rdf.xml"),
    ] {
        let req = Request::get(&path)
            .header("host", "a<b>{c}")
            .body(Body::empty())
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text());
    }
}
