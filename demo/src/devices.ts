import { Series } from './sparkline.js'

/**
 * The topics the simulator (and any device following the same convention) uses, under a prefix:
 *
 * - `{prefix}/devices/{id}/meta`       retained JSON: name, kind, location, fields with label and unit
 * - `{prefix}/devices/{id}/status`     retained text `online` / `offline` (the last will says `offline`)
 * - `{prefix}/devices/{id}/telemetry`  JSON object of readings, e.g. `{"ts":…, "temperature": 21.4}`
 * - `{prefix}/devices/{id}/cmd`        JSON command: `{"id": "c1", "command": "blink"}`
 * - `{prefix}/devices/{id}/reply`      JSON reply: `{"id": "c1", "ok": true, "message": "…"}`
 */
export const DEFAULT_PREFIX = 'demo'

export interface FieldMeta {
  label?: string
  unit?: string
  /** Decimals to show. */
  decimals?: number
}

export interface DeviceMeta {
  name?: string
  kind?: string
  location?: string
  fields?: Record<string, FieldMeta>
  /** Commands the device understands, for the card's buttons. */
  commands?: string[]
}

export interface CommandReply {
  id?: string
  ok?: boolean
  message?: string
  command?: string
}

export interface Metric {
  readonly key: string
  label: string
  unit: string
  decimals: number | undefined
  value: number
  readonly history: Series
}

export interface DeviceState {
  readonly id: string
  name: string
  kind: string
  location: string
  status: 'online' | 'offline' | 'unknown'
  /** When the device last sent telemetry, ms since the epoch. */
  lastSeen: number | undefined
  /** Numeric readings in first-seen order. */
  readonly metrics: Map<string, Metric>
  /** Non-numeric readings (strings, booleans), shown as text. */
  readonly facts: Map<string, string>
  commands: string[]
  lastReply: (CommandReply & { time: number; rtt?: number }) | undefined
  /** A command sent from this page that has no reply yet. */
  pending: { id: string; command: string; time: number } | undefined
  /** Telemetry messages received. */
  messages: number
}

const IGNORED_FIELDS = new Set(['ts', 'time', 'timestamp', 'seq'])

/** The state behind the device cards, fed by the four device topics. Tracks which devices changed. */
export class DeviceStore {
  private readonly byId = new Map<string, DeviceState>()
  private dirty = new Set<string>()
  private added = false

  constructor(readonly historyLength = 60) {}

  get size(): number {
    return this.byId.size
  }

  get(id: string): DeviceState | undefined {
    return this.byId.get(id)
  }

  /** Devices by name. */
  list(): DeviceState[] {
    return [...this.byId.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
  }

  private device(id: string): DeviceState {
    let device = this.byId.get(id)
    if (device === undefined) {
      device = {
        id,
        name: id,
        kind: '',
        location: '',
        status: 'unknown',
        lastSeen: undefined,
        metrics: new Map(),
        facts: new Map(),
        commands: [],
        lastReply: undefined,
        pending: undefined,
        messages: 0,
      }
      this.byId.set(id, device)
      this.added = true
    }
    this.dirty.add(id)
    return device
  }

  meta(id: string, meta: DeviceMeta): void {
    if (typeof meta !== 'object' || meta === null) return
    const device = this.device(id)
    if (typeof meta.name === 'string') device.name = meta.name
    if (typeof meta.kind === 'string') device.kind = meta.kind
    if (typeof meta.location === 'string') device.location = meta.location
    if (Array.isArray(meta.commands)) device.commands = meta.commands.filter((c) => typeof c === 'string')
    for (const [key, field] of Object.entries(meta.fields ?? {})) {
      const metric = device.metrics.get(key) ?? this.addMetric(device, key)
      if (field.label) metric.label = field.label
      if (field.unit !== undefined) metric.unit = field.unit
      if (field.decimals !== undefined) metric.decimals = field.decimals
    }
  }

  /** `online`, `offline` (anything else is shown as unknown). An empty retained payload removes the device. */
  status(id: string, text: string): void {
    const value = text.trim().toLowerCase()
    if (value === '') {
      this.byId.delete(id)
      this.added = true
      return
    }
    const device = this.device(id)
    device.status = value === 'online' ? 'online' : value === 'offline' ? 'offline' : 'unknown'
  }

  telemetry(id: string, readings: unknown, time: number): void {
    if (typeof readings !== 'object' || readings === null || Array.isArray(readings)) return
    const device = this.device(id)
    device.lastSeen = time
    device.messages++
    for (const [key, value] of Object.entries(readings as Record<string, unknown>)) {
      if (IGNORED_FIELDS.has(key)) continue
      if (typeof value === 'number' && Number.isFinite(value)) {
        const metric = device.metrics.get(key) ?? this.addMetric(device, key)
        metric.value = value
        metric.history.push(value)
      } else if (typeof value === 'string' || typeof value === 'boolean') {
        device.facts.set(key, String(value))
      }
    }
  }

  /** Records a command this page sent, so its reply can be matched (and timed). */
  commandSent(id: string, requestId: string, command: string, time: number): void {
    this.device(id).pending = { id: requestId, command, time }
  }

  /** A reply on the device's reply topic; one with the pending command's id settles it. */
  reply(id: string, reply: CommandReply, time: number): void {
    if (typeof reply !== 'object' || reply === null) return
    const device = this.device(id)
    const pending = device.pending
    if (pending !== undefined && reply.id === pending.id) {
      device.lastReply = { ...reply, command: reply.command ?? pending.command, time, rtt: time - pending.time }
      device.pending = undefined
    } else {
      device.lastReply = { ...reply, time }
    }
  }

  /** A command that could not be sent: shown as a failed reply. */
  commandFailed(id: string, requestId: string, message: string, time: number): void {
    const device = this.device(id)
    if (device.pending?.id === requestId) device.pending = undefined
    device.lastReply = { id: requestId, ok: false, message, time }
  }

  private addMetric(device: DeviceState, key: string): Metric {
    const metric: Metric = { key, label: humanize(key), unit: '', decimals: undefined, value: NaN, history: new Series(this.historyLength) }
    device.metrics.set(key, metric)
    return metric
  }

  /** Ids of devices that changed since the last call, and whether devices were added or removed. */
  takeChanges(): { changed: Set<string>; structure: boolean } {
    const out = { changed: this.dirty, structure: this.added }
    this.dirty = new Set()
    this.added = false
    return out
  }
}

/** `batteryLevel` / `battery_level` → `Battery level`. */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** A reading with its unit: `21.4 °C`, `1,450 rpm`. */
export function formatReading(value: number, unit = '', decimals?: number): string {
  if (!Number.isFinite(value)) return '–'
  const digits = decimals ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2)
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  if (unit === '') return text
  return unit === '%' ? `${text}%` : `${text} ${unit}`
}

/** `just now`, `12 s ago`, `3 min ago`. */
export function timeAgo(time: number | undefined, now: number): string {
  if (time === undefined) return 'never'
  const s = Math.max(0, Math.round((now - time) / 1000))
  if (s < 2) return 'just now'
  if (s < 60) return `${s} s ago`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min ago`
  return `${Math.round(m / 60)} h ago`
}
