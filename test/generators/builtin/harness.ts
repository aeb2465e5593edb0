// Test harness: source text → resolved spec → generated phase module, imported for real so its checks can be run.
import { parse } from '@babel/parser'
import type * as t from '@babel/types'
import type { PhaseModule, PoetOptions } from '../../../src/runtime/types'
import type { FunctionSpec } from '../../../src/generators/spec'
import type { DomainPack } from '../../../src/generators/builtin/domain'
import { renderPhaseModule } from '../../../src/generators/render'
import { generateBuiltin } from '../../../src/generators/builtin'
import { resolveSignature, type FunctionNode, type ResolvedSignature } from '../../../src/generators/builtin/resolve'
import { importPhases } from '../../helpers/phase-module'

export function parseTs(code: string): t.File {
  return parse(code, { sourceType: 'module', plugins: ['typescript', 'jsx', 'decorators'] })
}

/** The function named `name` (declaration, `const name = …`, or a class/object method) in `ast`. */
export function findFunction(ast: t.File, name: string): FunctionNode {
  let found: FunctionNode | undefined
  const visit = (node: unknown): void => {
    if (found || !node || typeof node !== 'object') return
    const n = node as t.Node
    if (n.type === 'FunctionDeclaration' && n.id?.name === name) found = n
    else if (n.type === 'VariableDeclarator' && n.id.type === 'Identifier' && n.id.name === name && n.init && (n.init.type === 'ArrowFunctionExpression' || n.init.type === 'FunctionExpression')) found = n.init
    else if ((n.type === 'ClassMethod' || n.type === 'ObjectMethod') && n.key.type === 'Identifier' && n.key.name === name) found = n
    for (const [k, v] of Object.entries(n)) {
      if (k === 'loc' || k === 'leadingComments' || k === 'trailingComments') continue
      if (Array.isArray(v)) v.forEach(visit)
      else if (v && typeof v === 'object' && 'type' in v) visit(v)
    }
  }
  visit(ast.program)
  if (!found) throw new Error(`no function ${name} in fixture`)
  return found
}

export function resolveIn(code: string, name: string, opts: { file?: string; files?: Record<string, string> } = {}): ResolvedSignature {
  const file = opts.file ?? '/project/src/main.ts'
  const ast = parseTs(code)
  const files = opts.files ?? {}
  return resolveSignature({ file, code, ast, fn: findFunction(ast, name), readFile: (p) => files[p] })
}

export function specFor(code: string, name: string, opts: { file?: string; files?: Record<string, string>; options?: PoetOptions } = {}): FunctionSpec {
  const r = resolveIn(code, name, opts)
  return {
    id: `src/main.ts#${name}`,
    file: opts.file ?? '/project/src/main.ts',
    name,
    kind: 'function',
    async: r.async,
    params: r.params,
    returns: r.returns,
    types: r.types,
    options: opts.options ?? {},
    source: code,
    signature: r.signature,
    unresolved: r.unresolved,
  }
}

/** Imports generated module source for real, from a file (so failures point at readable generated lines). */
export const importModule = importPhases

export async function phasesFor(
  code: string,
  name: string,
  opts: { files?: Record<string, string>; options?: PoetOptions; pack?: DomainPack | DomainPack[] } = {},
): Promise<PhaseModule & { source: string; spec: FunctionSpec }> {
  const spec = specFor(code, name, opts)
  const { source } = renderPhaseModule(spec.id, generateBuiltin(spec, { pack: opts.pack }))
  return Object.assign(await importModule(source), { source, spec })
}

export const ctx = { functionId: 'test', executionId: 'e1', repair: false }

export function perceive(m: PhaseModule, args: unknown[]) {
  return m.perceive ? m.perceive(args, { ...ctx }) : undefined
}

export function enforce(m: PhaseModule, result: unknown) {
  return m.enforce ? m.enforce(result, { ...ctx, result }) : undefined
}
