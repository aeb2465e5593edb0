// Plugin options: every default filled by resolveOptions, and a friendly error for every wrong option.
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PoetConfigError } from '../../src/plugin/errors'
import { DEFAULT_EXCLUDE, DEFAULT_INCLUDE, resolveOptions, type Options } from '../../src/plugin/options'

const root = resolve('/projects/shop')

function configError(raw: unknown): PoetConfigError {
  try {
    resolveOptions(raw as Options, { root, env: {} })
  } catch (e) {
    expect(e).toBeInstanceOf(PoetConfigError)
    return e as PoetConfigError
  }
  throw new Error('expected resolveOptions to throw')
}

describe('resolveOptions', () => {
  it('fills every default in one place', () => {
    expect(resolveOptions(undefined, { root, env: {} })).toEqual({
      include: DEFAULT_INCLUDE,
      exclude: DEFAULT_EXCLUDE,
      root,
      lockDir: resolve(root, '.poet'),
      strict: false,
      generator: { provider: 'builtin' },
      domains: [],
      feedback: { endpoint: undefined, sample: 1 },
      dashboard: true,
      cacheDir: resolve(root, 'node_modules/.cache/unplugin-poet'),
    })
  })

  it('default include/exclude take every [cm][jt]sx? source and Vue and Svelte component, but not node_modules or declarations', () => {
    const included = (f: string) => DEFAULT_INCLUDE.some((r) => r.test(f)) && !DEFAULT_EXCLUDE.some((r) => r.test(f))
    for (const f of ['/p/a.ts', '/p/a.tsx', '/p/a.mts', '/p/a.cjs', '/p/a.jsx', '/p/a.js', '/p/A.vue', '/p/A.svelte']) expect(included(f)).toBe(true)
    for (const f of ['/p/node_modules/x/a.js', '/p/node_modules/x/A.vue', '/p/a.d.ts', '/p/a.d.mts', '/p/a.css', '/p/A.vue?vue&type=style&index=0&lang.css']) {
      expect(included(f)).toBe(false)
    }
  })

  it('is strict by default on CI, and reads the API key from OPENAI_API_KEY', () => {
    const r = resolveOptions(
      { generator: { provider: 'openai', model: 'gpt-4o-mini' } },
      { root, env: { CI: 'true', OPENAI_API_KEY: 'sk-test' } },
    )
    expect(r.strict).toBe(true)
    expect(r.generator).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseURL: undefined,
      apiKey: 'sk-test',
      concurrency: 4,
      timeout: 60_000,
    })
    expect(resolveOptions({ strict: false }, { root, env: { CI: '1' } }).strict).toBe(false)
  })

  it('is not strict where CI is set to false, as `CI=false npm run build` means (and ci-info reads it)', () => {
    expect(resolveOptions({}, { root, env: { CI: 'false' } }).strict).toBe(false)
    expect(resolveOptions({}, { root, env: { CI: '' } }).strict).toBe(false)
    expect(resolveOptions({}, { root, env: {} }).strict).toBe(false)
  })

  it('resolves root and lockDir against the bundler root, keeping explicit values', () => {
    const r = resolveOptions(
      { root: 'app', lockDir: 'locks/poet', feedback: { endpoint: 'http://127.0.0.1:4318/v1/events', sample: 0.25 } },
      { root, env: {} },
    )
    expect(r.root).toBe(resolve(root, 'app'))
    expect(r.lockDir).toBe(resolve(root, 'app/locks/poet'))
    expect(r.feedback).toEqual({ endpoint: 'http://127.0.0.1:4318/v1/events', sample: 0.25 })
    expect(resolveOptions({ feedback: false, dashboard: false }, { root, env: {} })).toMatchObject({
      feedback: false,
      dashboard: false,
    })
  })

  it('accepts custom domain packs and keeps them as given', () => {
    const pack = { name: 'financial_services:payments', version: '1', description: 'card payments', parent: 'financial_services' }
    expect(resolveOptions({ domains: [pack] }, { root, env: {} }).domains).toEqual([pack])
  })
})

describe('plugin option errors name the option and what it expects', () => {
  const cases: [string, unknown, string][] = [
    ['unknown key, close', { lockdir: '.poet' }, "unplugin-poet: unknown plugin option 'lockdir'. Did you mean 'lockDir'?"],
    [
      'unknown key, far',
      { colour: 'red' },
      "unplugin-poet: unknown plugin option 'colour'. Expected one of: 'include', 'exclude', 'root', 'lockDir', 'strict', 'generator', 'domains', 'feedback', 'dashboard', 'cache'.",
    ],
    ['wrong type', { strict: 'yes' }, "unplugin-poet: invalid plugin option 'strict': expected true or false, received the string 'yes'."],
    [
      'generator string',
      { generator: 'openai' },
      "unplugin-poet: invalid plugin option 'generator': expected 'builtin' or { provider: 'openai', model: '…' }, received the string 'openai'.",
    ],
    [
      'generator provider typo',
      { generator: { provider: 'opnai', model: 'm' } },
      "unplugin-poet: invalid plugin option 'generator.provider': expected 'openai' (any OpenAI-compatible server), received the string 'opnai'. Did you mean 'openai'?",
    ],
    [
      'generator without model',
      { generator: { provider: 'openai' } },
      "unplugin-poet: invalid plugin option 'generator.model': expected the model name, e.g. 'gpt-4o-mini', received nothing.",
    ],
    [
      'generator unknown key',
      { generator: { provider: 'openai', model: 'm', baseUrl: 'http://127.0.0.1' } },
      "unplugin-poet: unknown plugin option 'generator.baseUrl'. Did you mean 'baseURL'?",
    ],
    [
      'concurrency',
      { generator: { provider: 'openai', model: 'm', concurrency: 0 } },
      "unplugin-poet: invalid plugin option 'generator.concurrency': expected an integer ≥ 1, received 0.",
    ],
    [
      'feedback sample',
      { feedback: { sample: 1.5 } },
      "unplugin-poet: invalid plugin option 'feedback.sample': expected a number from 0 to 1, received 1.5.",
    ],
    ['feedback true', { feedback: true }, "unplugin-poet: invalid plugin option 'feedback': expected false or { endpoint?, sample? }, received true."],
    [
      'include',
      { include: [/\.ts$/, 42] },
      "unplugin-poet: invalid plugin option 'include': expected a string, a RegExp, or an array of them, received an array.",
    ],
    ['domains not array', { domains: { name: 'x' } }, "unplugin-poet: invalid plugin option 'domains': expected an array of domain packs, received an object."],
    [
      'domain pack without version',
      { domains: [{ name: 'payments', description: 'x' }] },
      "unplugin-poet: invalid plugin option 'domains[0].version': expected a version string such as '1', received nothing.",
    ],
    [
      'domain pack twice',
      { domains: [{ name: 'p', version: '1', description: 'a' }, { name: 'p', version: '2', description: 'b' }] },
      "unplugin-poet: invalid plugin option 'domains[1].name': domain pack 'p' is defined twice.",
    ],
    ['options not an object', ['builtin'], "unplugin-poet: invalid plugin option '(options)': expected an options object, received an array."],
  ]
  for (const [name, raw, message] of cases) {
    it(name, () => {
      const e = configError(raw)
      expect(e.message).toBe(message)
    })
  }

  it('carries the option path and a code', () => {
    const e = configError({ generator: { provider: 'openai', model: 'm', timeout: -1 } })
    expect(e.option).toBe('generator.timeout')
    expect(e.code).toBe('POET_INVALID_PLUGIN_OPTION')
    expect(configError({ dashbaord: true }).code).toBe('POET_UNKNOWN_PLUGIN_OPTION')
  })
})
