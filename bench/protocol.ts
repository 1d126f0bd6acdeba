/** The messages between the orchestrator (run.ts) and a bench process (worker.ts). */

export type Impl = 'sdk' | 'raw'

interface JobBase {
  impl: Impl
  url: string
  clientId: string
  protocolVersion: 4 | 5
  /** Write a V8 CPU profile of the measured phase (after set-up) to this file. */
  profileFile?: string
}

/** A subscriber: observes `filters` filters (or `exactTopic` when there is one) and counts `expected` messages. */
export interface SubJob extends JobBase {
  role: 'sub'
  qos: 0 | 1
  /** How many filters to observe; the messages match exactly one of them. */
  filters: number
  /** With one filter: observe this exact topic instead of a wildcard filter. */
  exactTopic?: string
  /** Filter i is `${prefix}/${i}/+`. */
  prefix: string
  expected: number
  /** Messages received before the clock starts (JIT warm-up, connection ramp). */
  skip: number
  /** Read the send time from the first 8 bytes of each payload and report latencies. */
  latency: boolean
}

export interface PubJob extends JobBase {
  role: 'pub'
  topic: string
  qos: 0 | 1
  count: number
  size: number
  /** Unsettled publishes allowed at once (throughput mode). */
  window: number
  /** Messages per second (latency mode; payloads carry their send time). */
  rate?: number
}

export interface HeapJob extends JobBase {
  role: 'heap'
  count: number
  prefix: string
}

export type Job = SubJob | PubJob | HeapJob

export type ToWorker = { type: 'go' } | { type: 'finish' } | { type: 'exit' }

export interface SubResult {
  type: 'result'
  received: number
  expected: number
  /** From message number `skip` to the last one counted. */
  seconds: number
  counted: number
  /** CPU time (user + system) of the subscriber process over `seconds`. */
  cpuMicros: number
  latenciesMicros?: number[]
}

export interface PubResult {
  type: 'result'
  sent: number
  seconds: number
  cpuMicros: number
}

export interface HeapResult {
  type: 'result'
  count: number
  before: number
  after: number
  bytesPerFilter: number
}

export type FromWorker = { type: 'started' } | { type: 'ready' } | { type: 'error'; message: string } | SubResult | PubResult | HeapResult
