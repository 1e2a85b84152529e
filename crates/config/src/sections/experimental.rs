//! `experimental`: options that may change or go away.

use std::{num::NonZeroU64, time::Duration};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{problem::Problem, sections::default_true};

/// Experimental options. Change them only knowing why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExperimentalConfig {
    /// Lifetime of OAuth 2.0 access tokens, in seconds (60 to 86400).
    #[serde(default = "default_token_ttl")]
    pub access_token_ttl: u64,

    /// Lifetime of compatibility access tokens, in seconds (60 to 86400).
    #[serde(default = "default_token_ttl")]
    pub compat_token_ttl: u64,

    /// Finish sessions left inactive for a while; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_session_expiration: Option<InactiveSessionExpirationConfig>,

    /// Show a plan management tab embedding this URL; passed to the client as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_management_iframe_uri: Option<String>,

    /// Limit the number of sessions per user; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_limit: Option<SessionLimitConfig>,
}

fn default_token_ttl() -> u64 {
    300
}

impl Default for ExperimentalConfig {
    fn default() -> Self {
        Self {
            access_token_ttl: default_token_ttl(),
            compat_token_ttl: default_token_ttl(),
            inactive_session_expiration: None,
            plan_management_iframe_uri: None,
            session_limit: None,
        }
    }
}

/// Expiry of inactive sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InactiveSessionExpirationConfig {
    /// Seconds of inactivity after which a session is finished (600 to 7776000).
    pub ttl: u64,
    /// Expire compatibility sessions.
    #[serde(default = "default_true")]
    pub expire_compat_sessions: bool,
    /// Expire OAuth 2.0 sessions.
    #[serde(default = "default_true")]
    pub expire_oauth_sessions: bool,
    /// Expire browser sessions.
    #[serde(default = "default_true")]
    pub expire_user_sessions: bool,
}

/// Limits on the number of sessions of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionLimitConfig {
    /// Interactive logins past this many sessions first ask the user to end some.
    pub soft_limit: NonZeroU64,
    /// No login may go past this many sessions.
    pub hard_limit: NonZeroU64,
    /// Only count sessions active within this many seconds, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_session_threshold: Option<NonZeroU64>,
    /// At the hard limit, end the least recently used sessions instead of refusing the login.
    /// Ending a session can lose encrypted history; needs a hard limit of at least 2.
    #[serde(default)]
    pub dangerous_hard_limit_eviction: bool,
}

impl ExperimentalConfig {
    /// Lifetime of OAuth 2.0 access tokens.
    #[must_use]
    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl)
    }

    /// Lifetime of compatibility access tokens.
    #[must_use]
    pub fn compat_token_ttl(&self) -> Duration {
        Duration::from_secs(self.compat_token_ttl)
    }

    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (name, ttl) in [
            ("access_token_ttl", self.access_token_ttl),
            ("compat_token_ttl", self.compat_token_ttl),
        ] {
            if !(60..=86_400).contains(&ttl) {
                problems.push(Problem::error(
                    format!("experimental.{name}"),
                    format!("{ttl} is out of range: between 60 and 86400 seconds"),
                ));
            }
        }
        if let Some(expiration) = &self.inactive_session_expiration
            && !(600..=7_776_000).contains(&expiration.ttl)
        {
            problems.push(Problem::error(
                "experimental.inactive_session_expiration.ttl",
                format!(
                    "{} is out of range: between 600 and 7776000 seconds",
                    expiration.ttl
                ),
            ));
        }
        if let Some(limit) = &self.session_limit
            && limit.dangerous_hard_limit_eviction
            && limit.hard_limit.get() < 2
        {
            problems.push(Problem::error(
                "experimental.session_limit.hard_limit",
                "must be at least 2 with `dangerous_hard_limit_eviction`",
            ));
        }
        problems
    }
}
