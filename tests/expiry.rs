//! Black-box expiry tests through the public Engine: lazy expiry on access, and the active
//! cycle that removes keys nobody touches again (Redis's activeExpireCycle), on a fake clock.

use cinnabar::testing::{bulk, ok, TestEngine};
use cinnabar::Reply;

#[test]
fn keys_that_are_never_touched_again_are_removed_by_tick() {
    let mut t = TestEngine::new();
    for i in 0..1000 {
        assert_eq!(t.run(&["SET", &format!("k{}", i), "v", "PX", "100"]), ok());
    }
    for i in 0..100 {
        t.run(&["SET", &format!("keep{}", i), "v"]);
    }
    assert_eq!(t.engine.dbsize(0), 1100);
    t.advance_ms(101);
    // Each tick does bounded work; a few ticks (a fraction of a second at hz 10) clear them.
    for _ in 0..50 {
        t.tick();
        t.advance_ms(100);
    }
    assert_eq!(t.engine.dbsize(0), 100);
}

#[test]
fn one_tick_does_bounded_work() {
    let mut t = TestEngine::new();
    for i in 0..100_000 {
        t.run(&["SET", &format!("k{}", i), "v", "PX", "10"]);
    }
    t.advance_ms(11);
    t.tick();
    let left = t.engine.dbsize(0);
    assert!(left > 90_000, "a single tick must not sweep the whole keyspace (left {})", left);
    assert!(left < 100_000, "a tick must make progress (left {})", left);
}

#[test]
fn keys_with_a_future_deadline_survive_ticks() {
    let mut t = TestEngine::new();
    t.run(&["SET", "a", "1", "EX", "100"]);
    for _ in 0..20 {
        t.tick();
        t.advance_ms(1000);
    }
    assert_eq!(t.run(&["GET", "a"]), bulk("1"));
    t.advance_ms(80_000);
    assert_eq!(t.run(&["GET", "a"]), Reply::Nil);
}

#[test]
fn lazy_expiry_hides_a_key_the_moment_its_deadline_passes() {
    let mut t = TestEngine::new();
    t.run(&["SET", "a", "1", "PX", "1"]);
    t.advance_ms(1);
    assert_eq!(t.run(&["GET", "a"]), Reply::Nil);
    assert_eq!(t.engine.dbsize(0), 0);
}

#[test]
fn a_busy_database_does_not_starve_the_others() {
    let mut t = TestEngine::new();
    for i in 0..50_000 {
        t.run(&["SET", &format!("k{}", i), "v", "PX", "10"]);
    }
    // db 1 via the engine API: SELECT belongs to the connection family's tests.
    let other = t.connect();
    t.run_as(other, &["SELECT", "1"]);
    t.run_as(other, &["SET", "x", "v", "PX", "10"]);
    assert_eq!(t.engine.dbsize(1), 1);
    t.advance_ms(11);
    for _ in 0..40 {
        t.tick();
    }
    assert_eq!(t.engine.dbsize(1), 0);
}
