// The package root as a consumer imports it: the domain pack example of docs/domains.md type-checks against the built package.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT, createProject, type Project } from './helpers/project'
import { typeCheck } from './helpers/typecheck'

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
    diagnostics = typeCheck([project.path('pack.ts')]).get(project.path('pack.ts'))!
  })
  afterAll(() => project.remove())

  it("compile as docs/domains.md uses them, with `import type { DomainPack } from 'unplugin-poet'`", () => {
    expect(diagnostics).toEqual([])
  })

  it('catch a pack that forbids an event field that does not exist', () => {
    expect(typeCheck([project.path('bad.ts')]).get(project.path('bad.ts'))).toEqual([expect.stringContaining(`Type '"args"' is not assignable to type 'EventField'`)])
  })
})
