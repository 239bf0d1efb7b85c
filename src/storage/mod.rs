//! Object storage for photo bytes behind one trait: the filesystem (the embedded default) or
//! any S3-compatible service. Keys are opaque and ours: [`new_photo_key`] makes every one of them, the
//! database stores keys (never paths or URLs), and nothing is ever overwritten.

pub mod fs;
pub mod s3;

use std::sync::Arc;

use async_trait::async_trait;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object {0} not found")]
    NotFound(String),
    #[error("object {0} already exists")]
    AlreadyExists(String),
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage backend failed: {0}")]
    Backend(String),
}

impl StorageError {
    pub fn code(&self) -> &'static str {
        match self {
            StorageError::NotFound(_) => "object_not_found",
            StorageError::AlreadyExists(_) => "object_exists",
            StorageError::InvalidKey(_) => "object_key_invalid",
            StorageError::Io(_) | StorageError::Backend(_) => "storage_unavailable",
        }
    }
}

/// An object's bytes as they arrive, chunk by chunk.
pub type ByteStream = futures_util::stream::BoxStream<'static, Result<bytes::Bytes, StorageError>>;

/// A place for immutable objects.
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// Stores a new object; fails with `AlreadyExists` rather than overwrite. Takes the upload's
    /// own buffer (`Bytes` is reference-counted), so a store sends it without copying it.
    async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), StorageError>;
    /// Reads a whole object.
    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError>;
    /// Reads an object as a stream of chunks, so a download holds one chunk at a time. A missing
    /// object is `NotFound` here, before the first chunk.
    async fn get_stream(&self, key: &str) -> Result<ByteStream, StorageError>;
    /// Deletes an object; deleting a missing one is not an error.
    async fn delete(&self, key: &str) -> Result<(), StorageError>;
    /// Checks that the store is reachable and writable.
    async fn ping(&self) -> Result<(), StorageError>;
    /// A URL that reads the object directly from the store for `expires`, if the store has
    /// such URLs (S3 presigned GET); `None` for the filesystem.
    async fn presigned_get(&self, _key: &str, _expires: std::time::Duration) -> Result<Option<String>, StorageError> {
        Ok(None)
    }
    /// Every key that starts with `prefix` (e.g. `photos/`), in no particular order: for
    /// operators and for checks that nothing is left behind. Reads the whole listing.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError>;
}

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

/// A fresh key for a photo's bytes: random, sharded two levels deep so no directory or
/// prefix grows without bound. Example: `photos/3f/a2/3fa2…-….jpeg`.
pub fn new_photo_key(extension: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("photos/{}/{}/{}.{}", &id[0..2], &id[2..4], id, extension)
}

/// Whether a key is one of ours: relative, no `..`, only `[a-z0-9./_-]`.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with('/')
        && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"./_-".contains(&b))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_ours_and_valid() {
        let key = new_photo_key("jpeg");
        assert!(is_valid_key(&key), "{key}");
        assert_ne!(key, new_photo_key("jpeg"));
        for bad in ["", "/etc/passwd", "photos/../x", "photos//x", "Photos/X", "a/./b"] {
            assert!(!is_valid_key(bad), "{bad}");
        }
    }
}
