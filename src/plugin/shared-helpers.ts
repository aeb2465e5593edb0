// One copy of the validators' helpers per bundle: phase modules import them from one virtual module instead of each declaring its own.
import { CORE_HELPERS, SHAREABLE_HELPERS } from '../generators/builtin/helpers'
import { VIRTUAL_PREFIX } from './ids'

/**
 * Key of the module holding the shared helpers. `encodeKey` never yields `~~`, so no function has it. The lock keeps
 * every phase module whole (readable and runnable on its own); only what the bundler receives is rewritten.
 */
export const HELPERS_KEY = '~~helpers'

/** The shared helpers module: every shareable helper, exported (a bundler keeps only those some phase module imports). */
export function helpersModule(): string {
  return SHAREABLE_HELPERS.map((name) => CORE_HELPERS[name]!.code.replace(/^function /m, 'export function ')).join('\n\n') + '\n'
}

/**
 * The phase module with each shareable helper it declares exactly as the builtin generator writes it (at the top
 * level: an A/B candidate's indented copy stays) replaced by one import of the shared copy. A helper is shared only
 * when every helper it calls is too, so a module that declares its own variant of one keeps its own behaviour.
 */
export function shareHelpers(source: string): string {
  const found = new Map<string, number>()
  for (const name of SHAREABLE_HELPERS) {
    const at = topLevelIndex(source, CORE_HELPERS[name]!.code)
    if (at >= 0) found.set(name, at)
  }
  const shared = [...found.keys()].filter((name) => callsOnly(name, found))
  if (shared.length === 0) return source
  const blocks = shared.map((name) => ({ at: found.get(name)!, end: found.get(name)! + CORE_HELPERS[name]!.code.length })).sort((a, b) => a.at - b.at)
  const importLine = `import { ${shared.join(', ')} } from ${JSON.stringify(VIRTUAL_PREFIX + HELPERS_KEY)}`
  let out = source.slice(0, blocks[0]!.at) + importLine
  for (let i = 0; i < blocks.length; i++) {
    const next = blocks[i + 1]?.at ?? source.length
    // The blank line that separated two removed helpers goes with them.
    out += i + 1 < blocks.length && /^\s*$/.test(source.slice(blocks[i]!.end, next)) ? '' : source.slice(blocks[i]!.end, next)
  }
  return out
}

/** Where `code` starts a line of `source` and ends one; -1 when it does not. */
function topLevelIndex(source: string, code: string): number {
  for (let at = source.indexOf(code); at >= 0; at = source.indexOf(code, at + 1)) {
    const end = at + code.length
    if ((at === 0 || source[at - 1] === '\n') && (end === source.length || source[end] === '\n')) return at
  }
  return -1
}

function callsOnly(name: string, found: ReadonlyMap<string, number>): boolean {
  return (CORE_HELPERS[name]!.deps ?? []).every((dep) => found.has(dep) && callsOnly(dep, found))
}
