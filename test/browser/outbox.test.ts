// The durable outbox in Chromium: a page with `indexedDbStore()` publishes 100 QoS 1 messages while its broker
// is out of reach, is reloaded, and comes back with the broker reachable: all 100 arrive, with the ids the
// first page load gave them. With `iotpubsub/shared`: the tab holding the connection is closed with messages
// queued, and the next tab sends them, each once.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { bundlePage, servePages } from '../support/page-server.js'
import { freePort } from '../support/ports.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

// The page's script: one client, its outbox$ events kept for the test.
const pageScript = (entry: string): string => `
import { connect, indexedDbStore } from '${entry}'
window.__events = []
window.__start = (url, clientId, storeName) => {
  window.__client = connect(url, { clientId, store: indexedDbStore(storeName), reconnect: { initialDelay: 50, maxDelay: 200 } })
  window.__client.outbox$.subscribe((e) => window.__events.push(e))
}
window.__publish = (topic, count, tag = 'm') => {
  for (let i = 0; i < count; i++) window.__client.publish(topic, tag + i, { qos: 1, id: tag + i }).catch(() => undefined)
}
// The messages the store holds, read from IndexedDB itself (the store's Web Lock does not keep readers out).
window.__stored = (name) => new Promise((resolve, reject) => {
  const request = indexedDB.open(name)
  request.onerror = () => reject(request.error)
  request.onsuccess = () => {
    const db = request.result
    if (!db.objectStoreNames.contains('messages')) return resolve(0)
    const count = db.transaction('messages').objectStore('messages').count()
    count.onsuccess = () => { resolve(count.result); db.close() }
    count.onerror = () => reject(count.error)
  }
})
`

interface Event {
  readonly id: string
  readonly topic: string
  readonly state: string
}

describe.skipIf(noMosquitto() || noChromium())('the outbox in Chromium (IndexedDB)', () => {
  let broker: Mosquitto
  let browser: Browser
  let pages: { origin: string; close(): Promise<void> }
  let subscriber: MQTTClient
  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    pages = await servePages([
      { path: '/', script: await bundlePage({ code: pageScript('iotpubsub'), name: 'outbox-page.ts' }) },
      { path: '/shared', script: await bundlePage({ code: pageScript('iotpubsub/shared'), name: 'outbox-shared-page.ts' }) },
    ])
    browser = await launchChromium()
    subscriber = connect(broker.tcpUrl)
  }, 60_000)
  afterAll(async () => {
    await subscriber?.end({ force: true })
    await browser?.close()
    await pages?.close()
    await broker?.dispose()
  })

  const received = async (p: string): Promise<string[]> => {
    const got: string[] = []
    subscriber.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => got.push(m.payload))
    await broker.waitForSubscription(subscriber.clientId, `${p}/#`, 1)
    return got
  }
  const open = async (page: Page, path: string): Promise<void> => {
    await page.goto(`${pages.origin}${path}`)
    await page.waitForFunction(() => '__start' in window)
  }
  const events = async (page: Page): Promise<Event[]> => (await page.evaluate('window.__events')) as Event[]
  const queued = async (page: Page): Promise<number> => (await events(page)).filter((e) => e.state === 'queued').length

  it('100 QoS 1 messages published while offline survive a reload and all arrive once online', async () => {
    const p = uniquePrefix('idb-reload')
    const got = await received(p)
    const clientId = `${p.replaceAll('/', '_')}-page`
    const dead = `ws://127.0.0.1:${await freePort()}`
    const context = await browser.newContext()
    const page = await context.newPage()
    try {
      await open(page, '/')
      await page.evaluate(`window.__start(${JSON.stringify(dead)}, ${JSON.stringify(clientId)}, 'outbox')`)
      await page.evaluate(`window.__publish(${JSON.stringify(`${p}/cmd`)}, 100)`)
      await waitFor(async () => (await queued(page)) === 100, 'the 100 messages queued (durable in IndexedDB)', 15_000)
      await page.reload()
      await page.waitForFunction(() => '__start' in window)
      await page.evaluate(`window.__start(${JSON.stringify(broker.wsUrl)}, ${JSON.stringify(clientId)}, 'outbox')`)
      await waitFor(() => got.length >= 100, 'the 100 messages at the subscriber', 20_000)
      expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`))
      await waitFor(async () => (await events(page)).filter((e) => e.state === 'acknowledged').length === 100, 'the 100 acknowledged on outbox$ after the reload', 15_000)
      await waitFor(async () => (await page.evaluate(`window.__stored('outbox')`)) === 0, 'the store emptied', 15_000)
      // The reloaded page was told of each restored message with the id the first load gave it.
      const restored = (await events(page)).filter((e) => e.state === 'queued').map((e) => e.id)
      expect(restored).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`))
    } finally {
      await context.close()
    }
  })

  it('iotpubsub/shared: the holding tab is closed with messages queued; the next tab sends them, each once', async () => {
    const p = uniquePrefix('idb-shared')
    const got = await received(p)
    const clientId = `${p.replaceAll('/', '_')}-tabs`
    const proxy = await TcpProxy.start(broker.ports[9001] as number)
    proxy.refuse = true
    const url = `ws://127.0.0.1:${proxy.port}`
    const context = await browser.newContext()
    try {
      const holder = await context.newPage()
      await open(holder, '/shared')
      await holder.evaluate(`window.__start(${JSON.stringify(url)}, ${JSON.stringify(clientId)}, 'outbox-shared')`)
      const next = await context.newPage()
      await open(next, '/shared')
      await next.evaluate(`window.__start(${JSON.stringify(url)}, ${JSON.stringify(clientId)}, 'outbox-shared')`)
      // The first tab holds the connection (it asked for the lock first); both hand it messages.
      await holder.evaluate(`window.__publish(${JSON.stringify(`${p}/cmd`)}, 10, 'a')`)
      await next.evaluate(`window.__publish(${JSON.stringify(`${p}/cmd`)}, 10, 'b')`)
      await waitFor(async () => (await next.evaluate(`window.__stored('outbox-shared')`)) === 20, 'the 20 messages in the holding tab\'s store', 15_000)
      await holder.close()
      proxy.refuse = false
      await waitFor(() => got.length >= 20, 'the 20 messages at the subscriber', 25_000)
      // The next tab's own ten, handed again to its new hub, are the ones its store held: each is sent once.
      await waitFor(async () => (await next.evaluate(`window.__stored('outbox-shared')`)) === 0, 'the store emptied', 15_000)
      expect([...got].sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 10 }, (_, i) => `b${i}`)].sort())
      // The next tab's outbox$ shows its own ten and the closed tab's ten its hub restored, each queued then acknowledged once.
      const nextEvents = await events(next)
      const all = [...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 10 }, (_, i) => `b${i}`)].sort()
      expect(nextEvents.filter((e) => e.state === 'acknowledged').map((e) => e.id).sort()).toEqual(all)
      expect(nextEvents.filter((e) => e.state === 'queued').map((e) => e.id).sort()).toEqual(all)
    } finally {
      await context.close()
      await proxy.close()
    }
  })
})
