import { describe, expect, it } from 'vitest'
import { arm, disarm } from '../../src/runtime/deadline'

describe('the shared deadline timer', () => {
  it('expires each deadline once and never early, whatever order they were armed in', async () => {
    const fired: number[] = []
    const t0 = Date.now()
    const at: Record<number, number> = {}
    for (const ms of [60, 20, 40, 10, 30]) arm(ms, () => ((at[ms] = Date.now() - t0), fired.push(ms)))
    await new Promise((r) => setTimeout(r, 300))
    // Deadlines that expired by the same tick go together; on a busy machine that can be several.
    expect([...fired].sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 60])
    for (const ms of [10, 20, 30, 40, 60]) expect(at[ms]).toBeGreaterThanOrEqual(ms - 1)
  })

  it('never expires a disarmed deadline, and keeps serving the others', async () => {
    const fired: string[] = []
    const a = arm(10, () => fired.push('a'))
    arm(25, () => fired.push('b'))
    disarm(a)
    await new Promise((r) => setTimeout(r, 50))
    expect(fired).toEqual(['b'])
  })
})

describe('the shared deadline timer under churn', () => {
  it('keeps every live deadline and no dead one after many arms and disarms in any order', async () => {
    const fired = new Set<number>()
    const live = new Map<number, ReturnType<typeof arm>>()
    for (let k = 0; k < 2000; k++) {
      live.set(k, arm(30 + (k % 7), () => fired.add(k)))
      // Disarm an earlier one, out of order.
      if (k % 3 === 0) {
        const victim = (k * 7919) % (k + 1)
        const d = live.get(victim)
        if (d) {
          disarm(d)
          live.delete(victim)
        }
      }
    }
    await new Promise((r) => setTimeout(r, 200))
    expect([...fired].sort((a, b) => a - b)).toEqual([...live.keys()].sort((a, b) => a - b))
  })
})
