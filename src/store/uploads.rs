//! Upload state shared by every node: the parts of chunked uploads, and the objects being written.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, db_ts, ts};

/// One received part of a chunked upload.
#[derive(Debug, Clone)]
pub struct UploadPart {
    pub uuid: String,
    pub index: i64,
    pub dataset_id: String,
    pub user_id: String,
    pub key: String,
    pub size: i64,
    pub sha1: String,
    pub updated_at: DateTime<Utc>,
    /// Written in place: the part's bytes are at this offset of the upload's file (`key`).
    pub offset: Option<i64>,
    /// Sent as parts of the S3 multipart upload at `key`: their ETags, in part-number order.
    pub etags: Option<Vec<String>>,
}

/// A chunked upload on S3: how its parts are stored (see `ops::uploads::multipart`).
#[derive(Debug, Clone)]
pub struct ChunkedUpload {
    pub uuid: String,
    pub dataset_id: String,
    pub user_id: String,
    /// The S3 multipart upload (its key and id); `None`: parts are objects of their own.
    pub multipart: Option<(String, String)>,
    /// The size of every part but the last.
    pub part_size: i64,
    /// S3 parts per part of the upload.
    pub pieces: i64,
    pub total: i64,
    /// The multipart upload was completed: the object at its key is the whole upload.
    pub completed: bool,
    /// A final request is assembling it.
    pub claimed: bool,
}

fn chunked_upload_of(row: &AnyRow) -> StoreResult<ChunkedUpload> {
    let key: Option<String> = row.try_get("key")?;
    let id: Option<String> = row.try_get("multipart_id")?;
    Ok(ChunkedUpload {
        uuid: row.try_get("uuid")?,
        dataset_id: row.try_get("dataset_id")?,
        user_id: row.try_get("user_id")?,
        multipart: key.zip(id),
        part_size: row.try_get("part_size")?,
        pieces: row.try_get("pieces")?,
        total: row.try_get("total")?,
        completed: row.try_get::<i64, _>("completed")? != 0,
        claimed: row.try_get::<Option<String>, _>("claimed_at")?.is_some(),
    })
}

const CHUNKED_UPLOAD_COLUMNS: &str =
    "uuid, dataset_id, user_id, key, multipart_id, part_size, pieces, total, completed, claimed_at";

fn etags_of(raw: Option<String>) -> StoreResult<Option<Vec<String>>> {
    raw.map(|s| {
        serde_json::from_str(&s).map_err(|e| StoreError::Other(anyhow::anyhow!("bad etags: {e}")))
    })
    .transpose()
}

fn part_of(row: &AnyRow) -> StoreResult<UploadPart> {
    Ok(UploadPart {
        uuid: row.try_get("uuid")?,
        index: row.try_get("idx")?,
        dataset_id: row.try_get("dataset_id")?,
        user_id: row.try_get("user_id")?,
        key: row.try_get("key")?,
        size: row.try_get("size")?,
        sha1: row.try_get("sha1")?,
        updated_at: ts(&row.try_get::<String, _>("updated_at")?)?,
        offset: row.try_get("offset_bytes")?,
        etags: etags_of(row.try_get("etags")?)?,
    })
}

impl Store {
    /// Notes that an object is about to be written at `key` (removed once the file is recorded).
    pub async fn insert_pending_file(&self, key: &str, now: &DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("INSERT INTO pending_files (key, started_at) VALUES ($1, $2)")
            .bind(key)
            .bind(db_ts(now))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn delete_pending_file(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM pending_files WHERE key = $1")
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Notes (again) that the file of an upload written in place is being written: its mark is
    /// refreshed by every part, so only an upload abandoned for the retention is swept.
    pub async fn touch_pending_file(&self, key: &str, now: &DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO pending_files (key, started_at) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET started_at = excluded.started_at",
        )
        .bind(key)
        .bind(db_ts(now))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The dataset and user an upload belongs to (those of its first part), if it has parts.
    pub async fn upload_owner(&self, uuid: &str) -> StoreResult<Option<(String, String)>> {
        let row =
            sqlx::query("SELECT dataset_id, user_id FROM upload_parts WHERE uuid = $1 LIMIT 1")
                .bind(uuid)
                .fetch_optional(&self.write)
                .await?;
        row.map(|r| Ok((r.try_get("dataset_id")?, r.try_get("user_id")?)))
            .transpose()
    }

    /// Forgets part `index` of `uuid` (about to be overwritten in place: until it is whole again, it
    /// is missing). Returns the key of its own object, if it had one, for deletion.
    pub async fn forget_upload_part(&self, uuid: &str, index: i64) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "DELETE FROM upload_parts WHERE uuid = $1 AND idx = $2
             RETURNING key, offset_bytes, etags",
        )
        .bind(uuid)
        .bind(index)
        .fetch_optional(&self.write)
        .await?;
        match row {
            Some(r)
                if r.try_get::<Option<i64>, _>("offset_bytes")?.is_none()
                    && r.try_get::<Option<String>, _>("etags")?.is_none() =>
            {
                Ok(Some(r.try_get("key")?))
            }
            _ => Ok(None),
        }
    }

    /// Objects whose writing started before `before` and never finished.
    pub async fn list_stale_pending_files(
        &self,
        before: &DateTime<Utc>,
    ) -> StoreResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT key FROM pending_files WHERE started_at < $1")
                .bind(db_ts(before))
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Records a received part (replacing an earlier copy of the same index, whose key is returned
    /// for deletion). A uuid belongs to the dataset and user that sent its first part.
    pub async fn record_upload_part(&self, part: &UploadPart) -> StoreResult<Option<String>> {
        let mut tx = self.begin_raw().await?;
        let owner =
            sqlx::query("SELECT dataset_id, user_id FROM upload_parts WHERE uuid = $1 LIMIT 1")
                .bind(&part.uuid)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = owner {
            let (dataset, user): (String, String) =
                (row.try_get("dataset_id")?, row.try_get("user_id")?);
            if dataset != part.dataset_id || user != part.user_id {
                return Err(StoreError::Conflict(
                    "upload uuid used by another upload".into(),
                ));
            }
        }
        // A final request is assembling the upload's S3 multipart upload (or completed it): a
        // part coming now would not be in the file.
        let busy: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM chunked_uploads WHERE uuid = $1 AND multipart_id IS NOT NULL
                 AND (completed <> 0 OR claimed_at IS NOT NULL)",
        )
        .bind(&part.uuid)
        .fetch_optional(&mut *tx)
        .await?;
        if busy.is_some() {
            return Err(StoreError::Conflict("upload being assembled".into()));
        }
        if part.etags.is_some() {
            sqlx::query("UPDATE chunked_uploads SET updated_at = $2 WHERE uuid = $1")
                .bind(&part.uuid)
                .bind(db_ts(&part.updated_at))
                .execute(&mut *tx)
                .await?;
        }
        // The old copy's own object, if it had one (one written in place shares the upload's file,
        // one sent as S3 parts was replaced in the multipart upload).
        let old: Option<String> = sqlx::query_scalar(
            "SELECT key FROM upload_parts
             WHERE uuid = $1 AND idx = $2 AND offset_bytes IS NULL AND etags IS NULL",
        )
        .bind(&part.uuid)
        .bind(part.index)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO upload_parts
                 (uuid, idx, dataset_id, user_id, key, size, sha1, updated_at, offset_bytes, etags)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (uuid, idx) DO UPDATE SET key = excluded.key, size = excluded.size,
                 sha1 = excluded.sha1, updated_at = excluded.updated_at,
                 offset_bytes = excluded.offset_bytes, etags = excluded.etags",
        )
        .bind(&part.uuid)
        .bind(part.index)
        .bind(&part.dataset_id)
        .bind(&part.user_id)
        .bind(&part.key)
        .bind(part.size)
        .bind(&part.sha1)
        .bind(db_ts(&part.updated_at))
        .bind(part.offset)
        .bind(
            part.etags
                .as_ref()
                .map(|e| serde_json::json!(e).to_string()),
        )
        .execute(&mut *tx)
        .await?;
        // For a part written in place this unmarks the upload's file: from now on its rows name it
        // for the cleanup (a part being written marks it again first).
        sqlx::query("DELETE FROM pending_files WHERE key = $1")
            .bind(&part.key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(old)
    }

    /// The parts received for `uuid`, by index.
    pub async fn list_upload_parts(&self, uuid: &str) -> StoreResult<Vec<UploadPart>> {
        sqlx::query(
            "SELECT uuid, idx, dataset_id, user_id, key, size, sha1, updated_at, offset_bytes, etags
             FROM upload_parts
             WHERE uuid = $1 ORDER BY idx",
        )
        .bind(uuid)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(part_of)
        .collect()
    }

    /// Uploads untouched since `before`: no part arrived, no final request claimed them.
    pub async fn list_stale_uploads(&self, before: &DateTime<Utc>) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT uuid FROM upload_parts GROUP BY uuid HAVING MAX(updated_at) < $1
                 AND uuid NOT IN (SELECT uuid FROM chunked_uploads WHERE updated_at >= $1)
             UNION
             SELECT uuid FROM chunked_uploads c WHERE updated_at < $1 AND NOT EXISTS
                 (SELECT 1 FROM upload_parts p WHERE p.uuid = c.uuid AND p.updated_at >= $1)",
        )
        .bind(db_ts(before))
        .fetch_all(&self.read)
        .await?)
    }

    /// Forgets an upload; returns the keys of its parts' objects for deletion, and its S3 multipart
    /// upload (key, id), if it had one, to abort (and its object to delete, if it was completed).
    pub async fn delete_upload(
        &self,
        uuid: &str,
    ) -> StoreResult<(Vec<String>, Option<(String, String)>)> {
        let mut tx = self.begin_raw().await?;
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT key FROM upload_parts WHERE uuid = $1 AND etags IS NULL",
        )
        .bind(uuid)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM upload_parts WHERE uuid = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        let multipart =
            sqlx::query("DELETE FROM chunked_uploads WHERE uuid = $1 RETURNING key, multipart_id")
                .bind(uuid)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        let multipart = match multipart {
            Some(row) => {
                let key: Option<String> = row.try_get("key")?;
                key.zip(row.try_get("multipart_id")?)
            }
            None => None,
        };
        Ok((keys, multipart))
    }

    /// The size of the full parts of an upload written in place, from its first part so written
    /// below `total` (part `i` is at `i` times that size): one lookup in `upload_parts_in_place`.
    pub async fn find_full_part_size(
        &self,
        uuid: &str,
        dataset_id: &str,
        user_id: &str,
        total: i64,
    ) -> StoreResult<Option<i64>> {
        let row = sqlx::query(
            "SELECT idx, size, offset_bytes FROM upload_parts
             WHERE uuid = $1 AND offset_bytes IS NOT NULL AND idx < $2
                 AND dataset_id = $3 AND user_id = $4
             ORDER BY idx LIMIT 1",
        )
        .bind(uuid)
        .bind(total)
        .bind(dataset_id)
        .bind(user_id)
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (index, size, offset): (i64, i64, i64) = (
            row.try_get("idx")?,
            row.try_get("size")?,
            row.try_get("offset_bytes")?,
        );
        Ok(Some(if index == 0 { size } else { offset / index }))
    }

    /// The chunked upload `uuid` (S3), if a part of it decided how it is stored.
    pub async fn find_chunked_upload(&self, uuid: &str) -> StoreResult<Option<ChunkedUpload>> {
        let sql = format!("SELECT {CHUNKED_UPLOAD_COLUMNS} FROM chunked_uploads WHERE uuid = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(uuid)
            .fetch_optional(&self.write)
            .await?
            .as_ref()
            .map(chunked_upload_of)
            .transpose()
    }

    /// Records how upload `uuid` is stored, unless a simultaneous part did first: returns the row
    /// that holds (this one, or the other: then the caller aborts its own multipart upload).
    pub async fn insert_chunked_upload(
        &self,
        upload: &ChunkedUpload,
        now: &DateTime<Utc>,
    ) -> StoreResult<ChunkedUpload> {
        let (key, id) = upload.multipart.clone().unzip();
        sqlx::query(
            "INSERT INTO chunked_uploads
                 (uuid, dataset_id, user_id, key, multipart_id, part_size, pieces, total, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (uuid) DO NOTHING",
        )
        .bind(&upload.uuid)
        .bind(&upload.dataset_id)
        .bind(&upload.user_id)
        .bind(key)
        .bind(id)
        .bind(upload.part_size)
        .bind(upload.pieces)
        .bind(upload.total)
        .bind(db_ts(now))
        .execute(&self.write)
        .await?;
        // The row is committed (ours, or the one whose insert ours waited on).
        self.find_chunked_upload(&upload.uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Claims upload `uuid` for this final request: `false` when another final request holds it
    /// (a claim older than `stale_before` is taken over: its request died).
    pub async fn claim_chunked_upload(
        &self,
        uuid: &str,
        now: &DateTime<Utc>,
        stale_before: &DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE chunked_uploads SET claimed_at = $2, updated_at = $2
             WHERE uuid = $1 AND (claimed_at IS NULL OR claimed_at < $3)",
        )
        .bind(uuid)
        .bind(db_ts(now))
        .bind(db_ts(stale_before))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Releases the claim of a final request that failed (what it completed stays completed).
    pub async fn release_chunked_upload(&self, uuid: &str) -> StoreResult<()> {
        sqlx::query("UPDATE chunked_uploads SET claimed_at = NULL WHERE uuid = $1")
            .bind(uuid)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Notes that the multipart upload of `uuid` was completed (while its claim is held).
    pub async fn complete_chunked_upload(&self, uuid: &str) -> StoreResult<()> {
        sqlx::query("UPDATE chunked_uploads SET completed = 1 WHERE uuid = $1")
            .bind(uuid)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

impl super::WriteTx {
    /// Takes the parts of `uuid` sent by this user for this dataset, in the transaction that records
    /// the file assembled from them; returns their keys for deletion after the commit. Empty when
    /// another final request of the same upload took them first: the deleted rows are the claim
    /// (PostgreSQL makes the second transaction wait on their row locks, SQLite's single writer
    /// serialises), so one upload becomes one file.
    pub async fn claim_upload(
        &mut self,
        uuid: &str,
        dataset_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "DELETE FROM upload_parts WHERE uuid = $1 AND dataset_id = $2 AND user_id = $3
             RETURNING key, etags",
        )
        .bind(uuid)
        .bind(dataset_id)
        .bind(user_id)
        .fetch_all(&mut *self.tx)
        .await?;
        sqlx::query("DELETE FROM chunked_uploads WHERE uuid = $1")
            .bind(uuid)
            .execute(&mut *self.tx)
            .await?;
        // A part sent as S3 parts is in the recorded file: its key is that file's. An empty key
        // still counts as a claimed part.
        rows.iter()
            .map(|r| {
                let etags: Option<String> = r.try_get("etags")?;
                Ok(match etags {
                    Some(_) => String::new(),
                    None => r.try_get("key")?,
                })
            })
            .collect()
    }
}
