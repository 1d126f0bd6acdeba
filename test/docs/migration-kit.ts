// The migration guides' browser apps, run as written: a block of a guide bundled as an app bundles it (esbuild,
// `iotpubsub` and its subpaths being the repository's browser entries), its broker URL and topic pointed at a
// private Mosquitto, opened in Chromium, and driven like the guide's kitchen widget: a device publishes a
// temperature the page must show, and the page's button publishes one the device must receive.
import { join } from 'node:path'
import { build, type BuildOptions } from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import { first, firstValueFrom, timeout } from 'rxjs'
import { afterAll, beforeAll, expect } from 'vitest'
import { connect, type MQTTClient } from '../../lib/node.js'
import { launchChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { browserAliases } from '../support/link-under-test.js'
import { servePages } from '../support/page-server.js'
import { waitFor } from '../support/wait.js'
import { repoDir } from '../readme/readme-kit.js'

/** The broker the guides' browser blocks connect to, and their topic. */
export const GUIDE_URL = 'ws://localhost:9001'
export const GUIDE_TOPIC = 'rooms/kitchen/temp'

/** What a migration test drives a guide's app with: a private Mosquitto, Chromium, and a device client on the broker. */
export interface KitchenPeers {
  readonly broker: Mosquitto
  readonly browser: Browser
  readonly device: MQTTClient
}

/** Starts the peers before the describe block's tests and stops them after (call it in the block). */
export function kitchenPeers(name: string): KitchenPeers {
  const peers = {} as { broker: Mosquitto; browser: Browser; device: MQTTClient }
  beforeAll(async () => {
    peers.broker = await Mosquitto.start({ persistence: false })
    peers.browser = await launchChromium()
    peers.device = connect(peers.broker.tcpUrl, { clientId: `${name}-${process.pid}` })
  })
  afterAll(async () => {
    await peers.device?.end()
    await peers.browser?.close()
    await peers.broker?.dispose()
  })
  return peers
}

/** Bundles a block and the entry code that starts it (`mount`), with the loader and options the block needs. */
export async function bundleBlock(code: string, mount: string, options: Pick<BuildOptions, 'jsx' | 'tsconfigRaw'> & { loader: 'ts' | 'tsx' }): Promise<string> {
  const aliases = browserAliases(repoDir)
  const { loader, ...rest } = options
  const result = await build({
    stdin: { contents: `${code}\n${mount}`, resolveDir: repoDir, loader, sourcefile: `app.${loader}` },
    bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent', ...rest,
    alias: { ...aliases.alias, 'iotpubsub/react': join(repoDir, 'lib/react/index.ts') },
    define: { ...aliases.define, 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  })
  return result.outputFiles[0]?.text ?? ''
}

/**
 * Serves `script` as a page, opens it, and checks the kitchen widget: `ready` (a status, say) first, then the
 * device's temperature shown, then the button's QoS 1 publish received by the device and shown. No page error
 * and no console error on the way.
 */
export async function driveKitchen(browser: Browser, script: string, device: MQTTClient, topic: string, name: string, ready?: (page: Page) => Promise<void>): Promise<void> {
  const pages = await servePages([{ path: '/', script }])
  const context = await browser.newContext()
  const problems: string[] = []
  const consoleLines: string[] = []
  try {
    const page = await context.newPage()
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    // The test server has no favicon, which the browser asks for on its own: not the app's doing.
    page.on('console', (m) => void (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && problems.push(`console: ${m.text()} (${m.location().url})`)))
    page.on('console', (m) => void (consoleLines.length < 50 && consoleLines.push(`${m.type()}: ${m.text()}`)))
    await page.goto(`${pages.origin}/`)
    await ready?.(page)
    const shown = async (): Promise<string> => (await page.locator('p').first().textContent({ timeout: 1_000 }).catch(() => null)) ?? ''
    // Published until it shows: the page's SUBSCRIBE may still be on its way.
    await waitFor(async () => {
      await device.publish(topic, JSON.stringify({ celsius: 19.5 }), { qos: 1 })
      return (await shown()).includes('19.5')
    }, `${name} showing the device's temperature`, 15_000)

    const seen = new Promise<string>((resolve) => {
      const sub = device.observe(topic, { codec: 'text' }).subscribe((m) => {
        if (!m.payload.includes('21.5')) return
        sub.unsubscribe()
        resolve(m.payload)
      })
    })
    await firstValueFrom(device.subscriptions$.pipe(first((list) => list.some((s) => s.filter === topic && s.grantedQos !== undefined)), timeout(10_000)))
    await page.getByRole('button', { name: 'Publish' }).click()
    expect(JSON.parse(await seen)).toEqual({ celsius: 21.5 })
    await waitFor(async () => (await shown()).includes('21.5'), `${name} showing its own publish`, 10_000)
    expect(problems).toEqual([])
  } catch (error) {
    // What the page said is the first thing to read when an app does not do what its guide says.
    throw new Error(`${(error as Error).message}\n${problems.join('\n')}\npage console:\n${consoleLines.join('\n')}`, { cause: error })
  } finally {
    await context.close()
    await pages.close()
  }
}
