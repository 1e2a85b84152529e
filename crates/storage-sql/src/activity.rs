//! Last activity of sessions, in the `last_active_at` / `last_active_ip` columns of
//! `user_sessions`, `oauth2_sessions` and `compat_sessions`.

use async_trait::async_trait;
use portcullis_storage::{SessionActivity, SessionActivityRepository, SessionRef, StorageError};

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

/// One statement per table: a later instant wins, an unknown address keeps the last one.
macro_rules! record_sql {
    ($table:literal, $id:literal) => {
        concat!(
            "UPDATE ",
            $table,
            " SET last_active_at = $2, last_active_ip = COALESCE($3, last_active_ip) WHERE ",
            $id,
            " = $1 AND (last_active_at IS NULL OR last_active_at < $2)"
        )
    };
}

#[async_trait]
impl SessionActivityRepository for SqlRepository {
    async fn record(&mut self, batch: &[SessionActivity]) -> Result<u64, StorageError> {
        let mut updated = 0;
        for activity in batch {
            let (sql, id) = match activity.session {
                SessionRef::Browser(id) => (record_sql!("user_sessions", "user_session_id"), id),
                SessionRef::OAuth(id) => (record_sql!("oauth2_sessions", "oauth2_session_id"), id),
                SessionRef::Compat(id) => (record_sql!("compat_sessions", "compat_session_id"), id),
                SessionRef::Personal(id) => {
                    (record_sql!("personal_sessions", "personal_session_id"), id)
                }
            };
            let ip = activity.ip.map(|ip| ip.to_string());
            let result = on_backend!(self, |conn| sqlx::query(sql)
                .bind(DbId(id))
                .bind(DbTime(activity.at))
                .bind(ip.as_deref())
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?;
            updated += result;
        }
        Ok(updated)
    }
}
