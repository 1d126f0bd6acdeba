// The acknowledgement of a message MQTT.js left to the link, written through MQTT.js's own packet writer.
import { describe, expect, it } from 'vitest'
import { writeAck } from '../../lib/link/mqttjs/write-ack.js'
import { WriteBatch } from '../../lib/link/mqttjs/write-batch.js'
import { IncomingQos2 } from '../../lib/link/mqttjs/incoming-qos2.js'
import type { LinkSessionChange } from '../../lib/link/link.js'

function fakeClient(connected = true) {
  const calls: unknown[] = []
  const corks: string[] = []
  const client = {
    connected,
    stream: { cork: () => corks.push('cork'), uncork: () => corks.push('uncork') },
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

  it('writes PUBREC for QoS 2 and remembers the identifier until PUBREL, recording each change', () => {
    const { client, calls } = fakeClient()
    const qos2 = new IncomingQos2()
    const changes: LinkSessionChange[] = []
    qos2.resume([4], (change) => changes.push(change))
    writeAck(client, { qos: 2, messageId: 9 }, undefined, qos2)
    expect(calls).toEqual([{ cmd: 'pubrec', messageId: 9 }])
    expect([qos2.delivered(9), qos2.delivered(4)]).toEqual([true, true])
    qos2.released(9)
    qos2.released(9)
    expect(qos2.delivered(9)).toBe(false)
    expect(changes).toEqual([{ type: 'incoming', packetId: 9 }, { type: 'incomingReleased', packetId: 9 }])
    qos2.forget()
    expect(qos2.delivered(4)).toBe(false)
  })

  it('writes nothing for QoS 0, or while disconnected (MQTT.js would send it on the next connection)', () => {
    const { client, calls } = fakeClient(false)
    writeAck(client, { qos: 1, messageId: 7 })
    writeAck(client, { qos: 2, messageId: 9 }, undefined, new IncomingQos2())
    writeAck(fakeClient().client, { qos: 0 })
    writeAck(undefined, { qos: 1, messageId: 7 })
    expect(calls).toEqual([])
  })

  it('never throws out of a socket callback or ack(): a write that throws ends the connection instead', () => {
    const destroyed: unknown[] = []
    const failure = new Error('write after end')
    const client = {
      connected: true,
      stream: { cork: () => undefined, uncork: () => undefined, destroy: (error: unknown) => destroyed.push(error) },
      _sendPacket: () => {
        throw failure
      },
    }
    expect(() => writeAck(client, { qos: 1, messageId: 7 })).not.toThrow()
    const qos2 = new IncomingQos2()
    expect(() => writeAck(client, { qos: 2, messageId: 9 }, undefined, qos2)).not.toThrow()
    expect(destroyed).toEqual([failure, failure])
  })
})
