// Inserts text into already-transformed code and shifts its source map to match, so the map still points at the user's source.
import type { SourceMapJSON } from './cache'

/** Text to insert at an offset of the code; it must not contain a line break. */
export interface Insertion {
  at: number
  text: string
}

/**
 * `code` with every insertion made, and `map` (which maps `code` back to the original source) shifted to the new
 * columns. Only the first segment at or after an insertion needs a new generated column: the later segments of a
 * line are stored relative to the one before them, and nothing else in a mapping depends on generated columns.
 */
export function insertWithMap(code: string, map: SourceMapJSON, insertions: Insertion[]): { code: string; map: SourceMapJSON } {
  const sorted = [...insertions].sort((a, b) => b.at - a.at)
  let out = code
  for (const { at, text } of sorted) {
    if (/[\r\n]/.test(text)) throw new Error('insertWithMap: inserted text must stay on one line')
    out = out.slice(0, at) + text + out.slice(at)
  }
  const lines = map.mappings.split(';')
  const starts = lineStarts(code)
  // From the right: a shift made further along a line never changes which segment an earlier insertion shifts.
  for (const { at, text } of sorted) {
    const line = lineOf(starts, at)
    if (line < lines.length) lines[line] = shiftLine(lines[line]!, at - starts[line]!, text.length)
  }
  return { code: out, map: { ...plainMap(map), mappings: lines.join(';') } }
}

/** One line of mappings with every segment at generated column `column` or later moved right by `by`. */
function shiftLine(line: string, column: number, by: number): string {
  if (!line) return line
  const segments = line.split(',')
  let absolute = 0
  for (let i = 0; i < segments.length; i++) {
    const [delta, rest] = readVlq(segments[i]!)
    absolute += delta
    if (absolute >= column) {
      segments[i] = writeVlq(delta + by) + rest
      break
    }
  }
  return segments.join(',')
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

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** The first base64 VLQ value of a segment, and the rest of the segment after it. */
function readVlq(segment: string): [number, string] {
  let value = 0
  let shift = 0
  let i = 0
  for (;;) {
    const digit = BASE64.indexOf(segment[i++]!)
    if (digit < 0) throw new Error(`insertWithMap: not a source map segment: ${segment}`)
    value += (digit & 31) * 2 ** shift
    shift += 5
    if (!(digit & 32)) break
  }
  return [value & 1 ? -(value - 1) / 2 : value / 2, segment.slice(i)]
}

function writeVlq(n: number): string {
  let value = n < 0 ? -n * 2 + 1 : n * 2
  let out = ''
  do {
    let digit = value % 32
    value = Math.floor(value / 32)
    if (value > 0) digit |= 32
    out += BASE64[digit]
  } while (value > 0)
  return out
}
