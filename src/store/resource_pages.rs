//! Reading a dataset's resources a part at a time: a page (API v2), the batches the v1 document
//! streams, and the summary its quality needs. None of them reads more resource documents than it
//! returns: the order, the `type` filter and the quality facts come from indexed columns (migration
//! 0004), so a page of a 10,000-resource dataset costs what a page of a 10-resource one does.

use sqlx::Row;

use super::resources::resource_of;
use super::{Store, StoreResult, placeholders};
use crate::domain::dataset::ResourceSummary;
use crate::domain::resource::Resource;

/// Which resources of a dataset: all of them, or those of one `type` (udata's filter, exact).
#[derive(Debug, Clone, Copy)]
pub struct ResourceQuery<'a> {
    pub dataset_id: &'a str,
    pub kind: Option<&'a str>,
}

/// Where the next batch of a dataset's resources starts: after this place in dataset order.
#[derive(Debug, Clone)]
pub struct ResourceCursor {
    position: i64,
    id: String,
}

/// Ids looked up in one statement at most (the databases bound the number of parameters).
const IDS_PER_QUERY: usize = 500;

impl Store {
    /// How many resources, and the facts of their dataset's quality, through one aggregate over the
    /// columns (no document is read).
    pub async fn resource_summary(&self, dataset_id: &str) -> StoreResult<ResourceSummary> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(open_format) AS open_format, MAX(documented) AS documented,
                    MAX(unavailable) AS unavailable
             FROM resources WHERE dataset_id = $1",
        )
        .bind(dataset_id)
        .fetch_one(&self.read)
        .await?;
        let flag = |name: &str| -> StoreResult<bool> {
            Ok(row.try_get::<Option<i64>, _>(name)?.unwrap_or(0) != 0)
        };
        Ok(ResourceSummary {
            count: row.try_get("n")?,
            any_open_format: flag("open_format")?,
            any_documented: flag("documented")?,
            any_unavailable: flag("unavailable")?,
        })
    }

    /// How many resources the query selects (counted in the index).
    pub async fn count_resources(&self, q: ResourceQuery<'_>) -> StoreResult<i64> {
        let count = match q.kind {
            None => {
                sqlx::query_scalar("SELECT COUNT(*) FROM resources WHERE dataset_id = $1")
                    .bind(q.dataset_id)
                    .fetch_one(&self.read)
                    .await?
            }
            Some(kind) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM resources WHERE dataset_id = $1 AND kind = $2",
                )
                .bind(q.dataset_id)
                .bind(kind)
                .fetch_one(&self.read)
                .await?
            }
        };
        Ok(count)
    }

    /// `limit` resources of the query from the `offset`-th, in dataset order. The offset is walked
    /// in the index alone (the inner query reads ids only); documents are read for the page only.
    pub async fn page_of_resources(
        &self,
        q: ResourceQuery<'_>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Vec<Resource>> {
        let rows = match q.kind {
            None => {
                sqlx::query(
                    "SELECT r.doc, r.doc_version FROM (
                         SELECT id, position FROM resources WHERE dataset_id = $1
                         ORDER BY position, id LIMIT $2 OFFSET $3
                     ) p JOIN resources r ON r.id = p.id
                     ORDER BY p.position, p.id",
                )
                .bind(q.dataset_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.read)
                .await?
            }
            Some(kind) => {
                sqlx::query(
                    "SELECT r.doc, r.doc_version FROM (
                         SELECT id, position FROM resources WHERE dataset_id = $1 AND kind = $2
                         ORDER BY position, id LIMIT $3 OFFSET $4
                     ) p JOIN resources r ON r.id = p.id
                     ORDER BY p.position, p.id",
                )
                .bind(q.dataset_id)
                .bind(kind)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.read)
                .await?
            }
        };
        rows.iter().map(resource_of).collect()
    }

    /// The ids and titles of the query's resources, in dataset order (a title search reads these,
    /// never the documents).
    pub async fn resource_titles(
        &self,
        q: ResourceQuery<'_>,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows =
            match q.kind {
                None => sqlx::query(
                    "SELECT id, title FROM resources WHERE dataset_id = $1 ORDER BY position, id",
                )
                .bind(q.dataset_id)
                .fetch_all(&self.read)
                .await?,
                Some(kind) => {
                    sqlx::query(
                        "SELECT id, title FROM resources WHERE dataset_id = $1 AND kind = $2
                     ORDER BY position, id",
                    )
                    .bind(q.dataset_id)
                    .bind(kind)
                    .fetch_all(&self.read)
                    .await?
                }
            };
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("title")?)))
            .collect()
    }

    /// Resources of dataset `dataset_id` by id, in the order of `ids` (missing ones left out).
    pub async fn resources_by_ids(
        &self,
        dataset_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<Resource>> {
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT doc, doc_version FROM resources WHERE dataset_id = $1 AND id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(dataset_id);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.read).await? {
                let r = resource_of(&row)?;
                found.insert(r.id.clone(), r);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Up to `limit` resources of dataset `dataset_id` after `after` (from the first without), in
    /// dataset order, and the cursor of the next batch (`None` once the last one is read). Each batch
    /// starts where the previous one ended, through the index: reading a dataset whole in batches
    /// costs one pass over it.
    pub async fn next_resources(
        &self,
        dataset_id: &str,
        after: Option<&ResourceCursor>,
        limit: i64,
    ) -> StoreResult<(Vec<Resource>, Option<ResourceCursor>)> {
        let rows = match after {
            None => {
                sqlx::query(
                    "SELECT position, id, doc, doc_version FROM resources WHERE dataset_id = $1
                     ORDER BY position, id LIMIT $2",
                )
                .bind(dataset_id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            Some(c) => {
                sqlx::query(
                    "SELECT position, id, doc, doc_version FROM resources
                     WHERE dataset_id = $1 AND (position, id) > ($2, $3)
                     ORDER BY position, id LIMIT $4",
                )
                .bind(dataset_id)
                .bind(c.position)
                .bind(&c.id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
        };
        let next = match rows.last() {
            Some(last) if rows.len() as i64 == limit => Some(ResourceCursor {
                position: last.try_get("position")?,
                id: last.try_get("id")?,
            }),
            _ => None,
        };
        let resources = rows.iter().map(resource_of).collect::<StoreResult<_>>()?;
        Ok((resources, next))
    }
}
