// The Esbuild entry: `import poet from 'unplugin-poet/esbuild'`.
import { createEsbuildPlugin } from 'unplugin'
import { unpluginFactory } from './plugin'

export default createEsbuildPlugin(unpluginFactory)
