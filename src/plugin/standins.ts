// TEMPORARY stand-ins for pieces other branches are writing (option resolution, builtin generator); deleted on merge.
import type { FilterPattern } from 'unplugin'
import type { DomainPack } from '../generators/builtin/domain'
import type { FunctionSpec, PhaseParts } from '../generators/spec'
import type { PoetOptions, Policy } from '../runtime/types'
import type { Options } from './options'

export interface ResolvedOptions {
  include: FilterPattern
  exclude: FilterPattern
  root: string
  lockDir: string
  strict: boolean
  generator: 'builtin' | { provider: 'openai'; model: string; baseURL?: string; apiKey?: string }
  domains: DomainPack[]
}

export function resolveOptions(raw: Options | undefined, env: { root: string }): ResolvedOptions {
  return {
    include: raw?.include ?? [/\.[cm]?[jt]sx?$/],
    exclude: raw?.exclude ?? [/node_modules/, /\.d\.[cm]?ts$/],
    root: raw?.root ?? env.root,
    lockDir: raw?.lockDir ?? '.poet',
    strict: !!process.env.CI,
    generator: 'builtin',
    domains: [],
  }
}

export function resolvePolicy(options: PoetOptions): Policy {
  return {
    attempts: options.attempts ?? 3,
    timeout: options.timeout ?? 30000,
    backoff: { initial: 100, max: 5000, factor: 2, jitter: true },
    retryOn: options.retryOn ?? 'any',
    repair: false,
    sample: 1,
  }
}

export function generateBuiltin(spec: FunctionSpec, _opts: { pack?: DomainPack }): PhaseParts {
  return { generator: 'builtin', policy: resolvePolicy(spec.options) }
}
