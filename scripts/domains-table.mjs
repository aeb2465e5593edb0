// Regenerates docs/domains.md from the domain registry (`--check` fails instead when the file is out of date).
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const target = `${root}docs/domains.md`

// The registry is TypeScript: bundle it in memory rather than depend on a build of the whole package.
const out = await build({
  entryPoints: [`${root}src/generators/builtin/domains/index.ts`],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
})
const mod = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`)
const text = mod.domainsDocument()

if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(target, 'utf8')
  } catch {}
  if (current !== text) {
    console.error('docs/domains.md is out of date: run `node scripts/domains-table.mjs`')
    process.exit(1)
  }
} else {
  writeFileSync(target, text)
  console.log('wrote docs/domains.md')
}
