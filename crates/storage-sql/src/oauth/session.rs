//! The OAuth 2.0 sessions, in table `oauth2_sessions`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{OAuthSession, User};
use portcullis_storage::{
    NewOAuthSession, OAuthSessionFilter, OAuthSessionRepository, Page, Pagination, StorageError,
};
use ulid::Ulid;

use crate::{
    listing::{Arg, Conditions, and_scope_holds, bind_args, session_conditions},
    repository::{SqlRepository, on_backend, on_backend_keeping_existing},
    types::{DbId, DbTime, instant, ip_address, parsed},
};

/// The columns every query returns, in [`OAuthSessionRow`]'s order.
macro_rules! columns {
    () => {
        "oauth2_session_id, oauth2_client_id, user_id, user_session_id, scope, created_at, \
         finished_at, user_agent, last_active_at, last_active_ip, human_name"
    };
}

#[derive(sqlx::FromRow)]
pub(crate) struct OAuthSessionRow {
    pub(crate) oauth2_session_id: DbId,
    pub(crate) oauth2_client_id: DbId,
    pub(crate) user_id: Option<DbId>,
    pub(crate) user_session_id: Option<DbId>,
    pub(crate) scope: String,
    pub(crate) created_at: DbTime,
    pub(crate) finished_at: Option<DbTime>,
    pub(crate) user_agent: Option<String>,
    pub(crate) last_active_at: Option<DbTime>,
    pub(crate) last_active_ip: Option<String>,
    pub(crate) human_name: Option<String>,
}

impl TryFrom<OAuthSessionRow> for OAuthSession {
    type Error = StorageError;

    fn try_from(row: OAuthSessionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.oauth2_session_id.0,
            client_id: row.oauth2_client_id.0,
            user_id: row.user_id.map(|id| id.0),
            user_session_id: row.user_session_id.map(|id| id.0),
            scope: parsed("oauth2_sessions.scope", &row.scope)?,
            created_at: row.created_at.0,
            finished_at: instant(row.finished_at),
            user_agent: row.user_agent,
            last_active_at: instant(row.last_active_at),
            last_active_ip: ip_address("oauth2_sessions.last_active_ip", row.last_active_ip)?,
            human_name: row.human_name,
        })
    }
}

/// The conditions of `filter` on table `oauth2_sessions`.
fn oauth_conditions(filter: &OAuthSessionFilter) -> Conditions {
    let mut conditions = session_conditions(&filter.session);
    if let Some(user_session) = filter.user_session {
        conditions.and("user_session_id = ?", [Arg::Id(user_session)]);
    }
    if let Some(client) = filter.client {
        conditions.and("oauth2_client_id = ?", [Arg::Id(client)]);
    }
    if let Some(is_static) = filter.static_client {
        conditions.and(
            "EXISTS (SELECT 1 FROM oauth2_clients AS c \
             WHERE c.oauth2_client_id = oauth2_sessions.oauth2_client_id AND c.is_static = ?)",
            [Arg::Bool(is_static)],
        );
    }
    if let Some(scope) = &filter.scope {
        and_scope_holds(&mut conditions, "scope", scope);
    }
    conditions
}

#[async_trait]
impl OAuthSessionRepository for SqlRepository {
    async fn add(
        &mut self,
        session: &NewOAuthSession,
        now: DateTime<Utc>,
    ) -> Result<OAuthSession, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO oauth2_sessions (oauth2_session_id, oauth2_client_id, user_id, ",
            "user_session_id, scope, created_at, user_agent, human_name) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: OAuthSessionRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(session.client_id))
            .bind(session.user_id.map(DbId))
            .bind(session.user_session_id.map(DbId))
            .bind(session.scope.to_string())
            .bind(DbTime(now))
            .bind(&session.user_agent)
            .bind(&session.human_name)
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<OAuthSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_sessions WHERE oauth2_session_id = $1"
        );
        let row: Option<OAuthSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(OAuthSession::try_from).transpose()
    }

    async fn finish(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthSession>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE oauth2_sessions SET finished_at = COALESCE(finished_at, $2) ",
            "WHERE oauth2_session_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<OAuthSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(OAuthSession::try_from).transpose()
    }

    async fn list_active_for_user(
        &mut self,
        user: &User,
    ) -> Result<Vec<OAuthSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_sessions WHERE user_id = $1 AND finished_at IS NULL ",
            "ORDER BY created_at, oauth2_session_id"
        );
        let rows: Vec<OAuthSessionRow> =
            on_backend_keeping_existing!(self, |conn| sqlx::query_as(SQL)
                .bind(DbId(user.id))
                .fetch_all(conn)
                .await)?;
        rows.into_iter().map(OAuthSession::try_from).collect()
    }

    async fn list_page(
        &mut self,
        filter: &OAuthSessionFilter,
        pagination: Pagination,
    ) -> Result<Page<OAuthSession>, StorageError> {
        let (sql, args) = oauth_conditions(filter).page_query(
            columns!(),
            "oauth2_sessions",
            "oauth2_session_id",
            &pagination,
        );
        let rows: Vec<OAuthSessionRow> =
            on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        let sessions = rows
            .into_iter()
            .map(OAuthSession::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pagination.page(sessions))
    }

    async fn count(&mut self, filter: &OAuthSessionFilter) -> Result<usize, StorageError> {
        let (sql, args) = oauth_conditions(filter).count_query("oauth2_sessions");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
    }
}
