//! The `ObjectStore` promises, checked the same way on the filesystem store and on the S3 store
//! against a real Garage: whole objects, never overwritten, missing is `NotFound`, deleting is
//! idempotent, keys are ours; a file is stored whole, in parts when it is large.

use std::sync::Arc;

use bytes::Bytes;

use fieldproof::config::StorageSettings;
use fieldproof::storage::{new_photo_key, ObjectStore, StorageError};

async fn keeps_its_promises(store: Arc<dyn ObjectStore>) {
    store.ping().await.expect("ping");
    let key = new_photo_key("jpeg");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    store.put(&key, bytes.clone().into()).await.expect("put");
    assert_eq!(store.get(&key).await.expect("get"), bytes, "the same bytes come back");
    let streamed: Vec<u8> = {
        use futures_util::TryStreamExt;
        let chunks: Vec<Bytes> = store.get_stream(&key).await.expect("get_stream").try_collect().await.expect("every chunk");
        chunks.concat()
    };
    assert_eq!(streamed, bytes, "streamed, the same bytes");
    match store.put(&key, Bytes::from_static(b"other bytes")).await {
        Err(StorageError::AlreadyExists(k)) => assert_eq!(k, key),
        other => panic!("second put: {other:?}"),
    }
    assert_eq!(store.get(&key).await.unwrap(), bytes, "a refused put leaves the object as it was");
    let empty = new_photo_key("png");
    store.put(&empty, Bytes::new()).await.expect("an empty object");
    assert!(store.get(&empty).await.unwrap().is_empty());

    let mut listed = store.list("photos/").await.expect("list");
    listed.sort();
    let mut expected = vec![key.clone(), empty.clone()];
    expected.sort();
    assert_eq!(listed, expected, "list names exactly the objects under the prefix");
    assert!(store.list("photos/zz-none/").await.unwrap().is_empty());
    assert_eq!(store.list(&key[..key.len() - 6]).await.unwrap(), std::slice::from_ref(&key), "a prefix inside a name");

    let missing = new_photo_key("jpeg");
    assert!(matches!(store.get(&missing).await, Err(StorageError::NotFound(_))));
    assert!(matches!(store.get_stream(&missing).await, Err(StorageError::NotFound(_))), "missing before the first chunk");
    store.delete(&key).await.expect("delete");
    assert!(matches!(store.get(&key).await, Err(StorageError::NotFound(_))));
    store.delete(&key).await.expect("deleting twice is not an error");
    store.delete(&missing).await.expect("deleting what never existed is not an error");
    assert_eq!(store.list("photos/").await.unwrap(), std::slice::from_ref(&empty));
    // A file, read a part at a time: one PUT when small, a multipart upload (16 MiB parts) when
    // larger — both whole, neither over an existing object.
    for size in [5_000usize, 16 * 1024 * 1024 + 12_345] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let content: Vec<u8> = (0..size).map(|i| (i * 13 % 253) as u8).collect();
        std::io::Write::write_all(&mut file, &content).unwrap();
        let key = format!("exports/te/st-{size}.zip");
        store.put_file(&key, file.path()).await.expect("put_file");
        assert!(store.get(&key).await.unwrap() == content, "a {size}-byte file comes back whole");
        assert!(matches!(store.put_file(&key, file.path()).await, Err(StorageError::AlreadyExists(_))), "never overwritten");
        store.delete(&key).await.unwrap();
    }
    for bad in ["../etc/passwd", "/abs", "photos/UPPER.jpeg", "a//b", ""] {
        assert!(matches!(store.put(bad, Bytes::from_static(b"x")).await, Err(StorageError::InvalidKey(_))), "{bad:?}");
        assert!(matches!(store.get(bad).await, Err(StorageError::InvalidKey(_))), "{bad:?}");
    }
}

#[tokio::test]
async fn filesystem_store() {
    let dir = tempfile::tempdir().unwrap();
    let settings = StorageSettings { url: format!("file://{}", dir.path().display()), ..Default::default() };
    keeps_its_promises(settings.open_store().unwrap()).await;
}

#[tokio::test]
async fn s3_store_on_garage() {
    let Some(garage) = crate::garage::garage() else { return };
    let settings = garage.new_bucket();
    keeps_its_promises(settings.open_store().unwrap()).await;

    // Wrong credentials and a missing bucket are refused, never mistaken for a missing object.
    let wrong = StorageSettings { secret_access_key: "0".repeat(64).into(), ..settings.clone() };
    let store = wrong.open_store().unwrap();
    assert!(matches!(store.get(&new_photo_key("jpeg")).await, Err(StorageError::Backend(_))));
    assert!(matches!(store.get_stream(&new_photo_key("jpeg")).await, Err(StorageError::Backend(_))));
    assert!(store.ping().await.is_err());
    let no_bucket = StorageSettings { url: settings.url.replacen("fp-test-", "fp-none-", 1), ..settings };
    let store = no_bucket.open_store().unwrap();
    assert!(store.ping().await.is_err());
    assert!(matches!(store.get(&new_photo_key("jpeg")).await, Err(StorageError::Backend(_))));
    assert!(matches!(store.get_stream(&new_photo_key("jpeg")).await, Err(StorageError::Backend(_))));
}
