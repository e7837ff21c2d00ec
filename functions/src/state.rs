//! What an execution environment keeps between invocations.
//!
//! Lambda reuses a process for many invocations, so the Redis client is made
//! once and shared. It is made lazily, on the first request that needs it:
//! at a cold start with Redis down the function must still start and answer
//! 503, not crash. Any Redis failure drops the client, so the next request
//! connects afresh: once Redis is back, the next request succeeds without a
//! restart. A reply Redis refuses (a command or script error) says nothing
//! about the connection: it is a 500, logged, and the client is kept.
//! Every Redis step of a request runs under REDIS_TIMEOUT, so a dead
//! or hung server gives a 503 in bounded time, never a Lambda timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use taskq::{Config, ConfigError, Queue};
use tokio::sync::Mutex;

use crate::error::ApiError;

/// Shared by every invocation of one function (or every request of the
/// local router). Cheap to clone.
#[derive(Clone)]
pub struct State {
    inner: Arc<Inner>,
}

struct Inner {
    /// Read once from the environment.
    cfg: Arc<Config>,
    /// The client, once connected, with the generation that made it: a
    /// failure only drops the client it happened on, not a newer one.
    queue: Mutex<Option<(u64, Queue)>>,
    /// Counts connects, to tell clients apart.
    generation: std::sync::atomic::AtomicU64,
}

impl State {
    /// Reads the environment and sets up logging: what every function's `main` does first.
    pub fn from_env() -> Result<State, ConfigError> {
        let cfg = Config::from_env()?;
        taskq::logging::init(cfg.log_format);
        Ok(State::new(cfg))
    }

    /// A state for `cfg` (tests, the local server). Connects on first use.
    pub fn new(cfg: Config) -> State {
        State {
            inner: Arc::new(Inner {
                cfg: Arc::new(cfg),
                queue: Mutex::new(None),
                generation: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.cfg
    }

    /// Runs `f` with the client; the whole of it (connecting included) must
    /// finish within REDIS_TIMEOUT.
    pub async fn run<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(Queue) -> Fut,
        Fut: Future<Output = Result<T, taskq::Error>>,
    {
        self.run_within(self.config().redis_timeout, f).await
    }

    /// Runs `f` with the client, connecting within REDIS_TIMEOUT, then for as
    /// long as `f` needs: for work made of many bounded Redis calls (purge),
    /// each of which already fails after REDIS_TIMEOUT.
    pub async fn run_long<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(Queue) -> Fut,
        Fut: Future<Output = Result<T, taskq::Error>>,
    {
        let (generation, queue) = self.client().await?;
        self.settle(generation, f(queue).await)
    }

    async fn run_within<T, F, Fut>(&self, limit: Duration, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(Queue) -> Fut,
        Fut: Future<Output = Result<T, taskq::Error>>,
    {
        let mut generation = None;
        let work = async {
            let (g, queue) = self.client().await?;
            generation = Some(g);
            Ok::<_, ApiError>(f(queue).await)
        };
        match tokio::time::timeout(limit, work).await {
            Ok(Ok(result)) => self.settle(generation.unwrap_or(0), result),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                tracing::warn!(timeout_ms = limit.as_millis() as u64, "redis call timed out");
                if let Some(g) = generation {
                    self.drop_client(g).await;
                }
                Err(ApiError::RedisUnavailable)
            }
        }
    }

    /// Maps the result of a call on client `generation`; drops that client on a Redis error.
    fn settle<T>(&self, generation: u64, result: Result<T, taskq::Error>) -> Result<T, ApiError> {
        match result {
            Ok(v) => Ok(v),
            Err(taskq::Error::Redis(e)) if !taskq::connection::is_outage(&e) => {
                tracing::error!(error = %e, "redis refused a call");
                Err(ApiError::Internal)
            }
            Err(taskq::Error::Redis(e)) => {
                tracing::warn!(error = %e, "redis call failed");
                let this = self.clone();
                // Dropping needs the lock; never make the answer wait for it.
                tokio::spawn(async move { this.drop_client(generation).await });
                Err(ApiError::RedisUnavailable)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The client, connecting if there is none. Connects one at a time, so a
    /// burst of requests after a failure makes one connection, not many.
    async fn client(&self) -> Result<(u64, Queue), ApiError> {
        let mut slot = self.inner.queue.lock().await;
        if let Some((g, q)) = slot.as_ref() {
            return Ok((*g, q.clone()));
        }
        let cfg = (*self.inner.cfg).clone();
        match tokio::time::timeout(self.config().redis_timeout, Queue::connect(cfg)).await {
            Ok(Ok(q)) => {
                let g = self.inner.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                *slot = Some((g, q.clone()));
                Ok((g, q))
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, redis = %self.config().redis_url_redacted(), "cannot connect to redis");
                Err(ApiError::RedisUnavailable)
            }
            Err(_) => {
                tracing::warn!(redis = %self.config().redis_url_redacted(), "connecting to redis timed out");
                Err(ApiError::RedisUnavailable)
            }
        }
    }

    async fn drop_client(&self, generation: u64) {
        let mut slot = self.inner.queue.lock().await;
        if slot.as_ref().is_some_and(|(g, _)| *g == generation) {
            *slot = None;
        }
    }
}
