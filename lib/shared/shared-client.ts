import { BehaviorSubject, Observable, Subject } from 'rxjs'
import type { MQTTClient } from '../client/api.js'
import { ClientServices } from '../client/client-services.js'
import { resolveCodec } from '../codec.js'
import { ClientClosedError, ConnectionLostError, DecodeError, type IotPubSubError, UnsupportedOptionError } from '../errors.js'
import { keepCleared, type ObserverHost, ObserverRecord } from '../inbound/observer-record.js'
import { FilterObservable } from '../inbound/filter-observable.js'
import type { PageLifecycle } from '../lifecycle/page-lifecycle.js'
import { errorFields, type Log } from '../log/log.js'
import type { Message } from '../message.js'
import type { EndOptions, MQTTClientOptions, ObserveOptions, PublishOptions } from '../options/client-options.js'
import type { ResolvedOptions } from '../options/resolved-options.js'
import { checkOneOf, checkQos } from '../options/validate.js'
import type { Status } from '../status.js'
import type { OutboxEvent } from '../publish/outbox.js'
import type { SubscriptionInfo } from '../subscriptions/broker-subscription.js'
import { parseFilter } from '../topic.js'
import { Hub } from './hub.js'
import { randomId } from './hub-tab.js'
import { holdLock, type LockManager, queueForLock } from './locks.js'
import { sharingGroup } from './sharing-group.js'
import { TabPublisher } from './tab-publisher.js'
import { TabSubscriptions } from './tab-subscriptions.js'
import { fromWireError, fromWireStatus, type ToAll, type ToHub, type ToTab, type WireStatus } from './tab-protocol.js'

/** What a shared client needs from its entry: the browser's locks, and how to make a connection of its own. */
export interface SharingRuntime {
  readonly locks: LockManager
  /**
   * A client with a connection of its own, for the tab that holds the shared connection; `forwarded` brings it
   * the other tabs' page events.
   */
  readonly engine: (options: MQTTClientOptions, forwarded: PageLifecycle) => MQTTClient
  /** This tab's page events, when the client follows the page lifecycle. */
  readonly lifecycle: PageLifecycle | undefined
}

/**
 * A client whose broker connection is shared by the tabs of this origin (`iotpubsub/shared`). Each
 * tab's client is one of these; the tab that holds the Web Lock of the group runs the {@link Hub}, the others
 * talk to it over BroadcastChannel. The API and its behaviour are those of a client of its own.
 * @internal
 */
export class SharedClient extends ClientServices implements MQTTClient {
  readonly status$: Observable<Status>
  readonly errors$: Observable<IotPubSubError>
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  /** This tab's messages: `queued` when handed to the tab holding the connection, then its outcome (no `sent`). */
  readonly outbox$: Observable<OutboxEvent>
  readonly urls: readonly string[]

  readonly #tab = randomId()
  protected readonly replyTopicPrefix: string
  readonly #group: string
  readonly #status: BehaviorSubject<Status>
  readonly #errors = new Subject<IotPubSubError>()
  readonly #subscriptions: TabSubscriptions
  readonly #publisher: TabPublisher
  readonly #observerHost: ObserverHost
  readonly #toHub: BroadcastChannel
  readonly #fromAll: BroadcastChannel
  readonly #mine: BroadcastChannel
  /** Aborted when this client ends: releases the tab's lock and leaves the line for the hub lock. */
  readonly #alive = new AbortController()
  #hubId: string | undefined
  #hub: Hub | undefined
  #sharedClientId: string
  #everConnected = false
  /** The tab's own lock is held: it may talk to the hub. */
  #joined = false
  #ending: Promise<void> | undefined
  #ended = false
  readonly #stopListening: () => void

  readonly #log: Log

  constructor(options: MQTTClientOptions, resolved: ResolvedOptions, runtime: SharingRuntime, log: Log) {
    super()
    this.#log = log
    this.#group = sharingGroup(options, resolved)
    this.urls = resolved.endpoints.map((e) => e.url)
    this.#sharedClientId = resolved.clientId
    this.replyTopicPrefix = resolved.replyTopicPrefix
    this.#status = new BehaviorSubject<Status>({ type: 'connecting', url: this.urls[0] ?? '' })
    const send = (message: ToHub): void => this.#send(message)
    this.#subscriptions = new TabSubscriptions(resolved.retainedCacheSize, send, this.#tab)
    this.#publisher = new TabPublisher(send, this.#tab)
    this.#observerHost = {
      decodeFailed: (error: DecodeError) => {
        this.#log.warn('decode-error', { topic: error.topic, bytes: error.raw.length, ...errorFields(error.cause) }, `a payload on ${JSON.stringify(error.topic)} could not be decoded`)
        this.#errors.next(error)
      },
      detach: (observer) => {
        if (observer.subscription && !this.#ended) this.#subscriptions.release(observer.subscription, observer)
      },
    }
    this.status$ = new Observable<Status>((subscriber) => this.#status.subscribe(subscriber))
    this.errors$ = this.#errors.asObservable()
    this.subscriptions$ = this.#subscriptions.subscriptions$
    this.outbox$ = this.#publisher.outbox.outbox$

    this.#toHub = new BroadcastChannel(`${this.#group}:hub`)
    this.#fromAll = new BroadcastChannel(`${this.#group}:all`)
    this.#mine = new BroadcastChannel(`${this.#group}:tab:${this.#tab}`)
    this.#fromAll.onmessage = (event: MessageEvent<ToAll>) => this.#fromHubToAll(event.data)
    this.#mine.onmessage = (event: MessageEvent<ToTab>) => this.#fromHubToMe(event.data)

    // A tab that comes back (visible again, resumed) has the holding tab check the connection at once: that tab
    // may be hidden, and hear nothing itself. Online and offline reach every tab, the holding one included.
    this.#stopListening = runtime.lifecycle?.({ online: () => undefined, offline: () => undefined, check: (reason) => this.#send({ t: 'check', tab: this.#tab, reason }) }) ?? (() => undefined)
    // The tab's own lock first (the hub watches it to know when this tab is gone), then a hello for a hub that
    // may exist already, then the line for the hub lock: when it comes, this tab holds the connection.
    // The holding tab's client id (its random one when none was given) becomes the connection's.
    const engineOptions: MQTTClientOptions = { ...options, clientId: resolved.clientId }
    holdLock(runtime.locks, `${this.#group}:tab:${this.#tab}`, this.#alive.signal).then(
      () => {
        if (this.#alive.signal.aborted) return
        this.#joined = true
        this.#send({ t: 'hello', tab: this.#tab, observes: this.#subscriptions.requests(), publishes: [] })
        queueForLock(runtime.locks, `${this.#group}:hub`, this.#alive.signal, () => this.#lead(runtime, engineOptions))
      },
      (error: unknown) => this.#stop(new ConnectionLostError('the tab could not join the shared connection (Web Locks refused)', { cause: error })),
    )
  }

  get url(): string {
    const status = this.#status.value
    return status.type === 'closed' ? (this.urls[0] ?? '') : status.url
  }

  protected get closed(): boolean {
    return this.#ended
  }

  /** The client id in use: the one given, or the random one of the tab holding the connection. */
  get clientId(): string {
    return this.#sharedClientId
  }

  observe<T>(filter: string, options: ObserveOptions<T> = {}): Observable<Message<T>> {
    const parsed = parseFilter(filter)
    const qos = checkQos(options.qos ?? 0)
    const resolved = resolveCodec<T>(options.codec)
    const codec = checkOneOf('cleared', options.cleared ?? false, [false, true] as const) ? keepCleared(resolved) : resolved
    if (checkOneOf('ack', options.ack ?? 'auto', ['auto', 'manual'] as const) === 'manual') {
      throw new UnsupportedOptionError("`ack: 'manual'` needs a connection of its own: it holds the connection's reading, which the tabs sharing it cannot")
    }
    return new FilterObservable<T>((sink) => {
      const observer = new ObserverRecord<T>(this.#observerHost, sink, qos, codec, false)
      if (this.#ended) observer.error(this.fatal ?? new ClientClosedError('observe() on a client that has ended'))
      else observer.subscription = this.#subscriptions.add(parsed, observer)
      return observer
    })
  }

  publish<T = unknown>(topic: string, payload: T, options: PublishOptions<T> = {}): Promise<void> {
    return this.#publisher.publish(topic, payload, options)
  }

  end(options: EndOptions = {}): Promise<void> {
    this.#ending ??= this.#shutdown(options)
    return this.#ending
  }

  async #shutdown({ force = false, timeout = 5_000 }: EndOptions): Promise<void> {
    const deadline = Date.now() + timeout
    this.#ended = true
    this.#subscriptions.completeAll()
    this.#send({ t: 'bye', tab: this.#tab })
    if (!force) await this.#publisher.drain(deadline - Math.min(1_000, timeout / 4))
    this.#publisher.stop(undefined)
    const hub = this.#hub
    this.#alive.abort()
    // The connection stays up for the other tabs: the engine ends gracefully and another tab takes over.
    if (hub) await hub.stepDown({ force: force && hub.othersThan(this.#tab) === 0, timeout: Math.max(0, deadline - Date.now()) })
    this.#close(undefined)
  }

  /** This tab holds the hub lock: it runs the hub until this client ends or the connection ends for good. */
  async #lead(runtime: SharingRuntime, engineOptions: MQTTClientOptions): Promise<void> {
    if (this.#ended) return
    const hub = new Hub(this.#group, runtime.locks, (forwarded) => runtime.engine(engineOptions, forwarded), engineOptions.clientId ?? '', this.urls[0] ?? '', this.#log)
    this.#hub = hub
    await hub.run()
    this.#hub = undefined
  }

  #send(message: ToHub): void {
    // Nothing before the tab's own lock is held: the hub watches that lock, and would take the tab for gone.
    // The hello sent once it is held carries the whole state, so nothing said before it is missed.
    if (!this.#joined && message.t !== 'hello') return
    if (this.#alive.signal.aborted && message.t !== 'bye') return
    this.#toHub.postMessage(message)
  }

  #fromHubToAll(message: ToAll): void {
    if (this.#ended || !message || typeof message !== 'object') return
    if (message.t === 'hub') {
      if (message.hub === this.#hubId) return
      this.#newHub(message.hub)
      // Not joined yet: the hello sent once this tab's lock is held reaches the new hub.
      if (!this.#joined) return
      const publishes = this.#publisher.handover(message.hub)
      this.#send({ t: 'hello', tab: this.#tab, observes: this.#subscriptions.requests(), publishes })
      return
    }
    if (message.hub !== this.#hubId) return
    if (message.t === 'status') this.#onHubStatus(message.status)
    else if (message.t === 'outbox') this.#publisher.restored(message.outboxId, message.topic, message.state)
    else this.#subscriptions.hubSubscriptions(message.subscriptions)
  }

  #fromHubToMe(message: ToTab): void {
    if (this.#ended && !(message?.t === 'published')) return
    if (!message || typeof message !== 'object') return
    if (message.t === 'welcome') {
      const known = message.hub === this.#hubId
      if (!known) this.#newHub(message.hub)
      if (message.clientId) this.#sharedClientId = message.clientId
      this.#subscriptions.hubSubscriptions(message.subscriptions)
      this.#onHubStatus(message.status)
      // A hub new to this tab welcomed it before its announcement came (on another channel, which is then dropped
      // as known): it has heard only what this tab said since it took over, so it is told the whole state.
      if (!known && this.#joined) this.#send({ t: 'hello', tab: this.#tab, observes: this.#subscriptions.requests(), publishes: [] })
      // Hands over what this hub has not seen (publishes made before this tab had joined, say): idempotent.
      this.#publisher.welcome(message.hub)
      return
    }
    // What a hub that has since gone received and acknowledged still counts: the broker will not send it again,
    // and nothing orders its last posts before the next hub's announcement, which comes on another channel.
    if (message.t === 'messages') return this.#subscriptions.deliver(message.batch)
    if (message.t === 'published' && !message.error) return this.#publisher.settle(message.id, undefined)
    // Durable in a replaced hub's store is durable: the hubs share the store.
    if (message.t === 'outbox') return this.#publisher.outboxState(message.id, message.state)
    if (message.hub !== this.#hubId) return
    switch (message.t) {
      case 'failed':
        return this.#subscriptions.failed(message.id, fromWireError(message.error))
      case 'published':
        return this.#publisher.settle(message.id, message.error ? fromWireError(message.error) : undefined)
    }
  }

  /**
   * Another tab holds the connection now (the 'hub' announcement and the new hub's welcome come on different
   * channels, in either order): for a tab that was connected, that is a reconnect.
   */
  #newHub(hub: string): void {
    this.#hubId = hub
    this.#subscriptions.hubSubscriptions([])
    if (!this.#everConnected || this.#status.value.type !== 'connected') return
    this.#status.next({ type: 'reconnecting', url: this.url, attempt: 1, delay: 0, error: new ConnectionLostError('the tab holding the shared connection went away; another tab takes over') })
  }

  /** The hub's connection status, as this tab's client reports it. */
  #onHubStatus(wire: WireStatus): void {
    const status = fromWireStatus(wire)
    const current = this.#status.value
    if (status.type === 'closed') return this.#stop(status.error ?? new ConnectionLostError('the shared connection closed'))
    if (status.type === 'connected') {
      this.#everConnected = true
      // The same connection told twice (a welcome and a broadcast): reported once.
      if (current.type !== 'connected') this.#status.next(status)
      return
    }
    // A new hub's first attempt: `connecting` for a tab never connected, else the `reconnecting` of newHub().
    if (status.type === 'connecting') {
      if (current.type !== 'connecting' && !this.#everConnected) this.#status.next(status)
      return
    }
    this.#status.next(status)
  }

  /** The shared connection ended for good (a fatal error at the hub): this client ends with it. */
  #stop(error: IotPubSubError): void {
    if (this.#ended) return
    this.#ended = true
    this.fatal = error
    this.#log.warn('stopped', errorFields(error), `the shared connection ended: ${error.message}`)
    this.#subscriptions.errorAll(error)
    this.#publisher.stop(error)
    this.#alive.abort()
    const hub = this.#hub
    this.#ending = (hub ? hub.stepDown({ force: false, timeout: 1_000 }) : Promise.resolve()).then(() => this.#close(error))
  }

  #close(error: IotPubSubError | undefined): void {
    this.#stopListening()
    this.#toHub.close()
    this.#fromAll.close()
    this.#mine.close()
    this.#subscriptions.finish()
    this.#errors.complete()
    if (this.#status.value.type !== 'closed') this.#status.next({ type: 'closed', error })
    this.#status.complete()
  }
}
