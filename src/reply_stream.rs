//! A long reply written as it is produced, as Redis's addReply* calls stream into the
//! client's buffer. A reply of millions of elements (SRANDMEMBER -20000000, KEYS *, LRANGE
//! 0 -1 of a big list) then costs its RESP bytes, not a tree of `Reply` values several times
//! their size, and the client's output limit stops it as it grows: once the encoded bytes
//! pass the room the client has under its hard limit, nothing more is encoded and the
//! client is closed, as Redis closes it (closeClientOnOutputBufferLimitReached) and stops
//! buffering for it.
//!
//! Only for clients whose host writes RESP bytes (`ClientInfo::writes_resp`): a script's
//! `redis.call` and the wasm binding's calls need the tree, and get it.

use crate::command::dispatch::Ctx;
use crate::ds::listpack::LpVal;
use crate::reply::Reply;
use crate::resp::writer::{fmt_i64, write_reply};

/// The aggregate type of the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Array,
    /// A RESP3 set (`~`), an array in RESP2.
    Set,
    /// A RESP3 map (`%`) of `len` pairs, a flat array of twice that in RESP2: elements are
    /// pushed key, value, key, value.
    Map,
    /// `len` pairs as RESP3 writes ZRANGE WITHSCORES or HRANDFIELD WITHVALUES: an array of
    /// two-element arrays; a flat array of twice that in RESP2. Pushed with `pair`.
    Pairs,
}

/// What a streamed reply needs to know of its client, taken before the command borrows
/// the keyspace.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    writes_resp: bool,
    resp3: bool,
    /// Bytes the reply may take before the client's hard output limit.
    room: usize,
}

impl Client {
    pub fn of(ctx: &Ctx) -> Client {
        let c = &*ctx.client;
        let room = c.output_hard_limit(&ctx.srv.config.hot).map_or(usize::MAX, |l| l.saturating_sub(c.output_usage()) as usize);
        Client { writes_resp: c.info.writes_resp, resp3: c.conn.resp == 3, room }
    }
}

/// An aggregate's header: `*n`, `~n` or `%n` as the protocol writes the shape.
fn header(buf: &mut Vec<u8>, shape: Shape, resp3: bool, len: usize) {
    let (prefix, n) = match shape {
        Shape::Array => (b'*', len),
        Shape::Set => (if resp3 { b'~' } else { b'*' }, len),
        Shape::Map if resp3 => (b'%', len),
        Shape::Map | Shape::Pairs if !resp3 => (b'*', 2 * len),
        Shape::Map | Shape::Pairs => (b'*', len),
    };
    buf.push(prefix);
    let mut digits = [0u8; 20];
    buf.extend_from_slice(fmt_i64(n as i64, &mut digits));
    buf.extend_from_slice(b"\r\n");
}

pub struct Streamed {
    mode: Mode,
    /// Elements so far, and where the header goes, for a reply whose length is known only at
    /// the end (KEYS): the header is written into room kept at the front.
    count: usize,
    deferred: Option<Shape>,
}

/// Room kept for a deferred header: a type byte, 20 digits, CRLF.
const HEADER_ROOM: usize = 23;

enum Mode {
    Raw { buf: Vec<u8>, resp3: bool, room: usize, over: bool },
    Tree { shape: Shape, resp3: bool, items: Vec<Reply> },
}

impl Streamed {
    /// A reply of `len` elements (pairs for a map or pairs) to the client running the command.
    pub fn new(c: Client, shape: Shape, len: usize) -> Streamed {
        let mut s = Streamed::start(c, shape, len);
        if let Mode::Raw { buf, resp3, .. } = &mut s.mode {
            header(buf, shape, *resp3, len);
        }
        s
    }

    /// A reply whose length is known only once it is produced (KEYS).
    pub fn deferred(c: Client, shape: Shape) -> Streamed {
        let mut s = Streamed::start(c, shape, 0);
        if let Mode::Raw { buf, .. } = &mut s.mode {
            buf.resize(HEADER_ROOM, 0);
            s.deferred = Some(shape);
        }
        s
    }

    fn start(c: Client, shape: Shape, len: usize) -> Streamed {
        let mode = if c.writes_resp {
            Mode::Raw { buf: Vec::with_capacity(len.min(1 << 16) * 8 + HEADER_ROOM), resp3: c.resp3, room: c.room, over: false }
        } else {
            Mode::Tree { shape, resp3: c.resp3, items: Vec::with_capacity(len.min(1 << 16) * if shape == Shape::Map { 2 } else { 1 }) }
        };
        Streamed { mode, count: 0, deferred: None }
    }

    /// One element as a bulk string (an integer member prints as its digits).
    pub fn val(&mut self, v: LpVal) {
        self.count += 1;
        match &mut self.mode {
            Mode::Raw { buf, over, room, .. } => {
                if *over {
                    return;
                }
                let mut digits = [0u8; 20];
                let bytes = match v {
                    LpVal::Int(n) => fmt_i64(n, &mut digits),
                    LpVal::Str(s) => s,
                };
                let mut len = [0u8; 20];
                buf.push(b'$');
                buf.extend_from_slice(fmt_i64(bytes.len() as i64, &mut len));
                buf.extend_from_slice(b"\r\n");
                buf.extend_from_slice(bytes);
                buf.extend_from_slice(b"\r\n");
                Self::check(buf, *room, over);
            }
            Mode::Tree { items, .. } => items.push(Reply::Bulk(v.to_bytes())),
        }
    }

    pub fn bulk(&mut self, b: &[u8]) {
        self.val(LpVal::Str(b));
    }

    /// One element of any kind.
    pub fn reply(&mut self, r: Reply) {
        self.count += 1;
        match &mut self.mode {
            Mode::Raw { buf, resp3, over, room } => {
                if *over {
                    return;
                }
                write_reply(&r, *resp3, buf);
                Self::check(buf, *room, over);
            }
            Mode::Tree { items, .. } => items.push(r),
        }
    }

    /// One pair of a `Shape::Pairs` reply.
    pub fn pair(&mut self, a: LpVal, b: Reply) {
        match &mut self.mode {
            Mode::Raw { buf, resp3: true, over: false, .. } => buf.extend_from_slice(b"*2\r\n"),
            Mode::Tree { resp3: true, items, .. } => {
                items.push(Reply::Array(vec![Reply::Bulk(a.to_bytes()), b]));
                return;
            }
            _ => {}
        }
        self.val(a);
        self.reply(b);
    }

    fn check(buf: &mut Vec<u8>, room: usize, over: &mut bool) {
        if buf.len() > room {
            *over = true;
            // What was encoded is never sent: the client is closed.
            *buf = Vec::new();
        }
    }

    /// The client's output limit cut the reply: producing more is wasted work.
    pub fn full(&self) -> bool {
        matches!(self.mode, Mode::Raw { over: true, .. })
    }

    /// The reply; a reply the output limit cut closes the client instead.
    pub fn finish(self, ctx: &mut Ctx) -> Reply {
        match self.mode {
            Mode::Raw { over: true, .. } => {
                ctx.client.conn.close_asap = true;
                let line = ctx.client.info_line(ctx.srv.now_ms(), 0);
                ctx.srv.log(3, || format!("Client {} scheduled to be closed ASAP for overcoming of output buffer limits.", line));
                Reply::Raw(bytes::Bytes::new())
            }
            Mode::Raw { mut buf, resp3, .. } => match self.deferred {
                None => Reply::Raw(bytes::Bytes::from(buf)),
                Some(shape) => {
                    let mut head = Vec::with_capacity(HEADER_ROOM);
                    let pairs = if matches!(shape, Shape::Map | Shape::Pairs) { self.count / 2 } else { self.count };
                    header(&mut head, shape, resp3, pairs);
                    let at = HEADER_ROOM - head.len();
                    buf[at..HEADER_ROOM].copy_from_slice(&head);
                    Reply::Raw(bytes::Bytes::from(buf).slice(at..))
                }
            },
            Mode::Tree { shape: Shape::Array | Shape::Pairs, items, .. } => Reply::Array(items),
            Mode::Tree { shape: Shape::Set, items, .. } => Reply::Set(items),
            Mode::Tree { shape: Shape::Map, items, .. } => {
                let mut it = items.into_iter();
                let mut pairs = Vec::with_capacity(it.len() / 2);
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Reply::Map(pairs)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::client::ClientInfo;
    use crate::reply::Reply;
    use crate::resp::writer::write_reply;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;
    use crate::testing::TestEngine;

    /// Every streamed command gives, to a client whose host writes RESP, exactly the bytes its
    /// tree gives another client, in both protocols and both encodings of each type.
    #[test]
    fn streamed_replies_are_the_bytes_of_their_trees() {
        let mut t = TestEngine::new();
        let raw = t.engine.connect(ClientInfo { writes_resp: true, ..Default::default() }, t.now_us);
        for cmd in [
            "SADD ints 3 1 2",
            "SADD strs a b c",
            "RPUSH list x 1 y 2",
            "HSET h f1 v1 f2 2",
            "ZADD z 1 a 2.5 b 3 c",
            "MSET k1 a k2 b",
            "CONFIG SET set-max-intset-entries 1",
            "SADD big 1 2 3 x",
            "CONFIG SET hash-max-listpack-entries 1",
            "HSET bigh a 1 b 2 c 3",
        ] {
            t.run(&cmd.split(' ').collect::<Vec<_>>());
        }
        let cmds = [
            "SMEMBERS ints",
            "SMEMBERS strs",
            "SMEMBERS big",
            "SMEMBERS none",
            "SUNION ints strs",
            "SDIFF strs ints",
            "SRANDMEMBER big -7",
            "SRANDMEMBER strs 2",
            "SRANDMEMBER ints 10",
            "HRANDFIELD h -5 WITHVALUES",
            "HRANDFIELD bigh 2",
            "ZRANDMEMBER z -4 WITHSCORES",
            "ZRANDMEMBER z 2",
            "KEYS *",
            "KEYS k?",
            "KEYS nomatch*",
            "LRANGE list 0 -1",
            "LRANGE list 1 2",
            "LRANGE list 5 9",
            "HGETALL h",
            "HGETALL bigh",
            "HKEYS h",
            "HVALS bigh",
            "ZRANGE z 0 -1 WITHSCORES",
            "ZRANGE z 0 1",
            "ZRANGEBYSCORE z 1 2.5 WITHSCORES",
        ];
        for resp in ["2", "3"] {
            t.run(&["HELLO", resp]);
            t.run_as(raw, &["HELLO", resp]);
            for cmd in cmds {
                let argv: Vec<&str> = cmd.split(' ').collect();
                // The same random draws for both: the generator is put back between them.
                let rng = t.engine.srv.rng.clone();
                let tree = t.run(&argv);
                t.engine.srv.rng = rng;
                let streamed = t.run_as(raw, &argv);
                let (mut want, mut got) = (Vec::new(), Vec::new());
                write_reply(&tree, resp == "3", &mut want);
                write_reply(&streamed, resp == "3", &mut got);
                if cmd.starts_with("KEYS") || cmd.starts_with("SUNION") {
                    // Both walk the same tables; the order is the table's.
                    assert_eq!(got.len(), want.len(), "RESP{} {}", resp, cmd);
                } else {
                    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "RESP{} {}", resp, cmd);
                }
                assert!(
                    matches!(streamed, Reply::Raw(_)) || matches!(streamed, Reply::Array(ref v) | Reply::Set(ref v) if v.is_empty()),
                    "RESP{} {}: {:?}",
                    resp,
                    cmd,
                    streamed
                );
            }
        }
    }

    /// A streamed reply that outgrows the client's hard output limit closes the client
    /// instead, having encoded no more than the limit allows.
    #[test]
    fn a_reply_past_the_output_limit_closes_the_client() {
        let mut t = TestEngine::new();
        t.run(&["CONFIG", "SET", "client-output-buffer-limit", "normal 100kb 0 0"]);
        let raw = t.engine.connect(ClientInfo { writes_resp: true, ..Default::default() }, t.now_us);
        t.run(&["SADD", "s", "member-one", "member-two"]);
        let o = t.engine.execute(raw, ["SRANDMEMBER", "s", "-20000000"].iter().map(|a| bytes::Bytes::copy_from_slice(a.as_bytes())).collect(), t.now_us);
        assert!(o.close, "the client stays");
        assert_eq!(o.reply, Some(Reply::Raw(bytes::Bytes::new())));
        // A small one is answered.
        let other = t.engine.connect(ClientInfo { writes_resp: true, ..Default::default() }, t.now_us);
        assert!(matches!(t.run_as(other, &["SRANDMEMBER", "s", "-1000"]), Reply::Raw(b) if b.len() > 10_000));
    }
}
