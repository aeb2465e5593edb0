// A line-based unified diff (LCS), enough for reviewing two versions of a generated phase module.

const CONTEXT = 3

type Op = { kind: ' ' | '-' | '+'; line: string; a: number; b: number }

export function unifiedDiff(a: string, b: string, fromLabel: string, toLabel: string): string {
  const x = a.split('\n')
  const y = b.split('\n')
  const ops = diffLines(x, y)
  const changed = ops.map((o, i) => (o.kind !== ' ' ? i : -1)).filter((i) => i >= 0)
  if (!changed.length) return ''
  const out = [`--- ${fromLabel}`, `+++ ${toLabel}`]
  let i = 0
  while (i < changed.length) {
    let start = Math.max(0, changed[i]! - CONTEXT)
    let end = Math.min(ops.length, changed[i]! + CONTEXT + 1)
    while (i + 1 < changed.length && changed[i + 1]! - CONTEXT <= end) end = Math.min(ops.length, changed[++i]! + CONTEXT + 1)
    i++
    const hunk = ops.slice(start, end)
    const aCount = hunk.filter((o) => o.kind !== '+').length
    const bCount = hunk.filter((o) => o.kind !== '-').length
    const aStart = (hunk.find((o) => o.kind !== '+')?.a ?? hunk[0]!.a) + (aCount ? 1 : 0)
    const bStart = (hunk.find((o) => o.kind !== '-')?.b ?? hunk[0]!.b) + (bCount ? 1 : 0)
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`, ...hunk.map((o) => o.kind + o.line))
    start = end
  }
  return out.join('\n') + '\n'
}

function diffLines(x: string[], y: string[]): Op[] {
  const n = x.length
  const m = y.length
  // lcs[i][j]: length of the LCS of x[i..] and y[j..], in one flat array.
  const lcs = new Uint32Array((n + 1) * (m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = x[i] === y[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!)
    }
  }
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ kind: ' ', line: x[i]!, a: i++, b: j++ })
    else if (j < m && (i === n || lcs[i * (m + 1) + j + 1]! >= lcs[(i + 1) * (m + 1) + j]!)) ops.push({ kind: '+', line: y[j]!, a: i, b: j++ })
    else ops.push({ kind: '-', line: x[i]!, a: i++, b: j })
  }
  return ops
}
