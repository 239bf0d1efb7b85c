//! A real single-node Garage (the S3-compatible store) for the PostgreSQL leg, started once per
//! test process on loopback ports and configured here: layout, an access key, one bucket per
//! test. No mock: the S3 store talks HTTP to the real server.
//!
//! The binary is `FIELDPROOF_GARAGE_BIN`, else `garage` on `PATH` or in `~/.cargo/bin`
//! (`.ci/run` installs it there with `cargo install garage --locked` when it is missing). Without
//! it the PostgreSQL leg keeps the filesystem store, unless `FIELDPROOF_REQUIRE_GARAGE=1` (set by
//! `.ci/run`), where skipping would hide a broken store.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fieldproof::config::StorageSettings;
use rand::Rng;

pub struct Garage {
    bin: PathBuf,
    config: PathBuf,
    endpoint: String,
    key_id: String,
    secret: String,
    log: PathBuf,
    /// The running server's process id (0 while stopped).
    pid: std::sync::Mutex<u32>,
    _dir: tempfile::TempDir,
}

/// The process's Garage, started on first use; `None` when there is no binary (and none is
/// required).
pub fn garage() -> Option<&'static Garage> {
    static GARAGE: OnceLock<Option<Garage>> = OnceLock::new();
    let garage = GARAGE.get_or_init(|| {
        let required = std::env::var("FIELDPROOF_REQUIRE_GARAGE").as_deref() == Ok("1");
        match find_binary() {
            Some(bin) => Some(Garage::start(bin)),
            None if required => panic!("FIELDPROOF_REQUIRE_GARAGE=1 but no garage binary (FIELDPROOF_GARAGE_BIN, PATH, ~/.cargo/bin)"),
            None => None,
        }
    });
    if garage.is_none() {
        skipped("Garage (no garage binary); S3 runs are left out");
    }
    garage.as_ref()
}

/// A Garage of the caller's own, for a test that stops and starts it; `None` (the test skipped)
/// when there is no binary and none is required. Killed when dropped.
pub fn own_garage() -> Option<Garage> {
    let required = std::env::var("FIELDPROOF_REQUIRE_GARAGE").as_deref() == Ok("1");
    match find_binary() {
        Some(bin) => Some(Garage::start(bin)),
        None if required => panic!("FIELDPROOF_REQUIRE_GARAGE=1 but no garage binary (FIELDPROOF_GARAGE_BIN, PATH, ~/.cargo/bin)"),
        None => {
            skipped("Garage (no garage binary)");
            None
        }
    }
}

/// Says in the test output that part of the running test was skipped. Written to the process's
/// stderr itself, which the test harness does not capture, so it shows for a passing test too.
pub fn skipped(what: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {what}");
}

fn find_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("FIELDPROOF_GARAGE_BIN") {
        return Some(PathBuf::from(bin));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join("garage")).find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

fn hex(rng: &mut impl Rng, bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rng.gen::<u8>())).collect()
}

impl Garage {
    fn start(bin: PathBuf) -> Garage {
        let dir = tempfile::Builder::new().prefix("fp-garage-").tempdir().expect("garage dir");
        let (rpc, s3, admin) = (free_port(), free_port(), free_port());
        let mut rng = rand::thread_rng();
        let config = dir.path().join("garage.toml");
        std::fs::write(
            &config,
            format!(
                r#"metadata_dir = "{dir}/meta"
data_dir = "{dir}/data"
db_engine = "sqlite"
metadata_fsync = false
data_fsync = false
replication_factor = 1
# Photos are JPEG/HEIC, already compressed: zstd (Garage's default, level 1) would spend CPU on
# every block for nothing.
compression_level = "none"
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
admin_token = "{token}"
"#,
                dir = dir.path().display(),
                secret = hex(&mut rng, 32),
                token = hex(&mut rng, 16),
            ),
        )
        .expect("write garage.toml");
        let log = dir.path().join("garage.log");
        let pid = spawn_server(&bin, &config, &log);

        let garage = Garage {
            bin,
            config,
            endpoint: format!("http://127.0.0.1:{s3}"),
            key_id: format!("GK{}", hex(&mut rng, 12)),
            secret: hex(&mut rng, 32),
            log,
            pid: std::sync::Mutex::new(pid),
            _dir: dir,
        };
        // `status` answers once the node's RPC is up; then give it the whole (one-node) layout.
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Err(e) = garage.try_cli(&["status"]) {
            assert!(Instant::now() < deadline, "garage did not come up: {e}\n{}", garage.log_tail());
            std::thread::sleep(Duration::from_millis(100));
        }
        let node = garage.cli(&["node", "id", "-q"]).trim().split('@').next().unwrap_or_default().to_string();
        garage.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]);
        garage.cli(&["layout", "apply", "--version", "1"]);
        garage.cli(&["key", "import", "--yes", "-n", "fieldproof-test", &garage.key_id, &garage.secret]);
        garage
    }

    /// Kills the server (SIGKILL: whatever it was writing stays half-written) and waits until
    /// its S3 port refuses connections.
    pub fn stop(&self) {
        self.kill();
        let address = self.endpoint.trim_start_matches("http://").to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&address).is_ok() {
            assert!(Instant::now() < deadline, "garage did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends the running server SIGKILL (nothing when it is stopped).
    fn kill(&self) {
        let mut pid = self.pid.lock().unwrap();
        if *pid != 0 {
            // SAFETY: kill(2) on the pid of the child this process started.
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
            *pid = 0;
        }
    }

    /// Starts the stopped server again on the same data and ports, and waits until it answers.
    pub fn start_again(&self) {
        let mut pid = self.pid.lock().unwrap();
        assert_eq!(*pid, 0, "garage is running");
        *pid = spawn_server(&self.bin, &self.config, &self.log);
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Err(e) = self.try_cli(&["status"]) {
            assert!(Instant::now() < deadline, "garage did not come back: {e}\n{}", self.log_tail());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn try_cli(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.bin).arg("-c").arg(&self.config).args(args).output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!("garage {}: {}{}", args.join(" "), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        self.try_cli(args).unwrap_or_else(|e| panic!("{e}\n{}", self.log_tail()))
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// A new bucket that the test key may read and write, as the server's storage settings.
    pub fn new_bucket(&self) -> StorageSettings {
        let name = format!("fp-test-{}", uuid::Uuid::new_v4().simple());
        self.cli(&["bucket", "create", &name]);
        self.cli(&["bucket", "allow", "--read", "--write", "--owner", &name, "--key", &self.key_id]);
        StorageSettings {
            url: format!("s3://{name}?endpoint={}&region=garage", self.endpoint),
            access_key_id: self.key_id.clone(),
            secret_access_key: self.secret.clone().into(),
        }
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Makes a child process die with the thread that spawns it (`PR_SET_PDEATHSIG`), so no test
/// run leaves a server behind.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe; it runs in the child between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Starts `garage server` from a thread that lives as long as the test process, with the
/// kernel told to kill it when that thread dies — so no test run leaves a server behind.
/// Returns its process id.
fn spawn_server(bin: &Path, config: &Path, log: &Path) -> u32 {
    let (bin, config) = (bin.to_path_buf(), config.to_path_buf());
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("garage log");
    let (started, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut command = Command::new(&bin);
        command
            .arg("-c")
            .arg(&config)
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        die_with_parent(&mut command);
        let mut child = command.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        started.send(child.id()).expect("test thread waits");
        let _ = child.wait();
    });
    wait.recv().expect("garage server spawned")
}
