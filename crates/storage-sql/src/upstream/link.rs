//! The links between upstream accounts and users, in table `upstream_oauth_links`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{UpstreamLink, User};
use portcullis_storage::{
    Page, Pagination, StorageError, UpstreamLinkFilter, UpstreamLinkRepository,
};
use ulid::Ulid;

use crate::{
    listing::{Arg, Conditions, bind_args},
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

/// The columns every query returns, in [`UpstreamLinkRow`]'s order.
macro_rules! columns {
    () => {
        "upstream_oauth_link_id, upstream_oauth_provider_id, subject, user_id, \
         human_account_name, created_at"
    };
}

#[derive(sqlx::FromRow)]
struct UpstreamLinkRow {
    upstream_oauth_link_id: DbId,
    upstream_oauth_provider_id: String,
    subject: String,
    user_id: Option<DbId>,
    human_account_name: Option<String>,
    created_at: DbTime,
}

impl From<UpstreamLinkRow> for UpstreamLink {
    fn from(row: UpstreamLinkRow) -> Self {
        Self {
            id: row.upstream_oauth_link_id.0,
            provider_id: row.upstream_oauth_provider_id,
            subject: row.subject,
            user_id: row.user_id.map(|id| id.0),
            human_account_name: row.human_account_name,
            created_at: row.created_at.0,
        }
    }
}

/// The conditions of `filter` on table `upstream_oauth_links`.
fn conditions(filter: &UpstreamLinkFilter) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(user) = filter.user {
        conditions.and("user_id = ?", [Arg::Id(user)]);
    }
    if let Some(providers) = &filter.providers {
        if providers.is_empty() {
            conditions.and("FALSE", []);
        } else {
            let marks = vec!["?"; providers.len()].join(", ");
            conditions.and(
                &format!("upstream_oauth_provider_id IN ({marks})"),
                providers.iter().cloned().map(Arg::Text),
            );
        }
    }
    if let Some(subject) = &filter.subject {
        conditions.and("subject = ?", [Arg::Text(subject.clone())]);
    }
    if let Some(name) = &filter.human_account_name {
        conditions.and("human_account_name = ?", [Arg::Text(name.clone())]);
    }
    conditions
}

#[async_trait]
impl UpstreamLinkRepository for SqlRepository {
    async fn add(
        &mut self,
        provider_id: &str,
        subject: &str,
        human_account_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<UpstreamLink, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO upstream_oauth_links (upstream_oauth_link_id, ",
            "upstream_oauth_provider_id, subject, human_account_name, created_at) ",
            "VALUES ($1, $2, $3, $4, $5) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: UpstreamLinkRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(provider_id)
            .bind(subject)
            .bind(human_account_name)
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn associate(
        &mut self,
        link: UpstreamLink,
        user: &User,
    ) -> Result<UpstreamLink, StorageError> {
        const SQL: &str = concat!(
            "UPDATE upstream_oauth_links SET user_id = $2 ",
            "WHERE upstream_oauth_link_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<UpstreamLinkRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(link.id))
            .bind(DbId(user.id))
            .fetch_optional(conn)
            .await)?;
        row.map(UpstreamLink::from)
            .ok_or_else(|| StorageError::NotFound {
                entity: "upstream link",
                id: link.id.to_string(),
            })
    }

    async fn claim(&mut self, id: Ulid, user: &User) -> Result<Option<UpstreamLink>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE upstream_oauth_links SET user_id = $2 ",
            "WHERE upstream_oauth_link_id = $1 AND user_id IS NULL RETURNING ",
            columns!()
        );
        let row: Option<UpstreamLinkRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamLink::from))
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<UpstreamLink>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM upstream_oauth_links WHERE upstream_oauth_link_id = $1"
        );
        let row: Option<UpstreamLinkRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamLink::from))
    }

    async fn find_by_subject(
        &mut self,
        provider_id: &str,
        subject: &str,
    ) -> Result<Option<UpstreamLink>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM upstream_oauth_links ",
            "WHERE upstream_oauth_provider_id = $1 AND subject = $2"
        );
        let row: Option<UpstreamLinkRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(provider_id)
            .bind(subject)
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamLink::from))
    }

    async fn remove(&mut self, id: Ulid) -> Result<bool, StorageError> {
        const SQL: &str = "DELETE FROM upstream_oauth_links WHERE upstream_oauth_link_id = $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(id))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted > 0)
    }

    async fn list_page(
        &mut self,
        filter: &UpstreamLinkFilter,
        pagination: Pagination,
    ) -> Result<Page<UpstreamLink>, StorageError> {
        let (sql, args) = conditions(filter).page_query(
            columns!(),
            "upstream_oauth_links",
            "upstream_oauth_link_id",
            &pagination,
        );
        let rows: Vec<UpstreamLinkRow> =
            on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        Ok(pagination.page(rows.into_iter().map(UpstreamLink::from).collect()))
    }

    async fn count(&mut self, filter: &UpstreamLinkFilter) -> Result<usize, StorageError> {
        let (sql, args) = conditions(filter).count_query("upstream_oauth_links");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
    }
}
