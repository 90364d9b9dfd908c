//! The hashing of stored bytes: threads fed as the bytes are written (a file's sha1, and sha256 when
//! asked; a part's own sha1 and an upload's running sha1), and a local range read back and hashed.

use std::ops::Range;
use std::path::Path;

use bytes::Bytes;
use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::feed::Feed;
use super::{READ_SIZE, spool};

/// A hashing thread fed with the bytes as they are written.
pub(super) struct Hasher(Feed<(String, Option<String>)>);

impl Hasher {
    pub(super) fn start(sha256: bool) -> Hasher {
        Hasher(Feed::start(8, move |mut batches| {
            let mut sha1 = Sha1::new();
            let mut sha2 = sha256.then(Sha256::new);
            while let Some(batch) = batches.blocking_recv() {
                for bytes in batch {
                    sha1.update(&bytes);
                    if let Some(h) = &mut sha2 {
                        h.update(&bytes);
                    }
                }
            }
            (
                hex::encode(sha1.finalize()),
                sha2.map(|h| hex::encode(h.finalize())),
            )
        }))
    }

    pub(super) async fn push(&mut self, bytes: Bytes) -> anyhow::Result<()> {
        self.0
            .push(bytes)
            .await
            .map_err(|_| anyhow::anyhow!("the hashing thread stopped"))
    }

    pub(super) async fn finish(self) -> anyhow::Result<(String, Option<String>)> {
        Ok(self.0.finish().await?)
    }
}

/// The hashes of one part of a chunked upload: the part's own sha1 (listed to resume an upload) and,
/// when the part continues it, the upload's running sha1. Each on a thread of its own: one thread
/// computing both runs at half the speed of one sha1, below a single upload's.
pub(super) struct PartHasher {
    part: Hasher,
    running: Option<Feed<Sha1>>,
}

impl PartHasher {
    /// `running`: the sha1 of the upload's bytes before the part, to continue.
    pub(super) fn start(running: Option<Sha1>) -> PartHasher {
        let running = running.map(|mut sha1| {
            Feed::start(8, move |mut batches| {
                while let Some(batch) = batches.blocking_recv() {
                    for bytes in batch {
                        sha1.update(&bytes);
                    }
                }
                sha1
            })
        });
        PartHasher {
            part: Hasher::start(false),
            running,
        }
    }

    pub(super) async fn push(&mut self, bytes: Bytes) -> anyhow::Result<()> {
        if let Some(running) = &mut self.running {
            running
                .push(bytes.clone())
                .await
                .map_err(|_| anyhow::anyhow!("the hashing thread stopped"))?;
        }
        self.part.push(bytes).await
    }

    /// The part's sha1, and the running sha1 continued.
    pub(super) async fn finish(self) -> anyhow::Result<(String, Option<Sha1>)> {
        let (sha1, _) = self.part.finish().await?;
        let running = match self.running {
            Some(running) => Some(running.finish().await?),
            None => None,
        };
        Ok((sha1, running))
    }
}

/// `sha1` continued over bytes `range` of the local file at `path`, read into one buffer; their pages
/// are then dropped from the page cache (read back to be hashed, they are not read again soon).
pub(super) fn hash_local(path: &Path, range: Range<u64>, mut sha1: Sha1) -> anyhow::Result<Sha1> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; READ_SIZE as usize];
    let mut pos = range.start;
    while pos < range.end {
        let len = (range.end - pos).min(READ_SIZE) as usize;
        let read = &mut buf[..len];
        file.read_exact_at(read, pos)?;
        sha1.update(&*read);
        pos += len as u64;
    }
    spool::advise_dontneed(&file, range.start, range.end);
    Ok(sha1)
}
