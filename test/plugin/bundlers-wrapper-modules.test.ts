// A project module that re-exports poet or hands it on as a value (src/lib/reliable.ts, common in apps): the functions
// marked through it cannot get phases, and the build says so where poet is handed on, instead of dropping validation silently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build, createProject, run, type BuildResult, type Project } from '../helpers/project'

interface Fixture {
  viaReexport(n: unknown): unknown
  viaValue(n: unknown): unknown
}

describe.each(['vite', 'webpack'] as const)('%s with a wrapper module around poet', (bundler) => {
  let project: Project
  let output: BuildResult
  let app: Fixture

  beforeAll(async () => {
    project = createProject(`${bundler}-wrapper`)
    project.write('src/lib/reliable.ts', "export { poet } from 'unplugin-poet/runtime'\n")
    project.write('src/lib/mark.ts', "import { poet } from 'unplugin-poet/runtime'\n\nexport const mark = poet\n")
    project.write(
      'src/wrapped.ts',
      [
        "import { poet } from './lib/reliable'",
        "import { mark } from './lib/mark'",
        'export const viaReexport = poet()((n: number): number => n)',
        'export const viaValue = mark()((n: number): number => n)',
      ].join('\n'),
    )
    output = await build(project, bundler, { entry: 'src/wrapped.ts' })
    app = await run<Fixture>(output)
  })
  afterAll(() => project.remove())

  it('warns at the re-export and at the value use, saying why and what to do', () => {
    const text = output.warnings.join('\n')
    expect(text).toMatch(/src\/lib\/reliable\.ts:1:10: this module re-exports poet: functions that other modules mark with it get no generated phases/)
    expect(text).toMatch(/src\/lib\/mark\.ts:3:21: poet is used here as a value, not called on a function/)
    expect(text).toContain("Import it from there in each module that marks functions.")
  })

  it('still runs what was marked, with the runtime policy only (what the warning says)', () => {
    expect(app.viaReexport('x')).toBe('x')
    expect(app.viaValue(2)).toBe(2)
  })
})
