// The Train commands of the `poet` CLI: `serve`, `train`, `rollback`; each resolves to an exit code (EXIT: 0 ok, 1 failure, 2 usage).
import { accessSync, constants, existsSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { attachDashboard, missingPhase, projectName } from '../dashboard/handler'
import { earlierVersions, LockStore, olderCompilerVersions, olderFallback, refusedLockWrite, serialize, type LockFile } from '../generators/lock'
import { serve } from './collector'
import { FeedbackStore, isBusy, keepOutOfGit, lockHeld, type Decision } from './store'
import { parseCommand } from '../cli/args'
import { COMMON_FLAGS, ConfigError, loadConfig, projectRoot, type ConfigFlags } from '../cli/config'
import { EXIT, idHint, unlessSignalled, usage } from '../cli/io'
import { scanProject } from '../cli/project'
import { projectProposer } from './llm'
import { renamedHint } from './former'
import { applyTraining, planTraining, proposeCandidates, untrained, type Plan } from './trainer'

const DAY = 86_400_000

export interface CommandIO {
  out(line: string): void
  err(line: string): void
  /** Working directory the defaults (`.poet/…`) are relative to. @default process.cwd() */
  cwd?: string
  /** Resolves when the command should stop (serve only). @default SIGINT or SIGTERM */
  stopped?: Promise<void>
  /** Environment (`OPENAI_API_KEY`, `OPENAI_BASE_URL`) for LLM candidates. @default process.env */
  env?: Record<string, string | undefined>
}

const consoleIO: CommandIO = { out: (l) => console.log(l), err: (l) => console.error(l) }

const SERVE_HELP = `poet serve — collect runtime events into the feedback store

Usage: poet serve [--port <n>] [--host <addr>] [--db <file>] [--token <t>] [options]

Options:
  --port <n>            port to listen on (0 picks a free one)        default 8787
  --host <addr>         address to bind                               default 127.0.0.1
  --db <file>           SQLite feedback store                         default <lock dir>/feedback.db
  --token <t>           require "Authorization: Bearer <t>" on /v1/*  default $POET_TOKEN, else none
                        and the dashboard's data (open it as /#?token=<t>)
  --lock-dir <dir>      lock to mark current/candidate versions       default: poet.config's lockDir, else .poet
  --root <dir>          project root (its poet.config, its .poet)     default: the nearest directory up from
                        here with a poet.config, package.json, bundler config, .poet/ or .git, else this one
  --rate <n>            events per second per token (429 beyond)      default 2000
  --retention-days <n>  delete events older than this                 default 30
  --max-rows <n>        keep at most this many events per table       default 1000000
  --max-connections <n> connections open at once (more are closed)    default 1000
  -h, --help            show this help

Endpoints: POST /v1/events, GET /v1/functions, GET /v1/functions/:id, GET /healthz; the dashboard at /
It runs until Ctrl-C or SIGTERM, then closes the store and exits 0; exit code 1 when it cannot start (the port in
use, a store it cannot open), 2 for a wrong option.

Examples:
  poet serve                                          on 127.0.0.1:8787, the store beside the lock
  poet serve --host 0.0.0.0 --token "$POET_TOKEN" --db /var/lib/poet/feedback.db`

/** `poet serve`: runs the collector until SIGINT/SIGTERM. */
export async function serveCommand(argv: string[], io: CommandIO = consoleIO): Promise<number> {
  const args = parseCommand(argv, io, SERVE_HELP, {
    root: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string', ownEmptyCheck: true },
    db: { type: 'string' },
    token: { type: 'string', ownEmptyCheck: true },
    'lock-dir': { type: 'string' },
    rate: { type: 'string' },
    'retention-days': { type: 'string' },
    'max-rows': { type: 'string' },
    'max-connections': { type: 'string' },
  })
  if (typeof args === 'number') return args
  if (args.positionals.length) return usage(io, `unexpected argument ${JSON.stringify(args.positionals[0])}: this command takes none`, SERVE_HELP)
  const cwd = io.cwd ?? process.cwd()
  const port = integer(args.values.port, 'port', 8787, 0, 65_535)
  const rate = integer(args.values.rate, 'rate', 2000, 1)
  const days = integer(args.values['retention-days'], 'retention-days', 30, 1)
  const maxRows = integer(args.values['max-rows'], 'max-rows', 1_000_000, 1)
  const maxConnections = integer(args.values['max-connections'], 'max-connections', 1000, 1)
  // Each a number, or what is wrong with its flag.
  if (typeof port === 'string') return usage(io, port, SERVE_HELP)
  if (typeof rate === 'string') return usage(io, rate, SERVE_HELP)
  if (typeof days === 'string') return usage(io, days, SERVE_HELP)
  if (typeof maxRows === 'string') return usage(io, maxRows, SERVE_HELP)
  if (typeof maxConnections === 'string') return usage(io, maxConnections, SERVE_HELP)
  // `--token "$POET_TOKEN"` with the variable unset passes an empty token: running open to anyone is then a surprise.
  if (args.values.token !== undefined && !args.values.token.trim()) {
    return usage(io, '--token is empty (is $POET_TOKEN set?). Pass a token, or leave --token out to accept events without one.', SERVE_HELP)
  }
  // `--host "$HOST"` with the variable unset: Node listens on every interface for an empty host, not on 127.0.0.1.
  if (args.values.host !== undefined && !args.values.host.trim()) {
    return usage(io, '--host is empty (is $HOST set?). Pass an address (0.0.0.0 for every interface), or leave --host out to listen on 127.0.0.1.', SERVE_HELP)
  }
  const lockDir = await lockDirOf(args.values, cwd, io, 'serve', SERVE_HELP)
  if (typeof lockDir === 'number') return lockDir
  // The store is created where --db says: only the lock must be there already.
  const db = args.values.db === undefined ? join(lockDir, 'feedback.db') : resolve(cwd, args.values.db)
  // Beside the lock, which users commit: keep the store out of git, as the dev server does.
  if (args.values.db === undefined) keepOutOfGit(db)
  const token = args.values.token ?? process.env.POET_TOKEN
  let running
  try {
    running = await serve({
      port,
      host: args.values.host ?? '127.0.0.1',
      db,
      token: token || undefined,
      lockDir,
      rateLimit: { eventsPerSecond: rate, burst: rate * 10 },
      retention: { maxAgeMs: days * DAY, maxRows },
      maxConnections,
    })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    // A host this machine does not have is a mistake of the command line, like a --root that is not there.
    if (code === 'EADDRNOTAVAIL' && args.values.host !== undefined) {
      return usage(io, `--host ${args.values.host}: not an address of this machine, so nothing can listen on it. Pass one of its addresses (0.0.0.0 for every interface), or leave --host out to listen on 127.0.0.1.`, SERVE_HELP, { brief: true })
    }
    // SQLite's "unable to open database file" for a store it could not create says neither where nor why.
    const refused = code === undefined && /^poet: cannot open the feedback store /.test((e as Error).message) ? dirRefused(db, cwd) : undefined
    io.err(
      code === 'EADDRINUSE'
        ? `poet serve: port ${port} is already in use; pick another with --port`
        : refused
          ? `poet serve: cannot start: cannot open the feedback store ${db}: ${refused}. Make the directory writable, or pass --db <file> in a writable place.`
          : `poet serve: cannot start: ${(e as Error).message.replace(/^poet: /, '')}`,
    )
    return EXIT.failure
  }
  attachDashboard(running, { lockDir, project: projectName(projectRoot(cwd, args.values.root)), token: token || undefined, host: args.values.host })
  io.out(`poet serve: collecting events at ${running.url}/v1/events`)
  io.out(`  store ${db}${token ? ', bearer token required' : ''}; status table at ${running.url}/v1/functions`)
  io.out(`  dashboard at ${running.url}/${token ? '#?token=<token>' : ''}`)
  await (io.stopped ?? signalled())
  await running.close()
  io.out('poet serve: stopped')
  return EXIT.ok
}

const TRAIN_HELP = `poet train — decide, per function with optimizeFor, what its metrics call for

Usage: poet train [--apply] [--ignore-cooldown] [--db <file>] [--lock-dir <dir>] [--share <0..1>] [project options]

Without --apply it only shows the decisions. Decisions:
  candidate  a trigger fired (error or validation-failure rate up, metric below its baseline, rejected inputs
             rated good, a domain threshold the calls contradict): a new version with learned parameters and
             thresholds will serve --share of the calls. Phases an LLM wrote are regenerated by it instead, with
             the evidence in the prompt (only with --apply; what fails the verify gate never reaches the lock)
  rejected   the LLM gave no candidate that passed the verify gate (exit code 1; the reason is shown)
  promote    the candidate is better with P ≥ 0.99 (at least 200 observations per arm): it becomes current
  rollback   the candidate is worse with P ≥ 0.975 (after 100 candidate observations): it stops serving
  retire     no difference beyond the margin after 20000 candidate observations: it stops serving
  wait       not enough evidence yet
  none       no candidate under test and nothing to propose: no trigger fired, or one did but there is
             nothing new to learn from it, or what it would change was rolled back or retired lately and
             waits for calls made since (a cool-down: the reason says which, and until when; --apply
             records such a hold once)

Options:
  --apply            apply the decisions to the lock (.poet/lock.json)
  --ignore-cooldown  propose now what a cool-down holds back (after a rollback or a retired test, Train
                     waits 7 days and an hour, until the calls it reads were all made since); for when you
                     know the evidence changed meanwhile. A version already tested is never offered again
  --db <file>        feedback store                       default <lock dir>/feedback.db
  --lock-dir <dir>   lock directory                       default: poet.config's lockDir, else .poet
  --share <x>        traffic share of a new candidate     default 0.2
  -h, --help         show this help

Project options (flags win over poet.config.json / poet.config.mjs in the root):
  --root <dir>          project root                    default: the nearest directory up from here with a
                                                        poet.config, package.json, bundler config, .poet/ or .git
  --generator <name>    builtin | openai                default: the config's
  --model <name>        model for the openai generator
  --base-url <url>      an OpenAI-compatible endpoint   default: generator.baseURL, else $OPENAI_BASE_URL
The API key is read from OPENAI_API_KEY.

Exit code 0, 1 when there is no lock or feedback store yet, an LLM candidate is rejected, or the decisions cannot
be applied (the lock or the store refusing writes); 2 for a wrong option. Stopped (Ctrl-C, SIGTERM) while the LLM
is asked, it applies nothing and exits 130 (143 for SIGTERM).

Examples:
  poet train                      what the metrics call for, changing nothing
  poet train --apply              apply it to .poet/lock.json, then commit .poet/`

/** `poet train [--apply]`: shows the trainer's decisions and, with --apply, applies them. */
export async function trainCommand(argv: string[], io: CommandIO = consoleIO): Promise<number> {
  const args = parseCommand(argv, io, TRAIN_HELP, {
    apply: { type: 'boolean' },
    db: { type: 'string' },
    'lock-dir': { type: 'string' },
    share: { type: 'string' },
    'ignore-cooldown': { type: 'boolean' },
    ...COMMON_FLAGS,
  })
  if (typeof args === 'number') return args
  if (args.positionals.length) return usage(io, `unexpected argument ${JSON.stringify(args.positionals[0])}: this command takes none`, TRAIN_HELP)
  const share = args.values.share === undefined ? 0.2 : Number(args.values.share)
  if (!(share > 0 && share < 1)) return usage(io, `--share must be a number between 0 and 1 (exclusive), received ${JSON.stringify(args.values.share)}`, TRAIN_HELP)
  const cwd = io.cwd ?? process.cwd()
  const env = io.env ?? process.env
  // Checked now, not when --apply first asks the LLM: a plain `poet train --generator claude` must not pass for fine.
  if (args.values.generator !== undefined || args.values.model !== undefined || args.values['base-url'] !== undefined) await loadConfig(args.values, cwd, env)
  // The project's own places, as `poet generate` and the dev server find them: --root, then its config's lockDir, with
  // the store the dev server keeps beside the lock.
  const lockDir = await lockDirOf(args.values, cwd, io, 'train', TRAIN_HELP)
  if (typeof lockDir === 'number') return lockDir
  const db = args.values.db === undefined ? join(lockDir, 'feedback.db') : resolve(cwd, args.values.db)
  if (args.values.db !== undefined && !existsSync(db)) return usage(io, `--db ${args.values.db}: no such file (${db})`, TRAIN_HELP, { brief: true })
  // Else a train run from the wrong directory (a cron job, a CI step) would read an empty lock and pass: nothing to train.
  if (!existsSync(join(lockDir, 'lock.json'))) {
    io.err(`poet train: no lock at ${join(lockDir, 'lock.json')}, so nothing to train. Run it from the project root (or pass --root or --lock-dir); a build or \`poet generate\` writes the lock.`)
    return EXIT.failure
  }
  // Asked before the store opens and the LLM is paid: a run whose decisions the lock cannot take does nothing at all.
  const refused = args.values.apply ? new LockStore(lockDir).unwritable() : undefined
  if (refused) {
    const dir = `${relative(cwd, lockDir) || '.'}/`
    io.err(`poet train: ${refusedLockWrite(lockDir, refused, cwd) ?? `cannot write ${dir} (${lockDir}): ${refused.message}`}. Nothing was asked or applied: make ${dir} writable, or run \`poet train --apply\` in a writable checkout and commit ${dir}.`)
    return EXIT.failure
  }
  if (!existsSync(db)) {
    io.err(`poet train: no feedback store at ${db}. Collect events first: run \`poet serve\` (or the Vite dev server) with a sink pointing at it.`)
    return EXIT.failure
  }
  let store: FeedbackStore | undefined
  try {
    store = new FeedbackStore(db)
    const llm = projectProposer(async () => {
      const { options } = await loadConfig(args.values, cwd, env)
      return { options, project: scanProject(options), env }
    })
    const options = { lockDir, store, share, llm, ignoreCooldown: args.values['ignore-cooldown'] === true }
    let plans = planTraining(options)
    const skipped = untrained(options)
    if (!plans.length) {
      io.out(`poet train: no function has optimizeFor${skipped.length ? ` (${skipped.length} in the lock without it)` : ''}; nothing to train.`)
      return 0
    }
    const lost = droppedNote(store)
    if (!args.values.apply) {
      for (const line of table(plans)) io.out(line)
      if (skipped.length) io.out(`(${skipped.length} function${skipped.length === 1 ? '' : 's'} without optimizeFor skipped)`)
      if (lost) io.out(lost)
      const cooling = coolingNote(plans)
      if (cooling) io.out(cooling)
      const actionable = plans.filter((p) => p.action !== 'wait' && p.action !== 'none')
      io.out(actionable.length ? `\n${actionable.length} decision${actionable.length === 1 ? '' : 's'} to apply: run \`poet train --apply\`.` : '\nNothing to apply.')
      return 0
    }
    const asking = plans.filter((p) => p.ask).length
    // A store another process keeps write-locked would take no decision: found before the LLM is paid.
    if (asking && !recordable(store, db, io)) return EXIT.failure
    if (asking) io.out(`asking the LLM generator for ${asking} candidate${asking === 1 ? '' : 's'} with the evidence …`)
    // Ctrl-C or SIGTERM during the run's one wait, on the LLM: stop there, nothing applied, the store closed. The
    // requests in flight would hold the process until they end, so it exits at once, with the status of the signal.
    const proposed = await unlessSignalled(proposeCandidates(plans, options))
    if ('signal' in proposed) {
      io.err(`poet train: stopped (${proposed.signal}) while the LLM was asked: nothing was applied.`)
      store.close()
      process.exit(proposed.signal === 'SIGINT' ? 130 : 143)
    }
    plans = proposed.value
    for (const line of table(plans)) io.out(line)
    if (skipped.length) io.out(`(${skipped.length} function${skipped.length === 1 ? '' : 's'} without optimizeFor skipped)`)
    if (lost) io.out(lost)
    const cooling = coolingNote(plans)
    if (cooling) io.out(cooling)
    const actionable = plans.filter((p) => p.action !== 'wait' && p.action !== 'none' && p.action !== 'rejected')
    const rejected = plans.filter((p) => p.action === 'rejected')
    let applied: Plan[]
    try {
      // The store's write lock first: the lock then moves only for decisions the store records (a move it lacked, say
      // a rollback, Train would offer again).
      applied = store.writing(() => applyTraining(plans, options))
    } catch (e) {
      if (!isBusy(e)) throw e
      notApplied(db, io)
      return EXIT.failure
    }
    io.out(actionable.length ? `\napplied ${applied.length} of ${actionable.length} decision${actionable.length === 1 ? '' : 's'} to ${join(lockDir, 'lock.json')}` : '\nNothing to apply.')
    if (applied.length < actionable.length) io.out('(the lock changed meanwhile for the others; run `poet train` again)')
    if (rejected.length) {
      for (const p of rejected) io.err(`poet train: ${p.functionId}: no candidate: ${p.rejection}`)
      io.err(`poet train: ${rejected.length} LLM candidate${rejected.length === 1 ? '' : 's'} rejected; nothing of ${rejected.length === 1 ? 'it' : 'them'} reached the lock. Run \`poet train --apply\` again to ask again.`)
      return 1
    }
    return 0
  } catch (e) {
    if (e instanceof ConfigError) throw e
    const refused = refusedLockWrite(lockDir, e, cwd)
    if (refused) {
      // The lock took writes when the run began (a full disk, a mount or permission changed meanwhile).
      io.err(`poet train: ${refused}; the decisions applied before it are in the lock and the store, the others are not. Run \`poet train\` to see what is left.`)
      return EXIT.failure
    }
    const unopened = storeRefused(db, e, cwd)
    if (unopened) {
      io.err(`poet train: ${unopened}`)
      return EXIT.failure
    }
    io.err(`poet train: ${(e as Error).message.replace(/^poet: /, '')}`)
    return 1
  } finally {
    store?.close()
  }
}

/** Whether the store's write lock can be had now; if not, says so. */
function recordable(store: FeedbackStore, db: string, io: CommandIO): boolean {
  try {
    store.writing(() => undefined)
    return true
  } catch (e) {
    if (!isBusy(e)) throw e
    notApplied(db, io)
    return false
  }
}

function notApplied(db: string, io: CommandIO): void {
  io.err(`poet train: nothing applied: the decisions could not be recorded, as ${lockHeld(db)}. Run \`poet train --apply\` again once it is done.`)
}

/** The proposals a cool-down holds back, until when, and how to make them now. */
function coolingNote(plans: Plan[]): string | undefined {
  const held = plans.filter((p) => p.held)
  if (!held.length) return undefined
  const until = new Date(Math.ceil(Math.max(...held.map((p) => p.held!.until)) / 60_000) * 60_000).toISOString().slice(0, 16).replace('T', ' ')
  const which = held.length === 1 ? `${held[0]!.functionId}: its proposal waits` : `${held.length} functions: their proposals wait`
  return `(${which} out a cool-down after a rollback or a retired test, until ${until} UTC${held.length === 1 ? '' : ' at the latest'}; \`poet train --ignore-cooldown\` proposes now)`
}

function table(plans: Plan[]): string[] {
  const rows = plans.map((p) => [p.functionId, p.action, p.candidate ? `${p.current} → ${p.candidate}` : p.current, p.reason])
  const head = ['function', 'decision', 'versions', 'why']
  const widths = head.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')
  return [line(head), ...rows.map(line)]
}

const ROLLBACK_HELP = `poet rollback — move a function's current pointer back (instant: no generation, no build)

Usage: poet rollback <id> [--to <version>] [--root <dir>] [--lock-dir <dir>] [--db <file>]

Without --to: stops the candidate under test if there is one, else makes the version of the same source
created before the current one current (a version of another source would be regenerated away by the next
build). With --to: makes that version (or a unique prefix of it) current.

Options:
  --to <version>     the version to make current (or a unique prefix of it)
  --root <dir>       project root (its poet.config, its .poet)   default: the nearest directory up from here
                     with a poet.config, package.json, bundler config, .poet/ or .git, else this one
  --lock-dir <dir>   lock directory                              default: poet.config's lockDir, else .poet
  --db <file>        feedback store that records the decision    default: <lock dir>/feedback.db, when it exists
  -h, --help         show this help

Exit code 0 when the pointer moved (or already was there), 1 when the rollback is refused (nothing earlier to go
to, a phase module missing), 2 for an unknown id or version, or no lock.

Examples:
  poet rollback src/drift.ts#detectDrift              stop its A/B test, else go back one version
  poet rollback src/drift.ts#detectDrift --to 3f2a    make that version (a prefix of it) current`

/** `poet rollback <id> [--to <v>]`: a pointer move in the lock; every version stays. */
export async function rollbackCommand(argv: string[], io: CommandIO = consoleIO): Promise<number> {
  const args = parseCommand(argv, io, ROLLBACK_HELP, { to: { type: 'string' }, root: { type: 'string' }, 'lock-dir': { type: 'string' }, db: { type: 'string' } })
  if (typeof args === 'number') return args
  const [id, ...extra] = args.positionals
  if (id === undefined) return usage(io, 'which function? Pass its id, e.g. poet rollback src/drift.ts#detectDrift', ROLLBACK_HELP)
  if (extra.length) return usage(io, `one id at a time, received also ${JSON.stringify(extra[0])}`, ROLLBACK_HELP)
  const cwd = io.cwd ?? process.cwd()
  const lockDir = await lockDirOf(args.values, cwd, io, 'rollback', ROLLBACK_HELP)
  if (typeof lockDir === 'number') return lockDir
  const lock = new LockStore(lockDir)
  // update() would create the directory and an empty lock: a rollback typed in the wrong directory must leave no trace.
  if (!existsSync(lock.file)) return usage(io, `no lock at ${lock.file}, so no ${id} in it (run it from the project root, or pass --root or --lock-dir)`, ROLLBACK_HELP)
  // Checked before the lock moves: a decision the store named by --db cannot record would be offered again by Train.
  const db = args.values.db === undefined ? join(lock.dir, 'feedback.db') : resolve(cwd, args.values.db)
  if (args.values.db !== undefined && !existsSync(db)) return usage(io, `--db ${args.values.db}: no such file (${db})`, ROLLBACK_HELP, { brief: true })
  let message = ''
  let note = ''
  let failure = ''
  // An id or --to version that names nothing is the command line's mistake (2); a refused move is a failure (1).
  let unknown = false
  let decision: Decision | undefined
  const move = (l: LockFile): void => {
    // Own keys only: `constructor` or `__proto__` would otherwise find Object's.
    const entry = Object.hasOwn(l.functions, id) ? l.functions[id] : undefined
    if (!entry) {
      unknown = true
      failure = `${id} is not in ${lock.file}.${renamedHint(l, id) || idHint(id, Object.keys(l.functions))}`
      return
    }
    const versions = Object.keys(entry.versions)
    // A hand-resolved merge of lock.json can leave current naming a version the lock lost: only --to can say where to go.
    if (!Object.hasOwn(entry.versions, entry.current) && args.values.to === undefined) {
      failure = `the current version of ${id} in ${lock.file}, ${entry.current}, is not among its versions (an edit or a merge lost it); pick one with --to: ${describeVersions(entry.versions, entry.current)}`
      return
    }
    // The plugin serves current only while its input hash matches the source: a version of another source is
    // regenerated away by the next build (or, from an LLM in a strict build, fails it).
    const input = entry.versions[entry.current]?.inputHash
    if (args.values.to !== undefined) {
      const matches = versions.filter((v) => v.startsWith(args.values.to!))
      if (matches.length !== 1) {
        unknown = true
        failure = `${matches.length ? 'ambiguous' : 'unknown'} version ${JSON.stringify(args.values.to)} of ${id}; versions: ${describeVersions(entry.versions, entry.current)}`
        return
      }
      const to = matches[0]!
      if (to !== entry.current) {
        const missing = missingPhase(lock.dir, entry, to)
        if (missing) return void (failure = missing)
        const from = entry.current
        const byCompiler = olderCompilerVersions(entry)
        entry.current = to
        delete entry.candidate
        message = `${id}: current ${from} → ${to}`
        decision = { functionId: id, ts: Date.now(), action: 'rollback', from, to, reason: 'rolled back by poet rollback --to' }
        if (byCompiler.includes(to)) {
          note = `note: ${to}${olderFallback(entry.versions[to]!) ? ' (a builtin fallback)' : ''} was written by an earlier builtin compiler from the current source of ${id}; the next build regenerates it with this release's compiler (keeping what Train promoted in it)`
        } else if (input !== undefined && entry.versions[to]!.inputHash !== input) {
          note = `note: ${to} was generated from another source of ${id}; the next build regenerates the phases of the current source unless you revert it`
        }
        return
      }
      if (!entry.candidate) {
        message = `${id} is already at ${to}; nothing changed`
        return
      }
      // --to the current version while a candidate is under test: that is stopping the candidate, below.
    }
    if (entry.candidate) {
      message = `${id}: candidate ${entry.candidate.version} stopped; ${entry.current} serves every call`
      // As the trainer records its own rollbacks: `to` is the stopped candidate, which it then never offers again.
      decision = { functionId: id, ts: Date.now(), action: 'rollback', from: entry.current, to: entry.candidate.version, reason: 'candidate stopped by poet rollback' }
      delete entry.candidate
      return
    }
    const { older, sameSource: earlier } = earlierVersions(entry)
    if (!earlier.length) {
      const byCompiler = olderCompilerVersions(entry)
      const [compiled, sourced] = [older.filter((v) => byCompiler.includes(v)), older.filter((v) => !byCompiler.includes(v))]
      const were = (vs: string[]) => `${vs.join(', ')} ${vs.length === 1 ? 'was' : 'were'}`
      const reasons = [
        ...(compiled.length ? [`${were(compiled)} written by an earlier builtin compiler from this source, which a build regenerates with this release's compiler`] : []),
        ...(sourced.length ? [`${were(sourced)} generated from another source: revert the source, or pick ${sourced.length === 1 ? 'it' : 'one'} with --to`] : []),
      ]
      const why = older.length ? `no earlier version of its current source to roll back to (${reasons.join('; ')})` : `no version older than ${entry.current} to roll back to`
      failure = `${id} has ${why}; versions: ${describeVersions(entry.versions, entry.current)}`
      return
    }
    const missing = missingPhase(lock.dir, entry, earlier[0]!)
    if (missing) return void (failure = missing)
    message = `${id}: current ${entry.current} → ${earlier[0]}`
    decision = { functionId: id, ts: Date.now(), action: 'rollback', from: entry.current, to: earlier[0], reason: 'rolled back by poet rollback' }
    entry.current = earlier[0]!
  }
  try {
    lock.update(move)
  } catch (e) {
    const refused = refusedLockWrite(lock.dir, e, cwd)
    if (!refused) {
      io.err(`poet rollback: ${(e as Error).message.replace(/^poet: /, '')}`)
      return EXIT.failure
    }
    // The lock can still be read: an unknown id, a refused move or a pointer already in place needs no write, and is
    // said as on a writable lock.
    const before = lock.read()
    const after = structuredClone(before)
    message = note = failure = ''
    unknown = false
    decision = undefined
    move(after)
    if (!failure && serialize(after) !== serialize(before)) {
      const dir = `${relative(cwd, lock.dir) || '.'}/`
      io.err(`poet rollback: ${refused}, so ${id} was not rolled back: nothing changed. Make ${dir} writable and run it again, or roll back in a writable checkout and commit ${dir}.`)
      return EXIT.failure
    }
  }
  if (failure) {
    if (unknown) return usage(io, failure, ROLLBACK_HELP)
    io.err(`poet rollback: ${failure}`)
    return EXIT.failure
  }
  io.out(message)
  if (note) io.err(`poet rollback: ${note}`)
  if (decision) record(db, decision, io)
  return EXIT.ok
}

/**
 * `--lock-dir`, else the lockDir of the project's poet.config.json/.mjs (where the plugin, the dev server and
 * `poet generate` keep the lock and the store), else `.poet` in the root. A config that cannot be read is said, and
 * does not stop these commands: a collector's host may lack what a config imports, and only LLM training needs the rest.
 */
async function lockDirOf(flags: ConfigFlags & { 'lock-dir'?: string }, cwd: string, io: CommandIO, command: string, help: string): Promise<string | number> {
  // A path typed on the command line that names nothing is a typo to report, never a place to fall back from.
  for (const name of ['root', 'lock-dir'] as const) {
    const given = flags[name]
    if (given === undefined) continue
    const dir = resolve(cwd, given)
    if (!existsSync(dir)) return usage(io, `--${name} ${given}: no such directory (${dir})`, help, { brief: true })
    if (!statSync(dir).isDirectory()) return usage(io, `--${name} ${given}: not a directory (${dir})`, help, { brief: true })
  }
  const flag = flags['lock-dir']
  if (flag !== undefined) return resolve(cwd, flag)
  try {
    // The root alone: a wrong --generator or --model is the command line's mistake, not a config to fall back from.
    return (await loadConfig({ ...(flags.root !== undefined ? { root: flags.root } : {}) }, cwd, io.env ?? process.env)).options.lockDir
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    const fallback = join(projectRoot(cwd, flags.root), '.poet')
    io.err(`poet ${command}: ${e.message}; using ${fallback}`)
    return fallback
  }
}

/**
 * SQLite's "unable to open database file" for a store whose directory cannot be written: SQLite writes its journal
 * files beside the store even to read it, so a read-only `.poet/` refuses the store as well as the lock.
 */
function storeRefused(db: string, e: unknown, cwd: string): string | undefined {
  const code = (e as { code?: unknown }).code
  if (code !== 'SQLITE_CANTOPEN' && code !== 'SQLITE_READONLY') return undefined
  const why = dirRefused(db, cwd)
  return why && `cannot open the feedback store ${db}: ${why}, and SQLite writes its journal beside the store even to read it. Make the directory writable, or pass --db with a copy of the store in a writable place.`
}

/** Why the directory of the store `db` takes no writes (`cannot write .poet/ (…): read-only file system`), if it does not. */
function dirRefused(db: string, cwd: string): string | undefined {
  try {
    accessSync(dirname(db), constants.W_OK)
    return undefined
  } catch (refusal) {
    return refusedLockWrite(dirname(db), refusal, cwd)
  }
}

/**
 * Events pages dropped before sending them are in none of the metrics Train decides on (its baseline week and the hour
 * after it): a run says how many, or a site losing its failures at page exit would look healthier than it is.
 */
function droppedNote(store: FeedbackStore): string | undefined {
  const n = store.dropped({ since: Date.now() - 7 * 24 * 3_600_000 - 3_600_000 })
  return n ? `(clients reported ${n.toLocaleString('en-US')} event${n === 1 ? '' : 's'} lost in the week Train reads, never received: the metrics above miss them)` : undefined
}

/** Records a rollback in the feedback store, as the trainer and the dashboard do: the trainer reads it back. */
function record(db: string, decision: Decision, io: CommandIO): void {
  if (!existsSync(db)) return
  let store: FeedbackStore | undefined
  try {
    store = new FeedbackStore(db)
    store.recordDecision(decision)
  } catch (e) {
    const why = isBusy(e) ? lockHeld(db) : (e as Error).message.replace(/^poet: /, '')
    io.err(`poet rollback: the lock moved, but ${db} could not record it (poet train may offer the stopped candidate again): ${why}`)
  } finally {
    store?.close()
  }
}

function describeVersions(versions: Record<string, { created: string; reason?: string }>, current: string): string {
  return Object.entries(versions)
    .sort((a, b) => a[1].created.localeCompare(b[1].created))
    .map(([v, x]) => `${v}${v === current ? ' (current)' : ''}`)
    .join(', ')
}

function signalled(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      done()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** The flag's value as an integer in [min, max], else what is wrong with it. */
function integer(raw: string | undefined, name: string, fallback: number, min: number, max = Infinity): number | string {
  if (raw === undefined) return fallback
  // Number('') is 0: `--port "$PORT"` with PORT unset would otherwise listen on a random port.
  const n = raw.trim() === '' ? NaN : Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    return `--${name} must be an integer ${max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`}, received ${JSON.stringify(raw)}`
  }
  return n
}
