// The Train commands of the `poet` CLI: `serve`, `train`, `rollback`; each resolves to an exit code (0 ok, 1 failure, 2 usage).
import { join, resolve } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { serve } from './collector'

const DAY = 86_400_000

export interface CommandIO {
  out(line: string): void
  err(line: string): void
  /** Working directory the defaults (`.poet/…`) are relative to. @default process.cwd() */
  cwd?: string
  /** Resolves when the command should stop (serve only). @default SIGINT or SIGTERM */
  stopped?: Promise<void>
}

const consoleIO: CommandIO = { out: (l) => console.log(l), err: (l) => console.error(l) }

const SERVE_HELP = `poet serve — collect runtime events into the feedback store

Usage: poet serve [--port <n>] [--host <addr>] [--db <file>] [--token <t>]

Options:
  --port <n>            port to listen on (0 picks a free one)        default 8787
  --host <addr>         address to bind                               default 127.0.0.1
  --db <file>           SQLite feedback store                         default .poet/feedback.db
  --token <t>           require "Authorization: Bearer <t>" on /v1/*  default $POET_TOKEN, else none
  --lock-dir <dir>      lock to mark current/candidate versions       default .poet
  --rate <n>            events per second per token (429 beyond)      default 2000
  --retention-days <n>  delete events older than this                 default 30
  --max-rows <n>        keep at most this many events per table       default 1000000
  -h, --help            show this help

Endpoints: POST /v1/events, GET /v1/functions, GET /v1/functions/:id, GET /healthz`

/** `poet serve`: runs the collector until SIGINT/SIGTERM. */
export async function serveCommand(argv: string[], io: CommandIO = consoleIO): Promise<number> {
  const args = parse(argv, io, SERVE_HELP, {
    port: { type: 'string' },
    host: { type: 'string' },
    db: { type: 'string' },
    token: { type: 'string' },
    'lock-dir': { type: 'string' },
    rate: { type: 'string' },
    'retention-days': { type: 'string' },
    'max-rows': { type: 'string' },
  })
  if (typeof args === 'number') return args
  if (args.positionals.length) return usage(io, `poet serve takes no arguments, received ${JSON.stringify(args.positionals[0])}`, SERVE_HELP)
  const cwd = io.cwd ?? process.cwd()
  const port = integer(args.values.port, 'port', 8787, io, 0)
  const rate = integer(args.values.rate, 'rate', 2000, io, 1)
  const days = integer(args.values['retention-days'], 'retention-days', 30, io, 1)
  const maxRows = integer(args.values['max-rows'], 'max-rows', 1_000_000, io, 1)
  if ([port, rate, days, maxRows].includes(undefined)) return 2
  const db = resolve(cwd, args.values.db ?? join('.poet', 'feedback.db'))
  const token = args.values.token ?? process.env.POET_TOKEN
  let running
  try {
    running = await serve({
      port,
      host: args.values.host ?? '127.0.0.1',
      db,
      token: token || undefined,
      lockDir: resolve(cwd, args.values['lock-dir'] ?? '.poet'),
      rateLimit: { eventsPerSecond: rate, burst: rate! * 10 },
      retention: { maxAgeMs: days! * DAY, maxRows },
    })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    io.err(
      code === 'EADDRINUSE'
        ? `poet serve: port ${port} is already in use; pick another with --port`
        : `poet serve: cannot start: ${(e as Error).message}`,
    )
    return 1
  }
  io.out(`poet serve: collecting events at ${running.url}/v1/events`)
  io.out(`  store ${db}${token ? ', bearer token required' : ''}; status table at ${running.url}/v1/functions`)
  await (io.stopped ?? signalled())
  await running.close()
  io.out('poet serve: stopped')
  return 0
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

type Parsed<O extends NonNullable<ParseArgsConfig['options']>> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>

/** Parses argv strictly; prints help (→ 0) or a usage error (→ 2) and returns the exit code instead of values. */
function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], io: CommandIO, help: string, options: O): Parsed<O> | number {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.out(help)
    return 0
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as Parsed<O>
  } catch (e) {
    io.err(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n\n${help}`)
    return 2
  }
}

function usage(io: CommandIO, message: string, help: string): number {
  io.err(`${message}\n\n${help}`)
  return 2
}

function integer(raw: string | undefined, name: string, fallback: number, io: CommandIO, min: number): number | undefined {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) {
    io.err(`--${name} must be an integer ≥ ${min}, received ${JSON.stringify(raw)}`)
    return undefined
  }
  return n
}
