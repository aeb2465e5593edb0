// A cold `vite build` (no .poet/ yet) generates every function's phases: the work per function must not grow with the
// number of functions (one lock write for all of them at once, no hashing of each under every other's name).
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import { createProject, PACKAGE_ROOT, type Project } from '../helpers/project'

const FUNCTIONS = 40

const moduleSource = (i: number) => `
import { poet } from 'unplugin-poet/runtime'

export interface Item${i} { id: string; qty: number; price: number }

export const total${i} = poet({ attempts: 1 })(function total${i}(items: Item${i}[]): number {
  return items.reduce((sum, it) => sum + it.qty * it.price, 0)
})
`

// Counted in the build's own process, from Node's fs and crypto as the plugin calls them: writes of lock.json (each
// one reads, copies, serializes and renames the whole lock) and the hashes the plugin's dist/ computes.
const BUILD_SCRIPT = `
import crypto from 'node:crypto'
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
let hashes = 0
let lockWrites = 0
const createHash = crypto.createHash
crypto.createHash = function (...args) {
  if (new Error().stack.includes(${JSON.stringify(`${PACKAGE_ROOT}dist/`)})) hashes++
  return createHash.apply(this, args)
}
const renameSync = fs.renameSync
fs.renameSync = function (from, to) {
  if (String(to).endsWith('/.poet/lock.json')) lockWrites++
  return renameSync.call(this, from, to)
}
syncBuiltinESMExports()
const { build } = await import('vite')
const { default: poet } = await import('unplugin-poet/vite')
// What the build says, as the user reads it under \`vite build\`; poet's own lines are kept.
const said = []
const customLogger = {
  info: (m) => void (m.startsWith('poet:') && said.push(m)),
  warn() {},
  warnOnce() {},
  error() {},
  clearScreen() {},
  hasErrorLogged: () => false,
  hasWarned: false,
}
await build({
  configFile: false,
  root: process.cwd(),
  logLevel: 'info',
  customLogger,
  plugins: [poet()],
  build: { ssr: 'src/cold-main.ts', outDir: 'dist-cold', minify: false, rolldownOptions: { output: { entryFileNames: 'main.mjs' } } },
})
console.log(JSON.stringify({ hashes, lockWrites, said }))
`

interface Counted {
  hashes: number
  lockWrites: number
  said: string[]
}

function buildOnce(project: Project): Counted {
  const out = spawnSync(process.execPath, [project.path('build.mjs')], { cwd: project.dir, encoding: 'utf8', timeout: 120_000 })
  expect(out.status, out.stderr).toBe(0)
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Counted
}

describe('cold vite build', () => {
  let project: Project
  let counted: Counted
  let warm: Counted

  beforeAll(() => {
    project = createProject('cold-build')
    for (let i = 0; i < FUNCTIONS; i++) project.write(`src/cold/m${i}.ts`, moduleSource(i))
    project.write('src/cold-main.ts', Array.from({ length: FUNCTIONS }, (_, i) => `export { total${i} } from './cold/m${i}'`).join('\n') + '\n')
    project.write('build.mjs', BUILD_SCRIPT)
    counted = buildOnce(project)
    warm = buildOnce(project)
  }, 240_000)
  afterAll(() => project.remove())

  it('writes every function into the lock', () => {
    const ids = Object.keys(new LockStore(project.lockDir).read().functions).filter((id) => id.startsWith('src/cold/'))
    expect(ids).toHaveLength(FUNCTIONS)
  })

  it('writes lock.json a few times, not once per function', () => {
    // The functions generated while the build waits on Rolldown go in together; one write each was quadratic.
    expect(counted.lockWrites).toBeGreaterThanOrEqual(1)
    expect(counted.lockWrites).toBeLessThan(FUNCTIONS / 2)
  })

  it('hashes each function a fixed number of times, not once more for every function before it', () => {
    // 4 a function now (its input hash and phase module version among them). Looking for a renamed function's entry
    // among the build's own functions hashed each one again under every other's name and earlier compilers' versions.
    expect(counted.hashes).toBeLessThanOrEqual(5 * FUNCTIONS)
  })

  it('says once, at the end of the build that generated, that it did and that the next build reads the lock; a warm build says nothing', () => {
    expect(counted.said).toEqual([
      `poet: generated the phases of ${FUNCTIONS} functions into .poet/ (only a build that finds them missing or stale does this; the next build reads them from the lock). Commit .poet/.`,
    ])
    expect(warm.said).toEqual([])
    expect(warm.lockWrites).toBe(0)
  })
})
