//! Host test of the kernel pool allocator's arithmetic
//! (`src/os/windows/pool_layout.rs`, pure code included here by path because
//! `os::windows` only compiles for the Windows kernel target).
//! Owns: these checks only.

#[path = "../src/os/windows/pool_layout.rs"]
#[allow(dead_code)]
mod pool_layout;

use pool_layout::{aligned_start, placement, Placement, HEADER};

const POOL_ALIGN: usize = 16;

#[test]
fn small_alignments_use_the_pool_block_directly() {
    for align in [1, 2, 4, 8, 16] {
        assert_eq!(
            placement(40, align, POOL_ALIGN),
            Some(Placement::Direct { size: 40 })
        );
    }
    // Zero-sized requests still get a real, unique block.
    assert_eq!(
        placement(0, 8, POOL_ALIGN),
        Some(Placement::Direct { size: 1 })
    );
}

#[test]
fn over_aligned_blocks_fit_header_and_data_for_every_base() {
    for align in [32usize, 64, 128, 4096] {
        for size in [1usize, 7, 64, 5000] {
            let Some(Placement::OverAligned {
                size: block,
                align: a,
            }) = placement(size, align, POOL_ALIGN)
            else {
                panic!("align {align} must be over-aligned");
            };
            assert_eq!(a, align);
            // Every base the pool can return (16-aligned) within two periods.
            for base in (0x1000..0x1000 + 2 * align).step_by(POOL_ALIGN) {
                let start = aligned_start(base, align).unwrap();
                assert_eq!(start % align, 0, "start aligned");
                assert!(start - HEADER >= base, "header inside the block");
                assert!(start + size <= base + block, "data inside the block");
                assert_eq!((start - HEADER) % HEADER, 0, "header word aligned");
            }
        }
    }
}

#[test]
fn overflow_is_refused_not_wrapped() {
    assert_eq!(placement(usize::MAX, 64, POOL_ALIGN), None);
    assert_eq!(placement(usize::MAX - 8, 32, POOL_ALIGN), None);
    assert_eq!(aligned_start(usize::MAX - 4, 64), None);
    assert_eq!(aligned_start(usize::MAX - 70, 64), None);
}
