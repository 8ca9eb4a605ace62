//! RDMA-CM's TCP port space of one adapter (NDKPI-FACTS §5.9): endpoints
//! bound to (local address, port) or to a wildcard address, with reference
//! counts (an endpoint's address:port is released only when its count reaches
//! zero), ephemeral ports from 49152-65535, and the set of connected 4-tuples.
//!
//! Owns binding and tuple bookkeeping; must not know connections, listeners or
//! messages (the engine holds one reference per user of an endpoint).

use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use crate::verbs::token::{TokenRng, TokenTable};

/// First port of the ephemeral range (IANA dynamic ports).
pub const EPHEMERAL_FIRST: u16 = 49152;
/// Last port of the ephemeral range.
pub const EPHEMERAL_LAST: u16 = 65535;
const EPHEMERAL_COUNT: usize = (EPHEMERAL_LAST - EPHEMERAL_FIRST) as usize + 1;

/// Why an address could not be bound or connected. The NDK layer maps each to
/// the NTSTATUS named on its variant (table in `docs/CM.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortError {
    /// The local address is not one of the adapter's (STATUS_INVALID_ADDRESS).
    InvalidAddress,
    /// The local address:port is already bound (STATUS_SHARING_VIOLATION).
    SharingViolation,
    /// The same 4-tuple is already connected (STATUS_ADDRESS_ALREADY_EXISTS).
    AddressAlreadyExists,
    /// Port 0 was asked for and no ephemeral port is free (STATUS_TOO_MANY_ADDRESSES).
    NoEphemeralPort,
    /// The endpoint or tuple table is full (STATUS_INSUFFICIENT_RESOURCES).
    TableFull,
}

/// What an endpoint was bound for (informational; the rules are the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    Listener,
    Connector,
    Shared,
}

/// A bound local address:port (or wildcard:port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The bound address; unspecified (0.0.0.0 or ::) for a wildcard.
    pub addr: IpAddr,
    pub port: u16,
    pub kind: EndpointKind,
    /// Users of the endpoint; the binding is released when this reaches 0.
    pub refs: u32,
}

/// The port space of one adapter. All memory is reserved at creation.
pub struct PortSpace {
    local: Vec<IpAddr>,
    endpoints: TokenTable<Endpoint>,
    /// Endpoints holding each ephemeral port, on any address.
    ephemeral_users: Vec<u16>,
    next_ephemeral: u16,
    /// The part of the ephemeral range port 0 picks from (offsets into it).
    ephemeral_window: (u16, u16),
    tuples: Vec<(SocketAddr, SocketAddr)>,
    tuple_capacity: usize,
}

impl core::fmt::Debug for PortSpace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PortSpace")
            .field("local", &self.local)
            .field("endpoints", &self.endpoints.len())
            .field("tuples", &self.tuples.len())
            .finish()
    }
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

impl PortSpace {
    /// A port space for the adapter addresses `local`, with room for
    /// `endpoints` bindings (at most 65535) and `tuples` connected 4-tuples.
    /// `start` picks where the ephemeral search begins.
    /// Allocates: IRQL <= DISPATCH_LEVEL, at adapter creation only.
    pub fn new(local: &[IpAddr], endpoints: u32, tuples: u32, start: u16) -> Self {
        let ephemeral_users = alloc::vec![0; EPHEMERAL_COUNT];
        Self {
            local: local.to_vec(),
            endpoints: TokenTable::with_capacity(endpoints.min(u32::from(u16::MAX))),
            ephemeral_users,
            next_ephemeral: start % EPHEMERAL_COUNT as u16,
            ephemeral_window: (0, (EPHEMERAL_COUNT - 1) as u16),
            tuples: Vec::with_capacity(tuples as usize),
            tuple_capacity: tuples as usize,
        }
    }

    /// True when `addr` is one of the adapter's addresses. IRQL: any.
    pub fn is_local(&self, addr: IpAddr) -> bool {
        self.local.contains(&addr)
    }

    /// The adapter's addresses.
    pub fn local_addrs(&self) -> &[IpAddr] {
        &self.local
    }

    /// True when binding `addr:port` would collide with an existing endpoint:
    /// same port, same family, and the same address or a wildcard on either side.
    pub fn in_use(&self, addr: IpAddr, port: u16) -> bool {
        self.endpoints.iter().any(|(_, e)| {
            e.port == port
                && same_family(e.addr, addr)
                && (e.addr == addr || e.addr.is_unspecified() || addr.is_unspecified())
        })
    }

    fn ephemeral_slot(&mut self, port: u16) -> Option<&mut u16> {
        let i = usize::from(port.checked_sub(EPHEMERAL_FIRST)?);
        self.ephemeral_users.get_mut(i)
    }

    /// Binds `addr:port` (port 0: a free ephemeral port, one no endpoint holds
    /// on any address) with one reference. Returns the endpoint's token and
    /// its port. IRQL: <= DISPATCH_LEVEL (no allocation).
    pub fn bind(
        &mut self,
        rng: &mut TokenRng,
        addr: IpAddr,
        port: u16,
        kind: EndpointKind,
    ) -> Result<(u32, u16), PortError> {
        if !addr.is_unspecified() && !self.is_local(addr) {
            return Err(PortError::InvalidAddress);
        }
        if self.endpoints.len() >= self.endpoints.capacity() {
            return Err(PortError::TableFull);
        }
        let port = if port == 0 {
            self.pick_ephemeral()?
        } else if self.in_use(addr, port) {
            return Err(PortError::SharingViolation);
        } else {
            port
        };
        let ep = Endpoint {
            addr,
            port,
            kind,
            refs: 1,
        };
        let token = self
            .endpoints
            .insert(rng, ep)
            .map_err(|_| PortError::TableFull)?;
        if let Some(n) = self.ephemeral_slot(port) {
            *n = n.saturating_add(1);
        }
        Ok((token, port))
    }

    /// Narrows the ports that port 0 picks from to `first..=last` (inside
    /// 49152-65535; a configuration and test knob, e.g. to exhaust the range).
    /// False (nothing changed) if the range is empty or outside.
    pub fn set_ephemeral_range(&mut self, first: u16, last: u16) -> bool {
        if first < EPHEMERAL_FIRST || last < first {
            return false;
        }
        self.ephemeral_window = (first - EPHEMERAL_FIRST, last - EPHEMERAL_FIRST);
        self.next_ephemeral = 0;
        true
    }

    fn pick_ephemeral(&mut self) -> Result<u16, PortError> {
        let (lo, hi) = self.ephemeral_window;
        let count = hi.saturating_sub(lo).saturating_add(1);
        for step in 0..count {
            let off = lo.saturating_add(self.next_ephemeral.wrapping_add(step) % count);
            if self.ephemeral_users.get(usize::from(off)) == Some(&0) {
                self.next_ephemeral = off.saturating_sub(lo).wrapping_add(1) % count;
                return Ok(EPHEMERAL_FIRST.saturating_add(off));
            }
        }
        Err(PortError::NoEphemeralPort)
    }

    /// The endpoint named by `token`.
    pub fn get(&self, token: u32) -> Option<&Endpoint> {
        self.endpoints.get(token)
    }

    /// One more user of the endpoint. False if the token is stale.
    pub fn add_ref(&mut self, token: u32) -> bool {
        match self.endpoints.get_mut(token) {
            Some(e) => {
                e.refs = e.refs.saturating_add(1);
                true
            }
            None => false,
        }
    }

    /// One user fewer; at zero the binding is released (true is returned).
    pub fn release(&mut self, token: u32) -> bool {
        let Some(e) = self.endpoints.get_mut(token) else {
            return false;
        };
        e.refs = e.refs.saturating_sub(1);
        if e.refs > 0 {
            return false;
        }
        if let Some(e) = self.endpoints.remove(token) {
            if let Some(n) = self.ephemeral_slot(e.port) {
                *n = n.saturating_sub(1);
            }
        }
        true
    }

    /// Records the connected 4-tuple `local`-`remote`.
    /// Errors: `AddressAlreadyExists` if it is already connected, `TableFull`.
    pub fn add_tuple(&mut self, local: SocketAddr, remote: SocketAddr) -> Result<(), PortError> {
        if self.tuples.contains(&(local, remote)) {
            return Err(PortError::AddressAlreadyExists);
        }
        if self.tuples.len() >= self.tuple_capacity {
            return Err(PortError::TableFull);
        }
        self.tuples.push((local, remote));
        Ok(())
    }

    /// True when the 4-tuple is connected.
    pub fn has_tuple(&self, local: SocketAddr, remote: SocketAddr) -> bool {
        self.tuples.contains(&(local, remote))
    }

    /// Forgets the 4-tuple (no-op if absent).
    pub fn remove_tuple(&mut self, local: SocketAddr, remote: SocketAddr) {
        if let Some(i) = self.tuples.iter().position(|t| *t == (local, remote)) {
            self.tuples.swap_remove(i);
        }
    }

    /// Live endpoints.
    pub fn endpoint_count(&self) -> usize {
        self.endpoints.len()
    }

    /// Connected 4-tuples.
    pub fn tuple_count(&self) -> usize {
        self.tuples.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    const V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
    const ANY4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

    fn space(eps: u32) -> (PortSpace, TokenRng) {
        (
            PortSpace::new(&[A, B, V6], eps, 8, 0),
            TokenRng::from_seed([3; 32]),
        )
    }

    #[test]
    fn foreign_address_is_invalid() {
        let (mut s, mut r) = space(8);
        let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(
            s.bind(&mut r, other, 1, EndpointKind::Listener),
            Err(PortError::InvalidAddress)
        );
    }

    #[test]
    fn sharing_rules_cover_wildcards_and_families() {
        let (mut s, mut r) = space(8);
        s.bind(&mut r, A, 7174, EndpointKind::Listener).unwrap();
        assert_eq!(
            s.bind(&mut r, A, 7174, EndpointKind::Connector),
            Err(PortError::SharingViolation)
        );
        assert_eq!(
            s.bind(&mut r, ANY4, 7174, EndpointKind::Listener),
            Err(PortError::SharingViolation)
        );
        // Another address, or another family, is a different binding.
        s.bind(&mut r, B, 7174, EndpointKind::Listener).unwrap();
        s.bind(&mut r, V6, 7174, EndpointKind::Listener).unwrap();
        let (_, p) = s.bind(&mut r, ANY4, 7175, EndpointKind::Listener).unwrap();
        assert_eq!(p, 7175);
        assert_eq!(
            s.bind(&mut r, B, 7175, EndpointKind::Connector),
            Err(PortError::SharingViolation)
        );
    }

    #[test]
    fn port_is_held_until_the_last_reference_goes() {
        let (mut s, mut r) = space(8);
        let (ep, _) = s.bind(&mut r, A, 5000, EndpointKind::Shared).unwrap();
        assert!(s.add_ref(ep));
        assert!(!s.release(ep));
        assert_eq!(
            s.bind(&mut r, A, 5000, EndpointKind::Connector),
            Err(PortError::SharingViolation)
        );
        assert!(s.release(ep));
        assert!(!s.add_ref(ep), "stale token");
        s.bind(&mut r, A, 5000, EndpointKind::Connector).unwrap();
    }

    #[test]
    fn ephemeral_ports_are_distinct_and_run_out() {
        let (mut s, mut r) = space(1 << 15);
        let mut seen = alloc::vec![false; EPHEMERAL_COUNT];
        let mut first = None;
        for _ in 0..EPHEMERAL_COUNT {
            let (ep, p) = s.bind(&mut r, A, 0, EndpointKind::Connector).unwrap();
            assert!(p >= EPHEMERAL_FIRST);
            let i = usize::from(p - EPHEMERAL_FIRST);
            assert!(!seen[i], "port {p} handed out twice");
            seen[i] = true;
            first.get_or_insert(ep);
        }
        assert_eq!(
            s.bind(&mut r, B, 0, EndpointKind::Connector),
            Err(PortError::NoEphemeralPort)
        );
        // An explicit port outside the range still works.
        s.bind(&mut r, A, 80, EndpointKind::Listener).unwrap();
        // Releasing one makes exactly that one available again.
        let ep = first.unwrap();
        let port = s.get(ep).unwrap().port;
        assert!(s.release(ep));
        assert_eq!(
            s.bind(&mut r, V6, 0, EndpointKind::Connector).map(|x| x.1),
            Ok(port)
        );
    }

    #[test]
    fn tuples_are_unique() {
        let (mut s, _) = space(8);
        let l = SocketAddr::new(A, 5000);
        let r1 = SocketAddr::new(B, 7174);
        s.add_tuple(l, r1).unwrap();
        assert_eq!(s.add_tuple(l, r1), Err(PortError::AddressAlreadyExists));
        s.add_tuple(l, SocketAddr::new(B, 7175)).unwrap();
        s.remove_tuple(l, r1);
        s.add_tuple(l, r1).unwrap();
        assert_eq!(s.tuple_count(), 2);
    }
}
