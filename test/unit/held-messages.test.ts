// The MQTT.js link's inbound messages: MQTT.js is called back at once (it reads on), the messages wait in
// order for the engine, each acknowledged when it is done, and past the read-ahead MQTT.js is held after all.
import { describe, expect, it } from 'vitest'
import { ACK_LEFT_TO_LINK, HeldMessages } from '../../lib/link/mqttjs/held-messages.js'
import { Fifo } from '../../lib/link/fifo.js'
import type { MessageDone } from '../../lib/link/link.js'
import type { IncomingMessage } from '../../lib/subscriptions/broker-subscription.js'

interface Packet {
  readonly id: number
}

function message(id: number, bytes = 10): IncomingMessage {
  return { topic: `t/${id}`, payload: new Uint8Array(bytes), qos: 1, retain: false }
}

/** A HeldMessages whose engine keeps each message until the test calls its `done`. */
function bed(options: { doneAtOnce?: boolean; throwOnAck?: boolean } = {}) {
  const delivered: string[] = []
  const dones: MessageDone[] = []
  const acked: number[] = []
  const crashes: unknown[] = []
  let resumed = 0
  const held = new HeldMessages<Packet>({
    message: (m, done) => {
      delivered.push(m.topic)
      if (options.doneAtOnce) done()
      else dones.push(done)
    },
    acknowledge: (packet) => {
      if (options.throwOnAck) throw new Error('socket gone')
      acked.push(packet.id)
    },
    resumed: () => (resumed += 1),
    crashed: (error) => crashes.push(error),
  }, Fifo)
  held.restart(1) // the first connection's epoch
  /** MQTT.js's handleMessage callbacks: what each was called with, `pending` until it is. */
  const callbacks: Array<Error | undefined | 'pending'> = []
  const receive = (id: number, bytes?: number): void => {
    const index = callbacks.push('pending') - 1
    held.receive(message(id, bytes), { id }, (error) => (callbacks[index] = error))
  }
  return { held, delivered, dones, acked, crashes, callbacks, receive, resumed: () => resumed }
}

describe('HeldMessages', () => {
  it('finishes a message done with a turn of the event loop only after the turn: its acknowledgement, then the next message', () => {
    const { callbacks, acked, delivered, dones, receive } = bed()
    receive(1)
    receive(2)
    const turns: Array<() => void> = []
    dones[0]?.((resume) => turns.push(resume))
    expect(acked).toEqual([])
    expect(delivered).toEqual(['t/1'])
    turns.shift()?.()
    expect(acked).toEqual([1])
    expect(delivered).toEqual(['t/1', 't/2'])
    expect(callbacks).toEqual([ACK_LEFT_TO_LINK, ACK_LEFT_TO_LINK])
  })

  it('lets MQTT.js acknowledge a message the engine is done with at once, as it would without it', () => {
    const { callbacks, acked, delivered, receive } = bed({ doneAtOnce: true })
    receive(1)
    receive(2)
    expect(delivered).toEqual(['t/1', 't/2'])
    expect(callbacks).toEqual([undefined, undefined])
    expect(acked).toEqual([])
  })

  it('lets MQTT.js read on behind a held message, delivers the next ones in order, each acknowledged on its done', () => {
    const { held, callbacks, acked, delivered, dones, receive } = bed()
    receive(1)
    receive(2)
    receive(3)
    // MQTT.js goes on at once, leaving the acknowledgements to the link.
    expect(callbacks).toEqual([ACK_LEFT_TO_LINK, ACK_LEFT_TO_LINK, ACK_LEFT_TO_LINK])
    expect(delivered).toEqual(['t/1'])
    expect(acked).toEqual([])
    expect(held.paused).toBe(false)
    dones[0]?.()
    expect(acked).toEqual([1])
    expect(delivered).toEqual(['t/1', 't/2'])
    dones[0]?.() // a second call does nothing
    expect(acked).toEqual([1])
    dones[1]?.()
    dones[2]?.()
    expect(acked).toEqual([1, 2, 3])
    expect(delivered).toEqual(['t/1', 't/2', 't/3'])
  })

  it('holds MQTT.js (and so the socket) past 1 MiB of waiting messages, and lets it go once they are handled', () => {
    const { held, callbacks, dones, acked, receive, resumed } = bed()
    receive(1)
    receive(2, 600_000)
    expect(held.paused).toBe(false)
    receive(3, 600_000)
    expect(callbacks[2]).toBe('pending')
    expect(held.paused).toBe(true)
    dones[0]?.() // message 2 goes to the engine: 600 kB wait, under the read-ahead
    expect(callbacks[2]).toBe(ACK_LEFT_TO_LINK)
    expect(held.paused).toBe(false)
    expect(resumed()).toBe(1) // the keepalive starts over
    dones[1]?.()
    dones[2]?.()
    expect(acked).toEqual([1, 2, 3])
    expect(resumed()).toBe(1)
  })

  it('holds MQTT.js past 256 waiting messages however small, as a Receive Maximum would', () => {
    const { held, callbacks, dones, receive } = bed()
    for (let id = 0; id <= 256; id++) receive(id)
    expect(held.paused).toBe(false)
    receive(257)
    expect(callbacks[257]).toBe('pending')
    dones[0]?.()
    expect(callbacks[257]).toBe(ACK_LEFT_TO_LINK)
    expect(held.paused).toBe(false)
  })

  it('drops what waits when the connection ends: a late done acknowledges nothing, the next connection starts afresh', () => {
    const { held, dones, acked, delivered, receive } = bed()
    receive(1)
    receive(2, 2_000_000)
    expect(held.paused).toBe(true)
    held.restart(0)
    expect(held.paused).toBe(false)
    dones[0]?.()
    expect(acked).toEqual([])
    expect(delivered).toEqual(['t/1'])
    receive(3)
    expect(delivered).toEqual(['t/1', 't/3'])
    dones[1]?.()
    expect(acked).toEqual([3])
  })

  it('runs work asked for behind held messages (a SUBACK) in its place: after them, or as lost when the connection ends first', () => {
    const { held, delivered, dones, receive } = bed()
    const ran: string[] = []
    held.after((lost) => ran.push(`first ${lost}`))
    expect(ran).toEqual(['first false'])
    receive(1)
    receive(2)
    held.after((lost) => ran.push(`behind t/2 ${lost}`))
    receive(3)
    dones[0]?.()
    expect(ran).toEqual(['first false'])
    dones[1]?.()
    expect(ran).toEqual(['first false', 'behind t/2 false'])
    expect(delivered).toEqual(['t/1', 't/2', 't/3'])
    held.after((lost) => ran.push(`behind t/3 ${lost}`))
    held.restart(0)
    expect(ran.at(-1)).toBe('behind t/3 true')
  })

  it('reports a failure after a done instead of throwing into the engine', () => {
    const { crashes, dones, receive } = bed({ throwOnAck: true })
    receive(1)
    expect(() => dones[0]?.()).not.toThrow()
    expect(crashes).toHaveLength(1)
  })
})
