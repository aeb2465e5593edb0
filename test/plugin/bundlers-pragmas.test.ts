// The rewrite leaves a module's leading comments first, where TypeScript reads JSX pragmas and triple-slash references.
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { createProject, loadPlugin, run } from '../helpers/project'

it('keeps a leading /** @jsx h */ pragma in force for a TypeScript transpile after the plugin (Rollup)', async () => {
  const project = createProject('rollup-pragma')
  project.write(
    'src/view.tsx',
    [
      '/** @jsx h */',
      "import { poet } from 'unplugin-poet/runtime'",
      'function h(tag: string, _props: unknown, ...children: unknown[]) {',
      '  return { tag, children }',
      '}',
      'export const render = poet()(function render(name: string): unknown {',
      '  return <b>{name}</b>',
      '})',
    ].join('\n'),
  )
  try {
    const poet = await loadPlugin(project, 'rollup')
    const { rollup } = await import('rollup')
    const ts = (await import('typescript')).default
    const bundle = await rollup({
      input: project.path('src/view.tsx'),
      external: (id) => id.startsWith('unplugin-poet/'),
      plugins: [
        poet({ root: project.dir }),
        {
          // What @rollup/plugin-typescript and ts-loader do: TypeScript's own transpile, jsx: 'react'.
          name: 'typescript-transpile',
          transform(code, id) {
            if (!id.endsWith('.tsx')) return null
            const out = ts.transpileModule(code, {
              fileName: id,
              compilerOptions: { jsx: ts.JsxEmit.React, module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
            })
            return { code: out.outputText, map: null }
          },
        },
      ],
    })
    const file = join(project.dir, 'dist-rollup/main.mjs')
    await bundle.write({ file, format: 'es' })
    await bundle.close()
    const app = await run<{ render(name: unknown): unknown }>({ file, map: '', warnings: [] })
    expect(app.render('tea')).toEqual({ tag: 'b', children: ['tea'] })
    expect(() => app.render(1)).toThrow(/args\[0\]: expected string, received number/)
  } finally {
    project.remove()
  }
})
