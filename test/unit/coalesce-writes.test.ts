import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { concatBytes } from '../../lib/transport/concat-bytes.js'
import { coalesceWrites } from '../../lib/link/mqttjs/coalesce-writes.js'

describe('coalesceWrites', () => {
  it('joins corked writes into one write, as one WebSocket frame per PUBLISH needs', async () => {
    const writes: Uint8Array[] = []
    const stream = new Writable({
      write(chunk: Uint8Array, _encoding, callback) {
        writes.push(chunk)
        callback()
      },
    })
    coalesceWrites(stream, concatBytes)
    stream.cork()
    stream.write(new Uint8Array([0x30, 9]))
    stream.write('topic')
    stream.write(new Uint8Array([1, 2]))
    process.nextTick(() => stream.uncork())
    await new Promise<void>((resolve) => stream.end(resolve))
    expect(writes.map((w) => Array.from(w))).toEqual([[0x30, 9, 116, 111, 112, 105, 99, 1, 2]])
  })

  it('leaves a stream that has its own _writev alone (a TCP socket)', () => {
    const own = (): void => undefined
    const stream = new Writable({ write: (_c, _e, cb) => cb(), writev: own })
    coalesceWrites(stream, concatBytes)
    expect((stream as unknown as { _writev: unknown })._writev).toBe(own)
  })
})
