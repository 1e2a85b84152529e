//! The accepted terms of service, in table `user_terms`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::User;
use portcullis_storage::{StorageError, UserTermsRepository};

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

#[async_trait]
impl UserTermsRepository for SqlRepository {
    async fn accept(
        &mut self,
        user: &User,
        terms_url: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO user_terms (user_terms_id, user_id, terms_url, created_at) ",
            "VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, terms_url) DO NOTHING"
        );
        let id = self.new_id(now);
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .bind(terms_url)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(drop))?;
        Ok(())
    }

    async fn list_for_user(
        &mut self,
        user: &User,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StorageError> {
        const SQL: &str = "SELECT terms_url, created_at FROM user_terms WHERE user_id = $1 \
                           ORDER BY created_at, user_terms_id";
        let rows: Vec<(String, DbTime)> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_all(conn)
            .await)?;
        Ok(rows.into_iter().map(|(url, at)| (url, at.0)).collect())
    }
}
