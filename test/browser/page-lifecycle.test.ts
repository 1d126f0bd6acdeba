// Issue 13, part 3 in Chromium: the SDK's browser entry (lib/browser.ts bundled with esbuild) on a page, against
// a private Mosquitto over ws://, driven through the DevTools protocol. What headless Chromium 156 lets a test do,
// as measured: `Network.emulateNetworkConditions` offline fires `offline`/`online` and sets navigator.onLine; an
// open WebSocket stays open (readyState 1, no close event) but carries nothing (a CONNECT sent on it gets no
// CONNACK), and a new one fails: only the keepalive would notice. `Page.setWebLifecycleState` frozen neither freezes
// a visible headless page (its timers keep running) nor fires `freeze`/`resume`, and no CDP call makes a
// headless page hidden. So `resume` and `visibilitychange` are dispatched on the page itself, which is what
// the SDK listens to; the network events are the browser's own.
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { chromiumArgs, chromiumPath, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { bundlePage, servePages } from '../support/page-server.js'
import { uniquePrefix, waitFor } from '../support/wait.js'
import { block } from '../readme/readme-kit.js'

/** A status as the page saw it, with the page's clock (performance.now()). */
interface Seen {
  readonly type: string
  readonly at: number
  readonly delay?: number
  readonly error?: string
}

// The page's script: one client at a time, its statuses and the page's own network events, timestamped.
const pageScript = `
import { connect } from 'iotpubsub'
window.__seen = []
window.__events = []
for (const type of ['online', 'offline']) window.addEventListener(type, () => window.__events.push({ type, at: performance.now() }))
window.__start = (url, options) => {
  window.__seen = []
  window.__client = connect(url, options)
  window.__client.status$.subscribe((s) => window.__seen.push({ type: s.type, at: performance.now(), delay: s.delay, error: s.error && s.error.message }))
}
window.__end = () => (window.__client ? window.__client.end({ force: true }) : Promise.resolve())
// What Chromium does not let a test do through the DevTools protocol on a headless page (see above).
window.__pageBack = (type) => {
  if (type === 'resume') return document.dispatchEvent(new Event('resume'))
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' })
  document.dispatchEvent(new Event('visibilitychange'))
}
// The keepalive must not depend on the page's own intervals: a hidden tab's run about once a minute.
window.__stopPageIntervals = () => { window.setInterval = () => 0 }
`

const keepalive = 60
/** Large enough that waiting out the backoff cannot pass for "at once": the first retry waits 10–20 s. */
const reconnect = { initialDelay: 20_000, maxDelay: 30_000 }
/** Well under the backoff's 10 s floor and the keepalive's 90 s, with room for a loaded 2-core machine. */
const AT_ONCE_MS = 5_000

describe.skipIf(noMosquitto() || noChromium())('the page lifecycle in Chromium', () => {
  let broker: Mosquitto
  let browser: Browser
  let pages: { origin: string; close(): Promise<void> } | undefined
  let origin: string
  let page: Page
  let cdp: CDPSession
  let pageErrors: string[]

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    // The example of docs/guide/dashboards.md as it is printed, with the test's broker, a stand-in badge, and its client kept for the test.
    const readme = `window.badge = { textContent: '' }
${block('dashboards:lifecycle', 'docs/guide/dashboards.md').code.replace("'ws://localhost:9001'", JSON.stringify(broker.wsUrl))}
window.__readmeClient = client`
    const script = await bundlePage({ code: pageScript, name: 'page.ts' })
    const readmeScript = await bundlePage({ code: readme, name: 'readme-lifecycle.ts' })
    // /csp: a policy that refuses every Worker; the keepalive falls back to the page's own timers.
    const csp = { 'content-security-policy': "default-src 'self'; connect-src ws://127.0.0.1:*; worker-src 'none'" }
    pages = await servePages([
      { path: '/', script },
      { path: '/csp', script, headers: csp },
      { path: '/readme', script: readmeScript },
    ])
    origin = pages.origin
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await broker?.dispose()
    await pages?.close()
  })

  afterEach(async () => {
    if (page && !page.isClosed()) {
      await page.evaluate('window.__end ? window.__end() : window.__readmeClient?.end({ force: true })').catch(() => undefined)
      await page.close()
    }
  })

  async function open(path = '/'): Promise<void> {
    page = await browser.newPage()
    pageErrors = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(`${origin}${path}`)
    await page.waitForFunction(() => '__start' in window || '__readmeClient' in window)
    cdp = await page.context().newCDPSession(page)
  }

  async function start(clientId: string, options: Record<string, unknown> = {}): Promise<void> {
    await page.evaluate(`window.__start(${JSON.stringify(broker.wsUrl)}, ${JSON.stringify({ clientId, keepalive, reconnect, ...options })})`)
  }

  const seen = async (): Promise<Seen[]> => (await page.evaluate('window.__seen')) as Seen[]
  const now = async (): Promise<number> => (await page.evaluate('performance.now()')) as number

  /** The first status of `type` seen after `from` (page clock), within `ms`. */
  async function status(type: string, from: number, ms: number): Promise<Seen> {
    return waitFor(async () => (await seen()).find((s) => s.type === type && s.at >= from), `status ${type}`, ms)
  }

  const network = (offline: boolean): Promise<unknown> =>
    cdp.send('Network.emulateNetworkConditions', { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })

  it('offline shows reconnecting at once; online connects at once instead of after the 10–20 s backoff', async () => {
    await open()
    const clientId = uniquePrefix('lifecycle-net').replaceAll('/', '-')
    await start(clientId)
    await status('connected', 0, 10_000)
    await cdp.send('Network.enable')
    const times: number[] = []
    for (let round = 0; round < 5; round++) {
      const before = await now()
      await network(true)
      const lost = await status('reconnecting', before, AT_ONCE_MS)
      expect(lost.error).toBe('the browser went offline')
      // Before, nothing for 1.5 × keepalive (90 s): under the emulation the WebSocket stays open, silent.
      expect(lost.delay).toBeGreaterThanOrEqual(reconnect.initialDelay / 2)
      const back = await now()
      await network(false)
      const connected = await status('connected', back, AT_ONCE_MS)
      const events = (await page.evaluate('window.__events')) as { type: string; at: number }[]
      const online = events.filter((e) => e.type === 'online' && e.at >= back).at(0)
      expect(online).toBeDefined()
      times.push(connected.at - (online?.at ?? back))
    }
    times.sort((a, b) => a - b)
    process.stdout.write(`online → connected, ms: ${times.map((t) => t.toFixed(0)).join(', ')} (p50 ${times[2]?.toFixed(0)})\n`)
    for (const t of times) expect(t).toBeLessThan(AT_ONCE_MS)
    expect(pageErrors).toEqual([])
  }, 90_000)

  it('resumed with a connection the broker no longer answers (frozen broker): reconnecting at once, connected once it answers', async () => {
    await open()
    const clientId = uniquePrefix('lifecycle-resume').replaceAll('/', '-')
    await start(clientId)
    await status('connected', 0, 10_000)
    broker.signal('SIGSTOP')
    try {
      const before = await now()
      await page.evaluate(`window.__pageBack('resume')`)
      const lost = await status('reconnecting', before, AT_ONCE_MS + 3_000)
      expect(lost.error).toMatch(/did not answer a PINGREQ within \d+ ms after the page came back \(resume\)/)
      expect(lost.delay).toBe(0)
    } finally {
      broker.signal('SIGCONT')
    }
    const thawed = await now()
    // The attempt made at once is answered by the thawed broker: no backoff in between.
    await status('connected', thawed - 1_000, AT_ONCE_MS + 3_000)
    expect(pageErrors).toEqual([])
  }, 60_000)

  it.each(['resume', 'visible'])('%s during a backoff wait after a broker restart: connected at once', async (how) => {
    await open()
    const clientId = uniquePrefix(`lifecycle-${how}`).replaceAll('/', '-')
    await start(clientId)
    await status('connected', 0, 10_000)
    const before = await now()
    await broker.restart()
    const lost = await status('reconnecting', before, 10_000)
    expect(lost.delay).toBeGreaterThanOrEqual(reconnect.initialDelay / 2)
    const back = await now()
    await page.evaluate(`window.__pageBack(${JSON.stringify(how)})`)
    const connected = await status('connected', back, AT_ONCE_MS)
    expect(connected.at - back).toBeLessThan(AT_ONCE_MS)
    expect(pageErrors).toEqual([])
  }, 60_000)

  it.each([
    ['in a Worker: the keepalive pings with the page’s own intervals stopped', '/', true],
    ['under a CSP that refuses Workers: the page’s own timers, the keepalive still pings', '/csp', false],
  ])('keepalive timers %s', async (_, path, stopPageIntervals) => {
    await open(path)
    const clientId = uniquePrefix('lifecycle-keepalive').replaceAll('/', '-')
    await start(clientId, { keepalive: 1 })
    await status('connected', 0, 10_000)
    if (stopPageIntervals) await page.evaluate('window.__stopPageIntervals()')
    const pings = async (): Promise<number> => (await broker.log()).split('\n').filter((l) => l.includes(`Received PINGREQ from ${clientId}`)).length
    const first = await pings()
    // keepalive 1 s: MQTT.js pings every second tick of 0.5 s; three pings take about 3 s.
    await waitFor(async () => (await pings()) >= first + 3, `3 PINGREQs from ${clientId}`, 10_000)
    expect((await seen()).map((s) => s.type)).toEqual(['connecting', 'connected'])
    // The client's own Worker where allowed; none where the policy refuses it.
    expect(page.workers()).toHaveLength(stopPageIntervals ? 1 : 0)
    expect(pageErrors).toEqual([])
  }, 30_000)

  it('the dashboards guide\'s example: the badge says offline at once, and connected when the network is back', async () => {
    await open('/readme')
    const badge = async (): Promise<string> => (await page.evaluate('window.badge.textContent')) as string
    await waitFor(async () => (await badge()) === 'connected', 'the badge to say connected')
    await cdp.send('Network.enable')
    await network(true)
    await waitFor(async () => (await badge()) === 'offline: the browser went offline', 'the badge to say offline', AT_ONCE_MS)
    await network(false)
    await waitFor(async () => (await badge()) === 'connected', 'the badge to say connected again', AT_ONCE_MS)
    expect(pageErrors).toEqual([])
  }, 30_000)
})
