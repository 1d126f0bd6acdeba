/**
 * Where the client's debug log goes: anything with these four methods, such as `console` or a pino logger.
 * Each call gets the structured fields first (with `event` naming what happened) and a one-line message
 * second, the order pino expects and that `console` prints readably.
 *
 * @example
 * ```ts
 * const client = connect('mqtt://localhost:1883', { logger: console })
 * // { event: 'attempt', url: 'mqtt://localhost:1883', attempt: 1, protocolVersion: 5 } iotpubsub: connecting to mqtt://localhost:1883 (MQTT 5)
 * ```
 */
export interface Logger {
  /** Details: SUBSCRIBE, SUBACK and UNSUBSCRIBE, the shared connection's tabs. */
  debug(fields: LogFields, message: string): void
  /** The connection's story: attempts, CONNACKs, reconnects, the page lifecycle. */
  info(fields: LogFields, message: string): void
  /** What went wrong and was handled: a refusal, a closed connection, a payload that could not be decoded. */
  warn(fields: LogFields, message: string): void
  /** The client stopped for good. */
  error(fields: LogFields, message: string): void
  /**
   * Each publish and its outcome (`publish`, `published`), below the connection's story: written only to a
   * logger that has this method (pino's `trace`, say), and never to `console` itself, whose `trace` prints a
   * stack. `IOTPUBSUB_DEBUG=trace` (or the browser switch set to `'trace'`) logs them to the console.
   */
  trace?(fields: LogFields, message: string): void
}

/** The structured part of a log line: `event` and `clientId` always, the rest by event. */
export interface LogFields {
  /** What happened: `attempt`, `connack`, `closed`, ... */
  readonly event: LogEvent
  /** The client the line is about. */
  readonly clientId: string
  readonly [field: string]: unknown
}

/**
 * What the client logs: connection attempts and their URLs, CONNACKs with their properties, SUBSCRIBE/SUBACK and
 * UNSUBSCRIBE, refused publishes, decode errors, closes with their diagnosis, and backoff delays.
 */
export type LogEvent =
  | 'attempt'
  | 'connack'
  | 'refused'
  | 'closed'
  | 'reconnecting'
  | 'fallback'
  | 'stopped'
  | 'subscribe'
  | 'suback'
  | 'unsubscribe'
  | 'publish'
  | 'published'
  | 'publish-refused'
  | 'decode-error'
  | 'handler-error'
  | 'lifecycle'
  | 'shared'
  /** The outbox's store could not record a change (the message goes on), or failed to close, or did not close in time. */
  | 'store-error'
