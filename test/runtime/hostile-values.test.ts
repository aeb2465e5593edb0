// Hostile and unusual run-time values through the whole call path: a real generated phase module, the engine, a real
// httpSink and a real `poet serve`. The caller gets a clear error (poet's, or the one its own code threw), and the
// event of every call reaches the store, with the rest of its batch.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { configure, executionOf, feedback, httpSink, onEvent, poet, PoetInputError, PoetOutputError, type ExecutionEvent, type PhaseModule, type PoetEvent } from '../../src/runtime/index'
import { serve } from '../../src/train/collector'
import { phasesFor } from '../generators/builtin/harness'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  configure({ sink: false })
  while (cleanup.length) await cleanup.pop()!()
})

/** A real collector on a temp SQLite file, and the sink configured to send to it. */
async function collector() {
  const dir = mkdtempSync(join(tmpdir(), 'poet-hostile-'))
  const running = await serve({ port: 0, db: join(dir, 'feedback.db') })
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => running.close())
  const sink = httpSink({ url: `${running.url}/v1/events`, batchSize: 100, retries: 0 })
  configure({ sink })
  return { sink, stored: () => running.collector.store.count('executions') + running.collector.store.count('feedback') }
}

/** Every event while the test runs. */
function recorded(): PoetEvent[] {
  const events: PoetEvent[] = []
  cleanup.push(onEvent((e) => events.push(e)))
  return events
}

const caught = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

const LIST = `interface Node { value: number; next?: Node }
function walk(n: Node, tags: Record<string, number>): number { return 0 }`

/** `{ value: 1, next: … }` nested `levels` deep, its innermost value a string. */
function chain(levels: number): unknown {
  let n: unknown = { value: 'x' }
  for (let i = 0; i < levels; i++) n = { value: 1, next: n }
  return n
}

describe('the event of a call refused for a value no event could name in full', () => {
  it('reaches the store, with the rest of its batch, when the issue path is past what a collector takes', async () => {
    const { sink, stored } = await collector()
    const walk = poet({}, await phasesFor(LIST, 'walk', { options: { attempts: 1 } }))((n: unknown, tags: unknown) => 0)
    walk({ value: 1 }, {})
    // 300 levels of `.next`: a path of 1 500 characters.
    const deep = caught(() => walk(chain(300), {})) as PoetInputError
    expect(deep.issues[0]!.path).toBe(`args[0]${'.next'.repeat(300)}.value`)
    await sink.flush()
    expect([sink.sent, sink.failed]).toEqual([2, 0])
    expect(stored()).toBe(2)
  })

  it('cuts such a path in the event, saying so, and keeps the paths that fit as they are', async () => {
    const events = recorded()
    const walk = poet({}, await phasesFor(LIST, 'walk', { options: { attempts: 1 } }))((n: unknown, tags: unknown) => 0)
    caught(() => walk(chain(300), { ok: 1, 'a.b': 'x' } as never))
    const paths = (events[0] as ExecutionEvent).issues!.map((i) => i.path)
    expect(paths[0]).toBe(`args[0]${'.next'.repeat(300)}.value`.slice(0, 511) + '…')
    expect(paths[1]).toBe('args[1]["a.b"]')
  })
})

describe('the event of a call that threw an error no collector would take the name of', () => {
  it('reaches the store, with the rest of its batch, for an empty name and a name of 300 characters', async () => {
    const { sink, stored } = await collector()
    const events = recorded()
    const named = (name: string) => {
      const e = new Error('failed')
      e.name = name
      return e
    }
    const f = poet({ attempts: 1 })((name: string) => {
      if (name !== 'ok') throw named(name)
    })
    f('ok')
    caught(() => f(''))
    caught(() => f('N'.repeat(300)))
    await sink.flush()
    expect([sink.sent, sink.failed]).toEqual([3, 0])
    expect(stored()).toBe(3)
    expect(events.map((e) => (e as ExecutionEvent).error)).toEqual([undefined, 'object', `${'N'.repeat(199)}…`])
  })
})

describe('an error poet cannot read (throwing getters, Proxies with throwing traps)', () => {
  /** An Error whose `prop` getter throws. */
  function withThrowing(prop: string, base: Error = new Error('the real failure')): Error {
    Object.defineProperty(base, prop, {
      get() {
        throw new Error(`${prop} getter`)
      },
    })
    return base
  }
  const trapped = () =>
    new Proxy(new Error('the real failure'), {
      get() {
        throw new Error('get trap')
      },
      getPrototypeOf() {
        throw new Error('getPrototypeOf trap')
      },
    })
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable(new Error('the real failure'), {})
    revoke()
    return proxy
  }

  // What, the error, the policy's retryOn, and the error's name in the event.
  const cases: [string, () => unknown, 'any' | 'transient', string][] = [
    ['a throwing name getter', () => withThrowing('name'), 'any', 'object'],
    ['a throwing message getter (a TypeError, under retryOn transient)', () => withThrowing('message', new TypeError('the real failure')), 'transient', 'TypeError'],
    ['a throwing status getter (under retryOn transient)', () => withThrowing('status'), 'transient', 'Error'],
    ['a throwing headers getter', () => withThrowing('headers'), 'any', 'Error'],
    ['a Proxy with throwing traps', trapped, 'any', 'object'],
    ['a revoked Proxy', revoked, 'any', 'object'],
  ]

  for (const [what, make, retryOn, name] of cases) {
    it(`is rethrown unchanged, and its event emitted, for ${what}: sync and async`, async () => {
      const events = recorded()
      const thrown = make()
      const sync = poet({ attempts: 2, retryOn })(() => {
        throw thrown
      })
      expect(caught(sync)).toBe(thrown)
      const async = poet({ attempts: 2, retryOn, backoff: { initial: 1 } })(async () => {
        throw thrown
      })
      await expect(async()).rejects.toBe(thrown)
      expect(events).toEqual([1, 2].map(() => expect.objectContaining({ outcome: 'error', error: name })))
    })
  }
})

describe('repairs and issues a phase module made of anything (an LLM-written one passes the gate with any shape)', () => {
  it('reach the store as their path, action and rule only, never a value, with the rest of the batch', async () => {
    const { sink, stored } = await collector()
    const events = recorded()
    const f = poet(
      {},
      llmPhases('src/llm.ts#f', (args, ctx) => {
        const value = args[0] as Record<string, unknown>
        ;(ctx.repairs ??= []).push({ path: 'args[0].n', action: 'trimmed', from: value.n, raw: value } as never)
        if (value.n === 'bad') return [{ path: 1n, expected: 'number', received: 'string', rule: { id: 'x' } } as never]
      }, { repair: true }),
    )((o: unknown) => o)
    const cyclic: Record<string, unknown> = { n: 7n }
    cyclic.self = cyclic
    f(cyclic)
    caught(() => f({ n: 'bad' }))
    await sink.flush()
    expect([sink.sent, sink.failed]).toEqual([2, 0])
    expect(stored()).toBe(2)
    expect(events.map((e) => (e as ExecutionEvent).repairs)).toEqual([[{ path: 'args[0].n', action: 'trimmed' }], [{ path: 'args[0].n', action: 'trimmed' }]])
    expect((events[1] as ExecutionEvent).issues).toEqual([{ path: '1' }])
  })
})

describe('input statistics a phase module made of anything', () => {
  it('reach the store as at most 64 finite numbers under names a collector takes, with the rest of the batch', async () => {
    const { sink, stored } = await collector()
    const events = recorded()
    const f = poet(
      {},
      llmPhases('src/llm.ts#stats', (args, ctx) => {
        const st: Record<string, unknown> = { '': 1, ['k'.repeat(101)]: 2, big: 3n, nan: NaN }
        for (let i = 0; i < 70; i++) st[`s${i}`] = i
        ctx.stats = st as Record<string, number>
        return undefined
      }),
    )(() => 0)
    f()
    f()
    await sink.flush()
    expect([sink.sent, sink.failed]).toEqual([2, 0])
    expect(stored()).toBe(2)
    expect(Object.keys((events[0] as ExecutionEvent).stats!)).toEqual(Array.from({ length: 64 }, (_, i) => `s${i}`))
  })
})

describe('a statistic named __proto__', () => {
  it('is kept in the event, as a feedback metric of that name is', () => {
    const events = recorded()
    const f = poet(
      {},
      llmPhases('src/llm.ts#proto', (args, ctx) => {
        // Keys taken from the input (a count per field of a parsed JSON body) may be any string.
        ctx.stats = JSON.parse('{ "__proto__": 1, "n": 2 }') as Record<string, number>
        return undefined
      }),
    )(() => 0)
    f()
    expect(JSON.parse(JSON.stringify((events[0] as ExecutionEvent).stats))).toEqual(JSON.parse('{ "__proto__": 1, "n": 2 }'))
  })
})

describe('feedback about an ExecutionRef that came back from a client', () => {
  it('refuses, where it shows, one no collector would take, and the batch beside it is stored', async () => {
    const { sink, stored } = await collector()
    const f = poet()(() => ({}))
    const ref = executionOf(f())!
    for (const forged of [{ ...ref, executionId: 'x'.repeat(600) }, { ...ref, functionId: '' }, { ...ref, version: 'v'.repeat(65) }]) {
      expect(() => feedback(forged, { score: 1 })).toThrow(TypeError)
    }
    feedback(ref, { score: 1 })
    await sink.flush()
    expect([sink.sent, sink.failed]).toEqual([2, 0])
    expect(stored()).toBe(2)
  })
})

describe('a thrown value that is no Error', () => {
  it('is retried, rethrown as it is, and named by its type in the event (null as null)', async () => {
    const events = recorded()
    const thrown: unknown[] = ['oops', undefined, null, 7n, Symbol('s'), { code: 1 }]
    for (const v of thrown) {
      let calls = 0
      const f = poet({ attempts: 2, backoff: { initial: 1 } })(async () => {
        calls++
        throw v
      })
      await expect(f()).rejects.toBe(v)
      expect(calls).toBe(2)
    }
    expect(events.map((e) => [(e as ExecutionEvent).attempts, (e as ExecutionEvent).error])).toEqual([
      [2, 'string'],
      [2, 'undefined'],
      [2, 'null'],
      [2, 'bigint'],
      [2, 'symbol'],
      [2, 'object'],
    ])
  })
})

describe('a received value no check can read, or name without care', () => {
  const SRC = `interface Opts { n: number; tags: string[]; when: Date }
function f(o: Opts, m: Record<string, number>, s: string, kind: 'a' | 'b'): number { return 0 }
function g(): Opts { return null! }`
  const good = (): unknown[] => [{ n: 1, tags: ['t'], when: new Date() }, { a: 1 }, 's', 'a']
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    return proxy
  }
  const trapped = () =>
    new Proxy({}, {
      get() {
        throw new Error('get trap')
      },
      getPrototypeOf() {
        throw new Error('getPrototypeOf trap')
      },
    })
  const throwingGetter = () => ({
    get n(): number {
      throw new TypeError('lazy field not loaded')
    },
  })

  // What, the argument's position, the value, and the issue the caller must get.
  const cases: [string, number, () => unknown, { path: string; expected: string; received: string }][] = [
    ['a getter that throws', 0, throwingGetter, { path: 'args[0]', expected: 'Opts', received: 'object that threw when read (TypeError: lazy field not loaded)' }],
    ['a Proxy whose traps throw', 0, trapped, { path: 'args[0]', expected: 'Opts', received: 'object that threw when read (Error: get trap)' }],
    ['a Proxy whose traps throw, as a record', 1, trapped, { path: 'args[1]', expected: 'Record<string, number>', received: 'object that threw when read (Error: getPrototypeOf trap)' }],
    ['a revoked Proxy', 0, revoked, { path: 'args[0]', expected: 'Opts', received: 'revoked Proxy' }],
    ['a revoked Proxy, as a record', 1, revoked, { path: 'args[1]', expected: 'Record<string, number>', received: 'revoked Proxy' }],
    ['a revoked Proxy, as a string', 2, revoked, { path: 'args[2]', expected: 'string', received: 'revoked Proxy' }],
    ['a Proxy whose traps throw, as a literal', 3, trapped, { path: 'args[3]', expected: '"a" | "b"', received: 'object' }],
    ['a getter throwing a string of a megabyte', 0, () => ({ get n(): number { throw 'x'.repeat(2 ** 20) } }), { path: 'args[0]', expected: 'Opts', received: `object that threw when read ("${'x'.repeat(98)}…)` }],
  ]

  for (const [what, at, make, issue] of cases) {
    it(`is a PoetInputError that says where and what, for ${what}, and its event reaches the store`, async () => {
      const { sink, stored } = await collector()
      const events = recorded()
      const f = poet({}, await phasesFor(SRC, 'f', { options: { attempts: 1 } }))((..._: unknown[]) => 0)
      const args = good()
      args[at] = make()
      const e = caught(() => f(...args))
      expect(e).toBeInstanceOf(PoetInputError)
      expect((e as PoetInputError).issues).toEqual([issue])
      expect((e as PoetInputError).message.length).toBeLessThan(500)
      await sink.flush()
      expect([sink.sent, sink.failed]).toEqual([1, 0])
      expect(stored()).toBe(1)
      expect(events).toEqual([expect.objectContaining({ outcome: 'input_error', issues: [{ path: issue.path }] })])
    })
  }

  it('is a PoetOutputError that says where and what for a result no check can read, each attempt', async () => {
    const events = recorded()
    let calls = 0
    const g = poet({}, await phasesFor(SRC, 'g', { options: { attempts: 2 } }))(() => {
      calls++
      return throwingGetter()
    })
    const e = caught(() => g())
    expect(e).toBeInstanceOf(PoetOutputError)
    expect((e as PoetOutputError).issues).toEqual([{ path: 'result', expected: 'Opts', received: 'object that threw when read (TypeError: lazy field not loaded)' }])
    expect(calls).toBe(2)
    expect(events).toEqual([expect.objectContaining({ outcome: 'output_error', issues: [{ path: 'result' }] })])
  })

  it('names what it can of values that are rarely met, and takes those of another realm as this one\'s', async () => {
    const f = poet({}, await phasesFor(SRC, 'f', { options: { attempts: 1 } }))((..._: unknown[]) => 0)
    const received = (at: number, v: unknown) => {
      const args = good()
      args[at] = v
      const e = caught(() => f(...args))
      expect(e, `args[${at}]`).toBeInstanceOf(PoetInputError)
      return (e as PoetInputError).issues.map((i) => `${i.path}: ${i.received}`)
    }
    expect(received(1, new Map())).toEqual(['args[1]: Map'])
    expect(received(1, new Set())).toEqual(['args[1]: Set'])
    expect(received(0, 10n)).toEqual(['args[0]: bigint'])
    expect(received(3, 10n)).toEqual(['args[3]: 10n'])
    expect(received(3, Symbol('s'))).toEqual(['args[3]: symbol'])
    expect(received(2, new Uint8Array(2))).toEqual(['args[2]: Uint8Array'])
    expect(received(3, 'x'.repeat(2 ** 20))).toEqual(['args[3]: a string of 1048576 characters'])
    expect(received(2, Object.freeze([1, , 3]))).toEqual(['args[2]: array'])
    const unprintable = { toString: () => { throw new Error('toString') }, [Symbol.toPrimitive]: () => { throw new Error('toPrimitive') } }
    expect(received(2, unprintable)).toEqual(['args[2]: object'])
    expect(received(2, Object.create(null))).toEqual(['args[2]: object'])
    const cyclic: Record<string, unknown> = { n: 1, when: new Date() }
    cyclic.tags = [cyclic]
    expect(received(0, cyclic)).toEqual(['args[0].tags[0]: object'])
    // Array.isArray sees an array of another realm; `instanceof Date` does not see its Date, which is one all the same.
    const other = runInNewContext('({ o: { n: 1, tags: ["t"], when: new Date() }, m: { a: 1 }, bad: { n: "1", tags: {}, when: {} }, map: new Map(), date: new Date(NaN) })') as Record<string, unknown>
    expect(f(other.o, other.m, 's', 'a')).toBe(0)
    expect(received(0, other.bad)).toEqual(['args[0].n: string', 'args[0].tags: object', 'args[0].when: object'])
    // Named as this realm's would be (they read "object").
    expect(received(2, other.map)).toEqual(['args[2]: Map'])
    expect(received(2, other.date)).toEqual(['args[2]: invalid Date'])
  })
})

/** A phase module as an LLM may write it (the verify gate passes any shape): `perceive` is the test's. */
function llmPhases(id: string, perceive: PhaseModule['perceive'], { repair = false } = {}): PhaseModule {
  return {
    id,
    version: 'v1',
    generator: 'llm:test',
    policy: { attempts: 1, timeout: 0, backoff: { initial: 1, max: 5, factor: 2, jitter: true }, retryOn: 'any', repair, sample: 1 },
    perceive,
  }
}
