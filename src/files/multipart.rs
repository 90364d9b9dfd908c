//! S3 multipart uploads driven part by part: the chunked uploads whose parts go straight into the
//! upload's object (see `ops::uploads::multipart`).

use super::*;

/// S3 multipart uploads driven part by part (chunked uploads whose parts go straight into the
/// upload's object, see `ops::uploads::multipart`).
impl Files {
    /// Whether parts can be sent as parts of one S3 multipart upload.
    pub fn has_multipart(&self) -> bool {
        self.multipart.is_some()
    }

    fn multipart_of(&self, key: &str) -> anyhow::Result<(Arc<dyn MultipartStore>, ObjectPath)> {
        let (store, prefix) = self
            .multipart
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no multipart uploads on this storage"))?;
        let key = ObjectPath::from(key);
        // As `PrefixStore` does for every other call.
        let path = match prefix {
            Some(p) => p.parts().chain(key.parts()).collect(),
            None => key,
        };
        Ok((Arc::clone(store), path))
    }

    /// Starts a multipart upload whose object will be at `key`; returns its id.
    pub async fn create_upload(&self, key: &str) -> anyhow::Result<String> {
        let (store, path) = self.multipart_of(key)?;
        Ok(bounded(self.timeout, store.create_multipart(&path)).await?)
    }

    /// Writes one part of a chunked upload as S3 parts `first`, `first + 1`... (0-based) of the
    /// multipart upload `id` at `key`, cut at `pieces` (their lengths). `prefix`: the running sha1 of
    /// the upload's bytes before this part, continued with this part's.
    pub fn part_writer(
        &self,
        key: &str,
        id: &str,
        first: usize,
        pieces: Vec<u64>,
        prefix: Option<Sha1>,
    ) -> anyhow::Result<PartWriter> {
        let (store, path) = self.multipart_of(key)?;
        let mut pieces = pieces.into_iter();
        let piece = pieces.next().unwrap_or(0);
        Ok(PartWriter {
            store,
            path,
            id: id.to_string(),
            number: first,
            pieces,
            piece,
            buffer: Vec::new(),
            buffered: 0,
            in_flight: None,
            etags: Vec::new(),
            hasher: Some(PartHasher::start(prefix)),
            size: 0,
        })
    }

    /// Completes the multipart upload `id`: the object at `key` is its parts (`etags`, in order).
    pub async fn complete_upload(
        &self,
        key: &str,
        id: &str,
        etags: Vec<String>,
    ) -> Result<(), object_store::Error> {
        let (store, path) = self
            .multipart_of(key)
            .map_err(|e| object_store::Error::Generic {
                store: "files",
                source: e.into(),
            })?;
        let parts = etags
            .into_iter()
            .map(|content_id| PartId { content_id })
            .collect();
        // S3 assembles the parts itself: this takes time in proportion to the file, no bytes pass.
        let limit = self.timeout.max(Duration::from_secs(300));
        bounded(
            limit,
            store.complete_multipart(&path, &id.to_string(), parts),
        )
        .await?;
        Ok(())
    }

    /// Aborts the multipart upload `id` at `key` (its parts are dropped); one already gone is not an
    /// error.
    pub async fn abort_upload(&self, key: &str, id: &str) -> anyhow::Result<()> {
        let (store, path) = self.multipart_of(key)?;
        match bounded(self.timeout, store.abort_multipart(&path, &id.to_string())).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// One part of a chunked upload being sent as S3 parts: each piece is buffered until whole, then
/// sent while the next is read (at most two pieces in memory), hashed on the way.
pub struct PartWriter {
    store: Arc<dyn MultipartStore>,
    path: ObjectPath,
    id: String,
    /// The number (0-based) of the piece being buffered.
    number: usize,
    pieces: std::vec::IntoIter<u64>,
    /// The length of the piece being buffered (0: every piece is written).
    piece: u64,
    buffer: Vec<Bytes>,
    buffered: u64,
    in_flight: Option<tokio::task::JoinHandle<object_store::Result<PartId>>>,
    etags: Vec<String>,
    /// `None` once finished.
    hasher: Option<PartHasher>,
    size: u64,
}

impl PartWriter {
    /// Writes `chunk`; bytes beyond the pieces announced are an error (checked by the caller first).
    pub async fn write(&mut self, mut chunk: Bytes) -> anyhow::Result<()> {
        self.size += chunk.len() as u64;
        let hasher = self
            .hasher
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("part writer already finished"))?;
        hasher.push(chunk.clone()).await?;
        while !chunk.is_empty() {
            if self.piece == 0 {
                anyhow::bail!("more bytes than the part announced");
            }
            let take = (self.piece - self.buffered).min(chunk.len() as u64) as usize;
            self.buffer.push(chunk.split_to(take));
            self.buffered += take as u64;
            if self.buffered == self.piece {
                self.send().await?;
            }
        }
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Sends the buffered piece once the one before is stored.
    async fn send(&mut self) -> anyhow::Result<()> {
        self.wait().await?;
        let payload: PutPayload = std::mem::take(&mut self.buffer).into_iter().collect();
        let (store, path, id, number) = (
            Arc::clone(&self.store),
            self.path.clone(),
            self.id.clone(),
            self.number,
        );
        self.in_flight = Some(tokio::spawn(async move {
            store.put_part(&path, &id, number, payload).await
        }));
        self.number += 1;
        self.buffered = 0;
        self.piece = self.pieces.next().unwrap_or(0);
        Ok(())
    }

    async fn wait(&mut self) -> anyhow::Result<()> {
        if let Some(task) = self.in_flight.take() {
            self.etags.push(task.await??.content_id);
        }
        Ok(())
    }

    /// Waits for the last piece; returns what was written, the pieces' ETags and the running sha1
    /// (if one was given). Fails if the bytes ended before the pieces announced.
    pub async fn finish(mut self) -> anyhow::Result<(WrittenFile, Vec<String>, Option<Sha1>)> {
        self.wait().await?;
        if self.piece != 0 {
            anyhow::bail!("fewer bytes than the part announced");
        }
        let hasher = self
            .hasher
            .take()
            .ok_or_else(|| anyhow::anyhow!("part writer already finished"))?;
        let (sha1, prefix) = hasher.finish().await?;
        let written = WrittenFile {
            sha1,
            sha256: None,
            size: self.size,
        };
        Ok((written, std::mem::take(&mut self.etags), prefix))
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        // A part given up: its piece in flight is stopped, so that it cannot land after a copy of
        // the same part sent again.
        if let Some(task) = self.in_flight.take() {
            task.abort();
        }
    }
}
