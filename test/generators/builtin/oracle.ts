// TypeScript as the oracle of the differential tests: which `const v: T = <value>` lines tsc rejects, and the same values evaluated for real.
import ts from 'typescript'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { importPhases } from '../../helpers/phase-module'

export const ORACLE_ROOT = '/project/src'
export const ORACLE_MAIN = `${ORACLE_ROOT}/main.ts`

const libDir = dirname(createRequire(import.meta.url).resolve('typescript/lib/lib.d.ts'))

export const ORACLE_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts'],
  types: [],
  noEmit: true,
  skipLibCheck: true,
}

/**
 * One Program over `prelude` followed by one statement per line (strict, plus `extra` options); the statements with a
 * diagnostic are the rejected ones, each with tsc's message. Diagnostics elsewhere (the prelude, the other files) are returned apart: they mean a
 * broken test.
 */
export function tscVerdicts(prelude: string, statements: string[], files: Record<string, string> = {}, extra: ts.CompilerOptions = {}): { rejected: Map<number, string>; preludeErrors: string[] } {
  const options = { ...ORACLE_OPTIONS, ...extra }
  const main = `${prelude}\n${statements.join('\n')}\n`
  const all: Record<string, string> = { ...files, [ORACLE_MAIN]: main }
  const host = ts.createCompilerHost(options)
  const readLib = (f: string) => ts.sys.readFile(f.startsWith(libDir) ? f : join(libDir, f.split('/').pop()!))
  host.getDefaultLibLocation = () => libDir
  host.fileExists = (f) => f in all || (f.startsWith(libDir) && ts.sys.fileExists(f))
  host.readFile = (f) => all[f] ?? readLib(f)
  host.directoryExists = (d) => Object.keys(all).some((f) => f.startsWith(d + '/')) || ts.sys.directoryExists(d)
  host.realpath = (f) => f
  host.getSourceFile = (f, lang) => {
    const text = all[f] ?? (f.startsWith(libDir) ? ts.sys.readFile(f) : undefined)
    return text === undefined ? undefined : ts.createSourceFile(f, text, lang)
  }
  host.getCurrentDirectory = () => ORACLE_ROOT
  const program = ts.createProgram([ORACLE_MAIN], options, host)
  const firstLine = prelude.split('\n').length
  const rejected = new Map<number, string>()
  const preludeErrors: string[] = []
  for (const d of [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()]) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    if (!d.file || d.start === undefined) {
      preludeErrors.push(message)
      continue
    }
    const line = d.file.getLineAndCharacterOfPosition(d.start).line
    if (d.file.fileName !== ORACLE_MAIN || line < firstLine) preludeErrors.push(`${d.file.fileName}:${line + 1}: ${message}`)
    else rejected.set(line - firstLine, message)
  }
  return { rejected, preludeErrors }
}

/**
 * The values of TypeScript expressions, evaluated for real: the prelude (classes, enums, helper functions) and the
 * expressions are transpiled as one module, so `new Point(1, 2)`, `Color.Red` or `nullProto({ a: 1 })` are the
 * objects a typed call would pass.
 */
export async function evaluate(prelude: string, expressions: string[]): Promise<unknown[]> {
  const source = `${prelude}\nexport default [\n${expressions.map((e) => `(${e}),`).join('\n')}\n]\n`
  const { outputText } = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, isolatedModules: true } })
  // The phase-module importer writes a file and imports it: the same path works for any module source.
  return (await importPhases(outputText)) as unknown as unknown[]
}
