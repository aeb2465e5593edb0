// Type-checks files as a consumer of the package would: `tsc --noEmit` with `moduleResolution: bundler`, strict.
import ts from 'typescript'

/** What a consumer's tsconfig holds: a bundler project on ES2022 with the DOM, strict, no ambient `@types`. */
export const CONSUMER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
}

/** Diagnostics per file (absolute paths), as `tsc --noEmit` prints them; one outside those files is a test bug, thrown. */
export function typeCheck(files: string[], options: ts.CompilerOptions = CONSUMER_OPTIONS, host?: ts.CompilerHost): Map<string, string[]> {
  const program = ts.createProgram(files, options, host)
  const out = new Map<string, string[]>(files.map((f) => [f, []]))
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    const list = d.file && out.get(d.file.fileName)
    if (!list) throw new Error(`type error outside the checked files: ${d.file?.fileName ?? '(global)'}: ${text}`)
    list.push(text)
  }
  return out
}
