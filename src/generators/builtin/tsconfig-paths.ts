// Maps non-relative import specifiers (`@/types`) to files through the `paths` and `baseUrl` of the tsconfig.json that governs a file, as TypeScript does.
import { dirname, isAbsolute, join, resolve } from 'node:path'

/** The `paths` and `baseUrl` in force for a file, with every directory already absolute. */
export interface PathMapping {
  /** Patterns in the order written, each with its targets resolved to absolute paths (`*` kept). */
  paths: { pattern: string; targets: string[] }[]
  /** Absolute `baseUrl`, when one is set: non-relative specifiers no pattern matches are tried under it. */
  baseUrl?: string
  /** The config files read to find it (the governing tsconfig.json, what it extends and references). */
  files: string[]
}

type Read = (path: string) => string | undefined

/** A tsconfig.json as parsed, with its own path. */
export interface RawConfig {
  file: string
  compilerOptions?: Record<string, unknown>
  extends?: unknown
  references?: unknown
}

/**
 * The mapping of the nearest tsconfig.json above `file`, following its relative `extends`; a solution-style config
 * (`"files": []` and `references`, as Vite's templates write) lends the mapping of the first config it references
 * that has one. Undefined when no config there maps anything. The search goes up to the filesystem root, as
 * TypeScript's does, past the project root: a monorepo package without a tsconfig.json of its own is governed by the
 * repository's.
 */
export function findPathMapping(file: string, read: Read): PathMapping | undefined {
  const nearest = nearestConfigFile(file, read)
  return nearest && mappingOf(nearest.config, nearest.read, new Set())
}

/**
 * The nearest tsconfig.json above `file` (up to the filesystem root, as TypeScript searches), with a `read` that hands
 * back the text found rather than reading the file again.
 */
export function nearestConfigFile(file: string, read: Read): { config: string; read: Read } | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const config = join(dir, 'tsconfig.json')
    const text = read(config)
    if (text !== undefined) return { config, read: (path) => (path === config ? text : read(path)) }
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * Whether `exactOptionalPropertyTypes` is on for a file (then `a?: T` takes no explicit undefined): set by the nearest
 * tsconfig.json above it or what that extends, else by the first config a solution-style one references that sets it.
 */
export function findExactOptional(file: string, read: Read): { exact: boolean; files: string[] } | undefined {
  const nearest = nearestConfigFile(file, read)
  return nearest && exactOptionalOf(nearest.config, nearest.read, new Set())
}

function exactOptionalOf(config: string, read: Read, seen: Set<string>): { exact: boolean; files: string[] } | undefined {
  const files: string[] = []
  const chain = configChain(config, read, files, seen)
  if (chain.length === 0) return undefined
  const setting = chain.find((c) => typeof c.compilerOptions?.exactOptionalPropertyTypes === 'boolean')
  if (setting) return { exact: setting.compilerOptions!.exactOptionalPropertyTypes === true, files }
  for (const target of referencedConfigs(chain[0]!)) {
    const referenced = exactOptionalOf(target, read, seen)
    if (referenced) return { ...referenced, files: [...files, ...referenced.files] }
  }
  return { exact: false, files }
}

/**
 * The absolute paths (without extension) a specifier maps to, in the order TypeScript tries them, with the `paths`
 * pattern that mapped it: the exact pattern, else the matching `*` pattern with the longest prefix, else (no
 * pattern) under `baseUrl`. Undefined when nothing maps it.
 */
export function mapSpecifier(mapping: PathMapping, specifier: string): { paths: string[]; pattern?: string } | undefined {
  let best: { pattern: string; targets: string[]; star: string } | undefined
  for (const { pattern, targets } of mapping.paths) {
    const star = pattern.indexOf('*')
    if (star < 0) {
      if (pattern === specifier) return { paths: targets, pattern }
      continue
    }
    const prefix = pattern.slice(0, star)
    const suffix = pattern.slice(star + 1)
    if (specifier.length < prefix.length + suffix.length || !specifier.startsWith(prefix) || !specifier.endsWith(suffix)) continue
    if (!best || prefix.length > best.pattern.indexOf('*')) best = { pattern, targets, star: specifier.slice(prefix.length, specifier.length - suffix.length) }
  }
  if (best) return { paths: best.targets.map((t) => t.replace('*', best.star)), pattern: best.pattern }
  return mapping.baseUrl ? { paths: [join(mapping.baseUrl, specifier)] } : undefined
}

function mappingOf(config: string, read: Read, seen: Set<string>): PathMapping | undefined {
  const files: string[] = []
  const chain = configChain(config, read, files, seen)
  if (chain.length === 0) return undefined
  // The most derived config that sets an option wins; `paths` resolve against `baseUrl`, else against their own config's directory.
  const baseUrlFrom = chain.find((c) => typeof c.compilerOptions?.baseUrl === 'string')
  const pathsFrom = chain.find((c) => isObject(c.compilerOptions?.paths))
  const baseUrl = baseUrlFrom && resolve(dirname(baseUrlFrom.file), baseUrlFrom.compilerOptions!.baseUrl as string)
  if (pathsFrom || baseUrl) {
    const base = baseUrl ?? dirname(pathsFrom!.file)
    const paths = Object.entries((pathsFrom?.compilerOptions!.paths ?? {}) as Record<string, unknown>).map(([pattern, targets]) => ({
      pattern,
      targets: (Array.isArray(targets) ? targets : []).filter((t): t is string => typeof t === 'string').map((t) => resolve(base, t)),
    }))
    return { paths, ...(baseUrl ? { baseUrl } : {}), files }
  }
  for (const target of referencedConfigs(chain[0]!)) {
    const referenced = mappingOf(target, read, seen)
    if (referenced) return { ...referenced, files: [...files, ...referenced.files] }
  }
  return undefined
}

/** The config files a config's own `references` name (a directory stands for its tsconfig.json); `extends` does not pass them on. */
export function referencedConfigs(config: RawConfig): string[] {
  return (Array.isArray(config.references) ? config.references : []).flatMap((ref: unknown) => {
    const path = (ref as { path?: unknown } | null)?.path
    if (typeof path !== 'string') return []
    const target = resolve(dirname(config.file), path)
    return [target.endsWith('.json') ? target : join(target, 'tsconfig.json')]
  })
}

/** The config and what it extends (relative `extends` only: a package's shared config holds no project paths), most derived first. */
export function configChain(config: string, read: Read, files: string[], seen: Set<string>): RawConfig[] {
  if (seen.has(config)) return []
  seen.add(config)
  const text = read(config)
  if (text === undefined) return []
  files.push(config)
  let raw: RawConfig
  try {
    raw = { ...(JSON.parse(stripJsonComments(text.replace(/^\uFEFF/, ''))) as object), file: config }
  } catch {
    return []
  }
  const chain = [raw]
  const parents = typeof raw.extends === 'string' ? [raw.extends] : Array.isArray(raw.extends) ? raw.extends : []
  // With several, later ones override earlier ones: the last is nearest the config itself.
  for (const parent of [...parents].reverse()) {
    if (typeof parent !== 'string' || !(parent.startsWith('.') || isAbsolute(parent))) continue
    const path = resolve(dirname(config), parent)
    chain.push(...configChain(path.endsWith('.json') ? path : `${path}.json`, read, files, seen))
  }
  return chain
}

/** tsconfig.json is JSON with comments and trailing commas; strings (`"@/*"` holds a `/*`) are kept as they are. */
export function stripJsonComments(text: string): string {
  const withoutComments = scanJson(text, (c, i, s) => (c === '/' && s[i + 1] === '/' ? lineEnd(s, i) : c === '/' && s[i + 1] === '*' ? commentEnd(s, i) : undefined))
  const closing = /\s*[}\]]/y
  return scanJson(withoutComments, (c, i, s) => {
    if (c !== ',') return undefined
    closing.lastIndex = i + 1
    return closing.test(s) ? i + 1 : undefined
  })
}

/** Copies `text`, strings untouched; elsewhere `skip` may return where the text it drops ends. */
function scanJson(text: string, skip: (c: string, i: number, text: string) => number | undefined): string {
  let out = ''
  for (let i = 0; i < text.length; ) {
    const c = text[i]!
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j + 1
      continue
    }
    const to = skip(c, i, text)
    if (to === undefined) {
      out += c
      i++
    } else {
      out += ' '
      i = to
    }
  }
  return out
}

function lineEnd(text: string, i: number): number {
  const end = text.indexOf('\n', i)
  return end < 0 ? text.length : end
}

function commentEnd(text: string, i: number): number {
  const end = text.indexOf('*/', i + 2)
  return end < 0 ? text.length : end + 2
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
