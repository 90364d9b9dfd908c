//! The web site's escaping: descriptions are Markdown rendered without raw HTML and with safe link
//! targets only; every other value written by a publisher (titles, tags, organization names,
//! resource titles and URLs, query strings) is escaped.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, id_of};
use crate::web_pages::page;

/// Checks every element of a page built from hostile input. Text is escaped, so each `<` of the
/// page opens a real element: none may be a script, a frame or an SVG, none may carry an event
/// handler attribute, and every link or image target must be `http`, `https`, `mailto` or
/// relative. (The escaped text itself may read `onerror=` or `javascript:` harmlessly.)
fn assert_inert(body: &str) {
    for element in body.split('<').skip(1) {
        let Some(end) = element.find('>') else {
            panic!("an unclosed element in:\n{body}");
        };
        let tag = &element[..end];
        // The layout's empty icon (it spares the browser a request for `/favicon.ico`).
        if tag == "link rel=\"icon\" href=\"data:,\"" {
            continue;
        }
        let name = tag.split([' ', '/']).next().unwrap_or("").to_lowercase();
        assert!(
            !matches!(
                name.as_str(),
                "script" | "iframe" | "svg" | "object" | "embed" | "style" | "form" | "base"
            ) || (name == "form" && tag.contains("action=\"/")),
            "<{tag}> in:\n{body}"
        );
        // Outside the quoted values (the odd pieces between quotes are values), no `on…=`.
        for (i, piece) in tag.split('"').enumerate() {
            if i % 2 == 1 {
                continue;
            }
            for word in piece.split_whitespace() {
                assert!(
                    !word.to_lowercase().starts_with("on"),
                    "an event attribute in <{tag}>:\n{body}"
                );
            }
        }
        for attribute in ["href=\"", "src=\""] {
            if let Some(start) = tag.find(attribute) {
                let value = &tag[start + attribute.len()..];
                let value = value.split('"').next().unwrap().to_lowercase();
                let scheme = value
                    .find([':', '/', '?', '#'])
                    .filter(|&i| value.as_bytes()[i] == b':');
                assert!(
                    scheme.is_none_or(|i| matches!(&value[..i], "http" | "https" | "mailto")),
                    "an unsafe target in <{tag}>"
                );
            }
        }
    }
}

#[tokio::test]
async fn markdown_descriptions_render_without_html_or_unsafe_links() {
    let app = TestApp::new().await;
    let description = "# Titre\n\nDu **gras** et [un lien](https://example.org/a?b=1&c=2).\n\n\
        <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n\
        [clic](javascript:alert(1)) [clic2](JAVASCRIPT:alert(1)) [clic3](java\tscript:alert(1))\n\n\
        <javascript:alert(1)> ![image](javascript:alert(1)) [d](data:text/html;base64,PHNjcmlwdD4=)\n\n\
        [attr](https://e.org/\"onclick=\"alert(1)) <a href=\"javascript:alert(1)\" onclick=\"x\">raw</a>\n\n\
        <iframe src=\"https://evil.example\"></iframe> <svg onload=alert(1)>";
    let r = app
        .post(
            "/api/1/datasets/",
            &app.admin_key,
            json!({"title": "Hostile", "description": description}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let body = page(
        &app,
        &format!("/fr/datasets/{}/", r.json()["slug"].as_str().unwrap()),
    )
    .await
    .text();
    assert_inert(&body);
    // The Markdown itself renders: headings under the page's, emphasis, a safe link.
    assert!(body.contains("<h3>Titre</h3>"), "{body}");
    assert!(body.contains("<strong>gras</strong>"), "{body}");
    assert!(
        body.contains("<a href=\"https://example.org/a?b=1&amp;c=2\">un lien</a>"),
        "{body}"
    );
    // Raw HTML shows as text.
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
    // Refused links keep their words.
    assert!(body.contains("clic") && body.contains("image"), "{body}");
}

#[tokio::test]
async fn titles_tags_names_and_urls_are_escaped_everywhere() {
    let app = TestApp::new().await;
    let hostile = "<script>alert('t')</script>\"><b onmouseover=alert(1)>";
    let org = app.organization(&app.admin_key, hostile).await;
    let r = app
        .post(
            "/api/1/datasets/",
            &app.admin_key,
            json!({"title": hostile, "description": hostile, "description_short": hostile,
                   "organization": org, "tags": ["x\"onclick=\"alert(1)"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ds = r.json();
    let remote = app
        .post(
            &format!("/api/1/datasets/{}/resources/", id_of(&ds)),
            &app.admin_key,
            json!({"title": hostile, "description": hostile, "filetype": "remote",
                   "url": "https://example.org/a\"onclick=\"alert(1).csv", "format": "<b>csv"}),
        )
        .await;
    let org_slug = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json()["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let slug = ds["slug"].as_str().unwrap();
    for path in [
        "/fr/".to_string(),
        "/fr/datasets/".to_string(),
        format!("/fr/datasets/?q=alert&tag={}", "x%22onclick%3D%22alert(1)"),
        format!("/fr/datasets/{slug}/"),
        format!("/en/organizations/{org_slug}/"),
        "/fr/datasets/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E".to_string(),
    ] {
        let r = page(&app, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let body = r.text();
        assert_inert(&body);
    }
    // The resource was refused or kept: either way its page above was inert; when kept, its
    // title shows escaped.
    if remote.status == StatusCode::CREATED {
        let body = page(&app, &format!("/fr/datasets/{slug}/")).await.text();
        assert!(
            body.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;"),
            "{body}"
        );
    }
}
