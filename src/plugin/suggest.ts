// Closest-name suggestions for build and option errors ("did you mean 'attempts'?").

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions (`atempts`, `attmepts`). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array(rows * cols)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1)
      d[i * cols + j] = v
    }
  }
  return d[rows * cols - 1]!
}

/**
 * The candidate closest to `name`, when it is close enough to be a plausible typo
 * (case and `-`/`_` differences are free; otherwise at most about a third of the letters may differ).
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '')
  const n = norm(name)
  let best: string | undefined
  let bestScore = Infinity
  for (const c of candidates) {
    const score = editDistance(n, norm(c))
    if (score < bestScore) {
      best = c
      bestScore = score
    }
  }
  if (best === undefined) return undefined
  const limit = Math.max(1, Math.floor(Math.max(n.length, norm(best).length) / 3))
  return bestScore <= limit ? best : undefined
}

/** ` Did you mean 'x'?` when one is close, else ` Expected one of: 'a', 'b'.` (empty when there are no candidates). */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const hit = closest(name, candidates)
  if (hit !== undefined) return ` Did you mean '${hit}'?`
  if (candidates.length === 0) return ''
  return ` Expected one of: ${candidates.map((c) => `'${c}'`).join(', ')}.`
}
