// The dashboard of `vite dev` when `.poet/` stops taking writes (a read-only mount, another user's checkout): its
// promote and roll back answer with a status and a message the page shows, over real HTTP.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import { readOnly } from '../helpers/project'
import { startDevApp, type DevApp } from './app'

const ID = 'src/sensor.ts#normalize'
let app: DevApp

beforeAll(async () => {
  app = await startDevApp('dev-readonly')
})

afterAll(async () => {
  await app?.close()
})

describe('vite dev on a read-only .poet/', () => {
  it('answers promote and roll back with 503 naming .poet/ and why; the lock stays as it was', async () => {
    const lock = new LockStore(join(app.dir, '.poet'))
    lock.write(ID, { version: 'base0001', source: '// base\n', inputHash: 'h', generator: 'builtin' })
    lock.write(ID, { version: 'cand0001', source: '// candidate\n', inputHash: 'h', generator: 'builtin', reason: 'train: test' })
    lock.update((l) => {
      l.functions[ID]!.current = 'base0001'
      l.functions[ID]!.candidate = { version: 'cand0001', share: 0.2 }
    })
    const html = await (await fetch(`${app.url}/__poet/`)).text()
    const token = (JSON.parse(/<script id="poet-config" type="application\/json">(.*?)<\/script>/.exec(html)![1]!) as { token: string }).token
    const before = app.read('.poet/lock.json')
    const post = (action: string, body: unknown) =>
      fetch(`${app.url}/__poet/api/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-poet-token': token }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) })
    const writable = readOnly(lock.dir)
    try {
      for (const [action, body] of [
        ['rollback', { id: ID }],
        ['promote', { id: ID, version: 'cand0001' }],
      ] as const) {
        const r = await post(action, body)
        expect(r.status).toBe(503)
        expect(((await r.json()) as { error: string }).error).toMatch(/^cannot write .+\/\.poet\/: (read-only file system|permission denied), so nothing was changed\. Make it writable and try again, or do this in a writable checkout and commit \.poet\/\.$/)
      }
    } finally {
      writable()
    }
    expect(app.read('.poet/lock.json')).toBe(before)
  })
})
