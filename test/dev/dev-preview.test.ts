// `vite preview` of a real build in Chromium: where a built page's events go, and what /__poet/ says there.
import { rmSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import type { PreviewServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Options } from '../../src'
import { distPlugin, FILES, launchChromium, until, writeApp } from './app'

const ID = 'src/sensor.ts#normalize'

interface Previewed {
  url: string
  page: Page
  /** What the page said on its console, and every request it made under /__poet or to the endpoint. */
  console: string[]
  posts: { url: string; status: number }[]
  close(): Promise<void>
}

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

/** Builds the fixture app with `options`, serves dist/ with `vite preview` on 127.0.0.1, and opens it in Chromium. */
async function previewApp(name: string, options: Options, preview: Record<string, unknown> = {}): Promise<Previewed> {
  const { dir } = writeApp(name, FILES)
  const vite = await import('vite')
  const config = { root: dir, configFile: false as const, logLevel: 'warn' as const, clearScreen: false }
  await vite.build({ ...config, plugins: [await distPlugin(options)] })
  let server: PreviewServer | undefined
  try {
    server = await vite.preview({ ...config, plugins: [await distPlugin(options)], preview: { host: '127.0.0.1', port: 0, ...preview } })
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  const url = new URL(server.resolvedUrls!.local[0]!).origin
  const page = await browser.newPage()
  const said: string[] = []
  const posts: Previewed['posts'] = []
  page.on('console', (m) => said.push(m.text()))
  page.on('response', (r) => r.request().method() === 'POST' && posts.push({ url: r.url(), status: r.status() }))
  await page.goto(url)
  await page.waitForSelector('body[data-ready="1"]')
  return {
    url,
    page,
    console: said,
    posts,
    close: async () => {
      await page.close()
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const call = (p: Previewed, input: unknown) => p.page.evaluate((i) => (window as unknown as { app: { call(i: unknown): unknown } }).app.call(i), input)

async function calls(url: string): Promise<number> {
  const res = await fetch(`${url}/__poet/v1/functions?window=1h`)
  // Without a collector there, Vite's SPA fallback answers with the app's index.html.
  if (!res.headers.get('content-type')?.startsWith('application/json')) return -res.status
  const { functions } = (await res.json()) as { functions: { id: string; calls: number }[] }
  return functions.filter((f) => f.id === ID).reduce((sum, f) => sum + f.calls, 0)
}

describe("vite preview of a build whose pages post to feedback.endpoint '/__poet/events'", () => {
  let app: Previewed
  beforeAll(async () => {
    app = await previewApp('preview-events', { feedback: { endpoint: '/__poet/events' } })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('takes their events, as vite dev does: none refused, the console quiet', async () => {
    expect(await call(app, { value: 3, unit: 'C' })).toEqual({ ok: 3 })
    expect(await call(app, { value: '3', unit: 'C' })).toMatchObject({ error: 'PoetInputError' })
    expect(await until(() => calls(app.url), (n) => n >= 2), 'the preview server stored no event of the page').toBe(2)
    await expect.poll(() => app.posts.length, { timeout: 15_000 }).toBeGreaterThan(0)
    expect(app.posts.filter((p) => p.status !== 202)).toEqual([])
    expect(app.console.filter((line) => /httpSink|__poet/.test(line))).toEqual([])
  })

  it('shows them on the read-only dashboard at /__poet/, with no promote or roll back', async () => {
    const board = await browser.newPage()
    try {
      await board.goto(`${app.url}/__poet/`)
      const row = board.locator(`tr.fn[data-id="${ID}"]`)
      await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1)
      await expect.poll(() => row.locator('td.num').first().innerText(), { timeout: 15_000 }).toBe('2')
    } finally {
      await board.close()
    }
    const promote = await fetch(`${app.url}/__poet/api/promote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"x","version":"y"}' })
    expect(promote.status).toBe(403)
  })
})

describe('vite preview of a build whose pages post to another same-origin path (a production proxy routes it)', () => {
  let app: Previewed
  beforeAll(async () => {
    app = await previewApp('preview-path', { feedback: { endpoint: '/api/poet-events' } })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('takes the events at that path', async () => {
    expect(await call(app, { value: 3, unit: 'C' })).toEqual({ ok: 3 })
    expect(await until(() => calls(app.url), (n) => n >= 1), 'the preview server stored no event of the page').toBe(1)
    await expect.poll(() => app.posts.length, { timeout: 15_000 }).toBeGreaterThan(0)
    expect(app.posts.map((p) => [p.url, p.status])).toEqual([[`${app.url}/api/poet-events`, 202]])
  })
})

describe('vite preview of a build with the default options, which sends no events', () => {
  let app: Previewed
  beforeAll(async () => {
    app = await previewApp('preview-default', {})
  })
  afterAll(async () => {
    await app?.close()
  })

  it('says at /__poet/ why there is nothing to see, and what to set', async () => {
    expect(await call(app, { value: 3, unit: 'C' })).toEqual({ ok: 3 })
    const res = await fetch(`${app.url}/__poet/`)
    expect(res.status).toBe(404)
    expect(await res.text()).toContain("this build sends no POET events: a page Vite builds posts them only to the poet plugin's feedback.endpoint, which is not set. Set feedback: { endpoint: '/__poet/events' }")
    expect(app.posts).toEqual([])
  })
})

it("says at /__poet/ that an endpoint relative to each page's URL cannot be taken, and what to give instead", async () => {
  const app = await previewApp('preview-relative', { feedback: { endpoint: 'events' } })
  try {
    const res = await fetch(`${app.url}/__poet/`)
    expect(res.status).toBe(404)
    expect(await res.text()).toBe(
      "this build posts its POET events to events, relative to each page's own URL, so vite preview cannot take them: give feedback.endpoint a path from the root, like '/__poet/events', and build again.\n",
    )
  } finally {
    await app.close()
  }
})
