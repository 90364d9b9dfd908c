//! `rudata checks`: the remote resource checks' options (shared with `serve`), the queue's status,
//! and a run of every check by hand.

use super::*;
use crate::config::CheckConfig;

/// How remote resources are checked (see `config::CheckConfig` and the README).
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Whether `serve` checks remote resources (true or false).
    #[arg(long, env = "RUDATA_CHECK_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub check_enabled: bool,
    /// Comma-separated networks (CIDR) remote URLs may point to although local or private, e.g.
    /// 10.0.0.0/8 for an intranet portal (default: none).
    #[arg(long, env = "RUDATA_CHECK_ALLOW_NETWORKS", value_delimiter = ',')]
    pub check_allow_networks: Vec<String>,
    /// Checks running at once on a node.
    #[arg(long, env = "RUDATA_CHECK_CONCURRENCY", default_value_t = 8)]
    pub check_concurrency: usize,
    /// Time to the next check after a change (the shortest interval).
    #[arg(long, env = "RUDATA_CHECK_MIN_INTERVAL", default_value = "12h")]
    pub check_min_interval: String,
    /// The longest interval, reached while nothing changes.
    #[arg(long, env = "RUDATA_CHECK_MAX_INTERVAL", default_value = "30d")]
    pub check_max_interval: String,
    /// Time one request (headers and body) may take.
    #[arg(long, env = "RUDATA_CHECK_TIMEOUT", default_value = "30s")]
    pub check_timeout: String,
    /// Bytes read and hashed at most from a remote file (suffixes K, M, G), unless its format has
    /// a limit of its own.
    #[arg(long, env = "RUDATA_CHECK_MAX_SIZE", default_value = "100M")]
    pub check_max_size: String,
    /// Limits per resource format, as format=size pairs separated by commas (udata-hydra's; an
    /// empty value leaves every format at RUDATA_CHECK_MAX_SIZE).
    #[arg(
        long,
        env = "RUDATA_CHECK_MAX_SIZE_BY_FORMAT",
        default_value = "csv=100M,csvgz=100M,xls=50M,xlsx=12800K,ods=10M,geojson=100M,parquet=50M,wms=1M,wfs=1M"
    )]
    pub check_max_size_by_format: String,
    /// Time between two requests of a node to the same host (0: no wait).
    #[arg(long, env = "RUDATA_CHECK_HOST_DELAY", default_value = "2s")]
    pub check_host_delay: String,
    /// Redirects followed at most.
    #[arg(long, env = "RUDATA_CHECK_MAX_REDIRECTS", default_value_t = 5)]
    pub check_max_redirects: usize,
}

impl CheckArgs {
    pub fn config(&self) -> anyhow::Result<CheckConfig> {
        let defaults = CheckConfig::default();
        let min_interval =
            positive_duration(&self.check_min_interval, "RUDATA_CHECK_MIN_INTERVAL")?;
        let max_interval =
            positive_duration(&self.check_max_interval, "RUDATA_CHECK_MAX_INTERVAL")?;
        anyhow::ensure!(
            max_interval >= min_interval,
            "RUDATA_CHECK_MAX_INTERVAL must not be less than RUDATA_CHECK_MIN_INTERVAL"
        );
        anyhow::ensure!(
            self.check_concurrency > 0,
            "RUDATA_CHECK_CONCURRENCY must be at least 1"
        );
        let timeout = positive_duration(&self.check_timeout, "RUDATA_CHECK_TIMEOUT")?;
        Ok(CheckConfig {
            enabled: self.check_enabled,
            allow_networks: self
                .check_allow_networks
                .iter()
                .filter(|n| !n.trim().is_empty())
                .map(|n| parse_trusted_proxy(n))
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("RUDATA_CHECK_ALLOW_NETWORKS: {e}"))?,
            concurrency: self.check_concurrency,
            min_interval,
            max_interval,
            timeout,
            max_size: parse_size(&self.check_max_size)?,
            max_size_by_format: sizes_by_format(&self.check_max_size_by_format)?,
            host_delay: parse_duration(&self.check_host_delay).map_err(anyhow::Error::msg)?,
            max_redirects: self.check_max_redirects,
            // Longer than a check can take (its two requests' timeouts), so a live check keeps it.
            lease: (timeout * 4).max(defaults.lease),
        })
    }
}

/// `csv=100M,xlsx=12800K`: a size per (lower-cased) format.
fn sizes_by_format(s: &str) -> anyhow::Result<Vec<(String, u64)>> {
    s.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (format, size) = pair.split_once('=').with_context(|| {
                format!("RUDATA_CHECK_MAX_SIZE_BY_FORMAT: {pair:?} is not format=size")
            })?;
            let format = format.trim().trim_start_matches('.').to_ascii_lowercase();
            anyhow::ensure!(
                !format.is_empty(),
                "RUDATA_CHECK_MAX_SIZE_BY_FORMAT: {pair:?} names no format"
            );
            let size = parse_size(size)
                .with_context(|| format!("RUDATA_CHECK_MAX_SIZE_BY_FORMAT: {pair:?}"))?;
            Ok((format, size))
        })
        .collect()
}

#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// The queue: how many remote resources are checked, due, running, unavailable, and the hosts
    /// with the most unavailable resources.
    Status,
    /// Runs the due checks now, in this process (beside any running server: they share the queue),
    /// with a progress bar in a terminal.
    Run {
        /// Makes every check due first (a full round).
        #[arg(long)]
        now: bool,
        #[command(flatten)]
        checks: CheckArgs,
    },
}

pub async fn run_checks_command(state: &AppState, command: ChecksCommand) -> anyhow::Result<()> {
    match command {
        ChecksCommand::Status => print_status(state).await,
        ChecksCommand::Run { now, checks } => {
            let mut state = state.clone();
            let config = checks.config()?;
            Arc::make_mut(&mut state.config).checks = config;
            if now {
                state.store.make_checks_due(chrono::Utc::now()).await?;
            }
            run_due(state).await
        }
    }
}

async fn print_status(state: &AppState) -> anyhow::Result<()> {
    let s = state.store.check_summary(chrono::Utc::now()).await?;
    println!("remote resources checked: {}", s.total);
    println!("checked at least once:    {}", s.checked);
    println!("due now:                  {}", s.due);
    println!("running:                  {}", s.running);
    println!("unavailable:              {}", s.unavailable);
    if !s.failing_hosts.is_empty() {
        println!("unavailable by host:");
        for (host, n) in &s.failing_hosts {
            println!("  {n:>8}  {host}");
        }
    }
    Ok(())
}

/// Drains the due checks, showing progress (`progress`: a bar in a terminal, lines otherwise).
async fn run_due(state: AppState) -> anyhow::Result<()> {
    let total = state.store.check_summary(chrono::Utc::now()).await?.due;
    let host_delay = state.config.checks.host_delay;
    let runner = crate::jobs::checks::Runner::new(state.clone())?;
    let mut progress = super::progress::Progress::new("checks recorded", total.max(0) as u64);
    let mut done: i64 = 0;
    loop {
        let round = runner.round().await?;
        if round.taken == 0 {
            // Checks put back to wait for their host's turn are due within the host delay.
            let soon = chrono::Utc::now() + chrono::Duration::from_std(host_delay)?;
            if host_delay.is_zero() || state.store.check_summary(soon).await?.due == 0 {
                break;
            }
            tokio::time::sleep(host_delay / 4).await;
            continue;
        }
        done += round.recorded as i64;
        progress.set(done.max(0) as u64);
    }
    progress.finish();
    println!("{done} check(s) recorded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        checks: super::CheckArgs,
    }

    #[test]
    fn the_default_sizes_by_format_are_the_configurations() {
        let cli = Cli::parse_from(["rudata"]);
        let config = cli.checks.config().unwrap();
        assert_eq!(
            config.max_size_by_format,
            crate::config::CheckConfig::default().max_size_by_format
        );
        assert_eq!(config.max_size_for(Some(" .CSV")), 100 << 20);
        assert_eq!(config.max_size_for(Some("xlsx")), 13_107_200);
        assert_eq!(config.max_size_for(Some("pdf")), config.max_size);
        assert_eq!(config.max_size_for(None), config.max_size);
    }

    #[test]
    fn sizes_by_format_are_read_and_refused_when_malformed() {
        assert_eq!(
            super::sizes_by_format(" CSV=2K, json=1M ,").unwrap(),
            [("csv".to_string(), 2048), ("json".to_string(), 1 << 20)]
        );
        assert!(super::sizes_by_format("").unwrap().is_empty());
        for bad in ["csv", "=1M", "csv=lots"] {
            assert!(super::sizes_by_format(bad).is_err(), "{bad}");
        }
    }
}
