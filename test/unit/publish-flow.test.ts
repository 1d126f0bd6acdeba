// The lean link's publishing side on its own (PublishFlow over OutgoingStore), the broker played by hand:
// what a reconnect resends when the session is kept or lost, and when a given-up publish frees its identifier.
import { describe, expect, it } from 'vitest'
import type { LinkAckError } from '../../lib/link/link.js'
import { PublishFlow } from '../../lib/link/lean/publish-flow.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { AckPacket, Packet } from '../../lib/wire/packets.js'

/** A flow whose writes are decoded, with the connection accepted or not, and identifiers counted up from 1. */
function setup() {
  const written: Packet[] = []
  const reader = new PacketReader({ maximumPacketSize: 268_435_460 })
  reader.level = 5
  let accepted = false
  let connection = 0
  let nextId = 1
  const flow = new PublishFlow({
    write: (bytes) => {
      reader.push(bytes.slice())
      for (let packet = reader.next(); packet; packet = reader.next()) written.push(packet)
    },
    level: () => 5,
    accepted: () => accepted,
    allocate: () => nextId++,
  })
  const outcomes = new Map<string, { settled: number; error: LinkAckError | undefined }>()
  const publish = (name: string, qos: 1 | 2): number => {
    const outcome = { settled: 0, error: undefined as LinkAckError | undefined }
    outcomes.set(name, outcome)
    return flow.publish(`t/${name}`, name, { qos, retain: false }, (error) => {
      outcome.settled += 1
      outcome.error = error
    }) as number
  }
  /** A CONNACK: the session kept or not. */
  const connect = (sessionPresent: boolean, receiveMaximum = 65_535): void => {
    accepted = true
    connection += 1
    written.length = 0
    flow.restart(connection, receiveMaximum, sessionPresent)
  }
  const drop = (): void => void (accepted = false)
  const ack = (type: AckPacket['type'], packetId: number, reasonCode = 0): void => {
    const packet: AckPacket = { type, packetId, reasonCode }
    if (type === 'pubrec') flow.received(packet)
    else flow.acknowledged(packet)
  }
  const of = (type: Packet['type']) => written.filter((p) => p.type === type) as Array<Packet & { packetId?: number; dup?: boolean; reasonCode?: number; topic?: string }>
  return { flow, written, outcomes, publish, connect, drop, ack, of }
}

describe('PublishFlow: a reconnect that finds no session (sessionPresent false)', () => {
  it("answers a PUBREC'd QoS 2 as outcome unknown, sends no PUBREL for it, and frees its identifier", () => {
    const { flow, outcomes, publish, connect, drop, ack, of } = setup()
    connect(false)
    const id = publish('q2', 2)
    ack('pubrec', id)
    expect(of('pubrel').map((p) => p.packetId)).toEqual([id])
    drop()
    connect(false)
    expect(outcomes.get('q2')).toMatchObject({ settled: 1, error: { outcomeUnknown: true, received: true } })
    expect(of('pubrel')).toEqual([]) // a PUBCOMP to it would have "confirmed" the discarded message
    expect(of('publish')).toEqual([])
    expect(flow.store.has(id)).toBe(false)
  })

  it('answers a written QoS 2 without PUBREC as outcome unknown and does not publish it again', () => {
    const { flow, outcomes, publish, connect, drop, of } = setup()
    connect(false)
    const id = publish('q2', 2)
    drop()
    connect(false)
    expect(outcomes.get('q2')?.error).toMatchObject({ outcomeUnknown: true, received: false })
    expect(of('publish')).toEqual([])
    expect(flow.store.has(id)).toBe(false)
  })

  it('publishes a written QoS 1 again as a new message (DUP clear) and resolves it on its PUBACK', () => {
    const { outcomes, publish, connect, drop, ack, of } = setup()
    connect(false)
    const id = publish('q1', 1)
    drop()
    connect(false)
    expect(of('publish').map((p) => [p.packetId, p.dup])).toEqual([[id, false]])
    expect(outcomes.get('q1')?.settled).toBe(0)
    ack('puback', id)
    expect(outcomes.get('q1')).toEqual({ settled: 1, error: undefined })
  })

  it('sends publishes never written (made before the first CONNACK) normally, in order', () => {
    const { outcomes, publish, connect, ack, of } = setup()
    const a = publish('a', 2)
    const b = publish('b', 1)
    connect(false)
    expect(of('publish').map((p) => [p.topic, p.dup])).toEqual([['t/a', false], ['t/b', false]])
    ack('pubrec', a)
    ack('pubcomp', a)
    ack('puback', b)
    expect([outcomes.get('a'), outcomes.get('b')]).toEqual([{ settled: 1, error: undefined }, { settled: 1, error: undefined }])
  })
})

describe('PublishFlow: a reconnect that finds the session kept', () => {
  it("resends an unacknowledged PUBLISH with DUP and a PUBREC'd QoS 2 as its PUBREL: exactly once", () => {
    const { outcomes, publish, connect, drop, ack, of } = setup()
    connect(false)
    const one = publish('q1', 1)
    const two = publish('q2', 2)
    ack('pubrec', two)
    drop()
    connect(true)
    expect(of('publish').map((p) => [p.packetId, p.dup])).toEqual([[one, true]])
    expect(of('pubrel').map((p) => p.packetId)).toEqual([two])
    ack('puback', one)
    ack('pubcomp', two)
    expect([outcomes.get('q1')?.settled, outcomes.get('q2')?.settled]).toEqual([1, 1])
  })
})

describe('PublishFlow: a withdrawn publish frees its identifier only when its flow ends', () => {
  it("a released QoS 2 keeps its identifier, completes PUBREL/PUBCOMP across a kept session, and only then frees it", () => {
    const { flow, outcomes, publish, connect, drop, ack, of } = setup()
    connect(false)
    const id = publish('q2', 2)
    ack('pubrec', id)
    flow.withdraw(id)
    expect(flow.store.has(id)).toBe(true) // the broker holds it, waiting for PUBCOMP's flow to end
    drop()
    connect(true)
    expect(of('pubrel').map((p) => p.packetId)).toEqual([id])
    ack('pubcomp', id)
    expect(flow.store.has(id)).toBe(false)
    expect(outcomes.get('q2')?.settled).toBe(0) // given up: never answered
  })

  it("an unreleased QoS 2's late PUBREC is answered with PUBREL, and its PUBCOMP frees the identifier", () => {
    const { flow, outcomes, publish, connect, ack, of } = setup()
    connect(false)
    const id = publish('q2', 2)
    flow.withdraw(id)
    expect(flow.store.has(id)).toBe(true)
    ack('pubrec', id)
    expect(of('pubrel').map((p) => [p.packetId, p.reasonCode])).toEqual([[id, 0]])
    expect(flow.store.has(id)).toBe(true)
    ack('pubcomp', id)
    expect(flow.store.has(id)).toBe(false)
    expect(outcomes.get('q2')?.settled).toBe(0)
  })

  it('a written one is not published again on its connection; a resumed session resends it with DUP (MQTT-4.4.0-1), a lost one frees it', () => {
    const { flow, outcomes, publish, connect, drop, of, ack } = setup()
    connect(false)
    const one = publish('q1', 1)
    const two = publish('q2', 2)
    flow.withdraw(one)
    flow.withdraw(two)
    expect(of('publish')).toHaveLength(2)
    drop()
    connect(true)
    // Its flow goes on, so that it ends and frees the identifier; nobody is answered.
    expect(of('publish').map((p) => [p.packetId, p.dup])).toEqual([[one, true], [two, true]])
    expect([flow.store.has(one), flow.store.has(two)]).toEqual([true, true])
    ack('puback', one)
    expect(flow.store.has(one)).toBe(false)
    expect(outcomes.get('q1')?.settled).toBe(0)
    drop()
    connect(false)
    expect(of('publish')).toEqual([])
    expect(flow.store.has(two)).toBe(false)
    expect(outcomes.get('q2')?.settled).toBe(0)
  })

  it("a QoS 1's late PUBACK frees its identifier without answering it", () => {
    const { flow, outcomes, publish, connect, ack } = setup()
    connect(false)
    const id = publish('q1', 1)
    flow.withdraw(id)
    expect(flow.store.has(id)).toBe(true)
    ack('puback', id)
    expect(flow.store.has(id)).toBe(false)
    expect(outcomes.get('q1')?.settled).toBe(0)
  })

  it('one never written is dropped at once: nothing goes out on the next connection', () => {
    const { flow, publish, connect, of } = setup()
    const id = publish('q1', 1)
    flow.withdraw(id)
    expect(flow.store.has(id)).toBe(false)
    connect(false)
    expect(of('publish')).toEqual([])
  })

  it("a withdrawn publish in flight still counts against the broker's receive maximum until its acknowledgement", () => {
    const { flow, publish, connect, ack, of } = setup()
    connect(false, 1)
    const a = publish('a', 1)
    publish('b', 1)
    expect(of('publish').map((p) => p.topic)).toEqual(['t/a'])
    flow.withdraw(a)
    expect(of('publish').map((p) => p.topic)).toEqual(['t/a']) // the broker still counts a
    ack('puback', a)
    expect(of('publish').map((p) => p.topic)).toEqual(['t/a', 't/b'])
  })
})
