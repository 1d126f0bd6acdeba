import type { Observable, Subscription } from 'rxjs'
import type { SubscriptionInfo } from '../subscriptions/broker-subscription.js'
import type { Codec } from '../codec.js'
import type { IotPubSubError } from '../errors.js'
import type { ClearedMessage, Message } from '../message.js'
import type { EndOptions, ObserveOptions, PublishOptions } from '../options/client-options.js'
import type { RequestOptions } from '../services/requester.js'
import type { RouteMessage, RouteOptions } from '../services/observe-route.js'
import type { Route, RouteParams } from '../services/route.js'
import type { ConnectedStatus, Status } from '../status.js'
import type { OutboxEvent } from '../publish/outbox.js'
import type { ConnectedOptions } from '../options/connected-options.js'
import type { IterateOptions } from '../options/iterate-options.js'

/**
 * A client for one broker connection: what `connect()` and `new MQTTClient()` return. One instance holds one
 * connection, its subscriptions and its status; nothing is shared between instances.
 *
 * @example
 * ```ts
 * const client = connect('mqtt://localhost:1883', { clientId: 'dash-1' })
 * client.observe('sensors/#', { codec: 'json' }).subscribe((m) => console.log(m.topic, m.payload))
 * ```
 */
export interface MQTTClient {
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
  /**
   * The client's broker subscriptions and their state: the filter, the QoS asked for and the QoS the broker
   * granted on this connection (`undefined` until its SUBACK), and how many observers share it. Replays the
   * current list; updates at most once per microtask.
   *
   * @example
   * ```ts
   * client.subscriptions$.subscribe((subs) => subs.filter((s) => s.grantedQos !== undefined && s.grantedQos < s.requestedQos).forEach(warn))
   * ```
   */
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  /**
   * The outbox: each QoS 1/2 message from `publish()` until its flow ends, as `{ id, topic, state }` events
   * (`queued`, `sent`, then `acknowledged`, `expired`, `replaced` or `failed`). A new subscriber is first told
   * `queued` for every message held at that moment, so one that subscribes right after `connect()` also sees
   * each message restored from the `store`, with the `id` it had before the restart. With a store, `queued`
   * comes once the message is durable in it. Completes when the client ends (what a store holds stays there).
   *
   * @example
   * ```ts
   * client.outbox$.subscribe(({ id, topic, state }) => { if (state === 'acknowledged') markDelivered(id, topic) })
   * ```
   */
  readonly outbox$: Observable<OutboxEvent>
  /** The broker URLs: one, or the nodes of a cluster in the order they are tried. */
  readonly urls: readonly string[]
  /** The broker URL in use, or the one the next attempt goes to. */
  readonly url: string
  /**
   * The client id sent to the broker: the `clientId` option, or the random `iotpubsub_…` one made when none was
   * given. The same for every reconnect; it is what the broker's log and ACLs know this client by. With an empty
   * `clientId` option, MQTT 5 brokers assign one at each connection: this is then the one assigned last (`''`
   * before the first CONNACK, and under MQTT 3.1.1, whose brokers do not tell it).
   */
  readonly clientId: string

  /**
   * An Observable of the messages on a topic filter. The broker subscription is made when the first
   * observer subscribes and removed after the last one leaves; observers of one filter share it, at the
   * highest QoS any of them asked for. A late observer first receives the retained messages the client
   * has seen, marked `retain: true`. Observers survive reconnects; `end()` completes them.
   *
   * `retain: true` marks the broker's stored value (on subscribe, or replayed to a late observer); a live
   * publish is `retain: false`. With `cleared: true`, a cleared retained value (an empty payload) comes as a
   * `ClearedMessage` instead of going through the codec.
   *
   * Throws `InvalidTopicError` at once for a malformed filter, `UnsupportedOptionError` for a bad option.
   *
   * @example
   * ```ts
   * const temps$ = client.observe<{ celsius: number }>('rooms/+/temp', { qos: 1, codec: 'json' })
   * const sub = temps$.subscribe((m) => console.log(m.params[0], m.payload.celsius))
   * sub.unsubscribe() // the last observer leaving sends UNSUBSCRIBE
   * ```
   */
  observe(filter: string, options?: ObserveOptions<Uint8Array> & { codec?: 'bytes'; cleared?: false }): Observable<Message<Uint8Array>>
  /** `codec: 'text'`: each payload decoded as UTF-8 into a string. Otherwise as the first form. */
  observe(filter: string, options: ObserveOptions<string> & { codec: 'text'; cleared?: false }): Observable<Message<string>>
  /**
   * `codec: 'json'`: each payload parsed as JSON, typed `T` without a check (a `route()` with a `schema`
   * checks it); one that does not parse goes to `errors$` as a `DecodeError`. Otherwise as the first form.
   */
  observe<T = unknown>(filter: string, options: ObserveOptions<T> & { codec: 'json'; cleared?: false }): Observable<Message<T>>
  /** A codec of the app's own: its `decode` turns each payload into a `T`; a throw is a `DecodeError` on `errors$`. */
  observe<T>(filter: string, options: ObserveOptions<T> & { codec: Codec<T>; cleared?: false }): Observable<Message<T>>
  /** Bytes, with `cleared` possibly `true`: an empty payload comes as a `ClearedMessage`. */
  observe(filter: string, options: ObserveOptions<Uint8Array> & { codec?: 'bytes'; cleared?: boolean }): Observable<Message<Uint8Array> | ClearedMessage>
  /** Text, with `cleared` possibly `true`: an empty payload comes as a `ClearedMessage`. */
  observe(filter: string, options: ObserveOptions<string> & { codec: 'text'; cleared?: boolean }): Observable<Message<string> | ClearedMessage>
  /** JSON, with `cleared` possibly `true`: an empty payload comes as a `ClearedMessage` instead of a `DecodeError`. */
  observe<T = unknown>(filter: string, options: ObserveOptions<T> & { codec: 'json'; cleared?: boolean }): Observable<Message<T> | ClearedMessage>
  /** A codec of the app's own, with `cleared` possibly `true`: an empty payload comes as a `ClearedMessage`, not decoded. */
  observe<T>(filter: string, options: ObserveOptions<T> & { codec: Codec<T>; cleared?: boolean }): Observable<Message<T> | ClearedMessage>

  /**
   * Publishes a message. Resolves when the QoS is satisfied: written to the connection (QoS 0), PUBACK
   * (QoS 1) or PUBCOMP (QoS 2); while disconnected the message waits in the offline queue. Every failure is a
   * rejection, never a throw: `InvalidTopicError` for a malformed topic name, `UnsupportedOptionError` for a
   * bad QoS, `PublishError` (with the reason code) when the payload cannot be encoded or the broker refuses
   * the message, `PayloadTooLargeError`, `QueueFullError`, `PublishTimeoutError` on `timeout`/`signal`,
   * `MessageExpiredError` past `expiry`, `MessageReplacedError` when a newer `collapse` message took its place,
   * `StoreWriteError` when the `store` cannot record it, and `ClientClosedError` when the client ends first.
   *
   * @example
   * ```ts
   * await client.publish('rooms/kitchen/temp', { celsius: 21.5 }, { qos: 1, retain: true })
   * ```
   */
  publish<T = unknown>(topic: string, payload: T, options?: PublishOptions<T>): Promise<void>

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
  /** `codec: 'text'`: the reply decoded as UTF-8 text. Otherwise as the first form. */
  request(topic: string, payload: unknown, options: RequestOptions<string> & { codec: 'text' }): Promise<Message<string>>
  /** `codec: 'json'`: the reply parsed as JSON, typed `T` without a check; one that does not parse rejects with `DecodeError`. */
  request<T = unknown>(topic: string, payload: unknown, options: RequestOptions<T> & { codec: 'json' }): Promise<Message<T>>
  /** A codec of the app's own: its `decode` turns the reply into a `T`; a throw rejects with `DecodeError`. */
  request<T>(topic: string, payload: unknown, options: RequestOptions<T> & { codec: Codec<T> }): Promise<Message<T>>

  /**
   * Answers requests on a filter: each request's handler result is published to its response topic with its
   * correlation data; a handler that throws sends an error reply, which the requester gets as `ResponderError`.
   * Handlers run concurrently. Unsubscribe the returned subscription to stop serving. The filter is checked at
   * once (`InvalidTopicError`); the serving code is loaded on first use (a chunk of its own in a browser app),
   * and if it cannot be loaded the returned subscription closes, as when serving ends.
   *
   * @example
   * ```ts
   * const serving = client.serve('$share/api/devices/+/rpc/status', async (req) => ({ ok: true, device: req.params[0] }))
   * ```
   */
  serve<T = Uint8Array>(filter: string, handler: (request: Message<T>) => unknown, options?: ObserveOptions<T>): Subscription

  /**
   * Resolves with the `connected` status once the broker has accepted the connection (at once if it has).
   * Rejects with the refusal of an attempt (`NotAuthorizedError`, `ConnectionRefusedError`: an answer, though
   * the client may try again), with `ClientClosedError` (or the fatal error) when the client ends first, and
   * with `ConnectionLostError` after `timeout` ms or when `signal` aborts. Network failures are waited out.
   *
   * @example
   * ```ts
   * const client = connect('mqtts://broker.example', { username, password })
   * await client.connected({ timeout: 10_000 }) // NotAuthorizedError here, not on status$ later
   * ```
   */
  connected(options?: ConnectedOptions): Promise<ConnectedStatus>

  /**
   * The messages of a topic filter as an async iterator: `for await` takes them in order; the broker
   * subscription is made at the loop's first step and released when it ends (`break`, `return`, a throw).
   * With automatic acknowledgements at most `bufferSize` messages (default 1,000) wait for the loop; one that
   * falls further behind gets those, then `QueueFullError`. With `ack: 'manual'`, each message is acknowledged
   * when the loop asks for the next one, so a slow loop leaves the backlog with the broker. Throws
   * `InvalidTopicError` or `UnsupportedOptionError` at once, as `observe()` does.
   *
   * @example
   * ```ts
   * for await (const job of client.iterate<Job>('jobs/+', { qos: 1, codec: 'json', ack: 'manual' })) {
   *   await run(job.payload)
   * }
   * ```
   */
  iterate(filter: string, options?: IterateOptions<Uint8Array> & { codec?: 'bytes' }): AsyncIterableIterator<Message<Uint8Array>>
  /** `codec: 'text'`: each payload decoded as UTF-8 into a string. Otherwise as the first form. */
  iterate(filter: string, options: IterateOptions<string> & { codec: 'text' }): AsyncIterableIterator<Message<string>>
  /** `codec: 'json'`: each payload parsed as JSON, typed `T` without a check; one that does not parse goes to `errors$`. Otherwise as the first form. */
  iterate<T = unknown>(filter: string, options: IterateOptions<T> & { codec: 'json' }): AsyncIterableIterator<Message<T>>
  /** A codec of the app's own: its `decode` turns each payload into a `T`; a throw is a `DecodeError` on `errors$`. */
  iterate<T>(filter: string, options: IterateOptions<T> & { codec: Codec<T> }): AsyncIterableIterator<Message<T>>

  /**
   * Messages on a typed route: a pattern with named parameters (`'devices/{deviceId}/telemetry/{sensor}'`),
   * whose `params` are an object typed from the pattern. With `schema`, each decoded payload is validated
   * (`(value: unknown) => T`, throwing on bad input); failures are reported like decode errors. A pattern that
   * is not a route is the observable's error (`InvalidTopicError`) when subscribed: call `route()` first to
   * have it thrown. The routing code is loaded on first use, as `serve()`'s is.
   *
   * @example
   * ```ts
   * client.route('devices/{deviceId}/telemetry/{sensor}', { codec: json<Telemetry>() })
   *   .subscribe((m) => chart(m.params.deviceId, m.params.sensor, m.payload))
   * ```
   */
  route<P extends string, T = Uint8Array>(pattern: P | Route<P>, options?: RouteOptions<T>): Observable<RouteMessage<T, RouteParams<P>>>

  /**
   * Closes the client: completes every observer (without unsubscribing, so a persistent session keeps its
   * subscriptions), waits for in-flight QoS 1/2 publishes, sends DISCONNECT (so no last will is published),
   * rejects what is still pending with `ClientClosedError`, and sets the status to `closed` — all within
   * `timeout` ms (default 5,000) in total. Always resolves; safe to call more than once.
   *
   * @example
   * ```ts
   * await client.end()
   * ```
   */
  end(options?: EndOptions): Promise<void>
}
