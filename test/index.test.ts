// The package root as a consumer imports it: the domain pack example of docs/domains.md type-checks against the built package.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT, createProject, type Project } from './helpers/project'

/** The first ```ts block of a markdown file. */
function firstTsBlock(markdown: string): string {
  const m = /```ts\n([\s\S]*?)```/.exec(markdown)
  if (!m) throw new Error('no ```ts block')
  return m[1]!
}

describe("the package root's domain pack types", () => {
  let project: Project
  let diagnostics: string[]

  beforeAll(() => {
    project = createProject('root-types')
    const example = firstTsBlock(readFileSync(join(PACKAGE_ROOT, 'docs/domains.md'), 'utf8'))
    project.write(
      'pack.ts',
      [
        example,
        "import type { CodeRule, EventField, RuleSite } from 'unplugin-poet'",
        "import vite from 'unplugin-poet/vite'",
        '',
        'export const rule: CodeRule = payments.perceive![0]!',
        "export const limits: EventField[] = ['stats', 'comment']",
        'export const emit = (site: RuleSite): string | undefined => rule.check?.(site)',
        'export const plugin = vite({ domains: [payments] })',
        '',
      ].join('\n'),
    )
    project.write('bad.ts', "import type { DomainPack } from 'unplugin-poet'\nexport const p: DomainPack = { name: 'x', version: '1', description: 'd', neverInEvents: ['args'] }\n")
    diagnostics = typeCheck(project, 'pack.ts')
  })
  afterAll(() => project.remove())

  it("compile as docs/domains.md uses them, with `import type { DomainPack } from 'unplugin-poet'`", () => {
    expect(diagnostics).toEqual([])
  })

  it('catch a pack that forbids an event field that does not exist', () => {
    expect(typeCheck(project, 'bad.ts')).toEqual([expect.stringContaining(`Type '"args"' is not assignable to type 'EventField'`)])
  })
})

/** Diagnostics of one file, as `tsc --noEmit` prints them for a consumer with `moduleResolution: bundler`. */
function typeCheck(project: Project, file: string): string[] {
  const program = ts.createProgram([project.path(file)], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  })
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}
