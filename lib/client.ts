import mqtt from 'mqtt'
import type { IClientSubscribeOptions, IConnackPacket, IDisconnectPacket, IPublishPacket, ISubscriptionGrant, MqttClient, Packet } from 'mqtt'
import { Observable, ReplaySubject, Subject, type Subscription } from 'rxjs'
import { backoffDelay, DEFAULT_RECONNECT } from './backoff.js'
import type { BrokerSubscription, FilterObserver, IncomingMessage, SubscriptionInfo } from './broker-subscription.js'
import { coalesceWrites } from './coalesce-writes.js'
import { type Codec, encodePayload, resolveCodec } from './codec.js'
import {
  ClientClosedError,
  ConnectionLostError,
  ConnectionRefusedError,
  DecodeError,
  HandlerError,
  IotPubSubError,
  ClientIdConflictError,
  NotAuthorizedError,
  PayloadTooLargeError,
  PublishError,
  PublishTimeoutError,
  SubscriptionRejectedError,
} from './errors.js'
import type { Message, MessageProperties, QoS } from './message.js'
import { reshape } from './delivered-message.js'
import { type ObserverHost, ObserverRecord } from './filter-observer.js'
import { checkQos, toMqttOptions } from './mqtt-options.js'
import { DEFAULT_OFFLINE_QUEUE, OfflineQueue } from './offline-queue.js'
import type { Credentials, EndOptions, MQTTClientOptions, ObserveOptions, PublishOptions, ReconnectOptions } from './options.js'
import { payloadSize, publishPacketSize } from './packet-size.js'
import { PendingAck } from './pending-ack.js'
import { brokerUrls, type Platform } from './platform.js'
import { classifyRefusal, isCertificateFailure } from './refusal.js'
import { Requester, type RequestOptions } from './requester.js'
import { observeRoute, type Route, type RouteMessage, type RouteOptions, type RouteParams } from './route.js'
import { serveRequests } from './serve.js'
import type { ProtocolVersion, Status } from './status.js'
import { SubscriptionRegistry } from './subscription-registry.js'
import { assertTopicName, parseFilter } from './topic.js'

/** A connection that lasted this long resets the backoff; shorter ones keep counting attempts up. */
const STABLE_CONNECTION_MS = 10_000
/** This many connections in a row closed by the broker soon after CONNACK, without a reason: a client-id conflict. */
const TAKEOVER_THRESHOLD = 3
const SESSION_TAKEN_OVER = 142
const QOS_NOT_SUPPORTED = 155
/** MQTT.js's defaults when a URL names no port. */
const DEFAULT_PORTS = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 } as const

type Settle = (error?: Error) => void

function randomClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6))
  return `iotpubsub_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

function sameCredentials(a: Credentials | undefined, b: Credentials | undefined): boolean {
  return a !== undefined && b !== undefined && a.username === b.username && a.password === b.password
}

function reasonCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

/**
 * The client behind `connect()` and `new MQTTClient()`; import those from 'iotpubsub', which pick the
 * right platform. One instance holds one connection, its subscriptions and its status; nothing is shared
 * between instances.
 */
export class BaseClient {
  /**
   * The connection status: `connecting`, `connected`, `reconnecting` (with attempt, delay and cause) and
   * finally `closed`. Replays the current status to each new subscriber; completes after `closed`.
   *
   * @example
   * ```ts
   * client.status$.subscribe((s) => (badge.textContent = s.type))
   * ```
   */
  readonly status$: Observable<Status>
  /**
   * Problems that do not end anything: a payload an observer's codec (or a route's schema) could not decode
   * (`DecodeError`; the observer keeps receiving), a manually acknowledged message whose handler failed
   * (`HandlerError`; it comes again). Completes when the client closes.
   *
   * @example
   * ```ts
   * client.errors$.subscribe((e) => { if (e instanceof DecodeError) console.warn(e.topic, e.cause) })
   * ```
   */
  readonly errors$: Observable<IotPubSubError>
  /** The broker URLs: one, or the nodes of a cluster in the order they are tried. */
  readonly urls: readonly string[]
  readonly clientId: string
  /**
   * The client's broker subscriptions and their state: the filter, the QoS asked for and the QoS the broker
   * granted (lower when the broker cannot give more), and how many observers share it. Replays the current
   * list; updates at most once per microtask.
   *
   * @example
   * ```ts
   * client.subscriptions$.subscribe((subs) => subs.filter((s) => s.grantedQos !== undefined && s.grantedQos < s.requestedQos).forEach(warn))
   * ```
   */
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>

  /** The broker URL in use, or the one the next attempt goes to. */
  get url(): string {
    return this.urls[this.urlIndex] as string
  }

  // A replay of one, not a BehaviorSubject: after `closed` it must still replay `closed` before completing.
  private readonly statusSubject = new ReplaySubject<Status>(1)
  private readonly errorSubject = new Subject<IotPubSubError>()
  private readonly mqtt: MqttClient
  private readonly registry: SubscriptionRegistry
  private readonly pending = new Set<Settle>()
  private readonly reconnectPolicy: Required<ReconnectOptions> | false
  private readonly persistentSession: boolean
  private protocol: ProtocolVersion
  private readonly autoProtocol: boolean
  private fallBackProtocol = false
  private useIdentifiers = false
  private attempt = 0
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private lastError: IotPubSubError | undefined
  private fatal: IotPubSubError | undefined
  private closing = false
  private ending: Promise<void> | undefined
  private onDrained: (() => void) | undefined
  private urlIndex = 0
  private readonly maxQos: QoS
  private brokerMaxQos: QoS = 2
  /** Whether the attempt under way has had its CONNACK (a close before it may mean "no MQTT 5 here"). */
  private connackSeen = false
  /** Changes for current listeners; a new listener starts from a snapshot taken when it subscribes. */
  private readonly subscriptionsSubject = new Subject<readonly SubscriptionInfo[]>()
  private subscriptionsDirty = false
  /** Observers with `ack: 'manual'`; while there are none, incoming messages carry no acknowledgement state. */
  private manualObservers = 0
  private readonly acks = new WeakMap<IPublishPacket, PendingAck>()
  /** How observers reach back to this client: one object, not closures per observer. */
  private readonly onConnack = (packet: Packet): void => {
    if (packet.cmd !== 'connack') return
    this.adoptServerKeepalive(packet)
    // Before MQTT.js sends any PUBLISH on this connection (it holds them until the CONNACK).
    coalesceWrites(this.mqtt.stream)
  }
  private readonly observerHost: ObserverHost = {
    decodeFailed: (error) => this.errorSubject.next(error),
    detach: (observer) => {
      if (observer.manual) this.manualObservers -= 1
      if (observer.subscription) this.release(observer.subscription, observer)
    },
  }
  /** Counts connections, so that an acknowledgement for a message of an earlier connection is dropped. */
  private connection = 0
  private requester: Requester | undefined
  private readonly replyPrefix: string
  private readonly credentials: (() => Credentials | Promise<Credentials>) | undefined
  /** The credentials of the attempt under way, to tell a refreshed token from the one just refused. */
  private attemptCredentials: Credentials | undefined
  private refusedCredentials: Credentials | undefined
  private readonly offlineQueue: OfflineQueue
  private readonly maxPacketSize: number | undefined
  private brokerMaxPacketSize: number | undefined
  private connectedAt: number | undefined
  private shortConnections = 0
  /** Filters whose SUBSCRIBE on this connection awaits its SUBACK: a close then is the broker's answer to it. */
  private readonly subscribesInFlight = new Set<string>()
  /** Filters released while offline: a persistent session still holds them, so they are unsubscribed on return. */
  private readonly staleFilters = new Set<string>()

  constructor(options: MQTTClientOptions, platform: Platform) {
    this.urls = brokerUrls(options, platform)
    this.maxQos = checkQos(options.maxQos ?? 2)
    this.replyPrefix = options.replyTopicPrefix ?? 'iotpubsub/reply'
    this.clientId = options.clientId ?? randomClientId()
    this.autoProtocol = options.protocolVersion === undefined || options.protocolVersion === 'auto'
    this.protocol = options.protocolVersion === 4 ? 4 : 5
    this.persistentSession = options.clean === false
    this.reconnectPolicy = options.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...options.reconnect }
    this.registry = new SubscriptionRegistry(options.retainedCacheSize ?? 1_000)
    if (options.will) assertTopicName(options.will.topic)
    this.credentials = options.credentials
    this.offlineQueue = new OfflineQueue({ ...DEFAULT_OFFLINE_QUEUE, ...options.offlineQueue })
    this.maxPacketSize = options.maxPacketSize

    this.statusSubject.next({ type: 'connecting', url: this.url })
    this.status$ = this.statusSubject.asObservable()
    this.errors$ = this.errorSubject.asObservable()

    this.subscriptions$ = new Observable<readonly SubscriptionInfo[]>((subscriber) => {
      subscriber.next(this.subscriptionSnapshot())
      return this.subscriptionsSubject.subscribe(subscriber)
    })
    this.mqtt = mqtt.connect(this.url, toMqttOptions(options, this.clientId, this.protocol))
    this.mqtt.on('connect', (connack) => this.onConnect(connack))
    this.mqtt.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet))
    this.mqtt.on('error', (error) => this.onError(error))
    this.mqtt.on('disconnect', (packet) => this.onDisconnectPacket(packet))
    this.mqtt.on('close', () => this.onClose())
    // MQTT.js sends a QoS 1/2 acknowledgement when this calls back, and reads no further packet until then.
    this.mqtt.handleMessage = (packet, callback) => {
      // No manual observer: nothing can be holding this message (a leaving observer acknowledges its own).
      const pending = this.manualObservers > 0 ? this.acks.get(packet) : undefined
      if (pending) pending.whenReleased(() => callback())
      else callback()
    }
    void this.open(true)
  }

  /**
   * An Observable of the messages on a topic filter. The broker subscription is made when the first
   * observer subscribes and removed after the last one leaves; observers of one filter share it, at the
   * highest QoS any of them asked for. A late observer first receives the retained messages the client
   * has seen, marked `retain: true`. Observers survive reconnects; `end()` completes them.
   *
   * Throws `InvalidTopicError` at once for a malformed filter.
   *
   * @example
   * ```ts
   * const temps$ = client.observe<{ celsius: number }>('rooms/+/temp', { qos: 1, codec: 'json' })
   * const sub = temps$.subscribe((m) => console.log(m.params[0], m.payload.celsius))
   * sub.unsubscribe() // the last observer leaving sends UNSUBSCRIBE
   * ```
   */
  observe(filter: string, options?: ObserveOptions<Uint8Array> & { codec?: 'bytes' }): Observable<Message<Uint8Array>>
  observe(filter: string, options: ObserveOptions<string> & { codec: 'text' }): Observable<Message<string>>
  observe<T = unknown>(filter: string, options: ObserveOptions<T> & { codec: 'json' }): Observable<Message<T>>
  observe<T>(filter: string, options: ObserveOptions<T> & { codec: Codec<T> }): Observable<Message<T>>
  observe<T>(filter: string, options: ObserveOptions<T> = {}): Observable<Message<T>> {
    const parsed = parseFilter(filter)
    const qos = checkQos(options.qos ?? 0)
    const codec = resolveCodec<T>(options.codec)
    const manual = options.ack === 'manual'
    return new Observable<Message<T>>((subscriber) => {
      if (this.closing) {
        subscriber.error(this.fatal ?? new ClientClosedError('observe() on a client that has ended'))
        return undefined
      }
      const observer = new ObserverRecord<T>(this.observerHost, subscriber, qos, codec, manual)
      if (manual) this.manualObservers += 1
      const existing = this.registry.get(filter)
      const subscription = existing ?? this.registry.create(parsed)
      observer.subscription = subscription
      subscription.add(observer)
      this.subscriptionsChanged()
      if (!existing) {
        this.staleFilters.delete(filter)
        this.sendSubscribe(subscription)
      } else {
        if (qos > subscription.requestedQos) this.sendSubscribe(subscription)
        subscription.replayTo(observer)
      }
      return observer
    })
  }

  /**
   * Publishes a message. Resolves when the QoS is satisfied: written to the connection (QoS 0), PUBACK
   * (QoS 1) or PUBCOMP (QoS 2); while disconnected the message waits in the offline queue. Rejects with
   * `PublishError` (and the MQTT 5 reason code) when the broker refuses it, `PublishTimeoutError` on
   * `timeout`/`signal`, `ClientClosedError` when the client ends first.
   *
   * Throws `InvalidTopicError` at once for a malformed topic name.
   *
   * @example
   * ```ts
   * await client.publish('rooms/kitchen/temp', { celsius: 21.5 }, { qos: 1, retain: true })
   * ```
   */
  publish<T = unknown>(topic: string, payload: T, options: PublishOptions<T> = {}): Promise<void> {
    assertTopicName(topic)
    const qos = checkQos(options.qos ?? 0)
    let bytes: Uint8Array | string
    try {
      bytes = options.codec ? resolveCodec<T>(options.codec).encode(payload) : encodePayload(payload)
    } catch (error) {
      throw new PublishError(topic, 'the payload could not be encoded', { cause: error })
    }
    if (this.closing) return Promise.reject(new ClientClosedError('publish() on a client that has ended', this.fatal))
    const maxQos = Math.min(this.maxQos, this.brokerMaxQos)
    if (qos > maxQos) {
      return Promise.reject(new PublishError(topic, `QoS ${qos} is not supported by the broker (maximum ${maxQos})`, { reasonCode: QOS_NOT_SUPPORTED }))
    }
    const limit = Math.min(this.maxPacketSize ?? Infinity, this.brokerMaxPacketSize ?? Infinity)
    if (limit !== Infinity) {
      const size = publishPacketSize(topic, bytes, qos, options.properties)
      if (size > limit) {
        return Promise.reject(new PayloadTooLargeError(`Publish to ${JSON.stringify(topic)} refused: the packet would be about ${size} bytes, over the limit of ${limit}`, limit))
      }
    }
    const { signal, timeout } = options
    if (signal?.aborted) return Promise.reject(new PublishTimeoutError('publish aborted before it was sent', { cause: signal.reason }))
    const publishOptions: { qos: QoS; retain: boolean; properties?: MessageProperties } = { qos, retain: options.retain ?? false }
    if (options.properties) publishOptions.properties = options.properties

    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      let messageId: number | undefined
      let unqueue: (() => void) | undefined
      const onAbort = (): void => settle(new PublishTimeoutError(`publish to ${JSON.stringify(topic)} aborted`, { cause: signal?.reason }))
      const settle: Settle = (error) => {
        if (!this.pending.delete(settle)) return
        if (error instanceof PublishTimeoutError) {
          // Given up: take the message back, so that it is not sent (or sent again) on a later connection.
          unqueue?.()
          if (messageId !== undefined && this.mqtt.outgoing[messageId]) this.mqtt.removeOutgoingMessage(messageId)
        }
        if (this.pending.size === 0) this.onDrained?.()
        if (timer !== undefined) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (error) reject(error)
        else resolve()
      }
      const onAck = (error?: Error): void => {
        if (!error) return settle()
        if (this.closing) return settle(new ClientClosedError('the client was ended before the publish was acknowledged', error))
        const reasonCode = reasonCodeOf(error)
        settle(new PublishError(topic, error.message, reasonCode === undefined ? { cause: error } : { cause: error, reasonCode }))
      }
      const send = (): void => {
        unqueue = undefined
        // MQTT.js's payload type names Buffer; a Uint8Array is written the same way.
        this.mqtt.publish(topic, bytes as string, publishOptions as Parameters<MqttClient['publish']>[2], onAck)
        if (qos > 0) messageId = this.messageIdOf(onAck)
      }
      // Registered first: MQTT.js may call back synchronously (QoS 0 written at once).
      this.pending.add(settle)
      if (this.mqtt.connected) {
        send()
      } else {
        // Held here rather than in MQTT.js, which has no bound and sends QoS 0 and QoS 1/2 out of order.
        const queued = this.offlineQueue.enqueue(topic, qos, payloadSize(bytes), send)
        if (queued instanceof Error) return settle(queued)
        unqueue = queued
      }
      if (timeout !== undefined) {
        timer = setTimeout(() => settle(new PublishTimeoutError(`publish to ${JSON.stringify(topic)} not acknowledged within ${timeout} ms`)), timeout)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** The packet id MQTT.js just gave the QoS 1/2 publish with this callback (checked against its in-flight table). */
  private messageIdOf(callback: (error?: Error) => void): number | undefined {
    const last = this.mqtt.messageIdProvider.getLastAllocated()
    if (last !== null && this.mqtt.outgoing[last]?.cb === callback) return last
    for (const [id, entry] of Object.entries(this.mqtt.outgoing)) if (entry.cb === callback) return Number(id)
    return undefined
  }

  /**
   * Sends a request and resolves with the reply (MQTT 5 request/response: a response topic of this client's
   * own and correlation data). Rejects with `RequestTimeoutError` after `timeout` ms (default 10,000), with
   * `ResponderError` when the responder's handler failed, with `ConnectionLostError` when the connection drops
   * first, with `ClientClosedError` on `end()`, and with `UnsupportedOptionError` under MQTT 3.1.1.
   *
   * @example
   * ```ts
   * const reply = await client.request('devices/d1/rpc/reboot', { delay: 5 }, { timeout: 2000, codec: 'json' })
   * ```
   */
  request(topic: string, payload: unknown, options?: RequestOptions<Uint8Array> & { codec?: 'bytes' }): Promise<Message<Uint8Array>>
  request(topic: string, payload: unknown, options: RequestOptions<string> & { codec: 'text' }): Promise<Message<string>>
  request<T = unknown>(topic: string, payload: unknown, options: RequestOptions<T> & { codec: 'json' }): Promise<Message<T>>
  request<T>(topic: string, payload: unknown, options: RequestOptions<T> & { codec: Codec<T> }): Promise<Message<T>>
  async request<T>(topic: string, payload: unknown, options: RequestOptions<T> = {}): Promise<Message<T>> {
    assertTopicName(topic)
    if (this.closing) throw new ClientClosedError('request() on a client that has ended', this.fatal)
    this.requester ??= new Requester(this, `${this.replyPrefix}/${this.clientId}`)
    const reply = await this.requester.request(topic, payload, options)
    let decoded: T
    try {
      decoded = resolveCodec<T>(options.codec).decode(reply.raw)
    } catch (error) {
      throw new DecodeError(reply.topic, reply.raw, error)
    }
    return reshape(reply, decoded, reply.params)
  }

  /**
   * Answers requests on a filter: each request's handler result is published to its response topic with its
   * correlation data; a handler that throws sends an error reply, which the requester gets as `ResponderError`.
   * Handlers run concurrently. Unsubscribe the returned subscription to stop serving.
   *
   * @example
   * ```ts
   * const serving = client.serve('$share/api/devices/+/rpc/status', async (req) => ({ ok: true, device: req.params[0] }))
   * ```
   */
  serve<T = Uint8Array>(filter: string, handler: (request: Message<T>) => unknown, options: ObserveOptions<T> = {}): Subscription {
    const qos = options.qos ?? 1
    return serveRequests(this, this.observe(filter, { ...options, qos } as ObserveOptions<T> & { codec: Codec<T> }), handler, qos)
  }

  /**
   * Messages on a typed route: a pattern with named parameters (`'devices/{deviceId}/telemetry/{sensor}'`),
   * whose `params` are an object typed from the pattern. With `schema`, each decoded payload is validated
   * (`(value: unknown) => T`, throwing on bad input); failures are reported like decode errors.
   *
   * @example
   * ```ts
   * client.route('devices/{deviceId}/telemetry/{sensor}', { codec: json<Telemetry>() })
   *   .subscribe((m) => chart(m.params.deviceId, m.params.sensor, m.payload))
   * ```
   */
  route<P extends string, T = Uint8Array>(pattern: P | Route<P>, options: RouteOptions<T> = {}): Observable<RouteMessage<T, RouteParams<P>>> {
    return observeRoute(this, pattern, options)
  }

  /**
   * Closes the client: completes every observer (without unsubscribing, so a persistent session keeps its
   * subscriptions), waits up to `timeout` ms for in-flight QoS 1/2 publishes, sends DISCONNECT (so no last
   * will is published), rejects what is still pending with `ClientClosedError`, and sets the status to
   * `closed`. Safe to call more than once.
   *
   * @example
   * ```ts
   * await client.end()
   * ```
   */
  end(options: EndOptions = {}): Promise<void> {
    this.ending ??= this.shutdown(options)
    return this.ending
  }

  private async shutdown({ force = false, timeout = 5_000 }: EndOptions): Promise<void> {
    this.closing = true
    this.clearReconnect()
    for (const subscription of this.registry.all()) {
      this.registry.delete(subscription)
      subscription.completeAll()
    }
    if (!force && this.mqtt.connected && this.pending.size > 0) await this.drain(timeout)
    await this.disconnect(force ? 0 : timeout)
    this.settleAll(new ClientClosedError('the client was ended before the operation completed'))
    this.finish(undefined)
  }

  /** Resolves when no publish is pending, or after `timeout` ms. */
  private drain(timeout: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.onDrained = undefined
        resolve()
      }
      const timer = setTimeout(done, timeout)
      this.onDrained = done
    })
  }

  /**
   * Sends DISCONNECT (so the broker drops the last will) and closes the connection; a broker that does
   * not close its side within `timeout` ms (frozen, half-open) has the socket destroyed under it.
   */
  private disconnect(timeout: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer)
        resolve()
      }
      if (this.mqtt.connected && timeout > 0) {
        timer = setTimeout(() => {
          this.mqtt.stream?.destroy()
          done()
        }, timeout)
        // Whatever is still unacknowledged is given up, so that DISCONNECT can go out now.
        for (const id of Object.keys(this.mqtt.outgoing)) this.mqtt.removeOutgoingMessage(Number(id))
        this.mqtt.end(false, {}, done)
      } else {
        this.mqtt.end(true, {}, done)
      }
    })
  }

  private sendSubscribe(subscription: BrokerSubscription): void {
    subscription.requestedQos = subscription.wantedQos()
    if (!this.mqtt.connected) return // sent by onConnect
    const options: IClientSubscribeOptions = { qos: subscription.requestedQos }
    if (this.protocol === 5) {
      // rh 1: a QoS upgrade or a resubscription on a resumed session does not resend retained messages;
      // rap: live retained publishes keep their flag, so the retained cache follows them.
      options.rh = 1
      options.rap = true
      if (this.useIdentifiers) options.properties = { subscriptionIdentifier: subscription.id }
    }
    subscription.retainAsPublished = this.protocol === 5
    this.subscribesInFlight.add(subscription.filter)
    this.mqtt.subscribe(subscription.filter, options, (error, granted) => this.onSuback(subscription, error, granted))
  }

  private onSuback(subscription: BrokerSubscription, error: Error | null, granted: ISubscriptionGrant[] | undefined): void {
    const reasonCode = error ? reasonCodeOf(error) : undefined
    // Without a code the connection closed before the SUBACK: onConnect subscribes again.
    if (error && reasonCode === undefined) return
    this.subscribesInFlight.delete(subscription.filter)
    if (this.registry.get(subscription.filter) !== subscription) return
    if (error && reasonCode !== undefined) {
      this.registry.delete(subscription)
      this.subscriptionsChanged()
      subscription.errorAll(new SubscriptionRejectedError(subscription.filter, reasonCode, error))
      return
    }
    const qos = granted?.[0]?.qos
    if (qos === 0 || qos === 1 || qos === 2) subscription.grantedQos = qos
    this.subscriptionsChanged()
  }

  private release(subscription: BrokerSubscription, observer: FilterObserver): void {
    // Completing observers on end() must leave a persistent session's subscriptions on the broker.
    if (this.closing) return
    const remaining = subscription.remove(observer)
    this.subscriptionsChanged()
    if (remaining > 0) return
    this.registry.delete(subscription)
    if (this.mqtt.connected) {
      this.mqtt.unsubscribe(subscription.filter, (error) => {
        if (error && this.persistentSession && !this.registry.get(subscription.filter)) this.staleFilters.add(subscription.filter)
      })
    } else if (this.persistentSession) {
      this.staleFilters.add(subscription.filter)
    }
  }

  private onConnect(connack: IConnackPacket): void {
    this.connection += 1
    this.connectedAt = Date.now()
    this.subscribesInFlight.clear()
    this.refusedCredentials = undefined
    this.lastError = undefined
    this.connackSeen = true
    this.brokerMaxPacketSize = connack.properties?.maximumPacketSize
    const maximumQoS = connack.properties?.maximumQoS
    this.brokerMaxQos = maximumQoS === 0 || maximumQoS === 1 ? maximumQoS : 2
    this.useIdentifiers = this.protocol === 5 && connack.properties?.subscriptionIdentifiersAvailable !== false
    this.statusSubject.next({ type: 'connected', url: this.url, sessionPresent: connack.sessionPresent, protocolVersion: this.protocol })
    // Every active filter, exactly once per connection, with its own options: a new session has none, and
    // a resumed one may predate a QoS upgrade.
    for (const subscription of this.registry.all()) this.sendSubscribe(subscription)
    if (connack.sessionPresent) for (const filter of this.staleFilters) this.mqtt.unsubscribe(filter)
    this.staleFilters.clear()
    this.offlineQueue.flush()
  }

  private onMessage(topic: string, payload: Uint8Array, packet: IPublishPacket): void {
    let ack: PendingAck | undefined
    if (this.manualObservers > 0 && packet.qos > 0) {
      const connection = this.connection
      ack = new PendingAck(
        () => connection === this.connection,
        (reason) => this.redeliver(topic, reason),
      )
      this.acks.set(packet, ack)
    }
    // MQTT.js's packet is the message, unless a topic alias left its topic empty.
    const message: IncomingMessage =
      packet.topic === topic ? (packet as unknown as IncomingMessage) : { topic, payload, qos: packet.qos, retain: packet.retain, properties: packet.properties as MessageProperties | undefined }
    const ids = message.properties?.subscriptionIdentifier
    if (ids !== undefined && this.useIdentifiers) {
      // MQTT 5: each copy names the subscription(s) it is for, so each observer gets its copy once.
      if (typeof ids === 'number') {
        const subscription = this.registry.byIdentifier(ids)
        if (subscription) return subscription.deliver(message, ack)
      } else {
        let delivered = false
        for (const id of ids) {
          const subscription = this.registry.byIdentifier(id)
          if (subscription) {
            subscription.deliver(message, ack)
            delivered = true
          }
        }
        if (delivered) return
      }
      // An identifier this instance never gave (a session subscribed by an earlier one): route by topic.
    }
    // MQTT 3.1.1 (or no identifiers): Mosquitto sends one copy per client however many of its filters
    // match, so the copy goes to every matching subscription.
    const subscriptions = this.registry.matching(topic)
    for (const subscription of subscriptions) subscription.deliver(message, ack)
  }

  private onError(error: Error): void {
    const code = reasonCodeOf(error)
    if (code !== undefined && error.message.startsWith('Connection refused')) {
      this.connackSeen = true
      const refusal = classifyRefusal(code, this.protocol)
      if (refusal === 'unsupported-protocol' && this.autoProtocol) {
        this.fallBackProtocol = true
      } else if (refusal === 'credentials') {
        const refused = new NotAuthorizedError(`${error.message} (code ${code}): check username and password`, { reasonCode: code, cause: error })
        // With a credentials provider, a refusal is worth a retry as long as the provider has something new.
        const retry = this.credentials !== undefined && !sameCredentials(this.attemptCredentials, this.refusedCredentials)
        this.refusedCredentials = this.attemptCredentials
        if (retry) this.lastError = refused
        else this.fatal = refused
      } else if (refusal === 'transient') {
        this.lastError = new ConnectionRefusedError(`${error.message} (code ${code})`, { reasonCode: code, cause: error })
      } else {
        this.fatal = new ConnectionRefusedError(`${error.message} (code ${code})`, { reasonCode: code, cause: error })
      }
      return
    }
    const systemCode = (error as { code?: unknown }).code
    if (isCertificateFailure(systemCode)) {
      // The broker's certificate did not verify, or it refused ours: retrying cannot fix that.
      this.fatal = new ConnectionRefusedError(`TLS handshake failed (${systemCode}): ${error.message}`, { cause: error })
      return
    }
    if (code === undefined && systemCode === undefined && this.mqtt.connected) {
      // A packet MQTT.js could not parse (mqtt-packet rejects some valid MQTT 5 reason codes, e.g. PUBACK
      // 149): its parser is now out of step and no later acknowledgement would arrive. MQTT says to close
      // the connection after a malformed packet; the reconnect starts clean.
      this.lastError = new ConnectionLostError(`the broker sent a packet that could not be parsed: ${error.message}`, { cause: error })
      this.mqtt.stream?.destroy()
      return
    }
    // The first account of a connection's end is the telling one (a DISCONNECT reason before the reset that follows it).
    this.lastError ??= new ConnectionLostError(error.message, code === undefined ? { cause: error } : { cause: error, reasonCode: code })
  }

  private onDisconnectPacket(packet: IDisconnectPacket): void {
    const code = packet.reasonCode ?? 0
    const reason = packet.properties?.reasonString
    if (code === SESSION_TAKEN_OVER) {
      this.lastError = new ClientIdConflictError(`another connection with client id ${JSON.stringify(this.clientId)} took over the session (reason code 142)`, { reasonCode: code })
      return
    }
    this.lastError = new ConnectionLostError(`the broker disconnected the client (reason code ${code}${reason ? `: ${reason}` : ''})`, { reasonCode: code })
  }

  private onClose(): void {
    if (this.closing || this.reconnectTimer !== undefined) return
    if (this.fatal) return this.fail(this.fatal)
    // Some brokers (RabbitMQ 3.10) close an MQTT 5 CONNECT without a CONNACK; a network error would have said so.
    const closedBeforeConnack = !this.connackSeen && this.lastError === undefined
    this.connackSeen = false
    if (this.autoProtocol && this.protocol === 5 && closedBeforeConnack) this.fallBackProtocol = true
    if (!this.autoProtocol && this.protocol === 5 && closedBeforeConnack) {
      this.lastError = new ConnectionLostError(
        'the broker closed the connection without answering the MQTT 5 CONNECT: if it speaks only MQTT 3.1.1 (RabbitMQ 3.10), use protocolVersion "auto" or 4',
      )
    }
    if (this.fallBackProtocol) {
      this.fallBackProtocol = false
      this.protocol = 4
      this.mqtt.options.protocolVersion = 4
      delete this.mqtt.options.properties
      this.reconnectTimer = setTimeout(() => this.reconnect(), 0)
      return
    }
    const error = this.closeReason()
    if (this.reconnectPolicy === false) return this.fail(error)
    this.attempt += 1
    if (this.urls.length > 1) this.useUrl((this.urlIndex + 1) % this.urls.length)
    const delay = backoffDelay(this.attempt, this.reconnectPolicy)
    this.statusSubject.next({ type: 'reconnecting', url: this.url, attempt: this.attempt, delay, error })
    this.reconnectTimer = setTimeout(() => this.reconnect(), delay)
  }

  /** Why the connection that just closed ended, and what that means for the backoff. */
  private closeReason(): IotPubSubError {
    const lasted = this.connectedAt === undefined ? undefined : Date.now() - this.connectedAt
    this.connectedAt = undefined
    let error = this.lastError
    this.lastError = undefined
    const unanswered = [...this.subscribesInFlight]
    this.subscribesInFlight.clear()
    if (error === undefined && unanswered.length > 0) {
      // Not a client-id conflict: some brokers (RabbitMQ) close the connection to refuse a subscription.
      error = new ConnectionLostError(
        `the broker closed the connection while ${unanswered.map((f) => JSON.stringify(f)).join(', ')} awaited its SUBACK: it may refuse the subscription`,
      )
    }
    if (lasted !== undefined && lasted >= STABLE_CONNECTION_MS) {
      this.attempt = 0
      this.shortConnections = 0
    } else if (lasted !== undefined && error === undefined) {
      // Accepted, then closed by the broker without a word, again and again: Mosquitto under 3.1.1 does
      // exactly this to two clients that share a client id.
      this.shortConnections += 1
      if (this.shortConnections >= TAKEOVER_THRESHOLD) {
        error = new ClientIdConflictError(
          `the broker closed ${this.shortConnections} connections in a row soon after accepting them: another client probably uses client id ${JSON.stringify(this.clientId)}`,
        )
      }
    }
    return error ?? new ConnectionLostError('the connection closed')
  }

  private reconnect(): void {
    this.reconnectTimer = undefined
    void this.open(false)
  }

  /** Starts a connection attempt, asking the credentials provider first when there is one. */
  private async open(first: boolean): Promise<void> {
    if (this.closing) return
    if (this.credentials) {
      let credentials: Credentials
      try {
        credentials = await this.credentials()
      } catch (error) {
        if (this.closing) return
        // A provider that fails is a failed attempt: back off and ask again.
        this.lastError = new ConnectionRefusedError('the credentials provider failed', { cause: error })
        this.connectedAt = undefined
        this.onClose()
        return
      }
      if (this.closing) return
      this.attemptCredentials = { ...credentials }
      this.mqtt.options.username = credentials.username
      this.mqtt.options.password = credentials.password
    }
    // The first packet of every connection is the CONNACK: a one-off listener, not one on every packet.
    this.mqtt.removeListener('packetreceive', this.onConnack) // left over from an attempt that got no packet
    this.mqtt.once('packetreceive', this.onConnack)
    if (first) this.mqtt.connect()
    // Passing the stores keeps unacknowledged QoS 1/2 publishes, which MQTT.js resends on the new connection.
    else this.mqtt.reconnect({ incomingStore: this.mqtt.incomingStore, outgoingStore: this.mqtt.outgoingStore })
  }

  /**
   * MQTT 5: a broker's server keepalive is binding, but MQTT.js ignores it when the client asked for 0,
   * and then the broker disconnects the silent client. Runs before MQTT.js sets up its keepalive timer.
   */
  private adoptServerKeepalive(connack: IConnackPacket): void {
    const serverKeepAlive = connack.properties?.serverKeepAlive
    if (serverKeepAlive && !this.mqtt.options.keepalive) this.mqtt.options.keepalive = serverKeepAlive
  }

  /**
   * A manually acknowledged message was refused (its handler failed): MQTT has no negative acknowledgement,
   * so the connection is closed without acknowledging it, and the broker delivers it again to the resumed
   * session (`clean: false`) after the reconnect.
   */
  private redeliver(topic: string, reason: unknown): void {
    this.errorSubject.next(new HandlerError(topic, reason))
    if (!this.mqtt.connected) return
    this.lastError = new ConnectionLostError(`a message on ${JSON.stringify(topic)} was not acknowledged: reconnecting so that the broker delivers it again`, { cause: reason })
    this.connection += 1
    this.mqtt.stream?.destroy()
  }

  /** Points MQTT.js's next connection at another cluster node. */
  private useUrl(index: number): void {
    this.urlIndex = index
    const url = new URL(this.url)
    const protocol = url.protocol.replace(/:$/, '') as 'mqtt' | 'mqtts' | 'ws' | 'wss'
    const options = this.mqtt.options
    options.protocol = protocol
    options.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
    options.host = options.hostname
    options.port = url.port ? Number(url.port) : DEFAULT_PORTS[protocol]
    options.path = url.pathname + url.search
  }

  /** Publishes a new snapshot on subscriptions$ once per microtask, and only for someone listening. */
  private subscriptionsChanged(): void {
    if (this.subscriptionsDirty || !this.subscriptionsSubject.observed) return
    this.subscriptionsDirty = true
    queueMicrotask(() => {
      this.subscriptionsDirty = false
      if (!this.subscriptionsSubject.closed) this.subscriptionsSubject.next(this.subscriptionSnapshot())
    })
  }

  private subscriptionSnapshot(): readonly SubscriptionInfo[] {
    return this.registry.all().map((s) => s.info())
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
  }

  /** Ends the client after an error nothing can fix by retrying (refused credentials, reconnect off). */
  private fail(error: IotPubSubError): void {
    this.closing = true
    this.ending ??= Promise.resolve()
    this.clearReconnect()
    this.mqtt.end(true)
    for (const subscription of this.registry.all()) {
      this.registry.delete(subscription)
      subscription.errorAll(error)
    }
    this.settleAll(error)
    this.finish(error)
  }

  private settleAll(error: Error): void {
    this.offlineQueue.clear()
    for (const settle of [...this.pending]) settle(error)
  }

  private finish(error: IotPubSubError | undefined): void {
    this.subscriptionsSubject.next([])
    this.subscriptionsSubject.complete()
    this.statusSubject.next({ type: 'closed', error })
    this.statusSubject.complete()
    this.errorSubject.complete()
  }
}
