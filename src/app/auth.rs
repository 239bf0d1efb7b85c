//! Bearer tokens: random, shown once, stored only as their SHA-256.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use std::net::IpAddr;

use super::{App, AppError};
use crate::domain::role::Actor;

/// A fresh token: `fp_` + 32 random bytes, base64url.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("fp_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database stores for a token. Tokens carry 256 bits of entropy, so a plain
/// SHA-256 (no salt, no stretching) is enough and lets the lookup be an index hit.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The actor behind a bearer token, from a client at `address`. A token that is unknown,
/// revoked or expired is one answer (`unauthorized`, no oracle); once a source has sent more such
/// tokens than `server.free_bearer_failures`, its bad tokens are answered `auth_throttled` (429 with
/// `Retry-After`) until its wait ends. A good token from the same address always passes: one
/// phone with a stale token must not lock its whole office out (a token has 256 bits, so
/// letting good ones through teaches a guesser nothing).
pub async fn authenticate(app: &App, token: &str, address: Option<IpAddr>) -> Result<Actor, AppError> {
    let now = app.now();
    let hash = token_hash(token);
    let found = if token.is_empty() || token.len() > 256 { None } else { app.repo.token_by_hash(&hash).await? };
    let Some((user, info)) = found.filter(|(_, info)| info.usable_at(now)) else {
        let locked = app.bearer_failures.locked_until(address, now);
        app.bearer_failures.fail(address, now);
        return Err(match locked.or_else(|| app.bearer_failures.locked_until(address, now)) {
            Some(until) => {
                let secs = (until - now).num_seconds().max(1) as u64;
                AppError::TooManyRequests {
                    code: "auth_throttled",
                    detail: format!("too many requests with a bad token; try again in {secs} s"),
                    retry_after_secs: secs,
                }
            }
            None => AppError::Unauthorized,
        });
    };
    if info.use_is_news(now) {
        app.repo.touch_token(&hash, now).await?;
    }
    Ok(Actor { id: user.id, name: user.name, role: user.role, branch_id: user.branch_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        assert!(a.starts_with("fp_") && a.len() == 46, "{a}");
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
    }
}
