// @poet beside another decorator, as a user of each bundler writes it: left for the bundler's decorator transform, composed in the order written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build, createProject, run, type Bundler, type Project } from '../helpers/project'

/** A class whose method has `@log` above `@poet`: log wraps the poet function, so it sees every call, rejected ones too. */
const logged = (log: string) => `import { poet } from 'unplugin-poet/runtime'

export const calls: string[] = []
${log}

export class Doubler {
  @log
  @poet({ attempts: 1 })
  double(n: number): number {
    return n * 2
  }
}
`

const STANDARD = `function log(method: (this: unknown, ...args: unknown[]) => unknown, context: ClassMethodDecoratorContext) {
  return function (this: unknown, ...args: unknown[]) {
    calls.push(String(context.name))
    return method.apply(this, args)
  }
}`

const LEGACY = `function log(_target: object, key: string, descriptor: PropertyDescriptor) {
  const method = descriptor.value
  descriptor.value = function (this: unknown, ...args: unknown[]) {
    calls.push(key)
    return method.apply(this, args)
  }
}`

const TSCONFIG_LEGACY = JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, experimentalDecorators: true } })

/**
 * What the README's "Decorators" paragraph says per bundler: esbuild (and Rollup and webpack through an esbuild-based
 * TS step) lower standard decorators; Vite 8 and Rolldown leave them in the output, so there they are legacy ones.
 */
const CASES: [Bundler, 'standard' | 'legacy'][] = [
  ['esbuild', 'standard'],
  ['rollup', 'standard'],
  ['webpack', 'standard'],
  ['rolldown', 'legacy'],
  ['vite', 'legacy'],
]

describe.each(CASES)('%s, %s decorators', (bundler, mode) => {
  let project: Project
  let app: { Doubler: new () => { double(n: unknown): number }; calls: string[] }

  beforeAll(async () => {
    project = createProject(`${bundler}-decorators`)
    project.write('src/logged.ts', logged(mode === 'standard' ? STANDARD : LEGACY))
    if (mode === 'legacy') project.write('tsconfig.json', TSCONFIG_LEGACY)
    app = await run(await build(project, bundler, { entry: 'src/logged.ts' }))
  })
  afterAll(() => project.remove())

  it('runs the method through both decorators, the outer one first', () => {
    const d = new app.Doubler()
    expect(d.double(4)).toBe(8)
    expect(() => d.double('4')).toThrow('args[0]: expected number, received string')
    expect(app.calls).toEqual(['double', 'double'])
  })
})
