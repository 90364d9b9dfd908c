//! How the nodes of a portal share their rate-limit counts (see `domain::rate_limit`): about once
//! a second each node adds what it counted to the shared totals and reads them back, in one
//! statement; once a minute it deletes the windows gone by. A node therefore sees the others'
//! requests about a second late, which is the tolerance the README states. While the database
//! cannot be reached, each node keeps counting on its own and sends its counts once it can.
//!
//! On SQLite (one node) nothing is shared (see `Dialect::shares_rate_limits`): the job only
//! forgets past windows.

use std::collections::HashMap;
use std::time::Duration;

use crate::domain::rate_limit::window_of;
use crate::state::AppState;
use crate::store::RateCount;

/// How often counts are exchanged.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Runs inside `serve`, for ever.
pub async fn run(state: AppState) {
    let shared = state.store.dialect().shares_rate_limits();
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    let mut cleaned = None;
    loop {
        tick.tick().await;
        let now = chrono::Utc::now().timestamp();
        state.rate_limits.evict(now);
        if !shared {
            continue;
        }
        match exchange(&state).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("rate-limit counts are shared again");
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = ?e, "cannot share rate-limit counts; this node counts alone meanwhile");
            }
            Err(_) => {}
        }
        let window = window_of(now);
        if cleaned != Some(window) {
            // The previous window is kept: a slower node may still be adding to it.
            if state
                .store
                .forget_rate_counts_before(window - 1)
                .await
                .is_ok()
            {
                cleaned = Some(window);
            }
        }
    }
}

/// Adds what this node counted since the last exchange to the shared totals, and takes them back.
pub async fn exchange(state: &AppState) -> anyhow::Result<()> {
    let sent = state.rate_limits.take_increments();
    if sent.is_empty() {
        return Ok(());
    }
    let counts: Vec<RateCount> = sent
        .iter()
        .map(|i| RateCount {
            subject: i.subject.key(),
            window: i.window,
            hits: i64::try_from(i.hits).unwrap_or(i64::MAX),
        })
        .collect();
    match state.store.add_rate_counts(&counts).await {
        Ok(totals) => {
            let totals: HashMap<(String, i64), i64> = totals
                .into_iter()
                .map(|t| ((t.subject, t.window), t.hits))
                .collect();
            state.rate_limits.settle(&sent, |i| {
                totals
                    .get(&(i.subject.key(), i.window))
                    .map(|&h| u64::try_from(h).unwrap_or(0))
            });
            Ok(())
        }
        Err(e) => {
            state.rate_limits.unsend(&sent);
            Err(anyhow::Error::new(e))
        }
    }
}
