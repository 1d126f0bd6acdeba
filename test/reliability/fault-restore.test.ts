// The fault matrix for the flows a store restores: a client with a store and a persistent session ends while
// three messages are in flight (a fault proxy withholds the broker's answers): QoS 1 `q1` sent, QoS 2 `q2a` sent
// (PUBREC withheld) and QoS 2 `q2b` released (PUBCOMP withheld). A new client on the same store and client id
// resumes them: `q1` and `q2a` go again with DUP under their packet identifiers, `q2b` as its PUBREL. Each case
// cuts that new connection before or after one packet of one of those flows, and asserts the invariants after
// the reconnect:
// - session kept: every message ends `acknowledged` on `outbox$`, QoS 1 arrives at least once, QoS 2 once;
// - session lost at the cut (MQTT 5: the new client asks for no session expiry, so the broker drops the session
//   when the connection goes): `q1` is published again as a new message and acknowledged; a QoS 2 message ends
//   `acknowledged` (then it arrived exactly once) or `failed` (its outcome unknown: it arrived at most once);
// - always: each message settles once, within its deadline, and nothing throws out of the client.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connect, memoryStore, type MQTTClient, type OutboxEvent, type Store, type StoreChange } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { escapes } from '../support/escapes.js'
import { linkUnderTest } from '../support/link-under-test.js'
import { Mosquitto } from '../support/mosquitto.js'
import { MqttFaultProxy, type Direction, type PacketName, type SeenPacket } from '../support/mqtt-fault-proxy.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'
import type { MqttClient } from 'mqtt'

/** How long any awaited event may take. */
const WAIT = 8_000
const MESSAGES = ['q1', 'q2a', 'q2b'] as const
type Name = (typeof MESSAGES)[number]
const QOS: Record<Name, 1 | 2> = { q1: 1, q2a: 2, q2b: 2 }

interface RestoreCut {
  readonly message: Name
  readonly direction: Direction
  readonly type: PacketName
  readonly action: 'cut-before' | 'cut-after'
}

const cut = (message: Name, direction: Direction, type: PacketName, action: RestoreCut['action']): RestoreCut => ({ message, direction, type, action })

/** Every packet of the three resumed flows, before and after it where both differ. */
const CUTS: readonly RestoreCut[] = [
  cut('q1', 'out', 'PUBLISH', 'cut-before'),
  cut('q1', 'out', 'PUBLISH', 'cut-after'),
  cut('q1', 'in', 'PUBACK', 'cut-before'),
  cut('q2a', 'out', 'PUBLISH', 'cut-before'),
  cut('q2a', 'out', 'PUBLISH', 'cut-after'),
  cut('q2a', 'in', 'PUBREC', 'cut-after'),
  cut('q2a', 'out', 'PUBREL', 'cut-after'),
  cut('q2a', 'in', 'PUBCOMP', 'cut-before'),
  cut('q2b', 'out', 'PUBREL', 'cut-before'),
  cut('q2b', 'out', 'PUBREL', 'cut-after'),
  cut('q2b', 'in', 'PUBCOMP', 'cut-before'),
]

const VARIANTS = [
  { session: 'kept', version: 5 },
  { session: 'kept', version: 4 },
  { session: 'lost', version: 5 },
] as const

const cutName = (c: RestoreCut): string => `${c.action === 'cut-before' ? 'before' : 'after'} ${c.message}'s ${c.type} reaches the ${c.direction === 'out' ? 'broker' : 'client'}`

/** The store, with each change it has made told to `onChange`. */
function watched(store: Store, onChange: (change: StoreChange) => void): Store {
  return {
    open: (clientId) => store.open(clientId),
    close: () => store.close(),
    write: async (change) => {
      await store.write(change)
      onChange(change)
    },
  }
}

describe.skipIf(noMosquitto())(`restored flows under connection cuts over the ${linkUnderTest()} link`, () => {
  let broker: Mosquitto
  /** Straight to the broker: counts each message delivered, by topic and payload. */
  let direct: MqttClient
  const delivered = new Map<string, number>()
  const clients: MQTTClient[] = []
  const proxies: MqttFaultProxy[] = []
  const { thrown, onThrown } = escapes()
  const outcomes: string[] = []

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
    direct = await rawClient(broker.tcpUrl, { protocolVersion: 5, clientId: `fault-restore-direct-${process.pid}` })
    direct.on('message', (topic, payload) => {
      const key = `${topic} ${payload.toString()}`
      delivered.set(key, (delivered.get(key) ?? 0) + 1)
    })
    await direct.subscribeAsync('#', { qos: 2 })
  })

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end({ force: true })))
    await Promise.all(proxies.splice(0).map((p) => p.close()))
  })

  afterAll(async () => {
    await direct?.endAsync()
    await broker?.dispose()
    console.log(`fault-restore, ${linkUnderTest()} link: ${outcomes.length} cases\n${outcomes.join('\n')}`)
  })

  /**
   * A first client on `store` that ends with q1 and q2a sent and q2b released, each answered by the broker but
   * the answer withheld; returns their packet identifiers.
   */
  async function leftInFlight(proxy: MqttFaultProxy, store: Store, clientId: string, prefix: string, version: 4 | 5): Promise<Record<Name, number>> {
    const changes: StoreChange[] = []
    const packetIds = {} as Record<Name, number>
    const idOf = (name: Name): number | undefined => proxy.seen.find((s) => s.direction === 'out' && s.type === 'PUBLISH' && s.topics[0] === `${prefix}/${name}`)?.packetId
    proxy.inject({ direction: 'in', type: 'PUBACK', times: Infinity, action: { kind: 'drop' } })
    proxy.inject({ direction: 'in', type: 'PUBCOMP', times: Infinity, action: { kind: 'drop' } })
    proxy.inject({ direction: 'in', type: 'PUBREC', times: Infinity, where: (s) => s.packetId === idOf('q2a'), action: { kind: 'drop' } })
    const first = connect(proxy.url, { clientId, clean: false, sessionExpiryInterval: 300, protocolVersion: version, store: watched(store, (c) => changes.push(c)) })
    clients.push(first)
    for (const name of MESSAGES) first.publish(`${prefix}/${name}`, name, { qos: QOS[name], id: name }).catch(() => undefined)
    const stored = (type: StoreChange['type'], id: Name): boolean => changes.some((c) => c.type === type && 'id' in c && c.id === id)
    await waitFor(() => stored('sent', 'q1') && stored('sent', 'q2a') && stored('released', 'q2b'), 'q1 and q2a sent, q2b released, in the store', WAIT)
    for (const name of MESSAGES) packetIds[name] = idOf(name) as number
    // The broker has each (it answered; the proxy withheld the answers).
    await proxy.waitForPacket((s) => s.direction === 'in' && s.type === 'PUBACK' && s.packetId === packetIds.q1, 'the PUBACK of q1', WAIT)
    await proxy.waitForPacket((s) => s.direction === 'in' && s.type === 'PUBREC' && s.packetId === packetIds.q2a, 'the PUBREC of q2a', WAIT)
    await proxy.waitForPacket((s) => s.direction === 'in' && s.type === 'PUBCOMP' && s.packetId === packetIds.q2b, 'the PUBCOMP of q2b', WAIT)
    await first.end({ force: true })
    proxy.clearFaults()
    return packetIds
  }

  for (const variant of VARIANTS) {
    describe(`session ${variant.session}, MQTT ${variant.version === 5 ? '5' : '3.1.1'}`, () => {
      it.each(CUTS.map((c) => [cutName(c), c] as const))('%s', async (_, c) => {
        const prefix = uniquePrefix('fault-restore')
        const clientId = `${prefix.replaceAll('/', '_')}`
        const store = memoryStore()
        const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
        proxies.push(proxy)
        const packetIds = await leftInFlight(proxy, store, clientId, prefix, variant.version)
        const connection = proxy.connections + 1
        proxy.inject({ direction: c.direction, type: c.type, where: (s: SeenPacket) => s.connection === connection && s.packetId === packetIds[c.message], action: { kind: c.action } })

        const cutDone = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no cut within ${WAIT} ms`)), WAIT)
          proxy.once('cut', () => (clearTimeout(timer), resolve()))
        })
        const events: OutboxEvent[] = []
        const lost = variant.session === 'lost'
        const client = connect(proxy.url, { clientId, clean: false, sessionExpiryInterval: lost ? 0 : 300, protocolVersion: variant.version, store, reconnect: { initialDelay: 20, maxDelay: 100 } })
        clients.push(client)
        client.outbox$.subscribe((e) => events.push(e))
        const ends = (name: Name): OutboxEvent[] => events.filter((e) => e.id === name && (e.state === 'acknowledged' || e.state === 'failed'))
        await cutDone
        await waitFor(() => MESSAGES.every((name) => ends(name).length > 0), 'every restored message settled', WAIT)
        // A last QoS 2 message to each topic: once they are in, nothing of the earlier ones is still to come.
        await Promise.all(MESSAGES.map((name) => client.publish(`${prefix}/${name}`, 'end', { qos: 2 })))
        await waitFor(() => MESSAGES.every((name) => delivered.has(`${prefix}/${name} end`)), 'the last messages arrived', WAIT)

        const firstConnack = proxy.seen.find((s) => s.connection === connection && s.type === 'CONNACK')
        const reconnack = proxy.seen.find((s) => s.connection === connection + 1 && s.type === 'CONNACK')
        const problems: string[] = []
        if (firstConnack?.sessionPresent !== true) problems.push('the resuming connection found no session (the case is set up wrong)')
        if (reconnack?.sessionPresent !== !lost) problems.push(`the reconnect's session present ${String(reconnack?.sessionPresent)} (the case is set up wrong)`)
        // On the resuming connection, each restored flow as the session has it (MQTT-4.4.0-1): q1 and q2a again
        // with DUP under their packet identifiers, q2b (released) only as its PUBREL. After a lost session, a
        // message published again is a new one: no DUP.
        const published = (conn: number) => proxy.packets((s) => s.connection === conn && s.direction === 'out' && s.type === 'PUBLISH' && MESSAGES.some((name) => s.topics[0] === `${prefix}/${name}`))
        for (const s of published(connection)) {
          const name = s.topics[0]?.slice(prefix.length + 1) as Name
          if (name === 'q2b') problems.push('q2b, released, published again')
          else if (!s.dup || s.packetId !== packetIds[name]) problems.push(`${name} resumed with DUP ${s.dup}, packet id ${s.packetId} (stored: ${packetIds[name]})`)
        }
        if (lost && published(connection + 1).some((s) => s.dup)) problems.push('published again with DUP after the session was lost')
        const report: string[] = []
        for (const name of MESSAGES) {
          const settled = ends(name)
          const count = delivered.get(`${prefix}/${name} ${name}`) ?? 0
          const state = settled[0]?.state
          report.push(`${name} ${state} ${count}×`)
          if (settled.length !== 1) problems.push(`${name} settled ${settled.length} times`)
          if (!lost && state !== 'acknowledged') problems.push(`${name} ${state} in a kept session`)
          if (QOS[name] === 1 && state !== 'acknowledged') problems.push(`${name} (QoS 1) ${state}`)
          if (QOS[name] === 1 && count < 1) problems.push(`${name} (QoS 1) never arrived`)
          if (QOS[name] === 2 && state === 'acknowledged' && count !== 1) problems.push(`${name} acknowledged, arrived ${count}×`)
          if (QOS[name] === 2 && count > 1) problems.push(`${name} (QoS 2) arrived ${count}×`)
        }
        outcomes.push(`${variant.session} ${variant.version}: ${cutName(c)}: ${report.join(', ')}`)
        expect(problems).toEqual([])
        expect(thrown).toEqual([])
      })
    })
  }
})
