// The Rspack entry: `import poet from 'unplugin-poet/rspack'`.
import { createRspackPlugin } from 'unplugin'
import { unpluginFactory } from './plugin'
import { withRealContext } from './plugin/virtual'

export default withRealContext(createRspackPlugin(unpluginFactory))
