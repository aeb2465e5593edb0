// A/B tests in built bundles: the lock's candidate is served beside current, so the runtime splits executions between them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeKey } from '../../src/plugin/ids'
import { PoetContext } from '../../src/plugin/context'
import { LockStore } from '../../src/generators/lock'
import type { ExecutionEvent } from '../../src/runtime/types'
import { readPolicy, withPolicy } from '../../src/train/candidate'
import { FeedbackStore } from '../../src/train/store'
import { applyTraining, type Plan } from '../../src/train/trainer'
import { importPhases } from '../helpers/phase-module'
import { BUNDLERS, build, createProject, run, type Bundler, type Project } from '../helpers/project'

const ID = 'src/rank.ts#rank'
const SOURCE = `
import { onEvent, poet } from 'unplugin-poet/runtime'

export { PoetInputError } from 'unplugin-poet/runtime'
export const events: unknown[] = []
onEvent((e) => events.push(e))

export const rank = poet({ optimizeFor: 'latency' })(function rank(scores: number[]): number {
  return Math.max(...scores)
})
`

interface App {
  rank(scores: unknown): number
  events: ExecutionEvent[]
  PoetInputError: new (...args: never[]) => Error
}

/** Starts (or, with `end`, retires) an A/B test on `ID` the way `poet train --apply` does, with a real SQLite store. */
function train(project: Project, plan: Omit<Plan, 'functionId'>): void {
  const store = new FeedbackStore(project.path('.poet/feedback.db'))
  try {
    expect(applyTraining([{ functionId: ID, ...plan }], { lockDir: project.lockDir, store })).toHaveLength(1)
  } finally {
    store.close()
  }
}

/** Puts a candidate with 5 attempts (the current version has 3) under test at `share`; returns both versions. */
function startCandidate(project: Project, share: number): { current: string; candidate: string } {
  const lock = new LockStore(project.lockDir)
  const entry = lock.read().functions[ID]!
  const source = lock.source(ID, entry.current)!
  const next = withPolicy(source, { ...readPolicy(source)!, attempts: 5 }, 'test: more attempts')
  train(project, {
    action: 'candidate',
    current: entry.current,
    candidate: next.version,
    reason: 'test: more attempts',
    create: { source: next.source, metric: 'latency', share, inputHash: entry.versions[entry.current]!.inputHash, generator: 'builtin' },
  })
  return { current: entry.current, candidate: next.version }
}

describe.each(BUNDLERS)('%s', (bundler: Bundler) => {
  let project: Project
  let builds = 0
  const buildAndRun = async () => run<App>(await build(project, bundler, { entry: 'src/rank.ts' }), `${bundler}-${++builds}`)

  beforeAll(async () => {
    project = createProject(`candidate-${bundler}`)
    project.write('src/rank.ts', SOURCE)
    await buildAndRun()
  })
  afterAll(() => project.remove())

  it('serves a candidate at share 0.5 beside current: events name both versions, about half each', async () => {
    const { current, candidate } = startCandidate(project, 0.5)
    const app = await buildAndRun()
    for (let i = 0; i < 1000; i++) expect(app.rank([1, i])).toBe(i || 1)
    const versions = app.events.map((e) => e.version)
    expect(new Set(versions)).toEqual(new Set([current, candidate]))
    const share = versions.filter((v) => v === candidate).length / versions.length
    expect(share).toBeGreaterThan(0.4)
    expect(share).toBeLessThan(0.6)
    // Both arms validate alike: a bad input is refused whichever version serves it.
    for (let i = 0; i < 20; i++) expect(() => app.rank('9')).toThrow(app.PoetInputError)
    expect(new Set(app.events.slice(-20).map((e) => e.outcome))).toEqual(new Set(['input_error']))

    // Train retires the test: the next build serves current alone.
    train(project, { action: 'retire', current, candidate, reason: 'test: no difference' })
    const after = await buildAndRun()
    after.rank([1])
    expect(after.events.map((e) => e.version)).toEqual([current])
  })
})

describe('an edit of the function body alone, which leaves its builtin phases as they were', () => {
  let project: Project
  let builds = 0
  const buildAndRun = async () => run<App>(await build(project, 'esbuild', { entry: 'src/rank.ts' }), `edit-${++builds}`)
  beforeAll(async () => {
    project = createProject('candidate-body-edit')
    project.write('src/rank.ts', SOURCE)
    await buildAndRun()
  })
  afterAll(() => project.remove())

  it('keeps the A/B test going on the new source, and a promotion Train makes afterwards is what the next build serves', async () => {
    const { current, candidate } = startCandidate(project, 0.5)
    project.write('src/rank.ts', SOURCE.replace('return Math.max(...scores)', 'return scores.reduce((a, b) => Math.max(a, b), -Infinity)'))
    const app = await buildAndRun()
    for (let i = 0; i < 200; i++) app.rank([1, i])
    expect(new Set(app.events.map((e) => e.version))).toEqual(new Set([current, candidate]))
    const entry = new LockStore(project.lockDir).read().functions[ID]!
    expect(entry.current).toBe(current)
    expect(entry.candidate?.version).toBe(candidate)
    // Made from the module current still is: it belongs to the new source as much as current does.
    expect(entry.versions[candidate]!.inputHash).toBe(entry.versions[current]!.inputHash)

    train(project, { action: 'promote', current, candidate, reason: 'test: faster' })
    const promoted = await buildAndRun()
    promoted.rank([1])
    expect(promoted.events.map((e) => e.version)).toEqual([candidate])
    expect(new LockStore(project.lockDir).read().functions[ID]!.current).toBe(candidate)
  })

  it('keeps the version Train promoted across a later edit of the body alone, and says so when a change of the signature replaces it', async () => {
    const lock = new LockStore(project.lockDir)
    const promoted = lock.read().functions[ID]!.current
    expect(lock.read().functions[ID]!.versions[promoted]!.origin).toBe('train')
    const body = SOURCE.replace('return Math.max(...scores)', 'let best = -Infinity\n  for (const s of scores) best = Math.max(best, s)\n  return best')
    project.write('src/rank.ts', body)
    const edited = await build(project, 'esbuild', { entry: 'src/rank.ts' })
    expect(edited.warnings.filter((w) => w.includes(ID))).toEqual([])
    const app = await run<App>(edited, `edit-${++builds}`)
    app.rank([1, 2])
    expect(app.events.map((e) => e.version)).toEqual([promoted])
    const entry = lock.read().functions[ID]!
    expect(entry.current).toBe(promoted)
    // The next build finds the lock current for the new source: nothing is generated again.
    const again = await build(project, 'esbuild', { entry: 'src/rank.ts' })
    expect(again.warnings.filter((w) => w.includes(ID))).toEqual([])
    expect(lock.read().functions[ID]).toEqual(entry)

    // Another return type: the builtin phases check it, so they are not the ones Train started from.
    project.write('src/rank.ts', body.replace('(scores: number[]): number {', '(scores: number[]): number | null {'))
    const changed = await build(project, 'esbuild', { entry: 'src/rank.ts' })
    const next = lock.read().functions[ID]!
    expect(next.current).not.toBe(promoted)
    expect(next.versions[promoted]).toBeDefined()
    expect(changed.warnings.filter((w) => w.includes(ID))).toEqual([
      expect.stringContaining(
        `poet: ${ID}: ${next.current} replaces ${promoted}, the version Train promoted, as the function's source, options, types, domain pack or generator changed, and the generator's phases for it are not the ones Train started from: what Train learned is not kept; Train proposes again from the new version's calls`,
      ),
    ])
    expect(next.versions[next.current]!.reason).toBe(
      `build; replaces ${promoted}, which Train promoted, as the function's source, options, types, domain pack or generator changed, and the generator's phases for it are not the ones Train started from; Train proposes again from the new version's calls`,
    )
    const after = await run<App>(changed, `edit-${++builds}`)
    after.rank([1])
    expect(after.events.map((e) => e.version)).toEqual([next.current])
  })
})

describe('a phase module loaded without its transform (a dev server restarted with a warm cache)', () => {
  let project: Project
  beforeAll(async () => {
    project = createProject('candidate-fallback')
    project.write('src/rank.ts', SOURCE)
    await build(project, 'esbuild', { entry: 'src/rank.ts' })
  })
  afterAll(() => project.remove())

  it("is the lock's current version with its candidate attached, and goes stale when Train starts the test", async () => {
    const ctx = new PoetContext({ root: project.dir })
    const key = encodeKey(ID)
    const load = async () => importPhases((await ctx.load(key, () => {})).code)
    expect((await load()).variants).toBeUndefined()

    const { current, candidate } = startCandidate(project, 0.3)
    // In Vite dev, a lock change that starts an A/B test hot-updates the module, as a new current version does.
    expect(await ctx.staleAfterChange(project.path('.poet/lock.json'), () => project.read('.poet/lock.json'))).toEqual([key])
    const phases = await load()
    expect(phases.version).toBe(current)
    expect(phases.variants).toEqual([expect.objectContaining({ version: candidate, share: 0.3, policy: expect.objectContaining({ attempts: 5 }) })])
    expect(await ctx.staleAfterChange(project.path('.poet/lock.json'), () => project.read('.poet/lock.json'))).toEqual([])
  })
})
