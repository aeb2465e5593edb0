// The candidate served beside current in one module, run by the real runtime: the split, the policies, hot swap.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { addHotSwap } from '../../src/generators/render'
import { onEvent, poet } from '../../src/runtime'
import type { ExecutionEvent } from '../../src/runtime/types'
import { readPolicy, withPolicy } from '../../src/train/candidate'
import { servedPhases, withCandidate } from '../../src/train/variants'
import { lockWith, tempDir } from './helpers'
import { importPhases } from '../helpers/phase-module'

const ID = 'src/rank.ts#rank'
const off: (() => void)[] = []
afterEach(() => off.splice(0).forEach((f) => f()))

const load = importPhases

function setup() {
  const lockDir = join(tempDir(), '.poet')
  const { lock, version } = lockWith(lockDir, ID, { optimizeFor: 'latency' })
  const current = lock.source(ID, version)!
  const cand = withPolicy(current, { ...readPolicy(current)!, attempts: 5 }, 'test')
  return { lock, version, current, cand }
}

describe('withCandidate', () => {
  it('serves the candidate to its share of executions, with its own policy and the same validation', async () => {
    const { version, current, cand } = setup()
    const phases = await load(withCandidate(current, cand.source, 0.3))
    expect(phases.version).toBe(version)
    expect(phases.variants).toHaveLength(1)
    expect(phases.variants![0]).toMatchObject({ version: cand.version, share: 0.3, policy: { attempts: 5 } })
    expect(phases.variants![0]!.perceive!(['no array'], { functionId: ID, executionId: 'x', repair: false })).toEqual([
      { path: 'args[0]', expected: 'array', received: 'string' },
    ])

    const events: ExecutionEvent[] = []
    off.push(onEvent((e) => void (e.kind === 'execution' && events.push(e))))
    const rank = poet({}, phases)((xs: number[]) => xs.length)
    for (let i = 0; i < 2000; i++) rank([1, 2])
    const share = events.filter((e) => e.version === cand.version).length / events.length
    expect(events).toHaveLength(2000)
    // 2,000 calls at 0.3: one standard deviation is 0.0102, so ±0.06 is 5.9σ (±0.05 was 4.9σ: one run in a million).
    expect(share).toBeGreaterThan(0.24)
    expect(share).toBeLessThan(0.36)
  })

  it('stays a module addHotSwap accepts', async () => {
    const { current, cand } = setup()
    const hot = addHotSwap(withCandidate(current, cand.source, 0.2))
    expect((await load(hot)).variants).toHaveLength(1)
  })

  it('refuses sources it cannot combine and shares outside (0, 1)', () => {
    const { current, cand } = setup()
    expect(() => withCandidate('export default {}', cand.source, 0.2)).toThrow(/rendered by unplugin-poet/)
    expect(() => withCandidate(current, cand.source, 1)).toThrow("poet: a candidate's share must be between 0 and 1, got 1")
  })
})

describe('servedPhases', () => {
  it('attaches the lock candidate, and serves current alone without one', async () => {
    const { lock, current, cand } = setup()
    expect(servedPhases(lock, ID, current)).toBe(current)
    lock.update((l) => {
      const entry = l.functions[ID]!
      entry.versions[cand.version] = { ...entry.versions[entry.current]!, file: 'phases/rank.cand.js' }
      entry.candidate = { version: cand.version, share: 0.2 }
    })
    // The candidate's file is missing: current alone rather than a broken module.
    expect(servedPhases(lock, ID, current)).toBe(current)
    const { atomicWrite } = await import('../../src/generators/lock')
    atomicWrite(join(lock.dir, 'phases/rank.cand.js'), cand.source)
    expect((await load(servedPhases(lock, ID, current))).variants![0]).toMatchObject({ version: cand.version, share: 0.2 })
  })
})
