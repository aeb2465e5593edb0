// One `vite build` of the generated app, as its own process: `node bench/vite-build.mjs <app> plugin|bare [--count] [--no-cache] [--record|--replay <file>] [--out <name>]`.
// It writes <app>/dist-<name> (the mode's name unless --out says otherwise).
// With --count it also counts @babel/parser parses and calls of the plugin's transform handler (prints them as JSON).
// --no-cache turns the plugin's transform cache off (a warm cache parses nothing, so the parse counter needs it off).
// --record saves what the plugin's transform and load hooks returned; --replay builds with a stand-in plugin that serves
// exactly that from memory, and no unplugin-poet at all: what the build costs for the code the plugin adds, without
// any of the plugin's own work (an experiment that splits the two, not how the plugin works).
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const [app, mode] = process.argv.slice(2)
if (!app || (mode !== 'plugin' && mode !== 'bare')) {
  console.error('usage: node bench/vite-build.mjs <app dir> plugin|bare [--count]')
  process.exit(2)
}
const count = process.argv.includes('--count')
const noCache = process.argv.includes('--no-cache')
const flag = (name) => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}
const record = flag('--record')
const replay = flag('--replay')
const recorded = record ? { transform: {}, load: {} } : replay ? JSON.parse(readFileSync(replay, 'utf8')) : undefined
const digest = (id, code) => createHash('sha1').update(id).update('\0').update(code).digest('hex')
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
if (mode === 'plugin' && replay) {
  // The same hooks and filters as the plugin's, answering from the recording.
  plugins.push({
    name: 'replay',
    enforce: 'pre',
    resolveId: { filter: { id: /^virtual:poet\// }, handler: (id) => '\0poet:' + id.slice('virtual:poet/'.length) },
    load: { filter: { id: /^\0poet:/ }, handler: (id) => recorded.load[id] ?? null },
    transform: {
      filter: { id: { include: [/\.[cm]?[jt]sx?$/], exclude: [/node_modules/] }, code: /unplugin-poet\/runtime/ },
      handler: (code, id) => recorded.transform[digest(id, code)] ?? null,
    },
  })
} else if (mode === 'plugin') {
  const { default: poet } = await import('unplugin-poet/vite')
  const plugin = poet(noCache ? { cache: false } : undefined)
  const { transform, load } = plugin
  const handler = transform.handler
  transform.handler = async function (code, id) {
    if (count) counts.transforms++
    const out = await handler.call(this, code, id)
    if (record && out) recorded.transform[digest(id, code)] = { code: out.code, map: out.map }
    return out
  }
  const loadHandler = load.handler
  load.handler = async function (id) {
    const out = await loadHandler.call(this, id)
    if (record && out) recorded.load[id] = out
    return out
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
    outDir: join(app, `dist-${flag('--out') ?? mode}`),
    emptyOutDir: true,
    rolldownOptions: { input: join(app, 'src/main.ts'), output: { entryFileNames: 'main.mjs' } },
  },
})
const buildMs = performance.now() - t0
if (record) writeFileSync(record, JSON.stringify(recorded))
// The whole process's CPU, native bundler threads included: on a crowded machine it tracks the work better than wall time.
const { user, system } = process.cpuUsage()
console.log(JSON.stringify({ buildMs, cpuMs: (user + system) / 1000, ...(count ? counts : {}) }))
