//! `spawn_app`: a real server on port 0 with a fresh database and object store — a SQLite file
//! with a directory of photos, or a new PostgreSQL database with a new bucket on a real Garage
//! (see `garage.rs`) — seeded with two branches and users of every
//! role. Every response is checked against `openapi.yaml` by [`TestApp::send`].

use std::sync::Arc;

use fieldproof::app::auth::token_hash;
use fieldproof::app::App;
use fieldproof::config::Settings;
use fieldproof::domain::directory::{Branch, User};
use fieldproof::domain::ids::{BranchId, UserId};
use fieldproof::domain::policy::ClockTime;
use fieldproof::domain::role::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::contract;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Generates `mod name { sqlite, postgres }` for each `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_some() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Db::Postgres).await).await
                }
            }
        }
    )*};
}

/// Generates `mod name { sqlite, postgres }` for each `async fn name(db: Db)`: for tests that
/// start their server themselves (with settings or parts of their own).
#[macro_export]
macro_rules! backend_db_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_some() {
                    super::$name($crate::helpers::Db::Postgres).await
                }
            }
        }
    )*};
}

/// The PostgreSQL server to create test databases on: `DATABASE_URL` when it is a postgres
/// URL. Without it the PostgreSQL leg is skipped — unless `FIELDPROOF_REQUIRE_POSTGRES=1`
/// (set by `.ci/run`), where skipping would hide a broken backend.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("DATABASE_URL").ok().filter(|u| u.starts_with("postgres"));
    if url.is_none() {
        if std::env::var("FIELDPROOF_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("FIELDPROOF_REQUIRE_POSTGRES=1 but DATABASE_URL is not a postgres:// URL");
        }
        crate::garage::skipped("the PostgreSQL leg (DATABASE_URL is not a postgres:// URL)");
    }
    url
}

/// The server's clock in tests: the wall clock until a test sets an instant (deadlines, business
/// hours and day boundaries are then exact, whenever the suite runs).
#[derive(Default)]
pub struct TestClock(std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>);

impl fieldproof::app::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.lock().unwrap().unwrap_or_else(chrono::Utc::now)
    }
}

/// Held by the tests that load the whole machine — the kill -9 fault tests, whose phones must
/// get an upload through between two kills, and the browser tests, whose Chromium takes a core —
/// so that they never starve one another when the suite runs them in parallel.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Login {
    pub id: Uuid,
    pub token: String,
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub app: App,
    pub client: reqwest::Client,
    pub jkt: Uuid,
    pub jap: Uuid,
    /// Two reps, a branch marketer and a supervisor in JKT; a marketer in JAP; HQ; admin.
    pub rep: Login,
    pub rep2: Login,
    pub marketing: Login,
    pub jap_marketing: Login,
    pub jap_rep: Login,
    pub hq: Login,
    pub admin: Login,
    /// The JKT branch's supervisor.
    pub supervisor: Login,
    pub clock: Arc<TestClock>,
    /// The server's database URL.
    pub database_url: String,
    /// The next of the rendered SOP-day chats (`fixtures/screenshots/sop-N.png`) to hand out.
    pub next_chat: std::sync::atomic::AtomicUsize,
    /// Stops the server when the test is done with it.
    server: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

/// A test that is done with its server stops it: its workers (and their database connections)
/// go now, not when the whole test ends — a test that makes twenty servers would otherwise hold
/// twenty pools open at once and run PostgreSQL out of connections.
impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; waiting for it is not needed.
        drop(self.server.stop(false));
    }
}

/// A response with its body parsed (JSON or problem+json) or raw.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Resp {
    /// A response header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The problem `code`, asserting the body is problem+json.
    pub fn code(&self) -> &str {
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(ct, "application/problem+json", "status {} body {}", self.status, self.json);
        self.json["code"].as_str().unwrap_or("")
    }
}

pub async fn new_postgres_database(base: &str) -> String {
    use sqlx::Connection;
    let name = format!("fp_test_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(base).await.expect("connect to DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    // Replace the database name (the path) of the base URL.
    let (prefix, rest) = base.split_at(base.find("://").unwrap() + 3);
    let (authority, query) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default()),
        None => (rest, String::new()),
    };
    format!("{prefix}{authority}/{name}{query}")
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, false, |_| {}).await
}

/// A server with some settings of the test's own (small export limits, say).
pub async fn spawn_app_tuned(db: Db, tune: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(db, false, tune).await
}

/// A server with the SOP's business hours (09:00–17:00, lunch 12:00–13:00), for tests that set
/// the clock.
pub async fn spawn_app_sop(db: Db) -> TestApp {
    spawn_app_with(db, true, |_| {}).await
}

async fn spawn_app_with(db: Db, sop_hours: bool, tune: impl FnOnce(&mut Settings)) -> TestApp {
    fieldproof::telemetry::init_for_tests();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.server.listen = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.database.max_connections = 5;
    // Job tests drive workers themselves; a background one would race them for their jobs.
    settings.jobs.enabled = false;
    settings.database.url = match db {
        Db::Sqlite => format!("sqlite://{}/fieldproof.db", dir.path().display()),
        Db::Postgres => new_postgres_database(&postgres_url().expect("postgres url")).await,
    };
    let objects_dir = dir.path().join("objects");
    // SQLite runs with photos on disk (the embedded default), PostgreSQL with a real Garage
    // bucket when the machine has Garage (`.ci/run` makes sure it does).
    settings.storage = match db {
        Db::Postgres => match crate::garage::garage() {
            Some(garage) => garage.new_bucket(),
            None => fieldproof::config::StorageSettings { url: format!("file://{}", objects_dir.display()), ..Default::default() },
        },
        Db::Sqlite => fieldproof::config::StorageSettings { url: format!("file://{}", objects_dir.display()), ..Default::default() },
    };
    tune(&mut settings);
    let mut app = fieldproof::startup::build_app(&settings).await.expect("build app");
    // A smaller cap than production so the oversize test sends little.
    let mut policy = (*app.policy).clone();
    policy.photo.max_bytes = 8 * 1024 * 1024;
    if !sop_hours {
        // Most tests visit at the wall clock's now, whatever the hour the suite runs; business
        // hours are tested at a fixed clock with the SOP's hours (`rules.rs`, `spawn_app_sop`).
        policy.visit.business_hours_start = ClockTime::hm(0, 0);
        policy.visit.business_hours_end = ClockTime::hm(24, 0);
        policy.visit.lunch_end = policy.visit.lunch_start;
    }
    app.policy = Arc::new(policy);
    let clock = Arc::new(TestClock::default());
    app.clock = clock.clone();
    let application = fieldproof::startup::Application::with_app(app.clone(), &settings).expect("bind");
    let address = format!("http://127.0.0.1:{}", application.port());
    let server = application.handle();
    tokio::spawn(application.run_until_stopped());

    let now = chrono::Utc::now();
    let jkt = Uuid::new_v4();
    let jap = Uuid::new_v4();
    app.repo
        .upsert_branch(&Branch {
            id: BranchId(jkt),
            code: "JKT".into(),
            name: "Jakarta".into(),
            time_zone: chrono_tz::Asia::Jakarta,
            working_days: fieldproof::domain::directory::MONDAY_TO_FRIDAY,
        })
        .await
        .unwrap();
    app.repo
        .upsert_branch(&Branch {
            id: BranchId(jap),
            code: "JAP".into(),
            name: "Jayapura".into(),
            time_zone: chrono_tz::Asia::Jayapura,
            working_days: fieldproof::domain::directory::MONDAY_TO_FRIDAY,
        })
        .await
        .unwrap();
    let user = |role: Role, branch: Option<Uuid>| {
        let id = Uuid::new_v4();
        let token = fieldproof::app::auth::new_token();
        (
            User {
                id: UserId(id),
                name: format!("{}-{}", role.as_str(), &id.simple().to_string()[..6]),
                role,
                branch_id: branch.map(BranchId),
            },
            Login { id, token },
        )
    };
    let users = [
        user(Role::Sales, Some(jkt)),
        user(Role::Sales, Some(jkt)),
        user(Role::BranchMarketing, Some(jkt)),
        user(Role::BranchMarketing, Some(jap)),
        user(Role::Sales, Some(jap)),
        user(Role::Hq, None),
        user(Role::Admin, None),
        user(Role::Supervisor, Some(jkt)),
    ];
    for (u, t) in &users {
        app.repo.upsert_user(u, now).await.unwrap();
        app.repo.add_token(u.id, &token_hash(&t.token), "test", now).await.unwrap();
    }
    let [rep, rep2, marketing, jap_marketing, jap_rep, hq, admin, supervisor] = users.map(|(_, t)| t);
    TestApp {
        address,
        db,
        app,
        // Redirects are the API's answer to check, not something to follow.
        client: reqwest::Client::builder()
            // Generous: the whole suite runs its servers, OCR processes and browsers on 2 cores.
            .timeout(std::time::Duration::from_secs(180))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        jkt,
        jap,
        rep,
        rep2,
        marketing,
        jap_marketing,
        jap_rep,
        hq,
        admin,
        supervisor,
        clock,
        database_url: settings.database.url.clone(),
        next_chat: std::sync::atomic::AtomicUsize::new(0),
        server,
        _dir: dir,
    }
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/photos/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// A real fixture as if taken a minute ago in Jakarta: its EXIF times are rewritten in place
/// (same length, so every offset stays valid) and its GPS date stamp is blanked, so the
/// photo's clocks agree with today's visit. Everything else is the camera's own.
pub fn fresh(name: &str) -> Vec<u8> {
    fresh_at(name, chrono::Utc::now() - chrono::Duration::minutes(1))
}

/// A real fixture as if taken at `at` in Jakarta (see [`fresh`]).
pub fn fresh_at(name: &str, at: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let mut bytes = fixture(name);
    let exif: Value = serde_json::from_slice(&fixture("expected-exiftool.json")).unwrap();
    let entry = exif.as_array().unwrap().iter().find(|e| e["FileName"] == name).expect("fixture in expected-exiftool.json");
    let old = entry["DateTimeOriginal"].as_str().expect("fixture has a DateTimeOriginal").as_bytes().to_vec();
    let now = at.with_timezone(&chrono_tz::Asia::Jakarta);
    let new = now.format("%Y:%m:%d %H:%M:%S").to_string().into_bytes();
    replace_all(&mut bytes, &old, &new);
    let mut gps_date = old[..10].to_vec();
    gps_date.push(0);
    replace_all(&mut bytes, &gps_date, b"0000:00:00\0");
    bytes
}

fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

/// A photo of the rep with the customer, taken just now at the customer's place: two frontal
/// faces (a crop of the public-domain 1927 Solvay photograph), with the app's own time and GPS.
pub fn with_customer_photo(lat: f64, lon: f64) -> reqwest::multipart::Form {
    with_customer_photo_at(lat, lon, chrono::Utc::now())
}

/// [`with_customer_photo`] taken at `at`.
pub fn with_customer_photo_at(lat: f64, lon: f64, at: chrono::DateTime<chrono::Utc>) -> reqwest::multipart::Form {
    let now = at.to_rfc3339();
    let (lat, lon) = (lat.to_string(), lon.to_string());
    photo_form(
        "with_customer",
        fixture("solvay-1927-crop.jpg"),
        &[("captured_at", &now), ("latitude", &lat), ("longitude", &lon), ("accuracy_m", "8")],
    )
}

/// A phone-screen PNG (1080 × 2340, no camera EXIF), different bytes and picture each call.
pub fn screenshot() -> Vec<u8> {
    let seed = Uuid::new_v4().as_u128();
    let img = image::RgbImage::from_fn(1080, 2340, |x, y| {
        let v = ((x / 40 + y / 40) as u128 ^ (seed >> ((y / 200) % 100))) as u8;
        image::Rgb([230, 240u8.wrapping_sub(v % 16), 220])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A WhatsApp chat with "Toko Maju Jaya" on 18 November 2026 (rendered in Chromium by
/// `fixtures/screenshots/render.py`), a different conversation each call of this app (six).
pub fn sop_day_chat(app: &TestApp) -> Vec<u8> {
    let n = app.next_chat.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    assert!(n < 6, "six SOP-day chats are rendered; render more for more WhatsApp visits");
    std::fs::read(format!("{}/fixtures/screenshots/sop-{}.png", env!("CARGO_MANIFEST_DIR"), n + 1)).unwrap()
}

/// A photo upload form.
pub fn photo_form(kind: &str, bytes: Vec<u8>, extra: &[(&str, &str)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().text("kind", kind.to_string());
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    form.part("file", reqwest::multipart::Part::bytes(bytes).file_name("photo.jpg"))
}

pub enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
    Form(reqwest::multipart::Form),
}

impl TestApp {
    /// Sends a request and checks the response against openapi.yaml.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Body) -> Resp {
        let mut req = self.client.request(method.clone(), format!("{}{}", self.address, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(ct, bytes) => req.header("content-type", ct).body(bytes),
            Body::Form(f) => req.multipart(f),
        };
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap().to_vec();
        let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let json = if ct.contains("json") { serde_json::from_slice(&bytes).unwrap_or(Value::Null) } else { Value::Null };
        contract::check_response(method.as_str(), path, status, &ct, &json);
        Resp { status, headers, json, bytes }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), Body::None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(token), Body::Json(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(token), Body::Json(body)).await
    }
    /// Uploads a phone follow-up's evidence: a screenshot of the call log.
    pub async fn call_log(&self, visit: Uuid, token: &str) {
        let r = self.put_photo(visit, Uuid::new_v4(), token, photo_form("call_log_screenshot", screenshot(), &[])).await;
        assert_eq!(r.status, 201, "{}", r.json);
    }

    pub async fn put_photo(&self, visit: Uuid, photo: Uuid, token: &str, form: reqwest::multipart::Form) -> Resp {
        self.send(Method::PUT, &format!("/v1/visits/{visit}/photos/{photo}"), Some(token), Body::Form(form)).await
    }

    /// Creates a JKT customer (as branch marketing) at a position, assigned to `rep`.
    pub async fn customer_at(&self, lat: f64, lon: f64) -> Uuid {
        let code = format!("C{}", &Uuid::new_v4().simple().to_string()[..10]);
        let r = self
            .post(
                "/v1/customers",
                &self.marketing.token,
                json!({
                    "code": code, "name": "Toko Maju Jaya", "customer_type": "retail",
                    "assigned_rep_id": self.rep.id, "latitude": lat, "longitude": lon,
                    "contact_name": "Bu Sari", "contact_position": "Pemilik", "contact_phone": "+62 812 1111 2222"
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.json["id"].as_str().unwrap().parse().unwrap()
    }

    /// A complete visit body for `customer`, visited `hours_ago`.
    pub fn visit_body(&self, customer: Uuid, method: &str, hours_ago: i64) -> Value {
        crate::visit_json::visit_json(customer, method, self.now() - chrono::Duration::hours(hours_ago))
    }

    /// The server's now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        fieldproof::app::Clock::now(self.clock.as_ref())
    }

    /// Stops the server's clock at `at`.
    pub fn set_now(&self, at: chrono::DateTime<chrono::Utc>) {
        *self.clock.0.lock().unwrap() = Some(at);
    }

    /// Where the customer of the Samsung fixture stands (its EXIF GPS: Paris, 48.8925, 2.2364).
    pub async fn customer_at_samsung_photo(&self) -> Uuid {
        self.customer_at(48.8925, 2.236_388_9).await
    }

    /// Photo objects in the store (the directory or the Garage bucket), listed by the store.
    pub async fn object_count(&self) -> usize {
        self.app.store.list("photos/").await.expect("list the object store").len()
    }
}

/// Today's date in a time zone.
pub fn today_in(tz: chrono_tz::Tz) -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// Every Rust file under `src/`: its path from `src/` (`app/photos.rs`) and its code before its
/// `#[cfg(test)]` module, for the tests that read the source (layers, error codes).
pub fn source_files() -> Vec<(String, String)> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or_default().to_string();
                out.push((path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/"), code));
            }
        }
    }
    out.sort();
    out
}
