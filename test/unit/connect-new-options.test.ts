// The options added since the first release (store, proxy, webSocket, auth, credentials, and their kin), each
// refused where the user hands it over: connect() of the Node entry and of the browser entry throws
// UnsupportedOptionError naming the option, before any connection is attempted.
import { describe, expect, it } from 'vitest'
import { connect as connectInBrowser } from '../../lib/browser.js'
import { UnsupportedOptionError } from '../../lib/errors.js'
import { connect as connectInNode, type ClientOptions, type MQTTClient } from '../../lib/node.js'

/** Nothing listens there: a client that connect() failed to refuse fails its attempts, and is ended. A browser takes ws:// only. */
const TCP = 'mqtt://127.0.0.1:9'
const WS = 'ws://127.0.0.1:9/'

const method = { method: 'token', start: () => ({}) }
const store = { open: async () => ({ messages: [], incoming: [], problems: [] }), write: async () => undefined, close: async () => undefined }

/** Invalid on both platforms: [the option as the message names it, the options]. */
const EVERYWHERE: readonly (readonly [string, Record<string, unknown>])[] = [
  ['store', { store: {} }],
  ['store', { store: 'outbox' }],
  ['store', { store: { ...store, write: undefined } }],
  ['proxy', { proxy: 5 }],
  ['proxy', { proxy: true }],
  ['webSocket', { webSocket: null }],
  ['webSocket', { webSocket: ['mqtt'] }],
  ['webSocket.protocols', { webSocket: { protocols: ['mqtt'] } }],
  ['webSocket.subprotocols', { webSocket: { subprotocols: 'mqtt' } }],
  ['webSocket.subprotocols', { webSocket: { subprotocols: ['a b'] } }],
  ['webSocket.subprotocols', { webSocket: { subprotocols: [5] } }],
  ['auth', { auth: {} }],
  ['auth', { auth: 'SCRAM-SHA-256' }],
  ['auth', { auth: { method: '', start: () => ({}) } }],
  ['auth', { auth: { method: 'token', start: 'go' } }],
  ['auth.method', { auth: { method: 'a\u0000b', start: () => ({}) } }],
  ['auth', { auth: method, protocolVersion: 4 }],
  ['auth', { auth: method, link: 'mqttjs' }],
  ['credentials', { credentials: 'token' }],
  ['credentials', { credentials: { username: 'u' } }],
  ['pageLifecycle', { pageLifecycle: 'yes' }],
  ['maxIncomingPacketSize', { maxIncomingPacketSize: -1 }],
  ['link', { link: 'fast' }],
]

/** Invalid in Node only: what a browser refuses anyway, and what Node checks further. */
const NODE: readonly (readonly [string, Record<string, unknown>])[] = [
  ['proxy', { proxy: 'ftp://proxy.example.com' }],
  ['proxy', { proxy: 'http://' }],
  ['webSocket.headers', { webSocket: { headers: 'x-api-key: k' } }],
  ['webSocket.headers', { webSocket: { headers: { Host: 'example.com' } } }],
  ['webSocket.headers', { webSocket: { headers: { 'Sec-WebSocket-Protocol': 'mqtt' } } }],
  ['webSocket.headers', { webSocket: { headers: { 'x a': 'v' } } }],
  ['webSocket.headers.x', { webSocket: { headers: { x: 5 } } }],
  ['webSocket.headers.x', { webSocket: { headers: { x: 'a\r\nb' } } }],
]

/** Valid in Node, refused in a browser, which cannot do them. */
const BROWSER: readonly (readonly [string, Record<string, unknown>])[] = [
  ['proxy', { proxy: 'http://proxy.example.com:3128' }],
  ['webSocket.headers', { webSocket: { headers: { 'x-api-key': 'k' } } }],
]

/** What `make` threw for `options`, or undefined (the client it made is ended). */
function thrownBy(make: (url: string, options: ClientOptions) => MQTTClient, url: string, options: Record<string, unknown>): unknown {
  try {
    void make(url, options as ClientOptions).end({ force: true })
  } catch (error) {
    return error
  }
  return undefined
}

describe.each([
  ['the Node entry', connectInNode, [...EVERYWHERE, ...NODE]],
  ['the browser entry', connectInBrowser, [...EVERYWHERE, ...BROWSER]],
] as const)("%s's connect()", (_, make, cases) => {
  it.each(cases.map(([option, options]) => [option, JSON.stringify(options, (_, v: unknown) => (typeof v === 'function' ? 'fn' : v)), options] as const))(
    'refuses `%s` in %s with UnsupportedOptionError naming it',
    (option, _, options) => {
      const error = thrownBy(make, make === connectInNode ? TCP : WS, options)
      expect(error).toBeInstanceOf(UnsupportedOptionError)
      expect((error as Error).message).toContain(`\`${option}`)
    },
  )

  it('takes the valid forms of the same options', () => {
    const valid: Record<string, unknown>[] = [
      { store },
      { proxy: false },
      { webSocket: { subprotocols: ['mqttv3.1'] } },
      // The lean link's: this project's default link is MQTT.js, which refuses `auth` (tested above).
      { auth: method, link: 'lean' },
      { credentials: () => ({ username: 'u', password: 'p' }) },
      { pageLifecycle: false },
    ]
    for (const options of valid) expect(thrownBy(make, WS, options)).toBeUndefined()
  })
})
