// A read-only checkout (Nix, Bazel sandboxes, a read-only mount): `.poet/` cannot be written. Builtin phases are served
// from memory with one warning (test/plugin/compiler-upgrade.test.ts); an LLM's are not, and the build says why.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { build, createProject, readOnly, run, type Project } from '../helpers/project'
import { reply, startOpenAIServer, type OpenAIServer } from '../helpers/openai-server'
import { goodReply, scaleSource } from '../generators/verify/fixture'

const SCALE = scaleSource()

let server: OpenAIServer | undefined
let project: Project | undefined
afterEach(async () => {
  await server?.close()
  project?.remove()
  server = project = undefined
})

describe('a read-only .poet/', () => {
  it('serves a missing builtin entry from memory, and fails an LLM generation with what to do, not a raw errno', async () => {
    project = createProject('readonly-lock')
    project.write('src/scale.ts', SCALE)
    await build(project, 'vite', { entry: 'src/scale.ts', outDir: 'dist/first' })
    const lock = readFileSync(join(project.lockDir, 'lock.json'), 'utf8')
    project.write('src/more.ts', SCALE.replace(/scale/g, 'more'))
    server = await startOpenAIServer(() => reply.json(goodReply))
    const writable = readOnly(project.lockDir)
    try {
      // A function the lock does not hold yet: the builtin compiler's phases, from memory.
      const built = await build(project, 'vite', { entry: 'src/more.ts', outDir: 'dist/ro' })
      expect(built.warnings.filter((w) => w.includes('cannot be written'))).toHaveLength(1)
      const app = await run<{ more(v: unknown, f: unknown): number[]; PoetInputError: new () => Error }>(built, 'readonly')
      expect(() => app.more(['1'], 2)).toThrow(app.PoetInputError)

      const llm = { provider: 'openai', model: 'test-model', baseURL: server.baseURL, apiKey: 'k' } as const
      const failed = await build(project, 'vite', { entry: 'src/scale.ts', outDir: 'dist/llm', options: { generator: llm, strict: false } }).then(
        () => undefined,
        (e: Error) => e.message,
      )
      expect(failed).toMatch(
        /poet: src\/scale\.ts#scale: \.poet\/ cannot be written \((EROFS|EACCES|EPERM)[^)]*\), so the phases openai:test-model generated for it cannot be kept in the lock \(a build serves an LLM's phases only from the lock, where they are reviewed and paid for once\)\. Run `poet generate` where \.poet\/ is writable and commit \.poet\/\./,
      )
      // Strict builds never call the LLM: the entry the LLM has not written is the error it always was.
      const strict = await build(project, 'vite', { entry: 'src/scale.ts', outDir: 'dist/strict', options: { generator: llm, strict: true } }).then(
        () => undefined,
        (e: Error) => e.message,
      )
      expect(strict).toContain('strict builds never call an LLM')
      expect(server.requests).toHaveLength(1)
    } finally {
      writable()
    }
    expect(readFileSync(join(project.lockDir, 'lock.json'), 'utf8')).toBe(lock)
  })
})
