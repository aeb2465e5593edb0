import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeKey, encodeKey, functionId, POET_CODE_FILTER, projectPath } from '../../src/plugin/ids'

describe('virtual-module keys', () => {
  it('survive URLs and file systems and round-trip to the function id', () => {
    const ids = [functionId('src/drift.ts', 'detectDrift'), 'src/a b/ü.ts#Pricing.quote@12', 'x.ts#default']
    for (const id of ids) {
      const key = encodeKey(id)
      expect(key).toMatch(/^[A-Za-z0-9_.~-]+$/)
      expect(decodeKey(key)).toBe(id)
    }
    expect(encodeKey('src/drift.ts#detectDrift')).toBe('src~2fdrift.ts~23detectDrift')
  })

  it('encodes every character outside the safe set as its UTF-8 bytes, astral ones whole', () => {
    expect(encodeKey('src/ü/😀.ts#f')).toBe('src~2f~c3~bc~2f~f0~9f~98~80.ts~23f')
    expect(decodeKey(encodeKey('src/😀ü.ts#a😀'))).toBe('src/😀ü.ts#a😀')
    // A lone surrogate cannot be UTF-8: it becomes U+FFFD, as TextEncoder writes it.
    expect(encodeKey('a\ud800b')).toBe('a~ef~bf~bdb')
  })
})

describe('projectPath', () => {
  it('gives a file one path whether the root or the file is reached through a symlink', () => {
    const base = mkdtempSync(join(tmpdir(), 'poet-ids-'))
    try {
      const real = join(base, 'real')
      mkdirSync(join(real, 'src'), { recursive: true })
      writeFileSync(join(real, 'src/a.ts'), '')
      writeFileSync(join(base, 'outside.ts'), '')
      const link = join(base, 'link')
      symlinkSync(real, link, 'dir')
      expect(projectPath(real, join(real, 'src/a.ts'))).toBe('src/a.ts')
      expect(projectPath(link, join(real, 'src/a.ts'))).toBe('src/a.ts')
      expect(projectPath(real, join(link, 'src/a.ts'))).toBe('src/a.ts')
      expect(projectPath(link, join(link, 'src/a.ts'))).toBe('src/a.ts')
      // Outside the project however reached, and a path not on disk, as given.
      expect(projectPath(link, join(base, 'outside.ts'))).toBe('../outside.ts')
      expect(projectPath(link, join(base, 'gone.ts'))).toBe('../gone.ts')
    } finally {
      rmSync(base, { recursive: true, force: true })
    }
  })
})

describe('the code filter (a module it refuses is never parsed)', () => {
  it('takes imports of the runtime, and of the package root (to name that mistake), however they are spaced', () => {
    for (const code of [
      "import { poet } from 'unplugin-poet/runtime'",
      'import{poet}from"unplugin-poet/runtime"',
      "const { poet } = await import('unplugin-poet/runtime')",
      "import { poet } from 'unplugin-poet'",
      'import{poet}from"unplugin-poet"',
    ])
      expect(POET_CODE_FILTER.test(code), code).toBe(true)
  })

  it("refuses code that only names the package: the runtime's own Symbol.for key, a comment, the plugin in a config", () => {
    for (const code of ['const key = Symbol.for("unplugin-poet")', '// events come from unplugin-poet', "const name = 'unplugin-poet'"])
      expect(POET_CODE_FILTER.test(code), code).toBe(false)
  })
})
