// The engine's promise contract: an async function rejects (perceive's refusal included), a sync one throws; one event each.
import { afterEach, describe, expect, it } from 'vitest'
import { onEvent, poet, POET, PoetInputError, type ExecutionEvent, type PhaseModule, type PoetErrorMeta, type PoetEvent } from '../../src/runtime/index'

/** A phase module that wants one finite number; `async` as the plugin renders it for an async function. */
function phases(extra: Partial<PhaseModule> = {}): PhaseModule {
  return {
    id: 'src/rates.ts#convert',
    version: 'v1',
    generator: 'test',
    policy: { attempts: 2, timeout: 0, backoff: { initial: 1, max: 5, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1 },
    perceive(args) {
      if (typeof args[0] !== 'number') return [{ path: 'args[0]', expected: 'finite number', received: typeof args[0] }]
    },
    ...extra,
  }
}

const events: PoetEvent[] = []
const off: (() => void)[] = []
afterEach(() => {
  off.splice(0).forEach((f) => f())
  events.length = 0
})
const listen = () => off.push(onEvent((e) => events.push(e)))

/** Calls `f`, failing the test if the call throws synchronously: what a caller's `.catch(…)` needs. */
function callAsync(f: () => unknown): Promise<unknown> {
  let result: unknown
  expect(() => (result = f())).not.toThrow()
  expect(result).toBeInstanceOf(Promise)
  return result as Promise<unknown>
}

describe('an async function refused by perceive', () => {
  it('rejects, so f(bad).catch(…) sees the PoetInputError', async () => {
    listen()
    const convert = poet({}, phases({ async: true }))(async (amount: number) => amount * 2)
    const caught = await callAsync(() => convert('12' as unknown as number)).catch((e: unknown) => e)
    expect(caught).toBeInstanceOf(PoetInputError)
    expect((caught as PoetInputError).message).toBe('poet: invalid input of src/rates.ts#convert:\n  args[0]: expected finite number, received string')
    expect((caught as { [POET]: PoetErrorMeta })[POET]).toMatchObject({ functionId: 'src/rates.ts#convert', attempts: 0, version: 'v1' })
    expect(events).toEqual([expect.objectContaining({ kind: 'execution', outcome: 'input_error', attempts: 0, issues: [{ path: 'args[0]' }] })])
  })

  it('rejects for a Promise-returning function the phase module declares async', async () => {
    const convert = poet({}, phases({ async: true }))((amount: number) => Promise.resolve(amount * 2))
    await expect(callAsync(() => convert(null as unknown as number))).rejects.toBeInstanceOf(PoetInputError)
    expect(await convert(3)).toBe(6)
  })

  it('rejects for a native async function even when its phase module predates the flag', async () => {
    const convert = poet({}, phases())(async (amount: number) => amount * 2)
    await expect(callAsync(() => convert('x' as unknown as number))).rejects.toBeInstanceOf(PoetInputError)
  })

  it('rejects, not throws, when perceive itself crashes', async () => {
    const crash = new RangeError('perceive crashed')
    const convert = poet({}, phases({ async: true, perceive: () => { throw crash } }))(async (amount: number) => amount)
    await expect(callAsync(() => convert(1))).rejects.toBe(crash)
  })

  it('settles beside valid calls under Promise.allSettled, instead of aborting the batch', async () => {
    const convert = poet({}, phases({ async: true }))(async (amount: number) => amount * 2)
    const amounts: unknown[] = [1, 'two', 3]
    const settled = await Promise.allSettled(amounts.map((a) => convert(a as number)))
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(PoetInputError)
  })

  it('rejects when a function declared async throws before returning its promise, after its attempts', async () => {
    listen()
    let calls = 0
    const convert = poet({}, phases({ async: true }))((amount: number): Promise<number> => {
      calls++
      throw new TypeError(`rate table missing for ${amount}`)
    })
    await expect(callAsync(() => convert(1))).rejects.toThrow('rate table missing for 1')
    expect(calls).toBe(2)
    expect(events).toEqual([expect.objectContaining({ outcome: 'error', attempts: 2, error: 'TypeError' })])
  })
})

describe('a sync function', () => {
  it('still throws the PoetInputError synchronously, and reports it once', () => {
    listen()
    const convert = poet({}, phases())((amount: number) => amount * 2)
    expect(() => convert('12' as unknown as number)).toThrow(PoetInputError)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ outcome: 'input_error', attempts: 0 })
  })

  it('still throws its own error synchronously after its attempts, reported once', () => {
    listen()
    const convert = poet({}, phases())((amount: number): number => {
      throw new Error(`no rate for ${amount}`)
    })
    expect(() => convert(5)).toThrow('no rate for 5')
    expect(events).toEqual([expect.objectContaining({ outcome: 'error', attempts: 2 })])
  })

  it('without a phase module, throws synchronously as before', () => {
    const convert = poet({ attempts: 1 })((amount: number): number => {
      if (amount < 0) throw new RangeError('negative amount')
      return amount
    })
    expect(() => convert(-1)).toThrow(RangeError)
    expect(convert(2)).toBe(2)
  })
})

describe('ExecutionEvent', () => {
  it('an async refusal has the same event shape as a sync one', async () => {
    listen()
    const sync = poet({}, phases())((amount: number) => amount)
    const async = poet({}, phases({ async: true }))(async (amount: number) => amount)
    expect(() => sync('a' as unknown as number)).toThrow(PoetInputError)
    await expect(async('a' as unknown as number)).rejects.toThrow(PoetInputError)
    const [a, b] = events as ExecutionEvent[]
    const shape = (e: ExecutionEvent) => ({ outcome: e.outcome, attempts: e.attempts, issues: e.issues, error: e.error })
    expect(shape(b!)).toEqual(shape(a!))
  })
})

describe('a thenable that breaks the Promise contract, under a timeout', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  type Then = (resolve: (v: unknown) => void, reject: (e: unknown) => void) => void

  /** A poet function returning `{ then }` (a hand-rolled or legacy promise), counting its runs. */
  function broken(then: Then) {
    const runs = { n: 0 }
    const f = poet({ timeout: 100, attempts: 2, backoff: { initial: 1, max: 5 } })(function legacy(): Promise<unknown> {
      runs.n++
      return { then } as unknown as Promise<unknown>
    })
    return { f, runs }
  }

  /**
   * Another call with a timeout, pending meanwhile: it must still time out. Before the fix, the broken thenable disarmed
   * its deadline twice, which threw the shared timer's list out (this deadline lost, and an uncaught TypeError later).
   */
  function bystander(): Promise<string> {
    const stuck = poet({ timeout: 150, attempts: 1 })(function stuck(): Promise<never> {
      return new Promise(() => {})
    })
    return Promise.race([stuck().then(() => 'resolved', (e: Error) => e.name), sleep(10_000).then(() => 'never timed out')])
  }

  /**
   * Settles once with the first outcome, and nothing more happens after it: no attempt nobody awaits, no 2nd event.
   * The races give up after 10 s, not 1 s: a loaded machine stalling a second between two attempts would fire it first.
   */
  async function expectOnce(then: Then, outcome: [string, unknown], runs: number, event: Partial<ExecutionEvent>) {
    listen()
    const other = bystander()
    const { f, runs: ran } = broken(then)
    const got = await Promise.race([
      f().then((v) => ['resolved', v], (e: Error) => ['rejected', e.message]),
      sleep(10_000).then(() => ['never settled']),
    ])
    expect(got).toEqual(outcome)
    // Past the timeout and any backoff: a deadline left armed, or a second callback, would show by now.
    await sleep(300)
    expect(ran.n).toBe(runs)
    expect(events.filter((e) => e.functionId === 'legacy')).toEqual([expect.objectContaining(event)])
    expect(await other).toBe('PoetTimeoutError')
  }

  it('takes the first of two callbacks: resolved, then rejected', async () => {
    await expectOnce((resolve, reject) => (resolve(1), reject(new Error('second'))), ['resolved', 1], 1, { outcome: 'ok', attempts: 1 })
  })

  it('takes the first of two callbacks when both come later, from a timer', async () => {
    await expectOnce((resolve, reject) => void setTimeout(() => (resolve(1), reject(new Error('second'))), 5), ['resolved', 1], 1, { outcome: 'ok', attempts: 1 })
  })

  it('takes the first value of a callback called twice', async () => {
    await expectOnce((resolve) => (resolve(1), resolve(2)), ['resolved', 1], 1, { outcome: 'ok', attempts: 1 })
  })

  it('takes a synchronous throw from then as the attempt failing: retried, reported, and never timed out later', async () => {
    const then: Then = () => {
      throw new Error('then threw')
    }
    await expectOnce(then, ['rejected', 'then threw'], 2, { outcome: 'error', attempts: 2, error: 'Error' })
  })

  it('ignores a throw after the first callback', async () => {
    const then: Then = (resolve) => {
      resolve(1)
      throw new Error('after')
    }
    await expectOnce(then, ['resolved', 1], 1, { outcome: 'ok', attempts: 1 })
  })
})
