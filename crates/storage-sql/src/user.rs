//! The users, in table `users`.

mod email;
mod email_authentication;
mod password;
mod recovery_ticket;
mod registration;
mod registration_token;
mod second_factor;
mod session;
mod terms;
mod third_party_id;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::User;
use portcullis_storage::{
    Direction, Page, Pagination, StorageError, UserFilter, UserRepository, UserState,
};
use ulid::Ulid;

use crate::{
    listing::{Arg, Conditions, Fence, bind_args, contains_pattern},
    repository::{SqlRepository, Transaction, on_backend, on_backend_keeping_existing},
    types::{DbId, DbTime},
};

/// The columns every query returns, in [`UserRow`]'s order.
macro_rules! columns {
    () => {
        "user_id, username, created_at, locked_at, deactivated_at, can_request_admin, legacy_guest"
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
    legacy_guest: bool,
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
            legacy_guest: row.legacy_guest,
        }
    }
}

/// The users who are not active: locked or deactivated. A partial index holds them
/// (migration `20261207000010`); its condition is this one, word for word, so that the
/// planner knows it can serve it.
const INACTIVE: &str = "locked_at IS NOT NULL OR deactivated_at IS NOT NULL";

/// The conditions of `filter` on table `users`.
///
/// Whether a user has a standing session of a kind is read from the count of them the database
/// keeps on the user's row (migration `20261207000001`), which a partial index serves.
fn conditions(filter: &UserFilter) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(admin) = filter.can_request_admin {
        conditions.and("can_request_admin = ?", [Arg::Bool(admin)]);
    }
    if let Some(guest) = filter.legacy_guest {
        conditions.and("legacy_guest = ?", [Arg::Bool(guest)]);
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
    for (flag, column) in [
        (filter.has_active_oauth2_session, "standing_oauth2_sessions"),
        (filter.has_active_compat_session, "standing_compat_sessions"),
    ] {
        match flag {
            Some(true) => conditions.and(&format!("{column} > 0"), []),
            Some(false) => conditions.and(&format!("{column} = 0"), []),
            None => {}
        }
    }
    conditions
}

/// How many users past the cursor a search reads in id order before it turns to the rest of
/// the table for the rest of its page.
const SEARCH_WINDOW: usize = 1_000;

/// A page of a username search. Walking the ids until a page of matches is found is fast where
/// matches are dense, but a page near the end of a search whose matches are all early would
/// walk every user after them to learn that there is no next page; finding the matches first
/// (through the trigram index on PostgreSQL, by reading the table on SQLite) is fast for few
/// matches, but sorting many is slow. So: the page's matches among the next [`SEARCH_WINDOW`]
/// users in id order, then, if the page is not full and users are left, the rest found first
/// (behind a fence, so that the planner does not go back to walking the ids), past the window.
async fn search_page(
    repo: &mut SqlRepository,
    filter: &UserFilter,
    pagination: Pagination,
) -> Result<Page<User>, StorageError> {
    let (sql, args) = Conditions::window_edge_query("users", "user_id", &pagination, SEARCH_WINDOW);
    let edge: Option<DbId> =
        on_backend_keeping_existing!(repo, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_optional(conn)
            .await)?;
    let (within, beyond) = match pagination.direction {
        Direction::Forward => ("user_id <= ?", "user_id > ?"),
        Direction::Backward => ("user_id >= ?", "user_id < ?"),
    };
    let mut window = conditions(filter);
    if let Some(edge) = &edge {
        window.and(within, [Arg::Id(edge.0)]);
    }
    let (sql, args) = window.page_query(columns!(), "users", "user_id", &pagination);
    let mut rows: Vec<UserRow> =
        on_backend_keeping_existing!(repo, |conn| bind_args!(sqlx::query_as(&sql), args)
            .fetch_all(conn)
            .await)?;
    if let Some(edge) = edge
        && rows.len() < pagination.fetch()
    {
        let mut rest = conditions(filter);
        rest.and(beyond, [Arg::Id(edge.0)]);
        let wanted = pagination.fetch() - rows.len();
        let fence = match repo.transaction {
            Transaction::Postgres(_) => Fence::Postgres,
            Transaction::Sqlite(_) => Fence::Sqlite,
        };
        let (sql, args) = rest.fenced_page_query(
            fence,
            (columns!(), "users", "user_id"),
            (&pagination, wanted),
        );
        let more: Vec<UserRow> =
            on_backend_keeping_existing!(repo, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        rows.extend(more);
    }
    Ok(pagination.page(rows.into_iter().map(User::from).collect()))
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
        if filter.search.is_some() {
            return search_page(self, filter, pagination).await;
        }
        let (sql, args) =
            conditions(filter).page_query(columns!(), "users", "user_id", &pagination);
        let rows: Vec<UserRow> = on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
            .fetch_all(conn)
            .await)?;
        Ok(pagination.page(rows.into_iter().map(User::from).collect()))
    }

    async fn count(&mut self, filter: &UserFilter) -> Result<usize, StorageError> {
        // Active users are nearly all of them: counting them is counting the users the other
        // conditions select, less the few inactive ones among those, which the partial index
        // of inactive users finds without reading every row.
        let (sql, args) = if filter.state == Some(UserState::Active) {
            let others = UserFilter {
                state: None,
                ..filter.clone()
            };
            conditions(&others).count_excluding_query("users", INACTIVE)
        } else {
            conditions(filter).count_query("users")
        };
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

    async fn mark_legacy_guest(&mut self, user: User) -> Result<User, StorageError> {
        const SQL: &str = concat!(
            "UPDATE users SET legacy_guest = TRUE WHERE user_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<UserRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_optional(conn)
            .await)?;
        row.map(User::from).ok_or_else(|| not_found(user.id))
    }
}
