// One function's page in Chromium, on a real lock and store: what each version row offers, and which diff it opens on.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createDashboard } from '../../src/dashboard/handler'
import { BUILTIN_VERSION } from '../../src/generators/builtin/version'
import { LockStore } from '../../src/generators/lock'
import { createCollector, type Collector } from '../../src/train/collector'
import { launchChromium } from '../dev/app'

const ID = 'src/a.ts#f'

let browser: Browser
let page: Page
let dir: string
let lock: LockStore
let collector: Collector
let server: Server
let url: string

beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'poet-versions-'))
  lock = new LockStore(join(dir, '.poet'))
  collector = createCollector({ db: join(dir, '.poet/feedback.db'), lockDir: lock.dir, base: '/__poet' })
  const dashboard = createDashboard({ base: '/__poet', lockDir: lock.dir, store: collector.store, collector: collector.handle, project: 'p', writable: true })
  server = createServer((req, res) => dashboard(req, res, () => collector.handle(req, res)))
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  page = await browser.newPage()
})

afterEach(async () => {
  await page?.close()
  await new Promise((done) => server?.close(done))
  collector.close()
  rmSync(dir, { recursive: true, force: true })
})

function version(v: string, input: string, created: string): void {
  lock.write(ID, { version: v, source: `// phases ${v}\n`, inputHash: input, generator: 'builtin', reason: 'build' })
  lock.update((l) => (l.functions[ID]!.versions[v]!.created = created))
}

const rows = () => page.locator('#versions tbody tr')
const rowOf = (v: string) => rows().filter({ hasText: v })

describe("a function's versions", () => {
  it('opens the diff on what serves now: current against the newest other version, as `poet diff` does', async () => {
    version('aaaa000001', 'in-1', '2026-01-01T00:00:00.000Z')
    version('bbbb000002', 'in-1', '2026-01-02T00:00:00.000Z')
    version('cccc000003', 'in-1', '2026-01-03T00:00:00.000Z')
    // Rolled back twice: the two newest versions are neither of them current.
    lock.update((l) => (l.functions[ID]!.current = 'aaaa000001'))
    await page.goto(`${url}/__poet/#/fn/${encodeURIComponent(ID)}`)
    await page.waitForSelector('#diff .diff')
    expect(await page.locator('#diff-from').inputValue()).toBe('aaaa000001')
    expect(await page.locator('#diff-to').inputValue()).toBe('cccc000003')
    expect(await page.locator('#diff .del').allInnerTexts()).toEqual(['- // phases aaaa000001'])
  })

  it('tells a version the lock does not hold (events of another build) from one of an older source', async () => {
    version('aaaa000001', 'in-1', '2026-01-01T00:00:00.000Z')
    version('bbbb000002', 'in-2', '2026-01-02T00:00:00.000Z')
    const ts = Date.now()
    collector.store.insert([{ v: 1, kind: 'execution', functionId: ID, version: 'ffff999999', executionId: 'e1', ts, duration: 3, outcome: 'ok', attempts: 1 }])
    await page.goto(`${url}/__poet/#/fn/${encodeURIComponent(ID)}`)
    await expect.poll(() => rows().count()).toBe(3)
    expect(await rowOf('aaaa000001').innerText()).toContain('older source')
    expect(await rowOf('ffff999999').innerText()).toContain('not in the lock')
    expect(await rowOf('ffff999999').innerText()).not.toContain('older source')
    // Nor is it offered as a side of the default diff, having no phase code to show.
    expect(await page.locator('#diff-from').inputValue()).toBe('aaaa000001')
    expect(await page.locator('#diff-to').inputValue()).toBe('bbbb000002')
  })

  it('tells a version an earlier builtin compiler wrote from the current source from one of an older source', async () => {
    version('aaaa000001', 'in-0', '2026-01-01T00:00:00.000Z')
    version('bbbb000002', 'in-1', '2026-01-02T00:00:00.000Z')
    // A compiler upgrade regenerated the same source: its version names the hash the earlier compiler gave it.
    lock.write(ID, { version: 'cccc000003', source: '// phases cccc000003\n', inputHash: 'in-2', generator: 'builtin', reason: 'build', compilerUpgradeOf: 'in-1' })
    await page.goto(`${url}/__poet/#/fn/${encodeURIComponent(ID)}`)
    await expect.poll(() => rows().count()).toBe(3)
    expect(await rowOf('bbbb000002').innerText()).toContain('older compiler')
    expect(await rowOf('aaaa000001').innerText()).toContain('older source')
  })

  it('labels a builtin fallback an earlier compiler wrote "older compiler", with no Promote, beside one this compiler wrote', async () => {
    // Under an LLM generator: the fallbacks keep the LLM's hash; only the compiler they record (or none) tells them apart.
    const fallback = { inputHash: 'in-llm', generator: 'builtin', model: 'm', reason: 'fallback: the model refused' }
    lock.write(ID, { ...fallback, version: 'aaaa000001', source: '// phases aaaa000001\n' })
    lock.write(ID, { ...fallback, version: 'bbbb000002', source: '// phases bbbb000002\n', compiler: BUILTIN_VERSION })
    lock.write(ID, { ...fallback, version: 'cccc000003', source: '// phases cccc000003\n', compiler: BUILTIN_VERSION, reason: 'train: attempts up' })
    await page.goto(`${url}/__poet/#/fn/${encodeURIComponent(ID)}`)
    await expect.poll(() => rows().count()).toBe(3)
    expect(await rowOf('aaaa000001').innerText()).toContain('older compiler')
    expect(await rowOf('aaaa000001').locator('button').count()).toBe(0)
    expect(await rowOf('bbbb000002').locator('button[data-action="promote"]').count()).toBe(1)
  })

  it('shows the project name, what the build says of a function and the collector\'s errors as text, never as markup', async () => {
    const evil = `<img src=x onerror="window.__pwned=1">`
    const hostile = createDashboard({
      base: '/__poet',
      lockDir: lock.dir,
      store: collector.store,
      collector: collector.handle,
      project: `</title><script>window.__pwned=2</script>${evil}`,
      writable: true,
      functions: () => ({ [ID]: { domain: evil, optimizeFor: `"><svg onload="window.__pwned=3">` } }),
    })
    const other = createServer((req, res) => hostile(req, res, () => collector.handle(req, res)))
    await new Promise<void>((done) => other.listen(0, '127.0.0.1', done))
    try {
      const at = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
      lock.write(ID, { version: 'aaaa000001', source: '// a\n', inputHash: 'in-1', generator: `${evil}`, reason: 'build' })
      await page.goto(`${at}/__poet/`)
      await expect.poll(() => page.locator('tr.fn').count()).toBe(1)
      expect(await page.title()).toContain('</title><script>')
      expect(await page.locator('tr.fn').innerText()).toContain(evil)
      await page.goto(`${at}/__poet/#/fn/${encodeURIComponent(ID)}`)
      await expect.poll(() => page.locator('#meta').innerText()).toContain('svg onload')
      // No such function: the collector's 404 names the id, which the page shows.
      await page.goto(`${at}/__poet/#/fn/${encodeURIComponent(`src/x.ts#${evil}`)}`)
      await expect.poll(() => page.locator('#app').innerText()).toContain(`no function`)
      expect(await page.locator('#app img, #app svg:not(.u-over svg), body > script:not([src]):not([type])').count()).toBe(0)
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
    } finally {
      await new Promise((done) => other.close(done))
    }
  })

  it('shows ids, versions, reasons and decisions from events and the lock as text, never as markup', async () => {
    const evil = `<img src=x onerror="window.__pwned=1">`
    const id = `src/x.ts#${evil}`
    lock.write(id, { version: 'aaaa000001', source: `// ${evil}\n`, inputHash: 'in-1', generator: 'builtin', reason: `train: ${evil}` })
    lock.write(id, { version: 'bbbb000002', source: `// two ${evil}\n`, inputHash: 'in-1', generator: 'builtin', reason: 'build' })
    collector.store.insert([{ v: 1, kind: 'execution', functionId: id, version: `"><svg onload="window.__pwned=2">`, executionId: 'e1', ts: Date.now(), duration: 3, outcome: 'ok', attempts: 1 }])
    collector.store.recordDecision({ functionId: id, ts: Date.now(), action: `<b onmouseover="window.__pwned=3">x</b>`, from: 'aaaa000001', to: 'bbbb000002', reason: evil })
    await page.goto(`${url}/__poet/`)
    await expect.poll(() => page.locator('tr.fn').count()).toBe(1)
    expect(await page.locator('tr.fn .id').innerText()).toBe(id)
    await page.locator('tr.fn').click()
    await page.waitForSelector('#diff .diff')
    expect(await page.locator('h1.id').innerText()).toBe(id)
    expect(await page.locator('#decisions').innerText()).toContain(evil)
    expect(await page.locator('#versions').innerText()).toContain(`train: ${evil}`)
    expect(await page.locator('#diff').innerText()).toContain(evil)
    expect(await page.locator('#app img, #app svg:not(.u-over svg)').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
  })
})
