// What an error MQTT.js emits means for the engine: each kind from what the link knows of its attempt.
import { describe, expect, it } from 'vitest'
import { mqttJsFailure, type MqttJsErrorContext } from '../../lib/link/mqttjs/mqttjs-failure.js'

const accepted: MqttJsErrorContext = { accepted: true, keepaliveExpired: false, refusedCode: undefined, lastChunk: undefined }
const withCode = (message: string, code: unknown): Error => Object.assign(new Error(message), { code })

describe('mqttJsFailure', () => {
  it('a socket error (a string code) is a socket failure, before or after the CONNACK', () => {
    expect(mqttJsFailure(withCode('read ECONNRESET', 'ECONNRESET'), accepted)).toEqual({ type: 'socket', code: 'ECONNRESET', message: 'read ECONNRESET' })
    expect(mqttJsFailure(withCode('connect ECONNREFUSED', 'ECONNREFUSED'), { ...accepted, accepted: false })?.type).toBe('socket')
  })

  it('the refusal already reported from the CONNACK is not reported again; another number code is a protocol error', () => {
    expect(mqttJsFailure(withCode('Connection refused: Not authorized', 135), { ...accepted, accepted: false, refusedCode: 135 })).toBeUndefined()
    expect(mqttJsFailure(withCode('Disconnect', 142), accepted)).toEqual({ type: 'protocol', message: 'Disconnect' })
  })

  it('the keepalive, once MQTT.js gives up on it; anything else before the CONNACK is a protocol error', () => {
    expect(mqttJsFailure(new Error('Keepalive timeout'), { ...accepted, keepaliveExpired: true })).toEqual({ type: 'keepalive' })
    expect(mqttJsFailure(new Error('Invalid header flag bits'), { ...accepted, accepted: false })).toEqual({ type: 'protocol', message: 'Invalid header flag bits' })
  })

  it('after the CONNACK, a packet mqtt-packet refused is malformed, with the acknowledgement it was when the chunk shows one', () => {
    const chunk = new Uint8Array([0x40, 3, 0, 7, 149])
    expect(mqttJsFailure(new Error('Invalid puback reason code'), { ...accepted, lastChunk: chunk })).toEqual({
      type: 'malformed',
      message: 'Invalid puback reason code',
      ack: { cmd: 'puback', packetId: 7, reasonCode: 149 },
    })
    expect(mqttJsFailure(new Error('Invalid header flag bits'), accepted)).toEqual({ type: 'malformed', message: 'Invalid header flag bits', ack: undefined })
  })
})
