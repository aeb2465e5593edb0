// `npm run demo`: builds the package and the playground (Vite, builtin generator, no network), then runs the scenario.
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const playground = join(root, 'playground')

// Bold on a terminal only: piped into a file or a CI log, escape codes are noise.
const bold = process.stdout.isTTY ? (s) => `\x1b[1m${s}\x1b[0m` : (s) => s

function step(title) {
  console.log(`\n${bold(`▸ ${title}`)}`)
}

function run(cmd, args, { quiet = false } = {}) {
  const r = spawnSync(cmd, args, { stdio: quiet ? 'pipe' : 'inherit', cwd: root, encoding: 'utf8' })
  if (r.status !== 0) {
    if (quiet) process.stderr.write(r.stdout + r.stderr)
    process.exit(r.status ?? 1)
  }
}

step('Building unplugin-poet (tsdown)')
run(process.execPath, [join(root, 'node_modules/tsdown/dist/run.mjs')], { quiet: true })
console.log('  dist/ ready')

// The playground imports `unplugin-poet` as any user project would: through node_modules.
const link = join(playground, 'node_modules', 'unplugin-poet')
if (!existsSync(link)) {
  mkdirSync(dirname(link), { recursive: true })
  try {
    lstatSync(link)
  } catch {
    symlinkSync(relative(dirname(link), root), link, 'dir')
  }
}

step('Building the playground with Vite: the browser app and its Node entry')
const { buildPlayground } = await import('../playground/build.mjs')
const { nodeEntry, lockFile } = await buildPlayground(playground)

const lock = JSON.parse(readFileSync(lockFile, 'utf8'))
const ids = Object.keys(lock.functions)
console.log(`  ${ids.length} poet functions, phases locked in playground/.poet/lock.json:`)
for (const id of ids) {
  const entry = lock.functions[id]
  console.log(`    ${id}  ${entry.current}  (${entry.versions[entry.current].generator})`)
}

step('Running the scenario (Node entry)')
run(process.execPath, ['--enable-source-maps', nodeEntry])

// A first run ends here: say where to look and what to try, rather than leave the reader at a green line.
step('Next')
for (const [what, why] of [
  ['npx vite playground', 'the same calls in a browser, each call and rating on the dashboard at /__poet/'],
  ['npx poet status --root playground', 'the poet functions, their versions, and what is stale'],
  ['playground/.poet/phases/', 'the generated perceive/enforce code, committed like a lockfile'],
  ['playground/src/', 'the marked functions: change a type or an option and run the demo again'],
]) {
  console.log(`  ${what.padEnd(36)}${why}`)
}
