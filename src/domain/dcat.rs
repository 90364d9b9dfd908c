//! DCAT-AP 3.0: datasets, their resources (distributions) and catalogs as RDF triples, with
//! licenses, frequencies and formats mapped to the EU vocabularies (the Publications Office's
//! authority tables), media types to IANA's, checksums as SPDX. Pure: the API layer reads the rows
//! and serialises the triples (`api::dcat`).
//!
//! Values DCAT-AP types by class (`sh:class` in its range shapes) are given their type here
//! (`<licence> a dct:LicenseDocument`), as the shapes check the data without importing the EU
//! vocabularies.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use oxrdf::vocab::{rdf, xsd};
use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};

use super::dataset::Dataset;
use super::resource::Resource;

pub const DCAT: &str = "http://www.w3.org/ns/dcat#";
pub const DCT: &str = "http://purl.org/dc/terms/";
pub const FOAF: &str = "http://xmlns.com/foaf/0.1/";
pub const SPDX: &str = "http://spdx.org/rdf/terms#";
pub const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
const EU_LICENCE: &str = "http://publications.europa.eu/resource/authority/licence/";
const EU_FREQUENCY: &str = "http://publications.europa.eu/resource/authority/frequency/";
const EU_FILE_TYPE: &str = "http://publications.europa.eu/resource/authority/file-type/";
const IANA_MEDIA_TYPES: &str = "https://www.iana.org/assignments/media-types/";

/// Where rudata's objects are named: the API's public base and the files' public base.
pub struct Urls<'a> {
    pub api: &'a str,
    pub files: &'a str,
}

/// A publisher (`foaf:Agent`): an organization, or the site.
pub struct Agent {
    pub iri: String,
    pub name: String,
}

/// A page of a catalog, described with Hydra as udata does.
pub struct Paging {
    /// The URL of this page without its `page` parameter: `…/catalog.ttl?page_size=100`.
    pub url_without_page: String,
    pub page: i64,
    pub page_size: i64,
    pub total: i64,
}

/// The catalog's own description.
pub struct CatalogInfo<'a> {
    pub iri: String,
    pub title: &'a str,
    pub description: &'a str,
    pub homepage: &'a str,
    pub publisher: &'a Agent,
}

/// Triples, in the order they are added, each once (an organization, a license or a frequency
/// shared by datasets is described once).
#[derive(Default)]
pub struct Graph {
    pub triples: Vec<Triple>,
    seen: HashSet<Triple>,
}

fn iri(ns: &str, local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{ns}{local}"))
}

impl Graph {
    fn add(&mut self, s: impl Into<NamedOrBlankNode>, p: NamedNode, o: impl Into<Term>) {
        let t = Triple::new(s, p, o);
        if self.seen.insert(t.clone()) {
            self.triples.push(t);
        }
    }

    fn typed(&mut self, s: impl Into<NamedOrBlankNode>, ns: &str, class: &str) {
        self.add(s, rdf::TYPE.into_owned(), iri(ns, class));
    }

    fn text(&mut self, s: impl Into<NamedOrBlankNode>, ns: &str, p: &str, value: &str) {
        self.add(s, iri(ns, p), Literal::new_simple_literal(value));
    }

    fn time(&mut self, s: impl Into<NamedOrBlankNode>, p: &str, at: &DateTime<Utc>) {
        let lexical = at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        self.add(
            s,
            iri(DCT, p),
            Literal::new_typed_literal(lexical, xsd::DATE_TIME),
        );
    }

    fn date(&mut self, s: impl Into<NamedOrBlankNode>, p: &str, day: &NaiveDate) {
        let lexical = day.format("%Y-%m-%d").to_string();
        self.add(
            s,
            iri(DCAT, p),
            Literal::new_typed_literal(lexical, xsd::DATE),
        );
    }
}

/// An IRI for a URL taken from input (a remote resource's): `None` when it is not a valid IRI.
fn url_iri(url: &str) -> Option<NamedNode> {
    NamedNode::new(url).ok()
}

/// The EU licence for udata's license ids; otherwise the license's own page, when it has one.
pub fn license_iri(id: &str, own_url: Option<&str>) -> Option<String> {
    let code = match id {
        "cc-by" => "CC_BY_4_0",
        "cc-by-sa" => "CC_BYSA_4_0",
        "cc-zero" => "CC0",
        "odc-odbl" => "ODC_BL",
        "odc-by" => "ODC_BY",
        "odc-pddl" => "ODC_PDDL",
        _ => return own_url.map(str::to_string),
    };
    Some(format!("{EU_LICENCE}{code}"))
}

/// The EU frequency for udata's frequency ids; `None` for those the table has no entry for.
pub fn frequency_iri(id: &str) -> Option<String> {
    let code = match id {
        "continuous" => "CONT",
        "oneMinute" => "1MIN",
        "fiveMinutes" => "5MIN",
        "tenMinutes" => "10MIN",
        "fifteenMinutes" => "15MIN",
        "thirtyMinutes" => "30MIN",
        "hourly" => "HOURLY",
        "bihourly" => "BIHOURLY",
        "trihourly" => "TRIHOURLY",
        "twelveHours" => "12HRS",
        "semidaily" => "DAILY_2",
        "daily" => "DAILY",
        "fiveTimesAWeek" => "WEEKLY_5",
        "threeTimesAWeek" => "WEEKLY_3",
        "semiweekly" => "WEEKLY_2",
        "weekly" => "WEEKLY",
        "biweekly" => "BIWEEKLY",
        "threeTimesAMonth" => "MONTHLY_3",
        "semimonthly" => "MONTHLY_2",
        "monthly" => "MONTHLY",
        "bimonthly" => "BIMONTHLY",
        "quarterly" => "QUARTERLY",
        "threeTimesAYear" => "ANNUAL_3",
        "semiannual" => "ANNUAL_2",
        "annual" => "ANNUAL",
        "biennial" => "BIENNIAL",
        "triennial" => "TRIENNIAL",
        "quadrennial" => "QUADRENNIAL",
        "quinquennial" => "QUINQUENNIAL",
        "decennial" => "DECENNIAL",
        "bidecennial" => "BIDECENNIAL",
        "tridecennial" => "TRIDECENNIAL",
        "punctual" => "AS_NEEDED",
        "irregular" => "IRREG",
        "never" => "NEVER",
        "notPlanned" => "NOT_PLANNED",
        "other" => "OTHER",
        "unknown" => "UNKNOWN",
        _ => return None,
    };
    Some(format!("{EU_FREQUENCY}{code}"))
}

/// The EU file type for a resource's format (case-insensitive); `None` when the table has none.
pub fn file_type_iri(format: &str) -> Option<String> {
    let code = match format.trim().to_ascii_lowercase().as_str() {
        "csv" => "CSV",
        "tsv" => "TSV",
        "json" => "JSON",
        "geojson" => "GEOJSON",
        "jsonld" | "json-ld" => "JSON_LD",
        "xml" => "XML",
        "rdf" => "RDF_XML",
        "ttl" => "RDF_TURTLE",
        "nt" => "RDF_N_TRIPLES",
        "pdf" => "PDF",
        "zip" => "ZIP",
        "gz" | "gzip" => "GZIP",
        "7z" => "7Z",
        "tar" => "TAR",
        "xls" => "XLS",
        "xlsx" => "XLSX",
        "ods" => "ODS",
        "odt" => "ODT",
        "doc" => "DOC",
        "docx" => "DOCX",
        "txt" => "TXT",
        "html" | "htm" => "HTML",
        "parquet" => "PARQUET",
        "shp" => "SHP",
        "kml" => "KML",
        "kmz" => "KMZ",
        "gpkg" => "GPKG",
        "png" => "PNG",
        "jpg" | "jpeg" => "JPEG",
        "gif" => "GIF",
        "tif" | "tiff" => "TIFF",
        _ => return None,
    };
    Some(format!("{EU_FILE_TYPE}{code}"))
}

/// IANA's page of a media type (`text/csv`), parameters dropped; `None` unless `type/subtype`.
pub fn media_type_iri(mime: &str) -> Option<String> {
    let essence = mime.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    (token(kind) && token(sub)).then(|| format!("{IANA_MEDIA_TYPES}{kind}/{sub}"))
}

/// A dataset's IRI: its API URL, as udata names it.
pub fn dataset_iri(urls: &Urls, id: &str) -> String {
    format!("{}/api/1/datasets/{id}/", urls.api)
}

fn agent(g: &mut Graph, a: &Agent) -> NamedNode {
    let node = NamedNode::new_unchecked(a.iri.clone());
    g.typed(node.clone(), FOAF, "Agent");
    g.text(node.clone(), FOAF, "name", &a.name);
    node
}

/// A dataset and its distributions. `license_url` is the license's own page (udata's list).
pub fn add_dataset(
    g: &mut Graph,
    urls: &Urls,
    d: &Dataset,
    last_update: &DateTime<Utc>,
    resources: &[Resource],
    publisher: Option<&Agent>,
    license_url: Option<&str>,
) -> NamedNode {
    let node = NamedNode::new_unchecked(dataset_iri(urls, &d.id));
    g.typed(node.clone(), DCAT, "Dataset");
    g.text(node.clone(), DCT, "identifier", &d.id);
    g.text(node.clone(), DCT, "title", &d.title);
    g.text(node.clone(), DCT, "description", &d.description);
    g.time(node.clone(), "issued", &d.created_at);
    g.time(node.clone(), "modified", last_update);
    for tag in &d.tags {
        g.text(node.clone(), DCAT, "keyword", tag);
    }
    // Its page on the catalog web site, for people.
    let page = NamedNode::new_unchecked(format!("{}/fr/datasets/{}/", urls.api, d.slug));
    g.typed(page.clone(), FOAF, "Document");
    g.add(node.clone(), iri(DCAT, "landingPage"), page);
    if let Some(iri) = frequency_iri(&d.frequency) {
        let f = NamedNode::new_unchecked(iri);
        g.typed(f.clone(), DCT, "Frequency");
        g.add(node.clone(), iri_dct("accrualPeriodicity"), f);
    }
    if let Some(a) = publisher {
        let p = agent(g, a);
        g.add(node.clone(), iri_dct("publisher"), p);
    }
    if let Some(t) = &d.temporal_coverage {
        let period = BlankNode::default();
        g.typed(period.clone(), DCT, "PeriodOfTime");
        g.date(period.clone(), "startDate", &t.start);
        if let Some(end) = &t.end {
            g.date(period.clone(), "endDate", end);
        }
        g.add(node.clone(), iri_dct("temporal"), period);
    }
    let license = d
        .license
        .as_deref()
        .and_then(|id| license_iri(id, license_url))
        .and_then(|l| url_iri(&l));
    if let Some(l) = &license {
        g.typed(l.clone(), DCT, "LicenseDocument");
    }
    for r in resources {
        let dist = add_distribution(g, urls, d, r, license.as_ref());
        g.add(node.clone(), iri(DCAT, "distribution"), dist);
    }
    node
}

fn iri_dct(p: &str) -> NamedNode {
    iri(DCT, p)
}

/// One resource as a `dcat:Distribution`: its access URL is the resource's permalink (which
/// follows the file as it is replaced), its download URL the file's current URL.
fn add_distribution(
    g: &mut Graph,
    urls: &Urls,
    d: &Dataset,
    r: &Resource,
    license: Option<&NamedNode>,
) -> NamedNode {
    let node = NamedNode::new_unchecked(format!(
        "{}/api/1/datasets/{}/resources/{}/",
        urls.api, d.id, r.id
    ));
    g.typed(node.clone(), DCAT, "Distribution");
    g.text(node.clone(), DCT, "identifier", &r.id);
    g.text(node.clone(), DCT, "title", &r.title);
    if let Some(desc) = r.description.as_deref().filter(|s| !s.is_empty()) {
        g.text(node.clone(), DCT, "description", desc);
    }
    g.time(node.clone(), "issued", &r.created_at);
    g.time(node.clone(), "modified", &r.last_modified);
    let current = match &r.file_key {
        Some(key) => url_iri(&format!("{}/{key}", urls.files)),
        None => url_iri(&r.url),
    };
    let permalink = NamedNode::new_unchecked(format!("{}/api/1/datasets/r/{}", urls.api, r.id));
    g.add(node.clone(), iri(DCAT, "accessURL"), permalink);
    // A remote API or documentation page is where the data is reached, not a file to download.
    if let Some(url) = current.filter(|_| r.kind != "api" && r.kind != "documentation") {
        g.add(node.clone(), iri(DCAT, "downloadURL"), url);
    }
    if let Some(l) = license {
        g.add(node.clone(), iri_dct("license"), l.clone());
    }
    if let Some(ft) = r.format.as_deref().and_then(file_type_iri) {
        let ft = NamedNode::new_unchecked(ft);
        g.typed(ft.clone(), DCT, "MediaTypeOrExtent");
        g.add(node.clone(), iri_dct("format"), ft);
    }
    if let Some(mt) = r.mime.as_deref().and_then(media_type_iri) {
        let mt = NamedNode::new_unchecked(mt);
        g.typed(mt.clone(), DCT, "MediaType");
        g.add(node.clone(), iri(DCAT, "mediaType"), mt);
    }
    if let Some(size) = r.filesize.filter(|s| *s >= 0) {
        g.add(
            node.clone(),
            iri(DCAT, "byteSize"),
            Literal::new_typed_literal(size.to_string(), xsd::DECIMAL),
        );
    }
    if let Some(c) = r.checksum.as_ref().filter(|c| c.kind == "sha1") {
        let sum = BlankNode::default();
        g.typed(sum.clone(), SPDX, "Checksum");
        g.add(
            sum.clone(),
            iri(SPDX, "algorithm"),
            iri(SPDX, "checksumAlgorithm_sha1"),
        );
        g.add(
            sum.clone(),
            iri(SPDX, "checksumValue"),
            Literal::new_typed_literal(c.value.to_ascii_lowercase(), xsd::HEX_BINARY),
        );
        g.add(node.clone(), iri(SPDX, "checksum"), sum);
    }
    node
}

/// The catalog node, linked to the datasets already added, and its Hydra paging.
pub fn add_catalog(
    g: &mut Graph,
    info: &CatalogInfo,
    datasets: &[NamedNode],
    paging: Option<&Paging>,
) {
    let node = NamedNode::new_unchecked(info.iri.clone());
    g.typed(node.clone(), DCAT, "Catalog");
    g.text(node.clone(), DCT, "title", info.title);
    g.text(node.clone(), DCT, "description", info.description);
    let publisher = agent(g, info.publisher);
    g.add(node.clone(), iri_dct("publisher"), publisher);
    if let Some(home) = url_iri(info.homepage) {
        g.typed(home.clone(), FOAF, "Document");
        g.add(node.clone(), iri(FOAF, "homepage"), home);
    }
    for d in datasets {
        g.add(node.clone(), iri(DCAT, "dataset"), d.clone());
    }
    if let Some(p) = paging {
        add_paging(g, &node, p);
    }
}

fn page_url(p: &Paging, page: i64) -> NamedNode {
    let sep = if p.url_without_page.contains('?') {
        '&'
    } else {
        '?'
    };
    NamedNode::new_unchecked(format!("{}{sep}page={page}", p.url_without_page))
}

/// udata's paging: the catalog is a `hydra:Collection` whose view is this page, a
/// `hydra:PartialCollectionView` (also typed `hydra:PagedCollection`, the older name harvesters
/// such as CKAN's look for) with the first, last, next and previous pages.
fn add_paging(g: &mut Graph, catalog: &NamedNode, p: &Paging) {
    let int = |n: i64| Literal::new_typed_literal(n.to_string(), xsd::INTEGER);
    let last = ((p.total + p.page_size - 1) / p.page_size).max(1);
    let view = page_url(p, p.page);
    g.typed(catalog.clone(), HYDRA, "Collection");
    g.add(catalog.clone(), iri(HYDRA, "totalItems"), int(p.total));
    g.add(catalog.clone(), iri(HYDRA, "view"), view.clone());
    g.typed(view.clone(), HYDRA, "PartialCollectionView");
    g.typed(view.clone(), HYDRA, "PagedCollection");
    g.add(view.clone(), iri(HYDRA, "totalItems"), int(p.total));
    g.add(view.clone(), iri(HYDRA, "itemsPerPage"), int(p.page_size));
    g.add(view.clone(), iri(HYDRA, "first"), page_url(p, 1));
    g.add(view.clone(), iri(HYDRA, "last"), page_url(p, last));
    if p.page < last {
        g.add(view.clone(), iri(HYDRA, "next"), page_url(p, p.page + 1));
    }
    if p.page > 1 {
        g.add(
            view,
            iri(HYDRA, "previous"),
            page_url(p, (p.page - 1).min(last)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies() {
        assert_eq!(
            license_iri("odc-odbl", None).as_deref(),
            Some("http://publications.europa.eu/resource/authority/licence/ODC_BL")
        );
        assert_eq!(
            license_iri("lov2", Some("https://x.example/lo")).as_deref(),
            Some("https://x.example/lo")
        );
        assert_eq!(license_iri("notspecified", None), None);
        assert_eq!(
            frequency_iri("semiannual").as_deref(),
            Some("http://publications.europa.eu/resource/authority/frequency/ANNUAL_2")
        );
        assert_eq!(frequency_iri("severalTimesADay"), None);
        assert_eq!(
            file_type_iri(" CSV").as_deref(),
            Some("http://publications.europa.eu/resource/authority/file-type/CSV")
        );
        assert_eq!(
            media_type_iri("text/csv; charset=utf-8").as_deref(),
            Some("https://www.iana.org/assignments/media-types/text/csv")
        );
        assert_eq!(media_type_iri("not a type"), None);
        assert_eq!(media_type_iri("text/<x>"), None);
    }
}
