import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { onEvent, poet, PoetOutputError, type ExecutionEvent, type PhaseModule } from '../../src/runtime/index'

const events: ExecutionEvent[] = []
const off = onEvent((e) => e.kind === 'execution' && events.push(e))
afterEach(() => void (events.length = 0))
afterAll(off)

function phases(): PhaseModule {
  return {
    id: 'src/price.ts#price',
    version: 'current',
    generator: 'test',
    policy: { attempts: 1, timeout: 0, backoff: { initial: 1, max: 1, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1 },
    enforce: (r) => (typeof r === 'number' && r > 100 ? [{ path: 'result', expected: 'number <= 100', received: 'larger number' }] : undefined),
    variants: [
      {
        version: 'candidate',
        share: 0.2,
        // The candidate allows up to 1000, and retries.
        enforce: (r) => (typeof r === 'number' && r > 1000 ? [{ path: 'result', expected: 'number <= 1000', received: 'larger number' }] : undefined),
        policy: { attempts: 2 },
      },
    ],
  }
}

describe('A/B variants', () => {
  it('serve a candidate to its share of executions, named in each event', () => {
    const f = poet({}, phases())((x: number) => x)
    for (let i = 0; i < 5000; i++) f(1)
    expect(new Set(events.map((e) => e.version))).toEqual(new Set(['candidate', 'current']))
    const share = events.filter((e) => e.version === 'candidate').length / events.length
    // 5,000 calls at 0.2: one standard deviation is 0.0057, so ±0.03 (over 5σ) is not failed by chance.
    expect(share).toBeGreaterThan(0.17)
    expect(share).toBeLessThan(0.23)
  })

  it("run the candidate's own phases and policy overrides when it serves", () => {
    let calls = 0
    const f = poet({}, phases())((x: number) => (calls++, x))
    const outcome: Record<string, string[]> = { current: [], candidate: [] }
    for (let i = 0; i < 200; i++) {
      calls = 0
      try {
        f(500)
        outcome[events.at(-1)!.version].push(`ok after ${calls}`)
      } catch (e) {
        expect(e).toBeInstanceOf(PoetOutputError)
        outcome[events.at(-1)!.version].push(`rejected after ${calls}`)
      }
    }
    expect(new Set(outcome.current)).toEqual(new Set(['rejected after 1']))
    expect(new Set(outcome.candidate)).toEqual(new Set(['ok after 1']))
  })

  it('split deterministically: the same execution id always gets the same version', async () => {
    const { hashUnit } = await import('../../src/runtime/ids')
    const f = poet({}, phases())((x: number) => x)
    for (let i = 0; i < 500; i++) f(1)
    for (const e of events) expect(e.version).toBe(hashUnit(e.executionId) < 0.2 ? 'candidate' : 'current')
  })

  it('a variant without a share serves nothing, and removing variants (a rollback) takes effect at once', () => {
    const p = phases()
    p.variants![0].share = 0
    const f = poet({}, p)((x: number) => x)
    for (let i = 0; i < 300; i++) f(1)
    expect(events.every((e) => e.version === 'current')).toBe(true)
    p.variants![0].share = 1
    f(1)
    expect(events.at(-1)!.version).toBe('candidate')
    p.variants = undefined
    f(1)
    expect(events.at(-1)!.version).toBe('current')
  })
})
