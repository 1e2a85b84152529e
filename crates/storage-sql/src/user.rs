//! The users, in table `users`.

mod email;
mod email_authentication;
mod password;
mod recovery_ticket;
mod registration;
mod registration_token;
mod session;
mod terms;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::User;
use portcullis_storage::{StorageError, UserRepository};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

/// The columns every query returns, in [`UserRow`]'s order.
macro_rules! columns {
    () => {
        "user_id, username, created_at, locked_at, deactivated_at, can_request_admin"
    };
}

#[derive(sqlx::FromRow)]
struct UserRow {
    user_id: DbId,
    username: String,
    created_at: DbTime,
    locked_at: Option<DbTime>,
    deactivated_at: Option<DbTime>,
    can_request_admin: bool,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.user_id.0,
            username: row.username,
            created_at: row.created_at.0,
            locked_at: row.locked_at.map(|time| time.0),
            deactivated_at: row.deactivated_at.map(|time| time.0),
            can_request_admin: row.can_request_admin,
        }
    }
}

fn not_found(id: Ulid) -> StorageError {
    StorageError::NotFound {
        entity: "user",
        id: id.to_string(),
    }
}

#[async_trait]
impl UserRepository for SqlRepository {
    async fn add(&mut self, username: &str, now: DateTime<Utc>) -> Result<User, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO users (user_id, username, created_at, can_request_admin) ",
            "VALUES ($1, $2, $3, FALSE) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: UserRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(username)
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find_by_id(&mut self, id: Ulid) -> Result<Option<User>, StorageError> {
        const SQL: &str = concat!("SELECT ", columns!(), " FROM users WHERE user_id = $1");
        let row: Option<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(User::from))
    }

    async fn find_by_username(&mut self, username: &str) -> Result<Option<User>, StorageError> {
        const SQL: &str = concat!("SELECT ", columns!(), " FROM users WHERE username = $1");
        let row: Option<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(username)
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(User::from))
    }

    async fn list(&mut self, limit: usize) -> Result<Vec<User>, StorageError> {
        // ULIDs start with their creation time, so id order is creation order.
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM users ORDER BY user_id LIMIT $1"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn lock(&mut self, user: User, now: DateTime<Utc>) -> Result<User, StorageError> {
        const SQL: &str = concat!(
            "UPDATE users SET locked_at = COALESCE(locked_at, $2) ",
            "WHERE user_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(User::from).ok_or_else(|| not_found(user.id))
    }

    async fn unlock(&mut self, user: User) -> Result<User, StorageError> {
        const SQL: &str = concat!(
            "UPDATE users SET locked_at = NULL WHERE user_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_optional(conn)
            .await)?;
        row.map(User::from).ok_or_else(|| not_found(user.id))
    }

    async fn deactivate(&mut self, user: User, now: DateTime<Utc>) -> Result<User, StorageError> {
        const SQL: &str = concat!(
            "UPDATE users SET deactivated_at = COALESCE(deactivated_at, $2) ",
            "WHERE user_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(User::from).ok_or_else(|| not_found(user.id))
    }

    async fn reactivate(&mut self, user: User) -> Result<User, StorageError> {
        const SQL: &str = concat!(
            "UPDATE users SET deactivated_at = NULL WHERE user_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_optional(conn)
            .await)?;
        row.map(User::from).ok_or_else(|| not_found(user.id))
    }

    async fn set_can_request_admin(
        &mut self,
        user: User,
        can_request_admin: bool,
    ) -> Result<User, StorageError> {
        const SQL: &str = concat!(
            "UPDATE users SET can_request_admin = $2 WHERE user_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .bind(can_request_admin)
            .fetch_optional(conn)
            .await)?;
        row.map(User::from).ok_or_else(|| not_found(user.id))
    }
}
