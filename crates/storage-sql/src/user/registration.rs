//! The registrations waiting for their email address, in table `user_registrations`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::UserRegistration;
use portcullis_storage::{NewUserRegistration, StorageError, UserRegistrationRepository};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, counter},
};

/// The columns every query returns, in [`RegistrationRow`]'s order.
macro_rules! columns {
    () => {
        "user_registration_id, username, hashed_password, password_version, display_name, \
         email, user_registration_token_id, continuation, user_email_authentication_id, \
         created_at, completed_at"
    };
}

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    user_registration_id: DbId,
    username: String,
    hashed_password: String,
    password_version: i64,
    display_name: Option<String>,
    email: String,
    user_registration_token_id: Option<DbId>,
    continuation: Option<String>,
    user_email_authentication_id: DbId,
    created_at: DbTime,
    completed_at: Option<DbTime>,
}

impl TryFrom<RegistrationRow> for UserRegistration {
    type Error = StorageError;

    fn try_from(row: RegistrationRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.user_registration_id.0,
            username: row.username,
            hashed_password: row.hashed_password,
            password_version: counter("password_version", row.password_version)?,
            display_name: row.display_name,
            email: row.email,
            registration_token_id: row.user_registration_token_id.map(|id| id.0),
            continuation: row.continuation,
            email_authentication_id: row.user_email_authentication_id.0,
            created_at: row.created_at.0,
            completed_at: row.completed_at.map(|time| time.0),
        })
    }
}

#[async_trait]
impl UserRegistrationRepository for SqlRepository {
    async fn add(
        &mut self,
        registration: NewUserRegistration<'_>,
        now: DateTime<Utc>,
    ) -> Result<UserRegistration, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_registrations ",
            "(user_registration_id, username, hashed_password, password_version, display_name, ",
            "email, user_registration_token_id, continuation, user_email_authentication_id, ",
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: RegistrationRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(registration.username)
            .bind(registration.hashed_password)
            .bind(i64::from(registration.password_version))
            .bind(registration.display_name)
            .bind(registration.email)
            .bind(registration.registration_token_id.map(DbId))
            .bind(registration.continuation)
            .bind(DbId(registration.email_authentication_id))
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<UserRegistration>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_registrations WHERE user_registration_id = $1"
        );
        let row: Option<RegistrationRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(UserRegistration::try_from).transpose()
    }

    async fn set_email_authentication(
        &mut self,
        id: Ulid,
        email_authentication_id: Ulid,
    ) -> Result<Option<UserRegistration>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE user_registrations SET user_email_authentication_id = $2 ",
            "WHERE user_registration_id = $1 AND completed_at IS NULL RETURNING ",
            columns!()
        );
        let row: Option<RegistrationRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(email_authentication_id))
            .fetch_optional(conn)
            .await)?;
        row.map(UserRegistration::try_from).transpose()
    }

    async fn complete(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRegistration>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE user_registrations SET completed_at = $2 ",
            "WHERE user_registration_id = $1 AND completed_at IS NULL RETURNING ",
            columns!()
        );
        let row: Option<RegistrationRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(UserRegistration::try_from).transpose()
    }
}
