//! Datasets, their resources and the files those resources ever had.
//!
//! Every change to a dataset or its resources goes through [`Store::edit_dataset`]: one transaction
//! that locks the dataset, hands the current state to a closure, and writes back only what changed.
//! Concurrent writers (many uploads to one dataset, on one node or several) therefore never lose an update.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{
    Dialect, SlugTable, Store, StoreError, StoreResult, db_ts, escape_like, free_slug, from_json,
    json_of, placeholders, ts,
};
use crate::domain::dataset::{Dataset, last_update};
use crate::domain::resource::Resource;
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

/// One stored file of a resource (current or past).
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub key: String,
    pub resource_id: String,
    pub dataset_id: String,
    pub filename: String,
    pub sha1: String,
    pub filesize: i64,
    pub mime: String,
    pub created_at: DateTime<Utc>,
}

/// The state a dataset edit works on; what the closure leaves here is written back.
#[derive(Debug)]
pub struct DatasetEdit {
    pub dataset: Dataset,
    /// In display order.
    pub resources: Vec<Resource>,
    /// Files stored for this edit, recorded in the same transaction (their pending marks go with it).
    pub new_files: Vec<FileRecord>,
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

const DATASET_COLUMNS: &str = "doc, last_update";

fn dataset_of(row: &AnyRow) -> StoreResult<DatasetRow> {
    Ok(DatasetRow {
        dataset: from_json(&row.try_get::<String, _>("doc")?)?,
        last_update: ts(&row.try_get::<String, _>("last_update")?)?,
    })
}

fn resource_of(row: &AnyRow) -> StoreResult<Resource> {
    from_json(&row.try_get::<String, _>("doc")?)
}

fn file_of(row: &AnyRow) -> StoreResult<FileRecord> {
    Ok(FileRecord {
        key: row.try_get("key")?,
        resource_id: row.try_get("resource_id")?,
        dataset_id: row.try_get("dataset_id")?,
        filename: row.try_get("filename")?,
        sha1: row.try_get("sha1")?,
        filesize: row.try_get("filesize")?,
        mime: row.try_get("mime")?,
        created_at: ts(&row.try_get::<String, _>("created_at")?)?,
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
    /// Inserts a new dataset and its resources; the slug is made unique here.
    pub async fn insert_dataset(&self, edit: &mut DatasetEdit) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        edit.dataset.slug = free_slug(
            &mut *tx,
            SlugTable::Datasets,
            &make_slug(&edit.dataset.title),
            None,
        )
        .await?;
        let ds = &edit.dataset;
        let lu = last_update(ds, &edit.resources);
        sqlx::query(
            "INSERT INTO datasets (id, slug, title, search_text, owner_id, organization_id, private, featured, license,
                 created_at, last_modified, last_update, deleted, archived, version, doc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15)",
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
        .bind(db_ts(&lu))
        .bind(ds.deleted.as_ref().map(db_ts))
        .bind(ds.archived.as_ref().map(db_ts))
        .bind(json_of(ds)?)
        .execute(&mut *tx)
        .await?;
        write_tags(&mut tx, &ds.id, &ds.tags).await?;
        for (i, r) in edit.resources.iter().enumerate() {
            insert_resource(&mut tx, &ds.id, i as i64, r).await?;
        }
        for f in &edit.new_files {
            insert_file(&mut tx, f).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Runs `change` on the current state of dataset `id` inside one locked transaction and writes the result.
    /// A changed title renames the slug (the old one then redirects).
    /// Returns the closure's value and the state as written (with the final slug).
    pub async fn edit_dataset<T, E, F>(&self, id: &str, change: F) -> Result<(T, DatasetEdit), E>
    where
        F: FnOnce(&mut DatasetEdit) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut tx = self.write.begin().await.map_err(StoreError::from)?;
        let lock = if self.dialect == Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT doc FROM datasets WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?
        .ok_or(StoreError::NotFound)?;
        let before: Dataset =
            from_json(&row.try_get::<String, _>("doc").map_err(StoreError::from)?)?;
        let rows = sqlx::query(
            "SELECT id, position, doc FROM resources WHERE dataset_id = $1 ORDER BY position, id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let mut stored: HashMap<String, (i64, String)> = HashMap::new();
        let mut resources = Vec::with_capacity(rows.len());
        for row in &rows {
            let rid: String = row.try_get("id").map_err(StoreError::from)?;
            let position: i64 = row.try_get("position").map_err(StoreError::from)?;
            let doc: String = row.try_get("doc").map_err(StoreError::from)?;
            resources.push(from_json::<Resource>(&doc)?);
            stored.insert(rid, (position, doc));
        }
        let mut edit = DatasetEdit {
            dataset: before.clone(),
            resources,
            new_files: Vec::new(),
        };
        let out = change(&mut edit)?;
        write_edit(&mut tx, &before, &mut edit, &stored).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok((out, edit))
    }

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

    /// The resources of a dataset, in order.
    pub async fn list_resources(&self, dataset_id: &str) -> StoreResult<Vec<Resource>> {
        sqlx::query("SELECT doc FROM resources WHERE dataset_id = $1 ORDER BY position, id")
            .bind(dataset_id)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(resource_of)
            .collect()
    }

    /// The resources of many datasets in one query, grouped by dataset id.
    pub async fn resources_of(
        &self,
        dataset_ids: &[String],
    ) -> StoreResult<HashMap<String, Vec<Resource>>> {
        let mut out: HashMap<String, Vec<Resource>> = HashMap::new();
        if dataset_ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT dataset_id, doc FROM resources WHERE dataset_id IN ({}) ORDER BY dataset_id, position, id",
            placeholders(1, dataset_ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in dataset_ids {
            q = q.bind(id);
        }
        for row in q.fetch_all(&self.read).await? {
            let ds: String = row.try_get("dataset_id")?;
            out.entry(ds).or_default().push(resource_of(&row)?);
        }
        Ok(out)
    }

    /// The datasets holding resource `rid` (normally one) with that resource.
    pub async fn find_resource(&self, rid: &str) -> StoreResult<Vec<(String, Resource)>> {
        let rows = sqlx::query("SELECT dataset_id, doc FROM resources WHERE id = $1")
            .bind(rid)
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("dataset_id")?, resource_of(row)?)))
            .collect()
    }

    /// Every file resource `rid` ever had, newest first.
    pub async fn list_resource_files(&self, rid: &str) -> StoreResult<Vec<FileRecord>> {
        sqlx::query(
            "SELECT key, resource_id, dataset_id, filename, sha1, filesize, mime, created_at FROM resource_files
             WHERE resource_id = $1 ORDER BY created_at DESC, key DESC",
        )
        .bind(rid)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(file_of)
        .collect()
    }

    /// A stored file by key, with the dataset it belongs to (for the read permission).
    pub async fn find_file(&self, key: &str) -> StoreResult<Option<(FileRecord, DatasetRow)>> {
        let row = sqlx::query(
            "SELECT f.key, f.resource_id, f.dataset_id, f.filename, f.sha1, f.filesize, f.mime, f.created_at,
                    d.doc, d.last_update
             FROM resource_files f JOIN datasets d ON d.id = f.dataset_id WHERE f.key = $1",
        )
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| Ok((file_of(&r)?, dataset_of(&r)?))).transpose()
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
            "SELECT d.doc, d.last_update FROM datasets d WHERE {conditions}
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
        let lock = if self.dialect == Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
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

async fn write_tags(tx: &mut Transaction<'_, Any>, id: &str, tags: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM dataset_tags WHERE dataset_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for t in tags {
        sqlx::query("INSERT INTO dataset_tags (dataset_id, tag) VALUES ($1, $2)")
            .bind(id)
            .bind(t)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn insert_resource(
    tx: &mut Transaction<'_, Any>,
    dataset_id: &str,
    position: i64,
    r: &Resource,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO resources (id, dataset_id, position, format, last_modified, doc) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&r.id)
        .bind(dataset_id)
        .bind(position)
        .bind(&r.format)
        .bind(db_ts(&r.last_modified))
        .bind(json_of(r)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_file_row(tx: &mut Transaction<'_, Any>, f: &FileRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO resource_files (key, resource_id, dataset_id, filename, sha1, filesize, mime, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&f.key)
    .bind(&f.resource_id)
    .bind(&f.dataset_id)
    .bind(&f.filename)
    .bind(&f.sha1)
    .bind(f.filesize)
    .bind(&f.mime)
    .bind(db_ts(&f.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes back an edited dataset: its row, changed tags, and only the resources that changed.
async fn write_edit(
    tx: &mut Transaction<'_, Any>,
    before: &Dataset,
    edit: &mut DatasetEdit,
    stored: &HashMap<String, (i64, String)>,
) -> StoreResult<()> {
    let id = before.id.clone();
    if make_slug(&edit.dataset.title) != make_slug(&before.title) {
        let slug = free_slug(
            &mut **tx,
            SlugTable::Datasets,
            &make_slug(&edit.dataset.title),
            Some(&id),
        )
        .await?;
        if slug != before.slug {
            sqlx::query(
                "INSERT INTO slug_redirects (kind, old_slug, target_id) VALUES ('dataset', $1, $2)
                 ON CONFLICT (kind, old_slug) DO UPDATE SET target_id = excluded.target_id",
            )
            .bind(&before.slug)
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        }
        edit.dataset.slug = slug;
    } else {
        edit.dataset.slug = before.slug.clone();
    }
    let ds = &edit.dataset;
    let lu = last_update(ds, &edit.resources);
    sqlx::query(
        "UPDATE datasets SET slug = $2, title = $3, search_text = $4, owner_id = $5, organization_id = $6, private = $7,
             featured = $8, license = $9, last_modified = $10, last_update = $11, deleted = $12, archived = $13,
             version = version + 1, doc = $14
         WHERE id = $1",
    )
    .bind(&id)
    .bind(&ds.slug)
    .bind(&ds.title)
    .bind(ds.search_text())
    .bind(&ds.owner_id)
    .bind(&ds.organization_id)
    .bind(i64::from(ds.private))
    .bind(i64::from(ds.featured))
    .bind(&ds.license)
    .bind(db_ts(&ds.last_modified))
    .bind(db_ts(&lu))
    .bind(ds.deleted.as_ref().map(db_ts))
    .bind(ds.archived.as_ref().map(db_ts))
    .bind(json_of(ds)?)
    .execute(&mut **tx)
    .await?;
    if ds.tags != before.tags {
        write_tags(tx, &id, &ds.tags).await?;
    }
    let keep: std::collections::HashSet<&str> =
        edit.resources.iter().map(|r| r.id.as_str()).collect();
    for rid in stored.keys().filter(|rid| !keep.contains(rid.as_str())) {
        sqlx::query("DELETE FROM resources WHERE id = $1 AND dataset_id = $2")
            .bind(rid)
            .bind(&id)
            .execute(&mut **tx)
            .await?;
    }
    for (i, r) in edit.resources.iter().enumerate() {
        let position = i as i64;
        let doc = json_of(r)?;
        match stored.get(&r.id) {
            Some((p, d)) if *p == position && *d == doc => {}
            Some(_) => {
                sqlx::query("UPDATE resources SET position = $3, format = $4, last_modified = $5, doc = $6 WHERE id = $1 AND dataset_id = $2")
                    .bind(&r.id)
                    .bind(&id)
                    .bind(position)
                    .bind(&r.format)
                    .bind(db_ts(&r.last_modified))
                    .bind(&doc)
                    .execute(&mut **tx)
                    .await?;
            }
            None => insert_resource(tx, &id, position, r).await?,
        }
    }
    for f in &edit.new_files {
        insert_file(tx, f).await?;
    }
    Ok(())
}

/// Records a finished file: its row, and the end of its pending mark.
async fn insert_file(tx: &mut Transaction<'_, Any>, f: &FileRecord) -> StoreResult<()> {
    insert_file_row(tx, f).await?;
    sqlx::query("DELETE FROM pending_files WHERE key = $1")
        .bind(&f.key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
