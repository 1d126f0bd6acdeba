// A tab of a shared connection as a follower, over Node's own BroadcastChannel (the same structured-clone
// channel the browser has), with the test playing the hubs: what the tab accepts from a hub that has since been
// replaced. The browser test (test/browser/shared-connection.test.ts) covers the whole in Chromium.
import { afterEach, describe, expect, it } from 'vitest'
import { browserRuntime } from '../../lib/browser-runtime.js'
import type { Message } from '../../lib/message.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'
import type { LockManager } from '../../lib/shared/locks.js'
import { SharedClient } from '../../lib/shared/shared-client.js'
import { sharingGroup } from '../../lib/shared/sharing-group.js'
import type { OutboxEvent } from '../../lib/publish/outbox.js'
import type { ToAll, ToHub, ToTab } from '../../lib/shared/tab-protocol.js'
import { Log } from '../../lib/log/log.js'
import { waitFor } from '../support/wait.js'

/** Grants the tab's own lock at once and never the hub lock: the tab stays a follower. */
function followerLocks(): LockManager {
  return {
    request(name, options, callback) {
      if (name.endsWith(':hub')) {
        return new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true }))
      }
      return Promise.resolve(callback({ name }))
    },
    query: () => Promise.resolve({ held: [] }),
  }
}

const connected = { type: 'connected', url: 'ws://h:1/', protocolVersion: 5, sessionPresent: false } as const

describe('a follower tab of a shared connection', () => {
  const channels: BroadcastChannel[] = []
  const clients: SharedClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.end({ force: true, timeout: 100 })
    for (const channel of channels.splice(0)) channel.close()
  })

  async function follower(clientId: string): Promise<{ client: SharedClient; toTab: BroadcastChannel; toAll: BroadcastChannel; heard: ToHub[]; tab: () => string }> {
    const options = { url: 'ws://127.0.0.1:1/', clientId, reconnect: false as const }
    const resolved = resolveOptions(options, browserRuntime.platform)
    const group = sharingGroup(options, resolved)
    const heard: ToHub[] = []
    const hubInbox = new BroadcastChannel(`${group}:hub`)
    hubInbox.onmessage = (event: MessageEvent<ToHub>) => heard.push(event.data)
    channels.push(hubInbox)
    const client = new SharedClient(options, resolved, { locks: followerLocks(), engine: () => { throw new Error('a follower has no engine') }, lifecycle: undefined }, new Log(undefined, clientId))
    clients.push(client)
    await waitFor(() => heard.some((m) => m.t === 'hello'), 'the tab\'s hello', 5_000)
    const tab = (): string => heard[0]!.tab
    const toTab = new BroadcastChannel(`${group}:tab:${tab()}`)
    const toAll = new BroadcastChannel(`${group}:all`)
    channels.push(toTab, toAll)
    return { client, toTab, toAll, heard, tab }
  }

  it('keeps the messages a replaced hub received and acknowledged, posted after the next hub announced itself', async () => {
    const { client, toTab, heard } = await follower(`shared-follower-${process.pid}`)
    const got: Message<string>[] = []
    client.observe<string>('rooms/+/temp', { qos: 1, codec: 'text' }).subscribe((m) => got.push(m))
    const observe = await waitFor(() => heard.find((m) => m.t === 'observe' || (m.t === 'hello' && m.observes.length > 0)), 'the observation at the hub', 5_000)
    const id = observe.t === 'observe' ? observe.observe.id : observe.t === 'hello' ? observe.observes[0]!.id : -1

    toTab.postMessage({ t: 'welcome', hub: 'hub-a', clientId: 'c', status: connected, subscriptions: [] } satisfies ToTab)
    toTab.postMessage({ t: 'messages', hub: 'hub-a', batch: [[id, 'rooms/kitchen/temp', new TextEncoder().encode('19.5'), 1, false, undefined]] } satisfies ToTab)
    await waitFor(() => got.length === 1, 'the first hub\'s message', 5_000)

    // Hub B takes over; hub A's last post (a message it had acknowledged to the broker) arrives after B's welcome.
    toTab.postMessage({ t: 'welcome', hub: 'hub-b', clientId: 'c', status: connected, subscriptions: [] } satisfies ToTab)
    toTab.postMessage({ t: 'messages', hub: 'hub-a', batch: [[id, 'rooms/kitchen/temp', new TextEncoder().encode('20.0'), 1, false, undefined]] } satisfies ToTab)
    toTab.postMessage({ t: 'messages', hub: 'hub-b', batch: [[id, 'rooms/kitchen/temp', new TextEncoder().encode('20.5'), 1, false, undefined]] } satisfies ToTab)
    await waitFor(() => got.length === 3, 'both hubs\' messages', 5_000)
    expect(got.map((m) => m.payload)).toEqual(['19.5', '20.0', '20.5'])
  })

  it('settles a publish a replaced hub had acknowledged, but takes a failure only from the hub it uses now', async () => {
    const { client, toTab, heard } = await follower(`shared-publisher-${process.pid}`)
    toTab.postMessage({ t: 'welcome', hub: 'hub-a', clientId: 'c', status: connected, subscriptions: [] } satisfies ToTab)
    await waitFor(async () => (await new Promise<string>((r) => client.status$.subscribe((s) => r(s.type)).unsubscribe())) === 'connected', 'connected through hub A', 5_000)
    const first = client.publish('rooms/kitchen/set', 'on', { qos: 1 })
    const second = client.publish('rooms/kitchen/set', 'off', { qos: 1 })
    const requests = await waitFor(() => {
      const ids = heard.flatMap((m) => (m.t === 'publish' ? [m.publish.id] : []))
      return ids.length === 2 ? ids : undefined
    }, 'both publishes at the hub', 5_000)

    toTab.postMessage({ t: 'welcome', hub: 'hub-b', clientId: 'c', status: connected, subscriptions: [] } satisfies ToTab)
    // Hub A's answers after B's welcome: A's failure (it went away) is not the outcome, its acknowledgement is.
    // Posted in that order from one sender, so once the first publish has settled, the failure has been read.
    let settled = false
    void second.then(() => (settled = true), () => (settled = true))
    toTab.postMessage({ t: 'published', hub: 'hub-a', id: requests[1]!, error: { name: 'ClientClosedError', message: 'ended', fields: {} } } satisfies ToTab)
    toTab.postMessage({ t: 'published', hub: 'hub-a', id: requests[0]! } satisfies ToTab)
    await expect(first).resolves.toBeUndefined()
    expect(settled).toBe(false)
    // Hub B then answers the second one (handed over to it): that is its outcome.
    toTab.postMessage({ t: 'published', hub: 'hub-b', id: requests[1]! } satisfies ToTab)
    await expect(second).resolves.toBeUndefined()
  })

  it('reports a publish queued on outbox$ only once the hub says it is durable, then sent and acknowledged as the hub reports them', async () => {
    const { client, toTab, heard } = await follower(`shared-outbox-${process.pid}`)
    const events: OutboxEvent[] = []
    client.outbox$.subscribe((e) => events.push(e))
    toTab.postMessage({ t: 'welcome', hub: 'hub-a', clientId: 'c', status: connected, subscriptions: [] } satisfies ToTab)
    const done = client.publish('valves/1/set', 'open', { qos: 1, id: 'cmd-1' })
    const request = await waitFor(() => heard.flatMap((m) => (m.t === 'publish' ? [m.publish] : []))[0], 'the publish at the hub', 5_000)
    expect(request.outboxId).toBe('cmd-1')
    // Handed over is not durable: until the hub's store has it, a closed tab may lose it.
    toTab.postMessage({ t: 'outbox', hub: 'hub-a', id: request.id, state: 'queued' } satisfies ToTab)
    toTab.postMessage({ t: 'outbox', hub: 'hub-a', id: request.id, state: 'queued' } satisfies ToTab)
    toTab.postMessage({ t: 'outbox', hub: 'hub-a', id: request.id, state: 'sent' } satisfies ToTab)
    await waitFor(() => events.length === 2, 'queued and sent', 5_000)
    toTab.postMessage({ t: 'published', hub: 'hub-a', id: request.id } satisfies ToTab)
    await done
    expect(events).toEqual([
      { id: 'cmd-1', topic: 'valves/1/set', state: 'queued' },
      { id: 'cmd-1', topic: 'valves/1/set', state: 'sent' },
      { id: 'cmd-1', topic: 'valves/1/set', state: 'acknowledged' },
    ])
    // A late subscriber is told nothing of a message that has left the outbox.
    const late: OutboxEvent[] = []
    client.outbox$.subscribe((e) => late.push(e)).unsubscribe()
    expect(late).toEqual([])
  })

  it('shows the messages the hub restored from its store that no open tab handed over, and keeps quiet about one it never saw queued', async () => {
    const { client, toTab, toAll } = await follower(`shared-restored-${process.pid}`)
    const events: OutboxEvent[] = []
    client.outbox$.subscribe((e) => events.push(e))
    toTab.postMessage({ t: 'welcome', hub: 'hub-a', clientId: 'c', status: connected, subscriptions: [] } satisfies ToTab)
    await waitFor(async () => (await new Promise<string>((r) => client.status$.subscribe((s) => r(s.type)).unsubscribe())) === 'connected', 'connected through hub A', 5_000)
    toAll.postMessage({ t: 'outbox', hub: 'hub-a', outboxId: 'old-9', topic: 'valves/2/set', state: 'acknowledged' } satisfies ToAll)
    toAll.postMessage({ t: 'outbox', hub: 'hub-a', outboxId: 'old-1', topic: 'valves/1/set', state: 'queued' } satisfies ToAll)
    await waitFor(() => events.length === 1, 'the restored message queued', 5_000)
    // A subscriber after the fact is told of it too, as with a connection of its own.
    const late: OutboxEvent[] = []
    client.outbox$.subscribe((e) => late.push(e)).unsubscribe()
    expect(late).toEqual([{ id: 'old-1', topic: 'valves/1/set', state: 'queued' }])
    toAll.postMessage({ t: 'outbox', hub: 'hub-a', outboxId: 'old-1', topic: 'valves/1/set', state: 'sent' } satisfies ToAll)
    toAll.postMessage({ t: 'outbox', hub: 'hub-a', outboxId: 'old-1', topic: 'valves/1/set', state: 'acknowledged' } satisfies ToAll)
    await waitFor(() => events.length === 3, 'sent and acknowledged', 5_000)
    expect(events.map((e) => `${e.id} ${e.state}`)).toEqual(['old-1 queued', 'old-1 sent', 'old-1 acknowledged'])
  })
})

describe('the tabs that share one connection', () => {
  it('are those with the same broker, client id, credentials and enhanced authentication method', () => {
    const group = (options: Record<string, unknown>): string => {
      const given = { url: 'ws://127.0.0.1:1/', clientId: 'dash', ...options }
      return sharingGroup(given, resolveOptions(given, browserRuntime.platform))
    }
    const token = { method: 'TOKEN', start: () => ({}) }
    expect(group({})).toBe(group({}))
    expect(group({ username: 'a', password: 'p' })).not.toBe(group({ username: 'a', password: 'q' }))
    // Tabs logging in by different methods must not share one connection made by either.
    expect(group({ auth: token, protocolVersion: 5 })).not.toBe(group({}))
    expect(group({ auth: token, protocolVersion: 5 })).not.toBe(group({ auth: { ...token, method: 'SCRAM-SHA-256' }, protocolVersion: 5 }))
    expect(group({ auth: token, protocolVersion: 5 })).toBe(group({ auth: { ...token }, protocolVersion: 5 }))
  })
})
