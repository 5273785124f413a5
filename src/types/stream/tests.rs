use super::*;

const LIM: NodeLimits = NodeLimits { bytes: 4096, entries: 100 };

fn fv(pairs: &[(&str, &str)]) -> Vec<Bytes> {
    pairs.iter().flat_map(|(f, v)| [Bytes::from(f.to_string()), Bytes::from(v.to_string())]).collect()
}

fn filled(n: u64) -> Stream {
    let mut s = Stream::default();
    for i in 1..=n {
        let pairs = if i % 3 == 0 { fv(&[("other", "x"), ("n", &i.to_string())]) } else { fv(&[("n", &i.to_string())]) };
        s.append(StreamId::new(i, 0), &pairs, LIM);
    }
    s
}

#[test]
fn ids_parse_as_redis_reads_them() {
    assert_eq!(StreamId::parse(b"5", 7, false, false), Some((StreamId::new(5, 7), true)));
    assert_eq!(StreamId::parse(b"5-3", 0, false, false), Some((StreamId::new(5, 3), true)));
    assert_eq!(StreamId::parse(b"5-*", 0, true, true), Some((StreamId::new(5, 0), false)));
    assert_eq!(StreamId::parse(b"5-*", 0, true, false), None);
    assert_eq!(StreamId::parse(b"-", 0, true, false), None);
    assert_eq!(StreamId::parse(b"+", 0, false, false), Some((StreamId::MAX, true)));
    assert_eq!(StreamId::parse(b"18446744073709551615-18446744073709551615", 0, true, false), Some((StreamId::MAX, true)));
    assert_eq!(StreamId::parse(b"18446744073709551616", 0, true, false), None);
    assert_eq!(StreamId::parse(b"-1", 0, true, false), None);
    assert_eq!(StreamId::parse(b"abc", 0, true, false), None);
    assert_eq!(StreamId::parse(b"1-2-3", 0, true, false), None);
}

#[test]
fn append_range_and_reverse_cross_nodes() {
    let s = filled(250);
    assert_eq!(s.len(), 250);
    assert_eq!(s.node_count(), 3);
    let all = s.range(StreamId::MIN, StreamId::MAX, false, 0);
    assert_eq!(all.len(), 250);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(all[2].1, fv(&[("other", "x"), ("n", "3")]));
    assert_eq!(all[3].1, fv(&[("n", "4")]));
    let rev = s.range_ids(StreamId::new(95, 0), StreamId::new(105, 0), true, 0);
    assert_eq!(rev.iter().map(|i| i.ms).collect::<Vec<_>>(), (95..=105).rev().collect::<Vec<_>>());
    assert_eq!(s.range_ids(StreamId::new(99, 1), StreamId::MAX, false, 2), vec![StreamId::new(100, 0), StreamId::new(101, 0)]);
}

#[test]
fn delete_marks_entries_and_drops_empty_nodes() {
    let mut s = filled(150);
    assert!(s.delete(StreamId::new(5, 0)));
    assert!(!s.delete(StreamId::new(5, 0)));
    assert!(!s.contains(StreamId::new(5, 0)));
    assert_eq!(s.len(), 149);
    for i in 101..=150 {
        assert!(s.delete(StreamId::new(i, 0)));
    }
    assert_eq!(s.node_count(), 1);
    assert_eq!(s.last_valid_id(), StreamId::new(100, 0));
    assert!(s.consistent());
}

#[test]
fn trim_exact_and_approximate() {
    let mut s = filled(250);
    assert_eq!(s.trim(Trim::MaxLen(200), true, 10_000), 0, "approx removes only whole nodes");
    assert_eq!(s.trim(Trim::MaxLen(140), true, 10_000), 100);
    assert_eq!(s.len(), 150);
    assert_eq!(s.trim(Trim::MaxLen(140), false, 0), 10);
    assert_eq!(s.first_id, StreamId::new(111, 0));
    assert_eq!(s.trim(Trim::MinId(StreamId::new(200, 0)), false, 0), 89);
    assert_eq!(s.range_ids(StreamId::MIN, StreamId::MAX, false, 1), vec![StreamId::new(200, 0)]);
    assert!(s.consistent());
}

#[test]
fn rdb_nodes_load_back() {
    let mut s = filled(120);
    s.delete(StreamId::new(7, 0));
    let mut t = Stream::default();
    for (k, blob) in s.rdb_nodes() {
        let items = crate::ds::redis_listpack::decode(&blob).unwrap();
        t.load_node(StreamId::decode(&k).unwrap(), items).unwrap();
    }
    assert_eq!(t.range(StreamId::MIN, StreamId::MAX, false, 0), s.range(StreamId::MIN, StreamId::MAX, false, 0));
}

#[test]
fn corrupt_nodes_are_refused() {
    let items = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
    let m = StreamId::new(1, 0);
    assert!(validate_node(m, &items(&["1", "0", "1", "f", "0", "2", "0", "0", "v", "4"])).is_some());
    assert!(validate_node(m, &items(&["1", "0", "1", "f", "0", "2", "0", "0", "v", "5"])).is_none());
    assert!(validate_node(m, &items(&["2", "0", "1", "f", "0", "2", "0", "0", "v", "4"])).is_none());
    assert!(validate_node(m, &items(&["1", "0", "1", "f", "0", "2", "0", "0"])).is_none());
    assert!(validate_node(m, &items(&["1", "0", "9", "f", "0"])).is_none());
    assert!(validate_node(m, &items(&["1", "0", "1", "f", "0", "0", "0", "0", "1", "f", "v", "6"])).is_some());
    assert!(validate_node(m, &items(&["1", "0", "1", "f", "0", "0", "0", "0", "999999999999", "f", "v", "6"])).is_none());
}
