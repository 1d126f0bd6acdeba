import { mkdtemp, rm } from 'node:fs/promises'
import { linkUnderTest } from '../support/link-under-test.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { build, preview, type PreviewServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBroker, type EmbeddedBroker } from '../../demo/broker.js'
import { startSimulator, type Simulator } from '../../demo/simulator.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { freePort } from '../support/ports.js'

const configFile = fileURLToPath(new URL('../../vite.config.ts', import.meta.url))

// `npm run build:demo` output, served as plain static files, pointed at a broker with `?url=`.
describe.skipIf(noChromium())('the static build of the demo', () => {
  let outDir: string
  let broker: EmbeddedBroker
  let simulator: Simulator
  let server: PreviewServer
  let browser: Browser

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'iotpubsub-demo-build-'))
    await build({ configFile, logLevel: 'silent', build: { outDir, emptyOutDir: true } })
    broker = await startBroker({ tcpPort: 0, wsPort: 0 })
    simulator = await startSimulator({ url: broker.tcpUrl })
    server = await preview({ configFile, logLevel: 'silent', build: { outDir }, preview: { port: await freePort(), strictPort: true, host: '127.0.0.1' } })
    browser = await launchChromium()
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await simulator?.stop()
    await broker?.close()
    if (outDir) await rm(outDir, { recursive: true, force: true })
  })

  it('runs from the built files with the broker given in the query string', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    const base = server.resolvedUrls?.local[0] as string
    await page.goto(`${base}?url=${encodeURIComponent(broker.wsUrl)}&link=${linkUnderTest()}`)
    await page.locator('#status-badge[data-status="connected"]').waitFor({ timeout: 15_000 })
    await page.locator('[data-device="kitchen"] .pill[data-state="online"]').waitFor({ timeout: 15_000 })
    expect(await page.inputValue('#conn-url')).toBe(broker.wsUrl)
    // The production bundle has no dev server behind it: /demo-config.json is absent and that is fine.
    expect(errors).toEqual([])
    await page.close()
  })
})
