//! Sign-in attempts through upstream providers, in table
//! `upstream_oauth_authorization_sessions`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{UpstreamAnswer, UpstreamAuthorizationSession};
use portcullis_storage::{
    NewUpstreamAuthorizationSession, StorageError, UpstreamAuthorizationSessionRepository,
};
use sqlx::types::Json;
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

/// The columns every query returns, in [`AuthorizationSessionRow`]'s order.
macro_rules! columns {
    () => {
        "upstream_oauth_authorization_session_id, upstream_oauth_provider_id, state, nonce, \
         code_verifier, post_auth_action, created_at, upstream_oauth_link_id, id_token, \
         id_token_claims, userinfo_claims, extra_callback_parameters, completed_at, \
         user_session_id, consumed_at"
    };
}

type JsonValue = Json<serde_json::Value>;

#[derive(sqlx::FromRow)]
struct AuthorizationSessionRow {
    upstream_oauth_authorization_session_id: DbId,
    upstream_oauth_provider_id: String,
    state: String,
    nonce: Option<String>,
    code_verifier: Option<String>,
    post_auth_action: Option<JsonValue>,
    created_at: DbTime,
    upstream_oauth_link_id: Option<DbId>,
    id_token: Option<String>,
    id_token_claims: Option<JsonValue>,
    userinfo_claims: Option<JsonValue>,
    extra_callback_parameters: Option<JsonValue>,
    completed_at: Option<DbTime>,
    user_session_id: Option<DbId>,
    consumed_at: Option<DbTime>,
}

impl From<AuthorizationSessionRow> for UpstreamAuthorizationSession {
    fn from(row: AuthorizationSessionRow) -> Self {
        Self {
            id: row.upstream_oauth_authorization_session_id.0,
            provider_id: row.upstream_oauth_provider_id,
            state: row.state,
            nonce: row.nonce,
            code_verifier: row.code_verifier,
            post_auth_action: row.post_auth_action.map(|json| json.0),
            created_at: row.created_at.0,
            link_id: row.upstream_oauth_link_id.map(|id| id.0),
            id_token: row.id_token,
            id_token_claims: row.id_token_claims.map(|json| json.0),
            userinfo_claims: row.userinfo_claims.map(|json| json.0),
            extra_callback_parameters: row.extra_callback_parameters.map(|json| json.0),
            completed_at: row.completed_at.map(|time| time.0),
            user_session_id: row.user_session_id.map(|id| id.0),
            consumed_at: row.consumed_at.map(|time| time.0),
        }
    }
}

#[async_trait]
impl UpstreamAuthorizationSessionRepository for SqlRepository {
    async fn add(
        &mut self,
        session: &NewUpstreamAuthorizationSession,
        now: DateTime<Utc>,
    ) -> Result<UpstreamAuthorizationSession, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO upstream_oauth_authorization_sessions ",
            "(upstream_oauth_authorization_session_id, upstream_oauth_provider_id, state, nonce, ",
            "code_verifier, post_auth_action, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ",
            "RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: AuthorizationSessionRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(&session.provider_id)
            .bind(&session.state)
            .bind(&session.nonce)
            .bind(&session.code_verifier)
            .bind(session.post_auth_action.as_ref().map(Json))
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find(
        &mut self,
        id: Ulid,
    ) -> Result<Option<UpstreamAuthorizationSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM upstream_oauth_authorization_sessions ",
            "WHERE upstream_oauth_authorization_session_id = $1"
        );
        let row: Option<AuthorizationSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamAuthorizationSession::from))
    }

    async fn find_by_state(
        &mut self,
        provider_id: &str,
        state: &str,
    ) -> Result<Option<UpstreamAuthorizationSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM upstream_oauth_authorization_sessions ",
            "WHERE upstream_oauth_provider_id = $1 AND state = $2"
        );
        let row: Option<AuthorizationSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(provider_id)
            .bind(state)
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamAuthorizationSession::from))
    }

    async fn complete(
        &mut self,
        id: Ulid,
        answer: &UpstreamAnswer,
        now: DateTime<Utc>,
    ) -> Result<Option<UpstreamAuthorizationSession>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE upstream_oauth_authorization_sessions SET upstream_oauth_link_id = $2, ",
            "id_token = $3, id_token_claims = $4, userinfo_claims = $5, ",
            "extra_callback_parameters = $6, completed_at = $7, id_token_sub = $8, ",
            "id_token_sid = $9 ",
            "WHERE upstream_oauth_authorization_session_id = $1 AND completed_at IS NULL ",
            "RETURNING ",
            columns!()
        );
        // Kept apart for back-channel logouts to find by index.
        let claim = |name: &str| {
            answer
                .id_token_claims
                .as_ref()
                .and_then(|claims| claims.get(name))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let row: Option<AuthorizationSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(answer.link_id))
            .bind(&answer.id_token)
            .bind(answer.id_token_claims.as_ref().map(Json))
            .bind(answer.userinfo_claims.as_ref().map(Json))
            .bind(answer.extra_callback_parameters.as_ref().map(Json))
            .bind(DbTime(now))
            .bind(claim("sub"))
            .bind(claim("sid"))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamAuthorizationSession::from))
    }

    async fn consume(
        &mut self,
        id: Ulid,
        user_session_id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<UpstreamAuthorizationSession>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE upstream_oauth_authorization_sessions SET user_session_id = $2, ",
            "consumed_at = $3 WHERE upstream_oauth_authorization_session_id = $1 ",
            "AND completed_at IS NOT NULL AND consumed_at IS NULL RETURNING ",
            columns!()
        );
        let row: Option<AuthorizationSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(user_session_id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamAuthorizationSession::from))
    }

    async fn delete_unused_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM upstream_oauth_authorization_sessions \
                           WHERE consumed_at IS NULL AND created_at < $1";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))
    }

    async fn open_sessions_signed_in_by(
        &mut self,
        provider_id: &str,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<Vec<Ulid>, StorageError> {
        const SELECT: &str = "SELECT DISTINCT a.user_session_id \
             FROM upstream_oauth_authorization_sessions a \
             JOIN user_sessions s ON s.user_session_id = a.user_session_id \
             WHERE a.upstream_oauth_provider_id = $1 AND s.finished_at IS NULL";
        let (sql, values): (String, Vec<&str>) = match (sub, sid) {
            (Some(sub), Some(sid)) => (
                format!("{SELECT} AND a.id_token_sub = $2 AND a.id_token_sid = $3"),
                vec![sub, sid],
            ),
            (Some(sub), None) => (format!("{SELECT} AND a.id_token_sub = $2"), vec![sub]),
            (None, Some(sid)) => (format!("{SELECT} AND a.id_token_sid = $2"), vec![sid]),
            (None, None) => return Ok(Vec::new()),
        };
        let rows: Vec<(DbId,)> = on_backend!(self, |conn| {
            let mut query = sqlx::query_as(&sql).bind(provider_id);
            for value in &values {
                query = query.bind(*value);
            }
            query.fetch_all(conn).await
        })?;
        Ok(rows.into_iter().map(|(id,)| id.0).collect())
    }
}
