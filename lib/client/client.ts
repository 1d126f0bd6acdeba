import type { Observable } from 'rxjs'
import type { SubscriptionInfo } from '../subscriptions/broker-subscription.js'
import { resolveCodec } from '../codec.js'
import { Connection } from '../connection/connection.js'
import { Broadcast } from '../rx/broadcast.js'
import type { TransportVerdict } from '../connection/close-verdict.js'
import { ClientClosedError, HandlerError, IotPubSubError, StoreCorruptError, StoreWriteError } from '../errors.js'
import { describeThrown } from '../errors/describe-thrown.js'
import { keepCleared, type ObserverHost, ObserverRecord } from '../inbound/observer-record.js'
import { FilterObservable } from '../inbound/filter-observable.js'
import { Dispatcher } from '../inbound/dispatcher.js'
import type { Link, LinkFactory } from '../link/link.js'
import type { Message } from '../message.js'
import type { EndOptions, MQTTClientOptions, ObserveOptions, PublishOptions } from '../options/client-options.js'
import type { Platform } from '../options/endpoints.js'
import { checkOneOf, checkQos } from '../options/validate.js'
import type { LinkName } from '../options/link-choice.js'
import { resolveOptions } from '../options/resolve-options.js'
import type { ResolvedOptions } from '../options/resolved-options.js'
import { Publisher } from '../publish/publisher.js'
import type { OutboxEvent } from '../publish/outbox.js'
import type { Status } from '../status.js'
import { Subscriptions } from '../subscriptions/subscriptions.js'
import { parseFilter } from '../topic.js'
import type { MQTTClient } from './api.js'
import { ClientServices } from './client-services.js'
import { errorFields, Log } from '../log/log.js'
import type { Logger } from '../log/logger.js'
import type { PageLifecycle } from '../lifecycle/page-lifecycle.js'

/** The part of `end()`'s timeout kept for DISCONNECT and the broker's close. */
const DISCONNECT_RESERVE_MS = 1_000

/** What differs between the entries: the platform's schemes and how a link is made. */
export interface ClientRuntime {
  readonly platform: Platform
  /** Makes the client's link; `settings.link` says which implementation. */
  readonly links: LinkFactory
  /** The link of a client whose options do not choose one (the platform's default, or the environment's; else lean). */
  readonly defaultLink?: () => LinkName
  /** Runs a callback once pending I/O and timers have had their turn. */
  readonly defer: (callback: () => void) => void
  /** The console, when the platform's switch asks for the debug log (IOTPUBSUB_DEBUG, localStorage). */
  readonly debugLogger: () => Logger | undefined
  /** Browsers: the page's online/offline, visibility and freeze events, which the connection reacts to. */
  readonly lifecycle?: PageLifecycle
  /**
   * Node: what the failures only its transports report mean (a port that speaks another protocol, a TLS
   * certificate refused). Given by the Node entry, so that the browser entry does not import that wording.
   */
  readonly transportVerdict?: TransportVerdict
}

/**
 * The facade behind `connect()` and `new MQTTClient()`: the public members, wired to the parts that do the
 * work (connection lifecycle, subscriptions, inbound dispatch, publisher, services), and `end()`.
 * @internal
 */
export class Client extends ClientServices implements MQTTClient {
  readonly status$: Observable<Status>
  readonly errors$: Observable<IotPubSubError>
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  readonly outbox$: Observable<OutboxEvent>
  readonly urls: readonly string[]

  readonly #options: ResolvedOptions
  readonly #errors = new Broadcast<IotPubSubError>()
  private readonly link: Link
  readonly #connection: Connection
  private readonly subscriptions: Subscriptions
  readonly #dispatcher: Dispatcher
  private readonly publisher: Publisher
  readonly #observerHost: ObserverHost
  readonly #log: Log
  #ending: Promise<void> | undefined
  /** Set while a graceful `end()` runs: a later `end({ force: true })` calls it to close at once. */
  #forceEnd: (() => void) | undefined
  /** Set as `end()` starts: observers completed by it must not unsubscribe. */
  #ended = false
  /** Removes this client's page-lifecycle listeners. */
  readonly #stopListening: () => void

  constructor(options: MQTTClientOptions, runtime: ClientRuntime) {
    super()
    const resolved = resolveOptions(options, runtime.platform)
    this.#options = resolved
    this.urls = resolved.endpoints.map((e) => e.url)
    const log = new Log(resolved.logger ?? runtime.debugLogger(), resolved.clientId)
    this.#log = log
    this.link = runtime.links(
      {
        clientId: resolved.clientId,
        clean: resolved.clean,
        keepalive: resolved.keepalive,
        connectTimeout: resolved.connectTimeout,
        sessionExpiryInterval: resolved.sessionExpiryInterval,
        will: resolved.will,
        tls: resolved.tls as Readonly<Record<string, unknown>>,
        maxIncomingPacketSize: resolved.maxIncomingPacketSize,
        auth: resolved.auth,
        link: resolved.link ?? runtime.defaultLink?.() ?? 'lean',
      },
      {
        connected: (connack) => this.#connection.onConnected(connack),
        drained: () => this.#connection.onDrained(),
        message: (message, done) => this.#dispatcher.message(message, done),
        failed: (failure) => this.#connection.onFailed(failure),
        closed: () => this.#connection.onClosed(),
      },
    )
    this.#connection = new Connection(resolved, this.link, {
      connected: (connack, protocol) => {
        this.subscriptions.connected(connack, protocol)
        this.publisher.connected(connack, protocol)
      },
      ready: () => {
        this.subscriptions.ready()
        this.publisher.ready()
      },
      drained: () => this.publisher.drained(),
      lost: () => this.subscriptions.lost(),
      blamePublish: (failures, accepted) => this.publisher.blamePublish(failures, accepted),
      subscribesInFlight: () => this.subscriptions.awaitingSuback,
      stopped: (error) => this.#stopped(error),
      error: (error) => this.#errors.next(error),
    }, Date.now, log, runtime.transportVerdict)
    this.subscriptions = new Subscriptions(resolved.retainedCacheSize, this.link, this.#connection, !resolved.clean, log)
    this.publisher = new Publisher(resolved, this.link, this.#connection, Date.now, log, () => this.subscriptions.flush())
    const { registry } = this.subscriptions
    const subscriptions = this.subscriptions
    const connection = this.#connection
    this.#dispatcher = new Dispatcher(
      {
        registry,
        get useIdentifiers() {
          return subscriptions.useIdentifiers
        },
        get epoch() {
          return connection.epoch
        },
        redeliver: (topic, reason) => this.#redeliver(topic, reason),
      },
      runtime.defer,
    )
    this.#observerHost = {
      decodeFailed: (error) => {
        this.#log.warn('decode-error', { topic: error.topic, bytes: error.raw.length, ...errorFields(error.cause) }, `a payload on ${JSON.stringify(error.topic)} could not be decoded: ${describeThrown(error.cause)}`)
        this.#errors.next(error)
      },
      detach: (observer) => {
        const subscription = observer.subscription
        if (!subscription) return // never joined: the client had ended
        if (observer.manual) this.#dispatcher.manualObservers -= 1
        // Completing observers on end() must leave a persistent session's subscriptions on the broker.
        if (!this.#ended && !this.#connection.stopped) this.subscriptions.release(subscription, observer)
      },
    }
    this.status$ = this.#connection.status$
    this.errors$ = this.#errors.value$
    this.subscriptions$ = this.subscriptions.subscriptions$
    this.outbox$ = this.publisher.outbox$
    this.#stopListening = resolved.pageLifecycle && runtime.lifecycle
      ? runtime.lifecycle({ online: () => connection.online(), offline: () => connection.offline(), check: (reason) => connection.check(reason) })
      : () => undefined
    if (!resolved.store) this.#connection.start()
    else {
      // The store first: a second live client on it must not connect with the client id (taking the session
      // over from the first), and what it holds goes before anything published now.
      this.publisher.restore(resolved.clientId).then(
        (problems) => {
          if (!this.closed) this.#connection.start()
          for (const p of problems) this.#errors.next(p instanceof IotPubSubError ? p : new StoreCorruptError(p.message, ''))
        },
        (error: unknown) => void this.#connection.stop({ force: true, timeout: 0 }, error instanceof IotPubSubError ? error : new StoreWriteError(describeThrown(error), { cause: error })),
      )
    }
  }

  get url(): string {
    return this.#connection.url
  }

  get clientId(): string {
    return this.#connection.clientId
  }

  protected get closed(): boolean {
    return this.#ended || this.#connection.stopped
  }

  protected get replyTopicPrefix(): string {
    return this.#options.replyTopicPrefix
  }

  observe<T>(filter: string, options: ObserveOptions<T> = {}): Observable<Message<T>> {
    const parsed = parseFilter(filter)
    const qos = checkQos(options.qos ?? 0)
    const resolved = resolveCodec<T>(options.codec)
    const codec = checkOneOf('cleared', options.cleared ?? false, [false, true] as const) ? keepCleared(resolved) : resolved
    const manual = checkOneOf('ack', options.ack ?? 'auto', ['auto', 'manual'] as const) === 'manual'
    return new FilterObservable<T>((sink) => {
      const observer = new ObserverRecord<T>(this.#observerHost, sink, qos, codec, manual)
      if (this.#ended || this.#connection.stopped) {
        observer.error(this.fatal ?? new ClientClosedError('observe() on a client that has ended'))
      } else {
        if (manual) this.#dispatcher.manualObservers += 1
        observer.subscription = this.subscriptions.add(parsed, observer)
      }
      return observer
    })
  }

  publish<T = unknown>(topic: string, payload: T, options: PublishOptions<T> = {}): Promise<void> {
    return this.publisher.publish(topic, payload, options)
  }

  end(options: EndOptions = {}): Promise<void> {
    // A forced end() while a graceful one waits closes the socket now: the graceful call's promise settles then.
    if (this.#ending && options.force) this.#forceEnd?.()
    this.#ending ??= this.#shutdown(options)
    return this.#ending
  }

  async #shutdown({ force = false, timeout = 5_000 }: EndOptions): Promise<void> {
    // One deadline for all of it: waiting for acknowledgements, then DISCONNECT, for which a part is kept back
    // (a graceful end that sent none would have the broker publish the last will).
    const deadline = Date.now() + timeout
    this.#ended = true
    this.subscriptions.completeAll()
    if (!force) {
      const forced = new Promise<void>((resolve) => {
        this.#forceEnd = () => {
          force = true
          resolve()
        }
      })
      await Promise.race([this.publisher.drain(deadline - Math.min(DISCONNECT_RESERVE_MS, timeout / 4)), forced])
      // Forced while the DISCONNECT waits for the broker's close: the connection closes the socket now.
      this.#forceEnd = () => void this.#connection.stop({ force: true, timeout: 0 })
    }
    await this.#connection.stop({ force, timeout: force ? 0 : Math.max(0, deadline - Date.now()) })
    await this.#closeStore(deadline)
  }

  /** The app's store may fail to close, or never answer: `end()` still resolves, by its deadline at the latest. */
  async #closeStore(deadline: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const closed = this.publisher.closeStore().then(
      () => true,
      (error: unknown) => {
        this.#log.warn('store-error', errorFields(error), `the store failed to close: ${describeThrown(error)}`)
        return true
      },
    )
    const answered = await Promise.race([closed, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))))])
    clearTimeout(timer)
    if (!answered) this.#log.warn('store-error', {}, 'the store did not close within end()\'s timeout: end() goes on without it')
  }

  /** The connection lifecycle stopped for good: settle everything. */
  #stopped(error: IotPubSubError | undefined): void {
    this.#stopListening()
    this.fatal = error
    if (error) this.subscriptions.errorAll(error)
    else this.subscriptions.completeAll()
    this.publisher.stop(error)
    this.subscriptions.finish()
    this.#errors.complete()
  }

  /**
   * A manually acknowledged message was refused (its handler failed): MQTT has no negative acknowledgement,
   * so the connection is closed without acknowledging it, and the broker delivers it again to the resumed
   * session (`clean: false`) after the reconnect.
   */
  #redeliver(topic: string, reason: unknown): void {
    this.#log.warn('handler-error', { topic, ...errorFields(reason) }, `a manually acknowledged message on ${JSON.stringify(topic)} was refused by its handler: it comes again`)
    this.#errors.next(new HandlerError(topic, reason))
    if (!this.#connection.connected) return
    this.#connection.onFailed({ type: 'protocol', message: `a message on ${JSON.stringify(topic)} was not acknowledged: reconnecting so that the broker delivers it again` })
    this.#connection.drop()
  }
}

