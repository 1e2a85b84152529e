//! `POST /user-sessions/{id}/finish`: signs the browser out.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_services::sessions;
use portcullis_storage::{Repository, StorageError};
use ulid::Ulid;

use super::UserSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
    v1::sessions::{Finish, finish},
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("finishUserSession")
        .tag("user-session")
        .summary("Finish a browser session")
        .response::<200, Json<SingleResponse<UserSession>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Already finished"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such session"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<UserSession>>, ApiError> {
    // A browser session is bound to no device.
    finish::<UserSession>(&caller, &state, id, false).await
}

#[async_trait::async_trait]
impl Finish for UserSession {
    type Session = portcullis_model::BrowserSession;
    const TITLE: &'static str = "User session";

    async fn find(repo: &mut dyn Repository, id: Ulid) -> Result<Self::Session, ApiError> {
        super::find(repo, id).await
    }

    async fn end(
        repo: &mut dyn Repository,
        session: &Self::Session,
        _keep_device: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        sessions::end_browser_session(repo, session, now).await
    }

    fn show(session: Self::Session) -> Self {
        Self::from(session)
    }
}
