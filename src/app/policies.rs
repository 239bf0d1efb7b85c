//! The SOP over time (issue 18, SOP ch. 10): policy versions with effective dates. A visit is
//! judged by the version in force on its visit date — the latest whose `effective_from` is on or
//! before it — and the configured policy (the file, else the built-in defaults) before the first
//! version. An admin adds a version from a policy file (API and CLI); it is validated as the
//! configured file is, and takes effect from a date no branch has reached yet, so no visit is
//! judged by two policies and every instance has read it before it counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use uuid::Uuid;

use super::{App, AppError, LoadedPolicy as Loaded};
use crate::db::PolicyVersion;
use crate::domain::policy::Policy;
use crate::domain::role::{Actor, Role};
use crate::domain::time::local_date;

/// How long an instance trusts the versions it read before reading them again.
const FRESH_FOR: Duration = Duration::from_secs(30);

/// The policy that judges what happened on `date`, and the version it is (`None`: the
/// configured policy).
pub async fn policy_at(app: &App, date: NaiveDate) -> Result<(Option<Uuid>, Arc<Policy>), AppError> {
    let fresh = app
        .policy_book
        .loaded
        .read()
        .map_err(|_| AppError::internal("policy book poisoned"))?
        .as_ref()
        .is_some_and(|(at, _)| at.elapsed() < FRESH_FOR);
    if !fresh {
        refresh(app).await?;
    }
    let guard = app.policy_book.loaded.read().map_err(|_| AppError::internal("policy book poisoned"))?;
    let versions = guard.as_ref().map(|(_, v)| v.as_slice()).unwrap_or_default();
    Ok(match versions.iter().rev().find(|v| v.effective_from <= date) {
        Some(v) => (Some(v.id), v.policy.clone()),
        None => (None, app.policy.clone()),
    })
}

/// The policy in force today (in WIB): what classification, plans and the day close use.
pub async fn policy_now(app: &App) -> Result<Arc<Policy>, AppError> {
    Ok(policy_at(app, local_date(app.now(), chrono_tz::Asia::Jakarta)).await?.1)
}

/// Reads the stored versions again. A stored version that no longer parses (an upgrade renamed
/// a key) is left out, loudly: the one before it stays in force.
pub async fn refresh(app: &App) -> Result<(), AppError> {
    let stored = app.repo.list_policy_versions().await?;
    let mut loaded = Vec::with_capacity(stored.len());
    for v in stored {
        match parse(app, &v.body) {
            Ok(policy) => loaded.push(Loaded { id: v.id, effective_from: v.effective_from, policy: Arc::new(policy) }),
            Err(problems) => {
                tracing::error!(version = %v.id, effective_from = %v.effective_from, ?problems, "a stored policy version no longer parses; skipped")
            }
        }
    }
    *app.policy_book.loaded.write().map_err(|_| AppError::internal("policy book poisoned"))? = Some((Instant::now(), loaded));
    Ok(())
}

/// A policy file merged over the defaults and checked, as the configured file is.
fn parse(app: &App, toml: &str) -> Result<Policy, Vec<String>> {
    let policy = Policy::from_toml(toml)?;
    let problems = app.taxonomy.check_policy(&policy);
    if problems.is_empty() {
        Ok(policy)
    } else {
        Err(problems)
    }
}

/// The first date a new version may take effect: tomorrow in the easternmost zone (WIT), the
/// first branch to reach a date.
pub fn earliest_effective(app: &App) -> NaiveDate {
    let today = local_date(app.now(), chrono_tz::Asia::Jayapura);
    today.succ_opt().unwrap_or(today)
}

/// Adds a version (admins; audited).
pub async fn add(app: &App, actor: &Actor, effective_from: NaiveDate, toml: &str) -> Result<PolicyVersion, AppError> {
    super::access::require(actor.role == Role::Admin, "policy versions are added by admins")?;
    let version = store(app, effective_from, toml, Some(actor.id)).await?;
    let detail = serde_json::json!({ "effective_from": effective_from });
    app.repo.append_audit(&app.audit(actor, "policy.version_added", "policy_version", version.id.to_string(), detail)).await?;
    Ok(version)
}

/// Adds a version from the command line (the operator: no user).
pub async fn add_from_cli(app: &App, effective_from: NaiveDate, toml: &str) -> Result<PolicyVersion, AppError> {
    store(app, effective_from, toml, None).await
}

async fn store(
    app: &App,
    effective_from: NaiveDate,
    toml: &str,
    by: Option<crate::domain::ids::UserId>,
) -> Result<PolicyVersion, AppError> {
    let earliest = earliest_effective(app);
    if effective_from < earliest {
        return Err(AppError::invalid(
            "policy_effective_too_soon",
            format!("a new version takes effect from {earliest} at the earliest (a day no branch has begun)"),
        ));
    }
    if toml.len() > 256 * 1024 {
        return Err(AppError::invalid("policy_invalid", "a policy file is at most 256 KiB"));
    }
    parse(app, toml).map_err(|problems| AppError::invalid("policy_invalid", problems.join("; ")))?;
    let version = PolicyVersion { id: Uuid::new_v4(), effective_from, body: toml.to_string(), created_at: app.now(), created_by: by };
    if !app.repo.insert_policy_version(&version).await? {
        return Err(AppError::conflict("policy_version_exists", format!("a version already takes effect on {effective_from}")));
    }
    refresh(app).await?;
    Ok(version)
}

/// Every version, oldest first (any signed-in user: reps read the rules they are judged by).
pub async fn list(app: &App) -> Result<Vec<PolicyVersion>, AppError> {
    Ok(app.repo.list_policy_versions().await?)
}
