//! Building the application: connect, migrate, bind. `Application::build` binds first, so a
//! configured port 0 gives a free port that tests read back with [`Application::port`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use tokio::sync::Semaphore;

use crate::app::{App, SystemClock};
use crate::config::Settings;
use crate::domain::policy::Policy;
use crate::domain::reasons::Taxonomy;

/// Connects to the database (running migrations) and the object store.
pub async fn build_app(settings: &Settings) -> anyhow::Result<App> {
    let repo = crate::db::connect(&settings.database.url, settings.database.max_connections).await?;
    repo.migrate().await.map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    let store = settings.storage.open_store()?;
    let policy = load_policy(&settings.policy.file)?;
    let taxonomy = Taxonomy::shipped();
    let problems = taxonomy.check_policy(&policy);
    if !problems.is_empty() {
        anyhow::bail!("invalid policy:\n  {}", problems.join("\n  "));
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let permits = match settings.media.max_concurrent_inspections {
        0 => cores,
        n => n,
    };
    let ocr = detect_ocr(&settings.media);
    let app = App {
        ocr,
        repo,
        store,
        policy: Arc::new(policy),
        policy_book: Arc::default(),
        taxonomy: Arc::new(taxonomy),
        clock: Arc::new(SystemClock),
        inspect_permits: Arc::new(Semaphore::new(permits)),
        inspect_timeout: Duration::from_secs(settings.media.inspect_timeout_secs),
        decode_budget: crate::app::DecodeBudget::new(settings.media.decode_memory_mib),
        bearer_failures: Arc::new(crate::app::throttle::BearerFailures::new(settings.server.free_bearer_failures.into())),
        uploads: crate::app::uploads::UploadSlots::new(
            settings.server.uploads_per_user,
            settings.server.upload_memory_mib,
            settings.server.min_upload_bytes_per_sec,
        ),
        metrics: Arc::new(crate::metrics::Metrics::new()),
        sessions: crate::app::SessionLimits {
            idle: Duration::from_secs(settings.console.session_idle_minutes * 60),
            absolute: Duration::from_secs(settings.console.session_absolute_hours * 3600),
        },
        exports: crate::app::ExportLimits {
            stream_rows: settings.exports.stream_max_rows,
            stream_zip_visits: settings.exports.stream_max_zip_visits,
            retention: Duration::from_secs(settings.exports.retention_hours * 3600),
            temp_dir: Some(settings.exports.temp_dir.clone()).filter(|d| !d.is_empty()).map(std::path::PathBuf::from),
        },
    };
    // Indonesia's national holidays, for the years never set or set by an earlier release.
    if let Err(e) = crate::app::calendar::load_shipped(&app).await {
        tracing::warn!(error = %e, "could not load the shipped holidays");
    }
    Ok(app)
}

/// The OCR engine for WhatsApp screenshots. Without one the server starts all the same, says
/// so here and in `/readyz`, and each screenshot gets `screenshot_not_read`.
pub fn detect_ocr(media: &crate::config::MediaSettings) -> Result<Arc<crate::media::ocr::Tesseract>, String> {
    if media.ocr_program.is_empty() {
        tracing::warn!("OCR is switched off (media.ocr_program is empty): WhatsApp screenshots will not be read");
        return Err("switched off (media.ocr_program is empty)".into());
    }
    match crate::media::ocr::Tesseract::detect(&media.ocr_program, &media.ocr_languages, Duration::from_secs(media.ocr_timeout_secs)) {
        Ok(engine) => {
            tracing::info!(engine = %engine.version, languages = %engine.languages, "OCR ready for WhatsApp screenshots");
            Ok(Arc::new(engine))
        }
        Err(why) => {
            tracing::warn!(%why, "no OCR: WhatsApp screenshots will not be read (install tesseract-ocr, tesseract-ocr-ind, tesseract-ocr-eng)");
            Err(why)
        }
    }
}

/// The policy in force: the defaults, with the operator's file merged over them.
pub fn load_policy(file: &str) -> anyhow::Result<Policy> {
    if file.is_empty() {
        let policy = Policy::default();
        policy.validate().map_err(|p| anyhow::anyhow!("invalid policy: {}", p.join("; ")))?;
        return Ok(policy);
    }
    let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("policy file {file}: {e}"))?;
    let policy = Policy::from_toml(&text).map_err(|p| anyhow::anyhow!("policy file {file}:\n  {}", p.join("\n  ")))?;
    tracing::info!(file, "policy loaded");
    Ok(policy)
}

/// Makes glibc's allocator give memory back. A photo's body and a decode's buffers are a few to
/// a hundred MB, freed a moment later; by default glibc raises its mmap threshold after the
/// first such free (up to 32 MB) and keeps later ones in per-thread arenas (up to 8 a core), so
/// the server's resident memory only ever grows towards the sum of every thread's worst moment.
/// With the threshold fixed at 1 MiB, each large buffer is its own mapping, returned on free;
/// four arenas bound what the small ones keep. Measured in SECURITY.md (`benches/hostile.rs`).
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 * 1024 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

pub struct Application {
    port: u16,
    server: Server,
    /// The job worker, when enabled, and the switch that stops it.
    worker: Option<(tokio::task::JoinHandle<()>, tokio::sync::watch::Sender<bool>)>,
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let app = build_app(settings).await?;
        Self::with_app(app, settings)
    }

    /// Serves an already-built [`App`] (tests build their own to keep a handle on it).
    pub fn with_app(app: App, settings: &Settings) -> anyhow::Result<Application> {
        let listener =
            TcpListener::bind(&settings.server.listen).map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.listen))?;
        let port = listener.local_addr()?.port();
        let worker = settings.jobs.enabled.then(|| {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let worker = crate::jobs::Worker::new(app.clone(), settings.jobs.clone());
            tracing::info!(worker = %worker.id, "job worker started");
            (tokio::spawn(worker.run_until(stopped)), stop)
        });
        let data = web::Data::new(app);
        let max_json = settings.server.max_json_bytes;
        let cookies = web::Data::new(crate::http::console::session::CookiePolicy { secure: settings.console.secure_cookie() });
        // actix-web's `HttpServer`, assembled by hand so that each connection goes through
        // `ProblemStream` (the HTTP layer's own errors become problem+json too).
        let local = listener.local_addr()?;
        let mut builder = actix_server::Server::build();
        let shutdown = builder.graceful_shutdown_signal();
        builder = builder.shutdown_timeout(30);
        if settings.server.workers > 0 {
            builder = builder.workers(settings.server.workers);
        }
        let builder = builder.listen("fieldproof", listener, move || {
            use actix_service::{IntoServiceFactory, ServiceFactoryExt};
            let app = actix_web::App::new()
                .wrap(crate::http::security_headers())
                .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(crate::http::error::problem_for_plain_errors))
                .wrap(actix_web::middleware::from_fn(crate::http::record_metrics))
                .wrap(
                    actix_web::middleware::Logger::new("%{request}xi %s %b %Dms")
                        .custom_request_replace("request", crate::http::logged_request)
                        .log_target("fieldproof::http"),
                )
                .app_data(data.clone())
                .app_data(cookies.clone())
                .configure(|cfg| crate::http::configure(cfg, max_json));
            let signal = shutdown.clone();
            let http = actix_http::HttpService::build()
                .graceful_shutdown_signal(move || {
                    let signal = signal.clone();
                    async move { signal.notified().await }
                })
                .client_request_timeout(Duration::from_secs(30))
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(local)
                .finish(actix_service::map_config(app.into_factory().map_err(|err: actix_web::Error| err.error_response()), |_| {
                    actix_web::dev::AppConfig::default()
                }));
            actix_service::fn_service(|io: actix_rt::net::TcpStream| async move {
                let peer = io.peer_addr().ok();
                let _ = io.set_nodelay(true);
                Ok((crate::http::connection::ProblemStream::new(io), actix_http::Protocol::Http1, peer))
            })
            .and_then(http)
        })?;
        let server = builder;
        Ok(Application { port, server: server.run(), worker })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What stops the server from outside (tests stop theirs when done, so that their
    /// database connections do not outlive them).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM: in-flight requests are given 30 s to finish, then the job
    /// worker stops and gives back whatever it had not finished.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some((handle, stop)) = self.worker {
            let _ = stop.send(true);
            if tokio::time::timeout(Duration::from_secs(30), handle).await.is_err() {
                tracing::warn!("the job worker did not stop within 30 s");
            }
        }
        served
    }
}
