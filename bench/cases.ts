/**
 * The cases of issues 6, 14 and 15. Each runs the SDK and raw MQTT.js in the same run, interleaved (the order
 * alternates per repetition), every trial in fresh processes, and returns table rows plus its samples. The SDK
 * runs on each of its links: 'sdk' is the SDK on MQTT.js (`link: 'mqttjs'`: rows marked `mqttjs`, the budgets
 * of issues 6 and 14), 'lean' the SDK on its own MQTT (`link: 'lean'`: rows marked `lean`, issue 15's budgets
 * on the drains and the publisher; its other rows are for information). A repetition runs sdk, raw, lean and
 * the next one lean, raw, sdk, so each SDK trial is paired with the raw trial run right next to it.
 *
 * Two kinds of measurement:
 * - live (tcp-*, filters-*, ws-publish, latency-1000): publisher, broker and subscriber all running; the
 *   figure is end-to-end throughput, where the publisher and the broker are the limit (issue 6).
 * - subscriber- or publisher-limited (drain-*, publish-*, broker-routing, heap, latency-10000,
 *   profile-drain): the one process measured is the limit and times its own CPU per message (issue 14).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Mosquitto } from '../test/support/mosquitto.js'
import { MAX_BURST, median, orderFor, percentile, repoRoot, scaled, startDefaultBroker, type BenchConfig } from './harness.js'
import { packageShares, readProfile, SDK_AREAS, type PackageShares } from './profile.js'
import { isSdk, type Impl } from './protocol.js'
import { bindingsFlood } from './flood/case.js'
import { outboxCase } from './outbox.js'
import { measureSize } from './size.js'
import { BurstPublisher, drainTrial, heapTrial, publishTrial, trial, type DrainTrialResult, type TrialResult } from './trial.js'

export interface Row {
  case: string
  /** Which SDK link the SDK column is: 'mqttjs' (the SDK on MQTT.js) or 'lean' (its own MQTT); none for a row that is no link's. */
  link?: 'mqttjs' | 'lean'
  measure: string
  sdk: number
  raw: number | undefined
  /** SDK / raw, or what the budget is stated on. */
  ratio: number | undefined
  /** Formatting of sdk/raw: 'int', 'us', 'bytes', 'ratio', 'us1'. */
  unit: 'int' | 'us' | 'bytes' | 'ratio' | 'us1' | 'ms'
  budget: string | undefined
  pass: boolean | undefined
  /** Min and max over the repetitions, shown after the median (the noise seen). */
  sdkRange?: [number, number]
  rawRange?: [number, number]
  /** Min and max of the per-repetition paired SDK/raw ratios, when `ratio` is their median. */
  ratioRange?: [number, number]
  /** A reference figure that is neither client's (the broker's own cost): shown in the SDK column, marked. */
  reference?: boolean
}

export interface CaseResult {
  id: string
  title: string
  params: Record<string, unknown>
  rows: Row[]
  samples: Record<string, unknown>
  /** The 1-minute load average before and after the case (set by run.ts). */
  loadAverage?: [number, number]
}

export interface CaseContext {
  broker: Mosquitto
  config: BenchConfig
  log: (line: string) => void
}

export interface BenchCase {
  id: string
  run(context: CaseContext): Promise<CaseResult>
}

/** The SDK on either link. */
type SdkImpl = Exclude<Impl, 'raw'>

/** The link a row of `impl` is marked with. */
const linkOf = (impl: SdkImpl): 'mqttjs' | 'lean' => (impl === 'sdk' ? 'mqttjs' : 'lean')

/** The SDK implementations this run compares with raw MQTT.js (config.impls without raw). */
const sdkImpls = (config: BenchConfig): SdkImpl[] => config.impls.filter(isSdk)

const noResults = <T>(): Record<Impl, T[]> => ({ sdk: [], raw: [], lean: [] })

/**
 * SDK/raw budgets on CPU per message: issue 14's for the SDK on MQTT.js (≤ 1.05, drains and publisher),
 * issue 15's for the lean link (≤ 0.7 on the subscriber's drain, ≤ 0.8 on the publisher).
 */
const DRAIN_BUDGET: Record<SdkImpl, number> = { sdk: 1.05, lean: 0.7 }
const PUBLISH_BUDGET: Record<SdkImpl, number> = { sdk: 1.05, lean: 0.8 }

function summary(results: TrialResult[]): Record<string, unknown> {
  return {
    rates: results.map((r) => Math.round(r.rate)),
    received: results.map((r) => r.received),
    expected: results[0]?.expected,
    subCpuMicrosPerMessage: results.map((r) => round(r.subCpuPerMessage, 3)),
    pubRates: results.map((r) => Math.round(r.pubRate)),
  }
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits))

/** Repetitions with the subscriber as the variable: each SDK link's and a raw subscriber, raw publisher. */
async function subscriberPairs(context: CaseContext, label: string, options: { qos: 0 | 1; filters: number; count: number; protocolVersion?: 4 | 5; exact?: boolean }): Promise<Record<Impl, TrialResult[]>> {
  const results = noResults<TrialResult>()
  for (let rep = 0; rep < context.config.reps; rep++) {
    for (const impl of orderFor(rep, context.config.impls)) {
      const result = await trial(context.broker, context.config, { ...options, sub: impl, pub: 'raw', label })
      results[impl].push(result)
      const lost = result.expected - result.received
      context.log(`  ${label} rep ${rep + 1} ${impl}: ${Math.round(result.rate)} msg/s, sub CPU ${result.subCpuPerMessage.toFixed(2)} µs/msg${lost ? `, ${lost} lost` : ''}`)
    }
  }
  return results
}

/**
 * SDK/raw as the median of per-repetition ratios: each SDK trial is paired with the raw trial of the same
 * repetition (run back to back), so load that drifts during a run cancels out of each pair.
 */
export function pairedRatio(sdk: readonly number[], raw: readonly number[]): number {
  return median(sdk.map((s, i) => s / (raw[i] ?? Number.NaN)).filter((r) => Number.isFinite(r)))
}

/**
 * Rows for a throughput case: msg/s with a budget, subscriber CPU per message for information. SDK/raw is
 * the ratio of the medians (what the table shows); the JSON also keeps the per-repetition paired ratio
 * and the best trial of each (interference on a shared machine only ever slows a trial down).
 */
function throughputRows(id: string, results: Record<Impl, TrialResult[]>, budget: number, impl: SdkImpl): Row[] {
  const rates = { sdk: results[impl].map((r) => r.rate), raw: results.raw.map((r) => r.rate) }
  const cpu = { sdk: results[impl].map((r) => r.subCpuPerMessage), raw: results.raw.map((r) => r.subCpuPerMessage) }
  const ratio = median(rates.sdk) / median(rates.raw)
  const lost = [...results[impl], ...results.raw].some((r) => r.received < r.expected)
  // Issue 6's budget is on the SDK on MQTT.js; the lean link's live rows are for information.
  const budgeted = impl === 'sdk'
  const link = linkOf(impl)
  return [
    { case: id, link, measure: `msg/s received${lost ? ' (messages lost!)' : ''}`, sdk: median(rates.sdk), raw: median(rates.raw), ratio, unit: 'int', budget: budgeted ? `≥ ${budget}` : undefined, pass: budgeted ? !lost && ratio >= budget : undefined },
    // Interference only ever adds CPU per message (cache thrash, smaller reads), so the least-disturbed
    // trial is the steadiest estimate of what each costs; the medians are in the JSON.
    { case: id, link, measure: 'subscriber CPU µs/msg, best trial', sdk: Math.min(...cpu.sdk), raw: Math.min(...cpu.raw), ratio: Math.min(...cpu.sdk) / Math.min(...cpu.raw), unit: 'us1', budget: undefined, pass: undefined },
  ]
}

/** What the JSON keeps besides the rows: every sample, paired ratios, best trials (of `impl` against raw). */
function throughputExtras(results: Record<Impl, TrialResult[]>, impl: SdkImpl): Record<string, unknown> {
  const rates = { sdk: results[impl].map((r) => r.rate), raw: results.raw.map((r) => r.rate) }
  return {
    pairedRatio: round(pairedRatio(rates.sdk, rates.raw), 3),
    bestRatio: round(Math.max(...rates.sdk) / Math.max(...rates.raw), 3),
    best: { [impl]: Math.round(Math.max(...rates.sdk)), raw: Math.round(Math.max(...rates.raw)) },
    medianSubCpuMicrosPerMessage: {
      [impl]: round(median(results[impl].map((r) => r.subCpuPerMessage)), 3),
      raw: round(median(results.raw.map((r) => r.subCpuPerMessage)), 3),
    },
  }
}

function subscriberCase(id: string, title: string, options: { qos: 0 | 1; filters: number; count: number; protocolVersion?: 4 | 5; exact?: boolean }, budget: number): BenchCase {
  return {
    id,
    async run(context) {
      const count = scaled(context.config, options.count)
      const results = await subscriberPairs(context, id, { ...options, count })
      return {
        id,
        title,
        params: { ...options, count, payloadBytes: 100, protocolVersion: options.protocolVersion ?? 5, reps: context.config.reps },
        rows: sdkImpls(context.config).flatMap((impl) => throughputRows(id, results, budget, impl)),
        samples: {
          sdk: summary(results.sdk),
          raw: summary(results.raw),
          lean: summary(results.lean),
          // The SDK on MQTT.js against raw at the top level (as before the lean link), the lean link's beside it.
          ...(results.sdk.length ? throughputExtras(results, 'sdk') : {}),
          ...(results.lean.length ? { leanVsRaw: throughputExtras(results, 'lean') } : {}),
        },
      }
    },
  }
}

const wsPublish: BenchCase = {
  id: 'ws-publish',
  async run(context) {
    const count = scaled(context.config, 100_000)
    const combos = context.config.impls.flatMap((impl) => (['ws', 'tcp'] as const).map((transport) => [impl, transport] as const))
    const results: Record<string, TrialResult[]> = Object.fromEntries(combos.map(([impl, transport]) => [`${impl}-${transport}`, []]))
    for (let rep = 0; rep < context.config.reps; rep++) {
      // Rotate the order so no combination always runs first or last.
      const order = combos.map((_, i) => combos[(i + rep) % combos.length] as (typeof combos)[number])
      for (const [impl, transport] of order) {
        const result = await trial(context.broker, context.config, { sub: 'raw', pub: impl, pubTransport: transport, qos: 0, filters: 1, exact: true, count, label: `ws-publish-${impl}-${transport}` })
        results[`${impl}-${transport}`]?.push(result)
        context.log(`  ws-publish rep ${rep + 1} ${impl} over ${transport}: ${Math.round(result.rate)} msg/s received, publisher ${Math.round(result.pubRate)} msg/s`)
      }
    }
    const rates = (key: string): number[] => (results[key] ?? []).map((r) => r.rate)
    const rate = (key: string): number => median(rates(key))
    const rawWs = rate('raw-ws')
    const rawTcp = rate('raw-tcp')
    const rawWsTcp = rawWs / rawTcp
    const rows = sdkImpls(context.config).flatMap((impl): Row[] => {
      const link = linkOf(impl)
      const ws = rate(`${impl}-ws`)
      const tcp = rate(`${impl}-tcp`)
      // Issue 6's budget is on the SDK on MQTT.js; the lean link's figures are for information.
      const budgeted = impl === 'sdk'
      return [
        { case: 'ws-publish', link, measure: 'msg/s, publisher on ws://', sdk: ws, raw: rawWs, ratio: ws / rawWs, unit: 'int', budget: undefined, pass: undefined },
        { case: 'ws-publish', link, measure: 'msg/s, publisher on tcp', sdk: tcp, raw: rawTcp, ratio: tcp / rawTcp, unit: 'int', budget: undefined, pass: undefined },
        { case: 'ws-publish', link, measure: 'ws / tcp (each its own)', sdk: ws / tcp, raw: rawWsTcp, ratio: undefined, unit: 'ratio', budget: budgeted ? 'SDK ≥ 0.6' : undefined, pass: budgeted ? ws / tcp >= 0.6 : undefined },
      ]
    })
    return {
      id: 'ws-publish',
      title: 'Node publishing over ws:// vs tcp (QoS 0, 100 B); received by a raw MQTT.js TCP subscriber',
      params: { count, payloadBytes: 100, qos: 0, window: 500, reps: context.config.reps },
      rows,
      samples: {
        ...Object.fromEntries(Object.entries(results).map(([key, list]) => [key, summary(list)])),
        pairedWsTcp: Object.fromEntries(context.config.impls.map((impl) => [impl, round(pairedRatio(rates(`${impl}-ws`), rates(`${impl}-tcp`)), 3)])),
      },
    }
  },
}

/** Issue 14's budget: what one idle observed filter may cost the app's heap, at 10,000 of them. */
const HEAP_BUDGET_BYTES = 300

const heap: BenchCase = {
  id: 'heap-10000',
  async run(context) {
    const count = 10_000
    // Issue 14's case, on each link the run has ('sdk': MQTT.js, 'lean': the SDK's own).
    const impls = context.config.impls
    const results: Record<Impl, number[]> = { sdk: [], lean: [], raw: [] }
    for (let rep = 0; rep < context.config.reps; rep++) {
      for (const impl of orderFor(rep, impls)) {
        const result = await heapTrial(context.broker, impl, count)
        results[impl].push(result.bytesPerFilter)
        context.log(`  heap rep ${rep + 1} ${impl}: ${Math.round(result.bytesPerFilter)} B per filter (${Math.round(result.before / 1024)} → ${Math.round(result.after / 1024)} KiB)`)
      }
    }
    const raw = median(results.raw)
    return {
      id: 'heap-10000',
      title: '10,000 idle observed filters (an observer each, confirmed by the broker): heapUsed after gc() per filter (node --expose-gc, fresh process); raw MQTT.js: the same subscriptions by client.subscribe, batches of 100',
      params: { count, reps: context.config.reps },
      rows: sdkImpls(context.config).map((impl): Row => {
        const sdk = median(results[impl])
        return {
          case: 'heap-10000',
          link: linkOf(impl),
          measure: 'heap B per idle observed filter',
          sdk,
          raw,
          ratio: sdk / raw,
          unit: 'bytes',
          budget: `SDK ≤ ${HEAP_BUDGET_BYTES} B`,
          pass: sdk <= HEAP_BUDGET_BYTES,
          sdkRange: range(results[impl]),
          rawRange: range(results.raw),
        }
      }),
      samples: Object.fromEntries(impls.map((impl) => [impl, results[impl].map((n) => Math.round(n))])),
    }
  },
}

/**
 * Issue 14's budget: 100,000 observed filters, all confirmed in no more than raw MQTT.js's time (MQTT 5; raw
 * MQTT.js subscribes them in batches of 100 per SUBSCRIBE). Exact filters, as device topics are: the SDK shares
 * a subscription identifier, and so packets, between filters without wildcards; a wildcard filter still has an
 * identifier, and a packet, of its own (the second row).
 */
const flood: BenchCase = {
  id: 'subscribe-100000',
  async run(context) {
    const count = scaled(context.config, 100_000, 2_000)
    const impls = context.config.impls
    const shapes = [
      { exact: true, measure: `ms until ${count.toLocaleString('en-US')} exact filters are confirmed (MQTT 5)` },
      { exact: false, measure: `ms until ${count.toLocaleString('en-US')} wildcard filters (<i>/+) are confirmed (MQTT 5)` },
    ]
    const rows: Row[] = []
    const samples: Record<string, number[]> = {}
    for (const shape of shapes) {
      const results: Record<Impl, number[]> = { sdk: [], lean: [], raw: [] }
      for (let rep = 0; rep < context.config.reps; rep++) {
        for (const impl of orderFor(rep, impls)) {
          const result = await heapTrial(context.broker, impl, count, shape.exact)
          results[impl].push(result.confirmMs)
          context.log(`  flood rep ${rep + 1} ${impl} ${shape.exact ? 'exact' : 'wildcard'}: ${Math.round(result.confirmMs)} ms`)
        }
      }
      const raw = median(results.raw)
      for (const impl of sdkImpls(context.config)) {
        const sdk = median(results[impl])
        rows.push({
          case: 'subscribe-100000',
          link: linkOf(impl),
          measure: shape.measure,
          sdk,
          raw,
          ratio: sdk / raw,
          unit: 'ms',
          budget: shape.exact ? 'SDK ≤ raw' : undefined,
          pass: shape.exact ? sdk <= raw : undefined,
          sdkRange: range(results[impl]),
          rawRange: range(results.raw),
        })
        samples[`${impl}-${shape.exact ? 'exact' : 'wildcard'}`] = results[impl].map((n) => Math.round(n))
      }
      samples[`raw-${shape.exact ? 'exact' : 'wildcard'}`] = results.raw.map((n) => Math.round(n))
    }
    return {
      id: 'subscribe-100000',
      title: `${count.toLocaleString('en-US')} filters observed in one loop, each with an observer, until a sentinel observed after them all answers (fresh process, after a warm-up); raw MQTT.js: client.subscribe in batches of 100`,
      params: { count, reps: context.config.reps },
      rows,
      samples,
    }
  },
}

const latency: BenchCase = {
  id: 'latency-1000',
  async run(context) {
    const count = scaled(context.config, 5_000, 300)
    const results = noResults<{ p50: number; p99: number; max: number }>()
    for (let rep = 0; rep < context.config.reps; rep++) {
      for (const impl of orderFor(rep, context.config.impls)) {
        const result = await trial(context.broker, context.config, { sub: impl, pub: 'raw', qos: 0, filters: 1, exact: true, count, rate: 1_000, label: 'latency' })
        const samples = result.latenciesMicros ?? []
        const stats = { p50: percentile(samples, 50), p99: percentile(samples, 99), max: percentile(samples, 100) }
        results[impl].push(stats)
        context.log(`  latency rep ${rep + 1} ${impl}: p50 ${stats.p50.toFixed(0)} µs, p99 ${stats.p99.toFixed(0)} µs, max ${stats.max.toFixed(0)} µs`)
      }
    }
    const pick = (impl: Impl, key: 'p50' | 'p99'): number => median(results[impl].map((r) => r[key]))
    // The budget is on the gap of the medians; the JSON also keeps the per-repetition (paired) gaps.
    const p99Gap = (impl: SdkImpl): number => pick(impl, 'p99') - pick('raw', 'p99')
    const pairedGaps = (impl: SdkImpl): number[] => results[impl].map((r, i) => Math.round(r.p99 - (results.raw[i]?.p99 ?? Number.NaN)))
    const impls = sdkImpls(context.config)
    const rows = impls.flatMap((impl): Row[] => {
      const link = linkOf(impl)
      // Issue 6's budget is on the SDK on MQTT.js; the lean link's gap is for information.
      const budgeted = impl === 'sdk'
      return [
        { case: 'latency-1000', link, measure: 'p50 µs', sdk: pick(impl, 'p50'), raw: pick('raw', 'p50'), ratio: pick(impl, 'p50') / pick('raw', 'p50'), unit: 'us', budget: undefined, pass: undefined },
        { case: 'latency-1000', link, measure: 'p99 µs', sdk: pick(impl, 'p99'), raw: pick('raw', 'p99'), ratio: pick(impl, 'p99') / pick('raw', 'p99'), unit: 'us', budget: undefined, pass: undefined },
        { case: 'latency-1000', link, measure: 'p99 gap µs (SDK − raw)', sdk: p99Gap(impl), raw: undefined, ratio: undefined, unit: 'us', budget: budgeted ? '≤ 2,000 µs' : undefined, pass: budgeted ? p99Gap(impl) <= 2_000 : undefined },
      ]
    })
    return {
      id: 'latency-1000',
      title: 'publish → observer latency at 1,000 msg/s (QoS 0, 100 B; raw MQTT.js publisher, SDK (either link) or raw subscriber)',
      params: { count, rate: 1_000, reps: context.config.reps },
      rows,
      samples: {
        ...results,
        ...(results.sdk.length ? { p99GapMicros: p99Gap('sdk'), pairedP99GapsMicros: pairedGaps('sdk') } : {}),
        ...(results.lean.length ? { leanP99GapMicros: p99Gap('lean'), leanPairedP99GapsMicros: pairedGaps('lean') } : {}),
      },
    }
  },
}

const size: BenchCase = {
  id: 'bundle-size',
  async run() {
    const result = await measureSize()
    return {
      id: 'bundle-size',
      title: "browser bundle, min+gzip (esbuild, and a fresh Vite app; lib/browser.ts): an app using connect, observe and publish, and the SDK's own code",
      params: { app: result.app.source, imports: result.imports },
      rows: [
        { case: 'bundle-size', measure: 'gzip B, connect/observe/publish app, total (rxjs and the link included)', sdk: result.app.total, raw: undefined, ratio: undefined, unit: 'bytes', budget: `≤ ${result.budgets.total.budget / 1024} KB`, pass: result.budgets.total.pass },
        { case: 'bundle-size', measure: 'gzip B, the same app as a fresh Vite app builds it, total', sdk: result.app.vite.total, raw: undefined, ratio: undefined, unit: 'bytes', budget: `≤ ${result.budgets.totalVite.budget / 1024} KB`, pass: result.budgets.totalVite.pass },
        { case: 'bundle-size', measure: "gzip B, connect/observe/publish app, SDK's own code", sdk: result.app.own, raw: undefined, ratio: undefined, unit: 'bytes', budget: `≤ ${result.budgets.own.budget / 1024} KB`, pass: result.budgets.own.pass },
        { case: 'bundle-size', measure: 'gzip B, whole-API app vs mqtt+rxjs app', sdk: result.sdkApp, raw: result.baseApp, ratio: undefined, unit: 'bytes', budget: undefined, pass: undefined },
        { case: 'bundle-size', measure: "gzip B, whole-API app, SDK's own code (difference)", sdk: result.sdkOwn, raw: undefined, ratio: undefined, unit: 'bytes', budget: undefined, pass: undefined },
        { case: 'bundle-size', measure: "gzip B, iotpubsub/shared's own code beyond the main entry", sdk: result.subpaths['iotpubsub/shared'].own, raw: undefined, ratio: undefined, unit: 'bytes', budget: undefined, pass: undefined },
      ],
      samples: { ...result },
    }
  },
}

// ----------------------------------------------------------------------------- subscriber-limited (drain)

const range = (values: readonly number[]): [number, number] => [Math.min(...values), Math.max(...values)]

/** Per-repetition SDK/raw ratios (repetition i of each ran back to back), the finite ones. */
function pairedRatios(sdk: readonly number[], raw: readonly number[]): number[] {
  return sdk.map((s, i) => s / (raw[i] ?? Number.NaN)).filter((r) => Number.isFinite(r))
}

/**
 * A row of a CPU-per-message comparison: medians with min–max over the repetitions, SDK/raw as the median
 * of the paired ratios with their spread, budget SDK/raw ≤ `budget` (fails when messages were lost too).
 */
function cpuRow(id: string, link: 'mqttjs' | 'lean', measure: string, sdk: number[], raw: number[], budget: number, lost: boolean): Row {
  const ratios = pairedRatios(sdk, raw)
  const ratio = median(ratios)
  return {
    case: id,
    link,
    measure: `${measure}${lost ? ' (messages lost!)' : ''}`,
    sdk: median(sdk),
    raw: median(raw),
    ratio,
    unit: 'us1',
    budget: `SDK/raw ≤ ${budget}`,
    pass: !lost && ratio <= budget,
    sdkRange: range(sdk),
    rawRange: range(raw),
    ratioRange: range(ratios),
  }
}

/** Broker CPU per message routed (burst + drain), by QoS, collected from the 1-filter drain trials. */
const brokerSamples: Record<0 | 1, { burst: number; drain: number }[]> = { 0: [], 1: [] }

function drainCase(qos: 0 | 1, filters: 1 | 100 | 10_000, codec: 'bytes' | 'json'): BenchCase {
  const id = `drain-qos${qos}-f${filters}-${codec}`
  return {
    id,
    async run(context) {
      // Counts that take about 0.3 s of subscriber CPU to drain; the burst must fit in the broker's queue.
      const count = Math.min(MAX_BURST, scaled(context.config, qos === 0 ? 100_000 : 50_000, 200))
      const results = noResults<DrainTrialResult>()
      const publisher = new BurstPublisher(context.broker, { qos, filters, count, label: id })
      try {
        for (let rep = 0; rep < context.config.reps; rep++) {
          for (const impl of orderFor(rep, context.config.impls)) {
            const r = await drainTrial(context.broker, { impl, qos, filters, codec, count, label: id }, publisher)
            results[impl].push(r)
            // The reference keeps its meaning of before the lean link: from the SDK-on-MQTT.js and raw trials.
            if (impl !== 'lean' && filters === 1 && codec === 'bytes' && r.brokerBurstCpuPerMessage !== undefined && r.brokerDrainCpuPerMessage !== undefined) {
              brokerSamples[qos].push({ burst: r.brokerBurstCpuPerMessage, drain: r.brokerDrainCpuPerMessage })
            }
            const lost = r.expected - r.received
            context.log(`  ${id} rep ${rep + 1} ${impl}: ${r.subCpuPerMessage.toFixed(2)} µs/msg, drained at ${Math.round(r.drainRate)} msg/s${lost ? `, ${lost} lost` : ''}`)
          }
        }
      } finally {
        await publisher.stop()
      }
      const cpu = (impl: Impl): number[] => results[impl].map((r) => r.subCpuPerMessage)
      const lost = (impl: SdkImpl): boolean => [...results[impl], ...results.raw].some((r) => r.received < r.expected)
      const perTrial = (list: DrainTrialResult[]): Record<string, unknown> => ({
        subCpuMicrosPerMessage: list.map((r) => round(r.subCpuPerMessage, 3)),
        drainRates: list.map((r) => Math.round(r.drainRate)),
        received: list.map((r) => r.received),
        brokerBurstCpuMicrosPerMessage: list.map((r) => r.brokerBurstCpuPerMessage),
        brokerDrainCpuMicrosPerMessage: list.map((r) => r.brokerDrainCpuPerMessage),
        burstRates: list.map((r) => Math.round(r.burstRate)),
      })
      return {
        id,
        title: `subscriber-limited drain: ${filters.toLocaleString('en-US')} observed filter(s) (bench/f/<i>/+), the burst matches one; QoS ${qos}, codec ${codec}, 100 B JSON payloads, MQTT 5`,
        params: { qos, filters, codec, count, payloadBytes: 100, protocolVersion: 5, reps: context.config.reps },
        rows: sdkImpls(context.config).map((impl) => cpuRow(id, linkOf(impl), 'subscriber CPU µs/msg, drain', cpu(impl), cpu('raw'), DRAIN_BUDGET[impl], lost(impl))),
        samples: {
          sdk: perTrial(results.sdk),
          raw: perTrial(results.raw),
          lean: perTrial(results.lean),
          pairedRatios: pairedRatios(cpu('sdk'), cpu('raw')).map((r) => round(r, 3)),
          leanPairedRatios: pairedRatios(cpu('lean'), cpu('raw')).map((r) => round(r, 3)),
        },
      }
    },
  }
}

/** The physical limit: what Mosquitto spends routing one message to one subscriber, measured in the drains. */
const brokerRouting: BenchCase = {
  id: 'broker-routing',
  async run(context) {
    // Run on its own (--only=broker): collect the samples with raw MQTT.js subscribers here.
    for (const qos of [0, 1] as const) {
      if (brokerSamples[qos].length > 0) continue
      const count = scaled(context.config, qos === 0 ? 100_000 : 50_000, 200)
      for (let rep = 0; rep < context.config.reps; rep++) {
        const r = await drainTrial(context.broker, { impl: 'raw', qos, filters: 1, codec: 'bytes', count, label: `broker-qos${qos}` })
        if (r.brokerBurstCpuPerMessage !== undefined && r.brokerDrainCpuPerMessage !== undefined) brokerSamples[qos].push({ burst: r.brokerBurstCpuPerMessage, drain: r.brokerDrainCpuPerMessage })
      }
    }
    const rows: Row[] = []
    for (const qos of [0, 1] as const) {
      const totals = brokerSamples[qos].map((s) => s.burst + s.drain)
      if (totals.length === 0) throw new Error('no broker CPU figures: /proc/<pid>/stat is not readable here (Linux only)')
      rows.push({
        case: 'broker-routing',
        measure: `Mosquitto CPU µs/msg routed, QoS ${qos} (reference: the limit)`,
        sdk: median(totals),
        raw: undefined,
        ratio: undefined,
        unit: 'us1',
        budget: undefined,
        pass: undefined,
        sdkRange: range(totals),
        reference: true,
      })
    }
    return {
      id: 'broker-routing',
      title: "the broker's own cost per message (one publisher, one subscriber, 1 filter, 100 B): its CPU from /proc/<pid>/stat over the burst (receive, route, queue) plus the drain (send), per message; from the drain-*-f1-bytes trials",
      params: { from: 'drain-qos0-f1-bytes, drain-qos1-f1-bytes trials (both clients)', clockTickMicros: 'one tick (10 ms) over the burst' },
      rows,
      samples: { qos0: brokerSamples[0], qos1: brokerSamples[1] },
    }
  },
}

// ------------------------------------------------------------------------------------- publisher-limited

/**
 * The publisher's CPU per message: `windowed` keeps 500 publishes unsettled (the publisher never waits for
 * a backlog); `batched` publishes 1,000 at a time and awaits each batch whole, as apps do, so whatever a link
 * settles before it is written piles up in memory and shows in the RSS row.
 */
function publishCase(qos: 0 | 1, mode: 'windowed' | 'batched' = 'windowed'): BenchCase {
  const batch = mode === 'batched' ? 1_000 : undefined
  const id = batch ? `publish-batch-qos${qos}` : `publish-qos${qos}`
  return {
    id,
    async run(context) {
      // At least 10 windows of 500, so the warm-up (skip) and the measured part are both past a window.
      const count = scaled(context.config, qos === 0 ? 100_000 : 50_000, 5_000)
      const results = noResults<number>()
      const rates = noResults<number>()
      const atSettle = noResults<number>()
      const broker: number[] = []
      const rss = noResults<number>()
      for (let rep = 0; rep < context.config.reps; rep++) {
        for (const impl of orderFor(rep, context.config.impls)) {
          const r = await publishTrial(context.broker, { impl, qos, count, label: id, ...(batch ? { batch } : {}) })
          rss[impl].push(r.rssPeak)
          results[impl].push(r.pubCpuPerMessage)
          atSettle[impl].push(r.pubCpuPerMessageAtSettle)
          rates[impl].push(r.pubRate)
          if (r.brokerCpuPerMessage !== undefined) broker.push(r.brokerCpuPerMessage)
          context.log(`  ${id} rep ${rep + 1} ${impl}: ${r.pubCpuPerMessage.toFixed(2)} µs/msg to the fence's PUBACK (${r.pubCpuPerMessageAtSettle.toFixed(2)} to the last settle), ${Math.round(r.pubRate)} msg/s, RSS peak ${Math.round(r.rssPeak / 2 ** 20)} MiB`)
        }
      }
      return {
        id,
        title: `publisher-limited: SDK publish() (either link) vs raw client.publish over TCP, QoS ${qos}, 100 B, ${batch ? `in awaited batches of ${batch}` : '500 unsettled at most'}, to a topic nobody subscribes to; CPU from the warm-up to the PUBACK of a QoS 1 fence after the burst (every byte written)`,
        params: { qos, count, payloadBytes: 100, ...(batch ? { batch } : { window: 500 }), protocolVersion: 5, reps: context.config.reps },
        rows: sdkImpls(context.config).flatMap((impl) => [
          cpuRow(id, linkOf(impl), 'publisher CPU µs/msg over TCP', results[impl], results.raw, PUBLISH_BUDGET[impl], false),
          { case: id, link: linkOf(impl), measure: 'publisher msg/s', sdk: median(rates[impl]), raw: median(rates.raw), ratio: median(rates[impl]) / median(rates.raw), unit: 'int' as const, budget: undefined, pass: undefined },
          { case: id, link: linkOf(impl), measure: 'publisher RSS peak, MiB', sdk: median(rss[impl]) / 2 ** 20, raw: median(rss.raw) / 2 ** 20, ratio: median(rss[impl]) / median(rss.raw), unit: 'int' as const, budget: undefined, pass: undefined },
        ]),
        samples: {
          sdkCpuMicrosPerMessage: results.sdk.map((n) => round(n, 3)),
          rawCpuMicrosPerMessage: results.raw.map((n) => round(n, 3)),
          leanCpuMicrosPerMessage: results.lean.map((n) => round(n, 3)),
          sdkRates: rates.sdk.map(Math.round),
          rawRates: rates.raw.map(Math.round),
          leanRates: rates.lean.map(Math.round),
          brokerCpuMicrosPerMessageReceived: broker,
          pairedRatios: pairedRatios(results.sdk, results.raw).map((r) => round(r, 3)),
          leanPairedRatios: pairedRatios(results.lean, results.raw).map((r) => round(r, 3)),
          // CPU to the last settled publish only: what the rows measured before the fence was counted (the
          // lean link settles a QoS 0 publish before writing it, so for it this leaves out its writes).
          atLastSettleCpuMicrosPerMessage: Object.fromEntries(context.config.impls.map((impl) => [impl, atSettle[impl].map((n) => round(n, 3))])),
          atLastSettlePairedRatios: Object.fromEntries(sdkImpls(context.config).map((impl) => [impl, pairedRatios(atSettle[impl], atSettle.raw).map((r) => round(r, 3))])),
        },
      }
    },
  }
}

// ------------------------------------------------------------------------------------ latency by default

const latencyDefaults: BenchCase = {
  id: 'latency-10000',
  async run(context) {
    const rate = 10_000
    const count = scaled(context.config, 30_000, 500)
    // The shipped conf as it is (its queue limits, no set_tcp_nodelay unless it has it), on its own broker.
    const broker = await startDefaultBroker()
    const results = noResults<{ p50: number; p99: number; max: number }>()
    try {
      for (let rep = 0; rep < context.config.reps; rep++) {
        for (const impl of orderFor(rep, context.config.impls)) {
          // Publisher and subscriber are the same client, each with its defaults: what an app gets.
          const result = await trial(broker, context.config, { sub: impl, pub: impl, qos: 0, filters: 1, exact: true, count, rate, defaults: true, label: 'latency-default' })
          const samples = result.latenciesMicros ?? []
          const stats = { p50: percentile(samples, 50), p99: percentile(samples, 99), max: percentile(samples, 100) }
          results[impl].push(stats)
          context.log(`  latency-10000 rep ${rep + 1} ${impl}: p50 ${stats.p50.toFixed(0)} µs, p99 ${stats.p99.toFixed(0)} µs, max ${stats.max.toFixed(0)} µs${result.received < result.expected ? `, ${result.expected - result.received} lost` : ''}`)
        }
      }
    } finally {
      await broker.dispose()
    }
    const values = (impl: Impl, key: 'p50' | 'p99'): number[] => results[impl].map((r) => r[key])
    // Issue 14's budget is on the SDK on MQTT.js (Node's default link); the lean link's rows are for information.
    const row = (impl: SdkImpl, key: 'p50' | 'p99', budget: boolean): Row => ({
      case: 'latency-10000',
      link: linkOf(impl),
      measure: `${key} µs, defaults${impl === 'lean' ? " (and link: 'lean')" : ''}`,
      sdk: median(values(impl, key)),
      raw: median(values('raw', key)),
      ratio: median(values(impl, key)) / median(values('raw', key)),
      unit: 'us',
      budget: budget ? 'SDK ≤ 2,000 µs' : undefined,
      pass: budget ? median(values(impl, key)) <= 2_000 : undefined,
      sdkRange: range(values(impl, key)),
      rawRange: range(values('raw', key)),
    })
    return {
      id: 'latency-10000',
      title: 'publish → observer latency at a paced 10,000 msg/s (QoS 0, 100 B), every default: the SDK or MQTT.js as publisher and subscriber with only a client id (the lean link: a client id and link: \'lean\'), the shipped mosquitto/mosquitto.conf',
      params: { count, rate, reps: context.config.reps, conf: 'mosquitto/mosquitto.conf', options: 'client id only', confSetsTcpNoDelay: /^\s*set_tcp_nodelay\s+true/m.test(await readFile(join(repoRoot, 'mosquitto', 'mosquitto.conf'), 'utf8')) },
      rows: sdkImpls(context.config).flatMap((impl) => [row(impl, 'p50', impl === 'sdk'), row(impl, 'p99', false)]),
      samples: results,
    }
  },
}

// ------------------------------------------------------------------------------------- where the cost goes

const PROFILE_PACKAGES = [...SDK_AREAS, 'rxjs', 'mqtt', 'mqtt-packet', 'bl', 'debug', 'readable-stream', 'other packages', 'node internals', 'V8 builtins / native', 'GC', 'V8 (program)', 'bench harness']

/**
 * One profiled drain per implementation (QoS 0, bytes, 1 and 10,000 filters): the V8 sampling profiler
 * in the subscriber over its drain, self time booked by package (the SDK's own code by folder: lib/wire,
 * lib/link, lib/transport, the rest of lib/), then converted to µs per message with that trial's own CPU per
 * message (the profiler's overhead is in both). The SDK − raw difference per package is where the SDK's extra
 * cost goes; for the lean link, how its MQTT (lib/wire, lib/link, lib/transport) compares with RxJS and the
 * rest of the SDK.
 */
const profileDrain: BenchCase = {
  id: 'profile-drain',
  async run(context) {
    const keep = context.config.profile
    const dir = keep ? join(repoRoot, 'bench-results', 'profiles') : await mkdtemp(join(tmpdir(), 'iotpubsub-profile-'))
    // Packages are booked by sample, so even the quick smoke run drains enough messages for a few hundred
    // samples: 1,000 messages gave 30 to 70, and a package with a tenth of the time once went unsampled.
    const count = scaled(context.config, 100_000, 20_000)
    const rows: Row[] = []
    const samples: Record<string, { cpuMicrosPerMessage: number; shares: PackageShares }> = {}
    try {
      for (const filters of [1, 10_000] as const) {
        const perImpl: Partial<Record<Impl, { cpu: number; shares: PackageShares }>> = {}
        for (const impl of context.config.impls) {
          const file = join(dir, `profile-drain-f${filters}-${impl}-${Date.now()}.cpuprofile`)
          const r = await drainTrial(context.broker, { impl, qos: 0, filters, codec: 'bytes', count, label: `profile-f${filters}`, profileFile: file })
          // The profile is written before the result is sent, so it is complete here.
          const shares = packageShares(await readProfile(file))
          perImpl[impl] = { cpu: r.subCpuPerMessage, shares }
          samples[`f${filters}-${impl}`] = { cpuMicrosPerMessage: round(r.subCpuPerMessage, 3), shares }
          const top = Object.entries(shares.shares)
            .slice(0, 6)
            .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`)
            .join(', ')
          context.log(`  profile ${filters} filter(s) ${impl}: ${r.subCpuPerMessage.toFixed(2)} µs/msg (${shares.busySamples} samples): ${top}; under lib/ ${(shares.underSdk * 100).toFixed(0)}%`)
          if (isSdk(impl) && shares.topSdkFunctions.length) {
            const functions = shares.topSdkFunctions
              .slice(0, 5)
              .map((f) => `${f.name} ${(f.share * r.subCpuPerMessage).toFixed(2)} µs`)
              .join(', ')
            context.log(`    top lib/ functions (self): ${functions}`)
          }
        }
        const raw = perImpl.raw
        if (!raw) continue
        const id = `profile-drain-f${filters}`
        for (const impl of sdkImpls(context.config)) {
          const sdk = perImpl[impl]
          if (!sdk) continue
          const link = linkOf(impl)
          rows.push({ case: id, link, measure: 'µs/msg profiled (all)', sdk: sdk.cpu, raw: raw.cpu, ratio: sdk.cpu / raw.cpu, unit: 'us1', budget: undefined, pass: undefined })
          // The SDK's code with everything it calls (RxJS, message objects, GC it triggers is not in it).
          rows.push({ case: id, link, measure: '  under iotpubsub lib/ frames (inclusive)', sdk: sdk.shares.underSdk * sdk.cpu, raw: 0, ratio: undefined, unit: 'us1', budget: undefined, pass: undefined })
          rows.push({ case: id, link, measure: '  in iotpubsub lib/ (self, all folders)', sdk: sdk.shares.sdkSelf * sdk.cpu, raw: 0, ratio: undefined, unit: 'us1', budget: undefined, pass: undefined })
          for (const pkg of PROFILE_PACKAGES) {
            const s = (sdk.shares.shares[pkg] ?? 0) * sdk.cpu
            const r = (raw.shares.shares[pkg] ?? 0) * raw.cpu
            if (s < 0.005 && r < 0.005) continue
            rows.push({ case: id, link, measure: `  in ${pkg}`, sdk: s, raw: r, ratio: undefined, unit: 'us1', budget: undefined, pass: undefined })
          }
        }
      }
    } finally {
      if (!keep) await rm(dir, { recursive: true, force: true })
    }
    return {
      id: 'profile-drain',
      title: "where the subscriber's drain CPU goes: one profiled drain per client (QoS 0, bytes, 1 and 10,000 filters), self time by package (the SDK's by folder) (samples, 100 µs interval) × that trial's CPU per message",
      params: { count, qos: 0, codec: 'bytes', samplingIntervalMicros: 100, kept: keep ? dir : undefined },
      rows,
      samples,
    }
  },
}

export const CASES: BenchCase[] = [
  subscriberCase('tcp-qos0', 'TCP, QoS 0, 100 B, one observer (raw MQTT.js publisher)', { qos: 0, filters: 1, count: 200_000, exact: true }, 0.95),
  subscriberCase('tcp-qos1', 'TCP, QoS 1, 100 B, one observer (raw MQTT.js publisher)', { qos: 1, filters: 1, count: 50_000, exact: true }, 0.95),
  subscriberCase('filters-1', '1 observed filter (bench/f/0/+), messages match it (QoS 0)', { qos: 0, filters: 1, count: 100_000 }, 0.95),
  subscriberCase('filters-100', '100 observed filters (bench/f/<i>/+), messages match one (QoS 0); raw MQTT.js holds the same 100 broker subscriptions and one counting handler', { qos: 0, filters: 100, count: 100_000 }, 0.95),
  subscriberCase('filters-10000', '10,000 observed filters, messages match one (QoS 0)', { qos: 0, filters: 10_000, count: 100_000 }, 0.95),
  subscriberCase('filters-10000-mqtt311', '10,000 observed filters over MQTT 3.1.1 (no subscription identifiers: the topic trie routes)', { qos: 0, filters: 10_000, count: 100_000, protocolVersion: 4 }, 0.95),
  wsPublish,
  latency,
  ...([0, 1] as const).flatMap((qos) => ([1, 100, 10_000] as const).flatMap((filters) => (['bytes', 'json'] as const).map((codec) => drainCase(qos, filters, codec)))),
  brokerRouting,
  publishCase(0),
  publishCase(1),
  publishCase(0, 'batched'),
  publishCase(1, 'batched'),
  heap,
  flood,
  latencyDefaults,
  profileDrain,
  bindingsFlood,
  outboxCase,
  size,
]
