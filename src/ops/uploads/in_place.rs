//! Chunked uploads written in place (local storage): each part at its offset of one file per upload,
//! the final request moving that file to its key, and the sha1 run as the parts arrive in order.
//!
//! Parts sent in parallel arrive out of order: a part that does not continue the running sha1 is
//! noted when recorded, and the request that moves the running sha1 forward also reads back the
//! noted parts that follow it (from the page cache, where they were just written). The read pass
//! thus happens while the other parts are still arriving, not all at the final request.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::*;

/// The sha1 of an upload written in place, as far as its parts came in order to this node (fed as
/// they are written), so that the final request reads only what came after (nothing, when all came in
/// order). Per process: a part sent to another node stops it there; the final request checks each
/// part it covers against the part's recorded sha1, so a part re-sent elsewhere is never missed.
pub(super) struct Prefix {
    /// The next part to hash, at byte `bytes`.
    next: u64,
    pub(super) bytes: u64,
    pub(super) sha1: sha1::Sha1,
    /// The sha1 of each part hashed.
    parts: Vec<String>,
}

/// A part recorded by this node that the running sha1 has not reached yet (it came out of order).
struct Noted {
    offset: u64,
    size: u64,
    sha1: String,
}

/// What this node knows of one upload's running sha1.
#[derive(Default)]
struct Slot {
    /// `None` while a request holds it (hashing a part), or once it no longer holds.
    prefix: Option<Prefix>,
    /// Parts recorded here past the running sha1, by index.
    noted: std::collections::BTreeMap<u64, Noted>,
}

/// At most this many uploads' running hashes are kept (about 100 bytes each, plus their noted
/// parts); beyond, the final request reads the file.
const MAX_PREFIXES: usize = 10_000;
/// At most this many parts noted ahead of an upload's running sha1; a part beyond is read at the
/// final request.
const MAX_NOTED: usize = 64;

static PREFIXES: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, Slot>>> =
    std::sync::LazyLock::new(Default::default);

fn prefixes() -> std::sync::MutexGuard<'static, std::collections::HashMap<String, Slot>> {
    PREFIXES.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn prefix_key(dataset_id: &str, user_id: &str, uuid: &str) -> String {
    format!("{dataset_id}/{user_id}/{uuid}")
}

/// Takes the running hash of upload `pkey` when part `index`, at byte `offset`, continues it (part 0
/// starts one); a part already hashed being sent again ends it.
pub(super) fn take_prefix(pkey: &str, index: u64, offset: u64) -> Option<Prefix> {
    let mut map = prefixes();
    let slot = map.get_mut(pkey);
    // Part 0 (again): the running hash starts over.
    if index == 0 {
        if let Some(slot) = slot {
            slot.prefix = None;
            slot.noted.remove(&0);
        }
        return Some(Prefix {
            next: 0,
            bytes: 0,
            sha1: sha1::Sha1::default(),
            parts: Vec::new(),
        });
    }
    let slot = slot?;
    // A noted part sent again: its place is being overwritten.
    slot.noted.remove(&index);
    match &slot.prefix {
        // The next part in order: it continues the running hash (taken meanwhile).
        Some(p) if p.next == index && p.bytes == offset => slot.prefix.take(),
        // A part already hashed is overwritten: the running hash no longer holds.
        Some(p) if index < p.next => {
            map.remove(pkey);
            None
        }
        _ => None,
    }
}

/// Notes part `index`, recorded at `offset` without continuing the running hash, for the request
/// that moves the running hash up to it.
pub(super) fn note_part(pkey: &str, index: u64, offset: u64, size: u64, sha1: String) {
    let mut map = prefixes();
    if !map.contains_key(pkey) && map.len() >= MAX_PREFIXES {
        return;
    }
    let slot = map.entry(pkey.to_string()).or_default();
    if slot.noted.len() < MAX_NOTED {
        slot.noted.insert(index, Noted { offset, size, sha1 });
    }
}

/// Takes the running hash of upload `pkey` with the noted part that continues it, if any.
fn take_next(pkey: &str) -> Option<(Prefix, Noted)> {
    let mut map = prefixes();
    let slot = map.get_mut(pkey)?;
    let p = slot.prefix.as_ref()?;
    let noted = slot.noted.get(&p.next)?;
    if noted.offset != p.bytes {
        return None;
    }
    let index = p.next;
    let noted = slot.noted.remove(&index)?;
    Some((slot.prefix.take()?, noted))
}

/// Puts back the running hash `p`, continued over a part of `size` bytes (whose sha1 is `part_sha1`).
pub(super) fn advance_prefix(
    pkey: String,
    mut p: Prefix,
    size: u64,
    sha1: sha1::Sha1,
    part_sha1: String,
) {
    p.next += 1;
    p.bytes += size;
    p.sha1 = sha1;
    p.parts.push(part_sha1);
    let mut map = prefixes();
    if !map.contains_key(&pkey) && map.len() >= MAX_PREFIXES {
        return;
    }
    map.entry(pkey).or_default().prefix = Some(p);
}

/// The running hash of an upload at its final request, if it covers parts as recorded (none re-sent
/// since it hashed them).
pub(super) fn final_prefix(pkey: &str, parts: &[&UploadPart]) -> Option<Prefix> {
    prefixes().remove(pkey)?.prefix.filter(|p| {
        p.next as usize <= parts.len()
            && p.parts
                .iter()
                .zip(parts)
                .all(|(sha1, part)| *sha1 == part.sha1)
    })
}

/// Where the parts `0..total` are in one file, when all were written in place, each right after the
/// one before (then the file is the upload, as is); its size.
pub(super) fn contiguous(parts: &[&UploadPart]) -> Option<u64> {
    let mut end = 0u64;
    for p in parts {
        if p.offset != Some(end as i64) {
            return None;
        }
        end += p.size as u64;
    }
    Some(end)
}

impl Uploader<'_> {
    /// The one file of a chunked upload written in place: every part at its offset. The uuid is
    /// the client's: the file is also named by the dataset and the user, so that two uploads given
    /// the same uuid at the same moment never write into one file.
    pub(super) fn in_place_key(&self, uuid: &str) -> String {
        format!("chunks/{uuid}/{}-{}", self.dataset_id, self.user_id)
    }

    /// The offset at which `part` goes in the upload's one file, when it can be known before its
    /// bytes: local storage, `chunksize` sent before the file, and the size of the full parts known
    /// (this part's own size unless it is the last; else from a part already written in place) and
    /// consistent with it. `None`: the part is stored as its own object, as before.
    pub(super) async fn place_of(&self, part: &PartInput) -> Result<Option<u64>, ApiError> {
        let Some(size) = part.size.filter(|_| self.state.files.is_local()) else {
            return Ok(None);
        };
        let total = i64::try_from(part.total).unwrap_or(i64::MAX);
        let known = self
            .state
            .store
            .find_full_part_size(&part.uuid, self.dataset_id, self.user_id, total)
            .await?
            .map(|size| size as u64);
        let last = part.index + 1 == part.total;
        let full = match (known, last) {
            (Some(full), false) if full != size => return Ok(None),
            (Some(full), _) => full,
            (None, false) => size,
            (None, true) => return Ok(None),
        };
        if last && size > full {
            return Ok(None);
        }
        // A file of at most 1 TiB is written in place (no seek far past what a filesystem holds
        // because of a chunksize a client made up).
        let offset = part.index.saturating_mul(full);
        if offset.saturating_add(size) > 1 << 40 {
            return Ok(None);
        }
        if let Some(max) = self.state.config.max_upload_size
            && offset.saturating_add(size) > max
        {
            return Ok(None);
        }
        Ok(Some(offset))
    }

    /// Writes `part` at `offset` of the upload's file, then records it. Until it is recorded the
    /// part is missing (an earlier copy is forgotten first: its place is being overwritten).
    pub(super) async fn store_part_in_place<S>(
        &self,
        part: &PartInput,
        offset: u64,
        bytes: S,
    ) -> Result<(), ApiError>
    where
        S: Stream<Item = Result<Bytes, ApiError>> + Send,
    {
        if let Some((dataset, user)) = self.state.store.upload_owner(&part.uuid).await?
            && (dataset != self.dataset_id || user != self.user_id)
        {
            return Err(upload_error("This upload uuid belongs to another upload"));
        }
        let key = self.in_place_key(&part.uuid);
        self.state.store.touch_pending_file(&key, &now()).await?;
        if let Some(old) = self
            .state
            .store
            .forget_upload_part(&part.uuid, part.index as i64)
            .await?
        {
            self.state.files.delete(&old).await?;
        }
        let pkey = prefix_key(self.dataset_id, self.user_id, &part.uuid);
        let prefix = take_prefix(&pkey, part.index, offset);
        let (prefix_sha1, mut prefix) = match prefix {
            Some(p) => (Some(p.sha1.clone()), Some(p)),
            None => (None, None),
        };
        let mut writer = self
            .state
            .files
            .writer_at(&key, offset, prefix_sha1)
            .await?;
        let max = self.state.config.max_upload_size;
        let mut bytes = std::pin::pin!(bytes);
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk?;
            if let Some(max) = max
                && offset + writer.size() + chunk.len() as u64 > max
            {
                return Err(too_large(max));
            }
            if part
                .size
                .is_some_and(|s| writer.size() + chunk.len() as u64 > s)
            {
                return Err(upload_error("Chunk size mismatch"));
            }
            writer.write(chunk).await?;
        }
        let (written, running) = writer.finish().await?;
        if part.size != Some(written.size) {
            return Err(upload_error("Chunk size mismatch"));
        }
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
            offset: Some(offset as i64),
            etags: None,
        };
        match self.state.store.record_upload_part(&record).await {
            Ok(Some(old)) => self.state.files.delete(&old).await?,
            Ok(None) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(upload_error("This upload uuid belongs to another upload"));
            }
            Err(e) => return Err(e.into()),
        }
        match (prefix.take(), running) {
            (Some(p), Some(sha1)) => advance_prefix(pkey.clone(), p, written.size, sha1, part_sha1),
            _ => note_part(&pkey, part.index, offset, written.size, part_sha1),
        }
        self.catch_up(&pkey, &key).await;
        Ok(())
    }

    /// Moves the running hash of upload `pkey` (file `key`) over the noted parts that continue it,
    /// reading each back. Best effort: on a read error the running hash is dropped, and the final
    /// request reads the file.
    async fn catch_up(&self, pkey: &str, key: &str) {
        while let Some((p, noted)) = take_next(pkey) {
            let range = noted.offset..noted.offset + noted.size;
            match self
                .state
                .files
                .hash_range(key, range, p.sha1.clone())
                .await
            {
                Ok(sha1) => advance_prefix(pkey.to_string(), p, noted.size, sha1, noted.sha1),
                Err(e) => {
                    tracing::debug!(error = %e, "reading back a part for the running sha1");
                    prefixes().remove(pkey);
                    return;
                }
            }
        }
    }

    /// The final request of an upload whose parts were all written in place, one after the other:
    /// its file is the upload. It is cut to its size, hashed (one read), and moved to its final key
    /// (a rename: no copy). Of simultaneous final requests, the one whose move succeeds goes on.
    pub(super) async fn take_in_place(
        &self,
        uuid: &str,
        parts: &[&UploadPart],
        size: u64,
        filename: String,
        expected: Option<Expected>,
    ) -> Result<StoredFile, ApiError> {
        let files = &self.state.files;
        let from = self.in_place_key(uuid);
        // The file was moved by a simultaneous final request of this upload: it records it (then
        // the parts are gone, and this request answers as for an unknown upload) or, failing,
        // moves it back. Waits (briefly) to tell which.
        let gone = || async {
            for _ in 0..200 {
                if self.parts(uuid).await?.is_empty() {
                    return Err(unknown_upload(uuid));
                }
                if files.exists(&from).await? {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(upload_error(&format!(
                "Upload {uuid} is being recorded by another request: retry"
            )))
        };
        if !files.exists(&from).await? {
            return gone().await;
        }
        let sha256 = matches!(expected, Some(Expected::Sha256(_)));
        // The running sha1, if it covers parts as recorded (none re-sent since it hashed them).
        let prefix = final_prefix(&prefix_key(self.dataset_id, self.user_id, uuid), parts);
        let read = async {
            files.set_len(&from, size).await?;
            match prefix {
                Some(p) if !sha256 => {
                    let sha1 = files.continue_sha1(&from, p.bytes, size, p.sha1).await?;
                    Ok(crate::files::WrittenFile {
                        sha1,
                        sha256: None,
                        size,
                    })
                }
                _ => files.digest(&from, sha256).await,
            }
        };
        let written = match read.await {
            Ok(written) => written,
            // Moved by a simultaneous final request of the same upload.
            Err(_) if !files.exists(&from).await? => return gone().await,
            Err(e) => return Err(e.into()),
        };
        verify(&expected, &written)?;
        let key = new_file_key(self.dataset_id, &filename);
        self.state.store.insert_pending_file(&key, &now()).await?;
        match files.rename(&from, &key).await {
            Ok(true) => Ok(stored_file(key, filename, &written)),
            Ok(false) => {
                self.state.store.delete_pending_file(&key).await?;
                gone().await
            }
            Err(e) => {
                self.state.store.delete_pending_file(&key).await?;
                Err(e.into())
            }
        }
    }
}
