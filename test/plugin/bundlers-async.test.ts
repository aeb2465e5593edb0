// Async functions built by each of the six bundlers reject (never throw) when perceive refuses their input; sync ones throw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import type { ExecutionEvent } from '../../src/runtime/types'
import { BUNDLERS, build, createProject, run, type Project } from '../helpers/project'

const SOURCE = `
import { onEvent, poet } from 'unplugin-poet/runtime'

export { PoetInputError } from 'unplugin-poet/runtime'
export const events: unknown[] = []
onEvent((e) => events.push(e))

export const convert = poet({ attempts: 1 })(async function convert(amount: number): Promise<number> {
  return amount * 2
})

// Not declared async: only its signature says it returns a promise, so only the phase module can tell the runtime.
export const quote = poet({ attempts: 1 })(function quote(amount: number): Promise<number> {
  return Promise.resolve(amount + 1)
})

export const double = poet({ attempts: 1 })(function double(n: number): number {
  return n * 2
})
`

interface App {
  convert(amount: unknown): Promise<number>
  quote(amount: unknown): Promise<number>
  double(n: unknown): number
  PoetInputError: new (...args: never[]) => Error
  events: ExecutionEvent[]
}

/** Calls `f` and returns what it returned, or `{ threw }` when the call itself threw synchronously. */
function call(f: () => unknown): unknown {
  try {
    return f()
  } catch (threw) {
    return { threw }
  }
}

describe.each(BUNDLERS)('%s', (bundler) => {
  let project: Project
  let app: App

  beforeAll(async () => {
    project = createProject(`async-${bundler}`)
    project.write('src/rates.ts', SOURCE)
    app = await run<App>(await build(project, bundler, { entry: 'src/rates.ts' }))
  })
  afterAll(() => project.remove())

  it('an async function refused by perceive rejects: f(bad).catch(…) catches the PoetInputError', async () => {
    const returned = call(() => app.convert('12'))
    expect(returned).toBeInstanceOf(Promise)
    const caught = await (returned as Promise<number>).catch((e: unknown) => e)
    expect(caught).toBeInstanceOf(app.PoetInputError)
    expect((caught as Error).message).toContain('args[0]: expected number, received string')
    expect(app.events.at(-1)).toMatchObject({ functionId: 'src/rates.ts#convert', outcome: 'input_error', attempts: 0 })
    expect(await app.convert(4)).toBe(8)
  })

  it('a function whose signature returns a Promise rejects too, told by its phase module', async () => {
    const returned = call(() => app.quote(null))
    expect(returned).toBeInstanceOf(Promise)
    await expect(returned).rejects.toBeInstanceOf(app.PoetInputError)
    const lock = JSON.parse(project.read('.poet/lock.json')) as LockFile
    const entry = lock.functions['src/rates.ts#quote']!
    expect(project.read(`.poet/${entry.versions[entry.current]!.file}`)).toContain('  async: true,')
  })

  it('a sync function still throws the PoetInputError synchronously', () => {
    const returned = call(() => app.double('2'))
    expect(returned).toEqual({ threw: expect.any(app.PoetInputError) })
    expect(app.double(2)).toBe(4)
  })
})
