// `timeout: 0` asks for no timeout, as it does without the plugin: it builds, and overrides a domain's timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DomainPack } from '../../src/generators/builtin/domain'
import { BUNDLERS, build, createProject, run, type Project } from '../helpers/project'

const SOURCE = `
import { PoetTimeoutError, poet } from 'unplugin-poet/runtime'

export { PoetTimeoutError }
const sleep = (ms: number) => new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms))

export const bounded = poet({ domain: 'quick' })(async function bounded(ms: number): Promise<number> {
  return sleep(ms)
})

export const unbounded = poet({ domain: 'quick', timeout: 0 })(async function unbounded(ms: number): Promise<number> {
  return sleep(ms)
})
`

/** A pack whose calls time out after 20 ms, tried once. */
const quick: DomainPack = {
  name: 'quick',
  version: '1.0.0',
  description: 'Calls that must answer fast.',
  policy: { attempts: 1, timeout: 20 },
}

interface App {
  bounded(ms: number): Promise<number>
  unbounded(ms: number): Promise<number>
  PoetTimeoutError: new (...args: never[]) => Error
}

describe.each(BUNDLERS)('%s', (bundler) => {
  let project: Project
  let app: App

  beforeAll(async () => {
    project = createProject(`timeout-none-${bundler}`)
    project.write('src/calls.ts', SOURCE)
    app = await run<App>(await build(project, bundler, { entry: 'src/calls.ts', options: { domains: [quick] } }))
  })
  afterAll(() => project.remove())

  it("builds timeout: 0 and runs it with no timeout, where the domain's own timeout cuts the same call off", async () => {
    await expect(app.bounded(200)).rejects.toBeInstanceOf(app.PoetTimeoutError)
    await expect(app.unbounded(200)).resolves.toBe(200)
  })
})
