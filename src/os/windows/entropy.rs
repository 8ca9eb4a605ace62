//! The kernel's randomness for `Platform::fill_random`, with no CNG import
//! (softroce.sys may import only ntoskrnl/hal/ndis/netio).
//!
//! Entropy story: a ChaCha20 generator (rand_chacha, the same the core uses)
//! seeded from 32 samples of
//! 1. RDSEED (the CPU's conditioned entropy source, NIST SP 800-90B/C), each
//!    word retried up to 32 times (it may run dry under load);
//! 2. else RDRAND (a DRBG reseeded by the same source), retried 32 times;
//! 3. always mixed with KeQueryPerformanceCounter, KeQueryInterruptTimePrecise
//!    and RDTSC readings (timing jitter, not relied on alone);
//! 4. `RtlRandomEx` (a non-cryptographic LCG) only when neither RDSEED nor
//!    RDRAND exists or both failed every retry, and then the source is
//!    flagged weak ([`Entropy::strong`] is false; the miniport logs it).
//!
//! The generator is reseeded (fresh samples mixed with its own output) every
//! 1 MiB drawn. Draws take a spin lock: <= DISPATCH_LEVEL.
//!
//! Owns: gathering samples and the generator. Must not be used for anything
//! but keys, PSNs and identifiers (it is not a FIPS module).

use core::arch::x86_64::{__cpuid, __cpuid_count, _rdrand64_step, _rdseed64_step, _rdtsc};
use core::sync::atomic::{AtomicBool, Ordering};

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use super::imports::{KeQueryInterruptTimePrecise, KeQueryPerformanceCounter, RtlRandomEx};
use super::seed::mix_seed;
use super::spin::SpinLock;

const RETRIES: usize = 32;
const SAMPLES: usize = 32;
const RESEED_BYTES: usize = 1 << 20;

struct State {
    rng: ChaCha20Rng,
    drawn: usize,
}

/// The kernel entropy source.
pub struct Entropy {
    state: SpinLock<State>,
    strong: AtomicBool,
}

impl core::fmt::Debug for Entropy {
    /// IRQL: any.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Entropy")
            .field("strong", &self.strong.load(Ordering::Relaxed))
            .finish()
    }
}

#[target_feature(enable = "rdseed")]
/// IRQL: any.
unsafe fn rdseed() -> Option<u64> {
    let mut v = 0u64;
    for _ in 0..RETRIES {
        // The caller checked CPUID.(EAX=7,ECX=0):EBX.RDSEED[18]; inside this
        // `target_feature` function the intrinsic is safe to call.
        if _rdseed64_step(&mut v) == 1 {
            return Some(v);
        }
    }
    None
}

#[target_feature(enable = "rdrand")]
/// IRQL: any.
unsafe fn rdrand() -> Option<u64> {
    let mut v = 0u64;
    for _ in 0..RETRIES {
        // The caller checked CPUID.1:ECX.RDRAND[30].
        if _rdrand64_step(&mut v) == 1 {
            return Some(v);
        }
    }
    None
}

/// IRQL: any.
fn cpu_has() -> (bool, bool) {
    // CPUID leaves 0 and 1 exist on every x86-64 processor; leaf 7 is read
    // only when leaf 0 says it exists.
    let max = __cpuid(0).eax;
    let rdrand = __cpuid(1).ecx & (1 << 30) != 0;
    let rdseed = max >= 7 && __cpuid_count(7, 0).ebx & (1 << 18) != 0;
    (rdseed, rdrand)
}

/// IRQL: any.
fn counters() -> u64 {
    let mut qpc = 0u64;
    // SAFETY: any IRQL; the out pointer is a local.
    let it = unsafe { KeQueryInterruptTimePrecise(&mut qpc) };
    // SAFETY: any IRQL; a null frequency pointer is allowed.
    let pc = unsafe { KeQueryPerformanceCounter(core::ptr::null_mut()) } as u64;
    // SAFETY: RDTSC is unprivileged-safe and side-effect free.
    let tsc = unsafe { _rdtsc() };
    it ^ qpc.rotate_left(17) ^ pc.rotate_left(31) ^ tsc.rotate_left(47)
}

/// 32 samples and whether every one came from RDSEED or RDRAND.
///
/// IRQL: <= DISPATCH_LEVEL.
fn gather() -> ([u64; SAMPLES], bool) {
    let (has_seed, has_rand) = cpu_has();
    let mut out = [0u64; SAMPLES];
    let mut strong = true;
    let mut lcg_seed = counters() as u32;
    for s in out.iter_mut() {
        // SAFETY: each intrinsic is called only when CPUID reports it.
        let hw = (if has_seed { unsafe { rdseed() } } else { None })
            // SAFETY: as above.
            .or_else(|| if has_rand { unsafe { rdrand() } } else { None });
        let word = match hw {
            Some(w) => w,
            None => {
                strong = false;
                // SAFETY: any IRQL; the seed is a local.
                let a = unsafe { RtlRandomEx(&mut lcg_seed) };
                // SAFETY: as above.
                let b = unsafe { RtlRandomEx(&mut lcg_seed) };
                (u64::from(a) << 32) | u64::from(b)
            }
        };
        *s = word ^ counters();
    }
    (out, strong)
}

impl Entropy {
    /// Seeds a new generator.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn new() -> Self {
        let (samples, strong) = gather();
        Entropy {
            state: SpinLock::new(State {
                rng: ChaCha20Rng::from_seed(mix_seed(&samples)),
                drawn: 0,
            }),
            strong: AtomicBool::new(strong),
        }
    }

    /// Whether every seed sample came from RDSEED/RDRAND.
    ///
    /// IRQL: any.
    pub fn strong(&self) -> bool {
        self.strong.load(Ordering::Relaxed)
    }

    /// Fills `buf`.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn fill(&self, buf: &mut [u8]) {
        let mut st = self.state.lock();
        if st.drawn >= RESEED_BYTES {
            let (mut samples, strong) = gather();
            let mut own = [0u8; 8];
            st.rng.fill_bytes(&mut own);
            samples[0] ^= u64::from_le_bytes(own);
            st.rng = ChaCha20Rng::from_seed(mix_seed(&samples));
            st.drawn = 0;
            if !strong {
                self.strong.store(false, Ordering::Relaxed);
            }
        }
        st.rng.fill_bytes(buf);
        st.drawn = st.drawn.saturating_add(buf.len());
    }
}

impl Default for Entropy {
    /// IRQL: any.
    fn default() -> Self {
        Self::new()
    }
}
