//! The queue of remote resource checks and their history (`ops::checks`). A check is taken with a
//! lease written in its row, so that the nodes sharing a database share the queue and a crashed
//! node's checks are taken again once their lease has passed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreResult, WriteTx, db_ts, ts, ts_opt};
use crate::domain::checks::{Previous, Validators, Verdict, host_of, is_checked};
use crate::domain::resource::Resource;

/// A check taken from the queue.
#[derive(Debug, Clone)]
pub struct ClaimedCheck {
    pub resource_id: String,
    pub dataset_id: String,
    pub url: String,
    pub host: String,
    pub previous: Previous,
}

/// One line of a resource's check history.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    pub checked_at: DateTime<Utc>,
    pub status: Option<i64>,
    pub available: bool,
    pub changed: Option<String>,
    pub error: Option<String>,
}

/// The queue at a glance (`rudata checks status`).
#[derive(Debug, Clone, Default)]
pub struct CheckSummary {
    pub total: i64,
    pub due: i64,
    pub running: i64,
    pub checked: i64,
    pub unavailable: i64,
    /// The hosts with the most unavailable resources, with their counts.
    pub failing_hosts: Vec<(String, i64)>,
}

fn claimed_of(row: &AnyRow) -> StoreResult<ClaimedCheck> {
    let checked_at: Option<String> = row.try_get("checked_at")?;
    let available: Option<i64> = row.try_get("available")?;
    let interval: i64 = row.try_get("interval_secs")?;
    let url: String = row.try_get("url")?;
    let host: String = row.try_get("host")?;
    Ok(ClaimedCheck {
        resource_id: row.try_get("resource_id")?,
        dataset_id: row.try_get("dataset_id")?,
        // Rows queued by migration 0014 have no host yet: each waits for its own host's turn.
        host: if host.is_empty() { host_of(&url) } else { host },
        url,
        previous: Previous {
            checked: checked_at.is_some(),
            available: available.map(|a| a != 0),
            interval: Duration::from_secs(u64::try_from(interval).unwrap_or(0)),
            validators: Validators {
                etag: row.try_get("etag")?,
                last_modified: row.try_get("last_modified")?,
                content_length: row.try_get("content_length")?,
            },
            checksum: row.try_get("checksum")?,
        },
    })
}

fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl Store {
    /// Takes up to `limit` due checks for `holder` until `until`. A check another holder has taken is
    /// skipped until its lease passes; the outer conditions are evaluated again on the row as it is
    /// when written, so two nodes claiming at once never take the same check.
    pub async fn claim_checks(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedCheck>> {
        sqlx::query(
            "UPDATE resource_checks SET lease_holder = $1, lease_until = $2
             WHERE resource_id IN (
                 SELECT resource_id FROM resource_checks
                 WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
                 ORDER BY due_at LIMIT $4)
               AND due_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
             RETURNING resource_id, dataset_id, url, host, interval_secs, checked_at, available,
                       etag, last_modified, content_length, checksum",
        )
        .bind(holder)
        .bind(db_ts(&until))
        .bind(db_ts(&now))
        .bind(limit)
        .fetch_all(&self.write)
        .await?
        .iter()
        .map(claimed_of)
        .collect()
    }

    /// Gives a taken check back, due again at `due_at` (a host to wait for, a deleted dataset).
    pub async fn release_check(
        &self,
        claimed: &ClaimedCheck,
        holder: &str,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE resource_checks SET lease_holder = NULL, lease_until = NULL, due_at = $3
             WHERE resource_id = $1 AND lease_holder = $2",
        )
        .bind(&claimed.resource_id)
        .bind(holder)
        .bind(db_ts(&due_at))
        .execute(&self.write)
        .await?;
        // Its next check's date is shown (`GET …/checks/`).
        self.changed_in(Some(&claimed.dataset_id)).await
    }

    /// The last `limit` checks of resource `rid`, newest first.
    pub async fn list_check_history(&self, rid: &str, limit: i64) -> StoreResult<Vec<CheckRecord>> {
        sqlx::query(
            "SELECT checked_at, status, available, changed, error FROM resource_check_history
             WHERE resource_id = $1 ORDER BY checked_at DESC, id DESC LIMIT $2",
        )
        .bind(rid)
        .bind(limit)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|row| {
            Ok(CheckRecord {
                checked_at: ts(&row.try_get::<String, _>("checked_at")?)?,
                status: row.try_get("status")?,
                available: row.try_get::<i64, _>("available")? != 0,
                changed: row.try_get("changed")?,
                error: row.try_get("error")?,
            })
        })
        .collect()
    }

    /// When resource `rid` is next checked (`None`: it is not checked), and when it last was.
    pub async fn find_check_schedule(
        &self,
        rid: &str,
    ) -> StoreResult<Option<(DateTime<Utc>, Option<DateTime<Utc>>)>> {
        let row =
            sqlx::query("SELECT due_at, checked_at FROM resource_checks WHERE resource_id = $1")
                .bind(rid)
                .fetch_optional(&self.read)
                .await?;
        row.map(|row| {
            Ok((
                ts(&row.try_get::<String, _>("due_at")?)?,
                ts_opt(row.try_get("checked_at")?)?,
            ))
        })
        .transpose()
    }

    /// The queue at a glance: a few counts over the checks table (an operator's command, not a
    /// request path).
    pub async fn check_summary(&self, now: DateTime<Utc>) -> StoreResult<CheckSummary> {
        let now = db_ts(&now);
        let row = sqlx::query(
            "SELECT COUNT(*) AS total,
                    COALESCE(SUM(CASE WHEN due_at <= $1 THEN 1 ELSE 0 END), 0) AS due,
                    COALESCE(SUM(CASE WHEN lease_until >= $1 THEN 1 ELSE 0 END), 0) AS running,
                    COALESCE(SUM(CASE WHEN checked_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS checked,
                    COALESCE(SUM(CASE WHEN available = 0 THEN 1 ELSE 0 END), 0) AS unavailable
             FROM resource_checks",
        )
        .bind(&now)
        .fetch_one(&self.read)
        .await?;
        let failing_hosts = sqlx::query(
            "SELECT host, COUNT(*) AS n FROM resource_checks WHERE available = 0
             GROUP BY host ORDER BY n DESC, host LIMIT 10",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("host")?, r.try_get("n")?)))
        .collect::<StoreResult<_>>()?;
        Ok(CheckSummary {
            total: row.try_get("total")?,
            due: row.try_get("due")?,
            running: row.try_get("running")?,
            checked: row.try_get("checked")?,
            unavailable: row.try_get("unavailable")?,
            failing_hosts,
        })
    }

    /// Takes host `host`'s turn for a request sent `now`, the next one being `next` (the per-host
    /// pace, shared by the nodes): `None` when taken, else when the host's next turn is (another
    /// node's request, or a `Retry-After`). One upsert on the host's key: of two nodes asking at
    /// once, one gets the turn.
    pub async fn take_host_turn(
        &self,
        host: &str,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let taken = sqlx::query(
            "INSERT INTO check_hosts (host, next_at) VALUES ($1, $3)
             ON CONFLICT (host) DO UPDATE SET next_at = excluded.next_at
             WHERE check_hosts.next_at <= $2
             RETURNING host",
        )
        .bind(host)
        .bind(db_ts(&now))
        .bind(db_ts(&next))
        .fetch_optional(&self.write)
        .await?;
        if taken.is_some() {
            return Ok(None);
        }
        let next_at: Option<String> =
            sqlx::query_scalar("SELECT next_at FROM check_hosts WHERE host = $1")
                .bind(host)
                .fetch_optional(&self.write)
                .await?;
        // Gone meanwhile (forgotten as idle): free again, at the next round.
        Ok(Some(ts_opt(next_at)?.unwrap_or(now)))
    }

    /// Leaves host `host` alone until `until` (it asked to wait), on every node.
    pub async fn back_off_host(&self, host: &str, until: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO check_hosts (host, next_at) VALUES ($1, $2)
             ON CONFLICT (host) DO UPDATE SET next_at = excluded.next_at
             WHERE check_hosts.next_at < excluded.next_at",
        )
        .bind(host)
        .bind(db_ts(&until))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Forgets the hosts whose next turn was before `before` (an absent host is free), through the
    /// index on `next_at`: the table holds the hosts asked lately, not every host of the catalog.
    pub async fn forget_idle_hosts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM check_hosts WHERE next_at < $1")
            .bind(db_ts(&before))
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    /// Makes every check due now (`rudata checks run --now`); returns how many there are.
    pub async fn make_checks_due(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE resource_checks SET due_at = $1 WHERE due_at > $1")
            .bind(db_ts(&now))
            .execute(&self.write)
            .await?;
        self.changed().await?;
        Ok(done.rows_affected())
    }
}

impl WriteTx {
    /// Keeps resource `r`'s check in step with it: a remote HTTP(S) resource has one, due at once
    /// when the resource is new or its URL changed; any other resource has none.
    pub(super) async fn schedule_check(
        &mut self,
        dataset_id: &str,
        r: &Resource,
    ) -> StoreResult<()> {
        if !is_checked(r) {
            sqlx::query("DELETE FROM resource_checks WHERE resource_id = $1")
                .bind(&r.id)
                .execute(&mut *self.tx)
                .await?;
            return Ok(());
        }
        // The validators and checksum belong to the old URL: a new URL starts afresh.
        sqlx::query(
            "INSERT INTO resource_checks (resource_id, dataset_id, url, host, due_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (resource_id) DO UPDATE SET url = excluded.url, host = excluded.host,
                 due_at = excluded.due_at, dataset_id = excluded.dataset_id, interval_secs = 0,
                 checked_at = NULL, available = NULL, status = NULL, failures = 0, etag = NULL,
                 last_modified = NULL, content_length = NULL, checksum = NULL
             WHERE resource_checks.url <> excluded.url",
        )
        .bind(&r.id)
        .bind(dataset_id)
        .bind(r.url.trim())
        .bind(host_of(&r.url))
        .bind(db_ts(&crate::domain::time::now()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Makes resource `rid`'s check due now (a publisher's signal); false when it has none.
    pub async fn make_check_due(&mut self, rid: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE resource_checks SET due_at = $2 WHERE resource_id = $1")
            .bind(rid)
            .bind(db_ts(&now))
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a finished check held by `holder` (and nothing if the lease was lost or the URL
    /// changed meanwhile: the newer check wins): what the next one compares with, when it is due,
    /// and a line of history.
    pub async fn finish_check(
        &mut self,
        claimed: &ClaimedCheck,
        holder: &str,
        verdict: &Verdict,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let due = now + chrono::Duration::from_std(verdict.next_in).unwrap_or_default();
        let written = sqlx::query(
            "UPDATE resource_checks SET lease_holder = NULL, lease_until = NULL, due_at = $3,
                 interval_secs = $4, checked_at = $5,
                 available = COALESCE($6, available), status = COALESCE($7, status),
                 failures = CASE WHEN $6 = 0 THEN failures + 1 WHEN $6 = 1 THEN 0 ELSE failures END,
                 etag = $8, last_modified = $9, content_length = $10, checksum = $11, host = $12
             WHERE resource_id = $1 AND lease_holder = $2 AND url = $13",
        )
        .bind(&claimed.resource_id)
        .bind(holder)
        .bind(db_ts(&due))
        .bind(seconds(verdict.interval))
        .bind(db_ts(&now))
        .bind(verdict.available.map(i64::from))
        .bind(verdict.status.map(i64::from))
        .bind(&verdict.validators.etag)
        .bind(&verdict.validators.last_modified)
        .bind(verdict.validators.content_length)
        .bind(&verdict.checksum)
        .bind(host_of(&claimed.url))
        .bind(&claimed.url)
        .execute(&mut *self.tx)
        .await?;
        if written.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO resource_check_history (resource_id, checked_at, status, available, changed, error)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&claimed.resource_id)
        .bind(db_ts(&now))
        .bind(verdict.status.map(i64::from))
        .bind(i64::from(
            verdict
                .available
                .or(claimed.previous.available)
                .unwrap_or(false),
        ))
        .bind(match &verdict.change {
            Some(c) if verdict.summary == "changed" => c.detection,
            _ => verdict.summary,
        })
        .bind(&verdict.error)
        .execute(&mut *self.tx)
        .await?;
        Ok(true)
    }
}
