// A bundler build with the LLM generator records in the lock what the generation cost, as `poet generate` does.
import { afterEach, describe, expect, it } from 'vitest'
import type { DomainPack } from '../../src/generators/builtin/domain'
import type { LockFile } from '../../src/generators/lock'
import type { PoetEvent } from '../../src/runtime/types'
import { goodReply } from '../generators/verify/fixture'
import { reply, startOpenAIServer, type OpenAIServer } from '../helpers/openai-server'
import { build, createProject, run, type Project } from '../helpers/project'

const SCALE = `import { poet } from 'unplugin-poet/runtime'

export const scale = poet()(function scale(values: number[], factor: number): number[] {
  return values.map((v) => v * factor)
})
`

let server: OpenAIServer | undefined
let project: Project | undefined
afterEach(async () => {
  await server?.close()
  project?.remove()
  server = project = undefined
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
