//! The page shell (skip link, header with the main navigation and the language switch, `main`,
//! footer) and the pieces several pages share: a dataset list, the search form, pagination,
//! dates and sizes in the page's language.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};

use super::html::{esc, query_string, segment};
use super::i18n::Lang;
use super::markdown;
use crate::domain::organization::Organization;
use crate::store::DatasetRow;

/// The stylesheet's path; its `?v=` changes with its content, so it may be kept a year.
pub const STYLESHEET: &str = "/static/site.css";

/// A whole page: its language, its title, the path (and query) it has in either language
/// (without the language's segment: `/datasets/x/`), and the HTML of its `main`.
pub struct Page<'a> {
    pub lang: Lang,
    pub title: &'a str,
    pub path: &'a str,
    pub body: String,
}

/// The HTML document of `page`.
pub fn document(page: &Page) -> String {
    let t = page.lang.strings();
    let lang = page.lang.code();
    let other = page.lang.other();
    let on_datasets = page.path.starts_with("/datasets");
    let title = if page.title == t.site_title {
        t.site_title.to_string()
    } else {
        format!("{} · {}", page.title, t.site_title)
    };
    let mut out = String::with_capacity(page.body.len() + 2048);
    out.push_str(&format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"{STYLESHEET}?v={version}\">\n\
         <link rel=\"alternate\" hreflang=\"{other}\" href=\"/{other}{path}\">\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">{skip}</a>\n\
         <header class=\"site-header\"><div class=\"wrap bar\">\
         <a class=\"brand\" href=\"/{lang}/\">{site}</a>\
         <nav aria-label=\"{main_nav}\"><ul>\
         <li><a href=\"/{lang}/datasets/\"{current}>{datasets}</a></li>\
         <li><a href=\"/api/1/\">{api}</a></li></ul></nav>\
         <nav aria-label=\"{language_nav}\"><a href=\"/{other}{path}\" hreflang=\"{other}\" lang=\"{other}\">{other_name}</a></nav>\
         </div></header>\n<main id=\"main\" tabindex=\"-1\"><div class=\"wrap\">\n",
        title = esc(&title),
        version = *super::pages::STYLESHEET_VERSION,
        other = other.code(),
        path = esc(page.path),
        skip = esc(t.skip_link),
        site = esc(t.site_title),
        main_nav = esc(t.main_nav),
        current = if on_datasets {
            " aria-current=\"page\""
        } else {
            ""
        },
        datasets = esc(t.nav_datasets),
        api = esc(t.nav_api),
        language_nav = esc(t.language_nav),
        other_name = esc(other.strings().language_name),
    ));
    out.push_str(&page.body);
    out.push_str(&format!(
        "</div></main>\n<footer class=\"site-footer\"><div class=\"wrap\"><p>{}</p></div></footer>\n</body>\n</html>\n",
        esc(t.footer)
    ));
    out
}

/// A date in the page's language, as a `<time>`.
pub fn date(lang: Lang, at: &DateTime<Utc>) -> String {
    let t = lang.strings();
    let month = t.months[at.month0() as usize];
    // "28 novembre 2026", "28 November 2026".
    let text = format!("{} {month} {}", at.day(), at.year());
    format!(
        "<time datetime=\"{}\">{}</time>",
        at.format("%Y-%m-%d"),
        esc(&text)
    )
}

/// A size in bytes, in the largest unit under 1,000 (one decimal from the kilobyte on).
pub fn size(lang: Lang, bytes: i64) -> String {
    let t = lang.strings();
    if bytes < 1000 {
        return format!("{bytes}\u{a0}{}", t.units[0]);
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 1;
    while value >= 1000.0 && unit < t.units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let text = format!("{value:.1}").replace('.', &t.decimal.to_string());
    format!("{text}\u{a0}{}", t.units[unit])
}

/// A list of datasets (title linked, publisher, last update, a short summary), each a card
/// under an `h3`.
pub fn dataset_list(
    lang: Lang,
    rows: &[DatasetRow],
    orgs: &HashMap<String, Organization>,
) -> String {
    let t = lang.strings();
    let code = lang.code();
    let mut out = String::from("<ul class=\"cards\">\n");
    for row in rows {
        let d = &row.dataset;
        let summary = d
            .description_short
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(&d.description);
        out.push_str(&format!(
            "<li class=\"card\"><h3><a href=\"/{code}/datasets/{slug}/\">{title}</a></h3><p class=\"meta\">",
            slug = esc(&segment(&d.slug)),
            title = esc(&d.title),
        ));
        if let Some(org) = d.organization_id.as_ref().and_then(|id| orgs.get(id)) {
            out.push_str(&format!("{} · ", esc(&org.name)));
        }
        out.push_str(&format!(
            "{} {}</p><p>{}</p></li>\n",
            esc(t.updated),
            date(lang, &row.last_update.max(d.last_modified)),
            esc(&markdown::excerpt(summary, 220)),
        ));
    }
    out.push_str("</ul>\n");
    out
}

/// The search form: the words, and the filters and order kept as they are (`kept`), so that new
/// words search within them.
pub fn search_form(lang: Lang, q: &str, kept: &[(String, String)], sort: Option<&str>) -> String {
    let t = lang.strings();
    let mut out = format!(
        "<form class=\"search\" role=\"search\" action=\"/{code}/datasets/\" method=\"get\">\
         <label for=\"q\">{label}</label><div class=\"search-row\">\
         <input id=\"q\" name=\"q\" type=\"search\" value=\"{q}\">",
        code = lang.code(),
        label = esc(t.search_label),
        q = esc(q),
    );
    if let Some(sort) = sort {
        out.push_str(&format!(
            "<label class=\"inline\" for=\"sort\">{}</label><select id=\"sort\" name=\"sort\">",
            esc(t.sort_label)
        ));
        for (value, label) in [
            ("-created", t.sort_created),
            ("-last_update", t.sort_updated),
        ] {
            let selected = if value == sort { " selected" } else { "" };
            out.push_str(&format!(
                "<option value=\"{value}\"{selected}>{}</option>",
                esc(label)
            ));
        }
        out.push_str("</select>");
    }
    out.push_str(&format!(
        "<button type=\"submit\">{}</button></div>",
        esc(t.search_button)
    ));
    for (key, value) in kept {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(key),
            esc(value)
        ));
    }
    out.push_str("</form>\n");
    out
}

/// Links to the previous and next pages of a list of `total` items, `size` a page, at `path`
/// with the query `pairs` (whose `page` is replaced).
pub fn pagination(
    lang: Lang,
    path: &str,
    pairs: &[(String, String)],
    page: i64,
    size: i64,
    total: i64,
) -> String {
    let t = lang.strings();
    let pages = (total + size - 1) / size;
    if pages <= 1 {
        return String::new();
    }
    let link = |n: i64| {
        let n = n.to_string();
        let query = query_string(
            pairs
                .iter()
                .filter(|(k, _)| k != "page")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain([("page", n.as_str())]),
        );
        format!("{path}?{query}")
    };
    let mut out = format!(
        "<nav class=\"pager\" aria-label=\"{}\"><ul>",
        esc(t.pagination)
    );
    if page > 1 {
        out.push_str(&format!(
            "<li><a rel=\"prev\" href=\"{}\">{}</a></li>",
            esc(&link(page - 1)),
            esc(t.previous_page)
        ));
    }
    let position = t
        .page_of
        .replace("{n}", &page.to_string())
        .replace("{m}", &pages.to_string());
    out.push_str(&format!(
        "<li aria-current=\"page\">{}</li>",
        esc(&position)
    ));
    if page < pages {
        out.push_str(&format!(
            "<li><a rel=\"next\" href=\"{}\">{}</a></li>",
            esc(&link(page + 1)),
            esc(t.next_page)
        ));
    }
    out.push_str("</ul></nav>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_each_language() {
        assert_eq!(size(Lang::Fr, 512), "512\u{a0}o");
        assert_eq!(size(Lang::Fr, 1_540_000), "1,5\u{a0}Mo");
        assert_eq!(size(Lang::En, 1_540_000), "1.5\u{a0}MB");
        assert_eq!(size(Lang::En, 3_000_000_000_000), "3000.0\u{a0}GB");
    }
}
