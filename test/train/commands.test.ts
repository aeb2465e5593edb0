// `poet serve`, `poet train` and `poet rollback` as a user runs them: output, exit codes, effects on the lock and store.
import { connect, createServer } from 'node:net'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { rollbackCommand, serveCommand, trainCommand, type CommandIO } from '../../src/train/commands'
import { promote } from '../../src/dashboard/handler'
import { LockStore } from '../../src/generators/lock'
import { serve } from '../../src/train/collector'
import { FeedbackStore } from '../../src/train/store'
import { execution, lockWith, tempDir } from './helpers'

function io(cwd?: string, stopped?: Promise<void>) {
  const out: string[] = []
  const err: string[] = []
  const x: CommandIO = { out: (l) => out.push(l), err: (l) => err.push(l), cwd, stopped }
  return { io: x, out, err }
}

const ID = 'src/api.ts#fetchQuote'
const readLock = (cwd: string) => new LockStore(join(cwd, '.poet')).read()

/** Sends raw bytes and returns what came back before the server closed the connection (or 10 s passed: a loaded machine answers late). */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = ''
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes))
    const timer = setTimeout(() => socket.destroy(), 10_000)
    socket.on('data', (d) => (got += String(d)))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(got)
    })
    socket.on('error', () => undefined)
  })
}


/** Two hours of healthy calls, then the last 200 with 40 timeouts: the error-rate rise that makes Train propose a candidate. */
function insertTimeoutRise(store: FeedbackStore, version: string): void {
  const now = Date.now()
  store.insert(Array.from({ length: 1000 }, (_, i) => execution({ functionId: ID, version, ts: now - 2 * 3_600_000 - i * 1000, duration: 80 + (i % 40) })))
  store.insert(Array.from({ length: 200 }, (_, i) => execution({ functionId: ID, version, ts: now - i * 1000, duration: 90, ...(i < 40 ? { outcome: 'timeout', attempts: 3 } : {}) })))
}
describe('poet serve', () => {
  it('prints its help and exits 0', async () => {
    const t = io()
    expect(await serveCommand(['--help'], t.io)).toBe(0)
    expect(t.out[0]).toMatch(/^poet serve — collect runtime events/)
  })

  it.each([
    [['--port', 'abc'], /^poet serve: --port must be an integer from 0 to 65535, received "abc"/],
    [['--port', '70000'], /^poet serve: --port must be an integer from 0 to 65535, received "70000"/],
    // `--port "$PORT"` with PORT unset: Number('') is 0, which would listen on a random port.
    [['--port', ''], /^poet serve: --port is empty \(is the variable you passed set\?\)\. Pass --port <n>, or leave --port out\./],
    [['--max-rows', ' '], /^poet serve: --max-rows is empty \(is the variable you passed set\?\)\. Pass --max-rows <n>, or leave --max-rows out\./],
    [['--nope'], /^poet serve: unknown option --nope\./],
    [['extra'], /^poet serve: unexpected argument "extra": this command takes none/],
  ])('exits 2 with a usage error for %j', async (argv, message) => {
    // Stopped at once: a serve that wrongly started returns rather than waiting for a signal.
    const t = io(tempDir(), Promise.resolve())
    expect(await serveCommand(argv, t.io)).toBe(2)
    expect(t.err[0]).toMatch(message)
  })

  it('refuses an empty --token, as `--token "$POET_TOKEN"` gives with the variable unset, rather than run open to anyone', async () => {
    const t = io(tempDir(), Promise.resolve())
    expect(await serveCommand(['--port', '0', '--token', ''], t.io)).toBe(2)
    expect(t.err[0]).toMatch(/^poet serve: --token is empty \(is \$POET_TOKEN set\?\)/)
    expect(t.out).toEqual([])
  })

  it('serves the collector on the given port with the .poet store by default, until stopped', async () => {
    const cwd = tempDir()
    let stop!: () => void
    const t = io(cwd, new Promise((r) => (stop = r)))
    const done = serveCommand(['--port', '0', '--token', 'k'], t.io)
    await expect.poll(() => t.out.length).toBeGreaterThan(1)
    const url = /collecting events at (\S+)\/v1\/events/.exec(t.out[0]!)![1]!
    expect(t.out[1]).toBe(`  store ${join(cwd, '.poet', 'feedback.db')}, bearer token required; status table at ${url}/v1/functions`)
    const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: JSON.stringify([execution()]) })
    expect(res.status).toBe(202)
    stop()
    expect(await done).toBe(0)
    expect(t.out.at(-1)).toBe('poet serve: stopped')
    const store = new FeedbackStore(join(cwd, '.poet', 'feedback.db'))
    expect(store.count('executions')).toBe(1)
    store.close()
    // Beside the lock users commit, the store is kept out of git; a store named with --db elsewhere is the user's call.
    expect(readFileSync(join(cwd, '.poet', '.gitignore'), 'utf8')).toMatch(/^\/feedback\.db\*$/m)
  })

  it("uses the lock and store of the lockDir the project's poet.config.json sets", async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, 'poet.config.json'), JSON.stringify({ lockDir: 'poet-lock' }))
    lockWith(join(cwd, 'poet-lock'), ID)
    let stop!: () => void
    const t = io(cwd, new Promise((r) => (stop = r)))
    const done = serveCommand(['--port', '0'], t.io)
    await expect.poll(() => t.out.length).toBeGreaterThan(1)
    expect(t.out[1]).toMatch(new RegExp(`^  store ${join(cwd, 'poet-lock', 'feedback.db').replace(/[.\\/]/g, '\\$&')};`))
    const url = /collecting events at (\S+)\/v1\/events/.exec(t.out[0]!)![1]!
    const functions = (await (await fetch(`${url}/v1/functions`)).json()) as { functions: { id: string; role?: string }[] }
    expect(functions.functions).toMatchObject([{ id: ID, role: 'current' }])
    stop()
    expect(await done).toBe(0)
    expect(existsSync(join(cwd, '.poet'))).toBe(false)
  })

  it('starts with the default lock when the config cannot be read (a collector host may lack what it imports), and says so', async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, 'poet.config.json'), '{ "lockDir": ')
    let stop!: () => void
    const t = io(cwd, new Promise((r) => (stop = r)))
    const done = serveCommand(['--port', '0'], t.io)
    await expect.poll(() => t.out.length).toBeGreaterThan(1)
    expect(t.err[0]).toMatch(new RegExp(`^poet serve: .*poet\\.config\\.json: not valid JSON .*; using ${join(cwd, '.poet').replace(/[.\\/]/g, '\\$&')}$`))
    expect(t.out[1]).toMatch(new RegExp(`^  store ${join(cwd, '.poet', 'feedback.db').replace(/[.\\/]/g, '\\$&')};`))
    stop()
    expect(await done).toBe(0)
  })

  it("shows on its dashboard what each function optimizes, from the lock, as it reads no source to know it otherwise", async () => {
    const cwd = tempDir()
    const { version } = lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency' })
    lockWith(join(cwd, '.poet'), 'src/other.ts#plain')
    let stop!: () => void
    const t = io(cwd, new Promise((r) => (stop = r)))
    const done = serveCommand(['--port', '0'], t.io)
    await expect.poll(() => t.out.length).toBeGreaterThan(1)
    const url = new URL(/collecting events at (\S+)\/v1\/events/.exec(t.out[0]!)![1]!)
    const info = (await (await fetch(`${url.origin}/api/functions`)).json()) as { functions: Record<string, { optimizeFor?: string; current: string }> }
    expect(info.functions[ID]).toMatchObject({ optimizeFor: 'latency', current: version })
    expect(info.functions['src/other.ts#plain']!.optimizeFor).toBeUndefined()
    stop()
    expect(await done).toBe(0)
  })

  it('answers 400 to a request target that is not a URL, and keeps serving', async () => {
    const cwd = tempDir()
    let stop!: () => void
    const t = io(cwd, new Promise((r) => (stop = r)))
    const done = serveCommand(['--port', '0'], t.io)
    await expect.poll(() => t.out.length).toBeGreaterThan(1)
    const url = new URL(/collecting events at (\S+)\/v1\/events/.exec(t.out[0]!)![1]!)
    // What any client on the network can send: Node's parser takes these targets, `new URL` does not.
    for (const target of ['//[', '/v1/functions/%E0%A4%A']) {
      const head = await rawRequest(Number(url.port), `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
      expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request')
    }
    // A lock.json in the middle of a merge conflict: the dashboard cannot read it, and says so.
    mkdirSync(join(cwd, '.poet'), { recursive: true })
    writeFileSync(join(cwd, '.poet', 'lock.json'), '<<<<<<< HEAD\n')
    const conflicted = await rawRequest(Number(url.port), 'GET /api/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
    expect(conflicted.split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable')
    expect(conflicted).toContain('cannot read')
    // Events meanwhile are kept by their sink for a retry, not refused for good nor stored unchecked.
    const events = await fetch(`${url.origin}/v1/events`, { method: 'POST', body: JSON.stringify([execution()]) })
    expect(events.status).toBe(503)
    expect(events.headers.get('retry-after')).toBe('10')
    expect((await events.json()).error).toContain(`poet: cannot read ${join(cwd, '.poet', 'lock.json')}: it holds unresolved merge conflict markers`)
    expect((await fetch(`${url.origin}/healthz`)).status).toBe(200)
    stop()
    expect(await done).toBe(0)
  })

  it('exits 1 with a friendly message when the port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    const t = io(tempDir())
    try {
      expect(await serveCommand(['--port', String(port)], t.io)).toBe(1)
      expect(t.err).toEqual([`poet serve: port ${port} is already in use; pick another with --port`])
    } finally {
      blocker.close()
    }
  })
})

describe('poet train', () => {
  it('says how to collect events when there is no store yet', async () => {
    const cwd = tempDir()
    lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency' })
    const t = io(cwd)
    expect(await trainCommand([], t.io)).toBe(1)
    expect(t.err[0]).toBe(`poet train: no feedback store at ${join(cwd, '.poet', 'feedback.db')}. Collect events first: run \`poet serve\` (or the Vite dev server) with a sink pointing at it.`)
  })

  it('shows decisions without --apply, applies them with it', async () => {
    const cwd = tempDir()
    const { lock, version } = lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency' })
    lockWith(join(cwd, '.poet'), 'src/other.ts#plain')
    const store = new FeedbackStore(join(cwd, '.poet', 'feedback.db'))
    insertTimeoutRise(store, version)
    store.close()

    const dry = io(cwd)
    expect(await trainCommand([], dry.io)).toBe(0)
    expect(dry.out[0]).toMatch(/^function\s+decision\s+versions\s+why$/)
    expect(dry.out[1]).toMatch(new RegExp(`^src/api\\.ts#fetchQuote\\s+candidate\\s+${version} → [0-9a-f]{10}\\s+error rate up: `))
    expect(dry.out.slice(2)).toEqual(['(1 function without optimizeFor skipped)', '\n1 decision to apply: run `poet train --apply`.'])
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()

    const applied = io(cwd)
    expect(await trainCommand(['--apply', '--share', '0.1'], applied.io)).toBe(0)
    expect(applied.out.at(-1)).toBe(`\napplied 1 of 1 decision to ${join(cwd, '.poet', 'lock.json')}`)
    expect(lock.read().functions[ID]!.candidate).toMatchObject({ share: 0.1 })
  })

  it('with --apply and no decision to apply, says so as the plain run does, not "applied 0 of 0 decisions"', async () => {
    const cwd = tempDir()
    const { lock } = lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency' })
    new FeedbackStore(join(cwd, '.poet', 'feedback.db')).close()
    const before = readFileSync(join(cwd, '.poet', 'lock.json'), 'utf8')
    const applied = io(cwd)
    expect(await trainCommand(['--apply'], applied.io)).toBe(0)
    expect(applied.out[1]).toMatch(/^src\/api\.ts#fetchQuote\s+none\s+[0-9a-f]{10}\s+no trigger \(no calls in the last 60 min\)$/)
    expect(applied.out.at(-1)).toBe('\nNothing to apply.')
    expect(readFileSync(join(cwd, '.poet', 'lock.json'), 'utf8')).toBe(before)
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
  })

  it('says how many events clients reported dropped in the week it reads, as its metrics miss them', async () => {
    const cwd = tempDir()
    const { version } = lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency' })
    const store = new FeedbackStore(join(cwd, '.poet', 'feedback.db'))
    insertTimeoutRise(store, version)
    store.close()
    const quiet = io(cwd)
    expect(await trainCommand([], quiet.io)).toBe(0)
    expect(quiet.out.join('\n')).not.toContain('dropped')
    // Reported as poet serve hears them: a sink's running count, twice, then higher.
    const { url, close } = await serve({ port: 0, db: join(cwd, '.poet', 'feedback.db') })
    try {
      for (const count of [1200, 1200, 1234]) {
        const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'x-poet-dropped': `${count};session=tab` }, body: JSON.stringify([execution({ functionId: ID, version })]) })
        expect(res.status).toBe(202)
      }
    } finally {
      await close()
    }
    const dry = io(cwd)
    expect(await trainCommand([], dry.io)).toBe(0)
    expect(dry.out.slice(2)).toEqual(['(clients reported 1,234 events lost in the week Train reads, never received: the metrics above miss them)', '\n1 decision to apply: run `poet train --apply`.'])
    const applied = io(cwd)
    expect(await trainCommand(['--apply'], applied.io)).toBe(0)
    expect(applied.out).toContain('(clients reported 1,234 events lost in the week Train reads, never received: the metrics above miss them)')
  })

  it('does not offer again a candidate that poet rollback stopped', async () => {
    const cwd = tempDir()
    const { lock, version } = lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency' })
    const store = new FeedbackStore(join(cwd, '.poet', 'feedback.db'))
    insertTimeoutRise(store, version)
    store.close()
    expect(await trainCommand(['--apply'], io(cwd).io)).toBe(0)
    const candidate = lock.read().functions[ID]!.candidate!.version
    const stopped = io(cwd)
    expect(await rollbackCommand([ID], stopped.io)).toBe(0)
    expect(stopped.out).toEqual([`${ID}: candidate ${candidate} stopped; ${version} serves every call`])
    const next = io(cwd)
    expect(await trainCommand(['--apply'], next.io)).toBe(0)
    expect(next.out[1]).toMatch(new RegExp(`^src/api\\.ts#fetchQuote\\s+none\\s+.*the learned version ${candidate} was already tested and rolled back$`))
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
  })

  it('does not offer again a learned version that was promoted, then rolled back by poet rollback', async () => {
    const cwd = tempDir()
    const { lock, version } = lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency' })
    const store = new FeedbackStore(join(cwd, '.poet', 'feedback.db'))
    insertTimeoutRise(store, version)
    expect(await trainCommand(['--apply'], io(cwd).io)).toBe(0)
    const learned = lock.read().functions[ID]!.candidate!.version
    expect(promote(lock, store, ID, learned).status).toBe(200)
    store.close()
    const back = io(cwd)
    expect(await rollbackCommand([ID], back.io)).toBe(0)
    expect(back.out).toEqual([`${ID}: current ${learned} → ${version}`])
    const next = io(cwd)
    expect(await trainCommand(['--apply'], next.io)).toBe(0)
    expect(next.out[1]).toMatch(new RegExp(`^src/api\\.ts#fetchQuote\\s+none\\s+.*the learned version ${learned} was already tested and rolled back$`))
    expect(lock.read().functions[ID]).toMatchObject({ current: version })
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
  })

  it('proposes a learned timeout for an async function, never for a synchronous one (the runtime cannot time it out)', async () => {
    const cwd = tempDir()
    const SYNC = 'src/score.ts#score'
    const sync = lockWith(join(cwd, '.poet'), SYNC, { optimizeFor: 'latency' })
    const async = lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency', async: true })
    const store = new FeedbackStore(join(cwd, '.poet', 'feedback.db'))
    // Two hours at about 100 ms, then an hour at about 300 ms: latency above its baseline, and no call timed out.
    const now = Date.now()
    for (const [functionId, version] of [[SYNC, sync.version], [ID, async.version]] as const) {
      store.insert(Array.from({ length: 1000 }, (_, i) => execution({ functionId, version, ts: now - 3_600_000 - (i + 1) * 7000, duration: 80 + (i % 40) })))
      store.insert(Array.from({ length: 200 }, (_, i) => execution({ functionId, version, ts: now - i * 1000, duration: 280 + (i % 40) })))
    }
    store.close()
    const t = io(cwd)
    expect(await trainCommand(['--apply'], t.io)).toBe(0)
    expect(t.out[1]).toMatch(new RegExp(`^src/api\\.ts#fetchQuote\\s+candidate\\s+${async.version} → [0-9a-f]{10}\\s+latency above its baseline: .* → timeout 30000 → \\d+ ms `))
    expect(t.out[2]).toMatch(
      new RegExp(
        `^src/score\\.ts#score\\s+none\\s+${sync.version}\\s+latency above its baseline: .*; the builtin generator has no parameter to change for this: a timeout cannot apply to a synchronous function \\(`,
      ),
    )
    expect(readLock(cwd).functions[ID]!.candidate).toBeDefined()
    expect(readLock(cwd).functions[SYNC]!.candidate).toBeUndefined()
  })

  it('reads the lock and store of the project --root names, and of the lockDir its poet.config.json sets', async () => {
    const cwd = tempDir()
    const root = join(cwd, 'packages', 'app')
    const { version } = lockWith(join(root, 'poet-lock'), ID, { optimizeFor: 'latency' })
    writeFileSync(join(root, 'poet.config.json'), JSON.stringify({ lockDir: 'poet-lock' }))
    const store = new FeedbackStore(join(root, 'poet-lock', 'feedback.db'))
    insertTimeoutRise(store, version)
    store.close()
    const t = io(cwd)
    expect(await trainCommand(['--root', 'packages/app'], t.io)).toBe(0)
    expect(t.out[1]).toMatch(new RegExp(`^src/api\\.ts#fetchQuote\\s+candidate\\s+${version} → `))
    const inRoot = io(root)
    expect(await trainCommand([], inRoot.io)).toBe(0)
    expect(inRoot.out[1]).toMatch(/candidate/)
  })

  it('says a quiet function had no calls, not that 100 % of them failed', async () => {
    const cwd = tempDir()
    const { version } = lockWith(join(cwd, '.poet'), ID, { optimizeFor: 'latency' })
    new FeedbackStore(join(cwd, '.poet', 'feedback.db')).close()
    const t = io(cwd)
    expect(await trainCommand([], t.io)).toBe(0)
    expect(t.out[1]).toMatch(new RegExp(`^src/api\\.ts#fetchQuote\\s+none\\s+${version}\\s+no trigger \\(no calls in the last 60 min\\)$`))
  })

  it('exits 2 on a share outside (0, 1)', async () => {
    const t = io(tempDir())
    expect(await trainCommand(['--share', '1.5'], t.io)).toBe(2)
    expect(t.err[0]).toMatch(/^poet train: --share must be a number between 0 and 1 \(exclusive\), received "1.5"/)
  })
})

describe('poet rollback', () => {
  function twoVersions() {
    const cwd = tempDir()
    const { lock, version: first } = lockWith(join(cwd, '.poet'), ID, { policy: { timeout: 1000 } })
    const { version: second } = lockWith(join(cwd, '.poet'), ID, { policy: { timeout: 2000 } })
    lock.update((l) => void (l.functions[ID]!.versions[second]!.created = new Date(Date.now() + 1000).toISOString()))
    return { cwd, lock, first, second }
  }

  it('answers a lock whose current pointer names a version it does not hold (a hand-resolved merge), and lets --to repair it', async () => {
    const { cwd, lock, first, second } = twoVersions()
    lock.update((l) => void (l.functions[ID]!.current = 'deadbeef00'))
    const t = io(cwd)
    expect(await rollbackCommand([ID], t.io)).toBe(1)
    expect(t.err[0]).toBe(
      `poet rollback: the current version of ${ID} in ${lock.file}, deadbeef00, is not among its versions (an edit or a merge lost it); pick one with --to: ${first}, ${second}`,
    )
    const to = io(cwd)
    expect(await rollbackCommand([ID, '--to', second], to.io)).toBe(0)
    expect(lock.read().functions[ID]!.current).toBe(second)
  })

  it('refuses to move current to a version whose phase module is missing (the next build would regenerate it away)', async () => {
    const { cwd, lock, first, second } = twoVersions()
    const file = join(lock.dir, lock.read().functions[ID]!.versions[first]!.file)
    rmSync(file)
    for (const argv of [[ID], [ID, '--to', first]]) {
      const t = io(cwd)
      expect(await rollbackCommand(argv, t.io)).toBe(1)
      expect(t.err[0]).toBe(`poet rollback: cannot make ${first} current: its phase module ${file} is missing, so a build could not serve it and would regenerate the phases instead. Restore .poet/ from version control first.`)
      expect(lock.read().functions[ID]!.current).toBe(second)
    }
  })

  it('moves current back to the version before it, then refuses to go further', async () => {
    const { cwd, lock, first, second } = twoVersions()
    const t = io(cwd)
    expect(await rollbackCommand([ID], t.io)).toBe(0)
    expect(t.out).toEqual([`${ID}: current ${second} → ${first}`])
    expect(lock.read().functions[ID]!.current).toBe(first)
    const again = io(cwd)
    expect(await rollbackCommand([ID], again.io)).toBe(1)
    expect(again.err[0]).toBe(`poet rollback: ${ID} has no version older than ${first} to roll back to; versions: ${first} (current), ${second}`)
  })

  it('goes back only to versions of the current source: an older source\'s version would be regenerated away by the next build', async () => {
    const cwd = tempDir()
    const lock = new LockStore(join(cwd, '.poet'))
    const version = (v: string, input: string, created: string) => {
      lock.write(ID, { version: v, source: `// ${v}\n`, inputHash: input, generator: 'builtin', reason: 'build' })
      lock.update((l) => void (l.functions[ID]!.versions[v]!.created = created))
    }
    version('aaaa', 'source-1', '2026-01-01T00:00:00.000Z')
    version('bbbb', 'source-2', '2026-01-02T00:00:00.000Z')
    version('cccc', 'source-2', '2026-01-03T00:00:00.000Z')
    const t = io(cwd)
    expect(await rollbackCommand([ID], t.io)).toBe(0)
    expect(t.out).toEqual([`${ID}: current cccc → bbbb`])
    const again = io(cwd)
    expect(await rollbackCommand([ID], again.io)).toBe(1)
    expect(again.err[0]).toBe(
      `poet rollback: ${ID} has no earlier version of its current source to roll back to (aaaa was generated from another source: revert the source, or pick it with --to); versions: aaaa, bbbb (current), cccc`,
    )
    expect(lock.read().functions[ID]!.current).toBe('bbbb')
    const to = io(cwd)
    expect(await rollbackCommand([ID, '--to', 'aaaa'], to.io)).toBe(0)
    expect(to.out).toEqual([`${ID}: current bbbb → aaaa`])
    expect(to.err).toEqual([`poet rollback: note: aaaa was generated from another source of ${ID}; the next build regenerates the phases of the current source unless you revert it`])
  })

  it('stops a candidate under test before touching current', async () => {
    const { cwd, lock, first, second } = twoVersions()
    lock.update((l) => void (l.functions[ID]!.candidate = { version: first, share: 0.2 }))
    const t = io(cwd)
    expect(await rollbackCommand([ID], t.io)).toBe(0)
    expect(t.out).toEqual([`${ID}: candidate ${first} stopped; ${second} serves every call`])
    expect(lock.read().functions[ID]).toMatchObject({ current: second })
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
  })

  it('--to the current version stops the candidate under test, and records it as stopped', async () => {
    const { cwd, lock, first, second } = twoVersions()
    lock.update((l) => void (l.functions[ID]!.candidate = { version: first, share: 0.2 }))
    new FeedbackStore(join(cwd, '.poet', 'feedback.db')).close()
    const t = io(cwd)
    expect(await rollbackCommand([ID, '--to', second], t.io)).toBe(0)
    expect(t.out).toEqual([`${ID}: candidate ${first} stopped; ${second} serves every call`])
    expect(lock.read().functions[ID]).toMatchObject({ current: second })
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
    const store = new FeedbackStore(join(cwd, '.poet', 'feedback.db'))
    expect(store.decisions(ID)).toMatchObject([{ action: 'rollback', from: second, to: first }])
    store.close()
  })

  it('--to takes a unique version prefix and names the versions when it is wrong', async () => {
    const { cwd, lock, first, second } = twoVersions()
    const t = io(cwd)
    expect(await rollbackCommand([ID, '--to', first.slice(0, 4)], t.io)).toBe(0)
    expect(lock.read().functions[ID]!.current).toBe(first)
    const bad = io(cwd)
    expect(await rollbackCommand([ID, '--to', 'zzz'], bad.io)).toBe(2)
    expect(bad.err[0]).toMatch(new RegExp(`^poet rollback: unknown version "zzz" of ${ID.replace(/[.]/g, '\\.')}; versions: ${first} \\(current\\), ${second}\nUsage: poet rollback `))
  })

  it("finds the lock where the project's poet.config.json puts it", async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, 'poet.config.json'), JSON.stringify({ lockDir: 'poet-lock' }))
    const { lock } = lockWith(join(cwd, 'poet-lock'), ID)
    lock.write(ID, { version: 'bbbbbbbbbb', source: '// b\n', inputHash: 'input-hash-1', generator: 'builtin', reason: 'train' })
    const t = io(cwd)
    expect(await rollbackCommand([ID], t.io)).toBe(0)
    expect(t.out[0]).toMatch(new RegExp(`^${ID.replace(/[.]/g, '\\.')}: current bbbbbbbbbb → `))
    expect(existsSync(join(cwd, '.poet'))).toBe(false)
  })

  it('exits 2 naming the missing lock, and writes nothing, when run where there is no lock', async () => {
    const cwd = tempDir()
    const t = io(cwd)
    expect(await rollbackCommand([ID], t.io)).toBe(2)
    expect(t.err[0]).toMatch(new RegExp(`^poet rollback: no lock at ${join(cwd, '.poet', 'lock.json').replace(/[.]/g, '\\.')}, so no ${ID.replace(/[.]/g, '\\.')} in it \\(run it from the project root, or pass --root or --lock-dir\\)\n`))
    expect(existsSync(join(cwd, '.poet'))).toBe(false)
  })

  it('suggests ids for an unknown function, and exits 2 for it as without one', async () => {
    const { cwd } = twoVersions()
    const t = io(cwd)
    expect(await rollbackCommand(['fetchQuote'], t.io)).toBe(2)
    expect(t.err[0]!.split('\n')[0]).toBe(`poet rollback: fetchQuote is not in ${join(cwd, '.poet', 'lock.json')}. Did you mean ${ID}?`)
    for (const name of ['constructor', '__proto__', 'toString']) {
      const inherited = io(cwd)
      expect(await rollbackCommand([name], inherited.io)).toBe(2)
      expect(inherited.err[0]).toMatch(new RegExp(`^poet rollback: ${name} is not in .*\\. Functions: ${ID.replace(/[.]/g, '\\.')}\\.\n`))
    }
    const none = io(cwd)
    expect(await rollbackCommand([], none.io)).toBe(2)
    expect(none.err[0]).toMatch(/^poet rollback: which function\? Pass its id/)
  })
})
