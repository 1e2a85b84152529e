//! `config check` of the upstream providers' templates: every claims template and additional
//! authorization parameter must parse, so that a typo is found before the first person signs
//! in (the sign-in would otherwise stop at the provider's page).

use portcullis_config::{Problem, sections::upstream_oauth2::UpstreamOAuth2Config};
use portcullis_oidc_client::template;

/// The templates of every provider that do not parse, each named by its path.
///
/// # Errors
/// One problem per broken template.
pub fn check(config: &UpstreamOAuth2Config) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    for (index, provider) in config.providers.iter().enumerate() {
        let at = format!("upstream_oauth2.providers[{index}]");
        let imports = &provider.claims_imports;
        let mut templates: Vec<(String, &str)> = [
            ("subject", imports.subject.template.as_deref()),
            ("localpart", imports.localpart.template.as_deref()),
            ("displayname", imports.displayname.template.as_deref()),
            ("email", imports.email.template.as_deref()),
            ("account_name", imports.account_name.template.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, template)| {
            template.map(|template| (format!("{at}.claims_imports.{name}.template"), template))
        })
        .collect();
        templates.extend(provider.additional_authorization_parameters.iter().map(
            |(name, value)| {
                (
                    format!("{at}.additional_authorization_parameters.{name}"),
                    value.as_str(),
                )
            },
        ));
        for (path, text) in templates {
            if let Err(error) = template::check(text) {
                problems.push(
                    Problem::error(path, format!("the template does not parse: {error}"))
                        .with_hint("templates are Jinja, e.g. \"{{ user.preferred_username }}\""),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
