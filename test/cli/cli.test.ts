import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main'
import type { CliIO } from '../../src/cli/io'
import { LockStore, type LockFile } from '../../src/generators/lock'
import { readdirSync } from 'node:fs'
import { createProject, PACKAGE_ROOT, readOnly, type Project } from '../helpers/project'
import { reply, startOpenAIServer, type OpenAIServer } from '../helpers/openai-server'
import { goodReply, scaleSource } from '../generators/verify/fixture'
import { FeedbackStore } from '../../src/train/store'
import { readPolicy, withPolicy } from '../../src/train/candidate'

const SCALE = scaleSource()

let project: Project | undefined
let server: OpenAIServer | undefined
afterEach(async () => {
  project?.remove()
  await server?.close()
  project = server = undefined
})

/** The CLI's own sources, so its tests do not move when the shared fixture project grows. */
const SOURCES: Record<string, string> = {
  'src/double.ts': `import { poet } from 'unplugin-poet/runtime'\n\nexport const double = poet()(function double(n: number): number {\n  return n * 2\n})\n`,
  'src/orders.ts': `import { poet } from 'unplugin-poet/runtime'\n\ninterface Order { items: { name: string; price: number }[] }\n\nexport const priceOrder = poet({ domain: 'financial_services' })(function priceOrder(order: Order): number {\n  return order.items.reduce((s, i) => s + i.price, 0)\n})\n`,
  'src/pricing.ts': `import { poet } from 'unplugin-poet/runtime'\n\nexport class Pricing {\n  constructor(private rate: number) {}\n\n  @poet({ attempts: 2 })\n  quote(amount: number): number {\n    return amount * this.rate\n  }\n}\n`,
  'src/slow.ts': `import { poet } from 'unplugin-poet/runtime'\n\nexport const slow = poet({ timeout: 20, attempts: 1 })(async function slow(): Promise<string> {\n  await new Promise((resolve) => setTimeout(resolve, 300))\n  return 'too late'\n})\n`,
}

/** A fresh project (the package linked in) holding exactly SOURCES. */
function fixture(name: string): Project {
  project = createProject(`cli-${name}`)
  for (const f of readdirSync(project.path('src'))) rmSync(project.path(`src/${f}`))
  for (const [file, code] of Object.entries(SOURCES)) project.write(file, code)
  return project
}

async function poet(p: Project, argv: string[], extra: Partial<CliIO> = {}) {
  const out: string[] = []
  const err: string[] = []
  const written: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), cwd: p.dir, tty: false, env: {}, write: (t) => written.push(t), ...extra })
  return { code, out: out.join('\n'), err: err.join('\n'), written: written.join('') }
}

const lockOf = (p: Project) => JSON.parse(p.read('.poet/lock.json')) as LockFile
const ids = ['src/double.ts#double', 'src/orders.ts#priceOrder', 'src/pricing.ts#Pricing.quote', 'src/slow.ts#slow']

describe('poet generate', () => {
  it('writes every function into the lock with one plain line each, then has nothing to do', async () => {
    const p = fixture('generate')
    const first = await poet(p, ['generate'])
    expect(first.code).toBe(0)
    for (const id of ids) expect(first.out).toMatch(new RegExp(`^\\[\\d/4\\] ${id.replace(/[.#]/g, '\\$&')}  builtin [0-9a-f]{10}$`, 'm'))
    expect(first.out).toMatch(/Generated 4 functions with builtin\. Lock: \.poet\/lock\.json$/)
    expect(Object.keys(lockOf(p).functions)).toEqual(ids)

    const bytes = p.read('.poet/lock.json')
    const again = await poet(p, ['generate'])
    expect(again).toMatchObject({ code: 0, out: 'Nothing to do: all 4 functions are up to date in .poet/lock.json.' })
    expect(p.read('.poet/lock.json')).toBe(bytes)
    expect(await poet(p, ['generate', '--check'])).toMatchObject({ code: 0, out: 'All 4 functions are up to date in .poet/lock.json.' })
  })

  it('--check exits 1 naming stale and missing entries, and writes nothing', async () => {
    const p = fixture('check')
    expect((await poet(p, ['generate', '--check'])).code).toBe(1)
    expect(existsSync(p.path('.poet/lock.json'))).toBe(false)
    await poet(p, ['generate'])
    p.write('src/double.ts', p.read('src/double.ts').replace('n * 2', 'n * 3'))
    p.write('src/extra.ts', SCALE)
    const check = await poet(p, ['generate', '--check'])
    expect(check.code).toBe(1)
    expect(check.out).toBe('stale    src/double.ts#double  (its source, options, types, domain pack or generator changed)\nmissing  src/extra.ts#scale')
    expect(check.err).toBe('poet generate --check: 2 of 5 functions not up to date in .poet/lock.json. Run `poet generate` and commit the lock.')
  })

  it('--check and status name a function whose phase module is missing from .poet/phases, which a build would regenerate', async () => {
    const p = fixture('check-file')
    await poet(p, ['generate'])
    const file = lockOf(p).functions['src/double.ts#double']!.versions[lockOf(p).functions['src/double.ts#double']!.current]!.file
    rmSync(join(p.lockDir, file))
    const check = await poet(p, ['generate', '--check'])
    expect(check.code).toBe(1)
    expect(check.out).toBe(`missing  src/double.ts#double  (its phase module .poet/${file} is not on disk: restore it from version control, or run \`poet generate\`)`)
    expect((await poet(p, ['status'])).out).toMatch(/^src\/double\.ts#double +[0-9a-f]{10} +builtin +missing \(file\)/m)
    expect((await poet(p, ['generate'])).code).toBe(0)
    expect(existsSync(join(p.lockDir, file))).toBe(true)
    expect((await poet(p, ['generate', '--check'])).code).toBe(0)
  })

  it('says which file it could not write, without a stack trace', async () => {
    const p = fixture('unwritable')
    mkdirSync(p.lockDir)
    writeFileSync(join(p.lockDir, 'phases'), '')
    const r = await poet(p, ['generate', '--only', 'src/double.ts#double'])
    expect(r.code).toBe(1)
    expect(r.err).toBe(`poet generate: src/double.ts#double: EEXIST: file already exists, mkdir '${join(p.lockDir, 'phases')}'`)
  })

  it('on a read-only .poet/, says once which directory and why, writes nothing, asks no LLM, and exits 1 without a stack', async () => {
    const p = fixture('readonly')
    expect((await poet(p, ['generate'])).code).toBe(0)
    // Stale entries to write: another generator, an LLM that would answer.
    server = await startOpenAIServer(() => reply.json(goodReply))
    p.write('poet.config.json', JSON.stringify({ generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL } }))
    const before = p.read('.poet/lock.json')
    const phases = readdirSync(join(p.lockDir, 'phases'))
    const writable = readOnly(p.lockDir)
    let r: { code: number; stdout: string; stderr: string }
    try {
      const bin = join(PACKAGE_ROOT, 'dist/cli.mjs')
      r = await promisify(execFile)(process.execPath, [bin, 'generate'], { cwd: p.dir, env: { ...process.env, CI: '', OPENAI_API_KEY: 'k' } }).then(
        (ok) => ({ code: 0, ...ok }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      )
    } finally {
      writable()
    }
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(
      /^poet generate: cannot write \.poet\/ \(.+\/\.poet\): (read-only file system|permission denied|operation not permitted)\. Nothing was generated or written: make \.poet\/ writable, or run `poet generate` in a writable checkout, and commit \.poet\/\.\n$/,
    )
    expect(r.stdout).toBe('')
    expect(server.requests).toHaveLength(0)
    expect(p.read('.poet/lock.json')).toBe(before)
    expect(readdirSync(join(p.lockDir, 'phases'))).toEqual(phases)
  })

  it('says when it finds no poet() function, rather than that all 0 are up to date', async () => {
    const p = fixture('generate-empty')
    for (const file of Object.keys(SOURCES)) rmSync(p.path(file))
    p.write('src/plain.ts', 'export const x = 1\n')
    for (const argv of [['generate'], ['generate', '--check']]) {
      const r = await poet(p, argv)
      expect(r.code, argv.join(' ')).toBe(0)
      expect(r.out, argv.join(' ')).toBe(`No poet() functions found under ${p.dir}: nothing to ${argv[1] ? 'check' : 'generate'}. Run it from the project root, or pass --root.`)
    }
    expect(existsSync(p.lockDir)).toBe(false)
  })

  it('--only regenerates one function; an unknown id is a usage error with a suggestion', async () => {
    const p = fixture('only')
    const only = await poet(p, ['generate', '--only', 'src/slow.ts#slow'])
    expect(only.code).toBe(0)
    expect(Object.keys(lockOf(p).functions)).toEqual(['src/slow.ts#slow'])
    const typo = await poet(p, ['generate', '--only', 'src/slow.ts#slwo'])
    expect(typo.code).toBe(2)
    expect(typo.err).toMatch(/^poet generate: --only src\/slow\.ts#slwo: no poet\(\) function has this id\. Did you mean src\/slow\.ts#slow\?/)
  })

  it('--force regenerates up-to-date functions', async () => {
    const p = fixture('force')
    await poet(p, ['generate'])
    const forced = await poet(p, ['generate', '--force', '--only', 'src/slow.ts#slow'])
    expect(forced.out).toMatch(/Generated 1 function with builtin\. Lock/)
    const entry = lockOf(p).functions['src/slow.ts#slow']!
    expect(entry.versions[entry.current]!.reason).toBe('generate --force')
  })

  it('draws a progress bar with counts on a terminal', async () => {
    const p = fixture('tty')
    const r = await poet(p, ['generate'], { tty: true })
    expect(r.written).toContain('\r\x1b[K[')
    expect(r.written).toMatch(/\] 4\/4/)
    expect(r.out).toMatch(/^ {2}src\/slow\.ts#slow {2}builtin [0-9a-f]{10}$/m)
  })

  it('rejects misuse with exit code 2 and the help', async () => {
    const p = fixture('usage')
    const unknownFlag = await poet(p, ['generate', '--chekc'])
    expect(unknownFlag.code).toBe(2)
    expect(unknownFlag.err).toMatch(/^poet generate: unknown option --chekc\. Did you mean --check\?\nUsage: poet generate /)
    expect((await poet(p, ['generate', '--check', '--force'])).err).toMatch(/--check and --force cannot be combined/)
    expect((await poet(p, ['generate', '--concurrency', '0'])).code).toBe(2)
    expect((await poet(p, ['generate', '--generator', 'claude'])).err).toBe('poet generate: --generator must be builtin or openai, received "claude"')
    expect((await poet(p, ['generate', '--help'])).out).toMatch(/^poet generate — /)
  })

  it('fails with exit 1 and the code frame when a source file misuses poet()', async () => {
    const p = fixture('broken')
    p.write('src/broken.ts', `import { poet } from 'unplugin-poet/runtime'\n\nexport const broken = poet({ atempts: 3 })(function broken(n: number): number {\n  return n\n})\n`)
    const r = await poet(p, ['generate'])
    expect(r.code).toBe(1)
    expect(r.err).toContain("src/broken.ts:3:30: unknown poet() option 'atempts'. Did you mean 'attempts'? [POET_UNKNOWN_OPTION]")
    expect(r.err).toMatch(/poet generate: 1 file with errors; fix it first\.$/)
  })

  it("marks an async function's phase module async, as a build does, so the runtime rejects rather than throws", async () => {
    const p = fixture('async')
    expect((await poet(p, ['generate'])).code).toBe(0)
    const source = (id: string) => new LockStore(p.lockDir).source(id, lockOf(p).functions[id]!.current)!
    expect(source('src/slow.ts#slow')).toContain('  async: true,\n')
    expect(source('src/double.ts#double')).not.toContain('async:')
  })
})

describe('poet generate with an LLM', () => {
  it('writes each function into the lock as soon as it is generated, not when the slowest one is', async () => {
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    server = await startOpenAIServer((request) => (request.messages.some((m) => m.content.includes('scaleLater')) ? reply.held(released, goodReply) : reply.json(goodReply)))
    const p = fixture('llm-incremental')
    p.write('src/scale.ts', SCALE + SCALE.replace(/\bscale\b/g, 'scaleLater').replace(/^(import |export \{).*\n/gm, ''))
    const running = poet(p, ['generate', '--model', 'test-model', '--base-url', server.baseURL])
    try {
      // While the slow answer is held back: an interrupted run keeps what it already paid for.
      const current = (id: string) => {
        const entry = existsSync(p.path('.poet/lock.json')) ? lockOf(p).functions[id] : undefined
        return entry?.versions[entry.current]
      }
      const deadline = Date.now() + 20_000
      while (!current('src/scale.ts#scale') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(current('src/scale.ts#scale')?.generator).toBe('openai:test-model')
      expect(current('src/scale.ts#scaleLater')).toBeUndefined()
    } finally {
      release()
    }
    expect((await running).code).toBe(0)
    expect(lockOf(p).functions['src/scale.ts#scaleLater']?.versions[lockOf(p).functions['src/scale.ts#scaleLater']!.current]?.generator).toBe('openai:test-model')
  })

  it('writes verified phases with model and usage; `diff` shows them against the builtin version', async () => {
    server = await startOpenAIServer(() => reply.json(goodReply))
    const p = fixture('llm')
    p.write('src/scale.ts', SCALE)
    await poet(p, ['generate', '--only', 'src/scale.ts#scale'])
    const r = await poet(p, ['generate', '--only', 'src/scale.ts#scale', '--model', 'test-model', '--base-url', server.baseURL])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^\[1\/1\] src\/scale\.ts#scale {2}openai:test-model [0-9a-f]{10}$/m)
    const entry = lockOf(p).functions['src/scale.ts#scale']!
    expect(Object.keys(entry.versions)).toHaveLength(2)
    expect(entry.versions[entry.current]).toMatchObject({ generator: 'openai:test-model', model: 'test-model', usage: { promptTokens: 100, completionTokens: 50 }, reason: 'generate' })

    const diff = await poet(p, ['diff', 'src/scale.ts#scale'])
    expect(diff.code).toBe(0)
    expect(diff.written).toMatch(/^--- src\/scale\.ts#scale@[0-9a-f]{10} \(previous, builtin, .+\)\n\+\+\+ src\/scale\.ts#scale@[0-9a-f]{10} \(current, openai:test-model, .+\)\n@@ /)
    expect(diff.written).toContain('\n+  else if (args[1] > 1e6) issues = add(issues, "args[1]", "factor at most 1e6", args[1], "scale.reasonable_factor")\n')
    expect(diff.written).toMatch(/\n-\/\/ generated by builtin, version/)

    const status = await poet(p, ['status', '--model', 'test-model', '--base-url', server.baseURL])
    expect(status.out).toMatch(/^src\/scale\.ts#scale +[0-9a-f]{10} +openai:test-model +no +—$/m)
  })

  it('falls back to builtin with one warning, shows it in status, and retries it on the next generate', async () => {
    let good = false
    server = await startOpenAIServer(() => (good ? reply.json(goodReply) : reply.refusal('No.')))
    const p = fixture('llm-fallback')
    p.write('src/scale.ts', SCALE)
    writeFileSync(p.path('poet.config.json'), JSON.stringify({ generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } }))
    const r = await poet(p, ['generate', '--only', 'src/scale.ts#scale'])
    expect(r.code).toBe(0)
    expect(r.err.split('\n')).toEqual([
      '[poet] src/scale.ts#scale: openai:test-model gave no verified phases after 3 requests: the model refused: No. Using the builtin generator; run `poet generate --only src/scale.ts#scale` to try again.',
    ])
    expect(r.out).toMatch(/src\/scale\.ts#scale {2}builtin [0-9a-f]{10} \(fallback\)/)
    expect(r.out).toMatch(/\(1 fell back to builtin\)/)
    const entry = lockOf(p).functions['src/scale.ts#scale']!
    expect(entry.versions[entry.current]).toMatchObject({ generator: 'builtin', model: 'test-model', reason: 'fallback: the model refused: No' })
    expect((await poet(p, ['status'])).out).toMatch(/^src\/scale\.ts#scale +[0-9a-f]{10} +builtin \(fallback\) +no/m)
    expect((await poet(p, ['generate', '--check', '--only', 'src/scale.ts#scale'])).code).toBe(0)

    good = true
    const retry = await poet(p, ['generate', '--only', 'src/scale.ts#scale'])
    expect(retry.out).toMatch(/openai:test-model [0-9a-f]{10}$/m)
    expect(retry.err).toBe('')
  })

  it('says which A/B test ends when it asks the LLM again in place of a fallback', async () => {
    let good = false
    server = await startOpenAIServer(() => (good ? reply.json(goodReply) : reply.refusal('No.')))
    const p = fixture('llm-fallback-ab')
    p.write('src/scale.ts', SCALE)
    writeFileSync(p.path('poet.config.json'), JSON.stringify({ generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } }))
    expect((await poet(p, ['generate', '--only', 'src/scale.ts#scale'])).code).toBe(0)
    const lock = new LockStore(p.lockDir)
    const id = 'src/scale.ts#scale'
    const fell = lockOf(p).functions[id]!
    // A candidate of the fallback under A/B test, as `poet train --apply` records one.
    const source = lock.source(id, fell.current)!.replace(fell.current, 'cand000001')
    lock.update((l) => {
      const e = l.functions[id]!
      e.versions.cand000001 = { ...e.versions[e.current]!, file: lock.writeFiles(id, 'cand000001', source).file, reason: 'train: ok rate (test)' }
      e.candidate = { version: 'cand000001', share: 0.2 }
    })
    good = true
    const retry = await poet(p, ['generate', '--only', id])
    expect(retry.code, retry.err).toBe(0)
    const ended = `the A/B test of candidate cand000001 ended: \`poet generate\` asked test-model again in place of its builtin fallback, so it tested a change to ${fell.current}, which the new version replaces; Train proposes a new candidate from the new version's calls`
    expect(retry.err).toBe(`${id}: ${ended}`)
    const entry = lockOf(p).functions[id]!
    expect(entry.candidate).toBeUndefined()
    expect(entry.versions[entry.current]).toMatchObject({ generator: 'openai:test-model', reason: `generate; ${ended}` })
  })

  it('keeps LLM requests to --concurrency', async () => {
    server = await startOpenAIServer(() => reply.slow(100, goodReply))
    const p = fixture('llm-concurrency')
    for (const file of Object.keys(SOURCES)) rmSync(p.path(file))
    for (const name of ['a', 'b', 'c']) p.write(`src/scale-${name}.ts`, SCALE)
    const only = ['src/scale-a.ts#scale', 'src/scale-b.ts#scale', 'src/scale-c.ts#scale']
    const flags = ['--model', 'test-model', '--base-url', server.baseURL]
    for (const id of only) expect((await poet(p, ['generate', '--only', id, '--concurrency', '1', ...flags])).code).toBe(0)
    expect(server.maxInFlight).toBe(1)
    const all = await poet(p, ['generate', '--force', '--concurrency', '3', ...flags])
    expect(all.out).toMatch(/Generated 3 functions with openai:test-model\. Lock/)
    expect(server.maxInFlight).toBe(3)
  })

  it('says which config file is broken', async () => {
    const p = fixture('bad-config')
    writeFileSync(p.path('poet.config.json'), '{ "generator": ')
    const r = await poet(p, ['status'])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/^poet status: .*poet\.config\.json: not valid JSON/)
    writeFileSync(p.path('poet.config.json'), JSON.stringify({ generatr: 'builtin' }))
    const unknown = await poet(p, ['status'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toMatch(/poet\.config\.json: .*generatr.*generator/)
    rmSync(p.path('poet.config.json'))
    // A config module that does not even load: its path and why, not a stack through Node's module loader.
    writeFileSync(p.path('poet.config.mjs'), 'export default {\n')
    const syntax = await poet(p, ['status'])
    expect(syntax.code).toBe(2)
    // (Node says SyntaxError: Unexpected end of input; under vitest, Vite's loader words it its own way.)
    expect(syntax.err).toMatch(new RegExp(`^poet status: ${p.path('poet.config.mjs').replace(/[.]/g, '\\.')}: cannot load it: \\w*Error: .+$`))
    writeFileSync(p.path('poet.config.mjs'), "import 'no-such-package'\nexport default {}\n")
    const missing = await poet(p, ['status'])
    expect(missing.code).toBe(2)
    expect(missing.err).toMatch(new RegExp(`^poet status: ${p.path('poet.config.mjs').replace(/[.]/g, '\\.')}: cannot load it: Error: Cannot find package 'no-such-package'`))
    expect(missing.err).not.toContain('\n    at ')
  })

  it('says --root must be a directory when it names a file', async () => {
    const p = fixture('root-file')
    const r = await poet(p, ['status', '--root', 'src/double.ts'])
    expect(r.code).toBe(2)
    expect(r.err).toBe(`poet status: --root src/double.ts: not a directory (${p.path('src/double.ts')})`)
  })
})

describe('poet status', () => {
  it('prints a table with version, generator, staleness and unresolved types', async () => {
    const p = fixture('status')
    p.write('src/opaque.ts', `import { poet } from 'unplugin-poet/runtime'\nimport type { Remote } from 'some-package'\nexport const opaque = poet()(function opaque(r: Remote): number {\n  return 1\n})\n`)
    await poet(p, ['generate'])
    p.write('src/slow.ts', p.read('src/slow.ts').replace("'too late'", "'much too late'"))
    const r = await poet(p, ['status'])
    expect(r.code).toBe(0)
    const lines = r.out.split('\n')
    expect(lines[0]).toMatch(/^id +version +generator +stale\? +unresolved types$/)
    expect(r.out).toMatch(/^src\/opaque\.ts#opaque +[0-9a-f]{10} +builtin +no +1: args\[0\] \(Remote: type from package "some-package"\)$/m)
    expect(r.out).toMatch(/^src\/double\.ts#double +[0-9a-f]{10} +builtin +no +—$/m)
    expect(r.out).toMatch(/^src\/slow\.ts#slow +[0-9a-f]{10} +builtin +yes +—$/m)
    expect(r.out).toMatch(/\n5 functions, 1 stale or missing — run `poet generate`\.$/)
  })

  it('says "no type annotation" where a function has none, rather than an empty annotation', async () => {
    const p = fixture('status-untyped')
    p.write('src/untyped.js', `import { poet } from 'unplugin-poet/runtime'\nexport const add = poet()(function add(a, b) {\n  return { sum: a + b }\n})\n`)
    const r = await poet(p, ['status'])
    expect(r.out).toMatch(/^src\/untyped\.js#add +— +— +missing +3: args\[0\] \(a: no type annotation\), args\[1\] \(b: no type annotation\), result \(no return type annotation\)$/m)
  })

  it('says where the command takes a custom pack from when only the bundler config has it, and keeps its function out of the orphans', async () => {
    const p = fixture('status-custom-pack')
    p.write('src/pay.ts', `import { poet } from 'unplugin-poet/runtime'\nexport const charge = poet({ domain: 'financial_services:payments' })(function charge(amount: number): number {\n  return amount\n})\n`)
    p.write('poet.config.mjs', `export default { domains: [{ name: 'financial_services:payments', version: '1.0.0', description: 'Card payments.', policy: { attempts: 1 } }] }\n`)
    expect((await poet(p, ['generate'])).code).toBe(0)
    // As when the pack lives in vite.config.ts only: the build knows it, the command does not.
    rmSync(p.path('poet.config.mjs'))
    const r = await poet(p, ['status'])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/unknown domain "financial_services:payments"[\s\S]*The poet command does not read your bundler config: it takes custom domain packs .* from poet\.config\.mjs in the project root/)
    expect(r.out).not.toMatch(/no longer in the source/)
  })

  it('leaves build output alone: a bundle in dist/ holds calls the plugin already rewrote', async () => {
    const p = fixture('status-dist')
    await poet(p, ['generate'])
    const bundled = `import { poet } from 'unplugin-poet/runtime'\nvar double = poet(void 0, { id: "src/double.ts#double", version: "0123456789" })(function double(n) {\n  return n * 2\n})\nexport { double }\n`
    for (const dir of ['dist', 'build', 'out', 'coverage']) p.write(`${dir}/assets/index.js`, bundled)
    const r = await poet(p, ['status'])
    expect(r).toMatchObject({ code: 0, err: '' })
    expect(r.out).toMatch(/\n4 functions, 0 stale or missing\.$/)
  })
})

describe('poet diff', () => {
  it('names unknown ids and says when there is only one version', async () => {
    const p = fixture('diff')
    await poet(p, ['generate'])
    const unknown = await poet(p, ['diff', 'src/slow.ts#slwo'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toMatch(/src\/slow\.ts#slwo is not in .*lock\.json\. Did you mean src\/slow\.ts#slow\?/)
    const single = await poet(p, ['diff', 'src/slow.ts#slow'])
    expect(single).toMatchObject({ code: 0 })
    expect(single.out).toMatch(/^src\/slow\.ts#slow has only one version \([0-9a-f]{10}\); nothing to compare\.$/)
    expect((await poet(p, ['diff'])).code).toBe(2)
    // Names every object has: unknown ids all the same, never a crash.
    for (const id of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = await poet(p, ['diff', id])
      expect(r.code).toBe(2)
      expect(r.err).toContain(`${id} is not in `)
      const version = await poet(p, ['diff', 'src/slow.ts#slow', '--from', id])
      expect(version.code).toBe(2)
      expect(version.err).toContain(`--from ${id}: src/slow.ts#slow has no such version`)
    }
  })

  it('compares the current version with the candidate under A/B test', async () => {
    const p = fixture('diff-candidate')
    await poet(p, ['generate', '--only', 'src/slow.ts#slow'])
    const store = new LockStore(p.lockDir)
    const current = store.read().functions['src/slow.ts#slow']!.current
    const candidateSource = store.source('src/slow.ts#slow', current)!.replace('"attempts":1', '"attempts":2')
    store.write('src/slow.ts#slow', { version: 'cand000001', source: candidateSource, inputHash: 'h', generator: 'openai:m', reason: 'train: error rate up' })
    store.update((lock) => {
      const entry = lock.functions['src/slow.ts#slow']!
      entry.current = current
      entry.candidate = { version: 'cand000001', share: 0.1 }
    })
    const r = await poet(p, ['diff', 'src/slow.ts#slow'])
    expect(r.written).toMatch(new RegExp(`^--- src/slow\\.ts#slow@${current} \\(current, builtin, .+\\)\n\\+\\+\\+ src/slow\\.ts#slow@cand000001 \\(candidate, openai:m, .+\\)\n`))
    expect(r.written).toMatch(/^-.*"attempts":1/m)
    expect(r.written).toMatch(/^\+.*"attempts":2/m)
    expect((await poet(p, ['status'])).out).toMatch(/^src\/slow\.ts#slow +[0-9a-f]{10} \(candidate cand000001 at 10%\) +builtin/m)
    // poet train --share 0.001 is a share like any other: not "at 0%".
    store.update((lock) => void (lock.functions['src/slow.ts#slow']!.candidate!.share = 0.001))
    expect((await poet(p, ['status'])).out).toMatch(/\(candidate cand000001 at 0\.1%\)/)
    const same = await poet(p, ['diff', 'src/slow.ts#slow', '--from', current, '--to', current])
    expect(same.out).toBe(`src/slow.ts#slow: ${current} and ${current} have identical phases.`)
    expect((await poet(p, ['diff', 'src/slow.ts#slow', '--to', 'nope'])).err).toMatch(/--to nope: src\/slow\.ts#slow has no such version \(it has /)
  })
  it('answers a lock whose current pointer names a version it does not hold, instead of crashing', async () => {
    const p = fixture('diff-dangling')
    await poet(p, ['generate', '--only', 'src/slow.ts#slow'])
    const store = new LockStore(p.lockDir)
    const current = store.read().functions['src/slow.ts#slow']!.current
    store.write('src/slow.ts#slow', { version: 'cand000001', source: '// other\n', inputHash: 'h', generator: 'builtin', reason: 'train' })
    store.update((lock) => void (lock.functions['src/slow.ts#slow']!.current = 'deadbeef00'))
    const r = await poet(p, ['diff', 'src/slow.ts#slow'])
    expect(r.code).toBe(1)
    expect(r.err).toBe(
      `poet diff: the current version of src/slow.ts#slow in ${store.file}, deadbeef00, is not among its versions (an edit or a merge lost it). Compare two of them with --from and --to, or run \`poet generate\` to write the current source's version.`,
    )
    store.update((lock) => {
      lock.functions['src/slow.ts#slow']!.current = current
      lock.functions['src/slow.ts#slow']!.candidate = { version: 'cafe000002', share: 0.2 }
    })
    expect((await poet(p, ['diff', 'src/slow.ts#slow'])).err).toMatch(/^poet diff: the candidate version of src\/slow\.ts#slow in .*, cafe000002, is not among its versions/)
    const explicit = await poet(p, ['diff', 'src/slow.ts#slow', '--from', current, '--to', 'cand000001'])
    expect(explicit.code).toBe(0)
    expect(explicit.written).toContain('+// other')
  })

  it('says which phase file is missing instead of diffing against nothing', async () => {
    const p = fixture('diff-missing')
    await poet(p, ['generate', '--only', 'src/slow.ts#slow'])
    const store = new LockStore(p.lockDir)
    const current = store.read().functions['src/slow.ts#slow']!.current
    store.write('src/slow.ts#slow', { version: 'cand000001', source: store.source('src/slow.ts#slow', current)!.replace('"attempts":1', '"attempts":2'), inputHash: 'h', generator: 'builtin', reason: 'train' })
    store.update((lock) => {
      lock.functions['src/slow.ts#slow']!.current = current
      lock.functions['src/slow.ts#slow']!.candidate = { version: 'cand000001', share: 0.1 }
    })
    const file = store.read().functions['src/slow.ts#slow']!.versions[current]!.file
    rmSync(join(p.lockDir, file))
    const r = await poet(p, ['diff', 'src/slow.ts#slow'])
    expect(r.code).toBe(1)
    expect(r.written).toBe('')
    expect(r.err).toBe(`poet diff: the phase module of src/slow.ts#slow@${current} is missing: ${join(p.lockDir, file)}. Restore .poet/ from version control, or run \`poet generate --force --only src/slow.ts#slow\`.`)
  })
})

describe('poet domains', () => {
  it('lists the packs, shows one, and suggests a name for a typo', async () => {
    const p = fixture('domains')
    const list = await poet(p, ['domains'])
    expect(list.code).toBe(0)
    expect(list.out).toMatch(/^ml_monitoring +1\.1\.0 +\d+ +Model and data monitoring/m)
    const one = await poet(p, ['domains', 'financial_services'])
    expect(one.out).toMatch(/^financial_services 1\.0\.0\n/)
    expect(one.out).toMatch(/perceive rules:\n {2}financial_services\./)
    const json = JSON.parse((await poet(p, ['domains', '--json'])).out) as { name: string }[]
    expect(json.map((d) => d.name)).toContain('healthcare')
    const typo = await poet(p, ['domains', 'helthcare'])
    expect(typo.code).toBe(2)
    expect(typo.err).toMatch(/no domain pack named "helthcare"\. Did you mean healthcare\?/)
    // The registry's suggestion, as a build error gives it: a prefix of a pack's name points at that pack.
    expect((await poet(p, ['domains', 'health'])).err).toMatch(/no domain pack named "health"\. Did you mean healthcare\?/)
  })
})

describe('poet (dispatcher)', () => {
  it('suggests a command, prints help, and hands serve/train/rollback to Train', async () => {
    const p = fixture('dispatch')
    const typo = await poet(p, ['gen'])
    expect(typo.code).toBe(2)
    expect(typo.err).toMatch(/^poet: unknown command "gen"\. Did you mean `poet generate`\?/)
    expect((await poet(p, ['--help'])).out).toMatch(/^poet — generate, review and train/)
    expect((await poet(p, [])).code).toBe(2)
    const rollback = await poet(p, ['rollback', '--help'])
    expect(rollback.code).toBe(0)
    expect(rollback.out).toMatch(/^poet rollback — /)
    expect((await poet(p, ['help', 'status'])).out).toMatch(/^poet status — /)
    const unknownHelp = await poet(p, ['help', 'stauts'])
    expect(unknownHelp.code).toBe(2)
    expect(unknownHelp.err).toMatch(/^poet: unknown command "stauts"\. Did you mean `poet status`\?/)
  })

  it('answers a broken lock.json with what is wrong and what to do, never a stack trace', async () => {
    const p = fixture('broken-lock')
    await poet(p, ['generate'])
    writeFileSync(join(p.lockDir, 'lock.json'), '<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> theirs\n')
    for (const argv of [['status'], ['diff', 'src/slow.ts#slow'], ['generate'], ['generate', '--check']]) {
      const r = await poet(p, argv)
      expect(r.code, argv.join(' ')).toBe(1)
      expect(r.err, argv.join(' ')).toBe(`poet ${argv[0]}: cannot read ${join(p.lockDir, 'lock.json')}: it holds unresolved merge conflict markers (<<<<<<<). Resolve the conflict, or take one side and run \`poet generate\`.`)
    }
  })

  it('runs as the built `poet` bin with real exit codes', async () => {
    const p = fixture('bin')
    const bin = join(PACKAGE_ROOT, 'dist/cli.mjs')
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    const run = promisify(execFile)
    const failed = await run(process.execPath, [bin, 'generate', '--check'], { cwd: p.dir }).catch((e: { code: number; stdout: string }) => e)
    expect(failed).toMatchObject({ code: 1 })
    const ok = await run(process.execPath, [bin, 'generate'], { cwd: p.dir, env: { ...process.env, CI: '' } })
    expect(ok.stdout).toMatch(/^\[1\/4\] src\/double\.ts#double {2}builtin/m)
    expect((await run(process.execPath, [bin, 'generate', '--check'], { cwd: p.dir })).stdout).toBe('All 4 functions are up to date in .poet/lock.json.\n')
  })
})

describe('the lock refusing writes', () => {
  /** The built `poet` bin as a child process: its real exit code, stdout and stderr. */
  const bin = (p: Project, argv: string[]) =>
    promisify(execFile)(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.mjs'), ...argv], { cwd: p.dir, env: { ...process.env, CI: '', OPENAI_API_KEY: 'k' } }).then(
      (ok) => ({ code: 0, ...ok }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    )
  const WHY = '(read-only file system|permission denied|operation not permitted)'

  it('poet generate stops at the first write refused midway: one message saying what was written and what was not, no LLM asked after it', async () => {
    const p = fixture('midway')
    for (const f of Object.keys(SOURCES)) rmSync(p.path(f))
    const names = ['a', 'b', 'c']
    for (const n of names) p.write(`src/${n}.ts`, SCALE.replace(/scale/g, n))
    expect((await poet(p, ['generate'])).code).toBe(0)
    const builtin = lockOf(p)
    let writable: (() => void) | undefined
    // The second function's answer comes once .poet/ is read-only: the first is in the lock, the second cannot go in.
    server = await startOpenAIServer((_request, i) => {
      if (i === 1) writable = readOnly(p.lockDir)
      return reply.json(goodReply)
    })
    p.write('poet.config.json', JSON.stringify({ generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL } }))
    let r
    try {
      r = await bin(p, ['generate', '--concurrency', '1'])
    } finally {
      writable?.()
    }
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(
      new RegExp(
        `^poet generate: stopped at src/b\\.ts#b: cannot write \\.poet/ \\(.+/\\.poet\\): ${WHY}\\. Written to the lock: src/a\\.ts#a\\. ` +
          'Not written: src/b\\.ts#b, src/c\\.ts#c \\(their lock entries are as they were\\)\\. Make \\.poet/ writable and run `poet generate` again\\.\\n$',
      ),
    )
    expect(r.stdout).toMatch(/Generated 1 function with openai:test-model; 2 not written\. Lock: \.poet\/lock\.json\n$/)
    expect(server.requests).toHaveLength(2)
    const after = lockOf(p)
    expect(after.functions['src/a.ts#a']!.versions[after.functions['src/a.ts#a']!.current]!.generator).toBe('openai:test-model')
    expect(after.functions['src/b.ts#b']).toEqual(builtin.functions['src/b.ts#b'])
    expect(after.functions['src/c.ts#c']).toEqual(builtin.functions['src/c.ts#c'])
    expect(readdirSync(p.lockDir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('phase files a refused lock write left behind: poet status names those over an hour old, poet generate removes them, and younger ones stay', async () => {
    const p = fixture('stray')
    expect((await poet(p, ['generate'])).code).toBe(0)
    const named = readdirSync(p.path('.poet/phases')).sort()
    // What a run whose lock write was refused (a full disk, a read-only lock.json) or never came (a killed build) left:
    // a module and its variants two hours ago, a temporary file of a write cut short; and one written a moment ago,
    // by a writer that names it in the lock in a few milliseconds.
    const hoursAgo = (Date.now() - 2 * 3_600_000) / 1000
    const left = ['src~double.ts~double.0123456789.js', 'src~double.ts~double.0123456789.variants.json', 'src~slow.ts~slow.9876543210.js.4242.0.1.tmp']
    for (const f of left) {
      p.write(`.poet/phases/${f}`, 'export default {}\n')
      utimesSync(p.path(`.poet/phases/${f}`), hoursAgo, hoursAgo)
    }
    p.write('.poet/phases/src~slow.ts~slow.5555555555.js', 'export default {}\n')
    // Not a file poet writes: a user's, kept however old.
    p.write('.poet/phases/NOTES.md', 'mine\n')
    utimesSync(p.path('.poet/phases/NOTES.md'), hoursAgo, hoursAgo)

    const status = await poet(p, ['status'])
    expect(status.out).toContain(
      `\n3 files in .poet/phases/ that no version in .poet/lock.json names, written over an hour ago by a run whose lock write failed or never came: ${left.join(', ')}. \`poet generate\` removes them.`,
    )
    expect(JSON.parse((await poet(p, ['status', '--json'])).out).strayFiles).toEqual(left.map((f) => `phases/${f}`))

    const generate = await poet(p, ['generate'])
    expect(generate.code).toBe(0)
    expect(generate.out).toContain(
      `Removed 3 files from .poet/phases/ that no version in .poet/lock.json names (written by a run whose lock write failed or never came): ${left.join(', ')}`,
    )
    // Every function was up to date: the run did not say "Nothing to do" and then what it removed.
    expect(generate.out).toMatch(/^All \d+ functions are up to date in \.poet\/lock\.json\.\nRemoved 3 files/)
    expect(readdirSync(p.path('.poet/phases')).sort()).toEqual([...named, 'NOTES.md', 'src~slow.ts~slow.5555555555.js'].sort())
    expect((await poet(p, ['status'])).out).not.toContain('no version in')

    p.write(`.poet/phases/${left[0]}`, 'export default {}\n')
    utimesSync(p.path(`.poet/phases/${left[0]}`), hoursAgo, hoursAgo)
    expect((await poet(p, ['status'])).out).toContain(`\n1 file in .poet/phases/ that no version in .poet/lock.json names, written over an hour ago by a run whose lock write failed or never came: ${left[0]}. \`poet generate\` removes it.`)
  })

  it('poet rollback, poet train --apply and poet train on a read-only .poet/ say which directory and why, change nothing, and exit 1', async () => {
    const p = fixture('readonly-train')
    for (const f of Object.keys(SOURCES)) if (f !== 'src/double.ts') rmSync(p.path(f))
    p.write('src/double.ts', SOURCES['src/double.ts']!.replace('poet()', "poet({ optimizeFor: 'latency' })"))
    expect((await poet(p, ['generate'])).code).toBe(0)
    const id = 'src/double.ts#double'
    const lock = new LockStore(p.lockDir)
    const current = lock.read().functions[id]!.current
    const v = lock.read().functions[id]!.versions[current]!
    lock.write(id, { version: 'cand0001', source: '// a candidate\n', inputHash: v.inputHash, generator: 'builtin', reason: 'train: test' })
    lock.update((l) => {
      l.functions[id]!.current = current
      l.functions[id]!.candidate = { version: 'cand0001', share: 0.2 }
    })
    new FeedbackStore(join(p.lockDir, 'feedback.db')).close()
    const before = p.read('.poet/lock.json')
    const writable = readOnly(p.lockDir)
    let rollback, unknown, train, show
    try {
      rollback = await bin(p, ['rollback', id])
      unknown = await bin(p, ['rollback', 'src/double.ts#nope'])
      train = await bin(p, ['train', '--apply'])
      show = await bin(p, ['train'])
    } finally {
      writable()
    }
    expect(rollback.code, rollback.stderr).toBe(1)
    expect(rollback.stderr).toMatch(
      new RegExp(`^poet rollback: cannot write \\.poet/ \\(.+/\\.poet\\): ${WHY}, so src/double\\.ts#double was not rolled back: nothing changed\\. Make \\.poet/ writable and run it again, or roll back in a writable checkout and commit \\.poet/\\.\\n$`),
    )
    // An unknown id needs no write: the usage error it always was.
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^poet rollback: src\/double\.ts#nope is not in /)
    expect(train.code, train.stderr).toBe(1)
    expect(train.stderr).toMatch(
      new RegExp(`^poet train: cannot write \\.poet/ \\(.+/\\.poet\\): ${WHY}\\. Nothing was asked or applied: make \\.poet/ writable, or run \`poet train --apply\` in a writable checkout and commit \\.poet/\\.\\n$`),
    )
    expect(train.stdout).toBe('')
    // Only showing the decisions writes nothing, yet SQLite cannot open a store in a directory it cannot write.
    expect(show.code, show.stderr).toBe(1)
    expect(show.stderr).toMatch(
      new RegExp(`^poet train: cannot open the feedback store .+/\\.poet/feedback\\.db: cannot write \\.poet/ \\(.+/\\.poet\\): ${WHY}, and SQLite writes its journal beside the store even to read it\\. Make the directory writable, or pass --db with a copy of the store in a writable place\\.\\n$`),
    )
    expect(p.read('.poet/lock.json')).toBe(before)
  })
})

describe('a version Train promoted, when its function changes', () => {
  const ID = 'src/double.ts#double'
  /** Promotes a Train-made version of `double` with 5 attempts, as `poet train --apply` leaves it; returns it. */
  function promoteTrained(p: Project): string {
    const lock = new LockStore(p.path('.poet'))
    const entry = lock.read().functions[ID]!
    const source = lock.source(ID, entry.current)!
    const next = withPolicy(source, { ...readPolicy(source)!, attempts: 5 }, 'test: more attempts')
    lock.write(ID, { version: next.version, source: next.source, inputHash: entry.versions[entry.current]!.inputHash, generator: 'builtin', reason: 'train: test: more attempts', origin: 'train' })
    return next.version
  }

  it('status and generate keep it across an edit of the body alone, and say it is replaced when the signature changes', async () => {
    const p = fixture('promoted')
    expect((await poet(p, ['generate'])).code).toBe(0)
    const promoted = promoteTrained(p)
    p.write('src/double.ts', SOURCES['src/double.ts']!.replace('return n * 2', 'return n + n'))
    const kept = await poet(p, ['status'])
    expect(kept.out).toContain(`${ID}: only its body changed since ${promoted}, the version Train promoted; builtin phases do not read it, so the next build or \`poet generate\` keeps that version.`)
    expect(JSON.parse((await poet(p, ['status', '--json'])).out).functions[0]).toMatchObject({ id: ID, state: 'stale', promoted: 'kept' })
    const generated = await poet(p, ['generate'])
    expect(generated.code).toBe(0)
    expect(generated.err).not.toContain('replaces')
    expect(lockOf(p).functions[ID]!.current).toBe(promoted)
    expect(JSON.parse((await poet(p, ['status', '--json'])).out).functions[0]).toMatchObject({ id: ID, state: 'fresh', version: promoted, promoted: null })

    p.write('src/double.ts', SOURCES['src/double.ts']!.replace('(n: number): number', '(n: number): number | null'))
    const replacing = await poet(p, ['status'])
    expect(replacing.out).toContain(
      `${ID}: its signature, options or types changed, so the next build or \`poet generate\` replaces ${promoted}, the version Train promoted, with new phases: what Train learned is not kept, and Train proposes again from the new version's calls.`,
    )
    const replaced = await poet(p, ['generate'])
    expect(replaced.code).toBe(0)
    const entry = lockOf(p).functions[ID]!
    expect(entry.current).not.toBe(promoted)
    expect(replaced.out + replaced.err).toContain(`${ID}: ${entry.current} replaces ${promoted}, the version Train promoted, as the function's source, options, types, domain pack or generator changed`)
    expect(entry.versions[entry.current]!.reason).toMatch(new RegExp(`^generate; replaces ${promoted}, which Train promoted, as the function's source`))
    expect((await poet(p, ['status'])).out).not.toContain('Train promoted')
  })
})
