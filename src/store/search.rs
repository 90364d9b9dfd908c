//! The full-text index and the derived filter values of datasets and organizations, written in the
//! transaction of the document they come from; their first filling at start; and the query-text
//! builder that lists and searches share.
//!
//! Ranking is computed by the same rule on both databases rather than by their own scores (BM25,
//! `ts_rank`), which differ: for every word of the query, the best field it is found in counts
//! `64^k` (title 64⁴ … organization name 64⁰). Sums then order datasets by how many words they
//! hold in their title, then in their acronym, and so on; ties follow the requested sort.

use std::collections::BTreeMap;

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryScalar};
use sqlx::{Any, Row};

use super::datasets::PageQuery;
use super::documents::decode;
use super::organizations::org_of;
use super::{Store, StoreResult, WriteTx};
use crate::domain::dataset::Dataset;
use crate::domain::organization::Organization;
use crate::domain::resource::Resource;
use crate::domain::search::{SearchQuery, fold, format_family};

/// What is derived today. Rows whose `search_version` is behind are derived again at start (see
/// [`Store::derive_pending`]): bump it when the derivation changes (folding, fields, terms).
pub const SEARCH_VERSION: i64 = 1;

/// A full-text index: where it lives and its fields, best first, with their weights.
pub struct SearchIndex {
    /// The key table (SQLite: `seq` ↔ key, the FTS rowid) or the table of tsvectors (PostgreSQL).
    pub table: &'static str,
    /// The column of `table` naming the indexed object.
    pub key: &'static str,
    /// The FTS5 table (SQLite only).
    pub fts: &'static str,
    pub fields: &'static [(&'static str, i64)],
}

/// Datasets: title, acronym, tags, description, organization name.
pub const DATASETS: SearchIndex = SearchIndex {
    table: "dataset_search",
    key: "dataset_id",
    fts: "dataset_fts",
    fields: &[
        ("title", 1 << 24),
        ("acronym", 1 << 18),
        ("tags", 1 << 12),
        ("description", 1 << 6),
        ("organization", 1),
    ],
};

/// Organizations: name, acronym, description.
pub const ORGANIZATIONS: SearchIndex = SearchIndex {
    table: "organization_search",
    key: "organization_id",
    fts: "organization_fts",
    fields: &[("name", 1 << 12), ("acronym", 1 << 6), ("description", 1)],
};

/// A bound value of a query built at run time.
#[derive(Clone)]
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// The arguments of a query built at run time, numbered as they are pushed. The query text only
/// ever holds their placeholders: client text is always bound, never written into the SQL.
#[derive(Clone, Default)]
pub(super) struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    /// Binds a text and returns its placeholder.
    pub(super) fn text(&mut self, s: impl Into<String>) -> String {
        self.args.push(Arg::Text(s.into()));
        format!("${}", self.args.len())
    }

    pub(super) fn int(&mut self, i: i64) -> String {
        self.args.push(Arg::Int(i));
        format!("${}", self.args.len())
    }

    /// `text` with every argument bound.
    pub(super) fn query(&self, text: String) -> Query<'static, Any, AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }

    pub(super) fn scalar<O>(&self, text: String) -> QueryScalar<'static, Any, O, AnyArguments>
    where
        (O,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(text));
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// The folded fields of a dataset, in the order of [`DATASETS`].
fn dataset_fields(ds: &Dataset, organization: Option<&str>) -> Vec<String> {
    vec![
        fold(&ds.title),
        fold(ds.acronym.as_deref().unwrap_or("")),
        fold(&ds.tags.join(" ")),
        fold(&ds.description),
        fold(organization.unwrap_or("")),
    ]
}

fn organization_fields(org: &Organization) -> Vec<String> {
    vec![
        fold(&org.name),
        fold(org.acronym.as_deref().unwrap_or("")),
        fold(&org.description),
    ]
}

/// What a resource adds to its dataset's terms (`dataset_terms`): its format and the format's
/// family, its schema's name and version.
pub(super) fn resource_terms(
    format: Option<&str>,
    schema_name: Option<&str>,
    schema_version: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut terms = Vec::new();
    if let Some(f) = format.filter(|f| !f.is_empty()) {
        terms.push(("format", f.to_string()));
        terms.push(("format_family", format_family(f).to_string()));
    }
    if let Some(s) = schema_name.filter(|s| !s.is_empty()) {
        terms.push(("schema", s.to_string()));
    }
    if let Some(v) = schema_version.filter(|v| !v.is_empty()) {
        terms.push(("schema_version", v.to_string()));
    }
    terms
}

/// A resource's schema name and version, as its row keeps them.
pub(super) fn schema_of(r: &Resource) -> (Option<String>, Option<String>) {
    let field = |k: &str| {
        r.schema
            .as_ref()
            .and_then(|s| s.get(k))
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    (field("name"), field("version"))
}

/// The spatial zones of a dataset (its `geozone` terms).
fn zones_of(ds: &Dataset) -> Vec<String> {
    let mut zones: Vec<String> = ds
        .spatial
        .as_ref()
        .and_then(|s| s.get("zones"))
        .and_then(|z| z.as_array())
        .map(|z| {
            z.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    zones.sort();
    zones.dedup();
    zones
}

/// The spatial granularity of a dataset, when it has a spatial coverage.
pub(super) fn granularity_of(ds: &Dataset) -> Option<String> {
    ds.spatial
        .as_ref()
        .and_then(|s| s.get("granularity"))
        .and_then(|g| g.as_str())
        .map(str::to_string)
}

impl WriteTx {
    /// Adds `delta` (±1) to how many resources of `dataset_id` hold each term; a term no resource
    /// holds any more is removed. One row per term, whatever the size of the dataset.
    pub(super) async fn count_terms(
        &mut self,
        dataset_id: &str,
        terms: &[(&'static str, String)],
        delta: i64,
    ) -> StoreResult<()> {
        for (kind, value) in terms {
            if delta > 0 {
                sqlx::query(
                    "INSERT INTO dataset_terms (kind, value, dataset_id, n) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (kind, value, dataset_id) DO UPDATE SET n = dataset_terms.n + excluded.n",
                )
                .bind(*kind)
                .bind(value)
                .bind(dataset_id)
                .bind(delta)
                .execute(&mut *self.tx)
                .await?;
            } else {
                sqlx::query(
                    "UPDATE dataset_terms SET n = n + $4 WHERE kind = $1 AND value = $2 AND dataset_id = $3",
                )
                .bind(*kind)
                .bind(value)
                .bind(dataset_id)
                .bind(delta)
                .execute(&mut *self.tx)
                .await?;
                sqlx::query(
                    "DELETE FROM dataset_terms WHERE kind = $1 AND value = $2 AND dataset_id = $3 AND n <= 0",
                )
                .bind(*kind)
                .bind(value)
                .bind(dataset_id)
                .execute(&mut *self.tx)
                .await?;
            }
        }
        Ok(())
    }

    /// Writes what the search derives from a dataset document: its full-text row and its document
    /// terms (zones). With `before`, only what changed is written.
    pub(super) async fn write_dataset_search(
        &mut self,
        ds: &Dataset,
        before: Option<&Dataset>,
    ) -> StoreResult<()> {
        let text_changed = before.is_none_or(|b| {
            b.title != ds.title
                || b.acronym != ds.acronym
                || b.tags != ds.tags
                || b.description != ds.description
                || b.organization_id != ds.organization_id
        });
        if text_changed {
            let org = self
                .organization_name(ds.organization_id.as_deref())
                .await?;
            let fields = dataset_fields(ds, org.as_deref());
            self.dialect
                .write_search_row(&mut self.tx, &DATASETS, &ds.id, &fields)
                .await?;
        }
        let zones = zones_of(ds);
        if before.is_none_or(|b| zones_of(b) != zones) {
            sqlx::query("DELETE FROM dataset_terms WHERE dataset_id = $1 AND kind = 'geozone'")
                .bind(&ds.id)
                .execute(&mut *self.tx)
                .await?;
            let terms: Vec<(&'static str, String)> =
                zones.into_iter().map(|z| ("geozone", z)).collect();
            self.count_terms(&ds.id, &terms, 1).await?;
        }
        Ok(())
    }

    async fn organization_name(&mut self, id: Option<&str>) -> StoreResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        Ok(
            sqlx::query_scalar("SELECT name FROM organizations WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    /// Writes an organization's full-text row; a new name is written into the rows of its datasets
    /// too (their search text holds it), in this transaction.
    pub(super) async fn write_organization_search(
        &mut self,
        org: &Organization,
        before: Option<&Organization>,
    ) -> StoreResult<()> {
        let changed = before.is_none_or(|b| {
            b.name != org.name || b.acronym != org.acronym || b.description != org.description
        });
        if changed {
            let fields = organization_fields(org);
            self.dialect
                .write_search_row(&mut self.tx, &ORGANIZATIONS, &org.id, &fields)
                .await?;
        }
        if before.is_some_and(|b| b.name != org.name) {
            self.dialect
                .rename_organization_in_search(&mut self.tx, &org.id, &fold(&org.name))
                .await?;
        }
        Ok(())
    }

    /// Derives everything again for dataset `id` from its stored document and resources (first
    /// start after an upgrade): columns, resource schemas, terms and full-text row. Locks the dataset,
    /// so that a concurrent write waits and then adds to correct counts.
    async fn derive_dataset(&mut self, id: &str) -> StoreResult<()> {
        let Some(ds) = self.lock_dataset(id).await? else {
            return Ok(());
        };
        let rows = sqlx::query(
            "SELECT id, doc, doc_version, schema_name, schema_version FROM resources WHERE dataset_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut counts: BTreeMap<(&'static str, String), i64> = BTreeMap::new();
        for row in &rows {
            let r: Resource = decode(
                row.try_get("doc_version")?,
                &row.try_get::<String, _>("doc")?,
            )?;
            let (name, version) = schema_of(&r);
            let stored: (Option<String>, Option<String>) =
                (row.try_get("schema_name")?, row.try_get("schema_version")?);
            if stored != (name.clone(), version.clone()) {
                sqlx::query(
                    "UPDATE resources SET schema_name = $2, schema_version = $3 WHERE id = $1",
                )
                .bind(&r.id)
                .bind(&name)
                .bind(&version)
                .execute(&mut *self.tx)
                .await?;
            }
            for term in resource_terms(r.format.as_deref(), name.as_deref(), version.as_deref()) {
                *counts.entry(term).or_default() += 1;
            }
        }
        sqlx::query("DELETE FROM dataset_terms WHERE dataset_id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        for ((kind, value), n) in counts {
            self.count_terms(id, &[(kind, value)], n).await?;
        }
        self.write_dataset_columns(&ds).await?;
        self.write_dataset_search(&ds, None).await?;
        sqlx::query("UPDATE datasets SET search_version = $2 WHERE id = $1")
            .bind(id)
            .bind(SEARCH_VERSION)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn derive_organization(&mut self, id: &str) -> StoreResult<()> {
        let Some(org) = self.lock_organization(id).await? else {
            return Ok(());
        };
        self.write_organization_search(&org, None).await?;
        sqlx::query("UPDATE organizations SET search_version = $2 WHERE id = $1")
            .bind(id)
            .bind(SEARCH_VERSION)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

/// How many objects one transaction of the first filling derives.
const DERIVE_BATCH: i64 = 200;

impl Store {
    /// Derives the search rows and filter values of every dataset and organization written before
    /// this release (or before the last change of [`SEARCH_VERSION`]), in batches of one
    /// transaction each: an interrupted run resumes where it stopped, and nodes starting together
    /// share the work. Organizations first, as datasets' rows hold their names.
    pub(super) async fn derive_pending(&self) -> StoreResult<()> {
        for table in ["organizations", "datasets"] {
            let mut done = 0usize;
            loop {
                let mut tx = self.begin().await?;
                let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM {table} WHERE search_version < $1 ORDER BY search_version, id LIMIT $2"
                )))
                .bind(SEARCH_VERSION)
                .bind(DERIVE_BATCH)
                .fetch_all(&mut *tx.tx)
                .await?;
                if ids.is_empty() {
                    break;
                }
                for id in &ids {
                    if table == "datasets" {
                        tx.derive_dataset(id).await?;
                    } else {
                        tx.derive_organization(id).await?;
                    }
                }
                tx.commit().await?;
                done += ids.len();
                tracing::info!(table, done, "derived search rows");
            }
        }
        Ok(())
    }
}

/// How organization searches order their results (after relevance, when searching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationSort {
    Created,
    /// By number of public datasets.
    Datasets,
}

impl Store {
    /// A page of organizations (not deleted) holding every word of `search`, ranked (name, then
    /// acronym, then description), then in `sort` order; and the total.
    pub async fn search_organizations(
        &self,
        search: Option<&SearchQuery>,
        sort: OrganizationSort,
        descending: bool,
        page: PageQuery,
    ) -> StoreResult<(Vec<Organization>, i64)> {
        let mut sql = Sql::default();
        // As for datasets (`Store::list_datasets`), the hits are computed once.
        let (with, from) = match search {
            None => (String::new(), "organizations o"),
            Some(query) => (
                format!(
                    "WITH h AS MATERIALIZED ({}) ",
                    self.dialect.search_hits(&ORGANIZATIONS, query, &mut sql)
                ),
                "h JOIN organizations o ON o.id = h.id",
            ),
        };
        let total: i64 = sql
            .scalar(format!(
                "{with}SELECT COUNT(*) FROM {from} WHERE o.deleted IS NULL"
            ))
            .fetch_one(&self.read)
            .await?;
        let offset = (page.page - 1) * page.page_size;
        if offset >= total {
            return Ok((Vec::new(), total));
        }
        let dir = if descending { "DESC" } else { "ASC" };
        let column = match sort {
            OrganizationSort::Created => "o.created_at",
            OrganizationSort::Datasets => {
                "(SELECT COUNT(*) FROM datasets d WHERE d.organization_id = o.id
                   AND d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL)"
            }
        };
        let relevance = if search.is_some() {
            "h.score DESC, "
        } else {
            ""
        };
        let limit = sql.int(page.page_size);
        let offset = sql.int(offset);
        let rows = sql
            .query(format!(
                "{with}SELECT o.doc, o.doc_version FROM {from} WHERE o.deleted IS NULL
                 ORDER BY {relevance}{column} {dir}, o.id {dir} LIMIT {limit} OFFSET {offset}"
            ))
            .fetch_all(&self.read)
            .await?;
        Ok((rows.iter().map(org_of).collect::<StoreResult<_>>()?, total))
    }
}
