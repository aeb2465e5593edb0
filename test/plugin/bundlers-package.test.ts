// The built package as a consumer meets it: every export present in dist/, and every entry type-checks in a user's config.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT, createProject, type Project } from '../helpers/project'
import { typeCheck } from '../helpers/typecheck'

interface PackageJson {
  exports: Record<string, string | { types?: string; default?: string }>
  bin: Record<string, string>
  files: string[]
}

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson

describe('the built package', () => {
  it('has a module and its declarations in dist/ for every export, and the bin', () => {
    const entries = Object.entries(pkg.exports).filter(([key]) => key !== './package.json')
    expect(entries.map(([key]) => key)).toEqual(
      expect.arrayContaining(['.', './vite', './rollup', './rolldown', './esbuild', './webpack', './rspack', './runtime', './client']),
    )
    for (const [key, target] of entries) {
      const paths = typeof target === 'string' ? [target] : Object.values(target)
      for (const path of paths) expect(existsSync(join(PACKAGE_ROOT, path)), `${key} → ${path}`).toBe(true)
      if (typeof target !== 'string' && target.default) expect(target.types, `${key} has types`).toMatch(/\.d\.m?ts$/)
    }
    const bin = readFileSync(join(PACKAGE_ROOT, pkg.bin.poet!), 'utf8')
    expect(bin.startsWith('#!/usr/bin/env node')).toBe(true)
  })

  it('ships the domain pack reference the README sends users to for writing a custom pack, and the license it names', () => {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PACKAGE_ROOT, encoding: 'utf8' })) as [{ files: { path: string }[] }]
    const files = packed[0].files.map((f) => f.path)
    expect(readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8')).toContain('](docs/domains.md)')
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'docs/domains.md', 'client.d.ts', 'dist/runtime.mjs']))
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { license: string }
    expect(readFileSync(join(PACKAGE_ROOT, 'LICENSE'), 'utf8')).toMatch(new RegExp(`^${pkg.license} License`))
  })
})

describe('a consumer project', () => {
  let project: Project
  let diagnostics: Map<string, string[]>

  beforeAll(() => {
    project = createProject('consumer')
    project.write(
      'configs.ts',
      [
        "import type { UserConfig } from 'vite'",
        "import type { RollupOptions } from 'rollup'",
        "import type { RolldownOptions } from 'rolldown'",
        "import type { BuildOptions } from 'esbuild'",
        "import type { Configuration } from 'webpack'",
        "import type { RspackOptions } from '@rspack/core'",
        "import unplugin, { type Options } from 'unplugin-poet'",
        "import vite from 'unplugin-poet/vite'",
        "import rollup from 'unplugin-poet/rollup'",
        "import rolldown from 'unplugin-poet/rolldown'",
        "import esbuild from 'unplugin-poet/esbuild'",
        "import webpack from 'unplugin-poet/webpack'",
        "import rspack from 'unplugin-poet/rspack'",
        '',
        "const options: Options = { lockDir: '.poet', generator: 'builtin', include: [/\\.ts$/], strict: false }",
        'export const viteConfig: UserConfig = { plugins: [vite(options)] }',
        "export const pluginName: string = vite().name",
        'export const rollupConfig: RollupOptions = { plugins: [rollup()] }',
        'export const rolldownConfig: RolldownOptions = { plugins: [rolldown()] }',
        'export const esbuildConfig: BuildOptions = { plugins: [esbuild()] }',
        'export const webpackConfig: Configuration = { plugins: [webpack()] }',
        'export const rspackConfig: RspackOptions = { plugins: [rspack()] }',
        'export const fromInstance = [unplugin.vite(), unplugin.webpack(options)]',
        '',
      ].join('\n'),
    )
    project.write(
      'app.ts',
      [
        '/// <reference types="unplugin-poet/client" />',
        "import { poet, PoetInputError } from 'unplugin-poet/runtime'",
        "import phases from 'virtual:poet/src~2fapp.ts~23twice'",
        '',
        'export const twice = poet({ attempts: 2 })((n: number): number => n * 2)',
        'export const result: number = twice(21)',
        'export const version: string = phases.version',
        'export const isInputError = (e: unknown): boolean => e instanceof PoetInputError',
        '',
      ].join('\n'),
    )
    project.write('bad.ts', "import vite from 'unplugin-poet/vite'\nexport const p = vite({ lockdir: '.poet' })\n")
    diagnostics = typeCheck(['configs.ts', 'app.ts', 'bad.ts'].map((f) => project.path(f)))
  })
  afterAll(() => project.remove())

  it('type-checks a config for each of the six bundlers, and the runtime and phase modules in app code', () => {
    expect(diagnostics.get(project.path('configs.ts'))).toEqual([])
    expect(diagnostics.get(project.path('app.ts'))).toEqual([])
  })

  it('loads in a CommonJS config the way the README says: require(entry).default is the plugin', () => {
    project.write('cjs/package.json', '{ "type": "commonjs" }')
    project.write('cjs/webpack.config.js', "const poet = require('unplugin-poet/webpack').default\nmodule.exports = { plugins: [poet()] }\n")
    const out = execFileSync(process.execPath, ['-e', "const c = require('./webpack.config.js'); console.log(typeof c.plugins[0].apply)"], { cwd: project.path('cjs'), encoding: 'utf8' })
    expect(out.trim()).toBe('function')
  })

  it('rejects a misspelled plugin option at compile time', () => {
    expect(diagnostics.get(project.path('bad.ts'))).toEqual([expect.stringContaining("'lockdir' does not exist in type 'Options'")])
  })
})
