//! Every error a command can return, in Redis's exact words. Handlers return `Error` values;
//! only this file spells the text, so the differential tests against redis-server guard one
//! place. Redis: server.c shared.* objects and the addReplyError* call sites.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    WrongType,
    NotInteger,
    NotFloat,
    Syntax,
    Overflow,
    /// Arity error for the named command (already lower-cased as typed).
    WrongArity(String),
    UnknownCommand {
        name: String,
        args: String,
    },
    UnknownSubcommand {
        sub: String,
        cmd: String,
    },
    /// addReplySubcommandSyntaxError: a known container given a bad subcommand or arguments.
    SubcommandSyntax {
        sub: String,
        cmd: &'static str,
    },
    InvalidExpire(String),
    NoSuchKey,
    OutOfRangeOffset,
    StringTooLong,
    IncrNanOrInf,
    DbIndexOutOfRange,
    InvalidDbIndex,
    SameObject,
    NoAuth,
    Oom,
    NoScript,
    WrongPass,
    AuthNotSet,
    Timeout(&'static str),
    NotValidFloat,
    /// SAVE or BGSAVE while an RDB child runs.
    BgsaveInProgress,
    /// stop-writes-on-bgsave-error: the last background save failed (shared.bgsaveerr).
    Misconf,
    /// The dataset is still being loaded (shared.loadingerr).
    Loading,
    /// A fixed message that already carries its prefix (`ERR ...`, `NOPROTO ...`).
    Msg(&'static str),
    /// A message built at run time, prefix included; kept for texts that embed user input.
    Dyn(String),
    /// A bug: the command panicked, and only it failed (`crate::panic`).
    Internal {
        cmd: String,
        why: String,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match self {
            WrongType => f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value"),
            NotInteger => f.write_str("ERR value is not an integer or out of range"),
            NotFloat => f.write_str("ERR value is not a valid float"),
            NotValidFloat => f.write_str("ERR value is not a valid float"),
            Syntax => f.write_str("ERR syntax error"),
            Overflow => f.write_str("ERR increment or decrement would overflow"),
            WrongArity(c) => write!(f, "ERR wrong number of arguments for '{}' command", c),
            UnknownCommand { name, args } => write!(f, "ERR unknown command '{}', with args beginning with: {}", name, args),
            UnknownSubcommand { sub, cmd } => {
                write!(f, "ERR unknown subcommand '{}'. Try {} HELP.", sub, cmd)
            }
            SubcommandSyntax { sub, cmd } => write!(f, "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.", sub, cmd),
            InvalidExpire(c) => write!(f, "ERR invalid expire time in '{}' command", c),
            NoSuchKey => f.write_str("ERR no such key"),
            OutOfRangeOffset => f.write_str("ERR offset is out of range"),
            StringTooLong => f.write_str("ERR string exceeds maximum allowed size (proto-max-bulk-len)"),
            IncrNanOrInf => f.write_str("ERR increment would produce NaN or Infinity"),
            DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            InvalidDbIndex => f.write_str("ERR invalid DB index"),
            SameObject => f.write_str("ERR source and destination objects are the same"),
            NoAuth => f.write_str("NOAUTH Authentication required."),
            Oom => f.write_str("OOM command not allowed when used memory > 'maxmemory'."),
            NoScript => f.write_str("NOSCRIPT No matching script. Please use EVAL."),
            WrongPass => f.write_str("WRONGPASS invalid username-password pair or user is disabled."),
            AuthNotSet => f.write_str(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ),
            BgsaveInProgress => f.write_str("ERR Background save already in progress"),
            Misconf => f.write_str(
                "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
            ),
            Loading => f.write_str("LOADING Redis is loading the dataset in memory"),
            Timeout(what) => write!(f, "ERR {} is not an integer or out of range", what),
            Msg(m) => f.write_str(m),
            Dyn(m) => f.write_str(m),
            Internal { cmd, why } => write!(f, "ERR internal error in '{}', the command was not completed (a bug, logged by the server): {}", cmd, why),
        }
    }
}

impl Error {
    pub fn subcommand_syntax(sub: &[u8], cmd: &'static str) -> Error {
        Error::SubcommandSyntax { sub: String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned(), cmd }
    }

    /// Redis truncates user input it echoes in errors (unknown command args) to 128 bytes.
    pub fn unknown_command(argv: &[bytes::Bytes]) -> Error {
        // server.c: for each arg while len(args) < 128: "'%.*s' " with 128-len(args) as precision.
        let mut args = String::new();
        for a in argv[1..].iter() {
            if args.len() >= 128 {
                break;
            }
            let room = 128 - args.len();
            args.push('\'');
            args.push_str(&clip(&a[..a.len().min(room)]));
            args.push_str("' ");
        }
        Error::UnknownCommand { name: clip(&argv[0]), args }
    }
}

/// User bytes shown inside an error line: lossy UTF-8, CR/LF replaced, at most 128 chars.
pub fn clip(b: &[u8]) -> String {
    String::from_utf8_lossy(b).chars().take(128).map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect()
}

/// The BUSY error other clients get while a script is timed out.
pub fn busy_script(eval: bool) -> &'static str {
    if eval {
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    } else {
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    }
}
