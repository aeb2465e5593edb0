// @poet lowering end to end: transform, esbuild for Node 20 (standard and legacy decorators), builtin phases, real runtime.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { generateBuiltin } from '../../src/generators/builtin'
import { renderPhaseModule } from '../../src/generators/render'
import { encodeKey, VIRTUAL_PREFIX } from '../../src/plugin/ids'
import { transformPoet } from '../../src/plugin/transform'
import { context } from './fixtures'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const runtimeEntry = join(repo, 'src/runtime/index.ts')
const tmp = join(repo, 'test/.tmp/lower-decorators')

interface Runtime {
  onEvent(listener: (e: { functionId: string; outcome: string; attempts: number }) => void): () => void
  PoetInputError: new (...args: never[]) => Error
}

/**
 * Transforms `source`, strips types (and lowers any other decorators) with esbuild for Node 20, serves each
 * `virtual:poet/<key>` from the builtin generator, and imports the result: what a user's build would run.
 */
async function run(name: string, source: string, experimentalDecorators: boolean) {
  const file = join(repo, 'src/lowered', `${name}.ts`)
  const result = transformPoet(source, file, context(repo))!
  // Lone @poet decorators are lowered; the one beside @log stays, given its phases, to compose in written order.
  expect(result.code.match(/@(rt\.)?poet\(.*\)/g)).toEqual([expect.stringMatching(/^@(rt\.)?poet\(\{ attempts: 1 \}, __poet_phases_0\)$/)])
  const specs = new Map(result.specs.map((s) => [encodeKey(s.id), s]))
  const out = await build({
    stdin: { contents: result.code + `\nexport * as __runtime from 'unplugin-poet/runtime'\n`, loader: 'ts', sourcefile: file },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    tsconfigRaw: { compilerOptions: { experimentalDecorators } },
    plugins: [
      {
        name: 'poet-phases',
        setup(b) {
          b.onResolve({ filter: /^unplugin-poet\/runtime$/ }, () => ({ path: runtimeEntry }))
          b.onResolve({ filter: /^virtual:poet\// }, (a) => ({ path: a.path.slice(VIRTUAL_PREFIX.length), namespace: 'poet' }))
          b.onLoad({ filter: /.*/, namespace: 'poet' }, (a) => {
            const spec = specs.get(a.path)!
            return { contents: renderPhaseModule(spec.id, generateBuiltin(spec)).source, loader: 'js' }
          })
        },
      },
    ],
  })
  mkdirSync(tmp, { recursive: true })
  const outFile = join(tmp, `${name}-${process.pid}-${Date.now()}.mjs`)
  writeFileSync(outFile, out.outputFiles[0]!.text)
  return (await import(pathToFileURL(outFile).href)) as Record<string, unknown> & { __runtime: Runtime }
}

interface PricingClass {
  new (): { quote(units: unknown): number; flaky(): Promise<number>; tries: number }
  label(): string
}

async function exercise(mod: Record<string, unknown> & { __runtime: Runtime }, ids: string) {
  const Pricing = mod.Pricing as PricingClass
  const seen = mod.seen as string[]
  const events: string[] = []
  const off = mod.__runtime.onEvent((e) => events.push(`${e.functionId} ${e.outcome} ${e.attempts}`))
  try {
    const p = new Pricing()
    // `this` is the instance for methods and the class for static ones.
    expect(p.quote(3)).toBe(30)
    expect(Pricing.label()).toBe('prices in EUR')
    // The generated perceive phase checks `units: number`: proof the method runs through poet with its phases.
    expect(() => p.quote('3')).toThrow(mod.__runtime.PoetInputError)
    expect(() => p.quote('3')).toThrow('args[0]: expected number, received string')
    // attempts: 3 from the lowered decorator's options reaches the runtime.
    await expect(p.flaky()).resolves.toBe(3)
    expect(p.tries).toBe(3)
    // The other decorator is left as written and still runs around the method.
    expect(seen).toContain('decorated quote')
    expect(seen.filter((s) => s === 'call quote').length).toBe(3)
    expect(events).toEqual([
      `${ids}#Pricing.quote ok 1`,
      `${ids}#Pricing.label ok 1`,
      `${ids}#Pricing.quote input_error 0`,
      `${ids}#Pricing.quote input_error 0`,
      `${ids}#Pricing.flaky ok 3`,
    ])
  } finally {
    off()
  }
}

const body = `
  static currency = 'EUR'
  base = 10
  tries = 0

  @log
  @poet({ attempts: 1 })
  quote(units: number): number {
    return this.base * units
  }

  @poet() static label(): string {
    return \`prices in \${this.currency}\`
  }

  @poet({ attempts: 3, backoff: { initial: 1, max: 2 } })
  async flaky(): Promise<number> {
    this.tries++
    if (this.tries < 3) throw new Error('flaky')
    return this.tries
  }
}
`

describe('@poet lowering, run on Node 20 after esbuild strips types', () => {
  it("standard decorators: the method is wrapped, `this` works, @log still wraps it from outside, as written", async () => {
    const source = `import { poet } from 'unplugin-poet/runtime'
export const seen: string[] = []
function log(value: (...args: unknown[]) => unknown, context: ClassMethodDecoratorContext) {
  seen.push('decorated ' + String(context.name))
  return function (this: unknown, ...args: unknown[]) {
    seen.push('call ' + String(context.name))
    return value.apply(this, args)
  }
}
export class Pricing {${body}`
    await exercise(await run('standard', source, false), 'src/lowered/standard.ts')
  })

  it('legacy experimentalDecorators: the same, with a parameter decorator that only the legacy syntax allows', async () => {
    const source = `import * as rt from 'unplugin-poet/runtime'
const poet = rt.poet
export const seen: string[] = []
function log(_target: object, key: string, descriptor: PropertyDescriptor) {
  seen.push('decorated ' + key)
  const value = descriptor.value
  descriptor.value = function (this: unknown, ...args: unknown[]) {
    seen.push('call ' + key)
    return value.apply(this, args)
  }
  return descriptor
}
function Inject(_token: string) {
  return (_target: object, _key: string | undefined, _index: number) => {}
}
export class Pricing {
  constructor(@Inject('db') readonly db?: unknown) {}
${body.replaceAll('@poet(', '@rt.poet(')}`
    await exercise(await run('legacy', source, true), 'src/lowered/legacy.ts')
  })
})
