// The Rolldown entry: `import poet from 'unplugin-poet/rolldown'`.
import { createRolldownPlugin, type UnpluginInstance } from 'unplugin'
import { unpluginFactory } from './plugin'
import type { Options } from './plugin/options'

// unplugin types every entry as "a plugin or an array of them"; this factory always makes exactly one.
export default createRolldownPlugin(unpluginFactory) as UnpluginInstance<Options | undefined, false>['rolldown']
