/**
 * One bench process: a subscriber, a publisher or a heap probe: the SDK on its MQTT.js link ('sdk'), the SDK on
 * its lean link ('lean'), or raw MQTT.js. The
 * orchestrator (bench/run.ts) forks a fresh process for every trial, so no JIT or GC state carries over
 * from one implementation to the other, and talks to it over the IPC channel (see protocol.ts).
 *
 * Only ever connects to the broker URL it is given (127.0.0.1); every loop is bounded by a count.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { EventEmitter } from 'node:events'
import { mkdir, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { dirname } from 'node:path'
import type { MQTTClient } from '../lib/node.js'
import { isSdk, type HeapJob, type HeapResult, type Impl, type Job, type PubJob, type PubResult, type SubJob, type SubResult, type ToWorker } from './protocol.js'

// A publisher with a window of unsettled publishes waits on the stream's 'drain' once per publish.
EventEmitter.defaultMaxListeners = 10_000

const now = (): bigint => process.hrtime.bigint()

function send(message: unknown): void {
  process.send?.(message)
}

/** Messages from the orchestrator after the job itself ('go', 'finish'). */
function onCommand(handler: (command: ToWorker) => void): void {
  process.on('message', (message: ToWorker) => handler(message))
}

function nextCommand(type: ToWorker['type']): Promise<void> {
  return new Promise((resolve) => {
    const listener = (message: ToWorker): void => {
      if (message.type !== type) return
      process.off('message', listener)
      resolve()
    }
    process.on('message', listener)
  })
}

/** The next of these commands, by type. */
function nextCommandOf<T extends ToWorker['type']>(types: readonly T[]): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: ToWorker): void => {
      if (!(types as readonly string[]).includes(message.type)) return
      process.off('message', listener)
      resolve(message.type as T)
    }
    process.on('message', listener)
  })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Profiles the measured phase in-process (the inspector's sampling profiler), so start-up is left out. */
async function startProfile(file: string | undefined): Promise<() => Promise<void>> {
  if (!file) return async () => {}
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  return async () => {
    const { profile } = await session.post('Profiler.stop')
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, JSON.stringify(profile))
    session.disconnect()
  }
}

// ---------------------------------------------------------------------------------------------- clients

/** Options for a bench client: the bench's own (no reconnection, a fixed protocol), or only the id (`defaults`). */
interface ClientSpec {
  impl: Impl
  url: string
  clientId: string
  protocolVersion: 4 | 5 | undefined
  defaults?: boolean
}

async function sdkClient(spec: ClientSpec): Promise<MQTTClient> {
  // Loaded only by SDK processes: a raw MQTT.js process holds no SDK or RxJS code (nor its heap), as an app
  // on raw MQTT.js would not.
  const [{ connect }, { firstValueFrom, filter: where }] = await Promise.all([(import(process.env.IOTPUBSUB_BENCH_SDK ?? '../lib/node.js') as Promise<typeof import('../lib/node.js')>), import('rxjs')])
  // The link is always named ('sdk' is the MQTT.js link, Node's default), so IOTPUBSUB_LINK in the bench's
  // environment cannot turn one implementation into the other (the harness also removes it).
  const link = spec.impl === 'lean' ? 'lean' : 'mqttjs'
  const client = spec.defaults
    ? connect(spec.url, { clientId: spec.clientId, link })
    : connect(spec.url, { clientId: spec.clientId, link, reconnect: false, ...(spec.protocolVersion ? { protocolVersion: spec.protocolVersion } : {}) })
  const status = await firstValueFrom(client.status$.pipe(where((s) => s.type === 'connected' || s.type === 'closed')))
  if (status.type !== 'connected') throw new Error(`SDK client ${spec.clientId} did not connect: ${status.error?.message ?? 'closed'}`)
  return client
}

function rawClient(spec: ClientSpec): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    // MQTT.js defaults otherwise (reconnectPeriod 1000 keeps what a resubscription needs, as the SDK does).
    const client = spec.defaults
      ? mqtt.connect(spec.url, { clientId: spec.clientId })
      : mqtt.connect(spec.url, { clientId: spec.clientId, connectTimeout: 10_000, ...(spec.protocolVersion ? { protocolVersion: spec.protocolVersion } : {}) })
    client.once('connect', () => resolve(client))
    client.once('error', reject)
    client.once('close', () => reject(new Error(`raw client ${spec.clientId} closed before CONNACK`)))
  })
}

/** Filter i of a case with many filters: distinct at the third level, wildcard at the fourth. */
export function filterFor(prefix: string, i: number): string {
  return `${prefix}/${i}/+`
}

// ----------------------------------------------------------------------------------------- subscriber

/**
 * Subscribes (every filter of the job; messages only match one), proves the broker has processed every
 * SUBSCRIBE (a sentinel published to a filter subscribed after all of them comes back), reports ready,
 * then counts messages until `expected` arrived or the orchestrator says 'finish'.
 */
async function subscriber(job: SubJob): Promise<void> {
  const filters = Array.from({ length: job.filters }, (_, i) => (job.filters === 1 && job.exactTopic ? job.exactTopic : filterFor(job.prefix, i)))
  const expected = job.expected
  // Drain mode counts every message: the clock starts at ready (see SubJob.drain), not at message `skip`.
  const skip = job.drain ? 0 : job.skip
  const latencies = job.latency ? new Float64Array(expected) : undefined
  let count = 0
  let tSkip = 0n
  let tLast = 0n
  let cpuSkip: NodeJS.CpuUsage = { user: 0, system: 0 }
  let cpuLast: NodeJS.CpuUsage = { user: 0, system: 0 }
  let reported = false
  let stopProfile: () => Promise<void> = async () => {}
  // Keeps each decoded value reachable, so decoding is work an optimiser cannot drop.
  let sink: unknown

  const report = (): void => {
    if (reported) return
    reported = true
    const stopped = stopProfile()
    const result: SubResult = {
      type: 'result',
      received: count,
      expected,
      seconds: tLast > tSkip ? Number(tLast - tSkip) / 1e9 : 0,
      counted: Math.max(0, count - skip),
      cpuMicros: cpuLast.user + cpuLast.system - cpuSkip.user - cpuSkip.system,
    }
    if (latencies) result.latenciesMicros = Array.from(latencies.subarray(Math.min(skip, count), count))
    void stopped.then(() => send(result))
  }

  const onPayload = (raw: Uint8Array): void => {
    if (latencies && count < expected) {
      const sent = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigUint64(0)
      latencies[count] = Number(now() - sent) / 1_000
    }
    onValue(raw)
  }

  const onValue = (value: unknown): void => {
    sink = value
    count++
    if (count === 1 && job.drain) tSkip = now()
    if (count === skip) {
      tSkip = now()
      cpuSkip = process.cpuUsage()
    }
    if (count === expected) {
      tLast = now()
      cpuLast = process.cpuUsage()
      report()
    }
  }

  const sentinel = `bench/ready/${job.clientId}`
  let ready!: () => void
  const readyPromise = new Promise<void>((resolve) => (ready = resolve))
  let end: () => Promise<void>

  if (isSdk(job.impl)) {
    const client = await sdkClient(job)
    // What an app reads: the decoded payload (for 'bytes' the bytes as received).
    const subscriptions = filters.map((f) =>
      job.codec === 'json'
        ? client.observe(f, { qos: job.qos, codec: 'json' }).subscribe((m) => onValue(m.payload))
        : client.observe(f, { qos: job.qos }).subscribe((m) => onPayload(m.payload)),
    )
    const probe = client.observe(sentinel, { qos: 1 }).subscribe(() => ready())
    await untilReady(readyPromise, () => client.publish(sentinel, 'ready', { qos: 1 }))
    probe.unsubscribe()
    end = async () => {
      for (const s of subscriptions) s.unsubscribe()
      await client.end({ force: true })
    }
  } else {
    const client = await rawClient(job)
    // For 'json', what an app on raw MQTT.js writes to get the same value the SDK's json codec gives.
    const json = job.codec === 'json'
    client.on('message', (topic, payload) => {
      if (topic === sentinel) ready()
      else if (json) onValue(JSON.parse(payload.toString()))
      else onPayload(payload)
    })
    // The same broker subscriptions as the SDK holds, sent as batches of 100 filters per SUBSCRIBE.
    for (let i = 0; i < filters.length; i += 100) client.subscribe(filters.slice(i, i + 100), { qos: job.qos })
    client.subscribe(sentinel, { qos: 1 })
    await untilReady(readyPromise, () => client.publishAsync(sentinel, 'ready', { qos: 1 }))
    client.unsubscribe(sentinel)
    end = () => client.endAsync(true)
  }

  onCommand((command) => {
    if (command.type === 'finish') {
      if (count < expected) {
        tLast = now()
        cpuLast = process.cpuUsage()
      }
      report()
    } else if (command.type === 'exit') {
      void end().finally(() => process.exit(0))
    }
  })
  stopProfile = await startProfile(job.profileFile)
  if (job.drain) cpuSkip = process.cpuUsage()
  send({ type: 'ready' })
  // `sink` is only ever written on purpose; this one read keeps TypeScript from calling it unused.
  void sink
}

async function untilReady(ready: Promise<void>, publish: () => Promise<unknown>): Promise<void> {
  let done = false
  void ready.then(() => (done = true))
  for (let attempt = 0; attempt < 200 && !done; attempt++) {
    await publish()
    await Promise.race([ready, sleep(250)])
  }
  if (!done) throw new Error('the subscriptions were not confirmed by a sentinel message within 50 s')
}

// ------------------------------------------------------------------------------------------ publisher

/**
 * Publishes `count` messages of `size` bytes to `topic`: as fast as a window of `window` unsettled
 * publishes allows, or at `rate` messages per second with the send time (hrtime, ns) in the first 8 bytes.
 */
async function publisher(job: PubJob): Promise<void> {
  const payload = job.json ? jsonPayload(job.size) : Buffer.alloc(job.size, 0x61)
  let publishOne: (payload: Buffer, done: () => void) => void
  let fence: () => Promise<unknown>
  let end: () => Promise<void>
  const fenceTopic = `bench/fence/${job.clientId}`
  if (isSdk(job.impl)) {
    const client = await sdkClient(job)
    publishOne = (p, done) => void client.publish(job.topic, p, { qos: job.qos }).then(done, done)
    fence = () => client.publish(fenceTopic, 'fence', { qos: 1 })
    end = () => client.end({ force: true })
  } else {
    const client = await rawClient(job)
    publishOne = (p, done) => void client.publish(job.topic, p, { qos: job.qos }, done)
    fence = () => client.publishAsync(fenceTopic, 'fence', { qos: 1 })
    end = () => client.endAsync(true)
  }
  send({ type: 'ready' })
  // Asked to finish before every publish settled: say how far it got (a hang is a finding, not noise).
  onCommand((command) => {
    if (command.type === 'finish') send({ type: 'error', message: `publisher stuck: ${progress.sent} published, ${progress.settled} settled of ${job.count}` })
  })
  // One burst per 'go'; a `repeat` publisher (the drain cases' burst source, not itself measured) waits for
  // the next 'go' afterwards, so a case forks it once instead of once per trial.
  while ((await nextCommandOf(['go', 'exit'])) === 'go') {
    progress.sent = 0
    progress.settled = 0
    const stopProfile = await startProfile(job.profileFile)
    const skip = Math.min(job.skip ?? 0, job.count - 1)
    mark.cpu = process.cpuUsage()
    mark.t = now()
    mark.at = skip
    progress.rssPeak = process.memoryUsage.rss()
    if (job.rate) await paced(job, publishOne)
    else if (job.batch) await batched(job, payload, publishOne)
    else await windowed(job, payload, publishOne)
    const t1 = now()
    const cpu = process.cpuUsage(mark.cpu)
    // A settled publish is not necessarily written: the lean link settles a QoS 0 publish when it is queued
    // for the end of the turn, so its last writes (and the copy into one chunk) come after the last settle.
    // The fence's PUBACK comes after every byte before it left and reached the broker: CPU up to there is
    // the whole cost of getting the burst out, whatever a link counts as settled (plus one QoS 1 publish).
    if (job.fence) await fence()
    const cpuFenced = job.fence ? process.cpuUsage(mark.cpu) : cpu
    await stopProfile()
    const result: PubResult = {
      type: 'result',
      sent: job.count,
      measured: job.count - skip,
      seconds: Number(t1 - mark.t) / 1e9,
      cpuMicros: cpuFenced.user + cpuFenced.system,
      cpuMicrosAtSettle: cpu.user + cpu.system,
      rssPeak: Math.max(progress.rssPeak, process.memoryUsage.rss()),
    }
    send(result)
    if (!job.repeat) {
      await nextCommand('exit')
      break
    }
  }
  await end()
  process.exit(0)
}

/** A JSON document of exactly `size` bytes (at least 10), so a JSON codec has something to parse. */
function jsonPayload(size: number): Buffer {
  const head = '{"seq":1,"pad":"'
  const tail = '"}'
  return Buffer.from(`${head}${'a'.repeat(Math.max(0, size - head.length - tail.length))}${tail}`)
}

/** Where the publisher's clock starts: re-taken when the `at`-th publish settles (windowed mode). */
const mark: { cpu: NodeJS.CpuUsage; t: bigint; at: number } = { cpu: { user: 0, system: 0 }, t: 0n, at: 0 }

const progress = { sent: 0, settled: 0, rssPeak: 0 }

/** Counts a settled publish; the clock restarts at the `mark.at`-th. */
function settledOne(): void {
  progress.settled++
  if (progress.settled === mark.at) {
    mark.cpu = process.cpuUsage()
    mark.t = now()
  }
}

/** Batches of `job.batch` publishes, each batch awaited whole before the next is made (as apps publish). */
async function batched(job: PubJob, payload: Buffer, publishOne: (payload: Buffer, done: () => void) => void): Promise<void> {
  const size = job.batch ?? 1_000
  while (progress.sent < job.count) {
    const n = Math.min(size, job.count - progress.sent)
    await new Promise<void>((resolve) => {
      let left = n
      const done = (): void => {
        settledOne()
        if (--left === 0) resolve()
      }
      for (let i = 0; i < n; i++) {
        progress.sent++
        publishOne(payload, done)
      }
    })
    progress.rssPeak = Math.max(progress.rssPeak, process.memoryUsage.rss())
  }
}

function windowed(job: PubJob, payload: Buffer, publishOne: (payload: Buffer, done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    let outstanding = 0
    const done = (): void => {
      settledOne()
      outstanding--
      if (progress.settled === job.count) resolve()
      else pump()
    }
    let pumping = false
    const pump = (): void => {
      if (pumping) return
      pumping = true
      while (progress.sent < job.count && outstanding < job.window) {
        progress.sent++
        outstanding++
        publishOne(payload, done)
      }
      pumping = false
    }
    pump()
  })
}

async function paced(job: PubJob, publishOne: (payload: Buffer, done: () => void) => void): Promise<void> {
  const rate = job.rate ?? 1_000
  const start = performance.now()
  const settled = (): void => {
    progress.settled++
  }
  while (progress.sent < job.count) {
    const due = Math.min(job.count, Math.floor(((performance.now() - start) * rate) / 1_000) + 1)
    while (progress.sent < due) {
      const payload = Buffer.alloc(job.size, 0x61)
      payload.writeBigUInt64BE(now(), 0)
      publishOne(payload, settled)
      progress.sent++
    }
    const nextDue = start + (progress.sent * 1_000) / rate
    await sleep(Math.max(0, nextDue - performance.now()))
  }
}

// --------------------------------------------------------------------------------------------- heap

/** Filters observed and released before the measurement, so that the code the JIT compiles meanwhile is not counted. */
const HEAP_WARMUP = 1_000

/**
 * Heap per active observed filter: connected client, filter strings allocated, a warm-up (HEAP_WARMUP other
 * filters observed, confirmed and released), GC; then `count` filters observed (each with an observer; the
 * subscriptions kept, in an array made beforehand) and confirmed by the broker (timed: `confirmMs`), GC again.
 * Needs --expose-gc.
 */
async function heap(job: HeapJob): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('the heap probe needs node --expose-gc')
  const settle = async (): Promise<number> => {
    for (let i = 0; i < 4; i++) {
      await sleep(50)
      gc()
    }
    return process.memoryUsage().heapUsed
  }
  const filters = Array.from({ length: job.count }, (_, i) => (job.exact ? `${job.prefix}/${i}/state` : filterFor(job.prefix, i)))
  const warmup = Array.from({ length: HEAP_WARMUP }, (_, i) => filterFor(`${job.prefix}/warmup`, i))
  const keep: unknown[] = new Array(job.count).fill(undefined)
  const noop = (): void => {}
  let round = 0
  let before: number
  let after: number
  if (isSdk(job.impl)) {
    const client = await sdkClient(job)
    /** Observes `list` (kept in `into`) and waits until every SUBACK is in: a sentinel observed after them all answers. */
    const observeAll = async (list: readonly string[], into: unknown[]): Promise<void> => {
      list.forEach((f, i) => (into[i] = client.observe(f, { qos: 0 }).subscribe(noop)))
      const sentinel = `bench/ready/${job.clientId}/${round++}`
      let ready!: () => void
      const readyPromise = new Promise<void>((resolve) => (ready = resolve))
      const probe = client.observe(sentinel, { qos: 1 }).subscribe(() => ready())
      await untilReady(readyPromise, () => client.publish(sentinel, 'ready', { qos: 1 }))
      probe.unsubscribe()
    }
    const warm: unknown[] = []
    await observeAll(warmup, warm)
    for (const s of warm as { unsubscribe(): void }[]) s.unsubscribe()
    await observeAll([], [])
    before = await settle()
    const started = performance.now()
    await observeAll(filters, keep)
    const confirmMs = performance.now() - started
    after = await settle()
    send({ type: 'result', count: job.count, before, after, bytesPerFilter: (after - before) / job.count, confirmMs } satisfies HeapResult)
    await nextCommand('exit')
    await client.end({ force: true })
  } else {
    const client = await rawClient(job)
    let readyTopic = ''
    let ready: () => void = noop
    client.on('message', (topic) => {
      if (topic === readyTopic) ready()
    })
    const subscribeAll = async (list: readonly string[]): Promise<void> => {
      for (let i = 0; i < list.length; i += 100) client.subscribe(list.slice(i, i + 100), { qos: 0 })
      readyTopic = `bench/ready/${job.clientId}/${round++}`
      const readyPromise = new Promise<void>((resolve) => (ready = resolve))
      client.subscribe(readyTopic, { qos: 1 })
      await untilReady(readyPromise, () => client.publishAsync(readyTopic, 'ready', { qos: 1 }))
      client.unsubscribe(readyTopic)
    }
    await subscribeAll(warmup)
    for (let i = 0; i < warmup.length; i += 100) client.unsubscribe(warmup.slice(i, i + 100))
    await subscribeAll([])
    before = await settle()
    const started = performance.now()
    await subscribeAll(filters)
    const confirmMs = performance.now() - started
    after = await settle()
    send({ type: 'result', count: job.count, before, after, bytesPerFilter: (after - before) / job.count, confirmMs } satisfies HeapResult)
    await nextCommand('exit')
    await client.endAsync(true)
  }
  keep.fill(undefined)
  process.exit(0)
}

// ------------------------------------------------------------------------------------------------ main

process.once('message', (job: Job) => {
  const run = job.role === 'sub' ? subscriber(job) : job.role === 'pub' ? publisher(job) : heap(job)
  run.catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
    process.exit(1)
  })
})
// The orchestrator going away ends the trial.
process.on('disconnect', () => process.exit(0))
send({ type: 'started' })
