//! Configuration: compiled defaults, overlaid by a TOML file (`--config`, or `fieldproof.toml`
//! when present), overlaid by environment variables `FIELDPROOF__SECTION__KEY`.
//! `fieldproof.example.toml` lists every key with its default and its variable.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub media: MediaSettings,
    pub jobs: JobsSettings,
    pub policy: PolicySettings,
    pub log: LogSettings,
    pub console: ConsoleSettings,
    pub exports: ExportSettings,
}

/// A secret from the configuration: read like any string, printed as `***`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` (one line per event, for people) or `json` (one object per line, for a log
    /// collector). The filter is `RUST_LOG` (`info` unless set).
    pub format: LogFormat,
    /// Also log each span when it closes, with how long it was busy and idle: every request,
    /// repository, storage and job call at the filter's level (repository and storage spans are
    /// `debug`), so a slow request can be taken apart from the log.
    pub span_timings: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Text, span_timings: false }
    }
}

/// Exports: which stream at once, and how long a prepared one is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportSettings {
    /// Visits or tasks a CSV/GeoJSON download may have before it is prepared in the background.
    pub stream_max_rows: u64,
    /// Visits a photo ZIP download may have before it is prepared in the background.
    pub stream_max_zip_visits: u64,
    /// Hours a prepared export stays in the download centre.
    pub retention_hours: u64,
    /// Where export jobs write their file before storing it; empty = the system's temporary
    /// directory.
    pub temp_dir: String,
}

impl Default for ExportSettings {
    fn default() -> Self {
        let d = crate::app::ExportLimits::default();
        Self {
            stream_max_rows: d.stream_rows,
            stream_max_zip_visits: d.stream_zip_visits,
            retention_hours: d.retention.as_secs() / 3600,
            temp_dir: String::new(),
        }
    }
}

/// The web console's sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Where people reach the console; `https://…` marks the session cookie `Secure`.
    pub public_url: String,
    pub session_idle_minutes: u64,
    pub session_absolute_hours: u64,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self { public_url: String::new(), session_idle_minutes: 120, session_absolute_hours: 12 }
    }
}

impl ConsoleSettings {
    /// Whether the session cookie must only travel over HTTPS.
    pub fn secure_cookie(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySettings {
    /// A TOML file of SOP values that differ from the built-in defaults (`policy.example.toml`
    /// lists them all); empty = the defaults.
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Largest JSON request body, in bytes.
    pub max_json_bytes: usize,
    /// Photo uploads one user may have in flight at once (more: 429 `too_many_uploads`).
    pub uploads_per_user: usize,
    /// The memory all photo bodies in flight may hold, in MiB (more: 503 `server_busy`).
    pub upload_memory_mib: u32,
    /// Requests with a bad bearer token one client address may send in 15 minutes before each
    /// further one waits (429 `auth_throttled`).
    pub free_bearer_failures: u32,
    /// The slowest a photo's or a CSV import's body may arrive after its first 5 s, in bytes a
    /// second (slower: 408 `upload_too_slow`); 0 turns the check off.
    pub min_upload_bytes_per_sec: u64,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` or `postgres://user:pass@host/db`.
    pub url: String,
    pub max_connections: u32,
}

/// The URL may carry a password: never print it.
impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &crate::db::redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// `file://path/to/dir`, or `s3://bucket?endpoint=http://host:port&region=name`.
    pub url: String,
    /// S3 credentials; empty means `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl StorageSettings {
    /// The S3 keys, as the storage layer takes them.
    pub fn credentials(&self) -> crate::storage::s3::S3Credentials {
        crate::storage::s3::S3Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.expose().to_string(),
        }
    }

    /// Opens the store these settings name.
    pub fn open_store(&self) -> anyhow::Result<std::sync::Arc<dyn crate::storage::ObjectStore>> {
        crate::storage::open(&self.url, &self.credentials())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaSettings {
    /// Photo inspections running at once; 0 = one per core.
    pub max_concurrent_inspections: usize,
    /// Longest one inspection may take, in seconds.
    pub inspect_timeout_secs: u64,
    /// The memory all running decodes may hold together, in MiB (a photo that alone would need
    /// more is refused with `photo_decode_too_large`).
    pub decode_memory_mib: u32,
    /// The Tesseract program that reads WhatsApp screenshots; empty switches OCR off (the
    /// screenshot checks then report `screenshot_not_read`).
    pub ocr_program: String,
    /// Tesseract's language models, `+`-joined.
    pub ocr_languages: String,
    /// Longest one screenshot's OCR may take, in seconds (then it is killed).
    pub ocr_timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsSettings {
    /// Run the background job worker in this process (any number of instances may).
    pub enabled: bool,
    /// How often an idle worker looks for due jobs, in milliseconds.
    pub poll_interval_ms: u64,
    /// A running job's worker writes a heartbeat this often; a job whose heartbeat is older than
    /// three of these is given back to the queue (its worker died).
    pub heartbeat_secs: u64,
    /// Attempts before a failing job is moved to `dead`.
    pub max_attempts: u32,
    /// First retry delay, in milliseconds; doubled on every further attempt, at most an hour.
    pub retry_backoff_ms: u64,
    /// An uploaded object whose photo row never landed is deleted after this many seconds.
    pub orphan_grace_secs: u64,
}

impl Default for JobsSettings {
    fn default() -> Self {
        Self { enabled: true, poll_interval_ms: 1000, heartbeat_secs: 10, max_attempts: 8, retry_backoff_ms: 5000, orphan_grace_secs: 3600 }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            workers: 0,
            max_json_bytes: 256 * 1024,
            uploads_per_user: 8,
            upload_memory_mib: 128,
            free_bearer_failures: 20,
            min_upload_bytes_per_sec: 1024,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: "sqlite://data/fieldproof.db".into(), max_connections: 8 }
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self { url: "file://data/objects".into(), access_key_id: String::new(), secret_access_key: Secret::default() }
    }
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            max_concurrent_inspections: 0,
            inspect_timeout_secs: 20,
            decode_memory_mib: 160,
            ocr_program: "tesseract".into(),
            ocr_languages: "ind+eng".into(),
            ocr_timeout_secs: 10,
        }
    }
}

impl Settings {
    /// Loads defaults ← file ← environment. An explicit `path` must exist; without one,
    /// `fieldproof.toml` in the working directory is used when present.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Settings> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match path {
            Some(p) => {
                anyhow::ensure!(p.exists(), "configuration file {} does not exist", p.display());
                figment = figment.merge(Toml::file_exact(p));
            }
            None if Path::new("fieldproof.toml").exists() => figment = figment.merge(Toml::file_exact("fieldproof.toml")),
            None => {}
        }
        figment = figment.merge(Env::prefixed("FIELDPROOF__").split("__"));
        let settings: Settings = figment.extract().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.validate().map_err(|problems| anyhow::anyhow!("invalid configuration:\n  - {}", problems.join("\n  - ")))?;
        Ok(settings)
    }

    /// Every problem at once, one line each.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.server.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!("server.listen {:?} is not an address like 127.0.0.1:8080", self.server.listen));
        }
        if self.server.max_json_bytes < 1024 {
            problems.push("server.max_json_bytes must be at least 1024".into());
        }
        if self.server.uploads_per_user == 0 || self.server.upload_memory_mib < 32 {
            problems.push("server.uploads_per_user must be at least 1 and server.upload_memory_mib at least 32".into());
        }
        if let Err(e) = crate::db::Backend::from_url(&self.database.url) {
            problems.push(format!("database.url: {e}"));
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".into());
        }
        if let Err(e) = crate::storage::StoreUrl::parse(&self.storage.url) {
            problems.push(format!("storage.url: {e}"));
        }
        if self.media.decode_memory_mib < 32 {
            problems.push("media.decode_memory_mib must be at least 32".into());
        }
        if self.media.inspect_timeout_secs == 0 {
            problems.push("media.inspect_timeout_secs must be at least 1".into());
        }
        if self.media.ocr_timeout_secs == 0 || self.media.ocr_timeout_secs >= self.media.inspect_timeout_secs {
            problems.push("media.ocr_timeout_secs must be at least 1 and below media.inspect_timeout_secs".into());
        }
        if self.jobs.poll_interval_ms == 0 || self.jobs.heartbeat_secs == 0 || self.jobs.max_attempts == 0 {
            problems.push("jobs.poll_interval_ms, jobs.heartbeat_secs and jobs.max_attempts must be at least 1".into());
        }
        if self.jobs.orphan_grace_secs < 60 {
            problems.push("jobs.orphan_grace_secs must be at least 60 (longer than any upload takes)".into());
        }
        let url = &self.console.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(format!("console.public_url {:?} must start with http:// or https://", self.console.public_url));
        }
        if self.exports.retention_hours == 0 {
            problems.push("exports.retention_hours must be at least 1".into());
        }
        if self.console.session_idle_minutes == 0 || self.console.session_absolute_hours == 0 {
            problems.push("console.session_idle_minutes and console.session_absolute_hours must be at least 1".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_embedded_deployment() {
        let s = Settings::default();
        assert_eq!(s.database.url, "sqlite://data/fieldproof.db");
        assert_eq!(s.storage.url, "file://data/objects");
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn every_problem_is_reported() {
        let mut s = Settings::default();
        s.server.listen = "localhost".into();
        s.database.url = "mysql://x".into();
        s.storage.url = "ftp://x".into();
        assert_eq!(s.validate().unwrap_err().len(), 3);
    }

    #[test]
    fn the_example_file_lists_every_key_with_its_default() {
        let example = include_str!("../fieldproof.example.toml");
        let parsed: Settings = Figment::from(Toml::string(example)).extract().expect("example parses");
        assert_eq!(parsed, Settings::default());
        for key in [
            "listen",
            "workers",
            "max_json_bytes",
            "uploads_per_user",
            "upload_memory_mib",
            "free_bearer_failures",
            "min_upload_bytes_per_sec",
            "decode_memory_mib",
            "url",
            "max_connections",
            "max_concurrent_inspections",
            "inspect_timeout_secs",
            "ocr_program",
            "ocr_languages",
            "ocr_timeout_secs",
            "enabled",
            "poll_interval_ms",
            "heartbeat_secs",
            "max_attempts",
            "retry_backoff_ms",
            "orphan_grace_secs",
            "file",
            "format",
            "span_timings",
            "public_url",
            "session_idle_minutes",
            "session_absolute_hours",
        ] {
            assert!(example.contains(&format!("\n{key} =")), "{key} missing from the example");
        }
    }

    #[test]
    fn the_session_cookie_is_secure_behind_https() {
        let mut s = Settings::default();
        assert!(!s.console.secure_cookie());
        s.console.public_url = "https://fieldproof.example.co.id".into();
        assert!(s.console.secure_cookie());
        assert_eq!(s.validate(), Ok(()));
        s.console.public_url = "fieldproof.example".into();
        s.console.session_idle_minutes = 0;
        assert_eq!(s.validate().unwrap_err().len(), 2);
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let mut s = Settings::default();
        s.database.url = "postgres://fp:hunter2@db/fp".into();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn debug_output_hides_the_object_store_secret() {
        let mut s = Settings::default();
        s.storage.secret_access_key = Secret::new("s3-very-secret");
        let printed = format!("{s:?} {:?}", s.storage.credentials());
        assert!(!printed.contains("s3-very-secret"), "{printed}");
        assert!(printed.contains("***"), "{printed}");
    }
}
