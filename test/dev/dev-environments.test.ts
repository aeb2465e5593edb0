// Vite dev environments beyond the page: SSR and a custom environment swapping phases together, and where SSR code and an environment whose runner runs outside the dev server's process send their events.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RunnableDevEnvironment } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { workerEnvironment, type WorkerEnvironment } from '../helpers/worker-environment'
import { FILES, startDevApp, until, type DevApp } from './app'

const ID = 'src/sensor.ts#normalize'

async function calls(app: DevApp): Promise<number> {
  const { functions } = (await (await fetch(`${app.url}/__poet/v1/functions?window=1h`)).json()) as { functions: { id: string; calls: number }[] }
  return functions.filter((f) => f.id === ID).reduce((sum, f) => sum + f.calls, 0)
}

describe('vite dev with SSR and a custom edge environment beside the page', () => {
  let app: DevApp

  beforeAll(async () => {
    app = await startDevApp('dev-env-edge', FILES, undefined, {
      environments: { edge: { resolve: { conditions: ['worker', 'browser'], noExternal: true } } },
    })
  })
  afterAll(async () => {
    await app?.close()
  })

  it("swaps a type change of the function's own source into every environment holding it, none left stale", async () => {
    type Sensor = { normalize(r: unknown): number }
    const ssr = (await (app.server.environments.ssr as RunnableDevEnvironment).runner.import('/src/sensor.ts')) as Sensor
    const edge = (await (app.server.environments.edge as RunnableDevEnvironment).runner.import('/src/sensor.ts')) as Sensor
    const client = app.server.environments.client
    await client.transformRequest('/src/sensor.ts')
    const phases = 'virtual:poet/src~2fsensor.ts~23normalize'
    expect((await client.transformRequest(phases))?.code).not.toContain('kelvin')
    for (const sensor of [ssr, edge]) expect(() => sensor.normalize({ kelvin: 300 })).toThrow('args[0]')

    app.write('src/sensor.ts', app.read('src/sensor.ts').replace('(r: Reading)', '(r: Reading | { kelvin: number })'))
    // The modules imported before the edit: their functions now run the new phases.
    const kelvin = async (sensor: Sensor) => {
      try {
        return sensor.normalize({ kelvin: 300 })
      } catch {
        return undefined
      }
    }
    for (const sensor of [ssr, edge]) expect(await until(() => kelvin(sensor), (v) => v !== undefined)).toBeCloseTo(26.85)
    const loaded = (await app.server.ssrLoadModule('/src/sensor.ts')) as Sensor
    expect(loaded.normalize({ kelvin: 300 })).toBeCloseTo(26.85)
    expect((await client.transformRequest(phases))?.code).toContain('kelvin')
  })
})

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

describe('vite dev with feedback.endpoint set', () => {
  let app: DevApp
  let collector: Server
  const received: { kind: string; functionId: string }[] = []

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        received.push(...(JSON.parse(body) as typeof received))
        res.writeHead(202).end()
      })
    })
    await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done))
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/events`
    app = await startDevApp('dev-env-endpoint', FILES, { feedback: { endpoint } })
  })
  afterAll(async () => {
    await app?.close()
    await new Promise((done) => collector?.close(done))
  })

  it('sends the events of SSR code there too, as the README says of every dev event, and leaves the dev store empty', async () => {
    const ssr = (await (app.server.environments.ssr as RunnableDevEnvironment).runner.import('/src/sensor.ts')) as { normalize(r: unknown): number }
    expect(ssr.normalize({ value: 3, unit: 'C' })).toBe(3)
    expect(() => ssr.normalize({ value: '3', unit: 'C' })).toThrow('args[0].value: expected number, received string')
    expect((await until(async () => received.length, (n) => n >= 2)) >= 2, 'the endpoint received no event').toBe(true)
    expect(received.map((e) => [e.kind, e.functionId])).toEqual([
      ['execution', ID],
      ['execution', ID],
    ])
    expect(await calls(app)).toBe(0)
  })
})
