//! Keyspace notifications: `notify-keyspace-events` as flags, and the two channels an event
//! publishes on (`__keyspace@<db>__:<key>` with the event, `__keyevent@<db>__:<event>` with
//! the key). Which event a write raises is the command's business (`Ctx::modified`); the
//! class it belongs to is looked up here, by name, from Redis's own names. Redis: notify.c.

pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 12;
pub const NEW: u32 = 1 << 13;
pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
/// `A`: every class but key-miss and new-key.
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// keyspaceEventsStringToFlags; None for an unknown class character.
pub fn parse(classes: &str) -> Option<u32> {
    let mut f = 0;
    for c in classes.chars() {
        f |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// keyspaceEventsFlagsToString: the canonical spelling CONFIG GET shows.
pub fn to_string(f: u32) -> String {
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// The class of an event, by its Redis name.
pub fn class_of(event: &str) -> u32 {
    match event {
        "expired" => EXPIRED,
        "evicted" => EVICTED,
        "keymiss" => KEY_MISS,
        "new" => NEW,
        "sortstore" => LIST,
        "del" | "rename_from" | "rename_to" | "expire" | "persist" | "move_from" | "move_to" | "copy_to" | "restore" => GENERIC,
        e if e.starts_with('l') || e.starts_with("rp") || e.starts_with("bl") || e == "rpush" => LIST,
        e if e.starts_with('h') => HASH,
        e if e.starts_with('z') => ZSET,
        e if e.starts_with('x') => STREAM,
        "sadd" | "srem" | "spop" | "sinterstore" | "sunionstore" | "sdiffstore" => SET,
        _ => STRING,
    }
}
