//! The authorization grants, in table `oauth2_authorization_grants`.
//!
//! Only the SHA-256 of a code is stored (`code_hash`, unique). The stage is told by the
//! columns (`fulfilled_at`, `exchanged_at`, `cancelled_at`), which the table's checks keep
//! consistent; every change of stage is one `UPDATE` whose condition is the stage it leaves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{
    AuthorizationGrant, AuthorizationGrantStage, BrowserSession, CodeChallenge, OAuthSession,
    token::hash_token,
};
use portcullis_storage::{AuthorizationGrantRepository, NewAuthorizationGrant, StorageError};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, counter, parsed},
};

/// The columns every query returns, in [`AuthorizationGrantRow`]'s order.
macro_rules! columns {
    () => {
        "oauth2_authorization_grant_id, oauth2_client_id, redirect_uri, scope, state, nonce, \
         response_mode, response_type_code, response_type_id_token, code_hash, code_challenge, \
         code_challenge_method, max_age, login_hint, locale, requires_consent, \
         oauth2_session_id, user_session_id, created_at, fulfilled_at, exchanged_at, \
         cancelled_at, raw_parameters"
    };
}

#[derive(sqlx::FromRow)]
struct AuthorizationGrantRow {
    oauth2_authorization_grant_id: DbId,
    oauth2_client_id: DbId,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    response_mode: String,
    response_type_code: bool,
    response_type_id_token: bool,
    code_hash: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    max_age: Option<i64>,
    login_hint: Option<String>,
    locale: Option<String>,
    requires_consent: bool,
    oauth2_session_id: Option<DbId>,
    user_session_id: Option<DbId>,
    created_at: DbTime,
    fulfilled_at: Option<DbTime>,
    exchanged_at: Option<DbTime>,
    cancelled_at: Option<DbTime>,
    raw_parameters: Option<sqlx::types::Json<serde_json::Value>>,
}

impl AuthorizationGrantRow {
    fn stage(&self) -> Result<AuthorizationGrantStage, StorageError> {
        let fulfilled = match (
            self.oauth2_session_id,
            self.user_session_id,
            self.fulfilled_at,
        ) {
            (Some(session_id), Some(user_session_id), Some(fulfilled_at)) => {
                Some((session_id.0, user_session_id.0, fulfilled_at.0))
            }
            (None, None, None) => None,
            _ => return Err(inconsistent(self.oauth2_authorization_grant_id)),
        };
        Ok(match (fulfilled, self.exchanged_at, self.cancelled_at) {
            (None, None, None) => AuthorizationGrantStage::Pending,
            (None, None, Some(cancelled_at)) => AuthorizationGrantStage::Cancelled {
                cancelled_at: cancelled_at.0,
            },
            (Some((session_id, user_session_id, fulfilled_at)), None, None) => {
                AuthorizationGrantStage::Fulfilled {
                    session_id,
                    user_session_id,
                    fulfilled_at,
                }
            }
            (Some((session_id, user_session_id, fulfilled_at)), Some(exchanged_at), None) => {
                AuthorizationGrantStage::Exchanged {
                    session_id,
                    user_session_id,
                    fulfilled_at,
                    exchanged_at: exchanged_at.0,
                }
            }
            _ => return Err(inconsistent(self.oauth2_authorization_grant_id)),
        })
    }
}

fn inconsistent(id: DbId) -> StorageError {
    StorageError::InvalidData(format!(
        "authorization grant {} has the columns of no single stage",
        id.0
    ))
}

impl TryFrom<AuthorizationGrantRow> for AuthorizationGrant {
    type Error = StorageError;

    fn try_from(row: AuthorizationGrantRow) -> Result<Self, Self::Error> {
        let stage = row.stage()?;
        let code_challenge = match (row.code_challenge, row.code_challenge_method) {
            (Some(challenge), Some(method)) => Some(CodeChallenge {
                challenge,
                method: parsed("oauth2_authorization_grants.code_challenge_method", &method)?,
            }),
            (None, None) => None,
            _ => return Err(inconsistent(row.oauth2_authorization_grant_id)),
        };
        Ok(Self {
            id: row.oauth2_authorization_grant_id.0,
            stage,
            client_id: row.oauth2_client_id.0,
            redirect_uri: parsed(
                "oauth2_authorization_grants.redirect_uri",
                &row.redirect_uri,
            )?,
            scope: parsed("oauth2_authorization_grants.scope", &row.scope)?,
            state: row.state,
            nonce: row.nonce,
            response_mode: parsed(
                "oauth2_authorization_grants.response_mode",
                &row.response_mode,
            )?,
            response_type_code: row.response_type_code,
            response_type_id_token: row.response_type_id_token,
            code_hash: row.code_hash,
            code_challenge,
            max_age: row
                .max_age
                .map(|max_age| counter("oauth2_authorization_grants.max_age", max_age))
                .transpose()?,
            login_hint: row.login_hint,
            locale: row.locale,
            requires_consent: row.requires_consent,
            created_at: row.created_at.0,
            raw_parameters: row.raw_parameters.map(|json| json.0),
        })
    }
}

#[async_trait]
impl AuthorizationGrantRepository for SqlRepository {
    async fn add(
        &mut self,
        grant: &NewAuthorizationGrant,
        code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<AuthorizationGrant, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO oauth2_authorization_grants (oauth2_authorization_grant_id, ",
            "oauth2_client_id, redirect_uri, scope, state, nonce, response_mode, ",
            "response_type_code, response_type_id_token, code_hash, code_challenge, ",
            "code_challenge_method, max_age, login_hint, locale, requires_consent, created_at, ",
            "raw_parameters) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, ",
            "$18) ",
            "RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let challenge = grant.code_challenge.as_ref();
        let row: AuthorizationGrantRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(grant.client_id))
            .bind(grant.redirect_uri.as_str())
            .bind(grant.scope.to_string())
            .bind(&grant.state)
            .bind(&grant.nonce)
            .bind(grant.response_mode.as_str())
            .bind(grant.response_type_code)
            .bind(grant.response_type_id_token)
            .bind(code.map(hash_token))
            .bind(challenge.map(|challenge| challenge.challenge.as_str()))
            .bind(challenge.map(|challenge| challenge.method.as_str()))
            .bind(grant.max_age.map(i64::from))
            .bind(&grant.login_hint)
            .bind(&grant.locale)
            .bind(grant.requires_consent)
            .bind(DbTime(now))
            .bind(grant.raw_parameters.as_ref().map(sqlx::types::Json))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<AuthorizationGrant>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_authorization_grants WHERE oauth2_authorization_grant_id = $1"
        );
        let row: Option<AuthorizationGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(AuthorizationGrant::try_from).transpose()
    }

    async fn find_by_code(
        &mut self,
        code: &str,
    ) -> Result<Option<AuthorizationGrant>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_authorization_grants WHERE code_hash = $1"
        );
        let row: Option<AuthorizationGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(code))
            .fetch_optional(conn)
            .await)?;
        row.map(AuthorizationGrant::try_from).transpose()
    }

    async fn fulfill(
        &mut self,
        id: Ulid,
        session: &OAuthSession,
        browser_session: &BrowserSession,
        code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<AuthorizationGrant>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE oauth2_authorization_grants ",
            "SET fulfilled_at = $2, oauth2_session_id = $3, user_session_id = $4, ",
            "code_hash = COALESCE($5, code_hash) ",
            "WHERE oauth2_authorization_grant_id = $1 ",
            "AND fulfilled_at IS NULL AND cancelled_at IS NULL ",
            "RETURNING ",
            columns!()
        );
        let row: Option<AuthorizationGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .bind(DbId(session.id))
            .bind(DbId(browser_session.id))
            .bind(code.map(hash_token))
            .fetch_optional(conn)
            .await)?;
        row.map(AuthorizationGrant::try_from).transpose()
    }

    async fn exchange(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<AuthorizationGrant>, StorageError> {
        // RFC 6749 §4.1.2: a code is used once. Check and use in one statement: of two token
        // requests racing with the same code, the second waits for the first's row lock
        // (PostgreSQL) or write lock (SQLite), then finds the code exchanged and matches
        // nothing.
        const SQL: &str = concat!(
            "UPDATE oauth2_authorization_grants SET exchanged_at = $2 ",
            "WHERE code_hash = $1 AND fulfilled_at IS NOT NULL AND exchanged_at IS NULL ",
            "AND cancelled_at IS NULL ",
            "RETURNING ",
            columns!()
        );
        let row: Option<AuthorizationGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(code))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(AuthorizationGrant::try_from).transpose()
    }

    async fn cancel(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<AuthorizationGrant>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE oauth2_authorization_grants SET cancelled_at = $2 ",
            "WHERE oauth2_authorization_grant_id = $1 ",
            "AND fulfilled_at IS NULL AND cancelled_at IS NULL ",
            "RETURNING ",
            columns!()
        );
        let row: Option<AuthorizationGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(AuthorizationGrant::try_from).transpose()
    }
}
