// The packed package's `iotpubsub/react` and `iotpubsub/vue` in a fresh Vite React app and a fresh Vite Vue
// app: each is the create-vite template's files (index.html, vite.config.ts with the framework's plugin and
// nothing else), its source the printed example (the README's React quick start `dashboards:react`; the
// `dashboards:vue` and `dashboards:vue-main` blocks of docs/start/vue.md) with only the broker URL, the client id and the topics moved to this test's private
// Mosquitto and prefix. `npm install` of the tarball and the framework from the npm cache, `vite build`, then
// the built page runs in Chromium over ws://: it must render the retained value, then live ones, with no page
// error, and subscribe once per filter. Each app is also type-checked, strict, against the shipped declarations
// (tsc for React; vue-tsc for Vue, the single-file component included).
import { linkUnderTest } from '../support/link-under-test.js'
import { readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix } from '../support/wait.js'
import { block } from '../readme/readme-kit.js'
import { packetsIn } from '../bindings/broker-log.js'
import { allStarted, freshProject, listFiles, pack, type Packed, repoDir, run, runOk, serveStatic } from './package-kit.js'

interface App {
  readonly name: 'react' | 'vue'
  readonly dir: string
  readonly prefix: string
  readonly clientId: string
  build: { stdout: string; stderr: string }
  server?: { url: string; close(): Promise<void> }
}

/**
 * The version the repository has installed, read from its node_modules directly (package-kit's repoVersion
 * goes through require, which a package whose `exports` hide its package.json refuses: @vitejs/plugin-react).
 */
const installed = (name: string): string => `${name}@${(JSON.parse(readFileSync(join(repoDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version}`

/** A printed example with the broker, client id and topics of this test. */
function moved(code: string, app: { prefix: string; clientId: string }, broker: Mosquitto): string {
  for (const literal of ["'ws://localhost:9001'", "'dash-1'"]) expect(code).toContain(literal)
  // The client id, and the link this vitest project runs the suites over.
  return code.replace("'ws://localhost:9001'", JSON.stringify(broker.wsUrl)).replace("'dash-1'", `${JSON.stringify(app.clientId)}, link: ${JSON.stringify(linkUnderTest())}`)
}

describe.skipIf(noMosquitto() || noChromium())('iotpubsub/react and iotpubsub/vue in fresh Vite apps', () => {
  let packed: Packed
  let broker: Mosquitto
  let browser: Browser
  const apps: App[] = []
  const app = (name: App['name']) => apps.find((a) => a.name === name)!

  beforeAll(async () => {
    // Assigned one by one and all settled, so that afterAll cleans up whatever started if one failed.
    await allStarted([
      pack().then((p) => (packed = p)),
      Mosquitto.start({ persistence: false, extra: ['log_type all'] }).then((b) => (broker = b)),
      launchChromium().then((b) => (browser = b)),
    ])
    const common = [packed.tarball, installed('rxjs'), installed('vite')]
    const react: App = { name: 'react', dir: join(packed.dir, 'vite-react-app'), prefix: uniquePrefix('frameworks-react'), clientId: `frameworks-react-${process.pid}`, build: { stdout: '', stderr: '' } }
    const vue: App = { name: 'vue', dir: join(packed.dir, 'vite-vue-app'), prefix: uniquePrefix('frameworks-vue'), clientId: `frameworks-vue-${process.pid}`, build: { stdout: '', stderr: '' } }
    apps.push(react, vue)
    await allStarted([
      freshProject(react.dir, {
        fixtures: ['vite-react-app'],
        packages: [
          ...common,
          ...['react', 'react-dom', '@vitejs/plugin-react', 'typescript', '@types/react', '@types/react-dom'].map(installed),
        ],
      }),
      freshProject(vue.dir, { fixtures: ['vite-vue-app'], packages: [...common, ...['vue', '@vitejs/plugin-vue', 'typescript', 'vue-tsc'].map(installed)] }),
    ])
    await mkdir(join(react.dir, 'src'))
    await writeFile(join(react.dir, 'src/main.tsx'), moved(block('dashboards:react').code, react, broker).replaceAll("'rooms/kitchen/", `'${react.prefix}/`))
    await mkdir(join(vue.dir, 'src'))
    await writeFile(join(vue.dir, 'src/Room.vue'), block('dashboards:vue', 'docs/start/vue.md').code)
    await writeFile(join(vue.dir, 'src/main.ts'), moved(block('dashboards:vue-main', 'docs/start/vue.md').code, vue, broker).replace("room: 'kitchen'", `room: ${JSON.stringify(vue.prefix)}`))
    // Each app's own vite, from its own folder.
    await allStarted(
      apps.map(async (a) => {
        a.build = await runOk('node', [join(a.dir, 'node_modules/vite/bin/vite.js'), 'build'], { cwd: a.dir })
        a.server = await serveStatic(join(a.dir, 'dist'))
      }),
    )
  }, 240_000)

  afterAll(async () => {
    for (const a of apps) await a.server?.close()
    await browser?.close()
    await broker?.dispose()
    await packed?.dispose()
  })

  it('are fresh apps: the template’s files and the printed source, one plugin, no other configuration', async () => {
    const own = async (dir: string) => (await listFiles(dir)).filter((f) => !/^(node_modules|dist)\//.test(f) && f !== 'package-lock.json')
    expect(await own(app('react').dir)).toEqual(['index.html', 'package.json', 'src/main.tsx', 'tsconfig.json', 'vite.config.ts'])
    expect(await own(app('vue').dir)).toEqual(['index.html', 'package.json', 'src/Room.vue', 'src/main.ts', 'tsconfig.json', 'vite.config.ts'])
    for (const a of apps) {
      const config = await readFile(join(a.dir, 'vite.config.ts'), 'utf8')
      // create-vite's config, word for word: the framework's plugin and nothing else.
      expect(config).toBe(
        `import { defineConfig } from 'vite'\nimport ${a.name} from '@vitejs/plugin-${a.name}'\n\n// https://vite.dev/config/\nexport default defineConfig({\n  plugins: [${a.name}()],\n})\n`,
      )
      // Vite's note on chunks over 500 kB is about the app (React DOM and MQTT.js make a big one), not a problem.
      const output = (a.build.stdout + a.build.stderr).replace(/\(!\) Some chunks are larger than 500 kB[\s\S]*?chunkSizeWarningLimit\./, '')
      expect(output).not.toMatch(/externalized for browser compatibility|\[plugin|warning|error/i)
      // The other framework is not even installed, yet the app builds: neither the main entry nor this
      // subpath imports it (the optional peer dependency stays optional).
      const installed = await readdir(join(a.dir, 'node_modules'))
      expect(installed.includes('react')).toBe(a.name === 'react')
      expect(installed.includes('vue')).toBe(a.name === 'vue')
    }
  })

  it('type-checks the React example against the shipped declarations (strict, skipLibCheck off)', async () => {
    const dir = app('react').dir
    const result = await run('node', [join(dir, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--traceResolution'], { cwd: dir, timeoutMs: 90_000 })
    expect(result.stdout.split('\n').filter((line) => /error TS\d+/.test(line))).toEqual([])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/Module name 'iotpubsub\/react' was successfully resolved to '[^']*node_modules\/iotpubsub\/dist\/react\/index\.d\.ts'/)
  }, 90_000)

  it('type-checks the Vue example, its single-file component included, against the shipped declarations (vue-tsc, strict)', async () => {
    const dir = app('vue').dir
    const result = await run('node', [join(dir, 'node_modules/vue-tsc/bin/vue-tsc.js'), '-p', 'tsconfig.json', '--listFiles'], { cwd: dir, timeoutMs: 90_000 })
    expect(result.stdout.split('\n').filter((line) => /error TS\d+/.test(line))).toEqual([])
    expect(result.code).toBe(0)
    // The component itself is in the program, and the subpath's declarations are the shipped ones.
    const files = result.stdout.split('\n')
    expect(files.some((file) => file.endsWith('/src/Room.vue'))).toBe(true)
    expect(files.some((file) => file.endsWith('/node_modules/iotpubsub/dist/vue/index.d.ts'))).toBe(true)
  }, 90_000)

  /** Opens the app, publishing what `drive` publishes; resolves with the page's problems once `done` holds. */
  async function runApp(a: App, drive: (page: Page) => Promise<void>): Promise<string[]> {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console.${message.type()}: ${message.text()}`)
    })
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`))
    try {
      await page.goto(a.server!.url)
      await drive(page)
      return problems
    } finally {
      await page.close()
    }
  }

  const text = (page: Page, selector: string, expected: string, problems: () => string) =>
    page.waitForFunction(([s, e]) => document.querySelector(s!)?.textContent === e, [selector, expected], { timeout: 15_000 }).catch((error: Error) => {
      throw new Error(`${selector} never read ${JSON.stringify(expected)}: ${error.message}\n${problems()}`)
    })

  for (const name of ['react', 'vue'] as const) {
    it(`the ${name} app renders the retained value, then live ones, in Chromium over ws://, subscribing once per filter`, async () => {
      const a = app(name)
      const room = name === 'react' ? a.prefix : `rooms/${a.prefix}`
      const topics = { temp: `${room}/temp`, events: `${room}/events` }
      const publisher = connect(broker.tcpUrl, { clientId: `${a.clientId}-publisher` })
      try {
        await publisher.publish(topics.temp, { celsius: 21.5 }, { qos: 1, retain: true })
        const seen: string[] = []
        const problems = await runApp(a, async (page) => {
          const why = () => seen.join('\n')
          page.on('pageerror', (e) => seen.push(e.message))
          await text(page, 'p', '21.5 °C', why)
          await text(page, 'h2', name === 'react' ? 'Kitchen (connected)' : `${a.prefix} (connected)`, why)
          await broker.waitForSubscription(a.clientId, topics.events)
          for (let i = 1; i <= 7; i++) await publisher.publish(topics.events, `e${i}`, { qos: 1 })
          await publisher.publish(topics.temp, { celsius: 22 }, { qos: 1 })
          await text(page, 'p', '22 °C', why)
          await text(page, 'ul', 'e3e4e5e6e7', why)
        })
        expect(problems).toEqual([])
        const packets = packetsIn(await broker.log(), a.clientId)
        expect(packets.subscribes.flat().sort()).toEqual([topics.events, topics.temp].sort())
        expect(packets.unsubscribes).toEqual([])
      } finally {
        await publisher.end()
      }
    }, 45_000)
  }
})
