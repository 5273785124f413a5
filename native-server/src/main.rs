//! cinnabar-server: the native host. It owns sockets, the clock, signals and files; the
//! engine owns everything else. Startup reads flags and redis.conf the way redis-server
//! does, binds, loads the dataset, then one loop thread owns the engine and serves every
//! connection (`server.rs`), as redis-server's event loop does.

#[macro_use]
mod log;
mod alloc;
mod aof;
mod bug;
mod busy;
mod conn;
mod files;
mod flags;
mod host;
mod io_threads;
mod ldb;
mod listener;
mod migrate;
mod net;
mod persist;
mod process;
mod replica;
mod server;

use cinnabar::{Config, Engine};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

fn main() {
    bug::install();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let startup = match flags::parse(&args) {
        Ok(flags::Startup::Run(s)) => s,
        Ok(flags::Startup::Exit(msg)) => {
            println!("{}", msg);
            return;
        }
        Err(e) => {
            // The fatal config block goes to standard error whole, as Redis prints it.
            eprintln!("{}", e);
            std::process::exit(1);
        }
    };
    let mut engine = Engine::new(Config::default(), host::seed(), host::now_us());
    for (name, value) in &startup.directives {
        if let Err(e) = engine.config_set_startup(name, value) {
            eprintln!("{}", flags::fatal(None, &e.to_string()));
            std::process::exit(1);
        }
    }
    // `dir` is the working directory from here on (Redis chdirs as it reads the directive).
    let dir = engine.config().get(cinnabar::param!("dir")).to_string();
    match process::change_dir(&dir) {
        Ok(abs) => engine.config_set_startup("dir", &abs).expect("a directory path is a valid dir"),
        Err(why) => {
            serverlog!(Warning, "Can't chdir to '{}': {}", dir, why);
            std::process::exit(1);
        }
    }
    engine.set_change_dir(process::change_dir);
    engine.set_file_access(files::read_whole, files::replace_whole);
    // As redis-server: fork into the background first (unless a supervisor runs us), then
    // the log file takes the standard streams.
    let cfg = engine.config();
    log::set_level(cfg.get(cinnabar::param!("loglevel")));
    let supervisor = process::supervisor(cfg.get(cinnabar::param!("supervised")));
    let daemonized = cfg.get_bool(cinnabar::param!("daemonize")) && supervisor == process::Supervisor::None;
    if daemonized {
        process::daemonize();
    }
    if let Err(e) = process::open_log(cfg.get(cinnabar::param!("logfile"))) {
        eprintln!("{}", flags::fatal(None, &e));
        std::process::exit(1);
    }
    // Redis's first lines, at warning level so `loglevel warning` keeps them.
    serverlog!(Warning, "oO0OoO0OoO0Oo Cinnabar is starting oO0OoO0OoO0Oo");
    serverlog!(
        Warning,
        "Cinnabar version={} (Redis {} compatible), bits={}, pid={}, just started",
        cinnabar::CINNABAR_VERSION,
        cinnabar::REDIS_VERSION,
        std::mem::size_of::<usize>() * 8,
        std::process::id()
    );
    if args.is_empty() {
        serverlog!(
            Warning,
            "Warning: no config file specified, using the default config. In order to specify a config file use cinnabar-server /path/to/redis.conf"
        );
    } else {
        serverlog!(Warning, "Configuration loaded");
    }
    let pid_file = process::pid_file(cfg.get(cinnabar::param!("pidfile")), daemonized);
    let unix_socket = cfg.get(cinnabar::param!("unixsocket")).to_string();
    let unix_perm = u32::from_str_radix(cfg.get(cinnabar::param!("unixsocketperm")), 8).unwrap_or(0);
    let port = engine.config().get_i64(cinnabar::param!("port")) as u16;
    let bind = engine.config().get(cinnabar::param!("bind")).to_string();
    let backlog = engine.config().get_i64(cinnabar::param!("tcp-backlog")) as i32;
    {
        let h = engine.host_info_mut();
        h.process_id = std::process::id() as u64;
        h.tcp_port = port;
        h.executable = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
        h.config_file = startup.config_file.clone().unwrap_or_default();
        h.os = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
        h.arch_bits = (std::mem::size_of::<usize>() * 8) as u32;
        h.multiplexing_api = "epoll".into();
        h.can.listens = true;
        h.can.replicates = true;
        h.memory.total_system_memory = host::total_memory();
    }
    engine.set_memory_probe(alloc::live_bytes);
    // BGSAVE and save points fork a child that writes the snapshot (see persist.rs).
    engine.set_fork_support(true);
    engine.set_cpu_probe(host::cpu_seconds);
    engine.set_clock(host::monotonic_us);
    engine.set_delay(host::debug_delay);
    host::monotonic_us(); // calibrate now, not inside the first command
    let mut listeners = match listener::bind_all(&bind, port, backlog) {
        Ok(l) => l,
        Err(e) => {
            serverlog!(Warning, "{}", e);
            std::process::exit(1);
        }
    };
    if !unix_socket.is_empty() {
        match listener::bind_unix(&unix_socket, unix_perm, backlog) {
            Ok(l) => listeners.push(l),
            Err(e) => {
                serverlog!(Warning, "{}", e);
                std::process::exit(1);
            }
        }
    }
    if listeners.is_empty() {
        serverlog!(Warning, "Configured to not listen anywhere, exiting.");
        std::process::exit(1);
    }
    if let Some(p) = &pid_file {
        process::write_pid_file(p);
    }
    // redisAsciiArt: the banner under `always-show-logo yes` (or on a terminal), which carries
    // the " PID: <pid>" line harnesses wait for; else one line.
    let logo = engine.config().get_bool(cinnabar::param!("always-show-logo"))
        || (engine.config().get(cinnabar::param!("logfile")).is_empty() && host::stdout_is_tty());
    let mut server = match server::Server::new(engine, listeners) {
        Ok(s) => s,
        Err(e) => {
            serverlog!(Warning, "Failed creating the event loop. Error message: '{}'", files::strerror(&e));
            std::process::exit(1);
        }
    };
    // Before anything that may fail to load: a harness that waits for the logo's PID line
    // then sees the error that follows it, as with Redis.
    banner(logo, port);
    serverlog!(Warning, "Server initialized");
    if let Err(e) = server.engine.load_acl_file_at_startup() {
        serverlog!(Warning, "{}", e);
        std::process::exit(1);
    }
    // As redis-server: with appendonly yes the AOF is the dataset (the RDB is not read),
    // else the snapshot in dir/dbfilename; either loads once the listeners are bound,
    // behind LOADING (persist.rs). A file that cannot be read is fatal rather than
    // silently starting empty (and later overwriting it). Clients that connect meanwhile
    // are told LOADING.
    if server.engine.config().get_bool(cinnabar::param!("appendonly")) {
        match aof::Aof::prepare(&server.engine) {
            Ok(aof) => persist::load_aof_at_startup(&mut server, aof),
            Err(e) => {
                serverlog!(Warning, "{}", e);
                std::process::exit(1);
            }
        }
    } else {
        persist::load_at_startup(&mut server);
    }
    // Redis's own line: scripts and test harnesses wait for it.
    serverlog!(Notice, "Ready to accept connections");
    // `replicaof host port` in the config: follow that primary from the start.
    if let Some((host, port)) = server.engine.replica_start() {
        replica::start(&mut server, host, port);
    }
    process::notify_ready(supervisor);
    let code = server.run();
    serverlog!(Notice, "Cinnabar is now ready to exit, bye bye...");
    // prepareForShutdown: the pid file and the socket file go with the server.
    if let Some(p) = &pid_file {
        let _ = std::fs::remove_file(p);
    }
    if !unix_socket.is_empty() {
        let _ = std::fs::remove_file(&unix_socket);
    }
    std::process::exit(code);
}

/// The banner (Redis's ASCII logo's facts: version, mode, port, pid), written raw.
fn banner(logo: bool, port: u16) {
    if !logo {
        serverlog!(Notice, "Running mode=standalone, port={}.", port);
        return;
    }
    if log::enabled(log::Level::Notice) {
        use std::io::Write;
        let text = format!(
            "\n    Cinnabar {} (Redis {} compatible) {} bit\n    Running in standalone mode\n    Port: {}\n    PID: {}\n\n",
            cinnabar::CINNABAR_VERSION,
            cinnabar::REDIS_VERSION,
            std::mem::size_of::<usize>() * 8,
            port,
            std::process::id()
        );
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
}
