//! Cluster commands without cluster mode (checked against redis-server 7.0.15).

use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

#[test]
fn cluster_commands_say_cluster_support_is_disabled() {
    let mut t = TestEngine::new();
    let disabled = err("ERR This instance has cluster support disabled");
    for argv in [&["CLUSTER", "INFO"][..], &["CLUSTER", "HELP"], &["CLUSTER", "KEYSLOT", "a"], &["READONLY"], &["READWRITE"], &["ASKING"]] {
        assert_eq!(t.run(argv), disabled, "{:?}", argv);
    }
    assert_eq!(t.run(&["CLUSTER", "INFO", "x"]), err("ERR wrong number of arguments for 'cluster|info' command"));
    assert_eq!(t.run(&["CLUSTER", "FOO"]), err("ERR unknown subcommand 'FOO'. Try CLUSTER HELP."));
    let Reply::Array(help) = t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*help"]) else { panic!() };
    assert!(help.contains(&bulk("client|help")) && help.contains(&bulk("cluster|help")));
}
