// `poet domains`: the domain packs this project can use (builtin and custom), from the domain registry.
import { parseCommand } from './args'
import { COMMON_FLAGS, COMMON_HELP, loadConfig } from './config'
import { EXIT, table, usage, type CliIO } from './io'
import { DomainRegistry } from '../generators/builtin/domains'

export const DOMAINS_HELP = `poet domains — list the domain packs, or show one in detail

Usage: poet domains [<name>] [--json] [project options]

  <name>     show one pack: policy, perceive and enforce rules, fields never sent in events
  --json     machine-readable output

Custom packs come from the \`domains\` option in poet.config.mjs.
Exit code 0, 2 for an unknown pack or a wrong option.

Examples:
  poet domains
  poet domains financial_services --json

${COMMON_HELP}`

export async function domainsCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommand(argv, io, DOMAINS_HELP, { ...COMMON_FLAGS, json: { type: 'boolean' } })
  if (typeof args === 'number') return args
  const { options } = await loadConfig(args.values, io.cwd ?? process.cwd(), io.env ?? process.env)
  const registry = new DomainRegistry(options.domains)
  const rows = registry.describe()
  const [name, ...extra] = args.positionals
  if (extra.length) return usage(io, `one pack at a time, received also ${JSON.stringify(extra[0])}`, DOMAINS_HELP)
  if (name !== undefined) {
    const row = rows.find((r) => r.name === name)
    if (!row) {
      const hint = registry.suggest(name)
      return usage(io, `no domain pack named "${name}".${hint ? ` Did you mean ${hint}?` : ''} Packs: ${rows.map((r) => r.name).join(', ')}`, DOMAINS_HELP)
    }
    if (args.values.json) return void io.out(JSON.stringify(row, null, 2)), EXIT.ok
    const rules = (list: { id: string; description: string }[]) => (list.length ? list.map((r) => `  ${r.id}  ${r.description}`).join('\n') : '  —')
    io.out(
      [
        `${row.name} ${row.version}${row.parent ? ` (extends ${row.parent})` : ''}`,
        row.description,
        '',
        `policy: ${JSON.stringify(row.policy)}`,
        `never in events: ${row.neverInEvents.join(', ') || '—'}`,
        '',
        'perceive rules:',
        rules(row.perceive),
        '',
        'enforce rules:',
        rules(row.enforce),
      ].join('\n'),
    )
    return EXIT.ok
  }
  if (args.values.json) return void io.out(JSON.stringify(rows, null, 2)), EXIT.ok
  io.out(table(['name', 'version', 'rules', 'description'], rows.map((r) => [r.name, r.version, String(r.perceive.length + r.enforce.length), r.description])))
  io.out(`\nUse a pack with poet({ domain: '<name>' }); \`poet domains <name>\` shows its rules.`)
  return EXIT.ok
}
