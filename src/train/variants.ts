// Serving an A/B test: the current phase module with the lock's candidate attached as its variant, still one self-contained module.
import type { LockFile, LockStore } from '../generators/lock'

const EXPORT_LINE = 'export default phases\n'
/** The one import a rendered phase module may hold: the runtime's shared issue helpers (src/generators/builtin/compile.ts). */
const RUNTIME_IMPORT = /^import \{([^}]*)\} from "unplugin-poet\/runtime"$/m

/**
 * The current phase module with `candidate`'s phases as `variants: [{ …, share }]`. The candidate's module body runs
 * inside a function, so its declarations (perceive, enforce, helpers) cannot clash with the current ones; the result
 * still ends with `export default phases`, so `addHotSwap` applies to it as to any rendered module. An import cannot
 * run inside a function: the candidate's import of runtime helpers moves to the top level under `__poet_candidate_`
 * names, which its body then binds to its own names.
 */
export function withCandidate(current: string, candidate: string, share: number): string {
  if (!current.endsWith(EXPORT_LINE) || !candidate.endsWith(EXPORT_LINE)) {
    throw new Error('poet: withCandidate needs two phase modules rendered by unplugin-poet (ending in `export default phases`)')
  }
  if (!(share > 0 && share < 1)) throw new RangeError(`poet: a candidate's share must be between 0 and 1, got ${share}`)
  const specifiers = RUNTIME_IMPORT.exec(candidate)?.[1]
  const bindings = (specifiers ?? '').split(',').flatMap((spec) => {
    const [exported, local = exported] = spec.trim().split(/\s+as\s+/)
    return exported ? [{ exported, local: local!, hoisted: `__poet_candidate_${local}` }] : []
  })
  const body = candidate
    .slice(0, -EXPORT_LINE.length)
    .replace(RUNTIME_IMPORT, bindings.length ? `const ${bindings.map((b) => `${b.local} = ${b.hoisted}`).join(', ')}` : '')
    .trimEnd()
    .split('\n')
    .map((l) => (l ? '  ' + l : l))
    .join('\n')
  return (
    current.slice(0, -EXPORT_LINE.length) +
    [
      ...(bindings.length ? [`import { ${bindings.map((b) => `${b.exported} as ${b.hoisted}`).join(', ')} } from "unplugin-poet/runtime"`] : []),
      '// A/B test: the candidate below serves this share of executions (the runtime splits by execution id).',
      'phases.variants = [Object.assign((() => {',
      body,
      '  return phases',
      `})(), { share: ${share} })]`,
      '',
    ].join('\n') +
    EXPORT_LINE
  )
}

/**
 * What the plugin serves for `id` given the current version's source: with a candidate under test in the lock, the
 * current module with the candidate attached; otherwise (or when the candidate's file is missing) the source unchanged.
 */
export function servedPhases(lock: LockStore, id: string, currentSource: string, file: LockFile = lock.read()): string {
  const candidate = file.functions[id]?.candidate
  const source = candidate && lock.source(id, candidate.version, file)
  return candidate && source ? withCandidate(currentSource, source, candidate.share) : currentSource
}
