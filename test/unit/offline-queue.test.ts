// OfflineQueue: publishes waiting in order within count and byte limits, taken one by one as the connection allows.
import { describe, expect, it } from 'vitest'
import { PublishError, QueueFullError } from '../../lib/errors.js'
import { OfflineQueue, type Queueable } from '../../lib/publish/offline-queue.js'

const item = (n: number, qos: 0 | 1 = 1, size = 1): Queueable & { n: number } => ({ n, topic: `t/${n}`, qos, size })

describe('OfflineQueue', () => {
  it('shift() and peek() take entries oldest first; remove() takes one out wherever it is; the limits count what is left', () => {
    const queue = new OfflineQueue<ReturnType<typeof item>>({ maxMessages: 3, maxBytes: 100, qos0: 'queue' })
    for (const n of [1, 2, 3]) expect(queue.enqueue(item(n))).toBeUndefined()
    expect(queue.enqueue(item(4))).toBeInstanceOf(QueueFullError)
    expect(queue.peek()?.n).toBe(1)
    expect(queue.shift()?.n).toBe(1)
    expect(queue.size).toBe(2)
    expect(queue.enqueue(item(4))).toBeUndefined() // room again
    const three = queue.takeAll()[1] as ReturnType<typeof item>
    expect(three.n).toBe(3)
    for (const n of [5, 6, 7]) queue.enqueue(item(n))
    queue.shift()
    expect(queue.remove(item(5))).toBe(false) // taken already (and another object)
    expect(queue.takeAll().map((i) => i.n)).toEqual([6, 7])
    expect(queue.size).toBe(0)
  })

  it('a long queue taken one by one keeps its order and byte count', () => {
    const queue = new OfflineQueue<ReturnType<typeof item>>({ maxMessages: 10_000, maxBytes: 10_000, qos0: 'queue' })
    for (let n = 0; n < 5_000; n++) queue.enqueue(item(n))
    const taken: number[] = []
    for (let n = 0; n < 3_000; n++) taken.push((queue.shift() as ReturnType<typeof item>).n)
    expect(taken.every((n, i) => n === i)).toBe(true)
    for (let n = 5_000; n < 8_000; n++) expect(queue.enqueue(item(n))).toBeUndefined()
    expect(queue.size).toBe(5_000)
    expect(queue.enqueue(item(-1, 1, 5_001))).toBeInstanceOf(QueueFullError) // 5,000 bytes held + 5,001 > 10,000
    const rest = queue.takeAll().map((i) => i.n)
    expect(rest).toEqual(Array.from({ length: 5_000 }, (_, i) => i + 3_000))
  })

  it("offline, qos0 'reject' refuses QoS 0; waiting for a connected socket it does not, and the error says which queue is full", () => {
    const queue = new OfflineQueue<ReturnType<typeof item>>({ maxMessages: 1, maxBytes: 100, qos0: 'reject' })
    expect(queue.enqueue(item(1, 0))).toBeInstanceOf(PublishError)
    expect(queue.enqueue(item(1, 0), false)).toBeUndefined()
    expect(queue.enqueue(item(2, 1), false)?.message).toMatch(/waiting for the connection/)
    expect(queue.enqueue(item(2, 1))?.message).toMatch(/offline queue is full/)
  })

  it('prepend puts restored entries before what waits, counted against the limits; entries() lists without taking', () => {
    const queue = new OfflineQueue<ReturnType<typeof item>>({ maxMessages: 3, maxBytes: 100, qos0: 'queue' })
    for (const n of [1, 2]) queue.enqueue(item(n))
    queue.shift()
    queue.prepend([item(8), item(9)])
    expect(queue.entries().map((i) => i.n)).toEqual([8, 9, 2])
    expect(queue.size).toBe(3)
    expect(queue.enqueue(item(3))).toBeInstanceOf(QueueFullError) // the restored ones count
    expect(queue.takeAll().map((i) => i.n)).toEqual([8, 9, 2])
  })
})
