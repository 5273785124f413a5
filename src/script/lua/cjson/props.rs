use super::*;
use proptest::prelude::*;
use rilua::{Lua, LuaApiMut, StdLib};

/// Decodes `input` with both number modes and re-encodes what decoded; returns
/// a report string so that any Lua-level failure of the checks shows up.
fn decode_reencode(input: &[u8]) -> String {
    let mut lua = Lua::new_with(StdLib::BASE | StdLib::STRING | StdLib::TABLE | StdLib::MATH).expect("lua state");
    open(lua.state_mut()).expect("open cjson");
    lua.set_global("input", input).expect("set input");
    let script = r#"
        local out = {}
        for _, strict in ipairs({false, true}) do
            local c = cjson.new()
            c.decode_invalid_numbers(not strict)
            c.encode_invalid_numbers(true)
            local ok, v = pcall(c.decode, input)
            if ok then
                local eok, e = pcall(c.encode, v)
                if not eok then out[#out + 1] = 'encode failed: ' .. e end
            elseif type(v) ~= 'string' then
                out[#out + 1] = 'non-string error'
            end
        end
        result = table.concat(out, ';')
    "#;
    lua.exec(script).expect("script runs");
    lua.global::<String>("result").expect("result string")
}

proptest! {
    /// Nothing a script can pass to decode panics, and whatever decodes encodes.
    #[test]
    fn decode_any_bytes(input in proptest::collection::vec(
        prop_oneof![
            Just(b'['), Just(b']'), Just(b'{'), Just(b'}'), Just(b','), Just(b':'),
            Just(b'"'), Just(b'\\'), Just(b'u'), Just(b'd'), Just(b'8'), Just(b'0'),
            Just(b'-'), Just(b'+'), Just(b'.'), Just(b'e'), Just(b'x'), Just(b'p'),
            Just(b'n'), Just(b'i'), Just(b't'), Just(b' '), any::<u8>(),
        ],
        0..40,
    )) {
        prop_assert_eq!(decode_reencode(&input), "");
    }

    /// Generated documents always decode and re-encode.
    #[test]
    fn decode_documents(doc in r#"(\[|\{"k[0-9]":|[0-9]{1,20}(\.[0-9]{1,5})?(e-?[0-9]{1,3})?,|"[a-z\\/]{0,4}",|null,|true,|0x[0-9a-f]{1,20}(p-?[0-9]{1,4})?,|\]|\}){0,30}"#) {
        prop_assert_eq!(decode_reencode(doc.as_bytes()), "");
    }
}

/// Huge scaled hex floats land on the right side of the overflow and underflow edges.
#[test]
fn hex_float_edges() {
    let at = |s: &str| strtod(s.as_bytes(), 0).map(|(v, _)| v);
    assert_eq!(at("0x1p1023"), Some(f64::from_bits(0x7fe0_0000_0000_0000)));
    assert_eq!(at("0x1.fffffffffffff8p1023"), Some(f64::INFINITY));
    assert_eq!(at("0x1.fffffffffffff7p1023"), Some(f64::MAX));
    assert_eq!(at("0x1p-1074"), Some(f64::from_bits(1)));
    assert_eq!(at("0x1.0000000000001p-1075"), Some(f64::from_bits(1)));
    assert_eq!(at("0x1p999999999999999999999"), Some(f64::INFINITY));
    assert_eq!(at("0x1p-999999999999999999999"), Some(0.0));
    assert_eq!(at("0x0000000000000000000000001p0"), Some(1.0));
    assert_eq!(at("0x10000000000000000000001p-88"), Some(f64::from_bits(0x3ff0_0000_0000_0000)));
}
