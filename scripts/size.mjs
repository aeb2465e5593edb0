// Prints the runtime's min+gz size (esbuild bundle + minify, then gzip) beside cockatiel and p-retry: `npm run size`.
import { existsSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const runtime = JSON.stringify(`${root}src/runtime/index.ts`)
const dist = `${root}dist/runtime.mjs`
const TARGET = 2048

const cases = [
  ['unplugin-poet: import { poet }', `export { poet } from ${runtime}`],
  ['unplugin-poet: poet + feedback + configure', `export { poet, feedback, configure } from ${runtime}`],
  ['unplugin-poet: + httpSink', `export { poet, feedback, configure, httpSink } from ${runtime}`],
  ['unplugin-poet: everything (all sinks)', `export * from ${runtime}`],
  // What users import: the built runtime, when `npm run build` has made it.
  ...(existsSync(dist) ? [['unplugin-poet (dist/runtime.mjs): import { poet }', `export { poet } from ${JSON.stringify(dist)}`]] : []),
  ['cockatiel: retry + timeout', `export { retry, timeout, wrap, handleAll, ExponentialBackoff, TimeoutStrategy } from 'cockatiel'`],
  ['p-retry', `export { default } from 'p-retry'`],
]

async function measure(contents) {
  const out = await build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  })
  const code = out.outputFiles[0].contents
  return { min: code.length, gz: gzipSync(code, { level: 9 }).length }
}

const kB = (n) => (n / 1024).toFixed(2) + ' kB'
const bytes = (n) => `${n} B`
const rows = []
for (const [name, contents] of cases) {
  try {
    rows.push({ name, ...(await measure(contents)) })
  } catch (e) {
    rows.push({ name, error: e.errors?.[0]?.text ?? e.message })
  }
}
const poetGz = rows[0].gz
const w = Math.max(...rows.map((r) => r.name.length))
console.log(`${'bundle'.padEnd(w)}  ${'min'.padStart(9)}  ${'min+gz'.padStart(9)}  vs poet`)
for (const r of rows) {
  if (r.error) console.log(`${r.name.padEnd(w)}  could not bundle: ${r.error}`)
  else console.log(`${r.name.padEnd(w)}  ${kB(r.min).padStart(9)}  ${kB(r.gz).padStart(9)}  ${(r.gz / poetGz).toFixed(2)}×`)
}
const verdict = poetGz <= TARGET ? 'within' : 'OVER'
console.log(`\nimport { poet }: ${kB(poetGz)} (${bytes(poetGz)}) min+gz, ${verdict} the ${kB(TARGET)} target (${((poetGz / TARGET) * 100).toFixed(0)}%).`)
