// The database's convenience methods (ioredis / node-redis style), each one command. Mixed
// into Cinnabar (core.js).

import { flatOptions, pairsToObject } from './helpers.js';

export class Convenience {
  /** SET key value [{ EX, PX, EXAT, PXAT, NX, XX, KEEPTTL, GET }] */
  set(key, value, opts) {
    return this.command('SET', key, value, ...flatOptions(opts, ['EX', 'PX', 'EXAT', 'PXAT', 'NX', 'XX', 'KEEPTTL', 'GET']));
  }
  get(key) { return this.command('GET', key); }
  getBuffer(key) { return this.commandRaw('GET', key); }
  mget(...keys) { return this.command('MGET', ...keys.flat()); }
  mset(obj) { return this.command('MSET', ...Object.entries(obj).flat()); }
  del(...keys) { return this.command('DEL', ...keys.flat()); }
  exists(...keys) { return this.command('EXISTS', ...keys.flat()); }
  type(key) { return this.command('TYPE', key); }
  keys(pattern = '*') { return this.command('KEYS', pattern); }
  incr(key) { return this.command('INCR', key); }
  incrby(key, n) { return this.command('INCRBY', key, n); }
  decr(key) { return this.command('DECR', key); }
  decrby(key, n) { return this.command('DECRBY', key, n); }
  append(key, v) { return this.command('APPEND', key, v); }
  expire(key, seconds, mode) { return this.command('EXPIRE', key, seconds, ...(mode ? [mode] : [])); }
  pexpire(key, ms, mode) { return this.command('PEXPIRE', key, ms, ...(mode ? [mode] : [])); }
  ttl(key) { return this.command('TTL', key); }
  pttl(key) { return this.command('PTTL', key); }
  persist(key) { return this.command('PERSIST', key); }
  dbsize() { return this.command('DBSIZE'); }
  flushall() { return this.command('FLUSHALL'); }
  /** HSET key field value, or HSET key { field: value, ... } */
  hset(key, field, value) {
    if (typeof field === 'object' && field !== null) return this.command('HSET', key, ...Object.entries(field).flat());
    return this.command('HSET', key, field, value);
  }
  hget(key, field) { return this.command('HGET', key, field); }
  hmget(key, ...fields) { return this.command('HMGET', key, ...fields.flat()); }
  hdel(key, ...fields) { return this.command('HDEL', key, ...fields.flat()); }
  hincrby(key, field, n) { return this.command('HINCRBY', key, field, n); }
  hlen(key) { return this.command('HLEN', key); }
  /** An object of the hash's fields (`{}` for a missing key). */
  async hgetall(key) { return pairsToObject(await this.command('HGETALL', key)); }
  lpush(key, ...values) { return this.command('LPUSH', key, ...values.flat()); }
  rpush(key, ...values) { return this.command('RPUSH', key, ...values.flat()); }
  lpop(key, count) { return this.command('LPOP', key, ...(count === undefined ? [] : [count])); }
  rpop(key, count) { return this.command('RPOP', key, ...(count === undefined ? [] : [count])); }
  lrange(key, start, stop) { return this.command('LRANGE', key, start, stop); }
  llen(key) { return this.command('LLEN', key); }
  sadd(key, ...members) { return this.command('SADD', key, ...members.flat()); }
  srem(key, ...members) { return this.command('SREM', key, ...members.flat()); }
  smembers(key) { return this.command('SMEMBERS', key); }
  sismember(key, m) { return this.command('SISMEMBER', key, m); }
  scard(key) { return this.command('SCARD', key); }
  /** ZADD key score member [score member ...], or ZADD key [{ score, value }, ...] */
  zadd(key, ...args) {
    if (args.length === 1 && Array.isArray(args[0])) args = args[0].flatMap((e) => [e.score, e.value]);
    return this.command('ZADD', key, ...args);
  }
  zscore(key, member) { return this.command('ZSCORE', key, member); }
  zincrby(key, n, member) { return this.command('ZINCRBY', key, n, member); }
  zrem(key, ...members) { return this.command('ZREM', key, ...members.flat()); }
  zcard(key) { return this.command('ZCARD', key); }
  /** ZRANGE key start stop [{ BYSCORE, BYLEX, REV, LIMIT: [offset, count], WITHSCORES }] */
  zrange(key, start, stop, opts = {}) {
    const extra = flatOptions(opts, ['BYSCORE', 'BYLEX', 'REV']);
    if (opts.LIMIT) extra.push('LIMIT', ...opts.LIMIT);
    if (opts.WITHSCORES) extra.push('WITHSCORES');
    return this.command('ZRANGE', key, start, stop, ...extra);
  }
  publish(channel, message) { return this.command('PUBLISH', channel, message); }
  xadd(key, id, fields) { return this.command('XADD', key, id, ...Object.entries(fields).flat()); }
  eval(script, keys = [], args = []) { return this.command('EVAL', script, keys.length, ...keys, ...args); }
  /** BLPOP key [key ...] timeout → [key, value] or null at the timeout (seconds; 0 waits forever). */
  blpop(keys, timeout) { return this.command('BLPOP', ...[keys].flat(), timeout); }
  brpop(keys, timeout) { return this.command('BRPOP', ...[keys].flat(), timeout); }
  blmove(src, dst, from, to, timeout) { return this.command('BLMOVE', src, dst, from, to, timeout); }
  bzpopmin(keys, timeout) { return this.command('BZPOPMIN', ...[keys].flat(), timeout); }
  bzpopmax(keys, timeout) { return this.command('BZPOPMAX', ...[keys].flat(), timeout); }
}
