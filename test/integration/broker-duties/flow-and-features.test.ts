// Receive Maximum across a resumed session, and features the broker says it lacks (Wildcard / Shared
// Subscription Available 0): the link under test against a scripted broker (MQTT 5).
import { describe, expect, it } from 'vitest'
import { connect, IotPubSubError } from '../../../lib/node.js'
import { escapes } from '../../support/escapes.js'
import { waitForStatus } from '../../support/clients.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'
import { scriptedBed, politeAcks, type Conn } from '../../support/scripted-broker.js'

const trap = escapes()
const { broker, client } = scriptedBed('duties-flow')

describe('Receive Maximum over a resumed session', () => {
  it('Receive Maximum 1 on the resumed connection: the resent publishes go one at a time [MQTT-4.9.0-2]', async () => {
    let outstanding = 0
    let most = 0
    const b = await broker(5, (conn, packet) => {
      if (packet.cmd === 'connect') {
        return conn.send({ cmd: 'connack', sessionPresent: conn.index > 0, reasonCode: 0, properties: conn.index === 0 ? { receiveMaximum: 100 } : { receiveMaximum: 1 } })
      }
      if (packet.cmd === 'publish' && conn.index === 0) {
        // Take five, acknowledge none, then drop the connection.
        if (conn.packets.filter((r) => r.packet.cmd === 'publish').length === 5) conn.socket.destroy()
        return
      }
      if (packet.cmd === 'publish' || packet.cmd === 'pubrel') {
        outstanding += 1
        most = Math.max(most, outstanding)
        // Acknowledge on the next turn, so that a client over its quota shows it meanwhile.
        setImmediate(() => {
          outstanding -= 1
          politeAcks(conn, packet)
        })
        return
      }
      politeAcks(conn, packet)
    })
    const c = client(b.url, { clean: false, reconnect: { initialDelay: 10, maxDelay: 10 } })
    await waitForStatus(c, 'connected')
    const prefix = uniquePrefix('rm-resume')
    const all = Promise.all([1, 2, 3, 4, 5].map((i) => c.publish(`${prefix}/${i}`, String(i), { qos: i % 2 === 0 ? 2 : 1, timeout: 10_000 })))
    await all
    expect(b.conns.length).toBeGreaterThanOrEqual(2)
    expect(most).toBe(1)
  })
})

describe('features the broker lacks', () => {
  for (const [what, property, filter, code] of [
    ['Wildcard Subscription Available 0', 'wildcardSubscriptionAvailable', (p: string) => `${p}/#`, 0xa2],
    ['Shared Subscription Available 0', 'sharedSubscriptionAvailable', (p: string) => `$share/g/${p}/x`, 0x9e],
  ] as const) {
    it(`${what}: the broker's SUBACK ${code.toString(16)} reaches the observer as a typed error; no reconnect, no retry loop`, async () => {
      const b = await broker(5, (conn: Conn, packet) => {
        if (packet.cmd === 'connect') return conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { [property]: false } })
        if (packet.cmd === 'subscribe') return conn.send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => code) })
        politeAcks(conn, packet)
      })
      const c = client(b.url)
      await waitForStatus(c, 'connected')
      let error: unknown
      const sub = c.observe(filter(uniquePrefix('lacks'))).subscribe({ error: (e) => (error = e) })
      await waitFor(() => error, 'the observer error')
      sub.unsubscribe()
      expect(error).toBeInstanceOf(IotPubSubError)
      expect(b.conns.length).toBe(1)
      expect(b.received.filter((r) => r.packet.cmd === 'subscribe').length).toBe(1)
    })
  }
})
