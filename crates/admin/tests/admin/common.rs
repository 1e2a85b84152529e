//! What the Admin API tests share: a world over a fresh database of either backend, the
//! router of a listener serving `adminapi`, tokens of every kind, and calls through it.

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, to_bytes},
    http::{Request, StatusCode, header},
};
use chrono::{DateTime, TimeZone as _, Utc};
use portcullis_config::sections::http::{Resource, ResourceName};
use portcullis_homeserver::MemoryHomeserver;
use portcullis_http::{AppParts, AppState, Mounted, site_config::SiteConfig};
use portcullis_keys::{Encrypter, EncryptionKey, Keystore, PrivateKey};
use portcullis_model::{Clock as _, MockClock, OAuthClient, User};
use portcullis_oauth::token::TokenType;
use portcullis_storage::NewOAuthSession;
use portcullis_storage_sql::Database;
use portcullis_urls::UrlBuilder;
use serde_json::Value;
use tower::ServiceExt as _;
use ulid::Ulid;

const TEST_CONFIG: &str = "http:\n  public_base: https://auth.example.com/\nsecrets:\n  encryption: 0000000000000000000000000000000000000000000000000000000000000000\n  keys:\n    - key: unused\nmatrix:\n  homeserver: example.com\n  secret: unused\npasswords:\n  schemes:\n    - version: 1\n      algorithm: argon2id\n";

/// Declares a scenario that runs on SQLite and on PostgreSQL.
macro_rules! admin_test {
    (async fn $name:ident($world:ident: World $(,)?) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($world: crate::common::World) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                portcullis_storage_sql::testing::run_on_sqlite(true, |db| async move {
                    scenario(crate::common::World::new(db).await).await;
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                portcullis_storage_sql::testing::run_on_postgres(true, |db| async move {
                    scenario(crate::common::World::new(db).await).await;
                })
                .await;
            }
        }
    };
}

/// A world: the state, the router, the homeserver and the clock.
pub struct World {
    #[allow(dead_code, reason = "for the scenarios that need it")]
    pub state: AppState,
    pub router: Router,
    pub database: Database,
    pub homeserver: Arc<MemoryHomeserver>,
    pub clock: MockClock,
    /// A client for the tokens the tests make.
    pub client: OAuthClient,
}

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("valid instant")
}

impl World {
    pub async fn new(database: Database) -> Self {
        let config = portcullis_config::load_documents(
            &[("test.yaml".to_owned(), TEST_CONFIG.to_owned())],
            std::env::temp_dir(),
            &|_| None,
        )
        .expect("the test configuration is valid")
        .config;
        let key = PrivateKey::load(
            include_bytes!("../../../config/tests/fixtures/keys/rsa-2048.pkcs1.pem"),
            None,
        )
        .expect("the fixture key loads");
        let clock = MockClock::new(start());
        let homeserver = Arc::new(MemoryHomeserver::new(config.matrix.homeserver.clone()));
        let state = AppState::new(AppParts {
            database: database.clone(),
            trusted_proxies: vec![],
            urls: UrlBuilder::new(
                config.http.public_base.clone(),
                config.http.issuer().clone(),
            ),
            site: SiteConfig::from_config(&config),
            keystore: Keystore::new(vec![(Some("k1".to_owned()), key)]).expect("one key"),
            encrypter: Encrypter::new(
                EncryptionKey::from_hex(&"ab".repeat(32)).expect("valid key"),
            ),
            clock: Arc::new(clock.clone()),
            passwords: portcullis_passwords::PasswordManager::new(&config.passwords)
                .expect("default schemes"),
            templates: portcullis_templates::Templates::load(None).expect("embedded templates"),
            policy: portcullis_policy::SharedPolicy::new(
                portcullis_services::policy::loader(&config).expect("the built-in policy"),
            )
            .expect("the built-in policy"),
            homeserver_secret: None,
            homeserver: homeserver.clone(),
            app_services: Vec::new(),
        });
        let router = portcullis_http::router(
            &[Resource::new(ResourceName::AdminApi)],
            None,
            state.clone(),
            &Mounted {
                admin_api: Some(portcullis_admin::router()),
                ..Mounted::default()
            },
        )
        .expect("the Admin API is mounted");
        let mut tx = database.transaction().await.expect("a transaction");
        let client = tx
            .oauth_clients()
            .upsert_static(&OAuthClient {
                id: Ulid::from_parts(1, 1),
                client_id: "admin-tool".to_owned(),
                is_static: true,
                client_auth_method: "client_secret_basic".parse().expect("valid"),
                grant_types: vec!["client_credentials".parse().expect("valid")],
                created_at: start(),
                ..OAuthClient::default()
            })
            .await
            .expect("the client is stored");
        tx.commit().await.expect("committed");
        Self {
            state,
            router,
            database,
            homeserver,
            clock,
            client,
        }
    }

    /// A user, created at the world's instant; the clock then moves one second, so that users
    /// are listed in the order they were made.
    pub async fn user(&self, username: &str) -> User {
        let mut tx = self.database.transaction().await.expect("a transaction");
        let user = tx
            .users()
            .add(username, self.clock.now())
            .await
            .expect("added");
        tx.commit().await.expect("committed");
        self.clock.advance(chrono::TimeDelta::seconds(1));
        user
    }

    /// An access token of a session with `scope`, for `user` (or the client itself).
    pub async fn token(&self, user: Option<&User>, scope: &str) -> String {
        let mut tx = self.database.transaction().await.expect("a transaction");
        let session = tx
            .oauth_sessions()
            .add(
                &NewOAuthSession {
                    client_id: self.client.id,
                    user_id: user.map(|user| user.id),
                    user_session_id: None,
                    scope: scope.parse().expect("a scope"),
                    user_agent: None,
                    human_name: None,
                },
                self.clock.now(),
            )
            .await
            .expect("session");
        let token = TokenType::AccessToken.generate(&mut rand::thread_rng());
        tx.oauth_access_tokens()
            .add(
                &session,
                &token,
                Some(self.clock.now() + chrono::TimeDelta::minutes(5)),
                self.clock.now(),
            )
            .await
            .expect("token");
        tx.commit().await.expect("committed");
        token
    }

    /// An admin token of the client itself (client credentials).
    pub async fn admin_token(&self) -> String {
        self.token(None, "urn:mas:admin").await
    }

    /// Sends a request with `token` (if any) and, for `Some(body)`, a JSON body.
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).expect("a request"))
            .await
            .expect("the router answers");
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("a body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, value)
    }

    /// `GET uri` with an admin token.
    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let token = self.admin_token().await;
        self.call("GET", uri, Some(&token), None).await
    }

    /// `POST uri` with an admin token.
    pub async fn post(&self, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let token = self.admin_token().await;
        self.call("POST", uri, Some(&token), body).await
    }
}

/// The one error title of an error answer.
pub fn title(body: &Value) -> &str {
    body["errors"][0]["title"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error answer: {body}"))
}

/// The ids of the rows of a list answer, in order.
pub fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {body}"))
        .iter()
        .map(|row| row["id"].as_str().expect("an id").to_owned())
        .collect()
}
