use super::*;
use rilua::{Lua, LuaApiMut, StdLib};

/// Helpers shared by every case, kept on one line so that error positions read
/// `user_script:1:` as they do in Redis: `E` escapes non-printable bytes, `S`
/// renders any value (tables with sorted keys, numbers with `%.17g`, null as
/// `NULL`), `P` renders everything `pcall` returns, `N(n)` nests `n` arrays.
const PRELUDE: &str = r#"local function E(s) return (string.gsub(s, '[^\32-\126]', function(c) return string.format('\\x%02x', string.byte(c)) end)) end local function S(v) local t = type(v) if v == cjson.null then return 'NULL' elseif t == 'number' then if v ~= v then return 'NaN' end return string.format('%.17g', v) elseif t == 'string' then return '"' .. E(v) .. '"' elseif t == 'table' then local ks = {} for k in pairs(v) do ks[#ks+1] = k end table.sort(ks, function(a, b) return S(a) < S(b) end) local o = {} for i = 1, #ks do o[i] = S(ks[i]) .. '=' .. S(v[ks[i]]) end return '{' .. table.concat(o, ',') .. '}' else return tostring(v) end end local function pk(...) return select('#', ...), {...} end local function P(...) local n, r = pk(pcall(...)) local o = {} for i = 1, n do o[i] = S(r[i]) end return table.concat(o, ' | ') end local function N(n) local t = {} for i = 1, n do t = {t} end return t end "#;

fn run_with(libs: StdLib, snippet: &str) -> String {
    let mut lua = Lua::new_with(libs).expect("lua state");
    open(lua.state_mut()).expect("open cjson");
    let source = format!("{PRELUDE}{snippet}");
    let func = lua.load_bytes(source.as_bytes(), "@user_script").expect("snippet compiles");
    let results = lua.call_function(&func, &[]).expect("snippet runs");
    let first = results.first().copied().unwrap_or(Val::Nil);
    match first {
        Val::Num(n) => format_g(n, 14),
        other => String::from_utf8_lossy(lua.val_as_bytes(other).expect("string result")).into_owned(),
    }
}

/// Runs `snippet` (a Redis script body) and compares its result with the reply
/// the real redis-server 7.0.15 gave for the same script.
fn check(snippet: &str, expected: &str) {
    let got = run_with(StdLib::BASE | StdLib::STRING | StdLib::TABLE | StdLib::MATH, snippet);
    assert_eq!(got, expected, "script: {snippet}");
}

#[test]
fn encode_nested_mixed() {
    check(r##"return cjson.encode({1,2,3,{a=1}})"##, r##"[1,2,3,{"a":1}]"##);
}

#[test]
fn encode_empty_table() {
    check(r##"return cjson.encode({})"##, r##"{}"##);
}

#[test]
fn encode_nested_empty() {
    check(r##"return cjson.encode({{},{{}}})"##, r##"[{},[{}]]"##);
}

#[test]
fn encode_scalars() {
    check(
        r##"return cjson.encode(nil) .. ' ' .. cjson.encode(cjson.null) .. ' ' .. cjson.encode(true) .. ' ' .. cjson.encode(false)"##,
        r##"null null true false"##,
    );
}

#[test]
fn encode_string_escapes() {
    check(r##"return E(cjson.encode('a/b"c\\d\n\t\r\b\f\0\1\31\127 \128\255'))"##, r##""a\/b\"c\\d\n\t\r\b\f\u0000\u0001\u001f\u007f \x80\xff""##);
}

#[test]
fn encode_all_control_bytes() {
    check(
        r##"local s = {} for i = 0, 40 do s[#s+1] = string.char(i) end return E(cjson.encode(table.concat(s)))"##,
        r##""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f !\"#$%&'(""##,
    );
}

#[test]
fn encode_utf8_passthrough() {
    check(r##"return E(cjson.encode('h\195\169llo \226\130\172'))"##, r##""h\xc3\xa9llo \xe2\x82\xac""##);
}

#[test]
fn encode_integers() {
    check(r##"return cjson.encode({1, -1, 0, 42, 123456, 2^31, 2^53, -2^40})"##, r##"[1,-1,0,42,123456,2147483648,9.007199254741e+15,-1099511627776]"##);
}

#[test]
fn encode_fractions() {
    check(r##"return cjson.encode({0.1, 1/3, -2.5, 3.14159265358979, 0.0001, 0.00001})"##, r##"[0.1,0.33333333333333,-2.5,3.1415926535898,0.0001,1e-05]"##);
}

#[test]
fn encode_large_numbers() {
    check(
        r##"return cjson.encode({1e14, 1e15, 123456789012345678, 1e100, -1e300, 5e-324, 1.7976931348623157e308})"##,
        r##"[1e+14,1e+15,1.2345678901235e+17,1e+100,-1e+300,4.9406564584125e-324,1.7976931348623e+308]"##,
    );
}

#[test]
fn encode_negative_zero() {
    check(r##"return cjson.encode(-0)"##, r##"-0"##);
}

#[test]
fn encode_rounding() {
    check(r##"return cjson.encode({0.5, 1.5, 2.5, 0.125, 1e21, 99999999999999.5, 999999999999995})"##, r##"[0.5,1.5,2.5,0.125,1e+21,1e+14,1e+15]"##);
}

#[test]
fn encode_inf_error() {
    check(
        r##"return P(cjson.encode, 1/0) .. ' ; ' .. P(cjson.encode, -1/0) .. ' ; ' .. P(cjson.encode, {0/0})"##,
        r##"false | "Cannot serialise number: must not be NaN or Inf" ; false | "Cannot serialise number: must not be NaN or Inf" ; false | "Cannot serialise number: must not be NaN or Inf""##,
    );
}

#[test]
fn encode_function_error() {
    check(
        r##"return P(cjson.encode, {a = cjson.new}) .. ' ; ' .. P(cjson.encode, {cjson.encode})"##,
        r##"false | "Cannot serialise function: type not supported" ; false | "Cannot serialise function: type not supported""##,
    );
}

#[test]
fn encode_bad_key_error() {
    check(r##"return P(cjson.encode, {[true] = 1})"##, r##"false | "Cannot serialise boolean: table key must be a number or string""##);
}

#[test]
fn encode_table_key_error() {
    check(r##"return P(cjson.encode, {[{}] = 1})"##, r##"false | "Cannot serialise table: table key must be a number or string""##);
}

#[test]
fn encode_sparse_holes() {
    check(
        r##"return cjson.encode({[1]=1, [3]=3}) .. ' ' .. cjson.encode({[10]='x'}) .. ' ' .. cjson.encode({1, nil, 3, nil, 5})"##,
        r##"[1,null,3] [null,null,null,null,null,null,null,null,null,"x"] [1,null,3,null,5]"##,
    );
}

#[test]
fn encode_sparse_error() {
    check(
        r##"return P(cjson.encode, {[20] = 1}) .. ' ; ' .. P(cjson.encode, {{[11] = 1}})"##,
        r##"false | "Cannot serialise table: excessively sparse array" ; false | "Cannot serialise table: excessively sparse array""##,
    );
}

#[test]
fn encode_non_array_keys() {
    check(
        r##"return cjson.encode({[0] = 'z'}) .. ' ' .. cjson.encode({[1.5] = 'f'}) .. ' ' .. cjson.encode({[-1] = 'n'}) .. ' ' .. cjson.encode({x = {}})"##,
        r##"{"0":"z"} {"1.5":"f"} {"-1":"n"} {"x":{}}"##,
    );
}

#[test]
fn encode_huge_integer_keys() {
    check(
        r##"return cjson.encode({[2^31] = 1}) .. ' ' .. cjson.encode({[1e20] = 2}) .. ' ' .. P(cjson.encode, {[2^31 - 1] = 3}) .. ' ; ' .. P(cjson.encode, {[1/0] = 4})"##,
        r##"{"2147483648":1} {"1e+20":2} false | "Cannot serialise table: excessively sparse array" ; false | "Cannot serialise number: must not be NaN or Inf""##,
    );
}

#[test]
fn encode_mixed_keys_roundtrip() {
    check(r##"return S(cjson.decode(cjson.encode({1, 2, a = 3, [5.5] = 4})))"##, r##"{"1"=1,"2"=2,"5.5"=4,"a"=3}"##);
}

#[test]
fn encode_depth_default_ok() {
    check(r##"return #cjson.encode(N(999))"##, r##"2000"##);
}

#[test]
fn encode_depth_default_error() {
    check(r##"return P(cjson.encode, N(1000))"##, r##"false | "Cannot serialise, excessive nesting (1001)""##);
}

#[test]
fn encode_depth_object_error() {
    check(r##"local t = {} for i = 1, 1001 do t = {a = t} end return P(cjson.encode, t)"##, r##"false | "Cannot serialise, excessive nesting (1001)""##);
}

#[test]
fn encode_max_depth_option() {
    check(
        r##"return S(cjson.encode_max_depth()) .. ' ' .. S(cjson.encode_max_depth(2)) .. ' ' .. cjson.encode({{1}}) .. ' ' .. P(cjson.encode, {{{1}}})"##,
        r##"1000 2 [[1]] false | "Cannot serialise, excessive nesting (3)""##,
    );
}

#[test]
fn encode_depth_stack_limit_array() {
    check(r##"cjson.encode_max_depth(100000) return P(cjson.encode, N(10000))"##, r##"false | "Cannot serialise, excessive nesting (7998)""##);
}

#[test]
fn encode_depth_stack_limit_object() {
    check(
        r##"cjson.encode_max_depth(100000) local t = {} for i = 1, 10000 do t = {a = t} end return P(cjson.encode, t)"##,
        r##"false | "Cannot serialise, excessive nesting (4000)""##,
    );
}

#[test]
fn encode_depth_stack_limit_ok() {
    check(
        r##"cjson.encode_max_depth(100000) return #cjson.encode(N(7996)) .. ' ' .. P(cjson.encode, N(7997))"##,
        r##"15994 false | "Cannot serialise, excessive nesting (7998)""##,
    );
}

#[test]
fn encode_arg_count() {
    check(
        r##"return P(cjson.encode) .. ' ; ' .. P(cjson.encode, 1, 2)"##,
        r##"false | "bad argument #1 to '?' (expected 1 argument)" ; false | "bad argument #1 to '?' (expected 1 argument)""##,
    );
}

#[test]
fn encode_arg_count_named() {
    check(r##"return P(function() return cjson.encode() end)"##, r##"false | "user_script:1: bad argument #1 to 'encode' (expected 1 argument)""##);
}

#[test]
fn encode_error_position() {
    check(r##"return P(function() return cjson.encode(cjson.new) end)"##, r##"false | "user_script:1: Cannot serialise function: type not supported""##);
}

#[test]
fn encode_method_call() {
    check(r##"return P(function() return cjson:encode(1) end)"##, r##"false | "user_script:1: calling 'encode' on bad self (expected 1 argument)""##);
}

#[test]
fn encode_thread_error() {
    let libs = StdLib::BASE | StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::COROUTINE;
    let got = run_with(libs, r##"return P(cjson.encode, coroutine.create(function() end))"##);
    assert_eq!(got, r##"false | "Cannot serialise thread: type not supported""##);
}

#[test]
fn defaults() {
    check(
        r##"return P(cjson.encode_sparse_array) .. ' ; ' .. P(cjson.encode_max_depth) .. ' ; ' .. P(cjson.decode_max_depth) .. ' ; ' .. P(cjson.encode_number_precision) .. ' ; ' .. P(cjson.encode_keep_buffer) .. ' ; ' .. P(cjson.encode_invalid_numbers) .. ' ; ' .. P(cjson.decode_invalid_numbers)"##,
        r##"true | false | 2 | 10 ; true | 1000 ; true | 1000 ; true | 14 ; true | true ; true | false ; true | true"##,
    );
}

#[test]
fn number_precision() {
    check(
        r##"local r = {} for _, p in ipairs({1, 3, 6, 10, 14}) do cjson.encode_number_precision(p) r[#r+1] = cjson.encode({1/3, 12345, 0.000012345, 2^60, 100}) end return table.concat(r, ' ')"##,
        r##"[0.3,1e+04,1e-05,1e+18,1e+02] [0.333,1.23e+04,1.23e-05,1.15e+18,100] [0.333333,12345,1.2345e-05,1.15292e+18,100] [0.3333333333,12345,1.2345e-05,1.152921505e+18,100] [0.33333333333333,12345,1.2345e-05,1.1529215046068e+18,100]"##,
    );
}

#[test]
fn number_precision_ties() {
    check(
        r##"cjson.encode_number_precision(1) local a = cjson.encode({2.5, 3.5, 0.5, 0.25, 95, 0.0000095, -7.5}) cjson.encode_number_precision(2) return a .. ' ' .. cjson.encode({0.125, 0.375, 1.25, 99.5, 1e-5, 123456})"##,
        r##"[2,4,0.5,0.2,1e+02,1e-05,-8] [0.12,0.38,1.2,1e+02,1e-05,1.2e+05]"##,
    );
}

#[test]
fn number_keys_precision() {
    check(r##"cjson.encode_number_precision(4) return cjson.encode({[1/3] = 1}) .. ' ' .. cjson.encode({[-1e10] = 'x'})"##, r##"{"0.3333":1} {"-1e+10":"x"}"##);
}

#[test]
fn number_precision_errors() {
    check(
        r##"return P(cjson.encode_number_precision, 0) .. ' ; ' .. P(cjson.encode_number_precision, 15) .. ' ; ' .. P(cjson.encode_number_precision, 'x') .. ' ; ' .. P(cjson.encode_number_precision, '7') .. ' ; ' .. P(cjson.encode_number_precision, 5.9) .. ' ; ' .. P(cjson.encode_number_precision, 1, 2)"##,
        r##"false | "bad argument #1 to '?' (expected integer between 1 and 14)" ; false | "bad argument #1 to '?' (expected integer between 1 and 14)" ; false | "bad argument #1 to '?' (number expected, got string)" ; true | 7 ; true | 5 ; false | "bad argument #2 to '?' (found too many arguments)""##,
    );
}

#[test]
fn number_precision_named_error() {
    check(
        r##"return P(function() return cjson.encode_number_precision(99) end)"##,
        r##"false | "user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)""##,
    );
}

#[test]
fn integer_option_truncation() {
    check(
        r##"return P(cjson.encode_max_depth, 4294967297) .. ' ; ' .. P(cjson.encode_max_depth, 2^31) .. ' ; ' .. P(cjson.encode_max_depth, -1) .. ' ; ' .. P(cjson.encode_max_depth, 1e300)"##,
        r##"true | 1 ; false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)" ; false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)" ; false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)""##,
    );
}

#[test]
fn invalid_numbers_on() {
    check(
        r##"cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0, 0/0, 1}) .. ' ' .. cjson.encode({[1/0] = 1})"##,
        r##"[inf,-inf,nan,1] {"inf":1}"##,
    );
}

#[test]
fn invalid_numbers_null() {
    check(
        r##"local r = S(cjson.encode_invalid_numbers('null')) return r .. ' ' .. cjson.encode({1/0, -1/0, 0/0, 1}) .. ' ' .. S(cjson.encode_invalid_numbers())"##,
        r##""null" [null,null,null,1] "null""##,
    );
}

#[test]
fn invalid_numbers_options() {
    check(
        r##"return P(cjson.encode_invalid_numbers, 'on') .. ' ; ' .. P(cjson.encode_invalid_numbers, 'off') .. ' ; ' .. P(cjson.encode_invalid_numbers, false) .. ' ; ' .. P(cjson.encode_invalid_numbers, 'maybe') .. ' ; ' .. P(cjson.encode_invalid_numbers, 1) .. ' ; ' .. P(cjson.encode_invalid_numbers, {})"##,
        r##"true | true ; true | false ; true | false ; false | "bad argument #1 to '?' (invalid option 'maybe')" ; false | "bad argument #1 to '?' (invalid option '1')" ; false | "bad argument #1 to '?' (string expected, got table)""##,
    );
}

#[test]
fn keep_buffer() {
    check(
        r##"return P(cjson.encode_keep_buffer, false) .. ' ; ' .. cjson.encode({1}) .. ' ; ' .. P(cjson.encode_keep_buffer, 'on') .. ' ; ' .. P(cjson.encode_keep_buffer, 'x') .. ' ; ' .. P(cjson.encode_keep_buffer, true, 1)"##,
        r##"true | false ; [1] ; true | true ; false | "bad argument #1 to '?' (invalid option 'x')" ; false | "bad argument #2 to '?' (found too many arguments)""##,
    );
}

#[test]
fn sparse_convert() {
    check(
        r##"return P(cjson.encode_sparse_array, true) .. ' ; ' .. cjson.encode({[20] = 1}) .. ' ; ' .. cjson.encode({[1] = 1, [2] = 2})"##,
        r##"true | true | 2 | 10 ; {"20":1} ; [1,2]"##,
    );
}

#[test]
fn sparse_ratio_zero() {
    check(r##"cjson.encode_sparse_array(false, 0) return #cjson.encode({[1000] = 1})"##, r##"4998"##);
}

#[test]
fn sparse_ratio_one() {
    check(
        r##"return P(cjson.encode_sparse_array, nil, 1, 0) .. ' ; ' .. P(cjson.encode, {[1] = 1, [3] = 1}) .. ' ; ' .. cjson.encode({1, 2, 3})"##,
        r##"true | false | 1 | 0 ; false | "Cannot serialise table: excessively sparse array" ; [1,2,3]"##,
    );
}

#[test]
fn sparse_safe() {
    check(
        r##"cjson.encode_sparse_array(false, 2, 100) return #cjson.encode({[100] = 1}) .. ' ' .. P(cjson.encode, {[101] = 1})"##,
        r##"498 false | "Cannot serialise table: excessively sparse array""##,
    );
}

#[test]
fn sparse_errors() {
    check(
        r##"return P(cjson.encode_sparse_array, 'x') .. ' ; ' .. P(cjson.encode_sparse_array, nil, -1) .. ' ; ' .. P(cjson.encode_sparse_array, nil, nil, -5) .. ' ; ' .. P(cjson.encode_sparse_array, nil, 'a') .. ' ; ' .. P(cjson.encode_sparse_array, 1, 2, 3, 4)"##,
        r##"false | "bad argument #1 to '?' (invalid option 'x')" ; false | "bad argument #1 to '?' (expected integer between 0 and 2147483647)" ; false | "bad argument #1 to '?' (expected integer between 0 and 2147483647)" ; false | "bad argument #2 to '?' (number expected, got string)" ; false | "bad argument #4 to '?' (found too many arguments)""##,
    );
}

#[test]
fn sparse_ratio_overflow() {
    check(
        r##"cjson.encode_sparse_array(false, 2147483647, 0) return P(cjson.encode, {1, 2, [5] = 5}) .. ' ; ' .. P(cjson.encode, {[3] = 1})"##,
        r##"true | "[1,2,null,null,5]" ; true | "[null,null,1]""##,
    );
}

#[test]
fn max_depth_errors() {
    check(
        r##"return P(cjson.encode_max_depth, 0) .. ' ; ' .. P(cjson.decode_max_depth, 0) .. ' ; ' .. P(cjson.decode_max_depth, true)"##,
        r##"false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)" ; false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)" ; false | "bad argument #1 to '?' (number expected, got boolean)""##,
    );
}

#[test]
fn decode_max_depth_option() {
    check(
        r##"return S(cjson.decode_max_depth(2)) .. ' ' .. S(cjson.decode('[[1]]')) .. ' ' .. P(cjson.decode, '[[[1]]]') .. ' ; ' .. P(cjson.decode, '{"a":{"b":{}}}')"##,
        r##"2 {1={1=1}} false | "Found too many nested data structures (3) at character 3" ; false | "Found too many nested data structures (3) at character 11""##,
    );
}

#[test]
fn decode_invalid_numbers_off() {
    check(
        r##"local r = {S(cjson.decode_invalid_numbers(false))} for _, s in ipairs({'inf', '-inf', 'nan', 'NaN', '0x10', '-0x10', '01', '-01', '+1', '1e5', '-0', '0', '-1.5', 'Infinity', '1.5x'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
        r##"false ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid token at character 1" ; true | 100000 ; true | -0 ; true | 0 ; true | -1.5 ; false | "Expected value but found invalid token at character 1" ; false | "Expected the end but found invalid token at character 4""##,
    );
}

#[test]
fn decode_invalid_numbers_options() {
    check(
        r##"return P(cjson.decode_invalid_numbers, 'off') .. ' ; ' .. P(cjson.decode_invalid_numbers, 'on') .. ' ; ' .. P(cjson.decode_invalid_numbers, 'null')"##,
        r##"true | false ; true | true ; false | "bad argument #1 to '?' (invalid option 'null')""##,
    );
}

#[test]
fn module_fields() {
    check(
        r##"return cjson._NAME .. ' ' .. cjson._VERSION .. ' ' .. type(cjson.null) .. ' ' .. tostring(cjson.null == cjson.decode('null')) .. ' ' .. tostring(cjson.decode('[null]')[1] == cjson.null) .. ' ' .. type(cjson.new)"##,
        r##"cjson 2.1.0 userdata true true function"##,
    );
}

#[test]
fn module_function_names() {
    check(
        r##"local ks = {} for k, v in pairs(cjson) do ks[#ks+1] = k .. ':' .. type(v) end table.sort(ks) return table.concat(ks, ',')"##,
        r##"_NAME:string,_VERSION:string,decode:function,decode_invalid_numbers:function,decode_max_depth:function,encode:function,encode_invalid_numbers:function,encode_keep_buffer:function,encode_max_depth:function,encode_number_precision:function,encode_sparse_array:function,new:function,null:userdata"##,
    );
}

#[test]
fn new_instance_independent() {
    check(
        r##"local c = cjson.new() c.encode_number_precision(3) c.encode_invalid_numbers(true) return c.encode(1/3) .. ' ' .. cjson.encode(1/3) .. ' ' .. c.encode(1/0) .. ' ' .. P(cjson.encode, 1/0) .. ' ' .. tostring(c.null == cjson.null) .. ' ' .. c._NAME .. ' ' .. tostring(c.new ~= cjson.new) .. ' ' .. tostring(c.encode ~= cjson.encode)"##,
        r##"0.333 0.33333333333333 inf false | "Cannot serialise number: must not be NaN or Inf" true cjson true true"##,
    );
}

#[test]
fn new_instance_from_instance() {
    check(r##"local c = cjson.new().new() return c.encode({x = {1, 2}}) .. ' ' .. S(c.encode_sparse_array())"##, r##"{"x":[1,2]} false"##);
}

#[test]
fn option_names_end_at_nul() {
    check(
        r##"return P(cjson.new().encode_keep_buffer, 'on\0junk') .. ' ; ' .. P(cjson.new().encode_keep_buffer, 'x\0junk')"##,
        r##"true | true ; false | "bad argument #1 to '?' (invalid option 'x')""##,
    );
}

#[test]
fn survives_garbage_collection() {
    check(
        r##"local c = cjson.new() c.encode_number_precision(3) collectgarbage() collectgarbage() local t = cjson.decode('[{"a":[1,2,"x"]},null]') local parts = {} for i = 1, 200 do parts[i] = cjson.encode(cjson.decode('{"k":[' .. i .. ']}')) end collectgarbage() collectgarbage() return cjson.encode(t) .. ' ' .. c.encode(1/3) .. ' ' .. parts[200] .. ' ' .. cjson.encode_max_depth()"##,
        r##"[{"a":[1,2,"x"]},null] 0.333 {"k":[200]} 1000"##,
    );
}

#[test]
fn decode_array() {
    check(r##"return S(cjson.decode('[1,2,3]'))"##, r##"{1=1,2=2,3=3}"##);
}

#[test]
fn decode_object_nested() {
    check(r##"return S(cjson.decode('{"a":{"b":[true,false,null]},"c":"d"}'))"##, r##"{"a"={"b"={1=true,2=false,3=NULL}},"c"="d"}"##);
}

#[test]
fn decode_scalars() {
    check(
        r##"return S(cjson.decode('true')) .. ' ' .. S(cjson.decode('false')) .. ' ' .. S(cjson.decode('null')) .. ' ' .. S(cjson.decode('"s"')) .. ' ' .. S(cjson.decode('12'))"##,
        r##"true false NULL "s" 12"##,
    );
}

#[test]
fn decode_empty_containers() {
    check(r##"return S(cjson.decode('[]')) .. ' ' .. S(cjson.decode('{}')) .. ' ' .. S(cjson.decode('[[],{}]'))"##, r##"{} {} {1={},2={}}"##);
}

#[test]
fn decode_whitespace() {
    check(
        r##"return S(cjson.decode(' \t\n\r[ 1 ,\n2 ] \r\n')) .. ' ' .. P(cjson.decode, '\f1')"##,
        r##"{1=1,2=2} false | "Expected value but found invalid token at character 1""##,
    );
}

#[test]
fn decode_string_escapes() {
    check(r##"return S(cjson.decode('"\\"\\\\\\/\\b\\f\\n\\r\\t"'))"##, r##"""\/\x08\x0c\x0a\x0d\x09""##);
}

#[test]
fn decode_unicode_escapes() {
    check(
        r##"return S(cjson.decode('"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\u0000x\\uFFFF\\uDBFF\\uDFFF"'))"##,
        r##""A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x00x\xef\xbf\xbf\xf4\x8f\xbf\xbf""##,
    );
}

#[test]
fn decode_unicode_errors() {
    check(
        r##"local r = {} for _, s in ipairs({'"\\u12"', '"\\u12g4"', '"\\udc00"', '"\\ud800"', '"\\ud800x"', '"\\ud800\\u0041"', '"\\ud800\\udbff"', '"ab\\u"', '"\\ud800\\u12"'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
        r##"false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 4" ; false | "Expected value but found invalid unicode escape code at character 2""##,
    );
}

#[test]
fn decode_string_errors() {
    check(
        r##"return P(cjson.decode, '"abc') .. ' ; ' .. P(cjson.decode, '"a\\xb"') .. ' ; ' .. P(cjson.decode, '"a\\') .. ' ; ' .. P(cjson.decode, '["a", "b\\q"]') .. ' ; ' .. P(cjson.decode, '"\\\'"')"##,
        r##"false | "Expected value but found unexpected end of string at character 5" ; false | "Expected value but found invalid escape code at character 3" ; false | "Expected value but found invalid escape code at character 3" ; false | "Expected value but found invalid escape code at character 9" ; false | "Expected value but found invalid escape code at character 2""##,
    );
}

#[test]
fn decode_raw_control_chars() {
    check(r##"return S(cjson.decode('"a\tb\1\127\255"'))"##, r##""a\x09b\x01\x7f\xff""##);
}

#[test]
fn decode_syntax_errors() {
    check(
        r##"local r = {} for _, s in ipairs({'', '[1,', '[1 2]', '{1:2}', '{"a" 1}', '{"a":1 "b"}', '{"a":1,}', '[1,]', '[1] x', ']', ':', ',', '{"a":}', '.5', 'tru', 'nul', 'fals', 'truex', '[true false]', '{"a":1}}', '  ', '[', '{', '{"a"', '{"a":', 'x', '\128'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
        r##"false | "Expected value but found T_END at character 1" ; false | "Expected value but found T_END at character 4" ; false | "Expected comma or array end but found T_NUMBER at character 4" ; false | "Expected object key string but found T_NUMBER at character 2" ; false | "Expected colon but found T_NUMBER at character 6" ; false | "Expected comma or object end but found T_STRING at character 8" ; false | "Expected object key string but found T_OBJ_END at character 8" ; false | "Expected value but found T_ARR_END at character 4" ; false | "Expected the end but found invalid token at character 5" ; false | "Expected value but found T_ARR_END at character 1" ; false | "Expected value but found T_COLON at character 1" ; false | "Expected value but found T_COMMA at character 1" ; false | "Expected value but found T_OBJ_END at character 6" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected the end but found invalid token at character 5" ; false | "Expected comma or array end but found T_BOOLEAN at character 7" ; false | "Expected the end but found T_OBJ_END at character 8" ; false | "Expected value but found T_END at character 3" ; false | "Expected value but found T_END at character 2" ; false | "Expected object key string but found T_END at character 2" ; false | "Expected colon but found T_END at character 5" ; false | "Expected value but found T_END at character 6" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1""##,
    );
}

#[test]
fn decode_numbers() {
    check(
        r##"local r = {} for _, s in ipairs({'0', '-0', '1.5', '-1.5E-3', '1e5', '1E+2', '01', '+1', '1.', '0x10', '-0x1F', '0x1.8p1', '0X1P-2', '0xA.8', '1e400', '-1e400', '1e-400', '4.9e-324', '2.4703282292062327e-324', '123456789012345678901234567890', '0.1', '9007199254740993', '1.7976931348623157e308', '1.7976931348623159e308', '0x1p1024', '0x1p-1074', '0x1p-1075', '0x1.8p-1074', '0xfffffffffffffffff', '0x1.fffffffffffff8p0'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
        r##"true | 0 ; true | -0 ; true | 1.5 ; true | -0.0015 ; true | 100000 ; true | 100 ; true | 1 ; true | 1 ; true | 1 ; true | 16 ; true | -31 ; true | 3 ; true | 0.25 ; true | 10.5 ; true | inf ; true | -inf ; true | 0 ; true | 4.9406564584124654e-324 ; true | 0 ; true | 1.2345678901234568e+29 ; true | 0.10000000000000001 ; true | 9007199254740992 ; true | 1.7976931348623157e+308 ; true | inf ; true | inf ; true | 4.9406564584124654e-324 ; true | 0 ; true | 9.8813129168249309e-324 ; true | 2.9514790517935283e+20 ; true | 2"##,
    );
}

#[test]
fn decode_inf_nan() {
    check(
        r##"local r = {} for _, s in ipairs({'inf', '-inf', 'INF', 'Infinity', '-infinity', 'infinit', 'nan', 'NaN', '-nan', 'nan(123)', 'nan(', 'nan(a_b)x', '+inf', 'in', 'i', 'N', 'n'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
        r##"true | inf ; true | -inf ; true | inf ; true | inf ; true | -inf ; false | "Expected the end but found invalid token at character 4" ; true | NaN ; true | NaN ; true | NaN ; true | NaN ; false | "Expected the end but found invalid token at character 4" ; false | "Expected the end but found invalid token at character 9" ; true | inf ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1""##,
    );
}

#[test]
fn decode_number_errors() {
    check(
        r##"local r = {} for _, s in ipairs({'-', '- 1', '+', '+x', '-x', '1e', '1e+', '0x', '1.5.3', '-.5', '.5', '0x.8', '0xg', '1ee5', '[1e]', '[-]'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
        r##"false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected the end but found invalid token at character 2" ; false | "Expected the end but found invalid token at character 2" ; false | "Expected the end but found invalid token at character 2" ; false | "Expected the end but found invalid token at character 4" ; true | -0.5 ; false | "Expected value but found invalid token at character 1" ; true | 0.5 ; false | "Expected the end but found invalid token at character 2" ; false | "Expected the end but found invalid token at character 2" ; false | "Expected comma or array end but found invalid token at character 3" ; false | "Expected value but found invalid number at character 2""##,
    );
}

#[test]
fn decode_nul_bytes() {
    check(
        r##"return P(cjson.decode, '\0a') .. ' ; ' .. P(cjson.decode, 'a\0') .. ' ; ' .. P(cjson.decode, '[1]\0junk') .. ' ; ' .. P(cjson.decode, '"a\0b"') .. ' ; ' .. P(cjson.decode, '1') .. ' ; ' .. P(cjson.decode, '[1,\0]')"##,
        r##"false | "JSON parser does not support UTF-16 or UTF-32" ; false | "JSON parser does not support UTF-16 or UTF-32" ; true | {1=1} ; false | "Expected value but found unexpected end of string at character 3" ; true | 1 ; false | "Expected value but found T_END at character 4""##,
    );
}

#[test]
fn decode_depth_default() {
    check(
        r##"return S(#cjson.encode(cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)))) .. ' ' .. P(cjson.decode, string.rep('[', 1001) .. string.rep(']', 1001)) .. ' ; ' .. P(cjson.decode, string.rep('{"a":', 1001))"##,
        r##"2000 false | "Found too many nested data structures (1001) at character 1001" ; false | "Found too many nested data structures (1001) at character 5001""##,
    );
}

#[test]
fn decode_depth_stack_limit() {
    check(
        r##"cjson.decode_max_depth(100000) return P(cjson.decode, string.rep('[', 10000)) .. ' ; ' .. P(cjson.decode, string.rep('{"a":', 10000)) .. ' ; ' .. P(cjson.decode, string.rep('[{"a":', 5000))"##,
        r##"false | "Found too many nested data structures (7999) at character 7999" ; false | "Found too many nested data structures (4000) at character 19996" ; false | "Found too many nested data structures (5333) at character 15997""##,
    );
}

#[test]
fn decode_arg_errors() {
    check(
        r##"return P(cjson.decode) .. ' ; ' .. P(cjson.decode, '1', 2) .. ' ; ' .. P(cjson.decode, {}) .. ' ; ' .. P(cjson.decode, nil) .. ' ; ' .. P(cjson.decode, 123) .. ' ; ' .. P(cjson.decode, true)"##,
        r##"false | "bad argument #1 to '?' (expected 1 argument)" ; false | "bad argument #1 to '?' (expected 1 argument)" ; false | "bad argument #1 to '?' (string expected, got table)" ; false | "bad argument #1 to '?' (string expected, got nil)" ; true | 123 ; false | "bad argument #1 to '?' (string expected, got boolean)""##,
    );
}

#[test]
fn decode_error_position() {
    check(
        r##"return P(function() return cjson.decode('[') end) .. ' ; ' .. P(function() return cjson.decode() end) .. ' ; ' .. P(function() return cjson.decode('\0\0') end)"##,
        r##"false | "user_script:1: Expected value but found T_END at character 2" ; false | "user_script:1: bad argument #1 to 'decode' (expected 1 argument)" ; false | "user_script:1: JSON parser does not support UTF-16 or UTF-32""##,
    );
}

#[test]
fn decode_duplicate_keys() {
    check(r##"return S(cjson.decode('{"a":1,"a":2,"b":null}'))"##, r##"{"a"=2,"b"=NULL}"##);
}

#[test]
fn decode_array_with_nulls() {
    check(r##"local t = cjson.decode('[null,1,null]') return #t .. ' ' .. S(t)"##, r##"3 {1=NULL,2=1,3=NULL}"##);
}

#[test]
fn decode_large_array() {
    check(r##"local t = cjson.decode('[' .. string.rep('7,', 999) .. '7]') return #t .. ' ' .. t[1000]"##, r##"1000 7"##);
}

#[test]
fn roundtrip_strings() {
    check(
        r##"local s = '' for i = 0, 255 do s = s .. string.char(i) end return tostring(cjson.decode(cjson.encode(s)) == s) .. ' ' .. #cjson.encode(s)"##,
        r##"true 406"##,
    );
}

#[test]
fn roundtrip_numbers() {
    check(
        r##"local r = {} for _, n in ipairs({0.1, 1/3, 2^53, 1e-300, 123.456, -7}) do r[#r+1] = S(cjson.decode(cjson.encode(n))) end return table.concat(r, ' ')"##,
        r##"0.10000000000000001 0.33333333333332998 9007199254741000 1e-300 123.456 -7"##,
    );
}

#[test]
fn encode_decoded_structure() {
    check(r##"return cjson.encode(cjson.decode('[{"k":[1,2.5,"x",null,true]}]'))"##, r##"[{"k":[1,2.5,"x",null,true]}]"##);
}

#[test]
fn encode_escaped_keys() {
    check(r##"return cjson.encode({['a"/\n'] = {[0.1] = 'v/'}})"##, r##"{"a\"\/\n":{"0.1":"v\/"}}"##);
}

#[test]
fn encode_string_numbers() {
    check(r##"return cjson.encode({'1', '1.5', ''})"##, r##"["1","1.5",""]"##);
}
