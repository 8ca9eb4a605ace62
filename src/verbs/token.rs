//! Unguessable 32-bit tokens naming objects in fixed-capacity tables: the
//! memory tokens (lkeys, rkeys) of MRs and MWs and the privileged PD token.
//!
//! A token is `tag << index_bits | index`: the index finds the slot, the tag
//! (fresh CSPRNG output each time a slot is filled) must match. A peer that
//! guesses has one chance in `2^(32 - index_bits)` per try, and a closed
//! slot's old tokens never match again while the slot is reused.
//! Owns token minting and lookup; must not know what the slots hold.

use alloc::vec::Vec;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// A CSPRNG seeded once from the OS at adapter creation, so that minting a
/// token at DISPATCH_LEVEL needs no system call.
#[derive(Debug)]
pub struct TokenRng(ChaCha20Rng);

impl TokenRng {
    /// IRQL: any.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ChaCha20Rng::from_seed(seed))
    }

    /// A random 32-bit value. IRQL: any.
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
}

/// Why a table refused to mint a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFull;

struct Slot<T> {
    tag: u32,
    value: Option<T>,
}

/// A fixed-capacity table whose entries are named by unguessable tokens.
/// All memory is reserved at creation; insert and remove never allocate.
pub struct TokenTable<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    index_bits: u32,
}

impl<T> core::fmt::Debug for TokenTable<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenTable")
            .field("capacity", &self.slots.len())
            .field("used", &self.len())
            .finish()
    }
}

impl<T> TokenTable<T> {
    /// A table for at most `capacity` live entries (rounded up to a power of
    /// two, at least 2, at most 2^20 so that at least 12 tag bits remain).
    /// Allocates: IRQL <= DISPATCH_LEVEL, at create time only.
    pub fn with_capacity(capacity: u32) -> Self {
        let capacity = capacity.clamp(2, 1 << 20).next_power_of_two();
        let index_bits = capacity.trailing_zeros();
        let mut slots = Vec::with_capacity(capacity as usize);
        slots.resize_with(capacity as usize, || Slot {
            tag: 0,
            value: None,
        });
        // Hand out low indexes first.
        let free = (0..capacity).rev().collect();
        Self {
            slots,
            free,
            index_bits,
        }
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// True when no entry is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Maximum number of live entries.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn tag_mask(&self) -> u32 {
        u32::MAX >> self.index_bits
    }

    fn split(&self, token: u32) -> (usize, u32) {
        let index = token & ((1u32 << self.index_bits) - 1);
        (index as usize, token >> self.index_bits)
    }

    /// Stores `value` under a freshly minted token. The tag is never 0 and
    /// never the slot's previous tag. IRQL: <= DISPATCH_LEVEL (no allocation).
    pub fn insert(&mut self, rng: &mut TokenRng, value: T) -> Result<u32, TableFull> {
        let index = self.free.pop().ok_or(TableFull)?;
        let mask = self.tag_mask();
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return Err(TableFull);
        };
        let mut tag = rng.next_u32() & mask;
        while tag == 0 || tag == slot.tag {
            tag = rng.next_u32() & mask;
        }
        slot.tag = tag;
        slot.value = Some(value);
        Ok((tag << self.index_bits) | index)
    }

    /// The entry named by `token`, if the token is current. IRQL: any.
    pub fn get(&self, token: u32) -> Option<&T> {
        let (index, tag) = self.split(token);
        let slot = self.slots.get(index)?;
        if slot.tag != tag {
            return None;
        }
        slot.value.as_ref()
    }

    /// Mutable access to the entry named by `token`. IRQL: any.
    pub fn get_mut(&mut self, token: u32) -> Option<&mut T> {
        let (index, tag) = self.split(token);
        let slot = self.slots.get_mut(index)?;
        if slot.tag != tag {
            return None;
        }
        slot.value.as_mut()
    }

    /// Removes and returns the entry named by `token`; its token stops
    /// matching at once. IRQL: <= DISPATCH_LEVEL (no allocation).
    pub fn remove(&mut self, token: u32) -> Option<T> {
        let (index, tag) = self.split(token);
        let slot = self.slots.get_mut(index)?;
        if slot.tag != tag {
            return None;
        }
        let value = slot.value.take()?;
        // Keep `tag` so the next insert picks a different one; the free list
        // has room because it was sized for every slot.
        self.free.push(index as u32);
        Some(value)
    }

    /// Iterates over the live entries with their tokens.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        let bits = self.index_bits;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, s)| s.value.as_ref().map(|v| ((s.tag << bits) | i as u32, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> TokenRng {
        TokenRng::from_seed([7; 32])
    }

    #[test]
    fn tokens_resolve_only_while_live() {
        let mut r = rng();
        let mut t = TokenTable::with_capacity(4);
        let a = t.insert(&mut r, "a").unwrap();
        let b = t.insert(&mut r, "b").unwrap();
        assert_ne!(a, b);
        assert_eq!(t.get(a), Some(&"a"));
        assert_eq!(t.remove(a), Some("a"));
        assert_eq!(t.get(a), None);
        assert_eq!(t.remove(a), None);
        // The slot is reused with a different tag: the stale token stays dead.
        let c = t.insert(&mut r, "c").unwrap();
        assert_eq!(c & 3, a & 3);
        assert_ne!(c, a);
        assert_eq!(t.get(a), None);
        assert_eq!(t.get(c), Some(&"c"));
        assert_eq!(t.get(b), Some(&"b"));
    }

    #[test]
    fn full_table_refuses_and_recovers() {
        let mut r = rng();
        let mut t = TokenTable::with_capacity(2);
        let a = t.insert(&mut r, 1).unwrap();
        t.insert(&mut r, 2).unwrap();
        assert_eq!(t.insert(&mut r, 3), Err(TableFull));
        t.remove(a);
        assert!(t.insert(&mut r, 3).is_ok());
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn guessed_tokens_do_not_match() {
        let mut r = rng();
        let mut t = TokenTable::with_capacity(1024);
        let tok = t.insert(&mut r, ()).unwrap();
        // Every other tag for the same index misses; sample a spread of them.
        let hits = (0..4096u32)
            .map(|g| (g << 10) | (tok & 1023))
            .filter(|&g| g != tok && t.get(g).is_some())
            .count();
        assert_eq!(hits, 0);
        assert!(t.get(u32::MAX).is_none() || u32::MAX == tok);
    }

    #[test]
    fn tags_are_not_sequential() {
        let mut r = rng();
        let mut t = TokenTable::with_capacity(16);
        let toks: Vec<u32> = (0..16)
            .map(|_| t.insert(&mut r, ()).unwrap() >> 4)
            .collect();
        let mut sorted = toks.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert!(sorted.len() >= 15, "tags should be distinct: {toks:?}");
    }
}
