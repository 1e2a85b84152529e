//! The things most scenarios need before they start: a user signed in to a browser session,
//! a client, an OAuth 2.0 session between them.

use chrono::{DateTime, TimeZone, Utc};
use portcullis_model::{BrowserSession, OAuthClient, OAuthSession, Ulid, User};
use portcullis_storage::{BoxRepository, NewOAuthSession};
use portcullis_storage_sql::{Backend, Database};

use crate::support::{commit, repo};

/// The instant every scenario starts at.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

/// A user named `username`.
pub async fn add_user(tx: &mut BoxRepository, username: &str) -> User {
    tx.users()
        .add(username, start())
        .await
        .expect("the user is added")
}

/// A static client whose `client_id` is `client_id`.
pub async fn add_client(tx: &mut BoxRepository, client_id: &str) -> OAuthClient {
    let client = OAuthClient {
        id: Ulid::new(),
        client_id: client_id.to_owned(),
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

/// A browser session of `user`.
pub async fn add_browser_session(tx: &mut BoxRepository, user: &User) -> BrowserSession {
    tx.browser_sessions()
        .add(user, Some("Firefox"), start())
        .await
        .expect("the browser session starts")
}

/// An OAuth 2.0 session of `client`, for the user of `browser_session` if given, otherwise
/// for the client itself.
pub async fn add_session(
    tx: &mut BoxRepository,
    client: &OAuthClient,
    browser_session: Option<&BrowserSession>,
) -> OAuthSession {
    tx.oauth_sessions()
        .add(
            &NewOAuthSession {
                client_id: client.id,
                user_id: browser_session.map(|session| session.user_id),
                user_session_id: browser_session.map(|session| session.id),
                scope: "openid urn:matrix:client:api:*".parse().expect("a scope"),
                user_agent: Some("Element X".to_owned()),
                human_name: None,
            },
            start(),
        )
        .await
        .expect("the session starts")
}

/// What an authorization or device flow starts from, committed.
pub struct World {
    pub user: User,
    pub browser_session: BrowserSession,
    pub client: OAuthClient,
}

/// Alice, signed in to a browser session, and the client `app`.
pub async fn world(db: &Database) -> World {
    let mut tx = repo(db).await;
    let user = add_user(&mut tx, "alice").await;
    let browser_session = add_browser_session(&mut tx, &user).await;
    let client = add_client(&mut tx, "app").await;
    commit(tx).await;
    World {
        user,
        browser_session,
        client,
    }
}

/// Deletes the row of `table` whose `column` is `id`, behind the repositories' back, to see
/// what the foreign keys do.
pub async fn delete_row(db: &Database, table: &str, column: &str, id: Ulid) {
    let sql = format!("DELETE FROM {table} WHERE {column} = $1");
    let deleted = match db.backend() {
        Backend::Postgres => sqlx::query(&sql)
            .bind(uuid::Uuid::from(id))
            .execute(db.postgres_pool().expect("a PostgreSQL database"))
            .await
            .map(|result| result.rows_affected()),
        Backend::Sqlite => sqlx::query(&sql)
            .bind(id.to_string())
            .execute(db.sqlite_pool().expect("a SQLite database"))
            .await
            .map(|result| result.rows_affected()),
    }
    .expect("the row can be deleted");
    assert_eq!(deleted, 1, "one row of {table} deleted");
}
