//! The filesystem store: one file per key under a root directory. Writes go to a temporary
//! file first and are renamed into place, so a reader never sees half an object.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::keys::is_valid_key;
use super::store::{ByteStream, ObjectStore, StorageError};

pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    /// Creates the root directory if needed.
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(root.join(".tmp"))?;
        Ok(Self { root })
    }

    /// Writes a new object: `write` fills a temporary file (and returns it open), which is
    /// synced and renamed into place, all in one blocking task — tokio's file would copy a photo
    /// into its own buffer and hop threads once per 2 MB chunk. An existing key is refused.
    async fn place(
        &self,
        key: &str,
        write: impl FnOnce(&Path) -> std::io::Result<std::fs::File> + Send + 'static,
    ) -> Result<(), StorageError> {
        let path = self.path(key)?;
        let tmp = self.root.join(".tmp").join(uuid::Uuid::new_v4().simple().to_string());
        let key = key.to_string();
        tokio::task::spawn_blocking(move || -> Result<(), StorageError> {
            if path.try_exists()? {
                return Err(StorageError::AlreadyExists(key));
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let result = (|| {
                let file = write(&tmp)?;
                file.sync_all()?;
                forget_cached_pages(&file);
                drop(file);
                std::fs::rename(&tmp, &path)
            })();
            if let Err(e) = result {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.into());
            }
            Ok(())
        })
        .await
        .map_err(|e| StorageError::Io(std::io::Error::other(format!("write task failed: {e}"))))?
    }

    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        if !is_valid_key(key) {
            return Err(StorageError::InvalidKey(key.to_string()));
        }
        Ok(self.root.join(key))
    }
}

/// Once a photo is on disk, its pages leave the page cache: a photo is written once and read
/// rarely (a reviewer, days later), so caching it only pushes out what is read often (the
/// database), and on a VM every new cache page is a fresh guest page, which costs several times
/// the copy itself to touch (BENCHMARKS.md: 5.3 ms versus 0.8 ms per 2.2 MB file). Advice only:
/// a failure changes nothing that matters.
fn forget_cached_pages(file: &std::fs::File) {
    #[cfg(target_os = "linux")]
    let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::DontNeed);
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Size of one read of a streamed download.
const STREAM_CHUNK: usize = 256 * 1024;

#[async_trait]
impl ObjectStore for FsStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "fs", key = %key))]
    async fn put_file(&self, key: &str, source: &Path) -> Result<(), StorageError> {
        let source = source.to_path_buf();
        // A copy, not a rename: the source may be on another filesystem (the temporary
        // directory), and it is the caller's to delete.
        self.place(key, move |tmp| {
            std::fs::copy(&source, tmp)?;
            std::fs::File::open(tmp)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "fs", key = %key, bytes = bytes.len()))]
    async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), StorageError> {
        self.place(key, move |tmp| {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(tmp)?;
            file.write_all(&bytes)?;
            Ok(file)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "fs", key = %key))]
    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StorageError::NotFound(key.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "fs", key = %key))]
    async fn get_stream(&self, key: &str) -> Result<ByteStream, StorageError> {
        use futures_util::StreamExt;
        use tokio::io::AsyncReadExt;
        let path = self.path(key)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StorageError::NotFound(key.to_string())),
            Err(e) => return Err(e.into()),
        };
        let stream = futures_util::stream::try_unfold(file, |mut file| async move {
            let mut chunk = bytes::BytesMut::with_capacity(STREAM_CHUNK);
            match file.read_buf(&mut chunk).await? {
                0 => Ok(None),
                _ => Ok(Some((chunk.freeze(), file))),
            }
        });
        Ok(stream.map(|r: Result<bytes::Bytes, std::io::Error>| r.map_err(StorageError::from)).boxed())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "fs", key = %key))]
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "fs", prefix = %prefix))]
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let root = self.root.clone();
        let prefix = prefix.to_string();
        tokio::task::spawn_blocking(move || {
            // Walk only the directory the prefix names, then filter by the rest of it.
            let dir = match prefix.rfind('/') {
                Some(i) => root.join(&prefix[..i]),
                None => root.clone(),
            };
            let mut keys = Vec::new();
            let mut pending = vec![dir];
            while let Some(dir) = pending.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(StorageError::Io(e)),
                };
                for entry in entries {
                    let path = entry?.path();
                    let Ok(relative) = path.strip_prefix(&root) else { continue };
                    let key = relative.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
                    if key == ".tmp" || key.starts_with(".tmp/") {
                        continue;
                    }
                    if path.is_dir() {
                        pending.push(path);
                    } else if key.starts_with(&prefix) {
                        keys.push(key);
                    }
                }
            }
            Ok(keys)
        })
        .await
        .map_err(|e| StorageError::Backend(format!("listing task failed: {e}")))?
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "fs"))]
    async fn ping(&self) -> Result<(), StorageError> {
        let probe = self.root.join(".tmp").join(format!("ping-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(())
    }
}
