//! Datasets: their rows, lists and filters, the purge; and the dataset half of write transactions.
//!
//! A write locks the dataset row first ([`WriteTx::lock_dataset`]), so concurrent writers to one
//! dataset (many uploads, on one node or several) queue up and never lose an update. What a write
//! changes is written alone: a resource change touches its resource's row (see `resources.rs`) and
//! the dataset row, never the dataset's other resources.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::activities::insert_activity;
use super::documents::{CURRENT, decode, encode};
use super::filters::{Drive, drive_for, list_conditions};
use super::search::{DATASETS, SEARCH_VERSION, Sql, granularity_of};
use super::{SlugTable, Store, StoreResult, WriteTx, db_ts, ts};
use crate::domain::activity::{Actor, NewActivity};
use crate::domain::dataset::Dataset;
use crate::domain::search::SearchQuery;
use crate::domain::slug::make_slug;

/// What a lookup by id or slug found.
#[derive(Debug)]
pub enum Lookup<T> {
    Found(T),
    /// The key is an old slug of this object (whose `slug` is the current one). The lookup seam
    /// decides whether the caller may be told where it went.
    Moved(T),
    Missing,
}

/// A dataset with the values derived from its resources.
#[derive(Debug, Clone)]
pub struct DatasetRow {
    pub dataset: Dataset,
    pub last_update: DateTime<Utc>,
}

/// Who is listing: decides which hidden (private, deleted, archived) datasets appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Public, not deleted, not archived.
    Public,
    /// Public ones plus everything owned by the user or one of their organizations.
    User {
        user_id: String,
        org_ids: Vec<String>,
    },
    /// Every dataset (sysadmins; an organization's members on its own list).
    All,
    /// Neither private nor deleted, archived ones included: an organization's dataset list for
    /// outsiders (udata lists deleted ones there too; rudata keeps the guide's promise that a
    /// deleted dataset is seen only by its owner, its organization's members and sysadmins).
    NotHidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    LastUpdate,
    Title,
}

/// How a `temporal_coverage` filter compares its range with the datasets' coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemporalFilter {
    /// The coverage starts within the range (udata's v1 list).
    StartsWithin(NaiveDate, NaiveDate),
    /// The coverage holds the whole range (udata's v2 search).
    Covers(NaiveDate, NaiveDate),
}

/// Filters of dataset lists and searches. A list of values means any of them, but for `tags` (all
/// of them).
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetFilter {
    pub visibility: Visibility,
    /// Full-text search: results come ranked (see `store::search`), then in `sort` order.
    pub search: Option<SearchQuery>,
    pub tags: Vec<String>,
    pub license: Option<String>,
    pub formats: Vec<String>,
    pub format_family: Option<String>,
    pub schemas: Vec<String>,
    pub schema_version: Option<String>,
    pub geozone: Option<String>,
    pub granularities: Vec<String>,
    pub temporal: Option<TemporalFilter>,
    pub access_type: Option<String>,
    pub badge: Option<String>,
    pub organization: Option<String>,
    /// The exact name of the publishing organization (API v2's `organization_name`).
    pub organization_name: Option<String>,
    pub owner: Option<String>,
    /// `Some(false)`: published by a user; `Some(true)`: by an organization.
    pub has_organization: Option<bool>,
    pub last_update_since: Option<DateTime<Utc>>,
    pub featured: Option<bool>,
    /// `Some(false)`: a resource the checks found unavailable; `Some(true)`: none.
    pub available: Option<bool>,
    pub private: Option<bool>,
    pub deleted: Option<bool>,
    pub archived: Option<bool>,
    /// A filter on something no dataset has (say, an organization badge: rudata records none).
    pub nothing: bool,
    pub sort: SortKey,
    pub descending: bool,
}

impl DatasetFilter {
    /// Whether anything beyond visibility (and order) narrows the list.
    pub fn narrows(&self) -> bool {
        let mut bare = DatasetFilter::new(self.visibility.clone());
        bare.sort = self.sort;
        bare.descending = self.descending;
        *self != bare
    }

    pub fn new(visibility: Visibility) -> Self {
        DatasetFilter {
            visibility,
            search: None,
            tags: Vec::new(),
            license: None,
            formats: Vec::new(),
            format_family: None,
            schemas: Vec::new(),
            schema_version: None,
            geozone: None,
            granularities: Vec::new(),
            temporal: None,
            access_type: None,
            badge: None,
            organization: None,
            organization_name: None,
            owner: None,
            has_organization: None,
            last_update_since: None,
            featured: None,
            available: None,
            private: None,
            deleted: None,
            archived: None,
            nothing: false,
            sort: SortKey::Created,
            descending: true,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PageQuery {
    pub page: i64,
    pub page_size: i64,
}

const DATASET_COLUMNS: &str = "doc, doc_version, last_update";

pub(super) fn dataset_of(row: &AnyRow) -> StoreResult<DatasetRow> {
    Ok(DatasetRow {
        dataset: decode(
            row.try_get("doc_version")?,
            &row.try_get::<String, _>("doc")?,
        )?,
        last_update: ts(&row.try_get::<String, _>("last_update")?)?,
    })
}

impl Store {
    /// By id, by slug, or by an old slug (`Lookup::Moved`).
    pub async fn find_dataset(&self, key: &str) -> StoreResult<Lookup<DatasetRow>> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM datasets WHERE id = $1 OR slug = $1 ORDER BY (id = $1) DESC LIMIT 1"
        );
        if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&self.read)
            .await?
        {
            return Ok(Lookup::Found(dataset_of(&row)?));
        }
        // The columns are the dataset's alone (`slug_redirects` has none of those names).
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM slug_redirects r JOIN datasets d ON d.id = r.target_id
             WHERE r.kind = 'dataset' AND r.old_slug = $1"
        );
        let moved = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&self.read)
            .await?;
        Ok(match moved {
            Some(row) => Lookup::Moved(dataset_of(&row)?),
            None => Lookup::Missing,
        })
    }

    /// A page of datasets matching `filter`, and the total count. The page's ids are found first
    /// (without a search, on the index of the sort, which covers them for the public list), then
    /// their rows: a deep page skips index entries, not rows, and a sort never carries documents.
    pub async fn list_datasets(
        &self,
        filter: &DatasetFilter,
        page: PageQuery,
    ) -> StoreResult<(Vec<DatasetRow>, i64)> {
        if filter.search.is_some() {
            return self.search_datasets(filter, page).await;
        }
        let mut sql = Sql::default();
        let conditions = list_conditions(filter, Drive::FromFilters, &mut sql);
        let total: i64 = sql
            .scalar(format!(
                "SELECT COUNT(*) FROM datasets d WHERE {conditions}"
            ))
            .fetch_one(&self.read)
            .await?;
        let offset = (page.page - 1) * page.page_size;
        if offset >= total {
            return Ok((Vec::new(), total));
        }
        let drive = drive_for(total, offset, page.page_size);
        Ok((self.list_page(filter, page, drive).await?, total))
    }

    /// The datasets of `page` of a list (no search), its filters written as `drive` says.
    pub(super) async fn list_page(
        &self,
        filter: &DatasetFilter,
        page: PageQuery,
        drive: Drive,
    ) -> StoreResult<Vec<DatasetRow>> {
        let mut sql = Sql::default();
        let conditions = list_conditions(filter, drive, &mut sql);
        let order = self.order(filter);
        let limit = sql.int(page.page_size);
        let offset = sql.int((page.page - 1) * page.page_size);
        let text = format!(
            "SELECT {DATASET_COLUMNS} FROM datasets d JOIN (
                 SELECT d.id FROM datasets d WHERE {conditions}
                 ORDER BY {order} LIMIT {limit} OFFSET {offset}
             ) p ON p.id = d.id
             ORDER BY {order}"
        );
        let rows = sql.query(text).fetch_all(&self.read).await?;
        rows.iter().map(dataset_of).collect()
    }

    /// A page of a search, ranked, then in the filter's order; and the total, counted in the same
    /// statement (`COUNT(*) OVER ()`), so that the hits are computed once.
    async fn search_datasets(
        &self,
        filter: &DatasetFilter,
        page: PageQuery,
    ) -> StoreResult<(Vec<DatasetRow>, i64)> {
        let mut sql = Sql::default();
        let (with, from) = self.list_source(filter, &mut sql);
        let conditions = list_conditions(filter, Drive::FromFilters, &mut sql);
        let order = self.order(filter);
        let limit = sql.int(page.page_size);
        let offset = sql.int((page.page - 1) * page.page_size);
        let text = format!(
            "{with}SELECT {DATASET_COLUMNS}, p.total FROM datasets d JOIN (
                 SELECT d.id, h.score, COUNT(*) OVER () AS total FROM {from} WHERE {conditions}
                 ORDER BY h.score DESC, {order} LIMIT {limit} OFFSET {offset}
             ) p ON p.id = d.id
             ORDER BY p.score DESC, {order}"
        );
        let rows = sql.query(text).fetch_all(&self.read).await?;
        // No row: nothing matched, or the page is past the end (answered 404 whatever the total).
        let total = match rows.first() {
            Some(row) => row.try_get("total")?,
            None => 0,
        };
        Ok((
            rows.iter().map(dataset_of).collect::<StoreResult<_>>()?,
            total,
        ))
    }

    /// The ORDER BY of a list (after relevance, for a search): the sort, then ids.
    fn order(&self, filter: &DatasetFilter) -> String {
        let dir = if filter.descending { "DESC" } else { "ASC" };
        let sort = match filter.sort {
            SortKey::Created => "d.created_at",
            SortKey::LastUpdate => "d.last_update",
            SortKey::Title => self.dialect.title_order(),
        };
        format!("{sort} {dir}, d.id {dir}")
    }

    /// The rows a list reads: every dataset (`d`), or the search's hits (`h`, with their score)
    /// joined to their datasets; and the `WITH` clause to put before the statement. The hits are
    /// computed once (`MATERIALIZED`): otherwise SQLite's planner may start from another table and
    /// run the full-text query once per row of it.
    pub(super) fn list_source(&self, filter: &DatasetFilter, sql: &mut Sql) -> (String, String) {
        match &filter.search {
            None => (String::new(), "datasets d".to_string()),
            Some(query) => (
                format!(
                    "WITH h AS MATERIALIZED ({}) ",
                    self.dialect.search_hits(&DATASETS, query, sql)
                ),
                "h JOIN datasets d ON d.id = h.id".to_string(),
            ),
        }
    }

    /// Ids of soft-deleted datasets deleted before `cutoff` (all of them when `None`).
    pub async fn list_deleted_datasets(
        &self,
        cutoff: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<String>> {
        let cutoff = cutoff.map_or_else(|| "9999".to_string(), |c| db_ts(&c));
        Ok(sqlx::query_scalar(
            "SELECT id FROM datasets WHERE deleted IS NOT NULL AND deleted < $1 ORDER BY deleted",
        )
        .bind(cutoff)
        .fetch_all(&self.read)
        .await?)
    }

    /// Removes a soft-deleted dataset for good, with its resources and file records; the files' keys
    /// become tombstones in the same transaction, returned for deletion from storage.
    /// Does nothing (returns `None`) if the dataset was restored or purged meanwhile. The purge is
    /// recorded in the activity log as `actor`'s (none: the job's).
    pub async fn purge_dataset(
        &self,
        id: &str,
        cutoff: Option<DateTime<Utc>>,
        actor: &Actor,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.begin_raw().await?;
        let lock = self.dialect.for_update();
        // Still deleted, and before the cut-off: a dataset restored and deleted again meanwhile waits.
        let cutoff = cutoff.map_or_else(|| "9999".to_string(), |c| db_ts(&c));
        let still_deleted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT doc, doc_version, last_update FROM datasets
             WHERE id = $1 AND deleted IS NOT NULL AND deleted < $2{lock}"
        )))
        .bind(id)
        .bind(cutoff)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = still_deleted else {
            return Ok(None);
        };
        // The dataset's history stays, readable by sysadmins only once the dataset is gone.
        let purged = NewActivity::dataset("dataset:purged", &dataset_of(&row)?.dataset);
        insert_activity(&mut tx, actor, &purged).await?;
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT key FROM resource_files WHERE dataset_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        for key in &keys {
            sqlx::query("INSERT INTO file_tombstones (key) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        self.dialect
            .delete_search_row(&mut tx, &DATASETS, id)
            .await?;
        for sql in [
            // Its views and downloads, and its resources' (a node's counts not yet flushed may
            // bring a row back: harmless, nothing reads it).
            "DELETE FROM object_counters WHERE id = $1
                 OR id IN (SELECT id FROM resources WHERE dataset_id = $1)",
            "DELETE FROM dataset_terms WHERE dataset_id = $1",
            "DELETE FROM resource_files WHERE dataset_id = $1",
            "DELETE FROM resources WHERE dataset_id = $1",
            "DELETE FROM dataset_tags WHERE dataset_id = $1",
            "DELETE FROM assignments WHERE dataset_id = $1",
            "DELETE FROM slug_redirects WHERE kind = 'dataset' AND target_id = $1",
            "DELETE FROM datasets WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.changed().await?;
        Ok(Some(keys))
    }

    /// Keys of files whose deletion was decided and not yet confirmed.
    pub async fn list_file_tombstones(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT key FROM file_tombstones")
            .fetch_all(&self.read)
            .await?)
    }

    pub async fn delete_file_tombstone(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM file_tombstones WHERE key = $1")
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

impl WriteTx {
    /// The dataset `id`, locked until the transaction ends (`None`: no such dataset).
    pub async fn lock_dataset(&mut self, id: &str) -> StoreResult<Option<Dataset>> {
        let sql = format!(
            "SELECT doc, doc_version FROM datasets WHERE id = $1{}",
            self.dialect.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| {
            decode(
                row.try_get("doc_version")?,
                &row.try_get::<String, _>("doc")?,
            )
        })
        .transpose()
    }

    /// Inserts a new dataset, giving it a free slug made from its title. `last_update` is its newest
    /// resource change (its own `last_modified` without resources).
    pub async fn insert_dataset(
        &mut self,
        ds: &mut Dataset,
        last_update: DateTime<Utc>,
    ) -> StoreResult<()> {
        ds.slug = self
            .allocate_slug(SlugTable::Datasets, &make_slug(&ds.title), None)
            .await?;
        sqlx::query(
            "INSERT INTO datasets (id, slug, title, search_text, owner_id, organization_id, private, featured, license,
                 created_at, last_modified, last_update, deleted, archived, doc, doc_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&ds.id)
        .bind(&ds.slug)
        .bind(&ds.title)
        .bind(ds.search_text())
        .bind(&ds.owner_id)
        .bind(&ds.organization_id)
        .bind(i64::from(ds.private))
        .bind(i64::from(ds.featured))
        .bind(&ds.license)
        .bind(db_ts(&ds.created_at))
        .bind(db_ts(&ds.last_modified))
        .bind(db_ts(&last_update))
        .bind(ds.deleted.as_ref().map(db_ts))
        .bind(ds.archived.as_ref().map(db_ts))
        .bind(encode(ds)?)
        .bind(CURRENT)
        .execute(&mut *self.tx)
        .await?;
        self.write_tags(&ds.id, &ds.tags).await?;
        self.write_dataset_columns(ds).await?;
        self.write_dataset_search(ds, None).await?;
        // A new dataset's derived rows are complete: its resources add to them as they are written.
        sqlx::query("UPDATE datasets SET search_version = $2 WHERE id = $1")
            .bind(&ds.id)
            .bind(SEARCH_VERSION)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Writes the columns that copy single values of the document for filters and facets.
    pub(super) async fn write_dataset_columns(&mut self, ds: &Dataset) -> StoreResult<()> {
        let tc = ds.temporal_coverage.as_ref();
        sqlx::query(
            "UPDATE datasets SET access_type = $2, frequency = $3, granularity = $4, temporal_start = $5,
                 temporal_end = $6
             WHERE id = $1",
        )
        .bind(&ds.id)
        .bind(&ds.access_type)
        .bind(&ds.frequency)
        .bind(granularity_of(ds))
        .bind(tc.map(|t| t.start.to_string()))
        .bind(tc.and_then(|t| t.end).map(|e| e.to_string()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Writes back a dataset changed from `before` (locked by [`WriteTx::lock_dataset`]). A title whose
    /// slug differs renames the dataset (the old slug then redirects). Returns its `last_update`,
    /// found through the index of its resources' changes.
    pub async fn update_dataset(
        &mut self,
        before: &Dataset,
        ds: &mut Dataset,
    ) -> StoreResult<DateTime<Utc>> {
        ds.slug = before.slug.clone();
        let base = make_slug(&ds.title);
        if base != make_slug(&before.title) {
            ds.slug = self
                .allocate_slug(SlugTable::Datasets, &base, Some(&ds.id))
                .await?;
            if ds.slug != before.slug {
                self.drop_slug_redirect("dataset", &ds.slug).await?;
                self.insert_slug_redirect("dataset", &before.slug, &ds.id)
                    .await?;
            }
        }
        let newest: Option<String> =
            sqlx::query_scalar("SELECT MAX(last_modified) FROM resources WHERE dataset_id = $1")
                .bind(&ds.id)
                .fetch_one(&mut *self.tx)
                .await?;
        let last_update = match newest {
            Some(t) => ts(&t)?,
            None => ds.last_modified,
        };
        sqlx::query(
            "UPDATE datasets SET slug = $2, title = $3, search_text = $4, owner_id = $5, organization_id = $6,
                 private = $7, featured = $8, license = $9, last_modified = $10, last_update = $11, deleted = $12,
                 archived = $13, doc = $14, doc_version = $15
             WHERE id = $1",
        )
        .bind(&ds.id)
        .bind(&ds.slug)
        .bind(&ds.title)
        .bind(ds.search_text())
        .bind(&ds.owner_id)
        .bind(&ds.organization_id)
        .bind(i64::from(ds.private))
        .bind(i64::from(ds.featured))
        .bind(&ds.license)
        .bind(db_ts(&ds.last_modified))
        .bind(db_ts(&last_update))
        .bind(ds.deleted.as_ref().map(db_ts))
        .bind(ds.archived.as_ref().map(db_ts))
        .bind(encode(&*ds)?)
        .bind(CURRENT)
        .execute(&mut *self.tx)
        .await?;
        if ds.tags != before.tags {
            sqlx::query("DELETE FROM dataset_tags WHERE dataset_id = $1")
                .bind(&ds.id)
                .execute(&mut *self.tx)
                .await?;
            self.write_tags(&ds.id, &ds.tags).await?;
        }
        if ds.access_type != before.access_type
            || ds.frequency != before.frequency
            || ds.spatial != before.spatial
            || ds.temporal_coverage != before.temporal_coverage
        {
            self.write_dataset_columns(ds).await?;
        }
        self.write_dataset_search(ds, Some(before)).await?;
        Ok(last_update)
    }

    async fn write_tags(&mut self, id: &str, tags: &[String]) -> StoreResult<()> {
        for t in tags {
            sqlx::query("INSERT INTO dataset_tags (dataset_id, tag) VALUES ($1, $2)")
                .bind(id)
                .bind(t)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Lets partial editor `user_id` of `org_id` edit dataset `dataset_id`.
    pub async fn assign_dataset(
        &mut self,
        org_id: &str,
        user_id: &str,
        dataset_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO assignments (org_id, user_id, dataset_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(dataset_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
