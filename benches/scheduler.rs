//! The scheduler at scale, through the same code the API and the CLI run:
//! - import 100k customers, then 100k × 90 days of volumes (9M rows) from CSV files on disk
//!   (`fieldproof::app::imports::import_file`), timed, with the bench process's peak RSS during the
//!   volume import (VmHWM, reset before it, and the anonymous part, sampled);
//! - classify the branch's 100k customers (and create their visit plans);
//! - close a day with 10k due tasks among 1M open ones (`fieldproof::app::calendar::close_day`).
//!
//! `cargo bench --bench scheduler -- [customers] [days] [open_tasks] [due_tasks]` runs SQLite (a
//! temporary file); with `DATABASE_URL=postgres://…` PostgreSQL too (a fresh database);
//! `--postgres-only` / `--sqlite-only` pick one.

use std::io::Write;
use std::time::Instant;

use chrono::{Datelike, Days, NaiveDate, Utc};
use fieldproof::app::imports::{import_file, ImportKind};
use fieldproof::config::{Settings, StorageSettings};
use fieldproof::domain::directory::{Branch, User};
use fieldproof::domain::ids::{BranchId, CustomerId, TaskId, UserId};
use fieldproof::domain::role::Role;
use fieldproof::domain::task::{RequiredMethod, Task, TaskStatus, TaskType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor};
use uuid::Uuid;

fn vm_hwm_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// The peak of the process's anonymous memory (heap and stacks, without the SQLite file's mapped
/// pages that VmHWM counts), sampled every 20 ms since the last [`reset_hwm`].
static ANON_PEAK_KB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn rss_anon_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("RssAnon:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse().ok()).unwrap_or(0)
}

fn start_anon_sampler() {
    std::thread::spawn(|| loop {
        ANON_PEAK_KB.fetch_max(rss_anon_kb(), std::sync::atomic::Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(20));
    });
}

fn anon_peak_mb() -> f64 {
    ANON_PEAK_KB.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
}

fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    ANON_PEAK_KB.store(rss_anon_kb(), std::sync::atomic::Ordering::Relaxed);
}

struct Row {
    backend: &'static str,
    step: String,
    seconds: f64,
    rate: String,
    peak_rss_mb: Option<f64>,
    peak_anon_mb: Option<f64>,
}

#[allow(clippy::too_many_arguments)] // a bench's knobs, passed once
async fn run(backend: &'static str, url: String, dir: &std::path::Path, n: usize, days: u64, open: usize, due: usize, rows: &mut Vec<Row>) {
    let mut settings = Settings::default();
    settings.database.url = url;
    settings.database.max_connections = 4;
    settings.storage = StorageSettings { url: format!("file://{}/objects", dir.display()), ..Default::default() };
    let app = fieldproof::startup::build_app(&settings).await.unwrap();
    // Fixed ids: the CSV files written on the first run name the rep by id on the second.
    let branch = Branch {
        id: BranchId(Uuid::from_u128(1)),
        code: "JKT".into(),
        name: "Jakarta".into(),
        time_zone: chrono_tz::Asia::Jakarta,
        working_days: fieldproof::domain::directory::MONDAY_TO_FRIDAY,
    };
    app.repo.upsert_branch(&branch).await.unwrap();
    let rep = User { id: UserId(Uuid::from_u128(2)), name: "andi".into(), role: Role::Sales, branch_id: Some(branch.id) };
    app.repo.upsert_user(&rep, Utc::now()).await.unwrap();

    // The files: customers, then 90 days of volumes ending yesterday, shaped like a customer base
    // (most ship a little, a few a lot; some stop shipping this month).
    let today = Utc::now().date_naive();
    let first_day = today - Days::new(days);
    let customers_csv = dir.join("customers.csv");
    let volumes_csv = dir.join("volumes.csv");
    if !volumes_csv.exists() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut c = std::io::BufWriter::new(std::fs::File::create(&customers_csv).unwrap());
        writeln!(c, "code,name,type,branch,rep,lat,lon,radius,contact,created").unwrap();
        let mut v = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&volumes_csv).unwrap());
        writeln!(v, "customer_code,date,awb").unwrap();
        for i in 0..n {
            let (lat, lon) = (-6.1 - rng.gen::<f64>() * 0.3, 106.7 + rng.gen::<f64>() * 0.3);
            writeln!(c, "K{i:07},Toko {i},retail,JKT,{},{lat:.5},{lon:.5},,Pemilik,2024-01-01", rep.id.0).unwrap();
            let daily: f64 = [1.5, 20.0, 80.0, 200.0, 400.0, 800.0][rng.gen_range(0..6)] * (0.5 + rng.gen::<f64>());
            let stops = rng.gen_bool(0.05);
            for d in 0..days {
                let date = first_day + Days::new(d);
                if stops && date.month0() == today.month0() {
                    continue;
                }
                writeln!(v, "K{i:07},{date},{}", (daily * (0.6 + 0.8 * rng.gen::<f64>())) as u64).unwrap();
            }
        }
        c.flush().unwrap();
        v.flush().unwrap();
    }
    let mb = std::fs::metadata(&volumes_csv).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);

    let started = Instant::now();
    let r = import_file(&app, None, ImportKind::Customers, &customers_csv, &|_| {}).await.unwrap();
    let s = started.elapsed().as_secs_f64();
    assert_eq!((r.created as usize, r.rejected), (n, 0));
    rows.push(Row {
        backend,
        step: format!("import {n} customers"),
        seconds: s,
        rate: format!("{:.0} rows/s", n as f64 / s),
        peak_rss_mb: None,
        peak_anon_mb: None,
    });

    reset_hwm();
    let started = Instant::now();
    let r = import_file(&app, None, ImportKind::Volumes, &volumes_csv, &|r| {
        if r.rows % 1_000_000 < fieldproof::app::imports::BATCH as u64 {
            eprintln!("  {backend}: {} volume rows", r.rows);
        }
    })
    .await
    .unwrap();
    let s = started.elapsed().as_secs_f64();
    assert_eq!(r.rejected, 0);
    rows.push(Row {
        backend,
        step: format!("import {} volume rows ({mb:.0} MB)", r.rows),
        seconds: s,
        rate: format!("{:.0} rows/s", r.rows as f64 / s),
        peak_rss_mb: Some(vm_hwm_mb()),
        peak_anon_mb: Some(anon_peak_mb()),
    });

    reset_hwm();
    let started = Instant::now();
    let run = fieldproof::app::classes::classify_branch(&app, &branch, today).await.unwrap();
    let s = started.elapsed().as_secs_f64();
    rows.push(Row {
        backend,
        step: format!("classify {} customers ({} changed, {} plan tasks)", run.customers, run.changed, run.tasks_created),
        seconds: s,
        rate: format!("{:.0} customers/s", run.customers as f64 / s),
        peak_rss_mb: Some(vm_hwm_mb()),
        peak_anon_mb: Some(anon_peak_mb()),
    });

    // The day close: `open` open tasks, `due` of them due on the closed date, the rest later.
    let ids = app.repo.customer_ids_by_code(&(0..1000).map(|i| format!("K{i:07}")).collect::<Vec<_>>()).await.unwrap();
    let customers: Vec<CustomerId> = ids.into_values().collect();
    let closed: NaiveDate = today - Days::new(1);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..open {
        let due_date = if i < due { closed } else { closed + Days::new(30 + (i % 300) as u64) };
        let task = Task {
            id: TaskId(Uuid::new_v4()),
            customer_id: customers[i % customers.len()],
            branch_id: branch.id,
            assignee_id: rep.id,
            task_type: TaskType::Routine,
            required_method: RequiredMethod::DoorVisit,
            due_date,
            status: TaskStatus::Open,
            origin_visit_id: None,
            origin: "bench".into(),
            note: None,
            created_by: None,
            created_at: Utc::now(),
            confirmed_at: None,
            confirmed_by: None,
            confirmation_note: None,
        };
        batch.push((task, format!("bench:{i}")));
        if batch.len() == 10_000 {
            app.repo.insert_planned_tasks(&batch).await.unwrap();
            batch.clear();
        }
    }
    app.repo.insert_planned_tasks(&batch).await.unwrap();
    eprintln!("  {backend}: {open} open tasks in {:.0} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let done = fieldproof::app::calendar::close_day(&app, branch.id, closed).await.unwrap().expect("a fresh day");
    let s = started.elapsed().as_secs_f64();
    assert_eq!(done.missed_tasks.len(), due);
    rows.push(Row {
        backend,
        step: format!("day close: {due} due among {open} open tasks"),
        seconds: s,
        rate: format!("{:.0} tasks/s", due as f64 / s),
        peak_rss_mb: None,
        peak_anon_mb: None,
    });
    for r in rows.iter().filter(|r| r.backend == backend) {
        eprintln!("  {backend}: {} — {:.1} s, {}, peak {:?} MB", r.step, r.seconds, r.rate, r.peak_rss_mb);
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let num = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (n, days, open, due) = (num(0, 100_000), num(1, 90) as u64, num(2, 1_000_000), num(3, 10_000));
    start_anon_sampler();
    let pg_only = std::env::args().any(|a| a == "--postgres-only");
    let sqlite_only = std::env::args().any(|a| a == "--sqlite-only");
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    if !pg_only {
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        run("SQLite", url, dir.path(), n, days, open, due, &mut rows).await;
    }
    if let Some(base) = std::env::var("DATABASE_URL").ok().filter(|u| u.starts_with("postgres") && !sqlite_only) {
        let name = format!("fp_bench_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
        run("PostgreSQL", url, dir.path(), n, days, open, due, &mut rows).await;
        let _ = admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await;
    }
    println!("| database | step | time | rate | bench peak RSS | of which anonymous |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let rss = r.peak_rss_mb.map_or("–".into(), |m| format!("{m:.0} MB"));
        let anon = r.peak_anon_mb.map_or("–".into(), |m| format!("{m:.0} MB"));
        println!("| {} | {} | {:.1} s | {} | {} | {} |", r.backend, r.step, r.seconds, r.rate, rss, anon);
    }
}
