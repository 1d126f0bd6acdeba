/**
 * The bindings under a flood (issue 25): a React page of 50 live widgets, each reading its own topic of
 * `<prefix>/<i>` (JSON payloads), in Chromium over ws:// to the bench's Mosquitto, while Node publishes a paced
 * 5,000 msg/s spread over the 50 topics. Three pages, each in a fresh tab per trial, the order rotated per
 * repetition: iotpubsub/react with the default `throttle: 'frame'`, iotpubsub/react with `throttle: false`
 * (every message renders), and mqtt-react-hooks 3.1.0 on MQTT.js. The page measures itself over the window:
 * animation frames per second, the longest gap between frames, React commits (a Profiler), and how many of
 * the messages published in the window its widgets showed.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import mqtt, { type MqttClient } from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../../test/support/chromium.js'
import { servePages } from '../../test/support/page-server.js'
import type { BenchCase, CaseContext, Row } from '../cases.js'
import { median, orderFor, repoRoot, uniqueId } from '../harness.js'
import type { FloodStats } from './page-kit.js'

const WIDGETS = 50
const RATE = 5_000
/** The measured window at scale 1; --quick (scale 0.01) keeps it to half a second. */
const WINDOW_MS = 10_000

type Variant = 'frame' | 'false' | 'mqtt-react-hooks'
const VARIANTS: readonly Variant[] = ['frame', 'mqtt-react-hooks', 'false']

/** One page's figures over one window, and what the publisher really sent in it. */
interface FloodTrial extends FloodStats {
  fps: number
  commitsPerSecond: number
  seenPerSecond: number
  published: number
  publishedPerSecond: number
}

/** The page bundled as an app ships it: minified, React's production build (its profiling variant, for the Profiler). */
async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [join(repoRoot, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    // The production build with onRender kept: react-dom/client's production build calls no Profiler callback.
    alias: { 'react-dom/client': 'react-dom/profiling' },
  })
  return result.outputFiles[0]?.text ?? ''
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function payload(seq: number): string {
  return JSON.stringify({ seq, value: 50 + 40 * Math.sin(seq / 10) })
}

/** Publishes seq 0 to every topic until every widget shows a message (subscriptions live, page rendered). */
async function prime(client: MqttClient, page: Page, prefix: string): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    for (let i = 0; i < WIDGETS; i++) client.publish(`${prefix}/${i}`, payload(0))
    await sleep(200)
    if (await page.evaluate(() => window.flood?.ready() ?? false)) return
    if (Date.now() > deadline) throw new Error('the flood page did not show a message in every widget within 20 s')
  }
}

/** RATE msg/s round-robin over the topics for `ms`, paced by the clock; returns how many were published. */
async function publishFor(client: MqttClient, prefix: string, ms: number): Promise<number> {
  const seqs = new Array<number>(WIDGETS).fill(0)
  const t0 = performance.now()
  let sent = 0
  for (;;) {
    const elapsed = performance.now() - t0
    // A late timer (a busy machine) still publishes everything due by the end of the window.
    const due = Math.floor((RATE * Math.min(elapsed, ms)) / 1000)
    for (; sent < due; sent++) {
      const i = sent % WIDGETS
      seqs[i] = (seqs[i] as number) + 1
      client.publish(`${prefix}/${i}`, payload(seqs[i] as number))
    }
    if (elapsed >= ms) return sent
    await sleep(4)
  }
}

async function trial(browser: Browser, origin: string, client: MqttClient, wsUrl: string, variant: Variant, windowMs: number): Promise<FloodTrial> {
  const prefix = uniqueId('flood')
  const path = variant === 'mqtt-react-hooks' ? '/mqtt-react-hooks' : '/iotpubsub'
  const query = new URLSearchParams({ url: wsUrl, prefix, widgets: String(WIDGETS), throttle: variant })
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  try {
    await page.goto(`${origin}${path}?${query.toString()}`)
    await prime(client, page, prefix)
    await page.evaluate(() => window.flood?.start())
    const published = await publishFor(client, prefix, windowMs)
    const stats = await page.evaluate(() => window.flood?.stop())
    if (!stats) throw new Error('the flood page has no window.flood')
    if (errors.length) throw new Error(`the ${variant} page failed: ${errors.join('; ')}`)
    const seconds = stats.ms / 1000
    return {
      ...stats,
      fps: stats.frames / seconds,
      commitsPerSecond: stats.commits / seconds,
      seenPerSecond: stats.seen / seconds,
      published,
      publishedPerSecond: published / (windowMs / 1000),
    }
  } finally {
    await page.close()
  }
}

const range = (values: readonly number[]): [number, number] => [Math.min(...values), Math.max(...values)]

export const bindingsFlood: BenchCase = {
  id: 'bindings-flood',
  async run(context: CaseContext) {
    const { config, broker, log } = context
    const windowMs = Math.max(500, Math.round(WINDOW_MS * config.scale))
    const [iotpubsubScript, hooksScript] = await Promise.all([bundle('bench/flood/iotpubsub-page.ts'), bundle('bench/flood/mqtt-react-hooks-page.ts')])
    const pages = await servePages([
      { path: '/iotpubsub', script: iotpubsubScript },
      { path: '/mqtt-react-hooks', script: hooksScript },
    ])
    const browser = await launchChromium()
    const chromiumVersion = browser.version()
    const publisher = mqtt.connect(broker.tcpUrl, { clientId: uniqueId('flood-pub') })
    const results: Record<Variant, FloodTrial[]> = { frame: [], false: [], 'mqtt-react-hooks': [] }
    try {
      await new Promise<void>((resolve, reject) => {
        publisher.once('connect', () => resolve())
        publisher.once('error', reject)
      })
      for (let rep = 0; rep < config.reps; rep++) {
        for (const variant of orderFor(rep, VARIANTS)) {
          const r = await trial(browser, pages.origin, publisher, broker.wsUrl, variant, windowMs)
          results[variant].push(r)
          log(`  bindings-flood rep ${rep + 1} ${variant}: ${r.fps.toFixed(1)} fps, longest gap ${Math.round(r.longestGapMs)} ms, ${Math.round(r.commitsPerSecond)} commits/s, ${Math.round(r.seenPerSecond)} of ${Math.round(r.publishedPerSecond)} msg/s shown`)
        }
      }
    } finally {
      await publisher.endAsync().catch(() => undefined)
      await browser.close()
      await pages.close()
    }

    const of = (variant: Variant, key: 'fps' | 'longestGapMs' | 'commitsPerSecond' | 'seenPerSecond'): number[] => results[variant].map((r) => r[key])
    const measures = [
      { key: 'fps', measure: 'frames/s', unit: 'int' },
      { key: 'longestGapMs', measure: 'longest frame gap', unit: 'ms' },
      { key: 'commitsPerSecond', measure: 'React commits/s', unit: 'int' },
      { key: 'seenPerSecond', measure: `messages shown/s (of ${RATE.toLocaleString('en-US')})`, unit: 'int' },
    ] as const
    // The SDK column is iotpubsub/react (its default link in a browser: lean), the raw column mqtt-react-hooks on
    // MQTT.js; one set of rows per throttle. Informational: the issue asks for the figures, not a budget.
    const rows = (['frame', 'false'] as const).flatMap((throttle) =>
      measures.map(({ key, measure, unit }): Row => {
        const sdk = of(throttle, key)
        const raw = of('mqtt-react-hooks', key)
        return {
          case: 'bindings-flood',
          link: 'lean',
          measure: `${measure}, throttle: ${throttle === 'frame' ? "'frame'" : 'false'} (raw: mqtt-react-hooks)`,
          sdk: median(sdk),
          raw: median(raw),
          ratio: median(sdk) / median(raw),
          unit,
          budget: undefined,
          pass: undefined,
          sdkRange: range(sdk),
          rawRange: range(raw),
        }
      }),
    )
    const hooksVersion = (JSON.parse(readFileSync(join(repoRoot, 'node_modules/mqtt-react-hooks/package.json'), 'utf8')) as { version: string }).version
    return {
      id: 'bindings-flood',
      title: `React page of ${WIDGETS} live widgets (a topic each, JSON) in headless Chromium over ws://, ${RATE.toLocaleString('en-US')} msg/s from Node (QoS 0) for ${windowMs / 1000} s: iotpubsub/react (throttle 'frame', and false) vs mqtt-react-hooks ${hooksVersion} on MQTT.js; measured in the page`,
      params: { widgets: WIDGETS, rate: RATE, windowMs, reps: config.reps, mqttReactHooks: hooksVersion, chromium: chromiumVersion, build: 'esbuild, minified, React production (profiling) build' },
      rows,
      samples: Object.fromEntries(VARIANTS.map((v) => [v, results[v].map((r) => ({ ...r, fps: Number(r.fps.toFixed(2)) }))])),
    }
  },
}
