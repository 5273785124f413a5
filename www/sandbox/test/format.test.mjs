// The sandbox terminal formats replies as redis-cli does: the same commands are sent to a
// real redis-server through redis-cli (TTY formatting forced with --no-raw) and to the
// package through its RESP entry point, formatted by format.js; the texts must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { Cinnabar } from '../../src/index.js';
import { splitArgs, RespReader, formatReply, parseDocs, hintFor } from '../format.js';

const run = promisify(execFile);

// Arguments as UTF-8, as redis-cli receives them from execFile.
function encode(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(a, 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const LINES = [
  'SET greeting hello',
  'GET greeting',
  'GET nothing',
  'INCR visits',
  'INCR greeting',
  'SET "with space" "a\\nb\\x01\\xff\\"q\\""',
  'GET "with space"',
  'RPUSH list a b c d e f g h i j k',
  'LRANGE list 0 -1',
  'LRANGE nolist 0 -1',
  `EVAL "return {1,{2,'x',{}},'y'}" 0`,
  'HSET h f1 v1 f2 v2',
  'HGETALL h',
  'ZADD z 1 a 2.5 b',
  'ZRANGE z 0 -1 WITHSCORES',
  'SADD s m',
  'SMEMBERS s',
  'XADD st 1-1 field value',
  'XRANGE st - +',
  'NOSUCHCOMMAND x',
  'TYPE list',
  'EXISTS greeting nothing',
];

const RESP3_LINES = ['HGETALL h', 'SMEMBERS s', 'ZSCORE z b', 'HGETALL empty', 'ZRANGE z 0 -1 WITHSCORES', 'GET nothing'];

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

test('splitArgs follows sdssplitargs', () => {
  assert.deepEqual(splitArgs('SET k "a b"'), ['SET', 'k', 'a b']);
  assert.deepEqual(splitArgs(`SET k 'it\\'s'`), ['SET', 'k', "it's"]);
  assert.deepEqual(splitArgs('SET k "\\x41\\n"'), ['SET', 'k', 'A\n']);
  assert.deepEqual(splitArgs('  PING  '), ['PING']);
  assert.equal(splitArgs('SET k "open'), null);
  assert.equal(splitArgs('SET k "a"b'), null);
});

test('replies are formatted exactly as redis-cli formats redis-server’s', async () => {
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await run('redis-cli', ['-p', String(port), 'PING'])).stdout.trim() === 'PONG') break;
      } catch (e) {
        if (i > 50) throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const db = await Cinnabar.open({ hz: 0 });
    const check = async (line, resp3) => {
      const args = splitArgs(line);
      const cli = await run('redis-cli', ['--no-raw', ...(resp3 ? ['-3'] : []), '-p', String(port), ...args], { encoding: 'latin1' });
      const conn = db.connect(null);
      const reader = new RespReader();
      if (resp3) {
        reader.push(conn.write(encode(['HELLO', '3'])));
        reader.next();
      }
      reader.push(conn.write(encode(args)));
      const mine = formatReply(reader.next());
      conn.close();
      assert.equal(Buffer.from(mine, 'latin1').toString('latin1'), cli.stdout, `${resp3 ? 'RESP3 ' : ''}${line}`);
    };
    for (const line of LINES) await check(line, false);
    for (const line of RESP3_LINES) await check(line, true);
    await db.close();
  } finally {
    server.kill('SIGKILL');
  }
});

test('hints come from COMMAND DOCS', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const docs = parseDocs(await db.command('COMMAND', 'DOCS'));
  assert.ok(docs.size > 200);
  assert.equal(hintFor(docs.get('GET')), 'key');
  assert.match(hintFor(docs.get('SET')), /^key value \[NX\|XX\] \[GET\] /);
  assert.equal(hintFor(docs.get('SET'), 2), hintFor(docs.get('SET')).replace(/^key value /, ''));
  assert.match(hintFor(docs.get('LPUSH')), /^key element \[element \.\.\.\]$/);
  await db.close();
});
