//! Bearer tokens: random, shown once, stored only as their SHA-256.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

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

/// The actor behind a bearer token.
pub async fn authenticate(app: &App, token: &str) -> Result<Actor, AppError> {
    if token.is_empty() || token.len() > 256 {
        return Err(AppError::Unauthorized);
    }
    let user = app.repo.user_by_token(&token_hash(token)).await?.ok_or(AppError::Unauthorized)?;
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
