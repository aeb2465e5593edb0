import { afterEach, describe, expect, it } from 'vitest'
import { configure, httpSink, poet, type PoetEvent } from '../../src/runtime/index'
import { startServer } from './sinks/server'

afterEach(() => configure({ sink: false, sample: 1 }))

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('configure', () => {
  it('delivers a burst of events to a function sink as one batch, after the calls returned', async () => {
    const batches: PoetEvent[][] = []
    configure({ sink: (events) => void batches.push(events) })
    const f = poet()((x: number) => x)
    f(1)
    f(2)
    f(3)
    expect(batches).toEqual([])
    await tick()
    expect(batches).toHaveLength(1)
    expect(batches[0].map((e) => e.kind)).toEqual(['execution', 'execution', 'execution'])
  })

  it('replaces earlier sinks, and sink: false removes them', async () => {
    const a: PoetEvent[] = []
    const b: PoetEvent[] = []
    configure({ sink: (e) => void a.push(...e) })
    configure({ sink: [(e) => void b.push(...e)] })
    poet()(() => 1)()
    await tick()
    expect([a.length, b.length]).toEqual([0, 1])
    configure({ sink: false })
    poet()(() => 1)()
    await tick()
    expect(b.length).toBe(1)
  })

  it('applies a global sample on top of each function', async () => {
    let n = 0
    configure({ sink: (e) => void (n += e.length), sample: 0.25 })
    const f = poet({ sample: 0.5 })(() => 1)
    for (let i = 0; i < 8000; i++) f()
    await tick()
    // 8000 × 0.5 × 0.25 = 1000
    expect(n).toBeGreaterThan(850)
    expect(n).toBeLessThan(1150)
    expect(() => configure({ sample: 2 })).toThrow('poet: configure sample must be between 0 and 1, got 2')
  })

  it('keeps calls working when a sink throws or rejects, with no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (r: unknown) => unhandled.push(r)
    process.on('unhandledRejection', onUnhandled)
    try {
      const good: PoetEvent[] = []
      configure({
        sink: [
          () => {
            throw new Error('sink bug')
          },
          () => Promise.reject(new Error('sink down')),
          (e) => void good.push(...e),
        ],
      })
      expect(poet()(() => 'still fine')()).toBe('still fine')
      await new Promise((r) => setTimeout(r, 20))
      expect(good).toHaveLength(1)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('closes the httpSinks it replaces: their events still go out, and their process listeners do not pile up', async () => {
    const server = await startServer()
    try {
      const before = process.listenerCount('beforeExit')
      const f = poet()(function work(x: number) {
        return x
      })
      // A module that configures its sink, run again on every edit (HMR) or per request.
      for (let i = 0; i < 12; i++) {
        configure({ sink: httpSink({ url: `${server.url}/v1/events`, interval: 60_000 }) })
        f(i)
      }
      configure({ sink: false })
      const received = () => server.received.flatMap((r) => JSON.parse(r.body) as PoetEvent[]).length
      await until(() => received() >= 12 && process.listenerCount('beforeExit') === before)
      expect(process.listenerCount('beforeExit')).toBe(before)
      expect(received()).toBe(12)

      // Configured again after configure closed it, a sink follows the process again, so its events still leave at exit.
      const again = httpSink({ url: `${server.url}/v1/events`, interval: 60_000 })
      configure({ sink: again })
      configure({ sink: false })
      configure({ sink: again })
      f(99)
      await new Promise((r) => setTimeout(r, 0))
      expect(process.listenerCount('beforeExit')).toBe(before + 1)
      configure({ sink: false })
      await until(() => process.listenerCount('beforeExit') === before)
      expect(process.listenerCount('beforeExit')).toBe(before)
    } finally {
      await server.close()
    }
  })
})

/** Waits until `done()` holds (a loaded machine answers late), for at most 10 s; the assertions after it say what failed. */
async function until(done: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20))
}
