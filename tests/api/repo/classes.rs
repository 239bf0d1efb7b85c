//! Customer classes: shipment volumes upserted and summed, class changes kept in a history, and
//! the door visits that visit plans count.

use std::collections::HashMap;

use fieldproof::db::{Repo, UpsertCounts, VerdictOutcome};

use fieldproof::domain::classify::ClassChange;
use fieldproof::domain::customer::CustomerClass;
use fieldproof::domain::ids::*;
use fieldproof::domain::visit::*;
use serde_json::json;

use super::{date, mins, stored_customer, verdict, visit};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(volumes_are_summed_per_span_and_class_changes_kept);

fn change(at: i64, from: CustomerClass, to: CustomerClass, previous_level: Option<CustomerClass>) -> ClassChange {
    ClassChange {
        at: mins(at),
        from_class: from,
        to_class: to,
        previous_level,
        reason: json!({"rule": format!("{} -> {}", from.as_str(), to.as_str())}),
    }
}

async fn volumes_are_summed_per_span_and_class_changes_kept(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let a = stored_customer(repo, app.jkt).await;
    let b = stored_customer(repo, app.jkt).await;
    let quiet = stored_customer(repo, app.jkt).await;
    let jap = stored_customer(repo, app.jap).await;

    // Upserted daily volumes: new and changed values count as updated, equal ones as unchanged.
    let mut rows = vec![
        (a.id, date(2026, 10, 1), 5),
        (a.id, date(2026, 10, 15), 7),
        (a.id, date(2026, 10, 31), 3),
        (a.id, date(2026, 11, 2), 4),
        (a.id, date(2026, 11, 10), 50),
        (b.id, date(2026, 10, 10), 100),
        (jap.id, date(2026, 10, 10), 9),
    ];
    assert_eq!(repo.upsert_volumes(&rows).await.unwrap(), UpsertCounts { created: 0, updated: 7, unchanged: 0 });
    assert_eq!(repo.upsert_volumes(&rows).await.unwrap(), UpsertCounts { created: 0, updated: 0, unchanged: 7 }, "the same file twice");
    rows[1].2 = 8;
    assert_eq!(repo.upsert_volumes(&rows).await.unwrap(), UpsertCounts { created: 0, updated: 1, unchanged: 6 });
    assert_eq!(repo.upsert_volumes(&[]).await.unwrap(), UpsertCounts::default());

    // One customer's sum over an inclusive range; nothing shipped is 0.
    assert_eq!(repo.volume_sum(a.id, date(2026, 10, 1), date(2026, 10, 31)).await.unwrap(), 16);
    assert_eq!(repo.volume_sum(a.id, date(2026, 10, 2), date(2026, 10, 30)).await.unwrap(), 8);
    assert_eq!(repo.volume_sum(a.id, date(2026, 11, 1), date(2026, 11, 30)).await.unwrap(), 54);
    assert_eq!(repo.volume_sum(quiet.id, date(2026, 10, 1), date(2026, 11, 30)).await.unwrap(), 0);
    assert_eq!(repo.volume_sum(b.id, date(2026, 11, 1), date(2026, 11, 30)).await.unwrap(), 0);

    // Every customer of the branch, in order, with its three spans as of the 10th: October
    // whole, October 1–9, November 1–9.
    let sums = repo
        .volume_sums(BranchId(app.jkt), (date(2026, 10, 1), date(2026, 10, 31)), date(2026, 10, 9), (date(2026, 11, 1), date(2026, 11, 9)))
        .await
        .unwrap();
    let got: Vec<_> = sums.iter().map(|s| (s.customer.id, s.last_month, s.last_month_same_span, s.month_to_date)).collect();
    assert_eq!(got, [(a.id, 16, 5, 4), (b.id, 100, 0, 0), (quiet.id, 0, 0, 0)], "today's 50 is not month to date");
    assert_eq!(sums[0].customer, a);

    // A class change sets class and previous level and is kept in the history.
    let to_lost = change(60, CustomerClass::C, CustomerClass::Lost, Some(CustomerClass::C));
    repo.change_class(a.id, &to_lost).await.unwrap();
    let stored = repo.get_customer(a.id).await.unwrap().unwrap();
    assert_eq!((stored.class, stored.previous_level, stored.updated_at), (CustomerClass::Lost, Some(CustomerClass::C), mins(60)));
    assert_eq!(repo.class_history(a.id).await.unwrap(), vec![to_lost.clone()]);
    assert!(repo.class_history(quiet.id).await.unwrap().is_empty());
    // The same class again is no change: the previous level is set, the history stays.
    let same = change(61, CustomerClass::Lost, CustomerClass::Lost, Some(CustomerClass::D));
    repo.change_class(a.id, &same).await.unwrap();
    assert_eq!(repo.get_customer(a.id).await.unwrap().unwrap().previous_level, Some(CustomerClass::D));
    assert_eq!(repo.class_history(a.id).await.unwrap(), vec![to_lost.clone()]);

    // Many at once, in one transaction; each history in order.
    let back = change(62, CustomerClass::Lost, CustomerClass::B, None);
    let to_warning = change(62, CustomerClass::C, CustomerClass::LostWarning, Some(CustomerClass::A));
    repo.change_classes(&[(a.id, back.clone()), (b.id, to_warning.clone())]).await.unwrap();
    let (a_now, b_now) = (repo.get_customer(a.id).await.unwrap().unwrap(), repo.get_customer(b.id).await.unwrap().unwrap());
    assert_eq!((a_now.class, a_now.previous_level), (CustomerClass::B, None));
    assert_eq!((b_now.class, b_now.previous_level), (CustomerClass::LostWarning, Some(CustomerClass::A)));
    assert_eq!(repo.class_history(a.id).await.unwrap(), vec![to_lost, back]);
    assert_eq!(repo.class_history(b.id).await.unwrap(), vec![to_warning]);
    repo.change_classes(&[]).await.unwrap();

    // Door visits per customer of a branch: submitted, door visits, dated in [from, to].
    let submit = |customer: CustomerId, branch: uuid::Uuid, method: Method, on: chrono::NaiveDate, submitted: bool| async move {
        let mut v = visit(VisitId::new_random(), app.rep.id, branch, customer);
        v.content.method = method;
        v.visit_date = Some(on);
        assert!(repo.insert_visit(&v).await.unwrap());
        if submitted {
            assert_eq!(repo.record_verdict(&verdict(v.id, VisitStatus::Compliant, 100)).await.unwrap(), VerdictOutcome::Recorded);
        }
    };
    submit(a.id, app.jkt, Method::DoorVisit, date(2026, 11, 1), true).await;
    submit(a.id, app.jkt, Method::DoorVisit, date(2026, 11, 30), true).await;
    submit(a.id, app.jkt, Method::Whatsapp, date(2026, 11, 5), true).await;
    submit(a.id, app.jkt, Method::DoorVisit, date(2026, 11, 5), false).await;
    submit(a.id, app.jkt, Method::DoorVisit, date(2026, 12, 1), true).await;
    submit(b.id, app.jkt, Method::DoorVisit, date(2026, 11, 7), true).await;
    submit(jap.id, app.jap, Method::DoorVisit, date(2026, 11, 7), true).await;
    let counts = repo.door_visits_by_customer(BranchId(app.jkt), date(2026, 11, 1), date(2026, 11, 30)).await.unwrap();
    assert_eq!(counts, HashMap::from([(a.id, 2), (b.id, 1)]), "not the WhatsApp one, the draft, December's or JAP's");
    assert!(repo.door_visits_by_customer(BranchId(app.jap), date(2026, 12, 1), date(2026, 12, 31)).await.unwrap().is_empty());
}
