import type { Observable, Subscription } from 'rxjs'
import { type Codec, resolveCodec } from '../codec.js'
import { reshape } from '../inbound/delivered-message.js'
import { ClientClosedError, DecodeError, type IotPubSubError } from '../errors.js'
import type { Message } from '../message.js'
import type { ObserveOptions, PublishOptions } from '../options/client-options.js'
import type { Requester, RequestOptions } from '../services/requester.js'
import { observeRoute, type Route, type RouteMessage, type RouteOptions, type RouteParams } from '../services/route.js'
import { serveRequests } from '../services/serve.js'
import type { Status } from '../status.js'
import type { SubscriptionInfo } from '../subscriptions/broker-subscription.js'

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
  /** Made by the first request; its module is loaded then (an app that never requests does not ship it). */
  private requester: Requester | undefined
  private loadingRequester: Promise<Requester> | undefined

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
    if (this.requester) return decodedReply(this.requester, topic, payload, options)
    const calledAt = Date.now()
    const requester = await this.loadRequester()
    // The client may have ended while the module was loading.
    if (this.closed) throw new ClientClosedError('request() on a client that has ended', this.fatal)
    return decodedReply(requester, topic, payload, options, calledAt)
  }

  /** The requester, its module loaded on demand: one for every request that waits for it. */
  private loadRequester(): Promise<Requester> {
    this.loadingRequester ??= import('../services/requester.js').then((module) => {
      this.requester = new module.Requester(this, `${this.replyTopicPrefix}/${this.clientId}`)
      return this.requester
    })
    return this.loadingRequester
  }

  serve<T = Uint8Array>(filter: string, handler: (request: Message<T>) => unknown, options: ObserveOptions<T> = {}): Subscription {
    const qos = options.qos ?? 1
    return serveRequests(this, this.observe(filter, { ...options, qos }), handler, qos)
  }

  route<P extends string, T = Uint8Array>(pattern: P | Route<P>, options: RouteOptions<T> = {}): Observable<RouteMessage<T, RouteParams<P>>> {
    return observeRoute(this, pattern, options)
  }
}

/**
 * A request through `requester`, its reply decoded by the request's codec (`DecodeError` when it cannot be).
 * `calledAt`: when `request()` was called, if that was before the requester was loaded (its deadline counts from then).
 *
 * @example
 * ```ts
 * const reply = await decodedReply(requester, 'devices/d1/rpc/status', '', { codec: 'json', timeout: 2_000 })
 * ```
 */
async function decodedReply<T>(requester: Requester, topic: string, payload: unknown, options: RequestOptions<T>, calledAt?: number): Promise<Message<T>> {
  const reply = await requester.request(topic, payload, { timeout: options.timeout, qos: options.qos, calledAt })
  let decoded: T
  try {
    decoded = resolveCodec<T>(options.codec).decode(reply.raw)
  } catch (error) {
    throw new DecodeError(reply.topic, reply.raw, error)
  }
  return reshape(reply, decoded, reply.params)
}
