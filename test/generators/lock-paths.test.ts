// A lock.json (committed, merged, edited by hand) whose entries name files outside .poet/phases/: nothing poet does reads or removes them.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main'
import { createDashboard } from '../../src/dashboard/handler'
import { LockStore, type LockFile } from '../../src/generators/lock'
import { createCollector, type Collector } from '../../src/train/collector'
import { createProject, type Project } from '../helpers/project'

const GONE = 'src/gone.ts#gone'
const SECRET = 'API_KEY=do-not-serve-me\n'

let project: Project | undefined
let dir: string | undefined
let server: Server | undefined
let collector: Collector | undefined
afterEach(async () => {
  await new Promise((done) => (server ? server.close(done) : done(undefined)))
  collector?.close()
  project?.remove()
  if (dir) rmSync(dir, { recursive: true, force: true })
  project = dir = server = collector = undefined
})

/** A lock whose entry for `id` names `file` (and `variants`) as its phase module, as a hand edit or a hostile change could. */
function pointAt(lock: LockStore, id: string, file: string, variants?: string): string {
  lock.write(id, { version: 'aaaa000001', source: '// phases\n', inputHash: 'in-1', generator: 'builtin', reason: 'build' })
  const l = JSON.parse(readFileSync(lock.file, 'utf8')) as LockFile
  const v = l.functions[id]!.versions.aaaa000001!
  v.file = file
  if (variants) v.variants = { file: variants, names: ['x'] }
  writeFileSync(lock.file, JSON.stringify(l, null, 2))
  return 'aaaa000001'
}

/** A project holding one sound poet function, so that generate reaches the orphans of the lock. */
function cleanProject(): Project {
  const p = createProject('lock-paths')
  rmSync(p.path('src'), { recursive: true, force: true })
  p.write('src/double.ts', `import { poet } from 'unplugin-poet/runtime'\n\nexport const double = poet()(function double(n: number): number {\n  return n * 2\n})\n`)
  return p
}

async function poet(p: Project, argv: string[]) {
  const err: string[] = []
  const code = await main(argv, { out: () => {}, err: (l) => err.push(l), cwd: p.dir, tty: false, env: {}, write: () => {} })
  return { code, err: err.join('\n') }
}

describe('lock entries naming files outside .poet/phases/', () => {
  for (const [label, file, variants] of [
    ['a path up out of the project', '../victim.txt', undefined],
    ['a path to a project file', '../src/victim.txt', undefined],
    ['an absolute path', '/VICTIM', undefined],
    ['a variants file up out of .poet', 'phases/gone.js', '../victim.txt'],
  ] as const) {
    it(`poet generate removes no file an orphan entry names (${label}), and says what is wrong with the lock`, async () => {
      project = cleanProject()
      const victim = file === '/VICTIM' ? join(project.dir, 'victim.txt') : project.path('src/victim.txt')
      const named = file === '/VICTIM' ? victim : variants ? variants : file
      const victimFile = file === '../victim.txt' || variants ? project.path('victim.txt') : victim
      writeFileSync(victimFile, SECRET)
      const lock = new LockStore(project.lockDir)
      pointAt(lock, GONE, file === '/VICTIM' ? victim : file, variants)
      const r = await poet(project, ['generate'])
      expect(existsSync(victimFile)).toBe(true)
      expect(r.code).toBe(1)
      expect(r.err).toContain(GONE)
      expect(r.err).toContain(JSON.stringify(named))
      expect(r.err).toContain('phases/')
    })
  }

  it("poet serve's dashboard serves no file outside .poet/phases/ as a phase source", async () => {
    dir = mkdtempSync(join(tmpdir(), 'poet-lock-paths-'))
    writeFileSync(join(dir, '.env'), SECRET)
    const lock = new LockStore(join(dir, '.poet'))
    const version = pointAt(lock, GONE, '../.env')
    collector = createCollector({ db: join(dir, 'feedback.db'), lockDir: lock.dir })
    const dashboard = createDashboard({ base: '', lockDir: lock.dir, store: collector.store, collector: collector.handle, project: 'p', writable: false })
    server = createServer((req, res) => dashboard(req, res, () => collector!.handle(req, res)))
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const res = await fetch(`${url}/api/source?id=${encodeURIComponent(GONE)}&version=${version}`, { signal: AbortSignal.timeout(5000) })
    const body = await res.text()
    expect(body).not.toContain('do-not-serve-me')
    expect(res.status).toBe(503)
    expect(body).toContain('outside')
  })
})
