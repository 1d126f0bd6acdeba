// iotpubsub/shared with several tabs in Chromium — the holding tab closing or ending while another
// tab's QoS 1 publish is in flight, a follower closing as the last observer of a filter, end() in a follower.
import type { MqttClient } from 'mqtt'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { countInLog } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { bundlePage, servePages } from '../support/page-server.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

interface TabState {
  statuses: string[]
  received: { topic: string; payload: string; retain: boolean }[]
  errors: string[]
  results: Record<string, string>
  logs: string[]
  heardAtHub: { t: string; tab?: string; topic?: string; id?: number }[]
  subscriptions: { filter: string; observers: number }[] | undefined
  clientId: string | undefined
}

const state = (page: Page): Promise<TabState> => page.evaluate(() => (window as any).__state())
const got = async (page: Page, topic: string): Promise<string[]> => (await state(page)).received.filter((m) => m.topic === topic).map((m) => m.payload)
const holds = (page: Page): Promise<boolean> => page.evaluate(() => (window as any).__holds())

describe.skipIf(noMosquitto() || noChromium())('shared connection, tabs closing and ending (Chromium)', () => {
  let broker: Mosquitto
  let browser: Browser
  let server: { origin: string; close(): Promise<void> } | undefined
  let context: BrowserContext | undefined
  let raw: MqttClient | undefined
  let frozen = false
  const problems: string[] = []
  const pages: Page[] = []

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    server = await servePages([{ path: '/', script: await bundlePage('test/browser/shared-tabs-page.ts') }])
    browser = await launchChromium()
  })
  afterEach(async () => {
    if (frozen) broker.signal('SIGCONT')
    frozen = false
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

  const freeze = (): void => {
    frozen = true
    broker.signal('SIGSTOP')
  }
  const thaw = (): void => {
    frozen = false
    broker.signal('SIGCONT')
  }

  async function tab(clientId: string, options: Record<string, unknown> = {}): Promise<Page> {
    context ??= await browser.newContext()
    const page = await context.newPage()
    pages.push(page)
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    await page.goto(`${server?.origin}/`)
    await page.waitForFunction(() => typeof (window as any).__start === 'function')
    await page.evaluate(([u, o]) => (window as any).__start(u, o), [broker.wsUrl, { clientId, reconnect: { initialDelay: 100, maxDelay: 500 }, ...options }] as const)
    return page
  }
  const connected = (page: Page, times = 1): Promise<unknown> =>
    waitFor(async () => (await state(page)).statuses.filter((s) => s === 'connected').length >= times, `tab connected ×${times}`, 15_000)
  const result = (page: Page, key: string): Promise<string> =>
    waitFor(async () => {
      const r = (await state(page)).results[key]
      return r && r !== 'pending' ? r : undefined
    }, `publish ${key} settled`, 15_000)
  async function subscriber(filter: string): Promise<string[]> {
    const seen: string[] = []
    raw = await rawClient(broker.tcpUrl, { clientId: `raw-${Math.random().toString(16).slice(2)}` })
    raw.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`))
    await new Promise<void>((resolve, reject) => raw?.subscribe(filter, { qos: 1 }, (e) => (e ? reject(e) : resolve())))
    return seen
  }
  /** The broker has the filter subscribed by the connection's `n`-th holder (one SUBSCRIBE line per connection). */
  const subscribedTimes = (clientId: string, filter: string, n: number): Promise<unknown> =>
    waitFor(async () => (await broker.log()).split('\n').filter((line) => line.endsWith(`${clientId} 1 ${filter}`)).length >= n, `${filter} subscribed ×${n}`, 10_000)
  const dump = (named: Record<string, Page>): void =>
    onTestFailed(async () => {
      for (const [name, page] of Object.entries(named)) {
        const s = await state(page).catch(() => undefined)
        if (s) process.stdout.write(`dump tab ${name}: statuses ${s.statuses.join(' → ')}; results ${JSON.stringify(s.results)}; errors ${s.errors.join(' | ')}; logs ${s.logs.join(' | ')}; heard at hub ${s.heardAtHub.map((m) => `${m.t}:${m.tab?.slice(0, 4)}`).join(' ')}; live ${s.received.filter((m) => m.topic.endsWith('/live')).map((m) => m.payload).join(',')}\n`)
      }
    })

  for (const qos of [1, 2] as const) it(`the holding tab closes while a follower's QoS ${qos} publish is in flight: it resolves, the broker has it, the follower takes over and keeps receiving`, async () => {
    const p = uniquePrefix(`rv-shared-close-inflight-${qos}`)
    const clientId = `rv-close-${process.pid}-${Date.now().toString(36)}`
    const seen = await subscriber(`${p}/cmd`)
    const a = await tab(clientId)
    await connected(a)
    const b = await tab(clientId)
    await b.evaluate((f) => (window as any).__observe(f, 1), `${p}/live`)
    await connected(b)
    dump({ a, b })
    expect(await holds(a)).toBe(true)
    freeze()
    await b.evaluate(([t, q]) => (window as any).__publish('cmd', t, 'one', q), [`${p}/cmd`, qos] as const)
    // The holding tab has it (its engine writes it to a broker that does not answer).
    await waitFor(async () => (await state(a)).heardAtHub.some((m) => m.t === 'publish' && m.topic === `${p}/cmd`), 'the holder heard the publish', 5_000)
    expect((await state(b)).results.cmd).toBe('pending')
    await a.close()
    thaw()
    expect(await result(b, 'cmd')).toBe('ok')
    await waitFor(() => seen.includes(`${p}/cmd one`), 'the message at the raw subscriber', 5_000)
    // (The closed tab's renderer may outlive page.close() for a moment, and answer first: the lock comes after.)
    await waitFor(() => holds(b), 'b holds the connection', 10_000)
    // Its status may lag behind the answer (another channel): it says connected again soon after.
    await connected(b, 2)
    const statuses = (await state(b)).statuses
    expect(statuses.slice(statuses.indexOf('connected'))).toEqual(['connected', 'reconnecting', 'connected'])
    await subscribedTimes(clientId, `${p}/live`, 2)
    raw?.publish(`${p}/live`, 'after', { qos: 1 })
    await waitFor(async () => (await got(b, `${p}/live`)).includes('after'), 'the follower still receiving')
    expect((await state(b)).errors).toEqual([])
  })

  it('the holding tab closes while two followers have QoS 1 publishes queued: each resolves once the new holder publishes it', async () => {
    const p = uniquePrefix('rv-shared-close-queued')
    const clientId = `rv-closeq-${process.pid}-${Date.now().toString(36)}`
    const seen = await subscriber(`${p}/#`)
    const a = await tab(clientId)
    await connected(a)
    const b = await tab(clientId)
    const c = await tab(clientId)
    for (const page of [b, c]) await page.evaluate((f) => (window as any).__observe(f, 1), `${p}/live`)
    await connected(b)
    await connected(c)
    dump({ a, b, c })
    freeze()
    for (const [name, page] of [['b', b], ['c', c]] as const) {
      for (let i = 0; i < 3; i++) await page.evaluate(([t, k, v]) => (window as any).__publish(k, t, v, 1), [`${p}/cmd`, `${name}${i}`, `${name}${i}`] as const)
    }
    await waitFor(async () => new Set((await state(a)).heardAtHub.filter((m) => m.t === 'publish' && m.topic === `${p}/cmd`).map((m) => `${m.tab} ${m.id}`)).size === 6, 'the holder heard the 6 publishes', 5_000)
    await a.close()
    thaw()
    for (const [name, page] of [['b', b], ['c', c]] as const) for (let i = 0; i < 3; i++) expect(await result(page, `${name}${i}`)).toBe('ok')
    await waitFor(() => ['b0', 'b1', 'b2', 'c0', 'c1', 'c2'].every((v) => seen.includes(`${p}/cmd ${v}`)), 'the 6 messages at the raw subscriber', 5_000)
    // Published once the new holder's connection has subscribed (a clean session misses what comes before).
    await subscribedTimes(clientId, `${p}/live`, 2)
    raw?.publish(`${p}/live`, 'after', { qos: 1 })
    for (const page of [b, c]) await waitFor(async () => (await got(page, `${p}/live`)).includes('after'), 'each follower still receiving')
    expect(connectsOf(await broker.log(), clientId)).toBe(2)
  })

  it('a follower that closes as the only observer of a filter releases the broker subscription; the holder\'s own stays', async () => {
    const p = uniquePrefix('rv-shared-follower-close')
    const clientId = `rv-fclose-${process.pid}-${Date.now().toString(36)}`
    const a = await tab(clientId)
    await a.evaluate((f) => (window as any).__observe(f, 1), `${p}/a`)
    await connected(a)
    const b = await tab(clientId)
    await b.evaluate((f) => (window as any).__observe(f, 1), `${p}/b`)
    await connected(b)
    dump({ a, b })
    await waitFor(async () => countInLog(await broker.log(), 'SUBSCRIBE', clientId) === 2, 'two SUBSCRIBEs')
    await b.close()
    const log = await broker.waitForLog(new RegExp(`Received UNSUBSCRIBE from ${clientId}\\n[^\\n]*${p.replace(/[/.-]/g, '\\$&')}/b`), 5_000)
    expect(countInLog(log, 'UNSUBSCRIBE', clientId)).toBe(1)
    const seen = await subscriber(`${p}/#`)
    raw?.publish(`${p}/a`, 'still', { qos: 1 })
    await waitFor(async () => (await got(a, `${p}/a`)).includes('still'), 'the holder still receiving')
    expect(seen).toContain(`${p}/a still`)
    expect((await state(a)).subscriptions?.map((s) => s.filter)).toEqual([`${p}/a`])
  })

  it('two followers observe one filter; one closes, the other still receives, no UNSUBSCRIBE', async () => {
    const p = uniquePrefix('rv-shared-two-observers')
    const clientId = `rv-two-${process.pid}-${Date.now().toString(36)}`
    const a = await tab(clientId)
    await connected(a)
    const b = await tab(clientId)
    const c = await tab(clientId)
    for (const page of [b, c]) await page.evaluate((f) => (window as any).__observe(f, 1), `${p}/x`)
    await connected(b)
    await connected(c)
    dump({ a, b, c })
    await waitFor(async () => countInLog(await broker.log(), 'SUBSCRIBE', clientId) === 1, 'one SUBSCRIBE')
    await c.close()
    await subscriber(`${p}/#`)
    // A fence: the holder's tab dropped c (its lock released) before this is published, or after: either way b gets it.
    raw?.publish(`${p}/x`, 'one', { qos: 1 })
    await waitFor(async () => (await got(b, `${p}/x`)).includes('one'), 'b still receiving')
    raw?.publish(`${p}/x`, 'two', { qos: 1 })
    await waitFor(async () => (await got(b, `${p}/x`)).includes('two'), 'b still receiving')
    expect(countInLog(await broker.log(), 'UNSUBSCRIBE', clientId)).toBe(0)
    await b.evaluate((f) => (window as any).__unobserve(f), `${p}/x`)
    await broker.waitForLog(new RegExp(`Received UNSUBSCRIBE from ${clientId}`), 5_000)
  })

  it('end() in a follower with a QoS 1 publish pending: it settles, the holder\'s status does not change, the holder keeps its connection', async () => {
    const p = uniquePrefix('rv-shared-follower-end')
    const clientId = `rv-fend-${process.pid}-${Date.now().toString(36)}`
    const seen = await subscriber(`${p}/#`)
    const a = await tab(clientId)
    await a.evaluate((f) => (window as any).__observe(f, 1), `${p}/live`)
    await connected(a)
    const b = await tab(clientId)
    await b.evaluate((f) => (window as any).__observe(f, 1), `${p}/live`)
    await connected(b)
    dump({ a, b })
    freeze()
    await b.evaluate((t) => (window as any).__publish('cmd', t, 'one', 1), `${p}/cmd`)
    await waitFor(async () => (await state(a)).heardAtHub.some((m) => m.t === 'publish' && m.topic === `${p}/cmd`), 'the holder heard the publish', 5_000)
    const before = (await state(a)).statuses.length
    expect(await b.evaluate(() => (window as any).__end({ timeout: 1_000 }))).toBe('ended')
    const ended = await state(b)
    expect(ended.results.cmd).toMatch(/^ClientClosedError/)
    expect(ended.statuses.at(-2)).toBe('closed')
    expect(ended.errors).toEqual([`observer ${p}/live: complete`])
    thaw()
    await waitFor(() => seen.includes(`${p}/cmd one`), 'the raw subscriber gets the message the holder had written', 5_000)
    raw?.publish(`${p}/live`, 'after', { qos: 1 })
    await waitFor(async () => (await got(a, `${p}/live`)).includes('after'), 'the holder still receiving')
    expect((await state(a)).statuses.slice(before)).toEqual([])
    expect(connectsOf(await broker.log(), clientId)).toBe(1)
    expect(await b.evaluate(() => (window as any).__end())).toBe('ended')
  })

  it('end() in the holding tab with a follower\'s QoS 1 publish pending: the follower\'s publish resolves, the broker has it, the follower takes over', async () => {
    const p = uniquePrefix('rv-shared-leader-end')
    const clientId = `rv-lend-${process.pid}-${Date.now().toString(36)}`
    const seen = await subscriber(`${p}/#`)
    const a = await tab(clientId)
    await connected(a)
    const b = await tab(clientId)
    await b.evaluate((f) => (window as any).__observe(f, 1), `${p}/live`)
    await connected(b)
    dump({ a, b })
    freeze()
    await b.evaluate((t) => (window as any).__publish('cmd', t, 'one', 1), `${p}/cmd`)
    await waitFor(async () => (await state(a)).heardAtHub.some((m) => m.t === 'publish' && m.topic === `${p}/cmd`), 'the holder heard the publish', 5_000)
    expect(await a.evaluate(() => (window as any).__end({ timeout: 1_000 }))).toBe('ended')
    expect((await state(a)).statuses.at(-2)).toBe('closed')
    await waitFor(() => holds(b), 'b holds the connection', 5_000)
    thaw()
    expect(await result(b, 'cmd')).toBe('ok')
    await waitFor(() => seen.includes(`${p}/cmd one`), 'the message at the raw subscriber', 5_000)
    await connected(b, 2)
    const statuses = (await state(b)).statuses
    expect(statuses.slice(statuses.indexOf('connected'))).toEqual(['connected', 'reconnecting', 'connected'])
    await subscribedTimes(clientId, `${p}/live`, 2)
    raw?.publish(`${p}/live`, 'after', { qos: 1 })
    await waitFor(async () => (await got(b, `${p}/live`)).includes('after'), 'the follower receiving after the handover')
    expect((await state(b)).errors).toEqual([])
  })

  it('end() in the holding tab, broker answering: a follower\'s QoS 1 publish made during the handover resolves once, the follower sees reconnecting → connected and no close', async () => {
    const p = uniquePrefix('rv-shared-leader-end-live')
    const clientId = `rv-lendl-${process.pid}-${Date.now().toString(36)}`
    const seen = await subscriber(`${p}/#`)
    const a = await tab(clientId)
    await connected(a)
    const b = await tab(clientId)
    await connected(b)
    dump({ a, b })
    const ending = a.evaluate(() => (window as any).__end())
    await b.evaluate((t) => (window as any).__publish('cmd', t, 'one', 1), `${p}/cmd`)
    expect(await ending).toBe('ended')
    expect(await result(b, 'cmd')).toBe('ok')
    await waitFor(() => seen.includes(`${p}/cmd one`), 'the message at the raw subscriber', 5_000)
    await connected(b, 2)
    expect((await state(b)).statuses).not.toContain('closed')
  })

  for (const force of [false, true]) {
    it(`end(${force ? '{ force: true }' : ''}) in the holding tab with another tab open: a graceful DISCONNECT, the last will is not published, the other tab takes over`, async () => {
      const p = uniquePrefix('rv-shared-leader-end-will')
      const clientId = `rv-will-${process.pid}-${Date.now().toString(36)}`
      const seen = await subscriber(`${p}/#`)
      const options = { will: { topic: `${p}/will`, payload: 'gone', qos: 1 } }
      const a = await tab(clientId, options)
      await connected(a)
      const b = await tab(clientId, options)
      await connected(b)
      dump({ a, b })
      expect(await a.evaluate((f) => (window as any).__end(f ? { force: true } : {}), force)).toBe('ended')
      await connected(b, 2)
      await b.evaluate((t) => (window as any).__publish('fence', t, 'fence', 1), `${p}/fence`)
      expect(await result(b, 'fence')).toBe('ok')
      await waitFor(() => seen.includes(`${p}/fence fence`), 'the fence at the raw subscriber', 5_000)
      expect(seen.filter((m) => m.startsWith(`${p}/will`))).toEqual([])
      expect((await state(b)).statuses).not.toContain('closed')
    })
  }
})

function connectsOf(log: string, clientId: string): number {
  return log.split('\n').filter((line) => line.includes('New client connected') && line.includes(` as ${clientId} `)).length
}
