// The LLM generator inside real builds: a good reply ships in the bundle with its cost in the lock; refusals fall back to
// builtin; hostile replies never reach the lock or the bundle.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DomainPack } from '../../../src/generators/builtin/domain'
import type { LockFile } from '../../../src/generators/lock'
import type { Issue, PoetEvent } from '../../../src/runtime/types'
import { build, createProject, run, type Project } from '../../helpers/project'
import { reply, startOpenAIServer, type OpenAIServer } from '../../helpers/openai-server'
import { goodReply, scaleSource } from '../verify/fixture'
import { hostilePayloads, hostileReply } from '../verify/hostile'

const SCALE = scaleSource()

let server: OpenAIServer | undefined
let project: Project | undefined
afterEach(async () => {
  await server?.close()
  project?.remove()
  server = project = undefined
})

/** Every file under `dir`, concatenated: what a grep over it would see. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n')
}

describe('generator: openai in a real build', () => {
  it('ships a verified reply: the bundle validates with it and the lock records generator and model', async () => {
    server = await startOpenAIServer(() => reply.json(goodReply))
    project = createProject('llm-good')
    project.write('src/scale.ts', SCALE)
    const out = await build(project, 'vite', { entry: 'src/scale.ts', options: { generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' }, strict: false } })
    expect(out.warnings.filter((w) => w.includes('[poet]'))).toEqual([])
    const app = await run<{ scale(v: unknown, f: unknown): number[]; PoetInputError: new () => Error & { issues: Issue[] } }>(out)
    expect(app.scale([1, 2], 3)).toEqual([3, 6])
    let caught: (Error & { issues: Issue[] }) | undefined
    try {
      app.scale([1, 2], 5e6)
    } catch (e) {
      caught = e as Error & { issues: Issue[] }
    }
    expect(caught).toBeInstanceOf(app.PoetInputError)
    expect(caught!.issues).toEqual([{ path: 'args[1]', expected: 'factor at most 1e6', received: 'number', rule: 'scale.reasonable_factor' }])

    const lock = JSON.parse(project.read('.poet/lock.json')) as LockFile
    const entry = lock.functions['src/scale.ts#scale']!
    expect(entry.versions[entry.current]).toMatchObject({ generator: 'openai:test-model', model: 'test-model' })
    expect(readFileSync(out.file, 'utf8')).toContain('"scale.reasonable_factor"')

    // A second build reuses the lock: no request, same bytes.
    const before = project.read('.poet/lock.json')
    await build(project, 'vite', { entry: 'src/scale.ts', options: { generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' }, strict: false } })
    expect(server.requests).toHaveLength(1)
    expect(project.read('.poet/lock.json')).toBe(before)
  })

  it('keeps every hostile payload out of the lock and the bundle, warning once per function', async () => {
    const payloads = hostilePayloads()
    const fnName = (name: string) => `h_${name.replace(/\W/g, '_')}`
    const byId = new Map(payloads.map((p) => [`src/hostile.ts#${fnName(p.name)}`, p]))
    server = await startOpenAIServer((req) => reply.json(hostileReply(byId.get(/Function id: (\S+)/.exec(req.messages[1]!.content)![1]!)!)))
    project = createProject('llm-hostile')
    project.write(
      'src/hostile.ts',
      `import { poet } from 'unplugin-poet/runtime'\n` +
        payloads.map((p) => `export const ${fnName(p.name)} = poet()(function ${fnName(p.name)}(values: number[], factor: number): number[] {\n  return values.map((v) => v * factor)\n})\n`).join(''),
    )
    const out = await build(project, 'rollup', { entry: 'src/hostile.ts', options: { generator: { provider: 'openai', model: 'm', baseURL: server.baseURL, apiKey: 'k', concurrency: 8 }, strict: false } })
    const fallbacks = out.warnings.filter((w) => w.includes('gave no verified phases'))
    expect(fallbacks).toHaveLength(payloads.length)
    for (const [id] of byId) expect(fallbacks.filter((w) => w.includes(`${id}:`))).toHaveLength(1)

    const app = await run<Record<string, (v: unknown, f: unknown) => number[]>>(out)
    expect(app[fnName('eval')]!([1], 2)).toEqual([2])
    expect(() => app[fnName('eval')]!(['x'], 2)).toThrow(/args\[0\]\[0\]: expected number, received string/)

    const lock = JSON.parse(project.read('.poet/lock.json')) as LockFile
    for (const [id] of byId) expect(lock.functions[id]!.versions[lock.functions[id]!.current]!.generator).toBe('builtin')
    const bundle = readFileSync(out.file, 'utf8')
    // Rollup keeps comments in function bodies, so a payload's marker comment would show here had it been bundled.
    expect(bundle).toContain('// args[0] (values): number[]')
    const written = allText(project.lockDir) + bundle
    for (const p of payloads) expect(written, p.name).not.toContain(p.marker)
  }, 120_000)

  it('never calls the LLM in a strict build: a missing entry is an error naming the function and `poet generate`', async () => {
    server = await startOpenAIServer(() => reply.json(goodReply))
    project = createProject('llm-strict')
    project.write('src/scale.ts', SCALE)
    await expect(
      build(project, 'vite', { entry: 'src/scale.ts', options: { generator: { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' }, strict: true } }),
    ).rejects.toThrow(/src\/scale\.ts#scale .*strict.*poet generate/s)
    expect(server.requests).toHaveLength(0)
  })
})

describe('a build with the openai generator', () => {
  it('writes the token usage of the reply it shipped into the lock', async () => {
    server = await startOpenAIServer(() => ({ ...reply.json(goodReply), usage: { prompt_tokens: 1234, completion_tokens: 567 } }))
    project = createProject('llm-usage')
    project.write('src/scale.ts', SCALE)
    const generator = { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } as const
    const out = await build(project, 'esbuild', { entry: 'src/scale.ts', options: { generator, strict: false } })
    expect((await run<{ scale(v: number[], f: number): number[] }>(out)).scale([1, 2], 3)).toEqual([3, 6])

    const entry = (JSON.parse(project.read('.poet/lock.json')) as LockFile).functions['src/scale.ts#scale']!
    expect(entry.versions[entry.current]).toMatchObject({
      generator: 'openai:test-model',
      usage: { promptTokens: 1234, completionTokens: 567 },
    })
  })
})

describe('a build whose LLM gives no verified phases', () => {
  it('ships builtin phases, warns once, and records the fallback and its reason in the lock, as `poet generate` does', async () => {
    server = await startOpenAIServer(() => reply.refusal('No.'))
    project = createProject('llm-fallback')
    project.write('src/scale.ts', SCALE)
    const generator = { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } as const
    const out = await build(project, 'esbuild', { entry: 'src/scale.ts', options: { generator, strict: false } })
    expect((await run<{ scale(v: number[], f: number): number[] }>(out)).scale([1, 2], 3)).toEqual([3, 6])
    expect(out.warnings.filter((w) => w.includes('src/scale.ts#scale'))).toEqual([
      expect.stringContaining('openai:test-model gave no verified phases after 3 requests: the model refused: No. Using the builtin generator'),
    ])

    const entry = (JSON.parse(project.read('.poet/lock.json')) as LockFile).functions['src/scale.ts#scale']!
    expect(entry.versions[entry.current]).toMatchObject({ generator: 'builtin', model: 'test-model', reason: 'fallback: the model refused: No' })
  })
})

describe("a build with the openai generator and a domain's event limits", () => {
  it('ships the verified phases with the limits of the pack: no stats in the events of the running bundle', async () => {
    server = await startOpenAIServer(() => reply.json(goodReply))
    project = createProject('llm-limits')
    project.write(
      'src/scale.ts',
      SCALE.replace('poet()', "poet({ domain: 'private' })") + "\nexport { onEvent } from 'unplugin-poet/runtime'\n",
    )
    const generator = { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } as const
    const pack: DomainPack = { name: 'private', version: '1.0.0', description: 'Input statistics stay in the process.', neverInEvents: ['stats'] }
    const out = await build(project, 'esbuild', { entry: 'src/scale.ts', options: { generator, strict: false, domains: [pack] } })
    const app = await run<{ scale(v: number[], f: number): number[]; onEvent(l: (e: PoetEvent) => void): () => void }>(out)
    const events: PoetEvent[] = []
    const off = app.onEvent((e) => events.push(e))
    expect(app.scale([1, 2], 3)).toEqual([3, 6])
    off()

    const entry = (JSON.parse(project.read('.poet/lock.json')) as LockFile).functions['src/scale.ts#scale']!
    expect(entry.versions[entry.current]).toMatchObject({ generator: 'openai:test-model' })
    // The model's perceive computes stats (GOOD-REPLY-MARKER's `ctx.stats = { n }`); the pack keeps them out.
    expect(project.read(`.poet/${entry.versions[entry.current]!.file}`)).toContain('GOOD-REPLY-MARKER')
    expect(events).toEqual([expect.objectContaining({ kind: 'execution', outcome: 'ok' })])
    expect(events[0]).not.toHaveProperty('stats')
  })
})
