//! Stored files: the only module that speaks `object_store`.
//!
//! Uploads stream through [`FileWriter`], which hashes (sha1) and counts as the bytes arrive and writes
//! them as a multipart upload: the object appears under its key only once complete, so no resource can
//! ever point to a partial file.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{
    ClientOptions, GetOptions, GetRange, GetResultPayload, ObjectStore, ObjectStoreExt, PutPayload,
    WriteMultipart,
};
use sha1::{Digest, Sha1};

mod feed;
mod hash;
mod multipart;
mod spool;
use hash::{Hasher, PartHasher, hash_local};
pub use multipart::PartWriter;
use spool::{Cache, Spool};

/// Size of the parts sent to the store (S3 wants at least 5 MiB per part).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Size of the reads when streaming a local file.
const READ_SIZE: u64 = 1024 * 1024;

/// Streams `range` of a local file in 1 MiB blocking reads.
fn local_stream(
    file: std::fs::File,
    range: Range<u64>,
) -> BoxStream<'static, std::io::Result<Bytes>> {
    futures_util::stream::try_unfold((Some(file), range.start), move |(file, pos)| {
        let end = range.end;
        async move {
            let Some(mut file) = file else {
                return Ok(None);
            };
            if pos >= end {
                return Ok(None);
            }
            let len = (end - pos).min(READ_SIZE) as usize;
            let (file, buf) = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
                use std::io::{Read, Seek, SeekFrom};
                let mut buf = vec![0u8; len];
                file.seek(SeekFrom::Start(pos))?;
                file.read_exact(&mut buf)?;
                Ok((file, buf))
            })
            .await
            .map_err(std::io::Error::other)??;
            Ok(Some((Bytes::from(buf), (Some(file), pos + len as u64))))
        }
    })
    .boxed()
}

/// Where an S3-compatible bucket is and how to sign requests to it.
#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// `None`: AWS itself.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
    /// The directory of the local backend (for the staging-file sweep after a crash).
    local_root: Option<std::path::PathBuf>,
    /// The S3 bucket's multipart-upload API, and the prefix of every key (chunked uploads sent as
    /// S3 parts, see `ops::uploads::multipart`). `None` on the local backend.
    multipart: Option<(Arc<dyn MultipartStore>, Option<ObjectPath>)>,
    /// How long a request to the storage that carries no file bytes (starting a read or a write,
    /// `HEAD`, delete, list) may take before it fails with [`StorageTimeout`] (503).
    timeout: Duration,
}

/// The storage did not answer in time: it is down or unreachable.
#[derive(Debug, thiserror::Error)]
#[error("the file storage did not answer within {0:?}")]
pub struct StorageTimeout(pub Duration);

/// Whether `error` says the file storage cannot be reached (503), rather than that a request to it
/// is wrong.
pub fn is_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<StorageTimeout>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// `future`, failed with [`StorageTimeout`] past `limit`.
async fn bounded<T, E>(
    limit: Duration,
    future: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, object_store::Error>
where
    E: Into<object_store::Error>,
{
    match tokio::time::timeout(limit, future).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(object_store::Error::Generic {
            store: "files",
            source: Box::new(StorageTimeout(limit)),
        }),
    }
}

/// A file's bytes (or a range of them) and what is known of the object.
pub struct FileBody {
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
    pub range: Range<u64>,
    pub size: u64,
}

impl Files {
    /// Files under a local directory (created if missing).
    pub fn local(dir: &Path) -> anyhow::Result<Files> {
        std::fs::create_dir_all(dir)?;
        Ok(Files {
            // Deleting a file also removes the directories it leaves empty. A file is on disk
            // (fsync of the file and its directory) before it is recorded, as the parts of a
            // chunked upload are: after any crash, even of the machine, what a resource points to
            // holds the bytes its checksum says.
            store: Arc::new(
                LocalFileSystem::new_with_prefix(dir)?
                    .with_automatic_cleanup(true)
                    .with_fsync(true),
            ),
            local_root: Some(dir.to_path_buf()),
            multipart: None,
            timeout: crate::config::DEFAULT_DEPENDENCY_TIMEOUT,
        })
    }

    /// The same files, with requests that carry no file bytes bounded by `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Files {
        self.timeout = timeout;
        self
    }

    /// Files in an S3-compatible bucket. Custom endpoints use path-style requests and may be plain http.
    /// `prefix` (optional) puts every key under a folder of the bucket.
    pub fn s3(s3: &S3Settings, prefix: Option<&str>) -> anyhow::Result<Files> {
        Self::s3_with_timeout(s3, prefix, crate::config::DEFAULT_DEPENDENCY_TIMEOUT)
    }

    /// [`Files::s3`], giving up on a connection not made within `timeout` (and, through
    /// [`Files::with_timeout`], on any request without file bytes not answered within it).
    pub fn s3_with_timeout(
        s3: &S3Settings,
        prefix: Option<&str>,
        timeout: Duration,
    ) -> anyhow::Result<Files> {
        let mut builder = AmazonS3Builder::new()
            .with_client_options(ClientOptions::new().with_connect_timeout(timeout))
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region)
            .with_access_key_id(&s3.access_key_id)
            .with_secret_access_key(&s3.secret_access_key);
        if let Some(endpoint) = &s3.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build()?;
        let multipart: Arc<dyn MultipartStore> = Arc::new(store.clone());
        let store: Arc<dyn ObjectStore> = match prefix {
            Some(p) => Arc::new(PrefixStore::new(store, p)),
            None => Arc::new(store),
        };
        Ok(Files {
            store,
            local_root: None,
            multipart: Some((multipart, prefix.map(ObjectPath::from))),
            timeout,
        })
    }

    /// Starts writing a new object at `key`. On the local backend the bytes go to a staging file
    /// beside it, written by [`Spool`] (its writeback started as it fills), then synced and renamed.
    pub async fn writer(&self, key: &str) -> anyhow::Result<FileWriter> {
        let sink = if self.local_root.is_some() {
            let dest = self.local_path(key)?;
            let staged = dest.clone();
            let (file, staging) =
                tokio::task::spawn_blocking(move || spool::create_staging(&staged)).await??;
            Sink::Local {
                spool: Spool::start(file, 0, Cache::Drop),
                staging,
                dest,
            }
        } else {
            let upload = bounded(
                self.timeout,
                self.store.put_multipart(&ObjectPath::from(key)),
            )
            .await?;
            Sink::Store(WriteMultipart::new_with_chunk_size(upload, PART_SIZE))
        };
        Ok(FileWriter {
            sink,
            hasher: None,
            sha256: false,
            size: 0,
        })
    }

    /// Reads `key`, whole or the given byte range.
    pub async fn read(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<FileBody, object_store::Error> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = bounded(
            self.timeout,
            self.store.get_opts(&ObjectPath::from(key), options),
        )
        .await?;
        let size = result.meta.size;
        let range = result.range.clone();
        let stream = match result.payload {
            // The local backend's own stream reads 8 KiB per blocking call; read 1 MiB at a time instead.
            GetResultPayload::File(file, _) => local_stream(file, range.clone()),
            GetResultPayload::Stream(s) => s.map_err(std::io::Error::other).boxed(),
        };
        Ok(FileBody {
            stream,
            range,
            size,
        })
    }

    /// Whether an object exists at `key`.
    pub async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        match bounded(self.timeout, self.store.head(&ObjectPath::from(key))).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes `key`; a missing object is not an error, nor is a key the backend cannot hold (a
    /// name too long for the filesystem names no file: older versions could mark one pending).
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match bounded(self.timeout, self.store.delete(&ObjectPath::from(key))).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) if names_no_file(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the staging files an interrupted write left in the local directory (`name#N`: the local
    /// backend writes there and renames on completion). Only for a single node owning the directory,
    /// at start-up, before any upload runs. Returns how many were removed.
    pub async fn sweep_local_staging(&self) -> anyhow::Result<usize> {
        let Some(root) = self.local_root.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || sweep_dir(&root)).await?
    }

    /// Every key under `prefix`.
    pub async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let prefix = ObjectPath::from(prefix);
        let metas: Vec<_> =
            bounded(self.timeout, self.store.list(Some(&prefix)).try_collect()).await?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }
}

impl Files {
    /// Whether files live in a local directory, where one file can be written at several offsets
    /// (chunked uploads written in place).
    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    /// The local file at `key` (local backend only).
    fn local_path(&self, key: &str) -> anyhow::Result<std::path::PathBuf> {
        let root = self
            .local_root
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("not a local file storage"))?;
        let key = ObjectPath::from(key);
        Ok(key
            .parts()
            .fold(root.clone(), |p, part| p.join(part.as_ref())))
    }

    /// Starts writing at byte `offset` of the local file `key` (created if missing, other bytes kept):
    /// one part of a chunked upload written in its place.
    /// `prefix`: the running sha1 of the upload's bytes before `offset`, continued with this part's.
    pub async fn writer_at(
        &self,
        key: &str,
        offset: u64,
        prefix: Option<Sha1>,
    ) -> anyhow::Result<PlacedWriter> {
        let path = self.local_path(key)?;
        let file = tokio::task::spawn_blocking(move || {
            let open = || {
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
            };
            match open() {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    spool::create_dirs(&path)?;
                    open()
                }
                opened => opened,
            }
        })
        .await??;
        // A part that continues the running sha1 is not read again; one that does not is, soon
        // (when the running sha1 reaches it).
        let cache = if prefix.is_some() {
            Cache::Drop
        } else {
            Cache::Keep
        };
        Ok(PlacedWriter {
            file: Spool::start(file, offset, cache),
            hasher: PartHasher::start(prefix),
            offset,
            cache,
            size: 0,
        })
    }

    /// Cuts the local file `key` to `len` bytes (what a longer earlier copy of the last part left).
    pub async fn set_len(&self, key: &str, len: u64) -> anyhow::Result<()> {
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(self.local_path(key)?)
            .await?;
        file.set_len(len).await?;
        file.sync_all().await?;
        Ok(())
    }

    /// Moves `from` to `to` without copying its bytes (a rename on the local backend). `Ok(false)`
    /// when nothing is at `from`.
    pub async fn rename(&self, from: &str, to: &str) -> anyhow::Result<bool> {
        let (from, to) = (ObjectPath::from(from), ObjectPath::from(to));
        match bounded(self.timeout, self.store.rename(&from, &to)).await {
            Ok(()) => {
                // The directory the file leaves, if now empty (as a delete leaves none).
                if let Some(dir) = self.local_path(from.as_ref())?.parent() {
                    let _ = tokio::fs::remove_dir(dir).await;
                }
                Ok(true)
            }
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The sha1 of the object at `key`, given `sha1` of its bytes before `from`: only the rest is read.
    pub async fn continue_sha1(
        &self,
        key: &str,
        from: u64,
        size: u64,
        sha1: Sha1,
    ) -> anyhow::Result<String> {
        let sha1 = self.hash_range(key, from..size, sha1).await?;
        Ok(hex::encode(sha1.finalize()))
    }

    /// `sha1` continued over bytes `range` of the object at `key`.
    pub async fn hash_range(
        &self,
        key: &str,
        range: Range<u64>,
        mut sha1: Sha1,
    ) -> anyhow::Result<Sha1> {
        if range.start >= range.end {
            return Ok(sha1);
        }
        if self.is_local() {
            let path = self.local_path(key)?;
            return tokio::task::spawn_blocking(move || hash_local(&path, range, sha1)).await?;
        }
        let mut body = self.read(key, Some(range)).await?;
        while let Some(chunk) = body.stream.next().await {
            let chunk = chunk?;
            sha1 = tokio::task::spawn_blocking(move || {
                sha1.update(&chunk);
                sha1
            })
            .await?;
        }
        Ok(sha1)
    }

    /// The sha1 (and, when asked, sha256) and size of the stored object at `key`, read back.
    pub async fn digest(&self, key: &str, sha256: bool) -> anyhow::Result<WrittenFile> {
        let mut body = self.read(key, None).await?;
        let mut hasher = Hasher::start(sha256);
        let mut size = 0;
        while let Some(chunk) = body.stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.push(chunk).await?;
        }
        let (sha1, sha256) = hasher.finish().await?;
        Ok(WrittenFile { sha1, sha256, size })
    }
}

/// One part being written at its offset of a local file (hashed and counted on the way).
pub struct PlacedWriter {
    file: Spool,
    hasher: PartHasher,
    offset: u64,
    cache: Cache,
    size: u64,
}

impl PlacedWriter {
    pub async fn write(&mut self, chunk: Bytes) -> anyhow::Result<()> {
        self.size += chunk.len() as u64;
        self.file.push(chunk.clone()).await?;
        self.hasher.push(chunk).await
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes the part to disk; the running sha1 of the upload, if one was given, continued.
    pub async fn finish(self) -> anyhow::Result<(WrittenFile, Option<Sha1>)> {
        let file = self.file.finish().await?;
        let (from, to, cache) = (self.offset, self.offset + self.size, self.cache);
        tokio::task::spawn_blocking(move || {
            file.sync_data()?;
            if cache == Cache::Drop {
                spool::advise_dontneed(&file, from, to);
            }
            std::io::Result::Ok(())
        })
        .await??;
        let (sha1, running) = self.hasher.finish().await?;
        let written = WrittenFile {
            sha1,
            sha256: None,
            size: self.size,
        };
        Ok((written, running))
    }
}

/// An object being written: bytes are hashed and counted on their way to the store.
pub struct FileWriter {
    sink: Sink,
    /// Hashing runs on a blocking thread beside the writes (started with the first bytes).
    hasher: Option<Hasher>,
    /// Also compute a sha256 (only when a client asked to verify one).
    sha256: bool,
    size: u64,
}

/// Where a [`FileWriter`] puts the bytes.
enum Sink {
    /// A multipart upload of the object store (S3).
    Store(WriteMultipart),
    /// A staging file beside the local file `dest`.
    Local {
        spool: Spool,
        staging: std::path::PathBuf,
        dest: std::path::PathBuf,
    },
}

/// What a finished upload produced.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    pub sha1: String,
    pub sha256: Option<String>,
    pub size: u64,
}

impl FileWriter {
    pub async fn write(&mut self, chunk: Bytes) -> anyhow::Result<()> {
        let sha256 = self.sha256;
        let hasher = self.hasher.get_or_insert_with(|| Hasher::start(sha256));
        hasher.push(chunk.clone()).await?;
        self.size += chunk.len() as u64;
        match &mut self.sink {
            Sink::Store(upload) => {
                // Back-pressure: at most a few parts in flight, so memory stays flat whatever the
                // file size.
                upload.wait_for_capacity(2).await?;
                upload.put(chunk);
            }
            Sink::Local { spool, .. } => spool.push(chunk).await?,
        }
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Also computes the sha256 of what is written.
    pub fn with_sha256(mut self) -> Self {
        self.sha256 = true;
        self
    }

    /// Completes the object; only now does it appear at its key.
    pub async fn finish(self) -> anyhow::Result<WrittenFile> {
        let hasher = self.hasher.unwrap_or_else(|| Hasher::start(self.sha256));
        match self.sink {
            Sink::Store(upload) => {
                upload.finish().await?;
            }
            Sink::Local {
                spool,
                staging,
                dest,
            } => {
                let file = spool.finish().await?;
                let published = tokio::task::spawn_blocking(move || {
                    let published = spool::publish(file, &staging, &dest);
                    if published.is_err() {
                        let _ = std::fs::remove_file(&staging);
                    }
                    published
                });
                published.await??;
            }
        }
        let (sha1, sha256) = hasher.finish().await?;
        Ok(WrittenFile {
            sha1,
            sha256,
            size: self.size,
        })
    }

    /// Gives up: nothing appears at the key.
    pub async fn abort(self) {
        match self.sink {
            Sink::Store(upload) => {
                if let Err(e) = upload.abort().await {
                    tracing::warn!(error = %e, "aborting an upload failed");
                }
            }
            Sink::Local { spool, staging, .. } => {
                // The writing thread ends with the channel; then its file goes.
                drop(spool);
                if let Err(e) = tokio::fs::remove_file(&staging).await {
                    tracing::warn!(error = %e, "removing an aborted upload's staging file failed");
                }
            }
        }
    }
}

fn sweep_dir(dir: &Path) -> anyhow::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            removed += sweep_dir(&path)?;
        } else if is_staging_name(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Whether `e` comes from a path the filesystem refuses as a name (too long): no file can be there.
fn names_no_file(e: &object_store::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::InvalidFilename
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// `data.csv#3`: a staging file of the local backend.
fn is_staging_name(name: &str) -> bool {
    name.rsplit_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_storage_request_past_the_timeout_is_unavailable() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<(), object_store::Error>(())
        };
        let e = bounded(Duration::from_millis(10), slow).await.unwrap_err();
        assert!(is_unavailable(&e));
        let carried = anyhow::Error::new(e).context("reading a file");
        assert!(is_unavailable(carried.as_ref()));
        let missing = object_store::Error::NotFound {
            path: "x".into(),
            source: "no such object".into(),
        };
        assert!(!is_unavailable(&missing));
    }
}
