// Vite dev in Chromium: a page that calls a poet function and rates each result in one burst loses none of the events.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, startDevApp, until, type DevApp } from './app'

const CALLS = 1500

const files = {
  'package.json': JSON.stringify({ name: 'poet-dev-burst', private: true, type: 'module' }),
  'index.html': `<!doctype html><html><head><title>burst</title></head><body><h1>rows</h1><script type="module" src="/src/main.ts"></script></body></html>`,
  'src/rows.ts': `import { poet } from 'unplugin-poet/runtime'

export const row = poet()(function row(i: number): { i: number; label: string } {
  return { i, label: 'row ' + i }
})
`,
  'src/main.ts': `import { feedback } from 'unplugin-poet/runtime'
import { row } from './rows'

// A table of rows rendered in one task, each rated as it is shown: a call and a feedback event per row.
;(window as unknown as Record<string, unknown>).burst = (n: number) => {
  for (let i = 0; i < n; i++) feedback(row(i), { score: 1 })
}
document.body.dataset.ready = '1'
`,
}

interface Health {
  executions: number
  feedback: number
  dropped: { events: number }
}

let app: DevApp
let browser: Browser
let page: Page

beforeAll(async () => {
  ;[app, browser] = await Promise.all([startDevApp('dev-burst', files), launchChromium()])
  page = await browser.newPage()
  await page.goto(app.url)
  await page.waitForSelector('body[data-ready="1"]')
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

describe('vite dev: the page sink', () => {
  it(`keeps every event of ${CALLS} calls rated in one task: none dropped at the queue, all in the store`, async () => {
    await page.evaluate((n) => (window as unknown as { burst(n: number): void }).burst(n), CALLS)
    const health = () => fetch(`${app.url}/__poet/healthz`).then((r) => r.json() as Promise<Health>)
    // Until all arrived, or the sink reported any dropped (they never arrive then).
    const h = await until(health, (x) => x.dropped.events > 0 || (x.executions >= CALLS && x.feedback >= CALLS), 60_000)
    expect({ executions: h.executions, feedback: h.feedback, dropped: h.dropped.events }).toEqual({ executions: CALLS, feedback: CALLS, dropped: 0 })
  })
})
