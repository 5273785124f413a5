//! redis.conf through the built binary: `include` (nested, relative to the working
//! directory, patterns), and refused configurations, whose fatal error block (line number,
//! line, reason) and exit status must be redis-server 7.0.15's, byte for byte.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{connect, redis_server_binary, roundtrip};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cinnabar-conf-{}-{}", std::process::id(), name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a server binary in `cwd` that must refuse to start: (exit code, stderr).
fn refused(binary: &str, cwd: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(binary).current_dir(cwd).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn fatal_config_errors_read_as_redis_servers() {
    let dir = scratch("fatal");
    std::fs::write(dir.join("bad-line-3.conf"), "port 0\n# a comment\nnosuch 1\n").unwrap();
    std::fs::write(dir.join("no-newline.conf"), "port 0").unwrap();
    std::fs::write(dir.join("outer.conf"), "port 0\ninclude inner.conf\n").unwrap();
    std::fs::write(dir.join("inner.conf"), "\n\nmaxmemory-policy sometimes\n").unwrap();
    std::fs::write(dir.join("quotes.conf"), "requirepass \"unbalanced\n").unwrap();
    let cases: &[&[&str]] = &[
        &["bad-line-3.conf"],
        &["--port", "0", "--nosuch", "1"],
        &["--port", "abc"],
        &["no-newline.conf", "--port", "1", "2"],
        &["no-newline.conf", "--bogus", "a b", "x\"y"],
        &["outer.conf"],
        &["--include", "inner.conf"],
        &["--save", "1", "2", "3"],
        &["--port", "0", "--appendonly", "maybe"],
        &["quotes.conf"],
        &["--rename-command", "nosuch", "x"],
        &["--rename-command", "keys", "get"],
        &["--rename-command", "keys"],
        &["--port", "0", "--dir", "/nonexistent-cinnabar-dir"],
    ];
    for args in cases {
        let ours = refused(env!("CARGO_BIN_EXE_cinnabar-server"), &dir, args);
        let theirs = refused(&redis_server_binary(), &dir, args);
        assert_eq!(ours, theirs, "{:?}", args);
        assert!(ours.1.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"), "{:?}: {}", args, ours.1);
    }
    // A missing include is fatal too (Redis logs it rather than printing the block).
    let (code, err) = refused(env!("CARGO_BIN_EXE_cinnabar-server"), &dir, &["--include", "missing.conf"]);
    assert_eq!(code, Some(1));
    assert_eq!(err.trim(), "Fatal error, can't open config file 'missing.conf': No such file or directory");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn include_reads_nested_files_relative_to_the_working_directory() {
    let dir = scratch("include");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::create_dir_all(dir.join("empty.d")).unwrap();
    let port = common::free_port();
    std::fs::write(dir.join("main.conf"), format!("port {}\nbind 127.0.0.1\nsave \"\"\ninclude conf.d/*.conf\ninclude empty.d/*.conf\nmaxclients 100\n", port))
        .unwrap();
    // Paths inside an included file are relative to the working directory too.
    std::fs::write(dir.join("conf.d/a.conf"), "maxmemory 5mb\ninclude conf.d/nested.inc\n").unwrap();
    std::fs::write(dir.join("conf.d/b.conf"), "maxmemory 7mb\n").unwrap();
    std::fs::write(dir.join("conf.d/nested.inc"), "hz 42\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cinnabar-server"))
        .current_dir(&dir)
        .args(["main.conf", "--maxclients", "200", "--dir", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "cinnabar-server did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut c = connect(port);
    // b.conf comes after a.conf, and the flag after the file.
    roundtrip(&mut c, b"CONFIG GET maxmemory\r\n", "*2\r\n$9\r\nmaxmemory\r\n$7\r\n7340032\r\n");
    roundtrip(&mut c, b"CONFIG GET hz\r\n", "*2\r\n$2\r\nhz\r\n$2\r\n42\r\n");
    roundtrip(&mut c, b"CONFIG GET maxclients\r\n", "*2\r\n$10\r\nmaxclients\r\n$3\r\n200\r\n");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rename-command`, on the command line as in a file: both servers started with the same
/// renames answer the same bytes to the old names, the new ones, scripts and COMMAND.
#[test]
fn rename_command_answers_as_redis_servers() {
    let flags = ["--rename-command", "flushall", "", "--rename-command", "CONFIG", "sys-config", "--rename-command", "keys", "secret-keys"];
    let ours = common::spawn_with(env!("CARGO_BIN_EXE_cinnabar-server"), &flags);
    let theirs = common::spawn_with(&redis_server_binary(), &flags);
    let script: &[&[u8]] = &[
        b"SET k v\r\n",
        b"FLUSHALL\r\n",
        b"config get maxmemory\r\n",
        b"SYS-CONFIG GET maxmemory\r\n",
        b"KEYS *\r\n",
        b"secret-keys *\r\n",
        b"EVAL \"return redis.call('keys','*')\" 0\r\n",
        b"EVAL \"return redis.call('secret-keys','*')\" 0\r\n",
        b"COMMAND INFO keys flushall\r\n",
        b"COMMAND GETKEYS secret-keys x\r\n",
        b"MULTI\r\n",
        b"FLUSHALL\r\n",
        b"EXEC\r\n",
    ];
    let (mut a, mut b) = (connect(ours.port), connect(theirs.port));
    for line in script {
        use std::io::{Read, Write};
        let mut got = vec![];
        for c in [&mut a, &mut b] {
            c.write_all(line).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(30));
            let mut buf = vec![0u8; 1 << 16];
            let n = c.read(&mut buf).unwrap();
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        // Script errors name the script's SHA and line the same way; the rest is byte-equal.
        assert_eq!(got[0], got[1], "{}", String::from_utf8_lossy(line));
    }
}

/// `aclfile`: users saved by ACL SAVE, reloaded by ACL LOAD and at startup, and the refusals
/// (a bad file, users also in the configuration), against redis-server in the same steps.
#[test]
fn acl_files_save_and_load_as_redis_servers() {
    use std::io::{Read, Write};
    let run = |binary: &str, name: &str| -> (String, Vec<String>) {
        let dir = scratch(name);
        std::fs::write(dir.join("users.acl"), "user alice on allcommands allkeys &* >alice\nuser bob on -@all +@set ~set* >bob\n").unwrap();
        let d = dir.to_str().unwrap();
        let srv = common::spawn_with(binary, &["--dir", d, "--aclfile", "users.acl"]);
        let mut c = connect(srv.port);
        let mut replies = vec![];
        let mut step = |c: &mut std::net::TcpStream, cmd: &str| {
            c.write_all(cmd.as_bytes()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(30));
            let mut buf = vec![0u8; 1 << 16];
            let n = c.read(&mut buf).unwrap_or(0);
            replies.push(format!("{} -> {}", cmd.trim(), String::from_utf8_lossy(&buf[..n])));
        };
        step(&mut c, "ACL USERS\r\n");
        step(&mut c, "ACL SETUSER eve on >eve +get ~*\r\n");
        step(&mut c, "ACL SAVE\r\n");
        let saved = std::fs::read_to_string(dir.join("users.acl")).unwrap();
        std::fs::write(dir.join("users.acl"), "user carol on nopass +@all ~*\nuser carol off\nuser dan on +nosuch\n").unwrap();
        step(&mut c, "ACL LOAD\r\n");
        step(&mut c, "ACL USERS\r\n");
        std::fs::write(dir.join("users.acl"), "user carol on nopass +@all ~* &*\n").unwrap();
        step(&mut c, "AUTH alice alice\r\n");
        step(&mut c, "ACL LOAD\r\n");
        // alice is gone: her connection closed after the reply.
        step(&mut c, "PING\r\n");
        let mut c = connect(srv.port);
        step(&mut c, "ACL USERS\r\n");
        step(&mut c, "AUTH carol x\r\n");
        drop(srv);
        let _ = std::fs::remove_dir_all(&dir);
        (saved, replies)
    };
    let ours = run(env!("CARGO_BIN_EXE_cinnabar-server"), "acl-ours");
    let theirs = run(&redis_server_binary(), "acl-theirs");
    assert_eq!(ours, theirs);
    assert!(ours.0.contains("user eve on #"), "{}", ours.0);

    // Startup refusals: the same exit status and the same last log line.
    let dir = scratch("acl-refused");
    std::fs::write(dir.join("bad.acl"), "user a on +nosuch\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let p = port.as_str();
    for args in
        [&["--port", p, "--aclfile", "bad.acl"][..], &["--port", p, "--aclfile", "bad.acl", "--user", "x", "on"], &["--port", p, "--aclfile", "none.acl"]]
    {
        let last = |binary: &str| {
            let out = Command::new(binary).current_dir(&dir).args(args).output().unwrap();
            let log = String::from_utf8_lossy(&out.stdout).into_owned();
            let line = log.lines().last().unwrap_or("").to_string();
            // After "pid:X dd Mon yyyy hh:mm:ss.mmm # ".
            (out.status.code(), line.splitn(7, ' ').nth(6).unwrap_or("").to_string())
        };
        assert_eq!(last(env!("CARGO_BIN_EXE_cinnabar-server")), last(&redis_server_binary()), "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
