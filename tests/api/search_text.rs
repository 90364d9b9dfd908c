//! Full-text search (`q`) on `GET /api/1/datasets/`: accents and case folded, every word required,
//! the last one also as a prefix, ranking by the field a word is found in (title, acronym, tags,
//! description, organization name), ties in the requested order; and the index following every
//! write (edits, organization renames, visibility).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, list, put_ok, soft_delete, sorted};
use crate::helpers::{TestApp, id_of};

fn ds(title: &str) -> Value {
    json!({"title": title, "description": "Une description"})
}

async fn search(app: &TestApp, q: &str) -> Vec<String> {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    list(app, &format!("/api/1/datasets/?q={q}"), None).await
}

#[tokio::test]
async fn accents_and_case_are_folded_and_every_word_must_match() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let ecole_donnees = id_of(&created(&app, &key, ds("École des données")).await);
    let ecole = id_of(&created(&app, &key, ds("Ecole maternelle")).await);
    let donnees = id_of(&created(&app, &key, ds("DONNÉES ouvertes")).await);
    created(&app, &key, ds("Sans rapport")).await;

    let both = sorted(vec![ecole_donnees.clone(), ecole.clone()]);
    assert_eq!(sorted(search(&app, "ecole").await), both);
    assert_eq!(sorted(search(&app, "ÉCOLE").await), both);
    assert_eq!(sorted(search(&app, "  école!  ").await), both);
    assert_eq!(
        sorted(search(&app, "données").await),
        sorted(vec![ecole_donnees.clone(), donnees])
    );
    assert_eq!(
        search(&app, "ecole donnees").await,
        vec![ecole_donnees.clone()]
    );
    assert_eq!(search(&app, "donnees, école").await, vec![ecole_donnees]);
    assert!(search(&app, "ecole absent").await.is_empty());
    // A `q` without any word filters nothing.
    assert_eq!(search(&app, " ?! ").await.len(), 4);
}

#[tokio::test]
async fn only_the_last_word_matches_as_a_prefix() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let sport = id_of(&created(&app, &key, ds("Équipements sportifs")).await);
    assert_eq!(search(&app, "equip").await, vec![sport.clone()]);
    assert_eq!(search(&app, "sportifs equip").await, vec![sport.clone()]);
    assert_eq!(search(&app, "Équipements SPORT").await, vec![sport.clone()]);
    assert!(search(&app, "equip sportifs").await.is_empty());
    assert!(search(&app, "quipements").await.is_empty());
    // A word repeated as the last one is not a prefix any more.
    assert!(search(&app, "equip equip").await.is_empty());
}

#[tokio::test]
async fn every_field_is_searched_and_ranked_title_acronym_tags_description_organization() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let org = app.organization(&key, "Association Vélo Ville").await;
    // Created in the reverse of the expected order: the default sort (newest first) alone would
    // put them the other way round.
    let in_org = id_of(
        &created(
            &app,
            &key,
            json!({"title": "Pistes", "description": "d", "organization": org}),
        )
        .await,
    );
    let in_description = id_of(
        &created(
            &app,
            &key,
            json!({"title": "Comptages", "description": "Passages de vélos par jour"}),
        )
        .await,
    );
    let in_tags = id_of(
        &created(
            &app,
            &key,
            json!({"title": "Stationnement", "description": "d", "tags": ["velos-partages"]}),
        )
        .await,
    );
    let in_acronym = id_of(
        &created(
            &app,
            &key,
            json!({"title": "Location", "acronym": "VÉLOS", "description": "d"}),
        )
        .await,
    );
    let in_title = id_of(&created(&app, &key, ds("Vélos en libre service")).await);
    created(&app, &key, ds("Voitures")).await;
    let ranked = vec![in_title, in_acronym, in_tags, in_description, in_org];
    // `velo` is a prefix of `velos` and the whole word in the organization's name.
    assert_eq!(search(&app, "velo").await, ranked);
    assert_eq!(search(&app, "velos").await, ranked[..4]);
    assert_eq!(search(&app, "association").await, vec![ranked[4].clone()]);
    // Words may be found in different fields.
    assert_eq!(
        search(&app, "pistes association").await,
        vec![ranked[4].clone()]
    );
    // An explicit sort orders ties only: relevance first.
    assert_eq!(
        list(&app, "/api/1/datasets/?q=velo&sort=created", None).await,
        ranked
    );
}

#[tokio::test]
async fn more_words_in_a_better_field_rank_first() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    // Both words in the title.
    let both = id_of(&created(&app, &key, ds("Budget de Lyon")).await);
    // One in the title, one in the acronym.
    let title_acronym = id_of(
        &created(
            &app,
            &key,
            json!({"title": "Lyon", "acronym": "BUDGET", "description": "d"}),
        )
        .await,
    );
    // One in the title, one in the description.
    let title_description = id_of(
        &created(
            &app,
            &key,
            json!({"title": "Budget", "description": "Pour la ville de Lyon"}),
        )
        .await,
    );
    assert_eq!(
        search(&app, "budget lyon").await,
        vec![both, title_acronym, title_description]
    );
}

#[tokio::test]
async fn ties_follow_the_requested_sort() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let b = id_of(&created(&app, &key, ds("Budget B")).await);
    let c = id_of(&created(&app, &key, ds("Budget C")).await);
    let a = id_of(&created(&app, &key, ds("Budget A")).await);
    let path = "/api/1/datasets/?q=budget";
    // Newest first by default, as without `q`.
    assert_eq!(
        list(&app, path, None).await,
        vec![a.clone(), c.clone(), b.clone()]
    );
    assert_eq!(
        list(&app, &format!("{path}&sort=created"), None).await,
        vec![b.clone(), c.clone(), a.clone()]
    );
    assert_eq!(
        list(&app, &format!("{path}&sort=title"), None).await,
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        list(&app, &format!("{path}&sort=-title"), None).await,
        vec![c.clone(), b.clone(), a.clone()]
    );
    // Pages of a search, with its total.
    let r = app
        .get(&format!("{path}&sort=title&page=2&page_size=2"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["total"], 3);
    assert_eq!(r.json()["data"][0]["id"], c);
    let r = app.get(&format!("{path}&page=3&page_size=2"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

#[tokio::test]
async fn edits_reach_the_index_in_the_same_write() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let id = id_of(&created(&app, &key, ds("Ancien titre")).await);
    put_ok(
        &app,
        &id,
        &key,
        json!({"title": "Nouveau nom", "description": "Horaires des marées", "tags": ["littoral"],
               "acronym": "NN"}),
    )
    .await;
    assert!(search(&app, "ancien").await.is_empty());
    for q in ["nouveau", "marees", "littoral", "nn"] {
        assert_eq!(search(&app, q).await, vec![id.clone()], "{q}");
    }
    put_ok(&app, &id, &key, json!({"acronym": null, "tags": []})).await;
    assert!(search(&app, "littoral").await.is_empty());
    assert!(search(&app, "nn").await.is_empty());
    // A resource write (which rewrites the dataset row) keeps the search text.
    app.remote(&id, &key, "Fichier").await;
    assert_eq!(search(&app, "marees").await, vec![id]);
}

#[tokio::test]
async fn an_organization_rename_reaches_its_datasets_search_text() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let org = app.organization(&key, "Ville de Lyon").await;
    let other = app.organization(&key, "Ville de Lille").await;
    let id = id_of(
        &created(
            &app,
            &key,
            json!({"title": "Budget", "description": "d", "organization": org}),
        )
        .await,
    );
    let elsewhere = id_of(
        &created(
            &app,
            &key,
            json!({"title": "Budget", "description": "d", "organization": other}),
        )
        .await,
    );
    assert_eq!(search(&app, "budget lyon").await, vec![id.clone()]);
    let r = app
        .put(
            &format!("/api/1/organizations/{org}/"),
            &key,
            json!({"name": "Métropole de Grenoble"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(search(&app, "budget lyon").await.is_empty());
    assert_eq!(search(&app, "budget grenoble").await, vec![id.clone()]);
    assert_eq!(search(&app, "metropole").await, vec![id]);
    assert_eq!(search(&app, "lille").await, vec![elsewhere]);
}

#[tokio::test]
async fn search_keeps_the_visibility_rules() {
    let app = TestApp::new().await;
    let alice = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let public = id_of(&created(&app, &alice.key, ds("Relevés publics")).await);
    let private = id_of(
        &created(
            &app,
            &alice.key,
            json!({"title": "Relevés privés", "description": "d", "private": true}),
        )
        .await,
    );
    let deleted = id_of(&created(&app, &alice.key, ds("Relevés supprimés")).await);
    soft_delete(&app, &deleted, &alice.key).await;
    let archived = id_of(&created(&app, &alice.key, ds("Relevés archivés")).await);
    put_ok(
        &app,
        &archived,
        &alice.key,
        json!({"archived": "2024-01-01T00:00:00"}),
    )
    .await;
    assert_eq!(search(&app, "releves").await, vec![public.clone()]);
    assert_eq!(
        list(&app, "/api/1/datasets/?q=releves", Some(&bob.key)).await,
        vec![public.clone()]
    );
    let mine = list(&app, "/api/1/datasets/?q=releves", Some(&alice.key)).await;
    assert_eq!(
        sorted(mine),
        sorted(vec![public, private.clone(), deleted, archived])
    );
    assert_eq!(
        list(
            &app,
            "/api/1/datasets/?q=releves&private=true",
            Some(&alice.key)
        )
        .await,
        vec![private]
    );
}

#[tokio::test]
async fn too_many_words_are_refused() {
    let app = TestApp::new().await;
    let words: Vec<String> = (0..33).map(|i| format!("mot{i}")).collect();
    let r = app
        .get(&format!("/api/1/datasets/?q={}", words.join("+")), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["q"].is_string());
    // 32 are fine.
    let r = app
        .get(
            &format!("/api/1/datasets/?q={}", words[..32].join("+")),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
