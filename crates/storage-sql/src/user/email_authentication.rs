//! The email verification codes, in table `user_email_authentications`.
//!
//! Only the SHA-256 of a code is stored (`code_hash`): completion hashes the clear code first.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use portcullis_model::{UserEmailAuthentication, token::hash_token};
use portcullis_storage::{StorageError, UserEmailAuthenticationRepository};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, counter},
};

/// The columns every query returns, in [`EmailAuthenticationRow`]'s order.
macro_rules! columns {
    () => {
        "user_email_authentication_id, email, user_id, created_at, expires_at, completed_at, \
         attempts"
    };
}

#[derive(sqlx::FromRow)]
struct EmailAuthenticationRow {
    user_email_authentication_id: DbId,
    email: String,
    user_id: Option<DbId>,
    created_at: DbTime,
    expires_at: DbTime,
    completed_at: Option<DbTime>,
    attempts: i64,
}

impl TryFrom<EmailAuthenticationRow> for UserEmailAuthentication {
    type Error = StorageError;

    fn try_from(row: EmailAuthenticationRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.user_email_authentication_id.0,
            email: row.email,
            user_id: row.user_id.map(|id| id.0),
            created_at: row.created_at.0,
            expires_at: row.expires_at.0,
            completed_at: row.completed_at.map(|time| time.0),
            attempts: counter("attempts", row.attempts)?,
        })
    }
}

#[async_trait]
impl UserEmailAuthenticationRepository for SqlRepository {
    async fn add(
        &mut self,
        email: &str,
        code: &str,
        user_id: Option<Ulid>,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<UserEmailAuthentication, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_email_authentications ",
            "(user_email_authentication_id, email, code_hash, user_id, created_at, expires_at, ",
            "attempts) VALUES ($1, $2, $3, $4, $5, $6, 0) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: EmailAuthenticationRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(email)
            .bind(hash_token(code))
            .bind(user_id.map(DbId))
            .bind(DbTime(now))
            .bind(DbTime(now + ttl))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<UserEmailAuthentication>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_email_authentications WHERE user_email_authentication_id = $1"
        );
        let row: Option<EmailAuthenticationRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(UserEmailAuthentication::try_from).transpose()
    }

    async fn record_attempt(
        &mut self,
        id: Ulid,
        _now: DateTime<Utc>,
    ) -> Result<Option<u32>, StorageError> {
        const SQL: &str = "UPDATE user_email_authentications SET attempts = attempts + 1 \
             WHERE user_email_authentication_id = $1 RETURNING attempts";
        let attempts: Option<i64> = on_backend!(self, |conn| sqlx::query_scalar(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        attempts
            .map(|attempts| counter("attempts", attempts))
            .transpose()
    }

    async fn complete(
        &mut self,
        id: Ulid,
        code: &str,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<UserEmailAuthentication>, StorageError> {
        // Check and complete in one statement: a code is accepted once, however many submit it.
        const SQL: &str = concat!(
            "UPDATE user_email_authentications SET completed_at = $3 ",
            "WHERE user_email_authentication_id = $1 AND code_hash = $2 ",
            "AND completed_at IS NULL AND expires_at > $3 AND attempts <= $4 ",
            "RETURNING ",
            columns!()
        );
        let row: Option<EmailAuthenticationRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(hash_token(code))
            .bind(DbTime(now))
            .bind(i64::from(max_attempts))
            .fetch_optional(conn)
            .await)?;
        row.map(UserEmailAuthentication::try_from).transpose()
    }

    async fn delete_expired_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        // Registrations waiting on one of these go with it (ON DELETE CASCADE).
        const SQL: &str = "DELETE FROM user_email_authentications WHERE expires_at < $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted)
    }
}
