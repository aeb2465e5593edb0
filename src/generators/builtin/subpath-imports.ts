// Maps `#` specifiers (`import type { Order } from '#types/order'`) through the `imports` field of the nearest package.json, as Node and TypeScript do.
import { dirname, join, resolve } from 'node:path'

type Read = (path: string) => string | undefined

/** Conditions a type import may take, as TypeScript's bundler resolution does; the first of them in the object's order wins. */
const CONDITIONS = new Set(['types', 'import', 'module', 'node', 'browser', 'default'])

/**
 * The absolute paths a `#` specifier maps to, with the package.json that maps it (read from `root` down to the file's
 * directory, nearest first); undefined when no package.json there has an `imports` entry for it.
 */
export function mapSubpathImport(file: string, specifier: string, read: Read, root?: string): { paths: string[]; pkg: string; files: string[] } | undefined {
  const stop = root && resolve(root)
  const files: string[] = []
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json')
    const text = read(pkg)
    if (text !== undefined) {
      files.push(pkg)
      // The nearest package.json is the package the file belongs to, imports field or not.
      let imports: unknown
      try {
        imports = (JSON.parse(text.replace(/^\uFEFF/, '')) as { imports?: unknown }).imports
      } catch {
        return undefined
      }
      const targets = isObject(imports) ? match(imports, specifier) : undefined
      return targets && { paths: targets.map((t) => resolve(dir, t)), pkg, files }
    }
    if (dir === stop || dirname(dir) === dir) return undefined
  }
}

/** The relative targets of the entry that matches: the exact key, else the `*` pattern with the longest prefix. */
export function match(imports: object, specifier: string): string[] | undefined {
  const entries = Object.entries(imports)
  const exact = entries.find(([key]) => key === specifier)
  if (exact) return targetsOf(exact[1], undefined)
  let best: { value: unknown; star: string; prefix: number } | undefined
  for (const [key, value] of entries) {
    const star = key.indexOf('*')
    if (star < 0) continue
    const prefix = key.slice(0, star)
    const suffix = key.slice(star + 1)
    if (specifier.length < prefix.length + suffix.length || !specifier.startsWith(prefix) || !specifier.endsWith(suffix)) continue
    if (!best || prefix.length > best.prefix) best = { value, star: specifier.slice(prefix.length, specifier.length - suffix.length), prefix: prefix.length }
  }
  return best && targetsOf(best.value, best.star)
}

/** A target: a `./` path, a list of fallbacks, or conditions; a package name or null maps to nothing checkable here. */
function targetsOf(value: unknown, star: string | undefined): string[] {
  if (typeof value === 'string') return value.startsWith('./') ? [star === undefined ? value : value.replaceAll('*', star)] : []
  if (Array.isArray(value)) return value.flatMap((v) => targetsOf(v, star))
  if (!isObject(value)) return []
  for (const [condition, v] of Object.entries(value)) {
    if (CONDITIONS.has(condition)) return targetsOf(v, star)
  }
  return []
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
