//! Datasets: their rows, lists and filters, the purge; and the dataset half of write transactions.
//!
//! A write locks the dataset row first ([`WriteTx::lock_dataset`]), so concurrent writers to one
//! dataset (many uploads, on one node or several) queue up and never lose an update. What a write
//! changes is written alone: a resource change touches its resource's row (see `resources.rs`) and
//! the dataset row, never the dataset's other resources.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::documents::{CURRENT, decode, encode};
use super::{SlugTable, Store, StoreResult, WriteTx, db_ts, escape_like, ts};
use crate::domain::dataset::Dataset;
use crate::domain::slug::make_slug;

/// What a lookup by id or slug found.
#[derive(Debug)]
pub enum Lookup<T> {
    Found(T),
    /// The key is an old slug; the value is the current one.
    Moved(String),
    Missing,
}

/// A dataset with the values derived from its resources.
#[derive(Debug, Clone)]
pub struct DatasetRow {
    pub dataset: Dataset,
    pub last_update: DateTime<Utc>,
}

/// Who is listing: decides which hidden (private, deleted, archived) datasets appear.
#[derive(Debug, Clone)]
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
    /// Not private, deleted ones included (udata's organization dataset list for outsiders).
    NotPrivate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    LastUpdate,
    Title,
}

/// Filters of `GET /api/1/datasets/`.
#[derive(Debug, Clone)]
pub struct DatasetFilter {
    pub visibility: Visibility,
    pub words: Vec<String>,
    pub tags: Vec<String>,
    pub license: Option<String>,
    pub format: Option<String>,
    pub organization: Option<String>,
    pub owner: Option<String>,
    pub featured: Option<bool>,
    pub private: Option<bool>,
    pub deleted: Option<bool>,
    pub archived: Option<bool>,
    pub sort: SortKey,
    pub descending: bool,
}

impl DatasetFilter {
    pub fn new(visibility: Visibility) -> Self {
        DatasetFilter {
            visibility,
            words: Vec::new(),
            tags: Vec::new(),
            license: None,
            format: None,
            organization: None,
            owner: None,
            featured: None,
            private: None,
            deleted: None,
            archived: None,
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

/// A bound value of a dynamically built query.
enum Arg {
    Text(String),
    Int(i64),
}

/// A query text with its arguments, numbered as they are pushed.
struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    fn bind(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
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
        let moved: Option<String> = sqlx::query_scalar(
            "SELECT d.slug FROM slug_redirects r JOIN datasets d ON d.id = r.target_id
             WHERE r.kind = 'dataset' AND r.old_slug = $1",
        )
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        Ok(moved.map_or(Lookup::Missing, Lookup::Moved))
    }

    /// A page of datasets matching `filter`, and the total count.
    pub async fn list_datasets(
        &self,
        filter: &DatasetFilter,
        page: PageQuery,
    ) -> StoreResult<(Vec<DatasetRow>, i64)> {
        let mut sql = Sql { args: Vec::new() };
        let conditions = list_conditions(filter, &mut sql);
        let count_sql = format!("SELECT COUNT(*) FROM datasets d WHERE {conditions}");
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for a in &sql.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        let total = q.fetch_one(&self.read).await?;
        let column = match filter.sort {
            SortKey::Created => "d.created_at",
            SortKey::LastUpdate => "d.last_update",
            SortKey::Title => "d.title",
        };
        let dir = if filter.descending { "DESC" } else { "ASC" };
        let limit = sql.bind(Arg::Int(page.page_size));
        let offset = sql.bind(Arg::Int((page.page - 1) * page.page_size));
        let page_sql = format!(
            "SELECT d.doc, d.doc_version, d.last_update FROM datasets d WHERE {conditions}
             ORDER BY {column} {dir}, d.id {dir} LIMIT {limit} OFFSET {offset}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(page_sql));
        for a in &sql.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        let rows = q.fetch_all(&self.read).await?;
        Ok((
            rows.iter().map(dataset_of).collect::<StoreResult<_>>()?,
            total,
        ))
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
    /// Does nothing (returns `None`) if the dataset was restored or purged meanwhile.
    pub async fn purge_dataset(
        &self,
        id: &str,
        cutoff: Option<DateTime<Utc>>,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.write.begin().await?;
        let lock = self.dialect.for_update();
        // Still deleted, and before the cut-off: a dataset restored and deleted again meanwhile waits.
        let cutoff = cutoff.map_or_else(|| "9999".to_string(), |c| db_ts(&c));
        let still_deleted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM datasets WHERE id = $1 AND deleted IS NOT NULL AND deleted < $2{lock}"
        )))
        .bind(id)
        .bind(cutoff)
        .fetch_optional(&mut *tx)
        .await?;
        if still_deleted.is_none() {
            return Ok(None);
        }
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
        for sql in [
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

/// The WHERE clause of a dataset list.
fn list_conditions(f: &DatasetFilter, sql: &mut Sql) -> String {
    let mut c: Vec<String> = Vec::new();
    let public = "(d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL)";
    match &f.visibility {
        Visibility::Public => c.push(public.to_string()),
        Visibility::All => {}
        Visibility::NotPrivate => c.push("d.private = 0".to_string()),
        Visibility::User { user_id, org_ids } => {
            let mut owned = vec![format!(
                "d.owner_id = {}",
                sql.bind(Arg::Text(user_id.clone()))
            )];
            if !org_ids.is_empty() {
                let list: Vec<String> = org_ids
                    .iter()
                    .map(|o| sql.bind(Arg::Text(o.clone())))
                    .collect();
                owned.push(format!("d.organization_id IN ({})", list.join(", ")));
            }
            c.push(format!("({public} OR {})", owned.join(" OR ")));
        }
    }
    for w in &f.words {
        let p = sql.bind(Arg::Text(format!("%{}%", escape_like(w))));
        c.push(format!("d.search_text LIKE {p} ESCAPE '\\'"));
    }
    for t in &f.tags {
        let p = sql.bind(Arg::Text(t.clone()));
        c.push(format!(
            "EXISTS (SELECT 1 FROM dataset_tags t WHERE t.dataset_id = d.id AND t.tag = {p})"
        ));
    }
    if let Some(l) = &f.license {
        let p = sql.bind(Arg::Text(l.clone()));
        if l == crate::domain::reference::DEFAULT_LICENSE {
            c.push(format!("(d.license IS NULL OR d.license = {p})"));
        } else {
            c.push(format!("d.license = {p}"));
        }
    }
    if let Some(fmt) = &f.format {
        let p = sql.bind(Arg::Text(fmt.clone()));
        c.push(format!(
            "EXISTS (SELECT 1 FROM resources r WHERE r.dataset_id = d.id AND r.format = {p})"
        ));
    }
    if let Some(o) = &f.organization {
        c.push(format!(
            "d.organization_id = {}",
            sql.bind(Arg::Text(o.clone()))
        ));
    }
    if let Some(o) = &f.owner {
        c.push(format!("d.owner_id = {}", sql.bind(Arg::Text(o.clone()))));
    }
    if let Some(b) = f.featured {
        c.push(format!("d.featured = {}", i64::from(b)));
    }
    if let Some(b) = f.private {
        c.push(format!("d.private = {}", i64::from(b)));
    }
    for (flag, col) in [(f.deleted, "d.deleted"), (f.archived, "d.archived")] {
        match flag {
            Some(true) => c.push(format!("{col} IS NOT NULL")),
            Some(false) => c.push(format!("{col} IS NULL")),
            None => {}
        }
    }
    if c.is_empty() {
        "1 = 1".to_string()
    } else {
        c.join(" AND ")
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
        self.write_tags(&ds.id, &ds.tags).await
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
