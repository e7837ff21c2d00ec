//! `worker`: runs taskq jobs until SIGTERM or SIGINT.

use clap::Parser;
use taskq::Config;
use tokio_util::sync::CancellationToken;

/// Runs the jobs of the configured queues (high before default) until
/// SIGTERM or SIGINT, then stops gracefully: no new jobs, running jobs get
/// SHUTDOWN_GRACE to finish, the rest go back to their queue.
///
/// Run several processes (or machines) for more capacity: each is one worker
/// with WORKER_CONCURRENCY slots.
#[derive(Parser, Debug)]
#[command(version, after_long_help = taskq::config::help_text(), after_help = "Every option can also be set by its environment variable; --help lists them all.")]
struct Cli {
    /// Queues in priority order [env: QUEUES]
    #[arg(long, short)]
    queues: Option<String>,
    /// Jobs run at once [env: WORKER_CONCURRENCY]
    #[arg(long, short)]
    concurrency: Option<String>,
    /// Redis URL [env: REDIS_URL]
    #[arg(long)]
    redis_url: Option<String>,
    /// Seconds running jobs get to finish on shutdown [env: SHUTDOWN_GRACE]
    #[arg(long)]
    shutdown_grace: Option<String>,
    /// json or text [env: LOG_FORMAT]
    #[arg(long)]
    log_format: Option<String>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let overrides = [
        ("QUEUES", &cli.queues),
        ("WORKER_CONCURRENCY", &cli.concurrency),
        ("REDIS_URL", &cli.redis_url),
        ("SHUTDOWN_GRACE", &cli.shutdown_grace),
        ("LOG_FORMAT", &cli.log_format),
    ];
    let cfg = match Config::from_lookup(|k| {
        overrides.iter().find(|(n, _)| *n == k).and_then(|(_, v)| (*v).clone()).or_else(|| std::env::var(k).ok())
    }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("worker: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    taskq::logging::init(cfg.log_format);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(run(cfg)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "worker failed");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cfg: Config) -> anyhow::Result<()> {
    #[cfg(feature = "aws")]
    worker::aws::use_credential_chain(&cfg).await;
    let worker = worker::Worker::connect(cfg, worker::tasks::registry()).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(worker::signals::stop_on_signal(shutdown.clone(), || {
        tracing::info!("signal received: shutting down")
    }));
    worker.run(shutdown).await
}
