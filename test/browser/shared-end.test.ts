// a publish() made after end() was called. docs/guide/troubleshooting.md (ClientClosedError): "a
// publish after end()" rejects with ClientClosedError; a client of its own refuses it at once and never sends it
// (reference test below, Node). In a tab of iotpubsub/shared (a follower) the publish is handed to the holding
// tab anyway and goes to the broker — and if end() is still waiting for an earlier publish, it even resolves.
import type { MqttClient } from 'mqtt'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { bundlePage, servePages } from '../support/page-server.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const state = (page: Page): Promise<{ statuses: string[]; results: Record<string, string> }> => page.evaluate(() => (window as any).__state())

describe.skipIf(noMosquitto() || noChromium())('publish() after end() in a tab of a shared connection', () => {
  let broker: Mosquitto
  let browser: Browser
  let server: { origin: string; close(): Promise<void> } | undefined
  let context: BrowserContext | undefined
  let raw: MqttClient | undefined
  const pages: Page[] = []

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
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
    await page.evaluate(([u, o]) => (window as any).__start(u, o), [broker.wsUrl, { clientId }] as const)
    await waitFor(async () => (await state(page)).statuses.includes('connected'), 'tab connected', 15_000)
    return page
  }
  async function subscriber(filter: string): Promise<string[]> {
    const seen: string[] = []
    raw = await rawClient(broker.tcpUrl, { clientId: `raw-${Math.random().toString(16).slice(2)}` })
    raw.on('message', (topic, payload) => seen.push(`${topic.split('/').at(-1)} ${payload.toString()}`))
    await new Promise<void>((resolve, reject) => raw?.subscribe(filter, { qos: 1 }, (e) => (e ? reject(e) : resolve())))
    return seen
  }
  const settled = (page: Page, key: string): Promise<string> =>
    waitFor(async () => {
      const r = (await state(page)).results[key]
      return r && r !== 'pending' ? r : undefined
    }, `${key} settled`, 10_000)

  it('reference: a client of its own refuses a publish made after end() and never sends it', async () => {
    const p = uniquePrefix('rv-own-end-publish')
    const seen = await subscriber(`${p}/#`)
    const client = connect(broker.tcpUrl, { clientId: `rv-own-${process.pid}-${Date.now().toString(36)}` })
    await waitForStatus(client, 'connected')
    const before = client.publish(`${p}/cmd`, 'before-end', { qos: 1 })
    const ending = client.end()
    const after = client.publish(`${p}/cmd`, 'after-end', { qos: 1 })
    await expect(after).rejects.toThrow(/publish\(\) on a client that has ended/)
    await before
    await ending
    // A fence: published once end() resolved (the ended client's DISCONNECT came first).
    raw?.publish(`${p}/fence`, 'fence', { qos: 1 })
    await waitFor(() => seen.includes('fence fence'), 'the fence')
    expect(seen).toContain('cmd before-end')
    expect(seen).not.toContain('cmd after-end')
  })

  for (const which of ['follower', 'holding'] as const) it(`the ${which} tab: publish(), end(), publish() in one task — the publish made after end() is refused and not sent`, async () => {
    const p = uniquePrefix(`rv-shared-end-publish-${which}`)
    const clientId = `rv-endpub-${which}-${process.pid}-${Date.now().toString(36)}`
    const seen = await subscriber(`${p}/#`)
    const leader = await tab(clientId)
    const follower = await tab(clientId)
    const [ending, staying] = which === 'follower' ? [follower, leader] : [leader, follower]
    await ending.evaluate((t) => (window as any).__publishAroundEnd(t), `${p}/cmd`)
    expect(await settled(ending, 'end')).toBe('ok')
    const results = (await state(ending)).results
    // The fence: published by the tab still open, on the shared connection, after the other's end() resolved.
    await waitFor(async () => (await state(staying)).statuses.filter((s) => s === 'connected').length >= (which === 'follower' ? 1 : 2), 'the other tab connected', 15_000)
    await staying.evaluate((t) => (window as any).__publish('fence', t, 'fence', 1), `${p}/fence`)
    expect(await settled(staying, 'fence')).toBe('ok')
    await waitFor(() => seen.includes('fence fence'), 'the fence')
    expect(results['before-end']).toBe('ok')
    expect(seen).toContain('cmd before-end')
    expect({ result: results['after-end'], sent: seen.includes('cmd after-end') }).toEqual({ result: expect.stringMatching(/^ClientClosedError: publish\(\) on a client that has ended/), sent: false })
  })
})
