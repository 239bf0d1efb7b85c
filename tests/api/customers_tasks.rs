use serde_json::json;

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    marketing_creates_and_updates_customers_that_reps_of_the_branch_can_read,
    customer_lists_paginate_with_a_cursor_and_filter,
    a_duplicate_customer_code_is_a_conflict,
    tasks_are_created_by_marketing_and_listed_for_their_assignee,
    tomorrows_visits_are_listed_until_confirmed_with_the_customer,
    tasks_filter_by_previous_class_review_status_branch_and_customer,
    an_approved_door_visit_proposes_the_place_of_a_customer_without_one,
    a_reps_calendar_feed_shows_their_tasks_until_it_is_replaced_or_ended,
    a_rep_reads_the_customers_research_view_before_a_visit,
);

/// Before a visit (SOP ch. 3 step 2): volumes, class, complaints and the last visits by anyone,
/// without another rep's photos or positions.
async fn a_rep_reads_the_customers_research_view_before_a_visit(app: TestApp) {
    use fieldproof::domain::ids::CustomerId;
    let customer = app.customer_at(-6.2, 106.8).await;
    let today = crate::helpers::today_in(chrono_tz::Asia::Jakarta);
    let first_of_month = chrono::Datelike::with_day(&today, 1).unwrap();
    let last_month = first_of_month.pred_opt().unwrap();
    app.app.repo.upsert_volumes(&[(CustomerId(customer), last_month, 120), (CustomerId(customer), today, 7)]).await.unwrap();
    // The other rep of the branch visited last; the summary and next steps are theirs.
    let visit = uuid::Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{visit}"), &app.rep2.token, app.visit_body(customer, "door_visit", 0)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    app.put_photo(visit, uuid::Uuid::new_v4(), &app.rep2.token, crate::helpers::with_customer_photo(-6.2, 106.8)).await;
    assert_eq!(app.post(&format!("/v1/visits/{visit}/submit"), &app.rep2.token, json!({})).await.status, 200);
    // A draft is not history yet.
    let draft = uuid::Uuid::new_v4();
    assert_eq!(app.put(&format!("/v1/visits/{draft}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await.status, 201);

    let r = app.get(&format!("/v1/customers/{customer}/research"), &app.rep.token).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let volumes = r.json["volumes"].as_array().unwrap();
    assert_eq!(volumes.len(), 4, "three full months and this one");
    assert_eq!((volumes[3]["awb"].as_i64(), volumes[3]["partial"].as_bool()), (Some(7), Some(true)));
    assert_eq!(
        (volumes[2]["month"].as_str(), volumes[2]["awb"].as_i64()),
        (Some(last_month.format("%Y-%m").to_string().as_str()), Some(120))
    );
    let last = r.json["last_visits"].as_array().unwrap();
    assert_eq!(last.len(), 1, "submitted visits only: {last:?}");
    assert_eq!(last[0]["visit_id"].as_str(), Some(visit.to_string().as_str()));
    assert!(last[0]["rep_name"].as_str().unwrap().starts_with("sales-"));
    assert!(last[0]["summary"].as_str().is_some_and(|s| !s.is_empty()) && last[0]["next_steps"].is_string());
    assert_eq!(r.json["complaints"].as_array().unwrap().len(), 1, "a service result is a complaint");
    let text = r.json.to_string();
    assert!(!text.contains("photos") && !text.contains("latitude"), "no photos, no positions: {text}");
    // Another branch's rep does not see the customer at all.
    assert_eq!(app.get(&format!("/v1/customers/{customer}/research"), &app.jap_rep.token).await.code(), "customer_not_found");
}

/// A rep's phone calendar subscribes to a secret address and shows their planned visits.
async fn a_reps_calendar_feed_shows_their_tasks_until_it_is_replaced_or_ended(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let today = crate::helpers::today_in(chrono_tz::Asia::Jakarta);
    let task = |assignee: uuid::Uuid, days: u64, note: &str| {
        json!({ "id": uuid::Uuid::new_v4(), "customer_id": customer, "assignee_id": assignee, "task_type": "routine",
                "due_date": today + chrono::Days::new(days), "note": note })
    };
    let mine = task(app.rep.id, 2, "Bawa brosur promo, tanyakan COD; jangan jam 12");
    let mine_id = mine["id"].as_str().unwrap().to_string();
    let theirs = task(app.rep2.id, 2, "another rep's");
    let theirs_id = theirs["id"].as_str().unwrap().to_string();
    for t in [&mine, &theirs] {
        assert_eq!(app.post("/v1/tasks", &app.marketing.token, t.clone()).await.status, 201);
    }
    let r = app.post(&format!("/v1/tasks/{mine_id}/confirm"), &app.rep.token, json!({ "note": "Bu Sari ada jam 10" })).await;
    assert_eq!(r.status, 200, "{}", r.json);

    let feed = app.post("/v1/me/calendar-feed", &app.rep.token, json!({})).await;
    assert_eq!(feed.status, 201, "{}", feed.json);
    let path = feed.json["path"].as_str().unwrap().to_string();
    assert!(path.starts_with("/v1/calendar-feeds/fp_") && path.ends_with(feed.json["token"].as_str().unwrap()));
    let r = app.send(reqwest::Method::GET, &path, None, crate::helpers::Body::None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "text/calendar; charset=utf-8");
    let ics = String::from_utf8(r.bytes.clone()).unwrap();
    // Unfolded, as a calendar reads it (RFC 5545 folds lines at 75 octets).
    let ics = ics.replace("\r\n ", "");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.trim_end().ends_with("END:VCALENDAR"), "{ics}");
    assert!(ics.contains(&format!("UID:{mine_id}@fieldproof")), "{ics}");
    assert!(!ics.contains(&theirs_id), "another rep's task is not in it");
    assert!(ics.contains(&format!("DTSTART;VALUE=DATE:{}", (today + chrono::Days::new(2)).format("%Y%m%d"))), "{ics}");
    assert!(ics.contains("SUMMARY:Kunjungan: Toko Maju Jaya (C"), "{ics}");
    assert!(ics.contains("STATUS:CONFIRMED"), "confirmed H-1: {ics}");
    assert!(ics.contains("Bawa brosur promo\\, tanyakan COD\\; jangan jam 12"), "text escaped as RFC 5545 wants: {ics}");
    assert!(ics.contains("GEO:-6.200000;106.800000"), "{ics}");

    // A new feed ends the old address; ending it ends the new one.
    let again = app.post("/v1/me/calendar-feed", &app.rep.token, json!({})).await;
    let new_path = again.json["path"].as_str().unwrap().to_string();
    let old = app.send(reqwest::Method::GET, &path, None, crate::helpers::Body::None).await;
    assert_eq!((old.status, old.code()), (404, "calendar_feed_not_found"));
    assert_eq!(app.send(reqwest::Method::GET, &new_path, None, crate::helpers::Body::None).await.status, 200);
    assert_eq!(
        app.send(reqwest::Method::DELETE, "/v1/me/calendar-feed", Some(&app.rep.token), crate::helpers::Body::None).await.status,
        204
    );
    assert_eq!(app.send(reqwest::Method::GET, &new_path, None, crate::helpers::Body::None).await.status, 404);
    let twice = app.send(reqwest::Method::DELETE, "/v1/me/calendar-feed", Some(&app.rep.token), crate::helpers::Body::None).await;
    assert_eq!(twice.code(), "calendar_feed_not_found");
    assert_eq!(app.send(reqwest::Method::POST, "/v1/me/calendar-feed", None, crate::helpers::Body::None).await.status, 401);
}

/// A customer without coordinates: its first approved door visit proposes the photo's place,
/// which branch marketing accepts (the customer is placed, later visits are distance-checked)
/// or rejects (the next approval proposes again).
async fn an_approved_door_visit_proposes_the_place_of_a_customer_without_one(app: TestApp) {
    let unplaced = |name: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/v1/customers",
                    &app.marketing.token,
                    json!({ "code": format!("U{}", &uuid::Uuid::new_v4().simple().to_string()[..8]), "name": name,
                            "customer_type": "retail", "assigned_rep_id": app.rep.id }),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.json);
            r.json["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap()
        }
    };
    let customer = unplaced("Warung Baru").await;
    let proposal = format!("/v1/customers/{customer}/place-proposal");
    let (visit, photo) = crate::console::visit_with_photo(&app, customer).await;
    let r = app.get(&format!("/v1/visits/{visit}"), &app.marketing.token).await;
    let codes: Vec<&str> = r.json["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"customer_location_unknown"), "{codes:?}");
    let none = app.get(&proposal, &app.marketing.token).await;
    assert_eq!((none.status, none.code()), (404, "place_proposal_not_found"), "nothing before an approval");

    let approve = |visit: uuid::Uuid| {
        let app = &app;
        async move {
            let r = app.post(&format!("/v1/visits/{visit}/reviews"), &app.hq.token, json!({ "decision": "approve" })).await;
            assert!(r.status == 200 || r.status == 201, "{}", r.json);
        }
    };
    approve(visit).await;
    let p = app.get(&proposal, &app.marketing.token).await;
    assert_eq!(p.status, 200, "{}", p.json);
    assert_eq!((p.json["latitude"].as_f64(), p.json["longitude"].as_f64()), (Some(-6.2), Some(106.8)), "{}", p.json);
    assert_eq!((p.json["source"].as_str(), p.json["accuracy_m"].as_f64()), (Some("app"), Some(8.0)), "the fixture has no EXIF GPS");
    assert_eq!(
        (p.json["visit_id"].as_str(), p.json["photo_id"].as_str()),
        (Some(visit.to_string().as_str()), Some(photo.to_string().as_str()))
    );
    // A later approval leaves the first proposal standing.
    let (second, _) = crate::console::visit_with_photo(&app, customer).await;
    approve(second).await;
    assert_eq!(app.get(&proposal, &app.marketing.token).await.json["visit_id"].as_str(), Some(visit.to_string().as_str()));
    // Who may see and decide it.
    assert_eq!(app.get(&proposal, &app.rep.token).await.code(), "role_forbidden");
    assert_eq!(app.post(&format!("{proposal}/accept"), &app.jap_marketing.token, json!({})).await.code(), "customer_not_found");

    // The console shows it to marketing, with its two buttons.
    crate::console::console_user(&app, &app.marketing, "mira", "mira-password-1", false).await;
    let mut b = crate::console::Browser::new(&app);
    b.sign_in("mira", "mira-password-1").await;
    let page = b.get(&format!("/hq/customers/{customer}")).await;
    assert!(page.body.contains("-6.200000, 106.800000 (± 8 m)") && page.body.contains("value=\"accept\""), "{}", page.body);
    let csrf = page.input("_csrf");
    assert_eq!(b.post(&format!("/hq/customers/{customer}/place"), &[("decision", "accept")]).await.status, 403, "no CSRF token");
    assert_eq!(b.post(&format!("/hq/customers/{customer}/place"), &[("_csrf", &csrf), ("decision", "maybe")]).await.status, 422);

    let placed = app.post(&format!("{proposal}/accept"), &app.marketing.token, json!({})).await;
    assert_eq!(placed.status, 200, "{}", placed.json);
    assert_eq!((placed.json["latitude"].as_f64(), placed.json["longitude"].as_f64()), (Some(-6.2), Some(106.8)));
    assert_eq!(app.get(&proposal, &app.marketing.token).await.status, 404, "accepted: gone");
    assert_eq!(app.post(&format!("{proposal}/accept"), &app.marketing.token, json!({})).await.code(), "place_proposal_not_found");
    let (third, _) = crate::console::visit_with_photo(&app, customer).await;
    let r = app.get(&format!("/v1/visits/{third}"), &app.marketing.token).await;
    assert!(!r.json["findings"].as_array().unwrap().iter().any(|f| f["code"] == "customer_location_unknown"), "placed now");

    // Rejected: the proposal goes and the customer stays unplaced; a bulk approval proposes too.
    let other = unplaced("Kios Tanpa Alamat").await;
    let (visit, _) = crate::console::visit_with_photo(&app, other).await;
    let bulk = app.post("/v1/reviews/bulk", &app.hq.token, json!({ "items": [{ "visit_id": visit, "decision": "approve" }] })).await;
    assert_eq!(bulk.status, 201, "{}", bulk.json);
    let other_proposal = format!("/v1/customers/{other}/place-proposal");
    assert_eq!(app.get(&other_proposal, &app.marketing.token).await.status, 200);
    let r = b.post(&format!("/hq/customers/{other}/place"), &[("_csrf", &csrf), ("decision", "reject")]).await;
    assert_eq!((r.status, r.location()), (303, format!("/hq/customers/{other}?done=place_rejected").as_str()), "rejected in the console");
    assert!(b.get(r.location()).await.body.contains("role=\"status\""));
    assert_eq!(app.post(&format!("{other_proposal}/reject"), &app.marketing.token, json!({})).await.code(), "place_proposal_not_found");
    assert_eq!(app.get(&other_proposal, &app.marketing.token).await.status, 404);
    assert_eq!(app.get(&format!("/v1/customers/{other}"), &app.marketing.token).await.json["latitude"], serde_json::Value::Null);
}

/// The task list's filters beyond the task's own columns: the customer's class before its
/// latest change, the review status of the visit that followed the task up, the branch, and
/// the customer's name or code — in the API, its export, and the console.
async fn tasks_filter_by_previous_class_review_status_branch_and_customer(app: TestApp) {
    use fieldproof::domain::classify::ClassChange;
    use fieldproof::domain::customer::CustomerClass;
    use fieldproof::domain::ids::CustomerId;
    let demoted = app.customer_at(-6.2, 106.8).await;
    let steady = app.customer_at(-6.2, 106.8).await;
    let change = |from, to| ClassChange { at: chrono::Utc::now(), from_class: from, to_class: to, previous_level: None, reason: json!({}) };
    // Two changes: only the latest one's "from" is the previous class.
    app.app.repo.change_class(CustomerId(demoted), &change(CustomerClass::A, CustomerClass::B)).await.unwrap();
    app.app.repo.change_class(CustomerId(demoted), &change(CustomerClass::B, CustomerClass::D)).await.unwrap();
    let task = |customer: uuid::Uuid, assignee: uuid::Uuid| {
        json!({ "id": uuid::Uuid::new_v4(), "customer_id": customer, "assignee_id": assignee, "task_type": "routine",
                "due_date": crate::helpers::today_in(chrono_tz::Asia::Jakarta) })
    };
    let followed = task(demoted, app.rep.id);
    let followed_id = followed["id"].as_str().unwrap().to_string();
    assert_eq!(app.post("/v1/tasks", &app.marketing.token, followed).await.status, 201);
    let other = task(steady, app.rep.id);
    let other_id = other["id"].as_str().unwrap().to_string();
    assert_eq!(app.post("/v1/tasks", &app.marketing.token, other).await.status, 201);
    // A JAP customer's task, for the branch filter.
    let r = app
        .post(
            "/v1/customers",
            &app.jap_marketing.token,
            json!({ "code": format!("J{}", &uuid::Uuid::new_v4().simple().to_string()[..8]), "name": "Kios Papua",
                    "customer_type": "retail", "assigned_rep_id": app.jap_rep.id, "latitude": -2.5, "longitude": 140.7 }),
        )
        .await;
    let jap_customer: uuid::Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let jap = task(jap_customer, app.jap_rep.id);
    let jap_id = jap["id"].as_str().unwrap().to_string();
    assert_eq!(app.post("/v1/tasks", &app.jap_marketing.token, jap).await.status, 201);
    // The first task is followed up by a visit, which HQ approves.
    let visit = uuid::Uuid::new_v4();
    let mut body = app.visit_body(demoted, "door_visit", 0);
    body["task_id"] = json!(followed_id);
    assert_eq!(app.put(&format!("/v1/visits/{visit}"), &app.rep.token, body).await.status, 201);
    let photo = uuid::Uuid::new_v4();
    app.put_photo(visit, photo, &app.rep.token, crate::helpers::with_customer_photo(-6.2, 106.8)).await;
    assert_eq!(app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await.status, 200);
    let review = app.post(&format!("/v1/visits/{visit}/reviews"), &app.hq.token, json!({ "decision": "approve" })).await;
    assert!(review.status == 200 || review.status == 201, "{}", review.json);

    let ids = |r: &crate::helpers::Resp| -> Vec<String> {
        r.json["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
    };
    let customers = |r: &crate::helpers::Resp| -> std::collections::BTreeSet<String> {
        r.json["items"].as_array().unwrap().iter().map(|t| t["customer_id"].as_str().unwrap().to_string()).collect()
    };
    let hq = &app.hq.token;
    // The visit asked for its next follow-up: the demoted customer has two tasks now.
    let of_demoted = app.get("/v1/tasks?previous_class=B", hq).await;
    assert_eq!(customers(&of_demoted), [demoted.to_string()].into());
    assert!(ids(&of_demoted).contains(&followed_id));
    assert!(ids(&app.get("/v1/tasks?previous_class=A", hq).await).is_empty(), "A was the class before last");
    assert_eq!(customers(&app.get("/v1/tasks?class=D", hq).await), [demoted.to_string()].into());
    assert_eq!(ids(&app.get("/v1/tasks?review_status=approved", hq).await), std::slice::from_ref(&followed_id));
    assert!(ids(&app.get("/v1/tasks?review_status=rejected", hq).await).is_empty());
    assert_eq!(ids(&app.get(&format!("/v1/tasks?branch_id={}", app.jap), hq).await), std::slice::from_ref(&jap_id));
    assert!(ids(&app.get(&format!("/v1/tasks?branch_id={}", app.jap), &app.marketing.token).await).is_empty(), "never beyond the scope");
    let jkt = ids(&app.get(&format!("/v1/tasks?branch_id={}&task_type=routine", app.jkt), hq).await);
    assert!(jkt.contains(&followed_id) && jkt.contains(&other_id) && !jkt.contains(&jap_id), "{jkt:?}");
    assert_eq!(ids(&app.get("/v1/tasks?q=kios%20PAPUA", hq).await), std::slice::from_ref(&jap_id), "name, any case");
    assert_eq!(app.get("/v1/tasks?previous_class=Z", hq).await.status, 400);
    // JMS's other searches: a task by id, customers by type and by creation date.
    assert_eq!(ids(&app.get(&format!("/v1/tasks?task_id={jap_id}"), hq).await), std::slice::from_ref(&jap_id));
    assert!(ids(&app.get(&format!("/v1/tasks?task_id={jap_id}"), &app.marketing.token).await).is_empty(), "never beyond the scope");
    let retail = ids(&app.get("/v1/tasks?customer_type=retail&limit=200", hq).await);
    assert!(retail.contains(&followed_id) && retail.contains(&jap_id));
    assert!(ids(&app.get("/v1/tasks?customer_type=wholesale", hq).await).is_empty());
    let created = app.get(&format!("/v1/customers/{steady}"), hq).await.json["created_on"].as_str().unwrap().to_string();
    let same_day = ids(&app.get(&format!("/v1/tasks?customer_created_from={created}&customer_created_to={created}&limit=200"), hq).await);
    assert!(same_day.contains(&other_id), "customers created that day");
    assert!(ids(&app.get("/v1/tasks?customer_created_to=2020-01-01", hq).await).is_empty());
    // The export takes the same filter.
    let csv = app.get("/v1/exports/tasks.csv?previous_class=B", hq).await;
    let text = String::from_utf8(csv.bytes).unwrap();
    assert_eq!(text.lines().count(), 1 + ids(&of_demoted).len(), "{text}");
    assert!(text.contains(&followed_id) && !text.contains(&other_id));

    // The console's task list: the same filters as selects.
    crate::console::console_user(&app, &app.hq, "hana", "hana-password-1", false).await;
    let mut b = crate::console::Browser::new(&app);
    b.sign_in("hana", "hana-password-1").await;
    let page = b.get("/hq/tasks?previous_class=B&review_status=approved").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("data-task-id=\"{followed_id}\"")) || page.body.contains(&followed_id), "{}", page.body);
    assert!(!page.body.contains(&other_id) && !page.body.contains(&jap_id));
    assert!(page.body.contains("id=\"t-prev\"") && page.body.contains("id=\"t-review\"") && page.body.contains("id=\"t-branch\""));
    let one = b.get(&format!("/hq/tasks?task_id={other_id}&customer_type=retail")).await;
    assert!(one.body.contains(&other_id) && !one.body.contains(&jap_id), "a task by its id in the console");
    let by_branch = b.get(&format!("/hq/tasks?branch_id={}&view=month", app.jap)).await;
    assert!(by_branch.body.contains("Kios Papua") && !by_branch.body.contains("Toko Maju Jaya"), "a branch's calendar");
    assert_eq!(b.get("/hq/tasks?review_status=maybe").await.status, 400);
}

/// H-1: the day before, marketing or the rep confirms each planned visit with the customer.
async fn tomorrows_visits_are_listed_until_confirmed_with_the_customer(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let jakarta_today = crate::helpers::today_in(chrono_tz::Asia::Jakarta);
    let task = |days: u64| {
        json!({
            "id": uuid::Uuid::new_v4(), "customer_id": customer, "assignee_id": app.rep.id, "task_type": "routine",
            "required_method": "door_visit", "due_date": (jakarta_today + chrono::Days::new(days)).to_string(),
        })
    };
    let mut ids = Vec::new();
    for days in [1, 1, 2, 0] {
        let r = app.post("/v1/tasks", &app.marketing.token, task(days)).await;
        assert_eq!(r.status, 201, "{}", r.json);
        ids.push(r.json["id"].as_str().unwrap().to_string());
    }
    let listed = |r: &crate::helpers::Resp| -> Vec<String> {
        r.json["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
    };
    let r = app.get("/v1/tasks?needs_confirmation=true", &app.marketing.token).await;
    let mut due_tomorrow = listed(&r);
    due_tomorrow.sort();
    let mut expected = vec![ids[0].clone(), ids[1].clone()];
    expected.sort();
    assert_eq!(due_tomorrow, expected, "tomorrow's, not today's or the day after's");
    assert_eq!(listed(&app.get("/v1/tasks?needs_confirmation=true", &app.rep.token).await).len(), 2, "the rep sees their own");
    assert!(listed(&app.get("/v1/tasks?needs_confirmation=true", &app.jap_marketing.token).await).is_empty(), "another branch sees none");

    // The rep confirms one; a retry returns the first confirmation unchanged.
    let r = app.post(&format!("/v1/tasks/{}/confirm", ids[0]), &app.rep.token, json!({ "note": "Bu Sari ada jam 10 pagi" })).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["confirmed_by"], app.rep.id.to_string());
    assert_eq!(r.json["confirmation_note"], "Bu Sari ada jam 10 pagi");
    let first = r.json.clone();
    let r = app.post(&format!("/v1/tasks/{}/confirm", ids[0]), &app.marketing.token, json!({ "note": "again" })).await;
    assert_eq!((r.status, &r.json), (200, &first));
    assert_eq!(listed(&app.get("/v1/tasks?needs_confirmation=true", &app.marketing.token).await), vec![ids[1].clone()]);
    let r = app.get(&format!("/v1/tasks/{}", ids[0]), &app.marketing.token).await;
    assert_eq!(r.json["confirmed_at"], first["confirmed_at"]);

    // Not someone else's task, and not an unknown one; a body with a typo is refused.
    let r = app.post(&format!("/v1/tasks/{}/confirm", ids[1]), &app.rep2.token, json!({})).await;
    assert_eq!((r.status, r.code()), (404, "task_not_found"));
    let r = app.post(&format!("/v1/tasks/{}/confirm", uuid::Uuid::new_v4()), &app.marketing.token, json!({})).await;
    assert_eq!((r.status, r.code()), (404, "task_not_found"));
    let r = app.post(&format!("/v1/tasks/{}/confirm", ids[1]), &app.marketing.token, json!({ "notes": "x" })).await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"));
    let r = app.post(&format!("/v1/tasks/{}/confirm", ids[1]), &app.marketing.token, json!({})).await;
    assert_eq!(r.status, 200);
    assert!(r.json["confirmation_note"].is_null());
}

async fn marketing_creates_and_updates_customers_that_reps_of_the_branch_can_read(app: TestApp) {
    let id = app.customer_at(-6.2, 106.8).await;
    let r = app.get(&format!("/v1/customers/{id}"), &app.rep.token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["latitude"], -6.2);
    assert_eq!(r.json["class"], "new");
    // Other branch: not visible, and not revealed.
    let r = app.get(&format!("/v1/customers/{id}"), &app.jap_marketing.token).await;
    assert_eq!((r.status, r.code()), (404, "customer_not_found"));
    // Reps read but do not write.
    let r = app.post("/v1/customers", &app.rep.token, json!({"code": "X1", "name": "X", "customer_type": "retail"})).await;
    assert_eq!((r.status, r.code()), (403, "role_forbidden"));
    let r = app
        .send(
            reqwest::Method::PATCH,
            &format!("/v1/customers/{id}"),
            Some(&app.marketing.token),
            crate::helpers::Body::Json(json!({"geofence_radius_m": 250.0, "class": "B", "name": "Toko Maju Jaya 2"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        (r.json["geofence_radius_m"].as_f64(), r.json["class"].as_str(), r.json["name"].as_str()),
        (Some(250.0), Some("B"), Some("Toko Maju Jaya 2"))
    );
    assert_eq!(r.json["latitude"], -6.2, "fields not in the patch keep their value");
    let r = app
        .send(
            reqwest::Method::PATCH,
            &format!("/v1/customers/{id}"),
            Some(&app.marketing.token),
            crate::helpers::Body::Json(json!({"latitude": 91.0, "longitude": 0.0})),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_coordinates"));
}

async fn customer_lists_paginate_with_a_cursor_and_filter(app: TestApp) {
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.customer_at(-6.2 + f64::from(i) * 0.01, 106.8).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/customers?limit=2&cursor={c}"),
            None => "/v1/customers?limit=2".to_string(),
        };
        let r = app.get(&path, &app.marketing.token).await;
        assert_eq!(r.status, 200);
        for item in r.json["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap());
        }
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    created.reverse(); // newest first
    assert_eq!(seen, created);
    let r = app.get("/v1/customers?q=maju", &app.hq.token).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 5);
    let r = app.get("/v1/customers?q=nothing-like-this", &app.hq.token).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 0);
    let r = app.get("/v1/customers", &app.jap_marketing.token).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 0, "another branch's customers stay hidden");
}

async fn a_duplicate_customer_code_is_a_conflict(app: TestApp) {
    let body = json!({"code": "DUP-1", "name": "Toko A", "customer_type": "retail"});
    assert_eq!(app.post("/v1/customers", &app.marketing.token, body.clone()).await.status, 201);
    let r = app.post("/v1/customers", &app.marketing.token, body).await;
    assert_eq!((r.status, r.code()), (409, "customer_code_taken"));
}

async fn tasks_are_created_by_marketing_and_listed_for_their_assignee(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let task_id = uuid::Uuid::new_v4();
    let body = json!({"id": task_id, "customer_id": customer, "assignee_id": app.rep.id, "task_type": "routine",
                      "required_method": "door_visit", "due_date": "2026-12-01", "note": "Kunjungan rutin"});
    let r = app.post("/v1/tasks", &app.marketing.token, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    // The same request again (a retry) returns the stored task.
    let r = app.post("/v1/tasks", &app.marketing.token, body.clone()).await;
    assert_eq!(r.status, 200);
    let mut changed = body.clone();
    changed["due_date"] = json!("2026-12-02");
    let r = app.post("/v1/tasks", &app.marketing.token, changed).await;
    assert_eq!((r.status, r.code()), (409, "task_id_conflict"));
    let r = app.post("/v1/tasks", &app.rep.token, body).await;
    assert_eq!((r.status, r.code()), (403, "role_forbidden"));
    let r = app
        .post("/v1/tasks", &app.marketing.token, json!({"customer_id": customer, "assignee_id": app.jap_rep.id, "due_date": "2026-12-01"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "rep_not_found"));

    let r = app.get("/v1/tasks?assignee=me&status=open&due_from=2026-11-30&due_to=2026-12-01", &app.rep.token).await;
    let items = r.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], task_id.to_string());
    assert_eq!(app.get("/v1/tasks?due_to=2026-11-30", &app.rep.token).await.json["items"].as_array().unwrap().len(), 0);
    assert_eq!(app.get(&format!("/v1/tasks/{task_id}"), &app.rep.token).await.status, 200);
    let r = app.get(&format!("/v1/tasks/{task_id}"), &app.rep2.token).await;
    assert_eq!((r.status, r.code()), (404, "task_not_found"));
    assert_eq!(app.get("/v1/tasks", &app.rep2.token).await.json["items"].as_array().unwrap().len(), 0);
    assert_eq!(app.get("/v1/tasks", &app.marketing.token).await.json["items"].as_array().unwrap().len(), 1);
}
