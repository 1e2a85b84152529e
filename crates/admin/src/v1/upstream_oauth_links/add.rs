//! `POST /upstream-oauth-links`: ties an account at an upstream provider to a user, so that
//! they can sign in through it (for example before the provider is switched on).

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use portcullis_services::upstream_links::{self, Linked};
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::UpstreamOAuthLink;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params,
    response::SingleResponse,
    schema::UlidSchema,
};

#[derive(Deserialize, JsonSchema)]
pub struct AddUpstreamOauthLinkRequest {
    /// The user to tie the account to.
    #[schemars(with = "UlidSchema")]
    user_id: Ulid,
    /// The provider the account is at.
    #[schemars(with = "UlidSchema")]
    provider_id: Ulid,
    /// The account's identifier at the provider (what its subject claim holds).
    subject: String,
    /// A name of the account a person recognises.
    human_account_name: Option<String>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("addUpstreamOAuthLink")
        .tag("upstream-oauth-link")
        .summary("Link an upstream account to a user")
        .description(
            "201 with a new link; 200 when the provider's account was already known but tied to \
             nobody, and is now the user's; 409 when it is already tied to a user.",
        )
        .response::<200, Json<SingleResponse<UpstreamOAuthLink>>>()
        .response::<201, Json<SingleResponse<UpstreamOAuthLink>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Empty subject"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user or provider"))
        .response_with::<409, Json<ErrorResponse>, _>(|r| {
            r.description("The account is already linked")
        })
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    params::Json(request): params::Json<AddUpstreamOauthLinkRequest>,
) -> Result<(StatusCode, Json<SingleResponse<UpstreamOAuthLink>>), ApiError> {
    if request.subject.is_empty() {
        return Err(ApiError::bad_request("The subject must not be empty"));
    }
    let mut repo = state.database().transaction().await?;
    let user = repo
        .users()
        .find_by_id(request.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("User ID {} not found", request.user_id)))?;
    let provider = super::find_provider(&mut *repo, request.provider_id).await?;
    let linked = upstream_links::link(
        &mut *repo,
        &provider,
        &request.subject,
        request.human_account_name.as_deref(),
        &user,
        state.now(),
    )
    .await?;
    let (status, link) = match linked {
        Linked::Created(link) => (StatusCode::CREATED, link),
        Linked::Claimed(link) => (StatusCode::OK, link),
        Linked::AlreadyLinked(link) => {
            return Err(ApiError::conflict(format!(
                "Upstream OAuth 2.0 link ID {} already exists for this subject",
                link.id
            )));
        }
    };
    repo.commit().await?;
    caller.record(
        "link upstream account",
        &format_args!(
            "{} at {} to {}",
            link.subject, link.provider_id, user.username
        ),
    );
    Ok((
        status,
        Json(SingleResponse::new(UpstreamOAuthLink::from(link))),
    ))
}
