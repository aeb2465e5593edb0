import { afterEach, describe, expect, it } from 'vitest'
import { validateBatch } from '../../src/train/validate'
import {
  onEvent,
  poet,
  POET,
  PoetInputError,
  PoetOutputError,
  PoetTimeoutError,
  type ExecutionEvent,
  type PhaseModule,
  type PoetErrorMeta,
  type PoetEvent,
  type Policy,
} from '../../src/runtime/index'

const policy = (p: Partial<Policy> = {}): Policy => ({
  attempts: 3,
  timeout: 30_000,
  backoff: { initial: 1, max: 5, factor: 2, jitter: true },
  retryOn: 'any',
  repair: false,
  sample: 1,
  ...p,
})

/** A hand-made phase module, as the plugin would generate: `n` must be a finite number, the result a non-negative one. */
function phases(p: Partial<Policy> = {}): PhaseModule {
  return {
    id: 'src/math.ts#sqrt',
    version: 'v1',
    generator: 'test',
    policy: policy(p),
    perceive(args) {
      if (typeof args[0] !== 'number') return [{ path: 'args[0]', expected: 'number', received: typeof args[0] }]
    },
    enforce(result) {
      if (typeof result !== 'number' || result < 0) return [{ path: 'result', expected: 'number >= 0', received: 'negative number' }]
    },
  }
}

const events: PoetEvent[] = []
let off = onEvent((e) => events.push(e))
afterEach(() => {
  events.length = 0
  off()
  off = onEvent((e) => events.push(e))
})
const last = () => events.at(-1) as ExecutionEvent
const meta = (e: unknown) => (e as { [POET]: PoetErrorMeta })[POET]
const catchSync = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('poet() as a function wrapper', () => {
  it('keeps a sync function sync: the result comes back directly, not as a promise', () => {
    const add = poet()((a: number, b: number) => a + b)
    expect(add(2, 3)).toBe(5)
    expect(last()).toMatchObject({ outcome: 'ok', attempts: 1, version: 'unversioned' })
  })

  it('retries a failing sync function immediately and synchronously, up to `attempts`', () => {
    let calls = 0
    const flaky = poet({ attempts: 3 })(function flaky() {
      if (++calls < 3) throw new Error('not yet')
      return 'ok'
    })
    expect(flaky()).toBe('ok')
    expect(calls).toBe(3)
    expect(last()).toMatchObject({ functionId: 'flaky', outcome: 'ok', attempts: 3 })
  })

  it('retries an async function with backoff and resolves with its result', async () => {
    let calls = 0
    const flaky = poet({ attempts: 4, backoff: { initial: 5, max: 10 } })(async () => {
      if (++calls < 3) throw new Error('not yet')
      return calls
    })
    const p = flaky()
    expect(p).toBeInstanceOf(Promise)
    expect(await p).toBe(3)
    expect(last()).toMatchObject({ outcome: 'ok', attempts: 3 })
  })

  it('waits between async attempts (exponential backoff without jitter)', async () => {
    let calls = 0
    const f = poet({ attempts: 3, backoff: { initial: 20, factor: 2, jitter: false } })(async () => {
      if (++calls < 3) throw new Error('again')
    })
    const t0 = Date.now()
    await f()
    // 20 ms before the second attempt, 40 ms before the third.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(58)
  })

  it('rethrows the last error unchanged when attempts run out, with poet metadata under the POET symbol', async () => {
    class QuotaError extends Error {}
    const thrown: QuotaError[] = []
    const f = poet({ attempts: 3, backoff: { initial: 1 } })(async function quota() {
      const e = new QuotaError(`attempt ${thrown.length + 1}`)
      thrown.push(e)
      throw e
    })
    const err = await f().catch((e: unknown) => e)
    expect(err).toBe(thrown[2])
    expect(err).toBeInstanceOf(QuotaError)
    expect(meta(err)).toMatchObject({ functionId: 'quota', attempts: 3, version: 'unversioned' })
    expect(meta(err).executionId).toBe(last().executionId)
    expect(Object.keys(err as object)).not.toContain(POET.toString())
    expect(last()).toMatchObject({ outcome: 'error', attempts: 3, error: 'Error' })
  })

  it('rethrows thrown primitives as they are', () => {
    const f = poet({ attempts: 2 })(() => {
      throw 'boom'
    })
    expect(catchSync(f)).toBe('boom')
    expect(last()).toMatchObject({ outcome: 'error', attempts: 2, error: 'string' })
  })

  it('attempts: 1 means no retry', async () => {
    let calls = 0
    const f = poet({ attempts: 1 })(async () => {
      calls++
      throw new Error('once')
    })
    await expect(f()).rejects.toThrow('once')
    expect(calls).toBe(1)
  })

  it('passes `this` and the arguments through', () => {
    const f = poet()(function (this: { k: number }, x: number) {
      return this.k * x
    })
    expect(f.call({ k: 3 }, 4)).toBe(12)
  })
})

describe('timeouts', () => {
  it('abandons a slow async attempt with PoetTimeoutError and retries it', async () => {
    // The attempts end only when released, after the call settled: a sleep outlasting the timeout would not do, since
    // a loaded machine's timers can fire a timeout and a longer sleep in either order (Node starts both from the
    // event loop's cached clock, which can lag Date.now by more than the difference).
    const release: (() => void)[] = []
    let calls = 0
    const f = poet({ timeout: 20, attempts: 2, backoff: { initial: 1 } })(async function slow() {
      calls++
      await new Promise<void>((r) => release.push(r))
      return 'late'
    })
    // Raced: a call that waited for its attempts would never settle, and this fails here rather than at the test's timeout.
    const err = await Promise.race([f().catch((e: unknown) => e), sleep(10_000).then(() => 'waited for the attempts')])
    release.forEach((r) => r())
    expect(err).toBeInstanceOf(PoetTimeoutError)
    expect(err).toMatchObject({ timeout: 20, functionId: 'slow', phase: 'operate', message: 'poet: slow timed out after 20 ms' })
    expect(calls).toBe(2)
    expect(last()).toMatchObject({ outcome: 'timeout', attempts: 2, error: 'PoetTimeoutError' })
  })

  it('never lets a late rejection of an abandoned attempt become an unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (r: unknown) => unhandled.push(r)
    process.on('unhandledRejection', onUnhandled)
    // Each attempt fails only when released, once its call has timed out: late for certain, whatever the load.
    const release: (() => void)[] = []
    try {
      const f = poet({ timeout: 20, attempts: 3, backoff: { initial: 1 } })(async () => {
        await new Promise<void>((r) => release.push(r))
        throw new Error('late failure')
      })
      await expect(f()).rejects.toBeInstanceOf(PoetTimeoutError)
      await Promise.all([f().catch(() => {}), f().catch(() => {})])
      expect(release).toHaveLength(9)
      release.forEach((r) => r())
      // Node reports an unhandled rejection once the microtasks have run, before any timer.
      await sleep(100)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('does not time out attempts that settle in time, and keeps no timer that would hold the process', async () => {
    const f = poet({ timeout: 50 })(async (x: number) => {
      await sleep(5)
      return x
    })
    expect(await Promise.all([1, 2, 3].map((x) => f(x)))).toEqual([1, 2, 3])
    expect(events.map((e) => (e as ExecutionEvent).outcome)).toEqual(['ok', 'ok', 'ok'])
  })
})

describe('timeouts that do not apply', () => {
  it('never time out a sync function: it cannot be abandoned, so it stays sync and returns', () => {
    const busy = poet({ timeout: 1 })(() => {
      const end = Date.now() + 10
      while (Date.now() < end);
      return 'done'
    })
    expect(busy()).toBe('done')
    expect(last()).toMatchObject({ outcome: 'ok', attempts: 1 })
  })

  it('timeout: 0 turns timeouts off', async () => {
    const slow = poet({ timeout: 0 })(async () => {
      await sleep(30)
      return 'done'
    })
    expect(await slow()).toBe('done')
  })

  it('retries a promise-returning function that failed before returning its promise', async () => {
    let calls = 0
    const f = poet({ attempts: 2 })((): Promise<string> => {
      if (++calls === 1) throw new Error('sync failure')
      return Promise.resolve('second')
    })
    expect(await f()).toBe('second')
    expect(calls).toBe(2)
  })
})

describe('phases', () => {
  it('rejects invalid input with PoetInputError listing the issue paths, without calling the function or retrying', () => {
    let calls = 0
    const sqrt = poet({}, phases())((n: number) => (calls++, Math.sqrt(n)))
    const err = catchSync(() => sqrt('9' as unknown as number))
    expect(err).toBeInstanceOf(PoetInputError)
    expect((err as Error).message).toBe('poet: invalid input of src/math.ts#sqrt:\n  args[0]: expected number, received string')
    expect(calls).toBe(0)
    expect(last()).toMatchObject({ functionId: 'src/math.ts#sqrt', version: 'v1', outcome: 'input_error', attempts: 0, issues: [{ path: 'args[0]' }] })
  })

  it('retries a result enforce rejects when retryOn is any, then throws PoetOutputError', () => {
    let calls = 0
    const f = poet({}, phases({ attempts: 3 }))((n: number) => (++calls < 3 ? -n : n))
    expect(f(2)).toBe(2)
    expect(calls).toBe(3)
    const g = poet({}, phases({ attempts: 2 }))((n: number) => -n)
    const err = catchSync(() => g(1))
    expect(err).toBeInstanceOf(PoetOutputError)
    expect(last()).toMatchObject({ outcome: 'output_error', attempts: 2, issues: [{ path: 'result' }] })
  })

  it('checks the awaited result of an async function', async () => {
    const f = poet({}, phases({ attempts: 1 }))(async (n: number) => -n)
    await expect(f(5)).rejects.toBeInstanceOf(PoetOutputError)
  })

  it('lets enforce replace the result under repair, and records repairs and stats in the event', () => {
    const p: PhaseModule = {
      ...phases({ repair: true }),
      perceive(args, ctx) {
        if (typeof args[0] === 'string') {
          args[0] = Number(args[0])
          ;(ctx.repairs ??= []).push({ path: 'args[0]', action: 'numeric string → number' })
        }
        ctx.stats = { n: 1 }
        return undefined
      },
      enforce(result, ctx) {
        if (typeof result === 'number' && result < 0) {
          ctx.result = 0
          ;(ctx.repairs ??= []).push({ path: 'result', action: 'clamp to 0', rule: 'demo.non_negative' })
        }
        return undefined
      },
    }
    const f = poet({}, p)((n: number) => n - 10)
    expect(f('4' as unknown as number)).toBe(0)
    expect(last()).toMatchObject({
      outcome: 'ok',
      stats: { n: 1 },
      repairs: [
        { path: 'args[0]', action: 'numeric string → number' },
        { path: 'result', action: 'clamp to 0', rule: 'demo.non_negative' },
      ],
    })
  })

  it('leaves non-finite input statistics out of the event, which JSON (and so every sink) would turn into null', () => {
    // A generated perceive's mean of an empty sample is NaN: as null it would make a collector refuse the whole batch.
    const p: PhaseModule = { ...phases(), perceive: (_, ctx) => void (ctx.stats = { n: 0, mean: NaN, min: Infinity, max: -Infinity }) }
    poet({}, p)((n: number) => n)(1)
    const event = last()
    expect(event).toMatchObject({ outcome: 'ok' })
    expect(event.stats).toEqual({ n: 0 })
    expect(JSON.parse(JSON.stringify(event))).toEqual(event)
  })

  it('keeps an event within what the collector accepts when a repair touches every element of a long array', () => {
    const p: PhaseModule = {
      ...phases({ repair: true }),
      perceive(args, ctx) {
        const xs = args[0] as unknown[]
        xs.forEach((x, i) => {
          xs[i] = Number(x)
          ;(ctx.repairs ??= []).push({ path: `args[0][${i}]`, action: 'numeric string → number' })
        })
        return undefined
      },
    }
    poet({}, p)((xs: number[]) => xs.length)(Array.from({ length: 150 }, (_, i) => String(i)) as never)
    const event = last()
    expect(event.repairs).toHaveLength(100)
    expect(event.repairs![0]).toEqual({ path: 'args[0][0]', action: 'numeric string → number' })
    // Beyond 100, the collector refuses the whole batch holding the event.
    expect(validateBatch([event])).toMatchObject({ ok: true })
  })

  it("reports an inner poet function's rejected input or output as an error of the outer call, not as its own", () => {
    const inner = poet({}, phases({ attempts: 1 }))((n: number) => -n)
    const outer = poet({}, { ...phases({ attempts: 1 }), id: 'src/api.ts#handle', perceive: undefined, enforce: undefined })((x: unknown) =>
      inner(x as number),
    )
    // The outer function's own phases accepted its input; what failed is a call it made.
    expect(catchSync(() => outer('4'))).toBeInstanceOf(PoetInputError)
    expect(events.map((e) => [e.functionId, (e as ExecutionEvent).outcome, (e as ExecutionEvent).error, (e as ExecutionEvent).issues])).toEqual([
      ['src/math.ts#sqrt', 'input_error', 'PoetInputError', [{ path: 'args[0]' }]],
      ['src/api.ts#handle', 'error', 'PoetInputError', undefined],
    ])
    events.length = 0
    expect(catchSync(() => outer(4))).toBeInstanceOf(PoetOutputError)
    expect(events.map((e) => [e.functionId, (e as ExecutionEvent).outcome, (e as ExecutionEvent).issues])).toEqual([
      ['src/math.ts#sqrt', 'output_error', [{ path: 'result' }]],
      ['src/api.ts#handle', 'error', undefined],
    ])
  })

  it('reads the phase module on every call, so a hot swap applies to the next call', () => {
    const p = phases({ attempts: 1 })
    let calls = 0
    const f = poet({}, p)((n: number) => (calls++, n))
    expect(catchSync(() => f(-1))).toBeInstanceOf(PoetOutputError)
    // What Vite's HMR does with a new version: copy it into the very object the runtime holds.
    Object.assign(p, { version: 'v2', enforce: undefined })
    expect(f(-1)).toBe(-1)
    expect(last()).toMatchObject({ version: 'v2', outcome: 'ok' })
    Object.assign(p, { version: 'v3', enforce: phases().enforce, policy: policy({ attempts: 4 }) })
    calls = 0
    expect(catchSync(() => f(-1))).toBeInstanceOf(PoetOutputError)
    expect(calls).toBe(4)
  })

  it('takes the function id and version from the phase module', () => {
    const f = poet({}, phases())(function localName(n: number) {
      return n
    })
    f(1)
    expect(last()).toMatchObject({ functionId: 'src/math.ts#sqrt', version: 'v1' })
  })
})

describe("retryOn: 'transient'", () => {
  const httpError = (status: number, headers?: Record<string, string>) => Object.assign(new Error(`HTTP ${status}`), { status, headers })

  it('retries 503 and network errors but not a 400', async () => {
    const failures = [httpError(503), Object.assign(new Error('reset'), { code: 'ECONNRESET' }), httpError(400)]
    let calls = 0
    const f = poet({ retryOn: 'transient', attempts: 5, backoff: { initial: 1 } })(async () => {
      throw failures[calls++]
    })
    const err = await f().catch((e: unknown) => e)
    expect(err).toBe(failures[2])
    expect(calls).toBe(3)
  })

  it('does not retry a result enforce rejected', () => {
    let calls = 0
    const f = poet({}, phases({ retryOn: 'transient' }))((n: number) => (calls++, -n))
    expect(catchSync(() => f(1))).toBeInstanceOf(PoetOutputError)
    expect(calls).toBe(1)
  })

  it('waits as long as Retry-After says (seconds, or an HTTP date)', async () => {
    let calls = 0
    const f = poet({ retryOn: 'transient', backoff: { initial: 1, max: 5000 } })(async () => {
      if (++calls === 1) throw httpError(429, { 'retry-after': '1' })
      return 'served'
    })
    const t0 = Date.now()
    expect(await f()).toBe('served')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990)

    calls = 0
    const g = poet({ retryOn: 'transient', backoff: { initial: 1, max: 5000 } })(async () => {
      if (++calls === 1) throw Object.assign(new Error('busy'), { response: { status: 503, headers: new Headers({ 'Retry-After': new Date(Date.now() + 2000).toUTCString() }) } })
      return 'served'
    })
    const t1 = Date.now()
    expect(await g()).toBe('served')
    // HTTP dates have one-second resolution.
    expect(Date.now() - t1).toBeGreaterThanOrEqual(900)
  })

  it('gives up at once when Retry-After asks for longer than backoff.max allows', async () => {
    let calls = 0
    const limited = httpError(429, { 'retry-after': '60' })
    const f = poet({ retryOn: 'transient', backoff: { max: 1000 } })(async () => {
      calls++
      throw limited
    })
    const t0 = Date.now()
    expect(await f().catch((e: unknown) => e)).toBe(limited)
    expect(Date.now() - t0).toBeLessThan(500)
    expect(calls).toBe(1)
    expect(meta(limited).attempts).toBe(1)
  })
})

describe('method decorators', () => {
  it('works as a TC39 standard method decorator, keeping `this`', () => {
    class Counter {
      step = 2
      add(n: number) {
        return n + this.step
      }
    }
    const add = poet({ attempts: 1 })(Counter.prototype.add, { kind: 'method', name: 'add' } as ClassMethodDecoratorContext<Counter, Counter['add']>)
    Object.defineProperty(Counter.prototype, 'add', { value: add })
    expect(new Counter().add(1)).toBe(3)
    expect(last()).toMatchObject({ functionId: 'add', outcome: 'ok' })
  })

  it('works as a legacy experimentalDecorators method decorator, keeping `this`', async () => {
    class Pricing {
      rate = 1.5
      async quote(x: number) {
        return x * this.rate
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(Pricing.prototype, 'quote')!
    Object.defineProperty(Pricing.prototype, 'quote', poet({}, phases())(Pricing.prototype, 'quote', descriptor))
    expect(await new Pricing().quote(2)).toBe(3)
    expect(last()).toMatchObject({ functionId: 'src/math.ts#sqrt', outcome: 'ok' })
  })

  it('refuses what is not a function or a method, saying so', () => {
    const d = poet() as unknown as (v: unknown, c?: unknown, descriptor?: PropertyDescriptor) => unknown
    // A standard decorator on a field receives undefined; a legacy one on an accessor, a descriptor without value.
    expect(() => d(undefined, { kind: 'field', name: 'x' })).toThrow('poet: expected a function or a method, got undefined')
    expect(() => d({}, 'x', { get: () => 1 })).toThrow('poet: expected a function or a method, got undefined')
    expect(() => d(42)).toThrow('poet: expected a function or a method, got number')
  })
})

describe('events', () => {
  it('describe the execution without any argument or result value', async () => {
    const secret = 'hunter2-secret'
    const f = poet({}, phases())((n: number) => n)
    f(4)
    catchSync(() => f(secret as unknown as number))
    const [ok, rejected] = events as ExecutionEvent[]
    expect(ok).toEqual({
      v: 1,
      kind: 'execution',
      functionId: 'src/math.ts#sqrt',
      version: 'v1',
      executionId: expect.any(String),
      ts: expect.any(Number),
      duration: expect.any(Number),
      outcome: 'ok',
      attempts: 1,
    })
    expect(Math.abs(ok.ts - Date.now())).toBeLessThan(1000)
    expect(rejected).toMatchObject({ outcome: 'input_error', issues: [{ path: 'args[0]' }], error: 'PoetInputError' })
    expect(JSON.stringify(events)).not.toContain(secret)
    expect(ok.executionId).not.toBe(rejected.executionId)
  })

  it('are measured: duration covers the async work', async () => {
    await poet()(async () => sleep(30))()
    expect(last().duration).toBeGreaterThanOrEqual(25)
  })

  it('honour sample: 0 emits nothing, 0.5 about half', () => {
    poet({ sample: 0 })(() => 1)()
    expect(events).toEqual([])
    const half = poet({ sample: 0.5 })(() => 1)
    for (let i = 0; i < 4000; i++) half()
    expect(events.length).toBeGreaterThan(1700)
    expect(events.length).toBeLessThan(2300)
  })

  it('survive a throwing listener, and stop after unsubscribing', () => {
    const offBad = onEvent(() => {
      throw new Error('listener bug')
    })
    const f = poet()(() => 'fine')
    expect(f()).toBe('fine')
    offBad()
    off()
    f()
    expect(events).toHaveLength(1)
  })
})

describe('the wrapper', () => {
  it("keeps the function's name, for stack traces and debuggers", () => {
    expect(poet()(function detectDrift() {}).name).toBe('detectDrift')
    const quote = async () => 1
    expect(poet()(quote).name).toBe('quote')
  })
})
