// Unusual file and function names through every bundler: ids keep every character, and the module still builds and validates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUNDLERS, build, createProject, run, type Project } from '../helpers/project'

// 30 CJK characters: 270 characters once encoded into a key, past the 255 bytes a file name may have.
const LONG = '計算'.repeat(15)

interface Fixture {
  ñandú(n: unknown): number
  cast(n: unknown): number
  Verses: new () => { 'two words'(n: unknown): number }
  events: { functionId: string }[]
}

// A `#` belongs to the file's name here, not a fragment; `<number>n` parses only as TypeScript without JSX.
const FILE = 'src/dír ünï/notes #1.ts'

describe.each(BUNDLERS)('%s with unusual names', (bundler) => {
  let project: Project
  let app: Fixture

  beforeAll(async () => {
    project = createProject(`${bundler}-names`)
    project.write(
      FILE,
      [
        "import { poet } from 'unplugin-poet/runtime'",
        'export const ñandú = poet()((n: number): number => n * 2)',
        'export const cast = poet()((n: number): number => <number>n + 1)',
        `export const ${LONG} = poet()((n: number): number => n * 3)`,
        "export class Verses { @poet() 'two words'(n: number): number { return n + 1 } }",
      ].join('\n'),
    )
    project.write(
      'src/names.ts',
      [
        "import { onEvent } from 'unplugin-poet/runtime'",
        `export { ñandú, cast, Verses, ${LONG} } from './${FILE.slice('src/'.length)}'`,
        'export const events: { functionId: string }[] = []',
        'onEvent((e) => void events.push(e))',
      ].join('\n'),
    )
    app = await run<Fixture>(await build(project, bundler, { entry: 'src/names.ts' }))
  })
  afterAll(() => project.remove())

  it('validates each function and names it by its whole path and name', () => {
    expect(() => app.ñandú('2')).toThrow(/args\[0\]: expected number, received string/)
    expect(app.ñandú(2)).toBe(4)
    expect(app.cast(2)).toBe(3)
    const long = (app as unknown as Record<string, (n: unknown) => number>)[LONG]!
    expect(long(2)).toBe(6)
    expect(() => long('2')).toThrow(/args\[0\]: expected number, received string/)
    expect(() => new app.Verses()['two words']('2')).toThrow(/args\[0\]: expected number, received string/)
    expect(new Set(app.events.map((e) => e.functionId))).toEqual(
      new Set([`${FILE}#ñandú`, `${FILE}#cast`, `${FILE}#${LONG}`, `${FILE}#Verses.two words`]),
    )
  })
})
