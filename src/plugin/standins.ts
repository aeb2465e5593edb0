// TEMPORARY stand-ins for pieces other branches are writing (transform, options, domains, builtin generator); deleted on merge.
import { relative } from 'node:path'
import MagicString from 'magic-string'
import type { FilterPattern } from 'unplugin'
import type { DomainPack } from '../generators/builtin/domain'
import type { FunctionSpec, PhaseParts } from '../generators/spec'
import type { PoetOptions, Policy } from '../runtime/types'
import { encodeKey, functionId } from './ids'
import type { Options } from './options'

export const POET_IMPORT_FILTER = /unplugin-poet\/runtime/

export interface TransformContext {
  root: string
  domains: { has(name: string): boolean; names(): string[] }
  readFile?(abs: string): string | undefined
  warn(message: string): void
}

/** Probe-only stand-in: appends one phase import per `// poet-probe <name>` line. */
export function transformPoet(
  code: string,
  file: string,
  ctx: TransformContext,
): { code: string; map: ReturnType<MagicString['generateMap']>; specs: (FunctionSpec & { dependencies?: string[] })[] } | null {
  const names = [...code.matchAll(/\/\/ poet-probe (\w+)/g)].map((m) => m[1]!)
  if (!names.length) return null
  const s = new MagicString(code)
  const specs = names.map((name, i) => {
    const id = functionId(relative(ctx.root, file).split('\\').join('/'), name)
    s.append(`\nimport __poet_phases_${i} from 'virtual:poet/${encodeKey(id)}'\nexport { __poet_phases_${i} as ${name} }\n`)
    return {
      id,
      file,
      name,
      kind: 'function' as const,
      async: false,
      params: [{ name: 'n', type: { kind: 'number' as const }, optional: false, rest: false }],
      returns: { kind: 'number' as const },
      types: {},
      options: {},
      source: code,
      signature: '(n: number): number',
      unresolved: [],
    }
  })
  return { code: s.toString(), map: s.generateMap({ hires: true, source: file, includeContent: true }), specs }
}

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

export class DomainRegistry {
  constructor(private readonly custom: DomainPack[] = []) {}
  has(name: string): boolean {
    return this.custom.some((p) => p.name === name)
  }
  names(): string[] {
    return this.custom.map((p) => p.name)
  }
  get(name: string): DomainPack | undefined {
    return this.custom.find((p) => p.name === name)
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
