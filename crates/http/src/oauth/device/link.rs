//! `GET /link`: where the user types the code their device shows.
//!
//! The form is a GET form, so `/link?code=…` (the `verification_uri_complete`) lands on the
//! same step as typing the code. Either way the next page shows the code again next to the
//! application's name, so the user compares it with their device before approving (RFC 8628
//! §5.4: the user must check they approve the device they hold).

use axum::{
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use portcullis_model::DeviceCodeGrantStage;
use portcullis_oauth::token::UserCode;
use portcullis_templates::pages::DeviceLinkPage;
use serde::Deserialize;

use crate::{AppState, client_ip::ClientIp, pages::tr};

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    code: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<LinkQuery>,
) -> Response {
    if !state.site_config().device_code_grant_enabled {
        return state.error_page(
            StatusCode::NOT_FOUND,
            tr("device.error.disabled_title", &[]),
            tr("device.error.disabled", &[]),
        );
    }
    let Some(typed) = query.code.filter(|code| !code.trim().is_empty()) else {
        return state.render(
            StatusCode::OK,
            &DeviceLinkPage {
                code: None,
                error: None,
            },
        );
    };
    if let Err(wait) = state.limiters().user_code_attempt(ip).await {
        let mut response = state.render(
            StatusCode::TOO_MANY_REQUESTS,
            &DeviceLinkPage {
                code: Some(typed),
                error: Some(tr("device.error.too_many", &[])),
            },
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let unknown = |state: &AppState, typed: String| {
        state.render(
            StatusCode::NOT_FOUND,
            &DeviceLinkPage {
                code: Some(typed),
                error: Some(tr("device.error.unknown_code", &[])),
            },
        )
    };
    let Ok(user_code) = UserCode::parse(&typed) else {
        return unknown(&state, typed);
    };

    let now = state.now();
    let found = async {
        let mut repository = state.database().transaction().await?;
        let grant = repository
            .oauth_device_code_grants()
            .find_by_user_code(user_code.as_str())
            .await?;
        repository.rollback().await?;
        Ok::<_, portcullis_storage::StorageError>(grant)
    }
    .await;
    match found {
        Ok(Some(grant))
            if grant.stage == DeviceCodeGrantStage::Pending && !grant.is_expired(now) =>
        {
            let mut destination = state.urls().device_consent(grant.id);
            destination
                .query_pairs_mut()
                .append_pair("code", &user_code.to_string());
            Redirect::to(destination.as_str()).into_response()
        }
        Ok(_) => unknown(&state, typed),
        Err(error) => state.internal_error_page(&error),
    }
}
