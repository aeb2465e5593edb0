// Benchmark: the builtin generator's validator against zod 4, valibot and a hand-written check on the same 20-field order (`npm run bench:validators`).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse } from '@babel/parser'
import { Bench } from 'tinybench'
import * as v from 'valibot'
import { z } from 'zod'
import type { Issue, PhaseModule } from '../src/runtime/types'
import { generateBuiltin } from '../src/generators/builtin'
import { renderPhaseModule } from '../src/generators/render'
import { resolveSignature } from '../src/generators/builtin/resolve'
import { TMP } from './lib/harness'

const SOURCE = `
interface Address { street: string; city: string; zip: string; country: 'DE' | 'FR' | 'US' }
interface Line { sku: string; name: string; qty: number; price: number; tags: string[] }
interface Order {
  id: string; customerId: string; status: 'new' | 'paid' | 'shipped'; createdAt: number; updatedAt?: number
  total: number; currency: string; items: Line[]; shipping: Address; billing?: Address
  notes: string | null; priority: number; gift: boolean; coupons: string[]; weights: number[]
  channel: 'web' | 'app'; version: number; flags: boolean[]; score: number; region: string
}
function place(order: Order) {}
`

const address = { street: 'Main St 1', city: 'Berlin', zip: '10115', country: 'DE' }
const order = {
  id: 'o-1',
  customerId: 'c-9',
  status: 'paid',
  createdAt: 1_700_000_000_000,
  total: 99.5,
  currency: 'EUR',
  items: Array.from({ length: 5 }, (_, i) => ({ sku: `sku-${i}`, name: `Item ${i}`, qty: i + 1, price: 9.99, tags: ['a', 'b', 'c'] })),
  shipping: address,
  billing: address,
  notes: null,
  priority: 2,
  gift: false,
  coupons: ['SUMMER'],
  weights: [0.5, 1.25, 2],
  channel: 'web',
  version: 3,
  flags: [true, false],
  score: 0.87,
  region: 'eu-central',
}
const bad = { ...order, items: order.items.map((l, i) => (i === 3 ? { ...l, price: '9.99' } : l)), channel: 'fax' }

async function generated(): Promise<PhaseModule> {
  const file = '/bench/order.ts'
  const ast = parse(SOURCE, { sourceType: 'module', plugins: ['typescript'] })
  const fn = ast.program.body.find((s) => s.type === 'FunctionDeclaration')!
  if (fn.type !== 'FunctionDeclaration') throw new Error('bench source has no function')
  const r = resolveSignature({ file, code: SOURCE, ast, fn })
  const spec = { id: 'bench#place', file, name: 'place', kind: 'function' as const, async: false, params: r.params, returns: r.returns, types: r.types, options: {}, source: SOURCE, signature: r.signature, unresolved: r.unresolved }
  const { source } = renderPhaseModule(spec.id, generateBuiltin(spec))
  // Inside the package, where the module's bare `unplugin-poet/runtime` import resolves to the built runtime.
  const out = join(TMP, 'validators-order-phases.mjs')
  writeFileSync(out, source)
  console.log(`generated phase module: ${out}`)
  return ((await import(pathToFileURL(out).href)) as { default: PhaseModule }).default
}

const zAddress = z.object({ street: z.string(), city: z.string(), zip: z.string(), country: z.enum(['DE', 'FR', 'US']) })
const zOrder = z.object({
  id: z.string(), customerId: z.string(), status: z.enum(['new', 'paid', 'shipped']), createdAt: z.number(), updatedAt: z.number().optional(),
  total: z.number(), currency: z.string(),
  items: z.array(z.object({ sku: z.string(), name: z.string(), qty: z.number(), price: z.number(), tags: z.array(z.string()) })),
  shipping: zAddress, billing: zAddress.optional(), notes: z.string().nullable(), priority: z.number(), gift: z.boolean(),
  coupons: z.array(z.string()), weights: z.array(z.number()), channel: z.enum(['web', 'app']), version: z.number(),
  flags: z.array(z.boolean()), score: z.number(), region: z.string(),
})

const vAddress = v.object({ street: v.string(), city: v.string(), zip: v.string(), country: v.picklist(['DE', 'FR', 'US']) })
const vOrder = v.object({
  id: v.string(), customerId: v.string(), status: v.picklist(['new', 'paid', 'shipped']), createdAt: v.number(), updatedAt: v.optional(v.number()),
  total: v.number(), currency: v.string(),
  items: v.array(v.object({ sku: v.string(), name: v.string(), qty: v.number(), price: v.number(), tags: v.array(v.string()) })),
  shipping: vAddress, billing: v.optional(vAddress), notes: v.nullable(v.string()), priority: v.number(), gift: v.boolean(),
  coupons: v.array(v.string()), weights: v.array(v.number()), channel: v.picklist(['web', 'app']), version: v.number(),
  flags: v.array(v.boolean()), score: v.number(), region: v.string(),
})

/** What a careful developer would write by hand: the same checks, the same issue list, paths built only on failure. */
function handWritten(o: unknown): Issue[] | undefined {
  let issues: Issue[] | undefined
  const fail = (path: string, expected: string, value: unknown) => {
    ;(issues ??= []).push({ path, expected, received: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value })
  }
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
  const strs = (x: unknown, p: string) => {
    if (!Array.isArray(x)) return fail(p, 'string[]', x)
    for (let i = 0; i < x.length; i++) if (typeof x[i] !== 'string') fail(`${p}[${i}]`, 'string', x[i])
  }
  const addr = (a: unknown, p: string) => {
    if (!isObj(a)) return fail(p, 'Address', a)
    if (typeof a.street !== 'string') fail(p + '.street', 'string', a.street)
    if (typeof a.city !== 'string') fail(p + '.city', 'string', a.city)
    if (typeof a.zip !== 'string') fail(p + '.zip', 'string', a.zip)
    if (a.country !== 'DE' && a.country !== 'FR' && a.country !== 'US') fail(p + '.country', '"DE" | "FR" | "US"', a.country)
  }
  if (!isObj(o)) {
    fail('args[0]', 'Order', o)
    return issues
  }
  if (typeof o.id !== 'string') fail('args[0].id', 'string', o.id)
  if (typeof o.customerId !== 'string') fail('args[0].customerId', 'string', o.customerId)
  if (o.status !== 'new' && o.status !== 'paid' && o.status !== 'shipped') fail('args[0].status', '"new" | "paid" | "shipped"', o.status)
  if (typeof o.createdAt !== 'number') fail('args[0].createdAt', 'number', o.createdAt)
  if (o.updatedAt !== undefined) if (typeof o.updatedAt !== 'number') fail('args[0].updatedAt', 'number', o.updatedAt)
  if (typeof o.total !== 'number') fail('args[0].total', 'number', o.total)
  if (typeof o.currency !== 'string') fail('args[0].currency', 'string', o.currency)
  const items = o.items
  if (!Array.isArray(items)) fail('args[0].items', 'Line[]', items)
  else
    for (let i = 0; i < items.length; i++) {
      const l = items[i]
      if (!isObj(l)) {
        fail(`args[0].items[${i}]`, 'Line', l)
        continue
      }
      if (typeof l.sku !== 'string') fail(`args[0].items[${i}].sku`, 'string', l.sku)
      if (typeof l.name !== 'string') fail(`args[0].items[${i}].name`, 'string', l.name)
      if (typeof l.qty !== 'number') fail(`args[0].items[${i}].qty`, 'number', l.qty)
      if (typeof l.price !== 'number') fail(`args[0].items[${i}].price`, 'number', l.price)
      strs(l.tags, `args[0].items[${i}].tags`)
    }
  addr(o.shipping, 'args[0].shipping')
  if (o.billing !== undefined) addr(o.billing, 'args[0].billing')
  if (o.notes !== null && typeof o.notes !== 'string') fail('args[0].notes', 'string | null', o.notes)
  if (typeof o.priority !== 'number') fail('args[0].priority', 'number', o.priority)
  if (typeof o.gift !== 'boolean') fail('args[0].gift', 'boolean', o.gift)
  strs(o.coupons, 'args[0].coupons')
  const w = o.weights
  if (!Array.isArray(w)) fail('args[0].weights', 'number[]', w)
  else for (let i = 0; i < w.length; i++) if (typeof w[i] !== 'number') fail(`args[0].weights[${i}]`, 'number', w[i])
  if (o.channel !== 'web' && o.channel !== 'app') fail('args[0].channel', '"web" | "app"', o.channel)
  if (typeof o.version !== 'number') fail('args[0].version', 'number', o.version)
  const f = o.flags
  if (!Array.isArray(f)) fail('args[0].flags', 'boolean[]', f)
  else for (let i = 0; i < f.length; i++) if (typeof f[i] !== 'boolean') fail(`args[0].flags[${i}]`, 'boolean', f[i])
  if (typeof o.score !== 'number') fail('args[0].score', 'number', o.score)
  if (typeof o.region !== 'string') fail('args[0].region', 'string', o.region)
  return issues
}

const phases = await generated()
const ctx = { functionId: 'bench#place', executionId: 'b', repair: false }
const args = [order]
const badArgs = [bad]
// Sanity: every contender agrees on both inputs before anything is timed.
const verdicts = {
  generated: [phases.perceive!(args, ctx) === undefined, phases.perceive!(badArgs, ctx) === undefined],
  zod: [zOrder.safeParse(order).success, zOrder.safeParse(bad).success],
  valibot: [v.safeParse(vOrder, order).success, v.safeParse(vOrder, bad).success],
  'hand-written': [handWritten(order) === undefined, handWritten(bad) === undefined],
}
for (const [name, [good, wrong]] of Object.entries(verdicts)) {
  if (!good || wrong) throw new Error(`bench: ${name} does not accept the good order and reject the bad one`)
}

const BATCH = 1000
let sink = 0
const bench = new Bench({ name: 'validators', time: 1500, warmup: true })
bench
  .add('generated (valid)', () => {
    for (let i = 0; i < BATCH; i++) sink += phases.perceive!(args, ctx) === undefined ? 1 : 0
  })
  .add('hand-written (valid)', () => {
    for (let i = 0; i < BATCH; i++) sink += handWritten(order) === undefined ? 1 : 0
  })
  .add('zod 4 safeParse (valid)', () => {
    for (let i = 0; i < BATCH; i++) sink += zOrder.safeParse(order).success ? 1 : 0
  })
  .add('valibot safeParse (valid)', () => {
    for (let i = 0; i < BATCH; i++) sink += v.safeParse(vOrder, order).success ? 1 : 0
  })
  .add('generated (invalid)', () => {
    for (let i = 0; i < BATCH; i++) sink += phases.perceive!(badArgs, ctx) === undefined ? 1 : 0
  })
  .add('zod 4 safeParse (invalid)', () => {
    for (let i = 0; i < BATCH; i++) sink += zOrder.safeParse(bad).success ? 1 : 0
  })
await bench.run()

const perOp = (name: string) => {
  const task = bench.getTask(name)
  const result = task?.result as { latency?: { mean: number } } | undefined
  if (!result?.latency) throw new Error(`bench: no result for ${name}`)
  return (result.latency.mean * 1e6) / BATCH
}
const rows = bench.tasks.map((t) => ({ validator: t.name, 'ns/op': perOp(t.name).toFixed(0), 'ops/s': Math.round(1e9 / perOp(t.name)).toLocaleString('en') }))
console.table(rows)

const gen = perOp('generated (valid)')
const ratios = [
  ['zod 4 / generated (valid)', perOp('zod 4 safeParse (valid)') / gen, '≥ 5×'],
  ['valibot / generated (valid)', perOp('valibot safeParse (valid)') / gen, ''],
  ['generated / hand-written (valid)', gen / perOp('hand-written (valid)'), '≤ 1.5×'],
  ['zod 4 / generated (invalid)', perOp('zod 4 safeParse (invalid)') / perOp('generated (invalid)'), ''],
] as const
for (const [label, ratio, target] of ratios) console.log(`${label.padEnd(36)} ${ratio.toFixed(2)}×${target ? `   (target ${target})` : ''}`)
if (sink < 0) console.log(sink)
