// Tests a file against include/exclude patterns as the bundlers do, for where their own filters cannot: the CLI's walk, and Vite dev's worker modules.
import { realpathSync } from 'node:fs'
import { relative, sep } from 'node:path'
import type { FilterPattern } from 'unplugin'
import { NODE_MODULES } from './options'

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

/**
 * Whether a file under node_modules is an installed package's. A workspace package reached through its link
 * (`resolve.preserveSymlinks`, webpack's `resolve.symlinks: false`, esbuild's `preserveSymlinks`) has a node_modules
 * path too, but its real one is the project's source, which the build reads as it would through the real path.
 */
export function installedPackage(file: string): boolean {
  if (!NODE_MODULES.test(file)) return false
  try {
    return NODE_MODULES.test(realpathSync(file))
  } catch {
    // not on disk: nothing tells it apart from an installed package
    return true
  }
}
