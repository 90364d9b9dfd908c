//! When the purge of soft-deleted datasets runs (DESIGN §3.3): at each daily cut-off (midnight in the
//! configured time zone), every dataset deleted before the cut-off minus the grace period goes for
//! good (`ops::purge`).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::config::PurgeConfig;
use crate::metrics::Job;
use crate::ops::purge::purge;
use crate::state::AppState;

/// The most recent cut-off at or before `now`: midnight today in `tz`.
pub fn last_cutoff(now: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&tz).date_naive();
    midnight(local, tz)
}

/// The next cut-off after `now`.
pub fn next_cutoff(now: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let tomorrow = now.with_timezone(&tz).date_naive() + chrono::Duration::days(1);
    midnight(tomorrow, tz)
}

fn midnight(day: chrono::NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    // A day may start after a DST gap: take the earliest valid local time from midnight on.
    (0..4)
        .find_map(|h| {
            tz.from_local_datetime(&day.and_hms_opt(h, 0, 0)?)
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// The cut-off a purge uses now: the last midnight, minus the grace period.
pub fn current_threshold(config: &PurgeConfig, now: DateTime<Utc>) -> DateTime<Utc> {
    last_cutoff(now, config.timezone) - chrono::Duration::from_std(config.grace).unwrap_or_default()
}

/// Runs inside `serve`: a catch-up purge at start (a cut-off may have passed while stopped), then one
/// at every cut-off.
pub async fn run_scheduler(state: AppState, config: PurgeConfig) {
    loop {
        let now = Utc::now();
        let run = purge(&state, Some(current_threshold(&config, now))).await;
        match state.metrics.job(Job::Purge, run) {
            Ok(r) if r.datasets > 0 || r.files > 0 => {
                tracing::info!(datasets = r.datasets, files = r.files, "purge done")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "purge failed"),
        }
        let next = next_cutoff(Utc::now(), config.timezone);
        let wait = (next - Utc::now())
            .to_std()
            .unwrap_or(Duration::from_secs(60));
        tracing::debug!(next = %next, "next purge");
        tokio::time::sleep(wait + Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_are_midnight_in_paris() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T19:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let tz = chrono_tz::Europe::Paris;
        assert_eq!(
            last_cutoff(now, tz).to_rfc3339(),
            "2026-11-25T23:00:00+00:00"
        );
        assert_eq!(
            next_cutoff(now, tz).to_rfc3339(),
            "2026-11-26T23:00:00+00:00"
        );
        let summer = DateTime::parse_from_rfc3339("2026-07-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            last_cutoff(summer, tz).to_rfc3339(),
            "2026-06-30T22:00:00+00:00"
        );
    }
}
