// Writes the generated TypeScript app the build benchmark bundles: N modules, every (N/poets)-th one holding a poet function.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './harness'

export interface AppShape {
  modules: number
  /** How many of the modules hold a poet-marked function. */
  poets: number
}

/**
 * How the marked functions are made reliable: `poet` marks them with poet(); `zod` validates their arguments and result
 * with zod 4 schemas written by hand, as a developer would without POET (the comparison the build benchmark reports).
 */
export type Flavour = 'poet' | 'zod'

/** Module i: ordinary typed code, or (for every k-th) the same code with its function marked by poet() or checked by zod. */
export function moduleSource(i: number, marked: boolean, flavour: Flavour = 'poet'): string {
  const kind = ['sum', 'mean', 'max'][i % 3]!
  const body = `
export interface Item${i} { id: string; qty: number; price: number; tags: string[]; discount?: number }
export type Mode${i} = 'gross' | 'net'

const RATE_${i} = ${(i % 17) / 100 + 0.05}

function lineTotal${i}(item: Item${i}, mode: Mode${i}): number {
  const base = item.qty * item.price
  const off = item.discount ?? 0
  return mode === 'gross' ? base * (1 + RATE_${i}) - off : base - off
}

export function label${i}(items: Item${i}[]): string {
  return items.map((it) => \`\${it.id}:\${it.tags.join('|')}\`).join(',')
}
`
  const fn = `function total${i}(items: Item${i}[], mode: Mode${i}): number {
  const totals = items.map((it) => lineTotal${i}(it, mode))
  ${kind === 'sum' ? 'return totals.reduce((a, b) => a + b, 0)' : kind === 'mean' ? 'return totals.length ? totals.reduce((a, b) => a + b, 0) / totals.length : 0' : 'return totals.length ? Math.max(...totals) : 0'}
}`
  if (!marked) return `${body}\nexport ${fn}\n`
  if (flavour === 'zod') {
    return `import { z } from 'zod'\n${body}
const Args${i} = z.tuple([
  z.array(z.object({ id: z.string(), qty: z.number(), price: z.number(), tags: z.array(z.string()), discount: z.number().optional() })),
  z.enum(['gross', 'net']),
])
const Result${i} = z.number()

${fn.replace(`function total${i}(`, `function compute${i}(`)}

export function total${i}(items: Item${i}[], mode: Mode${i}): number {
  Args${i}.parse([items, mode])
  return Result${i}.parse(compute${i}(items, mode))
}
`
  }
  return `import { poet } from 'unplugin-poet/runtime'\n${body}\nexport const total${i} = poet({ attempts: 2 })(\n  ${fn.replace(/\n/g, '\n  ')},\n)\n`
}

/**
 * A floor for what any generated validation of a marked function can cost the build: the phase module of the function
 * with id `id`, holding only the type tests its perceive and enforce must make (each array element's five fields, the
 * mode, the result), straight-line as DESIGN §5 asks, with every failure recorded as a bare number (no paths, expected
 * types or received values to build). Not something poet could ship; the build benchmark measures it to show how much
 * of the plugin's cost is the checks themselves.
 */
export function floorPhases(id: string): string {
  return `import { addIssue as E } from "unplugin-poet/runtime"
export default {
  id: ${JSON.stringify(id)}, version: "floor", generator: "builtin", policy: { attempts: 2 },
  perceive(args) {
    let s
    const a = args[0]
    if (!Array.isArray(a)) s = E(s, 1)
    else for (let i = 0; i < a.length; i++) {
      const v = a[i]
      if (v == null) { s = E(s, 2); continue }
      typeof v.id === "string" || (s = E(s, 3))
      typeof v.qty === "number" || (s = E(s, 4))
      typeof v.price === "number" || (s = E(s, 5))
      const t = v.tags
      if (!Array.isArray(t)) s = E(s, 6)
      else for (let j = 0; j < t.length; j++) typeof t[j] === "string" || (s = E(s, 7))
      v.discount === undefined || typeof v.discount === "number" || (s = E(s, 8))
    }
    const m = args[1]
    m === "gross" || m === "net" || (s = E(s, 9))
    return s
  },
  enforce(r) {
    return typeof r === "number" ? undefined : E(undefined, 10)
  },
}
`
}

/** The entry: imports every module, runs every function once, and reports whether poet rejected a wrong argument. */
function mainSource(shape: AppShape, marked: (i: number) => boolean, flavour: Flavour): string {
  const lines: string[] = []
  for (let i = 0; i < shape.modules; i++) lines.push(`import { total${i}, label${i} } from './m/m${i}'`)
  const first = [...Array(shape.modules).keys()].find(marked)!
  lines.push(
    '',
    `const items = [{ id: 'a', qty: 2, price: 3.5, tags: ['x'] }, { id: 'b', qty: 1, price: 10, tags: [], discount: 1 }]`,
    'let total = 0',
    'let labels = 0',
  )
  for (let i = 0; i < shape.modules; i++) lines.push(`total += total${i}(items, ${i % 2 ? "'net'" : "'gross'"}); labels += label${i}(items).length`)
  lines.push(
    'let rejected = false',
    // With the plugin, generated perceive rejects a string qty before the call (zod's schema too); without either the call just runs.
    `try { total${first}([{ id: 'c', qty: '2' as unknown as number, price: 1, tags: [] }], 'net') } catch (e) { rejected = (e as Error).name === '${flavour === 'zod' ? 'ZodError' : 'PoetInputError'}' }`,
    'console.log(JSON.stringify({ total: Math.round(total * 100) / 100, labels, rejected }))',
    '',
  )
  return lines.join('\n')
}

/** Writes the app into `dir` (replacing what was there) with `node_modules/unplugin-poet` linked to this package (and zod to ours). */
export function writeApp(dir: string, shape: AppShape, flavour: Flavour = 'poet'): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'src/m'), { recursive: true })
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(ROOT, join(dir, 'node_modules/unplugin-poet'), 'dir')
  symlinkSync(join(ROOT, 'node_modules/zod'), join(dir, 'node_modules/zod'), 'dir')
  const every = Math.floor(shape.modules / shape.poets)
  const marked = (i: number) => i % every === 0 && i / every < shape.poets
  for (let i = 0; i < shape.modules; i++) writeFileSync(join(dir, `src/m/m${i}.ts`), moduleSource(i, marked(i), flavour))
  writeFileSync(join(dir, 'src/main.ts'), mainSource(shape, marked, flavour))
}
