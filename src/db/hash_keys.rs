//! The near-duplicate index's key maths (migration 0003): a photo's perceptual hashes are cut
//! into 32-bit chunks, each stored under its own key; a lookup probes every chunk and its
//! one-bit neighbours, so a stored hash within one bit in any chunk is a candidate.

/// Index slots per photo: 8 dHash chunks, then the aHash's low and high halves.
pub const HASH_KEY_SLOTS: usize = 10;

/// The 32-bit chunks of a photo's hashes, by slot (see migration 0003).
fn hash_chunks(dhash: &[u8; 32], ahash: u64) -> [u32; HASH_KEY_SLOTS] {
    std::array::from_fn(|slot| match slot {
        0..=7 => u32::from_be_bytes([dhash[4 * slot], dhash[4 * slot + 1], dhash[4 * slot + 2], dhash[4 * slot + 3]]),
        8 => ahash as u32,
        _ => (ahash >> 32) as u32,
    })
}

fn hash_key(slot: usize, chunk: u32) -> i64 {
    ((slot as i64) << 32) | i64::from(chunk)
}

/// The keys a photo is stored under: one per slot.
pub fn hash_keys(dhash: &[u8; 32], ahash: u64) -> [i64; HASH_KEY_SLOTS] {
    let chunks = hash_chunks(dhash, ahash);
    std::array::from_fn(|slot| hash_key(slot, chunks[slot]))
}

/// The keys a lookup probes: every chunk as it is and with each one of its bits flipped, so a
/// stored hash whose chunk is within one bit is found (330 keys).
pub fn probe_keys(dhash: &[u8; 32], ahash: u64) -> Vec<i64> {
    let mut keys = Vec::with_capacity(HASH_KEY_SLOTS * 33);
    for (slot, chunk) in hash_chunks(dhash, ahash).into_iter().enumerate() {
        keys.push(hash_key(slot, chunk));
        keys.extend((0..32).map(|bit| hash_key(slot, chunk ^ (1 << bit))));
    }
    keys
}
