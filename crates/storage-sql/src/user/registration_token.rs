//! The registration tokens, in table `user_registration_tokens`.
//!
//! Only the SHA-256 of a token is stored (`token_hash`, unique): lookups and consumption hash
//! the clear token first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{RegistrationToken, token::hash_token};
use portcullis_storage::{RegistrationTokenRepository, StorageError};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, counter},
};

/// The columns every query returns, in [`RegistrationTokenRow`]'s order.
macro_rules! columns {
    () => {
        "user_registration_token_id, usage_limit, times_used, created_at, expires_at, \
         revoked_at, last_used_at"
    };
}

#[derive(sqlx::FromRow)]
struct RegistrationTokenRow {
    user_registration_token_id: DbId,
    usage_limit: Option<i64>,
    times_used: i64,
    created_at: DbTime,
    expires_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
    last_used_at: Option<DbTime>,
}

impl TryFrom<RegistrationTokenRow> for RegistrationToken {
    type Error = StorageError;

    fn try_from(row: RegistrationTokenRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.user_registration_token_id.0,
            usage_limit: row
                .usage_limit
                .map(|limit| counter("usage_limit", limit))
                .transpose()?,
            times_used: counter("times_used", row.times_used)?,
            created_at: row.created_at.0,
            expires_at: row.expires_at.map(|time| time.0),
            revoked_at: row.revoked_at.map(|time| time.0),
            last_used_at: row.last_used_at.map(|time| time.0),
        })
    }
}

#[async_trait]
impl RegistrationTokenRepository for SqlRepository {
    async fn add(
        &mut self,
        token: &str,
        usage_limit: Option<u32>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<RegistrationToken, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_registration_tokens ",
            "(user_registration_token_id, token_hash, usage_limit, times_used, created_at, ",
            "expires_at) VALUES ($1, $2, $3, 0, $4, $5) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: RegistrationTokenRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(hash_token(token))
            .bind(usage_limit.map(i64::from))
            .bind(DbTime(now))
            .bind(expires_at.map(DbTime))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<RegistrationToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_registration_tokens WHERE user_registration_token_id = $1"
        );
        let row: Option<RegistrationTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(RegistrationToken::try_from).transpose()
    }

    async fn find_by_token(
        &mut self,
        token: &str,
    ) -> Result<Option<RegistrationToken>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_registration_tokens WHERE token_hash = $1"
        );
        let row: Option<RegistrationTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(token))
            .fetch_optional(conn)
            .await)?;
        row.map(RegistrationToken::try_from).transpose()
    }

    async fn consume(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<RegistrationToken>, StorageError> {
        // Check and use in one statement: two registrations racing for the last use cannot
        // both see it free. On PostgreSQL the loser waits for the winner's row lock, then
        // re-evaluates the condition on the updated row and matches nothing; on SQLite the
        // write lock serialises the two.
        const SQL: &str = concat!(
            "UPDATE user_registration_tokens ",
            "SET times_used = times_used + 1, last_used_at = $2 ",
            "WHERE token_hash = $1 ",
            "AND revoked_at IS NULL ",
            "AND (expires_at IS NULL OR expires_at > $2) ",
            "AND (usage_limit IS NULL OR times_used < usage_limit) ",
            "RETURNING ",
            columns!()
        );
        let row: Option<RegistrationTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(token))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(RegistrationToken::try_from).transpose()
    }

    async fn consume_by_id(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<RegistrationToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE user_registration_tokens ",
            "SET times_used = times_used + 1, last_used_at = $2 ",
            "WHERE user_registration_token_id = $1 ",
            "AND revoked_at IS NULL ",
            "AND (expires_at IS NULL OR expires_at > $2) ",
            "AND (usage_limit IS NULL OR times_used < usage_limit) ",
            "RETURNING ",
            columns!()
        );
        let row: Option<RegistrationTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(RegistrationToken::try_from).transpose()
    }

    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<RegistrationToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE user_registration_tokens SET revoked_at = COALESCE(revoked_at, $2) ",
            "WHERE user_registration_token_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<RegistrationTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(RegistrationToken::try_from).transpose()
    }
}
