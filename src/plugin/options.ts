// The plugin's options: one interface (the docs), one pure resolver that checks them and fills every default in one place.
import { isAbsolute, resolve } from 'node:path'
import type { FilterPattern } from 'unplugin'
import type { DomainPack } from '../generators/builtin/domain'
import { PoetConfigError } from './errors'
import { didYouMean } from './suggest'

/** An OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, LM Studio…) that writes phases. */
export interface OpenAIGeneratorOptions {
  provider: 'openai'
  /** Model name, e.g. `'gpt-4o-mini'`. */
  model: string
  /** Base URL of the OpenAI-compatible API. @default the SDK's (https://api.openai.com/v1) */
  baseURL?: string
  /** API key. @default process.env.OPENAI_API_KEY */
  apiKey?: string
  /** Requests in flight at once. @default 4 */
  concurrency?: number
  /** Milliseconds per request before it is abandoned (then retried or the builtin generator is used). @default 60000 */
  timeout?: number
}

/** Where runtime events go from the built app. */
export interface FeedbackOptions {
  /** URL the runtime of a page Vite builds from index.html posts event batches to (other bundlers have no page: configure httpSink in the entry). @default the Vite dev server's `/__poet/events` in dev, else none */
  endpoint?: string
  /** Fraction of executions that emit events, 0..1. @default 1 */
  sample?: number
}

export interface Options {
  /** Files to scan for `poet(...)` (of a `.vue` or `.svelte` component, its script blocks). @default [/\.[cm]?[jt]sx?$/, /\.(?:vue|svelte)$/] */
  include?: FilterPattern
  /** Files never scanned. @default [/[\\/]node_modules[\\/]/, /\.d\.[cm]?ts$/] */
  exclude?: FilterPattern
  /** Project root; function ids are paths relative to it. @default the bundler's root, else process.cwd() */
  root?: string
  /** Where the lock and generated phases live, relative to root. @default '.poet' */
  lockDir?: string
  /**
   * Never call an LLM: with an LLM generator, a missing or stale lock entry fails the build, naming `poet generate`
   * (the builtin generator still writes its entries, offline). @default true when `CI` is set, and not to 'false'
   */
  strict?: boolean
  /** Who writes perceive/enforce phases: the offline builtin generator, or an OpenAI-compatible LLM. @default 'builtin' */
  generator?: 'builtin' | OpenAIGeneratorOptions
  /** Custom domain packs, next to the builtin ones (a pack may extend another: `parent:child`). @default [] */
  domains?: DomainPack[]
  /** Runtime events: `false` turns them off. @default {} (dev server endpoint in Vite dev, sample 1) */
  feedback?: false | FeedbackOptions
  /** Serve the dashboard at `/__poet/` in dev. @default true */
  dashboard?: boolean
  /**
   * Keep each poet module's transform result in `node_modules/.cache/unplugin-poet/` (under root), so a build whose
   * modules and type files did not change never parses them again; `false` turns it off. @default true
   */
  cache?: boolean
}

export type ResolvedGenerator =
  | { provider: 'builtin' }
  | {
      provider: 'openai'
      model: string
      baseURL: string | undefined
      apiKey: string | undefined
      concurrency: number
      timeout: number
    }

/** Options with every default filled: nothing downstream asks "was this set?". Paths are absolute. */
export interface ResolvedOptions {
  include: FilterPattern
  exclude: FilterPattern
  root: string
  lockDir: string
  strict: boolean
  generator: ResolvedGenerator
  domains: DomainPack[]
  feedback: false | { endpoint: string | undefined; sample: number }
  dashboard: boolean
  /** Where the transform cache lives; false: no cache. */
  cacheDir: string | false
}

// Vue and Svelte components too: only their script blocks are scanned, and the code filter keeps every file that
// does not import the runtime away from the parser, so the other components cost nothing.
export const DEFAULT_INCLUDE: RegExp[] = [/\.[cm]?[jt]sx?$/, /\.(?:vue|svelte)$/]
export const NODE_MODULES = /[\\/]node_modules[\\/]/
export const DEFAULT_EXCLUDE: RegExp[] = [NODE_MODULES, /\.d\.[cm]?ts$/]

const OPTION_KEYS = [
  'include',
  'exclude',
  'root',
  'lockDir',
  'strict',
  'generator',
  'domains',
  'feedback',
  'dashboard',
  'cache',
] as const satisfies readonly (keyof Options)[]
const GENERATOR_KEYS = ['provider', 'model', 'baseURL', 'apiKey', 'concurrency', 'timeout'] as const
const FEEDBACK_KEYS = ['endpoint', 'sample'] as const

export interface ResolveContext {
  /** The bundler's root (Vite's `config.root`…); relative paths in options resolve against it. @default process.cwd() */
  root?: string
  /** Environment read for `CI` and `OPENAI_API_KEY`. @default process.env */
  env?: Record<string, string | undefined>
}

/** Checks the user's options and fills every default. Throws PoetConfigError naming the option at the first problem. */
export function resolveOptions(raw: Options | undefined, context: ResolveContext = {}): ResolvedOptions {
  const env = context.env ?? process.env
  const o = (raw ?? {}) as Record<string, unknown>
  if (typeof o !== 'object' || Array.isArray(o)) {
    throw new PoetConfigError('(options)', `expected an options object, received ${kind(raw)}.`)
  }
  unknownKeys(o, OPTION_KEYS, '')

  const base = context.root ?? process.cwd()
  const root = o.root === undefined ? base : resolve(base, string(o.root, 'root', 'a path'))
  const lockDir = o.lockDir === undefined ? '.poet' : string(o.lockDir, 'lockDir', 'a path')
  return {
    include: o.include === undefined ? DEFAULT_INCLUDE : filter(o.include, 'include'),
    exclude: o.exclude === undefined ? DEFAULT_EXCLUDE : filter(o.exclude, 'exclude'),
    root,
    lockDir: isAbsolute(lockDir) ? lockDir : resolve(root, lockDir),
    // `CI=false` is how a build says it is not one (CRA's and Netlify's idiom; ci-info reads it so too).
    strict: o.strict === undefined ? !!env.CI && env.CI !== 'false' : boolean(o.strict, 'strict'),
    generator: generator(o.generator, env),
    domains: o.domains === undefined ? [] : domains(o.domains),
    feedback: feedback(o.feedback),
    dashboard: o.dashboard === undefined ? true : boolean(o.dashboard, 'dashboard'),
    // Beside the caches of Vite (node_modules/.vite), webpack and babel-loader: already ignored by git and by watchers.
    cacheDir:
      o.cache === undefined || boolean(o.cache, 'cache') ? resolve(root, 'node_modules/.cache/unplugin-poet') : false,
  }
}

function generator(value: unknown, env: Record<string, string | undefined>): ResolvedGenerator {
  if (value === undefined || value === 'builtin') return { provider: 'builtin' }
  const expected = "'builtin' or { provider: 'openai', model: '…' }"
  if (!isObject(value)) throw new PoetConfigError('generator', `expected ${expected}, received ${kind(value)}.`)
  unknownKeys(value, GENERATOR_KEYS, 'generator.')
  if (value.provider !== 'openai') {
    const hint = typeof value.provider === 'string' ? didYouMean(value.provider, ['openai']) : ''
    throw new PoetConfigError(
      'generator.provider',
      `expected 'openai' (any OpenAI-compatible server), received ${kind(value.provider)}.${hint}`,
    )
  }
  if (typeof value.model !== 'string' || value.model === '') {
    throw new PoetConfigError('generator.model', `expected the model name, e.g. 'gpt-4o-mini', received ${kind(value.model)}.`)
  }
  return {
    provider: 'openai',
    model: value.model,
    baseURL: value.baseURL === undefined ? undefined : string(value.baseURL, 'generator.baseURL', 'a URL'),
    apiKey: value.apiKey === undefined ? env.OPENAI_API_KEY : string(value.apiKey, 'generator.apiKey', 'a string'),
    concurrency: value.concurrency === undefined ? 4 : integer(value.concurrency, 'generator.concurrency', 1),
    timeout: value.timeout === undefined ? 60_000 : integer(value.timeout, 'generator.timeout', 1),
  }
}

function feedback(value: unknown): ResolvedOptions['feedback'] {
  if (value === false) return false
  if (value === undefined) return { endpoint: undefined, sample: 1 }
  if (!isObject(value)) {
    throw new PoetConfigError('feedback', `expected false or { endpoint?, sample? }, received ${kind(value)}.`)
  }
  unknownKeys(value, FEEDBACK_KEYS, 'feedback.')
  const sample = value.sample
  if (sample !== undefined && (typeof sample !== 'number' || !(sample >= 0 && sample <= 1))) {
    throw new PoetConfigError('feedback.sample', `expected a number from 0 to 1, received ${kind(sample)}.`)
  }
  return {
    endpoint: value.endpoint === undefined ? undefined : string(value.endpoint, 'feedback.endpoint', 'a URL'),
    sample: sample ?? 1,
  }
}

function domains(value: unknown): DomainPack[] {
  if (!Array.isArray(value)) throw new PoetConfigError('domains', `expected an array of domain packs, received ${kind(value)}.`)
  const seen = new Set<string>()
  value.forEach((pack: unknown, i) => {
    const at = `domains[${i}]`
    if (!isObject(pack)) throw new PoetConfigError(at, `expected a domain pack object, received ${kind(pack)}.`)
    const name = string(pack.name, `${at}.name`, "a pack name such as 'payments' or 'financial_services:payments'")
    string(pack.version, `${at}.version`, "a version string such as '1'")
    string(pack.description, `${at}.description`, 'a one-line description')
    if (seen.has(name)) throw new PoetConfigError(`${at}.name`, `domain pack '${name}' is defined twice.`)
    seen.add(name)
  })
  return value as DomainPack[]
}

function filter(value: unknown, option: string): FilterPattern {
  const ok = (v: unknown) => typeof v === 'string' || v instanceof RegExp
  if (value === null || ok(value) || (Array.isArray(value) && value.every(ok))) return value as FilterPattern
  throw new PoetConfigError(option, `expected a string, a RegExp, or an array of them, received ${kind(value)}.`)
}

function unknownKeys(o: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new PoetConfigError(prefix + key, didYouMean(key, known), true)
    }
  }
}

function string(value: unknown, option: string, expected: string): string {
  if (typeof value === 'string' && value !== '') return value
  throw new PoetConfigError(option, `expected ${expected}, received ${kind(value)}.`)
}

function boolean(value: unknown, option: string): boolean {
  if (typeof value === 'boolean') return value
  throw new PoetConfigError(option, `expected true or false, received ${kind(value)}.`)
}

function integer(value: unknown, option: string, min: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value
  throw new PoetConfigError(option, `expected an integer ≥ ${min}, received ${kind(value)}.`)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A received value as an error shows it: primitives as written, everything else by kind. */
function kind(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'an array'
  if (v instanceof RegExp) return `the RegExp ${v}`
  if (typeof v === 'string') return v === '' ? 'an empty string' : `the string '${v}'`
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'function') return 'a function'
  return String(v)
}
