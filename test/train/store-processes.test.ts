// The feedback store with two processes on one file (vite dev and poet serve, or poet train beside them), as child
// processes on real SQLite files: concurrent batches, and the migration of a schema-1 file.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { rollback } from '../../src/dashboard/handler'
import { httpSink } from '../../src/runtime/sinks/http'
import { serve, type RunningCollector } from '../../src/train/collector'
import { FeedbackStore } from '../../src/train/store'
import { rollbackCommand, serveCommand, trainCommand, type CommandIO } from '../../src/train/commands'
import { execution, lockWith, tempDir, bundleChild } from './helpers'

let CHILD: string

beforeAll(async () => {
  CHILD = await bundleChild('store-child')
})

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

interface Run {
  child: ChildProcess
  out: string
  err: string
  /** Resolves with the exit code (or signal) once the child ends. */
  done: Promise<number | string>
}

function child(args: string[]): Run {
  const c = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(c)
  const run: Run = {
    child: c,
    out: '',
    err: '',
    done: new Promise((resolve) => c.on('exit', (code, signal) => resolve(code ?? signal ?? -1))),
  }
  c.stdout!.on('data', (d: Buffer) => (run.out += d))
  c.stderr!.on('data', (d: Buffer) => (run.err += d))
  return run
}

/** Resolves once `read()` matches, or rejects after `ms` (a test that would hang fails instead). */
async function until(read: () => string, pattern: RegExp, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!pattern.test(read())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${pattern} in ${JSON.stringify(read())}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('two processes writing one store', () => {
  it('both store every batch: a batch waits for the other process’s commit instead of failing as locked', async () => {
    const file = join(tempDir(), 'feedback.db')
    new FeedbackStore(file).close()
    const runs = ['a', 'b'].map((tag) => child([file, 'insert', '1500', '2', tag]))
    for (const r of runs) expect(await r.done, r.err).toBe(0)
    // None failed without waiting for the other's commit (a batch starved past the busy timeout is sent again).
    for (const r of runs) expect(JSON.parse(r.out.split('\n')[1]!)).toMatchObject({ failed: 0, first: '' })
    const store = new FeedbackStore(file)
    try {
      expect(store.count('executions')).toBe(6_000)
      expect(store.metrics('src/f.ts#f', {}, { percentiles: false }).map((m) => m.calls)).toEqual([6_000])
    } finally {
      store.close()
    }
  }, 60_000)
})

/** A store, its collector (`poet serve`) and another process holding the store's write lock for `ms`, once it holds it. */
async function lockedCollector(ms: number): Promise<{ r: RunningCollector; holder: Run }> {
  const file = join(tempDir(), 'feedback.db')
  new FeedbackStore(file).close()
  const r = await serve({ port: 0, db: file, rateLimit: false })
  closing.push(r)
  const holder = child([file, 'hold', String(ms)])
  await until(() => holder.out, /held/, 10_000)
  return { r, holder }
}
const closing: RunningCollector[] = []
afterEach(async () => {
  for (const r of closing.splice(0)) await r.close()
})

function commandIO(cwd: string, stopped?: Promise<void>) {
  const out: string[] = []
  const err: string[] = []
  const io: CommandIO = { out: (l) => out.push(l), err: (l) => err.push(l), cwd, stopped }
  return { io, out, err }
}

const post = (r: RunningCollector, events: unknown[]) => fetch(`${r.url}/v1/events`, { method: 'POST', body: JSON.stringify(events) })

/** The longest the event loop was held while `run` ran, ms. */
async function loopHeld<T>(run: () => Promise<T>): Promise<[T, number]> {
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  try {
    return [await run(), lag.max / 1e6]
  } finally {
    lag.disable()
  }
}

describe('a store another process keeps write-locked (a sqlite3 shell, a migration, poet train --apply)', () => {
  it('the collector waits for the lock without holding its event loop, and stores the batch once the lock is let go', async () => {
    const { r } = await lockedCollector(2_500)
    const [res, held] = await loopHeld(() => post(r, [execution()]))
    expect(await res.json()).toEqual({ accepted: 1, stored: 1 })
    expect(res.status).toBe(202)
    // SQLite's own wait sleeps in the thread: the dev server's pages, HMR and /healthz all waited 2.5 s with it.
    expect(held).toBeLessThan(1_000)
  }, 30_000)

  it('past the busy timeout it answers 503 with Retry-After and who holds the lock, storing nothing, and takes the batch sent again', async () => {
    const { r, holder } = await lockedCollector(8_000)
    const batch = [execution()]
    const t0 = Date.now()
    const [res, held] = await loopHeld(() => post(r, batch))
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4_900)
    expect(held).toBeLessThan(1_000)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect((await res.json()).error).toBe(
      `the feedback store could not commit the batch, nothing stored: another process has held the write lock of ${r.collector.store.file} for over 5 s ` +
        '(vite dev or poet serve migrating it, poet train --apply, a sqlite3 shell or DB browser with a transaction open); send it again later',
    )
    expect(r.collector.store.count('executions')).toBe(0)
    await until(() => holder.out, /released/, 10_000)
    expect((await post(r, batch)).status).toBe(202)
    expect(r.collector.store.count('executions')).toBe(1)
  }, 30_000)

  it('poet train and poet serve start on it at once, as they only read to open a store that is up to date', async () => {
    const cwd = tempDir()
    const lockDir = join(cwd, '.poet')
    lockWith(lockDir, 'src/f.ts#f', { optimizeFor: 'latency' })
    const file = join(lockDir, 'feedback.db')
    new FeedbackStore(file).close()
    const holder = child([file, 'hold', '8000'])
    await until(() => holder.out, /held/, 10_000)
    const t0 = Date.now()
    const train = commandIO(cwd)
    expect(await trainCommand([], train.io), train.err.join('\n')).toBe(0)
    expect(train.out[1]).toMatch(/^src\/f\.ts#f\s+none\s+/)
    const serving = commandIO(cwd, Promise.resolve())
    expect(await serveCommand(['--port', '0'], serving.io), serving.err.join('\n')).toBe(0)
    expect(serving.out[0]).toMatch(/^poet serve: collecting events at /)
    // Both before the holder lets go: they did not wait for it.
    expect(Date.now() - t0).toBeLessThan(4_000)
    expect(holder.out).toBe('held\n')
  }, 30_000)

  it('poet train --apply moves nothing in the lock while it cannot record the decisions, says why, and applies them once it can', async () => {
    const cwd = tempDir()
    const id = 'src/api.ts#fetchQuote'
    const { lock, version } = lockWith(join(cwd, '.poet'), id, { optimizeFor: 'latency' })
    const file = join(cwd, '.poet', 'feedback.db')
    const store = new FeedbackStore(file)
    // Two hours of healthy calls, then an error-rate rise: Train proposes a candidate.
    const now = Date.now()
    store.insert(Array.from({ length: 1000 }, (_, i) => execution({ functionId: id, version, ts: now - 2 * 3_600_000 - i * 1000, duration: 80 + (i % 40) })))
    store.insert(Array.from({ length: 200 }, (_, i) => execution({ functionId: id, version, ts: now - i * 1000, duration: 90, ...(i < 40 ? { outcome: 'timeout', attempts: 3 } : {}) })))
    store.close()
    const holder = child([file, 'hold', '7000'])
    await until(() => holder.out, /held/, 10_000)
    const refused = commandIO(cwd)
    expect(await trainCommand(['--apply'], refused.io)).toBe(1)
    expect(refused.err).toEqual([
      `poet train: nothing applied: the decisions could not be recorded, as another process has held the write lock of ${file} for over 5 s ` +
        '(vite dev or poet serve migrating it, poet train --apply, a sqlite3 shell or DB browser with a transaction open). Run `poet train --apply` again once it is done.',
    ])
    expect(lock.read().functions[id]!.candidate).toBeUndefined()
    await until(() => holder.out, /released/, 10_000)
    const applied = commandIO(cwd)
    expect(await trainCommand(['--apply'], applied.io), applied.err.join('\n')).toBe(0)
    const candidate = lock.read().functions[id]!.candidate!.version
    const after = new FeedbackStore(file)
    try {
      expect(after.decisions(id)).toMatchObject([{ action: 'candidate', from: version, to: candidate }])
    } finally {
      after.close()
    }
  }, 30_000)

  it("the dashboard's roll back moves nothing while it cannot record the decision, and answers 503 saying why", async () => {
    const dir = tempDir()
    const id = 'src/api.ts#fetchQuote'
    const { lock, version } = lockWith(join(dir, '.poet'), id)
    const file = join(dir, '.poet', 'feedback.db')
    lock.update((l) => void (l.functions[id]!.candidate = { version, share: 0.2, since: new Date().toISOString(), metric: 'latency' }))
    const store = new FeedbackStore(file)
    try {
      const holder = child([file, 'hold', '7000'])
      await until(() => holder.out, /held/, 10_000)
      expect(rollback(lock, store, id)).toEqual({
        status: 503,
        body: {
          error:
            `the decision could not be recorded, as another process has held the write lock of ${file} for over 5 s ` +
            '(vite dev or poet serve migrating it, poet train --apply, a sqlite3 shell or DB browser with a transaction open), so nothing was changed. Try again once it is done.',
        },
      })
      expect(lock.read().functions[id]!.candidate).toMatchObject({ version })
      await until(() => holder.out, /released/, 10_000)
      expect(rollback(lock, store, id).status).toBe(200)
      expect(lock.read().functions[id]!.candidate).toBeUndefined()
      expect(store.decisions(id)).toMatchObject([{ action: 'rollback', to: version }])
    } finally {
      store.close()
    }
  }, 30_000)

  it('poet rollback moves the lock at once all the same, and says that the store, locked, could not record it', async () => {
    const cwd = tempDir()
    const id = 'src/api.ts#fetchQuote'
    const { lock, version } = lockWith(join(cwd, '.poet'), id)
    const file = join(cwd, '.poet', 'feedback.db')
    lock.update((l) => void (l.functions[id]!.candidate = { version, share: 0.2, since: new Date().toISOString(), metric: 'latency' }))
    new FeedbackStore(file).close()
    const holder = child([file, 'hold', '7000'])
    await until(() => holder.out, /held/, 10_000)
    const t = commandIO(cwd)
    expect(await rollbackCommand([id], t.io)).toBe(0)
    expect(lock.read().functions[id]!.candidate).toBeUndefined()
    expect(t.err).toEqual([
      `poet rollback: the lock moved, but ${file} could not record it (poet train may offer the stopped candidate again): another process has held the write lock of ${file} for over 5 s ` +
        '(vite dev or poet serve migrating it, poet train --apply, a sqlite3 shell or DB browser with a transaction open)',
    ])
  }, 30_000)

  it('httpSink retries through a lock held past the busy timeout: every event is stored, none given up', async () => {
    const { r } = await lockedCollector(7_000)
    const sink = httpSink({ url: `${r.url}/v1/events`, batchSize: 10 })
    const events = Array.from({ length: 25 }, () => execution())
    sink(events)
    await sink.close()
    expect({ sent: sink.sent, failed: sink.failed, dropped: sink.dropped }).toEqual({ sent: 25, failed: 0, dropped: 0 })
    expect(r.collector.store.count('executions')).toBe(25)
  }, 60_000)
})

describe('the WAL under constant ingest', () => {
  it('stays bounded beside readers that are always on it (SQLite restarts it only at an instant none is)', async () => {
    const file = join(tempDir(), 'feedback.db')
    const store = new FeedbackStore(file, { retention: { intervalMs: 1e12 } })
    try {
      store.insert([execution()])
      const reader = child([file, 'read'])
      await until(() => reader.out, /reading/, 10_000)
      let largest = 0
      // About 57 MB of WAL, at over 10 000 events a second: without a restart, all of it stays in the WAL.
      for (let n = 0; n < 200; n++) {
        store.insert(Array.from({ length: 1000 }, (_, i) => execution({ executionId: `w-${n}-${i}`, duration: i })))
        largest = Math.max(largest, statSync(`${file}-wal`).size)
        await new Promise((r) => setTimeout(r, 50))
      }
      // 32 MB, and what a second of ingest adds before a write looks again.
      expect(largest).toBeLessThan(44 * 1024 * 1024)
    } finally {
      store.close()
    }
  }, 60_000)
})

describe('a store deleted or replaced while in use', () => {
  /** The calls a fresh connection finds in the file now at `file`. */
  const callsAt = (file: string) => {
    const db = new Database(file, { readonly: true })
    try {
      return db.prepare('SELECT execution_id FROM executions ORDER BY seq').pluck().all()
    } finally {
      db.close()
    }
  }

  it('poet serve stores the batches it acknowledges after `rm .poet/feedback.db*` in a new file there, and says so', async () => {
    const file = join(tempDir(), 'feedback.db')
    const lines: string[] = []
    const r = await serve({ port: 0, store: new FeedbackStore(file, { notice: (l) => lines.push(l) }), rateLimit: false })
    closing.push(r)
    try {
      expect((await post(r, [execution({ executionId: 'before' })])).status).toBe(202)
      for (const f of ['', '-wal', '-shm']) rmSync(`${file}${f}`)
      const res = await post(r, [execution({ executionId: 'after' })])
      expect(await res.json()).toEqual({ accepted: 1, stored: 1 })
      expect(res.status).toBe(202)
      // Acknowledged into the unlinked file, it was in no file poet train could open, and gone once poet serve stopped.
      expect(callsAt(file)).toEqual(['after'])
      expect(lines).toEqual([`poet: the feedback store ${file} was deleted while in use; events go to a new one there.`])
    } finally {
      r.collector.store.close()
    }
  })

  it('a store moved over it (a backup put back) is written to, and read without the WAL of the file it replaced', () => {
    const dir = tempDir()
    const file = join(dir, 'feedback.db')
    const lines: string[] = []
    const store = new FeedbackStore(file, { notice: (l) => lines.push(l) })
    try {
      store.insert([execution({ executionId: 'old' })])
      const backup = new FeedbackStore(join(dir, 'backup.db'))
      backup.insert([execution({ executionId: 'backup' })])
      backup.close()
      renameSync(join(dir, 'backup.db'), file)
      store.insert([execution({ executionId: 'new' })])
      expect(callsAt(file)).toEqual(['backup', 'new'])
      expect(store.count('executions')).toBe(2)
      expect(lines).toEqual([`poet: the feedback store ${file} was replaced while in use; events go to the file now there.`])
    } finally {
      store.close()
    }
  })
})

/** A schema-1 file (as an older unplugin-poet left it) of `n` calls over three functions and a score on every second. */
function olderStore(file: string, n: number): void {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec(readFileSync(new URL('../fixtures/store/schema-1.sql', import.meta.url), 'utf8'))
  db.exec(`WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ${n - 1})
    INSERT INTO executions (execution_id, function_id, version, ts, received, duration, outcome, attempts)
    SELECT 'e' || i, 'src/f' || (i % 3) || '.ts#f', 'aaaaaaaaaa', ${BASE} + i * 4, ${Date.now()}, i % 1000, iif(i % 10, 'ok', 'error'), 1 FROM c`)
  db.exec(`INSERT INTO feedback (digest, execution_id, function_id, version, ts, received, score)
    SELECT 'd' || seq, execution_id, function_id, version, ts, received, 0.5 FROM executions WHERE seq % 2 = 0`)
  db.close()
}

const BASE = Date.UTC(2026, 0, 1, 12)

/** Calls and scores of each of the three functions, as the store answers them. */
function counts(file: string): number[][] {
  const store = new FeedbackStore(file, { notice: () => {} })
  try {
    return [0, 1, 2].map((f) => store.metrics(`src/f${f}.ts#f`, {}, { percentiles: false }).flatMap((m) => [m.calls, m.score.n]))
  } finally {
    store.close()
  }
}

describe('migrating a store an older unplugin-poet wrote', () => {
  it('says once what it does, and a second process opening it meanwhile waits for it instead of failing as locked', async () => {
    const file = join(tempDir(), 'feedback.db')
    // Large enough that the migration outlasts the busy timeout of a batch (5 s) on this machine.
    olderStore(file, 900_000)
    const first = child([file, 'open'])
    await until(() => first.err, /updating/, 30_000)
    const second = child([file, 'open'])
    expect(await first.done, first.err).toBe(0)
    expect(await second.done, second.err).toBe(0)
    expect(first.err).toBe(`poet: updating the feedback store ${file} (1,350,000 events) for this release of unplugin-poet, once; a large store takes a few seconds.\n`)
    // The second found it migrated: nothing to say, nothing counted twice.
    expect(second.err).toBe('')
    expect(counts(file)).toEqual([
      [300_000, 150_000],
      [300_000, 150_000],
      [300_000, 150_000],
    ])
  }, 120_000)

  it('killed midway leaves the older schema, readable, and the next open migrates it whole', async () => {
    const file = join(tempDir(), 'feedback.db')
    olderStore(file, 300_000)
    const run = child([file, 'open'])
    await until(() => run.err, /updating/, 30_000)
    await new Promise((r) => setTimeout(r, 300))
    run.child.kill('SIGKILL')
    expect(await run.done).toBe('SIGKILL')
    const db = new Database(file)
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(1)
      expect((db.pragma('table_info(executions)') as { name: string }[]).some((c) => c.name === 'level')).toBe(false)
      expect(db.prepare('SELECT count(*) FROM executions').pluck().get()).toBe(300_000)
    } finally {
      db.close()
    }
    expect(counts(file)).toEqual([
      [100_000, 50_000],
      [100_000, 50_000],
      [100_000, 50_000],
    ])
  }, 120_000)

  it('leaves no WAL the size of the store beside it while the store stays open', () => {
    const file = join(tempDir(), 'feedback.db')
    olderStore(file, 300_000)
    const store = new FeedbackStore(file, { notice: () => {} })
    try {
      // The migration rewrote every call (tens of MB through the WAL); a batch's WAL is a few pages.
      expect(statSync(`${file}-wal`).size).toBeLessThan(1_000_000)
      expect(store.count('executions')).toBe(300_000)
    } finally {
      store.close()
    }
  })
})
