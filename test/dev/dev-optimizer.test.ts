// Vite's dependency optimizer in dev, in Chromium: the app, the phase modules and the dev client share one runtime instance, also after a re-optimization reloads the page.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FILES, launchChromium, startDevApp, type DevApp } from './app'

const pkg = (name: string, source: string) => ({
  [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js' }),
  [`node_modules/${name}/index.js`]: source,
})

const APP: Record<string, string> = {
  ...FILES,
  'src/main.ts': `import { onEvent, PoetInputError } from 'unplugin-poet/runtime'
import { old } from 'olddep'
import { normalize } from './sensor'

const w = window as unknown as Record<string, unknown>
sessionStorage.loads = String(Number(sessionStorage.loads ?? 0) + 1)
const seen: string[] = []
w.seen = seen
// Events of calls made through the phase module, heard through the app's own import of the runtime.
onEvent((e) => void seen.push(e.kind))
w.call = () => {
  try {
    normalize({ value: '3', unit: 'C' } as never)
    return 'accepted'
  } catch (e) {
    return e instanceof PoetInputError ? 'PoetInputError' : 'another error: ' + (e as Error).name
  }
}
w.later = () => import('./late')
old()
document.body.dataset.ready = '1'
`,
  'src/late.ts': 'export const later = 1\n',
  ...pkg('shared', 'export const shared = { n: 1 }\n'),
  ...pkg('olddep', "import { shared } from 'shared'\nexport const old = () => shared.n\n"),
  // Found only when src/late.ts starts importing it: it shares `shared` with olddep, so the optimizer's chunks change
  // and Vite reloads the page.
  ...pkg('newdep', "import { shared } from 'shared'\nexport const fresh = () => shared.n\n"),
}

describe.each([
  ['by default', {}],
  ["with optimizeDeps.include: ['unplugin-poet/runtime']", { optimizeDeps: { include: ['unplugin-poet/runtime'] } }],
])('vite dev, the dependency optimizer %s', (_, config) => {
  let app: DevApp
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    ;[app, browser] = await Promise.all([startDevApp('dev-optimizer', APP, undefined, config), launchChromium()])
    page = await browser.newPage()
    await page.goto(app.url)
    await page.waitForSelector('body[data-ready="1"]', { state: 'attached' })
  })
  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  /** Every URL the page loaded the runtime from, query included: two would be two instances. */
  const runtimeUrls = () =>
    page.evaluate(() => [...new Set(performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /unplugin-poet.*runtime|runtime\.m?js/.test(n)))])
  const call = () => page.evaluate(() => (window as unknown as { call(): string }).call())
  const seen = () => page.evaluate(() => (window as unknown as { seen: string[] }).seen.length)

  it("gives the page one runtime: its errors are the app's PoetInputError, its events reach the app's listeners", async () => {
    expect(await call()).toBe('PoetInputError')
    expect(await seen()).toBe(1)
    expect(await runtimeUrls()).toHaveLength(1)
  })

  it('still does after a dependency found mid-session re-optimizes and reloads the page', async () => {
    app.write('src/late.ts', "import { fresh } from 'newdep'\nexport const later = fresh()\n")
    // The reload may cut this call short.
    await page.evaluate(() => (window as unknown as { later(): Promise<unknown> }).later()).catch(() => undefined)
    await page.waitForFunction(() => sessionStorage.loads === '2' && document.body.dataset.ready === '1', undefined, { timeout: 20_000 })
    expect(await call()).toBe('PoetInputError')
    expect(await seen()).toBe(1)
    const urls = await runtimeUrls()
    expect(urls, urls.join('\n')).toHaveLength(1)
    expect(urls[0]).toMatch(/\/node_modules\/\.vite\/deps\/unplugin-poet_runtime\.js\?v=/)
  })
})
