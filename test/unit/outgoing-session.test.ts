// The MQTT.js link's session rule on MQTT.js's own in-flight table and Store, before MQTT.js resends them on
// a CONNACK: the lean link's rule (test/unit/publish-flow.test.ts), so that both links behave alike.
import { Store, type Packet } from 'mqtt'
import { describe, expect, it, vi } from 'vitest'
import { OutgoingSession } from '../../lib/link/mqttjs/outgoing-session.js'

type Callback = (error?: Error | null, packet?: unknown) => void

/** MQTT.js's parts the session touches: its in-flight table and a real outgoing Store. */
function client() {
  const outgoing: Record<number, { volatile: boolean; cmd: string; cb: Callback } | undefined> = {}
  const outgoingStore = new Store()
  const callbacks = new Map<number, ReturnType<typeof vi.fn<Callback>>>()
  /** A QoS 1/2 publish MQTT.js has written (PUBLISH stored), or a QoS 2 it has released (PUBREL stored). */
  const add = (messageId: number, stored: 'publish-1' | 'publish-2' | 'pubrel'): void => {
    const cb = vi.fn<Callback>()
    callbacks.set(messageId, cb)
    outgoing[messageId] = { volatile: false, cmd: 'publish', cb }
    const packet = stored === 'pubrel' ? { cmd: 'pubrel', messageId } : { cmd: 'publish', qos: stored === 'publish-1' ? 1 : 2, messageId, topic: 't', payload: 'x', retain: false, dup: false }
    outgoingStore.put(packet as Packet, () => undefined)
  }
  const stored = (messageId: number): string | undefined => packet(messageId)?.cmd
  /** The stored packet itself. */
  const packet = (messageId: number): (Packet & { dup?: boolean }) | undefined => {
    let found: Packet | undefined
    outgoingStore.get({ messageId }, (_error, p) => (found = p))
    return found
  }
  /** The packets MQTT.js's resend reads from its store, in its order: identifier and DUP of each PUBLISH. */
  const stream = async (): Promise<string[]> => {
    const out: string[] = []
    for await (const p of outgoingStore.createStream() as AsyncIterable<Packet & { messageId: number; dup?: boolean }>) out.push(`${p.cmd} ${p.messageId}${p.cmd === 'publish' ? ` dup ${String(p.dup)}` : ''}`)
    return out
  }
  /** What MQTT.js would resend now: the identifiers in its table that have a stored packet. */
  const resent = (): number[] => Object.keys(outgoing).map(Number).filter((id) => stored(id) !== undefined)
  return { mqtt: { outgoing, outgoingStore }, outgoing, callbacks, add, stored, packet, stream, resent }
}

describe('OutgoingSession: the session lost (sessionPresent false)', () => {
  it('keeps a written QoS 1 for MQTT.js to send as a new message, and answers every QoS 2 as outcome unknown, out of the store', () => {
    const c = client()
    const session = new OutgoingSession()
    c.add(1, 'publish-1')
    c.add(2, 'publish-2')
    c.add(3, 'pubrel')
    session.connack(c.mqtt, false)
    expect(c.resent()).toEqual([1])
    expect(c.callbacks.get(1)).not.toHaveBeenCalled()
    for (const [id, received] of [[2, false], [3, true]] as const) {
      expect(c.callbacks.get(id)).toHaveBeenCalledOnce()
      expect(c.callbacks.get(id)?.mock.calls[0]?.[0]).toMatchObject({ outcomeUnknown: true, received })
      expect(c.outgoing[id]).toBeUndefined() // the identifier is free
    }
  })

  it('frees withdrawn publishes without answering them', () => {
    const c = client()
    const session = new OutgoingSession()
    c.add(1, 'publish-1')
    c.add(2, 'publish-2')
    c.add(3, 'pubrel')
    for (const id of [1, 2, 3]) session.withdraw(c.mqtt, id)
    session.connack(c.mqtt, false)
    expect(c.resent()).toEqual([])
    for (const id of [1, 2, 3]) {
      expect(c.outgoing[id]).toBeUndefined() // the identifier is free
      expect(c.callbacks.get(id)).not.toHaveBeenCalled()
    }
  })
})

describe('OutgoingSession: the session kept, and withdrawn publishes', () => {
  it('lets MQTT.js resend everything, withdrawn publishes too (MQTT-4.4.0-1), so that their flows end', async () => {
    const c = client()
    const session = new OutgoingSession()
    c.add(1, 'publish-1')
    c.add(2, 'publish-2')
    c.add(3, 'pubrel')
    c.add(4, 'publish-2')
    session.withdraw(c.mqtt, 3) // released: its PUBREL completes the flow
    session.withdraw(c.mqtt, 4) // unreleased: the broker may hold it; resent with DUP, its PUBREC answered
    session.connack(c.mqtt, true)
    expect(c.resent()).toEqual([1, 2, 3, 4])
    expect(await c.stream()).toEqual(['publish 1 dup true', 'publish 2 dup true', 'pubrel 3', 'publish 4 dup true'])
    for (const id of [1, 2, 3, 4]) expect(c.callbacks.get(id)).not.toHaveBeenCalled()
  })

  it("a withdrawn publish stays in MQTT.js's table until its acknowledgement, and its identifier is then an ordinary one again", () => {
    const c = client()
    const session = new OutgoingSession()
    c.add(5, 'publish-2')
    session.withdraw(c.mqtt, 5)
    expect(c.outgoing[5]).toBeDefined() // a late PUBREC finds it: MQTT.js answers PUBREL
    c.outgoing[5]?.cb(null, { cmd: 'pubcomp' }) // MQTT.js's PUBCOMP handling calls it back
    expect(c.callbacks.get(5)).toHaveBeenCalledOnce() // MQTT.js's own chain goes on (the caller ignores it)
    delete c.outgoing[5]
    c.add(5, 'publish-1') // the identifier reused by a new publish: not taken for the withdrawn one
    session.connack(c.mqtt, true)
    expect(c.resent()).toEqual([5])
  })
})

describe('OutgoingSession: DUP on what MQTT.js resends (MQTT-3.3.1-1)', () => {
  it('session kept: every stored PUBLISH goes again with DUP set, in its place, and the packet MQTT.js stored is not changed', async () => {
    const c = client()
    const session = new OutgoingSession()
    c.add(1, 'publish-1')
    c.add(2, 'pubrel')
    c.add(3, 'publish-2')
    const written = c.packet(1)
    session.connack(c.mqtt, true)
    expect(await c.stream()).toEqual(['publish 1 dup true', 'pubrel 2', 'publish 3 dup true'])
    expect(written?.dup).toBe(false) // replaced by a copy, not changed in place
    session.connack(c.mqtt, true) // resent again after another cut: still DUP
    expect(await c.stream()).toEqual(['publish 1 dup true', 'pubrel 2', 'publish 3 dup true'])
  })

  it('session lost: a QoS 1 resent before (DUP set) goes again as a new message, DUP clear', async () => {
    const c = client()
    const session = new OutgoingSession()
    c.add(1, 'publish-1')
    session.connack(c.mqtt, true)
    session.connack(c.mqtt, false)
    expect(await c.stream()).toEqual(['publish 1 dup false'])
  })
})
