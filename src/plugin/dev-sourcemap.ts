// Inserts text into already-transformed code and shifts its source map to match, so the map still points at the user's source.
import { decode, encode } from '@jridgewell/sourcemap-codec'
import type { SourceMapJSON } from './cache'

/** Text to insert at an offset of the code; it must not contain a line break. */
export interface Insertion {
  at: number
  text: string
}

/**
 * `code` with every insertion made, and `map` (which maps `code` back to the original source) shifted to the new
 * columns: every segment at or after an insertion on its line moves right by the inserted length.
 */
export function insertWithMap(code: string, map: SourceMapJSON, insertions: Insertion[]): { code: string; map: SourceMapJSON } {
  const sorted = [...insertions].sort((a, b) => b.at - a.at)
  let out = code
  for (const { at, text } of sorted) {
    if (/[\r\n]/.test(text)) throw new Error('insertWithMap: inserted text must stay on one line')
    out = out.slice(0, at) + text + out.slice(at)
  }
  const lines = decode(map.mappings)
  const starts = lineStarts(code)
  for (const { at, text } of sorted) {
    const line = lineOf(starts, at)
    const column = at - starts[line]!
    for (const segment of lines[line] ?? []) if (segment[0] >= column) segment[0] += text.length
  }
  return { code: out, map: { ...plainMap(map), mappings: encode(lines) } }
}

/** The fields a bundler reads: a magic-string SourceMap also carries methods, which a spread would not need. */
function plainMap(map: SourceMapJSON): SourceMapJSON {
  const { version, file, sources, sourcesContent, names, mappings } = map
  return { version, file, sources, sourcesContent, names, mappings }
}

function lineStarts(code: string): number[] {
  const starts = [0]
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (starts[mid]! <= offset) lo = mid
    else hi = mid - 1
  }
  return lo
}
