//! Reading a dataset's resources a part at a time: a page (API v2), the batches the v1 document
//! streams, and the summary its quality needs. None of them reads more resource documents than it
//! returns: the order, the `type` filter, the folded titles and the quality facts are indexed
//! columns (migration 0006), so a page is found by walking index entries, never documents.

use sqlx::Row;

use super::resources::resource_of;
use futures_util::TryStreamExt;

use super::{Store, StoreResult, escape_like};
use crate::domain::dataset::ResourceSummary;
use crate::domain::resource::{Resource, fold_title};

/// Which resources of a dataset: all of them, those of one `type` (udata's filter, exact), those
/// whose title contains `title` ignoring case (udata's `q`, a literal substring), or both.
#[derive(Debug, Clone, Copy)]
pub struct ResourceQuery<'a> {
    pub dataset_id: &'a str,
    pub kind: Option<&'a str>,
    pub title: Option<&'a str>,
}

impl ResourceQuery<'_> {
    /// The query's conditions (from `$1`) and their values. The texts are fixed; the values are bound.
    fn conditions(&self) -> (String, Vec<String>) {
        let mut sql = "dataset_id = $1".to_string();
        let mut values = vec![self.dataset_id.to_string()];
        if let Some(kind) = self.kind {
            values.push(kind.to_string());
            sql.push_str(&format!(" AND kind = ${}", values.len()));
        }
        if let Some(title) = self.title {
            // Both sides folded alike, so LIKE's own (ASCII-only, SQLite) case rule never matters.
            values.push(format!("%{}%", escape_like(&fold_title(title))));
            sql.push_str(&format!(
                " AND title_folded LIKE ${} ESCAPE '\\'",
                values.len()
            ));
        }
        (sql, values)
    }
}

/// Where the next batch of a dataset's resources starts: after this place in dataset order.
#[derive(Debug, Clone)]
pub struct ResourceCursor {
    position: i64,
    id: String,
}

impl Store {
    /// How many resources, and the facts of their dataset's quality, through one aggregate over an
    /// index (no document is read).
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

    /// How many resources the query selects (counted in an index).
    pub async fn count_resources(&self, q: ResourceQuery<'_>) -> StoreResult<i64> {
        let (conditions, values) = q.conditions();
        let sql = format!("SELECT COUNT(*) FROM resources WHERE {conditions}");
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for v in values {
            query = query.bind(v);
        }
        Ok(query.fetch_one(&self.read).await?)
    }

    /// `limit` resources of the query from the `offset`-th, in dataset order. The offset is walked
    /// in an index alone (the inner query reads ids only); documents are read for the page only.
    pub async fn page_of_resources(
        &self,
        q: ResourceQuery<'_>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Vec<Resource>> {
        let (conditions, values) = q.conditions();
        let n = values.len();
        let sql = format!(
            "SELECT r.doc, r.doc_version FROM (
                 SELECT id, position FROM resources WHERE {conditions}
                 ORDER BY position, id LIMIT ${} OFFSET ${}
             ) p JOIN resources r ON r.id = p.id
             ORDER BY p.position, p.id",
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            query = query.bind(v);
        }
        query
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(resource_of)
            .collect()
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

/// Migration 0006's second half: SQL's lower() folded the ASCII letters of the titles written
/// before it; titles with other capitals are folded again here, as every write folds them. The rows
/// are read as a stream: only those to change are kept.
pub(super) async fn refold_titles(conn: &mut sqlx::AnyConnection) -> StoreResult<usize> {
    let mut changes = Vec::new();
    {
        let mut rows =
            sqlx::query("SELECT id, title, title_folded FROM resources").fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            let title: String = row.try_get("title")?;
            let folded: String = row.try_get("title_folded")?;
            let refolded = fold_title(&title);
            if refolded != folded {
                changes.push((row.try_get::<String, _>("id")?, refolded));
            }
        }
    }
    for (id, folded) in &changes {
        sqlx::query("UPDATE resources SET title_folded = $2 WHERE id = $1")
            .bind(id)
            .bind(folded)
            .execute(&mut *conn)
            .await?;
    }
    Ok(changes.len())
}
