// The builtin generator: a function's spec (resolved types plus its domain pack) → perceive/enforce phase parts, offline and deterministic.
import type { FunctionSpec, PhaseParts, UnresolvedType } from '../spec'
import type { CodeRule, DomainPack, LearnedValue } from './domain'
import { ValidatorCompiler } from './compile'
import { comment } from '../render'
import { resolvePolicy } from './policy'

export { resolveSignature } from './resolve'
export type { FunctionNode, ResolveInput, ResolvedSignature } from './resolve'
export { compileValidator, inlineRuntimeHelpers, ValidatorCompiler } from './compile'
export { resolvePolicy, DEFAULT_POLICY } from './policy'

export interface BuiltinOptions {
  /**
   * The function's domain pack, or its chain from the root parent to the pack itself
   * (parents' rules run first, a child's policy wins over its parent's).
   */
  pack?: DomainPack | DomainPack[]
}

/**
 * Perceive checks every argument against its parameter's type, enforce checks the awaited result; domain rules run
 * at every value site and once per phase. Types understood (resolve.ts): primitives, literals, unions (discriminated
 * ones report the discriminant), intersections, arrays, tuples (optional/rest), objects and interfaces (`extends`,
 * merging), index signatures, `Record`, enums, `Date`, template literal types (matched as TypeScript does), generic
 * aliases/interfaces with arguments, `Partial`/`Required`/`Readonly`/`Pick`/`Omit`/`NonNullable`/`Exclude`/`Extract`,
 * `keyof`, indexed access, recursive types, across relative imports. Anything else is accepted and listed in
 * `spec.unresolved`. Differentially tested against `tsc` (test/generators/builtin/differential.test.ts).
 */
export function generateBuiltin(spec: FunctionSpec, options: BuiltinOptions = {}): PhaseParts {
  const chain = options.pack === undefined ? [] : Array.isArray(options.pack) ? options.pack : [options.pack]
  const policy = resolvePolicy(spec.options, chain)
  const perceiveRules: CodeRule[] = chain.flatMap((p) => p.perceive ?? [])
  const enforceRules: CodeRule[] = chain.flatMap((p) => p.enforce ?? [])
  const compiler = new ValidatorCompiler({ types: spec.types, rules: { perceive: perceiveRules, enforce: enforceRules }, repair: policy.repair })

  const perceiveChecks = [compiler.params(spec.params), ...wholeRules(perceiveRules, spec, 'perceive')].filter(Boolean)
  const enforceChecks = [compiler.result(spec.returns), ...wholeRules(enforceRules, spec, 'enforce')].filter(Boolean)
  const learned = Object.assign({}, ...chain.map((p) => p.learned?.(spec))) as Record<string, LearnedValue>
  const helpers = [
    compiler.imports(),
    Object.keys(learned).length ? learnedLine(learned) : '',
    compiler.helpers(),
    ...chain.map((p) => p.helpers?.trim()),
  ]
    .filter(Boolean)
    .join('\n\n')
  const neverInEvents = [...new Set(chain.flatMap((p) => p.neverInEvents ?? []))]

  return {
    generator: 'builtin',
    policy,
    ...(perceiveChecks.length ? { perceive: phaseBody(perceiveChecks) } : {}),
    ...(enforceChecks.length ? { enforce: phaseBody(enforceChecks) } : {}),
    helpers,
    ...(neverInEvents.length ? { neverInEvents } : {}),
  }
}

/**
 * The one line Train rewrites (src/train/thresholds.ts reads it back): the domain's learnable thresholds, keys sorted
 * so the same values always render the same bytes.
 */
export function learnedLine(learned: Record<string, LearnedValue>): string {
  const sorted = Object.fromEntries(Object.keys(learned).sort().map((k) => [k, learned[k]]))
  return `// Domain thresholds: the pack's defaults, or what \`poet train\` learned from observed distributions.\nconst learned = ${JSON.stringify(sorted)}`
}

function wholeRules(rules: CodeRule[], spec: FunctionSpec, phase: 'perceive' | 'enforce'): string[] {
  return rules.flatMap((r) => {
    const code = r.whole?.(spec, phase)
    return code ? [`${comment(`rule ${r.id}`)}\n{\n${code.trimEnd()}\n}`] : []
  })
}

function phaseBody(checks: string[]): string {
  return ['let issues', ...checks, 'return issues'].join('\n')
}

/** One row per unresolved type across functions: what `poet status` prints and tools read. */
export interface UnresolvedRow extends UnresolvedType {
  /** Function id. */
  id: string
}

export function unresolvedReport(specs: Pick<FunctionSpec, 'id' | 'unresolved'>[]): UnresolvedRow[] {
  return specs.flatMap((s) => s.unresolved.map((u) => ({ id: s.id, ...u })))
}
