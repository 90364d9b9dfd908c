//! Reference lists served under `/api/1/datasets/...` and used by validation:
//! licenses, update frequencies, resource types, upload extensions, organization roles.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// A license as `GET /api/1/datasets/licenses/` returns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct License {
    pub id: String,
    pub title: String,
    pub maintainer: Option<String>,
    pub url: Option<String>,
    pub flags: Vec<String>,
    pub alternate_urls: Vec<String>,
    pub alternate_titles: Vec<String>,
}

/// The licenses data.gouv.fr offers (ids, titles and URLs as udata's license list has them).
pub static LICENSES: LazyLock<Vec<License>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("licenses.json")).expect("embedded licenses.json is valid")
});

/// The pseudo-license emitted when a dataset has none.
pub const DEFAULT_LICENSE: &str = "notspecified";

pub fn is_license(id: &str) -> bool {
    LICENSES.iter().any(|l| l.id == id)
}

/// Update frequencies `(id, label)`, in udata's order.
pub const FREQUENCIES: [(&str, &str); 40] = [
    ("continuous", "Real time"),
    ("oneMinute", "Every minute"),
    ("fiveMinutes", "Every five minutes"),
    ("tenMinutes", "Every ten minutes"),
    ("fifteenMinutes", "Every fifteen minutes"),
    ("thirtyMinutes", "Every thirty minute"),
    ("hourly", "Every hour"),
    ("bihourly", "Every two hours"),
    ("trihourly", "Every three hours"),
    ("twelveHours", "Every twelve hours"),
    ("severalTimesADay", "Several times a day"),
    ("threeTimesADay", "Three times a day"),
    ("semidaily", "Twice a day"),
    ("daily", "Daily"),
    ("fiveTimesAWeek", "Five times a week"),
    ("threeTimesAWeek", "Three times a week"),
    ("semiweekly", "Twice a week"),
    ("weekly", "Weekly"),
    ("biweekly", "Every two weeks"),
    ("threeTimesAMonth", "Three times a month"),
    ("semimonthly", "Twice a month"),
    ("monthly", "Monthly"),
    ("bimonthly", "Every two months"),
    ("quarterly", "Quarterly"),
    ("threeTimesAYear", "Three times a year"),
    ("semiannual", "Twice a year"),
    ("annual", "Annually"),
    ("biennial", "Every two years"),
    ("triennial", "Every three years"),
    ("quadrennial", "Every four years"),
    ("quinquennial", "Every five years"),
    ("decennial", "Every ten years"),
    ("bidecennial", "Every twenty years"),
    ("tridecennial", "Every thirty years"),
    ("punctual", "Punctual"),
    ("irregular", "Irregular"),
    ("never", "Never"),
    ("notPlanned", "Not planned"),
    ("other", "Other"),
    ("unknown", "Unknown"),
];

/// Legacy frequency ids udata still accepts, and what they become.
const LEGACY_FREQUENCIES: [(&str, &str); 5] = [
    ("realtime", "continuous"),
    ("fourTimesADay", "severalTimesADay"),
    ("fourTimesAWeek", "other"),
    ("fortnighly", "biweekly"),
    ("biannual", "semiannual"),
];

/// Parses a frequency id, mapping legacy aliases; `None` when unknown.
pub fn parse_frequency(input: &str) -> Option<&'static str> {
    if let Some((id, _)) = FREQUENCIES.iter().find(|(id, _)| *id == input) {
        return Some(id);
    }
    LEGACY_FREQUENCIES
        .iter()
        .find(|(old, _)| *old == input)
        .map(|(_, new)| *new)
}

/// How long a dataset of this frequency may go without an update, in seconds.
/// `None` for frequencies with no expected cadence (udata: `continuous`, `punctual`, `irregular`, …).
pub fn frequency_delta_secs(id: &str) -> Option<i64> {
    const MIN: i64 = 60;
    const HOUR: i64 = 3600;
    const DAY: i64 = 86400;
    Some(match id {
        "oneMinute" => MIN,
        "fiveMinutes" => 5 * MIN,
        "tenMinutes" => 10 * MIN,
        "fifteenMinutes" => 15 * MIN,
        "thirtyMinutes" => 30 * MIN,
        "hourly" => HOUR,
        "bihourly" => 2 * HOUR,
        "trihourly" => 3 * HOUR,
        "twelveHours" => 12 * HOUR,
        "severalTimesADay" | "threeTimesADay" | "semidaily" | "daily" => DAY,
        "fiveTimesAWeek" | "threeTimesAWeek" | "semiweekly" | "weekly" => 7 * DAY,
        "biweekly" => 14 * DAY,
        "threeTimesAMonth" | "semimonthly" | "monthly" => 31 * DAY,
        "bimonthly" => 62 * DAY,
        "quarterly" => 93 * DAY,
        "threeTimesAYear" | "semiannual" | "annual" => 365 * DAY,
        "biennial" => 2 * 365 * DAY,
        "triennial" => 3 * 365 * DAY,
        "quadrennial" => 4 * 365 * DAY,
        "quinquennial" => 5 * 365 * DAY,
        "decennial" => 10 * 365 * DAY,
        "bidecennial" => 20 * 365 * DAY,
        "tridecennial" => 30 * 365 * DAY,
        _ => return None,
    })
}

/// Resource types `(id, label)`.
pub const RESOURCE_TYPES: [(&str, &str); 6] = [
    ("main", "Main file"),
    ("documentation", "Documentation"),
    ("update", "Update"),
    ("api", "API"),
    ("code", "Code repository"),
    ("other", "Other"),
];

pub fn is_resource_type(id: &str) -> bool {
    RESOURCE_TYPES.iter().any(|(t, _)| *t == id)
}

/// Organization member roles `(id, label, description)`.
pub const ORG_ROLES: [(&str, &str, &str); 3] = [
    (
        "admin",
        "Administrator",
        "Can manage the organization, its members and all its content.",
    ),
    (
        "editor",
        "Editor",
        "Can create and edit all the content of the organization.",
    ),
    (
        "partial_editor",
        "Partial editor",
        "Can create content and edit only some of the content.",
    ),
];

/// File extensions accepted for uploads (udata's defaults).
pub const ALLOWED_EXTENSIONS: [&str; 62] = [
    "tar", "gz", "tgz", "rar", "zip", "7z", "xz", "bz2", "csv", "txt", "json", "pdf", "xml", "rtf",
    "xsd", "ods", "odt", "odp", "odg", "xls", "xlsx", "doc", "docx", "pps", "ppt", "jpeg", "jpg",
    "jpe", "gif", "png", "dwg", "svg", "tiff", "ecw", "svgz", "jp2", "webp", "shp", "kml", "kmz",
    "gpx", "shx", "ovr", "geojson", "gpkg", "grib2", "rdf", "ttl", "n3", "dbf", "prj", "sql",
    "sqlite", "db", "epub", "sbn", "sbx", "cpg", "lyr", "owl", "dxf", "ics",
];

/// Extensions that chain with the one before them (`a.csv.gz` has format `csv.gz`).
const ARCHIVE_EXTENSIONS: [&str; 8] = ["tar", "gz", "tgz", "rar", "zip", "7z", "xz", "bz2"];

pub fn is_allowed_extension(ext: &str) -> bool {
    ext == "ssim" || ext == "other" || ALLOWED_EXTENSIONS.contains(&ext)
}

/// The sorted extension list served by `GET /api/1/datasets/extensions/`.
pub fn sorted_extensions() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = ALLOWED_EXTENSIONS.to_vec();
    v.push("ssim");
    v.push("other");
    v.sort_unstable();
    v
}

/// The extension that decides whether an upload is allowed: the last one.
pub fn extension(filename: &str) -> Option<&str> {
    filename
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty())
}

/// A file's `format`: its extension, with archive extensions chained to an allowed one before them.
pub fn format_of(filename: &str) -> Option<String> {
    let parts: Vec<&str> = filename.split('.').skip(1).collect();
    let mut previous = parts.iter().rev();
    let last = *previous.next()?;
    if last.is_empty() {
        return None;
    }
    // As udata: walk back while the extension so far is an archive one and the one before is allowed
    // (`a.csv.tar.gz` → `csv.tar.gz`, `x.2022.zip` → `zip`).
    let mut format = last.to_string();
    let mut current = last;
    for ext in previous {
        if !ARCHIVE_EXTENSIONS.contains(&current) || !is_allowed_extension(ext) {
            break;
        }
        format = format!("{ext}.{format}");
        current = ext;
    }
    Some(format)
}

/// Formats the quality score counts as closed (a resource with another, non-empty format is open).
pub const CLOSED_FORMATS: [&str; 7] = ["pdf", "doc", "docx", "word", "xls", "excel", "xlsx"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_chain_archives() {
        assert_eq!(format_of("a.csv.gz").as_deref(), Some("csv.gz"));
        assert_eq!(format_of("x.2022.zip").as_deref(), Some("zip"));
        assert_eq!(format_of("rapport.tar.gz").as_deref(), Some("tar.gz"));
        assert_eq!(
            format_of("a.2022.csv.tar.gz").as_deref(),
            Some("csv.tar.gz")
        );
        assert_eq!(format_of("a.geojson.csv").as_deref(), Some("csv"));
        assert_eq!(format_of("data.csv").as_deref(), Some("csv"));
        assert_eq!(format_of("noext"), None);
    }

    #[test]
    fn legacy_frequencies_map() {
        assert_eq!(parse_frequency("realtime"), Some("continuous"));
        assert_eq!(parse_frequency("monthly"), Some("monthly"));
        assert_eq!(parse_frequency("foo"), None);
        assert_eq!(FREQUENCIES.len(), 40);
    }

    #[test]
    fn licenses_include_the_required_set() {
        for id in [
            "lov2",
            "fr-lo",
            "odc-odbl",
            "cc-by",
            "cc-zero",
            "notspecified",
        ] {
            assert!(is_license(id), "{id}");
        }
    }
}
