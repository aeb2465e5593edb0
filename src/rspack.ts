// The Rspack entry: `import poet from 'unplugin-poet/rspack'`.
import { createRspackPlugin } from 'unplugin'
import { unpluginFactory } from './plugin'

export default createRspackPlugin(unpluginFactory)
