//! IAM authentication to ElastiCache: no password exists; a client proves it
//! holds AWS credentials allowed `elasticache:Connect` on the cache and on an
//! IAM-enabled cache user.
//!
//! The password is a token: the SigV4-presigned URL
//! `GET https://<cache>/?Action=connect&User=<user id>` (plus
//! `&ResourceType=ServerlessCache` for a serverless cache), signed for the
//! service `elasticache` in the cache's region, valid for 15 minutes, without
//! its `https://`. ElastiCache checks it when a connection authenticates
//! (AUTH or HELLO) and closes IAM-authenticated connections after 12 hours
//! unless they authenticate again; so [`IamAuth`] signs a fresh token for
//! every new connection and re-authenticates open ones every [`REFRESH`].
//!
//! The signature is computed here (HMAC-SHA256, as AWS documents it) rather
//! than with the AWS SDK, which would more than double the size of a Lambda
//! function. A test checks it against botocore's presigner.
//!
//! Credentials come from a [`CredentialsSource`]: by default the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), where
//! Lambda puts a function's role credentials. A program whose credentials
//! live elsewhere (the worker on ECS) installs its own source with
//! [`set_credentials_source`] before it connects.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc};
use futures_util::Stream;
use hmac::{Hmac, Mac};
use redis::{BasicAuth, ErrorKind, RedisError, RedisResult, StreamingCredentialsProvider};
use sha2::{Digest, Sha256};

use crate::config::Config;

/// How long a token is valid, in seconds: the most ElastiCache accepts.
pub const EXPIRES_SECS: u64 = 900;

/// How often open connections authenticate again with a fresh token: well
/// within both the token's 15 minutes and the connection's 12 hours.
pub const REFRESH: Duration = Duration::from_secs(600);

/// AWS credentials: an access key, and a session token when they are temporary.
#[derive(Clone)]
pub struct Credentials {
    /// The access key id (`AKIA...`, or `ASIA...` when temporary).
    pub access_key_id: String,
    /// The secret that signs.
    pub secret_access_key: String,
    /// Present with temporary credentials (roles); sent with the token.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// What a token grants: connecting to one cache as one user.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// The IAM-enabled cache user's id (for such users, also its name).
    pub user_id: &'a str,
    /// The serverless cache's name or the replication group's id, lower case.
    pub cache_name: &'a str,
    /// The cache's AWS region.
    pub region: &'a str,
    /// Whether the cache is serverless (the request then names the resource type).
    pub serverless: bool,
}

/// The token for `request`, signed with `credentials` at `now`.
pub fn token(request: &TokenRequest<'_>, credentials: &Credentials, now: DateTime<Utc>) -> String {
    // By hand: chrono's format strings would add some 35 KB to every function.
    let date = format!("{:04}{:02}{:02}", now.year(), now.month(), now.day());
    let timestamp = format!("{date}T{:02}{:02}{:02}Z", now.hour(), now.minute(), now.second());
    let scope = format!("{date}/{}/elasticache/aws4_request", request.region);

    // Query parameters in the order botocore writes them: the operation's,
    // then the signature's; the signature itself comes last.
    let mut params: Vec<(&str, String)> = vec![("Action", "connect".into()), ("User", request.user_id.into())];
    if request.serverless {
        params.push(("ResourceType", "ServerlessCache".into()));
    }
    params.push(("X-Amz-Algorithm", "AWS4-HMAC-SHA256".into()));
    params.push(("X-Amz-Credential", format!("{}/{scope}", credentials.access_key_id)));
    params.push(("X-Amz-Date", timestamp.clone()));
    params.push(("X-Amz-Expires", EXPIRES_SECS.to_string()));
    params.push(("X-Amz-SignedHeaders", "host".into()));
    if let Some(session_token) = &credentials.session_token {
        params.push(("X-Amz-Security-Token", session_token.clone()));
    }
    let encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (uri_encode(k), uri_encode(v))).collect();

    let mut canonical_query = encoded.clone();
    canonical_query.sort();
    let canonical_query: Vec<String> = canonical_query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let empty_body = hex::encode(Sha256::digest(b""));
    let canonical_request =
        format!("GET\n/\n{}\nhost:{}\n\nhost\n{empty_body}", canonical_query.join("&"), request.cache_name);
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request)));

    let key = [date.as_str(), request.region, "elasticache", "aws4_request"]
        .iter()
        .fold(format!("AWS4{}", credentials.secret_access_key).into_bytes(), |key, part| hmac(&key, part.as_bytes()));
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));

    let query: Vec<String> = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}/?{}&X-Amz-Signature={signature}", request.cache_name, query.join("&"))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// SigV4's URI encoding: everything but `A-Z a-z 0-9 - _ . ~` as `%XX`.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What [`CredentialsSource::credentials`] returns.
pub type CredentialsFuture<'a> = Pin<Box<dyn Future<Output = Result<Credentials, String>> + Send + 'a>>;

/// Where AWS credentials come from. Asked before every token, so it may
/// rotate them (a source should cache them while they are valid).
pub trait CredentialsSource: Send + Sync {
    /// Current credentials, or why there are none.
    fn credentials(&self) -> CredentialsFuture<'_>;
}

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN`, as Lambda sets them.
#[derive(Debug, Default)]
pub struct EnvCredentials;

impl CredentialsSource for EnvCredentials {
    fn credentials(&self) -> CredentialsFuture<'_> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let found = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => {
                Ok(Credentials { access_key_id, secret_access_key, session_token: var("AWS_SESSION_TOKEN") })
            }
            _ => Err("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set".to_owned()),
        };
        Box::pin(std::future::ready(found))
    }
}

static SOURCE: OnceLock<Arc<dyn CredentialsSource>> = OnceLock::new();

/// Makes `source` the credentials of every IAM-authenticated connection of
/// this process, instead of the environment. Call it once, before the first
/// connection; returns false (and changes nothing) if a source was already set.
pub fn set_credentials_source(source: Arc<dyn CredentialsSource>) -> bool {
    SOURCE.set(source).is_ok()
}

fn credentials_source() -> Arc<dyn CredentialsSource> {
    SOURCE.get_or_init(|| Arc::new(EnvCredentials)).clone()
}

/// IAM authentication for every connection to one cache: a Redis credentials
/// provider that signs a fresh token on each connection and every [`REFRESH`].
#[derive(Clone)]
pub struct IamAuth {
    user_id: Arc<str>,
    cache_name: Arc<str>,
    region: Arc<str>,
    serverless: bool,
    source: Arc<dyn CredentialsSource>,
}

impl std::fmt::Debug for IamAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamAuth")
            .field("user_id", &self.user_id)
            .field("cache_name", &self.cache_name)
            .field("region", &self.region)
            .field("serverless", &self.serverless)
            .finish_non_exhaustive()
    }
}

impl IamAuth {
    /// The IAM authentication `cfg` asks for (REDIS_IAM_USER, REDIS_IAM_CACHE,
    /// AWS_REGION), if any. The cache is taken as serverless when REDIS_URL
    /// is a serverless endpoint (`<name>-<id>.serverless.<region>.cache.amazonaws.com`).
    pub fn from_config(cfg: &Config) -> Option<IamAuth> {
        let (user, cache, region) =
            (cfg.redis_iam_user.as_ref()?, cfg.redis_iam_cache.as_ref()?, cfg.aws_region.as_ref()?);
        Some(IamAuth {
            // ElastiCache stores both ids in lower case and signs against that.
            user_id: user.to_ascii_lowercase().into(),
            cache_name: cache.to_ascii_lowercase().into(),
            region: region.as_str().into(),
            serverless: cfg.redis_url.contains(".serverless."),
            source: credentials_source(),
        })
    }

    /// The user to authenticate as and a token signed now.
    pub async fn basic_auth(&self) -> RedisResult<BasicAuth> {
        let credentials = self.source.credentials().await.map_err(|why| {
            RedisError::from((ErrorKind::AuthenticationFailed, "no AWS credentials for the IAM token", why))
        })?;
        let request = TokenRequest {
            user_id: &self.user_id,
            cache_name: &self.cache_name,
            region: &self.region,
            serverless: self.serverless,
        };
        Ok(BasicAuth::new(self.user_id.to_string(), token(&request, &credentials, Utc::now())))
    }
}

impl StreamingCredentialsProvider for IamAuth {
    /// A fresh token at once (for a new connection), then one every [`REFRESH`]
    /// (to authenticate an open connection again).
    fn subscribe(&self) -> Pin<Box<dyn Stream<Item = RedisResult<BasicAuth>> + Send + 'static>> {
        Box::pin(futures_util::stream::unfold((self.clone(), true), |(auth, first)| async move {
            if !first {
                tokio::time::sleep(REFRESH).await;
            }
            let next = auth.basic_auth().await;
            Some((next, (auth, false)))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use futures_util::StreamExt;

    fn example_credentials(session_token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: session_token.map(Into::into),
        }
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
    }

    /// The expected tokens come from botocore's presigner (botocore 1.43),
    /// the signer of the AWS SDK for Python, for the same inputs. To make
    /// them again (`pip install botocore`):
    ///
    /// ```python
    /// import datetime
    /// from unittest import mock
    /// import botocore.auth, botocore.session
    /// from botocore.credentials import Credentials
    /// from botocore.model import ServiceId
    /// from botocore.signers import RequestSigner
    ///
    /// def token(user, cache, region, serverless, session_token):
    ///     creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", session_token)
    ///     signer = RequestSigner(ServiceId("elasticache"), region, "elasticache", "v4", creds,
    ///                            botocore.session.get_session().get_component("event_emitter"))
    ///     query = f"Action=connect&User={user}" + ("&ResourceType=ServerlessCache" if serverless else "")
    ///     fixed = datetime.datetime(2026, 11, 29, 12, 0, 0)
    ///     with mock.patch.object(botocore.auth, "get_current_datetime", return_value=fixed):
    ///         url = signer.generate_presigned_url(
    ///             {"method": "GET", "url": f"https://{cache}/?{query}", "body": {}, "headers": {}, "context": {}},
    ///             operation_name="connect", expires_in=900, region_name=region)
    ///     return url.removeprefix("https://")
    ///
    /// print(token("taskq-app", "taskq", "us-east-1", True, "FQoGZXIvYXdzEXAMPLE/token+with=chars"))
    /// print(token("taskq-app", "my-cluster", "eu-west-1", False, None))
    /// ```
    #[test]
    fn tokens_match_botocore() {
        let serverless =
            TokenRequest { user_id: "taskq-app", cache_name: "taskq", region: "us-east-1", serverless: true };
        assert_eq!(
            token(&serverless, &example_credentials(Some("FQoGZXIvYXdzEXAMPLE/token+with=chars")), noon()),
            "taskq/?Action=connect&User=taskq-app&ResourceType=ServerlessCache&X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20261129%2Fus-east-1%2Felasticache%2Faws4_request\
             &X-Amz-Date=20261129T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
             &X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2Ftoken%2Bwith%3Dchars\
             &X-Amz-Signature=f5e7176074eaa9b2aed9c118c2d30ea1c4823cfe31896957974b7e932913fef0"
        );
        let provisioned =
            TokenRequest { user_id: "taskq-app", cache_name: "my-cluster", region: "eu-west-1", serverless: false };
        assert_eq!(
            token(&provisioned, &example_credentials(None), noon()),
            "my-cluster/?Action=connect&User=taskq-app&X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20261129%2Feu-west-1%2Felasticache%2Faws4_request\
             &X-Amz-Date=20261129T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=441b912b3f70febd6d2ca40fb5eb0c192d0c1047bb568343423f2677a7e74396"
        );
    }

    #[test]
    fn uri_encoding_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(uri_encode("a/b+c=d e"), "a%2Fb%2Bc%3Dd%20e");
        assert_eq!(uri_encode("é"), "%C3%A9");
    }

    #[test]
    fn credentials_never_show_the_secret() {
        let shown = format!("{:?}", example_credentials(Some("session")));
        assert!(shown.contains("AKIDEXAMPLE"));
        assert!(!shown.contains("wJalr") && !shown.contains("session"), "{shown}");
    }

    struct Fixed;

    impl CredentialsSource for Fixed {
        fn credentials(&self) -> CredentialsFuture<'_> {
            Box::pin(std::future::ready(Ok(example_credentials(None))))
        }
    }

    fn iam_config(url: &str) -> Config {
        Config {
            redis_url: url.into(),
            redis_iam_user: Some("Taskq-App".into()),
            redis_iam_cache: Some("TaskQ".into()),
            aws_region: Some("us-east-1".into()),
            ..Config::default()
        }
    }

    #[test]
    fn configuration_chooses_the_resource_type() {
        let serverless =
            IamAuth::from_config(&iam_config("rediss://taskq-abc123.serverless.use1.cache.amazonaws.com:6379"))
                .expect("IAM configured");
        assert!(serverless.serverless);
        assert_eq!((&*serverless.user_id, &*serverless.cache_name), ("taskq-app", "taskq"));
        let group = IamAuth::from_config(&iam_config("rediss://master.taskq.abc123.use1.cache.amazonaws.com:6379"))
            .expect("IAM configured");
        assert!(!group.serverless);
        assert!(IamAuth::from_config(&Config::default()).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_come_at_once_then_every_refresh() {
        let auth = IamAuth {
            user_id: "taskq-app".into(),
            cache_name: "taskq".into(),
            region: "us-east-1".into(),
            serverless: true,
            source: Arc::new(Fixed),
        };
        let started = tokio::time::Instant::now();
        let mut tokens = auth.subscribe();
        let first = tokens.next().await.expect("a token").expect("signed");
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(first.username(), "taskq-app");
        assert!(first.password().starts_with("taskq/?Action=connect&User=taskq-app&ResourceType=ServerlessCache&"));
        tokens.next().await.expect("a token").expect("signed");
        assert_eq!(started.elapsed(), REFRESH);
    }

    #[tokio::test]
    async fn missing_credentials_fail_authentication() {
        struct None_;
        impl CredentialsSource for None_ {
            fn credentials(&self) -> CredentialsFuture<'_> {
                Box::pin(std::future::ready(Err("nothing here".to_owned())))
            }
        }
        let auth = IamAuth {
            user_id: "u".into(),
            cache_name: "c".into(),
            region: "us-east-1".into(),
            serverless: true,
            source: Arc::new(None_),
        };
        let err = auth.basic_auth().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
        assert!(err.to_string().contains("nothing here"), "{err}");
    }
}
