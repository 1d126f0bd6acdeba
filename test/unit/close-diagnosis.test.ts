// The verdict table of diagnoseClose: every row a close the engine can meet, and what it must do about it.
import { describe, expect, it } from 'vitest'
import { type CloseContext, type CloseFacts, diagnoseClose, STABLE_CONNECTION_MS, TAKEOVER_THRESHOLD } from '../../lib/connection/close-diagnosis.js'
import { ClientIdConflictError, ConnectionLostError, ConnectionRefusedError, NotAuthorizedError } from '../../lib/errors.js'
import type { LinkFailure } from '../../lib/link/link.js'
import type { ProtocolVersion } from '../../lib/status.js'

const facts = (more: Partial<CloseFacts> = {}): CloseFacts => ({
  failures: [],
  accepted: false,
  protocol: 5,
  lasted: undefined,
  clientId: 'dev-1',
  subscribesInFlight: [],
  blamedPublish: false,
  ...more,
})
const context = (more: Partial<CloseContext> = {}): CloseContext => ({
  autoProtocol: true,
  spoke5: false,
  silentCloses: 0,
  shortConnections: 0,
  credentialsMayChange: false,
  ...more,
})
const refused = (code: number): LinkFailure => ({ type: 'refused', code, message: `refused ${code}` })
/** A connection that was accepted and lasted `lasted` ms. */
const accepted = (lasted: number, more: Partial<CloseFacts> = {}): CloseFacts => facts({ accepted: true, lasted, ...more })

type ErrorClass = new (...args: never[]) => Error

describe('diagnoseClose: CONNACK refusals', () => {
  it.each<[ProtocolVersion, number, boolean, 'retry' | 'fatal']>([
    [4, 4, false, 'fatal'],
    [4, 5, false, 'fatal'],
    [4, 4, true, 'retry'],
    [4, 5, true, 'retry'],
    [5, 134, false, 'fatal'],
    [5, 135, false, 'fatal'],
    [5, 134, true, 'retry'],
    [5, 135, true, 'retry'],
  ])('MQTT %i code %i, credentials may change: %s → %s with NotAuthorizedError', (protocol, code, mayChange, action) => {
    const d = diagnoseClose(facts({ protocol, failures: [refused(code)] }), context({ credentialsMayChange: mayChange }))
    expect(d.action).toBe(action)
    expect(d.error).toBeInstanceOf(NotAuthorizedError)
    expect(d.error.reasonCode).toBe(code)
    if (d.action === 'retry') expect(d.delay).toBe('backoff')
  })

  it.each<[ProtocolVersion, number]>([
    [4, 3],
    [5, 136],
    [5, 137],
    [5, 159],
  ])('MQTT %i code %i is transient: retry with backoff', (protocol, code) => {
    const d = diagnoseClose(facts({ protocol, failures: [refused(code)] }), context())
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff', silent: false })
    expect(d.error).toBeInstanceOf(ConnectionRefusedError)
    expect(d.error).not.toBeInstanceOf(NotAuthorizedError)
    expect(d.error.reasonCode).toBe(code)
  })

  it.each<[number, boolean, 'fall-back' | 'fatal']>([
    [1, true, 'fall-back'],
    [132, true, 'fall-back'],
    [1, false, 'fatal'],
    [132, false, 'fatal'],
  ])('MQTT 5 code %i (unsupported protocol), auto: %s → %s', (code, auto, action) => {
    const d = diagnoseClose(facts({ failures: [refused(code)] }), context({ autoProtocol: auto }))
    expect(d.action).toBe(action)
    expect(d.error).toBeInstanceOf(ConnectionRefusedError)
    expect(d.error.reasonCode).toBe(code)
  })

  it.each<[ProtocolVersion, number]>([
    [4, 1],
    [4, 2],
    [5, 133],
    [5, 138],
    [5, 3],
  ])('MQTT %i code %i is final', (protocol, code) => {
    const d = diagnoseClose(facts({ protocol, failures: [refused(code)] }), context({ credentialsMayChange: true }))
    expect(d.action).toBe('fatal')
    expect(d.error).toBeInstanceOf(ConnectionRefusedError)
    expect(d.error).not.toBeInstanceOf(NotAuthorizedError)
    expect(d.error.message).toContain(`(code ${code})`)
  })

  it('a refusal outranks the socket error that follows it', () => {
    const d = diagnoseClose(facts({ failures: [{ type: 'socket', code: 'ECONNRESET', message: 'reset' }, refused(135)] }), context())
    expect(d.action).toBe('fatal')
    expect(d.error).toBeInstanceOf(NotAuthorizedError)
  })
})

describe('diagnoseClose: failures the link reported', () => {
  it.each(['ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'SELF_SIGNED_CERT_IN_CHAIN'])(
    'TLS certificate failure %s is fatal',
    (code) => {
      const d = diagnoseClose(facts({ failures: [{ type: 'socket', code, message: 'bad cert' }] }), context())
      expect(d.action).toBe('fatal')
      expect(d.error).toBeInstanceOf(ConnectionRefusedError)
      expect(d.error.message).toContain(code)
    },
  )

  it('a socket error that is no certificate failure is retried with backoff', () => {
    const d = diagnoseClose(facts({ failures: [{ type: 'socket', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }] }), context())
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff', silent: false })
    expect(d.error).toBeInstanceOf(ConnectionLostError)
    expect(d.error.message).toBe('connect ECONNREFUSED')
  })

  it.each<[string, LinkFailure, ErrorClass, string]>([
    ['DISCONNECT 142', { type: 'disconnect', code: 142, reason: undefined }, ClientIdConflictError, 'took over the session'],
    ['keepalive', { type: 'keepalive' }, ConnectionLostError, 'keepalive'],
    ['malformed packet', { type: 'malformed', message: 'Invalid header flag bits', ack: undefined }, ConnectionLostError, 'could not be parsed: Invalid header flag bits'],
    ['connect timeout', { type: 'connect-timeout' }, ConnectionLostError, 'connectTimeout'],
    ['other DISCONNECT', { type: 'disconnect', code: 139, reason: 'shutting down' }, ConnectionLostError, 'reason code 139: shutting down'],
  ])('%s → retry with backoff', (_, failure, type, text) => {
    const d = diagnoseClose(accepted(100, { failures: [failure] }), context())
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff', short: false })
    expect(d.error).toBeInstanceOf(type)
    expect(d.error.message).toContain(text)
  })

  it('DISCONNECT 142 names the client id and carries the reason code', () => {
    const d = diagnoseClose(accepted(100, { failures: [{ type: 'disconnect', code: 142, reason: undefined }] }), context())
    expect(d.error.message).toContain('"dev-1"')
    expect(d.error.reasonCode).toBe(142)
  })

  it('a failure after a stable connection says stable (the backoff resets)', () => {
    const d = diagnoseClose(accepted(STABLE_CONNECTION_MS, { failures: [{ type: 'keepalive' }] }), context())
    expect(d).toMatchObject({ action: 'retry', stable: true })
  })
})

describe('diagnoseClose: silent closes', () => {
  it('under auto 5, the first close before CONNACK retries at once, silently', () => {
    const d = diagnoseClose(facts(), context())
    expect(d).toMatchObject({ action: 'retry', delay: 'none', silent: true })
    expect(d.error).toBeInstanceOf(ConnectionLostError)
  })

  it('under auto 5, the second one in a row falls back to 3.1.1', () => {
    const d = diagnoseClose(facts(), context({ silentCloses: 1 }))
    expect(d.action).toBe('fall-back')
    expect(d.error.message).toContain('trying MQTT 3.1.1')
  })

  it('once a broker accepted MQTT 5, a close before CONNACK is a plain retry, never a fall-back', () => {
    const d = diagnoseClose(facts(), context({ spoke5: true, silentCloses: 5 }))
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff', silent: false })
  })

  it('under a fixed protocol 5, the error suggests "auto" or 4', () => {
    const d = diagnoseClose(facts(), context({ autoProtocol: false, silentCloses: 3 }))
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff', silent: false })
    expect(d.error.message).toContain('protocolVersion "auto" or 4')
  })

  it('under 3.1.1, a close before CONNACK is a plain retry', () => {
    const d = diagnoseClose(facts({ protocol: 4 }), context({ silentCloses: 3 }))
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff', silent: false })
    expect(d.error.message).toBe('the broker closed the connection before answering the CONNECT')
  })
})

describe('diagnoseClose: accepted connections closed without a reason', () => {
  it('with SUBSCRIBEs in flight: the broker may refuse them, no takeover counted', () => {
    const d = diagnoseClose(accepted(50, { subscribesInFlight: ['a/#', 'b'] }), context({ shortConnections: TAKEOVER_THRESHOLD }))
    expect(d).toMatchObject({ action: 'retry', short: false })
    expect(d.error).not.toBeInstanceOf(ClientIdConflictError)
    expect(d.error.message).toContain('"a/#", "b" awaited its SUBACK')
  })

  it.each<[number, boolean, boolean]>([
    [STABLE_CONNECTION_MS, true, false],
    [STABLE_CONNECTION_MS - 1, false, true],
  ])('lasting %i ms: stable %s, short %s', (lasted, stable, short) => {
    const d = diagnoseClose(accepted(lasted), context({ shortConnections: 0 }))
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff', stable, short })
    expect(d.error).toBeInstanceOf(ConnectionLostError)
  })

  it.each<[number, ErrorClass | undefined]>([
    [TAKEOVER_THRESHOLD - 2, undefined],
    [TAKEOVER_THRESHOLD - 1, ClientIdConflictError],
    [TAKEOVER_THRESHOLD + 3, ClientIdConflictError],
  ])('after %i short connections: takeover %s', (shortConnections, type) => {
    const d = diagnoseClose(accepted(100), context({ shortConnections }))
    expect(d).toMatchObject({ action: 'retry', short: true })
    if (type) expect(d.error).toBeInstanceOf(type)
    else expect(d.error).not.toBeInstanceOf(ClientIdConflictError)
    if (type) expect(d.error.message).toContain(`closed ${shortConnections + 1} connections in a row`)
  })

  it('a stable connection is never a takeover', () => {
    const d = diagnoseClose(accepted(STABLE_CONNECTION_MS), context({ shortConnections: TAKEOVER_THRESHOLD }))
    expect(d.error).not.toBeInstanceOf(ClientIdConflictError)
  })
})

describe('diagnoseClose: a blamed publish', () => {
  it('silent close: retry at once, neither short nor silent', () => {
    const d = diagnoseClose(accepted(100, { blamedPublish: true }), context({ shortConnections: TAKEOVER_THRESHOLD }))
    expect(d).toMatchObject({ action: 'retry', delay: 'none', short: false, silent: false })
    expect(d.error.message).toContain('after a publish it would not take')
  })

  it('with a refusing DISCONNECT: retry at once, the error carries its reason code', () => {
    const d = diagnoseClose(accepted(100, { blamedPublish: true, failures: [{ type: 'disconnect', code: 149, reason: undefined }] }), context())
    expect(d).toMatchObject({ action: 'retry', delay: 'none' })
    expect(d.error.reasonCode).toBe(149)
  })

  it('does not hide a takeover (DISCONNECT 142)', () => {
    const d = diagnoseClose(accepted(100, { blamedPublish: true, failures: [{ type: 'disconnect', code: 142, reason: undefined }] }), context())
    expect(d.error).toBeInstanceOf(ClientIdConflictError)
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff' })
  })
})

describe('diagnoseClose: transport mistakes', () => {
  const wrong = (heard: 'http' | 'not-http' | 'reset', url: string, suggested: string, detail: string): LinkFailure => ({ type: 'wrong-transport', url, heard, detail, suggested })
  const handshake = (more: Partial<Extract<LinkFailure, { type: 'websocket-handshake' }>>): LinkFailure =>
    ({ type: 'websocket-handshake', url: 'ws://h:9001/ws', status: undefined, closeCode: undefined, detail: '', ...more })
  const paths = '/mqtt for NATS, EMQX and HiveMQ, /ws for RabbitMQ; Mosquitto takes any'
  const check = "is the broker's websockets listener at that address and path?"
  const browser = 'The browser tells the page no more; its console shows the reason.'

  it.each<[string, LinkFailure, string]>([
    ['HTTP on mqtt://', wrong('http', 'mqtt://h:9001', 'ws://h:9001/', 'HTTP/1.1 400 Bad Request'),
      `mqtt://h:9001 answered in HTTP ("HTTP/1.1 400 Bad Request"), not MQTT: that port is probably a WebSocket listener. Use ws://h:9001/ (plus the listener's path if it needs one: ${paths})`],
    ['HTTP on mqtts://', wrong('http', 'mqtts://h', 'wss://h:8883/', 'HTTP/1.1 400 Bad Request'),
      `mqtts://h answered in HTTP ("HTTP/1.1 400 Bad Request"), not MQTT: that port is probably a WebSocket listener. Use wss://h:8883/ (plus the listener's path if it needs one: ${paths})`],
    ['not HTTP on ws://', wrong('not-http', 'ws://h:1883', 'mqtt://h:1883', 'Parse Error: Expected HTTP/'),
      'ws://h:1883 answered the WebSocket handshake with bytes that are not HTTP (Parse Error: Expected HTTP/): that port is not a websockets listener. If it is an MQTT (TCP) listener, use mqtt://h:1883'],
    ['not HTTP on wss://', wrong('not-http', 'wss://h:8883', 'mqtts://h:8883', 'Parse Error'),
      'wss://h:8883 answered the WebSocket handshake with bytes that are not HTTP (Parse Error): that port is not a websockets listener. If it is an MQTT over TLS listener, use mqtts://h:8883'],
  ])('%s is final: the port will answer every retry the same way', (_, failure, message) => {
    // With the parse error MQTT.js reports for the same bytes, which must not win.
    const d = diagnoseClose(facts({ failures: [{ type: 'protocol', message: 'Invalid header flag bits' }, failure] }), context())
    expect(d.action).toBe('fatal')
    expect(d.error).toBeInstanceOf(ConnectionRefusedError)
    expect(d.error.message).toBe(message)
  })

  it.each<[string, LinkFailure, ErrorClass, string]>([
    ['a reset handshake', wrong('reset', 'ws://h:1883', 'mqtt://h:1883', 'read ECONNRESET'), ConnectionLostError,
      'ws://h:1883 reset the connection during the WebSocket handshake (read ECONNRESET): that port probably does not speak HTTP. If it is an MQTT (TCP) listener, use mqtt://h:1883'],
    ['HTTP 404', handshake({ status: 404 }), ConnectionRefusedError,
      `the WebSocket handshake with ws://h:9001/ws was refused with HTTP 404: nothing serves that path. Use the path of the broker's websockets listener (${paths})`],
    ['HTTP 502 (a proxy whose broker is down)', handshake({ status: 502 }), ConnectionRefusedError, `the WebSocket handshake with ws://h:9001/ws was refused with HTTP 502: ${check}`],
    ['another handshake error (Node)', handshake({ detail: 'Server sent no subprotocol' }), ConnectionLostError,
      `the WebSocket handshake with ws://h:9001/ws failed (Server sent no subprotocol): ${check}`],
    ['a browser WebSocket closed before it opened', handshake({ closeCode: 1006 }), ConnectionLostError,
      `the WebSocket to ws://h:9001/ws closed before the MQTT handshake (close code 1006): ${check} ${browser}`],
    ['with a close reason', handshake({ closeCode: 1002, detail: 'bad' }), ConnectionLostError,
      `the WebSocket to ws://h:9001/ws closed before the MQTT handshake (close code 1002: bad): ${check} ${browser}`],
    ['with no close event seen', handshake({}), ConnectionLostError, `the WebSocket to ws://h:9001/ws closed before it opened: ${check} ${browser}`],
    ['wss:// in a browser', handshake({ url: 'wss://h/mqtt', closeCode: 1006 }), ConnectionLostError,
      `the WebSocket to wss://h/mqtt closed before the MQTT handshake (close code 1006): ${check} ${browser} Does the browser trust its certificate?`],
  ])('%s is retried with backoff, and is no sign against MQTT 5', (_, failure, type, message) => {
    // Before, a failed browser handshake counted as a broker closing the MQTT 5 CONNECT: a fall-back.
    const d = diagnoseClose(facts({ protocol: 5, failures: [{ type: 'socket', code: 'ECONNRESET', message: 'read ECONNRESET' }, failure] }), context({ silentCloses: 1 }))
    expect(d).toMatchObject({ action: 'retry', delay: 'backoff', silent: false })
    expect(d.error).toBeInstanceOf(type)
    expect(d.error.message).toBe(message)
  })

  it('a connect timeout outranks the handshake failure of the WebSocket it closed', () => {
    const d = diagnoseClose(facts({ failures: [handshake({ closeCode: 1006 }), { type: 'connect-timeout' }] }), context())
    expect(d.error.message).toContain('connectTimeout')
  })
})
