// Regenerates docs/domains.md and the domains table in README.md from the domain registry (`--check` fails instead when either is out of date).
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

// The registry is TypeScript: bundle it in memory rather than depend on a build of the whole package.
const out = await build({
  entryPoints: [`${root}src/generators/builtin/domains/index.ts`],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
})
const mod = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`)

const read = (file) => {
  try {
    return readFileSync(`${root}${file}`, 'utf8')
  } catch {
    return ''
  }
}
const targets = [
  ['docs/domains.md', mod.domainsDocument()],
  // The README embeds the table between markers; without them it is left alone.
  ['README.md', mod.withDomainsTable(read('README.md'))],
]

const check = process.argv.includes('--check')
let stale = 0
for (const [file, text] of targets) {
  if (read(file) === text) continue
  if (check) {
    console.error(`${file} is out of date: run \`node scripts/domains-table.mjs\``)
    stale++
  } else {
    writeFileSync(`${root}${file}`, text)
    console.log(`wrote ${file}`)
  }
}
process.exit(stale ? 1 : 0)
