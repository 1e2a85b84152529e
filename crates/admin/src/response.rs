//! Answers in MAS's JSON:API-like shape: one resource as `{data, links}`, a list as
//! `{meta, data, links}` with cursor links to the first, last, next and previous pages.

use portcullis_storage::{Page, Pagination, Repository, StorageError};
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{
    params::{IncludeCount, ListQuery},
    schema::UlidSchema,
};

/// Something the API serves at `{PATH}/{id}`.
pub trait Resource {
    /// Its `type`, e.g. `user`.
    const KIND: &'static str;
    /// Where its collection is, e.g. `/api/admin/v1/users`.
    const PATH: &'static str;

    fn id(&self) -> Ulid;

    /// Where it is.
    fn path(&self) -> String {
        format!("{}/{}", Self::PATH, self.id())
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SelfLinks {
    #[serde(rename = "self")]
    pub self_: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SingleResourceMetaPage {
    pub cursor: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SingleResourceMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<SingleResourceMetaPage>,
}

/// One resource: its type, id, attributes and link.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SingleResource<T> {
    #[serde(rename = "type")]
    pub kind: String,
    #[schemars(with = "UlidSchema")]
    pub id: Ulid,
    pub attributes: T,
    pub links: SelfLinks,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<SingleResourceMeta>,
}

impl<T: Resource> SingleResource<T> {
    pub fn new(resource: T) -> Self {
        Self {
            kind: T::KIND.to_owned(),
            id: resource.id(),
            links: SelfLinks {
                self_: resource.path(),
            },
            attributes: resource,
            meta: None,
        }
    }

    /// As a row of a list: with its cursor.
    fn with_cursor(mut self) -> Self {
        self.meta = Some(SingleResourceMeta {
            page: Some(SingleResourceMetaPage {
                cursor: self.id.to_string(),
            }),
        });
        self
    }
}

/// The answer about one resource.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SingleResponse<T> {
    pub data: SingleResource<T>,
    pub links: SelfLinks,
}

impl<T: Resource> SingleResponse<T> {
    pub fn new(resource: T) -> Self {
        let links = SelfLinks {
            self_: resource.path(),
        };
        Self {
            data: SingleResource::new(resource),
            links,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PaginationMeta {
    pub count: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PaginationLinks {
    #[serde(rename = "self")]
    pub self_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

/// The answer of a list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PaginatedResponse<T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<PaginationMeta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<SingleResource<T>>>,
    pub links: PaginationLinks,
}

/// `path?filters&page…` with the page's parameters.
fn link(path: &str, filter_pairs: &[(String, String)], page: Option<&Pagination>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in filter_pairs {
        query.append_pair(key, value);
    }
    if let Some(page) = page {
        if let Some(after) = page.after {
            query.append_pair("page[after]", &after.to_string());
        }
        if let Some(before) = page.before {
            query.append_pair("page[before]", &before.to_string());
        }
        let size = page.count.to_string();
        match page.direction {
            portcullis_storage::Direction::Forward => query.append_pair("page[first]", &size),
            portcullis_storage::Direction::Backward => query.append_pair("page[last]", &size),
        };
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

impl<T: Resource> PaginatedResponse<T> {
    /// A page of rows, with the total count when it was asked for.
    pub fn page<F>(
        page: Page<T>,
        pagination: &Pagination,
        count: Option<usize>,
        query: &ListQuery<F>,
    ) -> Self {
        // A list read without its count (`count=false`) links to pages read the same way.
        let mut pairs = query.filter_pairs.clone();
        if count.is_none() {
            pairs.push(("count".to_owned(), "false".to_owned()));
        }
        let pairs = &pairs;
        let first_cursor = page.edges.first().map(Resource::id);
        let last_cursor = page.edges.last().map(Resource::id);
        let size = pagination.count;
        let next = page
            .has_next_page
            .then_some(last_cursor)
            .flatten()
            .map(|cursor| link(T::PATH, pairs, Some(&Pagination::first(size).after(cursor))));
        let prev = page
            .has_previous_page
            .then_some(first_cursor)
            .flatten()
            .map(|cursor| link(T::PATH, pairs, Some(&Pagination::last(size).before(cursor))));
        Self {
            meta: count.map(|count| PaginationMeta { count: Some(count) }),
            data: Some(
                page.edges
                    .into_iter()
                    .map(|row| SingleResource::new(row).with_cursor())
                    .collect(),
            ),
            links: PaginationLinks {
                self_: link(T::PATH, pairs, Some(pagination)),
                first: Some(link(T::PATH, pairs, Some(&Pagination::first(size)))),
                last: Some(link(T::PATH, pairs, Some(&Pagination::last(size)))),
                next,
                prev,
            },
        }
    }

    /// Only the count (`count=only`).
    pub fn count_only<F>(count: usize, query: &ListQuery<F>) -> Self {
        let mut pairs = query.filter_pairs.clone();
        pairs.push(("count".to_owned(), "only".to_owned()));
        Self {
            meta: Some(PaginationMeta { count: Some(count) }),
            data: None,
            links: PaginationLinks {
                self_: link(T::PATH, &pairs, None),
                first: None,
                last: None,
                next: None,
                prev: None,
            },
        }
    }
}

/// Whether to read the rows and whether to count them, from `count=`.
#[must_use]
pub fn wants(count: IncludeCount) -> (bool, bool) {
    match count {
        IncludeCount::True => (true, true),
        IncludeCount::False => (true, false),
        IncludeCount::Only => (false, true),
    }
}

/// A list the API serves: how to count its rows and read one page of them, in a unit of work.
#[async_trait::async_trait]
pub trait Listing: Send + Sync {
    type Row: Send;

    async fn count(&self, repo: &mut dyn Repository) -> Result<usize, StorageError>;

    async fn page(
        &self,
        repo: &mut dyn Repository,
        pagination: Pagination,
    ) -> Result<Page<Self::Row>, StorageError>;
}

/// The answer of a list: its rows and its count, as `count=` asks, each row shown by `show`.
///
/// # Errors
/// When storage fails.
pub async fn list<L, T, F>(
    repo: &mut dyn Repository,
    listing: &L,
    pagination: Pagination,
    query: &ListQuery<F>,
    show: impl Fn(L::Row) -> T,
) -> Result<PaginatedResponse<T>, StorageError>
where
    L: Listing,
    T: Resource,
{
    let (rows, count) = wants(query.page.include_count());
    let count = if count {
        Some(listing.count(repo).await?)
    } else {
        None
    };
    Ok(if rows {
        let page = listing.page(repo, pagination).await?;
        PaginatedResponse::page(page.map(show), &pagination, count, query)
    } else {
        PaginatedResponse::count_only(count.unwrap_or_default(), query)
    })
}

/// [`Listing`] for a filter type whose repository has `count` and `list_page`.
macro_rules! listing {
    ($filter:ty, $row:ty, $repository:ident) => {
        #[async_trait::async_trait]
        impl $crate::response::Listing for $filter {
            type Row = $row;

            async fn count(
                &self,
                repo: &mut dyn portcullis_storage::Repository,
            ) -> Result<usize, portcullis_storage::StorageError> {
                repo.$repository().count(self).await
            }

            async fn page(
                &self,
                repo: &mut dyn portcullis_storage::Repository,
                pagination: portcullis_storage::Pagination,
            ) -> Result<portcullis_storage::Page<$row>, portcullis_storage::StorageError> {
                repo.$repository().list_page(self, pagination).await
            }
        }
    };
}

listing!(
    portcullis_storage::UserFilter,
    portcullis_model::User,
    users
);
listing!(
    portcullis_storage::PersonalSessionFilter,
    portcullis_model::PersonalSession,
    personal_sessions
);
listing!(
    portcullis_storage::SessionFilter,
    portcullis_model::BrowserSession,
    browser_sessions
);
listing!(
    portcullis_storage::OAuthSessionFilter,
    portcullis_model::OAuthSession,
    oauth_sessions
);
listing!(
    portcullis_storage::CompatSessionFilter,
    portcullis_model::CompatSession,
    compat_sessions
);
listing!(
    portcullis_storage::UserEmailFilter,
    portcullis_model::UserEmail,
    user_emails
);
listing!(
    portcullis_storage::OAuthClientFilter,
    portcullis_model::OAuthClient,
    oauth_clients
);
listing!(
    portcullis_storage::RegistrationTokenFilter,
    portcullis_model::RegistrationToken,
    registration_tokens
);
listing!(
    portcullis_storage::UpstreamLinkFilter,
    portcullis_model::UpstreamLink,
    upstream_links
);
