// Types for the Cinnabar package (all entry points: Node, browser, worker).

/** A reply as a JS value: status and UTF-8 bulk strings are strings, other bulks Uint8Array,
 * integers numbers (bigint beyond 2^53), nil null, arrays arrays, RESP3 maps Map, RESP3
 * booleans booleans; errors nested in arrays (EXEC) are ReplyError. */
export type Reply = string | number | bigint | boolean | null | Uint8Array | ReplyError | Reply[] | Map<Reply, Reply> | undefined;
export type Arg = string | number | Uint8Array;

/** A Redis error reply; `message` is Redis's exact text, `code` its first word (ERR, WRONGTYPE, ...). */
export class ReplyError extends Error {
  code: string;
}

/** Thrown by open() when another tab/worker owns the database (Web Locks) and lock is 'error'. */
export class DatabaseLockedError extends Error {}

/** Where snapshots (RDB bytes) live. `save` must replace the old snapshot only once the new
 * one is complete. `loadPrevious`, when present, gives the snapshot before the current one,
 * opened if the current one is refused as corrupt. `name` keys the Web Lock. */
export interface PersistenceAdapter {
  name?: string;
  load(): Promise<Uint8Array | null>;
  save(bytes: Uint8Array): Promise<void>;
  loadPrevious?(): Promise<Uint8Array | null>;
}

export interface SavePoint {
  seconds: number;
  changes: number;
}

export interface OpenOptions {
  /** Snapshot store; without one the database lives in memory only. */
  persistence?: PersistenceAdapter;
  /**
   * Keep a journal of every acknowledged write so a trap (a bug in the engine) is recovered
   * from with nothing lost (default true). false: each write is cheaper, and a trap rebuilds
   * the database from its last snapshot only, as Redis without AOF restarts from its RDB.
   */
  journal?: boolean;
  /** Save points as redis.conf's `save` (default with persistence: Redis's 3600/1 300/100 60/10000); false: none. */
  autosave?: SavePoint[] | boolean;
  /** CONFIG SET maxmemory (bytes, or '64mb'). */
  maxmemory?: number | string;
  /** CONFIG SET maxmemory-policy (allkeys-lru, volatile-ttl, noeviction, ...). */
  policy?: string;
  /** Other CONFIG SET parameters applied at open. */
  config?: Record<string, string | number>;
  /** Startup directives, applied first as a redis.conf's are: a config text, or an object
   * whose values are written as config lines (an array for several lines). Immutable
   * parameters too (`enable-debug-command`, `databases`), `rename-command` and `user`. */
  conf?: string | Record<string, string | number | (string | number)[]>;
  /** A dump.rdb to start from (written by redis-server or exportRdb); saved through `persistence` if given. */
  rdb?: Uint8Array | ArrayBuffer;
  /** Active-expiry / save-point timer rate (default 10); 0: no timer, call tick() yourself. */
  hz?: number;
  /** Milliseconds since the epoch (default Date.now). */
  clock?: () => number;
  /** Seed of the engine's random choices. */
  seed?: number;
  /** With persistence in a browser (Web Locks): 'error' (default) throws DatabaseLockedError when
   * another tab owns the database, 'wait' waits for it, 'shared' opens an unsaved copy (status.owner false). */
  lock?: 'error' | 'wait' | 'shared';
  lockName?: string;
  /** Save on pagehide / visibilitychange→hidden when there are unsaved changes (default true). */
  saveOnHide?: boolean;
}

export interface Status {
  /** This instance owns the database's snapshots (false for lock: 'shared' copies). */
  owner: boolean;
  persistent: boolean;
  /** Changes since the last successful save. */
  dirty: number;
  saving: boolean;
  /** When the last save completed (clock ms), or null. */
  lastSave: number | null;
  error: string | null;
  /** Traps (panics in wasm) recovered from: the engine re-created from its last snapshot and
   * the writes acknowledged since. */
  recoveries: number;
  /** The last trap: the RuntimeError and the panic's message, or null. */
  lastTrap: string | null;
  /** A recovery is under way (commands wait for it). */
  recovering: boolean;
  /** Bytes of acknowledged writes kept since the last snapshot (the recovery journal). */
  journal: number;
}

export interface SetOptions {
  EX?: number; PX?: number; EXAT?: number; PXAT?: number;
  NX?: boolean; XX?: boolean; KEEPTTL?: boolean; GET?: boolean;
}

export interface ZRangeOptions {
  BYSCORE?: boolean; BYLEX?: boolean; REV?: boolean; LIMIT?: [number, number]; WITHSCORES?: boolean;
}

/** One RESP session. */
export class RespConnection {
  readonly id: number;
  readonly ended: boolean;
  /** Bytes that become ready later (blocked replies, pub/sub messages). */
  onData: ((bytes: Uint8Array) => void) | null;
  onEnd: (() => void) | null;
  /** Request bytes in (any split); the reply bytes ready now out. */
  write(bytes: Uint8Array | string): Uint8Array;
  close(): void;
}

export class Cinnabar {
  static open(options?: OpenOptions): Promise<Cinnabar>;
  readonly closed: boolean;
  readonly owner: boolean;
  /** Why the stored snapshot was refused at open (the previous one was opened instead), or null. */
  readonly loadError: Error | null;
  readonly status: Status;
  /** Settles when the saves started so far are done. */
  readonly saving: Promise<void>;

  command(...argv: Arg[]): Promise<Reply>;
  /** Many commands in one engine call; replies in order, Redis errors as ReplyError in place. */
  pipeline(commands: Arg[][], options?: { raw?: boolean }): Promise<(Reply | ReplyError)[]>;
  /** Every bulk string as Uint8Array. */
  commandRaw(...argv: Arg[]): Promise<Reply>;
  tick(): void;
  close(options?: { save?: boolean }): Promise<void>;

  subscribe(channel: string, cb: (message: string | Uint8Array, channel: string) => void): Promise<() => Promise<void>>;
  psubscribe(pattern: string, cb: (message: string | Uint8Array, channel: string, pattern: string) => void): Promise<() => Promise<void>>;
  ssubscribe(channel: string, cb: (message: string | Uint8Array, channel: string) => void): Promise<() => Promise<void>>;

  connect(onData?: ((bytes: Uint8Array) => void) | null): RespConnection;
  /** RESP bytes in, reply bytes ready now out, on one shared RESP session (`respConnection`;
   * its later replies go to `respConnection.onData`). */
  resp(bytes: Uint8Array | string): Uint8Array;
  readonly respConnection?: RespConnection;

  save(): Promise<void>;
  exportRdb(): Uint8Array;
  importRdb(bytes: Uint8Array | ArrayBuffer): Promise<number>;
  onStatus(cb: (status: Status) => void): () => void;
  onLog(cb: (level: number, message: string) => void): () => void;

  set(key: Arg, value: Arg, opts?: SetOptions): Promise<string | null>;
  get(key: Arg): Promise<string | Uint8Array | null>;
  getBuffer(key: Arg): Promise<Uint8Array | null>;
  mget(...keys: (Arg | Arg[])[]): Promise<(string | Uint8Array | null)[]>;
  mset(values: Record<string, Arg>): Promise<'OK'>;
  del(...keys: (Arg | Arg[])[]): Promise<number>;
  exists(...keys: (Arg | Arg[])[]): Promise<number>;
  type(key: Arg): Promise<string>;
  keys(pattern?: string): Promise<string[]>;
  incr(key: Arg): Promise<number>;
  incrby(key: Arg, n: number): Promise<number>;
  decr(key: Arg): Promise<number>;
  decrby(key: Arg, n: number): Promise<number>;
  append(key: Arg, value: Arg): Promise<number>;
  expire(key: Arg, seconds: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): Promise<number>;
  pexpire(key: Arg, ms: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): Promise<number>;
  ttl(key: Arg): Promise<number>;
  pttl(key: Arg): Promise<number>;
  persist(key: Arg): Promise<number>;
  dbsize(): Promise<number>;
  flushall(): Promise<'OK'>;
  hset(key: Arg, field: Arg, value: Arg): Promise<number>;
  hset(key: Arg, fields: Record<string, Arg>): Promise<number>;
  hget(key: Arg, field: Arg): Promise<string | Uint8Array | null>;
  hmget(key: Arg, ...fields: (Arg | Arg[])[]): Promise<(string | Uint8Array | null)[]>;
  hdel(key: Arg, ...fields: (Arg | Arg[])[]): Promise<number>;
  hincrby(key: Arg, field: Arg, n: number): Promise<number>;
  hlen(key: Arg): Promise<number>;
  hgetall(key: Arg): Promise<Record<string, string | Uint8Array>>;
  lpush(key: Arg, ...values: (Arg | Arg[])[]): Promise<number>;
  rpush(key: Arg, ...values: (Arg | Arg[])[]): Promise<number>;
  lpop(key: Arg, count?: number): Promise<Reply>;
  rpop(key: Arg, count?: number): Promise<Reply>;
  lrange(key: Arg, start: number, stop: number): Promise<(string | Uint8Array)[]>;
  llen(key: Arg): Promise<number>;
  sadd(key: Arg, ...members: (Arg | Arg[])[]): Promise<number>;
  srem(key: Arg, ...members: (Arg | Arg[])[]): Promise<number>;
  smembers(key: Arg): Promise<(string | Uint8Array)[]>;
  sismember(key: Arg, member: Arg): Promise<number>;
  scard(key: Arg): Promise<number>;
  zadd(key: Arg, ...scoreMembers: Arg[]): Promise<number>;
  zadd(key: Arg, entries: { score: number; value: Arg }[]): Promise<number>;
  zscore(key: Arg, member: Arg): Promise<string | null>;
  zincrby(key: Arg, n: number, member: Arg): Promise<string>;
  zrem(key: Arg, ...members: (Arg | Arg[])[]): Promise<number>;
  zcard(key: Arg): Promise<number>;
  zrange(key: Arg, start: Arg, stop: Arg, opts?: ZRangeOptions): Promise<(string | Uint8Array)[]>;
  publish(channel: Arg, message: Arg): Promise<number>;
  xadd(key: Arg, id: string, fields: Record<string, Arg>): Promise<string>;
  eval(script: string, keys?: Arg[], args?: Arg[]): Promise<Reply>;
  /** Settles when another caller's write serves it, or with null at the timeout (seconds; 0: forever). */
  blpop(keys: Arg | Arg[], timeout: number): Promise<[string, string | Uint8Array] | null>;
  brpop(keys: Arg | Arg[], timeout: number): Promise<[string, string | Uint8Array] | null>;
  blmove(source: Arg, destination: Arg, from: 'LEFT' | 'RIGHT', to: 'LEFT' | 'RIGHT', timeout: number): Promise<string | Uint8Array | null>;
  bzpopmin(keys: Arg | Arg[], timeout: number): Promise<[string, string, string] | null>;
  bzpopmax(keys: Arg | Arg[], timeout: number): Promise<[string, string, string] | null>;
}

export function memoryAdapter(name?: string): PersistenceAdapter & { peek(): Uint8Array | null };
/** Node: a file written through a temp file, fsync and rename. */
export function fileAdapter(path: string): PersistenceAdapter;
/** Browser: IndexedDB, one transaction per save, the previous snapshot kept. */
export function indexedDbAdapter(name?: string, options?: { indexedDB?: IDBFactory }): PersistenceAdapter & { close(): void };
/** Any get/put store (Durable Object storage, Workers KV, a Map). */
export function customAdapter(store: {
  get(key: string): Promise<Uint8Array | ArrayBuffer | null | undefined>;
  put(key: string, bytes: Uint8Array): Promise<unknown>;
  key?: string;
  name?: string;
}): PersistenceAdapter;

/** Node: a Duplex stream that is one RESP connection to db. */
export function createRespStream(db: Cinnabar): import('node:stream').Duplex;
/** Node: an ioredis Connector class: `new Redis({ Connector: ioredisConnector(db) })`. */
export function ioredisConnector(db: Cinnabar): new (options: unknown) => unknown;
/** Node: serve RESP sessions on a Unix socket path (node-redis `socket: { path }`, `redis-cli -s`). */
export function serveResp(db: Cinnabar, path: string): Promise<import('node:net').Server>;
/** Browser: where the .wasm file is, if not next to pkg/cinnabar.js. */
export function setWasmUrl(url: string | URL): void;
