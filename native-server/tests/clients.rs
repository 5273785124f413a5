//! Real clients against the server: the `redis` crate (sync and async multiplexed),
//! Debian's redis-cli, and redis-benchmark as a smoke test.

mod common;

use std::process::Command;

use redis::AsyncCommands;
use redis::Commands;

fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{}/", port)
}

#[test]
fn the_redis_crate_sync_connection_works() {
    let srv = common::cinnabar();
    let client = redis::Client::open(url(srv.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = con.set("k", "v").unwrap();
    let v: String = con.get("k").unwrap();
    assert_eq!(v, "v");
    let n: i64 = con.incr("n", 5).unwrap();
    assert_eq!(n, 5);
    let _: () = con.set_ex("ttl", "x", 100).unwrap();
    let ttl: i64 = con.ttl("ttl").unwrap();
    assert_eq!(ttl, 100);
    let vals: Vec<Option<String>> = con.mget(&["k", "missing"]).unwrap();
    assert_eq!(vals, vec![Some("v".to_string()), None]);
    let err = con.incr::<_, _, i64>("k", 1).unwrap_err();
    assert!(err.to_string().contains("value is not an integer"), "{}", err);
}

#[test]
fn the_redis_crate_async_multiplexed_connection_works() {
    let srv = common::cinnabar();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = redis::Client::open(url(srv.port)).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let mut tasks = vec![];
        for i in 0..50 {
            let mut c = con.clone();
            tasks.push(tokio::spawn(async move {
                let _: () = c.set(format!("key:{}", i), i).await.unwrap();
                let v: i64 = c.get(format!("key:{}", i)).await.unwrap();
                assert_eq!(v, i);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let n: i64 = redis::cmd("DBSIZE").query_async(&mut con).await.unwrap();
        assert_eq!(n, 50);
    });
}

#[test]
fn auth_through_the_client_url() {
    let srv = common::cinnabar_with(&["--requirepass", "pw"]);
    let bad = redis::Client::open(url(srv.port)).unwrap();
    let mut con = bad.get_connection().unwrap();
    let e = redis::cmd("GET").arg("k").query::<Option<String>>(&mut con).unwrap_err();
    assert!(e.to_string().contains("NOAUTH"), "{}", e);
    let good = redis::Client::open(format!("redis://:pw@127.0.0.1:{}/", srv.port)).unwrap();
    let mut con = good.get_connection().unwrap();
    let _: () = con.set("k", "v").unwrap();
}

use common::cli;

#[test]
fn redis_cli_talks_to_it() {
    let srv = common::cinnabar();
    assert_eq!(cli(srv.port, &["ping"]), "PONG\n");
    assert_eq!(cli(srv.port, &["set", "greeting", "hello"]), "OK\n");
    assert_eq!(cli(srv.port, &["get", "greeting"]), "hello\n");
    assert_eq!(cli(srv.port, &["incrby", "n", "7"]), "7\n");
    assert_eq!(cli(srv.port, &["-3", "get", "missing"]), "\n");
    assert!(cli(srv.port, &["info", "server"]).contains("redis_version:7.0.15"));
}

#[test]
fn redis_benchmark_smoke_test_completes() {
    let srv = common::cinnabar();
    let out = Command::new(common::redis_tool("redis-benchmark")).args(["-p", &srv.port.to_string(), "-t", "set,get", "-n", "10000", "-q"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SET:") && text.contains("GET:"), "{}", text);
}

/// redis-py (installed by scripts/ci/setup.sh) in its sync, pooled, asyncio and RESP3 forms.
#[test]
fn redis_py_works() {
    let srv = common::cinnabar();
    common::run_python("redis_py_smoke.py", srv.port);
}
