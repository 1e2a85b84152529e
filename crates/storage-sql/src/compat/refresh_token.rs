//! The compatibility refresh tokens, in table `compat_refresh_tokens`.
//!
//! Only the SHA-256 of a token is stored (`token_hash`, unique). A token is valid while
//! neither `consumed_at` nor `revoked_at` is set.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatAccessToken, CompatRefreshToken, CompatSession, token::hash_token};
use portcullis_storage::{CompatRefreshTokenRepository, StorageError};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend, on_backend_keeping_existing},
    types::{DbId, DbTime, instant},
};

/// The columns every query returns, in [`CompatRefreshTokenRow`]'s order.
macro_rules! columns {
    () => {
        "compat_refresh_token_id, compat_session_id, compat_access_token_id, created_at, \
         consumed_at, revoked_at"
    };
}

#[derive(sqlx::FromRow)]
struct CompatRefreshTokenRow {
    compat_refresh_token_id: DbId,
    compat_session_id: DbId,
    compat_access_token_id: DbId,
    created_at: DbTime,
    consumed_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
}

impl From<CompatRefreshTokenRow> for CompatRefreshToken {
    fn from(row: CompatRefreshTokenRow) -> Self {
        Self {
            id: row.compat_refresh_token_id.0,
            session_id: row.compat_session_id.0,
            access_token_id: row.compat_access_token_id.0,
            created_at: row.created_at.0,
            consumed_at: instant(row.consumed_at),
            revoked_at: instant(row.revoked_at),
        }
    }
}

#[async_trait]
impl CompatRefreshTokenRepository for SqlRepository {
    async fn add(
        &mut self,
        session: &CompatSession,
        token: &str,
        access_token: &CompatAccessToken,
        now: DateTime<Utc>,
    ) -> Result<CompatRefreshToken, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO compat_refresh_tokens (compat_refresh_token_id, compat_session_id, ",
            "token_hash, compat_access_token_id, created_at) VALUES ($1, $2, $3, $4, $5) ",
            "RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: CompatRefreshTokenRow =
            on_backend_keeping_existing!(self, |conn| sqlx::query_as(SQL)
                .bind(DbId(id))
                .bind(DbId(session.id))
                .bind(hash_token(token))
                .bind(DbId(access_token.id))
                .bind(DbTime(now))
                .fetch_one(conn)
                .await)?;
        Ok(row.into())
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<CompatRefreshToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_refresh_tokens WHERE compat_refresh_token_id = $1"
        );
        let row: Option<CompatRefreshTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatRefreshToken::from))
    }

    async fn find_by_token(
        &mut self,
        token: &str,
    ) -> Result<Option<CompatRefreshToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_refresh_tokens WHERE token_hash = $1"
        );
        let row: Option<CompatRefreshTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(token))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatRefreshToken::from))
    }

    async fn consume(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatRefreshToken>, StorageError> {
        // Check and consume in one statement: of two refreshes racing with the same token, the
        // second waits for the first's row lock (PostgreSQL) or write lock (SQLite), then finds
        // the token consumed and matches nothing.
        const SQL: &str = concat!(
            "UPDATE compat_refresh_tokens SET consumed_at = $2 ",
            "WHERE compat_refresh_token_id = $1 AND consumed_at IS NULL AND revoked_at IS NULL ",
            "RETURNING ",
            columns!()
        );
        let row: Option<CompatRefreshTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatRefreshToken::from))
    }

    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatRefreshToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE compat_refresh_tokens SET revoked_at = COALESCE(revoked_at, $2) ",
            "WHERE compat_refresh_token_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<CompatRefreshTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatRefreshToken::from))
    }
}
