// Acknowledgements out of order, for identifiers not in flight, and duplicates: the link under test against a
// scripted broker (mqtt-packet), under MQTT 5 and 3.1.1. Nothing may crash, and the normative answers must be given
// (the answers to a PUBREL or PUBREC the client does not know are the lean link's: MQTT.js gives its own).
import { linkUnderTest } from '../../support/link-under-test.js'
import { describe, expect, it } from 'vitest'
import { connect, type Message, type MQTTClient } from '../../../lib/node.js'
import { escapes } from '../../support/escapes.js'
import { waitForStatus } from '../../support/clients.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'
import { scriptedBed, politeAcks, type Conn, type Script } from '../../support/scripted-broker.js'

const trap = escapes()
const { broker, client } = scriptedBed('duties-order')

function statusOf(c: MQTTClient): string {
  let type = ''
  c.status$.subscribe((s) => (type = s.type)).unsubscribe()
  return type
}

/** Accepts, answers politely, and hands the connection to `then` once a SUBSCRIBE was acknowledged. */
function subscribedThen(then: (conn: Conn) => void): Script {
  return (conn, packet) => {
    if (packet.cmd === 'connect') return conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, returnCode: 0 })
    politeAcks(conn, packet)
    if (packet.cmd === 'subscribe') then(conn)
  }
}

for (const version of [5, 4] as const) {
  describe(`MQTT ${version === 5 ? '5' : '3.1.1'}: acknowledgements the client did not ask for`, () => {
    it.skipIf(linkUnderTest() !== 'lean')(`a PUBREL for an unknown identifier gets a PUBCOMP with that identifier${version === 5 ? ' and reason 0x92 (Packet Identifier not found)' : ''}`, async () => {
      const b = await broker(version, (conn, packet) => {
        if (packet.cmd === 'connect') {
          conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, returnCode: 0 })
          conn.send({ cmd: 'pubrel', messageId: 4242, reasonCode: 0 })
        }
        politeAcks(conn, packet)
      })
      client(b.url, { protocolVersion: version })
      const pubcomp = await b.packet((r) => r.packet.cmd === 'pubcomp', 'a PUBCOMP')
      expect(pubcomp.packet.messageId).toBe(4242)
      if (version === 5) expect(pubcomp.packet.reasonCode).toBe(0x92)
    })

    it.skipIf(linkUnderTest() !== 'lean')('PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK for identifiers not in flight: ignored (PUBREC: PUBREL), no crash, the connection works on', async () => {
      const b = await broker(version, (conn, packet) => {
        if (packet.cmd === 'connect') {
          conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, returnCode: 0 })
          conn.send({ cmd: 'puback', messageId: 11, reasonCode: 0 })
          conn.send({ cmd: 'pubcomp', messageId: 12, reasonCode: 0 })
          conn.send({ cmd: 'pubrec', messageId: 13, reasonCode: 0 })
          conn.send({ cmd: 'suback', messageId: 14, granted: [0] })
          conn.send({ cmd: 'unsuback', messageId: 15, ...(version === 5 ? { granted: [0] } : {}) })
        }
        politeAcks(conn, packet)
      })
      const c = client(b.url, { protocolVersion: version })
      await waitForStatus(c, 'connected')
      const pubrel = await b.packet((r) => r.packet.cmd === 'pubrel', 'the PUBREL answering the stray PUBREC')
      expect(pubrel.packet.messageId).toBe(13)
      if (version === 5) expect(pubrel.packet.reasonCode).toBe(0x92)
      await c.publish(`${uniquePrefix('stray')}/x`, 'v', { qos: 2 })
      expect(statusOf(c)).toBe('connected')
      expect(trap.thrown).toEqual([])
    })

    it('a SUBACK with fewer reason codes than filters, and one with more: no crash, every observer settles or stays, the connection works on', async () => {
      const prefix = uniquePrefix('suback-count')
      let shortened = false
      const b = await broker(version, (conn, packet) => {
        if (packet.cmd === 'connect') return conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, returnCode: 0 })
        if (packet.cmd === 'subscribe') {
          const n = packet.subscriptions.length
          // The first SUBSCRIBE with two or more filters gets one code too few; every other one three codes too many.
          const granted = n >= 2 && !shortened ? packet.subscriptions.slice(1).map(() => 0) : [...packet.subscriptions.map(() => 0), 0, 0, 0]
          if (n >= 2) shortened = true
          return conn.send({ cmd: 'suback', messageId: packet.messageId, granted })
        }
        politeAcks(conn, packet)
      })
      const c = client(b.url, { protocolVersion: version })
      await waitForStatus(c, 'connected')
      const errors: unknown[] = []
      const subs = [`${prefix}/a`, `${prefix}/b`, `${prefix}/c`].map((f) => c.observe(f).subscribe({ error: (e) => errors.push(e) }))
      await waitFor(() => b.received.filter((r) => r.packet.cmd === 'subscribe').length >= 1, 'a SUBSCRIBE')
      await c.publish(`${prefix}/z`, 'v', { qos: 1 })
      subs.forEach((s) => s.unsubscribe())
      expect(trap.thrown).toEqual([])
      expect(statusOf(c)).toBe('connected')
    })

    it('an inbound QoS 2 message resent with DUP before the PUBREL is delivered once; after PUBREL/PUBCOMP, the identifier is a new message', async () => {
      const prefix = uniquePrefix('qos2-dup')
      const topic = `${prefix}/m`
      const b = await broker(version, subscribedThen((conn) => {
        const publish = { cmd: 'publish', topic, payload: Buffer.from('one'), qos: 2, messageId: 77, retain: false }
        conn.send({ ...publish, dup: false })
        conn.send({ ...publish, dup: true })
        conn.send({ ...publish, dup: true })
      }))
      const c = client(b.url, { protocolVersion: version })
      const got: string[] = []
      const sub = c.observe(topic, { qos: 2 }).subscribe((m: Message) => got.push(new TextDecoder().decode(m.payload as Uint8Array)))
      await waitFor(() => b.received.filter((r) => r.packet.cmd === 'pubrec' && r.packet.messageId === 77).length >= 3, 'a PUBREC for each of the three copies')
      expect(got).toEqual(['one'])
      const conn = b.conns[0] as Conn
      conn.send({ cmd: 'pubrel', messageId: 77, reasonCode: 0 })
      await b.packet((r) => r.packet.cmd === 'pubcomp' && r.packet.messageId === 77, 'PUBCOMP 77')
      conn.send({ cmd: 'publish', topic, payload: Buffer.from('two'), qos: 2, messageId: 77, retain: false, dup: false })
      await waitFor(() => got.length >= 2, 'the second message under identifier 77')
      expect(got).toEqual(['one', 'two'])
      sub.unsubscribe()
    })

    it('an inbound QoS 1 and QoS 2 PUBLISH with identifier equal to one of the client\'s own in-flight publishes: both flows complete', async () => {
      const prefix = uniquePrefix('shared-id')
      const topic = `${prefix}/m`
      let held: { conn: Conn; id: number } | undefined
      const b = await broker(version, (conn, packet) => {
        if (packet.cmd === 'connect') return conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, returnCode: 0 })
        if (packet.cmd === 'publish' && packet.qos === 1) {
          // Hold the PUBACK; send the client a PUBLISH of our own with the same identifier first.
          held = { conn, id: packet.messageId }
          conn.send({ cmd: 'publish', topic, payload: Buffer.from('in'), qos: 2, messageId: packet.messageId, retain: false, dup: false })
          return
        }
        politeAcks(conn, packet)
      })
      const c = client(b.url, { protocolVersion: version })
      const got: string[] = []
      const sub = c.observe(topic, { qos: 2 }).subscribe((m: Message) => got.push(new TextDecoder().decode(m.payload as Uint8Array)))
      await waitFor(() => b.received.some((r) => r.packet.cmd === 'subscribe'), 'SUBSCRIBE')
      const published = c.publish(`${prefix}/out`, 'v', { qos: 1 })
      await waitFor(() => got.length >= 1, 'the inbound message')
      const pubrec = await b.packet((r) => r.packet.cmd === 'pubrec', 'PUBREC')
      expect(pubrec.packet.messageId).toBe(held?.id)
      held?.conn.send({ cmd: 'puback', messageId: held.id, reasonCode: 0 })
      await published
      sub.unsubscribe()
    })
  })
}
