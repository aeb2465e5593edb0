// The persistent transform cache: a warm build replays each poet module's recorded transform instead of parsing it again.
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SourceMap } from 'magic-string'
import type { FunctionSpec } from '../generators/spec'
import type { WarningSite } from './errors'

/** What a transform produced, plus the warnings it gave: a hit replays them so a warm build warns like a cold one. */
export interface CachedTransform {
  code: string
  map: SourceMapJSON
  specs: FunctionSpec[]
  /**
   * Each spec's input hash for the generator and domain packs the cache was salted with: a warm build checks the
   * lock against it without hashing the specs again (or loading the domain packs).
   */
  inputHashes: string[]
  dependencies: string[]
  warnings: CachedWarning[]
}

/** A warning as the transform gave it: replayed with its place apart too, so a warm build shows it as a cold one. */
export interface CachedWarning {
  message: string
  at?: WarningSite
}

/**
 * A module that imports the runtime but marks no function (an app's setup module calling `configure`): nothing to
 * rewrite, only the warnings the transform gave.
 */
export interface CachedNothing {
  unchanged: true
  warnings: CachedWarning[]
}

/** A source map as JSON: what the bundlers read (magic-string's methods do not survive the cache). */
export type SourceMapJSON = Pick<SourceMap, 'version' | 'file' | 'sources' | 'sourcesContent' | 'names' | 'mappings'>

/** Every file the transform tried to read (imported types), with the hash of what it found; null: it did not exist. */
export type Reads = ReadonlyMap<string, string | null>

interface Entry {
  format: typeof FORMAT
  file: string
  reads: Record<string, string | null>
  result: CachedTransform | CachedNothing
}

export interface CacheStats {
  hits: number
  misses: number
  writes: number
}

// 3: warnings keep their place apart from their message.
const FORMAT = 3
/** Entries kept at most; past it the oldest half is dropped (one entry is one poet module, a few kB). */
const MAX_ENTRIES = 5000

export const hashText = (text: string): string => createHash('sha256').update(text).digest('base64url')

export class TransformCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, writes: 0 }
  private pruned = false

  /**
   * @param dir where entries live
   * @param salt everything besides the module's path and text that a transform's result depends on (plugin build,
   *   root, domain names): a change there misses every entry
   */
  constructor(
    readonly dir: string,
    private readonly salt: string,
  ) {}

  /** The recorded transform of `code` (or that it had nothing to rewrite), if every file it read still holds what it held then; undefined otherwise. */
  get(file: string, code: string, read: (abs: string) => string | undefined): CachedTransform | CachedNothing | undefined {
    const entry = this.readEntry(this.pathOf(file, code))
    const valid =
      entry?.format === FORMAT &&
      entry.file === file &&
      Object.entries(entry.reads).every(([dep, hash]) => {
        const now = read(dep)
        return (now === undefined ? null : hashText(now)) === hash
      })
    if (!valid) {
      this.stats.misses++
      return undefined
    }
    this.stats.hits++
    return entry.result
  }

  /** Records a transform; a cache that cannot be written (read-only disk, no space) only costs the next build time. */
  set(file: string, code: string, reads: Reads, result: CachedTransform | CachedNothing): void {
    const entry: Entry = { format: FORMAT, file, reads: Object.fromEntries(reads), result }
    const path = this.pathOf(file, code)
    // Written beside and renamed: a concurrent build, or one killed mid-write, never leaves a torn entry behind.
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    try {
      mkdirSync(this.dir, { recursive: true })
      this.prune()
      writeFileSync(tmp, JSON.stringify(entry))
      renameSync(tmp, path)
      this.stats.writes++
    } catch {
      try {
        unlinkSync(tmp)
      } catch {
        // Nothing was written.
      }
    }
  }

  private pathOf(file: string, code: string): string {
    return join(this.dir, `${hashText(`${this.salt}\0${file}\0${code}`)}.json`)
  }

  private readEntry(path: string): Entry | undefined {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Entry
    } catch {
      // Missing or corrupt (a truncated file, a disk error): a miss, and the next write replaces it.
      return undefined
    }
  }

  /** Once per process, before its first write: keeps the directory bounded as modules change over months. */
  private prune(): void {
    if (this.pruned) return
    this.pruned = true
    const names = readdirSync(this.dir)
    if (names.length <= MAX_ENTRIES) return
    const byAge = names
      .map((name) => {
        try {
          return { name, at: statSync(join(this.dir, name)).mtimeMs }
        } catch {
          return { name, at: 0 }
        }
      })
      .sort((a, b) => a.at - b.at)
    for (const { name } of byAge.slice(0, names.length - MAX_ENTRIES / 2)) {
      try {
        unlinkSync(join(this.dir, name))
      } catch {
        // Another build removed it first.
      }
    }
  }
}
