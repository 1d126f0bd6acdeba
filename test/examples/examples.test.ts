// Every folder of examples/ as a user gets it: copied out of the repository, `npm install` of its own
// package.json with the SDK from one `npm pack` of this repository (and the other dependencies at the
// versions the repository has installed, from the npm cache), then run against a private Mosquitto: the Node
// examples as processes that must print what their README says, the browser ones built with their own
// `vite build` and opened in Chromium.
import { readFileSync } from 'node:fs'
import { cp, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix } from '../support/wait.js'
import { allStarted, pack, type Packed, repoDir, run, runOk, serveStatic } from '../package/package-kit.js'
import { start, stopAll, tsc, userEnv, type Script } from '../readme/readme-kit.js'

const examplesDir = join(repoDir, 'examples')
const EXAMPLES = ['01-node-telemetry', '02-vite-dashboard', '03-react-dashboard', '04-request-response', '05-manual-acks', '06-shared-tabs']

/** The version of a package the repository has installed (read from its folder: some hide package.json from require). */
/** A topic root of one level for this test: the examples build topics with `topic(root, ...)`, one level each. */
const rootFor = (name: string): string => uniquePrefix(name).replaceAll('/', '-')

const installed = (name: string): string => (JSON.parse(readFileSync(join(repoDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version

describe.skipIf(noMosquitto() || noChromium())('examples/', () => {
  let packed: Packed
  let broker: Mosquitto
  let browser: Browser
  const dirs = new Map<string, string>()
  const typeErrors = new Map<string, string>()
  const builds = new Map<string, { url: string; close(): Promise<void> }>()
  const scripts: Script[] = []

  /** Runs a script of an example as its README does (`node file.js`), with the test's broker and settings. */
  const node = (example: string, file: string, env: Record<string, string>): Script => {
    const script = start(process.execPath, [file], { cwd: dirs.get(example)!, env: userEnv({ MQTT_URL: broker.tcpUrl, ...env }) })
    scripts.push(script)
    return script
  }

  beforeAll(async () => {
    await allStarted([
      pack().then((p) => (packed = p)),
      // The burst of 05 is larger than the kit's default queue of 1,000 messages per client.
      Mosquitto.start({ persistence: false, extra: ['log_type all', 'max_queued_messages 100000'] }).then((b) => (broker = b)),
      launchChromium().then((b) => (browser = b)),
    ])
    // Two installs at a time: npm is mostly waiting on the cache and the disk.
    const queue = [...EXAMPLES]
    const install = async (): Promise<void> => {
      for (let example = queue.shift(); example; example = queue.shift()) {
        const dir = join(packed.dir, example)
        await cp(join(examplesDir, example), dir, { recursive: true, filter: (src) => !/node_modules|dist$/.test(src) })
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }
        const others = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) => name !== 'iotpubsub')
        await runOk('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel', 'error', packed.tarball, ...others.map((name) => `${name}@${installed(name)}`)], { cwd: dir, timeoutMs: 180_000 })
        dirs.set(example, dir)
        if (manifest.devDependencies?.vite) {
          // Vite does not type-check: the example's own tsconfig, strict, against the packed .d.ts files.
          typeErrors.set(example, (await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeoutMs: 120_000 })).stdout)
          await runOk('npm', ['run', 'build', '--silent'], { cwd: dir, timeoutMs: 120_000 })
          builds.set(example, await serveStatic(join(dir, 'dist')))
        }
      }
    }
    await allStarted([install(), install()])
  }, 400_000)

  afterAll(async () => {
    stopAll()
    await browser?.close()
    for (const server of builds.values()) await server.close()
    await broker?.stop()
    await packed?.dispose()
  })

  it('has a README and a package.json that installs the published package, in every example', async () => {
    const folders = (await readdir(examplesDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()
    expect(folders).toEqual(EXAMPLES)
    for (const example of EXAMPLES) {
      const manifest = JSON.parse(readFileSync(join(examplesDir, example, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; type: string }
      expect(manifest.dependencies.iotpubsub, example).toBe(`^${packed.manifest.version as string}`)
      expect(manifest.type).toBe('module')
      expect(readFileSync(join(examplesDir, example, 'README.md'), 'utf8')).toMatch(/^# \d\d · /)
    }
  })

  it('type-checks the TypeScript examples against the published types', () => {
    expect([...typeErrors.keys()].sort()).toEqual(['02-vite-dashboard', '03-react-dashboard', '06-shared-tabs'])
    for (const [example, output] of typeErrors) expect(output, example).toBe('')
  })

  it('01-node-telemetry: the monitor sees every device, its readings and its sign-off', async () => {
    const root = rootFor('ex01')
    const monitor = node('01-node-telemetry', 'monitor.js', { TOPIC_ROOT: root, REPORT_MS: '200' })
    await monitor.line(/^connected to /)
    const devices = node('01-node-telemetry', 'devices.js', { TOPIC_ROOT: root, DEVICES: '2', COUNT: '3', INTERVAL_MS: '20' })
    expect(await devices.exit(20_000)).toBe(0)
    expect(devices.stdout.sort()).toEqual(['d1: sent 3 readings', 'd2: sent 3 readings'])
    await monitor.line(/^d1: 3 readings, mean \d+\.\d °C$/)
    await monitor.line(/^d2: 3 readings, mean \d+\.\d °C$/)
    await monitor.line(/^d1 online$/)
    await monitor.line(/^d2 offline$/)
    monitor.child.kill('SIGTERM')
    expect(await monitor.exit()).toBe(0)
    expect(monitor.stdout.at(-1)).toBe('closed')
    expect(monitor.stderr).toEqual([])
  })

  it('04-request-response: the requester gets a reply, a refusal, and five concurrent replies', async () => {
    const root = rootFor('ex04')
    const responder = node('04-request-response', 'responder.js', { TOPIC_ROOT: root })
    await responder.line(/^serving /)
    const requester = node('04-request-response', 'requester.js', { TOPIC_ROOT: root })
    expect(await requester.exit(20_000)).toBe(0)
    expect(requester.stdout).toEqual(['d1 reboots in 5 s', 'd1 refused: RangeError: delay too long: 90 s (at most 60)', 'answered in order: 1, 2, 3, 4, 5'])
    expect(requester.stderr).toEqual([])
    responder.child.kill('SIGTERM')
    expect(await responder.exit()).toBe(0)
  })

  it('05-manual-acks: a slow consumer handles a burst larger than its window, in order, and stops', async () => {
    const root = rootFor('ex05')
    const consumer = node('05-manual-acks', 'consumer.js', { TOPIC_ROOT: root, EXPECT: '2000', WORK_MS: '1' })
    await consumer.line(/^ready: /)
    const burst = node('05-manual-acks', 'burst.js', { TOPIC_ROOT: root, COUNT: '2000' })
    expect(await burst.exit(30_000)).toBe(0)
    expect(burst.stdout).toEqual([expect.stringMatching(/^published 2000 jobs in \d+ ms$/)])
    // The consumer ends its client once it has handled them all, and the process exits by itself.
    expect(await consumer.exit(60_000)).toBe(0)
    expect(consumer.stdout.filter((l) => l.startsWith('handled '))).toHaveLength(4)
    expect(consumer.stdout.at(-1)).toBe('done: 2000 jobs, in order')
    expect(consumer.stderr).toEqual([])
  })

  describe('the browser examples', () => {
    let observer: MQTTClient

    beforeAll(() => {
      observer = connect(broker.tcpUrl, { clientId: `examples-observer-${process.pid}` })
    })
    afterAll(async () => {
      await observer?.end()
    })

    /** Opens a built example with the test's broker and topic root, failing on any page error. */
    const open = async (example: string, root: string, pageOf: Browser | { newPage(): Promise<Page> } = browser): Promise<{ page: Page; errors: string[] }> => {
      const page = await pageOf.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text())
      })
      await page.goto(`${builds.get(example)!.url}/?broker=${encodeURIComponent(broker.wsUrl)}&root=${encodeURIComponent(root)}`)
      return { page, errors }
    }

    for (const example of ['02-vite-dashboard', '03-react-dashboard']) {
      it(`${example}: shows each device's stored status and live reading, and publishes the command`, async () => {
        const root = rootFor(`ex${example.slice(0, 2)}`)
        await observer.publish(`${root}/d1/online`, true, { qos: 1, retain: true })
        const commands = next(observer.observe<{ command: string }>(`${root}/all/cmd`, { qos: 1, codec: 'json' }), 'the command', undefined, 60_000)
        await next(observer.subscriptions$, 'the SUBACK', (subs) => subs.some((s) => s.filter === `${root}/all/cmd` && s.grantedQos !== undefined))
        const { page, errors } = await open(example, root)
        try {
          const device = example === '02-vite-dashboard' ? page.locator('tr[data-device="d1"]') : page.locator('li[data-device="d1"]')
          await device.getByText('online', { exact: true }).waitFor({ timeout: 15_000 })
          await observer.publish(`${root}/d1/telemetry`, { celsius: 21.54, at: Date.now() }, { qos: 1 })
          await device.getByText('21.5 °C').waitFor({ timeout: 15_000 })
          await page.getByRole('button').click()
          expect((await commands).payload).toEqual({ command: 'identify' })
          expect(errors).toEqual([])
        } finally {
          await page.close()
        }
        await observer.publish(`${root}/d1/online`, new Uint8Array(0), { qos: 1, retain: true })
      })
    }

    it('06-shared-tabs: two tabs share one broker connection, and both get a message published from either', async () => {
      const root = rootFor('ex06')
      const context = await browser.newContext()
      try {
        const first = await open('06-shared-tabs', root, context)
        await first.page.locator('#role').getByText('holds the connection').waitFor({ timeout: 15_000 })
        const second = await open('06-shared-tabs', root, context)
        await second.page.locator('#status').getByText('connected').waitFor({ timeout: 15_000 })
        expect(await second.page.locator('#role').innerText()).toBe("uses another tab's connection")
        await second.page.getByRole('button').click()
        for (const tab of [first, second]) await tab.page.locator('#feed li').getByText(/^message 1 from tab \w+$/).waitFor({ timeout: 15_000 })
        // One CONNECT at the broker for the tabs' client id.
        const log = readFileSync(broker.logFile, 'utf8')
        expect(log.split('\n').filter((l) => l.includes(` as ${root}-dashboard (`))).toHaveLength(1)
        expect([...first.errors, ...second.errors]).toEqual([])
      } finally {
        await context.close()
      }
    })
  })
})
