//! What the HTTP tests share: an application state over a real, migrated SQLite database, a
//! mock clock, and helpers to drive the real router.

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, to_bytes},
    http::{Request, Response, header},
};
use chrono::{TimeZone as _, Utc};
use portcullis_config::sections::http::{Resource, ResourceName};
use portcullis_homeserver::MemoryHomeserver;
use portcullis_http::{AppParts, AppState, Mounted, site_config::SiteConfig};
use portcullis_keys::{Encrypter, EncryptionKey, Keystore, PrivateKey};
use portcullis_model::MockClock;
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions};
use portcullis_urls::UrlBuilder;
use tower::ServiceExt as _;

/// The homeserver's shared secret in test states.
pub const HOMESERVER_SECRET: &str = "test-homeserver-secret";

const TEST_CONFIG: &str = "http:\n  public_base: https://auth.example.com/\n  issuer: https://example.com/\nsecrets:\n  encryption: 0000000000000000000000000000000000000000000000000000000000000000\n  keys:\n    - key: unused\nmatrix:\n  homeserver: example.com\n  secret: unused\npasswords:\n  schemes:\n    - version: 1\n      algorithm: argon2id\n";

/// A test world: the state, its clock, and the folder holding its database.
pub struct TestApp {
    pub state: AppState,
    pub clock: MockClock,
    pub database: Database,
    /// The homeserver the state provisions users and devices on.
    pub homeserver: Arc<MemoryHomeserver>,
    /// The in-memory mailer the jobs run by `compat::run_jobs` send with.
    pub mailer: portcullis_jobs::email::Mailer,
    /// The PostgreSQL database made for this test, dropped by [`TestApp::finish`].
    postgres_database: Option<String>,
    _dir: tempfile::TempDir,
}

/// A state over a fresh, migrated SQLite database, with the clock at a fixed instant.
pub async fn app() -> TestApp {
    app_with(|_| {}).await
}

/// [`app`] with the configuration adjusted by `adjust` before the state is built.
pub async fn app_with(adjust: impl FnOnce(&mut portcullis_config::Config)) -> TestApp {
    app_with_site(adjust, |_| {}).await
}

/// [`app_with`], with the settings read from the configuration then adjusted by
/// `adjust_site`: for what tests change and operators cannot, such as where the CAPTCHA
/// provider is asked.
pub async fn app_with_site(
    adjust: impl FnOnce(&mut portcullis_config::Config),
    adjust_site: impl FnOnce(&mut SiteConfig),
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = ConnectOptions::Sqlite {
        path: dir.path().join("http.db"),
    };
    app_on_database(dir, options, None, adjust, adjust_site).await
}

/// Where a test's database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// [`app_with`] on `backend`: a fresh PostgreSQL database for `Backend::Postgres`, or `None`
/// when no PostgreSQL server answers (outside CI; see `portcullis_storage_sql::testing`).
/// Call [`TestApp::finish`] at the end to drop it.
pub async fn app_on(
    backend: Backend,
    adjust: impl FnOnce(&mut portcullis_config::Config),
) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    match backend {
        Backend::Sqlite => {
            let options = ConnectOptions::Sqlite {
                path: dir.path().join("http.db"),
            };
            Some(app_on_database(dir, options, None, adjust, |_| {}).await)
        }
        Backend::Postgres => {
            let (uri, name) = portcullis_storage_sql::testing::create_postgres_database().await?;
            let options = ConnectOptions::Postgres(portcullis_storage_sql::PostgresOptions {
                uri: Some(uri),
                ..portcullis_storage_sql::PostgresOptions::default()
            });
            Some(app_on_database(dir, options, Some(name), adjust, |_| {}).await)
        }
    }
}

async fn app_on_database(
    dir: tempfile::TempDir,
    options: ConnectOptions,
    postgres_database: Option<String>,
    adjust: impl FnOnce(&mut portcullis_config::Config),
    adjust_site: impl FnOnce(&mut SiteConfig),
) -> TestApp {
    let database = Database::connect(&options, &PoolOptions::default())
        .await
        .expect("SQLite opens");
    database.migrate().await.expect("migrations apply");
    let mut config = portcullis_config::load_documents(
        &[("test.yaml".to_owned(), TEST_CONFIG.to_owned())],
        dir.path().to_owned(),
        &|_| None,
    )
    .expect("the test configuration is valid")
    .config;
    adjust(&mut config);
    let key = PrivateKey::load(
        include_bytes!("../../../../config/tests/fixtures/keys/rsa-2048.pkcs1.pem"),
        None,
    )
    .expect("the fixture key loads");
    // With a sub-second part, as real clocks have: storage keeps less precision than that,
    // and no rule may depend on an instant surviving a round trip exactly.
    let clock = MockClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .expect("valid instant")
            + chrono::TimeDelta::nanoseconds(123_456_789),
    );
    let homeserver = Arc::new(MemoryHomeserver::new(config.matrix.homeserver.clone()));
    let mut site = SiteConfig::from_config(&config);
    adjust_site(&mut site);
    let state = AppState::new(AppParts {
        database: database.clone(),
        trusted_proxies: vec!["127.0.0.0/8".parse().expect("valid range")],
        urls: UrlBuilder::new(
            config.http.public_base.clone(),
            config.http.issuer().clone(),
        ),
        site,
        keystore: Keystore::new(vec![(Some("k1".to_owned()), key)]).expect("one key"),
        encrypter: Encrypter::new(EncryptionKey::from_hex(&"ab".repeat(32)).expect("valid key")),
        clock: Arc::new(clock.clone()),
        passwords: portcullis_passwords::PasswordManager::new(&config.passwords)
            .expect("default schemes"),
        templates: portcullis_templates::Templates::load(None).expect("embedded templates"),
        policy: portcullis_policy::SharedPolicy::new(
            portcullis_services::policy::loader(&config).expect("the built-in policy"),
        )
        .expect("the built-in policy"),
        homeserver_secret: Some(zeroize::Zeroizing::new(HOMESERVER_SECRET.to_owned())),
        homeserver: homeserver.clone(),
        // The registration files a test names, read as the server reads them at start.
        app_services: config
            .matrix
            .app_service_config_files
            .iter()
            .map(|path| {
                let yaml = std::fs::read_to_string(path).expect("a registration file");
                portcullis_services::app_services::AppService::parse(&yaml)
                    .expect("a valid registration")
            })
            .collect(),
    });
    TestApp {
        state,
        clock,
        database,
        homeserver,
        mailer: portcullis_jobs::email::Mailer::memory(),
        postgres_database,
        _dir: dir,
    }
}

impl TestApp {
    /// Closes the database, and drops it if it is a PostgreSQL one made for the test.
    pub async fn finish(self) {
        self.database.close().await;
        if let Some(name) = &self.postgres_database {
            portcullis_storage_sql::testing::drop_postgres_database(name).await;
        }
    }

    /// The router with every resource this crate serves (the Admin API has its own crate and
    /// tests).
    pub fn router(&self) -> Router {
        let resources: Vec<Resource> = portcullis_http::AVAILABLE_RESOURCES
            .iter()
            .filter(|name| !matches!(name, ResourceName::AdminApi | ResourceName::Prometheus))
            .map(|name| Resource::new(*name))
            .collect();
        portcullis_http::router(&resources, None, self.state.clone(), &Mounted::default())
            .expect("every available resource builds")
    }

    /// Sends `request` through the router.
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router().oneshot(request).await.expect("infallible")
    }
}

/// The body of `response` as text.
pub async fn body_text(response: Response<Body>) -> String {
    let bytes = to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("readable body");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The body of `response` as JSON.
pub async fn body_json(response: Response<Body>) -> serde_json::Value {
    serde_json::from_str(&body_text(response).await).expect("a JSON body")
}

/// A form POST.
pub fn post_form(uri: &str, pairs: &[(&str, &str)]) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("valid request")
}

pub mod account;
pub mod authenticator;
pub mod browser;
pub mod compat;
pub mod oauth;

/// Adds a user with a password (hashed by the state's password manager); `admin` lets them
/// ask for admin scopes.
pub async fn add_user_with_password(
    app: &TestApp,
    username: &str,
    password: &str,
    admin: bool,
) -> portcullis_model::User {
    let (version, hashed) = app
        .state
        .passwords()
        .hash(zeroize::Zeroizing::new(password.to_owned()))
        .await
        .expect("the password hashes");
    let now = app.state.now();
    let mut repo = app.database.transaction().await.expect("a transaction");
    let user = repo
        .users()
        .add(username, now)
        .await
        .expect("the user is added");
    let user = if admin {
        repo.users()
            .set_can_request_admin(user, true)
            .await
            .expect("admin set")
    } else {
        user
    };
    repo.user_passwords()
        .add(&user, &hashed, u32::from(version), None, now)
        .await
        .expect("the password is added");
    repo.commit().await.expect("commit");
    user
}

/// Stores an upstream provider as `config sync` does (enabled unless `enabled: false`).
pub async fn add_provider(app: &TestApp, id: &str, name: &str, enabled: bool) {
    add_branded_provider(app, id, name, enabled, "pocketid").await;
}

/// [`add_provider`], with its `brand_name`.
pub async fn add_branded_provider(app: &TestApp, id: &str, name: &str, enabled: bool, brand: &str) {
    let mut repo = app.database.transaction().await.expect("tx");
    repo.upstream_providers()
        .upsert(&portcullis_model::UpstreamProvider {
            id: id.to_owned(),
            issuer: Some(format!("https://{id}.example.com")),
            human_name: Some(name.to_owned()),
            brand_name: None,
            encrypted_client_secret: None,
            config: serde_json::json!({
                "id": id,
                "enabled": enabled,
                "human_name": name,
                "issuer": format!("https://{id}.example.com"),
                "client_id": "portcullis",
                "token_endpoint_auth_method": "none",
                "synapse_idp_id": format!("oidc-{id}"),
                "brand_name": brand,
            }),
            created_at: app.state.clock().now(),
            disabled_at: None,
        })
        .await
        .expect("stored");
    repo.commit().await.expect("committed");
}
