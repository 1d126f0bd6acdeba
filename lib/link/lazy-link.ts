import type { LivenessProbe } from '../connection/liveness.js'
import type { Attempt, Link, LinkAckError, LinkEvents, LinkFactory, LinkPublishOptions, LinkSettings, LinkSubscribeOptions, LinkSubscription, Suback } from './link.js'

/**
 * Links whose implementation is loaded on first use: the browser entry's MQTT.js link, behind a dynamic
 * `import()` that a bundler splits into a chunk of its own, so that an app on the lean link ships none of
 * MQTT.js (about 100 KB min+gzip) and one that asks for `link: 'mqttjs'` loads it when it connects.
 *
 * @example
 * ```ts
 * const links = lazyLinks(() => import('./mqttjs-link.js').then((m) => m.mqttJsLinks()))
 * ```
 */
export function lazyLinks(load: () => Promise<LinkFactory>): LinkFactory {
  let loading: Promise<LinkFactory> | undefined
  const once = (): Promise<LinkFactory> => (loading ??= load())
  return (settings, events) => new LazyLink(settings, events, once)
}

/** Until the implementation is loaded, a link that is opening and has nothing to send on. */
class LazyLink implements Link, LivenessProbe {
  private real: (Link & Partial<LivenessProbe>) | undefined
  /** The attempt waiting for the load; cleared by `drop()` and `close()`. */
  private waiting: Attempt | undefined
  private ended = false

  constructor(
    private readonly settings: LinkSettings,
    private readonly events: LinkEvents,
    private readonly load: () => Promise<LinkFactory>,
  ) {}

  open(attempt: Attempt): void {
    if (this.real) return this.real.open(attempt)
    this.waiting = attempt
    this.load().then(
      (make) => {
        if (this.ended || this.real) return
        this.real = make(this.settings, this.events)
        const waiting = this.waiting
        this.waiting = undefined
        if (waiting) this.real.open(waiting)
      },
      (error: unknown) => {
        if (this.ended || !this.waiting) return
        this.waiting = undefined
        this.events.failed({ type: 'protocol', message: `MQTT.js could not be loaded: ${error instanceof Error ? error.message : String(error)}` })
        this.events.closed()
      },
    )
  }

  publish(topic: string, payload: Uint8Array | string, options: LinkPublishOptions, done: (error?: LinkAckError) => void): number | undefined {
    if (this.real) return this.real.publish(topic, payload, options, done)
    done({ message: 'not connected' })
    return undefined
  }

  withdraw(packetId: number): void {
    this.real?.withdraw(packetId)
  }

  subscribe(filter: string, options: LinkSubscribeOptions, done: (result: Suback) => void): void {
    if (this.real) return this.real.subscribe(filter, options, done)
    queueMicrotask(() => done({ lost: true }))
  }

  subscribeMany(subscriptions: readonly LinkSubscription[], done: (results: readonly Suback[]) => void): void {
    const real = this.real
    if (real?.subscribeMany) return real.subscribeMany(subscriptions, done)
    if (!real) return queueMicrotask(() => done(subscriptions.map(() => ({ lost: true }))))
    const results: Suback[] = []
    for (const { filter, options } of subscriptions) {
      real.subscribe(filter, options, (result) => {
        results.push(result)
        if (results.length === subscriptions.length) done(results)
      })
    }
  }

  unsubscribe(filter: string, done: (ok: boolean) => void): void {
    if (this.real) return this.real.unsubscribe(filter, done)
    queueMicrotask(() => done(false))
  }

  unsubscribeMany(filters: readonly string[], done: (ok: boolean) => void): void {
    const real = this.real
    if (real?.unsubscribeMany) return real.unsubscribeMany(filters, done)
    if (!real) return queueMicrotask(() => done(false))
    let left = filters.length
    let ok = true
    for (const filter of filters) {
      real.unsubscribe(filter, (each) => {
        ok &&= each
        if (--left === 0) done(ok)
      })
    }
  }

  drop(): void {
    if (this.real) return this.real.drop()
    if (!this.waiting) return
    // The attempt is given up before it began: closed, as a socket closed at once would be.
    this.waiting = undefined
    queueMicrotask(() => this.events.closed())
  }

  probe(timeout: number, answer: (alive: boolean) => void): void {
    if (this.real?.probe) return this.real.probe(timeout, answer)
    answer(false)
  }

  close(options: { force: boolean; timeout: number }): Promise<void> {
    this.ended = true
    this.waiting = undefined
    return this.real ? this.real.close(options) : Promise.resolve()
  }
}
