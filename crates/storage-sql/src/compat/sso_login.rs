//! The single sign-on logins, in table `compat_sso_logins`.
//!
//! Only the SHA-256 of a login token is stored (`login_token_hash`, unique). The state is told
//! by the columns (`fulfilled_at`, `exchanged_at`), which the table's checks keep consistent;
//! every change of state is one `UPDATE` whose condition is the state it leaves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatSsoLogin, CompatSsoLoginState, token::hash_token};
use portcullis_storage::{CompatSsoLoginRepository, StorageError};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, parsed},
};

/// The columns every query returns, in [`CompatSsoLoginRow`]'s order.
macro_rules! columns {
    () => {
        "compat_sso_login_id, redirect_uri, created_at, fulfilled_at, exchanged_at, \
         user_session_id, compat_session_id"
    };
}

#[derive(sqlx::FromRow)]
struct CompatSsoLoginRow {
    compat_sso_login_id: DbId,
    redirect_uri: String,
    created_at: DbTime,
    fulfilled_at: Option<DbTime>,
    exchanged_at: Option<DbTime>,
    user_session_id: Option<DbId>,
    compat_session_id: Option<DbId>,
}

impl CompatSsoLoginRow {
    fn state(&self) -> Result<CompatSsoLoginState, StorageError> {
        Ok(
            match (
                self.fulfilled_at,
                self.user_session_id,
                self.exchanged_at,
                self.compat_session_id,
            ) {
                (None, None, None, None) => CompatSsoLoginState::Pending,
                (Some(fulfilled_at), Some(user_session_id), None, None) => {
                    CompatSsoLoginState::Fulfilled {
                        fulfilled_at: fulfilled_at.0,
                        user_session_id: user_session_id.0,
                    }
                }
                (
                    Some(fulfilled_at),
                    Some(user_session_id),
                    Some(exchanged_at),
                    Some(session_id),
                ) => CompatSsoLoginState::Exchanged {
                    fulfilled_at: fulfilled_at.0,
                    exchanged_at: exchanged_at.0,
                    user_session_id: user_session_id.0,
                    session_id: session_id.0,
                },
                _ => {
                    return Err(StorageError::InvalidData(format!(
                        "single sign-on login {} has the columns of no single state",
                        self.compat_sso_login_id.0
                    )));
                }
            },
        )
    }
}

impl TryFrom<CompatSsoLoginRow> for CompatSsoLogin {
    type Error = StorageError;

    fn try_from(row: CompatSsoLoginRow) -> Result<Self, Self::Error> {
        let state = row.state()?;
        Ok(Self {
            id: row.compat_sso_login_id.0,
            redirect_uri: parsed("compat_sso_logins.redirect_uri", &row.redirect_uri)?,
            created_at: row.created_at.0,
            state,
        })
    }
}

#[async_trait]
impl CompatSsoLoginRepository for SqlRepository {
    async fn add(
        &mut self,
        login_token: &str,
        redirect_uri: &url::Url,
        now: DateTime<Utc>,
    ) -> Result<CompatSsoLogin, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO compat_sso_logins (compat_sso_login_id, login_token_hash, ",
            "redirect_uri, created_at) VALUES ($1, $2, $3, $4) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: CompatSsoLoginRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(hash_token(login_token))
            .bind(redirect_uri.as_str())
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<CompatSsoLogin>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_sso_logins WHERE compat_sso_login_id = $1"
        );
        let row: Option<CompatSsoLoginRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(CompatSsoLogin::try_from).transpose()
    }

    async fn find_by_token(
        &mut self,
        login_token: &str,
    ) -> Result<Option<CompatSsoLogin>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_sso_logins WHERE login_token_hash = $1"
        );
        let row: Option<CompatSsoLoginRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(login_token))
            .fetch_optional(conn)
            .await)?;
        row.map(CompatSsoLogin::try_from).transpose()
    }

    async fn fulfill(
        &mut self,
        id: Ulid,
        user_session_id: Ulid,
        login_token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatSsoLogin>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE compat_sso_logins ",
            "SET fulfilled_at = $2, user_session_id = $3, login_token_hash = $4 ",
            "WHERE compat_sso_login_id = $1 AND fulfilled_at IS NULL ",
            "RETURNING ",
            columns!()
        );
        let row: Option<CompatSsoLoginRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .bind(DbId(user_session_id))
            .bind(hash_token(login_token))
            .fetch_optional(conn)
            .await)?;
        row.map(CompatSsoLogin::try_from).transpose()
    }

    async fn exchange(
        &mut self,
        id: Ulid,
        session_id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatSsoLogin>, StorageError> {
        // A login token is used once. Check and use in one statement: of two logins racing with
        // the same token, the second waits for the first's row lock (PostgreSQL) or write lock
        // (SQLite), then finds the login exchanged and matches nothing.
        const SQL: &str = concat!(
            "UPDATE compat_sso_logins SET exchanged_at = $2, compat_session_id = $3 ",
            "WHERE compat_sso_login_id = $1 AND fulfilled_at IS NOT NULL ",
            "AND exchanged_at IS NULL ",
            "RETURNING ",
            columns!()
        );
        let row: Option<CompatSsoLoginRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .bind(DbId(session_id))
            .fetch_optional(conn)
            .await)?;
        row.map(CompatSsoLogin::try_from).transpose()
    }
}
