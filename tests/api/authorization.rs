//! The authorization matrix: every route of the API and the console × every kind of caller,
//! with the status each must get, on both backends. A route the server serves without its row
//! here fails the test, and so does a row for a route it does not serve.
//!
//! The callers (the columns, in this order):
//!
//! | column | who |
//! |---|---|
//! | `own`  | the JKT rep who owns the world's visit, task and token |
//! | `rep2` | another rep of JKT |
//! | `xrep` | a rep of JAP (another branch) |
//! | `bm`   | branch marketing of JKT |
//! | `xbm`  | branch marketing of JAP |
//! | `sup`  | the JKT supervisor |
//! | `hq`   | Marketing HQ |
//! | `adm`  | an admin |
//! | `none` | no credentials |
//! | `bad`  | a malformed credential |
//! | `rev`  | a revoked one (a revoked token; a signed-out session) |
//! | `exp`  | an expired one (a token past its expiry; a session past its limits) |
//!
//! API routes take a bearer token, console routes a session cookie (and, for a POST, the
//! session's CSRF token). Each cell is one request that would succeed for a caller allowed to
//! make it — a valid body, an object that exists — so a refusal is the authorization's answer,
//! not the validation's. A request that changes what the next cell needs (a deletion, a
//! submission, an assignment) gets a fresh object after each cell allowed to make it.
//!
//! Besides the status: every 404 for an object that exists is its kind's "not found" (another
//! branch's ids are not told apart from ids that do not exist; an id named in a body or a query
//! rather than the path is `422 …_not_found`, as an unknown one is), every 403 is
//! `role_forbidden`, `not_visit_owner` or `csrf_failed`, every 401 is `unauthorized`, and a
//! console page without a session goes to the sign-in page. [`lists_show_only_the_callers_scope`]
//! checks the rows of every list, whatever the filters.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::console::console_user;
use crate::helpers::{spawn_app_tuned, with_customer_photo, Body, Db, Login, TestApp};

const ACTORS: [&str; 12] = ["own", "rep2", "xrep", "bm", "xbm", "sup", "hq", "adm", "none", "bad", "rev", "exp"];

/// Every route and what each caller gets, in the order of [`ACTORS`]. `303` on a console page
/// without a session is the way to the sign-in page; `303` after a console POST is the way back
/// to the page it came from.
const MATRIX: &[(&str, &str, &str)] = &[
    //                                                                   own rep2 xrep bm  xbm sup  hq  adm none bad rev exp
    ("GET", "/healthz", "                                               200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/readyz", "                                                200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/metrics", "                                               200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/v1/me", "                                                 200 200 200 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/tokens", "                                             200 200 200 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/tokens", "                                            201 201 201 201 201 201 201 201 401 401 401 401"),
    ("DELETE", "/v1/tokens/{token_id}", "                               200 404 404 404 404 404 404 200 401 401 401 401"),
    ("POST", "/v1/me/calendar-feed", "                                  201 201 201 201 201 201 201 201 401 401 401 401"),
    ("DELETE", "/v1/me/calendar-feed", "                                204 204 204 204 204 204 204 204 401 401 401 401"),
    ("GET", "/v1/calendar-feeds/{feed_token}", "                        200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/v1/policy", "                                             200 200 200 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/policy/versions", "                                    200 200 200 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/policy/versions", "                                   403 403 403 403 403 403 403 201 401 401 401 401"),
    ("GET", "/v1/result-reasons", "                                     200 200 200 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/digests/daily", "                                      403 403 403 200 422 200 200 200 401 401 401 401"),
    ("GET", "/v1/customers", "                                          200 200 200 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/customers", "                                         403 403 403 201 422 201 201 201 401 401 401 401"),
    ("GET", "/v1/customers/{customer_id}", "                            200 200 404 200 404 200 200 200 401 401 401 401"),
    ("PATCH", "/v1/customers/{customer_id}", "                          403 403 403 200 404 200 200 200 401 401 401 401"),
    ("GET", "/v1/customers/{customer_id}/research", "                   200 200 404 200 404 200 200 200 401 401 401 401"),
    ("GET", "/v1/customers/{customer_id}/place-proposal", "             403 403 403 200 404 200 200 200 401 401 401 401"),
    ("POST", "/v1/customers/{customer_id}/place-proposal/accept", "     403 403 403 200 404 200 200 200 401 401 401 401"),
    ("POST", "/v1/customers/{customer_id}/place-proposal/reject", "     403 403 403 204 404 204 204 204 401 401 401 401"),
    ("GET", "/v1/tasks", "                                              200 200 200 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/tasks", "                                             403 403 403 201 422 201 201 201 401 401 401 401"),
    ("GET", "/v1/tasks/{task_id}", "                                    200 404 404 200 404 200 200 200 401 401 401 401"),
    ("DELETE", "/v1/tasks/{task_id}", "                                 403 403 403 204 404 204 204 204 401 401 401 401"),
    ("POST", "/v1/tasks/{task_id}/assign", "                            403 403 403 200 404 200 200 200 401 401 401 401"),
    ("POST", "/v1/tasks/{task_id}/confirm", "                           200 404 404 200 404 200 200 200 401 401 401 401"),
    ("POST", "/v1/tasks/{task_id}/done", "                              200 404 404 200 404 200 200 200 401 401 401 401"),
    ("GET", "/v1/leads", "                                              200 200 200 200 200 200 200 200 401 401 401 401"),
    ("PUT", "/v1/leads/{lead_id}", "                                    201 201 422 201 422 201 201 201 401 401 401 401"),
    ("GET", "/v1/leads/{lead_id}", "                                    200 404 404 200 404 200 200 200 401 401 401 401"),
    ("GET", "/v1/leads/{lead_id}/activities", "                         200 404 404 200 404 200 200 200 401 401 401 401"),
    ("POST", "/v1/leads/{lead_id}/activities", "                        201 404 404 201 404 201 403 403 401 401 401 401"),
    ("GET", "/v1/reports/lead-duplicates", "                                   200 200 200 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/leads/{lead_id}/stage", "                             200 404 404 200 404 200 403 403 401 401 401 401"),
    ("POST", "/v1/leads/{lead_id}/merge", "                             200 404 404 200 404 200 403 403 401 401 401 401"),
    ("PUT", "/v1/leads/{lead_id}/contract", "                           200 404 404 200 404 200 403 403 401 401 401 401"),
    ("GET", "/v1/leads/{lead_id}/quotations", "                         200 404 404 200 404 200 200 200 401 401 401 401"),
    ("PUT", "/v1/leads/{lead_id}/quotations/{quotation_id}", "          201 404 404 201 404 201 403 403 401 401 401 401"),
    ("POST", "/v1/quotations/{quotation_id}/approve", "                 403 404 404 403 404 200 403 403 401 401 401 401"),
    ("POST", "/v1/quotations/{quotation_id}/reject", "                  403 404 404 403 404 200 403 403 401 401 401 401"),
    ("PUT", "/v1/quotations/{quotation_id}/document", "                 201 404 404 200 404 200 403 403 401 401 401 401"),
    ("GET", "/v1/quotations/{quotation_id}/document", "                 200 404 404 200 404 200 200 200 401 401 401 401"),
    ("GET", "/v1/follow-ups", "                                         200 200 200 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/follow-ups/{follow_up_id}/done", "                    200 404 404 200 404 200 403 403 401 401 401 401"),
    ("PUT", "/v1/service-cases/{service_case_id}", "                    201 201 422 201 422 201 201 201 401 401 401 401"),
    ("GET", "/v1/service-cases/{service_case_id}", "                    200 404 404 200 404 200 200 200 401 401 401 401"),
    ("GET", "/v1/visits", "                                             200 200 200 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/visits/{visit_id}", "                                  200 404 404 200 404 200 200 200 401 401 401 401"),
    ("PUT", "/v1/visits/{visit_id}", "                                  200 404 404 403 403 403 403 403 401 401 401 401"),
    ("POST", "/v1/visits/{visit_id}/submit", "                          200 404 404 403 404 403 403 403 401 401 401 401"),
    ("POST", "/v1/visits/{visit_id}/reviews", "                         403 403 403 201 404 201 201 201 401 401 401 401"),
    ("PUT", "/v1/visits/{visit_id}/photos/{photo_id}", "                201 404 404 403 404 403 403 403 401 401 401 401"),
    ("GET", "/v1/visits/{visit_id}/photos/{photo_id}/content", "        200 404 404 200 404 200 200 200 401 401 401 401"),
    ("GET", "/v1/screenshots", "                                        200 200 200 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/holidays/{year}", "                                    200 200 200 200 200 200 200 200 401 401 401 401"),
    ("PUT", "/v1/holidays/{year}", "                                    403 403 403 403 403 403 403 200 401 401 401 401"),
    ("POST", "/v1/imports/customers", "                                 403 403 403 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/imports/leads", "                                     403 403 403 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/imports/volumes", "                                   403 403 403 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/classification/run", "                                403 403 403 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/review-queue", "                                       403 403 403 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/reviews/bulk", "                                      403 403 403 201 422 201 201 201 401 401 401 401"),
    ("GET", "/v1/scorecards", "                                         200 200 200 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/reports/pipeline", "                                   200 200 200 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/exports/visits.csv", "                                 403 403 403 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/exports/visits.geojson", "                             403 403 403 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/exports/photos.zip", "                                 403 403 403 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/exports/tasks.csv", "                                  403 403 403 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/exports/scorecards.csv", "                             403 403 403 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/exports/pipeline.csv", "                               200 200 200 200 200 200 200 200 401 401 401 401"),
    ("POST", "/v1/exports", "                                           403 403 403 202 202 202 202 202 401 401 401 401"),
    ("GET", "/v1/exports", "                                            403 403 403 200 200 200 200 200 401 401 401 401"),
    ("GET", "/v1/exports/{export_id}", "                                403 403 403 200 404 404 404 404 401 401 401 401"),
    ("GET", "/v1/exports/{export_id}/file", "                           403 403 403 200 404 404 404 404 401 401 401 401"),
    ("GET", "/v1/webhooks", "                                           403 403 403 403 403 403 403 200 401 401 401 401"),
    ("POST", "/v1/webhooks", "                                          403 403 403 403 403 403 403 201 401 401 401 401"),
    ("DELETE", "/v1/webhooks/{webhook_id}", "                           403 403 403 403 403 403 403 204 401 401 401 401"),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries", "                   403 403 403 403 403 403 403 200 401 401 401 401"),
    // The console.
    ("GET", "/", "                                                      303 303 303 303 303 303 303 303 303 303 303 303"),
    ("GET", "/hq/", "                                                   303 303 303 303 303 303 303 303 303 303 303 303"),
    ("GET", "/hq/login", "                                              200 200 200 200 200 200 200 200 200 200 200 200"),
    ("POST", "/hq/login", "                                             303 303 303 303 303 303 303 303 303 303 303 303"),
    ("POST", "/hq/logout", "                                            303 303 303 303 303 303 303 303 303 303 303 303"),
    ("GET", "/hq/password", "                                           200 200 200 200 200 200 200 200 303 303 303 303"),
    ("POST", "/hq/password", "                                          303 303 303 303 303 303 303 303 303 303 303 303"),
    ("POST", "/hq/locale", "                                            303 303 303 303 303 303 303 303 303 303 303 303"),
    ("GET", "/hq/assets/{path}", "                                      200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/hq/queue", "                                              403 403 403 200 200 200 200 200 303 303 303 303"),
    ("POST", "/hq/queue/bulk", "                                        403 403 403 200 422 200 200 200 303 303 303 303"),
    ("GET", "/hq/visits/{visit_id}", "                                  200 404 404 200 404 200 200 200 303 303 303 303"),
    ("POST", "/hq/visits/{visit_id}/review", "                          403 403 403 303 404 303 303 303 303 303 303 303"),
    ("GET", "/hq/visits/{visit_id}/photos/{photo_id}", "                200 404 404 200 404 200 200 200 303 303 303 303"),
    ("GET", "/hq/visits/{visit_id}/photos/{photo_id}/thumbnail", "      200 404 404 200 404 200 200 200 303 303 303 303"),
    ("GET", "/hq/tasks", "                                              200 200 200 200 200 200 200 200 303 303 303 303"),
    ("POST", "/hq/tasks", "                                             403 403 403 303 422 303 303 303 303 303 303 303"),
    ("POST", "/hq/tasks/{task_id}/assign", "                            403 403 403 303 404 303 303 303 303 303 303 303"),
    ("POST", "/hq/tasks/{task_id}/delete", "                            403 403 403 303 404 303 303 303 303 303 303 303"),
    ("GET", "/hq/scorecards", "                                         200 200 200 200 200 200 200 200 303 303 303 303"),
    ("GET", "/hq/map", "                                                200 200 200 200 200 200 200 200 303 303 303 303"),
    ("GET", "/hq/customers", "                                          200 200 200 200 200 200 200 200 303 303 303 303"),
    ("GET", "/hq/customers/{customer_id}", "                            200 200 404 200 404 200 200 200 303 303 303 303"),
    ("POST", "/hq/customers/{customer_id}/place", "                     403 403 403 303 404 303 303 303 303 303 303 303"),
    ("GET", "/hq/exports", "                                            403 403 403 200 200 200 200 200 303 303 303 303"),
    ("GET", "/hq/exports/list", "                                       403 403 403 200 200 200 200 200 303 303 303 303"),
    ("GET", "/hq/exports/files/{export_id}", "                          403 403 403 200 404 404 404 404 303 303 303 303"),
    ("GET", "/hq/exports/{file}", "                                     403 403 403 200 200 200 200 200 303 303 303 303"),
    ("POST", "/hq/exports/{file}", "                                    403 403 403 200 200 200 200 200 303 303 303 303"),
];

backend_tests!(lists_show_only_the_callers_scope);

/// The matrix runs with more bad-token failures allowed than production's 20 (it sends some
/// 350 on purpose; the throttle has its own test in `security.rs`).
mod every_route_answers_every_caller_as_the_matrix_says {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::every_route_answers_every_caller_as_the_matrix_says(spawn_app_tuned(Db::Sqlite, tune).await).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if crate::helpers::postgres_url().is_some() {
            super::every_route_answers_every_caller_as_the_matrix_says(spawn_app_tuned(Db::Postgres, tune).await).await
        }
    }

    fn tune(settings: &mut fieldproof::config::Settings) {
        settings.server.free_bearer_failures = 10_000;
    }
}

#[test]
fn the_matrix_has_a_row_for_every_route_and_a_cell_for_every_caller() {
    let served: BTreeSet<(String, String)> = fieldproof::http::route_table().into_iter().collect();
    let rows: BTreeSet<(String, String)> = MATRIX.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    assert_eq!(rows.len(), MATRIX.len(), "a route has two rows");
    let missing: Vec<_> = served.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&served).collect();
    assert!(missing.is_empty() && stale.is_empty(), "routes without a row: {missing:?}; rows without a route: {stale:?}");
    for (m, p, cells) in MATRIX {
        let cells: Vec<&str> = cells.split_whitespace().collect();
        assert_eq!(cells.len(), ACTORS.len(), "{m} {p}");
        assert!(cells.iter().all(|c| c.parse::<u16>().is_ok_and(|s| (200..600).contains(&s))), "{m} {p}");
    }
}

/// A caller's credentials: a bearer token for the API, a session (cookie and CSRF token) for
/// the console.
struct Caller {
    token: Option<String>,
    cookie: Option<String>,
    csrf: String,
    user: Option<Uuid>,
}

/// The objects the requests name. Those a request uses up are made again after each cell that
/// may use them (see [`World::renew`]).
struct World {
    /// A JKT customer of the rep, placed.
    customer: Uuid,
    /// The rep's submitted door visit, with one photo.
    visit: Uuid,
    photo: Uuid,
    /// The rep's draft visit (for PUT visit and PUT photo) and one to submit.
    draft: Uuid,
    to_submit: Uuid,
    /// An open manual task of the rep (read, confirmed), one to use up (deleted, assigned) and
    /// a thank-you task (the kind a rep marks done).
    task: Uuid,
    spare_task: Uuid,
    thanks: Uuid,
    /// A JKT customer without a place, with a proposal from an approved visit.
    proposed: Uuid,
    /// Branch marketing's export, prepared.
    export: Uuid,
    webhook: Uuid,
    /// The id of a second token of the rep.
    token_id: String,
    feed_path: String,
    /// A JKT lead assigned to the rep.
    lead: Uuid,
    /// The open first follow-up of a quotation sent to another lead of the rep's, and a
    /// quotation awaiting the supervisor's approval (its discount) on a third.
    follow_up: Uuid,
    awaiting: Uuid,
    /// A service case of the rep's customer, its follow-up the rep's.
    service_case: Uuid,
    /// A lead of the rep's to merge into `lead` (renewed after each merge).
    duplicate: Uuid,
    /// A won deal of the rep's (for its contract).
    won: Uuid,
    /// A quotation sent, without its document, and one with it.
    sent: Uuid,
    documented: Uuid,
}

async fn task_for(app: &TestApp, customer: Uuid, assignee: Uuid, task_type: &str) -> Uuid {
    let id = Uuid::new_v4();
    let due = crate::helpers::today_in(chrono_tz::Asia::Jakarta) + chrono::Days::new(3);
    let body = json!({ "id": id, "customer_id": customer, "assignee_id": assignee, "task_type": task_type, "due_date": due, "note": "bawa brosur" });
    let r = app.post("/v1/tasks", &app.marketing.token, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    id
}

async fn draft_visit(app: &TestApp, customer: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{id}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    id
}

/// An unplaced JKT customer with a place proposed by an approved door visit.
async fn proposed_customer(app: &TestApp) -> Uuid {
    let code = format!("P{}", &Uuid::new_v4().simple().to_string()[..9]);
    let r = app
        .post(
            "/v1/customers",
            &app.marketing.token,
            json!({ "code": code, "name": "Warung Baru", "customer_type": "retail", "assigned_rep_id": app.rep.id }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let customer: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let (visit, _) = crate::console::visit_with_photo(app, customer).await;
    let r = app.post(&format!("/v1/visits/{visit}/reviews"), &app.hq.token, json!({ "decision": "approve" })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(app.get(&format!("/v1/customers/{customer}/place-proposal"), &app.marketing.token).await.status, 200);
    customer
}

async fn work_off(app: &TestApp) {
    use fieldproof::jobs::{Step, Worker};
    let worker = Worker::new(app.app.clone(), fieldproof::config::JobsSettings { retry_backoff_ms: 0, ..Default::default() });
    for _ in 0..200 {
        if worker.step().await.unwrap() == Step::Idle {
            return;
        }
    }
    panic!("the jobs never ran out");
}

impl World {
    async fn new(app: &TestApp) -> World {
        let customer = app.customer_at(-6.2, 106.8).await;
        let (visit, photo) = crate::console::visit_with_photo(app, customer).await;
        let draft = draft_visit(app, customer).await;
        let to_submit = draft_visit(app, customer).await;
        let task = task_for(app, customer, app.rep.id, "manual").await;
        let spare_task = task_for(app, customer, app.rep.id, "manual").await;
        let thanks = task_for(app, customer, app.rep.id, "thank_you").await;
        let proposed = proposed_customer(app).await;
        let export = Uuid::new_v4();
        let r = app.post("/v1/exports", &app.marketing.token, json!({ "id": export, "kind": "visits.csv", "filter": {} })).await;
        assert_eq!(r.status, 202, "{}", r.json);
        work_off(app).await;
        let webhook = webhook(app).await;
        let r = app.post("/v1/tokens", &app.rep.token, json!({ "label": "second phone" })).await;
        assert_eq!(r.status, 201, "{}", r.json);
        let token_id = r.json["id"].as_str().unwrap().to_string();
        let r = app.post("/v1/me/calendar-feed", &app.rep.token, json!({})).await;
        assert_eq!(r.status, 201, "{}", r.json);
        let feed_path = r.json["path"].as_str().unwrap().to_string();
        let lead = Uuid::new_v4();
        let r = app.put(&format!("/v1/leads/{lead}"), &app.marketing.token, lead_body(app, app.rep.id)).await;
        assert_eq!(r.status, 201, "{}", r.json);
        let follow_up = sent_quotation(app).await;
        let awaiting = awaiting_quotation(app).await;
        let service_case = Uuid::new_v4();
        let body = json!({ "customer_id": customer, "kind": "claim_paid", "summary": "klaim paket rusak dibayar" });
        let r = app.put(&format!("/v1/service-cases/{service_case}"), &app.marketing.token, body).await;
        assert_eq!(r.status, 201, "{}", r.json);
        let duplicate = rep_lead(app).await;
        let won = rep_lead(app).await;
        let r = app.post(&format!("/v1/leads/{won}/stage"), &app.rep.token, json!({ "stage": "won" })).await;
        assert_eq!(r.status, 200, "{}", r.json);
        let sent = quotation(app).await;
        let documented = quotation(app).await;
        let r = app
            .send(
                Method::PUT,
                &format!("/v1/quotations/{documented}/document"),
                Some(&app.rep.token),
                Body::Raw("application/pdf", PDF.to_vec()),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        World {
            duplicate,
            won,
            sent,
            documented,
            customer,
            visit,
            photo,
            draft,
            to_submit,
            task,
            spare_task,
            thanks,
            proposed,
            export,
            webhook,
            token_id,
            feed_path,
            lead,
            follow_up,
            awaiting,
            service_case,
        }
    }

    /// Makes again what a successful `method path` used up.
    async fn renew(&mut self, app: &TestApp, method: &str, path: &str) {
        match (method, path) {
            ("POST", "/v1/visits/{visit_id}/submit") => self.to_submit = draft_visit(app, self.customer).await,
            ("DELETE", "/v1/tasks/{task_id}")
            | ("POST", "/v1/tasks/{task_id}/assign")
            | ("POST", "/hq/tasks/{task_id}/assign")
            | ("POST", "/hq/tasks/{task_id}/delete") => self.spare_task = task_for(app, self.customer, app.rep.id, "manual").await,
            ("POST", "/v1/tasks/{task_id}/done") => self.thanks = task_for(app, self.customer, app.rep.id, "thank_you").await,
            // The rep's feed, replaced or ended by the rep's own cell.
            ("POST", "/v1/me/calendar-feed") | ("DELETE", "/v1/me/calendar-feed") => {
                let r = app.post("/v1/me/calendar-feed", &app.rep.token, json!({})).await;
                assert_eq!(r.status, 201, "{}", r.json);
                self.feed_path = r.json["path"].as_str().unwrap().to_string();
            }
            ("POST", "/v1/customers/{customer_id}/place-proposal/accept")
            | ("POST", "/v1/customers/{customer_id}/place-proposal/reject")
            | ("POST", "/hq/customers/{customer_id}/place") => self.proposed = proposed_customer(app).await,
            ("DELETE", "/v1/webhooks/{webhook_id}") => self.webhook = webhook(app).await,
            ("POST", "/v1/quotations/{quotation_id}/approve") | ("POST", "/v1/quotations/{quotation_id}/reject") => {
                self.awaiting = awaiting_quotation(app).await
            }
            ("POST", "/v1/leads/{lead_id}/merge") => self.duplicate = rep_lead(app).await,
            _ => {}
        }
    }
}

/// A new lead of the rep's, entered by branch marketing.
async fn rep_lead(app: &TestApp) -> Uuid {
    let lead = Uuid::new_v4();
    let r = app.put(&format!("/v1/leads/{lead}"), &app.marketing.token, lead_body(app, app.rep.id)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    lead
}

/// A quotation sent to a new lead of the rep's: its cadence's first follow-up.
async fn sent_quotation(app: &TestApp) -> Uuid {
    let lead = rep_lead(app).await;
    let r = app
        .put(&format!("/v1/leads/{lead}/quotations/{}", Uuid::new_v4()), &app.rep.token, json!({ "number": "Q-1", "amount": 5_000_000 }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let list = app.get(&format!("/v1/follow-ups?lead_id={lead}&status=open"), &app.rep.token).await;
    list.json["items"][0]["id"].as_str().unwrap().parse().unwrap()
}

/// A quotation's document.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A quotation sent to a new lead of the rep's.
async fn quotation(app: &TestApp) -> Uuid {
    let lead = rep_lead(app).await;
    let id = Uuid::new_v4();
    let r = app.put(&format!("/v1/leads/{lead}/quotations/{id}"), &app.rep.token, json!({ "number": "Q-3", "amount": 5_000_000 })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    id
}

/// A quotation whose discount waits for the supervisor.
async fn awaiting_quotation(app: &TestApp) -> Uuid {
    let lead = rep_lead(app).await;
    let id = Uuid::new_v4();
    let body = json!({ "number": "Q-2", "amount": 5_000_000, "discount_pct": 25 });
    let r = app.put(&format!("/v1/leads/{lead}/quotations/{id}"), &app.rep.token, body).await;
    assert_eq!((r.status, r.json["status"].as_str()), (201, Some("awaiting_approval")), "{}", r.json);
    id
}

fn lead_body(app: &TestApp, assignee: Uuid) -> Value {
    json!({
        "branch_id": app.jkt, "name": "Budi Santoso", "company": "PT Sinar Jaya", "phone": "0812-3456-7890",
        "source": "website", "need": "kirim 200 paket sebulan", "assignee_id": assignee,
    })
}

async fn webhook(app: &TestApp) -> Uuid {
    let r = app.post("/v1/webhooks", &app.admin.token, json!({ "url": "http://127.0.0.1:9/hook", "events": ["task.missed"] })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["id"].as_str().unwrap().parse().unwrap()
}

/// One cell's request.
enum Payload {
    None,
    Json(Value),
    Csv(String),
    Pdf,
    Photo,
    /// A console form; the caller's CSRF token is added.
    Form(Vec<(String, String)>),
}

fn form(fields: &[(&str, &str)]) -> Payload {
    Payload::Form(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// The path and body of a request that would succeed for a caller allowed to make it.
fn request(app: &TestApp, w: &World, method: &str, template: &str, cell: usize) -> (String, Payload) {
    let today = crate::helpers::today_in(chrono_tz::Asia::Jakarta);
    let task_of = |t: &str| match t {
        _ if t.ends_with("/done") => w.thanks,
        _ if t.contains("assign") || t.contains("delete") || method == "DELETE" => w.spare_task,
        _ => w.task,
    };
    let visit_of = |t: &str| match (method, t) {
        ("PUT", "/v1/visits/{visit_id}") | ("PUT", "/v1/visits/{visit_id}/photos/{photo_id}") => w.draft,
        (_, "/v1/visits/{visit_id}/submit") => w.to_submit,
        _ => w.visit,
    };
    let customer_of = |t: &str| if t.contains("place") { w.proposed } else { w.customer };
    let photo = if method == "PUT" { Uuid::new_v4() } else { w.photo };
    let path = template
        .replace("{visit_id}", &visit_of(template).to_string())
        .replace("{photo_id}", &photo.to_string())
        .replace("{task_id}", &task_of(template).to_string())
        .replace("{customer_id}", &customer_of(template).to_string())
        .replace("{export_id}", &w.export.to_string())
        .replace("{webhook_id}", &w.webhook.to_string())
        .replace("{token_id}", &w.token_id)
        .replace(
            "{lead_id}",
            &match template {
                "/v1/leads/{lead_id}" if method == "PUT" => Uuid::new_v4(),
                "/v1/leads/{lead_id}/merge" => w.duplicate,
                "/v1/leads/{lead_id}/contract" => w.won,
                _ => w.lead,
            }
            .to_string(),
        )
        .replace(
            "{quotation_id}",
            &match (method, template) {
                ("PUT", "/v1/quotations/{quotation_id}/document") => w.sent,
                ("GET", "/v1/quotations/{quotation_id}/document") => w.documented,
                ("PUT", _) => Uuid::new_v4(),
                _ => w.awaiting,
            }
            .to_string(),
        )
        .replace("{follow_up_id}", &w.follow_up.to_string())
        .replace("{service_case_id}", &if method == "PUT" { Uuid::new_v4() } else { w.service_case }.to_string())
        .replace("{year}", "2026")
        .replace("{path}", "console/console.css")
        .replace("{file}", "visits.csv");
    let path = match template {
        "/v1/calendar-feeds/{feed_token}" => w.feed_path.clone(),
        "/v1/digests/daily" => format!("{path}?branch_id={}", app.jkt),
        "/v1/scorecards" | "/v1/exports/scorecards.csv" => format!("{path}?branch_id={}&month={}", app.jkt, today.format("%Y-%m")),
        "/v1/reports/pipeline" | "/v1/exports/pipeline.csv" => format!("{path}?month={}", today.format("%Y-%m")),
        "/v1/screenshots" => format!("{path}?q=pengiriman"),
        _ => path,
    };
    let code = format!("M{cell:03}{}", &Uuid::new_v4().simple().to_string()[..6]);
    let payload = match (method, template) {
        ("GET" | "DELETE", _) => Payload::None,
        ("POST", "/v1/tokens") => Payload::Json(json!({ "label": format!("cell {cell}") })),
        ("POST", "/v1/me/calendar-feed") | ("POST", "/v1/classification/run") => Payload::Json(json!({})),
        ("POST", "/v1/policy/versions") => Payload::Json(
            json!({ "effective_from": (today + chrono::Days::new(30 + cell as u64)).to_string(), "policy": "[summary]\nmin_sentences = 1\n" }),
        ),
        ("POST", "/v1/customers") => Payload::Json(json!({
            "code": code, "name": "Toko Baru", "customer_type": "retail", "branch_id": app.jkt, "assigned_rep_id": app.rep.id
        })),
        ("PATCH", _) => Payload::Json(json!({ "contact_name": "Bu Sari" })),
        ("PUT", "/v1/leads/{lead_id}") => {
            let mut body = lead_body(app, app.rep.id);
            body.as_object_mut().unwrap().remove("assignee_id");
            Payload::Json(body)
        }
        ("POST", "/v1/leads/{lead_id}/activities") => {
            Payload::Json(json!({ "id": Uuid::new_v4(), "kind": "call", "summary": "menelepon, minta penawaran", "answered": true }))
        }
        ("PUT", "/v1/leads/{lead_id}/quotations/{quotation_id}") => Payload::Json(
            json!({ "number": format!("Q-{cell}"), "amount": 7_500_000, "discount_pct": 5, "revision_requested_at": app.now() }),
        ),
        ("POST", "/v1/quotations/{quotation_id}/approve") | ("POST", "/v1/quotations/{quotation_id}/reject") => Payload::Json(json!({})),
        ("PUT", "/v1/quotations/{quotation_id}/document") => Payload::Pdf,
        ("POST", "/v1/leads/{lead_id}/merge") => Payload::Json(json!({ "into": w.lead })),
        ("PUT", "/v1/leads/{lead_id}/contract") => {
            Payload::Json(json!({ "value": 90_000_000, "product": "Express B2B", "ends_on": today + chrono::Days::new(365) }))
        }
        ("PUT", "/v1/service-cases/{service_case_id}") => {
            Payload::Json(json!({ "customer_id": w.customer, "kind": "pickup_fixed", "summary": "jadwal pick-up diperbaiki" }))
        }
        ("POST", "/v1/follow-ups/{follow_up_id}/done") => {
            Payload::Json(json!({ "channel": "whatsapp", "answered": true, "note": "penawaran sudah diterima" }))
        }
        ("POST", "/v1/leads/{lead_id}/stage") => {
            Payload::Json(json!({ "stage": "on_hold", "next_contact_on": today + chrono::Days::new(14), "note": "tunggu anggaran" }))
        }
        ("POST", "/v1/customers/{customer_id}/place-proposal/accept") | ("POST", "/v1/customers/{customer_id}/place-proposal/reject") => {
            Payload::Json(json!({}))
        }
        ("POST", "/v1/tasks") => Payload::Json(json!({
            "id": Uuid::new_v4(), "customer_id": w.customer, "assignee_id": app.rep.id, "task_type": "manual",
            "due_date": today + chrono::Days::new(3), "note": "bawa brosur"
        })),
        ("POST", "/v1/tasks/{task_id}/assign") => Payload::Json(json!({ "assignee_id": app.rep2.id })),
        ("POST", "/v1/tasks/{task_id}/confirm") => Payload::Json(json!({ "note": "Bu Sari ada jam 10" })),
        ("POST", "/v1/tasks/{task_id}/done") => Payload::Json(json!({ "note": "dihubungi" })),
        ("PUT", "/v1/visits/{visit_id}") => Payload::Json(app.visit_body(w.customer, "door_visit", 0)),
        ("POST", "/v1/visits/{visit_id}/submit") => Payload::Json(json!({})),
        ("POST", "/v1/visits/{visit_id}/reviews") => {
            Payload::Json(json!({ "id": Uuid::new_v4(), "decision": "flag", "comment": "cek lagi" }))
        }
        ("PUT", "/v1/visits/{visit_id}/photos/{photo_id}") => Payload::Photo,
        ("PUT", "/v1/holidays/{year}") => Payload::Json(json!({ "holidays": [{ "date": "2026-12-25", "name": "Hari Raya Natal" }] })),
        ("POST", "/v1/imports/customers") => {
            Payload::Csv(format!("code,name,type,branch,rep,lat,lon,radius,contact,created\n{code},Toko Impor,retail,JKT,,-6.2,106.8,,,\n"))
        }
        ("POST", "/v1/imports/leads") => Payload::Csv(format!("name,phone,source,need\nBudi {cell},0812 3456 {cell:04},web,kirim paket\n")),
        ("POST", "/v1/imports/volumes") => Payload::Csv(format!("customer_code,date,awb\n{},{today},AWB{cell}\n", "no-such-code")),
        ("POST", "/v1/reviews/bulk") => Payload::Json(json!({ "items": [{ "visit_id": w.visit, "decision": "flag" }] })),
        ("POST", "/v1/exports") => Payload::Json(json!({ "id": Uuid::new_v4(), "kind": "tasks.csv", "filter": {} })),
        ("POST", "/v1/webhooks") => Payload::Json(json!({ "url": "http://127.0.0.1:9/hook", "events": ["task.missed"] })),
        ("POST", "/hq/login") => form(&[("login", "matrix"), ("password", "matrix-password-1")]),
        ("POST", "/hq/logout") => form(&[]),
        ("POST", "/hq/password") => form(&[("current", PASSWORD), ("new", "matrix-password-2"), ("repeat", "matrix-password-2")]),
        ("POST", "/hq/locale") => form(&[("locale", "id"), ("back", "/hq/tasks")]),
        ("POST", "/hq/queue/bulk") => {
            let v = w.visit.to_string();
            Payload::Form(vec![
                ("visit".into(), v.clone()),
                (format!("rid_{v}"), Uuid::new_v4().to_string()),
                ("decision".into(), "flag".into()),
            ])
        }
        ("POST", "/hq/visits/{visit_id}/review") => Payload::Form(vec![
            ("id".into(), Uuid::new_v4().to_string()),
            ("decision".into(), "flag".into()),
            ("back".into(), "/hq/queue".into()),
        ]),
        ("POST", "/hq/tasks") => Payload::Form(vec![
            ("id".into(), Uuid::new_v4().to_string()),
            ("customer".into(), w.customer.to_string()),
            ("assignee_id".into(), app.rep.id.to_string()),
            ("due_date".into(), (today + chrono::Days::new(3)).to_string()),
        ]),
        ("POST", "/hq/tasks/{task_id}/assign") => Payload::Form(vec![("assignee_id".into(), app.rep2.id.to_string())]),
        ("POST", "/hq/tasks/{task_id}/delete") => form(&[]),
        ("POST", "/hq/customers/{customer_id}/place") => form(&[("decision", "accept")]),
        ("POST", "/hq/exports/{file}") => Payload::Form(vec![("export_id".into(), Uuid::new_v4().to_string())]),
        (m, t) => panic!("no request for {m} {t}: add one"),
    };
    (path, payload)
}

const PASSWORD: &str = "matrix-password-1";

/// A session of `user` made as a sign-in makes one, at `at`.
async fn session_of(app: &TestApp, user: Uuid, at: chrono::DateTime<chrono::Utc>) -> (String, String) {
    let cookie = fieldproof::app::auth::new_token();
    let csrf = fieldproof::app::auth::new_token();
    let hash = fieldproof::app::auth::token_hash(&cookie);
    app.app.repo.create_session(&hash, fieldproof::domain::ids::UserId(user), &csrf, at).await.unwrap();
    (cookie, csrf)
}

async fn callers(app: &TestApp) -> Vec<Caller> {
    let logins: [&Login; 8] = [&app.rep, &app.rep2, &app.jap_rep, &app.marketing, &app.jap_marketing, &app.supervisor, &app.hq, &app.admin];
    let now = app.now();
    let mut out = Vec::new();
    for (i, login) in logins.iter().enumerate() {
        console_user(app, login, &format!("{}{i}", ACTORS[i]), PASSWORD, false).await;
        let (cookie, csrf) = session_of(app, login.id, now).await;
        out.push(Caller { token: Some(login.token.clone()), cookie: Some(cookie), csrf, user: Some(login.id) });
    }
    out.push(Caller { token: None, cookie: None, csrf: String::new(), user: None });
    out.push(Caller { token: Some("not a token at all".into()), cookie: Some("%%%".into()), csrf: "x".into(), user: None });
    // Revoked: a token of the rep revoked; a session of the rep signed out.
    let r = app.post("/v1/tokens", &app.rep.token, json!({ "label": "revoked" })).await;
    let (secret, id) = (r.json["token"].as_str().unwrap().to_string(), r.json["id"].as_str().unwrap().to_string());
    assert_eq!(app.send(Method::DELETE, &format!("/v1/tokens/{id}"), Some(&app.rep.token), Body::None).await.status, 200);
    let (cookie, csrf) = session_of(app, app.rep.id, now).await;
    app.app.repo.end_session(&fieldproof::app::auth::token_hash(&cookie), now).await.unwrap();
    out.push(Caller { token: Some(secret), cookie: Some(cookie), csrf, user: None });
    // Expired: a token of the rep whose day is over; a session of the rep older than its limits.
    let secret = fieldproof::app::auth::new_token();
    let hash = fieldproof::app::auth::token_hash(&secret);
    let (yesterday, day_before) = (now - chrono::Duration::days(1), now - chrono::Duration::days(2));
    app.app.repo.issue_token(fieldproof::domain::ids::UserId(app.rep.id), &hash, "expired", day_before, Some(yesterday)).await.unwrap();
    let (cookie, csrf) = session_of(app, app.rep.id, day_before).await;
    out.push(Caller { token: Some(secret), cookie: Some(cookie), csrf, user: None });
    out
}

/// What one cell answered.
struct Answer {
    status: u16,
    code: String,
    location: String,
    body: String,
}

async fn send(app: &TestApp, caller: &Caller, method: &str, path: &str, payload: Payload) -> Answer {
    let console = path == "/" || path.starts_with("/hq");
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method.clone(), format!("{}{}", app.address, path));
    let mut cookies = Vec::new();
    if console {
        if let Some(c) = &caller.cookie {
            cookies.push(format!("fp_session={c}"));
        }
    } else if let Some(t) = &caller.token {
        req = req.bearer_auth(t);
    }
    req = match payload {
        Payload::None => req,
        Payload::Json(v) => req.json(&v),
        Payload::Csv(text) => req.header("content-type", "text/csv").body(text),
        Payload::Pdf => req.header("content-type", "application/pdf").body(PDF),
        Payload::Photo => req.multipart(with_customer_photo(-6.2, 106.8)),
        Payload::Form(mut fields) => {
            if path == "/hq/login" {
                // The sign-in form's own CSRF pair (a cookie and the same value in the form).
                let page = app.client.get(format!("{}/hq/login", app.address)).send().await.unwrap();
                let set = page.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_string()).collect::<Vec<_>>();
                let pair = set.iter().find(|c| !c.starts_with("fp_session")).unwrap().split(';').next().unwrap().to_string();
                fields.push(("_csrf".into(), pair.split_once('=').unwrap().1.to_string()));
                cookies.push(pair);
            } else {
                fields.push(("_csrf".into(), caller.csrf.clone()));
            }
            let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
            req.header("content-type", "application/x-www-form-urlencoded").body(body)
        }
    };
    if !cookies.is_empty() {
        req = req.header("cookie", cookies.join("; "));
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let location = headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let bytes = res.bytes().await.unwrap();
    let json: Value = if ct.contains("json") { serde_json::from_slice(&bytes).unwrap_or(Value::Null) } else { Value::Null };
    if !console {
        crate::contract::check_response(method.as_str(), path, status, &ct, &json);
    }
    let body = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_string();
    let code = json["code"].as_str().map(str::to_string).unwrap_or_else(|| console_code(&body));
    Answer { status, code, location, body }
}

/// The problem code a console error page carries (`data-code="…"`), if any.
fn console_code(body: &str) -> String {
    body.split_once("data-code=\"").and_then(|(_, rest)| rest.split_once('"')).map(|(c, _)| c.to_string()).unwrap_or_default()
}

/// Whether a refusal says what it should: not found as not found, forbidden as forbidden, a
/// missing session as the way to the sign-in page.
fn refusal_problem(template: &str, actor: &str, a: &Answer) -> Option<String> {
    let console = template == "/" || template.starts_with("/hq");
    match a.status {
        401 if a.code != "unauthorized" => Some(format!("401 with code {:?}", a.code)),
        403 if !["role_forbidden", "not_visit_owner", "csrf_failed"].contains(&a.code.as_str()) => {
            Some(format!("403 with code {:?}", a.code))
        }
        404 if !a.code.ends_with("_not_found") => Some(format!("404 with code {:?}", a.code)),
        // (`/` and `/hq/` lead to the queue, which leads to the sign-in page.)
        303 if console && ["none", "bad", "rev", "exp"].contains(&actor) && !template.contains("login") && !template.ends_with('/') => {
            (!a.location.starts_with("/hq/login")).then(|| format!("303 to {:?}, not the sign-in page", a.location))
        }
        _ => None,
    }
}

async fn every_route_answers_every_caller_as_the_matrix_says(app: TestApp) {
    let mut world = World::new(&app).await;
    let mut callers = callers(&app).await;
    // The console's sign-in row signs in a user of its own.
    let matrix_user = Login { id: Uuid::new_v4(), token: String::new() };
    let user = fieldproof::domain::directory::User {
        id: fieldproof::domain::ids::UserId(matrix_user.id),
        name: "matrix".into(),
        role: fieldproof::domain::role::Role::Hq,
        branch_id: None,
    };
    app.app.repo.upsert_user(&user, app.now()).await.unwrap();
    console_user(&app, &matrix_user, "matrix", PASSWORD, false).await;

    let mut wrong = Vec::new();
    let mut cells = 0;
    for (method, template, expected) in MATRIX {
        let expected: Vec<u16> = expected.split_whitespace().map(|c| c.parse().unwrap()).collect();
        let mut got = Vec::new();
        for i in 0..callers.len() {
            let (path, payload) = request(&app, &world, method, template, cells);
            let answer = send(&app, &callers[i], method, &path, payload).await;
            cells += 1;
            if let Some(problem) = refusal_problem(template, ACTORS[i], &answer) {
                wrong.push(format!("{method} {template} as {}: {problem}", ACTORS[i]));
            }
            if answer.status != expected[i] {
                wrong.push(format!(
                    "{method} {template} as {}: {} {} (expected {}) {}",
                    ACTORS[i],
                    answer.status,
                    answer.code,
                    expected[i],
                    answer.body.chars().take(200).collect::<String>()
                ));
            }
            got.push(answer.status);
            let allowed = (200..300).contains(&answer.status) || (answer.status == 303 && !answer.location.starts_with("/hq/login"));
            if allowed {
                world.renew(&app, method, template).await;
            }
            // A sign-out ends the caller's session: the next rows get a new one.
            if let (true, Some(user)) = (*template == "/hq/logout", callers[i].user) {
                let (cookie, csrf) = session_of(&app, user, app.now()).await;
                (callers[i].cookie, callers[i].csrf) = (Some(cookie), csrf);
            }
        }
        let row: Vec<String> = got.iter().map(u16::to_string).collect();
        if got != expected {
            wrong.push(format!("row as served: (\"{method}\", \"{template}\", \"{}\")", row.join(" ")));
        }
    }
    assert!(wrong.is_empty(), "{} of {cells} cells differ from the matrix:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(cells, MATRIX.len() * ACTORS.len());
}

/// A door visit by `rep` with one photo, submitted.
async fn visit_by(app: &TestApp, rep: &Login, customer: Uuid) -> Uuid {
    let visit = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{visit}"), &rep.token, app.visit_body(customer, "door_visit", 0)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = app.put_photo(visit, Uuid::new_v4(), &rep.token, with_customer_photo(-6.2, 106.8)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = app.post(&format!("/v1/visits/{visit}/submit"), &rep.token, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    visit
}

/// Every list — the API's, the exports' and the console's pages — as every signed-in caller,
/// unfiltered and with every filter pointed at another's rows: no row outside the caller's scope
/// ever shows (its id appears nowhere in the answer), and the caller's own rows do.
async fn lists_show_only_the_callers_scope(app: TestApp) {
    // JKT: a customer, a visit and a task of each rep. JAP: the same for its rep.
    let jkt_customer = app.customer_at(-6.2, 106.8).await;
    let r = app
        .post(
            "/v1/customers",
            &app.jap_marketing.token,
            json!({ "code": "JAP001", "name": "Toko Papua", "customer_type": "retail", "assigned_rep_id": app.jap_rep.id,
                    "latitude": -6.2, "longitude": 106.8 }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let jap_customer: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let visits = [
        visit_by(&app, &app.rep, jkt_customer).await,
        visit_by(&app, &app.rep2, jkt_customer).await,
        visit_by(&app, &app.jap_rep, jap_customer).await,
    ];
    let due = crate::helpers::today_in(chrono_tz::Asia::Jakarta) + chrono::Days::new(3);
    let mut tasks = Vec::new();
    for (marketer, customer, rep) in [
        (&app.marketing, jkt_customer, &app.rep),
        (&app.marketing, jkt_customer, &app.rep2),
        (&app.jap_marketing, jap_customer, &app.jap_rep),
    ] {
        let id = Uuid::new_v4();
        let body = json!({ "id": id, "customer_id": customer, "assignee_id": rep.id, "task_type": "manual", "due_date": due });
        let r = app.post("/v1/tasks", &marketer.token, body).await;
        assert_eq!(r.status, 201, "{}", r.json);
        tasks.push(id);
    }
    let mut leads = Vec::new();
    for (marketer, branch, rep) in
        [(&app.marketing, app.jkt, &app.rep), (&app.marketing, app.jkt, &app.rep2), (&app.jap_marketing, app.jap, &app.jap_rep)]
    {
        let id = Uuid::new_v4();
        let mut body = lead_body(&app, rep.id);
        body["branch_id"] = json!(branch);
        body["phone"] = json!(format!("0813{:08}", leads.len()));
        let r = app.put(&format!("/v1/leads/{id}"), &marketer.token, body).await;
        assert_eq!(r.status, 201, "{}", r.json);
        leads.push(id);
    }
    // Flagged, so that every visit is in its branch's review queue.
    for v in visits {
        let r = app.post(&format!("/v1/visits/{v}/reviews"), &app.hq.token, json!({ "decision": "flag" })).await;
        assert_eq!(r.status, 201, "{}", r.json);
    }

    // Who sees which of the three visits (and tasks) and the two customers.
    let sees: [(&str, &Login, [bool; 3], [bool; 2]); 8] = [
        ("own", &app.rep, [true, false, false], [true, false]),
        ("rep2", &app.rep2, [false, true, false], [true, false]),
        ("xrep", &app.jap_rep, [false, false, true], [false, true]),
        ("bm", &app.marketing, [true, true, false], [true, false]),
        ("xbm", &app.jap_marketing, [false, false, true], [false, true]),
        ("sup", &app.supervisor, [true, true, false], [true, false]),
        ("hq", &app.hq, [true, true, true], [true, true]),
        ("adm", &app.admin, [true, true, true], [true, true]),
    ];
    let (jkt, jap) = (app.jkt.to_string(), app.jap.to_string());
    let reps = [app.rep.id.to_string(), app.rep2.id.to_string(), app.jap_rep.id.to_string()];
    let customers = [jkt_customer.to_string(), jap_customer.to_string()];
    let mut filters = vec![String::new()];
    for b in [&jkt, &jap] {
        filters.extend([format!("branch_id={b}"), format!("branch={b}")]);
    }
    for r in &reps {
        filters.extend([format!("rep_id={r}"), format!("assignee_id={r}"), format!("rep={r}")]);
    }
    for c in &customers {
        filters.extend([format!("customer_id={c}"), format!("customer={c}")]);
    }
    const API_LISTS: [&str; 10] = [
        "/v1/visits",
        "/v1/leads",
        "/v1/tasks",
        "/v1/customers",
        "/v1/review-queue",
        "/v1/scorecards",
        "/v1/digests/daily",
        "/v1/exports/visits.csv",
        "/v1/exports/visits.geojson",
        "/v1/exports/tasks.csv",
    ];
    const CONSOLE_LISTS: [&str; 5] = ["/hq/queue", "/hq/tasks", "/hq/customers", "/hq/map", "/hq/scorecards"];
    let mut leaks = Vec::new();
    let mut answered = 0;
    for (name, login, visible, visible_customers) in sees {
        let (cookie, _) = session_of(&app, login.id, app.now()).await;
        let foreign: Vec<String> = (0..3)
            .filter(|&i| !visible[i])
            .flat_map(|i| [visits[i].to_string(), tasks[i].to_string(), leads[i].to_string()])
            .chain((0..2).filter(|&i| !visible_customers[i]).map(|i| customers[i].clone()))
            .collect();
        for list in API_LISTS.iter().chain(CONSOLE_LISTS.iter()) {
            for filter in &filters {
                let path = if filter.is_empty() { list.to_string() } else { format!("{list}?{filter}") };
                let mut req = app.client.get(format!("{}{}", app.address, path));
                req = if list.starts_with("/hq") {
                    req.header("cookie", format!("fp_session={cookie}"))
                } else {
                    req.bearer_auth(&login.token)
                };
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                let body = res.text().await.unwrap();
                assert!(status < 500, "{path} as {name}: {status} {body}");
                if status != 200 {
                    continue;
                }
                answered += 1;
                // (A page may repeat its own filter, a foreign id included, in its form.)
                for id in foreign.iter().filter(|id| body.contains(id.as_str()) && !filter.contains(id.as_str())) {
                    leaks.push(format!("{path} as {name} shows {id}"));
                }
            }
        }
        // The caller's own rows are there (the lists are not empty by mistake).
        for (list, ids) in [("/v1/visits", &visits[..]), ("/v1/tasks", &tasks[..]), ("/v1/leads", &leads[..])] {
            let body = app.get(list, &login.token).await.json.to_string();
            for i in (0..3).filter(|&i| visible[i]) {
                assert!(body.contains(&ids[i].to_string()), "{list} as {name} lacks {}", ids[i]);
            }
        }
    }
    assert!(leaks.is_empty(), "rows outside the caller's scope:\n{}", leaks.join("\n"));
    assert!(answered > 500, "only {answered} lists answered 200");
}
