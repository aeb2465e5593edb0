// The Rolldown entry: `import poet from 'unplugin-poet/rolldown'`.
import type { UnpluginInstance } from 'unplugin'
import { unpluginFactory } from './plugin'
import { rollupFamilyPlugin } from './plugin/adapter'
import type { Options } from './plugin/options'

export default rollupFamilyPlugin('rolldown', unpluginFactory) as UnpluginInstance<Options | undefined, false>['rolldown']
