//! Snapshots on disk: SHUTDOWN SAVE writes an RDB file that a real redis-server loads with
//! every type, value and TTL intact.

mod common;

use std::time::{Duration, Instant};

use common::{connect, roundtrip};

#[test]
fn shutdown_save_writes_an_rdb_that_redis_server_loads() {
    let dir = std::env::temp_dir().join(format!("cinnabar-rdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let dir_s = dir.to_str().unwrap().to_string();
    let mut cin = common::cinnabar_with(&["--dir", &dir_s, "--dbfilename", "snap.rdb"]);
    let mut c = connect(cin.port);
    let big = "x".repeat(20000);
    for cmd in [
        "SET s hello".to_string(),
        "SET n 12345".to_string(),
        format!("SET big {}", big),
        "SET ttl v EX 1000".to_string(),
        "RPUSH l a b c".to_string(),
        "SADD ints 3 1 2".to_string(),
        "SADD words x y".to_string(),
        "ZADD z 1.5 a -2 b inf c".to_string(),
        "HSET h f1 v1 f2 v2".to_string(),
        "XADD st 1-1 a 1 b 2".to_string(),
        "XADD st 2-0 c 3".to_string(),
        "XGROUP CREATE st g 0".to_string(),
        "SELECT 3".to_string(),
        "SET other db3".to_string(),
    ] {
        c.write_all_cmd(&cmd);
    }
    roundtrip(&mut c, b"SHUTDOWN SAVE\r\n", "");
    let deadline = Instant::now() + Duration::from_secs(10);
    while cin.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "cinnabar-server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(dir.join("snap.rdb").exists());

    let red = common::spawn_with(&common::redis_server_binary(), &["--dir", &dir_s, "--dbfilename", "snap.rdb"]);
    let mut r = connect(red.port);
    roundtrip(&mut r, b"GET s\r\n", "$5\r\nhello\r\n");
    roundtrip(&mut r, b"GET n\r\n", "$5\r\n12345\r\n");
    roundtrip(&mut r, b"STRLEN big\r\n", ":20000\r\n");
    roundtrip(&mut r, b"LRANGE l 0 -1\r\n", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    roundtrip(&mut r, b"SMEMBERS ints\r\n", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    roundtrip(&mut r, b"SCARD words\r\n", ":2\r\n");
    roundtrip(&mut r, b"ZRANGE z 0 -1 WITHSCORES\r\n", "*6\r\n$1\r\nb\r\n$2\r\n-2\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nc\r\n$3\r\ninf\r\n");
    roundtrip(&mut r, b"HGET h f2\r\n", "$2\r\nv2\r\n");
    roundtrip(&mut r, b"XRANGE st 2 2\r\n", "*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n");
    roundtrip(&mut r, b"XREADGROUP GROUP g c COUNT 1 STREAMS st >\r\n", "*1\r\n*2\r\n$2\r\nst\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    r.write_all_cmd("TTL ttl");
    roundtrip(&mut r, b"SELECT 3\r\n", "+OK\r\n");
    roundtrip(&mut r, b"GET other\r\n", "$3\r\ndb3\r\n");
    drop(red);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends one inline command and reads its single-line reply (enough for these writes).
trait Send1 {
    fn write_all_cmd(&mut self, cmd: &str);
}

impl Send1 for std::net::TcpStream {
    fn write_all_cmd(&mut self, cmd: &str) {
        use std::io::{BufRead, BufReader, Write};
        self.write_all(format!("{}\r\n", cmd).as_bytes()).unwrap();
        let mut line = String::new();
        BufReader::new(self.try_clone().unwrap()).read_line(&mut line).unwrap();
        assert!(!line.starts_with('-'), "{} -> {}", cmd, line);
        if cmd.starts_with("TTL ttl500") {
            let ttl: i64 = line.trim_start_matches(':').trim().parse().unwrap();
            assert!(ttl > 400 && ttl <= 500, "ttl {}", ttl);
        } else if cmd.starts_with("TTL") {
            let ttl: i64 = line.trim_start_matches(':').trim().parse().unwrap();
            assert!(ttl > 900 && ttl <= 1000, "ttl {}", ttl);
        }
    }
}

#[test]
fn a_dump_saved_by_redis_server_loads_at_startup() {
    let dir = std::env::temp_dir().join(format!("cinnabar-rdb-in-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let dir_s = dir.to_str().unwrap().to_string();
    {
        let red = common::spawn_with(&common::redis_server_binary(), &["--dir", &dir_s, "--dbfilename", "redis.rdb"]);
        let mut r = connect(red.port);
        let compressible = "abc".repeat(1000);
        for cmd in [
            format!("SET lzf {}", compressible),
            "SET small 7".to_string(),
            "SET neg -300000".to_string(),
            "SET big 9000000000".to_string(),
            "SET ttl500 v PX 500000".to_string(),
            "HSET hs f1 v1 f2 2".to_string(),
            "RPUSH l a 1 -70000 bb".to_string(),
            "SADD ints 1 2 300 -5".to_string(),
            "SADD words x y".to_string(),
            "ZADD zs 1 a 2.5 b -1 c".to_string(),
            "XADD xs 1-0 f v".to_string(),
            "XADD xs 2-0 f w g 5".to_string(),
            "XDEL xs 1-0".to_string(),
            "XGROUP CREATE xs g 0".to_string(),
            "XREADGROUP GROUP g c STREAMS xs >".to_string(),
        ] {
            r.write_all_cmd(&cmd);
        }
        let mut big_hash = String::from("HSET hb");
        let mut big_zset = String::from("ZADD zb");
        for i in 0..200 {
            big_hash.push_str(&format!(" f{} v{}", i, i));
            big_zset.push_str(&format!(" {} m{}", i, i));
        }
        r.write_all_cmd(&big_hash);
        r.write_all_cmd(&big_zset);
        r.write_all_cmd("SAVE");
    }
    let cin = common::cinnabar_with(&["--dir", &dir_s, "--dbfilename", "redis.rdb"]);
    let mut c = connect(cin.port);
    roundtrip(&mut c, b"STRLEN lzf\r\n", ":3000\r\n");
    roundtrip(&mut c, b"GETRANGE lzf 2997 -1\r\n", "$3\r\nabc\r\n");
    roundtrip(&mut c, b"MGET small neg big\r\n", "*3\r\n$1\r\n7\r\n$7\r\n-300000\r\n$10\r\n9000000000\r\n");
    roundtrip(&mut c, b"HGETALL hs\r\n", "*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$1\r\n2\r\n");
    roundtrip(&mut c, b"LRANGE l 0 -1\r\n", "*4\r\n$1\r\na\r\n$1\r\n1\r\n$6\r\n-70000\r\n$2\r\nbb\r\n");
    roundtrip(&mut c, b"SMEMBERS ints\r\n", "*4\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n300\r\n");
    roundtrip(&mut c, b"SCARD words\r\n", ":2\r\n");
    roundtrip(&mut c, b"ZRANGE zs 0 -1 WITHSCORES\r\n", "*6\r\n$1\r\nc\r\n$2\r\n-1\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n");
    roundtrip(&mut c, b"HGET hb f199\r\n", "$4\r\nv199\r\n");
    roundtrip(&mut c, b"ZSCORE zb m150\r\n", "$3\r\n150\r\n");
    roundtrip(&mut c, b"PTTL nokey\r\n", ":-2\r\n");
    roundtrip(&mut c, b"XRANGE xs - +\r\n", "*1\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nf\r\n$1\r\nw\r\n$1\r\ng\r\n$1\r\n5\r\n");
    roundtrip(
        &mut c,
        b"XINFO GROUPS xs\r\n",
        "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:0\r\n",
    );
    c.write_all_cmd("TTL ttl500");
    let _ = cin;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_dump_stops_the_server_from_starting() {
    let dir = std::env::temp_dir().join(format!("cinnabar-rdb-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dump.rdb"), b"REDIS0010\xfe\x00\x00\x03key").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cinnabar-server"))
        .args(["--port", "0", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Short read or corrupt RDB file"), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_bgsave_and_save_points_write_snapshots() {
    let dir = scratch("points");
    let dir_s = dir.to_str().unwrap().to_string();
    let file = dir.join("dump.rdb");
    let cin = common::cinnabar_with(&["--dir", &dir_s, "--save", "1 1"]);
    let mut c = connect(cin.port);
    roundtrip(&mut c, b"SET k v\r\n", "+OK\r\n");
    // The save point (1 change in 1 second) starts a background save on its own.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !file.exists() {
        assert!(Instant::now() < deadline, "no snapshot after the save point");
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_for_bgsave(&mut c);
    assert!(info(&mut c, "stats").contains("total_forks:1\r\n"));
    std::fs::remove_file(&file).unwrap();
    roundtrip(&mut c, b"SAVE\r\n", "+OK\r\n");
    assert!(file.exists());
    std::fs::remove_file(&file).unwrap();
    roundtrip(&mut c, b"BGSAVE\r\n", "+Background saving started\r\n");
    wait_for_bgsave(&mut c);
    assert!(file.exists());
    roundtrip(&mut c, b"BGSAVE NOW\r\n", "-ERR syntax error\r\n");
    assert_eq!(temp_files(&dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh directory of this test's own.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cinnabar-rdb-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `temp-*.rdb` files left in a directory.
fn temp_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.starts_with("temp-")).collect()
}

/// The text of INFO `section`.
fn info(c: &mut std::net::TcpStream, section: &str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    c.write_all(format!("INFO {}\r\n", section).as_bytes()).unwrap();
    let mut r = BufReader::new(c.try_clone().unwrap());
    let mut head = String::new();
    r.read_line(&mut head).unwrap();
    let len: usize = head.trim().trim_start_matches('$').parse().unwrap_or_else(|_| panic!("INFO replied {:?}", head));
    let mut body = vec![0; len + 2];
    r.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

/// Waits until no background save runs.
fn wait_for_bgsave(c: &mut std::net::TcpStream) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while info(c, "persistence").contains("rdb_bgsave_in_progress:1") {
        assert!(Instant::now() < deadline, "the background save did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One reply line.
fn line(c: &mut std::net::TcpStream, cmd: &str) -> String {
    use std::io::{BufRead, BufReader, Write};
    c.write_all(format!("{}\r\n", cmd).as_bytes()).unwrap();
    let mut l = String::new();
    BufReader::new(c.try_clone().unwrap()).read_line(&mut l).unwrap();
    l
}

/// Waits until the server has loaded its dataset (PING stops answering LOADING).
fn wait_loaded(c: &mut std::net::TcpStream) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while line(c, "PING").starts_with("-LOADING") {
        assert!(Instant::now() < deadline, "the dataset did not load");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An RDB file of `n` string keys `key:<i>` (8 digits) holding `value-<i>-` and 40 x's,
/// written directly (a zero checksum means none, as in Redis): big datasets for the tests
/// in a fraction of the time commands would take.
fn big_rdb(path: &std::path::Path, n: u32) {
    fn len(out: &mut Vec<u8>, n: usize) {
        match n {
            0..=63 => out.push(n as u8),
            64..=16383 => out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]),
            _ => {
                out.push(0x80);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
        }
    }
    let mut out = b"REDIS0010\xfe\x00\xfb".to_vec();
    len(&mut out, n as usize);
    len(&mut out, 0);
    for i in 0..n {
        let (k, v) = (format!("key:{:08}", i), format!("value-{:08}-{}", i, "x".repeat(40)));
        out.push(0);
        len(&mut out, k.len());
        out.extend_from_slice(k.as_bytes());
        len(&mut out, v.len());
        out.extend_from_slice(v.as_bytes());
    }
    out.push(0xff);
    out.extend_from_slice(&[0; 8]);
    std::fs::write(path, out).unwrap();
}

/// Keys in the big datasets: enough that a debug build takes a good part of a second to
/// load or save them, so the tests see both in progress (nothing here depends on timing).
const BIG: u32 = 1_000_000;

#[test]
fn clients_connecting_during_the_load_get_loading_then_the_data() {
    let dir = scratch("loading");
    big_rdb(&dir.join("dump.rdb"), BIG);
    let cin = common::cinnabar_with(&["--dir", dir.to_str().unwrap()]);
    let mut c = connect(cin.port);
    // The load started before the first connection was accepted, and lasts long enough.
    assert_eq!(line(&mut c, "GET key:00000007"), "-LOADING Redis is loading the dataset in memory\r\n");
    let text = info(&mut c, "persistence");
    assert!(text.contains("loading:1\r\n"), "{}", text);
    assert!(text.contains(&format!("loading_total_bytes:{}\r\n", std::fs::metadata(dir.join("dump.rdb")).unwrap().len())), "{}", text);
    roundtrip(&mut c, b"ECHO still-here\r\n", "$10\r\nstill-here\r\n");
    wait_loaded(&mut c);
    roundtrip(&mut c, b"DBSIZE\r\n", &format!(":{}\r\n", BIG));
    roundtrip(&mut c, b"GET key:00000007\r\n", &format!("${}\r\nvalue-00000007-{}\r\n", 55, "x".repeat(40)));
    let text = info(&mut c, "persistence");
    assert!(text.contains("loading:0\r\n") && !text.contains("loading_total_bytes"), "{}", text);
    assert!(text.contains(&format!("rdb_last_load_keys_loaded:{}\r\n", BIG)), "{}", text);
    drop(cin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_aof_loads_behind_loading_too_and_appends_once_loaded() {
    let dir = scratch("aof-loading");
    let aofdir = dir.join("appendonlydir");
    std::fs::create_dir_all(&aofdir).unwrap();
    big_rdb(&aofdir.join("appendonly.aof.1.base.rdb"), BIG);
    std::fs::write(aofdir.join("appendonly.aof.1.incr.aof"), b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nextra\r\n$1\r\n1\r\n").unwrap();
    std::fs::write(aofdir.join("appendonly.aof.manifest"), "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n").unwrap();
    let cin = common::cinnabar_with(&["--dir", dir.to_str().unwrap(), "--appendonly", "yes"]);
    let mut c = connect(cin.port);
    assert_eq!(line(&mut c, "GET extra"), "-LOADING Redis is loading the dataset in memory\r\n");
    assert!(info(&mut c, "persistence").contains("loading:1\r\n"));
    wait_loaded(&mut c);
    roundtrip(&mut c, b"DBSIZE\r\n", &format!(":{}\r\n", BIG + 1));
    roundtrip(&mut c, b"GET extra\r\n", "$1\r\n1\r\n");
    assert!(info(&mut c, "persistence").contains("aof_enabled:1\r\n"));
    roundtrip(&mut c, b"SET after-load 2\r\n", "+OK\r\n");
    let incr = std::fs::read(aofdir.join("appendonly.aof.1.incr.aof")).unwrap();
    assert!(incr.ends_with(b"$10\r\nafter-load\r\n$1\r\n2\r\n"), "{}", String::from_utf8_lossy(&incr));
    drop(cin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bgsave_returns_at_once_and_clients_are_served_while_the_child_saves() {
    let dir = scratch("bgsave");
    let file = dir.join("dump.rdb");
    big_rdb(&file, BIG);
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    let cin = common::cinnabar_with(&["--dir", dir.to_str().unwrap()]);
    let (mut c, mut other) = (connect(cin.port), connect(cin.port));
    wait_loaded(&mut c);
    roundtrip(&mut c, b"SET extra 1\r\n", "+OK\r\n");
    roundtrip(&mut c, b"BGSAVE\r\n", "+Background saving started\r\n");
    roundtrip(&mut c, b"BGSAVE\r\n", "-ERR Background save already in progress\r\n");
    roundtrip(&mut c, b"BGSAVE SCHEDULE\r\n", "-ERR Background save already in progress\r\n");
    roundtrip(&mut c, b"SAVE\r\n", "-ERR Background save already in progress\r\n");
    // Another client is served, writes included, while INFO says the save runs.
    let mut served_during_save = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let running = info(&mut c, "persistence").contains("rdb_bgsave_in_progress:1\r\n");
        roundtrip(&mut other, b"PING\r\n", "+PONG\r\n");
        roundtrip(&mut other, b"INCR counter\r\n", &format!(":{}\r\n", served_during_save + 1));
        if !running || !info(&mut c, "persistence").contains("rdb_bgsave_in_progress:1\r\n") {
            break;
        }
        served_during_save += 1;
        assert!(Instant::now() < deadline, "the background save did not end");
    }
    assert!(served_during_save > 0, "no command was answered while the child saved");
    wait_for_bgsave(&mut c);
    let text = info(&mut c, "persistence");
    assert!(text.contains("rdb_last_bgsave_status:ok\r\n"), "{}", text);
    // The INCRs came after the fork: still unsaved.
    assert!(text.contains(&format!("rdb_changes_since_last_save:{}\r\n", served_during_save + 1)), "{}", text);
    let stats = info(&mut c, "stats");
    assert!(stats.contains("total_forks:1\r\n"), "{}", stats);
    assert!(std::fs::metadata(&file).unwrap().modified().unwrap() > before);
    assert_eq!(temp_files(&dir), Vec::<String>::new());
    drop(cin);
    // The child's file holds the dataset as it was at the fork.
    let cin = common::cinnabar_with(&["--dir", dir.to_str().unwrap()]);
    let mut c = connect(cin.port);
    wait_loaded(&mut c);
    roundtrip(&mut c, b"DBSIZE\r\n", &format!(":{}\r\n", BIG + 1));
    roundtrip(&mut c, b"EXISTS counter\r\n", ":0\r\n");
    drop(cin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_background_save_stops_writes_with_misconf_until_a_save_succeeds() {
    let dir = scratch("misconf");
    let cin = common::cinnabar_with(&["--dir", dir.to_str().unwrap(), "--save", "3600 1"]);
    let mut c = connect(cin.port);
    roundtrip(&mut c, b"SET k v\r\n", "+OK\r\n");
    // A directory where the snapshot should go: the child's rename fails (even for root,
    // whom permissions would not stop).
    std::fs::create_dir(dir.join("dump.rdb")).unwrap();
    roundtrip(&mut c, b"BGSAVE\r\n", "+Background saving started\r\n");
    wait_for_bgsave(&mut c);
    assert!(info(&mut c, "persistence").contains("rdb_last_bgsave_status:err\r\n"));
    let misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n";
    roundtrip(&mut c, b"SET k w\r\n", misconf);
    roundtrip(&mut c, b"PING\r\n", misconf);
    roundtrip(&mut c, b"GET k\r\n", "$1\r\nv\r\n");
    // SAVE fails too, with Redis's bare ERR, and leaves the state as it was.
    roundtrip(&mut c, b"SAVE\r\n", "-ERR\r\n");
    roundtrip(&mut c, b"DEL k\r\n", misconf);
    roundtrip(&mut c, b"CONFIG GET stop-writes-on-bgsave-error\r\n", "*2\r\n$27\r\nstop-writes-on-bgsave-error\r\n$3\r\nyes\r\n");
    assert_eq!(temp_files(&dir), Vec::<String>::new());
    std::fs::remove_dir(dir.join("dump.rdb")).unwrap();
    roundtrip(&mut c, b"BGSAVE\r\n", "+Background saving started\r\n");
    wait_for_bgsave(&mut c);
    roundtrip(&mut c, b"SET k w\r\n", "+OK\r\n");
    roundtrip(&mut c, b"PING\r\n", "+PONG\r\n");
    assert!(dir.join("dump.rdb").is_file());
    drop(cin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shutdown_during_a_background_save_kills_the_child_and_saves_in_place() {
    let dir = scratch("shutdown");
    let file = dir.join("dump.rdb");
    big_rdb(&file, BIG);
    let log = dir.join("server.log");
    let port = common::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cinnabar-server"))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--dir", dir.to_str().unwrap()])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut c = loop {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            break s;
        }
        assert!(Instant::now() < deadline, "cinnabar-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    wait_loaded(&mut c);
    roundtrip(&mut c, b"SET extra 1\r\n", "+OK\r\n");
    roundtrip(&mut c, b"BGSAVE\r\n", "+Background saving started\r\n");
    roundtrip(&mut c, b"SHUTDOWN SAVE\r\n", "");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "cinnabar-server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("There is a child saving an .rdb. Killing it!"), "{}", text);
    assert!(text.contains("DB saved on disk"), "{}", text);
    assert_eq!(temp_files(&dir), Vec::<String>::new());
    let cin = common::cinnabar_with(&["--dir", dir.to_str().unwrap()]);
    let mut c = connect(cin.port);
    wait_loaded(&mut c);
    roundtrip(&mut c, b"DBSIZE\r\n", &format!(":{}\r\n", BIG + 1));
    drop(cin);
    let _ = std::fs::remove_dir_all(&dir);
}

/// DUMP payloads move both ways between Cinnabar and redis-server, for every type.
#[test]
fn dump_and_restore_move_values_between_cinnabar_and_redis() {
    let cin = common::cinnabar();
    let red = common::spawn(&common::redis_server_binary());
    let open = |port: u16| redis::Client::open(format!("redis://127.0.0.1:{}/", port)).unwrap().get_connection().unwrap();
    let (mut c, mut r) = (open(cin.port), open(red.port));
    for con in [&mut c, &mut r] {
        let _: () = redis::pipe()
            .cmd("RPUSH").arg("l").arg(&["a", "1", "b"]).ignore()
            .cmd("SADD").arg("s").arg(&["1", "2", "x"]).ignore()
            .cmd("SADD").arg("i").arg(&["5", "7"]).ignore()
            .cmd("ZADD").arg("z").arg(&["1.5", "m", "-2", "n"]).ignore()
            .cmd("HSET").arg("h").arg(&["f", "v", "g", "12"]).ignore()
            .cmd("SET").arg("str").arg("x".repeat(100)).ignore()
            .query(con)
            .unwrap();
        // A stream spanning several nodes, with a tombstone, a group and pending entries.
        let mut p = redis::pipe();
        for i in 1..=150 {
            p.cmd("XADD").arg("x").arg(format!("{}-{}", i, i % 3)).arg("n").arg(i).arg(if i % 2 == 0 { "even" } else { "odd" }).arg("y").ignore();
        }
        p.cmd("XDEL").arg("x").arg("7-1").ignore();
        p.cmd("XGROUP").arg("CREATE").arg("x").arg("g").arg("0").ignore();
        p.cmd("XREADGROUP").arg("GROUP").arg("g").arg("c").arg("COUNT").arg(3).arg("STREAMS").arg("x").arg(">").ignore();
        let _: () = p.query(con).unwrap();
    }
    let views = |con: &mut redis::Connection, key: &str| -> Vec<String> {
        let ty: String = redis::cmd("TYPE").arg(key).query(con).unwrap();
        let mut v: Vec<String> = match ty.as_str() {
            "list" => redis::cmd("LRANGE").arg(key).arg(0).arg(-1).query(con).unwrap(),
            "set" => redis::cmd("SMEMBERS").arg(key).query(con).unwrap(),
            "zset" => redis::cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES").query(con).unwrap(),
            "hash" => redis::cmd("HGETALL").arg(key).query(con).unwrap(),
            "stream" => {
                let range: redis::Value = redis::cmd("XRANGE").arg(key).arg("-").arg("+").query(con).unwrap();
                let groups: redis::Value = redis::cmd("XINFO").arg("GROUPS").arg(key).query(con).unwrap();
                let pending: redis::Value = redis::cmd("XPENDING").arg(key).arg("g").query(con).unwrap();
                vec![format!("{:?}", range), format!("{:?}", groups), format!("{:?}", pending)]
            }
            _ => vec![redis::cmd("GET").arg(key).query(con).unwrap()],
        };
        if ty == "set" || ty == "hash" {
            v.sort();
        }
        v
    };
    for key in ["l", "s", "i", "z", "h", "str", "x"] {
        for (from, to) in [(0, 1), (1, 0)] {
            let (src, dst) = if from == 0 { (&mut c, &mut r) } else { (&mut r, &mut c) };
            let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(src).unwrap();
            let copy = format!("{}-copy", key);
            let _: () = redis::cmd("RESTORE").arg(&copy).arg(0).arg(payload).arg("REPLACE").query(dst).unwrap();
            let (want, got) = (views(src, key), views(dst, &copy));
            assert_eq!(got, want, "{} from {} to {}", key, from, to);
        }
    }
}
