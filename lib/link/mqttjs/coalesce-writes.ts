import type { concatBytes } from '../../transport/concat-bytes.js'

/** The part of a Node-style Writable that write coalescing touches. */
interface WritableLike {
  _write?(chunk: unknown, encoding: string, callback: (error?: Error | null) => void): void
  _writev?: ((chunks: Array<{ chunk: unknown }>, callback: (error?: Error | null) => void) => void) | null
}

const encoder = new TextEncoder()

/**
 * Gives a stream without `_writev` one that joins the chunks written in one go into a single write.
 * mqtt-packet corks the stream and writes a PUBLISH in about five pieces; a TCP socket sends them as one
 * segment, but the WebSocket stream MQTT.js uses in Node has no `_writev` and sends each piece as its own
 * frame (browsers' streams already join them). `concat` joins them (`concatBytes`, handed over: see LinkKit).
 */
export function coalesceWrites<S>(stream: S, concat: typeof concatBytes): S {
  const writable = stream as S & WritableLike
  if (typeof writable._write !== 'function' || typeof writable._writev === 'function') return stream
  writable._writev = function (this: WritableLike, chunks, callback) {
    const parts = chunks.map(({ chunk }) => (typeof chunk === 'string' ? encoder.encode(chunk) : (chunk as Uint8Array)))
    this._write?.(concat(parts), 'binary', callback)
  }
  return stream
}
