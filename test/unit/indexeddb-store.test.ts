// The IndexedDB store in Chromium: the conformance checks, a reload that keeps what was written, and one tab
// at a time per client id (Web Locks), the next tab taking over once the holder is closed.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, noChromium } from '../support/chromium.js'
import { bundlePage, servePages } from '../support/page-server.js'
import { waitFor } from '../support/wait.js'

describe.skipIf(noChromium())('indexedDbStore (Chromium)', () => {
  let browser: Browser
  let pages: { origin: string; close(): Promise<void> }
  beforeAll(async () => {
    pages = await servePages([{ path: '/', script: await bundlePage('test/support/store-page.ts') }])
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await pages?.close()
  })

  const ready = async (page: import('playwright-core').Page) => {
    await page.goto(pages.origin)
    await page.waitForFunction(() => typeof window.__open === 'function')
  }

  it('passes the store conformance checks', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await ready(page)
    const results = await page.evaluate((prefix) => window.__conformance(prefix), `c${Date.now()}`)
    await context.close()
    expect(results.length).toBeGreaterThan(5)
    expect(results.filter((r) => r.error)).toEqual([])
  })

  it('keeps what was written across a reload, and keeps a second tab out until the holder is closed', async () => {
    const context = await browser.newContext()
    const first = await context.newPage()
    await ready(first)
    expect(await first.evaluate(() => window.__open('reload', 'dash'))).toEqual({ ids: [] })
    await first.evaluate(() => window.__add(100))
    await first.reload()
    await first.waitForFunction(() => typeof window.__open === 'function')
    const reopened = await first.evaluate(() => window.__open('reload', 'dash'))
    expect(reopened).toEqual({ ids: Array.from({ length: 100 }, (_, i) => `m${i}`) })

    const second = await context.newPage()
    await ready(second)
    expect(await second.evaluate(() => window.__open('reload', 'dash'))).toMatchObject({ type: 'StoreLockedError' })
    await first.close()
    // The browser releases a closed tab's lock on its own schedule: the second tab asks until it gets it.
    const taken = await waitFor(async () => {
      const outcome = await second.evaluate(() => window.__open('reload', 'dash'))
      return 'ids' in outcome ? outcome : undefined
    }, 'the second tab to get the store')
    expect(taken.ids).toHaveLength(100)
    await context.close()
  })
})
