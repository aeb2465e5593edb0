// Generator dispatch: one FunctionSpec in, PhaseParts (and what the lock records with them) out, from the generator the plugin options name.
import type { DomainPack } from './builtin/domain'
import type { FunctionSpec, PhaseParts } from './spec'
import { PROMPT_VERSION } from './llm/version'
import { inputHash, type LockVersion, type NewVersion } from './lock'
import type { ResolvedGenerator } from '../plugin/options'

export type GeneratorConfig = ResolvedGenerator

export interface GenerateContext {
  /** The resolved domain pack named by the function's `domain` option, if any. */
  pack?: DomainPack
  /** Build warnings (e.g. a fallback), shown by the bundler. */
  warn(message: string): void
}

/** What identifies a generator in the lock and in every input hash. */
export interface GeneratorIdentity {
  generator: string
  model?: string
  promptVersion?: string
}

export function generatorIdentity(config: GeneratorConfig): GeneratorIdentity {
  if (config.provider === 'builtin') return { generator: 'builtin' }
  return { generator: `openai:${config.model}`, model: config.model, promptVersion: PROMPT_VERSION }
}

/** One generation: the parts to render, and what the lock records beside them. */
export interface Generation {
  parts: PhaseParts
  usage?: LockVersion['usage']
  /** Verified operate variants (optimizeFor): stored beside the version for review and A/B tests, never bundled. */
  variants?: NewVersion['variants']
  /** Why the configured generator fell back to builtin, when it did: the lock records it as `fallback: <why>`. */
  fallback?: string
}

export async function generatePhases(spec: FunctionSpec, config: GeneratorConfig, ctx: GenerateContext): Promise<Generation> {
  // Loaded on the first generation: a build whose every function is in the lock never needs the generator.
  const { generateBuiltin } = await import('./builtin')
  switch (config.provider) {
    case 'builtin':
      return { parts: generateBuiltin(spec, { pack: ctx.pack }) }
    case 'openai': {
      // The SDK, the schema and the sandbox load only for projects that use an LLM, never for builtin builds.
      const { generateWithLlm } = await import('./llm')
      const { parts, usage, variants, fallback } = await generateWithLlm(spec, config, generateBuiltin(spec, { pack: ctx.pack }), ctx)
      return { parts, ...(usage ? { usage } : {}), ...(variants?.length ? { variants } : {}), ...(fallback ? { fallback } : {}) }
    }
  }
}

/**
 * Hash of everything a generation depends on; a lock entry with the same hash is reused as it is.
 * Key order inside options and types does not matter.
 */
export function phaseInputHash(spec: FunctionSpec, config: GeneratorConfig, pack?: Pick<DomainPack, 'version'>): string {
  return inputHash(spec, { ...generatorIdentity(config), domainVersion: pack?.version })
}
