//! Chunked uploads on S3: the parts go straight into one S3 multipart upload per upload, each as
//! one or a few S3 parts (pieces of 5 to 16 MiB, so that memory stays flat whatever the client's
//! chunk size), and the final request completes that multipart upload into the resource's object:
//! S3 joins the parts, no byte is copied. The upload's row (`chunked_uploads`) is shared by every
//! node: the first part to arrive decides how the upload is stored (its primary key makes two
//! simultaneous first parts agree on one multipart upload), and the final request claims it there
//! before completing, so simultaneous final requests make one resource.
//!
//! S3 wants every part but the last to be at least 5 MiB: an upload whose chunks are smaller keeps
//! the parts as objects of their own, concatenated at the final request (`Uploader::assemble`).
//! A part whose place in the multipart upload is not known when it arrives (the last part before
//! any other, a file sent before its fields) is stored as an object too, and copied in (that part
//! only) by the final request.
//!
//! The sha1 runs over the parts as they arrive in order on one node (as for uploads written in
//! place); the final request reads back only the bytes after the ones it covers (the whole object,
//! when parts came out of order or in parallel).

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::in_place::{advance_prefix, final_prefix, prefix_key, take_prefix};
use super::*;
use crate::store::ChunkedUpload;

/// S3's minimum size for every part of a multipart upload but the last.
const MIN_PIECE: u64 = 5 * 1024 * 1024;
/// The size the pieces of a part aim at (as `files::FileWriter`'s parts).
const TARGET_PIECE: u64 = 8 * 1024 * 1024;
/// S3's maximum number of parts in one multipart upload.
const MAX_PIECES: u64 = 10_000;
/// Above this piece size (huge chunks of a huge upload) the parts are stored as objects: one piece
/// is held in memory while it is sent.
const MAX_PIECE: u64 = 64 * 1024 * 1024;
/// A final request's claim older than this is taken over (its request died).
const CLAIM_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// How many S3 parts each part of an upload becomes, when its full parts are `size` bytes and it
/// has `total` parts; `None` when they cannot be S3 parts (too small, too many, too large).
fn pieces_per_part(size: u64, total: u64) -> Option<u64> {
    if size < MIN_PIECE || total == 0 {
        return None;
    }
    let pieces = (size / TARGET_PIECE).clamp(1, MAX_PIECES / total);
    (pieces > 0 && pieces * total <= MAX_PIECES && size / pieces <= MAX_PIECE).then_some(pieces)
}

/// The lengths of the S3 parts that part `index` (`size` bytes) of `upload` becomes; `None` when
/// it cannot be one: a part but the last must have the size of the others, the last must fit in
/// the parts left.
fn pieces_of(upload: &ChunkedUpload, index: u64, size: u64) -> Option<Vec<u64>> {
    let (full, per, total) = (
        upload.part_size as u64,
        upload.pieces as u64,
        upload.total as u64,
    );
    let piece = full / per;
    let n = if index + 1 < total {
        (size == full).then_some(per)?
    } else {
        let n = size.div_ceil(piece);
        (n > 0 && index * per + n <= MAX_PIECES).then_some(n)?
    };
    let mut lengths = vec![piece; n as usize];
    lengths[n as usize - 1] = size - piece * (n - 1);
    Some(lengths)
}

fn belongs_to_another() -> ApiError {
    upload_error("This upload uuid belongs to another upload")
}

pub(super) fn being_assembled(uuid: &str) -> ApiError {
    upload_error(&format!(
        "Upload {uuid} is assembled (or being assembled) by a final request: its parts can no \
         longer change; send the final request again, or start a new upload"
    ))
}

impl Uploader<'_> {
    /// The S3 multipart upload `part` goes into, deciding how the upload is stored if it is its
    /// first part; `None`: the part is stored as an object of its own.
    pub(super) async fn multipart_for(
        &self,
        part: &PartInput,
    ) -> Result<Option<ChunkedUpload>, ApiError> {
        let Some(size) = part.size.filter(|_| self.state.files.has_multipart()) else {
            return Ok(None);
        };
        let last = part.index + 1 == part.total;
        let upload = match self.state.store.find_chunked_upload(&part.uuid).await? {
            Some(upload) => upload,
            // The last part does not tell the size of the others.
            None if last => return Ok(None),
            None => self.decide(part, size).await?,
        };
        if upload.dataset_id != self.dataset_id || upload.user_id != self.user_id {
            return Err(belongs_to_another());
        }
        if upload.multipart.is_none() || (last && size == 0) {
            return Ok(None);
        }
        if upload.claimed || upload.completed {
            return Err(being_assembled(&part.uuid));
        }
        if part.total != upload.total as u64 {
            return Err(upload_error(&format!(
                "totalparts {} differs from this upload's ({})",
                part.total, upload.total
            )));
        }
        Ok(Some(upload))
    }

    /// How the upload of `part` (not its last) is stored, decided from its size: as one S3
    /// multipart upload, created here, unless a simultaneous part decided first (then the one
    /// created here is aborted).
    async fn decide(&self, part: &PartInput, size: u64) -> Result<ChunkedUpload, ApiError> {
        let mut upload = ChunkedUpload {
            uuid: part.uuid.clone(),
            dataset_id: self.dataset_id.to_string(),
            user_id: self.user_id.to_string(),
            multipart: None,
            part_size: size as i64,
            pieces: 1,
            total: part.total as i64,
            completed: false,
            claimed: false,
        };
        if let Some(pieces) = pieces_per_part(size, part.total) {
            let key = new_file_key(self.dataset_id, part.filename.as_deref().unwrap_or("file"));
            let id = self.state.files.create_upload(&key).await?;
            upload.multipart = Some((key, id));
            upload.pieces = pieces as i64;
        }
        let held = self
            .state
            .store
            .insert_chunked_upload(&upload, &now())
            .await;
        if let Some((key, id)) = &upload.multipart
            && held
                .as_ref()
                .map_or(true, |h| h.multipart.as_ref() != upload.multipart.as_ref())
        {
            self.state.files.abort_upload(key, id).await?;
        }
        Ok(held?)
    }

    /// Sends `part` into the multipart upload as its S3 parts, then records it. Until it is
    /// recorded the part is missing (an earlier copy is forgotten first: it is being replaced).
    pub(super) async fn store_part_multipart<S>(
        &self,
        part: &PartInput,
        upload: &ChunkedUpload,
        bytes: S,
    ) -> Result<(), ApiError>
    where
        S: Stream<Item = Result<Bytes, ApiError>> + Send,
    {
        let size = part.size.unwrap_or_default();
        let (Some((key, id)), Some(pieces)) =
            (&upload.multipart, pieces_of(upload, part.index, size))
        else {
            return Err(upload_error(&format!(
                "Chunk size mismatch: every part of upload {} but the last must be {} bytes",
                part.uuid, upload.part_size
            )));
        };
        let store = &self.state.store;
        if let Some(old) = store
            .forget_upload_part(&part.uuid, part.index as i64)
            .await?
        {
            self.state.files.delete(&old).await?;
        }
        let offset = part.index * upload.part_size as u64;
        let pkey = prefix_key(self.dataset_id, self.user_id, &part.uuid);
        let mut prefix = take_prefix(&pkey, part.index, offset);
        let first = (part.index * upload.pieces as u64) as usize;
        let running = prefix.as_ref().map(|p| p.sha1.clone());
        let mut writer = self
            .state
            .files
            .part_writer(key, id, first, pieces, running)?;
        let max = self.state.config.max_upload_size;
        let mut bytes = std::pin::pin!(bytes);
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk?;
            if let Some(max) = max
                && offset + writer.size() + chunk.len() as u64 > max
            {
                return Err(too_large(max));
            }
            if writer.size() + chunk.len() as u64 > size {
                return Err(upload_error("Chunk size mismatch"));
            }
            writer.write(chunk).await?;
        }
        if writer.size() != size {
            return Err(upload_error("Chunk size mismatch"));
        }
        let (written, etags, running) = writer.finish().await?;
        let part_sha1 = written.sha1.clone();
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
            etags: Some(etags),
        };
        match store.record_upload_part(&record).await {
            Ok(_) => {}
            Err(StoreError::Conflict(what)) if what.contains("assembled") => {
                return Err(being_assembled(&part.uuid));
            }
            Err(StoreError::Conflict(_)) => return Err(belongs_to_another()),
            Err(e) => return Err(e.into()),
        }
        if let (Some(p), Some(sha1)) = (prefix.take(), running) {
            advance_prefix(pkey, p, written.size, sha1, part_sha1);
        }
        Ok(())
    }

    /// The S3 multipart upload of `uuid`, if its parts went into one (and it belongs to this
    /// dataset and user).
    pub(super) async fn multipart_upload(
        &self,
        uuid: &str,
    ) -> Result<Option<ChunkedUpload>, ApiError> {
        Ok(self
            .state
            .store
            .find_chunked_upload(uuid)
            .await?
            .filter(|u| {
                u.multipart.is_some()
                    && u.dataset_id == self.dataset_id
                    && u.user_id == self.user_id
            }))
    }

    /// The final request of an upload sent as S3 parts (`parts`: `0..total`, all there): claims
    /// it, completes the multipart upload into its object (parts stored apart are copied in first),
    /// hashes it and checks the checksum asked for. On failure the claim is released; a completed
    /// object stays the upload's bytes for the next final request (the parts are gone from S3).
    pub(super) async fn complete_multipart(
        &self,
        uuid: &str,
        parts: &[&UploadPart],
        filename: String,
        expected: Option<Expected>,
    ) -> Result<StoredFile, ApiError> {
        let Some(upload) = self.multipart_upload(uuid).await? else {
            return Err(unknown_upload(uuid));
        };
        if parts.len() as i64 != upload.total {
            return Err(upload_error(&format!(
                "totalparts {} differs from this upload's ({})",
                parts.len(),
                upload.total
            )));
        }
        if !upload.completed {
            for p in parts {
                if p.etags.is_none()
                    && p.size > 0
                    && pieces_of(&upload, p.index as u64, p.size as u64).is_none()
                {
                    return Err(upload_error(&format!(
                        "Chunk size mismatch: part {} has {} bytes, every part of upload {uuid} but the last must be {} bytes",
                        p.index, p.size, upload.part_size
                    )));
                }
            }
        }
        self.claim(uuid).await?;
        let result = self.complete_claimed(uuid, parts, filename, expected).await;
        if result.is_err() {
            self.state.store.release_chunked_upload(uuid).await?;
        }
        result
    }

    /// Claims `uuid` for this final request, waiting (briefly) for another one holding it: it
    /// records the upload (then this request answers as for an unknown upload) or fails.
    async fn claim(&self, uuid: &str) -> Result<(), ApiError> {
        let store = &self.state.store;
        for _ in 0..200 {
            let now = now();
            if store
                .claim_chunked_upload(uuid, &now, &(now - CLAIM_LIFETIME))
                .await?
            {
                return Ok(());
            }
            if store.find_chunked_upload(uuid).await?.is_none() {
                return Err(unknown_upload(uuid));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(upload_error(&format!(
            "Upload {uuid} is being recorded by another request: retry"
        )))
    }

    async fn complete_claimed(
        &self,
        uuid: &str,
        parts: &[&UploadPart],
        filename: String,
        expected: Option<Expected>,
    ) -> Result<StoredFile, ApiError> {
        let files = &self.state.files;
        // As it is now that this request holds it.
        let upload = self
            .multipart_upload(uuid)
            .await?
            .ok_or_else(|| unknown_upload(uuid))?;
        let Some((key, id)) = &upload.multipart else {
            return Err(unknown_upload(uuid));
        };
        let pkey = prefix_key(self.dataset_id, self.user_id, uuid);
        if !upload.completed {
            let mut etags = Vec::new();
            for p in parts {
                match &p.etags {
                    Some(e) => etags.extend(e.iter().cloned()),
                    // An empty last part adds nothing.
                    None if p.size == 0 => {}
                    None => etags.extend(self.copy_in(&upload, p).await?),
                }
            }
            if let Err(e) = files.complete_upload(key, id, etags).await {
                // Completed by an earlier final request that died before noting it, or not.
                if !files.exists(key).await? {
                    return Err(self.why_not_completed(uuid, parts, e).await);
                }
            }
            self.state.store.complete_chunked_upload(uuid).await?;
        }
        let size = parts.iter().map(|p| p.size as u64).sum::<u64>();
        let sha256 = matches!(expected, Some(Expected::Sha256(_)));
        let written = match final_prefix(&pkey, parts) {
            Some(p) if !sha256 && !upload.completed => crate::files::WrittenFile {
                sha1: files.continue_sha1(key, p.bytes, size, p.sha1).await?,
                sha256: None,
                size,
            },
            _ => files.digest(key, sha256).await?,
        };
        verify(&expected, &written)?;
        Ok(stored_file(key.clone(), filename, &written))
    }

    /// Copies part `p`, stored as an object of its own, into the multipart upload; its ETags.
    async fn copy_in(
        &self,
        upload: &ChunkedUpload,
        p: &UploadPart,
    ) -> Result<Vec<String>, ApiError> {
        let (Some((key, id)), Some(pieces)) = (
            &upload.multipart,
            pieces_of(upload, p.index as u64, p.size as u64),
        ) else {
            return Err(upload_error("Chunk size mismatch"));
        };
        let first = (p.index * upload.pieces) as usize;
        let mut writer = self.state.files.part_writer(key, id, first, pieces, None)?;
        let mut body = self
            .state
            .files
            .read(&p.key, None)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        while let Some(chunk) = body.stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::Internal(e.into()))?;
            if writer.size() + chunk.len() as u64 > p.size as u64 {
                return Err(upload_error("Chunk size mismatch"));
            }
            writer.write(chunk).await?;
        }
        let (_, etags, _) = writer.finish().await?;
        Ok(etags)
    }

    /// Why completing failed: a part sent again meanwhile (the client's doing: a 400 asking to
    /// retry), or the storage.
    async fn why_not_completed(
        &self,
        uuid: &str,
        parts: &[&UploadPart],
        error: object_store::Error,
    ) -> ApiError {
        let now: Result<Vec<UploadPart>, ApiError> = self.parts(uuid).await;
        let changed = match now {
            Ok(now) => {
                now.len() < parts.len()
                    || parts
                        .iter()
                        .zip(&now)
                        .any(|(a, b)| a.etags != b.etags || a.index != b.index)
            }
            Err(_) => false,
        };
        if changed {
            upload_error(&format!(
                "A part of upload {uuid} was sent again while it was assembled: retry"
            ))
        } else {
            ApiError::Internal(anyhow::Error::from(error).context("completing a multipart upload"))
        }
    }
}
