import type { LivenessProbe } from '../../connection/liveness.js'
import type { Attempt, Link, LinkEvents, LinkFactory, LinkSession, LinkSettings } from '../link.js'

/**
 * A link that sends several filters in one SUBSCRIBE and UNSUBSCRIBE (as MQTT.js's does): the lazy link hands
 * the batches on as they are, and needs no per-filter fallback of its own.
 */
export type BatchingLink = Link & Required<Pick<Link, 'subscribeMany' | 'unsubscribeMany'>> & Partial<LivenessProbe>

/**
 * Links whose implementation is loaded on first use: the browser entry's MQTT.js link, behind a dynamic
 * `import()` that a bundler splits into a chunk of its own, so that an app on the lean link ships none of
 * MQTT.js and one that asks for `link: 'mqttjs'` loads it when it connects.
 * Until the implementation is loaded, each link is one that is opening and has nothing to send on. Written
 * as closures rather than a class: a browser app ships this whether it uses MQTT.js or not, and local
 * variables minify where private fields do not.
 *
 * @example
 * ```ts
 * const links = lazyLinks(() => import('./mqttjs-link.js').then((m) => m.mqttJsLinks(linkKit)))
 * ```
 */
export function lazyLinks(load: () => Promise<(settings: LinkSettings, events: LinkEvents) => BatchingLink>): LinkFactory {
  let loading: Promise<(settings: LinkSettings, events: LinkEvents) => BatchingLink> | undefined
  return (settings, events): Link & LivenessProbe => {
    let real: BatchingLink | undefined
    /** The attempt waiting for the load; cleared by `drop()` and `close()`. */
    let waiting: Attempt | undefined
    let ended = false
    /** A store's session, handed on when the implementation is made (before its first `open()`). */
    let resumed: LinkSession | undefined
    return {
      open(attempt) {
        if (real) return real.open(attempt)
        waiting = attempt
        ;(loading ??= load()).then(
          (make) => {
            if (ended || real) return
            real = make(settings, events)
            if (resumed) real.resume?.(resumed)
            const first = waiting
            waiting = undefined
            if (first) real.open(first)
          },
          (error: unknown) => {
            // A chunk that failed to load (a phone's connection dropped) is loaded again at the next attempt.
            loading = undefined
            if (ended || !waiting) return
            waiting = undefined
            events.failed({ type: 'protocol', message: `MQTT.js could not be loaded: ${error instanceof Error ? error.message : String(error)}` })
            events.closed()
          },
        )
      },
      publish(topic, payload, options, done) {
        if (real) return real.publish(topic, payload, options, done)
        done({ message: 'not connected' })
        return undefined
      },
      withdraw: (packetId) => real?.withdraw(packetId),
      resume: (session) => (resumed = session),
      get writable() {
        return real?.writable ?? true
      },
      subscribe(filter, options, done) {
        if (real) return real.subscribe(filter, options, done)
        queueMicrotask(() => done({ lost: true }))
      },
      subscribeMany(subscriptions, done) {
        if (real) return real.subscribeMany(subscriptions, done)
        queueMicrotask(() => done(subscriptions.map(() => ({ lost: true }))))
      },
      unsubscribe(filter, done) {
        if (real) return real.unsubscribe(filter, done)
        queueMicrotask(() => done(false))
      },
      unsubscribeMany(filters, done) {
        if (real) return real.unsubscribeMany(filters, done)
        queueMicrotask(() => done(false))
      },
      drop() {
        if (real) return real.drop()
        if (!waiting) return
        // The attempt is given up before it began: closed, as a socket closed at once would be.
        waiting = undefined
        queueMicrotask(() => events.closed())
      },
      probe(timeout, answer) {
        if (real?.probe) return real.probe(timeout, answer)
        answer(false)
      },
      close(options) {
        ended = true
        waiting = undefined
        return real ? real.close(options) : Promise.resolve()
      },
    }
  }
}
