//! The console at scale: 100 000 stored visits (a third non-compliant, a fifth flagged, each
//! with findings), served by the real server binary. Measures, client side on loopback (the
//! server's time plus a local round trip):
//!
//! - the review queue page (`GET /hq/queue`, 50 entries) and, beside it, the API's queue
//!   (`GET /v1/review-queue?limit=50`): p50 / p99 over N requests;
//! - a CSV export of all 100 000 visits (`GET /v1/exports/visits.csv`): time, rows, bytes, and the
//!   server's resident memory before and at its peak during the export (sampled every 5 ms);
//! - the same export prepared in the background (`POST /v1/exports`'s job, run by a worker in
//!   this process after the server stops): time to a stored file, its size, and this process's
//!   heap (`RssAnon`) before and at its peak.
//!
//! `cargo bench --bench console -- [--visits 100000] [--requests 200] [--backends sqlite,postgres]`.
//! PostgreSQL needs `DATABASE_URL` (photos are not needed here: the store is a directory).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use fieldproof::config::{Settings, StorageSettings};
use fieldproof::db::VerdictRecord;
use fieldproof::domain::audit::AuditEntry;
use fieldproof::domain::customer::{Customer, CustomerClass, GeoPoint};
use fieldproof::domain::directory::{Branch, User};
use fieldproof::domain::finding::{Finding, FindingCode, Severity};
use fieldproof::domain::ids::*;
use fieldproof::domain::role::Role;
use fieldproof::domain::visit::*;
use uuid::Uuid;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// A `/proc/<pid>/status` field in MiB: `VmRSS:` (all resident pages, the SQLite file's mapped
/// pages included) or `RssAnon:` (the heap and stacks: what the export itself allocates).
fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn finding(code: FindingCode, severity: Severity) -> Finding {
    Finding {
        code,
        severity,
        penalty: 40,
        photo_id: None,
        evidence: serde_json::json!({ "policy": { "photo.required": ["storefront"] } }),
        message_id: "Foto wajib belum diunggah.".into(),
        message_en: "A required photo is missing.".into(),
    }
}

async fn seed(settings: &Settings, visits: usize) -> (Uuid, Uuid) {
    let app = fieldproof::startup::build_app(settings).await.expect("build app");
    let repo = app.repo.clone();
    let now = Utc::now();
    let branch = BranchId(Uuid::new_v4());
    repo.upsert_branch(&Branch {
        id: branch,
        code: "JKT".into(),
        name: "Jakarta".into(),
        time_zone: chrono_tz::Asia::Jakarta,
        working_days: fieldproof::domain::directory::MONDAY_TO_FRIDAY,
    })
    .await
    .unwrap();
    let hq = User { id: UserId(Uuid::new_v4()), name: "Hana".into(), role: Role::Hq, branch_id: None };
    repo.upsert_user(&hq, now).await.unwrap();
    fieldproof::app::sessions::set_login(&app, hq.id, "hana").await.unwrap();
    fieldproof::app::sessions::set_password(&app, hq.id, "bench-password", false).await.unwrap();
    let token = fieldproof::app::auth::new_token();
    repo.add_token(hq.id, &fieldproof::app::auth::token_hash(&token), "bench", now).await.unwrap();
    let reps: Vec<UserId> = (0..20).map(|_| UserId(Uuid::new_v4())).collect();
    for (i, r) in reps.iter().enumerate() {
        repo.upsert_user(&User { id: *r, name: format!("Rep {i:02}"), role: Role::Sales, branch_id: Some(branch) }, now).await.unwrap();
    }
    let customers: Vec<CustomerId> = (0..1000).map(|_| CustomerId(Uuid::new_v4())).collect();
    for (i, c) in customers.iter().enumerate() {
        repo.insert_customer(&Customer {
            id: *c,
            code: format!("JKT-{i:05}"),
            name: format!("Toko {i}"),
            customer_type: "retail".into(),
            branch_id: branch,
            assigned_rep_id: Some(reps[i % reps.len()]),
            location: Some(GeoPoint { latitude: -6.2 + (i as f64) * 1e-4, longitude: 106.8 }),
            geofence_radius_m: None,
            contact_name: None,
            contact_position: None,
            contact_phone: None,
            created_on: now.date_naive(),
            class: CustomerClass::A,
            previous_level: None,
            ownership: fieldproof::domain::customer::Ownership::Hq,
            dp: None,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    }
    let started = Instant::now();
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 3, 0, 0).unwrap();
    let mut tasks = Vec::new();
    let per = visits.div_ceil(4);
    for worker in 0..4 {
        let repo = repo.clone();
        let (reps, customers) = (reps.clone(), customers.clone());
        tasks.push(tokio::spawn(async move {
            for i in worker * per..((worker + 1) * per).min(visits) {
                let at = start + chrono::Duration::minutes(i as i64 * 4);
                let id = VisitId(Uuid::new_v4());
                let content = VisitContent {
                    customer_id: customers[i % customers.len()],
                    task_id: None,
                    method: Method::DoorVisit,
                    contact_name: Some("Bu Sari".into()),
                    contact_position: Some("Pemilik".into()),
                    contact_phone: Some("+62 812 1111 2222".into()),
                    visited_at: Some(at),
                    result_reason: Some(ResultReason { level1: "service".into(), level2: "pickup_late".into() }),
                    details: Some("Pick-up terlambat dua hari".into()),
                    next_steps: Some("Eskalasi ke tim pick-up".into()),
                    next_follow_up_at: None,
                    summary: Some(format!("Kunjungan {i}: toko ramai, kiriman naik, pick-up terlambat dua kali minggu ini.")),
                    answers: [("volume_plan".to_string(), "naik 20%".to_string())].into(),
                    reason_details: Default::default(),
                    refused: false,
                    refusal_reason: None,
                    attendance: None,
                };
                let visit = Visit {
                    id,
                    rep_id: reps[i % reps.len()],
                    branch_id: branch,
                    content,
                    visit_date: Some(at.date_naive()),
                    status: VisitStatus::Draft,
                    review_status: ReviewStatus::Pending,
                    score: None,
                    deducted_points: 0,
                    submitted_at: None,
                    revisit_task_id: None,
                    needs_hq_help: false,
                    review_due_date: None,
                    review_escalated_at: None,
                    policy_version: None,
                    content_hash: format!("h{i}"),
                    created_at: at,
                    updated_at: at,
                };
                repo.insert_visit(&visit).await.unwrap();
                let (status, findings) = match i % 10 {
                    0..=2 => (VisitStatus::NonCompliant, vec![finding(FindingCode::PhotoRequiredMissing, Severity::Blocking)]),
                    3..=4 => (VisitStatus::Flagged, vec![finding(FindingCode::SummaryNotSpecific, Severity::Major)]),
                    _ => (VisitStatus::Compliant, vec![]),
                };
                let record = VerdictRecord {
                    visit_id: id,
                    status,
                    score: if findings.is_empty() { 100 } else { 60 },
                    submitted_at: at + chrono::Duration::minutes(20),
                    findings,
                    photo_count: 0,
                    revisit_task: None,
                    new_tasks: vec![],
                    summary_bands: vec![],
                    jobs: vec![],
                    revisit_created_job: None,
                    completes_task: None,
                    needs_hq_help: false,
                    review_due_date: None,
                    policy_version: None,
                    audit: AuditEntry {
                        at,
                        actor_id: Some(visit.rep_id),
                        action: "visit.submitted".into(),
                        subject_type: "visit".into(),
                        subject_id: id.to_string(),
                        detail: serde_json::json!({}),
                    },
                };
                repo.record_verdict(&record).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    eprintln!("seeded {visits} visits in {:.0} s", started.elapsed().as_secs_f64());
    if settings.database.url.starts_with("postgres") {
        // What autovacuum does once a tenth of a table has changed; a bench that starts right
        // after the load would otherwise be planned on an empty table's statistics.
        let pool = sqlx::PgPool::connect(&settings.database.url).await.unwrap();
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    }
    std::fs::write(std::env::temp_dir().join("fp-console-bench-token"), &token).unwrap();
    (hq.id.0, branch.0)
}

/// Samples a process's `VmRSS` and `RssAnon` every 5 ms until stopped; returns the peaks.
struct PeakSampler {
    peak: std::sync::Arc<std::sync::Mutex<(f64, f64)>>,
    sampling: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl PeakSampler {
    fn start(pid: u32) -> (PeakSampler, (f64, f64)) {
        let before = (status_mib(pid, "VmRSS:"), status_mib(pid, "RssAnon:"));
        let peak = std::sync::Arc::new(std::sync::Mutex::new(before));
        let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let thread = {
            let (peak, sampling) = (peak.clone(), sampling.clone());
            std::thread::spawn(move || {
                while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                    let now = (status_mib(pid, "VmRSS:"), status_mib(pid, "RssAnon:"));
                    let mut p = peak.lock().unwrap();
                    *p = (p.0.max(now.0), p.1.max(now.1));
                    drop(p);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        (PeakSampler { peak, sampling, thread }, before)
    }

    fn stop(self) -> (f64, f64) {
        self.sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap();
        let peak = *self.peak.lock().unwrap();
        peak
    }
}

async fn run(label: &str, settings: Settings, visits: usize, requests: usize) {
    let (hq_id, _) = seed(&settings, visits).await;
    let token = std::fs::read_to_string(std::env::temp_dir().join("fp-console-bench-token")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_fieldproof"))
        .env("FIELDPROOF__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("FIELDPROOF__DATABASE__URL", &settings.database.url)
        .env("FIELDPROOF__STORAGE__URL", &settings.storage.url)
        .env("FIELDPROOF__JOBS__ENABLED", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for _ in 0..200 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Sign in as a browser does: the form's token and cookie, then the session cookie.
    let form = client.get(format!("{base}/hq/login")).send().await.unwrap();
    let login_cookie = form.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let html = form.text().await.unwrap();
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let signed = client
        .post(format!("{base}/hq/login"))
        .header("cookie", login_cookie)
        .form(&[("login", "hana"), ("password", "bench-password"), ("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let session = signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("fp_session="))
        .expect("signed in");

    let mut timings = Vec::new();
    for (what, path, auth) in
        [("console queue page (50 entries)", "/hq/queue", true), ("API review queue (limit 50)", "/v1/review-queue?limit=50", false)]
    {
        let mut took = Vec::with_capacity(requests);
        for i in 0..requests + 5 {
            let req = client.get(format!("{base}{path}"));
            let req = if auth { req.header("cookie", &session) } else { req.bearer_auth(&token) };
            let t = Instant::now();
            let r = req.send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let body = r.bytes().await.unwrap();
            if i >= 5 {
                took.push(t.elapsed());
            }
            if i == 0 && auth {
                assert_eq!(String::from_utf8_lossy(&body).matches("class=\"entry\"").count(), 50, "50 entries");
            }
        }
        took.sort();
        timings.push((what, percentile(&took, 0.5), percentile(&took, 0.99)));
    }

    let pid = server.id();
    let (sampler, before) = PeakSampler::start(pid);
    let t = Instant::now();
    let mut r = client.get(format!("{base}/v1/exports/visits.csv")).bearer_auth(&token).send().await.unwrap();
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = r.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
    }
    let export_secs = t.elapsed().as_secs_f64();
    let peak = sampler.stop();
    let _ = server.kill();
    let _ = server.wait();

    // The same export, prepared: the job a worker runs, into the object store.
    let app = fieldproof::startup::build_app(&settings).await.expect("build app");
    let hq = fieldproof::domain::role::Actor { id: UserId(hq_id), name: "Hana".into(), role: Role::Hq, branch_id: None };
    let (export, _) = fieldproof::app::downloads::request(
        &app,
        &hq,
        None,
        fieldproof::domain::export::ExportKind::VisitsCsv,
        fieldproof::app::downloads::ExportFilter::Visits(fieldproof::app::visits::VisitFilter::any()),
    )
    .await
    .unwrap();
    let worker = fieldproof::jobs::Worker::new(app.clone(), fieldproof::config::JobsSettings::default());
    let (sampler, job_before) = PeakSampler::start(std::process::id());
    let t = Instant::now();
    while worker.step().await.unwrap() != fieldproof::jobs::Step::Idle {}
    let job_secs = t.elapsed().as_secs_f64();
    let job_peak = sampler.stop();
    let done = app.repo.get_export(export.id).await.unwrap().unwrap();
    assert_eq!(done.status, fieldproof::domain::export::ExportStatus::Ready, "{:?}", done.error);

    println!("\n### {label}: {visits} visits\n");
    println!("| request | p50 (ms) | p99 (ms) |\n|---|---:|---:|");
    for (what, p50, p99) in timings {
        println!("| {what} | {p50:.1} | {p99:.1} |");
    }
    println!(
        "\nCSV export of every visit: {} rows, {:.1} MB in {export_secs:.1} s ({:.0} rows/s); server RSS {:.0} MiB before, {:.0} MiB at its peak \
         during the export; of it anonymous (heap): {:.0} MiB before, {:.0} MiB at the peak.",
        lines.saturating_sub(1),
        bytes as f64 / 1e6,
        lines.saturating_sub(1) as f64 / export_secs,
        before.0,
        peak.0,
        before.1,
        peak.1
    );
    println!(
        "\nThe same export prepared in the background (the `export` job, in this process): {} rows, {:.1} MB stored in {job_secs:.1} s; \
         heap (RssAnon) {:.0} MiB before, {:.0} MiB at the peak; VmRSS {:.0} → {:.0} MiB.",
        done.rows.unwrap_or(0),
        done.bytes.unwrap_or(0) as f64 / 1e6,
        job_before.1,
        job_peak.1,
        job_before.0,
        job_peak.0
    );
}

#[tokio::main]
async fn main() {
    let visits: usize = arg("--visits").and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let requests: usize = arg("--requests").and_then(|v| v.parse().ok()).unwrap_or(200);
    let backends = arg("--backends").unwrap_or_else(|| "sqlite,postgres".into());
    for backend in backends.split(',') {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings {
            storage: StorageSettings { url: format!("file://{}/objects", dir.path().display()), ..Default::default() },
            ..Default::default()
        };
        match backend {
            "sqlite" => settings.database.url = format!("sqlite://{}/fieldproof.db", dir.path().display()),
            "postgres" => {
                let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) else {
                    eprintln!("postgres: DATABASE_URL is not set; skipped");
                    continue;
                };
                let name = format!("fp_bench_console_{}", Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&url).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
                let (base, _) = url.rsplit_once('/').unwrap();
                settings.database.url = format!("{base}/{name}");
            }
            other => panic!("unknown backend {other}"),
        }
        settings.database.max_connections = 8;
        run(if backend == "sqlite" { "SQLite + files" } else { "PostgreSQL" }, settings, visits, requests).await;
    }
}
