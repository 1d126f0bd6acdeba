// TurnBatch: the writes of one turn leave together, and a turn that writes a lot hands it on as it goes.
import { describe, expect, it } from 'vitest'
import { TurnBatch } from '../../lib/transport/turn-batch.js'

function setup() {
  const sent: Uint8Array[] = []
  const turns: Array<() => void> = []
  const batch = new TurnBatch((callback) => turns.push(callback), (bytes) => sent.push(bytes))
  const endTurn = (): void => {
    for (const callback of turns.splice(0)) callback()
  }
  return { batch, sent, endTurn }
}

describe('TurnBatch', () => {
  it('holds small writes until the turn is over, counting their bytes, and sends them as one chunk', () => {
    const { batch, sent, endTurn } = setup()
    batch.add(Uint8Array.of(1, 2))
    batch.add(Uint8Array.of(3))
    expect(batch.bytes).toBe(3)
    expect(sent).toEqual([])
    endTurn()
    expect(sent).toEqual([Uint8Array.of(1, 2, 3)])
    expect(batch.bytes).toBe(0)
  })

  it('sends at once once 64 KiB are held, so that a turn that writes megabytes does not hold them all', () => {
    const { batch, sent, endTurn } = setup()
    const chunk = new Uint8Array(16 * 1024)
    for (let i = 0; i < 10; i++) batch.add(chunk)
    expect(sent.map((b) => b.byteLength)).toEqual([65_536, 65_536])
    expect(batch.bytes).toBe(2 * 16 * 1024)
    endTurn()
    expect(sent.map((b) => b.byteLength)).toEqual([65_536, 65_536, 32_768])
  })

  it('drop() forgets what is held', () => {
    const { batch, sent, endTurn } = setup()
    batch.add(Uint8Array.of(1))
    batch.drop()
    expect(batch.bytes).toBe(0)
    endTurn()
    expect(sent).toEqual([])
  })
})
