//! Pure data structures with no command knowledge. Redis: dict.c (more encodings arrive with
//! the collection types: listpack, intset, skiplist, quicklist).

pub mod dict;
pub mod ele;
pub mod intset;
pub mod listpack;
pub mod ostree;
