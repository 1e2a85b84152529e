//! The access tokens, in table `oauth2_access_tokens`.
//!
//! Only the SHA-256 of a token is stored (`token_hash`, unique): lookups hash the clear token
//! first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{AccessToken, OAuthSession, User, token::hash_token};
use portcullis_storage::{AccessTokenRepository, ActiveAccessToken, StorageError};
use ulid::Ulid;

use crate::{
    oauth::session::OAuthSessionRow,
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, instant},
};

/// The columns every token query returns, in [`AccessTokenRow`]'s order.
macro_rules! columns {
    () => {
        "oauth2_access_token_id, oauth2_session_id, token_hash, created_at, expires_at, \
         revoked_at, first_used_at"
    };
}

#[derive(sqlx::FromRow)]
struct AccessTokenRow {
    oauth2_access_token_id: DbId,
    oauth2_session_id: DbId,
    token_hash: String,
    created_at: DbTime,
    expires_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
    first_used_at: Option<DbTime>,
}

impl From<AccessTokenRow> for AccessToken {
    fn from(row: AccessTokenRow) -> Self {
        Self {
            id: row.oauth2_access_token_id.0,
            session_id: row.oauth2_session_id.0,
            token_hash: row.token_hash,
            created_at: row.created_at.0,
            expires_at: instant(row.expires_at),
            revoked_at: instant(row.revoked_at),
            first_used_at: instant(row.first_used_at),
        }
    }
}

/// Introspection's one read: the token, its session, the session's client's public id and
/// the session's user (`NULL`s for a session without user), under distinct names.
const ACTIVE_SQL: &str = concat!(
    "SELECT t.oauth2_access_token_id, t.oauth2_session_id, t.token_hash, t.created_at, ",
    "t.expires_at, t.revoked_at, t.first_used_at, ",
    "s.oauth2_client_id AS session_oauth2_client_id, s.user_id AS session_user_id, ",
    "s.user_session_id AS session_user_session_id, s.scope AS session_scope, ",
    "s.created_at AS session_created_at, s.finished_at AS session_finished_at, ",
    "s.user_agent AS session_user_agent, s.last_active_at AS session_last_active_at, ",
    "s.last_active_ip AS session_last_active_ip, s.human_name AS session_human_name, ",
    "c.client_id AS client_id, ",
    "u.username AS user_username, u.created_at AS user_created_at, ",
    "u.locked_at AS user_locked_at, u.deactivated_at AS user_deactivated_at, ",
    "u.can_request_admin AS user_can_request_admin, u.legacy_guest AS user_legacy_guest ",
    "FROM oauth2_access_tokens AS t ",
    "JOIN oauth2_sessions AS s ON s.oauth2_session_id = t.oauth2_session_id ",
    "JOIN oauth2_clients AS c ON c.oauth2_client_id = s.oauth2_client_id ",
    "LEFT JOIN users AS u ON u.user_id = s.user_id ",
    "WHERE t.token_hash = $1 AND t.revoked_at IS NULL ",
    "AND (t.expires_at IS NULL OR t.expires_at > $2) ",
    "AND s.finished_at IS NULL"
);

#[derive(sqlx::FromRow)]
struct ActiveAccessTokenRow {
    #[sqlx(flatten)]
    token: AccessTokenRow,
    session_oauth2_client_id: DbId,
    session_user_id: Option<DbId>,
    session_user_session_id: Option<DbId>,
    session_scope: String,
    session_created_at: DbTime,
    session_finished_at: Option<DbTime>,
    session_user_agent: Option<String>,
    session_last_active_at: Option<DbTime>,
    session_last_active_ip: Option<String>,
    session_human_name: Option<String>,
    client_id: String,
    user_username: Option<String>,
    user_created_at: Option<DbTime>,
    user_locked_at: Option<DbTime>,
    user_deactivated_at: Option<DbTime>,
    user_can_request_admin: Option<bool>,
    user_legacy_guest: Option<bool>,
}

impl TryFrom<ActiveAccessTokenRow> for ActiveAccessToken {
    type Error = StorageError;

    fn try_from(row: ActiveAccessTokenRow) -> Result<Self, Self::Error> {
        let user = match (
            row.session_user_id,
            row.user_username,
            row.user_created_at,
            row.user_can_request_admin,
        ) {
            (None, ..) => None,
            (Some(id), Some(username), Some(created_at), Some(can_request_admin)) => Some(User {
                id: id.0,
                username,
                created_at: created_at.0,
                locked_at: instant(row.user_locked_at),
                deactivated_at: instant(row.user_deactivated_at),
                can_request_admin,
                legacy_guest: row.user_legacy_guest.unwrap_or(false),
            }),
            // The foreign key makes this impossible, unless the schema was changed.
            (Some(id), ..) => {
                return Err(StorageError::InvalidData(format!(
                    "oauth2_sessions.user_id {} matches no user",
                    id.0
                )));
            }
        };
        let session = OAuthSession::try_from(OAuthSessionRow {
            oauth2_session_id: row.token.oauth2_session_id,
            oauth2_client_id: row.session_oauth2_client_id,
            user_id: row.session_user_id,
            user_session_id: row.session_user_session_id,
            scope: row.session_scope,
            created_at: row.session_created_at,
            finished_at: row.session_finished_at,
            user_agent: row.session_user_agent,
            last_active_at: row.session_last_active_at,
            last_active_ip: row.session_last_active_ip,
            human_name: row.session_human_name,
        })?;
        Ok(Self {
            access_token: row.token.into(),
            session,
            client_id: row.client_id,
            user,
        })
    }
}

#[async_trait]
impl AccessTokenRepository for SqlRepository {
    async fn add(
        &mut self,
        session: &OAuthSession,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO oauth2_access_tokens (oauth2_access_token_id, oauth2_session_id, ",
            "token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: AccessTokenRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(session.id))
            .bind(hash_token(token))
            .bind(DbTime(now))
            .bind(expires_at.map(DbTime))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<AccessToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_access_tokens WHERE oauth2_access_token_id = $1"
        );
        let row: Option<AccessTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(AccessToken::from))
    }

    async fn find_by_token(&mut self, token: &str) -> Result<Option<AccessToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_access_tokens WHERE token_hash = $1"
        );
        let row: Option<AccessTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(token))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(AccessToken::from))
    }

    async fn find_active_by_token(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ActiveAccessToken>, StorageError> {
        let row: Option<ActiveAccessTokenRow> =
            on_backend!(self, |conn| sqlx::query_as(ACTIVE_SQL)
                .bind(hash_token(token))
                .bind(DbTime(now))
                .fetch_optional(conn)
                .await)?;
        row.map(ActiveAccessToken::try_from).transpose()
    }

    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<AccessToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE oauth2_access_tokens SET revoked_at = COALESCE(revoked_at, $2) ",
            "WHERE oauth2_access_token_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<AccessTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(AccessToken::from))
    }

    async fn mark_used(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<AccessToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE oauth2_access_tokens SET first_used_at = COALESCE(first_used_at, $2) ",
            "WHERE oauth2_access_token_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<AccessTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(AccessToken::from))
    }
}
