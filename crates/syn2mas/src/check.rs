//! What stands in the way of a migration (errors), and what deserves a look before it
//! (warnings, each accepted explicitly by its code).

use portcullis_config::{Config, sections::passwords::HashingAlgorithm};

use crate::{SynapseConfig, synapse_database::SynapseData};

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The migration is refused until it is fixed.
    Error,
    /// The migration goes on only once it is accepted (`--accept-warnings`, or
    /// `--accept-warning CODE`).
    Warning,
}

/// One finding, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name, for `--accept-warning`.
    pub code: &'static str,
    pub message: String,
    pub fix: String,
}

/// Every finding of a check.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    fn error(&mut self, code: &'static str, message: String, fix: impl Into<String>) {
        self.findings.push(Finding {
            severity: Severity::Error,
            code,
            message,
            fix: fix.into(),
        });
    }

    fn warning(&mut self, code: &'static str, message: String, fix: impl Into<String>) {
        self.findings.push(Finding {
            severity: Severity::Warning,
            code,
            message,
            fix: fix.into(),
        });
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.severity == Severity::Error)
    }

    /// The warnings that `accepted` does not cover (`["all"]` covers every one).
    #[must_use]
    pub fn unaccepted_warnings(&self, accepted: &[String]) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.severity == Severity::Warning)
            .filter(|finding| {
                !accepted
                    .iter()
                    .any(|code| code == "all" || code == finding.code)
            })
            .collect()
    }
}

/// Why Synapse looks like it still runs, if it does: the process of its `pid_file` is alive,
/// or other clients use its database.
#[must_use]
pub fn still_running(synapse: &SynapseConfig, data: &SynapseData) -> Option<String> {
    if let Some(pid) = synapse.running_pid() {
        return Some(format!("Synapse is running (pid {pid} in its pid_file)"));
    }
    (data.other_clients > 0).then(|| {
        format!(
            "{} other client(s) use Synapse's database: Synapse is probably running",
            data.other_clients
        )
    })
}

/// The version of our bcrypt scheme that takes Synapse's hashes: the lowest bcrypt one.
#[must_use]
pub fn bcrypt_version(config: &Config) -> Option<u16> {
    config
        .passwords
        .schemes
        .iter()
        .filter(|scheme| scheme.algorithm == HashingAlgorithm::Bcrypt)
        .map(|scheme| scheme.version)
        .min()
}

/// Checks Synapse's configuration and data against ours.
#[must_use]
pub fn check(synapse: &SynapseConfig, data: &SynapseData, config: &Config) -> Report {
    let mut report = Report::default();

    if synapse.server_name() != config.matrix.homeserver {
        report.error(
            "server-name",
            format!(
                "Synapse's server_name is {:?} but matrix.homeserver here is {:?}: every user ID \
                 would change",
                synapse.server_name(),
                config.matrix.homeserver
            ),
            format!(
                "set matrix.homeserver to {:?} in this configuration",
                synapse.server_name()
            ),
        );
    }

    check_passwords(synapse, data, config, &mut report);
    check_providers(synapse, data, config, &mut report);

    if let Some(running) = still_running(synapse, data) {
        report.warning(
            "synapse-running",
            format!(
                "{running}: what Synapse writes after the migration read its database would be \
                 lost"
            ),
            "stop Synapse before `syn2mas migrate` (migrate refuses to run while it does)",
        );
    }
    let other: Vec<&str> = [
        ("saml2_config", synapse.saml2_config.is_some()),
        (
            "cas_config",
            synapse.cas_config.as_ref().is_some_and(|c| c.enabled),
        ),
        (
            "jwt_config",
            synapse.jwt_config.as_ref().is_some_and(|c| c.enabled),
        ),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if !other.is_empty() {
        report.warning(
            "other-sign-in",
            format!(
                "Synapse signs users in with {}, which has no equivalent here",
                other.join(", ")
            ),
            "those users need a password (set one with `manage set-password`) or an upstream \
             OpenID provider linked to their account (`manage add-upstream-link`)",
        );
    }
    let guests = data.users.iter().filter(|user| user.is_guest).count();
    if synapse.allow_guest_access || guests > 0 {
        report.warning(
            "guests",
            format!(
                "Synapse allows guest access ({guests} guest account(s)): no guest account is \
                 made here; existing ones are moved as legacy guests, without their sessions"
            ),
            "accept it: guests lose their sessions (they had no password to sign in again with)",
        );
    }
    if synapse.enable_registration {
        report.warning(
            "registration",
            "Synapse's registration is open: after the switch, sign-ups happen here".to_owned(),
            "set account.password_registration_enabled: true here to keep it open (and \
             captcha or registration tokens as Synapse had them)",
        );
    }
    if synapse.enable_registration_captcha && config.captcha.service.is_none() {
        report.warning(
            "captcha",
            "Synapse asks for a CAPTCHA at registration, and no captcha is configured here"
                .to_owned(),
            "configure the captcha section",
        );
    }
    if synapse.enable_3pid_changes == Some(true) {
        report.warning(
            "3pid-changes",
            "Synapse lets users change their email addresses: after the switch, that happens on \
             the account pages here"
                .to_owned(),
            "set account.email_change_allowed as you want it",
        );
    }
    if synapse
        .login_via_existing_session
        .as_ref()
        .is_some_and(|section| section.enabled)
    {
        report.warning(
            "existing-session-login",
            "Synapse's login_via_existing_session (QR login) is on; here devices sign in with the \
             OAuth 2.0 device grant instead"
                .to_owned(),
            "nothing to configure: clients that support it use the device grant",
        );
    }
    if synapse.user_consent.is_some() && config.branding.tos_uri.is_none() {
        report.warning(
            "user-consent",
            "Synapse asks users to consent to terms (user_consent), and no branding.tos_uri is \
             set here"
                .to_owned(),
            "set branding.tos_uri to your terms",
        );
    }
    let other_threepids = data
        .threepids
        .iter()
        .filter(|threepid| threepid.medium != "email")
        .count();
    if other_threepids > 0 {
        report.warning(
            "other-threepids",
            format!(
                "{other_threepids} third-party id(s) are not email addresses (phone numbers): \
                 they are kept, but nobody can sign in or recover an account with them"
            ),
            "accept it",
        );
    }
    report
}

fn check_passwords(
    synapse: &SynapseConfig,
    data: &SynapseData,
    config: &Config,
    report: &mut Report,
) {
    let with_password = data
        .users
        .iter()
        .filter(|user| {
            user.password_hash
                .as_deref()
                .is_some_and(|hash| !hash.is_empty())
        })
        .count();
    if with_password == 0 || !synapse.password_config.checks_passwords() {
        return;
    }
    if !config.passwords.enabled {
        report.warning(
            "passwords-disabled",
            format!(
                "{with_password} user(s) have a password in Synapse, but passwords.enabled is \
                 false here: they will not be able to sign in with it"
            ),
            "set passwords.enabled: true, or accept that they sign in upstream",
        );
        return;
    }
    let Some(version) = bcrypt_version(config) else {
        report.error(
            "password-scheme",
            format!(
                "{with_password} user(s) have a bcrypt password from Synapse, and no passwords \
                 scheme here is bcrypt"
            ),
            "add `{version: 1, algorithm: bcrypt}` to passwords.schemes (keeping your argon2id \
             scheme with a higher version: passwords are re-hashed with it at their next sign-in)",
        );
        return;
    };
    let scheme = config
        .passwords
        .schemes
        .iter()
        .find(|scheme| scheme.version == version);
    let ours = scheme
        .and_then(portcullis_config::sections::passwords::HashingScheme::secret)
        .map(|source| source.read());
    let theirs = synapse
        .password_config
        .pepper
        .as_deref()
        .filter(|p| !p.is_empty());
    let matches = match (theirs, ours) {
        (None, None) => true,
        (Some(pepper), Some(Ok(bytes))) => bytes == pepper.as_bytes(),
        _ => false,
    };
    if !matches {
        report.error(
            "password-pepper",
            format!(
                "Synapse's password_config.pepper and the secret of bcrypt scheme version \
                 {version} here differ: no migrated password would verify"
            ),
            if theirs.is_some() {
                "set the bcrypt scheme's secret (or secret_file) to Synapse's pepper, byte for byte"
            } else {
                "Synapse has no pepper: remove the secret of the bcrypt scheme"
            },
        );
    }
}

/// The `auth_provider` Synapse records for users of an auth service it delegated to.
const DELEGATED_PROVIDER: &str = "oauth-delegated";

fn check_providers(
    synapse: &SynapseConfig,
    data: &SynapseData,
    config: &Config,
    report: &mut Report,
) {
    let mapped: Vec<&str> = config
        .upstream_oauth2
        .providers
        .iter()
        .filter_map(|provider| provider.synapse_idp_id.as_deref())
        .collect();
    let mut unmapped: Vec<(&str, usize)> = Vec::new();
    let mut delegated = 0;
    for external in &data.external_ids {
        if mapped.contains(&external.auth_provider.as_str()) {
            continue;
        }
        if external.auth_provider == DELEGATED_PROVIDER {
            delegated += 1;
            continue;
        }
        match unmapped
            .iter_mut()
            .find(|(name, _)| *name == external.auth_provider)
        {
            Some((_, count)) => *count += 1,
            None => unmapped.push((&external.auth_provider, 1)),
        }
    }
    if delegated > 0 {
        report.error(
            "previous-auth-service",
            format!(
                "{delegated} user(s) have mappings from a previous delegation of this Synapse to an \
                 auth service (`{DELEGATED_PROVIDER}` external ids): its accounts live in that \
                 service's database, not in Synapse's"
            ),
            "move from that service instead; if it is gone for good, delete those rows from \
             Synapse's user_external_ids first",
        );
    }
    for (provider, count) in unmapped {
        let known = synapse
            .oidc_auth_providers()
            .iter()
            .any(|id| id == provider);
        report.error(
            "unmapped-provider",
            format!(
                "{count} user(s) sign in through Synapse's provider {provider:?}, which no \
                 upstream_oauth2 provider here maps (synapse_idp_id)"
            ),
            if known {
                format!(
                    "add the provider to upstream_oauth2.providers with `synapse_idp_id: {provider}`"
                )
            } else {
                format!(
                    "{provider:?} is not an OpenID provider of this Synapse configuration (SAML, CAS \
                     or a removed one?): map it with `synapse_idp_id: {provider}` on the provider \
                     that replaces it"
                )
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synapse_database::{SynapseExternalId, SynapseThreepid, SynapseUser};

    fn config(extra: &str) -> Config {
        let yaml = format!(
            "matrix: {{homeserver: example.com, secret: a-secret}}\nsecrets: {{encryption: \"{}\"}}\n{extra}",
            "00".repeat(32)
        );
        serde_yaml_ng::from_str(&yaml).expect("a configuration")
    }

    fn synapse(yaml: &str) -> SynapseConfig {
        serde_yaml_ng::from_str(&format!("server_name: example.com\n{yaml}")).expect("valid")
    }

    fn with_password() -> SynapseData {
        SynapseData {
            users: vec![SynapseUser {
                name: "@alice:example.com".to_owned(),
                password_hash: Some("$2b$12$hash".to_owned()),
                creation_ts: 0,
                admin: false,
                is_guest: false,
                deactivated: false,
                locked: false,
                appservice_id: None,
            }],
            ..SynapseData::default()
        }
    }

    fn codes(report: &Report) -> Vec<(&'static str, Severity)> {
        report
            .findings
            .iter()
            .map(|finding| (finding.code, finding.severity))
            .collect()
    }

    const BCRYPT: &str = "passwords:\n  schemes:\n    - {version: 1, algorithm: bcrypt}\n    - {version: 2, algorithm: argon2id}\n";

    #[test]
    fn a_matching_deployment_has_nothing_to_report() {
        let report = check(&synapse(""), &with_password(), &config(BCRYPT));
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }

    #[test]
    fn another_server_name_is_an_error() {
        let report = check(
            &serde_yaml_ng::from_str("server_name: other.org").expect("valid"),
            &SynapseData::default(),
            &config(""),
        );
        assert_eq!(codes(&report), [("server-name", Severity::Error)]);
        assert!(report.findings[0].fix.contains("\"other.org\""));
    }

    #[test]
    fn synapse_passwords_need_a_bcrypt_scheme_with_the_same_pepper() {
        let none = check(&synapse(""), &with_password(), &config(""));
        assert_eq!(codes(&none), [("password-scheme", Severity::Error)]);

        let peppered = synapse("password_config: {pepper: spicy}");
        let unpeppered = check(&peppered, &with_password(), &config(BCRYPT));
        assert_eq!(codes(&unpeppered), [("password-pepper", Severity::Error)]);
        let same = BCRYPT.replace(
            "{version: 1, algorithm: bcrypt}",
            "{version: 1, algorithm: bcrypt, secret: spicy}",
        );
        assert!(
            check(&peppered, &with_password(), &config(&same))
                .findings
                .is_empty()
        );
        let other = BCRYPT.replace(
            "{version: 1, algorithm: bcrypt}",
            "{version: 1, algorithm: bcrypt, secret: mild}",
        );
        assert_eq!(
            codes(&check(&peppered, &with_password(), &config(&other))),
            [("password-pepper", Severity::Error)]
        );
        // Synapse that checks no password has nothing to carry over.
        let off = synapse("password_config: {enabled: false}");
        assert!(
            check(&off, &with_password(), &config(""))
                .findings
                .is_empty()
        );
    }

    #[test]
    fn an_external_id_needs_a_provider_that_maps_it() {
        let mut data = SynapseData::default();
        data.external_ids.push(SynapseExternalId {
            user_id: "@alice:example.com".to_owned(),
            auth_provider: "oidc-pocket".to_owned(),
            external_id: "sub".to_owned(),
        });
        let synapse = synapse("oidc_providers: [{idp_id: pocket}]");
        let report = check(&synapse, &data, &config(""));
        assert_eq!(codes(&report), [("unmapped-provider", Severity::Error)]);
        assert!(
            report.findings[0]
                .fix
                .contains("synapse_idp_id: oidc-pocket")
        );
        let mapped = config(
            "upstream_oauth2:\n  providers:\n    - {id: pocket, synapse_idp_id: oidc-pocket, issuer: \"https://id.example.com\", client_id: c, token_endpoint_auth_method: none}\n",
        );
        assert!(check(&synapse, &data, &mapped).findings.is_empty());
    }

    #[test]
    fn mappings_left_by_a_previous_auth_service_are_an_error_of_their_own() {
        let mut data = SynapseData::default();
        data.external_ids.push(SynapseExternalId {
            user_id: "@alice:example.com".to_owned(),
            auth_provider: "oauth-delegated".to_owned(),
            external_id: "01J000000000000000000000AB".to_owned(),
        });
        let report = check(&synapse(""), &data, &config(""));
        assert_eq!(codes(&report), [("previous-auth-service", Severity::Error)]);
    }

    #[test]
    fn warnings_are_accepted_by_code_or_all_at_once() {
        let mut data = SynapseData::default();
        data.threepids.push(SynapseThreepid {
            user_id: "@alice:example.com".to_owned(),
            medium: "msisdn".to_owned(),
            address: "447700900000".to_owned(),
            added_at: 0,
        });
        data.other_clients = 2;
        let synapse = synapse(
            "enable_registration: true\nallow_guest_access: true\ncas_config: {enabled: true}\nuser_consent: {version: '1.0'}\nenable_registration_captcha: true\nenable_3pid_changes: true\nlogin_via_existing_session: {enabled: true}",
        );
        let report = check(&synapse, &data, &config(""));
        let mut found: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
        found.sort_unstable();
        assert_eq!(
            found,
            [
                "3pid-changes",
                "captcha",
                "existing-session-login",
                "guests",
                "other-sign-in",
                "other-threepids",
                "registration",
                "synapse-running",
                "user-consent",
            ]
        );
        assert!(report.errors().next().is_none());
        assert_eq!(report.unaccepted_warnings(&[]).len(), 9);
        let some = ["registration".to_owned(), "guests".to_owned()];
        assert_eq!(report.unaccepted_warnings(&some).len(), 7);
        assert!(report.unaccepted_warnings(&["all".to_owned()]).is_empty());
    }
}
