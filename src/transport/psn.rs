//! 24-bit packet sequence numbers: wrapping arithmetic and the signed 24-bit
//! comparison rxe uses (ROCE-FACTS §1.7). Owns PSN math only; must not know
//! about queues or packets.

use core::cmp::Ordering;

/// Mask of the 24 PSN bits.
pub const PSN_MASK: u32 = 0x00FF_FFFF;

/// A 24-bit packet sequence number. Arithmetic wraps at 2^24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Psn(u32);

impl Psn {
    /// A PSN from the low 24 bits of `v` (upper bits are ignored).
    pub const fn new(v: u32) -> Psn {
        Psn(v & PSN_MASK)
    }

    /// The 24-bit value.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// `self + n`, wrapping at 2^24.
    pub const fn add(self, n: u32) -> Psn {
        Psn(self.0.wrapping_add(n) & PSN_MASK)
    }

    /// `self - n`, wrapping at 2^24.
    pub const fn sub(self, n: u32) -> Psn {
        Psn(self.0.wrapping_sub(n) & PSN_MASK)
    }

    /// Signed distance `self - other` in the 24-bit circle, in `-2^23 .. 2^23`.
    /// Positive means `self` is after `other`.
    pub const fn diff(self, other: Psn) -> i32 {
        ((self.0.wrapping_sub(other.0) << 8) as i32) >> 8
    }

    /// Ordering in the 24-bit circle (valid for PSNs less than 2^23 apart).
    pub fn cmp_seq(self, other: Psn) -> Ordering {
        self.diff(other).cmp(&0)
    }

    /// True when `self` lies in the inclusive range `[lo, hi]` of the circle.
    pub const fn within(self, lo: Psn, hi: Psn) -> bool {
        self.diff(lo) >= 0 && self.diff(hi) <= 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_compares_across_2_pow_24() {
        let top = Psn::new(PSN_MASK);
        assert_eq!(top.add(1), Psn::new(0));
        assert_eq!(Psn::new(0).sub(1), top);
        assert_eq!(Psn::new(2).diff(top), 3);
        assert_eq!(top.diff(Psn::new(2)), -3);
        assert_eq!(
            Psn::new(5).cmp_seq(Psn::new(PSN_MASK - 5)),
            Ordering::Greater
        );
        assert!(Psn::new(1).within(top, Psn::new(3)));
        assert!(!Psn::new(4).within(top, Psn::new(3)));
        assert_eq!(Psn::new(0x1_000_005).value(), 5);
    }
}
