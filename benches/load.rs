//! Load: simulated phones submit realistic visits — a draft, 2–3 real phone photos, the submit —
//! against the real server binary, with 1 to 64 concurrent clients, on SQLite + files and on
//! PostgreSQL + Garage. Prints per level: visits/s, photos/s, p50/p99 latency of the photo
//! uploads and of all requests, the server's peak RSS and CPU per photo; and the CPU floor it
//! compares with: cores ÷ the in-process time of one photo check (in the visits' mix of kinds),
//! and that floor measured with one thread per core checking photos at once.
//!
//! `cargo bench --bench load -- [--secs 20] [--clients 1,4,16,32,64] [--backends sqlite,postgres]
//! [--server-cpus LIST] [--db-connections N]`. PostgreSQL needs `DATABASE_URL`, Garage a `garage` binary (as for the
//! tests). With `--server-cpus`, the server runs on those CPUs only (`taskset -c LIST`) and the
//! floor counts those CPUs: run the bench itself under `taskset` on the others (Garage, started
//! by the bench, inherits that), and move PostgreSQL there too, to give the server its cores to
//! itself, as it has them when the database and the store are on other machines.
//! `LOAD_SERVER_BIN=path` runs that server binary instead of this build's (a before/after run).
//! `--db-connections` sets the server's pool size (16 unless given); `LOAD_RUST_LOG` its log
//! filter (`warn` unless set; `warn,sqlx::query=debug` logs every statement with its time to
//! `$TMPDIR/fieldproof-load-<backend>.log`).

#[path = "../tests/api/garage.rs"]
#[allow(dead_code)]
mod garage;
#[path = "../tests/api/visit_json.rs"]
mod visit_json;

use std::io::Cursor;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldproof::config::{Settings, StorageSettings};
use fieldproof::domain::policy::Policy;
use fieldproof::domain::visit::PhotoKind;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::sync::Mutex;
use uuid::Uuid;

const SOURCES: [&str; 3] = ["iphone-6.jpg", "oppo-r7-plus.jpg", "samsung-galaxy-s7-edge.jpg"];

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Distinct photos with their cameras' EXIF: each source rolled sideways by a different amount
/// (so perceptual hashes differ, as different photos' do) and mirrored, re-encoded at full size,
/// with the original EXIF segment put back.
fn photo_pool(per_source: usize) -> Vec<bytes::Bytes> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos");
    let mut pool = Vec::new();
    for name in SOURCES {
        let original = std::fs::read(dir.join(name)).unwrap();
        let exif = app1_segment(&original);
        let img = image::load_from_memory(&original).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        for v in 0..per_source {
            let shift = (w as usize * (v + 1) / (per_source + 1)) as u32;
            let mirrored = v % 2 == 1;
            let variant = image::RgbImage::from_fn(w, h, |x, y| {
                let sx = (x + shift) % w;
                *img.get_pixel(if mirrored { w - 1 - sx } else { sx }, y)
            });
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), 88).encode_image(&variant).unwrap();
            let mut out = jpeg[..2].to_vec();
            out.extend_from_slice(exif);
            out.extend_from_slice(&jpeg[2..]);
            pool.push(bytes::Bytes::from(out));
        }
    }
    pool
}

/// The APP1 `Exif` segment (marker, length and body) of a JPEG.
fn app1_segment(jpeg: &[u8]) -> &[u8] {
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        if jpeg[i + 1] == 0xE1 && jpeg[i + 4..].starts_with(b"Exif") {
            return &jpeg[i..i + 2 + len];
        }
        i += 2 + len;
    }
    &[]
}

/// A `/proc/<pid>/status` field in MiB (`VmRSS`, `RssAnon`, …).
fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU time (user + system) the process has used, from /proc (clock ticks of 10 ms).
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (field(11) + field(12)) / 100.0
}

/// CPU time used so far by every process of these command names (`postgres`, `garage`), and
/// by this process (the phones): where the rest of the machine goes.
fn others_cpu_secs() -> (f64, f64, f64) {
    let (mut postgres, mut garage) = (0.0, 0.0);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        match comm.trim() {
            "postgres" => postgres += cpu_secs(pid),
            "garage" => garage += cpu_secs(pid),
            _ => {}
        }
    }
    (cpu_secs(std::process::id()), postgres, garage)
}

#[derive(Default)]
struct Tally {
    visits: usize,
    photos: usize,
    errors: usize,
    photo_latency: Vec<Duration>,
    all_latency: Vec<Duration>,
}

fn pct(xs: &mut [Duration], p: f64) -> Duration {
    if xs.is_empty() {
        return Duration::ZERO;
    }
    xs.sort();
    xs[((xs.len() as f64 * p) as usize).min(xs.len() - 1)]
}

struct Rep {
    token: String,
    customers: Vec<String>,
}

async fn one_visit(
    client: &reqwest::Client,
    base: &str,
    rep: &Rep,
    pool: &[bytes::Bytes],
    rng: &mut rand::rngs::StdRng,
    tally: &Mutex<Tally>,
) {
    let visit = Uuid::new_v4();
    let customer = &rep.customers[rng.gen_range(0..rep.customers.len())];
    let body = visit_json::visit_json(customer, "door_visit", chrono::Utc::now() - chrono::Duration::minutes(10));
    let mut timed = Vec::new();
    let t = Instant::now();
    let ok = client
        .put(format!("{base}/v1/visits/{visit}"))
        .bearer_auth(&rep.token)
        .json(&body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    timed.push((false, t.elapsed(), ok));
    let kinds = ["storefront", "with_customer", "product"];
    let count = rng.gen_range(2..=3);
    for kind in &kinds[..count] {
        let bytes = pool[rng.gen_range(0..pool.len())].clone();
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_string())
            .text("captured_at", chrono::Utc::now().to_rfc3339())
            .part("file", reqwest::multipart::Part::stream(bytes).file_name("photo.jpg").mime_str("image/jpeg").unwrap());
        let t = Instant::now();
        let ok = client
            .put(format!("{base}/v1/visits/{visit}/photos/{}", Uuid::new_v4()))
            .bearer_auth(&rep.token)
            .multipart(form)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        timed.push((true, t.elapsed(), ok));
    }
    let t = Instant::now();
    let ok = client
        .post(format!("{base}/v1/visits/{visit}/submit"))
        .bearer_auth(&rep.token)
        .json(&json!({}))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    timed.push((false, t.elapsed(), ok));
    let mut tally = tally.lock().await;
    let all_ok = timed.iter().all(|t| t.2);
    for (photo, took, ok) in timed {
        tally.all_latency.push(took);
        if photo {
            tally.photo_latency.push(took);
            tally.photos += usize::from(ok);
        }
        tally.errors += usize::from(!ok);
    }
    tally.visits += usize::from(all_ok);
}

/// The server's command line: the binary itself, or the binary under `taskset -c CPUS`.
/// `LOAD_SERVER_BIN` names another build of the server (an earlier commit's, to compare two
/// builds side by side in one run of the same phones).
fn server_command(cpus: Option<&str>) -> Command {
    let binary = std::env::var("LOAD_SERVER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_fieldproof").to_string());
    let binary = binary.as_str();
    match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpus, binary]);
            c
        }
        None => Command::new(binary),
    }
}

/// How many CPUs a `taskset` list names (`1`, `0,1`, `2-3`).
fn cpu_count(list: &str) -> usize {
    list.split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => b.trim().parse::<usize>().unwrap_or(0).saturating_sub(a.trim().parse().unwrap_or(0)) + 1,
            None => 1,
        })
        .sum()
}

async fn run_backend(
    label: &str,
    settings: Settings,
    levels: &[usize],
    secs: u64,
    pool: Arc<Vec<bytes::Bytes>>,
    floor: (f64, f64),
    server_cpus: Option<&str>,
) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(std::env::temp_dir().join(format!("fieldproof-load-{label}.log"))).unwrap();
    let mut server = server_command(server_cpus)
        .arg("serve")
        .env("FIELDPROOF__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("FIELDPROOF__DATABASE__URL", &settings.database.url)
        .env("FIELDPROOF__DATABASE__MAX_CONNECTIONS", arg("--db-connections").unwrap_or("16".into()))
        .env("FIELDPROOF__STORAGE__URL", &settings.storage.url)
        .env("FIELDPROOF__STORAGE__ACCESS_KEY_ID", &settings.storage.access_key_id)
        .env("FIELDPROOF__STORAGE__SECRET_ACCESS_KEY", settings.storage.secret_access_key.expose())
        .env("RUST_LOG", std::env::var("LOAD_RUST_LOG").unwrap_or("warn".into()))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the server");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).pool_max_idle_per_host(128).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "server not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The demo data set: reps with their assigned customers.
    let app = fieldproof::startup::build_app(&settings).await.unwrap();
    let logins = fieldproof::app::demo::load(&app).await.unwrap();
    let mut reps = Vec::new();
    for l in logins.iter().filter(|l| l.role == fieldproof::domain::role::Role::Sales) {
        let r: Value =
            client.get(format!("{base}/v1/customers?limit=200")).bearer_auth(&l.token).send().await.unwrap().json().await.unwrap();
        let customers: Vec<String> = r["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
        if !customers.is_empty() {
            reps.push(Rep { token: l.token.clone(), customers });
        }
    }
    let reps = Arc::new(reps);

    for &clients in levels {
        let tally = Arc::new(Mutex::new(Tally::default()));
        // Peak resident memory during this level, sampled every 50 ms: all of it, and the
        // anonymous part (heap and stacks, without the pages of the SQLite file it maps).
        let pid = server.id();
        let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let sampler = tokio::spawn({
            let sampling = sampling.clone();
            async move {
                let (mut rss, mut anon) = (0f64, 0f64);
                while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                    rss = rss.max(status_mib(pid, "VmRSS:"));
                    anon = anon.max(status_mib(pid, "RssAnon:"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                (rss, anon)
            }
        });
        let cpu_before = cpu_secs(server.id());
        let others_before = others_cpu_secs();
        let started = Instant::now();
        let stop_at = started + Duration::from_secs(secs);
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let (client, base, reps, pool, tally) = (client.clone(), base.clone(), reps.clone(), pool.clone(), tally.clone());
                tokio::spawn(async move {
                    let mut rng = rand::rngs::StdRng::seed_from_u64(c as u64);
                    let rep = &reps[c % reps.len()];
                    while Instant::now() < stop_at {
                        one_visit(&client, &base, rep, &pool, &mut rng, &tally).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let server_cpu = cpu_secs(server.id()) - cpu_before;
        let others = others_cpu_secs();
        let (phones_cpu, postgres_cpu, garage_cpu) = (others.0 - others_before.0, others.1 - others_before.1, others.2 - others_before.2);
        sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        let (rss, anon) = sampler.await.unwrap();
        let mut t = tally.lock().await;
        let photos_per_s = t.photos as f64 / elapsed;
        let (p50, p99) = (pct(&mut t.photo_latency, 0.5), pct(&mut t.photo_latency, 0.99));
        let (a50, a99) = (pct(&mut t.all_latency, 0.5), pct(&mut t.all_latency, 0.99));
        println!(
            "| {label} | {clients} | {:.2} | {photos_per_s:.1} | {:.0} % | {:.0} % | {:.0} | {:.0} | {:.0} | {:.0} | {} | {rss:.0} | {anon:.0} | {:.1} | {:.1} | {:.1} | {:.1} |",
            t.visits as f64 / elapsed,
            100.0 * photos_per_s / floor.0,
            100.0 * photos_per_s / floor.1,
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            a50.as_secs_f64() * 1e3,
            a99.as_secs_f64() * 1e3,
            t.errors,
            server_cpu * 1e3 / t.photos.max(1) as f64,
            phones_cpu * 1e3 / t.photos.max(1) as f64,
            postgres_cpu * 1e3 / t.photos.max(1) as f64,
            garage_cpu * 1e3 / t.photos.max(1) as f64,
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs: u64 = arg("--secs").and_then(|s| s.parse().ok()).unwrap_or(20);
    let levels: Vec<usize> = arg("--clients").unwrap_or("1,4,16,32,64".into()).split(',').filter_map(|s| s.parse().ok()).collect();
    let backends = arg("--backends").unwrap_or("sqlite,postgres".into());
    let server_cpus = arg("--server-cpus");

    eprintln!("making the photo pool…");
    let pool = Arc::new(photo_pool(8));
    // The floor: every core doing nothing but photo checks, in the visits' mix of kinds — a
    // visit sends 2 or 3 photos, one of them `with_customer`, which adds face detection.
    let policy = Policy::default();
    let mean_of = |kind: PhotoKind| {
        let mut total = Duration::ZERO;
        for photo in pool.iter() {
            let _ = fieldproof::app::photos::check_file(&policy, photo, kind, chrono_tz::Asia::Jakarta);
            let t = Instant::now();
            let _ = std::hint::black_box(fieldproof::app::photos::check_file(&policy, photo, kind, chrono_tz::Asia::Jakarta));
            total += t.elapsed();
        }
        total.as_secs_f64() / pool.len() as f64
    };
    let (plain, with_faces) = (mean_of(PhotoKind::Storefront), mean_of(PhotoKind::WithCustomer));
    let mean_check = 0.6 * plain + 0.4 * with_faces;
    let cores = match &server_cpus {
        Some(list) => cpu_count(list),
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let floor = cores as f64 / mean_check;
    // The same, measured: one thread per core checking the pool in that mix for 10 s, no HTTP.
    let measured_floor = {
        let stop_at = Instant::now() + Duration::from_secs(10);
        let threads: Vec<_> = (0..cores)
            .map(|c| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let policy = Policy::default();
                    let mut n = 0usize;
                    while Instant::now() < stop_at {
                        let kind = if n % 5 < 2 { PhotoKind::WithCustomer } else { PhotoKind::Storefront };
                        let _ = std::hint::black_box(fieldproof::app::photos::check_file(
                            &policy,
                            &pool[(n * 7 + c) % pool.len()],
                            kind,
                            chrono_tz::Asia::Jakarta,
                        ));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum::<usize>() as f64 / 10.0
    };
    let mean_mb = pool.iter().map(|p| p.len()).sum::<usize>() as f64 / pool.len() as f64 / 1e6;
    println!(
        "{} photos of {mean_mb:.1} MB on average; one check takes {:.1} ms ({:.1} ms with face detection; {:.1} ms in the visits' mix); CPU floor with {cores} cores{}: {floor:.1} photos/s; measured with {cores} threads checking at once: {measured_floor:.1} photos/s\n",
        pool.len(),
        plain * 1e3,
        with_faces * 1e3,
        mean_check * 1e3,
        server_cpus.as_deref().map(|l| format!(" (the server's: taskset -c {l})")).unwrap_or_default(),
    );
    println!("| backend | clients | visits/s | photos/s | of the floor | of the measured floor | photo PUT p50 (ms) | photo PUT p99 (ms) | all requests p50 (ms) | all p99 (ms) | errors | server peak RSS (MiB) | of which anonymous (MiB) | server CPU per photo (ms) | phones' (ms) | PostgreSQL's (ms) | Garage's (ms) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");

    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.database.url = format!("sqlite://{}/fieldproof.db", dir.path().display());
        settings.storage = StorageSettings { url: format!("file://{}/objects", dir.path().display()), ..Default::default() };
        run_backend("SQLite + files", settings, &levels, secs, pool.clone(), (floor, measured_floor), server_cpus.as_deref()).await;
    }
    if backends.contains("postgres") {
        match (std::env::var("DATABASE_URL").ok().filter(|u| u.starts_with("postgres")), garage::garage()) {
            (Some(base), Some(g)) => {
                use sqlx::{Connection, Executor};
                let name = format!("fp_load_{}", Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
                admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
                let mut settings = Settings::default();
                settings.database.url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
                settings.storage = g.new_bucket();
                run_backend("PostgreSQL + Garage", settings, &levels, secs, pool.clone(), (floor, measured_floor), server_cpus.as_deref())
                    .await;
                let _ = admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await;
            }
            _ => eprintln!("PostgreSQL + Garage skipped: needs DATABASE_URL and a garage binary"),
        }
    }
}
