// The `poet` command's dispatcher: one subcommand per job, each with its own --help and exit codes.
import { ConfigError } from './config'
import { diffCommand } from './diff'
import { domainsCommand } from './domains'
import { generateCommand } from './generate'
import { consoleIO, errorText, EXIT, type CliIO } from './io'
import { statusCommand } from './status'
import { closest } from '../plugin/suggest'

export const HELP = `poet — generate, review and train the phases of poet() functions

Usage: poet <command> [options]

Commands:
  generate [--check] [--force] [--only <id>]   write phases into the lock (.poet/); --check fails on stale entries
  status                                       table of functions: version, generator, stale?, unresolved types
  diff <id> [--from <v>] [--to <v>]            unified diff between two versions of a function's phases
  domains [<name>]                             the domain packs and their rules
  serve [--port] [--db] [--token]              run the event collector (feedback store)
  train [--apply]                              plan (or apply) new versions from feedback
  rollback <id> [--to <version>]               make an earlier version current again

Run \`poet <command> --help\` for a command's options.
Exit codes: 0 ok, 1 a failure was found, 2 wrong usage.`

type Command = (argv: string[], io: CliIO) => Promise<number>

const COMMANDS: Record<string, Command> = {
  generate: generateCommand,
  status: statusCommand,
  diff: diffCommand,
  domains: domainsCommand,
  serve: trainCommand('serveCommand'),
  train: trainCommand('trainCommand'),
  rollback: trainCommand('rollbackCommand'),
}

export async function main(argv: string[], io: CliIO = consoleIO): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined) return Object.hasOwn(COMMANDS, rest[0]) ? COMMANDS[rest[0]]!(['--help'], io) : unknownCommand(rest[0], io)
    io.out(HELP)
    return name === undefined ? EXIT.usage : EXIT.ok
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
  const prefixed = Object.keys(COMMANDS).filter((c) => c.startsWith(name))
  const hint = prefixed.length === 1 ? prefixed[0] : closest(name, Object.keys(COMMANDS))
  io.err(`poet: unknown command "${name}".${hint ? ` Did you mean \`poet ${hint}\`?` : ''}\n\n${HELP}`)
  return EXIT.usage
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

