//! The sans-IO reliable transport: an RC queue pair engine (requester, responder,
//! completer) and UD for QP1. Takes work requests, packets and `now`; returns
//! packets, completions and deadlines. Must not lock, read a clock or do I/O.
#![deny(unsafe_code)]
