// The dev server in middleware mode (a framework's own HTTP server in front of Vite) and environments run outside its process: events are taken, and close() releases the store.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type InlineConfig, type ViteDevServer } from 'vite'
import { afterEach, describe, expect, it } from 'vitest'
import poet from '../../src/vite'
import { FeedbackStore } from '../../src/train/store'
import { feedback, lockWith } from '../train/helpers'
import { workerEnvironment } from '../helpers/worker-environment'
import { distPlugin, FILES, launchChromium, until, writeApp } from './app'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A Vite dev server in middleware mode behind a plain HTTP server, and a way to post one event to its endpoint. */
async function middlewareServer(project?: string) {
  const dir = project ?? mkdtempSync(join(tmpdir(), 'poet-dev-mw-'))
  if (!project) dirs.push(dir)
  writeFileSync(join(dir, 'package.json'), '{"name":"mw","type":"module"}')
  const vite = await createServer({ root: dir, configFile: false, logLevel: 'silent', server: { middlewareMode: true }, plugins: [poet()] })
  // Through a closure: a restart swaps vite.middlewares for the new server's.
  const http = createHttpServer((req, res) => vite.middlewares(req, res))
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', done))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/__poet/events`
  const post = (executionId: string) =>
    fetch(url, { method: 'POST', body: JSON.stringify([{ v: 1, kind: 'execution', functionId: 'src/a.ts#f', version: 'v1', executionId, ts: Date.now(), duration: 1, outcome: 'ok', attempts: 1 }]) })
  const close = async () => {
    await vite.close()
    await new Promise((done) => http.close(done))
  }
  return { dir, vite, post, close }
}

const devSink = () => (globalThis as Record<symbol, unknown>)[Symbol.for('unplugin-poet.dev-sink')]
/** SQLite removes the write-ahead log when its last connection closes: the store is released. */
const released = (dir: string) => !existsSync(join(dir, '.poet', 'feedback.db-wal')) && devSink() === undefined

it('closes the feedback store and lets go of the in-process sink when a middleware-mode server closes', async () => {
  const { dir, post, close } = await middlewareServer()
  try {
    expect((await post('e1')).status).toBe(202)
    expect(existsSync(join(dir, '.poet', 'feedback.db-wal'))).toBe(true)
    expect(devSink()).toBeTypeOf('function')
  } finally {
    await close()
  }
  expect(released(dir)).toBe(true)
})

it('keeps taking events after a restart (the plugin object is reused), and releases the store when closed', async () => {
  const { dir, vite, post, close } = await middlewareServer()
  try {
    expect((await post('e1')).status).toBe(202)
    await vite.restart()
    expect((await post('e2')).status).toBe(202)
    expect(devSink()).toBeTypeOf('function')
  } finally {
    await close()
  }
  expect(released(dir)).toBe(true)
})

it('answers 503 with Retry-After at /__poet/events while lock.json has merge conflicts, and takes the same batch once resolved', async () => {
  const { dir, post, close } = await middlewareServer()
  const lock = join(dir, '.poet', 'lock.json')
  try {
    mkdirSync(join(dir, '.poet'), { recursive: true })
    writeFileSync(lock, '{\n<<<<<<< HEAD\n  "lockfileVersion": 1,\n=======\n  "lockfileVersion": 1,\n>>>>>>> feature\n  "functions": {}\n}\n')
    const refused = await post('e1')
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('10')
    expect((await refused.json()).error).toContain(`poet: cannot read ${lock}: it holds unresolved merge conflict markers`)
    writeFileSync(lock, '{ "lockfileVersion": 1, "functions": {} }\n')
    expect((await post('e1')).status).toBe(202)
  } finally {
    await close()
  }
})

it("drops what a domain forbids from events the server's own runtime hands over in-process, as from events posted over HTTP", async () => {
  const { dir, close } = await middlewareServer()
  try {
    // A server rating, by its ref, a result the browser computed: this process never ran triage, so its runtime cannot know.
    const vitals = lockWith(join(dir, '.poet'), 'src/vitals.ts#triage', { neverInEvents: ['stats', 'comment', 'label'] })
    // It resolves once the batch is committed (with the posted ones, in the collector's group commit).
    const sink = devSink() as (events: unknown[]) => Promise<void>
    await sink([feedback({ functionId: 'src/vitals.ts#triage', version: vitals.version, label: 'tachycardia', comment: 'patient Jane Doe, bed 4' })])
    const store = new FeedbackStore(join(dir, '.poet', 'feedback.db'))
    try {
      expect(store.count('feedback')).toBe(1)
      expect(store.comments('src/vitals.ts#triage', vitals.version)).toEqual([])
    } finally {
      store.close()
    }
  } finally {
    await close()
  }
})

it('keeps the event store out of git: .poet/.gitignore names it, and one the user wrote is left as it is', async () => {
  const { dir, post, close } = await middlewareServer()
  try {
    expect((await post('git-1')).status).toBe(202)
    execFileSync('git', ['init', '-q'], { cwd: dir })
    writeFileSync(join(dir, '.poet', 'lock.json'), '{ "lockfileVersion": 1, "functions": {} }\n')
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' })
    expect(status).toContain('.poet/lock.json')
    expect(status).toContain('.poet/.gitignore')
    expect(status).not.toContain('feedback.db')
  } finally {
    await close()
  }
  const own = '# mine\n*.db\n'
  writeFileSync(join(dir, '.poet', '.gitignore'), own)
  const again = await middlewareServer(dir)
  expect((await again.post('git-2')).status).toBe(202)
  await again.close()
  expect(readFileSync(join(dir, '.poet', '.gitignore'), 'utf8')).toBe(own)
})

describe('an environment whose runner is outside the process (a worker thread, as workerd), its events reaching the collector', () => {
  const ID = 'src/sensor.ts#normalize'
  const started: { close(): Promise<void> }[] = []
  afterEach(async () => {
    for (const s of started.splice(0).reverse()) await s.close()
  })

  /** The fixture app on a Vite dev server with a `worker` environment (`config` adds to it), closed after the test. */
  async function viteWithWorker(name: string, config: InlineConfig) {
    const worker = workerEnvironment()
    const { dir } = writeApp(name, FILES)
    started.push({ close: async () => rmSync(dir, { recursive: true, force: true }) }, worker)
    const vite = await createServer({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      plugins: [await distPlugin()],
      environments: { worker: { resolve: { noExternal: true }, dev: { createEnvironment: worker.createEnvironment } } },
      ...config,
    })
    started.push(vite)
    return { vite, worker }
  }

  async function calls(origin: string): Promise<number> {
    const { functions } = (await (await fetch(`${origin}/__poet/v1/functions?window=1h`)).json()) as { functions: { id: string; calls: number }[] }
    return functions.filter((f) => f.id === ID).reduce((sum, f) => sum + f.calls, 0)
  }

  it("in middleware mode, behind the user's own HTTP server: the page's events and the worker's arrive", async () => {
    const { vite, worker } = await viteWithWorker('dev-mw-worker', { server: { middlewareMode: true } })
    const http = createHttpServer((req, res) => vite.middlewares(req, res, () => res.writeHead(404).end()))
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done))
    started.push({ close: () => new Promise<void>((done) => http.close(() => done())) })
    const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    const browser = await launchChromium()
    started.push(browser)
    const page = await browser.newPage()
    await page.goto(origin)
    await page.waitForSelector('body[data-ready="1"]')
    expect(await page.evaluate(() => (window as unknown as { app: { call(i: unknown): unknown } }).app.call({ value: 3, unit: 'C' }))).toEqual({ ok: 3 })
    expect(await until(() => calls(origin), (n) => n >= 1), "the page's event did not arrive").toBe(1)

    const answer = await worker.call('/src/sensor.ts', 'normalize', [{ value: 4, unit: 'C' }])
    expect(answer.failed).toBeUndefined()
    expect(answer.value).toBe(4)
    expect(await until(() => calls(origin), (n) => n >= 2), "the worker's event did not arrive").toBe(2)
    expect((await worker.call('/src/sensor.ts', 'normalize', [{ value: 5, unit: 'C' }])).warnings).toEqual([])
  })

  it('in middleware mode, run before any request reached the middlewares: server.origin says where the collector is', async () => {
    let vite: ViteDevServer | undefined
    const http = createHttpServer((req, res) => (vite ? vite.middlewares(req, res, () => res.writeHead(404).end()) : res.writeHead(503).end()))
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done))
    started.push({ close: () => new Promise<void>((done) => http.close(() => done())) })
    const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    const made = await viteWithWorker('dev-mw-origin', { server: { middlewareMode: true, origin } })
    vite = made.vite
    const answer = await made.worker.call('/src/sensor.ts', 'normalize', [{ value: 4, unit: 'C' }])
    expect(answer.failed).toBeUndefined()
    expect(answer.value).toBe(4)
    expect(await until(() => calls(origin), (n) => n >= 1), "the worker's event did not arrive").toBe(1)
    expect((await made.worker.call('/src/sensor.ts', 'normalize', [{ value: 5, unit: 'C' }])).warnings).toEqual([])
  })

  it('transformed before the server listened (warmup at startup): the worker still posts to the address it listens on', async () => {
    const { vite, worker } = await viteWithWorker('dev-early-worker', { server: { host: '127.0.0.1', port: 0 } })
    // What `dev.warmup` does at startup: the dev client's code is made, and kept, before there is an address to put in it.
    await vite.environments.worker!.transformRequest('/src/sensor.ts')
    await vite.environments.worker!.transformRequest('virtual:poet/~~dev')
    await vite.listen()
    const origin = `http://127.0.0.1:${(vite.httpServer!.address() as AddressInfo).port}`
    const answer = await worker.call('/src/sensor.ts', 'normalize', [{ value: 4, unit: 'C' }])
    expect(answer.failed).toBeUndefined()
    expect(answer.value).toBe(4)
    expect(await until(() => calls(origin), (n) => n >= 1), "the worker's event did not arrive").toBe(1)
    expect((await worker.call('/src/sensor.ts', 'normalize', [{ value: 5, unit: 'C' }])).warnings).toEqual([])
  })
})
