// The fixture project built by each of the six bundlers, its output run in Node 20: what a user of each bundler sees.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import type { ExecutionEvent, Issue } from '../../src/runtime/types'
import { BUNDLERS, build, createProject, FIXTURE_FUNCTIONS, run, type Bundler, type BuildResult, type Project } from '../helpers/project'

/** Each build as the feedback.endpoint warning names it: the test helper's Vite build is an SSR build. */
const ENDPOINT_BUILD: Record<Bundler, string> = { vite: 'a Vite SSR', rollup: 'a Rollup', rolldown: 'a Rolldown', esbuild: 'an esbuild', webpack: 'a webpack', rspack: 'a rspack' }

/** What the fixture's entry exports (see test/fixtures/project/src/main.ts). */
interface Fixture {
  priceOrder(order: unknown): number
  flaky(): Promise<number>
  flakyCalls(): number
  slow(): Promise<string>
  Pricing: new (rate: number) => { quote(amount: unknown): number }
  double(n: unknown): number
  shout(text: unknown): string
  rhyme(line: string): string
  events: ExecutionEvent[]
  PoetInputError: new (...args: never[]) => Error & { issues: Issue[] }
  PoetTimeoutError: new (...args: never[]) => Error & { timeout: number }
}

describe.each(BUNDLERS)('%s', (bundler) => {
  let project: Project
  let output: BuildResult
  let app: Fixture

  beforeAll(async () => {
    project = createProject(bundler)
    output = await build(project, bundler)
    app = await run<Fixture>(output)
  })
  afterAll(() => project.remove())

  const lock = () => JSON.parse(project.read('.poet/lock.json')) as LockFile
  const eventsOf = (id: string) => app.events.filter((e) => e.functionId === id)

  it('runs a valid call through the phases generated for it', () => {
    const order = { items: [{ name: 'tea', price: 3 }, { name: 'cake', price: 4.5 }] }
    expect(app.priceOrder(order)).toBe(7.5)
    const [event] = eventsOf('src/orders.ts#priceOrder')
    expect(event).toMatchObject({ outcome: 'ok', attempts: 1, version: lock().functions['src/orders.ts#priceOrder']!.current })
  })

  it('rejects an invalid input with the exact path of every issue', () => {
    const order = { items: [{ name: 'tea', price: 3 }, { name: 'cake', price: '4.50' }] }
    let caught: unknown
    try {
      app.priceOrder(order)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(app.PoetInputError)
    const error = caught as InstanceType<Fixture['PoetInputError']>
    expect(error.issues).toEqual([{ path: 'args[0].items[1].price', expected: 'number', received: 'string' }])
    expect(error.message).toContain('args[0].items[1].price: expected number, received string')
  })

  it('retries a flaky function until its third attempt succeeds', async () => {
    await expect(app.flaky()).resolves.toBe(3)
    expect(app.flakyCalls()).toBe(3)
    expect(eventsOf('src/flaky.ts#flaky').at(-1)).toMatchObject({ outcome: 'ok', attempts: 3 })
  })

  it('abandons an attempt that outlives its timeout with PoetTimeoutError', async () => {
    const error = await app.slow().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(app.PoetTimeoutError)
    expect((error as InstanceType<Fixture['PoetTimeoutError']>).timeout).toBe(20)
    expect(eventsOf('src/slow.ts#slow').at(-1)).toMatchObject({ outcome: 'timeout', attempts: 1 })
  })

  it('lowers @poet on a method so Node 20 runs it, with `this` intact and input checked', () => {
    const pricing = new app.Pricing(2)
    expect(pricing.quote(3)).toBe(6)
    expect(() => pricing.quote('3')).toThrow('args[0]: expected number, received string')
    expect(eventsOf('src/pricing.ts#Pricing.quote').map((e) => e.outcome)).toEqual(['ok', 'input_error'])
    expect(readFileSync(output.file, 'utf8')).not.toMatch(/^\s*@(poet|rt\.poet|harden)\b/m)
  })

  it('recognises poet under an alias and through a namespace import', () => {
    expect(app.double(21)).toBe(42)
    expect(() => app.double('21')).toThrow('args[0]: expected number, received string')
    expect(app.shout('hey')).toBe('HEY!')
    expect(() => app.shout(7)).toThrow('args[0]: expected string, received number')
  })

  it('builds without a warning (Rollup, with the runtime external, warned of the issue helpers a phase module imports for domain rules and leaves unused)', async () => {
    expect(output.warnings).toEqual([])
    // double(n: number) alone: its checks call none of the helpers but `add`.
    const alone = await build(project, bundler, { entry: 'src/aliased.ts', outDir: 'dist-alone' })
    expect(alone.warnings).toEqual([])
  })

  it('says once that feedback.endpoint reaches only pages Vite builds from index.html (elsewhere, a Vite SSR build included, it was set and silently did nothing)', async () => {
    const endpoint = 'https://poet.example.com/v1/events'
    const result = await build(project, bundler, { outDir: 'dist-endpoint', options: { feedback: { endpoint } } })
    const said = result.warnings.filter((w) => w.includes('feedback.endpoint'))
    expect(said, result.warnings.join('\n')).toHaveLength(1)
    expect(said[0]).toContain(`feedback.endpoint (${endpoint}) reaches only pages that Vite builds from an index.html; ${ENDPOINT_BUILD[bundler]} build has none`)
    expect(said[0]).toContain(`configure({ sink: httpSink({ url: '${endpoint}' }) })`)
  })

  it('leaves a module that only mentions poet alone', () => {
    expect(app.rhyme('roses are red')).toBe('roses are red, said the poet')
    expect(Object.keys(lock().functions).sort()).toEqual(FIXTURE_FUNCTIONS)
  })

  it('warns where a timeout is set on a synchronous function, which still runs', async () => {
    const other = createProject(`${bundler}-sync`, { extras: true })
    try {
      const result = await build(other, bundler, { entry: 'src/sync.ts' })
      const at = positionOf(other.read('src/sync.ts'), 'timeout: 50', 0)
      // Rollup and Rolldown put the place they are given (`loc`) in front of the message, in their own form, with the
      // column of every message of poet's (as in poet's errors, which they print beside such a message); the others
      // print the message, which names it.
      const place = bundler === 'rollup' || bundler === 'rolldown' ? `src/sync.ts (${at.line}:${at.column + 1})` : `src/sync.ts:${at.line}:${at.column + 1}:`
      const warning = result.warnings.find((w) => w.includes(place))
      expect(warning, result.warnings.join('\n')).toContain("'timeout' has no effect on src/sync.ts#addOne")
      expect((await run<{ addOne(n: number): number }>(result)).addOne(1)).toBe(2)
    } finally {
      other.remove()
    }
  })

  it('maps a position after a rewritten call back to its original line and column', () => {
    const original = project.read('src/orders.ts')
    const code = readFileSync(output.file, 'utf8')
    const want = positionOf(original, 'sourcemap-marker')
    const got = positionOf(code, 'sourcemap-marker')
    const traced = originalPositionFor(new TraceMap(readFileSync(output.map, 'utf8')), got)
    expect(traced.source).toMatch(/src\/orders\.ts$/)
    expect({ line: traced.line, column: traced.column }).toEqual(want)
  })

  it('maps every point of a line with two rewritten calls, and of a lowered @poet, back to its line and column, in LF, CRLF and BOM files; a stack trace too', async () => {
    const marks = ['before', 'in-options', 'in-body', 'in-second', 'after', 'thrown', 'in-method', 'after-method']
    const text = (tag: string, eol: string) =>
      [
        "import { poet } from 'unplugin-poet/runtime'",
        'const mark = (label: string) => label',
        `export const pair = [mark('${tag}before'), poet({ attempts: 1, optimizeFor: '${tag}in-options' })(function one(n: number): number { return n + mark('${tag}in-body').length * 0 }), poet()(function two(s: string): string { return s + mark('${tag}in-second') }), mark('${tag}after')]`,
        `export const boom = poet({ attempts: 1 })(function boom(n: number): number { if (n > 0) throw new Error('${tag}thrown'); return n }); export const callBoom = (n: number) => boom(n)`,
        'export class Meter {',
        '  @poet({ attempts: 1 })',
        `  read(n: number): number { return n + mark('${tag}in-method').length * 0 }`,
        `  other(): string { return mark('${tag}after-method') }`,
        '}',
        '',
      ].join(eol)
    const files = { 'src/maps-lf.ts': text('lf-', '\n'), 'src/maps-crlf.ts': text('crlf-', '\r\n'), 'src/maps-bom.ts': `\uFEFF${text('bom-', '\n')}` }
    // A project of its own: the lock of the shared one must hold the fixture's functions only.
    const other = createProject(`${bundler}-maps`)
    onTestFinished(() => other.remove())
    for (const [file, content] of Object.entries(files)) other.write(file, content)
    other.write('src/maps.ts', Object.keys(files).map((f, i) => `export * as m${i} from './${f.slice(4)}'`).join('\n') + '\n')
    const result = await build(other, bundler, { entry: 'src/maps.ts', outDir: 'dist-maps' })
    const code = readFileSync(result.file, 'utf8')
    const raw = JSON.parse(readFileSync(result.map, 'utf8')) as { sources: string[]; sourcesContent: string[] }
    const map = new TraceMap(raw as never)
    for (const [file, content] of Object.entries(files)) {
      const tag = /maps-(\w+)/.exec(file)![1]
      for (const mark of marks) {
        const literal = `'${tag}-${mark}'`
        const traced = originalPositionFor(map, lineColumn(code, code.includes(literal) ? literal : `"${tag}-${mark}"`))
        expect({ file, mark, source: traced.source?.endsWith(file), line: traced.line, column: traced.column }).toEqual({ file, mark, source: true, ...lineColumn(content, literal) })
      }
      // Rollup drops the byte order mark before any plugin sees the file; it shows nowhere in an editor either.
      expect(raw.sourcesContent[raw.sources.findIndex((s) => s.endsWith(file))]?.replace(/^\uFEFF/, '')).toBe(content.replace(/^\uFEFF/, ''))
    }
    // Node resolves the stack through the bundle's map: the frame of the poet function, at `new Error` (1-based).
    const script = `import(${JSON.stringify(result.file)}).then((m) => { try { m.m1.callBoom(1) } catch (e) { console.log(e.stack) } })`
    const stack = execFileSync(process.execPath, ['--enable-source-maps', '-e', script], { encoding: 'utf8' })
    const at = lineColumn(files['src/maps-crlf.ts'], 'new Error')
    expect(stack).toMatch(new RegExp(`at \\w*boom\\w* \\(.*src/maps-crlf\\.ts:${at.line}:${at.column + 1}\\)`))
  })

  it('fails the build on a misspelled option, naming file:line:column with a code frame', async () => {
    const source = project.read('src/broken.ts')
    const at = positionOf(source, 'atempts', 0)
    const error = await build(project, bundler, { entry: 'src/broken.ts', outDir: 'dist-broken' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error, 'the build must fail').toBeInstanceOf(Error)
    // Rollup's API hands back the plugin's error, whose frame its CLI prints under the message (see bundlers-error-output).
    const message = bundler === 'rollup' ? `${error!.message}\n${(error as Error & { frame: string }).frame}` : error!.message
    expect(message).toContain(`src/broken.ts:${at.line}:${at.column + 1}:`)
    expect(message).toContain("unknown poet() option 'atempts'. Did you mean 'attempts'?")
    expect(message).toContain(`> ${at.line} | export const broken = poet({ atempts: 3 })`)
    expect(message).toMatch(new RegExp(`\\| {${at.column + 1}}\\^`))
    // The plugin's own call stack says nothing about the user's mistake; webpack and rspack print it unless told not to.
    if (bundler === 'webpack' || bundler === 'rspack') expect(message).not.toMatch(/^\s+at /m)
  })

  it('names the mistake when poet is imported from the package root (esbuild failed on "Could not resolve vite" inside the plugin)', async () => {
    project.write('src/wrong-import.ts', "import { poet } from 'unplugin-poet'\n\nexport const f = poet()((x: number) => x * 2)\n")
    const error = await build(project, bundler, { entry: 'src/wrong-import.ts', outDir: 'dist-wrong-import' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error, 'the build must fail').toBeInstanceOf(Error)
    expect(error!.message).toContain("src/wrong-import.ts:1:10: poet() comes from 'unplugin-poet/runtime'")
    expect(error!.message).not.toContain('Could not resolve')
  })

  it('stops at a misspelled plugin option, naming it and the closest valid one', async () => {
    const error = await build(project, bundler, { outDir: 'dist-options', options: { lockdir: '.poet' } as never }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).toContain("unplugin-poet: unknown plugin option 'lockdir'.")
    expect(error?.message).toContain("'lockDir'")
  })

  it('writes the lock, reuses it on a second build, and versions a changed function anew', async () => {
    const before = lock()
    const phases = join(project.lockDir, 'phases')
    const stamps = () => Object.fromEntries(readdirSync(phases).map((f) => [f, statSync(join(phases, f)).mtimeMs]))
    const lockBytes = project.read('.poet/lock.json')
    const phaseStamps = stamps()
    expect(Object.keys(phaseStamps)).toHaveLength(FIXTURE_FUNCTIONS.length)

    await build(project, bundler, { outDir: 'dist-second' })
    expect(project.read('.poet/lock.json')).toBe(lockBytes)
    expect(stamps()).toEqual(phaseStamps)

    // The version is a hash of the generated phases: a new parameter type must give new phases.
    const edited = project.read('src/aliased.ts').replace('(n: number): number', '(n: number | string): number')
    project.write('src/aliased.ts', edited.replace('return n * 2', 'return Number(n) * 2').replace('harden()', "harden({ optimizeFor: 'accuracy' })"))
    const third = await build(project, bundler, { outDir: 'dist-third' })
    const after = lock()
    const id = 'src/aliased.ts#double'
    expect(after.functions[id]!.current).not.toBe(before.functions[id]!.current)
    expect(Object.keys(after.functions[id]!.versions)).toHaveLength(2)
    expect(after.functions[id]).toMatchObject({ optimizeFor: 'accuracy' })
    for (const other of FIXTURE_FUNCTIONS.filter((f) => f !== id)) expect(after.functions[other]).toEqual(before.functions[other])
    const rebuilt = await run<Fixture>(third)
    expect(rebuilt.double('4')).toBe(8)
    expect(() => rebuilt.double(true)).toThrow('args[0]: expected number | string, received boolean')
  })

  it('serves a phase module no transformed file declares from the lock, and names what is missing otherwise', async () => {
    const key = 'src~2forders.ts~23priceOrder'
    project.write('src/direct.ts', `import phases from 'virtual:poet/${key}'\nexport const { id, version } = phases\n`)
    const direct = await run<{ id: string; version: string }>(await build(project, bundler, { entry: 'src/direct.ts', outDir: 'dist-direct' }))
    expect(direct).toMatchObject({ id: 'src/orders.ts#priceOrder', version: lock().functions['src/orders.ts#priceOrder']!.current })

    project.write('src/missing.ts', `import phases from 'virtual:poet/src~2fgone.ts~23vanished'\nexport default phases\n`)
    const error = await build(project, bundler, { entry: 'src/missing.ts', outDir: 'dist-missing' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).toContain('poet: no phases for "src/gone.ts#vanished" (virtual:poet/src~2fgone.ts~23vanished)')
  })
})

/** 1-based line and 0-based column (trace-mapping's convention) of the quote that opens a string literal holding `text`. */
function positionOf(code: string, text: string, back = 1): { line: number; column: number } {
  const index = code.indexOf(text)
  if (index < 0) throw new Error(`"${text}" is not in the code`)
  const before = code.slice(0, index - back)
  const line = before.split('\n').length
  return { line, column: before.length - before.lastIndexOf('\n') - 1 }
}

/** 1-based line and 0-based column (trace-mapping's convention) of `text`, counting CRLF as one line break. */
function lineColumn(code: string, text: string): { line: number; column: number } {
  const index = code.indexOf(text)
  if (index < 0) throw new Error(`"${text}" is not in the code`)
  const lines = code.slice(0, index).split(/\r?\n/)
  return { line: lines.length, column: lines[lines.length - 1]!.length }
}
