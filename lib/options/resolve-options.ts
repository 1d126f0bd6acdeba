import { linkChoice } from './link-choice.js'
import { UnsupportedOptionError } from '../errors.js'
import type { Logger } from '../log/logger.js'
import type { Store } from '../store/store.js'
import type { AuthMethod } from '../auth/auth-method.js'
import type { MQTTClientOptions, OfflineQueueOptions, ReconnectOptions, WillOptions } from './client-options.js'
import { assertTopicName } from '../topic.js'
import { DEFAULTS, randomClientId, SESSION_NEVER_EXPIRES } from './defaults.js'
import { endpoints, type Platform } from './endpoints.js'
import { attemptCredentials } from './attempt-credentials.js'
import { handshakeDress } from './handshake.js'
import type { ResolvedOptions, ResolvedWill } from './resolved-options.js'
import { utf8Length } from '../wire/utf8.js'
import { checkCredentials } from '../connection/credentials-policy.js'
import { checkMqttString, MAX_STRING_BYTES } from '../mqtt-string.js'
import { checkInteger, checkNonNegative, checkOneOf, checkPositive, checkQos, MAX_TIMER_MS, refuse, show } from './validate.js'

/** What a will may say; anything else (a typo, or MQTT 5 will properties, which no link sends) is refused. */
const WILL_KEYS = ['topic', 'payload', 'qos', 'retain']
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
  if (!isObject(options)) refuse('options', 'an object', options)
  rejectSharedConnection(options)
  const clean = checkOneOf('clean', options.clean ?? true, [true, false] as const)
  const protocolVersion = checkOneOf('protocolVersion', options.protocolVersion ?? DEFAULTS.protocolVersion, [4, 5, 'auto'] as const)
  const auth = resolveAuth(options, protocolVersion)
  const { username, password } = checkCredentials({ username: options.username, password: options.password }, protocolVersion, '')
  const dress = handshakeDress(options, platform)
  const resolved: ResolvedOptions = {
    endpoints: Object.freeze(endpoints(options, platform).map((endpoint) => dress(endpoint))),
    clientId: resolveClientId(options.clientId, clean),
    username,
    password,
    credentials: attemptCredentials(options.credentials, protocolVersion, platform, dress),
    clean,
    sessionExpiryInterval: options.sessionExpiryInterval === undefined
      ? (clean ? undefined : SESSION_NEVER_EXPIRES)
      : checkInteger('sessionExpiryInterval', options.sessionExpiryInterval, 0, SESSION_NEVER_EXPIRES, 'seconds'),
    // MQTT's keepalive is a 16-bit field of seconds.
    keepalive: checkInteger('keepalive', options.keepalive ?? DEFAULTS.keepalive, 0, 65_535, 'seconds; 0 turns keepalive off'),
    // Enhanced authentication exists only in MQTT 5: a fallback to 3.1.1 would connect without it.
    protocolVersion: auth ? 5 : protocolVersion,
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
    store: resolveStore(options.store),
    auth,
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
    `\`sharedConnection: ${show(shared)}\` is no longer an option: to share one connection among a browser's tabs, import { connect } from 'iotpubsub/shared' (the same options, without this one)`,
  )
}

function resolveLogger(logger: unknown): Logger | undefined {
  if (logger === undefined) return undefined
  const methods = ['debug', 'info', 'warn', 'error'] as const
  const missing = methods.filter((m) => typeof (logger as Record<string, unknown> | null)?.[m] !== 'function')
  if (missing.length > 0) throw new UnsupportedOptionError(`\`logger\` needs the methods debug, info, warn and error (such as console or a pino logger); it lacks ${missing.join(', ')}`)
  return logger as Logger
}

/**
 * A persistent session needs a client id of the app's own, the same at every start: a random one would leave
 * a session behind on the broker at each start (never expiring, by default), and an empty one is refused by
 * MQTT 3.1.1 and answered by MQTT 5 with a new id each time.
 */
function resolveClientId(clientId: unknown, clean: boolean): string {
  if (!clean && !clientId) {
    throw new UnsupportedOptionError('`clean: false` needs a `clientId`, the same at every start (without one, each start leaves another session on the broker)')
  }
  return clientId === undefined ? randomClientId() : checkMqttString('clientId', clientId)
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
  if (reconnect !== undefined && !isObject(reconnect)) refuse('reconnect', 'false or { initialDelay, maxDelay }', reconnect)
  // `??` rather than a spread: `{ initialDelay: undefined }` means the default, not "no delay".
  const initialDelay = checkPositive('reconnect.initialDelay', reconnect?.initialDelay ?? DEFAULTS.reconnect.initialDelay, MAX_TIMER_MS, 'milliseconds')
  const maxDelay = checkPositive('reconnect.maxDelay', reconnect?.maxDelay ?? DEFAULTS.reconnect.maxDelay, MAX_TIMER_MS, 'milliseconds')
  if (maxDelay < initialDelay) {
    throw new UnsupportedOptionError(`\`reconnect.maxDelay\` (${maxDelay}) must not be below \`reconnect.initialDelay\` (${initialDelay})`)
  }
  return Object.freeze({ initialDelay, maxDelay })
}

/** The `auth` method is the app's object, kept as given once it has a method name and `start`; it needs MQTT 5. */
function resolveAuth(options: MQTTClientOptions, protocolVersion: 4 | 5 | 'auto'): AuthMethod | undefined {
  const auth = options.auth as Partial<Record<keyof AuthMethod, unknown>> | null | undefined
  if (auth === undefined) return undefined
  if (auth === null || typeof auth !== 'object' || typeof auth.start !== 'function' || typeof auth.method !== 'string' || auth.method === '') {
    refuse('auth', 'an AuthMethod (scramSha256({ username, password }), or an object with a method name and start())', auth)
  }
  checkMqttString('auth.method', auth.method)
  if (protocolVersion === 4) throw new UnsupportedOptionError('`auth` (MQTT 5 enhanced authentication) needs MQTT 5: use protocolVersion 5 or leave it "auto"')
  if (options.link === 'mqttjs') {
    throw new UnsupportedOptionError("`auth` needs link 'lean': MQTT.js 5 has no public way to re-authenticate a live connection (AUTH 0x19)")
  }
  return auth as AuthMethod
}

/** A store is taken as given (never copied or frozen: it is the app's object), once it has the three methods. */
function resolveStore(store: Store | undefined): Store | undefined {
  if (store === undefined) return undefined
  const s = store as Partial<Record<keyof Store, unknown>> | null
  if (s === null || typeof s !== 'object' || typeof s.open !== 'function' || typeof s.write !== 'function' || typeof s.close !== 'function') {
    refuse('store', 'a Store (fileStore(dir), indexedDbStore(name), memoryStore() or an object with open, write and close)', store)
  }
  return store
}

function resolveOfflineQueue(queue: OfflineQueueOptions | undefined): ResolvedOptions['offlineQueue'] {
  if (queue !== undefined && !isObject(queue)) refuse('offlineQueue', '{ maxMessages, maxBytes, qos0 }', queue)
  const defaults = DEFAULTS.offlineQueue
  return Object.freeze({
    maxMessages: checkNonNegative('offlineQueue.maxMessages', queue?.maxMessages ?? defaults.maxMessages, 'messages'),
    maxBytes: checkNonNegative('offlineQueue.maxBytes', queue?.maxBytes ?? defaults.maxBytes, 'payload bytes'),
    qos0: checkOneOf('offlineQueue.qos0', queue?.qos0 ?? defaults.qos0, ['queue', 'reject'] as const),
  })
}

function resolveWill(will: WillOptions | undefined): ResolvedWill | undefined {
  if (will === undefined) return undefined
  if (!isObject(will)) refuse('will', '{ topic, payload, qos, retain }', will)
  const unknown = Object.keys(will).find((key) => !WILL_KEYS.includes(key))
  if (unknown !== undefined) throw new UnsupportedOptionError(`\`will.${unknown}\` is not an option (${WILL_KEYS.join(', ')})`)
  assertTopicName(will.topic)
  const payload: unknown = will.payload
  const bytes = typeof payload === 'string' ? utf8Length(payload) : payload instanceof Uint8Array ? payload.length : -1
  // The CONNECT carries the will payload with a 16-bit length, unlike a PUBLISH payload.
  if (bytes < 0 || bytes > MAX_STRING_BYTES) refuse('will.payload', `a string or a Uint8Array of at most ${MAX_STRING_BYTES} bytes`, bytes < 0 ? payload : bytes)
  return Object.freeze({
    topic: will.topic,
    payload: will.payload,
    qos: checkQos(will.qos ?? 0, 'will.qos'),
    retain: checkOneOf('will.retain', will.retain ?? false, [true, false] as const),
  })
}
