// Finds every poet()-marked function in a project the way the plugin does: same include/exclude, same transform.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { DomainRegistry } from '../generators/builtin/domains'
import { LockStore } from '../generators/lock'
import type { FunctionSpec } from '../generators/spec'
import type { ResolvedOptions } from '../plugin/options'
import { PoetBuildError } from '../plugin/errors'
import { matcher } from '../plugin/filter'
import { transformPoet } from '../plugin/transform'

const CONFIG_HINT =
  'The poet command does not read your bundler config: it takes custom domain packs (and every other plugin option) from ' +
  'poet.config.mjs in the project root. Export the options there and pass the same object to the plugin.'

export interface ScannedProject {
  specs: FunctionSpec[]
  /** Transform warnings (e.g. poet() not applied to a function). */
  warnings: string[]
  /** Build errors (bad options …), each with its file:line:column and code frame. */
  errors: string[]
  /** Files (relative to the root, `/`-separated) the errors are in: their functions could not be read. */
  failedFiles: Set<string>
  registry: DomainRegistry
}

/** Directories never entered: dependencies, VCS and tool state, and the lock itself. */
// Dependencies, and what bundlers, test runners and doc tools write: a bundle holds poet() calls the plugin already
// rewrote (with their phases inlined), which would read as user code calling poet() with two arguments.
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'out', 'coverage', 'storybook-static'])

/**
 * Every poet function of the project: the files under the root, and the files outside it (a sibling workspace
 * package's, reached by the build through a link or a tsconfig path) that the lock or `ids` name.
 */
export function scanProject(options: ResolvedOptions, ids: readonly string[] = []): ScannedProject {
  const registry = new DomainRegistry(options.domains)
  const include = matcher(options.include, options.root)
  const exclude = matcher(options.exclude, options.root)
  const result: ScannedProject = { specs: [], warnings: [], errors: [], failedFiles: new Set(), registry }
  for (const file of [...walk(options.root, options.lockDir), ...outsideRoot(options, ids)]) {
    if (!include(file) || exclude(file)) continue
    const code = readFileSync(file, 'utf8')
    try {
      const out = transformPoet(code, file, { root: options.root, domains: registry, readFile, warn: (m) => result.warnings.push(m) })
      if (out) result.specs.push(...out.specs)
    } catch (e) {
      result.failedFiles.add(relative(options.root, file).split(sep).join('/'))
      // The build's message says to pass the pack to the plugin; a user who did, in vite.config, still meets it here.
      const unknownPack = e instanceof PoetBuildError && e.code === 'POET_UNKNOWN_DOMAIN' && options.domains.length === 0
      result.errors.push((e as Error).message + (unknownPack ? `\n${CONFIG_HINT}` : ''))
    }
  }
  result.specs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return result
}

/**
 * The files outside the root that hold functions of the project: a build reaches a sibling package's sources and
 * names its functions `../lib/src/a.ts#f`, which no walk of the root finds. Those the lock names (and `ids`, such as
 * the one a strict build told to generate) are read where they are; one deleted is gone as any other.
 */
function outsideRoot(options: ResolvedOptions, ids: readonly string[]): string[] {
  const named = [...Object.keys(new LockStore(options.lockDir).read().functions), ...ids]
  const files = new Set<string>()
  for (const id of named) {
    const path = id.slice(0, id.lastIndexOf('#'))
    if (path !== '..' && !path.startsWith('../')) continue
    const file = resolve(options.root, path)
    if (statSync(file, { throwIfNoEntry: false })?.isFile()) files.add(file)
  }
  return [...files].sort()
}

function* walk(dir: string, lockDir: string): Generator<string> {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))
  for (const e of entries) {
    const path = join(dir, e.name)
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.') && path !== lockDir) yield* walk(path, lockDir)
    } else if (e.isFile()) yield path
  }
}

function readFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
