// a new holding tab's welcome reaching a tab before its 'hub' announcement. shared-client.ts (#newHub)
// says the two "come on different channels, in either order", and Chromium does reorder across channels (in
// tabs.test.ts a follower's publish answer, sent on its own channel, came before the status broadcast sent
// earlier). Here the order is fixed by holding the announcement channel in one tab (test instrumentation in
// shared-tabs-page.ts): the holding tab closes, the tab says something to the new hub before hearing its announcement
// (it starts observing a second filter), the new hub welcomes it — and the tab's other observers are never
// re-registered: they stop receiving (a client of its own keeps every observer across a reconnect).
import type { MqttClient } from 'mqtt'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { bundlePage, servePages } from '../support/page-server.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

interface TabState {
  statuses: string[]
  received: { topic: string; payload: string }[]
  errors: string[]
}
const state = (page: Page): Promise<TabState> => page.evaluate(() => (window as any).__state())
const got = async (page: Page, topic: string): Promise<string[]> => (await state(page)).received.filter((m) => m.topic === topic).map((m) => m.payload)

describe.skipIf(noMosquitto() || noChromium())('a new hub\'s welcome before its announcement (Chromium)', () => {
  let broker: Mosquitto
  let browser: Browser
  let server: { origin: string; close(): Promise<void> } | undefined
  let context: BrowserContext | undefined
  let raw: MqttClient | undefined
  const pages: Page[] = []

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    server = await servePages([{ path: '/', script: await bundlePage('test/browser/shared-tabs-page.ts') }])
    browser = await launchChromium()
  })
  afterEach(async () => {
    raw?.end(true)
    raw = undefined
    for (const page of pages.splice(0)) await page.close().catch(() => undefined)
    await context?.close()
    context = undefined
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await broker?.dispose()
  })

  async function tab(clientId: string): Promise<Page> {
    context ??= await browser.newContext()
    const page = await context.newPage()
    pages.push(page)
    await page.goto(`${server?.origin}/`)
    await page.waitForFunction(() => typeof (window as any).__start === 'function')
    await page.evaluate(([u, o]) => (window as any).__start(u, o), [broker.wsUrl, { clientId, reconnect: { initialDelay: 100, maxDelay: 300 } }] as const)
    await waitFor(async () => (await state(page)).statuses.includes('connected'), 'tab connected', 15_000)
    return page
  }
  const holds = (page: Page): Promise<boolean> =>
    page.evaluate(async () => {
      const probe = `probe-${Math.random()}`
      return navigator.locks.request(probe, async () => {
        const { held = [] } = await navigator.locks.query()
        const me = held.find((l) => l.name === probe)?.clientId
        return held.some((l) => l.name?.endsWith(':hub') && l.clientId === me)
      })
    })

  it('a tab welcomed by the new holder before its announcement keeps every observer', async () => {
    const p = uniquePrefix('rv-shared-welcome-first')
    const clientId = `rv-wf-${process.pid}-${Date.now().toString(36)}`
    raw = await rawClient(broker.tcpUrl, { clientId: `raw-${Math.random().toString(16).slice(2)}` })
    const a = await tab(clientId)
    const b = await tab(clientId)
    const c = await tab(clientId)
    await c.evaluate((f) => (window as any).__observe(f, 1), `${p}/x`)
    await broker.waitForSubscription(clientId, `${p}/x`, 1)
    raw.publish(`${p}/x`, 'before', { qos: 1 })
    await waitFor(async () => (await got(c, `${p}/x`)).includes('before'), 'c receiving on x')

    await c.evaluate(() => (window as any).__holdAll())
    await a.close()
    // b was in line before c: it holds the connection now, and waits (briefly) for c's hello.
    await waitFor(() => holds(b), 'b holds the connection', 5_000)
    await c.evaluate((f) => (window as any).__observe(f, 1), `${p}/y`)
    // The new hub's welcome reached c (its status says reconnecting), its announcement has not.
    await waitFor(async () => (await state(c)).statuses.at(-1) === 'reconnecting', 'c welcomed by the new hub', 5_000)
    await c.evaluate(() => (window as any).__releaseAll())
    await waitFor(async () => (await state(c)).statuses.filter((s) => s === 'connected').length >= 2, 'c connected again', 10_000)

    // The new holder's connection subscribes both of c's filters (today it never subscribes x again: this times out).
    const subscribes = async (filter: string): Promise<number> => (await broker.log()).split('\n').filter((line) => line.endsWith(`${clientId} 1 ${filter}`)).length
    await waitFor(async () => (await subscribes(`${p}/y`)) >= 1, 'y subscribed by the new holder', 5_000)
    await waitFor(async () => (await subscribes(`${p}/x`)) >= 2, 'x subscribed again by the new holder', 5_000)
    raw.publish(`${p}/x`, 'after', { qos: 1 })
    raw.publish(`${p}/y`, 'fence', { qos: 1 })
    await waitFor(async () => (await got(c, `${p}/y`)).includes('fence'), 'the fence on y at c', 5_000)
    expect(await got(c, `${p}/x`)).toEqual(['before', 'after'])
    expect((await state(c)).errors).toEqual([])
  })
})
