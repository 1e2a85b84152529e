//! Third-party ids kept from Synapse, in table `user_third_party_ids`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::User;
use portcullis_storage::{StorageError, UserThirdPartyIdRepository};

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

#[async_trait]
impl UserThirdPartyIdRepository for SqlRepository {
    async fn add(
        &mut self,
        user: &User,
        medium: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_third_party_ids ",
            "(user_third_party_id, user_id, medium, address, created_at) ",
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, medium, address) DO NOTHING"
        );
        let id = self.new_id(now);
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .bind(medium)
            .bind(address)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(drop))?;
        Ok(())
    }

    async fn remove_all_for_user(&mut self, user: &User) -> Result<usize, StorageError> {
        const SQL: &str = "DELETE FROM user_third_party_ids WHERE user_id = $1";
        let removed = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    async fn list_for_user(&mut self, user: &User) -> Result<Vec<(String, String)>, StorageError> {
        const SQL: &str = "SELECT medium, address FROM user_third_party_ids WHERE user_id = $1 \
                           ORDER BY created_at, user_third_party_id";
        on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_all(conn)
            .await)
    }
}
