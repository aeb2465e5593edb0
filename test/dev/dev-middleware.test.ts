// The dev server in middleware mode (a framework's own HTTP server in front of Vite): events are taken, and close() releases the store.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'vite'
import { afterEach, expect, it } from 'vitest'
import poet from '../../src/vite'
import { FeedbackStore } from '../../src/train/store'
import { feedback, lockWith } from '../train/helpers'

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
