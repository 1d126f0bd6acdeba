import type { IncomingMessage } from '../subscriptions/broker-subscription.js'
import type { MessageProperties, QoS } from '../message.js'
import type { Endpoint } from '../options/resolved-options.js'
import type { ProtocolVersion } from '../status.js'
import type { LinkName } from '../options/link-choice.js'
import type { AuthMethod } from '../auth/auth-method.js'

/**
 * The seam between the SDK and an MQTT protocol implementation: the only thing that touches sockets and
 * packets. The engine above it decides everything (when to connect, to which node, with which protocol,
 * what a close means); a link only carries out one connection at a time and reports what happened.
 */
export interface Link {
  /** Starts a connection attempt; the previous one must have reported `closed`. */
  open(attempt: Attempt): void
  /**
   * Sends a PUBLISH on the current connection. `done` is called once: on the write (QoS 0), on PUBACK or
   * PUBCOMP (QoS 1/2), with a reason code when the broker refused it. Returns the packet identifier of a
   * QoS 1/2 publish, which stays in the link's store (and is resent on the next connection) until acknowledged
   * or withdrawn. On a connection whose CONNACK keeps the session, what was written goes again (DUP; a
   * PUBREC'd QoS 2 as its PUBREL). On one that finds no session, a written QoS 1 goes again as a new message
   * (at least once) and a written QoS 2 is not resent: `done` gets `outcomeUnknown`.
   */
  publish(topic: string, payload: Uint8Array | string, options: LinkPublishOptions, done: (error?: LinkAckError) => void): number | undefined
  /**
   * Gives up an unacknowledged publish (timeout, abort): it is never written again as a PUBLISH, and a late
   * `done` call for it is to be ignored. One not yet written is dropped; one already written keeps its packet
   * identifier reserved until its flow ends (a late PUBACK; PUBREC, PUBREL, PUBCOMP, a released QoS 2's PUBREL
   * being resent while the session lives) or its session does: the broker may still hold it (MQTT 5 §2.2.1).
   */
  withdraw(packetId: number): void
  subscribe(filter: string, options: LinkSubscribeOptions, done: (result: Suback) => void): void
  unsubscribe(filter: string, done: (ok: boolean) => void): void
  /**
   * Several filters in one SUBSCRIBE packet (one packet identifier, one SUBACK): `done` gets a result per entry,
   * in order. None may carry a subscription identifier, which a packet has one of for all its filters. A link
   * without it gets one `subscribe()` per filter.
   */
  subscribeMany?(subscriptions: readonly LinkSubscription[], done: (results: readonly Suback[]) => void): void
  /** Several filters in one UNSUBSCRIBE packet; `done(false)` when the connection closed first. */
  unsubscribeMany?(filters: readonly string[], done: (ok: boolean) => void): void
  /**
   * Whether a publish may be written now: false while the connection holds more unsent bytes than its
   * high-water mark (the socket or the broker is slower than the publisher); `LinkEvents.drained()` follows
   * when it is true again. True when there is no connection (nothing is written then).
   */
  readonly writable: boolean
  /**
   * Takes the session state a store kept, before the first `open()`: its publishes become the link's, under
   * their packet identifiers (reserved from now on). If the first CONNACK resumes the session they go again as
   * written ones do (DUP; a released QoS 2 as its PUBREL), else by the lost session's rule; the incoming QoS 2
   * identifiers are not delivered again. The link reports its session changes to `session.record`. A link
   * without it keeps no session across processes.
   */
  resume?(session: LinkSession): void
  /** Closes the current connection at once, without DISCONNECT (the next `open()` resends what is unacknowledged). */
  drop(): void
  /**
   * The final close: sends DISCONNECT (unless `force`) and gives up whatever is unacknowledged; resolves when
   * the socket is closed or after `timeout` ms, when it is destroyed.
   */
  close(options: { force: boolean; timeout: number }): Promise<void>
}

/**
 * The client's session state as a store kept it, handed to a new link by `Link.resume`, and where the link
 * reports its changes so that the store keeps up.
 *
 * @example
 * ```ts
 * link.resume({ outgoing: [{ packetId: 7, topic: 'a/b', payload, options: { qos: 1, retain: false }, released: false, done }], incoming: [12], record: (change) => store.write(change) })
 * ```
 */
export interface LinkSession {
  /** Publishes written by an earlier client whose flow had not ended, oldest first. */
  readonly outgoing: readonly RestoredPublish[]
  /** Incoming QoS 2 identifiers delivered (PUBREC sent) whose PUBREL had not come. */
  readonly incoming: readonly number[]
  /** A change of the session state, when the link makes it (QoS 2 only: the rest the engine sees itself). */
  record(change: LinkSessionChange): void
}

/** A publish of an earlier client on the store, handed to the link under its packet identifier. */
export interface RestoredPublish {
  readonly packetId: number
  readonly topic: string
  readonly payload: Uint8Array | string
  readonly options: LinkPublishOptions
  /** QoS 2: PUBREC had come and PUBREL had been sent; only PUBCOMP is awaited. */
  readonly released: boolean
  /** As `Link.publish`'s `done`. */
  readonly done: (error?: LinkAckError) => void
}

/**
 * What the link records of the session: `released` (PUBREC of an outgoing QoS 2 came, PUBREL sent), `incoming`
 * (an incoming QoS 2 delivered, its PUBREC sent), `incomingReleased` (its PUBREL came, PUBCOMP sent).
 */
export type LinkSessionChange =
  | { readonly type: 'released'; readonly packetId: number }
  | { readonly type: 'incoming' | 'incomingReleased'; readonly packetId: number }

/** What one connection attempt uses; everything else was fixed when the link was made. */
export interface Attempt {
  readonly endpoint: Endpoint
  readonly protocolVersion: ProtocolVersion
  readonly username: string | undefined
  readonly password: string | undefined
  /**
   * The connection's epoch for this attempt (`Connection.epoch`, new for each attempt): what the link keys the
   * attempt's state to, so that an event of an earlier attempt's transport is recognised as late.
   */
  readonly epoch: number
}

export interface LinkPublishOptions {
  readonly qos: QoS
  readonly retain: boolean
  readonly properties?: MessageProperties | undefined
}

export interface LinkSubscribeOptions {
  readonly qos: QoS
  /** MQTT 5 only: retain handling, retain as published, subscription identifier. */
  readonly rh?: 0 | 1 | 2
  readonly rap?: boolean
  readonly id?: number | undefined
}

/** One filter of a SUBSCRIBE packet, with its own options. */
export interface LinkSubscription {
  readonly filter: string
  readonly options: LinkSubscribeOptions
}

/** A SUBACK: the granted QoS, or the broker's failure code; `lost` when the connection closed first. */
export type Suback = { readonly granted: QoS } | { readonly refused: number } | { readonly lost: true }

/**
 * A publish the broker refused (`code`: its MQTT 5 reason code), or that the link could not complete. An
 * `Error` has this shape, so a link can hand its implementation's errors on as they are.
 */
export interface LinkAckError {
  readonly message: string
  readonly code?: unknown
  /**
   * A reconnect found no session (`sessionPresent: false`) before a written QoS 2 publish completed: the
   * broker may or may not have delivered it, and the link does not resend it.
   */
  readonly outcomeUnknown?: boolean
  /** With `outcomeUnknown`: the broker had answered PUBREC, so it did take the message (it did not refuse it). */
  readonly received?: boolean
}

/** The broker's CONNACK, with the MQTT 5 properties the engine acts on. */
export interface Connack {
  readonly sessionPresent: boolean
  readonly maximumQoS: QoS | undefined
  readonly maximumPacketSize: number | undefined
  /** MQTT 5 Receive Maximum: QoS 1/2 publishes the broker takes unacknowledged at once (65,535 when not announced). */
  readonly receiveMaximum: number
  readonly subscriptionIdentifiersAvailable: boolean
  /** Every MQTT 5 property the CONNACK carried, for the debug log. */
  readonly properties: Readonly<Record<string, unknown>> | undefined
}

/**
 * Why a connection (or an attempt) failed, as far as the link can tell; the engine diagnoses it. A close
 * can come with none of these (the broker or the network closed the socket without a word).
 */
export type LinkFailure =
  /** CONNACK with a non-zero code. */
  | { readonly type: 'refused'; readonly code: number; readonly message: string }
  /** The broker sent DISCONNECT (MQTT 5). */
  | { readonly type: 'disconnect'; readonly code: number; readonly reason: string | undefined }
  /** No sign of life from the broker within 1.5 × keepalive. */
  | { readonly type: 'keepalive' }
  /** No CONNACK within `connectTimeout`. */
  | { readonly type: 'connect-timeout' }
  /**
   * The broker sent a packet that could not be parsed. For an acknowledgement of a publish whose reason code
   * the parser refused (Mosquitto's PUBACK 149), `ack` says which kind and, when the bytes showed it, the
   * packet identifier and reason code.
   */
  | { readonly type: 'malformed'; readonly message: string; readonly ack: MalformedAck | undefined }
  /** A socket or TLS error (`code` as Node gives it: ECONNREFUSED, ERR_TLS_..., ...). */
  | { readonly type: 'socket'; readonly code: string | undefined; readonly message: string }
  /**
   * MQTT 5 enhanced authentication failed without a CONNACK refusal: the method failed or the broker did not
   * prove itself (`reauth` false: at connect), or a re-authentication of the live connection did (the broker's
   * DISCONNECT, or the method).
   */
  | { readonly type: 'auth'; readonly message: string; readonly reauth: boolean }
  /** Anything else the protocol implementation reported. */
  | { readonly type: 'protocol'; readonly message: string }
  /**
   * What answered does not speak the URL's transport: HTTP on an mqtt(s):// URL (a websockets listener), or
   * a WebSocket handshake answered with bytes that are not HTTP, or reset (a raw MQTT listener). `url` is the
   * endpoint as given, `suggested` the URL that would probably work, `detail` what was heard.
   */
  | { readonly type: 'wrong-transport'; readonly url: string; readonly heard: 'http' | 'not-http' | 'reset'; readonly detail: string; readonly suggested: string }
  /**
   * The WebSocket handshake of a ws(s):// URL failed: with the HTTP status where the server answered one
   * (Node), or the close code where that is all there is (browsers report no reason to the page).
   */
  | { readonly type: 'websocket-handshake'; readonly url: string; readonly status: number | undefined; readonly closeCode: number | undefined; readonly detail: string }

export interface MalformedAck {
  readonly cmd: 'puback' | 'pubrec'
  readonly packetId: number | undefined
  readonly reasonCode: number | undefined
}

/**
 * The engine is done with a message. With `turn`, the message is acknowledged at once, but the next one is
 * delivered only once `turn` calls back (the engine lets timers and I/O run first): a wait that short needs no
 * read-ahead, so the link may leave what arrives meanwhile unread rather than hold it.
 *
 * @example
 * ```ts
 * const events = { ...rest, message: (message, done: MessageDone) => {
 *   handle(message)
 *   done((resume) => setImmediate(resume)) // acknowledged now; the next message after a turn of the event loop
 * } }
 * ```
 */
export type MessageDone = (turn?: (resume: () => void) => void) => void

/** What a link reports, to one listener: the engine. */
export interface LinkEvents {
  /**
   * The broker accepted the connection: publishes and subscriptions may be handed to the link from now on. A link
   * that first sends again what a kept session left unacknowledged keeps them behind it, in order (`writable` is
   * false meanwhile, then `drained`).
   */
  connected(connack: Connack): void
  /**
   * A PUBLISH from the broker. The link delivers no further message, and sends this one's acknowledgement
   * (QoS 1/2), only when `done` is called; the engine uses that for manual acknowledgements. Meanwhile the link
   * reads on (PINGRESP, PUBACK, SUBACK, ...), holding the PUBLISHes that come in order, and pauses the socket
   * past a bounded read-ahead. `done(turn)` yields to the event loop: see {@link MessageDone}.
   */
  message(message: IncomingMessage, done: MessageDone): void
  failed(failure: LinkFailure): void
  /** `writable` is true again: the bytes held for the socket fell below the low-water mark. */
  drained(): void
  /** The connection or the attempt is over; `open()` may be called again. */
  closed(): void
}

/** Makes a link for one client: the entry points choose the implementation. */
export type LinkFactory = (settings: LinkSettings, events: LinkEvents) => Link

/** What is fixed for a client's whole life. */
export interface LinkSettings {
  readonly clientId: string
  readonly clean: boolean
  readonly keepalive: number
  readonly connectTimeout: number
  readonly sessionExpiryInterval: number | undefined
  readonly will: { readonly topic: string; readonly payload: Uint8Array | string; readonly qos: QoS; readonly retain: boolean } | undefined
  readonly tls: Readonly<Record<string, unknown>>
  /** Largest packet to take from the broker (MQTT 5: announced in CONNECT); undefined: MQTT's own limit. */
  readonly maxIncomingPacketSize: number | undefined
  /** MQTT 5 enhanced authentication: the method every CONNECT runs (the lean link only). */
  readonly auth?: AuthMethod | undefined
  /** Which implementation the runtime's factory makes: the `link` option, or the platform's default. */
  readonly link: LinkName
}
