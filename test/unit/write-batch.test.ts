// Acknowledgements written while handling one turn's messages leave in one write (sockets have Nagle off).
import { describe, expect, it } from 'vitest'
import { WriteBatch } from '../../lib/link/mqttjs/write-batch.js'

describe('WriteBatch', () => {
  it('corks a stream once per turn and uncorks it when the turn is over', () => {
    const calls: string[] = []
    const stream = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') }
    const turns: Array<() => void> = []
    const batch = new WriteBatch((callback) => turns.push(callback))
    batch.hold(stream)
    batch.hold(stream)
    batch.hold(stream)
    expect(calls).toEqual(['cork'])
    turns.shift()?.()
    expect(calls).toEqual(['cork', 'uncork'])
    batch.hold(stream)
    expect(calls).toEqual(['cork', 'uncork', 'cork'])
  })

  it('leaves a stream without cork() alone (a browser WebSocket stream)', () => {
    const batch = new WriteBatch(() => undefined)
    expect(() => batch.hold({} as never)).not.toThrow()
    expect(() => batch.hold(undefined)).not.toThrow()
  })
})
