//! Resources (one row each, in dataset order) and the files they ever had; and the resource half of
//! write transactions. Adding, changing or removing one resource touches its own row only.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::datasets::{DatasetRow, dataset_of};
use super::documents::{CURRENT, decode, encode};
use super::search::{resource_terms, schema_of};
use super::{Store, StoreResult, WriteTx, db_ts, placeholders, ts};
use crate::domain::resource::{Resource, fold_title};

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

pub(super) fn resource_of(row: &AnyRow) -> StoreResult<Resource> {
    decode(
        row.try_get("doc_version")?,
        &row.try_get::<String, _>("doc")?,
    )
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

const FILE_COLUMNS: &str =
    "key, resource_id, dataset_id, filename, sha1, filesize, mime, created_at";

impl Store {
    /// The resources of a dataset, in order.
    pub async fn list_resources(&self, dataset_id: &str) -> StoreResult<Vec<Resource>> {
        sqlx::query(
            "SELECT doc, doc_version FROM resources WHERE dataset_id = $1 ORDER BY position, id",
        )
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
            "SELECT dataset_id, doc, doc_version FROM resources WHERE dataset_id IN ({}) ORDER BY dataset_id, position, id",
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

    /// Resource `rid` of dataset `dataset_id`.
    pub async fn find_resource(
        &self,
        dataset_id: &str,
        rid: &str,
    ) -> StoreResult<Option<Resource>> {
        sqlx::query("SELECT doc, doc_version FROM resources WHERE id = $1 AND dataset_id = $2")
            .bind(rid)
            .bind(dataset_id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(resource_of)
            .transpose()
    }

    /// Resource `rid`, whichever dataset holds it, with that dataset.
    pub async fn find_resource_anywhere(
        &self,
        rid: &str,
    ) -> StoreResult<Option<(Resource, DatasetRow)>> {
        let row = sqlx::query(
            "SELECT r.doc AS r_doc, r.doc_version AS r_version, d.doc, d.doc_version, d.last_update
             FROM resources r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = $1",
        )
        .bind(rid)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            let r = decode(
                row.try_get("r_version")?,
                &row.try_get::<String, _>("r_doc")?,
            )?;
            Ok((r, dataset_of(&row)?))
        })
        .transpose()
    }

    /// Every file resource `rid` of dataset `dataset_id` ever had, newest first.
    pub async fn list_resource_files(
        &self,
        dataset_id: &str,
        rid: &str,
    ) -> StoreResult<Vec<FileRecord>> {
        self.newest_resource_files(dataset_id, rid, i64::MAX).await
    }

    /// The newest `limit` files resource `rid` of dataset `dataset_id` had, newest first (one index
    /// range, whatever the length of its history).
    pub async fn newest_resource_files(
        &self,
        dataset_id: &str,
        rid: &str,
        limit: i64,
    ) -> StoreResult<Vec<FileRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FILE_COLUMNS} FROM resource_files WHERE resource_id = $1 AND dataset_id = $2
             ORDER BY created_at DESC, key DESC LIMIT $3"
        )))
        .bind(rid)
        .bind(dataset_id)
        .bind(limit)
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
                    d.doc, d.doc_version, d.last_update
             FROM resource_files f JOIN datasets d ON d.id = f.dataset_id WHERE f.key = $1",
        )
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| Ok((file_of(&r)?, dataset_of(&r)?))).transpose()
    }
}

/// What a resource row holds beside its id, dataset and position, computed once for a write.
struct ResourceColumns {
    doc: String,
    last_modified: String,
    title_folded: String,
}

impl ResourceColumns {
    fn of(r: &Resource) -> StoreResult<ResourceColumns> {
        Ok(ResourceColumns {
            doc: encode(r)?,
            last_modified: db_ts(&r.last_modified),
            title_folded: fold_title(&r.title),
        })
    }

    /// Binds, in this order: format, schema name and version, last_modified, doc, doc_version, kind,
    /// title, folded title, and the three quality facts (the insert and the update list their
    /// columns in that order).
    fn bind<'q>(
        &'q self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        r: &'q Resource,
        schema_name: &'q Option<String>,
        schema_version: &'q Option<String>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        query
            .bind(&r.format)
            .bind(schema_name)
            .bind(schema_version)
            .bind(&self.last_modified)
            .bind(&self.doc)
            .bind(CURRENT)
            .bind(&r.kind)
            .bind(&r.title)
            .bind(&self.title_folded)
            .bind(i64::from(r.has_open_format()))
            .bind(i64::from(r.is_documented()))
            .bind(i64::from(r.is_reported_unavailable()))
    }
}

/// Where a new resource goes in its dataset's order.
#[derive(Debug, Clone, Copy)]
pub enum Position {
    /// Before every other (new resources come first, as in udata): one indexed query.
    First,
    /// At this place of a list being written whole.
    At(i64),
}

impl WriteTx {
    /// The resources of a locked dataset, in order (for the writes that take the whole list).
    pub async fn list_resources(&mut self, dataset_id: &str) -> StoreResult<Vec<Resource>> {
        sqlx::query(
            "SELECT doc, doc_version FROM resources WHERE dataset_id = $1 ORDER BY position, id",
        )
        .bind(dataset_id)
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(resource_of)
        .collect()
    }

    /// Resource `rid` of a locked dataset.
    pub async fn find_resource(
        &mut self,
        dataset_id: &str,
        rid: &str,
    ) -> StoreResult<Option<Resource>> {
        sqlx::query("SELECT doc, doc_version FROM resources WHERE id = $1 AND dataset_id = $2")
            .bind(rid)
            .bind(dataset_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(resource_of)
            .transpose()
    }

    pub async fn insert_resource(
        &mut self,
        dataset_id: &str,
        r: &Resource,
        position: Position,
    ) -> StoreResult<()> {
        let position = match position {
            Position::At(p) => p,
            Position::First => {
                let min: Option<i64> =
                    sqlx::query_scalar("SELECT MIN(position) FROM resources WHERE dataset_id = $1")
                        .bind(dataset_id)
                        .fetch_one(&mut *self.tx)
                        .await?;
                min.map_or(0, |m| m - 1)
            }
        };
        let (schema_name, schema_version) = schema_of(r);
        let columns = ResourceColumns::of(r)?;
        let insert = sqlx::query(
            "INSERT INTO resources (id, dataset_id, position, format, schema_name, schema_version,
                 last_modified, doc, doc_version, kind, title, title_folded, open_format, documented,
                 unavailable)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&r.id)
        .bind(dataset_id);
        columns
            .bind(insert.bind(position), r, &schema_name, &schema_version)
            .execute(&mut *self.tx)
            .await?;
        self.schedule_check(dataset_id, r).await?;
        let terms = resource_terms(
            r.format.as_deref(),
            schema_name.as_deref(),
            schema_version.as_deref(),
        );
        self.count_terms(dataset_id, &terms, 1).await
    }

    /// Writes back one resource (its place in the order is kept).
    pub async fn update_resource(&mut self, dataset_id: &str, r: &Resource) -> StoreResult<()> {
        let old = self.resource_terms_of(dataset_id, &r.id).await?;
        let (schema_name, schema_version) = schema_of(r);
        let columns = ResourceColumns::of(r)?;
        let update = sqlx::query(
            "UPDATE resources SET format = $3, schema_name = $4, schema_version = $5, last_modified = $6,
                 doc = $7, doc_version = $8, kind = $9, title = $10, title_folded = $11,
                 open_format = $12, documented = $13, unavailable = $14
             WHERE id = $1 AND dataset_id = $2",
        )
        .bind(&r.id)
        .bind(dataset_id);
        columns
            .bind(update, r, &schema_name, &schema_version)
            .execute(&mut *self.tx)
            .await?;
        self.schedule_check(dataset_id, r).await?;
        if let Some(old) = old {
            let new = resource_terms(
                r.format.as_deref(),
                schema_name.as_deref(),
                schema_version.as_deref(),
            );
            self.move_terms(dataset_id, &old, &new).await?;
        }
        Ok(())
    }

    /// Removes resource `rid` from its dataset (its files stay recorded); false if it was not there.
    pub async fn delete_resource(&mut self, dataset_id: &str, rid: &str) -> StoreResult<bool> {
        let gone = sqlx::query(
            "DELETE FROM resources WHERE id = $1 AND dataset_id = $2
             RETURNING format, schema_name, schema_version",
        )
        .bind(rid)
        .bind(dataset_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = gone else {
            return Ok(false);
        };
        let terms = resource_terms(
            row.try_get::<Option<String>, _>("format")?.as_deref(),
            row.try_get::<Option<String>, _>("schema_name")?.as_deref(),
            row.try_get::<Option<String>, _>("schema_version")?
                .as_deref(),
        );
        self.count_terms(dataset_id, &terms, -1).await?;
        Ok(true)
    }

    /// The terms resource `rid` adds to its dataset, read from its row (`None`: no such resource).
    async fn resource_terms_of(
        &mut self,
        dataset_id: &str,
        rid: &str,
    ) -> StoreResult<Option<Vec<(&'static str, String)>>> {
        let row = sqlx::query(
            "SELECT format, schema_name, schema_version FROM resources WHERE id = $1 AND dataset_id = $2",
        )
        .bind(rid)
        .bind(dataset_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| {
            Ok(resource_terms(
                row.try_get::<Option<String>, _>("format")?.as_deref(),
                row.try_get::<Option<String>, _>("schema_name")?.as_deref(),
                row.try_get::<Option<String>, _>("schema_version")?
                    .as_deref(),
            ))
        })
        .transpose()
    }

    /// A resource's terms changed from `old` to `new`: the counts follow.
    async fn move_terms(
        &mut self,
        dataset_id: &str,
        old: &[(&'static str, String)],
        new: &[(&'static str, String)],
    ) -> StoreResult<()> {
        let gone: Vec<_> = old.iter().filter(|t| !new.contains(t)).cloned().collect();
        let came: Vec<_> = new.iter().filter(|t| !old.contains(t)).cloned().collect();
        self.count_terms(dataset_id, &gone, -1).await?;
        self.count_terms(dataset_id, &came, 1).await
    }

    /// Writes a dataset's whole resource list (a dataset `PUT` with `resources`, a reorder): rows of
    /// resources left out are removed, and only the rows whose place or content changed are written.
    pub async fn replace_resources(
        &mut self,
        dataset_id: &str,
        resources: &[Resource],
    ) -> StoreResult<()> {
        let rows = sqlx::query("SELECT id, position, doc FROM resources WHERE dataset_id = $1")
            .bind(dataset_id)
            .fetch_all(&mut *self.tx)
            .await?;
        let mut stored: HashMap<String, (i64, String)> = HashMap::with_capacity(rows.len());
        for row in &rows {
            stored.insert(
                row.try_get("id")?,
                (row.try_get("position")?, row.try_get("doc")?),
            );
        }
        for rid in stored.keys() {
            if !resources.iter().any(|r| &r.id == rid) {
                self.delete_resource(dataset_id, rid).await?;
            }
        }
        for (i, r) in resources.iter().enumerate() {
            let position = i as i64;
            let doc = encode(r)?;
            match stored.get(&r.id) {
                Some((p, d)) if *p == position && *d == doc => {}
                Some((p, d)) => {
                    if *p != position {
                        sqlx::query(
                            "UPDATE resources SET position = $3 WHERE id = $1 AND dataset_id = $2",
                        )
                        .bind(&r.id)
                        .bind(dataset_id)
                        .bind(position)
                        .execute(&mut *self.tx)
                        .await?;
                    }
                    if *d != doc {
                        self.update_resource(dataset_id, r).await?;
                    }
                }
                None => {
                    self.insert_resource(dataset_id, r, Position::At(position))
                        .await?
                }
            }
        }
        Ok(())
    }

    /// Records a finished file: its row, and the end of its pending mark.
    pub async fn insert_file(&mut self, f: &FileRecord) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO resource_files ({FILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(&f.key)
        .bind(&f.resource_id)
        .bind(&f.dataset_id)
        .bind(&f.filename)
        .bind(&f.sha1)
        .bind(f.filesize)
        .bind(&f.mime)
        .bind(db_ts(&f.created_at))
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("DELETE FROM pending_files WHERE key = $1")
            .bind(&f.key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
