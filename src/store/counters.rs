//! The views and downloads of datasets and resources (their `metrics`): each node adds what it
//! counted (`metrics::counters`) in one transaction, and the renderers read the totals of the
//! objects they render.
//!
//! Written on the pool, outside any [`super::WriteTx`], and announced to no one: counters are not
//! catalog data, and must not move the generation that the response cache is kept under (on SQLite
//! they live in a file of their own for that reason: see `dialect::attach_counters`).

use std::collections::HashMap;

use sqlx::Row;

use super::dialect::PoolState;
use super::{Store, StoreResult, placeholders, value_rows};

/// Objects per statement: 3 parameters each, well under both databases' limits on parameters.
const BATCH: usize = 1000;

/// What was counted for one object (a dataset or a resource, by id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectCounts {
    pub views: i64,
    pub downloads: i64,
}

impl Store {
    /// Adds each object's counts to its totals, in one transaction. Each id must appear once.
    pub async fn add_object_counts(&self, counts: &[(String, ObjectCounts)]) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        for chunk in counts.chunks(BATCH) {
            let values = value_rows(chunk.len(), 3);
            let sql = format!(
                "INSERT INTO object_counters (id, views, downloads) VALUES {values}
                 ON CONFLICT (id) DO UPDATE SET views = object_counters.views + excluded.views,
                     downloads = object_counters.downloads + excluded.downloads"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, c) in chunk {
                query = query.bind(id).bind(c.views).bind(c.downloads);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The totals of the objects `ids` names (those never counted are absent).
    pub async fn object_counts(&self, ids: &[&str]) -> StoreResult<HashMap<String, ObjectCounts>> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let sql = format!(
                "SELECT id, views, downloads FROM object_counters WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.read).await? {
                found.insert(
                    row.try_get("id")?,
                    ObjectCounts {
                        views: row.try_get("views")?,
                        downloads: row.try_get("downloads")?,
                    },
                );
            }
        }
        Ok(found)
    }

    /// The connection pools' state (open and idle connections), for `/metrics`.
    pub fn pool_states(&self) -> Vec<PoolState> {
        self.dialect.pool_states(&self.read, &self.write)
    }
}
