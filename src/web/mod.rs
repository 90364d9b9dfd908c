//! The catalog web site: server-rendered HTML pages of the public catalog (home, search, a
//! dataset, an organization), in French and English, under data.gouv.fr's URL shapes. No
//! JavaScript: links and forms do everything.
//!
//! Handlers (`pages`) find objects through `api::lookup` (the API's visibility rules: private is
//! 404, deleted 410, an old slug 308) and read through the store's queries as the API does; the
//! views (`views`, `layout`) are plain functions from typed values to HTML, every value written
//! through the one escaping helper (`html::esc`) or the safe Markdown renderer (`markdown`). The
//! site is anonymous: a page is the same for everyone, so the response cache and the HTTP
//! validators of the API (`api::cache`, `api::http_cache`) serve it too.

mod html;
pub mod i18n;
mod layout;
mod markdown;
pub mod pages;
mod views;

/// Whether `path` (without its trailing slash) is one of the site's pages or its stylesheet: what
/// the response cache keeps and the HTTP validators tag, as they do the API's reads.
pub fn is_page(path: &str) -> bool {
    matches!(path, "/" | "/fr" | "/en")
        || ["/fr/", "/en/", "/static/"]
            .iter()
            .any(|p| path.starts_with(p))
}

/// Whether the page at `path` is in the visitor's language (`Accept-Language`) rather than its
/// URL's: the home page at `/`.
pub fn negotiates_language(path: &str) -> bool {
    path == "/"
}
