//! Bearer tokens: random, shown once, stored only as their SHA-256.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

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
/// tokens than [`FREE_BEARER_FAILURES`], its bad tokens are answered `auth_throttled` (429 with
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

/// Failed bearer requests per client address, in this server's memory (each instance counts
/// its own; a sign-in's failures are in the database, see `sessions`). The first
/// [`FREE_BEARER_FAILURES`] in [`FAILURE_WINDOW`] are free; each further one earns a growing
/// wait (1 s, 2 s, 4 s … 15 min).
#[derive(Default)]
pub struct BearerFailures(Mutex<HashMap<Option<IpAddr>, Strikes>>);

#[derive(Clone, Copy)]
struct Strikes {
    count: i64,
    since: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// Bad tokens tolerated per address in the window (a phone with a stale token retries a few
/// times; a guesser sends thousands).
pub const FREE_BEARER_FAILURES: i64 = 20;
const FAILURE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
/// Addresses remembered at most (older ones are forgotten first, then all).
const MAX_ADDRESSES: usize = 10_000;

impl BearerFailures {
    fn locked_until(&self, address: Option<IpAddr>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&address).and_then(|s| s.locked_until).filter(|&until| until > now)
    }

    fn fail(&self, address: Option<IpAddr>, now: DateTime<Utc>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ADDRESSES {
            map.retain(|_, s| now - s.since < FAILURE_WINDOW);
            if map.len() >= MAX_ADDRESSES {
                map.clear();
            }
        }
        let strikes = map.entry(address).or_insert(Strikes { count: 0, since: now, locked_until: None });
        if now - strikes.since >= FAILURE_WINDOW {
            *strikes = Strikes { count: 0, since: now, locked_until: None };
        }
        strikes.count += 1;
        if let Some(wait) = super::sessions::lock_for(strikes.count, FREE_BEARER_FAILURES) {
            strikes.locked_until = Some(now + wait);
        }
    }
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

    #[test]
    fn a_source_sending_bad_tokens_waits_after_the_free_ones() {
        let failures = BearerFailures::default();
        let (here, there) = (Some("10.0.0.1".parse().unwrap()), Some("10.0.0.2".parse().unwrap()));
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-02T08:00:00Z").unwrap().to_utc();
        for _ in 0..FREE_BEARER_FAILURES {
            failures.fail(here, t0);
        }
        assert_eq!(failures.locked_until(here, t0), None, "the free failures cost nothing");
        failures.fail(here, t0);
        assert_eq!(failures.locked_until(here, t0), Some(t0 + chrono::Duration::seconds(1)));
        assert_eq!(failures.locked_until(there, t0), None, "another address is not held");
        assert_eq!(failures.locked_until(here, t0 + chrono::Duration::seconds(2)), None, "the wait ends");
    }
}
