//! Waits earned by runs of failures: a console sign-in's (kept in the database, see
//! `sessions`) and a bearer token's (kept here, in memory).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// The longest wait a run of failures earns.
const MAX_LOCK_SECS: i64 = 15 * 60;

/// The wait a run of failures earns: nothing for the free ones, then 1 s, 2 s, 4 s … up to
/// 15 minutes.
pub fn lock_for(failures: i64, free: i64) -> Option<chrono::Duration> {
    let over = failures - free;
    (over > 0).then(|| chrono::Duration::seconds((1i64 << (over - 1).min(20)).min(MAX_LOCK_SECS)))
}

/// Failed bearer requests per client address, in this server's memory (each instance counts
/// its own; a sign-in's failures are in the database, see `sessions`). The first `free`
/// (`server.free_bearer_failures`, [`FREE_BEARER_FAILURES`] by default) in [`FAILURE_WINDOW`]
/// are free; each further one earns a growing wait (1 s, 2 s, 4 s … 15 min).
pub struct BearerFailures {
    free: i64,
    strikes: Mutex<HashMap<Option<IpAddr>, Strikes>>,
}

impl Default for BearerFailures {
    fn default() -> Self {
        Self::new(FREE_BEARER_FAILURES)
    }
}

#[derive(Clone, Copy)]
struct Strikes {
    count: i64,
    since: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// Bad tokens tolerated per address in the window by default (a phone with a stale token retries a few
/// times; a guesser sends thousands).
pub const FREE_BEARER_FAILURES: i64 = 20;
const FAILURE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
/// Addresses remembered at most (older ones are forgotten first, then all).
const MAX_ADDRESSES: usize = 10_000;

impl BearerFailures {
    pub fn new(free: i64) -> Self {
        Self { free, strikes: Mutex::default() }
    }

    pub fn locked_until(&self, address: Option<IpAddr>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let map = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&address).and_then(|s| s.locked_until).filter(|&until| until > now)
    }

    pub fn fail(&self, address: Option<IpAddr>, now: DateTime<Utc>) {
        let mut map = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
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
        if let Some(wait) = lock_for(strikes.count, self.free) {
            strikes.locked_until = Some(now + wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn failures_earn_growing_waits_up_to_a_cap() {
        assert_eq!(lock_for(5, 5), None);
        assert_eq!(lock_for(6, 5), Some(chrono::Duration::seconds(1)));
        assert_eq!(lock_for(8, 5), Some(chrono::Duration::seconds(4)));
        assert_eq!(lock_for(60, 5), Some(chrono::Duration::seconds(MAX_LOCK_SECS)));
    }
}
