//! The registration tokens, in table `user_registration_tokens`.
//!
//! Lookups and consumption go through the SHA-256 of a token (`token_hash`, unique); the clear
//! value (`token`) is kept for administrators to read back, and is absent for tokens made
//! before it was.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{RegistrationToken, token::hash_token};
use portcullis_storage::{
    Page, Pagination, RegistrationTokenChange, RegistrationTokenFilter,
    RegistrationTokenRepository, StorageError,
};
use ulid::Ulid;

use crate::{
    listing::{Arg, Conditions, bind_args},
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, counter},
};

/// The columns every query returns, in [`RegistrationTokenRow`]'s order.
macro_rules! columns {
    () => {
        "user_registration_token_id, token, usage_limit, times_used, created_at, expires_at, \
         revoked_at, last_used_at"
    };
}

#[derive(sqlx::FromRow)]
struct RegistrationTokenRow {
    user_registration_token_id: DbId,
    token: Option<String>,
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
            token: row.token,
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

/// The conditions of `filter` on table `user_registration_tokens`.
fn conditions(filter: &RegistrationTokenFilter) -> Conditions {
    let mut conditions = Conditions::default();
    conditions.and_flag(filter.used, "times_used > 0");
    conditions.and_flag(filter.revoked, "revoked_at IS NOT NULL");
    if let Some(expired) = filter.expired {
        let clause = "expires_at IS NOT NULL AND expires_at <= ?";
        let clause = if expired {
            clause.to_owned()
        } else {
            format!("NOT ({clause})")
        };
        conditions.and(&clause, [Arg::Time(filter.now)]);
    }
    if let Some(valid) = filter.valid {
        let clause = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) \
                      AND (usage_limit IS NULL OR times_used < usage_limit)";
        let clause = if valid {
            clause.to_owned()
        } else {
            format!("NOT ({clause})")
        };
        conditions.and(&clause, [Arg::Time(filter.now)]);
    }
    conditions
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
            "(user_registration_token_id, token_hash, token, usage_limit, times_used, ",
            "created_at, expires_at) VALUES ($1, $2, $6, $3, 0, $4, $5) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: RegistrationTokenRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(hash_token(token))
            .bind(usage_limit.map(i64::from))
            .bind(DbTime(now))
            .bind(expires_at.map(DbTime))
            .bind(token)
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

    async fn unrevoke(&mut self, id: Ulid) -> Result<Option<RegistrationToken>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE user_registration_tokens SET revoked_at = NULL ",
            "WHERE user_registration_token_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<RegistrationTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(RegistrationToken::try_from).transpose()
    }

    async fn update(
        &mut self,
        id: Ulid,
        change: &RegistrationTokenChange,
    ) -> Result<Option<RegistrationToken>, StorageError> {
        // `$2`/`$4` say whether to set the column, `$3`/`$5` to what.
        const SQL: &str = concat!(
            "UPDATE user_registration_tokens SET ",
            "expires_at = CASE WHEN $2 THEN $3 ELSE expires_at END, ",
            "usage_limit = CASE WHEN $4 THEN $5 ELSE usage_limit END ",
            "WHERE user_registration_token_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<RegistrationTokenRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(change.expires_at.is_some())
            .bind(change.expires_at.flatten().map(DbTime))
            .bind(change.usage_limit.is_some())
            .bind(change.usage_limit.flatten().map(i64::from))
            .fetch_optional(conn)
            .await)?;
        row.map(RegistrationToken::try_from).transpose()
    }

    async fn list_page(
        &mut self,
        filter: &RegistrationTokenFilter,
        pagination: Pagination,
    ) -> Result<Page<RegistrationToken>, StorageError> {
        let (sql, args) = conditions(filter).page_query(
            columns!(),
            "user_registration_tokens",
            "user_registration_token_id",
            &pagination,
        );
        let rows: Vec<RegistrationTokenRow> =
            on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        let tokens = rows
            .into_iter()
            .map(RegistrationToken::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pagination.page(tokens))
    }

    async fn count(&mut self, filter: &RegistrationTokenFilter) -> Result<usize, StorageError> {
        let (sql, args) = conditions(filter).count_query("user_registration_tokens");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
    }
}
