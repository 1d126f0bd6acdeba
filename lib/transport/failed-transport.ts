import type { LinkFailure } from '../link/link.js'
import type { Transport, TransportEvents } from './transport.js'

/**
 * A transport that could not even be made (a TLS key that does not parse, a URL the WebSocket constructor
 * refuses): it reports `failure`, then `closed`, in a microtask, as a socket that failed at once would. Not
 * at once, so that the link has the transport in hand before its events arrive, and `open` never throws.
 *
 * @example
 * ```ts
 * try { socket = connect(options) } catch (error) { return failedTransport(events, { type: 'protocol', message: String(error) }) }
 * ```
 */
export function failedTransport(events: TransportEvents, failure: LinkFailure): Transport {
  queueMicrotask(() => {
    events.failed(failure)
    events.closed()
  })
  const nothing = (): void => undefined
  return { write: nothing, buffered: 0, pause: nothing, resume: nothing, end: nothing, destroy: nothing }
}
