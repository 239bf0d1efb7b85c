//! Customers: one at a time (unique code, upsert by code, update), lists with filters and
//! pages, batched reads, and the import's batch upsert.

use fieldproof::db::{CustomerFilter, Repo, UpsertCounts};

use fieldproof::domain::customer::{Customer, CustomerClass};
use fieldproof::domain::ids::{BranchId, CustomerId, UserId};
use fieldproof::domain::page::Page;

use super::{customer, first};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(customers_are_unique_by_code_and_listed_newest_first);

fn codes(items: &[Customer]) -> Vec<&str> {
    items.iter().map(|c| c.code.as_str()).collect()
}

async fn customers_are_unique_by_code_and_listed_newest_first(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();

    // A customer round-trips; a second one with the same code is a conflict on the code.
    let c1 = customer(app.jkt, "K1");
    repo.insert_customer(&c1).await.unwrap();
    assert_eq!(repo.get_customer(c1.id).await.unwrap().unwrap(), c1);
    assert!(repo.get_customer(CustomerId::new_random()).await.unwrap().is_none());
    assert!(matches!(repo.insert_customer(&customer(app.jkt, "K1")).await, Err(ref e) if e.is_conflict_on("customers.code")));

    // Upsert by code: the existing row takes everything but the id.
    let mut again = customer(app.jkt, "K1");
    again.name = "Renamed".into();
    again.assigned_rep_id = Some(UserId(app.rep.id));
    again.previous_level = Some(CustomerClass::B);
    repo.upsert_customer_by_code(&again).await.unwrap();
    let stored = repo.get_customer(c1.id).await.unwrap().unwrap();
    assert_eq!((stored.id, stored.name.as_str(), stored.location, stored.geofence_radius_m), (c1.id, "Renamed", c1.location, Some(120.0)));
    assert_eq!((stored.assigned_rep_id, stored.previous_level), (Some(UserId(app.rep.id)), Some(CustomerClass::B)));
    assert!(repo.get_customer(again.id).await.unwrap().is_none(), "no second row under the new id");
    // …and a code not stored yet is inserted.
    let fresh = Customer { name: "Warung Sari".into(), ..customer(app.jkt, "K0") };
    repo.upsert_customer_by_code(&fresh).await.unwrap();
    assert_eq!(repo.get_customer(fresh.id).await.unwrap().unwrap(), fresh);

    // Update by id.
    let mut changed = stored.clone();
    changed.class = CustomerClass::Lost;
    changed.location = None;
    changed.contact_phone = Some("+62 812 0000".into());
    repo.update_customer(&changed).await.unwrap();
    let stored = repo.get_customer(c1.id).await.unwrap().unwrap();
    assert_eq!((stored.class, stored.location), (CustomerClass::Lost, None));
    assert_eq!(stored, changed);

    // Lists: newest first, in pages chained by the cursor.
    for i in 2..=4 {
        repo.insert_customer(&customer(app.jap, &format!("K{i}"))).await.unwrap();
    }
    let jap = CustomerFilter { branch_id: Some(BranchId(app.jap)), ..Default::default() };
    let page1 = repo.list_customers(&jap, Page { before: None, limit: 2 }).await.unwrap();
    assert_eq!(page1.items.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), ["K4", "K3"]);
    assert!(page1.next.is_some(), "a full page says where the next one starts");
    let page2 = repo.list_customers(&jap, Page { before: page1.next, limit: 2 }).await.unwrap();
    assert_eq!((page2.items.len(), page2.next), (1, None));
    assert_eq!(codes(&page2.items), ["K2"]);
    let exact = repo.list_customers(&jap, first(3)).await.unwrap();
    assert_eq!((exact.items.len(), exact.next), (3, None), "a page that holds the rest has no next");

    // Filters: branch, assigned rep, class, and a case-insensitive substring of code or name.
    let q = CustomerFilter { q: Some("toko k".into()), ..Default::default() };
    assert_eq!(repo.list_customers(&q, Page { before: None, limit: 50 }).await.unwrap().items.len(), 3, "K2..K4 match, K1 was renamed");
    let pct = CustomerFilter { q: Some("%".into()), ..Default::default() };
    assert_eq!(repo.list_customers(&pct, Page { before: None, limit: 50 }).await.unwrap().items.len(), 0, "LIKE wildcards are escaped");
    let underscore = CustomerFilter { q: Some("k_".into()), ..Default::default() };
    assert!(repo.list_customers(&underscore, first(50)).await.unwrap().items.is_empty(), "so is `_`");
    let by_code = CustomerFilter { q: Some("k1".into()), ..Default::default() };
    assert_eq!(codes(&repo.list_customers(&by_code, first(50)).await.unwrap().items), ["K1"], "the code matches too");
    let by_name = CustomerFilter { q: Some("RENAMED".into()), ..Default::default() };
    assert_eq!(codes(&repo.list_customers(&by_name, first(50)).await.unwrap().items), ["K1"]);
    let jkt = CustomerFilter { branch_id: Some(BranchId(app.jkt)), ..Default::default() };
    assert_eq!(codes(&repo.list_customers(&jkt, first(50)).await.unwrap().items), ["K0", "K1"]);
    let reps = CustomerFilter { assigned_rep_id: Some(UserId(app.rep.id)), ..Default::default() };
    assert_eq!(codes(&repo.list_customers(&reps, first(50)).await.unwrap().items), ["K1"]);
    let lost = CustomerFilter { class: Some(CustomerClass::Lost), ..Default::default() };
    assert_eq!(codes(&repo.list_customers(&lost, first(50)).await.unwrap().items), ["K1"]);
    let lost_in_jap = CustomerFilter { class: Some(CustomerClass::Lost), ..jap.clone() };
    assert!(repo.list_customers(&lost_in_jap, first(50)).await.unwrap().items.is_empty(), "filters combine");

    // By id, one query; the ids not found are left out.
    let customers = repo.customers_by_id(&[c1.id, CustomerId::new_random()]).await.unwrap();
    assert_eq!(customers.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c1.id]);
    assert!(repo.customers_by_id(&[]).await.unwrap().is_empty());

    // Ids by code, leaving out the codes not found.
    let ids = repo.customer_ids_by_code(&["K1".into(), "K0".into(), "NOPE".into()]).await.unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!((ids["K1"], ids["K0"]), (c1.id, fresh.id));
    assert!(repo.customer_ids_by_code(&[]).await.unwrap().is_empty());

    // The import's batch: new codes are created, changed ones updated, equal ones left alone.
    let k2 = repo.list_customers(&CustomerFilter { q: Some("k2".into()), ..Default::default() }, first(1)).await.unwrap().items.remove(0);
    let as_imported = customer(app.jap, "K2"); // another id, the same values
    let mut k3 = customer(app.jap, "K3");
    k3.name = "Toko Baru".into();
    let k5 = customer(app.jkt, "K5");
    let counts = repo.upsert_customers(&[as_imported, k3.clone(), k5.clone()]).await.unwrap();
    assert_eq!(counts, UpsertCounts { created: 1, updated: 1, unchanged: 1 });
    assert_eq!(repo.get_customer(k2.id).await.unwrap().unwrap(), k2, "an equal row is left alone, id and all");
    let ids = repo.customer_ids_by_code(&["K3".into(), "K5".into()]).await.unwrap();
    assert_eq!(repo.get_customer(ids["K3"]).await.unwrap().unwrap().name, "Toko Baru");
    assert_ne!(ids["K3"], k3.id, "an update keeps the stored id");
    assert_eq!(ids["K5"], k5.id);
    // Importing the same file twice changes nothing.
    let counts = repo.upsert_customers(&[customer(app.jap, "K2"), k3, k5]).await.unwrap();
    assert_eq!(counts, UpsertCounts { created: 0, updated: 0, unchanged: 3 });
    assert_eq!(repo.upsert_customers(&[]).await.unwrap(), UpsertCounts::default());
}
