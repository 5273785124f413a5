//! The process as redis.conf shapes it, through the built binary: a stock redis.conf
//! (Debian's, installed with redis-server) starts it; `daemonize`, `pidfile`, `logfile`,
//! `unixsocket`/`unixsocketperm`, `supervised systemd`, `oom-score-adj`; SHUTDOWN's
//! silence on success and its error on failure; signals under `shutdown-on-sigterm`.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_cinnabar-server");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cinnabar-proc-{}-{}", std::process::id(), name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

use common::wait_for;

/// Kills the child on drop, so a failing test leaves nothing running.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str], env: &[(&str, &Path)]) -> Guard {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Guard(cmd.spawn().unwrap())
}

/// A RESP command over any stream, and the reply bytes read until `want` bytes came.
fn call<S: Read + Write>(s: &mut S, cmd: &[&str], want: usize) -> String {
    let mut out = format!("*{}\r\n", cmd.len());
    for a in cmd {
        out.push_str(&format!("${}\r\n{}\r\n", a.len(), a));
    }
    s.write_all(out.as_bytes()).unwrap();
    let mut buf = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match s.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => panic!("{:?}: {} after {:?}", cmd, e, String::from_utf8_lossy(&buf[..got])),
        }
    }
    String::from_utf8_lossy(&buf[..got]).into_owned()
}

/// A bulk reply of unknown length (CLIENT INFO): its header, then that many bytes.
fn call_bulk<S: Read + Write>(s: &mut S, cmd: &[&str]) -> String {
    let mut head = call(s, cmd, 1);
    assert_eq!(head, "$", "{:?}", cmd);
    let mut b = [0u8; 1];
    while !head.ends_with("\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0] as char);
    }
    let len: usize = head[1..head.len() - 2].parse().unwrap();
    let mut body = vec![0u8; len + 2];
    s.read_exact(&mut body).unwrap();
    String::from_utf8_lossy(&body[..len]).into_owned()
}

fn tcp(port: u16) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn unix(path: &Path) -> UnixStream {
    let s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// SHUTDOWN that succeeds is never answered: the connection just ends.
fn shutdown_silently<S: Read + Write>(s: &mut S, args: &[&str]) {
    assert_eq!(call(s, args, 64), "", "{:?} answered", args);
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// Whether the log has a line with this message (after Redis's `<pid>:M <date> <mark> `).
fn log_has(path: &Path, message: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|l| l.lines().any(|x| x.ends_with(&format!(" {}", message)) && x.contains(":M ")))
}

#[test]
fn debians_redis_conf_starts_cinnabar_with_its_log_pid_and_unix_socket() {
    let stock = std::fs::read_to_string("/etc/redis/redis.conf").expect("/etc/redis/redis.conf (the test command installs Debian's redis-server)");
    let dir = scratch("debian");
    let port = free_port();
    let (pid_file, log, sock) = (dir.join("redis.pid"), dir.join("redis.log"), dir.join("redis.sock"));
    // Only what must differ on a test machine: a free port, files in a scratch directory,
    // in the foreground; every other line is Debian's.
    let mut conf = String::new();
    for line in stock.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        if !["port", "daemonize", "pidfile", "logfile", "dir", "unixsocket", "unixsocketperm"].contains(&name) {
            conf.push_str(line);
            conf.push('\n');
        }
    }
    conf.push_str(&format!(
        "port {port}\ndaemonize no\npidfile {}\nlogfile {}\ndir {}\nunixsocket {}\nunixsocketperm 700\n",
        pid_file.display(),
        log.display(),
        dir.display(),
        sock.display()
    ));
    std::fs::write(dir.join("redis.conf"), conf).unwrap();
    let mut server = start(&[dir.join("redis.conf").to_str().unwrap()], &[]);
    wait_for("the ready line in the log file", || log_has(&log, "Ready to accept connections"));
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), format!("{}\n", server.0.id()));
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o700);
    }
    assert_eq!(call(&mut tcp(port), &["PING"], 7), "+PONG\r\n");
    let mut u = unix(&sock);
    assert_eq!(call(&mut u, &["SET", "k", "v"], 5), "+OK\r\n");
    let info = call_bulk(&mut u, &["CLIENT", "INFO"]);
    assert!(info.contains(&format!(" addr={}:0 ", sock.display())) && info.contains(" flags=U "), "{info}");
    assert_eq!(call(&mut tcp(port), &["GET", "k"], 7), "$1\r\nv\r\n");
    shutdown_silently(&mut u, &["SHUTDOWN", "NOSAVE"]);
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!pid_file.exists() && !sock.exists(), "the pid file and socket go with the server");
}

#[test]
fn daemonize_yes_detaches_and_the_pid_file_names_the_daemon() {
    let dir = scratch("daemon");
    let port = free_port();
    let (pid_file, log) = (dir.join("d.pid"), dir.join("d.log"));
    let status = Command::new(BIN)
        .args(["--port", &port.to_string(), "--save", "", "--daemonize", "yes", "--dir", dir.to_str().unwrap()])
        .args(["--pidfile", pid_file.to_str().unwrap(), "--logfile", log.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success(), "the parent exits once the daemon is forked: {status:?}");
    wait_for("the daemon's log", || log_has(&log, "Ready to accept connections"));
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert!(alive(pid));
    let mut c = tcp(port);
    assert_eq!(call(&mut c, &["CONFIG", "GET", "daemonize"], 28), "*2\r\n$9\r\ndaemonize\r\n$3\r\nyes\r\n");
    shutdown_silently(&mut c, &["SHUTDOWN", "NOSAVE"]);
    wait_for("the daemon to exit", || !alive(pid));
    assert!(!pid_file.exists());
}

#[test]
fn supervised_systemd_hears_ready_on_notify_socket() {
    let dir = scratch("systemd");
    let notify = dir.join("notify.sock");
    let listener = UnixDatagram::bind(&notify).unwrap();
    listener.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let port = free_port();
    let _server = start(&["--port", &port.to_string(), "--save", "", "--supervised", "systemd", "--dir", dir.to_str().unwrap()], &[("NOTIFY_SOCKET", &notify)]);
    let mut buf = [0u8; 256];
    let n = listener.recv(&mut buf).expect("a notification");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.lines().any(|l| l == "READY=1"), "{msg:?}");
    // By then the server answers.
    assert_eq!(call(&mut tcp(port), &["PING"], 7), "+PONG\r\n");
}

#[test]
fn shutdown_that_cannot_save_answers_an_error_and_keeps_serving() {
    let dir = scratch("failsave");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let mut server = start(&["--port", &port.to_string(), "--save", "3600 1", "--dir", data.to_str().unwrap()], &[]);
    wait_for("the server", || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let mut c = tcp(port);
    assert_eq!(call(&mut c, &["SET", "k", "v"], 5), "+OK\r\n");
    // The directory the snapshot goes to disappears: the final save fails.
    std::fs::remove_dir_all(&data).unwrap();
    let failed = "-ERR Errors trying to SHUTDOWN. Check logs.\r\n";
    assert_eq!(call(&mut c, &["SHUTDOWN"], failed.len()), failed);
    assert_eq!(call(&mut c, &["PING"], 7), "+PONG\r\n");
    // A signal under the default shutdown-on-sigterm fails the same way: still serving.
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(server.0.id() as i32, libc::SIGTERM) };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(call(&mut c, &["PING"], 7), "+PONG\r\n");
    // With `force` it goes anyway, and says nothing.
    assert_eq!(call(&mut c, &["CONFIG", "SET", "shutdown-on-sigterm", "force"], 5), "+OK\r\n");
    unsafe { libc::kill(server.0.id() as i32, libc::SIGTERM) };
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn shutdown_force_goes_even_when_the_save_fails() {
    let dir = scratch("force");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let mut server = start(&["--port", &port.to_string(), "--save", "3600 1", "--dir", data.to_str().unwrap()], &[]);
    wait_for("the server", || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let mut c = tcp(port);
    std::fs::remove_dir_all(&data).unwrap();
    shutdown_silently(&mut c, &["SHUTDOWN", "FORCE"]);
    assert!(server.0.wait().unwrap().success());
}

#[test]
fn oom_score_adj_applies_at_startup_and_on_config_set() {
    let port = free_port();
    let dir = scratch("oom");
    let server = start(
        &["--port", &port.to_string(), "--save", "", "--dir", dir.to_str().unwrap(), "--oom-score-adj", "absolute", "--oom-score-adj-values", "300 0 0"],
        &[],
    );
    let proc_file = format!("/proc/{}/oom_score_adj", server.0.id());
    let score = || std::fs::read_to_string(&proc_file).unwrap_or_default().trim().to_string();
    wait_for("oom_score_adj 300", || score() == "300");
    let mut c = tcp(port);
    assert_eq!(call(&mut c, &["CONFIG", "SET", "oom-score-adj-values", "400 0 0"], 5), "+OK\r\n");
    wait_for("oom_score_adj 400", || score() == "400");
}

#[test]
fn dir_is_the_working_directory_and_config_get_shows_its_absolute_path() {
    let dir = scratch("dir");
    std::fs::create_dir_all(dir.join("a/b")).unwrap();
    let port = free_port();
    // Relative to where the server starts, as Redis takes it; the log file is then under it.
    let mut cmd = Command::new(BIN);
    cmd.current_dir(&dir).args(["--port", &port.to_string(), "--save", "", "--dir", "a", "--logfile", "server.log", "--enable-protected-configs", "yes"]);
    let _server = Guard(cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let a = std::fs::canonicalize(dir.join("a")).unwrap().display().to_string();
    wait_for("the log under dir", || log_has(&dir.join("a/server.log"), "Ready to accept connections"));
    let mut c = tcp(port);
    let bulk = |s: &str| format!("${}\r\n{}\r\n", s.len(), s);
    let want = format!("*2\r\n$3\r\ndir\r\n{}", bulk(&a));
    assert_eq!(call(&mut c, &["CONFIG", "GET", "dir"], want.len()), want);
    let missing = "-ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory\r\n";
    assert_eq!(call(&mut c, &["CONFIG", "SET", "dir", "nope"], missing.len()), missing);
    assert_eq!(call(&mut c, &["CONFIG", "SET", "dir", "b"], 5), "+OK\r\n");
    let b = format!("{}/b", a);
    let want = format!("*2\r\n$3\r\ndir\r\n{}", bulk(&b));
    assert_eq!(call(&mut c, &["CONFIG", "GET", "dir"], want.len()), want);
    assert_eq!(call(&mut c, &["SAVE"], 5), "+OK\r\n");
    assert!(dir.join("a/b/dump.rdb").exists());
}

/// oom-score-adj as setOOMScoreAdj does it: the score the process had when it was first
/// enabled is the base (`yes` adds the class's value to it), a replica takes the second
/// value, a save child the third, and `no` puts the base back; with it off nothing is
/// touched. rdb-key-save-delay keeps the save child alive long enough to look at.
#[test]
fn oom_score_adj_follows_the_process_class_and_restores_its_base() {
    let srv = common::cinnabar();
    let pid = srv.child.id();
    let path = format!("/proc/{}/oom_score_adj", pid);
    let score = || std::fs::read_to_string(&path).unwrap().trim().parse::<i64>().unwrap();
    let cli = |args: &[&str]| common::cli(srv.port, args);
    std::fs::write(&path, "22\n").unwrap();
    cli(&["CONFIG", "SET", "oom-score-adj-values", "1 2 3"]);
    assert_eq!(score(), 22, "untouched while oom-score-adj is no");
    cli(&["CONFIG", "SET", "oom-score-adj-values", "9 10 11", "oom-score-adj", "yes"]);
    assert_eq!(score(), 31);
    cli(&["REPLICAOF", "127.0.0.1", "1"]);
    assert_eq!(score(), 32);
    cli(&["REPLICAOF", "NO", "ONE"]);
    assert_eq!(score(), 31);
    cli(&["SET", "k", "v"]);
    cli(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    assert_eq!(cli(&["BGSAVE"]), "Background saving started\n");
    let child = || std::fs::read_to_string(format!("/proc/{}/task/{}/children", pid, pid)).unwrap_or_default().split_whitespace().next().map(str::to_string);
    wait_for("the save child", || child().is_some());
    let child_score =
        || std::fs::read_to_string(format!("/proc/{}/oom_score_adj", child().unwrap_or_default())).ok().and_then(|s| s.trim().parse::<i64>().ok());
    wait_for("the child's class", || child_score() == Some(33));
    cli(&["CONFIG", "SET", "oom-score-adj", "no"]);
    assert_eq!(score(), 22);
}
