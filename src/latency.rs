//! Latency: the latency monitor (events slower than `latency-monitor-threshold` ms, kept as
//! per-second time series) and the per-command latency histograms behind LATENCY HISTOGRAM
//! and INFO latencystats. Durations come from the host's clock, the same reading SLOWLOG and
//! commandstats use. Redis: latency.c, sparkline.c, deps/hdr_histogram.

use std::fmt::Write;

/// Samples kept per event (LATENCY_TS_LEN).
pub const TS_LEN: usize = 160;

#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    /// Unix seconds; 0 marks an empty slot.
    time: i64,
    latency: u64,
}

/// One event's history: at most one sample per second (the worst), in a ring.
#[derive(Debug, Clone)]
pub struct Series {
    idx: usize,
    max: u64,
    samples: [Sample; TS_LEN],
}

impl Series {
    fn new() -> Series {
        Series { idx: 0, max: 0, samples: [Sample::default(); TS_LEN] }
    }

    /// The samples oldest first.
    fn in_order(&self) -> impl Iterator<Item = &Sample> {
        (0..TS_LEN).map(move |j| &self.samples[(self.idx + j) % TS_LEN]).filter(|s| s.time != 0)
    }
}

/// The latency monitor's events, in the order they first occurred.
#[derive(Debug, Clone, Default)]
pub struct Monitor {
    events: Vec<(String, Box<Series>)>,
}

impl Monitor {
    /// Records `latency` ms for `event` at `now` (latencyAddSample): a second sample in the
    /// same second only raises that second's value.
    pub fn add_sample(&mut self, event: &str, latency: u64, now: i64) {
        let ts = match self.events.iter().position(|(e, _)| e == event) {
            Some(i) => &mut self.events[i].1,
            None => {
                self.events.push((event.to_string(), Box::new(Series::new())));
                &mut self.events.last_mut().expect("pushed").1
            }
        };
        ts.max = ts.max.max(latency);
        let prev = (ts.idx + TS_LEN - 1) % TS_LEN;
        if ts.samples[prev].time == now {
            ts.samples[prev].latency = ts.samples[prev].latency.max(latency);
            return;
        }
        ts.samples[ts.idx] = Sample { time: now, latency };
        ts.idx = (ts.idx + 1) % TS_LEN;
    }

    /// Forgets one event (matched case-insensitively, as strcasecmp) or all; how many.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        let before = self.events.len();
        self.events.retain(|(e, _)| event.is_some_and(|x| !e.as_bytes().eq_ignore_ascii_case(x)));
        before - self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    fn get(&self, event: &[u8]) -> Option<&Series> {
        self.events.iter().find(|(e, _)| e.as_bytes() == event).map(|(_, s)| &**s)
    }

    /// LATENCY LATEST rows: (event, time of the last sample, its latency, all-time max).
    pub fn latest(&self) -> Vec<(&str, i64, u64, u64)> {
        self.events
            .iter()
            .map(|(e, ts)| {
                let last = ts.samples[(ts.idx + TS_LEN - 1) % TS_LEN];
                (e.as_str(), last.time, last.latency, ts.max)
            })
            .collect()
    }

    /// LATENCY HISTORY: (time, latency) pairs, oldest first; None for an unknown event.
    pub fn history(&self, event: &[u8]) -> Option<Vec<(i64, u64)>> {
        Some(self.get(event)?.in_order().map(|s| (s.time, s.latency)).collect())
    }

    /// LATENCY GRAPH's text (latencyCommandGenSparkeline); None for an unknown event.
    pub fn graph(&self, event: &[u8], now: i64) -> Option<String> {
        let (name, ts) = self.events.iter().find(|(e, _)| e.as_bytes() == event)?;
        let mut seq = Sequence::default();
        for s in ts.in_order() {
            let elapsed = now - s.time;
            let label = if elapsed < 60 {
                format!("{}s", elapsed)
            } else if elapsed < 3600 {
                format!("{}m", elapsed / 60)
            } else if elapsed < 86400 {
                format!("{}h", elapsed / 3600)
            } else {
                format!("{}d", elapsed / 86400)
            };
            seq.add(s.latency as f64, label);
        }
        let (min, max) = (seq.min as u64, seq.max as u64);
        let mut out = format!("{} - high {} ms, low {} ms (all time high {} ms)\n", name, max, min, ts.max);
        out.push_str(&"-".repeat(GRAPH_COLS));
        out.push('\n');
        seq.render(&mut out, GRAPH_COLS, 4);
        Some(out)
    }

    /// LATENCY DOCTOR's report (createLatencyReport), with the advice Redis gives for the
    /// events Cinnabar records. `slowlog_slower_than` is in µs, `threshold` in ms.
    pub fn doctor(&self, now: i64, threshold: i64, slowlog_slower_than: i64) -> String {
        if self.events.is_empty() && threshold == 0 {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
        }
        let mut report = String::new();
        let (mut slowlog_enabled, mut slowlog_tuning, mut slowlog_inspect, mut scheduler, mut hz, mut large_objects) =
            (false, false, false, false, false, false);
        let mut advices = 0;
        for (n, (event, ts)) in self.events.iter().enumerate() {
            if n == 0 {
                report.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            }
            let st = analyze(ts, now);
            let _ = write!(
                report,
                "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
                n + 1,
                event,
                st.samples,
                st.avg,
                st.mad,
                st.period as f64 / st.samples.max(1) as f64,
                ts.max
            );
            match event.to_ascii_lowercase().as_str() {
                "command" => {
                    if slowlog_slower_than < 0 {
                        slowlog_enabled = true;
                        advices += 1;
                    } else if slowlog_slower_than / 1000 > threshold {
                        slowlog_tuning = true;
                        advices += 1;
                    }
                    slowlog_inspect = true;
                    large_objects = true;
                    advices += 2;
                }
                "fast-command" => {
                    scheduler = true;
                    advices += 1;
                }
                "expire-cycle" => {
                    hz = true;
                    large_objects = true;
                    advices += 2;
                }
                _ => {}
            }
            report.push('\n');
        }
        if self.events.is_empty() && advices == 0 {
            report.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        } else if advices == 0 {
            report.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        } else {
            report.push_str("\nI have a few advices for you:\n\n");
            if slowlog_enabled {
                let _ = writeln!(report, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.", threshold * 1000);
            }
            if slowlog_tuning {
                let _ = writeln!(report, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {}'.", threshold * 1000);
            }
            if slowlog_inspect {
                report.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
            }
            if scheduler {
                report.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
            }
            if hz {
                report.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
            }
            if large_objects {
                report.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
            }
        }
        report
    }
}

struct Stats {
    samples: u64,
    avg: u64,
    mad: u64,
    period: i64,
}

/// analyzeLatencyForEvent: average, mean absolute deviation, and the seconds since the
/// oldest sample (at least 1).
fn analyze(ts: &Series, now: i64) -> Stats {
    let live: Vec<&Sample> = ts.samples.iter().filter(|s| s.time != 0).collect();
    let n = live.len() as u64;
    if n == 0 {
        return Stats { samples: 0, avg: 0, mad: 0, period: 0 };
    }
    let avg = live.iter().map(|s| s.latency).sum::<u64>() / n;
    let oldest = live.iter().map(|s| s.time).min().unwrap_or(now);
    let period = (now - oldest).max(0);
    let mad = live.iter().map(|s| (avg as i64 - s.latency as i64).unsigned_abs()).sum::<u64>() / n;
    Stats { samples: n, avg, mad, period: if period == 0 { 1 } else { period } }
}

const GRAPH_COLS: usize = 80;

/// A sparkline sequence (sparkline.c) drawn with the fill charset, as LATENCY GRAPH does.
#[derive(Default)]
struct Sequence {
    samples: Vec<(f64, String)>,
    min: f64,
    max: f64,
    labels: usize,
}

impl Sequence {
    fn add(&mut self, value: f64, label: String) {
        if self.samples.is_empty() {
            self.min = value;
            self.max = value;
        } else if value < self.min {
            self.min = value;
        } else if value > self.max {
            self.max = value;
        }
        if !label.is_empty() {
            self.labels += 1;
        }
        self.samples.push((value, label));
    }

    fn render(&self, out: &mut String, columns: usize, rows: usize) {
        let mut j = 0;
        while j < self.samples.len() {
            if j != 0 {
                out.push('\n');
            }
            let len = (self.samples.len() - j).min(columns);
            self.render_range(out, rows, j, len);
            j += columns;
        }
    }

    fn render_range(&self, out: &mut String, rows: usize, offset: usize, len: usize) {
        const FILL: &[u8] = b"_o#";
        let steps = (FILL.len() * rows) as i64;
        let relmax = if self.max - self.min == 0.0 { 1.0 } else { self.max - self.min };
        let mut row = 0;
        loop {
            let mut more = false;
            let mut chars = vec![b' '; len];
            for (j, c) in chars.iter_mut().enumerate() {
                let (value, label) = &self.samples[j + offset];
                let relval = value - self.min;
                // C: `step = (int)(relval*steps)/relmax`, truncated again on assignment.
                let step = (((relval * steps as f64) as i64) as f64 / relmax) as i64;
                let step = step.clamp(0, steps - 1);
                if row < rows {
                    let charidx = step - ((rows - row - 1) * FILL.len()) as i64;
                    more = true;
                    if (0..FILL.len() as i64).contains(&charidx) {
                        *c = FILL[charidx as usize];
                    } else if charidx >= FILL.len() as i64 {
                        *c = b'|';
                    }
                } else {
                    // One blank row between the graph and its labels.
                    if self.labels > 0 && row - rows < 1 {
                        more = true;
                        break;
                    }
                    let label_char = row - rows - 1;
                    if label.len() > label_char {
                        more = true;
                        *c = label.as_bytes()[label_char];
                    }
                }
            }
            if !more {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&chars));
            out.push('\n');
        }
    }
}

/// A command's latency histogram: an HDR histogram over 1 ns ..= 1 s with 2 significant
/// digits, the configuration Redis 7 uses (so LATENCY HISTOGRAM's buckets and INFO
/// latencystats' percentiles come out as Redis's). Values are nanoseconds.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
}

/// hdr_init(1, 1e9, 2): 256 sub-buckets (half 128), 23 buckets, unit magnitude 0.
const SUB_HALF_MAG: u32 = 7;
const SUB_HALF: i64 = 1 << SUB_HALF_MAG;
const SUB_COUNT: i64 = SUB_HALF * 2;
const COUNTS_LEN: usize = 24 * SUB_HALF as usize;
const MIN_VALUE: i64 = 1;
const MAX_VALUE: i64 = 1_000_000_000;

fn bucket_index(v: i64) -> i64 {
    let pow2ceiling = 64 - (v | (SUB_COUNT - 1)).leading_zeros() as i64;
    pow2ceiling - (SUB_HALF_MAG as i64 + 1)
}

fn counts_index_for(v: i64) -> usize {
    let b = bucket_index(v);
    let sb = v >> b;
    (((b + 1) << SUB_HALF_MAG) + (sb - SUB_HALF)) as usize
}

fn value_at_index(i: i64) -> i64 {
    let mut b = (i >> SUB_HALF_MAG) - 1;
    let mut sb = (i & (SUB_HALF - 1)) + SUB_HALF;
    if b < 0 {
        sb -= SUB_HALF;
        b = 0;
    }
    sb << b
}

fn lowest_equivalent(v: i64) -> i64 {
    let b = bucket_index(v);
    (v >> b) << b
}

fn range_size(v: i64) -> i64 {
    let b = bucket_index(v);
    let adjusted = if (v >> b) >= SUB_COUNT { b + 1 } else { b };
    1 << adjusted
}

fn highest_equivalent(v: i64) -> i64 {
    lowest_equivalent(v) + range_size(v) - 1
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; COUNTS_LEN].into_boxed_slice(), total: 0 }
    }
}

impl Histogram {
    /// Records one duration in nanoseconds, clamped to the tracked range as Redis does.
    pub fn record(&mut self, ns: i64) {
        let v = ns.clamp(MIN_VALUE, MAX_VALUE);
        self.counts[counts_index_for(v)] += 1;
        self.total += 1;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// LATENCY HISTOGRAM's buckets: (upper bound in µs, cumulative count) at 1024 ns × 2^k,
    /// skipping buckets that add nothing (hdr_iter_log_init(1024, 2) as fillCommandCDF).
    pub fn log_buckets(&self) -> Vec<(i64, u64)> {
        let mut out = vec![];
        // The log iterator of hdr_histogram.c, step for step.
        let (mut index, mut cumulative, mut value, mut highest) = (-1i64, 0u64, 0i64, 0i64);
        let mut next_level = 1024i64;
        let mut next_lowest = lowest_equivalent(next_level);
        let mut previous = 0u64;
        loop {
            let has_next = cumulative < self.total;
            let next_above = index < COUNTS_LEN as i64 && value_at_index(index + 1) > next_lowest;
            if !has_next && !next_above {
                break;
            }
            loop {
                if value >= next_lowest {
                    next_level *= 2;
                    next_lowest = lowest_equivalent(next_level);
                    break;
                }
                index += 1;
                if index >= COUNTS_LEN as i64 {
                    break;
                }
                cumulative += self.counts[index as usize];
                value = value_at_index(index);
                highest = lowest_equivalent(value) + range_size(value) - 1;
            }
            if cumulative > previous {
                out.push((highest / 1000, cumulative));
            }
            previous = cumulative;
        }
        out
    }

    /// hdr_value_at_percentile, in nanoseconds.
    pub fn value_at_percentile(&self, percentile: f64) -> i64 {
        let p = percentile.min(100.0);
        let at = ((p / 100.0 * self.total as f64) + 0.5) as u64;
        let at = at.max(1);
        let mut seen = 0;
        let mut v = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= at {
                v = value_at_index(i as i64);
                break;
            }
        }
        if percentile == 0.0 {
            lowest_equivalent(v)
        } else {
            highest_equivalent(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    /// Buckets redis-server 7.0.15 printed for DEBUG SLEEP 0, 0.0001, 0.0005, ... 1.2 (its
    /// recorded durations are not ours, but every bucket bound is).
    #[test]
    fn histogram_buckets_have_redis_bounds() {
        let mut h = Histogram::default();
        for us in [0, 1, 2, 3, 5, 9, 17, 40, 70, 130, 260, 520, 1050, 2100, 4200, 8400, 16900, 33800, 67600, 135000, 270000, 541000, 999_000, 1_200_000] {
            h.record(us * 1000);
        }
        let bounds: Vec<i64> = h.log_buckets().iter().map(|(b, _)| *b).collect();
        assert_eq!(bounds, vec![1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532, 541065, 1073741]);
        let counts: Vec<u64> = h.log_buckets().iter().map(|(_, c)| *c).collect();
        assert_eq!(counts.last(), Some(&24));
        assert_eq!(counts[0], 2); // 0 µs (clamped to 1 ns) and 1 µs
    }

    #[test]
    fn empty_buckets_are_skipped_and_counts_are_cumulative() {
        let mut h = Histogram::default();
        h.record(3_000);
        h.record(3_000);
        h.record(100_000);
        assert_eq!(h.log_buckets(), vec![(4, 2), (132, 3)]);
        assert_eq!(h.total(), 3);
    }

    #[test]
    fn percentiles_follow_hdr_histogram() {
        let mut h = Histogram::default();
        for us in 1..=100 {
            h.record(us * 1000);
        }
        // Two significant digits: 50 µs lies in a 256 ns wide bucket.
        assert_eq!(h.value_at_percentile(50.0), 50_175);
        assert_eq!(h.value_at_percentile(100.0), 100_351);
    }

    #[test]
    fn one_sample_per_second_keeps_the_worst() {
        let mut m = Monitor::default();
        m.add_sample("command", 120, 1000);
        m.add_sample("command", 250, 1000);
        m.add_sample("command", 100, 1000);
        m.add_sample("command", 90, 1002);
        assert_eq!(m.history(b"command"), Some(vec![(1000, 250), (1002, 90)]));
        assert_eq!(m.history(b"COMMAND"), None);
        assert_eq!(m.latest(), vec![("command", 1002, 90, 250)]);
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert!(m.is_empty());
    }

    #[test]
    fn the_graph_is_redis_sparkline() {
        let mut m = Monitor::default();
        m.add_sample("command", 250, 1000);
        let g = m.graph(b"command", 1000).unwrap();
        assert_eq!(g, format!("command - high 250 ms, low 250 ms (all time high 250 ms)\n{}\n \n \n \n_\n \n0\ns\n", "-".repeat(80)));
        m.add_sample("command", 100, 1010);
        m.add_sample("command", 400, 1070);
        let g = m.graph(b"command", 1075).unwrap();
        let body: Vec<&str> = g.lines().skip(2).collect();
        assert_eq!(body, vec!["  #", "_ |", "| |", "|_|", "   ", "115", "mms"]);
    }

    #[test]
    fn the_doctor_talks_like_redis() {
        let mut m = Monitor::default();
        assert!(m.doctor(0, 0, 10000).starts_with("I'm sorry, Dave, I can't do that."));
        assert!(m.doctor(0, 100, 10000).starts_with("Dave, no latency spike was observed"));
        m.add_sample("command", 250, 1000);
        let r = m.doctor(1000, 100, 10000);
        assert!(r.starts_with("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n1. command: 1 latency spikes (average 250ms, mean deviation 0ms, period 1.00 sec). Worst all time event 250ms.\n\nI have a few advices for you:\n\n- Check your Slow Log"), "{}", r);
        let r = m.doctor(1000, 100, -1);
        assert!(r.contains("'CONFIG SET slowlog-log-slower-than 100000'. If the Slow log is disabled"), "{}", r);
    }
}
