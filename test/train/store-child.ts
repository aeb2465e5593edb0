// Entry of the child process the two-process store tests start (bundled by esbuild): opens a FeedbackStore on argv[2]
// and, with `insert <batches> <size> <tag>`, stores that many batches of calls, each in its own transaction, printing
// how many batches failed and the first failure; with `hold <ms>`, holds the write lock that long (as a sqlite3 shell
// with a transaction open does), printing `held` once it has it and `released` once it let it go; with `read`, keeps
// a read open on the file at every instant until killed (dashboards polling a large store: each read lasts 40 ms, and
// the next begins before it ends), printing `reading`.
import { BUSY_TIMEOUT, FeedbackStore } from '../../src/train/store'

const [file, action, ...rest] = process.argv.slice(2)
if (action === 'hold') {
  const { default: Database } = await import('better-sqlite3')
  // A bare connection: the holder in the field may be any SQLite client.
  const db = new Database(file!)
  db.exec('BEGIN IMMEDIATE')
  process.stdout.write('held\n')
  await new Promise((r) => setTimeout(r, Number(rest[0])))
  db.exec('COMMIT')
  db.close()
  process.stdout.write('released\n')
  process.exit(0)
}
if (action === 'read') {
  const { default: Database } = await import('better-sqlite3')
  const readers = [new Database(file!), new Database(file!)]
  const read = (db: InstanceType<typeof Database>) => {
    db.exec('BEGIN')
    db.prepare('SELECT count(*) FROM executions').get()
    setTimeout(() => {
      db.exec('COMMIT')
      read(db)
    }, 40)
  }
  read(readers[0]!)
  setTimeout(() => read(readers[1]!), 20)
  process.stdout.write('reading\n')
  await new Promise(() => {})
}
const store = new FeedbackStore(file!, { retention: { intervalMs: 1e12 } })
process.stdout.write('open\n')
if (action === 'insert') {
  const [batches, size, tag] = [Number(rest[0]), Number(rest[1]), rest[2]!]
  const ts = Date.UTC(2026, 0, 1, 12)
  let failed = 0
  let first = ''
  let starved = 0
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: size }, (_, i) => ({
      v: 1 as const,
      kind: 'execution' as const,
      functionId: 'src/f.ts#f',
      version: 'aaaaaaaaaa',
      executionId: `${tag}-${b}-${i}`,
      ts: ts + ((b * size + i) % 120_000),
      duration: i,
      outcome: 'ok' as const,
      attempts: 1,
    }))
    for (;;) {
      const t0 = Date.now()
      try {
        store.insert(events)
      } catch (e) {
        // Waited out the whole busy timeout: the other process kept taking the lock first (SQLite's is not fair, and
        // back-to-back transactions on a loaded machine can starve a writer that long). Sent again, as a sink does
        // after the collector's 503. A failure without that wait is what the test is about.
        if (Date.now() - t0 >= BUSY_TIMEOUT) {
          starved++
          continue
        }
        failed++
        first ||= (e as Error).message
      }
      break
    }
  }
  process.stdout.write(JSON.stringify({ failed, first, starved }) + '\n')
}
store.close()
