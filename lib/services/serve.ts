import type { Observable, Subscription } from 'rxjs'
import type { Message, QoS } from '../message.js'
import type { PublishOptions } from '../options/client-options.js'
import { ERROR_NAME_PROPERTY, ERROR_PROPERTY } from './error-reply.js'
import type { ServicesKit } from './services-kit.js'

/** An error text longer than this is cut: a user property holds 65,535 bytes at most, and a requester wants the gist. */
const MAX_ERROR_TEXT = 4_096

/**
 * What answering requests needs of a client.
 *
 * @example
 * ```ts
 * const serving: ServingClient = { publish: (topic, payload, options) => client.publish(topic, payload, options) }
 * ```
 */
export interface ServingClient {
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<void>
}

/**
 * Answers each request of `requests$` on its response topic, with its correlation data: the handler's
 * result, or an error reply carrying the handler's error (its `message` and `name`, which the requester
 * gets as `ResponderError`). Handlers run concurrently; requests without a response topic are ignored.
 *
 * Nothing here throws or rejects into the process: a failed handler or a failed reply is answered or
 * dropped, and when `requests$` errors (the connection lost with `reconnect: false`, the subscription
 * refused, the client ended after a fatal error) serving stops and the returned Subscription is closed,
 * which runs every teardown added to it.
 *
 * @example
 * ```ts
 * const serving = serveRequests(servicesKit, client, client.observe('rpc/ping'), () => 'pong', 1)
 * serving.add(() => console.warn('no longer serving rpc/ping')) // runs on unsubscribe() and when serving ends
 * ```
 */
export function serveRequests<T>(kit: ServicesKit, client: ServingClient, requests$: Observable<Message<T>>, handler: (request: Message<T>) => unknown, qos: QoS): Subscription {
  // What an MQTT string may not hold (a stack trace's newlines, a NUL), replaced so the error reply can be sent.
  const unsendable = new RegExp(`[${kit.FORBIDDEN_CHARACTERS}]`, 'gu')
  const sendable = (text: string): string => text.replace(unsendable, ' ').slice(0, MAX_ERROR_TEXT)
  return answerEach(kit, requests$, (request) => answer(kit, client, request, handler, qos, sendable)).subscribe({
    // The error ends the subscription (closed, teardowns run); rethrowing would be an uncaught exception.
    error: () => undefined,
  })
}

/**
 * What `mergeMap` does with a function returning a promise that never rejects, written out: every request is
 * answered at once, concurrently; an error of `requests$` passes at once; its completion waits for the
 * answers still running. Not `mergeMap` itself, whose support for every kind of ObservableInput (iterables,
 * async iterables, streams) would put that much more of rxjs into every browser app, served or not.
 */
function answerEach<T>(kit: ServicesKit, requests$: Observable<T>, run: (request: T) => Promise<void>): Observable<never> {
  return new kit.Observable<never>((subscriber) => {
    let running = 0
    let ended = false
    const settled = (): void => {
      running -= 1
      if (ended && running === 0) subscriber.complete()
    }
    return requests$.subscribe({
      next: (request) => {
        running += 1
        // `answer` never rejects; were it to, the error would end serving, as with mergeMap.
        run(request).then(settled, (error: unknown) => subscriber.error(error))
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        ended = true
        if (running === 0) subscriber.complete()
      },
    })
  })
}

/** Runs the handler and publishes its reply; never rejects, so one request cannot end serving. */
async function answer<T>(kit: ServicesKit, client: ServingClient, request: Message<T>, handler: (request: Message<T>) => unknown, qos: QoS, sendable: (text: string) => string): Promise<void> {
  const responseTopic = request.properties?.responseTopic
  if (!responseTopic) return request.ack()
  const correlation = request.properties?.correlationData
  const base = correlation ? { correlationData: correlation } : {}
  try {
    const result = await handler(request)
    await client.publish(responseTopic, result === undefined ? '' : result, { qos, properties: base })
  } catch (error) {
    // The handler failed, or its result could not be sent (too large, not encodable): tell the requester.
    const userProperties = { [ERROR_PROPERTY]: sendable(kit.describeThrown(error)), [ERROR_NAME_PROPERTY]: sendable(errorName(error)) }
    try {
      await client.publish(responseTopic, '', { qos, properties: { ...base, userProperties } })
    } catch {
      // The requester times out; nothing else can be told.
    }
  } finally {
    // Served with `ack: 'manual'`: the request is acknowledged once answered (a no-op with automatic acks);
    // never acknowledging it would stop the connection after the first request.
    request.ack()
  }
}

/** The class name of what a handler threw, for the requester's `ResponderError`; 'Error' for anything else. */
function errorName(thrown: unknown): string {
  try {
    return thrown instanceof Error ? String(thrown.name) : 'Error'
  } catch {
    return 'Error'
  }
}
