//! EVAL and FUNCTION through the engine; texts as redis-server 7.0.15 gives them.

#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::reply::Reply;
use crate::testing::*;

fn eval(t: &mut TestEngine, script: &str) -> Reply {
    t.run(&["EVAL", script, "0"])
}

#[test]
fn smoke() {
    let mut t = TestEngine::new();
    assert_eq!(eval(&mut t, "return 1"), int(1));
    assert_eq!(eval(&mut t, "return redis.call('set','x','y')"), Reply::Status("OK".into()));
    assert_eq!(eval(&mut t, "return redis.call('get','x')"), bulk("y"));
    assert_eq!(eval(&mut t, "return {1,2,3.7,nil,5}"), Reply::Array(vec![int(1), int(2), int(3)]));
    assert_eq!(eval(&mut t, "return a"), err("ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1."));
}
