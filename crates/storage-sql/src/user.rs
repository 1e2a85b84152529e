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
use portcullis_storage::{Page, Pagination, StorageError, UserFilter, UserRepository, UserState};
use ulid::Ulid;

use crate::{
    listing::{Arg, Conditions, bind_args, contains_pattern},
    repository::{SqlRepository, Transaction, on_backend},
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

/// The conditions of `filter` on table `users`, for `page` if one is read.
fn conditions(filter: &UserFilter, page: Option<&Pagination>) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(admin) = filter.can_request_admin {
        conditions.and("can_request_admin = ?", [Arg::Bool(admin)]);
    }
    // No account here is a legacy guest: asking for guests gives nothing.
    if filter.legacy_guest == Some(true) {
        conditions.and("FALSE", []);
    }
    if let Some(search) = &filter.search {
        conditions.and(
            "username LIKE ? ESCAPE '\\'",
            [Arg::Text(contains_pattern(&search.to_lowercase()))],
        );
    }
    match filter.state {
        Some(UserState::Active) => {
            conditions.and("locked_at IS NULL AND deactivated_at IS NULL", []);
        }
        Some(UserState::Locked) => conditions.and("locked_at IS NOT NULL", []),
        Some(UserState::Deactivated) => conditions.and("deactivated_at IS NOT NULL", []),
        None => {}
    }
    if !filter.active_oauth2_clients.is_empty() {
        let marks = vec!["?"; filter.active_oauth2_clients.len()].join(", ");
        conditions.and(
            &format!(
                "EXISTS (SELECT 1 FROM oauth2_sessions s WHERE s.user_id = users.user_id \
                 AND s.finished_at IS NULL AND s.oauth2_client_id IN ({marks}))"
            ),
            filter.active_oauth2_clients.iter().copied().map(Arg::Id),
        );
    }
    for (flag, table) in [
        (filter.has_active_oauth2_session, "oauth2_sessions"),
        (filter.has_active_compat_session, "compat_sessions"),
    ] {
        if let Some(standing) = flag {
            and_standing_session(&mut conditions, standing, table, page);
        }
    }
    conditions
}

/// Users with (`standing`) or without a session of `table` that has not finished.
///
/// The page's cursors are repeated on the sessions' side. They change nothing (the session's
/// user is the row's), but PostgreSQL's merge join then starts reading the sessions at the
/// cursor rather than at the start of the index on every page: 0.2 ms instead of 7 ms for a
/// page near the end of 100,000 users.
fn and_standing_session(
    conditions: &mut Conditions,
    standing: bool,
    table: &str,
    page: Option<&Pagination>,
) {
    let mut clause = format!(
        "EXISTS (SELECT 1 FROM {table} s WHERE s.user_id = users.user_id \
         AND s.finished_at IS NULL"
    );
    let mut args = Vec::new();
    if let Some(after) = page.and_then(|page| page.after) {
        clause.push_str(" AND s.user_id > ?");
        args.push(Arg::Id(after));
    }
    if let Some(before) = page.and_then(|page| page.before) {
        clause.push_str(" AND s.user_id < ?");
        args.push(Arg::Id(before));
    }
    clause.push(')');
    if !standing {
        clause = format!("NOT {clause}");
    }
    conditions.and(&clause, args);
}

/// The session table, and whether users with (`true`) or without (`false`) a standing session
/// there are counted, when that is all `filter` asks.
fn by_standing_sessions_alone(filter: &UserFilter) -> Option<(&'static str, bool)> {
    let compat = UserFilter {
        has_active_compat_session: filter.has_active_compat_session,
        ..UserFilter::default()
    };
    let oauth = UserFilter {
        has_active_oauth2_session: filter.has_active_oauth2_session,
        ..UserFilter::default()
    };
    match (
        filter.has_active_compat_session,
        filter.has_active_oauth2_session,
    ) {
        (Some(standing), None) if *filter == compat => Some(("compat_sessions", standing)),
        (None, Some(standing)) if *filter == oauth => Some(("oauth2_sessions", standing)),
        _ => None,
    }
}

/// Counts the users with (or without) a standing session in `table` from the sessions' side:
/// the distinct users of the partial index of standing sessions, which is a fraction of the
/// cost of probing that index once per user (over 100,000 users, 8 ms instead of 40 ms on
/// SQLite, where ids are text, and 13 ms instead of 42 ms on PostgreSQL;
/// `docs/performance.md`). Every session's user exists (foreign key), so those without are the
/// rest; sessions without a user (client credentials) count for nobody.
async fn count_by_standing_sessions(
    repo: &mut SqlRepository,
    table: &str,
    standing: bool,
) -> Result<usize, StorageError> {
    // The same count, in the form each planner runs fastest: PostgreSQL sorts the rows of a
    // `COUNT(DISTINCT …)` again although the index gives them in order, whereas a `GROUP BY`
    // streams over the index (13 ms instead of 23 ms); SQLite is quicker with the former.
    let with = match repo.transaction {
        Transaction::Sqlite(_) => {
            format!(
                "SELECT COUNT(DISTINCT user_id) FROM {table} \
                 WHERE finished_at IS NULL AND user_id IS NOT NULL"
            )
        }
        Transaction::Postgres(_) => format!(
            "SELECT COUNT(*) FROM (SELECT user_id FROM {table} \
             WHERE finished_at IS NULL AND user_id IS NOT NULL GROUP BY user_id) AS standing"
        ),
    };
    let sql = if standing {
        with
    } else {
        format!("SELECT (SELECT COUNT(*) FROM users) - ({with})")
    };
    let count: i64 = on_backend!(repo, |conn| sqlx::query_scalar(&sql).fetch_one(conn).await)?;
    Ok(crate::listing::count(count))
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

    async fn list_page(
        &mut self,
        filter: &UserFilter,
        pagination: Pagination,
    ) -> Result<Page<User>, StorageError> {
        let (sql, args) = conditions(filter, Some(&pagination)).page_query(
            columns!(),
            "users",
            "user_id",
            &pagination,
        );
        let rows: Vec<UserRow> = on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
            .fetch_all(conn)
            .await)?;
        Ok(pagination.page(rows.into_iter().map(User::from).collect()))
    }

    async fn count(&mut self, filter: &UserFilter) -> Result<usize, StorageError> {
        if let Some((table, standing)) = by_standing_sessions_alone(filter) {
            return count_by_standing_sessions(self, table, standing).await;
        }
        let (sql, args) = conditions(filter, None).count_query("users");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
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
