// The fixture project reached through a symlinked directory, built by each of the six bundlers and its output run.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import { BUNDLERS, build, createProject, FIXTURE_FUNCTIONS, run, type Project } from '../helpers/project'

describe.each(BUNDLERS)('%s', (bundler) => {
  let real: Project
  let linked: Project
  let links: string

  beforeAll(() => {
    real = createProject(`symlink-${bundler}`)
    links = mkdtempSync(join(real.dir, '..', 'links-'))
    const dir = join(links, 'app')
    symlinkSync(real.dir, dir, 'dir')
    linked = { ...real, dir, lockDir: join(dir, '.poet'), path: (rel) => join(dir, rel) }
  })
  afterAll(() => {
    rmSync(links, { recursive: true, force: true })
    real.remove()
  })

  // Which path the bundler is given for the project, and which the plugin's `root` option names (none: the bundler's).
  it.each([
    ['the bundler is given the symlink', () => ({ project: linked, root: undefined })],
    ['the root option is the symlink', () => ({ project: real, root: linked.dir })],
    ['the bundler is given the symlink and the root option the real path', () => ({ project: linked, root: real.dir })],
  ])('builds when %s, with the ids of the real project, and the output runs', async (_, setup) => {
    const { project, root } = setup()
    rmSync(real.lockDir, { recursive: true, force: true })
    const output = await build(project, bundler, root === undefined ? {} : { options: { root } })
    const app = await run<{ priceOrder(order: unknown): number }>(output, root ?? 'context')
    expect(app.priceOrder({ items: [{ name: 'tea', price: 3 }, { name: 'cake', price: 4.5 }] })).toBe(7.5)
    expect(Object.keys((JSON.parse(real.read('.poet/lock.json')) as LockFile).functions)).toEqual(FIXTURE_FUNCTIONS)
  })
})
