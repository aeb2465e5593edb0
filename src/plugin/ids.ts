// Function ids and the virtual-module keys that carry them through URLs, file systems and every bundler.
import { existsSync, realpathSync } from 'node:fs'
import { isAbsolute, relative, sep } from 'node:path'

/** The runtime specifier that makes `poet` ours. */
export const RUNTIME_ID = 'unplugin-poet/runtime'
/** The package root: the bundler plugin, where a user may look for `poet` by mistake. */
export const PACKAGE_ID = 'unplugin-poet'
/**
 * Code filter for the bundler wiring, and the transform's cheap pre-filter: a module that does not match is never
 * parsed. The package root passes too, so that `import { poet } from 'unplugin-poet'` is named as the mistake it is
 * instead of failing later inside the plugin's own code (esbuild: `Could not resolve "vite"`).
 */
// The root only after `from`: the runtime's own code says "unplugin-poet" (its Symbol.for key), and a linked package
// (npm link, workspaces) is not under node_modules, so a looser filter would parse the runtime in every build.
export const POET_CODE_FILTER = /unplugin-poet\/runtime|from\s*['"]unplugin-poet['"]/

export const VIRTUAL_PREFIX = 'virtual:poet/'
/** Resolved id of a phase module: the `\0` keeps other plugins (and Vite's fs access) away from it. */
export const RESOLVED_PREFIX = '\0poet:'

const encoder = new TextEncoder()

/**
 * Encodes a function id (`src/a.ts#Pricing.quote`) into a key made only of `[A-Za-z0-9_.~-]`:
 * every other character becomes `~` and two hex digits (`/` → `~2f`, `#` → `~23`). Reversible.
 */
export function encodeKey(id: string): string {
  let out = ''
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    const safe = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45
    if (safe) out += id[i]
    else if (c < 0x80) out += '~' + c.toString(16).padStart(2, '0')
    else {
      // Outside ASCII: the UTF-8 bytes of the whole code point (a lone surrogate encodes as U+FFFD, as TextEncoder does).
      const ch = String.fromCodePoint(id.codePointAt(i)!)
      for (const byte of encoder.encode(ch)) out += '~' + byte.toString(16).padStart(2, '0')
      i += ch.length - 1
    }
  }
  return out
}

export function decodeKey(key: string): string {
  const bytes: number[] = []
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '~') {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16))
      i += 2
    } else bytes.push(key.charCodeAt(i))
  }
  return new TextDecoder().decode(new Uint8Array(bytes))
}

/** `src/drift.ts` + `detectDrift` → `src/drift.ts#detectDrift`. */
export function functionId(relativePath: string, name: string): string {
  return `${relativePath}#${name}`
}

/**
 * A module's path relative to the project root, with `/`: the start of its function ids. Bundlers hand over module
 * paths with symlinks resolved (webpack, rspack, Rolldown, esbuild) or kept (`preserveSymlinks`), and the root may be
 * either too: a path that leaves the root is compared again by both real paths, so a file has one id however reached.
 */
export function projectPath(root: string, file: string): string {
  let rel = relative(root, file)
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    try {
      rel = relative(realpathSync(root), realpathSync(file))
    } catch {
      // a file not on disk (a test's, a bundler's virtual one): its path as given is all there is
    }
  }
  return rel.split(sep).join('/')
}

/**
 * The file a bundler's module id names: without its `?query`, and without a `#fragment` unless the `#` is part of
 * the file's name (`notes #1.ts`), which only the file system can tell.
 */
export function fileOf(id: string): string {
  const query = id.indexOf('?')
  const path = query < 0 ? id : id.slice(0, query)
  const hash = path.lastIndexOf('#')
  return hash < 0 || existsSync(path) ? path : path.slice(0, hash)
}
