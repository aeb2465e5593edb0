// `@poet()` on methods under both decorator modes with the real compiler: it type-checks, and TypeScript's output runs.
import { describe, expect, it } from 'vitest'
import { poet } from '../../src/runtime/index'
import ts from 'typescript'
import { fileURLToPath } from 'node:url'
import { CONSUMER_OPTIONS, typeCheck } from '../helpers/typecheck'

const runtime = fileURLToPath(new URL('../../src/runtime/index.ts', import.meta.url))

function diagnostics(source: string, options: ts.CompilerOptions): string[] {
  const file = fileURLToPath(new URL('./__decorated.ts', import.meta.url))
  const host = ts.createCompilerHost(options)
  const read = host.readFile.bind(host)
  host.readFile = (f) => (f === file ? source : read(f))
  const exists = host.fileExists.bind(host)
  host.fileExists = (f) => f === file || exists(f)
  return typeCheck([file], options, host).get(file)!
}

const source = `
import { poet } from ${JSON.stringify(runtime.replace(/\.ts$/, ''))}
class Pricing {
  rate = 2
  @poet({ domain: 'financial_services' })
  async quote(amount: number): Promise<number> { return amount * this.rate }
  @poet()
  sum(xs: number[]): number { return xs.length }
}
const n: Promise<number> = new Pricing().quote(1)
const s: number = new Pricing().sum([1])
export { n, s }
`

describe('@poet() type-checks', () => {
  it('with TC39 standard decorators', () => {
    expect(diagnostics(source, CONSUMER_OPTIONS)).toEqual([])
  })

  it('with experimentalDecorators', () => {
    expect(diagnostics(source, { ...CONSUMER_OPTIONS, experimentalDecorators: true })).toEqual([])
  })

  it('and a misuse is still caught (the check is real)', () => {
    expect(diagnostics(source.replace("@poet()\n  sum", "@poet({ attempts: 'x' })\n  sum"), CONSUMER_OPTIONS)).toEqual(["Type 'string' is not assignable to type 'number'."])
  })
})

/** Compiles `body` (a function body declaring a decorated class) with TypeScript, then runs it with the real `poet`. */
function compileAndRun(body: string, options: ts.CompilerOptions): unknown {
  const { outputText } = ts.transpileModule(`export function run() {${body}}`, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, ...options },
  })
  const exports: { run?: () => unknown } = {}
  new Function('exports', 'poet', outputText)(exports, poet)
  return exports.run!()
}

const decorated = `
  class Pricing {
    rate = 2
    failures = 1
    @poet({ attempts: 2 })
    quote(n: number) {
      if (this.failures-- > 0) throw new Error('flaky')
      return n * this.rate
    }
    @poet()
    static describe() { return this.name }
  }
  const p = new Pricing()
  return [p.quote(21), p.failures, Pricing.describe(), p.quote.name]
`

describe("@poet() in TypeScript's own output", () => {
  it('runs as a standard decorator (TypeScript lowers it for ES2022)', () => {
    expect(compileAndRun(decorated, { target: ts.ScriptTarget.ES2022 })).toEqual([42, -1, 'Pricing', 'quote'])
  })

  it('runs as a legacy experimentalDecorators decorator', () => {
    expect(compileAndRun(decorated, { target: ts.ScriptTarget.ES2022, experimentalDecorators: true })).toEqual([42, -1, 'Pricing', 'quote'])
  })
})
