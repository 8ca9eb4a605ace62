//! The driver-global pairing of softroce miniport adapters with lower
//! protocol bindings, pure (no kernel calls, no unsafe) so the host tests
//! include it by path: a fixed table of adapters keyed by their configured
//! `LowerMacAddress` and of bindings keyed by the NIC's current MAC. Either
//! side may appear first; adding one returns its partner if the other side
//! is already there. One adapter per MAC and one binding per MAC: a second
//! one with the same MAC is refused (two softroce adapters cannot share a
//! NIC, and NDIS binds a protocol to an adapter once). The caller holds the
//! driver's spin lock around every call (`lower::registry`).
//!
//! Owns: the table. Must not touch NDIS or the objects it stores beyond
//! cloning them.

use crate::link::MacAddr;

/// One entry.
#[derive(Debug, Clone)]
struct Entry<T> {
    mac: MacAddr,
    value: T,
}

/// Why an add was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairError {
    /// No free slot.
    Full,
    /// An entry of the same side already has this MAC.
    Duplicate,
}

/// Adapters (`A`) and bindings (`B`), `N` of each at most.
#[derive(Debug)]
pub struct Pairing<A, B, const N: usize> {
    adapters: [Option<Entry<A>>; N],
    bindings: [Option<Entry<B>>; N],
}

impl<A: Clone, B: Clone, const N: usize> Default for Pairing<A, B, N> {
    /// IRQL: any.
    fn default() -> Self {
        Self::new()
    }
}

/// A slot in one side's table, returned by an add, given back to remove.
pub type Slot = usize;

/// Adds `value` under `mac` to `table`.
///
/// IRQL: any (pure).
fn add<T>(table: &mut [Option<Entry<T>>], mac: MacAddr, value: T) -> Result<Slot, PairError> {
    if table.iter().flatten().any(|e| e.mac == mac) {
        return Err(PairError::Duplicate);
    }
    let (slot, free) = table
        .iter_mut()
        .enumerate()
        .find(|(_, e)| e.is_none())
        .ok_or(PairError::Full)?;
    *free = Some(Entry { mac, value });
    Ok(slot)
}

/// The value under `mac` in `table`.
///
/// IRQL: any (pure).
fn find<T: Clone>(table: &[Option<Entry<T>>], mac: MacAddr) -> Option<T> {
    table
        .iter()
        .flatten()
        .find(|e| e.mac == mac)
        .map(|e| e.value.clone())
}

impl<A: Clone, B: Clone, const N: usize> Pairing<A, B, N> {
    /// Empty.
    ///
    /// IRQL: any.
    pub const fn new() -> Self {
        Pairing {
            adapters: [const { None }; N],
            bindings: [const { None }; N],
        }
    }

    /// Enters an adapter that wants the NIC `mac`; returns its slot and the
    /// binding already there for that MAC, if any.
    ///
    /// IRQL: any (pure).
    pub fn add_adapter(&mut self, mac: MacAddr, a: A) -> Result<(Slot, Option<B>), PairError> {
        let slot = add(&mut self.adapters, mac, a)?;
        Ok((slot, find(&self.bindings, mac)))
    }

    /// Enters a binding to the NIC `mac`; returns its slot and the adapter
    /// waiting for that MAC, if any.
    ///
    /// IRQL: any (pure).
    pub fn add_binding(&mut self, mac: MacAddr, b: B) -> Result<(Slot, Option<A>), PairError> {
        let slot = add(&mut self.bindings, mac, b)?;
        Ok((slot, find(&self.adapters, mac)))
    }

    /// Takes an adapter out; returns it and the binding it was paired with
    /// (still entered), if any.
    ///
    /// IRQL: any (pure).
    pub fn remove_adapter(&mut self, slot: Slot) -> Option<(A, Option<B>)> {
        let e = self.adapters.get_mut(slot)?.take()?;
        let partner = find(&self.bindings, e.mac);
        Some((e.value, partner))
    }

    /// Takes a binding out; returns it and the adapter it was paired with
    /// (still entered), if any.
    ///
    /// IRQL: any (pure).
    pub fn remove_binding(&mut self, slot: Slot) -> Option<(B, Option<A>)> {
        let e = self.bindings.get_mut(slot)?.take()?;
        let partner = find(&self.adapters, e.mac);
        Some((e.value, partner))
    }

    /// Whether some entered adapter satisfies `f` (the bind handler's test
    /// that the offered NIC is not a softroce adapter itself).
    ///
    /// IRQL: any (pure).
    pub fn any_adapter(&self, f: impl Fn(&A) -> bool) -> bool {
        self.adapters.iter().flatten().any(|e| f(&e.value))
    }

    /// Whether some adapter wants the NIC `mac` (a bind to any other NIC is
    /// declined).
    ///
    /// IRQL: any (pure).
    pub fn wanted(&self, mac: MacAddr) -> bool {
        self.adapters.iter().flatten().any(|e| e.mac == mac)
    }
}
