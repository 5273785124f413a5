//! Pure data structures with no command knowledge. Redis: dict.c (more encodings arrive with
//! the collection types: listpack, intset, skiplist, quicklist).

/// The traits of a type that stands for its bytes (its `as_slice`): deref, borrow, compare
/// and order as `[u8]`, and hash as the slice does, so a dict keyed by it is searched with
/// a plain `&[u8]`. Shared by the keyspace's `Key` and the collections' `Ele`.
macro_rules! bytes_traits {
    ($t:ty) => {
        impl std::ops::Deref for $t {
            type Target = [u8];
            #[inline]
            fn deref(&self) -> &[u8] {
                self.as_slice()
            }
        }

        impl std::borrow::Borrow<[u8]> for $t {
            #[inline]
            fn borrow(&self) -> &[u8] {
                self.as_slice()
            }
        }

        impl AsRef<[u8]> for $t {
            #[inline]
            fn as_ref(&self) -> &[u8] {
                self.as_slice()
            }
        }

        impl std::hash::Hash for $t {
            #[inline]
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_slice().hash(state)
            }
        }

        impl PartialEq for $t {
            #[inline]
            fn eq(&self, other: &$t) -> bool {
                self.as_slice() == other.as_slice()
            }
        }

        impl Eq for $t {}

        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &$t) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $t {
            fn cmp(&self, other: &$t) -> std::cmp::Ordering {
                self.as_slice().cmp(other.as_slice())
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
            }
        }
    };
}
pub(crate) use bytes_traits;

pub mod dict;
pub mod ele;
pub mod intset;
pub mod listpack;
pub mod ostree;
pub mod redis_listpack;
