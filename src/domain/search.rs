//! Search and filter rules that need no database: the folding of text into search words (the same
//! for what is indexed and what is asked, on both databases), the parsing of `q`, and udata's
//! closed lists of filter values (badges, access types, format families, producer types).

/// Dataset badge kinds (`Dataset.__badges__` in udata): what `badge=` accepts.
pub const DATASET_BADGES: [&str; 6] = ["pivotal-data", "spd", "inspire", "hvd", "sl", "sr"];
/// Organization badge kinds (`Organization.__badges__`): what `organization_badge=` accepts.
pub const ORGANIZATION_BADGES: [&str; 5] = [
    "public-service",
    "certified",
    "association",
    "company",
    "local-authority",
];
pub const ACCESS_TYPES: [&str; 3] = ["open", "open_with_account", "restricted"];
pub const FORMAT_FAMILIES: [&str; 5] = [
    "tabular",
    "machine_readable",
    "geographical",
    "documents",
    "other",
];
/// Producer types of datasets (`PRODUCER_TYPES`); organizations take all but `user`.
pub const PRODUCER_TYPES: [&str; 6] = [
    "local-authority",
    "user",
    "association",
    "company",
    "not-specified",
    "public-service",
];
pub const LAST_UPDATE_RANGES: [&str; 3] = ["last_30_days", "last_12_months", "last_3_years"];

/// Longest word kept in the index: PostgreSQL refuses longer ones (2,047 bytes), so both databases
/// drop them alike.
const MAX_WORD: usize = 200;

/// Most words in a `q`: each one is a condition of the query.
pub const MAX_WORDS: usize = 32;

/// Text as the search index holds it: transliterated to ASCII (`École` → `ecole`, `œ` → `oe`),
/// lowercased, cut into words of letters and digits, joined by single spaces. Both databases
/// split this text on spaces only, so they index exactly the same words.
pub fn fold(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for word in ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= MAX_WORD)
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A parsed `q`: every word must match somewhere in the document; the last one also matches as a
/// prefix (`eco` finds `ecole`), so that a query typed letter by letter finds what it will name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words matched whole, without repeats.
    pub words: Vec<String>,
    /// The last word, matched as a prefix (`None` when it also appears whole earlier).
    pub prefix: Option<String>,
}

/// Why a `q` cannot be searched.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyWords;

impl SearchQuery {
    /// `None` when `q` holds no word at all (then it filters nothing, as an empty `q` in udata).
    pub fn parse(q: &str) -> Result<Option<SearchQuery>, TooManyWords> {
        let folded = fold(q);
        let mut all: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        let Some(last) = all.pop() else {
            return Ok(None);
        };
        let mut words: Vec<String> = Vec::new();
        for w in all {
            if !words.iter().any(|x| x == w) {
                words.push(w.to_string());
            }
        }
        let prefix = (!words.iter().any(|x| x == last)).then(|| last.to_string());
        if words.len() + usize::from(prefix.is_some()) > MAX_WORDS {
            return Err(TooManyWords);
        }
        Ok(Some(SearchQuery { words, prefix }))
    }

    /// Each term with whether it is a prefix, whole words first.
    pub fn terms(&self) -> impl Iterator<Item = (&str, bool)> {
        self.words
            .iter()
            .map(|w| (w.as_str(), false))
            .chain(self.prefix.iter().map(|p| (p.as_str(), true)))
    }
}

/// The family of a resource format (udata's `get_format_family`, with its default lists).
pub fn format_family(format: &str) -> &'static str {
    match format.trim().to_ascii_lowercase().as_str() {
        "csv" | "parquet" | "xls" | "xlsx" | "ods" | "tsv" | "csv.gz" => "tabular",
        "json" | "xml" | "rdf" | "sql" | "jsonl" | "ndjson" => "machine_readable",
        "shp" | "kml" | "kmz" | "gpx" | "shx" | "ovr" | "geojson" | "gpkg" | "pmtiles"
        | "mbtiles" | "wms" | "wfs" | "ogc:wms" | "ogc:wfs" => "geographical",
        "pdf" | "doc" | "docx" | "md" | "txt" | "html" | "htm" | "rtf" | "odt" => "documents",
        _ => "other",
    }
}

/// A `temporal_coverage` filter value `YYYY-MM-DD-YYYY-MM-DD`, as its two dates (`None` when the
/// text is not of that form or a date does not exist).
pub fn parse_date_range(s: &str) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let date = |t: &str| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
    if s.len() != 21 || s.as_bytes()[10] != b'-' {
        return None;
    }
    Some((date(s.get(..10)?)?, date(s.get(11..)?)?))
}

/// The oldest `last_update` a `last_update_range` keeps, at the start of that day (UTC), as
/// Elasticsearch's `now-30d/d`, `now-12M/d` and `now-3y/d` do in udata.
pub fn last_update_cutoff(
    range: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let back = match range {
        "last_30_days" => now.checked_sub_signed(chrono::Duration::days(30)),
        "last_12_months" => now.checked_sub_months(chrono::Months::new(12)),
        "last_3_years" => now.checked_sub_months(chrono::Months::new(36)),
        _ => None,
    }?;
    Some(back.date_naive().and_hms_opt(0, 0, 0)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_case_and_punctuation() {
        assert_eq!(
            fold("École   des Données — 2024 !"),
            "ecole des donnees 2024"
        );
        assert_eq!(fold("Cœur d'Île-de-France"), "coeur d ile de france");
        assert_eq!(fold("ÇA"), "ca");
        assert_eq!(fold("  "), "");
        assert_eq!(fold(&"a".repeat(201)), "");
    }

    #[test]
    fn queries_keep_the_last_word_as_a_prefix() {
        let q = SearchQuery::parse("Écoles de PARIS eco").unwrap().unwrap();
        assert_eq!(q.words, vec!["ecoles", "de", "paris"]);
        assert_eq!(q.prefix.as_deref(), Some("eco"));
        let q = SearchQuery::parse("paris budget paris").unwrap().unwrap();
        assert_eq!(q.words, vec!["paris", "budget"]);
        assert_eq!(q.prefix, None);
        assert_eq!(SearchQuery::parse(" ?! ").unwrap(), None);
        let many: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        assert_eq!(SearchQuery::parse(&many.join(" ")), Err(TooManyWords));
    }

    #[test]
    fn format_families_follow_udata_lists() {
        assert_eq!(format_family("CSV"), "tabular");
        assert_eq!(format_family("geojson"), "geographical");
        assert_eq!(format_family("pdf"), "documents");
        assert_eq!(format_family("json"), "machine_readable");
        assert_eq!(format_family("zip"), "other");
    }

    #[test]
    fn date_ranges_need_two_real_dates() {
        let (a, b) = parse_date_range("2022-05-03-2022-05-04").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2022-05-03".into(), "2022-05-04".into())
        );
        assert!(parse_date_range("2022-05-03").is_none());
        assert!(parse_date_range("2022-02-30-2022-05-04").is_none());
        assert!(parse_date_range("2022-05-03/2022-05-04").is_none());
        assert!(parse_date_range("2022-05-03-2022-05-04x").is_none());
    }

    #[test]
    fn last_update_ranges_start_at_midnight() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-03-31T15:04:05Z")
            .unwrap()
            .to_utc();
        let at = |r| last_update_cutoff(r, now).unwrap().to_rfc3339();
        assert_eq!(at("last_30_days"), "2024-03-01T00:00:00+00:00");
        assert_eq!(at("last_12_months"), "2023-03-31T00:00:00+00:00");
        assert_eq!(at("last_3_years"), "2021-03-31T00:00:00+00:00");
        assert!(last_update_cutoff("yesterday", now).is_none());
    }
}
