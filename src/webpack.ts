// The Webpack entry: `import poet from 'unplugin-poet/webpack'`.
import { createWebpackPlugin } from 'unplugin'
import { unpluginFactory } from './plugin'
import { withRealContext } from './plugin/virtual'

export default withRealContext(createWebpackPlugin(unpluginFactory))
