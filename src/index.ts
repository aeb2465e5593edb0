// The package root: the unplugin instance with a method per bundler, and the plugin's option types.
import { createUnplugin } from 'unplugin'
import { unpluginFactory } from './plugin'

export type { Options } from './plugin/options'
export type { PoetOptions } from './runtime/types'

const unplugin = createUnplugin(unpluginFactory)
export default unplugin
