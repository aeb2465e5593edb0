// A unified diff of two versions of a generated phase module, for `poet diff`.
import { diffLines } from '../generators/line-diff'

const CONTEXT = 3

export function unifiedDiff(a: string, b: string, fromLabel: string, toLabel: string): string {
  const x = lines(a)
  const y = lines(b)
  const ops = diffLines(x, y)
  const changed = ops.map((o, i) => (o.op !== ' ' ? i : -1)).filter((i) => i >= 0)
  if (!changed.length) return ''
  const out = [`--- ${fromLabel}`, `+++ ${toLabel}`]
  let i = 0
  while (i < changed.length) {
    let start = Math.max(0, changed[i]! - CONTEXT)
    let end = Math.min(ops.length, changed[i]! + CONTEXT + 1)
    while (i + 1 < changed.length && changed[i + 1]! - CONTEXT <= end) end = Math.min(ops.length, changed[++i]! + CONTEXT + 1)
    i++
    const hunk = ops.slice(start, end)
    const aCount = hunk.filter((o) => o.op !== '+').length
    const bCount = hunk.filter((o) => o.op !== '-').length
    const aStart = (hunk.find((o) => o.op !== '+')?.a ?? hunk[0]!.a) + (aCount ? 1 : 0)
    const bStart = (hunk.find((o) => o.op !== '-')?.b ?? hunk[0]!.b) + (bCount ? 1 : 0)
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`, ...hunk.map((o) => o.op + o.text))
    start = end
  }
  return out.join('\n') + '\n'
}

/** A file's lines: the newline ending the last one ends it, it does not open an empty line after it (as for diff -u). */
function lines(text: string): string[] {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text
  return body === '' ? [] : body.split('\n')
}
