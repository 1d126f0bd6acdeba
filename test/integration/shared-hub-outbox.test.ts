// The hub of a shared connection and its engine's outbox, against a real Mosquitto over Node's own
// BroadcastChannel, with the test playing a tab: a tab's message is reported `queued` once the engine's store
// has it and `sent` when it goes out, and a message the store restored that no open tab handed over (its tab
// was closed) is shown to every tab. The tab side is tested in test/unit/shared-client.test.ts.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, memoryStore, type MQTTClient, type Store } from '../../lib/node.js'
import { Log } from '../../lib/log/log.js'
import { Hub } from '../../lib/shared/hub.js'
import type { LockManager } from '../../lib/shared/locks.js'
import type { ToAll, ToHub, ToTab } from '../../lib/shared/tab-protocol.js'
import { sharedBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** No tab is open but those the test plays, and none of them ever leaves. */
const locks: LockManager = {
  request: (_name, options) => new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true })),
  query: () => Promise.resolve({ held: [] }),
}

describe.skipIf(noMosquitto())('the hub of a shared connection and its outbox', () => {
  const bed = sharedBed('shared-hub-outbox')
  const hubs: Hub[] = []
  const channels: BroadcastChannel[] = []
  afterEach(async () => {
    for (const hub of hubs.splice(0)) await hub.stepDown({ force: true, timeout: 100 })
    for (const channel of channels.splice(0)) channel.close()
  })

  function channel(name: string): { channel: BroadcastChannel; heard: unknown[] } {
    const made = new BroadcastChannel(name)
    const heard: unknown[] = []
    made.onmessage = (event: MessageEvent) => heard.push(event.data)
    channels.push(made)
    return { channel: made, heard }
  }

  function startHub(group: string, clientId: string, store: Store): { engine: () => MQTTClient | undefined } {
    let engine: MQTTClient | undefined
    const hub = new Hub(group, locks, () => (engine = connect(bed.broker.tcpUrl, { clientId, store, clean: false, sessionExpiryInterval: 60 })), clientId, bed.broker.tcpUrl, Log.off)
    hubs.push(hub)
    void hub.run()
    return { engine: () => engine }
  }

  it('reports a tab\'s message queued once the store has it, then sent, then the publish\'s answer', async () => {
    const p = uniquePrefix('hub-outbox')
    const group = `g-${p}`
    const received: string[] = []
    const subscriber = await bed.pool.connected(bed.broker.tcpUrl)
    subscriber.observe(`${p}/cmd`, { qos: 1, codec: 'text' }).subscribe((m) => received.push(m.payload))
    await bed.broker.waitForSubscription(subscriber.clientId, `${p}/cmd`, 1)

    const tab = channel(`${group}:tab:t1`)
    const toHub = new BroadcastChannel(`${group}:hub`)
    channels.push(toHub)
    const { engine } = startHub(group, `${p}-hub`, memoryStore())
    toHub.postMessage({
      t: 'hello',
      tab: 't1',
      observes: [],
      publishes: [{ id: 7, topic: `${p}/cmd`, payload: new TextEncoder().encode('open'), qos: 1, retain: false, properties: undefined, outboxId: 'cmd-7' }],
    } satisfies ToHub)
    const answers = (): ToTab[] => (tab.heard as ToTab[]).filter((m) => m.t === 'outbox' || m.t === 'published')
    await waitFor(() => answers().some((m) => m.t === 'published'), 'the publish answered', 10_000)
    expect(answers()).toEqual([
      { t: 'outbox', hub: expect.any(String), id: 7, state: 'queued' },
      { t: 'outbox', hub: expect.any(String), id: 7, state: 'sent' },
      { t: 'published', hub: expect.any(String), id: 7 },
    ])
    await waitFor(() => received.includes('open'), 'the message at the subscriber')
    expect(engine()).toBeDefined()
  })

  it('shows every tab a message restored from the store that no open tab hands over', async () => {
    const p = uniquePrefix('hub-restored')
    const group = `g-${p}`
    const clientId = `${p}-hub`
    const store = memoryStore()
    // A holding tab that was closed while its message waited: the store keeps it for the next engine.
    const before = connect('mqtt://127.0.0.1:1', { clientId, store, clean: false, sessionExpiryInterval: 60, reconnect: false })
    const queued = new Promise<void>((resolve) => before.outbox$.subscribe((e) => e.state === 'queued' && resolve()))
    const orphan = before.publish(`${p}/cmd`, 'close', { qos: 1, id: 'orphan-1' })
    orphan.catch(() => undefined)
    await queued
    await before.end({ force: true, timeout: 100 })

    const all = channel(`${group}:all`)
    const { engine } = startHub(group, clientId, store)
    await waitFor(() => engine(), 'the engine')
    await waitForStatus(engine() as MQTTClient, 'connected')
    const states = (): string[] => (all.heard as ToAll[]).flatMap((m) => (m.t === 'outbox' ? [`${m.outboxId} ${m.topic === `${p}/cmd` ? 'topic' : m.topic} ${m.state}`] : []))
    await waitFor(() => states().includes('orphan-1 topic acknowledged'), 'the restored message acknowledged, on the all channel', 10_000)
    expect(states()).toEqual(['orphan-1 topic queued', 'orphan-1 topic sent', 'orphan-1 topic acknowledged'])
  })
})
