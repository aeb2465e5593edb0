// A unified diff of two versions of a generated phase module, for `poet diff`.
import { diffLines, splitLines } from '../generators/line-diff'

const CONTEXT = 3

export function unifiedDiff(a: string, b: string, fromLabel: string, toLabel: string): string {
  const x = splitLines(a)
  const y = splitLines(b)
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
