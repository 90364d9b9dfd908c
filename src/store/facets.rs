//! Facets of dataset searches and lists: for each asked field, how many matching datasets hold each
//! value (a rudata extension of API v2's search).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::datasets::DatasetFilter;
use super::filters::{Drive, list_conditions};
use super::search::Sql;
use super::{Store, StoreResult};
use crate::domain::reference::DEFAULT_LICENSE;

/// What a facet counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    License,
    Format,
    Organization,
    Tag,
    Frequency,
}

/// Most values a facet reports (Elasticsearch's terms aggregations in udata report 50).
pub const FACET_SIZE: i64 = 50;

impl Facet {
    fn name(self) -> &'static str {
        match self {
            Facet::License => "license",
            Facet::Format => "format",
            Facet::Organization => "organization",
            Facet::Tag => "tag",
            Facet::Frequency => "frequency",
        }
    }

    /// The counting query of this facet over the datasets `d` of `from` that pass `conditions`,
    /// as columns `facet`, `facet_value`, `facet_count`.
    fn select(self, from: &str, conditions: &str, from_matches: bool) -> String {
        let (value, joined, extra) = match self {
            Facet::License => ("d.license", "", ""),
            Facet::Organization => (
                "d.organization_id",
                "",
                " AND d.organization_id IS NOT NULL",
            ),
            Facet::Frequency => ("d.frequency", "", ""),
            Facet::Format => ("t.value", " dataset_terms t", " AND t.kind = 'format'"),
            Facet::Tag => ("t.tag", " dataset_tags t", ""),
        };
        // Licenses are few, and the missing one joins `notspecified` in `tally`, before the cut.
        let limit = if self == Facet::License {
            String::new()
        } else {
            format!(" ORDER BY facet_count DESC, facet_value LIMIT {FACET_SIZE}")
        };
        // From a set of matches (`from_matches`), their term or tag rows are read from them:
        // `CROSS JOIN` keeps SQLite's join order as written, as it cannot know how few they are
        // (left alone, it reads every term of the catalog and looks each one up among them).
        // PostgreSQL takes it as a plain join. Over the catalog, the planner's own order is best.
        let (joined, on) = match (joined, from_matches) {
            ("", _) => (String::new(), ""),
            (table, true) => (format!(" CROSS JOIN{table}"), " AND t.dataset_id = d.id"),
            (table, false) => (format!(" JOIN{table} ON t.dataset_id = d.id"), ""),
        };
        format!(
            "SELECT '{name}' AS facet, {value} AS facet_value, COUNT(*) AS facet_count
             FROM {from}{joined} WHERE {conditions}{on}{extra} GROUP BY {value}{limit}",
            name = self.name()
        )
    }
}

impl Store {
    /// For each facet, how many datasets matching `filter` hold each value, most frequent first
    /// (ties by value), at most [`FACET_SIZE`] values. Datasets without a license count as
    /// `notspecified`, as they show.
    ///
    /// The whole visible catalog: one query per facet, each on its best index (the public
    /// license, organization and frequency indexes cover theirs). A search or a filter: one
    /// statement, where the matches and their values (`m`) are found once and every facet counts
    /// from them.
    pub async fn dataset_facets(
        &self,
        filter: &DatasetFilter,
        facets: &[Facet],
    ) -> StoreResult<Vec<(Facet, Vec<(String, i64)>)>> {
        let mut rows: Vec<AnyRow> = Vec::new();
        if facets.is_empty() {
            return Ok(Vec::new());
        }
        if filter.narrows() {
            let mut sql = Sql::default();
            let (with, from) = self.list_source(filter, &mut sql);
            let conditions = list_conditions(filter, Drive::FromFilters, &mut sql);
            let parts: Vec<String> = facets
                .iter()
                .enumerate()
                .map(|(i, f)| format!("SELECT * FROM ({}) f{i}", f.select("m d", "1 = 1", true)))
                .collect();
            let with = match with.trim_end() {
                "" => "WITH".to_string(),
                hits => format!("{hits},"),
            };
            let text = format!(
                "{with} m AS MATERIALIZED (
                     SELECT d.id, d.license, d.organization_id, d.frequency FROM {from} WHERE {conditions}
                 ) {}",
                parts.join(" UNION ALL "),
            );
            rows = sql.query(text).fetch_all(&self.read).await?;
        } else {
            for facet in facets {
                let mut sql = Sql::default();
                let conditions = list_conditions(filter, Drive::FromFilters, &mut sql);
                let text = facet.select("datasets d", &conditions, false);
                rows.extend(sql.query(text).fetch_all(&self.read).await?);
            }
        }
        facets.iter().map(|f| Ok((*f, tally(&rows, *f)?))).collect()
    }
}

/// The counts of `facet` among `rows`, a missing value counted as `notspecified` (only licenses
/// may be missing), sorted and cut.
fn tally(rows: &[AnyRow], facet: Facet) -> StoreResult<Vec<(String, i64)>> {
    let mut counts: Vec<(String, i64)> = Vec::new();
    for row in rows {
        if row.try_get::<String, _>("facet")? != facet.name() {
            continue;
        }
        let name: Option<String> = row.try_get("facet_value")?;
        let name = name.unwrap_or_else(|| DEFAULT_LICENSE.to_string());
        let count: i64 = row.try_get("facet_count")?;
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += count,
            None => counts.push((name, count)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(FACET_SIZE as usize);
    Ok(counts)
}
