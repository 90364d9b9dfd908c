//! The rate-limit counters that the nodes of a portal share (see `api::rate_limit`): each node adds
//! what it counted since its last call and reads the totals back, in one statement.
//!
//! Written on the pool, outside any [`super::WriteTx`], and announced to no one: counters are not
//! catalog data, and must not move the generation that the response cache is kept under.

use sqlx::Row;

use super::{Store, StoreResult, value_rows};

/// Rows per statement: 3 parameters each, well under both databases' limits on parameters.
const BATCH: usize = 1000;

/// Requests counted for a subject in a window (minutes since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCount {
    pub subject: String,
    pub window: i64,
    pub hits: i64,
}

impl Store {
    /// Adds each count to the shared total of its subject and window; returns the new totals.
    /// Each `(subject, window)` must appear once.
    pub async fn add_rate_counts(&self, counts: &[RateCount]) -> StoreResult<Vec<RateCount>> {
        let mut totals = Vec::with_capacity(counts.len());
        for chunk in counts.chunks(BATCH) {
            let values = value_rows(chunk.len(), 3);
            let sql = format!(
                "INSERT INTO rate_limits (subject, window_start, hits) VALUES {values}
                 ON CONFLICT (subject, window_start) DO UPDATE SET hits = rate_limits.hits + excluded.hits
                 RETURNING subject, window_start, hits"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                query = query.bind(&c.subject).bind(c.window).bind(c.hits);
            }
            for row in query.fetch_all(&self.write).await? {
                totals.push(RateCount {
                    subject: row.try_get("subject")?,
                    window: row.try_get("window_start")?,
                    hits: row.try_get("hits")?,
                });
            }
        }
        Ok(totals)
    }

    /// Forgets the counts of windows before `window`.
    pub async fn forget_rate_counts_before(&self, window: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
            .bind(window)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }
}
