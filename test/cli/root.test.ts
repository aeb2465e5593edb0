// The project root the `poet` bin finds when run below it (in src/, as npm and git find theirs), and what it does
// outside any project. Runs the built dist/cli.mjs in child processes.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import { runCli } from '../helpers/cli'
import { createProject, FIXTURE_FUNCTIONS, type Project } from '../helpers/project'


let project: Project | undefined
let scratch: string | undefined
afterEach(() => {
  project?.remove()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
  project = scratch = undefined
})

const poet = (cwd: string, argv: string[]) => runCli(cwd, argv)

describe('poet run below the project root', () => {
  it('from src/ of a project without a lock yet, generate writes the root’s lock under ids relative to the root, and every command finds it', async () => {
    const p = (project = createProject('cli-root-src'))
    // The fixture's file that misuses poet(), for the build tests: here it would stop every generate.
    rmSync(p.path('src/broken.ts'))
    const src = p.path('src')
    const generated = await poet(src, ['generate'])
    expect(generated, generated.stderr).toMatchObject({ code: 0, stderr: '' })
    expect(generated.stdout).toMatch(/Generated 6 functions with builtin\. Lock: \.\.\/\.poet\/lock\.json\n$/)
    expect(existsSync(join(src, '.poet'))).toBe(false)
    expect(Object.keys(new LockStore(p.lockDir).read().functions)).toEqual(FIXTURE_FUNCTIONS)

    const status = await poet(src, ['status', '--json'])
    expect(status).toMatchObject({ code: 0, stderr: '' })
    expect((JSON.parse(status.stdout) as { functions: { id: string; state: string }[] }).functions.map((f) => [f.id, f.state])).toEqual(FIXTURE_FUNCTIONS.map((id) => [id, 'fresh']))
    expect(await poet(src, ['generate', '--check'])).toEqual({ code: 0, stdout: 'All 6 functions are up to date in ../.poet/lock.json.\n', stderr: '' })
    expect(await poet(src, ['diff', 'src/slow.ts#slow'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^src\/slow\.ts#slow has only one version/) })
    expect(await poet(join(src), ['rollback', 'src/slow.ts#slow'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^poet rollback: src\/slow\.ts#slow has no version older than/) })
    // --root still means the directory it names.
    expect(await poet(src, ['status', '--root', '.'])).toMatchObject({ code: 2, stderr: expect.stringContaining('belong to the project in .., ') })
    expect(existsSync(join(src, '.poet'))).toBe(false)
  })

  it('outside any project, generate and status find no functions where they run and write nothing', async () => {
    // Nothing marks a project here or above (the OS temp directory): the commands stay where they are run.
    scratch = realpathSync(mkdtempSync(join(tmpdir(), 'poet-no-project-')))
    const cwd = join(scratch, 'a/b')
    mkdirSync(cwd, { recursive: true })
    expect(await poet(cwd, ['generate'])).toEqual({ code: 0, stdout: `No poet() functions found under ${cwd}: nothing to generate. Run it from the project root, or pass --root.\n`, stderr: '' })
    expect(await poet(cwd, ['status'])).toEqual({ code: 0, stdout: `No poet() functions found under ${cwd}.\n`, stderr: '' })
    expect(existsSync(join(cwd, '.poet'))).toBe(false)
  })
})
