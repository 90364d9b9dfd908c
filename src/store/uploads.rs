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
            "DELETE FROM upload_parts WHERE uuid = $1 AND idx = $2 RETURNING key, offset_bytes",
        )
        .bind(uuid)
        .bind(index)
        .fetch_optional(&self.write)
        .await?;
        match row {
            Some(r) if r.try_get::<Option<i64>, _>("offset_bytes")?.is_none() => {
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
        // The old copy's own object, if it had one (one written in place shares the upload's file).
        let old: Option<String> = sqlx::query_scalar(
            "SELECT key FROM upload_parts WHERE uuid = $1 AND idx = $2 AND offset_bytes IS NULL",
        )
        .bind(&part.uuid)
        .bind(part.index)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO upload_parts
                 (uuid, idx, dataset_id, user_id, key, size, sha1, updated_at, offset_bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (uuid, idx) DO UPDATE SET key = excluded.key, size = excluded.size,
                 sha1 = excluded.sha1, updated_at = excluded.updated_at,
                 offset_bytes = excluded.offset_bytes",
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
            "SELECT uuid, idx, dataset_id, user_id, key, size, sha1, updated_at, offset_bytes
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

    /// Uploads whose last part arrived before `before`.
    pub async fn list_stale_uploads(&self, before: &DateTime<Utc>) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT uuid FROM upload_parts GROUP BY uuid HAVING MAX(updated_at) < $1",
        )
        .bind(db_ts(before))
        .fetch_all(&self.read)
        .await?)
    }

    /// Forgets an upload's parts; returns their keys for deletion.
    pub async fn delete_upload(&self, uuid: &str) -> StoreResult<Vec<String>> {
        let mut tx = self.begin_raw().await?;
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT key FROM upload_parts WHERE uuid = $1")
                .bind(uuid)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM upload_parts WHERE uuid = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(keys)
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
        Ok(sqlx::query_scalar(
            "DELETE FROM upload_parts WHERE uuid = $1 AND dataset_id = $2 AND user_id = $3
             RETURNING key",
        )
        .bind(uuid)
        .bind(dataset_id)
        .bind(user_id)
        .fetch_all(&mut *self.tx)
        .await?)
    }
}
