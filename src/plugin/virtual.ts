// Phase modules as virtual modules: recognising `virtual:poet/<key>`, its resolved `\0poet:<key>` form, and per-bundler fixes.
import { realpathSync } from 'node:fs'
import type { Compiler } from 'webpack'
import { RESOLVED_PREFIX, VIRTUAL_PREFIX } from './ids'

/**
 * Ids the resolveId hook answers: the public `virtual:poet/<key>`, and the resolved form itself, which is what
 * webpack asks for after {@link mapWebpackScheme} rewrote the request.
 */
export const RESOLVE_FILTER = /^(?:virtual:poet\/|\0poet:)/
/** Ids the load hook answers. */
export const LOAD_FILTER = /^\0poet:/
/** esbuild's onLoad filter: source files the transform may touch, and phase modules. */
export const ESBUILD_LOAD_FILTER = /\.[cm]?[jt]sx?$|^\0poet:/

/**
 * Keys of the Vite dev server's own modules start with `~~`, which `encodeKey` never yields, so no function has one.
 * Defined here so the factory knows them without loading the dev server.
 */
export const DEV_KEY_PREFIX = '~~'
/** The dev client: points the runtime at the Vite dev server (served by dev-server.ts). */
export const DEV_CLIENT_KEY = '~~dev'
/** Keeps poet functions stable across hot updates of their modules (served by dev-server.ts, from dev-hot.ts). */
export const DEV_HOT_KEY = '~~hot'

/** `virtual:poet/<key>` or `\0poet:<key>` → `\0poet:<key>`; anything else → undefined. */
export function resolveVirtual(id: string): string | undefined {
  if (id.startsWith(VIRTUAL_PREFIX)) return RESOLVED_PREFIX + id.slice(VIRTUAL_PREFIX.length)
  if (id.startsWith(RESOLVED_PREFIX)) return id
  return undefined
}

/** The key inside a resolved phase-module id, or undefined for any other id. */
export function keyOf(resolvedId: string): string | undefined {
  return resolvedId.startsWith(RESOLVED_PREFIX) ? resolvedId.slice(RESOLVED_PREFIX.length) : undefined
}

/**
 * webpack reads `virtual:` as a URI scheme and fails with UnhandledSchemeError before any resolver plugin runs,
 * so the request is rewritten to the resolved form before resolution starts.
 */
export function mapWebpackScheme(compiler: Compiler): void {
  new compiler.webpack.NormalModuleReplacementPlugin(/^virtual:poet\//, (data) => {
    data.request = RESOLVED_PREFIX + data.request.slice(VIRTUAL_PREFIX.length)
  }).apply(compiler)
}

/**
 * unplugin keeps webpack's and rspack's phase modules as in-memory files under the compiler's `context` as it is when
 * the plugin applies, and both bundlers then resolve each to its real path: through a symlinked context that is
 * another path, and every phase module fails with ENOENT. So unplugin applies with the real context; the compiler's
 * own is left as the user set it.
 */
export function withRealContext<Options, Plugin extends { apply(compiler: never): void }>(
  create: (options?: Options) => Plugin,
): (options?: Options) => Plugin {
  return (options) => {
    const plugin = create(options)
    return {
      ...plugin,
      apply(compiler: { options: { context?: string } }) {
        const given = compiler.options.context
        const real = given === undefined ? undefined : realPath(given)
        if (real === given) return plugin.apply(compiler as never)
        compiler.options.context = real
        try {
          plugin.apply(compiler as never)
        } finally {
          compiler.options.context = given
        }
      },
    }
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    // a context that does not exist: the bundler itself reports it
    return path
  }
}
