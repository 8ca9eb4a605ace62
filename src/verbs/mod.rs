//! The safe object model: PD, CQ, QP, SRQ, MR, MW, keys, access checks, LAM.
//! Owns object state and token checks; must not call into the consumer or the OS.
#![deny(unsafe_code)]

pub mod cq;
pub mod lam;
pub mod memory;
pub mod srq;
pub mod token;
pub mod wq;
