//! `send-email` with the in-memory mailer, over a real SQLite database.

use crate::common::{World, world};
use chrono::TimeDelta;
use portcullis_email::{OutgoingEmail, SimulatedFailure};
use portcullis_model::{Clock as _, JobStatus};
use portcullis_services::jobs::send_email::SendEmail;

impl World {
    async fn queue(&self, email: OutgoingEmail) {
        let mut repo = self
            .database
            .transaction()
            .await
            .expect("the test set-up works");
        let job = SendEmail::new(email)
            .schedule(&mut *repo, self.clock.now())
            .await
            .expect("the test set-up works");
        assert_eq!(job.kind, portcullis_services::jobs::send_email::KIND);
        repo.commit().await.expect("the test set-up works");
    }
}

fn verification() -> OutgoingEmail {
    OutgoingEmail {
        to: "alice@example.org".to_owned(),
        subject: "Your verification code is 123456".to_owned(),
        text: "Your verification code is:\n\n    123456\n".to_owned(),
        html: "<p>Your verification code is:</p>\n<p>123456</p>".to_owned(),
    }
}

#[test]
fn the_payload_is_the_email_itself() {
    let payload = serde_json::to_value(SendEmail::new(verification())).expect("serialisable");
    let keys: Vec<&str> = payload
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["html", "subject", "text", "to"]);
    assert_eq!(payload["to"], "alice@example.org");
}

#[tokio::test]
async fn a_queued_email_is_sent() {
    let world = world().await;
    world.queue(verification()).await;
    assert!(
        world.mailer.sent().is_empty(),
        "nothing is sent before the job runs"
    );

    assert_eq!(world.run_due().await, vec![JobStatus::Completed]);

    let sent = world.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].email, verification());
    assert_eq!(sent[0].envelope_to, vec!["alice@example.org".to_owned()]);
    assert!(
        sent[0]
            .raw_text()
            .contains("Subject: Your verification code is 123456")
    );
}

#[tokio::test]
async fn a_relay_that_is_down_gets_the_email_once_it_is_back() {
    let world = world().await;
    world.mailer.set_failure(Some(SimulatedFailure::Temporary));
    world.queue(verification()).await;

    assert_eq!(world.run_due().await, vec![JobStatus::Available]);
    assert!(world.mailer.sent().is_empty());

    world.mailer.set_failure(None);
    // Nothing is due before the back-off has passed.
    assert_eq!(world.run_due().await, vec![]);
    world.clock.advance(TimeDelta::hours(1));
    assert_eq!(world.run_due().await, vec![JobStatus::Completed]);
    assert_eq!(world.mailer.sent().len(), 1);
}

#[tokio::test]
async fn a_permanent_refusal_is_not_retried() {
    let world = world().await;
    world.mailer.set_failure(Some(SimulatedFailure::Permanent));
    world.queue(verification()).await;

    assert_eq!(world.run_due().await, vec![JobStatus::Completed]);
    world.mailer.set_failure(None);
    world.clock.advance(TimeDelta::hours(2));
    assert_eq!(world.run_due().await, vec![], "nothing left to retry");
    assert!(world.mailer.sent().is_empty());
}

#[tokio::test]
async fn an_invalid_recipient_completes_without_sending() {
    let world = world().await;
    let mut email = verification();
    email.to = "not an address".to_owned();
    world.queue(email).await;

    assert_eq!(world.run_due().await, vec![JobStatus::Completed]);
    assert!(world.mailer.sent().is_empty());
}
