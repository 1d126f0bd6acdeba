/**
 * One bench process: a subscriber, a publisher or a heap probe, either the SDK or raw MQTT.js. The
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
import { firstValueFrom, filter as where } from 'rxjs'
import { connect, type MQTTClient } from '../lib/node.js'
import type { HeapJob, HeapResult, Job, PubJob, PubResult, SubJob, SubResult, ToWorker } from './protocol.js'

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

async function sdkClient(url: string, clientId: string, protocolVersion: 4 | 5): Promise<MQTTClient> {
  const client = connect(url, { clientId, protocolVersion, reconnect: false })
  const status = await firstValueFrom(client.status$.pipe(where((s) => s.type === 'connected' || s.type === 'closed')))
  if (status.type !== 'connected') throw new Error(`SDK client ${clientId} did not connect: ${status.error?.message ?? 'closed'}`)
  return client
}

function rawClient(url: string, clientId: string, protocolVersion: 4 | 5): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    // MQTT.js defaults otherwise (reconnectPeriod 1000 keeps what a resubscription needs, as the SDK does).
    const client = mqtt.connect(url, { clientId, protocolVersion, connectTimeout: 10_000 })
    client.once('connect', () => resolve(client))
    client.once('error', reject)
    client.once('close', () => reject(new Error(`raw client ${clientId} closed before CONNACK`)))
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
  const skip = job.skip
  const latencies = job.latency ? new Float64Array(expected) : undefined
  let count = 0
  let tSkip = 0n
  let tLast = 0n
  let cpuSkip: NodeJS.CpuUsage = { user: 0, system: 0 }
  let cpuLast: NodeJS.CpuUsage = { user: 0, system: 0 }
  let reported = false
  let stopProfile: () => Promise<void> = async () => {}

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
    count++
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

  if (job.impl === 'sdk') {
    const client = await sdkClient(job.url, job.clientId, job.protocolVersion)
    const subscriptions = filters.map((f) =>
      client.observe(f, { qos: job.qos }).subscribe((m) => onPayload(m.raw)),
    )
    const probe = client.observe(sentinel, { qos: 1 }).subscribe(() => ready())
    await untilReady(readyPromise, () => client.publish(sentinel, 'ready', { qos: 1 }))
    probe.unsubscribe()
    end = async () => {
      for (const s of subscriptions) s.unsubscribe()
      await client.end({ force: true })
    }
  } else {
    const client = await rawClient(job.url, job.clientId, job.protocolVersion)
    client.on('message', (topic, payload) => {
      if (topic === sentinel) ready()
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
  send({ type: 'ready' })
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
  const payload = Buffer.alloc(job.size, 0x61)
  let publishOne: (payload: Buffer, done: () => void) => void
  let end: () => Promise<void>
  if (job.impl === 'sdk') {
    const client = await sdkClient(job.url, job.clientId, job.protocolVersion)
    publishOne = (p, done) => void client.publish(job.topic, p, { qos: job.qos }).then(done, done)
    end = () => client.end({ force: true })
  } else {
    const client = await rawClient(job.url, job.clientId, job.protocolVersion)
    publishOne = (p, done) => void client.publish(job.topic, p, { qos: job.qos }, done)
    end = () => client.endAsync(true)
  }
  send({ type: 'ready' })
  await nextCommand('go')
  // Asked to finish before every publish settled: say how far it got (a hang is a finding, not noise).
  onCommand((command) => {
    if (command.type === 'finish') send({ type: 'error', message: `publisher stuck: ${progress.sent} published, ${progress.settled} settled of ${job.count}` })
  })

  const stopProfile = await startProfile(job.profileFile)
  const cpu0 = process.cpuUsage()
  const t0 = now()
  if (job.rate) await paced(job, publishOne)
  else await windowed(job, payload, publishOne)
  const t1 = now()
  const cpu = process.cpuUsage(cpu0)
  await stopProfile()
  const result: PubResult = { type: 'result', sent: job.count, seconds: Number(t1 - t0) / 1e9, cpuMicros: cpu.user + cpu.system }
  send(result)
  await nextCommand('exit')
  await end()
  process.exit(0)
}

const progress = { sent: 0, settled: 0 }

function windowed(job: PubJob, payload: Buffer, publishOne: (payload: Buffer, done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    let outstanding = 0
    const done = (): void => {
      progress.settled++
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

/**
 * Heap per active observed filter: connected client, filter strings allocated, GC; then `count` filters
 * observed (each with an observer; the subscriptions kept as an app would) and confirmed by the broker,
 * GC again. Needs --expose-gc.
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
  const filters = Array.from({ length: job.count }, (_, i) => filterFor(job.prefix, i))
  const sentinel = `bench/ready/${job.clientId}`
  let ready!: () => void
  const readyPromise = new Promise<void>((resolve) => (ready = resolve))
  const noop = (): void => {}
  let before: number
  let after: number
  const keep: unknown[] = []
  if (job.impl === 'sdk') {
    const client = await sdkClient(job.url, job.clientId, job.protocolVersion)
    const probe = client.observe(sentinel, { qos: 1 }).subscribe(() => ready())
    await untilReady(readyPromise, () => client.publish(sentinel, 'ready', { qos: 1 }))
    probe.unsubscribe()
    before = await settle()
    for (const f of filters) keep.push(client.observe(f, { qos: 0 }).subscribe(noop))
    // A sentinel on a filter observed after all of them: every SUBACK is in, nothing is in flight.
    let again!: () => void
    const againPromise = new Promise<void>((resolve) => (again = resolve))
    const probe2 = client.observe(`${sentinel}/2`, { qos: 1 }).subscribe(() => again())
    await untilReady(againPromise, () => client.publish(`${sentinel}/2`, 'ready', { qos: 1 }))
    probe2.unsubscribe()
    after = await settle()
    keep.push(client)
    send({ type: 'result', count: job.count, before, after, bytesPerFilter: (after - before) / job.count } satisfies HeapResult)
    await nextCommand('exit')
    await client.end({ force: true })
  } else {
    const client = await rawClient(job.url, job.clientId, job.protocolVersion)
    let readyTopic = sentinel
    client.on('message', (topic) => {
      if (topic === readyTopic) ready()
    })
    client.subscribe(sentinel, { qos: 1 })
    await untilReady(readyPromise, () => client.publishAsync(sentinel, 'ready', { qos: 1 }))
    client.unsubscribe(sentinel)
    before = await settle()
    for (let i = 0; i < filters.length; i += 100) client.subscribe(filters.slice(i, i + 100), { qos: 0 })
    let again!: () => void
    const againPromise = new Promise<void>((resolve) => (again = resolve))
    readyTopic = `${sentinel}/2`
    ready = again
    client.subscribe(readyTopic, { qos: 1 })
    await untilReady(againPromise, () => client.publishAsync(readyTopic, 'ready', { qos: 1 }))
    client.unsubscribe(readyTopic)
    after = await settle()
    keep.push(client)
    send({ type: 'result', count: job.count, before, after, bytesPerFilter: (after - before) / job.count } satisfies HeapResult)
    await nextCommand('exit')
    await client.endAsync(true)
  }
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
