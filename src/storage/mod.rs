//! Object storage for photo bytes behind one trait: the filesystem (the embedded default) or
//! any S3-compatible service. Keys are opaque and ours: [`new_photo_key`] makes every one of them, the
//! database stores keys (never paths or URLs), and nothing is ever overwritten.

pub mod fs;
mod keys;
pub mod s3;
mod store;

pub use keys::{is_valid_key, new_photo_key};
pub use store::{ByteStream, ObjectStore, StorageError};

use std::sync::Arc;

/// Where a store URL points: `file:///abs/path`, `file://relative/path`, or
/// `s3://bucket?endpoint=…&region=…`. The configuration's check and [`open`] both parse it here.
#[derive(Debug, PartialEq, Eq)]
pub enum StoreUrl {
    File(std::path::PathBuf),
    S3(s3::S3Location),
}

impl StoreUrl {
    pub fn parse(url: &str) -> anyhow::Result<StoreUrl> {
        if let Some(path) = url.strip_prefix("file://") {
            anyhow::ensure!(!path.is_empty(), "object store URL {url:?} has no path");
            return Ok(StoreUrl::File(path.into()));
        }
        if url.starts_with("s3://") {
            return Ok(StoreUrl::S3(s3::S3Location::parse(url)?));
        }
        anyhow::bail!("object store URL {url:?} must be file://<directory> or s3://<bucket>?endpoint=…&region=…")
    }
}

/// Opens the store a URL names, with S3 credentials for an `s3://` one.
pub fn open(url: &str, credentials: &s3::S3Credentials) -> anyhow::Result<Arc<dyn ObjectStore>> {
    Ok(match StoreUrl::parse(url)? {
        StoreUrl::File(path) => Arc::new(fs::FsStore::new(path)?),
        StoreUrl::S3(location) => Arc::new(s3::S3Store::new(&location, credentials)?),
    })
}

/// Deletes a just-written object when dropped, unless [`CleanupGuard::disarm`]ed: a write whose
/// database row never landed leaves nothing behind.
pub struct CleanupGuard {
    store: Arc<dyn ObjectStore>,
    key: Option<String>,
}

impl CleanupGuard {
    pub fn new(store: Arc<dyn ObjectStore>, key: String) -> Self {
        Self { store, key: Some(key) }
    }

    /// The object is referenced now; keep it.
    pub fn disarm(mut self) {
        self.key = None;
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let store = self.store.clone();
            // Drop cannot await; a runtime is always present where guards are made.
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    if let Err(e) = store.delete(&key).await {
                        tracing::warn!(%key, error = %e, "cleanup of an unreferenced object failed");
                    }
                });
            }
        }
    }
}
