//! Lazy freeing over a socket with redis-rs: UNLINK and FLUSHALL ASYNC hand big values to
//! the server's lazyfree thread, and INFO shows them pending, then freed, with the memory
//! given back, as redis-server does (Redis's unit/lazyfree).

mod common;

fn info(con: &mut redis::Connection, field: &str) -> u64 {
    let text: String = redis::cmd("INFO").query(con).unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{}:", field))).unwrap_or_else(|| panic!("{} in INFO", field));
    line.split(':').nth(1).unwrap().trim().parse().unwrap()
}

use common::wait_for as wait_until;

#[test]
fn unlink_and_flushall_async_free_big_values_on_the_lazyfree_thread() {
    for binary in [env!("CARGO_BIN_EXE_cinnabar-server").to_string(), common::redis_server_binary()] {
        let srv = common::spawn_with(&binary, &[]);
        let mut con = redis::Client::open(format!("redis://127.0.0.1:{}/", srv.port)).unwrap().get_connection().unwrap();
        let members: Vec<u64> = (0..100_000).collect();
        let before = info(&mut con, "used_memory");
        let _: () = redis::cmd("SADD").arg("big").arg(&members).query(&mut con).unwrap();
        let _: () = redis::cmd("SADD").arg("small").arg(&members[..10]).query(&mut con).unwrap();
        let peak = info(&mut con, "used_memory");
        assert!(peak > before + 1_000_000, "{} -> {} ({})", before, peak, binary);
        let n: i64 = redis::cmd("UNLINK").arg("big").arg("small").arg("none").query(&mut con).unwrap();
        assert_eq!(n, 2);
        wait_until("the set to be freed", || info(&mut con, "lazyfree_pending_objects") == 0 && info(&mut con, "used_memory") < before * 2);
        // The big set went through the thread; the small one (an intset) was freed at once.
        assert_eq!(info(&mut con, "lazyfreed_objects"), 1, "{}", binary);

        for db in 0..3 {
            let _: () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
            for k in 0..10 {
                let _: () = redis::cmd("SET").arg(format!("k{}", k)).arg("v").query(&mut con).unwrap();
            }
        }
        let _: () = redis::cmd("FLUSHALL").arg("ASYNC").query(&mut con).unwrap();
        let keys: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(keys, 0);
        wait_until("the databases to be freed", || info(&mut con, "lazyfree_pending_objects") == 0);
        assert_eq!(info(&mut con, "lazyfreed_objects"), 31, "{}", binary);
        let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
        assert_eq!(info(&mut con, "lazyfreed_objects"), 0, "{}", binary);
    }
}
