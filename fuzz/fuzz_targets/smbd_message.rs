//! Fuzz target: any bytes as an SMB Direct negotiate request/response, data
//! transfer or SMB2 NEGOTIATE must be checked or refused cleanly; a valid
//! data transfer's data must lie inside the message; an initiator fed the
//! bytes after negotiating must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softroce::smbd::{check_data_transfer, check_request, check_response, smb2, Config, Initiator};

fuzz_target!(|data: &[u8]| {
    let _ = check_request(data);
    let _ = check_response(data, 8192);
    if let Ok((h, d)) = check_data_transfer(data, 1 << 20) {
        assert_eq!(d.len(), h.data_length as usize);
        assert!(d.is_empty() || h.data_offset as usize + d.len() <= data.len());
    }
    let _ = smb2::NegotiateResponse::parse(data);
    let _ = smb2::NegotiateRequest::parse(data);
    let mut i = Initiator::new(Config::default());
    i.receive_posted();
    let _ = i.negotiate_request(&mut [0u8; 20]);
    for chunk in data.chunks(40) {
        i.receive_posted();
        let _ = i.on_receive(chunk);
        let _ = i.send(&mut [0u8; 64], &[], 0, 0);
    }
});
