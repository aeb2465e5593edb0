// `npm run bench [-- --smoke]`: runs every benchmark side by side in one go and prints (and writes) one table of ratios.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { cpus, totalmem, type as osType, release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const tmp = join(root, 'bench/.tmp')
const smoke = process.argv.includes('--smoke')
const flags = smoke ? ['--smoke'] : []

/** Benchmarks in the order they run; each is bundled from bench/<name>.ts and runs in its own process. */
const BENCHES = ['calls', 'transform', 'build', 'generate', 'collector']
const HELPERS = ['collector-server']

const machine = (() => {
  const cpu = cpus()
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${osType()} ${release()}, Node ${process.version}`
})()

function newest(dir) {
  let t = 0
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) t = Math.max(t, statSync(join(dir, f)).mtimeMs)
  return t
}

/** The build benchmark and the phase modules import the built package: rebuild it when src/ is newer. */
function ensureBuilt() {
  let built = 0
  try {
    built = statSync(join(root, 'dist/runtime.mjs')).mtimeMs
  } catch {}
  if (built > newest(join(root, 'src'))) return
  console.error('building the package (tsdown) …')
  execFileSync(join(root, 'node_modules/.bin/tsdown'), [], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
}

async function bundle(name, from = `bench/${name}.ts`) {
  const outfile = join(tmp, `${name}.mjs`)
  await build({
    entryPoints: [join(root, from)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  })
  return outfile
}

/** Runs one bundled benchmark; its progress goes to stderr, its rows come back on one marked stdout line. */
function runBench(file, args = flags) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('close', (code) => resolve({ code, out }))
  })
}

function rowsOf(name, { code, out }) {
  const line = out.split('\n').find((l) => l.startsWith('@@rows '))
  if (code === 0 && line) return JSON.parse(line.slice('@@rows '.length))
  const tail = out.trim().split('\n').slice(-3).join(' ')
  return [{ what: `${name} benchmark`, baseline: '—', measured: 'failed', ratio: `exit ${code}${tail ? `: ${tail}` : ''}`, target: '—', verdict: 'error' }]
}

/** Runtime size: scripts/size.mjs (the runtime engineer's) measures it; its lines are read back into rows. */
function sizeRows(out) {
  const kb = {}
  for (const line of out.split('\n')) {
    const m = /^(.+?)\s{2,}([\d.]+) kB\s+([\d.]+) kB/.exec(line)
    if (m) kb[m[1].trim()] = Number(m[3])
  }
  const core = kb['unplugin-poet: import { poet }']
  const all = kb['unplugin-poet: everything (all sinks)']
  const cockatiel = kb['cockatiel: retry + timeout']
  const pRetry = kb['p-retry']
  if ([core, all, cockatiel, pRetry].some((x) => x === undefined)) {
    return [{ what: 'runtime min+gz', baseline: '—', measured: 'failed', ratio: `scripts/size.mjs printed no size table: ${out.slice(0, 200)}`, target: '≤ 2.0 kB core', verdict: 'error' }]
  }
  return [
    {
      what: 'runtime min+gz, `import { poet }` (with all sinks)',
      baseline: 'cockatiel retry+timeout; p-retry',
      measured: `${core.toFixed(2)} kB (${all.toFixed(2)} kB)`,
      against: `${cockatiel.toFixed(2)} kB; ${pRetry.toFixed(2)} kB`,
      ratio: `${(cockatiel / core).toFixed(2)}× smaller than cockatiel, ${(pRetry / core).toFixed(2)}× p-retry`,
      target: '≤ 2.0 kB core',
      verdict: core <= 2.0 ? 'pass' : 'miss',
      note: `size: esbuild bundle + minify, gzip -9, via scripts/size.mjs (1 kB = 1024 B).`,
    },
  ]
}

/** The validator benchmark (bench/validators.ts, the types engineer's): its ratio lines become one row. */
function validatorRows(out) {
  const ratio = (label) => {
    const m = new RegExp(`^${label.replace(/[/()]/g, '\\$&')}\\s+([\\d.]+)×`, 'm').exec(out)
    return m ? Number(m[1]) : undefined
  }
  const zod = ratio('zod 4 / generated (valid)')
  const valibot = ratio('valibot / generated (valid)')
  const hand = ratio('generated / hand-written (valid)')
  if (zod === undefined) return [{ what: 'validator alone', baseline: '—', measured: 'failed', ratio: out.trim().split('\n').slice(-2).join(' '), target: '—', verdict: 'error' }]
  return [
    {
      what: 'generated validator alone, 20-field order with 5 lines (bench/validators.ts)',
      baseline: 'zod 4 safeParse; valibot; hand-written',
      measured: 'see ratios',
      ratio: `zod ${zod.toFixed(2)}×, valibot ${valibot?.toFixed(2)}× slower; ${hand?.toFixed(2)}× hand-written`,
      target: '≥ 5× zod',
      verdict: zod >= 5 ? 'pass' : 'miss',
    },
  ]
}

mkdirSync(tmp, { recursive: true })
const started = Date.now()
ensureBuilt()
const files = Object.fromEntries(await Promise.all([...BENCHES, ...HELPERS].map(async (n) => [n, await bundle(n)])))
const rows = []
for (const name of BENCHES) {
  console.error(`${name} …`)
  rows.push(...rowsOf(name, await runBench(files[name])))
  if (name === 'calls') {
    // The validator benchmark has a fixed budget of its own (~10 s): the smoke run skips it, the full run includes it.
    if (smoke) rows.push({ what: 'generated validator alone (bench/validators.ts)', baseline: '—', measured: 'skipped in --smoke', ratio: '—', target: '≥ 5× zod', verdict: 'report' })
    else rows.push(...validatorRows((await runBench(await bundle('validators'), [])).out))
  }
}
console.error('size …')
rows.push(...sizeRows((await runBench(join(root, 'scripts/size.mjs'), [])).out))

const cell = (s) => String(s ?? '').replace(/\|/g, '\\|')
const table = [
  '| what | compared with | ours | theirs | ratio | target | verdict |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${[r.what, r.baseline, r.measured, r.against ?? '—', r.ratio, r.target, r.verdict].map(cell).join(' | ')} |`),
].join('\n')
const notes = rows.filter((r) => r.note).map((r) => `- ${r.note}`)
const seconds = Math.round((Date.now() - started) / 1000)
const doc = [
  `# Benchmarks${smoke ? ' (smoke run: numbers are meaningless)' : ''}`,
  '',
  `\`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${seconds} s. Machine: ${machine}.`,
  '',
  'Every contender ran side by side in the same run; on a shared machine absolute times are noise, the ratios are the headline.',
  'Times are medians; ±x% is the spread (median absolute deviation over runs or rounds, relative to the median).',
  '',
  table,
  '',
  '## How each was measured',
  '',
  ...notes,
  '',
].join('\n')

console.log(`\nMachine: ${machine}\n\n${table}\n`)
const out = smoke ? join(tmp, 'RESULTS.smoke.md') : join(root, 'bench/RESULTS.md')
writeFileSync(out, doc)
console.error(`written to ${out.slice(root.length)} (${seconds} s)`)
process.exitCode = rows.some((r) => r.verdict === 'error') ? 1 : 0
