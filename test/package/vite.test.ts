// The published package in a fresh Vite app with no bundler configuration at all (no vite.config, no
// polyfills, no aliases): `npm install` of the tarball next to rxjs and vite, `vite build` with the app's
// own vite, then the built page and the dev server page each run in Chromium against a private Mosquitto
// over ws://. This is also the real-browser test of the library: the same scenario as the Node test, in
// the browser entry, in a production bundle (minified: error names must survive) and in dev mode.
import { copyFile, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { freePort } from '../support/ports.js'
import { uniquePrefix } from '../support/wait.js'
import { connect, type MQTTClient } from '../../lib/node.js'
import { expectScenario } from './expect-scenario.js'
import {
  fixturesDir,
  freshProject,
  listFiles,
  allStarted,
  pack,
  type Packed,
  repoVersion,
  runOk,
  serveStatic,
  startServer,
} from './package-kit.js'
import { linkUnderTest } from '../support/link-under-test.js'

/** Opens `url` in a new page and resolves with `window.__result` once the page's scenario has finished. */
async function runPage(browser: Browser, url: string): Promise<Record<string, any>> {
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`)
  })
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`))
  try {
    await page.goto(url)
    await page.waitForFunction(() => (window as any).__result !== undefined, null, { timeout: 20_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${problems.join('\n')}`)
    })
    const result = (await page.evaluate(() => (window as any).__result)) as Record<string, any>
    return { ...result, problems }
  } finally {
    await page.close()
  }
}

/**
 * Two tabs of the app in one browser context, each with a client from `iotpubsub/shared`: one CONNECT at the
 * broker for both, and a message published from Node reaches both. Proves that the shared connection needs nothing from
 * the bundler (no worker file), in a production build and in the dev server alike.
 */
async function expectOneConnectionForTwoTabs(browser: Browser, base: string, broker: Mosquitto, name: string, publish: (topic: string, payload: string) => Promise<void>): Promise<void> {
  const prefix = uniquePrefix(name)
  const clientId = `${name}-${process.pid}`
  const query = new URLSearchParams({ broker: broker.wsUrl, prefix, clientId, shared: '1', link: linkUnderTest() })
  const context = await browser.newContext()
  const problems: string[] = []
  try {
    const tabs = [await context.newPage(), await context.newPage()]
    for (const tab of tabs) {
      tab.on('pageerror', (error) => problems.push(error.message))
      await tab.goto(`${base}/?${query}`)
    }
    for (const tab of tabs) await tab.waitForFunction(() => (window as any).__tab?.statuses.includes('connected'), null, { timeout: 20_000 })
    // The holding tab's SUBSCRIBE is in before the publish.
    await broker.waitForSubscription(clientId, `${prefix}/#`)
    await publish(`${prefix}/hello`, 'both tabs')
    for (const tab of tabs) await tab.waitForFunction(() => (window as any).__tab.received.includes('both tabs'), null, { timeout: 10_000 })
    const connects = (await broker.log()).split('\n').filter((l) => l.includes('New client connected') && l.includes(` as ${clientId} `))
    expect(connects).toHaveLength(1)
    expect(problems).toEqual([])
  } finally {
    await context.close()
  }
}

describe.skipIf(noMosquitto() || noChromium())('the npm package in a fresh Vite app with no configuration', () => {
  let packed: Packed
  let app: string
  let broker: Mosquitto
  let browser: Browser
  let build: { stdout: string; stderr: string }
  let built: { url: string; close(): Promise<void> } | undefined
  let publisher: MQTTClient | undefined
  const publish = async (topic: string, payload: string): Promise<void> => {
    publisher ??= connect(broker.tcpUrl, { clientId: `package-vite-publisher-${process.pid}` })
    await publisher.publish(topic, payload, { qos: 1 })
  }

  beforeAll(async () => {
    // Assigned one by one and all settled, so that afterAll cleans up whatever started if one failed.
    await allStarted([
      pack().then((p) => (packed = p)),
      Mosquitto.start({ persistence: false, extra: ['log_type subscribe'] }).then((b) => (broker = b)),
      launchChromium().then((b) => (browser = b)),
    ])
    app = await freshProject(join(packed.dir, 'vite-app'), {
      fixtures: ['shared', 'vite-app'],
      packages: [packed.tarball, `rxjs@${repoVersion('rxjs')}`, `vite@${repoVersion('vite')}`],
    })
    // The app's own vite, from its own folder, with no config file anywhere.
    build = await runOk('node', [join(app, 'node_modules/vite/bin/vite.js'), 'build'], { cwd: app })
    built = await serveStatic(join(app, 'dist'))
  }, 180_000)

  afterAll(async () => {
    await publisher?.end()
    await built?.close()
    await browser?.close()
    await broker?.dispose()
    await packed?.dispose()
  })

  const pageUrl = (base: string, name: string) => {
    // The page's `link` option: the link this vitest project runs the suites over.
    const query = new URLSearchParams({ broker: broker.wsUrl, prefix: uniquePrefix(name), clientId: `${name}-${process.pid}`, link: linkUnderTest() })
    return { url: `${base}/?${query}`, prefix: query.get('prefix')!, clientId: query.get('clientId')! }
  }

  it('is a fresh app: no vite config, only index.html, the scripts and package.json', async () => {
    const own = (await readdir(app)).filter((f) => !['node_modules', 'dist', 'package-lock.json'].includes(f)).sort()
    expect(own).toEqual(['index.html', 'main.js', 'package.json', 'scenario.js'])
    const manifest = JSON.parse(await readFile(join(app, 'package.json'), 'utf8'))
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['iotpubsub', 'rxjs', 'vite'])
  })

  it('builds with the browser entries of the SDK and of mqtt, and nothing Node-only', async () => {
    const output = build.stdout + build.stderr
    expect(output).not.toMatch(/externalized for browser compatibility/i)
    expect(output).not.toMatch(/\[plugin|warning|error/i)
    const files = await listFiles(join(app, 'dist'))
    // The entry chunk, and the chunks Vite split off for dynamic imports: MQTT.js, loaded only for `link: 'mqttjs'`.
    expect(files.filter((f) => !/^(index\.html|assets\/[\w-]+\.js)$/.test(f))).toEqual([])
    const chunks = await Promise.all(files.filter((f) => f.endsWith('.js')).map(async (f) => ({ f, code: await readFile(join(app, 'dist', f), 'utf8') })))
    const bundle = chunks.map((c) => c.code).join('\n')
    // MQTT.js (its default client id prefix is in its code) is in a chunk of its own, not in the entry.
    const entry = chunks.filter((c) => /^assets\/index-[\w-]+\.js$/.test(c.f))
    expect(entry).toHaveLength(1)
    expect(entry[0]?.code).not.toContain('mqttjs_')
    expect(chunks.filter((c) => c.code.includes('mqttjs_'))).toHaveLength(1)
    expect(bundle).not.toContain('__vite-browser-external')
    expect(bundle).not.toMatch(/\brequire\(\s*["'](node:)?(net|tls|fs|stream|events|crypto|url|http|https|ws)["']\s*\)/)
    expect(bundle).not.toMatch(/from\s*["']node:/)
    expect(bundle).not.toMatch(/import\(\s*["'](node:)?(net|tls|fs)["']\s*\)/)

    // Which modules went in: the same default build through Vite's API, reading Rollup's module list.
    await copyFile(join(fixturesDir, 'vite-inspect/inspect.mjs'), join(app, 'inspect.mjs'))
    const inspected = JSON.parse((await runOk('node', ['inspect.mjs'], { cwd: app })).stdout)
    const modules = (inspected.app.modules as string[]).map((id) => id.replace(`${app}/`, ''))
    expect(modules).toContain('node_modules/iotpubsub/dist/browser.js')
    // The `iotpubsub/shared` subpath (the tabs' shared connection) through its browser condition too.
    expect(modules).toContain('node_modules/iotpubsub/dist/shared/index.js')
    expect(modules).not.toContain('node_modules/iotpubsub/dist/node.js')
    expect(modules).toContain('node_modules/mqtt/dist/mqtt.esm.js')
    expect(modules.filter((m) => m.includes('node_modules/mqtt/') && m !== 'node_modules/mqtt/dist/mqtt.esm.js')).toEqual([])
    expect(modules.filter((m) => /node_modules\/(ws|readable-stream|buffer|process|events)\//.test(m))).toEqual([])

    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
    const written = await Promise.all(files.filter((f) => f.endsWith('.js')).map((f) => stat(join(app, 'dist', f))))
    console.log(
      `[package size] fresh Vite app bundle: ${kb(written.reduce((sum, s) => sum + s.size, 0))} min, ` +
        `${kb(inspected.app.size.gzip)} min+gzip (mqtt + rxjs + SDK + app). ` +
        `SDK's own code without mqtt and rxjs: everything exported ${kb(inspected.sdk.all.bytes)} min, ` +
        `${kb(inspected.sdk.all.gzip)} min+gzip; connect() alone ${kb(inspected.sdk.connect.gzip)} min+gzip.`,
    )
    // A floor that proves the measurement measured something; the budget itself is issue 6's.
    expect(inspected.sdk.all.gzip).toBeGreaterThan(1024)
  }, 60_000)

  it('runs in Chromium from the production build: ws:// round trip, mqtt:// refused, error names kept', async () => {
    const { url, prefix, clientId } = pageUrl(built!.url, 'package-vite-build')
    const result = await runPage(browser, url)
    expect(result.runtime?.userAgent).toContain('HeadlessChrome')
    expectScenario(result, prefix)
    expect(result.refused.message).toMatch(/ws:\/\//)
    expect(result.refused.message).toMatch(/wss:\/\//)
    expect(result.problems).toEqual([])
    expect(await broker.log()).toContain(clientId)
  }, 45_000)

  it("shares one connection between two tabs of the production build ('iotpubsub/shared', no bundler configuration)", async () => {
    await expectOneConnectionForTwoTabs(browser, built!.url, broker, 'package-vite-build-shared', publish)
  }, 45_000)

  it('runs in Chromium from the dev server (vite with no config), and two tabs share one connection there too', async () => {
    const port = await freePort()
    const dev = await startServer(
      'node',
      [join(app, 'node_modules/vite/bin/vite.js'), '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
      { cwd: app, ready: new RegExp(`http://127\\.0\\.0\\.1:${port}/`) },
    )
    try {
      const { url, prefix } = pageUrl(`http://127.0.0.1:${port}`, 'package-vite-dev')
      const result = await runPage(browser, url)
      expectScenario(result, prefix)
      expect(result.refused.message).toMatch(/ws:\/\//)
      expect(result.problems).toEqual([])
      expect(dev.output()).not.toMatch(/error|externalized for browser compatibility/i)
      await expectOneConnectionForTwoTabs(browser, `http://127.0.0.1:${port}`, broker, 'package-vite-dev-shared', publish)
    } finally {
      await dev.stop()
    }
  }, 60_000)
})
