//! The password recovery tickets, in table `user_recovery_tickets`.
//!
//! Only the SHA-256 of a ticket is stored (`ticket_hash`): lookups hash the clear ticket first.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use portcullis_model::{User, UserRecoveryTicket, token::hash_token};
use portcullis_storage::{StorageError, UserRecoveryTicketRepository};

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

/// The columns every query returns, in [`RecoveryTicketRow`]'s order.
macro_rules! columns {
    () => {
        "user_recovery_ticket_id, user_id, email, created_at, expires_at, consumed_at"
    };
}

#[derive(sqlx::FromRow)]
struct RecoveryTicketRow {
    user_recovery_ticket_id: DbId,
    user_id: DbId,
    email: String,
    created_at: DbTime,
    expires_at: DbTime,
    consumed_at: Option<DbTime>,
}

impl From<RecoveryTicketRow> for UserRecoveryTicket {
    fn from(row: RecoveryTicketRow) -> Self {
        Self {
            id: row.user_recovery_ticket_id.0,
            user_id: row.user_id.0,
            email: row.email,
            created_at: row.created_at.0,
            expires_at: row.expires_at.0,
            consumed_at: row.consumed_at.map(|time| time.0),
        }
    }
}

#[async_trait]
impl UserRecoveryTicketRepository for SqlRepository {
    async fn add(
        &mut self,
        user: &User,
        email: &str,
        ticket: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<UserRecoveryTicket, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_recovery_tickets ",
            "(user_recovery_ticket_id, user_id, email, ticket_hash, created_at, expires_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: RecoveryTicketRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .bind(email)
            .bind(hash_token(ticket))
            .bind(DbTime(now))
            .bind(DbTime(now + ttl))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find_by_ticket(
        &mut self,
        ticket: &str,
    ) -> Result<Option<UserRecoveryTicket>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM user_recovery_tickets WHERE ticket_hash = $1"
        );
        let row: Option<RecoveryTicketRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(ticket))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UserRecoveryTicket::from))
    }

    async fn consume(
        &mut self,
        ticket: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecoveryTicket>, StorageError> {
        // Check and use in one statement: a ticket is used once, however many submit it.
        const SQL: &str = concat!(
            "UPDATE user_recovery_tickets SET consumed_at = $2 ",
            "WHERE ticket_hash = $1 AND consumed_at IS NULL AND expires_at > $2 ",
            "RETURNING ",
            columns!()
        );
        let row: Option<RecoveryTicketRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(ticket))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UserRecoveryTicket::from))
    }

    async fn delete_expired_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM user_recovery_tickets WHERE expires_at < $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted)
    }
}
