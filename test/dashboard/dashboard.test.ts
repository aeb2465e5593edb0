// The dashboard in Chromium: the functions table, live updates under thousands of events, charts, diffs, promote and roll back.
import { randomUUID } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import { FILES, PACKAGE_ROOT, launchChromium, risingErrors, startDevApp, type DevApp } from '../dev/app'

const SENSOR = 'src/sensor.ts#normalize'
const QUOTE = 'src/quote.ts#quote'
const SHOTS = join(PACKAGE_ROOT, 'test/.tmp')

const files = {
  ...FILES,
  'src/quote.ts': `import { poet } from 'unplugin-poet/runtime'

export const quote = poet({ domain: 'financial_services' })(function quote(amount: number, currency: 'EUR' | 'USD'): number {
  return Math.round(amount * (currency === 'USD' ? 1.08 : 1) * 100) / 100
})
`,
  'src/main.ts': FILES['src/main.ts']!.replace(`import { normalize } from './sensor'`, `import { normalize } from './sensor'\nimport { quote } from './quote'`).replace('w.app = {', 'w.quote = quote\nw.app = {'),
}

let app: DevApp
let browser: Browser
let site: Page
let board: Page
const token = randomUUID()

beforeAll(async () => {
  ;[app, browser] = await Promise.all([startDevApp('dashboard', files), launchChromium()])
  site = await browser.newPage()
  await site.goto(app.url)
  await site.waitForSelector('body[data-ready="1"]')
  await site.evaluate((t) => ((window as unknown as Record<string, unknown>).__token = t), token)
  board = await browser.newPage({ viewport: { width: 1320, height: 1000 } })
  // Promote and roll back ask first: these tests mean every click.
  board.on('dialog', (d) => void d.accept())
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

const call = (input: unknown) => site.evaluate((i) => (window as unknown as { app: { call(i: unknown): { ok?: number; error?: string; index?: number } } }).app.call(i), input)
const lastVersion = () => site.evaluate(() => (window as unknown as Record<string, unknown>).lastVersion)

/** Synthetic traffic over the last hour, posted the way the runtime posts it: execution and feedback events in batches. */
async function postTraffic(id: string, version: string, n: number): Promise<void> {
  const now = Date.now()
  const events: Record<string, unknown>[] = []
  for (let i = 0; i < n; i++) {
    const executionId = `${id}-${version}-${i}-${randomUUID()}`
    const outcome = i % 37 === 0 ? 'input_error' : i % 53 === 0 ? 'timeout' : i % 71 === 0 ? 'error' : 'ok'
    const ts = now - Math.floor(((n - i) / n) * 55 * 60_000)
    events.push({ v: 1, kind: 'execution', functionId: id, version, executionId, ts, duration: 2 + ((i * 7919) % 40) + (i % 50 === 0 ? 120 : 0), outcome, attempts: outcome === 'ok' ? 1 : 2 })
    if (i % 5 === 0) events.push({ v: 1, kind: 'feedback', functionId: id, version, executionId, ts: ts + 10, score: 0.6 + ((i * 31) % 40) / 100 })
  }
  for (let i = 0; i < events.length; i += 1000) {
    const res = await fetch(`${app.url}/__poet/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events.slice(i, i + 1000)) })
    expect(res.status).toBe(202)
  }
}

describe('dashboard at /__poet/', () => {
  it('lists every function with its domain, version and generator, and updates live as thousands of events arrive', async () => {
    expect(await call({ value: 50, unit: 'F' })).toEqual({ ok: 10 })
    await site.evaluate(() => (window as unknown as { quote(a: number, c: string): number }).quote(10, 'USD'))
    await board.goto(`${app.url}/__poet/`)
    const sensorRow = board.locator(`tr.fn[data-id="${SENSOR}"]`)
    const quoteRow = board.locator(`tr.fn[data-id="${QUOTE}"]`)
    await expect.poll(() => quoteRow.count()).toBe(1)
    await expect.poll(() => quoteRow.innerText()).toContain('financial_services')
    expect(await quoteRow.innerText()).toContain('builtin')
    const version = new LockStore(app.path('.poet')).read().functions[SENSOR]!.current
    await expect.poll(() => sensorRow.innerText()).toContain(version)

    await postTraffic(SENSOR, version, 3000)
    await postTraffic(QUOTE, new LockStore(app.path('.poet')).read().functions[QUOTE]!.current, 400)
    // Calls, the error-rate chips and the feedback score come from the events: the table shows them without a reload.
    await expect.poll(() => sensorRow.locator('td.num').first().innerText(), { timeout: 10_000 }).toMatch(/^3,00\d$/)
    const text = await sensorRow.innerText()
    expect(text).toMatch(/input 2\.\d %/)
    expect(text).toMatch(/0\.\d\d\s+n=600/)
    await board.screenshot({ path: join(SHOTS, 'dashboard-table.png'), fullPage: true })
  })

  it("shows one function's charts, versions with what made them, and the diff between versions", async () => {
    // A new version from an edit of the parameter type: the version history gains a row, the diff shows the new check.
    app.write('src/sensor.ts', app.read('src/sensor.ts').replace('(r: Reading)', '(r: Reading | { kelvin: number })'))
    await expect.poll(async () => (await call({ kelvin: 300 })).ok, { timeout: 15_000 }).toBeCloseTo(26.85)
    await board.locator(`tr.fn[data-id="${SENSOR}"]`).click()
    await board.waitForSelector('#chart-calls canvas')
    expect(await board.locator('.chart canvas').count()).toBeGreaterThanOrEqual(2)
    expect(await board.locator('.u-legend').first().innerText()).toContain('calls')
    const rows = board.locator('.panel:has(h2:text("Versions")) tbody tr')
    await expect.poll(() => rows.count()).toBe(2)
    expect(await rows.first().innerText()).toContain('current')
    expect(await rows.first().innerText()).toContain('build')
    await board.waitForSelector('.diff .add')
    expect(await board.locator('.diff .add').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/kelvin/)]))
    expect(await board.locator('.panel:has(h2:text("Feedback score by version")) .bar').count()).toBe(1)
  })

  it("draws a new function's first calls at the end of the window's time axis, not amid years of axis", async () => {
    const id = 'src/once.ts#once'
    const event = { v: 1, kind: 'execution', functionId: id, version: 'v1', executionId: randomUUID(), ts: Date.now(), duration: 3, outcome: 'ok', attempts: 1 }
    const res = await fetch(`${app.url}/__poet/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([event]) })
    expect(res.status).toBe(202)
    const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } })
    try {
      await page.goto(`${app.url}/__poet/#/fn/${encodeURIComponent(id)}`)
      const over = page.locator('#chart-calls .u-over')
      await over.waitFor()
      const box = (await over.boundingBox())!
      // Hovering snaps uPlot's cursor point to the nearest bucket: where the one call is drawn is where its point stands
      // highest. It came within the last minute of a one-hour window, so at the right-hand edge, and nowhere before.
      const point = page.locator('#chart-calls .u-cursor-pt').nth(0)
      const pointAt = async (fraction: number) => {
        await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2)
        await expect.poll(async () => (await point.boundingBox())?.width ?? 0).toBeGreaterThan(0)
        const at = (await point.boundingBox())!
        return { x: (at.x + at.width / 2 - box.x) / box.width, y: at.y }
      }
      const end = await pointAt(0.995)
      expect(end.x).toBeGreaterThan(0.95)
      for (const fraction of [0.05, 0.5, 0.9]) expect((await pointAt(fraction)).y).toBeGreaterThan(end.y)
    } finally {
      await page.close()
    }
  })

  it('draws the latency of calls that all fell in one bucket: a point with no neighbour to draw a line to is still drawn', async () => {
    const id = 'src/burst.ts#burst'
    const now = Date.now()
    const events = Array.from({ length: 5 }, (_, i) => ({ v: 1, kind: 'execution', functionId: id, version: 'v1', executionId: randomUUID(), ts: now - i, duration: 3 + i, outcome: 'ok', attempts: 1 }))
    const res = await fetch(`${app.url}/__poet/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) })
    expect(res.status).toBe(202)
    const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } })
    try {
      await page.goto(`${app.url}/__poet/#/fn/${encodeURIComponent(id)}`)
      await page.locator('#chart-latency canvas').waitFor()
      // Pixels in the p50 series' green (#2b8a3e) and the p95 series' orange (#b35c00): nothing else on the chart has them.
      const drawn = await page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('#chart-latency canvas')!
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height)
        let green = 0
        let orange = 0
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!]
          if (g > r + 50 && g > b + 40) green++
          if (r > g + 50 && r > b + 100) orange++
        }
        return { green, orange }
      })
      expect(drawn.green).toBeGreaterThan(0)
      expect(drawn.orange).toBeGreaterThan(0)
    } finally {
      await page.close()
    }
  })

  it('promote makes a trained version current and the app serves it at once; roll back returns to the previous one', async () => {
    const lock = new LockStore(app.path('.poet'))
    const base = lock.read().functions[SENSOR]!.current
    const posted = await fetch(`${app.url}/__poet/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(risingErrors(SENSOR, base)) })
    expect(posted.status).toBe(202)
    await expect.poll(() => lock.read().functions[SENSOR]?.candidate?.version, { timeout: 15_000 }).toBeDefined()
    const candidate = lock.read().functions[SENSOR]!.candidate!.version
    await expect.poll(() => board.locator('.tag.candidate').count(), { timeout: 10_000 }).toBeGreaterThan(0)
    expect(await board.locator('.decision').first().innerText()).toContain('candidate')
    await board.screenshot({ path: join(SHOTS, 'dashboard.png'), fullPage: true })

    await board.locator(`button[data-action="promote"][data-version="${candidate}"]`).click()
    await expect.poll(() => board.locator('#toast').innerText()).toContain(`→ ${candidate}`)
    expect(lock.read().functions[SENSOR]!.current).toBe(candidate)
    await expect.poll(async () => (await call({ value: 1, unit: 'C' }), lastVersion()), { timeout: 15_000 }).toBe(candidate)
    expect(await site.evaluate(() => (window as unknown as Record<string, unknown>).__token)).toBe(token)

    await board.locator('button[data-action="rollback"]').click()
    await expect.poll(() => lock.read().functions[SENSOR]!.current).toBe(base)
    await expect.poll(async () => (await call({ value: 1, unit: 'C' }), lastVersion()), { timeout: 15_000 }).toBe(base)
    expect(await site.evaluate(() => (window as unknown as Record<string, unknown>).__token)).toBe(token)
    await expect.poll(() => board.locator('.decision').first().innerText()).toContain('rolled back from the dashboard')
  })
  it('refuses a click from a stale view: another tab stopped the candidate, so "Roll back" must not move current', async () => {
    const lock = new LockStore(app.path('.poet'))
    const base = lock.read().functions[SENSOR]!.current
    const entry = lock.read().functions[SENSOR]!.versions[base]!
    lock.write(SENSOR, { version: 'stale00001', source: lock.source(SENSOR, base)!, inputHash: entry.inputHash, generator: 'builtin', reason: 'train: test' })
    lock.update((l) => {
      l.functions[SENSOR]!.current = base
      l.functions[SENSOR]!.candidate = { version: 'stale00001', share: 0.2 }
    })
    const tab = await browser.newPage()
    tab.on('dialog', (d) => void d.accept())
    try {
      await tab.goto(`${app.url}/__poet/#/fn/${encodeURIComponent(SENSOR)}`)
      await expect.poll(() => tab.locator('#meta .tag.candidate').count(), { timeout: 10_000 }).toBe(1)
      // This tab stops polling (a slow network, a laptop lid): it keeps showing the candidate under test.
      await tab.route('**/__poet/api/functions', (r) => r.abort())
      const writeToken = await tab.evaluate(() => (JSON.parse(document.getElementById('poet-config')!.textContent!) as { token: string }).token)
      // Another tab stops the candidate.
      const other = await fetch(`${app.url}/__poet/api/rollback`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-poet-token': writeToken }, body: JSON.stringify({ id: SENSOR }) })
      expect(other.status).toBe(200)
      await tab.locator('button[data-action="rollback"]').click()
      await expect.poll(() => tab.locator('#toast').innerText()).toContain('changed since the page showed it')
      expect(lock.read().functions[SENSOR]!.current).toBe(base)
      expect(lock.read().functions[SENSOR]!.candidate).toBeUndefined()
    } finally {
      await tab.close()
    }
  })

  it("answers a click on a page opened before the function was renamed with its new id, and moves nothing", async () => {
    const lock = new LockStore(app.path('.poet'))
    const [before, after] = ['src/legacy.ts#price', 'src/pricing.ts#price']
    lock.write(before, { version: 'renamed001', source: '// one\n', inputHash: 'in-renamed', generator: 'builtin', reason: 'build' })
    lock.write(before, { version: 'renamed002', source: '// two\n', inputHash: 'in-renamed', generator: 'builtin', reason: 'train: test' })
    const tab = await browser.newPage()
    tab.on('dialog', (d) => void d.accept())
    try {
      await tab.goto(`${app.url}/__poet/#/fn/${encodeURIComponent(before)}`)
      await expect.poll(() => tab.locator('button[data-action="rollback"]').count(), { timeout: 10_000 }).toBe(1)
      // This tab stops polling (a laptop lid): it keeps showing the buttons under the old id.
      await tab.route('**/__poet/api/functions', (r) => r.abort())
      // The rename, as a build leaves it in the lock.
      lock.update((l) => {
        l.functions[after] = { ...l.functions[before]!, formerIds: [before], renamed: new Date().toISOString() }
        delete l.functions[before]
      })
      await tab.locator('button[data-action="rollback"]').click()
      await expect.poll(() => tab.locator('#toast').innerText()).toContain(`It was renamed or moved: its entry is ${after} now. Nothing was done`)
      expect(lock.read().functions[after]!.current).toBe('renamed002')
    } finally {
      await tab.close()
      lock.update((l) => void delete l.functions[after])
    }
  })
})

/** `poet serve` on `dir` until `stop()`; its URL once it listens. */
async function startServe(dir: string, args: string[] = []): Promise<{ url: string; stop(): Promise<void> }> {
  const { serveCommand } = await import('../../src/train/commands')
  const out: string[] = []
  let stop!: () => void
  const stopped = new Promise<void>((done) => (stop = done))
  const exit = serveCommand(['--port', '0', ...args], { out: (l) => out.push(l), err: (l) => out.push(l), cwd: dir, stopped })
  await expect.poll(() => out.join('\n')).toMatch(/dashboard at http/)
  return {
    url: /dashboard at (\S+)\//.exec(out.join('\n'))![1]!,
    async stop() {
      stop()
      expect(await exit).toBe(0)
    },
  }
}

/** `poet serve` of a fresh project whose lock holds one function, `src/a.ts#f` (version aaaa000001). */
async function serveOneFunction(name: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = join(PACKAGE_ROOT, 'test/.tmp', `serve-${name}-${randomUUID().slice(0, 8)}`)
  new LockStore(join(dir, '.poet')).write('src/a.ts#f', { version: 'aaaa000001', source: '// one\n', inputHash: 'in-1', generator: 'builtin', reason: 'build' })
  return startServe(dir)
}

describe('dashboard of `poet serve`', () => {
  it('shows a helpful empty state before any event, and is read-only', async () => {
    const dir = join(PACKAGE_ROOT, 'test/.tmp', `serve-empty-${randomUUID().slice(0, 8)}`)
    mkdirSync(dir, { recursive: true })
    // A project of its own: else poet serve takes the repository around test/.tmp for the project.
    writeFileSync(join(dir, 'package.json'), '{}\n')
    const { serveCommand } = await import('../../src/train/commands')
    const out: string[] = []
    let stop!: () => void
    const stopped = new Promise<void>((done) => (stop = done))
    const exit = serveCommand(['--port', '0'], { out: (l) => out.push(l), err: (l) => out.push(l), cwd: dir, stopped })
    await expect.poll(() => out.join('\n')).toMatch(/dashboard at http/)
    const url = /dashboard at (\S+)\//.exec(out.join('\n'))![1]!
    try {
      const page = await browser.newPage()
      // The browser's own requests too: a favicon the collector does not have put a 404 in the console of every visit.
      const failed: string[] = []
      page.on('console', (m) => void (m.type() === 'error' && failed.push(m.text())))
      await page.goto(`${url}/`)
      await expect.poll(() => page.locator('.empty').innerText()).toContain('No POET functions yet')
      expect(await page.locator('.empty').innerText()).toContain(`httpSink({ url: '${url}/v1/events' })`)
      // The favicon request comes after the load event: every request the page makes has ended by network idle.
      await page.waitForLoadState('networkidle')
      expect(failed).toEqual([])
      await page.screenshot({ path: join(SHOTS, 'dashboard-empty.png') })
      const res = await fetch(`${url}/api/rollback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"x"}' })
      expect(res.status).toBe(403)
      expect(((await res.json()) as { error: string }).error).toMatch(/read-only/)
    } finally {
      stop()
      expect(await exit).toBe(0)
    }
  })

  it("is titled with the project's package.json name, as the dev dashboard of the same project is", async () => {
    const dir = join(PACKAGE_ROOT, 'test/.tmp', `serve-named-${randomUUID().slice(0, 8)}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), '{ "name": "shop" }\n')
    const serve = await startServe(dir)
    try {
      expect(await (await fetch(`${serve.url}/`)).text()).toContain('<title>POET · shop</title>')
    } finally {
      await serve.stop()
    }
  })

  it('asks for the token when poet serve wants one, rather than saying the collector is unreachable', async () => {
    const dir = join(PACKAGE_ROOT, 'test/.tmp', `serve-token-${randomUUID().slice(0, 8)}`)
    mkdirSync(dir, { recursive: true })
    // A project of its own: else poet serve takes the repository around test/.tmp for the project.
    writeFileSync(join(dir, 'package.json'), '{}\n')
    const serve = await startServe(dir, ['--token', 'sesame'])
    const page = await browser.newPage()
    try {
      await page.goto(`${serve.url}/`)
      await expect.poll(() => page.locator('#app h1').innerText()).toBe('The collector answered with an error')
      expect(await page.locator('#app').innerText()).toContain('open the dashboard as /#?token=')
      await page.goto(`${serve.url}/#?token=sesame`)
      await page.reload()
      await expect.poll(() => page.locator('.empty h1').innerText()).toBe('No POET functions yet')
      expect(await page.locator('#live').innerText()).toBe('live')
      // Its snippet must pass the token too, or the runtime's events would all be refused with 401.
      expect(await page.locator('.empty pre').innerText()).toContain(`httpSink({ url: '${serve.url}/v1/events', token: process.env.POET_TOKEN })`)
    } finally {
      await page.close()
      await serve.stop()
    }
  })

  it('says above the table how many events clients dropped in the window, which no count of it holds', async () => {
    const id = 'src/a.ts#f'
    const serve = await serveOneFunction('dropped')
    const page = await browser.newPage()
    try {
      await page.goto(`${serve.url}/`)
      await expect.poll(() => page.locator(`tr.fn[data-id="${id}"]`).count()).toBe(1)
      expect(await page.locator('.dropped').count()).toBe(0)
      // As an httpSink reports it: its running count, with the session that tells it from other pages' sinks.
      const event = { v: 1, kind: 'execution', functionId: id, version: 'aaaa000001', executionId: randomUUID(), ts: Date.now(), duration: 1, outcome: 'ok', attempts: 1 }
      const res = await fetch(`${serve.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-poet-dropped': '1234;session=tab1' }, body: JSON.stringify([event]) })
      expect(res.status).toBe(202)
      await expect.poll(() => page.locator('.dropped').count(), { timeout: 10_000 }).toBe(1)
      expect(await page.locator('.dropped').innerText()).toMatch(/^1,234 events lost by clients in the last 1 hour, never received: the counts below miss them\./)
    } finally {
      await page.close()
      await serve.stop()
    }
  })

  it('never lets a slow answer for the page the user left overwrite the one they opened', async () => {
    const id = 'src/a.ts#f'
    const serve = await serveOneFunction('slow')
    const page = await browser.newPage()
    try {
      await page.goto(`${serve.url}/`)
      await expect.poll(() => page.locator(`tr.fn[data-id="${id}"]`).count()).toBe(1)
      // A collector slow to answer the table (a large store): the next poll starts while the user opens a function.
      await page.route('**/v1/functions?window=*', async (r) => {
        await new Promise((done) => setTimeout(done, 1500))
        await r.continue().catch(() => undefined)
      })
      await page.waitForRequest('**/v1/functions?window=*')
      await page.locator(`tr.fn[data-id="${id}"]`).click()
      await page.waitForSelector('h1.id')
      await page.waitForTimeout(1800)
      expect(await page.locator('h1.id').count()).toBe(1)
      expect(await page.locator('tr.fn').count()).toBe(0)
    } finally {
      await page.close()
      await serve.stop()
    }
  })

  it('recovers from a request the collector never answered: it is given up, and polling goes on', async () => {
    const serve = await serveOneFunction('hang')
    const page = await browser.newPage()
    let hung = false
    // The first read never gets an answer (a server stopped in a debugger, a stalled proxy); later ones do.
    await page.route('**/api/functions', async (r) => {
      if (hung) return r.continue()
      hung = true
    })
    try {
      await page.goto(`${serve.url}/`)
      await expect.poll(() => page.locator('tr.fn').count(), { timeout: 20_000, interval: 500 }).toBe(1)
    } finally {
      await page.close()
      await serve.stop()
    }
  })

  it("keeps a function's page when one poll of it fails to connect, and says it is offline rather than live", async () => {
    const id = 'src/a.ts#f'
    const serve = await serveOneFunction('blip')
    const page = await browser.newPage()
    try {
      await page.goto(`${serve.url}/#/fn/${encodeURIComponent(id)}`)
      await page.waitForSelector('h1.id')
      // A network blip on the function's own read (a proxy dropping one connection): the page it shows stays.
      let dropped = 0
      await page.route('**/v1/functions/**', (r) => (dropped++ ? r.continue() : r.abort('connectionreset')))
      await expect.poll(() => dropped, { timeout: 10_000 }).toBeGreaterThan(0)
      await expect.poll(() => page.locator('#live').innerText()).toBe('offline')
      expect(await page.locator('h1.id').innerText()).toBe(id)
      expect(await page.locator('#banner').innerText()).toContain('Not updating since')
      // The next poll is answered: live again, on the same page.
      await expect.poll(() => page.locator('#live').innerText(), { timeout: 10_000 }).toBe('live')
      expect(await page.locator('h1.id').innerText()).toBe(id)
      expect(await page.locator('#banner').isVisible()).toBe(false)
    } finally {
      await page.close()
      await serve.stop()
    }
  })

  it('says why it stopped updating, shows no diff against a missing phase module, and survives a malformed link', async () => {
    const dir = join(PACKAGE_ROOT, 'test/.tmp', `serve-broken-${randomUUID().slice(0, 8)}`)
    const lock = new LockStore(join(dir, '.poet'))
    const id = 'src/a.ts#f'
    lock.write(id, { version: 'aaaa000001', source: '// one\n', inputHash: 'in-1', generator: 'builtin', reason: 'build' })
    lock.write(id, { version: 'bbbb000002', source: '// two\n', inputHash: 'in-2', generator: 'builtin', reason: 'build' })
    rmSync(join(lock.dir, lock.read().functions[id]!.versions['aaaa000001']!.file))
    const serve = await startServe(dir)
    const page = await browser.newPage()
    try {
      await page.goto(`${serve.url}/#/fn/${encodeURIComponent(id)}`)
      const file = join(lock.dir, lock.read().functions[id]!.versions['aaaa000001']!.file)
      await expect.poll(() => page.locator('#diff').innerText()).toBe(`No diff: the phase module of ${id}@aaaa000001 is missing: ${file}. Restore .poet/ from version control.`)
      expect(await page.locator('#diff .add').count()).toBe(0)

      writeFileSync(lock.file, '<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> theirs\n')
      await expect.poll(() => page.locator('#banner').innerText(), { timeout: 10_000 }).toMatch(/^Not updating since .*: cannot read/)
      expect(await page.locator('#banner').innerText()).toContain('merge conflict markers')
      expect(await page.locator('#live').innerText()).toBe('error')

      writeFileSync(lock.file, '{ "lockfileVersion": 1, "functions": {} }\n')
      await page.goto(`${serve.url}/#/fn/%E0%A4%A`)
      await page.reload()
      await expect.poll(() => page.locator('#app h1').innerText()).toBe('%E0%A4%A')
      expect(await page.locator('#app').innerText()).toContain('no function "%E0%A4%A"')
    } finally {
      await page.close()
      await serve.stop()
    }
  })
})
