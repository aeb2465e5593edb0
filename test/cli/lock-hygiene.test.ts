// The lock over months of edits: entries of deleted functions, renamed and moved functions, and modules that re-export
// or wrap poet, as `poet status`, `poet generate` (the built bin, in a child process) and real builds see them.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { scanProject } from '../../src/cli/project'
import { generateBuiltin } from '../../src/generators/builtin'
import { inputHash, LockStore, type LockFile } from '../../src/generators/lock'
import { renderPhaseModule } from '../../src/generators/render'
import { resolveOptions } from '../../src/plugin/options'
import { readPolicy, withPolicy } from '../../src/train/candidate'
import { serve } from '../../src/train/collector'
import { FeedbackStore } from '../../src/train/store'
import { applyTraining, planTraining } from '../../src/train/trainer'
import { build, createProject, loadPlugin, PACKAGE_ROOT, run, viteDevServer, type Project } from '../helpers/project'
import { execution, feedback } from '../train/helpers'
import { reply, startOpenAIServer, type OpenAIServer } from '../helpers/openai-server'
import { goodReply, scaleSource } from '../generators/verify/fixture'

let project: Project | undefined
let server: OpenAIServer | undefined
afterEach(async () => {
  project?.remove()
  await server?.close()
  project = server = undefined
})

const DOUBLE = `import { poet } from 'unplugin-poet/runtime'\n\nexport const double = poet()(function double(n: number): number {\n  return n * 2\n})\n`
const HALF = `import { poet } from 'unplugin-poet/runtime'\n\nexport const half = poet()(function half(n: number): number {\n  return n / 2\n})\n`

/** A fresh project (the package linked in) holding exactly `files`. */
function fixture(name: string, files: Record<string, string>): Project {
  project = createProject(`lock-hygiene-${name}`)
  for (const f of readdirSync(project.path('src'))) rmSync(project.path(`src/${f}`))
  for (const [file, code] of Object.entries(files)) project.write(file, code)
  return project
}

/** The built `poet` bin as a child process: its real exit code, stdout and stderr. */
function poet(p: Project, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.mjs'), ...argv], { cwd: p.dir, env: { ...process.env, CI: '', OPENAI_API_KEY: 'k' } }).then(
    (ok) => ({ code: 0, ...ok }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  )
}

const lockOf = (p: Project) => JSON.parse(p.read('.poet/lock.json')) as LockFile
const phaseFiles = (p: Project) => readdirSync(join(p.lockDir, 'phases')).sort()

/** Points the project at a scripted OpenAI-compatible server that answers every request with verified phases. */
async function withLlm(p: Project): Promise<OpenAIServer> {
  server = await startOpenAIServer(() => reply.json(goodReply))
  p.write('poet.config.json', JSON.stringify({ generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL } }))
  return server
}

/** A project whose functions the scripted LLM generated: what a test does next must not ask it again (`asked` so far). */
async function generatedWithLlm(name: string, files: Record<string, string>) {
  const p = fixture(name, files)
  const llm = await withLlm(p)
  expect((await poet(p, ['generate'])).code).toBe(0)
  return { p, llm, asked: llm.requests.length, old: lockOf(p).functions['src/scale.ts#scale']! }
}

describe('entries of deleted functions', () => {
  it('`poet status` lists them, `--check` fails on them, and `poet generate` removes them with their phase modules', async () => {
    const p = fixture('deleted', { 'src/double.ts': DOUBLE, 'src/half.ts': HALF })
    expect((await poet(p, ['generate'])).code).toBe(0)
    const halfFile = lockOf(p).functions['src/half.ts#half']!.versions[lockOf(p).functions['src/half.ts#half']!.current]!.file
    rmSync(p.path('src/half.ts'))

    const status = await poet(p, ['status'])
    expect(status.stdout).toContain('\nIn the lock but no longer in the source: src/half.ts#half. `poet generate` removes its entry.\n')
    const json = JSON.parse((await poet(p, ['status', '--json'])).stdout) as { orphans: string[]; orphansKept: string[] }
    expect(json).toMatchObject({ orphans: ['src/half.ts#half'], orphansKept: [] })

    const check = await poet(p, ['generate', '--check'])
    expect(check).toMatchObject({
      code: 1,
      stdout: 'orphan   src/half.ts#half  (no longer in the source: `poet generate` removes its entry)\n',
      stderr: 'poet generate --check: 1 entry of functions no longer in the source in .poet/lock.json. Run `poet generate` and commit the lock.\n',
    })

    const generate = await poet(p, ['generate'])
    expect(generate).toMatchObject({ code: 0, stderr: '' })
    expect(generate.stdout).toBe(
      'Removed the lock entry of 1 function no longer in the source: src/half.ts#half.\nThe 1 function is up to date in .poet/lock.json.\n',
    )
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/double.ts#double'])
    expect(existsSync(join(p.lockDir, halfFile))).toBe(false)
    expect(phaseFiles(p)).toHaveLength(1)
    expect(await poet(p, ['generate', '--check'])).toMatchObject({ code: 0, stdout: 'The 1 function is up to date in .poet/lock.json.\n' })
  })

  it('keeps an entry that holds phases an LLM wrote unless --prune is given, and --check does not fail on it', async () => {
    const { p, llm, asked, old } = await generatedWithLlm('deleted-llm', { 'src/resize.ts': scaleSource().replace(/scale/g, 'resize'), 'src/scale.ts': scaleSource() })
    expect(old.versions[old.current]!.generator).toBe('openai:test-model')
    rmSync(p.path('src/scale.ts'))
    const bytes = p.read('.poet/lock.json')
    const files = phaseFiles(p)

    // What this entry holds, and nothing it does not: no Train, no domain.
    const kept = 'Kept in .poet/lock.json, no longer in the source: src/scale.ts#scale, its entry holding phases an LLM wrote. `poet generate --prune` removes it.'
    expect((await poet(p, ['status'])).stdout).toContain(
      '\nIn the lock but no longer in the source: src/scale.ts#scale, its entry holding phases an LLM wrote. `poet generate` keeps it; `poet generate --prune` removes it.\n',
    )
    expect(await poet(p, ['generate', '--check'])).toMatchObject({ code: 0, stdout: `${kept}\nThe 1 function is up to date in .poet/lock.json.\n` })
    expect(await poet(p, ['generate'])).toMatchObject({ code: 0, stdout: `${kept}\nThe 1 function is up to date in .poet/lock.json.\n` })
    expect(p.read('.poet/lock.json')).toBe(bytes)
    expect(phaseFiles(p)).toEqual(files)

    const pruned = await poet(p, ['generate', '--prune'])
    expect(pruned).toMatchObject({ code: 0, stdout: 'Removed the lock entry of 1 function no longer in the source: src/scale.ts#scale.\nThe 1 function is up to date in .poet/lock.json.\n' })
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/resize.ts#resize'])
    expect(phaseFiles(p)).toHaveLength(1)
    expect(llm.requests).toHaveLength(asked)
    expect((await poet(p, ['generate', '--check', '--prune'])).code).toBe(2)
  })

  it("keeps an entry whose versions Train made, whatever words their reasons have, and an old lock's that say it in words only", async () => {
    const SLOW = HALF.replace('poet()', "poet({ optimizeFor: 'latency' })")
    const p = fixture('deleted-trained', { 'src/double.ts': DOUBLE, 'src/half.ts': SLOW })
    expect((await poet(p, ['generate'])).code).toBe(0)
    const id = 'src/half.ts#half'
    const base = lockOf(p).functions[id]!.current
    // The real trainer: three days at 1 % timeouts, then an hour at 15 %, give a candidate, which is then promoted.
    const HOUR = 3_600_000
    const T = Math.ceil(Date.now() / HOUR) * HOUR + 24 * HOUR
    const store = new FeedbackStore(join(p.dir, 'feedback.db'))
    const calls = (n: number, from: number, to: number, fail: number) =>
      Array.from({ length: n }, (_, i) => {
        const failed = i < Math.round(n * fail)
        return execution({ functionId: id, version: base, ts: from + Math.floor(((to - from) * i) / n), duration: failed ? 30_000 : 50 + (i % 100), outcome: failed ? 'timeout' : 'ok', attempts: failed ? 3 : 1 })
      })
    try {
      store.insert(calls(2000, T - 3 * 24 * HOUR, T - HOUR, 0.01))
      store.insert(calls(300, T - HOUR, T, 0.15))
      const options = { lockDir: p.lockDir, store, now: () => T }
      const [plan] = planTraining(options)
      expect(plan).toMatchObject({ functionId: id, action: 'candidate' })
      expect(applyTraining([plan!], options)).toHaveLength(1)
      expect(applyTraining([{ functionId: id, action: 'promote', current: base, candidate: plan!.candidate!, reason: 'better' }], options)).toHaveLength(1)
    } finally {
      store.close()
    }
    expect(lockOf(p).functions[id]).toMatchObject({ current: expect.not.stringMatching(base) })
    rmSync(p.path('src/half.ts'))

    // A later trainer that words its reasons otherwise: what it made is kept all the same.
    const reworded = p.read('.poet/lock.json').replace(/"reason": "train: [^"]*"/, '"reason": "Learned from 2300 calls: timeout 30000 → 300 ms"')
    expect(reworded).not.toContain('"reason": "train')
    p.write('.poet/lock.json', reworded)
    const kept = "Kept in .poet/lock.json, no longer in the source: src/half.ts#half, its entry holding Train's history. `poet generate --prune` removes it."
    expect(await poet(p, ['generate'])).toMatchObject({ code: 0, stdout: `${kept}\nThe 1 function is up to date in .poet/lock.json.\n` })
    expect(lockOf(p).functions[id]).toBeDefined()

    // A lock an earlier release wrote has no marker: its reason's words are what say Train made the version.
    p.write('.poet/lock.json', p.read('.poet/lock.json').replace(/"reason": "Learned[^"]*"/, '"reason": "train: error rate up"').replace(/\n\s*"origin": "train",?/g, ''))
    expect(p.read('.poet/lock.json')).not.toContain('"origin"')
    expect(await poet(p, ['generate'])).toMatchObject({ code: 0, stdout: `${kept}\nThe 1 function is up to date in .poet/lock.json.\n` })
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/double.ts#double', id])
  })

  it('a build of some of the files removes no entry, and --only leaves the others alone', async () => {
    const p = fixture('subset', { 'src/double.ts': DOUBLE, 'src/half.ts': HALF, 'src/main.ts': "export { double } from './double.ts'\n" })
    expect((await poet(p, ['generate'])).code).toBe(0)
    const before = p.read('.poet/lock.json')
    const app = await run<{ double(n: number): number }>(await build(p, 'esbuild', { outDir: 'dist/esbuild' }))
    expect(app.double(4)).toBe(8)
    expect(p.read('.poet/lock.json')).toBe(before)

    rmSync(p.path('src/half.ts'))
    await build(p, 'esbuild', { outDir: 'dist/esbuild' })
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/double.ts#double', 'src/half.ts#half'])
    expect(await poet(p, ['generate', '--only', 'src/double.ts#double'])).toMatchObject({ code: 0, stdout: 'Nothing to do: the 1 function is up to date in .poet/lock.json.\n' })
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/double.ts#double', 'src/half.ts#half'])
  })
})

describe('functions renamed or moved', () => {
  it('`poet generate` carries an LLM-written entry over to the new id without asking the LLM again; its module says the new id', async () => {
    const { p, llm, asked, old } = await generatedWithLlm('moved-llm', { 'src/scale.ts': scaleSource() })
    p.write('src/lib/scale.ts', scaleSource())
    rmSync(p.path('src/scale.ts'))

    const status = await poet(p, ['status'])
    expect(status.stdout).toContain('\nsrc/lib/scale.ts#scale is src/scale.ts#scale renamed or moved (same source, options and types): the next build or `poet generate` carries its lock entry over.\n')
    expect(status.stdout).not.toContain('no longer in the source')
    expect(JSON.parse((await poet(p, ['status', '--json'])).stdout)).toMatchObject({ orphans: [], renamed: [{ from: 'src/scale.ts#scale', to: 'src/lib/scale.ts#scale' }] })
    expect(await poet(p, ['generate', '--check'])).toMatchObject({
      code: 1,
      stdout: 'missing  src/lib/scale.ts#scale  (renamed or moved from src/scale.ts#scale: `poet generate` carries its lock entry over)\n',
    })

    const generate = await poet(p, ['generate'])
    expect(generate).toMatchObject({
      code: 0,
      stdout:
        'Carried the lock entry of src/scale.ts#scale over to src/lib/scale.ts#scale (renamed or moved; its source, options and types are unchanged).\n' +
        'The 1 function is up to date in .poet/lock.json.\n',
    })
    expect(llm.requests).toHaveLength(asked)
    const lock = lockOf(p)
    expect(Object.keys(lock.functions)).toEqual(['src/lib/scale.ts#scale'])
    const moved = lock.functions['src/lib/scale.ts#scale']!
    expect(moved.current).toBe(old.current)
    expect(Object.keys(moved.versions)).toEqual(Object.keys(old.versions))
    const { file, ...rest } = moved.versions[moved.current]!
    const { file: oldFile, ...oldRest } = old.versions[old.current]!
    expect(rest).toEqual(oldRest)
    expect(phaseFiles(p)).toEqual([file.slice('phases/'.length)])
    expect(existsSync(join(p.lockDir, oldFile))).toBe(false)
    const source = p.read(`.poet/${file}`)
    expect(source.startsWith('// POET phases for src/lib/scale.ts#scale\n')).toBe(true)
    expect(source).toContain('\n  id: "src/lib/scale.ts#scale",\n')
    expect(source).not.toContain('src/scale.ts#scale')
    expect(await poet(p, ['generate', '--check'])).toMatchObject({ code: 0 })
  })

  it("follows a rename that took the function's own name with it (`function scale` → `function resize`), in poet generate and in a build, asking no LLM again", async () => {
    const { p, llm, asked, old } = await generatedWithLlm('own-name', { 'src/scale.ts': scaleSource(), 'src/main.ts': "export { scale } from './scale.ts'\n" })
    p.write('src/scale.ts', scaleSource().replace(/scale/g, 'resize'))
    p.write('src/main.ts', "export { resize } from './scale.ts'\n")
    expect((await poet(p, ['status'])).stdout).toContain('src/scale.ts#resize is src/scale.ts#scale renamed or moved (same source, options and types)')
    expect(await poet(p, ['generate'])).toMatchObject({
      code: 0,
      stdout: 'Carried the lock entry of src/scale.ts#scale over to src/scale.ts#resize (renamed or moved; its source, options and types are unchanged).\nThe 1 function is up to date in .poet/lock.json.\n',
    })
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/scale.ts#resize'])
    expect(lockOf(p).functions['src/scale.ts#resize']!.current).toBe(old.current)
    expect((await poet(p, ['generate', '--check'])).code).toBe(0)

    // Once more, by a strict build alone: a stale LLM entry would fail it.
    p.write('src/scale.ts', scaleSource().replace(/scale/g, 'grow'))
    p.write('src/main.ts', "export { grow } from './scale.ts'\n")
    const built = await build(p, 'esbuild', { outDir: 'dist/esbuild', options: { generator: { provider: 'openai', model: 'test-model', baseURL: llm.baseURL, apiKey: 'k' }, strict: true } })
    expect(built.warnings.join('\n')).toContain('poet: src/scale.ts#grow: took over the lock entry of src/scale.ts#resize')
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/scale.ts#grow'])
    expect((await run<{ grow(v: number[], f: number): number[] }>(built)).grow([1, 2], 3)).toEqual([3, 6])
    expect((await poet(p, ['generate', '--check'])).code).toBe(0)
    expect(llm.requests).toHaveLength(asked)
  })

  it('a build takes the old entry over by itself, asks no LLM, and the bundle reports the new id', async () => {
    const { p, llm, asked, old } = await generatedWithLlm('moved-build', { 'src/scale.ts': scaleSource(), 'src/main.ts': "export { scale } from './scale.ts'\n" })
    p.write('src/lib/scale.ts', scaleSource())
    rmSync(p.path('src/scale.ts'))
    p.write('src/main.ts', "import { onEvent } from 'unplugin-poet/runtime'\nexport { scale } from './lib/scale.ts'\nexport const ids: string[] = []\nonEvent((e) => { ids.push(e.functionId) })\n")

    const built = await build(p, 'esbuild', { outDir: 'dist/esbuild', options: { generator: { provider: 'openai', model: 'test-model', baseURL: llm.baseURL, apiKey: 'k' }, strict: true } })
    expect(llm.requests).toHaveLength(asked)
    expect(built.warnings.join('\n')).toContain(
      'poet: src/lib/scale.ts#scale: took over the lock entry of src/scale.ts#scale, renamed or moved with the same source, options and types: ' +
        'its phases, versions and what Train changed go on under the new id. Commit .poet/.',
    )
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/lib/scale.ts#scale'])
    expect(lockOf(p).functions['src/lib/scale.ts#scale']!.current).toBe(old.current)
    const app = await run<{ scale(v: number[], f: number): number[]; ids: string[] }>(built)
    expect(app.scale([1, 2], 3)).toEqual([3, 6])
    expect(app.ids).toEqual(['src/lib/scale.ts#scale'])
  })

  it('an id made by an earlier release (anonymous@N, an earlier builtin compiler) keeps what Train promoted under its new id', async () => {
    const LOADER = `import { poet } from 'unplugin-poet/runtime'\n\nexport function makeLoader() {\n  return poet({ optimizeFor: 'latency' })(async (url: string): Promise<string> => url.toUpperCase())\n}\n`
    const p = fixture('anonymous', { 'src/loader.ts': LOADER, 'src/main.ts': "export { makeLoader } from './loader.ts'\n" })
    const NEW = 'src/loader.ts#makeLoader.return'
    const OLD = 'src/loader.ts#anonymous@4'
    // The lock as the earlier release left it: the entry under the line-bound id, hashed by the previous compiler,
    // and a version Train promoted from it (5 attempts).
    const spec = scanProject(resolveOptions({ root: p.dir })).specs.find((s) => s.id === NEW)!
    const legacy = inputHash(spec, { generator: 'builtin', compilerVersion: 'poet-builtin-2' })
    const lock = new LockStore(p.lockDir)
    const first = renderPhaseModule(OLD, generateBuiltin(spec), { async: true })
    lock.write(OLD, { version: first.version, source: first.source, inputHash: legacy, generator: 'builtin', reason: 'build', optimizeFor: 'latency' })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const trained = withPolicy(first.source, { ...readPolicy(first.source)!, attempts: 5 }, 'attempts up (test)')
    lock.write(OLD, { version: trained.version, source: trained.source, inputHash: legacy, generator: 'builtin', reason: 'train: attempts up (test)', optimizeFor: 'latency' })

    expect((await poet(p, ['status'])).stdout).toContain(`\n${NEW} is ${OLD} renamed or moved (same source, options and types)`)
    const built = await build(p, 'esbuild', { outDir: 'dist/esbuild' })
    expect(built.warnings.join('\n')).toContain(`poet: ${NEW}: took over the lock entry of ${OLD}`)
    const entry = lockOf(p).functions[NEW]!
    expect(Object.keys(lockOf(p).functions)).toEqual([NEW])
    expect(Object.keys(entry.versions)).toEqual(expect.arrayContaining([first.version, trained.version]))
    expect(readPolicy(p.read(`.poet/${entry.versions[entry.current]!.file}`))!.attempts).toBe(5)
    expect(await poet(p, ['generate', '--check'])).toMatchObject({ code: 0 })
  })

  it('a Vite dev server takes the old entry over when a function is renamed in its file while it runs, and its dashboard keeps the calls made before', async () => {
    const p = fixture('renamed-dev', { 'src/double.ts': DOUBLE })
    expect((await poet(p, ['generate'])).code).toBe(0)
    const old = lockOf(p).functions['src/double.ts#double']!
    const poetPlugin = await loadPlugin(p, 'vite')
    const server = await viteDevServer(p, { server: { host: '127.0.0.1', port: 0, hmr: false }, plugins: [poetPlugin()] })
    await server.listen()
    const base = server.resolvedUrls!.local[0]!
    const post = async (functionId: string, n: number) => {
      const events = Array.from({ length: n }, () => execution({ functionId, version: old.current }))
      const res = await fetch(`${base}__poet/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) })
      expect(res.status).toBe(202)
    }
    try {
      await post('src/double.ts#double', 3)
      const client = server.environments.client
      expect((await client.transformRequest('/src/double.ts'))?.code).toContain('poet:src~2fdouble.ts~23double')
      p.write('src/double.ts', DOUBLE.replace('const double', 'const twice'))
      client.moduleGraph.invalidateAll()
      expect((await client.transformRequest('/src/double.ts'))?.code).toContain('poet:src~2fdouble.ts~23twice')
      const phases = await client.transformRequest('virtual:poet/src~2fdouble.ts~23twice')
      expect(phases?.code).toContain('id: "src/double.ts#twice"')
      expect(phases?.code).toContain(`version: "${old.current}"`)
      // A page still on the code from before the edit, and one on the new code.
      await post('src/double.ts#double', 1)
      await post('src/double.ts#twice', 2)
      const table = (await (await fetch(`${base}__poet/v1/functions`)).json()) as { functions: { id: string; version: string; role: string; calls: number }[] }
      expect(table.functions).toMatchObject([{ id: 'src/double.ts#twice', version: old.current, role: 'current', calls: 6 }])
      expect(table.functions).toHaveLength(1)
    } finally {
      await server.close()
    }
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/double.ts#twice'])
    expect(lockOf(p).functions['src/double.ts#twice']).toMatchObject({ current: old.current, formerIds: ['src/double.ts#double'] })
  })

  it('leaves an entry whose phase module was edited by hand where it is, says so, and generates the function anew', async () => {
    const p = fixture('moved-edited', { 'src/double.ts': DOUBLE })
    expect((await poet(p, ['generate'])).code).toBe(0)
    const old = lockOf(p).functions['src/double.ts#double']!
    const file = `.poet/${old.versions[old.current]!.file}`
    // A module that no longer says which function it is for: renamed, it would go on reporting the old id.
    p.write(file, p.read(file).replace('// POET phases for src/double.ts#double\n', '// reviewed by hand\n'))
    p.write('src/lib/double.ts', DOUBLE)
    rmSync(p.path('src/double.ts'))

    const generate = await poet(p, ['generate'])
    expect(generate.code).toBe(0)
    expect(generate.stderr).toBe(
      'warning: src/lib/double.ts#double: the lock entry of src/double.ts#double was not carried over, as a phase module of it is missing or was not written by poet: src/lib/double.ts#double is generated anew.\n',
    )
    expect(generate.stdout).toContain('Generated 1 function with builtin.')
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/double.ts#double', 'src/lib/double.ts#double'])
    expect(p.read(file).startsWith('// reviewed by hand\n')).toBe(true)
  })

  it('adopts nothing where it cannot tell: the old function still in a file this build does not include, or two entries made from the same inputs', async () => {
    const p = fixture('ambiguous', { 'src/double.ts': DOUBLE, 'src/main.ts': "export { twice } from './twice.ts'\n" })
    expect((await poet(p, ['generate'])).code).toBe(0)
    // A copy of double in another file: double is still there, outside the build's modules.
    p.write('src/twice.ts', DOUBLE.replace('const double', 'const twice'))
    await build(p, 'esbuild', { outDir: 'dist/esbuild' })
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/double.ts#double', 'src/twice.ts#twice'])
    expect(JSON.parse((await poet(p, ['status', '--json'])).stdout)).toMatchObject({ orphans: [], renamed: [] })

    // Both gone, a third made from the same inputs: either entry could be its own.
    rmSync(p.path('src/double.ts'))
    rmSync(p.path('src/twice.ts'))
    p.write('src/thrice.ts', DOUBLE.replace('const double', 'const thrice'))
    expect(JSON.parse((await poet(p, ['status', '--json'])).stdout)).toMatchObject({ orphans: ['src/double.ts#double', 'src/twice.ts#twice'], renamed: [] })
    const generate = await poet(p, ['generate'])
    expect(generate.stdout).toContain('Removed the lock entries of 2 functions no longer in the source: src/double.ts#double, src/twice.ts#twice.')
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/thrice.ts#thrice'])
  })
})

describe("a domain's event limits", () => {
  it('keep the entry of a deleted function, and follow a renamed one: the collector applies them to events sent under its old id', async () => {
    const TRIAGE = `import { poet } from 'unplugin-poet/runtime'\n\nexport const triage = poet({ domain: 'healthcare' })(function triage(v: { heartRate: number }): string {\n  return v.heartRate > 120 ? 'urgent' : 'routine'\n})\n`
    const p = fixture('limits', { 'src/triage.ts': TRIAGE, 'src/vitals.ts': TRIAGE.replace(/triage/g, 'vitals') })
    expect((await poet(p, ['generate'])).code).toBe(0)
    rmSync(p.path('src/vitals.ts'))
    const kept = await poet(p, ['generate'])
    // The README's own example (a domain, no LLM, no Train) was told its entry held phases an LLM wrote, or Train's history.
    expect(kept.stdout).toContain(
      "Kept in .poet/lock.json, no longer in the source: src/vitals.ts#vitals, its entry holding a domain's event limits (the collector applies those limits to clients still sending its id). `poet generate --prune` removes it.",
    )
    expect((await poet(p, ['status'])).stdout).toContain(
      "\nIn the lock but no longer in the source: src/vitals.ts#vitals, its entry holding a domain's event limits. `poet generate` keeps it; `poet generate --prune` removes it.\n",
    )
    expect(Object.keys(lockOf(p).functions)).toContain('src/vitals.ts#vitals')

    p.write('src/clinic/triage.ts', TRIAGE)
    rmSync(p.path('src/triage.ts'))
    expect((await poet(p, ['generate'])).stdout).toContain('Carried the lock entry of src/triage.ts#triage over to src/clinic/triage.ts#triage')
    const entry = lockOf(p).functions['src/clinic/triage.ts#triage']!
    expect(entry.formerIds).toEqual(['src/triage.ts#triage'])

    // A page still running the build from before the move, rated by a server that never ran the function.
    const collector = await serve({ port: 0, db: join(p.dir, 'feedback.db'), lockDir: p.lockDir })
    try {
      const call = execution({ functionId: 'src/triage.ts#triage', version: entry.current })
      const rated = feedback({ functionId: 'src/triage.ts#triage', version: entry.current, executionId: call.executionId, label: 'tachycardia', comment: 'patient Jane Doe, bed 4' })
      const res = await fetch(`${collector.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([call, rated]) })
      expect(res.status).toBe(202)
      expect(collector.collector.store.count('feedback')).toBe(1)
      expect(collector.collector.store.comments('src/triage.ts#triage', entry.current)).toEqual([])
    } finally {
      await collector.close()
    }
  })
})

describe('modules that re-export or wrap poet', () => {
  it('`poet status` warns about them in the build warning\'s words, also when no function is marked directly', async () => {
    const p = fixture('wrapper', {
      'src/lib/reliable.ts': "export { poet } from 'unplugin-poet/runtime'\n",
      'src/double.ts': "import { poet } from './lib/reliable.ts'\n\nexport const double = poet()(function double(n: number): number {\n  return n * 2\n})\n",
      'src/main.ts': "export { double } from './double.ts'\n",
    })
    const built = await build(p, 'esbuild', { outDir: 'dist/esbuild' })
    const warning = built.warnings.find((w) => w.includes('re-exports poet'))!
    expect(warning).toMatch(/^src\/lib\/reliable\.ts:1:10: this module re-exports poet: /)

    const status = await poet(p, ['status'])
    expect(status).toMatchObject({ code: 0, stdout: `No poet() functions found under ${p.dir}.\n`, stderr: `warning: ${warning}\n` })
    p.write('src/half.ts', HALF)
    const table = await poet(p, ['status'])
    expect(table.stderr).toBe(`warning: ${warning}\n`)
    expect(table.stdout).toMatch(/^src\/half\.ts#half /m)
    expect(JSON.parse((await poet(p, ['status', '--json'])).stdout)).toMatchObject({ warnings: [warning] })
  })
})
