// iotpubsub/shared with an IndexedDB store in Chromium — the holding tab closes while its own and a
// follower's QoS 1 messages are queued (the connection is down): docs/guide/outbox.md, "What survives what",
// says the next tab sends all of them, each once (correlated by `id`).
import type { MqttClient } from 'mqtt'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { bundlePage, servePages } from '../support/page-server.js'
import { rawClient } from '../support/raw.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

interface TabState {
  outbox: string[]
  statuses: string[]
  received: { topic: string; payload: string; retain: boolean }[]
  errors: string[]
  results: Record<string, string>
  logs: string[]
}

const state = (page: Page): Promise<TabState> => page.evaluate(() => (window as any).__state())

describe.skipIf(noMosquitto() || noChromium())('shared connection with an IndexedDB store, the holding tab closed (Chromium)', () => {
  let broker: Mosquitto
  let browser: Browser
  let server: { origin: string; close(): Promise<void> } | undefined
  let context: BrowserContext | undefined
  let raw: MqttClient | undefined
  let proxy: TcpProxy | undefined
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
    await proxy?.close()
    proxy = undefined
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await broker?.dispose()
  })

  async function tab(url: string, clientId: string, store: string): Promise<Page> {
    context ??= await browser.newContext()
    const page = await context.newPage()
    pages.push(page)
    await page.goto(`${server?.origin}/`)
    await page.waitForFunction(() => typeof (window as any).__start === 'function')
    await page.evaluate(([u, o, s]) => (window as any).__start(u, o, s), [url, { clientId, reconnect: { initialDelay: 100, maxDelay: 300 } }, store] as const)
    return page
  }
  const statusCount = (page: Page, status: string, times = 1): Promise<unknown> =>
    waitFor(async () => (await state(page)).statuses.filter((s) => s === status).length >= times, `tab ${status} ×${times}`, 15_000)
  const result = (page: Page, key: string): Promise<string> =>
    waitFor(async () => {
      const r = (await state(page)).results[key]
      return r && r !== 'pending' ? r : undefined
    }, `publish ${key} settled`, 15_000)

  it('the holding tab closes while its own and a follower\'s QoS 1 messages wait in the store: the next tab sends each once, the follower\'s publish resolves', async () => {
    const p = uniquePrefix('rv-shared-store')
    const clientId = `rv-store-${process.pid}-${Date.now().toString(36)}`
    const storeName = `rv-${Date.now().toString(36)}`
    const seen: string[] = []
    raw = await rawClient(broker.tcpUrl, { clientId: `raw-${Math.random().toString(16).slice(2)}` })
    raw.on('message', (topic, payload) => seen.push(`${topic.slice(p.length + 1)} ${payload.toString()}`))
    await new Promise<void>((resolve, reject) => raw?.subscribe(`${p}/#`, { qos: 1 }, (e) => (e ? reject(e) : resolve())))
    proxy = await TcpProxy.start(broker.ports[9001] as number)
    const url = `ws://127.0.0.1:${proxy.port}`
    const a = await tab(url, clientId, storeName)
    await statusCount(a, 'connected')
    const b = await tab(url, clientId, storeName)
    await statusCount(b, 'connected')
    onTestFailed(async () => {
      for (const [name, page] of Object.entries({ a, b })) {
        const s = await state(page).catch(() => undefined)
        if (s) process.stdout.write(`tab ${name}: statuses ${s.statuses.join(' → ')}; outbox ${s.outbox.join(', ')}; results ${JSON.stringify(s.results)}; errors ${s.errors.join(' | ')}; logs ${s.logs.join(' | ')}\n`)
      }
      process.stdout.write(`raw saw: ${seen.join(', ')}\n`)
    })
    proxy.refuse = true
    proxy.cut()
    await statusCount(a, 'reconnecting')
    await a.evaluate((t) => (window as any).__publish('a1', t, 'a1', 1, { id: 'a1' }), `${p}/cmd`)
    await b.evaluate((t) => (window as any).__publish('b1', t, 'b1', 1, { id: 'b1' }), `${p}/cmd`)
    await waitFor(async () => (await state(a)).outbox.includes('a1 queued'), 'a1 durable', 5_000)
    await waitFor(async () => (await state(b)).outbox.includes('b1 queued'), 'b1 durable', 5_000)
    await a.close()
    proxy.refuse = false
    expect(await result(b, 'b1')).toBe('ok')
    await waitFor(() => seen.includes('cmd a1') && seen.includes('cmd b1'), 'a1 and b1 at the raw subscriber', 10_000)
    // A fence: published after, by the same connection, so it arrives after any duplicate.
    await b.evaluate((t) => (window as any).__publish('fence', t, 'fence', 1), `${p}/fence`)
    expect(await result(b, 'fence')).toBe('ok')
    await waitFor(() => seen.includes('fence fence'), 'the fence', 5_000)
    expect(seen.filter((m) => m.startsWith('cmd ')).sort()).toEqual(['cmd a1', 'cmd b1'])
    await waitFor(async () => (await state(b)).outbox.includes('a1 acknowledged'), 'b sees the closed tab\'s a1 acknowledged', 5_000)
    expect((await state(b)).outbox.filter((e) => e.startsWith('b1 '))).toEqual(['b1 queued', 'b1 sent', 'b1 acknowledged'])
    expect((await state(b)).errors).toEqual([])
  })
})
