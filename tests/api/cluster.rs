//! Real server processes (the `fieldproof` binary), not servers inside the test process:
//!
//! - three instances on one PostgreSQL and one Garage bucket: any instance sees what another
//!   wrote, the periodic jobs run once among them, and killing one loses nothing;
//! - the fault test: simulated phones submit visits with photos and retry on any error or
//!   timeout while the server is killed with SIGKILL at random moments and restarted; afterwards
//!   every visit exists once, submitted, with all its photos, and the store holds no orphan.
//!   On SQLite + files and on PostgreSQL + Garage.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldproof::app::auth::token_hash;
use fieldproof::config::{Settings, StorageSettings};
use fieldproof::db::Repo;
use fieldproof::domain::directory::{Branch, User};
use fieldproof::domain::ids::{BranchId, UserId};
use fieldproof::domain::role::Role;
use rand::Rng;
use serde_json::{json, Value};
use sha2::Digest;
use uuid::Uuid;

use crate::helpers::{fixture, new_postgres_database, photo_form, postgres_url};

/// One `fieldproof serve` process on a fixed loopback port.
struct Instance {
    port: u16,
    env: Vec<(String, String)>,
    log: std::path::PathBuf,
    child: Option<Child>,
}

impl Instance {
    fn start(settings: &Settings, log: std::path::PathBuf) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let env = vec![
            ("FIELDPROOF__SERVER__LISTEN".into(), format!("127.0.0.1:{port}")),
            ("FIELDPROOF__SERVER__WORKERS".into(), "2".into()),
            ("FIELDPROOF__DATABASE__URL".into(), settings.database.url.clone()),
            ("FIELDPROOF__DATABASE__MAX_CONNECTIONS".into(), "4".into()),
            ("FIELDPROOF__STORAGE__URL".into(), settings.storage.url.clone()),
            ("FIELDPROOF__STORAGE__ACCESS_KEY_ID".into(), settings.storage.access_key_id.clone()),
            ("FIELDPROOF__STORAGE__SECRET_ACCESS_KEY".into(), settings.storage.secret_access_key.expose().to_string()),
            ("FIELDPROOF__JOBS__POLL_INTERVAL_MS".into(), "100".into()),
            ("RUST_LOG".into(), "warn,fieldproof=info".into()),
        ];
        let mut instance = Instance { port, env, log, child: None };
        instance.spawn();
        instance
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_fieldproof"));
        command.arg("serve").envs(self.env.iter().cloned()).stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log);
        crate::garage::die_with_parent(&mut command);
        self.child = Some(command.spawn().expect("start the fieldproof binary"));
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no shutdown code runs.
    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn wait_ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", self.url())).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "instance on {} not ready:\n{}",
                self.port,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill9();
    }
}

struct Seeded {
    rep: (Uuid, String),
    marketing: String,
}

/// A JKT branch with a rep and a branch marketer, written straight to the database the servers
/// migrated.
async fn seed(repo: &dyn Repo) -> Seeded {
    let now = chrono::Utc::now();
    let jkt = BranchId(Uuid::new_v4());
    repo.upsert_branch(&Branch {
        id: jkt,
        code: "JKT".into(),
        name: "Jakarta".into(),
        time_zone: chrono_tz::Asia::Jakarta,
        working_days: fieldproof::domain::directory::MONDAY_TO_FRIDAY,
    })
    .await
    .unwrap();
    let mut logins = Vec::new();
    for role in [Role::Sales, Role::BranchMarketing] {
        let id = Uuid::new_v4();
        let token = fieldproof::app::auth::new_token();
        repo.upsert_user(
            &User { id: UserId(id), name: format!("{}-{}", role.as_str(), &id.simple().to_string()[..6]), role, branch_id: Some(jkt) },
            now,
        )
        .await
        .unwrap();
        repo.add_token(UserId(id), &token_hash(&token), "test", now).await.unwrap();
        logins.push((id, token));
    }
    let marketing = logins.pop().unwrap().1;
    Seeded { rep: logins.pop().unwrap(), marketing }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap()
}

async fn create_customer(client: &reqwest::Client, base: &str, seeded: &Seeded) -> Uuid {
    let code = format!("C{}", &Uuid::new_v4().simple().to_string()[..10]);
    let r = client
        .post(format!("{base}/v1/customers"))
        .bearer_auth(&seeded.marketing)
        .json(&json!({ "code": code, "name": "Toko Maju Jaya", "customer_type": "retail", "assigned_rep_id": seeded.rep.0,
                       "latitude": -6.2, "longitude": 106.8, "contact_name": "Bu Sari", "contact_position": "Pemilik", "contact_phone": "+62 812 1111 2222" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap()
}

fn visit_body(customer: Uuid) -> Value {
    crate::visit_json::visit_json(customer, "door_visit", chrono::Utc::now() - chrono::Duration::minutes(5))
}

/// The photos of the simulated phones: two per visit, small real photos.
fn photo_bytes() -> [(&'static str, Vec<u8>); 2] {
    [("storefront", fixture("photoshop-cs6-export.jpg")), ("with_customer", fixture("solvay-1927-crop.jpg"))]
}

/// Sends one step of a phone's visit until the server answers it; any transport error, timeout
/// or 5xx is retried with the same ids, as the app does.
async fn until_answered(what: &str, mut send: impl FnMut() -> reqwest::RequestBuilder) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut retries = 0;
    loop {
        match send().send().await {
            Ok(r) if r.status().is_server_error() => {}
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.json::<Value>().await.unwrap_or(Value::Null);
                return (status, body);
            }
            Err(_) => {}
        }
        retries += 1;
        assert!(Instant::now() < deadline, "{what}: no answer after {retries} tries");
        let pause = 100 + rand::thread_rng().gen_range(0..200);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// One phone: `visits` visits of two photos each, submitted; every step retried until answered.
async fn phone(base: Arc<String>, token: String, customer: Uuid, visits: usize) -> Vec<Uuid> {
    let client = client();
    let photos = photo_bytes();
    let mut done = Vec::new();
    for _ in 0..visits {
        let visit = Uuid::new_v4();
        let (status, body) =
            until_answered("put visit", || client.put(format!("{base}/v1/visits/{visit}")).bearer_auth(&token).json(&visit_body(customer)))
                .await;
        assert!(status == 201 || status == 200, "put visit: {status} {body}");
        for (kind, bytes) in &photos {
            let photo = Uuid::new_v4();
            let (status, body) = until_answered("put photo", || {
                client.put(format!("{base}/v1/visits/{visit}/photos/{photo}")).bearer_auth(&token).multipart(photo_form(
                    kind,
                    bytes.clone(),
                    &[],
                ))
            })
            .await;
            assert!(status == 201 || status == 200, "put photo: {status} {body}");
        }
        let (status, body) =
            until_answered("submit", || client.post(format!("{base}/v1/visits/{visit}/submit")).bearer_auth(&token).json(&json!({}))).await;
        assert_eq!(status, 200, "submit: {body}");
        done.push(visit);
    }
    done
}

/// Every visit is there once, submitted, with its two photos and their exact bytes; the store
/// holds exactly the photos' objects once the orphan sweep has run with no grace.
async fn check_nothing_lost_or_doubled(settings: &Settings, base: &str, token: &str, visits: &[Uuid]) {
    let client = client();
    let photos = photo_bytes();
    let expected: HashSet<String> = photos.iter().map(|(_, b)| hex::encode(sha2::Sha256::digest(b))).collect();
    for visit in visits {
        let r = client.get(format!("{base}/v1/visits/{visit}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200, "visit {visit}");
        let v: Value = r.json().await.unwrap();
        assert!(
            ["compliant", "flagged", "non_compliant"].contains(&v["status"].as_str().unwrap()),
            "visit {visit} submitted: {}",
            v["status"]
        );
        assert!(v["submitted_at"].is_string(), "visit {visit}");
        let stored = v["photos"].as_array().unwrap();
        assert_eq!(stored.len(), 2, "visit {visit} has exactly its two photos: {}", v["photos"]);
        let mut hashes = HashSet::new();
        for p in stored {
            let r = client
                .get(format!("{base}/v1/visits/{visit}/photos/{}/content", p["id"].as_str().unwrap()))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            hashes.insert(hex::encode(sha2::Sha256::digest(r.bytes().await.unwrap())));
        }
        assert_eq!(hashes, expected, "visit {visit}: the photos' bytes are whole");
    }
    let r = client.get(format!("{base}/v1/visits?limit=200")).bearer_auth(token).send().await.unwrap();
    let listed: Value = r.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), visits.len(), "no visit doubled");

    let app = fieldproof::startup::build_app(settings).await.unwrap();
    let swept = fieldproof::app::jobs::sweep_orphans(&app, Duration::ZERO).await.unwrap();
    eprintln!("orphan sweep after the run: {swept} objects of interrupted uploads deleted");
    assert_eq!(app.store.list("photos/").await.unwrap().len(), visits.len() * 2, "no orphan object left");
}

/// Settings for a fresh database and object store of the given kind, or `None` when the machine
/// lacks PostgreSQL or Garage (and neither is required).
async fn backend(postgres: bool, dir: &std::path::Path) -> Option<Settings> {
    let mut settings = Settings::default();
    if postgres {
        let url = postgres_url()?;
        let garage = crate::garage::garage()?;
        settings.database.url = new_postgres_database(&url).await;
        settings.storage = garage.new_bucket();
    } else {
        settings.database.url = format!("sqlite://{}/fieldproof.db", dir.display());
        settings.storage = StorageSettings { url: format!("file://{}/objects", dir.display()), ..Default::default() };
    }
    Some(settings)
}

async fn fault_test(postgres: bool) {
    let _heavy = crate::helpers::HEAVY.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(settings) = backend(postgres, dir.path()).await else { return };
    let mut server = Instance::start(&settings, dir.path().join("server.log"));
    let client = client();
    server.wait_ready(&client).await;
    let repo = fieldproof::db::connect(&settings.database.url, 2).await.unwrap();
    let seeded = seed(repo.as_ref()).await;
    let base = Arc::new(server.url());
    let customer = create_customer(&client, &base, &seeded).await;

    let phones: Vec<_> = (0..8).map(|_| tokio::spawn(phone(base.clone(), seeded.rep.1.clone(), customer, 3))).collect();
    // Kill the server at random moments until every phone is through, restarting it each time.
    let mut kills = 0;
    while !phones.iter().all(|p| p.is_finished()) {
        let pause = rand::thread_rng().gen_range(200..1200);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if phones.iter().all(|p| p.is_finished()) {
            break;
        }
        server.kill9();
        kills += 1;
        let pause = rand::thread_rng().gen_range(0..300);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.spawn();
        server.wait_ready(&client).await;
    }
    let mut visits = Vec::new();
    for p in phones {
        visits.extend(p.await.expect("a phone gave up"));
    }
    eprintln!(
        "fault test ({}): {} visits submitted through {kills} kills",
        if postgres { "PostgreSQL + Garage" } else { "SQLite + files" },
        visits.len()
    );
    assert!(kills >= 3, "the server was killed while phones were working ({kills} kills)");
    assert_eq!(visits.len(), 24);
    check_nothing_lost_or_doubled(&settings, &base, &seeded.rep.1, &visits).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_retrying_through_kill_9_lose_and_double_nothing_sqlite() {
    fault_test(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_retrying_through_kill_9_lose_and_double_nothing_postgres_garage() {
    fault_test(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_one_database_and_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let Some(settings) = backend(true, dir.path()).await else { return };
    let client = client();
    // The first migrates; then two more join.
    let mut instances = vec![Instance::start(&settings, dir.path().join("a.log"))];
    instances[0].wait_ready(&client).await;
    instances.push(Instance::start(&settings, dir.path().join("b.log")));
    instances.push(Instance::start(&settings, dir.path().join("c.log")));
    for i in &instances[1..] {
        i.wait_ready(&client).await;
    }
    let repo = fieldproof::db::connect(&settings.database.url, 2).await.unwrap();
    let seeded = seed(repo.as_ref()).await;
    let token = seeded.rep.1.clone();
    let urls: Vec<String> = instances.iter().map(Instance::url).collect();

    // Written through one, read through the others.
    let customer = create_customer(&client, &urls[0], &seeded).await;
    let mut visits = Vec::new();
    for (n, writer) in urls.iter().enumerate() {
        let visits_of_this = phone(Arc::new(writer.clone()), token.clone(), customer, 2).await;
        for reader in urls.iter().filter(|u| *u != writer) {
            for visit in &visits_of_this {
                let r = client.get(format!("{reader}/v1/visits/{visit}")).bearer_auth(&token).send().await.unwrap();
                assert_eq!(r.status(), 200, "visit written via instance {n} read via {reader}");
                let v: Value = r.json().await.unwrap();
                let photo = v["photos"][0]["id"].as_str().unwrap().to_string();
                let r = client.get(format!("{reader}/v1/visits/{visit}/photos/{photo}/content")).bearer_auth(&token).send().await.unwrap();
                assert_eq!(r.status(), 200, "photo bytes from the shared bucket");
            }
        }
        visits.extend(visits_of_this);
    }

    // Every instance's worker enqueues the periodic jobs each minute; each ran once.
    let deadline = Instant::now() + Duration::from_secs(30);
    let periodic: Vec<(String, String, i64, Option<String>)> = loop {
        let rows: Vec<(String, String, i64, Option<String>)> = match &settings.database.url {
            url if url.starts_with("postgres") => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::query_as(
                    "SELECT kind, status, attempts, locked_by FROM jobs WHERE kind IN ('orphan_sweep', 'prune_jobs') ORDER BY kind",
                )
                .fetch_all(&pool)
                .await
                .unwrap()
            }
            _ => unreachable!("this test runs on PostgreSQL"),
        };
        if rows.len() >= 2 && rows.iter().all(|r| r.1 == "done") {
            break rows;
        }
        assert!(Instant::now() < deadline, "periodic jobs not done: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let kinds: Vec<&str> = periodic.iter().map(|r| r.0.as_str()).collect();
    // Two sweeps only if the test straddled a ten-minute boundary.
    assert!(kinds == ["orphan_sweep", "prune_jobs"] || kinds == ["orphan_sweep", "orphan_sweep", "prune_jobs"], "{periodic:?}");
    assert!(periodic.iter().all(|r| r.2 == 1), "each ran in one attempt: {periodic:?}");
    let runners: HashSet<&str> = periodic.iter().filter_map(|r| r.3.as_deref()).collect();
    eprintln!("periodic jobs run by {runners:?}");

    // One instance dies hard; the others still serve everything it wrote.
    instances[2].kill9();
    check_nothing_lost_or_doubled(&settings, &urls[0], &token, &visits).await;
    let r = client.get(format!("{}/readyz", urls[1])).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// SIGTERM while an upload is half sent: the server stops accepting, finishes that request (201)
/// and exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_upload_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let settings = backend(false, dir.path()).await.expect("SQLite needs nothing");
    let mut server = Instance::start(&settings, dir.path().join("server.log"));
    let client = client();
    server.wait_ready(&client).await;
    let repo = fieldproof::db::connect(&settings.database.url, 2).await.unwrap();
    let seeded = seed(repo.as_ref()).await;
    let base = server.url();
    let customer = create_customer(&client, &base, &seeded).await;
    let visit = Uuid::new_v4();
    let r = client.put(format!("{base}/v1/visits/{visit}")).bearer_auth(&seeded.rep.1).json(&visit_body(customer)).send().await.unwrap();
    assert_eq!(r.status(), 201);

    // The photo's body goes in two halves; the second only after the signal.
    let bytes = fixture("iphone-6.jpg");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let half = bytes.len() / 2;
    tx.send(Ok(bytes[..half].to_vec())).await.unwrap();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), bytes.len() as u64).file_name("photo.jpg");
    let form = reqwest::multipart::Form::new().text("kind", "storefront").part("file", part);
    let upload = tokio::spawn({
        let (client, url, token) = (client.clone(), format!("{base}/v1/visits/{visit}/photos/{}", Uuid::new_v4()), seeded.rep.1.clone());
        async move { client.put(url).bearer_auth(token).multipart(form).send().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.child.as_ref().unwrap().id();
    // SAFETY: kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(self::client().get(format!("{base}/healthz")).send().await.is_err(), "no new connections after SIGTERM");
    tx.send(Ok(bytes[half..].to_vec())).await.unwrap();
    drop(tx);
    let response = upload.await.unwrap().expect("the upload in flight is answered");
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let status = tokio::task::spawn_blocking(move || server.child.take().unwrap().wait().unwrap()).await.unwrap();
    assert!(status.success(), "clean exit: {status:?}");
}
