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
