//! The command line: `serve` (default), `migrate`, `branch add`, `user add`, `user set-password`, `demo` …

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::domain::directory::{Branch, User};
use crate::domain::holiday::HolidaySource;
use crate::domain::ids::{stable_uuid, BranchId, UserId};
use crate::domain::role::Role;

#[derive(Debug, Parser)]
#[command(name = "fieldproof", version, about = "Proves field-sales visits happened and met the visit SOP")]
pub struct Cli {
    /// Configuration file (default: ./fieldproof.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the API server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage branches.
    Branch {
        #[command(subcommand)]
        command: BranchCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens: issue one with an expiry, list a user's, revoke one by id.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import a CSV file of customers or shipment volumes (streamed; a progress line on stderr).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Classify customers now (every branch, or one).
    Classify {
        #[arg(long)]
        branch: Option<String>,
    },
    /// Manage the holiday calendar.
    Holidays {
        #[command(subcommand)]
        command: HolidaysCommand,
    },
    /// Policy versions: the SOP as HQ changes it, each in force from its date.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Load the demo data set (idempotent) and print the demo users' tokens.
    Demo,
    /// Run the photo checks on local files (no database: no reuse check, no customer distance).
    CheckPhoto {
        /// The kind the photos are checked as.
        #[arg(long, default_value = "storefront")]
        kind: String,
        /// The branch time zone for EXIF times without an offset.
        #[arg(long, default_value = "Asia/Jakarta")]
        tz: String,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// `code,name,type,branch,rep,lat,lon,radius,contact,created`, upserted by code.
    Customers { file: std::path::PathBuf },
    /// `customer_code,date,awb`, upserted by customer and date.
    Volumes { file: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Add a version from a policy file (the format of policy.example.toml), validated, in force
    /// from `--from` (a date no branch has reached yet).
    Add {
        #[arg(long)]
        from: chrono::NaiveDate,
        file: std::path::PathBuf,
    },
    /// List the versions, oldest first.
    List,
}

#[derive(Debug, Subcommand)]
pub enum HolidaysCommand {
    /// Replace the years a file holds (`{"years": {"2027": [{"date", "name", "kind"}]}}`, the
    /// format of data/holidays-id.json); without a file, the shipped national holidays.
    Load { file: Option<std::path::PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum BranchCommand {
    /// Add or update a branch.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT).
        #[arg(long, default_value = "Asia/Jakarta")]
        tz: String,
        /// The weekdays the branch works, e.g. mon,tue,wed,thu,fri,sat.
        #[arg(long, default_value = "mon,tue,wed,thu,fri")]
        working_days: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token for a login and print it (shown once).
    Issue {
        #[arg(long)]
        login: String,
        /// Days it is valid (1–365; default 90).
        #[arg(long)]
        days: Option<u32>,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// List a login's tokens (ids, labels, expiry, last use, revocation).
    List {
        #[arg(long)]
        login: String,
    },
    /// Revoke a token by its id (from `token list` or `GET /v1/tokens`).
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user and print a new API token and a one-time console password (shown once; the
    /// first sign-in must choose another).
    Add {
        #[arg(long)]
        name: String,
        /// The console login (default: the name in lower case, spaces as dots).
        #[arg(long)]
        login: Option<String>,
        /// sales, branch_marketing, supervisor, hq or admin.
        #[arg(long)]
        role: String,
        /// Branch code (required for sales, branch_marketing and supervisor).
        #[arg(long)]
        branch: Option<String>,
    },
    /// Print a new one-time console password for a login (its sessions end; the next sign-in
    /// must choose another password).
    SetPassword {
        #[arg(long)]
        login: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::CheckPhoto { kind, tz, json, files }) = &cli.command {
        crate::telemetry::init(&Default::default());
        return crate::check_photo::run(kind, tz, *json, files);
    }
    let settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let application = crate::startup::Application::build(&settings).await?;
            tracing::info!(port = application.port(), database = %crate::db::redact_url(&settings.database.url),
                storage = %settings.storage.url, "FieldProof is listening");
            application.run_until_stopped().await?;
        }
        Command::Migrate => {
            crate::startup::build_app(&settings).await?;
            println!("migrations applied");
        }
        Command::Branch { command: BranchCommand::Add { code, name, tz, working_days } } => {
            let working_days =
                crate::domain::time::Calendar::parse_weekdays(&working_days).map_err(|e| anyhow::anyhow!("--working-days: {e}"))?;
            let app = crate::startup::build_app(&settings).await?;
            let time_zone: chrono_tz::Tz = tz.parse().map_err(|_| anyhow::anyhow!("{tz:?} is not an IANA time zone"))?;
            let id = match app.repo.branch_by_code(&code).await? {
                Some(b) => b.id,
                None => BranchId(stable_uuid(&format!("branch:{code}"))),
            };
            app.repo.upsert_branch(&Branch { id, code: code.clone(), name, time_zone, working_days }).await?;
            println!("branch {code} ({id}) in {tz}");
        }
        Command::Import { command } => {
            let app = crate::startup::build_app(&settings).await?;
            let (kind, file) = match command {
                ImportCommand::Customers { file } => (crate::app::imports::ImportKind::Customers, file),
                ImportCommand::Volumes { file } => (crate::app::imports::ImportKind::Volumes, file),
            };
            let started = std::time::Instant::now();
            let progress = move |r: &crate::app::imports::ImportReport| {
                use std::io::Write;
                let rate = r.rows as f64 / started.elapsed().as_secs_f64().max(0.001);
                eprint!(
                    "\r{} rows ({:.0}/s): {} created, {} updated, {} unchanged, {} rejected   ",
                    r.rows, rate, r.created, r.updated, r.unchanged, r.rejected
                );
                let _ = std::io::stderr().flush();
            };
            let report = crate::app::imports::import_file(&app, None, kind, &file, &progress).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!();
            for e in &report.errors {
                eprintln!("line {}: {}", e.line, e.reason);
            }
            println!(
                "{}",
                serde_json::json!({ "rows": report.rows, "created": report.created, "updated": report.updated,
                                              "unchanged": report.unchanged, "rejected": report.rejected, "seconds": started.elapsed().as_secs_f64() })
            );
        }
        Command::Classify { branch } => {
            let app = crate::startup::build_app(&settings).await?;
            let branch = match branch {
                Some(code) => Some(app.repo.branch_by_code(&code).await?.ok_or_else(|| anyhow::anyhow!("no branch {code}"))?.id),
                None => None,
            };
            let started = std::time::Instant::now();
            let runs = crate::app::classes::run_now(&app, None, branch).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            for r in &runs {
                println!(
                    "{}",
                    serde_json::json!({ "branch_id": r.branch_id, "date": r.date, "customers": r.customers, "changed": r.changed, "tasks_created": r.tasks_created })
                );
            }
            eprintln!("classified in {:.1} s", started.elapsed().as_secs_f64());
        }
        Command::Policy { command: PolicyCommand::Add { from, file } } => {
            let app = crate::startup::build_app(&settings).await?;
            let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let v = crate::app::policies::add_from_cli(&app, from, &text).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::json!({ "id": v.id, "effective_from": v.effective_from }));
        }
        Command::Policy { command: PolicyCommand::List } => {
            let app = crate::startup::build_app(&settings).await?;
            for v in crate::app::policies::list(&app).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("{}", serde_json::json!({ "id": v.id, "effective_from": v.effective_from, "created_at": v.created_at }));
            }
        }
        Command::Holidays { command: HolidaysCommand::Load { file } } => {
            let app = crate::startup::build_app(&settings).await?;
            let (text, source) = match &file {
                Some(path) => {
                    (std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?, HolidaySource::Operator)
                }
                None => (crate::app::calendar::SHIPPED_HOLIDAYS.to_string(), HolidaySource::Shipped),
            };
            let days = crate::app::calendar::load_holiday_file(&app, &text, source).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{days} holidays loaded");
        }
        Command::Token { command } => {
            let app = crate::startup::build_app(&settings).await?;
            let user_of = |login: String| {
                let app = app.clone();
                async move {
                    app.repo
                        .credentials_by_login(&login)
                        .await?
                        .map(|c| c.user)
                        .ok_or_else(|| anyhow::anyhow!("no user with login {login:?}"))
                }
            };
            let show = |t: &crate::domain::directory::TokenInfo| {
                let at = |d: Option<chrono::DateTime<chrono::Utc>>| d.map_or("-".to_string(), |d| d.format("%Y-%m-%d %H:%M").to_string());
                format!(
                    "{}  {:<12} expires {}  last used {}  revoked {}",
                    t.id,
                    t.label,
                    at(t.expires_at),
                    at(t.last_used_at),
                    at(t.revoked_at)
                )
            };
            match command {
                TokenCommand::Issue { login, days, label } => {
                    let user = user_of(login).await?;
                    let issued = crate::app::tokens::issue(&app, None, user.id, &label, days).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("{}", show(&issued.info));
                    println!("API token (shown once):\n{}", issued.token);
                }
                TokenCommand::List { login } => {
                    let user = user_of(login).await?;
                    for t in app.repo.list_tokens(user.id).await? {
                        println!("{}", show(&t));
                    }
                }
                TokenCommand::Revoke { id } => {
                    let t = crate::app::tokens::revoke(&app, None, &id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("revoked: {}", show(&t));
                }
            }
        }
        Command::User { command: UserCommand::SetPassword { login } } => {
            let app = crate::startup::build_app(&settings).await?;
            let credentials =
                app.repo.credentials_by_login(&login).await?.ok_or_else(|| anyhow::anyhow!("no user with login {login:?}"))?;
            let password = crate::app::sessions::new_password();
            crate::app::sessions::set_password(&app, credentials.user.id, &password, true).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("one-time console password for {login} (shown once; the first sign-in chooses another):\n{password}");
        }
        Command::User { command: UserCommand::Add { name, login, role, branch } } => {
            let app = crate::startup::build_app(&settings).await?;
            let role =
                Role::parse(&role).ok_or_else(|| anyhow::anyhow!("role must be sales, branch_marketing, supervisor, hq or admin"))?;
            let branch_id = match branch {
                Some(code) => {
                    Some(app.repo.branch_by_code(&code).await?.ok_or_else(|| anyhow::anyhow!("no branch with code {code:?}"))?.id)
                }
                None if matches!(role, Role::Sales | Role::BranchMarketing | Role::Supervisor) => {
                    anyhow::bail!("--branch is required for {}", role.as_str())
                }
                None => None,
            };
            let login = login.unwrap_or_else(|| name.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("."));
            if app.repo.credentials_by_login(&login).await?.is_some() {
                anyhow::bail!("login {login:?} is taken; choose another with --login");
            }
            let user = User { id: UserId::new_random(), name, role, branch_id };
            let now = chrono::Utc::now();
            app.repo.upsert_user(&user, now).await?;
            crate::app::sessions::set_login(&app, user.id, &login).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = crate::app::sessions::new_password();
            crate::app::sessions::set_password(&app, user.id, &password, true).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let issued = crate::app::tokens::issue(&app, None, user.id, "cli", None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("user {} ({}) added, console login {login}.", user.name, user.id);
            println!(
                "API token (shown once; valid {} days, until {}):\n{}",
                crate::domain::directory::TOKEN_DEFAULT_DAYS,
                issued.info.expires_at.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                issued.token
            );
            println!("one-time console password (shown once; the first sign-in chooses another):\n{password}");
        }
        Command::CheckPhoto { .. } => unreachable!("handled above: it needs no configuration"),
        Command::Demo => {
            let app = crate::startup::build_app(&settings).await?;
            let logins = crate::app::demo::load(&app).await?;
            println!(
                "Demo data loaded (3 branches, {} users, 30 customers, today's tasks). Demo logins (console password, API token):",
                logins.len()
            );
            for l in logins {
                println!(
                    "  {:<8} {:<17} {:<4} {:<20} {}",
                    l.login,
                    l.role.as_str(),
                    l.branch.as_deref().unwrap_or("-"),
                    l.password,
                    l.token
                );
            }
        }
    }
    Ok(())
}
