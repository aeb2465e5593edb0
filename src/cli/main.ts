// The `poet` command's dispatcher: one subcommand per job, each with its own --help and exit codes.
import { createRequire } from 'node:module'
import { ConfigError } from './config'
import { consoleIO, errorText, EXIT, usage, type CliIO } from './io'
import { closest } from '../plugin/suggest'

export const HELP = `poet — generate, review and train the phases of poet() functions

Usage: poet <command> [options]

Commands:
  generate [--check] [--force] [--prune] [--only <id>]  write phases into the lock (.poet/); --check fails on stale entries
  status [--json]                                       table of functions: version, generator, stale?, unresolved types
  diff <id> [--from <v>] [--to <v>]                     unified diff between two versions of a function's phases
  domains [<name>]                                      the domain packs and their rules
  serve [--port] [--host] [--db] [--token]              the event collector and its dashboard
  train [--apply] [--ignore-cooldown] [--share <x>]     show (or apply) promotions, rollbacks and new candidates
  rollback <id> [--to <version>]                        move the current pointer back: instant

Options:
  -h, --help      this help; \`poet <command> --help\` (or \`poet help <command>\`) for a command's options
  -v, --version   the version of unplugin-poet

Examples:
  poet generate            after adding or changing poet() functions; commit .poet/
  poet generate --check    in CI: exit 1, naming each function, when the lock is behind the source
  poet status              what is generated, by whom, and what is stale

Exit codes: 0 done (also when there was nothing to do), 1 the command ran and what it checked or was asked to do
failed, 2 the command line or poet.config is wrong (an unknown command, option, function id, version or pack;
a missing or malformed value; a --root, --lock-dir or --db that is not there; a directory without a lock whose
functions belong to projects with locks of their own).`

type Command = (argv: string[], io: CliIO) => Promise<number>

// Each command's module is imported when it runs: `poet --version` or `poet diff` must not pay for the openai SDK,
// babel or the generators that `poet generate` needs.
const COMMANDS: Record<string, Command> = {
  generate: async (argv, io) => (await import('./generate')).generateCommand(argv, io),
  status: async (argv, io) => (await import('./status')).statusCommand(argv, io),
  diff: async (argv, io) => (await import('./diff')).diffCommand(argv, io),
  domains: async (argv, io) => (await import('./domains')).domainsCommand(argv, io),
  serve: trainCommand('serveCommand'),
  train: trainCommand('trainCommand'),
  rollback: trainCommand('rollbackCommand'),
}

export async function main(argv: string[], io: CliIO = consoleIO): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    // A usage error like any other: on stderr, so `poet > file` in a script does not write the help into the file.
    io.err(HELP)
    return EXIT.usage
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined && rest[0] !== 'help') return Object.hasOwn(COMMANDS, rest[0]) ? COMMANDS[rest[0]]!(['--help'], io) : unknownCommand(rest[0], io)
    io.out(HELP)
    return EXIT.ok
  }
  if (name === '--version' || name === '-v') {
    io.out(version())
    return EXIT.ok
  }
  if (!Object.hasOwn(COMMANDS, name)) return unknownCommand(name, io)
  try {
    return await COMMANDS[name]!(rest, io)
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`poet ${name}: ${e.message}`)
      return EXIT.usage
    }
    io.err(`poet ${name}: ${errorText(e)}`)
    return EXIT.failure
  }
}

function unknownCommand(name: string, io: CliIO): number {
  if (name.startsWith('-')) {
    // A slip of poet's own options (`--verison`, `-V`), else a command's option before the command (`poet --root app
    // status`): say where options go. A command is no answer to either.
    const own = /^-[vh]$/i.test(name) ? name.toLowerCase() : closest(name.replace(/^-+/, ''), ['help', 'version'])
    const hint = own ? ` Did you mean ${own.startsWith('-') ? own : `--${own}`}?` : ' Options go after the command: poet <command> [options].'
    return usage(io, `unknown option ${name}.${hint}`, HELP)
  }
  const prefixed = Object.keys(COMMANDS).filter((c) => c.startsWith(name))
  // `check` is what a CI step does, spelled as the flag that does it.
  const hint = name === 'version' ? '--version' : /^check$/i.test(name) ? 'generate --check' : prefixed.length === 1 ? prefixed[0] : closest(name, Object.keys(COMMANDS))
  return usage(io, `unknown command "${name}".${hint ? ` Did you mean \`poet ${hint}\`?` : ''}`, HELP)
}

/** The installed package's version, read through its own `exports` (the same from src/ in tests as from dist/). */
function version(): string {
  return (createRequire(import.meta.url)('unplugin-poet/package.json') as { version: string }).version
}

/** Train's commands live in src/train; a build without them still answers clearly. */
function trainCommand(exportName: 'serveCommand' | 'trainCommand' | 'rollbackCommand'): Command {
  return async (argv, io) => {
    let mod: Partial<Record<typeof exportName, Command>>
    try {
      mod = (await import('../train/commands')) as Partial<Record<typeof exportName, Command>>
    } catch (e) {
      io.err(`poet: \`${exportName.replace('Command', '')}\` is not available in this build (${(e as Error).message}).`)
      return EXIT.usage
    }
    const command = mod[exportName]
    if (!command) {
      io.err(`poet: \`${exportName.replace('Command', '')}\` is not available in this build.`)
      return EXIT.usage
    }
    return command(argv, io)
  }
}

