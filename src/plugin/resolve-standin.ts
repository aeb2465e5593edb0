// Temporary stand-in for the types engineer's resolveSignature (src/generators/builtin/resolve.ts): removed once merged.
import type * as t from '@babel/types'
import type { ParamSpec, TypeIR, UnresolvedType } from '../generators/spec'

export interface ResolveSignatureInput {
  file: string
  code: string
  ast: t.File
  fn: t.Function | t.ClassMethod
  readFile?(abs: string): string | undefined
}

export interface ResolvedSignature {
  params: ParamSpec[]
  returns: TypeIR
  async: boolean
  types: Record<string, TypeIR>
  unresolved: UnresolvedType[]
  signature: string
  dependencies: string[]
}

const UNKNOWN: TypeIR = { kind: 'unknown', reason: 'type resolver not merged yet' }

export function resolveSignature({ code, fn }: ResolveSignatureInput): ResolvedSignature {
  const ret = fn.returnType?.type === 'TSTypeAnnotation' ? fn.returnType.typeAnnotation : undefined
  const promise =
    ret?.type === 'TSTypeReference' && ret.typeName.type === 'Identifier' && ret.typeName.name === 'Promise'
  const first = fn.params[0]
  const sigStart = first ? code.lastIndexOf('(', first.start!) : code.indexOf('(', 'key' in fn ? fn.key.end! : fn.start!)
  return {
    params: fn.params.map((p, i) => ({
      name: p.type === 'Identifier' ? p.name : `arg${i}`,
      type: UNKNOWN,
      optional: p.type === 'AssignmentPattern' || (p.type === 'Identifier' && !!p.optional),
      rest: p.type === 'RestElement',
    })),
    returns: UNKNOWN,
    async: fn.async || promise,
    types: {},
    unresolved: [],
    signature: code.slice(sigStart, fn.body.start!).trim().replace(/\s*=>$/, ''),
    dependencies: [],
  }
}
