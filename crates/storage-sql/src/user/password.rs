//! The password hashes, in table `user_passwords`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{User, UserPassword};
use portcullis_storage::{StorageError, UserPasswordRepository};

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, counter},
};

/// The columns every query returns, in [`UserPasswordRow`]'s order.
macro_rules! columns {
    () => {
        "user_password_id, user_id, hashed_password, version, upgraded_from_id, created_at"
    };
}

#[derive(sqlx::FromRow)]
struct UserPasswordRow {
    user_password_id: DbId,
    user_id: DbId,
    hashed_password: String,
    version: i64,
    upgraded_from_id: Option<DbId>,
    created_at: DbTime,
}

impl TryFrom<UserPasswordRow> for UserPassword {
    type Error = StorageError;

    fn try_from(row: UserPasswordRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.user_password_id.0,
            user_id: row.user_id.0,
            hashed_password: row.hashed_password,
            version: counter("user_passwords.version", row.version)?,
            upgraded_from_id: row.upgraded_from_id.map(|id| id.0),
            created_at: row.created_at.0,
        })
    }
}

#[async_trait]
impl UserPasswordRepository for SqlRepository {
    async fn add(
        &mut self,
        user: &User,
        hashed_password: &str,
        version: u32,
        upgraded_from: Option<&UserPassword>,
        now: DateTime<Utc>,
    ) -> Result<UserPassword, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_passwords (user_password_id, user_id, hashed_password, version, ",
            "upgraded_from_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: UserPasswordRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .bind(hashed_password)
            .bind(i64::from(version))
            .bind(upgraded_from.map(|password| DbId(password.id)))
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn active(&mut self, user: &User) -> Result<Option<UserPassword>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_passwords WHERE user_id = $1 ",
            "ORDER BY created_at DESC, user_password_id DESC LIMIT 1"
        );
        let row: Option<UserPasswordRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_optional(conn)
            .await)?;
        row.map(UserPassword::try_from).transpose()
    }

    async fn remove_all(&mut self, user: &User) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM user_passwords WHERE user_id = $1";
        let done = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(done)
    }
}
