//! Catalog exports: `GET /api/1/site/{datasets,resources,organizations}.csv`, with udata's columns in
//! udata's order, written as udata's CSV writer writes them (`;`, every text quoted, numbers and
//! booleans bare, `\r\n` line ends, UTF-8).
//!
//! udata serves a file made each night; rudata streams the live catalog. A task reads it in keyset
//! batches (`store::exports`) and sends 64 KiB chunks through a channel of two: the body starts with
//! the header line at once, and memory stays flat whatever the size of the catalog (a slow client
//! slows the reading; a client that goes away stops it). No transaction is held between batches:
//! an object changed during the export appears as it was when its batch was read.

mod csv;
mod rows;

use std::collections::{HashMap, VecDeque};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tokio::sync::mpsc;
use tracing::Instrument;

use self::csv::{Cell, text, write_row};
use self::rows::{
    DATASET_COLUMNS, ORGANIZATION_COLUMNS, RESOURCE_COLUMNS, dataset_cells, organization_cells,
    resource_cells,
};
use super::BaseUrl;
use crate::domain::dataset::quality;
use crate::domain::resource::Resource;
use crate::domain::time::now;
use crate::state::AppState;
use crate::store::{DatasetColumns, ExportedResource, ResourceKey, Store, StoreError};

/// Datasets (or organizations) read per batch.
const BATCH: i64 = 200;
/// Resources read per batch.
const RESOURCE_BATCH: i64 = 1000;
/// Datasets' columns read at a time for `resources.csv` (a few short columns each).
const COLUMNS_BATCH: i64 = 1000;
/// Bytes sent at a time.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the client, at most.
const PENDING_CHUNKS: usize = 2;

/// Why an export stopped early.
#[derive(Debug)]
enum Stop {
    /// The client went away.
    Closed,
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

/// Lines on their way to the client, sent by chunks.
struct CsvSink {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl CsvSink {
    async fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), Stop> {
        write_row(&mut self.buf, cells);
        if self.buf.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Stop> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.send(Ok(chunk)).await.map_err(|_| Stop::Closed)
    }
}

#[derive(Debug, Clone, Copy)]
enum Export {
    Datasets,
    Resources,
    Organizations,
}

impl Export {
    fn name(self) -> &'static str {
        match self {
            Export::Datasets => "datasets",
            Export::Resources => "resources",
            Export::Organizations => "organizations",
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Export::Datasets => &DATASET_COLUMNS,
            Export::Resources => &RESOURCE_COLUMNS,
            Export::Organizations => &ORGANIZATION_COLUMNS,
        }
    }
}

/// The streamed answer: headers now, lines as a task reads them.
fn stream(state: AppState, base: BaseUrl, export: Export) -> Response {
    let (tx, mut rx) = mpsc::channel(PENDING_CHUNKS);
    let task = async move {
        let mut sink = CsvSink {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let header: Vec<Cell> = export.columns().iter().map(|c| text(c)).collect();
        let written = async {
            sink.row(&header).await?;
            // The header line goes at once: the client sees the export start.
            sink.flush().await?;
            match export {
                Export::Datasets => write_datasets(&state.store, &base, &mut sink).await?,
                Export::Resources => write_resources(&state.store, &base, &mut sink).await?,
                Export::Organizations => {
                    write_organizations(&state.store, &base, &mut sink).await?
                }
            }
            sink.flush().await
        }
        .await;
        if let Err(Stop::Store(e)) = written {
            tracing::error!(error = ?e, export = export.name(), "catalog export failed");
            // The status is sent already: cut the body so that the client sees an incomplete answer.
            let _ = sink
                .tx
                .send(Err(std::io::Error::other("catalog export failed")))
                .await;
        }
    };
    tokio::spawn(task.instrument(tracing::Span::current()));
    let chunks = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut response = Response::new(Body::from_stream(chunks));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let stamp = chrono::Utc::now().format("%Y-%m-%d-%H-%M");
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename={}-{stamp}.csv",
        export.name()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

pub async fn export_datasets(State(state): State<AppState>, base: BaseUrl) -> Response {
    stream(state, base, Export::Datasets)
}

pub async fn export_resources(State(state): State<AppState>, base: BaseUrl) -> Response {
    stream(state, base, Export::Resources)
}

pub async fn export_organizations(State(state): State<AppState>, base: BaseUrl) -> Response {
    stream(state, base, Export::Organizations)
}

/// The resources of a batch of datasets, read in batches in dataset order and handed out dataset
/// by dataset.
struct ResourceCursor<'s> {
    store: &'s Store,
    after: ResourceKey,
    last_dataset: String,
    pending: VecDeque<ExportedResource>,
    done: bool,
    /// The next batch, read while this one is written out (the database's thread and the writer
    /// then work side by side).
    ahead: Option<tokio::task::JoinHandle<Result<Vec<ExportedResource>, StoreError>>>,
}

impl<'s> ResourceCursor<'s> {
    fn new(store: &'s Store, first_dataset: &str, last_dataset: &str) -> Self {
        ResourceCursor {
            store,
            after: ResourceKey::before(first_dataset),
            last_dataset: last_dataset.to_string(),
            pending: VecDeque::new(),
            done: false,
            ahead: None,
        }
    }

    /// The next batch, or `None` past the last dataset.
    async fn next_batch(&mut self) -> Result<Option<Vec<ExportedResource>>, Stop> {
        if self.done {
            return Ok(None);
        }
        let batch = match self.ahead.take() {
            Some(reading) => reading
                .await
                .map_err(|e| Stop::Store(StoreError::Other(e.into())))??,
            None => {
                self.store
                    .export_resources(&self.after, &self.last_dataset, RESOURCE_BATCH)
                    .await?
            }
        };
        self.done = (batch.len() as i64) < RESOURCE_BATCH;
        if let Some(last) = batch.last() {
            self.after = last.key.clone();
        }
        if !self.done {
            let store = self.store.clone();
            let (after, last) = (self.after.clone(), self.last_dataset.clone());
            self.ahead = Some(tokio::spawn(async move {
                store.export_resources(&after, &last, RESOURCE_BATCH).await
            }));
        }
        Ok(Some(batch))
    }

    /// The resources of `dataset_id`, in order (datasets must be asked for in id order).
    async fn of(&mut self, dataset_id: &str) -> Result<Vec<Resource>, Stop> {
        let mut out = Vec::new();
        loop {
            while let Some(front) = self.pending.front() {
                match front.key.dataset_id.as_str().cmp(dataset_id) {
                    std::cmp::Ordering::Less => {
                        self.pending.pop_front();
                    }
                    std::cmp::Ordering::Equal => {
                        if let Some(r) = self.pending.pop_front() {
                            out.push(r.resource);
                        }
                    }
                    std::cmp::Ordering::Greater => return Ok(out),
                }
            }
            match self.next_batch().await? {
                Some(batch) => self.pending.extend(batch),
                None => return Ok(out),
            }
        }
    }
}

async fn write_datasets(store: &Store, base: &BaseUrl, sink: &mut CsvSink) -> Result<(), Stop> {
    let now = now();
    let mut after = String::new();
    loop {
        let batch = store.export_datasets(&after, BATCH).await?;
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(());
        };
        let mut resources = ResourceCursor::new(store, &first.row.dataset.id, &last.row.dataset.id);
        let ids: Vec<&str> = batch.iter().map(|d| d.row.dataset.id.as_str()).collect();
        let counts = store.object_counts(&ids).await?;
        for d in &batch {
            let res = resources.of(&d.row.dataset.id).await?;
            let score = quality(&d.row.dataset, &res, now).score;
            let counted = counts.get(&d.row.dataset.id).copied().unwrap_or_default();
            sink.row(&dataset_cells(base, d, &res, score, counted))
                .await?;
        }
        if (batch.len() as i64) < BATCH {
            return Ok(());
        }
        after = last.row.dataset.id.clone();
    }
}

async fn write_resources(store: &Store, base: &BaseUrl, sink: &mut CsvSink) -> Result<(), Stop> {
    let mut after = String::new();
    loop {
        let batch = store.export_dataset_columns(&after, COLUMNS_BATCH).await?;
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(());
        };
        let datasets: HashMap<&str, &DatasetColumns> =
            batch.iter().map(|d| (d.id.as_str(), d)).collect();
        let mut resources = ResourceCursor::new(store, &first.id, &last.id);
        while let Some(page) = resources.next_batch().await? {
            let ids: Vec<&str> = page.iter().map(|r| r.resource.id.as_str()).collect();
            let counts = store.object_counts(&ids).await?;
            for r in &page {
                // Resources of datasets that are not exported sit between exported ones: skipped.
                if let Some(d) = datasets.get(r.key.dataset_id.as_str()) {
                    let downloads = counts.get(&r.resource.id).map_or(0, |c| c.downloads);
                    sink.row(&resource_cells(base, d, &r.resource, downloads))
                        .await?;
                }
            }
        }
        if (batch.len() as i64) < COLUMNS_BATCH {
            return Ok(());
        }
        after = last.id.clone();
    }
}

async fn write_organizations(
    store: &Store,
    base: &BaseUrl,
    sink: &mut CsvSink,
) -> Result<(), Stop> {
    let mut after = String::new();
    loop {
        let batch = store.export_organizations(&after, BATCH).await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        for export in &batch {
            sink.row(&organization_cells(base, export)).await?;
        }
        if (batch.len() as i64) < BATCH {
            return Ok(());
        }
        after = last.organization.id.clone();
    }
}
