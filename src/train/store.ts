// FeedbackStore: the SQLite file (WAL) that holds execution and feedback events, prunes itself, and answers metric queries.
import { createHash } from 'node:crypto'
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'
import type Database from 'better-sqlite3'
import type { ExecutionEvent, FeedbackEvent, Outcome, PoetEvent } from '../runtime/types'

export const OUTCOMES: readonly Outcome[] = ['ok', 'input_error', 'output_error', 'timeout', 'error']

export interface RetentionOptions {
  /** Events received longer ago than this are deleted. @default 30 days */
  maxAgeMs?: number
  /** At most this many rows per table (executions, feedback); the oldest go first. @default 1_000_000 */
  maxRows?: number
  /** How often retention runs while events arrive. @default 60_000 */
  intervalMs?: number
}

export interface StoreOptions {
  retention?: RetentionOptions
  /** Clock, for tests of retention. @default Date.now */
  now?: () => number
  /** Where the one line said before migrating a store an older unplugin-poet wrote goes. @default standard error */
  notice?: (line: string) => void
}

/**
 * A store kept beside the lock (`.poet/feedback.db`, where `vite dev` and `poet serve` keep it) is data, not source,
 * but users commit `.poet/`: a `.gitignore` there keeps the store and its WAL files out. One the user wrote is kept.
 */
export function keepOutOfGit(file: string): void {
  mkdirSync(dirname(file), { recursive: true })
  try {
    writeFileSync(join(dirname(file), '.gitignore'), `# Written by unplugin-poet: the feedback store is data, not source.\n/${basename(file)}*\n`, { flag: 'wx' })
  } catch {
    // there is one already (the user's, or ours), or the directory is read-only: neither stops the store
  }
}

/** A time window over event time (`ts`), epoch milliseconds, `until` exclusive. */
export interface Window {
  since?: number
  until?: number
}

export interface MeanStat {
  n: number
  mean: number
  /** Sample variance (n − 1 denominator); 0 when n < 2. */
  variance: number
}

/** Everything the table, the dashboard and the trainer need about one version of one function over a window. */
export interface VersionMetrics {
  version: string
  calls: number
  outcomes: Record<Outcome, number>
  /** Share of calls per failure kind (`ok` excluded). */
  errorRate: Record<Exclude<Outcome, 'ok'>, number>
  /** Sum of attempts over all calls (retries show as attempts > calls). */
  attempts: number
  /** Latency of all calls, nearest-rank percentiles, ms. */
  latency: { p50: number; p95: number; p99: number }
  /** Latency of successful calls only (failures are the ok rate's business): p99, and the mean the trainer compares. */
  okLatency: { p99: number; mean: MeanStat }
  /** Feedback score: mean over all scores; `clampedSum` is Σ clamp(score, 0, 1) for the Beta-Binomial rule. */
  score: MeanStat & { clampedSum: number }
  /** Custom feedback metrics by name. */
  metrics: Record<string, MeanStat>
}

export interface SeriesBucket {
  /** Bucket start, epoch ms. */
  t: number
  calls: number
  errors: number
  p50: number
  p95: number
}

export interface Decision {
  functionId: string
  ts: number
  action: string
  from?: string
  to?: string
  reason: string
}

/** An input perceive rejected on a call that users nevertheless rated good. */
export interface GoodRejection {
  executionId: string
  /** Issue paths (with rule when a domain rule fired) of the rejected input. */
  issues: string[]
}

/**
 * A call of one version, as the trainer learns domain thresholds from it: what happened, the input statistics
 * perceive reported, and how users rated it (`good`: score ≥ 0.8 or label `good`; `bad`: score ≤ 0.2 or label `bad`;
 * conflicting ratings count as neither).
 */
export interface Observation {
  outcome: Outcome
  issues: { path: string; rule?: string }[]
  stats?: Record<string, number>
  rating?: 'good' | 'bad'
}

const DAY = 86_400_000
const MINUTE = 60_000
/** 2: per-minute rollups of executions and scores, and each execution's sample level (a store of schema 1 is migrated on open). */
const SCHEMA_VERSION = 2
/** Sample levels of executions (see levelAt): a sample of 1/2^j of a version's calls is its calls of level j and up. */
const LEVELS = 16
/** The lowest level in the sample index: it holds one call in 2^SAMPLED_FROM. */
const SAMPLED_FROM = 4
/** Events one step of retention deletes at most (one transaction: a few ms of the write lock, about 400 KB of WAL). */
const PRUNE_STEP = 2_000
/** How long opening a store waits for another process migrating it (about 8 s per million events), ms. */
const MIGRATION_WAIT = 300_000
/**
 * The WAL size past which a write restarts the WAL. SQLite's own checkpoints after each commit copy pages back but can
 * restart the WAL only at an instant no reader is on it: a process reading without pause (dashboards polling a large
 * store, a long poet train) beside constant ingest let it grow by megabytes a second, for good.
 */
const WAL_BOUND = 32 * 1024 * 1024
/** How long that restart waits for the readers of other processes to finish their read, ms (it holds writers meanwhile). */
const WAL_RESTART_WAIT = 200
/** How often a write looks at the WAL's size, ms; doubled, up to WAL_CHECK_MAX, while readers keep the restart from happening. */
const WAL_CHECK_INTERVAL = 1_000
const WAL_CHECK_MAX = 60_000
/** How long a write waits for another process's write transaction on the file (SQLite's busy timeout), ms. */
export const BUSY_TIMEOUT = 5_000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS executions (
  seq INTEGER PRIMARY KEY,
  execution_id TEXT NOT NULL UNIQUE,
  function_id TEXT NOT NULL,
  version TEXT NOT NULL,
  ts INTEGER NOT NULL,
  received INTEGER NOT NULL,
  duration REAL NOT NULL,
  outcome TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT,
  issues TEXT,
  repairs TEXT,
  stats TEXT,
  level INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_by_received ON executions (received);
-- Covering what counts and latencies read: the parts of minutes a window cuts, and latency samples of up to a few
-- times their size, are read from it alone.
CREATE INDEX IF NOT EXISTS executions_by_function ON executions (function_id, version, ts, duration, outcome, attempts, level);
-- Larger samples: every 2^j-th call of each minute, j ≥ ${SAMPLED_FROM}, as one range per level. Only those calls are in
-- it: an index of every call by level takes an insert at a place per level of each version, which cost ingest a third
-- of its rate with many functions (each commit then writes several times the pages).
CREATE INDEX IF NOT EXISTS executions_sample ON executions (function_id, version, level, ts, duration, outcome) WHERE level >= ${SAMPLED_FROM};
-- Exact counts of each function, version and minute, kept by triggers in the transaction of every insert and delete
-- (retention, or another process on the same file): a poll sums at most a row per minute instead of reading every call.
CREATE TABLE IF NOT EXISTS execution_minutes (
  function_id TEXT NOT NULL,
  version TEXT NOT NULL,
  minute INTEGER NOT NULL,
  calls INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  input_error INTEGER NOT NULL,
  output_error INTEGER NOT NULL,
  timeout INTEGER NOT NULL,
  error INTEGER NOT NULL,
  -- REAL, as total() read it: one valid event may carry attempts near 2^63, and integer sums would overflow
  attempts REAL NOT NULL,
  ok_sum REAL NOT NULL,
  ok_sq REAL NOT NULL,
  PRIMARY KEY (function_id, minute, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS execution_minutes_by_minute ON execution_minutes (minute, function_id, version);
CREATE TRIGGER IF NOT EXISTS executions_count_in AFTER INSERT ON executions BEGIN
  INSERT INTO execution_minutes VALUES (
    NEW.function_id, NEW.version, NEW.ts - NEW.ts % ${MINUTE}, 1,
    NEW.outcome = 'ok', NEW.outcome = 'input_error', NEW.outcome = 'output_error', NEW.outcome = 'timeout', NEW.outcome = 'error',
    NEW.attempts, iif(NEW.outcome = 'ok', NEW.duration, 0), iif(NEW.outcome = 'ok', NEW.duration * NEW.duration, 0))
  ON CONFLICT DO UPDATE SET calls = calls + 1,
    ok = ok + excluded.ok, input_error = input_error + excluded.input_error, output_error = output_error + excluded.output_error,
    timeout = timeout + excluded.timeout, error = error + excluded.error, attempts = attempts + excluded.attempts,
    ok_sum = ok_sum + excluded.ok_sum, ok_sq = ok_sq + excluded.ok_sq;
END;
CREATE TRIGGER IF NOT EXISTS executions_count_out AFTER DELETE ON executions BEGIN
  UPDATE execution_minutes SET calls = calls - 1,
    ok = ok - (OLD.outcome = 'ok'), input_error = input_error - (OLD.outcome = 'input_error'),
    output_error = output_error - (OLD.outcome = 'output_error'), timeout = timeout - (OLD.outcome = 'timeout'),
    error = error - (OLD.outcome = 'error'), attempts = attempts - OLD.attempts,
    ok_sum = ok_sum - iif(OLD.outcome = 'ok', OLD.duration, 0), ok_sq = ok_sq - iif(OLD.outcome = 'ok', OLD.duration * OLD.duration, 0)
  WHERE function_id = OLD.function_id AND version = OLD.version AND minute = OLD.ts - OLD.ts % ${MINUTE};
  DELETE FROM execution_minutes
  WHERE function_id = OLD.function_id AND version = OLD.version AND minute = OLD.ts - OLD.ts % ${MINUTE} AND calls = 0;
END;
CREATE TABLE IF NOT EXISTS feedback (
  seq INTEGER PRIMARY KEY,
  -- a resent batch (its 202 was lost) must not count twice: the digest is the event's content
  digest TEXT NOT NULL UNIQUE,
  execution_id TEXT NOT NULL,
  function_id TEXT NOT NULL,
  version TEXT NOT NULL,
  ts INTEGER NOT NULL,
  received INTEGER NOT NULL,
  score REAL,
  label TEXT,
  metrics TEXT,
  comment TEXT
);
CREATE INDEX IF NOT EXISTS feedback_by_execution ON feedback (execution_id);
CREATE INDEX IF NOT EXISTS feedback_by_function ON feedback (function_id, version, ts);
CREATE INDEX IF NOT EXISTS feedback_by_received ON feedback (received);
CREATE TABLE IF NOT EXISTS score_minutes (
  function_id TEXT NOT NULL,
  version TEXT NOT NULL,
  minute INTEGER NOT NULL,
  n INTEGER NOT NULL,
  score_sum REAL NOT NULL,
  score_sq REAL NOT NULL,
  clamped REAL NOT NULL,
  PRIMARY KEY (function_id, minute, version)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS feedback_score_in AFTER INSERT ON feedback WHEN NEW.score IS NOT NULL BEGIN
  INSERT INTO score_minutes VALUES (NEW.function_id, NEW.version, NEW.ts - NEW.ts % ${MINUTE}, 1, NEW.score, NEW.score * NEW.score, min(max(NEW.score, 0), 1))
  ON CONFLICT DO UPDATE SET n = n + 1, score_sum = score_sum + excluded.score_sum, score_sq = score_sq + excluded.score_sq,
    clamped = clamped + excluded.clamped;
END;
CREATE TRIGGER IF NOT EXISTS feedback_score_out AFTER DELETE ON feedback WHEN OLD.score IS NOT NULL BEGIN
  UPDATE score_minutes SET n = n - 1, score_sum = score_sum - OLD.score, score_sq = score_sq - OLD.score * OLD.score,
    clamped = clamped - min(max(OLD.score, 0), 1)
  WHERE function_id = OLD.function_id AND version = OLD.version AND minute = OLD.ts - OLD.ts % ${MINUTE};
  DELETE FROM score_minutes WHERE function_id = OLD.function_id AND version = OLD.version AND minute = OLD.ts - OLD.ts % ${MINUTE} AND n = 0;
END;
-- How many events each table holds, kept by triggers like the rollups: /healthz, which a load balancer polls on the
-- loop that acknowledges batches, reads two rows instead of counting every event (20 ms at a million). Added without a
-- schema version (see migrate): an older release of schema 2 on the same file runs these triggers with its own writes.
CREATE TABLE IF NOT EXISTS event_totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS executions_total_in AFTER INSERT ON executions BEGIN UPDATE event_totals SET n = n + 1 WHERE name = 'executions'; END;
CREATE TRIGGER IF NOT EXISTS executions_total_out AFTER DELETE ON executions BEGIN UPDATE event_totals SET n = n - 1 WHERE name = 'executions'; END;
CREATE TRIGGER IF NOT EXISTS feedback_total_in AFTER INSERT ON feedback BEGIN UPDATE event_totals SET n = n + 1 WHERE name = 'feedback'; END;
CREATE TRIGGER IF NOT EXISTS feedback_total_out AFTER DELETE ON feedback BEGIN UPDATE event_totals SET n = n - 1 WHERE name = 'feedback'; END;
-- Events clients dropped before sending them (a full queue, a page left holding more than keepalive lets outlive it),
-- as their sinks report them: each sink's highest running count, so that a count sent again (a retry, requests in
-- parallel) is not counted again, and what each report added, per minute the collector heard it. Added without a
-- schema version, as the totals: an older release of schema 2 on the same file just never writes them.
CREATE TABLE IF NOT EXISTS drop_sessions (session TEXT PRIMARY KEY, dropped INTEGER NOT NULL, seen INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS drop_sessions_by_seen ON drop_sessions (seen);
CREATE TABLE IF NOT EXISTS drop_minutes (minute INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS dropped_total_in AFTER INSERT ON drop_minutes BEGIN UPDATE event_totals SET n = n + NEW.n WHERE name = 'dropped'; END;
CREATE TRIGGER IF NOT EXISTS dropped_total_up AFTER UPDATE ON drop_minutes BEGIN UPDATE event_totals SET n = n + NEW.n - OLD.n WHERE name = 'dropped'; END;
CREATE TRIGGER IF NOT EXISTS dropped_total_out AFTER DELETE ON drop_minutes BEGIN UPDATE event_totals SET n = n - OLD.n WHERE name = 'dropped'; END;
CREATE TABLE IF NOT EXISTS decisions (
  seq INTEGER PRIMARY KEY,
  function_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  action TEXT NOT NULL,
  from_version TEXT,
  to_version TEXT,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_function ON decisions (function_id, ts);
`

type Row = Record<string, number | string | null>

/**
 * Events the store holds under one function id that belong to the function read: all of them, `only` the versions
 * listed, or all `except` those. A function renamed or moved reads its own id and the ids it had before (see
 * train/former.ts).
 */
export interface EventSource {
  id: string
  only?: readonly string[]
  except?: readonly string[]
  /** Event time (epoch ms) from which, or until which (exclusive), it counts them: an id two functions had in turn. */
  since?: number
  until?: number
}

/** Where a reader finds a function's events: its id (every event stored under it), or the sources of a renamed one. */
export type EventsOf = string | readonly EventSource[]

/** The sources of `of`, each with the part of `window` in which it counts events; those with none left out. */
function sourcesOf(of: EventsOf, window: Window = {}): (EventSource & { window: Window })[] {
  return (typeof of === 'string' ? [{ id: of }] : of).flatMap((source) => {
    const since = Math.max(window.since ?? -Infinity, source.since ?? -Infinity)
    const until = Math.min(window.until ?? Infinity, source.until ?? Infinity)
    if (since >= until) return []
    return [{ ...source, window: { ...(since > -Infinity ? { since } : {}), ...(until < Infinity ? { until } : {}) } }]
  })
}

function within(window: Window, ts: number): boolean {
  return (window.since === undefined || ts >= window.since) && (window.until === undefined || ts < window.until)
}

/** Whether `source` counts the events of `version`. */
function takes(source: EventSource, version: string): boolean {
  return source.only ? source.only.includes(version) : !source.except?.includes(version)
}

/** A sink's running count of events it dropped, as its `x-poet-dropped` header says (see httpSink). */
export interface DropReport {
  session: string
  count: number
}

export class FeedbackStore {
  /** The connection; a new one when the file was deleted or replaced while open (see follow). */
  db!: Database.Database
  private readonly retention: Required<RetentionOptions>
  private readonly now: () => number
  private lastPrune = 0
  private lastWalCheck = 0
  private walCheckEvery = WAL_CHECK_INTERVAL
  /** The retention pass under way: its cutoffs (received time, and the last seq beyond maxRows), and what it deleted. */
  private pass: { cutoff: number; beyond: Record<'executions' | 'feedback', number>; deleted: number } | undefined
  private insertExecution!: Database.Statement
  private insertFeedback!: Database.Statement
  private insertBatches!: Database.Transaction<(batches: readonly (readonly PoetEvent[])[], drops: readonly DropReport[], received: number) => number[]>
  private inOneSnapshot!: <T>(read: () => T) => T
  private readonly notice: (line: string) => void
  /** The store's files as opened (undefined: in memory), to notice them deleted or replaced. */
  private opened: Record<'db' | 'wal' | 'shm', FileId | undefined> | undefined

  constructor(
    readonly file: string,
    options: StoreOptions = {},
  ) {
    this.notice = options.notice ?? ((line: string) => void process.stderr.write(`${line}\n`))
    this.retention = {
      maxAgeMs: options.retention?.maxAgeMs ?? 30 * DAY,
      maxRows: options.retention?.maxRows ?? 1_000_000,
      intervalMs: options.retention?.intervalMs ?? 60_000,
    }
    this.now = options.now ?? Date.now
    this.open()
  }

  /** Opens the file (creating it, or bringing it to this schema) and prepares the statements of ingest. */
  private open(): void {
    const file = this.file
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
    try {
      this.db = new (sqlite())(file)
    } catch (e) {
      throw new Error(`poet: cannot open the feedback store ${file}: ${openFailure((e as Error).message)}`)
    }
    this.db.pragma('journal_mode = WAL')
    // A 202 promises the batch survives a crash of this process or of the machine: fsync every commit.
    this.db.pragma('synchronous = FULL')
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT}`)
    const found = this.db.pragma('user_version', { simple: true }) as number
    if (found > SCHEMA_VERSION) {
      this.db.close()
      throw new Error(
        `poet: the feedback store ${file} was written by a newer unplugin-poet (store schema ${found}; this one reads up to ${SCHEMA_VERSION}). ` +
          'Upgrade unplugin-poet where this runs (every process that opens the store: the dev server, poet serve, poet train), or give this one another file (poet serve --db).',
      )
    }
    // A store that is up to date opens with reads only. Its migration is a write, and took the write lock at every
    // open: poet train, poet serve and vite dev failed to start with "database is locked" while another process held it.
    if (found < SCHEMA_VERSION || !current(this.db)) {
      // IMMEDIATE: two processes opening a store of schema 1 at once (vite dev and poet serve) migrate it once, in turn.
      // The second waits for the first's migration (seconds for a large store, longer than the busy timeout of a batch)
      // instead of failing to open with "database is locked".
      const wait = found < SCHEMA_VERSION ? MIGRATION_WAIT : BUSY_TIMEOUT
      this.db.pragma(`busy_timeout = ${wait}`)
      let migrated: boolean
      try {
        migrated = this.db.transaction(() => migrate(this.db, file, this.notice)).immediate()
      } catch (e) {
        this.db.close()
        if (!isBusy(e)) throw e
        throw new Error(`poet: cannot open the feedback store ${file}: it needs updating for this release of unplugin-poet, and ${lockHeld(file, wait)}. Start again once it is done.`, {
          cause: e,
        })
      }
      // The migration rewrote every call into the WAL (~100 MB for a million), which SQLite reuses but never shrinks:
      // without this it stayed beside the store, that size, for as long as any process kept the store open.
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT}`)
      if (migrated) this.db.pragma('wal_checkpoint(TRUNCATE)')
    }
    this.opened = file === ':memory:' ? undefined : { db: fileId(file), wal: fileId(`${file}-wal`), shm: fileId(`${file}-shm`) }
    this.insertExecution = this.db.prepare(
      `INSERT OR IGNORE INTO executions
         (execution_id, function_id, version, ts, received, duration, outcome, attempts, error, issues, repairs, stats, level)
       VALUES (@executionId, @functionId, @version, @ts, @received, @duration, @outcome, @attempts, @error, @issues, @repairs, @stats, @level)`,
    )
    this.insertFeedback = this.db.prepare(
      `INSERT OR IGNORE INTO feedback
         (digest, execution_id, function_id, version, ts, received, score, label, metrics, comment)
       VALUES (@digest, @executionId, @functionId, @version, @ts, @received, @score, @label, @metrics, @comment)`,
    )
    this.inOneSnapshot = this.db.transaction((read: () => unknown) => read()) as <T>(read: () => T) => T
    const minuteCalls = this.db.prepare('SELECT calls FROM execution_minutes WHERE function_id = ? AND version = ? AND minute = ?').pluck()
    const droppedBefore = this.db.prepare('SELECT dropped FROM drop_sessions WHERE session = ?').pluck()
    const upsertSession = this.db.prepare(
      'INSERT INTO drop_sessions VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET dropped = max(dropped, excluded.dropped), seen = excluded.seen',
    )
    const addDropped = this.db.prepare('INSERT INTO drop_minutes VALUES (?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n')
    this.insertBatches = this.db.transaction((batches: readonly (readonly PoetEvent[])[], drops: readonly DropReport[], received: number) => {
      for (const { session, count } of drops) {
        const before = (droppedBefore.get(session) as number | undefined) ?? 0
        upsertSession.run(session, count, received)
        if (count > before) addDropped.run(received - (received % MINUTE), count - before)
      }
      // Each call's place among its version's calls of its minute, for its sample level: read once per minute a
      // transaction touches, then counted here.
      const placed = new Map<string, number>()
      const level = (e: ExecutionEvent, ts: number) => {
        const minute = ts - (ts % MINUTE)
        const key = `${e.functionId}\0${e.version}\0${minute}`
        const n = placed.get(key) ?? ((minuteCalls.get(e.functionId, e.version, minute) as number | undefined) ?? 0)
        placed.set(key, n + 1)
        return levelAt(n)
      }
      return batches.map((events) => {
        let stored = 0
        for (const e of events) {
          const info = e.kind === 'execution' ? this.insertExecution.run(executionRow(e, received, level)) : this.insertFeedback.run(feedbackRow(e, received))
          stored += info.changes
        }
        return stored
      })
    })
  }

  /**
   * Opens the file at the store's path again when the one open was deleted or replaced (`rm .poet/feedback.db*`,
   * `git clean -fdx`, a backup moved over it): batches went on into the unlinked file, acknowledged, and were gone with
   * the process; and a file moved over it was read with this connection's WAL, which belongs to another file.
   */
  private follow(): void {
    if (!this.opened) return
    const now = fileId(this.file)
    if (now && same(now, this.opened.db)) return
    this.db.close()
    // SQLite leaves the WAL and shared memory of a file moved or deleted beside the path: a file opened there was read
    // with the frames of this one's WAL (its events, and pages of another database). Those another process made there
    // since (the store created again by vite dev or poet serve) are its own.
    for (const f of ['wal', 'shm'] as const) {
      const there = fileId(`${this.file}-${f}`)
      if (there && same(there, this.opened[f])) rmSync(`${this.file}-${f}`, { force: true })
    }
    this.pass = undefined
    this.open()
    this.notice(`poet: the feedback store ${this.file} was ${now ? 'replaced' : 'deleted'} while in use; events go to ${now ? 'the file now there' : 'a new one there'}.`)
  }

  /**
   * Stores a validated batch in one transaction: when this returns, the batch is durable (all or nothing).
   * Returns how many events were new (a resent execution or identical feedback is ignored).
   */
  insert(events: readonly PoetEvent[]): number {
    return this.insertMany([events])[0]!
  }

  /**
   * Stores several batches in one transaction (one fsync for all: the collector's group commit). Returns each one's new
   * events. `wait`: how long to wait, ms, while another process holds the write lock; past it this throws SQLITE_BUSY
   * (see isBusy), storing nothing. SQLite waits by sleeping in this thread: the collector passes 0 and waits on timers.
   * `drops`: what sinks reported dropped with these batches (see DropReport), stored in the same transaction.
   */
  insertMany(batches: readonly (readonly PoetEvent[])[], drops: readonly DropReport[] = [], wait = BUSY_TIMEOUT): number[] {
    this.follow()
    return this.waiting(wait, () => {
      const now = this.now()
      // IMMEDIATE: the batch's first statement reads (a minute's count, for the sample level). A transaction that reads
      // first and writes later is not waited for when another process holds the write lock (SQLite's busy handler does
      // not run for a read turning into a write): it failed at once with "database is locked" whenever vite dev and
      // poet serve wrote to one file together.
      const stored = this.insertBatches.immediate(batches, drops, now)
      this.boundWal()
      if (this.pass || now - this.lastPrune >= this.retention.intervalMs) {
        try {
          this.pruneStep()
        } catch {
          // The batches are committed: a failed retention (the write lock held elsewhere past the busy timeout) must not
          // turn their acknowledgement into "nothing stored". It runs again at the next batch or interval.
        }
      }
      return stored
    })
  }

  /** Restarts (and empties) the WAL once it has grown past WAL_BOUND, if the readers let it; else at a later write. */
  private boundWal(): void {
    const t = performance.now()
    if (!this.opened || t - this.lastWalCheck < this.walCheckEvery) return
    this.lastWalCheck = t
    if ((statSync(`${this.file}-wal`, { throwIfNoEntry: false })?.size ?? 0) <= WAL_BOUND) return
    let busy = true
    try {
      busy = (this.waiting(WAL_RESTART_WAIT, () => this.db.pragma('wal_checkpoint(TRUNCATE)')) as { busy: number }[])[0]!.busy !== 0
    } catch {
      // Another writer kept it: the batches are committed all the same.
    }
    // A reader that holds on (a sqlite3 shell with a read open) is waited for less and less often.
    this.walCheckEvery = busy ? Math.min(this.walCheckEvery * 2, WAL_CHECK_MAX) : WAL_CHECK_INTERVAL
  }

  /** Runs `run` with SQLite's busy timeout set to `ms`, then puts the connection's back. */
  private waiting<T>(ms: number, run: () => T): T {
    const before = this.db.pragma('busy_timeout', { simple: true }) as number
    if (ms === before) return run()
    this.db.pragma(`busy_timeout = ${ms}`)
    try {
      return run()
    } finally {
      this.db.pragma(`busy_timeout = ${before}`)
    }
  }

  /** Applies retention now, to the end: deletes rows older than maxAge, then the oldest beyond maxRows. Returns rows deleted. */
  prune(): number {
    this.pass = undefined
    let deleted = this.pruneStep()
    while (this.pass) deleted += this.pruneStep()
    return deleted
  }

  /**
   * One step of retention, in a transaction of its own that deletes at most PRUNE_STEP events: a batch's commit runs
   * one, and the next batch the next, until the pass is done. One transaction deleting a whole backlog (a million
   * events once the store reached its age) held the write lock of every process on the file for seconds, and wrote each
   * page it touched to the WAL before its commit: the WAL grew to about the store's size, and SQLite never shrinks it.
   * Returns the rows it deleted; `pass` stays set while there are more.
   */
  private pruneStep(): number {
    if (!this.pass) {
      const now = this.now()
      this.lastPrune = now
      // The oldest of the newest maxRows of each table, found once per pass: walking to it costs maxRows index entries.
      const newest = (table: string) =>
        (this.db.prepare(`SELECT seq FROM ${table} ORDER BY seq DESC LIMIT 1 OFFSET ?`).pluck().get(this.retention.maxRows) as number | undefined) ?? 0
      this.pass = { cutoff: now - this.retention.maxAgeMs, beyond: { executions: newest('executions'), feedback: newest('feedback') }, deleted: 0 }
    }
    const pass = this.pass
    let step = 0
    this.db.transaction(() => {
      for (const table of ['executions', 'feedback'] as const) {
        step += this.db.prepare(`DELETE FROM ${table} WHERE seq IN (SELECT seq FROM ${table} WHERE received < ? LIMIT ?)`).run(pass.cutoff, PRUNE_STEP - step).changes
        step += this.db.prepare(`DELETE FROM ${table} WHERE seq IN (SELECT seq FROM ${table} WHERE seq <= ? ORDER BY seq LIMIT ?)`).run(pass.beyond[table], PRUNE_STEP - step).changes
      }
      // Rollbacks and retirements stay: the trainer reads them to never offer a stopped version again.
      if (step < PRUNE_STEP) step += this.db.prepare("DELETE FROM decisions WHERE ts < ? AND action NOT IN ('rollback', 'retire')").run(pass.cutoff).changes
      // Drop reports age as events do (maxRows bounds neither: a row a minute, or a sink that dropped something).
      if (step < PRUNE_STEP) step += this.db.prepare('DELETE FROM drop_minutes WHERE minute < ?').run(pass.cutoff - (pass.cutoff % MINUTE)).changes
      // And the sinks remembered, past maxRows too: each report with a new session id (any client can make them up) adds
      // one. One forgotten that reports again counts its drops again, which only a flood of made-up sessions brings about.
      if (step < PRUNE_STEP) {
        const newest = this.db.prepare('SELECT seen FROM drop_sessions ORDER BY seen DESC LIMIT 1 OFFSET ?').pluck().get(this.retention.maxRows - 1) as number | undefined
        const before = Math.max(pass.cutoff, newest ?? -Infinity)
        step += this.db.prepare('DELETE FROM drop_sessions WHERE session IN (SELECT session FROM drop_sessions WHERE seen < ? LIMIT ?)').run(before, PRUNE_STEP - step).changes
      }
    })()
    pass.deleted += step
    if (step >= PRUNE_STEP) return step
    this.pass = undefined
    // After a large pass, the WAL is handed back to the file system. Without waiting: a reader in another process (a
    // long poet train) would hold it, and the checkpoint with it every writer; then the next large pass does it.
    if (pass.deleted >= PRUNE_STEP) {
      try {
        this.waiting(0, () => this.db.pragma('wal_checkpoint(TRUNCATE)'))
      } catch {
        // Busy: the deletions are committed all the same.
      }
    }
    return step
  }

  /** How many events `table` holds, from its running total (two rows read, however many events). */
  count(table: 'executions' | 'feedback' | 'dropped'): number {
    return this.db.prepare('SELECT n FROM event_totals WHERE name = ?').pluck().get(table) as number
  }

  /** Calls per function in the minutes the window touches, whole: a ranking of functions, not an exact count. */
  callsByFunction(window: Window = {}): Map<string, number> {
    const since = window.since === undefined ? Number.MIN_SAFE_INTEGER : window.since - (window.since % MINUTE)
    const rows = this.db
      .prepare('SELECT function_id AS id, total(calls) AS calls FROM execution_minutes WHERE minute >= ? AND minute <= ? GROUP BY function_id')
      .all(since, window.until ?? Number.MAX_SAFE_INTEGER) as { id: string; calls: number }[]
    return new Map(rows.map((r) => [r.id, r.calls]))
  }

  /** Events clients reported dropped, counted in the minute the collector heard of it, over the minutes that start in the window. */
  dropped(window: Window = {}): number {
    const since = window.since === undefined ? Number.MIN_SAFE_INTEGER : window.since - (window.since % MINUTE)
    // total(), not sum(): the counts are the clients' word, and sum() of integers throws on 64-bit overflow, which would
    // break every poll of the table over a few absurd reports.
    return this.db.prepare('SELECT total(n) FROM drop_minutes WHERE minute >= ? AND minute < ?').pluck().get(since, window.until ?? Number.MAX_SAFE_INTEGER) as number
  }

  /** Every drop clients reported that the store holds (a running total, as `count`), and since when (the first minute held). */
  droppedHeld(): { events: number; since?: number } {
    const events = this.count('dropped')
    const since = this.db.prepare('SELECT min(minute) FROM drop_minutes').pluck().get() as number | null
    return since === null ? { events } : { events, since }
  }

  /** Function ids seen in the window, with the versions that served them. */
  functions(window: Window = {}): { id: string; versions: string[] }[] {
    // Whole minutes from the rollup; a version seen only in a minute the window cuts must have a call inside the window.
    const edge = (n: 1 | 2) => `SELECT function_id, version FROM execution_minutes AS m WHERE minute = @m${n}
      AND EXISTS (SELECT 1 FROM executions AS e WHERE e.function_id = m.function_id AND e.version = m.version AND e.ts >= @lo${n} AND e.ts < @hi${n})`
    const rows = this.db
      .prepare(
        `SELECT function_id AS id, version FROM execution_minutes WHERE minute >= @from AND minute < @to
         UNION ${edge(1)} UNION ${edge(2)} ORDER BY id, version`,
      )
      .all(splitWindow(window)) as { id: string; version: string }[]
    const byId = new Map<string, string[]>()
    for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r.version])
    return [...byId].map(([id, versions]) => ({ id, versions }))
  }

  /**
   * Metrics of every version of the function that served calls in the window (`of`: its id, or its sources, each
   * event counted once however many of its ids the sources name).
   * `percentiles: false` skips the latency percentiles (left 0): they cost a sort per version, and the A/B rule needs none.
   * `sample` is the size of the latency sample past which percentiles are estimated; `custom: false` skips the custom
   * feedback metrics (left empty), which are read from every feedback row that carries some.
   */
  metrics(of: EventsOf, window: Window = {}, o: MetricsOptions = {}): VersionMetrics[] {
    // One read transaction, so one snapshot: retention or ingest in another process (WAL lets it write meanwhile)
    // could otherwise delete rows between the counts and the percentiles.
    return this.inOneSnapshot(() => this.readMetrics(sourcesOf(of, window), o))
  }

  private readMetrics(sources: readonly (EventSource & { window: Window })[], o: MetricsOptions): VersionMetrics[] {
    // Each source's rows, of the versions it takes: sums per version, which add up across the ids a version served under
    // (a renamed function's old clients and new ones run the same version).
    const gather = (read: (params: object) => Row[], add: (into: Row, r: Row) => void) => {
      const into = new Map<string, { row: Row; from: { id: string; window: Window }[] }>()
      for (const source of sources) {
        for (const r of read({ functionId: source.id, ...splitWindow(source.window) })) {
          const version = r.version as string
          if (!takes(source, version)) continue
          const seen = into.get(version)
          if (seen) {
            add(seen.row, r)
            seen.from.push(source)
          } else into.set(version, { row: { ...r }, from: [source] })
        }
      }
      return into
    }
    const sum = (keys: string[]) => (into: Row, r: Row) => {
      for (const k of keys) into[k] = (into[k] as number) + (r[k] as number)
    }
    // total(), not sum(), for attempts and durations: sum() of integers throws on 64-bit overflow, and one valid event
    // (attempts: 9e18) would then break every read of this function until retention removed it.
    const counts = this.db
      .prepare(
        `SELECT version, sum(calls) AS calls, total(attempts) AS attempts, ${OUTCOMES.map((o) => `sum(${o}) AS ${o}`).join(', ')},
           total(ok_sum) AS okSum, total(ok_sq) AS okSq
         FROM (${acrossMinutes(
           'execution_minutes',
           `version, calls, ${OUTCOMES.join(', ')}, attempts, ok_sum, ok_sq`,
           `version, 1, ${OUTCOMES.map((o) => `outcome = '${o}'`).join(', ')}, attempts, iif(outcome = 'ok', duration, 0), iif(outcome = 'ok', duration * duration, 0)`,
         )})
         GROUP BY version ORDER BY version`,
      )
    const rows = gather((params) => counts.all(params) as Row[], sum(['calls', 'attempts', ...OUTCOMES, 'okSum', 'okSq']))
    const result = new Map<string, VersionMetrics>()
    for (const [version, { row: r, from }] of [...rows].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const calls = r.calls as number
      const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, r[o] as number])) as Record<Outcome, number>
      const latency = o.percentiles === false ? undefined : this.latencies(from, version, calls, o.sample ?? PERCENTILE_SAMPLE)
      result.set(version, {
        version,
        calls,
        outcomes,
        errorRate: {
          input_error: outcomes.input_error / calls,
          output_error: outcomes.output_error / calls,
          timeout: outcomes.timeout / calls,
          error: outcomes.error / calls,
        },
        attempts: r.attempts as number,
        latency: { p50: at(latency?.all, 0.5), p95: at(latency?.all, 0.95), p99: at(latency?.all, 0.99) },
        okLatency: {
          p99: at(latency?.ok, 0.99),
          mean: meanStat(outcomes.ok, r.okSum as number, r.okSq as number),
        },
        score: { ...meanStat(0, 0, 0), clampedSum: 0 },
        metrics: Object.create(null) as Record<string, MeanStat>,
      })
    }
    const scoreRows = this.db.prepare(
      `SELECT version, sum(n) AS n, total(score_sum) AS s, total(score_sq) AS sq, total(clamped) AS clamped
       FROM (${acrossMinutes('score_minutes', 'version, n, score_sum, score_sq, clamped', 'version, 1, score, score * score, min(max(score, 0), 1)')})
       GROUP BY version`,
    )
    const scores = gather((params) => scoreRows.all(params) as Row[], sum(['n', 's', 'sq', 'clamped']))
    for (const { row: r } of scores.values()) {
      const m = result.get(r.version as string) ?? emptyMetrics(r.version as string, result)
      m.score = { ...meanStat(r.n as number, r.s as number, r.sq as number), clampedSum: r.clamped as number }
    }
    if (o.custom === false) return [...result.values()]
    // Version by version (each found by one seek, skipping the rest of its feedback), so that the window is a range of
    // the index: by function alone, a function page's poll read every feedback event of the function ever kept.
    const customRows = (where: string) =>
      this.db.prepare(
        `WITH RECURSIVE versions(version) AS (
           SELECT (SELECT min(version) FROM feedback WHERE function_id = ?)
           UNION ALL
           SELECT (SELECT min(version) FROM feedback WHERE function_id = ? AND version > versions.version) FROM versions WHERE version IS NOT NULL
         )
         SELECT f.version AS version, j.key AS name, count(*) AS n, total(j.value) AS s, total(j.value * j.value) AS sq
         FROM versions CROSS JOIN feedback AS f INDEXED BY feedback_by_function, json_each(f.metrics) AS j
         WHERE f.function_id = ? AND f.version = versions.version AND f.metrics IS NOT NULL ${where} GROUP BY f.version, j.key`,
      )
    // Keyed by version and name: each name's sums add up across the sources, as the counts do.
    const custom = new Map<string, Row>()
    for (const source of sources) {
      const [where, params] = windowClause(source.window, 'f.ts')
      for (const r of customRows(where).all(source.id, source.id, source.id, ...params) as Row[]) {
        if (!takes(source, r.version as string)) continue
        const key = JSON.stringify([r.version, r.name])
        const seen = custom.get(key)
        if (seen) sum(['n', 's', 'sq'])(seen, r)
        else custom.set(key, { ...r })
      }
    }
    for (const r of custom.values()) {
      const m = result.get(r.version as string) ?? emptyMetrics(r.version as string, result)
      m.metrics[r.name as string] = meanStat(r.n as number, r.s as number, r.sq as number)
    }
    return [...result.values()]
  }

  /**
   * Calls, errors and latency percentiles of a function (`of`, as in metrics()) per bucket of `bucketMs`, a whole
   * number of minutes (all versions together). Past `sample` calls in the window, the percentiles come from a sample of
   * about that many, and a bucket it leaves with few calls is read whole.
   */
  series(of: EventsOf, bucketMs: number, window: Window = {}, sample = PERCENTILE_SAMPLE): SeriesBucket[] {
    // One snapshot, as metrics(): rows another process deletes between the counts and the latency reads would leave
    // their buckets with calls and a latency of 0.
    // Counts are sums of the rollup's minutes: a bucket that split minutes would have to count every call of the window.
    if (!(bucketMs > 0 && bucketMs % MINUTE === 0)) throw new RangeError(`poet: series buckets are whole minutes, received ${bucketMs} ms`)
    return this.inOneSnapshot(() => this.readSeries(sourcesOf(of, window), bucketMs, sample))
  }

  private readSeries(sources: readonly (EventSource & { window: Window })[], bucketMs: number, sample: number): SeriesBucket[] {
    const size = bucketMs
    const countsOf = this.db.prepare(
      `SELECT t, version, sum(calls) AS calls, sum(errors) AS errors
       FROM (${acrossMinutes('execution_minutes', 'minute - minute % @size AS t, version, calls, calls - ok AS errors', "ts - ts % @size, version, 1, outcome != 'ok'")})
       GROUP BY t, version`,
    )
    // Each source with the versions it takes that served in its window: the latencies are read of those alone.
    const parts = sources.map((source) => {
      const rows = (countsOf.all({ functionId: source.id, size, ...splitWindow(source.window) }) as { t: number; version: string; calls: number; errors: number }[]).filter((r) =>
        takes(source, r.version),
      )
      return { id: source.id, window: source.window, rows, versions: JSON.stringify([...new Set(rows.map((r) => r.version))]) }
    })
    const buckets = new Map<number, { t: number; calls: number; errors: number }>()
    for (const r of parts.flatMap((s) => s.rows)) {
      const b = buckets.get(r.t)
      if (b) {
        b.calls += r.calls
        b.errors += r.errors
      } else buckets.set(r.t, { t: r.t, calls: r.calls, errors: r.errors })
    }
    const counts = [...buckets.values()].sort((a, b) => a.t - b.t)
    // Latency from a sample of the calls, as in metrics(), when there are many. A bucket the sample left with few of its
    // calls (a quiet minute in a busy hour) is read whole, all such buckets in one pass: few calls each.
    const total = counts.reduce((n, b) => n + b.calls, 0)
    const from = sampleLevel(total, sample)
    const durations = new Map<number, number[]>()
    const read = (sql: string, args: unknown[]) => {
      for (const [t, d] of this.db.prepare(sql).raw().all(...args) as [number, number][]) {
        const list = durations.get(t)
        if (list) list.push(d)
        else durations.set(t, [d])
      }
    }
    for (const { id, window, versions } of parts) {
      const [where, params] = windowClause(window)
      read(`SELECT ts - ts % ?, duration FROM ${sampleOf(from)} AND version IN (SELECT value FROM json_each(?)) ${where}`, [size, id, versions, ...params])
    }
    const whole = from > 0 ? counts.filter((b) => (durations.get(b.t)?.length ?? 0) < BUCKET_SAMPLE).map((b) => b.t) : []
    for (const t of whole) durations.delete(t)
    if (whole.length) {
      for (const { id, window, versions } of parts) {
        const ranges = whole.map((t) => [Math.max(t, window.since ?? t), Math.min(t + size, window.until ?? t + size)])
        read(
          // CROSS JOIN: the buckets first, so that each is a range of the index; left to itself the planner read every call.
          `SELECT e.ts - e.ts % ?, e.duration FROM json_each(?) AS b CROSS JOIN executions AS e
           WHERE e.function_id = ? AND e.version IN (SELECT value FROM json_each(?)) AND e.ts >= b.value ->> 0 AND e.ts < b.value ->> 1`,
          [size, JSON.stringify(ranges), id, versions],
        )
      }
    }
    return counts.map((b) => {
      const sorted = Float64Array.from(durations.get(b.t) ?? []).sort()
      return { t: b.t, calls: b.calls, errors: b.errors, p50: at(sorted, 0.5), p95: at(sorted, 0.95) }
    })
  }

  /** Executions perceive rejected (input_error) that feedback rated good: score ≥ 0.8 or label `good`. */
  goodRejections(of: EventsOf, window: Window = {}): GoodRejection[] {
    // By execution: a call rated under its function's old id and again under the new one is one rejection.
    const rows = new Map<string, { executionId: string; issues: string | null }>()
    for (const source of sourcesOf(of, window)) {
      const [where, params] = windowClause(source.window, 'f.ts')
      const query = this.db.prepare(
        `SELECT DISTINCT e.execution_id AS executionId, e.issues AS issues, e.version AS version
         FROM feedback AS f JOIN executions AS e ON e.execution_id = f.execution_id
         WHERE f.function_id = ? AND e.outcome = 'input_error' AND (f.score >= 0.8 OR lower(f.label) = 'good')
           ${where}`,
      )
      for (const r of query.all(source.id, ...params) as { executionId: string; issues: string | null; version: string }[]) {
        if (takes(source, r.version) && !rows.has(r.executionId)) rows.set(r.executionId, r)
      }
    }
    return [...rows.values()].map((r) => ({
      executionId: r.executionId,
      issues: (r.issues ? (JSON.parse(r.issues) as { path: string; rule?: string }[]) : []).map((i) =>
        i.rule ? `${i.path} (${i.rule})` : i.path,
      ),
    }))
  }

  /**
   * Calls of `version` in the window (event time) that carry input statistics or issues, oldest first, each with its
   * rating: the distributions the trainer learns domain thresholds from.
   */
  observations(of: EventsOf, version: string, window: Window = {}): Observation[] {
    const query = (where: string) =>
      this.db.prepare(
        `SELECT e.seq AS seq, e.outcome AS outcome, e.issues AS issues, e.stats AS stats,
           (SELECT max(f.score >= 0.8 OR lower(f.label) = 'good') FROM feedback AS f WHERE f.execution_id = e.execution_id) AS good,
           (SELECT max(f.score <= 0.2 OR lower(f.label) = 'bad') FROM feedback AS f WHERE f.execution_id = e.execution_id) AS bad
         FROM executions AS e
         WHERE e.function_id = ? AND e.version = ? AND (e.stats IS NOT NULL OR e.issues IS NOT NULL) ${where}
         ORDER BY e.seq`,
      )
    const rows = sourcesOf(of, window)
      .filter((source) => takes(source, version))
      .flatMap((source) => {
        const [where, params] = windowClause(source.window, 'e.ts')
        return query(where).all(source.id, version, ...params) as { seq: number; outcome: Outcome; issues: string | null; stats: string | null; good: number | null; bad: number | null }[]
      })
      .sort((a, b) => a.seq - b.seq)
    return rows.map((r) => {
      const rating = r.good && !r.bad ? 'good' : r.bad && !r.good ? 'bad' : undefined
      return {
        outcome: r.outcome,
        issues: r.issues ? (JSON.parse(r.issues) as Observation['issues']) : [],
        ...(r.stats ? { stats: JSON.parse(r.stats) as Record<string, number> } : {}),
        ...(rating ? { rating } : {}),
      }
    })
  }

  /**
   * The most recent feedback on `version` that carries a label or a comment (newest first, at most `limit`); the same
   * score, label and comment sent more than once (a page's canned rating) is one entry with its `count`, not `limit`
   * copies of it, under whichever of the function's ids it was sent.
   */
  comments(of: EventsOf, version: string, window: Window = {}, limit = 20): { score?: number; label?: string; comment?: string; count?: number }[] {
    type Row = { score: number | null; label: string | null; comment: string | null; n: number; last: number; last_seq: number }
    const groups = new Map<string, Row>()
    for (const source of sourcesOf(of, window).filter((source) => takes(source, version))) {
      const [where, params] = windowClause(source.window)
      const found = this.db
        .prepare(
          `SELECT score, label, comment, count(*) AS n, max(ts) AS last, max(seq) AS last_seq FROM feedback
           WHERE function_id = ? AND version = ? AND (label IS NOT NULL OR comment IS NOT NULL) ${where}
           GROUP BY score, label, comment
           ORDER BY last DESC, last_seq DESC LIMIT ?`,
        )
        .all(source.id, version, ...params, limit) as Row[]
      for (const r of found) {
        const key = JSON.stringify([r.score, r.label, r.comment])
        const seen = groups.get(key)
        if (!seen) groups.set(key, r)
        else {
          seen.n += r.n
          if (r.last > seen.last || (r.last === seen.last && r.last_seq > seen.last_seq)) Object.assign(seen, { last: r.last, last_seq: r.last_seq })
        }
      }
    }
    const rows = [...groups.values()].sort((a, b) => b.last - a.last || b.last_seq - a.last_seq).slice(0, limit)
    return rows.map((r) => ({
      ...(r.score !== null ? { score: r.score } : {}),
      ...(r.label !== null ? { label: r.label } : {}),
      ...(r.comment !== null ? { comment: r.comment } : {}),
      ...(r.n > 1 ? { count: r.n } : {}),
    }))
  }

  /**
   * Runs `run` holding the store's write lock, taken first (waiting up to BUSY_TIMEOUT for another process's; past it
   * this throws SQLITE_BUSY, see isBusy, and `run` does not run). A lock move that `run` records as a decision then
   * happens only when the decision can be recorded. What `run` recorded is committed even when it throws.
   */
  writing<T>(run: () => T): T {
    this.follow()
    this.db.exec('BEGIN IMMEDIATE')
    let result: T
    try {
      result = run()
    } catch (e) {
      this.db.exec('COMMIT')
      throw e
    }
    this.db.exec('COMMIT')
    return result
  }

  recordDecision(d: Decision): void {
    this.db
      .prepare('INSERT INTO decisions (function_id, ts, action, from_version, to_version, reason) VALUES (?, ?, ?, ?, ?, ?)')
      .run(d.functionId, d.ts, d.action, d.from ?? null, d.to ?? null, d.reason)
  }

  /**
   * Every decision on the function (`of`, as in metrics()), oldest first, each with the id it was recorded under: one on
   * a version a source does not take is another function's.
   */
  decisions(of: EventsOf): Decision[] {
    const query = this.db.prepare('SELECT seq, function_id, ts, action, from_version, to_version, reason FROM decisions WHERE function_id = ? ORDER BY seq')
    type DecisionRow = { seq: number; function_id: string; ts: number; action: string; from_version: string | null; to_version: string | null; reason: string }
    const rows = sourcesOf(of)
      .flatMap((source) => (query.all(source.id) as DecisionRow[]).filter((r) => takes(source, r.to_version ?? r.from_version ?? '') && within(source.window, r.ts)))
      .sort((a, b) => a.seq - b.seq)
    return rows.map((r) => ({
      functionId: r.function_id,
      ts: r.ts,
      action: r.action,
      ...(r.from_version ? { from: r.from_version } : {}),
      ...(r.to_version ? { to: r.to_version } : {}),
      reason: r.reason,
    }))
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  /**
   * The sorted durations of one version's calls in the window, all and successful ones, read once for every
   * percentile. Past `sample` calls, a sample of about that many (every 2^j-th call of each minute, read from an index
   * that holds them by level, so the rows left out are never read): a dashboard poll and a `poet train` then
   * cost the same for a busy function as for a quiet one, instead of a sort of every call (a second for 300 000 calls).
   */
  private latencies(from: readonly { id: string; window: Window }[], version: string, calls: number, sample: number): { all: Float64Array; ok: Float64Array } {
    // One level for every id the version served under: together they are the sample of its calls.
    const rows = from.flatMap(({ id, window }) => {
      const [where, params] = windowClause(window)
      const read = this.db.prepare(`SELECT duration, outcome = 'ok' FROM ${sampleOf(sampleLevel(calls, sample))} AND version = ? ${where}`).raw()
      return read.all(id, version, ...params) as [number, number][]
    })
    const all = Float64Array.from(rows, (r) => r[0]).sort()
    const ok = Float64Array.from(
      rows.filter((r) => r[1]),
      (r) => r[0],
    ).sort()
    return { all, ok }
  }
}

export interface MetricsOptions {
  /** Latency percentiles (a sort per version); off, they read 0. @default true */
  percentiles?: boolean
  /** Past this many calls of a version, its percentiles come from a sample of about this many. @default 50_000 */
  sample?: number
  /** Custom feedback metrics; off, `metrics` is empty. @default true */
  custom?: boolean
}

/** The whole minutes of a window (`from`, `to`) and the parts of the minutes at its ends it cuts (`m1`…`hi2`), as SQL parameters. */
interface SplitWindow {
  from: number
  to: number
  m1: number
  lo1: number
  hi1: number
  m2: number
  lo2: number
  hi2: number
}

/**
 * Cuts a window at whole minutes: those it covers whole are answered from a rollup, and the part of each end minute it
 * covers (at most a minute of a function's calls) from the events themselves. An empty part is the range [0, 0).
 */
function splitWindow(w: Window): SplitWindow {
  const since = w.since ?? -Infinity
  const until = w.until ?? Infinity
  const from = Math.ceil(since / MINUTE) * MINUTE
  const to = Math.floor(until / MINUTE) * MINUTE
  // Within one minute: no whole minute, one part.
  if (from > to) return { from: 0, to: 0, m1: Math.floor(since / MINUTE) * MINUTE, lo1: since, hi1: until, m2: 0, lo2: 0, hi2: 0 }
  const head = Number.isFinite(since) ? { m1: from - MINUTE, lo1: since, hi1: from } : { m1: 0, lo1: 0, hi1: 0 }
  const tail = Number.isFinite(until) ? { m2: to, lo2: to, hi2: until } : { m2: 0, lo2: 0, hi2: 0 }
  return { from, to, ...head, ...tail }
}

/**
 * A select of a rollup's rows (`rolled`, columns of `rollup`) for one function over a split window's whole minutes,
 * followed by the same columns computed from each event (`raw`) in the parts of its end minutes. Versions are looked up
 * in the end minute's rollup first, so that the events are read by (function, version, ts) ranges of an index.
 */
function acrossMinutes(rollup: 'execution_minutes' | 'score_minutes', rolled: string, raw: string): string {
  // Executions through the sample index, which holds every column read, one range per level; scores through their own.
  const [events, filter] = rollup === 'execution_minutes' ? ['executions INDEXED BY executions_by_function', '1'] : ['feedback', 'score IS NOT NULL']
  const part = (n: 1 | 2) => `SELECT ${raw} FROM ${events}
    WHERE function_id = @functionId AND version IN (SELECT version FROM ${rollup} WHERE function_id = @functionId AND minute = @m${n})
      AND ts >= @lo${n} AND ts < @hi${n} AND ${filter}`
  return `SELECT ${rolled} FROM ${rollup} WHERE function_id = @functionId AND minute >= @from AND minute < @to
    UNION ALL ${part(1)} UNION ALL ${part(2)}`
}

/** Every table, index and trigger of SCHEMA is in the file (a release may add some without a new schema version). */
function current(db: Database.Database): boolean {
  const found = new Set(db.prepare('SELECT name FROM sqlite_master').pluck().all() as string[])
  return [...SCHEMA.matchAll(/CREATE (?:TABLE|INDEX|TRIGGER) IF NOT EXISTS (\w+)/g)].every((m) => found.has(m[1]!))
}

/**
 * Brings the file to this schema in one transaction. A store of schema 1 (events only) gets each execution's sample
 * level and the minute rollups of what it already holds; the triggers keep them from then on. True when it migrated one.
 */
function migrate(db: Database.Database, file: string, notice: (line: string) => void): boolean {
  const columns = db.pragma('table_info(executions)') as { name: string }[]
  const older = columns.length > 0 && !columns.some((c) => c.name === 'level')
  if (older) {
    // A dev server or poet serve starting on a large store is silent for seconds meanwhile: said, so it is not taken for hung.
    const events = db.prepare('SELECT (SELECT count(*) FROM executions) + (SELECT count(*) FROM feedback)').pluck().get() as number
    if (events > 0) {
      notice(`poet: updating the feedback store ${file} (${events.toLocaleString('en-US')} events) for this release of unplugin-poet, once; a large store takes a few seconds.`)
    }
    // Schema 1's index of calls by function covered no column a count reads: it is made again, covering.
    db.exec('ALTER TABLE executions ADD COLUMN level INTEGER NOT NULL DEFAULT 0; DROP INDEX IF EXISTS executions_by_function')
    db.function('poet_level', { deterministic: true }, (n) => levelAt(Number(n)))
    db.exec(`
      UPDATE executions SET level = poet_level(placed.n) FROM (
        SELECT seq, row_number() OVER (PARTITION BY function_id, version, ts - ts % ${MINUTE} ORDER BY seq) - 1 AS n FROM executions
      ) AS placed WHERE executions.seq = placed.seq`)
  }
  db.exec(SCHEMA)
  if (older) {
    db.exec(`
      INSERT INTO execution_minutes
      SELECT function_id, version, ts - ts % ${MINUTE} AS minute, count(*),
        ${OUTCOMES.map((o) => `sum(outcome = '${o}')`).join(', ')},
        total(attempts), total(iif(outcome = 'ok', duration, 0)), total(iif(outcome = 'ok', duration * duration, 0))
      FROM executions GROUP BY function_id, version, minute;
      INSERT INTO score_minutes
      SELECT function_id, version, ts - ts % ${MINUTE} AS minute, count(*), total(score), total(score * score), total(min(max(score, 0), 1))
      FROM feedback WHERE score IS NOT NULL GROUP BY function_id, version, minute;
    `)
  }
  // The totals start from a count of what the file holds when their table is new (a store an earlier release of
  // schema 2 wrote): in this transaction, with the triggers that keep them, so that no write falls in between.
  for (const [name, count] of [['executions', 'count(*) FROM executions'], ['feedback', 'count(*) FROM feedback'], ['dropped', 'total(n) FROM drop_minutes']]) {
    db.prepare(`INSERT INTO event_totals SELECT ?, (SELECT ${count}) WHERE NOT EXISTS (SELECT 1 FROM event_totals WHERE name = ?)`).run(name, name)
  }
  db.pragma(`user_version = ${SCHEMA_VERSION}`)
  return older
}

/**
 * The sample level of the n-th call (from 0) of a version in a minute: how many times 2 divides n (the first call of a
 * minute gets the top level). The calls of level j and up are every 2^j-th of each minute, a systematic sample that is
 * never bunched (ids hashed to slots gave a minute's p50 twice the error) and that a minute's later calls extend.
 */
function levelAt(n: number): number {
  let level = 0
  while (level < LEVELS - 1 && n % 2 ** (level + 1) === 0) level++
  return level
}

/** Above this many calls of a version in a window, its latency percentiles come from a sample of about this many. */
const PERCENTILE_SAMPLE = 50_000
/** A series bucket whose sample holds fewer of its calls than this has its latency read from all of them. */
const BUCKET_SAMPLE = 50

/** The lowest level whose calls make a sample of about `sample` (0.7–1.4×) out of `calls`; 0: all of them. */
function sampleLevel(calls: number, sample: number): number {
  return calls <= sample ? 0 : Math.min(LEVELS - 1, Math.round(Math.log2(calls / sample)))
}

/**
 * The calls of a function of level `from` and up (every 2^from-th of each minute): `FROM …` up to its first condition,
 * `function_id = ?`. Samples that large are a range per level of the sample index; smaller ones (up to 2^SAMPLED_FROM
 * times the calls they keep) are read off the covering index of every call.
 */
function sampleOf(from: number): string {
  if (from < SAMPLED_FROM) return `executions INDEXED BY executions_by_function WHERE level >= ${from} AND function_id = ?`
  const levels = Array.from({ length: LEVELS - from }, (_, i) => from + i).join(', ')
  // The first term is the index's own condition, word for word: SQLite uses a partial index only when it sees it.
  return `executions INDEXED BY executions_sample WHERE level >= ${SAMPLED_FROM} AND level IN (${levels}) AND function_id = ?`
}

/** Percentile p (nearest rank) of sorted values; 0 when there are none (or percentiles were not asked for). */
function at(sorted: Float64Array | undefined, p: number): number {
  return sorted?.length ? sorted[rank(sorted.length, p)]! : 0
}

/** Nearest-rank index (0-based) of percentile p among n sorted values. */
function rank(n: number, p: number): number {
  return Math.max(0, Math.ceil(p * n) - 1)
}

function meanStat(n: number, sum: number, sumSq: number): MeanStat {
  if (n === 0) return { n: 0, mean: 0, variance: 0 }
  const mean = sum / n
  return { n, mean, variance: n > 1 ? Math.max(0, (sumSq - n * mean * mean) / (n - 1)) : 0 }
}

/** A version that received feedback but served no call in the window (feedback arrives later than its call). */
function emptyMetrics(version: string, into: Map<string, VersionMetrics>): VersionMetrics {
  const m = noMetrics(version)
  into.set(version, m)
  return m
}

/** Metrics of a version that served nothing. */
export function noMetrics(version: string): VersionMetrics {
  return {
    version,
    calls: 0,
    outcomes: { ok: 0, input_error: 0, output_error: 0, timeout: 0, error: 0 },
    errorRate: { input_error: 0, output_error: 0, timeout: 0, error: 0 },
    attempts: 0,
    latency: { p50: 0, p95: 0, p99: 0 },
    okLatency: { p99: 0, mean: { n: 0, mean: 0, variance: 0 } },
    score: { n: 0, mean: 0, variance: 0, clampedSum: 0 },
    // No prototype: a metric named `__proto__` is kept, and one named `constructor` is only there when it was sent.
    metrics: Object.create(null) as Record<string, MeanStat>,
  }
}

function windowClause(w: Window, column = 'ts'): [string, number[]] {
  let sql = ''
  const params: number[] = []
  if (w.since !== undefined) {
    sql += ` AND ${column} >= ?`
    params.push(w.since)
  }
  if (w.until !== undefined) {
    sql += ` AND ${column} < ?`
    params.push(w.until)
  }
  return [sql, params]
}

function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v)
}

function executionRow(e: ExecutionEvent, received: number, level: (e: ExecutionEvent, ts: number) => number) {
  const ts = Math.round(e.ts)
  return {
    executionId: e.executionId,
    functionId: e.functionId,
    version: e.version,
    ts,
    received,
    duration: e.duration,
    outcome: e.outcome,
    attempts: e.attempts,
    error: e.error ?? null,
    issues: json(e.issues),
    repairs: json(e.repairs),
    stats: json(e.stats),
    level: level(e, ts),
  }
}

function feedbackRow(e: FeedbackEvent, received: number) {
  const metrics = json(e.metrics)
  return {
    digest: createHash('sha256')
      .update(JSON.stringify([e.executionId, e.ts, e.score ?? null, e.label ?? null, metrics, e.comment ?? null]))
      .digest('base64url'),
    executionId: e.executionId,
    functionId: e.functionId,
    version: e.version,
    ts: Math.round(e.ts),
    received,
    score: e.score ?? null,
    label: e.label ?? null,
    metrics,
    comment: e.comment ?? null,
  }
}

interface FileId {
  dev: number
  ino: number
}

/** The file at `path` (device and inode), or undefined when there is none. */
function fileId(path: string): FileId | undefined {
  const st = statSync(path, { throwIfNoEntry: false })
  return st && { dev: st.dev, ino: st.ino }
}

function same(a: FileId, b: FileId | undefined): boolean {
  return !!b && a.dev === b.dev && a.ino === b.ino
}

/** What a write that waited `ms` for the write lock of `file` in vain says about it. */
export function lockHeld(file: string, ms = BUSY_TIMEOUT): string {
  return (
    `another process has held the write lock of ${file} for over ${ms / 1000} s ` +
    '(vite dev or poet serve migrating it, poet train --apply, a sqlite3 shell or DB browser with a transaction open)'
  )
}

/** True for SQLite's "database is locked": another process held the write lock (or a checkpoint) past the wait allowed. */
export function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

let loaded: typeof Database | undefined

/**
 * better-sqlite3, loaded when a store first opens. It is an optional dependency: an install where its native build
 * fails (no prebuilt binary for this platform, no compiler) still succeeds without it, and only the store needs it, not
 * the plugin, a build or the runtime.
 */
function sqlite(): typeof Database {
  if (loaded) return loaded
  try {
    return (loaded = createRequire(import.meta.url)('better-sqlite3') as typeof Database)
  } catch (e) {
    const { code, message } = e as NodeJS.ErrnoException
    if (code !== 'MODULE_NOT_FOUND' || !/'better-sqlite3'/.test(message)) throw e
    throw new Error(
      'better-sqlite3, which stores POET\'s events, is not installed. It is an optional dependency of unplugin-poet, ' +
        'left out when its native build fails at install: run `npm install better-sqlite3` and read what it says.',
    )
  }
}

/**
 * Why the store would not open, said so a user can act on it. better-sqlite3 loads its native module on first use: when
 * its install script never ran (`--ignore-scripts`, a package manager that asks before running them) or it was built
 * for another Node, its own message is a list of paths tried, or an ABI number, and names no cure.
 */
function openFailure(message: string): string {
  if (!/Could not locate the bindings file|NODE_MODULE_VERSION|better_sqlite3\.node/.test(message)) return message
  return (
    `better-sqlite3, which stores POET's events, has no native module built for this Node (${process.version}). ` +
    'Run `npm rebuild better-sqlite3` (or your package manager\'s rebuild, with its install script allowed to run), ' +
    `then start again. (${message.split('\n')[0]})`
  )
}
