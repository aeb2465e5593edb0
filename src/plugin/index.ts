// The one unplugin factory: wires bundler hooks to the plugin context.
import type { UnpluginFactory } from 'unplugin'
import type { Options } from './options'

export const unpluginFactory: UnpluginFactory<Options | undefined> = () => ({
  name: 'unplugin-poet',
  enforce: 'pre',
})
