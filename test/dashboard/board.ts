// A real collector on 127.0.0.1 with a real SQLite store and the dashboard in front of it, writable like Vite dev's,
// seeded with what a project's store holds after a while: several functions, a candidate under test, feedback, errors.
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import type { FeedbackStore } from '../../src/train/store'
import { createDashboard } from '../../src/dashboard/handler'
import { guarded, serve } from '../../src/train/collector'
import { PACKAGE_ROOT } from '../dev/app'

export const LONG_ID = `src/features/billing/international/${'very-long-directory-name/'.repeat(4)}currencyConversionWithRoundingRulesForEveryRegion.ts#convertCurrencyWithRegionalRoundingRulesAndFees`

export interface Board {
  url: string
  dir: string
  lock: LockStore
  store: FeedbackStore
  post(events: unknown[]): Promise<void>
  close(): Promise<void>
}

/** The dashboard of `dir`'s `.poet/` on its own port; `writable` as in Vite dev (promote, roll back). */
export async function startBoard(name: string, o: { writable?: boolean; dir?: string; port?: number } = {}): Promise<Board> {
  const dir = o.dir ?? join(PACKAGE_ROOT, 'test/.tmp', `board-${name}-${randomUUID().slice(0, 8)}`)
  mkdirSync(join(dir, '.poet'), { recursive: true })
  const lockDir = join(dir, '.poet')
  const running = await serve({ port: o.port ?? 0, db: join(lockDir, 'feedback.db'), lockDir, rateLimit: false })
  const dashboard = createDashboard({ base: '', lockDir, store: running.collector.store, collector: running.collector.handle, project: name, writable: o.writable ?? false })
  running.server.removeAllListeners('request')
  running.server.on('request', guarded((req, res) => dashboard(req, res, () => running.collector.handle(req, res))))
  return {
    url: running.url,
    dir,
    lock: new LockStore(lockDir),
    store: running.collector.store,
    async post(events) {
      for (let i = 0; i < events.length; i += 2000) {
        const res = await fetch(`${running.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events.slice(i, i + 2000)) })
        expect(res.status).toBe(202)
      }
    },
    close: () => running.close(),
  }
}

/** Execution events of `id`@`version` over the last 50 minutes: every 17th fails, every 5th is rated. */
export function traffic(id: string, version: string, n: number, now = Date.now()): unknown[] {
  const events: unknown[] = []
  for (let i = 0; i < n; i++) {
    const executionId = `${id}-${version}-${i}`
    const outcome = i % 17 === 0 ? 'input_error' : i % 29 === 0 ? 'timeout' : 'ok'
    const ts = now - Math.floor(((n - i) / n) * 50 * 60_000)
    events.push({ v: 1, kind: 'execution', functionId: id, version, executionId, ts, duration: 3 + ((i * 7919) % 40) + (i % 40 === 0 ? 1400 : 0), outcome, attempts: 1 })
    if (i % 5 === 0) events.push({ v: 1, kind: 'feedback', functionId: id, version, executionId, ts: ts + 10, score: 0.5 + ((i * 31) % 50) / 100 })
  }
  return events
}

/** A lock of several functions: one with a candidate under test, one with a very long id, one never called. */
export async function seed(board: Board): Promise<void> {
  const { lock } = board
  const write = (id: string, version: string, reason = 'build', inputHash = `in-${id}`) =>
    lock.write(id, { version, source: `// ${id}\nexport const v = '${version}'\n`, inputHash, generator: 'builtin', reason })
  write('src/quote.ts#quote', 'q1a2b3c4d5')
  write('src/sensor.ts#normalize', 'n1a2b3c4d5')
  write('src/sensor.ts#normalize', 'n9f8e7d6c5', 'train: error rate rose from 1 % to 30 %')
  lock.update((l) => {
    l.functions['src/sensor.ts#normalize']!.current = 'n1a2b3c4d5'
    l.functions['src/sensor.ts#normalize']!.candidate = { version: 'n9f8e7d6c5', share: 0.1 }
    l.functions['src/sensor.ts#normalize']!.optimizeFor = 'accuracy'
  })
  write(LONG_ID, 'l1a2b3c4d5')
  write('src/idle.ts#neverCalled', 'i1a2b3c4d5')
  await board.post([
    ...traffic('src/quote.ts#quote', 'q1a2b3c4d5', 1200),
    ...traffic('src/sensor.ts#normalize', 'n1a2b3c4d5', 900),
    ...traffic('src/sensor.ts#normalize', 'n9f8e7d6c5', 100),
    ...traffic(LONG_ID, 'l1a2b3c4d5', 30),
  ])
}
