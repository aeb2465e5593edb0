import { execFile, execFileSync, spawn } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { fallbackWhy, inputHash, LockStore, refusedLockWrite, serialize, type LockFile, type LockVersion } from '../../src/generators/lock'
import { createProject } from '../helpers/project'
import { scaleSpec } from './verify/fixture'

const run = promisify(execFile)
/** Bundles a script that imports the LockStore from source, so a plain Node process or thread can run it. */
const bundleScript = (contents: string, outfile: string) =>
  build({ stdin: { contents, resolveDir: process.cwd(), loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'silent' })
const fresh = () => mkdtempSync(join(tmpdir(), 'poet-lock-'))
const nv = (version: string, extra: object = {}) => ({ version, source: `export default ${JSON.stringify(version)}\n`, inputHash: 'h1', generator: 'builtin', ...extra })

describe('inputHash', () => {
  it('changes with every input the lock depends on and ignores key order', () => {
    const base = inputHash(scaleSpec, { generator: 'openai:m', model: 'm', promptVersion: 'p1', domainVersion: 'd@1' })
    expect(inputHash({ ...scaleSpec }, { promptVersion: 'p1', model: 'm', domainVersion: 'd@1', generator: 'openai:m' })).toBe(base)
    const variants = [
      inputHash({ ...scaleSpec, source: scaleSpec.source + ' ' }, { generator: 'openai:m', model: 'm', promptVersion: 'p1', domainVersion: 'd@1' }),
      inputHash({ ...scaleSpec, options: { attempts: 2 } }, { generator: 'openai:m', model: 'm', promptVersion: 'p1', domainVersion: 'd@1' }),
      inputHash({ ...scaleSpec, returns: { kind: 'number' } }, { generator: 'openai:m', model: 'm', promptVersion: 'p1', domainVersion: 'd@1' }),
      inputHash(scaleSpec, { generator: 'openai:m', model: 'm', promptVersion: 'p1', domainVersion: 'd@2' }),
      inputHash(scaleSpec, { generator: 'builtin', model: 'm', promptVersion: 'p1', domainVersion: 'd@1' }),
      inputHash(scaleSpec, { generator: 'openai:m', model: 'm2', promptVersion: 'p1', domainVersion: 'd@1' }),
      inputHash(scaleSpec, { generator: 'openai:m', model: 'm', promptVersion: 'p2', domainVersion: 'd@1' }),
    ]
    expect(new Set([base, ...variants]).size).toBe(8)
    expect(inputHash({ ...scaleSpec, options: { domain: 'x', attempts: 2 } }, { generator: 'b' })).toBe(inputHash({ ...scaleSpec, options: { attempts: 2, domain: 'x' } }, { generator: 'b' }))
  })
})

describe('LockStore', () => {
  it("yields a build's write to a current version another writer made from the same inputs meanwhile, and only that", async () => {
    const dir = fresh()
    // Two processes' stores: each read the lock before the other wrote.
    const page = new LockStore(dir)
    const server = new LockStore(dir)
    await page.writeSoon('src/a.ts#f', nv('v1page'), true)
    await server.writeSoon('src/a.ts#f', nv('v1server'), true)
    let entry = server.read().functions['src/a.ts#f']!
    expect(entry.current).toBe('v1page')
    expect(Object.keys(entry.versions)).toEqual(['v1page'])
    // New inputs are a new generation, which replaces current as ever.
    await server.writeSoon('src/a.ts#f', nv('v2', { inputHash: 'h2' }), true)
    expect(page.read().functions['src/a.ts#f']!.current).toBe('v2')
    // And a write that does not yield (`poet generate --force`) replaces a current from the same inputs.
    await page.writeSoon('src/a.ts#f', nv('v2forced', { inputHash: 'h2' }))
    entry = server.read().functions['src/a.ts#f']!
    expect(entry.current).toBe('v2forced')
    expect(Object.keys(entry.versions).sort()).toEqual(['v1page', 'v2', 'v2forced'])
  })

  it('keeps every version with a current pointer, and looks up by input hash', () => {
    const store = new LockStore(fresh())
    store.write('src/a.ts#f', nv('v1', { inputHash: 'h1', usage: { promptTokens: 10, completionTokens: 5 }, model: 'm', generator: 'openai:m' }))
    store.write('src/a.ts#f', nv('v2', { inputHash: 'h2', reason: 'fallback: model refused' }))
    const entry = store.read().functions['src/a.ts#f']!
    expect(entry.current).toBe('v2')
    expect(Object.keys(entry.versions)).toEqual(['v1', 'v2'])
    expect(entry.versions.v1).toMatchObject({ generator: 'openai:m', model: 'm', usage: { promptTokens: 10, completionTokens: 5 }, file: 'phases/src~2fa.ts~23f.v1.js' })
    expect(store.lookup('src/a.ts#f', 'h2')?.source).toBe('export default "v2"\n')
    expect(store.lookup('src/a.ts#f', 'h1')).toBeUndefined()
    expect(store.source('src/a.ts#f', 'v1')).toBe('export default "v1"\n')
    expect(store.history('src/a.ts#f').map((h) => [h.version, h.current])).toEqual([['v1', false], ['v2', true]])
  })

  it('writes operate variants beside the version, never into the phase module', () => {
    const dir = fresh()
    const store = new LockStore(dir)
    store.write('src/a.ts#f', nv('v1', { variants: [{ name: 'fast', body: 'return 1', rationale: 'r' }] }))
    const v = store.read().functions['src/a.ts#f']!.versions.v1!
    expect(v.variants).toEqual({ file: 'phases/src~2fa.ts~23f.v1.variants.json', names: ['fast'] })
    expect(JSON.parse(readFileSync(join(dir, v.variants!.file), 'utf8'))).toEqual([{ name: 'fast', body: 'return 1', rationale: 'r' }])
    expect(store.source('src/a.ts#f', 'v1')).not.toContain('return 1')
  })

  it('is deterministic: sorted keys, and writing the same thing again touches no file', async () => {
    const dir = fresh()
    const store = new LockStore(dir)
    store.write('src/z.ts#z', nv('v1'))
    store.write('src/a.ts#a', nv('v1'))
    const text = readFileSync(store.file, 'utf8')
    expect(text).toBe(serialize(JSON.parse(text)))
    expect(Object.keys(JSON.parse(text).functions)).toEqual(['src/a.ts#a', 'src/z.ts#z'])
    const mtimes = () => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js') || f.endsWith('.json')).map((f) => statSync(join(dir, f)).mtimeMs)
    const before = mtimes()
    await new Promise((r) => setTimeout(r, 20))
    store.write('src/z.ts#z', nv('v1'))
    store.write('src/a.ts#a', nv('v1'))
    expect(readFileSync(store.file, 'utf8')).toBe(text)
    expect(mtimes()).toEqual(before)
  })

  it('gives byte-identical locks for the same inputs under SOURCE_DATE_EPOCH', () => {
    const previous = process.env.SOURCE_DATE_EPOCH
    process.env.SOURCE_DATE_EPOCH = '1700000000'
    try {
      const [a, b] = [new LockStore(fresh()), new LockStore(fresh())]
      for (const s of [a, b]) {
        s.write('src/b.ts#b', nv('v1'))
        s.write('src/a.ts#a', nv('v9'))
      }
      expect(readFileSync(a.file, 'utf8')).toBe(readFileSync(b.file, 'utf8'))
      expect(readFileSync(a.file, 'utf8')).toContain('"created": "2023-11-14T22:13:20.000Z"')
    } finally {
      if (previous === undefined) delete process.env.SOURCE_DATE_EPOCH
      else process.env.SOURCE_DATE_EPOCH = previous
    }
  })

  it('says which file is broken when lock.json is not JSON', () => {
    const dir = fresh()
    writeFileSync(join(dir, 'lock.json'), '{ nope')
    expect(() => new LockStore(dir).read()).toThrow(`poet: cannot read ${join(dir, 'lock.json')}:`)
  })

  it('names merge conflict markers in lock.json, and what to do about them', () => {
    const dir = fresh()
    writeFileSync(join(dir, 'lock.json'), '{\n<<<<<<< HEAD\n  "lockfileVersion": 1,\n=======\n  "lockfileVersion": 1,\n>>>>>>> feature\n  "functions": {}\n}\n')
    expect(() => new LockStore(dir).read()).toThrow(
      `poet: cannot read ${join(dir, 'lock.json')}: it holds unresolved merge conflict markers (<<<<<<<). Resolve the conflict, or take one side and run \`poet generate\`.`,
    )
  })

  it('says what is wrong when lock.json is JSON of another shape, instead of failing later with a TypeError', () => {
    for (const text of ['null', '[]', '{}', '{ "lockfileVersion": 1, "functions": null }', '{ "functions": [] }']) {
      const dir = fresh()
      writeFileSync(join(dir, 'lock.json'), text)
      expect(() => new LockStore(dir).read(), text).toThrow(`poet: cannot read ${join(dir, 'lock.json')}: it is JSON but not a poet lock`)
    }
  })

  it('sees every change at once, whether written by another store or edited in place, and never a torn parse', () => {
    const dir = fresh()
    const reader = new LockStore(dir)
    new LockStore(dir).write('src/a.ts#f', nv('aaaaaaaaaa'))
    expect(reader.read().functions['src/a.ts#f']!.current).toBe('aaaaaaaaaa')
    expect(reader.read()).toBe(reader.read())
    new LockStore(dir).write('src/a.ts#f', nv('bbbbbbbbbb'))
    expect(reader.read().functions['src/a.ts#f']!.current).toBe('bbbbbbbbbb')
    // An edit in place of the same length (a hand edit, a checkout), right after the last read.
    const file = join(dir, 'lock.json')
    writeFileSync(file, readFileSync(file, 'utf8').replace('"current": "bbbbbbbbbb"', '"current": "aaaaaaaaaa"'))
    expect(reader.read().functions['src/a.ts#f']!.current).toBe('aaaaaaaaaa')
    writeFileSync(file, '{ nope')
    expect(() => reader.read()).toThrow(`poet: cannot read ${file}:`)
  })

  describe('across processes', () => {
    // One script for every child: `write` (versions of its own functions and of a shared one), `hold` (takes the lock
    // and never lets go, until killed), `count` (increments a counter kept in the lock, one update at a time).
    let script: string
    beforeAll(async () => {
      script = join(fresh(), 'child.mjs')
      await bundleScript(
        `import { LockStore } from ${JSON.stringify(join(process.cwd(), 'src/generators/lock.ts'))}
const [mode, dir, ...rest] = process.argv.slice(2)
const store = new LockStore(dir)
if (mode === 'hold') {
  store.update(() => {
    process.stdout.write('holding\\n')
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  })
} else if (mode === 'adopt') {
  process.stdout.write('ready\\n')
  store.write('src/a.ts#f', { version: 'v1', source: 'export default "v1"\\n', inputHash: 'h1', generator: 'builtin' })
} else if (mode === 'count') {
  process.stdout.write('ready\\n')
  for (let i = 0; i < Number(rest[0]); i++) {
    store.update((lock) => {
      const entry = (lock.functions.counter ??= { current: '0', versions: {} })
      entry.current = String(Number(entry.current) + 1)
    })
  }
} else {
  const [who, n] = rest
  for (let i = 0; i < Number(n); i++) {
    store.write('src/' + who + '.ts#f' + i, { version: who + i, source: 'export default 1\\n', inputHash: 'h', generator: 'builtin' })
    store.write('src/shared.ts#same', { version: who + '-' + i, source: 'export default "' + who + i + '"\\n', inputHash: who, generator: 'builtin' })
  }
}`,
        script,
      )
    })

    /** A child running the script, with a promise of its exit code and one of the first line it prints. */
    const child = (...args: string[]) => {
      const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      proc.stderr.on('data', (d: Buffer) => (stderr += d))
      const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => proc.once('exit', (code) => resolve({ code, stderr })))
      const started = new Promise<void>((resolve, reject) => {
        proc.stdout.once('data', () => resolve())
        void exit.then(({ code, stderr }) => reject(new Error(`the child exited with ${code} before it started: ${stderr}`)))
      })
      return { proc, exit, started }
    }
    /** A child that holds the lock of `dir` until killed; resolves once it holds it. */
    const holder = async (dir: string) => {
      const held = child('hold', dir)
      await held.started
      return held
    }
    const kill = async (c: ReturnType<typeof child>) => {
      c.proc.kill('SIGKILL')
      await c.exit
    }
    const counter = (dir: string) => (JSON.parse(readFileSync(join(dir, 'lock.json'), 'utf8')) as LockFile).functions.counter?.current
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

    it('loses no entry and always leaves valid JSON', async () => {
      const dir = fresh()
      const n = 40
      await Promise.all([run(process.execPath, [script, 'write', dir, 'one', String(n)]), run(process.execPath, [script, 'write', dir, 'two', String(n)])])
      const lock = JSON.parse(readFileSync(join(dir, 'lock.json'), 'utf8'))
      for (const who of ['one', 'two']) for (let i = 0; i < n; i++) expect(lock.functions[`src/${who}.ts#f${i}`]?.current, `${who} ${i}`).toBe(`${who}${i}`)
      const same = lock.functions['src/shared.ts#same']
      expect(Object.keys(same.versions)).toHaveLength(2 * n)
      expect(['one-39', 'two-39']).toContain(same.current)
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    })

    it('a writer that found its module already on disk as a stray file names it only once it is sure it is still there', async () => {
      const dir = fresh()
      // A run whose lock write was refused two hours ago left exactly the module this writer writes, so the writer leaves
      // it as it is, old. Removed as stray (under the lock) while the writer waits for the lock, it is written again.
      const { file } = new LockStore(dir).writeFiles('src/a.ts#f', 'v1', 'export default "v1"\n')
      const hoursAgo = (Date.now() - 2 * 3_600_000) / 1000
      utimesSync(join(dir, file), hoursAgo, hoursAgo)
      expect(new LockStore(dir).strayFiles()).toEqual([file])
      const held = await holder(dir)
      try {
        const writer = child('adopt', dir)
        await writer.started
        await sleep(1500)
        rmSync(join(dir, file))
        await kill(held)
        expect(await writer.exit).toEqual({ code: 0, stderr: '' })
      } finally {
        held.proc.kill('SIGKILL')
      }
      const store = new LockStore(dir)
      expect(store.read().functions['src/a.ts#f']?.versions.v1?.file).toBe(file)
      expect(store.source('src/a.ts#f', 'v1')).toBe('export default "v1"\n')
    }, 20_000)

    it('takes over at once the lock of a process killed while it held it', async () => {
      const dir = fresh()
      await kill(await holder(dir))
      const store = new LockStore(dir)
      const started = Date.now()
      store.write('src/a.ts#f', nv('v1'))
      // Not waiting out the lock's age (30 s) or the wait (10 s): a loaded machine may take a few seconds over the rest.
      expect(Date.now() - started).toBeLessThan(5000)
      expect(store.read().functions['src/a.ts#f']?.current).toBe('v1')
      expect(readdirSync(dir).sort()).toEqual(['lock.json', 'phases'])
    }, 20_000)

    it('keeps a waiter waiting while the holder lives, and lets it go on as soon as the holder is killed', async () => {
      const dir = fresh()
      const held = await holder(dir)
      try {
        const waiter = child('count', dir, '1')
        await waiter.started
        await sleep(1500)
        expect(waiter.proc.exitCode).toBeNull()
        await kill(held)
        const killedAt = Date.now()
        expect(await waiter.exit).toEqual({ code: 0, stderr: '' })
        // Going on without waiting out the lock's age (30 s), with room for a loaded machine to start and end a process.
        expect(Date.now() - killedAt).toBeLessThan(5000)
        expect(counter(dir)).toBe('1')
      } finally {
        held.proc.kill('SIGKILL')
      }
    }, 20_000)

    it('says which process holds the lock, and how to free it, when a live holder keeps it past the wait', async () => {
      const dir = fresh()
      const held = await holder(dir)
      try {
        const lockPath = join(dir, '.lock')
        let message = ''
        try {
          new LockStore(dir).write('src/a.ts#f', nv('v1'))
        } catch (e) {
          message = (e as Error).message
        }
        const pid = held.proc.pid
        expect(message).toMatch(new RegExp(`^poet: waited 10 s for the lock ${escape(lockPath)}, held since \\S+ by process ${pid} on this machine\\. `))
        expect(message).toContain(`If process ${pid} is not a poet build or \`poet generate\`, delete the directory ${lockPath} and run again.`)
      } finally {
        await kill(held)
      }
    }, 40_000)

    it('takes over a lock without an owner record (an older poet left it) once it is older than 30 s, also when several processes want it', async () => {
      const dir = fresh()
      const lockPath = join(dir, '.lock')
      mkdirSync(lockPath)
      const old = (Date.now() - 31_000) / 1000
      utimesSync(lockPath, old, old)
      const waiters = Array.from({ length: 4 }, () => child('count', dir, '25'))
      try {
        for (const w of waiters) expect(await w.exit).toEqual({ code: 0, stderr: '' })
        expect(counter(dir)).toBe('100')
        expect(readdirSync(dir).sort()).toEqual(['lock.json'])
      } finally {
        for (const w of waiters) w.proc.kill('SIGKILL')
      }
    }, 30_000)

    it('waits out the age of a lock held on another host sharing the drive, whose pid means nothing here', () => {
      const dir = fresh()
      const lockPath = join(dir, '.lock')
      mkdirSync(lockPath)
      const record = join(lockPath, 'owner-elsewhere.json')
      // Beyond Linux's largest pid: no process here has it.
      writeFileSync(record, JSON.stringify({ pid: 4_194_305, host: 'build-server-2', since: new Date().toISOString() }))
      const aged = (Date.now() - 27_000) / 1000
      utimesSync(record, aged, aged)
      const started = Date.now()
      new LockStore(dir).write('src/a.ts#f', nv('v1'))
      expect(Date.now() - started).toBeGreaterThan(2000)
      expect(Date.now() - started).toBeLessThan(8000)
      expect(readdirSync(dir).sort()).toEqual(['lock.json', 'phases'])
    }, 20_000)

    it('gives up with what is wrong when a crashed holder\'s lock cannot be removed, instead of spinning forever', async () => {
      const dir = fresh()
      await kill(await holder(dir))
      const lockPath = join(dir, '.lock')
      // The crashed holder's lock is not the waiter's to remove (another user's, a read-only directory): root may
      // remove anything, so as root the waiter runs as nobody.
      chmodSync(lockPath, 0o555)
      for (const d of [dir, dirname(script)]) chmodSync(d, 0o755)
      const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
      const waiter = spawn(process.execPath, [script, 'count', dir, '1'], { stdio: ['ignore', 'ignore', 'pipe'], ...asNobody })
      let stderr = ''
      waiter.stderr.on('data', (d: Buffer) => (stderr += d))
      const exited = new Promise<number | null>((resolve) => waiter.once('exit', (code) => resolve(code)))
      const timer = setTimeout(() => waiter.kill('SIGKILL'), 20_000)
      try {
        const code = await exited
        expect(stderr, 'the waiter was still spinning after 20 s').not.toBe('')
        expect(code).toBe(1)
        expect(stderr).toContain(`poet: waited 10 s for the lock ${lockPath}, held since `)
        expect(stderr).toMatch(/which has ended, but it could not be removed \(EACCES: permission denied, unlink /)
        expect(stderr).toContain(`Delete the directory ${lockPath} and run again.`)
      } finally {
        clearTimeout(timer)
        waiter.kill('SIGKILL')
        chmodSync(lockPath, 0o755)
      }
    }, 30_000)

    it('loses no update when several processes wait on a killed holder and take it over together', async () => {
      const dir = fresh()
      const held = await holder(dir)
      const waiters = Array.from({ length: 4 }, () => child('count', dir, '25'))
      try {
        await Promise.all(waiters.map((w) => w.started))
        await sleep(300)
        await kill(held)
        for (const w of waiters) expect(await w.exit).toEqual({ code: 0, stderr: '' })
        expect(counter(dir)).toBe('100')
        expect(readdirSync(dir).sort()).toEqual(['lock.json'])
      } finally {
        for (const p of [held, ...waiters]) p.proc.kill('SIGKILL')
      }
    }, 30_000)
  })

  it('writes the same files from two threads of one process (one pid) without their temporary files colliding', async () => {
    const dir = fresh()
    const script = join(dir, 'thread.mjs')
    await bundleScript(
      `import { workerData } from 'node:worker_threads'
import { LockStore } from ${JSON.stringify(join(process.cwd(), 'src/generators/lock.ts'))}
const { dir, who, go } = workerData
const store = new LockStore(dir)
// Both threads start together, so their writes (and their counters) run side by side.
Atomics.wait(new Int32Array(go), 0, 0)
for (let i = 0; i < 300; i++) store.writeFiles('src/shared.ts#same', 'aaaaaaaaaa', 'export default "' + who + i + '"\\n')`,
      script,
    )
    const go = new SharedArrayBuffer(4)
    const thread = (who: string) => {
      const w = new Worker(script, { workerData: { dir, who, go } })
      const done = new Promise<void>((resolve, reject) => {
        w.on('error', reject)
        w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`thread ${who} exited with ${code}`))))
      })
      return { done, online: new Promise((resolve) => w.once('online', resolve)) }
    }
    const threads = [thread('one'), thread('two')]
    await Promise.all(threads.map((t) => t.online))
    await new Promise((resolve) => setTimeout(resolve, 100))
    Atomics.store(new Int32Array(go), 0, 1)
    Atomics.notify(new Int32Array(go), 0)
    await Promise.all(threads.map((t) => t.done))
    expect(readFileSync(join(dir, 'phases/src~2fshared.ts~23same.aaaaaaaaaa.js'), 'utf8')).toMatch(/^export default "(one|two)299"\n$/)
    expect(readdirSync(join(dir, 'phases')).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('stays complete and valid under two concurrent vite builds in separate processes', async () => {
    const project = createProject('lock-parallel')
    try {
      const fn = (name: string) => `export const ${name} = poet()(function ${name}(n: number): number {\n  return n\n})\n`
      const header = `import { poet } from 'unplugin-poet/runtime'\nexport { shared } from './shared.ts'\n`
      project.write('src/shared.ts', `import { poet } from 'unplugin-poet/runtime'\n${fn('shared')}`)
      project.write('src/a.ts', header + Array.from({ length: 15 }, (_, i) => fn(`a${i}`)).join(''))
      project.write('src/b.ts', header + Array.from({ length: 15 }, (_, i) => fn(`b${i}`)).join(''))
      for (const which of ['a', 'b']) {
        project.write(
          `build-${which}.mjs`,
          `import { build } from 'vite'\nimport poet from 'unplugin-poet/vite'\n` +
            `await build({ root: ${JSON.stringify(project.dir)}, logLevel: 'silent', configFile: false, plugins: [poet({ strict: false })], ` +
            `build: { outDir: 'dist-${which}', minify: false, lib: { entry: 'src/${which}.ts', formats: ['es'], fileName: '${which}' } } })\n`,
        )
      }
      const both = () => Promise.all(['a', 'b'].map((w) => run(process.execPath, [project.path(`build-${w}.mjs`)], { cwd: project.dir })))
      await both()
      const text = project.read('.poet/lock.json')
      const ids = Object.keys((JSON.parse(text) as { functions: object }).functions)
      expect(ids).toHaveLength(31)
      expect(ids).toContain('src/shared.ts#shared')
      for (let i = 0; i < 15; i++) expect(ids).toEqual(expect.arrayContaining([`src/a.ts#a${i}`, `src/b.ts#b${i}`]))
      await both()
      expect(project.read('.poet/lock.json')).toBe(text)
    } finally {
      project.remove()
    }
  })
})

describe('a lock write the disk cannot hold', () => {
  it('leaves no partial temporary file beside the lock, and says so as every command does', () => {
    // A real full disk: a 64 KiB tmpfs (as root, like the read-only mounts of test/helpers/project.ts), nearly filled.
    const dir = mkdtempSync(join(tmpdir(), 'poet-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' })
    try {
      const lock = new LockStore(join(dir, '.poet'))
      lock.write('src/a.ts#f', { version: 'v1', source: '// small\n', inputHash: 'h', generator: 'builtin' })
      const before = readFileSync(lock.file, 'utf8')
      writeFileSync(join(dir, 'filler'), Buffer.alloc(48 * 1024))
      let error: unknown
      try {
        lock.write('src/a.ts#f', { version: 'v2', source: `// big\n${'x'.repeat(32 * 1024)}\n`, inputHash: 'h2', generator: 'builtin' })
      } catch (e) {
        error = e
      }
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC')
      expect(refusedLockWrite(lock.dir, error, dir)).toBe(`cannot write .poet/ (${lock.dir}): no space left on the device`)
      expect(readdirSync(join(lock.dir, 'phases')).filter((f) => f.endsWith('.tmp'))).toEqual([])
      expect(readFileSync(lock.file, 'utf8')).toBe(before)
    } finally {
      execFileSync('umount', [dir], { stdio: 'pipe' })
    }
  })
})

describe('fallbackWhy', () => {
  const builtin: LockVersion = { inputHash: 'h', generator: 'builtin', model: 'm', created: '2026-01-01T00:00:00.000Z', file: 'phases/f.mjs' }

  it('reads the marker, whatever the reason says', () => {
    expect(fallbackWhy({ ...builtin, reason: 'builtin used in place of m (refused)', fallback: 'refused' })).toBe('refused')
    expect(fallbackWhy({ ...builtin, reason: 'fallback', fallback: '' })).toBe('')
  })

  it('reads locks from before the marker by their reason, but not Train\'s versions, whose reason adds what they kept', () => {
    expect(fallbackWhy({ ...builtin, reason: 'fallback: the model refused: No' })).toBe('the model refused: No')
    expect(fallbackWhy({ ...builtin, reason: 'fallback: the model refused: No: kept attempts Train promoted in v1' })).toBeUndefined()
    expect(fallbackWhy({ ...builtin, reason: 'build' })).toBeUndefined()
    expect(fallbackWhy({ ...builtin, generator: 'openai', reason: 'generate' })).toBeUndefined()
  })
})
