// A newer builtin compiler reaches functions whose source did not change: their lock entries go stale, the next build
// (or `poet generate`) regenerates them, and what Train promoted in them is kept.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createDashboard } from '../../src/dashboard/handler'
import { createCollector } from '../../src/train/collector'
import { main } from '../../src/cli/main'
import { scanProject } from '../../src/cli/project'
import { compilerUpgradeOnly, phaseInputHash, planGeneration, writeGeneration } from '../../src/generators'
import { BUILTIN_VERSION, EARLIER_BUILTIN_VERSIONS } from '../../src/generators/builtin/version'
import { earlierVersions, inputHash, LockStore, type LockVersion, type NewVersion } from '../../src/generators/lock'
import { PROMPT_VERSION } from '../../src/generators/llm/version'
import { resolveOptions } from '../../src/plugin/options'
import { readPolicy, withPolicy } from '../../src/train/candidate'
import { readLearned } from '../../src/train/thresholds'
import { LEARNED_MAX_BATCH } from '../../src/generators/builtin/domains/data_processing'
import { build, createProject, PACKAGE_ROOT, readOnly, run, type Project } from '../helpers/project'
import { reply, startOpenAIServer, type OpenAIServer } from '../helpers/openai-server'

const ID = 'src/total.ts#total'
const SOURCE = `
import { poet } from 'unplugin-poet/runtime'

export { PoetInputError } from 'unplugin-poet/runtime'
export let calls = 0

interface Line { price: number; qty: number }

export const total = poet({ attempts: 2, optimizeFor: 'latency' })(function total(lines: Line[]): number {
  calls++
  if (lines.length === 0) throw new Error('no lines')
  return lines.reduce((s, l) => s + l.price * l.qty, 0)
})
`

interface App {
  total(lines: unknown): number
  calls: number
  PoetInputError: new (...args: never[]) => Error
}

let project: Project | undefined
let server: OpenAIServer | undefined
afterEach(async () => {
  await server?.close()
  project?.remove()
  server = project = undefined
})

function fixture(name: string): Project {
  project = createProject(`compiler-${name}`)
  for (const f of readdirSync(project.path('src'))) rmSync(project.path(`src/${f}`))
  project.write('src/total.ts', SOURCE)
  return project
}

/**
 * Makes the lock look as a release before the compiler's version was hashed left it: the current version's hash is
 * the old formula's, and its phases are what an older compiler wrote (here: checks that let `price: "9"` through).
 * With `attempts`, the current version is one Train promoted from it, with that many attempts.
 */
function olderCompiler(p: Project, attempts?: number): { old: string; trained?: string } {
  const lock = new LockStore(p.lockDir)
  const spec = scanProject(resolveOptions({ root: p.dir })).specs.find((s) => s.id === ID)!
  const legacy = inputHash(spec, { generator: 'builtin' })
  const entry = lock.read().functions[ID]!
  const weak = weakened(lock.source(ID, entry.current)!)
  expect(weak).not.toEqual(lock.source(ID, entry.current))
  const old = renderLike(weak, 'old0000001')
  lock.write(ID, { version: old.version, source: old.source, inputHash: legacy, generator: 'builtin', reason: 'build', optimizeFor: 'latency' })
  if (attempts === undefined) return { old: old.version }
  nextMillisecond()
  const trained = withPolicy(old.source, { ...readPolicy(old.source)!, attempts }, 'attempts up (test)')
  lock.write(ID, { version: trained.version, source: trained.source, inputHash: legacy, generator: 'builtin', reason: 'train: attempts up (test)', optimizeFor: 'latency' })
  return { old: old.version, trained: trained.version }
}

/** Checks an older compiler wrote: its number checks let anything through (here: `price: "9"`). */
function weakened(source: string): string {
  return source.replace(/if \(!\(typeof (\w+) === "number"\)\)/g, 'if (false)')
}

/**
 * Makes the builtin fallback a build wrote under an LLM config look as an older release left it: its hash the LLM's
 * (unchanged), weakened checks, no compiler recorded; then Train promoted 4 attempts in it. Returns the fallback as
 * this release wrote it (and its version), and the two versions written.
 */
function olderFallback(
  lock: LockStore,
  marked: Pick<NewVersion, 'reason' | 'fallback'> = { reason: 'fallback: the model refused: No' },
): { built: string; fell: LockVersion; weak: { version: string; source: string }; trained: { version: string; source: string } } {
  const first = lock.read().functions[ID]!
  const fell = first.versions[first.current]!
  const weak = renderLike(weakened(lock.source(ID, first.current)!), 'fall000001')
  const older = { inputHash: fell.inputHash, generator: 'builtin', model: 'test-model', optimizeFor: 'latency' }
  lock.write(ID, { ...older, ...weak, ...marked })
  nextMillisecond()
  const trained = withPolicy(weak.source, { ...readPolicy(weak.source)!, attempts: 4 }, 'attempts up (test)')
  lock.write(ID, { ...older, ...trained, reason: 'train: attempts up (test)' })
  return { built: first.current, fell, weak, trained }
}

/** A project whose one function has a domain pack with a learned threshold (data_processing's batch limit), generated. */
async function rowsProject(name: string): Promise<{ p: Project; id: string; lock: LockStore }> {
  const p = fixture(name)
  p.write('src/rows.ts', `import { poet } from 'unplugin-poet/runtime'\n\nexport const load = poet({ domain: 'data_processing', optimizeFor: 'latency' })(function load(rows: number[]): number {\n  return rows.length\n})\n`)
  expect((await poet(p, ['generate'])).code).toBe(0)
  return { p, id: 'src/rows.ts#load', lock: new LockStore(p.lockDir) }
}

/** The same module under another version id, as a stored version of an older release would be. */
function renderLike(source: string, version: string): { version: string; source: string } {
  const current = /^ {2}version: "([^"]+)",$/m.exec(source)![1]!
  return { version, source: source.split(current).join(version) }
}

async function poet(p: Project, argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), cwd: p.dir, tty: false, env: {}, write: () => {} })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

/** The built `poet` bin in a child process, as a user runs it. */
async function cli(p: Project, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const done = await promisify(execFile)(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.mjs'), ...argv], { cwd: p.dir, env: { ...process.env, CI: '' } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  )
  return { code: done.code, out: done.stdout, err: done.stderr }
}

/**
 * Puts a candidate under A/B test beside the current version, as `poet train --apply` records one: its module is
 * `source`, its hash the current's, and its share one that (almost) every call takes.
 */
function underTest(p: Project, candidate: { version: string; source: string }, generator = 'builtin'): void {
  const lock = new LockStore(p.lockDir)
  lock.update((l) => {
    const e = l.functions[ID]!
    const current = e.versions[e.current]!
    e.versions[candidate.version] = { inputHash: current.inputHash, generator, created: new Date(Date.parse(current.created) + 60_000).toISOString(), file: lock.writeFiles(ID, candidate.version, candidate.source).file, reason: 'train: latency above its baseline (test)' }
    e.candidate = { version: candidate.version, share: 0.999999, since: current.created, metric: 'latency' }
  })
}

describe('a newer builtin compiler', () => {
  it('regenerates an entry an older compiler wrote, in a strict build too, so its fixed checks reach the bundle', async () => {
    const p = fixture('build')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const { old } = olderCompiler(p)
    const status = await poet(p, ['status'])
    expect(status.out).toMatch(/src\/total\.ts#total\s+\S+\s+builtin\s+yes \(compiler\)/)
    const check = await poet(p, ['generate', '--check'])
    expect(check.code, check.out + check.err).toBe(1)
    expect(check.out).toContain('stale    src/total.ts#total  (a newer builtin compiler writes other checks; its inputs are unchanged)')

    const built = await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/new', options: { strict: true } })
    const app = await run<App>(built, 'new')
    expect(() => app.total([{ price: '9', qty: 2 }])).toThrow(app.PoetInputError)
    expect(() => app.total([{ price: '9', qty: 2 }])).toThrow(/args\[0\]\[0\]\.price/)
    expect(app.total([{ price: 3, qty: 2 }])).toBe(6)
    const entry = new LockStore(p.lockDir).read().functions[ID]!
    expect(entry.current).not.toBe(old)
    // Nothing Train promoted, so the new version is the compiler's own output, and the old one is kept for rollback.
    expect(entry.versions[entry.current]!.reason).toBe('build')
    expect(Object.keys(entry.versions)).toContain(old)
    expect((await poet(p, ['generate', '--check'])).code).toBe(0)
  })

  it("keeps the policy Train promoted: the regenerated version has the new checks and the trained attempts", async () => {
    const p = fixture('trained')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const { trained } = olderCompiler(p, 4)

    const result = await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/vite' })
    expect(result.warnings.join('\n')).toContain(`${ID}: regenerated by a newer builtin compiler; kept what Train promoted in ${trained}`)
    const app = await run<App>(result, 'trained')
    expect(() => app.total([{ price: '9', qty: 2 }])).toThrow(app.PoetInputError)
    // Every attempt of a failing call runs the function: 4, as trained, not the 2 of its options.
    const before = app.calls
    expect(() => app.total([])).toThrow('no lines')
    expect(app.calls - before).toBe(4)

    const lock = new LockStore(p.lockDir)
    const entry = lock.read().functions[ID]!
    const current = entry.versions[entry.current]!
    expect(current).toMatchObject({ reason: `build: kept attempts Train promoted in ${trained}`, origin: 'train' })
    const source = lock.source(ID, entry.current)!
    expect(readPolicy(source)!.attempts).toBe(4)
    // Trained from the new compiler's own output, which the lock holds beside it.
    const base = /^\/\/ trained from (\S+): attempts as Train promoted them in (\S+), kept across a builtin compiler upgrade$/m.exec(source)
    expect(base?.[2]).toBe(trained)
    // The compiler's own module, kept beside it as the version training started from, is no work of Train's.
    expect(entry.versions[base![1]!]!.origin).toBeUndefined()
    expect(readPolicy(lock.source(ID, base![1]!)!)!.attempts).toBe(2)
    expect(entry.versions[base![1]!]!.reason).toBe('build')
    // A rollback goes back to that module, and from there not forward again to the one keeping Train's attempts.
    expect(earlierVersions(entry).sameSource[0]).toBe(base![1])
    expect(earlierVersions({ ...entry, current: base![1]! }).older).not.toContain(entry.current)
  })

  it('carries once when two builds regenerate the same function at the same time, and names the version Train promoted', async () => {
    const p = fixture('concurrent')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const { trained } = olderCompiler(p, 4)
    const lock = new LockStore(p.lockDir)
    const before = lock.read().functions[ID]!
    // Both decide from the lock as it was (stale by the compiler only), and the later one writes after the earlier.
    const [a, b] = await Promise.all(['a', 'b'].map((n) => build(p, 'vite', { entry: 'src/total.ts', outDir: `dist/${n}` })))
    for (const [name, result] of [['a', a!], ['b', b!]] as const) {
      const app = await run<App>(result, `concurrent-${name}`)
      const calls = app.calls
      expect(() => app.total([])).toThrow('no lines')
      expect(app.calls - calls, `the attempts of build ${name}`).toBe(4)
    }
    const entry = lock.read().functions[ID]!
    const source = lock.source(ID, entry.current)!
    expect(entry.versions[entry.current]!.reason).toBe(`build: kept attempts Train promoted in ${trained}`)
    expect(source.match(/^\/\/ trained from .*$/gm)).toEqual([expect.stringContaining(`as Train promoted them in ${trained}, kept`)])
    // Besides the fresh module (here the first build's own), only the one keeping Train's attempts.
    expect(Object.keys(entry.versions).filter((v) => !Object.hasOwn(before.versions, v))).toEqual([entry.current])
  })

  it("leaves a trained version as Train wrote it when the new compiler writes the same module for the function", async () => {
    const p = fixture('unchanged')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    // An older release that wrote this very module (its fix was for other shapes), and Train's version of it.
    const lock = new LockStore(p.lockDir)
    const spec = scanProject(resolveOptions({ root: p.dir })).specs.find((s) => s.id === ID)!
    const legacy = inputHash(spec, { generator: 'builtin' })
    const built = lock.read().functions[ID]!.current
    const same = lock.source(ID, built)!
    lock.write(ID, { version: built, source: same, inputHash: legacy, generator: 'builtin', reason: 'build', optimizeFor: 'latency' })
    // Trained twice: a rollback from the current goes back to the first. Versions are ordered by their creation time,
    // in milliseconds: written in one millisecond, as a test can, they would tie, as releases and Train runs never do.
    nextMillisecond()
    const first = withPolicy(same, { ...readPolicy(same)!, attempts: 3 }, 'attempts up (test)')
    lock.write(ID, { version: first.version, source: first.source, inputHash: legacy, generator: 'builtin', reason: 'train: attempts up (test)', optimizeFor: 'latency' })
    nextMillisecond()
    const trained = withPolicy(first.source, { ...readPolicy(same)!, attempts: 4 }, 'attempts up (test)')
    lock.write(ID, { version: trained.version, source: trained.source, inputHash: legacy, generator: 'builtin', reason: 'train: attempts up (test)', optimizeFor: 'latency' })
    // Under A/B test against it: a candidate Train derived from the trained version.
    const candidate = withPolicy(same, { ...readPolicy(same)!, attempts: 5 }, 'attempts up again (test)')
    lock.update((l) => {
      const e = l.functions[ID]!
      e.versions[candidate.version] = { ...e.versions[trained.version]!, file: lock.writeFiles(ID, candidate.version, candidate.source).file, reason: 'train: again (test)', created: new Date(Date.now() + 60_000).toISOString() }
      // A share (almost) no call takes: the attempts the bundle runs are the current's.
      e.candidate = { version: candidate.version, share: 1e-9 }
    })

    const result = await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/vite' })
    const app = await run<App>(result, 'unchanged')
    const calls = app.calls
    expect(() => app.total([])).toThrow('no lines')
    expect(app.calls - calls).toBe(4)
    const entry = lock.read().functions[ID]!
    expect(entry.current).toBe(trained.version)
    expect(entry.versions[trained.version]!.reason).toBe('train: attempts up (test)')
    expect(lock.source(ID, trained.version)).toBe(trained.source)
    expect(entry.candidate?.version).toBe(candidate.version)
    expect(entry.versions[candidate.version]!.inputHash).toBe(entry.versions[trained.version]!.inputHash)
    // A rollback still goes back to the version training started from.
    expect(earlierVersions(entry).sameSource).toEqual([first.version, built])
    expect(result.warnings.join('\n')).not.toContain('kept what Train promoted')
    expect((await poet(p, ['generate', '--check'])).code).toBe(0)
  })

  it('poet generate keeps what Train promoted too, and --force gives the compiler its own output', async () => {
    const p = fixture('generate')
    expect((await poet(p, ['generate'])).code).toBe(0)
    olderCompiler(p, 5)
    const generated = await poet(p, ['generate'])
    expect(generated.code).toBe(0)
    expect(generated.err).toMatch(/src\/total\.ts#total: kept what Train promoted in \w+/)
    const lock = new LockStore(p.lockDir)
    const attempts = () => readPolicy(lock.source(ID, lock.read().functions[ID]!.current)!)!.attempts
    expect(attempts()).toBe(5)
    expect((await poet(p, ['generate', '--force'])).code).toBe(0)
    expect(attempts()).toBe(2)
  })

  it('leaves alone what only looks like an upgrade: a changed source, an LLM generator, an LLM-written version', () => {
    const p = fixture('unit')
    const options = resolveOptions({ root: p.dir })
    const spec = scanProject(options).specs.find((s) => s.id === ID)!
    const version = (inputHash: string, generator = 'builtin') => ({ inputHash, generator, created: '', file: '' })
    const legacy = inputHash(spec, { generator: 'builtin' })
    expect(EARLIER_BUILTIN_VERSIONS).toContain('')
    expect(phaseInputHash(spec, options.generator)).not.toBe(legacy)
    expect(compilerUpgradeOnly(spec, options.generator, undefined, version(legacy))).toBe(true)
    expect(compilerUpgradeOnly(spec, options.generator, undefined, version(phaseInputHash(spec, options.generator)))).toBe(false)
    expect(compilerUpgradeOnly({ ...spec, source: spec.source + ' ' }, options.generator, undefined, version(legacy))).toBe(false)
    expect(compilerUpgradeOnly(spec, options.generator, undefined, version(legacy, 'openai:gpt-4o-mini'))).toBe(false)
    const llm = resolveOptions({ root: p.dir, generator: { provider: 'openai', model: 'm', baseURL: 'http://127.0.0.1:9/v1', apiKey: 'k' } })
    expect(compilerUpgradeOnly(spec, llm.generator, undefined, version(legacy))).toBe(false)
    // An LLM entry's hash is what it was before the compiler's version was hashed: no paid-for entry goes stale.
    expect(phaseInputHash(spec, llm.generator)).toBe(inputHash(spec, { generator: 'openai:m', model: 'm', promptVersion: PROMPT_VERSION }))
  })

  it('keeps trained values across one upgrade after another, learned thresholds included, and only what Train changed', async () => {
    const { id, lock } = await rowsProject('carry')
    const currentSource = () => lock.source(id, lock.read().functions[id]!.current)!
    const built = currentSource()
    const defaultBatch = readLearned(built)![LEARNED_MAX_BATCH]
    const trained = withPolicy(built, { ...readPolicy(built)!, timeout: 1234 }, 'timeout (test)', { ...readLearned(built)!, [LEARNED_MAX_BATCH]: 77 })
    const base = { inputHash: 'h', generator: 'builtin', reason: 'build', optimizeFor: 'latency' }
    lock.write(id, { ...base, ...trained, reason: 'train: timeout (test)' })

    // Two releases in a row, each writing other checks (and the second a new default: attempts 3), each hashing its version.
    const release = (n: number, edit: (src: string) => string) => renderLike(edit(built).replace('function perceive(args, ctx) {', `function perceive(args, ctx) {\n  // compiler ${n}`), `rel000000${n}`)
    const first = await writeGeneration(lock, id, { ...base, inputHash: 'h1', ...release(1, (x) => x) }, true)
    expect(first.kept).toBe(trained.version)
    // Rolled back to the release's own module, a rollback from there does not go forward to the one keeping Train's values.
    expect(earlierVersions({ ...lock.read().functions[id]!, current: 'rel0000001' }).older).not.toContain(first.version)
    const second = await writeGeneration(lock, id, { ...base, inputHash: 'h2', ...release(2, (x) => x.replace(/"attempts":\d+/, '"attempts":3')) }, true)
    expect(second.kept).toBe(first.version)
    const now = currentSource()
    expect(now).toContain('// compiler 2')
    expect(readPolicy(now)).toMatchObject({ timeout: 1234, attempts: 3 })
    expect(readLearned(now)![LEARNED_MAX_BATCH]).toBe(77)
    expect(defaultBatch).not.toBe(77)
    // Nothing trained, nothing carried: the release's own module.
    const plain = renderLike(built, 'rel0000003')
    lock.write(id, { ...base, ...plain })
    expect((await writeGeneration(lock, id, { ...base, inputHash: 'h4', ...renderLike(built.replace('// data_processing', '// compiler 4\n// data_processing'), 'rel0000004') }, true)).kept).toBeUndefined()
    expect(lock.read().functions[id]!.current).toBe('rel0000004')
  })

  it("ends the A/B test of a threshold the new compiler no longer has, saying so, not that the new version holds it", async () => {
    const { id, lock } = await rowsProject('dropped')
    const built = lock.source(id, lock.read().functions[id]!.current)!
    const candidate = withPolicy(built, readPolicy(built)!, 'batch limit (test)', { ...readLearned(built)!, [LEARNED_MAX_BATCH]: 77 })
    lock.update((l) => {
      const e = l.functions[id]!
      e.versions[candidate.version] = { ...e.versions[e.current]!, file: lock.writeFiles(id, candidate.version, candidate.source).file, reason: 'train: batch limit (test)' }
      e.candidate = { version: candidate.version, share: 0.2, metric: 'ok rate' }
    })
    // A release whose checks have no batch limit any more: its module declares no learned thresholds.
    const release = renderLike(built.replace(/^\/\/ Domain thresholds.*\nconst learned = .*\n/m, ''), 'rel0000001')
    expect(readLearned(release.source)).toBeUndefined()
    const planned = await writeGeneration(lock, id, { inputHash: 'h1', generator: 'builtin', reason: 'build', optimizeFor: 'latency', ...release }, true)
    expect(planned.test).toEqual({
      from: candidate.version,
      ended: `the new compiler's checks no longer have the threshold it was testing (${LEARNED_MAX_BATCH}), so there is nothing to apply it to; Train proposes a new candidate from the new version's calls`,
    })
    expect(lock.read().functions[id]!.candidate).toBeUndefined()
    expect(lock.read().functions[id]!.versions[release.version]!.reason).toContain(`the A/B test of candidate ${candidate.version} ended: the new compiler's checks no longer have the threshold`)
  })

  it('keeps an A/B test running: the candidate is carried onto the new module, and the build, poet status and the lock say so', async () => {
    const p = fixture('ab')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const { trained } = olderCompiler(p, 4)
    const lock = new LockStore(p.lockDir)
    const trainedSource = lock.source(ID, trained!)!
    const candidate = withPolicy(trainedSource, { ...readPolicy(trainedSource)!, attempts: 5 }, 'attempts up again (test)')
    underTest(p, candidate)

    const result = await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/vite' })
    const entry = lock.read().functions[ID]!
    const carried = entry.candidate?.version
    expect(carried, 'the test goes on').toBeDefined()
    expect(carried).not.toBe(candidate.version)
    expect(result.warnings.join('\n')).toContain(`${ID}: regenerated by a newer builtin compiler; the A/B test of candidate ${candidate.version} goes on as ${carried} (what it tests, applied to the new checks; its evidence starts over)`)
    expect(entry.candidate).toMatchObject({ share: 0.999999, metric: 'latency' })
    expect(Date.parse(entry.candidate!.since!)).toBeGreaterThan(Date.parse(entry.versions[trained!]!.created))
    // The candidate's 5 attempts on the new current (the trained 4 kept), with the new compiler's checks and hash.
    const source = lock.source(ID, carried!)!
    expect(readPolicy(source)!.attempts).toBe(5)
    expect(source).toMatch(new RegExp(`^// trained from ${entry.current}: attempts as candidate ${candidate.version} tests them, carried across a builtin compiler upgrade$`, 'm'))
    expect(entry.versions[carried!]!.inputHash).toBe(entry.versions[entry.current]!.inputHash)
    expect(entry.versions[carried!]).toMatchObject({
      reason: `train: latency above its baseline (test) (carried from candidate ${candidate.version} across a builtin compiler upgrade)`,
      origin: 'train',
    })
    expect(readPolicy(lock.source(ID, entry.current)!)!.attempts).toBe(4)
    // The bundle runs the test: (almost) every call takes the candidate, which checks what the new compiler checks.
    const app = await run<App>(result, 'ab')
    expect(() => app.total([{ price: '9', qty: 2 }])).toThrow(app.PoetInputError)
    const before = app.calls
    expect(() => app.total([])).toThrow('no lines')
    expect(app.calls - before).toBe(5)
    const status = await cli(p, ['status'])
    expect(status.code, status.err).toBe(0)
    expect(status.out).toMatch(new RegExp(`src/total\\.ts#total\\s+${entry.current} \\(candidate ${carried} at 100%\\)\\s+builtin\\s+no\\s`))
    expect((await cli(p, ['generate', '--check'])).code).toBe(0)
  })

  it('says when the new compiler has no place for a threshold Train promoted, instead of dropping it silently', async () => {
    const { id, lock } = await rowsProject('lost')
    const built = lock.source(id, lock.read().functions[id]!.current)!
    const trained = withPolicy(built, readPolicy(built)!, 'batch limit (test)', { ...readLearned(built)!, [LEARNED_MAX_BATCH]: 77 })
    lock.write(id, { inputHash: 'h', generator: 'builtin', reason: 'train: batch limit (test)', optimizeFor: 'latency', ...trained })
    const release = renderLike(built.replace(/^\/\/ Domain thresholds.*\nconst learned = .*\n/m, ''), 'rel0000001')
    const planned = await writeGeneration(lock, id, { inputHash: 'h1', generator: 'builtin', reason: 'build', optimizeFor: 'latency', ...release }, true)
    const lost = `the new compiler's checks no longer have ${LEARNED_MAX_BATCH}, which Train promoted in ${trained.version}, so it is dropped`
    expect(planned.lost).toBe(lost)
    expect(planned.version).toBe(release.version)
    expect(lock.read().functions[id]!.versions[release.version]!.reason).toBe(`build; ${lost}`)
  })

  it('says the A/B test ended, not that it goes on, when Train or a rollback ends it between the plan and the write', async () => {
    const p = fixture('ab-race')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const lock = new LockStore(p.lockDir)
    const built = lock.read().functions[ID]!
    const fresh = { version: built.current, source: lock.source(ID, built.current)!, inputHash: built.versions[built.current]!.inputHash, generator: 'builtin', reason: 'build', optimizeFor: 'latency' }
    const { trained } = olderCompiler(p, 4)
    const trainedSource = lock.source(ID, trained!)!
    const candidate = withPolicy(trainedSource, { ...readPolicy(trainedSource)!, attempts: 5 }, 'attempts up again (test)')
    underTest(p, candidate)
    const planned = await planGeneration(lock, ID, fresh, true)
    expect(planned.test).toMatchObject({ from: candidate.version, carried: expect.any(String) })
    lock.update((l) => void delete l.functions[ID]!.candidate)
    await planned.write()
    expect(planned.test).toEqual({ from: candidate.version, ended: 'it ended while the function was regenerated (Train, `poet rollback` or the dashboard ended it), so there was nothing to carry' })
    expect(planned.candidate).toBeUndefined()
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
    expect(readPolicy(lock.source(ID, lock.read().functions[ID]!.current)!)!.attempts).toBe(4)
  })

  it('says which A/B test ended and why when its candidate cannot be carried, and the lock and poet status agree', async () => {
    const p = fixture('ab-ended')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const { old } = olderCompiler(p)
    // A candidate that is not Train's policy change of a builtin version: another generator's module.
    const lock = new LockStore(p.lockDir)
    const foreign = renderLike(lock.source(ID, old)!.replace('function perceive(args, ctx) {', 'function perceive(args, ctx) {\n  // another generator'), 'llm0000001')
    underTest(p, foreign, 'openai:m')

    const result = await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/vite' })
    const ended = `the A/B test of candidate llm0000001 ended: it was not made by Train from a builtin version (generator openai:m), so its changes cannot be told apart from the old compiler's checks; Train proposes a new candidate from the new version's calls`
    expect(result.warnings.join('\n')).toContain(`${ID}: regenerated by a newer builtin compiler; ${ended}`)
    const entry = lock.read().functions[ID]!
    expect(entry.candidate).toBeUndefined()
    expect(entry.versions[entry.current]!.reason).toBe(`build; ${ended}`)
    const status = await cli(p, ['status'])
    expect(status.out).toMatch(new RegExp(`src/total\\.ts#total\\s+${entry.current}\\s+builtin\\s+no\\s`))
  })

  it('says which A/B test any other regeneration ends, and why: a changed source in a build, poet generate --force', async () => {
    const p = fixture('ab-regenerated')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const lock = new LockStore(p.lockDir)
    const first = lock.read().functions[ID]!.current
    const firstSource = lock.source(ID, first)!
    underTest(p, withPolicy(firstSource, { ...readPolicy(firstSource)!, attempts: 5 }, 'attempts up (test)'))
    const tested = lock.read().functions[ID]!.candidate!.version

    // The function's options changed: the build regenerates it, and the candidate tested a change to the old version.
    p.write('src/total.ts', SOURCE.replace('attempts: 2', 'attempts: 3'))
    const result = await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/changed' })
    const ended = `the A/B test of candidate ${tested} ended: the function's source, options, types, domain pack or generator changed, so it tested a change to ${first}, which the new version replaces; Train proposes a new candidate from the new version's calls`
    expect(result.warnings.join('\n')).toContain(`poet: ${ID}: ${ended}`)
    let entry = lock.read().functions[ID]!
    expect(entry.candidate).toBeUndefined()
    expect(entry.versions[entry.current]!.reason).toBe(`build; ${ended}`)

    // --force gives the generator's own output in place of a version Train promoted: its candidate's test ends too.
    const rebuilt = lock.source(ID, entry.current)!
    const trained = withPolicy(rebuilt, { ...readPolicy(rebuilt)!, attempts: 4 }, 'attempts up (test)')
    lock.write(ID, { version: trained.version, source: trained.source, inputHash: entry.versions[entry.current]!.inputHash, generator: 'builtin', reason: 'train: attempts up (test)', optimizeFor: 'latency' })
    underTest(p, withPolicy(trained.source, { ...readPolicy(trained.source)!, attempts: 5 }, 'attempts up again (test)'))
    const again = lock.read().functions[ID]!.candidate!.version
    const forced = await cli(p, ['generate', '--force'])
    expect(forced.code, forced.err).toBe(0)
    const endedByForce = `the A/B test of candidate ${again} ended: \`poet generate --force\` regenerated the function, so it tested a change to ${trained.version}, which the new version replaces; Train proposes a new candidate from the new version's calls`
    expect(forced.err).toContain(`${ID}: ${endedByForce}`)
    entry = lock.read().functions[ID]!
    expect(entry.candidate).toBeUndefined()
    expect(forced.err).toContain(`${ID}: ${entry.current} replaces ${trained.version}, the version Train promoted, as \`poet generate --force\` asks for the generator's own phases: what Train learned is not kept`)
    expect(entry.versions[entry.current]!.reason).toBe(
      `generate --force; replaces ${trained.version}, which Train promoted, as \`poet generate --force\` asks for the generator's own phases; Train proposes again from the new version's calls; ${endedByForce}`,
    )
  })

  it('builds a read-only checkout from memory, strict or not, with one clear warning, and keeps what Train promoted and tested', async () => {
    const p = fixture('readonly')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const { trained } = olderCompiler(p, 4)
    const lock = new LockStore(p.lockDir)
    const trainedSource = lock.source(ID, trained!)!
    underTest(p, withPolicy(trainedSource, { ...readPolicy(trainedSource)!, attempts: 5 }, 'attempts up again (test)'))
    const locked = readFileSync(join(p.lockDir, 'lock.json'), 'utf8')
    const phases = readdirSync(join(p.lockDir, 'phases'))
    const writable = readOnly(p.lockDir)
    try {
      for (const [n, strict] of [[1, false], [2, true]] as const) {
        const result = await build(p, n === 1 ? 'vite' : 'rollup', { entry: 'src/total.ts', outDir: `dist/ro${n}`, options: { strict } })
        const refused = result.warnings.filter((w) => w.includes('cannot be written'))
        expect(refused, result.warnings.join('\n')).toHaveLength(1)
        expect(refused[0]).toMatch(
          new RegExp(
            `poet: \\.poet/ cannot be written \\((EROFS|EACCES|EPERM)[^)]*\\): the phases of src/total\\.ts#total, and of every other function whose lock entry is missing or stale, are served from memory, ` +
              'generated offline by the builtin compiler as they would be written\\. Run `poet generate` where \\.poet/ is writable and commit \\.poet/, so builds read them from the lock\\.',
          ),
        )
        const app = await run<App>(result, `readonly-${n}`)
        // The new compiler's checks, and the A/B test carried onto them in memory: (almost) every call takes the
        // candidate's 5 attempts.
        expect(() => app.total([{ price: '9', qty: 2 }])).toThrow(app.PoetInputError)
        const before = app.calls
        expect(() => app.total([])).toThrow('no lines')
        expect(app.calls - before).toBe(5)
      }
      expect(readFileSync(join(p.lockDir, 'lock.json'), 'utf8')).toBe(locked)
      expect(readdirSync(join(p.lockDir, 'phases'))).toEqual(phases)
      const check = await cli(p, ['generate', '--check'])
      expect(check.code).toBe(1)
      expect(check.out).toContain('stale    src/total.ts#total  (a newer builtin compiler writes other checks; its inputs are unchanged)')
    } finally {
      writable()
    }
    // Where .poet/ is writable, poet generate writes what the read-only builds served.
    const generated = await cli(p, ['generate'])
    expect(generated.code, generated.err).toBe(0)
    const entry = lock.read().functions[ID]!
    expect(readPolicy(lock.source(ID, entry.current)!)!.attempts).toBe(4)
    expect(readPolicy(lock.source(ID, entry.candidate!.version)!)!.attempts).toBe(5)
    expect((await cli(p, ['generate', '--check'])).code).toBe(0)
  })

  it("names versions an older compiler wrote for what they are in poet rollback and the dashboard, not versions of another source", async () => {
    const p = fixture('older')
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/first' })
    const { old } = olderCompiler(p)
    const lock = new LockStore(p.lockDir)
    // Written before this release's compiler ran, as it would have been (the fixture's first build ran it already).
    lock.update((l) => (l.functions[ID]!.versions[old]!.created = '2020-01-01T00:00:00.000Z'))
    await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/vite' })
    const upgraded = lock.read().functions[ID]!.current

    const back = await cli(p, ['rollback', ID])
    expect(back.code).toBe(1)
    expect(back.err).toContain(`${ID} has no earlier version of its current source to roll back to (${old} was written by an earlier builtin compiler from this source, which a build regenerates with this release's compiler)`)

    const collector = createCollector({ db: join(p.lockDir, 'feedback.db'), lockDir: p.lockDir, base: '/__poet' })
    const dashboard = createDashboard({ base: '/__poet', lockDir: p.lockDir, store: collector.store, collector: collector.handle, project: 'p', writable: true, token: 't' })
    const server = createServer((req, res) => dashboard(req, res, () => collector.handle(req, res)))
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/__poet/api`
      const info = (await (await fetch(`${url}/functions`)).json()) as { functions: Record<string, { promotable: string[]; olderCompiler?: string[] }> }
      expect(info.functions[ID]).toMatchObject({ promotable: [], olderCompiler: [old] })
      const post = (action: string, body: object) =>
        fetch(`${url}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-poet-token': 't' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, ...((await r.json()) as { error?: string }) }))
      expect(await post('promote', { id: ID, version: old })).toEqual({
        status: 409,
        error: `${old} was written by an earlier builtin compiler from the current source of ${ID}; a build would regenerate it with this release's compiler (keeping what Train promoted in it), so it cannot serve again. Promote a version this compiler wrote.`,
      })
      expect(await post('rollback', { id: ID })).toEqual({
        status: 409,
        error: `${ID} has no earlier version of its current source to roll back to (${old} was written by an earlier builtin compiler from this source, which a build regenerates with this release's compiler)`,
      })
    } finally {
      await new Promise((done) => server.close(done))
      collector.close()
    }

    // Picked anyway, it is what the note says: the next build writes this compiler's version again.
    const to = await cli(p, ['rollback', ID, '--to', old])
    expect(to.code, to.err).toBe(0)
    expect(to.err).toContain(`note: ${old} was written by an earlier builtin compiler from the current source of ${ID}; the next build regenerates it with this release's compiler (keeping what Train promoted in it)`)
    await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/again' })
    expect(lock.read().functions[ID]!.current).toBe(upgraded)
  })

  it('names builtin fallbacks an older compiler wrote as such in the dashboard and poet rollback: none can be made current again', async () => {
    server = await startOpenAIServer(() => reply.refusal('No'))
    const p = fixture('fallback-older')
    const llm = { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } as const
    p.write('poet.config.json', JSON.stringify({ generator: { provider: 'openai', model: 'test-model' } }))
    await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/first', options: { generator: llm, strict: false } })
    const lock = new LockStore(p.lockDir)
    const { built, weak, trained } = olderFallback(lock)
    const outdated = [weak.version, trained.version]
    // Written before this release's compiler ran, as they would have been (the fixture's first build ran it already).
    lock.update((l) => {
      const versions = l.functions[ID]!.versions
      versions[weak.version]!.created = '2020-01-01T00:00:00.000Z'
      versions[trained.version]!.created = '2020-01-02T00:00:00.000Z'
    })
    await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/new', options: { generator: llm, strict: true } })
    const upgraded = lock.read().functions[ID]!
    // What this compiler wrote: the regenerated fallback (the module the first build wrote), and the version keeping
    // Train's attempts, current.
    expect(upgraded.versions[upgraded.current]).toMatchObject({ compiler: BUILTIN_VERSION, reason: `fallback: the model refused: No: kept attempts Train promoted in ${trained.version}` })
    expect(Object.keys(upgraded.versions).sort()).toEqual([upgraded.current, built, ...outdated].sort())

    const collector = createCollector({ db: join(p.lockDir, 'feedback.db'), lockDir: p.lockDir, base: '/__poet' })
    const dashboard = createDashboard({ base: '/__poet', lockDir: p.lockDir, store: collector.store, collector: collector.handle, project: 'p', writable: true, token: 't' })
    const http = createServer((req, res) => dashboard(req, res, () => collector.handle(req, res)))
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done))
    try {
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/__poet/api`
      const info = (await (await fetch(`${url}/functions`)).json()) as { functions: Record<string, { promotable: string[]; olderCompiler?: string[] }> }
      expect(info.functions[ID]!.promotable).toEqual([built])
      expect(info.functions[ID]!.olderCompiler?.sort()).toEqual(outdated.sort())
      const post = (action: string, body: object) =>
        fetch(`${url}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-poet-token': 't' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, ...((await r.json()) as { error?: string }) }))
      for (const version of outdated) {
        expect(await post('promote', { id: ID, version })).toEqual({
          status: 409,
          error: `${version} (a builtin fallback) was written by an earlier builtin compiler from the current source of ${ID}; a build would regenerate it with this release's compiler (keeping what Train promoted in it), so it cannot serve again. Promote a version this compiler wrote.`,
        })
      }
    } finally {
      await new Promise((done) => http.close(done))
      collector.close()
    }
    expect(lock.read().functions[ID]!.current).toBe(upgraded.current)

    // poet rollback goes back to what this compiler wrote, never to them; with nothing else left, it says why.
    const back = await cli(p, ['rollback', ID])
    expect(back.code, back.err).toBe(0)
    expect(back.out).toContain(`${ID}: current ${upgraded.current} → ${built}`)
    const none = await cli(p, ['rollback', ID])
    expect(none.code).toBe(1)
    expect(none.err).toContain(
      `${ID} has no earlier version of its current source to roll back to (${trained.version}, ${weak.version} were written by an earlier builtin compiler from this source, which a build regenerates with this release's compiler); versions:`,
    )
    const to = await cli(p, ['rollback', ID, '--to', weak.version])
    expect(to.code, to.err).toBe(0)
    expect(to.err).toContain(`note: ${weak.version} (a builtin fallback) was written by an earlier builtin compiler from the current source of ${ID}; the next build regenerates it with this release's compiler (keeping what Train promoted in it)`)
  })

  it('regenerates a builtin fallback an older compiler wrote, offline: the LLM is not asked again, and Train\'s values are kept', async () => {
    server = await startOpenAIServer(() => reply.refusal('No'))
    const p = fixture('fallback')
    const llm = { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } as const
    // The CLI reads the generator from the project's config, as the build's options name it.
    p.write('poet.config.json', JSON.stringify({ generator: { provider: 'openai', model: 'test-model' } }))
    await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/first', options: { generator: llm, strict: false } })
    const asked = server.requests.length
    expect(asked).toBeGreaterThan(0)
    const lock = new LockStore(p.lockDir)
    const { fell, trained } = olderFallback(lock)
    expect(fell).toMatchObject({ generator: 'builtin', model: 'test-model', reason: 'fallback: the model refused: No', compiler: BUILTIN_VERSION })
    const status = await cli(p, ['status'])
    expect(status.out).toMatch(new RegExp(`src/total\\.ts#total\\s+${trained.version}\\s+builtin \\(fallback\\)\\s+yes \\(compiler\\)`))
    const check = await cli(p, ['generate', '--check'])
    expect(check.code).toBe(1)
    expect(check.out).toContain('stale    src/total.ts#total  (its builtin fallback was written by an earlier builtin compiler: a build regenerates it offline, `poet generate` asks the LLM again)')

    // Strict: a build that would ask the LLM fails instead, so this one regenerates without asking it.
    const result = await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/new', options: { generator: llm, strict: true } })
    expect(server.requests).toHaveLength(asked)
    expect(result.warnings.join('\n')).toContain(`${ID}: its builtin fallback was written by an earlier builtin compiler; regenerated offline by this release's compiler, without asking test-model again (\`poet generate\` asks it again)`)
    const app = await run<App>(result, 'fallback')
    expect(() => app.total([{ price: '9', qty: 2 }])).toThrow(app.PoetInputError)
    const before = app.calls
    expect(() => app.total([])).toThrow('no lines')
    expect(app.calls - before).toBe(4)
    const entry = lock.read().functions[ID]!
    expect(entry.versions[entry.current]).toMatchObject({ generator: 'builtin', model: 'test-model', compiler: BUILTIN_VERSION, inputHash: fell.inputHash, reason: `fallback: the model refused: No: kept attempts Train promoted in ${trained.version}` })
    expect((await cli(p, ['status'])).out).toMatch(/src\/total\.ts#total\s+\S+\s+builtin \(fallback\)\s+no\s/)
    // Once regenerated, it is a lock hit like any other: nothing is written or asked again.
    const locked = readFileSync(join(p.lockDir, 'lock.json'), 'utf8')
    const again = await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/again', options: { generator: llm, strict: true } })
    expect(again.warnings.join('\n')).not.toContain('fallback')
    expect(readFileSync(join(p.lockDir, 'lock.json'), 'utf8')).toBe(locked)
    expect(server.requests).toHaveLength(asked)
  })

  it('knows a builtin fallback by its marker, not by the words of its reason: reworded, it is regenerated and described the same', async () => {
    server = await startOpenAIServer(() => reply.refusal('No'))
    const p = fixture('fallback-reworded')
    const llm = { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } as const
    p.write('poet.config.json', JSON.stringify({ generator: { provider: 'openai', model: 'test-model' } }))
    await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/first', options: { generator: llm, strict: false } })
    const lock = new LockStore(p.lockDir)
    // As a release that worded the reason otherwise would have left it: only the marker says what the versions are.
    const reworded = { reason: 'builtin used in place of test-model (the model refused: No)', fallback: 'the model refused: No' }
    const { built, trained } = olderFallback(lock, reworded)
    lock.update((l) => Object.assign(l.functions[ID]!.versions[built]!, reworded))
    const result = await build(p, 'rollup', { entry: 'src/total.ts', outDir: 'dist/new', options: { generator: llm, strict: true } })
    expect(result.warnings.join('\n')).toContain(`${ID}: its builtin fallback was written by an earlier builtin compiler; regenerated offline by this release's compiler, without asking test-model again`)
    const entry = lock.read().functions[ID]!
    expect(entry.versions[entry.current]).toMatchObject({
      generator: 'builtin',
      reason: `fallback: the model refused: No: kept attempts Train promoted in ${trained.version}`,
      fallback: 'the model refused: No',
    })
    expect((await cli(p, ['status'])).out).toMatch(/src\/total\.ts#total\s+\S+\s+builtin \(fallback\)\s+no\s/)
  })

  it('marks a builtin fallback where it is made, by a build and by poet generate, with why the LLM\'s answer was refused', async () => {
    server = await startOpenAIServer(() => reply.refusal('No'))
    const p = fixture('fallback-marked')
    const llm = { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } as const
    p.write('poet.config.json', JSON.stringify({ generator: { provider: 'openai', model: 'test-model' } }))
    await build(p, 'vite', { entry: 'src/total.ts', outDir: 'dist/first', options: { generator: llm, strict: false } })
    const lock = new LockStore(p.lockDir)
    const built = lock.read().functions[ID]!
    expect(built.versions[built.current]).toMatchObject({ generator: 'builtin', fallback: 'the model refused: No', reason: 'fallback: the model refused: No' })
    // poet generate writes the same module again: what it records is its own.
    lock.update((l) => delete l.functions[ID]!.versions[built.current]!.fallback)
    p.write('poet.config.json', JSON.stringify({ generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL } }))
    const generated = await poet(p, ['generate', '--force'])
    expect(generated.code, generated.err).toBe(0)
    const entry = lock.read().functions[ID]!
    expect(entry.current).toBe(built.current)
    expect(entry.versions[entry.current]).toMatchObject({ generator: 'builtin', model: 'test-model', fallback: 'the model refused: No', reason: 'fallback: the model refused: No' })
  })
})

/**
 * Waits for the clock's next millisecond, so that versions written one after the other have distinct creation times
 * (the lock orders them by it): a test writes several in one millisecond, as releases and Train runs never do.
 */
function nextMillisecond(): void {
  for (const t = Date.now(); Date.now() === t; );
}
