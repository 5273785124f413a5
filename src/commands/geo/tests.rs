//! Geo family, reply-exact (checked against redis-server 7.0.15).

use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn sicily() -> TestEngine {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]), int(2));
    t
}

fn coords(x: f64, y: f64) -> Reply {
    Reply::Array(vec![Reply::HumanDouble(x), Reply::HumanDouble(y)])
}

#[test]
fn geoadd_stores_the_52_bit_cell_as_score() {
    let mut t = sicily();
    assert_eq!(t.run(&["ZSCORE", "Sicily", "Palermo"]), Reply::Double(3479099956230698.0));
    assert_eq!(t.run(&["GEOADD", "Sicily", "200", "100", "x"]), err("ERR invalid longitude,latitude pair 200.000000,100.000000"));
    assert_eq!(t.run(&["GEOADD", "Sicily", "NX", "XX", "1", "2", "x"]), err("ERR syntax error"));
    assert_eq!(t.run(&["GEOADD", "Sicily", "1", "2", "a", "b"]), err("ERR syntax error"));
    assert_eq!(t.run(&["GEOADD", "Sicily", "CH", "13.361389", "38.115556", "Palermo", "1", "1", "Catania"]), int(1));
    assert_eq!(t.run(&["GEOADD", "Sicily", "XX", "1", "1", "new"]), int(0));
    assert_eq!(t.run(&["ZCARD", "Sicily"]), int(2));
}

#[test]
fn geopos_geodist_geohash_print_as_redis() {
    let mut t = sicily();
    let Reply::Array(items) = t.run(&["GEOPOS", "Sicily", "Palermo", "nope"]) else { panic!() };
    assert_eq!(items[1], Reply::NilArray);
    let Reply::Array(xy) = &items[0] else { panic!() };
    let text = |r: &Reply| match r {
        Reply::HumanDouble(d) => crate::long_double::LongDouble::from_f64(*d).to_human_string(),
        _ => panic!(),
    };
    assert_eq!((text(&xy[0]).as_str(), text(&xy[1]).as_str()), ("13.36138933897018433", "38.11555639549629859"));
    assert_eq!(t.run(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]), bulk("166.2742"));
    assert_eq!(t.run(&["GEODIST", "Sicily", "Palermo", "Catania", "parsec"]), err("ERR unsupported unit provided. please use M, KM, FT, MI"));
    assert_eq!(t.run(&["GEODIST", "Sicily", "Palermo", "nope"]), Reply::Nil);
    assert_eq!(t.run(&["GEOHASH", "Sicily", "Palermo", "Catania", "nope"]), Reply::Array(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), Reply::Nil]));
}

#[test]
fn georadius_with_everything() {
    let mut t = sicily();
    let Reply::Array(rows) = t.run(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHHASH", "WITHCOORD", "ASC"]) else { panic!() };
    assert_eq!(rows.len(), 2);
    let Reply::Array(first) = &rows[0] else { panic!() };
    assert_eq!(first[0], bulk("Catania"));
    assert_eq!(first[1], bulk("56.4413"));
    assert_eq!(first[2], int(3479447370796909));
    assert!(matches!(&first[3], Reply::Array(c) if c.len() == 2));
    let _ = coords(0.0, 0.0);
    assert_eq!(t.run(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "DESC"]), arr(&["Palermo"]));
    assert_eq!(t.run(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"]), err("ERR the ANY argument requires COUNT argument"));
    assert_eq!(t.run(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"]), err("ERR COUNT must be > 0"));
    assert_eq!(t.run(&["GEORADIUS", "Sicily", "15", "37", "-1", "km"]), err("ERR radius cannot be negative"));
    assert_eq!(t.run(&["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"]), err("ERR syntax error"));
    assert_eq!(
        t.run(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "x", "WITHDIST"]),
        err("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    );
    assert_eq!(t.run(&["GEORADIUSBYMEMBER", "Sicily", "nope", "200", "km"]), err("ERR could not decode requested zset member"));
    assert_eq!(t.run(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km"]), arr(&["Palermo", "Catania"]));
}

#[test]
fn store_variants_write_sorted_sets() {
    let mut t = sicily();
    assert_eq!(t.run(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "d"]), int(2));
    assert_eq!(t.run(&["ZRANGE", "d", "0", "0"]), arr(&["Catania"]));
    assert_eq!(t.run(&["GEOSEARCHSTORE", "s", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "COUNT", "1"]), int(1));
    assert_eq!(t.run(&["ZSCORE", "s", "Catania"]), Reply::Double(3479447370796909.0));
    assert_eq!(t.run(&["GEOSEARCHSTORE", "s", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"]), int(0));
    assert_eq!(t.run(&["EXISTS", "s"]), int(0));
    assert_eq!(
        t.run(&["GEOSEARCH", "Sicily", "BYRADIUS", "1", "m", "ASC", "DESC"]),
        err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
    );
    assert_eq!(
        t.run(&["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "WITHDIST", "ASC", "DESC"]),
        err("ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH")
    );
    assert_eq!(
        t.run(&["GEOSEARCHSTORE", "s", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m", "WITHDIST"]),
        err("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    );
}

/// pqsort with a range covering everything is a full sort.
#[test]
fn pqsort_sorts_the_requested_prefix() {
    let mut rng = crate::util::Rng::new(7);
    for n in [0usize, 1, 5, 7, 8, 40, 41, 100, 500] {
        let v: Vec<u64> = (0..n).map(|_| rng.below(20)).collect();
        let mut sorted = v.clone();
        sorted.sort();
        for k in 1..=n.min(12) {
            let mut p = v.clone();
            super::pqsort(&mut p, &|a: &u64, b: &u64| (*a as i64 - *b as i64).signum() as i32, 0, k - 1);
            assert_eq!(p[..k], sorted[..k], "n={} k={}", n, k);
        }
    }
}

/// GEOADD replays as the ZADD it ran; the searches that store replay as sent.
#[test]
fn propagation_and_watch() {
    let mut t = TestEngine::new();
    t.aof_on();
    t.run(&["GEOADD", "g", "ch", "13.361389", "38.115556", "Palermo"]);
    t.run(&["GEOADD", "g", "13.361389", "38.115556", "Palermo"]);
    t.run(&["GEORADIUS", "g", "13", "38", "100", "km", "STORE", "d"]);
    t.run(&["GEORADIUS_RO", "g", "13", "38", "100", "km"]);
    assert_eq!(t.aof_commands(), ["SELECT 0", "zadd g ch 3479099956230698 Palermo", "GEORADIUS g 13 38 100 km STORE d"]);
    let w = t.connect();
    t.run_as(w, &["WATCH", "g"]);
    t.run_as(w, &["MULTI"]);
    t.run_as(w, &["GET", "x"]);
    t.run(&["GEOADD", "g", "1", "1", "other"]);
    assert_eq!(t.run_as(w, &["EXEC"]), Reply::NilArray);
}
