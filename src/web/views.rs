//! The bodies of the site's pages: typed inputs in, HTML out, every value through `esc` (or the
//! Markdown renderer for descriptions).

use std::collections::HashMap;

use serde_json::Value;

use super::html::{esc, query_string, segment};
use super::i18n::Lang;
use super::layout::{dataset_list, date, pagination, search_form, size};
use super::markdown;
use crate::domain::dataset::Dataset;
use crate::domain::organization::Organization;
use crate::domain::reference::{DEFAULT_LICENSE, LICENSES};
use crate::domain::resource::Resource;
use crate::store::ActivityRow;
use crate::store::{DatasetRow, FileRecord};

/// The home page: the search box and the latest datasets.
pub fn home(lang: Lang, latest: &[DatasetRow], orgs: &HashMap<String, Organization>) -> String {
    let t = lang.strings();
    let mut out = format!(
        "<section class=\"hero\"><h1>{}</h1><p>{}</p>{}</section>\n",
        esc(t.home_title),
        esc(t.home_lead),
        search_form(lang, "", &[], None)
    );
    out.push_str(&format!(
        "<section aria-labelledby=\"latest\"><h2 id=\"latest\">{}</h2>\n",
        esc(t.latest)
    ));
    if latest.is_empty() {
        out.push_str(&format!("<p>{}</p>", esc(t.no_datasets)));
    } else {
        out.push_str(&dataset_list(lang, latest, orgs));
    }
    out.push_str(&format!(
        "<p><a href=\"/{}/datasets/\">{}</a></p></section>\n",
        lang.code(),
        esc(t.all_datasets)
    ));
    out
}

/// What a search page shows: the query as given, a page of results, the facets' counts.
pub struct SearchView<'a> {
    pub pairs: &'a [(String, String)],
    pub rows: &'a [DatasetRow],
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    /// `(parameter, [(value, count)])` for each facet shown.
    pub facets: Vec<(&'static str, Vec<(String, i64)>)>,
    /// Organizations of the results and of the organization facet.
    pub orgs: &'a HashMap<String, Organization>,
}

/// The parameters a search page writes into its own links and forms (the others stay as given).
const SEARCH_KEYS: [&str; 3] = ["q", "sort", "page"];

/// The label of a facet's parameter.
fn facet_label(lang: Lang, key: &str) -> &'static str {
    let t = lang.strings();
    match key {
        "license" => t.license,
        "format" => t.format,
        "organization" => t.organization,
        "tag" => t.tag,
        _ => "",
    }
}

/// How a filter's value shows: a license's title, an organization's name, the value otherwise.
fn value_label(key: &str, value: &str, orgs: &HashMap<String, Organization>) -> String {
    match key {
        "license" => license_title(value),
        "organization" => orgs
            .get(value)
            .map_or(value.to_string(), |o| o.name.clone()),
        _ => value.to_string(),
    }
}

fn license_title(id: &str) -> String {
    LICENSES
        .iter()
        .find(|l| l.id == id)
        .map_or(id.to_string(), |l| l.title.clone())
}

/// The search page.
pub fn search(lang: Lang, view: &SearchView) -> String {
    let t = lang.strings();
    let code = lang.code();
    let path = format!("/{code}/datasets/");
    let get = |key: &str| {
        view.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    };
    let filters: Vec<(String, String)> = view
        .pairs
        .iter()
        .filter(|(k, v)| !SEARCH_KEYS.contains(&k.as_str()) && !v.is_empty())
        .cloned()
        .collect();
    let sort = match get("sort") {
        "" => "-created",
        s => s,
    };
    let mut out = format!("<h1>{}</h1>\n", esc(t.datasets_title));
    out.push_str(&search_form(lang, get("q"), &filters, Some(sort)));
    out.push_str("<div class=\"search-layout\">\n<div class=\"facets\">");
    out.push_str(&format!("<h2>{}</h2>", esc(t.filters)));
    for (key, counts) in &view.facets {
        if counts.is_empty() {
            continue;
        }
        out.push_str(&format!("<h3>{}</h3><ul>", esc(facet_label(lang, key))));
        for (value, count) in counts {
            // A tag adds to the tags asked for; the other filters take one value.
            let mut pairs: Vec<(&str, &str)> = view
                .pairs
                .iter()
                .filter(|(k, v)| k != "page" && (k != key || (*key == "tag" && v != value)))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            pairs.push((key, value));
            let chosen = filters.iter().any(|(k, v)| k == key && v == value);
            out.push_str(&format!(
                "<li><a href=\"{path}?{query}\"{current}>{label} <span class=\"count\">({count})</span></a></li>",
                query = esc(&query_string(pairs)),
                current = if chosen { " aria-current=\"true\"" } else { "" },
                label = esc(&value_label(key, value, view.orgs)),
            ));
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>\n<div class=\"results\">");
    let count = if view.total == 1 {
        t.results_one
    } else {
        t.results_many
    };
    out.push_str(&format!(
        "<h2 id=\"results\">{}</h2>",
        esc(&count.replace("{n}", &view.total.to_string()))
    ));
    if !filters.is_empty() {
        out.push_str(&format!(
            "<p class=\"visually-hidden\">{}</p><ul class=\"chips\">",
            esc(t.active_filters)
        ));
        for (i, (key, value)) in filters.iter().enumerate() {
            let rest = view
                .pairs
                .iter()
                .filter(|(k, _)| k != "page")
                .filter(|p| !(p.0 == *key && p.1 == *value) || filters[..i].contains(p));
            let query = query_string(rest.map(|(k, v)| (k.as_str(), v.as_str())));
            let label = facet_label(lang, key);
            let label = if label.is_empty() {
                key.as_str()
            } else {
                label
            };
            out.push_str(&format!(
                "<li><a href=\"{path}?{query}\">{label}\u{a0}: {value} <span aria-hidden=\"true\">×</span><span class=\"visually-hidden\"> ({remove})</span></a></li>",
                query = esc(&query),
                label = esc(label),
                value = esc(&value_label(key, value, view.orgs)),
                remove = esc(t.remove_filter),
            ));
        }
        out.push_str("</ul>");
    }
    if view.rows.is_empty() {
        out.push_str(&format!("<p>{}</p>", esc(t.no_results)));
    } else {
        out.push_str(&dataset_list(lang, view.rows, view.orgs));
    }
    out.push_str(&pagination(
        lang,
        &path,
        view.pairs,
        view.page,
        view.page_size,
        view.total,
    ));
    out.push_str("</div>\n</div>\n");
    out
}

/// What a dataset page shows.
pub struct DatasetView<'a> {
    pub row: &'a DatasetRow,
    pub organization: Option<&'a Organization>,
    /// A page of its resources, each with its older files (newest first).
    pub resources: Vec<(Resource, Vec<FileRecord>)>,
    pub resources_total: i64,
    pub page: i64,
    pub page_size: i64,
    /// Where its resources' files are served from (`BaseUrl::files`), and the API's base.
    pub download_url: &'a dyn Fn(&Resource) -> String,
    pub file_url: &'a dyn Fn(&str) -> String,
    pub api: &'a str,
    /// Its newest activity log entries, as an anonymous reader may see them.
    pub activity: Vec<ActivityRow>,
}

/// The dataset page.
pub fn dataset(lang: Lang, view: &DatasetView) -> String {
    let t = lang.strings();
    let d: &Dataset = &view.row.dataset;
    let mut out = format!("<h1>{}</h1>\n", esc(&d.title));
    if d.archived.is_some() {
        out.push_str(&format!(
            "<p class=\"notice\" role=\"note\">{}</p>\n",
            esc(t.archived)
        ));
    }
    out.push_str("<div class=\"dataset-layout\">\n");
    out.push_str(&format!(
        "<section class=\"description\" aria-labelledby=\"description\"><h2 id=\"description\">{}</h2><div class=\"markdown\">{}</div></section>\n",
        esc(t.description),
        markdown::render(&d.description)
    ));
    out.push_str(&information(lang, view));
    out.push_str("</div>\n");
    out.push_str(&resources(lang, view));
    out.push_str(&activity(lang, view));
    out.push_str(&format!(
        "<p class=\"api-link\"><a href=\"{}/api/1/datasets/{}/\">{}</a></p>\n",
        esc(view.api),
        esc(&d.id),
        esc(t.in_api)
    ));
    out
}

/// The dataset's newest changes (its activity log), newest first, and a link to the whole log.
fn activity(lang: Lang, view: &DatasetView) -> String {
    let t = lang.strings();
    let entries: Vec<String> = view
        .activity
        .iter()
        .filter_map(|a| {
            let what = lang.activity(&a.key)?;
            let mut line = format!("{} · {}", date(lang, &a.created_at), esc(what));
            if let Some(title) = a.extras.get("resource_title").and_then(|v| v.as_str()) {
                line.push_str(&format!(" : {}", esc(title)));
            }
            if !a.changes.is_empty() {
                let fields: Vec<String> = a
                    .changes
                    .iter()
                    .map(|f| format!("<code>{}</code>", esc(f)))
                    .collect();
                line.push_str(&format!(
                    " ({} {})",
                    esc(t.changed_fields),
                    fields.join(", ")
                ));
            }
            Some(format!("<li>{line}</li>"))
        })
        .collect();
    if entries.is_empty() {
        return String::new();
    }
    format!(
        "<section class=\"activity\" aria-labelledby=\"activity\"><h2 id=\"activity\">{}</h2><ul>{}</ul><p><a href=\"{}/api/1/activity/?related_to={}\">{}</a></p></section>\n",
        esc(t.changes),
        entries.join(""),
        esc(view.api),
        esc(&view.row.dataset.id),
        esc(t.changes_all)
    )
}

/// The dataset's facts: license, frequency, organization, tags, dates.
fn information(lang: Lang, view: &DatasetView) -> String {
    let t = lang.strings();
    let code = lang.code();
    let d = &view.row.dataset;
    let mut out = format!(
        "<section class=\"information\" aria-labelledby=\"information\"><h2 id=\"information\">{}</h2><dl>",
        esc(t.information)
    );
    let license_id = d.license.as_deref().unwrap_or(DEFAULT_LICENSE);
    let license = LICENSES.iter().find(|l| l.id == license_id);
    let license_html = match license {
        Some(l) if license_id != DEFAULT_LICENSE => match l.url.as_deref().filter(|u| is_web(u)) {
            Some(url) => format!("<a href=\"{}\">{}</a>", esc(url), esc(&l.title)),
            None => esc(&l.title).to_string(),
        },
        _ => esc(t.no_license).to_string(),
    };
    out.push_str(&format!(
        "<dt>{}</dt><dd>{license_html}</dd>",
        esc(t.license)
    ));
    out.push_str(&format!(
        "<dt>{}</dt><dd>{}</dd>",
        esc(t.frequency),
        esc(&lang.frequency(&d.frequency))
    ));
    if let Some(org) = view.organization {
        out.push_str(&format!(
            "<dt>{}</dt><dd><a href=\"/{code}/organizations/{}/\">{}</a></dd>",
            esc(t.organization),
            esc(&segment(&org.slug)),
            esc(&org.name)
        ));
    }
    if !d.tags.is_empty() {
        out.push_str(&format!("<dt>{}</dt><dd><ul class=\"tags\">", esc(t.tags)));
        for tag in &d.tags {
            out.push_str(&format!(
                "<li><a href=\"/{code}/datasets/?{}\">{}</a></li>",
                esc(&query_string([("tag", tag.as_str())])),
                esc(tag)
            ));
        }
        out.push_str("</ul></dd>");
    }
    out.push_str(&format!(
        "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl></section>\n",
        esc(t.created),
        date(lang, &d.created_at),
        esc(t.updated),
        date(lang, &view.row.last_update.max(d.last_modified)),
    ));
    out
}

/// Whether a URL written by a publisher may be a link: `http` or `https` only.
fn is_web(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")) && markdown::safe_url(url)
}

/// Every resource of the page: download link, format, size, checksum, availability, permalink,
/// and the older files still served.
fn resources(lang: Lang, view: &DatasetView) -> String {
    let t = lang.strings();
    let code = lang.code();
    let mut out = format!(
        "<section class=\"files\" aria-labelledby=\"files\"><h2 id=\"files\">{} <span class=\"count\">({})</span></h2>\n",
        esc(t.files),
        view.resources_total
    );
    if view.resources.is_empty() {
        out.push_str(&format!("<p>{}</p>", esc(t.no_files)));
    }
    out.push_str("<ul class=\"resources\">\n");
    for (r, older) in &view.resources {
        out.push_str(&format!(
            "<li class=\"resource\" id=\"resource-{id}\"><h3>{title}</h3>",
            id = esc(&r.id),
            title = esc(&r.title)
        ));
        if let Some(description) = r.description.as_deref().filter(|d| !d.trim().is_empty()) {
            out.push_str(&format!(
                "<div class=\"markdown\">{}</div>",
                markdown::render(description)
            ));
        }
        out.push_str("<dl class=\"facts\">");
        if let Some(format) = r.format.as_deref().filter(|f| !f.is_empty()) {
            out.push_str(&format!(
                "<div><dt>{}</dt><dd>{}</dd></div>",
                esc(t.format),
                esc(format)
            ));
        }
        if let Some(bytes) = r.filesize {
            out.push_str(&format!(
                "<div><dt>{}</dt><dd>{}</dd></div>",
                esc(t.size),
                size(lang, bytes)
            ));
        }
        if let Some(c) = &r.checksum {
            out.push_str(&format!(
                "<div><dt>{}</dt><dd><code>{}:{}</code></dd></div>",
                esc(t.checksum),
                esc(&c.kind),
                esc(&c.value)
            ));
        }
        out.push_str(&format!(
            "<div><dt>{}</dt><dd>{}</dd></div></dl>",
            esc(t.availability),
            availability(lang, r)
        ));
        let url = (view.download_url)(r);
        out.push_str("<p class=\"actions\">");
        let uploaded = r.file_key.is_some();
        if uploaded || is_web(&url) {
            out.push_str(&format!(
                "<a class=\"button\" href=\"{}\"{}>{} <span class=\"visually-hidden\">{}</span></a> ",
                esc(&url),
                if uploaded { " download" } else { "" },
                esc(t.download),
                esc(&r.title)
            ));
        }
        out.push_str(&format!(
            "<a href=\"/{code}/datasets/r/{}\">{} <span class=\"visually-hidden\">{}</span></a></p>",
            esc(&r.id),
            esc(t.permalink),
            esc(&r.title)
        ));
        out.push_str(&history(lang, view, r, older));
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
    let pairs = [("page".to_string(), view.page.to_string())];
    out.push_str(&pagination(
        lang,
        &format!("/{code}/datasets/{}/", segment(&view.row.dataset.slug)),
        &pairs,
        view.page,
        view.page_size,
        view.resources_total,
    ));
    out.push_str("</section>\n");
    out
}

/// The most older files listed on the page (the API's `versions` lists them all).
pub const HISTORY_SHOWN: usize = 5;

/// A resource's older files, each still downloadable (the API's `…/resources/{rid}/versions/`).
/// `older`: the newest of them, one more than shown when there are more.
fn history(lang: Lang, view: &DatasetView, r: &Resource, older: &[FileRecord]) -> String {
    let t = lang.strings();
    if older.is_empty() {
        return String::new();
    }
    let count = if older.len() > HISTORY_SHOWN {
        format!("{HISTORY_SHOWN}+")
    } else {
        older.len().to_string()
    };
    let mut out = format!(
        "<details class=\"history\"><summary>{} <span class=\"count\">({count})</span></summary><ul>",
        esc(t.history),
    );
    for f in older.iter().take(HISTORY_SHOWN) {
        out.push_str(&format!(
            "<li><a href=\"{}\" download>{}</a> · {} · {} · <code>sha1:{}</code></li>",
            esc(&(view.file_url)(&f.key)),
            esc(&f.filename),
            date(lang, &f.created_at),
            size(lang, f.filesize),
            esc(&f.sha1)
        ));
    }
    if older.len() > HISTORY_SHOWN {
        out.push_str(&format!(
            "<li><a href=\"{}/api/1/datasets/{}/resources/{}/versions/\">…</a></li>",
            esc(view.api),
            esc(&view.row.dataset.id),
            esc(&r.id)
        ));
    }
    out.push_str("</ul></details>");
    out
}

/// What the remote checks found: `check:available` and `check:date` of the resource's extras.
fn availability(lang: Lang, r: &Resource) -> String {
    let t = lang.strings();
    let checked = r
        .extras
        .get("check:date")
        .and_then(Value::as_str)
        .and_then(crate::domain::time::parse_client)
        .map(|at| format!(" ({} {})", esc(t.checked_on), date(lang, &at)))
        .unwrap_or_default();
    match r.extras.get("check:available").and_then(Value::as_bool) {
        Some(true) => format!("<span class=\"ok\">{}</span>{checked}", esc(t.available)),
        Some(false) => format!("<span class=\"ko\">{}</span>{checked}", esc(t.unavailable)),
        None => esc(t.not_checked).to_string(),
    }
}

/// The organization page: its description, website, and a page of its public datasets.
pub fn organization(
    lang: Lang,
    org: &Organization,
    rows: &[DatasetRow],
    total: i64,
    page: i64,
    page_size: i64,
) -> String {
    let t = lang.strings();
    let code = lang.code();
    let mut out = format!("<h1>{}", esc(&org.name));
    if let Some(acronym) = org.acronym.as_deref().filter(|a| !a.is_empty()) {
        out.push_str(&format!(
            " <span class=\"acronym\">({})</span>",
            esc(acronym)
        ));
    }
    out.push_str("</h1>\n");
    if !org.description.trim().is_empty() {
        out.push_str(&format!(
            "<section aria-labelledby=\"description\"><h2 id=\"description\">{}</h2><div class=\"markdown\">{}</div>",
            esc(t.description),
            markdown::render(&org.description)
        ));
        if let Some(url) = org.url.as_deref().filter(|u| is_web(u)) {
            out.push_str(&format!(
                "<p>{} : <a href=\"{}\">{}</a></p>",
                esc(t.website),
                esc(url),
                esc(url)
            ));
        }
        out.push_str("</section>\n");
    }
    out.push_str(&format!(
        "<section aria-labelledby=\"datasets\"><h2 id=\"datasets\">{} <span class=\"count\">({total})</span></h2>\n",
        esc(t.org_datasets)
    ));
    let orgs = HashMap::from([(org.id.clone(), org.clone())]);
    if rows.is_empty() {
        out.push_str(&format!("<p>{}</p>", esc(t.no_datasets)));
    } else {
        out.push_str(&dataset_list(lang, rows, &orgs));
    }
    let path = format!("/{code}/organizations/{}/", segment(&org.slug));
    out.push_str(&pagination(lang, &path, &[], page, page_size, total));
    out.push_str("</section>\n");
    out
}

/// An error page: its heading and text.
pub fn error(lang: Lang, heading: &str, text: &str) -> String {
    let t = lang.strings();
    format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"/{}/\">{}</a></p>\n",
        esc(heading),
        esc(text),
        lang.code(),
        esc(t.back_home)
    )
}
