import { afterEach, describe, expect, it, vi } from 'vitest'
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

describe('the shared deadline timer and Vitest fake timers', () => {
  afterEach(() => vi.useRealTimers())

  it('expires a deadline armed after fake timers were switched off, though the timer was left armed under them', async () => {
    vi.useFakeTimers()
    // Settled in time: the timer stays armed, for the next deadline to reuse, on the fake clock.
    disarm(arm(1, () => {}))
    vi.useRealTimers()
    const outcome = await new Promise((resolve) => {
      arm(20, () => resolve('expired'))
      // Node fires timers in the order they are due, so this one can only come first if the deadline never expires.
      setTimeout(() => resolve('still pending after 2 s'), 2000)
    })
    expect(outcome).toBe('expired')
  })

  it('expires on the fake clock a deadline armed under fake timers, though the timer was left armed by real ones', () => {
    disarm(arm(1000, () => {}))
    vi.useFakeTimers()
    let expired = false
    arm(1000, () => (expired = true))
    vi.advanceTimersByTime(1000)
    expect(expired).toBe(true)
  })
})

describe('the shared deadline timer on a busy event loop', () => {
  it('sets no timer per call while the loop is too busy to run an overdue one, and still expires deadlines after', async () => {
    // Left armed for 1 ms by a call settled in time, then overdue: nothing runs timers during this synchronous work.
    disarm(arm(1, () => {}))
    const until = Date.now() + 5
    while (Date.now() < until);
    const real = globalThis.setTimeout
    let set = 0
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => (set++, real(...args))) as typeof setTimeout
    const t0 = Date.now()
    try {
      // A loop of awaited calls that never yields to the timer phase: each arms and settles a deadline.
      for (let k = 0; k < 2000; k++) disarm(arm(1000, () => {}))
    } finally {
      globalThis.setTimeout = real
    }
    const elapsed = Date.now() - t0
    // Set again at most once per millisecond (it counts as armed for the millisecond it was set in), where comparing
    // with its old time set a timer for every one of the 2000 calls.
    expect(set).toBeLessThanOrEqual(elapsed + 2)
    const outcome = await new Promise((resolve) => {
      arm(20, () => resolve('expired'))
      real(() => resolve('still pending after 2 s'), 2000)
    })
    expect(outcome).toBe('expired')
  })
})
