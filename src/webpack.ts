// The Webpack entry: `import poet from 'unplugin-poet/webpack'`.
import { createWebpackPlugin } from 'unplugin'
import { unpluginFactory } from './plugin'

export default createWebpackPlugin(unpluginFactory)
