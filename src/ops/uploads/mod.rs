//! Upload operations: store a single file, store one part of udata's chunked protocol, assemble the
//! parts, and record the result as a new resource or as a resource's new file.
//!
//! Bytes stream to storage as they arrive (hashed on the way, never held whole in memory). Every
//! object is marked pending before its first byte; the mark goes in the transaction that records the
//! file, so a crash at any point leaves no resource pointing to a partial file, only a mark that the
//! cleanup job removes.

mod cleanup;
mod in_place;
mod multipart;

pub use cleanup::{CleanupReport, cleanup};
use in_place::contiguous;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use rand::RngCore;

use super::resources::{UploadClaim, add_uploaded_resource, replace_resource_file};
use crate::domain::reference::format_of;
use crate::domain::resource::{Resource, StoredFile, guess_mime, stored_name};
use crate::domain::time::now;
use crate::error::ApiError;
use crate::files::{FileWriter, WrittenFile};
use crate::state::AppState;
use crate::store::{StoreError, UploadPart};

/// A checksum the client asks the server to verify.
#[derive(Debug, Clone)]
pub enum Expected {
    Sha1(String),
    Sha256(String),
}

/// One part of a chunked upload, as announced by its request.
#[derive(Debug, Clone)]
pub struct PartInput {
    pub uuid: String,
    pub index: u64,
    /// `chunksize`: the size the client says it sent, checked when given.
    pub size: Option<u64>,
    /// `totalparts`.
    pub total: u64,
    /// `filename`, when the part carries it (it names an S3 multipart upload's object).
    pub filename: Option<String>,
}

/// What a stored file becomes.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    NewResource,
    /// A new file for this resource (the old one stays served).
    Replace(&'a str),
}

/// A stored file not yet known to be a whole file or a part (`Uploader::store_unsorted`).
pub struct Unsorted {
    pub key: String,
    pub filename: String,
    written: WrittenFile,
}

/// The sha256 of the stored object at `key`, read back.
async fn sha256_of(state: &AppState, key: &str) -> Result<String, ApiError> {
    use sha2::Digest;
    let body = state
        .files
        .read(key, None)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut hasher = sha2::Sha256::new();
    let mut stream = body.stream;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::Internal(e.into()))?;
        hasher.update(&chunk);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Uploads by one user to one dataset.
pub struct Uploader<'a> {
    pub state: &'a AppState,
    pub dataset_id: &'a str,
    pub user_id: &'a str,
    /// Who records the file, in the activity log.
    pub actor: &'a crate::domain::activity::Actor,
}

pub fn upload_error(msg: &str) -> ApiError {
    ApiError::Upload(axum::http::StatusCode::BAD_REQUEST, msg.to_string())
}

/// The answer to a final request for an upload that has no parts (never sent, or already recorded).
pub fn unknown_upload(uuid: &str) -> ApiError {
    upload_error(&format!("Unknown upload uuid {uuid}"))
}

pub fn too_large(max: u64) -> ApiError {
    ApiError::Upload(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        format!("File too large: the limit is {max} bytes"),
    )
}

fn salt() -> String {
    let mut salt = [0u8; 3];
    rand::rng().fill_bytes(&mut salt);
    hex::encode(salt)
}

/// A fresh key for a file of `dataset_id`: never reused, so an older file is never overwritten.
/// Its name part is cut to what every backend stores (`stored_name`); the title keeps the whole name.
fn new_file_key(dataset_id: &str, filename: &str) -> String {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let name = stored_name(filename);
    format!("resources/{dataset_id}/{stamp}-{}/{name}", salt())
}

/// A fresh key for a copy of a part (a re-sent part never overwrites one being assembled).
fn new_part_key(uuid: &str, index: u64) -> String {
    format!("chunks/{uuid}/{index}-{}", salt())
}

/// `Err` when the written file does not match what the client announced.
fn verify(expected: &Option<Expected>, written: &WrittenFile) -> Result<(), ApiError> {
    let (name, want, got) = match expected {
        None => return Ok(()),
        Some(Expected::Sha1(v)) => ("sha1", v, Some(&written.sha1)),
        Some(Expected::Sha256(v)) => ("sha256", v, written.sha256.as_ref()),
    };
    if got == Some(want) {
        Ok(())
    } else {
        let got = got.map_or("?", String::as_str);
        Err(upload_error(&format!(
            "Checksum mismatch: expected {name}:{want}, got {name}:{got}"
        )))
    }
}

fn stored_file(key: String, filename: String, written: &WrittenFile) -> StoredFile {
    StoredFile {
        mime: guess_mime(&filename),
        format: format_of(&filename),
        key,
        filename,
        sha1: written.sha1.clone(),
        size: written.size as i64,
    }
}

impl Uploader<'_> {
    /// Starts an object at `key`, marked pending first.
    async fn writer(&self, key: &str, sha256: bool) -> Result<FileWriter, ApiError> {
        self.state.store.insert_pending_file(key, &now()).await?;
        let writer = match self.state.files.writer(key).await {
            Ok(w) => w,
            Err(e) => {
                // Nothing was written: the mark would only burden the cleanup.
                self.state.store.delete_pending_file(key).await?;
                return Err(e.into());
            }
        };
        Ok(if sha256 { writer.with_sha256() } else { writer })
    }

    /// Removes an object that will not be recorded, and its pending mark.
    pub async fn discard(&self, key: &str) -> Result<(), ApiError> {
        self.state.files.delete(key).await?;
        self.state.store.delete_pending_file(key).await?;
        Ok(())
    }

    /// Streams `bytes` into a new object, enforcing the size limit as they arrive.
    async fn write_stream<S>(
        &self,
        key: &str,
        bytes: S,
        sha256: bool,
    ) -> Result<WrittenFile, ApiError>
    where
        S: Stream<Item = Result<Bytes, ApiError>> + Send,
    {
        let max = self.state.config.max_upload_size;
        let mut bytes = std::pin::pin!(bytes);
        let mut writer = self.writer(key, sha256).await?;
        let failure = loop {
            match bytes.next().await {
                Some(Ok(chunk)) => {
                    if let Some(max) = max
                        && writer.size() + chunk.len() as u64 > max
                    {
                        break too_large(max);
                    }
                    if let Err(e) = writer.write(chunk).await {
                        break e.into();
                    }
                }
                None => match writer.finish().await {
                    Ok(written) => return Ok(written),
                    Err(e) => {
                        self.discard(key).await?;
                        return Err(e.into());
                    }
                },
                Some(Err(e)) => break e,
            }
        };
        writer.abort().await;
        self.state.store.delete_pending_file(key).await?;
        Err(failure)
    }

    /// Stores a whole file (its name already checked), verifying the checksum when one was given.
    pub async fn store_file<S>(
        &self,
        filename: String,
        bytes: S,
        expected: Option<Expected>,
    ) -> Result<StoredFile, ApiError>
    where
        S: Stream<Item = Result<Bytes, ApiError>> + Send,
    {
        let key = new_file_key(self.dataset_id, &filename);
        let sha256 = matches!(expected, Some(Expected::Sha256(_)));
        let written = self.write_stream(&key, bytes, sha256).await?;
        if let Err(e) = verify(&expected, &written) {
            self.discard(&key).await?;
            return Err(e);
        }
        Ok(stored_file(key, filename, &written))
    }

    /// Stores one part. A re-sent part replaces the earlier copy; a uuid belongs to the dataset and
    /// user that sent its first part.
    pub async fn store_part<S>(&self, part: &PartInput, bytes: S) -> Result<(), ApiError>
    where
        S: Stream<Item = Result<Bytes, ApiError>> + Send,
    {
        if let Some(offset) = self.place_of(part).await? {
            return self.store_part_in_place(part, offset, bytes).await;
        }
        if let Some(upload) = self.multipart_for(part).await? {
            return self.store_part_multipart(part, &upload, bytes).await;
        }
        let key = new_part_key(&part.uuid, part.index);
        let written = self.write_stream(&key, bytes, false).await?;
        self.record_part(part, key, written).await
    }

    /// Records the object at `key` as `part` (removed if it cannot be).
    async fn record_part(
        &self,
        part: &PartInput,
        key: String,
        written: WrittenFile,
    ) -> Result<(), ApiError> {
        if let Some(expected) = part.size
            && expected != written.size
        {
            self.discard(&key).await?;
            return Err(upload_error("Chunk size mismatch"));
        }
        let record = UploadPart {
            uuid: part.uuid.clone(),
            index: part.index as i64,
            dataset_id: self.dataset_id.to_string(),
            user_id: self.user_id.to_string(),
            key: key.clone(),
            size: written.size as i64,
            sha1: written.sha1,
            updated_at: now(),
            offset: None,
            etags: None,
        };
        match self.state.store.record_upload_part(&record).await {
            Ok(Some(old)) => self.state.files.delete(&old).await?,
            Ok(None) => {}
            Err(StoreError::Conflict(what)) => {
                self.discard(&key).await?;
                if what.contains("assembled") {
                    return Err(multipart::being_assembled(&part.uuid));
                }
                return Err(upload_error("This upload uuid belongs to another upload"));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Stores a file that came before the fields telling whether it is a whole file or one part of a
    /// chunked upload (udata reads the whole form first, so clients send the fields in any order).
    /// It is written once, at a file key; `sort_as_part` or `sort_as_file` then records it where it
    /// belongs without copying it, or `discard` removes it.
    pub async fn store_unsorted<S>(
        &self,
        filename: String,
        bytes: S,
        sha256: bool,
    ) -> Result<Unsorted, ApiError>
    where
        S: Stream<Item = Result<Bytes, ApiError>> + Send,
    {
        let key = new_file_key(self.dataset_id, &filename);
        let written = self.write_stream(&key, bytes, sha256).await?;
        Ok(Unsorted {
            key,
            filename,
            written,
        })
    }

    /// The unsorted file is one part of a chunked upload.
    pub async fn sort_as_part(&self, file: Unsorted, part: &PartInput) -> Result<(), ApiError> {
        self.record_part(part, file.key, file.written).await
    }

    /// The unsorted file is a whole file (its name already checked): verifies the checksum asked for,
    /// reading the stored file again only for a sha256 asked after the file was received.
    pub async fn sort_as_file(
        &self,
        mut file: Unsorted,
        expected: Option<Expected>,
    ) -> Result<StoredFile, ApiError> {
        if matches!(expected, Some(Expected::Sha256(_))) && file.written.sha256.is_none() {
            match sha256_of(self.state, &file.key).await {
                Ok(digest) => file.written.sha256 = Some(digest),
                Err(e) => {
                    self.discard(&file.key).await?;
                    return Err(e);
                }
            }
        }
        if let Err(e) = verify(&expected, &file.written) {
            self.discard(&file.key).await?;
            return Err(e);
        }
        Ok(stored_file(file.key, file.filename, &file.written))
    }

    /// The parts of `uuid` sent by this user for this dataset.
    pub async fn parts(&self, uuid: &str) -> Result<Vec<UploadPart>, ApiError> {
        let parts = self.state.store.list_upload_parts(uuid).await?;
        Ok(parts
            .into_iter()
            .filter(|p| p.dataset_id == self.dataset_id && p.user_id == self.user_id)
            .collect())
    }

    /// The final request of a chunked upload: concatenates parts `0..total` into the file (its name
    /// already checked). On any failure the parts are kept so that the client can retry.
    pub async fn assemble(
        &self,
        uuid: &str,
        total: u64,
        filename: String,
        expected: Option<Expected>,
    ) -> Result<StoredFile, ApiError> {
        let parts = self.parts(uuid).await?;
        if parts.is_empty() {
            return Err(unknown_upload(uuid));
        }
        let missing: Vec<String> = (0..total as i64)
            .filter(|i| !parts.iter().any(|p| p.index == *i))
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            let shown = missing
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if missing.len() > 20 {
                format!(" and {} more", missing.len() - 20)
            } else {
                String::new()
            };
            return Err(upload_error(&format!(
                "Missing part(s) {shown}{more} of upload {uuid}"
            )));
        }
        let parts: Vec<&UploadPart> = parts.iter().filter(|p| (p.index as u64) < total).collect();
        if let Some(max) = self.state.config.max_upload_size
            && parts.iter().map(|p| p.size as u64).sum::<u64>() > max
        {
            return Err(too_large(max));
        }
        if let Some(size) = contiguous(&parts) {
            return self
                .take_in_place(uuid, &parts, size, filename, expected)
                .await;
        }
        if self.state.files.has_multipart() && self.multipart_upload(uuid).await?.is_some() {
            return self
                .complete_multipart(uuid, &parts, filename, expected)
                .await;
        }
        let key = new_file_key(self.dataset_id, &filename);
        let mut writer = self
            .writer(&key, matches!(expected, Some(Expected::Sha256(_))))
            .await?;
        let pieces = parts
            .iter()
            .map(|p| {
                let range = p.offset.map(|o| o as u64..(o + p.size) as u64);
                (p.key.clone(), range)
            })
            .collect();
        if let Err(e) = copy_into(self.state, pieces, &mut writer).await {
            writer.abort().await;
            self.state.store.delete_pending_file(&key).await?;
            // Another final request of this upload may have recorded it and removed its parts
            // while this one was reading them.
            if self.parts(uuid).await?.is_empty() {
                return Err(unknown_upload(uuid));
            }
            return Err(e);
        }
        let written = match writer.finish().await {
            Ok(w) => w,
            Err(e) => {
                self.discard(&key).await?;
                return Err(e.into());
            }
        };
        if let Err(e) = verify(&expected, &written) {
            self.discard(&key).await?;
            return Err(e);
        }
        Ok(stored_file(key, filename, &written))
    }

    /// Records a stored file as `target`. If that fails the file is removed; once it is recorded, the
    /// parts it was assembled from (`upload`) are claimed in the same transaction, then deleted.
    pub async fn record(
        &self,
        target: Target<'_>,
        file: &StoredFile,
        upload: Option<&str>,
    ) -> Result<Resource, ApiError> {
        let claim = upload.map(|uuid| UploadClaim {
            uuid,
            user_id: self.user_id,
        });
        let recorded = match target {
            Target::NewResource => {
                add_uploaded_resource(self.state, self.actor, self.dataset_id, file, claim).await
            }
            Target::Replace(rid) => {
                replace_resource_file(self.state, self.actor, self.dataset_id, rid, file, claim)
                    .await
            }
        };
        match recorded {
            Ok((resource, mut parts)) => {
                self.state.metrics.uploaded(file.size, upload.is_some());
                parts.sort();
                parts.dedup();
                // (An empty key: a part sent as S3 parts, now in the recorded file.)
                for key in parts.into_iter().filter(|k| !k.is_empty()) {
                    self.state.files.delete(&key).await?;
                }
                if let Some(uuid) = upload {
                    self.state
                        .store
                        .delete_pending_file(&self.in_place_key(uuid))
                        .await?;
                }
                Ok(resource)
            }
            Err(e) => {
                // A multipart upload completed into this file: it stays the upload's bytes, for
                // another final request.
                if let Some(uuid) = upload
                    && let Some(u) = self.multipart_upload(uuid).await?
                    && u.multipart
                        .as_ref()
                        .is_some_and(|(key, _)| *key == file.key)
                {
                    self.state.store.release_chunked_upload(uuid).await?;
                    return Err(e);
                }
                // Recorded by a simultaneous final request of the same multipart upload (this one
                // took over a claim it thought dead): that file is not this request's to remove.
                if upload.is_some() && self.state.store.find_file(&file.key).await?.is_some() {
                    return Err(e);
                }
                // A file moved from an upload written in place goes back, so the parts stay whole.
                if let Some(uuid) = upload
                    && self.state.files.is_local()
                    && self.parts(uuid).await?.iter().any(|p| p.offset.is_some())
                    && !self.state.files.exists(&self.in_place_key(uuid)).await?
                    && self
                        .state
                        .files
                        .rename(&file.key, &self.in_place_key(uuid))
                        .await?
                {
                    self.state.store.delete_pending_file(&file.key).await?;
                    return Err(e);
                }
                self.discard(&file.key).await?;
                Err(e)
            }
        }
    }
}

/// Concatenates the objects at `keys` (or the given range of them) into `writer`. A reader task fetches ahead (a few MiB, bounded)
/// so that reading the next bytes overlaps writing and hashing the previous ones.
async fn copy_into(
    state: &AppState,
    keys: Vec<(String, Option<std::ops::Range<u64>>)>,
    writer: &mut FileWriter,
) -> Result<(), ApiError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, ApiError>>(8);
    let files = state.files.clone();
    let reader = tokio::spawn(async move {
        for (key, range) in keys {
            let mut body = match files.read(&key, range).await {
                Ok(body) => body,
                Err(e) => {
                    let _ = tx.send(Err(anyhow::Error::from(e).into())).await;
                    return;
                }
            };
            while let Some(bytes) = body.stream.next().await {
                let item = bytes.map_err(|e| ApiError::from(anyhow::Error::from(e)));
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    return;
                }
            }
        }
    });
    while let Some(bytes) = rx.recv().await {
        if let Err(e) = async { writer.write(bytes?).await.map_err(ApiError::from) }.await {
            reader.abort();
            return Err(e);
        }
    }
    reader
        .await
        .map_err(|e| ApiError::from(anyhow::Error::from(e)))?;
    Ok(())
}
