//! The NDK provider: `extern "system"` thunks for every dispatch entry, the
//! request-completion model and object lifetimes. The only layer that calls
//! back into the consumer.
