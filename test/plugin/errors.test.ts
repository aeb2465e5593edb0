// Build-error fixtures: each misuse of poet() and the exact message, location and code frame a user sees.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { codeFrame, PoetBuildError } from '../../src/plugin/errors'
import { transformPoet } from '../../src/plugin/transform'
import { context, fixtureDir, inputFile, updating } from './fixtures'

const root = fixtureDir('errors')

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected the transform to throw')
}

describe('build errors (fixtures: input and the exact message a user sees)', () => {
  for (const name of readdirSync(root).sort()) {
    it(name, () => {
      const dir = join(root, name)
      const file = join(dir, inputFile(dir))
      const code = readFileSync(file, 'utf8')
      const err = thrown(() => transformPoet(code, file, context(root)))
      expect(err).toBeInstanceOf(PoetBuildError)
      const e = err as PoetBuildError
      const expected = join(dir, 'error.txt')
      if (updating) writeFileSync(expected, e.message + '\n')
      else if (!existsSync(expected)) throw new Error(`missing ${expected}: run with UPDATE_FIXTURES=1 and review it`)
      expect(e.message + '\n').toBe(readFileSync(expected, 'utf8'))

      // The fields bundlers read: Vite's overlay uses loc/frame/id, Rollup uses loc/id/code.
      expect(e.id).toBe(file)
      expect(e.loc.file).toBe(file)
      expect(e.message).toContain(`${name}/input.ts:${e.loc.line}:${e.loc.column + 1}: `)
      expect(e.message).toContain(`[${e.code}]`)
      expect(e.message.endsWith(e.frame)).toBe(true)
      expect(e.frame).toContain(`> ${e.loc.line} |`)
    })
  }
})

describe('PoetBuildError', () => {
  it('takes the fields Rollup and Vite assign on errors thrown from a hook', () => {
    const err = new PoetBuildError('POET_UNKNOWN_OPTION', 'unknown option', { file: '/p/a.ts', line: 1, column: 0 }, '> 1 | x', 'a.ts')
    const asRollupDoes = err as unknown as Record<string, unknown>
    asRollupDoes.id = '/p/a.ts?used'
    asRollupDoes.plugin = 'unplugin-poet'
    asRollupDoes.hook = 'transform'
    expect(err.id).toBe('/p/a.ts?used')
    expect(err.reason).toBe('unknown option')
    expect(err.message).toBe('a.ts:1:1: unknown option [POET_UNKNOWN_OPTION]\n\n> 1 | x')
  })
})

describe('error positions', () => {
  it('frame the line babel names when a comment holds a U+2028 line separator (pasted text)', () => {
    const code = [
      "import { poet } from 'unplugin-poet/runtime'",
      '/* copied from the spec:\u2028the total of an order */',
      'export const total = poet({ atempts: 2 })((n: number) => n)',
    ].join('\n')
    const e = thrown(() => transformPoet(code, '/p/src/total.ts', context('/p'))) as PoetBuildError
    expect(e.code).toBe('POET_UNKNOWN_OPTION')
    const marked = e.frame.split('\n').find((l) => l.startsWith('>'))
    expect(marked).toContain('atempts')
    expect(e.frame.split('\n').at(-1)!.indexOf('^')).toBe(marked!.indexOf('atempts'))
  })
})

describe('codeFrame', () => {
  it('puts the caret under the column and keeps tabs so it lines up', () => {
    const source = 'a\n\tbb(\tc)\nd'
    expect(codeFrame(source, 2, 5)).toBe(['  1 | a', '> 2 | \tbb(\tc)', '    | \t   \t^', '  3 | d'].join('\n'))
  })

  it('pads line numbers to the widest one shown', () => {
    const source = Array.from({ length: 12 }, (_, i) => `line${i + 1}`).join('\n')
    expect(codeFrame(source, 10, 0)).toBe(
      [
        '   8 | line8',
        '   9 | line9',
        '> 10 | line10',
        '     | ^',
        '  11 | line11',
        '  12 | line12',
      ].join('\n'),
    )
  })
})
