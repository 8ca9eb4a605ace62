//! The view macros: `view_skeleton!` (the struct, `new_unchecked`,
//! `new_checked`, `into_inner` every smoltcp-style view has), `repr_display!`
//! (`Display` through the repr) and `fixed_view!` (both, plus the `check_len`
//! of a fixed-length header). Owns no layout; must not grow field logic.

/// Declares `pub struct $view<T: AsRef<[u8]>>` with `new_unchecked`,
/// `new_checked` (through the view's own `check_len`, which the caller
/// defines) and `into_inner`. `new_checked` fails with `$crate::wire::Error`,
/// or with the error type given after the view's name (`src/smbd` views).
macro_rules! view_skeleton {
    ($(#[$meta:meta])* $view:ident) => {
        view_skeleton!($(#[$meta])* $view, $crate::wire::Error);
    };
    ($(#[$meta:meta])* $view:ident, $error:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $view<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $view<T> {
            /// Wraps a buffer without checking it; accessors then read zeros
            /// (or empty slices) past the end and setters drop writes instead
            /// of panicking.
            pub const fn new_unchecked(buffer: T) -> Self {
                Self { buffer }
            }

            /// Wraps a buffer after [`check_len`](Self::check_len).
            pub fn new_checked(buffer: T) -> core::result::Result<Self, $error> {
                let view = Self::new_unchecked(buffer);
                view.check_len()?;
                Ok(view)
            }

            /// The underlying buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }
    };
}

pub(crate) use view_skeleton;

/// `Display` for `$view` through its repr `$repr` (with
/// `parse(&$view<&T>) -> Result<$repr>` and `Display`); `$name (error)` when
/// the buffer does not parse.
macro_rules! repr_display {
    ($view:ident, $repr:ident, $name:expr) => {
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

/// Declares `pub struct $view<T: AsRef<[u8]>>` over a header of `$len` bytes
/// whose repr is `$repr` (with `parse(&$view<&T>) -> Result<$repr>` and `Display`).
macro_rules! fixed_view {
    ($(#[$meta:meta])* $view:ident, $repr:ident, $len:expr, $name:expr) => {
        view_skeleton!($(#[$meta])* $view);

        impl<T: AsRef<[u8]>> $view<T> {
            /// `Err(Truncated)` if the buffer is shorter than the header.
            pub fn check_len(&self) -> $crate::wire::Result<()> {
                $crate::wire::bytes::check_len(self.buffer.as_ref(), $len)
            }
        }

        repr_display!($view, $repr, $name);
    };
}
