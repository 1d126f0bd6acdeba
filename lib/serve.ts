import { mergeMap, type Observable, type Subscription } from 'rxjs'
import type { Message } from './message.js'
import type { PublishOptions } from './options.js'
import { ERROR_NAME_PROPERTY, ERROR_PROPERTY } from './requester.js'
import type { QoS } from './message.js'

/** What answering requests needs of a client. */
export interface ServingClient {
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<void>
}

/**
 * Answers each request of `requests$` on its response topic, with its correlation data: the handler's
 * result, or an error reply carrying the handler's error. Requests without a response topic are ignored.
 */
export function serveRequests<T>(client: ServingClient, requests$: Observable<Message<T>>, handler: (request: Message<T>) => unknown, qos: QoS): Subscription {
  return requests$
    .pipe(
      mergeMap(async (request) => {
        const responseTopic = request.properties?.responseTopic
        if (!responseTopic) return
        const correlation = request.properties?.correlationData
        const base = correlation ? { correlationData: correlation } : {}
        try {
          const result = await handler(request)
          await client.publish(responseTopic, result === undefined ? '' : result, { qos, properties: base })
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error))
          const userProperties = { [ERROR_PROPERTY]: failure.message, [ERROR_NAME_PROPERTY]: failure.name }
          await Promise.resolve()
            .then(() => client.publish(responseTopic, '', { qos, properties: { ...base, userProperties } }))
            .catch(() => undefined) // the requester times out; nothing else can be told
        }
      }),
    )
    .subscribe()
}
