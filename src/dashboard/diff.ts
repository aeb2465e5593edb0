// Line diff of two phase modules for the dashboard, with unchanged runs folded to a few lines of context.
import { diffLines, splitLines } from '../generators/line-diff'

export interface DiffLine {
  /** `+` added, `-` removed, ` ` unchanged, `…` a folded run of unchanged lines. */
  op: '+' | '-' | ' ' | '…'
  text: string
}

/** Phase modules are a few hundred lines; past this the quadratic table is not worth it and the rest is shown whole. */
const MAX_LINES = 3000

export function lineDiff(before: string, after: string, context = 3): DiffLine[] {
  const a = splitLines(before)
  const b = splitLines(after)
  const ops: DiffLine[] = diffLines(a.slice(0, MAX_LINES), b.slice(0, MAX_LINES)).map(({ op, text }) => ({ op, text }))
  const restA = a.slice(MAX_LINES)
  const restB = b.slice(MAX_LINES)
  // Dropping the rest would call two versions equal whenever they differ only past the lines compared.
  if (restA.length === restB.length && restA.every((line, k) => line === restB[k])) ops.push(...restA.map((text) => ({ op: ' ' as const, text })))
  else ops.push(...restA.map((text) => ({ op: '-' as const, text })), ...restB.map((text) => ({ op: '+' as const, text })))
  return fold(ops, context)
}

/** Keeps `context` unchanged lines around each change; longer unchanged runs become one `…` line saying how many. */
function fold(lines: DiffLine[], context: number): DiffLine[] {
  const near = new Array<boolean>(lines.length).fill(false)
  lines.forEach((l, k) => {
    if (l.op === ' ') return
    for (let d = Math.max(0, k - context); d <= Math.min(lines.length - 1, k + context); d++) near[d] = true
  })
  if (!near.includes(true)) return lines
  const out: DiffLine[] = []
  let skipped = 0
  lines.forEach((l, k) => {
    if (near[k]) {
      if (skipped) out.push({ op: '…', text: `${skipped} unchanged line${skipped === 1 ? '' : 's'}` })
      skipped = 0
      out.push(l)
    } else skipped++
  })
  if (skipped) out.push({ op: '…', text: `${skipped} unchanged line${skipped === 1 ? '' : 's'}` })
  return out
}
