//! Key sets published at a `jwks_uri` — by our clients that authenticate with
//! `private_key_jwt`, and by upstream providers for their ID tokens — fetched when needed and
//! kept a few minutes.
//!
//! Keys are rotated by publishing the new one first, so a signature by an unknown key
//! triggers one refetch before it is refused. A client's `jwks_uri` is https on the client's
//! own host (the registration rules); a provider's comes from its discovery document or from
//! the operator's configuration.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use url::Url;

/// How long fetched keys are trusted before they are fetched again.
const FRESH_FOR: Duration = Duration::from_secs(300);

/// The largest key set we accept: a JWKS is a few kilobytes.
const MAX_SIZE: usize = 256 * 1024;

/// Fetched key sets by URI, shared by the requests of a process.
#[derive(Clone)]
pub struct JwksCache {
    client: reqwest::Client,
    entries: Arc<Mutex<HashMap<String, (Instant, String)>>>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache").finish_non_exhaustive()
    }
}

impl Default for JwksCache {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            client,
            entries: Arc::default(),
        }
    }
}

impl JwksCache {
    /// The key set at `uri`, from the cache unless stale or `refresh` is asked.
    ///
    /// # Errors
    /// When the keys cannot be fetched or are not a JSON object.
    pub async fn get(&self, uri: &Url, refresh: bool) -> Result<String, String> {
        if !refresh
            && let Some((fetched_at, jwks)) = self
                .entries
                .lock()
                .map_err(|_| "cache lock poisoned")?
                .get(uri.as_str())
            && fetched_at.elapsed() < FRESH_FOR
        {
            return Ok(jwks.clone());
        }
        let response = self
            .client
            .get(uri.clone())
            .send()
            .await
            .map_err(|e| format!("cannot fetch {uri}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "{uri} answered HTTP {}",
                response.status().as_u16()
            ));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("cannot read {uri}: {e}"))?;
        if body.len() > MAX_SIZE {
            return Err(format!("{uri} is too large to be a key set"));
        }
        let jwks = String::from_utf8(body.to_vec()).map_err(|_| format!("{uri} is not text"))?;
        if !serde_json::from_str::<serde_json::Value>(&jwks).is_ok_and(|v| v.get("keys").is_some())
        {
            return Err(format!("{uri} is not a JWK Set"));
        }
        self.entries
            .lock()
            .map_err(|_| "cache lock poisoned")?
            .insert(uri.to_string(), (Instant::now(), jwks.clone()));
        Ok(jwks)
    }
}
