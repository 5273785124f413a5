//! INFO: the sections and fields clients and operators parse. Values the core cannot know
//! (process id, port, executable, RSS) come from the host through `HostInfo`; CPU time is
//! not reported by any host yet, so the cpu section reads zeros. Redis: server.c genRedisInfoString.

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::error::Result;
use crate::reply::Reply;

const DEFAULT: &[&str] = &["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"];

/// Bytes in Redis's human form (`1.00K`, `1.50M`, `123B`).
pub fn human_bytes(n: u64) -> String {
    let n = n as f64;
    let units = [("B", 1.0), ("K", 1024.0), ("M", 1048576.0), ("G", 1073741824.0), ("T", 1099511627776.0), ("P", 1125899906842624.0)];
    for w in units.windows(2) {
        if n < w[1].1 {
            return if w[0].0 == "B" { format!("{}B", n as u64) } else { format!("{:.2}{}", n / w[0].1, w[0].0) };
        }
    }
    format!("{:.2}P", n / 1125899906842624.0)
}

/// Memory in use: the host's allocator figure when it has one, else the core's estimate.
fn section(ctx: &Ctx, name: &str, out: &mut String) {
    let s = &ctx.srv;
    let h = &s.host;
    let uptime = (s.clock.now_us - s.clock.start_us).max(0) / 1_000_000;
    let mut f = |k: &str, v: String| {
        out.push_str(k);
        out.push(':');
        out.push_str(&v);
        out.push_str("\r\n");
    };
    match name {
        "server" => {
            f("redis_version", crate::REDIS_VERSION.into());
            f("redis_git_sha1", "00000000".into());
            f("redis_git_dirty", "0".into());
            f("redis_build_id", "0".into());
            f("redis_mode", "standalone".into());
            f("server_name", "cinnabar".into());
            f("cinnabar_version", crate::CINNABAR_VERSION.into());
            f("os", h.os.clone());
            f("arch_bits", h.arch_bits.to_string());
            f("multiplexing_api", h.multiplexing_api.clone());
            f("process_id", h.process_id.to_string());
            f("tcp_port", h.tcp_port.to_string());
            f("server_time_usec", s.clock.now_us.to_string());
            f("uptime_in_seconds", uptime.to_string());
            f("uptime_in_days", (uptime / 86400).to_string());
            f("hz", s.config.hot.hz.to_string());
            f("configured_hz", s.config.get_i64(crate::param!("hz")).to_string());
            f("lru_clock", s.lru_clock().to_string());
            f("executable", h.executable.clone());
            f("config_file", h.config_file.clone());
            f("io_threads_active", (h.io_threads_active as u8).to_string());
        }
        "clients" => {
            f("connected_clients", (ctx.others.len() + 1 - s.repl.replicas.len()).to_string());
            f("cluster_connections", "0".into());
            f("maxclients", s.config.get_i64(crate::param!("maxclients")).to_string());
            // Clients held by CLIENT PAUSE count too (Redis blocks them as BLOCKED_POSTPONE).
            f("blocked_clients", (ctx.srv.clients.blocking.count + ctx.srv.clients.paused.len()).to_string());
            f("tracking_clients", ctx.srv.clients.tracking.clients.to_string());
            f("clients_in_timeout_table", "0".into());
        }
        "memory" => {
            // The same breakdown as MEMORY STATS (getMemoryOverheadData).
            let mh = super::memory::overhead(ctx);
            let used = mh.total_allocated;
            let max = s.config.hot.maxmemory;
            let peak = mh.peak_allocated;
            let startup = mh.startup_allocated;
            let dataset = mh.dataset;
            let pct = |a: u64, b: u64| {
                if b == 0 {
                    "0.00%".to_string()
                } else {
                    format!("{:.2}%", a as f64 * 100.0 / b as f64)
                }
            };
            f("used_memory", used.to_string());
            f("used_memory_human", human_bytes(used));
            f("used_memory_rss", h.memory.used_memory_rss.to_string());
            f("used_memory_rss_human", human_bytes(h.memory.used_memory_rss));
            f("used_memory_peak", peak.to_string());
            f("used_memory_peak_human", human_bytes(peak));
            f("used_memory_peak_perc", pct(used, peak));
            f("used_memory_overhead", mh.overhead_total.to_string());
            f("used_memory_startup", startup.to_string());
            f("used_memory_dataset", dataset.to_string());
            f("used_memory_dataset_perc", format!("{:.2}%", mh.dataset_perc));
            f("allocator_allocated", mh.allocator_allocated.to_string());
            f("allocator_active", mh.allocator_active.to_string());
            f("allocator_resident", mh.allocator_resident.to_string());
            // The machine's memory, as the host knows it (0 where it cannot tell).
            f("total_system_memory", h.memory.total_system_memory.to_string());
            f("total_system_memory_human", human_bytes(h.memory.total_system_memory));
            let sc = &s.scripting;
            let vm_eval = sc.eval_vm.as_ref().map_or(0, |v| v.used_memory()) as u64;
            let vm_functions = sc.fn_vm.as_ref().map_or(0, |v| v.used_memory()) as u64;
            let scripts_eval = sc.scripts_mem as u64;
            let scripts_functions: u64 = sc.libraries.values().map(|l| l.code.len() as u64).sum();
            f("used_memory_lua", vm_eval.to_string());
            f("used_memory_vm_eval", vm_eval.to_string());
            f("used_memory_lua_human", human_bytes(vm_eval));
            f("used_memory_scripts_eval", scripts_eval.to_string());
            f("number_of_cached_scripts", sc.scripts.len().to_string());
            f("number_of_functions", sc.functions.len().to_string());
            f("number_of_libraries", sc.libraries.len().to_string());
            f("used_memory_vm_functions", vm_functions.to_string());
            f("used_memory_vm_total", (vm_eval + vm_functions).to_string());
            f("used_memory_vm_total_human", human_bytes(vm_eval + vm_functions));
            f("used_memory_functions", scripts_functions.to_string());
            f("used_memory_scripts", (scripts_eval + scripts_functions).to_string());
            f("used_memory_scripts_human", human_bytes(scripts_eval + scripts_functions));
            f("maxmemory", max.to_string());
            f("maxmemory_human", human_bytes(max));
            f("maxmemory_policy", s.config.get(crate::param!("maxmemory-policy")).into());
            use super::memory::ratio;
            let signed = |a: u64, b: u64| (a as i64 - b as i64).to_string();
            let (allocated, active, resident) = (mh.allocator_allocated, mh.allocator_active, mh.allocator_resident);
            f("allocator_frag_ratio", format!("{:.2}", ratio(active, allocated)));
            f("allocator_frag_bytes", signed(active, allocated));
            f("allocator_rss_ratio", format!("{:.2}", ratio(resident, active)));
            f("allocator_rss_bytes", signed(resident, active));
            f("rss_overhead_ratio", format!("{:.2}", ratio(mh.rss, resident)));
            f("rss_overhead_bytes", signed(mh.rss, resident));
            let frag = if used > 0 && h.memory.used_memory_rss > 0 { h.memory.used_memory_rss as f64 / used as f64 } else { 0.0 };
            f("mem_fragmentation_ratio", format!("{:.2}", frag));
            f("mem_fragmentation_bytes", (h.memory.used_memory_rss as i64 - used as i64).to_string());
            f("mem_not_counted_for_evict", crate::server::evict::not_counted(s).to_string());
            f("mem_replication_backlog", "0".into());
            f("mem_total_replication_buffers", "0".into());
            f("mem_clients_slaves", "0".into());
            f("mem_clients_normal", mh.clients_normal.to_string());
            f("mem_cluster_links", "0".into());
            f("mem_aof_buffer", s.prop.buffered().to_string());
            f("mem_allocator", if h.calls.memory_probe.is_some() || h.memory.used_memory > 0 { "host" } else { "estimate" }.into());
            f("active_defrag_running", "0".into());
            f("lazyfree_pending_objects", s.memory.lazyfree.pending().to_string());
            f("lazyfreed_objects", s.memory.lazyfree.freed().to_string());
        }
        "persistence" => {
            crate::persistence::info_rdb(s, &mut f);
            aof_fields(s, &mut f);
            crate::persistence::info_loading(s, &mut f);
        }
        "stats" => {
            let st = &s.stats;
            f("total_connections_received", st.total_connections_received.to_string());
            f("total_commands_processed", st.total_commands_processed.to_string());
            f("instantaneous_ops_per_sec", st.ops.rate().to_string());
            f("total_net_input_bytes", st.io.net_input_bytes.to_string());
            f("total_net_output_bytes", st.io.net_output_bytes.to_string());
            f("total_net_repl_input_bytes", "0".into());
            f("total_net_repl_output_bytes", s.repl.output_bytes.to_string());
            f("instantaneous_input_kbps", format!("{:.2}", st.net_in.rate() as f64 / 1024.0));
            f("instantaneous_output_kbps", format!("{:.2}", st.net_out.rate() as f64 / 1024.0));
            f("instantaneous_input_repl_kbps", "0.00".into());
            f("instantaneous_output_repl_kbps", "0.00".into());
            f("rejected_connections", st.rejected_connections.to_string());
            f("sync_full", s.repl.sync_full.to_string());
            f("sync_partial_ok", s.repl.sync_partial_ok.to_string());
            f("sync_partial_err", s.repl.sync_partial_err.to_string());
            f("expired_keys", st.expired_keys.to_string());
            f("evicted_keys", st.evicted_keys.to_string());
            f("evicted_clients", st.evicted_clients.to_string());
            let clock_now = h.calls.clock.map_or(0, |c| c());
            let current = s.memory.evict.exceeded_since.map_or(0, |t| (clock_now - t).max(0));
            f("total_eviction_exceeded_time", ((s.memory.evict.exceeded_total_us + current) / 1000).to_string());
            f("current_eviction_exceeded_time", (current / 1000).to_string());
            f("keyspace_hits", st.keyspace_hits.to_string());
            f("keyspace_misses", st.keyspace_misses.to_string());
            f("pubsub_channels", ctx.srv.clients.pubsub.channels.len().to_string());
            f("pubsub_patterns", ctx.srv.clients.pubsub.patterns.len().to_string());
            f("pubsubshard_channels", ctx.srv.clients.pubsub.shard.len().to_string());
            f("latest_fork_usec", s.persistence.latest_fork_usec.to_string());
            f("total_forks", s.persistence.total_forks.to_string());
            f("migrate_cached_sockets", s.migrate_host.as_ref().map_or(0, |m| m.cached_sockets()).to_string());
            // Never a replica, no active defragmentation: these stay at zero.
            for name in [
                "slave_expires_tracked_keys",
                "active_defrag_hits",
                "active_defrag_misses",
                "active_defrag_key_hits",
                "active_defrag_key_misses",
                "total_active_defrag_time",
                "current_active_defrag_time",
            ] {
                f(name, "0".into());
            }
            f("tracking_total_keys", ctx.srv.clients.tracking.total_keys().to_string());
            f("tracking_total_items", ctx.srv.clients.tracking.total_items().to_string());
            f("tracking_total_prefixes", ctx.srv.clients.tracking.total_prefixes().to_string());
            f("unexpected_error_replies", st.unexpected_error_replies.to_string());
            f("total_error_replies", st.total_error_replies.to_string());
            f("total_reads_processed", st.io.reads.to_string());
            f("total_writes_processed", st.io.writes.to_string());
            f("io_threaded_reads_processed", st.io.threaded_reads.to_string());
            f("io_threaded_writes_processed", st.io.threaded_writes.to_string());
        }
        "commandstats" => {
            let names = &crate::command::table::table().names;
            let mut rows: Vec<_> =
                s.stats.commands.iter().enumerate().filter(|(_, c)| c.calls + c.rejected + c.failed > 0).map(|(i, c)| (names[i], c)).collect();
            rows.sort_by_key(|(k, _)| *k);
            for ((cmd, sub), c) in rows {
                let name = match sub {
                    Some(sub) => format!("cmdstat_{}|{}", cmd, sub),
                    None => format!("cmdstat_{}", cmd),
                };
                let per = if c.calls > 0 { c.usec as f64 / c.calls as f64 } else { 0.0 };
                f(&name, format!("calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}", c.calls, c.usec, per, c.rejected, c.failed));
            }
        }
        "latencystats" => crate::commands::server::latency::info_latencystats(ctx, out),
        "errorstats" => {
            for (kind, n) in &s.stats.errors {
                f(&format!("errorstat_{}", kind), format!("count={}", n));
            }
        }
        "replication" => crate::replication::info(s, &mut f),
        "cpu" => {
            let (sys, user) = h.calls.cpu_probe.map_or((0.0, 0.0), |p| p());
            f("used_cpu_sys", format!("{:.6}", sys));
            f("used_cpu_user", format!("{:.6}", user));
            f("used_cpu_sys_children", "0.000000".into());
            f("used_cpu_user_children", "0.000000".into());
        }
        "keyspace" => {
            for db in &s.dbs {
                if !db.is_empty() {
                    f(&format!("db{}", db.id), format!("keys={},expires={},avg_ttl={}", db.len(), db.expires_len(), db.avg_ttl));
                }
            }
        }
        _ => {}
    }
}

fn title(name: &str) -> String {
    let mut c = name.chars();
    match name {
        "cpu" => "CPU".into(),
        "errorstats" => "Errorstats".into(),
        "latencystats" => "Latencystats".into(),
        _ => c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default(),
    }
}

/// INFO [section [section ...]] — `all`, `default` and `everything` as Redis; unknown
/// sections give an empty reply.
pub fn info(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut wanted: Vec<String> = vec![];
    if argv.len() == 1 {
        wanted = DEFAULT.iter().map(|s| s.to_string()).collect();
    }
    for a in &argv[1..] {
        match String::from_utf8_lossy(a).to_ascii_lowercase().as_str() {
            "default" => wanted.extend(DEFAULT.iter().map(|s| s.to_string())),
            "all" | "everything" => {
                wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
                wanted.push("commandstats".into());
                wanted.push("latencystats".into());
            }
            s => wanted.push(s.to_string()),
        }
    }
    let mut out = String::new();
    let mut seen = vec![];
    for w in wanted {
        if seen.contains(&w) || !(DEFAULT.contains(&w.as_str()) || w == "commandstats" || w == "latencystats") {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        out.push_str(&format!("# {}\r\n", title(&w)));
        section(ctx, &w, &mut out);
        seen.push(w);
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// INFO persistence's aof_* lines (Redis 7.0's order; sizes only while the AOF is on).
fn aof_fields(s: &crate::server::Server, f: &mut impl FnMut(&str, String)) {
    let a = &s.aof;
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    f("aof_enabled", flag(a.enabled));
    f("aof_rewrite_in_progress", flag(a.rewrite_in_progress));
    f("aof_rewrite_scheduled", flag(a.rewrite_scheduled));
    f("aof_last_rewrite_time_sec", a.last_rewrite_secs.to_string());
    let current = if a.rewrite_in_progress { (s.now_ms() - a.rewrite_started_ms).max(0) / 1000 } else { -1 };
    f("aof_current_rewrite_time_sec", current.to_string());
    f("aof_last_bgrewrite_status", if a.last_rewrite_ok { "ok" } else { "err" }.into());
    f("aof_rewrites", a.rewrites.to_string());
    f("aof_rewrites_consecutive_failures", a.consecutive_failures.to_string());
    f("aof_last_write_status", if a.write_error.is_none() { "ok" } else { "err" }.into());
    f("aof_last_cow_size", "0".into());
    f("module_fork_in_progress", "0".into());
    f("module_fork_last_cow_size", "0".into());
    if a.enabled {
        f("aof_current_size", a.current_size.to_string());
        f("aof_base_size", a.base_size.to_string());
        f("aof_pending_rewrite", flag(a.rewrite_scheduled));
        f("aof_buffer_length", s.prop.pending_bytes().to_string());
        f("aof_pending_bio_fsync", flag(a.pending_bio_fsync));
        f("aof_delayed_fsync", a.delayed_fsync.to_string());
    }
}
