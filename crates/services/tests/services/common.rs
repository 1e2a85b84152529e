//! A migrated SQLite database and the few things most scenarios start from.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use portcullis_model::{CompatSession, Job, OAuthClient, OAuthSession, Ulid, User};
use portcullis_storage::{BoxRepository, NewCompatSession, NewOAuthSession};
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions};

pub struct World {
    pub database: Database,
    _dir: tempfile::TempDir,
}

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = Database::connect(
        &ConnectOptions::Sqlite {
            path: dir.path().join("services.db"),
        },
        &PoolOptions::default(),
    )
    .await
    .expect("SQLite opens");
    database.migrate().await.expect("migrations apply");
    World {
        database,
        _dir: dir,
    }
}

impl World {
    pub async fn tx(&self) -> BoxRepository {
        self.database.transaction().await.expect("a transaction")
    }

    /// The jobs queued so far, taken off the queue.
    pub async fn take_jobs(&self) -> Vec<Job> {
        let mut tx = self.tx().await;
        let mut jobs = Vec::new();
        while let Some(job) = tx
            .jobs()
            .claim("test", start(), Duration::from_secs(60))
            .await
            .expect("the queue works")
        {
            jobs.push(job);
        }
        tx.commit().await.expect("commit");
        jobs
    }
}

pub async fn add_user(tx: &mut BoxRepository, username: &str) -> User {
    tx.users()
        .add(username, start())
        .await
        .expect("the user is added")
}

pub async fn add_client(tx: &mut BoxRepository) -> OAuthClient {
    let client = OAuthClient {
        id: Ulid::new(),
        client_id: "app".to_owned(),
        is_static: true,
        client_auth_method: "none".parse().expect("valid"),
        redirect_uris: vec!["https://app.example/callback".parse().expect("valid")],
        grant_types: vec![
            "authorization_code".parse().expect("valid"),
            "refresh_token".parse().expect("valid"),
        ],
        created_at: start(),
        ..OAuthClient::default()
    };
    tx.oauth_clients()
        .upsert_static(&client)
        .await
        .expect("the client is stored")
}

pub async fn add_oauth_session(
    tx: &mut BoxRepository,
    client: &OAuthClient,
    user: &User,
    device_id: &str,
) -> OAuthSession {
    tx.oauth_sessions()
        .add(
            &NewOAuthSession {
                client_id: client.id,
                user_id: Some(user.id),
                user_session_id: None,
                scope: format!(
                    "openid urn:matrix:client:api:* urn:matrix:client:device:{device_id}"
                )
                .parse()
                .expect("a scope"),
                user_agent: None,
                human_name: None,
            },
            start(),
        )
        .await
        .expect("the session starts")
}

pub async fn add_compat_session(
    tx: &mut BoxRepository,
    user: &User,
    device_id: &str,
) -> CompatSession {
    tx.compat_sessions()
        .add(
            &NewCompatSession {
                user_id: user.id,
                device_id: device_id.to_owned(),
                human_name: None,
                user_session_id: None,
                is_synapse_admin: false,
                user_agent: None,
            },
            start(),
        )
        .await
        .expect("the session starts")
}
