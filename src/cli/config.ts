// The CLI's configuration: `poet.config.json` or `poet.config.mjs` in the root, then flags, resolved like the plugin's options.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Options } from '../plugin/options'
import { resolveOptions, type ResolvedOptions } from '../plugin/options'

export const CONFIG_FILES = ['poet.config.json', 'poet.config.mjs'] as const

/** Flags every project command accepts. */
export const COMMON_FLAGS = {
  root: { type: 'string' },
  generator: { type: 'string' },
  model: { type: 'string' },
  'base-url': { type: 'string' },
} as const

export const COMMON_HELP = `Project options (flags win over poet.config.json / poet.config.mjs in the root):
  --root <dir>          project root; function ids are relative to it
                        default: the nearest directory up from here with a poet.config, package.json,
                        bundler config, .poet/ or .git (as npm and git find theirs), else the current one
  --generator <name>    builtin | openai                                   default: the config's, else builtin
  --model <name>        model for the openai generator (implies --generator openai)
  --base-url <url>      any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, Azure)
  -h, --help            show this help

poet.config.json holds the plugin's options, e.g.
  { "generator": { "provider": "openai", "model": "gpt-4o-mini", "concurrency": 4 }, "lockDir": ".poet" }
poet.config.mjs may export the same object as its default export (for custom domain packs).
The API key is read from OPENAI_API_KEY.`

export interface ConfigFlags {
  root?: string
  generator?: string
  model?: string
  'base-url'?: string
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** What a project's root holds: the CLI's config, a package, a bundler's config, the lock, a repository. */
const ROOT_MARKER = /^(?:poet\.config\.(?:json|mjs)|package\.json|\.poet|\.git|(?:vite|vitest|rollup|rolldown|webpack|rspack)\.config\.[cm]?[jt]s)$/

/**
 * `--root`, else the nearest directory from `cwd` up that holds a ROOT_MARKER, else `cwd`: run from `src/`, a command
 * finds the project as npm and git do, rather than make a lock there under ids no build reads.
 */
export function projectRoot(cwd: string, flag: string | undefined): string {
  if (flag !== undefined) return resolve(cwd, flag)
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      // An ancestor this user may not list (a shared host's /home) tells nothing: look further up.
      names = []
    }
    if (names.some((n) => ROOT_MARKER.test(n))) return dir
    if (dirname(dir) === dir) return resolve(cwd)
  }
}

/** Loads the config file (if any), applies the flags and resolves every default exactly as the plugin does. */
export async function loadConfig(flags: ConfigFlags, cwd: string, env: Record<string, string | undefined>): Promise<{ options: ResolvedOptions; file?: string }> {
  const root = projectRoot(cwd, flags.root)
  if (!existsSync(root)) throw new ConfigError(`--root ${flags.root}: no such directory (${root})`)
  if (!statSync(root).isDirectory()) throw new ConfigError(`--root ${flags.root}: not a directory (${root})`)
  let raw: Options = {}
  let file: string | undefined
  for (const name of CONFIG_FILES) {
    const path = join(root, name)
    if (!existsSync(path)) continue
    file = path
    raw = name.endsWith('.json') ? readJson(path) : await importConfig(path)
    break
  }
  const generator = flagGenerator(flags, raw.generator)
  const merged: Options = { ...raw, ...(generator !== undefined ? { generator } : {}) }
  try {
    return { options: resolveOptions(merged, { root, env }), file }
  } catch (e) {
    throw new ConfigError(`${file ? `${file}: ` : ''}${(e as Error).message}`)
  }
}

function flagGenerator(flags: ConfigFlags, fromFile: Options['generator']): Options['generator'] | undefined {
  const name = flags.generator ?? (flags.model || flags['base-url'] ? 'openai' : undefined)
  if (name === undefined) return undefined
  if (name === 'builtin') {
    if (flags.model || flags['base-url']) throw new ConfigError('--model and --base-url only apply to --generator openai')
    return 'builtin'
  }
  if (name !== 'openai') throw new ConfigError(`--generator must be builtin or openai, received "${name}"`)
  const base = typeof fromFile === 'object' ? fromFile : undefined
  const model = flags.model ?? base?.model
  if (!model) throw new ConfigError('--generator openai needs a model: pass --model <name> or set generator.model in poet.config.json')
  return { ...base, provider: 'openai', model, ...(flags['base-url'] ? { baseURL: flags['base-url'] } : {}) }
}

function readJson(path: string): Options {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Options
  } catch (e) {
    throw new ConfigError(`${path}: not valid JSON (${(e as Error).message})`)
  }
}

async function importConfig(path: string): Promise<Options> {
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown }
  } catch (e) {
    // A syntax error or a missing import in the user's config: the file and the reason, not Node's loader stack.
    throw new ConfigError(`${path}: cannot load it: ${e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e)}`)
  }
  if (!mod.default || typeof mod.default !== 'object') throw new ConfigError(`${path}: must \`export default\` the options object`)
  return mod.default as Options
}
