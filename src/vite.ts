// The Vite entry: `import poet from 'unplugin-poet/vite'`.
import { createVitePlugin } from 'unplugin'
import { unpluginFactory } from './plugin'

export default createVitePlugin(unpluginFactory)
