//! How deeply a chunk nests, measured on its tokens before rilua compiles it.
//!
//! rilua's parser counts syntax levels as C Lua does (200, "chunk has too many syntax
//! levels"), but it builds a tree and then compiles and drops that tree recursively, and
//! chains C Lua compiles in a loop become as deep a tree as their length: `a.a.a...`,
//! `f()()()...`, `1+1+1...`. 30000 of them overflow the native stack. This scan walks the
//! chunk's tokens with rilua's own lexer (so its idea of strings, comments and long
//! brackets is exactly the parser's) and measures an upper bound of the tree's depth: every
//! open bracket or block counts one, and within each, every operator or suffix of the
//! expression being read counts one more. A chunk whose measure passes the limit is refused
//! before anything recursive runs.

use rilua::compiler::lexer::Lexer;
use rilua::compiler::token::Token;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Paren,
    Bracket,
    Brace,
    /// `function`, `do`, `then`, `else`, `repeat`: closed by `end` (or `until`,
    /// `elseif`, `else`).
    Block,
}

struct Frame {
    kind: Kind,
    /// Operators and suffixes of the expression being read in this frame.
    chain: usize,
}

/// The line at which the chunk's nesting first passes `limit`, or `None` if it never
/// does. A chunk the lexer cannot read is left for the parser to report.
pub fn too_deep(source: &[u8], limit: usize) -> Option<u32> {
    let mut lexer = Lexer::new(source, "=scan");
    let mut frames = vec![Frame { kind: Kind::Root, chain: 0 }];
    // Σ (1 + chain) over the open frames.
    let mut depth = 1usize;
    // Whether the previous token ends an expression (so `(`, `[`, `{` or a string after it
    // continue it as a call or an index, and a name after it starts a new statement).
    let mut after_operand = false;
    loop {
        let Ok((token, span)) = lexer.next() else { return None };
        let top = frames.len() - 1;
        match token {
            Token::Eos => return None,
            Token::Char(c @ (b'(' | b'[' | b'{')) => {
                if after_operand {
                    frames[top].chain += 1;
                    depth += 1;
                }
                let kind = match c {
                    b'(' => Kind::Paren,
                    b'[' => Kind::Bracket,
                    _ => Kind::Brace,
                };
                frames.push(Frame { kind, chain: 0 });
                depth += 1;
                after_operand = false;
            }
            Token::Char(c @ (b')' | b']' | b'}')) => {
                let want = match c {
                    b')' => Kind::Paren,
                    b']' => Kind::Bracket,
                    _ => Kind::Brace,
                };
                if frames[top].kind != want {
                    // Unbalanced: the parser will say where.
                    return None;
                }
                depth -= 1 + frames[top].chain;
                frames.pop();
                after_operand = true;
            }
            Token::Function | Token::Do | Token::Then | Token::Repeat => {
                frames.push(Frame { kind: Kind::Block, chain: 0 });
                depth += 1;
                after_operand = false;
            }
            Token::Else | Token::ElseIf | Token::End | Token::Until => {
                if frames[top].kind != Kind::Block {
                    return None;
                }
                depth -= 1 + frames[top].chain;
                frames.pop();
                if token != Token::End {
                    // The statement (if, repeat) goes on with a new expression. After `end`
                    // the count goes on: `function() end` may be an operand of a chain.
                    let outer = frames.len() - 1;
                    depth -= frames[outer].chain;
                    frames[outer].chain = 0;
                }
                if token == Token::Else {
                    frames.push(Frame { kind: Kind::Block, chain: 0 });
                    depth += 1;
                }
                after_operand = token == Token::End;
            }
            Token::Name(_) | Token::Number(_) | Token::Str(_) | Token::Nil | Token::True | Token::False | Token::Dots => {
                if after_operand {
                    if matches!(token, Token::Str(_)) {
                        // f"x": a call.
                        frames[top].chain += 1;
                        depth += 1;
                    } else {
                        // A new statement.
                        depth -= frames[top].chain;
                        frames[top].chain = 0;
                    }
                }
                after_operand = true;
            }
            Token::Char(b',' | b';' | b'=') | Token::Local | Token::Return | Token::If | Token::While | Token::For | Token::In | Token::Break => {
                depth -= frames[top].chain;
                frames[top].chain = 0;
                after_operand = false;
            }
            // A character no Lua token is (a binary chunk's ESC, say): the parser stops
            // there.
            Token::Char(c) if !b"+-*/%^#<>.:".contains(&c) => return None,
            // Binary and unary operators, `.` and `:`.
            _ => {
                frames[top].chain += 1;
                depth += 1;
                after_operand = false;
            }
        }
        if depth > limit {
            return Some(span.line);
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    use super::too_deep;

    fn depth_ok(src: &str, limit: usize) -> bool {
        too_deep(src.as_bytes(), limit).is_none()
    }

    #[test]
    fn chains_and_nesting_count() {
        assert!(depth_ok("return a.b.c", 4));
        assert!(!depth_ok("return a.b.c.d", 3));
        assert!(!depth_ok(&format!("return a{}", ".a".repeat(1000)), 500));
        assert!(!depth_ok(&format!("return 1{}", "+1".repeat(1000)), 500));
        assert!(!depth_ok(&format!("return f{}", "()".repeat(1000)), 500));
        assert!(!depth_ok(&format!("return {}1{}", "(".repeat(100), ")".repeat(100)), 50));
        assert!(!depth_ok(&format!("{}{}", "do ".repeat(100), "end ".repeat(100)), 50));
        // Statements, lists and fields start over.
        let many = "redis.call('set', KEYS[1], ARGV[1]) ".repeat(2000);
        assert!(depth_ok(&many, 20));
        let many = "local x = a.b.c + d.e.f\n".repeat(2000);
        assert!(depth_ok(&many, 20));
        let t = format!("return {{{}}}", "a.b.c, ".repeat(2000));
        assert!(depth_ok(&t, 20));
        let ifs = format!("if x then {} end", "y = 1 elseif z.w then ".repeat(2000));
        assert!(depth_ok(&ifs, 20));
        let loops = "while a.b.c do x = 1 end repeat y = 2 until d.e.f ".repeat(2000);
        assert!(depth_ok(&loops, 20));
        // A function is an operand like any other.
        assert!(!depth_ok(&format!("return 1{}", "+function() end".repeat(100)), 50));
        // The line where it went too deep.
        assert_eq!(too_deep(b"local x = 1\nreturn a.a.a.a.a.a", 4), Some(2));
        // What the lexer cannot read is left to the parser, and so is what it would
        // refuse before going deep.
        assert!(depth_ok(&format!("\x1bLuaQ\0{}", "+".repeat(100)), 10));
        assert!(depth_ok("return 'unfinished", 1));
        assert!(depth_ok("return ((1", 10));
    }
}
