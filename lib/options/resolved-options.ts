import type { LinkName } from './link-choice.js'
import type { Logger } from '../log/logger.js'
import type { QoS } from '../message.js'
import type { Store } from '../store/store.js'
import type { AuthMethod } from '../auth/auth-method.js'
import type { MQTTClientOptions, OfflineQueueOptions, ReconnectOptions } from './client-options.js'

/** One broker node: its URL as given and the parts a connection attempt needs (default port filled in). */
export interface Endpoint {
  readonly url: string
  readonly protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss'
  /** Without IPv6 brackets. */
  readonly hostname: string
  readonly port: number
  /**
   * Path and query, for WebSockets (`/` when absent); `''` for mqtt and mqtts, because MQTT.js's TCP
   * connector opens a Unix socket when given a path.
   */
  readonly path: string
  /** Node only: the proxy the attempt goes through (the `proxy` option or the environment); absent: direct. */
  readonly proxy?: ProxyEndpoint
  /** Node only: headers added to the WebSocket handshake (`webSocket.headers`, then the provider's `headers`). */
  readonly headers?: Readonly<Record<string, string>>
  /** WebSocket subprotocols offered after `mqtt` (`webSocket.subprotocols`). */
  readonly subprotocols?: readonly string[]
}

/** An HTTP (CONNECT) or SOCKS5 proxy, parsed once from its URL. */
export interface ProxyEndpoint {
  /** The proxy's URL without its credentials: what messages name. */
  readonly url: string
  /** `socks5h` resolves the broker's name at the proxy; `socks5` here, as curl does. */
  readonly protocol: 'http' | 'socks5' | 'socks5h'
  readonly hostname: string
  readonly port: number
  /** Basic proxy authentication (HTTP) or RFC 1929 username/password (SOCKS5); never logged. */
  readonly username?: string
  readonly password?: string
}

/** What one attempt connects with: the credentials, and the endpoint (the provider's `url`, or the next node). */
export interface AttemptCredentials {
  readonly username: string | undefined
  readonly password: string | undefined
  /** The provider's `url` (its query hidden in `url`, kept in `path`) or the node given, with the provider's `headers`. */
  readonly endpoint?: Endpoint
}

/** A last will, checked once. */
export interface ResolvedWill {
  readonly topic: string
  readonly payload: Uint8Array | string
  readonly qos: QoS
  readonly retain: boolean
}

/** Node-only TLS settings passed through to the socket. */
export interface TlsOptions {
  readonly ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array>
  readonly cert?: string | Uint8Array
  readonly key?: string | Uint8Array
  readonly passphrase?: string
  readonly servername?: string
  readonly rejectUnauthorized?: boolean
}

/**
 * Every option after validation and defaults, computed once by `resolveOptions()` and frozen (deeply):
 * the rest of the SDK reads these, never the user's object.
 */
export interface ResolvedOptions {
  readonly endpoints: readonly Endpoint[]
  readonly clientId: string
  readonly username: string | undefined
  readonly password: string | undefined
  /** The provider, its answer checked: called with the node the attempt would go to without a `url` of its own. */
  readonly credentials: ((node?: Endpoint) => Promise<AttemptCredentials>) | undefined
  readonly clean: boolean
  /** MQTT 5 session expiry to send; `clean: false` without one means "never" (0xFFFFFFFF). */
  readonly sessionExpiryInterval: number | undefined
  /** Seconds; 0 turns keepalive off. */
  readonly keepalive: number
  readonly protocolVersion: 4 | 5 | 'auto'
  readonly connectTimeout: number
  readonly reconnect: Readonly<Required<ReconnectOptions>> | false
  /** Browser only: react to online/offline, visibility and freeze events. */
  readonly pageLifecycle: boolean
  readonly will: ResolvedWill | undefined
  readonly offlineQueue: Readonly<Required<OfflineQueueOptions>>
  readonly maxPacketSize: number | undefined
  /** The link asked for; undefined: the platform's default. */
  readonly link: LinkName | undefined
  /** Largest packet to accept from the broker (MQTT 5: announced in CONNECT). */
  readonly maxIncomingPacketSize: number | undefined
  readonly maxQos: QoS
  readonly replyTopicPrefix: string
  readonly retainedCacheSize: number
  readonly tls: TlsOptions
  /** The user's logger, checked to have its four methods. */
  readonly logger: Logger | undefined
  /** The outbox's store; undefined: the outbox lives in the client's memory alone. */
  readonly store: Store | undefined
  /** MQTT 5 enhanced authentication: the user's method, kept by reference (only its `method` and `start` are read). */
  readonly auth: AuthMethod | undefined
}

export type { MQTTClientOptions }
