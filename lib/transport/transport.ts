import type { LinkFailure } from '../link/link.js'
import type { TimerVariant } from '../link/sign-of-life.js'
import type { Endpoint } from '../options/resolved-options.js'

/**
 * Unsent bytes above which a link takes no more publishes (`Link.writable`): they wait, bounded, in the
 * publisher's queue instead of in memory that nothing bounds. Far above what a healthy connection holds (a
 * burst of a thousand small messages is about 100 KB, and the operating system takes megabytes before a
 * socket holds anything), so a healthy connection never waits; small enough that a stalled broker costs a
 * client about one MiB, as the lean link's read-ahead does in the other direction.
 */
export const HIGH_WATER_MARK = 1 << 20
/**
 * Where `drain` comes once the high-water mark was crossed: low enough that a drain is worth waking the
 * publisher for, high enough that the socket still has a quarter MiB to send meanwhile.
 */
export const LOW_WATER_MARK = 1 << 18

/**
 * A byte stream to one broker: the only code of the lean link that touches sockets. One transport is one
 * connection attempt; the link makes a new one for the next attempt. Implementations: Node's TCP and TLS
 * (`node-socket.ts`), `ws` in Node and the browser's `WebSocket` (`websocket.ts`).
 */
export interface Transport {
  /**
   * Sends bytes, in order. The writes of one turn of the event loop may leave together (one TCP segment or
   * one WebSocket frame); none waits longer than the turn. A write after `closed` is dropped.
   */
  write(bytes: Uint8Array): void
  /**
   * Bytes written and not yet taken by the operating system (this turn's batch, the socket's or the
   * WebSocket's own buffer): what backpressure is measured on.
   */
  readonly buffered: number
  /**
   * Stops reading (the reader is busy): no `data` until `resume()`. A browser's WebSocket cannot stop reading;
   * its messages are held in the transport meanwhile.
   */
  pause(): void
  resume(): void
  /** Sends what was written, then closes; `closed` follows. */
  end(): void
  /** Closes at once, dropping what was not sent; `closed` follows. */
  destroy(): void
}

/** What a transport reports, to one listener: the link. */
export interface TransportEvents {
  /**
   * The CONNECT may be written: TCP connected (for TLS too: what is written waits in the TLS socket until the
   * handshake is done), or the WebSocket open.
   */
  open(): void
  data(chunk: Uint8Array): void
  /**
   * `buffered` fell back to the transport's low-water mark after a write had taken it over its high-water
   * mark (Node's `drain`; in a browser, `bufferedAmount` watched while it is high).
   */
  drain(): void
  /**
   * Why the stream failed, as a link reports it: `socket` for Node's errors with their code, `wrong-transport`
   * and `websocket-handshake` for a URL whose port speaks another transport. Zero or more times, before `closed`.
   */
  failed(failure: LinkFailure): void
  /** Exactly once per transport, whether it opened or not, after `end()`, `destroy()` or the peer's close. */
  closed(): void
}

/** Node-only TLS settings, passed as they are to `tls.connect` (and to `ws` for wss://). */
export type TransportTls = Readonly<Record<string, unknown>>

/**
 * Opens a transport to one endpoint; each entry point gives the one for its platform. `timers` are the link's
 * (a browser's run in a Worker): a WebSocket, which has no drain event, watches its buffer with them.
 */
export type OpenTransport = (endpoint: Endpoint, tls: TransportTls, events: TransportEvents, timers?: TimerVariant) => Transport
