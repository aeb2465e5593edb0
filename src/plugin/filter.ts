// Tests a file against include/exclude patterns as the bundlers do, for where their own filters cannot: the CLI's walk, and Vite dev's worker modules.
import { relative, sep } from 'node:path'
import type { FilterPattern } from 'unplugin'

/** A FilterPattern test like the bundlers': RegExps see the absolute path, strings are globs relative to the root. */
export function matcher(pattern: FilterPattern, root: string): (file: string) => boolean {
  const list = pattern === null || pattern === undefined ? [] : Array.isArray(pattern) ? pattern : [pattern]
  const tests = list.map((p) => (typeof p === 'string' ? globToRegExp(p) : p))
  return (file) => {
    const abs = file.split(sep).join('/')
    const rel = relative(root, file).split(sep).join('/')
    return tests.some((t) => t.test(abs) || t.test(rel))
  }
}

function globToRegExp(pattern: string): RegExp {
  const glob = pattern.replace(/^\.\//, '')
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*'
      i += glob[i + 2] === '/' ? 2 : 1
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}
