// The one unplugin factory: wires each bundler's hooks to a PoetContext, and nothing else.
import { resolve } from 'node:path'
import type { UnpluginFactory } from 'unplugin'
import { PoetContext } from './context'
import { RESOLVED_PREFIX } from './ids'
import type { Options } from './options'
import { POET_CODE_FILTER } from './transform'
import { ESBUILD_LOAD_FILTER, LOAD_FILTER, RESOLVE_FILTER, keyOf, mapWebpackScheme, resolveVirtual } from './virtual'

export const unpluginFactory: UnpluginFactory<Options | undefined, false> = (raw) => {
  const ctx = new PoetContext(raw)
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
        const out = await ctx.load(key, (message) => this.warn(message))
        for (const file of out.watchFiles) this.addWatchFile(file)
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
        const out = ctx.transform(code, file, (message) => this.warn(message))
        if (!out) return null
        for (const dep of out.watchFiles) this.addWatchFile(dep)
        return { code: out.code, map: out.map }
      },
    },

    vite: {
      configResolved(config) {
        ctx.setRoot(config.root)
        ctx.serve = config.command === 'serve'
      },
      // Phase modules self-accept and copy a new version into the object the runtime holds: updating just them
      // hot-swaps validation and policy without re-running (or reloading) the code that calls the function.
      async hotUpdate({ file, modules, read }) {
        const stale = await ctx.staleAfterChange(file, read)
        if (stale.length === 0 && resolve(file) !== resolve(ctx.lock.file)) return
        const graph = this.environment.moduleGraph
        const phases = stale.flatMap((key) => graph.getModuleById(RESOLVED_PREFIX + key) ?? [])
        // Nodes that only stand for a watched file (the lock, a types-only file) were never transformed: updating
        // them would propagate to their importers and reload the page, for code that did not change.
        return [...modules.filter((m) => m.transformResult), ...phases]
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

function guessLoader(id: string): 'js' | 'jsx' | 'ts' | 'tsx' {
  const ext = /\.[cm]?([jt]sx?)$/.exec(id)?.[1]
  return ext === 'jsx' || ext === 'ts' || ext === 'tsx' ? ext : 'js'
}
