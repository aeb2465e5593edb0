// Generator dispatch: one FunctionSpec in, PhaseParts out, from the generator the plugin options name.
import type { DomainPack } from './builtin/domain'
import { contentHash } from './render'
import type { FunctionSpec, PhaseParts } from './spec'
import { generateBuiltin } from './builtin'
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
  return { generator: config.provider, model: config.model }
}

export async function generatePhases(spec: FunctionSpec, config: GeneratorConfig, ctx: GenerateContext): Promise<PhaseParts> {
  switch (config.provider) {
    case 'builtin':
      return generateBuiltin(spec, { pack: ctx.pack })
    case 'openai':
      throw new Error(
        `poet: the "openai" generator is not available in this build yet; use generator: 'builtin' (the default).`,
      )
  }
}

/**
 * Hash of everything a generation depends on; a lock entry with the same hash is reused as it is.
 * Key order inside options and types does not matter.
 */
export function phaseInputHash(spec: FunctionSpec, config: GeneratorConfig, pack?: Pick<DomainPack, 'version'>): string {
  const id = generatorIdentity(config)
  const types = { kind: spec.kind, async: spec.async, params: spec.params, returns: spec.returns, types: spec.types }
  return contentHash(
    spec.source,
    stableJson(spec.options),
    stableJson(types),
    pack?.version ?? '',
    id.generator,
    id.model ?? '',
    id.promptVersion ?? '',
  )
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : typeof v === 'bigint'
        ? `${v}n`
        : v,
  )
}
