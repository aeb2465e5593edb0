// The Rollup entry: `import poet from 'unplugin-poet/rollup'`.
import { createRollupPlugin, type UnpluginInstance } from 'unplugin'
import { unpluginFactory } from './plugin'
import type { Options } from './plugin/options'

// unplugin types every entry as "a plugin or an array of them"; this factory always makes exactly one.
export default createRollupPlugin(unpluginFactory) as UnpluginInstance<Options | undefined, false>['rollup']
