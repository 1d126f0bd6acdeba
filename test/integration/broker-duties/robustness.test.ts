// A broker that stalls, half-answers or completes a flow oddly: the link under test against a scripted broker.
import { describe, expect, it } from 'vitest'
import { connect, type Message } from '../../../lib/node.js'
import { escapes } from '../../support/escapes.js'
import { waitForStatus } from '../../support/clients.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'
import { scriptedBed, politeAcks, type Conn, settled } from '../../support/scripted-broker.js'

const trap = escapes()
const { broker, client } = scriptedBed('duties-robust')

const accept = (conn: Conn) => conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, returnCode: 0 })

for (const version of [5, 4] as const) {
  describe(`MQTT ${version === 5 ? '5' : '3.1.1'}: a stalling broker`, () => {
    it('a partial packet and then nothing: the keepalive still ends the connection', async () => {
      const b = await broker(version, (conn, packet) => {
        if (packet.cmd !== 'connect') return
        accept(conn)
        // A PUBLISH announcing 1,000 bytes, of which 3 come.
        conn.raw([0x30, 0xe8, 0x07, 0x00, 0x05, 0x61])
      })
      const c = client(b.url, { protocolVersion: version, keepalive: 1 })
      await waitForStatus(c, 'connected')
      await b.closed(0, 10_000)
      await waitFor(() => {
        let type = ''
        c.status$.subscribe((s) => (type = s.type)).unsubscribe()
        return type !== 'connected'
      }, 'the client to leave connected')
    })

    it("a broker that never answers end()'s DISCONNECT and keeps its side open: end({ timeout }) resolves, closed", async () => {
      const b = await broker(version, (conn, packet) => {
        if (packet.cmd === 'connect') accept(conn)
      }, { allowHalfOpen: true })
      const c = client(b.url, { protocolVersion: version })
      await waitForStatus(c, 'connected')
      const pending = settled(c.publish(`${uniquePrefix('end-stall')}/x`, 'v', { qos: 1 }))
      await b.packet((r) => r.packet.cmd === 'publish', 'the PUBLISH')
      const ended = c.end({ timeout: 300 })
      const outcome = await Promise.race([ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('stuck'), 8_000))])
      expect(outcome).toBe('ended')
      expect(await pending).toBeInstanceOf(Error)
      // The half-open broker never closes its side; the client's socket is gone: a write to it fails.
      const conn = b.conns[0] as Conn
      await waitFor(() => {
        conn.socket.write(Buffer.from([0xd0, 0x00]))
        return conn.socket.destroyed || conn.socket.writableEnded || conn.socket.readableEnded
      }, 'the client side to be closed', 5_000)
    })

    it('a QoS 1 PUBLISH to a topic nobody observes is still acknowledged (the broker\'s window would leak otherwise)', async () => {
      const b = await broker(version, (conn, packet) => {
        if (packet.cmd === 'connect') {
          accept(conn)
          conn.send({ cmd: 'publish', topic: 'nobody/observes/this', payload: Buffer.from('x'), qos: 1, messageId: 9, retain: false, dup: false })
          conn.send({ cmd: 'publish', topic: 'nobody/observes/this', payload: Buffer.from('y'), qos: 2, messageId: 10, retain: false, dup: false })
        }
        politeAcks(conn, packet)
      })
      client(b.url, { protocolVersion: version })
      await b.packet((r) => r.packet.cmd === 'puback' && r.packet.messageId === 9, 'PUBACK 9')
      await b.packet((r) => r.packet.cmd === 'pubrec' && r.packet.messageId === 10, 'PUBREC 10')
    })
  })
}

describe('MQTT 5: odd but legal acknowledgements', () => {
  it('PUBACK 0x10 (no matching subscribers) and PUBREC 0x10 are successes: the publishes resolve', async () => {
    const b = await broker(5, (conn, packet) => {
      if (packet.cmd === 'connect') return accept(conn)
      if (packet.cmd === 'publish' && packet.qos === 1) return conn.send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0x10 })
      if (packet.cmd === 'publish' && packet.qos === 2) return conn.send({ cmd: 'pubrec', messageId: packet.messageId, reasonCode: 0x10 })
      politeAcks(conn, packet)
    })
    const c = client(b.url)
    const prefix = uniquePrefix('nomatch')
    expect(await settled(c.publish(`${prefix}/1`, 'v', { qos: 1 }))).toBe('resolved')
    expect(await settled(c.publish(`${prefix}/2`, 'v', { qos: 2 }))).toBe('resolved')
  })

  it('a QoS 2 publish whose PUBREC failed (0x80): no PUBREL is sent, and the publish rejects [MQTT-4.3.3]', async () => {
    const b = await broker(5, (conn, packet) => {
      if (packet.cmd === 'connect') return accept(conn)
      if (packet.cmd === 'publish' && packet.qos === 2) return conn.send({ cmd: 'pubrec', messageId: packet.messageId, reasonCode: 0x80 })
      politeAcks(conn, packet)
    })
    const c = client(b.url)
    expect(await settled(c.publish(`${uniquePrefix('pubrec-fail')}/x`, 'v', { qos: 2 }))).toBeInstanceOf(Error)
    // A QoS 1 behind it shows the broker has read all the client wrote before.
    await c.publish(`${uniquePrefix('pubrec-fail')}/y`, 'v', { qos: 1 })
    expect(b.received.filter((r) => r.packet.cmd === 'pubrel')).toEqual([])
  })

  it('a QoS 2 publish the broker took (PUBREC 0) whose PUBCOMP says 0x92 on a resumed session: it resolves (the broker completed it), not rejected', async () => {
    const b = await broker(5, (conn, packet) => {
      if (packet.cmd === 'connect') return conn.send({ cmd: 'connack', sessionPresent: conn.index > 0, reasonCode: 0 })
      if (packet.cmd === 'publish' && packet.qos === 2) return conn.send({ cmd: 'pubrec', messageId: packet.messageId, reasonCode: 0 })
      // First connection: the PUBREL is lost with the connection. Second: the broker had completed it already.
      if (packet.cmd === 'pubrel' && conn.index === 0) return conn.socket.destroy()
      if (packet.cmd === 'pubrel') return conn.send({ cmd: 'pubcomp', messageId: packet.messageId, reasonCode: 0x92 })
      politeAcks(conn, packet)
    })
    const c = client(b.url, { clean: false, reconnect: { initialDelay: 10, maxDelay: 10 } })
    await waitForStatus(c, 'connected')
    const outcome = await settled(c.publish(`${uniquePrefix('pubcomp-92')}/x`, 'v', { qos: 2, timeout: 8_000 }))
    expect(b.conns.length).toBeGreaterThanOrEqual(2)
    expect(outcome).toBe('resolved')
  })

  it('a broker that grants a higher QoS than asked, or an unknown reason code in SUBACK: no crash, the connection works on', async () => {
    const b = await broker(5, (conn, packet) => {
      if (packet.cmd === 'connect') return accept(conn)
      if (packet.cmd === 'subscribe') return conn.send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((_: unknown, i: number) => (i % 2 === 0 ? 2 : 0x80)) })
      politeAcks(conn, packet)
    })
    const c = client(b.url)
    const prefix = uniquePrefix('suback-high')
    const errors: unknown[] = []
    const got: Message[] = []
    const subs = [c.observe(`${prefix}/a`, { qos: 0 }).subscribe({ next: (m) => got.push(m), error: (e) => errors.push(e) })]
    await waitFor(() => b.received.some((r) => r.packet.cmd === 'subscribe'), 'SUBSCRIBE')
    await c.publish(`${prefix}/z`, 'v', { qos: 1 })
    subs.forEach((s) => s.unsubscribe())
  })
})
