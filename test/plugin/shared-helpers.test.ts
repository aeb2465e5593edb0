// Phase modules share one copy of the validators' helpers in every bundle, while the lock keeps each module whole.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CORE_HELPERS } from '../../src/generators/builtin/helpers'
import { withCandidate } from '../../src/train/variants'
import { helpersModule, shareHelpers } from '../../src/plugin/shared-helpers'
import { BUNDLERS, build, createProject, run, type Project } from '../helpers/project'

const SOURCE = `
import { poet } from 'unplugin-poet/runtime'

export const total = poet({ attempts: 1 })(function total(items: { qty: number; price: number }[]): number {
  return items.reduce((sum, it) => sum + it.qty * it.price, 0)
})

export const label = poet({ attempts: 1 })(function label(tags: string[], mode: 'short' | 'long'): string {
  return mode === 'short' ? tags.join(',') : tags.join(', ')
})

export const scale = poet({ attempts: 1 })(function scale(factor: number, point: { x: number; y: number }): { x: number; y: number } {
  return { x: point.x * factor, y: point.y * factor }
})
`

interface App {
  total(items: unknown): number
  label(tags: unknown, mode: unknown): string
  scale(factor: unknown, point: unknown): { x: number; y: number }
}

const count = (text: string, what: string) => text.split(what).length - 1

describe.each(BUNDLERS)('%s: shared helpers', (bundler) => {
  let project: Project
  let bundle: string
  let app: App

  beforeAll(async () => {
    project = createProject(`shared-helpers-${bundler}`)
    project.write('src/shared.ts', SOURCE)
    const out = await build(project, bundler, { entry: 'src/shared.ts' })
    bundle = readFileSync(out.file, 'utf8')
    app = await run<App>(out)
  })
  afterAll(() => project.remove())

  it('emits each helper once for three phase modules, while every locked phase module still declares its own', () => {
    const phases = readdirSync(project.path('.poet/phases')).map((f) => readFileSync(join(project.lockDir, 'phases', f), 'utf8'))
    expect(phases).toHaveLength(3)
    for (const source of phases) expect(count(source, 'function describe(')).toBe(1)
    expect(count(bundle, 'function describe(')).toBe(1)
    expect(count(bundle, 'function add(')).toBe(1)
  })

  it('validates exactly as before: the same issues, paths and messages', () => {
    expect(() => app.total([{ qty: 1, price: '2' }])).toThrow(/args\[0\]\[0\]\.price: expected number, received string/)
    expect(() => app.label(['a'], 'wide')).toThrow(/args\[1\]: expected "short" \| "long", received "wide"/)
    expect(() => app.scale(2, null)).toThrow(/args\[1\]: expected object, received null/)
    expect(app.total([{ qty: 2, price: 3 }])).toBe(6)
    expect(app.label(['a', 'b'], 'long')).toBe('a, b')
    expect(app.scale(2, { x: 1, y: 2 })).toEqual({ x: 2, y: 4 })
  })
})

describe('shareHelpers', () => {
  let phase: string
  beforeAll(async () => {
    const project = createProject('shared-helpers-unit')
    project.write('src/shared.ts', SOURCE)
    await build(project, 'esbuild', { entry: 'src/shared.ts' })
    const dir = project.path('.poet/phases')
    phase = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .find((s) => s.includes('#label'))!
    project.remove()
  })

  it('replaces the helper declarations with one import and leaves the checks untouched', () => {
    const shared = shareHelpers(phase)
    expect(shared).toMatch(/^import \{ [a-zA-Z, ]+ \} from "virtual:poet\/~~helpers"$/m)
    expect(shared).not.toContain('function describe(')
    const checks = (s: string) => s.slice(s.indexOf('function perceive'))
    expect(checks(shared)).toBe(checks(phase))
    expect(shareHelpers(shared)).toBe(shared)
  })

  it('keeps a helper whose dependency the module declares differently, so its behaviour cannot change', () => {
    const own = phase.replace(CORE_HELPERS.describe!.code, 'function describe(v) {\n  return "custom"\n}')
    const shared = shareHelpers(own)
    expect(shared).toContain('return "custom"')
    // add and literal call describe: they stay with the module's own describe.
    expect(shared).toContain(CORE_HELPERS.add!.code)
    expect(shared).toContain(CORE_HELPERS.literal!.code)
    expect(shared).not.toMatch(/import \{[^}]*\b(describe|add|literal)\b[^}]*\} from "virtual:poet/)
  })

  it("leaves an A/B candidate's own helpers inside its scope", () => {
    const served = withCandidate(phase, phase.replace('"builtin"', '"candidate"'), 0.5)
    const shared = shareHelpers(served)
    expect(count(shared, 'function describe(')).toBe(1)
    expect(count(shared, 'from "virtual:poet/~~helpers"')).toBe(1)
  })

  it('serves every shareable helper as an export of one module', () => {
    const module = helpersModule()
    for (const name of ['describe', 'add', 'addReceived', 'literal', 'collapse']) expect(module).toContain(`export function ${name}(`)
    expect(module).not.toContain('within')
  })

  it('returns a module without builtin helpers unchanged', () => {
    const llm = 'function perceive(args) {\n  return undefined\n}\n\nconst phases = { perceive }\nexport default phases\n'
    expect(shareHelpers(llm)).toBe(llm)
  })
})
