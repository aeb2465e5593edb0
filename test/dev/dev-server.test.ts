// Vite dev end to end in Chromium and the SSR runner: events reach /__poet/events unconfigured; type, option, body and lock changes hot-swap without a reload.
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import type { RunnableDevEnvironment } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import { FILES, launchChromium, PACKAGE_ROOT, risingErrors, startDevApp, until, type DevApp } from './app'

const ID = 'src/sensor.ts#normalize'

interface CallResult {
  ok?: number
  error?: string
  message?: string
  index?: number
}

let app: DevApp
let browser: Browser
let page: Page
const token = randomUUID()

beforeAll(async () => {
  ;[app, browser] = await Promise.all([startDevApp('dev-hmr'), launchChromium()])
  page = await browser.newPage()
  await page.goto(app.url)
  await page.waitForSelector('body[data-ready="1"]')
  await page.evaluate((t) => ((window as unknown as Record<string, unknown>).__token = t), token)
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

const call = (input: unknown) => page.evaluate((i) => (window as unknown as { app: { call(i: unknown): CallResult } }).app.call(i), input)
const tokenSurvived = () => page.evaluate(() => (window as unknown as Record<string, unknown>).__token)
/** Calls until the result passes `until`: the swap lands when the browser has fetched the new phase module. */
async function callUntil(input: unknown, until: (r: CallResult) => boolean, timeout = 15_000): Promise<CallResult> {
  const end = Date.now() + timeout
  for (;;) {
    const r = await call(input)
    if (until(r) || Date.now() > end) return r
    await new Promise((done) => setTimeout(done, 100))
  }
}

async function functionsRows(): Promise<{ id: string; version: string; calls: number; role?: string }[]> {
  const res = await fetch(`${app.url}/__poet/v1/functions?window=1h`)
  return ((await res.json()) as { functions: { id: string; version: string; calls: number; role?: string }[] }).functions
}

describe('vite dev server', () => {
  it('validates with the generated phases, and the runtime reports to /__poet/events with no configuration, through one runtime instance', async () => {
    expect(await call({ value: 50, unit: 'F' })).toEqual({ ok: 10 })
    const rejected = await call({ kelvin: 300 })
    expect(rejected.error).toBe('PoetInputError')
    const rows = await until(functionsRows, (r) => r.some((x) => x.id === ID && x.calls >= 2))
    expect(rows.find((x) => x.id === ID)?.calls).toBeGreaterThanOrEqual(2)
    // The dev client and the app import the runtime through the same pre-bundled URL: one module, one sink.
    const runtimes = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((e) => new URL(e.name).pathname)
        .filter((p) => /unplugin-poet.*runtime|runtime\.mjs/.test(p)),
    )
    expect(new Set(runtimes).size).toBe(1)
    expect(runtimes[0]).toMatch(/\/node_modules\/\.vite\/deps\//)
  })

  it("hot-swaps the phases when a function's parameter type changes, without reloading the page", async () => {
    const before = await page.evaluate(() => (window as unknown as Record<string, unknown>).lastVersion)
    app.write('src/sensor.ts', app.read('src/sensor.ts').replace('(r: Reading)', '(r: Reading | { kelvin: number })'))
    const r = await callUntil({ kelvin: 300 }, (x) => x.ok !== undefined)
    expect(r.ok).toBeCloseTo(26.85)
    expect(await tokenSurvived()).toBe(token)
    expect(await page.evaluate(() => (window as unknown as Record<string, unknown>).lastVersion)).not.toBe(before)
  })

  it('hot-swaps when a type-only file the signature reads changes (a file outside the module graph)', async () => {
    expect((await call({ value: 300, unit: 'K' })).error).toBe('PoetInputError')
    app.write('src/types.ts', app.read('src/types.ts').replace(`'C' | 'F'`, `'C' | 'F' | 'K'`))
    const r = await callUntil({ value: 300, unit: 'K' }, (x) => x.ok !== undefined)
    expect(r.ok).toBeCloseTo(26.85)
    expect(await tokenSurvived()).toBe(token)
  })

  it("hot-swaps when only a function's options change: the policy and domain rules arrive with the phases", async () => {
    const original = app.read('src/sensor.ts')
    expect(await call({ value: Number.NaN, unit: 'C' })).toEqual({ ok: Number.NaN })
    app.write('src/sensor.ts', original.replace('attempts: 1 }', "attempts: 1, domain: 'ml_monitoring' }"))
    const r = await callUntil({ value: Number.NaN, unit: 'C' }, (x) => x.error !== undefined)
    // ml_monitoring's finite-number rule: on the input, or (inside a union an earlier test made) on the result.
    expect(r.error).toMatch(/^Poet(Input|Output)Error$/)
    expect(r.message).toMatch(/: expected finite number/)
    expect(await tokenSurvived()).toBe(token)
    app.write('src/sensor.ts', original)
    expect(await callUntil({ value: Number.NaN, unit: 'C' }, (x) => x.error === undefined)).toEqual({ ok: Number.NaN })
    expect(await tokenSurvived()).toBe(token)
  })

  it("hot-swaps an edited function body without a reload: the caller that imported it at start runs the new body", async () => {
    const original = app.read('src/sensor.ts')
    const lock = new LockStore(app.path('.poet'))
    expect(await call({ value: 5, unit: 'C' })).toEqual({ ok: 5 })
    const callsOf = (rows: { id: string; calls: number }[]) => rows.filter((x) => x.id === ID).reduce((n, x) => n + x.calls, 0)
    const before = callsOf(await until(functionsRows, (rows) => callsOf(rows) > 0))
    app.write('src/sensor.ts', original.replace(': x.value!\n})', ': x.value! * 2\n})'))
    // main.ts imported normalize once, at start; nothing imports it again.
    expect(await callUntil({ value: 5, unit: 'C' }, (r) => r.ok === 10)).toEqual({ ok: 10 })
    expect(await tokenSurvived()).toBe(token)
    // The new body runs through the engine as before: validation still applies, and its events name the served version.
    expect((await call({ kelvin: 'warm' })).error).toBe('PoetInputError')
    const served = await until(
      async () => lock.read().functions[ID]?.current,
      (v) => v !== undefined,
    )
    expect(await page.evaluate(() => (window as unknown as Record<string, unknown>).lastVersion)).toBe(served)
    // ...and they reach the dev server as before.
    expect(callsOf(await until(functionsRows, (rows) => callsOf(rows) >= before + 2))).toBeGreaterThanOrEqual(before + 2)
    app.write('src/sensor.ts', original)
    expect(await callUntil({ value: 5, unit: 'C' }, (r) => r.ok === 5)).toEqual({ ok: 5 })
    expect(await tokenSurvived()).toBe(token)
  })

  it('events showing errors rising make the trainer add a candidate; making it current hot-swaps the served version', async () => {
    const lock = new LockStore(app.path('.poet'))
    const base = lock.read().functions[ID]!.current
    const posted = await fetch(`${app.url}/__poet/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(risingErrors(ID, base)) })
    expect(posted.status).toBe(202)
    const entry = await until(
      async () => lock.read().functions[ID],
      (e) => !!e?.candidate,
    )
    expect(entry?.candidate, 'the dev server trained on the events').toBeDefined()
    const candidate = entry!.candidate!.version
    // A synchronous function: attempts are learned, a timeout could not apply.
    expect(entry!.versions[candidate]!.reason).toMatch(/^train: error rate up: .* → attempts 1 → \d/)
    // A candidate is a trial: the current pointer stays where it was until a promotion.
    expect(entry!.current).toBe(base)

    // The trial runs at once, with no reload: the candidate serves its share of calls beside the current version.
    const seen = await until(
      async () => {
        const versions = new Set<unknown>()
        for (let i = 0; i < 40; i++) {
          await call({ value: 1, unit: 'C' })
          versions.add(await page.evaluate(() => (window as unknown as Record<string, unknown>).lastVersion))
        }
        return versions
      },
      (v) => v.has(candidate) && v.has(base),
    )
    expect([...seen].sort()).toEqual([base, candidate].sort())
    expect(await tokenSurvived()).toBe(token)

    lock.update((l) => {
      l.functions[ID]!.current = candidate
      delete l.functions[ID]!.candidate
    })
    const served = await until(
      async () => {
        await call({ value: 1, unit: 'C' })
        return page.evaluate(() => (window as unknown as Record<string, unknown>).lastVersion)
      },
      (v) => v === candidate,
    )
    expect(served).toBe(candidate)
    expect(await tokenSurvived()).toBe(token)
  })

  it('runs SSR functions in-process: their events reach the store directly, and type edits reach them too', async () => {
    const executions = async () => ((await (await fetch(`${app.url}/__poet/healthz`)).json()) as { executions: number }).executions
    const before = await executions()
    // The environment's module runner (what SSR frameworks use since Vite 6) runs with HMR, like the browser.
    const runner = (app.server.environments.ssr as RunnableDevEnvironment).runner
    const ssr = (await runner.import('/src/sensor.ts')) as { normalize(r: unknown): number }
    expect(() => ssr.normalize({ value: 1, unit: 'R' })).toThrow(/args\[0\]/)
    expect(await until(executions, (n) => n > before)).toBeGreaterThan(before)
    app.write('src/types.ts', app.read('src/types.ts').replace(/unit: (.+)/, `unit: $1 | 'R'`))
    const end = Date.now() + 15_000
    let result: unknown
    while (Date.now() < end) {
      try {
        result = ssr.normalize({ value: 1, unit: 'R' })
        break
      } catch {
        await new Promise((done) => setTimeout(done, 100))
      }
    }
    expect(result).toBe(1)
  })
})

describe('vite dev server, SSR', () => {
  it("hot-swaps an edited function body in the environment's module runner, and ssrLoadModule loads the new body", async () => {
    const runner = (app.server.environments.ssr as RunnableDevEnvironment).runner
    const ssr = (await runner.import('/src/sensor.ts')) as { normalize(r: unknown): number }
    expect(ssr.normalize({ value: 5, unit: 'C' })).toBe(5)
    const original = app.read('src/sensor.ts')
    app.write('src/sensor.ts', original.replace(': x.value!\n})', ': x.value! * 3\n})'))
    // The module object imported before the edit: its export now runs the new body.
    expect(await until(async () => ssr.normalize({ value: 5, unit: 'C' }), (v) => v === 15)).toBe(15)
    expect(() => ssr.normalize({ value: '5', unit: 'C' })).toThrow(/args\[0\]\.value: expected/)
    const loaded = (await app.server.ssrLoadModule('/src/sensor.ts')) as { normalize(r: unknown): number }
    expect(loaded.normalize({ value: 5, unit: 'C' })).toBe(15)
    app.write('src/sensor.ts', original)
    expect(await until(async () => ssr.normalize({ value: 5, unit: 'C' }), (v) => v === 5)).toBe(5)
  })
})

describe('vite dev server, @poet methods', () => {
  it('hot-swaps an edited @poet method of a class the module keeps to itself', async () => {
    app.write(
      'src/pricing.ts',
      `import { poet } from 'unplugin-poet/runtime'

class Pricing {
  @poet({ attempts: 1 })
  unit(units: number): number {
    return units * 10
  }
}

const pricing = new Pricing()
export const quote = poet({ attempts: 1 })(function quote(units: number): number {
  return pricing.unit(units)
})
`,
    )
    const runner = (app.server.environments.ssr as RunnableDevEnvironment).runner
    const ssr = (await runner.import('/src/pricing.ts')) as { quote(n: number): number }
    expect(ssr.quote(2)).toBe(20)
    expect(() => ssr.quote('2' as never)).toThrow(/args\[0\]: expected number/)
    app.write('src/pricing.ts', app.read('src/pricing.ts').replace('units * 10', 'units * 11'))
    expect(await until(async () => ssr.quote(2), (v) => v === 22)).toBe(22)
  })
})

describe('vite dev server, modules that export more than poet functions', () => {
  const FALLBACK_FILES: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'poet-dev-fallback', private: true, type: 'module' }),
    'index.html': `<!doctype html><html><head><title>app</title></head><body><h1>fallback</h1><script type="module" src="/src/main.ts"></script></body></html>`,
    'src/labels.ts': `import { poet } from 'unplugin-poet/runtime'
import type { Square } from './shapes'

export const LABEL = 'v1'
export const shout = poet()(function shout(s: string): string {
  return s.toUpperCase()
})
export const area = poet()(function area(s: Square): number {
  return s.side ** 2
})
`,
    // A module of the app's own that accepts its updates, and holds a type a poet function reads.
    'src/shapes.ts': `export interface Square {
  side: number
}
export const SIDES = 4
;(window as unknown as Record<string, unknown>).sides = SIDES
if (import.meta.hot) import.meta.hot.accept()
`,
    'src/units.ts': `import { poet } from 'unplugin-poet/runtime'

export const scale = poet()(function scale(n: number): number {
  return n * 2
})
`,
    'src/main.ts': `import { LABEL, shout } from './labels'
import * as units from './units'
import './shapes'

;(window as unknown as Record<string, unknown>).app = {
  label: () => LABEL,
  shout: (s: string) => shout(s),
  exports: () => Object.keys(units),
  scale: (n: number) => (units as unknown as { scale(n: number): number }).scale(n),
}
document.body.dataset.ready = '1'
`,
  }
  interface FallbackApp {
    label(): string
    exports(): string[]
    scale(n: number): number
  }
  let fallback: DevApp
  let tab: Page

  beforeAll(async () => {
    fallback = await startDevApp('dev-fallback', FALLBACK_FILES)
    tab = await browser.newPage()
    await tab.goto(fallback.url)
    await tab.waitForSelector('body[data-ready="1"]')
  })
  afterAll(async () => {
    await tab?.close()
    await fallback?.close()
  })

  /** Sets a fresh token on the page, to tell afterwards whether it was reloaded. */
  const mark = async () => {
    await tab.waitForSelector('body[data-ready="1"]')
    const t = randomUUID()
    await tab.evaluate((v) => ((window as unknown as Record<string, unknown>).__token = v), t)
    return t
  }
  /** Reads from the page's app until `ok`; a read while the page reloads counts as not yet. */
  const read = <T,>(fn: (app: FallbackApp) => T, ok: (v: T | undefined) => boolean) =>
    until(async () => {
      try {
        return (await tab.evaluate(`(${fn.toString()})(window.app)`)) as T
      } catch {
        return undefined
      }
    }, ok)
  const marked = () => tab.evaluate(() => (window as unknown as Record<string, unknown>).__token)

  it('a module that also exports a constant updates the usual way: the page shows the new constant, not a stale one', async () => {
    const t = await mark()
    fallback.write('src/labels.ts', fallback.read('src/labels.ts').replace(`'v1'`, `'v2'`))
    expect(await read((a) => a.label(), (v) => v === 'v2')).toBe('v2')
    // Vite's normal update: nothing accepts labels.ts, so the page reloaded.
    expect(await marked()).not.toBe(t)
  })

  it('a poet-only module that starts exporting a constant makes its importers update too: no stale module object', async () => {
    const original = fallback.read('src/units.ts')
    expect(await read((a) => a.exports(), (v) => v !== undefined)).toEqual(['scale'])
    const logged: string[] = []
    const logger = fallback.server.config.logger
    const info = logger.info
    logger.info = (message) => void logged.push(message)
    const t = await mark()
    try {
      fallback.write('src/units.ts', `${original}export const FACTOR = 3\n`)
      expect(await read((a) => a.exports(), (v) => !!v?.includes('FACTOR'))).toEqual(['FACTOR', 'scale'])
    } finally {
      logger.info = info
    }
    expect(await marked()).not.toBe(t)
    // The terminal says why this edit reloaded the page instead of hot-swapping it.
    expect(logged).toContain('[unplugin-poet] src/units.ts: it now exports something other than poet functions, so its importers update too.')
    fallback.write('src/units.ts', original)
    expect(await read((a) => a.exports(), (v) => v?.length === 1)).toEqual(['scale'])
  })

  it('renaming an exported poet function makes its importers update too', async () => {
    const original = fallback.read('src/units.ts')
    const t = await mark()
    fallback.write('src/units.ts', original.replace('export const scale', 'export const double'))
    expect(await read((a) => a.exports(), (v) => !!v?.includes('double'))).toEqual(['double'])
    expect(await marked()).not.toBe(t)
    fallback.write('src/units.ts', original)
    expect(await read((a) => a.exports(), (v) => !!v?.includes('scale'))).toEqual(['scale'])
  })

  it('an export that now holds a poet function with another id makes its importers update too, and runs the new body', async () => {
    const original = fallback.read('src/units.ts')
    expect(await read((a) => a.scale(1), (v) => v !== undefined)).toBe(2)
    const t = await mark()
    fallback.write(
      'src/units.ts',
      original.replace('export const scale', 'const times').replace('n * 2', 'n * 5') + 'export { times as scale }\n',
    )
    expect(await read((a) => a.scale(1), (v) => v === 5)).toBe(5)
    expect(await marked()).not.toBe(t)
    fallback.write('src/units.ts', original)
    expect(await read((a) => a.scale(1), (v) => v === 2)).toBe(2)
  })

  it("leaves a module that accepts its own updates alone, also when it holds a poet function's types", async () => {
    const t = await mark()
    fallback.write('src/shapes.ts', fallback.read('src/shapes.ts').replace('SIDES = 4', 'SIDES = 5'))
    await expect.poll(() => tab.evaluate(() => (window as unknown as Record<string, unknown>).sides), { timeout: 15_000 }).toBe(5)
    expect(await marked()).toBe(t)
  })

  it('a poet-only module still hot-swaps after all that', async () => {
    const original = fallback.read('src/units.ts')
    const t = await mark()
    fallback.write('src/units.ts', original.replace('n * 2', 'n * 7'))
    expect(await read((a) => a.scale(1), (v) => v === 7)).toBe(7)
    expect(await marked()).toBe(t)
  })
})

describe('a broken edit', () => {
  it('shows the build error in the overlay, keeps the server up, and recovers when fixed', async () => {
    const good = app.read('src/sensor.ts')
    app.write('src/sensor.ts', good.replace(`optimizeFor: 'accuracy'`, `optimizeFor: 'accuracy', domain: 'ml_monitorin'`))
    const overlay = page.locator('vite-error-overlay')
    await expect.poll(() => overlay.count(), { timeout: 15_000 }).toBe(1)
    const message = await overlay.evaluate((el) => el.shadowRoot?.textContent ?? '')
    expect(message).toContain('ml_monitorin')
    expect(message).toContain('ml_monitoring')
    app.write('src/sensor.ts', good)
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 })
    await expect.poll(async () => (await page.locator('vite-error-overlay').count()) === 0 && (await call({ value: 50, unit: 'F' })).ok, { timeout: 15_000 }).toBe(10)
  })
})

describe('dev endpoints', () => {
  const post = (path: string, body: string, headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((done, fail) => {
      const req = request(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => done({ status: res.statusCode!, body: text }))
      })
      req.on('error', fail)
      req.end(body)
    })
  const host = () => new URL(app.url).host
  const writeToken = async () => {
    const html = await (await fetch(`${app.url}/__poet/`)).text()
    return (JSON.parse(/<script id="poet-config" type="application\/json">(.*?)<\/script>/.exec(html)![1]!) as { token: string }).token
  }
  const event = (functionId = ID) => JSON.stringify([{ v: 1, kind: 'execution', functionId, version: 'x', executionId: randomUUID(), ts: Date.now(), duration: 1, outcome: 'ok', attempts: 1 }])

  it('refuse cross-origin writes: events from another site are not stored', async () => {
    // A function of its own: the app's page may still be sending events of its functions meanwhile.
    const probe = `src/cross-origin.ts#probe-${randomUUID()}`
    const stored = async () => (await fetch(`${app.url}/__poet/v1/functions/${encodeURIComponent(probe)}`)).status !== 404
    const evil = await post('/__poet/events', event(probe), { origin: 'http://evil.example' })
    expect(evil.status).toBe(403)
    expect(evil.body).toMatch(/cross-origin/)
    expect((await post('/__poet/events', event(probe), { 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    expect(await stored()).toBe(false)
    expect((await post('/__poet/events', event(probe), { origin: `http://${host()}`, 'sec-fetch-site': 'same-origin' })).status).toBe(202)
    expect(await stored()).toBe(true)
  })

  it('refuse promote and rollback without the page token or from another origin', async () => {
    const token = await writeToken()
    const body = JSON.stringify({ id: ID })
    const noToken = await post('/__poet/api/rollback', body, { origin: `http://${host()}` })
    expect(noToken.status).toBe(403)
    expect(noToken.body).toMatch(/x-poet-token/)
    expect((await post('/__poet/api/rollback', body, { 'x-poet-token': 'guess', origin: `http://${host()}` })).status).toBe(403)
    const crossSite = await post('/__poet/api/rollback', body, { 'x-poet-token': token, origin: 'http://evil.example' })
    expect(crossSite.status).toBe(403)
    expect(crossSite.body).toMatch(/cross-origin/)
  })

  it('answer nothing under a name the page of another site rebinds to this server (DNS rebinding): Vite checks allowedHosts before them', async () => {
    const token = await writeToken()
    const rebound = `rebind.attacker.test:${new URL(app.url).port}`
    for (const path of ['/__poet/', '/__poet/api/functions', '/__poet/v1/functions']) {
      const read = await new Promise<number>((done, fail) => request(`${app.url}${path}`, { headers: { host: rebound } }, (res) => done(res.resume().statusCode!)).on('error', fail).end())
      expect(read, path).toBe(403)
    }
    // The page would read the token from the dashboard it fetched under its own name, and send it from that origin.
    const write = await post('/__poet/api/rollback', JSON.stringify({ id: ID }), { host: rebound, origin: `http://${rebound}`, 'x-poet-token': token })
    expect(write.status).toBe(403)
    expect(write.body).toMatch(/allowedHosts/)
    expect((await post('/__poet/events', event(), { host: rebound, origin: `http://${rebound}` })).status).toBe(403)
  })

  it('refuse bodies over the limit with 413', async () => {
    const token = await writeToken()
    const big = await post('/__poet/api/promote', JSON.stringify({ id: ID, version: 'x'.repeat(20_000) }), { 'x-poet-token': token })
    expect(big.status).toBe(413)
    const huge = await post('/__poet/events', `[${'0,'.repeat(600_000)}0]`, {})
    expect(huge.status).toBe(413)
  })

  it('are announced with the server URLs', () => {
    const lines: string[] = []
    const logger = app.server.config.logger
    const info = logger.info
    logger.info = (message) => void lines.push(message)
    try {
      app.server.printUrls()
    } finally {
      logger.info = info
    }
    expect(lines.join('\n')).toContain(`${app.url}/__poet/`)
  })

  it('serve the page with the token and without framing', async () => {
    const res = await fetch(`${app.url}/__poet/`)
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect((await writeToken()).length).toBeGreaterThanOrEqual(40)
    expect((await fetch(`${app.url}/__poet`, { redirect: 'manual' })).headers.get('location')).toBe('/__poet/')
  })
})

describe('dev options', () => {
  it('feedback: false leaves the runtime unconfigured, dashboard: false leaves /__poet/ to the app; events are still taken', async () => {
    const quiet = await startDevApp('dev-quiet', undefined, { feedback: false, dashboard: false })
    try {
      const runner = (quiet.server.environments.ssr as RunnableDevEnvironment).runner
      const ssr = (await runner.import('/src/sensor.ts')) as { normalize(r: unknown): number }
      expect(ssr.normalize({ value: 50, unit: 'F' })).toBe(10)
      await new Promise((done) => setTimeout(done, 300))
      const health = (await (await fetch(`${quiet.url}/__poet/healthz`)).json()) as { executions: number }
      expect(health.executions).toBe(0)
      const page = await (await fetch(`${quiet.url}/__poet/`)).text()
      expect(page).not.toContain('poet-config')
      const res = await fetch(`${quiet.url}/__poet/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' })
      expect(res.status).toBe(202)
    } finally {
      await quiet.close()
    }
  })
})

describe('vite build', () => {
  it('of the same app holds none of the dev code: no hot wrapping, no dev client, no import.meta.hot', async () => {
    const built = await startDevApp('dev-build')
    try {
      const { build } = await import('vite')
      const { default: poet } = (await import(pathToFileURL(join(PACKAGE_ROOT, 'dist/vite.mjs')).href)) as typeof import('../../src/vite')
      const outDir = `${built.dir}-dist`
      await build({ configFile: false, root: built.dir, logLevel: 'silent', plugins: [poet()], build: { outDir, minify: false } })
      const assets = join(outDir, 'assets')
      const bundle = readdirSync(assets).map((f) => readFileSync(join(assets, f), 'utf8')).join('\n')
      rmSync(outDir, { recursive: true, force: true })
      expect(bundle).toContain('function normalize(r)')
      expect(bundle).toContain('src/sensor.ts#normalize')
      expect(bundle).not.toMatch(/__poet_hot|import\.meta\.hot|~~hot|~~dev|\/__poet\/events/)
    } finally {
      await built.close()
    }
  })
})

describe('vite dev server without an event store', () => {
  it('serves the app with its validation when the store cannot open, and says at /__poet/ why the dashboard is off', async () => {
    // A directory where the SQLite file belongs: as real a failure to open as better-sqlite3 without its native module.
    const broken = await startDevApp('dev-no-store', { ...FILES, '.poet/feedback.db/keep': '' })
    const tab = await browser.newPage()
    const posted: string[] = []
    tab.on('request', (r) => r.url().includes('/__poet/') && posted.push(r.url()))
    try {
      await tab.goto(broken.url)
      await tab.waitForSelector('body[data-ready="1"]')
      const rejected = await tab.evaluate(() => (window as unknown as { app: { call(i: unknown): CallResult } }).app.call({ value: '50', unit: 'F' }))
      expect(rejected).toMatchObject({ error: 'PoetInputError' })
      const res = await fetch(`${broken.url}/__poet/`)
      expect(res.status).toBe(503)
      expect(await res.text()).toMatch(/^the POET dashboard and event store are off: poet: cannot open the feedback store .*feedback\.db: unable to open database file/)
      // The dev client sends nothing that could only fail.
      await new Promise((done) => setTimeout(done, 600))
      expect(posted).toEqual([])
    } finally {
      await tab.close()
      await broken.close()
    }
  })
})
