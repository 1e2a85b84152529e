//! The policy data pushed through the Admin API, in table `policy_data`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_storage::{PolicyData, PolicyDataRepository, StorageError};
use sqlx::types::Json;
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

#[derive(sqlx::FromRow)]
struct PolicyDataRow {
    policy_data_id: DbId,
    data: Json<serde_json::Value>,
    created_at: DbTime,
}

impl From<PolicyDataRow> for PolicyData {
    fn from(row: PolicyDataRow) -> Self {
        Self {
            id: row.policy_data_id.0,
            data: row.data.0,
            created_at: row.created_at.0,
        }
    }
}

#[async_trait]
impl PolicyDataRepository for SqlRepository {
    async fn add(
        &mut self,
        data: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<PolicyData, StorageError> {
        const SQL: &str = "INSERT INTO policy_data (policy_data_id, data, created_at) \
                           VALUES ($1, $2, $3) RETURNING policy_data_id, data, created_at";
        let id = self.new_id(now);
        let row: PolicyDataRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(Json(data))
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn latest(&mut self) -> Result<Option<PolicyData>, StorageError> {
        const SQL: &str = "SELECT policy_data_id, data, created_at FROM policy_data \
                           ORDER BY policy_data_id DESC LIMIT 1";
        let row: Option<PolicyDataRow> =
            on_backend!(self, |conn| sqlx::query_as(SQL).fetch_optional(conn).await)?;
        Ok(row.map(PolicyData::from))
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<PolicyData>, StorageError> {
        const SQL: &str = "SELECT policy_data_id, data, created_at FROM policy_data \
                           WHERE policy_data_id = $1";
        let row: Option<PolicyDataRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(PolicyData::from))
    }

    async fn delete_replaced_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        // A version is replaced when the next one is created: every version but the latest whose
        // successor is older than `before`.
        const SQL: &str = "DELETE FROM policy_data AS old WHERE EXISTS ( \
                             SELECT 1 FROM policy_data AS newer \
                             WHERE newer.policy_data_id > old.policy_data_id \
                               AND newer.created_at < $1)";
        let done = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(done)
    }
}
