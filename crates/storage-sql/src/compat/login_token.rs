//! The login tokens operators issue for bots, in table `compat_login_tokens`. Only the SHA-256
//! of a token is stored (`login_token_hash`, unique); redeeming it is one conditional
//! `UPDATE`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatLoginToken, User, token::hash_token};
use portcullis_storage::{CompatLoginTokenRepository, StorageError};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

/// The columns every query returns, in [`LoginTokenRow`]'s order.
macro_rules! columns {
    () => {
        "compat_login_token_id, user_id, device_id, created_at, expires_at, consumed_at, \
         compat_session_id"
    };
}

#[derive(sqlx::FromRow)]
struct LoginTokenRow {
    compat_login_token_id: DbId,
    user_id: DbId,
    device_id: Option<String>,
    created_at: DbTime,
    expires_at: DbTime,
    consumed_at: Option<DbTime>,
    compat_session_id: Option<DbId>,
}

impl From<LoginTokenRow> for CompatLoginToken {
    fn from(row: LoginTokenRow) -> Self {
        Self {
            id: row.compat_login_token_id.0,
            user_id: row.user_id.0,
            device_id: row.device_id,
            created_at: row.created_at.0,
            expires_at: row.expires_at.0,
            consumed_at: row.consumed_at.map(|at| at.0),
            compat_session_id: row.compat_session_id.map(|id| id.0),
        }
    }
}

#[async_trait]
impl CompatLoginTokenRepository for SqlRepository {
    async fn add(
        &mut self,
        user: &User,
        login_token: &str,
        device_id: Option<&str>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<CompatLoginToken, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO compat_login_tokens (compat_login_token_id, user_id, login_token_hash, ",
            "device_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: LoginTokenRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .bind(hash_token(login_token))
            .bind(device_id)
            .bind(DbTime(now))
            .bind(DbTime(expires_at))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<CompatLoginToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_login_tokens WHERE compat_login_token_id = $1"
        );
        let row: Option<LoginTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatLoginToken::from))
    }

    async fn find_by_token(
        &mut self,
        login_token: &str,
    ) -> Result<Option<CompatLoginToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_login_tokens WHERE login_token_hash = $1"
        );
        let row: Option<LoginTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(login_token))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatLoginToken::from))
    }

    async fn consume(
        &mut self,
        id: Ulid,
        session_id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatLoginToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE compat_login_tokens SET consumed_at = $3, compat_session_id = $2 ",
            "WHERE compat_login_token_id = $1 AND consumed_at IS NULL AND expires_at > $3 ",
            "RETURNING ",
            columns!()
        );
        let row: Option<LoginTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(session_id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(CompatLoginToken::from))
    }

    async fn delete_expired_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM compat_login_tokens WHERE expires_at < $1";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))
    }
}
