import { describeThrown } from '../errors/describe-thrown.js'
import type { LogEvent, LogFields, Logger } from './logger.js'

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error'

/**
 * The client's side of the debug log: one per client, with its id on every line. Without a logger every call
 * returns at once; callers that build costly fields check `enabled` first.
 *
 * @example
 * ```ts
 * const log = new Log(console, 'dash-1')
 * log.info('attempt', { url: 'mqtt://localhost:1883' }, 'connecting to mqtt://localhost:1883')
 * ```
 */
export class Log {
  /** A log that writes nothing, for parts made without one. */
  static readonly off = new Log(undefined, '')

  readonly #logger: Logger | undefined
  readonly #clientId: string
  /** Publishes are logged: the logger has `trace`, and is not `console` (whose `trace` prints a stack). */
  readonly tracing: boolean

  constructor(
    logger: Logger | undefined,
    clientId: string,
  ) {
    this.#logger = logger
    this.#clientId = clientId
    this.tracing = logger !== undefined && logger !== globalThis.console && typeof logger.trace === 'function'
  }

  get enabled(): boolean {
    return this.#logger !== undefined
  }

  /** Writes only when `tracing`: callers check it first, since a line per publish costs. */
  trace(event: LogEvent, fields: Record<string, unknown>, message: string): void {
    if (this.tracing) this.#write('trace', event, fields, message)
  }

  debug(event: LogEvent, fields: Record<string, unknown>, message: string): void {
    this.#write('debug', event, fields, message)
  }

  info(event: LogEvent, fields: Record<string, unknown>, message: string): void {
    this.#write('info', event, fields, message)
  }

  warn(event: LogEvent, fields: Record<string, unknown>, message: string): void {
    this.#write('warn', event, fields, message)
  }

  error(event: LogEvent, fields: Record<string, unknown>, message: string): void {
    this.#write('error', event, fields, message)
  }

  #write(level: Level, event: LogEvent, fields: Record<string, unknown>, message: string): void {
    const logger = this.#logger
    if (!logger) return
    // `event` and `clientId` first (the order loggers print) and last (a field of the same name must not
    // replace what every line carries).
    const line: LogFields = Object.assign({ event, clientId: this.#clientId }, fields, { event, clientId: this.#clientId })
    try {
      logger[level]?.(line, `iotpubsub: ${message}`)
    } catch {
      // A logger that throws must not break the client: the log is only a window onto it.
    }
  }
}

/** An error's name and message, as log fields. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: describeThrown(error) }
  const code = (error as { reasonCode?: unknown }).reasonCode
  return code === undefined ? { error: error.name, reason: error.message } : { error: error.name, reason: error.message, reasonCode: code }
}
