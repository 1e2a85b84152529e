//! The email addresses, in table `user_emails`.
//!
//! Each row also holds the address's [normal form](UserEmail::normalize), computed here, which
//! is unique and which lookups compare against.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{User, UserEmail};
use portcullis_storage::{Page, Pagination, StorageError, UserEmailFilter, UserEmailRepository};
use ulid::Ulid;

use crate::{
    listing::{Arg, Conditions, bind_args},
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

/// The columns every query returns, in [`UserEmailRow`]'s order.
macro_rules! columns {
    () => {
        "user_email_id, user_id, email, created_at"
    };
}

#[derive(sqlx::FromRow)]
struct UserEmailRow {
    user_email_id: DbId,
    user_id: DbId,
    email: String,
    created_at: DbTime,
}

impl From<UserEmailRow> for UserEmail {
    fn from(row: UserEmailRow) -> Self {
        Self {
            id: row.user_email_id.0,
            user_id: row.user_id.0,
            email: row.email,
            created_at: row.created_at.0,
        }
    }
}

/// The conditions of `filter` on table `user_emails`.
fn conditions(filter: &UserEmailFilter) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(user) = filter.user {
        conditions.and("user_id = ?", [Arg::Id(user)]);
    }
    if let Some(email) = &filter.email {
        conditions.and(
            "normalized_email = ?",
            [Arg::Text(UserEmail::normalize(email))],
        );
    }
    conditions
}

#[async_trait]
impl UserEmailRepository for SqlRepository {
    async fn add(
        &mut self,
        user: &User,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<UserEmail, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_emails (user_email_id, user_id, email, normalized_email, ",
            "created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: UserEmailRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .bind(email)
            .bind(UserEmail::normalize(email))
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find_by_email(&mut self, email: &str) -> Result<Option<UserEmail>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_emails WHERE normalized_email = $1"
        );
        let row: Option<UserEmailRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(UserEmail::normalize(email))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UserEmail::from))
    }

    async fn list_for_user(&mut self, user: &User) -> Result<Vec<UserEmail>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_emails WHERE user_id = $1 ORDER BY created_at, user_email_id"
        );
        let rows: Vec<UserEmailRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_all(conn)
            .await)?;
        Ok(rows.into_iter().map(UserEmail::from).collect())
    }

    async fn remove(&mut self, id: Ulid) -> Result<bool, StorageError> {
        const SQL: &str = "DELETE FROM user_emails WHERE user_email_id = $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(id))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted > 0)
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<UserEmail>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_emails WHERE user_email_id = $1"
        );
        let row: Option<UserEmailRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UserEmail::from))
    }

    async fn list_page(
        &mut self,
        filter: &UserEmailFilter,
        pagination: Pagination,
    ) -> Result<Page<UserEmail>, StorageError> {
        let (sql, args) =
            conditions(filter).page_query(columns!(), "user_emails", "user_email_id", &pagination);
        let rows: Vec<UserEmailRow> =
            on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        Ok(pagination.page(rows.into_iter().map(UserEmail::from).collect()))
    }

    async fn count(&mut self, filter: &UserEmailFilter) -> Result<usize, StorageError> {
        let (sql, args) = conditions(filter).count_query("user_emails");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
    }
}
