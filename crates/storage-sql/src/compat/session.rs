//! The compatibility sessions, in table `compat_sessions`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatSession, User};
use portcullis_storage::{
    CompatSessionFilter, CompatSessionRepository, NewCompatSession, Page, Pagination, StorageError,
};
use ulid::Ulid;

use crate::{
    listing::{Arg, Conditions, bind_args, session_conditions},
    repository::{SqlRepository, on_backend, on_backend_keeping_existing},
    types::{DbId, DbTime, instant, ip_address},
};

/// The columns every query returns, in [`CompatSessionRow`]'s order.
macro_rules! columns {
    () => {
        "compat_session_id, user_id, device_id, human_name, user_session_id, is_synapse_admin, \
         created_at, finished_at, user_agent, last_active_at, last_active_ip"
    };
}

#[derive(sqlx::FromRow)]
pub(crate) struct CompatSessionRow {
    pub(crate) compat_session_id: DbId,
    pub(crate) user_id: DbId,
    pub(crate) device_id: String,
    pub(crate) human_name: Option<String>,
    pub(crate) user_session_id: Option<DbId>,
    pub(crate) is_synapse_admin: bool,
    pub(crate) created_at: DbTime,
    pub(crate) finished_at: Option<DbTime>,
    pub(crate) user_agent: Option<String>,
    pub(crate) last_active_at: Option<DbTime>,
    pub(crate) last_active_ip: Option<String>,
}

impl TryFrom<CompatSessionRow> for CompatSession {
    type Error = StorageError;

    fn try_from(row: CompatSessionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.compat_session_id.0,
            user_id: row.user_id.0,
            device_id: row.device_id,
            human_name: row.human_name,
            user_session_id: row.user_session_id.map(|id| id.0),
            is_synapse_admin: row.is_synapse_admin,
            created_at: row.created_at.0,
            finished_at: instant(row.finished_at),
            user_agent: row.user_agent,
            last_active_at: instant(row.last_active_at),
            last_active_ip: ip_address("compat_sessions.last_active_ip", row.last_active_ip)?,
        })
    }
}

/// The conditions of `filter` on table `compat_sessions`.
fn compat_conditions(filter: &CompatSessionFilter) -> Conditions {
    let mut conditions = session_conditions(&filter.session);
    if let Some(user_session) = filter.user_session {
        conditions.and("user_session_id = ?", [Arg::Id(user_session)]);
    }
    conditions
}

#[async_trait]
impl CompatSessionRepository for SqlRepository {
    async fn add(
        &mut self,
        session: &NewCompatSession,
        now: DateTime<Utc>,
    ) -> Result<CompatSession, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO compat_sessions (compat_session_id, user_id, device_id, human_name, ",
            "user_session_id, is_synapse_admin, created_at, user_agent) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: CompatSessionRow = on_backend_keeping_existing!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(session.user_id))
            .bind(&session.device_id)
            .bind(&session.human_name)
            .bind(session.user_session_id.map(DbId))
            .bind(session.is_synapse_admin)
            .bind(DbTime(now))
            .bind(&session.user_agent)
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<CompatSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_sessions WHERE compat_session_id = $1"
        );
        let row: Option<CompatSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(CompatSession::try_from).transpose()
    }

    async fn finish(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatSession>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE compat_sessions SET finished_at = COALESCE(finished_at, $2) ",
            "WHERE compat_session_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<CompatSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(CompatSession::try_from).transpose()
    }

    async fn list_active_for_user(
        &mut self,
        user: &User,
    ) -> Result<Vec<CompatSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_sessions WHERE user_id = $1 AND finished_at IS NULL ",
            "ORDER BY created_at, compat_session_id"
        );
        let rows: Vec<CompatSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(CompatSession::try_from).collect()
    }

    async fn list_active_for_device(
        &mut self,
        user_id: Ulid,
        device_id: &str,
    ) -> Result<Vec<CompatSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM compat_sessions WHERE user_id = $1 AND device_id = $2 ",
            "AND finished_at IS NULL ORDER BY created_at, compat_session_id"
        );
        let rows: Vec<CompatSessionRow> =
            on_backend_keeping_existing!(self, |conn| sqlx::query_as(SQL)
                .bind(DbId(user_id))
                .bind(device_id)
                .fetch_all(conn)
                .await)?;
        rows.into_iter().map(CompatSession::try_from).collect()
    }

    async fn list_page(
        &mut self,
        filter: &CompatSessionFilter,
        pagination: Pagination,
    ) -> Result<Page<CompatSession>, StorageError> {
        let (sql, args) = compat_conditions(filter).page_query(
            columns!(),
            "compat_sessions",
            "compat_session_id",
            &pagination,
        );
        let rows: Vec<CompatSessionRow> =
            on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        let sessions = rows
            .into_iter()
            .map(CompatSession::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pagination.page(sessions))
    }

    async fn count(&mut self, filter: &CompatSessionFilter) -> Result<usize, StorageError> {
        let (sql, args) = compat_conditions(filter).count_query("compat_sessions");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
    }
}
