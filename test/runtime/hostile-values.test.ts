// Hostile and unusual run-time values through the whole call path: a real generated phase module, the engine, a real
// httpSink and a real `poet serve`. The caller gets a clear error (poet's, or the one its own code threw), and the
// event of every call reaches the store, with the rest of its batch.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { configure, executionOf, feedback, httpSink, onEvent, poet, PoetInputError, type ExecutionEvent, type PhaseModule, type PoetEvent } from '../../src/runtime/index'
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
