//! Prometheus metrics, served at `GET /metrics` in the text exposition format: requests by
//! route template and status, their latency, photo-check time, and the job queue's depth and
//! age. Each [`App`](crate::app::App) owns its registry, so servers sharing a process (the tests)
//! never mix their counts. Labels carry route templates, never ids.

use std::time::Duration;

use prometheus::{Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    photo_check_seconds: Histogram,
    jobs: IntGaugeVec,
    job_age_seconds: GaugeVec,
}

/// Latency buckets from 1 ms to 30 s.
const SECONDS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("fieldproof".into()), None).expect("a valid prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method, route template and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let request_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer an HTTP request, by method and route template")
                .buckets(SECONDS.to_vec()),
            &["method", "route"],
        )
        .expect("valid metric");
        let photo_check_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "photo_check_duration_seconds",
                "Time of one photo inspection (decode, EXIF, pixel checks), excluding the wait for a permit",
            )
            .buckets(SECONDS.to_vec()),
        )
        .expect("valid metric");
        let jobs =
            IntGaugeVec::new(Opts::new("jobs", "Jobs in the queue, by status (read at scrape time)"), &["status"]).expect("valid metric");
        let job_age_seconds = GaugeVec::new(
            Opts::new(
                "jobs_oldest_age_seconds",
                "Age of the oldest job in each status: for queued, how long the oldest due job has waited",
            ),
            &["status"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(request_seconds.clone()),
            Box::new(photo_check_seconds.clone()),
            Box::new(jobs.clone()),
            Box::new(job_age_seconds.clone()),
        ] {
            registry.register(collector).expect("metric names are unique");
        }
        Metrics { registry, requests, request_seconds, photo_check_seconds, jobs, job_age_seconds }
    }

    /// One answered request. `route` is the matched template (`/v1/visits/{visit_id}`), or
    /// `unmatched` for a 404 outside every route.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.request_seconds.with_label_values(&[method, route]).observe(elapsed.as_secs_f64());
    }

    pub fn observe_photo_check(&self, elapsed: Duration) {
        self.photo_check_seconds.observe(elapsed.as_secs_f64());
    }

    /// The queue as the database reported it just now: (status, count, age of the oldest).
    pub fn set_jobs(&self, by_status: &[(String, i64, Option<Duration>)]) {
        for status in ["queued", "running", "done", "dead"] {
            let found = by_status.iter().find(|(s, _, _)| s == status);
            self.jobs.with_label_values(&[status]).set(found.map_or(0, |f| f.1));
            self.job_age_seconds.with_label_values(&[status]).set(found.and_then(|f| f.2).map_or(0.0, |d| d.as_secs_f64()));
        }
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
