// The one unplugin factory: wires each bundler's hooks to a PoetContext, and nothing else.
import type { UnpluginFactory } from 'unplugin'
import { PoetContext } from './context'
import { DEV_CLIENT_KEY, DevServer } from './dev-server'
import { PoetBuildError } from './errors'
import type { Options } from './options'
import { POET_CODE_FILTER } from './transform'
import { ESBUILD_LOAD_FILTER, LOAD_FILTER, RESOLVE_FILTER, keyOf, mapWebpackScheme, resolveVirtual } from './virtual'

export const unpluginFactory: UnpluginFactory<Options | undefined, false> = (raw) => {
  const ctx = new PoetContext(raw)
  const dev = new DevServer(ctx)
  const { include, exclude } = ctx.options

  return {
    name: 'unplugin-poet',
    enforce: 'pre',

    resolveId: {
      filter: { id: RESOLVE_FILTER },
      handler: (id) => resolveVirtual(id) ?? null,
    },

    load: {
      filter: { id: LOAD_FILTER },
      async handler(id) {
        const key = keyOf(id)
        if (key === undefined) return null
        if (key === DEV_CLIENT_KEY) return { code: dev.clientModule(), map: null }
        const out = await ctx.load(key, (message) => this.warn(message))
        for (const file of out.watchFiles) this.addWatchFile(file)
        dev.loaded(key, out.code)
        return { code: out.code, map: null }
      },
    },

    // unplugin runs these filters natively (Vite, Rolldown, Rollup ≥ 4.40) or emulates them (webpack, rspack,
    // esbuild), so a module without the runtime import never reaches the parser on any bundler.
    transform: {
      filter: { id: { include, exclude }, code: POET_CODE_FILTER },
      handler(code, id) {
        const file = id.replace(/[?#].*$/, '')
        // Build errors are thrown, not passed to this.error: not every bundler stops on this.error.
        const out = withWritableId(() => ctx.transform(code, file, (message) => this.warn(message)))
        if (!out) return null
        for (const dep of out.watchFiles) this.addWatchFile(dep)
        dev.remember(file, code, out.watchFiles)
        return { code: dev.decorate(out.code), map: out.map }
      },
    },

    vite: {
      configResolved(config) {
        ctx.setRoot(config.root)
        ctx.serve = config.command === 'serve'
      },
      configureServer: (server) => dev.configureServer(server),
      hotUpdate(update) {
        return dev.hotUpdate(this.environment, update)
      },
    },
    rolldown: {
      options(input) {
        if (input.cwd) ctx.setRoot(input.cwd)
      },
    },
    webpack(compiler) {
      ctx.setRoot(compiler.context)
      mapWebpackScheme(compiler)
    },
    rspack(compiler) {
      ctx.setRoot(compiler.context)
    },
    esbuild: {
      onResolveFilter: RESOLVE_FILTER,
      onLoadFilter: ESBUILD_LOAD_FILTER,
      loader: (_code, id) => (keyOf(id) === undefined ? guessLoader(id) : 'js'),
      config(options) {
        if (options.absWorkingDir) ctx.setRoot(options.absWorkingDir)
      },
    },
  }
}

/**
 * Rollup assigns `error.id` on errors thrown from a transform; PoetBuildError exposes `id` as a getter, which
 * would turn the assignment into a TypeError that hides the real message. An own writable copy avoids that.
 */
function withWritableId<T>(fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof PoetBuildError) Object.defineProperty(error, 'id', { value: error.id, writable: true })
    throw error
  }
}

function guessLoader(id: string): 'js' | 'jsx' | 'ts' | 'tsx' {
  const ext = /\.[cm]?([jt]sx?)$/.exec(id)?.[1]
  return ext === 'jsx' || ext === 'ts' || ext === 'tsx' ? ext : 'js'
}
