// insertWithMap: text inserted into transformed code keeps the source map pointing at what the user wrote.
import { originalPositionFor, TraceMap, type EncodedSourceMap } from '@jridgewell/trace-mapping'
import MagicString from 'magic-string'
import { describe, expect, it } from 'vitest'
import type { SourceMapJSON } from '../../src/plugin/cache'
import { insertWithMap } from '../../src/plugin/dev-sourcemap'

/** A transform of `source` that inserts `prefix` at the start, with its map: what the plugin's transform hands over. */
function transformed(source: string, prefix: string) {
  const s = new MagicString(source)
  s.prepend(prefix)
  return { code: s.toString(), map: s.generateMap({ hires: true, source: 'src.ts', includeContent: true }) as SourceMapJSON }
}

function positionOf(text: string, needle: string) {
  const before = text.slice(0, text.indexOf(needle)).split('\n')
  return { line: before.length, column: before[before.length - 1]!.length }
}

describe('insertWithMap', () => {
  it('keeps every word mapped, on long lines too (columns that take several VLQ digits)', () => {
    const filler = 'x'.repeat(3000)
    const source = `const a = "${filler}"; call(alpha); call(beta)\nconst b = gamma\n`
    const base = transformed(source, 'import z from "z"\n')
    const at = (needle: string) => base.code.indexOf(needle)
    const out = insertWithMap(base.code, base.map, [
      { at: at('call(beta)'), text: 'wrap(' },
      { at: at('call(alpha)'), text: 'wrap(' },
      { at: at('; call(beta)'), text: ')' },
      { at: at('gamma'), text: 'hot(' },
    ])
    expect(out.code).toContain(`"; wrap(call(alpha)); wrap(call(beta)\nconst b = hot(gamma`)
    const map = new TraceMap(out.map as unknown as EncodedSourceMap)
    for (const word of ['alpha', 'beta', 'gamma', 'const b']) {
      expect(originalPositionFor(map, positionOf(out.code, word))).toEqual({ source: 'src.ts', name: null, ...positionOf(source, word) })
    }
    expect(out.map.sourcesContent).toEqual([source])
  })

  it('leaves lines without insertions, and lines past the mapped code, as they were', () => {
    const base = transformed('one\ntwo\n', '')
    const out = insertWithMap(base.code, base.map, [{ at: base.code.length, text: '/* end */' }])
    expect(out.code).toBe('one\ntwo\n/* end */')
    expect(out.map.mappings).toBe(base.map.mappings)
  })

  it('refuses text that would add a line, which would move every mapping below it', () => {
    const base = transformed('one\n', '')
    expect(() => insertWithMap(base.code, base.map, [{ at: 0, text: 'a\nb' }])).toThrow(/one line/)
  })
})
