// The Rollup entry: `import poet from 'unplugin-poet/rollup'`.
import { createRollupPlugin } from 'unplugin'
import { unpluginFactory } from './plugin'

export default createRollupPlugin(unpluginFactory)
