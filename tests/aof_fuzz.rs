//! AOF replay against hostile input: a valid stream cut anywhere loads exactly the whole
//! commands before the cut (a torn tail), and mutated or random bytes are refused or
//! loaded, never a panic or an allocation the input does not justify.

use cinnabar::reply::Reply;
use cinnabar::testing::TestEngine;
use cinnabar::HostReport;
use proptest::prelude::*;

/// An AOF stream of every kind of command, with SELECTs and a MULTI/EXEC unit.
fn sample_stream() -> Vec<u8> {
    let mut t = TestEngine::new();
    t.aof_on();
    for cmd in [
        &["SET", "a", "1"][..],
        &["RPUSH", "l", "x", "y", "z"],
        &["SADD", "s", "m1", "m2"],
        &["ZADD", "z", "1", "a", "2", "b"],
        &["HSET", "h", "f", "v"],
        &["XADD", "st", "1-1", "f", "v"],
        &["EXPIRE", "a", "1000"],
        &["SELECT", "2"],
        &["INCRBYFLOAT", "n", "2.5"],
        &["SPOP", "s", "2"],
        &["SELECT", "0"],
        &["EVAL", "redis.call('set', 'k', 'v') redis.call('del', 'a')", "0"],
    ] {
        t.run(cmd);
    }
    t.engine.take_aof()
}

fn fresh() -> TestEngine {
    TestEngine::new()
}

fn digest(t: &mut TestEngine) -> Reply {
    t.run(&["CONFIG", "SET", "enable-debug-command", "yes"]);
    t.run(&["DEBUG", "DIGEST"])
}

#[test]
fn a_stream_cut_anywhere_loads_the_whole_commands_before_the_cut() {
    let stream = sample_stream();
    for cut in 0..=stream.len() {
        let mut t = fresh();
        let loaded = t.engine.aof_load(&stream[..cut], t.now_us).expect("a prefix is never corrupt");
        let valid = loaded.truncated_at.unwrap_or(cut);
        assert!(valid <= cut);
        // Loading exactly the valid part gives the same dataset, with nothing torn.
        let mut u = fresh();
        let again = u.engine.aof_load(&stream[..valid], u.now_us).unwrap();
        assert_eq!(again.truncated_at, None, "cut {} valid {}", cut, valid);
        assert_eq!(digest(&mut t), digest(&mut u), "cut {}", cut);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_streams_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut stream = sample_stream();
        for (at, byte) in flips {
            let i = at % stream.len();
            stream[i] = byte;
        }
        let cut = cut % (stream.len() + 1);
        let mut t = fresh();
        let _ = t.engine.aof_load(&stream[..cut], t.now_us);
        t.engine.report(HostReport::LoadingFinished);
        // The engine still works.
        prop_assert_eq!(t.run(&["PING"]), Reply::Simple("PONG"));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut t = fresh();
        let _ = t.engine.aof_load(&bytes, t.now_us);
        let mut star = b"*".to_vec();
        star.extend_from_slice(&bytes);
        let _ = t.engine.aof_load(&star, t.now_us);
    }

    #[test]
    fn absurd_lengths_are_a_short_read_not_an_allocation(n in 1_000_000u64..u64::MAX / 2) {
        let mut t = fresh();
        let cmd = format!("*2\r\n$3\r\nGET\r\n${}\r\nk", n);
        let loaded = t.engine.aof_load(cmd.as_bytes(), t.now_us);
        prop_assert!(matches!(loaded, Ok(l) if l.truncated_at == Some(0)));
        let cmd = format!("*{}\r\n$3\r\nGET\r\n", n);
        prop_assert!(t.engine.aof_load(cmd.as_bytes(), t.now_us).is_ok());
    }
}
