// The Rolldown entry: `import poet from 'unplugin-poet/rolldown'`.
import { createRolldownPlugin } from 'unplugin'
import { unpluginFactory } from './plugin'

export default createRolldownPlugin(unpluginFactory)
