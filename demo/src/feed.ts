import type { DecodedPayload } from './payload.js'

/** One received message as the live feed keeps it. */
export interface FeedEntry {
  /** Increasing arrival number, the entry's key in the view. */
  readonly seq: number
  readonly topic: string
  readonly payload: DecodedPayload
  readonly qos: number
  readonly retain: boolean
  /** Arrival time, ms since the epoch. */
  readonly time: number
  /** The subscription filter the message arrived through. */
  readonly via: string
}

/** True when `entry` matches the feed's text filter (case-insensitive, in the topic or the payload). */
export function matchesFilter(entry: FeedEntry, filter: string): boolean {
  if (filter === '') return true
  const needle = filter.toLowerCase()
  return entry.topic.toLowerCase().includes(needle) || entry.payload.text.toLowerCase().includes(needle)
}

/**
 * The live feed's model: the newest `capacity` messages, newest first on read, with pause/resume and a text
 * filter. While paused the feed keeps recording (a resume shows the present, not a backlog) and counts
 * what arrived, so the view can say "120 new".
 */
export class Feed {
  private buffer: FeedEntry[] = []
  private nextSeq = 1
  private pausedAt: number | undefined
  private filterText = ''
  /** Messages received since the feed was created (or cleared). */
  received = 0

  constructor(readonly capacity = 500) {}

  get paused(): boolean {
    return this.pausedAt !== undefined
  }

  /** How many messages arrived since `pause()`. */
  get arrivedWhilePaused(): number {
    return this.pausedAt === undefined ? 0 : this.nextSeq - this.pausedAt
  }

  get filter(): string {
    return this.filterText
  }

  setFilter(text: string): void {
    this.filterText = text.trim()
  }

  /** Records a message; returns the stored entry. */
  push(entry: Omit<FeedEntry, 'seq'>): FeedEntry {
    const stored: FeedEntry = { ...entry, seq: this.nextSeq++ }
    this.buffer.push(stored)
    this.received++
    // Trim in batches: one splice per `capacity / 4` messages instead of a shift per message.
    if (this.buffer.length > this.capacity + Math.max(1, this.capacity >> 2)) {
      this.buffer.splice(0, this.buffer.length - this.capacity)
    }
    return stored
  }

  pause(): void {
    this.pausedAt ??= this.nextSeq
  }

  resume(): void {
    this.pausedAt = undefined
  }

  clear(): void {
    this.buffer = []
    this.received = 0
    if (this.pausedAt !== undefined) this.pausedAt = this.nextSeq
  }

  /** The newest seq recorded (0 when empty). */
  get lastSeq(): number {
    return this.nextSeq - 1
  }

  /**
   * Entries that match the filter, newest first, at most `limit`. When paused, only what had arrived at
   * the moment of the pause. With `afterSeq`, only entries newer than that (for incremental rendering).
   */
  view(limit = this.capacity, afterSeq = 0): FeedEntry[] {
    const out: FeedEntry[] = []
    const upTo = this.pausedAt === undefined ? Infinity : this.pausedAt
    const start = this.buffer.length - 1
    const end = Math.max(0, this.buffer.length - this.capacity)
    for (let i = start; i >= end && out.length < limit; i--) {
      const entry = this.buffer[i] as FeedEntry
      if (entry.seq <= afterSeq) break
      if (entry.seq >= upTo) continue
      if (matchesFilter(entry, this.filterText)) out.push(entry)
    }
    return out
  }
}
