import type { Subscription } from 'rxjs'
import type { MQTTClient } from '../client/api.js'
import { ClientClosedError } from '../errors.js'
import type { PageLifecycle, PageReactions } from '../lifecycle/page-lifecycle.js'
import type { Log } from '../log/log.js'
import type { SubscriptionInfo } from '../subscriptions/broker-subscription.js'
import { heldLocks, type LockManager, whenReleased } from './locks.js'
import { HubTab, randomId } from './hub-tab.js'
import { type ObserveRequest, type PublishRequest, type ToAll, type ToHub, toWireError, toWireStatus, type WireStatus } from './tab-protocol.js'

/** How long a new hub waits for the tabs that are open to tell it what they observe before it connects. */
const HELLO_WAIT_MS = 1_000

/**
 * The tab that holds the shared connection: one engine client (the SDK's own, with a connection of its own)
 * observing and publishing for every tab. Broker subscriptions are ref-counted across the tabs by the
 * engine itself: each tab's filter is one observer of it. The hub lives while its tab's client does and it
 * holds the hub lock; a tab that goes away (its lock released) is dropped.
 */
export class Hub {
  readonly id = randomId()
  readonly #inbox: BroadcastChannel
  readonly #all: BroadcastChannel
  readonly #tabs = new Map<string, HubTab>()
  /** The tab and publish id of each QoS 1/2 message a tab handed over, by outbox id, until the hub answers it. */
  readonly #owners = new Map<string, { readonly tab: HubTab; readonly id: number }>()
  /** Aborted when the hub steps down: it stops watching the tabs' locks. */
  readonly #alive = new AbortController()
  #engine: MQTTClient | undefined
  #watching: Subscription[] = []
  #status: WireStatus
  #subscriptions: readonly SubscriptionInfo[] = []
  #stepping = false
  /** The engine's reactions to page events, for the other tabs' pages (undefined with `pageLifecycle: false`). */
  #pageReactions: PageReactions | undefined
  /** While the hub waits for the open tabs' hellos. */
  #awaiting: { readonly open: Set<string>; resolve(): void } | undefined
  #done!: () => void
  readonly #finished = new Promise<void>((resolve) => (this.#done = resolve))

  readonly #group: string
  readonly #locks: LockManager
  readonly #createEngine: (forwarded: PageLifecycle) => MQTTClient
  readonly #clientId: string
  readonly #log: Log

  constructor(
    group: string,
    locks: LockManager,
    createEngine: (forwarded: PageLifecycle) => MQTTClient,
    clientId: string,
    url: string,
    log: Log,
  ) {
    this.#group = group
    this.#locks = locks
    this.#createEngine = createEngine
    this.#clientId = clientId
    this.#log = log
    this.#status = { type: 'connecting', url }
    this.#inbox = new BroadcastChannel(`${group}:hub`)
    this.#all = new BroadcastChannel(`${group}:all`)
    this.#inbox.onmessage = (event: MessageEvent<ToHub>) => this.#receive(event.data)
  }

  /** Runs while the hub lock is held: resolves when the hub steps down or its connection ends for good. */
  async run(): Promise<void> {
    this.#broadcast({ t: 'hub', hub: this.id })
    // The tabs already open hold their own locks: wait (briefly) until each has said what it observes, so
    // that a resumed session's queued messages find their observers on the very first connection.
    const open = new Set((await heldLocks(this.#locks, `${this.#group}:tab:`)).map((name) => name.slice(`${this.#group}:tab:`.length)))
    const silent = await this.#helloFrom(open, HELLO_WAIT_MS)
    if (this.#stepping) return this.#finished
    this.#log.debug('shared', { hub: this.id, tabs: this.#tabs.size, silent }, `this tab holds the shared connection for ${this.#tabs.size} tab(s)${silent ? `; ${silent} open tab(s) not heard from yet` : ''}`)
    const engine = this.#createEngine((reactions) => {
      this.#pageReactions = reactions
      return () => (this.#pageReactions = undefined)
    })
    this.#engine = engine
    this.#watching = [
      engine.status$.subscribe((status) => {
        if (this.#stepping) return
        this.#status = toWireStatus(status)
        this.#broadcast({ t: 'status', hub: this.id, status: this.#status })
        if (status.type === 'closed') this.#finish()
      }),
      engine.subscriptions$.subscribe((subscriptions) => {
        this.#subscriptions = subscriptions
        if (!this.#stepping) this.#broadcast({ t: 'subscriptions', hub: this.id, subscriptions })
      }),
    ]
    for (const tab of this.#tabs.values()) this.#apply(tab)
    // After the tabs' publishes are known: what the store restored that a tab hands over again is that tab's.
    this.#watching.push(
      engine.outbox$.subscribe(({ id, topic, state }) => {
        if (this.#stepping) return
        const owner = this.#owners.get(id)
        // A message whose tab has gone (or never came) is every tab's to see.
        if (!owner || this.#tabs.get(owner.tab.id) !== owner.tab) return this.#broadcast({ t: 'outbox', hub: this.id, outboxId: id, topic, state })
        // The end of a flow reaches the tab as the publish's answer.
        if (state === 'queued' || state === 'sent') owner.tab.post({ t: 'outbox', hub: this.id, id: owner.id, state })
      }),
    )
    return this.#finished
  }

  /** Tabs other than `tab` that use the connection. */
  othersThan(tab: string): number {
    return [...this.#tabs.keys()].filter((id) => id !== tab).length
  }

  /** The hub's tab is ending: the engine ends (gracefully, unless `force`) and the lock goes to another tab. */
  async stepDown(options: { force: boolean; timeout: number }): Promise<void> {
    if (this.#stepping) return this.#finished
    this.#stepping = true
    this.#alive.abort()
    this.#awaiting?.resolve()
    for (const watch of this.#watching) watch.unsubscribe()
    for (const tab of this.#tabs.values()) tab.flush()
    try {
      await this.#engine?.end(options)
    } finally {
      this.#finish()
    }
  }

  #finish(): void {
    this.#stepping = true
    this.#alive.abort()
    this.#inbox.close()
    this.#all.close()
    for (const tab of this.#tabs.values()) {
      tab.flush()
      tab.channel.close()
    }
    this.#tabs.clear()
    this.#done()
  }

  #receive(message: ToHub): void {
    if (this.#stepping || !message || typeof message !== 'object') return
    const tab = this.#tabs.get(message.tab) ?? (message.t === 'bye' ? undefined : this.#join(message.tab))
    if (!tab) return
    switch (message.t) {
      case 'hello':
        // A tab's whole state: what it no longer lists is released.
        for (const id of [...tab.wanted.keys()]) if (!message.observes.some((o) => o.id === id)) this.#release(tab, id)
        for (const observe of message.observes) this.#observe(tab, observe)
        for (const publish of message.publishes) this.#publish(tab, publish)
        return
      case 'observe':
        return this.#observe(tab, message.observe)
      case 'release':
        return this.#release(tab, message.id)
      case 'publish':
        return this.#publish(tab, message.publish)
      case 'cancel':
        tab.publishing.get(message.id)?.abort()
        return
      case 'check':
        return this.#pageReactions?.check(message.reason)
      case 'bye':
        // The tab is ending: its observers go now; it stays until its lock is released, for its publishes' answers.
        for (const id of [...tab.wanted.keys()]) this.#release(tab, id)
        return
    }
  }

  /** A tab the hub has not heard of: welcome it, and drop it when its lock says it has gone. */
  #join(id: string): HubTab {
    const tab = new HubTab(id, new BroadcastChannel(`${this.#group}:tab:${id}`), this.id)
    this.#tabs.set(id, tab)
    if (this.#awaiting?.open.delete(id) && this.#awaiting.open.size === 0) this.#awaiting.resolve()
    tab.post({ t: 'welcome', hub: this.id, clientId: this.#clientId, status: this.#status, subscriptions: this.#subscriptions })
    this.#log.debug('shared', { hub: this.id, tab: id, tabs: this.#tabs.size }, `a tab joined the shared connection (${this.#tabs.size} in all)`)
    whenReleased(this.#locks, `${this.#group}:tab:${id}`, this.#alive.signal, () => this.#drop(id))
    return tab
  }

  #drop(id: string): void {
    const tab = this.#tabs.get(id)
    if (!tab || this.#stepping) return
    this.#tabs.delete(id)
    for (const observation of tab.observing.values()) observation.subscription.unsubscribe()
    tab.observing.clear()
    tab.wanted.clear()
    tab.channel.close()
    this.#log.debug('shared', { hub: this.id, tab: id, tabs: this.#tabs.size }, `a tab left the shared connection (${this.#tabs.size} remain)`)
  }

  #apply(tab: HubTab): void {
    for (const observe of tab.wanted.values()) this.#observe(tab, observe)
    for (const publish of tab.waiting.splice(0)) this.#publish(tab, publish)
  }

  #observe(tab: HubTab, request: ObserveRequest): void {
    tab.wanted.set(request.id, request)
    const engine = this.#engine
    if (!engine) return
    const current = tab.observing.get(request.id)
    if (current && current.qos >= request.qos) return
    let subscription: Subscription
    try {
      subscription = engine.observe(request.filter, { qos: request.qos }).subscribe({
        next: (m) => tab.deliver([request.id, m.topic, m.raw, m.qos, m.retain, m.properties]),
        error: (error: unknown) => {
          if (this.#stepping || tab.observing.get(request.id)?.subscription !== subscription) return
          tab.observing.delete(request.id)
          tab.wanted.delete(request.id)
          tab.post({ t: 'failed', hub: this.id, id: request.id, error: toWireError(error) })
        },
      })
    } catch (error) {
      tab.wanted.delete(request.id)
      return tab.post({ t: 'failed', hub: this.id, id: request.id, error: toWireError(error) })
    }
    tab.observing.set(request.id, { qos: request.qos, subscription })
    // Released after the new one joined, so a QoS upgrade never drops the broker subscription in between.
    current?.subscription.unsubscribe()
  }

  #release(tab: HubTab, id: number): void {
    tab.wanted.delete(id)
    tab.observing.get(id)?.subscription.unsubscribe()
    tab.observing.delete(id)
  }

  #publish(tab: HubTab, request: PublishRequest): void {
    const engine = this.#engine
    if (!engine) {
      tab.waiting.push(request)
      return
    }
    if (tab.publishing.has(request.id)) return
    const abort = new AbortController()
    tab.publishing.set(request.id, abort)
    const { topic, payload, qos, retain, properties, outboxId: id, expiresAt, collapse } = request
    const expiry = expiresAt === undefined ? undefined : Math.max(0.001, (expiresAt - Date.now()) / 1000)
    if (id !== undefined) this.#owners.set(id, { tab, id: request.id })
    engine.publish(topic, payload, { qos, retain, properties, signal: abort.signal, id, expiry, collapse }).then(
      () => this.#published(tab, request, undefined),
      (error: unknown) => this.#published(tab, request, error),
    )
  }

  #published(tab: HubTab, request: PublishRequest, error: unknown): void {
    const { id, outboxId } = request
    tab.publishing.delete(id)
    if (outboxId !== undefined && this.#owners.get(outboxId)?.tab === tab) this.#owners.delete(outboxId)
    // A publish the ending engine gave up is sent again by its tab, to the next hub.
    if (this.#stepping && error instanceof ClientClosedError) return
    // A tab that left (closed, reloaded) while its publish was in flight waits for no answer.
    if (this.#tabs.get(tab.id) !== tab) return
    tab.post(error === undefined ? { t: 'published', hub: this.id, id } : { t: 'published', hub: this.id, id, error: toWireError(error) })
  }

  #broadcast(message: ToAll): void {
    this.#all.postMessage(message)
  }

  /** Resolves once each of `open` has said hello, or after `ms`: with how many have not. */
  #helloFrom(open: Set<string>, ms: number): Promise<number> {
    for (const id of this.#tabs.keys()) open.delete(id)
    if (open.size === 0) return Promise.resolve(0)
    return new Promise<number>((resolve) => {
      const timer = setTimeout(() => this.#awaiting?.resolve(), ms)
      this.#awaiting = {
        open,
        resolve: () => {
          clearTimeout(timer)
          this.#awaiting = undefined
          resolve(open.size)
        },
      }
    })
  }
}
