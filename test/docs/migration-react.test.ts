// The mqtt-react-hooks migration guide's two versions of the same app, run as written: each block bundled as
// a React app bundles it (esbuild, React's production build, `iotpubsub` and `iotpubsub/react` being the
// repository's browser entries), opened in Chromium against a private Mosquitto that stands in for the guide's
// `ws://localhost:9001`. Each must show the connection, the temperature a device publishes, and publish when
// its button is clicked.
import { join } from 'node:path'
import { build } from 'esbuild'
import { first, firstValueFrom, timeout } from 'rxjs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { browserAliases } from '../support/link-under-test.js'
import { Mosquitto } from '../support/mosquitto.js'
import { servePages } from '../support/page-server.js'
import { uniquePrefix, waitFor } from '../support/wait.js'
import { repoDir } from '../readme/readme-kit.js'
import { blocks } from './docs-kit.js'

const PAGE = 'migrate/mqtt-react-hooks.md'
const GUIDE_URL = 'ws://localhost:9001'
const GUIDE_TOPIC = 'rooms/kitchen/temp'
/** Renders the block's `App`, as the app's entry would. */
const MOUNT = "\nimport { createRoot as __createRoot } from 'react-dom/client'\nconst __root = document.createElement('div')\ndocument.body.append(__root)\n__createRoot(__root).render(<App />)\n"

async function bundleBlock(code: string): Promise<string> {
  const aliases = browserAliases(repoDir)
  const result = await build({
    stdin: { contents: code + MOUNT, resolveDir: repoDir, loader: 'tsx', sourcefile: 'app.tsx' },
    bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent', jsx: 'automatic',
    alias: { ...aliases.alias, 'iotpubsub/react': join(repoDir, 'lib/react/index.ts') },
    define: { ...aliases.define, 'process.env.NODE_ENV': '"production"' },
  })
  return result.outputFiles[0]?.text ?? ''
}

describe.skipIf(noMosquitto() || noChromium())(`docs/${PAGE}: both versions of the app run`, () => {
  const versions = blocks(PAGE).filter((b) => b.lang === 'tsx')
  let broker: Mosquitto
  let browser: Browser
  let device: MQTTClient

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
    browser = await launchChromium()
    device = connect(broker.tcpUrl, { clientId: `migration-device-${process.pid}` })
  })

  afterAll(async () => {
    await device?.end()
    await browser?.close()
    await broker?.dispose()
  })

  it('has the two versions side by side, both on the guide broker URL and topic', () => {
    expect(versions).toHaveLength(2)
    for (const block of versions) {
      expect(block.code).toContain(GUIDE_URL)
      expect(block.code).toContain(GUIDE_TOPIC)
    }
  })

  for (const [index, name] of ['mqtt-react-hooks', 'iotpubsub'].entries()) {
    it(`${name}: shows the status and the kitchen's temperature, and its button publishes`, async () => {
      const block = versions[index]
      expect(block, `the ${name} block`).toBeDefined()
      // Each version on its own topic, as if each had a kitchen of its own.
      const topic = `${uniquePrefix('migration')}/kitchen/temp`
      const code = block!.code.replaceAll(GUIDE_URL, broker.wsUrl).replaceAll(GUIDE_TOPIC, topic)
      const pages = await servePages([{ path: '/', script: await bundleBlock(code) }])
      const context = await browser.newContext()
      const problems: string[] = []
      try {
        const page: Page = await context.newPage()
        page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
        // The test server has no favicon, which the browser asks for on its own: not the app's doing.
        page.on('console', (m) => void (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && problems.push(`console: ${m.text()} (${m.location().url})`)))
        await page.goto(`${pages.origin}/`)
        // The guide's status words: mqtt-react-hooks says "Connected", iotpubsub's Status says "connected".
        await page.getByRole('heading', { name: /Kitchen \((Connected|connected)\)/ }).waitFor({ timeout: 15_000 })

        // A device reports; the page shows it. Published until it shows: the page's SUBSCRIBE may still be on its way.
        await waitFor(async () => {
          await device.publish(topic, JSON.stringify({ celsius: 19.5 }), { qos: 1 })
          return (await page.locator('p').first().textContent())?.includes('19.5')
        }, `${name} showing the device's temperature`, 15_000)

        // The button publishes {"celsius":21.5} at QoS 1; the device side sees it, and so does the page.
        const seen = new Promise<string>((resolve) => {
          const sub = device.observe(topic, { codec: 'text' }).subscribe((m) => {
            if (m.payload.includes('21.5')) {
              sub.unsubscribe()
              resolve(m.payload)
            }
          })
        })
        await firstValueFrom(device.subscriptions$.pipe(first((list) => list.some((s) => s.filter === topic && s.grantedQos !== undefined)), timeout(10_000)))
        await page.getByRole('button', { name: 'Publish' }).click()
        expect(JSON.parse(await seen)).toEqual({ celsius: 21.5 })
        await waitFor(async () => (await page.locator('p').first().textContent())?.includes('21.5'), `${name} showing its own publish`, 10_000)
        expect(problems).toEqual([])
      } finally {
        await context.close()
        await pages.close()
      }
    }, 60_000)
  }
})
