// Finds every poet()-marked function in a project the way the plugin does: same include/exclude, same transform.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { DomainRegistry } from '../generators/builtin/domains'
import { LockStore } from '../generators/lock'
import type { FunctionSpec } from '../generators/spec'
import type { ResolvedOptions } from '../plugin/options'
import { PoetBuildError } from '../plugin/errors'
import { matcher } from '../plugin/filter'
import { transformPoet } from '../plugin/transform'
import { readFileOrUndefined as readFile } from '../generators/read-file'

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
  /** Directories below the root with a lock of their own (`packages/web/.poet/lock.json`): projects of their own. */
  nestedProjects: string[]
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
  const result: ScannedProject = { specs: [], warnings: [], errors: [], failedFiles: new Set(), registry, nestedProjects: [] }
  const lockName = relative(options.root, options.lockDir)
  const nested = (dir: string) => {
    if (isInside(lockName) && existsSync(join(dir, lockName, 'lock.json'))) result.nestedProjects.push(dir)
  }
  for (const file of [...walk(options.root, options.lockDir, nested), ...outsideRoot(options, ids)]) {
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

function* walk(dir: string, lockDir: string, entered: (dir: string) => void): Generator<string> {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))
  for (const e of entries) {
    const path = join(dir, e.name)
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.') && path !== lockDir) {
        entered(path)
        yield* walk(path, lockDir, entered)
      }
    } else if (e.isFile()) yield path
  }
}

/** Another project whose build owns functions this command found, with its lock. */
export interface OwningProject {
  dir: string
  lock: string
}

/**
 * Run where there is no lock, in a monorepo's root or inside a package: the projects with a lock of their own whose
 * functions this command found (a package below whose directory holds them or whose lock names them; a directory
 * above whose lock names files here, which owns them all), and whether they own every function found. Their builds
 * keep those functions under ids relative to them, so a lock made here holds entries no build reads.
 */
export function owningProjects(options: ResolvedOptions, project: ScannedProject): { owners: OwningProject[]; all: boolean } {
  const lockName = relative(options.root, options.lockDir)
  if (existsSync(join(options.lockDir, 'lock.json')) || !isInside(lockName)) return { owners: [], all: false }
  const owner = (dir: string) => ({ dir, lock: join(dir, lockName, 'lock.json') })
  for (let dir = dirname(options.root); ; dir = dirname(dir)) {
    if ([...lockedFiles(join(dir, lockName), dir)].some((f) => isInside(relative(options.root, f)))) return { owners: [owner(dir)], all: true }
    if (dirname(dir) === dir) break
  }
  const files = new Set(project.specs.map((s) => s.file))
  const owned = new Set<string>()
  const owners: OwningProject[] = []
  for (const dir of project.nestedProjects) {
    const named = lockedFiles(join(dir, lockName), dir)
    const own = [...files].filter((f) => isInside(relative(dir, f)) || named.has(f))
    if (!own.length) continue
    for (const f of own) owned.add(f)
    owners.push(owner(dir))
  }
  return { owners, all: owners.length > 0 && owned.size === files.size }
}

/** The files whose functions the lock in `lockDir` names, as its project at `root` reaches them. */
function lockedFiles(lockDir: string, root: string): Set<string> {
  if (!existsSync(join(lockDir, 'lock.json'))) return new Set()
  try {
    return new Set(Object.keys(new LockStore(lockDir).read().functions).map((id) => resolve(root, id.slice(0, id.lastIndexOf('#')))))
  } catch {
    // a lock that cannot be read tells nothing about whose functions these are
    return new Set()
  }
}

/**
 * Why `poet <command>` will not run here (or, `some`, why what it does here may not be what was meant), naming the
 * projects that own the functions found (paths from `cwd`) and how to run it in them.
 */
export function ownedElsewhere(owners: OwningProject[], options: ResolvedOptions, command: string, cwd: string, some = false): string {
  const shown = (path: string) => relative(cwd, path).split(sep).join('/') || '.'
  const dirs = owners.map((o) => shown(o.dir))
  const one = owners.length === 1
  const whose = one
    ? `the project in ${dirs[0]}, whose build keeps them in ${shown(owners[0]!.lock)} under ids relative to it`
    : `the projects in ${dirs.slice(0, -1).join(', ')} and ${dirs.at(-1)}, whose builds keep them in their own locks (${owners.map((o) => shown(o.lock)).join(', ')}) under ids relative to each`
  const run = `\`poet ${command} --root ${dirs[0]}\`${one ? '' : ' …'}, or \`cd ${dirs[0]}\` first`
  return (
    `there is no lock here (${shown(join(options.lockDir, 'lock.json'))}), and ${some ? 'some of ' : ''}the poet functions found here belong to ${whose}. ` +
    (some
      ? `This ${command} reads them as functions of this directory all the same: run it ${one ? 'there' : 'in each of them'} instead (${run}), or leave them out here with \`exclude\` in poet.config.mjs.`
      : `Run it ${one ? 'there' : 'in each of them'}: ${run}.`)
  )
}

/** Whether a relative path stays inside the directory it is relative to. */
function isInside(rel: string): boolean {
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)
}
