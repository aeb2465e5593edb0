// The whole Train loop with real parts: the runtime's A/B split and httpSink → `poet serve` → SQLite → trainer → lock.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { configure, feedback, httpSink, poet } from '../../src/runtime'
import type { PhaseModule } from '../../src/runtime/types'
import { readPolicy, withPolicy } from '../../src/train/candidate'
import { serve, type RunningCollector } from '../../src/train/collector'
import { applyTraining, planTraining } from '../../src/train/trainer'
import { lockWith, tempDir } from './helpers'
import { rng } from './simulation'
import { importPhases } from '../helpers/phase-module'

const ID = 'src/search.ts#search'
const running: RunningCollector[] = []
afterEach(async () => {
  configure({ sink: false })
  for (const r of running.splice(0)) await r.close()
})

const load = importPhases

describe('the Train loop end to end', () => {
  it('promotes a learned timeout that cuts stragglers, from events the runtime sent over HTTP', async () => {
    const lockDir = join(tempDir(), '.poet')
    const backoff = { initial: 1, max: 5, factor: 2, jitter: true }
    const { lock, version } = lockWith(lockDir, ID, { optimizeFor: 'latency', policy: { timeout: 30_000, backoff } })
    // What `poet train --apply` writes after an "error rate up" trigger, and the plugin then serves as a variant.
    const base = lock.source(ID, version)!
    const cand = withPolicy(base, { ...readPolicy(base)!, timeout: 150, attempts: 4 }, 'test: stragglers')
    const since = new Date(Date.now() - 1000).toISOString()
    lock.update((l) => {
      const entry = l.functions[ID]!
      entry.versions[cand.version] = { ...entry.versions[version]!, created: since, reason: 'train: test' }
      entry.candidate = { version: cand.version, share: 0.5, since, metric: 'latency' }
    })
    const current = await load(base)
    const candidate = await load(cand.source)
    const phases: PhaseModule = { ...current, variants: [{ ...candidate, share: 0.5 }] }

    const collector = await serve({ port: 0, db: join(lockDir, 'feedback.db'), token: 't' })
    running.push(collector)
    const sink = httpSink({ url: `${collector.url}/v1/events`, token: 't', batchSize: 100, interval: 20 })
    configure({ sink })

    // Three calls in ten straggle for a second on their first attempt; a fresh attempt does not, so the candidate's
    // 150 ms timeout cuts every straggler and no call fails. (Drawn per attempt, all four of a call's attempts
    // straggled now and then: at six such failures of its ~300 calls, one run in sixty, the ok-rate guard held the
    // promotion back. The 150 ms leaves room for a loaded machine's timer lag on the 2 ms path.)
    const r = rng(7)
    const tried = new WeakSet<number[]>()
    const search = poet({ optimizeFor: 'latency' }, phases)(async function search(q: number[]) {
      const straggles = !tried.has(q) && r() < 0.3
      tried.add(q)
      await new Promise((done) => setTimeout(done, straggles ? 1000 : 2))
      return { hits: q.length }
    })
    const results: { hits: number }[] = []
    // 600 calls: each arm gets 300 ± 12, so both reach the 200 a promotion needs (8σ; with 500, 4.5σ).
    for (let round = 0; round < 6; round++) {
      for (const s of await Promise.allSettled(Array.from({ length: 100 }, () => search([1, 2, 3])))) if (s.status === 'fulfilled') results.push(s.value)
    }
    for (const res of results.slice(0, 50)) feedback(res, { score: 1, metrics: { clicks: 2 } })
    await new Promise((done) => setTimeout(done, 0))
    await sink.flush()
    expect(sink.failed).toBe(0)
    expect(results).toHaveLength(600)
    expect(collector.collector.store.count('executions')).toBe(600)
    expect(collector.collector.store.count('feedback')).toBe(50)

    const [plan] = planTraining({ lockDir, store: collector.collector.store })
    expect(plan).toMatchObject({ action: 'promote', current: version, candidate: cand.version })
    expect(plan!.reason).toMatch(/^better on latency \(mean ms of successful calls\)/)
    applyTraining([plan!], { lockDir, store: collector.collector.store })
    expect(lock.read().functions[ID]!.current).toBe(cand.version)

    const table = await (await fetch(`${collector.url}/v1/functions`, { headers: { authorization: 'Bearer t' } })).json()
    const rows = table.functions.filter((f: { id: string }) => f.id === ID)
    expect(rows.map((f: { version: string }) => f.version).sort()).toEqual([version, cand.version].sort())
    const byVersion = Object.fromEntries(rows.map((f: { version: string; p95: number }) => [f.version, f]))
    expect(byVersion[version].p95).toBeGreaterThan(900)
    expect(byVersion[cand.version].p95).toBeLessThan(900)
  })
})
