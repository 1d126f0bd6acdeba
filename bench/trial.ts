import { join } from 'node:path'
import type { Mosquitto } from '../test/support/mosquitto.js'
import { processCpuMicros, repoRoot, uniqueId, Worker, type BenchConfig } from './harness.js'
import type { HeapResult, Impl, PubResult, SubResult } from './protocol.js'

export interface TrialOptions {
  sub: Impl
  pub: Impl
  subTransport?: 'tcp' | 'ws'
  pubTransport?: 'tcp' | 'ws'
  protocolVersion?: 4 | 5
  qos: 0 | 1
  /** Filters the subscriber observes (`bench/f/<i>/+`); the messages match one of them. */
  filters: number
  /** Observe one exact topic instead (`filters` must be 1). */
  exact?: boolean
  count: number
  size?: number
  /** Latency mode: publish at this rate with timestamps. */
  rate?: number
  /** Both clients connect with their defaults (client id only; protocol version each its own). */
  defaults?: boolean
  label: string
}

export interface TrialResult {
  /** Messages per second at the subscriber, from message `skip` to the last. */
  rate: number
  received: number
  expected: number
  /** Subscriber CPU (user + system) per message counted, µs. */
  subCpuPerMessage: number
  /** Publisher: messages per second until every publish settled (written for QoS 0, PUBACK for QoS 1). */
  pubRate: number
  pubCpuPerMessage: number
  latenciesMicros: number[] | undefined
}

const PREFIX = 'bench/f'

/** With --profile: where the process writes the CPU profile of its measured phase only (not start-up). */
function profileFile(config: BenchConfig, name: string): { profileFile?: string } {
  return config.profile ? { profileFile: join(repoRoot, 'bench-results', 'profiles', `${name}-${Date.now()}.cpuprofile`) } : {}
}

/**
 * One measured run: a fresh subscriber process, a fresh publisher process, `count` messages, both
 * processes stopped afterwards whatever happens.
 */
export async function trial(broker: Mosquitto, config: BenchConfig, options: TrialOptions): Promise<TrialResult> {
  const url = (transport: 'tcp' | 'ws' = 'tcp'): string => (transport === 'ws' ? broker.wsUrl : broker.tcpUrl)
  const protocolVersion = options.defaults ? undefined : (options.protocolVersion ?? 5)
  const defaults = options.defaults ? { defaults: true } : {}
  const oneTopic = options.exact === true && options.filters === 1
  const topic = oneTopic ? `bench/t/${options.label}` : `${PREFIX}/${options.filters >> 1}/x`
  const skip = Math.min(5_000, Math.floor(options.count * (options.rate ? 0.1 : 0.05)))
  const sub = new Worker(
    {
      role: 'sub',
      impl: options.sub,
      url: url(options.subTransport),
      clientId: uniqueId(`sub-${options.sub}`),
      protocolVersion,
      qos: options.qos,
      filters: options.filters,
      ...(oneTopic ? { exactTopic: topic } : {}),
      prefix: PREFIX,
      expected: options.count,
      skip,
      latency: options.rate !== undefined,
      ...defaults,
      ...profileFile(config, `${options.label}-sub-${options.sub}`),
    },
    { label: `${options.label} subscriber (${options.sub})` },
  )
  // Both processes start at once (start-up is not measured); the publisher only publishes on 'go'.
  const pub = new Worker(
    {
      role: 'pub',
      impl: options.pub,
      url: url(options.pubTransport),
      clientId: uniqueId(`pub-${options.pub}`),
      protocolVersion,
      topic,
      qos: options.qos,
      count: options.count,
      size: options.size ?? 100,
      window: 500,
      ...(options.rate ? { rate: options.rate } : {}),
      ...defaults,
      ...profileFile(config, `${options.label}-pub-${options.pub}`),
    },
    { label: `${options.label} publisher (${options.pub})` },
  )
  try {
    await sub.next('ready', 60_000, `${options.label}: the ${options.sub} subscriber to be ready`)
    await pub.next('ready', 30_000, `${options.label}: the ${options.pub} publisher to be ready`)
    pub.send({ type: 'go' })
    // Bounded: 20 s plus 1 ms per message (1,000 msg/s would already be a broken run).
    let published: PubResult
    try {
      published = (await pub.next('result', 20_000 + options.count, `${options.label}: the ${options.pub} publisher to finish`)) as PubResult
    } catch (error) {
      pub.send({ type: 'finish' })
      await pub.next('result', 2_000).catch((stuck: Error) => {
        throw new Error(`${(error as Error).message}; ${stuck.message}`)
      })
      throw error
    }
    // QoS 0 bursts can still be queued in the broker: give the subscriber time to drain them.
    const grace = Math.max(5_000, published.seconds * 3_000)
    let received: SubResult
    try {
      received = (await sub.next('result', grace, 'the subscriber')) as SubResult
    } catch {
      sub.send({ type: 'finish' })
      received = (await sub.next('result', 5_000, 'the subscriber (partial)')) as SubResult
    }
    return {
      rate: received.seconds > 0 ? received.counted / received.seconds : 0,
      received: received.received,
      expected: received.expected,
      subCpuPerMessage: received.counted > 0 ? received.cpuMicros / received.counted : Number.NaN,
      pubRate: published.sent / published.seconds,
      pubCpuPerMessage: published.cpuMicros / published.measured,
      latenciesMicros: received.latenciesMicros,
    }
  } finally {
    await Promise.all([sub.stop(), pub.stop()])
  }
}

export interface DrainOptions {
  impl: Impl
  qos: 0 | 1
  /** Filters observed (`bench/f/<i>/+`); the burst matches one of them. */
  filters: number
  codec: 'bytes' | 'json'
  count: number
  label: string
  /** Write a CPU profile of the subscriber's drain to this file. */
  profileFile?: string
}

export interface DrainTrialResult {
  received: number
  expected: number
  /** Subscriber CPU (user + system) per message of the drain, µs. */
  subCpuPerMessage: number
  /** Messages per second the subscriber drained at (wall clock from its first message to its last). */
  drainRate: number
  /** The broker's CPU per message while the burst was published and queued (subscriber stopped), µs. */
  brokerBurstCpuPerMessage: number | undefined
  /** The broker's CPU per message while the subscriber drained the queue (sending it), µs. */
  brokerDrainCpuPerMessage: number | undefined
  /** The publisher's burst: messages per second until the fence's PUBACK. */
  burstRate: number
}

/**
 * The subscriber-limited measurement: a fresh subscriber process (SDK or raw MQTT.js) subscribes and is
 * confirmed, is stopped (SIGSTOP), a raw MQTT.js publisher publishes the burst into the broker's queue and
 * ends with a QoS 1 fence (so every message is routed), the subscriber is resumed (SIGCONT) and times its
 * own drain with process.cpuUsage(). Nothing else competes with the drain but the broker sending the queue,
 * so the subscriber's CPU per message is its own cost, not a share of a contended machine. The broker's CPU
 * (from /proc) over the burst and over the drain is the physical reference: what routing a message costs.
 */
export async function drainTrial(broker: Mosquitto, options: DrainOptions, publisher?: BurstPublisher): Promise<DrainTrialResult> {
  const sub = new Worker(
    {
      role: 'sub',
      impl: options.impl,
      url: broker.tcpUrl,
      clientId: uniqueId(`drain-${options.impl}`),
      protocolVersion: 5,
      qos: options.qos,
      filters: options.filters,
      prefix: PREFIX,
      expected: options.count,
      skip: 0,
      latency: false,
      codec: options.codec,
      drain: true,
      ...(options.profileFile ? { profileFile: options.profileFile } : {}),
    },
    { label: `${options.label} drain subscriber (${options.impl})` },
  )
  // A case passes its own burst publisher (forked once for all its trials); otherwise one for this trial.
  const pub = publisher ?? new BurstPublisher(broker, options)
  try {
    await sub.next('ready', 60_000, `${options.label}: the ${options.impl} subscriber to be ready`)
    await pub.ready
    await sub.signal('SIGSTOP')
    const brokerStart = processCpuMicros(broker.pid)
    const published = await pub.burst()
    const brokerQueued = processCpuMicros(broker.pid)
    await sub.signal('SIGCONT')
    let received: SubResult
    try {
      received = (await sub.next('result', 20_000 + options.count / 10, `${options.label}: the drain`)) as SubResult
    } catch {
      sub.send({ type: 'finish' })
      received = (await sub.next('result', 5_000, 'the subscriber (partial)')) as SubResult
    }
    const brokerDrained = processCpuMicros(broker.pid)
    const perMessage = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : (b - a) / options.count)
    return {
      received: received.received,
      expected: received.expected,
      subCpuPerMessage: received.counted > 0 ? received.cpuMicros / received.counted : Number.NaN,
      drainRate: received.seconds > 0 ? received.counted / received.seconds : 0,
      brokerBurstCpuPerMessage: perMessage(brokerStart, brokerQueued),
      brokerDrainCpuPerMessage: perMessage(brokerQueued, brokerDrained),
      burstRate: published.sent / published.seconds,
    }
  } finally {
    await Promise.all([sub.stop(), publisher ? undefined : pub.stop()])
  }
}

/**
 * The drain cases' burst source: a raw MQTT.js publisher process that publishes `count` 100-byte JSON
 * payloads to the topic the drain's filters match (500 unsettled at most, then a QoS 1 fence) on every
 * burst(). It is not what is measured, so one process serves every trial of a case.
 */
export class BurstPublisher {
  private readonly worker: Worker
  readonly ready: Promise<void>
  private readonly count: number
  private readonly label: string

  constructor(broker: Mosquitto, options: { qos: 0 | 1; filters: number; count: number; label: string }) {
    this.count = options.count
    this.label = options.label
    this.worker = new Worker(
      {
        role: 'pub',
        impl: 'raw',
        url: broker.tcpUrl,
        clientId: uniqueId('burst-pub'),
        protocolVersion: 5,
        topic: `${PREFIX}/${options.filters >> 1}/x`,
        qos: options.qos,
        count: options.count,
        size: 100,
        window: 500,
        json: true,
        fence: true,
        repeat: true,
      },
      { label: `${options.label} burst publisher` },
    )
    this.ready = this.worker.next('ready', 30_000, `${options.label}: the burst publisher to be ready`).then(() => undefined)
    // Not awaited by everyone (a trial may fail first): an unhandled rejection would end the run.
    this.ready.catch(() => {})
  }

  /** Publishes the burst; resolves once the fence's PUBACK says the broker has routed all of it. */
  async burst(): Promise<PubResult> {
    await this.ready
    this.worker.send({ type: 'go' })
    return (await this.worker.next('result', 30_000 + this.count / 5, `${this.label}: the burst to be queued`)) as PubResult
  }

  stop(): Promise<void> {
    return this.worker.stop()
  }
}

export interface PublishTrialResult {
  /** Publisher CPU (user + system) per message after the warm-up, µs, up to the fence's PUBACK (all of it written). */
  pubCpuPerMessage: number
  /** The same up to the last settled publish only (which for the lean link's QoS 0 is before its last writes). */
  pubCpuPerMessageAtSettle: number
  pubRate: number
  /** The broker's CPU per message received (no subscriber: nothing routed), µs. */
  brokerCpuPerMessage: number | undefined
  /** The publisher's largest resident set during the burst, bytes. */
  rssPeak: number
}

/**
 * The publisher-limited measurement: one fresh publisher process (SDK publish() or raw client.publish) sends
 * `count` messages over TCP with 500 unsettled at most, to a topic nobody subscribes to, so the broker only
 * reads (and for QoS 1 acknowledges) and stays faster than the publisher; the publisher times itself with
 * process.cpuUsage() from the 5 %-th settled publish (JIT warm-up) to the PUBACK of a QoS 1 fence published
 * after the last (so every byte is written, however a link settles a QoS 0 publish).
 */
export async function publishTrial(broker: Mosquitto, options: { impl: Impl; qos: 0 | 1; count: number; label: string; batch?: number }): Promise<PublishTrialResult> {
  // Past the first window of 500 at least: the clock restarts at a settled publish, with a window in flight.
  const skip = Math.min(5_000, Math.max(500, Math.floor(options.count * 0.05)))
  const pub = new Worker(
    {
      role: 'pub',
      impl: options.impl,
      url: broker.tcpUrl,
      clientId: uniqueId(`pubcpu-${options.impl}`),
      protocolVersion: 5,
      topic: `bench/nobody/${options.label}`,
      qos: options.qos,
      count: options.count,
      size: 100,
      window: 500,
      ...(options.batch ? { batch: options.batch } : {}),
      skip,
      fence: true,
    },
    { label: `${options.label} publisher (${options.impl})` },
  )
  try {
    await pub.next('ready', 30_000, `${options.label}: the ${options.impl} publisher to be ready`)
    const brokerStart = processCpuMicros(broker.pid)
    pub.send({ type: 'go' })
    const published = (await pub.next('result', 30_000 + options.count / 5, `${options.label}: the ${options.impl} publisher to finish`)) as PubResult
    const brokerEnd = processCpuMicros(broker.pid)
    return {
      pubCpuPerMessage: published.cpuMicros / published.measured,
      pubCpuPerMessageAtSettle: published.cpuMicrosAtSettle / published.measured,
      pubRate: published.measured / published.seconds,
      brokerCpuPerMessage: brokerStart === undefined || brokerEnd === undefined ? undefined : (brokerEnd - brokerStart) / options.count,
      rssPeak: published.rssPeak,
    }
  } finally {
    await pub.stop()
  }
}

/** Heap per observed filter, and the time to have them all confirmed, in a fresh `node --expose-gc` process. */
export async function heapTrial(broker: Mosquitto, impl: Impl, count: number, exact = false): Promise<HeapResult> {
  const probe = new Worker(
    { role: 'heap', impl, url: broker.tcpUrl, clientId: uniqueId(`heap-${impl}`), protocolVersion: 5, count, prefix: PREFIX, exact },
    { label: `heap probe (${impl})`, execArgv: ['--expose-gc'] },
  )
  try {
    return (await probe.next('result', 120_000, 'the heap probe')) as HeapResult
  } finally {
    await probe.stop()
  }
}
