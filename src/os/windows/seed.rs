//! Pure seed mixing of the kernel entropy source, shared with the host tests
//! (`tests/windows_helpers.rs` includes this file by path): folds any number
//! of 64-bit samples (hardware random words, counters) into a 32-byte
//! ChaCha20 seed with the SplitMix64 finaliser, so every input bit affects
//! every output word and a weak sample cannot cancel a strong one.
//!
//! Owns: the mixing function. Must not read hardware.

/// The SplitMix64 finaliser (a bijection on u64).
///
/// IRQL: any (pure).
pub const fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Folds `samples` into a 32-byte seed: four lanes, each absorbing every
/// sample (lane-tweaked) through the finaliser.
///
/// IRQL: any (pure).
pub fn mix_seed(samples: &[u64]) -> [u8; 32] {
    let mut lanes = [
        0x6A09_E667_F3BC_C908u64,
        0xBB67_AE85_84CA_A73B,
        0x3C6E_F372_FE94_F82B,
        0xA54F_F53A_5F1D_36F1,
    ];
    for (i, s) in samples.iter().enumerate() {
        for (l, lane) in lanes.iter_mut().enumerate() {
            let tweak = (i as u64).wrapping_mul(4).wrapping_add(l as u64);
            *lane = splitmix64(*lane ^ s.rotate_left((l as u32) * 16) ^ tweak);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, lane) in out.chunks_exact_mut(8).zip(lanes) {
        chunk.copy_from_slice(&lane.to_le_bytes());
    }
    out
}
