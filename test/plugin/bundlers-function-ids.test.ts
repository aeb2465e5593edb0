// Function ids in a real build: an unnamed marked function keeps its id (and so its lock entry) when an edit moves
// its line; one nothing names is warned about once.
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main'
import type { LockFile } from '../../src/generators/lock'
import { build, createProject, run, type Project } from '../helpers/project'

const LOADERS = `import { poet } from 'unplugin-poet/runtime'

export function makeLoader() {
  return poet()(async (id: string) => ({ id }))
}

export const handlers = [poet()((a: number) => a + 1), poet()((a: number) => a - 1)]
`

async function cli(project: Project, argv: string[]) {
  const out: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: () => {}, cwd: project.dir, tty: false, env: {}, write: () => {} })
  return { code, out: out.join('\n') }
}

describe('ids of unnamed functions in a Vite build', () => {
  let project: Project
  let warnings: string[]

  beforeAll(async () => {
    project = createProject('vite-ids')
    // The fixture's deliberately wrong module would fail `poet generate`, which reads every module.
    rmSync(project.path('src/broken.ts'))
    project.write('src/loaders.ts', LOADERS)
    project.write('src/bare.ts', "import { poet } from 'unplugin-poet/runtime'\n\nexport const run = () => [poet()(() => 1), poet()(() => 2)].map((f) => f())\n")
    project.write('src/entry.ts', "export { makeLoader, handlers } from './loaders'\nexport { run } from './bare'\n")
    ;({ warnings } = await build(project, 'vite', { entry: 'src/entry.ts' }))
  })
  afterAll(() => project.remove())

  it('keeps their lock entries fresh when an edit moves them: poet status says so, and a new build serves the same entries', async () => {
    const lock = () => Object.keys((JSON.parse(project.read('.poet/lock.json')) as LockFile).functions).sort()
    const before = lock()
    expect(before).toEqual(expect.arrayContaining(['src/loaders.ts#makeLoader.return', 'src/loaders.ts#handlers', 'src/loaders.ts#handlers.1']))
    project.write('src/loaders.ts', LOADERS.replace('export function makeLoader', '// Loaders for the order page.\n\nexport function makeLoader'))
    const status = await cli(project, ['status', '--json'])
    const { functions } = JSON.parse(status.out) as { functions: { id: string; state: string }[] }
    // The rest of the fixture project is not in this build, so only these entries are the build's.
    const states = functions.filter((f) => f.id.startsWith('src/loaders.ts#')).map((f) => [f.id, f.state])
    expect(states).toEqual(before.filter((id) => id.startsWith('src/loaders.ts#')).map((id) => [id, 'fresh']))
    const app = await run<{ handlers: ((a: number) => number)[] }>(await build(project, 'vite', { entry: 'src/entry.ts', outDir: 'dist-moved' }))
    expect(app.handlers[1]!(3)).toBe(2)
    expect(() => app.handlers[0]!('3' as unknown as number)).toThrow(/args\[0\]: expected number, received string/)
    expect(lock()).toEqual(before)
  })

  it('warns once about the ids nothing but their line tells apart, saying how to name them', () => {
    const said = warnings.filter((w) => w.includes('told apart only by line'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('src/bare.ts#anonymous@3:27 and src/bare.ts#anonymous@3:44')
    expect(said[0]).toContain('Name the function')
  })
})
