// The dashboard's endpoints over real HTTP on a real lock and SQLite store: sources, promote, roll back, and every refusal.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDashboard, type DashboardOptions } from '../../src/dashboard/handler'
import { LockStore } from '../../src/generators/lock'
import { createCollector, type Collector } from '../../src/train/collector'
import { readOnly } from '../helpers/project'

const ID = 'src/a.ts#f'
const TOKEN = 'test-token-0123456789'

let dir: string
let lock: LockStore
let collector: Collector
let server: Server
let url: string

async function start(extra: Partial<DashboardOptions> = {}): Promise<void> {
  const dashboard = createDashboard({ base: '/__poet', lockDir: lock.dir, store: collector.store, collector: collector.handle, project: 'p', writable: true, token: TOKEN, ...extra })
  server = createServer((req, res) => dashboard(req, res, () => collector.handle(req, res)))
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function version(v: string, input: string, reason: string, created: string): void {
  lock.write(ID, { version: v, source: `// ${v}\n`, inputHash: input, generator: 'builtin', reason })
  lock.update((l) => (l.functions[ID]!.versions[v]!.created = created))
}

const act = (action: 'promote' | 'rollback', body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/__poet/api/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-poet-token': TOKEN, ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) })

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'poet-dashboard-'))
  lock = new LockStore(join(dir, '.poet'))
  collector = createCollector({ db: join(dir, '.poet/feedback.db'), lockDir: lock.dir, base: '/__poet' })
  version('aaaa', 'in-1', 'build', '2026-01-01T00:00:00.000Z')
  version('bbbb', 'in-2', 'build', '2026-01-02T00:00:00.000Z')
  version('cccc', 'in-2', 'train: error rate up', '2026-01-03T00:00:00.000Z')
  lock.update((l) => (l.functions[ID]!.current = 'bbbb'))
})

afterEach(async () => {
  await new Promise((done) => server?.close(done))
  collector.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('dashboard endpoints', () => {
  it('serve phase sources by version, and 404 naming what is missing', async () => {
    await start()
    expect(await (await fetch(`${url}/__poet/api/source?id=${encodeURIComponent(ID)}&version=cccc`)).text()).toBe('// cccc\n')
    const missing = await fetch(`${url}/__poet/api/source?id=${encodeURIComponent(ID)}&version=zzzz`)
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: string }).error).toContain('"zzzz"')
    expect((await fetch(`${url}/__poet/api/source?id=constructor&version=aaaa`)).status).toBe(404)
  })

  it('list which versions can be promoted: those generated from the current source', async () => {
    await start({ functions: () => ({ [ID]: { domain: 'security' } }) })
    const info = (await (await fetch(`${url}/__poet/api/functions`)).json()) as { functions: Record<string, { domain: string; current: string; promotable: string[] }> }
    expect(info.functions[ID]).toEqual({ domain: 'security', current: 'bbbb', generator: 'builtin', promotable: ['cccc'] })
  })

  it('promote a version of the same source, record the decision, and refuse one of an older source', async () => {
    await start()
    const ok = await act('promote', { id: ID, version: 'cccc' })
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { message: string }).message).toBe(`${ID}: current bbbb → cccc`)
    expect(lock.read().functions[ID]!.current).toBe('cccc')
    expect(collector.store.decisions(ID)).toMatchObject([{ action: 'promote', from: 'bbbb', to: 'cccc', reason: 'promoted from the dashboard' }])

    const older = await act('promote', { id: ID, version: 'aaaa' })
    expect(older.status).toBe(409)
    expect(((await older.json()) as { error: string }).error).toMatch(/another source.*Revert the source/)
    const unknown = await act('promote', { id: ID, version: 'zzzz' })
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: string }).error).toContain('aaaa, bbbb, cccc')
    expect((await act('promote', { id: 'src/nope.ts#g', version: 'aaaa' })).status).toBe(404)
  })

  it('roll back: stop a candidate first, then return to the earlier version of the same source, then refuse', async () => {
    lock.update((l) => {
      l.functions[ID]!.current = 'cccc'
      l.functions[ID]!.candidate = { version: 'bbbb', share: 0.2 }
    })
    await start()
    expect(((await (await act('rollback', { id: ID })).json()) as { message: string }).message).toBe(`${ID}: candidate bbbb stopped; cccc serves every call`)
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
    expect(((await (await act('rollback', { id: ID })).json()) as { message: string }).message).toBe(`${ID}: current cccc → bbbb`)
    const none = await act('rollback', { id: ID })
    expect(none.status).toBe(409)
    expect(((await none.json()) as { error: string }).error).toMatch(/no earlier version of its current source/)
    expect(lock.read().functions[ID]!.current).toBe('bbbb')
  })

  it('say so when promoting another version ends the candidate under test', async () => {
    lock.update((l) => (l.functions[ID]!.candidate = { version: 'cccc', share: 0.2 }))
    version('dddd', 'in-2', 'build', '2026-01-04T00:00:00.000Z')
    lock.update((l) => {
      l.functions[ID]!.current = 'bbbb'
      l.functions[ID]!.candidate = { version: 'cccc', share: 0.2 }
    })
    await start()
    const res = await act('promote', { id: ID, version: 'dddd' })
    expect(((await res.json()) as { message: string }).message).toBe(`${ID}: current bbbb → dddd; the test of candidate cccc ended`)
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
  })

  it('refuse a write made from a stale view: another tab or the trainer moved the lock since the page showed it', async () => {
    lock.update((l) => {
      l.functions[ID]!.current = 'cccc'
      l.functions[ID]!.candidate = { version: 'bbbb', share: 0.2 }
    })
    await start()
    // Two tabs show candidate bbbb under test; both click "Roll back", meaning "stop the candidate".
    const seen = { id: ID, current: 'cccc', candidate: 'bbbb' }
    expect((await act('rollback', seen)).status).toBe(200)
    const second = await act('rollback', seen)
    expect(second.status).toBe(409)
    expect(((await second.json()) as { error: string }).error).toBe(
      `${ID} changed since the page showed it: current cccc, no candidate (the page showed current cccc, candidate bbbb). Nothing was done; check the page again.`,
    )
    // The second click must not have rolled current back to bbbb.
    expect(lock.read().functions[ID]!.current).toBe('cccc')
    const promote = await act('promote', { id: ID, version: 'bbbb', current: 'bbbb', candidate: null })
    expect(promote.status).toBe(409)
    expect(lock.read().functions[ID]!.current).toBe('cccc')
    // A write that states no view (curl, scripts) acts on the lock as it is.
    expect((await act('promote', { id: ID, version: 'bbbb' })).status).toBe(200)
    expect(collector.store.decisions(ID).map((d) => d.action)).toEqual(['rollback', 'promote'])
  })

  it('answer a broken lock.json with 503 and what is wrong, for reads and writes alike', async () => {
    await start()
    writeFileSync(lock.file, '<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> theirs\n')
    const why = `cannot read ${lock.file}: it holds unresolved merge conflict markers (<<<<<<<). Resolve the conflict, or take one side and run \`poet generate\`.`
    for (const res of [
      // A throw there would leave the request unanswered (or, in Vite, to its HTML error page): fail fast instead.
      await fetch(`${url}/__poet/api/functions`, { signal: AbortSignal.timeout(5000) }),
      await fetch(`${url}/__poet/api/source?id=${encodeURIComponent(ID)}&version=bbbb`, { signal: AbortSignal.timeout(5000) }),
      await act('rollback', { id: ID }),
      await act('promote', { id: ID, version: 'cccc' }),
    ]) {
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ error: why })
    }
  })

  it('answer roll back on a lock whose current pointer names a version it does not hold', async () => {
    lock.update((l) => void (l.functions[ID]!.current = 'deadbeef00'))
    await start()
    const res = await act('rollback', { id: ID })
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: string }).error).toBe(
      `the current version of ${ID} in ${lock.file}, deadbeef00, is not among its versions (an edit or a merge lost it): run \`poet rollback ${ID} --to <version>\` to pick one (aaaa, bbbb, cccc)`,
    )
  })

  it('refuse to make current a version whose phase module is missing', async () => {
    await start()
    const file = join(lock.dir, lock.read().functions[ID]!.versions['cccc']!.file)
    rmSync(file)
    const res = await act('promote', { id: ID, version: 'cccc' })
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: string }).error).toBe(
      `cannot make cccc current: its phase module ${file} is missing, so a build could not serve it and would regenerate the phases instead. Restore .poet/ from version control first.`,
    )
    expect(lock.read().functions[ID]!.current).toBe('bbbb')
  })

  it("answer a function's old id, after a rename, naming its new id, and change nothing (a page opened before the rename, a script)", async () => {
    const renamed = 'src/b.ts#g'
    // What a rename leaves in the lock: the same entry under the new id, recording the old one.
    lock.update((l) => {
      l.functions[renamed] = { ...l.functions[ID]!, formerIds: [ID], renamed: new Date().toISOString() }
      delete l.functions[ID]
    })
    const before = readFileSync(lock.file, 'utf8')
    await start()
    const seen = { current: 'bbbb', candidate: null }
    for (const [action, body] of [['promote', { id: ID, version: 'cccc', ...seen }], ['rollback', { id: ID, ...seen }]] as const) {
      const res = await act(action, body)
      expect(res.status).toBe(404)
      expect(((await res.json()) as { error: string }).error).toBe(
        `no function "${ID}" in ${lock.file}. It was renamed or moved: its entry is ${renamed} now. Nothing was done: reload the dashboard to act on it under its new id.`,
      )
    }
    expect(readFileSync(lock.file, 'utf8')).toBe(before)
    expect(collector.store.decisions(renamed)).toEqual([])
    // An id that never was a function's is still plainly unknown.
    expect(((await (await act('rollback', { id: 'src/nope.ts#g' })).json()) as { error: string }).error).toBe(`no function "src/nope.ts#g" in ${lock.file}`)
    // Under its new id, the same click works.
    expect((await act('promote', { id: renamed, version: 'cccc', ...seen })).status).toBe(200)
  })

  it('refuse malformed writes with the reason', async () => {
    await start()
    expect((await fetch(`${url}/__poet/api/promote`)).status).toBe(405)
    expect((await act('promote', { id: ID })).status).toBe(400)
    const text = await fetch(`${url}/__poet/api/promote`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-poet-token': TOKEN }, body: '{}' })
    expect(text.status).toBe(415)
    const broken = await fetch(`${url}/__poet/api/promote`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-poet-token': TOKEN }, body: '{' })
    expect(broken.status).toBe(400)
    for (const id of ['constructor', '__proto__']) {
      expect((await act('rollback', { id })).status).toBe(404)
      expect((await act('promote', { id, version: 'aaaa' })).status).toBe(404)
      // A version named like what every object has is no version either, not one "of another source".
      const version = await act('promote', { id: ID, version: id })
      expect(version.status).toBe(404)
      expect(((await version.json()) as { error: string }).error).toBe(`${ID} has no version "${id}"; it has aaaa, bbbb, cccc`)
    }
    expect(lock.read().functions[ID]!.current).toBe('bbbb')
  })

  it('read-only (poet serve): writes are refused, and reads need the bearer token when one is set', async () => {
    await start({ writable: false, readToken: 'secret' })
    const write = await act('rollback', { id: ID })
    expect(write.status).toBe(403)
    expect((await fetch(`${url}/__poet/api/functions`)).status).toBe(401)
    expect((await fetch(`${url}/__poet/api/functions`, { headers: { authorization: 'Bearer secret' } })).status).toBe(200)
    const html = await (await fetch(`${url}/__poet/`)).text()
    expect(html).not.toContain(TOKEN)
    expect(html).toContain('"writable":false')
  })
})

describe('dashboard writes on a read-only .poet/', () => {
  it('answer 503 naming .poet/ and why, record no decision, and leave the lock as it was', async () => {
    lock.update((l) => (l.functions[ID]!.current = 'cccc'))
    // The store elsewhere, as with a writable store beside a read-only checkout: only the lock refuses writes.
    collector.close()
    collector = createCollector({ db: join(dir, 'feedback.db'), lockDir: lock.dir, base: '/__poet' })
    await start()
    const before = readFileSync(lock.file, 'utf8')
    const writable = readOnly(lock.dir)
    try {
      for (const [action, body] of [
        ['promote', { id: ID, version: 'bbbb' }],
        ['rollback', { id: ID }],
      ] as const) {
        const r = await act(action, body)
        expect(r.status).toBe(503)
        expect(((await r.json()) as { error: string }).error).toMatch(
          new RegExp(`^cannot write ${lock.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/: (read-only file system|permission denied), so nothing was changed\\. Make it writable and try again, or do this in a writable checkout and commit \\.poet/\\.$`),
        )
      }
      // What needs no write is answered as on a writable lock.
      const current = await act('promote', { id: ID, version: 'cccc' })
      expect(current.status).toBe(200)
      expect(((await current.json()) as { message: string }).message).toBe(`${ID} already serves cccc`)
      const older = await act('promote', { id: ID, version: 'aaaa' })
      expect(older.status).toBe(409)
    } finally {
      writable()
    }
    expect(readFileSync(lock.file, 'utf8')).toBe(before)
    expect(collector.store.decisions(ID)).toEqual([])
  })
})
