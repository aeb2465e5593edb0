import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createLlmGenerator, PROMPT_VERSION, type LlmGeneratorOptions, type LlmTuning } from '../../../src/generators/llm'
import { inputHash, LockStore } from '../../../src/generators/lock'
import { renderPhaseModule } from '../../../src/generators/render'
import { generateBuiltin } from '../../../src/generators/builtin'
import { DomainRegistry } from '../../../src/generators/builtin/domains'
import { transformPoet } from '../../../src/plugin/transform'
import { onEvent, poet } from '../../../src/runtime'
import type { PhaseContext, PhaseModule, PoetEvent } from '../../../src/runtime/types'
import { deadPort, reply, startOpenAIServer, type OpenAIServer, type Script } from '../../helpers/openai-server'
import { goodReply, scaleBaseline, scaleSpec } from '../verify/fixture'
import { hostilePayloads, hostileReply } from '../verify/hostile'

let server: OpenAIServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function setup(script: Script, options: Partial<LlmGeneratorOptions> = {}, tuning: LlmTuning = {}) {
  server = await startOpenAIServer(script)
  const warnings: string[] = []
  const gen = createLlmGenerator({ provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k', timeout: 5_000, ...options }, { warn: (m) => warnings.push(m), ...tuning })
  return { gen, warnings, server }
}

async function importPhases(source: string): Promise<PhaseModule> {
  const file = join(mkdtempSync(join(tmpdir(), 'poet-phase-')), 'phases.mjs')
  writeFileSync(file, source)
  return ((await import(pathToFileURL(file).href)) as { default: PhaseModule }).default
}

const ctx = { functionId: scaleSpec.id, executionId: 'e1', repair: false }

describe('the LLM generator against an OpenAI-compatible server', () => {
  it('turns a good reply into verified phases that land in the lock and run', async () => {
    const { gen, warnings, server } = await setup(() => reply.json(goodReply))
    const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(warnings).toEqual([])
    expect(result.fallback).toBeUndefined()
    expect(result.parts.generator).toBe('openai:test-model')
    expect(result.parts.policy.attempts).toBe(2)
    expect(result.usage).toEqual({ promptTokens: 100, completionTokens: 50 })

    const request = server.requests[0]!
    expect(request.model).toBe('test-model')
    expect(request.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'poet_phases', strict: true } })
    const prompt = request.messages.map((m) => m.content).join('\n')
    expect(prompt).toContain(`<untrusted kind="function-source">\n${scaleSpec.source}\n</untrusted>`)
    expect(prompt).toContain('Baseline perceive body:')
    expect(prompt).toContain(scaleBaseline.perceive)

    const dir = mkdtempSync(join(tmpdir(), 'poet-llm-lock-'))
    const store = new LockStore(dir)
    const rendered = renderPhaseModule(scaleSpec.id, result.parts)
    const hash = inputHash(scaleSpec, { generator: gen.generator, model: gen.model, promptVersion: PROMPT_VERSION })
    store.write(scaleSpec.id, { version: rendered.version, source: rendered.source, inputHash: hash, generator: result.parts.generator, model: result.model, usage: result.usage })
    expect(store.read().functions[scaleSpec.id]!.versions[rendered.version]).toMatchObject({ generator: 'openai:test-model', model: 'test-model', usage: { promptTokens: 100, completionTokens: 50 } })

    const phases = await importPhases(store.lookup(scaleSpec.id, hash)!.source)
    expect(phases.generator).toBe('openai:test-model')
    expect(phases.perceive!([[1, 2], 3], { ...ctx })).toBeUndefined()
    expect(phases.perceive!([[1, 'x'], 3], { ...ctx })).toEqual([{ path: 'args[0][1]', expected: 'finite number', received: 'string' }])
    expect(phases.perceive!([[1], 5e6], { ...ctx })).toEqual([{ path: 'args[1]', expected: 'factor at most 1e6', received: 'number', rule: 'scale.reasonable_factor' }])
    const withStats: PhaseContext = { ...ctx }
    phases.perceive!([[1, 2, 3], 1], withStats)
    expect(withStats.stats).toEqual({ n: 3 })
  })

  it('re-asks with the reasons quoted as untrusted data, and accepts a fixed answer', async () => {
    const { gen, warnings, server } = await setup((_, i) => (i === 0 ? reply.brokenJson() : reply.json(goodReply)))
    const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(result.parts.generator).toBe('openai:test-model')
    expect(warnings).toEqual([])
    expect(server.requests).toHaveLength(2)
    const reask = server.requests[1]!.messages.at(-1)!.content
    expect(reask).toMatch(/^Your previous answer was rejected\./)
    expect(reask).toMatch(/<untrusted kind="verifier-report">\n- the answer is not valid JSON \(.*\)\n<\/untrusted>/)
    expect(result.usage).toEqual({ promptTokens: 200, completionTokens: 100 })
  })

  const fallbacks: [string, Script, RegExp][] = [
    ['broken JSON', () => reply.brokenJson(), /the answer is not valid JSON/],
    ['a schema mismatch', () => reply.json({ ...goodReply, argExamples: 'none' }), /the answer does not match the required JSON schema: argExamples: /],
    ['finish_reason length', () => reply.truncated(), /the answer was cut off at the token limit \(finish_reason: length\)/],
    ['a refusal', () => reply.refusal("I can't help with that."), /the model refused: I can't help with that/],
    ['a verifier rejection', () => reply.json({ ...goodReply, perceive: 'let issues\nreturn issues' }), /perceive accepts/],
  ]
  it.each(fallbacks)('falls back to builtin after bounded re-asks on %s, warning once and naming why', async (_name, script, why) => {
    const { gen, warnings, server } = await setup(script)
    const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(server.requests).toHaveLength(3)
    expect(result.parts).toBe(scaleBaseline)
    expect(result.fallback).toMatch(why)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^\[poet\] src\/scale\.ts#scale: openai:test-model gave no verified phases after 3 requests: /)
    expect(warnings[0]).toMatch(why)
    expect(warnings[0]).toContain('Using the builtin generator; run `poet generate --only src/scale.ts#scale` to try again.')
  })

  it('waits as long as Retry-After says on 429, then succeeds', async () => {
    const { gen, warnings, server } = await setup((_, i) => (i === 0 ? reply.status(429, { 'retry-after': '1' }) : reply.json(goodReply)))
    const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(result.parts.generator).toBe('openai:test-model')
    expect(warnings).toEqual([])
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950)
  })

  it('retries 500s and gives up with the status after the bounded retries', async () => {
    const ok = await setup((_, i) => (i < 2 ? reply.status(i === 0 ? 500 : 503, { 'retry-after-ms': '10' }) : reply.json(goodReply)))
    expect((await ok.gen.generate({ spec: scaleSpec, baseline: scaleBaseline })).parts.generator).toBe('openai:test-model')
    await ok.server.close()

    const bad = await setup(() => reply.status(500, { 'retry-after-ms': '10' }))
    const result = await bad.gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(bad.server.requests).toHaveLength(3)
    expect(result.parts.generator).toBe('builtin')
    expect(bad.warnings).toEqual([expect.stringContaining(`${bad.server.baseURL} answered HTTP 500 after 3 tries: scripted 500`)])
  })

  it('falls back to JSON mode on a server that does not support json_schema', async () => {
    const { gen, warnings, server } = await setup((req) =>
      req.response_format?.type === 'json_schema'
        ? { status: 400, body: JSON.stringify({ error: { message: "response_format 'json_schema' is not supported by this model" } }) }
        : reply.json(goodReply),
    )
    const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(result.parts.generator).toBe('openai:test-model')
    expect(warnings).toEqual([])
    expect(server.requests.map((r) => r.response_format?.type)).toEqual(['json_schema', 'json_object'])
    await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(server.requests.map((r) => r.response_format?.type)).toEqual(['json_schema', 'json_object', 'json_object'])
  })

  it('does not retry a 401: the key is wrong, not the moment', async () => {
    const { gen, warnings, server } = await setup(() => reply.status(401))
    const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(server.requests).toHaveLength(1)
    expect(result.fallback).toMatch(/answered HTTP 401: scripted 401/)
    expect(warnings).toHaveLength(1)
  })

  it('says that no API key was given when a 401 answers a request made without one', async () => {
    const saved = process.env.OPENAI_API_KEY
    delete process.env.OPENAI_API_KEY
    try {
      const { gen } = await setup(() => reply.status(401), { apiKey: undefined })
      const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
      expect(result.fallback).toMatch(/answered HTTP 401 \(no API key was given: set OPENAI_API_KEY, or generator\.apiKey\): scripted 401/)
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved
    }
  })

  it('never hangs on a reply slower than the timeout', async () => {
    const { gen, warnings } = await setup(() => reply.slow(10_000, goodReply), { timeout: 300 }, { maxRetryDelay: 50 })
    const started = Date.now()
    const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    // Three tries of 300 ms take about a second; waiting for the reply would take 10 s. A loaded machine gets the rest.
    expect(Date.now() - started).toBeLessThan(8_000)
    expect(result.parts.generator).toBe('builtin')
    expect(warnings[0]).toMatch(/no answer from http:\/\/127\.0\.0\.1:\d+\/v1 within 300 ms \(tried 3 times\)/)
  })

  it('never hangs on a reply whose body stalls after its headers', async () => {
    const { gen, warnings, server } = await setup(() => ({ content: JSON.stringify(goodReply), bodyDelayMs: 60_000 }), { timeout: 300 }, { maxRetryDelay: 50 })
    // Bounded by the test: with the bug the request waits for the body as long as the server holds it back (60 s).
    const result = await Promise.race([
      gen.generate({ spec: scaleSpec, baseline: scaleBaseline }),
      new Promise<undefined>((resolve) => setTimeout(resolve, 10_000)),
    ])
    expect(result?.parts.generator).toBe('builtin')
    expect(server.requests).toHaveLength(3)
    expect(warnings[0]).toMatch(/no answer from http:\/\/127\.0\.0\.1:\d+\/v1 within 300 ms \(tried 3 times\)/)
  })

  it('falls back when nothing listens on the port', async () => {
    const warnings: string[] = []
    const dead = await deadPort()
    try {
      const gen = createLlmGenerator({ provider: 'openai', model: 'm', baseURL: dead.url, apiKey: 'k' }, { warn: (m) => warnings.push(m), maxRetryDelay: 20 })
      const result = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
      expect(result.parts.generator).toBe('builtin')
      expect(warnings).toEqual([expect.stringMatching(/gave no verified phases after 1 request: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1 \(.+\)/)])
    } finally {
      await dead.close()
    }
  })

  it('keeps at most `concurrency` requests in flight', async () => {
    const { gen, server } = await setup(() => reply.slow(150, goodReply), { concurrency: 2 })
    const specs = Array.from({ length: 6 }, (_, i) => ({ ...scaleSpec, id: `src/scale.ts#scale${i}` }))
    const results = await Promise.all(specs.map((spec) => gen.generate({ spec, baseline: scaleBaseline })))
    expect(results.every((r) => r.parts.generator === 'openai:test-model')).toBe(true)
    expect(server.maxInFlight).toBe(2)
  })

  it('lets options the developer set win over the model’s policy suggestions', async () => {
    const { gen } = await setup(() => reply.json({ ...goodReply, policy: { attempts: 50, timeout: 10, retryOn: 'transient' } }))
    const spec = { ...scaleSpec, options: { attempts: 4 } }
    const result = await gen.generate({ spec, baseline: { ...scaleBaseline, policy: { ...scaleBaseline.policy, attempts: 4 } } })
    expect(result.parts.policy).toMatchObject({ attempts: 4, timeout: 100, retryOn: 'transient' })
  })

  it('keeps only verified operate variants, and only with optimizeFor', async () => {
    const variants = [
      { name: 'loop', body: 'const out = []\nfor (let i = 0; i < values.length; i++) out.push(values[i] * factor)\nreturn out', rationale: 'no closure' },
      { name: 'escape', body: 'return globalThis.process', rationale: 'evil' },
    ]
    const { gen } = await setup(() => reply.json({ ...goodReply, variants }))
    const tuned = await gen.generate({ spec: { ...scaleSpec, options: { optimizeFor: 'latency' } }, baseline: scaleBaseline })
    expect(tuned.variants?.map((v) => v.name)).toEqual(['loop'])
    expect(renderPhaseModule(scaleSpec.id, tuned.parts).source).not.toContain('values[i] * factor')
    const plain = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(plain.variants).toBeUndefined()
  })

  it("keeps the domain's event limits: stats the model's perceive computes never reach an event", async () => {
    const { gen } = await setup(() => reply.json(goodReply))
    const result = await gen.generate({ spec: { ...scaleSpec, options: { domain: 'clinic' } }, baseline: { ...scaleBaseline, neverInEvents: ['stats', 'comment'] } })
    expect(result.fallback).toBeUndefined()
    expect(result.parts.generator).toBe('openai:test-model')
    expect(result.parts.neverInEvents).toEqual(['stats', 'comment'])
    const phases = await importPhases(renderPhaseModule(scaleSpec.id, result.parts).source)
    expect(phases.neverInEvents).toEqual(['stats', 'comment'])
    const events: PoetEvent[] = []
    const off = onEvent((e) => events.push(e))
    try {
      poet({}, phases)((values: number[], factor: number) => values.map((v) => v * factor))([1, 2, 3], 2)
    } finally {
      off()
    }
    expect(events).toEqual([expect.objectContaining({ kind: 'execution', outcome: 'ok' })])
    expect(events[0]).not.toHaveProperty('stats')

    const plain = await gen.generate({ spec: scaleSpec, baseline: scaleBaseline })
    expect(plain.parts).not.toHaveProperty('neverInEvents')
  })
})

describe('a model that keeps the baseline as it is', () => {
  it('passes the gate on the first request: the builtin checks of a weak type, an unknown property and a bigint literal', async () => {
    const code = `import { poet } from 'unplugin-poet/runtime'
export const store = poet()(function store(entry: { key: unknown; rank?: 1n | 2n }, cache: { size?: number }): number { return 1 })
`
    const [spec] = transformPoet(code, '/project/src/store.ts', { root: '/project', domains: new DomainRegistry(), warn: () => {} })!.specs
    const baseline = generateBuiltin(spec!)
    const copied = {
      ...goodReply,
      perceive: baseline.perceive,
      enforce: baseline.enforce,
      helpers: null,
      argExamples: [
        { json: '[{ "key": null }, {}]', valid: true, why: 'a key of any value' },
        { json: '[{}, {}]', valid: false, why: 'no key' },
      ],
      resultExamples: [{ json: '1', valid: true, why: 'a number' }],
    }
    const { gen, warnings, server } = await setup(() => reply.json(copied))
    const result = await gen.generate({ spec: spec!, baseline })
    expect(result.fallback).toBeUndefined()
    expect(warnings).toEqual([])
    expect(server.requests).toHaveLength(1)
  })
})

describe('hostile replies', () => {
  it('never let any payload into the lock: every one falls back to builtin', async () => {
    const payloads = hostilePayloads()
    const byId = new Map(payloads.map((p) => [`src/hostile.ts#${p.name.replace(/\W/g, '_')}`, p]))
    server = await startOpenAIServer((req) => {
      const id = /Function id: (\S+)/.exec(req.messages[1]!.content)![1]!
      return reply.json(hostileReply(byId.get(id)!))
    })
    const warnings: string[] = []
    const gen = createLlmGenerator({ provider: 'openai', model: 'm', baseURL: server.baseURL, apiKey: 'k', concurrency: 8 }, { warn: (m) => warnings.push(m), reasks: 1 })
    const dir = mkdtempSync(join(tmpdir(), 'poet-hostile-'))
    const store = new LockStore(dir)
    await Promise.all(
      [...byId].map(async ([id]) => {
        const spec = { ...scaleSpec, id }
        const result = await gen.generate({ spec, baseline: scaleBaseline })
        const rendered = renderPhaseModule(id, result.parts)
        store.write(id, { version: rendered.version, source: rendered.source, inputHash: 'h', generator: result.parts.generator, reason: result.fallback && `fallback: ${result.fallback}` })
      }),
    )
    expect(warnings).toHaveLength(payloads.length)
    const lock = store.read()
    for (const [id] of byId) expect(lock.functions[id]!.versions[lock.functions[id]!.current]!.generator).toBe('builtin')
    const written = readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => {
      try {
        return readFileSync(join(dir, f), 'utf8')
      } catch {
        return ''
      }
    }).join('\n')
    for (const p of payloads) expect(written, p.name).not.toContain(p.marker)
    expect(written).toContain('function perceive(args, ctx)')
  })
})
