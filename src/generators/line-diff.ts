// Line diff by longest common subsequence: what `poet diff` and the dashboard show between two versions of a phase module.

export interface LineOp {
  /** `+` added, `-` removed, ` ` unchanged. */
  op: ' ' | '-' | '+'
  text: string
  /** Index of this point in `before` and in `after` (0-based). */
  a: number
  b: number
}

/** Removals come before additions at each change; a common prefix and suffix are matched first to keep the table small. */
export function diffLines(before: string[], after: string[]): LineOp[] {
  let start = 0
  while (start < before.length && start < after.length && before[start] === after[start]) start++
  let end = 0
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++
  const x = before.slice(start, before.length - end)
  const y = after.slice(start, after.length - end)
  const n = x.length
  const m = y.length
  // lcs[i * (m + 1) + j]: length of the LCS of x[i..] and y[j..].
  const lcs = new Uint32Array((n + 1) * (m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = x[i] === y[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!)
    }
  }
  const ops: LineOp[] = []
  for (let k = 0; k < start; k++) ops.push({ op: ' ', text: before[k]!, a: k, b: k })
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ op: ' ', text: x[i]!, a: start + i++, b: start + j++ })
    else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) ops.push({ op: '-', text: x[i]!, a: start + i++, b: start + j })
    else ops.push({ op: '+', text: y[j]!, a: start + i, b: start + j++ })
  }
  for (let k = 0; k < end; k++) ops.push({ op: ' ', text: before[n + start + k]!, a: n + start + k, b: m + start + k })
  return ops
}

/** A file's lines as diff -u reads them: the newline ending the last one does not open an empty line after it. */
export function splitLines(text: string): string[] {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text
  return body === '' ? [] : body.split('\n')
}
