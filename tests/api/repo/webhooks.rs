//! Webhooks: subscriptions (kept when stopped), deliveries written once per subscription and
//! event with their jobs, each attempt's outcome, and the delivery log in pages.

use fieldproof::db::{NewJob, Repo};

use fieldproof::domain::ids::UserId;
use fieldproof::domain::page::Page;
use fieldproof::domain::webhook::{Delivery, DeliveryStatus, Webhook};
use serde_json::json;
use uuid::Uuid;

use super::{first, job, mins, t0};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(webhook_deliveries_are_written_once_per_event_and_logged);

fn webhook(url: &str, created_by: Option<UserId>) -> Webhook {
    Webhook {
        id: Uuid::new_v4(),
        url: url.into(),
        secret: "s3cret".into(),
        events: vec!["visit.submitted".into(), "task.missed".into()],
        active: true,
        created_by,
        created_at: t0(),
    }
}

/// The pending delivery of a new event to `hook`, with the job that sends it.
fn delivery(hook: &Webhook, event: &str) -> (Delivery, NewJob) {
    let event_id = Uuid::new_v4();
    let d = Delivery {
        id: Delivery::id_for(hook.id, event_id),
        webhook_id: hook.id,
        event_id,
        event: event.into(),
        payload: json!({"event": event, "data": {"n": 1}}),
        status: DeliveryStatus::Pending,
        attempts: 0,
        last_status: None,
        last_error: None,
        created_at: t0(),
        updated_at: t0(),
        delivered_at: None,
    };
    (d, job("webhook.deliver"))
}

fn ids(deliveries: &[Delivery]) -> Vec<Uuid> {
    deliveries.iter().map(|d| d.id).collect()
}

async fn webhook_deliveries_are_written_once_per_event_and_logged(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();

    // Subscriptions round-trip and are listed oldest first.
    let w1 = webhook("https://example.com/one", Some(UserId(app.admin.id)));
    let w2 = webhook("https://example.com/two", None);
    repo.insert_webhook(&w1).await.unwrap();
    repo.insert_webhook(&w2).await.unwrap();
    assert_eq!(repo.get_webhook(w1.id).await.unwrap().unwrap(), w1, "secret, events and creator included");
    assert!(repo.get_webhook(Uuid::new_v4()).await.unwrap().is_none());
    assert_eq!(repo.list_webhooks().await.unwrap(), vec![w1.clone(), w2.clone()]);

    // Stopping one keeps it, inactive, in the list; an unknown id is `false`.
    assert!(repo.deactivate_webhook(w1.id).await.unwrap());
    assert!(!repo.get_webhook(w1.id).await.unwrap().unwrap().active);
    assert_eq!(repo.list_webhooks().await.unwrap(), vec![Webhook { active: false, ..w1.clone() }, w2.clone()], "active or not");
    assert!(!repo.deactivate_webhook(Uuid::new_v4()).await.unwrap());

    // Deliveries are written pending with no attempt yet, each with its job, at `now`.
    let (d1, j1) = delivery(&w1, "visit.submitted");
    let (d2, j2) = delivery(&w2, "visit.submitted");
    repo.create_deliveries(&[(d1.clone(), j1.clone()), (d2.clone(), j2.clone())], mins(1)).await.unwrap();
    let pending = Delivery { created_at: mins(1), updated_at: mins(1), ..d1.clone() };
    assert_eq!(repo.get_delivery(d1.id).await.unwrap().unwrap(), pending);
    assert!(repo.get_delivery(Uuid::new_v4()).await.unwrap().is_none());
    for j in [&j1, &j2] {
        assert_eq!(repo.get_job(j.id).await.unwrap().unwrap().status, "queued");
    }
    // A retried fan-out adds only what does not exist yet, and no second job for the rest.
    let (d3, j3) = delivery(&w2, "task.missed");
    let j1_again = job("webhook.deliver");
    repo.create_deliveries(
        &[(Delivery { payload: json!({"changed": true}), ..d1.clone() }, j1_again.clone()), (d3.clone(), j3.clone())],
        mins(2),
    )
    .await
    .unwrap();
    assert_eq!(repo.get_delivery(d1.id).await.unwrap().unwrap(), pending, "the existing delivery is left as it was");
    assert!(repo.get_job(j1_again.id).await.unwrap().is_none());
    assert!(repo.get_delivery(d3.id).await.unwrap().is_some());
    assert!(repo.get_job(j3.id).await.unwrap().is_some());
    repo.create_deliveries(&[], mins(3)).await.unwrap();

    // Each attempt's outcome is recorded: a failure, then a success.
    let failed = Delivery {
        status: DeliveryStatus::Failed,
        attempts: 1,
        last_status: Some(503),
        last_error: Some("HTTP 503".into()),
        updated_at: mins(5),
        ..pending.clone()
    };
    repo.record_delivery_attempt(&failed).await.unwrap();
    assert_eq!(repo.get_delivery(d1.id).await.unwrap().unwrap(), failed);
    let delivered = Delivery {
        status: DeliveryStatus::Delivered,
        attempts: 2,
        last_status: Some(200),
        last_error: None,
        updated_at: mins(6),
        delivered_at: Some(mins(6)),
        ..failed.clone()
    };
    repo.record_delivery_attempt(&delivered).await.unwrap();
    assert_eq!(repo.get_delivery(d1.id).await.unwrap().unwrap(), delivered);
    assert_eq!(repo.get_delivery(d2.id).await.unwrap().unwrap().status, DeliveryStatus::Pending, "only that delivery");

    // The log of one subscription, newest first, in pages.
    let (d4, j4) = delivery(&w2, "visit.reviewed");
    repo.create_deliveries(&[(d4.clone(), j4)], mins(7)).await.unwrap();
    assert_eq!(ids(&repo.list_deliveries(w1.id, first(10)).await.unwrap().items), [d1.id]);
    let page1 = repo.list_deliveries(w2.id, Page { before: None, limit: 2 }).await.unwrap();
    assert_eq!(ids(&page1.items), [d4.id, d3.id]);
    let page2 = repo.list_deliveries(w2.id, Page { before: page1.next, limit: 2 }).await.unwrap();
    assert_eq!((ids(&page2.items), page2.next), (vec![d2.id], None));
    assert!(repo.list_deliveries(Uuid::new_v4(), first(10)).await.unwrap().items.is_empty());
}
