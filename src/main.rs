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

/// How long mimalloc keeps memory freed before it gives it back to the system, in milliseconds.
/// Its default (1 s in mimalloc 3) keeps a second of the buffers a large upload streams through
/// resident: a 1 GiB upload grew the release server by 67–81 MiB; with 10 ms (mimalloc 2's
/// default), by 38–49 MiB, for a few percent on cached reads at most (`BENCHMARKS.md`).
const PURGE_DELAY_MS: &str = "10";

/// mimalloc reads its options from the environment before `main`, and a setter would need
/// `unsafe`: so the process starts itself again at once (the same process id, arguments and
/// environment) with the purge delay set, unless the operator has set one.
#[cfg(unix)]
fn with_allocator_options() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MIMALLOC_PURGE_DELAY";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    // `exec` returns only when it failed: then this process goes on as it is.
    let _ = command.args(args).env(VAR, PURGE_DELAY_MS).exec();
}

fn main() -> std::process::ExitCode {
    #[cfg(unix)]
    with_allocator_options();
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
