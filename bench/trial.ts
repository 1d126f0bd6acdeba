import { join } from 'node:path'
import type { Mosquitto } from '../test/support/mosquitto.js'
import { repoRoot, uniqueId, Worker, type BenchConfig } from './harness.js'
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
  const protocolVersion = options.protocolVersion ?? 5
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
      pubCpuPerMessage: published.cpuMicros / published.sent,
      latenciesMicros: received.latenciesMicros,
    }
  } finally {
    await Promise.all([sub.stop(), pub.stop()])
  }
}

/** Heap per observed filter in a fresh `node --expose-gc` process. */
export async function heapTrial(broker: Mosquitto, impl: Impl, count: number): Promise<HeapResult> {
  const probe = new Worker(
    { role: 'heap', impl, url: broker.tcpUrl, clientId: uniqueId(`heap-${impl}`), protocolVersion: 5, count, prefix: PREFIX },
    { label: `heap probe (${impl})`, execArgv: ['--expose-gc'] },
  )
  try {
    return (await probe.next('result', 120_000, 'the heap probe')) as HeapResult
  } finally {
    await probe.stop()
  }
}
