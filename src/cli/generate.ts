// `poet generate`: (re)generates the phases of every function whose lock entry is missing or stale, and writes the lock.
import { join, relative } from 'node:path'
import { generateBuiltin } from '../generators/builtin'
import { BUILTIN_VERSION } from '../generators/builtin/version'
import { compilerUpgradeOnly, describeReplaced, describeTest, generatorIdentity, writeGeneration } from '../generators'
import type { LlmResult } from '../generators/llm'
import type { PhaseParts } from '../generators/spec'
import { fallbackReason, LockStore, refusedLockWrite, type NewVersion } from '../generators/lock'
import { renderPhaseModule } from '../generators/render'
import type { ResolvedGenerator } from '../plugin/options'
import { parseCommand } from './args'
import { COMMON_FLAGS, COMMON_HELP, loadConfig } from './config'
import { errorText, EXIT, idHint, unlessSignalled, usage, type CliIO } from './io'
import { Progress } from './progress'
import { ownedElsewhere, owningProjects, scanProject } from './project'
import { keptOrphanEntries, lockLeftovers, specStates, type LockLeftovers, type SpecState } from './state'

export const GENERATE_HELP = `poet generate — write the phases of every poet() function into the lock (.poet/)

Usage: poet generate [--check] [--force] [--prune] [--only <id>] [--concurrency <n>] [project options]

  --check               change nothing; exit 1 and name every function whose lock entry is missing or stale,
                        and every entry of a function no longer in the source that \`poet generate\` would remove
  --force               regenerate even functions whose entry is up to date
  --prune               also remove the entries of functions no longer in the source that hold phases an LLM
                        wrote, Train's history or a domain's event limits (without it, only those a build
                        would write again and that limit no events are removed)
  --only <id>           just this function (id as in the lock: src/file.ts#name); leaves other entries alone
  --concurrency <n>     LLM requests in flight at once          default: generator.concurrency, else 4

A function renamed or moved whose source, options and types are unchanged (its own name may be renamed with it:
\`function double\` → \`function twice\`) takes over the lock entry of its old id (its phases, every version,
Train's history), when exactly one entry of a function no longer in the source was made from them.

A function whose LLM answer fails verification falls back to the builtin generator with a warning;
plain \`poet generate\` tries the LLM again for such functions.
Exit code 0, 1 when --check finds an entry not up to date, a source file has poet() errors, or a function
could not be generated; 2 for a wrong option or an unknown --only id. Stopped by Ctrl-C or SIGTERM, it keeps
what it wrote (each function goes into the lock as soon as it is generated), says which, and exits 130 (143).

Examples:
  poet generate                                     after adding or changing poet() functions; commit .poet/
  poet generate --check                             in CI: exit 1, naming each function, when the lock is behind
  poet generate --only src/drift.ts#detectDrift --force

${COMMON_HELP}`

export async function generateCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommand(argv, io, GENERATE_HELP, {
    ...COMMON_FLAGS,
    check: { type: 'boolean' },
    force: { type: 'boolean' },
    prune: { type: 'boolean' },
    only: { type: 'string' },
    concurrency: { type: 'string' },
  })
  if (typeof args === 'number') return args
  if (args.positionals.length) return usage(io, `unexpected argument ${JSON.stringify(args.positionals[0])}: this command takes none${args.positionals[0]!.includes('#') ? ` (one function: --only ${args.positionals[0]})` : ''}`, GENERATE_HELP)
  const v = args.values
  if (v.check && v.force) return usage(io, '--check and --force cannot be combined', GENERATE_HELP)
  if (v.check && v.prune) return usage(io, '--check and --prune cannot be combined', GENERATE_HELP)
  if (v.only !== undefined && v.prune) return usage(io, '--only and --prune cannot be combined: --only leaves every other entry alone', GENERATE_HELP)
  const concurrency = v.concurrency === undefined ? undefined : Number(v.concurrency)
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) return usage(io, `--concurrency must be an integer ≥ 1, received ${JSON.stringify(v.concurrency)}`, GENERATE_HELP)

  const { options } = await loadConfig(v, io.cwd ?? process.cwd(), io.env ?? process.env)
  // The function a strict build named may lie outside the root, in a sibling package the lock has no entry of yet.
  const project = scanProject(options, v.only === undefined ? [] : [v.only])
  // From a monorepo's root, or inside a package: a lock made (or reported on) here is one no build reads.
  const { owners, all } = owningProjects(options, project)
  if (all) return usage(io, ownedElsewhere(owners, options, 'generate', io.cwd ?? process.cwd()), GENERATE_HELP, { brief: true })
  if (owners.length) io.err(`warning: ${ownedElsewhere(owners, options, 'generate', io.cwd ?? process.cwd(), true)}`)
  for (const w of project.warnings) io.err(`warning: ${w}`)
  if (project.errors.length) {
    for (const e of project.errors) io.err(e)
    io.err(`poet generate: ${project.errors.length} file${project.errors.length === 1 ? '' : 's'} with errors; fix ${project.errors.length === 1 ? 'it' : 'them'} first.`)
    return EXIT.failure
  }
  const lock = new LockStore(options.lockDir)
  if (!project.specs.length) {
    // "All 0 functions are up to date" would pass a check run from the wrong directory.
    const none = `No poet() functions found under ${options.root}: nothing to ${v.check ? 'check' : 'generate'}.`
    const locked = Object.keys(lock.read().functions)
    // A lock with entries says this is the project root: the hint to move elsewhere would mislead. Its entries are
    // left alone, as are those of any deleted function (--check judges only functions in the source).
    if (!locked.length) io.out(`${none} Run it from the project root, or pass --root.`)
    else {
      const path = relative(io.cwd ?? process.cwd(), lock.file) || lock.file
      const listed = locked.length > 3 ? `${locked.slice(0, 3).join(', ')} and ${locked.length - 3} more` : locked.join(', ')
      io.out(`${none} ${path} lists ${locked.length} function${locked.length === 1 ? '' : 's'} (${listed}) whose source is gone or left out by include/exclude.`)
    }
    return EXIT.ok
  }
  let states = specStates(project.specs, options, project.registry, lock)
  // One function asked for: the rest of the lock is not this run's business.
  const leftovers = v.only === undefined ? lockLeftovers(states, options, lock, project.failedFiles) : { renamed: [], orphans: [] }
  if (v.only !== undefined) {
    states = states.filter((s) => s.spec.id === v.only)
    if (!states.length) {
      return usage(io, `--only ${v.only}: no poet() function has this id.${idHint(v.only, project.specs.map((s) => s.id))}`, GENERATE_HELP)
    }
  }
  const lockPath = relative(io.cwd ?? process.cwd(), lock.file) || lock.file

  if (v.check) {
    const bad = states.filter((s) => s.state !== 'fresh')
    const renamedFrom = new Map(leftovers.renamed.map((r) => [r.to, r.from]))
    const why = (s: SpecState) =>
      renamedFrom.has(s.spec.id)
        ? `  (renamed or moved from ${renamedFrom.get(s.spec.id)}: \`poet generate\` carries its lock entry over)`
        : s.fileMissing
        ? `  (its phase module ${relative(io.cwd ?? process.cwd(), join(lock.dir, s.current!.file))} is not on disk: restore it from version control, or run \`poet generate\`)`
        : s.state !== 'stale'
          ? ''
          : s.compilerUpgrade && s.fallback
            ? '  (its builtin fallback was written by an earlier builtin compiler: a build regenerates it offline, `poet generate` asks the LLM again)'
            : s.compilerUpgrade
              ? '  (a newer builtin compiler writes other checks; its inputs are unchanged)'
            : '  (its source, options, types, domain pack or generator changed)'
    for (const s of bad) io.out(`${s.state.padEnd(7)}  ${s.spec.id}${why(s)}`)
    const removable = leftovers.orphans.filter((o) => o.disposable).map((o) => o.id)
    for (const id of removable) io.out(`orphan   ${id}  (no longer in the source: \`poet generate\` removes its entry)`)
    const kept = leftovers.orphans.filter((o) => !o.disposable)
    // Never removed without being asked, so no reason to fail: said, so that they do not linger unseen.
    if (kept.length) io.out(keptOrphans(kept, lockPath))
    if (bad.length || removable.length) {
      const counted = [
        ...(bad.length ? [`${bad.length} of ${states.length} function${states.length === 1 ? '' : 's'} not up to date`] : []),
        ...(removable.length ? [`${removable.length} entr${removable.length === 1 ? 'y' : 'ies'} of functions no longer in the source`] : []),
      ]
      io.err(`poet generate --check: ${counted.join(' and ')} in ${lockPath}. Run \`poet generate\` and commit the lock.`)
      return EXIT.failure
    }
    io.out(`${upToDateLine(states.length, 'All', 'The')} in ${lockPath}.`)
    return EXIT.ok
  }

  const prune = leftovers.orphans.filter((o) => v.prune || o.disposable).map((o) => o.id)
  const tidied: string[] = []
  if (leftovers.renamed.length || prune.length) {
    const stop = refusedLock(lock, io)
    if (stop !== undefined) return stop
    for (const { from, to, rehash } of leftovers.renamed) {
      if (lock.rename(from, to, rehash)) tidied.push(`Carried the lock entry of ${from} over to ${to} (renamed or moved; its source, options and types are unchanged).`)
      // Not carried: its current module is missing, or one of them was not written by poet (edited by hand).
      else if (!Object.hasOwn(lock.read().functions, to)) io.err(`warning: ${to}: the lock entry of ${from} was not carried over, as a phase module of it is missing or was not written by poet: ${to} is generated anew.`)
    }
    // Asked again under the lock: an entry Train or an LLM wrote into since is kept unless --prune said otherwise.
    const removed = lock.remove(prune, v.prune ? undefined : (id, entry, file) => lock.disposable(id, entry, file))
    if (removed.length) tidied.push(`Removed the lock entr${removed.length === 1 ? 'y' : 'ies'} of ${removed.length} function${removed.length === 1 ? '' : 's'} no longer in the source: ${removed.join(', ')}.`)
    states = specStates(project.specs, options, project.registry, lock)
  }
  const kept = v.prune ? [] : leftovers.orphans.filter((o) => !o.disposable)
  if (kept.length) tidied.push(keptOrphans(kept, lockPath))
  for (const line of tidied) io.out(line)

  const todo = states.filter((s) => v.force || s.state !== 'fresh' || s.fallback)
  if (!todo.length) {
    // "Nothing to do" followed by what it just removed read as a contradiction.
    const removed = removeStray(lock, io)
    const fresh = `${upToDateLine(states.length, 'All', 'The')} in ${lockPath}.`
    io.out(removed ? `${fresh}\n${removed}` : tidied.length ? fresh : `Nothing to do: ${upToDateLine(states.length, 'all', 'the')} in ${lockPath}.`)
    return EXIT.ok
  }
  const stop = refusedLock(lock, io)
  if (stop !== undefined) return stop
  const progress = new Progress(todo.length, io)
  const identity = generatorIdentity(options.generator)
  // Each function goes into the lock as soon as it is generated: a run interrupted, or one function failing, keeps
  // what the others already cost.
  // The first write the file system refuses (a full disk, a mount or a permission changed since the check above) stops
  // the run: every later write would fail the same way, one raw error each, with an LLM paid for every function.
  let refusal: { id: string; why: string } | undefined
  const saved: string[] = []
  const save = async (s: SpecState, result: GenerateResult): Promise<string> => {
    if (refusal) throw NOT_WRITTEN
    const rendered = renderPhaseModule(s.spec.id, result.parts, { async: s.spec.async })
    const fresh: NewVersion = {
      version: rendered.version,
      source: rendered.source,
      inputHash: s.hash,
      generator: result.parts.generator,
      ...(identity.model ? { model: identity.model } : {}),
      ...(result.usage ? { usage: result.usage } : {}),
      reason: result.fallback ? fallbackReason(result.fallback) : v.force ? 'generate --force' : 'generate',
      ...(result.fallback ? { compiler: BUILTIN_VERSION, fallback: result.fallback } : {}),
      ...(result.variants ? { variants: result.variants } : {}),
      ...(s.spec.options.optimizeFor ? { optimizeFor: s.spec.options.optimizeFor } : {}),
      ...(s.spec.options.domain ? { domain: s.spec.options.domain } : {}),
    }
    // --force asks for the generator's own output: what Train promoted is kept only across a compiler upgrade.
    let written
    try {
      written = await writeGeneration(lock, s.spec.id, fresh, !v.force && compilerUpgradeOnly(s.spec, options.generator, s.pack, s.current))
    } catch (e) {
      const why = refusedLockWrite(lock.dir, e, io.cwd ?? process.cwd())
      if (!why) throw e
      refusal = { id: s.spec.id, why }
      throw NOT_WRITTEN
    }
    saved.push(s.spec.id)
    if (written.kept) progress.warn(`${s.spec.id}: kept what Train promoted in ${written.kept}`)
    if (written.lost) progress.warn(`${s.spec.id}: ${written.lost}`)
    if (written.replaced) progress.warn(`${s.spec.id}: ${describeReplaced(written.replaced, written.version)}`)
    if (written.test) progress.warn(`${s.spec.id}: ${describeTest(written.test)}`)
    return written.version
  }
  // Ctrl-C or SIGTERM: what was generated is in the lock already; the LLM requests in flight would hold the process
  // until they end, so it stops at once, saying what is where.
  const run = await unlessSignalled(generateAll(todo, options.generator, concurrency, progress, save, () => refusal !== undefined))
  progress.end()
  if ('signal' in run) {
    const ids = (list: string[]) => `${list.slice(0, 5).join(', ')}${list.length > 5 ? ` and ${list.length - 5} more` : ''}`
    const rest = todo.map((s) => s.spec.id).filter((id) => !saved.includes(id))
    io.err(`poet generate: stopped (${run.signal}): ${saved.length ? `written to the lock: ${ids(saved)}` : 'nothing was written to the lock'}; not generated: ${ids(rest)}. Run \`poet generate\` again for the rest.`)
    process.exit(run.signal === 'SIGINT' ? 130 : 143)
  }
  const settled = run.value

  const notWritten = todo.filter((_, i) => settled[i]!.status === 'rejected' && (settled[i] as PromiseRejectedResult).reason === NOT_WRITTEN).map((s) => s.spec.id)
  const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason !== NOT_WRITTEN)
  const fellBack = settled.filter((r) => r.status === 'fulfilled' && r.value.fallback).length
  for (const [i, r] of settled.entries()) if (r.status === 'rejected' && r.reason !== NOT_WRITTEN) io.err(`poet generate: ${todo[i]!.spec.id}: ${errorText(r.reason)}`)
  const upToDate = states.length - todo.length
  const done = todo.length - failed.length - notWritten.length
  if (refusal) {
    const dir = `${relative(io.cwd ?? process.cwd(), lock.dir) || '.'}/`
    const ids = (list: string[]) => `${list.slice(0, 5).join(', ')}${list.length > 5 ? ` and ${list.length - 5} more` : ''}`
    const writtenIds = todo.filter((_, i) => settled[i]!.status === 'fulfilled').map((s) => s.spec.id)
    io.err(
      `poet generate: stopped at ${refusal.id}: ${refusal.why}. ` +
        (writtenIds.length ? `Written to the lock: ${ids(writtenIds)}. ` : 'Nothing was written to the lock. ') +
        `Not written: ${ids(notWritten)} (their lock entries are as they were). Make ${dir} writable and run \`poet generate\` again.`,
    )
  }
  io.out(
    `Generated ${done} function${done === 1 ? '' : 's'} with ${identity.generator}` +
      (fellBack ? ` (${fellBack} fell back to builtin)` : '') +
      (notWritten.length ? `; ${notWritten.length} not written` : '') +
      (failed.length ? `; ${failed.length} failed` : '') +
      (upToDate ? `; ${upToDate} already up to date` : '') +
      `. Lock: ${lockPath}`,
  )
  const removed = refusal ? undefined : removeStray(lock, io)
  if (removed) io.out(removed)
  return failed.length || refusal ? EXIT.failure : EXIT.ok
}

/**
 * Exit code 1, said, when the lock directory takes no writes: asked before a run changes anything, so it writes
 * nothing and pays no LLM for phases it could not keep.
 */
function refusedLock(lock: LockStore, io: CliIO): number | undefined {
  const refused = lock.unwritable()
  if (!refused) return undefined
  const dir = `${relative(io.cwd ?? process.cwd(), lock.dir) || '.'}/`
  io.err(`poet generate: ${refusedLockWrite(lock.dir, refused, io.cwd ?? process.cwd()) ?? `cannot write ${dir} (${lock.dir}): ${refused.message}`}. Nothing was generated or written: make ${dir} writable, or run \`poet generate\` in a writable checkout, and commit ${dir}.`)
  return EXIT.failure
}

/** "All 3 functions are up to date", "The 1 function is up to date": "all 1 function" read as a slip. */
function upToDateLine(n: number, all: string, the: string): string {
  return n === 1 ? `${the} 1 function is up to date` : `${all} ${n} functions are up to date`
}

/** The entries of deleted functions that plain `poet generate` keeps, what they hold, and how to remove them. */
function keptOrphans(kept: LockLeftovers['orphans'], lockPath: string): string {
  const one = kept.length === 1
  const limits = kept.some((o) => o.kept.includes('limits'))
    ? ` (the collector applies those limits to clients still sending ${one ? 'its id' : 'the ids'})`
    : ''
  return `Kept in ${lockPath}, no longer in the source: ${keptOrphanEntries(kept)}${limits}. \`poet generate --prune\` removes ${one ? 'it' : 'them'}.`
}

/**
 * Removes the phase files no version in the lock names and nothing wrote for an hour (see `LockStore.strayFiles`), and
 * returns the line that says which. A lock directory that takes no writes keeps them, without a word more than the run said.
 */
function removeStray(lock: LockStore, io: CliIO): string | undefined {
  let removed: string[]
  try {
    removed = lock.removeStrayFiles()
  } catch (e) {
    if (refusedLockWrite(lock.dir, e) === undefined) io.err(`warning: poet generate: could not remove the stray files of ${join(lock.dir, 'phases')}: ${errorText(e)}`)
    return undefined
  }
  if (!removed.length) return undefined
  const dir = relative(io.cwd ?? process.cwd(), lock.dir) || '.'
  return (
    `Removed ${removed.length} file${removed.length === 1 ? '' : 's'} from ${dir}/phases/ that no version in ${dir}/lock.json names ` +
    `(written by a run whose lock write failed or never came): ${removed.map((f) => f.slice('phases/'.length)).join(', ')}`
  )
}

/** A function left out once a write into the lock was refused: the run's one message names it, not an error of its own. */
const NOT_WRITTEN = new Error('not written: the lock refused an earlier write')

async function generateAll(
  todo: SpecState[],
  generator: ResolvedGenerator,
  concurrency: number | undefined,
  progress: Progress,
  save: (s: SpecState, result: GenerateResult) => Promise<string>,
  stopped: () => boolean,
): Promise<PromiseSettledResult<GenerateResult>[]> {
  // The openai SDK, zod and the sandbox are loaded only for a project that generates with an LLM.
  let llm: ((s: SpecState, baseline: PhaseParts) => Promise<LlmResult>) | undefined
  if (generator.provider === 'openai') {
    const { createLlmGenerator, domainSummary } = await import('../generators/llm')
    const made = createLlmGenerator({ ...generator, ...(concurrency ? { concurrency } : {}) }, { warn: (m) => progress.warn(m) })
    llm = (s, baseline) => made.generate({ spec: s.spec, baseline, domain: s.pack && domainSummary(s.pack) })
  }
  const one = async (s: SpecState): Promise<GenerateResult> => {
    progress.start(s.spec.id)
    const baseline = generateBuiltin(s.spec, { pack: s.pack })
    const result: GenerateResult = llm ? await llm(s, baseline) : { parts: baseline }
    const version = await save(s, result)
    progress.finish(s.spec.id, result.fallback ? `builtin ${version} (fallback)` : `${result.parts.generator} ${version}`)
    return result
  }
  // As many functions in flight as LLM requests may be, each taken only while the lock takes writes: once it refused
  // one, no LLM is paid for phases that could not be kept. The builtin compiler is synchronous: one at a time is as fast.
  const settled: PromiseSettledResult<GenerateResult>[] = todo.map(() => ({ status: 'rejected', reason: NOT_WRITTEN }))
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < todo.length && !stopped()) {
      const i = next++
      settled[i] = await one(todo[i]!).then(
        (value) => ({ status: 'fulfilled', value }),
        (reason: unknown) => ({ status: 'rejected', reason }),
      )
    }
  }
  const workers = generator.provider === 'openai' ? Math.max(1, concurrency ?? generator.concurrency ?? 4) : 1
  await Promise.all(Array.from({ length: Math.min(workers, todo.length) }, worker))
  return settled
}

type GenerateResult = Pick<LlmResult, 'parts'> & Partial<Omit<LlmResult, 'parts'>>
