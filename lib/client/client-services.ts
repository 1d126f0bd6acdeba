import { Observable, Subscription } from 'rxjs'
import type { Codec } from '../codec.js'
import { ClientClosedError, ConnectionLostError, ConnectionRefusedError, type IotPubSubError, UnsupportedOptionError } from '../errors.js'
import type { Message } from '../message.js'
import type { ObserveOptions, PublishOptions } from '../options/client-options.js'
import type { ConnectedOptions } from '../options/connected-options.js'
import type { IterateOptions } from '../options/iterate-options.js'
import type { Requester, RequestOptions } from '../services/requester.js'
import type { RouteMessage, RouteOptions } from '../services/observe-route.js'
import type { Route, RouteParams } from '../services/route.js'
import { servicesKit } from '../services/services-kit.js'
import type { ConnectedStatus, Status } from '../status.js'
import type { SubscriptionInfo } from '../subscriptions/broker-subscription.js'

/** lib/services/on-demand.ts: the services' code, loaded by the first call that needs it. */
export type Services = typeof import('../services/on-demand.js')

/**
 * `request()`, `serve()` and `route()`, built on a client's own public `observe()` and `publish()`: the
 * facades (a connection of its own, or a tab of a shared one) differ in how they reach the broker, not in
 * these.
 * @internal
 */
export abstract class ClientServices {
  abstract readonly clientId: string
  abstract readonly status$: Observable<Status>
  abstract readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  /** The error the client stopped with, if a fatal one did. */
  protected fatal: IotPubSubError | undefined
  /**
   * The services' module once loaded: from then on each call is served at once, as if it had been there from
   * the start. An app that never requests, serves or routes never loads it.
   */
  #services: Services | undefined
  #loadingServices: Promise<Services> | undefined
  /** Made by the first request. */
  #requester: Requester | undefined

  /** Whether the client has ended (or is ending). */
  protected abstract get closed(): boolean
  /** Where replies go: `<replyTopicPrefix>/<clientId>`. */
  protected abstract get replyTopicPrefix(): string

  abstract observe<T>(filter: string, options?: ObserveOptions<T>): Observable<Message<T>>
  abstract publish<T = unknown>(topic: string, payload: T, options?: PublishOptions<T>): Promise<void>

  request(topic: string, payload: unknown, options?: RequestOptions<Uint8Array> & { codec?: 'bytes' }): Promise<Message<Uint8Array>>
  request(topic: string, payload: unknown, options: RequestOptions<string> & { codec: 'text' }): Promise<Message<string>>
  request<T = unknown>(topic: string, payload: unknown, options: RequestOptions<T> & { codec: 'json' }): Promise<Message<T>>
  request<T>(topic: string, payload: unknown, options: RequestOptions<T> & { codec: Codec<T> }): Promise<Message<T>>
  async request<T>(topic: string, payload: unknown, options: RequestOptions<T> = {}): Promise<Message<T>> {
    if (this.closed) throw new ClientClosedError('request() on a client that has ended', this.fatal)
    // Once loaded, the request goes out in this call, as before the first await; only the first waits.
    if (this.#services) return this.#services.decodedReply(servicesKit, this.#requesterOf(this.#services), topic, payload, options)
    const calledAt = Date.now()
    const services = await this.#loadServices()
    // The client may have ended while the module was loading.
    if (this.closed) throw new ClientClosedError('request() on a client that has ended', this.fatal)
    return services.decodedReply(servicesKit, this.#requesterOf(services), topic, payload, options, calledAt)
  }

  serve<T = Uint8Array>(filter: string, handler: (request: Message<T>) => unknown, options: ObserveOptions<T> = {}): Subscription {
    const qos = options.qos ?? 1
    // The filter is checked now (observe() throws InvalidTopicError at once), whether or not the code is loaded.
    const requests$ = this.observe(filter, { ...options, qos })
    if (this.#services) return this.#services.serveRequests(servicesKit, this, requests$, handler, qos)
    const serving = new Subscription()
    this.#loadServices().then(
      (services) => {
        if (serving.closed) return
        const inner = services.serveRequests(servicesKit, this, requests$, handler, qos)
        serving.add(inner)
        // Serving that ends by itself (the requests' observable errored) closes what the caller holds.
        inner.add(() => serving.unsubscribe())
      },
      // The code could not be loaded (a browser offline): serving ends, as when the requests' observable errors.
      () => serving.unsubscribe(),
    )
    return serving
  }

  route<P extends string, T = Uint8Array>(pattern: P | Route<P>, options: RouteOptions<T> = {}): Observable<RouteMessage<T, RouteParams<P>>> {
    // A pattern that is not a route is the observable's error (InvalidTopicError) when subscribed, loaded or not.
    return new Observable((subscriber) => {
      if (this.#services) return this.#services.observeRoute(servicesKit, this, pattern, options).subscribe(subscriber)
      let inner: Subscription | undefined
      this.#loadServices().then(
        (services) => {
          if (subscriber.closed) return
          try {
            inner = services.observeRoute(servicesKit, this, pattern, options).subscribe(subscriber)
          } catch (error) {
            // A pattern that is not a route: its InvalidTopicError, not a rejection nobody handles.
            subscriber.error(error)
          }
        },
        (error: unknown) => subscriber.error(error),
      )
      return () => inner?.unsubscribe()
    })
  }

  connected(options: ConnectedOptions = {}): Promise<ConnectedStatus> {
    const { timeout, signal } = options
    if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0)) {
      return Promise.reject(new UnsupportedOptionError(`connected(): \`timeout\` must be a positive number of milliseconds, not ${String(timeout)}`))
    }
    return new Promise<ConnectedStatus>((resolve, reject) => {
      let done = false
      let last: IotPubSubError | undefined
      let subscription: Subscription | undefined
      const finish = (error: unknown, status?: ConnectedStatus): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', aborted)
        subscription?.unsubscribe()
        if (status) resolve(status)
        else reject(error)
      }
      const aborted = (): void => finish(new ConnectionLostError('connected() aborted before the client connected', { cause: signal?.reason ?? last }))
      const timer = timeout === undefined ? undefined : setTimeout(() => finish(new ConnectionLostError(`not connected within ${timeout} ms`, { cause: last })), timeout)
      if (signal?.aborted) return aborted()
      signal?.addEventListener('abort', aborted, { once: true })
      subscription = this.status$.subscribe({
        next: (status) => {
          if (status.type === 'connected') finish(undefined, status)
          else if (status.type === 'closed') finish(status.error ?? new ClientClosedError('connected() on a client that has ended'))
          else if (status.type === 'reconnecting') {
            last = status.error
            // A refusal is an answer (a network failure is waited out): the caller decides whether to wait more.
            if (status.error instanceof ConnectionRefusedError) finish(status.error)
          }
        },
        complete: () => finish(new ClientClosedError('connected() on a client that has ended', this.fatal)),
      })
      if (done) subscription.unsubscribe()
    })
  }

  iterate<T>(filter: string, options: IterateOptions<T> = {}): AsyncIterableIterator<Message<T>> {
    const { bufferSize = 1000, ...observeOptions } = options
    if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) throw new UnsupportedOptionError(`iterate(): bufferSize must be a positive integer, not ${String(bufferSize)}`)
    // The filter and options are checked now (observe() throws at once), whether or not the code is loaded.
    const messages$ = this.observe(filter, observeOptions)
    const manual = options.ack === 'manual'
    if (this.#services) return new this.#services.MessageIterator(servicesKit, messages$, filter, manual, bufferSize)
    // The loop's first next() loads the code; one that ended first takes nothing.
    let iterator: AsyncIterableIterator<Message<T>> | undefined
    let ended = false
    const done: IteratorResult<Message<T>> = { done: true, value: undefined }
    const lazy: AsyncIterableIterator<Message<T>> = {
      [Symbol.asyncIterator]: () => lazy,
      next: async () => {
        const services = await this.#loadServices()
        if (ended) return done
        iterator ??= new services.MessageIterator(servicesKit, messages$, filter, manual, bufferSize)
        return iterator.next()
      },
      return: async () => {
        ended = true
        await iterator?.return?.()
        return done
      },
    }
    return lazy
  }

  /** The services' module: one load for every call that waits for it; a failed load is tried again by the next call. */
  #loadServices(): Promise<Services> {
    this.#loadingServices ??= this.importServices().then(
      (services) => (this.#services = services),
      (error: unknown) => {
        this.#loadingServices = undefined
        throw error
      },
    )
    return this.#loadingServices
  }

  /** The dynamic import itself; a test replaces it to see a failed load. */
  protected importServices(): Promise<Services> {
    return import('../services/on-demand.js')
  }

  #requesterOf(services: Services): Requester {
    if (!this.#requester) {
      // An empty client id (the broker assigns one, MQTT 5) is not known before the CONNACK: the topic must still
      // be this client's alone.
      const id = this.clientId || `anonymous-${Math.random().toString(36).slice(2, 12)}`
      this.#requester = new services.Requester(servicesKit, this, `${this.replyTopicPrefix}/${id}`)
    }
    return this.#requester
  }
}
