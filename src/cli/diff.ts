// `poet diff <id>`: what changed between two versions of a function's phases, as a unified diff.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { LockStore } from '../generators/lock'
import { renamedHint } from '../train/former'
import { parseCommand } from './args'
import { COMMON_FLAGS, COMMON_HELP, loadConfig } from './config'
import { EXIT, idHint, usage, type CliIO } from './io'
import { unifiedDiff } from './unified-diff'

export const DIFF_HELP = `poet diff — compare two versions of a function's generated phases

Usage: poet diff <id> [--from <version>] [--to <version>] [project options]

  --from <version>   the side shown as --- (a version, or a unique prefix of one)
  --to <version>     the side shown as +++; with only one of them given, the other is the current version

By default: the current version against the candidate under A/B test; without a candidate, against the
newest other version (the previous one, or a newer one after a rollback).
Exit code 0 (also when there is nothing to compare), 1 when a version's phase module is missing from .poet/,
2 for an unknown id or version, or no lock.

Examples:
  poet diff src/drift.ts#detectDrift                current against the candidate (or the previous version)
  poet diff src/drift.ts#detectDrift --from 3f2a    that version (a prefix of it) against the current one

${COMMON_HELP}`

export async function diffCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommand(argv, io, DIFF_HELP, { ...COMMON_FLAGS, from: { type: 'string' }, to: { type: 'string' } })
  if (typeof args === 'number') return args
  const [id, ...extra] = args.positionals
  if (!id) return usage(io, 'which function? Pass its id, e.g. poet diff src/drift.ts#detectDrift', DIFF_HELP)
  if (extra.length) return usage(io, `one id at a time, received also ${JSON.stringify(extra[0])}`, DIFF_HELP)
  const { options } = await loadConfig(args.values, io.cwd ?? process.cwd(), io.env ?? process.env)
  const lock = new LockStore(options.lockDir)
  // Every id is unknown without a lock: say that, rather than suggest `poet status` for one id after another.
  if (!existsSync(lock.file)) return usage(io, `no lock at ${lock.file}, so no ${id} in it (run it from the project root, or pass --root)`, DIFF_HELP)
  const functions = lock.read().functions
  // Own keys only: an id like `constructor` names something every object has.
  const entry = Object.hasOwn(functions, id) ? functions[id] : undefined
  if (!entry) {
    return usage(io, `${id} is not in ${lock.file}.${renamedHint(lock.read(), id) || idHint(id, Object.keys(functions))}`, DIFF_HELP)
  }
  const history = lock.history(id)
  // A version or a unique prefix of one, as `poet rollback --to` takes it: a short hash copied from status or a log.
  const picked: { from?: string; to?: string } = {}
  for (const flag of ['from', 'to'] as const) {
    const version = args.values[flag]
    if (version === undefined) continue
    const matches = Object.hasOwn(entry.versions, version) ? [version] : Object.keys(entry.versions).filter((v) => v.startsWith(version))
    if (matches.length !== 1) {
      return usage(io, `--${flag} ${version}: ${id} has ${matches.length ? 'more than one version starting so' : 'no such version'} (it has ${history.map((h) => h.version).join(', ')})`, DIFF_HELP)
    }
    picked[flag] = matches[0]
  }
  let from = picked.from
  let to = picked.to
  if (from === undefined && to === undefined) {
    const pick = defaultPair(entry.current, entry.candidate?.version, history.map((h) => h.version))
    if (!pick) {
      io.out(`${id} has only one version (${entry.current}); nothing to compare.`)
      return EXIT.ok
    }
    ;[from, to] = pick
  }
  // With one end given, the other is the current version.
  from ??= entry.current
  to ??= entry.current
  // Only the current or candidate pointer can name an unknown version here (--from/--to were checked): a hand-resolved
  // merge of lock.json can lose the version it points at.
  for (const v of [from, to]) {
    if (!Object.hasOwn(entry.versions, v)) {
      io.err(`poet diff: the ${v === entry.current ? 'current' : 'candidate'} version of ${id} in ${lock.file}, ${v}, is not among its versions (an edit or a merge lost it). Compare two of them with --from and --to, or run \`poet generate\` to write the current source's version.`)
      return EXIT.failure
    }
  }
  const label = (v: string) => {
    const meta = entry.versions[v]!
    const role = v === entry.current ? 'current' : v === entry.candidate?.version ? 'candidate' : 'previous'
    return `${id}@${v} (${role}, ${meta.generator}, ${meta.created})`
  }
  const sources: string[] = []
  for (const v of [from, to]) {
    const source = lock.source(id, v)
    // Diffing against nothing would show every line as added or removed, as if the phases had changed that much.
    if (source === undefined) {
      io.err(`poet diff: the phase module of ${id}@${v} is missing: ${join(lock.dir, entry.versions[v]!.file)}. Restore .poet/ from version control, or run \`poet generate --force --only ${id}\`.`)
      return EXIT.failure
    }
    sources.push(source)
  }
  const text = unifiedDiff(sources[0]!, sources[1]!, label(from), label(to))
  if (!text) io.out(`${id}: ${from} and ${to} have identical phases.`)
  else io.write ? io.write(text) : io.out(text.trimEnd())
  return EXIT.ok
}

/** [from, to]: current → candidate, else previous → current, else current → a newer version (after a rollback). */
function defaultPair(current: string, candidate: string | undefined, oldestFirst: string[]): [string, string] | undefined {
  if (candidate && candidate !== current) return [current, candidate]
  const others = oldestFirst.filter((v) => v !== current)
  if (!others.length) return undefined
  const newestOther = others[others.length - 1]!
  return oldestFirst.indexOf(newestOther) > oldestFirst.indexOf(current) ? [current, newestOther] : [newestOther, current]
}
