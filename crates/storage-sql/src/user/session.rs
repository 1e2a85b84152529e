//! The browser sessions, in table `user_sessions`, and their authentications, in table
//! `user_session_authentications`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{Authentication, AuthenticationKind, BrowserSession, User};
use portcullis_storage::{BrowserSessionRepository, Page, Pagination, SessionFilter, StorageError};
use ulid::Ulid;

use crate::{
    listing::{bind_args, session_conditions},
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, instant, ip_address, name},
};

/// The columns every session query returns, in [`BrowserSessionRow`]'s order.
macro_rules! columns {
    () => {
        "user_session_id, user_id, created_at, finished_at, user_agent, last_active_at, \
         last_active_ip"
    };
}

#[derive(sqlx::FromRow)]
struct BrowserSessionRow {
    user_session_id: DbId,
    user_id: DbId,
    created_at: DbTime,
    finished_at: Option<DbTime>,
    user_agent: Option<String>,
    last_active_at: Option<DbTime>,
    last_active_ip: Option<String>,
}

impl TryFrom<BrowserSessionRow> for BrowserSession {
    type Error = StorageError;

    fn try_from(row: BrowserSessionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.user_session_id.0,
            user_id: row.user_id.0,
            created_at: row.created_at.0,
            finished_at: instant(row.finished_at),
            user_agent: row.user_agent,
            last_active_at: instant(row.last_active_at),
            last_active_ip: ip_address("user_sessions.last_active_ip", row.last_active_ip)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AuthenticationRow {
    user_session_authentication_id: DbId,
    user_session_id: DbId,
    kind: String,
    created_at: DbTime,
}

impl TryFrom<AuthenticationRow> for Authentication {
    type Error = StorageError;

    fn try_from(row: AuthenticationRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.user_session_authentication_id.0,
            user_session_id: row.user_session_id.0,
            kind: name("user_session_authentications.kind", &row.kind)?,
            created_at: row.created_at.0,
        })
    }
}

#[async_trait]
impl BrowserSessionRepository for SqlRepository {
    async fn add(
        &mut self,
        user: &User,
        user_agent: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<BrowserSession, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_sessions (user_session_id, user_id, created_at, user_agent) ",
            "VALUES ($1, $2, $3, $4) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: BrowserSessionRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .bind(DbTime(now))
            .bind(user_agent)
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<BrowserSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_sessions WHERE user_session_id = $1"
        );
        let row: Option<BrowserSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(BrowserSession::try_from).transpose()
    }

    async fn finish(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<BrowserSession>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE user_sessions SET finished_at = COALESCE(finished_at, $2) ",
            "WHERE user_session_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<BrowserSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(BrowserSession::try_from).transpose()
    }

    async fn list_active_for_user(
        &mut self,
        user: &User,
    ) -> Result<Vec<BrowserSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_sessions WHERE user_id = $1 AND finished_at IS NULL ",
            "ORDER BY created_at, user_session_id"
        );
        let rows: Vec<BrowserSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(BrowserSession::try_from).collect()
    }

    async fn authenticate(
        &mut self,
        session: &BrowserSession,
        kind: AuthenticationKind,
        now: DateTime<Utc>,
    ) -> Result<Authentication, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_session_authentications ",
            "(user_session_authentication_id, user_session_id, kind, created_at) ",
            "VALUES ($1, $2, $3, $4) ",
            "RETURNING user_session_authentication_id, user_session_id, kind, created_at"
        );
        let id = self.new_id(now);
        let row: AuthenticationRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(session.id))
            .bind(kind.as_str())
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn last_authentication(
        &mut self,
        session: &BrowserSession,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        const SQL: &str = concat!(
            "SELECT created_at FROM user_session_authentications WHERE user_session_id = $1 ",
            "ORDER BY created_at DESC LIMIT 1"
        );
        let last: Option<(DbTime,)> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(session.id))
            .fetch_optional(conn)
            .await)?;
        Ok(last.map(|(time,)| time.0))
    }

    async fn list_page(
        &mut self,
        filter: &SessionFilter,
        pagination: Pagination,
    ) -> Result<Page<BrowserSession>, StorageError> {
        let (sql, args) = session_conditions(filter).page_query(
            columns!(),
            "user_sessions",
            "user_session_id",
            &pagination,
        );
        let rows: Vec<BrowserSessionRow> =
            on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        let sessions = rows
            .into_iter()
            .map(BrowserSession::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pagination.page(sessions))
    }

    async fn count(&mut self, filter: &SessionFilter) -> Result<usize, StorageError> {
        let (sql, args) = session_conditions(filter).count_query("user_sessions");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
    }
}
