//! How taskq dials Redis, for single-node and cluster connections alike:
//! timeouts, reconnection and credentials.

use std::time::Duration;

use redis::aio::ConnectionManagerConfig;

use crate::iam::IamAuth;

/// A self-healing command connection's settings: it reconnects by itself,
/// and every call fails after `response_timeout`.
pub(crate) fn manager_config(
    connect_timeout: Duration,
    response_timeout: Duration,
    iam: Option<&IamAuth>,
) -> ConnectionManagerConfig {
    let conf = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(1));
    match iam {
        Some(iam) => conf.set_credentials_provider(iam.clone()),
        None => conf,
    }
}

/// A one-off connection's settings (questions asked at connect time).
pub(crate) fn probe_config(timeout: Duration, iam: Option<&IamAuth>) -> redis::AsyncConnectionConfig {
    let conf =
        redis::AsyncConnectionConfig::new().set_connection_timeout(Some(timeout)).set_response_timeout(Some(timeout));
    match iam {
        Some(iam) => conf.set_credentials_provider(iam.clone()),
        None => conf,
    }
}
