//! Lists with plain nodes (DEBUG QUICKLIST-PACKED-THRESHOLD makes small elements "large"),
//! side by side with redis-server: every command answers the same, and the list survives
//! DEBUG RELOAD. Its own process per server, since the threshold is process-wide (as Redis's).

mod common;

use common::cli;

#[test]
fn plain_nodes_answer_as_redis_server_does() {
    let script: &[&[&str]] = &[
        &["debug", "quicklist-packed-threshold", "1b"],
        &["lpush", "lst", "9"],
        &["lpush", "lst", "xxxxxxxxxx"],
        &["lpush", "lst", "xxxxxxxxxx"],
        &["rpop", "lst"],
        &["linsert", "lst", "before", "xxxxxxxxxx", "8"],
        &["lindex", "lst", "0"],
        &["rpush", "lst", "aa", "bb", "cc"],
        &["lset", "lst", "1", "yyyyyyyyyyy"],
        &["lpos", "lst", "yyyyyyyyyyy"],
        &["lrem", "lst", "-2", "bb"],
        &["ltrim", "lst", "1", "-1"],
        &["lmove", "lst", "dst", "RIGHT", "LEFT"],
        &["lrange", "lst", "0", "-1"],
        &["debug", "reload"],
        &["lrange", "lst", "0", "-1"],
        &["lrange", "dst", "0", "-1"],
        &["debug", "quicklist-packed-threshold", "5b"],
        &["rpush", "mix", "aa", "bb"],
        &["lset", "mix", "0", "dddddddddddddddd"],
        &["lset", "mix", "0", "cc"],
        &["lrange", "mix", "0", "-1"],
        &["debug", "quicklist-packed-threshold", "5gb"],
        &["debug", "quicklist-packed-threshold", "0"],
        &["llen", "lst"],
    ];
    let run = |binary: &str| {
        let srv = common::spawn_with(binary, &["--enable-debug-command", "yes"]);
        script.iter().map(|args| cli(srv.port, args)).collect::<Vec<_>>()
    };
    let ours = run(env!("CARGO_BIN_EXE_cinnabar-server"));
    let redis = run(&common::redis_server_binary());
    for ((args, a), b) in script.iter().zip(&ours).zip(&redis) {
        assert_eq!(a, b, "{:?}", args);
    }
}
