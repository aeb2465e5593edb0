// A module with a TypeScript 4.9 `accessor` field beside poet functions: the plugin's parser failed the whole build on it.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build, createProject, run, type Project } from '../helpers/project'

const SOURCE = [
  "import { poet } from 'unplugin-poet/runtime'",
  'export class Store {',
  '  accessor count = 0',
  '  add = poet()((n: number): number => (this.count += n))',
  '}',
].join('\n')

interface Fixture {
  Store: new () => { count: number; add(n: unknown): number }
}

describe.each(['esbuild', 'webpack'] as const)('%s with an accessor field', (bundler) => {
  let project: Project
  let app: Fixture

  beforeAll(async () => {
    project = createProject(`${bundler}-accessor`)
    project.write('src/store.ts', SOURCE)
    app = await run<Fixture>(await build(project, bundler, { entry: 'src/store.ts' }))
  })
  afterAll(() => project.remove())

  it('builds, and the poet function beside it checks its input', () => {
    const store = new app.Store()
    expect(store.add(2)).toBe(2)
    expect(store.count).toBe(2)
    expect(() => store.add('2')).toThrow(/args\[0\]: expected number, received string/)
  })
})

describe('vite with an accessor field', () => {
  it('builds, with the phases of the poet function beside it', async () => {
    const project = createProject('vite-accessor')
    try {
      project.write('src/store.ts', SOURCE)
      // Vite 8 leaves `accessor` as written, which Node 20 cannot run: the build is what is checked here.
      const output = await build(project, 'vite', { entry: 'src/store.ts' })
      expect(readFileSync(output.file, 'utf8')).toContain('src/store.ts#Store.add')
    } finally {
      project.remove()
    }
  })
})
