// The plugin's output as a type-checking TS step after it sees it (ts-loader, rollup-plugin-typescript2): strict tsc finds nothing to report.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { transformPoet } from '../../src/plugin/transform'
import { createProject, type Project } from '../helpers/project'
import { CONSUMER_OPTIONS, typeCheck } from '../helpers/typecheck'
import { context } from './fixtures'

describe('transformed modules under strict tsc, with the client types the README names', () => {
  let project: Project
  let diagnostics: Map<string, string[]>

  beforeAll(() => {
    project = createProject('transform-typecheck')
    // A standalone @poet method, static and instance, and one beside another decorator (left for the TS step).
    project.write(
      'src/methods.ts',
      [
        "import { poet } from 'unplugin-poet/runtime'",
        '',
        'function traced<T>(method: T, _context: ClassMethodDecoratorContext): T {',
        '  return method',
        '}',
        '',
        'export class Methods {',
        '  private readonly base = 2',
        '  @poet()',
        "  'scaled-by'(n: number): number {",
        '    return n * this.base',
        '  }',
        '  @poet({ attempts: 1 })',
        '  static make(): Methods {',
        '    return new Methods()',
        '  }',
        '  @traced',
        '  @poet()',
        '  async later(n: number): Promise<number> {',
        '    return n',
        '  }',
        '}',
        '',
      ].join('\n'),
    )
    // A component's script block as ts-loader sees it beside vue-loader (`appendTsSuffixTo`): renamed in place, with
    // the functions that pass the phases on, with and without options.
    const component = project.path('src/Counter.vue')
    const block = [
      "import { poet } from 'unplugin-poet/runtime'",
      'export const count = poet()(function count(lines: number[]): number { return lines.length })',
      'export const total = poet({ attempts: 1 })(function total(lines: number[]): number { return lines.reduce((a, b) => a + b, 0) })',
      '',
    ].join('\n')
    const rewritten = transformPoet(`<script setup lang="ts">\n${block}</script>\n`, component, context(project.dir))!.code
    expect(rewritten).toContain('_p0_()(function count(')
    project.write('src/counter-block.ts', /<script setup lang="ts">\n([\s\S]*)<\/script>/.exec(rewritten)![1]!)
    // broken.ts is the build-error fixture.
    const files = readdirSync(project.path('src')).filter((f) => f !== 'broken.ts' && f.endsWith('.ts') && f !== 'counter-block.ts').map((f) => project.path(`src/${f}`))
    const transformed = files.filter((file) => {
      const out = transformPoet(readFileSync(file, 'utf8'), file, context(project.dir))
      if (out) writeFileSync(file, out.code)
      return out !== null
    })
    expect(transformed.length).toBeGreaterThanOrEqual(6)
    transformed.push(project.path('src/counter-block.ts'))
    project.write('src/env.d.ts', '/// <reference types="unplugin-poet/client" />\n')
    diagnostics = typeCheck([...transformed, project.path('src/env.d.ts')], { ...CONSUMER_OPTIONS, allowImportingTsExtensions: true, target: ts.ScriptTarget.ES2022 })
  })
  afterAll(() => project.remove())

  it('reports no error in a lowered @poet method (the lowered code read a descriptor that might be undefined: TS18048), nor in a component block rewritten in place', () => {
    const errors = [...diagnostics].flatMap(([file, list]) => list.map((d) => `${file.slice(project.dir.length + 1)}: ${d}`))
    expect(errors).toEqual([])
  })
})
