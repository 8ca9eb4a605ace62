//! Fuzz target: any bytes as a CM MAD (and as each CM message's data) must
//! parse or fail cleanly, and whatever parses must re-emit to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softroce::wire::cm::{CmMad, CmMessage};
use softroce::wire::cma::{CmaHdrPacket, CmaHdrRepr};
use softroce::wire::mad::{MAD_DATA_LEN, MAD_LEN};

fuzz_target!(|data: &[u8]| {
    if let Ok(cm) = CmMad::parse_bytes(data) {
        let mut out = [0u8; MAD_LEN];
        assert!(cm.emit(&mut out).is_ok());
        assert_eq!(&out[..], &data[..MAD_LEN]);
        let _ = cm.to_string();
    }
    for attr in 0x10u16..=0x18 {
        if let Ok(m) = CmMessage::parse(attr, data) {
            let mut out = [0u8; MAD_DATA_LEN];
            assert!(m.emit(&mut out).is_ok());
            assert_eq!(&out[..], &data[..MAD_DATA_LEN]);
        }
    }
    if let Ok(p) = CmaHdrPacket::new_checked(data) {
        if let Ok(h) = CmaHdrRepr::parse(&p) {
            let mut out = [0u8; 36];
            assert!(h.emit(&mut CmaHdrPacket::new_unchecked(&mut out[..])).is_ok());
            assert_eq!(&out[..], &data[..36]);
        }
    }
});
