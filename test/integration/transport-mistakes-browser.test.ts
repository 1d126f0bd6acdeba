// Issue 12 in Chromium: the SDK's browser entry (lib/browser.ts, bundled with esbuild as an app would) on a
// page served over https: (a self-signed certificate, Chromium told to accept it). Host names under .test are
// mapped to 127.0.0.1 by Chromium's resolver, so that `broker.test` is a host that is not loopback to the
// browser (mixed content applies to it) while every connection stays on this machine.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { browserAliases } from '../support/link-under-test.js'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { chromiumArgs, chromiumPath, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { repoDir } from '../package/package-kit.js'
import { pathProxy, type TestServer } from '../support/transport-servers.js'

/** What the page reports of one connect(): the throw, or the first status after `connecting`. */
interface Verdict {
  readonly threw?: { readonly name: string; readonly message: string }
  readonly type?: string
  readonly error?: { readonly name: string; readonly message: string }
}

// The page's script: connect(), wait for the first verdict, end the client. `throwing` stands in a WebSocket
// whose constructor throws, as a browser's does for what it refuses outright.
const pageScript = `
import { connect } from 'iotpubsub'
let clients = 0
window.__verdict = (url, throwing) => new Promise((resolve) => {
  const native = window.WebSocket
  if (throwing) window.WebSocket = class { constructor() { throw new DOMException("Failed to construct 'WebSocket': refused", 'SecurityError') } }
  const settle = (verdict) => { window.WebSocket = native; resolve(verdict) }
  let client
  try {
    client = connect(url, { clientId: 'transport-mistakes-browser-' + (clients += 1), reconnect: { initialDelay: 100, maxDelay: 100 } })
  } catch (e) {
    return settle({ threw: { name: e.name, message: e.message } })
  }
  let done = false
  client.status$.subscribe((s) => {
    if (s.type === 'connecting' || done) return
    done = true
    const error = s.error ? { name: s.error.name, message: s.error.message } : undefined
    client.end({ force: true }).then(() => settle({ type: s.type, error }))
  })
})
`

const run = promisify(execFile)

describe.skipIf(noMosquitto() || noChromium())('transport mistakes in Chromium, on an https: page', () => {
  let broker: Mosquitto
  let browser: Browser
  let server: Server
  let certDir: string
  let origin: string
  let page: Page
  let pageErrors: string[]
  const servers: TestServer[] = []

  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'iotpubsub-page-cert-'))
    const key = join(certDir, 'key.pem')
    const cert = join(certDir, 'cert.pem')
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=page.test', '-addext', 'subjectAltName=DNS:page.test'])
    const bundle = await build({
      stdin: { contents: pageScript, resolveDir: repoDir, loader: 'ts', sourcefile: 'page.ts' },
      ...browserAliases(repoDir),
      bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
    })
    const script = bundle.outputFiles[0]?.text ?? ''
    server = createServer({ key: await readFile(key), cert: await readFile(cert) }, (request, response) => {
      const js = request.url === '/app.js'
      response.setHeader('content-type', js ? 'text/javascript' : 'text/html')
      response.end(js ? script : '<!doctype html><script type="module" src="/app.js"></script>')
    })
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()))
    const address = server.address()
    origin = `https://page.test:${typeof address === 'object' && address ? address.port : 0}`
    broker = await Mosquitto.start({ persistence: false })
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [...chromiumArgs, '--ignore-certificate-errors', '--host-resolver-rules=MAP *.test 127.0.0.1'],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await broker?.dispose()
    await new Promise<void>((closed) => (server ? server.close(() => closed()) : closed()))
    if (certDir) await rm(certDir, { recursive: true, force: true })
  })

  afterEach(async () => {
    await page?.close()
    await Promise.all(servers.splice(0).map((s) => s.close()))
  })

  async function verdict(url: string, throwing = false): Promise<Verdict> {
    page = await browser.newPage()
    pageErrors = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(`${origin}/`)
    expect(await page.evaluate(() => location.protocol)).toBe('https:')
    await page.waitForFunction(() => '__verdict' in window)
    return page.evaluate(([u, t]) => (window as unknown as { __verdict(u: string, t: boolean): Promise<Verdict> }).__verdict(u, t), [url, throwing] as const)
  }
  const port = (listener: number) => broker.ports[listener] as number

  it('ws:// to a host that is not loopback: connect() throws UnsupportedOptionError naming mixed content and wss://', async () => {
    const url = `ws://broker.test:${port(9001)}/`
    expect(await verdict(url)).toEqual({
      threw: {
        name: 'UnsupportedOptionError',
        message: `"${url}": this page is served over https:, and browsers refuse ws:// from it (mixed content): use wss:// (a TLS websockets listener, or a TLS proxy in front of the broker)`,
      },
    })
    expect(pageErrors).toEqual([])
  })

  it('ws:// to loopback, which Chromium allows from https:, connects', async () => {
    expect(await verdict(`ws://localhost:${port(9001)}/`)).toEqual({ type: 'connected' })
  })

  it.each([
    ['a path nothing serves (HTTP 404)', 'proxy'],
    ['the TCP listener', 'tcp'],
  ])('a WebSocket handshake refused by %s: the close code and what to check, retried, no MQTT 3.1.1 fallback', async (_, target) => {
    let url = `ws://localhost:${port(1883)}/`
    if (target === 'proxy') {
      const proxy = await pathProxy('/mqtt', port(9001))
      servers.push(proxy)
      url = `ws://localhost:${proxy.port}/ws`
    }
    // The first verdict is a reconnecting status: before, two silent closes went by first as MQTT 5 attempts.
    expect(await verdict(url)).toEqual({
      type: 'reconnecting',
      error: {
        name: 'ConnectionLostError',
        message: `the WebSocket to ${url} closed before the MQTT handshake (close code 1006): is the broker's websockets listener at that address and path? ` +
          'The browser tells the page no more; its console shows the reason.',
      },
    })
    expect(pageErrors).toEqual([])
  })

  it('a WebSocket constructor that throws is a failed attempt: reported, retried, and end() settles', async () => {
    expect(await verdict(`ws://localhost:${port(9001)}/`, true)).toEqual({
      type: 'reconnecting',
      error: { name: 'ConnectionLostError', message: "SecurityError: Failed to construct 'WebSocket': refused" },
    })
    expect(pageErrors).toEqual([])
  })
})
