//! RDB snapshots as pure byte transforms: `dump` turns the dataset into Redis's RDB format
//! (version 10, what Redis 7.0 writes), with every value in the encoding Redis would write for
//! it, so a file the server saves opens in redis-server with the same OBJECT ENCODINGs, and the
//! browser host can keep the same bytes in IndexedDB. `load` reads what Redis 7.0 writes.
//! Redis: rdb.c, rdb.h.
//!
//! - `save`: the writer (rdbSaveRio, rdbSaveObject, DUMP payloads)
//! - `load`: the reader (rdbLoadRio, rdbLoadObject, RESTORE payloads), bounds-checked throughout
//! - `lzf`: LZF both ways, byte-compatible with Redis's liblzf
//! - `listpack`, `intset`: Redis's byte formats of the packed encodings

pub mod intset;
pub mod load;
pub mod lzf;
pub mod save;
pub mod ziplist;

pub use save::{dump_value, frame, Writer};

/// The RDB version written (Redis 7.0's RDB_VERSION) and the newest one read.
pub const RDB_VERSION: u16 = 10;

/// Opcodes, value types and string encodings, with rdb.h's names.
pub(crate) mod kind {
    pub const OP_FUNCTION2: u8 = 0xF5;
    pub const OP_FUNCTION_PRE_GA: u8 = 0xF6;
    pub const OP_MODULE_AUX: u8 = 0xF7;
    pub const OP_IDLE: u8 = 0xF8;
    pub const OP_FREQ: u8 = 0xF9;
    pub const OP_AUX: u8 = 0xFA;
    pub const OP_RESIZEDB: u8 = 0xFB;
    pub const OP_EXPIRETIME_MS: u8 = 0xFC;
    pub const OP_EXPIRETIME: u8 = 0xFD;
    pub const OP_SELECTDB: u8 = 0xFE;
    pub const OP_EOF: u8 = 0xFF;

    pub const TYPE_STRING: u8 = 0;
    pub const TYPE_LIST: u8 = 1;
    pub const TYPE_SET: u8 = 2;
    pub const TYPE_ZSET: u8 = 3;
    pub const TYPE_HASH: u8 = 4;
    pub const TYPE_ZSET_2: u8 = 5;
    pub const TYPE_MODULE_PRE_GA: u8 = 6;
    pub const TYPE_MODULE_2: u8 = 7;
    pub const TYPE_HASH_ZIPMAP: u8 = 9;
    pub const TYPE_LIST_ZIPLIST: u8 = 10;
    pub const TYPE_SET_INTSET: u8 = 11;
    pub const TYPE_ZSET_ZIPLIST: u8 = 12;
    pub const TYPE_HASH_ZIPLIST: u8 = 13;
    pub const TYPE_LIST_QUICKLIST: u8 = 14;
    pub const TYPE_STREAM_LISTPACKS: u8 = 15;
    pub const TYPE_HASH_LISTPACK: u8 = 16;
    pub const TYPE_ZSET_LISTPACK: u8 = 17;
    pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
    pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;

    /// The first byte of an encoded string: 0b11 then the encoding (RDB_ENCVAL << 6 | ...).
    pub const ENC_INT8: u8 = 0xC0;
    pub const ENC_INT16: u8 = 0xC1;
    pub const ENC_INT32: u8 = 0xC2;
    pub const ENC_LZF: u8 = 0xC3;

    /// quicklist.h's node containers.
    pub const QUICKLIST_PLAIN: u64 = 1;
    pub const QUICKLIST_PACKED: u64 = 2;
}

#[cfg(test)]
mod tests;
