// `poet status`: one row per poet() function — its current version, generator, staleness and unresolved types.
import { relative } from 'node:path'
import { parseCommand } from './args'
import { keepsCurrent } from '../generators'
import { generateBuiltin } from '../generators/builtin'
import { LockStore, madeByTrain } from '../generators/lock'
import { renderPhaseModule } from '../generators/render'
import { COMMON_FLAGS, COMMON_HELP, loadConfig } from './config'
import { EXIT, table, usage, type CliIO } from './io'
import { ownedElsewhere, owningProjects, scanProject } from './project'
import { keptOrphanEntries, lockLeftovers, specStates, type SpecState } from './state'
import type { UnresolvedType } from '../generators/spec'

export const STATUS_HELP = `poet status — the lock against the source: what is generated, by whom, and what is stale

Usage: poet status [--json] [project options]

  --json     machine-readable output: { functions: [{ id, version, candidate, generator, fallback, state,
             compilerUpgrade, fileMissing, promoted, unresolved }], orphans, orphansKept, renamed: [{ from, to }],
             strayFiles, warnings } (state: fresh | stale | missing; promoted: kept | replaced | null, what the next
             build does with a stale current version Train promoted; orphans: ids in the lock no longer in the
             source, which \`poet generate\` removes, but for orphansKept, whose entries hold phases an LLM wrote,
             Train's history or a domain's event limits, kept unless asked (see \`poet generate --help\`); renamed:
             functions renamed or moved whose old entry the next build or \`poet generate\` carries over;
             strayFiles: files under .poet/phases/ that no version names, written over an hour ago, which \`poet
             generate\` removes; warnings: what a build warns about the source, such as modules that re-export or
             wrap poet, whose functions get no phases)

Columns: id, current version, generator ("(fallback)" when an LLM was configured but failed),
stale? (yes: source/options/types/domain/generator changed; yes (compiler): only a newer builtin compiler;
missing: never generated; missing (file): its phase module is not in .poet/phases),
unresolved types, each with why (accepted as unknown at run time; --json gives the reasons in full).
Exit code 0, or 1 when a source file has poet() errors; 2 for a wrong option.

Examples:
  poet status
  poet status --json | jq -r '.functions[] | select(.state != "fresh") | .id'

${COMMON_HELP}`

export async function statusCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommand(argv, io, STATUS_HELP, { ...COMMON_FLAGS, json: { type: 'boolean' } })
  if (typeof args === 'number') return args
  if (args.positionals.length) return usage(io, `unexpected argument ${JSON.stringify(args.positionals[0])}: this command takes none`, STATUS_HELP)
  const { options } = await loadConfig(args.values, io.cwd ?? process.cwd(), io.env ?? process.env)
  const project = scanProject(options)
  // From a monorepo's root, or inside a package: a lock made (or reported on) here is one no build reads.
  const { owners, all } = owningProjects(options, project)
  if (all) return usage(io, ownedElsewhere(owners, options, 'status', io.cwd ?? process.cwd()), STATUS_HELP, { brief: true })
  if (owners.length) io.err(`warning: ${ownedElsewhere(owners, options, 'status', io.cwd ?? process.cwd(), true)}`)
  const lock = new LockStore(options.lockDir)
  const states = specStates(project.specs, options, project.registry, lock)
  const locked = Object.keys(lock.read().functions)
  const inFailedFile = (id: string) => project.failedFiles.has(id.slice(0, id.lastIndexOf('#')))
  const { renamed, orphans: leftover } = lockLeftovers(states, options, lock, project.failedFiles)
  const orphans = leftover.map((o) => o.id)
  const orphansKept = leftover.filter((o) => !o.disposable)
  const strayFiles = lock.strayFiles()
  if (args.values.json) {
    const functions = states.map((s) => ({
      id: s.spec.id,
      version: s.entry?.current ?? null,
      candidate: s.entry?.candidate ?? null,
      generator: s.current?.generator ?? null,
      fallback: s.fallback,
      state: s.state,
      compilerUpgrade: s.compilerUpgrade,
      fileMissing: s.fileMissing,
      promoted: promotedFate(s, options.generator.provider) ?? null,
      unresolved: s.spec.unresolved.map(({ path, text, reason }) => ({ path, text, reason })),
    }))
    io.out(JSON.stringify({ functions, orphans, orphansKept: orphansKept.map((o) => o.id), renamed, strayFiles, warnings: project.warnings }, null, 2))
    for (const e of project.errors) io.err(e)
    return project.errors.length ? EXIT.failure : EXIT.ok
  }
  // What a build would warn about: a module that re-exports or wraps poet gives what it marks no phases, and no row here.
  for (const w of project.warnings) io.err(`warning: ${w}`)
  if (!states.length && !project.errors.length) {
    io.out(`No poet() functions found under ${options.root}.`)
    return EXIT.ok
  }
  const rows = states.map((s) => {
    const candidate = s.entry?.candidate ? ` (candidate ${s.entry.candidate.version} at ${Number((s.entry.candidate.share * 100).toPrecision(2))}%)` : ''
    const unresolved = s.spec.unresolved.length ? `${s.spec.unresolved.length}: ${s.spec.unresolved.map(describeUnresolved).join(', ')}` : '—'
    return [
      s.spec.id,
      s.entry ? s.entry.current + candidate : '—',
      s.current ? s.current.generator + (s.fallback ? ' (fallback)' : '') : '—',
      s.state === 'fresh' ? 'no' : s.fileMissing ? 'missing (file)' : s.state === 'missing' ? 'missing' : s.compilerUpgrade ? 'yes (compiler)' : 'yes',
      unresolved,
    ]
  })
  io.out(table(['id', 'version', 'generator', 'stale?', 'unresolved types'], rows))
  for (const s of states) {
    const fate = promotedFate(s, options.generator.provider)
    if (fate === 'kept') io.out(`\n${s.spec.id}: only its body changed since ${s.entry!.current}, the version Train promoted; builtin phases do not read it, so the next build or \`poet generate\` keeps that version.`)
    if (fate === 'replaced') {
      io.out(
        `\n${s.spec.id}: its ${options.generator.provider === 'builtin' ? 'signature, options or types' : 'source, options or types'} changed, so the next build or \`poet generate\` replaces ${s.entry!.current}, ` +
          "the version Train promoted, with new phases: what Train learned is not kept, and Train proposes again from the new version's calls.",
      )
    }
  }
  for (const { from, to } of renamed) {
    io.out(`\n${to} is ${from} renamed or moved (same source, options and types): the next build or \`poet generate\` carries its lock entry over.`)
  }
  const removable = leftover.filter((o) => o.disposable).map((o) => o.id)
  if (removable.length) io.out(`\nIn the lock but no longer in the source: ${removable.join(', ')}. \`poet generate\` removes ${removable.length === 1 ? 'its entry' : 'their entries'}.`)
  if (orphansKept.length) {
    const one = orphansKept.length === 1
    io.out(
      `\nIn the lock but no longer in the source: ${keptOrphanEntries(orphansKept)}. ` +
        `\`poet generate\` keeps ${one ? 'it' : 'them'}; \`poet generate --prune\` removes ${one ? 'it' : 'them'}.`,
    )
  }
  if (strayFiles.length) {
    const dir = relative(io.cwd ?? process.cwd(), lock.dir) || '.'
    io.out(
      `\n${strayFiles.length} file${strayFiles.length === 1 ? '' : 's'} in ${dir}/phases/ that no version in ${dir}/lock.json names, written over an hour ago ` +
        `by a run whose lock write failed or never came: ${strayFiles.map((f) => f.slice('phases/'.length)).join(', ')}. \`poet generate\` removes ${strayFiles.length === 1 ? 'it' : 'them'}.`,
    )
  }
  const stale = states.filter((s) => s.state !== 'fresh').length
  const counted = `${states.length} function${states.length === 1 ? '' : 's'}`
  if (project.failedFiles.size) {
    // "8 functions, 0 stale" read as all clear while a file's functions went uncounted: say what is not known.
    const failed = [...project.failedFiles]
    const files = `${failed.length} file${failed.length === 1 ? '' : 's'} with errors (${failed.join(', ')})`
    io.out(
      `\n${counted} read, ${stale} stale or missing; ${files} could not be read, so ${failed.length === 1 ? 'its' : 'their'} ` +
        `functions are not counted and their state is unknown (the lock lists ${locked.filter(inFailedFile).length} from ${failed.length === 1 ? 'it' : 'them'}). ` +
        `Fix ${failed.length === 1 ? 'it' : 'them'} first.`,
    )
  } else io.out(`\n${counted}, ${stale} stale or missing${stale ? ' — run `poet generate`' : ''}.`)
  for (const e of project.errors) io.err(e)
  return project.errors.length ? EXIT.failure : EXIT.ok
}

/**
 * What the next build does with a current version Train promoted, when the function changed since: keeps it (the
 * generator writes for the new inputs what it wrote for the old, as after an edit of the body alone), or replaces it.
 * The builtin generator is asked (offline, deterministic); an LLM would be asked again, so its phases are replaced.
 * Undefined when nothing Train promoted is at stake.
 */
function promotedFate(s: SpecState, provider: string): 'kept' | 'replaced' | undefined {
  if (s.state !== 'stale' || s.compilerUpgrade || !s.entry || !s.current || !madeByTrain(s.current)) return undefined
  if (provider !== 'builtin') return 'replaced'
  const fresh = renderPhaseModule(s.spec.id, generateBuiltin(s.spec, { pack: s.pack }), { async: s.spec.async })
  return keepsCurrent(s.entry, { version: fresh.version, inputHash: s.hash }) ? 'kept' : 'replaced'
}

/**
 * The annotation as written and why it is unresolved, in a few words where the reason is long (`--json` has it in
 * full): a bare `args[0] (Reply)` left the user to guess whether to annotate, build a package or install one.
 */
function describeUnresolved(u: UnresolvedType): string {
  const why = u.brief ?? u.reason
  return u.text ? `${u.path} (${u.text}: ${why})` : `${u.path} (${why})`
}
