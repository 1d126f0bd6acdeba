import type { LogEvent, LogFields, Logger } from 'iotpubsub'

/** The four levels of the SDK's debug log, quietest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** Every event the SDK logs, in the order a connection meets them (the panel's event filter lists them). */
export const LOG_EVENTS = [
  'attempt',
  'connack',
  'refused',
  'closed',
  'fallback',
  'reconnecting',
  'stopped',
  'subscribe',
  'suback',
  'unsubscribe',
  'publish',
  'published',
  'publish-refused',
  'decode-error',
  'handler-error',
  'lifecycle',
  'shared',
  'store-error',
] as const satisfies readonly LogEvent[]

// A new event in the SDK that is missing above fails the type check here.
type Unlisted = Exclude<LogEvent, (typeof LOG_EVENTS)[number]>
const everyEventListed: [Unlisted] extends [never] ? true : false = true
void everyEventListed

/** One line of the protocol log. */
export interface LogLine {
  /** Increasing number, the line's key in the view. */
  readonly seq: number
  readonly level: LogLevel
  /** When it was logged, ms since the epoch. */
  readonly time: number
  readonly event: string
  /** The SDK's one-line text, `iotpubsub: …`. */
  readonly message: string
  /** The structured fields: `event`, `clientId` and the event's own. */
  readonly fields: Readonly<Record<string, unknown>>
}

/** What the panel shows: lines at `minLevel` or louder, of one event or (`''`) all. */
export interface LogFilter {
  readonly minLevel: LogLevel
  readonly event: string
}

export const ALL_LINES: LogFilter = { minLevel: 'debug', event: '' }

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

export function matchesLog(line: LogLine, filter: LogFilter): boolean {
  return rank[line.level] >= rank[filter.minLevel] && (filter.event === '' || line.event === filter.event)
}

/**
 * The protocol log's model: a ring of the latest `capacity` lines (older ones are overwritten in place, no
 * array ever grows or shifts), counts per level, and `logger`, the `Logger` to hand to `connect()`. A line
 * costs one small object: the SDK logs protocol events (connects, SUBACKs, closes), never messages, and the
 * view redraws at most once per frame however many arrive.
 */
export class ProtocolLog {
  private readonly ring: (LogLine | undefined)[]
  private nextSeq = 1
  private oldest = 1
  private readonly counts: Record<LogLevel, number> = { debug: 0, info: 0, warn: 0, error: 0 }

  /** Feeds this log; pass it as `logger` in `connect(url, { logger })`. */
  readonly logger: Logger = {
    debug: (fields, message) => void this.push('debug', fields, message),
    info: (fields, message) => void this.push('info', fields, message),
    warn: (fields, message) => void this.push('warn', fields, message),
    error: (fields, message) => void this.push('error', fields, message),
  }

  constructor(
    readonly capacity = 200,
    /** Called after every new line (and after `clear()`): the page asks for a frame here. */
    private readonly onChange: () => void = () => {},
    private readonly now: () => number = () => Date.now(),
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`)
    this.ring = new Array<LogLine | undefined>(capacity).fill(undefined)
  }

  /** Records a line; returns it. */
  push(level: LogLevel, fields: LogFields | Readonly<Record<string, unknown>>, message: string): LogLine {
    const seq = this.nextSeq++
    const line: LogLine = { seq, level, time: this.now(), event: typeof fields.event === 'string' ? fields.event : '', message, fields }
    this.ring[(seq - 1) % this.capacity] = line
    if (seq - this.oldest >= this.capacity) this.oldest = seq - this.capacity + 1
    this.counts[level]++
    this.onChange()
    return line
  }

  clear(): void {
    this.ring.fill(undefined)
    this.oldest = this.nextSeq
    for (const level of LOG_LEVELS) this.counts[level] = 0
    this.onChange()
  }

  /** Lines held now (at most `capacity`). */
  get size(): number {
    return this.nextSeq - this.oldest
  }

  /** The newest line's seq (0 before the first). */
  get lastSeq(): number {
    return this.nextSeq - 1
  }

  /** The oldest seq still held (`lastSeq + 1` when empty). */
  get firstSeq(): number {
    return this.oldest
  }

  /** Lines logged at `level` since the log was created or cleared (including ones the ring dropped). */
  count(level: LogLevel): number {
    return this.counts[level]
  }

  /** Lines logged since the log was created or cleared. */
  get total(): number {
    return this.counts.debug + this.counts.info + this.counts.warn + this.counts.error
  }

  /** Lines that match `filter`, newest first, at most `limit`; with `afterSeq`, only lines newer than that. */
  lines(filter: LogFilter = ALL_LINES, limit = this.capacity, afterSeq = 0): LogLine[] {
    const out: LogLine[] = []
    for (let seq = this.lastSeq; seq >= this.oldest && seq > afterSeq && out.length < limit; seq--) {
      const line = this.ring[(seq - 1) % this.capacity] as LogLine
      if (matchesLog(line, filter)) out.push(line)
    }
    return out
  }
}

/** `iotpubsub: connecting to …` → `connecting to …` (the panel is all iotpubsub). */
export function shortMessage(message: string): string {
  return message.startsWith('iotpubsub: ') ? message.slice('iotpubsub: '.length) : message
}

const MAX_VALUE = 2_000

/**
 * A field's value as one line of text: strings as they are, everything else as JSON (bytes as their
 * length, bigints as numbers), cut at 2,000 characters. Never throws, whatever the value.
 */
export function formatFieldValue(value: unknown): string {
  let text: string
  if (typeof value === 'string') text = value
  else if (value === undefined) text = 'undefined'
  else if (value instanceof Error) text = `${value.name}: ${value.message}`
  else {
    try {
      text =
        JSON.stringify(value, (_key, v: unknown) => {
          if (typeof v === 'bigint') return Number(v)
          if (v instanceof Uint8Array) return `<${v.length} bytes>`
          if (v instanceof Map) return Object.fromEntries(v)
          return v
        }) ?? String(value)
    } catch {
      text = String(value) // circular, or a getter that throws
    }
  }
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text
}

/** The fields to show when a line is opened: all but `event` (the line says it) and undefined ones. */
export function fieldEntries(fields: Readonly<Record<string, unknown>>): [string, string][] {
  const out: [string, string][] = []
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'event' || value === undefined) continue
    out.push([key, formatFieldValue(value)])
  }
  return out
}

/**
 * The SDK's browser switch, `localStorage.setItem('iotpubsub:debug', '1')`: it turns the console log on for
 * clients given no logger of their own. The page gives its client the panel's logger, so it reads the switch
 * itself and then logs to both.
 */
export function consoleSwitch(storage: () => Pick<Storage, 'getItem'> | undefined): boolean {
  try {
    const flag = storage()?.getItem('iotpubsub:debug')
    return flag !== null && flag !== undefined && flag !== '0'
  } catch {
    return false // storage off limits (sandboxed frames, some privacy modes)
  }
}

/** One logger that writes to several: the panel and, with the switch on, the console. */
export function teeLogger(...loggers: Logger[]): Logger {
  const each =
    (level: LogLevel) =>
    (fields: LogFields, message: string): void => {
      for (const logger of loggers) {
        try {
          logger[level](fields, message)
        } catch {
          // one broken logger must not starve the others
        }
      }
    }
  return { debug: each('debug'), info: each('info'), warn: each('warn'), error: each('error') }
}
