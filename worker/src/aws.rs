//! AWS credentials for IAM authentication to ElastiCache, from aws-config's
//! full chain: the environment, profiles, web identity, the ECS task role
//! (where the worker runs in AWS), the EC2 instance profile.
//!
//! Compiled with the `aws` feature (on in the worker's image). Without it the
//! worker reads credentials from the environment only, as the Lambda
//! functions do, which keeps aws-config out of every other build.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use taskq::Config;
use taskq::iam::{Credentials, CredentialsFuture, CredentialsSource};
use tokio::sync::Mutex;

/// Credentials are fetched again this long before they expire.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Makes the AWS credential chain the source of this process's IAM tokens,
/// when the configuration asks for IAM authentication (REDIS_IAM_USER).
/// Call it before connecting.
pub async fn use_credential_chain(cfg: &Config) {
    if cfg.redis_iam_user.is_none() {
        return;
    }
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    match aws.credentials_provider() {
        Some(provider) => {
            taskq::iam::set_credentials_source(Arc::new(ChainCredentials { provider, cached: Mutex::new(None) }));
        }
        None => tracing::warn!("no AWS credential provider found; IAM tokens will use the environment's credentials"),
    }
}

/// The chain, with the last credentials kept until shortly before they expire.
struct ChainCredentials {
    provider: SharedCredentialsProvider,
    /// The last credentials and when they expire (never, for long-term keys).
    cached: Mutex<Option<(Credentials, Option<SystemTime>)>>,
}

impl CredentialsSource for ChainCredentials {
    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move {
            let mut cached = self.cached.lock().await;
            if let Some((credentials, expiry)) = cached.as_ref() {
                let fresh = expiry.is_none_or(|at| SystemTime::now() + RENEW_BEFORE < at);
                if fresh {
                    return Ok(credentials.clone());
                }
            }
            let got = self
                .provider
                .provide_credentials()
                .await
                .map_err(|e| format!("AWS credentials: {}", aws_smithy_error(&e)))?;
            let credentials = Credentials {
                access_key_id: got.access_key_id().to_owned(),
                secret_access_key: got.secret_access_key().to_owned(),
                session_token: got.session_token().map(str::to_owned),
            };
            *cached = Some((credentials.clone(), got.expiry()));
            Ok(credentials)
        })
    }
}

/// The error with its causes, which is where the chain says what it tried.
fn aws_smithy_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
