//! A typed cursor over a command's arguments that returns Redis-worded errors itself, so
//! handlers parse options into a struct first and then apply (valkey's
//! parseExtendedStringArgumentsOrReply, Dragonfly's CmdArgParser).

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::util::{parse_f64, parse_i64};

pub struct Args<'a> {
    argv: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    /// A cursor positioned after the command name.
    pub fn new(argv: &'a [Bytes]) -> Self {
        Args { argv, pos: 1 }
    }

    pub fn at(argv: &'a [Bytes], pos: usize) -> Self {
        Args { argv, pos }
    }

    pub fn remaining(&self) -> usize {
        self.argv.len().saturating_sub(self.pos)
    }

    pub fn is_done(&self) -> bool {
        self.remaining() == 0
    }

    pub fn peek(&self) -> Option<&'a Bytes> {
        self.argv.get(self.pos)
    }

    /// The next argument, or a syntax error when missing.
    pub fn next(&mut self) -> Result<&'a Bytes> {
        let a = self.argv.get(self.pos).ok_or(Error::Syntax)?;
        self.pos += 1;
        Ok(a)
    }

    pub fn next_i64(&mut self) -> Result<i64> {
        parse_i64(self.next()?).ok_or(Error::NotInteger)
    }

    pub fn next_f64(&mut self) -> Result<f64> {
        parse_f64(self.next()?).ok_or(Error::NotFloat)
    }

    /// Consumes the next argument if it equals `word` (case-insensitive).
    pub fn eat(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(word.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// The next argument upper-cased as a keyword, for matching options.
    pub fn next_keyword(&mut self) -> Result<String> {
        Ok(String::from_utf8_lossy(self.next()?).to_ascii_uppercase())
    }

    pub fn rest(&mut self) -> &'a [Bytes] {
        let r = &self.argv[self.pos.min(self.argv.len())..];
        self.pos = self.argv.len();
        r
    }

    pub fn finish(&self) -> Result<()> {
        if self.is_done() {
            Ok(())
        } else {
            Err(Error::Syntax)
        }
    }
}

/// Parses an integer argument (getLongLongFromObjectOrReply).
pub fn int(arg: &[u8]) -> Result<i64> {
    parse_i64(arg).ok_or(Error::NotInteger)
}

/// Parses a float argument (getDoubleFromObjectOrReply).
pub fn float(arg: &[u8]) -> Result<f64> {
    parse_f64(arg).ok_or(Error::NotFloat)
}

/// Lower-cased text of an argument, for names echoed in errors.
pub fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// getRangeLongFromObjectOrReply: an integer in `min..=max`. Redis replies `msg` both when
/// the argument is not a number and when it is out of range; without one, its own texts.
pub fn range_long(arg: &[u8], min: i64, max: i64, msg: Option<&'static str>) -> Result<i64> {
    let n = parse_i64(arg).ok_or(match msg {
        Some(m) => Error::Msg(m),
        None => Error::NotInteger,
    })?;
    if n < min || n > max {
        return Err(match msg {
            Some(m) => Error::Msg(m),
            None => Error::Dyn(format!("ERR value is out of range, value must between {} and {}", min, max)),
        });
    }
    Ok(n)
}

/// getPositiveLongFromObjectOrReply (zero included).
pub fn positive_long(arg: &[u8], msg: Option<&'static str>) -> Result<i64> {
    range_long(arg, 0, i64::MAX, Some(msg.unwrap_or("ERR value is out of range, must be positive")))
}

/// `key [count [WITHVALUES|WITHSCORES]]` of HRANDFIELD and ZRANDMEMBER: the count (None when
/// absent) and whether the companion word was given. Counts past what a reply could hold
/// are refused (see `util::RAND_COUNT_MAX`), as are the negative counts Redis refuses with
/// the companion (they would overflow the reply length).
pub fn rand_count(argv: &[Bytes], with_word: &str) -> Result<(Option<i64>, bool)> {
    if argv.len() > 4 || (argv.len() == 4 && !argv[3].eq_ignore_ascii_case(with_word.as_bytes())) {
        return Err(Error::Syntax);
    }
    let with = argv.len() == 4;
    if argv.len() < 3 {
        return Ok((None, with));
    }
    let c = int(&argv[2])?;
    if (with && c < -(i64::MAX / 2)) || c.unsigned_abs() > crate::util::RAND_COUNT_MAX {
        return Err(Error::Msg("ERR value is out of range"));
    }
    Ok((Some(c), with))
}
