import type { LinkFailure } from '../link/link.js'
import type { Endpoint } from '../options/resolved-options.js'

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
   * Why the stream failed, as a link reports it: `socket` for Node's errors with their code, `wrong-transport`
   * and `websocket-handshake` for a URL whose port speaks another transport. Zero or more times, before `closed`.
   */
  failed(failure: LinkFailure): void
  /** Exactly once per transport, whether it opened or not, after `end()`, `destroy()` or the peer's close. */
  closed(): void
}

/** Node-only TLS settings, passed as they are to `tls.connect` (and to `ws` for wss://). */
export type TransportTls = Readonly<Record<string, unknown>>

/** Opens a transport to one endpoint; each entry point gives the one for its platform. */
export type OpenTransport = (endpoint: Endpoint, tls: TransportTls, events: TransportEvents) => Transport
