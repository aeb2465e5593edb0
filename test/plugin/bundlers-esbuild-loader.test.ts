// esbuild: a transformed module keeps the loader the build maps its extension to, as an untouched one would.
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { createProject, loadPlugin, run } from '../helpers/project'

it("parses a transformed .js file with JSX under the build's loader: { '.js': 'jsx' }", async () => {
  const project = createProject('esbuild-loader')
  project.write(
    'src/view.js',
    [
      "import { poet } from 'unplugin-poet/runtime'",
      'const React = { createElement: (tag, _props, ...children) => ({ tag, children }) }',
      'export const render = poet()(function render(name) { return <b>{name}</b> })',
    ].join('\n'),
  )
  try {
    const poet = await loadPlugin(project, 'esbuild')
    const { build } = await import('esbuild')
    const file = join(project.dir, 'dist-esbuild/main.mjs')
    await build({
      absWorkingDir: project.dir,
      entryPoints: ['src/view.js'],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      loader: { '.js': 'jsx' },
      plugins: [poet()],
    })
    const app = await run<{ render(name: string): unknown }>({ file, map: `${file}.map`, warnings: [] })
    expect(app.render('tea')).toEqual({ tag: 'b', children: ['tea'] })
    expect(project.read('.poet/lock.json')).toContain('src/view.js#render')
  } finally {
    project.remove()
  }
})
