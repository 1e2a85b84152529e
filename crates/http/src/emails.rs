//! The emails a request queues, rendered from the `emails/` templates in the language of the
//! request, so that the reader gets the email in the language of the page they asked it from.

use portcullis_email::OutgoingEmail;
use portcullis_services::jobs::send_email::SendEmail;
use portcullis_storage::{Repository, StorageError};
use portcullis_templates::{Email, TemplateError};

use crate::AppState;

/// Why an email could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueEmailError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A template (probably an override) failed: `templates check` tells which and where.
    #[error("cannot render the email: {0}")]
    Template(#[from] TemplateError),
}

impl AppState {
    /// `email` rendered for `to`, in the language of the request being served (the site's
    /// `lang`, see [`current_locale`](crate::pages::current_locale)). The service is
    /// named by `branding.service_name`, else by the server name (a name the reader knows the
    /// service by, which the pages' generic fallback is not).
    ///
    /// # Errors
    /// When a template fails.
    pub fn render_email<E: Email>(
        &self,
        to: &str,
        email: &E,
    ) -> Result<OutgoingEmail, TemplateError> {
        let mut site = self.site();
        let settings = self.site_config();
        site.branding.service_name = settings
            .service_name
            .clone()
            .unwrap_or_else(|| settings.server_name.clone());
        let rendered = self.templates().render_email(&site, email)?;
        Ok(OutgoingEmail {
            to: to.to_owned(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        })
    }

    /// Renders `email` for `to` and queues it in `repo`'s transaction.
    ///
    /// # Errors
    /// When a template fails or the job cannot be stored.
    pub async fn queue_email<E: Email>(
        &self,
        repo: &mut dyn Repository,
        to: &str,
        email: &E,
    ) -> Result<(), QueueEmailError> {
        let outgoing = self.render_email(to, email)?;
        SendEmail::new(outgoing).schedule(repo, self.now()).await?;
        Ok(())
    }
}
