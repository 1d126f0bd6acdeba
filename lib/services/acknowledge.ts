import { catchError, concatMap, EMPTY, from, type ObservableInput, type OperatorFunction, tap } from 'rxjs'
import type { Message } from '../message.js'

/**
 * Runs `handler` for each message, one at a time, and acknowledges the message when the handler's
 * promise resolves (or its Observable completes). When the handler fails, the message is refused with
 * `nack()`: not acknowledged, and delivered again after the reconnect that follows (with `clean: false`).
 * The failure is reported on `client.errors$` as a `HandlerError`; the stream goes on.
 *
 * @example
 * ```ts
 * client
 *   .observe<Reading>('devices/+/telemetry', { qos: 1, ack: 'manual', codec: 'json' })
 *   .pipe(acknowledge(async (m) => db.insert(m.payload)))
 *   .subscribe()
 * ```
 */
export function acknowledge<T, R>(handler: (message: Message<T>) => ObservableInput<R>): OperatorFunction<Message<T>, R> {
  return (source) =>
    source.pipe(
      concatMap((message) =>
        from(handler(message)).pipe(
          tap({ complete: () => message.ack() }),
          catchError((error: unknown) => {
            message.nack(error)
            return EMPTY
          }),
        ),
      ),
    )
}
