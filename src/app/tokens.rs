//! API tokens a user holds: issued with an expiry, listed without their secret, revoked by id.
//! A user manages their own; an admin anyone's (the CLI too, for an operator without a token).

use chrono::Duration;
use serde_json::json;

use super::auth::{new_token, token_hash};
use super::{App, AppError};
use crate::domain::directory::{TokenInfo, TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS};
use crate::domain::ids::UserId;
use crate::domain::role::{Actor, Role};

/// A token just made: the secret (shown this once) and what is kept of it.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub info: TokenInfo,
}

/// Makes a token for `user`, valid `days` (default [`TOKEN_DEFAULT_DAYS`], at most
/// [`TOKEN_MAX_DAYS`]). `actor` is `None` for the CLI.
pub async fn issue(app: &App, actor: Option<&Actor>, user: UserId, label: &str, days: Option<u32>) -> Result<Issued, AppError> {
    let days = days.unwrap_or(TOKEN_DEFAULT_DAYS);
    if !(1..=TOKEN_MAX_DAYS).contains(&days) {
        return Err(AppError::invalid("token_lifetime_invalid", format!("a token lives 1 to {TOKEN_MAX_DAYS} days")));
    }
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 || !crate::domain::text::is_text(label) {
        return Err(AppError::invalid("token_label_invalid", "a token's label has 1 to 100 characters of text"));
    }
    if app.repo.get_user(user).await?.is_none() {
        return Err(AppError::not_found("user_not_found", format!("user {user} not found")));
    }
    let now = app.now();
    let token = new_token();
    let hash = token_hash(&token);
    app.repo.issue_token(user, &hash, label, now, Some(now + Duration::days(i64::from(days)))).await?;
    let info =
        app.repo.token_by_hash(&hash).await?.map(|(_, info)| info).ok_or_else(|| AppError::internal("the token just made is gone"))?;
    if let Some(actor) = actor {
        let entry = app.audit(actor, "token.issued", "token", info.id.clone(), json!({ "user_id": user, "expires_at": info.expires_at }));
        app.repo.append_audit(&entry).await?;
    }
    Ok(Issued { token, info })
}

/// The tokens of `user` (the caller's own unless an admin asks for another's).
pub async fn list(app: &App, actor: &Actor, user: Option<UserId>) -> Result<Vec<TokenInfo>, AppError> {
    let user = user.unwrap_or(actor.id);
    if user != actor.id && actor.role != Role::Admin {
        return Err(AppError::forbidden("role_forbidden", "only admins see other users' tokens"));
    }
    Ok(app.repo.list_tokens(user).await?)
}

/// Revokes a token by id: the caller's own, or anyone's for an admin (`actor` `None`: the CLI).
/// Another user's token is "not found" to a non-admin; revoking twice answers the same.
pub async fn revoke(app: &App, actor: Option<&Actor>, id: &str) -> Result<TokenInfo, AppError> {
    let not_found = || AppError::not_found("token_not_found", format!("token {id} not found"));
    let valid = id.len() == TokenInfo::ID_LEN && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    let info = if valid { app.repo.token_by_id(id).await?.ok_or_else(not_found)? } else { return Err(not_found()) };
    if let Some(actor) = actor {
        if info.user_id != actor.id && actor.role != Role::Admin {
            return Err(not_found());
        }
    }
    if info.revoked_at.is_none() {
        app.repo.revoke_token(id, app.now()).await?;
        if let Some(actor) = actor {
            let entry = app.audit(actor, "token.revoked", "token", id.to_string(), json!({ "user_id": info.user_id }));
            app.repo.append_audit(&entry).await?;
        }
    }
    app.repo.token_by_id(id).await?.ok_or_else(not_found)
}
