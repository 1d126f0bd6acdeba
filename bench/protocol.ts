/** The messages between the orchestrator (run.ts) and a bench process (worker.ts). */

/**
 * What a bench process runs: 'sdk' is the SDK on its MQTT.js link (`link: 'mqttjs'`, Node's default; the rows
 * of issues 6 and 14), 'lean' the SDK on its own MQTT (`link: 'lean'`, issue 15), 'raw' MQTT.js alone.
 */
export type Impl = 'sdk' | 'lean' | 'raw'

/** The SDK's implementations: the same SDK code on either link. */
export const isSdk = (impl: Impl): impl is 'sdk' | 'lean' => impl !== 'raw'

interface JobBase {
  impl: Impl
  url: string
  clientId: string
  /** Undefined: each client's own default (the SDK negotiates, MQTT.js speaks 3.1.1). */
  protocolVersion: 4 | 5 | undefined
  /** Connect with nothing but the client id and URL (the latency case: what an app gets by default). */
  defaults?: boolean
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
  /** How the observer decodes: the SDK's codec option, for raw MQTT.js what an app would write (JSON.parse). */
  codec?: 'bytes' | 'json'
  /**
   * Drain mode (the subscriber is the limit): the CPU clock starts when the subscriber reports ready, before
   * the orchestrator stops it (SIGSTOP) and publishes the burst; a stopped process uses no CPU, so what is
   * counted is the drain after SIGCONT (and the idle wait, about nothing). `skip` is ignored.
   */
  drain?: boolean
}

export interface PubJob extends JobBase {
  role: 'pub'
  topic: string
  qos: 0 | 1
  count: number
  size: number
  /** Unsettled publishes allowed at once (throughput mode). */
  window: number
  /**
   * Publish in batches of this many and wait for the whole batch to settle before the next (what an app
   * does with `await Promise.all(batch.map(publish))`), instead of keeping `window` unsettled.
   */
  batch?: number
  /** Messages per second (latency mode; payloads carry their send time). */
  rate?: number
  /** Payloads are a JSON document of `size` bytes (for subscribers that decode JSON). */
  json?: boolean
  /**
   * After the burst, a QoS 1 publish to an unrelated topic whose PUBACK ends the trial: the broker handles a
   * connection's packets in order, so every QoS 0 message before it has been routed (queued) by then.
   */
  fence?: boolean
  /** CPU and time are measured from the `skip`-th settled publish on (JIT warm-up left out). */
  skip?: number
  /** Publish the burst again on every 'go' until 'exit' (one result each). */
  repeat?: boolean
}

export interface HeapJob extends JobBase {
  role: 'heap'
  count: number
  prefix: string
  /** Filters without wildcards (`<prefix>/<i>/state`, as device topics are), else `<prefix>/<i>/+`. */
  exact?: boolean
}

export type Job = SubJob | PubJob | HeapJob

export type ToWorker = { type: 'go' } | { type: 'finish' } | { type: 'exit' }

export interface SubResult {
  type: 'result'
  received: number
  expected: number
  /** From message number `skip` to the last one counted (drain mode: from the first message to the last). */
  seconds: number
  counted: number
  /** CPU time (user + system) of the subscriber process over `seconds` (drain mode: from ready to the last message). */
  cpuMicros: number
  latenciesMicros?: number[]
}

export interface PubResult {
  type: 'result'
  sent: number
  seconds: number
  /**
   * CPU time (user + system) from the warm-up mark to the end: with `fence`, to the fence's PUBACK (every
   * byte written and received by the broker); otherwise to the last settled publish.
   */
  cpuMicros: number
  /** CPU time to the last settled publish only (the measure before the fence was included). */
  cpuMicrosAtSettle: number
  /** Publishes the CPU and time are over (`sent` minus the warm-up). */
  measured: number
  /** The publisher process's largest resident set, bytes: sampled at the start, after each batch, at the end. */
  rssPeak: number
}

export interface HeapResult {
  type: 'result'
  count: number
  before: number
  after: number
  bytesPerFilter: number
  /** Milliseconds from the first observe (subscribe) to the last filter's confirmation. */
  confirmMs: number
}

export type FromWorker = { type: 'started' } | { type: 'ready' } | { type: 'error'; message: string } | SubResult | PubResult | HeapResult
