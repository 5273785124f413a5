//! RESP, the wire protocol: a streaming request parser (multibulk and inline) and the reply
//! writer. Lives in the core so every host (tokio server, browser terminal, edge worker) frames
//! bytes the same way. Redis: networking.c processMultibulkBuffer / processInlineBuffer.

pub mod inline;
pub mod parser;
pub mod writer;

pub use parser::{ProtocolError, RequestParser};
pub use writer::{encode, encode_command, write_reply};
