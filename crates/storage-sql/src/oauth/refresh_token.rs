//! The refresh tokens, in table `oauth2_refresh_tokens`.
//!
//! Only the SHA-256 of a token is stored (`token_hash`, unique). The state is told by the
//! columns: `revoked_at` set means revoked (whether or not it was consumed before), otherwise
//! `consumed_at` set means consumed, otherwise valid.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{
    AccessToken, OAuthSession, RefreshToken, RefreshTokenState, token::hash_token,
};
use portcullis_storage::{RefreshTokenRepository, StorageError};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

/// The columns every query returns, in [`RefreshTokenRow`]'s order.
macro_rules! columns {
    () => {
        "oauth2_refresh_token_id, oauth2_session_id, token_hash, oauth2_access_token_id, \
         created_at, consumed_at, next_refresh_token_id, revoked_at"
    };
}

#[derive(sqlx::FromRow)]
struct RefreshTokenRow {
    oauth2_refresh_token_id: DbId,
    oauth2_session_id: DbId,
    token_hash: String,
    oauth2_access_token_id: Option<DbId>,
    created_at: DbTime,
    consumed_at: Option<DbTime>,
    next_refresh_token_id: Option<DbId>,
    revoked_at: Option<DbTime>,
}

impl From<RefreshTokenRow> for RefreshToken {
    fn from(row: RefreshTokenRow) -> Self {
        let state = match (row.revoked_at, row.consumed_at) {
            (Some(revoked_at), _) => RefreshTokenState::Revoked {
                revoked_at: revoked_at.0,
            },
            (None, Some(consumed_at)) => RefreshTokenState::Consumed {
                consumed_at: consumed_at.0,
                next_refresh_token_id: row.next_refresh_token_id.map(|id| id.0),
            },
            (None, None) => RefreshTokenState::Valid,
        };
        Self {
            id: row.oauth2_refresh_token_id.0,
            state,
            session_id: row.oauth2_session_id.0,
            token_hash: row.token_hash,
            access_token_id: row.oauth2_access_token_id.map(|id| id.0),
            created_at: row.created_at.0,
        }
    }
}

#[async_trait]
impl RefreshTokenRepository for SqlRepository {
    async fn add(
        &mut self,
        session: &OAuthSession,
        token: &str,
        access_token: Option<&AccessToken>,
        now: DateTime<Utc>,
    ) -> Result<RefreshToken, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO oauth2_refresh_tokens (oauth2_refresh_token_id, oauth2_session_id, ",
            "token_hash, oauth2_access_token_id, created_at) VALUES ($1, $2, $3, $4, $5) ",
            "RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: RefreshTokenRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(session.id))
            .bind(hash_token(token))
            .bind(access_token.map(|access_token| DbId(access_token.id)))
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<RefreshToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_refresh_tokens WHERE oauth2_refresh_token_id = $1"
        );
        let row: Option<RefreshTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(RefreshToken::from))
    }

    async fn find_by_token(&mut self, token: &str) -> Result<Option<RefreshToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_refresh_tokens WHERE token_hash = $1"
        );
        let row: Option<RefreshTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(token))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(RefreshToken::from))
    }

    async fn consume(
        &mut self,
        token: &str,
        next_refresh_token_id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<RefreshToken>, StorageError> {
        // Check and consume in one statement: of two refreshes racing with the same token, the
        // second waits for the first's row lock (PostgreSQL) or write lock (SQLite), then finds
        // the token consumed and matches nothing.
        const SQL: &str = concat!(
            "UPDATE oauth2_refresh_tokens SET consumed_at = $2, next_refresh_token_id = $3 ",
            "WHERE token_hash = $1 AND consumed_at IS NULL AND revoked_at IS NULL ",
            "RETURNING ",
            columns!()
        );
        let row: Option<RefreshTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(token))
            .bind(DbTime(now))
            .bind(DbId(next_refresh_token_id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(RefreshToken::from))
    }

    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<RefreshToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE oauth2_refresh_tokens SET revoked_at = COALESCE(revoked_at, $2) ",
            "WHERE oauth2_refresh_token_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<RefreshTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(RefreshToken::from))
    }

    async fn revoke_all_for_session(
        &mut self,
        session: &OAuthSession,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        const REFRESH_SQL: &str = concat!(
            "UPDATE oauth2_refresh_tokens SET revoked_at = $2 ",
            "WHERE oauth2_session_id = $1 AND revoked_at IS NULL"
        );
        const ACCESS_SQL: &str = concat!(
            "UPDATE oauth2_access_tokens SET revoked_at = $2 ",
            "WHERE oauth2_session_id = $1 AND revoked_at IS NULL"
        );
        let mut revoked = 0;
        for sql in [REFRESH_SQL, ACCESS_SQL] {
            revoked += on_backend!(self, |conn| sqlx::query(sql)
                .bind(DbId(session.id))
                .bind(DbTime(now))
                .execute(conn)
                .await
                .map(|result| result.rows_affected()))?;
        }
        Ok(revoked)
    }
}
