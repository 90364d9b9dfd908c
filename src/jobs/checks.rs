//! When remote resources are checked (`ops::checks`): inside `serve`, on every node, the due checks
//! are taken from the queue in the database (each with a lease, so that nodes share the work and a
//! crashed node's checks are taken again when their lease passes), at most `concurrency` at once
//! on a node, and at most one request every `host_delay` to each host from all the nodes together;
//! a host that answered 429 or 503 with `Retry-After` is left alone for that long by every node.
//! The hosts' turns are rows of `check_hosts` (`Store::take_host_turn`); each node remembers the
//! turns it learnt, so that a busy host's other checks are put back without asking the database.
//! `rudata checks run --now` drains the queue with the same runner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::fetch::Fetcher;
use crate::ops::checks::{observe, record_check, resource_to_check, schedule};
use crate::state::AppState;
use crate::store::ClaimedCheck;

/// How often an idle node looks at the queue.
const POLL: Duration = Duration::from_secs(2);

/// How often a node removes the hosts whose turn has long passed from `check_hosts`.
const FORGET_HOSTS_EVERY: Duration = Duration::from_secs(600);

/// Runs the checks of one node.
pub struct Runner {
    state: AppState,
    fetcher: Arc<Fetcher>,
    holder: String,
    /// The earliest time this node sends the next request to each host, as far as it knows (the
    /// database may say later: another node took a turn since).
    hosts: Mutex<HashMap<String, DateTime<Utc>>>,
    slots: Arc<Semaphore>,
    /// When this node last forgot the idle hosts.
    forgot_hosts: Mutex<Option<std::time::Instant>>,
}

/// What a round did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Round {
    pub taken: usize,
    pub recorded: usize,
}

impl Runner {
    pub fn new(state: AppState) -> anyhow::Result<Arc<Runner>> {
        let fetcher = Fetcher::new(
            Arc::clone(&state.hosts),
            &state.config.checks,
            state.config.public_url.as_deref(),
        )?;
        let slots = Arc::new(Semaphore::new(state.config.checks.concurrency.max(1)));
        Ok(Arc::new(Runner {
            state,
            fetcher: Arc::new(fetcher),
            holder: format!(
                "{}-{}",
                std::process::id(),
                crate::domain::ids::new_object_id()
            ),
            hosts: Mutex::new(HashMap::new()),
            slots,
            forgot_hosts: Mutex::new(None),
        }))
    }

    /// Takes the due checks there are free slots for and runs them; returns when they are done.
    pub async fn round(self: &Arc<Self>) -> anyhow::Result<Round> {
        let mut running = JoinSet::new();
        let mut round = Round {
            taken: self.spawn_due(&mut running).await?,
            recorded: 0,
        };
        while let Some(done) = running.join_next().await {
            round.recorded += usize::from(outcome(done));
        }
        Ok(round)
    }

    /// Takes the due checks there are free slots for and starts them in `running`; returns how
    /// many it took.
    async fn spawn_due(
        self: &Arc<Self>,
        running: &mut JoinSet<anyhow::Result<bool>>,
    ) -> anyhow::Result<usize> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let now = Utc::now();
        let lease = chrono::Duration::from_std(self.state.config.checks.lease)?;
        let claimed = self
            .state
            .store
            .claim_checks(&self.holder, now, now + lease, free as i64)
            .await?;
        let taken = claimed.len();
        self.forget_idle_hosts(now).await?;
        for check in claimed {
            if let Some(wait) = self.host_busy_until(&check.host, now).await? {
                self.state
                    .store
                    .release_check(&check, &self.holder, wait)
                    .await?;
                continue;
            }
            let permit = Arc::clone(&self.slots).acquire_owned().await?;
            let me = Arc::clone(self);
            running.spawn(async move {
                let done = me.check(&check).await;
                drop(permit);
                done
            });
        }
        Ok(taken)
    }

    /// `None` when `host` may be asked now (its turn is then taken, for every node), else when it
    /// may.
    async fn host_busy_until(
        &self,
        host: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<DateTime<Utc>>> {
        let known = self.remembered(host, now);
        if let Some(next) = known {
            return Ok(Some(next));
        }
        let delay = chrono::Duration::from_std(self.state.config.checks.host_delay)?;
        let busy = self
            .state
            .store
            .take_host_turn(host, now, now + delay)
            .await?;
        self.remember(host, busy.unwrap_or(now + delay));
        Ok(busy)
    }

    /// The host's next turn as this node knows it, if it is still to come.
    fn remembered(&self, host: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.len() > 10_000 {
            hosts.retain(|_, t| *t > now);
        }
        hosts.get(host).copied().filter(|t| *t > now)
    }

    fn remember(&self, host: &str, next: DateTime<Utc>) {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let entry = hosts.entry(host.to_string()).or_insert(next);
        *entry = (*entry).max(next);
    }

    async fn back_off(&self, host: &str, until: DateTime<Utc>) -> anyhow::Result<()> {
        self.remember(host, until);
        Ok(self.state.store.back_off_host(host, until).await?)
    }

    /// Removes, now and then, the hosts whose turn passed a while ago: the table stays as small
    /// as the set of hosts asked lately.
    async fn forget_idle_hosts(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        {
            let mut last = self.forgot_hosts.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < FORGET_HOSTS_EVERY) {
                return Ok(());
            }
            *last = Some(std::time::Instant::now());
        }
        self.state
            .store
            .forget_idle_hosts(now - chrono::Duration::minutes(10))
            .await?;
        Ok(())
    }

    async fn check(&self, check: &ClaimedCheck) -> anyhow::Result<bool> {
        let state = &self.state;
        let Some(resource) = resource_to_check(state, check).await? else {
            let later = Utc::now() + chrono::Duration::from_std(state.config.checks.max_interval)?;
            state
                .store
                .release_check(check, &self.holder, later)
                .await?;
            return Ok(false);
        };
        let max_size = state.config.checks.max_size_for(resource.format.as_deref());
        let (verdict, at) = observe(&self.fetcher, check, schedule(state), max_size).await;
        if verdict.available.is_none() {
            let until = at + chrono::Duration::from_std(verdict.next_in).unwrap_or_default();
            self.back_off(&check.host, until).await?;
        }
        let recorded = record_check(state, check, &self.holder, &verdict, at).await;
        Ok(state.metrics.check(&verdict, recorded)?)
    }
}

/// Whether a finished check was recorded (its failure is logged).
fn outcome(done: Result<anyhow::Result<bool>, tokio::task::JoinError>) -> bool {
    match done {
        Ok(Ok(recorded)) => recorded,
        Ok(Err(e)) => {
            tracing::error!(error = ?e, "recording a check failed");
            false
        }
        Err(e) => {
            tracing::error!(error = ?e, "a check stopped");
            false
        }
    }
}

/// Runs inside `serve`, for ever: whenever a slot is free and a check is due, it starts (a slow
/// server holds one slot, not the others).
pub async fn run(state: AppState) {
    let runner = match Runner::new(state) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = ?e, "remote checks cannot start");
            return;
        }
    };
    let mut running = JoinSet::new();
    loop {
        let taken = match runner.spawn_due(&mut running).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = ?e, "cannot take checks from the queue");
                0
            }
        };
        while let Some(done) = running.try_join_next() {
            outcome(done);
        }
        if taken > 0 && runner.slots.available_permits() > 0 {
            // Checks were due and slots are left: there may be more.
            continue;
        }
        // Wait for a slot to free up, or for checks to become due.
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => { outcome(done); }
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
