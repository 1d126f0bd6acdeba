// The link's transport watch, with fake streams: what it reads from the bytes, the `ws` errors and a browser
// WebSocket's events, and what it leaves to the link's general handling.
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { LinkFailure } from '../../lib/link/link.js'
import { handshakeFailure, otherTransport, TransportWatch, type WatchedStream } from '../../lib/link/transport-mistakes.js'
import { endpoints, nodePlatform } from '../../lib/options/endpoints.js'
import type { Endpoint } from '../../lib/options/resolved-options.js'

const endpoint = (url: string): Endpoint => endpoints({ url }, nodePlatform)[0] as Endpoint

/** A Node-like stream: data and error events, and whether it was destroyed. */
class FakeStream extends EventEmitter implements WatchedStream {
  destroyed = false
  destroy(): void {
    this.destroyed = true
  }
}

/** MQTT.js's browser stream, with its WebSocket as an EventTarget. */
class FakeBrowserStream extends FakeStream {
  readonly socket = new EventTarget()
  open(): void {
    this.socket.dispatchEvent(new Event('open'))
  }
  closed(code: number, reason = ''): void {
    this.socket.dispatchEvent(Object.assign(new Event('close'), { code, reason }))
  }
}

const watching = (url: string) => {
  const reported: LinkFailure[] = []
  const watch = new TransportWatch((failure) => reported.push(failure))
  watch.begin(endpoint(url), 1)
  return { watch, reported }
}
const bytes = (text: string) => new TextEncoder().encode(text)
const error = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code })

describe('transport watch: mqtt:// and mqtts://', () => {
  it('an HTTP answer is a wrong transport, quoted by its status line, and the stream is destroyed', () => {
    const { watch, reported } = watching('mqtt://h:9001')
    const stream = new FakeStream()
    watch.watch(stream)
    stream.emit('data', bytes('HTT'))
    expect(reported).toEqual([]) // the answer may come in more than one chunk
    stream.emit('data', bytes('P/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'))
    expect(reported).toEqual([{ type: 'wrong-transport', url: 'mqtt://h:9001', heard: 'http', detail: 'HTTP/1.1 400 Bad Request', suggested: 'ws://h:9001/' }])
    expect(stream.destroyed).toBe(true)
    expect(stream.listenerCount('data')).toBe(0)
  })

  it('an MQTT answer: nothing reported, and the watch stops reading', () => {
    const { watch, reported } = watching('mqtts://h')
    const stream = new FakeStream()
    watch.watch(stream)
    stream.emit('data', Uint8Array.of(0x20, 0x02, 0x00, 0x00))
    expect(stream.listenerCount('data')).toBe(0)
    expect(reported).toEqual([])
    expect(stream.destroyed).toBe(false)
  })

  it('reads no errors: those of TCP and TLS are the link\'s', () => {
    const stream = new FakeStream()
    watching('mqtt://h').watch.watch(stream)
    expect(stream.listenerCount('error')).toBe(0)
  })

  it('a late chunk of an earlier attempt is not reported as the current one\'s', () => {
    const { watch, reported } = watching('mqtt://h:9001')
    const stream = new FakeStream()
    watch.watch(stream)
    watch.begin(endpoint('mqtt://h:1883'), 2)
    stream.emit('data', bytes('HTTP/1.1 400 Bad Request\r\n'))
    expect(reported).toEqual([])
  })
})

describe('transport watch: ws:// and wss:// in Node (the ws package)', () => {
  it.each<[string, Error, Partial<LinkFailure> | undefined]>([
    ['a status', error('Unexpected server response: 404'), { type: 'websocket-handshake', status: 404 }],
    ['a reset', error('socket hang up', 'ECONNRESET'), { type: 'wrong-transport', heard: 'reset', suggested: 'mqtt://h:1883' }],
    ['not HTTP', error('Parse Error: Expected HTTP/', 'HPE_INVALID_CONSTANT'), { type: 'wrong-transport', heard: 'not-http', suggested: 'mqtt://h:1883' }],
    ['a handshake check of ws', error('Server sent no subprotocol'), { type: 'websocket-handshake', status: undefined, detail: 'Server sent no subprotocol' }],
    ['a refused connection', error('connect ECONNREFUSED 127.0.0.1:1883', 'ECONNREFUSED'), undefined],
    ['a frame error after the handshake', error('Invalid WebSocket frame: invalid opcode 5', 'WS_ERR_INVALID_OPCODE'), undefined],
  ])('%s', (_, failure, expected) => {
    const found = handshakeFailure(failure, endpoint('ws://h:1883'))
    if (expected === undefined) expect(found).toBeUndefined()
    else expect(found).toMatchObject({ url: 'ws://h:1883', ...expected })
  })

  it('reports what the stream emits', () => {
    const { watch, reported } = watching('wss://h:8883/mqtt')
    const stream = new FakeStream()
    watch.watch(stream)
    stream.emit('error', error('socket hang up', 'ECONNRESET'))
    expect(reported).toMatchObject([{ type: 'wrong-transport', heard: 'reset', suggested: 'mqtts://h:8883' }])
  })
})

describe('transport watch: a browser WebSocket', () => {
  it('closed before it opened: a handshake failure with the close code, reported when MQTT.js closes', () => {
    const { watch, reported } = watching('ws://h:9001/mqtt')
    const stream = new FakeBrowserStream()
    watch.watch(stream)
    expect(stream.listenerCount('error')).toBe(0) // MQTT.js's "WebSocket error" has no detail: not read
    stream.closed(1006)
    expect(reported).toEqual([])
    watch.end()
    expect(reported).toEqual([{ type: 'websocket-handshake', url: 'ws://h:9001/mqtt', status: undefined, closeCode: 1006, detail: '' }])
    watch.end()
    expect(reported).toHaveLength(1)
  })

  it('MQTT.js closing first: still a handshake failure, without a code', () => {
    const { watch, reported } = watching('ws://h:9001/mqtt')
    watch.watch(new FakeBrowserStream())
    watch.end()
    expect(reported).toMatchObject([{ type: 'websocket-handshake', closeCode: undefined }])
  })

  it('opened, then closed before CONNACK: nothing (a broker refusing MQTT 5 does that; the engine decides)', () => {
    const { watch, reported } = watching('ws://h:9001/mqtt')
    const stream = new FakeBrowserStream()
    watch.watch(stream)
    stream.open()
    stream.closed(1000)
    watch.end()
    expect(reported).toEqual([])
  })
})

describe('otherTransport', () => {
  it.each([
    ['mqtt://h:9001', 'ws://h:9001/'],
    ['mqtts://h', 'wss://h:8883/'],
    ['ws://h:1883/mqtt', 'mqtt://h:1883'],
    ['wss://h', 'mqtts://h:443'],
    ['mqtt://[::1]:9001', 'ws://[::1]:9001/'],
  ])('%s → %s', (url, other) => expect(otherTransport(endpoint(url))).toBe(other))
})
