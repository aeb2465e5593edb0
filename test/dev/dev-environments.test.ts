// Vite dev environments beyond client and ssr: a custom environment whose runner runs outside the dev server's process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { workerEnvironment, type WorkerEnvironment } from '../helpers/worker-environment'
import { FILES, startDevApp, type DevApp } from './app'

const ID = 'src/sensor.ts#normalize'

async function calls(app: DevApp): Promise<number> {
  const { functions } = (await (await fetch(`${app.url}/__poet/v1/functions?window=1h`)).json()) as { functions: { id: string; calls: number }[] }
  return functions.filter((f) => f.id === ID).reduce((sum, f) => sum + f.calls, 0)
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeout = 15_000): Promise<T> {
  const end = Date.now() + timeout
  for (;;) {
    const v = await read()
    if (ok(v) || Date.now() > end) return v
    await new Promise((done) => setTimeout(done, 150))
  }
}

describe('vite dev, an environment whose runner is in a worker thread (as workerd or a child process would be)', () => {
  let app: DevApp
  let worker: WorkerEnvironment

  beforeAll(async () => {
    worker = workerEnvironment()
    app = await startDevApp('dev-env-worker', FILES, undefined, {
      environments: { worker: { resolve: { noExternal: true }, dev: { createEnvironment: worker.createEnvironment } } },
    })
  })
  afterAll(async () => {
    await worker?.close()
    await app?.close()
  })

  it('validates with the generated phases, and its events reach the dev server: the runtime there is pointed at its address', async () => {
    const answer = await worker.call('/src/sensor.ts', 'normalize', [{ value: '3', unit: 'C' }])
    expect(answer.failed).toBeUndefined()
    expect(answer.error).toBe('PoetInputError')
    expect(answer.message).toContain('args[0].value: expected number, received string')
    expect((await worker.call('/src/sensor.ts', 'normalize', [{ value: 3, unit: 'C' }])).value).toBe(3)
    // Without the dev server's address, the relative /__poet/events meant nothing there: "httpSink needs an absolute
    // url outside a browser", and every event was dropped.
    expect(await until(() => calls(app), (n) => n >= 2)).toBe(2)
    expect((await worker.call('/src/sensor.ts', 'normalize', [{ value: 1, unit: 'C' }])).warnings).toEqual([])
  })
})
