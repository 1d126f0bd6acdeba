// The demo page in two tabs of one Chromium context (one browser profile): the tabs share one broker connection
// (`connect` from `iotpubsub/shared`, the same client id from localStorage), which the page shows (who holds it,
// how many tabs, the broker's count, published by the embedded broker on demo/broker/clients) and aedes
// confirms; the other tab takes over when the holding one closes; and the status badge shows the page lifecycle
// when the browser goes offline (DevTools protocol: Network.emulateNetworkConditions) and comes back.
import { withLink } from '../support/link-under-test.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemo, type DemoStack } from '../../demo/run.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { freePort } from '../support/ports.js'

const T = 15_000 // per wait: generous for a loaded machine; a healthy run takes a fraction

const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim()

describe.skipIf(noChromium())('the demo dashboard in two tabs: one shared connection', () => {
  let stack: DemoStack
  let browser: Browser
  let cacheDir: string
  const pageErrors: string[] = []
  const started = Date.now()

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'iotpubsub-demo-vite-'))
    // watch: false: a file saved elsewhere in the project during the run must not reload the pages under test.
    stack = await startDemo({ tcpPort: await freePort(), wsPort: await freePort(), webPort: await freePort(), cacheDir, watch: false, log: () => {} })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true })
    process.stderr.write(`demo shared-tabs e2e: ${((Date.now() - started) / 1000).toFixed(1)} s including startup\n`)
  })

  /** The broker's clients that are not the simulator's: the dashboards. */
  const dashboards = () => (stack.broker?.clientIds() ?? []).filter((id) => !id.startsWith('sim-'))
  /** The simulator's clients (one per device and its control client) and the one dashboard connection. */
  const expectedClients = () => (stack.simulator?.devices.length ?? 0) + 1 + 1

  /** A tab of `context` with the dashboard, connected. */
  async function openTab(context: BrowserContext): Promise<Page> {
    const page = await context.newPage()
    page.setDefaultTimeout(T)
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(withLink(stack.pageUrl))
    await page.locator('#status-badge[data-status="connected"]').waitFor()
    return page
  }

  /** Waits until the press's message count moves in `page`: live telemetry is arriving. */
  async function receiving(page: Page): Promise<void> {
    const seen = '[data-device="press-01"] .device-seen'
    await page.locator(seen).waitFor()
    const before = await text(page, seen)
    await page.waitForFunction(([selector, old]) => document.querySelector(selector as string)?.textContent !== old, [seen, before])
  }

  /** Each test has a browser profile of its own (a context: its own localStorage and locks), closed at the end. */
  async function withContext(run: (context: BrowserContext) => Promise<void>): Promise<void> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    try {
      await run(context)
    } finally {
      await context.close()
      // The broker forgets the closed tabs' connection: the next test starts from none.
      await expect.poll(dashboards, { timeout: T }).toEqual([])
    }
  }

  it('two tabs make one connection at the broker, and the page says so; both show live data', async () => {
    await withContext(async (context) => {
      const first = await openTab(context)
      await first.locator('#conn-sharing[data-role="holder"]').waitFor()
      const clientId = await first.inputValue('#conn-client-id')
      expect(clientId).toMatch(/^dashboard-[0-9a-f]{6}$/)

      const second = await openTab(context)
      // The same id from localStorage, so the same sharing group: this tab uses the first tab's connection.
      expect(await second.inputValue('#conn-client-id')).toBe(clientId)
      await second.locator('#conn-sharing[data-role="follower"]').waitFor()
      for (const page of [first, second]) await page.locator('#conn-sharing[data-tabs="2"]').waitFor()
      expect(await text(first, '#conn-sharing')).toBe('This tab holds the broker connection (2 tabs of this browser share it).')
      expect(await text(second, '#conn-sharing')).toBe('This tab uses the connection another tab holds (2 tabs of this browser share it).')

      // aedes: one dashboard connection for the two tabs, beside the simulator's.
      expect(dashboards()).toEqual([clientId])
      expect(stack.broker?.connectedClients).toBe(expectedClients())
      // The page's own count, from the broker's retained demo/broker/clients, in both tabs.
      for (const page of [first, second]) {
        await page.locator(`#conn-broker[data-connections="${expectedClients()}"]`).waitFor()
        expect(await text(page, '#conn-broker')).toBe(`${expectedClients()} connections at the broker; one of them is this browser’s, as ${clientId}.`)
        expect(await text(page, '#broker-count')).toBe(String(expectedClients()))
      }

      // Both tabs get the devices' data over the one connection.
      for (const page of [first, second]) {
        await page.locator('[data-device]').nth(5).waitFor()
        await receiving(page)
      }
      // The connection's protocol events are logged in the tab that holds it; the other tab says where they are.
      await first.locator('#log .log-line[data-event="connack"]').waitFor()
      expect(await first.isHidden('#log-shared')).toBe(true)
      expect(await second.locator('#log .log-line[data-event="attempt"]').count()).toBe(0)
      expect(await second.isVisible('#log-shared')).toBe(true)
    })
  })

  it('closing the holding tab: the other one takes over the connection and keeps receiving', async () => {
    await withContext(async (context) => {
      const first = await openTab(context)
      await first.locator('#conn-sharing[data-role="holder"]').waitFor()
      const second = await openTab(context)
      await second.locator('#conn-sharing[data-role="follower"]').waitFor()
      const clientId = await second.inputValue('#conn-client-id')
      await receiving(second)

      await first.close()
      // The second tab takes the lock, connects with the same client id, and holds the connection now.
      await second.locator('#conn-sharing[data-role="holder"][data-tabs="1"]').waitFor()
      await second.locator('#status-badge[data-status="connected"]').waitFor()
      await second.locator('#log .log-line[data-event="connack"]').waitFor()
      await expect.poll(dashboards, { timeout: T }).toEqual([clientId])
      await second.locator(`#conn-broker[data-connections="${expectedClients()}"]`).waitFor()
      await receiving(second)
      expect(await text(second, '#conn-sharing')).toBe('This tab holds the broker connection (1 tab open: open another to share it).')
    })
  })

  it('offline: the badge says so in both tabs at once; online: connected again, without waiting out the backoff', async () => {
    await withContext(async (context) => {
      const holder = await openTab(context)
      await holder.locator('#conn-sharing[data-role="holder"]').waitFor()
      const follower = await openTab(context)
      await follower.locator('#conn-sharing[data-role="follower"]').waitFor()
      const tabs: [Page, CDPSession][] = []
      for (const page of [holder, follower]) {
        const cdp = await context.newCDPSession(page)
        await cdp.send('Network.enable')
        tabs.push([page, cdp])
      }
      const network = (cdp: CDPSession, offline: boolean) =>
        cdp.send('Network.emulateNetworkConditions', { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
      try {
        // The whole browser goes offline: every tab hears it, the holding tab's client drops the connection.
        for (const [, cdp] of tabs) await network(cdp, true)
        for (const [page] of tabs) {
          await page.locator('#status-badge[data-lifecycle="offline"]').waitFor()
          expect(await text(page, '#status-badge')).toBe('Offline — reconnecting')
          // Each tab keeps its part: the holding tab's client reconnects, the other tab still uses its connection.
          expect(await page.getAttribute('#conn-sharing', 'data-role')).toBe(page === holder ? 'holder' : 'follower')
          expect(await text(page, '#status-detail')).toMatch(
            /^The browser went offline, so the connection was dropped at once \(not when the keepalive ran out\)\. Attempt \d+ (now|in .+), and at once when the browser is back online\./,
          )
        }
        // The protocol log says it in the SDK's words (the line's event is not asserted: see the report on `event`).
        await holder.locator('#log .log-line', { hasText: 'the browser went offline: dropping the connection to' }).waitFor()

        // Back while the client waits out its backoff (its newest log line says when the next attempt is due), so
        // that "at once" is what is measured: the follower first, then the holding tab, whose client tries at once.
        await holder.waitForFunction(() => document.querySelector('#log .log-line')?.getAttribute('data-event') === 'reconnecting')
        for (const [, cdp] of [...tabs].reverse()) await network(cdp, false)
        for (const [page] of tabs) await page.locator('#status-badge[data-status="connected"]').waitFor()
        await holder.locator('#status-badge[data-lifecycle="back-online"]').waitFor()
        const detail = await text(holder, '#status-detail')
        expect(detail).toMatch(/^Back online: connected \d+(\.\d)? m?s after the browser said so/)
        process.stderr.write(`demo shared-tabs e2e: ${detail}\n`)
        expect(await text(holder, '#status-badge')).toBe('Connected')
        await holder.locator('#log .log-line', { hasText: 'the browser is online again: trying' }).waitFor()
        await holder.locator('#log .log-line[data-event="connack"]').nth(1).waitFor()
        for (const [page] of tabs) await receiving(page)
        expect(dashboards()).toHaveLength(1)
      } finally {
        for (const [page, cdp] of tabs) if (!page.isClosed()) await network(cdp, false).catch(() => undefined)
      }
    })
  }, 60_000)

  it('the page comes back to a connection that no longer answers: the badge says so, and it reconnects at once', async () => {
    await withContext(async (context) => {
      const holder = await openTab(context)
      await holder.locator('#conn-sharing[data-role="holder"]').waitFor()
      const follower = await openTab(context)
      await follower.locator('#conn-sharing[data-role="follower"]').waitFor()
      const clientId = await holder.inputValue('#conn-client-id')
      // The connection dies silently (the broker drops what it writes to it), as after a laptop's sleep.
      expect(stack.broker?.silenceClient(clientId)).toBe(true)
      // The tab becomes visible again. (A headless page cannot be hidden through the DevTools protocol: the
      // event the SDK listens to is dispatched on the page itself, as in test/browser/page-lifecycle.test.ts.)
      await holder.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' })
        document.dispatchEvent(new Event('visibilitychange'))
      })
      // The check's PINGREQ gets no answer within 3 s: the client reconnects at once, and both tabs say why.
      for (const page of [holder, follower]) {
        await page.locator('#status-badge[data-status="connected"][data-lifecycle="page-back"]').waitFor()
        expect(await text(page, '#status-detail')).toMatch(
          /^The page came back \(visible\) to a connection that did not answer its check: connected again \d+(\.\d)? m?s later, without a backoff wait\.$/,
        )
      }
      await holder.locator('#log .log-line', { hasText: 'after the page came back: reconnecting' }).waitFor()
      await expect.poll(dashboards, { timeout: T }).toEqual([clientId])
      for (const page of [holder, follower]) await receiving(page)
    })
  }, 60_000)

  it('raised no errors in the pages', () => {
    expect(pageErrors).toEqual([])
  })
})
