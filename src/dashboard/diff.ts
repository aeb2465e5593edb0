// Line diff of two phase modules (longest common subsequence), with unchanged runs folded to a few lines of context.

export interface DiffLine {
  /** `+` added, `-` removed, ` ` unchanged, `…` a folded run of unchanged lines. */
  op: '+' | '-' | ' ' | '…'
  text: string
}

/** Phase modules are a few hundred lines; past this the quadratic table is not worth it and the rest is shown whole. */
const MAX_LINES = 3000

export function lineDiff(before: string, after: string, context = 3): DiffLine[] {
  const a = before.split('\n').slice(0, MAX_LINES)
  const b = after.split('\n').slice(0, MAX_LINES)
  // Common prefix and suffix first: versions usually differ in a few lines, which keeps the table small.
  let start = 0
  while (start < a.length && start < b.length && a[start] === b[start]) start++
  let end = 0
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++
  const x = a.slice(start, a.length - end)
  const y = b.slice(start, b.length - end)
  const n = x.length
  const m = y.length
  const lcs = new Uint32Array((n + 1) * (m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = x[i] === y[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!)
    }
  }
  const middle: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      middle.push({ op: ' ', text: x[i++]! })
      j++
    } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) middle.push({ op: '-', text: x[i++]! })
    else middle.push({ op: '+', text: y[j++]! })
  }
  const all: DiffLine[] = [...a.slice(0, start).map((text) => ({ op: ' ' as const, text })), ...middle, ...b.slice(b.length - end).map((text) => ({ op: ' ' as const, text }))]
  return fold(all, context)
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
