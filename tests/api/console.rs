//! The console's HTML handlers over HTTP, on both backends: signing in (argon2id passwords,
//! hashed sessions, the throttle), CSRF, the language switch, the queue with its thumbnails and
//! decisions (one and in bulk), the visit page, and who sees what. Every response is checked
//! against openapi.yaml like the API's. (The same flows in a real browser: `browser.rs`.)

use std::collections::HashMap;

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::backend_tests;
use crate::contract;
use crate::helpers::{with_customer_photo, Login, TestApp};

backend_tests!(
    signing_in_makes_a_session_that_signing_out_ends,
    failed_sign_ins_are_throttled_and_one_time_passwords_must_be_changed,
    state_changes_need_the_csrf_token_and_the_language_is_remembered,
    the_queue_shows_thumbnails_and_takes_decisions,
    each_role_sees_its_own_in_the_console,
    the_task_list_counts_filters_and_manages_tasks
);

/// A browser, as far as the console cares: a cookie jar, and pages checked against the contract.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// The value of the first `name="…" value="…"` input.
    pub fn input(&self, name: &str) -> String {
        let at = self.body.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no input {name} in {}", self.body));
        let rest = &self.body[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser { app, cookies: HashMap::new() }
    }

    pub async fn send(&mut self, method: Method, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut req = self.app.client.request(method.clone(), format!("{}{}", self.app.address, path));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", jar.join("; "));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if method == Method::POST {
            let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
            req = req.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        for c in headers.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let bytes = res.bytes().await.unwrap().to_vec();
        let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let json = if ct.contains("json") { serde_json::from_slice(&bytes).unwrap_or_default() } else { serde_json::Value::Null };
        contract::check_response(method.as_str(), path.split('?').next().unwrap(), status, &ct, &json);
        let body = String::from_utf8_lossy(&bytes).into_owned();
        Page { status, headers, body, bytes }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, &[], &[]).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, form, &[]).await
    }

    /// Signs in through the form; returns the answer to the POST.
    pub async fn sign_in(&mut self, login: &str, password: &str) -> Page {
        let form = self.get("/hq/login").await;
        assert_eq!(form.status, 200);
        let csrf = form.input("_csrf");
        self.post("/hq/login", &[("login", login), ("password", password), ("_csrf", &csrf)]).await
    }

    pub fn has_session(&self) -> bool {
        self.cookies.contains_key("fp_session")
    }
}

/// Gives a test user a console login and password.
pub async fn console_user(app: &TestApp, user: &Login, login: &str, password: &str, must_change: bool) {
    let id = fieldproof::domain::ids::UserId(user.id);
    fieldproof::app::sessions::set_login(&app.app, id, login).await.unwrap();
    fieldproof::app::sessions::set_password(&app.app, id, password, must_change).await.unwrap();
}

/// The CSRF token of the signed-in page.
fn csrf_of(page: &Page) -> String {
    page.input("_csrf")
}

async fn signing_in_makes_a_session_that_signing_out_ends(app: TestApp) {
    console_user(&app, &app.hq, "hana", "hana-password-1", false).await;
    let mut b = Browser::new(&app);
    // Without a session every page leads to the sign-in page, remembering where it was.
    let r = b.get("/hq/queue?status=flagged").await;
    assert_eq!((r.status, r.location()), (303, "/hq/login?next=/hq/queue%3Fstatus%3Dflagged"));
    let r = b.send(Method::GET, "/hq/queue", &[], &[("hx-request", "true")]).await;
    assert_eq!(r.status, 401, "htmx is told to go to the sign-in page whole");
    assert!(r.headers.get("hx-redirect").is_some());
    assert_eq!(b.get("/").await.location(), "/hq/queue");

    let login = b.get("/hq/login").await;
    assert!(login.body.contains("lang=\"id\"") && login.body.contains("Masuk"), "Indonesian by default");
    let wrong = b.sign_in("hana", "not-her-password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Nama pengguna atau kata sandi salah"), "{}", wrong.body);
    let unknown = b.sign_in("nobody", "hana-password-1").await;
    assert_eq!(unknown.status, 401, "an unknown login fails like a wrong password");
    assert!(!b.has_session());

    let ok = b.sign_in("hana", "hana-password-1").await;
    assert_eq!((ok.status, ok.location()), (303, "/hq/queue"));
    let cookie =
        ok.headers.get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_string()).find(|c| c.starts_with("fp_session=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/hq"), "{cookie}");
    assert!(!cookie.contains("Secure"), "no https public URL: not Secure");
    // Only the hash of the cookie's value is stored.
    let value = cookie.trim_start_matches("fp_session=").split(';').next().unwrap().to_string();
    let stored = app.app.repo.get_session(&fieldproof::app::auth::token_hash(&value)).await.unwrap().expect("stored by its hash");
    assert_eq!(stored.credentials.user.id.0, app.hq.id);
    assert!(app.app.repo.get_session(&value).await.unwrap().is_none());

    let queue = b.get("/hq/queue").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains("Antrean tinjauan"));
    assert_eq!(queue.headers.get("cache-control").unwrap(), "no-store");
    // An `next` that leaves the console is not followed.
    let mut other = Browser::new(&app);
    let form = other.get("/hq/login?next=https://evil.example/").await;
    let csrf = form.input("_csrf");
    let r =
        other.post("/hq/login", &[("login", "hana"), ("password", "hana-password-1"), ("_csrf", &csrf), ("next", "//evil.example/")]).await;
    assert_eq!(r.location(), "/hq/queue");

    let csrf = csrf_of(&queue);
    let out = b.post("/hq/logout", &[("_csrf", &csrf)]).await;
    assert_eq!((out.status, out.location()), (303, "/hq/login"));
    let mut replay = Browser::new(&app);
    replay.cookies.insert("fp_session".into(), value);
    assert_eq!(replay.get("/hq/queue").await.status, 303, "a signed-out session is dead even with the old cookie");
    assert_eq!(other.get("/hq/queue").await.status, 200, "the other session goes on");
}

async fn failed_sign_ins_are_throttled_and_one_time_passwords_must_be_changed(app: TestApp) {
    console_user(&app, &app.marketing, "mira", "mira-password-1", false).await;
    let mut b = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(b.sign_in("mira", "wrong-password").await.status, 401);
    }
    let locked = b.sign_in("mira", "wrong-password").await;
    assert_eq!(locked.status, 401, "the sixth failure is counted and earns the first wait");
    let refused = b.sign_in("mira", "mira-password-1").await;
    assert_eq!(refused.status, 429, "even the right password waits: {}", refused.body);
    assert!(refused.headers.get("retry-after").is_some());
    // The wait ends; a success forgets the login's failures.
    app.set_now(app.now() + chrono::Duration::seconds(5));
    assert_eq!(b.sign_in("mira", "mira-password-1").await.status, 303);

    // A printed one-time password opens only the password page.
    console_user(&app, &app.rep, "rina", "one-time-pass-123", true).await;
    let mut rep = Browser::new(&app);
    let r = rep.sign_in("rina", "one-time-pass-123").await;
    assert_eq!(r.location(), "/hq/password");
    assert_eq!(rep.get("/hq/tasks").await.location(), "/hq/password");
    let page = rep.get("/hq/password").await;
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page);
    let short =
        rep.post("/hq/password", &[("_csrf", &csrf), ("current", "one-time-pass-123"), ("new", "short"), ("repeat", "short")]).await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains("password_too_short"), "{}", short.body);
    let done = rep
        .post(
            "/hq/password",
            &[("_csrf", &csrf), ("current", "one-time-pass-123"), ("new", "rina-own-choice"), ("repeat", "rina-own-choice")],
        )
        .await;
    assert_eq!((done.status, done.location()), (303, "/hq/tasks"), "a rep starts on their tasks");
    assert_eq!(rep.get("/hq/tasks").await.status, 200, "the session goes on after the change");
    let mut again = Browser::new(&app);
    assert_eq!(again.sign_in("rina", "one-time-pass-123").await.status, 401, "the one-time password is spent");
    assert_eq!(again.sign_in("rina", "rina-own-choice").await.location(), "/hq/tasks");
}

async fn state_changes_need_the_csrf_token_and_the_language_is_remembered(app: TestApp) {
    console_user(&app, &app.hq, "hana", "hana-password-1", false).await;
    let mut b = Browser::new(&app);
    // The sign-in form's own token: a POST without the cookie's twin is refused.
    let r = b.post("/hq/login", &[("login", "hana"), ("password", "hana-password-1"), ("_csrf", "forged")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.headers.get("x-error-code").unwrap(), "csrf_failed");
    b.sign_in("hana", "hana-password-1").await;
    let page = b.get("/hq/queue").await;
    let csrf = csrf_of(&page);

    for form in [vec![("locale", "en")], vec![("locale", "en"), ("_csrf", "fp_wrong")]] {
        let r = b.post("/hq/locale", &form).await;
        assert_eq!(r.status, 403, "{form:?}");
        assert!(r.body.contains("csrf_failed"));
    }
    // Another origin is refused even with the token (a page elsewhere cannot post here).
    let r = b.send(Method::POST, "/hq/locale", &[("locale", "en"), ("_csrf", &csrf)], &[("origin", "https://evil.example")]).await;
    assert_eq!(r.status, 403);
    assert!(b.get("/hq/queue").await.body.contains("lang=\"id\""), "nothing changed");

    // With the token as a field, or as the header htmx sends.
    let r = b.post("/hq/locale", &[("locale", "en"), ("_csrf", &csrf), ("back", "/hq/tasks")]).await;
    assert_eq!((r.status, r.location()), (303, "/hq/tasks"));
    let english = b.get("/hq/queue").await;
    assert!(english.body.contains("lang=\"en\"") && english.body.contains("Review queue"), "{}", english.body);
    let r = b.send(Method::POST, "/hq/locale", &[("locale", "xx")], &[("x-csrf-token", &csrf)]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.headers.get("x-error-code").unwrap(), "invalid_locale");
    // Remembered per user: a new session of the same user is English too.
    let mut later = Browser::new(&app);
    later.sign_in("hana", "hana-password-1").await;
    assert!(later.get("/hq/queue").await.body.contains("Review queue"));
}

/// A door visit by the rep with one photo taken at the customer's place, submitted.
pub async fn visit_with_photo(app: &TestApp, customer: Uuid) -> (Uuid, Uuid) {
    visit_with_photo_edited(app, customer, |_| {}).await
}

/// The same, its record `edit`-ed first.
pub async fn visit_with_photo_edited(app: &TestApp, customer: Uuid, edit: impl FnOnce(&mut serde_json::Value)) -> (Uuid, Uuid) {
    let visit = Uuid::new_v4();
    let mut body = app.visit_body(customer, "door_visit", 0);
    edit(&mut body);
    let r = app.put(&format!("/v1/visits/{visit}"), &app.rep.token, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let photo = Uuid::new_v4();
    let r = app.put_photo(visit, photo, &app.rep.token, with_customer_photo(-6.2, 106.8)).await;
    assert!(r.status == 201 || r.status == 200, "{}", r.json);
    let r = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    (visit, photo)
}

async fn the_queue_shows_thumbnails_and_takes_decisions(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let mut visits = Vec::new();
    for _ in 0..4 {
        visits.push(visit_with_photo(&app, customer).await);
    }
    console_user(&app, &app.marketing, "mira", "mira-password-1", false).await;
    let mut b = Browser::new(&app);
    b.sign_in("mira", "mira-password-1").await;
    let queue = b.get("/hq/queue").await;
    assert_eq!(queue.status, 200);
    for (visit, photo) in &visits {
        assert!(queue.body.contains(&format!("id=\"entry-{visit}\"")), "visit {visit} is in the queue");
        assert!(queue.body.contains(&format!("/hq/visits/{visit}/photos/{photo}/thumbnail")));
    }
    assert!(queue.body.contains("Toko Maju Jaya"));

    // The thumbnail: small, made once, stored beside the original, cached by the browser.
    let (visit, photo) = visits[0];
    let objects = app.object_count().await;
    let thumb = b.get(&format!("/hq/visits/{visit}/photos/{photo}/thumbnail")).await;
    assert_eq!(thumb.status, 200);
    assert_eq!(thumb.headers.get("content-type").unwrap(), "image/jpeg");
    assert!(thumb.headers.get("cache-control").unwrap().to_str().unwrap().contains("max-age"));
    assert!(thumb.bytes.len() <= 40 * 1024, "{} bytes", thumb.bytes.len());
    let img = image::load_from_memory(&thumb.bytes).expect("a JPEG");
    assert_eq!(img.width().max(img.height()), 480);
    assert_eq!(app.object_count().await, objects + 1, "stored once beside the original");
    let again = b.get(&format!("/hq/visits/{visit}/photos/{photo}/thumbnail")).await;
    assert_eq!(again.bytes, thumb.bytes);
    assert_eq!(app.object_count().await, objects + 1);
    let full = b.get(&format!("/hq/visits/{visit}/photos/{photo}")).await;
    assert_eq!(full.status, 200);
    assert!(full.bytes.len() > thumb.bytes.len());

    // Branch marketing decides but does not deduct (SOP ch. 9: Marketing HQ deducts points).
    assert!(!queue.body.contains("name=\"deduct_points\""), "no deduction field for branch marketing");
    let csrf = csrf_of(&queue);
    let review_id = Uuid::new_v4().to_string();
    let form = [("_csrf", csrf.as_str()), ("id", &review_id), ("decision", "reject"), ("comment", "Foto buram"), ("deduct_points", "5")];
    let r = b.send(Method::POST, &format!("/hq/visits/{visit}/review"), &form, &[("hx-request", "true")]).await;
    assert_eq!((r.status, r.headers.get("x-error-code").and_then(|v| v.to_str().ok())), (403, Some("deduction_forbidden")));

    // HQ does: one decision through htmx, the entry's new face, and a re-visit task the API lists.
    console_user(&app, &app.hq, "hana", "hana-password-1", false).await;
    let mut b = Browser::new(&app);
    b.sign_in("hana", "hana-password-1").await;
    let queue = b.get("/hq/queue").await;
    assert!(queue.body.contains("name=\"deduct_points\""));
    let csrf = csrf_of(&queue);
    let form = [("_csrf", csrf.as_str()), ("id", &review_id), ("decision", "reject"), ("comment", "Foto buram"), ("deduct_points", "5")];
    let r = b.send(Method::POST, &format!("/hq/visits/{visit}/review"), &form, &[("hx-request", "true")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&format!("id=\"entry-{visit}\"")) && r.body.contains("ditolak"), "{}", r.body);
    let task = r.body.split("<code>").nth(1).and_then(|s| s.split("</code>").next()).expect("the re-visit task is named").to_string();
    let t = app.get(&format!("/v1/tasks/{task}"), &app.rep.token).await;
    assert_eq!((t.status, t.json["task_type"].as_str()), (200, Some("revisit")), "{}", t.json);
    let v = app.get(&format!("/v1/visits/{visit}"), &app.hq.token).await;
    assert_eq!((v.json["review_status"].as_str(), v.json["deducted_points"].as_u64()), (Some("rejected"), Some(5)), "{}", v.json);
    // The same form again (a double click): one review.
    let r = b.send(Method::POST, &format!("/hq/visits/{visit}/review"), &form, &[("hx-request", "true")]).await;
    assert_eq!(r.status, 200);
    let v = app.get(&format!("/v1/visits/{visit}"), &app.hq.token).await;
    assert_eq!(v.json["reviews"].as_array().unwrap().len(), 1, "{}", v.json);

    // Bulk: the other three approved at once, each under its own review id.
    let rids: Vec<(String, String)> = visits[1..].iter().map(|(v, _)| (format!("rid_{v}"), Uuid::new_v4().to_string())).collect();
    let ids: Vec<String> = visits[1..].iter().map(|(v, _)| v.to_string()).collect();
    let mut form: Vec<(&str, &str)> = vec![("_csrf", &csrf), ("decision", "approve")];
    form.extend(ids.iter().map(|v| ("visit", v.as_str())));
    form.extend(rids.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let r = b.send(Method::POST, "/hq/queue/bulk", &form, &[("hx-request", "true")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("3 kunjungan diputuskan"), "{}", r.body);
    assert_eq!(r.body.matches("hx-swap-oob").count(), 3);
    for id in &ids {
        let v = app.get(&format!("/v1/visits/{id}"), &app.hq.token).await;
        assert_eq!(v.json["review_status"], "approved");
    }
    let r = b.send(Method::POST, "/hq/queue/bulk", &[("_csrf", &csrf), ("decision", "approve")], &[("hx-request", "true")]).await;
    assert_eq!(r.status, 422, "nothing selected");
    // Decided visits leave the default queue.
    let queue = b.get("/hq/queue").await;
    assert!(visits.iter().all(|(v, _)| !queue.body.contains(&format!("id=\"entry-{v}\""))));
    assert_eq!(b.get("/hq/queue?status=nonsense").await.status, 400);

    // The visit page: the record, the photo, the map's data, the review with its deduction.
    let page = b.get(&format!("/hq/visits/{visit}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"map-data\"") && page.body.contains("\"radius_m\""), "{}", page.body);
    assert!(page.body.contains("Foto buram") && page.body.contains("−5"));
    assert!(page.body.contains(&task), "the re-visit task is linked");
}

async fn each_role_sees_its_own_in_the_console(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let (visit, photo) = visit_with_photo(&app, customer).await;
    console_user(&app, &app.rep, "rina", "rina-password-1", false).await;
    console_user(&app, &app.rep2, "rudi", "rudi-password-1", false).await;
    console_user(&app, &app.jap_marketing, "petrus", "petrus-password-1", false).await;

    // The rep: their own visit, read-only; no queue.
    let mut rep = Browser::new(&app);
    assert_eq!(rep.sign_in("rina", "rina-password-1").await.location(), "/hq/tasks");
    let tasks = rep.get("/hq/tasks").await;
    assert!(tasks.body.contains(&format!("/hq/visits/{visit}")), "the rep's visits are listed");
    assert!(!tasks.body.contains("href=\"/hq/queue\""), "no queue in a rep's menu");
    let own = rep.get(&format!("/hq/visits/{visit}")).await;
    assert_eq!(own.status, 200);
    assert!(!own.body.contains("name=\"decision\""), "no review controls for a rep");
    assert_eq!(rep.get("/hq/queue").await.status, 403);
    let csrf = csrf_of(&own);
    let r = rep.post(&format!("/hq/visits/{visit}/review"), &[("_csrf", &csrf), ("decision", "approve")]).await;
    assert_eq!(r.status, 403);

    // Another rep, and another branch's marketing: not found, photos included.
    for (login, password) in [("rudi", "rudi-password-1"), ("petrus", "petrus-password-1")] {
        let mut b = Browser::new(&app);
        b.sign_in(login, password).await;
        assert_eq!(b.get(&format!("/hq/visits/{visit}")).await.status, 404, "{login}");
        assert_eq!(b.get(&format!("/hq/visits/{visit}/photos/{photo}/thumbnail")).await.status, 404, "{login}");
        assert_eq!(b.get(&format!("/hq/visits/{visit}/photos/{photo}")).await.status, 404, "{login}");
    }
    let mut petrus = Browser::new(&app);
    petrus.sign_in("petrus", "petrus-password-1").await;
    let queue = petrus.get("/hq/queue").await;
    assert_eq!(queue.status, 200);
    assert!(!queue.body.contains(&visit.to_string()), "JAP's marketing does not see a JKT visit");
    assert!(!queue.body.contains(&format!("value=\"{}\"", app.jkt)), "nor JKT in the branch filter");
}

async fn the_task_list_counts_filters_and_manages_tasks(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let code = app.get(&format!("/v1/customers/{customer}"), &app.hq.token).await.json["code"].as_str().unwrap().to_string();
    let (visit, _) = visit_with_photo(&app, customer).await;
    console_user(&app, &app.marketing, "mira", "mira-password-1", false).await;
    let mut b = Browser::new(&app);
    b.sign_in("mira", "mira-password-1").await;
    let page = b.get("/hq/tasks").await;
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page);
    let counts = |p: &Page, which: &str| -> i64 {
        let at = p.body.find(&format!("id=\"count-{which}\">")).unwrap_or_else(|| panic!("no {which} count"));
        let rest = &p.body[at + which.len() + 12..];
        rest[..rest.find('<').unwrap()].parse().unwrap()
    };
    let open_before = counts(&page, "open");

    // Add a manual task by customer code; the same form twice adds one.
    let id = Uuid::new_v4().to_string();
    let today = crate::helpers::today_in(chrono_tz::Asia::Jakarta).to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("id", &id),
        ("customer", &code),
        ("assignee_id", &app.rep.id.to_string()),
        ("due_date", &today),
        ("required_method", "door_visit"),
        ("note", "Cek stok"),
    ];
    for _ in 0..2 {
        let r = b.post("/hq/tasks", &form).await;
        assert_eq!((r.status, r.location()), (303, "/hq/tasks?done=added"), "{}", r.body);
    }
    let page = b.get("/hq/tasks?done=added").await;
    assert_eq!(counts(&page, "open"), open_before + 1);
    assert!(page.body.contains(&format!("id=\"task-{id}\"")) && page.body.contains("Tugas ditambahkan"));
    let t = app.get(&format!("/v1/tasks/{id}"), &app.rep.token).await;
    assert_eq!((t.json["task_type"].as_str(), t.json["origin"].as_str()), (Some("manual"), Some("manual")), "{}", t.json);

    // Filters: by type, by customer name (any case), by class; counts follow the filter.
    let manual = b.get("/hq/tasks?task_type=manual").await;
    assert_eq!(counts(&manual, "open"), 1);
    assert!(b.get("/hq/tasks?customer=maju%20JAYA").await.body.contains(&format!("id=\"task-{id}\"")));
    assert!(!b.get("/hq/tasks?customer=nobody").await.body.contains(&format!("id=\"task-{id}\"")));
    assert!(!b.get("/hq/tasks?class=lost").await.body.contains(&format!("id=\"task-{id}\"")));
    assert_eq!(b.get("/hq/tasks?class=Z").await.status, 400);
    // Ownership, DP and the month's volume (this customer: HQ's own, no DP, nothing shipped).
    assert!(b.get("/hq/tasks?ownership=hq").await.body.contains(&format!("id=\"task-{id}\"")));
    assert!(!b.get("/hq/tasks?ownership=agent").await.body.contains(&format!("id=\"task-{id}\"")));
    assert!(!b.get("/hq/tasks?dp=DP-9").await.body.contains(&format!("id=\"task-{id}\"")));
    assert!(b.get("/hq/tasks?current_volume_max=0").await.body.contains(&format!("id=\"task-{id}\"")));
    assert!(!b.get("/hq/tasks?previous_volume_min=1").await.body.contains(&format!("id=\"task-{id}\"")));
    assert_eq!(b.get("/hq/tasks?current_volume_min=lots").await.status, 400);
    // The calendar puts it on its day.
    let month = b.get("/hq/tasks?view=month").await;
    assert_eq!(month.status, 200);
    assert!(month.body.contains(&format!("data-date=\"{today}\"")));
    assert!(b.get("/hq/tasks?view=week").await.body.contains("class=\"calendar\""));

    // Give it to the other rep; the API sees the change; an unknown rep is refused.
    let r = b.post(&format!("/hq/tasks/{id}/assign"), &[("_csrf", &csrf), ("assignee_id", &app.rep2.id.to_string())]).await;
    assert_eq!(r.location(), "/hq/tasks?done=assigned");
    assert_eq!(app.get(&format!("/v1/tasks/{id}"), &app.hq.token).await.json["assignee_id"], app.rep2.id.to_string());
    let r = b.post(&format!("/hq/tasks/{id}/assign"), &[("_csrf", &csrf), ("assignee_id", &app.jap_rep.id.to_string())]).await;
    assert_eq!(r.status, 422, "a rep of another branch");
    let r = app.post(&format!("/v1/tasks/{id}/assign"), &app.marketing.token, json!({ "assignee_id": app.rep.id })).await;
    assert_eq!((r.status, r.json["assignee_id"].as_str()), (200, Some(app.rep.id.to_string().as_str())));
    assert_eq!(
        app.post(&format!("/v1/tasks/{id}/assign"), &app.rep.token, json!({ "assignee_id": app.rep.id })).await.code(),
        "role_forbidden"
    );

    // Delete: the manual task goes; a task that is not manual, or that a visit named, stays.
    let planned = app.get(&format!("/v1/visits/{visit}"), &app.hq.token).await.json["revisit_task_id"].as_str().map(str::to_string);
    if let Some(revisit) = planned {
        let r = b.post(&format!("/hq/tasks/{revisit}/delete"), &[("_csrf", &csrf)]).await;
        assert_eq!((r.status, r.headers.get("x-error-code").unwrap().to_str().unwrap()), (409, "task_not_manual"));
    }
    let r = b.post(&format!("/hq/tasks/{id}/delete"), &[("_csrf", &csrf)]).await;
    assert_eq!(r.location(), "/hq/tasks?done=deleted");
    assert_eq!(app.get(&format!("/v1/tasks/{id}"), &app.hq.token).await.status, 404);
    let followed = Uuid::new_v4();
    let r = app
        .post(
            "/v1/tasks",
            &app.marketing.token,
            json!({ "id": followed, "customer_id": customer, "assignee_id": app.rep.id, "task_type": "manual",
                    "required_method": "any", "due_date": today }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let mut body = app.visit_body(customer, "phone", 0);
    body["task_id"] = json!(followed);
    assert_eq!(app.put(&format!("/v1/visits/{}", Uuid::new_v4()), &app.rep.token, body).await.status, 201);
    let r = app.send(Method::DELETE, &format!("/v1/tasks/{followed}"), Some(&app.marketing.token), crate::helpers::Body::None).await;
    assert_eq!(r.code(), "task_followed_up", "a visit names it");
    let r = app.send(Method::DELETE, &format!("/v1/tasks/{followed}"), Some(&app.rep.token), crate::helpers::Body::None).await;
    assert_eq!(r.code(), "role_forbidden");
}
