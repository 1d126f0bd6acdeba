import type { Observable } from 'rxjs'
import type { Codec } from '../codec.js'
import type { Message } from '../message.js'
import type { ObserveOptions } from '../options/client-options.js'
import type { Route, RouteParams } from './route.js'
import { parseRoutePattern } from './route-pattern.js'
import type { ServicesKit } from './services-kit.js'

/** Options of `client.route()`: those of `observe()`, and an optional payload validator. */
export interface RouteOptions<T> extends ObserveOptions<T> {
  /** Validates a decoded payload (default codec then `'json'`): returns it typed, or throws. */
  schema?: (value: unknown) => T
}

/** A message on a typed route: `params` is an object named after the pattern's parameters. */
export type RouteMessage<T, P> = Omit<Message<T>, 'params'> & {
  /** The value of each of the pattern's parameters in this message's topic: `{ deviceId: 'd1', sensor: 'temp' }`. */
  readonly params: P
}

/** What observing a route needs of a client. */
export interface RouteClient {
  observe<T>(filter: string, options: ObserveOptions<T> & { codec: Codec<T> }): Observable<Message<T>>
}

/** The messages of a route, with their params as an object and payloads checked by `schema`. */
export function observeRoute<P extends string, T>(kit: ServicesKit, client: RouteClient, pattern: P | Route<P>, options: RouteOptions<T>): Observable<RouteMessage<T, RouteParams<P>>> {
  const { reshape, resolveCodec } = kit
  const typed = typeof pattern === 'string' ? parseRoutePattern<RouteParams<P>>(pattern, kit.InvalidTopicError) : pattern
  const { schema, ...observeOptions } = options
  const codec = resolveCodec<unknown>(options.codec ?? (schema ? 'json' : undefined))
  // A schema failure throws inside decode, so it is reported like any payload that cannot be decoded.
  const decode: Codec<T> = schema ? { encode: (value) => codec.encode(value), decode: (raw) => schema(codec.decode(raw)) } : (codec as Codec<T>)
  // The message's params already hold what each `+` matched: naming them needs no second match.
  const messages = client.observe(typed.filter, { ...observeOptions, codec: decode })
  // What `pipe(map(...))` does, written out: rxjs's `map` costs a browser app its operator machinery, which
  // nothing else in a connect/observe/publish bundle uses. As in `map`, a throw while reshaping (or handing
  // on) is the stream's error, and unsubscribing unsubscribes from the client's observable.
  return new kit.Observable((subscriber) =>
    messages.subscribe({
      next: (m) => {
        try {
          subscriber.next(reshape(m, m.payload, typed.paramsOf(m.params)))
        } catch (error) {
          subscriber.error(error)
        }
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  )
}
