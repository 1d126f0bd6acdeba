// Issue 27 in Chromium: the browser entry (bundled as an app would, over the link under test) signs its URL per
// attempt with Web Crypto in the credentials provider, offers a subprotocol of its own, and gets a typed error,
// not a silent drop, for handshake headers a page cannot send. The gateway in front of a private Mosquitto
// checks each signature by its own clock, which the test moves past every earlier one.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { SigningGateway } from '../support/gateway.js'
import { Mosquitto } from '../support/mosquitto.js'
import { bundlePage, servePages } from '../support/page-server.js'

const KEY = 'browser-gateway-key'

const pageScript = `
import { connect } from 'iotpubsub'
const encoder = new TextEncoder()
const hex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')
async function sign(base, key, at) {
  const url = new URL(base)
  const hmac = await crypto.subtle.importKey('raw', encoder.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  url.searchParams.set('ts', String(at))
  url.searchParams.set('sig', hex(await crypto.subtle.sign('HMAC', hmac, encoder.encode(url.pathname + '\\n' + at))))
  return url.toString()
}
let client
window.__connect = (base, key) => new Promise((resolve) => {
  client = connect(base, {
    clientId: 'handshake-browser',
    reconnect: { initialDelay: 20, maxDelay: 50 },
    webSocket: { subprotocols: ['token.abc'] },
    credentials: async () => ({ url: await sign(base, key, await window.gatewayNow()) }),
  })
  client.status$.subscribe((s) => { if (s.type === 'connected') resolve(s.url) })
})
window.__reconnected = () => new Promise((resolve) => {
  let lost = false
  const subscription = client.status$.subscribe((s) => {
    if (s.type === 'reconnecting') lost = true
    if (lost && s.type === 'connected') { resolve(s.url); queueMicrotask(() => subscription.unsubscribe()) }
  })
})
window.__end = () => client.end({ force: true })
window.__refused = (base, options) => {
  try {
    connect(base, options).end({ force: true })
    return undefined
  } catch (e) {
    return { name: e.name, message: e.message }
  }
}
window.__headers = (base) => new Promise((resolve) => {
  const c = connect(base, { clientId: 'handshake-browser-headers', credentials: () => ({ headers: { authorization: 'Bearer t' } }) })
  c.status$.subscribe((s) => { if (s.type === 'closed') resolve({ name: s.error && s.error.name, message: s.error && s.error.message }) })
})
`

describe.skipIf(noMosquitto() || noChromium())('per-attempt URLs and handshake options in Chromium', () => {
  let broker: Mosquitto
  let gateway: SigningGateway
  let browser: Browser
  let page: Page
  let pages: { origin: string; close(): Promise<void> }

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
    gateway = await SigningGateway.start({ brokerPort: broker.ports[1883] as number, key: KEY, maxAgeMs: 2_000 })
    pages = await servePages([{ path: '/', script: await bundlePage({ code: pageScript, name: 'handshake-page.ts' }) }])
    browser = await launchChromium()
    page = await browser.newPage()
    await page.exposeFunction('gatewayNow', () => gateway.now)
    await page.goto(`${pages.origin}/`)
    await page.waitForFunction(() => typeof (window as unknown as { __connect?: unknown }).__connect === 'function')
  })
  afterAll(async () => {
    await page?.evaluate(() => (window as unknown as { __end(): Promise<void> }).__end()).catch(() => undefined)
    await browser?.close()
    await pages?.close()
    await gateway?.close()
    await broker?.dispose()
  })

  it('signs a fresh URL for every attempt with Web Crypto, and offers its subprotocol after mqtt', async () => {
    const url = await page.evaluate(([base, key]) => (window as unknown as { __connect(b: string, k: string): Promise<string> }).__connect(base, key), [gateway.url(), KEY] as const)
    expect(url).toBe(`${gateway.url()}?…`)
    for (let expiry = 1; expiry <= 2; expiry++) {
      gateway.advance(20_000) // every signature so far is stale now
      const reconnected = page.evaluate(() => (window as unknown as { __reconnected(): Promise<string> }).__reconnected())
      expect(gateway.closeAll()).toBe(1)
      await reconnected
    }
    expect(gateway.refused).toEqual([])
    expect(new Set(gateway.accepted.map((h) => h.url)).size).toBe(3)
    expect(gateway.accepted.map((h) => h.subprotocols)).toEqual([['mqtt', 'token.abc'], ['mqtt', 'token.abc'], ['mqtt', 'token.abc']])
  }, 30_000)

  it('headers returned by the provider end the client with UnsupportedOptionError, pointing to the query or a subprotocol', async () => {
    const closed = await page.evaluate((base) => (window as unknown as { __headers(b: string): Promise<{ name: string; message: string }> }).__headers(base), gateway.url())
    expect(closed.name).toBe('UnsupportedOptionError')
    expect(closed.message).toMatch(/^`credentials\(\)\.headers`: a browser cannot set WebSocket handshake headers: put the token in the URL's query string .* or in a subprotocol \(`webSocket\.subprotocols`\)$/)
  })

  it('`webSocket.headers` and `proxy` are refused by connect() with UnsupportedOptionError', async () => {
    const refused = (options: object) =>
      page.evaluate(([base, given]) => (window as unknown as { __refused(b: string, o: object): unknown }).__refused(base, given), [gateway.url(), options] as const)
    expect(await refused({ webSocket: { headers: { authorization: 'Bearer t' } } })).toMatchObject({ name: 'UnsupportedOptionError', message: expect.stringMatching(/^`webSocket\.headers`: a browser cannot set WebSocket handshake headers/) })
    expect(await refused({ proxy: 'http://proxy.corp:3128' })).toEqual({
      name: 'UnsupportedOptionError',
      message: '`proxy` cannot be used in a browser: the browser reaches the broker through its own proxy settings',
    })
  })
})
