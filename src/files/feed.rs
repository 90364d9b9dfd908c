//! Bytes handed to a blocking thread (hashing, writing) through a bounded channel, in batches of
//! about 1 MiB: network reads come in small pieces, and one hand-off each would cost more than the
//! work. A few batches in flight at most, so memory stays flat whatever the file's size.

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle};

const BATCH: usize = 1024 * 1024;

pub struct Feed<T> {
    tx: mpsc::Sender<Vec<Bytes>>,
    batch: Vec<Bytes>,
    batched: usize,
    done: JoinHandle<T>,
}

impl<T: Send + 'static> Feed<T> {
    /// Runs `work` on a blocking thread with the batches (`depth` of them at most in flight); its
    /// result comes back from [`Feed::finish`].
    pub fn start<F>(depth: usize, work: F) -> Feed<T>
    where
        F: FnOnce(mpsc::Receiver<Vec<Bytes>>) -> T + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(depth);
        Feed {
            tx,
            batch: Vec::new(),
            batched: 0,
            done: tokio::task::spawn_blocking(move || work(rx)),
        }
    }

    /// Hands `bytes` on. `Err`: the thread stopped before the end; its result says why.
    pub async fn push(&mut self, bytes: Bytes) -> Result<(), Stopped<T>> {
        self.batched += bytes.len();
        self.batch.push(bytes);
        if self.batched >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Stopped<T>> {
        self.batched = 0;
        let batch = std::mem::take(&mut self.batch);
        if batch.is_empty() || self.tx.send(batch).await.is_ok() {
            return Ok(());
        }
        Err(Stopped((&mut self.done).await))
    }

    /// Hands on what is left, ends the batches and waits for the thread's result.
    pub async fn finish(mut self) -> Result<T, JoinError> {
        if let Err(Stopped(result)) = self.flush().await {
            return result;
        }
        let Feed { tx, done, .. } = self;
        drop(tx);
        done.await
    }
}

/// The result of a thread that stopped before its batches ended.
pub struct Stopped<T>(pub Result<T, JoinError>);
