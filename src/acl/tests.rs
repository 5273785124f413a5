//! Rules and descriptions: what ACL LIST writes must rebuild the same user (Redis panics
//! when its description does not; here a randomized test holds it).

use super::*;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;

const RULES: &[&str] = &[
    "+@all",
    "-@all",
    "+@read",
    "-@write",
    "+@hash",
    "-@dangerous",
    "+@string",
    "-@slow",
    "+@fast",
    "+get",
    "-get",
    "+set",
    "-config",
    "+config|get",
    "-client|kill",
    "+client",
    "+select|0",
    "+debug|object",
    "-@keyspace",
    "+@scripting",
    "~k*",
    "%R~r*",
    "%W~w*",
    "resetkeys",
    "allkeys",
    "&ch*",
    "resetchannels",
    "allchannels",
    "on",
    "off",
    ">pw",
    "nopass",
    "resetpass",
    "(+get ~sel*)",
    "clearselectors",
];

fn rebuilt(u: &User) -> User {
    let mut again = User::new(u.name.clone(), false);
    let words: Vec<Bytes> = crate::resp::inline::split_inline(u.describe().as_bytes()).unwrap();
    for op in merge_selector_args(&words).unwrap() {
        again.apply(&op, false).unwrap_or_else(|e| panic!("{:?} from {}", e, u.describe()));
    }
    again
}

#[test]
fn descriptions_rebuild_the_same_permissions() {
    let mut rng = crate::util::Rng::new(7);
    for _ in 0..300 {
        let mut u = User::new(Bytes::from_static(b"u"), false);
        for _ in 0..(rng.next_u64() % 8) {
            let op = RULES[(rng.next_u64() % RULES.len() as u64) as usize];
            // Patterns after allkeys/allchannels are refused, as in Redis; the rest apply.
            let _ = u.apply(op.as_bytes(), false);
        }
        let again = rebuilt(&u);
        assert_eq!(again.describe(), u.describe());
        for (a, b) in again.selectors.iter().zip(&u.selectors) {
            for id in 0..=crate::command::table::table().names.len() {
                assert_eq!(a.bit(id), b.bit(id), "command {} after {}", id, u.describe());
            }
        }
    }
}

#[test]
fn rule_errors_are_redis_words() {
    let mut u = User::new(Bytes::from_static(b"u"), false);
    assert_eq!(u.apply(b"+nosuch", false), Err(RuleError::UnknownCommand));
    assert_eq!(u.apply(b"-@nosuch", false), Err(RuleError::UnknownCommand));
    assert_eq!(u.apply(b"+client|id|x", false), Err(RuleError::FirstArgOfSubcommand));
    assert_eq!(u.apply(b"+select|", false), Err(RuleError::Syntax));
    assert_eq!(u.apply(b"#abc", false), Err(RuleError::BadHash));
    assert_eq!(u.apply(b"<nothere", false), Err(RuleError::NoSuchPassword));
    assert_eq!(u.apply(b"%X~k", false), Err(RuleError::Syntax));
    u.apply(b"allkeys", false).unwrap();
    assert_eq!(u.apply(b"~k", false), Err(RuleError::AfterAllKeys));
    // A selector's bad rule refuses the whole selector.
    assert_eq!(u.apply(b"(+get bogus)", false), Err(RuleError::Syntax));
    assert_eq!(u.selectors.len(), 1);
}

#[test]
fn passwords_are_kept_hashed_and_compared_in_full() {
    let mut u = User::new(Bytes::from_static(b"u"), false);
    u.apply(b"on", false).unwrap();
    u.apply(b">secret", false).unwrap();
    assert_eq!(u.passwords, vec![hash_password(b"secret")]);
    assert!(u.accepts(b"secret"));
    assert!(!u.accepts(b"secreT"));
    assert!(!u.accepts(b""));
    u.apply(b"off", false).unwrap();
    assert!(!u.accepts(b"secret"));
}
