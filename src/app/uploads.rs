//! The photo uploads a server holds at once. A body is read whole into memory before it is
//! checked, so the bytes of all bodies in flight are bounded (`server.upload_memory_mib`), and so
//! is each user's share of them (`server.uploads_per_user`): a phone that opens twenty uploads
//! at once, or a slow client trickling one in, cannot take the memory of everyone else's. A
//! refused upload loses nothing (it was not read); the phone retries it after `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::AppError;
use crate::domain::ids::UserId;

pub struct UploadSlots {
    per_user: usize,
    mib: u32,
    min_bytes_per_sec: u64,
    memory: Arc<Semaphore>,
    users: Mutex<HashMap<UserId, usize>>,
}

/// One upload's place: its bytes of the memory budget and its user's count, given back on drop.
pub struct UploadSlot {
    _memory: OwnedSemaphorePermit,
    user: UserId,
    slots: Arc<UploadSlots>,
}

impl UploadSlots {
    pub fn new(per_user: usize, mib: u32, min_bytes_per_sec: u64) -> Arc<UploadSlots> {
        Arc::new(UploadSlots { per_user, mib, min_bytes_per_sec, memory: Arc::new(Semaphore::new(mib as usize)), users: Mutex::default() })
    }

    /// The slowest an upload's body may arrive once it holds its place
    /// (`server.min_upload_bytes_per_sec`; see `http::multipart::Pace`).
    pub fn min_bytes_per_sec(&self) -> u64 {
        self.min_bytes_per_sec
    }

    /// A place for an upload of `bytes` by `user`, now or never: `429 too_many_uploads` when the
    /// user already has `per_user` in flight, `503 server_busy` when the bodies in flight hold
    /// the whole budget (both with `Retry-After`).
    pub fn take(self: &Arc<Self>, user: UserId, bytes: u64) -> Result<UploadSlot, AppError> {
        {
            let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            let count = users.entry(user).or_insert(0);
            if *count >= self.per_user {
                return Err(AppError::TooManyRequests {
                    code: "too_many_uploads",
                    detail: format!("{} uploads of yours are in flight; send the next when one is done", self.per_user),
                    retry_after_secs: 2,
                });
            }
            *count += 1;
        }
        let mib = bytes.div_ceil(1024 * 1024).clamp(1, u64::from(self.mib)) as u32;
        match self.memory.clone().try_acquire_many_owned(mib) {
            Ok(memory) => Ok(UploadSlot { _memory: memory, user, slots: self.clone() }),
            Err(_) => {
                self.release(user);
                Err(AppError::Unavailable { code: "server_busy", detail: "the server holds as many uploads as it can; retry".into() })
            }
        }
    }

    fn release(&self, user: UserId) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = users.get_mut(&user) {
            *count -= 1;
            if *count == 0 {
                users.remove(&user);
            }
        }
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        self.slots.release(self.user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_and_the_server_each_hold_only_so_many() {
        let slots = UploadSlots::new(2, 30, 0);
        let (a, b) = (UserId::new_random(), UserId::new_random());
        let first = slots.take(a, 10 << 20).unwrap();
        let _second = slots.take(a, 1 << 20).unwrap();
        assert_eq!(slots.take(a, 1).err().map(|e| e.code()), Some("too_many_uploads"));
        let _b1 = slots.take(b, 10 << 20).unwrap();
        assert_eq!(slots.take(b, 10 << 20).err().map(|e| e.code()), Some("server_busy"), "29 of 30 MiB are held");
        drop(first);
        assert!(slots.take(b, 10 << 20).is_ok(), "a finished upload gives its place back");
        assert!(slots.take(a, 1).is_ok());
    }
}
