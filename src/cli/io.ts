// What every `poet` command writes to and reads from, so commands run the same in a terminal and in tests.
import { closest } from '../plugin/suggest'

export interface CliIO {
  out(line: string): void
  err(line: string): void
  /** Working directory the defaults are relative to. @default process.cwd() */
  cwd?: string
  /** Interactive terminal: progress redraws in place. @default process.stdout.isTTY, unless TERM=dumb */
  tty?: boolean
  /** Writes without a newline (progress bar). @default process.stdout.write */
  write?(text: string): void
  /** Environment (`CI`, `OPENAI_API_KEY`). @default process.env */
  env?: Record<string, string | undefined>
}

export const consoleIO: CliIO = {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
  // A terminal that says it cannot move the cursor (`TERM=dumb`: Emacs shells, some CI consoles) gets plain lines.
  tty: process.stdout.isTTY === true && process.env.TERM !== 'dumb',
  write: (t) => void process.stdout.write(t),
}

/**
 * Exit codes, the same for every command (README, "The `poet` command"): 0 done, also when there was nothing to do;
 * 1 the command ran and what it checked or was asked to do failed; 2 the command line or poet.config is wrong,
 * including an argument that names nothing (an unknown function id, version or pack, a --root, --lock-dir or --db
 * not there, a directory without a lock whose functions belong to projects with locks of their own).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

/**
 * Prints `poet <command>: <message>`, the command's usage line and where its options are, to stderr; returns the usage
 * exit code. The whole help would push the message out of sight in a CI log. `brief` leaves the usage out where the
 * message alone says what to fix (`--root app: no such directory`), as for a wrong poet.config.
 */
export function usage(io: Pick<CliIO, 'err'>, message: string, help: string, { brief = false } = {}): number {
  const command = /^poet (\S+) —/.exec(help)?.[1]
  const name = command ? `poet ${command}` : 'poet'
  const line = help.split('\n').find((l) => l.startsWith('Usage: '))
  io.err(brief ? `${name}: ${message}` : `${name}: ${message}${line ? `\n${line}` : ''}\nRun \`${name} --help\` for ${command ? 'its options' : 'the commands'}.`)
  return EXIT.usage
}

/**
 * What to say after "<id> is not in …", the same in every command: the id a typo or a bare function name (`slow` for
 * `src/slow.ts#slow`) most likely meant, else the ids there are.
 */
export function idHint(id: string, known: string[]): string {
  const close = closest(id, known)
  const named = close ? [close] : known.filter((k) => k.endsWith(`#${id}`) || k.endsWith(`.${id}`))
  if (named.length) return ` Did you mean ${named.slice(0, 3).join(' or ')}?`
  if (!known.length) return ''
  return ` Functions: ${known.slice(0, 5).join(', ')}${known.length > 5 ? ` and ${known.length - 5} more (\`poet status\` lists them)` : ''}.`
}

/** A plain-text table with left-aligned columns, as `poet status` and `poet domains` print it. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

/**
 * An error as a user reads it. Ours worded for users (`poet: …`) and the system's (a file that cannot be written: its
 * message names the path) are told by their message; a stack would bury it. Anything else is a bug, worth its stack.
 */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  if (e.message.startsWith('poet: ')) return e.message.slice('poet: '.length)
  const { code, syscall } = e as NodeJS.ErrnoException
  if (typeof code === 'string' && typeof syscall === 'string') return e.message
  return e.stack ?? e.message
}

/**
 * What `work` settles to, or the signal (SIGINT, SIGTERM) that came first, for a command to stop on cleanly; the
 * handlers are removed either way, so a signal outside such a wait acts as Node's default does.
 */
export function unlessSignalled<T>(work: Promise<T>): Promise<{ value: T } | { signal: NodeJS.Signals }> {
  return new Promise((done, fail) => {
    const stop = (signal: NodeJS.Signals) => {
      off()
      done({ signal })
    }
    const off = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    work.then(
      (value) => {
        off()
        done({ value })
      },
      (e: unknown) => {
        off()
        fail(e)
      },
    )
  })
}
