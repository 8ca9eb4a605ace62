//! The hosted (std) platform. On this branch only the C entry points
//! (`entry`); the rest of `os::hosted` is a colleague's and merges here.

pub mod entry;
