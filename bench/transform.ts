// Benchmark: the plugin's transform of a module holding poet functions beside esbuild's own transform of it, with the parse's share.
import { join } from 'node:path'
import { transformSync } from 'esbuild'
import { DomainRegistry } from '../src/generators/builtin/domains'
import { scanPoetCalls, parseModule } from '../src/plugin/scan'
import { transformPoet, type TransformContext } from '../src/plugin/transform'
import { moduleSource } from './lib/app'
import { emit, micro, time, times, TMP, type Row } from './lib/harness'

// A module as the app benchmark writes them, with three poet functions instead of one.
const code = [0, 1, 2]
  .map((i) => moduleSource(i, true).replace(i ? /^import .*\n/ : /^$/, ''))
  .join('\n')
const plain = moduleSource(3, false)
const file = join(TMP, 'app/src/m/m0.ts')
const ctx: TransformContext = { root: join(TMP, 'app'), domains: new DomainRegistry(), warn: () => {} }
const where = { file, displayPath: 'src/m/m0.ts', code }

const out = transformPoet(code, file, ctx)
if (!out || out.specs.length !== 3) throw new Error(`bench: the plugin found ${out?.specs.length ?? 0} poet functions in the module, expected 3`)
if (transformPoet(plain, file, ctx) !== null) throw new Error('bench: the plugin transformed a module without poet')

const BATCH = 10
let sink = 0
const r = await micro(
  {
    'plugin transform': () => {
      for (let i = 0; i < BATCH; i++) sink += transformPoet(code, file, ctx)!.code.length
    },
    'esbuild transform': () => {
      for (let i = 0; i < BATCH; i++) sink += transformSync(code, { loader: 'ts', sourcemap: true, sourcefile: file }).code.length
    },
    'babel parse': () => {
      for (let i = 0; i < BATCH; i++) sink += parseModule(code, where).program.body.length
    },
    'scan (parse + find sites)': () => {
      for (let i = 0; i < BATCH; i++) sink += scanPoetCalls(code, where)!.sites.length
    },
    'plugin on a plain module': () => {
      for (let i = 0; i < BATCH; i++) sink += transformPoet(plain, file, ctx) === null ? 1 : 0
    },
  },
  BATCH,
)
if (Number.isNaN(sink)) throw new Error('unreachable: keeps the results alive')

const ns = (k: string) => r[k]!.median
const t = r['plugin transform']!
const e = r['esbuild transform']!
const rest = ns('plugin transform') - ns('scan (parse + find sites)')
const rows: Row[] = [
  {
    what: `plugin transform of a module with 3 poet functions (${code.split('\n').length} lines)`,
    baseline: "esbuild's transform of that module",
    measured: time(t.median, t.spread),
    against: time(e.median, e.spread),
    ratio: times(t.median / e.median),
    target: 'report',
    verdict: 'report',
    note:
      `plugin transform: babel parse ${time(ns('babel parse'))} (${((ns('babel parse') / t.median) * 100).toFixed(0)}%), ` +
      `finding the sites ${time(ns('scan (parse + find sites)') - ns('babel parse'))}, options + signatures + rewrite + hires source map ${time(rest)} ` +
      `(${((rest / t.median) * 100).toFixed(0)}%); a module without the runtime import costs ${time(ns('plugin on a plain module'))} (a string search). ` +
      `esbuild in-process via transformSync (its service round trip included), with a source map like the plugin's.`,
  },
]
emit(rows)
