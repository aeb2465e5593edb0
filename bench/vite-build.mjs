// One `vite build` of the generated app, as its own process: `node bench/vite-build.mjs <app> plugin|bare [--count]`.
// With --count it also counts @babel/parser parses and calls of the plugin's transform handler (prints them as JSON).
import { createRequire } from 'node:module'
import { join } from 'node:path'

const [app, mode] = process.argv.slice(2)
if (!app || (mode !== 'plugin' && mode !== 'bare')) {
  console.error('usage: node bench/vite-build.mjs <app dir> plugin|bare [--count]')
  process.exit(2)
}
const count = process.argv.includes('--count')
const counts = { parses: 0, transforms: 0 }

if (count) {
  // @babel/parser is CommonJS: wrapping its export before the plugin's ESM import binds it makes every parse visible.
  const babel = createRequire(new URL('../package.json', import.meta.url))('@babel/parser')
  const parse = babel.parse
  babel.parse = (...args) => {
    counts.parses++
    return parse(...args)
  }
}

const { build } = await import('vite')
const plugins = []
if (mode === 'plugin') {
  const { default: poet } = await import('unplugin-poet/vite')
  const plugin = poet()
  if (count) {
    const handler = plugin.transform.handler
    plugin.transform.handler = function (...args) {
      counts.transforms++
      return handler.apply(this, args)
    }
  }
  plugins.push(plugin)
}

const t0 = performance.now()
await build({
  configFile: false,
  root: app,
  logLevel: 'silent',
  plugins,
  build: {
    outDir: join(app, `dist-${mode}`),
    emptyOutDir: true,
    rolldownOptions: { input: join(app, 'src/main.ts'), output: { entryFileNames: 'main.mjs' } },
  },
})
const buildMs = performance.now() - t0
// The whole process's CPU, native bundler threads included: on a crowded machine it tracks the work better than wall time.
const { user, system } = process.cpuUsage()
console.log(JSON.stringify({ buildMs, cpuMs: (user + system) / 1000, ...(count ? counts : {}) }))
