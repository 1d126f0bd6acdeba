// The acknowledgement of a message MQTT.js left to the link, written through MQTT.js's own packet writer.
import { describe, expect, it } from 'vitest'
import { writeAck } from '../../lib/link/mqttjs/write-ack.js'
import { WriteBatch } from '../../lib/link/mqttjs/write-batch.js'

function fakeClient(connected = true) {
  const calls: unknown[] = []
  const corks: string[] = []
  const client = {
    connected,
    stream: { cork: () => corks.push('cork'), uncork: () => corks.push('uncork') },
    incomingStore: { del: (packet: { messageId: number }) => calls.push(['del', packet.messageId]) },
    _releaseIncomingQoS2Publish: (messageId: number) => calls.push(['release', messageId]),
    _sendPacket: (packet: object) => calls.push(packet),
  }
  return { client, calls, corks }
}

describe('writeAck', () => {
  it('writes PUBACK for QoS 1, in the turn’s batch', () => {
    const { client, calls, corks } = fakeClient()
    writeAck(client, { qos: 1, messageId: 7 }, new WriteBatch(() => undefined))
    expect(calls).toEqual([{ cmd: 'puback', messageId: 7, reasonCode: 0 }])
    expect(corks).toEqual(['cork'])
  })

  it('ends a QoS 2 flow: the message out of the incoming store, its identifier released, PUBCOMP', () => {
    const { client, calls } = fakeClient()
    writeAck(client, { qos: 2, messageId: 9 })
    expect(calls).toEqual([['del', 9], ['release', 9], { cmd: 'pubcomp', messageId: 9 }])
  })

  it('writes nothing for QoS 0, or while disconnected (MQTT.js would send it on the next connection)', () => {
    const { client, calls } = fakeClient(false)
    writeAck(client, { qos: 1, messageId: 7 })
    writeAck(client, { qos: 2, messageId: 9 })
    writeAck(fakeClient().client, { qos: 0 })
    writeAck(undefined, { qos: 1, messageId: 7 })
    expect(calls).toEqual([])
  })
})
