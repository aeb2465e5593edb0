// What every `poet` command writes to and reads from, so commands run the same in a terminal and in tests.

export interface CliIO {
  out(line: string): void
  err(line: string): void
  /** Working directory the defaults are relative to. @default process.cwd() */
  cwd?: string
  /** Interactive terminal: progress redraws in place. @default process.stdout.isTTY */
  tty?: boolean
  /** Writes without a newline (progress bar). @default process.stdout.write */
  write?(text: string): void
  /** Environment (`CI`, `OPENAI_API_KEY`). @default process.env */
  env?: Record<string, string | undefined>
}

export const consoleIO: CliIO = {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
  tty: process.stdout.isTTY === true,
  write: (t) => void process.stdout.write(t),
}

/** Exit codes: 0 ok, 1 a failure was found (stale entries, errors in the project), 2 the command was used wrongly. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

/** Prints `message` and the command's help to stderr; returns the usage exit code. */
export function usage(io: CliIO, message: string, help: string): number {
  io.err(`poet: ${message}\n\n${help}`)
  return EXIT.usage
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
