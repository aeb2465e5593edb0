import { describe, expect, it } from 'vitest'
import { resolveSignature, type ResolvedSignature } from '../../../src/generators/builtin/resolve'
import { stripJsonComments } from '../../../src/generators/builtin/tsconfig-paths'
import { findFunction, parseTs } from './harness'

const ORDER = `export interface Order { id: string; qty: number }\n`
const ORDER_IR = { kind: 'objectType', name: 'Order', properties: [{ name: 'id', type: { kind: 'string' }, optional: false }, { name: 'qty', type: { kind: 'number' }, optional: false }] }

/** Resolves `f` in /app/src/main.ts of an in-memory project rooted at /app (or `root`, the files moved with it). */
function resolveF(code: string, files: Record<string, string>, root = '/app'): ResolvedSignature & { reads: string[] } {
  const ast = parseTs(code)
  const reads: string[] = []
  const readFile = (p: string) => {
    reads.push(p)
    return files[p.replace(root, '/app')]
  }
  return { ...resolveSignature({ file: `${root}/src/main.ts`, code, ast, fn: findFunction(ast, 'f'), readFile, root }), reads }
}

describe('resolveSignature: tsconfig.json paths', () => {
  it("follows an `@/*` alias of the project's tsconfig.json (comments and trailing commas as tsc allows), through an index re-export", () => {
    const r = resolveF(`import type { Order } from '@/types'\nfunction f(o: Order) {}`, {
      '/app/tsconfig.json': `{
        // Vite's templates write comments here
        "compilerOptions": {
          /* and here */ "paths": { "@/*": ["./src/*"], },
        },
      }`,
      '/app/src/types/index.ts': `export * from './order'\n`,
      '/app/src/types/order.ts': ORDER,
    })
    expect(r.params[0]!.type).toEqual({ kind: 'ref', name: 'Order' })
    expect(r.types.Order).toEqual(ORDER_IR)
    expect(r.unresolved.filter((u) => u.path !== 'result')).toEqual([])
    // A change to the config changes what the alias names: the build must watch it.
    expect(r.dependencies).toEqual(['/app/src/types/index.ts', '/app/src/types/order.ts', '/app/tsconfig.json'])
  })

  it("takes the paths of a solution-style tsconfig.json's referenced config (Vite's template), through extends and baseUrl", () => {
    const r = resolveF(`import type { Order } from '~/order'\nimport type { Order as Exact } from 'orders'\nfunction f(a: Order, b: Exact) {}`, {
      '/app/tsconfig.json': `{ "files": [], "references": [{ "path": "./tsconfig.node.json" }, { "path": "./tsconfig.app.json" }] }`,
      '/app/tsconfig.node.json': `{ "compilerOptions": { "composite": true }, "include": ["vite.config.ts"] }`,
      '/app/tsconfig.app.json': `{ "extends": "./config/base", "include": ["src"] }`,
      '/app/config/base.json': `{ "compilerOptions": { "baseUrl": "../src", "paths": { "~/*": ["types/*"], "orders": ["types/order.ts"] } } }`,
      '/app/src/types/order.ts': ORDER,
    })
    expect(r.params.map((p) => p.type)).toEqual([{ kind: 'ref', name: 'Order' }, { kind: 'ref', name: 'Order' }])
    expect(r.types.Order).toEqual(ORDER_IR)
  })

  it('resolves a bare specifier under baseUrl, and leaves a package a package', () => {
    const r = resolveF(`import type { Order } from 'types/order'\nimport type { Schema } from 'zod'\nfunction f(a: Order, b: Schema) {}`, {
      // Saved with a byte order mark, as some Windows editors do.
      '/app/tsconfig.json': `\uFEFF{ "compilerOptions": { "baseUrl": "src" } }`,
      '/app/src/types/order.ts': ORDER,
    })
    expect(r.params[0]!.type).toEqual({ kind: 'ref', name: 'Order' })
    expect(r.unresolved).toContainEqual({ path: 'args[1]', text: 'Schema', reason: 'type from package "zod"' })
  })

  it('says why an alias is not followed: no paths entry maps it, or the file it maps to is missing', () => {
    const unmapped = resolveF(`import type { Order } from '@/types'\nfunction f(o: Order) {}`, {
      '/app/src/types/index.ts': ORDER,
    })
    expect(unmapped.unresolved).toContainEqual({
      path: 'args[0]',
      text: 'Order',
      reason: '"@/types" is an alias no tsconfig.json "paths" entry maps (a bundler alias alone is not followed): add it to "paths", or import the type relatively',
      brief: 'alias "@/types" not in tsconfig.json "paths"',
    })
    // The search for tsconfig.json goes on past the root, up to the filesystem root, as TypeScript's does.
    expect(unmapped.reads).toEqual(['/app/src/tsconfig.json', '/app/tsconfig.json', '/tsconfig.json'])

    const missing = resolveF(`import type { Order } from '@/typo'\nfunction f(o: Order) {}`, {
      '/app/tsconfig.json': `{ "compilerOptions": { "paths": { "@/*": ["./src/*"] } } }`,
    })
    expect(missing.unresolved).toContainEqual({
      path: 'args[0]',
      text: 'Order',
      reason: 'cannot find module "@/typo" (tsconfig.json "paths" entry "@/*" maps it to src/typo)',
    })
  })

  it('reads no tsconfig.json for a signature without non-relative type imports', () => {
    const r = resolveF(`import type { Order } from './order'\nfunction f(o: Order, n: number) {}`, { '/app/src/order.ts': ORDER })
    expect(r.reads).toEqual(['/app/src/order.ts'])
  })
})

describe('resolveSignature: where the project is', () => {
  it('resolves to the same types in another checkout: reasons name files relative to the root (they are part of input hashes)', () => {
    const code = `import type { A } from './missing'\nimport type { B } from '@/gone'\nimport type { C } from '#nope'\nimport type { D } from '@/unmapped'\nfunction f(a: A, b: B, c: C, d: D) {}`
    const files = {
      '/app/tsconfig.json': `{ "compilerOptions": { "paths": { "@/g*": ["./src/g*"] } } }`,
      '/app/package.json': `{ "imports": {} }`,
    }
    const here = resolveF(code, files)
    const there = resolveF(code, files, '/home/ci/work/app')
    expect(there.params).toEqual(here.params)
    expect(there.unresolved).toEqual(here.unresolved)
    expect(here.params.map((p) => p.type)).toEqual([
      { kind: 'unknown', reason: 'cannot find module "./missing" from src/main.ts', text: 'A' },
      { kind: 'unknown', reason: 'cannot find module "@/gone" (tsconfig.json "paths" entry "@/g*" maps it to src/gone)', text: 'B' },
      { kind: 'unknown', reason: '"#nope" is not an entry of the "imports" of the package.json above src/main.ts', text: 'C' },
      // The type keeps the reason earlier releases gave it, on which existing input hashes rest; the report says more.
      { kind: 'unknown', reason: 'type from package "@/unmapped"', text: 'D' },
    ])
  })
})

describe('stripJsonComments', () => {
  it('keeps `/*` and `//` inside strings, drops comments and trailing commas', () => {
    const text = `{ "a/*": ["./b/*"], // x\n "url": "http://h", /* y */ "l": [1, 2, /* z */ ], }`
    expect(JSON.parse(stripJsonComments(text))).toEqual({ 'a/*': ['./b/*'], url: 'http://h', l: [1, 2] })
  })
})

describe('resolveSignature: package.json subpath imports', () => {
  it('follows a `#` specifier through the imports of the nearest package.json: patterns, conditions, .js to .ts', () => {
    const r = resolveF(`import type { Order } from '#types/order.js'\nimport type { Order as Exact } from '#order'\nfunction f(a: Order, b: Exact) {}`, {
      '/app/package.json': JSON.stringify({
        name: 'app',
        type: 'module',
        imports: { '#types/*': { types: './src/types/*', default: './dist/types/*' }, '#order': ['./src/types/order.ts'] },
      }),
      '/app/src/types/order.ts': ORDER,
    })
    expect(r.params.map((p) => p.type)).toEqual([{ kind: 'ref', name: 'Order' }, { kind: 'ref', name: 'Order' }])
    expect(r.dependencies).toEqual(['/app/package.json', '/app/src/types/order.ts'])
  })

  it('lets tsconfig paths map a `#` specifier first, and says when nothing maps one', () => {
    const files = {
      '/app/tsconfig.json': `{ "compilerOptions": { "paths": { "#lib/*": ["./src/*"] } } }`,
      '/app/package.json': `{ "imports": { "#lib/*": "./nowhere/*" } }`,
      '/app/src/order.ts': ORDER,
    }
    const r = resolveF(`import type { Order } from '#lib/order'\nimport type { X } from '#nope'\nfunction f(a: Order, b: X) {}`, files)
    expect(r.params[0]!.type).toEqual({ kind: 'ref', name: 'Order' })
    expect(r.unresolved).toContainEqual({ path: 'args[1]', text: 'X', reason: '"#nope" is not an entry of the "imports" of the package.json above src/main.ts' })
  })
})
