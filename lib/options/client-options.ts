import type { Logger } from '../log/logger.js'
import type { Codec, CodecName } from '../codec.js'
import type { MessageProperties, QoS, UserProperties, UserPropertyPairs } from '../message.js'
import type { Store } from '../store/store.js'
import type { AuthMethod } from '../auth/auth-method.js'

/** The reconnect policy: exponential backoff with jitter between `initialDelay` and `maxDelay` (ms). */
export interface ReconnectOptions {
  /** The delay before the first retry, before jitter. Default 1,000 ms. */
  initialDelay?: number
  /** The largest delay, before jitter. Default 30,000 ms, so thousands of dashboards do not stampede a broker. */
  maxDelay?: number
}

/** A message the broker publishes for this client if the connection is lost without `end()` (a last will). */
export interface WillOptions {
  /** The topic the will is published to: a topic name, checked by `connect()` (`InvalidTopicError`). */
  topic: string
  /** The will's payload, sent as is (a string as UTF-8); at most 65,535 bytes, as MQTT's CONNECT carries it. */
  payload: Uint8Array | string
  /** The QoS the broker publishes the will with. Default 0. */
  qos?: QoS
  /**
   * `true`: the broker also keeps the will as the topic's retained value, so that later subscribers see it
   * (an `offline` presence flag, say). Default `false`.
   */
  retain?: boolean
}

/** Bounds on the publishes held while disconnected (MQTT.js alone queues without limit). */
export interface OfflineQueueOptions {
  /** Default 1,000. */
  maxMessages?: number
  /** Payload bytes as sent (strings counted in UTF-8), default 1 MiB. */
  maxBytes?: number
  /** `'queue'` (default): QoS 0 messages wait like the others; `'reject'`: a QoS 0 publish while offline rejects at once. */
  qos0?: 'queue' | 'reject'
}

/** A username and password for the next connection attempt. */
export interface Credentials {
  /** The user name to connect with; left out, none is sent (the provider replaces `username` of the options). */
  username?: string
  /** The password (or token) to connect with; left out, none is sent. Never logged. */
  password?: string
  /**
   * The URL this attempt goes to, in place of the next of the client's URLs: a presigned URL (AWS IoT's SigV4,
   * Azure's SAS in the query), signed afresh for every attempt. Its query is never logged: status and log
   * show it as `?…`.
   *
   * @example
   * ```ts
   * connect('wss://broker.example.com/mqtt', { credentials: async () => ({ url: await signUrl('wss://broker.example.com/mqtt') }) })
   * ```
   */
  url?: string
  /**
   * Node only: headers added to this attempt's WebSocket handshake (`Authorization: Bearer …`), over those of
   * `webSocket.headers`. A browser cannot set them: returned there, the client ends with
   * `UnsupportedOptionError`; put the token in the URL's query (`url`) or in a subprotocol instead.
   */
  headers?: Record<string, string>
}

/** The WebSocket handshake of ws:// and wss:// URLs. */
export interface WebSocketOptions {
  /**
   * Node only: headers sent with every handshake (a browser cannot set them: `UnsupportedOptionError`). Not
   * those the handshake itself sets (`Sec-WebSocket-*`, `Upgrade`, `Connection`, `Host`).
   *
   * @example
   * ```ts
   * connect('wss://gateway.example.com/mqtt', { webSocket: { headers: { 'x-api-key': key } } })
   * ```
   */
  headers?: Record<string, string>
  /**
   * Subprotocols offered after `mqtt`, in Node and browsers: where a browser gateway takes a token in
   * `Sec-WebSocket-Protocol`. The server picks one of them.
   */
  subprotocols?: string[]
}

/**
 * Options of `connect()` and `new MQTTClient()`, the same from `iotpubsub` and `iotpubsub/shared`. None are
 * required; the object is never modified.
 *
 * One broker connection shared by a browser's tabs is not an option but an import: `connect` from
 * `'iotpubsub/shared'`, so that an app which does not share ships none of that code. The former option
 * `sharedConnection: true` throws `UnsupportedOptionError` saying so.
 */
export interface ClientOptions {
  /** Default: `iotpubsub_` and 12 random hex digits. */
  clientId?: string
  /** The user name sent in every CONNECT. A `credentials` provider, when given, takes its place. */
  username?: string
  /**
   * The password (or token) sent in every CONNECT; never logged. A broker that refuses it ends the client with
   * `NotAuthorizedError`; for tokens that expire, give a `credentials` provider instead.
   */
  password?: string
  /** Start a new session (default `true`); `false` resumes the broker's stored session for `clientId`. */
  clean?: boolean
  /** MQTT 5: seconds the broker keeps the session after a disconnect (with `clean: false`). */
  sessionExpiryInterval?: number
  /** Seconds between keepalive pings (0 to 65,535; 0 turns them off); a silent broker is detected after 1.5× this. Default 30. */
  keepalive?: number
  /**
   * `5` (MQTT 5), `4` (MQTT 3.1.1), or `'auto'` (the default): MQTT 5, falling back to 3.1.1 when the
   * broker answers "unacceptable protocol version", remembered for later reconnects.
   */
  protocolVersion?: 4 | 5 | 'auto'
  /** Milliseconds to wait for the broker's CONNACK. Default 30,000. */
  connectTimeout?: number
  /** The reconnect policy, or `false` to stop after the first lost connection. */
  reconnect?: ReconnectOptions | false
  /**
   * The last will: a message the broker publishes when this client's connection is lost without `end()`
   * (a crash, a network cut, a keepalive timeout), such as an `offline` presence message.
   */
  will?: WillOptions
  /**
   * Called before every connection attempt, the first and each reconnect, so an app can refresh a token, or
   * sign the attempt's `url` afresh (and, in Node, its handshake `headers`). When the broker refuses the
   * credentials it returned (in Node, a WebSocket handshake answered 401 or 403 counts as a refusal), the client
   * retries with backoff as long as the provider returns different ones; the same refused credentials twice end
   * the client with `NotAuthorizedError`. It overrides `username` and `password`.
   *
   * @example
   * ```ts
   * connect('wss://broker.example.com/mqtt', { credentials: async () => ({ url: await presign('wss://broker.example.com/mqtt') }) })
   * ```
   */
  credentials?: () => Credentials | Promise<Credentials>
  /**
   * Node only: the proxy to reach the broker through, as a URL: `http://user:pass@proxy:3128` (HTTP CONNECT,
   * Basic authentication), `https://proxy:443` (the same inside TLS to the proxy, verified against Node's CAs:
   * a private CA goes in `NODE_EXTRA_CA_CERTS`) or `socks5://user:pass@proxy:1080` (`socks5h://` resolves the
   * broker's name at the proxy). Default: the environment, read once by `connect()` as curl reads it
   * (`HTTP_PROXY` for ws://, `HTTPS_PROXY` for wss://, `ALL_PROXY` for mqtt:// and mqtts:// and as every one's
   * fallback; lowercase names too), with `NO_PROXY` honoured: host names and domains (`.corp`), addresses and
   * CIDR ranges (`10.0.0.0/8`, `::1`), each with an optional `:port`, or `*`. `false`: never a proxy. In a
   * browser, `UnsupportedOptionError` (the browser's own proxy settings apply).
   *
   * @example
   * ```ts
   * connect('mqtts://broker.example.com', { proxy: 'http://alice:secret@proxy.corp:3128' })
   * ```
   */
  proxy?: string | false
  /** The WebSocket handshake: extra headers (Node) and subprotocols. */
  webSocket?: WebSocketOptions
  /**
   * MQTT 5 enhanced authentication: the method whose exchange runs in every CONNECT (and each
   * re-authentication it asks for on the live connection). Needs MQTT 5: with it `protocolVersion` `'auto'`
   * means 5, and 4 is refused with `UnsupportedOptionError`, as is `link: 'mqttjs'` (MQTT.js has no public way
   * to re-authenticate). A refused login ends the client with `NotAuthorizedError`; a failed exchange or
   * re-authentication reports `AuthenticationError` and reconnects.
   *
   * @example
   * ```ts
   * connect('mqtts://broker.example.com', { auth: scramSha256({ username: 'meter-7', password: secret }) })
   * ```
   */
  auth?: AuthMethod
  /**
   * Browser only: react to the page lifecycle. The browser's `online` ends a backoff wait at once, `offline`
   * drops the connection at once (status `reconnecting`), and a page that is visible again or resumed from a
   * freeze checks its connection with a PINGREQ and reconnects when no answer comes. Default `true`;
   * `false` leaves it all to the keepalive and the backoff. Means nothing in Node.
   */
  pageLifecycle?: boolean
  /** Limits on publishes held while disconnected; beyond them `publish()` rejects with `QueueFullError`. */
  offlineQueue?: OfflineQueueOptions
  /**
   * Where the outbox keeps QoS 1/2 messages from `publish()` until their flow completes: `fileStore(dir)`
   * (Node) or `indexedDbStore(name)` (browsers) to outlive a crash, a restart or a reload: a new client with
   * the same `clientId` and store sends what the old one left, in order. Default: in memory, for this
   * client alone. Another live client on the same store ends this one with `StoreLockedError`.
   *
   * @example
   * ```ts
   * const client = connect('mqtt://broker:1883', { clientId: 'gateway-7', store: fileStore('/var/lib/gateway/outbox') })
   * client.outbox$.subscribe((e) => console.log(e.id, e.topic, e.state))
   * ```
   */
  store?: Store
  /**
   * Largest packet to accept from the broker, in bytes (whole packet, header included). Under MQTT 5 it is
   * announced in the CONNECT, and the broker then does not send this client larger messages (it drops them
   * for it). A larger packet anyway (a 3.1.1 broker cannot be told) closes the connection with a clear error
   * before its body is read, so a peer cannot make the client buffer more than this. Default: no limit but
   * MQTT's own (256 MiB). Enforced while reading by the lean link; the MQTT.js link announces it only.
   */
  maxIncomingPacketSize?: number
  /**
   * Which MQTT implementation carries the connection: `'lean'` (the default), the SDK's own MQTT 5 and 3.1.1
   * on `Uint8Array`, or `'mqttjs'`, MQTT.js 5 (in a browser loaded on demand, by a dynamic import). Both pass
   * the same test suites; see the client guide's "Links" (docs/guide/client.md). In Node, the environment variable `IOTPUBSUB_LINK=mqttjs`
   * (or `lean`) chooses for every client that does not say.
   *
   * @example
   * ```ts
   * connect('wss://broker.example.com/mqtt', { link: 'mqttjs' }) // back to MQTT.js in a browser (loaded on demand)
   * ```
   */
  link?: 'lean' | 'mqttjs'
  /**
   * Largest PUBLISH packet to send, in bytes; larger ones reject with `PayloadTooLargeError` without being
   * sent. The broker's own limit (MQTT 5 CONNACK maximum packet size) applies as well. Set it to the
   * broker's `message_size_limit` to avoid what the broker does otherwise (see docs/guide/delivery.md).
   */
  maxPacketSize?: number
  /**
   * The highest QoS the broker supports, for brokers that cannot say so (MQTT 3.1.1): a publish above it
   * rejects with `PublishError` (reason code 155) instead of the broker closing the connection. Under MQTT 5
   * the broker's own maximum QoS (CONNACK) applies as well.
   */
  maxQos?: QoS
  /**
   * Where replies to `request()` go: `<replyTopicPrefix>/<clientId>` (with an empty `clientId`, the one the broker
   * assigned, or `anonymous-<random>` for a first request made before the CONNACK). Default `iotpubsub/reply`; the
   * ACL must allow it.
   */
  replyTopicPrefix?: string
  /** Per observed filter, how many topics' retained messages are kept for late observers. Default 1,000. */
  retainedCacheSize?: number
  /**
   * Where the debug log goes: anything with `debug`, `info`, `warn` and `error`, such as `console` or a pino
   * logger. Off by default. Without changing code: `IOTPUBSUB_DEBUG=1` in Node, or
   * `localStorage.setItem('iotpubsub:debug', '1')` in a browser, logs to the console.
   */
  logger?: Logger
  /** Node only: CA certificate(s) (PEM) that the broker's certificate must chain to (`mqtts://`, `wss://`). */
  ca?: string | Uint8Array | Array<string | Uint8Array>
  /** Node only: client certificate (PEM) for brokers that require one (X.509 authentication). */
  cert?: string | Uint8Array
  /** Node only: the client certificate's private key (PEM). */
  key?: string | Uint8Array
  /** Node only: the private key's passphrase. */
  passphrase?: string
  /** Node only: the TLS server name (SNI and certificate check) when it differs from the URL's host. */
  servername?: string
  /** Node only: `false` accepts a broker certificate that does not verify. Default `true`; keep it. */
  rejectUnauthorized?: boolean
}

/** Options of `new MQTTClient()`: a URL, or the broker's address in parts as the original Python class took it. */
export interface MQTTClientOptions extends ClientOptions {
  /**
   * `mqtt://`, `mqtts://`, `ws://` or `wss://` URL (browsers: `ws://` and `wss://` only), or a list of them
   * (the nodes of a cluster): each reconnect attempt moves on to the next one. Without a port, the URL
   * means what MQTT.js connects to: 1883 for mqtt, 8883 for mqtts, 80 for ws, 443 for wss.
   */
  url?: string | readonly string[]
  /** Host name or IP of the broker, used when `url` is absent. */
  brokerIp?: string
  /**
   * Port of the broker. Default 1883 for mqtt, 8883 for mqtts, 9001 for ws, 443 for wss: the original
   * Python class's defaults (9001 being Mosquitto's usual websockets listener), unlike a `url` without a port.
   */
  brokerPort?: number
  /** Scheme used with `brokerIp`. Default `mqtt` in Node, `ws` in browsers. */
  protocol?: 'mqtt' | 'mqtts' | 'ws' | 'wss'
  /** Path of the WebSocket endpoint, used with `brokerIp` and ws/wss. Default `/`. */
  path?: string
}

/** Options of `observe()`. */
export interface ObserveOptions<T> {
  /** The QoS to subscribe with. Several observers of one filter share the highest QoS any of them asked for. */
  qos?: QoS
  /** How payloads are decoded for this observer. Default `'bytes'`. */
  codec?: CodecName | Codec<T>
  /**
   * `'manual'`: the QoS 1/2 acknowledgement of each message waits for `message.ack()`, and the client reads
   * no further message until then, so a slow consumer leaves the backlog with the broker rather than in
   * memory. Use `clean: false` so that unacknowledged messages are delivered again after a reconnect.
   * Default `'auto'`.
   */
  ack?: 'auto' | 'manual'
  /**
   * `true`: a message with an empty payload (a cleared retained value: MQTT clears one with an empty retained
   * publish) skips the codec and comes as a `ClearedMessage` (`cleared: true`, `payload: undefined`). Default
   * `false`: the codec decodes it like any payload (`'bytes'` gives empty bytes, `'text'` `''`, `'json'` a
   * `DecodeError` on `errors$`).
   *
   * @example
   * ```ts
   * client.observe('lamps/+/state', { codec: 'json', cleared: true }).subscribe((m) => (m.cleared ? forget(m.topic) : show(m.payload)))
   * ```
   */
  cleared?: boolean
}

/**
 * MQTT 5 properties a publish may carry: those of a message, less what only the broker sets; user properties
 * also as name-value pairs, sent in that order.
 */
export type PublishProperties = Omit<MessageProperties, 'subscriptionIdentifier' | 'userProperties'> & {
  /** The application's own name-value pairs: a record of names, or pairs (`UserPropertyPairs`) to keep their order. */
  userProperties?: UserProperties | UserPropertyPairs
}

/** Options of `publish()`. */
export interface PublishOptions<T = unknown> {
  /** 0 (default): at most once, settled when written; 1: at least once, settled on PUBACK; 2: exactly once, on PUBCOMP. */
  qos?: QoS
  /**
   * `true`: the broker keeps this message as the topic's retained value and sends it to every later
   * subscriber; a retained publish with an empty payload clears it. Default `false`.
   */
  retain?: boolean
  /** Encodes the payload; without it a Uint8Array is sent as is, a string as UTF-8, anything else as JSON. */
  codec?: CodecName | Codec<T>
  /** MQTT 5 properties (ignored under MQTT 3.1.1). */
  properties?: PublishProperties
  /** Reject with `PublishTimeoutError` if not acknowledged within this many ms. */
  timeout?: number
  /** Reject with `PublishTimeoutError` when this signal aborts. */
  signal?: AbortSignal
  /**
   * The app's own id for the message, reported with it on `outbox$` (also after a restart with a `store`);
   * generated when absent. A publish with the id of a message the outbox still holds is that message: it
   * is not sent again, and its promise settles with the held one's (or, for one restored from a store,
   * when its flow ends). A string of 1 to 256 characters.
   */
  id?: string
  /**
   * Seconds: a message still queued this long after `publish()` is never sent, its promise rejects then with
   * `MessageExpiredError` and `outbox$` reports it `expired`. Under MQTT 5 the message carries the time left
   * as its Message Expiry Interval, so the broker drops it too; under MQTT 3.1.1 only the queue honours it.
   *
   * @example
   * ```ts
   * await client.publish('valves/3/set', 'open', { qos: 1, expiry: 60 }) // never opens the valve an hour late
   * ```
   */
  expiry?: number
  /**
   * `true`: a newer publish to the same topic, also with `collapse`, replaces this one while it is still
   * queued (one already on the wire is never replaced); its promise rejects with `MessageReplacedError`. An
   * offline device then holds the latest value per topic instead of every one.
   */
  collapse?: boolean
}

/** Options of `end()`. */
export interface EndOptions {
  /**
   * Close the socket at once: no wait for in-flight QoS 1/2 publishes and no DISCONNECT, so the broker
   * publishes the last will as for a lost connection.
   */
  force?: boolean
  /** How long a graceful end waits for acknowledgements before closing anyway. Default 5,000 ms. */
  timeout?: number
}

export type { MessageProperties }
