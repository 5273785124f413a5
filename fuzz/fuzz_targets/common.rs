//! What both targets do with a value the loader accepted: use it. A corrupt value that loads
//! but breaks a command later is as much a bug as a panic in the loader.

use bytes::Bytes;
use cinnabar::reply::Reply;
use cinnabar::testing::TestEngine;

/// Reads and writes of the key's type, then DUMP (which re-encodes it).
pub fn exercise(t: &mut TestEngine, key: &[u8]) {
    let ty = t.run_bytes(vec![Bytes::from_static(b"TYPE"), Bytes::copy_from_slice(key)]);
    let cmds: &[&[&str]] = match ty {
        Reply::Simple("string") => &[&["GET", "$"], &["APPEND", "$", "x"], &["INCR", "$"], &["GETRANGE", "$", "0", "5"]],
        Reply::Simple("list") => &[&["LRANGE", "$", "0", "-1"], &["LINDEX", "$", "-1"], &["LPUSH", "$", "n"], &["LINSERT", "$", "BEFORE", "1", "q"], &["LREM", "$", "0", "a"], &["RPOP", "$"], &["LPOS", "$", "bb"]],
        Reply::Simple("set") => &[&["SMEMBERS", "$"], &["SISMEMBER", "$", "1"], &["SADD", "$", "7", "w"], &["SREM", "$", "x"], &["SPOP", "$"], &["SRANDMEMBER", "$", "-3"], &["SSCAN", "$", "0"]],
        Reply::Simple("zset") => &[
            &["ZRANGE", "$", "0", "-1", "WITHSCORES"],
            &["ZRANGEBYSCORE", "$", "-inf", "+inf"],
            &["ZRANGEBYLEX", "$", "-", "+"],
            &["ZADD", "$", "3", "new"],
            &["ZREM", "$", "a"],
            &["ZRANK", "$", "b"],
            &["ZINCRBY", "$", "1", "c"],
            &["ZPOPMIN", "$"],
        ],
        Reply::Simple("hash") => &[&["HGETALL", "$"], &["HGET", "$", "f"], &["HSET", "$", "g", "1"], &["HDEL", "$", "n"], &["HINCRBY", "$", "n", "1"], &["HRANDFIELD", "$", "-2"], &["HSCAN", "$", "0"]],
        Reply::Simple("stream") => &[
            &["XRANGE", "$", "-", "+"],
            &["XREVRANGE", "$", "+", "-"],
            &["XINFO", "STREAM", "$", "FULL"],
            &["XINFO", "GROUPS", "$"],
            &["XPENDING", "$", "g", "-", "+", "10"],
            &["XADD", "$", "*", "f", "v"],
            &["XDEL", "$", "3-0"],
            &["XTRIM", "$", "MAXLEN", "2"],
            &["XAUTOCLAIM", "$", "g", "c2", "0", "0"],
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "$", "0"],
        ],
        _ => &[],
    };
    for cmd in cmds.iter().copied().chain([&["OBJECT", "ENCODING", "$"][..], &["DUMP", "$"]]) {
        let argv = cmd.iter().map(|a| if *a == "$" { Bytes::copy_from_slice(key) } else { Bytes::copy_from_slice(a.as_bytes()) }).collect();
        t.run_bytes(argv);
    }
}
