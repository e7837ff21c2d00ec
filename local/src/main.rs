//! `local`: taskq on one machine.
//!
//! With no subcommand it runs the whole system (see [`serve`]); `bench`
//! measures the queue and the worker. The operator commands (info, enqueue,
//! jobs, status, watch, cancel, reschedule, purge, requeue, schedules) are further
//! variants of [`Command`].

mod bench;
mod ops;
mod redis_server;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// taskq on one machine: the whole system, a benchmark, and operator commands.
#[derive(Parser, Debug)]
#[command(version, after_long_help = taskq::config::help_text(), after_help = "Configuration comes from environment variables; --help lists them all.")]
struct Cli {
    /// What to do; with none, run the whole system: Redis, the API with
    /// /docs and /dashboard, and a worker on every queue.
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: serve::ServeArgs,
    /// Operator commands: print one JSON document instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Measure enqueue and drain rates, latencies and worker memory against a
    /// private redis-server (or --redis-url) and the release `worker` binary.
    Bench(bench::BenchArgs),
    #[command(flatten)]
    Op(ops::Op),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The benchmark makes its own configuration; everything else reads the environment.
    let cfg = match &cli.command {
        Some(Command::Bench(_)) => None,
        _ => match taskq::Config::from_env() {
            Ok(cfg) => Some(cfg),
            Err(e) => {
                eprintln!("local: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("local: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match (cli.command, cfg) {
        (Some(Command::Bench(args)), _) => rt.block_on(bench::run(args)),
        (Some(Command::Op(op)), Some(cfg)) => rt.block_on(ops::run(cfg, op, cli.json)),
        (None, Some(cfg)) => {
            taskq::logging::init(cfg.log_format);
            rt.block_on(serve::run(cfg, cli.serve))
        }
        (_, None) => unreachable!("configuration read above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local: {e:#}");
            ExitCode::FAILURE
        }
    }
}
