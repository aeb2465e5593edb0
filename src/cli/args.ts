// Argument parsing shared by every `poet` command, so each one words an unknown option, a missing value and a stray
// argument the same way, names the command, and shows its usage line rather than Node's parser messages.
import { parseArgs } from 'node:util'
import { closest } from '../plugin/suggest'
import { EXIT, usage, type CliIO } from './io'

/** `ownEmptyCheck`: the command words an empty value itself (what it would do with one, e.g. run open to anyone). */
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; ownEmptyCheck?: boolean }>

export type Values<O extends OptionSpec> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string }

export interface Parsed<O extends OptionSpec> {
  values: Values<O>
  positionals: string[]
}

/**
 * Parses a command's arguments. `-h`/`--help` anywhere prints `help` to stdout (exit 0), even beside a mistake; a
 * usage error prints what is wrong and the usage line to stderr (exit 2). Either way the exit code comes back instead
 * of the values.
 */
export function parseCommand<O extends OptionSpec>(argv: string[], io: Pick<CliIO, 'out' | 'err'>, help: string, options: O): Parsed<O> | number {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as const
  // Not strict: Node's own messages ("Unknown option '--prot'. To specify a positional argument …") are checked below.
  const { tokens } = parseArgs({ args: argv, options: all, strict: false, allowPositionals: true, tokens: true })
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) {
    io.out(help)
    return EXIT.ok
  }
  const values: Record<string, string | boolean> = {}
  const positionals: string[] = []
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value)
    if (t.kind !== 'option') continue
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : undefined
    if (!spec) {
      const hint = t.rawName.startsWith('--') ? closest(t.name, Object.keys(all)) : undefined
      return usage(io, `unknown option ${t.rawName}.${hint ? ` Did you mean --${hint}?` : ''}`, help)
    }
    if (spec.type === 'boolean') {
      if (t.value !== undefined) return usage(io, `${t.rawName} takes no value, received ${JSON.stringify(t.value)}`, help)
      values[t.name] = true
      continue
    }
    const form = `${t.rawName} <${placeholder(help, t.name)}>`
    if (t.value === undefined) return usage(io, `${t.rawName} needs a value: ${form}`, help)
    // `--db --port 1` is a forgotten value far more often than a file named --port; `--db=-x` says it is one.
    if (!t.inlineValue && t.value.startsWith('-')) return usage(io, `${t.rawName} needs a value: ${form} (received the option ${t.value} instead; write ${t.rawName}=${t.value} if that is the value)`, help)
    // `--db "$DB"` with the variable unset: an empty path is the working directory, an empty id matches nothing.
    if (!t.value.trim() && !spec.ownEmptyCheck) return usage(io, `${t.rawName} is empty (is the variable you passed set?). Pass ${form}, or leave ${t.rawName} out.`, help)
    values[t.name] = t.value
  }
  return { values: values as Values<O>, positionals }
}

/** How the help names an option's value (`--db <file>` → file). */
function placeholder(help: string, name: string): string {
  return new RegExp(`--${name} <([^>]+)>`).exec(help)?.[1] ?? 'value'
}
