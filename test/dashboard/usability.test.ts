// The dashboard as people use it every day, in Chromium against a real collector and SQLite store: on a phone, from
// the keyboard, with a screen reader, through a collector restart, and clicking promote / roll back.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/chromium'
import { LONG_ID, seed, startBoard, traffic, type Board } from './board'

const SENSOR = 'src/sensor.ts#normalize'
const fnUrl = (board: Board, id: string) => `${board.url}/#/fn/${encodeURIComponent(id)}`

let board: Board
let browser: Browser

beforeAll(async () => {
  ;[board, browser] = await Promise.all([startBoard('usability', { writable: true }), launchChromium()])
  await seed(board)
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await board?.close()
})

/** How far the whole page scrolls sideways, in px: 0 when everything fits the viewport. */
const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)

describe('on a narrow screen', () => {
  for (const width of [375, 768]) {
    it(`fits ${width} px: the page never scrolls sideways, long ids wrap, and wide tables scroll within their panel`, async () => {
      const page = await browser.newPage({ viewport: { width, height: 800 } })
      try {
        await page.goto(`${board.url}/`)
        await page.locator(`tr.fn[data-id="${LONG_ID}"]`).waitFor()
        expect(await sideways(page)).toBe(0)
        if (width === 375) {
          // Nine columns do not fit a phone: the table scrolls inside its panel, which the page's width does not follow.
          const scroller = page.locator('.panel .scroll').first()
          expect(await scroller.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true)
        }
        const link = page.getByRole('link', { name: LONG_ID })
        const box = (await link.boundingBox())!
        expect(box.height).toBeGreaterThan(40)

        await page.goto(fnUrl(board, LONG_ID))
        await page.locator('#chart-calls canvas').first().waitFor()
        await page.locator('#versions table').waitFor()
        expect(await sideways(page)).toBe(0)
        const heading = (await page.locator('h1.id').boundingBox())!
        expect(heading.x + heading.width).toBeLessThanOrEqual(width)
        await page.goto(fnUrl(board, SENSOR))
        await page.locator('#diff .add').waitFor()
        expect(await sideways(page)).toBe(0)
      } finally {
        await page.close()
      }
    })
  }

  it('redraws its charts to the new width when the window narrows, rather than scroll the page', async () => {
    const page = await browser.newPage({ viewport: { width: 1320, height: 900 } })
    try {
      await page.goto(fnUrl(board, SENSOR))
      await page.locator('#chart-calls canvas').first().waitFor()
      await page.setViewportSize({ width: 375, height: 900 })
      await expect.poll(() => sideways(page)).toBe(0)
      expect((await page.locator('#chart-calls .uplot').boundingBox())!.width).toBeLessThan(375)
    } finally {
      await page.close()
    }
  })
})

describe('from the keyboard and with a screen reader', () => {
  it('opens a function with Tab and Enter, puts focus on its heading, and brings it back to its link on the way back', async () => {
    const page = await browser.newPage({ viewport: { width: 1320, height: 900 } })
    try {
      await page.goto(`${board.url}/`)
      await page.locator(`tr.fn[data-id="${SENSOR}"]`).waitFor()
      const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-fn') ?? document.activeElement?.tagName)
      // The brand link, the window select, then each function in the table's order.
      const seen: (string | undefined)[] = []
      for (let i = 0; i < 6; i++) {
        await page.keyboard.press('Tab')
        seen.push(await focused())
      }
      expect(seen).toEqual(['A', 'SELECT', LONG_ID, 'src/idle.ts#neverCalled', 'src/quote.ts#quote', SENSOR])
      // Focus is drawn where it is: a keyboard user sees which function Enter opens.
      expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none')
      await page.keyboard.press('Enter')
      await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1')
      expect(await page.locator('h1.id').innerText()).toBe(SENSOR)

      await page.keyboard.press('Shift+Tab')
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('← All functions')
      await page.keyboard.press('Enter')
      await expect.poll(focused).toBe(SENSOR)
    } finally {
      await page.close()
    }
  })

  it('names every control, header and chart, marks row headers, titles the tab, and does not read the whole table out at every poll', async () => {
    const page = await browser.newPage({ viewport: { width: 1320, height: 900 } })
    try {
      await page.goto(`${board.url}/`)
      await page.locator(`tr.fn[data-id="${SENSOR}"]`).waitFor()
      expect(await page.getByRole('rowheader', { name: 'src/quote.ts#quote' }).count()).toBe(1)
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('usability')
      // "+n9f8e7 10 %" said what it was only on hover.
      expect(await page.getByRole('cell', { name: 'n1a2b3c4d5 candidate under test: +n9f8e7 10 %' }).count()).toBe(1)
      expect(await page.locator('th:not([scope])').count()).toBe(0)
      // A live region around the table made screen readers read it again each time a number changed: every 2 s under traffic.
      expect(await page.locator('tr.fn').first().evaluate((e) => e.closest('[aria-live], [role="status"], [role="alert"], [role="log"]') === null)).toBe(true)
      expect(await page.getByRole('status').filter({ hasText: 'live' }).count()).toBe(1)
      // The status is read out when it changes, not at each poll that finds it unchanged.
      await page.evaluate(() => {
        const w = window as unknown as { writes: number }
        w.writes = 0
        new MutationObserver((m) => (w.writes += m.length)).observe(document.getElementById('live')!, { childList: true, characterData: true, subtree: true })
      })
      const polls = () => page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/api/functions')).length)
      const before = await polls()
      await expect.poll(polls, { timeout: 15_000 }).toBeGreaterThan(before + 2)
      expect(await page.evaluate(() => (window as unknown as { writes: number }).writes)).toBe(0)

      await page.goto(fnUrl(board, SENSOR))
      await page.locator('#diff .add').waitFor()
      await page.getByRole('combobox', { name: 'from' }).waitFor()
      await page.getByRole('combobox', { name: 'to' }).waitFor()
      expect(await page.getByRole('columnheader', { name: 'Action' }).count()).toBe(1)
      // The charts are canvases: each is an image named by what it shows, not a legend reading "--".
      await expect.poll(() => page.getByRole('img', { name: /^Calls and errors over the last 1 hour: 1,000 calls, 9\d failed$/ }).count()).toBe(1)
      expect(await page.getByRole('img', { name: /^Latency of the current version over the last 1 hour: p50 \d+ ms, p95 \d+ ms$/ }).count()).toBe(1)
      expect(await page.getByRole('table').count()).toBe(1)
      expect(await page.title()).toBe('normalize · POET · usability')
      expect(await page.getByRole('rowheader', { name: /^n9f8e7d6c5 candidate/ }).count()).toBe(1)
      expect(await page.locator('#versions th:not([scope])').count()).toBe(0)
      for (const control of await page.locator('button, select, a[href], input').all()) expect((await control.ariaSnapshot()).replace(/^- \w+\s*/, '').trim()).not.toBe('')
    } finally {
      await page.close()
    }
  })
})

/** Every text on the page whose contrast with what is behind it is under WCAG AA's 4.5:1 (3:1 for large text). */
function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number)
    const lum = ([r, g, b]: number[]) => {
      const [R, G, B] = [r!, g!, b!].map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4))
      return 0.2126 * R! + 0.7152 * G! + 0.0722 * B!
    }
    const background = (e: Element | null): number[] => {
      for (; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor)
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.5)) return c
      }
      return [255, 255, 255]
    }
    const out: string[] = []
    for (const e of document.querySelectorAll('body *')) {
      const own = [...e.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim())
      const style = getComputedStyle(e)
      if (!own || !(e as HTMLElement).offsetParent || (e as HTMLButtonElement).disabled || e.closest('.uplot')) continue
      const [a, b] = [lum(rgb(style.color)), lum(background(e))]
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
      const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.6 && Number(style.fontWeight) >= 700)
      if (ratio < (large ? 3 : 4.5)) out.push(`${e.tagName.toLowerCase()}.${e.className} "${e.textContent!.trim().slice(0, 30)}" ${ratio.toFixed(2)}`)
    }
    return out
  })
}

describe('on the first run', () => {
  it('tells what to do next on a phone, before any function or before any call of the functions a lock lists', async () => {
    const first = await startBoard('first-run')
    const page = await browser.newPage({ viewport: { width: 375, height: 800 } })
    const sink = `httpSink({ url: '${first.url}/v1/events' })`
    try {
      await page.goto(`${first.url}/`)
      await expect.poll(() => page.locator('.empty').innerText()).toContain(sink)
      expect(await sideways(page)).toBe(0)

      // A deployed collector beside the project's committed lock: its functions are listed, with no call yet.
      first.lock.write('src/a.ts#f', { version: 'aaaa000001', source: '// one\n', inputHash: 'in-1', generator: 'builtin', reason: 'build' })
      const hint = page.locator('.hint')
      await expect.poll(() => hint.count(), { timeout: 10_000 }).toBe(1)
      expect(await hint.innerText()).toContain('No calls in the last 1 hour. Is the runtime pointed at this collector?')
      expect(await hint.innerText()).toContain(sink)
      expect(await sideways(page)).toBe(0)
      await first.post([{ v: 1, kind: 'execution', functionId: 'src/a.ts#f', version: 'aaaa000001', executionId: 'first-call', ts: Date.now(), duration: 1, outcome: 'ok', attempts: 1 }])
      await expect.poll(() => hint.count(), { timeout: 10_000 }).toBe(0)
    } finally {
      await page.close()
      await first.close()
    }
  })
})

describe('as polls redraw it under traffic', () => {
  it('keeps keyboard focus on the link or button it was on, and a table scrolled sideways where it was', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 800 } })
    try {
      await page.goto(`${board.url}/`)
      const calls = page.locator(`tr.fn[data-id="src/quote.ts#quote"] td.num`).first()
      await expect.poll(() => calls.innerText()).toBe('1,200')
      await page.getByRole('link', { name: 'src/quote.ts#quote' }).focus()
      const scroller = page.locator('.panel .scroll').first()
      await scroller.evaluate((e) => (e.scrollLeft = 200))
      // New calls (their own execution ids: the store keeps one event per id).
      const more = (tag: string) => traffic('src/quote.ts#quote', 'q1a2b3c4d5', 10).map((e) => ({ ...(e as object), executionId: `${tag}-${(e as { executionId: string }).executionId}` }))
      await board.post(more('first'))
      await expect.poll(() => calls.innerText(), { timeout: 10_000 }).toBe('1,210')
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-fn'))).toBe('src/quote.ts#quote')
      expect(await scroller.evaluate((e) => e.scrollLeft)).toBe(200)

      await page.goto(fnUrl(board, 'src/quote.ts#quote'))
      const versionCalls = page.locator('#versions tr[data-version="q1a2b3c4d5"] td.num').first()
      await expect.poll(() => versionCalls.innerText()).toBe('1,210')
      // The one version is current: its action is Roll back.
      await page.getByRole('button', { name: 'Roll back' }).focus()
      await board.post(more('second'))
      await expect.poll(() => versionCalls.innerText(), { timeout: 10_000 }).toBe('1,220')
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Roll back')
    } finally {
      await page.close()
    }
  })
})

describe('times', () => {
  it("says how long ago decisions and versions were, with the date and time of the user's time zone on hover", async () => {
    const QUOTE = 'src/quote.ts#quote'
    const ts = Date.now() - 3 * 3_600_000 - 5 * 60_000
    board.store.recordDecision({ functionId: QUOTE, ts, action: 'retire', from: 'q1a2b3c4d5', to: 'q1a2b3c4d5', reason: 'no better than current' })
    const context = await browser.newContext({ timezoneId: 'Asia/Kolkata', locale: 'en-US', viewport: { width: 1320, height: 900 } })
    try {
      const page = await context.newPage()
      await page.goto(fnUrl(board, QUOTE))
      const decided = page.locator('#decisions time')
      await decided.waitFor()
      expect(await decided.innerText()).toBe('3 hours ago')
      expect(await decided.getAttribute('title')).toBe(new Date(ts).toLocaleString('en-US', { timeZone: 'Asia/Kolkata' }))
      expect(await page.locator('#versions time').innerText()).toMatch(/^(just now|\d+ minutes? ago)$/)
    } finally {
      await context.close()
    }
  })
})

describe('in light and dark', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`keeps every text readable (WCAG AA contrast) in the ${scheme} color scheme`, async () => {
      const page = await browser.newPage({ viewport: { width: 1320, height: 900 }, colorScheme: scheme })
      try {
        await page.goto(`${board.url}/`)
        await page.locator(`tr.fn[data-id="${SENSOR}"] .rate`).first().waitFor()
        expect(await lowContrast(page)).toEqual([])
        await page.goto(fnUrl(board, SENSOR))
        await page.locator('#diff .add').waitFor()
        await page.locator('#versions .tag.current').waitFor()
        expect(await lowContrast(page)).toEqual([])
        // The page follows the system's scheme, form controls and charts included.
        const back = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
        expect(back).toBe(scheme === 'dark' ? 'rgb(21, 22, 26)' : 'rgb(247, 247, 245)')
      } finally {
        await page.close()
      }
    })
  }
})

describe('when the collector goes away', () => {
  it('says at the top that the numbers are not updating and since when, keeps them, and clears it once the collector is back', async () => {
    const first = await startBoard('restart')
    await seed(first)
    const port = Number(new URL(first.url).port)
    const page = await browser.newPage({ viewport: { width: 1320, height: 900 } })
    let second: Board | undefined
    try {
      await page.goto(`${first.url}/`)
      await page.locator(`tr.fn[data-id="${SENSOR}"]`).waitFor()
      const banner = page.getByRole('alert')
      expect(await banner.isVisible()).toBe(false)
      await first.close()
      await expect.poll(() => banner.isVisible(), { timeout: 15_000 }).toBe(true)
      const text = await banner.innerText()
      expect(text).toMatch(new RegExp(`^Not updating since \\d{1,2}:\\d{2}:\\d{2}\\s?[AP]?M?: cannot reach the collector at 127\\.0\\.0\\.1:${port}: stopped, or restarting\\. Retrying every 2 s\\.$`))
      expect(await page.locator('#live').innerText()).toBe('offline')
      // What it showed stays, for the user to read while the collector is away.
      expect(await page.locator('tr.fn').count()).toBe(4)
      // Still down at the next polls: the same banner, the time it went stale unchanged.
      await expect.poll(() => page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/api/functions')).length), { timeout: 15_000 }).toBeGreaterThan(3)
      expect(await banner.innerText()).toBe(text)

      second = await startBoard('restart', { dir: first.dir, port })
      await expect.poll(() => banner.isVisible(), { timeout: 15_000 }).toBe(false)
      expect(await page.locator('#live').innerText()).toBe('live')
      expect(await page.locator('tr.fn').count()).toBe(4)
    } finally {
      await page.close()
      await second?.close()
    }
  })
})

describe('the diff', () => {
  it('says the collector cannot be reached when a phase source does not come, rather than "Failed to fetch", and shows the diff by itself once they come', async () => {
    const page = await browser.newPage({ viewport: { width: 1320, height: 900 } })
    try {
      await page.route('**/api/source?*', (r) => r.abort('connectionrefused'))
      await page.goto(fnUrl(board, SENSOR))
      await expect.poll(() => page.locator('#diff').innerText()).toBe(`No diff: cannot reach the collector at ${new URL(board.url).host}: stopped, or restarting`)
      // Once the sources come again, the diff shows by itself at the next poll.
      await page.unroute('**/api/source?*')
      await expect.poll(() => page.locator('#diff .add').count(), { timeout: 10_000 }).toBe(1)
    } finally {
      await page.close()
    }
  })
})

describe('promote and roll back', () => {
  it('ask first, say what is pending, take one action at a time, keep focus on the row, and leave a refusal up until dismissed', async () => {
    const page = await browser.newPage({ viewport: { width: 1320, height: 900 } })
    try {
      // The page's own clock, to see that a refusal is still up long after a success would have gone.
      await page.clock.install()
      await page.goto(fnUrl(board, SENSOR))
      const promote = page.getByRole('button', { name: 'Promote' })
      await promote.waitFor()
      const dialogs: string[] = []
      let answer = false
      page.on('dialog', (d) => {
        dialogs.push(d.message())
        void (answer ? d.accept() : d.dismiss())
      })

      await promote.focus()
      await page.keyboard.press('Space')
      await expect.poll(() => dialogs.length).toBe(1)
      expect(dialogs[0]).toBe(`Make n9f8e7d6c5 the current version of ${SENSOR}? The app serves it from its next call.`)
      expect(board.lock.read().functions[SENSOR]!.current).toBe('n1a2b3c4d5')
      expect(await promote.isEnabled()).toBe(true)

      // The collector takes its time over the write: the page says it is on it, and nothing else can be clicked.
      let release!: () => void
      const released = new Promise<void>((done) => (release = done))
      await page.route('**/api/promote', async (r) => {
        await released
        await r.continue()
      })
      answer = true
      await page.keyboard.press('Enter')
      await expect.poll(() => page.locator('button[data-action="promote"]').innerText()).toBe('Promoting…')
      expect(await page.locator('button[data-action]').evaluateAll((bs) => bs.map((b) => (b as HTMLButtonElement).disabled))).toEqual([true, true])
      release()
      await expect.poll(() => page.locator('#toast').innerText()).toContain('→ n9f8e7d6c5')
      expect(board.lock.read().functions[SENSOR]!.current).toBe('n9f8e7d6c5')
      expect(dialogs).toHaveLength(2)
      // Focus is on the row acted on, where the next action on it is: its version is current now, and can be rolled back.
      await expect.poll(() => page.evaluate(() => `${document.activeElement?.closest('tr')?.dataset.version} ${document.activeElement?.textContent}`)).toBe('n9f8e7d6c5 Roll back')

      // Another tab moved the lock and this one has not seen it: its click is refused, and the reason stays up.
      await page.route('**/api/functions', (r) => r.abort())
      board.lock.update((l) => void (l.functions[SENSOR]!.current = 'n1a2b3c4d5'))
      await page.keyboard.press('Enter')
      await expect.poll(() => page.locator('#toast.error').innerText(), { timeout: 10_000 }).toContain('changed since the page showed it')
      expect(dialogs[2]).toBe(`Roll ${SENSOR} back from n9f8e7d6c5 to the version before it? The app serves that one from its next call.`)
      await page.clock.fastForward(60_000)
      expect(await page.locator('#toast').isVisible()).toBe(true)
      await page.keyboard.press('Escape')
      expect(await page.locator('#toast').isVisible()).toBe(false)
      expect(board.lock.read().functions[SENSOR]!.current).toBe('n1a2b3c4d5')
    } finally {
      await page.close()
    }
  })

  it('say the collector cannot be reached when it is down, and keep the page with its buttons usable again', async () => {
    const down = await startBoard('action-down', { writable: true })
    await seed(down)
    const page = await browser.newPage({ viewport: { width: 1320, height: 900 } })
    page.on('dialog', (d) => void d.accept())
    try {
      await page.goto(fnUrl(down, SENSOR))
      const promote = page.getByRole('button', { name: 'Promote' })
      await promote.waitFor()
      await down.close()
      await promote.click()
      await expect.poll(() => page.locator('#toast.error').innerText(), { timeout: 10_000 }).toBe(`Promote: cannot reach the collector at ${new URL(down.url).host}: stopped, or restarting`)
      // What the page showed stays, under the banner that says it is not updating.
      expect(await page.locator('h1.id').innerText()).toBe(SENSOR)
      await expect.poll(() => page.getByRole('alert').isVisible()).toBe(true)
      expect(await promote.isEnabled()).toBe(true)
      expect(await page.locator('button[data-action]').evaluateAll((bs) => bs.map((b) => `${b.textContent} ${(b as HTMLButtonElement).disabled}`))).toEqual(['Promote false', 'Roll back false'])
    } finally {
      await page.close()
    }
  })
})
