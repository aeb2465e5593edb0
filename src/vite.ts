// The Vite entry: `import poet from 'unplugin-poet/vite'`.
import type { UnpluginInstance } from 'unplugin'
import { unpluginFactory } from './plugin'
import { rollupFamilyPlugin } from './plugin/adapter'
import type { Options } from './plugin/options'

export default rollupFamilyPlugin('vite', unpluginFactory) as UnpluginInstance<Options | undefined, false>['vite']
