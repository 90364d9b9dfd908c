//! `rudata`: parse the command line, set up logging, run.

use clap::Parser;
use rudata::cli::{Cli, Command, open, run_command, serve};

/// mimalloc rather than glibc's allocator: a catalog export spent a fifth of its time in malloc and
/// free (`perf`), and every request allocates. Built without transparent huge pages (`no_thp`):
/// with them, mimalloc asked the kernel for 2 MiB pages for its regions, and the streams of
/// buffers of a large upload kept whole huge pages resident: a 1 GiB upload grew the server by
/// 84–96 MiB, 35–53 MiB without (and the idle server is 29 MiB instead of 41).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal; plain lines for a file or a log collector.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(&cli.global, args).await,
            command => {
                let check_key = !matches!(command, Command::Migrate);
                let state = open(&cli.global, check_key).await?;
                let result = run_command(&state, cli.global.actor.as_deref(), command).await;
                state.store.close().await;
                result
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
