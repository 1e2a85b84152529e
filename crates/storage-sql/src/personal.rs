//! Personal sessions and their tokens, in tables `personal_sessions` and
//! `personal_access_tokens`.
//!
//! Only the SHA-256 of a token is stored (`token_hash`, unique). A session's `expires_at` is
//! that of its live token, read with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{
    PersonalAccessToken, PersonalSession, PersonalSessionOwner, User, token::hash_token,
};
use portcullis_storage::{
    ActivePersonalAccessToken, NewPersonalSession, Page, Pagination, PersonalSessionFilter,
    PersonalSessionRepository, StorageError,
};
use ulid::Ulid;

use crate::{
    listing::{Arg, Conditions, and_scope_holds, bind_args},
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, instant, ip_address, parsed},
};

/// The expiry of a session's live token (at most one is not revoked).
macro_rules! live_expiry {
    () => {
        "(SELECT t.expires_at FROM personal_access_tokens AS t \
         WHERE t.personal_session_id = s.personal_session_id AND t.revoked_at IS NULL \
         ORDER BY t.created_at DESC LIMIT 1)"
    };
}

/// The columns every session query returns, in [`PersonalSessionRow`]'s order.
macro_rules! session_columns {
    () => {
        concat!(
            "s.personal_session_id, s.owner_user_id, s.owner_oauth2_client_id, ",
            "s.actor_user_id, s.human_name, s.scope, s.created_at, s.revoked_at, ",
            "s.last_active_at, s.last_active_ip, ",
            live_expiry!(),
            " AS expires_at"
        )
    };
}

#[derive(sqlx::FromRow)]
struct PersonalSessionRow {
    personal_session_id: DbId,
    owner_user_id: Option<DbId>,
    owner_oauth2_client_id: Option<DbId>,
    actor_user_id: DbId,
    human_name: String,
    scope: String,
    created_at: DbTime,
    revoked_at: Option<DbTime>,
    last_active_at: Option<DbTime>,
    last_active_ip: Option<String>,
    expires_at: Option<DbTime>,
}

impl TryFrom<PersonalSessionRow> for PersonalSession {
    type Error = StorageError;

    fn try_from(row: PersonalSessionRow) -> Result<Self, Self::Error> {
        let owner = match (row.owner_user_id, row.owner_oauth2_client_id) {
            (Some(user), None) => PersonalSessionOwner::User(user.0),
            (None, Some(client)) => PersonalSessionOwner::Client(client.0),
            _ => {
                return Err(StorageError::InvalidData(format!(
                    "personal session {} has not exactly one owner",
                    row.personal_session_id.0
                )));
            }
        };
        Ok(Self {
            id: row.personal_session_id.0,
            owner,
            actor_user_id: row.actor_user_id.0,
            human_name: row.human_name,
            scope: parsed("personal_sessions.scope", &row.scope)?,
            created_at: row.created_at.0,
            revoked_at: instant(row.revoked_at),
            expires_at: instant(row.expires_at),
            last_active_at: instant(row.last_active_at),
            last_active_ip: ip_address("personal_sessions.last_active_ip", row.last_active_ip)?,
        })
    }
}

/// The columns every token query returns, in [`PersonalAccessTokenRow`]'s order.
macro_rules! token_columns {
    () => {
        "personal_access_token_id, personal_session_id, created_at, expires_at, revoked_at"
    };
}

#[derive(sqlx::FromRow)]
struct PersonalAccessTokenRow {
    personal_access_token_id: DbId,
    personal_session_id: DbId,
    created_at: DbTime,
    expires_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
}

impl From<PersonalAccessTokenRow> for PersonalAccessToken {
    fn from(row: PersonalAccessTokenRow) -> Self {
        Self {
            id: row.personal_access_token_id.0,
            session_id: row.personal_session_id.0,
            created_at: row.created_at.0,
            expires_at: instant(row.expires_at),
            revoked_at: instant(row.revoked_at),
        }
    }
}

/// Introspection's one read: the token, its session, its actor and its owner.
const ACTIVE_SQL: &str = concat!(
    "SELECT t.personal_access_token_id, t.personal_session_id, t.created_at, t.expires_at, ",
    "t.revoked_at, ",
    "s.owner_user_id, s.owner_oauth2_client_id, s.actor_user_id, s.human_name, s.scope, ",
    "s.created_at AS session_created_at, s.revoked_at AS session_revoked_at, ",
    "s.last_active_at AS session_last_active_at, s.last_active_ip AS session_last_active_ip, ",
    "a.username AS actor_username, a.created_at AS actor_created_at, ",
    "a.locked_at AS actor_locked_at, a.deactivated_at AS actor_deactivated_at, ",
    "a.can_request_admin AS actor_can_request_admin, a.legacy_guest AS actor_legacy_guest, ",
    "o.username AS owner_username, o.created_at AS owner_created_at, ",
    "o.locked_at AS owner_locked_at, o.deactivated_at AS owner_deactivated_at, ",
    "o.can_request_admin AS owner_can_request_admin, o.legacy_guest AS owner_legacy_guest ",
    "FROM personal_access_tokens AS t ",
    "JOIN personal_sessions AS s ON s.personal_session_id = t.personal_session_id ",
    "JOIN users AS a ON a.user_id = s.actor_user_id ",
    "LEFT JOIN users AS o ON o.user_id = s.owner_user_id ",
    "WHERE t.token_hash = $1 AND t.revoked_at IS NULL ",
    "AND (t.expires_at IS NULL OR t.expires_at > $2) ",
    "AND s.revoked_at IS NULL"
);

#[derive(sqlx::FromRow)]
struct ActiveRow {
    #[sqlx(flatten)]
    token: PersonalAccessTokenRow,
    owner_user_id: Option<DbId>,
    owner_oauth2_client_id: Option<DbId>,
    actor_user_id: DbId,
    human_name: String,
    scope: String,
    session_created_at: DbTime,
    session_revoked_at: Option<DbTime>,
    session_last_active_at: Option<DbTime>,
    session_last_active_ip: Option<String>,
    actor_username: String,
    actor_created_at: DbTime,
    actor_locked_at: Option<DbTime>,
    actor_deactivated_at: Option<DbTime>,
    actor_can_request_admin: bool,
    actor_legacy_guest: bool,
    owner_username: Option<String>,
    owner_created_at: Option<DbTime>,
    owner_locked_at: Option<DbTime>,
    owner_deactivated_at: Option<DbTime>,
    owner_can_request_admin: Option<bool>,
    owner_legacy_guest: Option<bool>,
}

impl TryFrom<ActiveRow> for ActivePersonalAccessToken {
    type Error = StorageError;

    fn try_from(row: ActiveRow) -> Result<Self, Self::Error> {
        let actor = User {
            id: row.actor_user_id.0,
            username: row.actor_username,
            created_at: row.actor_created_at.0,
            locked_at: instant(row.actor_locked_at),
            deactivated_at: instant(row.actor_deactivated_at),
            can_request_admin: row.actor_can_request_admin,
            legacy_guest: row.actor_legacy_guest,
        };
        let owner_user = match (row.owner_user_id, row.owner_username, row.owner_created_at) {
            (Some(id), Some(username), Some(created_at)) => Some(User {
                id: id.0,
                username,
                created_at: created_at.0,
                locked_at: instant(row.owner_locked_at),
                deactivated_at: instant(row.owner_deactivated_at),
                can_request_admin: row.owner_can_request_admin.unwrap_or(false),
                legacy_guest: row.owner_legacy_guest.unwrap_or(false),
            }),
            _ => None,
        };
        let session = PersonalSession::try_from(PersonalSessionRow {
            personal_session_id: DbId(row.token.personal_session_id.0),
            owner_user_id: row.owner_user_id,
            owner_oauth2_client_id: row.owner_oauth2_client_id,
            actor_user_id: row.actor_user_id,
            human_name: row.human_name,
            scope: row.scope,
            created_at: row.session_created_at,
            revoked_at: row.session_revoked_at,
            last_active_at: row.session_last_active_at,
            last_active_ip: row.session_last_active_ip,
            expires_at: row.token.expires_at,
        })?;
        Ok(Self {
            token: row.token.into(),
            session,
            actor,
            owner_user,
        })
    }
}

/// The conditions of `filter` on `personal_sessions AS s`.
fn conditions(filter: &PersonalSessionFilter) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(user) = filter.owner_user {
        conditions.and("s.owner_user_id = ?", [Arg::Id(user)]);
    }
    if let Some(client) = filter.owner_client {
        conditions.and("s.owner_oauth2_client_id = ?", [Arg::Id(client)]);
    }
    if let Some(actor) = filter.actor_user {
        conditions.and("s.actor_user_id = ?", [Arg::Id(actor)]);
    }
    if let Some(scope) = &filter.scope {
        and_scope_holds(&mut conditions, "s.scope", scope);
    }
    match filter.active {
        Some(true) => conditions.and("s.revoked_at IS NULL", []),
        Some(false) => conditions.and("s.revoked_at IS NOT NULL", []),
        None => {}
    }
    if let Some(before) = filter.expires_before {
        conditions.and(concat!(live_expiry!(), " < ?"), [Arg::Time(before)]);
    }
    if let Some(after) = filter.expires_after {
        conditions.and(concat!(live_expiry!(), " > ?"), [Arg::Time(after)]);
    }
    match filter.expires {
        Some(true) => conditions.and(concat!(live_expiry!(), " IS NOT NULL"), []),
        Some(false) => conditions.and(concat!(live_expiry!(), " IS NULL"), []),
        None => {}
    }
    conditions
}

#[async_trait]
impl PersonalSessionRepository for SqlRepository {
    async fn add(
        &mut self,
        session: &NewPersonalSession,
        now: DateTime<Utc>,
    ) -> Result<PersonalSession, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO personal_sessions (personal_session_id, owner_user_id, ",
            "owner_oauth2_client_id, actor_user_id, human_name, scope, created_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
        let id = self.new_id(now);
        let (owner_user, owner_client) = match session.owner {
            PersonalSessionOwner::User(user) => (Some(DbId(user)), None),
            PersonalSessionOwner::Client(client) => (None, Some(DbId(client))),
        };
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(id))
            .bind(owner_user)
            .bind(owner_client)
            .bind(DbId(session.actor_user_id))
            .bind(&session.human_name)
            .bind(session.scope.to_string())
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        self.find(id).await?.ok_or_else(|| {
            StorageError::Backend(format!("personal session {id} vanished after insert"))
        })
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<PersonalSession>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            session_columns!(),
            " FROM personal_sessions AS s WHERE s.personal_session_id = $1"
        );
        let row: Option<PersonalSessionRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(PersonalSession::try_from).transpose()
    }

    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<PersonalSession>, StorageError> {
        const SESSION: &str = concat!(
            "UPDATE personal_sessions SET revoked_at = COALESCE(revoked_at, $2) ",
            "WHERE personal_session_id = $1"
        );
        const TOKENS: &str = concat!(
            "UPDATE personal_access_tokens SET revoked_at = COALESCE(revoked_at, $2) ",
            "WHERE personal_session_id = $1"
        );
        on_backend!(self, |conn| sqlx::query(SESSION)
            .bind(DbId(id))
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        on_backend!(self, |conn| sqlx::query(TOKENS)
            .bind(DbId(id))
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        self.find(id).await
    }

    async fn add_token(
        &mut self,
        session: &PersonalSession,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<PersonalAccessToken, StorageError> {
        const REVOKE: &str = concat!(
            "UPDATE personal_access_tokens SET revoked_at = $2 ",
            "WHERE personal_session_id = $1 AND revoked_at IS NULL"
        );
        const INSERT: &str = concat!(
            "INSERT INTO personal_access_tokens (personal_access_token_id, personal_session_id, ",
            "token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
            token_columns!()
        );
        on_backend!(self, |conn| sqlx::query(REVOKE)
            .bind(DbId(session.id))
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        let id = self.new_id(now);
        let row: PersonalAccessTokenRow = on_backend!(self, |conn| sqlx::query_as(INSERT)
            .bind(DbId(id))
            .bind(DbId(session.id))
            .bind(hash_token(token))
            .bind(DbTime(now))
            .bind(expires_at.map(DbTime))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find_active_by_token(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ActivePersonalAccessToken>, StorageError> {
        let row: Option<ActiveRow> = on_backend!(self, |conn| sqlx::query_as(ACTIVE_SQL)
            .bind(hash_token(token))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(ActivePersonalAccessToken::try_from).transpose()
    }

    async fn list_page(
        &mut self,
        filter: &PersonalSessionFilter,
        pagination: Pagination,
    ) -> Result<Page<PersonalSession>, StorageError> {
        let (sql, args) = conditions(filter).page_query(
            session_columns!(),
            "personal_sessions AS s",
            "s.personal_session_id",
            &pagination,
        );
        let rows: Vec<PersonalSessionRow> =
            on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        let sessions = rows
            .into_iter()
            .map(PersonalSession::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pagination.page(sessions))
    }

    async fn count(&mut self, filter: &PersonalSessionFilter) -> Result<usize, StorageError> {
        let (sql, args) = conditions(filter).count_query("personal_sessions AS s");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
    }
}
