// The link's queue of held messages: first in, first out, whatever its length and however it is read.
import { describe, expect, it } from 'vitest'
import { Fifo } from '../../lib/link/fifo.js'

describe('Fifo', () => {
  it('gives items back in order, across the compaction of its read part, and clear() takes the rest', () => {
    const queue = new Fifo<number>()
    let next = 0
    let expected = 0
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) queue.push(next++)
      for (let i = 0; i < 200; i++) expect(queue.shift()).toBe(expected++)
    }
    expect(queue.size).toBe(next - expected)
    const rest = queue.clear()
    expect(rest[0]).toBe(expected)
    expect(rest.at(-1)).toBe(next - 1)
    expect(queue.size).toBe(0)
    expect(queue.shift()).toBeUndefined()
  })
})
