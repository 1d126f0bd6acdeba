import type { Observable, Subscription } from 'rxjs'
import type { SubscriptionInfo } from '../subscriptions/broker-subscription.js'
import type { Codec, CodecName } from '../codec.js'
import type { IotPubSubError, UnsupportedOptionError } from '../errors.js'
import type { Message, QoS } from '../message.js'
import type { ObserveOptions, PublishOptions } from '../options/client-options.js'
import type { Status } from '../status.js'
import { ERROR_NAME_PROPERTY, ERROR_PROPERTY } from './error-reply.js'
import type { ServicesKit } from './services-kit.js'
import { correlationKey, failPending, type PendingRequest } from './pending-request.js'

// Where they were first defined: the requester's tests import them from here.
export { ERROR_NAME_PROPERTY, ERROR_PROPERTY } from './error-reply.js'

/**
 * What the request/response machinery needs of a client: its public API, nothing else.
 * @example `const requester = new Requester(client, 'iotpubsub/reply/' + client.clientId)`
 */
export interface RequestClient {
  readonly clientId: string
  readonly status$: Observable<Status>
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  observe(filter: string, options: ObserveOptions<Uint8Array>): Observable<Message<Uint8Array>>
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<void>
}

/**
 * Options of `request()`.
 * @example `const options: RequestOptions<{ ok: boolean }> = { timeout: 2_000, qos: 1, codec: 'json' }`
 */
export interface RequestOptions<T> {
  /** Milliseconds from the call to the reply, covering the wait for the connection, the publish and the reply. Default 10,000. */
  timeout?: number
  /** QoS of the request. Default 1. The reply subscription is QoS 2 (or the broker's maximum), so that a reply comes at the QoS its responder sent it with. */
  qos?: QoS
  /** Decodes the reply. Default `'bytes'`. */
  codec?: CodecName | Codec<T>
}

/**
 * The requesting side of MQTT 5 request/response: one reply filter per client (`<replyPrefix>/<clientId>`),
 * requests told apart by their correlation data. Each request has its own deadline, from the call to the
 * reply; it is published only once the broker has confirmed the reply subscription (SUBACK) on the current
 * connection, and never after its deadline. Every request settles, with a reply or an `IotPubSubError`.
 *
 * @example
 * ```ts
 * const requester = new Requester(servicesKit, client, `iotpubsub/reply/${client.clientId}`)
 * const reply = await requester.request('devices/d1/rpc/ping', 'ping', { timeout: 2_000 })
 * ```
 */
export class Requester {
  readonly #pending = new Map<string, PendingRequest>()
  readonly #status: Subscription
  /** The reply subscription, made by the first request and kept until the client closes or it errors. */
  #replies: Subscription | undefined
  /** Listens to subscriptions$ only while a SUBACK for the reply filter is awaited. */
  #watch: Subscription | undefined
  #connected = false
  /** Whether the broker confirmed the reply subscription on the current connection. */
  #ready = false
  #protocolVersion: 4 | 5 | undefined
  /** Why the last connection attempt failed, to explain a request that timed out waiting for a connection. */
  #lastConnectionError: IotPubSubError | undefined
  #closed = false
  #closedCause: IotPubSubError | undefined

  readonly #kit: ServicesKit
  readonly #client: RequestClient
  readonly #replyTopic: string

  /** `kit`: the client's errors (lib/services/services-kit.ts). */
  constructor(kit: ServicesKit, client: RequestClient, replyTopic: string) {
    this.#kit = kit
    this.#client = client
    this.#replyTopic = replyTopic
    const { ClientClosedError } = kit
    this.#status = client.status$.subscribe({
      next: (status) => this.#onStatus(status),
      // status$ ends only with the client; an error there means the same.
      error: (error: unknown) => this.#shutDown(this.#typed(error, (cause) => new ClientClosedError('the client status ended with an error', cause))),
      complete: () => this.#shutDown(undefined),
    })
    // A client that had already closed replayed `closed` before `this.status` was assigned.
    if (this.#closed) this.#status.unsubscribe()
  }

  /**
   * Publishes `payload` to `topic` with this client's response topic and fresh correlation data, and
   * resolves with the reply. Rejects with `RequestTimeoutError` when `timeout` ms pass first,
   * `ResponderError`, `ConnectionLostError`, `ClientClosedError`, `UnsupportedOptionError` (MQTT 3.1.1),
   * or the publish's own error (`PublishError`, `QueueFullError`, ...).
   *
   * @example
   * ```ts
   * const reply = await requester.request('devices/d1/rpc/reboot', '{"delay":5}', { timeout: 2_000, qos: 1 })
   * ```
   */
  request(topic: string, payload: unknown, options: { timeout?: number; qos?: QoS; calledAt?: number | undefined } = {}): Promise<Message<Uint8Array>> {
    const { ClientClosedError } = this.#kit
    if (this.#protocolVersion === 4) return Promise.reject(this.#needsMqtt5())
    if (this.#closed) return Promise.reject(new ClientClosedError('request() on a client that has ended', this.#closedCause))
    const { qos = 1 } = options
    if (options.timeout !== undefined && !(typeof options.timeout === 'number' && options.timeout > 0)) {
      return Promise.reject(new this.#kit.UnsupportedOptionError(`request(): \`timeout\` must be a positive number of milliseconds, not ${String(options.timeout)}`))
    }
    // Node fires a longer timer at once (24.8 days is the most a timer can wait).
    const timeout = Math.min(options.timeout ?? 10_000, 2_147_483_647)
    const correlation = crypto.getRandomValues(new Uint8Array(12))
    const key = correlationKey(correlation)
    return new Promise<Message<Uint8Array>>((resolve, reject) => {
      // `calledAt` (Date.now() of a call made before this module was loaded): the deadline counts from the call.
      const waited = options.calledAt === undefined ? 0 : Math.max(0, Date.now() - options.calledAt)
      const timer = setTimeout(() => this.#timedOut(key), timeout - waited)
      this.#pending.set(key, { topic, payload, qos, correlation, timeout, timer, abort: new AbortController(), sent: false, resolve, reject })
      try {
        this.#listen()
      } catch (error) {
        // observe() threw (an invalid reply topic): a typed error, but #typed() keeps that promise.
        return this.#fail(key, this.#typed(error, (cause) => new ClientClosedError('the reply subscription could not be made', cause)))
      }
      if (this.#ready) this.#send(key)
    })
  }

  #onStatus(status: Status): void {
    if (status.type === 'connected') {
      this.#protocolVersion = status.protocolVersion
      this.#connected = true
      // A new connection (a clean session has no subscriptions) needs its own SUBACK before a request goes out.
      this.#ready = false
      if (status.protocolVersion === 4) return this.#failAll(() => this.#needsMqtt5())
      // The snapshot replayed now predates this connection's SUBACK (its grantedQos may be the last connection's).
      if (this.#replies) this.#awaitSuback(true)
    } else if (status.type === 'reconnecting') {
      this.#connected = false
      this.#ready = false
      this.#stopWatch()
      this.#lastConnectionError = status.error
      // Replies on their way are lost with the connection (the reply subscription is a clean one); requests
      // not yet sent wait for the next connection, within their deadline.
      const lost = new this.#kit.ConnectionLostError('the connection was lost before the reply came', { cause: status.error })
      for (const [key, pending] of [...this.#pending]) if (pending.sent) this.#fail(key, lost)
    } else if (status.type === 'closed') {
      this.#shutDown(status.error)
    }
  }

  /** Subscribes to the reply topic once; the broker's SUBACK makes the requester ready. */
  #listen(): void {
    if (this.#replies) return
    const { ClientClosedError, ConnectionLostError } = this.#kit
    // QoS 2, whatever the first request asks for: one subscription serves every request, and a later request at
    // a higher QoS must not get its reply downgraded (a broker sends at most the subscription's QoS). Requests
    // need MQTT 5, whose brokers grant their maximum QoS for a higher one.
    const replies = this.#client.observe(this.#replyTopic, { qos: 2 }).subscribe({
      next: (message) => this.#onReply(message),
      error: (error: unknown) => this.#onRepliesEnded(this.#typed(error, (cause) => new ConnectionLostError('the reply subscription failed', { cause }))),
      complete: () => this.#onRepliesEnded(new ClientClosedError('the client closed before the reply came', this.#closedCause)),
    })
    // An observe() that ended at once (a closing client) already failed the requests: nothing to keep.
    if (replies.closed) return
    this.#replies = replies
    if (this.#connected) this.#awaitSuback(false)
  }

  /** The reply subscription ended (connection lost with `reconnect: false`, SUBACK refused, client closed). */
  #onRepliesEnded(error: IotPubSubError): void {
    this.#replies = undefined
    this.#ready = false
    this.#stopWatch()
    this.#failAll(() => error)
  }

  #awaitSuback(skipReplay: boolean): void {
    this.#stopWatch()
    const granted = (subscriptions: readonly SubscriptionInfo[]): boolean =>
      subscriptions.some((s) => s.filter === this.#replyTopic && s.grantedQos !== undefined)
    // The replay skipped by hand, as `skip(1)` would: this module (loaded on demand) then takes nothing from rxjs
    // at run time, and shares no rxjs code with the client's bundle in a chunk of its own.
    let toSkip = skipReplay ? 1 : 0
    const watch = this.#client.subscriptions$.subscribe({
      next: (subscriptions) => {
        if (toSkip > 0) {
          toSkip -= 1
          return
        }
        if (!this.#ready && this.#connected && this.#replies && granted(subscriptions)) this.#onReady()
      },
      // subscriptions$ ends only with the client, which status$ reports.
      error: () => undefined,
    })
    // The replay may have made the requester ready already, before `watch` was assigned.
    if (this.#ready) watch.unsubscribe()
    else this.#watch = watch
  }

  #onReady(): void {
    this.#ready = true
    this.#stopWatch()
    for (const [key, pending] of [...this.#pending]) if (!pending.sent) this.#send(key)
  }

  #send(key: string): void {
    const pending = this.#pending.get(key)
    if (!pending || pending.sent) return
    pending.sent = true
    const wrap = (cause: unknown): IotPubSubError => new this.#kit.PublishError(pending.topic, cause instanceof Error ? cause.message : String(cause), { cause })
    let publishing: Promise<void>
    try {
      // The signal aborts at the deadline: a publish still queued or unacknowledged then is withdrawn.
      publishing = this.#client.publish(pending.topic, pending.payload, {
        qos: pending.qos,
        properties: { responseTopic: this.#replyTopic, correlationData: pending.correlation },
        signal: pending.abort.signal,
      })
    } catch (error) {
      return this.#fail(key, this.#typed(error, wrap))
    }
    // After the request settled (its own abort, a reply before the PUBACK) this finds nothing to settle.
    publishing.then(undefined, (error: unknown) => this.#fail(key, this.#typed(error, wrap)))
  }

  #onReply(message: Message<Uint8Array>): void {
    const correlation = message.properties?.correlationData
    if (!correlation) return
    const key = correlationKey(correlation)
    const failure = message.properties?.userProperties?.[ERROR_PROPERTY]
    if (failure !== undefined) {
      const name = message.properties?.userProperties?.[ERROR_NAME_PROPERTY]
      this.#fail(key, new this.#kit.ResponderError(String(failure), String(name ?? 'Error')))
      return
    }
    const pending = this.#pending.get(key)
    if (!pending) return // a late reply to a request that already failed, or another client's
    this.#pending.delete(key)
    clearTimeout(pending.timer)
    pending.resolve(message)
  }

  #timedOut(key: string): void {
    const pending = this.#pending.get(key)
    if (!pending) return
    const where = JSON.stringify(pending.topic)
    const { RequestTimeoutError } = this.#kit
    if (pending.sent) {
      this.#fail(key, new RequestTimeoutError(`no reply to the request on ${where} within ${pending.timeout} ms`))
    } else {
      const why = this.#connected ? 'the broker had not confirmed the reply subscription' : 'the client was not connected'
      const cause = this.#connected ? undefined : this.#lastConnectionError
      this.#fail(key, new RequestTimeoutError(`the request on ${where} was not sent within ${pending.timeout} ms: ${why}`, { cause }))
    }
  }

  #fail(key: string, error: IotPubSubError): void {
    failPending(this.#pending, key, error)
  }

  #failAll(error: () => IotPubSubError): void {
    for (const key of [...this.#pending.keys()]) this.#fail(key, error())
  }

  #needsMqtt5(): UnsupportedOptionError {
    return new this.#kit.UnsupportedOptionError('request() needs MQTT 5 (response topic and correlation data); the broker speaks 3.1.1')
  }

  /** Callers are promised SDK errors only: anything else (a bug, a foreign client) is wrapped. */
  #typed(error: unknown, wrap: (cause: unknown) => IotPubSubError): IotPubSubError {
    return error instanceof this.#kit.IotPubSubError ? error : wrap(error)
  }

  #stopWatch(): void {
    this.#watch?.unsubscribe()
    this.#watch = undefined
  }

  /** The client closed: every request fails, and nothing of the requester stays subscribed. */
  #shutDown(error: IotPubSubError | undefined): void {
    if (this.#closed) return
    this.#closed = true
    this.#closedCause = error
    this.#connected = false
    this.#ready = false
    this.#stopWatch()
    // A connection lost for good (`reconnect: false`) is reported as such; anything else as the client closing.
    const failure = error instanceof this.#kit.ConnectionLostError ? error : new this.#kit.ClientClosedError('the client closed before the reply came', error)
    this.#failAll(() => failure)
    const replies = this.#replies
    this.#replies = undefined
    replies?.unsubscribe()
    // Undefined while the constructor's subscribe() is replaying `closed`: the constructor unsubscribes then.
    this.#status?.unsubscribe()
  }
}
