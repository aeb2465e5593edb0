// The Vite and Rolldown entries without unplugin at run time: these bundlers take the factory's hook objects as they are.
import type { UnpluginFactory, UnpluginOptions } from 'unplugin'

/**
 * What unplugin's own Vite and Rolldown adapters do with a factory that returns one plugin, and nothing else: both
 * bundlers run hook `filter`s natively (unplugin emulates them only for Rollup before 4.40, webpack, rspack and
 * esbuild, which keep unplugin), so the hooks pass through untouched and the bundler's own key is merged on top.
 * Importing unplugin costs a Vite build more than everything else the plugin does at startup (~10 ms).
 */
export function rollupFamilyPlugin<Options, Plugin>(
  framework: 'vite' | 'rolldown',
  factory: UnpluginFactory<Options, false>,
): (options?: Options) => Plugin {
  return (options) => {
    const plugin: UnpluginOptions = factory(options as Options, { framework, versions: {} })
    // unplugin keeps the other bundlers' keys on the object too; so does this, so the two give the same plugin.
    Object.assign(plugin, plugin[framework])
    return plugin as Plugin
  }
}
