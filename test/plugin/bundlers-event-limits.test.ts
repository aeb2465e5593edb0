// A domain's event limits in built bundles: what `neverInEvents` forbids reaches no listener and no sink (real HTTP on 127.0.0.1).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DomainPack } from '../../src/generators/builtin/domain'
import type { ExecutionRef } from '../../src/runtime'
import type { PoetEvent } from '../../src/runtime/types'
import { BUNDLERS, build, createProject, run, type Project } from '../helpers/project'

const SOURCE = `
import { configure, executionOf, feedback, httpSink, onEvent, poet } from 'unplugin-poet/runtime'

export { executionOf, feedback }
export const events: unknown[] = []
onEvent((e) => events.push(e))

let sink: ReturnType<typeof httpSink> | undefined
export function connect(url: string): void {
  sink = httpSink({ url, interval: 5 })
  configure({ sink })
}
export const flush = () => sink!.flush()

export const triage = poet({ domain: 'healthcare' })(function triage(heartRate: number): { urgent: boolean } {
  return { urgent: heartRate > 120 }
})

export const monitor = poet({ domain: 'ml_monitoring' })(function monitor(current: number[], reference: number[]): { drifted: boolean } {
  return { drifted: current.length !== reference.length }
})

export const privateMonitor = poet({ domain: 'ml_monitoring:private' })(function privateMonitor(current: number[], reference: number[]): { drifted: boolean } {
  return { drifted: current.length !== reference.length }
})

export const rank = poet()(function rank(scores: number[]): { top: number } {
  return { top: Math.max(...scores) }
})
`

/** A team's pack for data that may not leave the process even as statistics. */
const privatePack: DomainPack = {
  name: 'ml_monitoring:private',
  version: '1.0.0',
  description: 'Drift monitoring whose input statistics stay in the process.',
  neverInEvents: ['stats'],
}

interface App {
  connect(url: string): void
  flush(): Promise<void>
  triage(heartRate: number): { urgent: boolean }
  monitor(current: number[], reference: number[]): { drifted: boolean }
  privateMonitor(current: number[], reference: number[]): { drifted: boolean }
  rank(scores: number[]): { top: number }
  feedback(about: unknown, fb: { score?: number; label?: string; comment?: string }): void
  executionOf(value: unknown): ExecutionRef | undefined
  events: PoetEvent[]
}

const SAY = { score: 0, label: 'patient-4711', comment: 'Mrs Doe, bed 4: wrong call' }

let server: Server
let url: string
const received: PoetEvent[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      received.push(...(JSON.parse(body) as PoetEvent[]))
      res.writeHead(202).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe.each(BUNDLERS)('%s', (bundler) => {
  let project: Project
  let app: App

  beforeAll(async () => {
    project = createProject(`event-limits-${bundler}`)
    project.write('src/limits.ts', SOURCE)
    app = await run<App>(await build(project, bundler, { entry: 'src/limits.ts', options: { domains: [privatePack] } }))
    app.connect(url)
  })
  afterAll(() => project.remove())

  /** What this bundle's listener saw and what reached the HTTP sink, for one function. */
  async function seen(functionId: string): Promise<{ listened: PoetEvent[]; sunk: PoetEvent[] }> {
    // configure() hands each microtask's events to the sink as one batch: let that happen, then send it.
    await Promise.resolve()
    await app.flush()
    const mine = (e: PoetEvent) => e.functionId === functionId
    const sunk = received.filter(mine)
    received.length = 0
    return { listened: app.events.filter(mine), sunk }
  }

  it('healthcare: no feedback label or comment reaches a listener or the sink, by result or by execution ref', async () => {
    const r = app.triage(140)
    app.feedback(r, SAY)
    // The ref as a client would send it back: plain JSON, no object identity.
    app.feedback(JSON.parse(JSON.stringify(app.executionOf(app.triage(90)))), SAY)
    const { listened, sunk } = await seen('src/limits.ts#triage')
    for (const events of [listened, sunk]) {
      const feedbacks = events.filter((e) => e.kind === 'feedback')
      expect(feedbacks).toHaveLength(2)
      for (const f of feedbacks) expect(f).toMatchObject({ score: 0 })
      expect(JSON.stringify(events)).not.toMatch(/patient|Doe|bed 4|"label"|"comment"/)
    }
  })

  it("a pack that forbids stats: the input statistics its parent's rules compute never leave the process", async () => {
    expect(app.monitor([1, 2, 3], [1, 2, 4])).toEqual({ drifted: false })
    const control = await seen('src/limits.ts#monitor')
    // Its parent computes them: they would be there without the limit.
    expect(control.sunk[0]).toMatchObject({ kind: 'execution', stats: { 'current.n': 3 } })

    expect(app.privateMonitor([1, 2, 3], [1, 2, 4])).toEqual({ drifted: false })
    const { listened, sunk } = await seen('src/limits.ts#privateMonitor')
    expect(sunk).toHaveLength(1)
    for (const e of [...listened, ...sunk]) {
      expect(e).toMatchObject({ kind: 'execution', outcome: 'ok' })
      expect(e).not.toHaveProperty('stats')
    }
  })

  it('a function without a domain keeps its feedback text', async () => {
    app.feedback(app.rank([3, 9]), { label: 'too-low', comment: 'expected 10' })
    const { sunk } = await seen('src/limits.ts#rank')
    expect(sunk.find((e) => e.kind === 'feedback')).toMatchObject({ label: 'too-low', comment: 'expected 10' })
  })
})
