//! The `fixed_view!` macro: the shared skeleton of every fixed-length header
//! view (struct, `new_unchecked`, `new_checked`, `check_len`, `into_inner`,
//! `Display` through the repr). Owns no layout; must not grow field logic.

/// Declares `pub struct $view<T: AsRef<[u8]>>` over a header of `$len` bytes
/// whose repr is `$repr` (with `parse(&$view<&T>) -> Result<$repr>` and `Display`).
macro_rules! fixed_view {
    ($(#[$meta:meta])* $view:ident, $repr:ident, $len:expr, $name:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $view<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $view<T> {
            /// Wraps a buffer without checking its length; accessors then read
            /// zeros past the end (and setters drop writes) instead of panicking.
            pub const fn new_unchecked(buffer: T) -> Self {
                Self { buffer }
            }

            /// Wraps a buffer after [`check_len`](Self::check_len).
            pub fn new_checked(buffer: T) -> $crate::wire::Result<Self> {
                let view = Self::new_unchecked(buffer);
                view.check_len()?;
                Ok(view)
            }

            /// `Err(Truncated)` if the buffer is shorter than the header.
            pub fn check_len(&self) -> $crate::wire::Result<()> {
                $crate::wire::bytes::check_len(self.buffer.as_ref(), $len)
            }

            /// The underlying buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }

        impl<T: AsRef<[u8]>> core::fmt::Display for $view<T> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match $repr::parse(&$view::new_unchecked(self.buffer.as_ref())) {
                    Ok(repr) => write!(f, "{repr}"),
                    Err(err) => write!(f, "{} ({err})", $name),
                }
            }
        }
    };
}
