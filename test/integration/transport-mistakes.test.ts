// Issue 12: a URL with the wrong transport for its port gets an error that names the mistake, against a
// real Mosquitto (its TCP listener and its websockets listener), an HTTP server with one WebSocket path,
// and a TCP server that answers with bytes that are not HTTP. Each suggested URL is then tried: it works.
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionLostError, ConnectionRefusedError, type MQTTClient, type Status } from '../../lib/node.js'
import { sharedBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { pathProxy, rawAnswer, type TestServer } from '../support/transport-servers.js'
import { next } from '../support/wait.js'

/** The first status after `connecting`: how the first attempt ended. */
const firstVerdict = (client: MQTTClient): Promise<Exclude<Status, { type: 'connecting' }>> =>
  next(client.status$, 'the first attempt to end', (s) => s.type !== 'connecting') as Promise<Exclude<Status, { type: 'connecting' }>>

describe.skipIf(noMosquitto())('transport mistakes name themselves', () => {
  const bed = sharedBed('transport-mistakes')
  const { pool } = bed
  const servers: TestServer[] = []
  afterEach(async () => {
    await pool.endAll()
    await Promise.all(servers.splice(0).map((s) => s.close()))
  })
  const tcpPort = () => bed.broker.ports[1883] as number
  const wsPort = () => bed.broker.ports[9001] as number

  it('mqtt:// at a websockets listener: a final ConnectionRefusedError that suggests ws://', async () => {
    const client = pool.connect(`mqtt://127.0.0.1:${wsPort()}`)
    const verdict = await firstVerdict(client)
    // Final: the port will not change its protocol, and a retry loop would hide the mistake.
    expect(verdict.type).toBe('closed')
    const error = verdict.type === 'closed' ? verdict.error : undefined
    expect(error).toBeInstanceOf(ConnectionRefusedError)
    // Mosquitto 2.0.11 (libwebsockets) answers "HTTP/1.0 403 Forbidden"; other versions may say otherwise.
    const quoted = /\("(HTTP\/1\.[01] \d{3}[^"]*)"\)/.exec(error?.message ?? '')?.[1]
    expect(quoted).toBeDefined()
    expect(error?.message).toBe(
      `mqtt://127.0.0.1:${wsPort()} answered in HTTP ("${quoted}"), not MQTT: that port is probably a WebSocket listener. ` +
        `Use ws://127.0.0.1:${wsPort()}/ (plus the listener's path if it needs one: /mqtt for NATS, EMQX and HiveMQ, /ws for RabbitMQ; Mosquitto takes any)`,
    )
    await pool.connected(`ws://127.0.0.1:${wsPort()}/`)
  })

  it('ws:// at the TCP listener: the reset handshake suggests mqtt://, retried with backoff', async () => {
    const client = pool.connect(`ws://127.0.0.1:${tcpPort()}`)
    const verdict = await firstVerdict(client)
    // A reset is weaker evidence than an answer (a broker restarting resets too): retried with backoff.
    expect(verdict.type).toBe('reconnecting')
    const error = verdict.type === 'reconnecting' ? verdict.error : undefined
    expect(error).toBeInstanceOf(ConnectionLostError)
    expect(error?.message).toMatch(
      new RegExp(`^ws://127\\.0\\.0\\.1:${tcpPort()} reset the connection during the WebSocket handshake \\((read ECONNRESET|socket hang up)\\): `),
    )
    expect(error?.message).toContain(`If it is an MQTT (TCP) listener, use mqtt://127.0.0.1:${tcpPort()}`)
    await pool.connected(`mqtt://127.0.0.1:${tcpPort()}`)
  })

  it('ws:// with a path the server does not serve: HTTP 404 named, with the path hint; the right path works', async () => {
    const proxy = await pathProxy('/mqtt', wsPort())
    servers.push(proxy)
    const client = pool.connect(`ws://127.0.0.1:${proxy.port}/ws`)
    const verdict = await firstVerdict(client)
    expect(verdict.type).toBe('reconnecting')
    const error = verdict.type === 'reconnecting' ? verdict.error : undefined
    expect(error).toBeInstanceOf(ConnectionRefusedError)
    expect(error?.message).toBe(
      `the WebSocket handshake with ws://127.0.0.1:${proxy.port}/ws was refused with HTTP 404: nothing serves that path. ` +
        `Use the path of the broker's websockets listener (/mqtt for NATS, EMQX and HiveMQ, /ws for RabbitMQ; Mosquitto takes any)`,
    )
    const right = await pool.connected(`ws://127.0.0.1:${proxy.port}/mqtt`)
    await right.publish(`transport-mistakes/${process.pid}/through-proxy`, 'ok', { qos: 1 })
  })

  it('ws:// at a port that answers in bytes that are not HTTP: a final error', async () => {
    // What a raw MQTT speaker sends (a CONNACK) where the handshake expects an HTTP response.
    const server = await rawAnswer(Uint8Array.of(0x20, 0x02, 0x00, 0x00))
    servers.push(server)
    const client = pool.connect(`ws://127.0.0.1:${server.port}/`)
    const verdict = await firstVerdict(client)
    expect(verdict.type).toBe('closed')
    const error = verdict.type === 'closed' ? verdict.error : undefined
    expect(error).toBeInstanceOf(ConnectionRefusedError)
    expect(error?.message).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${server.port}/ answered the WebSocket handshake with bytes that are not HTTP \\(.+\\): `))
    expect(error?.message).toContain(`If it is an MQTT (TCP) listener, use mqtt://127.0.0.1:${server.port}`)
  })

  it('tcp:// is mqtt://, and the status keeps the URL as given', async () => {
    const url = `tcp://127.0.0.1:${tcpPort()}`
    const client = pool.connect(url)
    const connected = await waitForStatus(client, 'connected')
    expect(connected.url).toBe(url)
    expect(client.urls).toEqual([url])
  })
})
