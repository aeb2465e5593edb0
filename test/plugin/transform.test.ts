import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { transformPoet } from '../../src/plugin/transform'
import { context, fixtureDir, inputFile, updating } from './fixtures'

const root = fixtureDir('transform')

/** Compares `actual` with the stored expected file; writes it only when updating deliberately. */
function expectFile(path: string, actual: string) {
  if (updating) writeFileSync(path, actual)
  else if (!existsSync(path)) throw new Error(`missing ${path}: run with UPDATE_FIXTURES=1 and review the result`)
  expect(actual).toBe(readFileSync(path, 'utf8'))
}

describe('transform fixtures', () => {
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name)
    const input = inputFile(dir)
    const file = join(dir, input)
    const code = readFileSync(file, 'utf8')

    if (name.startsWith('unchanged-')) {
      it(`${name}: comes back null, so the module stays byte-identical`, () => {
        const warnings: string[] = []
        expect(transformPoet(code, file, context(root, warnings))).toBeNull()
        expect(warnings).toEqual([])
      })
      continue
    }

    it(`${name}: rewrites as expected, and a second pass changes nothing`, () => {
      const warnings: string[] = []
      const result = transformPoet(code, file, context(root, warnings))
      expect(result).not.toBeNull()
      expectFile(join(dir, input.replace('input', 'output')), result!.code)
      const specs = result!.specs.map(({ id, name, kind, async, options }) => ({ id, name, kind, async, options }))
      expectFile(join(dir, 'specs.json'), JSON.stringify(specs, null, 2) + '\n')
      const warningsFile = join(dir, 'warnings.txt')
      if (warnings.length || existsSync(warningsFile)) expectFile(warningsFile, warnings.join('\n') + '\n')

      const again: string[] = []
      expect(transformPoet(result!.code, file, context(root, again))).toBeNull()
      // Only calls the plugin cannot rewrite are reported again (one import line lower each); the rest is left alone.
      const notApplied = (ws: string[]) => ws.filter((w) => w.includes('is not applied directly')).length
      expect(again.length).toBe(notApplied(again))
      expect(notApplied(again)).toBe(notApplied(warnings))
    })
  }
})
