//! The compatibility access tokens, in table `compat_access_tokens`.
//!
//! Only the SHA-256 of a token is stored (`token_hash`, unique): lookups hash the clear token
//! first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatAccessToken, CompatSession, User, token::hash_token};
use portcullis_storage::{ActiveCompatAccessToken, CompatAccessTokenRepository, StorageError};
use ulid::Ulid;

use crate::{
    compat::session::CompatSessionRow,
    repository::{SqlRepository, on_backend, on_backend_keeping_existing},
    types::{DbId, DbTime, instant},
};

/// The columns every token query returns, in [`CompatAccessTokenRow`]'s order.
macro_rules! columns {
    () => {
        "compat_access_token_id, compat_session_id, created_at, expires_at, revoked_at"
    };
}

#[derive(sqlx::FromRow)]
struct CompatAccessTokenRow {
    compat_access_token_id: DbId,
    compat_session_id: DbId,
    created_at: DbTime,
    expires_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
}

impl From<CompatAccessTokenRow> for CompatAccessToken {
    fn from(row: CompatAccessTokenRow) -> Self {
        Self {
            id: row.compat_access_token_id.0,
            session_id: row.compat_session_id.0,
            created_at: row.created_at.0,
            expires_at: instant(row.expires_at),
            revoked_at: instant(row.revoked_at),
        }
    }
}

/// Introspection's one read: the token, its session and the session's user, under distinct
/// names.
const ACTIVE_SQL: &str = concat!(
    "SELECT t.compat_access_token_id, t.compat_session_id, t.created_at, t.expires_at, ",
    "t.revoked_at, ",
    "s.user_id AS session_user_id, s.device_id AS session_device_id, ",
    "s.human_name AS session_human_name, s.user_session_id AS session_user_session_id, ",
    "s.is_synapse_admin AS session_is_synapse_admin, s.created_at AS session_created_at, ",
    "s.finished_at AS session_finished_at, s.user_agent AS session_user_agent, ",
    "s.last_active_at AS session_last_active_at, s.last_active_ip AS session_last_active_ip, ",
    "u.username AS user_username, u.created_at AS user_created_at, ",
    "u.locked_at AS user_locked_at, u.deactivated_at AS user_deactivated_at, ",
    "u.can_request_admin AS user_can_request_admin, u.legacy_guest AS user_legacy_guest ",
    "FROM compat_access_tokens AS t ",
    "JOIN compat_sessions AS s ON s.compat_session_id = t.compat_session_id ",
    "JOIN users AS u ON u.user_id = s.user_id ",
    "WHERE t.token_hash = $1 AND t.revoked_at IS NULL ",
    "AND (t.expires_at IS NULL OR t.expires_at > $2) ",
    "AND s.finished_at IS NULL"
);

#[derive(sqlx::FromRow)]
struct ActiveCompatAccessTokenRow {
    #[sqlx(flatten)]
    token: CompatAccessTokenRow,
    session_user_id: DbId,
    session_device_id: String,
    session_human_name: Option<String>,
    session_user_session_id: Option<DbId>,
    session_is_synapse_admin: bool,
    session_created_at: DbTime,
    session_finished_at: Option<DbTime>,
    session_user_agent: Option<String>,
    session_last_active_at: Option<DbTime>,
    session_last_active_ip: Option<String>,
    user_username: String,
    user_created_at: DbTime,
    user_locked_at: Option<DbTime>,
    user_deactivated_at: Option<DbTime>,
    user_can_request_admin: bool,
    user_legacy_guest: bool,
}

impl TryFrom<ActiveCompatAccessTokenRow> for ActiveCompatAccessToken {
    type Error = StorageError;

    fn try_from(row: ActiveCompatAccessTokenRow) -> Result<Self, Self::Error> {
        let user = User {
            id: row.session_user_id.0,
            username: row.user_username,
            created_at: row.user_created_at.0,
            locked_at: instant(row.user_locked_at),
            deactivated_at: instant(row.user_deactivated_at),
            can_request_admin: row.user_can_request_admin,
            legacy_guest: row.user_legacy_guest,
        };
        let session = CompatSession::try_from(CompatSessionRow {
            compat_session_id: row.token.compat_session_id,
            user_id: row.session_user_id,
            device_id: row.session_device_id,
            human_name: row.session_human_name,
            user_session_id: row.session_user_session_id,
            is_synapse_admin: row.session_is_synapse_admin,
            created_at: row.session_created_at,
            finished_at: row.session_finished_at,
            user_agent: row.session_user_agent,
            last_active_at: row.session_last_active_at,
            last_active_ip: row.session_last_active_ip,
        })?;
        Ok(Self {
            access_token: row.token.into(),
            session,
            user,
        })
    }
}

#[async_trait]
impl CompatAccessTokenRepository for SqlRepository {
    async fn add(
        &mut self,
        session: &CompatSession,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<CompatAccessToken, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO compat_access_tokens (compat_access_token_id, compat_session_id, ",
            "token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: CompatAccessTokenRow =
            on_backend_keeping_existing!(self, |conn| sqlx::query_as(SQL)
                .bind(DbId(id))
                .bind(DbId(session.id))
                .bind(hash_token(token))
                .bind(DbTime(now))
                .bind(expires_at.map(DbTime))
                .fetch_one(conn)
                .await)?;
        Ok(row.into())
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<CompatAccessToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_access_tokens WHERE compat_access_token_id = $1"
        );
        let row: Option<CompatAccessTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatAccessToken::from))
    }

    async fn find_by_token(
        &mut self,
        token: &str,
    ) -> Result<Option<CompatAccessToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_access_tokens WHERE token_hash = $1"
        );
        let row: Option<CompatAccessTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(token))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatAccessToken::from))
    }

    async fn find_active_by_token(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ActiveCompatAccessToken>, StorageError> {
        let row: Option<ActiveCompatAccessTokenRow> =
            on_backend!(self, |conn| sqlx::query_as(ACTIVE_SQL)
                .bind(hash_token(token))
                .bind(DbTime(now))
                .fetch_optional(conn)
                .await)?;
        row.map(ActiveCompatAccessToken::try_from).transpose()
    }

    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatAccessToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE compat_access_tokens SET revoked_at = COALESCE(revoked_at, $2) ",
            "WHERE compat_access_token_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<CompatAccessTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatAccessToken::from))
    }
}
