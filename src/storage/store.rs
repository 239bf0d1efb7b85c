//! The object store's contract: what a store promises, and why a call failed.

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
            StorageError::Io(e) if matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded) => {
                "storage_full"
            }
            StorageError::Io(e) if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem => "storage_read_only",
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
    /// Stores a new object from a file, reading it a part at a time (memory stays a part
    /// whatever the file's size): for exports, which may be gigabytes. Same promises as `put`.
    async fn put_file(&self, key: &str, path: &std::path::Path) -> Result<(), StorageError>;
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
