// The Vite entry: `import poet from 'unplugin-poet/vite'`.
import { createVitePlugin, type UnpluginInstance } from 'unplugin'
import { unpluginFactory } from './plugin'
import type { Options } from './plugin/options'

// unplugin types every entry as "a plugin or an array of them"; this factory always makes exactly one.
export default createVitePlugin(unpluginFactory) as UnpluginInstance<Options | undefined, false>['vite']
