// Publishes and subscriptions made before the CONNACK (or carried over a reconnect) meet the limits of the CONNACK
// that then comes: the link under test against a scripted broker (MQTT 5 §3.2.2.3: Maximum QoS, Retain Available,
// Maximum Packet Size).
import { describe, expect, it } from 'vitest'
import { connect } from '../../../lib/node.js'
import { waitForStatus } from '../../support/clients.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'
import { scriptedBed, politeAcks, type Script, settled } from '../../support/scripted-broker.js'

const { broker, client } = scriptedBed('duties-queued')

function accepting(properties: Record<string, unknown>): Script {
  return (conn, packet) => {
    if (packet.cmd === 'connect') return conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties })
    politeAcks(conn, packet)
  }
}

describe('limits of a CONNACK that comes after the request was made', () => {
  it('Maximum QoS 1: a QoS 2 publish made before the CONNACK does not go out at QoS 2 [MQTT-3.2.2-11]', async () => {
    const b = await broker(5, accepting({ maximumQoS: 1 }))
    const c = client(b.url)
    const outcome = settled(c.publish(`${uniquePrefix('q-maxqos')}/x`, 'v', { qos: 2, timeout: 5_000 }))
    await waitForStatus(c, 'connected')
    await outcome
    expect(b.received.filter((r) => r.packet.cmd === 'publish').map((r) => r.packet.qos)).not.toContain(2)
  })

  it('Retain Available 0: a retained publish made before the CONNACK does not go out with RETAIN 1 [MQTT-3.2.2-14]', async () => {
    const b = await broker(5, accepting({ retainAvailable: false }))
    const c = client(b.url)
    const outcome = settled(c.publish(`${uniquePrefix('q-retain')}/x`, 'v', { qos: 1, retain: true, timeout: 5_000 }))
    await waitForStatus(c, 'connected')
    await outcome
    expect(b.received.filter((r) => r.packet.cmd === 'publish' && r.packet.retain).map((r) => `${r.packet.cmd} retain=${r.packet.retain}`)).toEqual([])
  })

  it('Maximum Packet Size: a publish made before the CONNACK, larger than it, is refused and never sent [MQTT-3.2.2-15]', async () => {
    const MAX = 64
    const b = await broker(5, accepting({ maximumPacketSize: MAX }))
    const c = client(b.url)
    const outcome = settled(c.publish(`${uniquePrefix('q-mps')}/x`, 'x'.repeat(200), { qos: 1, timeout: 5_000 }))
    await waitForStatus(c, 'connected')
    const result = await outcome
    expect(b.received.filter((r) => r.size > MAX).map((r) => `${r.packet.cmd} ${r.size}`)).toEqual([])
    expect(result).toBeInstanceOf(Error)
  })

  it('Maximum Packet Size: a filter too long for it is not sent over and over on reconnect', async () => {
    const MAX = 64
    const b = await broker(5, (conn, packet) => {
      if (packet.cmd === 'connect') return conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { maximumPacketSize: MAX } })
      // A broker closes on a packet over its maximum (MQTT 5 §3.2.2.3.6: DISCONNECT 0x95).
      if (packet.cmd === 'subscribe') {
        conn.send({ cmd: 'disconnect', reasonCode: 0x95 })
        return conn.socket.end()
      }
      politeAcks(conn, packet)
    })
    const c = client(b.url, { reconnect: { initialDelay: 10, maxDelay: 10 } })
    await waitForStatus(c, 'connected')
    let error: unknown
    const sub = c.observe(`${uniquePrefix('q-loop')}/${'y'.repeat(80)}`).subscribe({ error: (e) => (error = e) })
    // Correct: the observer errors (the filter can never be subscribed). The defect: SUBSCRIBE, close, reconnect, SUBSCRIBE...
    await waitFor(() => error !== undefined || b.received.filter((r) => r.packet.cmd === 'subscribe').length >= 3, 'an error or a third SUBSCRIBE', 10_000)
    sub.unsubscribe()
    expect(b.received.filter((r) => r.packet.cmd === 'subscribe').length).toBeLessThan(3)
  })
})
