/**
 * The shared connection as the page shows it: who holds it (this tab or another one), how many of this
 * browser's tabs use it, and how many connections the broker has. No DOM here: each part is testable alone.
 */
import type { LogFields, Logger } from 'iotpubsub'

// ---- the client id ------------------------------------------------------------------------------------

const CLIENT_ID_KEY = 'iotpubsub-demo:client-id'

/**
 * The page's default client id: made once per browser profile and kept in localStorage, so that every tab of
 * the dashboard connects with the same id and shares one connection (tabs share when URL, client id and
 * credentials are the same). Another browser, or a private window, makes its own: two browsers never knock
 * each other off the broker. Without storage (a sandboxed frame), each tab makes one.
 */
export function defaultClientId(storage: () => Pick<Storage, 'getItem' | 'setItem'> | undefined, random: () => number = Math.random): string {
  const made = `dashboard-${Math.floor(random() * 0xffffff).toString(16).padStart(6, '0')}`
  try {
    const store = storage()
    const kept = store?.getItem(CLIENT_ID_KEY)
    if (kept) return kept
    store?.setItem(CLIENT_ID_KEY, made)
  } catch {
    // Storage off limits: this tab's own id.
  }
  return made
}

// ---- this tab's part ----------------------------------------------------------------------------------

/**
 * `holder`: this tab holds the broker connection for the tabs; `follower`: it uses the one another tab holds;
 * `own`: the browser lacks what sharing needs, so the tab has a connection of its own; `joining`: not known
 * yet (no connection so far); `off`: no client.
 */
export type TabRole = 'holder' | 'follower' | 'own' | 'joining' | 'off'

/**
 * This tab's part in the shared connection, from what the SDK reports through its public API: the debug
 * log's `shared` event, which only the holding tab's client logs with a `hub` field ("the tab took the shared
 * connection", "a tab left it"), or with `webLocks`/`broadcastChannel` when the page cannot share; and the
 * status. A client keeps its part until it ends: a tab holds the connection until its client ends, and a
 * follower that takes over logs the `shared` line when it does.
 */
export class SharingRole {
  private holds = false
  private alone = false
  private status: string | undefined
  /** Connected once without holding the connection: another tab's, also while that tab reconnects. */
  private followed = false

  /** Feed it the client's log lines (see {@link roleLogger}). */
  log(fields: LogFields): void {
    if (fields.event !== 'shared') return
    if ('webLocks' in fields || 'broadcastChannel' in fields) this.alone = true
    else if ('hub' in fields) this.holds = true
  }

  /** Feed it the client's `status$`. */
  update(status: { type: string }): void {
    this.status = status.type
    if (status.type === 'connected' && !this.holds) this.followed = true
  }

  get role(): TabRole {
    if (this.status === undefined || this.status === 'closed') return 'off'
    if (this.alone) return 'own'
    if (this.holds) return 'holder'
    return this.followed ? 'follower' : 'joining'
  }
}

/** A logger that hands each line's fields to `role`, for a {@link SharingRole}: tee it with the page's own. */
export function roleLogger(role: SharingRole): Logger {
  const tap = (fields: LogFields) => role.log(fields)
  return { debug: tap, info: tap, warn: tap, error: tap }
}

/** The sentence under the status badge. `tabs`: this browser's tabs with these settings (undefined: not known). */
export function describeRole(role: TabRole, tabs: number | undefined): string {
  const sharedBy = tabs === undefined ? '' : tabs === 1 ? ' (1 tab open: open another to share it)' : ` (${tabs} tabs of this browser share it)`
  switch (role) {
    case 'holder':
      return `This tab holds the broker connection${sharedBy}.`
    case 'follower':
      return `This tab uses the connection another tab holds${sharedBy}.`
    case 'own':
      return 'This tab has a connection of its own: the page has no Web Locks (they need https: or localhost) or no BroadcastChannel.'
    case 'joining':
      return 'Joining the shared connection of this browser’s tabs…'
    case 'off':
      return ''
  }
}

// ---- this browser's tabs --------------------------------------------------------------------------------

/** The part of `navigator.locks` the page uses. */
export interface LocksLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>): Promise<unknown>
  query(): Promise<{ held?: ReadonlyArray<{ name?: string }> }>
}

const TAB_LOCK = 'iotpubsub-demo:tab:'

/**
 * Counts this browser's dashboard tabs that connect with the same settings: each holds a Web Lock of its
 * own (the page's, not the SDK's) named after a hash of the settings, which the browser releases when the tab
 * closes, reloads or crashes; `count()` asks the browser which are held.
 */
export class TabPresence {
  private held: { key: string; release: AbortController } | undefined

  constructor(private readonly locks: LocksLike | undefined) {}

  /** This tab now connects with `settings` (URL, client id, credentials). */
  join(settings: readonly unknown[]): void {
    this.leave()
    if (!this.locks) return
    const key = `${TAB_LOCK}${hash(JSON.stringify(settings))}:`
    const release = new AbortController()
    this.held = { key, release }
    const name = `${key}${Math.random().toString(16).slice(2, 10)}`
    this.locks
      .request(name, { signal: release.signal }, () => new Promise<void>((done) => release.signal.addEventListener('abort', () => done(), { once: true })))
      .catch(() => undefined)
  }

  leave(): void {
    this.held?.release.abort()
    this.held = undefined
  }

  /** The tabs (this one included) connected with this tab's settings; undefined without Web Locks or settings. */
  async count(): Promise<number | undefined> {
    const held = this.held
    if (!this.locks || !held) return undefined
    try {
      const { held: locks = [] } = await this.locks.query()
      return locks.filter((lock) => (lock.name ?? '').startsWith(held.key)).length
    } catch {
      return undefined
    }
  }
}

/** FNV-1a, twice: a short name for the settings that shows no password. */
function hash(text: string): string {
  const one = (seed: number) => {
    let h = seed
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
    return h.toString(16).padStart(8, '0')
  }
  return one(0x811c9dc5) + one(0x050c5d1f)
}

// ---- the broker's count ----------------------------------------------------------------------------------

/** How many connections the broker has, and where the page read it. */
export interface BrokerCount {
  readonly connected: number
  /** The connected clients' ids, when the broker says (the demo's embedded broker does). */
  readonly clients: readonly string[] | undefined
  /** The topic it came from. */
  readonly source: string
}

/** `$SYS/broker/clients/connected`: Mosquitto's count (every `sys_interval`, 10 s by default). */
export const SYS_CLIENTS = '$SYS/broker/clients/connected'

/**
 * The broker's connection count from either topic: `{prefix}/broker/clients` (the embedded broker's, JSON
 * `{"connected": 8, "clients": [...]}`, published on every connect and disconnect) wins over Mosquitto's
 * `$SYS/broker/clients/connected` (a number as text). Neither: unknown.
 */
export class BrokerClients {
  private demo: BrokerCount | undefined
  private sys: BrokerCount | undefined

  constructor(readonly demoTopic: string) {}

  /** A message on the demo topic; false when it is not a count. */
  fromDemo(payload: unknown): boolean {
    if (typeof payload !== 'object' || payload === null) return false
    const { connected, clients } = payload as { connected?: unknown; clients?: unknown }
    if (typeof connected !== 'number' || !Number.isInteger(connected) || connected < 0) return false
    const ids = Array.isArray(clients) ? clients.filter((id): id is string => typeof id === 'string') : undefined
    this.demo = { connected, clients: ids, source: this.demoTopic }
    return true
  }

  /** A message on `$SYS/broker/clients/connected`; false when it is not a count. */
  fromSys(text: string): boolean {
    if (!/^\s*\d+\s*$/.test(text)) return false
    this.sys = { connected: Number(text), clients: undefined, source: SYS_CLIENTS }
    return true
  }

  /** A new client (perhaps of another broker): what the page knew is gone. */
  clear(): void {
    this.demo = undefined
    this.sys = undefined
  }

  get current(): BrokerCount | undefined {
    return this.demo ?? this.sys
  }
}

/** The line about the broker's connections; `clientId` is this tab's. */
export function describeBrokerCount(count: BrokerCount | undefined, clientId: string, connected: boolean): string {
  if (!connected) return ''
  if (!count) return `Connections at the broker: unknown (it publishes no count on ${SYS_CLIENTS}).`
  const n = `${count.connected} connection${count.connected === 1 ? '' : 's'} at the broker`
  if (!count.clients) return `${n} (from ${count.source}).`
  const ours = count.clients.filter((id) => id === clientId).length
  return ours === 1 ? `${n}; one of them is this browser’s, as ${clientId}.` : `${n}.`
}
