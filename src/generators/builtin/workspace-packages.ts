// Maps a bare specifier to the files of a workspace package (linked into node_modules from the repository, as npm, pnpm and yarn workspaces do), as TypeScript finds its types.
import { realpathSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, join, resolve, sep } from 'node:path'
import { match } from './subpath-imports'

type Read = (path: string) => string | undefined

interface PackageJson {
  exports?: unknown
  types?: unknown
  typings?: unknown
  module?: unknown
  main?: unknown
}

/**
 * The absolute paths `specifier` (`@acme/types`, `@acme/types/order`) names in a workspace package that the file's
 * node_modules link to, with the package.json read; undefined for a specifier no node_modules above the file holds, and
 * for an installed package (its real path under node_modules): a dependency's types are not the project's to check.
 */
export function mapWorkspacePackage(file: string, specifier: string, read: Read): { paths: string[]; pkg: string } | undefined {
  const parts = specifier.split('/')
  const nameLength = specifier.startsWith('@') ? 2 : 1
  if (parts.length < nameLength || parts.slice(0, nameLength).some((p) => p === '' || p === '.' || p === '..')) return undefined
  const name = parts.slice(0, nameLength).join('/')
  const subpath = ['.', ...parts.slice(nameLength)].join('/')
  const looked: string[] = []
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    // Looked for without `read`, which records what it reads (the plugin replays a cached transform only while each
    // is as it was): every node_modules up to the link found, and every installed package's package.json, are not
    // worth that.
    const link = join(dir, 'node_modules', name)
    looked.push(join(link, 'package.json'))
    const real = realPath(link)
    if (real !== undefined) {
      if (`${real}${sep}`.includes(`${sep}node_modules${sep}`)) return undefined
      const text = read(join(real, 'package.json'))
      if (text === undefined) return undefined
      let pkg: PackageJson
      try {
        pkg = JSON.parse(text.replace(/^\uFEFF/, '')) as PackageJson
      } catch {
        return undefined
      }
      return { paths: targets(pkg, subpath).map((t) => resolve(real, t)), pkg: join(real, 'package.json') }
    }
    if (dirname(dir) === dir) break
  }
  // Linked nowhere yet (a package added to the workspace before the install that links it): where a link would be
  // found is recorded after all, so that a cached transform is replayed only while there is still none. Not for
  // Node's own modules, nor aliases (`@/types`, `~/types`), which no install links.
  if (PACKAGE_NAME.test(name) && !isBuiltin(specifier)) for (const path of looked) read(path)
  return undefined
}

/** A name npm can install (`@acme/types`, `lodash.merge`). */
const PACKAGE_NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i

/** The package's files for `subpath` (`.` or `./order`): by its `exports`, else its `types`, `module` or `main` entry. */
function targets(pkg: PackageJson, subpath: string): string[] {
  const { exports } = pkg
  if (exports !== undefined && exports !== null) {
    // `"exports": "./src/index.ts"` or `{ "types": …, "default": … }`: the package's one entry.
    const map = typeof exports === 'string' || Array.isArray(exports) || !Object.keys(exports).some((k) => k.startsWith('.')) ? { '.': exports } : exports
    return match(map, subpath) ?? []
  }
  if (subpath !== '.') return [subpath]
  const entry = [pkg.types, pkg.typings, pkg.module, pkg.main].find((e): e is string => typeof e === 'string' && e !== '')
  return [entry ?? './index']
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}
