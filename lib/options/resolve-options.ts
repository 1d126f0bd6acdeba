import { linkChoice } from './link-choice.js'
import { UnsupportedOptionError } from '../errors.js'
import type { Logger } from '../log/logger.js'
import type { MQTTClientOptions, OfflineQueueOptions, ReconnectOptions, WillOptions } from './client-options.js'
import { assertTopicName } from '../topic.js'
import { DEFAULTS, randomClientId, SESSION_NEVER_EXPIRES } from './defaults.js'
import { endpoints, type Platform } from './endpoints.js'
import type { ResolvedOptions, ResolvedWill } from './resolved-options.js'
import { utf8Length } from '../wire/utf8.js'
import { checkInteger, checkNonNegative, checkOneOf, checkPositive, checkQos, MAX_TIMER_MS, show } from './validate.js'

/** MQTT strings (client id, topics) carry a 16-bit length prefix. */
const MAX_STRING_BYTES = 65_535
// Below this many UTF-16 code units a string cannot exceed 65,535 UTF-8 bytes (3 bytes per unit at most).
const SAFE_LENGTH = Math.floor(MAX_STRING_BYTES / 3)
/** The TLS options of a platform that takes none. */
const NO_TLS = Object.freeze({})

/**
 * Every option checked and defaulted, once: the result is deeply frozen and shares nothing mutable with
 * `options`, which is only read. Throws {@link UnsupportedOptionError} (or `InvalidTopicError` for
 * `replyTopicPrefix` and `will.topic`) at the first bad option, naming it and its value. Byte arrays
 * (`will.payload`, TLS material) are kept by reference: a typed array cannot be frozen.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions({ url: 'mqtt://broker:1883', keepalive: 60 }, nodePlatform)
 * resolved.endpoints[0].port   // 1883
 * resolved.reconnect           // { initialDelay: 1000, maxDelay: 30000 }
 * resolveOptions({ url: 'mqtt://broker:0' }, nodePlatform) // throws UnsupportedOptionError
 * ```
 */
export function resolveOptions(options: MQTTClientOptions, platform: Platform): ResolvedOptions {
  rejectSharedConnection(options)
  const clean = options.clean ?? true
  const resolved: ResolvedOptions = {
    endpoints: endpoints(options, platform),
    clientId: resolveClientId(options.clientId),
    username: options.username,
    password: options.password,
    credentials: resolveCredentials(options.credentials),
    clean,
    sessionExpiryInterval: options.sessionExpiryInterval === undefined
      ? (clean ? undefined : SESSION_NEVER_EXPIRES)
      : checkInteger('sessionExpiryInterval', options.sessionExpiryInterval, 0, SESSION_NEVER_EXPIRES, 'seconds'),
    // MQTT's keepalive is a 16-bit field of seconds.
    keepalive: checkInteger('keepalive', options.keepalive ?? DEFAULTS.keepalive, 0, 65_535, 'seconds; 0 turns keepalive off'),
    protocolVersion: checkOneOf('protocolVersion', options.protocolVersion ?? DEFAULTS.protocolVersion, [4, 5, 'auto'] as const),
    connectTimeout: checkPositive('connectTimeout', options.connectTimeout ?? DEFAULTS.connectTimeout, MAX_TIMER_MS, 'milliseconds'),
    reconnect: resolveReconnect(options.reconnect),
    will: resolveWill(options.will),
    pageLifecycle: checkOneOf('pageLifecycle', options.pageLifecycle ?? true, [true, false] as const),
    offlineQueue: resolveOfflineQueue(options.offlineQueue),
    maxPacketSize: options.maxPacketSize === undefined ? undefined : checkPositive('maxPacketSize', options.maxPacketSize, Infinity, 'bytes'),
    link: options.link === undefined ? undefined : linkChoice(options.link, 'lean'),
    maxIncomingPacketSize:
      options.maxIncomingPacketSize === undefined ? undefined : Math.floor(checkPositive('maxIncomingPacketSize', options.maxIncomingPacketSize, 268_435_460, 'bytes')),
    maxQos: checkQos(options.maxQos ?? DEFAULTS.maxQos, 'maxQos'),
    replyTopicPrefix: resolveTopicName(options.replyTopicPrefix ?? DEFAULTS.replyTopicPrefix),
    retainedCacheSize: checkNonNegative('retainedCacheSize', options.retainedCacheSize ?? DEFAULTS.retainedCacheSize, 'topics per filter'),
    // The platform's: Node's connections take these options; a browser's trust only the browser's own store.
    tls: platform.tls?.(options) ?? NO_TLS,
    logger: resolveLogger(options.logger),
  }
  return Object.freeze(resolved)
}

/**
 * `sharedConnection` is no longer an option (sharing is the `iotpubsub/shared` import): `true`, or anything but
 * `false`, throws rather than leave the tabs silently unshared. Plain JavaScript only; the type lacks it.
 */
function rejectSharedConnection(options: MQTTClientOptions): void {
  const shared = (options as { sharedConnection?: unknown }).sharedConnection
  if (shared === undefined || shared === false) return
  throw new UnsupportedOptionError(
    `\`sharedConnection: ${show(shared)}\` is no longer an option: to share one connection among a browser's tabs, import { connect } from 'iotpubsub/shared' instead of 'iotpubsub' (the same options, without this one)`,
  )
}

function resolveLogger(logger: unknown): Logger | undefined {
  if (logger === undefined) return undefined
  const methods = ['debug', 'info', 'warn', 'error'] as const
  const missing = methods.filter((m) => typeof (logger as Record<string, unknown> | null)?.[m] !== 'function')
  if (missing.length > 0) throw new UnsupportedOptionError(`\`logger\` needs the methods debug, info, warn and error (such as console or a pino logger); it lacks ${missing.join(', ')}`)
  return logger as Logger
}

function resolveClientId(clientId: unknown): string {
  if (clientId === undefined) return randomClientId()
  if (typeof clientId !== 'string') throw new UnsupportedOptionError(`\`clientId\` must be a string, not ${show(clientId)}`)
  if (clientId.length > SAFE_LENGTH) {
    const bytes = utf8Length(clientId)
    if (bytes > MAX_STRING_BYTES) {
      throw new UnsupportedOptionError(`\`clientId\` is ${bytes} UTF-8 bytes long; MQTT allows at most ${MAX_STRING_BYTES}`)
    }
  }
  return clientId
}

function resolveCredentials(credentials: MQTTClientOptions['credentials']): ResolvedOptions['credentials'] {
  if (credentials === undefined) return undefined
  if (typeof credentials !== 'function') {
    throw new UnsupportedOptionError(`\`credentials\` must be a function returning { username, password }, not ${show(credentials)}`)
  }
  return credentials
}

function resolveTopicName(name: string): string {
  assertTopicName(name)
  return name
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function resolveReconnect(reconnect: ReconnectOptions | false | undefined): ResolvedOptions['reconnect'] {
  if (reconnect === false) return false
  if (reconnect !== undefined && !isObject(reconnect)) {
    throw new UnsupportedOptionError(`\`reconnect\` must be false or { initialDelay, maxDelay }, not ${show(reconnect)}`)
  }
  // `??` rather than a spread: `{ initialDelay: undefined }` means the default, not "no delay".
  const initialDelay = checkPositive('reconnect.initialDelay', reconnect?.initialDelay ?? DEFAULTS.reconnect.initialDelay, MAX_TIMER_MS, 'milliseconds')
  const maxDelay = checkPositive('reconnect.maxDelay', reconnect?.maxDelay ?? DEFAULTS.reconnect.maxDelay, MAX_TIMER_MS, 'milliseconds')
  if (maxDelay < initialDelay) {
    throw new UnsupportedOptionError(`\`reconnect.maxDelay\` (${maxDelay}) must not be below \`reconnect.initialDelay\` (${initialDelay})`)
  }
  return Object.freeze({ initialDelay, maxDelay })
}

function resolveOfflineQueue(queue: OfflineQueueOptions | undefined): ResolvedOptions['offlineQueue'] {
  if (queue !== undefined && !isObject(queue)) {
    throw new UnsupportedOptionError(`\`offlineQueue\` must be { maxMessages, maxBytes, qos0 }, not ${show(queue)}`)
  }
  const defaults = DEFAULTS.offlineQueue
  return Object.freeze({
    maxMessages: checkNonNegative('offlineQueue.maxMessages', queue?.maxMessages ?? defaults.maxMessages, 'messages'),
    maxBytes: checkNonNegative('offlineQueue.maxBytes', queue?.maxBytes ?? defaults.maxBytes, 'payload bytes'),
    qos0: checkOneOf('offlineQueue.qos0', queue?.qos0 ?? defaults.qos0, ['queue', 'reject'] as const),
  })
}

function resolveWill(will: WillOptions | undefined): ResolvedWill | undefined {
  if (will === undefined) return undefined
  if (!isObject(will)) throw new UnsupportedOptionError(`\`will\` must be { topic, payload, qos, retain }, not ${show(will)}`)
  assertTopicName(will.topic)
  if (typeof will.payload !== 'string' && !(will.payload instanceof Uint8Array)) {
    throw new UnsupportedOptionError(`\`will.payload\` must be a string or a Uint8Array, not ${show(will.payload)}`)
  }
  return Object.freeze({
    topic: will.topic,
    payload: will.payload,
    qos: checkQos(will.qos ?? 0, 'will.qos'),
    retain: will.retain ?? false,
  })
}
