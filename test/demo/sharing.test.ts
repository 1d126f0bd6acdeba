// The demo's models for the shared connection and the page lifecycle (no DOM, no browser): the badge's words
// (ConnectionStory), this tab's part (SharingRole), the tab count (TabPresence over a fake navigator.locks), the
// broker's count (BrokerClients), the client id kept in localStorage.
import type { LogFields } from 'iotpubsub'
import { describe, expect, it } from 'vitest'
import { ConnectionStory } from '../../demo/src/connection-story.js'
import {
  BrokerClients,
  SYS_CLIENTS,
  SharingRole,
  TabPresence,
  defaultClientId,
  describeBrokerCount,
  describeRole,
  roleLogger,
  type LocksLike,
} from '../../demo/src/sharing.js'

const lost = (message: string) => Object.assign(new Error(message), { name: 'ConnectionLostError' })
const reconnecting = (attempt: number, delay: number, message: string) => ({ type: 'reconnecting' as const, attempt, delay, error: lost(message) })
const connected = { type: 'connected' as const, sessionPresent: false }

describe('ConnectionStory: the status badge with the page lifecycle', () => {
  it('says the words of describeStatus when the lifecycle has nothing to do with it', () => {
    const story = new ConnectionStory()
    expect(story.view()).toBeUndefined()
    story.update({ type: 'connecting' }, 0)
    expect(story.view()).toMatchObject({ label: 'Connecting…', lifecycle: undefined })
    story.update(reconnecting(2, 800, 'socket hang up'), 10)
    expect(story.view()).toEqual({
      label: 'Reconnecting (attempt 2)',
      detail: 'Trying again in 800 ms. Last error: The connection was lost: socket hang up',
      tone: 'warn',
      lifecycle: undefined,
    })
    story.update(connected, 20)
    expect(story.view()).toMatchObject({ label: 'Connected', detail: 'Connected with a new session.', lifecycle: undefined })
  })

  it('offline: "Offline — reconnecting" until connected, through the failed attempts; back online: how soon, and the backoff skipped', () => {
    const story = new ConnectionStory()
    story.update(connected, 0)
    story.online(50) // not offline: no spell to end
    story.update(reconnecting(1, 1_200, 'the browser went offline'), 1_000)
    expect(story.view()).toEqual({
      label: 'Offline — reconnecting',
      detail:
        'The browser went offline, so the connection was dropped at once (not when the keepalive ran out). Attempt 1 in 1.2 s, and at once when the browser is back online.',
      tone: 'warn',
      lifecycle: 'offline',
    })
    // An attempt made while offline fails: still the offline spell, with that attempt's error.
    story.update(reconnecting(2, 2_400, 'the WebSocket closed before the MQTT handshake'), 2_300)
    expect(story.view()).toMatchObject({ label: 'Offline — reconnecting', lifecycle: 'offline' })
    expect(story.view()?.detail).toMatch(/Attempt 2 in 2\.4 s, and at once when the browser is back online\. Last error: The connection was lost: the WebSocket closed/)
    // Online at 3,000 (the backoff would have tried at 4,700); connected 190 ms later.
    story.online(3_000)
    story.update(connected, 3_190)
    expect(story.view()).toEqual({
      label: 'Connected',
      detail: 'Back online: connected 190 ms after the browser said so, instead of waiting out the backoff (1.7 s more).',
      tone: 'ok',
      lifecycle: 'back-online',
    })
    // The next loss is another story.
    story.update(reconnecting(1, 900, 'socket hang up'), 9_000)
    expect(story.view()).toMatchObject({ label: 'Reconnecting (attempt 1)', lifecycle: undefined })
  })

  it('back online after the backoff had already tried: no claim about a skipped wait; connected without an online event: no claim at all', () => {
    const story = new ConnectionStory()
    story.update(reconnecting(1, 100, 'the browser went offline'), 0)
    story.online(500)
    story.update(connected, 520)
    expect(story.view()?.detail).toBe('Back online: connected 20 ms after the browser said so.')

    story.update(reconnecting(1, 100, 'the browser went offline'), 1_000)
    story.update(connected, 1_300) // the browser can call itself offline with the broker in reach
    expect(story.view()).toMatchObject({ label: 'Connected', lifecycle: undefined })
  })

  it('the page comes back to a dead connection: "Page back — reconnecting", then connected again and how soon', () => {
    const story = new ConnectionStory()
    story.update(connected, 0)
    story.update(reconnecting(1, 0, 'the broker did not answer a PINGREQ within 3000 ms after the page came back (visible)'), 5_000)
    expect(story.view()).toEqual({
      label: 'Page back — reconnecting',
      detail:
        'The page came back (visible) and the connection did not answer its check: reconnecting at once. The connection was lost: the broker did not answer a PINGREQ within 3000 ms after the page came back (visible)',
      tone: 'warn',
      lifecycle: 'page-back',
    })
    story.update(connected, 5_040)
    expect(story.view()).toEqual({
      label: 'Connected',
      detail: 'The page came back (visible) to a connection that did not answer its check: connected again 40 ms later, without a backoff wait.',
      tone: 'ok',
      lifecycle: 'page-back',
    })
  })

  it('forgets everything on closed and connecting', () => {
    const story = new ConnectionStory()
    story.update(reconnecting(1, 1_000, 'the browser went offline'), 0)
    story.update({ type: 'closed' }, 10)
    story.online(20)
    story.update({ type: 'connecting' }, 30)
    story.update(connected, 40)
    expect(story.view()?.lifecycle).toBeUndefined()
  })
})

describe('SharingRole: this tab holds the connection or uses another tab’s', () => {
  const line = (event: string, fields: Record<string, unknown> = {}) => ({ event, clientId: 'dash', ...fields }) as unknown as LogFields

  it('holds it once its client logs the `shared` line with a `hub` (only the holding tab does); otherwise follows once connected', () => {
    const follower = new SharingRole()
    expect(follower.role).toBe('off')
    follower.update({ type: 'connecting' })
    expect(follower.role).toBe('joining')
    roleLogger(follower).info(line('attempt', { url: 'ws://x' }), 'iotpubsub: connecting')
    follower.update({ type: 'connected' })
    expect(follower.role).toBe('follower')
    // The holding tab reconnects (its browser went offline): this tab still uses that tab's connection.
    follower.update({ type: 'reconnecting' })
    expect(follower.role).toBe('follower')
    // The holding tab closed: this one takes over, and its client logs the `shared` line.
    roleLogger(follower).debug(line('shared', { hub: 'h2', tabs: 1 }), 'iotpubsub: this tab holds the shared connection for 1 tab(s)')
    expect(follower.role).toBe('holder')
    follower.update({ type: 'closed' })
    expect(follower.role).toBe('off')

    const holder = new SharingRole()
    roleLogger(holder).debug(line('shared', { hub: 'h1', tabs: 2 }), 'iotpubsub: this tab holds the shared connection for 2 tab(s)')
    holder.update({ type: 'connecting' })
    expect(holder.role).toBe('holder')
    holder.update({ type: 'connected' })
    expect(holder.role).toBe('holder')
  })

  it('has a connection of its own when the page cannot share', () => {
    const alone = new SharingRole()
    roleLogger(alone).info(line('shared', { webLocks: false, broadcastChannel: true }), 'iotpubsub: this page has no Web Locks … so this tab does not share: it has a connection of its own')
    alone.update({ type: 'connected' })
    expect(alone.role).toBe('own')
  })

  it('says it in a sentence, with the tab count when known', () => {
    expect(describeRole('holder', 2)).toBe('This tab holds the broker connection (2 tabs of this browser share it).')
    expect(describeRole('holder', 1)).toBe('This tab holds the broker connection (1 tab open: open another to share it).')
    expect(describeRole('follower', 3)).toBe('This tab uses the connection another tab holds (3 tabs of this browser share it).')
    expect(describeRole('follower', undefined)).toBe('This tab uses the connection another tab holds.')
    expect(describeRole('own', 2)).toMatch(/^This tab has a connection of its own/)
    expect(describeRole('off', 2)).toBe('')
  })
})

describe('TabPresence: this browser’s tabs with the same settings', () => {
  /** navigator.locks in one process: every tab of one origin sees the same held locks. */
  function fakeLocks(): LocksLike & { names(): string[] } {
    const held = new Set<string>()
    return {
      names: () => [...held],
      async request(name, _options, callback) {
        held.add(name)
        try {
          return await callback()
        } finally {
          held.delete(name)
        }
      },
      async query() {
        return { held: [...held].map((name) => ({ name })) }
      },
    }
  }

  it('counts the tabs that joined with the same settings, and forgets one that left; shows no password', async () => {
    const locks = fakeLocks()
    const a = new TabPresence(locks)
    const b = new TabPresence(locks)
    const other = new TabPresence(locks)
    expect(await a.count()).toBeUndefined() // not joined
    a.join(['ws://localhost:9001', 'dashboard-1', '', 'secret'])
    b.join(['ws://localhost:9001', 'dashboard-1', '', 'secret'])
    other.join(['ws://localhost:9001', 'dashboard-2', '', 'secret'])
    expect(await a.count()).toBe(2)
    expect(await other.count()).toBe(1)
    expect(locks.names().join(' ')).not.toContain('secret')
    b.leave()
    await Promise.resolve()
    expect(await a.count()).toBe(1)
    a.join(['ws://localhost:9001', 'dashboard-2', '', 'secret']) // new settings: the old lock goes
    await Promise.resolve()
    expect(await a.count()).toBe(2)
    expect(locks.names()).toHaveLength(2)
  })

  it('knows nothing without Web Locks', async () => {
    const none = new TabPresence(undefined)
    none.join(['ws://x', 'id'])
    expect(await none.count()).toBeUndefined()
  })
})

describe('BrokerClients: the broker’s connection count', () => {
  it('reads the embedded broker’s JSON and Mosquitto’s $SYS number, preferring the first; ignores anything else', () => {
    const count = new BrokerClients('demo/broker/clients')
    expect(count.current).toBeUndefined()
    expect(count.fromSys('8')).toBe(true)
    expect(count.current).toEqual({ connected: 8, clients: undefined, source: SYS_CLIENTS })
    expect(count.fromDemo({ connected: 7, clients: ['dashboard-1', 'sim-kitchen-1', 42] })).toBe(true)
    expect(count.current).toEqual({ connected: 7, clients: ['dashboard-1', 'sim-kitchen-1'], source: 'demo/broker/clients' })
    expect(count.fromSys('8')).toBe(true)
    expect(count.current?.connected).toBe(7)
    for (const bad of [null, 'x', { connected: -1 }, { connected: 1.5 }, { clients: [] }]) expect(count.fromDemo(bad)).toBe(false)
    expect(count.fromSys('lots')).toBe(false)
    count.clear()
    expect(count.current).toBeUndefined()
  })

  it('says it in a sentence: with this browser’s connection when the broker lists ids, unknown when it says nothing', () => {
    const count = new BrokerClients('demo/broker/clients')
    expect(describeBrokerCount(undefined, 'dashboard-1', false)).toBe('')
    expect(describeBrokerCount(undefined, 'dashboard-1', true)).toBe('Connections at the broker: unknown (it publishes no count on $SYS/broker/clients/connected).')
    count.fromDemo({ connected: 8, clients: ['dashboard-1', 'sim-a'] })
    expect(describeBrokerCount(count.current, 'dashboard-1', true)).toBe('8 connections at the broker; one of them is this browser’s, as dashboard-1.')
    expect(describeBrokerCount(count.current, 'dashboard-2', true)).toBe('8 connections at the broker.')
    count.clear()
    count.fromSys('1')
    expect(describeBrokerCount(count.current, 'dashboard-1', true)).toBe('1 connection at the broker (from $SYS/broker/clients/connected).')
  })
})

describe('defaultClientId: one id for every tab of a browser', () => {
  it('is made once and kept in localStorage; without storage each call makes one', () => {
    const store = new Map<string, string>()
    const storage = { getItem: (key: string) => store.get(key) ?? null, setItem: (key: string, value: string) => void store.set(key, value) }
    const first = defaultClientId(() => storage, () => 0.5)
    expect(first).toBe('dashboard-7fffff')
    expect(defaultClientId(() => storage, () => 0.25)).toBe(first)
    expect(defaultClientId(() => undefined, () => 0)).toBe('dashboard-000000')
    const throwing = {
      getItem: () => {
        throw new Error('SecurityError')
      },
      setItem: () => undefined,
    }
    expect(defaultClientId(() => throwing, () => 0.25)).toBe('dashboard-3fffff')
  })
})
