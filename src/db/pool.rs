//! The connection pool both backends share, and the repository that holds it.

/// The repository over one backend's pool; its methods are in `sql/`, compiled once per backend.
pub struct SqlRepo<DB: sqlx::Database> {
    pub(super) pool: sqlx::Pool<DB>,
}

/// A pooled connection idle at least this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// The pool options both backends share. sqlx pings every connection when it is acquired and
/// again when it is released: on a busy server that is two extra round trips (on SQLite, two
/// hand-offs to the connection's thread) per query. The release ping stays — it finds a broken
/// connection and drops it — and the acquire ping is kept only for a connection that sat idle,
/// the one that may have died unseen (a database restart); a connection just used is not.
pub(crate) fn pool_options<DB: sqlx::Database>(max_connections: u32) -> sqlx::pool::PoolOptions<DB> {
    use sqlx::Connection;
    sqlx::pool::PoolOptions::<DB>::new().max_connections(max_connections.max(1)).test_before_acquire(false).before_acquire(|conn, meta| {
        Box::pin(async move {
            if meta.idle_for >= PING_IF_IDLE_FOR {
                conn.ping().await?;
            }
            Ok(true)
        })
    })
}
